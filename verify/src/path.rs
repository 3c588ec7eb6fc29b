//! Certification paths (RFC 5280 §6): built from the signature's certificates, extra
//! certificates and the trust anchors, then checked at a time: validity periods, names,
//! signatures, basicConstraints and pathLenConstraint, keyUsage, extendedKeyUsage for TSAs,
//! unknown critical extensions. And revocation from CRLs (RFC 5280 §6.3).

use crate::crypto::{self, CryptoFail};
use const_oid::db::rfc5280 as ext;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use std::time::SystemTime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::Certificate;

/// What a path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A document signer: keyUsage digitalSignature or nonRepudiation.
    Signer,
    /// A time-stamping authority: EKU id-kp-timeStamping (RFC 3161 §2.3).
    Tsa,
}

/// What is wrong with a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    Expired(String),
    NotYetValid(String),
    /// A signature in the chain, a CA flag, a path length, a key usage, a critical extension.
    Constraints(String),
    /// Weak algorithms in the chain.
    Crypto(String),
}

fn find_ext(c: &Certificate, oid: ObjectIdentifier) -> Option<&x509_cert::ext::Extension> {
    c.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
}

fn subject(c: &Certificate) -> String {
    c.tbs_certificate.subject.to_string()
}

/// Does `issuer`'s key verify `cert`'s signature?
pub fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<(), CryptoFail> {
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|e| CryptoFail::Unsupported(e.to_string()))?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or_else(|| CryptoFail::Unsupported("signature is not whole bytes".into()))?;
    crypto::verify(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm,
        None,
        &tbs,
        sig,
    )
}

fn is_self_issued(c: &Certificate) -> bool {
    c.tbs_certificate.subject == c.tbs_certificate.issuer
}

/// Build a path from `leaf` to one of `anchors`, using `pool` for intermediates. The path is
/// leaf first, anchor last. Candidates are tried by name and confirmed by signature.
pub fn build(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &[Certificate],
) -> Option<Vec<Certificate>> {
    fn walk(path: &mut Vec<Certificate>, pool: &[Certificate], anchors: &[Certificate]) -> bool {
        let cur = path.last().expect("non-empty").clone();
        if anchors.contains(&cur) {
            return true;
        }
        if path.len() > 10 {
            return false;
        }
        for cand in anchors.iter().chain(pool.iter()) {
            if cand.tbs_certificate.subject != cur.tbs_certificate.issuer || path.contains(cand) {
                continue;
            }
            if matches!(
                signed_by(&cur, cand),
                Err(CryptoFail::Invalid(_) | CryptoFail::Unsupported(_))
            ) {
                continue;
            }
            path.push(cand.clone());
            if walk(path, pool, anchors) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![leaf.clone()];
    walk(&mut path, pool, anchors).then_some(path)
}

/// Check a built path at time `at`. Anchors (the last element) are trusted as they are.
pub fn check(path: &[Certificate], at: SystemTime, purpose: Purpose) -> Vec<PathProblem> {
    let mut problems = Vec::new();
    let n = path.len();
    let known: [ObjectIdentifier; 11] = [
        ext::ID_CE_BASIC_CONSTRAINTS,
        ext::ID_CE_KEY_USAGE,
        ext::ID_CE_EXT_KEY_USAGE,
        ext::ID_CE_SUBJECT_KEY_IDENTIFIER,
        ext::ID_CE_AUTHORITY_KEY_IDENTIFIER,
        ext::ID_CE_SUBJECT_ALT_NAME,
        ext::ID_CE_ISSUER_ALT_NAME,
        ext::ID_CE_CERTIFICATE_POLICIES,
        ext::ID_CE_CRL_DISTRIBUTION_POINTS,
        const_oid::db::rfc5912::ID_PE_AUTHORITY_INFO_ACCESS,
        ext::ID_CE_FRESHEST_CRL,
    ];
    for (i, c) in path.iter().enumerate() {
        let is_anchor = i == n - 1;
        let name = subject(c);
        // An anchor's own dates are not checked (RFC 5280 §6.1.1 (d)) — unless the anchor is the
        // signer's own certificate, trusted directly.
        if !is_anchor || i == 0 {
            let v = &c.tbs_certificate.validity;
            if at > v.not_after.to_system_time() {
                problems.push(PathProblem::Expired(format!(
                    "certificate {name} expired on {}",
                    v.not_after
                )));
            }
            if at < v.not_before.to_system_time() {
                problems.push(PathProblem::NotYetValid(format!(
                    "certificate {name} is valid only from {}",
                    v.not_before
                )));
            }
        }
        // Signatures were verified by `build`, which links certificates only through them;
        // what remains is the policy on their algorithms.
        if !is_anchor {
            let issuer = &path[i + 1];
            if let Some(w) = crypto::weakness(
                &issuer.tbs_certificate.subject_public_key_info,
                &c.signature_algorithm,
            ) {
                problems.push(PathProblem::Crypto(format!("certificate {name}: {w}")));
            }
        }
        for e in c.tbs_certificate.extensions.iter().flatten() {
            if e.critical && !known.contains(&e.extn_id) {
                problems.push(PathProblem::Constraints(format!(
                    "certificate {name} has an unknown critical extension {}",
                    e.extn_id
                )));
            }
        }
        let ku = find_ext(c, ext::ID_CE_KEY_USAGE)
            .and_then(|e| KeyUsage::from_der(e.extn_value.as_bytes()).ok());
        if i > 0 {
            // An issuer: a CA with keyCertSign, within its pathLenConstraint (§6.1.4).
            let bc = find_ext(c, ext::ID_CE_BASIC_CONSTRAINTS)
                .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok());
            let v1_self_signed_anchor = is_anchor && c.tbs_certificate.extensions.is_none();
            match &bc {
                Some(b) if b.ca => {
                    if let Some(max) = b.path_len_constraint {
                        // certificates below this one that are not self-issued, excluding the leaf
                        let below = path[1..i].iter().filter(|x| !is_self_issued(x)).count();
                        if below > max as usize {
                            problems.push(PathProblem::Constraints(format!(
                                "certificate {name} allows {max} CA(s) below it, the path has {below}"
                            )));
                        }
                    }
                }
                _ if v1_self_signed_anchor => {}
                _ => problems.push(PathProblem::Constraints(format!(
                    "certificate {name} issues certificates but is not a CA (basicConstraints)"
                ))),
            }
            if let Some(k) = ku {
                if !k.0.contains(KeyUsages::KeyCertSign) {
                    problems.push(PathProblem::Constraints(format!(
                        "certificate {name} may not sign certificates (keyUsage lacks keyCertSign)"
                    )));
                }
            }
        } else {
            match purpose {
                Purpose::Signer => {
                    if let Some(k) = ku {
                        if !(k.0.contains(KeyUsages::DigitalSignature)
                            || k.0.contains(KeyUsages::NonRepudiation))
                        {
                            problems.push(PathProblem::Constraints(format!(
                                "certificate {name} may not sign documents (keyUsage has neither digitalSignature nor nonRepudiation)"
                            )));
                        }
                    }
                }
                Purpose::Tsa => {
                    let eku = find_ext(c, ext::ID_CE_EXT_KEY_USAGE)
                        .and_then(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok());
                    if !eku
                        .is_some_and(|u| u.0.contains(&const_oid::db::rfc5912::ID_KP_TIME_STAMPING))
                    {
                        problems.push(PathProblem::Constraints(format!("certificate {name} is not a TSA certificate (no extendedKeyUsage timeStamping)")));
                    }
                }
            }
        }
    }
    problems
}

/// A certificate's revocation as a CRL tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// A CRL from the issuer, signed by it, covers the certificate and does not list it.
    Good,
    Revoked(SystemTime),
    /// No usable CRL.
    Unknown,
}

/// Look the certificate up in the CRLs that its issuer signed (RFC 5280 §6.3, simplified: full
/// CRLs, no delta CRLs, no indirect CRLs).
pub fn crl_status(
    cert: &Certificate,
    issuer: &Certificate,
    crls: &[CertificateList],
    now: SystemTime,
) -> (Revocation, Vec<String>) {
    let mut notes = Vec::new();
    let mut status = Revocation::Unknown;
    for crl in crls {
        let t = &crl.tbs_cert_list;
        if t.issuer != issuer.tbs_certificate.subject {
            continue;
        }
        let Ok(tbs) = t.to_der() else { continue };
        let Some(sig) = crl.signature.as_bytes() else {
            continue;
        };
        if let Err(e) = crypto::verify(
            &issuer.tbs_certificate.subject_public_key_info,
            &crl.signature_algorithm,
            None,
            &tbs,
            sig,
        ) {
            notes.push(format!(
                "a CRL from {} does not verify ({e}); ignored",
                t.issuer
            ));
            continue;
        }
        if t.this_update.to_system_time() > now {
            notes.push(format!(
                "a CRL from {} is dated in the future; ignored",
                t.issuer
            ));
            continue;
        }
        if let Some(next) = &t.next_update {
            if next.to_system_time() < now {
                notes.push(format!("the CRL from {} is past its nextUpdate {next}; used, but newer information may exist", t.issuer));
            }
        }
        let revoked = t
            .revoked_certificates
            .iter()
            .flatten()
            .find(|r| r.serial_number == cert.tbs_certificate.serial_number);
        match revoked {
            Some(r) => {
                return (
                    Revocation::Revoked(r.revocation_date.to_system_time()),
                    notes,
                )
            }
            None => status = Revocation::Good,
        }
    }
    (status, notes)
}

/// id-kp-OCSPSigning (RFC 6960 §4.2.2.2).
const ID_KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");

/// Parse an OCSPResponse (RFC 6960 §4.2.1) down to its BasicOCSPResponse.
pub fn load_ocsp(der: &[u8]) -> Result<x509_ocsp::BasicOcspResponse, String> {
    let r = x509_ocsp::OcspResponse::from_der(der).map_err(|e| e.to_string())?;
    let bytes = r.response_bytes.ok_or("OCSP response without a body")?;
    x509_ocsp::BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(|e| e.to_string())
}

/// The certificate's status in OCSP responses whose signer is its issuer or a responder the
/// issuer delegated (extendedKeyUsage OCSPSigning) — RFC 6960 §4.2.2.2, §3.2.
pub fn ocsp_status(
    cert: &Certificate,
    issuer: &Certificate,
    responses: &[x509_ocsp::BasicOcspResponse],
    now: SystemTime,
) -> (Revocation, Vec<String>) {
    use x509_ocsp::CertStatus;
    let mut notes = Vec::new();
    for resp in responses {
        for single in &resp.tbs_response_data.responses {
            let id = &single.cert_id;
            if id.serial_number != cert.tbs_certificate.serial_number {
                continue;
            }
            let Some(h) = crypto::Hash::from_oid(&id.hash_algorithm.oid) else {
                continue;
            };
            let name_der = issuer.tbs_certificate.subject.to_der().unwrap_or_default();
            let key = issuer
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes();
            if h.digest(&[&name_der]) != id.issuer_name_hash.as_bytes()
                || h.digest(&[key]) != id.issuer_key_hash.as_bytes()
            {
                continue;
            }
            // Who signed the response: the issuer itself, or a delegated responder.
            let tbs = resp.tbs_response_data.to_der().unwrap_or_default();
            let sig = resp.signature.as_bytes().unwrap_or_default();
            let by_issuer = crypto::verify(
                &issuer.tbs_certificate.subject_public_key_info,
                &resp.signature_algorithm,
                None,
                &tbs,
                sig,
            )
            .is_ok();
            let by_delegate = !by_issuer
                && resp.certs.iter().flatten().any(|r| {
                    let eku = find_ext(r, ext::ID_CE_EXT_KEY_USAGE)
                        .and_then(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok());
                    eku.is_some_and(|u| u.0.contains(&ID_KP_OCSP_SIGNING))
                        && signed_by(r, issuer).is_ok()
                        && crypto::verify(
                            &r.tbs_certificate.subject_public_key_info,
                            &resp.signature_algorithm,
                            None,
                            &tbs,
                            sig,
                        )
                        .is_ok()
                });
            if !by_issuer && !by_delegate {
                notes.push(format!("an OCSP response for {} is not signed by its issuer or a delegated responder; ignored", subject(cert)));
                continue;
            }
            if single.this_update.0.to_system_time() > now + std::time::Duration::from_secs(300) {
                notes.push("an OCSP response is dated in the future; ignored".into());
                continue;
            }
            match &single.cert_status {
                CertStatus::Good(_) => return (Revocation::Good, notes),
                CertStatus::Revoked(info) => {
                    return (
                        Revocation::Revoked(info.revocation_time.0.to_system_time()),
                        notes,
                    )
                }
                CertStatus::Unknown(_) => notes.push(format!(
                    "the OCSP responder does not know {}",
                    subject(cert)
                )),
            }
        }
    }
    (Revocation::Unknown, notes)
}

/// PEM blocks (RFC 7468) read leniently: any line length, any white space, as OpenSSL
/// accepts them — certificates from the field come with 76-character lines and CRLF.
pub fn pem_blocks(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use base64ct::Encoding;
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(b) = rest.find("-----BEGIN ") {
        let after = &rest[b + 11..];
        let Some(l) = after.find("-----") else { break };
        let label = after[..l].to_string();
        let body_start = &after[l + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(e) = body_start.find(&end_marker) else {
            break;
        };
        let b64: String = body_start[..e]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Ok(der) = base64ct::Base64::decode_vec(&b64) {
            out.push((label, der));
        }
        rest = &body_start[e + end_marker.len()..];
    }
    out
}

/// Load certificates from PEM (one or more) or DER bytes.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let certs: Vec<Certificate> = pem_blocks(bytes)
            .into_iter()
            .filter(|(l, _)| {
                l == "CERTIFICATE" || l == "TRUSTED CERTIFICATE" || l == "X509 CERTIFICATE"
            })
            .map(|(_, d)| Certificate::from_der(&d).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        if certs.is_empty() {
            return Err("no CERTIFICATE block".into());
        }
        Ok(certs)
    } else {
        Certificate::from_der(bytes)
            .map(|c| vec![c])
            .map_err(|e| e.to_string())
    }
}

/// Load a CRL from PEM or DER bytes.
pub fn load_crl(bytes: &[u8]) -> Result<CertificateList, String> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let (_, der) = pem_blocks(bytes)
            .into_iter()
            .find(|(l, _)| l == "X509 CRL")
            .ok_or("no X509 CRL block")?;
        CertificateList::from_der(&der).map_err(|e| e.to_string())
    } else {
        CertificateList::from_der(bytes).map_err(|e| e.to_string())
    }
}
