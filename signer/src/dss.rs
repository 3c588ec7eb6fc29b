//! The Document Security Store (ETSI EN 319 142-1 §5.4.2, ISO 32000-2 §12.8.4.3): validation
//! data — certificates, CRLs, OCSP responses — added to a PDF as an incremental update, merged
//! with what its DSS already holds. Each item is a stream of its DER bytes (FlateDecode); OCSP
//! streams hold whole OCSPResponses.

use crate::error::{Result, SignError};
use kyso_pdf::{Dict, Document, Object, Stream, Update};
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

/// Most entries a DSS array may list (as the verifier reads: verify/src/pdf/dss.rs).
const MAX_ENTRIES: usize = 10_000;
/// Largest item, decoded (a certificate, a CRL, an OCSP response).
const MAX_ENTRY: usize = 32 << 20;
/// Most bytes decoded from the DSS there is, all arrays together.
const MAX_DECODED: usize = 512 << 20;

/// The entries a DSS array lists, and the SHA-256 of the DER each stream holds (to add nothing
/// twice). Each object is read once however often it is listed, and only digests are kept: a
/// 1.2 MB file listing one 1 MiB stream 20,000 times took the signer past 20 GB (helper 175).
/// `budget`: bytes left to decode.
fn existing(
    doc: &Document<'_>,
    dss: &Dict,
    key: &str,
    budget: &mut usize,
) -> Result<(Vec<Object>, HashSet<[u8; 32]>)> {
    let arr = match dss.get(key) {
        Some(a) => doc.resolve(a)?,
        None => return Ok((Vec::new(), HashSet::new())),
    };
    let refs = arr
        .as_array()
        .ok_or_else(|| SignError::Input(format!("the PDF's /DSS /{key} is not an array")))?
        .to_vec();
    if refs.len() > MAX_ENTRIES {
        return Err(SignError::Input(format!(
            "the PDF's /DSS /{key} lists {} entries, more than the {MAX_ENTRIES} kyso reads",
            refs.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut digests = HashSet::new();
    for r in &refs {
        if let Object::Ref(o) = r {
            if !seen.insert(*o) {
                continue;
            }
        }
        if let Object::Stream(s) = doc.resolve(r)? {
            let der = doc.decode_at_most(&s, MAX_ENTRY.min(*budget))?;
            *budget = budget.saturating_sub(der.len());
            if *budget == 0 {
                return Err(SignError::Input(format!(
                    "the PDF's /DSS holds more than {} MiB of validation data",
                    MAX_DECODED >> 20
                )));
            }
            digests.insert(sha256(&der));
        }
    }
    Ok((refs, digests))
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
    let mut dss: Dict = match root.get("DSS") {
        Some(Object::Ref(r)) => doc.dict(*r)?,
        Some(Object::Dict(d)) => d.clone(),
        Some(_) => {
            return Err(SignError::Input(
                "the PDF's /DSS is not a dictionary".into(),
            ))
        }
        None => Dict::new().with("Type", Object::name("DSS")),
    };
    let mut up = Update::new(&doc)?;
    let mut added = 0;
    let mut budget = MAX_DECODED;
    for (key, items) in [
        ("Certs", &data.certs),
        ("CRLs", &data.crls),
        ("OCSPs", &data.ocsps),
    ] {
        let (mut refs, mut have) = existing(&doc, &dss, key, &mut budget)?;
        for der in items {
            if !have.insert(sha256(der)) {
                continue;
            }
            let s = Stream {
                dict: Dict::new().with("Filter", Object::name("FlateDecode")),
                data: deflate(der),
            };
            refs.push(Object::Ref(up.add(Object::Stream(s))));
            added += 1;
        }
        if !refs.is_empty() {
            // A direct array in the (new version of the) DSS dictionary.
            dss.set(key, Object::Array(refs));
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
