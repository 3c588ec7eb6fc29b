//! The PDF/A conformance a document declares: the `pdfaid:part` and `pdfaid:conformance`
//! properties (namespace `http://www.aiim.org/pdfa/ns/id/`; ISO 19005-1 §6.7.11, ISO 19005-2
//! and -3 §6.6.4, ISO 19005-4 §6.7.3) of the XMP metadata stream that the catalog's /Metadata
//! names (ISO 32000-1 §14.3.2), in the newest revision.
//!
//! A declaration is what the document says of itself, not a validation: it is how format
//! registries identify PDF/A (PRONOM's signatures for fmt/95, fmt/354, fmt/476–481 match it),
//! and what an archive can record of a document it does not validate against ISO 19005.
//! A declaration that is not one ISO 19005 defines (a part 1 with conformance U, a part 2 with
//! none), or two that disagree, is no declaration.

use kyso_pdf::{Document, Object};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;

/// The PDF/A identification schema's namespace (ISO 19005-1 §6.7.11).
const PDFAID: &[u8] = b"http://www.aiim.org/pdfa/ns/id/";
/// RDF's namespace.
const RDF: &[u8] = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#";
/// The most metadata read: XMP packets with a thumbnail run to a few hundred KB.
pub(crate) const MAX_XMP: usize = 4 << 20;
/// The deepest element followed (an XMP packet nests five or six).
const MAX_DEPTH: usize = 64;

/// The PRONOM identifiers [`PdfaClaim::pronom`] gives: part, conformance level, identifier.
/// `kyso bag verify` expects a PDF/A document's PREMIS object to give its identifier from this
/// table (archive/src/eark_check.rs): an entry added later would fail packages exported
/// before it that hold such a document beside another PDF/A. Add one only with a way to tell
/// which table a package was written with.
const PRONOM: [(u8, char, &str); 8] = [
    (1, 'a', "fmt/95"),
    (1, 'b', "fmt/354"),
    (2, 'a', "fmt/476"),
    (2, 'b', "fmt/477"),
    (2, 'u', "fmt/478"),
    (3, 'a', "fmt/479"),
    (3, 'b', "fmt/480"),
    (3, 'u', "fmt/481"),
];

/// `key` if it is one of the PRONOM identifiers [`PdfaClaim::pronom`] gives (as a `'static`
/// string), else `None`.
pub fn known_pronom(key: &str) -> Option<&'static str> {
    PRONOM.iter().map(|(_, _, k)| *k).find(|k| *k == key)
}

/// A PDF/A part (1–4) and its conformance level (`a`, `b`, `u`; `e`, `f` or none for part 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfaClaim {
    pub part: u8,
    pub conformance: Option<char>,
}

impl PdfaClaim {
    /// `PDF/A-1b`, `PDF/A-4`, `PDF/A-4f`.
    pub fn label(&self) -> String {
        match self.conformance {
            Some(c) => format!("PDF/A-{}{c}", self.part),
            None => format!("PDF/A-{}", self.part),
        }
    }

    /// The PRONOM identifier (The National Archives' format registry) of this PDF/A, for the
    /// parts and levels it has long held (PDF/A-4's are left out: not checked here).
    pub fn pronom(&self) -> Option<&'static str> {
        let c = self.conformance?;
        PRONOM
            .iter()
            .find(|(part, level, _)| *part == self.part && *level == c)
            .map(|(_, _, key)| *key)
    }

    /// A label as [`PdfaClaim::label`] writes it, read back (`None` for anything else).
    pub fn from_label(s: &str) -> Option<PdfaClaim> {
        let rest = s.strip_prefix("PDF/A-")?;
        let mut chars = rest.chars();
        let part = chars.next()?.to_digit(10)? as u8;
        let conformance = chars.next();
        if chars.next().is_some() {
            return None;
        }
        PdfaClaim::checked(part, conformance)
    }

    fn checked(part: u8, conformance: Option<char>) -> Option<PdfaClaim> {
        let ok = match part {
            1 => matches!(conformance, Some('a' | 'b')),
            2 | 3 => matches!(conformance, Some('a' | 'b' | 'u')),
            4 => matches!(conformance, None | Some('e' | 'f')),
            _ => false,
        };
        ok.then_some(PdfaClaim { part, conformance })
    }
}

/// The PDF/A conformance `pdf` declares, if it declares one (a file that is no PDF, or whose
/// metadata cannot be read, declares none). The newest revision's declaration, as readers take
/// it; when revisions follow the last signature, the revision that signature covers must
/// declare the same: a declaration made or changed where no signature reaches (an update a
/// signature allows, metadata being no content) is the word of whoever appended it, and none.
pub fn declared(pdf: &[u8]) -> Option<PdfaClaim> {
    declared_in(&Document::parse(pdf).ok()?, pdf)
}

/// What an archive keeps of a PDF besides its signatures, read in one parse: the PDF/A it
/// declares ([`declared`]) and the pages it shows (its newest revision's page tree).
pub fn pdf_facts(pdf: &[u8]) -> (Option<PdfaClaim>, Option<u64>) {
    match Document::parse(pdf) {
        Ok(doc) => (
            declared_in(&doc, pdf),
            doc.pages().ok().map(|p| p.len() as u64),
        ),
        Err(_) => (None, None),
    }
}

/// [`declared`] of `pdf`, parsed as `doc`.
fn declared_in(doc: &Document<'_>, pdf: &[u8]) -> Option<PdfaClaim> {
    let newest = in_document(doc)?;
    let (found, _) = crate::pdf::fields::signature_fields(doc);
    let ends = doc.revision_ends();
    let last_signed = found
        .iter()
        .filter_map(|f| crate::pdf::byterange::check(doc, pdf, f, &ends).ok())
        .map(|r| r.end)
        .max();
    match last_signed {
        Some(end) if end < pdf.len() => {
            let signed = Document::parse(&pdf[..end]).ok()?;
            (in_document(&signed)? == newest).then_some(newest)
        }
        _ => Some(newest),
    }
}

/// The declaration of one revision's catalog's XMP metadata.
fn in_document(doc: &Document<'_>) -> Option<PdfaClaim> {
    let catalog = doc.dict(doc.root()).ok()?;
    let Object::Stream(s) = doc.resolve(catalog.get("Metadata")?).ok()? else {
        return None;
    };
    // Inflated no further than a packet may be: a stream inflating to the document's whole
    // budget (64 MiB) cost that much before (an attacker's reading, 2026-12-04).
    let xmp = doc.decode_at_most(&s, MAX_XMP).ok()?;
    if xmp.len() > MAX_XMP {
        return None; // a stream without a filter, as large as it is written
    }
    // What reading it may hold, asked of the work's memory limit first: each namespace
    // declaration holds a binding, about 18 bytes held a byte of the packet — a 4 MiB packet
    // of 280,000 declarations held 80 MB at ingest under a 16 MiB limit, freed before the next
    // check (helper 229).
    kyso_pdf::stop::afford(xmp.len().saturating_mul(XMP_HELD_PER_BYTE)).ok()?;
    in_xmp(&xmp)
}

/// What reading an XMP packet may hold for each of its bytes ([`in_xmp`]).
pub(crate) const XMP_HELD_PER_BYTE: usize = 20;

/// The namespaces a declaration is read in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ns {
    Other,
    Pdfaid,
    Rdf,
    Xmp,
    Pdf,
    /// `adobe:ns:meta/`, the `x:xmpmeta` wrapper's.
    Meta,
    /// The TIFF and PNG schemas (dates the XMP toolkit takes for `xmp:ModifyDate`).
    Tiff,
    Png,
}

/// What an open element is to the declaration.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// `rdf:RDF`.
    Rdf,
    /// An `rdf:Description` directly under `rdf:RDF`, about the document (`rdf:about` absent
    /// or empty): its properties are the packet's.
    Description,
    /// An `x:xmpmeta` (or the older `x:xapmeta`) that is the document element.
    Meta,
    Other,
}

impl Ns {
    /// The namespace a declaration's value names.
    fn of(uri: &[u8]) -> Ns {
        match uri {
            PDFAID => Ns::Pdfaid,
            RDF => Ns::Rdf,
            XMP_NS => Ns::Xmp,
            PDF_NS => Ns::Pdf,
            META_NS => Ns::Meta,
            b"http://ns.adobe.com/tiff/1.0/" => Ns::Tiff,
            b"http://ns.adobe.com/png/1.0/" => Ns::Png,
            _ => Ns::Other,
        }
    }
}

/// The prefix an attribute named `key` declares (`b""` for the default namespace), if it is a
/// namespace declaration.
fn declares(key: &[u8]) -> Option<&[u8]> {
    if key == b"xmlns" {
        Some(b"")
    } else {
        key.strip_prefix(b"xmlns:")
    }
}

/// The namespace bindings in scope: per prefix, the namespace of each of its bindings,
/// innermost last (a stack per prefix in a map, so that reading a packet stays linear in it;
/// quick-xml's `NsReader` searches every binding in scope).
#[derive(Default)]
struct Scopes(HashMap<Vec<u8>, Vec<Ns>>);

impl Scopes {
    fn ns(&self, prefix: &[u8]) -> Ns {
        self.0
            .get(prefix)
            .and_then(|v| v.last())
            .copied()
            .unwrap_or(Ns::Other)
    }

    fn bind(&mut self, prefix: &[u8], ns: Ns) {
        self.0.entry(prefix.to_vec()).or_default().push(ns);
    }

    /// The bindings an element made, ended with it.
    fn close(&mut self, prefixes: Vec<Vec<u8>>) {
        for p in prefixes {
            if let Some(v) = self.0.get_mut(&p) {
                v.pop();
            }
        }
    }
}

/// The declaration an XMP packet makes (ISO 16684-1's serialization, as ISO 19005 reads it):
/// `pdfaid:part` and `pdfaid:conformance` as properties of an `rdf:Description` of the
/// document directly under `rdf:RDF` — child elements of plain text, or attributes (RDF's
/// abbreviated form) — each given once or always the same, the conformance in capitals as
/// ISO 19005 writes it. A packet that does not close every element it opens declares none.
///
/// Namespaces are kept here, not by quick-xml's `NsReader`, and attributes read without its
/// duplicate check: both search linearly (every binding in scope, every attribute before), so
/// one element of 300,000 declarations in a 4 MiB packet would cost ~10^10 steps at ingest.
/// Here each prefix's bindings are a stack in a map: linear in the packet.
pub fn in_xmp(xmp: &[u8]) -> Option<PdfaClaim> {
    let mut r = Reader::from_reader(xmp);
    let mut buf = Vec::new();
    let (mut part, mut conformance): (Option<String>, Option<String>) = (None, None);
    // The bindings in scope; per open element, its role and the prefixes it bound.
    let mut bound = Scopes::default();
    let mut opened: Vec<(Role, Vec<Vec<u8>>)> = Vec::new();
    // The property whose element is open (part or conformance), and its text so far.
    let mut open: Option<(bool, String)> = None;
    let put = |slot: &mut Option<String>, v: &str| -> Option<()> {
        let v = v.trim().to_string();
        match slot {
            Some(old) if *old != v => None,
            _ => {
                *slot = Some(v);
                Some(())
            }
        }
    };
    loop {
        buf.clear();
        let ev = r.read_event_into(&mut buf).ok()?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                if open.is_some() {
                    // The property's element holds another element: no plain value.
                    return None;
                }
                if !empty && opened.len() >= MAX_DEPTH {
                    return None;
                }
                let mut mine = Vec::new();
                let mut attrs = Vec::new();
                for a in e.attributes().with_checks(false) {
                    let a = a.ok()?;
                    match declares(a.key.as_ref()) {
                        Some(p) => {
                            bound.bind(p, Ns::of(a.unescape_value().ok()?.as_bytes()));
                            mine.push(p.to_vec());
                        }
                        None => attrs.push(a),
                    }
                }
                let parent = opened.last().map(|(role, _)| *role);
                let name = e.name();
                let (p, local) = split(name.as_ref()).unwrap_or((b"", name.as_ref()));
                let ns = bound.ns(p);
                let mut role = match (ns, local) {
                    (Ns::Rdf, b"RDF") => Role::Rdf,
                    (Ns::Rdf, b"Description") if parent == Some(Role::Rdf) => Role::Description,
                    _ => Role::Other,
                };
                let mut seen = (false, false);
                let mut declared = Vec::new();
                for a in &attrs {
                    // An unprefixed attribute is in no namespace.
                    let Some((ap, al)) = split(a.key.as_ref()) else {
                        continue;
                    };
                    match (bound.ns(ap), al) {
                        (Ns::Rdf, b"about") if !a.unescape_value().ok()?.is_empty() => {
                            role = Role::Other; // about another resource
                        }
                        (Ns::Pdfaid, b"part" | b"conformance") => {
                            let slot = if al == b"part" {
                                &mut seen.0
                            } else {
                                &mut seen.1
                            };
                            if std::mem::replace(slot, true) {
                                return None; // an attribute twice: not XML
                            }
                            declared.push((al == b"part", a.unescape_value().ok()?));
                        }
                        _ => {}
                    }
                }
                if role == Role::Description {
                    for (is_part, v) in declared {
                        put(if is_part { &mut part } else { &mut conformance }, &v)?;
                    }
                }
                if ns == Ns::Pdfaid && parent == Some(Role::Description) {
                    let which = match local {
                        b"part" => Some(true),
                        b"conformance" => Some(false),
                        _ => None,
                    };
                    if let Some(is_part) = which {
                        if empty {
                            return None;
                        }
                        open = Some((is_part, String::new()));
                    }
                }
                if empty {
                    bound.close(mine);
                } else {
                    opened.push((role, mine));
                }
            }
            Event::Text(t) => {
                if let Some((_, text)) = open.as_mut() {
                    text.push_str(&t.decode().ok()?);
                }
            }
            // An entity in a property's value: not a value PDF/A defines.
            Event::GeneralRef(_) if open.is_some() => return None,
            Event::End(_) => {
                if let Some((is_part, text)) = open.take() {
                    if is_part {
                        put(&mut part, &text)?;
                    } else {
                        put(&mut conformance, &text)?;
                    }
                }
                bound.close(opened.pop()?.1);
            }
            Event::Eof if opened.is_empty() => break,
            Event::Eof => return None,
            _ => {}
        }
    }
    let part: u8 = part?.parse().ok()?;
    let conformance = match conformance.as_deref() {
        None => None,
        Some(c) => {
            let mut cs = c.chars();
            let ch = cs.next()?;
            if cs.next().is_some() || !ch.is_ascii_uppercase() {
                return None;
            }
            Some(ch.to_ascii_lowercase())
        }
    };
    PdfaClaim::checked(part, conformance)
}

/// The XMP basic schema's namespace (ISO 16684-1 §8.4).
const XMP_NS: &[u8] = b"http://ns.adobe.com/xap/1.0/";
/// The Adobe PDF schema's namespace (ISO 32000-1 §14.3.2, its /Info keys in XMP).
const PDF_NS: &[u8] = b"http://ns.adobe.com/pdf/1.3/";
/// The XMP packet wrapper's namespace (ISO 16684-1 §7.3.3).
const META_NS: &[u8] = b"adobe:ns:meta/";

/// A property an update may restate, and what its value may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// `xmp:ModifyDate`, `xmp:MetadataDate`: a date (ISO 8601's characters alone).
    Date,
    /// `pdf:Producer` (and `x:xmptk`): a line of visible text, no backslash (pdf.js reads
    /// octal escapes in XMP text; helper 235).
    Producer,
}

impl Stamp {
    fn of(ns: Ns, local: &[u8]) -> Option<Stamp> {
        match (ns, local) {
            (Ns::Xmp, b"ModifyDate" | b"MetadataDate") => Some(Stamp::Date),
            (Ns::Pdf, b"Producer") => Some(Stamp::Producer),
            _ => None,
        }
    }

    /// May the value `old` be restated as `new` (each as written)? Both values of the
    /// property, and a date restated a whole date and time with a zone (a date restated as
    /// one no reader orders, `9999-99-99T…`, passed; helper 238).
    fn restated(self, old: &[u8], new: &[u8]) -> bool {
        self.holds(old)
            && self.holds(new)
            && (self != Stamp::Date || xmp_date_read(new).is_some_and(|(_, zoned)| zoned))
    }

    /// Is `raw` (as written: no reference is expanded) a value of this property?
    fn holds(self, raw: &[u8]) -> bool {
        let Ok(s) = std::str::from_utf8(raw) else {
            return false;
        };
        match self {
            Stamp::Date => {
                (1..=40).contains(&s.len())
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || b"TZ:+-.".contains(&b))
            }
            Stamp::Producer => {
                visible_line(s)
                    && !s
                        .chars()
                        .any(|c| matches!(c, '<' | '>' | '&' | '"' | '\'' | '\\'))
            }
        }
    }
}

/// What a producer may be rewritten to: [`visible_line`], and none of XML's markup
/// characters or a backslash (/Info's too: a producer written as
/// `xmlns:pdfaid="…" pdfaid:part="1" pdfaid:conformance="B"` is what PRONOM's byte signature
/// of PDF/A-1b looks for; helper 238).
pub fn plain_producer(s: &str) -> bool {
    Stamp::Producer.holds(s.as_bytes())
}

/// One line of visible text, at most 256 characters: what a producer may be rewritten to
/// (no control, invisible or bidirectional character, nor U+FFFE or U+FFFF, which XML
/// refuses: a packet holding one is no packet to expat, and its title went; helper 237).
pub fn visible_line(s: &str) -> bool {
    (1..=256).contains(&s.chars().count())
        && !s
            .chars()
            .any(|c| crate::report::hides(c) || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

/// Does the XMP packet `new` state what `old` states, but for the dates an update sets and
/// the producer that wrote it (`xmp:ModifyDate`, `xmp:MetadataDate`, `pdf:Producer`, and the
/// toolkit `x:xmptk` names)? What a document time-stamp by pyHanko changes under DocMDP P=1,
/// as it changes /Info's /ModDate and /Producer ([`crate::pdf`]'s `dates_only`).
///
/// Judged as written, not as RDF (a comparison of what both packets mean was broken five ways
/// and held 1.5 GB for an 11 KB file: helper 234): both packets read as the same sequence of
/// XML events, byte for byte — the same elements in the same order, the same attributes in the
/// same order, the same text, comments and instructions — except the value of those
/// properties, written as an attribute of, or as the only text of a child element of, an
/// `rdf:Description` of the packet's own `rdf:RDF` (the document element, or the child of an
/// `x:xmpmeta` that is: a description under an `rdf:RDF` nested in a title is the title pdf.js
/// shows; helper 235), each a plain date or a line of visible text without references or
/// escapes, `x:xmptk` of the `x:xmpmeta` that is the document element, and the white space
/// outside it (a packet's padding). Both in UTF-8 and declaring no other encoding, with no
/// document type and one document element. Linear in the packets, each open element's
/// bindings held once.
pub fn xmp_same_but_stamps(old: &[u8], new: &[u8]) -> bool {
    same_but_stamps(old, new).is_some()
}

/// The dates an XMP packet gives the document (`xmp:ModifyDate`, `xmp:MetadataDate` and the
/// toolkit's aliases of the first, `pdf:ModDate`, `tiff:DateTime`, `png:ModificationTime`,
/// wherever they are written), as written, in the packet's order (empty for a date element
/// holding more than text); `None` for a packet [`xmp_same_but_stamps`] does not read.
pub fn xmp_dates(xmp: &[u8]) -> Option<Vec<Vec<u8>>> {
    same_but_stamps(xmp, xmp).map(|(dates, _)| dates)
}

/// An XMP date with a time (ISO 16684-1 §8.2.1.1, a subset of ISO 8601): `YYYY-MM-DD`, then
/// `Thh:mm`, optionally `:ss` and `.s…`, and a zone (`Z`, `±hh:mm` up to 23:59; UTC when none
/// is given, as kyso reads a PDF date without one). `None` for a date without a time
/// ([`xmp_day`] reads those).
pub fn xmp_date(raw: &[u8]) -> Option<time::OffsetDateTime> {
    xmp_date_read(raw).map(|(t, _)| t)
}

/// How the packet's date `xmp` compares with /Info's /ModDate `info`, as Adobe's XMP toolkit
/// compares two dates (XMPUtils::CompareDateTime: in UTC when both give a zone, by their
/// clocks otherwise; a zoneless date compared in UTC once failed honest time-stamps of packets
/// written in local time: helper 239). A packet date without a time (`2026-12-06`, `2026-12`,
/// `2026`) compares by the fields it gives with /ModDate's own (a later day is later, the same
/// day a tie; kept only as written, /ModDate moved across such a day passed: helper 240).
/// `None` when either does not read: a packet date [`xmp_date`] and [`xmp_day`] do not read,
/// or a /ModDate [`pdf_mod_date`] does not.
pub fn packet_newer(xmp: &[u8], info: &[u8]) -> Option<std::cmp::Ordering> {
    let (i, i_zoned) = pdf_mod_date(info)?;
    let clock = |t: time::OffsetDateTime| time::PrimitiveDateTime::new(t.date(), t.time());
    let Some((x, x_zoned)) = xmp_date_read(xmp) else {
        let (y, m, d) = xmp_day(xmp)?;
        let mine = [Some(y), m.map(i32::from), d.map(i32::from)];
        let theirs = [i.year(), i32::from(u8::from(i.month())), i32::from(i.day())];
        return Some(
            mine.iter()
                .zip(theirs)
                .map_while(|(a, b)| a.map(|a| a.cmp(&b)))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal),
        );
    };
    Some(if x_zoned && i_zoned {
        x.cmp(&i)
    } else {
        clock(x).cmp(&clock(i))
    })
}

/// `p`, exactly `len` ASCII digits, as a number.
fn num(p: &str, len: usize) -> Option<u32> {
    (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
        .then(|| p.parse().ok())
        .flatten()
}

/// A packet date without a time: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real day.
pub fn xmp_day(raw: &[u8]) -> Option<(i32, Option<u8>, Option<u8>)> {
    let s = std::str::from_utf8(raw).ok()?;
    let mut parts = s.split('-');
    let year = i32::try_from(num(parts.next()?, 4)?).ok()?;
    let mut next = || -> Option<Option<u8>> {
        match parts.next() {
            None => Some(None),
            Some(p) => Some(Some(u8::try_from(num(p, 2)?).ok()?)),
        }
    };
    let (month, day) = (next()?, next()?);
    if parts.next().is_some() || (month.is_none() && day.is_some()) {
        return None;
    }
    let m = time::Month::try_from(month.unwrap_or(1)).ok()?;
    time::Date::from_calendar_date(year, m, day.unwrap_or(1)).ok()?;
    Some((year, month, day))
}

/// A /ModDate as written ([`kyso_pdf::date::as_written`]), and whether it gave a zone.
pub fn pdf_mod_date(info: &[u8]) -> Option<(time::OffsetDateTime, bool)> {
    let w = kyso_pdf::date::as_written(std::str::from_utf8(info).ok()?)?;
    Some((w.at, w.zoned))
}

/// [`xmp_date`], and whether it gave a zone; `None` for a date without a time.
fn xmp_date_read(raw: &[u8]) -> Option<(time::OffsetDateTime, bool)> {
    use time::{Date, Month, Time, UtcOffset};
    let s = std::str::from_utf8(raw).ok()?;
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut d = date.split('-');
    let year = num(d.next()?, 4)?;
    let month = d.next().map_or(Some(1), |m| num(m, 2))?;
    let day = d.next().map_or(Some(1), |m| num(m, 2))?;
    if d.next().is_some() || (time.is_some() && date.len() != 10) {
        return None;
    }
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let t = time?;
    let (clock, zone) = match t.find(['Z', '+', '-']) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let offset = match zone {
        "" | "Z" => UtcOffset::UTC,
        z => {
            let sign: i8 = if z.starts_with('-') { -1 } else { 1 };
            let (h, m) = z[1..].split_once(':')?;
            let (h, m) = (num(h, 2)?, num(m, 2)?);
            if h > 23 || m > 59 {
                return None; // as the toolkit reads a zone (helper 238)
            }
            UtcOffset::from_hms(
                sign * i8::try_from(h).ok()?,
                sign * i8::try_from(m).ok()?,
                0,
            )
            .ok()?
        }
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (clock, None),
    };
    let mut c = hms.split(':');
    let hour = num(c.next()?, 2)?;
    let minute = num(c.next()?, 2)?;
    let second = c.next().map_or(Some(0), |x| num(x, 2))?;
    if c.next().is_some() || (frac.is_some() && hms.len() != 8) {
        return None;
    }
    let nanos = match frac {
        None => 0,
        Some(f) if (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanos,
    )
    .ok()?;
    Some((date.with_time(time).assume_offset(offset), !zone.is_empty()))
}

/// The dates of each packet ([`xmp_dates`]) when `new` is `old` but for its stamps.
#[allow(clippy::type_complexity)]
fn same_but_stamps(old: &[u8], new: &[u8]) -> Option<(Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    for p in [old, new] {
        // UTF-8, as XMP's packets are read here: another encoding (UTF-7, UTF-16) reads the
        // same bytes as other characters.
        if std::str::from_utf8(p).is_err() || p.contains(&0) {
            return None;
        }
    }
    let (mut a, mut b) = (Reader::from_reader(old), Reader::from_reader(new));
    let mut bound = Scopes::default();
    // Per open element, its role and the prefixes it bound.
    let mut opened: Vec<(Role, Vec<Vec<u8>>)> = Vec::new();
    // The property element just opened, when it is one a stamp is written in; whether the
    // element just opened is a date of the XMP basic schema, wherever it is (what decides
    // which store of metadata Adobe shows is read wherever its toolkit finds it: in a packet
    // under another wrapper, or none; helper 236).
    let mut stamp: Option<Stamp> = None;
    let mut dating = false;
    // The toolkit's aliases of xmp:ModifyDate among them (pdf:ModDate, tiff:DateTime,
    // png:ModificationTime: a packet dated so was no date to kyso; helper 237).
    let is_date = |ns: Ns, local: &[u8]| {
        matches!(
            (ns, local),
            (Ns::Xmp, b"ModifyDate" | b"MetadataDate")
                | (Ns::Pdf, b"ModDate")
                | (Ns::Tiff, b"DateTime")
                | (Ns::Png, b"ModificationTime")
        )
    };
    // Whether the document element was read; the dates of each packet.
    let mut rooted = false;
    let (mut old_dates, mut new_dates) = (Vec::new(), Vec::new());
    // A pair read ahead, to be read again.
    let mut again = None;
    loop {
        let (x, y) = match again.take() {
            Some(pair) => pair,
            None => (a.read_event().ok()?, b.read_event().ok()?),
        };
        let (opening, date_opening) = (stamp.take(), std::mem::take(&mut dating));
        match (&x, &y) {
            (Event::Start(e), Event::Start(f)) | (Event::Empty(e), Event::Empty(f)) => {
                let empty = matches!(x, Event::Empty(_));
                if e.name() != f.name() || (!empty && opened.len() >= MAX_DEPTH) {
                    return None;
                }
                if date_opening {
                    // A date's element holding an element: a date no reader reads alike.
                    old_dates.push(Vec::new());
                    new_dates.push(Vec::new());
                }
                if opened.is_empty() && std::mem::replace(&mut rooted, true) {
                    return None; // a second document element: not XML
                }
                let mut pairs = Vec::new();
                let mut mine = Vec::new();
                let (mut ea, mut fa) = (e.attributes(), f.attributes());
                ea.with_checks(false);
                fa.with_checks(false);
                loop {
                    match (ea.next(), fa.next()) {
                        (None, None) => break,
                        (Some(p), Some(q)) => {
                            let (p, q) = (p.ok()?, q.ok()?);
                            if p.key != q.key {
                                return None;
                            }
                            if let Some(prefix) = declares(p.key.as_ref()) {
                                if p.value != q.value {
                                    return None;
                                }
                                bound.bind(prefix, Ns::of(p.unescape_value().ok()?.as_bytes()));
                                mine.push(prefix.to_vec());
                            } else {
                                pairs.push((p, q));
                            }
                        }
                        _ => return None,
                    }
                }
                let name = e.name();
                let (prefix, local) = split(name.as_ref()).unwrap_or((b"", name.as_ref()));
                let parent = opened.last().map(|(role, _)| *role);
                let role = match (bound.ns(prefix), local) {
                    (Ns::Meta, b"xmpmeta" | b"xapmeta") if parent.is_none() => Role::Meta,
                    (Ns::Rdf, b"RDF") if matches!(parent, None | Some(Role::Meta)) => Role::Rdf,
                    (Ns::Rdf, b"Description") if parent == Some(Role::Rdf) => Role::Description,
                    _ => Role::Other,
                };
                // Attributes read once every binding of the element is known (a declaration
                // may follow its use). The tags, but for the stamps' values, the same bytes:
                // quick-xml reads alike tags that XML parsers refuse (two attributes with no
                // space between them; a packet expat refuses is none to Adobe's toolkit, and
                // its title and PDF/A claim went; helper 237).
                let (mut cut_e, mut cut_f): (Vec<&[u8]>, Vec<&[u8]>) = (Vec::new(), Vec::new());
                for (p, q) in &pairs {
                    let kind = split(p.key.as_ref()).and_then(|(prefix, local)| {
                        match (role, bound.ns(prefix), local) {
                            (Role::Description, ns, local) => Stamp::of(ns, local),
                            (Role::Meta, Ns::Meta, b"xmptk") => Some(Stamp::Producer),
                            _ => None,
                        }
                    });
                    let same = match kind {
                        Some(k) => p.value == q.value || k.restated(&p.value, &q.value),
                        None => p.value == q.value,
                    };
                    if !same {
                        return None;
                    }
                    if kind.is_some() {
                        cut_e.push(&p.value);
                        cut_f.push(&q.value);
                    }
                    let date = split(p.key.as_ref())
                        .is_some_and(|(prefix, local)| is_date(bound.ns(prefix), local));
                    if date {
                        old_dates.push(p.value.to_vec());
                        new_dates.push(q.value.to_vec());
                    }
                }
                if cut(e, &cut_e)? != cut(f, &cut_f)? {
                    return None;
                }
                let date = is_date(bound.ns(prefix), local);
                if empty {
                    if date {
                        // A date element with no value: a date no reader reads.
                        old_dates.push(Vec::new());
                        new_dates.push(Vec::new());
                    }
                    bound.close(mine);
                } else {
                    if parent == Some(Role::Description) {
                        stamp = Stamp::of(bound.ns(prefix), local);
                    }
                    dating = date;
                    opened.push((role, mine));
                }
            }
            // A stamp's element: its only content may change, within what the property holds;
            // a date's, read.
            (Event::Text(s), Event::Text(t)) if opening.is_some() || date_opening => {
                let (s, t) = (s.as_ref(), t.as_ref());
                if s != t && !opening.is_some_and(|k| k.restated(s, t)) {
                    return None;
                }
                let next = (a.read_event().ok()?, b.read_event().ok()?);
                let whole = matches!(next, (Event::End(_), Event::End(_)));
                if s != t && !whole {
                    return None;
                }
                if date_opening {
                    // Anything more in the element makes the date one no reader reads alike.
                    old_dates.push(if whole { s.to_vec() } else { Vec::new() });
                    new_dates.push(if whole { t.to_vec() } else { Vec::new() });
                }
                again = Some(next);
            }
            (Event::Text(s), Event::Text(t)) if s.as_ref() != t.as_ref() => {
                let padding = |t: &[u8]| t.iter().all(|b| b" \t\r\n".contains(b));
                if !(opened.is_empty() && padding(s.as_ref()) && padding(t.as_ref())) {
                    return None;
                }
            }
            (Event::End(e), Event::End(f)) => {
                if e.as_ref() != f.as_ref() {
                    return None;
                }
                if date_opening {
                    old_dates.push(Vec::new());
                    new_dates.push(Vec::new());
                }
                bound.close(opened.pop()?.1);
            }
            (Event::Decl(_), Event::Decl(_)) if x != y => return None,
            (Event::Decl(d), Event::Decl(_)) => {
                if let Some(enc) = d.encoding() {
                    if !enc.ok()?.eq_ignore_ascii_case(b"utf-8") {
                        return None;
                    }
                }
            }
            (Event::DocType(_), _) | (_, Event::DocType(_)) => return None,
            (Event::Eof, Event::Eof) => {
                return opened.is_empty().then_some((old_dates, new_dates));
            }
            // Anything else (text, references, comments, instructions, CDATA) as written; in
            // a date's element, the date is then one no reader reads alike.
            _ if x == y => {
                if date_opening {
                    old_dates.push(Vec::new());
                    new_dates.push(Vec::new());
                }
            }
            _ => return None,
        }
    }
}

/// The bytes of a tag without these values of its attributes (slices of it, in its order);
/// `None` if one is not.
fn cut(tag: &[u8], values: &[&[u8]]) -> Option<Vec<u8>> {
    let base = tag.as_ptr() as usize;
    let mut out = Vec::with_capacity(tag.len());
    let mut at = 0;
    for v in values {
        let start = (v.as_ptr() as usize).checked_sub(base)?;
        let end = start.checked_add(v.len())?;
        if start < at || end > tag.len() {
            return None;
        }
        out.extend_from_slice(&tag[at..start]);
        at = end;
    }
    out.extend_from_slice(&tag[at..]);
    Some(out)
}

/// `prefix:local` split at its colon (`None`: no prefix).
fn split(qname: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = qname.iter().position(|&b| b == b':')?;
    Some((&qname[..i], &qname[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xmp(description: &str) -> Vec<u8> {
        format!(
            "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
             <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
             {description}\n</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
        )
        .into_bytes()
    }

    #[test]
    fn the_element_and_the_attribute_forms_are_read() {
        let el = xmp("<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>");
        assert_eq!(in_xmp(&el).map(|c| c.label()), Some("PDF/A-1b".to_string()));
        let at = xmp("<rdf:Description rdf:about=\"\" xmlns:id=\"http://www.aiim.org/pdfa/ns/id/\" id:part=\"2\" id:conformance=\"U\"/>");
        let c = in_xmp(&at).unwrap();
        assert_eq!(
            (c.label(), c.pronom()),
            ("PDF/A-2u".into(), Some("fmt/478"))
        );
        let four = xmp("<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"4\"/>");
        assert_eq!(in_xmp(&four).map(|c| c.label()), Some("PDF/A-4".into()));
    }

    #[test]
    fn what_is_no_declaration_iso_19005_defines_is_none() {
        for d in [
            // another namespace under the usual prefix
            "<rdf:Description xmlns:pdfaid=\"http://example.org/pdfa/\" pdfaid:part=\"1\" pdfaid:conformance=\"B\"/>",
            // levels a part does not have, parts there are not
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"1\" pdfaid:conformance=\"U\"/>",
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"2\"/>",
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"9\" pdfaid:conformance=\"B\"/>",
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"1\" pdfaid:conformance=\"BB\"/>",
            // two that disagree
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"1\" pdfaid:conformance=\"B\"><pdfaid:part>3</pdfaid:part></rdf:Description>",
            // a value that is an element, not text
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part><rdf:Bag/>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>",
            // not well formed
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>1</pdfaid:conformance>",
            // an attribute twice (not XML), a level in small letters (ISO 19005 writes capitals)
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"1\" pdfaid:part=\"1\" pdfaid:conformance=\"B\"/>",
            "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"1\" pdfaid:conformance=\"b\"/>",
            // about another resource; inside another property's structure
            "<rdf:Description rdf:about=\"urn:other\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"1\" pdfaid:conformance=\"B\"/>",
            "<rdf:Description xmlns:xmpMM=\"http://ns.adobe.com/xap/1.0/mm/\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><xmpMM:DerivedFrom rdf:parseType=\"Resource\"><pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></xmpMM:DerivedFrom></rdf:Description>",
        ] {
            assert_eq!(in_xmp(&xmp(d)), None, "{d}");
        }
        for packet in [
            // outside rdf:RDF; no rdf:RDF at all
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></x:xmpmeta>",
            "<rdf:Description xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"1\" pdfaid:conformance=\"B\"/>",
            // a packet cut short, its elements left open
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"1\" pdfaid:conformance=\"B\"/>",
        ] {
            assert_eq!(in_xmp(packet.as_bytes()), None, "{packet}");
        }
    }

    #[test]
    fn deep_nesting_ends_the_reading() {
        let deep = format!(
            "{}<pdfaid:part xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">1</pdfaid:part>{}",
            "<a>".repeat(100_000),
            "</a>".repeat(100_000)
        );
        assert_eq!(in_xmp(deep.as_bytes()), None);
    }

    #[test]
    fn an_element_of_many_declarations_is_read_in_linear_time() {
        // 4 MiB: 150,000 declarations and as many attributes on one element, the declaration
        // after them (read with NsReader and quick-xml's duplicate check, minutes; here a
        // fraction of a second, debug build).
        let mut d = String::from("<rdf:Description ");
        for i in 0..150_000 {
            d.push_str(&format!("xmlns:n{i}=\"u\" n{i}:a=\"\" "));
        }
        d.push_str("xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" pdfaid:part=\"3\" pdfaid:conformance=\"A\"/>");
        assert_eq!(in_xmp(&xmp(&d)).map(|c| c.label()), Some("PDF/A-3a".into()));
    }

    #[test]
    fn a_binding_ends_with_its_element() {
        let d = "<rdf:Description><x xmlns:p=\"http://www.aiim.org/pdfa/ns/id/\"/><p:part xmlns:p=\"urn:other\">1</p:part><y xmlns:q=\"http://www.aiim.org/pdfa/ns/id/\"></y><q:part>1</q:part></rdf:Description>";
        assert_eq!(in_xmp(&xmp(d)), None);
        let d = "<rdf:Description xmlns=\"http://www.aiim.org/pdfa/ns/id/\"><part>2</part><conformance>B</conformance></rdf:Description>";
        assert_eq!(in_xmp(&xmp(d)).map(|c| c.label()), Some("PDF/A-2b".into()));
    }

    /// The packet pyHanko writes (attributes), and one in the element form.
    const STAMPED: &str = "<rdf:Description xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmp:CreateDate=\"2026-12-01T10:00:00+07:00\" xmp:ModifyDate=\"2026-12-06T19:16:36+00:00\" pdf:Producer=\"pyHanko 0.38.0\" rdf:about=\"\"><dc:title xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><rdf:Alt><rdf:li xml:lang=\"x-default\">Giấy phép xây dựng</rdf:li></rdf:Alt></dc:title></rdf:Description>";
    const ELEMENTS: &str = "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<xmp:ModifyDate>2026-12-01T10:00:00+07:00</xmp:ModifyDate><xmp:MetadataDate>2026-12-01T10:00:00+07:00</xmp:MetadataDate>\n<pdf:Producer>LibreOffice 7.5</pdf:Producer>\n<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Giấy phép xây dựng</rdf:li></rdf:Alt></dc:title>\n<dc:subject><rdf:Bag><rdf:li>a</rdf:li><rdf:li>b</rdf:li></rdf:Bag></dc:subject>\n</rdf:Description>";

    fn same(old: &str, new: &str) -> bool {
        xmp_same_but_stamps(&xmp(old), &xmp(new))
    }

    #[test]
    fn an_update_may_restate_its_dates_and_producer() {
        assert!(same(STAMPED, STAMPED));
        // A value left as it was, whatever it is.
        let odd = STAMPED.replace("pyHanko 0.38.0", "");
        assert!(same(
            &odd,
            &odd.replace("2026-12-06T19:16:36+00:00", "2026-12-07T00:00:00Z")
        ));
        // A date restated as one no reader orders (helper 238).
        for bad in [
            "2026-12-07",
            "9999-99-99T99:99:99+99:99",
            "2026-12-07T10:00:00",
        ] {
            let new = STAMPED.replace("2026-12-06T19:16:36+00:00", bad);
            assert!(!same(STAMPED, &new), "{bad}");
        }
        let later = STAMPED
            .replace("2026-12-06T19:16:36+00:00", "2026-12-06T19:16:37Z")
            .replace("pyHanko 0.38.0", "pyHanko 0.39.0 (Việt)");
        assert!(same(STAMPED, &later));
        let later = ELEMENTS
            .replace(
                "<xmp:ModifyDate>2026-12-01T10:00:00+07:00",
                "<xmp:ModifyDate>2026-12-06T10:00:00.5+07:00",
            )
            .replace(
                "<xmp:MetadataDate>2026-12-01T10:00:00+07:00",
                "<xmp:MetadataDate>2026-12-06T10:00-07:00",
            )
            .replace("LibreOffice 7.5", "kyso");
        assert!(same(ELEMENTS, &later));
        // The packet's padding, outside its root element.
        let padded = |p: &[u8], n: usize| {
            let mut v = p.to_vec();
            let at = v.len() - b"<?xpacket end=\"w\"?>".len();
            v.splice(at..at, std::iter::repeat_n(b' ', n));
            v
        };
        assert!(xmp_same_but_stamps(
            &xmp(ELEMENTS),
            &padded(&xmp(&later), 2000)
        ));
    }

    #[test]
    fn anything_else_an_update_changes_in_the_packet_is_a_change() {
        let both = |old: &str, new: &str| same(old, new) || same(new, old);
        for (what, old, new) in [
            ("the title", STAMPED, STAMPED.replace("xây dựng", "phá dỡ")),
            (
                "a date written otherwise",
                STAMPED,
                STAMPED.replace("2026-12-06T19:16:36+00:00", "6 Dec 2026"),
            ),
            (
                "a date not a stamp",
                STAMPED,
                STAMPED.replace("2026-12-01T10:00:00+07:00", "2026-12-02T10:00:00+07:00"),
            ),
            (
                "a producer with a reference",
                STAMPED,
                STAMPED.replace("pyHanko 0.38.0", "a &amp; b"),
            ),
            (
                "a producer read backwards",
                STAMPED,
                STAMPED.replace("pyHanko 0.38.0", "\u{202e}okhnaHyp"),
            ),
            (
                "attributes reordered",
                STAMPED,
                STAMPED.replace(
                    "pdf:Producer=\"pyHanko 0.38.0\" rdf:about=\"\"",
                    "rdf:about=\"\" pdf:Producer=\"pyHanko 0.38.0\"",
                ),
            ),
            (
                "the prefix bound anew",
                STAMPED,
                STAMPED.replace(
                    "xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"",
                    "xmlns:xmp=\"http://ns.adobe.com/xap/1.0/#\"",
                ),
            ),
            (
                "a list reordered",
                ELEMENTS,
                ELEMENTS.replace(
                    "<rdf:li>a</rdf:li><rdf:li>b</rdf:li>",
                    "<rdf:li>b</rdf:li><rdf:li>a</rdf:li>",
                ),
            ),
            (
                "text beside a child element",
                ELEMENTS,
                ELEMENTS.replace("<rdf:Alt>", "phá dỡ<rdf:Alt>"),
            ),
            (
                "white space in a value",
                ELEMENTS,
                ELEMENTS.replace("<rdf:li>a</rdf:li>", "<rdf:li> a</rdf:li>"),
            ),
            (
                "white space inside the root",
                ELEMENTS,
                ELEMENTS.replace(">\n<pdf:Producer>", ">\n\n<pdf:Producer>"),
            ),
            (
                "a property moved into a structure",
                ELEMENTS,
                ELEMENTS.replace(
                    "<pdf:Producer>LibreOffice 7.5</pdf:Producer>\n<dc:title>",
                    "<dc:title><pdf:Producer>LibreOffice 7.5</pdf:Producer>",
                ),
            ),
            (
                "a stamp given a child",
                ELEMENTS,
                ELEMENTS.replace(
                    "<pdf:Producer>LibreOffice 7.5</pdf:Producer>",
                    "<pdf:Producer>LibreOffice<dc:title>x</dc:title></pdf:Producer>",
                ),
            ),
            (
                "a stamp's value cut by a reference",
                ELEMENTS,
                ELEMENTS.replace(
                    "LibreOffice 7.5</pdf:Producer>",
                    "LibreOffice&#60;</pdf:Producer>",
                ),
            ),
            (
                "a comment added",
                ELEMENTS,
                ELEMENTS.replace("</rdf:Description>", "<!-- x --></rdf:Description>"),
            ),
            (
                "an element's form",
                ELEMENTS,
                ELEMENTS.replace("<rdf:li>a</rdf:li>", "<rdf:li>a</rdf:li ><rdf:li/>"),
            ),
        ] {
            assert!(!both(old, &new), "{what}");
        }
        // A stamp nested in another property's value: a reader may take the value's text.
        let nested = ELEMENTS.replace("<rdf:li xml:lang=\"x-default\">Giấy phép xây dựng</rdf:li>", "<rdf:li xml:lang=\"x-default\"><pdf:Producer>Giấy phép xây dựng</pdf:Producer></rdf:li>");
        assert!(!same(&nested, &nested.replace("xây dựng", "phá dỡ")));
        let nested = STAMPED.replace(
            "<rdf:Alt>",
            "<rdf:Alt><rdf:Description pdf:Producer=\"x\"/>",
        );
        assert!(!same(
            &nested,
            &nested.replace("Producer=\"x\"", "Producer=\"y\"")
        ));
        // ... or in a description of an rdf:RDF nested in the title (in an rdf:li, or as an XML
        // literal): pdf.js shows the title's text (helper 235).
        for title in [
            "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\"><rdf:RDF><rdf:Description><pdf:Producer>Giấy phép</pdf:Producer></rdf:Description></rdf:RDF></rdf:li></rdf:Alt></dc:title>",
            "<dc:title rdf:parseType=\"Literal\"><rdf:RDF><rdf:Description pdf:Producer=\"Giấy phép\"/></rdf:RDF></dc:title>",
        ] {
            let d = ELEMENTS.replace("<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Giấy phép xây dựng</rdf:li></rdf:Alt></dc:title>", title);
            assert!(!same(&d, &d.replace("Giấy phép", "Thu hồi")), "{title}");
        }
        // ... or a producer with escapes pdf.js reads (octal, in its repair of packets).
        assert!(!same(
            STAMPED,
            &STAMPED.replace("pyHanko 0.38.0", "\\376\\377\\000A")
        ));
        // ... or a tag XML refuses that quick-xml reads alike (no space between attributes), or
        // a producer of a character XML refuses (helper 237).
        let tight = STAMPED.replace(
            "pdf:Producer=\"pyHanko 0.38.0\" rdf:about",
            "pdf:Producer=\"pyHanko 0.38.0\"rdf:about",
        );
        assert!(!same(STAMPED, &tight));
        assert!(!same(&tight, STAMPED));
        assert!(!same(
            STAMPED,
            &STAMPED.replace("pyHanko 0.38.0", "pyHanko\u{FFFF}")
        ));
        // ... or a second document element.
        let two = String::from_utf8(xmp(STAMPED)).unwrap().replace(
            "<?xpacket end",
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/><?xpacket end",
        );
        assert!(!xmp_same_but_stamps(two.as_bytes(), two.as_bytes()));
    }

    #[test]
    fn the_toolkit_may_change_and_the_dates_are_read() {
        let old = xmp(STAMPED);
        let toolkit = |p: &[u8], t: &str| {
            String::from_utf8(p.to_vec()).unwrap().replace(
                "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">",
                &format!("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"{t}\">"),
            )
        };
        let (a, b) = (
            toolkit(&old, "pyHanko 0.20.1"),
            toolkit(&old, "pyHanko 0.38.0"),
        );
        assert!(xmp_same_but_stamps(a.as_bytes(), b.as_bytes()));
        assert!(!xmp_same_but_stamps(
            a.as_bytes(),
            toolkit(&old, "a&amp;b").as_bytes()
        ));
        // The dates, attribute and element forms, in order.
        assert_eq!(
            xmp_dates(&xmp(ELEMENTS)),
            Some(vec![b"2026-12-01T10:00:00+07:00".to_vec(); 2])
        );
        assert_eq!(
            xmp_dates(&old),
            Some(vec![b"2026-12-06T19:16:36+00:00".to_vec()])
        );
        // A date element holding more than text: a date no reader reads alike.
        let odd = ELEMENTS.replace(
            "+07:00</xmp:ModifyDate>",
            "+07:00<!-- x --></xmp:ModifyDate>",
        );
        assert_eq!(
            xmp_dates(&xmp(&odd)).map(|d| d[0].clone()),
            Some(Vec::new())
        );
        assert_eq!(xmp_dates(b"<a><b></a>"), None);
    }

    #[test]
    fn the_newer_store_is_judged_as_adobe_compares_dates() {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let newer = |x: &str, i: &str| packet_newer(x.as_bytes(), i.as_bytes());
        for (x, i, want) in [
            (
                "2026-12-01T10:00:01+07:00",
                "D:20261201100000+07'00'",
                Greater,
            ),
            (
                "2026-12-01T10:00:00+07:00",
                "D:20261201100000+07'00'",
                Equal,
            ),
            ("2026-12-01T02:59:59Z", "D:20261201100000+07'00", Less),
            ("2026-12-01T03:00:01Z", "D:202612011000+0700", Greater),
            ("2026-12-01T03:00:00Z", "D:20261201100000+07'", Equal),
            // A zone missing on either side: by the clock.
            ("2026-12-01T12:00:00+05:00", "D:20261201100000", Greater),
            ("2026-12-01T09:30:00", "D:20261201050000-05'00'", Greater),
            ("2026-12-01T09:30:00", "D:20261201100000Z", Less),
        ] {
            assert_eq!(newer(x, i), Some(want), "{x} {i}");
        }
        // A packet date without a time: by the fields it gives, against /ModDate's own (the
        // same day a tie; helper 240).
        for (x, i, want) in [
            ("2026-12-01", "D:20261201235959+07'00'", Equal),
            ("2026-12-02", "D:20261201235959-10'00'", Greater),
            ("2026-11-30", "D:20261201000000Z", Less),
            ("2026-12", "D:20261231100000Z", Equal),
            ("2027", "D:20261231100000Z", Greater),
            ("2025", "D:20260101000000Z", Less),
        ] {
            assert_eq!(newer(x, i), Some(want), "{x} {i}");
        }
        for bad in [
            "2026-02-30",
            "2026--01",
            "2026-1-01",
            "26-12-01",
            "2026-12-01-01",
        ] {
            assert_eq!(xmp_day(bad.as_bytes()), None, "{bad}");
        }
        // Dates not read alike: no order.
        for (x, i) in [
            ("2026-12-01T10:00:00Z", "D:20261201100000+0'7'0'0"),
            ("2026-12-01T10:00:00Z", "D:20261201100000Zjunk"),
            ("2026-12-01T10:00:00Z", "not a date"),
            ("", "D:20261201100000Z"),
        ] {
            assert_eq!(newer(x, i), None, "{x} {i}");
        }
    }

    #[test]
    fn dates_are_read_wherever_the_packet_writes_them() {
        // Under an x:xmpmeta of another namespace, and in a nested description: Adobe's
        // toolkit finds a packet at any depth (helper 236).
        let p = "<x:xmpmeta xmlns:x=\"adobe:ns:meta\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmp:MetadataDate=\"2026-06-01T00:00:00Z\"><xmp:ModifyDate>2026-06-02T00:00:00Z</xmp:ModifyDate></rdf:Description></rdf:RDF></x:xmpmeta>";
        assert_eq!(
            xmp_dates(p.as_bytes()),
            Some(vec![
                b"2026-06-01T00:00:00Z".to_vec(),
                b"2026-06-02T00:00:00Z".to_vec()
            ])
        );
        // ... where they may not change.
        assert!(!xmp_same_but_stamps(
            p.as_bytes(),
            p.replace("06-02", "06-03").as_bytes()
        ));
        // The toolkit's aliases of xmp:ModifyDate (helper 237).
        let aliases = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" xmlns:png=\"http://ns.adobe.com/png/1.0/\" pdf:ModDate=\"1\" tiff:DateTime=\"2\"><png:ModificationTime>3</png:ModificationTime></rdf:Description></rdf:RDF>";
        assert_eq!(
            xmp_dates(aliases.as_bytes()),
            Some(vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()])
        );
    }

    #[test]
    fn xmp_dates_read_as_iso_16684_writes_them() {
        let at = |s: &str| xmp_date(s.as_bytes()).map(|t| t.unix_timestamp_nanos());
        let utc = |s: &str| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp_nanos()
        };
        assert_eq!(
            at("2026-12-06T19:16:36+00:00"),
            Some(utc("2026-12-06T19:16:36Z"))
        );
        assert_eq!(
            at("2026-12-06T19:16:36+07:00"),
            Some(utc("2026-12-06T12:16:36Z"))
        );
        assert_eq!(
            at("2026-12-06T19:16-01:30"),
            Some(utc("2026-12-06T20:46:00Z"))
        );
        assert_eq!(
            at("2026-12-06T19:16:36.25Z"),
            Some(utc("2026-12-06T19:16:36.25Z"))
        );
        assert_eq!(at("2026-12-06T19:16:36"), Some(utc("2026-12-06T19:16:36Z")));
        for bad in [
            // a date without a time: no point in time to compare (the toolkit compares it with
            // a time as neither earlier nor later)
            "2026-12-06",
            "2026-12",
            "2026",
            "",
            "26-12-06",
            "2026-13-01",
            "2026-02-30",
            "2026-12-06T25:00Z",
            "2026-12-06T19",
            "2026-12-06T19:16:36.Z",
            "2026-12-06T19:16:36+0700",
            "2026-12T10:00Z",
            "2026-12-06T19:16:60Z",
            "2026-12-06T19:16:36+07:00:00",
            "+2026-12-06",
            // zones the toolkit does not read (helper 238)
            "2026-12-06T19:16:36+24:00",
            "2026-12-06T19:16:36-25:59",
            "2026-12-06T19:16:36+07:60",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    #[test]
    fn packets_read_otherwise_than_as_utf8_or_not_well_formed_are_changes() {
        let rdf = |p: &str| {
            format!("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">{p}</rdf:RDF></x:xmpmeta>")
        };
        let utf7 = |p: &str| format!("<?xml version=\"1.0\" encoding=\"UTF-7\"?>{}", rdf(p));
        let old = utf7(STAMPED);
        assert!(!xmp_same_but_stamps(
            old.as_bytes(),
            utf7(&STAMPED.replace("pyHanko 0.38.0", "pyHanko +ADw-b+AD4-")).as_bytes()
        ));
        assert!(!xmp_same_but_stamps(old.as_bytes(), old.as_bytes()));
        let utf8 = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{}", rdf(STAMPED));
        assert!(xmp_same_but_stamps(
            utf8.as_bytes(),
            utf8.replace("pyHanko 0.38.0", "x").as_bytes()
        ));
        let doctype = format!("<!DOCTYPE x [<!ENTITY t \"phá dỡ\">]>{}", rdf(STAMPED));
        assert!(!xmp_same_but_stamps(doctype.as_bytes(), doctype.as_bytes()));
        let utf16: Vec<u8> = rdf(STAMPED)
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert!(!xmp_same_but_stamps(&utf16, &utf16));
        let open = rdf(STAMPED).replace("</rdf:Description>", "");
        assert!(!xmp_same_but_stamps(open.as_bytes(), open.as_bytes()));
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert!(!xmp_same_but_stamps(deep.as_bytes(), deep.as_bytes()));
    }

    #[test]
    fn packets_of_many_declarations_are_compared_in_linear_time() {
        let mut d = String::from("<rdf:Description ");
        for i in 0..150_000 {
            d.push_str(&format!("xmlns:n{i}=\"u\" n{i}:a=\"\" "));
        }
        d.push_str("xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" pdf:Producer=\"a\"/>");
        assert!(same(&d, &d.replace("Producer=\"a\"", "Producer=\"b\"")));
    }

    #[test]
    fn labels_read_back() {
        for l in ["PDF/A-1b", "PDF/A-3u", "PDF/A-4", "PDF/A-4f"] {
            assert_eq!(PdfaClaim::from_label(l).map(|c| c.label()), Some(l.into()));
        }
        for l in ["PDF/A-1u", "PDF/A-", "PDF/A-2", "PDF/A-1bb", "PDF-1b"] {
            assert_eq!(PdfaClaim::from_label(l), None, "{l}");
        }
    }
}
