//! `kyso audit verify`: recompute the log and check everything the archive stores against it,
//! trusting nothing inside the database — and name the first inconsistency.
//!
//! - Checkpoints are verified with log keys given from outside ([`AuditOptions::keys`]),
//!   never with a key read from the database; each must be consistent (RFC 9162 §2.1.4
//!   proof) with the recomputed tree, and each key carry one name in all of them.
//! - Every leaf is recomputed from its stored event and every tree node from the leaves.
//! - Every ingest event: its record in ingest order (ids 0, 1, 2, … by leaf), the record's
//!   bytes against the event's `record_sha256`, its leaf number, code, user and time; its
//!   document (and detached signature) against SHA-256 *and* SHA-512 and size; its lookup
//!   entries and request id.
//! - Every status event refers to a record ingested before it and obeys the rules
//!   ([`Status::check_change`]); reads, finds and exports refer to existing records; an
//!   export event's status events are exactly its records' up to where it says it looked.
//! - Every lookup entry and request id entry points at a record that has it; every stored
//!   status is the log's latest; nothing is stored beyond the counters.
//!
//! A resumed audit ([`AuditOptions::since`]) starts from a checkpoint an earlier audit
//! verified: the checkpoint's signature (with the outside key) and a consistency proof to the
//! current tree prove that the entries up to it are the ones that audit read, so only newer
//! entries — and their records and documents — are read again. Older records' documents are
//! not re-read: run a full audit now and then as well.

use crate::checkpoint;
use crate::code::DocumentCode;
use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::{self, Frontier, Hash};
use crate::model::{Event, Record, Status};
use crate::schema::*;
use crate::stats::{self, Cell, StatKey, Tally, View};
use rocksdb::{Options, DB};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

/// Largest event and record the audit reads (anything larger was not written by kyso).
const MAX_EVENT: usize = 4 << 20;
use crate::model::MAX_RECORD;

/// Where an audit may resume: a signed checkpoint it verified, and what it derived from the
/// entries up to it. Kept by the auditor (`kyso audit verify --save FILE`), outside the
/// archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// The signed note of the checkpoint.
    pub checkpoint: String,
    /// Records ingested by the entries up to it.
    pub records: u64,
    /// The latest status of each record whose status changed up to it.
    pub statuses: BTreeMap<u64, Status>,
    /// The statistics counters the entries up to it give (hex key → value); absent in a file
    /// saved before counters existed, and then the resumed audit cannot check them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<BTreeMap<String, u64>>,
    /// The log indexes of each record's status events up to it; absent in a file saved before
    /// export events named status events, and then the resumed audit cannot check those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_leaves: Option<BTreeMap<u64, Vec<u64>>>,
}

/// Progress, for a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// What the audit is given.
#[derive(Default)]
pub struct AuditOptions<'a> {
    /// The log keys, as DER SubjectPublicKeyInfo, from outside the database (an old key after
    /// a rotation, and the new one).
    pub keys: Vec<Vec<u8>>,
    /// Resume from an earlier audit.
    pub since: Option<Resume>,
    /// Checkpoints kept outside the database — the checkpoint state file, a note a relying
    /// agency saved — each as (where it came from, its text): the log must extend every one.
    /// The checkpoints stored in the database are the database's word: an older copy of it put
    /// in its place brings its own.
    pub outside: Vec<(String, String)>,
    pub progress: Option<&'a mut dyn FnMut(Progress)>,
}

/// What a clean audit saw.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub tree_size: u64,
    pub root: String,
    pub records: u64,
    /// The stored checkpoints verified: all of them, or resuming, those from the audited one
    /// on.
    pub checkpoints: usize,
    /// Size of the newest checkpoint.
    pub last_checkpoint: Option<u64>,
    /// Entries after the newest checkpoint (stored, or given outside and extended by the log):
    /// under no signature yet, so one who can write the database can still remove them unseen
    /// (found by an insider's reading, 2026-12-03: a revocation made at the CLI, erased before
    /// any checkpoint was signed over it).
    pub unsigned_entries: u64,
    /// Checkpoints kept outside the archive that the log was held to (`--checkpoint`): with
    /// none, the audit checks the database against its own stored checkpoints alone.
    pub outside_checkpoints: usize,
    /// The checkpoint size a resumed audit started from.
    pub resumed_from: Option<u64>,
    /// Log entries read (all of them, or those after the resume point).
    pub entries_read: u64,
    /// Statistics counters recomputed from the log and found equal to the stored ones (None:
    /// not checked — a database whose counters are not built yet, or an audit resumed from a
    /// file saved before counters existed).
    pub counters_checked: Option<u64>,
    /// Where the next audit can resume (what `--save` writes).
    #[serde(skip)]
    pub resume: Option<Resume>,
}

fn bad(m: impl Into<String>) -> ArchiveError {
    ArchiveError::Inconsistent(m.into())
}

/// Each log key's name, as the first checkpoint that carries it gives it. The name on a
/// signature line is not under the signature (type 0x02: key ID = SHA-256(SPKI)[:4]) and kyso
/// signs under one name per key, so another name is a changed note: the checkpointer refuses
/// to sign while the database and the state file disagree on it, and pointed here, where the
/// change went unseen (2026-12-04).
#[derive(Default)]
struct KeyNames(BTreeMap<[u8; 4], (String, String)>);

impl KeyNames {
    /// Verify `note` with the given keys — at least one signed it, and every line bearing a
    /// given key's ID verifies — and hold each key to one name. `given`: a note given from
    /// outside, whose own faults are the file's (exit 5), not the database's. (Once per note:
    /// a verification before this one doubled the ECDSA work of every stored checkpoint.)
    fn hold(
        &mut self,
        note: &checkpoint::Note,
        keys: &[Vec<u8>],
        at: &str,
        given: bool,
    ) -> Result<()> {
        let fault = |e: String| {
            if given {
                ArchiveError::Input(format!("the checkpoint given in {at}: {e}"))
            } else {
                bad(format!("{at}: {e}"))
            }
        };
        let names = note.key_names(keys).map_err(fault)?;
        if names.is_empty() {
            // No given key's ID on it: verify_any says which keys it names.
            note.verify_any(keys).map_err(fault)?;
        }
        for (id, name) in names {
            match self.0.get(&id) {
                None => {
                    self.0.insert(id, (name.to_string(), at.to_string()));
                }
                Some((first, seen)) if first != name => {
                    return Err(bad(format!(
                        "{at} names the log key {} {name:?}, {seen} names it {first:?}: a key's name is not under its signature and kyso signs under one name per key, so one of them was changed",
                        hex::encode(id)
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// A log key the database records: its name, key ID and DER SPKI.
type RecordedKey = (String, [u8; 4], Vec<u8>);

/// The log keys the database records, with their key IDs; more than the signer reads are
/// planted.
fn recorded_keys(raw: &DB) -> Result<Vec<RecordedKey>> {
    let (keys, more) = recorded_log_keys(raw, MAX_LOG_KEYS)?;
    if more {
        return Err(bad(format!(
            "the database records more than {MAX_LOG_KEYS} log keys: planted"
        )));
    }
    Ok(keys
        .into_iter()
        .map(|(name, k)| (name, checkpoint::key_id_der(&k), k))
        .collect())
}

/// The records and statuses the log has set so far, and the statistics counters it gives.
#[derive(Clone)]
struct State {
    records: u64,
    statuses: BTreeMap<u64, Status>,
    /// The log indexes of each record's status events (None: not known, a resumed audit from
    /// a file saved before they were kept; export events' status lists are then not checked).
    status_leaves: Option<BTreeMap<u64, Vec<u64>>>,
    /// None when the counters are not checked.
    tally: Option<Tally>,
}

/// The records as the log left them just before an event (for the counters).
struct AuditView<'a, 'b> {
    db: &'a Db<'b>,
    state: &'a State,
    /// A status event's record, and its status before the event.
    before: Option<(u64, Status)>,
}

impl View for AuditView<'_, '_> {
    fn cell(&self, id: u64) -> Result<Cell> {
        let (_, r) = self
            .db
            .record(id)?
            .ok_or_else(|| bad(format!("record {id} is missing")))?;
        Cell::of(&r)
    }
    fn status(&self, id: u64) -> Result<Status> {
        if let Some((r, s)) = &self.before {
            if *r == id {
                return Ok(s.clone());
            }
        }
        Ok(self
            .state
            .statuses
            .get(&id)
            .cloned()
            .unwrap_or(Status::Valid))
    }
}

struct Db<'a>(&'a DB);

impl Db<'_> {
    /// A value no larger than `max` bytes.
    fn get(&self, cf_name: &str, key: &[u8], max: usize) -> Result<Option<Vec<u8>>> {
        let Some(v) = self
            .0
            .get_pinned_cf(cf(self.0, cf_name)?, key)
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        if v.len() > max {
            return Err(bad(format!(
                "a value of {} bytes in {cf_name} is larger than kyso writes",
                v.len()
            )));
        }
        Ok(Some(v.to_vec()))
    }

    fn has(&self, cf_name: &str, key: &[u8]) -> Result<bool> {
        Ok(self
            .0
            .get_pinned_cf(cf(self.0, cf_name)?, key)
            .map_err(db_err)?
            .is_some())
    }

    fn node(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        self.get(CF_NODES, &node_key(level, index), 32)
    }

    fn record(&self, id: u64) -> Result<Option<(Vec<u8>, Record)>> {
        let Some(json) = self.get(CF_RECORDS, &u64_key(id), MAX_RECORD)? else {
            return Ok(None);
        };
        let r: Record = serde_json::from_slice(&json)
            .map_err(|e| bad(format!("record {id} is not a record: {e}")))?;
        Ok(Some((json, r)))
    }

    /// Iterate a whole column family: (key, value) pairs to `f`.
    fn each(&self, cf_name: &str, f: impl FnMut(&[u8], &[u8]) -> Result<()>) -> Result<()> {
        self.each_from(cf_name, &[], f)
    }

    /// [`Db::each`] from the first key at or after `from`.
    fn each_from(
        &self,
        cf_name: &str,
        from: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut it = self.0.raw_iterator_cf(cf(self.0, cf_name)?);
        it.seek(from);
        while it.valid() {
            f(it.key().unwrap_or_default(), it.value().unwrap_or_default())?;
            it.next();
        }
        it.status().map_err(db_err)
    }
}

/// Audit the archive in `dir` (opened read-only: the service may keep running).
pub fn verify(dir: &Path, mut opts: AuditOptions) -> Result<AuditReport> {
    crate::backup::plain_files(dir)?;
    // A database made before the statistics counters has no `stats` column family until
    // kyso opens it for writing (which builds them).
    let present = DB::list_cf(&Options::default(), dir).unwrap_or_default();
    let names: Vec<&str> = CFS
        .iter()
        .copied()
        .filter(|n| *n != CF_STATS || present.iter().any(|p| p == CF_STATS))
        .collect();
    if !dir.join("CURRENT").is_file() {
        return Err(ArchiveError::NoArchive(dir.display().to_string()));
    }
    let raw = DB::open_cf_for_read_only(&Options::default(), dir, &names, false)
        .map_err(|e| crate::error::open_err(dir, e))?;
    let counters_built = names.contains(&CF_STATS)
        && raw
            .get_cf(cf(&raw, CF_META)?, META_STATS)
            .map_err(db_err)?
            .is_some();
    let db = Db(&raw);
    let mut progress = |phase: &'static str, done: u64, total: u64| {
        if let Some(p) = opts.progress.as_mut() {
            p(Progress { phase, done, total });
        }
    };
    let size = read_u64(&raw, META_SIZE)?;
    let next_id = read_u64(&raw, META_NEXT_ID)?;

    // Checkpoints: signed by a key given from outside, each within the log.
    // Each checkpoint's size and root, and the newest one's text (for `--save`): not every
    // note's text, of which a busy log stores one each half second (helper 256).
    let mut checkpoints: Vec<(u64, Hash)> = Vec::new();
    let mut newest_note: Option<String> = None;
    let mut origin: Option<String> = None;
    let mut names = KeyNames::default();
    // The log keys the database records, and the names under which the stored checkpoints
    // show those the auditor did not give signing (each line verified with the recorded key).
    let recorded = recorded_keys(&raw)?;
    let mut others: Vec<Vec<u8>> = Vec::new();
    for (_, _, k) in &recorded {
        if !opts.keys.contains(k) && !others.contains(k) {
            others.push(k.clone());
        }
    }
    let mut others_seen: std::collections::BTreeSet<([u8; 4], String)> = Default::default();
    // Resuming, the stored checkpoints from the audited one on. Those before it the earlier
    // audit verified, and the entries they cover are proved below by the audited checkpoint's
    // signed root. A note's signature and consistency proof cost about 0.4 ms, and a busy log
    // stores one each half second: a resumed audit verified every one since the log began
    // (helper 256). (A resume file's checkpoint that does not parse is refused below.)
    let resumed_at = opts
        .since
        .as_ref()
        .and_then(|r| checkpoint::parse(&r.checkpoint).ok())
        .map_or(0, |n| n.checkpoint.size);
    db.each_from(CF_CHECKPOINTS, &u64_key(resumed_at), |k, v| {
        let csize = parse_u64_key(k).ok_or_else(|| bad("a checkpoint key is not 8 bytes"))?;
        let text = std::str::from_utf8(v)
            .map_err(|_| bad(format!("checkpoint {csize} is not text")))?;
        let note = checkpoint::parse(text).map_err(|e| bad(format!("checkpoint {csize}: {e}")))?;
        // Lines added to a genuine note went out with it, which standard verifiers then
        // refused whole (helper 114).
        note.check_standard()
            .map_err(|e| bad(format!("checkpoint {csize} {e}")))?;
        names.hold(&note, &opts.keys, &format!("checkpoint {csize}"), false)?;
        for (id, name) in note
            .key_names(&others)
            .map_err(|e| bad(format!("checkpoint {csize}, by a log key the database records: {e}")))?
        {
            // Only the pairs a record names: a note's lines may carry any number of names.
            if recorded.iter().any(|(n, i, _)| *i == id && n == name) {
                others_seen.insert((id, name.to_string()));
            }
        }
        let c = note.checkpoint;
        if c.size != csize {
            return Err(bad(format!("checkpoint stored as {csize} says {}", c.size)));
        }
        if csize > size {
            return Err(bad(format!("a checkpoint was signed for {csize} entries but the log has {size}: the log was rolled back")));
        }
        if origin.get_or_insert_with(|| c.origin.clone()) != &c.origin {
            return Err(bad(format!(
                "checkpoint {csize} is of the log {:?}, the others of {:?}",
                c.origin,
                origin.clone().unwrap_or_default()
            )));
        }
        checkpoints.push((csize, c.root));
        newest_note = Some(text.to_string());
        Ok(())
    })?;
    let newest = checkpoints.last().map(|c| c.0);
    // The given keys that signed stored checkpoints: each must be recorded (below).
    let stored_signers: Vec<[u8; 4]> = names.0.keys().copied().collect();

    // Where to start: the beginning, or a checkpoint an earlier audit verified.
    let (start, mut state, mut frontier, since) = match &opts.since {
        None => (
            0,
            State {
                records: 0,
                statuses: BTreeMap::new(),
                status_leaves: Some(BTreeMap::new()),
                tally: counters_built.then(Tally::default),
            },
            Frontier::default(),
            None,
        ),
        Some(r) => {
            let note = checkpoint::parse(&r.checkpoint)
                .map_err(|e| ArchiveError::Input(format!("the checkpoint to resume from: {e}")))?;
            note.verify_any(&opts.keys)
                .map_err(|e| ArchiveError::Input(format!("the checkpoint to resume from: {e}")))?;
            let m = note.checkpoint.size;
            if m > size {
                return Err(bad(format!("the audited checkpoint covers {m} entries but the log has {size}: the log was rolled back")));
            }
            let nodes = DbNodes::new(&raw);
            let f = nodes.result(Frontier::load(&nodes, m), bad)?;
            if f.root() != note.checkpoint.root {
                return Err(bad(format!(
                    "the log's first {m} entries are no longer those of the audited checkpoint"
                )));
            }
            let tally = match (&r.stats, counters_built) {
                (Some(m), true) => {
                    let mut t = Tally::default();
                    for (k, v) in m {
                        let k = hex::decode(k)
                            .ok()
                            .filter(|k| StatKey::parse(k).is_some())
                            .ok_or_else(|| {
                                ArchiveError::Input(format!(
                                    "the file to resume from names a counter {k:?} that is not one"
                                ))
                            })?;
                        t.0.insert(k, *v);
                    }
                    Some(t)
                }
                _ => None,
            };
            let state = State {
                records: r.records,
                statuses: r.statuses.clone(),
                status_leaves: r.status_leaves.clone(),
                tally,
            };
            (m, state, f, Some((m, note.checkpoint.root)))
        }
    };
    let mut at_newest: Option<State> = (newest == Some(start)).then(|| state.clone());
    // The time of the entry before: the writer never dates an entry before it. Resuming, the
    // entry before `start` is the audited checkpoint's last, proved to its root (its stored
    // leaf alone, forged with it, let an entry after it be backdated; helper 204).
    let mut last_time: Option<(SystemTime, String)> = match start.checked_sub(1) {
        None => None,
        Some(p) => {
            let bytes = db
                .get(CF_EVENTS, &u64_key(p), MAX_EVENT)?
                .ok_or_else(|| bad(format!("event {p} is missing")))?;
            let proved = since
                .is_some_and(|(m, root)| merkle::proves(&DbNodes::new(&raw), &bytes, p, m, &root));
            if !proved {
                return Err(bad(format!("event {p} is not the one the audited checkpoint holds (it or the tree's nodes were changed)")));
            }
            let event: Event = serde_json::from_slice(&bytes)
                .map_err(|e| bad(format!("event {p} is not an event: {e}")))?;
            Some(crate::model::entry_in_order(p, &event, None).map_err(bad)?)
        }
    };

    // Every entry from `start`: its leaf and tree nodes, and what it says.
    for i in start..size {
        if i % 1024 == 0 {
            progress("entries", i - start, size - start);
        }
        let bytes = db
            .get(CF_EVENTS, &u64_key(i), MAX_EVENT)?
            .ok_or_else(|| bad(format!("event {i} is missing")))?;
        for (l, idx, h) in frontier.push(merkle::leaf_hash(&bytes)) {
            match db.node(l, idx)? {
                Some(v) if v.as_slice() == h.as_slice() => {}
                Some(_) if l == 0 => return Err(bad(format!("event {i} or its leaf was changed: the stored leaf is not the hash of the stored event"))),
                Some(_) => return Err(bad(format!("tree node {l}/{idx} was changed"))),
                None => return Err(bad(format!("tree node {l}/{idx} is missing"))),
            }
        }
        let event: Event = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("event {i} is not an event: {e}")))?;
        if event.user().is_empty() || event.time().is_empty() {
            return Err(bad(format!("event {i} has no user or no time")));
        }
        last_time = Some(crate::model::entry_in_order(i, &event, last_time.as_ref()).map_err(bad)?);
        let before = match &event {
            Event::Status { record, .. } => Some((
                *record,
                state.statuses.get(record).cloned().unwrap_or(Status::Valid),
            )),
            _ => None,
        };
        let mut tally = state.tally.take();
        check_event(&db, i, &event, &mut state)?;
        if let Some(t) = tally.as_mut() {
            let view = AuditView {
                db: &db,
                state: &state,
                before,
            };
            let ops = stats::changes(&event, &view).map_err(|e| bad(format!("event {i}: {e}")))?;
            t.apply(ops).map_err(|e| bad(format!("event {i}: {e}")))?;
        }
        state.tally = tally;
        if Some(i + 1) == newest {
            at_newest = Some(state.clone());
        }
    }
    progress("entries", size - start, size - start);
    // Nothing else among the events read: a key that is no entry's (not 8 bytes) is read by
    // nothing above, and an export's pass over the log stops at it (exit 20) while this audit
    // called the archive clean (found by a reviewer, 2026-12-03).
    {
        let mut it = raw.raw_iterator_cf(cf(&raw, CF_EVENTS)?);
        // From the first key when all is read: a shorter key sorts before entry 0's.
        if start == 0 {
            it.seek_to_first();
        } else {
            it.seek(u64_key(start));
        }
        while let Some(k) = it.key() {
            if k.len() != 8 {
                return Err(bad(format!(
                    "the events hold a key that is no log entry's ({}): planted",
                    hex::encode(k)
                )));
            }
            it.next();
        }
        it.status().map_err(db_err)?;
    }
    if db.has(CF_EVENTS, &u64_key(size))? {
        return Err(bad(format!(
            "an event exists beyond the tree size {size}: the tree size was rolled back"
        )));
    }
    if state.records != next_id {
        return Err(bad(format!(
            "{next_id} records were numbered but the log ingested {}",
            state.records
        )));
    }
    if let Some(k) = last_key(&raw, CF_RECORDS, None)? {
        let id = parse_u64_key(&k).ok_or_else(|| bad("a record key is not 8 bytes"))?;
        if id >= next_id {
            return Err(bad(format!(
                "record {id} has no ingest event: it was added behind the log's back"
            )));
        }
    }
    let root = frontier.root();

    // Stored statuses are derived from the log: each must be the log's latest.
    progress("statuses", 0, 0);
    let mut seen = 0usize;
    db.each(CF_STATUS, |k, v| {
        let id = parse_u64_key(k).ok_or_else(|| bad("a status key is not 8 bytes"))?;
        let stored: Option<Status> = serde_json::from_slice(v).ok();
        match state.statuses.get(&id) {
            Some(want) if Some(want) == stored.as_ref() => {
                seen += 1;
                Ok(())
            }
            Some(_) => Err(bad(format!("the status of record {id} is not the one its last status event set"))),
            None => Err(bad(format!("record {id} has a status no event in the log set: the log was rolled back or the status forged"))),
        }
    })?;
    if seen != state.statuses.len() {
        let missing = state
            .statuses
            .keys()
            .find(|id| !db.has(CF_STATUS, &u64_key(**id)).unwrap_or(true));
        return Err(bad(format!(
            "the status of record {} set by the log is missing",
            missing.copied().unwrap_or_default()
        )));
    }

    // Lookup entries and request ids: each points at a record that has it. Records ingested
    // before a resume point were checked by the audit that verified it.
    progress("index", 0, 0);
    let first_new = opts.since.as_ref().map_or(0, |r| r.records);
    db.each(CF_INDEX, |k, _| {
        let key = IndexKey::parse(k).ok_or_else(|| bad(format!("index entry {k:?} does not parse")))?;
        let id = key.id();
        if id >= next_id {
            return Err(bad(format!("an index entry points at record {id}, which does not exist")));
        }
        if id >= first_new {
            let (_, r) = db.record(id)?.ok_or_else(|| bad(format!("record {id} is missing")))?;
            if !IndexKey::of(&r).contains(&key) {
                return Err(bad(format!("the index entry {key:?} does not match record {id}: a lookup would return it for another code, subject or agency")));
            }
        }
        Ok(())
    })?;
    db.each(CF_REQUESTS, |k, v| {
        let id = parse_u64_key(v).ok_or_else(|| bad("a request id entry is not 8 bytes"))?;
        if id >= next_id {
            return Err(bad(format!(
                "a request id points at record {id}, which does not exist"
            )));
        }
        if id >= first_new {
            let (_, r) = db
                .record(id)?
                .ok_or_else(|| bad(format!("record {id} is missing")))?;
            let want = r
                .request_id
                .as_ref()
                .map(|rid| request_key(&r.ingest_user, rid));
            if want.as_deref() != Some(k) {
                return Err(bad(format!(
                    "a request id entry points at record {id}, which was not made by that request"
                )));
            }
        }
        Ok(())
    })?;

    // Statistics counters: each as the log gives it (an absent counter is zero).
    progress("counters", 0, 0);
    let counters_checked = match &state.tally {
        Some(t) => {
            let mut stored = BTreeMap::new();
            db.each(CF_STATS, |k, v| {
                let n = parse_u64_key(v).ok_or_else(|| bad("a counter is not 8 bytes"))?;
                stored.insert(k.to_vec(), n);
                Ok(())
            })?;
            let keys: std::collections::BTreeSet<&Vec<u8>> =
                stored.keys().chain(t.0.keys()).collect();
            for k in &keys {
                // A key the log does not make is forged, even at zero: `stats` reads a total
                // of 0 as "a total was given", and a key that does not parse stops every report
                // of its quarter (helper 167: both passed the audit). The writer, the rebuild
                // and this recount keep the same keys, zero-valued ones too.
                if StatKey::parse(k).is_none() {
                    return Err(bad(format!(
                        "a statistics counter has the key {k:?}, which is no counter's: the counters were changed behind the log's back"
                    )));
                }
                let (have, want) = (stored.get(*k).copied(), t.0.get(*k).copied());
                if have != want {
                    let (have, want) = (
                        have.map_or_else(|| "nothing".to_string(), |n| n.to_string()),
                        want.map_or_else(|| "nothing".to_string(), |n| n.to_string()),
                    );
                    let name = StatKey::parse(k)
                        .map(|s| {
                            format!(
                                "{:?} {} {:?} {:?}",
                                s.counter, s.cell.quarter, s.cell.agency, s.cell.doc_type
                            )
                        })
                        .unwrap_or_else(|| format!("{k:?}"));
                    return Err(bad(format!(
                        "the statistics counter {name} says {have} but the log gives {want}: the counters were changed behind the log's back"
                    )));
                }
            }
            Some(keys.len() as u64)
        }
        None => None,
    };

    // Checkpoints against the recomputed tree: a consistency proof from each to it.
    progress("checkpoints", 0, checkpoints.len() as u64);
    let nodes = DbNodes::new(&raw);
    let consistent = |m: u64, old_root: &Hash| -> Result<bool> {
        let proof = nodes.result(merkle::consistency_proof(&nodes, m, size), bad)?;
        Ok(merkle::verify_consistency(m, size, &proof, old_root, &root))
    };
    for (csize, croot) in &checkpoints {
        if !consistent(*csize, croot)? {
            return Err(bad(format!(
                "checkpoint {csize} does not match the log: the log is not an extension of it"
            )));
        }
    }
    // The highest checkpoint kept outside that the log extends: the entries it covers are
    // under a signature too.
    let mut covered = newest.unwrap_or(0);
    for (from, text) in &opts.outside {
        // A note given that is no note, or not the log key's, is the file's fault, not the
        // database's: it read "the archive's stored data is inconsistent" (an insider's
        // reading, 2026-12-04).
        let given = |e: String| ArchiveError::Input(format!("the checkpoint given in {from}: {e}"));
        let note = checkpoint::parse(text).map_err(given)?;
        names.hold(&note, &opts.keys, from, true)?;
        let c = note.checkpoint;
        if let Some(o) = origin.as_ref().filter(|o| **o != c.origin) {
            return Err(bad(format!(
                "{from} is a checkpoint of the log {:?}; this archive's checkpoints are of {o:?}",
                c.origin
            )));
        }
        if c.size > size {
            return Err(bad(format!(
                "{from} is a checkpoint of {} entries but the log has {size}: the database is older than a checkpoint signed for it (an older copy put in its place?)",
                c.size
            )));
        }
        if !consistent(c.size, &c.root)? {
            return Err(bad(format!(
                "the log does not extend the checkpoint in {from} ({} entries): its history was rewritten (or the database was restored from an older backup: see docs/operations.md, \"A backup older than the last signed checkpoint\")",
                c.size
            )));
        }
        covered = covered.max(c.size);
    }
    if let Some((m, r)) = &since {
        if !consistent(*m, r)? {
            return Err(bad(format!(
                "the log does not extend the audited checkpoint of {m} entries"
            )));
        }
    }
    let signed = read_u64(&raw, META_SIGNED)?;
    if signed != newest.unwrap_or(0) {
        return Err(bad(format!(
            "the database says the last checkpoint signed covers {signed} entries, but the newest stored one covers {}",
            newest.unwrap_or(0)
        )));
    }
    // And the root it keeps with that size, which the signer checks the log against before
    // each checkpoint: one written over (32 bytes) stopped every checkpoint, and so every put
    // and the service's start, while this audit said clean (helper 191).
    if signed > 0 {
        let kept = raw
            .get_cf(cf(&raw, CF_META)?, META_SIGNED_ROOT)
            .map_err(db_err)?
            .and_then(|v| Hash::try_from(v.as_slice()).ok());
        let holds = match &kept {
            Some(r) => consistent(signed, r)?,
            None => false,
        };
        if !holds {
            return Err(bad(format!(
                "the database's record of the last signed root ({}) is not the log's root at {signed} entries, the newest stored checkpoint's: an edit of the database, and the signer refuses every checkpoint while it is there",
                kept.map_or("missing".to_string(), hex::encode)
            )));
        }
    }
    // The record the signer looks each given key up under (`<its name>:<its key ID>`) holds
    // that key: another key there refused every checkpoint, and passed when a note carried
    // that key's line under the record's whole text as a name (helper 113).
    for k in &opts.keys {
        let id = checkpoint::key_id_der(k);
        if let Some((n, _)) = names.0.get(&id) {
            let held = raw
                .get_cf(cf(&raw, CF_META)?, checkpoint_key_meta(n, &id))
                .map_err(db_err)?;
            if let Some(v) = held.filter(|v| v != k) {
                return Err(bad(format!(
                    "the database records under the log key {}'s name {n:?} and key ID another key (ID {}): a record no checkpoint made, and the signer refuses every checkpoint while it is there",
                    hex::encode(id),
                    hex::encode(checkpoint::key_id_der(&v))
                )));
            }
        }
    }
    // A key that signed stored checkpoints is recorded: with its record deleted, the next
    // rotation at an unchanged size replaced its note instead of co-signing it (helper 114).
    for id in &stored_signers {
        if !recorded
            .iter()
            .any(|(_, i, k)| i == id && opts.keys.contains(k))
        {
            return Err(bad(format!(
                "the log key {} signed checkpoints here, but the database records no such key: its record was deleted",
                hex::encode(id)
            )));
        }
    }
    // Each recorded key under the name its checkpoints carry (stored and given, which agree by
    // now): a record is written with the checkpoint it signs (one batch), and the checkpointer
    // takes a key's recorded name as the one it must keep, so a record no checkpoint made
    // (planted by whoever can write the database) stopped the key from signing again, and this
    // audit did not see it.
    for (name, id, key) in &recorded {
        let found = if opts.keys.contains(key) {
            names.0.get(id).map(|(n, _)| n.as_str())
        } else {
            // Seen only under the recorded name (above), or not at all.
            others_seen
                .contains(&(*id, name.clone()))
                .then_some(name.as_str())
        };
        match found {
            Some(n) if n == name => {}
            Some(n) => {
                return Err(bad(format!(
                    "the database records the log key {} as {name:?}, but its checkpoints name it {n:?}: a record no checkpoint made",
                    hex::encode(id)
                )))
            }
            None => {
                return Err(bad(format!(
                    "the database records the log key {} as {name:?}, but no stored checkpoint carries its signature under that name: a record no checkpoint made",
                    hex::encode(id)
                )))
            }
        }
    }

    let resume = match (checkpoints.last().zip(newest_note), at_newest) {
        (Some(((c, _), note)), Some(s)) if *c >= start => Some(Resume {
            checkpoint: note,
            records: s.records,
            statuses: s.statuses,
            status_leaves: s.status_leaves,
            stats: s
                .tally
                .map(|t| t.0.into_iter().map(|(k, v)| (hex::encode(k), v)).collect()),
        }),
        _ => opts.since.clone(),
    };
    Ok(AuditReport {
        tree_size: size,
        root: hex::encode(root),
        records: next_id,
        checkpoints: checkpoints.len(),
        last_checkpoint: newest,
        unsigned_entries: size - covered.min(size),
        outside_checkpoints: opts.outside.len(),
        resumed_from: since.map(|s| s.0),
        entries_read: size - start,
        counters_checked,
        resume,
    })
}

/// What one event says, against what is stored and the state the log built so far.
fn check_event(db: &Db, i: u64, event: &Event, state: &mut State) -> Result<()> {
    let exists = |id: u64, state: &State| id < state.records;
    match event {
        Event::Ingest {
            record,
            code,
            content_sha256,
            record_sha256,
            user,
            time,
        } => {
            if *record != state.records {
                return Err(bad(format!("event {i} ingests record {record}, but records are numbered in ingest order and this is record {}", state.records)));
            }
            let (json, r) = db.record(*record)?.ok_or_else(|| {
                bad(format!(
                    "record {record} (ingested at event {i}) was deleted"
                ))
            })?;
            if hex::encode(Sha256::digest(&json)) != *record_sha256 {
                return Err(bad(format!(
                    "record {record} was changed after ingest (event {i} holds its hash)"
                )));
            }
            let parsed: std::result::Result<DocumentCode, _> = r.code.parse();
            let same = r.id == *record
                && r.leaf == i
                && r.code == *code
                && r.content_sha256 == *content_sha256
                && r.ingest_user == *user
                && r.ingest_time == *time
                && parsed
                    .as_ref()
                    // (An older record may keep a type code in lower case: read in upper case
                    // since 2026-12-06.)
                    .is_ok_and(|c| {
                        c.subject.as_str() == r.subject
                            && c.doc_type.eq_ignore_ascii_case(&r.doc_type)
                    });
            if !same {
                return Err(bad(format!(
                    "record {record} does not say what its ingest event {i} says (id, leaf, code, content, user or time)"
                )));
            }
            // The writer dates an ingest no earlier than its validation: a validation time
            // after it, or unreadable, is no archive's.
            if let Some(v) = &r.validation_data {
                // (Within the slack: a release before 2026-12-06 took the clock as it was, and
                // a clock stepped back between validating and writing dated it so; helper 206.)
                let gathered = kyso_verify::dates::parse_rfc3339(&v.gathered);
                let ingest =
                    kyso_verify::dates::parse_rfc3339(time).map(|t| t + crate::model::CLOCK_SLACK);
                if gathered.is_none() || gathered > ingest {
                    return Err(bad(format!(
                        "record {record} says it was validated at {:?}, after its ingest ({time})",
                        v.gathered
                    )));
                }
            }
            check_blob(
                db,
                *record,
                "content",
                &r.content_sha256,
                &r.content_sha512,
                r.size,
            )?;
            if let Some(b) = &r.detached_signature {
                check_blob(
                    db,
                    *record,
                    "detached signature",
                    &b.sha256,
                    &b.sha512,
                    b.size,
                )?;
            }
            if let Some(v) = &r.validation_data {
                for (what, b) in v.blobs() {
                    check_blob(
                        db,
                        *record,
                        &format!("validation data ({what} {})", b.sha256),
                        &b.sha256,
                        &b.sha512,
                        b.size,
                    )?;
                }
            }
            for k in IndexKey::of(&r) {
                if !db.has(CF_INDEX, &k.encode())? {
                    return Err(bad(format!(
                        "record {record}'s index entry {k:?} is missing: lookups would not find it"
                    )));
                }
            }
            if let Some(rid) = &r.request_id {
                let v = db.get(CF_REQUESTS, &request_key(&r.ingest_user, rid), 8)?;
                if v.as_deref() != Some(&u64_key(*record)[..]) {
                    return Err(bad(format!(
                        "record {record}'s request id {rid:?} does not point at it"
                    )));
                }
            }
            state.records += 1;
        }
        Event::Status { record, status, .. } => {
            if !exists(*record, state) {
                return Err(bad(format!(
                    "event {i} changes the status of record {record}, which was not ingested before it"
                )));
            }
            let current = state.statuses.get(record).cloned().unwrap_or(Status::Valid);
            Status::check_change(*record, &current, status, |r| exists(r, state))
                .map_err(|e| bad(format!("event {i} breaks the status rules: {e}")))?;
            if let Status::SupersededBy { record: by } = status {
                // Only by another version of the same document, still valid (the writer's
                // rule). Both records were checked against their ingest events already.
                let this = db.record(*record)?.map(|(_, r)| r);
                let new = db.record(*by)?.map(|(_, r)| r);
                let same = match (&this, &new) {
                    (Some(a), Some(b)) => {
                        a.code.eq_ignore_ascii_case(&b.code) && a.agency == b.agency
                    }
                    _ => false,
                };
                let revoked = !matches!(state.statuses.get(by), None | Some(Status::Valid));
                if !same || revoked {
                    return Err(bad(format!(
                        "event {i} breaks the status rules: record {record} superseded by record {by}, {}",
                        if !same {
                            "which is not a version of the same document (code and agency)"
                        } else {
                            "which was no longer valid"
                        }
                    )));
                }
            }
            state.statuses.insert(*record, status.clone());
            if let Some(l) = state.status_leaves.as_mut() {
                l.entry(*record).or_default().push(i);
            }
        }
        Event::Read { record, .. } => {
            if !exists(*record, state) {
                return Err(bad(format!(
                    "event {i} reads record {record}, which was not ingested before it"
                )));
            }
        }
        Event::Find { records, .. } | Event::Export { records, .. } => {
            if let Some(r) = records.iter().find(|r| !exists(**r, state)) {
                return Err(bad(format!(
                    "event {i} names record {r}, which was not ingested before it"
                )));
            }
            if let Event::Export {
                status_events,
                status_upto,
                ..
            } = event
            {
                check_export_statuses(i, records, status_events, status_upto, state)?;
            }
        }
        Event::Totals { totals, .. } => {
            for t in totals {
                t.check()
                    .map_err(|e| bad(format!("event {i} gives a total kyso refuses: {e}")))?;
            }
        }
        Event::LogRead { start, end, .. } => {
            // Entries that existed when they were read.
            if start >= end || *end > i {
                return Err(bad(format!(
                    "event {i} says entries {start} to {end} of the log were read, which it did not hold then"
                )));
            }
        }
        Event::Signature { .. } | Event::Config { .. } => {}
    }
    Ok(())
}

/// An export event's status events (what a package of its records must carry) are exactly
/// the status events of its records among the log's first `status_upto` entries, in log order,
/// `status_upto` not past the event itself.
fn check_export_statuses(
    i: u64,
    records: &[u64],
    named: &Option<Vec<[u64; 2]>>,
    upto: &Option<u64>,
    state: &State,
) -> Result<()> {
    let (named, upto) = match (named, upto) {
        (None, None) => return Ok(()),
        (Some(n), Some(u)) if *u <= i => (n, *u),
        (Some(_), Some(u)) => {
            return Err(bad(format!(
                "export event {i} names the status events up to log entry {u}, past itself"
            )))
        }
        _ => {
            return Err(bad(format!(
                "export event {i} has status_events without status_upto, or the reverse"
            )))
        }
    };
    let Some(leaves) = &state.status_leaves else {
        return Ok(());
    };
    let mut want: Vec<[u64; 2]> = Vec::new();
    for r in records {
        for &l in leaves.get(r).into_iter().flatten() {
            if l < upto {
                want.push([*r, l]);
            }
        }
    }
    want.sort_unstable_by_key(|&[_, l]| l);
    want.dedup();
    if *named != want {
        let first = named
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(named.len().min(want.len()));
        return Err(bad(format!(
            "export event {i} names {} status events of its records before log entry {upto}; the log has {} (first difference at {first}: {:?} against {:?}): a package of that export would show statuses the log does not",
            named.len(),
            want.len(),
            named.get(first),
            want.get(first)
        )));
    }
    Ok(())
}

/// A stored document (or signature) against its record's SHA-256, SHA-512 and size.
fn check_blob(
    db: &Db,
    record: u64,
    what: &str,
    sha256: &str,
    sha512: &str,
    size: u64,
) -> Result<()> {
    let key = hex::decode(sha256)
        .map_err(|_| bad(format!("record {record}: the {what} SHA-256 is not hex")))?;
    let Some(v) =
        db.0.get_pinned_cf(cf(db.0, CF_CONTENT)?, &key)
            .map_err(db_err)?
    else {
        return Err(bad(format!("the {what} of record {record} was deleted")));
    };
    if v.len() as u64 != size
        || Sha256::digest(&v)[..] != key[..]
        || hex::encode(openssl::sha::sha512(&v)) != sha512
    {
        return Err(bad(format!(
            "the {what} of record {record} was changed (its size, SHA-256 or SHA-512 differs)"
        )));
    }
    Ok(())
}
