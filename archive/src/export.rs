//! Reading records out for long-term storage: the archive's side of an export.
//!
//! An export reads the content of many records at once. Its rule, like every read of personal
//! data: the read is logged — who, why, which records — durably, before any byte is returned.
//! One export event names the records it reads (at most [`MAX_EXPORT_EVENT`] each, fewer when
//! they have status events, which it names too; a larger export logs several, each saying which
//! part of how many it is, all before the first read), with the user and the stated reason; that
//! event *is* the read of each record named, so an export of 100,000 records adds one entry to
//! the log, not 100,000 (docs/export.md). An [`ExportSession`] reads only the records its
//! events named, and only after they are durable.

use crate::code::{parse_subject, DocumentCode};
use crate::error::{db_err, ArchiveError, Result};
use crate::lookup::{validation_item, DETACHED_SIGNATURE, DOCUMENT};
use crate::model::{
    check_date, check_stated, check_text, check_user, Access, Blob, Event, Status, PURPOSE_MAX,
};
use crate::schema::*;
use crate::store::Archive;
use crate::writer::{stored_record, stored_status, Job};
use std::collections::HashMap;

/// Most records one export event names (its JSON stays well under the audit's event limit).
pub const MAX_EXPORT_EVENT: usize = 100_000;

/// Most records one package holds: its manifests (three to five files a record) must stay
/// within what `kyso bag verify` reads (8 million lines). A larger archive is exported as
/// several packages, by agency and dates.
pub const MAX_PACKAGE_RECORDS: usize = 2_000_000;

/// Which records an export takes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Selection {
    /// Every record of the archive.
    All,
    /// Every version of a document code.
    Code { code: String },
    /// Every record of a subject (personal id or tax code).
    Subject { subject: String },
    /// Records of an agency issued between two dates (YYYY-MM-DD, inclusive).
    Agency {
        agency: String,
        from: String,
        to: String,
    },
    /// These records (an interrupted export resumed: the records it had not written yet).
    Records { records: Vec<u64> },
}

/// The fields of a stored record an export needs to find and name its files (parsed without the
/// rest — the validation report is the bulk of a record's JSON; an E-ARK package, which
/// describes every field, parses [`Exported::record_json`] whole).
#[derive(serde::Deserialize)]
pub struct RecordFiles {
    pub code: String,
    pub content_sha256: String,
    pub content_sha512: String,
    pub media_type: String,
    pub detached_signature: Option<Blob>,
    pub leaf: u64,
    #[serde(default)]
    pub validation_data: Option<crate::model::ValidationData>,
    #[serde(default)]
    pub agency: Option<String>,
    #[serde(default)]
    pub issue_date: Option<String>,
    #[serde(default)]
    pub ingest_time: String,
}

/// One record as an export reads it: the stored bytes of the record (its SHA-256 is in the
/// ingest event), its status, its document, detached signature and validation data, and the
/// log entries about it (its ingest and status events).
pub struct Exported {
    pub record: RecordFiles,
    /// The record exactly as stored.
    pub record_json: Vec<u8>,
    pub status: Status,
    pub document: Vec<u8>,
    pub detached_signature: Option<Vec<u8>>,
    /// Validation data: (kind, digests). Shared by many records: read once per package, with
    /// [`ExportSession::evidence`].
    pub validation_data: Vec<(&'static str, Blob)>,
    /// Log indexes of the record's ingest and status events, in log order.
    pub events: Vec<u64>,
}

/// An export under way: its events are logged and durable; it reads only their records.
pub struct ExportSession<'a> {
    archive: &'a Archive,
    records: Vec<u64>,
    /// The log indexes of its export events.
    pub event_leaves: Vec<u64>,
    status_events: HashMap<u64, Vec<u64>>,
    /// An `--agency` selection (agency, from, to): each record read must be of it. The log
    /// does not say a record's agency, the record (bound to the log by its ingest event's
    /// SHA-256) does: a lookup entry planted for another agency's record is found here.
    agency: Option<(String, String, String)>,
}

impl Archive {
    /// Select records, log the export (one event per [`MAX_EXPORT_EVENT`] records and status
    /// events: format, reason, the records' status events, which part of how many, user), and
    /// return a session that reads them. Nothing is read before the events
    /// are durable. An empty selection is refused and logs nothing.
    pub fn begin_export(
        &self,
        selection: &Selection,
        format: &str,
        access: &Access,
    ) -> Result<ExportSession<'_>> {
        self.begin_export_at_most(selection, format, access, MAX_PACKAGE_RECORDS)
    }

    fn begin_export_at_most(
        &self,
        selection: &Selection,
        format: &str,
        access: &Access,
        most: usize,
    ) -> Result<ExportSession<'_>> {
        // The reason an export states is its access's purpose: refused under its own name.
        check_user(&access.user)?;
        check_stated("reason", &access.purpose, PURPOSE_MAX)?;
        check_text("export format", format, 100)?;
        // The log's size before the selection is read: every record ingested within it is
        // visible to the selection (a record and its ingest event are one write). Read after,
        // a service export of all records failed as "changed" whenever clerks were archiving
        // (found by a reviewer, 2026-12-03).
        let size = self.size();
        let mut records = self.select(selection)?;
        records.sort_unstable();
        records.dedup();
        if records.is_empty() {
            // Said what was looked for, and where the names are (an agency's name given where
            // the records carry its code read "no record matches"; helper 182).
            return Err(ArchiveError::Input(match selection {
                Selection::Agency { agency, from, to } => format!(
                    "no record of the agency {agency:?} issued from {from} to {to}: the agency as the records carry it (a service clerk's records, its configured code) — the statistics by agency list them (`kyso stats --by agency`, GET /v1/stats?by=agency)"
                ),
                Selection::Code { code } => format!("no record under the code {code:?}"),
                Selection::Subject { subject } => format!("no record of the subject {subject:?}"),
                _ => "no record matches the selection".into(),
            }));
        }
        if records.len() > most {
            return Err(ArchiveError::Input(format!(
                "the selection has {} records; a package holds at most {most} (so that `kyso bag verify` reads it whole): export by agency and dates, as several packages",
                records.len()
            )));
        }
        let (status_events, status_upto, unlisted) =
            self.status_events_of(&records, selection, size)?;
        // The selection is read from the lookup entries (or the records' keys), which one who
        // can write the database can change: a record left out of them was left out of the
        // export, which the package could not show (found by an insider's reading,
        // 2026-12-03). The log, which the export's checkpoint signs, says which records were
        // ingested under which code: every one the selection matches must be selected.
        if let Some((id, code)) = unlisted.first() {
            return Err(ArchiveError::Inconsistent(format!(
                "the log holds {} record(s) the selection matches that the archive's lookup entries do not list (the first: record {id}, code {code}): they were changed; nothing was exported",
                unlisted.len()
            )));
        }
        // An agency's records, each by its own agency and date, before the export is logged:
        // checked only as each was read, a planted entry stopped the export after its event
        // said it exported records it never wrote, and left a package that could not finish
        // (helper 241). (The log does not say a record's agency, so an entry deleted — a
        // record left out — is the audit's to find.)
        if let Selection::Agency { agency, from, to } = selection {
            for &id in &records {
                let json = self
                    .db
                    .get_pinned_cf(self.cf(CF_RECORDS)?, u64_key(id))
                    .map_err(db_err)?
                    .ok_or(ArchiveError::NoRecord(id))?;
                let r: RecordFiles = serde_json::from_slice(&json).map_err(|e| {
                    ArchiveError::Inconsistent(format!("record {id} is not a record: {e}"))
                })?;
                of_agency(id, &r, agency, from, to)?;
            }
        }
        // Each event names its records and their status events: at most MAX_EXPORT_EVENT
        // numbers' worth (a status event is two), so that its JSON stays well under the
        // audit's limit whatever the statuses.
        let mut chunks: Vec<(&[u64], Vec<[u64; 2]>)> = Vec::new();
        let mut rest = &records[..];
        while !rest.is_empty() {
            let (mut n, mut weight, mut statuses) = (0, 0, Vec::new());
            while n < rest.len() {
                let s = status_events.get(&rest[n]).map_or(&[][..], |v| &v[..]);
                let w = 1 + 2 * s.len();
                if n > 0 && weight + w > MAX_EXPORT_EVENT {
                    break;
                }
                weight += w;
                statuses.extend(s.iter().map(|&leaf| [rest[n], leaf]));
                n += 1;
            }
            statuses.sort_unstable_by_key(|&[_, leaf]| leaf);
            chunks.push((&rest[..n], statuses));
            rest = &rest[n..];
        }
        let parts = chunks.len() as u64;
        let mut event_leaves = Vec::new();
        for (i, (chunk, statuses)) in chunks.into_iter().enumerate() {
            let o = self.submit(Job::Export {
                records: chunk.to_vec(),
                format: format.into(),
                reason: access.purpose.clone(),
                status_events: statuses,
                status_upto,
                part: [i as u64 + 1, parts],
                user: access.user.clone(),
            })?;
            event_leaves.push(o.leaf);
        }
        Ok(ExportSession {
            archive: self,
            records,
            event_leaves,
            status_events,
            agency: match selection {
                Selection::Agency { agency, from, to } => {
                    Some((agency.clone(), from.clone(), to.clone()))
                }
                _ => None,
            },
        })
    }

    fn select(&self, s: &Selection) -> Result<Vec<u64>> {
        // Every record the selection names: no MAX_FOUND cut (one id is 8 bytes).
        let all_under =
            |prefix: &[u8], dates: Option<(&str, &str)>| self.scan_index(prefix, dates, usize::MAX);
        match s {
            Selection::All => {
                let mut it = self.db.raw_iterator_cf(self.cf(CF_RECORDS)?);
                it.seek_to_first();
                let mut out = Vec::new();
                while it.valid() {
                    if let Some(id) = it.key().and_then(parse_u64_key) {
                        out.push(id);
                    }
                    it.next();
                }
                it.status().map_err(db_err)?;
                Ok(out)
            }
            Selection::Code { code } => {
                let code: DocumentCode = code.parse().map_err(ArchiveError::Input)?;
                all_under(&index_prefix(b'c', &code.to_string()), None)
            }
            Selection::Subject { subject } => {
                parse_subject(subject).map_err(ArchiveError::Input)?;
                all_under(&index_prefix(b's', subject), None)
            }
            Selection::Agency { agency, from, to } => {
                check_text("agency", agency, 200)?;
                check_date("from", from)?;
                check_date("to", to)?;
                if from > to {
                    return Err(ArchiveError::Input(format!(
                        "from ({from}) is after to ({to})"
                    )));
                }
                all_under(&index_prefix(b'a', agency), Some((from, to)))
            }
            Selection::Records { records } => {
                for id in records {
                    stored_record(&self.db, *id)?;
                }
                Ok(records.clone())
            }
        }
    }

    /// The status events of these records among the log's first N entries, and N (one pass
    /// over the log; only records whose status changed take memory). The pass must read the
    /// log the export's checkpoint signs, whole: entries 0..N in order, hashing to the tree's
    /// root — a stray key among the events had ended the pass early, and the export then
    /// said it held every status event up to N while a revocation was left out (found by an
    /// insider's reading, 2026-12-03).
    /// Also returned: the records the log says were ingested under a code the selection
    /// matches (all of them, a code, a subject) that `records` lacks.
    /// A selected record the log ingested under a code the selection does not match (a
    /// lookup entry planted for it) is an error.
    #[allow(clippy::type_complexity)]
    fn status_events_of(
        &self,
        records: &[u64],
        selection: &Selection,
        size: u64,
    ) -> Result<(HashMap<u64, Vec<u64>>, u64, Vec<(u64, String)>)> {
        let mut out: HashMap<u64, Vec<u64>> = HashMap::new();
        let mut unlisted: Vec<(u64, String)> = Vec::new();
        let wanted = match selection {
            Selection::Code { code } => code.parse::<DocumentCode>().ok().map(|c| c.to_string()),
            _ => None,
        };
        let matches = |code: &str| match selection {
            Selection::All => true,
            Selection::Code { .. } => wanted.as_deref() == Some(code),
            Selection::Subject { subject } => {
                code.split_once('.').is_some_and(|(s, _)| s == subject)
            }
            // The agency and dates are the record's, not the log's; a resumed export's
            // records are its journal's.
            Selection::Agency { .. } | Selection::Records { .. } => false,
        };
        let check_ingests = !matches!(
            selection,
            Selection::Agency { .. } | Selection::Records { .. }
        );
        let mut it = self.db.raw_iterator_cf(self.cf(CF_EVENTS)?);
        it.seek_to_first();
        let mut read = crate::merkle::Frontier::default();
        while it.valid() && read.size < size {
            let (Some(k), Some(v)) = (it.key(), it.value()) else {
                break;
            };
            let leaf = read.size;
            if parse_u64_key(k) != Some(leaf) {
                return Err(ArchiveError::Inconsistent(format!(
                    "the log's entries are not stored in order: where entry {leaf} should be, the events hold the key {}",
                    hex::encode(k)
                )));
            }
            read.push(crate::merkle::leaf_hash(v));
            if check_ingests && v.starts_with(br#"{"event":"ingest""#) {
                if let Ok(Event::Ingest { record, code, .. }) = serde_json::from_slice(v) {
                    let selected = records.binary_search(&record).is_ok();
                    if matches(&code) && !selected {
                        unlisted.push((record, code));
                    } else if selected && !matches(&code) {
                        // Planted: another citizen's record put in this one's export.
                        return Err(ArchiveError::Inconsistent(format!(
                            "the archive's lookup entries select record {record}, which the log ingested under code {code}: the selection does not match it, the lookup entries were changed; nothing was exported"
                        )));
                    }
                }
            } else if v.starts_with(br#"{"event":"status""#) {
                if let Ok(Event::Status { record, .. }) = serde_json::from_slice(v) {
                    if records.binary_search(&record).is_ok() {
                        out.entry(record).or_default().push(leaf);
                    }
                }
            }
            it.next();
        }
        it.status().map_err(db_err)?;
        if read.size != size {
            return Err(ArchiveError::Inconsistent(format!(
                "the log's tree has {size} entries, its events {}",
                read.size
            )));
        }
        if read.root() != self.root(size)? {
            return Err(ArchiveError::Inconsistent(format!(
                "the log's {size} events do not hash to its tree's root"
            )));
        }
        Ok((out, size, unlisted))
    }
}

/// What is damaged in the stored data, with the record it was met in named by its id and, when
/// known, its code: an archivist whose export stops must know which record to restore.
/// Is record `id` of the agency and issue dates an `--agency` selection names — by its own
/// agency and issue date, or without one the day it was archived (as the lookup selects it)?
/// The lookup entries are derived from the records: an entry planted for another agency's
/// record is an error, naming the record.
fn of_agency(id: u64, record: &RecordFiles, agency: &str, from: &str, to: &str) -> Result<()> {
    let issued = match &record.issue_date {
        Some(d) => d.clone(),
        None => crate::model::ingest_day(&record.ingest_time)
            .map_err(|e| naming(e, id, Some(&record.code)))?,
    };
    if record.agency.as_deref() != Some(agency) || issued.as_str() < from || issued.as_str() > to {
        return Err(naming(
            ArchiveError::Inconsistent(format!(
                "the archive's lookup entries select record {id} for agency {agency} and issue dates {from} to {to}, which it is not of: they were changed"
            )),
            id,
            Some(&record.code),
        ));
    }
    Ok(())
}

pub(crate) fn naming(e: ArchiveError, id: u64, code: Option<&str>) -> ArchiveError {
    match e {
        ArchiveError::Inconsistent(m) => ArchiveError::Inconsistent(match code {
            Some(c) => format!("{m} [record {id}, code {c}]"),
            None => format!("{m} [record {id}]"),
        }),
        e => e,
    }
}

impl ExportSession<'_> {
    /// The records the export events named, ascending.
    pub fn records(&self) -> &[u64] {
        &self.records
    }

    /// One record with everything the package keeps of it. Only records the session's events
    /// named; each blob checked against its SHA-256.
    pub fn read(&self, id: u64) -> Result<Exported> {
        if self.records.binary_search(&id).is_err() {
            return Err(ArchiveError::Input(format!(
                "record {id} is not part of this export (its events name the records it reads)"
            )));
        }
        let a = self.archive;
        let record_json =
            a.db.get_cf(a.cf(CF_RECORDS)?, u64_key(id))
                .map_err(db_err)?
                .ok_or(ArchiveError::NoRecord(id))?;
        let record: RecordFiles = serde_json::from_slice(&record_json)
            .map_err(|e| ArchiveError::Inconsistent(format!("record {id} is not a record: {e}")))?;
        if let Some((agency, from, to)) = &self.agency {
            of_agency(id, &record, agency, from, to)?;
        }
        // A record no status event names is valid (the status column family is derived from
        // those events): no lookup — a miss is the costliest read, every level searched.
        let status = if self.status_events.contains_key(&id) {
            stored_status(&a.db, id)?
        } else {
            Status::Valid
        };
        let named = |e| naming(e, id, Some(&record.code));
        let document = a
            .blob(id, DOCUMENT, &record.content_sha256)
            .map_err(named)?;
        let detached_signature = match &record.detached_signature {
            Some(b) => Some(a.blob(id, DETACHED_SIGNATURE, &b.sha256).map_err(named)?),
            None => None,
        };
        let validation_data = match &record.validation_data {
            Some(v) => v.blobs().map(|(kind, b)| (kind, b.clone())).collect(),
            None => Vec::new(),
        };
        let mut events = vec![record.leaf];
        events.extend(self.status_events.get(&id).into_iter().flatten());
        Ok(Exported {
            record,
            record_json,
            status,
            document,
            detached_signature,
            validation_data,
            events,
        })
    }

    /// The bytes of a validation data item (`kind`: `certificate`, `crl`, `ocsp`) of record
    /// `id` (whose code is `code`, for the message when the item is damaged), checked against
    /// its SHA-256.
    pub fn evidence(&self, id: u64, code: &str, kind: &str, blob: &Blob) -> Result<Vec<u8>> {
        if self.records.binary_search(&id).is_err() {
            return Err(ArchiveError::Input(format!(
                "record {id} is not part of this export (its events name the records it reads)"
            )));
        }
        self.archive
            .blob(id, &validation_item(kind), &blob.sha256)
            .map_err(|e| naming(e, id, Some(code)))
    }

    /// The archive the session reads.
    pub(crate) fn archive(&self) -> &Archive {
        self.archive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive of three records (kept unverified: plain text).
    fn three_records() -> (tempfile::TempDir, Archive) {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        for i in 0..3u32 {
            let d = crate::ingest::Ingest {
                document: format!("tài liệu {i}").into_bytes(),
                metadata: crate::model::Metadata {
                    code: "001099012345.TEST".into(),
                    ..Default::default()
                },
                user: "test".into(),
                allow_unverified: Some("unit test".into()),
                ..Default::default()
            };
            crate::ingest::ingest(&ar, &kyso_verify::Validator::default(), d).unwrap();
        }
        (dir, ar)
    }

    fn ingest(ar: &Archive, code: &str, agency: &str, doc: String) -> u64 {
        let d = crate::ingest::Ingest {
            document: doc.into_bytes(),
            metadata: crate::model::Metadata {
                code: code.into(),
                agency: Some(agency.into()),
                issue_date: Some("2026-11-20".into()),
                ..Default::default()
            },
            user: "test".into(),
            allow_unverified: Some("unit test".into()),
            ..Default::default()
        };
        crate::ingest::ingest(ar, &kyso_verify::Validator::default(), d)
            .unwrap()
            .record
    }

    /// Exports of every record while clerks archive never take the records ingested during
    /// the selection for ones the lookup entries left out (every such export failed as
    /// "changed" on a busy service until the log's size was read before the selection;
    /// found by a reviewer, 2026-12-03).
    #[test]
    fn an_export_of_all_records_while_records_arrive_is_not_taken_for_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let ar = std::sync::Arc::new(Archive::open(dir.path()).unwrap());
        for i in 0..2000 {
            ingest(&ar, "001099012345.TEST", "UBND", format!("tài liệu {i}"));
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let (ar, stop) = (ar.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut i = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        ingest(&ar, "001099012346.TEST", "UBND", format!("{w} {i}"));
                        i += 1;
                    }
                })
            })
            .collect();
        let access = Access::new("luutru", "nộp lưu");
        for _ in 0..20 {
            let s = ar.begin_export(&Selection::All, "bagit", &access);
            assert!(s.is_ok(), "{:?}", s.err());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
    }

    /// A lookup entry planted for another citizen's record (or another agency's) does not
    /// put it in an export by code, subject or agency: the log says under which code each
    /// record was ingested, the record (bound to the log) of which agency (found by an
    /// insider's reading, 2026-12-03: the package held the other citizen's record and
    /// verified).
    #[test]
    fn a_lookup_entry_planted_for_another_record_does_not_export_it() {
        let dir = tempfile::tempdir().unwrap();
        let ar = Archive::open(dir.path()).unwrap();
        let a = ingest(&ar, "001099012345.GIAY_PHEP", "UBND", "A".into());
        let b = ingest(&ar, "001099012346.GIAY_PHEP", "SOTP", "B".into());
        let access = Access::new("luutru", "nộp lưu");
        let plant = |k: crate::schema::IndexKey| {
            ar.db
                .put_cf(ar.cf(CF_INDEX).unwrap(), k.encode(), [])
                .unwrap();
        };
        use crate::schema::IndexKey;
        plant(IndexKey::Subject {
            subject: "001099012345".into(),
            id: b,
        });
        plant(IndexKey::Code {
            code: "001099012345.GIAY_PHEP".into(),
            id: b,
        });
        plant(IndexKey::Agency {
            agency: "UBND".into(),
            date: "2026-11-20".into(),
            id: b,
        });
        for sel in [
            Selection::Subject {
                subject: "001099012345".into(),
            },
            Selection::Code {
                code: "001099012345.GIAY_PHEP".into(),
            },
        ] {
            let e = ar
                .begin_export(&sel, "bagit", &access)
                .err()
                .expect("refused");
            assert!(
                e.to_string().contains(&format!(
                    "select record {b}, which the log ingested under code 001099012346.GIAY_PHEP"
                )),
                "{e}"
            );
        }
        // By agency: refused before the export is logged (it was refused at the record's
        // read, after its event said it was exported; helper 241).
        let size = ar.size();
        let agency = Selection::Agency {
            agency: "UBND".into(),
            from: "2026-01-01".into(),
            to: "2026-12-31".into(),
        };
        let e = ar
            .begin_export(&agency, "bagit", &access)
            .err()
            .expect("refused");
        assert!(
            e.to_string().contains(&format!(
                "select record {b} for agency UBND and issue dates 2026-01-01 to 2026-12-31, which it is not of"
            )),
            "{e}"
        );
        assert_eq!(ar.size(), size, "nothing logged");
        ar.db
            .delete_cf(
                ar.cf(CF_INDEX).unwrap(),
                IndexKey::Agency {
                    agency: "UBND".into(),
                    date: "2026-11-20".into(),
                    id: b,
                }
                .encode(),
            )
            .unwrap();
        let s = ar.begin_export(&agency, "bagit", &access).unwrap();
        assert_eq!(s.records(), [a]);
        assert!(s.read(a).is_ok());
    }

    /// A selection larger than a package may hold is refused before anything is logged.
    #[test]
    fn a_selection_over_the_package_limit_is_refused_and_logs_nothing() {
        let (_dir, ar) = three_records();
        let size = ar.size();
        let access = Access::new("luutru", "nộp lưu");
        let e = ar
            .begin_export_at_most(&Selection::All, "bagit", &access, 2)
            .err()
            .expect("refused");
        assert!(
            e.to_string()
                .contains("the selection has 3 records; a package holds at most 2"),
            "{e}"
        );
        assert_eq!(ar.size(), size, "nothing logged");
        let s = ar
            .begin_export_at_most(&Selection::All, "bagit", &access, 3)
            .unwrap();
        assert_eq!(s.records(), [0, 1, 2]);
    }

    /// An export event names its records' status events up to the pass over the log made
    /// before it; a status change logged after that pass is in neither, and the audit agrees.
    /// A list that is not the log's — a revocation left out, or counted up to the event itself
    /// when it was not — fails the audit.
    #[test]
    fn the_audit_holds_an_export_events_status_events_to_the_log() {
        let (dir, ar) = three_records();
        let revoked = |why: &str| Status::Revoked { reason: why.into() };
        let first = ar.set_status(1, revoked("sai sót"), "canbo").unwrap();
        let access = Access::new("luutru", "nộp lưu");
        let s = ar.begin_export(&Selection::All, "bagit", &access).unwrap();
        let e: Event = serde_json::from_slice(&ar.event_bytes(s.event_leaves[0]).unwrap()).unwrap();
        let Event::Export {
            status_events,
            status_upto,
            ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(status_events, Some(vec![[1, first]]));
        assert_eq!(status_upto, Some(s.event_leaves[0]));
        drop(s);
        // The pass over the log, then a revocation, then the event: the event names what the
        // pass saw, up to where it looked.
        let records = [0u64, 1, 2];
        let (seen, upto, _) = ar
            .status_events_of(
                &records,
                &Selection::Records {
                    records: records.to_vec(),
                },
                ar.size(),
            )
            .unwrap();
        let second = ar.set_status(2, revoked("thu hồi"), "canbo").unwrap();
        let export = |named: Vec<[u64; 2]>, upto: u64| Job::Export {
            records: records.to_vec(),
            format: "bagit".into(),
            reason: "nộp lưu".into(),
            status_events: named,
            status_upto: upto,
            part: [1, 1],
            user: "luutru".into(),
        };
        assert_eq!(seen.get(&2), None);
        ar.submit(export(vec![[1, first]], upto)).unwrap();
        drop(ar);
        crate::audit::verify(dir.path(), Default::default()).unwrap();

        for (named, upto, why) in [
            // The revocation of record 1 left out.
            (
                vec![],
                upto,
                "names 0 status events of its records before log entry",
            ),
            // Record 2's revocation was logged before the entry the list claims to cover.
            (
                vec![[1, first]],
                second + 1,
                "names 1 status events of its records before log entry",
            ),
            // A list said to cover the log past the event itself.
            (vec![[1, first], [2, second]], u64::MAX, "past itself"),
        ] {
            let copy = tempfile::tempdir().unwrap();
            let st = std::process::Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", dir.path().display()))
                .arg(copy.path())
                .status()
                .unwrap();
            assert!(st.success());
            let ar = Archive::open(copy.path()).unwrap();
            ar.submit(export(named, upto)).unwrap();
            drop(ar);
            let e =
                crate::audit::verify(copy.path(), Default::default()).expect_err("the audit fails");
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
    }
}
