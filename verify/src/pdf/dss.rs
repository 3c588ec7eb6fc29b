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
    /// Entries not read, and why (the report says so: what they held was not used): those
    /// given by reference by where they are (one another document read after all is taken
    /// off), and the others by count.
    skipped: HashMap<Place, String>,
    skipped_other: Vec<(usize, String)>,
}

impl Dss {
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

/// What has been read already, by where the revision placed it, so that each catalog, DSS,
/// array and stream is read once however many revisions name it; and decoded contents (by
/// hash), so that each item is parsed once.
#[derive(Default)]
struct Seen {
    /// Cross-reference sections whose revision was read (a revision's chain is the same
    /// from any file or signed revision that reaches it).
    sections: HashSet<usize>,
    /// Catalogs, with the DSS each names.
    catalogs: HashMap<Place, Option<Object>>,
    /// DSS dictionaries and arrays given by reference.
    objects: HashSet<Place>,
    streams: HashSet<Place>,
    contents: HashSet<Vec<u8>>,
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
pub fn read_all<'d, 'a: 'd>(docs: impl IntoIterator<Item = &'d Document<'a>>) -> Dss {
    let mut out = Dss::default();
    let mut seen = Seen::default();
    for doc in docs {
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
            read_into(rev, &mut out, &mut seen);
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
    let catalog = place(doc, doc.root());
    let dss = match seen.catalogs.get(&catalog) {
        // The same catalog: a DSS it gives inline was read with it; one it names by
        // reference is looked up again (this revision may place another object there).
        Some(Some(Object::Ref(r))) => Object::Ref(*r),
        Some(_) => return,
        None => {
            let named = doc
                .dict(doc.root())
                .ok()
                .and_then(|root| root.get("DSS").cloned());
            seen.catalogs.insert(catalog, named.clone());
            match named {
                Some(d) => d,
                None => return,
            }
        }
    };
    let dss_at = dss.as_ref().map(|r| place(doc, r));
    if dss_at.as_ref().is_some_and(|p| seen.objects.contains(p)) {
        return;
    }
    let Some(dss) = doc.resolve(&dss).ok() else {
        return;
    };
    let Some(dss) = dss.as_dict() else { return };
    // Each entry is decoded within the document's decoding budget and parsed at once: a
    // compression bomb in the DSS ends the reading, not the process. What a spent budget
    // left unread is not marked read: another document (a signed revision, with a budget of
    // its own) may read it.
    let mut complete = true;
    let mut each = |key: &str, f: &mut dyn FnMut(&[u8]) -> bool| {
        let array_at = dss.get(key).and_then(Object::as_ref).map(|r| place(doc, r));
        if array_at.as_ref().is_some_and(|p| seen.objects.contains(p)) {
            return;
        }
        let list = dss
            .get(key)
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default();
        if list.len() > MAX_ENTRIES {
            out.skip(
                None,
                list.len() - MAX_ENTRIES,
                format!("/{key} beyond the first {MAX_ENTRIES}"),
            );
        }
        let mut read_all = true;
        for o in list.iter().take(MAX_ENTRIES) {
            let at = o.as_ref().map(|r| place(doc, r));
            if at.as_ref().is_some_and(|p| seen.streams.contains(p)) {
                continue;
            }
            let Ok(Object::Stream(s)) = doc.resolve(o) else {
                out.skip(at, 1, format!("a /{key} entry that is not a stream"));
                continue;
            };
            let b = match doc.decode(&s) {
                Ok(b) => b,
                Err(e @ (PdfError::Limit(_) | PdfError::Stopped)) => {
                    // The document's decoding budget is spent: nothing more is decoded.
                    let left = list.iter().take(MAX_ENTRIES).filter(|o| {
                        !o.as_ref()
                            .is_some_and(|r| seen.streams.contains(&place(doc, r)))
                    });
                    for o in left {
                        out.skip(o.as_ref().map(|r| place(doc, r)), 1, format!("/{key}: {e}"));
                    }
                    read_all = false;
                    break;
                }
                Err(e) => {
                    out.skip(at, 1, format!("a /{key} entry that does not decode ({e})"));
                    continue;
                }
            };
            if let Some(p) = at {
                seen.streams.insert(p);
                out.unskip(&p);
            }
            if b.len() > MAX_ENTRY {
                out.skip(
                    at,
                    1,
                    format!("a /{key} entry over {} MiB", MAX_ENTRY >> 20),
                );
            } else if seen
                .contents
                .insert(crate::crypto::Hash::Sha256.digest(&[&b]))
                && !f(&b)
            {
                out.skip(at, 1, format!("a /{key} entry that does not parse"));
            }
        }
        match array_at {
            Some(p) if read_all => {
                seen.objects.insert(p);
            }
            _ => {}
        }
        complete &= read_all;
    };
    let mut certs = Vec::new();
    let mut crls = Vec::new();
    let mut ocsps = Vec::new();
    each("Certs", &mut |b| match Cert::from_ber(b) {
        Ok(c) => {
            certs.push(Arc::new(c));
            true
        }
        Err(_) => false,
    });
    each("CRLs", &mut |b| match Crl::from_ber(b) {
        Ok(c) => {
            crls.push(c);
            true
        }
        Err(_) => false,
    });
    each("OCSPs", &mut |b| match Ocsp::from_response(b) {
        Ok(o) => {
            ocsps.push(o);
            true
        }
        Err(_) => false,
    });
    out.certs.extend(certs);
    out.crls.extend(crls);
    out.ocsps.extend(ocsps);
    match dss_at {
        Some(p) if complete => {
            seen.objects.insert(p);
        }
        // A DSS given inline is read again with its catalog from another document.
        None if !complete => {
            seen.catalogs.remove(&catalog);
        }
        _ => {}
    }
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
        let mut u = Update::new(&doc);
        let refs = crls
            .into_iter()
            .map(|s| Object::Ref(u.add(Object::Stream(s))))
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

        let dss = read_all([&rev, &file]);
        assert_eq!(dss.crls.len(), 1);
        assert_eq!(dss.crls[0].der(), &der[..]);
        // The bombs are named in the report, the CRL is not.
        assert_eq!(dss.skipped(), 5, "{:?}", dss.skipped_note());

        // Only the file's budget: the CRL is left out, and the report says so.
        let file = Document::parse(&whole).unwrap();
        let dss = read_all([&file]);
        assert!(dss.crls.is_empty());
        assert_eq!(dss.skipped(), 6, "{:?}", dss.skipped_note());
        assert!(dss.skipped_note().unwrap().contains("decode to more"));
    }
}
