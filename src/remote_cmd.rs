//! `kyso sign prepare | digest | finalize`: two-phase remote signing on the command line.

use clap::{Args, Subcommand};
use kyso_hsm::{HsmError, Pkcs11Uri, SignDigest, SignatureAlgorithm, SigningKey};
use kyso_signer::remote::{self, Pending, Recipe, RemoteFormat};
use kyso_signer::tsp::{TimestampSource, Tsa};
use kyso_signer::SignError;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;
use x509_cert::Certificate;

#[derive(Subcommand)]
pub enum RemoteStep {
    /// Phase 1, where the document is: prepare it and print the digest the token must sign.
    Prepare(PrepareArgs),
    /// Phase 2, on the machine with the token: sign a digest, print the signature (hex).
    Digest(DigestArgs),
    /// Phase 3, where the document is: check the signature and embed it.
    Finalize(FinalizeArgs),
}

#[derive(Args)]
pub struct PrepareArgs {
    /// pades or cades.
    #[arg(long, default_value = "pades")]
    format: String,
    /// CAdES: put the content inside the signature.
    #[arg(long)]
    attached: bool,
    /// The signer's certificate (PEM or DER), e.g. from `kyso token sign-digest --cert-out`.
    #[arg(long, value_name = "PEM")]
    cert: PathBuf,
    /// Certificates above the signer's (PEM, one or more per file).
    #[arg(long, value_name = "PEM")]
    chain: Vec<PathBuf>,
    /// Signature algorithm (default from the certificate's key).
    #[arg(long, value_name = "ALG")]
    alg: Option<String>,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    location: Option<String>,
    /// Reserve room for a time-stamp (finalize with --tsa).
    #[arg(long)]
    timestamped: bool,
    /// A visible signer's stamp at PAGE,X,Y,W,H (points), as for `kyso sign`.
    #[arg(long, value_name = "PAGE,X,Y,W,H", value_parser = stamp_place)]
    stamp: Option<String>,
    /// The digitized-copy stamp at the top right of page 1.
    #[arg(long)]
    copy_stamp: bool,
    /// Prepare even a document whose earlier signature already fails, as for `kyso sign`.
    #[arg(long)]
    sign_over_broken: bool,
    /// Write BASE.json (the pending state) and, for PAdES, BASE.pdf (the prepared PDF): the
    /// extension appended to BASE, and neither file may exist yet.
    #[arg(long, value_name = "BASE")]
    out: PathBuf,
    /// The document.
    file: PathBuf,
}

fn stamp_place(s: &str) -> Result<String, String> {
    s.parse::<kyso_signer::pades::StampPlace>()?;
    Ok(s.to_string())
}

#[derive(Args)]
pub struct DigestArgs {
    /// PKCS#11 URI of the signing key.
    #[arg(long, value_name = "URI")]
    key: String,
    /// The digest from `prepare`, hex.
    #[arg(long, value_name = "HEX", required_unless_present = "prepared")]
    digest: Option<String>,
    /// The algorithm from `prepare` (e.g. rsa-pkcs1-sha256).
    #[arg(long, value_name = "ALG")]
    alg: Option<String>,
    /// The desk check: what `prepare` answered (the service's JSON answer, or what `kyso sign
    /// prepare` printed): its digest is signed only if preparing --document here, for the
    /// token's own certificate, by the answer's recipe gives that same digest.
    #[arg(long, value_name = "JSON", requires = "document")]
    prepared: Option<PathBuf>,
    /// The document the official means to sign (with --prepared).
    #[arg(long, value_name = "FILE", requires = "prepared")]
    document: Option<PathBuf>,
    /// Accept an answer that puts the digitized-copy stamp on the document (it presents the
    /// document as a certified copy): without it such an answer is refused.
    #[arg(long, requires = "prepared")]
    copy_stamp: bool,
    /// Accept an answer that signs over an earlier signature that already fails, as `kyso
    /// sign --sign-over-broken`: without it such an answer is refused.
    #[arg(long, requires = "prepared")]
    sign_over_broken: bool,
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct FinalizeArgs {
    /// BASE.json from `prepare`.
    #[arg(long, value_name = "JSON")]
    pending: PathBuf,
    /// The signature from `digest`, hex.
    #[arg(long, value_name = "HEX", conflicts_with = "signature_file")]
    signature: Option<String>,
    /// The signature, raw bytes.
    #[arg(long, value_name = "FILE")]
    signature_file: Option<PathBuf>,
    /// B-T: a time-stamp from this TSA URL, or `internal` with --tsa-key.
    #[arg(long, value_name = "internal|URL")]
    tsa: Option<String>,
    #[arg(long, value_name = "URI")]
    tsa_key: Option<String>,
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// The signed document (PAdES) or signature (CAdES) to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> SignError {
    move |e| SignError::Token(HsmError::Io { what, source: e })
}

fn read(p: &Path) -> Result<Vec<u8>, SignError> {
    std::fs::read(p).map_err(io(format!("read {}", p.display())))
}

fn certs(p: &Path) -> Result<Vec<Certificate>, SignError> {
    let bytes = read(p)?;
    if bytes.starts_with(b"-----BEGIN") {
        // Each block DER as kyso writes it back, as a DER file is held: a PEM chain read so
        // was kept re-encoded, and the signature finalized over it failed (helper 180).
        let blocks = kyso_verify::x509::load_certificates(&bytes)
            .map_err(|e| SignError::Input(format!("{}: {e}", p.display())))?;
        blocks
            .iter()
            .map(|c| {
                kyso_hsm::key::der_certificate(c.der())
                    .map_err(|e| SignError::Input(format!("{}: {e}", p.display())))
            })
            .collect()
    } else {
        kyso_hsm::key::parse_certificate(&bytes)
            .map(|c| vec![c])
            .map_err(|e| SignError::Input(format!("{}: {e}", p.display())))
    }
}

fn parse_alg(s: &str) -> Result<SignatureAlgorithm, SignError> {
    SignatureAlgorithm::parse(s).ok_or_else(|| SignError::Input(format!("unknown algorithm {s:?}")))
}

pub fn run(step: RemoteStep) -> Result<ExitCode, SignError> {
    match step {
        RemoteStep::Prepare(a) => prepare(a),
        RemoteStep::Digest(a) => digest(a),
        RemoteStep::Finalize(a) => finalize(a),
    }
}

fn prepare(a: PrepareArgs) -> Result<ExitCode, SignError> {
    let cert = certs(&a.cert)?
        .into_iter()
        .next()
        .ok_or_else(|| SignError::Input(format!("no certificate in {}", a.cert.display())))?;
    // As `kyso sign` and the service's prepare: a certificate that may not sign documents now
    // prepares nothing.
    if let Some(reason) = kyso_signer::unfit_to_sign(&cert, std::time::SystemTime::now()) {
        return Err(kyso_hsm::HsmError::UnfitCertificate {
            key: a.cert.display().to_string(),
            subject: cert.tbs_certificate.subject.to_string(),
            reason,
        }
        .into());
    }
    let mut chain = Vec::new();
    for c in &a.chain {
        chain.extend(certs(c)?);
    }
    let alg = match &a.alg {
        Some(s) => parse_alg(s)?,
        None => remote::default_algorithm(&cert)?,
    };
    // BASE with the extension appended (`hoso.pdf` → `hoso.pdf.json`, `hoso.pdf.pdf`): one
    // replaced made `--out hoso.pdf hoso.pdf` write the prepared PDF over the document, and
    // `--out job.2026` a `job.json`.
    let usage = |m: String| SignError::Token(HsmError::Usage(m));
    let format = match a.format.as_str() {
        "pades" => RemoteFormat::Pades,
        "cades" => RemoteFormat::Cades,
        other => {
            return Err(SignError::Input(format!(
                "--format {other:?}: pades or cades"
            )))
        }
    };
    // A base names a file: `jobs/` made `jobs/.json`, which finalize then misread (helper 129).
    {
        use std::os::unix::ffi::OsStrExt;
        let b = a.out.as_os_str().as_bytes();
        if b.is_empty() || b.ends_with(b"/") || a.out.is_dir() {
            return Err(usage(format!(
                "--out {:?}: a base name for the state's files (BASE.json, BASE.pdf), not a folder",
                a.out.display().to_string()
            )));
        }
    }
    let named = |ext: &str| {
        let mut s = a.out.clone().into_os_string();
        s.push(ext);
        PathBuf::from(s)
    };
    let (json, prepared) = (named(".json"), named(".pdf"));
    let ours: &[&PathBuf] = match format {
        RemoteFormat::Pades => &[&json, &prepared],
        RemoteFormat::Cades => &[&json],
    };
    for p in ours {
        if p.symlink_metadata().is_ok() {
            return Err(usage(format!(
                "{} exists: a pending state is never written over (remove it, or choose another --out)",
                p.display()
            )));
        }
    }
    let data = read(&a.file)?;
    let recipe = Recipe {
        reason: a.reason,
        location: a.location,
        reserve: (format == RemoteFormat::Pades)
            .then(|| remote::reserve_for(&cert, &chain, a.timestamped)),
        stamp: a.stamp,
        copy_stamp: a.copy_stamp,
        sign_over_broken: a.sign_over_broken,
        attached: a.attached,
        ..Recipe::now(format, alg)
    };
    let (pdf, pending) = recipe.prepare(&data, &cert, &chain)?;
    if let Some(bytes) = &pdf {
        crate::sign_cmd::write_atomic(&prepared, bytes, false)
            .map_err(io(format!("write {}", prepared.display())))?;
    }
    let text = serde_json::to_string_pretty(&pending).expect("serializable");
    if let Err(e) = crate::sign_cmd::write_atomic(&json, text.as_bytes(), false) {
        // Half a state is none: the prepared PDF goes too, or the next run refuses it.
        if pdf.is_some() {
            let _ = std::fs::remove_file(&prepared);
        }
        return Err(io(format!("write {}", json.display()))(e));
    }
    outln!(
        "{}",
        serde_json::json!({
            "pending": json,
            "digest": pending.digest,
            "digest_algorithm": pending.digest_algorithm,
            "algorithm": pending.algorithm,
            "recipe": recipe,
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// What `prepare` answered, as the desk check reads it (other fields are ignored).
#[derive(serde::Deserialize)]
struct Answer {
    digest: String,
    recipe: Recipe,
}

fn digest(a: DigestArgs) -> Result<ExitCode, SignError> {
    // The answer and the document are read before the token is opened; the recipe is
    // checked with the token's own certificate, before anything is signed.
    let checked = match (&a.prepared, &a.document) {
        (Some(p), Some(d)) => {
            let mut text = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(
                    std::fs::File::open(p).map_err(io(format!("read {}", p.display())))?,
                    1 << 20,
                ),
                &mut text,
            )
            .map_err(io(format!("read {}", p.display())))?;
            let answer: Answer = serde_json::from_slice(&text).map_err(|e| {
                SignError::Input(format!(
                    "{} is not what prepare answers (digest, recipe): {e}",
                    p.display()
                ))
            })?;
            if a.digest
                .as_deref()
                .is_some_and(|d| !d.trim().eq_ignore_ascii_case(answer.digest.trim()))
            {
                return Err(SignError::Input(format!(
                    "--digest is not the digest in {}",
                    p.display()
                )));
            }
            if a.alg
                .as_deref()
                .is_some_and(|x| x != answer.recipe.algorithm)
            {
                return Err(SignError::Input(format!(
                    "--alg is not the algorithm in {} ({})",
                    p.display(),
                    answer.recipe.algorithm
                )));
            }
            // What the official did not ask for is not signed on the service's word.
            if answer.recipe.copy_stamp && !a.copy_stamp {
                return Err(SignError::Input(format!(
                    "{} puts the digitized-copy stamp on the document (a certified copy): give --copy-stamp if that is meant; nothing was signed",
                    p.display()
                )));
            }
            if answer.recipe.sign_over_broken && !a.sign_over_broken {
                return Err(SignError::Input(format!(
                    "{} signs over an earlier signature that fails: give --sign-over-broken if that is meant; nothing was signed",
                    p.display()
                )));
            }
            Some((answer, read(d)?, d.clone()))
        }
        _ => None,
    };
    let uri = Pkcs11Uri::parse(&a.key)?;
    let mut key = kyso_hsm::open_key(a.module.as_deref(), &uri, a.pin_file, 1)?;
    let alg = match (&checked, &a.alg) {
        (Some((answer, ..)), _) => Some(answer.recipe.algorithm.clone()),
        (None, alg) => alg.clone(),
    };
    if let Some(s) = &alg {
        key.set_algorithm(parse_alg(s)?)?;
    }
    let hex_digest = match &checked {
        Some((answer, document, path)) => {
            answer.recipe.check(
                &answer.digest,
                document,
                key.certificate(),
                SystemTime::now(),
            )?;
            let r = &answer.recipe;
            let mut what = vec![format!("{:?}", r.format)];
            if let Some(x) = &r.reason {
                what.push(format!("reason {x:?}"));
            }
            if let Some(x) = &r.location {
                what.push(format!("location {x:?}"));
            }
            if let Some(x) = &r.stamp {
                // As read (PAGE,X,Y,W,H), not as written: the text may hold anything.
                if let Ok(p) = x.parse::<kyso_signer::pades::StampPlace>() {
                    what.push(format!(
                        "a visible stamp on page {} at {:?}",
                        p.page, p.rect
                    ));
                }
            }
            if r.copy_stamp {
                what.push("the digitized-copy stamp".into());
            }
            if r.sign_over_broken {
                what.push("over an earlier signature that fails".into());
            }
            if r.attached {
                what.push("the content inside the signature".into());
            }
            eprintln!(
                "checked: {:?} (SHA-256 {}) prepared for {:?} at {}: {}; the digest is this document's",
                path.display().to_string(),
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(document)),
                key.certificate().tbs_certificate.subject.to_string(),
                kyso_verify::rfc3339(r.time()?),
                what.join(", ")
            );
            answer.digest.clone()
        }
        None => a.digest.clone().unwrap_or_default(),
    };
    let d = hex::decode(hex_digest.trim())
        .map_err(|e| SignError::Input(format!("--digest is not hex: {e}")))?;
    outln!("{}", hex::encode(key.sign_digest(&d)?));
    Ok(ExitCode::SUCCESS)
}

fn finalize(a: FinalizeArgs) -> Result<ExitCode, SignError> {
    let text = read(&a.pending)?;
    let pending: Pending = serde_json::from_slice(&text).map_err(|e| {
        SignError::Input(format!(
            "{} is not a pending state: {e}",
            a.pending.display()
        ))
    })?;
    let signature = match (&a.signature, &a.signature_file) {
        (Some(h), _) => hex::decode(h.trim())
            .map_err(|e| SignError::Input(format!("--signature is not hex: {e}")))?,
        (None, Some(f)) => read(f)?,
        (None, None) => {
            return Err(SignError::Input(
                "give --signature HEX or --signature-file FILE".into(),
            ))
        }
    };
    let pdf = match pending.format {
        // BASE.json's prepared PDF is BASE.pdf (prepare appends both to BASE).
        RemoteFormat::Pades => {
            use std::os::unix::ffi::OsStrExt;
            let Some(base) = a.pending.as_os_str().as_bytes().strip_suffix(b".json") else {
                return Err(SignError::Token(HsmError::Usage(format!(
                    "--pending {}: the BASE.json `kyso sign prepare` wrote (its prepared PDF is BASE.pdf beside it)",
                    a.pending.display()
                ))));
            };
            let mut p = std::ffi::OsStr::from_bytes(base).to_os_string();
            p.push(".pdf");
            Some(read(Path::new(&p))?)
        }
        RemoteFormat::Cades => None,
    };
    let tsa = match a.tsa.as_deref() {
        None => None,
        Some("internal") => {
            let uri =
                Pkcs11Uri::parse(a.tsa_key.as_deref().ok_or_else(|| {
                    SignError::Input("--tsa internal needs --tsa-key URI".into())
                })?)?;
            let key = kyso_hsm::open_key(a.module.as_deref(), &uri, a.pin_file.clone(), 1)?;
            Some(TimestampSource::Internal(std::sync::Arc::new(Tsa::new(
                std::sync::Arc::new(key),
                kyso_signer::tsp::DEMO_POLICY,
            )?)))
        }
        Some(url) => Some(TimestampSource::Url(url.to_string())),
    };
    let out = remote::finalize(&pending, pdf, &signature, tsa.as_ref())?;
    crate::sign_cmd::write_atomic(&a.out, &out, false)
        .map_err(io(format!("write {}", a.out.display())))?;
    eprintln!("signed: {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
