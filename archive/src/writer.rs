//! The write pipeline: one writer thread builds and applies a write batch per group of
//! requests, one syncer thread makes the WAL durable and only then answers.

use crate::code::DocumentCode;
use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::{self, Frontier};
use crate::model::{now_rfc3339, Event, NewRecord, Record, Status};
use crate::schema::*;
use crossbeam_channel::{Receiver, Sender};
use rocksdb::{WriteBatch, DB};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Most writers one synced batch serves.
const MAX_BATCH: usize = 512;

/// What the writer thread is asked to do.
pub(crate) enum Job {
    Ingest {
        rec: Box<NewRecord>,
        content: Arc<Vec<u8>>,
        sha256: [u8; 32],
        sha512: Vec<u8>,
        code: DocumentCode,
    },
    Event(Event),
}

pub(crate) type Reply = Sender<Result<(u64, u64)>>;

pub(crate) struct Writer {
    pub(crate) frontier: Frontier,
    pub(crate) next_id: u64,
}

/// A batch the writer applied (WAL buffer and memtables) that waits for its WAL sync.
pub(crate) struct Written {
    replies: Vec<(Reply, Result<(u64, u64)>)>,
    size: u64,
}

/// Takes jobs in arrival order, assigns record ids and log indexes, and applies one write
/// batch per group of jobs without waiting for the disk: the syncer makes them durable and
/// answers. Building and applying batch N+1 overlaps the fsync of batch N, and the WAL keeps
/// the batches in order, so a sync covers every batch before it.
pub(crate) fn writer_loop(
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

pub(crate) const FAILED: &str =
    "an earlier write did not reach the disk; the archive refuses writes \
                      until it is reopened (acknowledged records are safe)";

/// Syncs the WAL once for every batch written since the last sync, then advances the durable
/// size and acknowledges. A failed sync fails its batches and stops all later writes: their
/// entries may be visible in memory, but were never acknowledged.
pub(crate) fn syncer_loop(
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
