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

/// The province codes of personal identification numbers: the 63 provinces and cities of
/// Circular 07/2016/TT-BCA (Annex, as amended by Circular 59/2021/TT-BCA), 001 Hà Nội to
/// 096 Cà Mau. The numbering has gaps (003, 005, 007, 009, 013, 016, …, 090): no one has an
/// ID number with those. Numbers already issued keep their code after the 2025 merger of
/// provinces.
pub const PROVINCE_CODES: [u16; 63] = [
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
    38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
    79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
];

/// The current year (UTC), for "born in the future" checks.
fn this_year() -> u32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Days since 1970-01-01 to a civil year (H. Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2)) as u32
}

/// A personal identification number (số định danh cá nhân, Decree 137/2015/NĐ-CP, Circular
/// 07/2016/TT-BCA): province of birth registration (3 digits), century and sex (1), the
/// last two digits of the birth year (2), a serial (6). The century digit is 0/1 for a man or
/// woman born 1900–1999, 2/3 for 2000–2099, 4/5 for 2100–2199, 6/7 for 2200–2299, 8/9 for
/// 2300–2399; the birth year it gives may not lie in the future.
pub fn validate_personal_id(s: &str, year_now: u32) -> Result<(), String> {
    let province: u16 = s[..3].parse().unwrap_or(0);
    if !PROVINCE_CODES.contains(&province) {
        return Err(format!(
            "personal id {s}: province code {province:03} is not assigned to any province"
        ));
    }
    let century = u32::from(s.as_bytes()[3] - b'0');
    let year = 1900 + (century / 2) * 100 + s[4..6].parse::<u32>().unwrap_or(0);
    if year > year_now {
        return Err(format!(
            "personal id {s}: digits 4–6 give the birth year {year}, which is in the future"
        ));
    }
    Ok(())
}

/// Parse a subject id alone.
pub fn parse_subject(s: &str) -> Result<Subject, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        validate_personal_id(s, this_year())?;
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
    /// `<subject id>.<document type code>`; the type code is 1–40 letters, digits, `_` or `-`,
    /// kept in upper case: `gpxd` and `GPXD` are one type, or a clerk typing the one made a
    /// history of the document apart from the other's, neither superseding the other, and an
    /// export of the one found nothing (helper 221).
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
            doc_type: doc_type.to_ascii_uppercase(),
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
            ("003099012345.GP", "province code 003 is not assigned"),
            ("090099012345.GP", "province code 090 is not assigned"),
            ("001499012345.GP", "birth year 2199, which is in the future"),
            ("0100109107.GP", "check digit"),
            ("12345.GP", "neither a 12-digit"),
            ("001099012345.", "document type code"),
            ("001099012345.a b", "document type code"),
        ] {
            let e = bad.parse::<DocumentCode>().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn personal_ids_follow_circular_07_2016() {
        assert_eq!(PROVINCE_CODES.len(), 63);
        assert!(PROVINCE_CODES.windows(2).all(|w| w[0] < w[1]));
        for gap in [3, 5, 7, 9, 13, 16, 90, 97] {
            assert!(!PROVINCE_CODES.contains(&gap), "{gap:03}");
        }
        // Hà Nội, a man born 1999; Cà Mau, a woman born 2005; Hồ Chí Minh City, born 1900.
        for good in ["001099012345", "096305000001", "079000123456"] {
            validate_personal_id(good, 2026).unwrap();
        }
        // Born 2027 when it is 2026; any 22nd-century birth year.
        assert!(validate_personal_id("001227000001", 2026).is_err());
        assert!(validate_personal_id("001226000001", 2026).is_ok());
        assert!(validate_personal_id("001400000001", 2026).is_err());
        assert!(this_year() >= 2025);
    }

    #[test]
    fn a_document_type_code_is_kept_in_upper_case() {
        let c: DocumentCode = "001099012345.gpxd".parse().unwrap();
        assert_eq!(c.doc_type, "GPXD");
        assert_eq!(c.to_string(), "001099012345.GPXD");
        let c: DocumentCode = "001099012345.Ks_KetHon-2".parse().unwrap();
        assert_eq!(c.to_string(), "001099012345.KS_KETHON-2");
    }
}
