//! Revocation data judged: the input is certificates, CRLs and OCSP responses (DER or PEM),
//! separated by `KYSO`; every certificate whose issuer is among them has its status told from
//! all the CRLs and OCSP responses (kyso-verify's validator: scopes, delegated responders and
//! their own status, answers it may not believe), and every response is read as the service
//! reads a trust file's (`answers`, `answered_by`). The seeds (fuzz/run.sh) are a CA, a signer,
//! a delegated responder, CRLs and responses OpenSSL made, whose signatures hold.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use kyso_verify::path::revocation;
    use kyso_verify::x509;
    let mut certs = Vec::new();
    let mut crls = Vec::new();
    let mut ocsps = Vec::new();
    let mut rest = data;
    // At most 16 items: each certificate is judged against every item.
    for _ in 0..16 {
        let (blob, more) = match rest.windows(4).position(|w| w == b"KYSO") {
            Some(i) => (&rest[..i], Some(&rest[i + 4..])),
            None => (rest, None),
        };
        if let Ok(c) = x509::load_certificates(blob) {
            certs.extend(c.into_iter().take(4));
        }
        if let Ok(c) = x509::load_crl(blob) {
            crls.push(c);
        }
        if let Ok(o) = x509::load_ocsp(blob) {
            ocsps.push(o);
        } else if let Ok(o) = kyso_verify::Ocsp::from_basic(blob) {
            ocsps.push(o);
        }
        match more {
            Some(m) => rest = m,
            None => break,
        }
    }
    let now = std::time::SystemTime::now();
    let data = revocation::Data {
        crls: &crls,
        ocsps: &ocsps,
    };
    for c in &certs {
        for issuer in &certs {
            if c.named_issuer(issuer) {
                let _ = revocation::status(c, issuer, data, now, now, None);
            }
        }
    }
    for o in &ocsps {
        let _ = revocation::answers(o, &certs);
        for c in &certs {
            let _ = revocation::answered_by(o, c);
        }
    }
    for c in &crls {
        let _ = (c.scope(), c.number());
    }
});
