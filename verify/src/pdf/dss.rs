//! Validation data from the Document Security Store (ETSI EN 319 142-1 §5.4.2): certificates,
//! CRLs and OCSP responses, as the bytes they were stored in.

use crate::x509::{Cert, CertRef, Crl, Ocsp};
use kyso_pdf::{Document, Object};
use std::sync::Arc;

/// Most entries read from each of /Certs, /CRLs and /OCSPs.
const MAX_ENTRIES: usize = 10_000;

/// The DSS's validation data.
#[derive(Default)]
pub struct Dss {
    pub certs: Vec<CertRef>,
    pub crls: Vec<Crl>,
    pub ocsps: Vec<Ocsp>,
}

/// Read the DSS of `doc` (what cannot be read is left out: validation data is evidence, and
/// a missing piece only means less evidence).
pub fn read(doc: &Document<'_>) -> Dss {
    let mut out = Dss::default();
    let Ok(root) = doc.dict(doc.root()) else {
        return out;
    };
    let Some(dss) = root.get("DSS").and_then(|d| doc.resolve(d).ok()) else {
        return out;
    };
    let Some(dss) = dss.as_dict() else { return out };
    let streams = |key: &str| -> Vec<Vec<u8>> {
        dss.get(key)
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
            .iter()
            .take(MAX_ENTRIES)
            .filter_map(|o| match doc.resolve(o).ok()? {
                Object::Stream(s) => kyso_pdf::document::decode_stream(&s).ok(),
                _ => None,
            })
            .collect()
    };
    out.certs = streams("Certs")
        .iter()
        .filter_map(|b| Cert::from_ber(b).ok().map(Arc::new))
        .collect();
    out.crls = streams("CRLs")
        .iter()
        .filter_map(|b| Crl::from_ber(b).ok())
        .collect();
    out.ocsps = streams("OCSPs")
        .iter()
        .filter_map(|b| Ocsp::from_response(b).ok())
        .collect();
    out
}
