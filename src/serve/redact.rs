//! The service log holds no citizen's identity: in the text of a log line (JSON strings), a
//! number that is or may be a subject id is masked before the line leaves the process —
//! - a run of 9, 10, 12 or 13 digits standing alone (next to no letter or digit): a personal
//!   identification number (12), an old identity card number (9), a tax code (10), a branch's
//!   tax code written without its dash (13);
//! - a run glued to letters (`CCCD001099012345`, `MST0100109106`, `…_GPXD`) only when it has
//!   an id's shape: 12 digits with an assigned province code, or 10 (or 13) whose first ten
//!   carry a tax code's check digit — so that hex words (job ids, digests) stay readable.
//!
//! The log is read by operators who may not read citizens' records; the messages it carries
//! come from every part of kyso (a damaged record named by its code in an export job's error,
//! a 5xx message) and a rule at each call site would be forgotten at the next. Numbers outside
//! strings (sizes, counts, milliseconds) are left alone.

use kyso_archive::code::{tax_check_digit, validate_personal_id};
use std::io::Write;

/// Whether a digit run has the shape of a subject id (see the module's text): the archive's own
/// checks of a personal id's province and birth year (any year: a log is not the place to
/// judge it) and of a tax code's check digit.
fn id_shaped(d: &[u8]) -> bool {
    match d.len() {
        12 => std::str::from_utf8(d).is_ok_and(|s| validate_personal_id(s, u32::MAX).is_ok()),
        10 | 13 => tax_check_digit(&d[..9]) == Some(d[9] - b'0'),
        _ => false,
    }
}

/// Mask subject ids in one formatted JSON log line (see the module's text). Lines without one
/// come back borrowed.
pub fn redact_line(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    mask(line, true)
}

/// The same for plain text (a message printed, not logged as JSON).
pub fn redact_text(text: &str) -> String {
    String::from_utf8_lossy(&mask(text.as_bytes(), false)).into_owned()
}

fn mask(line: &[u8], json: bool) -> std::borrow::Cow<'_, [u8]> {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let mut out: Option<Vec<u8>> = None;
    let mut in_string = !json;
    // The character before `i` in the string's text ends a word (an escape counts as one).
    let mut after_break = true;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if !in_string {
            in_string = b == b'"';
            after_break = true;
            i += 1;
            continue;
        }
        match b {
            // An escape: `\uXXXX` whole, so that its hex digits never start a run.
            b'\\' if json => {
                i += if line.get(i + 1) == Some(&b'u') { 6 } else { 2 };
                after_break = true;
            }
            b'"' if json => {
                in_string = false;
                i += 1
            }
            b'0'..=b'9' => {
                let end = line[i..]
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .map_or(line.len(), |n| i + n);
                let alone = after_break && !line.get(end).is_some_and(word);
                let run = &line[i..end];
                if (alone && matches!(run.len(), 9 | 10 | 12 | 13)) || id_shaped(run) {
                    let o = out.get_or_insert_with(|| line.to_vec());
                    o[i..end].fill(b'*');
                }
                after_break = false;
                i = end;
            }
            _ => {
                after_break = !word(&b);
                i += 1
            }
        }
    }
    match out {
        Some(v) => std::borrow::Cow::Owned(v),
        None => std::borrow::Cow::Borrowed(line),
    }
}

/// Standard error, each formatted line passed through [`redact_line`] (tracing's formatter
/// writes one event with one `write_all`).
pub struct RedactedStderr;

impl Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().lock().write_all(&redact_line(buf))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        String::from_utf8(redact_line(s.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn subject_ids_in_strings_are_masked_and_nothing_else() {
        let line = r#"{"level":"WARN","fields":{"message":"export failed","job":"j1","error":"record 150: its document is missing [record 150, code 001099012345.GKS]"},"size":1234567890}"#;
        assert_eq!(
            r(line),
            line.replace("001099012345", "************"),
            "the personal id masked, the 10-digit number field left alone"
        );
        // Tax codes, a branch's, at the string's edges.
        assert_eq!(r(r#"{"m":"0100109106"}"#), r#"{"m":"**********"}"#);
        assert_eq!(
            r(r#"{"m":"code 0100109106-001.GP done"}"#),
            r#"{"m":"code **********-001.GP done"}"#
        );
        // Runs of other lengths, digits inside a hex word without an id's shape, an escape,
        // numbers outside strings.
        for same in [
            r#"{"m":"record 12345678901 of 12345678 and 12345678901234"}"#,
            r#"{"m":"job ab0100109107cd and 999099012345ab"}"#,
            r#"{"ms":001099012345,"n":0100109106}"#,
        ] {
            assert_eq!(r(same), same);
        }
        // Glued to letters, with an id's shape; the old 9-digit card and a 13-digit branch.
        for (line, masked) in [
            (r#"{"m":"CCCD001099012345"}"#, r#"{"m":"CCCD************"}"#),
            (r#"{"m":"MST0100109106 x"}"#, r#"{"m":"MST********** x"}"#),
            (
                r#"{"m":"001099012345_GPXD.pdf"}"#,
                r#"{"m":"************_GPXD.pdf"}"#,
            ),
            (
                r#"{"m":"Nguyễn001099012345"}"#,
                r#"{"m":"Nguyễn************"}"#,
            ),
            (r#"{"m":"CMND: 012345678"}"#, r#"{"m":"CMND: *********"}"#),
            (r#"{"m":"0100109106001"}"#, r#"{"m":"*************"}"#),
        ] {
            assert_eq!(r(line), masked, "{line}");
        }
        assert_eq!(
            redact_text("kyso: record 5, code 001099012345.GPXD: damaged"),
            "kyso: record 5, code ************.GPXD: damaged"
        );
        // An escaped quote does not end the string: the id after it is still masked.
        assert_eq!(
            r(r#"{"m":"say \"001099012345\""}"#),
            r#"{"m":"say \"************\""}"#
        );
        // After a control character's escape.
        assert_eq!(
            r(r#"{"m":"a\u0001001099012345"}"#),
            r#"{"m":"a\u0001************"}"#
        );
        // Hostile lines: an unterminated string, a lone backslash at the end.
        assert_eq!(r(r#"{"m":"001099012345"#), r#"{"m":"************"#);
        assert_eq!(r("\"\\"), "\"\\");
    }

    /// Lines as tracing's JSON formatter writes them, from random text (digits, letters,
    /// quotes, backslashes, control and Vietnamese characters): the mask never panics, keeps
    /// the line's length and JSON structure (a digit only ever becomes `*` inside a string),
    /// and leaves in the text no standalone 12-digit run and no run with an id's shape.
    #[test]
    fn random_log_lines_stay_json_and_keep_their_length() {
        let alphabet: Vec<char> = "0123456789012345678901234567890123456789 .-_:/aZđ\"\\\u{1}ễ"
            .chars()
            .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for _ in 0..20_000 {
            let len = next(60);
            let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let line = serde_json::json!({"fields": {"message": text, "n": 1_001_099_012_345u64}})
                .to_string();
            let out = redact_line(line.as_bytes());
            assert_eq!(out.len(), line.len(), "{line}");
            let out = std::str::from_utf8(&out).expect("still UTF-8");
            let v: serde_json::Value = serde_json::from_str(out).expect("still JSON");
            assert_eq!(v["fields"]["n"], 1_001_099_012_345u64, "numbers untouched");
            let masked = v["fields"]["message"].as_str().unwrap();
            let b = masked.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i].is_ascii_digit() {
                    let end = b[i..]
                        .iter()
                        .position(|c| !c.is_ascii_digit())
                        .map_or(b.len(), |k| i + k);
                    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
                    let alone = (i == 0 || !word(&b[i - 1])) && !b.get(end).is_some_and(word);
                    assert!(
                        !(id_shaped(&b[i..end]) || (alone && end - i == 12)),
                        "{line} -> {out}"
                    );
                    i = end;
                } else {
                    i += 1;
                }
            }
        }
    }
}
