//! `kyso verify`: the stable interface of DESIGN.md.
//!
//! ```text
//! kyso verify FILE [--detached SIG] [--trust PEM]... [--certs PEM]... [--crl FILE]... [--json]
//! ```
//! Exit status: 0 TOTAL-PASSED, 1 TOTAL-FAILED, 2 INDETERMINATE or NO_SIGNATURE, 3 usage or I/O.

use clap::{Args, ValueEnum};
use kyso_verify::{x509, CertRef, Lang, Validator};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Largest file `kyso verify` reads (a scanned dossier can be large; a bomb cannot).
const MAX_INPUT: u64 = 512 << 20;

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    Vi,
    En,
}

/// What a validation is given: `kyso verify` and `kyso archive put` take the same flags.
#[derive(Args)]
pub struct TrustArgs {
    /// Trust anchors: PEM/DER certificates, or a directory of them (repeatable).
    #[arg(long, value_name = "PEM|DIR")]
    trust: Vec<PathBuf>,
    /// More certificates for building paths (intermediates).
    #[arg(long, value_name = "PEM")]
    certs: Vec<PathBuf>,
    /// Certificate revocation lists (PEM or DER), or a directory of them.
    #[arg(long, value_name = "FILE|DIR")]
    crl: Vec<PathBuf>,
    /// OCSP responses (DER OCSPResponse, as `openssl ocsp -respout` writes them), or a
    /// directory of them.
    #[arg(long, value_name = "FILE|DIR")]
    ocsp: Vec<PathBuf>,
    /// When asking OCSP responders, send a nonce and require it back (RFC 6960 §4.4.1).
    #[arg(long)]
    ocsp_nonce: bool,
    /// Use only the validation data given and embedded: fetch no CRL or OCSP response over the
    /// network (by default kyso asks the responders and distribution points a certificate
    /// names when nothing at hand tells its status).
    #[arg(long)]
    offline: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The signed file: a PDF, a CMS (.p7m), or the content of a detached signature.
    file: PathBuf,
    /// A detached CMS signature (.p7s) over FILE.
    #[arg(long, value_name = "SIG")]
    detached: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
    /// Validate as of this time (RFC 3339, or YYYY-MM-DD for the start of that day in UTC):
    /// what the verdict would have been then.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Print the JSON report.
    #[arg(long)]
    json: bool,
    /// Language of the human summary.
    #[arg(long, value_enum, default_value = "vi")]
    lang: LangArg,
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(p).map_err(|e| format!("read {}: {e}", p.display()))?;
    let mut v = Vec::new();
    f.take(MAX_INPUT + 1)
        .read_to_end(&mut v)
        .map_err(|e| format!("read {}: {e}", p.display()))?;
    if v.len() as u64 > MAX_INPUT {
        return Err(format!(
            "{} is larger than {} MiB",
            p.display(),
            MAX_INPUT >> 20
        ));
    }
    Ok(v)
}

pub(crate) fn certs_from(p: &Path) -> Result<Vec<CertRef>, String> {
    if p.is_dir() {
        let mut out = Vec::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| format!("read {}: {e}", p.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.is_file())
            .collect();
        entries.sort();
        for f in entries {
            // A trust store directory may hold other files; certificates are what parse.
            if let Ok(c) = x509::load_certificates(&read(&f)?) {
                out.extend(c);
            }
        }
        return Ok(out);
    }
    x509::load_certificates(&read(p)?)
        .map_err(|e| format!("{}: not a certificate: {e}", p.display()))
}

/// The files named, a directory standing for the files in it: (path, came from a directory).
fn files_of(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("read {}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .collect();
            v.sort();
            out.extend(v.into_iter().map(|f| (f, true)));
        } else {
            out.push((p.clone(), false));
        }
    }
    Ok(out)
}

impl TrustArgs {
    /// The flags given that only validation reads (all but --certs, which also completes a
    /// signer's chain): what a command that validates nothing would ignore.
    pub fn validation_flags(&self) -> Vec<&'static str> {
        [
            ("--trust", !self.trust.is_empty()),
            ("--crl", !self.crl.is_empty()),
            ("--ocsp", !self.ocsp.is_empty()),
            ("--ocsp-nonce", self.ocsp_nonce),
            ("--offline", self.offline),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect()
    }

    /// A validator from trust anchors (files or directories), intermediates and CRLs.
    pub fn validator(&self) -> Result<Validator, String> {
        let mut v = Validator::default();
        for t in &self.trust {
            v.anchors.extend(certs_from(t)?);
        }
        for c in &self.certs {
            v.certs.extend(certs_from(c)?);
        }
        // A file must be what it is given as; in a directory, what parses is taken.
        for (p, is_dir) in files_of(&self.crl)? {
            match x509::load_crl(&read(&p)?) {
                Ok(c) => v.crls.push(c),
                Err(_) if is_dir => {}
                Err(e) => return Err(format!("{}: not a CRL: {e}", p.display())),
            }
        }
        for (p, is_dir) in files_of(&self.ocsp)? {
            match x509::load_ocsp(&read(&p)?) {
                Ok(o) => v.ocsps.push(o),
                Err(_) if is_dir => {}
                Err(e) => return Err(format!("{}: not an OCSP response: {e}", p.display())),
            }
        }
        if !self.offline {
            let mut f = kyso_verify::fetch::Fetcher::new();
            f.nonce = self.ocsp_nonce;
            v.fetch = Some(std::sync::Arc::new(f));
        }
        Ok(v)
    }
}

/// RFC 3339, or a date (the start of that day, UTC).
fn parse_time(s: &str) -> Result<std::time::SystemTime, String> {
    kyso_verify::dates::parse_rfc3339(s)
        .or_else(|| kyso_verify::dates::parse_rfc3339(&format!("{s}T00:00:00Z")))
        .ok_or_else(|| format!("--at {s:?}: not an RFC 3339 time (2031-05-01T09:00:00+07:00) or a date (2031-05-01)"))
}

/// A file read as a CMS that is none, given without `--detached`: most often the content of a
/// detached signature, verified alone (a new user's walk-through, helper 182: "the signature is
/// neither DER nor BER", INVALID, and nothing said of `--detached`). On stderr: the report and
/// its exit status stay what they are.
fn detached_hint(a: &VerifyArgs, data: &[u8]) -> Option<String> {
    // Judged on the bytes, not on the report's words: neither a PDF, nor PEM, nor BER.
    let unreadable_cms = a.detached.is_none()
        && !kyso_verify::looks_like_pdf(data)
        && !kyso_verify::pem_armoured(data)
        && kyso_verify::ber::read(data).is_err();
    if !unreadable_cms {
        return None;
    }
    let mut sig = a.file.clone().into_os_string();
    sig.push(".p7s");
    let sig = PathBuf::from(sig);
    // File names as a terminal may show them, and quoted for a shell: a name is anyone's to
    // choose, and a command shown is a command copied (`$(…)` in a name ran; helper 185).
    let name = |p: &Path| {
        let n = kyso_verify::report::shown(
            &p.display().to_string(),
            kyso_verify::report::MAX_SHOWN_VALUE,
        )
        .replace('\'', "'\\''");
        format!("'{n}'")
    };
    let file = name(&a.file);
    Some(match sig.is_file() {
        true => format!(
            "{file} is neither a PDF nor a CMS signature; {sig} lies beside it: kyso verify {file} --detached {sig}",
            sig = name(&sig)
        ),
        false => format!(
            "{file} is neither a PDF nor a CMS signature; if a detached signature (.p7s) signs it, give it: kyso verify {file} --detached FILE.p7s"
        ),
    })
}

pub fn run(a: VerifyArgs) -> ExitCode {
    let go = || -> Result<(kyso_verify::Report, Option<String>), String> {
        let mut v = a.trust.validator()?;
        if let Some(at) = &a.at {
            v.now = parse_time(at)?;
        }
        let data = read(&a.file)?;
        let detached = match &a.detached {
            Some(p) => Some(read(p)?),
            None => None,
        };
        // An empty file holds no signature to judge (it read as a broken one, TOTAL-FAILED;
        // a new user's reading, 2026-12-04). Empty signed content is content.
        let empty = match &detached {
            Some(sig) if sig.is_empty() => a.detached.as_deref(),
            None if data.is_empty() => Some(a.file.as_path()),
            _ => None,
        };
        if let Some(p) = empty {
            return Err(format!("{} is empty: nothing to verify", p.display()));
        }
        let report = v.verify_file(&data, detached.as_deref());
        // (Looked for only when the file failed: a signed one is read once.)
        let hint = (report.indication == kyso_verify::Indication::TotalFailed)
            .then(|| detached_hint(&a, &data))
            .flatten();
        Ok((report, hint))
    };
    match go() {
        Ok((report, hint)) => {
            if let Some(hint) = hint {
                eprintln!("kyso: {hint}");
            }
            let text = if a.json {
                format!("{}\n", report.to_json())
            } else {
                let lang = match a.lang {
                    LangArg::Vi => Lang::Vi,
                    LangArg::En => Lang::En,
                };
                report.summary(lang)
            };
            // A reader that stops early (`kyso verify … | head`) is not an error of the
            // verdict: the exit status still says it.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => {
                    eprintln!("kyso: write the report: {e}");
                    return ExitCode::from(crate::EXIT_USAGE);
                }
            }
            ExitCode::from(report.indication.exit_code() as u8)
        }
        Err(e) => {
            eprintln!("kyso: {e}");
            ExitCode::from(crate::EXIT_USAGE)
        }
    }
}
