//! kyso-verify: validation of CMS, PDF and time-stamp signatures per ETSI EN 319 102-1, and
//! a report a relying agency can act on.
//!
//! It depends on no other kyso crate but the PDF file structure (`kyso-pdf`): relying agencies
//! can run it without tokens or archives.

pub mod ber;
pub mod cms;
pub mod crypto;
pub mod path;
pub mod pdf;
pub mod report;

pub use cms::rfc3339;
pub use report::{Indication, Lang, Report, SignatureReport, SubIndication};

use std::time::SystemTime;
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

/// What a validation trusts and knows.
#[derive(Debug, Clone)]
pub struct Validator {
    /// Trust anchors (`--trust`): roots, or any certificate the agency trusts directly.
    pub anchors: Vec<Certificate>,
    /// Further certificates for building paths (`--certs`).
    pub certs: Vec<Certificate>,
    /// CRLs (`--crl`).
    pub crls: Vec<CertificateList>,
    /// The current time of the validation.
    pub now: SystemTime,
}

impl Default for Validator {
    fn default() -> Self {
        Validator {
            anchors: Vec::new(),
            certs: Vec::new(),
            crls: Vec::new(),
            now: SystemTime::now(),
        }
    }
}

/// Is this a PDF (a `%PDF-` header in the first 1024 bytes)?
pub fn looks_like_pdf(data: &[u8]) -> bool {
    data[..data.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}

impl Validator {
    /// Validate a PDF's signatures.
    pub fn verify_pdf(&self, data: &[u8]) -> Report {
        pdf::verify_pdf(self, data)
    }

    /// Validate a CMS signature: attached when `content` is `None`, detached over `content`.
    pub fn verify_cms(&self, cms_der: &[u8], content: Option<&[u8]>) -> Report {
        let parts: Vec<&[u8]> = content.into_iter().collect();
        let ctx = cms::Context {
            content: &parts,
            format: "CAdES",
            baseline: true,
            claimed_time: None,
            extra_certs: &[],
            extra_crls: &[],
            extra_ocsps: &[],
        };
        let r = cms::validate(self, cms_der, &ctx);
        Report::from_signatures(vec![r], Vec::new())
    }

    /// Validate a file: a PDF, an attached CMS (`.p7m`), or `file` with a detached signature.
    pub fn verify_file(&self, data: &[u8], detached: Option<&[u8]>) -> Report {
        match detached {
            Some(sig) => self.verify_cms(sig, Some(data)),
            None if looks_like_pdf(data) => self.verify_pdf(data),
            None => self.verify_cms(data, None),
        }
    }
}
