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
                let text = std::fs::read_to_string(p).map_err(|e| HsmError::PinSource {
                    source_name: format!("file {}", p.display()),
                    reason: e.to_string(),
                })?;
                let pin = text
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('\r')
                    .to_string();
                let text = zeroize::Zeroizing::new(text);
                drop(text);
                if pin.is_empty() {
                    return Err(HsmError::PinSource {
                        source_name: format!("file {}", p.display()),
                        reason: "the file is empty".into(),
                    });
                }
                Ok(Some(SecretString::from(pin)))
            }
            PinSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Some(SecretString::from(v))),
                _ => Ok(None),
            },
            PinSource::Prompt => {
                use std::io::IsTerminal;
                if !std::io::stdin().is_terminal() {
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

/// Get a PIN from the first source that has one.
pub fn resolve(sources: &[PinSource], prompt: &str) -> Result<SecretString> {
    for s in sources {
        if let Some(pin) = s.read(prompt)? {
            return Ok(pin);
        }
    }
    Err(HsmError::NoPin)
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

    #[test]
    fn uri_pin_source_accepts_file_uris() {
        let c = PinSource::chain(None, Some("file:///run/pin"));
        assert!(matches!(&c[0], PinSource::File(p) if p == std::path::Path::new("/run/pin")));
        assert!(matches!(&c[1], PinSource::Env(v) if v == PIN_ENV));
    }
}
