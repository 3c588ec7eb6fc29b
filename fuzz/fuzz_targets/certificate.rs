//! Certificates and CRLs, PEM and DER, and path checks over whatever parses.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(certs) = kyso_verify::path::load_certificates(data) {
        for c in &certs {
            let _ = kyso_verify::path::build(c, &certs, &certs);
            let _ = kyso_verify::path::check(std::slice::from_ref(c), std::time::SystemTime::now(), kyso_verify::path::Purpose::Signer);
        }
    }
    let _ = kyso_verify::path::load_crl(data);
});
