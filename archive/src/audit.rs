//! `kyso audit verify`: recompute every leaf from the stored events and content, the whole
//! tree, every record against its ingest event, and every stored checkpoint against the
//! recomputed tree and its signature — and name the first inconsistency.

use crate::checkpoint;
use crate::error::{ArchiveError, Result};
use crate::merkle::{self, Frontier, Hash, Nodes};
use crate::model::Event;
use crate::schema::*;
use rocksdb::{Options, DB};
use sha2::{Digest, Sha256};
use std::path::Path;

/// What a clean audit saw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditReport {
    pub tree_size: u64,
    pub root: String,
    pub records: u64,
    pub checkpoints: usize,
    /// Size of the newest checkpoint.
    pub last_checkpoint: Option<u64>,
}

fn corrupt(m: impl Into<String>) -> ArchiveError {
    ArchiveError::Corrupt(m.into())
}

/// Audit the archive in `dir` (opened read-only: the service may keep running).
pub fn verify(dir: &Path) -> Result<AuditReport> {
    let db = DB::open_cf_for_read_only(&Options::default(), dir, CFS, false)
        .map_err(|e| ArchiveError::Db(format!("open {} read-only: {e}", dir.display())))?;
    let cf = |n: &str| {
        db.cf_handle(n)
            .ok_or_else(|| corrupt(format!("no {n} column family")))
    };
    let get_u64 = |k: &[u8]| -> Result<u64> {
        Ok(
            match db
                .get_cf(cf(CF_META)?, k)
                .map_err(|e| ArchiveError::Db(e.to_string()))?
            {
                Some(v) => {
                    u64::from_be_bytes(v.as_slice().try_into().map_err(|_| corrupt("meta value"))?)
                }
                None => 0,
            },
        )
    };
    let size = get_u64(b"tree_size")?;
    let next_id = get_u64(b"next_record_id")?;
    let node = |l: u8, i: u64| -> Result<Option<Vec<u8>>> {
        let mut k = [0u8; 9];
        k[0] = l;
        k[1..].copy_from_slice(&i.to_be_bytes());
        db.get_cf(cf(CF_NODES)?, k)
            .map_err(|e| ArchiveError::Db(e.to_string()))
    };
    // Leaves and the tree, recomputed from the events.
    let mut frontier = Frontier::default();
    let mut ingested = 0u64;
    let mut statuses: std::collections::BTreeMap<u64, Vec<u8>> = Default::default();
    for i in 0..size {
        let bytes = db
            .get_cf(cf(CF_EVENTS)?, i.to_be_bytes())
            .map_err(|e| ArchiveError::Db(e.to_string()))?
            .ok_or_else(|| corrupt(format!("event {i} is missing")))?;
        let leaf = merkle::leaf_hash(&bytes);
        for (l, idx, h) in frontier.push(leaf) {
            match node(l, idx)? {
                Some(v) if v.as_slice() == h.as_slice() => {}
                Some(_) if l == 0 => return Err(corrupt(format!("event {i} or its leaf was changed: the stored leaf is not the hash of the stored event"))),
                Some(_) => return Err(corrupt(format!("tree node {l}/{idx} was changed"))),
                None => return Err(corrupt(format!("tree node {l}/{idx} is missing"))),
            }
        }
        let event: Event = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(format!("event {i} is not an event: {e}")))?;
        if let Event::Status { record, status, .. } = &event {
            statuses.insert(
                *record,
                serde_json::to_vec(status).map_err(|e| corrupt(e.to_string()))?,
            );
        }
        if let Event::Ingest {
            record,
            content_sha256,
            record_sha256,
            ..
        } = event
        {
            ingested += 1;
            let rec = db
                .get_cf(cf(CF_RECORDS)?, record.to_be_bytes())
                .map_err(|e| ArchiveError::Db(e.to_string()))?
                .ok_or_else(|| {
                    corrupt(format!(
                        "record {record} (ingested at event {i}) was deleted"
                    ))
                })?;
            if hex::encode(Sha256::digest(&rec)) != record_sha256 {
                return Err(corrupt(format!(
                    "record {record} was changed after ingest (event {i} holds its hash)"
                )));
            }
            let sha = hex::decode(&content_sha256)
                .map_err(|_| corrupt(format!("event {i}: bad content hash")))?;
            let content = db
                .get_cf(cf(CF_CONTENT)?, &sha)
                .map_err(|e| ArchiveError::Db(e.to_string()))?
                .ok_or_else(|| corrupt(format!("the content of record {record} was deleted")))?;
            if Sha256::digest(&content)[..] != sha[..] {
                return Err(corrupt(format!(
                    "the content of record {record} was changed (SHA-256 differs)"
                )));
            }
        }
    }
    if db
        .get_cf(cf(CF_EVENTS)?, size.to_be_bytes())
        .map_err(|e| ArchiveError::Db(e.to_string()))?
        .is_some()
    {
        return Err(corrupt(format!(
            "an event exists beyond the tree size {size}: the tree size was rolled back"
        )));
    }
    if ingested != next_id {
        return Err(corrupt(format!(
            "{next_id} records were numbered but the log ingested {ingested}"
        )));
    }
    let mut records = 0u64;
    for item in db.iterator_cf(cf(CF_RECORDS)?, rocksdb::IteratorMode::Start) {
        let (k, _) = item.map_err(|e| ArchiveError::Db(e.to_string()))?;
        let id = u64::from_be_bytes(k.as_ref().try_into().map_err(|_| corrupt("record key"))?);
        if id >= next_id {
            return Err(corrupt(format!(
                "record {id} has no ingest event: it was added behind the log's back"
            )));
        }
        records += 1;
    }
    if records != ingested {
        return Err(corrupt(format!(
            "{ingested} records were ingested but {records} are stored"
        )));
    }
    // Record statuses are derived from the log: each stored one must be the log's latest.
    for item in db.iterator_cf(cf(CF_STATUS)?, rocksdb::IteratorMode::Start) {
        let (k, v) = item.map_err(|e| ArchiveError::Db(e.to_string()))?;
        let id = u64::from_be_bytes(k.as_ref().try_into().map_err(|_| corrupt("status key"))?);
        match statuses.remove(&id) {
            Some(want) if want.as_slice() == v.as_ref() => {}
            Some(_) => return Err(corrupt(format!("the status of record {id} is not the one its last status event set"))),
            None => return Err(corrupt(format!("record {id} has a status no event in the log set: the log was rolled back or the status forged"))),
        }
    }
    if let Some((id, _)) = statuses.into_iter().next() {
        return Err(corrupt(format!(
            "the status of record {id} set by the log is missing"
        )));
    }
    let root = frontier.root();
    // Checkpoints: within the log, matching the recomputed tree, signed by their key.
    struct Verified<'a>(&'a dyn Fn(u8, u64) -> Result<Option<Vec<u8>>>);
    impl Nodes for Verified<'_> {
        fn node(&self, l: u8, i: u64) -> std::result::Result<Hash, String> {
            (self.0)(l, i)
                .map_err(|e| e.to_string())?
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| format!("tree node {l}/{i} is missing"))
        }
    }
    let nodes = Verified(&node);
    let mut count = 0;
    let mut last_checkpoint = None;
    for item in db.iterator_cf(cf(CF_CHECKPOINTS)?, rocksdb::IteratorMode::Start) {
        let (k, v) = item.map_err(|e| ArchiveError::Db(e.to_string()))?;
        let csize = u64::from_be_bytes(
            k.as_ref()
                .try_into()
                .map_err(|_| corrupt("checkpoint key"))?,
        );
        let note = String::from_utf8_lossy(&v).into_owned();
        if csize > size {
            return Err(corrupt(format!("a checkpoint was signed for {csize} entries but the log has {size}: the log was rolled back")));
        }
        let key_name = note
            .lines()
            .find_map(|l| {
                l.strip_prefix("\u{2014} ")
                    .and_then(|r| r.split(' ').next())
            })
            .ok_or_else(|| corrupt(format!("checkpoint {csize} has no signature line")))?;
        let spki = db
            .get_cf(
                cf(CF_META)?,
                format!("checkpoint_key:{key_name}").as_bytes(),
            )
            .map_err(|e| ArchiveError::Db(e.to_string()))?
            .ok_or_else(|| {
                corrupt(format!(
                    "no public key recorded for checkpoint key {key_name}"
                ))
            })?;
        let cp = checkpoint::verify(&note, key_name, &spki)
            .map_err(|e| corrupt(format!("checkpoint {csize}: {e}")))?;
        if cp.size != csize {
            return Err(corrupt(format!(
                "checkpoint stored as {csize} says {}",
                cp.size
            )));
        }
        let want = merkle::mth(&nodes, 0, csize).map_err(corrupt)?;
        if cp.root != want {
            return Err(corrupt(format!("checkpoint {csize} does not match the log: its root differs from the recomputed tree")));
        }
        count += 1;
        last_checkpoint = Some(csize);
    }
    Ok(AuditReport {
        tree_size: size,
        root: hex::encode(root),
        records,
        checkpoints: count,
        last_checkpoint,
    })
}
