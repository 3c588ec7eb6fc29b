//! Document codes `<subject id>.<document type code>` (Decree 45/2020/NĐ-CP digitization):
//! the subject is a 12-digit personal identification number, a 10-digit enterprise tax code
//! with its check digit, or a 10-3 branch tax code.

use std::fmt;

/// What identifies the citizen or organization a result belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "value")]
pub enum Subject {
    /// Số định danh cá nhân: 12 digits — province (3), century and sex (1), birth year (2), serial (6).
    PersonalId(String),
    /// Mã số thuế: 10 digits, the last a check digit.
    TaxCode(String),
    /// A dependent unit's tax code: the parent's 10 digits, a hyphen, 3 digits.
    BranchTaxCode(String),
}

impl Subject {
    pub fn as_str(&self) -> &str {
        match self {
            Subject::PersonalId(s) | Subject::TaxCode(s) | Subject::BranchTaxCode(s) => s,
        }
    }
}

/// A parsed, validated document code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocumentCode {
    pub subject: Subject,
    pub doc_type: String,
}

impl fmt::Display for DocumentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.subject.as_str(), self.doc_type)
    }
}

/// The tax code check digit (General Department of Taxation): weights 31, 29, 23, 19, 17, 13,
/// 7, 5, 3 on the first nine digits; the tenth is 10 − (sum mod 11), and a result of 10 is no
/// valid code.
pub fn tax_check_digit(first9: &[u8]) -> Option<u8> {
    const W: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];
    let sum: u32 = first9
        .iter()
        .zip(W)
        .map(|(d, w)| (*d - b'0') as u32 * w)
        .sum();
    let c = 10 - (sum % 11);
    (c < 10).then_some(c as u8)
}

fn validate_tax10(s: &str) -> Result<(), String> {
    if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("tax code {s:?} must be 10 digits"));
    }
    let b = s.as_bytes();
    match tax_check_digit(&b[..9]) {
        Some(c) if c == b[9] - b'0' => Ok(()),
        Some(c) => Err(format!(
            "tax code {s}: wrong check digit (the last digit should be {c})"
        )),
        None => Err(format!(
            "tax code {s}: no valid check digit exists for these nine digits"
        )),
    }
}

/// Parse a subject id alone.
pub fn parse_subject(s: &str) -> Result<Subject, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        let province: u32 = s[..3].parse().unwrap_or(0);
        if !(1..=96).contains(&province) {
            return Err(format!(
                "personal id {s}: province code {:03} does not exist",
                province
            ));
        }
        return Ok(Subject::PersonalId(s.into()));
    }
    if let Some((main, branch)) = s.split_once('-') {
        validate_tax10(main)?;
        if branch.len() != 3 || !branch.bytes().all(|b| b.is_ascii_digit()) || branch == "000" {
            return Err(format!(
                "branch tax code {s}: the branch part must be 3 digits, 001–999"
            ));
        }
        return Ok(Subject::BranchTaxCode(s.into()));
    }
    if s.len() == 10 {
        validate_tax10(s)?;
        return Ok(Subject::TaxCode(s.into()));
    }
    Err(format!(
        "{s:?} is neither a 12-digit personal identification number nor a tax code (10 digits, or 10-3 for a branch)"
    ))
}

impl std::str::FromStr for DocumentCode {
    type Err = String;
    /// `<subject id>.<document type code>`; the type code is 1–40 letters, digits, `_` or `-`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (subject, doc_type) = s.split_once('.').ok_or_else(|| {
            format!("document code {s:?} must be <subject id>.<document type code>")
        })?;
        let subject = parse_subject(subject)?;
        if doc_type.is_empty()
            || doc_type.len() > 40
            || !doc_type
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "document type code {doc_type:?} must be 1–40 letters, digits, _ or -"
            ));
        }
        Ok(DocumentCode {
            subject,
            doc_type: doc_type.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_tax_codes_have_the_right_check_digit() {
        // Public enterprise tax codes.
        for good in ["0100109106", "0100686209", "0300588569"] {
            assert!(parse_subject(good).is_ok(), "{good}");
        }
        let e = parse_subject("0100109107").unwrap_err();
        assert!(
            e.contains("wrong check digit (the last digit should be 6)"),
            "{e}"
        );
        assert!(parse_subject("0100109106-001").is_ok());
        assert!(parse_subject("0100109106-000").is_err());
        assert!(parse_subject("0100109107-001").is_err());
    }

    #[test]
    fn document_codes_parse_and_bad_ones_say_why() {
        let c: DocumentCode = "001099012345.KS_KETHON".parse().unwrap();
        assert_eq!(c.subject, Subject::PersonalId("001099012345".into()));
        assert_eq!(c.to_string(), "001099012345.KS_KETHON");
        for (bad, why) in [
            ("001099012345", "must be <subject id>.<document type code>"),
            ("999099012345.GP", "province code 999"),
            ("0100109107.GP", "check digit"),
            ("12345.GP", "neither a 12-digit"),
            ("001099012345.", "document type code"),
            ("001099012345.a b", "document type code"),
        ] {
            let e = bad.parse::<DocumentCode>().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
