//! `kyso archive …`, `kyso log …`, `kyso audit verify`, `kyso backup`, `kyso restore`: the
//! e-archive. Wiring only: every rule (what is ingested, status changes, logged reads,
//! checkpoints, the audit) lives in kyso-archive.

use clap::{Args, Subcommand};
use kyso_archive::audit::{self, AuditOptions, Resume};
use kyso_archive::{
    checkpoint, merkle, Access, Activity, Archive, ArchiveError, CheckpointSigner, Config, Ingest,
    Metadata, Query, Status,
};
use kyso_hsm::Pkcs11Uri;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args, Clone)]
pub struct DbArg {
    /// The archive's RocksDB directory.
    #[arg(long, value_name = "DIR")]
    db: PathBuf,
}

/// The acting user: always given (the archive never makes one up).
#[derive(Args, Clone)]
pub struct UserArg {
    /// Who acts (logged with the event).
    #[arg(long, value_name = "USER")]
    user: String,
}

/// Who reads personal data, and why: both logged before anything is shown.
#[derive(Args, Clone)]
pub struct ReaderArgs {
    /// Who reads (logged).
    #[arg(long, value_name = "USER")]
    user: String,
    /// Why (logged), e.g. "công dân xin bản sao".
    #[arg(long, alias = "reason", value_name = "TEXT")]
    purpose: String,
}

impl ReaderArgs {
    fn access(&self) -> Access {
        Access::new(self.user.clone(), self.purpose.clone())
    }
}

#[derive(Args, Clone)]
pub struct KeyArgs {
    /// PKCS#11 URI of the ECDSA P-256 checkpoint key.
    #[arg(long = "checkpoint-key", value_name = "URI", requires = "state")]
    key: Option<String>,
    /// The last signed checkpoint, kept outside the database (a restored backup cannot roll
    /// the log back past it). Created on first use.
    #[arg(long = "checkpoint-state", value_name = "FILE", id = "state")]
    state: Option<PathBuf>,
    /// Name of the checkpoint key in signed notes (default: the one in --checkpoint-state;
    /// for the archive's first checkpoint, --origin).
    #[arg(long, value_name = "NAME")]
    key_name: Option<String>,
    /// The log's origin line in checkpoints, its name for good once the first is signed, e.g.
    /// `archive.example.gov.vn/records` (default: the one in --checkpoint-state; required
    /// before the first checkpoint).
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<String>,
    /// PKCS#11 module of the checkpoint key's token (default: $KYSO_PKCS11_MODULE, else SoftHSM2).
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    /// File holding the PIN of the checkpoint key's token.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
}

impl KeyArgs {
    pub(crate) fn key_uri(&self) -> Option<&str> {
        self.key.as_deref()
    }
    pub(crate) fn module(&self) -> Option<&Path> {
        self.module.as_deref()
    }
    pub(crate) fn pin_file(&self) -> Option<PathBuf> {
        self.pin_file.clone()
    }
}

#[derive(Args, Clone)]
pub struct LimitArgs {
    /// Largest document (with its detached signature) the archive takes: bytes, or with K, M
    /// or G (binary).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64M")]
    max_document_size: u64,
}

impl LimitArgs {
    fn config(&self) -> Config {
        Config {
            max_document_bytes: self.max_document_size,
            ..Config::default()
        }
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let (n, mult) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    n.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a size (bytes, or a number with K, M or G)"))
}

#[derive(Subcommand)]
pub enum ArchiveCommand {
    /// Store a signed document under its code (after verifying its signatures).
    Put(Box<PutArgs>),
    /// A record: its metadata, or (--out) its content — a logged read either way.
    Get {
        #[command(flatten)]
        db: DbArg,
        id: u64,
        #[command(flatten)]
        reader: ReaderArgs,
        /// Write the document's bytes here.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Write its detached signature here (records that have one).
        #[arg(long, value_name = "FILE", requires = "out")]
        signature_out: Option<PathBuf>,
        /// Replace the files of --out and --signature-out if they exist.
        #[arg(long, requires = "out")]
        overwrite: bool,
        /// Write the validation data kept at ingest into this directory (created):
        /// `certificate-<SHA-256>.der`, `crl-<SHA-256>.der`, `ocsp-<SHA-256>.der` (a read of
        /// its own: not with --out).
        #[arg(long, value_name = "DIR", conflicts_with = "out")]
        validation_data_out: Option<PathBuf>,
    },
    /// Find records by document code, subject, or agency and dates — a logged read.
    Find {
        #[command(flatten)]
        db: DbArg,
        /// Records under this document code (<personal id or tax code>.<document type code>).
        #[arg(long, conflicts_with_all = ["subject", "agency"])]
        code: Option<String>,
        /// Records of this citizen or organization (personal id or tax code), every type.
        #[arg(long, conflicts_with = "agency")]
        subject: Option<String>,
        /// Records of this agency issued between --from and --to (the records' issue dates,
        /// YYYY-MM-DD, both included).
        #[arg(long)]
        agency: Option<String>,
        #[arg(long, default_value = "0001-01-01")]
        from: String,
        #[arg(long, default_value = "9999-12-31")]
        to: String,
        #[command(flatten)]
        reader: ReaderArgs,
    },
    /// Ingest synthetic records, printing `ack ID SHA256` as each becomes durable (crash tests).
    #[command(hide = true)]
    Stress {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Bytes per synthetic document.
        #[arg(long, default_value_t = 2048)]
        size: usize,
        /// Sign a checkpoint every N puts (with --checkpoint-key).
        #[arg(long, default_value_t = 25)]
        checkpoint_every: u64,
        /// Instead, publish checkpoints in the background every MS milliseconds.
        #[arg(long, value_name = "MS")]
        checkpoint_interval_ms: Option<u64>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Change a record's validity (a new event; the record never changes).
    Status {
        #[command(flatten)]
        db: DbArg,
        id: u64,
        /// Superseded by record ID (of the same document code), issued in its place.
        #[arg(long, value_name = "ID", conflicts_with_all = ["revoke", "expired"])]
        superseded_by: Option<u64>,
        /// Revoked, for this reason.
        #[arg(long, value_name = "REASON", conflicts_with = "expired")]
        revoke: Option<String>,
        /// Expired on this date.
        #[arg(long, value_name = "YYYY-MM-DD")]
        expired: Option<String>,
        #[command(flatten)]
        user: UserArg,
        /// Sign a checkpoint over the change (as `archive put` does): until one covers it, a
        /// revocation could be taken out of the log unseen.
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Args)]
pub struct PutArgs {
    #[command(flatten)]
    db: DbArg,
    /// Document code: <personal id or tax code>.<document type code>
    #[arg(long)]
    code: String,
    #[command(flatten)]
    user: UserArg,
    /// The client's id for this request: a retry with the same id returns the record it made.
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// For verifying the document's signatures.
    #[command(flatten)]
    trust: crate::verify_cmd::TrustArgs,
    /// A detached CMS signature over FILE (kept beside it).
    #[arg(long, value_name = "SIG")]
    detached: Option<PathBuf>,
    /// Store even if unsigned or not TOTAL-PASSED, with this reason (kept in the record).
    #[arg(long, value_name = "REASON")]
    allow_unsigned: Option<String>,
    /// The document's title (the circular's trích yếu nội dung).
    #[arg(long)]
    title: Option<String>,
    /// The issuing agency (a service clerk's is its configured agency).
    #[arg(long)]
    agency: Option<String>,
    /// The administrative procedure the result concludes.
    #[arg(long)]
    procedure: Option<String>,
    /// The dossier (hồ sơ) the document belongs to.
    #[arg(long)]
    dossier: Option<String>,
    /// YYYY-MM-DD
    #[arg(long)]
    issue_date: Option<String>,
    /// Extra metadata, key=value (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    meta: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    key: KeyArgs,
    /// The signed document (PDF, attached CMS, or the content of --detached).
    file: PathBuf,
}

#[derive(Subcommand)]
pub enum LogCommand {
    /// Sign a checkpoint of the log with the checkpoint key on the token.
    Checkpoint {
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Inclusion proof of a record's ingest event (or --leaf N) in the current tree. The
    /// event itself (it names a citizen's document code) is shown only to a reader who says who
    /// and why (--user, --purpose): a logged read of that log entry.
    Prove {
        #[command(flatten)]
        db: DbArg,
        /// Record id.
        id: Option<u64>,
        /// A log entry's index, instead of a record id.
        #[arg(long, conflicts_with = "id")]
        leaf: Option<u64>,
        /// Tree size to prove against (default: the current size).
        #[arg(long)]
        size: Option<u64>,
        /// Show the event too, read by this user (logged).
        #[arg(long, value_name = "USER", requires = "purpose")]
        user: Option<String>,
        /// Why the event is read (logged).
        #[arg(long, alias = "reason", value_name = "TEXT", requires = "user")]
        purpose: Option<String>,
    },
    /// Check that two signed checkpoints are consistent (the newer extends the older).
    Consistency {
        #[command(flatten)]
        db: DbArg,
        old: PathBuf,
        new: PathBuf,
        /// The log key's public key or certificate (PEM or DER), from outside the archive.
        #[arg(long, value_name = "PEM")]
        pubkey: PathBuf,
        /// The name the key signs under (default: any, the signature found by the key's ID).
        #[arg(long, value_name = "NAME")]
        key_name: Option<String>,
    },
}

/// `kyso audit verify`.
#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    db: DbArg,
    /// A log key: its public key or certificate (PEM or DER file), or the PKCS#11 URI of its
    /// certificate on a token (read without logging in). Repeat it for keys used before a
    /// rotation. Never taken from the archive itself.
    #[arg(long = "log-key", value_name = "PEM|URI", required = true)]
    log_keys: Vec<String>,
    /// Resume from an earlier audit: the file its --save wrote (a checkpoint it verified and
    /// what it derived up to it). Only newer entries are read.
    #[arg(long, value_name = "FILE")]
    since: Option<PathBuf>,
    /// Write where the next audit can resume (after a clean audit).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// A checkpoint kept outside the archive: the checkpoint state file (`--checkpoint-state`
    /// of `kyso log checkpoint` and `kyso export`, `archive.checkpoint_state` of the
    /// service) or a note a relying agency saved. The log must extend it: a database
    /// replaced by an older copy, or rewritten past its checkpoints, brings its own stored
    /// checkpoints, which are the database's word. Repeat it for several.
    #[arg(long = "checkpoint", value_name = "FILE")]
    checkpoints: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
}

pub(crate) fn fail(e: ArchiveError) -> ExitCode {
    eprintln!("kyso: {e}");
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
}

pub(crate) fn usage(msg: String) -> ExitCode {
    eprintln!("kyso: {msg}");
    ExitCode::from(crate::EXIT_USAGE)
}

fn hsm_fail(e: kyso_hsm::HsmError) -> ExitCode {
    eprintln!("kyso: {e}");
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
}

pub(crate) fn print(v: &impl serde::Serialize) {
    outln!("{}", serde_json::to_string_pretty(v).expect("serializable"));
}

/// Read a file of at most `max` bytes.
pub(crate) fn read_bounded(p: &Path, max: u64) -> Result<Vec<u8>, ExitCode> {
    read_limited(p, max, |size| {
        // Exit 23, as for a document; said of the file it is (a totals file over its 1 MiB
        // was told about "the document" and max_document_bytes; helper 167).
        eprintln!(
            "kyso: {} is {size} bytes; at most {max} are read here",
            p.display()
        );
        ExitCode::from(23)
    })
}

/// A document to archive, at most `max` bytes (exit 23 with the archive's limit named).
pub(crate) fn read_document(p: &Path, max: u64) -> Result<Vec<u8>, ExitCode> {
    read_limited(p, max, |size| {
        fail(ArchiveError::TooLarge { size, limit: max })
    })
}

/// The bytes of `p`, reading no further than `max` + 1 bytes; past `max`, `too_large` of the
/// size found.
fn read_limited(
    p: &Path,
    max: u64,
    too_large: impl FnOnce(u64) -> ExitCode,
) -> Result<Vec<u8>, ExitCode> {
    use std::io::Read;
    let unread = |e: std::io::Error| usage(format!("read {}: {e}", p.display()));
    let f = std::fs::File::open(p).map_err(unread)?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max {
        return Err(too_large(size));
    }
    let mut v = Vec::new();
    f.take(max + 1).read_to_end(&mut v).map_err(unread)?;
    if v.len() as u64 > max {
        return Err(too_large(v.len() as u64));
    }
    Ok(v)
}

/// The checkpoint signer the flags name (None without --checkpoint-key), judged before
/// anything is stored ([`Archive::check_signer`]): `ar` is the archive in `db`, `None` before
/// its first record.
pub(crate) fn signer(
    k: &KeyArgs,
    db: &Path,
    ar: Option<&Archive>,
) -> Result<Option<CheckpointSigner>, ExitCode> {
    let Some(s) = unjudged_signer(k, ar)? else {
        return Ok(None);
    };
    match ar {
        Some(a) => a.check_signer(&s),
        None => s.check_new(db),
    }
    .map_err(fail)?;
    Ok(Some(s))
}

/// [`signer`] not yet judged: for a command that judges it itself first (a resumed export
/// holds its journal's checkpoint to the archive, and says so better).
pub(crate) fn unjudged_signer(
    k: &KeyArgs,
    ar: Option<&Archive>,
) -> Result<Option<CheckpointSigner>, ExitCode> {
    let (Some(uri), Some(state)) = (&k.key, &k.state) else {
        return Ok(None);
    };
    // Before the PIN: the archive's first checkpoint names its log, and needs --origin.
    let in_file = kyso_archive::checkpointer::read_state_note(state).map_err(fail)?;
    let signed_before = match ar {
        Some(a) => a.has_signed().map_err(fail)?,
        None => false,
    };
    if k.origin.is_none() && in_file.is_none() && !signed_before {
        return Err(usage(format!(
            "{} holds no checkpoint yet: the archive's first names its log for good; give --origin (e.g. archive.example.gov.vn/records) and, if the key's name differs, --key-name",
            state.display()
        )));
    }
    let uri = Pkcs11Uri::parse(uri).map_err(hsm_fail)?;
    let key =
        kyso_hsm::open_key(k.module.as_deref(), &uri, k.pin_file.clone(), 1).map_err(hsm_fail)?;
    let spki = der::Encode::to_der(kyso_hsm::SignDigest::public_key_info(&key))
        .map_err(|e| usage(format!("the checkpoint key's public key: {e}")))?;
    let (origin, key_name) = log_names(k, state, &spki, in_file, ar)?;
    Ok(Some(CheckpointSigner {
        origin,
        key_name,
        key: Arc::new(key),
        state_file: state.clone(),
    }))
}

/// The log's origin and the key's name: as given; else as in the last checkpoint this key
/// signed (in the state file, else in the database); else (the archive's first checkpoint)
/// the origin must be given, and names the key too. They defaulted to `kyso.demo/archive`,
/// which the first checkpoint then fixed for the archive's life, E-ARK package identifiers
/// included (a new user's walk-through, 2026-12-04). Read from the state file without its
/// signature, an edited file named the log and the key the next checkpoint was signed under
/// (an insider's reading, 2026-12-04): only a checkpoint this key signed names them now, and
/// [`Archive::check_signer`] holds names given to it.
fn log_names(
    k: &KeyArgs,
    state: &Path,
    spki: &[u8],
    in_file: Option<checkpoint::Note>,
    ar: Option<&Archive>,
) -> Result<(String, String), ExitCode> {
    if let (Some(o), Some(n)) = (&k.origin, &k.key_name) {
        return Ok((o.clone(), n.clone()));
    }
    // The database's first: a note's key name is not covered by its signature.
    let held = match ar {
        Some(a) => a.signed_names(state, spki).map_err(fail)?,
        None => in_file.and_then(|n| n.signed_by(spki).map(|name| (n.checkpoint.origin, name))),
    };
    let origin = match (&k.origin, &held) {
        (Some(o), _) => o.clone(),
        (None, Some((o, _))) => o.clone(),
        (None, None) => {
            return Err(usage(format!(
                "the last checkpoint in {} or the database is not signed by this key: give --origin and --key-name (a new log key keeps the log's origin)",
                state.display()
            )))
        }
    };
    let key_name = match (&k.key_name, held) {
        (Some(n), _) => n.clone(),
        (None, Some((_, n))) => n,
        // The archive's first checkpoint: the key is named as the log. Later, a key that
        // signed none of them is named on purpose: defaulted, a new key took the origin an
        // operator had been led to give as its name too (an insider's reading, 2026-12-04).
        (None, None) if ar.is_some_and(|a| a.has_signed().unwrap_or(true)) => {
            return Err(usage(format!(
                "the last checkpoint in {} or the database is not signed by this key: a new log key needs --key-name (and --origin, the log's)",
                state.display()
            )))
        }
        (None, None) => origin.clone(),
    };
    Ok((origin, key_name))
}

fn checkpoint_with(a: &Archive, k: &KeyArgs) -> Result<Option<String>, ExitCode> {
    match signer(k, a.path(), Some(a))? {
        Some(s) => a.sign_checkpoint(&s).map(Some).map_err(fail),
        None => Ok(None),
    }
}

/// The archive a command reads or changes: it must exist (only `archive put` and the load
/// test `archive stress` create one).
fn open(db: &Path) -> Result<Archive, ExitCode> {
    Archive::open_existing(db).map_err(fail)
}

pub fn run_archive(cmd: ArchiveCommand) -> ExitCode {
    let r = match cmd {
        ArchiveCommand::Put(a) => return put(*a),
        ArchiveCommand::Get {
            db,
            id,
            reader,
            out,
            signature_out,
            overwrite,
            validation_data_out,
        } => match validation_data_out {
            Some(dir) => validation_data(&db.db, id, &reader.access(), &dir),
            None => get(
                &db.db,
                id,
                &reader.access(),
                (out, signature_out),
                overwrite,
            ),
        },
        ArchiveCommand::Find {
            db,
            code,
            subject,
            agency,
            from,
            to,
            reader,
        } => find(&db.db, code, subject, agency, from, to, &reader.access()),
        ArchiveCommand::Stress {
            db,
            count,
            size,
            checkpoint_every,
            checkpoint_interval_ms,
            key,
        } => stress(
            &db.db,
            count,
            size,
            checkpoint_every,
            checkpoint_interval_ms,
            &key,
        ),
        ArchiveCommand::Status {
            db,
            id,
            superseded_by,
            revoke,
            expired,
            user,
            key,
        } => {
            let status = match (superseded_by, revoke, expired) {
                (Some(r), _, _) => Status::SupersededBy { record: r },
                (_, Some(reason), _) => Status::Revoked { reason },
                (_, _, Some(on)) => Status::Expired { on },
                _ => {
                    return usage(
                        "give --superseded-by ID, --revoke REASON or --expired DATE".into(),
                    )
                }
            };
            open(&db.db).and_then(|a| {
                // The checkpoint key is judged before the change, as for a put.
                let signer = signer(&key, a.path(), Some(&a))?;
                let leaf = a.set_status(id, status, &user.user).map_err(fail)?;
                let cp = match signer {
                    Some(s) => Some(a.sign_checkpoint(&s).map_err(|e| {
                        eprintln!(
                            "kyso: the status of record {id} is changed (log entry {leaf}), but no checkpoint covers it yet:"
                        );
                        fail(e)
                    })?),
                    None => {
                        eprintln!(
                            "kyso: note: the status of record {id} is changed (log entry {leaf}); no checkpoint was signed (no --checkpoint-key), so none covers it yet: sign one (kyso log checkpoint)"
                        );
                        None
                    }
                };
                print(&serde_json::json!({ "record": id, "leaf": leaf, "checkpoint": cp }));
                Ok(())
            })
        }
    };
    r.map_or_else(|code| code, |()| ExitCode::SUCCESS)
}

fn get(
    db: &Path,
    id: u64,
    access: &Access,
    (out, signature_out): (Option<PathBuf>, Option<PathBuf>),
    overwrite: bool,
) -> Result<(), ExitCode> {
    // A file in the way is said before the read is logged.
    if let Some(e) = crate::sign_cmd::exists_already(
        out.iter().chain(signature_out.iter()).map(PathBuf::as_path),
        overwrite,
    ) {
        return Err(usage(e));
    }
    let ar = open(db)?;
    let Some(path) = out else {
        let (r, s) = ar.read_record(id, access).map_err(fail)?;
        print(&serde_json::json!({ "record": r, "status": s }));
        return Ok(());
    };
    // So is a signature the record lacks, and a folder that is not there: the read was logged,
    // then nothing written (helper 190).
    if signature_out.is_some() && !ar.has_detached_signature(id).map_err(fail)? {
        return Err(usage(format!("record {id} has no detached signature")));
    }
    for p in std::iter::once(&path).chain(signature_out.iter()) {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(usage(format!(
                "write {}: the folder {} is not there",
                p.display(),
                dir.display()
            )));
        }
    }
    let c = ar.read_content(id, access).map_err(fail)?;
    let write = |p: &Path, bytes: &[u8]| {
        crate::sign_cmd::write_atomic(p, bytes, overwrite)
            .map_err(|e| usage(format!("write {}: {e}", p.display())))
    };
    write(&path, &c.document)?;
    if let (Some(p), Some(sig)) = (signature_out, c.detached_signature) {
        write(&p, &sig)?;
    }
    Ok(())
}

fn validation_data(db: &Path, id: u64, access: &Access, dir: &Path) -> Result<(), ExitCode> {
    use sha2::Digest;
    let ar = open(db)?;
    let e = ar.read_validation_data(id, access).map_err(fail)?;
    std::fs::create_dir_all(dir).map_err(|e| usage(format!("create {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    for (kind, bytes) in &e.items {
        let name = format!("{kind}-{}.der", hex::encode(sha2::Sha256::digest(bytes)));
        let p = dir.join(&name);
        // Each name is its content's hash: a file already there with those bytes is kept, and
        // anything else under the name (another file, a link) is refused, never written
        // through (it was `fs::write`, which followed a link planted in the folder).
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_file() && std::fs::read(&p).is_ok_and(|b| b == *bytes) => {}
            Ok(_) => {
                return Err(usage(format!(
                    "{} exists and is not this item; not replaced",
                    p.display()
                )))
            }
            Err(_) => crate::sign_cmd::write_atomic(&p, bytes, false)
                .map_err(|e| usage(format!("write {}: {e}", p.display())))?,
        }
        files.push(name);
    }
    print(&serde_json::json!({
        "record": id,
        "validation_data": e.record.validation_data,
        "files": files,
    }));
    Ok(())
}

fn find(
    db: &Path,
    code: Option<String>,
    subject: Option<String>,
    agency: Option<String>,
    from: String,
    to: String,
    access: &Access,
) -> Result<(), ExitCode> {
    let q = match (code, subject, agency) {
        (Some(c), _, _) => Query::Code(c),
        (_, Some(s), _) => Query::Subject(s),
        (_, _, Some(agency)) => Query::Agency { agency, from, to },
        _ => return Err(usage("give --code, --subject or --agency".into())),
    };
    let found = open(db)?.find(&q, access).map_err(fail)?;
    if found.truncated {
        eprintln!(
            "kyso: more than {} records match; the first are shown (narrow the query)",
            kyso_archive::lookup::MAX_FOUND
        );
    }
    let rows: Vec<serde_json::Value> = found
        .records
        .iter()
        .map(|(r, s)| serde_json::json!({ "id": r.id, "code": r.code, "title": r.title, "agency": r.agency, "issue_date": r.issue_date, "status": s, "content_sha256": r.content_sha256 }))
        .collect();
    print(&rows);
    Ok(())
}

fn stress(
    db: &Path,
    count: u64,
    size: usize,
    every: u64,
    interval_ms: Option<u64>,
    key: &KeyArgs,
) -> Result<(), ExitCode> {
    use sha2::Digest;
    use std::io::Write;
    // A load test writes, as `archive put` does: it may start the archive.
    let ar = Arc::new(Archive::open(db).map_err(fail)?);
    let mut sign_every = signer(key, db, Some(&ar))?;
    let mut background = None;
    if let Some((ms, s)) = interval_ms.and_then(|ms| sign_every.take().map(|s| (ms, s))) {
        background = Some(ar.start_checkpointer(s, std::time::Duration::from_millis(ms)));
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let validator = kyso_verify::Validator::default();
    let mut out = std::io::stdout().lock();
    for i in 0..count {
        // The marker fills the document, so a copy of it lies whole inside any 32 KiB block of
        // the WAL (the durability test looks for it there).
        let marker = format!("<synthetic document {seed}-{i}>");
        let mut body = marker.repeat(size / marker.len() + 1).into_bytes();
        body.truncate(size.max(marker.len()));
        let sha = hex::encode(sha2::Sha256::digest(&body));
        let req = Ingest {
            document: body,
            metadata: Metadata {
                code: "001099012345.STRESS".into(),
                ..Default::default()
            },
            user: "stress".into(),
            allow_unverified: Some("synthetic test document".into()),
            media_type: Some("application/octet-stream".into()),
            ..Default::default()
        };
        let got = kyso_archive::ingest(&ar, &validator, req).map_err(fail)?;
        // One write per line, so lines from other writers to stdout never interleave with it.
        let _ = out.write_all(format!("ack {} {sha} {marker}\n", got.record).as_bytes());
        let _ = out.flush();
        if let Some(s) = &sign_every {
            if (i + 1) % every.max(1) == 0 {
                ar.sign_checkpoint(s).map_err(fail)?;
            }
        }
    }
    // Let the background publisher cover the last puts before it stops.
    if let Some(ms) = interval_ms.filter(|_| background.is_some()) {
        std::thread::sleep(std::time::Duration::from_millis(ms * 2 + 50));
    }
    drop(background);
    Ok(())
}

fn put(a: PutArgs) -> ExitCode {
    let go = || -> Result<(), ExitCode> {
        let config = a.limits.config();
        let data = read_document(&a.file, config.max_document_bytes)?;
        let detached = match &a.detached {
            Some(p) => Some(read_document(p, config.max_document_bytes)?),
            None => None,
        };
        let v = a.trust.validator().map_err(usage)?;
        let mut meta = BTreeMap::new();
        for kv in &a.meta {
            match kv.split_once('=') {
                Some((k, v)) if !k.is_empty() => {
                    meta.insert(k.to_string(), v.to_string());
                }
                _ => return Err(usage(format!("--meta {kv:?}: expected key=value"))),
            }
        }
        let req = Ingest {
            document: data,
            detached_signature: detached,
            metadata: Metadata {
                code: a.code.clone(),
                title: a.title.clone(),
                agency: a.agency.clone(),
                procedure: a.procedure.clone(),
                dossier: a.dossier.clone(),
                issue_date: a.issue_date.clone(),
                meta,
            },
            user: a.user.user.clone(),
            allow_unverified: a.allow_unsigned.clone(),
            request_id: a.request_id.clone(),
            media_type: None,
        };
        // The checkpoint key before the record: its flags, its PIN, its token judged before
        // anything is stored (a missing --origin was said after the record was in).
        // An archive not created yet is created only once the key is judged.
        let (ar, signer) = if Archive::holds(&a.db.db) {
            let ar = Archive::open_with(&a.db.db, config).map_err(fail)?;
            let s = signer(&a.key, &a.db.db, Some(&ar))?;
            (ar, s)
        } else {
            let s = signer(&a.key, &a.db.db, None)?;
            (Archive::open_with(&a.db.db, config).map_err(fail)?, s)
        };
        let got = kyso_archive::ingest(&ar, &v, req).map_err(fail)?;
        let cp = match signer {
            // Judged before the record, it can still be refused after (a state file changed
            // in between, the token gone): the record is in, and the message says so — exit
            // 22 alone read as "refused, nothing stored" (an insider's reading, 2026-12-04).
            Some(s) => Some(ar.sign_checkpoint(&s).map_err(|e| {
                eprintln!(
                    "kyso: record {} is stored (log entry {}), but no checkpoint covers it yet:",
                    got.record, got.leaf
                );
                fail(e)
            })?),
            // Said, not only `"checkpoint": null`: until a signed checkpoint covers the record,
            // an insider could take it out unseen (a new user's reading, 2026-12-05).
            None => {
                if !got.existing {
                    eprintln!(
                        "kyso: note: record {} is stored (log entry {}); no checkpoint was signed (no --checkpoint-key), so none covers it yet: sign one (kyso log checkpoint)",
                        got.record, got.leaf
                    );
                }
                None
            }
        };
        print(&serde_json::json!({
            "record": got.record,
            "leaf": got.leaf,
            // As kept: the type code in upper case.
            "code": a.code.parse::<kyso_archive::DocumentCode>().map_or_else(|_| a.code.clone(), |c| c.to_string()),
            "existing": got.existing,
            "indication": got.report.as_ref().map(|r| r.indication.as_str()),
            "pdfa_declared": got.pdfa_declared,
            "pages": got.pages,
            "checkpoint": cp,
        }));
        Ok(())
    };
    go().map_or_else(|c| c, |()| ExitCode::SUCCESS)
}

pub fn run_log(cmd: LogCommand) -> ExitCode {
    let r = match cmd {
        LogCommand::Checkpoint { db, key } => (|| {
            if key.key.is_none() {
                return Err(usage(
                    "give --checkpoint-key URI and --checkpoint-state FILE".into(),
                ));
            }
            let ar = open(&db.db)?;
            if let Some(note) = checkpoint_with(&ar, &key)? {
                out!("{note}");
            }
            Ok(())
        })(),
        LogCommand::Prove {
            db,
            id,
            leaf,
            size,
            user,
            purpose,
        } => (|| {
            let ar = open(&db.db)?;
            let index = match (id, leaf) {
                (Some(id), _) => ar.record_leaf(id).map_err(fail)?,
                (_, Some(l)) => l,
                _ => return Err(usage("give a record id or --leaf N".into())),
            };
            let size = size.unwrap_or(ar.size());
            let proof = ar.inclusion_proof(index, size).map_err(fail)?;
            let mut out = serde_json::json!({
                "leaf_index": index,
                "tree_size": size,
                "leaf_hash": hex::encode(ar.leaf(index).map_err(fail)?),
                "root": hex::encode(ar.root(size).map_err(fail)?),
                "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
            });
            // The entry names a citizen's document code: its read is logged, durably, before
            // it is shown (as the service's /v1/log/entries does).
            if let (Some(user), Some(purpose)) = (user, purpose) {
                Access::new(user.clone(), purpose.clone())
                    .check()
                    .map_err(fail)?;
                let event = ar.entry(index).map_err(fail)?;
                let read = ar
                    .log(
                        Activity::LogRead {
                            start: index,
                            end: index + 1,
                            purpose,
                        },
                        &user,
                    )
                    .map_err(fail)?;
                out["event"] = String::from_utf8_lossy(&event).into();
                out["read_event"] = read.into();
            }
            print(&out);
            Ok(())
        })(),
        LogCommand::Consistency {
            db,
            old,
            new,
            pubkey,
            key_name,
        } => consistency(&db.db, &old, &new, &pubkey, key_name.as_deref()),
    };
    r.map_or_else(|c| c, |()| ExitCode::SUCCESS)
}

fn read_note(p: &Path) -> Result<String, ExitCode> {
    let b = read_bounded(p, checkpoint::MAX_NOTE as u64)?;
    String::from_utf8(b).map_err(|_| usage(format!("{} is not text", p.display())))
}

fn consistency(
    db: &Path,
    old: &Path,
    new: &Path,
    pubkey: &Path,
    key_name: Option<&str>,
) -> Result<(), ExitCode> {
    let (o, n) = (read_note(old)?, read_note(new)?);
    let spki = read_bounded(pubkey, 1 << 20).and_then(|b| {
        checkpoint::public_key_der(&b).map_err(|e| usage(format!("{}: {e}", pubkey.display())))
    })?;
    let refused = |e: String| {
        eprintln!("kyso: checkpoint: {e}");
        ExitCode::from(1)
    };
    let verified = |note: &str| {
        let n = checkpoint::parse(note)?;
        n.verify(key_name, &spki)?;
        Ok::<_, String>(n.checkpoint)
    };
    let co = verified(&o).map_err(refused)?;
    let cn = verified(&n).map_err(refused)?;
    if co.origin != cn.origin {
        return Err(refused(format!(
            "the checkpoints are of different logs ({} and {})",
            co.origin, cn.origin
        )));
    }
    let ar = open(db)?;
    let proof = ar.consistency_proof(co.size, cn.size).map_err(fail)?;
    if merkle::verify_consistency(co.size, cn.size, &proof, &co.root, &cn.root) {
        print(
            &serde_json::json!({ "consistent": true, "old_size": co.size, "new_size": cn.size, "proof": proof.iter().map(hex::encode).collect::<Vec<_>>() }),
        );
        Ok(())
    } else {
        eprintln!("kyso: INCONSISTENT: the checkpoint of {} entries is not a prefix of the one of {} — the log was rewritten", co.size, cn.size);
        Err(ExitCode::from(1))
    }
}

/// A log key for the audit: a file (PEM or DER public key or certificate), or the PKCS#11 URI
/// of its certificate or public key on a token.
pub(crate) fn log_key(s: &str, module: Option<&Path>) -> Result<Vec<u8>, ExitCode> {
    log_key_certified(s, module).map(|(k, _)| k)
}

/// When a log key's certificate says it may sign: notBefore, notAfter.
pub(crate) type Validity = (std::time::SystemTime, std::time::SystemTime);

/// [`log_key`], and when the key was given as a certificate, its validity.
pub(crate) fn log_key_certified(
    s: &str,
    module: Option<&Path>,
) -> Result<(Vec<u8>, Option<Validity>), ExitCode> {
    if s.starts_with("pkcs11:") {
        let uri = Pkcs11Uri::parse(s).map_err(hsm_fail)?;
        let spki = kyso_hsm::public_key(module, &uri).map_err(hsm_fail)?;
        let k = der::Encode::to_der(&spki).map_err(|e| usage(format!("{s}: {e}")))?;
        return Ok((k, None));
    }
    let p = Path::new(s);
    let b = read_bounded(p, 1 << 20)?;
    let k = checkpoint::public_key_der(&b).map_err(|e| usage(format!("{}: {e}", p.display())))?;
    Ok((k, checkpoint::certified_validity(&b)))
}

pub fn run_audit(a: AuditArgs) -> ExitCode {
    let go = || -> Result<(), ExitCode> {
        let keys = a
            .log_keys
            .iter()
            .map(|k| log_key(k, a.module.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;
        let since = match &a.since {
            Some(p) => {
                let b = read_bounded(p, 64 << 20)?;
                Some(serde_json::from_slice::<Resume>(&b).map_err(|e| {
                    usage(format!(
                        "{}: not a file written by audit verify --save: {e}",
                        p.display()
                    ))
                })?)
            }
            None => None,
        };
        let outside = a
            .checkpoints
            .iter()
            .map(|p| {
                let b = read_bounded(p, kyso_archive::checkpoint::MAX_NOTE as u64)?;
                Ok((
                    p.display().to_string(),
                    String::from_utf8_lossy(&b).into_owned(),
                ))
            })
            .collect::<Result<Vec<_>, ExitCode>>()?;
        let terminal = std::io::stderr().is_terminal();
        let mut last = std::time::Instant::now();
        let mut show = |p: audit::Progress| {
            if terminal && (last.elapsed().as_millis() >= 200 || p.done == p.total) {
                last = std::time::Instant::now();
                if p.total > 0 {
                    eprint!("\raudit: {} {}/{}        ", p.phase, p.done, p.total);
                } else {
                    eprint!("\raudit: {}                        ", p.phase);
                }
            }
        };
        let opts = AuditOptions {
            keys,
            since,
            outside,
            progress: Some(&mut show),
        };
        let r = audit::verify(&a.db.db, opts);
        if terminal {
            eprintln!();
        }
        let r = r.map_err(fail)?;
        if let (Some(p), Some(resume)) = (&a.save, &r.resume) {
            let json = serde_json::to_vec_pretty(resume).expect("serializable");
            kyso_archive::checkpointer::write_atomically(p, &json)
                .map_err(|e| usage(format!("write {}: {e}", p.display())))?;
        }
        if a.json {
            print(&r);
        } else {
            outln!(
                "audit: clean — {} entries ({} read), {} records, {} checkpoints verified with the given key(s), root {}",
                r.tree_size, r.entries_read, r.records, r.checkpoints, r.root
            );
            // What "clean" does not cover, said where it is read.
            if r.outside_checkpoints == 0 {
                outln!(
                    "audit: no checkpoint kept outside the archive was given (--checkpoint): the log was held to the database's own stored checkpoints, which an older copy or an insider's rewrite brings along"
                );
            }
            if r.unsigned_entries > 0 {
                outln!(
                    "audit: the newest {} entries are under no signed checkpoint yet: until one is signed (kyso log checkpoint; the service signs within seconds), they could be removed unseen",
                    r.unsigned_entries
                );
            }
        }
        Ok(())
    };
    go().map_or_else(|c| c, |()| ExitCode::SUCCESS)
}

pub fn run_backup(db: &Path, to: &Path, user: &str) -> ExitCode {
    match Archive::open_existing(db).and_then(|a| a.backup(to, user)) {
        Ok(c) => {
            print(&c);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn run_restore(from: &Path, db: &Path, user: &str) -> ExitCode {
    match kyso_archive::backup::restore(from, db, user, Config::default()) {
        Ok(c) => {
            print(&c);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
