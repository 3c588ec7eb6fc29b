//! Validation data from the Document Security Store (ETSI EN 319 142-1 §5.4.2): certificates,
//! CRLs and OCSP responses, as the bytes they were stored in — from every revision's DSS.

use crate::x509::{Cert, CertRef, Crl, Ocsp};
use kyso_pdf::{Document, ObjRef, Object, PdfError, XrefEntry};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Most entries read from each of /Certs, /CRLs and /OCSPs of one DSS.
const MAX_ENTRIES: usize = 10_000;
/// Largest decoded entry: a certificate or an OCSP response is a few kilobytes, a national
/// CA's CRL a few megabytes.
const MAX_ENTRY: usize = 32 << 20;

/// The DSS's validation data.
#[derive(Default)]
pub struct Dss {
    pub certs: Vec<CertRef>,
    pub crls: Vec<Crl>,
    pub ocsps: Vec<Ocsp>,
    /// For each item of `certs`, `crls`, `ocsps`: the end of the first revision read whose
    /// DSS (its own or an earlier one in its chain) holds it — what a document time-stamp
    /// signing a revision that far covers.
    pub cert_at: Vec<usize>,
    pub crl_at: Vec<usize>,
    pub ocsp_at: Vec<usize>,
    /// Entries not read, and why (the report says so: what they held was not used): those
    /// given by reference by where they are (one another document read after all is taken
    /// off), and the others by count.
    skipped: HashMap<Place, String>,
    skipped_other: Vec<(usize, String)>,
}

impl Dss {
    /// Tag the items read since the last call with `end`, the end of the revision just read.
    fn tag(&mut self, end: usize) {
        self.cert_at.resize(self.certs.len(), end);
        self.crl_at.resize(self.crls.len(), end);
        self.ocsp_at.resize(self.ocsps.len(), end);
    }

    fn skip(&mut self, at: Option<Place>, n: usize, why: String) {
        match at {
            Some(p) => {
                self.skipped.entry(p).or_insert(why);
            }
            None => self.skipped_other.push((n, why)),
        }
    }

    fn unskip(&mut self, at: &Place) {
        self.skipped.remove(at);
    }

    /// How many entries were not read.
    pub fn skipped(&self) -> usize {
        self.skipped.len() + self.skipped_other.iter().map(|(n, _)| n).sum::<usize>()
    }

    /// One sentence on what was left out, if anything was.
    pub fn skipped_note(&self) -> Option<String> {
        let n = self.skipped();
        if n == 0 {
            return None;
        }
        let why: std::collections::BTreeSet<&str> = self
            .skipped
            .values()
            .chain(self.skipped_other.iter().map(|(_, w)| w))
            .map(String::as_str)
            .collect();
        let why: Vec<&str> = why.into_iter().collect();
        Some(format!(
            "{n} DSS entr{} could not be read ({}); validation data in {} was not used",
            if n == 1 { "y" } else { "ies" },
            why.join("; "),
            if n == 1 { "it" } else { "them" },
        ))
    }
}

/// Where a revision places an object: its entry, and for an object in an object stream the
/// stream's entry too (two revisions may name different streams by one number).
type Place = (ObjRef, Option<XrefEntry>, Option<XrefEntry>);

fn place(doc: &Document<'_>, r: ObjRef) -> Place {
    let e = doc.entry(r.num);
    let stm = match e {
        Some(XrefEntry::InStream { stream, .. }) => doc.entry(stream),
        _ => None,
    };
    (r, e, stm)
}

/// Most DSS entries looked at in the revisions of one document (each revision's arrays are
/// walked again, since an update may place other streams under the same numbers): an
/// update of a thousand empty sections behind a DSS of ten thousand entries must not cost
/// ten million lookups. Signed revisions are read first, each with its own count.
const MAX_LOOKUPS: usize = 200_000;

/// What has been read already. Objects are parsed once by where the revision placed them (the
/// same bytes); each revision's entries are looked up again in that revision (an update can
/// place another stream under a number an earlier DSS names, and must not hide the earlier
/// one); each stream is read once per key by where it is, each content parsed once per key.
#[derive(Default)]
struct Seen {
    /// Cross-reference sections whose revision was read (a revision's chain is the same
    /// from any file or signed revision that reaches it).
    sections: HashSet<usize>,
    /// Catalogs, with the DSS each names.
    catalogs: HashMap<Place, Option<Object>>,
    /// DSS dictionaries and arrays given by reference, as parsed.
    objects: HashMap<Place, Option<Object>>,
    /// Arrays whose entries past MAX_ENTRIES were counted as left out.
    counted: HashSet<(Place, Option<Place>, &'static str)>,
    streams: HashSet<(Place, &'static str)>,
    contents: HashSet<(Vec<u8>, &'static str)>,
}

/// The validation data of every revision's DSS, each item once. A later revision cannot take
/// away what an earlier one stored (a document time-stamp may have covered it): removing a CRL
/// that says "revoked" from the newest DSS hides nothing.
///
/// The revisions are those the cross-reference chains say there are: of each document given
/// (the signed revisions, oldest first, then the file), the revision of every section its
/// /Prev chain reaches — not what `%%EOF` strings the bytes hold, which anyone appending an
/// update can write a thousand of. A signed revision is read with its own decoding budget,
/// before the file: what a later update adds cannot spend the budget that reads what a
/// signature covers.
/// The DSS of `docs`, each `(end of its revision, revision)`, oldest first: every item read once,
/// tagged with the end of the first revision whose chain holds it.
pub fn read_all<'d, 'a: 'd>(docs: impl IntoIterator<Item = (usize, &'d Document<'a>)>) -> Dss {
    let mut out = Dss::default();
    let mut seen = Seen::default();
    for (end, doc) in docs {
        let mut budget = Budget::new();
        for k in 0..doc.sections().len() {
            if kyso_pdf::stop::stopped() {
                return out; // no verdict: the caller discards the report
            }
            if !seen.sections.insert(doc.sections()[k].offset) {
                break; // the rest of this chain was read from another document
            }
            let earlier;
            let rev = if k == 0 {
                doc
            } else {
                match doc.earlier(k) {
                    Ok(d) => {
                        earlier = d;
                        &earlier
                    }
                    Err(_) => continue,
                }
            };
            if !read_into(rev, &mut out, &mut seen, &mut budget) {
                out.skip(
                    None,
                    1,
                    format!(
                        "the DSS of {} earlier revisions, past the first {MAX_LOOKUPS} entries looked at",
                        doc.sections().len() - k
                    ),
                );
                break;
            }
        }
        out.tag(end);
    }
    out
}

/// What one document may still spend on its revisions' DSS.
struct Budget {
    /// Entries it may still look at.
    lookups: usize,
    /// Streams its decoding budget could not decode: not tried again in its other revisions
    /// (another document, with a budget of its own, may).
    failed: HashSet<Place>,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            lookups: MAX_LOOKUPS,
            failed: HashSet::new(),
        }
    }
}

/// Read the DSS of `doc` into `out`; false once the budget's lookups are spent (the rest not
/// read).
fn read_into(doc: &Document<'_>, out: &mut Dss, seen: &mut Seen, budget: &mut Budget) -> bool {
    let catalog = place(doc, doc.root());
    let named = seen
        .catalogs
        .entry(catalog)
        .or_insert_with(|| {
            doc.dict(doc.root())
                .ok()
                .and_then(|root| root.get("DSS").cloned())
        })
        .clone();
    // An object given by reference, parsed once where this revision places it.
    let parsed = |o: Object, seen: &mut Seen| -> (Option<Place>, Option<Object>) {
        match o {
            Object::Ref(r) => {
                let at = place(doc, r);
                let got = seen
                    .objects
                    .entry(at)
                    .or_insert_with(|| doc.get(r).ok())
                    .clone();
                (Some(at), got)
            }
            other => (None, Some(other)),
        }
    };
    let Some(named) = named else { return true };
    let (dss_at, dss) = parsed(named, seen);
    let Some(Object::Dict(dss)) = dss else {
        return true;
    };
    // Each entry is decoded within the document's decoding budget and parsed at once: a
    // compression bomb in the DSS ends the reading, not the process. What a spent budget
    // left unread is not marked read: another document (a signed revision, with a budget of
    // its own) may read it.
    let mut each = |key: &'static str, f: &mut dyn FnMut(&[u8]) -> bool| -> bool {
        let Some(v) = dss.get(key).cloned() else {
            return true;
        };
        let (array_at, list) = parsed(v, seen);
        let list: Vec<Object> = match list {
            Some(Object::Array(a)) => a,
            _ => return true,
        };
        // What is left out of an array is counted once, however many revisions name it.
        let first = seen
            .counted
            .insert((dss_at.unwrap_or(catalog), array_at, key));
        if list.len() > MAX_ENTRIES && first {
            out.skip(
                None,
                list.len() - MAX_ENTRIES,
                format!("/{key} beyond the first {MAX_ENTRIES}"),
            );
        }
        for o in list.iter().take(MAX_ENTRIES) {
            if budget.lookups == 0 {
                return false;
            }
            budget.lookups -= 1;
            let Some(r) = o.as_ref() else {
                if first {
                    out.skip(None, 1, format!("a /{key} entry that is not a stream"));
                }
                continue;
            };
            let at = place(doc, r);
            if seen.streams.contains(&(at, key)) || budget.failed.contains(&at) {
                continue;
            }
            let Ok(Object::Stream(s)) = doc.get(r) else {
                out.skip(Some(at), 1, format!("a /{key} entry that is not a stream"));
                seen.streams.insert((at, key));
                continue;
            };
            let b = match doc.decode(&s) {
                Ok(b) => b,
                Err(e @ (PdfError::Limit(_) | PdfError::Stopped)) => {
                    // The budget is spent (or this stream is over its limit): left unread,
                    // not marked read.
                    out.skip(Some(at), 1, format!("/{key}: {e}"));
                    budget.failed.insert(at);
                    continue;
                }
                Err(e) => {
                    out.skip(
                        Some(at),
                        1,
                        format!("a /{key} entry that does not decode ({e})"),
                    );
                    seen.streams.insert((at, key));
                    continue;
                }
            };
            seen.streams.insert((at, key));
            out.unskip(&at);
            if b.len() > MAX_ENTRY {
                out.skip(
                    Some(at),
                    1,
                    format!("a /{key} entry over {} MiB", MAX_ENTRY >> 20),
                );
            } else if seen
                .contents
                .insert((crate::crypto::Hash::Sha256.digest(&[&b]), key))
                && !f(&b)
            {
                out.skip(Some(at), 1, format!("a /{key} entry that does not parse"));
            }
        }
        true
    };
    let mut certs = Vec::new();
    let mut crls = Vec::new();
    let mut ocsps = Vec::new();
    let done = each("Certs", &mut |b| match Cert::from_ber(b) {
        Ok(c) => {
            certs.push(Arc::new(c));
            true
        }
        Err(_) => false,
    }) && each("CRLs", &mut |b| match Crl::from_ber(b) {
        Ok(c) => {
            crls.push(c);
            true
        }
        Err(_) => false,
    }) && each("OCSPs", &mut |b| match Ocsp::from_response(b) {
        Ok(o) => {
            ocsps.push(o);
            true
        }
        Err(_) => false,
    });
    out.certs.extend(certs);
    out.crls.extend(crls);
    out.ocsps.extend(ocsps);
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyso_pdf::{Dict, Stream, Update};
    use std::io::Write as _;

    fn flate(data: &[u8]) -> Stream {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(data).unwrap();
        Stream {
            dict: Dict::new().with("Filter", Object::name("FlateDecode")),
            data: z.finish().unwrap(),
        }
    }

    /// An update of `pdf` whose catalog names a new DSS with `crls` as its /CRLs.
    fn with_dss(pdf: &[u8], crls: Vec<Stream>) -> Vec<u8> {
        let doc = Document::parse(pdf).unwrap();
        let mut u = Update::new(&doc).unwrap();
        let refs = crls
            .into_iter()
            .map(|s| Object::Ref(u.add(Object::Stream(Box::new(s)))))
            .collect();
        let dss = u.add(Object::Dict(Dict::new().with("CRLs", Object::Array(refs))));
        let mut cat = doc.dict(doc.root()).unwrap();
        cat.set("DSS", Object::Ref(dss));
        u.replace(doc.root(), Object::Dict(cat));
        u.write().bytes
    }

    /// A later update whose DSS is five 60 MiB zlib bombs spends the file's decoding budget
    /// (256 MiB for a small file): a compressed CRL in an earlier revision read after it is
    /// not decoded. Read first, from its signed revision with a budget of its own, it is.
    #[test]
    fn a_signed_revisions_dss_is_read_before_what_later_updates_can_spend() {
        let der = pem::parse(include_str!("../../../tests/corpus/pki/issuing-ca.crl.pem"))
            .unwrap()
            .into_contents();
        let base = include_bytes!("../../../tests/fixtures/giay-phep.pdf");
        let signed = with_dss(base, vec![flate(&der)]);
        let bomb = flate(&vec![0u8; 60 << 20]);
        let whole = with_dss(&signed, vec![bomb; 5]);
        let file = Document::parse(&whole).unwrap();
        let rev = Document::parse(&whole[..signed.len()]).unwrap();

        let dss = read_all([(signed.len(), &rev), (whole.len(), &file)]);
        assert_eq!(dss.crls.len(), 1);
        assert_eq!(dss.crls[0].der(), &der[..]);
        // Held from the signed revision on: what a time-stamp over that revision covers.
        assert_eq!(dss.crl_at, [signed.len()]);
        // The bombs are named in the report, the CRL is not.
        assert_eq!(dss.skipped(), 5, "{:?}", dss.skipped_note());

        // Only the file's budget: the CRL is left out, and the report says so.
        let file = Document::parse(&whole).unwrap();
        let dss = read_all([(whole.len(), &file)]);
        assert!(dss.crls.is_empty());
        assert_eq!(dss.skipped(), 6, "{:?}", dss.skipped_note());
        assert!(dss.skipped_note().unwrap().contains("decode to more"));
    }
}
