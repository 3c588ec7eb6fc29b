//! The service log holds no citizen's identity: every run of exactly 12 digits (a personal
//! identification number) or 10 digits (a tax code, also the head of a branch's 10-3 code)
//! inside a JSON string of a log line is masked before the line leaves the process.
//!
//! The log is read by operators who may not read citizens' records; the messages it carries
//! come from every part of kyso (a damaged record named by its code in an export job's error,
//! a 5xx message) and a rule at each call site would be forgotten at the next. Numbers outside
//! strings (sizes, counts, milliseconds) are left alone, and so are digit runs inside longer
//! words (hex digests): a subject id stands alone or next to `.`, `-`, a space or a quote.

use std::io::Write;

/// Mask subject ids in one formatted JSON log line (see the module's text). Lines without one
/// come back borrowed.
pub fn redact_line(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let mut out: Option<Vec<u8>> = None;
    let mut in_string = false;
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
            b'\\' => {
                i += if line.get(i + 1) == Some(&b'u') { 6 } else { 2 };
                after_break = true;
            }
            b'"' => {
                in_string = false;
                i += 1
            }
            b'0'..=b'9' => {
                let end = line[i..]
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .map_or(line.len(), |n| i + n);
                if matches!(end - i, 10 | 12) && after_break && !line.get(end).is_some_and(word) {
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
        // Runs of other lengths, digits inside a hex word, an escape, numbers outside strings.
        for same in [
            r#"{"m":"record 12345678901 of 123456789 and 1234567890123"}"#,
            r#"{"m":"sha256 ab0100109106cd and 0100109106ab"}"#,
            r#"{"m":"\u0030100109106"}"#,
            r#"{"ms":001099012345,"n":0100109106}"#,
            r#"{"m":"escaped \"quote\" then 12 digits: x001099012345"}"#,
        ] {
            assert_eq!(r(same), same);
        }
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
}
