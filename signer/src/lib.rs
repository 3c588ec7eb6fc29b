//! kyso-signer: CAdES (CMS) and PAdES (PDF) signature creation.
//!
//! It sees keys only through [`kyso_hsm::SigningKey`]: the certificate, the chain, the
//! algorithm and `sign_digest` — nothing of PKCS#11.

pub mod cades;
pub mod cms_edit;
pub mod dss;
pub mod error;
pub mod ltv;
pub mod pades;
pub mod remote;
pub mod stamp;
pub mod tsp;

pub use error::{Result, SignError};
pub use kyso_hsm::{SignDigest, SigningKey};
pub use kyso_pdf::PdfError;
pub use pades::PadesOptions;

/// Why a certificate may not sign documents at `at`, as a verifier — kyso's own — judges the
/// signer's certificate: expired or not yet valid, a CA's, a keyUsage with neither
/// digitalSignature nor nonRepudiation, an extendedKeyUsage that does not allow signing
/// documents, an unknown critical extension. kyso signed with each and reported success for
/// signatures every verifier then refused (an attacker's reading, 2026-12-05). `None`: fit.
pub fn unfit_to_sign(cert: &x509_cert::Certificate, at: std::time::SystemTime) -> Option<String> {
    use der::Encode;
    let parsed = cert
        .to_der()
        .map_err(|e| e.to_string())
        .and_then(|d| kyso_verify::Cert::from_ber(&d).map_err(|e| e.to_string()));
    match parsed {
        Err(e) => Some(format!("the certificate cannot be read: {e}")),
        Ok(c) => kyso_verify::path::check(
            &[std::sync::Arc::new(c)],
            at,
            kyso_verify::path::Purpose::Signer,
        )
        .first()
        .map(|p| p.to_string()),
    }
}
