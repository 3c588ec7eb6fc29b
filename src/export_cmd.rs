//! `kyso export` and `kyso bag verify|renew`: long-term export, its offline check, and the
//! renewal of its evidence. Wiring only: the rules live in kyso-archive (`export`, `bag`,
//! `bag_verify`, `renew`).

use crate::archive_cmd::{fail, log_key_certified, print, signer, unjudged_signer, usage, KeyArgs};
use crate::verify_cmd::{certs_from, LangArg};
use clap::{Args, Subcommand, ValueEnum};
use kyso_archive::bag::{self, ExportOptions, Format, Serialization};
use kyso_archive::bag_verify::{self, VerifyOptions};
use kyso_archive::export::Selection;
use kyso_archive::{Access, Archive};
use kyso_hsm::Pkcs11Uri;
use kyso_signer::tsp::TimestampSource;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// BagIt 1.0 (RFC 8493): a folder, or one tar file when --out ends in .tar.
    Bagit,
    /// E-ARK CSIP 2.x information package (METS, PREMIS v3), zipped.
    Eark,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SerializeArg {
    /// A directory: a file per payload file.
    Dir,
    /// One tar file (RFC 8493 §4 serialization).
    Tar,
}

/// The time-stamping authority for the package's evidence.
#[derive(Args, Clone)]
pub struct TsaArgs {
    /// `internal` (kyso's TSA with --tsa-key) or the URL of an RFC 3161 TSA.
    #[arg(long, value_name = "internal|URL", default_value = "internal")]
    tsa: String,
    /// The internal TSA's key (`kyso export`: object=tsa on the checkpoint key's token unless
    /// given; `kyso bag renew`, which has no checkpoint key, needs it).
    #[arg(long, value_name = "URI")]
    tsa_key: Option<String>,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The archive's RocksDB directory.
    #[arg(long, value_name = "DIR")]
    db: PathBuf,
    /// The package to write (a new path; `PATH.partial` and `PATH.journal` while it is written).
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "bagit")]
    format: FormatArg,
    /// A BagIt bag as a directory, or streamed into one tar file (the default when PATH ends
    /// in `.tar`).
    #[arg(long, value_enum)]
    serialize: Option<SerializeArg>,
    /// Every version of a document code.
    #[arg(long, conflicts_with_all = ["subject", "agency", "all"])]
    code: Option<String>,
    /// Every record of a subject (personal id or tax code).
    #[arg(long, conflicts_with_all = ["agency", "all"])]
    subject: Option<String>,
    /// Records of an agency (its name exactly as archived), issued between --from and --to; a
    /// record with no issue date by the day it was archived (+07:00).
    #[arg(long, conflicts_with = "all")]
    agency: Option<String>,
    /// With --agency: the first issue date (YYYY-MM-DD; default: the earliest).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// With --agency: the last issue date (YYYY-MM-DD; default: the latest).
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Every record of the archive.
    #[arg(long)]
    all: bool,
    /// Who exports (logged).
    #[arg(long, value_name = "USER")]
    user: String,
    /// Why (logged), e.g. "nộp lưu vào Lưu trữ lịch sử tỉnh".
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// The organization handing the package over (bag-info.txt Source-Organization).
    #[arg(long, value_name = "NAME", default_value = "kyso archive")]
    organization: String,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    tsa: TsaArgs,
    /// Threads preparing records ahead of the writer (1–16; default two per core, 2 to 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    workers: Option<u16>,
    /// Pause this long after each record (tests interrupt an export mid-way).
    #[arg(long, hide = true, value_name = "MS")]
    pace_ms: Option<u64>,
    /// Commit the journal every N records (tests; default 2000).
    #[arg(long, hide = true, value_name = "N", default_value_t = 0)]
    commit_every: u64,
}

#[derive(Subcommand)]
pub enum BagCommand {
    /// Check an exported package with no database and no network: manifests and fixity,
    /// every signature, every inclusion proof, the checkpoint's signature and time-stamps.
    /// Exit: 0 everything holds, 1 something does not (a tar or zip refused as it stands
    /// too), 3 usage or I/O (a folder with none of a package's files).
    Verify(BagVerifyArgs),
    /// Add a time-stamp over the package's evidence (before the last one's TSA certificate
    /// expires or its hash algorithm weakens).
    Renew(BagRenewArgs),
}

#[derive(Args)]
pub struct TrustFlags {
    /// Trust anchors for the signatures (default: the self-signed certificates of each
    /// record's validation data, which the log vouches for).
    #[arg(long, value_name = "PEM|DIR")]
    trust: Vec<PathBuf>,
    /// Trust anchors for the time-stamps over the checkpoint (default: --trust, else the
    /// self-signed certificates the tokens carry).
    #[arg(long, value_name = "PEM|DIR")]
    tsa_trust: Vec<PathBuf>,
}

#[derive(Args)]
pub struct BagVerifyArgs {
    /// The package: a BagIt directory or tar, or an E-ARK zip (or its unpacked folder).
    path: PathBuf,
    /// The log key's certificate or public key (PEM or DER), from outside the package.
    #[arg(long = "log-key", value_name = "PEM", required = true)]
    log_keys: Vec<String>,
    /// The log the package must come from (its checkpoint's origin, e.g.
    /// `archive.example.gov.vn/records`): a key that signs two logs vouches for either.
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<String>,
    #[command(flatten)]
    trust: TrustFlags,
    /// Print the JSON report.
    #[arg(long)]
    json: bool,
    #[arg(long, value_enum, default_value = "vi")]
    lang: LangArg,
}

#[derive(Args)]
pub struct BagRenewArgs {
    /// The package: a BagIt directory or tar, or an E-ARK zip.
    path: PathBuf,
    #[command(flatten)]
    trust: TrustFlags,
    #[command(flatten)]
    tsa: TsaArgs,
    /// PKCS#11 module of the internal TSA's token (default: $KYSO_PKCS11_MODULE, else SoftHSM2).
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    /// File holding the PIN of the internal TSA's token.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
}

fn selection(a: &ExportArgs) -> Result<Selection, ExitCode> {
    // Dates with --all were ignored, every record exported and the export logged (helper 164).
    if a.agency.is_none() && (a.from.is_some() || a.to.is_some()) {
        return Err(usage(
            "--from and --to choose an agency's records by date: give --agency NAME with them (every record of a time span: one export per agency, `kyso stats --by agency` lists them)".into(),
        ));
    }
    Ok(if let Some(c) = &a.code {
        Selection::Code { code: c.clone() }
    } else if let Some(s) = &a.subject {
        Selection::Subject { subject: s.clone() }
    } else if let Some(ag) = &a.agency {
        Selection::Agency {
            agency: ag.clone(),
            from: a.from.clone().unwrap_or_else(|| "0001-01-01".into()),
            to: a.to.clone().unwrap_or_else(|| "9999-12-31".into()),
        }
    } else if a.all {
        Selection::All
    } else {
        return Err(usage(
            "say which records: --code, --subject, --agency (with --from/--to) or --all".into(),
        ));
    })
}

/// The TSA the flags name; `token` is the token an internal TSA's key is looked for on.
fn tsa_source(
    t: &TsaArgs,
    token: Option<&str>,
    module: Option<&Path>,
    pin_file: Option<PathBuf>,
) -> Result<TimestampSource, ExitCode> {
    let parse = |u: &str| Pkcs11Uri::parse(u).map_err(|e| usage(e.to_string()));
    let base = match (token, t.tsa_key.as_deref()) {
        (Some(u), _) | (None, Some(u)) => parse(u)?,
        (None, None) if t.tsa == "internal" => {
            return Err(usage(
                "the internal TSA needs --tsa-key URI (or give --tsa URL)".into(),
            ))
        }
        (None, None) => parse("pkcs11:")?,
    };
    crate::sign_cmd::timestamp_source(
        Some(&t.tsa),
        t.tsa_key.as_deref(),
        &base,
        module,
        pin_file,
        1,
    )
    .map_err(|e| {
        eprintln!("kyso: {e}");
        ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
    })
}

fn stamp_with(src: &TimestampSource, sha256: &[u8; 32]) -> Result<Vec<u8>, String> {
    src.stamp(kyso_hsm::HashAlg::Sha256, sha256)
        .map_err(|e| e.to_string())
}

/// What an export stopped by Ctrl-C or SIGTERM says: it died with no word, its progress bar
/// left at `0/41 records` (helper 164). Stopping is as safe as a SIGKILL (the journal keeps
/// the place), so the handler only says so and exits.
static INTERRUPTED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

extern "C" fn on_interrupt(sig: libc::c_int) {
    // Only what may run in a signal handler: a write(2) of bytes made before, and _exit.
    if let Some(m) = INTERRUPTED.get() {
        // SAFETY: a valid buffer of its length; write(2) is async-signal-safe.
        unsafe { libc::write(2, m.as_ptr().cast(), m.len()) };
    }
    // SAFETY: _exit is async-signal-safe and runs no destructors of other threads. 128 + the
    // signal, as a shell reports one (130 for SIGINT, 143 for SIGTERM).
    unsafe { libc::_exit(128 + sig) };
}

/// The signals [`say_when_interrupted`] handles.
const STOPS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

/// Once the export has returned, a signal is no interruption of it: the default again (a
/// Ctrl-C after the package was complete said "run the same command again to finish", and
/// the rerun found the package there; helper 165).
fn interruptions_default() {
    for sig in STOPS {
        // SAFETY: restoring a signal's default disposition.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}

fn say_when_interrupted(out: &Path) {
    let m = format!(
        "\nkyso: interrupted: run the same command again to finish {} ({}.journal keeps its place)\n",
        out.display(),
        out.display()
    );
    if INTERRUPTED.set(m.into_bytes()).is_ok() {
        for sig in STOPS {
            // SAFETY: a zeroed sigaction with a handler that only writes and exits.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    }
}

pub fn run_export(a: ExportArgs) -> ExitCode {
    let go = || -> Result<(), ExitCode> {
        let sel = selection(&a)?;
        let resuming = {
            let mut s = a.out.as_os_str().to_owned();
            s.push(".journal");
            PathBuf::from(s).exists()
        };
        // A name that says another format: `--out x.zip` without `--format eark` wrote a BagIt
        // folder named x.zip (helper 164).
        let ext = a
            .out
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        // (A rerun is held to its journal's arguments instead.)
        match (&a.format, ext.to_ascii_lowercase().as_str()) {
            (FormatArg::Bagit, "zip") if !resuming => {
                return Err(usage(
                    "a BagIt bag is a folder or a .tar; an E-ARK package is a .zip: give --format eark, or another --out".into(),
                ))
            }
            (FormatArg::Eark, "tar") if !resuming => {
                return Err(usage(
                    "an E-ARK package is a .zip; a BagIt bag a folder or a .tar: give --format bagit, or another --out".into(),
                ))
            }
            _ => {}
        }
        if !resuming && a.key.key_uri().is_none() {
            // Said first, as a usage error naming the flags: without it the TSA's key was
            // asked for first, then the archive refused with exit 5 (a new user's
            // walk-through, 2026-12-04). A rerun is the archive's to judge (its arguments
            // against the journal's).
            return Err(usage(
                "an export signs a checkpoint over its own log events: give --checkpoint-key URI and --checkpoint-state FILE".into(),
            ));
        }
        let ar = Archive::open_existing_for_export(&a.db).map_err(fail)?;
        // A rerun's journal is held to the archive first (another --db is named as such); the
        // export judges the checkpoint key as it signs.
        let cp = if resuming {
            unjudged_signer(&a.key, Some(&ar))?
        } else {
            signer(&a.key, &a.db, Some(&ar))?
        };
        let tsa = if resuming {
            None
        } else {
            Some(tsa_source(
                &a.tsa,
                a.key.key_uri(),
                a.key.module(),
                a.key.pin_file(),
            )?)
        };
        let stamper = |b: &[u8; 32]| stamp_with(tsa.as_ref().expect("a TSA for a new export"), b);
        let opts = ExportOptions {
            out: a.out.clone(),
            format: match a.format {
                FormatArg::Bagit => Format::Bagit,
                FormatArg::Eark => Format::Eark,
            },
            selection: sel,
            access: Access::new(a.user.clone(), a.reason.clone()),
            organization: a.organization.clone(),
            signer: cp.as_ref(),
            stamper: tsa.as_ref().map(|_| &stamper as bag::Stamper),
            pace: a.pace_ms.map(std::time::Duration::from_millis),
            commit_every: a.commit_every,
            serialization: match a.serialize {
                Some(SerializeArg::Tar) => Serialization::Tar,
                Some(SerializeArg::Dir) => Serialization::Directory,
                None if matches!(a.format, FormatArg::Bagit)
                    && a.out.extension().is_some_and(|e| e == "tar") =>
                {
                    Serialization::Tar
                }
                None => Serialization::Directory,
            },
            workers: a.workers.map_or(0, usize::from),
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} records {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        let mut progress = |done: u64, total: u64| {
            if let Some(b) = &bar {
                b.set_length(total);
                b.set_position(done);
            }
        };
        say_when_interrupted(&a.out);
        let r = bag::export(&ar, &opts, &mut progress);
        interruptions_default();
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        print(&r.map_err(fail)?);
        Ok(())
    };
    go().map_or_else(|c| c, |()| ExitCode::SUCCESS)
}

fn verify_options(t: &TrustFlags, log_keys: &[String]) -> Result<VerifyOptions, ExitCode> {
    let mut o = VerifyOptions::default();
    for k in log_keys {
        let (key, validity) = log_key_certified(k, None)?;
        if let Some((from, to)) = validity {
            o.log_key_validity.push((key.clone(), from, to));
        }
        o.log_keys.push(key);
    }
    for p in &t.trust {
        o.trust.extend(certs_from(p).map_err(usage)?);
    }
    for p in &t.tsa_trust {
        o.tsa_trust.extend(certs_from(p).map_err(usage)?);
    }
    Ok(o)
}

pub fn run_bag(cmd: BagCommand) -> ExitCode {
    match cmd {
        BagCommand::Verify(a) => {
            let o = match verify_options(&a.trust, &a.log_keys) {
                Ok(o) => VerifyOptions {
                    origin: a.origin.clone(),
                    ..o
                },
                Err(c) => return c,
            };
            // A folder with none of a package's files is not one: it was judged as a bag, a
            // dozen "No such file" lines and "0 passed, 0 failed" (helper 164).
            let marks = [
                "bagit.txt",
                "bag-info.txt",
                "manifest-sha256.txt",
                "manifest-sha512.txt",
                "tagmanifest-sha256.txt",
                "data",
                "METS.xml",
            ];
            if a.path.is_dir()
                && !marks
                    .iter()
                    .any(|m| std::fs::symlink_metadata(a.path.join(m)).is_ok())
            {
                return usage(format!(
                    "{} is not a package: it holds no bagit.txt, bag-info.txt, manifest or data folder (BagIt) nor METS.xml (E-ARK)",
                    a.path.display()
                ));
            }
            let r = if a.path.is_dir()
                && a.path.join("METS.xml").is_file()
                && !a.path.join("bagit.txt").exists()
            {
                // An E-ARK package unpacked (its folder).
                let pk = kyso_archive::package::Package::Dir(a.path.clone());
                bag_verify::verify_eark(&pk, &o)
            } else if a.path.is_dir() {
                bag_verify::verify_bag(&a.path, &o)
            } else if a.path.is_file() {
                // A file that cannot be read is the caller's (3); one read and refused as a
                // tar or zip fails verification (1, with a report: it was exit 3 with a line
                // on stderr, which a script that rejects on 1 let through; helper 128).
                if let Err(e) = std::fs::File::open(&a.path) {
                    return usage(format!("{}: {e}", a.path.display()));
                }
                if kyso_archive::package::is_tar(&a.path) {
                    bag_verify::verify_tar(&a.path, &o)
                        .unwrap_or_else(|e| bag_verify::refused(&a.path, "bagit", &e))
                } else {
                    bag_verify::verify_eark_zip(&a.path, &o)
                        .unwrap_or_else(|e| bag_verify::refused(&a.path, "eark", &e))
                }
            } else {
                return usage(format!("{}: no such package", a.path.display()));
            };
            if a.json {
                print(&r);
            } else {
                out!("{}", bag_verify::text(&r, matches!(a.lang, LangArg::Vi)));
            }
            if r.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        BagCommand::Renew(a) => {
            let go = || -> Result<(), ExitCode> {
                let o = verify_options(&a.trust, &[])?;
                let tsa = tsa_source(&a.tsa, None, a.module.as_deref(), a.pin_file.clone())?;
                // A TSA that fails is exit 6, as for `kyso sign` (it was 5, a bad input).
                let tsa_failed = std::cell::Cell::new(false);
                let stamp = |b: &[u8; 32]| {
                    let r = stamp_with(&tsa, b);
                    tsa_failed.set(r.is_err());
                    r
                };
                let added = kyso_archive::renew::renew(&a.path, &o, &stamp).map_err(|e| {
                    if tsa_failed.get() {
                        eprintln!("kyso: {e}");
                        ExitCode::from(6)
                    } else {
                        fail(e)
                    }
                })?;
                for n in &added.notes {
                    eprintln!("kyso: warning: {n}");
                }
                print(&serde_json::json!({ "path": a.path, "added": added.path }));
                Ok(())
            };
            go().map_or_else(|c| c, |()| ExitCode::SUCCESS)
        }
    }
}
