//! Where a PIN comes from: a file, the `KYSO_PIN` environment variable, or a prompt on the
//! terminal. Never from argv. The PIN lives in a [`SecretString`] that is zeroized on drop and
//! prints as `[REDACTED]`.

use crate::error::{HsmError, Result};
use secrecy::SecretString;
use std::path::PathBuf;

/// The environment variable kyso reads a PIN from.
pub const PIN_ENV: &str = "KYSO_PIN";

/// One place to get the PIN from.
#[derive(Debug, Clone)]
pub enum PinSource {
    /// A file whose first line is the PIN (`--pin-file`, or `pin-source` in the URI).
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// Ask on the controlling terminal.
    Prompt,
}

impl PinSource {
    /// The order kyso tries: `--pin-file`, the URI's `pin-source`, `KYSO_PIN`, then a prompt
    /// when a terminal is attached.
    pub fn chain(pin_file: Option<PathBuf>, uri_pin_source: Option<&str>) -> Vec<PinSource> {
        let mut v = Vec::new();
        if let Some(f) = pin_file {
            v.push(PinSource::File(f));
        }
        if let Some(s) = uri_pin_source {
            // RFC 7512 §2.4: pin-source is a URI; kyso accepts `file:` URIs and plain paths.
            let path = s
                .strip_prefix("file://")
                .or_else(|| s.strip_prefix("file:"))
                .unwrap_or(s);
            v.push(PinSource::File(PathBuf::from(path)));
        }
        v.push(PinSource::Env(PIN_ENV.to_string()));
        v.push(PinSource::Prompt);
        v
    }

    /// Read the PIN. `Ok(None)` means this source has nothing (unset variable, no terminal).
    pub fn read(&self, prompt: &str) -> Result<Option<SecretString>> {
        match self {
            PinSource::File(p) => {
                let source_name = format!("file {}", p.display());
                let bad = |reason: String| HsmError::PinSource {
                    source_name: source_name.clone(),
                    reason,
                };
                // At most MAX_PIN_FILE bytes: `--pin-file /dev/zero` read until memory ran
                // out (an attacker's reading, 2026-12-05). A FIFO is read as it is written.
                let mut raw = zeroize::Zeroizing::new(Vec::new());
                let file = std::fs::File::open(p).map_err(|e| bad(e.to_string()))?;
                // Others may read it: said, as `kyso serve --check` refuses it (the command
                // line took one of mode 644 without a word; a new user's reading, 2026-12-05).
                if let Some(why) = file.metadata().ok().and_then(|m| others_may_read(&m)) {
                    eprintln!("kyso: warning: the PIN file {} {why}", p.display());
                }
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(file, MAX_PIN_FILE as u64 + 1),
                    &mut raw,
                )
                .map_err(|e| bad(e.to_string()))?;
                let first = raw.split(|b| *b == b'\n').next().unwrap_or_default();
                if raw.len() > MAX_PIN_FILE && first.len() == raw.len() {
                    return Err(bad(format!(
                        "its first line is longer than {MAX_PIN_FILE} bytes: no PIN"
                    )));
                }
                let first = first.strip_suffix(b"\r").unwrap_or(first);
                let pin = std::str::from_utf8(first)
                    .map_err(|_| bad("the PIN is not UTF-8 text".into()))?;
                if pin.is_empty() {
                    return Err(bad("the file is empty".into()));
                }
                // Bytes an editor or a careless copy adds, which the token would count as a
                // wrong try: said before any try is spent.
                if let Some(why) = unlikely_pin(pin) {
                    return Err(bad(format!(
                        "the PIN {why}; write the PIN alone on the first line"
                    )));
                }
                Ok(Some(SecretString::from(pin.to_string())))
            }
            PinSource::Env(var) => match std::env::var(var) {
                // Held as a PIN file's is (helper 176: `KYSO_PIN="1234 "` cost a try that the
                // same bytes in a file do not).
                Ok(v) if !v.is_empty() => match unlikely_pin(&v) {
                    Some(why) => Err(HsmError::PinSource {
                        source_name: var.clone(),
                        reason: format!("the PIN {why}; set it to the PIN alone"),
                    }),
                    None => Ok(Some(SecretString::from(v))),
                },
                _ => Ok(None),
            },
            PinSource::Prompt => {
                // The prompt is written to and read from the controlling terminal (/dev/tty),
                // not standard input: a command whose input is redirected asks too, when the
                // user is there to see it (a standard stream on a terminal). `find … | xargs
                // kyso sign` gives it /dev/null, and it was refused "no PIN" at an official's
                // desk. Without a terminal (a service, cron, a test's pipes): nothing.
                use std::io::IsTerminal;
                let attended = std::io::stdin().is_terminal()
                    || std::io::stderr().is_terminal()
                    || std::io::stdout().is_terminal();
                let tty = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/tty");
                if !attended || !tty.is_ok_and(|t| t.is_terminal()) {
                    return Ok(None);
                }
                let pin = rpassword::prompt_password(prompt).map_err(|e| HsmError::PinSource {
                    source_name: "terminal".into(),
                    reason: e.to_string(),
                })?;
                if pin.is_empty() {
                    return Ok(None);
                }
                Ok(Some(SecretString::from(pin)))
            }
        }
    }
}

/// The most bytes read from a PIN file (a PIN is at most a few dozen).
const MAX_PIN_FILE: usize = 4096;

/// What in a PIN read from a file is no part of a PIN: a leading byte-order mark, white space
/// around it, NUL or other control characters.
fn unlikely_pin(pin: &str) -> Option<&'static str> {
    if pin.starts_with('\u{feff}') {
        Some("starts with a byte-order mark (U+FEFF)")
    } else if pin.trim() != pin {
        Some("begins or ends with white space")
    } else if pin.chars().any(char::is_control) {
        Some("holds a control character (a NUL, a tab)")
    } else {
        None
    }
}

/// [`resolve`] for a token in the state `token` describes: when it says one more wrong PIN locks
/// it (CKF_USER_PIN_FINAL_TRY), only a PIN typed at the prompt is sent. A PIN file, a
/// pin-source or `KYSO_PIN` is most likely what the token refused before; sent again, by a
/// script or a user who did not see the warning, it locks an official's token until its
/// security officer unblocks it. (The service has refused that try since 2026-12-04; the
/// command line spent it until 2026-12-06.)
pub fn resolve_for(
    token: &crate::module::TokenDescription,
    sources: &[PinSource],
    prompt: &str,
) -> Result<SecretString> {
    if !token.pin_final_try {
        return resolve(sources, prompt);
    }
    let refuse = |given: String| HsmError::FinalTryUnattended {
        token: token.label.clone(),
        given,
    };
    for s in sources {
        let given = match s {
            PinSource::File(p) => format!("the PIN in the file {}", p.display()),
            PinSource::Env(var) => format!("the PIN in ${var}"),
            PinSource::Prompt => continue,
        };
        if s.read(prompt)?.is_some() {
            return Err(refuse(given));
        }
    }
    PinSource::Prompt
        .read(prompt)?
        .ok_or_else(|| refuse("nothing, with no terminal to ask on".into()))
}

/// Get a PIN from the first source that has one.
pub fn resolve(sources: &[PinSource], prompt: &str) -> Result<SecretString> {
    for s in sources {
        if let Some(pin) = s.read(prompt)? {
            return Ok(pin);
        }
    }
    Err(HsmError::NoPin)
}

/// Why someone other than this process's user (and root) may read or change a secret's file
/// (a PIN file, a TLS key): a mode that lets others in, or an owner who is another user — whose
/// PIN file, mode 600, is still theirs to read (2026-12-05). `None` for what is no plain file.
pub fn others_may_read(m: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = m.permissions().mode() & 0o777;
    let me = rustix::process::geteuid().as_raw();
    if !m.is_file() {
        None
    } else if mode & 0o077 != 0 {
        Some(format!(
            "can be read or written by others (mode {mode:o}): it holds a secret; chmod 600 it"
        ))
    } else if m.uid() != me && m.uid() != 0 {
        Some(format!(
            "belongs to another user (uid {}; kyso runs as uid {me}): it holds a secret; chown it",
            m.uid()
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn pin_file_first_line_is_the_pin_and_debug_hides_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pin");
        std::fs::write(&f, "4321\r\nignored\n").unwrap();
        let pin = resolve(&[PinSource::File(f)], "PIN: ").unwrap();
        assert_eq!(pin.expose_secret(), "4321");
        assert!(!format!("{pin:?}").contains("4321"));
    }

    #[test]
    fn missing_and_empty_pin_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve(&[PinSource::File(dir.path().join("nope"))], "").unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        let f = dir.path().join("empty");
        std::fs::write(&f, "\n").unwrap();
        let e = resolve(&[PinSource::File(f)], "").unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    /// A PIN file is read bounded, and bytes no PIN holds are said before a try is spent
    /// (an attacker's reading, 2026-12-05: /dev/zero read until memory ran out; a trailing
    /// space or a BOM each cost a real try).
    #[test]
    fn pin_files_are_read_bounded_and_stray_bytes_are_said() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve(&[PinSource::File("/dev/zero".into())], "").unwrap_err();
        assert!(e.to_string().contains("longer than 4096 bytes"), "{e}");
        for (text, why) in [
            ("1234 \n", "white space"),
            ("\u{feff}1234\n", "byte-order mark"),
            ("12\u{0}34\n", "control character"),
            (" 1234", "white space"),
        ] {
            let f = dir.path().join("pin");
            std::fs::write(&f, text).unwrap();
            let e = resolve(&[PinSource::File(f)], "").unwrap_err();
            assert!(e.to_string().contains(why), "{text:?}: {e}");
            assert!(!e.to_string().contains("1234"), "{e}");
        }
        let f = dir.path().join("long");
        std::fs::write(&f, format!("4321\n{}", "x".repeat(10_000))).unwrap();
        let pin = resolve(&[PinSource::File(f)], "").unwrap();
        assert_eq!(pin.expose_secret(), "4321");
    }

    #[test]
    fn uri_pin_source_accepts_file_uris() {
        let c = PinSource::chain(None, Some("file:///run/pin"));
        assert!(matches!(&c[0], PinSource::File(p) if p == std::path::Path::new("/run/pin")));
        assert!(matches!(&c[1], PinSource::Env(v) if v == PIN_ENV));
    }
}
