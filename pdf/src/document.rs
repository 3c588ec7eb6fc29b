//! A PDF file as written: its revisions (each ending in `startxref` … `%%EOF`), the
//! cross-reference data of §7.5.4 (tables) and §7.5.8 (streams), and objects by reference,
//! including objects inside object streams (§7.5.7).

use crate::error::{syntax, PdfError, Result};
use crate::object::{Dict, ObjRef, Object, Stream};
use crate::parse::Parser;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Largest decoded stream kyso will inflate (object and xref streams).
pub const MAX_DECODED: usize = 64 << 20;
/// Most revisions followed through /Prev.
pub const MAX_REVISIONS: usize = 10_000;
/// The deepest a page may sit in the page tree (the root's children are at depth 1).
pub const MAX_PAGE_DEPTH: usize = 64;

/// Where an object lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XrefEntry {
    Free,
    /// At a byte offset in the file.
    Offset {
        offset: usize,
        gen: u16,
    },
    /// Inside an object stream (§7.5.7), always generation 0.
    InStream {
        stream: u32,
        index: u32,
    },
}

/// One cross-reference section and its trailer: what one revision added.
#[derive(Debug, Clone)]
pub struct Section {
    /// Byte offset of this section (`xref` keyword or the xref stream object).
    pub offset: usize,
    /// Whether it is a cross-reference stream.
    pub is_stream: bool,
    pub trailer: Dict,
    pub entries: Vec<(u32, XrefEntry)>,
    /// A hybrid-reference file's cross-reference stream (`/XRefStm`, §7.5.8.4) merged into
    /// this section: its offset.
    pub xref_stm: Option<usize>,
    /// The cross-reference streams read for this section (its own, a hybrid file's
    /// `/XRefStm`): each one's object number and generation, and its offset.
    pub xref_streams: Vec<(ObjRef, usize)>,
}

/// The objects of one decoded object stream: (number, object).
type ObjStm = std::sync::Arc<Vec<(u32, Object)>>;

/// Every entry of every section: (object number, section index, entry), sorted by number and
/// section, a section listing a number twice keeping its last. An earlier revision's entry
/// for a number is the first at or after its section index.
type Versions = Arc<Vec<(u32, u32, XrefEntry)>>;

/// A parsed PDF file, or the file as one of its earlier revisions left it
/// ([`Document::earlier`]).
pub struct Document<'a> {
    data: &'a [u8],
    /// Newest first, following /Prev: the whole chain, shared with the earlier revisions' views.
    sections: Arc<Vec<Section>>,
    /// Where this document's chain starts in `sections`: 0 for the file as it is.
    base: usize,
    /// Whether this is the view of an earlier revision: its entries are looked up in
    /// `versions`, not `xref`.
    view: bool,
    /// The merged view: newest entry wins. Only for the file as it is; shared with the views
    /// [`Document::with_entries`] makes.
    xref: Arc<crate::Map<u32, XrefEntry>>,
    /// Entries that replace `xref`'s ([`Document::with_entries`]): a few, over a table that
    /// may hold millions (copying the table for each earlier version a signature's check
    /// compares cost 86 ms a version on a 1,000,000-entry file, 51 s for 510 of them).
    overlay: crate::Map<u32, XrefEntry>,
    /// Every section's entries, for the earlier revisions' views: made the first time one is
    /// asked for.
    versions: std::sync::OnceLock<Versions>,
    /// Object streams read so far, and those that could not be: each is decoded once
    /// whatever the number of references into it (a bomb referenced ten thousand times
    /// must not be inflated ten thousand times).
    objstm_cache: Mutex<HashMap<u32, Result<ObjStm>>>,
    /// Bytes stream decoding may still produce for this file, and the object streams decoded
    /// so far: shared with the views of its earlier revisions.
    shared: Arc<Shared>,
    /// [`Document::xref_streams_read_otherwise`] and [`Document::referenced_numbers`], found
    /// once: every signature asked again, 64 of them 51 s for a 70 KB file (helper 215).
    otherwise: std::sync::OnceLock<Vec<(u32, usize, Option<XrefEntry>)>>,
    referenced: std::sync::OnceLock<Option<crate::Set<u32>>>,
}

/// What a file and the views of its earlier revisions share: a file of many revisions, each
/// reaching a zlib bomb of its own, inflates them within the file's budget, not one budget
/// per revision; and an object stream every revision reaches is decoded once.
struct Shared {
    /// Shared by the file and every earlier revision parsed from it ([`Document::parse_revision`]),
    /// as are `parsed_budget` and `objstms`: each revision with a budget of its own held K
    /// times the file's share of memory — eight signed revisions of an 18 KB file naming one
    /// 5.5-million-element array aborted the process (helper 215, 2026-12-06).
    decode_budget: Arc<std::sync::atomic::AtomicUsize>,
    /// Cross-reference entries the parse may still read, each part paid for before it is
    /// read: twice what the file may hold (a hybrid file's table and stream may both list
    /// every object), so a section claiming more than that is refused before it is indexed.
    entries_left: Arc<std::sync::atomic::AtomicUsize>,
    /// What the earlier revisions parsed from the file may read, together, as many again:
    /// each reads its whole chain anew, and each with a count of its own, 64 signed revisions
    /// of a 4 MB file over one table of a million entries held 4.9 GB (2026-12-06).
    revisions_entries: Arc<std::sync::atomic::AtomicUsize>,
    /// Bytes the objects parsed from object streams (kept, decoded once, for the document's
    /// life) may take ([`parsed_budget`]). An array of 33 million `0 ` inflated within the
    /// decode budget from 64 KB held 1.7 GB as objects (found by an attacker's reading,
    /// 2026-12-06).
    parsed_budget: Arc<std::sync::atomic::AtomicUsize>,
    /// Decoded object streams by where the stream object starts in the file and how many
    /// bytes its data has (two revisions placing one object at one offset, with data of one
    /// length, place the same stream).
    objstms: Arc<ObjStms>,
}

/// Decoded object streams by (offset of the stream object, bytes of its data).
type ObjStms = Mutex<HashMap<(usize, usize), Result<ObjStm>>>;

impl Shared {
    /// Count `n` more objects parsed from an object stream and kept; an error once the
    /// file's share is spent.
    fn charge_parsed(&self, n: usize) -> Result<()> {
        use std::sync::atomic::Ordering;
        let bytes = n.saturating_mul(std::mem::size_of::<Object>());
        self.parsed_budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                Some(left.saturating_sub(bytes))
            })
            .ok()
            .filter(|left| *left >= bytes)
            .map(|_| ())
            .ok_or_else(|| {
                PdfError::Limit(
                    "the document's object streams hold more objects than it could".into(),
                )
            })
    }

    /// Objects that may still be parsed from object streams and kept.
    fn parsed_left(&self) -> usize {
        self.parsed_budget
            .load(std::sync::atomic::Ordering::Relaxed)
            / std::mem::size_of::<Object>()
    }

    /// Count `n` more cross-reference entries read; an error once the file's share is spent.
    fn charge_entries(&self, n: usize) -> Result<()> {
        use std::sync::atomic::Ordering;
        self.entries_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .map(|_| ())
            .map_err(|_| {
                PdfError::Limit(
                    "the file's revisions together hold more cross-reference entries than it could"
                        .into(),
                )
            })
    }
}

/// Most bytes all the decoded streams of one document may add up to: 32 times its size, at
/// least 256 MiB (a compression bomb of a few kilobytes must not exhaust memory).
fn decode_budget(len: usize) -> usize {
    len.saturating_mul(32).max(256 << 20)
}

/// Most bytes the objects parsed from a document's object streams may take: two objects for
/// every byte of the file, at least 64 MiB. Honest files with large structure trees parse
/// up to about 0.64 objects per byte (a 13 MB qpdf file: 8.4 million; a false-failure sweep,
/// 2026-12-06), which the decode budget's 0.67 (at 48 bytes an object) left no room for. The
/// floor was 256 MiB, and a 13 KB file held 552 MB with two signed revisions (helper 215).
fn parsed_budget(len: usize) -> usize {
    len.saturating_mul(2 * std::mem::size_of::<Object>())
        .max(64 << 20)
}

/// About what a hash table of `n` entries takes (its buckets, at most half of them full
/// after growing, and a control byte each): asked of the memory limit before one is made.
fn map_bytes<K, V>(n: usize) -> usize {
    n.saturating_mul(std::mem::size_of::<(K, V)>() + 1)
        .saturating_mul(2)
}

/// Most cross-reference entries a document may have: more than its bytes could hold objects
/// for is a bomb, not a document.
fn max_entries(len: usize) -> usize {
    len / 4 + 100_000
}

impl std::fmt::Debug for Document<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("len", &self.data.len())
            .field("sections", &self.sections.len())
            .field("base", &self.base)
            .finish()
    }
}

/// Find the last `startxref` in `data[..end]` and return the offset it names.
pub fn find_startxref(data: &[u8], end: usize) -> Result<usize> {
    let end = end.min(data.len());
    let from = end.saturating_sub(2048);
    let tail = &data[from..end];
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or(PdfError::NoStartXref)?;
    // The offset after white space alone, as readers take it (Poppler with strtoll, MuPDF
    // after its white space): no comment, no NUL — kyso's lexer skipped a comment there and
    // read an offset where readers read none and rebuilt the table (found by an attacker's
    // reading, 2026-12-02).
    let mut i = from + at + 9;
    while i < end && matches!(data[i], b' ' | b'\t' | b'\r' | b'\n' | 0x0c) {
        i += 1;
    }
    let digits = data[i..end]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let off = std::str::from_utf8(&data[i..i + digits])
        .ok()
        .and_then(|t| t.parse::<usize>().ok())
        .ok_or(PdfError::NoStartXref)?;
    if off >= data.len() {
        return Err(PdfError::BrokenXref {
            offset: off,
            what: "startxref points past the end of the file".into(),
        });
    }
    Ok(off)
}

impl<'a> Document<'a> {
    /// Parse the file's cross-reference chain. Refuses encrypted files, and files whose
    /// cross-reference data is broken (kyso does not guess at a damaged file it is to sign).
    pub fn parse(data: &'a [u8]) -> Result<Document<'a>> {
        Self::parse_sharing(data, None)
    }

    /// The file's first `end` bytes — an earlier revision — parsed as a document of their own
    /// (their own chain and table), within this file's budgets of decoding and of parsed
    /// objects, sharing the object streams it decoded: reading them so costs the file no more
    /// than once (each with budgets of its own: K revisions, K times the memory; helper 215).
    /// Its cross-reference entries are counted with those of the file's other revisions
    /// (each reads its chain again), within as many as the file may hold.
    pub fn parse_revision(&self, end: usize) -> Result<Document<'a>> {
        Self::parse_sharing(&self.data[..end.min(self.data.len())], Some(&self.shared))
    }

    fn parse_sharing(data: &'a [u8], with: Option<&Shared>) -> Result<Document<'a>> {
        let shared = Arc::new(Shared {
            decode_budget: with.map_or_else(
                || {
                    Arc::new(std::sync::atomic::AtomicUsize::new(decode_budget(
                        data.len(),
                    )))
                },
                |s| s.decode_budget.clone(),
            ),
            parsed_budget: with.map_or_else(
                || {
                    Arc::new(std::sync::atomic::AtomicUsize::new(parsed_budget(
                        data.len(),
                    )))
                },
                |s| s.parsed_budget.clone(),
            ),
            entries_left: with.map_or_else(
                || {
                    Arc::new(std::sync::atomic::AtomicUsize::new(
                        max_entries(data.len()).saturating_mul(2),
                    ))
                },
                |s| s.revisions_entries.clone(),
            ),
            revisions_entries: with.map_or_else(
                || {
                    Arc::new(std::sync::atomic::AtomicUsize::new(
                        max_entries(data.len()).saturating_mul(2),
                    ))
                },
                |s| s.revisions_entries.clone(),
            ),
            objstms: with.map_or_else(Default::default, |s| s.objstms.clone()),
        });
        let head = &data[..data.len().min(1024)];
        if !head.windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfError::NotPdf);
        }
        let start = find_startxref(data, data.len())?;
        let mut budget = decode_budget(data.len());
        let mut sections = Vec::new();
        let mut next = Some(start);
        let mut seen = std::collections::HashSet::new();
        while let Some(off) = next {
            if !seen.insert(off) {
                return Err(PdfError::BrokenXref {
                    offset: off,
                    what: "/Prev chain loops".into(),
                });
            }
            if sections.len() >= MAX_REVISIONS {
                return Err(PdfError::Limit("too many revisions".into()));
            }
            crate::stop::check()?;
            let section = read_section(data, off, &mut budget, &|n| shared.charge_entries(n))?;
            // A hybrid file's table trailer points at an xref stream with more entries (§7.5.8.4).
            let stm = direct_int(&section.trailer, "XRefStm", "the trailer").map_err(|e| {
                PdfError::BrokenXref {
                    offset: off,
                    what: e.to_string(),
                }
            })?;
            // /XRefStm is a classic trailer's key (§7.5.8.4): Poppler follows it nowhere else,
            // while kyso and MuPDF did from a stream's dictionary too — a page content listed
            // only there read "100 VND" to them and "900 VND" to Poppler and Ghostscript
            // (found by an attacker's reading, 2026-12-06).
            if stm.is_some() && section.is_stream {
                return Err(PdfError::BrokenXref {
                    offset: off,
                    what: "a cross-reference stream names an /XRefStm, which only a classic trailer may: PDF readers read its entries or do not".into(),
                });
            }
            next = match section.trailer.get("Prev") {
                None => None,
                Some(p) => Some(
                    p.as_int()
                        .and_then(|p| usize::try_from(p).ok())
                        .ok_or_else(|| PdfError::BrokenXref {
                            offset: off,
                            what: "/Prev is not an offset".into(),
                        })?,
                ),
            };
            if let Some(p) = next {
                if p >= data.len() {
                    return Err(PdfError::BrokenXref {
                        offset: off,
                        what: "/Prev points past the end of the file".into(),
                    });
                }
            }
            sections.push(section);
            if let Some(s) = stm {
                let s = usize::try_from(s).map_err(|_| PdfError::BrokenXref {
                    offset: off,
                    what: "/XRefStm is not an offset".into(),
                })?;
                if s >= data.len() || !seen.insert(s) {
                    return Err(PdfError::BrokenXref {
                        offset: off,
                        what: "/XRefStm points past the end of the file or back into the chain"
                            .into(),
                    });
                }
                let mut extra = read_section(data, s, &mut budget, &|n| shared.charge_entries(n))?;
                // It must be a cross-reference stream, naming no /XRefStm of its own: Poppler
                // reads a classic table there too and follows its /XRefStm before the /Prev,
                // which kyso and MuPDF do not (found by the same reading).
                if !extra.is_stream || extra.trailer.get("XRefStm").is_some() {
                    return Err(PdfError::BrokenXref {
                        offset: s,
                        what: "/XRefStm names a classic table, or a stream naming an /XRefStm of its own: PDF readers follow such chains differently".into(),
                    });
                }
                // Entries of the table take precedence over the stream's (§7.5.8.4).
                let last = sections.last_mut().expect("just pushed");
                let listed: crate::Set<u32> = last.entries.iter().map(|(n, _)| *n).collect();
                extra.entries.retain(|(n, _)| !listed.contains(n));
                last.entries.extend(extra.entries);
                last.xref_stm = Some(s);
                last.xref_streams.extend(extra.xref_streams);
            }
        }
        let total: usize = sections.iter().map(|s| s.entries.len()).sum();
        if total > max_entries(data.len()) {
            return Err(PdfError::Limit(format!(
                "{total} cross-reference entries in {} bytes",
                data.len()
            )));
        }
        crate::stop::afford(map_bytes::<u32, XrefEntry>(total))?;
        let mut xref = crate::Map::default();
        xref.reserve(total);
        for s in sections.iter().rev() {
            for (i, (n, e)) in s.entries.iter().enumerate() {
                xref.insert(*n, *e);
                if i % 65_536 == 65_535 {
                    crate::stop::check()?;
                }
            }
        }
        let doc = Document {
            data,
            sections: Arc::new(sections),
            base: 0,
            view: false,
            xref: Arc::new(xref),
            overlay: crate::Map::default(),
            versions: std::sync::OnceLock::new(),
            objstm_cache: Mutex::new(HashMap::new()),
            shared,
            otherwise: Default::default(),
            referenced: Default::default(),
        };
        doc.check_trailer()?;
        // (Once for the file: an earlier revision's bytes are part of them, and its views
        // read the same bytes — scanned again for each, a file of many sections read its
        // whole length once per section.)
        if with.is_none() {
            // An /Encrypt anywhere else — an earlier trailer, a cross-reference stream, any
            // dictionary — is taken by readers that rebuild the table (MuPDF keeps the last one in
            // a dictionary outside an object or in a /Type /XRef object, Poppler the first
            // trailer naming the catalog) or read an earlier trailer (Ghostscript), and they
            // decrypt the document with it: a page planted by the preparer to draw "100 VND" as
            // written and "900 VND" decrypted with an empty password passed as TOTAL-PASSED while
            // MuPDF and Poppler drew 900 once a later update made them rebuild (found by an
            // attacker's reading, 2026-12-06). Any name reading as /Encrypt, wherever it is.
            if let Some(at) = crate::parse::name_anywhere(data, b"Encrypt") {
                return Err(PdfError::Structure(format!(
                    "the file holds an /Encrypt at byte {at}, outside its last trailer: PDF readers that rebuild the cross-reference table, or read an earlier trailer, decrypt the document with it, and show what kyso does not read; kyso signs and validates only unencrypted PDFs"
                )));
            }
        }
        Ok(doc)
    }

    fn check_trailer(&self) -> Result<()> {
        if self.trailer().get("Encrypt").is_some() {
            return Err(PdfError::Encrypted);
        }
        if self
            .trailer()
            .get("Root")
            .and_then(Object::as_ref)
            .is_none()
        {
            return Err(PdfError::Structure("the trailer has no /Root".into()));
        }
        Ok(())
    }

    /// How many entries the sections of this document's chain list, all told.
    fn entries_in_sections(&self) -> usize {
        self.sections().iter().map(|s| s.entries.len()).sum()
    }

    /// Every section's entries, for [`Document::earlier`]: one table of them in place (it
    /// may hold millions), made under the stop.
    fn versions_of_sections(&self) -> Result<Versions> {
        // (The whole chain's, whichever revision this view is.)
        let total: usize = self.sections.iter().map(|s| s.entries.len()).sum();
        crate::stop::afford(total.saturating_mul(std::mem::size_of::<(u32, u32, XrefEntry)>()))?;
        let mut v: Vec<(u32, u32, XrefEntry)> = Vec::with_capacity(total);
        for (i, s) in self.sections.iter().enumerate() {
            for (n, e) in &s.entries {
                v.push((*n, i as u32, *e));
                if v.len() % 65_536 == 0 {
                    crate::stop::check()?;
                }
            }
        }
        // Stable: a number a section lists twice keeps its order, and the last wins (reversed,
        // the last is the first of its run, which dedup keeps).
        v.sort_by_key(|(n, i, _)| (*n, *i));
        v.reverse();
        v.dedup_by_key(|(n, i, _)| (*n, *i));
        v.reverse();
        Ok(Arc::new(v))
    }

    /// The file as the `k`-th section of its cross-reference chain left it (0: as it is; 1:
    /// before its newest update; …): that section and the ones its /Prev chain reaches, over
    /// the same bytes. These are the revisions the file says it has, whatever `%%EOF`
    /// strings its bytes hold. No section is read again, and the view spends this file's
    /// decoding budget and shares the object streams it decoded.
    pub fn earlier(&self, k: usize) -> Result<Document<'a>> {
        let base = self
            .base
            .checked_add(k)
            .filter(|b| *b < self.sections.len())
            .ok_or_else(|| PdfError::Structure(format!("the file has no revision {k} back")))?;
        let versions = match self.versions.get() {
            Some(v) => v.clone(),
            None => {
                let built = self.versions_of_sections()?;
                self.versions.get_or_init(|| built).clone()
            }
        };
        let doc = Document {
            data: self.data,
            sections: self.sections.clone(),
            base,
            view: true,
            xref: Arc::default(),
            overlay: crate::Map::default(),
            versions: std::sync::OnceLock::from(versions),
            objstm_cache: Mutex::new(HashMap::new()),
            shared: self.shared.clone(),
            otherwise: Default::default(),
            referenced: Default::default(),
        };
        doc.check_trailer()?;
        Ok(doc)
    }

    /// This file's table with some entries replaced (`None` if this is an earlier revision's
    /// view): how a reader that rebuilds the table may read it. Only its lookups
    /// ([`Document::entry`], [`Document::get`]) see the replaced entries; its sections and
    /// trailer are this file's. The table is shared, not copied: the view costs what
    /// `changed` holds. It spends this file's decoding budget and shares the object streams
    /// it decoded.
    pub fn with_entries(&self, changed: &[(u32, XrefEntry)]) -> Option<Document<'a>> {
        if self.view {
            return None;
        }
        let mut overlay = self.overlay.clone();
        overlay.extend(changed.iter().copied());
        Some(Document {
            data: self.data,
            sections: self.sections.clone(),
            base: self.base,
            view: false,
            xref: self.xref.clone(),
            overlay,
            versions: std::sync::OnceLock::new(),
            objstm_cache: Mutex::new(HashMap::new()),
            shared: self.shared.clone(),
            otherwise: Default::default(),
            referenced: Default::default(),
        })
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The newest trailer.
    pub fn trailer(&self) -> &Dict {
        &self.sections[self.base].trailer
    }

    /// Cross-reference sections, newest first.
    pub fn sections(&self) -> &[Section] {
        &self.sections[self.base..]
    }

    /// The cross-reference streams that MuPDF reads as other objects than the table does.
    /// MuPDF takes each cross-reference stream it reads — a section's, or a hybrid file's
    /// `/XRefStm` — as the object of its own number in that section, over whatever the
    /// section lists for that number (`pdf_read_new_xref`); kyso and Poppler take the table's
    /// entry. An `/XRefStm` whose number the classic table placed at a blank appearance was
    /// drawn by MuPDF, its data "900 VND" (found by an attacker's reading, 2026-12-06); a
    /// section that leaves its stream's number out makes MuPDF resolve a reference kyso reads
    /// as null. Honest writers list each cross-reference stream at its own offset (some
    /// hybrid files leave it out, unreferenced). Each stream of the chain, newest first, whose
    /// number no newer section lists and whose own section does not place at the stream
    /// itself: its number, its offset, and what the table holds for the number instead
    /// (`None`: nothing, or a free entry — the caller asks whether anything refers to it).
    pub fn xref_streams_read_otherwise(&self) -> &[(u32, usize, Option<XrefEntry>)] {
        self.otherwise
            .get_or_init(|| self.find_xref_streams_read_otherwise())
    }

    fn find_xref_streams_read_otherwise(&self) -> Vec<(u32, usize, Option<XrefEntry>)> {
        let mut out = Vec::new();
        // Numbers the sections newer than the one at hand list: both readers take those.
        let mut newer: crate::Set<u32> = Default::default();
        let header = crate::parse::HeaderFrom::default();
        for s in self.sections() {
            for &(own, at) in &s.xref_streams {
                if newer.contains(&own.num) {
                    continue;
                }
                // No newer section lists it: the table's entry is this section's, or an
                // older one's.
                match self.entry(own.num) {
                    // (White space before a header is read over by every reader.)
                    Some(XrefEntry::Offset { offset, gen })
                        if header.at(self.data, offset) == header.at(self.data, at)
                            && gen == own.gen => {}
                    Some(XrefEntry::Free) | None => out.push((own.num, at, None)),
                    other => out.push((own.num, at, other)),
                }
            }
            if crate::stop::afford(map_bytes::<u32, ()>(newer.len() + s.entries.len())).is_err() {
                return out; // (stopped: what the work returns is no answer)
            }
            newer.extend(s.entries.iter().map(|(n, _)| *n));
        }
        out
    }

    /// The object numbers that the objects the table places, and the trailer, refer to (one
    /// reading of every object, for the rare file that needs the answer). `None` when some
    /// object cannot be read: what it refers to is unknown.
    pub fn referenced_numbers(&self) -> Result<Option<&crate::Set<u32>>> {
        if let Some(r) = self.referenced.get() {
            return Ok(r.as_ref());
        }
        // (A stop is not remembered: the answer is then none.)
        let found = self.find_referenced_numbers()?;
        Ok(self.referenced.get_or_init(|| found).as_ref())
    }

    fn find_referenced_numbers(&self) -> Result<Option<crate::Set<u32>>> {
        let mut out: crate::Set<u32> = Default::default();
        out.extend(self.trailer().0.iter().filter_map(|(_, v)| match v {
            Object::Ref(r) => Some(r.num),
            _ => None,
        }));
        crate::stop::afford(self.entries_in_sections().saturating_mul(16))?;
        let numbers: std::collections::BTreeSet<u32> = self
            .sections()
            .iter()
            .flat_map(|s| s.entries.iter().map(|(n, _)| *n))
            .collect();
        let mut refs = Vec::new();
        for n in numbers {
            crate::stop::check()?;
            let gen = match self.entry(n) {
                Some(XrefEntry::Offset { gen, .. }) => gen,
                Some(XrefEntry::InStream { .. }) => 0,
                _ => continue,
            };
            refs.clear();
            if self.references(ObjRef::new(n, gen), &mut refs).is_err() {
                return Ok(None);
            }
            out.extend(refs.iter().map(|r| r.num));
        }
        Ok(Some(out))
    }

    /// Where the cross-reference data of the chain lies, newest first: each section's offset,
    /// followed by its `/XRefStm` when it has one. A later revision keeps an earlier one's
    /// chain as its own tail (§7.5.6).
    pub fn chain_offsets(&self) -> Vec<usize> {
        self.sections()
            .iter()
            .flat_map(|s| std::iter::once(s.offset).chain(s.xref_stm))
            .collect()
    }

    /// Every object any section of the chain places at a byte offset, with that offset — also
    /// objects a newer section replaced or freed (a signature dictionary hidden by a later
    /// revision is still in the file).
    pub fn all_offsets(&self) -> Vec<(ObjRef, usize)> {
        let each = std::mem::size_of::<(ObjRef, usize)>();
        if crate::stop::afford(self.entries_in_sections().saturating_mul(each)).is_err() {
            return Vec::new(); // (stopped: what the work returns is no answer)
        }
        let mut out: Vec<(ObjRef, usize)> = self
            .sections()
            .iter()
            .flat_map(|s| s.entries.iter())
            .filter_map(|(n, e)| match e {
                XrefEntry::Offset { offset, gen } => Some((ObjRef::new(*n, *gen), *offset)),
                _ => None,
            })
            .collect();
        out.sort_unstable_by_key(|(r, o)| (*o, *r));
        out.dedup();
        out
    }

    /// `/Size` of the newest trailer: the next free object number.
    pub fn size(&self) -> u32 {
        let declared = self
            .trailer()
            .get("Size")
            .and_then(Object::as_int)
            .unwrap_or(0);
        let max = self
            .sections()
            .iter()
            .flat_map(|s| s.entries.iter().map(|(n, _)| n + 1))
            .max()
            .unwrap_or(0) as i64;
        declared.max(max).clamp(0, u32::MAX as i64) as u32
    }

    pub fn entry(&self, num: u32) -> Option<XrefEntry> {
        if !self.view {
            return self
                .overlay
                .get(&num)
                .or_else(|| self.xref.get(&num))
                .copied();
        }
        let v = self.versions.get()?;
        let base = self.base as u32;
        let i = v.partition_point(|(n, s, _)| (*n, *s) < (num, base));
        v.get(i).filter(|(n, _, _)| *n == num).map(|(_, _, e)| *e)
    }

    /// Does the table place object `num` somewhere (in the file or in an object stream),
    /// whether or not kyso can read what is there? Readers read what they find.
    pub fn holds(&self, num: u32) -> bool {
        matches!(
            self.entry(num),
            Some(XrefEntry::Offset { .. } | XrefEntry::InStream { .. })
        )
    }

    /// The catalog reference.
    pub fn root(&self) -> ObjRef {
        self.trailer()
            .get("Root")
            .and_then(Object::as_ref)
            .expect("checked in parse")
    }

    /// Read an object by reference. A reference to a free or missing object is `null` per
    /// §7.3.10, but kyso treats it as an error where it needs the object.
    pub fn get(&self, r: ObjRef) -> Result<Object> {
        self.get_depth(r, 0)
    }

    fn get_depth(&self, r: ObjRef, depth: usize) -> Result<Object> {
        if depth > 8 {
            return Err(PdfError::Structure(format!("reference loop at {r}")));
        }
        crate::stop::check()?;
        match self.entry(r.num) {
            Some(XrefEntry::Offset { offset, gen }) if gen == r.gen => {
                let (got, obj) = self.read_at(offset, depth)?;
                if got != r {
                    return Err(PdfError::BrokenXref {
                        offset,
                        what: format!("expected object {r}, found {got}"),
                    });
                }
                Ok(obj)
            }
            Some(XrefEntry::InStream { stream, index }) => {
                // The entry's index decides, and the object there must be the one asked for.
                // Whatever the reference's generation: Poppler ignores it for objects in object
                // streams ("Adobe apparently ignores" it), MuPDF ignores generations (a flag given
                // as `N 1 R`, N `true` in an object stream, was read by Poppler and not by
                // kyso; found by an attacker's reading, 2026-12-03).
                let objs = self.object_stream(stream, depth)?;
                objs.get(index as usize)
                    .filter(|(n, _)| *n == r.num)
                    .map(|(_, o)| o.clone())
                    .ok_or(PdfError::MissingObject(r.num, r.gen))
            }
            _ => Err(PdfError::MissingObject(r.num, r.gen)),
        }
    }

    /// The references object `r` holds (a stream's: its dictionary's), added to `out`: what
    /// [`Document::get`] reads, without building the object or copying a stream's data. It
    /// fails where `get` fails, except that a stream's data is not looked for and a dictionary
    /// giving a key twice is read on.
    pub fn references(&self, r: ObjRef, out: &mut Vec<ObjRef>) -> Result<()> {
        crate::stop::check()?;
        match self.entry(r.num) {
            Some(XrefEntry::Offset { offset, gen }) if gen == r.gen => {
                if offset >= self.data.len() {
                    return Err(PdfError::BrokenXref {
                        offset,
                        what: "object offset past the end of the file".into(),
                    });
                }
                let mut p = Parser::new(self.data, offset);
                let num = p.uint()?;
                let g = p.uint()?;
                p.keyword(b"obj")?;
                if (num, g) != (u64::from(r.num), u64::from(r.gen)) {
                    return Err(PdfError::BrokenXref {
                        offset,
                        what: format!("expected object {r}, found {num} {g}"),
                    });
                }
                p.references(0, out)
            }
            Some(XrefEntry::InStream { stream, index }) => {
                let objs = self.object_stream(stream, 0)?;
                let (_, o) = objs
                    .get(index as usize)
                    .filter(|(n, _)| *n == r.num)
                    .ok_or(PdfError::MissingObject(r.num, r.gen))?;
                o.references_into(out);
                Ok(())
            }
            _ => Err(PdfError::MissingObject(r.num, r.gen)),
        }
    }

    /// Decode a stream of this document (see [`decode_stream`]), within the document's budget
    /// of decoded bytes.
    /// Every byte inflated is charged, whether the stream then decodes or not (a stream
    /// that inflates past its limit costs its limit's worth of work each time it is tried).
    pub fn decode(&self, s: &Stream) -> Result<Vec<u8>> {
        self.decode_at_most(s, usize::MAX)
    }

    /// [`Document::decode`], inflating no more than `max` bytes: an error past them (charged
    /// what was inflated). For a stream of which only a small one is of use — a document's XMP
    /// metadata — so that a stream inflating to the document's whole budget costs `max`.
    pub fn decode_at_most(&self, s: &Stream, max: usize) -> Result<Vec<u8>> {
        use std::sync::atomic::Ordering;
        let budget = &self.shared.decode_budget;
        let left = budget.load(Ordering::Relaxed);
        let cap = left.min(max);
        let mut produced = 0;
        let out = decode_stream_counted(s, &mut produced, cap, true);
        // Past the cap only by the byte that showed it: a budget spent is left at 0.
        let _ = budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
            Some(b.saturating_sub(produced.min(cap)))
        });
        if produced > cap {
            return Err(PdfError::Limit(if max < left {
                format!("a stream decodes to more than the {max} bytes read of it")
            } else {
                "the document's streams decode to more than it could hold".into()
            }));
        }
        out
    }

    /// Follow a reference one level (direct objects come back as they are).
    pub fn resolve(&self, o: &Object) -> Result<Object> {
        match o {
            Object::Ref(r) => self.get(*r),
            other => Ok(other.clone()),
        }
    }

    /// A dictionary by reference.
    pub fn dict(&self, r: ObjRef) -> Result<Dict> {
        match self.get(r)? {
            Object::Dict(d) => Ok(d),
            Object::Stream(s) => Ok(s.dict),
            _ => Err(PdfError::Structure(format!(
                "object {r} is not a dictionary"
            ))),
        }
    }

    /// Parse `num gen obj … endobj` at an offset.
    pub fn read_at(&self, offset: usize, depth: usize) -> Result<(ObjRef, Object)> {
        read_indirect(self.data, offset, &|r| {
            self.get_depth(r, depth + 1).ok().and_then(|o| o.as_int())
        })
    }

    fn object_stream(&self, num: u32, depth: usize) -> Result<ObjStm> {
        if let Some(v) = self
            .objstm_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&num)
        {
            return v.clone();
        }
        // Finding the stream depends on the depth it is reached at (a reference chain too
        // long from here may be fine from elsewhere): not remembered. What it decodes to does
        // not: remembered, success or failure.
        let obj = self.get_depth(ObjRef::new(num, 0), depth + 1)?;
        let Object::Stream(s) = obj else {
            return Err(PdfError::Structure(format!(
                "object stream {num} is not a stream"
            )));
        };
        // Decoded already by this file's other revisions?
        let key = match self.entry(num) {
            Some(XrefEntry::Offset { offset, .. }) => Some((offset, s.data.len())),
            _ => None,
        };
        let known = key.and_then(|k| {
            self.shared
                .objstms
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&k)
                .cloned()
        });
        let read = match known {
            Some(r) => r,
            None => {
                let r = self.read_object_stream(num, &s);
                if let Some(k) = key {
                    self.shared
                        .objstms
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(k, r.clone());
                }
                r
            }
        };
        self.objstm_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(num, read.clone());
        read
    }

    fn read_object_stream(&self, num: u32, s: &Stream) -> Result<ObjStm> {
        let what = format!("object stream {num}");
        let n = direct_int(&s.dict, "N", &what)?.unwrap_or(0).max(0) as usize;
        let first = direct_int(&s.dict, "First", &what)?.unwrap_or(0).max(0) as usize;
        let data = self.decode(s)?;
        // Each entry takes at least four bytes (`1 0 `): /N cannot promise more objects than the
        // decoded data can hold, whatever it says.
        if n > 1_000_000 || n > data.len() / 4 + 1 || first > data.len() {
            return Err(PdfError::Structure(format!(
                "object stream {num} has bad /N or /First"
            )));
        }
        let mut p = Parser::new(&data, 0);
        let mut heads = Vec::with_capacity(n);
        for _ in 0..n {
            // Poppler takes object numbers as C ints and drops the whole stream at one past
            // 2³¹ − 1: a page kyso and MuPDF read from it was null to Poppler, which showed the
            // next page in its place (found by an attacker's reading, 2026-12-03).
            let on = u32::try_from(p.uint()?)
                .ok()
                .filter(|n| *n <= i32::MAX as u32)
                .ok_or_else(|| {
                    PdfError::Structure(format!(
                        "object stream {num}: an object number past 2^31 - 1, which Poppler cannot read (it drops the whole stream)"
                    ))
                })?;
            let off = usize::try_from(p.uint()?).map_err(|_| {
                PdfError::Structure(format!("object stream {num}: offset out of range"))
            })?;
            heads.push((on, off));
        }
        // Poppler reads the index within the first /First bytes only: an index running past
        // them is an object stream it cannot load (its members null), where kyso and MuPDF
        // read them (a page's height read 300 to kyso, and Poppler fell back to the default
        // page and its hidden content; found by an attacker's reading, 2026-12-03).
        if p.pos > first {
            return Err(PdfError::Structure(format!(
                "object stream {num}'s index runs past its /First"
            )));
        }
        // Poppler reads the first object from /First, whatever its offset says, and each next
        // one after it: an offset of 200 for the first put a decoy where Poppler read, and the
        // page kyso and MuPDF read 200 bytes on (found by an attacker's reading, 2026-12-03).
        if heads.first().is_some_and(|(_, off)| *off != 0) {
            return Err(PdfError::Structure(format!(
                "object stream {num}'s first object is not at its /First: PDF readers read it at different places"
            )));
        }
        // Poppler reads no object of a stream whose offsets decrease (MuPDF reads them all):
        // such a stream is unreadable here too (found by an attacker's reading, 2026-12-03).
        if heads.windows(2).any(|w| w[1].1 < w[0].1) {
            return Err(PdfError::Structure(format!(
                "object stream {num} lists its objects' offsets out of order"
            )));
        }
        let mut numbers = crate::Set::with_capacity_and_hasher(n, Default::default());
        if heads.iter().any(|(on, _)| !numbers.insert(*on)) {
            return Err(PdfError::Structure(format!(
                "object stream {num} holds one object number twice"
            )));
        }
        // Each object is read within its own bytes: from its offset to the next object's (a
        // thousand entries pointing at one 60 MB run of white space must not each read it), and
        // no two objects may share an offset (§7.5.7: each is written once, in its own place).
        let start = |off: usize| first.saturating_add(off).min(data.len());
        let mut starts: Vec<usize> = heads.iter().map(|(_, off)| start(*off)).collect();
        starts.sort_unstable();
        if starts.windows(2).any(|w| w[0] == w[1]) {
            return Err(PdfError::Structure(format!(
                "object stream {num} places two objects at one offset"
            )));
        }
        let mut objs = Vec::with_capacity(n);
        for (on, off) in heads {
            crate::stop::check()?;
            let at = start(off);
            let end = starts
                .get(starts.partition_point(|s| *s <= at))
                .copied()
                .unwrap_or(data.len());
            let mut q = Parser::new(&data[..end], at);
            q.max_built = self
                .shared
                .parsed_left()
                .min(crate::parse::MAX_OBJECT_PARTS);
            objs.push((on, q.object(0)?));
            self.shared.charge_parsed(q.built)?;
        }
        Ok(std::sync::Arc::new(objs))
    }

    /// The DocMDP permission the document is certified with, if any (§12.8.2.2): 1 no
    /// changes, 2 form filling and signing, 3 also annotations. `/P` defaults to 2.
    pub fn docmdp_permission(&self) -> Result<Option<i64>> {
        let root = self.dict(self.root())?;
        let perms = match root.get("Perms") {
            Some(o) => self.resolve(o)?,
            None => return Ok(None),
        };
        let Some(sig) = perms.as_dict().and_then(|d| d.get("DocMDP")).cloned() else {
            return Ok(None);
        };
        let sig = self.resolve(&sig)?;
        let refs = sig
            .as_dict()
            .and_then(|d| d.get("Reference"))
            .cloned()
            .unwrap_or(Object::Null);
        let refs = self.resolve(&refs)?;
        for r in refs.as_array().unwrap_or(&[]) {
            let r = self.resolve(r)?;
            let Some(d) = r.as_dict() else { continue };
            if d.get("TransformMethod")
                .is_some_and(|m| m.is_name("DocMDP"))
            {
                return Ok(Some(self.docmdp_level(d.get("TransformParams"))));
            }
        }
        Ok(Some(2))
    }

    /// The permission `/P` of a DocMDP transform's parameters (§12.8.2.2, Table 254): 2 when
    /// there are no parameters or no /P; 1, the strictest, for anything but 1, 2 or 3 — out of
    /// range, not a number, unreadable. Indirect values are resolved. The signer (what it may
    /// add) and the verifier (what it allows) read it here, so they never disagree.
    pub fn docmdp_level(&self, params: Option<&Object>) -> i64 {
        let Some(params) = params else { return 2 };
        let Ok(params) = self.resolve(params) else {
            return 1;
        };
        let Some(p) = params.as_dict().and_then(|d| d.get("P")) else {
            return if params.as_dict().is_some() { 2 } else { 1 };
        };
        self.resolve(p)
            .ok()
            .as_ref()
            .and_then(Object::as_int)
            .filter(|p| (1..=3).contains(p))
            .unwrap_or(1)
    }

    /// The permission a signature's field lock sets for every revision after the signature:
    /// the /P of its FieldMDP transform's parameters (in the signature dictionary `sig`'s
    /// /Reference) or of its field's /Lock (ISO 32000-2 §12.7.5.5, Table 236: Acrobat's "lock
    /// document after signing", pyHanko's `doc_mdp_update_value`), the lower of the two, read
    /// as [`Document::docmdp_level`] reads a certification's. None where neither has a /P.
    pub fn lock_level(&self, sig: &Dict, field: Option<&Dict>) -> Option<i64> {
        let level = |params: Option<&Object>| {
            let params = self.resolve(params?).ok()?;
            let has_p = params.as_dict()?.get("P").is_some();
            has_p.then(|| self.docmdp_level(Some(&params)))
        };
        let reference = sig
            .get("Reference")
            .and_then(|r| self.resolve(r).ok())
            .and_then(|refs| {
                refs.as_array()?
                    .iter()
                    .take(64)
                    .filter_map(|r| self.resolve(r).ok())
                    .filter_map(|r| r.as_dict().cloned())
                    .find(|d| {
                        d.get("TransformMethod")
                            .is_some_and(|m| m.is_name("FieldMDP"))
                    })
            });
        let from_reference = reference.and_then(|d| level(d.get("TransformParams")));
        let from_field = field.and_then(|f| level(f.get("Lock")));
        from_reference.into_iter().chain(from_field).min()
    }

    /// Byte offsets just past each `%%EOF` marker (and its end of line): where revisions end.
    pub fn revision_ends(&self) -> Vec<usize> {
        let d = self.data;
        let mut out = Vec::new();
        for p in memchr::memmem::find_iter(d, b"%%EOF") {
            let mut e = p + 5;
            if d.get(e) == Some(&b'\r') {
                e += 1;
            }
            if d.get(e) == Some(&b'\n') {
                e += 1;
            }
            out.push(e);
        }
        out
    }

    /// A page attribute, from the page or inherited from its ancestors in the page tree
    /// (§7.7.3.4: Resources, MediaBox, CropBox, Rotate), resolved.
    pub fn inherited(&self, page: ObjRef, key: &str) -> Result<Option<Object>> {
        let mut cur = Some(page);
        // The page and as many ancestors as `pages` lets a page have (65 levels), and never
        // an answer from fewer: a page 64 levels down had the root's /Rotate and /CropBox
        // read as absent, and its stamps drawn sideways and cut off (helper 172).
        for _ in 0..=MAX_PAGE_DEPTH + 1 {
            let Some(r) = cur else { return Ok(None) };
            let d = self.dict(r)?;
            if let Some(v) = d.get(key) {
                return Ok(Some(self.resolve(v)?));
            }
            cur = d.get("Parent").and_then(Object::as_ref);
        }
        Err(PdfError::Structure(
            "the page tree loops or is too deep".into(),
        ))
    }

    /// The page objects in order (§7.7.3), walking the page tree.
    pub fn pages(&self) -> Result<Vec<ObjRef>> {
        let root = self.dict(self.root())?;
        let top = root
            .get("Pages")
            .and_then(Object::as_ref)
            .ok_or_else(|| PdfError::Structure("the catalog has no /Pages".into()))?;
        let mut out = Vec::new();
        let mut stack = vec![(top, 0usize)];
        let mut seen = std::collections::HashSet::new();
        while let Some((r, depth)) = stack.pop() {
            if depth > MAX_PAGE_DEPTH || !seen.insert(r) || out.len() > 1_000_000 {
                return Err(PdfError::Structure(
                    "the page tree loops or is too deep".into(),
                ));
            }
            let d = self.dict(r)?;
            // An intermediate node is one with /Kids (viewers follow them whatever /Type says,
            // or omits); a leaf is what says /Type /Page. Anything else is not a page tree a
            // verifier can vouch for.
            match (d.get("Kids"), d.type_name()) {
                (Some(kids), t) if t != Some(b"Page") => {
                    let kids = self.resolve(kids)?;
                    let kids = kids.as_array().ok_or_else(|| {
                        PdfError::Structure(format!(
                            "the /Kids of page tree node {r} is not an array"
                        ))
                    })?;
                    for k in kids.iter().rev() {
                        let kr = k.as_ref().ok_or_else(|| {
                            PdfError::Structure(format!(
                                "page tree node {r} has a kid that is not a reference"
                            ))
                        })?;
                        stack.push((kr, depth + 1));
                    }
                }
                (None, Some(b"Page")) => out.push(r),
                _ => {
                    return Err(PdfError::Structure(format!(
                        "page tree node {r} is neither /Type /Page nor a node with /Kids"
                    )))
                }
            }
        }
        if out.is_empty() {
            return Err(PdfError::Structure("the document has no pages".into()));
        }
        Ok(out)
    }
}

/// Parse an indirect object at `offset`; `length_of` resolves an indirect stream /Length.
pub fn read_indirect(
    data: &[u8],
    offset: usize,
    length_of: &dyn Fn(ObjRef) -> Option<i64>,
) -> Result<(ObjRef, Object)> {
    read_indirect_to(data, offset, length_of).map(|(r, o, _)| (r, o))
}

/// [`read_indirect`], and where what it read ends (after the object, or its stream's data).
pub fn read_indirect_to(
    data: &[u8],
    offset: usize,
    length_of: &dyn Fn(ObjRef) -> Option<i64>,
) -> Result<(ObjRef, Object, usize)> {
    if offset >= data.len() {
        return Err(PdfError::BrokenXref {
            offset,
            what: "object offset past the end of the file".into(),
        });
    }
    let mut p = Parser::new(data, offset);
    p.max_built = crate::parse::MAX_OBJECT_PARTS;
    let num = p.uint().map_err(|_| PdfError::BrokenXref {
        offset,
        what: "no object at this offset".into(),
    })?;
    let gen = p.uint()?;
    p.keyword(b"obj")?;
    let r = ObjRef::new(
        u32::try_from(num).map_err(|_| syntax(offset, "object number out of range"))?,
        u16::try_from(gen).map_err(|_| syntax(offset, "generation out of range"))?,
    );
    let obj = p.object(0)?;
    if let Object::Dict(d) = &obj {
        if let Some(start) = p.stream_start()? {
            let declared = match d.get("Length") {
                Some(Object::Int(n)) => Some(*n),
                Some(Object::Ref(lr)) => length_of(*lr),
                _ => None,
            };
            let end = declared
                .filter(|&n| n >= 0)
                .map(|n| start.saturating_add(n as usize))
                .filter(|&e| e <= data.len() && ends_with_endstream(data, e));
            let end = match end {
                Some(e) => e,
                None => {
                    // A wrong /Length: take the data up to `endstream`, as readers do.
                    let rel = memchr::memmem::find(&data[start..], b"endstream")
                        .ok_or_else(|| syntax(start, "stream without endstream"))?;
                    let mut e = start + rel;
                    if e > start && data[e - 1] == b'\n' {
                        e -= 1;
                        if e > start && data[e - 1] == b'\r' {
                            e -= 1;
                        }
                    } else if e > start && data[e - 1] == b'\r' {
                        e -= 1;
                    }
                    e
                }
            };
            return Ok((
                r,
                Object::Stream(Box::new(Stream {
                    dict: d.clone(),
                    data: data[start..end].to_vec(),
                })),
                end,
            ));
        }
    }
    Ok((r, obj, p.pos))
}

/// White space as writers put it between the parts of a file's structure: no comment, no NUL.
fn plain_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0c)
}

fn skip_plain_space(data: &[u8], mut at: usize) -> usize {
    while at < data.len() && plain_space(data[at]) {
        at += 1;
    }
    at
}

/// `at` past a run of ASCII digits (at least one), or `None`.
fn digits(data: &[u8], at: usize) -> Option<usize> {
    let n = data[at.min(data.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    (n > 0).then_some(at + n)
}

/// Where an indirect object lies, read strictly as writers write one (ISO 32000-1 §7.3.10,
/// §7.3.8): its header `N G obj` (digits and plain white space only), the object, a stream's
/// data of exactly its /Length (direct, or resolved by `length_of`) followed by `endstream`,
/// then `endobj`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extent {
    pub obj: ObjRef,
    /// From the header's first digit to just past `endobj`.
    pub whole: std::ops::Range<usize>,
    /// A stream's data.
    pub data: Option<std::ops::Range<usize>>,
}

/// The [`Extent`] of the object at `offset`, or why it is not one read strictly. Readers
/// that find something else at an offset a cross-reference section lists rebuild the table
/// from what they scan (Poppler did for an /Info entry naming another object's header; found
/// by an attacker's reading, 2026-12-02).
pub fn object_extent(
    data: &[u8],
    offset: usize,
    length_of: &dyn Fn(ObjRef) -> Option<i64>,
) -> std::result::Result<Extent, String> {
    let num_end = digits(data, offset).ok_or("no object number")?;
    let gen_at = skip_plain_space(data, num_end);
    let gen_end = digits(data, gen_at)
        .filter(|_| gen_at > num_end)
        .ok_or("no generation number")?;
    let keyword = skip_plain_space(data, gen_end);
    if keyword == gen_end || !data[keyword..].starts_with(b"obj") {
        return Err("no `obj` keyword".into());
    }
    let number = |r: std::ops::Range<usize>| {
        std::str::from_utf8(&data[r])
            .ok()
            .and_then(|t| t.parse::<u64>().ok())
    };
    let obj = match (number(offset..num_end), number(gen_at..gen_end)) {
        (Some(n), Some(g)) => ObjRef::new(
            u32::try_from(n).map_err(|_| "object number out of range")?,
            u16::try_from(g).map_err(|_| "generation out of range")?,
        ),
        _ => return Err("unreadable numbers".into()),
    };
    let after_keyword = keyword + 3;
    if data
        .get(after_keyword)
        .is_some_and(|&c| !crate::parse::is_ws(c) && !crate::parse::is_delim(c))
    {
        return Err("no `obj` keyword".into());
    }
    let mut p = Parser::new(data, after_keyword);
    let o = p.object(0).map_err(|e| e.to_string())?;
    let mut at = p.pos;
    let mut stream = None;
    if let Object::Dict(d) = &o {
        if let Some(start) = p.stream_start().map_err(|e| e.to_string())? {
            let declared = match d.get("Length") {
                Some(Object::Int(n)) => Some(*n),
                Some(Object::Ref(lr)) => length_of(*lr),
                _ => None,
            }
            .ok_or("a stream without a /Length")?;
            let end = usize::try_from(declared)
                .ok()
                .and_then(|n| start.checked_add(n))
                .filter(|&e| e <= data.len())
                .ok_or("a /Length past the end of the file")?;
            let e = skip_plain_space(data, end);
            if !data[e..].starts_with(b"endstream") {
                return Err("a stream whose /Length does not end at `endstream`".into());
            }
            if !endstream_ends_data(d, data, e) {
                return Err("`endstream` not at the start of a line".into());
            }
            // `endstream` a word of its own: MuPDF reads `endstreamendobj` as another token
            // and reads on to the next `endstream` (helper 205).
            at = e + b"endstream".len();
            if data
                .get(at)
                .is_some_and(|&c| !crate::parse::is_ws(c) && !crate::parse::is_delim(c))
            {
                return Err("`endstream` run into what follows it".into());
            }
            stream = Some(start..end);
        }
    }
    let e = skip_plain_space(data, at);
    if !data[e..].starts_with(b"endobj") {
        return Err("no `endobj`".into());
    }
    Ok(Extent {
        obj,
        whole: offset..e + b"endobj".len(),
        data: stream,
    })
}

/// Whether the `endstream` at `e` ends a stream's data for every reader: it begins a line, or
/// the stream is filtered (its decoder ends where its data does, whatever follows —
/// Ghostscript writes compressed data run into `endstream`; helper 207). Run into the data
/// (`…ETendstream`), MuPDF and Poppler's rebuild read on to the next `endstream`, and
/// Poppler's rebuild, reading lines in 255-byte pieces, records one only whole in a piece on a
/// line not begun by a digit: each drew a later object's operators (helpers 205, 208).
pub fn endstream_ends_data(dict: &Dict, data: &[u8], e: usize) -> bool {
    let filtered = match dict.get("Filter") {
        Some(Object::Name(_)) => true,
        Some(Object::Array(a)) => !a.is_empty(),
        _ => false,
    };
    filtered || (e > 0 && matches!(data.get(e - 1), Some(b'\n' | b'\r')))
}

/// Where a classic cross-reference section at `offset` and its trailer end, read strictly as
/// readers read one (ISO 32000-1 §7.5.4): `xref`, subsection headers `first count` each on a
/// line of its own, entries of exactly 20 bytes (`nnnnnnnnnn ggggg n` and a two-byte end of
/// line) — MuPDF reads entries as 20-byte records and rebuilt the table from the object
/// headers it scanned when one was shorter (found by an attacker's reading, 2026-12-02) —
/// then, over white space, `trailer` and its dictionary.
pub fn classic_section_end(data: &[u8], offset: usize) -> std::result::Result<usize, String> {
    if !data[offset.min(data.len())..].starts_with(b"xref") {
        return Err("no `xref` keyword".into());
    }
    let line_end = |mut at: usize| -> Option<usize> {
        while data.get(at).is_some_and(|&c| c == b' ' || c == b'\t') {
            at += 1;
        }
        match (data.get(at), data.get(at + 1)) {
            (Some(b'\r'), Some(b'\n')) => Some(at + 2),
            (Some(b'\r' | b'\n'), _) => Some(at + 1),
            _ => None,
        }
    };
    let mut at = line_end(offset + 4).ok_or("`xref` is not on a line of its own")?;
    loop {
        // White space before `trailer` (MuPDF writes a blank line there): readers look for
        // the keyword as a token. Not before a subsection header: MuPDF reads one only when a
        // digit comes next, and otherwise expects `trailer`.
        let t = skip_plain_space(data, at);
        if data[t..].starts_with(b"trailer") {
            at = t;
            break;
        }
        let first_end = digits(data, at).ok_or("a subsection without a header")?;
        if data.get(first_end) != Some(&b' ') {
            return Err("a subsection header that is not `first count`".into());
        }
        let count_end = digits(data, first_end + 1).ok_or("a subsection header without a count")?;
        let count: usize = std::str::from_utf8(&data[first_end + 1..count_end])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or("an unreadable subsection count")?;
        at = line_end(count_end).ok_or("a subsection header not on a line of its own")?;
        for _ in 0..count {
            let e = data
                .get(at..at + 20)
                .ok_or("the file ends inside a section")?;
            let form = e[..10].iter().all(u8::is_ascii_digit)
                && e[10] == b' '
                && e[11..16].iter().all(u8::is_ascii_digit)
                && e[16] == b' '
                && matches!(e[17], b'n' | b'f')
                && matches!(&e[18..20], b" \r" | b" \n" | b"\r\n");
            if !form {
                return Err(format!(
                    "an entry at byte {at} is not of 20 bytes as §7.5.4 writes them"
                ));
            }
            at += 20;
        }
    }
    let mut p = Parser::new(data, at + b"trailer".len());
    match p.object(0).map_err(|e| e.to_string())? {
        Object::Dict(_) => Ok(p.pos),
        _ => Err("a trailer that is not a dictionary".into()),
    }
}

/// Where a revision's end, `startxref`, its offset and `%%EOF` (plain white space between),
/// starting at `at`, ends; `None` when that is not what is there.
pub fn revision_end_marker(data: &[u8], at: usize) -> Option<usize> {
    let s = skip_plain_space(data, at);
    if !data[s..].starts_with(b"startxref") {
        return None;
    }
    let d = skip_plain_space(data, s + 9);
    let e = skip_plain_space(data, digits(data, d).filter(|_| d > s + 9)?);
    data[e..].starts_with(b"%%EOF").then_some(e + 5)
}

fn ends_with_endstream(data: &[u8], end: usize) -> bool {
    let mut p = Parser::new(data, end);
    p.skip_ws();
    data[p.pos..].starts_with(b"endstream")
}

/// Decode a stream's data: no filter or FlateDecode (with PNG predictors), as cross-reference
/// and object streams use. Other filters are not needed for the file structure. An incomplete
/// last predictor row is dropped: a cross-reference stream reads whole entries only, and one
/// the row would have completed is missing (the section is refused).
pub fn decode_stream(s: &Stream) -> Result<Vec<u8>> {
    decode_stream_counted(s, &mut 0, usize::MAX, false)
}

/// A reader that ends (with an error) once the work on this thread is stopped: an inflate of
/// 64 MiB is checked at every read, not only when it is done.
struct Stoppable<R>(R);

impl<R: std::io::Read> std::io::Read for Stoppable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if crate::stop::stopped() {
            return Err(std::io::Error::other("stopped"));
        }
        self.0.read(buf)
    }
}

/// A number of the file's structure: absent (or null), or an integer written directly.
/// Readers resolve a reference (MuPDF rounds a real) where kyso would take a default: an
/// object stream's /First given as `11 0 R`, that object rewritten after signing, moved every
/// member for Poppler and MuPDF onto a forged page content (found by an attacker's reading,
/// 2026-12-03).
fn direct_int(d: &Dict, key: &str, what: &str) -> Result<Option<i64>> {
    match d.get(key) {
        None | Some(Object::Null) => Ok(None),
        Some(Object::Int(i)) => Ok(Some(*i)),
        Some(_) => Err(PdfError::Structure(format!(
            "{what}: /{key} is not an integer written directly"
        ))),
    }
}

/// [`decode_stream`], adding to `produced` the bytes each filter inflated — on failure too —
/// and inflating no more than `budget` bytes in all. `strict` (object streams, validation
/// data): data readers decode otherwise is refused rather than read one way — a PNG
/// predictor's incomplete last row, and an inflate that ends in an error after some output
/// (flate2 drops the bytes of the read that meets a bad Adler-32, which Poppler and MuPDF
/// keep: an object stream's last member read 792 to kyso and 7920 to both; found by an
/// attacker's reading, 2026-12-03).
fn decode_stream_counted(
    s: &Stream,
    produced: &mut usize,
    budget: usize,
    strict: bool,
) -> Result<Vec<u8>> {
    // Every filter and its parameters written directly: readers resolve a reference where kyso
    // took none (a /DecodeParms `11 0 R` rewritten after signing with a predictor changed an
    // object stream's members for Poppler and MuPDF; found by an attacker's reading,
    // 2026-12-03).
    let unknown = || PdfError::Unsupported("stream /Filter of unknown form".into());
    let filters: Vec<Vec<u8>> = match s.dict.get("Filter") {
        None | Some(Object::Null) => vec![],
        Some(Object::Name(n)) => vec![n.clone()],
        Some(Object::Array(a)) => a
            .iter()
            .map(|f| f.as_name().map(<[u8]>::to_vec).ok_or_else(unknown))
            .collect::<Result<_>>()?,
        Some(_) => return Err(unknown()),
    };
    // Abbreviated keys (inline-image names: Poppler and MuPDF take `/DP` for /DecodeParms)
    // and a stream's external file (/F, /FFilter, /FDecodeParms) are read otherwise by
    // readers: refused, not ignored (found by an attacker's reading, 2026-12-03).
    for k in ["DP", "F", "FFilter", "FDecodeParms"] {
        if s.dict.get(k).is_some() {
            return Err(PdfError::Structure(format!(
                "a structural stream with /{k}, which readers read otherwise"
            )));
        }
    }
    let filter_array = matches!(s.dict.get("Filter"), Some(Object::Array(_)));
    let parms_of = |i: usize| -> Result<Option<&Dict>> {
        let bad = || {
            PdfError::Structure(
                "a stream's /DecodeParms not written directly as dictionaries".into(),
            )
        };
        // As Poppler and MuPDF pair them: an array with a /Filter array (by position), a
        // dictionary with a /Filter name. The other pairings they ignore, and so does kyso now
        // (it took the dictionary, or the array's first element, and read a predictor the
        // readers did not).
        let p = match (s.dict.get("DecodeParms"), filter_array) {
            (None | Some(Object::Null), _) => None,
            (Some(Object::Array(a)), true) => a.get(i),
            (Some(Object::Array(_)), false) | (Some(Object::Dict(_)), true) => None,
            (other, false) => other.filter(|_| i == 0),
            (Some(_), true) => return Err(bad()),
        };
        match p {
            None | Some(Object::Null) => Ok(None),
            Some(Object::Dict(d)) => {
                if d.0.iter().any(|(_, v)| matches!(v, Object::Ref(_))) {
                    return Err(bad());
                }
                Ok(Some(d))
            }
            Some(_) => Err(bad()),
        }
    };
    let mut data = s.data.clone();
    for (i, f) in filters.iter().enumerate() {
        match f.as_slice() {
            b"FlateDecode" | b"Fl" => {
                use std::io::Read;
                // Inflated no further than the stream's limit, nor than what the budget has
                // left (a spent budget inflates one byte, not 64 MiB to be refused).
                let cap = MAX_DECODED.min(budget.saturating_sub(*produced));
                let mut out = Vec::new();
                let mut z =
                    Stoppable(flate2::read::ZlibDecoder::new(&data[..])).take(cap as u64 + 1);
                let inflated = z.read_to_end(&mut out);
                *produced = produced.saturating_add(out.len());
                crate::stop::check()?;
                if inflated.is_err() && (out.is_empty() || strict) {
                    return Err(PdfError::Structure(
                        "stream does not inflate (whole: readers differ on what it holds)".into(),
                    ));
                }
                if out.len() > cap {
                    return Err(PdfError::Limit(if cap < MAX_DECODED {
                        "the document's streams decode to more than it could hold".into()
                    } else {
                        "decoded stream larger than 64 MiB".into()
                    }));
                }
                data = match parms_of(i)? {
                    Some(p) => unpredict(out, p, strict)?,
                    None => out,
                };
            }
            other => {
                return Err(PdfError::Unsupported(format!(
                    "filter /{} on a structural stream",
                    String::from_utf8_lossy(other)
                )))
            }
        }
    }
    Ok(data)
}

/// Undo PNG predictors (§7.4.4.4, predictors 10–15). Data that ends inside a row is refused
/// when `whole_rows`, else the incomplete row is dropped: readers differ on it. MuPDF decodes
/// it as far as it goes, Poppler completes it with the row before's bytes, and an object
/// stream's last member read either way differs from the member without it (`792` and a
/// row `0`: 7920 for both readers, 792 for kyso, which passed a page that grew after signing
/// to show what it had hidden; found 2026-12-03).
fn unpredict(data: Vec<u8>, parms: &Dict, whole_rows: bool) -> Result<Vec<u8>> {
    let int = |key: &str, default: i64| -> Result<i64> {
        Ok(direct_int(parms, key, "/DecodeParms")?.unwrap_or(default))
    };
    let predictor = int("Predictor", 1)?;
    if predictor == 1 {
        return Ok(data);
    }
    // Only values every reader takes alike; nothing clamped. MuPDF reads a predictor past 15
    // as none; Poppler reads the data raw when /BitsPerComponent is not 1, 2, 4, 8 or 16,
    // /Colors not 1–32 or /Columns below 1; kyso had clamped each (and its clamped row
    // passed the whole-row check where readers' rows did not) — found by an attacker's
    // reading, 2026-12-03.
    if !(10..=15).contains(&predictor) {
        return Err(PdfError::Unsupported(format!("predictor {predictor}")));
    }
    let colors = int("Colors", 1)?;
    let bpc = int("BitsPerComponent", 8)?;
    let columns = int("Columns", 1)?;
    if !(1..=32).contains(&colors)
        || ![1, 2, 4, 8, 16].contains(&bpc)
        || !(1..=1 << 20).contains(&columns)
    {
        return Err(PdfError::Unsupported(format!(
            "predictor parameters /Colors {colors} /BitsPerComponent {bpc} /Columns {columns}, which readers read otherwise"
        )));
    }
    let (colors, bpc, columns) = (colors as usize, bpc as usize, columns as usize);
    let bpp = (colors * bpc).div_ceil(8).max(1);
    let row = (colors * bpc * columns).div_ceil(8);
    // A row longer than the data cannot be complete: nothing to decode (and nothing to allocate).
    if row == 0 || row >= data.len() {
        return if data.is_empty() {
            Ok(data)
        } else {
            Err(PdfError::Structure(
                "predictor row longer than the stream".into(),
            ))
        };
    }
    if whole_rows && data.len() % (row + 1) != 0 {
        return Err(PdfError::Structure(
            "a predicted stream ends inside a row (readers differ on its last bytes)".into(),
        ));
    }
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        if chunk.len() < row + 1 {
            break;
        }
        let (ty, src) = (chunk[0], &chunk[1..]);
        let mut cur = vec![0u8; row];
        for i in 0..row {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            cur[i] = src[i].wrapping_add(match ty {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => {
                    let p = a as i16 + b as i16 - c as i16;
                    let (pa, pb, pc) = (
                        (p - a as i16).abs(),
                        (p - b as i16).abs(),
                        (p - c as i16).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                _ => {
                    return Err(PdfError::Structure(format!(
                        "bad PNG predictor row type {ty}"
                    )))
                }
            });
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(out)
}

/// Read one cross-reference section at `off`: a table (`xref`) or a stream. A section that
/// lists one object twice with different entries is refused: readers disagree on which
/// entry wins (the first for most viewers), and a verifier must not read another object than
/// a viewer shows. `charge` is told how many entries each part lists before they are read (it
/// refuses once the parse's share of reading is spent: a section is paid for before the work,
/// not after).
fn read_section(
    data: &[u8],
    off: usize,
    budget: &mut usize,
    charge: &dyn Fn(usize) -> Result<()>,
) -> Result<Section> {
    let mut p = Parser::new(data, off);
    p.skip_ws();
    let s = if data[p.pos..].starts_with(b"xref") {
        read_table(data, off, charge)?
    } else {
        read_xref_stream(data, off, budget, charge)?
    };
    // Listed in rising order (as writers list them), no number can be listed twice; else
    // each is looked up in a table of them, which for millions of entries is hundreds of
    // megabytes: asked of the memory limit before it is made, and filled under the stop.
    if s.entries.windows(2).all(|w| w[0].0 < w[1].0) {
        return Ok(s);
    }
    crate::stop::afford(map_bytes::<u32, XrefEntry>(s.entries.len()))?;
    let mut seen: crate::Map<u32, XrefEntry> =
        crate::Map::with_capacity_and_hasher(s.entries.len(), Default::default());
    for (i, (n, e)) in s.entries.iter().enumerate() {
        if i % 65_536 == 65_535 {
            crate::stop::check()?;
        }
        if let Some(prev) = seen.insert(*n, *e) {
            if prev != *e {
                return Err(PdfError::BrokenXref {
                    offset: off,
                    what: format!("object {n} is listed twice with different entries"),
                });
            }
        }
    }
    Ok(s)
}

/// §7.5.4: `xref`, subsections `first count` with 20-byte entries, then `trailer` << … >>.
fn read_table(data: &[u8], off: usize, charge: &dyn Fn(usize) -> Result<()>) -> Result<Section> {
    let broken = |what: &str| PdfError::BrokenXref {
        offset: off,
        what: what.into(),
    };
    let mut p = Parser::new(data, off);
    p.keyword(b"xref")?;
    let mut entries = Vec::new();
    loop {
        p.skip_ws();
        if data[p.pos..].starts_with(b"trailer") {
            p.pos += 7;
            break;
        }
        let first = p.uint().map_err(|_| broken("bad subsection header"))?;
        let count = p.uint().map_err(|_| broken("bad subsection header"))?;
        if count > 10_000_000 || first.saturating_add(count) > u32::MAX as u64 {
            return Err(broken("subsection too large"));
        }
        charge(count as usize)?;
        for i in 0..count {
            let o = p.uint().map_err(|_| broken("bad entry offset"))?;
            let g = p.uint().map_err(|_| broken("bad entry generation"))?;
            p.skip_ws();
            let kind = p.token();
            let num = (first + i) as u32;
            let e = match kind {
                b"n" => XrefEntry::Offset {
                    offset: usize::try_from(o).map_err(|_| broken("offset out of range"))?,
                    gen: u16::try_from(g).map_err(|_| broken("generation out of range"))?,
                },
                b"f" => XrefEntry::Free,
                _ => return Err(broken("entry is neither n nor f")),
            };
            if let XrefEntry::Offset { offset, .. } = e {
                if offset >= data.len() {
                    return Err(broken(&format!(
                        "object {num} is said to be past the end of the file"
                    )));
                }
            }
            entries.push((num, e));
            if entries.len() > max_entries(data.len()) {
                return Err(broken("more entries than the file could hold objects for"));
            }
            if entries.len() % 65_536 == 0 {
                crate::stop::check()?;
            }
        }
    }
    let trailer = match p.object(0)? {
        Object::Dict(d) => d,
        _ => return Err(broken("trailer is not a dictionary")),
    };
    Ok(Section {
        offset: off,
        is_stream: false,
        trailer,
        entries,
        xref_stm: None,
        xref_streams: Vec::new(),
    })
}

/// §7.5.8: a cross-reference stream object.
fn read_xref_stream(
    data: &[u8],
    off: usize,
    budget: &mut usize,
    charge: &dyn Fn(usize) -> Result<()>,
) -> Result<Section> {
    let broken = |what: String| PdfError::BrokenXref { offset: off, what };
    let (own, obj) = read_indirect(data, off, &|_| None)
        .map_err(|e| broken(format!("no xref table or stream here ({e})")))?;
    let Object::Stream(s) = obj else {
        return Err(broken("not a cross-reference stream".into()));
    };
    if !s.dict.get("Type").is_some_and(|t| t.is_name("XRef")) {
        return Err(broken("stream is not /Type /XRef".into()));
    }
    // /W, /Size and /Index written directly, as integers (readers resolve references, where
    // kyso took defaults).
    let ints = |key: &str| -> Option<Vec<i64>> {
        match s.dict.get(key) {
            Some(Object::Array(a)) => a.iter().map(Object::as_int).collect(),
            _ => None,
        }
    };
    let w: Vec<usize> = ints("W")
        .unwrap_or_default()
        .into_iter()
        .map(|x| x.clamp(-1, 9) as usize)
        .collect();
    if w.len() != 3 || w.iter().any(|&x| x > 8) {
        return Err(broken("bad /W".into()));
    }
    // Without a /Size, or with a negative one, MuPDF ("xref stream missing Size entry") and
    // Poppler rebuild the table: read as 0, one after a signature was a trigger of that
    // rebuild TOTAL-PASSED, and the signer countersigned it (helper 218, 2026-12-06).
    let size = match direct_int(&s.dict, "Size", "cross-reference stream")
        .map_err(|e| broken(e.to_string()))?
    {
        Some(n) if n >= 0 => n as u64,
        Some(_) => return Err(broken("a negative /Size".into())),
        None => return Err(broken("no /Size (PDF readers rebuild the table)".into())),
    };
    let index: Vec<u64> = match s.dict.get("Index") {
        None | Some(Object::Null) => vec![0, size],
        Some(_) => ints("Index")
            .ok_or_else(|| broken("bad /Index".into()))?
            .into_iter()
            .map(|x| x.max(0) as u64)
            .collect(),
    };
    if index.len() % 2 != 0 {
        return Err(broken("bad /Index".into()));
    }
    let listed = index
        .chunks(2)
        .fold(0u64, |n, pair| n.saturating_add(pair[1]));
    charge(usize::try_from(listed).unwrap_or(usize::MAX))?;
    let body = decode_stream(&s)?;
    *budget = budget.checked_sub(body.len()).ok_or_else(|| {
        PdfError::Limit("cross-reference streams decode to more than the file could hold".into())
    })?;
    let rec = w[0] + w[1] + w[2];
    if rec == 0 {
        return Err(broken("/W is all zero".into()));
    }
    // Poppler refuses a wider type field (a C int), and then reads none of the chain behind
    // the stream (its other fields may take 8 bytes, as here).
    if w[0] > 4 {
        return Err(broken(
            "/W gives a field wider than PDF readers take".into(),
        ));
    }
    let field = |b: &[u8]| b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64);
    let mut entries = Vec::new();
    let mut at = 0usize;
    for pair in index.chunks(2) {
        let (first, count) = (pair[0], pair[1]);
        if count > 10_000_000 || first.saturating_add(count) > u32::MAX as u64 {
            return Err(broken("subsection too large".into()));
        }
        for i in 0..count {
            let Some(r) = body.get(at..at + rec) else {
                return Err(broken("stream shorter than /Index says".into()));
            };
            at += rec;
            let ty = if w[0] == 0 { 1 } else { field(&r[..w[0]]) };
            let f2 = field(&r[w[0]..w[0] + w[1]]);
            let f3 = field(&r[w[0] + w[1]..]);
            let num = (first + i) as u32;
            // An entry Poppler cannot read ends its reading of the chain there — it reads
            // nothing older, so it showed the signed revision without its "VOID" stamp, and
            // saw no signature, where kyso and MuPDF passed over the entry (found by an
            // attacker's reading, 2026-12-06): a type other than 0, 1, 2; a second field past
            // 2^63 - 1 or a third past 2^31 - 1, whatever the type (Poppler checks both before
            // it looks at the type, in entries a newer section hides too), but object 0's
            // generation 2^32 - 1, which Poppler takes as 65535 (a broken generator's).
            let unreadable = ty > 2
                || f2 > i64::MAX as u64
                || (f3 > i32::MAX as u64 && !(num == 0 && f3 == u64::from(u32::MAX)));
            if unreadable {
                return Err(broken(format!(
                    "the entry of object {num} is one PDF readers cannot read (type {ty}, fields {f2} and {f3}): Poppler stops reading the cross-reference chain there"
                )));
            }
            let e = match ty {
                0 => XrefEntry::Free,
                1 => {
                    let offset = usize::try_from(f2)
                        .ok()
                        .filter(|o| *o < data.len())
                        .ok_or_else(|| {
                            broken(format!(
                                "object {num} is said to be past the end of the file"
                            ))
                        })?;
                    XrefEntry::Offset {
                        offset,
                        gen: f3.min(u16::MAX as u64) as u16,
                    }
                }
                2 => XrefEntry::InStream {
                    stream: f2.min(u32::MAX as u64) as u32,
                    index: f3.min(u32::MAX as u64) as u32,
                },
                _ => continue, // (refused above)
            };
            entries.push((num, e));
            if entries.len() > max_entries(data.len()) {
                return Err(broken(
                    "more entries than the file could hold objects for".into(),
                ));
            }
            if entries.len() % 65_536 == 0 {
                crate::stop::check()?;
            }
        }
    }
    Ok(Section {
        offset: off,
        is_stream: true,
        trailer: s.dict,
        entries,
        xref_stm: None,
        xref_streams: vec![(own, off)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::sync::atomic::Ordering;

    /// `references` finds what `get` and a walk of its object find, for every object of the
    /// repository's PDFs (fpdf2, qpdf with object streams, pyHanko-signed corpus files) and of
    /// a file written to hold references every way the parser reads them.
    #[test]
    fn references_are_what_get_reads() {
        let mut made = b"%PDF-1.7\n".to_vec();
        let mut offs = Vec::new();
        for body in [
            &b"<< /Type /Catalog /Pages 2 0 R /A [3 0 R [4 0 R << /B 5 0 R >>] (6 0 R) <37> 8 %c\n0 R] >>"[..],
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 /N#61me 9 0 R /S (a\\) 10 0 R (b)) >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length 11 >>\nstream\n12 0 R 13 0 R\nendstream",
            b"[1 2 R 3 0 R 4 0 R 5 0 R true null 1.5 -2]",
        ] {
            offs.push(made.len());
            writeln!(made, "{} 0 obj", offs.len()).unwrap();
            made.extend_from_slice(body);
            made.extend_from_slice(b"\nendobj\n");
        }
        let x = made.len();
        write!(made, "xref\n0 {}\n0000000000 65535 f\r\n", offs.len() + 1).unwrap();
        for o in &offs {
            write!(made, "{o:010} 00000 n\r\n").unwrap();
        }
        write!(
            made,
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n",
            offs.len() + 1
        )
        .unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = vec![made];
        for dir in ["tests/fixtures", "tests/corpus"] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "pdf") {
                        files.push(std::fs::read(&p).unwrap());
                    }
                }
            }
        }
        assert!(files.len() > 10, "{} files", files.len());
        let mut objects = 0;
        for data in &files {
            let Ok(doc) = Document::parse(data) else {
                continue;
            };
            for num in 0..doc.size() {
                let gen = match doc.entry(num) {
                    Some(XrefEntry::Offset { gen, .. }) => gen,
                    Some(XrefEntry::InStream { .. }) => 0,
                    _ => continue,
                };
                let r = ObjRef::new(num, gen);
                let mut fast = Vec::new();
                let read = doc.references(r, &mut fast);
                if let Ok(o) = doc.get(r) {
                    let mut slow = Vec::new();
                    o.references_into(&mut slow);
                    assert!(read.is_ok(), "{r}: {read:?}");
                    assert_eq!(fast, slow, "{r}");
                    objects += 1;
                }
            }
        }
        assert!(objects > 1000, "{objects} objects");
        let doc = Document::parse(&files[0]).unwrap();
        let mut got = Vec::new();
        doc.references(ObjRef::new(1, 0), &mut got).unwrap();
        let want: Vec<ObjRef> = [(2, 0), (3, 0), (4, 0), (5, 0), (8, 0)]
            .iter()
            .map(|&(n, g)| ObjRef::new(n, g))
            .collect();
        assert_eq!(got, want);
    }

    /// A view with some entries replaced reads them where the replacement says, every other
    /// object where the file does, and shares the file's table rather than copying it.
    #[test]
    fn a_view_with_entries_replaced_reads_them_and_shares_the_table() {
        let mut made = b"%PDF-1.7\n".to_vec();
        let mut offs = Vec::new();
        for body in [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [] /Count 0 >>",
            "(first)",
        ] {
            offs.push(made.len());
            write!(made, "{} 0 obj\n{body}\nendobj\n", offs.len()).unwrap();
        }
        let x = made.len();
        write!(made, "xref\n0 4\n0000000000 65535 f\r\n").unwrap();
        for o in &offs {
            write!(made, "{o:010} 00000 n\r\n").unwrap();
        }
        write!(
            made,
            "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n"
        )
        .unwrap();
        let second = made.len();
        write!(made, "3 0 obj\n(second)\nendobj\n").unwrap();
        let y = made.len();
        write!(
            made,
            "xref\n3 1\n{second:010} 00000 n\r\ntrailer\n<< /Size 4 /Root 1 0 R /Prev {x} >>\nstartxref\n{y}\n%%EOF\n"
        )
        .unwrap();
        let doc = Document::parse(&made).unwrap();
        let text = |d: &Document<'_>| match d.get(ObjRef::new(3, 0)).unwrap() {
            Object::String(s) => s,
            o => panic!("{o:?}"),
        };
        assert_eq!(text(&doc), b"second");
        let first = XrefEntry::Offset {
            offset: offs[2],
            gen: 0,
        };
        let view = doc.with_entries(&[(3, first)]).unwrap();
        assert_eq!(text(&view), b"first");
        assert_eq!(view.entry(3), Some(first));
        assert_eq!(view.entry(2), doc.entry(2));
        assert_eq!(view.root(), doc.root());
        assert!(Arc::ptr_eq(&view.xref, &doc.xref) && Arc::ptr_eq(&view.sections, &doc.sections));
        // The file itself still reads its newest version; a view of a view keeps both changes.
        assert_eq!(text(&doc), b"second");
        let gone = view.with_entries(&[(2, XrefEntry::Free)]).unwrap();
        assert_eq!(
            (gone.entry(2), gone.entry(3)),
            (Some(XrefEntry::Free), Some(first))
        );
        assert!(doc.earlier(1).unwrap().with_entries(&[]).is_none());
    }

    #[test]
    fn a_predicted_stream_ending_inside_a_row_is_refused_where_a_member_could_differ() {
        // Rows `7 0 792` and `0` (PNG predictor, type None): MuPDF reads 7920, Poppler 7920.
        let parms = Dict(vec![
            (b"Predictor".to_vec(), Object::Int(12)),
            (b"Columns".to_vec(), Object::Int(7)),
        ]);
        let whole = b"\x007 0 792".to_vec();
        let partial = b"\x007 0 792\x000".to_vec();
        assert_eq!(unpredict(whole.clone(), &parms, true).unwrap(), b"7 0 792");
        let e = unpredict(partial.clone(), &parms, true).unwrap_err();
        assert!(e.to_string().contains("ends inside a row"), "{e}");
        // A cross-reference stream reads whole entries: the row is dropped there.
        assert_eq!(unpredict(partial, &parms, false).unwrap(), b"7 0 792");
    }

    #[test]
    fn an_earlier_revision_reads_its_sections_entries_one_listed_twice_alike() {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut at = Vec::new();
        for text in [
            "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /V 1 >>\nendobj\n",
            "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /V 2 >>\nendobj\n",
            "2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n",
        ] {
            at.push(pdf.len());
            pdf.extend_from_slice(text.as_bytes());
        }
        let first = pdf.len();
        pdf.extend_from_slice(
            format!(
                "xref\n0 3\n0000000000 65535 f \n{:010} 00000 n \n{:010} 00000 n \n1 1\n{:010} 00000 n \ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n{first}\n%%EOF\n",
                at[1], at[2], at[1]
            )
            .as_bytes(),
        );
        let update = pdf.len();
        pdf.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R /V 3 >>\nendobj\n");
        let second = pdf.len();
        pdf.extend_from_slice(
            format!(
                "xref\n1 1\n{update:010} 00000 n \ntrailer\n<< /Size 3 /Root 1 0 R /Prev {first} >>\nstartxref\n{second}\n%%EOF\n"
            )
            .as_bytes(),
        );
        let doc = Document::parse(&pdf).unwrap();
        let v = |d: &Document| match d.get(ObjRef { num: 1, gen: 0 }).unwrap() {
            Object::Dict(d) => d.get("V").cloned(),
            o => panic!("{o:?}"),
        };
        assert_eq!(v(&doc), Some(Object::Int(3)));
        assert_eq!(v(&doc.earlier(1).unwrap()), Some(Object::Int(2)));
        assert_eq!(v(&doc.earlier(0).unwrap()), Some(Object::Int(3)));
    }

    #[test]
    fn a_section_may_have_white_space_before_its_trailer_and_not_before_a_subsection() {
        // MuPDF's incremental saves put a blank line before `trailer`; its reader takes a
        // subsection only where a digit comes next and otherwise expects `trailer`.
        let entry = "0000000000 65535 f \n";
        let ok = format!("xref\n0 1\n{entry}\n\ntrailer\n<< /Size 1 >>\n");
        assert_eq!(classic_section_end(ok.as_bytes(), 0), Ok(ok.len() - 1));
        let gap = format!("xref\n0 1\n{entry}\n3 1\n{entry}trailer\n<< /Size 4 >>\n");
        assert!(classic_section_end(gap.as_bytes(), 0).is_err());
    }

    /// A PDF whose objects 10.. are all in object stream 3, which inflates to 1 MiB and then
    /// cannot be read (its /N promises more objects than 1 MiB could hold).
    fn unreadable_object_stream(fields: usize) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![b' '; 1 << 20]).unwrap();
        let body = z.finish().unwrap();
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = HashMap::new();
        let mut obj = |pdf: &mut Vec<u8>, num: u32, text: &[u8]| {
            offsets.insert(num, pdf.len());
            pdf.extend_from_slice(format!("{num} 0 obj\n").as_bytes());
            pdf.extend_from_slice(text);
            pdf.extend_from_slice(b"\nendobj\n");
        };
        obj(&mut pdf, 1, b"<< /Type /Catalog /Pages 2 0 R >>");
        obj(&mut pdf, 2, b"<< /Type /Pages /Kids [] /Count 0 >>");
        let mut s = format!(
            "<< /Type /ObjStm /N 10000000 /First 8 /Filter /FlateDecode /Length {} >>\nstream\n",
            body.len()
        )
        .into_bytes();
        s.extend_from_slice(&body);
        s.extend_from_slice(b"\nendstream");
        obj(&mut pdf, 3, &s);
        let xref_at = pdf.len();
        let size = 10 + fields;
        let mut rows = Vec::new();
        for num in 0..size as u32 {
            match offsets.get(&num) {
                Some(&o) => {
                    rows.extend([1u8].iter().chain(&(o as u32).to_be_bytes()).chain(&[0, 0]))
                }
                None if num >= 10 => rows.extend(
                    [2u8, 0, 0, 0, 3]
                        .iter()
                        .chain(&((num - 10) as u16).to_be_bytes()),
                ),
                None => rows.extend([0u8, 0, 0, 0, 0, 0xff, 0xff]),
            }
        }
        pdf.extend_from_slice(
            format!(
                "4 0 obj\n<< /Type /XRef /Size {size} /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
                rows.len()
            )
            .as_bytes(),
        );
        pdf.extend_from_slice(&rows);
        pdf.extend_from_slice(
            format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
        );
        pdf
    }

    #[test]
    fn an_object_stream_is_inflated_once_however_often_it_is_referenced_and_fails() {
        let pdf = unreadable_object_stream(500);
        let doc = Document::parse(&pdf).unwrap();
        let budget = doc.shared.decode_budget.load(Ordering::Relaxed);
        let first = doc.get(ObjRef::new(10, 0)).unwrap_err();
        assert!(first.to_string().contains("bad /N"), "{first}");
        for num in 10..510 {
            assert_eq!(doc.get(ObjRef::new(num, 0)).unwrap_err(), first);
        }
        // One inflation of 1 MiB charged, not five hundred.
        assert_eq!(
            budget - doc.shared.decode_budget.load(Ordering::Relaxed),
            1 << 20
        );
    }

    #[test]
    fn earlier_revisions_spend_the_files_budget_and_share_its_object_streams() {
        let pdf = unreadable_object_stream(10);
        let doc = Document::parse(&pdf).unwrap();
        let budget = doc.shared.decode_budget.load(Ordering::Relaxed);
        let first = doc.get(ObjRef::new(10, 0)).unwrap_err();
        // The file's view of its own newest revision, three times: the object stream it
        // reaches is the one already decoded (and failed), not inflated again.
        for _ in 0..3 {
            let rev = doc.earlier(0).unwrap();
            assert_eq!(rev.get(ObjRef::new(10, 0)).unwrap_err(), first);
        }
        assert_eq!(
            budget - doc.shared.decode_budget.load(Ordering::Relaxed),
            1 << 20
        );
        // What a revision decodes is charged to the file.
        let rev = doc.earlier(0).unwrap();
        let Object::Stream(s) = rev.get(ObjRef::new(3, 0)).unwrap() else {
            panic!("object 3 is a stream");
        };
        assert_eq!(rev.decode(&s).unwrap().len(), 1 << 20);
        assert_eq!(
            budget - doc.shared.decode_budget.load(Ordering::Relaxed),
            2 << 20
        );
        // A one-section file has no revision before it.
        assert!(doc.earlier(1).is_err());
        assert!(rev.earlier(1).is_err());
    }

    #[test]
    fn a_stream_that_fails_to_decode_is_charged_what_it_inflated() {
        let pdf = unreadable_object_stream(1);
        let doc = Document::parse(&pdf).unwrap();
        let Object::Stream(s) = doc.get(ObjRef::new(3, 0)).unwrap() else {
            panic!("object 3 is a stream");
        };
        // A second filter that cannot inflate what the first gave: the first's 1 MiB of work
        // is charged though the stream does not decode.
        let mut twice = s.clone();
        twice.dict.set(
            "Filter",
            Object::Array(vec![
                Object::name("FlateDecode"),
                Object::name("FlateDecode"),
            ]),
        );
        let budget = doc.shared.decode_budget.load(Ordering::Relaxed);
        assert!(doc.decode(&twice).is_err());
        assert_eq!(
            budget - doc.shared.decode_budget.load(Ordering::Relaxed),
            1 << 20
        );
    }

    #[test]
    fn a_stream_read_at_most_in_part_inflates_no_further() {
        let pdf = unreadable_object_stream(1);
        let doc = Document::parse(&pdf).unwrap();
        let Object::Stream(s) = doc.get(ObjRef::new(3, 0)).unwrap() else {
            panic!("object 3 is a stream");
        };
        let budget = doc.shared.decode_budget.load(Ordering::Relaxed);
        assert!(doc.decode_at_most(&s, 1000).is_err());
        assert_eq!(
            budget - doc.shared.decode_budget.load(Ordering::Relaxed),
            1000
        );
        assert_eq!(doc.decode_at_most(&s, 1 << 20).unwrap().len(), 1 << 20);
    }
}
