//! The verdict: ETSI EN 319 102-1 indications (§5.1.2) and sub-indications (§5.1.3), per
//! signature and for the document, as JSON (DESIGN.md "The verify command") and as the human
//! summary Circular 15/2025/TT-BKHCN asks a verifier to show.

use serde::Serialize;

/// Main indication (EN 319 102-1 §5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub enum Indication {
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
    /// The document carries no signature at all (kyso's, for the document-level verdict).
    #[serde(rename = "NO_SIGNATURE")]
    NoSignature,
}

impl Indication {
    /// Worse verdicts order later: PASSED < INDETERMINATE < FAILED.
    fn rank(self) -> u8 {
        match self {
            Indication::TotalPassed => 0,
            Indication::NoSignature => 1,
            Indication::Indeterminate => 2,
            Indication::TotalFailed => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL-PASSED",
            Indication::Indeterminate => "INDETERMINATE",
            Indication::TotalFailed => "TOTAL-FAILED",
            Indication::NoSignature => "NO_SIGNATURE",
        }
    }

    /// `kyso verify`'s exit status: 0 passed, 1 failed, 2 indeterminate or no signature.
    pub fn exit_code(self) -> i32 {
        match self {
            Indication::TotalPassed => 0,
            Indication::TotalFailed => 1,
            Indication::Indeterminate | Indication::NoSignature => 2,
        }
    }
}

/// Sub-indications (EN 319 102-1 §5.1.3) that kyso reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    FormatFailure,
    HashFailure,
    SigCryptoFailure,
    Revoked,
    NotYetValid,
    Expired,
    SigConstraintsFailure,
    ChainConstraintsFailure,
    CertificateChainGeneralFailure,
    CryptoConstraintsFailure,
    NoSigningCertificateFound,
    NoCertificateChainFound,
    RevokedNoPoe,
    OutOfBoundsNoPoe,
    TryLater,
}

/// The signer's certificate, as the report shows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SignerSummary {
    pub subject: String,
    pub issuer: String,
    /// Hex.
    pub serial: String,
    /// SHA-256 of the certificate's DER, hex.
    pub sha256: String,
    pub not_before: String,
    pub not_after: String,
}

/// One signature's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub indication: Indication,
    pub subindication: Option<SubIndication>,
    /// e.g. `PAdES-B-T`, `CAdES-B-B`, `PDF adbe.pkcs7.detached`.
    pub format: String,
    pub signer: Option<SignerSummary>,
    /// Claimed signing time (CMS signing-time or PDF /M), RFC 3339.
    pub signing_time: Option<String>,
    /// Time of a valid signature time-stamp (proof of existence), RFC 3339.
    pub timestamp: Option<String>,
    /// PDF: the signature covers the whole file.
    pub covers_whole_document: Option<bool>,
    /// PDF: the field name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The chain used, signer first (subjects).
    pub chain: Vec<String>,
    /// What was checked and what is wrong, in English; the first is the reason for the verdict.
    pub messages: Vec<String>,
    /// Circular 15/2025 items, machine-readable, for the human summary.
    #[serde(skip)]
    pub facts: Facts,
    /// The validation data the verdict rests on.
    #[serde(skip)]
    pub evidence: crate::Evidence,
}

/// What Circular 15/2025 asks a verifier to show, gathered while validating.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The bytes signed are the bytes present.
    pub integrity: Option<bool>,
    /// The certificate was valid (in its period, not revoked as far as known) when signed.
    pub valid_at_signing: Option<bool>,
    /// Revocation status could be checked.
    pub revocation_checked: bool,
    /// The body that manages the certificate (the issuing CA's organization, or its name).
    pub ca_body: Option<String>,
}

impl SignatureReport {
    pub fn new(format: impl Into<String>) -> Self {
        SignatureReport {
            indication: Indication::TotalPassed,
            subindication: None,
            format: format.into(),
            signer: None,
            signing_time: None,
            timestamp: None,
            covers_whole_document: None,
            field: None,
            chain: Vec::new(),
            messages: Vec::new(),
            facts: Facts::default(),
            evidence: crate::Evidence::default(),
        }
    }

    /// Record a finding; the verdict becomes the worse of the current one and this one.
    pub fn fail(&mut self, ind: Indication, sub: SubIndication, msg: impl Into<String>) {
        let msg = msg.into();
        if ind.rank() > self.indication.rank() {
            self.indication = ind;
            self.subindication = Some(sub);
            self.messages.insert(0, msg);
        } else {
            self.messages.push(msg);
        }
    }

    pub fn note(&mut self, msg: impl Into<String>) {
        self.messages.push(msg.into());
    }
}

/// The verdict on a file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub indication: Indication,
    pub subindication: Option<SubIndication>,
    pub signatures: Vec<SignatureReport>,
    /// Document-level findings (a file that cannot be read, say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
}

impl Report {
    /// The worst indication over all signatures, or NO_SIGNATURE.
    pub fn from_signatures(signatures: Vec<SignatureReport>, messages: Vec<String>) -> Report {
        let worst = signatures.iter().max_by_key(|s| s.indication.rank());
        let (indication, subindication) = match worst {
            Some(s) => (s.indication, s.subindication),
            None => (Indication::NoSignature, None),
        };
        Report {
            indication,
            subindication,
            signatures,
            messages,
        }
    }

    /// A file that cannot be read as what it claims to be.
    pub fn format_failure(msg: impl Into<String>) -> Report {
        let mut s = SignatureReport::new("unreadable");
        s.fail(Indication::TotalFailed, SubIndication::FormatFailure, msg);
        s.facts.integrity = Some(false);
        Report::from_signatures(vec![s], Vec::new())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize")
    }

    /// The human summary, Vietnamese or English, with the eight items of Circular 15/2025.
    pub fn summary(&self, lang: Lang) -> String {
        let t = |vi: &str, en: &str| -> String {
            match lang {
                Lang::Vi => vi.to_string(),
                Lang::En => en.to_string(),
            }
        };
        let verdict = |i: Indication| match (i, lang) {
            (Indication::TotalPassed, Lang::Vi) => "HỢP LỆ",
            (Indication::TotalPassed, Lang::En) => "VALID",
            (Indication::TotalFailed, Lang::Vi) => "KHÔNG HỢP LỆ",
            (Indication::TotalFailed, Lang::En) => "INVALID",
            (Indication::Indeterminate, Lang::Vi) => "CHƯA XÁC ĐỊNH ĐƯỢC",
            (Indication::Indeterminate, Lang::En) => "INDETERMINATE",
            (Indication::NoSignature, Lang::Vi) => "KHÔNG CÓ CHỮ KÝ SỐ",
            (Indication::NoSignature, Lang::En) => "NO SIGNATURE",
        };
        let yes_no = |b: Option<bool>| match (b, lang) {
            (Some(true), Lang::Vi) => "có".to_string(),
            (Some(true), Lang::En) => "yes".to_string(),
            (Some(false), Lang::Vi) => "không".to_string(),
            (Some(false), Lang::En) => "no".to_string(),
            (None, Lang::Vi) => "không xác định".to_string(),
            (None, Lang::En) => "unknown".to_string(),
        };
        let mut out = String::new();
        out.push_str(&format!(
            "{}: {} ({}{})\n",
            t("Kết quả", "Result"),
            verdict(self.indication),
            self.indication.as_str(),
            self.subindication
                .map(|s| format!(
                    " / {}",
                    serde_json::to_value(s)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                ))
                .unwrap_or_default()
        ));
        for m in &self.messages {
            out.push_str(&format!("  {m}\n"));
        }
        for (i, s) in self.signatures.iter().enumerate() {
            out.push_str(&format!(
                "\n{} {} — {} [{}]\n",
                t("Chữ ký", "Signature"),
                i + 1,
                s.field.clone().unwrap_or_default(),
                s.format
            ));
            let signer = s.signer.clone().unwrap_or_default();
            let rows = [
                (
                    t("1. Tình trạng chữ ký", "1. Signature status"),
                    format!("{} ({})", verdict(s.indication), s.indication.as_str()),
                ),
                (
                    t("2. Tổ chức cấp chứng thư", "2. Certificate issuer"),
                    signer.issuer.clone(),
                ),
                (t("3. Người ký", "3. Signer"), signer.subject.clone()),
                (
                    t(
                        "4. Tổ chức quản lý chứng thư",
                        "4. Body managing the certificate",
                    ),
                    s.facts
                        .ca_body
                        .clone()
                        .unwrap_or_else(|| signer.issuer.clone()),
                ),
                (
                    t("5. Thời gian ký", "5. Signing time"),
                    match (&s.timestamp, &s.signing_time) {
                        (Some(ts), _) => format!("{ts} ({})", t("dấu thời gian", "time-stamp")),
                        (None, Some(st)) => {
                            format!("{st} ({})", t("do người ký khai", "claimed by the signer"))
                        }
                        _ => t("không có", "none"),
                    },
                ),
                (
                    t("6. Toàn vẹn nội dung", "6. Integrity"),
                    yes_no(s.facts.integrity),
                ),
                (
                    t(
                        "7. Chứng thư còn hiệu lực khi ký",
                        "7. Certificate valid when signed",
                    ),
                    yes_no(s.facts.valid_at_signing),
                ),
                (
                    t("8. Thời hạn chứng thư", "8. Certificate validity period"),
                    format!("{} – {}", signer.not_before, signer.not_after),
                ),
            ];
            for (k, v) in rows {
                out.push_str(&format!("  {k}: {v}\n"));
            }
            if !s.facts.revocation_checked {
                out.push_str(&format!(
                    "  {}\n",
                    t(
                        "Cảnh báo: không kiểm tra được tình trạng thu hồi chứng thư (không có CRL/OCSP).",
                        "Warning: the certificate's revocation status could not be checked (no CRL/OCSP)."
                    )
                ));
            }
            for m in &s.messages {
                out.push_str(&format!("  - {m}\n"));
            }
        }
        out
    }
}

/// Language of the human summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}
