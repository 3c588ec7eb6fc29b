//! kyso-verify: validation of CMS, PDF and time-stamp signatures per ETSI EN 319 102-1, and
//! a report a relying agency can act on.
//!
//! It depends on no other kyso crate but the PDF file structure (`kyso-pdf`): relying agencies
//! can run it without tokens or archives. Every parser here takes outside bytes: none panics,
//! none recurses without a bound, and every allocation is bounded by the input's size.

pub mod ats;
pub mod ber;
pub mod cms;
pub mod crypto;
pub mod dates;
pub mod evidence;
pub mod fetch;
pub mod i18n;
pub mod path;
pub mod pdf;
pub mod pdfa;
pub mod report;
pub mod tsp;
pub mod x509;

pub use dates::{revoked_when, rfc3339};
pub use evidence::Evidence;
pub use kyso_pdf::stop::Counting;
pub use kyso_pdf::Stop;
pub use report::{Indication, Lang, Report, SignatureReport, SubIndication};
pub use x509::{Cert, CertRef, Crl, Ocsp};

use std::time::SystemTime;

/// What a validation trusts and knows.
#[derive(Debug, Clone)]
pub struct Validator {
    /// Trust anchors (`--trust`): roots, or any certificate the agency trusts directly (a
    /// signer's or a TSA's).
    pub anchors: Vec<CertRef>,
    /// Further certificates for building paths (`--certs`).
    pub certs: Vec<CertRef>,
    /// CRLs (`--crl`).
    pub crls: Vec<Crl>,
    /// OCSP responses (`--ocsp`).
    pub ocsps: Vec<Ocsp>,
    /// The time of the validation: now, or the time asked about (`--at`).
    pub now: SystemTime,
    /// Fetch CRLs and OCSP responses a certificate names when none at hand gives its status;
    /// `None`: offline, only what is given.
    pub fetch: Option<std::sync::Arc<fetch::Fetcher>>,
}

impl Default for Validator {
    fn default() -> Self {
        Validator {
            anchors: Vec::new(),
            certs: Vec::new(),
            crls: Vec::new(),
            ocsps: Vec::new(),
            now: SystemTime::now(),
            fetch: None,
        }
    }
}

/// Is this a PDF: a `%PDF-` header in the first 1024 bytes (ISO 32000-1 §7.5.2 lets readers
/// accept it there), and not a CMS that carries a PDF inside it?
pub fn looks_like_pdf(data: &[u8]) -> bool {
    !looks_like_cms(data)
        && data[..data.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
}

/// Does the file start with a ContentInfo of SignedData (an attached `.p7m`, DER or BER)?
pub fn looks_like_cms(data: &[u8]) -> bool {
    const SIGNED_DATA_OID: [u8; 11] = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    let Ok(ci) = ber::read(data) else {
        return data.first() == Some(&0x30)
            && data
                .get(..32)
                .is_some_and(|h| h.windows(11).any(|w| w == SIGNED_DATA_OID));
    };
    ci.tag_byte() == 0x30
        && ci
            .children()
            .next()
            .and_then(Result::ok)
            .is_some_and(|t| t.raw == SIGNED_DATA_OID)
}

impl Validator {
    /// Validate a PDF's signatures.
    pub fn verify_pdf(&self, data: &[u8]) -> Report {
        let _budget = path::Budget::enter();
        pdf::verify_pdf(self, data)
    }

    /// Validate a CMS signature: attached when `content` is `None`, detached over `content`.
    /// Every SignerInfo is validated and reported.
    pub fn verify_cms(&self, cms_der: &[u8], content: Option<&[u8]>) -> Report {
        let _budget = path::Budget::enter();
        // What a PDF reader opening the file would show that the signature does not cover:
        // bytes after the ContentInfo (an attached .p7m wrapping a PDF, with an update
        // appended, its offsets counted from the embedded %PDF- header), or PDF structure
        // anywhere outside the signed content (found by attackers' readings, 2026-12-02).
        let refused = cms::trailing_bytes(cms_der)
            .filter(|n| *n > 0)
            .map(|n| format!("{n} bytes besides padding follow the signature's ContentInfo: a CMS file must end with it (a PDF reader shows what is appended to an attached PDF, which the signature does not cover)"))
            .or_else(|| {
                cms::pdf_structure_outside_content(cms_der).map(|what| format!("the signature's bytes outside its signed content hold {what}: a PDF reader shows what they make, which the signature does not cover"))
            });
        if let Some(why) = refused {
            let mut r = SignatureReport::new("CAdES");
            r.fail(Indication::TotalFailed, SubIndication::FormatFailure, why);
            r.facts.integrity = Some(false);
            return Report::from_signatures(vec![r], Vec::new());
        }
        let parts: Vec<&[u8]> = content.into_iter().collect();
        let ctx = cms::Context {
            content: &parts,
            format: "CAdES",
            baseline: true,
            require_ess: false,
            claimed_time: None,
            extra_certs: &[],
            extra_crls: &[],
            extra_ocsps: &[],
            ts_reliance: self.now,
            doc_ts_poe: None,
        };
        Report::from_signatures(cms::validate(self, cms_der, &ctx), Vec::new())
    }

    /// Validate a file: an attached CMS (`.p7m`, whatever it wraps), a PDF, or `file` with a
    /// detached signature.
    pub fn verify_file(&self, data: &[u8], detached: Option<&[u8]>) -> Report {
        match detached {
            Some(sig) => match cms_der(sig) {
                Ok(sig) => self.verify_cms(&sig, Some(data)),
                Err(r) => r,
            },
            None if looks_like_pdf(data) => self.verify_pdf(data),
            None => match cms_der(data) {
                Ok(cms) => self.verify_cms(&cms, None),
                Err(r) => r,
            },
        }
    }
}

/// Text in PEM armour (`-----BEGIN …`), not DER: what the verifier reads as its DER, and the
/// archive and `kyso extend` refuse (they keep and write DER; helper 186).
pub fn pem_armoured(b: &[u8]) -> bool {
    b.trim_ascii_start().starts_with(b"-----BEGIN ")
}

/// A CMS as DER or BER, or PEM-armoured as OpenSSL writes it (`openssl cms -outform PEM`:
/// `-----BEGIN CMS-----`; `openssl smime -pk7out`, `pkcs7`: `-----BEGIN PKCS7-----`): its
/// armour read as "bytes besides padding follow the signature's ContentInfo", TOTAL-FAILED
/// (helper 184).
fn cms_der(b: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Report> {
    if !pem_armoured(b) {
        return Ok(std::borrow::Cow::Borrowed(b));
    }
    match der::pem::decode_vec(b.trim_ascii()) {
        Ok(("CMS" | "PKCS7", der)) => Ok(std::borrow::Cow::Owned(der)),
        Ok((label, _)) => Err(Report::format_failure(format!(
            "a PEM block labelled {label:?}, not a signature (CMS or PKCS7)"
        ))),
        Err(e) => Err(Report::format_failure(format!(
            "PEM armour that does not decode as one CMS or PKCS7 block ({e}): give the signature as DER, or as one PEM block"
        ))),
    }
}
