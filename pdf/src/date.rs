//! Dates (ISO 32000-1 §7.9.4): `D:YYYYMMDDHHmmSSOHH'mm'`, every part after the year optional,
//! read as Acrobat reads them and written as signing tools write them.

use std::time::SystemTime;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Read a PDF date. Missing parts take their defaults (month and day 1, time 00:00:00, UTC);
/// anything that is not a date gives `None`.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let b = s.as_bytes();
    // (start, len, default) of each numeric part
    let part = |at: usize, len: usize, default: u32| -> Option<u32> {
        match b.get(at..at + len) {
            Some(d) if d.iter().all(u8::is_ascii_digit) => {
                std::str::from_utf8(d).ok()?.parse().ok()
            }
            Some(d) if at >= 4 && !d.is_empty() && !d[0].is_ascii_digit() => Some(default),
            Some(_) => None,
            None if at >= 4 && b.len() <= at => Some(default),
            None => None,
        }
    };
    let year = part(0, 4, 0)?;
    // The parts present must be contiguous digits; the first non-digit starts the offset.
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(4..=14).contains(&digits) || digits % 2 != 0 {
        return None;
    }
    let get = |at: usize, default: u32| {
        if at < digits {
            part(at, 2, default)
        } else {
            Some(default)
        }
    };
    let (month, day) = (get(4, 1)?, get(6, 1)?);
    let (hour, minute, second) = (get(8, 0)?, get(10, 0)?, get(12, 0)?);
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    // Acrobat writes 23:59:60 never; a second of 60 is refused like any other impossible time.
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    let rest = &s[digits..];
    let offset = match rest.chars().next() {
        None | Some('Z') => UtcOffset::UTC,
        Some(sign @ ('+' | '-')) => {
            // `HH'mm'`, `HH'mm`, `HHmm` or `HH`: the digits after the sign, apostrophes aside.
            let tail = &rest[1..];
            if !tail.chars().all(|c| c.is_ascii_digit() || c == '\'') {
                return None;
            }
            let digits: Vec<u32> = tail.chars().filter_map(|c| c.to_digit(10)).collect();
            let (h, m) = match digits.as_slice() {
                [] => (0, 0),
                [a, b] => (a * 10 + b, 0),
                [a, b, c, d] => (a * 10 + b, c * 10 + d),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            UtcOffset::from_whole_seconds(if sign == '-' { -secs } else { secs }).ok()?
        }
        Some(_) => return None,
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// A PDF date read strictly: its offset, if any, in one of the forms ISO 32000-1 §7.9.4 and
/// signing tools write (`Z`, `Z00'00'`, `+HH'mm'`, `+HH'mm`, `+HHmm`, `+HH'`, `+HH`), where
/// [`parse`] reads as Acrobat does and takes more (`+0'7'0'0`, read +07:00 here and +00:00 by
/// pdf.js; anything after `Z`).
pub struct Written {
    pub at: OffsetDateTime,
    /// An offset was given (otherwise [`parse`]'s UTC).
    pub zoned: bool,
    /// All six parts were given, down to the second.
    pub whole: bool,
}

/// [`Written`], `None` for a date not written so.
pub fn as_written(s: &str) -> Option<Written> {
    let body = s.strip_prefix("D:").unwrap_or(s);
    let rest = body.trim_start_matches(|c: char| c.is_ascii_digit());
    let d = |c: &u8| c.is_ascii_digit();
    let zoned = match rest.as_bytes() {
        b"" => false,
        b"Z" | b"Z00'00'" | b"Z00'00" => true,
        [b'+' | b'-', h1, h2, tail @ ..] if d(h1) && d(h2) => match tail {
            [] | [b'\''] => true,
            [b'\'', m1, m2] | [b'\'', m1, m2, b'\''] | [m1, m2] if d(m1) && d(m2) => true,
            _ => return None,
        },
        _ => return None,
    };
    Some(Written {
        at: parse(s)?,
        zoned,
        whole: body.len() - rest.len() == 14,
    })
}

/// A PDF date as a point in time.
pub fn parse_system_time(s: &str) -> Option<SystemTime> {
    parse(s).map(SystemTime::from)
}

/// `t` seen at `offset_minutes` east of UTC (clamped to ±23:00), and the offset it is seen at:
/// UTC when that offset would carry it past year 9999 or before year 0, and `t` itself clamped
/// to those years (`OffsetDateTime::from` and `to_offset` panic past them; a certificate's
/// "no expiration" date aborted `kyso verify` so, 2026-12-06).
pub fn at_offset(t: SystemTime, offset_minutes: i32) -> (OffsetDateTime, i32) {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    const FIRST: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let utc = OffsetDateTime::from_unix_timestamp(secs.clamp(FIRST, LAST))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let minutes = offset_minutes.clamp(-23 * 60, 23 * 60);
    let offset = UtcOffset::from_whole_seconds(minutes * 60).unwrap_or(UtcOffset::UTC);
    match utc.checked_to_offset(offset) {
        Some(dt) => (dt, minutes),
        None => (utc, 0),
    }
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` for `t` seen at `offset_minutes` east of UTC.
pub fn format(t: SystemTime, offset_minutes: i32) -> String {
    let (dt, offset_minutes) = at_offset(t, offset_minutes);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs().min(23 * 60);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{sign}{:02}'{:02}'",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        off / 60,
        off % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past year 9999 at the offset, the time is written in UTC, never a panic (the same
    /// conversion aborted `kyso verify` on a certificate's "no expiration" date; 2026-12-06).
    #[test]
    fn times_the_offset_carries_past_9999_are_written_in_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(253_402_286_400);
        assert_eq!(format(t, 420), "D:99991231200000+00'00'");
        let later = t + std::time::Duration::from_secs(86_400 * 800);
        assert_eq!(format(later, 0), "D:99991231235959+00'00'");
    }

    #[test]
    fn dates_as_written_say_their_zone_and_whether_whole() {
        let w = |s: &str| as_written(s).map(|w| (w.zoned, w.whole));
        assert_eq!(w("D:20261206191636+07'00'"), Some((true, true)));
        assert_eq!(w("D:20261206191636Z"), Some((true, true)));
        assert_eq!(w("D:20261206191636"), Some((false, true)));
        assert_eq!(w("D:20261206+0700"), Some((true, false)));
        for odd in [
            "D:20261206191636+0'7'0'0",
            "D:20261206191636Zjunk",
            "D:20261206191636+7",
            "x",
        ] {
            assert_eq!(w(odd), None, "{odd}");
        }
    }

    #[test]
    fn dates_of_section_7_9_4_read_and_write() {
        let t = parse("D:20261118180640+07'00'").unwrap();
        assert_eq!(t.unix_timestamp(), 1_795_000_000);
        assert_eq!(format(SystemTime::from(t), 420), "D:20261118180640+07'00'");
        assert_eq!(format(SystemTime::from(t), 0), "D:20261118110640+00'00'");
        assert_eq!(parse("D:2026").unwrap().month(), Month::January);
        assert_eq!(
            parse("D:20261118110640Z").unwrap(),
            parse("D:20261118180640+07'00").unwrap()
        );
        assert_eq!(
            parse("20261118110640-0130")
                .unwrap()
                .offset()
                .whole_minutes(),
            -90
        );
        for bad in [
            "",
            "D:",
            "D:20",
            "D:2026131",
            "D:20261301",
            "D:20260230",
            "D:2026111825",
            "D:20261118x",
            "D:20261118+25'00'",
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
