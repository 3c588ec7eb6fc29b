//! `kyso archive …`, `kyso log …`, `kyso audit verify`, `kyso backup`: the e-archive.

use clap::{Args, Subcommand};
use kyso_archive::{
    audit, checkpoint, merkle, Archive, ArchiveError, Event, FoundSignature, NewRecord, Status,
};
use kyso_hsm::Pkcs11Uri;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Clone)]
pub struct DbArg {
    /// The archive's RocksDB directory.
    #[arg(long, value_name = "DIR")]
    db: PathBuf,
}

#[derive(Args, Clone)]
pub struct KeyArgs {
    /// PKCS#11 URI of the ECDSA P-256 checkpoint key.
    #[arg(long = "checkpoint-key", value_name = "URI")]
    key: Option<String>,
    /// Name of the checkpoint key in signed notes.
    #[arg(long, default_value = "kyso.demo/archive")]
    key_name: String,
    /// The log's origin line in checkpoints.
    #[arg(long, default_value = "kyso.demo/archive")]
    origin: String,
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum ArchiveCommand {
    /// Store a signed document under its code (after verifying its signatures).
    Put(Box<PutArgs>),
    /// A record: its metadata, or (--out) its content — a logged read.
    Get {
        #[command(flatten)]
        db: DbArg,
        id: u64,
        /// Write the document's bytes here (the read is logged with --user and --reason).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, default_value = "cli")]
        user: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Find records by document code, subject, or agency and dates.
    Find {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, conflicts_with_all = ["subject", "agency"])]
        code: Option<String>,
        #[arg(long, conflicts_with = "agency")]
        subject: Option<String>,
        #[arg(long)]
        agency: Option<String>,
        #[arg(long, default_value = "0000-01-01")]
        from: String,
        #[arg(long, default_value = "9999-12-31")]
        to: String,
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
        #[arg(long, value_name = "ID", conflicts_with_all = ["revoke", "expired"])]
        superseded_by: Option<u64>,
        #[arg(long, value_name = "REASON", conflicts_with = "expired")]
        revoke: Option<String>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        expired: Option<String>,
        #[arg(long, default_value = "cli")]
        user: String,
    },
}

#[derive(Args)]
pub struct PutArgs {
    #[command(flatten)]
    db: DbArg,
    /// Document code: <personal id or tax code>.<document type code>
    #[arg(long)]
    code: String,
    /// For verifying the document's signatures.
    #[command(flatten)]
    trust: crate::verify_cmd::TrustArgs,
    /// Store even if unsigned or not TOTAL-PASSED, with this reason (logged in the record).
    #[arg(long, value_name = "REASON")]
    allow_unsigned: Option<String>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    agency: Option<String>,
    #[arg(long)]
    procedure: Option<String>,
    #[arg(long)]
    dossier: Option<String>,
    /// YYYY-MM-DD
    #[arg(long)]
    issue_date: Option<String>,
    /// Extra metadata, key=value (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    meta: Vec<String>,
    #[arg(long, default_value = "cli")]
    user: String,
    #[command(flatten)]
    key: KeyArgs,
    /// The signed document (PDF or attached CMS).
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
    /// Inclusion proof of a record's ingest event (or --leaf N) in the current tree.
    Prove {
        #[command(flatten)]
        db: DbArg,
        /// Record id.
        id: Option<u64>,
        #[arg(long, conflicts_with = "id")]
        leaf: Option<u64>,
        /// Tree size to prove against (default: the current size).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Check that two signed checkpoints are consistent (the newer extends the older).
    Consistency {
        #[command(flatten)]
        db: DbArg,
        old: PathBuf,
        new: PathBuf,
        /// The checkpoint key's public key (PEM or DER SPKI); default: the one the archive recorded.
        #[arg(long, value_name = "PEM")]
        pubkey: Option<PathBuf>,
        #[arg(long, default_value = "kyso.demo/archive")]
        key_name: String,
    },
}

fn fail(e: ArchiveError) -> ExitCode {
    eprintln!("kyso: {e}");
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
}

fn usage(msg: String) -> ExitCode {
    eprintln!("kyso: {msg}");
    ExitCode::from(crate::EXIT_USAGE)
}

fn print(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("serializable"));
}

fn checkpoint_with(a: &Archive, k: &KeyArgs) -> Result<Option<String>, ExitCode> {
    let Some(uri) = &k.key else { return Ok(None) };
    let uri = Pkcs11Uri::parse(uri).map_err(|e| {
        eprintln!("kyso: {e}");
        ExitCode::from(3)
    })?;
    let key =
        kyso_hsm::open_key(k.module.as_deref(), &uri, k.pin_file.clone(), 1).map_err(|e| {
            eprintln!("kyso: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        })?;
    a.sign_checkpoint(&k.origin, &k.key_name, &key)
        .map(Some)
        .map_err(fail)
}

pub fn run_archive(cmd: ArchiveCommand) -> ExitCode {
    match cmd {
        ArchiveCommand::Put(a) => put(*a),
        ArchiveCommand::Get {
            db,
            id,
            out,
            user,
            reason,
        } => {
            let ar = match Archive::open(&db.db) {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            match out {
                None => match ar.record(id).and_then(|r| Ok((r, ar.status(id)?))) {
                    Ok((r, s)) => {
                        print(&serde_json::json!({ "record": r, "status": s }));
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(e),
                },
                Some(path) => match ar.read_content(id, &user, reason.as_deref().unwrap_or("")) {
                    Ok(bytes) => match std::fs::write(&path, bytes) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => usage(format!("write {}: {e}", path.display())),
                    },
                    Err(e) => fail(e),
                },
            }
        }
        ArchiveCommand::Find {
            db,
            code,
            subject,
            agency,
            from,
            to,
        } => {
            let ar = match Archive::open(&db.db) {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let r = match (code, subject, agency) {
                (Some(c), _, _) => ar.find_code(&c),
                (_, Some(s), _) => ar.find_subject(&s),
                (_, _, Some(a)) => ar.find_agency(&a, &from, &to),
                _ => return usage("give --code, --subject or --agency".into()),
            };
            match r {
                Ok(recs) => {
                    let rows: Vec<serde_json::Value> = recs
                        .iter()
                        .map(|r| serde_json::json!({ "id": r.id, "code": r.code, "title": r.title, "agency": r.agency, "issue_date": r.issue_date, "status": ar.status(r.id).ok(), "content_sha256": r.content_sha256 }))
                        .collect();
                    print(&rows);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
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
            match Archive::open(&db.db).and_then(|a| a.set_status(id, status, &user)) {
                Ok(leaf) => {
                    print(&serde_json::json!({ "record": id, "leaf": leaf }));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

fn stress(
    db: &Path,
    count: u64,
    size: usize,
    every: u64,
    interval_ms: Option<u64>,
    key: &KeyArgs,
) -> ExitCode {
    use sha2::Digest;
    use std::io::Write;
    let ar = match Archive::open(db) {
        Ok(a) => std::sync::Arc::new(a),
        Err(e) => return fail(e),
    };
    let mut signer = match &key.key {
        Some(uri) => match Pkcs11Uri::parse(uri)
            .map_err(|e| e.to_string())
            .and_then(|u| {
                kyso_hsm::open_key(key.module.as_deref(), &u, key.pin_file.clone(), 1)
                    .map_err(|e| e.to_string())
            }) {
            Ok(k) => Some(k),
            Err(e) => return usage(e),
        },
        None => None,
    };
    let mut background = None;
    if let Some((ms, k)) = interval_ms.and_then(|ms| signer.take().map(|k| (ms, k))) {
        background = Some(ar.start_checkpointer(
            std::sync::Arc::new(k),
            key.origin.clone(),
            key.key_name.clone(),
            std::time::Duration::from_millis(ms),
        ));
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for i in 0..count {
        let mut body = format!("synthetic document {seed}-{i}\n").into_bytes();
        body.resize(size.max(body.len()), b'.');
        let sha = hex::encode(sha2::Sha256::digest(&body));
        let rec = NewRecord {
            code: "001099012345.STRESS".into(),
            media_type: "application/octet-stream".into(),
            user: "stress".into(),
            report: serde_json::json!({"stress": true}),
            ..Default::default()
        };
        match ar.put(rec, body) {
            Ok((id, _)) => {
                let _ = writeln!(out, "ack {id} {sha}");
                let _ = out.flush();
            }
            Err(e) => return fail(e),
        }
        if let Some(k) = &signer {
            if background.is_none() && (i + 1) % every.max(1) == 0 {
                if let Err(e) = ar.sign_checkpoint(&key.origin, &key.key_name, k) {
                    return fail(e);
                }
            }
        }
    }
    // Let the background publisher cover the last puts before it stops.
    if let Some(ms) = interval_ms.filter(|_| background.is_some()) {
        std::thread::sleep(std::time::Duration::from_millis(ms * 2 + 50));
    }
    drop(background);
    ExitCode::SUCCESS
}

fn put(a: PutArgs) -> ExitCode {
    // Verify first (no archive lock held meanwhile).
    let data = match std::fs::read(&a.file) {
        Ok(d) => d,
        Err(e) => return usage(format!("read {}: {e}", a.file.display())),
    };
    let v = match a.trust.validator() {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let report = v.verify_file(&data, None);
    let passed = report.indication == kyso_verify::Indication::TotalPassed;
    if !passed && a.allow_unsigned.is_none() {
        eprintln!(
            "kyso: refused: the document's signatures are {} ({}); store it anyway only with --allow-unsigned REASON",
            report.indication.as_str(),
            report.signatures.first().and_then(|s| s.messages.first()).cloned().or_else(|| report.messages.first().cloned()).unwrap_or_default()
        );
        return ExitCode::from(5);
    }
    let mut meta = BTreeMap::new();
    for kv in &a.meta {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                meta.insert(k.to_string(), v.to_string());
            }
            _ => return usage(format!("--meta {kv:?}: expected key=value")),
        }
    }
    if let Some(reason) = &a.allow_unsigned {
        if reason.trim().is_empty() {
            return usage("--allow-unsigned needs a reason".into());
        }
        meta.insert("stored_without_valid_signature".into(), reason.clone());
    }
    let signatures = report
        .signatures
        .iter()
        .map(|s| FoundSignature {
            signer: s
                .signer
                .as_ref()
                .map(|x| x.subject.clone())
                .unwrap_or_default(),
            time: s.timestamp.clone().or_else(|| s.signing_time.clone()),
            format: s.format.clone(),
            indication: s.indication.as_str().into(),
        })
        .collect();
    let rec = NewRecord {
        code: a.code.clone(),
        title: a.title.clone(),
        agency: a.agency.clone(),
        procedure: a.procedure.clone(),
        dossier: a.dossier.clone(),
        issue_date: a.issue_date.clone(),
        media_type: if kyso_verify::looks_like_pdf(&data) {
            "application/pdf".into()
        } else {
            "application/pkcs7-mime".into()
        },
        signatures,
        report: serde_json::from_str(&report.to_json()).unwrap_or_default(),
        user: a.user.clone(),
        meta,
    };
    let ar = match Archive::open(&a.db.db) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    match ar.put(rec, data) {
        Ok((id, leaf)) => {
            let cp = match checkpoint_with(&ar, &a.key) {
                Ok(c) => c,
                Err(code) => return code,
            };
            print(
                &serde_json::json!({ "record": id, "leaf": leaf, "code": a.code, "indication": report.indication.as_str(), "checkpoint": cp }),
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn run_log(cmd: LogCommand) -> ExitCode {
    match cmd {
        LogCommand::Checkpoint { db, key } => {
            if key.key.is_none() {
                return usage("give --checkpoint-key URI".into());
            }
            let ar = match Archive::open(&db.db) {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            match checkpoint_with(&ar, &key) {
                Ok(Some(note)) => {
                    print!("{note}");
                    ExitCode::SUCCESS
                }
                Ok(None) => ExitCode::SUCCESS,
                Err(c) => c,
            }
        }
        LogCommand::Prove { db, id, leaf, size } => {
            let ar = match Archive::open(&db.db) {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let go = || -> Result<serde_json::Value, ArchiveError> {
                let index = match (id, leaf) {
                    (Some(id), _) => ar.record(id)?.leaf,
                    (_, Some(l)) => l,
                    _ => return Err(ArchiveError::Input("give a record id or --leaf N".into())),
                };
                let size = match size {
                    Some(s) => s,
                    None => ar.size()?,
                };
                if size > ar.size()? {
                    return Err(ArchiveError::Input(format!(
                        "the log has only {} entries",
                        ar.size()?
                    )));
                }
                let proof = ar.inclusion_proof(index, size)?;
                Ok(serde_json::json!({
                    "leaf_index": index,
                    "tree_size": size,
                    "event": String::from_utf8_lossy(&ar.event_bytes(index)?),
                    "leaf_hash": hex::encode(ar.leaf(index)?),
                    "root": hex::encode(ar.root(size)?),
                    "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
                }))
            };
            match go() {
                Ok(v) => {
                    print(&v);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        LogCommand::Consistency {
            db,
            old,
            new,
            pubkey,
            key_name,
        } => consistency(&db.db, &old, &new, pubkey.as_deref(), &key_name),
    }
}

fn consistency(
    db: &Path,
    old: &Path,
    new: &Path,
    pubkey: Option<&Path>,
    key_name: &str,
) -> ExitCode {
    let read =
        |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("read {}: {e}", p.display()));
    let (o, n) = match (read(old), read(new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return usage(e),
    };
    let ar = match Archive::open(db) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let spki = match pubkey {
        Some(p) => match std::fs::read(p) {
            Ok(b) if b.starts_with(b"-----BEGIN") => match der::pem::decode_vec(&b) {
                Ok((_, d)) => d,
                Err(e) => return usage(format!("{}: {e}", p.display())),
            },
            Ok(b) => b,
            Err(e) => return usage(format!("read {}: {e}", p.display())),
        },
        None => match ar.checkpoint_key(key_name) {
            Ok(Some(k)) => k,
            Ok(None) => return usage(format!("no key recorded for {key_name}; give --pubkey")),
            Err(e) => return fail(e),
        },
    };
    let (co, cn) = match (
        checkpoint::verify(&o, key_name, &spki),
        checkpoint::verify(&n, key_name, &spki),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("kyso: checkpoint: {e}");
            return ExitCode::from(1);
        }
    };
    if co.origin != cn.origin {
        eprintln!(
            "kyso: the checkpoints are of different logs ({} and {})",
            co.origin, cn.origin
        );
        return ExitCode::from(1);
    }
    let proof = match ar.consistency_proof(co.size, cn.size) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if merkle::verify_consistency(co.size, cn.size, &proof, &co.root, &cn.root) {
        print(
            &serde_json::json!({ "consistent": true, "old_size": co.size, "new_size": cn.size, "proof": proof.iter().map(hex::encode).collect::<Vec<_>>() }),
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("kyso: INCONSISTENT: the checkpoint of {} entries is not a prefix of the one of {} — the log was rewritten", co.size, cn.size);
        ExitCode::from(1)
    }
}

pub fn run_audit(db: &Path) -> ExitCode {
    match audit::verify(db) {
        Ok(r) => {
            print(&r);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn run_backup(db: &Path, to: &Path) -> ExitCode {
    match Archive::open(db).and_then(|a| {
        a.backup(to)?;
        a.log(Event::Config {
            change: format!("backup to {}", to.display()),
            user: "cli".into(),
            time: String::new(),
        })
    }) {
        Ok(_) => {
            println!("backup written to {}", to.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
