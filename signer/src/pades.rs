//! PAdES baseline signatures (ETSI EN 319 142-1) as an incremental update of the PDF
//! (ISO 32000-1 §12.8): the original bytes stay an exact prefix, so a PDF/A file stays PDF/A.
//!
//! The update adds a signature dictionary (`/SubFilter /ETSI.CAdES.detached`, `/ByteRange`
//! covering everything but the `/Contents` hex string, `/M`, reason, location, contact), a
//! signature field merged with its widget annotation on a page, and the AcroForm entries
//! (`/Fields`, `/SigFlags 3`). Co-signatures are further updates of the same kind.

use crate::cades;
use crate::error::{Result, SignError};
use crate::stamp::{FontWriter, StampBox, StampFont};
use kyso_hsm::SigningKey;
use kyso_pdf::{Dict, Document, ObjRef, Object, Stream, Update};
use std::collections::HashSet;
use std::time::SystemTime;

const MARK_BYTE_RANGE: u32 = 1;
const MARK_CONTENTS: u32 = 2;
/// Width reserved for each number of /ByteRange.
const BR_WIDTH: usize = 12;

/// What the signer asks for.
#[derive(Debug, Clone, Default)]
pub struct PadesOptions {
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact: Option<String>,
    /// Field name; default `Signature<N>`.
    pub field_name: Option<String>,
    /// Bytes reserved for the CMS; default: estimated from the chain.
    pub reserve: Option<usize>,
    /// Offset of local time from UTC in minutes, for `/M` (Vietnam: +420).
    pub utc_offset_minutes: i32,
    /// Make a certification signature (DocMDP, ISO 32000-1 §12.8.2.2) allowing: 1 no changes,
    /// 2 form filling and signing, 3 also annotations. Only as the document's first signature.
    pub certify: Option<u8>,
    /// A visible signer's stamp (Decree 30/2020): page (1-based) and rectangle.
    pub stamp: Option<StampPlace>,
    /// The digitized-copy stamp at the top right of page 1.
    pub copy_stamp: bool,
    /// The font for stamps (default: Liberation Serif).
    pub stamp_font: Option<std::sync::Arc<crate::stamp::StampFont>>,
    /// Make a document time-stamp (ETSI EN 319 142-1 §5.4.3: `/Type /DocTimeStamp`,
    /// `/SubFilter /ETSI.RFC3161`, the token over the byte ranges) instead of a signature.
    pub doc_timestamp: bool,
    /// Sign even when a signature already in the document fails (its bytes changed, or the
    /// document changed after it in ways it does not allow): by default such a document is
    /// refused ([`SignError::BrokenSignature`]).
    pub over_broken: bool,
}

/// Where the signer's stamp goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StampPlace {
    /// 1-based page number.
    pub page: usize,
    /// [x1, y1, x2, y2] in points from the page's lower left corner.
    pub rect: [f64; 4],
}

impl std::str::FromStr for StampPlace {
    type Err = String;
    /// `PAGE,X,Y,W,H`, e.g. `1,350,60,220,60`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let v: Vec<f64> = s
            .split(',')
            .map(|x| {
                x.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{s:?}: expected PAGE,X,Y,W,H"))
            })
            .collect::<std::result::Result<_, _>>()?;
        if v.len() != 5
            || v[0] < 1.0
            || v[0].fract() != 0.0
            || v[3] <= 0.0
            || v[4] <= 0.0
            || v.iter().any(|x| !x.is_finite())
        {
            return Err(format!(
                "{s:?}: expected PAGE,X,Y,W,H with PAGE ≥ 1 and W, H > 0"
            ));
        }
        Ok(StampPlace {
            page: v[0] as usize,
            rect: [v[1], v[2], v[1] + v[3], v[2] + v[4]],
        })
    }
}

impl PadesOptions {
    pub fn vietnam() -> Self {
        PadesOptions {
            utc_offset_minutes: 7 * 60,
            ..Default::default()
        }
    }
}

/// A PDF date `D:YYYYMMDDHHmmSS+HH'mm'` (ISO 32000-1 §7.9.4) for `t` at `offset` minutes.
pub use kyso_pdf::date::format as pdf_date;

/// The PDF prepared for signing: bytes with a zeroed /Contents, the ranges, and their digest.
#[derive(Debug, Clone)]
pub struct PreparedPdf {
    pub bytes: Vec<u8>,
    /// Offsets of the `<` and after the `>` of /Contents.
    pub contents: (usize, usize),
    pub byte_range: [usize; 4],
    /// Length of the original file (its bytes are a prefix of `bytes`).
    pub original_len: usize,
}

impl PreparedPdf {
    /// Digest of the signed byte ranges.
    pub fn digest(&self, hash: kyso_hsm::HashAlg) -> Vec<u8> {
        use sha2::Digest;
        let (a, b) = (
            &self.bytes[..self.contents.0],
            &self.bytes[self.contents.1..],
        );
        match hash {
            kyso_hsm::HashAlg::Sha256 => {
                let mut h = sha2::Sha256::new();
                h.update(a);
                h.update(b);
                h.finalize().to_vec()
            }
            kyso_hsm::HashAlg::Sha384 => {
                let mut h = sha2::Sha384::new();
                h.update(a);
                h.update(b);
                h.finalize().to_vec()
            }
            kyso_hsm::HashAlg::Sha512 => {
                let mut h = sha2::Sha512::new();
                h.update(a);
                h.update(b);
                h.finalize().to_vec()
            }
        }
    }

    /// Put the CMS into /Contents. Fails if it does not fit.
    pub fn embed(mut self, cms: &[u8]) -> Result<Vec<u8>> {
        let have = (self.contents.1 - self.contents.0 - 2) / 2;
        if cms.len() > have {
            return Err(SignError::TooLarge {
                need: cms.len(),
                have,
            });
        }
        let start = self.contents.0 + 1;
        hex_upper_into(&mut self.bytes[start..start + 2 * cms.len()], cms);
        Ok(self.bytes)
    }
}

/// `src` as upper-case hex digits into `dst` (twice its length), in place: `hex::encode_upper`
/// went through a `String` of `char`s, 1 % of a signature of a 50 KB PDF.
fn hex_upper_into(dst: &mut [u8], src: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for (pair, b) in dst.chunks_exact_mut(2).zip(src) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
}

/// The room a signature time-stamp token (its TSA's certificates too) is given in /Contents.
pub(crate) const TIMESTAMP_ROOM: usize = 8192;

/// Bytes to reserve for the CMS of `key`: certificates, signature, attributes, margin, and a
/// time-stamp token (its TSA's certificates included) for B-T.
pub fn estimate_reserve(key: &dyn SigningKey, timestamped: bool) -> usize {
    use der::Encode;
    let certs: usize = std::iter::once(key.certificate())
        .chain(key.chain())
        .map(|c| {
            c.encoded_len()
                .map(|l| u32::from(l) as usize)
                .unwrap_or(4096)
        })
        .sum();
    let sig = match key.public_key_info().subject_public_key.raw_bytes().len() {
        n if n > 200 => n, // RSA: about the modulus size
        _ => 150,          // ECDSA
    };
    let ts = if timestamped { TIMESTAMP_ROOM } else { 0 };
    (certs + sig * 2 + 2048 + ts).next_multiple_of(1024)
}

/// Append annotations to a page's /Annots (a direct array, an indirect one, or none yet).
fn add_annots(
    doc: &Document<'_>,
    up: &mut Update,
    page_ref: ObjRef,
    new: &[ObjRef],
    pages: &[ObjRef],
) -> Result<()> {
    let mut page = plain_dict(doc, page_ref, "page")?;
    let refs = new.iter().map(|r| Object::Ref(*r));
    // An /Annots array other pages name too is left to them: the page gets its own, and the
    // stamp appears on no page the official did not choose (found by an attacker's reading,
    // 2026-12-03).
    let shared = |r: ObjRef| {
        pages.iter().any(|p| {
            *p != page_ref
                && doc
                    .dict(*p)
                    .is_ok_and(|d| matches!(d.get("Annots"), Some(Object::Ref(x)) if *x == r))
        })
    };
    match page.get("Annots").cloned() {
        Some(Object::Ref(r)) => {
            let mut a = doc
                .get(r)?
                .as_array()
                .ok_or_else(|| SignError::Input("page /Annots is not an array".into()))?
                .to_vec();
            a.extend(refs);
            if shared(r) {
                page.set("Annots", Object::Array(a));
                up.replace(page_ref, Object::Dict(page));
            } else {
                up.replace(r, Object::Array(a));
            }
        }
        Some(Object::Array(mut a)) => {
            a.extend(refs);
            page.set("Annots", Object::Array(a));
            up.replace(page_ref, Object::Dict(page));
        }
        _ => {
            page.set("Annots", Object::Array(refs.collect()));
            up.replace(page_ref, Object::Dict(page));
        }
    }
    Ok(())
}

/// Object `r`, which the update rewrites as a dictionary (`what` it is): a stream is refused.
/// A page or catalog written as a stream is none to Poppler (a blank page, a file it does not
/// open); rewritten as a dictionary, its content showed once signed (found by an attacker's
/// reading, 2026-12-03).
fn plain_dict(doc: &Document<'_>, r: ObjRef, what: &str) -> Result<Dict> {
    if let Object::Stream(_) = doc.get(r)? {
        return Err(SignError::Input(format!(
            "the {what} (object {}) is written as a stream, not a dictionary: PDF readers do not take it for a {what}, and the signature's update would make it one; re-save the PDF with a PDF writer and sign that",
            r.num
        )));
    }
    Ok(doc.dict(r)?)
}

/// The document must read the same to PDF readers after the signature's update as before it,
/// when the official saw it. The update moves the file's end, changes its length and adds a
/// cross-reference section counted from the file's first byte: a file that readers open in a
/// repair or special mode before it, and plainly after it, showed other content once signed
/// ("pay 100 VND" in Poppler and MuPDF before, "pay 999999 VND" after, TOTAL-PASSED; found by
/// an attacker's reading, 2026-12-03). So the triggers of those modes are refused, and so is
/// an object written twice whose later version a repairing reader would show.
/// What [`check_reading`] found that the update must respect.
struct Reading {
    /// The highest object number the file names ([`highest_number`]).
    highest: u32,
    /// Numbers with a plain header in the file that the table holds otherwise (in an object
    /// stream, or freed): a reader rebuilding the table takes that header.
    shadowed: HashSet<u32>,
    /// A number the table's objects or trailer name that the table does not hold, in a file
    /// whose newest section is a table: Poppler rebuilds such a file from its plain headers,
    /// before signing and after.
    rebuilt_by_poppler: Option<u32>,
}

fn check_reading(pdf: &[u8], doc: &Document<'_>, pages: &[ObjRef]) -> Result<Reading> {
    let refuse = |why: String| {
        Err(SignError::Input(format!(
            "{why}; re-save the PDF with a PDF writer and sign that"
        )))
    };
    // Poppler counts offsets from the header; kyso and MuPDF from the first byte.
    if !pdf.starts_with(b"%PDF-") {
        return refuse("the file does not begin with its %PDF- header: Poppler counts every offset from the header and MuPDF from the file's start, so they show other objects, and the update would change which".into());
    }
    // A version other readers take: `%PDF-X.Y` (pyHanko's test file) was signed, and pyHanko
    // could not read the result (helper 192).
    if !matches!(pdf.get(5..8), Some([a, b'.', b]) if a.is_ascii_digit() && b.is_ascii_digit()) {
        return refuse("the file's header names no PDF version (%PDF-1.7, %PDF-2.0): readers refuse or guess, and the signed result would read as it does".into());
    }
    // MuPDF and Poppler look for `startxref` in the last 1,024 bytes; the update brings it
    // back within them.
    let from = pdf.len().saturating_sub(1024);
    if !pdf[from..].windows(9).any(|w| w == b"startxref") {
        return refuse("the file's last startxref is not within its last 1,024 bytes, where PDF readers look for it: they rebuild the cross-reference table instead, and after the update would not".into());
    }
    let h = kyso_verify::pdf::diff::Headers::find(pdf);
    // A header numbered past 2³² − 1 is wrapped onto another number by MuPDF's lexer and
    // Poppler's rebuild: after the table's page, `4294967299 0 obj` was object 3 to both when
    // they repaired, before signing; once kyso's update wrote object 3 after it, they showed
    // kyso's (found by an attacker's reading, 2026-12-03).
    if let Some(at) = h.overflow.first() {
        return refuse(format!(
            "an object header at byte {at} has a number past 2^32 - 1: PDF readers rebuilding the table wrap it onto another object"
        ));
    }
    // MuPDF rebuilds the table on loading when an object-stream entry names a stream that is
    // no plain object of the table (or a number past it), and the update can change that (its
    // new objects; the catalog rewritten plainly): a rebuilt reading showed a plain header the
    // table frees before signing, and the table's reading after (found by an attacker's
    // reading, 2026-12-03).
    let size = doc.size();
    let nums = listed(doc);
    for (num, stream) in nums.iter().filter_map(|&n| match doc.entry(n) {
        Some(kyso_pdf::XrefEntry::InStream { stream, .. }) => Some((n, stream)),
        _ => None,
    }) {
        if stream >= size || !matches!(doc.entry(stream), Some(kyso_pdf::XrefEntry::Offset { .. }))
        {
            return refuse(format!(
                "object {num} is placed in object stream {stream}, which the cross-reference table does not hold as a plain object: MuPDF rebuilds the table when it loads such a file, and after the update might not"
            ));
        }
    }
    // MuPDF takes each cross-reference stream as the object of its own number, over what its
    // section lists: a stream whose number the table places elsewhere, or leaves out while an
    // object refers to it, is shown by MuPDF as another object than by other readers (found
    // by an attacker's reading, 2026-12-06). Judged as the verifier judges a signed revision.
    if let Some(why) = kyso_verify::pdf::diff::xref_streams_differ(doc, pdf.len()) {
        return refuse(why);
    }
    let mut numbers: Vec<(&u32, &usize)> = h.last.iter().collect();
    numbers.sort_unstable();
    let mut shadowed = HashSet::new();
    // Each run of white space before the headers walked once (helper 215).
    let header = kyso_pdf::parse::HeaderFrom::default();
    for (&num, &at) in numbers {
        match doc.entry(num).map(|e| match e {
            // An entry pointing at white space before its header is read there by all.
            kyso_pdf::XrefEntry::Offset { offset, gen } => kyso_pdf::XrefEntry::Offset {
                offset: header.at(pdf, offset),
                gen,
            },
            other => other,
        }) {
            Some(kyso_pdf::XrefEntry::Offset { offset, .. })
                if offset < at || h.highest.get(&num).is_some_and(|&(_, a)| a != offset) =>
            {
                return refuse(format!(
                    "object {num} is written again at byte {at}, after (or above) the version the cross-reference table uses at byte {offset}: a PDF reader rebuilding the table shows the other"
                ));
            }
            Some(kyso_pdf::XrefEntry::Offset { .. }) => {}
            Some(_) => {
                shadowed.insert(num);
            }
            None => {}
        }
    }
    // Every object the table places at an offset must be written there under its own number
    // and generation, and every reference must name the generation the table gives: Poppler
    // rebuilds the table at either, and a rebuilt reading showed other content before signing
    // than after (found by an attacker's reading, 2026-12-03).
    for &num in &nums {
        if let Some(kyso_pdf::XrefEntry::Offset { offset, gen }) = doc.entry(num) {
            if header_at(pdf, header.at(pdf, offset)) != Some((num, u64::from(gen))) {
                return refuse(format!(
                    "the cross-reference table places object {num} {gen} at byte {offset}, where it is not written: PDF readers rebuild the table from what they find"
                ));
            }
        }
    }
    // Poppler's rebuild as it reads lines (`3 0 objx`, a NUL or a 255-byte split between a
    // header's parts, a header after an `endobj` on a line: each object 3 to it and to no
    // lexical reading; found by an attacker's reading, 2026-12-03): each number it takes
    // must be where the table places it, and each the table places must be among them.
    if let Some(at) = h.poppler.unmodelled {
        return refuse(format!(
            "at byte {at} an object header is written in a way Poppler's rebuild of the cross-reference table reads beyond what kyso can follow"
        ));
    }
    let mut rebuilt: Vec<(&u32, &(i64, usize))> = h.poppler.entries.iter().collect();
    rebuilt.sort_unstable();
    for (&num, &(gen, at)) in rebuilt {
        match doc.entry(num) {
            Some(kyso_pdf::XrefEntry::Offset { offset, gen: g })
                if header.at(pdf, at) != header.at(pdf, offset) || gen != i64::from(g) =>
            {
                return refuse(format!(
                    "Poppler rebuilding the cross-reference table takes object {num} from byte {at}, not from byte {offset} where the table places it"
                ));
            }
            Some(kyso_pdf::XrefEntry::Offset { .. }) | None => {}
            Some(_) => {
                shadowed.insert(num);
            }
        }
    }
    for &num in &nums {
        if let Some(kyso_pdf::XrefEntry::Offset { offset, .. }) = doc.entry(num) {
            if !h.poppler.entries.contains_key(&num) {
                return refuse(format!(
                    "object {num} at byte {offset} is not where Poppler's rebuild of the cross-reference table finds an object: it would show another"
                ));
            }
        }
    }
    // A reader rebuilding the table opens the catalog of the last /Root it finds (MuPDF: the
    // last dictionary holding one; Poppler: the last trailer holding one), and the update
    // appends a trailer naming the table's: one naming another catalog, last before it, made
    // both show another document before signing than after (found by an attacker's reading,
    // 2026-12-03). So every /Root in the file must name the table's catalog.
    // A /Root kyso cannot read as a reference counts too: MuPDF's repair reads values more
    // loosely (`8-1 0 R`, `+8 0 R`, a comment first, a number wrapped at 32 bits, a direct
    // catalog) and opened a forged catalog so before signing, and the update's trailer after
    // (found by an attacker's reading, 2026-12-03).
    let root = doc.root();
    if let Some((at, _)) = h.roots.iter().find(|(_, r)| *r != Some(root)) {
        return refuse(format!(
            "a /Root at byte {at} names another catalog than the cross-reference table does, or one kyso cannot read: a PDF reader rebuilding the table may open that one, and after the update would not"
        ));
    }
    // MuPDF reads the /Size of every trailer in the chain, and repairs a file one of whose
    // sizes is past the largest table it keeps, or no integer — before signing and after, as
    // the update keeps the chain: a trigger for all its repair takes otherwise (found by an
    // attacker's reading, 2026-12-03).
    for s in doc.sections() {
        if let Some(size) = s.trailer.get("Size") {
            let max = kyso_verify::pdf::diff::MAX_READER_OBJECTS + 1;
            if !size.as_int().is_some_and(|n| (0..=max).contains(&n)) {
                return refuse(format!(
                    "the cross-reference section at byte {} gives a /Size MuPDF does not take (not an integer from 0 to {max}): it repairs the file on opening",
                    s.offset
                ));
            }
        }
    }
    // MuPDF's repair loads the members of every object stream it finds over its rebuilt
    // table, each numbered below the table's length: a member numbered like the update's
    // widget, in a stream the table does not use, covered the page once signed (found by an
    // attacker's reading, 2026-12-03). The update is numbered above every member (in
    // `highest_number`), and a stream kyso cannot list is refused.
    // (A file holds an object stream only if a name in it reads `/ObjStm`: `Stm` as written,
    // or one of its letters escaped. A file without either needs no reading of its objects.)
    let members = if ["Stm", "#53", "#74", "#6d", "#6D"]
        .iter()
        .any(|w| memchr::memmem::find(pdf, w.as_bytes()).is_some())
    {
        let scanned = h.scan(doc);
        if scanned.exhausted {
            return refuse("the objects under the file's object headers take more reading than a file of its size can need: kyso cannot tell what a PDF reader rebuilding the table would take".into());
        }
        if let Some(at) = scanned.unreadable.first() {
            return refuse(format!(
                "the object stream at byte {at} cannot be read whole: a PDF reader rebuilding the table may take objects from it that kyso cannot see"
            ));
        }
        scanned
            .streams
            .iter()
            .flat_map(|(.., members)| members.iter().copied())
            .max()
            .unwrap_or(0)
    } else {
        0
    };
    if h.odd_unread {
        return refuse(kyso_verify::pdf::diff::ODD_UNREAD.into());
    }
    if h.trailer_unreadable {
        return refuse("the file's last `trailer` is followed by a dictionary kyso cannot read: a PDF reader rebuilding the table reads its /Root all the same".into());
    }
    // Poppler takes a linearized file's first page and page count from its linearization
    // dictionary, and its objects from the cross-reference section right after it, while /L
    // is the file's length, which the update changes.
    // (An /L equal to the length is written with its digits: a file that does not hold them
    // is not read as linearized, and its names need no reading.)
    let length = pdf.len().to_string();
    if memchr::memmem::find(pdf, length.as_bytes()).is_some()
        && kyso_verify::pdf::diff::linearized_lengths(pdf).contains(&pdf.len())
    {
        let first = h.all.iter().map(|&(_, _, at, _)| at).min();
        let lin = first.and_then(|at| {
            kyso_pdf::document::read_indirect(pdf, at, &|_| None)
                .ok()
                .and_then(|(_, o)| o.as_dict().cloned())
        });
        let int = |d: &Dict, k: &str| d.get(k).and_then(|o| o.as_int());
        let agrees = lin.as_ref().is_some_and(|d| {
            int(d, "L") == Some(pdf.len() as i64)
                && int(d, "O") == pages.first().map(|p| p.num as i64)
                && int(d, "N") == Some(pages.len() as i64)
                // Pages 2 and on as Poppler takes them while the length holds: from the hint
                // tables (a file whose hints ordered its pages otherwise than its page tree
                // showed page 2's text as page 3's before signing; found by an attacker's
                // reading, 2026-12-03).
                && (pages.len() < 2
                    || hinted_pages(pdf, doc, d, pages.len()).as_deref()
                        == Some(&pages[1..].iter().map(|p| p.num as u64).collect::<Vec<_>>()[..]))
        });
        if !agrees {
            return refuse("the file is linearized and its linearization dictionary or hint tables name other pages, in another order or number, than its page tree (or cannot be read as Poppler reads them): Poppler shows those, and after the update, which changes the file's length, the page tree's".into());
        }
        // The section after the dictionary must be the one kyso reads first (the last
        // `startxref` names it in a file as linearizing writers write it): a section placing
        // the page content at an earlier version, which Poppler alone read, showed it before
        // signing and not after (found by an attacker's reading, 2026-12-03).
        let after = first.and_then(|at| {
            let e = at + memchr::memmem::find(&pdf[at..], b"endobj")? + 6;
            Some(
                e + pdf[e..]
                    .iter()
                    .take_while(|c| c.is_ascii_whitespace() || **c == 0x0c)
                    .count(),
            )
        });
        let head = kyso_pdf::document::find_startxref(pdf, pdf.len()).ok();
        if after.is_none() || after != head {
            return refuse("the file is linearized and the cross-reference section after its linearization dictionary, which Poppler reads while the file keeps its length, is not the one its last startxref names: Poppler shows other objects before the update than after".into());
        }
    }
    let (highest, dangling) = highest_number(pdf, doc, &h, &nums)?;
    let highest = highest.max(members);
    // Poppler rebuilds the table at a reference it does not resolve when the newest section
    // is a table (not a stream), and kyso's update ends with a table too: such a file is
    // rebuilt before signing and after.
    let head = kyso_pdf::document::find_startxref(pdf, pdf.len()).ok();
    let newest_is_table = doc
        .sections()
        .iter()
        .find(|s| Some(s.offset) == head)
        .is_some_and(|s| !s.is_stream);
    Ok(Reading {
        highest,
        shadowed,
        rebuilt_by_poppler: dangling.filter(|_| newest_is_table),
    })
}

/// The pages under page tree node `node`, each node's /Count checked against them: `Err` names
/// the first node whose count is not its pages (its /Count, and what it holds), or that does
/// not say what it is (below). The tree was walked by `Document::pages` already: no loop, no
/// deeper than 64.
fn counted_pages(
    doc: &Document<'_>,
    node: ObjRef,
    depth: usize,
) -> std::result::Result<i64, (ObjRef, Option<i64>, i64)> {
    let d = doc.dict(node).map_err(|_| (node, None, 0))?;
    // MuPDF takes a kid for a page unless its /Type is /Pages, or it has no /Type, /Kids and
    // no /MediaBox, and resolves a /Type given by reference: a node without /Type holding a
    // /MediaBox, or with `/Type 8 0 R` (/Page), was a page to MuPDF and a node to kyso and
    // Poppler, and a stamp on page 2 was on no page MuPDF showed (found by an attacker's
    // reading, 2026-12-03). Each node and page must say what it is, directly.
    let is = |what: &[u8]| d.get("Type").and_then(Object::as_name) == Some(what);
    let Some(kids) = d.get("Kids") else {
        return if is(b"Page") {
            Ok(1)
        } else {
            Err((node, None, 1))
        };
    };
    if !is(b"Pages") {
        return Err((node, None, 0));
    }
    let kids = doc.resolve(kids).map_err(|_| (node, None, 0))?;
    let mut held = 0i64;
    for k in kids.as_array().unwrap_or(&[]) {
        let Some(k) = k.as_ref() else { continue };
        if depth >= 64 {
            return Err((node, None, held));
        }
        held = held.saturating_add(counted_pages(doc, k, depth + 1)?);
    }
    let count = d
        .get("Count")
        .and_then(|c| doc.resolve(c).ok())
        .and_then(|c| c.as_int());
    if count != Some(held) {
        return Err((node, count, held));
    }
    Ok(held)
}

/// The `N G obj` header at `at`, as written (digits, white space, digits, white space, `obj`).
fn header_at(pdf: &[u8], at: usize) -> Option<(u32, u64)> {
    let mut i = at;
    let mut number = || {
        let start = i;
        while pdf.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let n = std::str::from_utf8(pdf.get(start..i)?)
            .ok()?
            .parse::<u64>()
            .ok();
        let ws = i;
        while pdf.get(i).is_some_and(|c| kyso_pdf::parse::is_ws(*c)) {
            i += 1;
        }
        (i > ws).then_some(n).flatten()
    };
    let num = u32::try_from(number()?).ok()?;
    let gen = number()?;
    pdf.get(i..i + 3)
        .filter(|k| *k == b"obj")
        .map(|_| (num, gen))
}

/// The object numbers of pages 2 to `n` of a linearized file as Poppler takes them from its page
/// offset hint table (ISO 32000-1 Annex F.4; Poppler's `Hints`): the table's objects per page,
/// the second page's objects numbered from 1 and each page's after the last's. `None` when the
/// table cannot be read as Poppler reads it (then the file is refused: Poppler may read it).
fn hinted_pages(pdf: &[u8], doc: &Document<'_>, lin: &Dict, n: usize) -> Option<Vec<u64>> {
    // One hint stream, the first page first (/P absent or 0), as linearizing writers write.
    let h = lin.get("H")?.as_array()?;
    if h.len() != 2 || lin.get("P").is_some_and(|p| p.as_int() != Some(0)) {
        return None;
    }
    let at = usize::try_from(h[0].as_int()?).ok()?;
    let length_of = |r: ObjRef| doc.get(r).ok().and_then(|o| o.as_int());
    let (_, o) = kyso_pdf::document::read_indirect(pdf, at, &length_of).ok()?;
    let Object::Stream(st) = o else { return None };
    if st
        .dict
        .get("S")
        .and_then(|s| s.as_int())
        .is_none_or(|s| s <= 0)
    {
        return None;
    }
    // Within the document's budget of decoded bytes (a zlib bomb of a hint stream).
    let table = doc.decode(&st).ok()?;
    let mut bit = 0usize;
    let mut read = |width: u32| -> Option<u64> {
        if width > 32 {
            return None;
        }
        let mut v = 0u64;
        for _ in 0..width {
            let byte = *table.get(bit / 8)?;
            v = v << 1 | u64::from(byte >> (7 - bit % 8) & 1);
            bit += 1;
        }
        Some(v)
    };
    let least = read(32)?;
    read(32)?; // location of the first page's first object
    let diff_bits = read(16)? as u32;
    for width in [32, 16, 32, 16, 32, 16, 16, 16, 16, 16] {
        read(width)?;
    }
    let mut objects = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        objects.push(least.checked_add(read(diff_bits)?)?);
    }
    // The first page's count is not used: the second page's objects begin at 1.
    let mut num = 1u64;
    let mut out = Vec::with_capacity(n - 1);
    for i in 1..n {
        if i > 1 {
            num = num.checked_add(objects[i - 1])?;
        }
        out.push(num);
    }
    Some(out)
}

/// The numbers the cross-reference table lists, once each.
fn listed(doc: &Document<'_>) -> Vec<u32> {
    let mut v: Vec<u32> = doc
        .sections()
        .iter()
        .flat_map(|s| s.entries.iter().map(|(n, _)| *n))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A reference naming another generation than the table gives its number: Poppler rebuilds
/// the table at it (MuPDF ignores generations).
fn stale_generation(num: u32, gen: u64, g: u16) -> SignError {
    SignError::Input(format!(
        "a reference {num} {gen} R names generation {gen} where the cross-reference table holds {num} {g}: Poppler rebuilds the table at it; re-save the PDF with a PDF writer and sign that"
    ))
}

/// The highest object number the file names anywhere: in an object header, in a reference
/// (`N G R` in its bytes, or in the objects its object streams hold), or as an object stream
/// in the table. The update's objects are numbered above it: a reference the table did not
/// resolve — Poppler rebuilds the table when it meets one — was resolved by the update's first
/// new object once signed, and the rebuilt reading Poppler had shown before signing was gone
/// (found by an attacker's reading, 2026-12-03).
fn highest_number(
    pdf: &[u8],
    doc: &Document<'_>,
    h: &kyso_verify::pdf::diff::Headers,
    listed: &[u32],
) -> Result<(u32, Option<u32>)> {
    let mut top = h
        .all
        .iter()
        .map(|&(n, ..)| n)
        .chain(h.poppler.entries.keys().copied())
        .max()
        .unwrap_or(0);
    let digits_before = |mut j: usize| {
        let end = j;
        while j > 0 && pdf[j - 1].is_ascii_digit() {
            j -= 1;
        }
        (j, &pdf[j..end])
    };
    let ws_before = |mut j: usize| {
        let end = j;
        while j > 0 && kyso_pdf::parse::is_ws(pdf[j - 1]) {
            j -= 1;
        }
        (j, end > j)
    };
    for r in memchr::memchr_iter(b'R', pdf) {
        if pdf
            .get(r + 1)
            .is_some_and(|&c| !kyso_pdf::parse::is_ws(c) && !kyso_pdf::parse::is_delim(c))
        {
            continue;
        }
        let (j, ws) = ws_before(r);
        let (j, gen) = digits_before(j);
        let (j, ws2) = ws_before(j);
        let (_, num) = digits_before(j);
        if ws && ws2 && !gen.is_empty() && !num.is_empty() && num.len() <= 10 && gen.len() <= 10 {
            let parse = kyso_pdf::parse::digits_value;
            // Only the number counts here: these bytes hold superseded revisions too, whose
            // references may name a generation since reused.
            if let (Some(n), Some(_)) = (parse(num).and_then(|n| u32::try_from(n).ok()), parse(gen))
            {
                top = top.max(n);
            }
        }
    }
    let mut refs = Vec::new();
    // The references of the objects the table holds now, and of its trailer.
    Object::Dict(doc.trailer().clone()).references_into(&mut refs);
    for &n in listed {
        let gen = match doc.entry(n) {
            Some(kyso_pdf::XrefEntry::InStream { stream, .. }) => {
                top = top.max(stream);
                0
            }
            Some(kyso_pdf::XrefEntry::Offset { gen, .. }) => gen,
            _ => continue,
        };
        // Read as `Document::get` reads it, not built (an object `get` cannot read adds
        // none, nor does the part of one read before it failed).
        let before = refs.len();
        if doc.references(ObjRef::new(n, gen), &mut refs).is_err() {
            refs.truncate(before);
        }
    }
    let mut dangling = None;
    for r in refs {
        top = top.max(r.num);
        // One look into the table for both questions (`stale`, `Document::holds`).
        let e = doc.entry(r.num);
        if let Some(kyso_pdf::XrefEntry::Offset { gen, .. }) = e {
            if gen != r.gen {
                return Err(stale_generation(r.num, u64::from(r.gen), gen));
            }
        }
        if dangling.is_none()
            && !matches!(
                e,
                Some(kyso_pdf::XrefEntry::Offset { .. } | kyso_pdf::XrefEntry::InStream { .. })
            )
        {
            dangling = Some(r.num);
        }
    }
    Ok((top, dangling))
}

/// A page's /MediaBox, inherited from the page tree when the page has none (§7.7.3.4).
fn media_box(doc: &Document<'_>, page: ObjRef) -> Result<[f64; 4]> {
    doc.inherited(page, "MediaBox")?
        .and_then(|m| m.as_rect())
        .ok_or_else(|| SignError::Input("the page has no /MediaBox".into()))
}

/// The part of a page readers show: its /CropBox (inherited; the /MediaBox when it has none)
/// within its /MediaBox. A stamp placed by the /MediaBox alone fell outside a smaller /CropBox,
/// and the document was signed as a certified copy no reader showed stamped (found by an
/// attacker's reading, 2026-12-03).
fn visible_box(doc: &Document<'_>, page: ObjRef) -> Result<[f64; 4]> {
    let mb = media_box(doc, page)?;
    let cb = doc
        .inherited(page, "CropBox")?
        .and_then(|c| c.as_rect())
        .unwrap_or(mb);
    let b = [
        mb[0].max(cb[0]),
        mb[1].max(cb[1]),
        mb[2].min(cb[2]),
        mb[3].min(cb[3]),
    ];
    if b[0] >= b[2] || b[1] >= b[3] {
        return Err(SignError::Input(
            "the page's /CropBox lies outside its /MediaBox: readers show nothing of it".into(),
        ));
    }
    Ok(b)
}

/// A page's /Rotate (inherited), as 0, 90, 180 or 270 degrees clockwise; another value is
/// refused for a stamp (readers differ on it).
fn rotation(doc: &Document<'_>, page: ObjRef) -> Result<u16> {
    let r = doc
        .inherited(page, "Rotate")?
        .map_or(Some(0), |o| o.as_int())
        .filter(|r| r % 90 == 0)
        .ok_or_else(|| {
            SignError::Input("the page's /Rotate is not a multiple of 90: readers turn it otherwise, and no stamp can be placed on it".into())
        })?;
    Ok(r.rem_euclid(360) as u16)
}

/// Does the document already carry a signature: a signature field with a value anywhere in
/// the form's field tree (a field under another's /Kids too)?
fn has_signatures(doc: &Document<'_>) -> bool {
    kyso_pdf::form::field_tree(doc)
        .iter()
        .any(|(_, d, n)| n.ft.as_deref() == Some(b"Sig") && d.get("V").is_some())
}

/// The signed signature fields of the form: each field's dictionary and its signature's.
fn signed_fields<'d>(
    doc: &'d Document<'_>,
) -> impl Iterator<Item = (kyso_pdf::Dict, kyso_pdf::Dict)> + 'd {
    kyso_pdf::form::field_tree(doc)
        .into_iter()
        .filter(|(_, d, n)| n.ft.as_deref() == Some(b"Sig") && d.get("V").is_some())
        .filter_map(|(_, d, _)| {
            let sig = doc.resolve(d.get("V")?).ok()?.as_dict()?.clone();
            Some((d, sig))
        })
}

/// Refuse what a certification forbids: a second certification, a certification after other
/// signatures, any signature on a document certified with P=1 (document time-stamps, the
/// B-LTA update, are not changes under P=1: ISO 32000-2 §12.8.2.2), and the digitized-copy
/// stamp — an annotation — on one certified with P=2 (form filling and signing only).
fn check_docmdp(doc: &Document<'_>, opts: &PadesOptions) -> Result<()> {
    let certify = opts.certify.is_some();
    // A signature whose field lock says P=1 ("lock document after signing"): nothing may
    // follow it but validation data and document time-stamps, as after a certification with
    // P=1. Signed over, it was shown broken by pyHanko and Acrobat (helper 172).
    let locked = signed_fields(doc)
        .filter_map(|(field, sig)| doc.lock_level(&sig, Some(&field)))
        .min();
    if opts.doc_timestamp {
        return if certify {
            Err(SignError::Input(
                "a document time-stamp cannot certify".into(),
            ))
        } else {
            Ok(())
        };
    }
    if locked == Some(1) {
        return Err(SignError::Input("a signature in the document locks it against any change (its field lock, /P 1: \"lock document after signing\"): another signature would break it".into()));
    }
    // Annotations need a certification with P=3 and no lock narrowing it (a lock's P=2 on a
    // document certified with P=3 forbids them after that signature; helper 174).
    let annotations_allowed = doc.docmdp_permission()? == Some(3) && locked.is_none_or(|l| l >= 3);
    if opts.copy_stamp && !annotations_allowed && has_signatures(doc) {
        return Err(SignError::Input("the document is signed already: the digitized-copy stamp is an annotation, which breaks the earlier signatures (only a certification with DocMDP P=3, no signature's lock narrowing it, permits annotations); sign without it, or stamp the copy before its first signature".into()));
    }
    match doc.docmdp_permission()? {
        Some(_) if certify => Err(SignError::Input("the document is already certified; it can have only one certification signature".into())),
        Some(1) => Err(SignError::Input("the document is certified with no changes allowed (DocMDP P=1): another signature would break its certification".into())),
        Some(2) if opts.copy_stamp => Err(SignError::Input("the document is certified for form filling and signing only (DocMDP P=2): the digitized-copy stamp is an annotation, which would break its certification; sign without it".into())),
        Some(_) => Ok(()),
        None if certify && has_signatures(doc) => Err(SignError::Input("a certification signature must be the document's first signature".into())),
        None => Ok(()),
    }
}

/// How long checking the signatures already in a document may take; past it the document is
/// refused (a hostile file can make validation slow, within its budgets, and signing must not
/// hang on it).
const EARLIER_CHECK_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Refuse to sign a document whose earlier signature (or document time-stamp) already fails:
/// its signed bytes changed, it cannot be read, or a later revision changed the document in
/// ways it does not allow. A signature added now would vouch for that document, and readers
/// would show the new signature valid beside the broken one. Only what the file itself
/// proves is judged (offline, no trust anchors): an unknown or revoked signer's certificate
/// is the verifier's business, not a reason to refuse.
fn check_earlier_signatures(pdf: &[u8], doc: &Document<'_>) -> Result<()> {
    if !has_signatures(doc) && memchr::memmem::find(pdf, b"/ByteRange").is_none() {
        return Ok(());
    }
    // Under the caller's stop, if any (the service's time limit, its request gone): that one
    // ends the check too, and is then what the caller is told of.
    let outer = kyso_pdf::stop::current();
    let stop =
        kyso_pdf::stop::Stop::within_current(Some(std::time::Instant::now() + EARLIER_CHECK_LIMIT));
    let report = stop.run(|| kyso_verify::Validator::default().verify_pdf(pdf));
    if outer.is_some_and(|o| o.heeded()) {
        return Err(SignError::Pdf(kyso_pdf::PdfError::Stopped));
    }
    if stop.heeded() {
        return Err(SignError::Input(format!(
            "the signatures already in the document could not be checked within {} s: kyso does not sign over signatures it cannot check",
            EARLIER_CHECK_LIMIT.as_secs()
        )));
    }
    let Some(bad) = report
        .signatures
        .iter()
        .find(|s| s.facts.integrity == Some(false))
    else {
        return Ok(());
    };
    let what = match &bad.field {
        Some(f) => format!("the signature {:?}", kyso_verify::report::shown(f, 80)),
        None => "a signature".to_string(),
    };
    let by = bad
        .signer
        .as_ref()
        .map(|s| {
            format!(
                " (signed by {})",
                kyso_verify::report::shown(&s.subject, 120)
            )
        })
        .unwrap_or_default();
    let why = bad
        .messages
        .first()
        .map(|m| kyso_verify::report::shown(m, 400).into_owned())
        .unwrap_or_else(|| "its integrity check failed".into());
    Err(SignError::BrokenSignature(format!(
        "{what}{by} already in the document fails: {why}"
    )))
}

/// Build the incremental update with placeholders. `signer_name` goes into /Name.
pub fn prepare_pdf(
    pdf: &[u8],
    signer: Option<&x509_cert::Certificate>,
    now: SystemTime,
    reserve: usize,
    opts: &PadesOptions,
) -> Result<PreparedPdf> {
    let doc = Document::parse(pdf)?;
    if let Some(p) = opts.certify {
        if !(1..=3).contains(&p) {
            return Err(SignError::Input(format!(
                "DocMDP permission {p}: give 1, 2 or 3"
            )));
        }
    }
    check_docmdp(&doc, opts)?;
    if !opts.doc_timestamp && !opts.over_broken {
        check_earlier_signatures(pdf, &doc)?;
    }
    let pages = doc.pages()?;
    let reading = check_reading(pdf, &doc, &pages)?;
    let signer_name = signer.and_then(common_name);
    let widget_page = match opts.stamp {
        Some(p) => *pages.get(p.page - 1).ok_or_else(|| {
            SignError::Input(format!(
                "the stamp is for page {} but the document has {} pages",
                p.page,
                pages.len()
            ))
        })?,
        None => pages[0],
    };
    // Readers show as many pages as the page tree's /Count says, and MuPDF finds a page by
    // the /Count of each node on its way: a stamp on a page past a node's count is on no page
    // they show (the root's said 1 of 2 pages; then a node's said 1 of its 2; found by
    // attackers' readings, 2026-12-03).
    if opts.stamp.is_some() || opts.copy_stamp {
        let top = doc
            .dict(doc.root())?
            .get("Pages")
            .and_then(|p| p.as_ref())
            .ok_or_else(|| SignError::Input("the catalog has no /Pages".into()))?;
        if let Err((node, count, held)) = counted_pages(&doc, top, 0) {
            let typed = |what: &str| {
                doc.dict(node)
                    .ok()
                    .and_then(|d| d.type_name().map(<[u8]>::to_vec))
                    == Some(what.as_bytes().to_vec())
            };
            let has_kids = doc.dict(node).is_ok_and(|d| d.get("Kids").is_some());
            if !typed(if has_kids { "Pages" } else { "Page" }) {
                return Err(SignError::Input(format!(
                    "the page tree node {node} does not say /Type /{} directly: readers take such a node for a page or a page for a node, and a stamp could be on a page they do not show; re-save the PDF with a PDF writer and sign that",
                    if has_kids { "Pages" } else { "Page" }
                )));
            }
            return Err(SignError::Input(format!(
                "the page tree node {node}'s /Count ({}) is not the {held} pages it holds: readers show as many pages as the counts say, and a stamp could be on a page they do not show; re-save the PDF with a PDF writer and sign that",
                count.map_or("none".to_string(), |c| c.to_string()),
            )));
        }
    }
    let root_ref = doc.root();
    let mut root = plain_dict(&doc, root_ref, "catalog")?;
    let mut up = Update::new(&doc)?;
    up.skip_to(reading.highest.saturating_add(1))?;

    // The signature dictionary, with placeholders patched after writing.
    let mut sig = if opts.doc_timestamp {
        Dict::new()
            .with("Type", Object::name("DocTimeStamp"))
            .with("Filter", Object::name("Adobe.PPKLite"))
            .with("SubFilter", Object::name("ETSI.RFC3161"))
    } else {
        Dict::new()
            .with("Type", Object::name("Sig"))
            .with("Filter", Object::name("Adobe.PPKLite"))
            .with("SubFilter", Object::name("ETSI.CAdES.detached"))
    };
    let br_placeholder = format!("[0 {:>w$} {:>w$} {:>w$}]", 0, 0, 0, w = BR_WIDTH);
    sig.set(
        "ByteRange",
        Object::Raw(br_placeholder.into_bytes(), Some(MARK_BYTE_RANGE)),
    );
    let mut contents = Vec::with_capacity(reserve * 2 + 2);
    contents.push(b'<');
    contents.resize(reserve * 2 + 1, b'0');
    contents.push(b'>');
    sig.set("Contents", Object::Raw(contents, Some(MARK_CONTENTS)));
    if !opts.doc_timestamp {
        sig.set("M", Object::string(&pdf_date(now, opts.utc_offset_minutes)));
    }
    if let Some(n) = &signer_name {
        sig.set("Name", Object::text(n));
    }
    if let Some(r) = &opts.reason {
        sig.set("Reason", Object::text(r));
    }
    if let Some(l) = &opts.location {
        sig.set("Location", Object::text(l));
    }
    if let Some(c) = &opts.contact {
        sig.set("ContactInfo", Object::text(c));
    }
    if let Some(p) = opts.certify {
        let params = Dict::new()
            .with("Type", Object::name("TransformParams"))
            .with("P", Object::Int(p as i64))
            .with("V", Object::name("1.2"));
        let reference = Dict::new()
            .with("Type", Object::name("SigRef"))
            .with("TransformMethod", Object::name("DocMDP"))
            .with("TransformParams", Object::Dict(params));
        sig.set("Reference", Object::Array(vec![Object::Dict(reference)]));
    }
    let sig_ref = up.add(Object::Dict(sig));
    if opts.certify.is_some() {
        let mut perms = match root.get("Perms") {
            Some(Object::Ref(r)) => doc.dict(*r)?,
            Some(Object::Dict(d)) => d.clone(),
            _ => Dict::new(),
        };
        perms.set("DocMDP", Object::Ref(sig_ref));
        root.set("Perms", Object::Dict(perms));
    }

    // The AcroForm: indirect, inline, or missing.
    let (mut acro, acro_ref) = match root.get("AcroForm") {
        Some(Object::Ref(r)) => (plain_dict(&doc, *r, "form dictionary")?, Some(*r)),
        Some(Object::Dict(d)) => (d.clone(), None),
        _ => (Dict::new(), None),
    };
    let (mut fields, fields_ref): (Vec<Object>, Option<ObjRef>) = match acro.get("Fields") {
        Some(Object::Ref(r)) => (
            doc.get(*r)?
                .as_array()
                .ok_or_else(|| SignError::Input("/AcroForm /Fields is not an array".into()))?
                .to_vec(),
            Some(*r),
        ),
        Some(Object::Array(a)) => (a.clone(), None),
        _ => (Vec::new(), None),
    };
    // Every field's fully qualified name, nested ones too, decoded (a name in UTF-16 is the
    // same name): the new field must not be another field's widget.
    let names: HashSet<String> = kyso_pdf::form::field_tree(&doc)
        .into_iter()
        .map(|(_, _, n)| n.name)
        .collect();
    let name = match &opts.field_name {
        Some(n) => {
            if names.contains(n) {
                return Err(SignError::Input(format!(
                    "the PDF already has a field named {n:?}"
                )));
            }
            n.clone()
        }
        None => (1..)
            .map(|i| {
                if opts.doc_timestamp {
                    format!("DocTimeStamp{i}")
                } else {
                    format!("Signature{i}")
                }
            })
            .find(|n| !names.contains(n))
            .expect("some name is free"),
    };
    let widget = Dict::new()
        .with("Type", Object::name("Annot"))
        .with("Subtype", Object::name("Widget"))
        .with("FT", Object::name("Sig"))
        .with("T", Object::text(&name))
        .with("V", Object::Ref(sig_ref))
        // Print + Locked: an invisible signature that cannot be moved or deleted by hand.
        .with("F", Object::Int(132))
        .with("Rect", Object::Array(vec![Object::Int(0); 4]))
        .with("P", Object::Ref(widget_page));
    let mut widget = widget;
    let mut annots: Vec<(ObjRef, ObjRef)> = Vec::new();
    if opts.stamp.is_some() || opts.copy_stamp {
        let cert = signer.ok_or_else(|| {
            SignError::Input("a visible stamp needs the signer's certificate".into())
        })?;
        let font = match &opts.stamp_font {
            Some(f) => f.clone(),
            None => std::sync::Arc::new(StampFont::load(std::path::Path::new(
                crate::stamp::DEFAULT_FONT,
            ))?),
        };
        let when = crate::stamp::iso8601(now, opts.utc_offset_minutes);
        let mut fw = FontWriter::new(&font, &mut up)?;
        if let Some(place) = opts.stamp {
            let vb = visible_box(&doc, widget_page)?;
            let r = place.rect;
            let slack = 0.01;
            if r[0] < vb[0] - slack
                || r[1] < vb[1] - slack
                || r[2] > vb[2] + slack
                || r[3] > vb[3] + slack
            {
                return Err(SignError::Input(format!(
                    "the stamp's rectangle [{} {} {} {}] is not within page {}'s visible area [{} {} {} {}] (its /CropBox within its /MediaBox): readers would not show all of it",
                    r[0], r[1], r[2], r[3], place.page, vb[0], vb[1], vb[2], vb[3]
                )));
            }
            let b = StampBox {
                rect: place.rect,
                lines: crate::stamp::signer_lines(cert, &when),
                border: true,
                rotate: rotation(&doc, widget_page)?,
            };
            let ap = up.add(fw.appearance(&b)?);
            widget.set(
                "Rect",
                Object::Array(place.rect.iter().map(|v| Object::Real(*v)).collect()),
            );
            widget.set("AP", Object::Dict(Dict::new().with("N", Object::Ref(ap))));
        }
        if opts.copy_stamp {
            let lines = crate::stamp::copy_lines(cert, &when);
            let w = lines
                .iter()
                .map(|l| crate::stamp::text_width(&font, l))
                .fold(0.0, f64::max)
                + 12.0;
            let h = lines.len() as f64 * 12.0 + 10.0;
            let [x0, y0, x1, y1] = visible_box(&doc, pages[0])?;
            // The top right corner as the page is shown, turned by its /Rotate.
            let rotate = rotation(&doc, pages[0])?;
            let rect = match rotate {
                90 => [x0 + 20.0, y1 - 20.0 - w, x0 + 20.0 + h, y1 - 20.0],
                180 => [x0 + 20.0, y0 + 20.0, x0 + 20.0 + w, y0 + 20.0 + h],
                270 => [x1 - 20.0 - h, y0 + 20.0, x1 - 20.0, y0 + 20.0 + w],
                _ => [x1 - 20.0 - w, y1 - 20.0 - h, x1 - 20.0, y1 - 20.0],
            };
            let ap = up.add(fw.appearance(&StampBox {
                rect,
                lines: lines.clone(),
                border: false,
                rotate,
            })?);
            let stamp = Dict::new()
                .with("Type", Object::name("Annot"))
                .with("Subtype", Object::name("Stamp"))
                .with(
                    "Rect",
                    Object::Array(rect.iter().map(|v| Object::Real(*v)).collect()),
                )
                .with("Contents", Object::text(&lines.join(" ")))
                .with("F", Object::Int(132))
                .with("P", Object::Ref(pages[0]))
                .with("AP", Object::Dict(Dict::new().with("N", Object::Ref(ap))));
            let r = up.add(Object::Dict(stamp));
            annots.push((pages[0], r));
        }
        fw.finish(&mut up)?;
    }
    // A document time-stamp's widget gets none unless the file declares PDF/A-1: pyHanko takes
    // a new appearance stream for form filling, which a lock or a certification with P=1
    // forbids — a B-LTA extension of such a file was then judged broken (helper 174).
    // Of PDF/A, only part 1 asks it of a widget with a zero /Rect (ISO 19005-2 and -3 §6.3.3
    // exempt those, veraPDF rule 6.3.3-1; helper 177).
    let needs_appearance =
        !opts.doc_timestamp || kyso_verify::pdfa::declared(pdf).is_some_and(|c| c.part == 1);
    if widget.get("AP").is_none() && needs_appearance {
        // An invisible signature still gets an appearance, an empty form XObject: PDF/A-1
        // (ISO 19005-1 §6.5.3, as Apache PDFBox Preflight reads it) wants one on every widget,
        // and a PDF/A document must stay PDF/A when signed.
        let empty = up.add(Object::Stream(Box::new(Stream {
            dict: Dict::new()
                .with("Type", Object::name("XObject"))
                .with("Subtype", Object::name("Form"))
                .with("BBox", Object::Array(vec![Object::Int(0); 4])),
            data: Vec::new(),
        })));
        widget.set(
            "AP",
            Object::Dict(Dict::new().with("N", Object::Ref(empty))),
        );
    }
    let widget_ref = up.add(Object::Dict(widget));
    annots.push((widget_page, widget_ref));
    fields.push(Object::Ref(widget_ref));
    // A /Fields array that is also a page's /Annots is left to the page: replaced, it put the
    // new widget (and its stamp) on that page too (helper 172). The form gets its own array.
    let names_annots = |r: ObjRef| {
        pages.iter().any(|p| {
            doc.dict(*p)
                .is_ok_and(|d| matches!(d.get("Annots"), Some(Object::Ref(x)) if *x == r))
        })
    };
    match fields_ref {
        Some(r) if !names_annots(r) => up.replace(r, Object::Array(fields)),
        _ => acro.set("Fields", Object::Array(fields)),
    }
    acro.set("SigFlags", Object::Int(3));
    match acro_ref {
        Some(r) => {
            up.replace(r, Object::Dict(acro));
            if opts.certify.is_some() {
                up.replace(root_ref, Object::Dict(root));
            }
        }
        None => {
            let r = up.add(Object::Dict(acro));
            root.set("AcroForm", Object::Ref(r));
            up.replace(root_ref, Object::Dict(root));
        }
    }

    // The widget (and stamps) on their pages' /Annots.
    let mut by_page: Vec<(ObjRef, Vec<ObjRef>)> = Vec::new();
    for (p, a) in annots {
        match by_page.iter_mut().find(|(q, _)| *q == p) {
            Some((_, v)) => v.push(a),
            None => by_page.push((p, vec![a])),
        }
    }
    for (page_ref, new) in by_page {
        add_annots(&doc, &mut up, page_ref, &new, &pages)?;
    }

    // An object the update rewrites that the table holds in an object stream (or frees) while
    // a plain version is written elsewhere: a reader rebuilding the table took that version
    // before signing, and the update's after (a page, a catalog, an /Annots array; found by
    // an attacker's reading, 2026-12-03).
    if let Some(num) = up.numbers().find(|n| reading.shadowed.contains(n)) {
        return Err(SignError::Input(format!(
            "object {num}, which the signature's update rewrites, is held in an object stream (or freed) while a plain version of it is written elsewhere in the file: a PDF reader rebuilding the table shows that version before signing and the rewritten one after; re-save the PDF with a PDF writer and sign that"
        )));
    }
    // Poppler's rebuilt table holds plain objects only: one the update rewrites that the table
    // holds in an object stream is missing from it before signing and there after (page 1
    // skipped and the next shown in its place; an /Annots array appearing with an overlay;
    // found by an attacker's reading, 2026-12-03).
    if let Some(dangling) = reading.rebuilt_by_poppler {
        if let Some(num) = up
            .numbers()
            .find(|n| matches!(doc.entry(*n), Some(kyso_pdf::XrefEntry::InStream { .. })))
        {
            return Err(SignError::Input(format!(
                "the file names object {dangling}, which its cross-reference table does not hold, and its newest section is a table: Poppler then rebuilds the table from plain objects, where object {num}, held in an object stream and rewritten by the signature's update, is missing before signing and present after; re-save the PDF with a PDF writer and sign that"
            )));
        }
    }
    let w = up.write();
    let find = |m: u32| {
        w.marks
            .iter()
            .find(|(k, _, _)| *k == m)
            .map(|&(_, s, e)| (s, e))
    };
    let (br_start, br_end) = find(MARK_BYTE_RANGE).expect("byte range written");
    let (c_start, c_end) = find(MARK_CONTENTS).expect("contents written");
    let mut bytes = w.bytes;
    let byte_range = [0, c_start, c_end, bytes.len() - c_end];
    let text = byte_range_text(byte_range);
    debug_assert_eq!(text.len(), br_end - br_start);
    bytes[br_start..br_end].copy_from_slice(text.as_bytes());
    Ok(PreparedPdf {
        bytes,
        contents: (c_start, c_end),
        byte_range,
        original_len: pdf.len(),
    })
}

/// The /ByteRange array as a prepared signature writes it (each number padded to its width).
pub(crate) fn byte_range_text(byte_range: [usize; 4]) -> String {
    format!(
        "[0 {:<w$} {:<w$} {:<w$}]",
        byte_range[1],
        byte_range[2],
        byte_range[3],
        w = BR_WIDTH
    )
}

/// PAdES-B-B: sign `pdf` with `key` as an incremental update.
pub fn sign_pdf(
    key: &dyn SigningKey,
    pdf: &[u8],
    now: SystemTime,
    opts: &PadesOptions,
    tsa: Option<&crate::tsp::TimestampSource>,
) -> Result<Vec<u8>> {
    let reserve = opts
        .reserve
        .unwrap_or_else(|| estimate_reserve(key, tsa.is_some()));
    let prepared = prepare_pdf(pdf, Some(key.certificate()), now, reserve, opts)?;
    let digest = prepared.digest(key.algorithm().hash());
    let cms = cades::sign_digest_for_pdf(key, &digest, tsa)?;
    prepared.embed(&cms)
}

/// Bytes reserved for a document time-stamp token (its TSA's certificates included).
pub const DOC_TIMESTAMP_RESERVE: usize = 16 * 1024;

/// A document time-stamp (PAdES B-LTA, EN 319 142-1 §5.4.3) over the whole of `pdf`, as an
/// incremental update: the token's imprint is SHA-256 of the byte ranges.
pub fn timestamp_pdf(
    pdf: &[u8],
    now: SystemTime,
    tsa: &crate::tsp::TimestampSource,
) -> Result<Vec<u8>> {
    let opts = PadesOptions {
        doc_timestamp: true,
        ..Default::default()
    };
    let prepared = prepare_pdf(pdf, None, now, DOC_TIMESTAMP_RESERVE, &opts)?;
    let digest = prepared.digest(kyso_hsm::HashAlg::Sha256);
    let token = tsa.stamp(kyso_hsm::HashAlg::Sha256, &digest)?;
    prepared.embed(&token)
}

/// The certificate subject's commonName, if any.
pub fn common_name(cert: &x509_cert::Certificate) -> Option<String> {
    crate::stamp::subject_attribute(cert, const_oid::db::rfc4519::CN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_place_is_what_the_hex_crate_writes() {
        let src: Vec<u8> = (0..=255u8).chain([0, 15, 16, 255]).collect();
        let mut dst = vec![b'0'; 2 * src.len() + 1];
        hex_upper_into(&mut dst[..2 * src.len()], &src);
        assert_eq!(&dst[..2 * src.len()], hex::encode_upper(&src).as_bytes());
        assert_eq!(dst[2 * src.len()], b'0');
    }

    #[test]
    fn pdf_dates_carry_the_offset() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        // 2026-11-18T11:06:40Z (date -u -d @1795000000)
        assert_eq!(pdf_date(t, 0), "D:20261118110640+00'00'");
        assert_eq!(pdf_date(t, 420), "D:20261118180640+07'00'");
    }
}
