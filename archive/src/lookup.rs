//! Reading the archive. A record's metadata and content, and every lookup (by document code,
//! by a citizen's ID number, by agency) are personal data: each read is logged — who, why,
//! which records — durably, before anything is returned. Proofs and checkpoints are what
//! relying agencies read, and are not about a person; the log's own entries name document
//! codes (a citizen's ID number) and the values searched for, and the service logs each read
//! of them (`log_read`, src/serve/api/log.rs).

use crate::code::{parse_subject, DocumentCode};
use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::{self, Hash, Nodes};
use crate::model::{check_date, check_text, Access, FindBy, ReadPart, Record, Status};
use crate::schema::*;
use crate::store::Archive;
use crate::writer::{stored_record, stored_status, Job};
use sha2::{Digest, Sha256};

/// Most records one lookup returns (the event that logs it names each of them).
pub const MAX_FOUND: usize = 1000;
/// Most records without an issue date a lookup of an agency's records by dates reads.
pub const MAX_UNDATED_READ: usize = 100_000;

/// The most versions a code may have and still narrow a lookup of a document.
pub const MAX_CODE_VERSIONS: usize = 100_000;

/// A content lookup repeated by the same user with the same answer within this window is
/// logged once.
pub const REPEAT_WINDOW: std::time::Duration = std::time::Duration::from_secs(3600);

/// How many recent content lookups are remembered (then the expired ones are dropped, or all).
const MAX_RECENT_LOOKUPS: usize = 100_000;

/// A lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Every version of a document code, the current valid one first, then newest first.
    Code(String),
    /// Every record of a subject (personal id or tax code), newest first.
    Subject(String),
    /// Records of an agency issued between two dates (YYYY-MM-DD, inclusive), oldest first.
    Agency {
        agency: String,
        from: String,
        to: String,
    },
    /// Records of exactly this document (its SHA-256, hex), newest first; only those under
    /// `code`, or the record `record`, when given. The find event names the records answered,
    /// not those the narrowing left out.
    Content {
        sha256: String,
        code: Option<String>,
        record: Option<u64>,
    },
}

/// What a lookup found.
#[derive(Debug, Clone)]
pub struct Found {
    /// Each record without its validation report (`null`): [`Archive::bound_record`] reads
    /// one whole.
    pub records: Vec<(Record, Status)>,
    /// More than [`MAX_FOUND`] matched; narrow the query.
    pub truncated: bool,
}

/// A record's document (and its detached signature, if it has one), with the record.
#[derive(Debug, Clone)]
pub struct Content {
    pub record: Record,
    pub document: Vec<u8>,
    pub detached_signature: Option<Vec<u8>>,
}

/// A record's validation data: each item with what it is (`certificate`, `crl`, `ocsp`).
#[derive(Debug, Clone)]
pub struct Evidence {
    pub record: Record,
    pub items: Vec<(&'static str, Vec<u8>)>,
}

/// What a record's blobs are called when one is damaged: the document (its bytes are the
/// `content` column family's), its detached signature, an item of its validation data.
pub(crate) const DOCUMENT: &str = "content";
pub(crate) const DETACHED_SIGNATURE: &str = "detached signature";

/// A validation data item of this kind (`certificate`, `crl`, `ocsp`), as a damaged one is named.
pub(crate) fn validation_item(kind: &str) -> String {
    format!("validation data item ({kind})")
}

impl Archive {
    /// A record and its current status — a logged read. The record is read, and held to its
    /// ingest event, before the read is logged: one that is not there, or not the one its event
    /// names, is refused and not logged (a record deleted behind the archive's back was logged
    /// as read, then refused; helper 241).
    pub fn read_record(&self, id: u64, access: &Access) -> Result<(Record, Status)> {
        access.check()?;
        let r = self.bound_record(id)?;
        // The status read before the read is logged: the log's sync then covers it (read
        // after, a status change written but not yet synced could be shown; helper 250).
        let status = self.status(id)?;
        self.log_read(id, ReadPart::Metadata, access)?;
        Ok((r, status))
    }

    /// How many bytes [`Archive::read_content`] of record `id` returns (its document), so a
    /// caller can make room for them before the read. Not a read: nothing of the record is
    /// returned but that number.
    pub fn content_size(&self, id: u64) -> Result<u64> {
        Ok(self.record(id)?.size)
    }

    /// Whether record `id` keeps a detached signature beside its document, so a caller can
    /// refuse to write one that is not there before the read is logged. Not a read.
    pub fn has_detached_signature(&self, id: u64) -> Result<bool> {
        Ok(self.record(id)?.detached_signature.is_some())
    }

    /// The document's bytes — a logged read: the event is durable before the bytes are
    /// returned. The bytes are checked against the record's SHA-256.
    pub fn read_content(&self, id: u64, access: &Access) -> Result<Content> {
        access.check()?;
        let r = self.bound_record(id)?;
        self.log_read(id, ReadPart::Content, access)?;
        let document = self.blob(id, DOCUMENT, &r.content_sha256)?;
        let detached_signature = match &r.detached_signature {
            Some(b) => Some(self.blob(id, DETACHED_SIGNATURE, &b.sha256)?),
            None => None,
        };
        Ok(Content {
            record: r,
            document,
            detached_signature,
        })
    }

    /// The validation data kept with a record at ingest (certificates, CRLs, OCSP responses:
    /// they name the signer) — a logged read; each item checked against its SHA-256. A record
    /// stored before the archive kept validation data has none.
    pub fn read_validation_data(&self, id: u64, access: &Access) -> Result<Evidence> {
        access.check()?;
        let record = self.bound_record(id)?;
        self.log_read(id, ReadPart::ValidationData, access)?;
        let mut items = Vec::new();
        if let Some(v) = &record.validation_data {
            for (kind, b) in v.blobs() {
                items.push((kind, self.blob(id, &validation_item(kind), &b.sha256)?));
            }
        }
        Ok(Evidence { record, items })
    }

    fn log_read(&self, id: u64, part: ReadPart, access: &Access) -> Result<u64> {
        access.check()?;
        self.submit(Job::Read {
            record: id,
            part,
            user: access.user.clone(),
            purpose: access.purpose.clone(),
        })
        .map(|o| o.leaf)
    }

    /// A blob of record `id` — `what` it is, for the message when it is damaged ([`DOCUMENT`],
    /// [`DETACHED_SIGNATURE`], [`validation_item`]) — checked against its SHA-256.
    pub(crate) fn blob(&self, id: u64, what: &str, sha256_hex: &str) -> Result<Vec<u8>> {
        let sha = hex::decode(sha256_hex).map_err(|_| {
            ArchiveError::Inconsistent(format!("record {id} has a malformed SHA-256 of its {what}"))
        })?;
        let v = self
            .db
            .get_cf(self.cf(CF_CONTENT)?, &sha)
            .map_err(db_err)?
            .ok_or_else(|| {
                ArchiveError::Inconsistent(format!("{what} {sha256_hex} of record {id} is missing"))
            })?;
        if Sha256::digest(&v)[..] != sha[..] {
            return Err(ArchiveError::Inconsistent(format!(
                "{what} {sha256_hex} of record {id} does not match its SHA-256"
            )));
        }
        Ok(v)
    }

    /// Look records up — a logged read naming every record returned.
    pub fn find(&self, query: &Query, access: &Access) -> Result<Found> {
        access.check()?;
        // What a record found must have: the lookup entry it was found by, read off the record
        // itself (`Asked::holds`).
        let (by, value, asked, mut ids) = match query {
            Query::Code(code) => {
                let code: DocumentCode = code.parse().map_err(ArchiveError::Input)?;
                let code = code.to_string();
                let ids = self.scan_newest(&index_prefix(b'c', &code), MAX_FOUND + 1)?;
                (FindBy::Code, code.clone(), Asked::Code(code), ids)
            }
            Query::Subject(subject) => {
                parse_subject(subject).map_err(ArchiveError::Input)?;
                let mut ids = self.scan_newest(&index_prefix(b's', subject), MAX_FOUND + 1)?;
                ids.sort_unstable_by(|a, b| b.cmp(a));
                let asked = Asked::Subject(subject.clone());
                (FindBy::Subject, subject.clone(), asked, ids)
            }
            Query::Agency { agency, from, to } => {
                check_text("agency", agency, 200)?;
                check_date("from", from)?;
                check_date("to", to)?;
                // Said, as `stats` says it: an empty answer read as "no records".
                if from > to {
                    return Err(ArchiveError::Input(format!(
                        "from ({from}) is after to ({to})"
                    )));
                }
                let prefix = index_prefix(b'a', agency);
                let ids = self.scan_index(&prefix, Some((from, to)), MAX_FOUND + 1)?;
                let asked = Asked::Agency {
                    agency: agency.clone(),
                    from: from.clone(),
                    to: to.clone(),
                };
                (FindBy::Agency, format!("{agency} {from}..{to}"), asked, ids)
            }
            Query::Content {
                sha256,
                code,
                record,
            } => {
                let sha256 = sha256.to_ascii_lowercase();
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ArchiveError::Input(
                        "a document's SHA-256 is 64 hex digits".into(),
                    ));
                }
                // Narrowed, by index keys alone (no record read before it, none past the
                // cap): the record asked for, or the versions of the code asked for, that hold
                // these bytes (helper 129: the narrowing ran on the first 1,000 copies'
                // records, read, and a code was compared unparsed).
                let holds = |id: u64| {
                    self.index_has(
                        &IndexKey::Content {
                            sha256: sha256.clone(),
                            id,
                        }
                        .encode(),
                    )
                };
                let code = match code {
                    Some(c) => Some(
                        c.parse::<DocumentCode>()
                            .map_err(ArchiveError::Input)?
                            .to_string(),
                    ),
                    None => None,
                };
                let mut ids = match (record, &code) {
                    // The record asked for, if it holds these bytes (and is of the code given).
                    (Some(id), _) => {
                        let of_code = match &code {
                            Some(c) => self.index_has(
                                &IndexKey::Code {
                                    code: c.clone(),
                                    id: *id,
                                }
                                .encode(),
                            )?,
                            None => true,
                        };
                        if of_code && holds(*id)? {
                            vec![*id]
                        } else {
                            Vec::new()
                        }
                    }
                    (None, Some(c)) => {
                        let mut ids = Vec::new();
                        // A code's versions are few; 100,000 bounds a hostile one's scan, and
                        // past it the lookup is refused: read in part, a copy past the newest
                        // 100,000 was missed without a word (an attacker's reading,
                        // 2026-12-05).
                        let versions =
                            self.scan_newest(&index_prefix(b'c', c), MAX_CODE_VERSIONS + 1)?;
                        if versions.len() > MAX_CODE_VERSIONS {
                            return Err(ArchiveError::Input(format!(
                                "more than {MAX_CODE_VERSIONS} records are filed under the code {c}: it cannot narrow a lookup"
                            )));
                        }
                        for id in versions {
                            if holds(id)? {
                                ids.push(id);
                                if ids.len() > MAX_FOUND {
                                    break;
                                }
                            }
                        }
                        ids
                    }
                    (None, None) => {
                        self.scan_newest(&index_prefix(b'h', &sha256), MAX_FOUND + 1)?
                    }
                };
                ids.sort_unstable_by(|a, b| b.cmp(a));
                let asked = Asked::Content {
                    sha256: sha256.clone(),
                    code,
                };
                (FindBy::Content, sha256, asked, ids)
            }
        };
        let truncated = ids.len() > MAX_FOUND;
        ids.truncate(MAX_FOUND);
        let mut records = Vec::with_capacity(ids.len());
        for id in &ids {
            // Each record as its ingest event binds it, and of the lookup: the lookup entries
            // are derived, and one moved to another citizen's record had a lookup by one
            // citizen's code list another's (the audit found it; the lookups did not).
            let r = crate::model::listing(|| self.bound_record(*id))?;
            if !asked.holds(&r)? {
                return Err(ArchiveError::Inconsistent(format!(
                    "the archive's lookup entries list record {id} for {}, which it is not of: they were changed (run kyso audit verify); nothing was returned",
                    asked.what()
                )));
            }
            records.push((r, self.status(*id)?));
        }
        if by == FindBy::Code {
            // The current valid version first, then newest first.
            records.sort_by(|a, b| {
                (a.1 != Status::Valid)
                    .cmp(&(b.1 != Status::Valid))
                    .then(b.0.id.cmp(&a.0.id))
            });
        }
        // "Is this exact document archived?" with no record found names nobody: it is not
        // logged, so hashes of documents the archive does not hold cannot fill the log.
        if by == FindBy::Content && records.is_empty() {
            return Ok(Found { records, truncated });
        }
        let named: Vec<u64> = records.iter().map(|(r, _)| r.id).collect();
        if by == FindBy::Content && self.logged_lately(&access.user, &value, &named) {
            // Nothing logged, so no sync covers what was read.
            self.reads_durable()?;
            return Ok(Found { records, truncated });
        }
        let cells = match by {
            FindBy::Code | FindBy::Subject => records
                .iter()
                .map(|(r, _)| Ok((r.id, crate::stats::Cell::of(r)?)))
                .collect::<Result<_>>()?,
            _ => Default::default(),
        };
        self.submit(Job::Find {
            by,
            value: value.clone(),
            records: named.clone(),
            cells,
            user: access.user.clone(),
            purpose: access.purpose.clone(),
        })?;
        if by == FindBy::Content {
            self.remember_lookup(&access.user, value, named);
        }
        Ok(Found { records, truncated })
    }

    /// Did `user` look this document up, with the same answer, within the last
    /// [`REPEAT_WINDOW`]? Then the log already says so: a repeat adds no information and is not
    /// logged again (the public page asks on every verification; a script asking in a loop
    /// must not fill the permanent log).
    fn logged_lately(&self, user: &str, sha256: &str, records: &[u64]) -> bool {
        let recent = self
            .recent_lookups
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        recent
            .get(&(user.to_string(), sha256.to_string(), answer_digest(records)))
            .is_some_and(|at| at.elapsed() < REPEAT_WINDOW)
    }

    /// Forget that `user` looked `sha256` up: the answer could not be given after the lookup
    /// was logged (no checkpoint to prove it), so the next one is logged again, not taken as
    /// already said (helper 190: a 503 stood for the 200 after it).
    pub fn forget_lookup(&self, user: &str, sha256: &str) {
        self.recent_lookups
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(u, s, _), _| !(u == user && s == sha256));
    }

    fn remember_lookup(&self, user: &str, sha256: String, records: Vec<u64>) {
        let mut recent = self
            .recent_lookups
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if recent.len() >= MAX_RECENT_LOOKUPS {
            recent.retain(|_, at| at.elapsed() < REPEAT_WINDOW);
            if recent.len() >= MAX_RECENT_LOOKUPS {
                // Forgetting only makes the log say more.
                recent.clear();
            }
        }
        recent.insert(
            (user.to_string(), sha256, answer_digest(&records)),
            std::time::Instant::now(),
        );
    }

    /// Is this index entry there?
    fn index_has(&self, key: &[u8]) -> Result<bool> {
        Ok(self
            .db
            .get_pinned_cf(self.cf(CF_INDEX)?, key)
            .map_err(db_err)?
            .is_some())
    }

    /// Record ids under an index prefix (at most `limit`); for agency entries, only those
    /// issued within `dates` (oldest first), then those with no issue date archived within
    /// them.
    pub(crate) fn scan_index(
        &self,
        prefix: &[u8],
        dates: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<u64>> {
        let mut it = self.db.raw_iterator_cf(self.cf(CF_INDEX)?);
        match dates {
            Some((from, _)) => {
                let mut k = prefix.to_vec();
                k.extend_from_slice(from.as_bytes());
                it.seek(&k);
            }
            None => it.seek(prefix),
        }
        let mut out = Vec::new();
        while it.valid() && out.len() < limit {
            let Some(k) = it.key() else { break };
            if !k.starts_with(prefix) {
                break;
            }
            let key = parsed_index_key(k)?;
            if let (Some((from, to)), IndexKey::Agency { date, .. }) = (dates, &key) {
                if date.as_str() > to {
                    break;
                }
                if date.is_empty() || date.as_str() < from {
                    it.next();
                    continue;
                }
            }
            out.push(key.id());
            it.next();
        }
        it.status().map_err(db_err)?;
        let Some((from, to)) = dates else {
            return Ok(out);
        };
        // A record with no issue date is of the day it was archived (+07:00), as `stats`
        // counts it: an agency's records between two dates left it out, whatever the dates
        // (helper 164). Its entries (no date, then the id) come before the dated ones, and
        // each is dated by reading its record: a lookup (not an export, which reads every
        // record anyway) reads at most MAX_UNDATED_READ of them, so a narrow range asked again
        // and again does not read a million records each time (helper 165).
        it.seek(prefix);
        let mut read = 0usize;
        while it.valid() && out.len() < limit {
            let Some(k) = it.key() else { break };
            if !k.starts_with(prefix) {
                break;
            }
            let IndexKey::Agency { date, id, .. } = parsed_index_key(k)? else {
                break;
            };
            if !date.is_empty() {
                break;
            }
            read += 1;
            if limit != usize::MAX && read > MAX_UNDATED_READ {
                return Err(ArchiveError::Input(format!(
                    "more than {MAX_UNDATED_READ} records of this agency have no issue date, and a lookup by dates reads each: look them up by code or subject, or export the agency's records (kyso export --agency)"
                )));
            }
            // Its ingest time alone (a record's whole JSON holds its validation report).
            #[derive(serde::Deserialize)]
            struct Archived {
                ingest_time: String,
            }
            let v = self
                .db
                .get_pinned_cf(self.cf(CF_RECORDS)?, u64_key(id))
                .map_err(db_err)?
                .ok_or(ArchiveError::NoRecord(id))?;
            let r: Archived = serde_json::from_slice(&v).map_err(|e| {
                ArchiveError::Inconsistent(format!("record {id} is not a record: {e}"))
            })?;
            let day = crate::model::ingest_day(&r.ingest_time)?;
            if from <= day.as_str() && day.as_str() <= to {
                out.push(id);
            }
            it.next();
        }
        it.status().map_err(db_err)?;
        Ok(out)
    }

    /// The ids under an index prefix, newest first, at most `limit`. The lookups list the
    /// newest 1,000 of what they find; read oldest first and cut at the 1,001st, they listed
    /// the oldest but one — a code's current version, a citizen's newest document, past the
    /// first thousand, were not among them (found reading the lookup of 2026-12-05).
    fn scan_newest(&self, prefix: &[u8], limit: usize) -> Result<Vec<u64>> {
        let mut it = self.db.raw_iterator_cf(self.cf(CF_INDEX)?);
        // Past every key of the prefix: an id is 8 bytes after it.
        let mut upper = prefix.to_vec();
        upper.extend_from_slice(&[0xFF; 16]);
        it.seek_for_prev(&upper);
        let mut out = Vec::new();
        while it.valid() && out.len() < limit {
            let Some(k) = it.key() else { break };
            if !k.starts_with(prefix) {
                break;
            }
            let key = parsed_index_key(k)?;
            out.push(key.id());
            it.prev();
        }
        it.status().map_err(db_err)?;
        Ok(out)
    }

    /// A record as stored, not logged: for the archive's own use.
    pub(crate) fn record(&self, id: u64) -> Result<Record> {
        stored_record(&self.db, id)
    }

    /// A record as stored, held to its ingest event: the stored JSON's SHA-256 must be the one
    /// the event at the record's leaf gives, for this record, and the event that leaf's hash.
    /// A record pointed for a moment at another citizen's document had the log say "record 0
    /// read" while citizen B's bytes left (found by an insider's reading, 2026-12-03). Not
    /// logged: outside the archive, for the answer of a lookup that logged the record.
    pub fn bound_record(&self, id: u64) -> Result<Record> {
        let json = self
            .db
            .get_cf(self.cf(CF_RECORDS)?, u64_key(id))
            .map_err(db_err)?
            .ok_or(ArchiveError::NoRecord(id))?;
        let r: Record = serde_json::from_slice(&json)
            .map_err(|e| ArchiveError::Inconsistent(format!("record {id} is not a record: {e}")))?;
        let event = self.event_bytes(r.leaf)?;
        let bound = merkle::leaf_hash(&event) == self.leaf(r.leaf)?
            && match serde_json::from_slice(&event) {
                Ok(crate::model::Event::Ingest {
                    record,
                    record_sha256,
                    ..
                }) => record == id && record_sha256 == hex::encode(Sha256::digest(&json)),
                _ => false,
            };
        if !bound {
            return Err(ArchiveError::Inconsistent(format!(
                "record {id} is not the one its ingest event (log entry {}) names: the stored record was changed",
                r.leaf
            )));
        }
        Ok(r)
    }

    pub(crate) fn status(&self, id: u64) -> Result<Status> {
        self.record(id)?;
        stored_status(&self.db, id)
    }

    /// The status of every record holding these bytes under the document code `code`, newest
    /// first, or `None` when the code has more than `limit` versions: index keys and statuses
    /// only, as [`Archive::content_statuses`]. The code's index is read, not the content's: a
    /// lookup narrowed by a code is not refused for copies held under other codes.
    pub fn content_statuses_under(
        &self,
        sha256: &str,
        code: &str,
        limit: usize,
    ) -> Result<Option<Vec<(u64, Status)>>> {
        let sha256 = sha256.to_ascii_lowercase();
        let code = code
            .parse::<DocumentCode>()
            .map_err(ArchiveError::Input)?
            .to_string();
        let versions = self.scan_newest(&index_prefix(b'c', &code), limit.saturating_add(1))?;
        if versions.len() > limit {
            return Ok(None);
        }
        let mut out = Vec::new();
        for id in versions {
            let key = IndexKey::Content {
                sha256: sha256.clone(),
                id,
            };
            if self.index_has(&key.encode())? {
                out.push((id, stored_status(&self.db, id)?));
            }
        }
        // Logged by nobody: what was read is held until it is durable.
        self.reads_durable()?;
        Ok(Some(out))
    }

    /// The status of every record holding these bytes (their SHA-256), newest first, or
    /// `None` when more than `limit` do: index keys and statuses only — no record is read and
    /// nothing is logged. For deciding which copy's status holds when there are more copies
    /// than a lookup lists; the caller reads (and so logs) the one it answers with.
    pub fn content_statuses(
        &self,
        sha256: &str,
        limit: usize,
    ) -> Result<Option<Vec<(u64, Status)>>> {
        let sha256 = sha256.to_ascii_lowercase();
        let mut ids =
            self.scan_index(&index_prefix(b'h', &sha256), None, limit.saturating_add(1))?;
        if ids.len() > limit {
            return Ok(None);
        }
        ids.sort_unstable_by(|a, b| b.cmp(a));
        let out = ids
            .into_iter()
            .map(|id| Ok((id, stored_status(&self.db, id)?)))
            .collect::<Result<Vec<_>>>()?;
        // Logged by nobody: what was read is held until it is durable.
        self.reads_durable()?;
        Ok(Some(out))
    }

    /// The log index of a record's ingest event (for `kyso log prove ID`: a number, though the
    /// event proved names the record's code), read from the record held to that event: a
    /// record whose `leaf` was changed had `log prove` prove, and show, another citizen's
    /// entry (helper 241).
    pub fn record_leaf(&self, id: u64) -> Result<u64> {
        crate::model::listing(|| self.bound_record(id)).map(|r| r.leaf)
    }

    pub fn root(&self, size: u64) -> Result<Hash> {
        let n = DbNodes::new(&self.db);
        n.result(merkle::mth(&n, 0, size), ArchiveError::Inconsistent)
    }

    pub fn leaf(&self, index: u64) -> Result<Hash> {
        let n = DbNodes::new(&self.db);
        n.result(n.node(0, index), ArchiveError::Inconsistent)
    }

    /// The entry at a leaf, to be shown: held to the leaf's stored hash, which proofs are read
    /// from (an event rewritten alone was shown as the log's; helper 241).
    pub fn entry(&self, index: u64) -> Result<Vec<u8>> {
        let event = self.event_bytes(index)?;
        if merkle::leaf_hash(&event) != self.leaf(index)? {
            return Err(ArchiveError::Inconsistent(format!(
                "log entry {index} is not the one its leaf's hash says: the stored entry was changed (run kyso audit verify)"
            )));
        }
        Ok(event)
    }

    pub fn event_bytes(&self, index: u64) -> Result<Vec<u8>> {
        self.db
            .get_cf(self.cf(CF_EVENTS)?, u64_key(index))
            .map_err(db_err)?
            .ok_or_else(|| ArchiveError::Inconsistent(format!("event {index} is missing")))
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        let n = DbNodes::new(&self.db);
        self.proof_via(&n, &n, index, size)
    }

    /// An inclusion proof read through `nodes`' cache (an export proves many leaves).
    pub(crate) fn inclusion_proof_cached(
        &self,
        nodes: &CachedNodes,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>> {
        self.proof_via(nodes, &nodes.db, index, size)
    }

    fn proof_via(
        &self,
        nodes: &dyn Nodes,
        db: &DbNodes,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>> {
        if size > self.size() {
            return Err(ArchiveError::Input(format!(
                "the log has {} durable entries, not {size}",
                self.size()
            )));
        }
        if index >= size {
            return Err(ArchiveError::Input(format!(
                "leaf {index} is not in a tree of {size}"
            )));
        }
        // What fails past the arguments is the stored tree's (a node missing or not 32
        // bytes): inconsistent, not the caller's input (exit 20, not 5).
        db.result(
            merkle::inclusion_proof(nodes, index, size),
            ArchiveError::Inconsistent,
        )
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        if new > self.size() {
            return Err(ArchiveError::Input(format!(
                "the log has {} durable entries, not {new}",
                self.size()
            )));
        }
        if old > new {
            return Err(ArchiveError::Input(format!(
                "no consistency proof from {old} entries to fewer ({new}): give the older checkpoint first"
            )));
        }
        let n = DbNodes::new(&self.db);
        n.result(
            merkle::consistency_proof(&n, old, new),
            ArchiveError::Inconsistent,
        )
    }
}

/// What a content lookup's answer is remembered by.
/// What a lookup asked, normalized as its lookup entries are written: a record it lists must
/// have the entry it was found by ([`IndexKey::of`]).
enum Asked {
    Code(String),
    Subject(String),
    Agency {
        agency: String,
        from: String,
        to: String,
    },
    Content {
        sha256: String,
        code: Option<String>,
    },
}

impl Asked {
    fn holds(&self, r: &Record) -> Result<bool> {
        let keys = IndexKey::of(r);
        let has = |k: IndexKey| keys.contains(&k);
        Ok(match self {
            Asked::Code(code) => has(IndexKey::Code {
                code: code.clone(),
                id: r.id,
            }),
            Asked::Subject(subject) => has(IndexKey::Subject {
                subject: subject.clone(),
                id: r.id,
            }),
            Asked::Agency { agency, from, to } => {
                // Without an issue date, the day it was archived (as `scan_index` selects it).
                let issued = match &r.issue_date {
                    Some(d) => d.clone(),
                    None => crate::model::ingest_day(&r.ingest_time)?,
                };
                r.agency.as_deref() == Some(agency.as_str())
                    && from.as_str() <= issued.as_str()
                    && issued.as_str() <= to.as_str()
            }
            Asked::Content { sha256, code } => {
                has(IndexKey::Content {
                    sha256: sha256.clone(),
                    id: r.id,
                }) && code.as_ref().is_none_or(|c| {
                    has(IndexKey::Code {
                        code: c.clone(),
                        id: r.id,
                    })
                })
            }
        })
    }

    fn what(&self) -> String {
        match self {
            Asked::Code(code) => format!("the code {code}"),
            Asked::Subject(subject) => format!("the subject {subject}"),
            Asked::Agency { agency, from, to } => {
                format!("agency {agency} and issue dates {from} to {to}")
            }
            Asked::Content { sha256, code: None } => format!("the document {sha256}"),
            Asked::Content {
                sha256,
                code: Some(c),
            } => format!("the document {sha256} under the code {c}"),
        }
    }
}

fn answer_digest(records: &[u64]) -> [u8; 32] {
    let mut h = Sha256::new();
    for id in records {
        h.update(id.to_be_bytes());
    }
    h.finalize().into()
}

/// An index entry's key, or why the index is inconsistent.
fn parsed_index_key(k: &[u8]) -> Result<IndexKey> {
    IndexKey::parse(k)
        .ok_or_else(|| ArchiveError::Inconsistent(format!("index entry {k:?} does not parse")))
}

/// How strongly a status speaks for a document: a revocation first, then a supersession,
/// then an expiry.
pub fn weight(s: &Status) -> u8 {
    match s {
        Status::Revoked { .. } => 3,
        Status::SupersededBy { .. } => 2,
        Status::Expired { .. } => 1,
        Status::Valid => 0,
    }
}

/// Which of the records holding the same bytes (`copies`: id and status, any order) speaks
/// for the document: a revocation of any of them first, then a supersession, then an expiry,
/// else the first archived (among equals, the oldest). The archive cannot tell the issuer's
/// copy from another agency's, so the answer is the conservative one, and says whose copy it
/// is and whether other copies differ (`/v1/verify/archived`): the first archiving agency
/// taken as the issuer (tried 2026-12-05) hid the issuer's revocation whenever another agency
/// archived the bytes first — a citizen's licence handed in elsewhere before a day's batch was
/// archived (an attacker's reading, 2026-12-05). Among equals the oldest, most likely the
/// issuer's, whose ingest event the public is then shown: the newest was most often another
/// agency's copy, filed under another citizen's code (the same reading).
pub fn deciding_copy(copies: &[(u64, &Status)]) -> Option<u64> {
    copies
        .iter()
        .max_by(|a, b| weight(a.1).cmp(&weight(b.1)).then(b.0.cmp(&a.0)))
        .map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A revocation of any copy speaks, then a supersession, then an expiry, else the first
    /// archived; among equals the oldest.
    #[test]
    fn the_copy_that_speaks() {
        let (v, r) = (Status::Valid, Status::Revoked { reason: "x".into() });
        let e = Status::Expired {
            on: "2026-01-01".into(),
        };
        assert_eq!(deciding_copy(&[(9, &v), (3, &v)]), Some(3));
        assert_eq!(deciding_copy(&[(3, &r), (9, &v), (5, &e)]), Some(3));
        assert_eq!(deciding_copy(&[(3, &v), (9, &e)]), Some(9));
        assert_eq!(deciding_copy(&[(9, &r), (3, &r), (5, &v)]), Some(3));
        assert_eq!(deciding_copy(&[]), None);
    }
}
