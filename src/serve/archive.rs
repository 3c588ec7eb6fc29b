//! Every call the service makes into kyso-archive, in one place. The archive keeps its own
//! rules (ingest policy, logged reads and finds, status rules); this file maps the service's
//! requests onto them. All functions block (RocksDB, WAL syncs, the token): call them off the
//! runtime.

use kyso_archive::{
    Access, Activity, Archive, ArchiveError, CheckpointSigner, Metadata, Prepared, Query, Record,
    Status,
};
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

pub use kyso_archive::Ingested;

/// How long a caller waits for a checkpoint signed on demand to cover its entry.
const ON_DEMAND_WAIT: Duration = Duration::from_secs(5);

/// Checkpoints signed on demand: whether one is being signed, when the last attempt ended, and
/// why it failed if it did (told to the callers until the interval has passed).
#[derive(Default)]
struct OnDemand {
    signing: bool,
    at: Option<Instant>,
    failed: Option<String>,
}

/// The open archive, its checkpoint key, and the state of the checkpoint publisher.
pub struct Store {
    archive: Arc<Archive>,
    signer: CheckpointSigner,
    allow_unsigned: bool,
    /// The newest signed checkpoint: (tree size, note).
    latest: Mutex<Option<(u64, String)>>,
    /// When the newest checkpoint's age was last known, and that age: the clock that counts
    /// it on is the monotonic one (a clock set back read 0 for as long as it was behind;
    /// helper 218).
    latest_at: Mutex<Option<(Instant, Duration)>>,
    /// Checkpoints signed on demand ([`Store::checkpoint`]): one at a time, at most one per
    /// [`CHECKPOINT_INTERVAL`]; the callers meanwhile wait on the condition variable.
    on_demand: (Mutex<OnDemand>, std::sync::Condvar),
    /// Seconds since the epoch of the publisher's last round; and the token probe's result.
    publisher_tick: AtomicU64,
    token_ok: AtomicBool,
    stop: AtomicBool,
    pub checkpoint_errors: AtomicU64,
    /// The checkpoint failures no success has covered since.
    failing: Failing,
}

/// Checkpoint failures not covered by a success since: when the first of them was, and the
/// largest log size they tried to sign. A failure counts against readiness only while no
/// checkpoint of that size or larger is signed: a failure that ended just after a concurrent
/// success (its mark set after the success had cleared it) is covered by that success, and
/// did not turn `/readyz` 503 for the next put's half second (an insider's reading,
/// 2026-12-04).
#[derive(Default)]
struct Failing(Mutex<Option<(u64, u64)>>);

impl Failing {
    /// A checkpoint of `size` entries (or more) could not be signed at `now` (seconds);
    /// `signed`: the newest checkpoint's size.
    fn failed(&self, size: u64, signed: u64, now: u64) {
        if size <= signed {
            return;
        }
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *f = Some(match *f {
            Some((since, s)) => (since, s.max(size)),
            None => (now, size),
        });
    }

    /// A checkpoint of `size` entries is signed: it covers the failures that tried no more.
    fn signed(&self, size: u64) {
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_some_and(|(_, s)| s <= size) {
            *f = None;
        }
    }

    /// Since when checkpoints have been failing, given the newest signed size and the log's
    /// (none while the log is not ahead of the newest checkpoint: an idle log is never signed
    /// again, so its old failure would stay).
    fn since(&self, signed: u64, log: u64) -> Option<u64> {
        let f = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        f.filter(|&(_, s)| s > signed && log > signed)
            .map(|(since, _)| since)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The most records holding one document whose statuses a lookup reads to decide.
const MAX_COPIES: usize = 100_000;

/// What a lookup of a document found: the record whose status speaks for it, how many records
/// hold it, and whether any of them has another status.
pub struct Decided {
    pub record: Option<(Record, Status)>,
    pub copies: u64,
    pub copies_differ: bool,
    /// Narrowed by a code or a record: the weightiest status of the copies outside, when it
    /// is weightier than the answer's.
    pub elsewhere: Option<String>,
    /// The status is another copy's than the record's (for the public: whose is not said).
    pub another: bool,
}

impl Store {
    pub fn open(
        db: &std::path::Path,
        key: Arc<dyn SignDigest>,
        origin: String,
        key_name: String,
        allow_unsigned: bool,
        state_file: std::path::PathBuf,
        max_document_bytes: u64,
    ) -> Result<Store> {
        let config = kyso_archive::Config {
            max_document_bytes,
            ..Default::default()
        };
        let archive = Arc::new(Archive::open_with(db, config)?);
        // The newest checkpoint, once at start.
        let latest = archive.last_checkpoint()?;
        let signer = CheckpointSigner {
            origin,
            key_name,
            key,
            state_file,
        };
        // Judged at start, as every checkpoint will be: a config naming the log otherwise
        // than its last checkpoint, or a state file the checkpointer cannot read, is said
        // now rather than in the log of every round.
        archive.check_signer(&signer)?;
        // The operator's word to write the state file anew is kept until the next checkpoint:
        // on an idle log that was the first put, days later perhaps, with no guard against a
        // restored database meanwhile (an insider's reading, 2026-12-04). Written now.
        if archive.has_signed()?
            && kyso_archive::checkpointer::read_state_note(&signer.state_file)?.is_none()
        {
            archive.sign_checkpoint(&signer)?;
        }
        // The newest checkpoint's time, after a restart: when the state file was last written,
        // as every checkpoint writes it (the stored notes carry no time). The age read -1,
        // "none yet", on an appliance that had signed for months until it signed again
        // (helper 216).
        let latest_at = latest.as_ref().and_then(|_| {
            let written = std::fs::metadata(&signer.state_file)
                .and_then(|m| m.modified())
                .ok()?;
            match SystemTime::now().duration_since(written) {
                Ok(age) => Some((Instant::now(), age)),
                // Written in the future: the clock or the file was set otherwise; unknown
                // (-1) rather than 0, which an alert on the age would take for fresh.
                Err(_) => {
                    tracing::warn!(
                        "the checkpoint state file is dated ahead of the clock: the newest checkpoint's age is unknown until the next one"
                    );
                    None
                }
            }
        });
        Ok(Store {
            archive,
            signer,
            allow_unsigned,
            latest: Mutex::new(latest),
            latest_at: Mutex::new(latest_at),
            on_demand: Default::default(),
            publisher_tick: AtomicU64::new(now_secs()),
            token_ok: AtomicBool::new(true),
            stop: AtomicBool::new(false),
            checkpoint_errors: AtomicU64::new(0),
            failing: Failing::default(),
        })
    }

    /// The CPU half of an ingest (validation and the archive's policy), for the validation
    /// threads: the archive decides; the service only refuses "store anyway" when its config
    /// does not allow it.
    pub fn prepare(
        &self,
        validator: &kyso_verify::Validator,
        req: Ingest,
        content: Vec<u8>,
        user: &str,
    ) -> Result<Prepared> {
        if req.allow_unsigned.is_some() && !self.allow_unsigned {
            return Err(ArchiveError::Input(
                "allow_unsigned: this archive does not store documents whose signatures did not pass".into(),
            ));
        }
        kyso_archive::ingest::prepare(
            &self.archive,
            validator,
            kyso_archive::Ingest {
                document: content,
                detached_signature: None,
                metadata: Metadata {
                    code: req.code,
                    title: req.title,
                    agency: req.agency,
                    procedure: req.procedure,
                    dossier: req.dossier,
                    issue_date: req.issue_date,
                    meta: req.meta,
                },
                user: user.into(),
                allow_unverified: req.allow_unsigned,
                request_id: req.request_id,
                media_type: None,
            },
        )
    }

    /// The durable half: returns once the record is on disk.
    pub fn store(&self, p: Prepared) -> Result<Ingested> {
        kyso_archive::ingest::store(&self.archive, p)
    }

    /// A record's metadata and status. A logged read (who and why).
    pub fn record(&self, id: u64, user: &str, purpose: &str) -> Result<(Record, Status)> {
        self.archive.read_record(id, &Access::new(user, purpose))
    }

    /// The size of a record's content (not a read: to make room for it before reading it).
    pub fn content_size(&self, id: u64) -> Result<u64> {
        self.archive.content_size(id)
    }

    /// A record's content. The archive logs the read durably before returning the bytes.
    pub fn content(&self, id: u64, user: &str, purpose: &str) -> Result<(Record, Vec<u8>)> {
        let c = self.archive.read_content(id, &Access::new(user, purpose))?;
        Ok((c.record, c.document))
    }

    /// Find records; the archive logs the lookup with every record returned.
    pub fn find(
        &self,
        by: Find<'_>,
        user: &str,
        purpose: &str,
    ) -> Result<(Vec<(Record, Status)>, bool)> {
        let query = match by {
            Find::Code(c) => Query::Code(c.into()),
            Find::Subject(s) => Query::Subject(s.into()),
            Find::Agency { agency, from, to } => Query::Agency {
                agency: agency.into(),
                from: from.into(),
                to: to.into(),
            },
        };
        let found = self.archive.find(&query, &Access::new(user, purpose))?;
        Ok((found.records, found.truncated))
    }

    /// Change a record's status for `user`, who acts for `agency`: the archive's writer keeps
    /// every rule (only the agency's records — a record without one only by whoever archived
    /// it —, superseded only by another version of the same document, revoked is final).
    pub fn set_status(
        &self,
        id: u64,
        status: Status,
        user: &str,
        agency: Option<&str>,
    ) -> Result<u64> {
        self.archive.set_status_for(id, status, user, agency)
    }

    /// The statistics of the quarterly report, from the archive's counters.
    pub fn stats(&self, q: &kyso_archive::StatsQuery) -> Result<kyso_archive::StatsReport> {
        self.archive.stats(q)
    }

    /// Log a signature the service made (or finalized).
    pub fn log_signature(
        &self,
        document_sha256: &[u8],
        signer: String,
        format: &str,
        user: &str,
    ) -> Result<u64> {
        self.archive.log(
            Activity::Signature {
                document_sha256: hex::encode(document_sha256),
                signer,
                format: format.into(),
            },
            user,
        )
    }

    /// The record of exactly this document (by its SHA-256; optionally only those under `code`
    /// or the record `record`) whose status speaks for it ([`kyso_archive::lookup::
    /// deciding_copy`]: a revocation of any copy first), how many records hold the document,
    /// and whether any of them has another status than that one: a lookup the archive logs
    /// with the caller, its purpose and the records it answers. Past the copies a lookup
    /// lists, every copy's status is read (statuses only, up to [`MAX_COPIES`]; narrowed by a
    /// code, those under the code), and the deciding one is read too: a thousand copies an
    /// insider archived after the issuer's revoked one hid its revocation (an attacker's
    /// reading, 2026-12-05). Narrowed, the weightiest status outside the narrowing is said
    /// when it is weightier ([`Decided::elsewhere`]).
    ///
    /// For the public (`public`), the record shown is the first archived of those asked about
    /// (under the code given, if any), with the deciding copy's status: the deciding copy's
    /// ingest event named another citizen's code, its clerk and its agency — a licence
    /// revoked as an input to someone's hospital file told anyone holding the licence who
    /// that was (an attacker's reading, 2026-12-05). [`Decided::another`] then says the status
    /// is another copy's.
    pub fn deciding_copy(
        &self,
        sha256: &str,
        (code, record): (Option<&str>, Option<u64>),
        user: &str,
        purpose: &str,
        public: bool,
    ) -> Result<Decided> {
        let access = Access::new(user, purpose);
        let query = Query::Content {
            sha256: sha256.into(),
            code: code.map(str::to_string),
            record,
        };
        let found = self.archive.find(&query, &access)?;
        let too_many = |under_code: bool| {
            ArchiveError::Input(if under_code {
                format!("more than {MAX_COPIES} records are filed under this code")
            } else {
                format!(
                    "more than {MAX_COPIES} records hold this document: narrow the lookup by code"
                )
            })
        };
        // Listed whole, or one record: decided on what the lookup read; else on every copy's
        // status.
        let all: Vec<(u64, Status)> = if !found.truncated || record.is_some() {
            found
                .records
                .iter()
                .map(|(r, s)| (r.id, s.clone()))
                .collect()
        } else {
            match code {
                Some(c) => self.archive.content_statuses_under(sha256, c, MAX_COPIES)?,
                None => self.archive.content_statuses(sha256, MAX_COPIES)?,
            }
            .ok_or_else(|| too_many(code.is_some()))?
        };
        let listed: Vec<(u64, &Status)> = all.iter().map(|(id, s)| (*id, s)).collect();
        let copies = listed.len() as u64;
        let Some(id) = kyso_archive::lookup::deciding_copy(&listed) else {
            return Ok(Decided {
                record: None,
                copies,
                copies_differ: false,
                elsewhere: None,
                another: false,
            });
        };
        let status = all
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, s)| s.clone())
            .unwrap_or(Status::Valid);
        let copies_differ = listed.iter().any(|(_, s)| s.name() != status.name());
        // Narrowed, the copies outside are weighed too (statuses only): narrowed by its own
        // code, another agency's copy answered "valid" with no word of the issuer's
        // revocation (an attacker's reading, 2026-12-05).
        let elsewhere = if code.is_some() || record.is_some() {
            let everywhere = self
                .archive
                .content_statuses(sha256, MAX_COPIES)?
                .ok_or_else(|| {
                    ArchiveError::Input(format!(
                        "more than {MAX_COPIES} records hold this document: the copies outside the narrowing cannot be weighed"
                    ))
                })?;
            let mine: std::collections::HashSet<u64> = listed.iter().map(|(i, _)| *i).collect();
            let shown = kyso_archive::lookup::weight(&status);
            everywhere
                .iter()
                .filter(|(i, s)| !mine.contains(i) && kyso_archive::lookup::weight(s) > shown)
                .max_by_key(|(_, s)| kyso_archive::lookup::weight(s))
                .map(|(_, s)| s.name().to_string())
        } else {
            None
        };
        // The record shown: the deciding one, or for the public the first archived of those
        // asked about; logged as read when the lookup did not list it, and answered as held to
        // its ingest event (an edited record's agency or code is not the public's answer).
        let shown = if public {
            listed.iter().map(|(i, _)| *i).min().unwrap_or(id)
        } else {
            id
        };
        if !found.records.iter().any(|(r, _)| r.id == shown) {
            let query = Query::Content {
                sha256: sha256.into(),
                code: None,
                record: Some(shown),
            };
            self.archive.find(&query, &access)?;
        }
        let held = self.archive.bound_record(shown)?;
        Ok(Decided {
            record: Some((held, status)),
            copies,
            copies_differ,
            elsewhere,
            another: shown != id,
        })
    }

    pub fn size(&self) -> Result<u64> {
        Ok(self.archive.size())
    }

    /// Log that `user` read the log's entries `[start, end)`, for `purpose`.
    /// See [`kyso_archive::Archive::forget_lookup`].
    pub fn forget_lookup(&self, user: &str, sha256: &str) {
        self.archive.forget_lookup(user, sha256);
    }

    pub fn log_read(&self, start: u64, end: u64, user: &str, purpose: String) -> Result<u64> {
        self.archive.log(
            Activity::LogRead {
                start,
                end,
                purpose,
            },
            user,
        )
    }

    pub fn leaf_hash(&self, index: u64) -> Result<[u8; 32]> {
        self.archive.leaf(index)
    }

    pub fn event(&self, index: u64) -> Result<Vec<u8>> {
        self.archive.entry(index)
    }

    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<[u8; 32]>> {
        self.check_size(size, || format!("no tree of {size} entries"))?;
        if index >= size {
            return Err(ArchiveError::Input(format!(
                "leaf {index} is not in a tree of {size} entries"
            )));
        }
        self.archive.inclusion_proof(index, size)
    }

    pub fn consistency(&self, old: u64, new: u64) -> Result<Vec<[u8; 32]>> {
        self.check_size(new, || format!("no tree of {new} entries"))?;
        if old > new {
            return Err(ArchiveError::Input(
                "old size is larger than new size".into(),
            ));
        }
        self.archive.consistency_proof(old, new)
    }

    /// `size`: the entries a proof or checkpoint needs (an entry's number + 1 for its
    /// inclusion); `what` says it as the caller asked.
    fn check_size(&self, size: u64, what: impl FnOnce() -> String) -> Result<()> {
        let have = self.archive.size();
        if size > have && have == 0 {
            // Not "0 entries (0 to 0)" (a helper's reading, 2026-12-07).
            return Err(ArchiveError::Input(format!(
                "the log has no entries yet: {}",
                what()
            )));
        }
        if size > have {
            return Err(ArchiveError::Input(format!(
                "the log has {have} entries (0 to {}): {}",
                have.saturating_sub(1),
                what()
            )));
        }
        Ok(())
    }

    /// The newest signed checkpoint covering at least `min_size` entries; signs one now if the
    /// newest does not (the publisher would within a second anyway).
    pub fn checkpoint(self: &Arc<Self>, min_size: u64) -> Result<(u64, String)> {
        // Asked for entry `min_size - 1` (its inclusion proof), or for a tree of `min_size`
        // entries: said as the entry (a proof for entry 99999 said "not 100000").
        self.check_size(min_size, || {
            format!("no entry {} yet", min_size.saturating_sub(1))
        })?;
        let covered = || {
            self.latest
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .filter(|(size, _)| *size >= min_size && *size > 0)
        };
        if let Some(c) = covered() {
            return Ok(c);
        }
        // Signed on demand one at a time, at most once per interval: the callers meanwhile
        // share that signature — or its failure, told at once. Each public proof of the newest
        // entry signed one of its own: 629 token signatures, state-file writes and stored
        // checkpoints in 10 s from four anonymous clients, against 20 with them quiet (helper
        // 250). Waiting in turn, each trying again after a failure, sixteen callers took 8 s
        // each while signing failed, and a hundred filled every blocking thread (helper 251).
        let (lock, turn) = &self.on_demand;
        let give_up = Instant::now() + ON_DEMAND_WAIT;
        let mut d = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(c) = covered() {
                return Ok(c);
            }
            let now = Instant::now();
            if now >= give_up {
                return Err(ArchiveError::Checkpoint(format!(
                    "no checkpoint covering entry {} was signed within {} s",
                    min_size.saturating_sub(1),
                    ON_DEMAND_WAIT.as_secs()
                )));
            }
            let recent =
                d.at.map(|at| at.elapsed())
                    .filter(|e| *e < CHECKPOINT_INTERVAL);
            if let (Some(_), Some(why)) = (recent, &d.failed) {
                return Err(ArchiveError::Checkpoint(why.clone()));
            }
            // Looked at again every interval at least: the publisher's checkpoint may cover
            // the entry while a signature of ours hangs (it notifies no one; helper 254).
            if d.signing || recent.is_some() {
                let wait = recent.map_or(give_up - now, |e| CHECKPOINT_INTERVAL - e);
                d = turn
                    .wait_timeout(d, wait.min(give_up - now).min(CHECKPOINT_INTERVAL))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                continue;
            }
            // None begun once the service stops: the stop waits, bounded, for the one being
            // signed ([`Store::idle_by`]), and a thread begun after that wait held the archive
            // open past it. Read under the lock `idle_by` takes.
            if self.stop.load(Ordering::Relaxed) {
                return Err(ArchiveError::Checkpoint(
                    "the service is stopping: no checkpoint is signed on demand now".into(),
                ));
            }
            // Signed on a thread of its own, the caller waiting like the others: a token that
            // hangs held the caller that signed for as long (40 s; helper 252).
            d.signing = true;
            let me = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("kyso-checkpoint".into())
                .spawn(move || {
                    let signed =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| me.sign_now()));
                    let (lock, turn) = &me.on_demand;
                    let mut d = lock.lock().unwrap_or_else(|p| p.into_inner());
                    d.signing = false;
                    d.at = Some(Instant::now());
                    d.failed = match signed {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => Some(e.to_string()),
                        Err(_) => Some("the checkpoint signer failed unexpectedly".into()),
                    };
                    turn.notify_all();
                });
            if let Err(e) = spawned {
                d.signing = false;
                return Err(ArchiveError::Checkpoint(format!(
                    "no thread to sign a checkpoint on: {e}"
                )));
            }
        }
    }

    /// Wait until no checkpoint is being signed on demand, or until `deadline`: whether none
    /// is. After [`Store::stop`] none is begun.
    pub fn idle_by(&self, deadline: Instant) -> bool {
        let (lock, turn) = &self.on_demand;
        let mut d = lock.lock().unwrap_or_else(|p| p.into_inner());
        while d.signing {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            d = turn
                .wait_timeout(d, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    fn signed_size(&self) -> u64 {
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map_or(0, |l| l.0)
    }

    fn sign_now(&self) -> Result<()> {
        // The checkpoint signs at least the entries the log holds now.
        let trying = self.archive.size();
        let note = self.archive.sign_checkpoint(&self.signer);
        match note {
            Ok(note) => {
                let size = note
                    .lines()
                    .nth(1)
                    .and_then(|l| l.parse::<u64>().ok())
                    .unwrap_or(0);
                {
                    let mut l = self.latest.lock().unwrap_or_else(|p| p.into_inner());
                    if l.as_ref().is_none_or(|(s, _)| size >= *s) {
                        *l = Some((size, note));
                    }
                }
                *self.latest_at.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), Duration::ZERO));
                self.token_ok.store(true, Ordering::Relaxed);
                self.failing.signed(size);
                Ok(())
            }
            Err(e) => {
                self.checkpoint_errors.fetch_add(1, Ordering::Relaxed);
                self.failing
                    .failed(trying.max(1), self.signed_size(), now_secs());
                Err(e)
            }
        }
    }

    /// Export records to `out` (or finish the interrupted export there: same arguments), the
    /// archive's way: the export event(s) with `user` and `reason` logged durably before the
    /// first read, a checkpoint signed with the log key and time-stamped by `stamper`. A BagIt
    /// bag is a directory or one tar file (`serialization`; src/serve/exports.rs chooses).
    #[allow(clippy::too_many_arguments)]
    pub fn export(
        &self,
        out: &std::path::Path,
        format: kyso_archive::bag::Format,
        serialization: kyso_archive::bag::Serialization,
        selection: kyso_archive::export::Selection,
        user: &str,
        reason: &str,
        organization: &str,
        workers: usize,
        stamper: Option<kyso_archive::bag::Stamper<'_>>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<kyso_archive::bag::ExportSummary> {
        let o = kyso_archive::bag::ExportOptions {
            out: out.to_path_buf(),
            format,
            selection,
            access: Access::new(user, reason),
            organization: organization.into(),
            signer: Some(&self.signer),
            stamper,
            pace: None,
            commit_every: 0,
            serialization,
            // `export.workers` (1 by default): an export job must not take the cores the
            // verification requests are served on unless the operator says so.
            workers,
        };
        kyso_archive::bag::export(&self.archive, &o, progress)
    }

    /// The checkpoint key's public key (DER SubjectPublicKeyInfo).
    pub fn log_public_key(&self) -> Vec<u8> {
        der::Encode::to_der(self.signer.key.public_key_info()).unwrap_or_default()
    }

    pub fn origin(&self) -> &str {
        &self.signer.origin
    }

    pub fn key_name(&self) -> &str {
        &self.signer.key_name
    }

    /// Seconds since the newest checkpoint was signed (None: none yet); after a restart, since
    /// the checkpoint state file was last written.
    pub fn checkpoint_age(&self) -> Option<f64> {
        self.latest_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|(at, age)| (age + at.elapsed()).as_secs_f64())
    }

    /// Seconds the log's last entry is dated ahead of the clock (0 when it is not): a clock
    /// set back, or one that ran ahead when an entry was written (docs/operations.md, "The
    /// clock").
    pub fn log_ahead_of_clock(&self) -> f64 {
        self.archive.log_ahead_of_clock().as_secs_f64()
    }

    /// Ready: the database answers, the checkpoint publisher ran within 5 s and no checkpoint
    /// has failed for longer than 5 s, the token signed within its last probe. With the state
    /// file's file system read-only or full, the service said it was ready while it signed no
    /// checkpoint over the records it acknowledged (an insider's reading, 2026-12-04).
    pub fn readiness(&self) -> Vec<(&'static str, bool)> {
        let now = now_secs();
        let signed = self.signed_size();
        let failing = self.failing.since(signed, self.archive.size());
        vec![
            ("database", self.archive.healthy()),
            (
                "checkpointer",
                now.saturating_sub(self.publisher_tick.load(Ordering::Relaxed)) <= 5
                    && failing.is_none_or(|since| now.saturating_sub(since) <= 5),
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
                    if self.archive.size() > signed {
                        if let Err(e) = self.sign_now() {
                            tracing::error!(error = %e, "checkpoint not signed");
                        }
                    }
                    if round % 10 == 0 {
                        let ok = self.signer.key.sign_digest(&[0x5a; 32]).is_ok();
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

pub enum Find<'a> {
    Code(&'a str),
    Subject(&'a str),
    Agency {
        agency: &'a str,
        from: &'a str,
        to: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::Failing;

    /// A failure that ended after a concurrent success had cleared the mark is covered by
    /// that success: the next put (the log one ahead) does not find checkpoints "failing"
    /// since long before.
    #[test]
    fn a_failure_covered_by_a_concurrent_success_is_not_failing() {
        let f = Failing::default();
        // The success (size 10) cleared first; the failure that tried 10 reports after it.
        f.signed(10);
        f.failed(10, 10, 100);
        assert_eq!(f.since(10, 11), None);
        // Reported before the success, it is cleared by it.
        f.failed(10, 9, 100);
        assert_eq!(f.since(9, 10), Some(100));
        f.signed(10);
        assert_eq!(f.since(10, 11), None);
    }

    /// Failures that try more than the newest checkpoint stay failing from the first of
    /// them, until a checkpoint covers the largest; an idle log is not "failing".
    #[test]
    fn failures_not_covered_stay_failing_from_the_first() {
        let f = Failing::default();
        f.failed(11, 10, 100);
        f.failed(12, 10, 105);
        assert_eq!(f.since(10, 12), Some(100));
        // A smaller success does not cover the larger failure.
        f.signed(11);
        assert_eq!(f.since(11, 12), Some(100));
        // The log not ahead of the newest checkpoint: nothing to sign, nothing failing.
        assert_eq!(f.since(12, 12), None);
        f.signed(12);
        assert_eq!(f.since(12, 13), None);
    }
}
