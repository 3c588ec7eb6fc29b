//! Validation data from the Document Security Store (ETSI EN 319 142-1 §5.4.2): certificates,
//! CRLs and OCSP responses, as the bytes they were stored in.

use crate::x509::{Cert, CertRef, Crl, Ocsp};
use kyso_pdf::{Document, Object};
use std::sync::Arc;

/// Most entries read from each of /Certs, /CRLs and /OCSPs.
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
    // Each entry is decoded within the document's decoding budget and parsed at once: a
    // compression bomb in the DSS ends the reading, not the process.
    let each = |key: &str, f: &mut dyn FnMut(&[u8])| {
        let list = dss
            .get(key)
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default();
        for o in list.iter().take(MAX_ENTRIES) {
            let Ok(Object::Stream(s)) = doc.resolve(o) else {
                continue;
            };
            match doc.decode(&s) {
                Ok(b) if b.len() <= MAX_ENTRY => f(&b),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    };
    each("Certs", &mut |b| {
        out.certs.extend(Cert::from_ber(b).ok().map(Arc::new))
    });
    each("CRLs", &mut |b| out.crls.extend(Crl::from_ber(b).ok()));
    each("OCSPs", &mut |b| {
        out.ocsps.extend(Ocsp::from_response(b).ok())
    });
    out
}
