//! Validation data from the Document Security Store (ETSI EN 319 142-1 §5.4.2): certificates,
//! CRLs and OCSP responses, as the bytes they were stored in — from every revision's DSS.

use crate::x509::{Cert, CertRef, Crl, Ocsp};
use kyso_pdf::{Document, ObjRef, Object, XrefEntry};
use std::collections::HashSet;
use std::sync::Arc;

/// Most entries read from each of /Certs, /CRLs and /OCSPs of one DSS.
const MAX_ENTRIES: usize = 10_000;
/// Largest decoded entry: a certificate or an OCSP response is a few kilobytes, a national
/// CA's CRL a few megabytes.
const MAX_ENTRY: usize = 32 << 20;
/// Most revisions whose DSS is read.
const MAX_REVISIONS: usize = 256;

/// The DSS's validation data.
#[derive(Default)]
pub struct Dss {
    pub certs: Vec<CertRef>,
    pub crls: Vec<Crl>,
    pub ocsps: Vec<Ocsp>,
    /// How many entries were not read, and why (the report says so: what they held was not
    /// used).
    pub skipped: usize,
    pub skipped_why: std::collections::BTreeSet<String>,
}

impl Dss {
    /// One sentence on what was left out, if anything was.
    pub fn skipped_note(&self) -> Option<String> {
        if self.skipped == 0 {
            return None;
        }
        let why: Vec<&str> = self.skipped_why.iter().map(String::as_str).collect();
        Some(format!(
            "{} DSS entr{} could not be read ({}); validation data in {} was not used",
            self.skipped,
            if self.skipped == 1 { "y" } else { "ies" },
            why.join("; "),
            if self.skipped == 1 { "it" } else { "them" },
        ))
    }
}

/// What has been read already: streams (by object and where the revision placed it) and
/// decoded contents (by hash), so that each item is decoded and parsed once.
#[derive(Default)]
struct Seen {
    streams: HashSet<(ObjRef, Option<XrefEntry>)>,
    contents: HashSet<Vec<u8>>,
}

/// The validation data of every revision's DSS, each item once. A later revision cannot take
/// away what an earlier one stored (a document time-stamp may have covered it): removing a CRL
/// that says "revoked" from the newest DSS hides nothing.
pub fn read_all(doc: &Document<'_>, data: &[u8], ends: &[usize]) -> Dss {
    let mut out = Dss::default();
    let mut seen = Seen::default();
    read_into(doc, &mut out, &mut seen);
    let mut ends: Vec<usize> = ends.iter().copied().filter(|e| *e < data.len()).collect();
    ends.sort_unstable_by(|a, b| b.cmp(a));
    for end in ends.into_iter().take(MAX_REVISIONS) {
        if let Ok(rev) = Document::parse_revision(&data[..end], doc) {
            read_into(&rev, &mut out, &mut seen);
        }
    }
    out
}

/// Read the DSS of `doc` (what cannot be read is left out: validation data is evidence, and
/// a missing piece only means less evidence).
pub fn read(doc: &Document<'_>) -> Dss {
    let mut out = Dss::default();
    read_into(doc, &mut out, &mut Seen::default());
    out
}

fn read_into(doc: &Document<'_>, out: &mut Dss, seen: &mut Seen) {
    let Ok(root) = doc.dict(doc.root()) else {
        return;
    };
    let Some(dss) = root.get("DSS").and_then(|d| doc.resolve(d).ok()) else {
        return;
    };
    let Some(dss) = dss.as_dict() else { return };
    // Each entry is decoded within the document's decoding budget and parsed at once: a
    // compression bomb in the DSS ends the reading, not the process.
    let mut skipped = 0usize;
    let mut why = std::collections::BTreeSet::new();
    let mut skip = |n: usize, reason: String| {
        skipped += n;
        why.insert(reason);
    };
    let mut each = |key: &str, f: &mut dyn FnMut(&[u8]) -> bool| {
        let list = dss
            .get(key)
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default();
        if list.len() > MAX_ENTRIES {
            skip(
                list.len() - MAX_ENTRIES,
                format!("/{key} beyond the first {MAX_ENTRIES}"),
            );
        }
        for (i, o) in list.iter().take(MAX_ENTRIES).enumerate() {
            if let Some(r) = o.as_ref() {
                if !seen.streams.insert((r, doc.entry(r.num))) {
                    continue;
                }
            }
            let Ok(Object::Stream(s)) = doc.resolve(o) else {
                skip(1, format!("a /{key} entry that is not a stream"));
                continue;
            };
            match doc.decode(&s) {
                Ok(b) if b.len() <= MAX_ENTRY => {
                    if seen
                        .contents
                        .insert(crate::crypto::Hash::Sha256.digest(&[&b]))
                        && !f(&b)
                    {
                        skip(1, format!("a /{key} entry that does not parse"));
                    }
                }
                Ok(_) => skip(1, format!("a /{key} entry over {} MiB", MAX_ENTRY >> 20)),
                Err(e) => {
                    // The document's decoding budget is spent: nothing more is decoded.
                    skip(list.len().min(MAX_ENTRIES) - i, format!("/{key}: {e}"));
                    break;
                }
            }
        }
    };
    each("Certs", &mut |b| match Cert::from_ber(b) {
        Ok(c) => {
            out.certs.push(Arc::new(c));
            true
        }
        Err(_) => false,
    });
    each("CRLs", &mut |b| match Crl::from_ber(b) {
        Ok(c) => {
            out.crls.push(c);
            true
        }
        Err(_) => false,
    });
    each("OCSPs", &mut |b| match Ocsp::from_response(b) {
        Ok(o) => {
            out.ocsps.push(o);
            true
        }
        Err(_) => false,
    });
    out.skipped += skipped;
    out.skipped_why.extend(why);
}
