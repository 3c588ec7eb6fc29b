//! `kyso sign`: one file or a batch, PAdES or CAdES, with one login for the whole batch.

use clap::{Args, ValueEnum};
use kyso_hsm::{HsmError, Pkcs11Uri, SignDigest, SignatureAlgorithm, SigningKey};
use kyso_signer::tsp::{TimestampSource, Tsa};
use kyso_signer::{cades, pades, PadesOptions, SignError};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// PDF signature as an incremental update (ETSI.CAdES.detached).
    Pades,
    /// CMS SignedData (.p7s detached, .p7m attached).
    Cades,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// Basic signature.
    #[value(name = "B-B")]
    BB,
    /// With a signature time-stamp (RFC 3161) from --tsa.
    #[value(name = "B-T")]
    BT,
    /// B-T and the validation data (certificates, CRLs, OCSP) embedded.
    #[value(name = "B-LT")]
    BLt,
    /// B-LT and an archive (PAdES: document) time-stamp over it all.
    #[value(name = "B-LTA")]
    BLta,
}

impl Level {
    fn long_term(self) -> Option<kyso_signer::ltv::Level> {
        match self {
            Level::BLt => Some(kyso_signer::ltv::Level::BLt),
            Level::BLta => Some(kyso_signer::ltv::Level::BLta),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLt => "B-LT",
            Level::BLta => "B-LTA",
        }
    }
}

/// `kyso sign`: sign files, or one step of two-phase remote signing.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SignCmd {
    #[command(subcommand)]
    pub step: Option<crate::remote_cmd::RemoteStep>,
    #[command(flatten)]
    pub args: SignArgs,
}

#[derive(Args)]
pub struct SignArgs {
    /// Baseline level: B-B; B-T adds a time-stamp from --tsa; B-LT also embeds the validation
    /// data (fetched from what the certificates name unless --offline); B-LTA also an archive
    /// time-stamp.
    #[arg(long, value_enum, default_value = "B-B")]
    level: Level,
    /// For B-LT/B-LTA: how to validate what is signed (default trust: the root of the signing
    /// key's chain on the token).
    #[command(flatten)]
    trust: crate::verify_cmd::TrustArgs,
    /// For B-T: `internal` (kyso's TSA with --tsa-key) or the URL of an RFC 3161 TSA.
    #[arg(long, value_name = "internal|URL")]
    tsa: Option<String>,
    /// The internal TSA's key (default: object=tsa on the signing key's token).
    #[arg(long, value_name = "URI")]
    tsa_key: Option<String>,
    /// PKCS#11 URI of the signing key, e.g. pkcs11:token=kyso-dev;object=signer-rsa
    #[arg(long, value_name = "URI", required = true)]
    key: Option<String>,
    /// pades (PDF) or cades (any file).
    #[arg(long, value_enum, default_value = "pades")]
    format: Format,
    /// CAdES: detached signature in FILE.p7s (default).
    #[arg(long, conflicts_with = "attached")]
    detached: bool,
    /// CAdES: the content inside the signature, FILE.p7m.
    #[arg(long)]
    attached: bool,
    /// Signature algorithm (default: RSA PKCS#1 v1.5 SHA-256 for RSA keys, ECDSA for EC keys):
    /// rsa-pkcs1-sha256, rsa-pss-sha256, ecdsa-sha384, …
    #[arg(long, value_name = "ALG")]
    alg: Option<String>,
    /// PAdES: reason shown in the signature.
    #[arg(long)]
    reason: Option<String>,
    /// PAdES: where it was signed.
    #[arg(long)]
    location: Option<String>,
    /// PAdES: how to reach the signer.
    #[arg(long)]
    contact: Option<String>,
    /// PAdES: a certification signature (DocMDP) allowing 1 no changes, 2 form filling and
    /// signing, 3 also annotations. Only as the first signature.
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u8).range(1..=3))]
    certify: Option<u8>,
    /// PAdES: a visible signer's stamp (name, title, agency, time) at PAGE,X,Y,W,H in points
    /// from the page's lower left corner, e.g. 1,340,60,230,62.
    #[arg(long, value_name = "PAGE,X,Y,W,H")]
    stamp: Option<kyso_signer::pades::StampPlace>,
    /// PAdES: the digitized-copy stamp (agency, time) at the top right of page 1.
    #[arg(long)]
    copy_stamp: bool,
    /// TrueType font for stamps (default: Liberation Serif, Debian fonts-liberation2).
    #[arg(long, value_name = "TTF")]
    stamp_font: Option<PathBuf>,
    /// Write outputs here (default: next to each input).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// PAdES: sign even a document whose earlier signature already fails (its signed bytes
    /// changed, or the document changed after it in ways it does not allow). By default such
    /// a document is refused: the new signature would vouch for a broken one.
    #[arg(long)]
    sign_over_broken: bool,
    /// Replace outputs that already exist (default: refuse, the file is reported and skipped).
    #[arg(long)]
    overwrite: bool,
    /// Write the JSON summary to this file.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Print the JSON summary on stdout.
    #[arg(long)]
    json: bool,
    /// Sessions (and worker threads) for a batch; default: the number of CPUs.
    #[arg(long)]
    jobs: Option<usize>,
    /// PKCS#11 module (default: the URI's module-path, $KYSO_PKCS11_MODULE, or SoftHSM2).
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    /// File whose first line is the PIN (else the URI's pin-source, $KYSO_PIN, or a prompt).
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
    /// Files or directories (a directory means the files in it; for PAdES, its *.pdf).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// One line of the batch summary.
#[derive(serde::Serialize, Clone)]
pub struct Outcome {
    pub file: PathBuf,
    pub output: Option<PathBuf>,
    /// Hex digest of what the signature covers (the PDF byte ranges, or the file).
    pub digest: Option<String>,
    pub signer: Option<String>,
    /// RFC 3339 UTC time of signing.
    pub time: Option<String>,
    pub error: Option<String>,
    #[serde(skip)]
    pub exit_code: i32,
}

/// Exit status when some files of a batch were signed and some were not.
pub const EXIT_PARTIAL: u8 = 4;

fn expand(inputs: &[PathBuf], format: Format) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            v.retain(|f| {
                f.is_file()
                    && (format == Format::Cades
                        || f.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")))
            });
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn output_path(input: &Path, out_dir: Option<&Path>, format: Format, attached: bool) -> PathBuf {
    let dir = out_dir
        .map(Path::to_path_buf)
        .or_else(|| input.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = match format {
        Format::Pades => {
            let stem = input
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(name);
            format!("{stem}.signed.pdf")
        }
        Format::Cades if attached => format!("{name}.p7m"),
        Format::Cades => format!("{name}.p7s"),
    };
    dir.join(out)
}

/// A signing key whose chain is completed from certificates given on the command line.
pub struct WithChain<'k> {
    key: &'k dyn SigningKey,
    chain: Vec<x509_cert::Certificate>,
}

impl<'k> WithChain<'k> {
    pub fn new(key: &'k dyn SigningKey, extra: &[kyso_verify::CertRef]) -> Self {
        let mut pool: Vec<x509_cert::Certificate> = key.chain().to_vec();
        pool.extend(extra.iter().map(|c| c.x509.clone()));
        let chain = kyso_hsm::key::chain_for(key.certificate(), &pool);
        WithChain { key, chain }
    }
}

impl SignDigest for WithChain<'_> {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.key.algorithm()
    }
    fn public_key_info(&self) -> &x509_cert::spki::SubjectPublicKeyInfoOwned {
        self.key.public_key_info()
    }
    fn sign_digest(&self, digest: &[u8]) -> kyso_hsm::Result<Vec<u8>> {
        self.key.sign_digest(digest)
    }
}

impl SigningKey for WithChain<'_> {
    fn certificate(&self) -> &x509_cert::Certificate {
        self.key.certificate()
    }
    fn chain(&self) -> &[x509_cert::Certificate] {
        &self.chain
    }
}

/// Where time-stamps come from: `internal` (kyso's TSA with a key on the token: `tsa_key`, or
/// the object `tsa` on the signing key's token) or an http(s) URL.
pub fn timestamp_source(
    tsa: Option<&str>,
    tsa_key: Option<&str>,
    key_uri: &Pkcs11Uri,
    module: Option<&Path>,
    pin_file: Option<PathBuf>,
    sessions: usize,
) -> Result<TimestampSource, SignError> {
    match tsa {
        Some(url) if url != "internal" => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(SignError::Input(format!(
                    "--tsa {url:?}: give `internal` or an http(s) URL"
                )));
            }
            Ok(TimestampSource::Url(url.to_string()))
        }
        _ => {
            let tsa_uri = match tsa_key {
                Some(u) => Pkcs11Uri::parse(u)?,
                None => Pkcs11Uri {
                    object: Some("tsa".into()),
                    id: None,
                    object_type: None,
                    ..key_uri.clone()
                },
            };
            let tsa_key = kyso_hsm::open_key(module, &tsa_uri, pin_file, sessions)?;
            Ok(TimestampSource::Internal(std::sync::Arc::new(Tsa::new(
                std::sync::Arc::new(tsa_key),
                kyso_signer::tsp::DEMO_POLICY,
            )?)))
        }
    }
}

/// The self-signed roots at the top of the chains the token holds for these keys (and the
/// internal TSA's): what kyso trusts when it validates its own signatures for B-LT and no
/// --trust is given.
pub fn token_roots(
    keys: &[&dyn SigningKey],
    tsa: Option<&TimestampSource>,
) -> Vec<kyso_verify::CertRef> {
    let mut chains: Vec<&x509_cert::Certificate> = Vec::new();
    for k in keys {
        chains.extend(std::iter::once(k.certificate()).chain(k.chain()));
    }
    if let Some(TimestampSource::Internal(t)) = tsa {
        chains.extend(std::iter::once(t.key().certificate()).chain(t.key().chain()));
    }
    let mut out: Vec<kyso_verify::CertRef> = Vec::new();
    for c in chains {
        if c.tbs_certificate.subject == c.tbs_certificate.issuer {
            if let Ok(c) = kyso_verify::Cert::from_parsed(c) {
                let c = std::sync::Arc::new(c);
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// The first of `paths` that exists, said as every command says it: `kyso sign` refused to
/// replace a file, and `archive get`, `token sign-digest`, `token csr` and `timestamp` wrote
/// over one without a word (a new user's reading, 2026-12-05). Asked before anything is read,
/// logged or logged in to.
///
/// Two outputs that are one file are refused, `--overwrite` or not (the second replaced the
/// first: `--out o.txt --signature-out ./o.txt` left the signature alone). A symbolic link is
/// there even when what it names is not (a dangling one passed, and the read was logged before
/// the write failed). A reviewer's reading, 2026-12-05.
pub fn exists_already<'a>(
    paths: impl IntoIterator<Item = &'a Path>,
    overwrite: bool,
) -> Option<String> {
    let paths: Vec<&Path> = paths.into_iter().collect();
    let resolved = |p: &Path| {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        dir.unwrap_or(Path::new("."))
            .canonicalize()
            .ok()
            .zip(p.file_name())
            .map(|(d, f)| d.join(f))
    };
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let one = a == b
                || resolved(a).is_some_and(|x| Some(x) == resolved(b))
                || std::fs::canonicalize(a)
                    .ok()
                    .is_some_and(|x| std::fs::canonicalize(b).ok() == Some(x));
            if one {
                return Some(format!(
                    "{} and {} are one file: give each output a name of its own",
                    a.display(),
                    b.display()
                ));
            }
        }
    }
    if overwrite {
        return None;
    }
    paths
        .into_iter()
        .find(|p| p.symlink_metadata().is_ok())
        .map(|p| format!("{} exists; not replaced (use --overwrite)", p.display()))
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, renamed into
/// place. Nothing partial is ever left under the output name.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> std::io::Result<()> {
    use std::io::Write;
    // Replacing through a link the user made, or what is no file (/dev/stdout): the rename put
    // a file in the link's place — as root, in /dev's (a reviewer's reading, 2026-12-05). A
    // link to a file is replaced at its target, atomically; a device or pipe is written.
    if let Some(m) = path.symlink_metadata().ok().filter(|_| overwrite) {
        if m.file_type().is_symlink() {
            match std::fs::metadata(path) {
                Ok(t) if t.is_file() => {
                    return write_atomic(&std::fs::canonicalize(path)?, bytes, true)
                }
                Ok(_) => return std::fs::write(path, bytes),
                Err(_) => {} // a dangling link: replaced by the file
            }
        } else if !m.is_file() {
            return std::fs::write(path, bytes);
        }
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".kyso-sign-")
        // As a file written the usual way (tempfile's default is 0600): 0644 under the process's
        // umask, which src/main.rs sets to 077 — a signed document is its official's alone.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if overwrite {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    Ok(())
}

fn sign_one(
    key: &dyn SigningKey,
    a: &SignArgs,
    opts: &PadesOptions,
    tsa: Option<&TimestampSource>,
    long_term: Option<&(kyso_signer::ltv::Level, kyso_verify::Validator)>,
    input: &Path,
) -> Outcome {
    let output = output_path(input, a.out_dir.as_deref(), a.format, a.attached);
    let mut o = Outcome {
        file: input.to_path_buf(),
        output: None,
        digest: None,
        signer: Some(kyso_verify::x509::name_string(
            &key.certificate().tbs_certificate.subject,
        )),
        time: None,
        error: None,
        exit_code: 0,
    };
    let fail = |mut o: Outcome, msg: String, code: i32| {
        o.error = Some(msg);
        o.exit_code = code;
        o
    };
    if let Some(e) = exists_already([output.as_path()], a.overwrite) {
        return fail(o, e, 5);
    }
    let data = match std::fs::read(input) {
        Ok(d) => d,
        Err(e) => return fail(o, format!("read {}: {e}", input.display()), 3),
    };
    let now = SystemTime::now();
    let hash = key.algorithm().hash();
    let signed = match a.format {
        Format::Pades => {
            let reserve = opts
                .reserve
                .unwrap_or_else(|| pades::estimate_reserve(key, tsa.is_some()));
            pades::prepare_pdf(&data, Some(key.certificate()), now, reserve, opts).and_then(|p| {
                let digest = p.digest(hash);
                o.digest = Some(hex::encode(&digest));
                let cms = cades::sign_digest_for_pdf(key, &digest, tsa)?;
                p.embed(&cms)
            })
        }
        Format::Cades => {
            o.digest = Some(hex::encode(hash.digest(&data)));
            cades::sign_cades(key, &data, a.attached, now, tsa)
        }
    };
    let signed = match (signed, long_term) {
        (Ok(s), Some((level, v))) => match a.format {
            Format::Pades => kyso_signer::ltv::extend_pdf(&s, v, *level, tsa, false, now),
            Format::Cades => kyso_signer::ltv::extend_cms(
                &s,
                (!a.attached).then_some(&data[..]),
                v,
                *level,
                tsa,
                false,
            ),
        },
        (other, _) => other,
    };
    let signed = match signed {
        Ok(s) => s,
        Err(e) => {
            let code = e.exit_code();
            let hint = match e {
                SignError::BrokenSignature(_) => " (or, knowingly, give --sign-over-broken)",
                // PAdES is the default (a new user's walk-through, helper 182).
                SignError::Pdf(kyso_signer::PdfError::NotPdf) => {
                    "; to sign any other file, give --format cades"
                }
                _ => "",
            };
            return fail(o, format!("{}: {e}{hint}", input.display()), code);
        }
    };
    if let Err(e) = write_atomic(&output, &signed, a.overwrite) {
        return fail(o, format!("write {}: {e}", output.display()), 3);
    }
    o.output = Some(output);
    o.time = Some(kyso_verify::rfc3339(now));
    o
}

/// Before any login: an input that is not there, a TSA key URI that does not parse, a summary
/// whose folder is not there — usage errors the token's PIN was asked for first (helper 129,
/// 2026-12-05: a wrong PIN file spent a try on `--tsa-key garbage`).
pub fn unreadable(
    inputs: &[PathBuf],
    tsa_key: Option<&str>,
    summary: Option<&Path>,
) -> Option<String> {
    if let Some(Err(e)) = tsa_key.map(Pkcs11Uri::parse) {
        return Some(format!("--tsa-key: {e}"));
    }
    if let Some(p) = inputs.iter().find(|p| std::fs::metadata(p).is_err()) {
        return Some(format!("{}: no such file or folder", p.display()));
    }
    let folder = |p: &Path| {
        p.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .is_none_or(Path::is_dir)
    };
    match summary {
        Some(p) if !folder(p) => Some(format!(
            "--summary {}: its folder is not there",
            p.display()
        )),
        _ => None,
    }
}

/// A `--summary` that is one of the batch's inputs or outputs, or a file already there without
/// `--overwrite`: it was written with `fs::write` over whatever was there — a summary named like
/// the document it reports on replaced that document (2026-12-05, left from the last reading).
fn summary_unfit(summary: &Path, files: &[PathBuf], a: &SignArgs) -> Option<String> {
    let outputs: Vec<PathBuf> = files
        .iter()
        .map(|f| output_path(f, a.out_dir.as_deref(), a.format, a.attached))
        .collect();
    for f in files.iter().chain(&outputs) {
        if let Some(e) = exists_already([summary, f.as_path()], true) {
            return Some(format!("--summary: {e}"));
        }
    }
    exists_already([summary], a.overwrite).map(|e| format!("--summary: {e}"))
}

/// What `--tsa` and `--tsa-key` say together, for `kyso sign` and `kyso extend`: a TSA that is
/// not `internal` or an http(s) URL, or an internal TSA's key beside a TSA's URL.
pub fn tsa_unfit(tsa: Option<&str>, tsa_key: Option<&str>) -> Option<String> {
    let url = tsa.filter(|t| *t != "internal")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        Some(format!("--tsa {url:?}: give `internal` or an http(s) URL"))
    } else if tsa_key.is_some() {
        Some("--tsa-key is for --tsa internal, not a TSA's URL".into())
    } else {
        None
    }
}

/// The first flag given that does not fit the others, said as a usage error.
fn unfit(a: &SignArgs) -> Option<String> {
    let pades_only = [
        ("--reason", a.reason.is_some()),
        ("--location", a.location.is_some()),
        ("--contact", a.contact.is_some()),
        ("--certify", a.certify.is_some()),
        ("--stamp", a.stamp.is_some()),
        ("--copy-stamp", a.copy_stamp),
        ("--stamp-font", a.stamp_font.is_some()),
        ("--sign-over-broken", a.sign_over_broken),
    ];
    if a.format == Format::Pades && a.attached {
        Some("--attached is for --format cades".into())
    } else if a.format == Format::Pades && a.detached {
        Some("--detached is for --format cades (a PAdES signature is inside the PDF)".into())
    } else if let (Format::Cades, Some((flag, _))) =
        (a.format, pades_only.iter().find(|(_, given)| *given))
    {
        Some(format!("{flag} is for --format pades"))
    } else if a.level == Level::BB && a.tsa.is_some() {
        Some("--tsa is for --level B-T, B-LT or B-LTA".into())
    } else if a.level == Level::BB && a.tsa_key.is_some() {
        Some("--tsa-key is for --level B-T, B-LT or B-LTA (with --tsa internal)".into())
    } else if a.stamp_font.is_some() && a.stamp.is_none() && !a.copy_stamp {
        Some("--stamp-font is for --stamp or --copy-stamp".into())
    } else {
        tsa_unfit(a.tsa.as_deref(), a.tsa_key.as_deref())
    }
}

pub fn run(cmd: SignCmd) -> Result<ExitCode, SignError> {
    if let Some(step) = cmd.step {
        return crate::remote_cmd::run(step);
    }
    let a = cmd.args;
    let uri = Pkcs11Uri::parse(a.key.as_deref().unwrap_or_default())?;
    let alg = match &a.alg {
        Some(s) => Some(SignatureAlgorithm::parse(s).ok_or_else(|| {
            HsmError::Usage(format!(
                "unknown --alg {s:?} (try rsa-pkcs1-sha256, rsa-pss-sha256, ecdsa-sha256)"
            ))
        })?),
        None => None,
    };
    // What the flags say, checked before the token is asked for its PIN: usage errors (exit
    // 3, docs/cli.md). Flags that do not go together were exit 5 after the login (a new
    // user's walk-through, 2026-12-04), or silently ignored: PAdES's options with CAdES, a
    // TSA key without a time-stamp (helper 127's reading of docs/cli.md, 2026-12-05).
    if let Some(why) = unfit(&a) {
        return Ok(crate::archive_cmd::usage(why));
    }
    if let Some(why) = unreadable(&a.files, a.tsa_key.as_deref(), a.summary.as_deref()) {
        return Ok(crate::archive_cmd::usage(why));
    }
    // Validation flags below B-LT do no harm (scripts pass the same ones at every level), but
    // are said, so that nobody believes kyso checked the signer against them.
    // (--trust is read at every level: the "signing as" line says whether the certificate
    // chains to one of its roots.)
    let mut ignored = a.trust.validation_flags();
    ignored.retain(|f| *f != "--trust");
    if a.level.long_term().is_none() && !ignored.is_empty() {
        eprintln!(
            "kyso: warning: {} ignored: nothing is validated below --level B-LT",
            ignored.join(", ")
        );
    }
    let files = expand(&a.files, a.format);
    if files.is_empty() {
        return Ok(crate::archive_cmd::usage(format!(
            "no files to sign{}",
            match a.format {
                Format::Pades => " (a directory gives its *.pdf)",
                Format::Cades => "",
            }
        )));
    }
    if let Some(why) = a
        .summary
        .as_deref()
        .and_then(|s| summary_unfit(s, &files, &a))
    {
        return Ok(crate::archive_cmd::usage(why));
    }
    // The trust and the stamp font, read before the login too.
    let mut v = match a.trust.validator() {
        Ok(v) => v,
        Err(e) => return Ok(crate::archive_cmd::usage(e)),
    };
    // What --certs gives goes into the signature: a certificate kyso would write back
    // otherwise than it was given (not DER) was embedded re-encoded, its signature broken, and
    // the signature made with it failed everywhere, "1 signed" said (helper 180).
    if let Some((c, e)) = v.certs.iter().find_map(|c| {
        kyso_hsm::key::der_certificate(c.der())
            .err()
            .map(|e| (c.subject_string(), e))
    }) {
        return Ok(crate::archive_cmd::usage(format!("--certs: {c}: {e}")));
    }
    let stamp_font = match (&a.stamp_font, a.stamp.is_some() || a.copy_stamp) {
        (_, false) => None,
        (p, true) => {
            let p = p
                .as_deref()
                .unwrap_or(std::path::Path::new(kyso_signer::stamp::DEFAULT_FONT));
            match kyso_signer::stamp::StampFont::load(p) {
                Ok(f) => Some(std::sync::Arc::new(f)),
                Err(e) => return Ok(crate::archive_cmd::usage(e.to_string())),
            }
        }
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .clamp(1, 64)
        .min(files.len());
    if let Some(d) = &a.out_dir {
        std::fs::create_dir_all(d).map_err(|e| HsmError::Io {
            what: format!("create {}", d.display()),
            source: e,
        })?;
    }
    // One login for the whole batch; `jobs` sessions keep the token busy.
    let mut key = kyso_hsm::open_key(a.module.as_deref(), &uri, a.pin_file.clone(), jobs)?;
    if let Some(alg) = alg {
        key.set_algorithm(alg)?;
    }
    // A certificate that may not sign documents now signs nothing: every verifier would
    // refuse what it signed.
    if let Some(reason) = kyso_signer::unfit_to_sign(key.certificate(), SystemTime::now()) {
        return Err(HsmError::UnfitCertificate {
            key: key.key().label().to_string(),
            subject: key.certificate().tbs_certificate.subject.to_string(),
            reason,
        }
        .into());
    }
    // Who signs, said before anything is signed: the certificate is whatever the token gives
    // for the key, and anyone who could write to the token could have put it there (an
    // official notices a name or an issuer they never had; helper 176's reading, 2026-12-05).
    let leaf = kyso_verify::x509::Cert::from_parsed(key.certificate())
        .ok()
        .map(std::sync::Arc::new);
    let signer = leaf.as_deref().map(kyso_verify::cms::summary);
    let tsa = match (a.level, a.tsa.as_deref()) {
        (Level::BB, _) => None,
        (_, t) => Some(timestamp_source(
            t,
            a.tsa_key.as_deref(),
            &uri,
            a.module.as_deref(),
            a.pin_file.clone(),
            jobs,
        )?),
    };
    // The signature carries the signer's whole chain: what the token holds, completed from
    // --certs (tokens often hold the signer's certificate alone).
    let signing = WithChain::new(&key, &v.certs);
    // Names anyone who can write a certificate can copy: the fingerprint too, and whether an
    // issuer at hand signed it (a forged copy of the line's every name was byte-identical;
    // helper 185).
    if let Some(c) = &signer {
        let shown = |t: &str| {
            kyso_verify::report::shown(t, kyso_verify::report::MAX_SHOWN_VALUE).into_owned()
        };
        let self_signed =
            key.certificate().tbs_certificate.issuer == key.certificate().tbs_certificate.subject;
        // Whoever writes a certificate to the token can write its issuer there too (a
        // look-alike root that signed a copy, helper 186; an end-entity certificate as its
        // "issuer", helper 188): only a path to a --trust root vouches, built and checked as
        // `kyso verify` does a signer's (path::build, path::check), now.
        let judged = leaf.as_ref().and_then(|leaf| {
            let _budget = kyso_verify::path::Budget::enter();
            let mut pool: Vec<kyso_verify::CertRef> = key
                .chain()
                .iter()
                .filter_map(|c| kyso_verify::x509::Cert::from_parsed(c).ok())
                .map(std::sync::Arc::new)
                .collect();
            pool.extend(v.certs.iter().cloned());
            let path = kyso_verify::path::build(leaf, &pool, &v.anchors).ok()?;
            Some(kyso_verify::path::check(
                &path,
                SystemTime::now(),
                kyso_verify::path::Purpose::Signer,
            ))
        });
        let issuer = match (judged, signing.chain().is_empty(), self_signed) {
            (Some(problems), ..) => match problems.first() {
                None => " — chains to a --trust root".to_string(),
                Some(p) => format!(" — its path to a --trust root fails: {}", shown(&p.to_string())),
            },
            (None, _, true) => " — self-signed, NOT a --trust root".to_string(),
            (None, false, false) => {
                " — its issuers are on the token or in --certs, NOT checked against a --trust root"
                    .to_string()
            }
            (None, true, false) => {
                " — no certificate of that issuer on the token or in --certs signed it: the issuer is NOT checked".to_string()
            }
        };
        eprintln!(
            "kyso: signing as {} (certificate {}, SHA-256 {}, issued by {}{issuer}, valid until {})",
            shown(&c.subject),
            c.serial,
            c.sha256,
            shown(&c.issuer),
            c.not_after
        );
    }
    let long_term = match a.level.long_term() {
        None => None,
        Some(l) => {
            if v.anchors.is_empty() {
                v.anchors = token_roots(&[&signing as &dyn SigningKey], tsa.as_ref());
            }
            Some((l, v))
        }
    };
    let opts = PadesOptions {
        reason: a.reason.clone(),
        location: a.location.clone(),
        contact: a.contact.clone(),
        certify: a.certify,
        stamp: a.stamp,
        copy_stamp: a.copy_stamp,
        over_broken: a.sign_over_broken,
        stamp_font,
        ..PadesOptions::vietnam()
    };
    let bar = (std::io::stderr().is_terminal() && files.len() > 1).then(|| {
        let b = indicatif::ProgressBar::new(files.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::with_capacity(files.len()));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let o = sign_one(&signing, &a, &opts, tsa.as_ref(), long_term.as_ref(), f);
                // File names and messages (which quote the document) as a terminal may show
                // them: a name holding a carriage return and escapes printed a false "signed"
                // line over its own error (found by an attacker's reading, 2026-12-03).
                let shown = |t: String| {
                    kyso_verify::report::shown(&t, kyso_verify::report::MAX_SHOWN_MESSAGE)
                        .into_owned()
                };
                match &bar {
                    Some(b) => {
                        b.inc(1);
                        if let Some(e) = &o.error {
                            b.println(format!("kyso: {}", shown(e.to_string())));
                        }
                    }
                    None => match (&o.output, &o.error) {
                        (Some(out), _) => eprintln!(
                            "{}",
                            shown(format!("signed {} -> {}", f.display(), out.display()))
                        ),
                        (_, Some(e)) => eprintln!("kyso: {}", shown(e.to_string())),
                        _ => {}
                    },
                }
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((i, o));
            });
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let outcomes: Vec<Outcome> = results.into_iter().map(|(_, o)| o).collect();
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    let summary = serde_json::json!({
        "signed": outcomes.len() - failed,
        "failed": failed,
        "key": key.key().uri().to_string(),
        "algorithm": key.algorithm().name(),
        "certificate": signer,
        "format": format!(
            "{}-{}",
            match a.format { Format::Pades => "PAdES", Format::Cades => "CAdES" },
            a.level.name()
        ),
        "files": outcomes,
    });
    let text = serde_json::to_string_pretty(&summary).expect("serializable");
    if let Some(p) = &a.summary {
        write_atomic(p, text.as_bytes(), a.overwrite).map_err(|e| HsmError::Io {
            what: format!("write {}", p.display()),
            source: e,
        })?;
    }
    if a.json {
        outln!("{text}");
    }
    eprintln!("{} signed, {} failed", outcomes.len() - failed, failed);
    Ok(match (failed, outcomes.len()) {
        (0, _) => ExitCode::SUCCESS,
        (_, 1) => ExitCode::from(u8::try_from(outcomes[0].exit_code).unwrap_or(1)),
        _ => ExitCode::from(EXIT_PARTIAL),
    })
}
