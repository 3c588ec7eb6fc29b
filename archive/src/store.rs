//! The open archive: the RocksDB database and the writer pipeline in front of it.

use crate::code::DocumentCode;
use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::Frontier;
use crate::model::{now_rfc3339, Event, NewRecord, Status};
use crate::schema::*;
use crate::writer::{syncer_loop, writer_loop, Job, Reply, Writer, Written};
use crossbeam_channel::{bounded, Sender};
use rocksdb::{ColumnFamilyDescriptor, DB};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

pub use crate::checkpointer::{Checkpointer, CHECKPOINT_INTERVAL};
pub use crate::schema::CFS;

/// The open archive.
pub struct Archive {
    pub(crate) db: Arc<DB>,
    path: PathBuf,
    jobs: Option<Sender<(Job, Reply)>>,
    /// The writer and the syncer threads.
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The tree size known to be on disk (the syncer advances it after each WAL sync).
    pub(crate) durable: Arc<AtomicU64>,
    /// WAL syncs made since the archive was opened.
    pub(crate) syncs: Arc<AtomicU64>,
    /// Set when a write or a sync failed: no more writes until the archive is reopened.
    pub(crate) failed: Arc<AtomicBool>,
    /// Serializes checkpoint signing.
    pub(crate) sign_lock: Mutex<()>,
}

impl Drop for Archive {
    fn drop(&mut self) {
        self.jobs.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
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

    pub(crate) fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

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
