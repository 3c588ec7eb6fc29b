//! The Document Security Store (ETSI EN 319 142-1 §5.4.2, ISO 32000-2 §12.8.4.3): validation
//! data — certificates, CRLs, OCSP responses — added to a PDF as an incremental update, merged
//! with what its DSS already holds. Each item is a stream of its DER bytes (FlateDecode); OCSP
//! streams hold whole OCSPResponses.

use crate::error::{Result, SignError};
use kyso_pdf::{Dict, Document, ObjRef, Object, Stream, Update};

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

/// The DER held by the streams a DSS array lists.
fn existing(doc: &Document<'_>, dss: &Dict, key: &str) -> Result<(Vec<Object>, Vec<Vec<u8>>)> {
    let arr = match dss.get(key) {
        Some(a) => doc.resolve(a)?,
        None => return Ok((Vec::new(), Vec::new())),
    };
    let refs = arr
        .as_array()
        .ok_or_else(|| SignError::Input(format!("the PDF's /DSS /{key} is not an array")))?
        .to_vec();
    let mut ders = Vec::with_capacity(refs.len());
    for r in &refs {
        if let Object::Stream(s) = doc.resolve(r)? {
            ders.push(doc.decode(&s)?);
        }
    }
    Ok((refs, ders))
}

/// Add `data` to the PDF's DSS (creating it if needed) as an incremental update. Items the
/// DSS already holds are not added again. With nothing new, the PDF comes back unchanged.
pub fn add_dss(pdf: &[u8], data: &DssData) -> Result<Vec<u8>> {
    let doc = Document::parse(pdf)?;
    let root_ref = doc.root();
    let mut root = doc.dict(root_ref)?;
    let (mut dss, dss_ref): (Dict, Option<ObjRef>) = match root.get("DSS") {
        Some(Object::Ref(r)) => (doc.dict(*r)?, Some(*r)),
        Some(Object::Dict(d)) => (d.clone(), None),
        Some(_) => {
            return Err(SignError::Input(
                "the PDF's /DSS is not a dictionary".into(),
            ))
        }
        None => (Dict::new().with("Type", Object::name("DSS")), None),
    };
    let mut up = Update::new(&doc)?;
    let mut added = 0;
    for (key, items) in [
        ("Certs", &data.certs),
        ("CRLs", &data.crls),
        ("OCSPs", &data.ocsps),
    ] {
        let (mut refs, mut have) = existing(&doc, &dss, key)?;
        for der in items {
            if have.contains(der) {
                continue;
            }
            let s = Stream {
                dict: Dict::new().with("Filter", Object::name("FlateDecode")),
                data: deflate(der),
            };
            refs.push(Object::Ref(up.add(Object::Stream(s))));
            have.push(der.clone());
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
    match dss_ref {
        Some(r) => up.replace(r, Object::Dict(dss)),
        None => {
            let r = up.add(Object::Dict(dss));
            root.set("DSS", Object::Ref(r));
            up.replace(root_ref, Object::Dict(root));
        }
    }
    Ok(up.write().bytes)
}
