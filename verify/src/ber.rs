//! BER (X.690 §8) as signatures from the field carry it — indefinite lengths and constructed
//! OCTET STRINGs from streaming encoders (Adobe, Java, some VGCA tools) — read without
//! recursion deeper than [`MAX_DEPTH`], and normalized to DER (§10) for the RustCrypto types,
//! which read DER only: definite minimal lengths, constructed strings joined into primitive
//! ones, SET OF elements sorted. The signed attributes are re-encoded as DER for verification
//! anyway (RFC 5652 §5.4); certificates, CRLs and OCSP responses keep the bytes they arrived in
//! (see `x509`).
//!
//! Hostile input is bounded: nesting beyond [`MAX_DEPTH`] is an error found by a loop, not by
//! the stack, and every length is checked against the bytes present.

/// Deepest nesting accepted (certificates and CMS need about 12).
pub const MAX_DEPTH: usize = 64;

/// What is wrong with an encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    #[error("the encoding ends early ({0})")]
    Truncated(&'static str),
    #[error("a tag number is longer than kyso reads")]
    TagTooLong,
    #[error("a length is longer than kyso reads")]
    LengthTooLong,
    #[error("an indefinite length on a primitive value")]
    IndefinitePrimitive,
    #[error("values nested more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error("stopped at the work's limit while re-encoding")]
    Stopped,
}

/// A length as encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    Definite(usize),
    Indefinite,
}

/// An identifier and a length (X.690 §8.1.2–8.1.3).
#[derive(Debug, Clone, Copy)]
struct Header {
    tag_len: usize,
    constructed: bool,
    /// Identifier and length octets.
    len: usize,
    length: Length,
}

fn header(b: &[u8]) -> Result<Header, BerError> {
    let first = *b.first().ok_or(BerError::Truncated("identifier"))?;
    let mut i = 1;
    if first & 0x1f == 0x1f {
        // high tag number form
        loop {
            let x = *b.get(i).ok_or(BerError::Truncated("identifier"))?;
            i += 1;
            if x & 0x80 == 0 {
                break;
            }
            if i > 6 {
                return Err(BerError::TagTooLong);
            }
        }
    }
    let tag_len = i;
    let constructed = first & 0x20 != 0;
    let l0 = *b.get(i).ok_or(BerError::Truncated("length"))?;
    i += 1;
    let length = if l0 == 0x80 {
        if !constructed {
            return Err(BerError::IndefinitePrimitive);
        }
        Length::Indefinite
    } else if l0 & 0x80 == 0 {
        Length::Definite(l0 as usize)
    } else {
        let n = (l0 & 0x7f) as usize;
        if n > 4 {
            return Err(BerError::LengthTooLong);
        }
        let bytes = b.get(i..i + n).ok_or(BerError::Truncated("length"))?;
        i += n;
        Length::Definite(bytes.iter().fold(0usize, |a, &x| (a << 8) | x as usize))
    };
    Ok(Header {
        tag_len,
        constructed,
        len: i,
        length,
    })
}

/// One value: its identifier octets, its contents and all the bytes it took.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// Identifier octets as read.
    pub tag: &'a [u8],
    pub constructed: bool,
    /// Contents (for indefinite length: up to, not including, the end-of-contents).
    pub contents: &'a [u8],
    /// The whole encoding, identifier to end (end-of-contents included).
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The first identifier octet (class, constructed bit, low tag number).
    pub fn tag_byte(&self) -> u8 {
        self.tag[0]
    }

    /// The values inside a constructed value, in order.
    pub fn children(&self) -> Children<'a> {
        Children {
            rest: if self.constructed { self.contents } else { &[] },
        }
    }
}

/// Iterator over the values in a constructed value's contents.
pub struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Tlv<'a>, BerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read(self.rest) {
            Ok(t) => {
                self.rest = &self.rest[t.raw.len()..];
                Some(Ok(t))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Read the first value of `b` (trailing bytes, such as PDF zero padding, are left). An
/// indefinite length's end is found by a loop over the nested headers, at most [`MAX_DEPTH`]
/// open at once.
pub fn read(b: &[u8]) -> Result<Tlv<'_>, BerError> {
    let h = header(b)?;
    let (contents_end, end) = match h.length {
        Length::Definite(n) => {
            let end = h.len.checked_add(n).ok_or(BerError::LengthTooLong)?;
            if end > b.len() {
                return Err(BerError::Truncated("contents"));
            }
            (end, end)
        }
        Length::Indefinite => {
            let mut pos = h.len;
            let mut open = 1usize;
            loop {
                if b.get(pos..pos + 2) == Some(&[0, 0]) {
                    pos += 2;
                    open -= 1;
                    if open == 0 {
                        break (pos - 2, pos);
                    }
                    continue;
                }
                let inner = header(b.get(pos..).unwrap_or(&[]))?;
                pos += inner.len;
                match inner.length {
                    Length::Definite(n) => {
                        pos = pos.checked_add(n).ok_or(BerError::LengthTooLong)?;
                        if pos > b.len() {
                            return Err(BerError::Truncated("contents"));
                        }
                    }
                    Length::Indefinite => {
                        open += 1;
                        if open > MAX_DEPTH {
                            return Err(BerError::TooDeep);
                        }
                    }
                }
            }
        }
    };
    Ok(Tlv {
        tag: &b[..h.tag_len],
        constructed: h.constructed,
        contents: &b[h.len..contents_end],
        raw: &b[..end],
    })
}

/// A value of one-byte tag `tag` with these contents, its length definite and minimal (DER's).
pub fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 6);
    out.push(tag);
    write_len(&mut out, contents.len());
    out.extend_from_slice(contents);
    out
}

fn write_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&x| x == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Universal string types that BER lets encoders split into constructed pieces.
fn is_string_type(tag: u8) -> bool {
    matches!(tag & 0x1f, 3 | 4 | 12 | 19 | 20 | 22 | 26 | 28 | 30) && tag & 0xc0 == 0
}

fn join_pieces(t: &Tlv<'_>, depth: usize, out: &mut Vec<u8>) -> Result<(), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    for c in t.children() {
        let c = c?;
        if c.constructed {
            join_pieces(&c, depth + 1, out)?;
        } else {
            out.extend_from_slice(c.contents);
        }
    }
    Ok(())
}

/// A GeneralizedTime `YYYYMMDDHHMMSS.fffZ` without its fraction of a second. RFC 6960 (OCSP)
/// and X.690 allow fractions; `der`, following RFC 5280, refuses them. Dropping them moves a
/// time back by under a second, which the checks that compare such times tolerate.
fn whole_seconds(c: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let fraction = c.len() > 16
        && c[14] == b'.'
        && c.last() == Some(&b'Z')
        && c[..14].iter().all(u8::is_ascii_digit)
        && c[15..c.len() - 1].iter().all(u8::is_ascii_digit);
    if fraction {
        let mut w = c[..14].to_vec();
        w.push(b'Z');
        std::borrow::Cow::Owned(w)
    } else {
        std::borrow::Cow::Borrowed(c)
    }
}

/// How often [`convert`] asks whether its work was stopped: every this many values.
const CHECK_EVERY: usize = 1 << 16;

/// `t` re-encoded as DER at the end of `out`; `seen` counts the values converted so far. A
/// constructed value's members are written in place, its length put before them once they are
/// (a SET's members then sorted by their encodings, 16 bytes held a member). Each value had
/// held a buffer of its own until its parent was written, 56 bytes for a 2-byte NULL: a BER
/// signature of 16 million NULLs (32 MB) held 1 GB under a 256 MiB memory limit, converted
/// between two checks (helper 229). The stop is asked every [`CHECK_EVERY`] values.
fn convert(t: &Tlv<'_>, depth: usize, out: &mut Vec<u8>, seen: &mut usize) -> Result<(), BerError> {
    convert_as(t, depth, out, seen, false)
}

/// [`convert`], and with `unique` a SET's members written once each (see [`to_der_unique`]).
fn convert_as(
    t: &Tlv<'_>,
    depth: usize,
    out: &mut Vec<u8>,
    seen: &mut usize,
    unique: bool,
) -> Result<(), BerError> {
    *seen += 1;
    if *seen % CHECK_EVERY == 0 && kyso_pdf::stop::stopped() {
        return Err(BerError::Stopped);
    }
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    if !t.constructed {
        let contents = if t.tag == [0x18] {
            whole_seconds(t.contents)
        } else {
            std::borrow::Cow::Borrowed(t.contents)
        };
        out.extend_from_slice(t.tag);
        write_len(out, contents.len());
        out.extend_from_slice(&contents);
        return Ok(());
    }
    let first = t.tag[0];
    if t.tag.len() == 1 && is_string_type(first) {
        let mut joined = Vec::new();
        join_pieces(t, depth + 1, &mut joined)?;
        out.push(first & !0x20);
        write_len(out, joined.len());
        out.extend_from_slice(&joined);
        return Ok(());
    }
    out.extend_from_slice(t.tag);
    let body = out.len();
    let set = t.tag == [0x31];
    // Read as a SET OF by the RustCrypto types, which sort and refuse equal members: a
    // SignerInfo's [0] signed and [1] unsigned attributes (SignedData's [0] certificates and
    // [1] CRLs are read apart). Their equal members are written once, in their order.
    let implicit_set = unique && (t.tag == [0xa0] || t.tag == [0xa1]);
    let mut members: Vec<std::ops::Range<usize>> = Vec::new();
    for c in t.children() {
        let start = out.len();
        convert_as(&c?, depth + 1, out, seen, unique)?;
        if set || implicit_set {
            if members.len() == members.capacity() {
                // The list doubles: asked of the limit before it does.
                let more =
                    members.capacity().max(8) * 2 * std::mem::size_of::<std::ops::Range<usize>>();
                kyso_pdf::stop::afford(more).map_err(|_| BerError::Stopped)?;
            }
            members.push(start..out.len());
        }
    }
    if implicit_set && members.len() > 1 {
        let mut by_value: Vec<usize> = (0..members.len()).collect();
        by_value.sort_by(|&a, &b| {
            out[members[a].clone()]
                .cmp(&out[members[b].clone()])
                .then(a.cmp(&b))
        });
        let mut again = vec![false; members.len()];
        for w in by_value.windows(2) {
            if out[members[w[0]].clone()] == out[members[w[1]].clone()] {
                again[w[1]] = true;
            }
        }
        let kept: Vec<u8> = members
            .iter()
            .zip(&again)
            .filter(|(_, again)| !**again)
            .flat_map(|(m, _)| out[m.clone()].iter().copied())
            .collect();
        out.truncate(body);
        out.extend_from_slice(&kept);
    } else if members.len() > 1 {
        members.sort_by(|a, b| out[a.clone()].cmp(&out[b.clone()]));
        if unique {
            members.dedup_by(|a, b| out[a.clone()] == out[b.clone()]);
        }
        let sorted: Vec<u8> = members
            .iter()
            .flat_map(|m| out[m.clone()].iter().copied())
            .collect();
        out.truncate(body);
        out.extend_from_slice(&sorted);
    }
    let mut len = Vec::new();
    write_len(&mut len, out.len() - body);
    out.splice(body..body, len);
    Ok(())
}

/// DER for the first value of `b` (trailing bytes, such as PDF zero padding, are ignored).
pub fn to_der(b: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut out = Vec::with_capacity(b.len().min(1 << 20));
    convert(&read(b)?, 0, &mut out, &mut 0)?;
    Ok(out)
}

/// Are the lengths and strings of `b`'s first value written as DER writes them, all the way
/// down — definite, minimal lengths, no string in pieces — so that its bytes are what DER
/// gives, but for the order of SET members and the other choices DER makes inside values (a
/// GeneralizedTime's fraction, which [`to_der`] drops)? Such a value is signed as it is; only
/// one that is not needs [`to_der`].
pub fn lengths_are_der(b: &[u8]) -> bool {
    fn walk(t: &Tlv<'_>, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let Ok(h) = header(t.raw) else {
            return false;
        };
        let Length::Definite(n) = h.length else {
            return false;
        };
        let written = h.len - h.tag_len;
        let minimal = if n < 0x80 {
            written == 1
        } else {
            written == 1 + (usize::BITS - n.leading_zeros()).div_ceil(8) as usize
        };
        if !minimal {
            return false;
        }
        if t.constructed {
            if t.tag.len() == 1 && is_string_type(t.tag[0]) {
                return false;
            }
            for c in t.children() {
                match c {
                    Ok(c) if walk(&c, depth + 1) => {}
                    _ => return false,
                }
            }
        }
        true
    }
    read(b).is_ok_and(|t| walk(&t, 0))
}

/// One value of a signed attribute as OpenSSL re-encodes it before checking a signature: a
/// primitive with a minimal length, a string written in pieces joined into one, and any other
/// constructed value (a SEQUENCE, a time-stamp token) byte for byte as written — RFC 5652 asks
/// for the DER of the attributes, and OpenSSL keeps such a value's encoding (helper 247: a
/// message digest written as a constructed OCTET STRING, signed in DER, failed). A value of a
/// class other than universal (context-specific, application, private) is kept as written
/// too, primitive or not: OpenSSL reads it as "other" and keeps its encoding whole (helper
/// 248: a `[0]` primitive with a long-form length, signed as written, failed).
pub fn value_as_signed(b: &[u8]) -> Result<Vec<u8>, BerError> {
    let t = read(b)?;
    let universal = t.tag[0] & 0xc0 == 0;
    if !universal || (t.constructed && !(t.tag.len() == 1 && is_string_type(t.tag[0]))) {
        return Ok(t.raw.to_vec());
    }
    let mut contents = Vec::new();
    if t.constructed {
        join_pieces(&t, 1, &mut contents)?;
    } else {
        contents.extend_from_slice(t.contents);
    }
    let mut out = Vec::with_capacity(contents.len() + 8);
    if t.constructed {
        out.push(t.tag[0] & !0x20);
    } else {
        out.extend_from_slice(t.tag);
    }
    write_len(&mut out, contents.len());
    out.extend_from_slice(&contents);
    Ok(out)
}

/// DER for the first value of `b` as [`to_der`] writes it, each SET's equal members written
/// once: X.690 lets a DER SET OF hold equal members, the RustCrypto types refuse them, and an
/// unsigned attribute or a digest algorithm listed twice — an edit anyone can make to a
/// signature — had a sound signature read as malformed (helper 242). For reading what a CMS
/// says, never for bytes a signature covers.
pub fn to_der_unique(b: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut out = Vec::with_capacity(b.len().min(1 << 20));
    convert_as(&read(b)?, 0, &mut out, &mut 0, true)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Re-encoding heeds the stop (helper 229: 16 million NULLs held 1 GB between two checks).
    #[test]
    fn re_encoding_many_values_heeds_the_stop() {
        let mut ber = vec![0x30, 0x80];
        for _ in 0..(CHECK_EVERY + 10) {
            ber.extend_from_slice(&[0x05, 0x00]);
        }
        ber.extend_from_slice(&[0x00, 0x00]);
        // Outside a stop, converted: a definite length of three bytes for the indefinite one.
        assert_eq!(to_der(&ber).unwrap().len(), ber.len() - 4 + 5);
        let stop = kyso_pdf::stop::Stop::new(Some(std::time::Instant::now()));
        assert!(matches!(stop.run(|| to_der(&ber)), Err(BerError::Stopped)));
        assert!(stop.heeded());
    }

    #[test]
    fn indefinite_lengths_and_constructed_strings_become_der() {
        // SEQUENCE (indef) { OCTET STRING constructed (indef) { 04 01 aa, 04 02 bb cc }, INTEGER 5 }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x02, 0xbb, 0xcc, 0x00, 0x00, 0x02,
            0x01, 0x05, 0x00, 0x00, 0xff, 0xff,
        ];
        let der = to_der(&ber).unwrap();
        assert_eq!(
            der,
            [0x30, 0x08, 0x04, 0x03, 0xaa, 0xbb, 0xcc, 0x02, 0x01, 0x05]
        );
        assert_eq!(read(&ber).unwrap().raw.len(), ber.len() - 2);
    }

    #[test]
    fn sets_are_sorted_and_der_stays_der() {
        let set = [0x31, 0x06, 0x02, 0x01, 0x09, 0x02, 0x01, 0x03];
        assert_eq!(
            to_der(&set).unwrap(),
            [0x31, 0x06, 0x02, 0x01, 0x03, 0x02, 0x01, 0x09]
        );
        let der = [0x30, 0x03, 0x02, 0x01, 0x07];
        assert_eq!(to_der(&der).unwrap(), der);
        // Equal members: kept by to_der, written once by to_der_unique.
        let twice = [
            0x31, 0x09, 0x02, 0x01, 0x09, 0x02, 0x01, 0x03, 0x02, 0x01, 0x09,
        ];
        assert_eq!(
            to_der(&twice).unwrap(),
            [0x31, 0x09, 0x02, 0x01, 0x03, 0x02, 0x01, 0x09, 0x02, 0x01, 0x09]
        );
        assert_eq!(
            to_der_unique(&twice).unwrap(),
            [0x31, 0x06, 0x02, 0x01, 0x03, 0x02, 0x01, 0x09]
        );
        // Lengths and strings as DER writes them, or not.
        assert!(lengths_are_der(&[0x30, 0x03, 0x02, 0x01, 0x07]));
        assert!(!lengths_are_der(&[
            0x30, 0x80, 0x02, 0x01, 0x07, 0x00, 0x00
        ]));
        assert!(!lengths_are_der(&[0x30, 0x81, 0x03, 0x02, 0x01, 0x07]));
        assert!(!lengths_are_der(&[0x24, 0x03, 0x04, 0x01, 0x07]));
        assert!(lengths_are_der(&[
            0x31, 0x06, 0x02, 0x01, 0x09, 0x02, 0x01, 0x03
        ]));
        // A SignerInfo's [1] unsigned attributes: equal members once, in their order.
        let implicit = [
            0xa1, 0x09, 0x02, 0x01, 0x09, 0x02, 0x01, 0x03, 0x02, 0x01, 0x09,
        ];
        assert_eq!(to_der(&implicit).unwrap(), implicit);
        assert_eq!(
            to_der_unique(&implicit).unwrap(),
            [0xa1, 0x06, 0x02, 0x01, 0x09, 0x02, 0x01, 0x03]
        );
    }

    #[test]
    fn generalized_time_fractions_are_dropped() {
        // SEQUENCE { GeneralizedTime "20261201045312.123456Z", GeneralizedTime "20261201045312Z" }
        let mut b = vec![0x30, 41, 0x18, 22];
        b.extend_from_slice(b"20261201045312.123456Z");
        b.extend_from_slice(&[0x18, 15]);
        b.extend_from_slice(b"20261201045312Z");
        let d = to_der(&b).unwrap();
        let mut want = vec![0x30, 34, 0x18, 15];
        want.extend_from_slice(b"20261201045312Z");
        want.extend_from_slice(&[0x18, 15]);
        want.extend_from_slice(b"20261201045312Z");
        assert_eq!(d, want);
        assert!(<der::asn1::GeneralizedTime as der::Decode>::from_der(&d[2..19]).is_ok());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 0x02],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(to_der(bad).is_err(), "{bad:?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n([0x30, 0x80], 200).flatten().collect();
        assert_eq!(to_der(&deep).unwrap_err(), BerError::TooDeep);
    }

    #[test]
    fn a_400_kib_nesting_bomb_is_refused_without_exhausting_the_stack() {
        // What aborted `kyso verify` before: 200,000 nested indefinite-length SEQUENCEs, read
        // on a thread with a small stack to show no recursion follows the nesting.
        let bomb: Vec<u8> = std::iter::repeat_n([0x30, 0x80], 200_000)
            .flatten()
            .collect();
        let t = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || (read(&bomb).map(|_| ()), to_der(&bomb).map(|_| ())))
            .unwrap();
        let (r, d) = t.join().unwrap();
        assert_eq!(r.unwrap_err(), BerError::TooDeep);
        assert_eq!(d.unwrap_err(), BerError::TooDeep);
        // Nested definite lengths (each SEQUENCE holding the next) are bounded the same way.
        let mut nested = vec![0x05, 0x00];
        for _ in 0..200 {
            let mut v = vec![0x30];
            write_len(&mut v, nested.len());
            v.extend_from_slice(&nested);
            nested = v;
        }
        assert_eq!(to_der(&nested).unwrap_err(), BerError::TooDeep);
    }
}
