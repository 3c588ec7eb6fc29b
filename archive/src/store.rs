//! The open archive: the RocksDB database and the writer pipeline in front of it.

use crate::code::DocumentCode;
use crate::error::{db_err, open_err, ArchiveError, Result};
use crate::merkle::Frontier;
use crate::model::{
    check_stated, check_text, check_user, stated_form, Activity, Event, NewRecord, Status,
    PURPOSE_MAX, REASON_MAX,
};
use crate::schema::*;
use crate::writer::{
    syncer_loop, writer_loop, Hashed, HashedEvidence, Job, Outcome, Reply, Writer, Written,
};
use crossbeam_channel::{bounded, Sender};
use rocksdb::{ColumnFamilyDescriptor, DB};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use crate::checkpointer::{CheckpointSigner, Checkpointer, CHECKPOINT_INTERVAL};
pub use crate::schema::CFS;

/// What an appliance configures about its archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest document (with its detached signature) the archive takes; larger ones are
    /// refused with [`ArchiveError::TooLarge`] before anything is stored.
    pub max_document_bytes: u64,
    /// A write batch stops taking documents at this many bytes (a single document larger than
    /// this is a batch of its own): 512 documents of 20 MB never make one 10 GB batch.
    pub max_batch_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_document_bytes: 64 << 20,
            max_batch_bytes: 64 << 20,
        }
    }
}

/// The open archive.
pub struct Archive {
    pub(crate) db: Arc<DB>,
    path: PathBuf,
    config: Config,
    jobs: Option<Sender<(Job, Reply)>>,
    /// The writer and the syncer threads.
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The tree size known to be on disk (the syncer advances it after each WAL sync).
    pub(crate) durable: Arc<AtomicU64>,
    /// The tree size the writer has handed to the database, synced or not ([`Writer::applied`]).
    applied: Arc<AtomicU64>,
    /// WAL syncs made since the archive was opened.
    pub(crate) syncs: Arc<AtomicU64>,
    /// The largest write batch, in bytes.
    largest_batch: Arc<AtomicU64>,
    /// The time of the log's last entry, in milliseconds since 1970 (the writer's).
    log_time_ms: Arc<AtomicU64>,
    /// Set when a write or a sync failed: no more writes until the archive is reopened.
    pub(crate) failed: Arc<AtomicBool>,
    /// Serializes checkpoint signing and backups.
    pub(crate) sign_lock: Mutex<()>,
    /// Content lookups logged lately: (user, SHA-256, the records named) → when. The same
    /// lookup with the same answer within [`crate::lookup::REPEAT_WINDOW`] is logged once.
    /// Each answer is remembered on its own: with only the last one per user and document,
    /// two lookups of other answers (narrowed by a code, and not) taken in turn logged every
    /// request (an attacker's reading, 2026-12-05).
    pub(crate) recent_lookups: Mutex<std::collections::HashMap<RecentLookup, std::time::Instant>>,
    /// The longest prefix of the log the checkpoint signer found in order: its size, root and
    /// latest time (`Archive::check_added`).
    pub(crate) ordered: Mutex<Option<(u64, crate::merkle::Hash, Option<crate::model::Latest>)>>,
}

/// A content lookup already in the log: who, which document, and the SHA-256 of the record
/// ids answered (up to a thousand of them: 32 bytes kept, not 8 KB).
pub(crate) type RecentLookup = (String, String, [u8; 32]);

impl Drop for Archive {
    fn drop(&mut self) {
        self.jobs.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Archive {
    /// Open (or create) the archive in `dir` with the default [`Config`].
    pub fn open(dir: &Path) -> Result<Archive> {
        Archive::open_with(dir, Config::default())
    }

    /// Open (or create) the archive in `dir`. Refuses to open a database whose counters do not
    /// match its last keys (a record, event or node beyond them would be overwritten).
    pub fn open_with(dir: &Path, config: Config) -> Result<Archive> {
        Archive::open_opts(dir, config, false)
    }

    /// Open the archive in `dir`, which must hold one: a mistyped `--db` is an error, not a
    /// new empty archive created there that then finds nothing (a clerk told "no record").
    pub fn open_existing(dir: &Path) -> Result<Archive> {
        Archive::require(dir)?;
        Archive::open(dir)
    }

    /// [`Archive::open_for_export`] of an archive that must exist (as [`Archive::open_existing`]).
    pub fn open_existing_for_export(dir: &Path) -> Result<Archive> {
        Archive::require(dir)?;
        Archive::open_for_export(dir)
    }

    /// Does `dir` hold an archive: a RocksDB database (its CURRENT file)?
    pub fn holds(dir: &Path) -> bool {
        dir.join("CURRENT").is_file()
    }

    fn require(dir: &Path) -> Result<()> {
        if Archive::holds(dir) {
            Ok(())
        } else {
            Err(ArchiveError::NoArchive(dir.display().to_string()))
        }
    }

    /// Open the archive for reading many records out (`kyso export`): memory bounded whatever
    /// the archive's size — memtables capped at 16 MiB in all (flushed when a replayed WAL
    /// would exceed it) and one 8 MiB block cache shared by every column family, instead of
    /// 64 MiB of write buffers and an 8 MiB cache per column family.
    pub fn open_for_export(dir: &Path) -> Result<Archive> {
        Archive::open_opts(dir, Config::default(), true)
    }

    fn open_opts(dir: &Path, config: Config, lean: bool) -> Result<Archive> {
        let cache = if lean {
            Some(rocksdb::Cache::new_lru_cache(8 << 20).map_err(db_err)?)
        } else {
            None
        };
        let cfs = CFS.iter().map(|n| {
            let mut o = cf_options(n);
            if let Some(cache) = &cache {
                let mut t = rocksdb::BlockBasedOptions::default();
                t.set_block_cache(cache);
                if *n == CF_CONTENT || *n == CF_REQUESTS {
                    t.set_bloom_filter(10.0, false);
                }
                o.set_block_based_table_factory(&t);
                o.set_write_buffer_size(4 << 20);
                // An export reads: no compaction in its process (the service compacts when
                // it next runs), so that compacting a burst of ingests' level-0 files takes
                // neither the workers' CPU nor memory for its buffers. With compactions off
                // RocksDB does not stall writes on the level-0 file count
                // (column_family.cc), so the export's few events are never held up by it.
                o.set_disable_auto_compactions(true);
            }
            ColumnFamilyDescriptor::new(*n, o)
        });
        if !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| crate::error::file_err("cannot create", dir.display(), e))?;
        }
        crate::backup::plain_files(dir)?;
        let mut opts = options(dir);
        if lean {
            opts.set_db_write_buffer_size(16 << 20);
            // An export reads the records, their events and their documents' blob files in
            // the order they were written: let the kernel read ahead (RocksDB advises
            // POSIX_FADV_RANDOM by default, and each document is then a synchronous read).
            opts.set_advise_random_on_open(false);
        }
        let db = DB::open_cf_descriptors(&opts, dir, cfs).map_err(|e| open_err(dir, e))?;
        if lean {
            compact_piled_up_level0(&db)?;
        }
        let db = Arc::new(db);
        let size = read_u64(&db, META_SIZE)?;
        let next_id = read_u64(&db, META_NEXT_ID)?;
        check_counters(&db, size, next_id)?;
        crate::stats::rebuild_if_absent(&db, size)?;
        let nodes = DbNodes::new(&db);
        let frontier = nodes.result(Frontier::load(&nodes, size), ArchiveError::Inconsistent)?;
        let (tx, rx) = bounded::<(Job, Reply)>(4096);
        let (sync_tx, sync_rx) = bounded::<Written>(64);
        let durable = Arc::new(AtomicU64::new(size));
        let applied = Arc::new(AtomicU64::new(size));
        let failed = Arc::new(AtomicBool::new(false));
        let largest_batch = Arc::new(AtomicU64::new(0));
        let last_time = last_entry_time(&db, size)?;
        let log_time_ms = Arc::new(AtomicU64::new(crate::writer::unix_ms(last_time)));
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| ArchiveError::Db(e.to_string()))
        };
        let (wdb, wfailed) = (db.clone(), failed.clone());
        let w = Writer {
            frontier,
            next_id,
            max_batch_bytes: config.max_batch_bytes,
            largest_batch: largest_batch.clone(),
            last_time,
            log_time_ms: log_time_ms.clone(),
            clock_warned: None,
            applied: applied.clone(),
        };
        let writer = spawn(
            "kyso-archive-writer",
            Box::new(move || writer_loop(wdb, rx, sync_tx, wfailed, w)),
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
            config,
            jobs: Some(tx),
            threads: vec![writer, syncer],
            durable,
            applied,
            syncs,
            largest_batch,
            log_time_ms,
            failed,
            sign_lock: Mutex::new(()),
            recent_lookups: Mutex::new(Default::default()),
            ordered: Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily> {
        cf(&self.db, name)
    }

    /// Read every key and value of every column family once, their checksums checked, and
    /// keep none in the cache: a restore finds a damaged backup before it is put in place (a
    /// flipped byte in a blob file was found only by the next audit, whose advice was to
    /// restore from a backup; helper 162).
    pub(crate) fn read_everything(&self) -> Result<()> {
        for name in crate::schema::CFS {
            let mut o = rocksdb::ReadOptions::default();
            o.set_verify_checksums(true);
            o.fill_cache(false);
            let mut it = self.db.raw_iterator_cf_opt(self.cf(name)?, o);
            it.seek_to_first();
            while it.valid() {
                let _ = (it.key(), it.value());
                it.next();
            }
            it.status().map_err(db_err)?;
        }
        Ok(())
    }

    /// Returns once log entry `leaf` is durable: at once when it is, else after the writer's
    /// next WAL sync (a barrier job, which writes no event). What a reader found in the
    /// database may have been applied by the writer and not yet synced: a retried ingest found
    /// its first try's record and answered "stored" before that record was on disk, and a
    /// crash then lost it (helper 250).
    pub(crate) fn durable_through(&self, leaf: u64) -> Result<()> {
        if self.size() > leaf {
            return Ok(());
        }
        self.submit(Job::Barrier)?;
        if self.size() > leaf {
            Ok(())
        } else {
            Err(ArchiveError::Inconsistent(format!(
                "log entry {leaf} was read but is not durable after a sync (the log has {} durable entries)",
                self.size()
            )))
        }
    }

    /// Returns once whatever a read made before this call may have seen is durable: at once
    /// when the writer has nothing unsynced, else after its next sync. A lookup that logs
    /// nothing (a repeat) showed a revocation not yet on disk, which a crash then undid
    /// (helper 250).
    pub(crate) fn reads_durable(&self) -> Result<()> {
        let applied = self.applied.load(Ordering::SeqCst);
        if applied > self.size() {
            self.durable_through(applied - 1)
        } else {
            Ok(())
        }
    }

    pub(crate) fn submit(&self, job: Job) -> Result<Outcome> {
        let (tx, rx) = bounded(1);
        self.jobs
            .as_ref()
            .ok_or_else(|| ArchiveError::Db("the archive is closing".into()))?
            .send((job, tx))
            .map_err(|_| ArchiveError::Db("the archive writer stopped".into()))?;
        rx.recv()
            .map_err(|_| ArchiveError::Db("the archive writer stopped".into()))?
    }

    /// Store a document the ingest policy accepted (`crate::ingest` is the only caller):
    /// returns once it is durable.
    pub(crate) fn put(
        &self,
        mut rec: NewRecord,
        code: DocumentCode,
        content: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<Outcome> {
        let size = content.len() as u64 + signature.as_ref().map_or(0, |s| s.len() as u64);
        if size > self.config.max_document_bytes {
            return Err(ArchiveError::TooLarge {
                size,
                limit: self.config.max_document_bytes,
            });
        }
        let evidence = rec
            .validation
            .take()
            .map(|g| Box::new(HashedEvidence::new(g)));
        self.submit(Job::Ingest {
            rec: Box::new(rec),
            code,
            content: Box::new(Hashed::new(content)),
            signature: signature.map(|s| Box::new(Hashed::new(s))),
            evidence,
        })
    }

    /// Change a record's validity: a new event; the record itself never changes. The rules
    /// ([`Status::check_change`]) are decided by the writer, in order with every other write.
    /// This is the appliance operator's call (`kyso archive status`): any record. A record is
    /// superseded only by another version of the same document — the same code and agency, not
    /// revoked.
    pub fn set_status(&self, id: u64, status: Status, user: &str) -> Result<u64> {
        self.change_status(id, status, user, None)
    }

    /// [`Archive::set_status`] for `user` acting for `agency` (the service's callers): only a
    /// record of that agency — or, for a record that names no agency, only one `user` archived
    /// ([`ArchiveError::NotYours`] otherwise). Decided by the writer, like the other rules.
    pub fn set_status_for(
        &self,
        id: u64,
        status: Status,
        user: &str,
        agency: Option<&str>,
    ) -> Result<u64> {
        self.change_status(id, status, user, Some(agency.map(str::to_string)))
    }

    fn change_status(
        &self,
        id: u64,
        status: Status,
        user: &str,
        scope: Option<Option<String>>,
    ) -> Result<u64> {
        check_user(user)?;
        let mut status = status;
        // Said by whoever revokes, kept with the record: the archive's rule, not the caller's
        // (the command line had kept "." as a reason; helper 216). An expiry's day is checked
        // by the writer, against the event's own day.
        if let Status::Revoked { reason } = &mut status {
            *reason = stated_form(reason);
            check_stated("revocation reason", reason, REASON_MAX)?;
        }
        self.submit(Job::Status {
            record: id,
            status,
            user: user.into(),
            scope,
        })
        .map(|o| o.leaf)
    }

    /// Log an export, a signature, a configuration change, totals or a read of the log's
    /// entries by `user`. Returns its log index.
    pub fn log(&self, mut activity: Activity, user: &str) -> Result<u64> {
        check_user(user)?;
        // What someone states is kept in one form (trimmed, plain spaces) under one rule.
        match &mut activity {
            Activity::Export {
                reason: Some(r), ..
            } => *r = stated_form(r),
            Activity::LogRead { purpose, .. } => *purpose = stated_form(purpose),
            _ => {}
        }
        match &activity {
            Activity::Export {
                records,
                format,
                reason,
            } => {
                check_text("export format", format, 100)?;
                if let Some(r) = reason {
                    check_stated("export reason", r, PURPOSE_MAX)?;
                }
                if records.len() > 100_000 {
                    return Err(ArchiveError::Input(
                        "an export event names at most 100000 records".into(),
                    ));
                }
            }
            Activity::Signature {
                document_sha256,
                signer,
                format,
            } => {
                check_text("document SHA-256", document_sha256, 64)?;
                check_text("signer", signer, 1000)?;
                check_text("signature format", format, 100)?;
            }
            Activity::Config { change } => check_text("configuration change", change, 2000)?,
            Activity::LogRead {
                start,
                end,
                purpose,
            } => {
                check_stated("purpose", purpose, PURPOSE_MAX)?;
                // Entries the log holds (it only grows: so it will when the event is written).
                if start >= end || *end > self.size() {
                    return Err(ArchiveError::Input(format!(
                        "a log read of entries {start} to {end}: the log holds {} (give start < end)",
                        self.size()
                    )));
                }
            }
            Activity::Totals { totals } => {
                if totals.is_empty() || totals.len() > crate::stats::MAX_TOTALS {
                    return Err(ArchiveError::Input(format!(
                        "{} totals; 1 to {} at a time",
                        totals.len(),
                        crate::stats::MAX_TOTALS
                    )));
                }
                for t in totals {
                    t.check()?;
                }
            }
        }
        self.submit(Job::Activity {
            activity,
            user: user.into(),
        })
        .map(|o| o.leaf)
    }

    /// How many WAL syncs acknowledged writes since the archive was opened (the benchmark
    /// reports entries per sync).
    pub fn wal_syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// The largest write batch since the archive was opened, in bytes.
    pub fn largest_batch_bytes(&self) -> u64 {
        self.largest_batch.load(Ordering::Relaxed)
    }

    /// How far the log's last entry is dated ahead of the clock now (zero when it is not):
    /// past [`crate::model::CLOCK_SLACK`], the clock was set back, or had run ahead when
    /// that entry was written, and new entries keep the log's time until it catches up
    /// (docs/operations.md, "The clock"). For a service's gauge; cheap.
    pub fn log_ahead_of_clock(&self) -> std::time::Duration {
        let log = std::time::UNIX_EPOCH
            + std::time::Duration::from_millis(self.log_time_ms.load(Ordering::Relaxed));
        log.duration_since(std::time::SystemTime::now())
            .unwrap_or_default()
    }

    /// Can the archive take writes and answer reads now: no failed write or sync since it was
    /// opened, and the database answers (for a service's readiness probe; cheap).
    pub fn healthy(&self) -> bool {
        !self.failed.load(Ordering::Acquire)
            && self.jobs.is_some()
            // The writer and the syncer still run: a writer thread that panicked left every
            // write answering 500 while /readyz said the database was fine (helper 191).
            && self.threads.iter().all(|t| !t.is_finished())
            && self
                .db
                .property_int_value("rocksdb.num-running-flushes")
                .is_ok()
    }

    /// The durable tree size: entries written but not yet synced are not counted.
    pub fn size(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }
}

/// The counters in `meta` against the last keys of the column families they number: the
/// When the log's last entry was written (the epoch for an empty log, or one whose time
/// cannot be read: the audit tells that).
fn last_entry_time(db: &DB, size: u64) -> Result<std::time::SystemTime> {
    let Some(last) = size.checked_sub(1) else {
        return Ok(std::time::UNIX_EPOCH);
    };
    let bytes = db
        .get_cf(cf(db, CF_EVENTS)?, u64_key(last))
        .map_err(db_err)?
        .unwrap_or_default();
    Ok(serde_json::from_slice::<Event>(&bytes)
        .ok()
        .and_then(|e| kyso_verify::dates::parse_rfc3339(e.time()))
        .unwrap_or(std::time::UNIX_EPOCH))
}

/// writer takes the next record id and leaf index from the counters and writes without
/// looking, so a counter behind its data would overwrite a record, an event or a tree node.
fn check_counters(db: &DB, size: u64, next_id: u64) -> Result<()> {
    let bad = |what: String| {
        Err(ArchiveError::Inconsistent(format!(
            "{what}; refusing to open (the next write would overwrite it): run kyso audit verify"
        )))
    };
    let last = |name: &str, upto: Option<&[u8]>| -> Result<Option<u64>> {
        Ok(last_key(db, name, upto)?.and_then(|k| parse_u64_key(&k)))
    };
    let want = |n: u64| n.checked_sub(1);
    // A counter at its largest value cannot count one more: the next write would overflow
    // it (a panic in the writer, or a wrap onto record 0; found by an insider's reading,
    // 2026-12-03).
    if size == u64::MAX || next_id == u64::MAX {
        return bad(format!(
            "a counter is at its largest value (log {size}, records {next_id})"
        ));
    }
    if last(CF_EVENTS, None)? != want(size) {
        return bad(format!(
            "the log counter says {size} entries but the last stored event is {:?}",
            last(CF_EVENTS, None)?
        ));
    }
    if last(CF_RECORDS, None)? != want(next_id) {
        return bad(format!(
            "the record counter says {next_id} records but the last stored record is {:?}",
            last(CF_RECORDS, None)?
        ));
    }
    if let Some(s) = last(CF_STATUS, None)? {
        if s >= next_id {
            return bad(format!(
                "a status is stored for record {s}, beyond the last record"
            ));
        }
    }
    if let Some(c) = last(CF_CHECKPOINTS, None)? {
        if c > size {
            return bad(format!(
                "a checkpoint is stored for {c} entries but the log counter says {size}"
            ));
        }
    }
    // Level l holds the perfect subtrees inside the first `size` leaves: size >> l of them.
    for level in 0..64u8 {
        let upto = node_key(level, u64::MAX);
        let found = last_key(db, CF_NODES, Some(&upto))?
            .and_then(|k| parse_node_key(&k))
            .filter(|(l, _)| *l == level)
            .map(|(_, i)| i);
        if found != want(size >> level) {
            return bad(format!(
                "the log counter says {size} entries but the last tree node of level {level} is {found:?}"
            ));
        }
    }
    Ok(())
}

/// Level-0 files a column family may hold when an export opens the archive before they are
/// compacted first.
const EXPORT_L0_LIMIT: u64 = 8;

/// An export's process compacts nothing while it runs (see `open_opts`), but each run leaves
/// level-0 files (its export events, flushed at the next open): exports run one after another
/// with no service in between (which compacts) pile them up, and every point lookup reads
/// each of them — 40 runs on one archive doubled the CPU per record. So a column family with
/// more than [`EXPORT_L0_LIMIT`] level-0 files is compacted at open, before the export starts.
fn compact_piled_up_level0(db: &DB) -> Result<()> {
    for name in CFS {
        let cf = cf(db, name)?;
        let l0 = db
            .property_int_value_cf(cf, "rocksdb.num-files-at-level0")
            .map_err(db_err)?
            .unwrap_or(0);
        if l0 > EXPORT_L0_LIMIT {
            db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{ingest, Ingest};
    use crate::model::{Access, Metadata};
    use sha2::{Digest, Sha256};

    /// A write batch RocksDB refused reached no memtable: lookups of what is durable still
    /// answer, though writes are refused until the archive is reopened (helper 251: after one
    /// ingest refused for a full disk, every repeated public lookup failed until a restart).
    #[test]
    fn a_refused_write_leaves_lookups_of_durable_records_answering() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        let v = kyso_verify::Validator::default();
        ingest(&ar, &v, doc(b"giay phep".to_vec())).unwrap();
        let sha = hex::encode(Sha256::digest(b"giay phep"));
        crate::writer::FAIL_WRITES.store(true, Ordering::SeqCst);
        let refused = ingest(&ar, &v, doc(b"giay phep khac".to_vec()));
        crate::writer::FAIL_WRITES.store(false, Ordering::SeqCst);
        assert!(refused.is_err());
        let statuses = ar.content_statuses(&sha, 10).unwrap().unwrap();
        assert!(matches!(statuses[..], [(0, Status::Valid)]), "{statuses:?}");
        assert!(ingest(&ar, &v, doc(b"giay phep thu ba".to_vec())).is_err());
    }

    /// With the syncer held, a write is applied (readable) but not durable: a retry of the
    /// same request, and a lookup that logs nothing, wait for the sync rather than answer from
    /// it (helper 250: a retry was told "stored" 3 ms after the first try was applied, a crash
    /// then lost the record and its number went to another citizen's document; a repeated
    /// public lookup said "revoked" for a revocation a crash then undid).
    #[test]
    fn a_retry_or_an_unlogged_lookup_answers_only_from_what_is_durable() {
        use std::sync::mpsc::channel;
        use std::time::Duration;
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        let v = kyso_verify::Validator::default();
        let req = || Ingest {
            request_id: Some("yeu-cau-1".into()),
            ..doc(b"giay phep xay dung".to_vec())
        };
        let held = |ar: &Archive| {
            for _ in 0..10_000 {
                if ar.applied.load(Ordering::SeqCst) > ar.size() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            panic!("the writer applied nothing");
        };
        let sha = hex::encode(Sha256::digest(b"giay phep xay dung"));
        let (ar, v, sha) = (&ar, &v, &sha);
        std::thread::scope(|s| {
            let gate = crate::writer::SYNC_GATE.lock().unwrap();
            let (first_tx, first) = channel();
            s.spawn(move || first_tx.send(ingest(ar, v, req())).unwrap());
            held(ar);
            let (retry_tx, retry) = channel();
            s.spawn(move || retry_tx.send(ingest(ar, v, req())).unwrap());
            assert!(
                retry.recv_timeout(Duration::from_millis(300)).is_err(),
                "the retry was answered before the first try was durable"
            );
            drop(gate);
            let a = first.recv().unwrap().unwrap();
            let b = retry.recv().unwrap().unwrap();
            assert_eq!((a.record, b.existing), (b.record, true));
            assert!(ar.size() > b.leaf);
        });
        std::thread::scope(|s| {
            let gate = crate::writer::SYNC_GATE.lock().unwrap();
            let revoked = Status::Revoked {
                reason: "cap nham".into(),
            };
            let (status_tx, status) = channel();
            s.spawn(move || {
                status_tx
                    .send(ar.set_status(0, revoked, "operator"))
                    .unwrap()
            });
            held(ar);
            let (tx, statuses) = channel();
            s.spawn(move || tx.send(ar.content_statuses(sha, 10)).unwrap());
            assert!(
                statuses.recv_timeout(Duration::from_millis(300)).is_err(),
                "a revocation was shown before it was durable"
            );
            drop(gate);
            status.recv().unwrap().unwrap();
            let seen = statuses.recv().unwrap().unwrap().unwrap();
            assert!(
                matches!(seen[..], [(0, Status::Revoked { .. })]),
                "{seen:?}"
            );
        });
    }

    fn doc(bytes: Vec<u8>) -> Ingest {
        Ingest {
            document: bytes,
            metadata: Metadata {
                code: "001099012345.TEST".into(),
                ..Default::default()
            },
            user: "test".into(),
            allow_unverified: Some("unit test".into()),
            ..Default::default()
        }
    }

    fn put(ar: &Archive, bytes: Vec<u8>) -> (u64, u64) {
        let r = ingest(ar, &kyso_verify::Validator::default(), doc(bytes)).unwrap();
        (r.record, r.leaf)
    }

    fn access() -> Access {
        Access::new("test", "check")
    }

    /// How far the log is dated ahead of the clock is what the service's gauge shows: zero for
    /// an honest log, the distance once an entry was dated ahead (here by its validation,
    /// made with a clock two hours fast), and the same after the archive is opened again.
    #[test]
    fn the_log_dated_ahead_of_the_clock_is_measured_and_kept_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let ar = Archive::open(dir.path()).unwrap();
            assert_eq!(ar.log_ahead_of_clock(), std::time::Duration::ZERO);
            put(&ar, b"giay to hom nay".to_vec());
            assert_eq!(ar.log_ahead_of_clock(), std::time::Duration::ZERO);
            let fast = kyso_verify::Validator {
                now: std::time::SystemTime::now() + std::time::Duration::from_secs(7200),
                ..Default::default()
            };
            ingest(&ar, &fast, doc(b"giay to ngay mai".to_vec())).unwrap();
            let ahead = ar.log_ahead_of_clock().as_secs();
            assert!((7100..=7200).contains(&ahead), "{ahead}");
        }
        let ar = Archive::open(dir.path()).unwrap();
        let ahead = ar.log_ahead_of_clock().as_secs();
        assert!((7100..=7200).contains(&ahead), "{ahead}");
    }

    /// A lookup's records are read without their validation reports (helper 229: half a
    /// megabyte a record, built for a code, title and status); the record read whole has it.
    #[test]
    fn a_lookup_reads_records_without_their_reports() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        let (id, _) = put(&ar, b"giay to tra cuu".to_vec());
        let found = ar
            .find(
                &crate::lookup::Query::Code("001099012345.TEST".into()),
                &access(),
            )
            .unwrap();
        assert_eq!(found.records.len(), 1);
        assert_eq!(found.records[0].0.id, id);
        assert_eq!(found.records[0].0.report, serde_json::Value::Null);
        let whole = ar.bound_record(id).unwrap();
        assert_eq!(
            whole.report["indication"], "TOTAL-FAILED",
            "{}",
            whole.report
        );
        // The thread reads whole records again once the lookup is done.
        assert_eq!(ar.record(id).unwrap().report, whole.report);
    }

    /// A record larger than the audit reads is refused by the writer, and nothing of it is
    /// written (a 353 MB validation report was stored whole, then failed the audit; helper
    /// 227).
    #[test]
    fn a_record_larger_than_the_audit_reads_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        put(&ar, b"giay to truoc".to_vec());
        let size = ar.size();
        let rec = |report: serde_json::Value| crate::model::NewRecord {
            meta: Metadata {
                code: "001099012345.TEST".into(),
                ..Default::default()
            },
            media_type: "application/octet-stream".into(),
            signatures: Vec::new(),
            report,
            kept_unverified: Some("unit test".into()),
            request_id: None,
            user: "test".into(),
            validation: None,
            pdfa_declared: None,
            pages: None,
        };
        let code: crate::code::DocumentCode = "001099012345.TEST".parse().unwrap();
        let huge = serde_json::Value::String("x".repeat(crate::model::MAX_RECORD));
        let e = ar
            .put(rec(huge), code.clone(), b"giay to lon".to_vec(), None)
            .expect_err("refused");
        assert!(
            e.to_string().contains("an archive record holds at most"),
            "{e}"
        );
        assert_eq!(ar.size(), size, "no event");
        assert!(ar
            .db
            .get_cf(
                crate::schema::cf(&ar.db, CF_RECORDS).unwrap(),
                crate::schema::u64_key(1)
            )
            .unwrap()
            .is_none());
        // The next is stored as record 1.
        let o = ar
            .put(
                rec(serde_json::json!({})),
                code,
                b"giay to lon".to_vec(),
                None,
            )
            .unwrap();
        assert_eq!(o.record, Some(1));
    }

    /// A record's content is read only through the record its ingest event names: the stored
    /// record pointed at another citizen's document is refused, not read under its name.
    #[test]
    fn a_record_pointed_at_another_document_is_not_read_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        let (a, _) = put(&ar, b"giay to cua cong dan A".to_vec());
        let (b, _) = put(&ar, b"giay to cua cong dan B".to_vec());
        assert!(ar.read_content(a, &access()).is_ok());
        let cf = crate::schema::cf(&ar.db, CF_RECORDS).unwrap();
        let key = crate::schema::u64_key(a);
        let honest = ar.db.get_cf(cf, key).unwrap().unwrap();
        let mut r: serde_json::Value = serde_json::from_slice(&honest).unwrap();
        let other: serde_json::Value = serde_json::from_slice(
            &ar.db
                .get_cf(cf, crate::schema::u64_key(b))
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        r["content_sha256"] = other["content_sha256"].clone();
        ar.db
            .put_cf(cf, key, serde_json::to_vec(&r).unwrap())
            .unwrap();
        let e = ar.read_content(a, &access()).expect_err("refused");
        assert!(
            e.to_string().contains("the stored record was changed"),
            "{e}"
        );
        ar.db.put_cf(cf, key, honest).unwrap();
        assert_eq!(
            ar.read_content(a, &access()).unwrap().document,
            b"giay to cua cong dan A"
        );
    }

    /// A counter at its largest value is refused at open: the next write would overflow it
    /// (a writer panic, or a wrap onto record 0 in a release build).
    #[test]
    fn a_counter_at_its_largest_value_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let ar = Archive::open(dir.path()).unwrap();
            put(&ar, b"one record".to_vec());
        }
        let ar = Archive::open(dir.path()).unwrap();
        for (size, next_id) in [(u64::MAX, 1), (2, u64::MAX)] {
            let e = check_counters(&ar.db, size, next_id).expect_err("refused");
            assert!(e.to_string().contains("at its largest value"), "{e}");
        }
    }

    /// Exports run one after another on one archive (no service in between to compact): the
    /// level-0 files each leaves do not pile up past the limit.
    #[test]
    fn repeated_exports_do_not_pile_up_level0_files() {
        let dir = tempfile::tempdir().unwrap();
        {
            let ar = Archive::open(dir.path()).unwrap();
            put(&ar, b"one record".to_vec());
        }
        let l0 = |ar: &Archive| {
            let cf = crate::schema::cf(&ar.db, CF_EVENTS).unwrap();
            ar.db
                .property_int_value_cf(cf, "rocksdb.num-files-at-level0")
                .unwrap()
                .unwrap()
        };
        let mut seen = Vec::new();
        for _ in 0..20 {
            let ar = Archive::open_for_export(dir.path()).unwrap();
            seen.push(l0(&ar));
            // One export event, as each run logs.
            ar.begin_export(&crate::export::Selection::All, "bagit", &access())
                .unwrap();
        }
        assert!(
            seen.iter().all(|&n| n <= EXPORT_L0_LIMIT) && seen.iter().any(|&n| n > 1),
            "level-0 files of the events at each open: {seen:?}"
        );
    }

    /// Each open starts a new RocksDB info log: years of CLI commands keep only the last few.
    #[test]
    fn reopening_keeps_a_bounded_number_of_info_logs() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..20 {
            drop(Archive::open(dir.path()).unwrap());
        }
        let logs = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with("LOG")
            })
            .count();
        assert!(
            (2..=crate::schema::KEEP_INFO_LOGS + 1).contains(&logs),
            "{logs} info logs after 20 opens"
        );
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
            let (id, _) = put(&ar, vec![7u8; 10_000]);
            ar.backup(&dir.path().join("backup"), "test").unwrap();
            drop(ar);
            let ar = Archive::open(&dir.path().join("backup")).unwrap();
            assert_eq!(
                ar.read_content(id, &access()).unwrap().document,
                vec![7u8; 10_000]
            );
        }
    }

    #[test]
    fn stored_digests_match_rustcrypto() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        for len in [0usize, 1, 111, 112, 128, 4096, 50 * 1024 + 7] {
            let d: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let (id, _) = put(&ar, d.clone());
            let (r, _) = ar.read_record(id, &access()).unwrap();
            assert_eq!(r.content_sha256, hex::encode(Sha256::digest(&d)), "{len}");
            assert_eq!(
                r.content_sha512,
                hex::encode(sha2::Sha512::digest(&d)),
                "{len}"
            );
        }
    }

    #[test]
    fn cached_proofs_equal_the_stored_nodes_proofs_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        // 300 leaves: windows of 64 cut at every level, a ragged right edge.
        for i in 0..300 {
            put(&ar, format!("document {i}").into_bytes());
        }
        let n = ar.size();
        for size in [1, 63, 64, 65, 200, n] {
            let plain: Vec<_> = (0..size)
                .map(|l| ar.inclusion_proof(l, size).unwrap())
                .collect();
            // In log order, backwards and strided (an export's workers take blocks in turn).
            let orders: [Vec<u64>; 3] = [
                (0..size).collect(),
                (0..size).rev().collect(),
                (0..size).map(|l| (l * 97) % size).collect(),
            ];
            for order in orders {
                let nodes = crate::schema::CachedNodes::new(&ar.db);
                for l in order {
                    assert_eq!(
                        ar.inclusion_proof_cached(&nodes, l, size).unwrap(),
                        plain[l as usize],
                        "leaf {l} of {size}"
                    );
                }
            }
        }
        // A node missing from the store is an error, named, not a wrong proof.
        let cf = crate::schema::cf(&ar.db, CF_NODES).unwrap();
        ar.db
            .delete_cf(cf, crate::schema::node_key(0, 129))
            .unwrap();
        let nodes = crate::schema::CachedNodes::new(&ar.db);
        let e = ar.inclusion_proof_cached(&nodes, 128, n).unwrap_err();
        assert!(e.to_string().contains("tree node 0/129 is missing"), "{e}");
        // And a node that is not 32 bytes.
        ar.db
            .put_cf(cf, crate::schema::node_key(0, 131), b"short")
            .unwrap();
        let nodes = crate::schema::CachedNodes::new(&ar.db);
        let e = ar.inclusion_proof_cached(&nodes, 130, n).unwrap_err();
        assert!(
            e.to_string().contains("tree node 0/131 is not 32 bytes"),
            "{e}"
        );
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
                            let d = format!("thread {t} document {i}").into_bytes();
                            let (id, leaf) = put(&ar, d.clone());
                            // Acknowledged means durable: the durable size covers the entry.
                            assert!(ar.size() > leaf);
                            (id, leaf, d)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let acked: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(ar.size(), 400);
        drop(ar);
        let ar = Archive::open(dir.path()).unwrap();
        assert_eq!(ar.size(), 400);
        let mut leaves: Vec<u64> = acked.iter().map(|a| a.1).collect();
        leaves.sort_unstable();
        assert_eq!(leaves, (0..400).collect::<Vec<_>>());
        for (id, leaf, d) in acked {
            let (r, _) = ar.read_record(id, &access()).unwrap();
            assert_eq!(r.leaf, leaf);
            assert_eq!(ar.read_content(id, &access()).unwrap().document, d);
        }
    }

    #[test]
    fn rocksdb_takes_every_option_kyso_sets() {
        // RocksDB sanitizes options it finds incompatible and only says so in its LOG file:
        // 7.9 sets recycle_log_file_num to 0 under point-in-time WAL recovery, for instance.
        // Each option the archive relies on must be in effect.
        let dir = tempfile::tempdir().unwrap();
        drop(Archive::open(dir.path()).unwrap());
        let log = std::fs::read_to_string(dir.path().join("LOG")).unwrap();
        // `<time> <thread> Options.<name>: <value>`, database-wide first, then one section per
        // column family ("Options for column family [content]:").
        let opt_in = |family: Option<&str>, name: &str| {
            let mut current: Option<String> = None;
            for l in log.lines() {
                if let Some(rest) = l.split("Options for column family [").nth(1) {
                    current = rest.split(']').next().map(str::to_string);
                    continue;
                }
                let Some((_, rest)) = l.split_once(&format!(" {name}: ")) else {
                    continue;
                };
                if current.as_deref() == family {
                    return rest.trim().to_string();
                }
            }
            panic!("{name} of {family:?} not in LOG");
        };
        let opt = |name: &str| opt_in(None, name);
        assert_eq!(opt("Options.manual_wal_flush"), "1");
        assert_eq!(opt("Options.atomic_flush"), "1");
        assert_eq!(opt("Options.wal_recovery_mode"), "2", "point in time");
        let direct = if direct_io_works(dir.path()) {
            "1"
        } else {
            "0"
        };
        assert_eq!(
            opt("Options.use_direct_io_for_flush_and_compaction"),
            direct
        );
        assert_eq!(
            opt("Options.recycle_log_file_num"),
            "0",
            "not set: see docs/archive.md"
        );
        assert_eq!(opt_in(Some("content"), "Options.enable_blob_files"), "true");
        assert_eq!(opt_in(Some("content"), "Options.min_blob_size"), "4096");
        assert_eq!(
            opt_in(Some("records"), "Options.enable_blob_files"),
            "false"
        );
    }
}
