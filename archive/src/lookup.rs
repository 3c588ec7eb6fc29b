//! Reading the archive: records, status, content, lookups by code, subject and agency, the
//! log's entries and proofs.

use crate::code::DocumentCode;
use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::{self, Hash, Nodes};
use crate::model::{now_rfc3339, Event, Record, Status};
use crate::schema::*;
use crate::store::Archive;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;

impl Archive {
    pub fn record(&self, id: u64) -> Result<Record> {
        let v = self
            .db
            .get_cf(self.cf(CF_RECORDS)?, be(id))
            .map_err(db_err)?
            .ok_or(ArchiveError::NoRecord(id))?;
        serde_json::from_slice(&v).map_err(|e| ArchiveError::Corrupt(format!("record {id}: {e}")))
    }

    pub fn status(&self, id: u64) -> Result<Status> {
        self.record(id)?;
        Ok(
            match self
                .db
                .get_cf(self.cf(CF_STATUS)?, be(id))
                .map_err(db_err)?
            {
                Some(v) => serde_json::from_slice(&v)
                    .map_err(|e| ArchiveError::Corrupt(format!("status {id}: {e}")))?,
                None => Status::Valid,
            },
        )
    }

    /// The document's bytes. Citizens' documents are personal data: the read is logged first
    /// (who and why), durably, and only then is the content returned.
    pub fn read_content(&self, id: u64, user: &str, reason: &str) -> Result<Vec<u8>> {
        let r = self.record(id)?;
        if reason.trim().is_empty() {
            return Err(ArchiveError::Input(
                "a reason for reading the document is required (it is logged)".into(),
            ));
        }
        self.log(Event::Read {
            record: id,
            user: user.into(),
            reason: reason.into(),
            time: now_rfc3339(),
        })?;
        let sha =
            hex::decode(&r.content_sha256).map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        let v = self
            .db
            .get_cf(self.cf(CF_CONTENT)?, &sha)
            .map_err(db_err)?
            .ok_or_else(|| ArchiveError::Corrupt(format!("content of record {id} is missing")))?;
        if Sha256::digest(&v)[..] != sha[..] {
            return Err(ArchiveError::Corrupt(format!(
                "content of record {id} does not match its SHA-256"
            )));
        }
        Ok(v)
    }

    fn scan_index(&self, prefix: &[u8]) -> Result<Vec<u64>> {
        let cf = self.cf(CF_INDEX)?;
        let mut out = Vec::new();
        for item in self.db.prefix_iterator_cf(cf, prefix) {
            let (k, _) = item.map_err(db_err)?;
            if !k.starts_with(prefix) {
                break;
            }
            if k.len() >= 8 {
                out.push(u64::from_be_bytes(
                    k[k.len() - 8..].try_into().expect("8 bytes"),
                ));
            }
        }
        Ok(out)
    }

    /// All versions of a document code, the current valid one first, then newest first.
    pub fn find_code(&self, code: &str) -> Result<Vec<Record>> {
        let code: DocumentCode = code.parse().map_err(ArchiveError::Input)?;
        let mut key = b"c".to_vec();
        key.extend_from_slice(code.to_string().as_bytes());
        key.push(0);
        let mut recs: Vec<(Record, Status)> = Vec::new();
        for id in self.scan_index(&key)? {
            recs.push((self.record(id)?, self.status(id)?));
        }
        recs.sort_by(|a, b| {
            (a.1 != Status::Valid)
                .cmp(&(b.1 != Status::Valid))
                .then(b.0.id.cmp(&a.0.id))
        });
        Ok(recs.into_iter().map(|(r, _)| r).collect())
    }

    /// Every record of a subject (personal id or tax code), newest first.
    pub fn find_subject(&self, subject: &str) -> Result<Vec<Record>> {
        crate::code::parse_subject(subject).map_err(ArchiveError::Input)?;
        let mut key = b"s".to_vec();
        key.extend_from_slice(subject.as_bytes());
        key.push(0);
        let mut ids = self.scan_index(&key)?;
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.into_iter().map(|id| self.record(id)).collect()
    }

    /// Records of an agency issued between two dates (YYYY-MM-DD, inclusive).
    pub fn find_agency(&self, agency: &str, from: &str, to: &str) -> Result<Vec<Record>> {
        let mut key = b"a".to_vec();
        key.extend_from_slice(agency.as_bytes());
        key.push(0);
        let ids = self.scan_index(&key)?;
        let mut out = Vec::new();
        for id in ids {
            let r = self.record(id)?;
            let d = r.issue_date.clone().unwrap_or_default();
            if d.as_str() >= from && d.as_str() <= to {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// How many WAL syncs acknowledged puts and events since the archive was opened (the
    /// benchmark reports entries per sync).
    pub fn wal_syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// The durable tree size: entries written but not yet synced are not counted.
    pub fn size(&self) -> Result<u64> {
        Ok(self.durable.load(Ordering::Acquire))
    }

    pub fn root(&self, size: u64) -> Result<Hash> {
        merkle::mth(&DbNodes(&self.db), 0, size).map_err(ArchiveError::Corrupt)
    }

    pub fn leaf(&self, index: u64) -> Result<Hash> {
        DbNodes(&self.db)
            .node(0, index)
            .map_err(ArchiveError::Corrupt)
    }

    pub fn event_bytes(&self, index: u64) -> Result<Vec<u8>> {
        self.db
            .get_cf(self.cf(CF_EVENTS)?, be(index))
            .map_err(db_err)?
            .ok_or_else(|| ArchiveError::Corrupt(format!("event {index} is missing")))
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        merkle::inclusion_proof(&DbNodes(&self.db), index, size).map_err(ArchiveError::Input)
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        merkle::consistency_proof(&DbNodes(&self.db), old, new).map_err(ArchiveError::Input)
    }
}
