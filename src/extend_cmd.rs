//! `kyso extend`: bring signed files to B-LT or B-LTA, or renew their archive time-stamp.
//!
//! ```text
//! kyso extend FILE… --level B-LT|B-LTA [--renew] [--tsa internal|URL] [--tsa-key URI]
//!             [--content FILE] [--trust PEM|DIR]… [--certs PEM]… [--crl FILE]… [--ocsp FILE]…
//!             [--offline] [--out FILE] [--json]
//! ```
//! A signature with no time-stamp (B-B) first gets one (a PDF a document time-stamp, a CMS a
//! signature-time-stamp). A PDF gets its DSS (and a document time-stamp); a CMS (`.p7m`, or
//! `.p7s` with `--content`) its certificate and revocation values (and an
//! archive-time-stamp-v3). Earlier revisions and
//! signatures are never touched: PDFs grow by incremental updates, CMS by unsigned attributes.
//! Each file is written back in place (atomically) unless `--out` names another file.

use clap::Args;
use kyso_signer::ltv::Level;
use kyso_signer::SignError;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

#[derive(Args)]
pub struct ExtendArgs {
    /// B-LT (validation data embedded) or B-LTA (and an archive time-stamp).
    #[arg(long, value_name = "B-LT|B-LTA")]
    level: Level,
    /// Add a new archive (document) time-stamp over everything, even if the newest revision
    /// is one: before the last time-stamp's TSA certificate expires or its algorithms weaken.
    #[arg(long)]
    renew: bool,
    /// `internal` (kyso's TSA, key --tsa-key) or the URL of an RFC 3161 TSA: for B-LTA, and
    /// for signatures with no time-stamp (B-B), which get one first.
    #[arg(long, value_name = "internal|URL")]
    tsa: Option<String>,
    /// The internal TSA's key (PKCS#11 URI).
    #[arg(long, value_name = "URI")]
    tsa_key: Option<String>,
    /// PKCS#11 module for the internal TSA's token.
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    /// PIN file for the internal TSA's token.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// The content of a detached CMS signature (.p7s).
    #[arg(long, value_name = "FILE")]
    content: Option<PathBuf>,
    /// How to validate the signatures whose validation data is embedded.
    #[command(flatten)]
    trust: crate::verify_cmd::TrustArgs,
    /// Write the result here (one input only) instead of updating the file in place.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the file --out names if it exists (else refused, exit 5).
    #[arg(long)]
    overwrite: bool,
    /// Print a JSON line per file.
    #[arg(long)]
    json: bool,
    /// Signed PDFs or CMS signatures.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(a: ExtendArgs) -> Result<ExitCode, SignError> {
    // What the flags say: usage errors (exit 3, docs/cli.md), before any PIN is asked for.
    let unfit = if a.out.is_some() && a.files.len() != 1 {
        Some("--out takes one input file".to_string())
    } else if a.renew && a.level != Level::BLta {
        Some("--renew is for --level B-LTA".into())
    } else if a.level == Level::BLta && a.tsa.is_none() && a.tsa_key.is_none() {
        Some(
            "B-LTA needs a time-stamping authority: --tsa URL, or --tsa internal --tsa-key URI"
                .into(),
        )
    } else {
        crate::sign_cmd::tsa_unfit(a.tsa.as_deref(), a.tsa_key.as_deref())
    };
    let unfit = unfit.or_else(|| {
        let mut inputs = a.files.clone();
        inputs.extend(a.content.clone());
        crate::sign_cmd::unreadable(&inputs, a.tsa_key.as_deref(), None)
    });
    if let Some(why) = unfit {
        return Ok(crate::archive_cmd::usage(why));
    }
    // Another file is not replaced without a word: an unrelated file named by --out was, and
    // took the PDF and mode 0600 (helper 175). Extending in place is what no --out asks for.
    let named: Vec<&std::path::Path> = a.out.iter().map(PathBuf::as_path).collect();
    if let Some(e) = crate::sign_cmd::exists_already(named, a.overwrite) {
        return Err(SignError::Input(e));
    }
    // The token flags are the internal TSA's: said when nothing reads them.
    let internal = match a.tsa.as_deref() {
        Some(t) => t == "internal",
        None => a.tsa_key.is_some(),
    };
    if !internal {
        let ignored: Vec<&str> = [
            ("--module", a.module.is_some()),
            ("--pin-file", a.pin_file.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect();
        if !ignored.is_empty() {
            eprintln!(
                "kyso: warning: {} ignored: only the internal TSA's token (--tsa internal) reads it",
                ignored.join(", ")
            );
        }
    }
    let v = match a.trust.validator() {
        Ok(v) => v,
        Err(e) => return Ok(crate::archive_cmd::usage(e)),
    };
    // What an extended file holds is read back offline (below).
    let offline = kyso_verify::Validator {
        fetch: None,
        ..v.clone()
    };
    // B-LT takes one too, for signatures with no time-stamp (B-B): they get one first.
    let tsa = match (a.level, &a.tsa, &a.tsa_key) {
        // (B-LTA without one was refused above.)
        (_, None, None) => None,
        (_, t, k) => {
            let key_uri = match k {
                Some(k) => kyso_hsm::Pkcs11Uri::parse(k)?,
                None => kyso_hsm::Pkcs11Uri::default(),
            };
            Some(crate::sign_cmd::timestamp_source(
                t.as_deref(),
                k.as_deref(),
                &key_uri,
                a.module.as_deref(),
                a.pin_file.clone(),
                1,
            )?)
        }
    };
    let content = match &a.content {
        Some(p) => Some(std::fs::read(p).map_err(|e| SignError::Io {
            what: format!("read {}", p.display()),
            source: e,
        })?),
        None => None,
    };
    let mut failed = 0;
    for f in &a.files {
        let result = (|| -> Result<(PathBuf, Vec<String>), SignError> {
            let data = std::fs::read(f).map_err(|e| SignError::Io {
                what: format!("read {}", f.display()),
                source: e,
            })?;
            // A CMS in PEM text: written back as DER under its name, it would no longer be
            // what its name and its readers say (helper 186).
            if !kyso_verify::looks_like_pdf(&data) && kyso_verify::pem_armoured(&data) {
                return Err(SignError::Input(
                    "a signature in PEM text: convert it to DER first (openssl cms -inform PEM -outform DER -in FILE -out FILE.p7s)".into(),
                ));
            }
            let out = if kyso_verify::looks_like_pdf(&data) {
                kyso_signer::ltv::extend_pdf(
                    &data,
                    &v,
                    a.level,
                    tsa.as_ref(),
                    a.renew,
                    SystemTime::now(),
                )?
            } else {
                kyso_signer::ltv::extend_cms(
                    &data,
                    content.as_deref(),
                    &v,
                    a.level,
                    tsa.as_ref(),
                    a.renew,
                )?
            };
            // What the file will be, as verify reads it offline — from what it holds, which is
            // what long-term levels are about (fetching again would ask the responders a
            // third time): the level asked for is a baseline's, and a plain CMS or
            // adbe.pkcs7.detached signature has none to reach. Read before it is written: a
            // baseline signature below the level asked is no extension (helper 181: the CRL
            // given with --crl was left out, kyso printed "(PAdES-B-T)" and exited 0).
            let reached = match (&content, kyso_verify::looks_like_pdf(&out)) {
                (Some(c), false) => offline.verify_file(c, Some(&out)),
                _ => offline.verify_file(&out, None),
            };
            let formats: Vec<String> = reached
                .signatures
                .iter()
                .map(|s| s.format.clone())
                .collect();
            let rank = |l: &str| ["B-B", "B-T", "B-LT", "B-LTA"].iter().position(|x| *x == l);
            let asked = match a.level {
                Level::BLt => "B-LT",
                Level::BLta => "B-LTA",
            };
            if let Some(short) = formats.iter().find(|f| {
                let level = f
                    .strip_prefix("PAdES-")
                    .or_else(|| f.strip_prefix("CAdES-"));
                level.and_then(rank).is_some_and(|l| Some(l) < rank(asked))
            }) {
                return Err(SignError::Input(format!(
                    "the extended signature reads as {short} from what the file holds, not {asked}: the validation data it rests on did not all go into it; nothing was written"
                )));
            }
            let path = a.out.clone().unwrap_or_else(|| f.clone());
            crate::sign_cmd::write_atomic(&path, &out, true).map_err(|e| SignError::Io {
                what: format!("write {}", path.display()),
                source: e,
            })?;
            Ok((path, formats))
        })();
        match result {
            Ok((path, formats)) => {
                if a.json {
                    outln!(
                        "{}",
                        serde_json::json!({"file": f, "output": path, "level": match a.level {
                            Level::BLt => "B-LT",
                            Level::BLta => "B-LTA",
                        }, "signatures": formats})
                    );
                } else {
                    eprintln!(
                        "extended {} -> {} ({})",
                        f.display(),
                        path.display(),
                        formats.join(", ")
                    );
                }
            }
            Err(e) => {
                failed += 1;
                if a.json {
                    outln!("{}", serde_json::json!({"file": f, "error": e.to_string()}));
                }
                eprintln!("kyso: {}: {e}", f.display());
                if a.files.len() == 1 {
                    return Ok(ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1)));
                }
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::sign_cmd::EXIT_PARTIAL)
    })
}
