//! The archive in RocksDB: records written once, every event a leaf of the Merkle log, one
//! synced write batch per group of writers, signed checkpoints that never go backwards.

use crate::checkpoint;
use crate::code::DocumentCode;
use crate::merkle::{self, Frontier, Hash, Nodes};
use crossbeam_channel::{bounded, Receiver, Sender};
use rocksdb::{ColumnFamilyDescriptor, Options, WriteBatch, WriteOptions, DB};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Column families (docs/archive.md describes every key).
pub const CF_CONTENT: &str = "content";
pub const CF_RECORDS: &str = "records";
pub const CF_STATUS: &str = "status";
pub const CF_INDEX: &str = "index";
pub const CF_EVENTS: &str = "events";
pub const CF_NODES: &str = "nodes";
pub const CF_CHECKPOINTS: &str = "checkpoints";
pub const CF_META: &str = "meta";
pub const CFS: [&str; 8] = [
    CF_CONTENT,
    CF_RECORDS,
    CF_STATUS,
    CF_INDEX,
    CF_EVENTS,
    CF_NODES,
    CF_CHECKPOINTS,
    CF_META,
];
const META_SIZE: &[u8] = b"tree_size";
const META_NEXT_ID: &[u8] = b"next_record_id";
const META_SIGNED: &[u8] = b"last_signed_size";
const META_SIGNED_ROOT: &[u8] = b"last_signed_root";
/// How often the background publisher looks for new entries: half a second, so that an
/// acknowledged put is covered by a signed checkpoint within a second.
pub const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);
/// Most writers one synced batch serves.
const MAX_BATCH: usize = 512;

/// Errors of the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the archive at {path} is in use by another process (RocksDB lock held)")]
    Locked { path: String },
    #[error("database: {0}")]
    Db(String),
    #[error("{0}")]
    Input(String),
    #[error("record {0} does not exist")]
    NoRecord(u64),
    #[error("record {id} is {status}; {what}")]
    Status {
        id: u64,
        status: String,
        what: String,
    },
    #[error("the archive's stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

impl ArchiveError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ArchiveError::Input(_) => 5,
            ArchiveError::NoRecord(_) => 7,
            ArchiveError::Status { .. } => 8,
            ArchiveError::Locked { .. } => 9,
            ArchiveError::Corrupt(_) => 20,
            ArchiveError::Db(_) | ArchiveError::Checkpoint(_) => 21,
        }
    }
}

fn db_err(e: rocksdb::Error) -> ArchiveError {
    ArchiveError::Db(e.to_string())
}

pub type Result<T> = std::result::Result<T, ArchiveError>;

/// A record's validity (a status change is an event; the record never changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Valid,
    SupersededBy { record: u64 },
    Revoked { reason: String },
    Expired { on: String },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::SupersededBy { .. } => "superseded",
            Status::Revoked { .. } => "revoked",
            Status::Expired { .. } => "expired",
        }
    }
}

/// One signature found at ingest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FoundSignature {
    pub signer: String,
    pub time: Option<String>,
    pub format: String,
    pub indication: String,
}

/// A signed document and what is known of it. Written once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub id: u64,
    pub code: String,
    pub subject: String,
    pub doc_type: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    /// YYYY-MM-DD
    pub issue_date: Option<String>,
    pub content_sha256: String,
    pub content_sha512: String,
    pub media_type: String,
    pub size: u64,
    pub signatures: Vec<FoundSignature>,
    /// The validation report made at ingest (kyso verify's JSON), or why none was required.
    pub report: serde_json::Value,
    pub ingest_user: String,
    pub ingest_time: String,
    /// The log index of the ingest event.
    pub leaf: u64,
    pub meta: BTreeMap<String, String>,
}

/// What a caller gives to store a document.
#[derive(Debug, Clone, Default)]
pub struct NewRecord {
    pub code: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    pub issue_date: Option<String>,
    pub media_type: String,
    pub signatures: Vec<FoundSignature>,
    pub report: serde_json::Value,
    pub user: String,
    pub meta: BTreeMap<String, String>,
}

/// A log entry. Its canonical encoding is the JSON serde writes for this type (fields in
/// declaration order, no insignificant white space); the leaf is SHA-256(0x00 ‖ those bytes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Ingest {
        record: u64,
        code: String,
        content_sha256: String,
        record_sha256: String,
        user: String,
        time: String,
    },
    Status {
        record: u64,
        status: Status,
        user: String,
        time: String,
    },
    Read {
        record: u64,
        user: String,
        reason: String,
        time: String,
    },
    Export {
        records: Vec<u64>,
        format: String,
        user: String,
        time: String,
    },
    Signature {
        document_sha256: String,
        signer: String,
        format: String,
        user: String,
        time: String,
    },
    Config {
        change: String,
        user: String,
        time: String,
    },
}

fn now_rfc3339() -> String {
    kyso_verify::rfc3339(std::time::SystemTime::now())
}

fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

/// What the writer thread is asked to do.
enum Job {
    Ingest {
        rec: Box<NewRecord>,
        content: Arc<Vec<u8>>,
        sha256: [u8; 32],
        sha512: Vec<u8>,
        code: DocumentCode,
    },
    Event(Event),
}

type Reply = Sender<Result<(u64, u64)>>;

struct Writer {
    frontier: Frontier,
    next_id: u64,
}

/// The background checkpoint publisher; stops (after its current round) when dropped.
pub struct Checkpointer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The open archive.
pub struct Archive {
    db: Arc<DB>,
    path: PathBuf,
    jobs: Option<Sender<(Job, Reply)>>,
    /// The writer and the syncer threads.
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The tree size known to be on disk (the syncer advances it after each WAL sync).
    durable: Arc<AtomicU64>,
    /// WAL syncs made since the archive was opened.
    syncs: Arc<AtomicU64>,
    /// Set when a write or a sync failed: no more writes until the archive is reopened.
    failed: Arc<AtomicBool>,
    /// Serializes checkpoint signing.
    sign_lock: Mutex<()>,
}

impl Drop for Archive {
    fn drop(&mut self) {
        self.jobs.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// RocksDB options: WAL on, blob files for documents, no TTL, no compaction filter.
/// docs/archive.md ("Durability and throughput") explains each choice and its measurement.
fn options(dir: &Path) -> Options {
    let mut o = Options::default();
    o.create_if_missing(true);
    o.create_missing_column_families(true);
    o.set_max_open_files(256);
    o.increase_parallelism(2);
    // The writer thread appends to the WAL without syncing; the syncer thread makes it durable
    // with flush_wal(true) and only then acknowledges, so batch N+1 is built and applied while
    // batch N is on its way to the disk.
    o.set_manual_wal_flush(true);
    // All column families flush together, so a WAL file is obsolete as soon as its memtables
    // are flushed and can be recycled: overwriting an allocated file syncs about twice as fast
    // as appending to a new one.
    o.set_atomic_flush(true);
    o.set_recycle_log_file_num(8);
    // Blob and table files bypass the page cache where the file system allows it.
    o.set_use_direct_io_for_flush_and_compaction(direct_io_works(dir));
    o
}

/// Whether files in `dir` can be opened with O_DIRECT (tmpfs before Linux 6.6 refuses, and
/// RocksDB would then fail at its first flush).
fn direct_io_works(dir: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    let probe = dir.join(".kyso-direct-io-probe");
    let ok = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(&probe)
        .is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

fn cf_options(name: &str) -> Options {
    let mut o = Options::default();
    if name == CF_CONTENT {
        // Documents are large values: keep them in blob files (integrated BlobDB).
        o.set_enable_blob_files(true);
        o.set_min_blob_size(4096);
        o.set_write_buffer_size(64 << 20);
        // A put first asks whether the document is already stored; the filter answers "no"
        // for new documents without reading table files.
        let mut t = rocksdb::BlockBasedOptions::default();
        t.set_bloom_filter(10.0, false);
        o.set_block_based_table_factory(&t);
    }
    o
}

struct DbNodes<'a>(&'a DB);

impl Nodes for DbNodes<'_> {
    fn node(&self, level: u8, index: u64) -> std::result::Result<Hash, String> {
        let cf = self.0.cf_handle(CF_NODES).ok_or("no nodes column family")?;
        let v = self
            .0
            .get_cf(cf, node_key(level, index))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("tree node {level}/{index} is missing"))?;
        v.as_slice()
            .try_into()
            .map_err(|_| format!("tree node {level}/{index} is not 32 bytes"))
    }
}

fn read_u64(db: &DB, key: &[u8]) -> Result<u64> {
    let cf = db
        .cf_handle(CF_META)
        .ok_or_else(|| ArchiveError::Corrupt("no meta column family".into()))?;
    Ok(match db.get_cf(cf, key).map_err(db_err)? {
        Some(v) => u64::from_be_bytes(
            v.as_slice()
                .try_into()
                .map_err(|_| ArchiveError::Corrupt("meta value is not 8 bytes".into()))?,
        ),
        None => 0,
    })
}

impl Archive {
    /// Open (or create) the archive in `dir`.
    pub fn open(dir: &Path) -> Result<Archive> {
        let cfs = CFS
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(*n, cf_options(n)));
        if !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ArchiveError::Db(format!("cannot create {}: {e}", dir.display())))?;
        }
        let db = DB::open_cf_descriptors(&options(dir), dir, cfs).map_err(|e| {
            let m = e.to_string();
            if m.contains("lock") || m.contains("Resource temporarily unavailable") {
                ArchiveError::Locked {
                    path: dir.display().to_string(),
                }
            } else {
                ArchiveError::Db(m)
            }
        })?;
        let db = Arc::new(db);
        let size = read_u64(&db, META_SIZE)?;
        let next_id = read_u64(&db, META_NEXT_ID)?;
        let frontier = Frontier::load(&DbNodes(&db), size).map_err(ArchiveError::Corrupt)?;
        let (tx, rx) = bounded::<(Job, Reply)>(4096);
        let (sync_tx, sync_rx) = bounded::<Written>(64);
        let durable = Arc::new(AtomicU64::new(size));
        let failed = Arc::new(AtomicBool::new(false));
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| ArchiveError::Db(e.to_string()))
        };
        let (wdb, wfailed) = (db.clone(), failed.clone());
        let writer = spawn(
            "kyso-archive-writer",
            Box::new(move || writer_loop(wdb, rx, sync_tx, wfailed, Writer { frontier, next_id })),
        )?;
        let syncs = Arc::new(AtomicU64::new(0));
        let (sdb, sdurable, ssyncs, sfailed) =
            (db.clone(), durable.clone(), syncs.clone(), failed.clone());
        let syncer = spawn(
            "kyso-archive-syncer",
            Box::new(move || syncer_loop(sdb, sync_rx, sdurable, ssyncs, sfailed)),
        )?;
        Ok(Archive {
            db,
            path: dir.to_path_buf(),
            jobs: Some(tx),
            threads: vec![writer, syncer],
            durable,
            syncs,
            failed,
            sign_lock: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| ArchiveError::Corrupt(format!("no {name} column family")))
    }

    fn submit(&self, job: Job) -> Result<(u64, u64)> {
        let (tx, rx) = bounded(1);
        self.jobs
            .as_ref()
            .ok_or_else(|| ArchiveError::Db("the archive is closing".into()))?
            .send((job, tx))
            .map_err(|_| ArchiveError::Db("the archive writer stopped".into()))?;
        rx.recv()
            .map_err(|_| ArchiveError::Db("the archive writer stopped".into()))?
    }

    /// Store a document. Returns (record id, log index) once it is durable.
    pub fn put(&self, rec: NewRecord, content: Vec<u8>) -> Result<(u64, u64)> {
        let code: DocumentCode = rec.code.parse().map_err(ArchiveError::Input)?;
        if let Some(d) = &rec.issue_date {
            let ok = d.len() == 10
                && d.as_bytes()[4] == b'-'
                && d.as_bytes()[7] == b'-'
                && d.bytes()
                    .enumerate()
                    .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
            if !ok {
                return Err(ArchiveError::Input(format!(
                    "issue date {d:?} is not YYYY-MM-DD"
                )));
            }
        }
        // The two digests of every document are the largest part of a put's CPU. SHA-256: ring
        // (SHA-NI where the CPU has it). SHA-512: OpenSSL's libcrypto, 1.4-1.8x ring's here:
        // ring takes its AVX path on Intel CPUs only and its portable code elsewhere
        // (docs/benchmarks.md). Both are checked against RustCrypto in the tests below.
        let sha256: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, &content)
            .as_ref()
            .try_into()
            .expect("32 bytes");
        let sha512 = openssl::sha::sha512(&content).to_vec();
        self.submit(Job::Ingest {
            rec: Box::new(rec),
            content: Arc::new(content),
            sha256,
            sha512,
            code,
        })
    }

    /// Log an event (read, export, signature, configuration). Returns its log index.
    pub fn log(&self, e: Event) -> Result<u64> {
        self.submit(Job::Event(e)).map(|(_, leaf)| leaf)
    }

    pub fn record(&self, id: u64) -> Result<Record> {
        let v = self
            .db
            .get_cf(self.cf(CF_RECORDS)?, be(id))
            .map_err(db_err)?
            .ok_or(ArchiveError::NoRecord(id))?;
        serde_json::from_slice(&v).map_err(|e| ArchiveError::Corrupt(format!("record {id}: {e}")))
    }

    pub fn status(&self, id: u64) -> Result<Status> {
        self.record(id)?;
        Ok(
            match self
                .db
                .get_cf(self.cf(CF_STATUS)?, be(id))
                .map_err(db_err)?
            {
                Some(v) => serde_json::from_slice(&v)
                    .map_err(|e| ArchiveError::Corrupt(format!("status {id}: {e}")))?,
                None => Status::Valid,
            },
        )
    }

    /// The document's bytes. Citizens' documents are personal data: the read is logged first
    /// (who and why), durably, and only then is the content returned.
    pub fn read_content(&self, id: u64, user: &str, reason: &str) -> Result<Vec<u8>> {
        let r = self.record(id)?;
        if reason.trim().is_empty() {
            return Err(ArchiveError::Input(
                "a reason for reading the document is required (it is logged)".into(),
            ));
        }
        self.log(Event::Read {
            record: id,
            user: user.into(),
            reason: reason.into(),
            time: now_rfc3339(),
        })?;
        let sha =
            hex::decode(&r.content_sha256).map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        let v = self
            .db
            .get_cf(self.cf(CF_CONTENT)?, &sha)
            .map_err(db_err)?
            .ok_or_else(|| ArchiveError::Corrupt(format!("content of record {id} is missing")))?;
        if Sha256::digest(&v)[..] != sha[..] {
            return Err(ArchiveError::Corrupt(format!(
                "content of record {id} does not match its SHA-256"
            )));
        }
        Ok(v)
    }

    /// Change a record's validity: a new event; the record itself never changes.
    pub fn set_status(&self, id: u64, status: Status, user: &str) -> Result<u64> {
        let current = self.status(id)?;
        if let Status::Revoked { .. } = current {
            return Err(ArchiveError::Status {
                id,
                status: "revoked".into(),
                what: "a revoked record's status cannot change".into(),
            });
        }
        if let Status::SupersededBy { record } = &status {
            self.record(*record)?;
            if *record == id {
                return Err(ArchiveError::Input(
                    "a record cannot supersede itself".into(),
                ));
            }
        }
        if let Status::Revoked { reason } = &status {
            if reason.trim().is_empty() {
                return Err(ArchiveError::Input("a revocation needs a reason".into()));
            }
        }
        self.log(Event::Status {
            record: id,
            status,
            user: user.into(),
            time: now_rfc3339(),
        })
    }

    fn scan_index(&self, prefix: &[u8]) -> Result<Vec<u64>> {
        let cf = self.cf(CF_INDEX)?;
        let mut out = Vec::new();
        for item in self.db.prefix_iterator_cf(cf, prefix) {
            let (k, _) = item.map_err(db_err)?;
            if !k.starts_with(prefix) {
                break;
            }
            if k.len() >= 8 {
                out.push(u64::from_be_bytes(
                    k[k.len() - 8..].try_into().expect("8 bytes"),
                ));
            }
        }
        Ok(out)
    }

    /// All versions of a document code, the current valid one first, then newest first.
    pub fn find_code(&self, code: &str) -> Result<Vec<Record>> {
        let code: DocumentCode = code.parse().map_err(ArchiveError::Input)?;
        let mut key = b"c".to_vec();
        key.extend_from_slice(code.to_string().as_bytes());
        key.push(0);
        let mut recs: Vec<(Record, Status)> = Vec::new();
        for id in self.scan_index(&key)? {
            recs.push((self.record(id)?, self.status(id)?));
        }
        recs.sort_by(|a, b| {
            (a.1 != Status::Valid)
                .cmp(&(b.1 != Status::Valid))
                .then(b.0.id.cmp(&a.0.id))
        });
        Ok(recs.into_iter().map(|(r, _)| r).collect())
    }

    /// Every record of a subject (personal id or tax code), newest first.
    pub fn find_subject(&self, subject: &str) -> Result<Vec<Record>> {
        crate::code::parse_subject(subject).map_err(ArchiveError::Input)?;
        let mut key = b"s".to_vec();
        key.extend_from_slice(subject.as_bytes());
        key.push(0);
        let mut ids = self.scan_index(&key)?;
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.into_iter().map(|id| self.record(id)).collect()
    }

    /// Records of an agency issued between two dates (YYYY-MM-DD, inclusive).
    pub fn find_agency(&self, agency: &str, from: &str, to: &str) -> Result<Vec<Record>> {
        let mut key = b"a".to_vec();
        key.extend_from_slice(agency.as_bytes());
        key.push(0);
        let ids = self.scan_index(&key)?;
        let mut out = Vec::new();
        for id in ids {
            let r = self.record(id)?;
            let d = r.issue_date.clone().unwrap_or_default();
            if d.as_str() >= from && d.as_str() <= to {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// How many WAL syncs acknowledged puts and events since the archive was opened (the
    /// benchmark reports entries per sync).
    pub fn wal_syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// The durable tree size: entries written but not yet synced are not counted.
    pub fn size(&self) -> Result<u64> {
        Ok(self.durable.load(Ordering::Acquire))
    }

    pub fn root(&self, size: u64) -> Result<Hash> {
        merkle::mth(&DbNodes(&self.db), 0, size).map_err(ArchiveError::Corrupt)
    }

    pub fn leaf(&self, index: u64) -> Result<Hash> {
        DbNodes(&self.db)
            .node(0, index)
            .map_err(ArchiveError::Corrupt)
    }

    pub fn event_bytes(&self, index: u64) -> Result<Vec<u8>> {
        self.db
            .get_cf(self.cf(CF_EVENTS)?, be(index))
            .map_err(db_err)?
            .ok_or_else(|| ArchiveError::Corrupt(format!("event {index} is missing")))
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        merkle::inclusion_proof(&DbNodes(&self.db), index, size).map_err(ArchiveError::Input)
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        merkle::consistency_proof(&DbNodes(&self.db), old, new).map_err(ArchiveError::Input)
    }

    /// Sign a checkpoint over the durable log. Never over entries that are not durable (the
    /// size read is the synced one), never two inconsistent ones: a size below the last signed
    /// is refused, and the last signed size is kept across restarts.
    pub fn sign_checkpoint(
        &self,
        origin: &str,
        key_name: &str,
        signer: &dyn kyso_hsm::SignDigest,
    ) -> Result<String> {
        let _g = self.sign_lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.failed.load(Ordering::Acquire) {
            return Err(ArchiveError::Db(FAILED.into()));
        }
        let size = self.size()?;
        let last = read_u64(&self.db, META_SIGNED)?;
        if size < last {
            return Err(ArchiveError::Checkpoint(format!("the log has {size} entries but a checkpoint for {last} was signed: the log went backwards")));
        }
        // The tree must still extend the last signed one: same root at that size.
        if last > 0 {
            let signed_root = self
                .db
                .get_cf(self.cf(CF_META)?, META_SIGNED_ROOT)
                .map_err(db_err)?
                .ok_or_else(|| {
                    ArchiveError::Checkpoint("the last signed root is missing".into())
                })?;
            let now_root = self.root(last).map_err(|e| {
                ArchiveError::Checkpoint(format!(
                    "the log no longer holds the last signed tree: {e}"
                ))
            })?;
            if signed_root.as_slice() != now_root.as_slice() {
                return Err(ArchiveError::Checkpoint(format!(
                    "the log's first {last} entries no longer match the last signed checkpoint: refusing to sign an inconsistent one"
                )));
            }
        }
        let root = self.root(size)?;
        let note = checkpoint::sign(&checkpoint::body(origin, size, &root), key_name, signer)
            .map_err(ArchiveError::Checkpoint)?;
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(CF_CHECKPOINTS)?, be(size), note.as_bytes());
        b.put_cf(self.cf(CF_META)?, META_SIGNED, be(size));
        b.put_cf(self.cf(CF_META)?, META_SIGNED_ROOT, root);
        let spki = der::Encode::to_der(signer.public_key_info())
            .map_err(|e| ArchiveError::Checkpoint(e.to_string()))?;
        b.put_cf(
            self.cf(CF_META)?,
            format!("checkpoint_key:{key_name}").as_bytes(),
            spki,
        );
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(b, &wo).map_err(db_err)?;
        Ok(note)
    }

    /// Publish checkpoints in the background: every `every`, if the log grew since the last
    /// signed checkpoint, sign one (c2sp.org/tlog-checkpoint asks for at least one a second
    /// while there are new entries). Stops when the returned handle is dropped.
    pub fn start_checkpointer(
        self: &Arc<Self>,
        signer: Arc<dyn kyso_hsm::SignDigest>,
        origin: String,
        key_name: String,
        every: std::time::Duration,
    ) -> Checkpointer {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (a, s) = (self.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(every);
                let grew = match (a.size(), read_u64(&a.db, META_SIGNED)) {
                    (Ok(size), Ok(last)) => size > last,
                    _ => false,
                };
                if grew {
                    if let Err(e) = a.sign_checkpoint(&origin, &key_name, signer.as_ref()) {
                        eprintln!("kyso: checkpoint: {e}");
                    }
                }
            }
        });
        Checkpointer {
            stop,
            thread: Some(thread),
        }
    }

    /// The stored checkpoints, oldest first: (size, note).
    pub fn checkpoints(&self) -> Result<Vec<(u64, String)>> {
        let cf = self.cf(CF_CHECKPOINTS)?;
        let mut out = Vec::new();
        for item in self.db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
            let (k, v) = item.map_err(db_err)?;
            let size = u64::from_be_bytes(
                k.as_ref()
                    .try_into()
                    .map_err(|_| ArchiveError::Corrupt("checkpoint key".into()))?,
            );
            out.push((size, String::from_utf8_lossy(&v).into_owned()));
        }
        Ok(out)
    }

    /// The public key (DER SPKI) that signed checkpoints under `key_name`.
    pub fn checkpoint_key(&self, key_name: &str) -> Result<Option<Vec<u8>>> {
        self.db
            .get_cf(
                self.cf(CF_META)?,
                format!("checkpoint_key:{key_name}").as_bytes(),
            )
            .map_err(db_err)
    }

    /// A consistent copy that opens on its own (RocksDB checkpoint: hard links where possible).
    pub fn backup(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(ArchiveError::Input(format!(
                "{} exists; give a new directory",
                to.display()
            )));
        }
        rocksdb::checkpoint::Checkpoint::new(&self.db)
            .and_then(|c| c.create_checkpoint(to))
            .map_err(db_err)
    }
}

/// A batch the writer applied (WAL buffer and memtables) that waits for its WAL sync.
struct Written {
    replies: Vec<(Reply, Result<(u64, u64)>)>,
    size: u64,
}

/// Takes jobs in arrival order, assigns record ids and log indexes, and applies one write
/// batch per group of jobs without waiting for the disk: the syncer makes them durable and
/// answers. Building and applying batch N+1 overlaps the fsync of batch N, and the WAL keeps
/// the batches in order, so a sync covers every batch before it.
fn writer_loop(
    db: Arc<DB>,
    rx: Receiver<(Job, Reply)>,
    synced: Sender<Written>,
    failed: Arc<AtomicBool>,
    mut w: Writer,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        if failed.load(Ordering::Acquire) {
            for (_, reply) in jobs {
                let _ = reply.send(Err(ArchiveError::Db(FAILED.into())));
            }
            continue;
        }
        let saved = (w.frontier.clone(), w.next_id);
        match write_batch(&db, &mut w, &jobs) {
            Ok(results) => {
                let replies = jobs.into_iter().map(|(_, r)| r).zip(results).collect();
                let size = w.frontier.size;
                if synced.send(Written { replies, size }).is_err() {
                    return;
                }
            }
            Err(e) => {
                // RocksDB applied nothing of the batch to its memtables, but some of its bytes
                // may have reached the WAL: reusing its ids and leaf indexes could leave a
                // mixture after a restart, so no later batch is written until a reopen
                // recovers what is on disk.
                failed.store(true, Ordering::Release);
                w.frontier = saved.0;
                w.next_id = saved.1;
                let msg = e.to_string();
                for (_, reply) in jobs {
                    let _ = reply.send(Err(ArchiveError::Db(msg.clone())));
                }
            }
        }
    }
}

const FAILED: &str = "an earlier write did not reach the disk; the archive refuses writes \
                      until it is reopened (acknowledged records are safe)";

/// Syncs the WAL once for every batch written since the last sync, then advances the durable
/// size and acknowledges. A failed sync fails its batches and stops all later writes: their
/// entries may be visible in memory, but were never acknowledged.
fn syncer_loop(
    db: Arc<DB>,
    rx: Receiver<Written>,
    durable: Arc<AtomicU64>,
    syncs: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while let Ok(w) = rx.try_recv() {
            group.push(w);
        }
        let result = if failed.load(Ordering::Acquire) {
            Err(FAILED.to_string())
        } else {
            db.flush_wal(true).map_err(|e| e.to_string())
        };
        match result {
            Ok(()) => {
                syncs.fetch_add(1, Ordering::Relaxed);
                let size = group.iter().map(|w| w.size).max().unwrap_or(0);
                durable.fetch_max(size, Ordering::AcqRel);
                for w in group {
                    for (reply, r) in w.replies {
                        let _ = reply.send(r);
                    }
                }
            }
            Err(msg) => {
                failed.store(true, Ordering::Release);
                for w in group {
                    for (reply, _) in w.replies {
                        let _ = reply.send(Err(ArchiveError::Db(msg.clone())));
                    }
                }
            }
        }
    }
}

/// Build and apply one write batch (not yet synced); per job (record id, leaf index) or a
/// validation error.
fn write_batch(db: &DB, w: &mut Writer, jobs: &[(Job, Reply)]) -> Result<Vec<Result<(u64, u64)>>> {
    let cf = |n: &str| {
        db.cf_handle(n)
            .ok_or_else(|| ArchiveError::Corrupt(format!("no {n} column family")))
    };
    let mut b = WriteBatch::default();
    let mut out = Vec::with_capacity(jobs.len());
    let mut new_content: std::collections::HashSet<[u8; 32]> = Default::default();
    // Status changes decided earlier in the same batch.
    let mut pending_status: BTreeMap<u64, Status> = BTreeMap::new();
    for (job, _) in jobs {
        let time = now_rfc3339();
        let (id, event) = match job {
            Job::Ingest {
                rec,
                content,
                sha256,
                sha512,
                code,
            } => {
                let id = w.next_id;
                let leaf = w.frontier.size;
                let record = Record {
                    id,
                    code: code.to_string(),
                    subject: code.subject.as_str().to_string(),
                    doc_type: code.doc_type.clone(),
                    title: rec.title.clone(),
                    agency: rec.agency.clone(),
                    procedure: rec.procedure.clone(),
                    dossier: rec.dossier.clone(),
                    issue_date: rec.issue_date.clone(),
                    content_sha256: hex::encode(sha256),
                    content_sha512: hex::encode(sha512),
                    media_type: rec.media_type.clone(),
                    size: content.len() as u64,
                    signatures: rec.signatures.clone(),
                    report: rec.report.clone(),
                    ingest_user: rec.user.clone(),
                    ingest_time: time.clone(),
                    leaf,
                    meta: rec.meta.clone(),
                };
                let json =
                    serde_json::to_vec(&record).map_err(|e| ArchiveError::Db(e.to_string()))?;
                if !new_content.contains(sha256)
                    && db
                        .get_pinned_cf(cf(CF_CONTENT)?, sha256)
                        .map_err(db_err)?
                        .is_none()
                {
                    b.put_cf(cf(CF_CONTENT)?, sha256, content.as_slice());
                    new_content.insert(*sha256);
                }
                b.put_cf(cf(CF_RECORDS)?, be(id), &json);
                let mut k = b"c".to_vec();
                k.extend_from_slice(record.code.as_bytes());
                k.push(0);
                k.extend_from_slice(&be(id));
                b.put_cf(cf(CF_INDEX)?, &k, []);
                let mut k = b"s".to_vec();
                k.extend_from_slice(record.subject.as_bytes());
                k.push(0);
                k.extend_from_slice(&be(id));
                b.put_cf(cf(CF_INDEX)?, &k, []);
                if let Some(a) = &record.agency {
                    let mut k = b"a".to_vec();
                    k.extend_from_slice(a.as_bytes());
                    k.push(0);
                    k.extend_from_slice(record.issue_date.clone().unwrap_or_default().as_bytes());
                    k.extend_from_slice(&be(id));
                    b.put_cf(cf(CF_INDEX)?, &k, []);
                }
                w.next_id += 1;
                let event = Event::Ingest {
                    record: id,
                    code: record.code.clone(),
                    content_sha256: record.content_sha256.clone(),
                    record_sha256: hex::encode(Sha256::digest(&json)),
                    user: rec.user.clone(),
                    time,
                };
                (id, event)
            }
            Job::Event(e) => {
                if let Event::Status { record, status, .. } = e {
                    if let Some(Status::Revoked { .. }) = pending_status.get(record) {
                        out.push(Err(ArchiveError::Status {
                            id: *record,
                            status: "revoked".into(),
                            what: "a revoked record's status cannot change".into(),
                        }));
                        continue;
                    }
                    pending_status.insert(*record, status.clone());
                    b.put_cf(
                        cf(CF_STATUS)?,
                        be(*record),
                        serde_json::to_vec(status).map_err(|e| ArchiveError::Db(e.to_string()))?,
                    );
                }
                let rec = match e {
                    Event::Status { record, .. } | Event::Read { record, .. } => *record,
                    _ => u64::MAX,
                };
                (rec, e.clone())
            }
        };
        let bytes = serde_json::to_vec(&event).map_err(|e| ArchiveError::Db(e.to_string()))?;
        let index = w.frontier.size;
        b.put_cf(cf(CF_EVENTS)?, be(index), &bytes);
        for (level, idx, h) in w.frontier.push(merkle::leaf_hash(&bytes)) {
            b.put_cf(cf(CF_NODES)?, node_key(level, idx), h);
        }
        out.push(Ok((id, index)));
    }
    b.put_cf(cf(CF_META)?, META_SIZE, be(w.frontier.size));
    b.put_cf(cf(CF_META)?, META_NEXT_ID, be(w.next_id));
    db.write(b).map_err(db_err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> NewRecord {
        NewRecord {
            code: "001099012345.TEST".into(),
            media_type: "application/pdf".into(),
            user: "test".into(),
            ..Default::default()
        }
    }

    #[test]
    fn direct_io_is_probed_and_flushes_work_on_tmpfs_too() {
        // The source tree is on a disk file system (ext4 here and in CI); the probe leaves
        // nothing behind.
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(direct_io_works(here));
        assert!(!here.join(".kyso-direct-io-probe").exists());
        // tmpfs takes O_DIRECT since Linux 6.6 and refuses it before: either way an archive
        // there flushes (a backup flushes every memtable to table and blob files) and reads
        // its documents back.
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let shm_is_tmpfs = mounts
            .lines()
            .any(|l| l.split(' ').nth(1) == Some("/dev/shm") && l.contains(" tmpfs "));
        if shm_is_tmpfs {
            let dir = tempfile::tempdir_in("/dev/shm").unwrap();
            let ar = Archive::open(&dir.path().join("db")).unwrap();
            let (id, _) = ar.put(rec(), vec![7u8; 10_000]).unwrap();
            ar.backup(&dir.path().join("backup")).unwrap();
            drop(ar);
            let ar = Archive::open(&dir.path().join("backup")).unwrap();
            assert_eq!(
                ar.read_content(id, "test", "check").unwrap(),
                vec![7u8; 10_000]
            );
        }
    }

    #[test]
    fn stored_digests_match_rustcrypto() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        for len in [0usize, 1, 111, 112, 128, 4096, 50 * 1024 + 7] {
            let doc: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let (id, _) = ar.put(rec(), doc.clone()).unwrap();
            let r = ar.record(id).unwrap();
            assert_eq!(r.content_sha256, hex::encode(Sha256::digest(&doc)), "{len}");
            assert_eq!(
                r.content_sha512,
                hex::encode(sha2::Sha512::digest(&doc)),
                "{len}"
            );
        }
    }

    #[test]
    fn concurrent_puts_are_all_durable_in_order_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Arc::new(Archive::open(dir.path()).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let ar = ar.clone();
                std::thread::spawn(move || {
                    (0..50)
                        .map(|i| {
                            let doc = format!("thread {t} document {i}").into_bytes();
                            let (id, leaf) = ar.put(rec(), doc.clone()).unwrap();
                            // Acknowledged means durable: the durable size covers the entry.
                            assert!(ar.size().unwrap() > leaf);
                            (id, leaf, doc)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let acked: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(ar.size().unwrap(), 400);
        drop(ar);
        let ar = Archive::open(dir.path()).unwrap();
        assert_eq!(ar.size().unwrap(), 400);
        let mut leaves: Vec<u64> = acked.iter().map(|a| a.1).collect();
        leaves.sort_unstable();
        assert_eq!(leaves, (0..400).collect::<Vec<_>>());
        for (id, leaf, doc) in acked {
            let r = ar.record(id).unwrap();
            assert_eq!(r.leaf, leaf);
            assert_eq!(ar.read_content(id, "test", "check").unwrap(), doc);
        }
    }
}
