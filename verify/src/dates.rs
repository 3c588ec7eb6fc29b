//! Times as reports write them (RFC 3339, UTC) and as RFC 3161 writes genTime.

use std::time::SystemTime;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// RFC 3339 in UTC, whole seconds: how kyso writes times in reports and records. A time past
/// what RFC 3339 writes (after 9999-12-31T23:59:59Z: RFC 5280's "no expiration" date plus a
/// skew, a time-stamp's accuracy) is written as that last second, one before year 0 as its
/// first: `OffsetDateTime::from` panicked on them (2026-12-06).
pub fn rfc3339(t: SystemTime) -> String {
    kyso_pdf::date::at_offset(t, 0)
        .0
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A revocation's date as messages write it: the epoch — what kyso takes for a date the data
/// does not give readably, revoked since ever to fail closed — is said as such, not as
/// 1970-01-01 (helpers 185, 188).
pub fn revoked_when(t: SystemTime) -> String {
    match t > SystemTime::UNIX_EPOCH {
        true => rfc3339(t),
        false => "a date kyso cannot read (taken as the earliest)".to_string(),
    }
}

/// An RFC 3339 time back to a point in time.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(SystemTime::from)
}

/// `YYYYMMDDHHMMSS[.f*]Z`: a GeneralizedTime as RFC 3161 §2.4.2 allows it in genTime
/// (fractions of a second, which DER GeneralizedTime in `der` refuses).
pub fn generalized_time(a: &der::Any) -> Option<SystemTime> {
    if der::Tagged::tag(a) != der::Tag::GeneralizedTime {
        return None;
    }
    let s = std::str::from_utf8(a.value()).ok()?.strip_suffix('Z')?;
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.len() != 14
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
    {
        return None;
    }
    let format = time::macros::format_description!("[year][month][day][hour][minute][second]");
    let t = PrimitiveDateTime::parse(whole, &format).ok()?.assume_utc();
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(SystemTime::from(t.replace_nanosecond(nanos).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5280's "no expiration" date plus a skew, and years before 0: written at the edge,
    /// never a panic (`OffsetDateTime::from` panicked past 9999; 2026-12-06).
    #[test]
    fn times_past_what_rfc_3339_writes_are_clamped() {
        let last = parse_rfc3339("9999-12-31T23:59:59Z").unwrap();
        let later = last + std::time::Duration::from_secs(86_400 * 400);
        assert_eq!(rfc3339(later), "9999-12-31T23:59:59Z");
        let first = SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(70_000_000_000);
        assert_eq!(rfc3339(first), "0000-01-01T00:00:00Z");
        let far = crate::i18n::display_time("9999-12-31T23:59:59Z", crate::report::Lang::Vi);
        assert_eq!(far, "31/12/9999 23:59:59 +00:00");
        let far = crate::i18n::display_time("9999-12-31T23:59:59-05:00", crate::report::Lang::En);
        assert_eq!(far, "9999-12-31T23:59:59-05:00");
    }

    #[test]
    fn times_round_trip() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_000_000_250);
        assert_eq!(rfc3339(t), "2026-11-18T11:06:40Z");
        assert_eq!(
            parse_rfc3339("2026-11-18T18:06:40+07:00"),
            Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000))
        );
        let g = der::Any::new(der::Tag::GeneralizedTime, b"20261118110640.25Z".to_vec()).unwrap();
        assert_eq!(generalized_time(&g), Some(t));
        let bad = der::Any::new(der::Tag::GeneralizedTime, b"2026111811064Z".to_vec()).unwrap();
        assert_eq!(generalized_time(&bad), None);
    }
}
