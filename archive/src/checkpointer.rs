//! Signing checkpoints over the durable log, on demand or in the background.

use crate::checkpoint;
use crate::error::{db_err, ArchiveError, Result};
use crate::schema::*;
use crate::store::Archive;
use crate::writer::FAILED;
use rocksdb::{WriteBatch, WriteOptions};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How often the background publisher looks for new entries: half a second, so that an
/// acknowledged put is covered by a signed checkpoint within a second.
pub const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

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

impl Archive {
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
}
