//! Every user-facing string of the verification summary — and of the verification page that
//! `kyso serve` shows — in Vietnamese and English, from one catalogue (`i18n.json`, compiled
//! in); and times as each reader expects them.

use crate::report::Lang;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The catalogue: `{"key": {"vi": "…", "en": "…"}, …}`. The page fetches these same bytes.
pub const CATALOGUE: &str = include_str!("i18n.json");

#[derive(serde::Deserialize)]
struct Entry {
    vi: String,
    en: String,
}

fn catalogue() -> &'static BTreeMap<String, Entry> {
    static C: OnceLock<BTreeMap<String, Entry>> = OnceLock::new();
    C.get_or_init(|| serde_json::from_str(CATALOGUE).expect("i18n.json is valid (tested)"))
}

/// The string for `key` in `lang`; the key itself when the catalogue lacks it (a test checks
/// that every key the code uses is there).
pub fn tr(key: &str, lang: Lang) -> &str {
    match catalogue().get(key) {
        Some(e) => match lang {
            Lang::Vi => &e.vi,
            Lang::En => &e.en,
        },
        None => key,
    }
}

/// Vietnam's offset, in which times are shown in both languages.
const VN: time::UtcOffset = match time::UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("+07:00"),
};

/// An RFC 3339 time as a reader expects it, in Vietnam's time (+07:00): `dd/mm/yyyy HH:MM:SS
/// +07:00` in Vietnamese, `yyyy-mm-dd HH:MM:SS +07:00` in English. Anything else is shown as
/// given; a time whose +07:00 falls past year 9999 (RFC 5280's "no expiration" date,
/// 9999-12-31T23:59:59Z) in UTC, `+00:00` (`to_offset` panicked on it: a certificate made so
/// aborted `kyso verify`; 2026-12-06).
pub fn display_time(rfc3339: &str, lang: Lang) -> String {
    use time::format_description::well_known::Rfc3339;
    let Ok(t) = time::OffsetDateTime::parse(rfc3339, &Rfc3339) else {
        return rfc3339.to_string();
    };
    let (t, zone) = match (
        t.checked_to_offset(VN),
        t.checked_to_offset(time::UtcOffset::UTC),
    ) {
        (Some(t), _) => (t, "+07:00"),
        (None, Some(t)) => (t, "+00:00"),
        (None, None) => return rfc3339.to_string(),
    };
    let (y, mo, d) = (t.year(), t.month() as u8, t.day());
    let (h, mi, se) = (t.hour(), t.minute(), t.second());
    // With seconds, as the visible stamp shows the signing time (helper 138, 2026-12-05: an
    // official could not match the two).
    match lang {
        Lang::Vi => format!("{d:02}/{mo:02}/{y:04} {h:02}:{mi:02}:{se:02} {zone}"),
        Lang::En => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{se:02} {zone}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_has_both_languages() {
        assert!(catalogue().len() > 50);
        for (k, e) in catalogue() {
            assert!(!e.vi.trim().is_empty() && !e.en.trim().is_empty(), "{k}");
            // the same placeholders in both
            let holes = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                    .collect();
                v.sort();
                v
            };
            if k != "_about" {
                assert_eq!(holes(&e.vi), holes(&e.en), "{k}");
            }
        }
    }

    #[test]
    fn every_key_the_summary_uses_is_in_the_catalogue() {
        let src = include_str!("report.rs");
        let mut n = 0;
        for part in src.split("tr(\"").skip(1) {
            let key = part.split('"').next().unwrap();
            assert!(
                catalogue().contains_key(key),
                "{key} missing from i18n.json"
            );
            n += 1;
        }
        assert!(n >= 10);
        for i in 1..=8 {
            assert!(catalogue().contains_key(&format!("item.{i}")));
        }
        // The keys report.rs makes rather than writes out.
        for i in crate::report::TIME_STAMP_ITEMS {
            assert!(catalogue().contains_key(&format!("item.ts.{i}")));
        }
        for key in [
            "reason.TRY_LATER.ON_HOLD",
            "reason.TRY_LATER.TSA_ON_HOLD",
            "reason.TRY_LATER.PATH_ON_HOLD",
            "reason.CHANGED_AFTER_SIGNING",
        ] {
            assert!(catalogue().contains_key(key), "{key}");
        }
        // A reason in both languages for every sub-indication a report can carry.
        use crate::report::SubIndication as S;
        // A new sub-indication breaks this match, and so is added to the list below.
        let _every = |s: S| match s {
            S::FormatFailure
            | S::HashFailure
            | S::SigCryptoFailure
            | S::Revoked
            | S::NotYetValid
            | S::Expired
            | S::SigConstraintsFailure
            | S::ChainConstraintsFailure
            | S::CertificateChainGeneralFailure
            | S::CryptoConstraintsFailure
            | S::NoSigningCertificateFound
            | S::NoCertificateChainFound
            | S::RevokedNoPoe
            | S::OutOfBoundsNoPoe
            | S::TryLater
            | S::SignedDataNotFound
            | S::TimestampOrderFailure => (),
        };
        for sub in [
            S::FormatFailure,
            S::HashFailure,
            S::SigCryptoFailure,
            S::Revoked,
            S::NotYetValid,
            S::Expired,
            S::SigConstraintsFailure,
            S::ChainConstraintsFailure,
            S::CertificateChainGeneralFailure,
            S::CryptoConstraintsFailure,
            S::NoSigningCertificateFound,
            S::NoCertificateChainFound,
            S::RevokedNoPoe,
            S::OutOfBoundsNoPoe,
            S::TryLater,
            S::SignedDataNotFound,
            S::TimestampOrderFailure,
        ] {
            let name = serde_json::to_value(sub).unwrap();
            let key = format!("reason.{}", name.as_str().unwrap());
            assert!(
                catalogue().contains_key(&key),
                "{key} missing from i18n.json"
            );
        }
    }

    #[test]
    fn times_as_each_reader_expects() {
        assert_eq!(
            display_time("2026-11-18T11:06:40Z", Lang::Vi),
            "18/11/2026 18:06:40 +07:00"
        );
        assert_eq!(
            display_time("2026-12-31T20:00:00Z", Lang::En),
            "2027-01-01 03:00:00 +07:00"
        );
        assert_eq!(display_time("not a time", Lang::Vi), "not a time");
    }
}
