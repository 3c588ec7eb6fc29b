//! Signing checkpoints over the durable log, on demand or in the background — never one that
//! contradicts a checkpoint signed before.
//!
//! The last signed checkpoint is kept twice: in the database (`meta`), and in a file outside
//! the database directory ([`CheckpointSigner::state_file`]), written atomically after each
//! signature. A database restored from an older backup brings back its own, older `meta`, but
//! not the file: the next checkpoint must then extend the one in the file (a consistency proof
//! from it to the new tree), so a restore followed by new entries — a fork of the log — is
//! refused instead of signed.

use crate::checkpoint;
use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::{self, Hash};
use crate::schema::*;
use crate::store::Archive;
use crate::writer::FAILED;
use rocksdb::{WriteBatch, WriteOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How often the background publisher looks for new entries: half a second, so that an
/// acknowledged put is covered by a signed checkpoint within a second.
pub const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// How many earlier keys' lines a co-signed checkpoint keeps (rotations while the log did not
/// grow): standard verifiers refuse a note of more than 100 signatures, and an insider's
/// recorded keys, each with a line, filled one past that (helper 114, 2026-12-04).
const MAX_COSIGNERS: usize = 8;

/// What signs checkpoints, and where the last one is kept outside the database.
#[derive(Clone)]
pub struct CheckpointSigner {
    /// The log's origin line.
    pub origin: String,
    /// The key's name in signed notes.
    pub key_name: String,
    /// The log key (ECDSA P-256 on the token).
    pub key: Arc<dyn kyso_hsm::SignDigest>,
    /// The last signed checkpoint (the note), outside the database directory.
    pub state_file: PathBuf,
}

/// The background checkpoint publisher; stops (after its current round) when dropped.
pub struct Checkpointer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn refuse(m: String) -> ArchiveError {
    ArchiveError::Checkpoint(m)
}

impl Archive {
    /// What a checkpoint of `size` entries adds to the last one signed (`from` entries, whose
    /// root `anchor` the state file or the database holds): each entry hashes to the leaf
    /// `root` holds, and none is dated more than [`crate::model::CLOCK_SLACK`] before an entry
    /// ahead of it. A backdated entry an insider appended, leaf and nodes recomputed, was
    /// signed into the next checkpoint and went out with every export, `kyso bag verify`
    /// passing an expired signer (helper 204); starting from the database's own last signed
    /// size, which the insider can write, it still was (helper 206). The prefix found in order
    /// is kept: a refusal repeated by the service's publisher reads only what is new.
    fn check_added(&self, from: u64, anchor: Option<&Hash>, size: u64, root: &Hash) -> Result<()> {
        use crate::model::{entry_in_order, Event};
        let nodes = crate::schema::DbNodes::new(&self.db);
        let load = |m: u64| {
            nodes.result(
                merkle::Frontier::load(&nodes, m),
                ArchiveError::Inconsistent,
            )
        };
        let read = |i: u64| -> Result<(Vec<u8>, Event)> {
            let bytes = self.event_bytes(i)?;
            let e = serde_json::from_slice(&bytes).map_err(|e| {
                refuse(format!(
                    "event {i} is not an event ({e}): refusing to sign it; run kyso audit verify"
                ))
            })?;
            Ok((bytes, e))
        };
        let kept = self
            .ordered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let (start, mut f, mut last) = match kept {
            Some((m, r, last)) if m >= from && m <= size && load(m)?.root() == r => {
                (m, load(m)?, last)
            }
            _ => {
                let f = load(from)?;
                if anchor.is_some_and(|a| *a != f.root()) {
                    return Err(refuse(format!("the log's first {from} entries are not those of the last signed checkpoint: refusing to sign; run kyso audit verify")));
                }
                // The entry before them, proved to the signed tree.
                let last = match from.checked_sub(1) {
                    None => None,
                    Some(p) => {
                        let (bytes, e) = read(p)?;
                        if !merkle::proves(&nodes, &bytes, p, from, &f.root()) {
                            return Err(refuse(format!("event {p}, the last one signed, is not the one the signed tree holds: refusing to sign; run kyso audit verify")));
                        }
                        Some(entry_in_order(p, &e, None).map_err(refuse)?)
                    }
                };
                (from, f, last)
            }
        };
        // (An entry dated far ahead is not refused: a clock that ran ahead and was set right
        // before the next checkpoint dates honest entries so, and refusing them would stop
        // every checkpoint until the clock caught up. An insider who dates one ahead dates
        // every later entry ahead with it — see docs/operations.md, "The clock"; helper 206.)
        for i in start..size {
            let (bytes, e) = read(i)?;
            let next = entry_in_order(i, &e, last.as_ref());
            let l = match next {
                Ok(l) => l,
                Err(m) => {
                    *self.ordered.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some((i, f.root(), last));
                    return Err(refuse(format!(
                        "{m}: refusing to sign it; run kyso audit verify"
                    )));
                }
            };
            f.push(merkle::leaf_hash(&bytes));
            last = Some(l);
        }
        if f.root() != *root {
            return Err(refuse(format!("the log's events from {start} to {size} do not hash to its tree's root: refusing to sign them; run kyso audit verify")));
        }
        *self.ordered.lock().unwrap_or_else(|p| p.into_inner()) = Some((size, f.root(), last));
        Ok(())
    }

    /// Sign a checkpoint over the durable log (never over entries that are not durable: the
    /// size read is the synced one), consistent with the last one signed — both the one in the
    /// database and the one in the state file. Returns the signed note (the stored one when
    /// the log did not grow since).
    pub fn sign_checkpoint(&self, s: &CheckpointSigner) -> Result<String> {
        self.sign_checkpoint_at(s, None)
    }

    /// [`Archive::sign_checkpoint`], over the log as it was at `at` entries when given (an
    /// export signs the log as its last export event left it, whatever other callers logged
    /// since: `kyso bag verify` requires exactly that checkpoint, so that an older export's
    /// event cannot be proved to a newer checkpoint over events its package does not show).
    /// The anchors are checked against the whole durable log either way; the state file and
    /// the database's last signed size never move back.
    pub fn sign_checkpoint_at(&self, s: &CheckpointSigner, at: Option<u64>) -> Result<String> {
        let _g = self.sign_lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.failed.load(Ordering::Acquire) {
            return Err(ArchiveError::Db(FAILED.into()));
        }
        let (spki, state) = self.judge_signer(s)?;
        let now = self.size();
        let size = match at {
            None => now,
            Some(n) if n >= 1 && n <= now => n,
            Some(n) => {
                return Err(refuse(format!(
                    "a checkpoint of {n} entries cannot be signed: the durable log has {now}"
                )))
            }
        };
        let root_now = self.root(now)?;
        let root = if size == now {
            root_now
        } else {
            // The past root from the stored nodes, proved consistent with the whole log's:
            // nodes `root(now)` never reads could have been changed by someone writing to
            // the database.
            let r = self.root(size)?;
            let proof = self.consistency_proof(size, now)?;
            if !merkle::verify_consistency(size, now, &proof, &r, &root_now) {
                return Err(refuse(format!(
                    "the log's first {size} entries do not match the whole log's tree: refusing to sign them"
                )));
            }
            r
        };
        let anchors = self.anchors(s, state.as_ref(), now, &root_now)?;
        // From the earliest anchor, the state file's when it is older than the database's
        // (which whoever writes the database can move).
        match anchors.iter().min_by_key(|(m, _, _)| *m) {
            Some((m, r, _)) if *m <= size => self.check_added(*m, Some(r), size, &root)?,
            Some(_) => {}
            None => self.check_added(0, None, size, &root)?,
        }
        let db_size = read_u64(&self.db, META_SIGNED)?;
        let in_file = state.as_ref().map(|c| c.size);
        // The note stored for this size is used again only if this key signed it over this
        // log's root: anyone who can write to the database could have put one there, and the
        // state file must never take a note this key did not make (it anchors every later
        // signature). One this key signed that says otherwise is never replaced: it was
        // overwritten by a note under the origin an edited state file named (an insider's
        // reading, 2026-12-04).
        let body = checkpoint::body(&s.origin, size, &root);
        // The same checkpoint signed by keys the archive recorded before this one (a rotation
        // while the log did not grow): co-signed, their signatures kept. Replaced, the earlier
        // key's note was gone for good (an insider's reading, 2026-12-04); and all of them,
        // not the first: a second rotation at the same size dropped the middle key's line,
        // its record then named by no checkpoint (a reviewer, 2026-12-04).
        let mut earlier: Vec<String> = Vec::new();
        let stored = match self.stored_checkpoint(size)? {
            Some(text) => match checkpoint::parse(&text).ok() {
                Some(n) => match n.signed_by(&spki) {
                    // Used again as this key and the recorded ones signed it, each line once:
                    // as stored, lines added to it by whoever can write to the database (101
                    // copies of this key's line, a name with a tab) went out with every
                    // checkpoint at this size and into the state file, a note standard
                    // verifiers refuse whole. The stored one is left for the audit to name.
                    Some(name) if n.text == body && name == s.key_name => {
                        let by = self.earlier_signers(&n, Some(&spki))?;
                        let mut lines = earlier_lines(&n, &s.origin, by);
                        let id = checkpoint::key_id_der(&spki);
                        lines.extend(
                            n.signatures
                                .iter()
                                .find(|g| g.key_id == id && g.key_name == s.key_name)
                                .map(checkpoint::NoteSignature::line),
                        );
                        Some(format!("{body}\n{}", lines.concat()))
                    }
                    Some(name) => {
                        return Err(refuse(format!(
                            "the checkpoint of {size} entries stored in the database, signed by this key as {name:?}, is of the log {:?}{}: refusing to sign another over it",
                            n.checkpoint.origin,
                            if n.checkpoint.root == root { "" } else { " with another root" }
                        )))
                    }
                    None => match self.earlier_signers(&n, None)? {
                        by if !by.is_empty() && n.text == body => {
                            earlier = earlier_lines(&n, &s.origin, by);
                            None
                        }
                        by if !by.is_empty() => {
                            return Err(refuse(format!(
                                "the checkpoint of {size} entries stored in the database, signed by an earlier log key, is of the log {:?}{}: refusing to replace it",
                                n.checkpoint.origin,
                                if n.checkpoint.root == root { "" } else { " with another root" }
                            )))
                        }
                        _ => None,
                    },
                },
                None => None,
            },
            None => None,
        };
        if let Some(note) = stored {
            if size < now || anchors.iter().any(|(m, _, _)| *m == size) {
                // Nothing new to sign; the state file catches up if it is behind.
                if in_file.is_none_or(|m| m < size) {
                    write_atomically(&s.state_file, note.as_bytes())
                        .map_err(|e| refuse(format!("write {}: {e}", s.state_file.display())))?;
                }
                return Ok(note);
            }
        }
        let mut note = checkpoint::sign(&body, &s.key_name, s.key.as_ref()).map_err(refuse)?;
        if !earlier.is_empty() {
            note = format!("{body}\n{}{}", earlier.concat(), &note[body.len() + 1..]);
        }
        if note.len() > checkpoint::MAX_NOTE {
            return Err(refuse(format!(
                "a checkpoint note of {} bytes would be too long to read back",
                note.len()
            )));
        }
        if in_file.is_none_or(|m| m <= size) {
            write_atomically(&s.state_file, note.as_bytes())
                .map_err(|e| refuse(format!("write {}: {e}", s.state_file.display())))?;
        }
        let key_meta = checkpoint_key_meta(&s.key_name, &checkpoint::key_id_der(&spki));
        let mut b = WriteBatch::default();
        // Stored, replacing a note at this size that did not verify with this key over this
        // root (a planted one: left there, every audit would fail on it; `audit verify` run
        // before this signature names it).
        b.put_cf(self.cf(CF_CHECKPOINTS)?, u64_key(size), note.as_bytes());
        if size >= db_size {
            b.put_cf(self.cf(CF_META)?, META_SIGNED, u64_key(size));
            b.put_cf(self.cf(CF_META)?, META_SIGNED_ROOT, root);
        }
        b.put_cf(self.cf(CF_META)?, key_meta, spki);
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(b, &wo).map_err(db_err)?;
        Ok(note)
    }

    /// The anchors: what this database says it signed last, and the state file's checkpoint;
    /// each must be at most `now` entries, and the log's first entries as each says (a
    /// consistency proof to `root_now`).
    fn anchors(
        &self,
        s: &CheckpointSigner,
        state: Option<&checkpoint::Checkpoint>,
        now: u64,
        root_now: &Hash,
    ) -> Result<Vec<(u64, Hash, String)>> {
        let mut anchors: Vec<(u64, Hash, String)> = Vec::new();
        let db_size = read_u64(&self.db, META_SIGNED)?;
        if db_size > 0 {
            let r = self
                .db
                .get_cf(self.cf(CF_META)?, META_SIGNED_ROOT)
                .map_err(db_err)?
                .and_then(|v| Hash::try_from(v.as_slice()).ok())
                .ok_or_else(|| refuse("the last signed root is missing".into()))?;
            anchors.push((db_size, r, "in the database".into()));
        }
        if let Some(n) = state {
            anchors.push((n.size, n.root, format!("in {}", s.state_file.display())));
        }
        for (m, r, where_) in &anchors {
            if *m > now {
                return Err(refuse(format!(
                    "the log has {now} entries but a checkpoint of {m} was signed ({where_}): the log went backwards (restored from an older backup?); refusing to sign — find a copy that extends it, or see docs/operations.md, \"Restore\", for a log that lost entries"
                )));
            }
            let proof = self.consistency_proof(*m, now)?;
            if !merkle::verify_consistency(*m, now, &proof, r, root_now) {
                return Err(refuse(format!(
                    "the log's first {m} entries no longer match the last signed checkpoint ({where_}): refusing to sign an inconsistent one (a database restored from an older backup? see docs/operations.md, \"A backup older than the last signed checkpoint\")"
                )));
            }
        }
        Ok(anchors)
    }

    /// Judge `s` as [`Archive::sign_checkpoint`] will, before anything is stored: `archive
    /// put` stored its record, then refused the checkpoint for a bad origin or key name, an RSA
    /// key, an edited state file or one inside the database (eleven ways; an insider's
    /// reading, 2026-12-04).
    pub fn check_signer(&self, s: &CheckpointSigner) -> Result<()> {
        let (_, state) = self.judge_signer(s)?;
        // The anchors against the log as it is: entries added since cannot mend them.
        let now = self.size();
        self.anchors(s, state.as_ref(), now, &self.root(now)?)
            .map(|_| ())
    }

    /// [`Archive::check_signer`]: the key's DER public key, and the checkpoint the state file
    /// holds.
    fn judge_signer(
        &self,
        s: &CheckpointSigner,
    ) -> Result<(Vec<u8>, Option<checkpoint::Checkpoint>)> {
        let spki = s.judge(self.path())?;
        // The state file is what catches a database put back from an older copy: written anew
        // whenever it was missing, a mount that failed after a crash left the appliance with
        // none, unsaid (an insider's reading, 2026-12-04). [`WRITE_ANEW`] in it is the
        // operator's word that it is to be written anew.
        let signed = read_u64(&self.db, META_SIGNED)?;
        if signed > 0 && !state_file_present(&s.state_file)? {
            let f = s.state_file.display();
            return Err(refuse(format!(
                "the checkpoint state file {f} is missing or empty, but this archive has signed checkpoints (the last of {signed} entries): the file is what catches a database put back from an older copy. If the earlier checkpoints kept it elsewhere, give that path (--checkpoint-state, archive.checkpoint_state): every tool needs the same one. If it was lost (a mount that failed, a new disk), check the database against a checkpoint kept elsewhere (`kyso audit verify … --checkpoint NOTE`), then write `kyso: write anew from the database` in it (as the appliance's user): the next checkpoint writes it from the database (docs/archive.md)"
            )));
        }
        let last = self.last_signed(&spki)?;
        let state_note = read_state_note(&s.state_file)?;
        // The two places that keep the log's last checkpoint name the same log, or neither
        // decides: an insider who planted a key and a note in the database, then had the
        // operator move the state file aside as its refusal advised, got the log key to sign
        // the planted origin (an insider's reading, 2026-12-04).
        if let (Some(db), Some(st)) = (&last, &state_note) {
            let (a, b) = (&db.checkpoint.origin, &st.checkpoint.origin);
            let names = (db.signed_by(&spki), st.signed_by(&spki));
            let named = match &names {
                (Some(x), Some(y)) if x != y => Some((x.as_str(), y.as_str())),
                _ => None,
            };
            if a != b || named.is_some() {
                let (what, x, y) = match named {
                    Some((x, y)) if a == b => ("the log key", x, y),
                    _ => ("the log", a.as_str(), b.as_str()),
                };
                return Err(refuse(format!(
                    "the database's last checkpoint names {what} {x:?}, {} names it {y:?}: one of them was changed; nothing is signed until they agree (`kyso audit verify --db … --log-key … --checkpoint {}` checks both)",
                    s.state_file.display(),
                    s.state_file.display()
                )));
            }
        }
        // The log keeps its name: the database's last checkpoint, signed by this key or by one
        // the archive recorded before it (a rotation), names it. With the state file deleted,
        // the CLI asked for `--origin` as if for the first checkpoint and signed under the new
        // one given; a new key did so even with the file kept (insiders' readings,
        // 2026-12-04).
        if let Some(note) = &last {
            let c = &note.checkpoint;
            if c.origin != s.origin {
                return Err(refuse(if note.signed_by(&spki).is_some() {
                    format!(
                        "the log is {:?} in its last checkpoint (in the database, signed by this key), not {:?}: a log keeps its name",
                        c.origin, s.origin
                    )
                } else {
                    format!(
                        "the log is {:?} in its last checkpoint (in the database, signed by a key the database records, not this one), not {:?}: a log keeps its name; if the log key was not replaced, the database was changed (`kyso audit verify` names what)",
                        c.origin, s.origin
                    )
                }));
            }
            // Its name on the note: the signature does not cover it (key ID =
            // SHA-256(SPKI)[:4]); the state file's, if this key signed it, agreed above.
            if let Some(name) = note.signed_by(&spki).filter(|n| *n != s.key_name) {
                return Err(refuse(format!(
                    "the key is named {name:?} in the log's last checkpoint (in the database), not {:?}: verifiers know it by that name",
                    s.key_name
                )));
            }
        }
        // The state file after the database's names: a name given wrongly is said as such,
        // not as a state file to move aside; and moving it aside is advised only when the
        // database names the log as given.
        let state = read_state_file(s, &spki, last.is_some(), state_note)?;
        // Judged here, before the record and before the state file moves: it was found after
        // the state file was written, and every later put was refused (an insider's reading,
        // 2026-12-04).
        let key_meta = checkpoint_key_meta(&s.key_name, &checkpoint::key_id_der(&spki));
        if let Some(k) = self
            .db
            .get_cf(self.cf(CF_META)?, &key_meta)
            .map_err(db_err)?
        {
            if k != spki {
                return Err(refuse(format!(
                    "another key with the same key ID is recorded for {}; refusing to replace it",
                    s.key_name
                )));
            }
        }
        // A key keeps its name in every checkpoint it signs here, not only against the last
        // one: a key that came back after a rotation under a new name signed, and the audit
        // then failed the honest archive as changed (an insider's reading, 2026-12-04).
        if let Some(name) = self.recorded_name(&spki)?.filter(|n| *n != s.key_name) {
            return Err(refuse(format!(
                "this log key signed here as {name:?}, not {:?}: verifiers know it by that name (a key keeps its name)",
                s.key_name
            )));
        }
        Ok((spki, state))
    }

    /// The checkpoint keys the archive recorded (every key that signed a checkpoint here), as
    /// (name, DER SPKI), in key order, at most [`MAX_LOG_KEYS`] of them.
    fn recorded(&self) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(recorded_log_keys(&self.db, MAX_LOG_KEYS)?.0)
    }

    /// The recorded keys that signed `note`, each once, under its first record's name (as
    /// [`Self::recorded_name`] reads it): 256 records of one key were 256 verifications of
    /// every line, and 256 lines (helper 114, 2026-12-04). `not` (the signing key, whose
    /// signature the caller verified already) is left out unverified.
    fn earlier_signers(
        &self,
        note: &checkpoint::Note,
        not: Option<&[u8]>,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let mut by: Vec<(String, Vec<u8>)> = Vec::new();
        for (name, k) in self.recorded()? {
            if not != Some(k.as_slice())
                && !by.iter().any(|(_, b)| *b == k)
                && note.signed_by(&k).is_some()
            {
                by.push((name, k));
            }
        }
        Ok(by)
    }

    /// The name under which the archive recorded the key `spki` (the first of its records),
    /// if it signed here.
    fn recorded_name(&self, spki: &[u8]) -> Result<Option<String>> {
        Ok(self
            .recorded()?
            .into_iter()
            .find(|(_, k)| *k == *spki)
            .map(|(name, _)| name))
    }

    /// The public keys (DER SPKI) of the checkpoint keys the archive recorded, each once.
    fn recorded_keys(&self) -> Result<Vec<Vec<u8>>> {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for (_, k) in self.recorded()? {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        Ok(keys)
    }

    /// The database's last signed checkpoint, if `spki` or a key the archive recorded signed
    /// it.
    fn last_signed(&self, spki: &[u8]) -> Result<Option<checkpoint::Note>> {
        let db_size = read_u64(&self.db, META_SIGNED)?;
        if db_size == 0 {
            return Ok(None);
        }
        let Some(note) = self
            .stored_checkpoint(db_size)?
            .and_then(|t| checkpoint::parse(&t).ok())
        else {
            return Ok(None);
        };
        if note.signed_by(spki).is_some()
            || self
                .recorded_keys()?
                .iter()
                .any(|k| note.signed_by(k).is_some())
        {
            Ok(Some(note))
        } else {
            Ok(None)
        }
    }

    /// The origin and key name of the last checkpoint `spki` signed: the database's last
    /// signed one, else the state file's; `None` if this key signed neither. Taken unsigned,
    /// an edited state file chose the origin and the key name the next checkpoint was signed
    /// under (an insider's reading, 2026-12-04). The database's comes first: a note's key name
    /// is not covered by its signature.
    pub fn signed_names(&self, state_file: &Path, spki: &[u8]) -> Result<Option<(String, String)>> {
        if let Some(note) = self.last_signed(spki)? {
            if let Some(name) = note.signed_by(spki) {
                return Ok(Some((note.checkpoint.origin, name)));
            }
        }
        Ok(read_state_note(state_file)?
            .and_then(|n| n.signed_by(spki).map(|name| (n.checkpoint.origin, name))))
    }

    /// Has a checkpoint been signed over this archive's log?
    pub fn has_signed(&self) -> Result<bool> {
        Ok(read_u64(&self.db, META_SIGNED)? > 0)
    }
}

/// The lines of `note` to keep beside a new one: one of each of `by` (recorded keys that
/// signed it, [`Archive::earlier_signers`]), under the name the archive recorded for it, at
/// most [`MAX_COSIGNERS`]. Copied as they were, a planted note's 101 lines of a key, or a name
/// with a tab, made the co-signed note one other verifiers refuse whole (an insider's reading,
/// 2026-12-04); a line under another name would fail the audit.
fn earlier_lines(note: &checkpoint::Note, origin: &str, by: Vec<(String, Vec<u8>)>) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for (name, k) in by {
        let id = checkpoint::key_id_der(&k);
        let line = note
            .signatures
            .iter()
            .find(|g| {
                g.key_id == id
                    && g.key_name == name
                    && checkpoint::check_names(origin, &g.key_name).is_ok()
            })
            .map(checkpoint::NoteSignature::line);
        if let Some(line) = line.filter(|l| !lines.contains(l)) {
            lines.push(line);
        }
        if lines.len() == MAX_COSIGNERS {
            break;
        }
    }
    lines
}

/// What to do when the state file disagrees with the log.
fn state_file_hint(file: &Path) -> String {
    format!(
        "if {} was changed by hand, check the database against a checkpoint kept elsewhere (`kyso audit verify … --checkpoint NOTE`), then write `kyso: write anew from the database` in it: the next checkpoint writes it anew from the database (docs/archive.md)",
        file.display()
    )
}

impl CheckpointSigner {
    /// What needs no database: the origin and key name as a note may carry them, the key's
    /// algorithm, the state file outside `db` (a restore would bring back an old one with
    /// it). Returns the key's DER public key.
    pub fn judge(&self, db: &Path) -> Result<Vec<u8>> {
        checkpoint::check_names(&self.origin, &self.key_name).map_err(refuse)?;
        checkpoint::check_algorithm(self.key.as_ref()).map_err(refuse)?;
        check_state_file_outside(db, &self.state_file)?;
        check_state_file_writable(&self.state_file)?;
        der::Encode::to_der(self.key.public_key_info())
            .map_err(|e| refuse(format!("the log key's public key: {e}")))
    }

    /// [`CheckpointSigner::judge`] and the state file, for an archive not yet created (its
    /// first `archive put`).
    pub fn check_new(&self, db: &Path) -> Result<()> {
        let spki = self.judge(db)?;
        // An empty log extends no checkpoint of one entry or more: refused after the first
        // record was stored (an insider's reading, 2026-12-04).
        match read_state_file(self, &spki, false, read_state_note(&self.state_file)?)? {
            // Not "move it aside": with no database to write it anew from, that had the log key
            // sign a second history under the same name (an insider's reading, 2026-12-04).
            Some(c) if c.size > 0 => Err(refuse(format!(
                "the archive in {} is new, but {} holds a checkpoint of {} entries: it is another archive's state file, or this archive's database is missing. Give the database it belongs to, or restore that database from a backup; a new archive needs a state file and an origin of its own (signing a new log under this one's name would give it two histories)",
                db.display(),
                self.state_file.display(),
                c.size,
            ))),
            _ => Ok(()),
        }
    }
}

impl Archive {
    fn stored_checkpoint(&self, size: u64) -> Result<Option<String>> {
        Ok(self
            .db
            .get_cf(self.cf(CF_CHECKPOINTS)?, u64_key(size))
            .map_err(db_err)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Publish checkpoints in the background: every `every`, if the log grew since the last
    /// signed checkpoint, sign one (c2sp.org/tlog-checkpoint asks for at least one a second
    /// while there are new entries). Stops when the returned handle is dropped.
    pub fn start_checkpointer(
        self: &Arc<Self>,
        signer: CheckpointSigner,
        every: std::time::Duration,
    ) -> Checkpointer {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (a, s) = (self.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(every);
                let grew = match read_u64(&a.db, META_SIGNED) {
                    Ok(last) => a.size() > last,
                    Err(_) => false,
                };
                if grew {
                    if let Err(e) = a.sign_checkpoint(&signer) {
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
            let size = parse_u64_key(&k).ok_or_else(|| {
                ArchiveError::Inconsistent("a checkpoint key is not 8 bytes".into())
            })?;
            out.push((size, String::from_utf8_lossy(&v).into_owned()));
        }
        Ok(out)
    }

    /// The newest stored checkpoint: (size, note). One key read from the end, not every note:
    /// a checkpoint is stored every half second the log grows, and the service loaded them all
    /// at each start to keep the last — 500,000 notes took 0.7 s and 110 MiB more, held for
    /// good (helper 256); a year of busy office hours stores millions.
    pub fn last_checkpoint(&self) -> Result<Option<(u64, String)>> {
        let cf = self.cf(CF_CHECKPOINTS)?;
        match self.db.iterator_cf(cf, rocksdb::IteratorMode::End).next() {
            None => Ok(None),
            Some(item) => {
                let (k, v) = item.map_err(db_err)?;
                let size = parse_u64_key(&k).ok_or_else(|| {
                    ArchiveError::Inconsistent("a checkpoint key is not 8 bytes".into())
                })?;
                Ok(Some((size, String::from_utf8_lossy(&v).into_owned())))
            }
        }
    }
}

/// The state file must not live in the database directory `db` (a restore would bring back an
/// old one with it).
fn check_state_file_outside(db: &Path, file: &Path) -> Result<()> {
    let abs = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let parent = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(parent.canonicalize().ok()?.join(p.file_name()?))
    };
    let Some(f) = abs(file) else {
        return Err(refuse(format!(
            "the checkpoint state file {} is not in an existing directory",
            file.display()
        )));
    };
    // A database not created yet holds nothing.
    if abs(db).is_some_and(|db| f.starts_with(db)) {
        return Err(refuse(format!(
            "the checkpoint state file {} is inside the database directory; keep it outside, where a restore does not reach",
            file.display()
        )));
    }
    Ok(())
}

/// The checkpoint in the state file (`note`, as read), if there is one. A signature by the
/// current key must verify; one by another key (before a key rotation) is taken as it is: the
/// file's protection is where it lives, outside the database and writable only by the
/// appliance.
fn read_state_file(
    s: &CheckpointSigner,
    spki: &[u8],
    db_agrees: bool,
    note: Option<checkpoint::Note>,
) -> Result<Option<checkpoint::Checkpoint>> {
    let file = &s.state_file;
    let Some(note) = note else {
        return Ok(None);
    };
    let bad = |e: String| refuse(format!("{}: {e}", file.display()));
    let hint = if db_agrees {
        state_file_hint(file)
    } else {
        "the database holds no checkpoint this key or a recorded one signed to say which is right"
            .into()
    };
    if note.checkpoint.origin != s.origin {
        return Err(bad(format!(
            "it is a checkpoint of the log {:?}, not {:?}; {hint}",
            note.checkpoint.origin, s.origin,
        )));
    }
    let id = checkpoint::key_id_der(spki);
    if note.signatures.iter().any(|s| s.key_id == id) {
        note.verify(None, spki)
            .map_err(|e| bad(format!("{e}; {hint}")))?;
    }
    Ok(Some(note.checkpoint))
}

/// The signed note in the state file, its signatures not checked; `None` if there is no file.
/// Only a regular file is read, at most [`checkpoint::MAX_NOTE`] bytes of it: a FIFO there
/// held `log checkpoint` for good, and `archive put` after storing its record (an insider's
/// reading, 2026-12-04).
pub fn read_state_note(file: &Path) -> Result<Option<checkpoint::Note>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(file)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refuse(format!("read {}: {e}", file.display()))),
    };
    let bad = |e: String| refuse(format!("{}: {e}", file.display()));
    let is_file = f
        .metadata()
        .map_err(|e| bad(e.to_string()))?
        .file_type()
        .is_file();
    if !is_file {
        return Err(bad("not a regular file".into()));
    }
    let mut text = String::new();
    f.take(checkpoint::MAX_NOTE as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| bad(e.to_string()))?;
    // Empty: none yet (a new archive's, made by an installer's `touch`); refused once the
    // archive has signed ([`Archive::check_signer`]).
    if text.is_empty() || text.trim_end() == WRITE_ANEW {
        return Ok(None);
    }
    // A crash leaves the old note or the new one (the file is replaced whole): one cut short
    // or emptied was refused with no word on what to do (an insider's reading, 2026-12-04).
    checkpoint::parse(&text).map(Some).map_err(|e| {
        bad(format!(
            "{e}; a crash does not leave it so (it is replaced whole): if it was changed by hand, check the database against a checkpoint kept elsewhere (`kyso audit verify … --checkpoint NOTE`), then write `kyso: write anew from the database` in it: the next checkpoint writes it anew from the database"
        ))
    })
}

/// What the operator writes in the state file to have the next checkpoint write it anew from
/// the database. Not an empty file: a copy that failed on a full disk leaves one, and the log
/// key then signed a restored older database's history beside the first (an insider's
/// reading, 2026-12-04).
pub const WRITE_ANEW: &str = "kyso: write anew from the database";

/// Is there a state file (or something else) at `file`, not an empty regular file? A symlink
/// to nothing is none.
fn state_file_present(file: &Path) -> Result<bool> {
    match std::fs::metadata(file) {
        Ok(m) => Ok(!(m.is_file() && m.len() == 0)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(refuse(format!("{}: {e}", file.display()))),
    }
}

/// The state file's directory takes a note: a temporary file there is written (a note's
/// largest size) and removed. A read-only or full file system passed every check before the
/// token signed, then failed each checkpoint: `archive put` stored its record first, the
/// service said it was ready while it signed none (an insider's reading, 2026-12-04).
fn check_state_file_writable(file: &Path) -> Result<()> {
    use std::io::Write;
    let (tmp, mut f) = new_temp_file(file).map_err(|e| {
        refuse(format!(
            "the checkpoint state file {} cannot be written: {e}",
            file.display()
        ))
    })?;
    // Bytes no file system compresses or leaves sparse, synced: a full NFS, ZFS or btrfs
    // mount says so only then (insiders' readings, 2026-12-04).
    let mut bytes = vec![0u8; checkpoint::MAX_NOTE];
    let mut x =
        tmp.as_os_str().len() as u64 ^ 0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id());
    for b in bytes.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x >> 32) as u8;
    }
    let written = f.write_all(&bytes).and_then(|()| f.sync_all());
    drop(f);
    let _ = std::fs::remove_file(&tmp);
    written.map_err(|e| {
        refuse(format!(
            "the checkpoint state file {} cannot be written: {e}",
            file.display()
        ))
    })
}

/// A new temporary file beside `file`, for its next content: its name the file's, the
/// process's, the time's and a counter's (a process id alone repeats: in a container kyso is
/// always process 1, and leftovers of crashes met the next run's names), created exclusively,
/// no symlink followed, opened without blocking.
fn new_temp_file(file: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::os::unix::fs::OpenOptionsExt;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let mut tries = 0;
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let tmp = dir.join(format!(
            ".{}.{}-{nanos:x}-{}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 16 => tries += 1,
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("the temporary file {}: {e}", tmp.display()),
                ))
            }
        }
    }
}

/// Replace `file` with `bytes` so that a crash leaves the old or the new content, never a
/// mixture: write a temporary file beside it, fsync it, rename it over, fsync the directory.
/// The temporary file is a new one ([`new_temp_file`]): a FIFO at the one fixed name it had
/// held the checkpointer and its lock for good, a symlink there had the appliance overwrite
/// the file it named, a directory refused every checkpoint (an insider's reading,
/// 2026-12-04).
pub fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (tmp, mut f) = new_temp_file(file)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&tmp, file) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::File::open(dir)?.sync_all()
}
