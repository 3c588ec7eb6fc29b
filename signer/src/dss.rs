//! The Document Security Store (ETSI EN 319 142-1 §5.4.2, ISO 32000-2 §12.8.4.3): validation
//! data — certificates, CRLs, OCSP responses — added to a PDF as an incremental update, merged
//! with what its DSS already holds. Each item is a stream of its DER bytes (FlateDecode); OCSP
//! streams hold whole OCSPResponses.

use crate::error::Result;
use kyso_pdf::{Dict, Document, ObjRef, Object, Stream, Update};
use std::collections::HashSet;

/// Validation data to add, as DER.
#[derive(Debug, Clone, Default)]
pub struct DssData {
    pub certs: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    /// OCSPResponse DER.
    pub ocsps: Vec<Vec<u8>>,
}

impl DssData {
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.crls.is_empty() && self.ocsps.is_empty()
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

/// Most entries of a DSS array the verifier reads (verify/src/pdf/dss.rs): the entries added
/// go first, within them.
const MAX_ENTRIES: usize = 10_000;
/// Largest item hashed, decoded (a certificate, a CRL, an OCSP response).
const MAX_ENTRY: usize = 32 << 20;
/// Most bytes decoded from the DSS there is, all arrays together.
const MAX_DECODED: usize = 512 << 20;

/// The entries a DSS array lists (each reference once, in order), and the SHA-256 of the DER
/// the streams among its first [`MAX_ENTRIES`] hold, to add nothing twice. Each object is
/// decoded once however often it is listed (`hashed`), and only digests are kept: a 1.2 MB file
/// listing one 1 MiB stream 20,000 times took the signer past 20 GB (helper 175). Reading is
/// best effort: an entry that cannot be read, decodes to more than [`MAX_ENTRY`] or comes
/// after `budget` is spent is kept but not hashed (what is added may then repeat it, which is
/// harmless), and a value that is no array is no validation data — none is a reason to refuse,
/// or anyone who may append an update could stop every later renewal (helper 177).
fn existing(
    doc: &Document<'_>,
    dss: &Dict,
    key: &str,
    hashed: &mut HashSet<ObjRef>,
    budget: &mut usize,
) -> (Vec<Object>, Digests) {
    let list = dss
        .get(key)
        .and_then(|a| doc.resolve(a).ok())
        .and_then(|a| a.as_array().map(<[Object]>::to_vec))
        .unwrap_or_default();
    let mut listed = HashSet::new();
    let refs: Vec<Object> = list
        .into_iter()
        .filter(|o| match o {
            Object::Ref(r) => listed.insert(*r),
            _ => true,
        })
        .collect();
    let mut digests = Digests::default();
    for r in refs.iter().take(MAX_ENTRIES) {
        if let Object::Ref(o) = r {
            if !hashed.insert(*o) {
                continue;
            }
        }
        let Ok(Object::Stream(s)) = doc.resolve(r) else {
            continue;
        };
        // Streams written as kyso writes its items (/FlateDecode alone) are known by their
        // bytes, which cost no decoding: kyso's own earlier items are so, however much junk
        // spent the decoding budget before them — each renewal added the same CRL again
        // (helper 179). Only as kyso writes them: a stream whose raw bytes were a CRL's DER
        // under a filter it does not decode with made kyso leave that CRL out (helper 181).
        let as_kyso_writes = s
            .dict
            .get("Filter")
            .is_some_and(|f| f.is_name("FlateDecode"))
            && s.dict.get("DecodeParms").is_none();
        if as_kyso_writes {
            digests.deflated.insert(sha256(&s.data));
        }
        if *budget == 0 {
            continue;
        }
        if let Ok(der) = doc.decode_at_most(&s, MAX_ENTRY.min(*budget)) {
            *budget = budget.saturating_sub(der.len());
            digests.decoded.insert(sha256(&der));
        }
    }
    (refs, digests)
}

/// What a DSS array is known to hold: the SHA-256 of the DER its streams decode to, and of the
/// bytes of those written as kyso writes its items (FlateDecode alone).
#[derive(Default)]
struct Digests {
    decoded: HashSet<[u8; 32]>,
    deflated: HashSet<[u8; 32]>,
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// Add `data` to the PDF's DSS (creating it if needed) as an incremental update. Items the
/// DSS already holds are not added again. With nothing new, the PDF comes back unchanged.
pub fn add_dss(pdf: &[u8], data: &DssData) -> Result<Vec<u8>> {
    let doc = Document::parse(pdf)?;
    let root_ref = doc.root();
    let mut root = doc.dict(root_ref)?;
    // What /DSS names, if it is a dictionary: anything else is no validation data, and no
    // reason to refuse — an update that made it an integer stopped every later renewal (as
    // the arrays, helper 177). The new DSS replaces it.
    let old: Dict = root
        .get("DSS")
        .and_then(|o| doc.resolve(o).ok())
        .and_then(|o| o.as_dict().cloned())
        .unwrap_or_default();
    // A new dictionary of the DSS's own keys: the object /DSS named may be a page or the
    // catalog, whose other keys a DSS does not carry (helper 177).
    let mut dss = Dict::new().with("Type", Object::name("DSS"));
    if let Some(vri) = old.get("VRI") {
        dss.set("VRI", vri.clone());
    }
    let mut up = Update::new(&doc)?;
    let mut added = 0;
    let mut budget = MAX_DECODED;
    let mut hashed = HashSet::new();
    for (key, items) in [
        ("Certs", &data.certs),
        ("CRLs", &data.crls),
        ("OCSPs", &data.ocsps),
    ] {
        let (refs, mut have) = existing(&doc, &old, key, &mut hashed, &mut budget);
        // What is added goes first, where the verifier reads (the first 10,000): appended
        // after 9,999 junk entries, it was never read, and kyso said "extended" (helper 177).
        let mut list = Vec::new();
        for der in items {
            let data = deflate(der);
            if have.deflated.contains(&sha256(&data)) || !have.decoded.insert(sha256(der)) {
                continue;
            }
            let s = Stream {
                dict: Dict::new().with("Filter", Object::name("FlateDecode")),
                data,
            };
            list.push(Object::Ref(up.add(Object::Stream(Box::new(s)))));
            added += 1;
        }
        list.extend(refs);
        if !list.is_empty() {
            // A direct array in the new DSS dictionary.
            dss.set(key, Object::Array(list));
        }
    }
    if added == 0 {
        return Ok(pdf.to_vec());
    }
    // Always a new object, the catalog pointing at it: the object /DSS named may be one a
    // signature covers for another purpose (a page, the signature dictionary, the catalog), and
    // its new version replaced that object too — the earlier signature then failed, and kyso
    // said it had extended the document (helper 175).
    let r = up.add(Object::Dict(dss));
    root.set("DSS", Object::Ref(r));
    up.replace(root_ref, Object::Dict(root));
    Ok(up.write().bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DSS stream whose raw bytes are an item's DER under a filter they do not decode with
    /// is no such item: the item is still added (helper 181: kyso took a CRL so written as
    /// there already, and left it out). One written as kyso writes its items is known by its
    /// bytes, and not added again.
    #[test]
    fn an_item_is_known_by_its_bytes_only_as_kyso_writes_it() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/giay-phep.pdf"
        );
        let pdf = std::fs::read(fixture).unwrap();
        let der = b"0\x03\x02\x01\x05 not a certificate, any bytes".to_vec();
        let with_stream = |data: Vec<u8>| {
            let doc = Document::parse(&pdf).unwrap();
            let mut up = Update::new(&doc).unwrap();
            let s = up.add(Object::Stream(Box::new(Stream {
                dict: Dict::new().with("Filter", Object::name("FlateDecode")),
                data,
            })));
            let dss = up.add(Object::Dict(
                Dict::new()
                    .with("Type", Object::name("DSS"))
                    .with("Certs", Object::Array(vec![Object::Ref(s)])),
            ));
            let mut root = doc.dict(doc.root()).unwrap();
            root.set("DSS", Object::Ref(dss));
            up.replace(doc.root(), Object::Dict(root));
            up.write().bytes
        };
        let data = DssData {
            certs: vec![der.clone()],
            ..Default::default()
        };
        // The DER itself under /FlateDecode: undecodable, not the item.
        let poisoned = with_stream(der.clone());
        assert_ne!(add_dss(&poisoned, &data).unwrap(), poisoned);
        // The item as kyso deflates it: there already.
        let kyso_wrote = with_stream(deflate(&der));
        assert_eq!(add_dss(&kyso_wrote, &data).unwrap(), kyso_wrote);
        // A /DSS that is no dictionary is replaced, not a reason to refuse.
        let doc = Document::parse(&pdf).unwrap();
        let mut up = Update::new(&doc).unwrap();
        let mut root = doc.dict(doc.root()).unwrap();
        root.set("DSS", Object::Int(5));
        up.replace(doc.root(), Object::Dict(root));
        let odd = up.write().bytes;
        let extended = add_dss(&odd, &data).unwrap();
        let doc = Document::parse(&extended).unwrap();
        let dss = doc.dict(doc.root()).unwrap().get("DSS").cloned().unwrap();
        assert!(doc.resolve(&dss).unwrap().as_dict().is_some());
    }
}
