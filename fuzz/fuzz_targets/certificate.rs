//! Certificates, CRLs and OCSP responses, PEM and DER (and BER), and path building and checks
//! over whatever parses.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use kyso_verify::path;
    if let Ok(certs) = kyso_verify::x509::load_certificates(data) {
        for c in &certs {
            if let Ok(p) = path::build(c, &certs, &certs) {
                let _ = path::check(&p, std::time::SystemTime::now(), path::Purpose::Signer);
            }
            let _ = path::check(std::slice::from_ref(c), std::time::SystemTime::now(), path::Purpose::Tsa);
            let _ = path::revocation::status_sources(c);
        }
    }
    let _ = kyso_verify::x509::load_crl(data);
    let _ = kyso_verify::x509::load_ocsp(data);
});
