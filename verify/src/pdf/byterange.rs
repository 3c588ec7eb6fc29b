//! The /ByteRange of a signature (ISO 32000-1 §12.8.1, ETSI EN 319 142-1 §5.4): what it must
//! be so that universal-signature-forgery and signature-wrapping attacks fail — four numbers,
//! from the first byte, a gap that is exactly this signature's /Contents hex string, ending at
//! the end of a revision.

use super::fields::Found;
use kyso_pdf::{Document, Object};

/// What was wrong with a signature's byte range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the signature has no /ByteRange")]
    Missing,
    #[error("the /ByteRange is not four non-negative numbers")]
    NotFourNumbers,
    #[error("the /ByteRange [{0} {1} {2} {3}] does not start at 0 or does not fit the file")]
    OutOfFile(u64, u64, u64, u64),
    #[error("the /ByteRange leaves out more (or other) than the /Contents string")]
    GapNotContents,
    #[error("the signature has no /Contents string")]
    NoContents,
    #[error(
        "the bytes left out by /ByteRange are not this signature's /Contents (signature wrapping)"
    )]
    Wrapped,
    #[error("the signed range does not end at the end of a revision")]
    NotRevisionEnd,
}

/// A signature's byte range, checked: `[0, gap_start)` and `[gap_end, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedRange {
    pub gap_start: usize,
    pub gap_end: usize,
    /// The end of the signed revision.
    pub end: usize,
}

impl SignedRange {
    /// The signed bytes, in two parts.
    pub fn parts<'a>(&self, data: &'a [u8]) -> [&'a [u8]; 2] {
        [&data[..self.gap_start], &data[self.gap_end..self.end]]
    }
}

/// Check `f`'s /ByteRange against `data`: the signed revision ends at one of `ends` (or at the
/// end of the file).
pub fn check(
    doc: &Document<'_>,
    data: &[u8],
    f: &Found,
    ends: &[usize],
) -> Result<SignedRange, RangeError> {
    let br = f
        .sig
        .get("ByteRange")
        .and_then(|b| doc.resolve(b).ok())
        .ok_or(RangeError::Missing)?;
    let br: Vec<u64> = br
        .as_array()
        .ok_or(RangeError::NotFourNumbers)?
        .iter()
        .map(|x| x.as_int().and_then(|i| u64::try_from(i).ok()))
        .collect::<Option<_>>()
        .ok_or(RangeError::NotFourNumbers)?;
    let [a, b, c, d]: [u64; 4] = br.try_into().map_err(|_| RangeError::NotFourNumbers)?;
    let out = || RangeError::OutOfFile(a, b, c, d);
    let to = |x: u64| usize::try_from(x).map_err(|_| out());
    let (b_, c_) = (to(b)?, to(c)?);
    let end = c.checked_add(d).ok_or_else(out).and_then(to)?;
    if a != 0 || b_ >= c_ || end > data.len() {
        return Err(out());
    }
    // The gap must be exactly the /Contents hex string of this signature dictionary.
    let gap = &data[b_..c_];
    if gap.len() < 2
        || gap[0] != b'<'
        || gap[gap.len() - 1] != b'>'
        || !gap[1..gap.len() - 1].iter().all(|x| x.is_ascii_hexdigit())
    {
        return Err(RangeError::GapNotContents);
    }
    let contents = f
        .sig
        .get("Contents")
        .and_then(Object::as_string)
        .ok_or(RangeError::NoContents)?;
    let gap_bytes = kyso_pdf::parse::decode_hex(&gap[1..gap.len() - 1]).unwrap_or_default();
    if gap_bytes.as_slice() != contents {
        return Err(RangeError::Wrapped);
    }
    if !ends.contains(&end) && end != data.len() {
        return Err(RangeError::NotRevisionEnd);
    }
    Ok(SignedRange {
        gap_start: b_,
        gap_end: c_,
        end,
    })
}
