//! The write pipeline: one writer thread builds and applies a write batch per group of
//! requests, one syncer thread makes the WAL durable and only then answers.
//!
//! The writer is the only code that writes records, events, tree nodes, statuses, lookups and
//! request ids, and it decides every rule that depends on what was written before — "revoked
//! is final", "supersede only by an existing record", "a request id names one document" —
//! against the database *and* the jobs before it in its own batch, so concurrent callers
//! cannot race past a rule. It never overwrites: record ids and leaf indexes come from its own
//! counters, which [`crate::store::Archive::open`] checked against the last keys on disk, and a
//! document is stored under its SHA-256 only if no bytes are there yet.

use crate::code::DocumentCode;
use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::{self, Frontier};
use crate::model::{
    Activity, Blob, Event, FindBy, Gathered, NewRecord, ReadPart, Record, Status, ValidationData,
};
use crate::schema::*;
use crate::stats::{self, Cell, Op, View};
use crossbeam_channel::{Receiver, Sender};
use rocksdb::{WriteBatch, DB};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Most jobs one synced batch serves.
const MAX_BATCH: usize = 512;

/// Bytes with their digests, as the caller computed them (outside the writer thread).
pub(crate) struct Hashed {
    pub bytes: Vec<u8>,
    pub sha256: [u8; 32],
    pub sha512: [u8; 64],
}

impl Hashed {
    pub(crate) fn new(bytes: Vec<u8>) -> Hashed {
        // The two digests of every document are the largest part of a put's CPU. SHA-256: ring
        // (SHA-NI where the CPU has it). SHA-512: OpenSSL's libcrypto, 1.4-1.8x ring's here:
        // ring takes its AVX path on Intel CPUs only and its portable code elsewhere
        // (docs/benchmarks.md). Both are checked against RustCrypto in the tests.
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &bytes)
            .as_ref()
            .try_into()
            .expect("32 bytes");
        let sha512 = openssl::sha::sha512(&bytes);
        Hashed {
            bytes,
            sha256,
            sha512,
        }
    }

    fn blob(&self) -> Blob {
        Blob {
            sha256: hex::encode(self.sha256),
            sha512: hex::encode(self.sha512),
            size: self.bytes.len() as u64,
        }
    }
}

/// Validation data gathered at ingest, hashed (outside the writer thread).
pub(crate) struct HashedEvidence {
    time: String,
    online: bool,
    certificates: Vec<Hashed>,
    crls: Vec<Hashed>,
    ocsp_responses: Vec<Hashed>,
}

impl HashedEvidence {
    pub(crate) fn new(g: Gathered) -> HashedEvidence {
        let h = |v: Vec<Vec<u8>>| v.into_iter().map(Hashed::new).collect();
        HashedEvidence {
            time: g.time,
            online: g.online,
            certificates: h(g.certificates),
            crls: h(g.crls),
            ocsp_responses: h(g.ocsp_responses),
        }
    }

    fn all(&self) -> impl Iterator<Item = &Hashed> {
        self.certificates
            .iter()
            .chain(&self.crls)
            .chain(&self.ocsp_responses)
    }

    fn data(&self) -> ValidationData {
        let b = |v: &[Hashed]| v.iter().map(Hashed::blob).collect();
        ValidationData {
            gathered: self.time.clone(),
            mode: if self.online { "online" } else { "offline" }.into(),
            certificates: b(&self.certificates),
            crls: b(&self.crls),
            ocsp_responses: b(&self.ocsp_responses),
        }
    }
}

/// Every blob an ingest stores: the document, its detached signature, its validation data.
fn ingest_blobs<'a>(
    content: &'a Hashed,
    signature: Option<&'a Hashed>,
    evidence: Option<&'a HashedEvidence>,
) -> impl Iterator<Item = &'a Hashed> {
    std::iter::once(content)
        .chain(signature)
        .chain(evidence.into_iter().flat_map(HashedEvidence::all))
}

/// What the writer thread is asked to do.
pub(crate) enum Job {
    Ingest {
        rec: Box<NewRecord>,
        code: DocumentCode,
        content: Box<Hashed>,
        signature: Option<Box<Hashed>>,
        evidence: Option<Box<HashedEvidence>>,
    },
    Status {
        record: u64,
        status: Status,
        user: String,
        /// `Some(agency)`: the user acts for that agency (or none) and may change only its
        /// records; `None`: the operator, any record.
        scope: Option<Option<String>>,
    },
    Read {
        record: u64,
        part: ReadPart,
        user: String,
        purpose: String,
    },
    Find {
        by: FindBy,
        value: String,
        records: Vec<u64>,
        /// The statistics cell of each record found (records never change: the lookup read
        /// them, the writer need not read them again).
        cells: HashMap<u64, Cell>,
        user: String,
        purpose: String,
    },
    Activity {
        activity: Activity,
        user: String,
    },
    /// Nothing to write: answered once everything the writer applied before it is durable
    /// ([`crate::Archive::durable_through`]).
    Barrier,
    /// One event of an export ([`crate::Archive::begin_export`]): its records, with their
    /// status events and which part of the export it is.
    Export {
        records: Vec<u64>,
        format: String,
        reason: String,
        status_events: Vec<[u64; 2]>,
        status_upto: u64,
        part: [u64; 2],
        user: String,
    },
}

impl Job {
    /// The bytes a job adds to a write batch, roughly (documents dominate).
    fn bytes(&self) -> u64 {
        match self {
            Job::Ingest {
                content,
                signature,
                evidence,
                ..
            } => {
                ingest_blobs(content, signature.as_deref(), evidence.as_deref())
                    .map(|h| h.bytes.len() as u64)
                    .sum::<u64>()
                    + 1024
            }
            Job::Find { records, .. } => 256 + 64 * records.len() as u64,
            Job::Export {
                records,
                status_events,
                ..
            } => 256 + 24 * (records.len() + 2 * status_events.len()) as u64,
            Job::Activity {
                activity: Activity::Totals { totals },
                ..
            } => 256 + 128 * totals.len() as u64,
            _ => 256,
        }
    }
}

/// What the writer answers: the record concerned (if any), the log index of the event, and
/// whether an ingest found its record already stored (a retried request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub record: Option<u64>,
    pub leaf: u64,
    pub existing: bool,
}

pub(crate) type Reply = Sender<Result<Outcome>>;

pub(crate) struct Writer {
    pub frontier: Frontier,
    pub next_id: u64,
    /// A batch stops taking documents at this many bytes (one document may exceed it alone).
    pub max_batch_bytes: u64,
    /// The largest batch written, in bytes (tests and the benchmark read it).
    pub largest_batch: Arc<AtomicU64>,
    /// The time of the last entry written: the next is never dated before it.
    pub last_time: std::time::SystemTime,
    /// [`Writer::last_time`] in milliseconds since 1970, for the archive's readers
    /// ([`crate::Archive::log_ahead_of_clock`]).
    pub log_time_ms: Arc<AtomicU64>,
    /// When the writer last said that the clock is behind the log.
    pub clock_warned: Option<std::time::Instant>,
    /// The log size of the batches handed to the database, synced or not: raised before each
    /// write, so a reader that saw a batch's data then reads at least its size here
    /// ([`crate::Archive::reads_durable`]).
    pub applied: Arc<AtomicU64>,
}

/// Milliseconds since 1970 (0 before it).
pub(crate) fn unix_ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Writer {
    /// The time of the next entry: now, but never before the entry before it, nor before the
    /// time the document it ingests was validated at (`not_before`). A clock set back is not
    /// followed — the entries keep the last entry's time until it catches up — so an entry
    /// dated before the one before it is no honest log's, and the audit fails it: an insider
    /// who appends an entry backdated past an expired signer's certificate is caught
    /// (helper 201), and can backdate no further than the entry before, which an earlier
    /// checkpoint holds.
    fn stamp(&mut self, not_before: Option<std::time::SystemTime>) -> String {
        let now = std::time::SystemTime::now();
        // A clock well behind the log is said, every ten minutes while it lasts: entries are
        // dated ahead of it (docs/operations.md, "The clock").
        if now + crate::model::CLOCK_SLACK < self.last_time
            && self
                .clock_warned
                .is_none_or(|w| w.elapsed() >= std::time::Duration::from_secs(600))
        {
            self.clock_warned = Some(std::time::Instant::now());
            eprintln!(
                "kyso: archive: the clock reads {}, before the log's last entry ({}): new entries keep that time until the clock catches up (docs/operations.md, \"The clock\")",
                kyso_verify::rfc3339(now),
                kyso_verify::rfc3339(self.last_time)
            );
        }
        let mut t = now.max(self.last_time);
        if let Some(v) = not_before {
            t = t.max(v);
        }
        self.last_time = t;
        self.log_time_ms.store(unix_ms(t), Ordering::Relaxed);
        kyso_verify::rfc3339(t)
    }
}

/// A batch the writer applied (WAL buffer and memtables) that waits for its WAL sync.
pub(crate) struct Written {
    replies: Vec<(Reply, Result<Outcome>)>,
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
    let mut carry: Option<(Job, Reply)> = None;
    loop {
        let first = match carry.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
        };
        let mut bytes = first.0.bytes();
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) if bytes + j.0.bytes() > w.max_batch_bytes => {
                    carry = Some(j);
                    break;
                }
                Ok(j) => {
                    bytes += j.0.bytes();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        if failed.load(Ordering::Acquire) {
            for (_, reply) in jobs {
                let _ = reply.send(Err(ArchiveError::Db(FAILED.into())));
            }
            continue;
        }
        w.largest_batch.fetch_max(bytes, Ordering::Relaxed);
        let saved = (w.frontier.clone(), w.next_id);
        let (b, results) = build_batch(&db, &mut w, &jobs);
        w.applied.fetch_max(w.frontier.size, Ordering::SeqCst);
        #[cfg(test)]
        let b = b.and_then(|b| {
            if FAIL_WRITES.load(Ordering::SeqCst) {
                Err(ArchiveError::Db(
                    "no space left on device (a test's)".into(),
                ))
            } else {
                Ok(b)
            }
        });
        match b.and_then(|b| db.write(b).map_err(db_err)) {
            Ok(()) => {
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
                // Nothing of it reached the memtables: no reader saw it. Left raised, every
                // unlogged lookup of durable data asked the failed writer for a sync and was
                // refused until a restart (helper 251: a full disk, one refused ingest).
                w.applied.store(w.frontier.size, Ordering::SeqCst);
                let msg = e.to_string();
                for (_, reply) in jobs {
                    let _ = reply.send(Err(ArchiveError::Db(msg.clone())));
                }
            }
        }
    }
}

/// Held by a unit test to keep the syncer from syncing: batches are then applied, readable,
/// and not durable — the window a retry or a repeated lookup must not answer from.
#[cfg(test)]
pub(crate) static SYNC_GATE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Set by a unit test: the writer's next batches fail as a write RocksDB refused (a full disk)
/// would, writing nothing.
#[cfg(test)]
pub(crate) static FAIL_WRITES: AtomicBool = AtomicBool::new(false);

pub(crate) const FAILED: &str = "an earlier write did not reach the disk; the archive refuses \
     writes until it is reopened (acknowledged records are safe; a request that got an error \
     may or may not have been stored: retry it with the same request id)";

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
        #[cfg(test)]
        let _gate = SYNC_GATE.lock().unwrap_or_else(|p| p.into_inner());
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

/// What the jobs earlier in the batch decided, which the database does not show yet.
#[derive(Default)]
struct Pending {
    status: HashMap<u64, Status>,
    /// Records made by this batch: what the status rules ask of them.
    created: HashMap<u64, Owner>,
    /// Request key → the record it made.
    requests: HashMap<Vec<u8>, Record>,
    /// Documents added by this batch (SHA-256 → index of the job holding the bytes).
    content: HashMap<[u8; 32], usize>,
    /// Statistics counters this batch moved: key → new value.
    stats: HashMap<Vec<u8>, u64>,
}

impl Pending {
    /// Move the counters as `ops` say, all or none (a counter is read from the batch, else
    /// from the database).
    /// Stage the statistics counters `event` changes (in the same batch as the event).
    fn count(
        &mut self,
        db: &DB,
        event: &Event,
        new: Option<(u64, Cell)>,
        hint: Option<&HashMap<u64, Cell>>,
    ) -> Result<()> {
        let view = WriterView {
            db,
            p: self,
            new,
            hint,
        };
        let ops = stats::changes(event, &view)?;
        self.bump(db, ops)
    }

    fn bump(&mut self, db: &DB, ops: Vec<Op>) -> Result<()> {
        let mut staged: HashMap<Vec<u8>, u64> = HashMap::new();
        for op in ops {
            let (k, v) = stats::apply_op(op, |k| match staged.get(k).or(self.stats.get(k)) {
                Some(v) => Ok(*v),
                None => stats::stored(db, k),
            })?;
            staged.insert(k, v);
        }
        self.stats.extend(staged);
        Ok(())
    }
}

/// The records as the writer sees them before a job: the batch so far, then the database.
struct WriterView<'a> {
    db: &'a DB,
    p: &'a Pending,
    /// The record the job creates.
    new: Option<(u64, Cell)>,
    /// Cells the job brings (a lookup's records).
    hint: Option<&'a HashMap<u64, Cell>>,
}

impl View for WriterView<'_> {
    fn cell(&self, id: u64) -> Result<Cell> {
        if let Some((n, c)) = &self.new {
            if *n == id {
                return Ok(c.clone());
            }
        }
        if let Some(c) = self.hint.and_then(|h| h.get(&id)) {
            return Ok(c.clone());
        }
        match self.p.created.get(&id) {
            Some(o) => Ok(o.cell.clone()),
            None => Cell::of(&stored_record(self.db, id)?),
        }
    }

    fn status(&self, id: u64) -> Result<Status> {
        match self.p.status.get(&id) {
            Some(s) => Ok(s.clone()),
            None => stored_status(self.db, id),
        }
    }
}

/// What the status rules ask of a record: which document it is, whose it is.
#[derive(Clone)]
struct Owner {
    code: String,
    agency: Option<String>,
    user: String,
    /// Its issue date, if it has one (YYYY-MM-DD).
    issued: Option<String>,
    /// Its statistics cell.
    cell: Cell,
}

impl Owner {
    fn of(r: &Record) -> Result<Owner> {
        Ok(Owner {
            code: r.code.clone(),
            agency: r.agency.clone(),
            user: r.ingest_user.clone(),
            issued: r.issue_date.clone(),
            cell: Cell::of(r)?,
        })
    }
}

/// Build one write batch (not yet applied); per job its outcome or why it was refused. A
/// refused job writes nothing; the others go ahead.
fn build_batch(
    db: &DB,
    w: &mut Writer,
    jobs: &[(Job, Reply)],
) -> (Result<WriteBatch>, Vec<Result<Outcome>>) {
    let mut b = WriteBatch::default();
    let mut out = Vec::with_capacity(jobs.len());
    let mut p = Pending::default();
    for (i, (job, _)) in jobs.iter().enumerate() {
        match apply(db, w, &mut b, &mut p, jobs, i, job) {
            Ok(o) => out.push(Ok(o)),
            Err(e) => out.push(Err(e)),
        }
    }
    let meta = match cf(db, CF_META) {
        Ok(m) => m,
        Err(e) => return (Err(e), out),
    };
    b.put_cf(meta, META_SIZE, u64_key(w.frontier.size));
    b.put_cf(meta, META_NEXT_ID, u64_key(w.next_id));
    let counters = match cf(db, CF_STATS) {
        Ok(c) => c,
        Err(e) => return (Err(e), out),
    };
    for (k, v) in &p.stats {
        b.put_cf(counters, k, u64_key(*v));
    }
    (Ok(b), out)
}

/// Check one job against the database and the batch so far, and add its writes to `b`.
fn apply(
    db: &DB,
    w: &mut Writer,
    b: &mut WriteBatch,
    p: &mut Pending,
    jobs: &[(Job, Reply)],
    i: usize,
    job: &Job,
) -> Result<Outcome> {
    if let Job::Barrier = job {
        return Ok(Outcome {
            record: None,
            leaf: w.frontier.size,
            existing: false,
        });
    }
    let validated = match job {
        Job::Ingest {
            evidence: Some(e), ..
        } => kyso_verify::dates::parse_rfc3339(&e.time),
        _ => None,
    };
    let time = w.stamp(validated);
    let next_id = w.next_id;
    let exists = |id: u64| id < next_id;
    let (record, event) = match job {
        Job::Ingest {
            rec,
            code,
            content,
            signature,
            evidence,
        } => {
            // A retried request returns the record it made, once; another document under the
            // same request id is refused.
            let request = rec.request_id.as_ref().map(|r| request_key(&rec.user, r));
            if let Some(key) = &request {
                let earlier = match p.requests.get(key) {
                    Some(r) => Some(r.clone()),
                    None => match db.get_cf(cf(db, CF_REQUESTS)?, key).map_err(db_err)? {
                        Some(v) => {
                            let id = parse_u64_key(&v).ok_or_else(|| {
                                ArchiveError::Inconsistent(
                                    "a request id entry is not 8 bytes".into(),
                                )
                            })?;
                            Some(stored_record(db, id)?)
                        }
                        None => None,
                    },
                };
                if let Some(r) = earlier {
                    let same = r.code == code.to_string()
                        && r.content_sha256 == hex::encode(content.sha256)
                        && r.content_sha512 == hex::encode(content.sha512)
                        && r.detached_signature == signature.as_deref().map(Hashed::blob);
                    let differ = rec.meta.differences(&r);
                    if !same || !differ.is_empty() {
                        return Err(ArchiveError::RequestConflict {
                            user: rec.user.clone(),
                            request_id: rec.request_id.clone().unwrap_or_default(),
                            record: r.id,
                            what: if same {
                                format!("stored with other {}", differ.join(", "))
                            } else {
                                format!("code {}, content SHA-256 {}", r.code, r.content_sha256)
                            },
                        });
                    }
                    return Ok(Outcome {
                        record: Some(r.id),
                        leaf: r.leaf,
                        existing: true,
                    });
                }
            }
            // Documents are stored once, by SHA-256 — and only if the bytes there are the
            // same bytes (a SHA-256 collision, or a stored document changed behind the
            // archive's back, is refused rather than linked to the wrong bytes).
            let mut store = Vec::new();
            for h in ingest_blobs(content, signature.as_deref(), evidence.as_deref()) {
                if store.iter().any(|s: &&Hashed| s.sha256 == h.sha256) {
                    continue;
                }
                if let Some(&j) = p.content.get(&h.sha256) {
                    if jobs_bytes(jobs, j, &h.sha256) != Some(h.bytes.as_slice()) {
                        return Err(collision(&h.sha256));
                    }
                    continue;
                }
                match db
                    .get_pinned_cf(cf(db, CF_CONTENT)?, h.sha256)
                    .map_err(db_err)?
                {
                    Some(v) if v.as_ref() == h.bytes.as_slice() => {}
                    Some(_) => return Err(collision(&h.sha256)),
                    None => store.push(h),
                }
            }
            let id = w.next_id;
            let leaf = w.frontier.size;
            let m = &rec.meta;
            let record = Record {
                id,
                code: code.to_string(),
                subject: code.subject.as_str().to_string(),
                doc_type: code.doc_type.clone(),
                title: m.title.clone(),
                agency: m.agency.clone(),
                procedure: m.procedure.clone(),
                dossier: m.dossier.clone(),
                issue_date: m.issue_date.clone(),
                content_sha256: hex::encode(content.sha256),
                content_sha512: hex::encode(content.sha512),
                media_type: rec.media_type.clone(),
                size: content.bytes.len() as u64,
                detached_signature: signature.as_deref().map(Hashed::blob),
                signatures: rec.signatures.clone(),
                report: rec.report.clone(),
                kept_unverified: rec.kept_unverified.clone(),
                request_id: rec.request_id.clone(),
                ingest_user: rec.user.clone(),
                ingest_time: time.clone(),
                leaf,
                meta: m.meta.clone(),
                validation_data: evidence.as_deref().map(HashedEvidence::data),
                pdfa_declared: rec.pdfa_declared.clone(),
                pages: rec.pages,
            };
            let json = serde_json::to_vec(&record).map_err(|e| ArchiveError::Db(e.to_string()))?;
            // Refused before anything is written: the audit reads no larger record.
            if json.len() > crate::model::MAX_RECORD {
                return Err(ArchiveError::Input(format!(
                    "the record would be {} bytes (its metadata and validation report); an archive record holds at most {} bytes",
                    json.len(),
                    crate::model::MAX_RECORD
                )));
            }
            let owner = Owner::of(&record)?;
            let event = Event::Ingest {
                record: id,
                code: record.code.clone(),
                content_sha256: record.content_sha256.clone(),
                record_sha256: hex::encode(Sha256::digest(&json)),
                user: rec.user.clone(),
                time,
            };
            p.count(db, &event, Some((id, owner.cell.clone())), None)?;
            for h in store {
                b.put_cf(cf(db, CF_CONTENT)?, h.sha256, &h.bytes);
                p.content.insert(h.sha256, i);
            }
            b.put_cf(cf(db, CF_RECORDS)?, u64_key(id), &json);
            for k in IndexKey::of(&record) {
                b.put_cf(cf(db, CF_INDEX)?, k.encode(), []);
            }
            p.created.insert(id, owner);
            if let Some(key) = request {
                b.put_cf(cf(db, CF_REQUESTS)?, &key, u64_key(id));
                p.requests.insert(key, record.clone());
            }
            w.next_id += 1;
            (Some(id), event)
        }
        Job::Status {
            record,
            status,
            user,
            scope,
        } => {
            if !exists(*record) {
                return Err(ArchiveError::NoRecord(*record));
            }
            let owner = |id: u64| -> Result<Owner> {
                match p.created.get(&id) {
                    Some(o) => Ok(o.clone()),
                    None => stored_record(db, id).and_then(|r| Owner::of(&r)),
                }
            };
            let this = owner(*record)?;
            if let Some(mine) = scope {
                // Refusals name nothing of the record (its code or agency): a clerk must not
                // learn other agencies' citizens from them.
                match (&this.agency, mine) {
                    (Some(theirs), Some(mine)) if theirs == mine => {}
                    (Some(_), Some(mine)) => {
                        return Err(ArchiveError::NotYours(format!(
                            "record {record} is not of your agency ({mine:?})"
                        )))
                    }
                    (Some(_), None) => {
                        return Err(ArchiveError::NotYours(format!(
                            "record {record} is of an agency, and you act for none"
                        )))
                    }
                    (None, _) if this.user == *user => {}
                    (None, _) => {
                        return Err(ArchiveError::NotYours(format!(
                            "record {record} names no agency: only the user who archived it may change its status"
                        )))
                    }
                }
            }
            let status_of = |id: u64| -> Result<Status> {
                match p.status.get(&id) {
                    Some(s) => Ok(s.clone()),
                    None => stored_status(db, id),
                }
            };
            let current = status_of(*record)?;
            Status::check_change(*record, &current, status, exists)?;
            // A status moves on from valid; a superseded record only to revoked, an expired one
            // to superseded or revoked. The same change sent twice (a retry after a lost answer)
            // wrote a second event, and two clerks superseding one record by two others both
            // got 200 while the second silently re-pointed it (helper 221). The writer's rule,
            // not the audit's: older logs may hold such events, and they are no tampering.
            let moves_on = matches!(
                (&current, status),
                (Status::Valid, _)
                    | (_, Status::Revoked { .. })
                    | (Status::Expired { .. }, Status::SupersededBy { .. })
            );
            if !moves_on {
                let now = match &current {
                    Status::SupersededBy { record: by } => format!("superseded by record {by}"),
                    Status::Expired { on } => format!("expired on {on}"),
                    other => other.name().to_string(),
                };
                return Err(ArchiveError::Status {
                    id: *record,
                    status: now,
                    what: "nothing was changed (a status moves on from valid; a superseded record may still be revoked, an expired one superseded or revoked)".into(),
                });
            }
            // A record expires on a day that has come, in Vietnam's time as the archive counts
            // its days: marked expired ahead of its end date, it read "expired" to every relying
            // party, the public page and the statistics at once, and could no longer be
            // superseded (helper 216).
            if let Status::Expired { on } = status {
                // The earlier of the event's day and the clock's: the log never dates an event
                // back, so after a clock that ran ahead its stamp is ahead too (helper 218).
                let stamped = crate::model::ingest_day(&time)?;
                let clock =
                    crate::model::ingest_day(&kyso_verify::rfc3339(std::time::SystemTime::now()))?;
                let today = stamped.min(clock);
                if on.as_str() > today.as_str() {
                    return Err(ArchiveError::StatusRefused {
                        id: *record,
                        what: format!(
                            "its expiry date {on} has not come (today is {today}, Vietnam time): mark a record expired on or after the day it ends (its end date can be kept in its metadata until then)"
                        ),
                    });
                }
                // Nor before it was issued: a result does not end before it begins (0001-01-01
                // was accepted and shown on the public page; helper 218). A paper result
                // digitized long after it ended may well have expired before its ingest.
                if let Some(issued) = this.issued.as_deref().filter(|i| on.as_str() < *i) {
                    return Err(ArchiveError::StatusRefused {
                        id: *record,
                        what: format!(
                            "its expiry date {on} is before its issue date {issued}: a result ends on or after the day it was issued"
                        ),
                    });
                }
            }
            if let Status::SupersededBy { record: by } = status {
                let new = owner(*by)?;
                let refuse = |what: String| ArchiveError::StatusRefused { id: *record, what };
                // One answer for another agency and another code, and it names neither.
                // (Codes compared in any case: a record archived before type codes were kept
                // in upper case is the same document as its upper-case version; helper 222.)
                if new.agency != this.agency || !new.code.eq_ignore_ascii_case(&this.code) {
                    return Err(refuse(format!(
                        "record {by} is not another version of the same document (a record is superseded only by one of the same subject, document type and agency)"
                    )));
                }
                // Only by a version still valid: no cycles, no chain that ends in a revoked or
                // superseded record.
                let by_status = status_of(*by)?;
                if by_status != Status::Valid {
                    return Err(refuse(format!(
                        "record {by} is {}: a record is superseded only by a valid one",
                        by_status.name()
                    )));
                }
            }
            let json = serde_json::to_vec(status).map_err(|e| ArchiveError::Db(e.to_string()))?;
            let event = Event::Status {
                record: *record,
                status: status.clone(),
                user: user.clone(),
                time,
            };
            p.count(db, &event, None, None)?;
            b.put_cf(cf(db, CF_STATUS)?, u64_key(*record), json);
            p.status.insert(*record, status.clone());
            (Some(*record), event)
        }
        Job::Read {
            record,
            part,
            user,
            purpose,
        } => {
            if !exists(*record) {
                return Err(ArchiveError::NoRecord(*record));
            }
            let event = Event::Read {
                record: *record,
                part: *part,
                user: user.clone(),
                purpose: purpose.clone(),
                time,
                salt: Some(crate::model::new_salt()?),
            };
            (Some(*record), event)
        }
        Job::Find {
            by,
            value,
            records,
            cells,
            user,
            purpose,
        } => {
            if let Some(r) = records.iter().find(|r| !exists(**r)) {
                return Err(ArchiveError::NoRecord(*r));
            }
            let event = Event::Find {
                by: *by,
                value: value.clone(),
                records: records.clone(),
                user: user.clone(),
                purpose: purpose.clone(),
                time,
                salt: Some(crate::model::new_salt()?),
            };
            p.count(db, &event, None, Some(cells))?;
            (None, event)
        }
        // Answered above, before any event is made.
        Job::Barrier => {
            return Err(ArchiveError::Inconsistent(
                "a barrier reached the event writer".into(),
            ))
        }
        Job::Export {
            records,
            format,
            reason,
            status_events,
            status_upto,
            part,
            user,
        } => {
            if let Some(r) = records.iter().find(|r| !exists(**r)) {
                return Err(ArchiveError::NoRecord(*r));
            }
            let event = Event::Export {
                records: records.clone(),
                format: format.clone(),
                reason: Some(reason.clone()),
                status_events: Some(status_events.clone()),
                status_upto: Some(*status_upto),
                part: Some(*part),
                user: user.clone(),
                time,
            };
            p.count(db, &event, None, None)?;
            (None, event)
        }
        Job::Activity { activity, user } => {
            let event = match activity {
                Activity::Export {
                    records,
                    format,
                    reason,
                } => {
                    if let Some(r) = records.iter().find(|r| !exists(**r)) {
                        return Err(ArchiveError::NoRecord(*r));
                    }
                    Event::Export {
                        records: records.clone(),
                        format: format.clone(),
                        reason: reason.clone(),
                        status_events: None,
                        status_upto: None,
                        part: None,
                        user: user.clone(),
                        time,
                    }
                }
                Activity::Signature {
                    document_sha256,
                    signer,
                    format,
                } => Event::Signature {
                    document_sha256: document_sha256.clone(),
                    signer: signer.clone(),
                    format: format.clone(),
                    user: user.clone(),
                    time,
                },
                Activity::Config { change } => Event::Config {
                    change: change.clone(),
                    user: user.clone(),
                    time,
                },
                Activity::Totals { totals } => Event::Totals {
                    totals: totals.clone(),
                    user: user.clone(),
                    time,
                },
                Activity::LogRead {
                    start,
                    end,
                    purpose,
                } => Event::LogRead {
                    start: *start,
                    end: *end,
                    user: user.clone(),
                    purpose: purpose.clone(),
                    time,
                },
            };
            p.count(db, &event, None, None)?;
            (None, event)
        }
    };
    let bytes = serde_json::to_vec(&event).map_err(|e| ArchiveError::Db(e.to_string()))?;
    let leaf = w.frontier.size;
    b.put_cf(cf(db, CF_EVENTS)?, u64_key(leaf), &bytes);
    let nodes = cf(db, CF_NODES)?;
    for (level, idx, h) in w.frontier.push(merkle::leaf_hash(&bytes)) {
        b.put_cf(nodes, node_key(level, idx), h);
    }
    Ok(Outcome {
        record,
        leaf,
        existing: false,
    })
}

/// The bytes with this SHA-256 held by job `j` of the batch.
fn jobs_bytes<'a>(jobs: &'a [(Job, Reply)], j: usize, sha256: &[u8; 32]) -> Option<&'a [u8]> {
    match &jobs.get(j)?.0 {
        Job::Ingest {
            content,
            signature,
            evidence,
            ..
        } => ingest_blobs(content, signature.as_deref(), evidence.as_deref())
            .find(|h| &h.sha256 == sha256)
            .map(|h| h.bytes.as_slice()),
        _ => None,
    }
}

fn collision(sha256: &[u8; 32]) -> ArchiveError {
    ArchiveError::Inconsistent(format!(
        "the archive holds other bytes under SHA-256 {}: a collision, or a stored document was \
         changed (run kyso audit verify); nothing was stored",
        hex::encode(sha256)
    ))
}

/// A record as stored (the writer's own view, not a logged read).
pub(crate) fn stored_record(db: &DB, id: u64) -> Result<Record> {
    let v = db
        .get_cf(cf(db, CF_RECORDS)?, u64_key(id))
        .map_err(db_err)?
        .ok_or(ArchiveError::NoRecord(id))?;
    serde_json::from_slice(&v)
        .map_err(|e| ArchiveError::Inconsistent(format!("record {id} is not a record: {e}")))
}

/// A record's latest status as stored (valid when it never changed).
pub(crate) fn stored_status(db: &DB, id: u64) -> Result<Status> {
    match db.get_cf(cf(db, CF_STATUS)?, u64_key(id)).map_err(db_err)? {
        Some(v) => serde_json::from_slice(&v)
            .map_err(|e| ArchiveError::Inconsistent(format!("status of record {id}: {e}"))),
        None => Ok(Status::Valid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    /// A clock set back is not followed: the next entry keeps the last one's time (the audit
    /// fails an entry dated before the one ahead of it); nor is an ingest dated before its
    /// validation.
    #[test]
    fn an_entry_is_never_dated_before_the_one_ahead_of_it_nor_its_validation() {
        let ahead = SystemTime::now() + Duration::from_secs(7 * 3600);
        let mut w = Writer {
            frontier: Frontier::default(),
            next_id: 0,
            max_batch_bytes: 1,
            largest_batch: Default::default(),
            last_time: ahead,
            log_time_ms: Default::default(),
            clock_warned: None,
            applied: Default::default(),
        };
        assert_eq!(w.stamp(None), kyso_verify::rfc3339(ahead));
        assert!(
            w.clock_warned.is_some(),
            "a clock hours behind the log is said"
        );
        assert_eq!(w.stamp(None), kyso_verify::rfc3339(ahead));
        let validated = ahead + Duration::from_secs(60);
        assert_eq!(w.stamp(Some(validated)), kyso_verify::rfc3339(validated));
        assert_eq!(w.last_time, validated);
        assert_eq!(
            w.log_time_ms.load(Ordering::Relaxed),
            unix_ms(validated),
            "readers see the log's time"
        );
        // With the clock ahead of both, the clock's time.
        w.last_time = std::time::UNIX_EPOCH;
        let t = kyso_verify::dates::parse_rfc3339(&w.stamp(Some(std::time::UNIX_EPOCH))).unwrap();
        assert!(t + Duration::from_secs(5) > SystemTime::now());
    }
}
