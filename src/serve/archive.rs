//! Every call the service makes into kyso-archive, in one place: when the archive's own ingest
//! policy, logged metadata reads and finds, and status rules land (issue 10), this file is what
//! changes. All functions block (RocksDB, WAL syncs, the token): call them off the runtime.

use kyso_archive::{Archive, ArchiveError, Event, FoundSignature, NewRecord, Record, Status};
use kyso_hsm::SignDigest;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

type Result<T> = std::result::Result<T, ArchiveError>;

/// How often the publisher signs a checkpoint when the log grew (the archive's choice).
pub use kyso_archive::store::CHECKPOINT_INTERVAL;

/// What a clerk sends with a document to archive.
pub struct Ingest {
    pub code: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    pub issue_date: Option<String>,
    pub meta: BTreeMap<String, String>,
    /// The client's id for this put: a retry with the same id, code and content returns the
    /// record already stored instead of storing it twice.
    pub request_id: Option<String>,
    /// Store even if not TOTAL-PASSED, with this reason (only when the config allows it).
    pub allow_unsigned: Option<String>,
}

pub struct Ingested {
    pub record: u64,
    pub leaf: u64,
    pub indication: String,
    /// True when the request id matched a record already stored (nothing new was written).
    pub replayed: bool,
}

/// Meta key under which the client's request id is kept in the record.
const REQUEST_ID: &str = "client_request_id";
/// Meta key under which the reason for storing a document that did not pass is kept.
const UNSIGNED: &str = "stored_without_valid_signature";

/// Why a document was not stored.
#[derive(Debug)]
pub enum IngestError {
    Archive(ArchiveError),
    /// Its signatures do not pass, and it may not be stored anyway.
    NotVerified(String),
    /// A put with the same request id is being stored right now: retry in a moment.
    InProgress(String),
    /// The request id was used for another request (other content, metadata or user).
    Conflict(String),
}

impl From<ArchiveError> for IngestError {
    fn from(e: ArchiveError) -> Self {
        IngestError::Archive(e)
    }
}

/// Why a status change was not made.
#[derive(Debug)]
pub enum StatusError {
    Archive(ArchiveError),
    /// The record is not the caller's to change.
    Forbidden(String),
    /// Not a change this record may have (superseded by a record of another code, …).
    Refused(String),
}

impl From<ArchiveError> for StatusError {
    fn from(e: ArchiveError) -> Self {
        StatusError::Archive(e)
    }
}

/// The open archive, its checkpoint key, and the state of the checkpoint publisher.
pub struct Store {
    archive: Arc<Archive>,
    key: Arc<dyn SignDigest>,
    origin: String,
    key_name: String,
    allow_unsigned: bool,
    /// The newest signed checkpoint: (tree size, note).
    latest: Mutex<Option<(u64, String)>>,
    latest_at: Mutex<Option<Instant>>,
    /// Seconds since the epoch of the publisher's last round; and the token probe's result.
    publisher_tick: AtomicU64,
    token_ok: AtomicBool,
    stop: AtomicBool,
    /// One ingest per (code, request id) at a time, so that two concurrent retries of the same
    /// request do not both store it.
    ingesting: Mutex<std::collections::HashSet<(String, String)>>,
    pub checkpoint_errors: AtomicU64,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn now_rfc3339() -> String {
    kyso_verify::rfc3339(SystemTime::now())
}

impl Store {
    pub fn open(
        db: &std::path::Path,
        key: Arc<dyn SignDigest>,
        origin: String,
        key_name: String,
        allow_unsigned: bool,
    ) -> Result<Store> {
        let archive = Arc::new(Archive::open(db)?);
        // The newest checkpoint, once at start (kyso-archive has no "latest" lookup yet).
        let latest = archive.checkpoints()?.pop();
        Ok(Store {
            archive,
            key,
            origin,
            key_name,
            allow_unsigned,
            latest: Mutex::new(latest),
            latest_at: Mutex::new(None),
            publisher_tick: AtomicU64::new(now_secs()),
            token_ok: AtomicBool::new(true),
            stop: AtomicBool::new(false),
            ingesting: Mutex::new(Default::default()),
            checkpoint_errors: AtomicU64::new(0),
        })
    }

    /// Store a verified document under the archive's ingest policy: refuse what is not
    /// TOTAL-PASSED unless the config allows it and the caller gives a reason. A retry with the
    /// request id of a stored put answers with that record if it is the same request (user,
    /// content, metadata), and is refused naming what differs if it is not.
    pub fn ingest(
        &self,
        req: Ingest,
        content: Vec<u8>,
        report: &kyso_verify::Report,
        user: &str,
    ) -> std::result::Result<Ingested, IngestError> {
        let passed = report.indication == kyso_verify::Indication::TotalPassed;
        let indication = report.indication.as_str().to_string();
        let mut meta = req.meta;
        if meta.contains_key(REQUEST_ID) || meta.contains_key(UNSIGNED) {
            return Err(ArchiveError::Input(
                "meta keys client_request_id and stored_without_valid_signature are reserved"
                    .into(),
            )
            .into());
        }
        if !passed {
            match &req.allow_unsigned {
                Some(r) if self.allow_unsigned && !r.trim().is_empty() => {
                    meta.insert(UNSIGNED.into(), r.clone());
                }
                Some(_) if !self.allow_unsigned => {
                    return Err(IngestError::NotVerified(format!(
                        "refused: the document's signatures are {indication}, and this archive does not store unsigned documents"
                    )))
                }
                _ => {
                    let why = report
                        .signatures
                        .first()
                        .and_then(|s| s.messages.first())
                        .or_else(|| report.messages.first())
                        .cloned()
                        .unwrap_or_default();
                    return Err(IngestError::NotVerified(format!(
                        "refused: the document's signatures are {indication} ({why}); give allow_unsigned with a reason to store it anyway"
                    )));
                }
            }
        }
        let sha256 = hex::encode(ring::digest::digest(&ring::digest::SHA256, &content));
        let _guard;
        if let Some(id) = &req.request_id {
            if id.is_empty() || id.len() > 128 {
                return Err(ArchiveError::Input("request_id: 1–128 characters".into()).into());
            }
            meta.insert(REQUEST_ID.into(), id.clone());
            _guard = Some(self.ingest_guard(&req.code, id)?);
            for r in self.archive.find_code(&req.code)? {
                if r.meta.get(REQUEST_ID) != Some(id) {
                    continue;
                }
                if r.ingest_user != user {
                    return Err(IngestError::Conflict(format!(
                        "request_id {id:?} was used under {} by another user; choose another",
                        req.code
                    )));
                }
                if r.content_sha256 != sha256 {
                    return Err(IngestError::Conflict(format!(
                        "request_id {id:?} was already used for other content under {}",
                        req.code
                    )));
                }
                let mut differ = Vec::new();
                for (name, stored, sent) in [
                    ("title", &r.title, &req.title),
                    ("agency", &r.agency, &req.agency),
                    ("procedure", &r.procedure, &req.procedure),
                    ("dossier", &r.dossier, &req.dossier),
                    ("issue_date", &r.issue_date, &req.issue_date),
                ] {
                    if stored != sent {
                        differ.push(name.to_string());
                    }
                }
                if r.meta != meta {
                    differ.push("meta (or allow_unsigned)".into());
                }
                if !differ.is_empty() {
                    return Err(IngestError::Conflict(format!(
                        "request_id {id:?} was stored as record {} with other {}; a retry sends the same request, a new request a new request_id",
                        r.id,
                        differ.join(", ")
                    )));
                }
                return Ok(Ingested {
                    record: r.id,
                    leaf: r.leaf,
                    indication,
                    replayed: true,
                });
            }
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
            code: req.code,
            title: req.title,
            agency: req.agency,
            procedure: req.procedure,
            dossier: req.dossier,
            issue_date: req.issue_date,
            media_type: if kyso_verify::looks_like_pdf(&content) {
                "application/pdf".into()
            } else {
                "application/pkcs7-mime".into()
            },
            signatures,
            report: serde_json::to_value(report).unwrap_or_default(),
            user: user.into(),
            meta,
        };
        let (record, leaf) = self.archive.put(rec, content)?;
        Ok(Ingested {
            record,
            leaf,
            indication,
            replayed: false,
        })
    }

    fn ingest_guard(
        &self,
        code: &str,
        id: &str,
    ) -> std::result::Result<IngestGuard<'_>, IngestError> {
        let key = (code.to_string(), id.to_string());
        let mut set = self.ingesting.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(key.clone()) {
            return Err(IngestError::InProgress(format!(
                "request_id {id:?} is being stored right now; retry in a moment"
            )));
        }
        Ok(IngestGuard { store: self, key })
    }

    /// A record's metadata and status. A logged read (who and why).
    pub fn record(&self, id: u64, user: &str, purpose: &str) -> Result<(Record, Status)> {
        let r = self.archive.record(id)?;
        let s = self.archive.status(id)?;
        self.log_read(id, user, &format!("metadata: {purpose}"))?;
        Ok((r, s))
    }

    /// A record's content. The archive logs the read durably before returning the bytes.
    pub fn content(&self, id: u64, user: &str, purpose: &str) -> Result<(Record, Vec<u8>)> {
        let r = self.archive.record(id)?;
        let bytes = self.archive.read_content(id, user, purpose)?;
        Ok((r, bytes))
    }

    /// Find records; every record returned is a logged read of its metadata.
    pub fn find(
        &self,
        by: Find<'_>,
        user: &str,
        purpose: &str,
        max: usize,
    ) -> Result<(Vec<(Record, Status)>, bool)> {
        let (found, how) = match by {
            Find::Code(c) => (self.archive.find_code(c)?, "find by code"),
            Find::Subject(s) => (self.archive.find_subject(s)?, "find by subject"),
            Find::Agency { agency, from, to } => (
                self.archive.find_agency(agency, from, to)?,
                "find by agency",
            ),
        };
        let truncated = found.len() > max;
        let mut out = Vec::new();
        for r in found.into_iter().take(max) {
            let s = self.archive.status(r.id)?;
            self.log_read(r.id, user, &format!("{how}: {purpose}"))?;
            out.push((r, s));
        }
        Ok((out, truncated))
    }

    fn log_read(&self, id: u64, user: &str, reason: &str) -> Result<u64> {
        self.archive.log(Event::Read {
            record: id,
            user: user.into(),
            reason: reason.into(),
            time: now_rfc3339(),
        })
    }

    /// Change a record's status for `user`, who acts for `agency`. A record of an agency is
    /// changed by users of that agency only; one without an agency only by whoever archived
    /// it. A record is superseded only by another version of the same document: the same code
    /// (subject and document type), the same agency, not revoked. (kyso-archive keeps the rest:
    /// the record exists, revoked is final, a revocation has a reason, no self-supersession.)
    pub fn set_status(
        &self,
        id: u64,
        status: Status,
        user: &str,
        agency: Option<&str>,
    ) -> std::result::Result<u64, StatusError> {
        let rec = self.archive.record(id)?;
        match (rec.agency.as_deref(), agency) {
            (Some(theirs), Some(mine)) if theirs == mine => {}
            (Some(theirs), mine) => {
                return Err(StatusError::Forbidden(format!(
                    "record {id} is of agency {theirs:?}; {}",
                    match mine {
                        Some(m) => format!("you act for {m:?}"),
                        None => "you act for no agency (agency in the configuration)".into(),
                    }
                )))
            }
            (None, _) if rec.ingest_user == user => {}
            (None, _) => {
                return Err(StatusError::Forbidden(format!(
                "record {id} names no agency: only the user who archived it may change its status"
            )))
            }
        }
        if let Status::SupersededBy { record } = &status {
            let by = match self.archive.record(*record) {
                Ok(r) => r,
                Err(ArchiveError::NoRecord(_)) => {
                    return Err(StatusError::Refused(format!(
                        "record {record} does not exist"
                    )))
                }
                Err(e) => return Err(e.into()),
            };
            if by.id == id {
                return Err(StatusError::Refused(
                    "a record cannot supersede itself".into(),
                ));
            }
            if by.code != rec.code {
                return Err(StatusError::Refused(format!(
                    "record {record} is {}, record {id} is {}: a record is superseded only by another version of the same document (same subject and document type)",
                    by.code, rec.code
                )));
            }
            if by.agency != rec.agency {
                return Err(StatusError::Refused(format!(
                    "record {record} is of another agency than record {id}"
                )));
            }
            if let Status::Revoked { .. } = self.archive.status(by.id)? {
                return Err(StatusError::Refused(format!(
                    "record {record} is revoked: it cannot supersede another"
                )));
            }
        }
        Ok(self.archive.set_status(id, status, user)?)
    }

    /// Log a signature the service made (or finalized).
    pub fn log_signature(
        &self,
        document_sha256: &[u8],
        signer: String,
        format: &str,
        user: &str,
    ) -> Result<u64> {
        self.archive.log(Event::Signature {
            document_sha256: hex::encode(document_sha256),
            signer,
            format: format.into(),
            user: user.into(),
            time: now_rfc3339(),
        })
    }

    /// The record (if any) under `code` whose content has this SHA-256, newest first.
    pub fn by_content(&self, code: &str, sha256: &str) -> Result<Option<Record>> {
        Ok(self
            .archive
            .find_code(code)?
            .into_iter()
            .find(|r| r.content_sha256.eq_ignore_ascii_case(sha256)))
    }

    /// A record and its status, without logging: for proofs of records the caller already
    /// identified by id (what is returned is the log entry, which is public to the role).
    pub fn record_for_proof(&self, id: u64) -> Result<(Record, Status)> {
        Ok((self.archive.record(id)?, self.archive.status(id)?))
    }

    pub fn size(&self) -> Result<u64> {
        self.archive.size()
    }

    pub fn leaf_hash(&self, index: u64) -> Result<[u8; 32]> {
        self.archive.leaf(index)
    }

    pub fn event(&self, index: u64) -> Result<Vec<u8>> {
        self.archive.event_bytes(index)
    }

    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<[u8; 32]>> {
        self.check_size(size)?;
        if index >= size {
            return Err(ArchiveError::Input(format!(
                "leaf {index} is not in a tree of {size} entries"
            )));
        }
        self.archive.inclusion_proof(index, size)
    }

    pub fn consistency(&self, old: u64, new: u64) -> Result<Vec<[u8; 32]>> {
        self.check_size(new)?;
        if old > new {
            return Err(ArchiveError::Input(
                "old size is larger than new size".into(),
            ));
        }
        self.archive.consistency_proof(old, new)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        let have = self.archive.size()?;
        if size > have {
            return Err(ArchiveError::Input(format!(
                "the log has {have} entries, not {size}"
            )));
        }
        Ok(())
    }

    /// The newest signed checkpoint covering at least `min_size` entries; signs one now if the
    /// newest does not (the publisher would within a second anyway).
    pub fn checkpoint(&self, min_size: u64) -> Result<(u64, String)> {
        self.check_size(min_size)?;
        if let Some((size, note)) = self
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            if size >= min_size && size > 0 {
                return Ok((size, note));
            }
        }
        self.sign_now()?;
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|(s, _)| *s >= min_size)
            .ok_or_else(|| ArchiveError::Checkpoint("no checkpoint covers that entry yet".into()))
    }

    fn sign_now(&self) -> Result<()> {
        let note = self
            .archive
            .sign_checkpoint(&self.origin, &self.key_name, self.key.as_ref());
        match note {
            Ok(note) => {
                let size = note
                    .lines()
                    .nth(1)
                    .and_then(|l| l.parse::<u64>().ok())
                    .unwrap_or(0);
                let mut l = self.latest.lock().unwrap_or_else(|p| p.into_inner());
                if l.as_ref().is_none_or(|(s, _)| size >= *s) {
                    *l = Some((size, note));
                }
                *self.latest_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                self.token_ok.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.checkpoint_errors.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// The checkpoint key's public key (DER SubjectPublicKeyInfo).
    pub fn log_public_key(&self) -> Vec<u8> {
        der::Encode::to_der(self.key.public_key_info()).unwrap_or_default()
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// Seconds since the newest checkpoint was signed by this process (None: none yet).
    pub fn checkpoint_age(&self) -> Option<f64> {
        self.latest_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|t| t.elapsed().as_secs_f64())
    }

    /// Ready: the database answers, the checkpoint publisher ran within 5 s, the token signed
    /// within its last probe.
    pub fn readiness(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("database", self.archive.size().is_ok()),
            (
                "checkpointer",
                now_secs().saturating_sub(self.publisher_tick.load(Ordering::Relaxed)) <= 5,
            ),
            ("token", self.token_ok.load(Ordering::Relaxed)),
        ]
    }

    /// The checkpoint publisher: every `every`, sign a checkpoint if the log grew; every ten
    /// rounds, check that the token still signs. Runs until [`Store::stop`]; signs a last
    /// checkpoint on the way out.
    pub fn run_publisher(
        self: Arc<Self>,
        every: Duration,
        token_errors: prometheus::IntCounter,
    ) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("kyso-checkpointer".into())
            .spawn(move || {
                let mut round = 0u64;
                loop {
                    let stopping = self.stop.load(Ordering::Relaxed);
                    self.publisher_tick.store(now_secs(), Ordering::Relaxed);
                    let signed = self
                        .latest
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .as_ref()
                        .map(|l| l.0)
                        .unwrap_or(0);
                    match self.archive.size() {
                        Ok(size) if size > signed => {
                            if let Err(e) = self.sign_now() {
                                tracing::error!(error = %e, "checkpoint not signed");
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "archive size unreadable"),
                    }
                    if round % 10 == 0 {
                        let ok = self.key.sign_digest(&[0x5a; 32]).is_ok();
                        if !ok {
                            token_errors.inc();
                            tracing::error!("token probe: the checkpoint key does not sign");
                        }
                        self.token_ok.store(ok, Ordering::Relaxed);
                    }
                    round += 1;
                    if stopping {
                        break;
                    }
                    std::thread::sleep(every);
                }
            })
            .expect("spawn the checkpoint publisher")
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct IngestGuard<'a> {
    store: &'a Store,
    key: (String, String),
}

impl Drop for IngestGuard<'_> {
    fn drop(&mut self) {
        self.store
            .ingesting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

pub enum Find<'a> {
    Code(&'a str),
    Subject(&'a str),
    Agency {
        agency: &'a str,
        from: &'a str,
        to: &'a str,
    },
}
