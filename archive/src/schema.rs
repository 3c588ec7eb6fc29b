//! The database layout: column families, their keys, and the RocksDB options of each
//! (docs/archive.md describes every key and why each option is set). Every key the archive
//! writes or reads is made and parsed here, for the writer, the lookups and the audit alike.

use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::{Hash, Nodes};
use crate::model::Record;
use rocksdb::{Options, DB};
use std::cell::RefCell;
use std::path::Path;

/// Documents: SHA-256 → bytes.
pub const CF_CONTENT: &str = "content";
/// Records: id (u64 BE) → the record's JSON, written once.
pub const CF_RECORDS: &str = "records";
/// The latest status of a record whose status changed: id → JSON (derived from the log).
pub const CF_STATUS: &str = "status";
/// Lookups: [`IndexKey`] → empty.
pub const CF_INDEX: &str = "index";
/// Client request ids: user 0x00 request id → record id (u64 BE).
pub const CF_REQUESTS: &str = "requests";
/// The log's entries: leaf index (u64 BE) → the event's canonical bytes.
pub const CF_EVENTS: &str = "events";
/// Perfect-subtree hashes: [`node_key`] → SHA-256.
pub const CF_NODES: &str = "nodes";
/// Signed checkpoints: tree size (u64 BE) → the signed note.
pub const CF_CHECKPOINTS: &str = "checkpoints";
/// Counters and checkpoint keys (the `META_*` keys, [`checkpoint_key_meta`]).
pub const CF_META: &str = "meta";
/// Statistics: [`crate::stats::StatKey`] → count (u64 BE), moved by the writer in the batch of
/// the events they count.
pub const CF_STATS: &str = "stats";
pub const CFS: [&str; 10] = [
    CF_CONTENT,
    CF_RECORDS,
    CF_STATUS,
    CF_INDEX,
    CF_REQUESTS,
    CF_EVENTS,
    CF_NODES,
    CF_CHECKPOINTS,
    CF_META,
    CF_STATS,
];
/// The number of log entries written (u64 BE).
pub const META_SIZE: &[u8] = b"tree_size";
/// The id the next record gets (u64 BE).
pub const META_NEXT_ID: &[u8] = b"next_record_id";
/// The size and root of the last checkpoint signed.
pub const META_SIGNED: &[u8] = b"last_signed_size";
pub const META_SIGNED_ROOT: &[u8] = b"last_signed_root";
/// Present once the `stats` column family holds the counters of every event (a database made
/// before they existed gets them at its next open).
pub const META_STATS: &[u8] = b"stats_built";

/// A u64 key (record id, leaf index, checkpoint size): big-endian, so keys sort by number.
pub fn u64_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// The number in a u64 key, if it is one.
pub fn parse_u64_key(k: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(k.try_into().ok()?))
}

/// A tree node: level (u8) ‖ index (u64 BE); level 0 holds the leaves.
pub fn node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

/// (level, index) of a node key.
pub fn parse_node_key(k: &[u8]) -> Option<(u8, u64)> {
    (k.len() == 9).then(|| {
        (
            k[0],
            u64::from_be_bytes(k[1..].try_into().expect("8 bytes")),
        )
    })
}

/// The public key (DER SPKI) of a checkpoint key, kept under its name and key id so that a
/// rotated key never overwrites an older one.
pub fn checkpoint_key_meta(name: &str, key_id: &[u8; 4]) -> Vec<u8> {
    format!("checkpoint_key:{name}:{}", hex::encode(key_id)).into_bytes()
}

/// The name a `checkpoint_key:` record (`rest`: what follows the prefix) gives its key
/// `spki`: `<name>:<key ID>`, or `<name>` alone as a kyso before 2026-12-01 wrote it. Anything
/// else is read whole as a name, one no checkpoint carries (the audit names such a record).
/// One reading for the signer and the audit: the signer read `log:v2` (a name with a colon,
/// recorded the old way) as `log`, and refused its own key's name.
pub fn checkpoint_key_name(rest: &[u8], spki: &[u8]) -> String {
    let rest = String::from_utf8_lossy(rest);
    let suffix = format!(":{}", hex::encode(crate::checkpoint::key_id_der(spki)));
    rest.strip_suffix(suffix.as_str())
        .unwrap_or(&rest)
        .to_string()
}

/// How many recorded log keys are read (a rotation a year would take centuries); the audit
/// calls more planted.
pub(crate) const MAX_LOG_KEYS: usize = 256;

/// A recorded log key: its name and DER SPKI.
pub(crate) type NamedKey = (String, Vec<u8>);

/// The log keys the database records (`checkpoint_key:<name>:<key ID>` → DER SPKI), as
/// (name, SPKI) in key order: at most `limit` of them, and whether more are recorded. One
/// reader for the signer and the audit.
pub(crate) fn recorded_log_keys(db: &DB, limit: usize) -> Result<(Vec<NamedKey>, bool)> {
    let prefix = b"checkpoint_key:";
    let mut out = Vec::new();
    let mut it = db.raw_iterator_cf(cf(db, CF_META)?);
    it.seek(prefix);
    while let (Some(k), Some(v)) = (it.key(), it.value()) {
        let Some(rest) = k.strip_prefix(prefix) else {
            break;
        };
        if out.len() == limit {
            return Ok((out, true));
        }
        out.push((checkpoint_key_name(rest, v), v.to_vec()));
        it.next();
    }
    it.status().map_err(db_err)?;
    Ok((out, false))
}

/// A client request id: user 0x00 request id.
pub fn request_key(user: &str, request_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(user.len() + request_id.len() + 1);
    k.extend_from_slice(user.as_bytes());
    k.push(0);
    k.extend_from_slice(request_id.as_bytes());
    k
}

/// A lookup entry: the kind byte, the value looked up, 0x00, (the issue date,) the record id.
/// Values never hold 0x00 (the model refuses control characters), so keys parse back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexKey {
    /// `c` code 0x00 id
    Code { code: String, id: u64 },
    /// `s` subject 0x00 id
    Subject { subject: String, id: u64 },
    /// `a` agency 0x00 issue date (YYYY-MM-DD or empty) id
    Agency {
        agency: String,
        date: String,
        id: u64,
    },
    /// `h` the document's SHA-256 (lower-case hex) 0x00 id: "does the archive hold this
    /// exact document?"
    Content { sha256: String, id: u64 },
}

impl IndexKey {
    pub fn encode(&self) -> Vec<u8> {
        let (kind, value, date, id) = match self {
            IndexKey::Code { code, id } => (b'c', code, "", *id),
            IndexKey::Subject { subject, id } => (b's', subject, "", *id),
            IndexKey::Agency { agency, date, id } => (b'a', agency, date.as_str(), *id),
            IndexKey::Content { sha256, id } => (b'h', sha256, "", *id),
        };
        let mut k = Vec::with_capacity(value.len() + date.len() + 10);
        k.push(kind);
        k.extend_from_slice(value.as_bytes());
        k.push(0);
        k.extend_from_slice(date.as_bytes());
        k.extend_from_slice(&id.to_be_bytes());
        k
    }

    pub fn parse(k: &[u8]) -> Option<IndexKey> {
        let (&kind, rest) = k.split_first()?;
        let zero = rest.iter().position(|&b| b == 0)?;
        let value = std::str::from_utf8(&rest[..zero]).ok()?.to_string();
        let tail = &rest[zero + 1..];
        let (date, id) = tail.split_at(tail.len().checked_sub(8)?);
        let id = u64::from_be_bytes(id.try_into().ok()?);
        let date = std::str::from_utf8(date).ok()?.to_string();
        match kind {
            b'c' if date.is_empty() => Some(IndexKey::Code { code: value, id }),
            b's' if date.is_empty() => Some(IndexKey::Subject { subject: value, id }),
            b'a' if date.is_empty() || date.len() == 10 => Some(IndexKey::Agency {
                agency: value,
                date,
                id,
            }),
            b'h' if date.is_empty() => Some(IndexKey::Content { sha256: value, id }),
            _ => None,
        }
    }

    pub fn id(&self) -> u64 {
        match self {
            IndexKey::Code { id, .. }
            | IndexKey::Subject { id, .. }
            | IndexKey::Agency { id, .. }
            | IndexKey::Content { id, .. } => *id,
        }
    }

    /// Every lookup entry a record has.
    pub fn of(r: &Record) -> Vec<IndexKey> {
        let mut v = vec![
            IndexKey::Code {
                code: r.code.clone(),
                id: r.id,
            },
            IndexKey::Subject {
                subject: r.subject.clone(),
                id: r.id,
            },
            IndexKey::Content {
                sha256: r.content_sha256.to_ascii_lowercase(),
                id: r.id,
            },
        ];
        if let Some(a) = &r.agency {
            v.push(IndexKey::Agency {
                agency: a.clone(),
                date: r.issue_date.clone().unwrap_or_default(),
                id: r.id,
            });
        }
        v
    }
}

/// The prefix under which every record of a code (`c`), subject (`s`), agency (`a`) or content
/// SHA-256 (`h`) is found.
pub fn index_prefix(kind: u8, value: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(value.len() + 2);
    k.push(kind);
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k
}

/// RocksDB options: WAL on, blob files for documents, no TTL, no compaction filter.
/// docs/archive.md ("Durability and throughput") explains each choice and its measurement.
pub(crate) fn options(dir: &Path) -> Options {
    let mut o = Options::default();
    o.create_if_missing(true);
    o.create_missing_column_families(true);
    o.set_max_open_files(256);
    o.increase_parallelism(2);
    // Recovery replays the WAL up to the first damaged record and no further (RocksDB's
    // default, said here because the archive depends on it: a crash loses only a suffix of
    // unacknowledged batches).
    o.set_wal_recovery_mode(rocksdb::DBRecoveryMode::PointInTime);
    // The writer thread appends to the WAL without syncing; the syncer thread makes it durable
    // with flush_wal(true) and only then acknowledges, so batch N+1 is built and applied while
    // batch N is on its way to the disk.
    o.set_manual_wal_flush(true);
    // All column families flush together: a WAL file is obsolete as soon as the memtables are
    // flushed, instead of being kept alive by the small column families (meta, status) until
    // max_total_wal_size forces them out.
    o.set_atomic_flush(true);
    // Blob and table files bypass the page cache where the file system allows it.
    o.set_use_direct_io_for_flush_and_compaction(direct_io_works(dir));
    // Every open (each CLI command) starts a new info log; RocksDB keeps 1,000 old ones.
    o.set_keep_log_file_num(KEEP_INFO_LOGS);
    o
}

/// RocksDB info logs (`LOG`, `LOG.old.*`) kept in the archive directory.
pub(crate) const KEEP_INFO_LOGS: usize = 8;

/// Whether files in `dir` can be opened with O_DIRECT (tmpfs before Linux 6.6 refuses, and
/// RocksDB would then fail at its first flush).
pub(crate) fn direct_io_works(dir: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    let probe = dir.join(".kyso-direct-io-probe");
    let ok = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(&probe)
        .is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

pub(crate) fn cf_options(name: &str) -> Options {
    let mut o = Options::default();
    let bloom = |o: &mut Options| {
        let mut t = rocksdb::BlockBasedOptions::default();
        t.set_bloom_filter(10.0, false);
        o.set_block_based_table_factory(&t);
    };
    if name == CF_CONTENT {
        // Documents are large values: keep them in blob files (integrated BlobDB).
        o.set_enable_blob_files(true);
        o.set_min_blob_size(4096);
        o.set_write_buffer_size(64 << 20);
        // A put first asks whether the document is already stored; the filter answers "no"
        // for new documents without reading table files.
        bloom(&mut o);
    }
    if name == CF_REQUESTS {
        // The same for "was this request id used?".
        bloom(&mut o);
    }
    o
}

/// The column family `name` of `db`.
pub(crate) fn cf<'a>(db: &'a DB, name: &str) -> Result<&'a rocksdb::ColumnFamily> {
    db.cf_handle(name)
        .ok_or_else(|| ArchiveError::Inconsistent(format!("no {name} column family")))
}

/// The stored tree nodes, for the Merkle functions. A database error met on the way is kept
/// (the Merkle functions speak in strings) so that [`DbNodes::result`] can return it as what
/// it was: corruption or I/O, not an inconsistency.
pub(crate) struct DbNodes<'a> {
    db: &'a DB,
    err: RefCell<Option<ArchiveError>>,
}

impl<'a> DbNodes<'a> {
    pub(crate) fn new(db: &'a DB) -> Self {
        DbNodes {
            db,
            err: RefCell::new(None),
        }
    }

    /// A Merkle function's result: the database error it met, or `other` for its own error
    /// (a missing node is an inconsistency; a bad proof range is bad input).
    pub(crate) fn result<T>(
        &self,
        r: std::result::Result<T, String>,
        other: fn(String) -> ArchiveError,
    ) -> Result<T> {
        r.map_err(|m| self.err.borrow_mut().take().unwrap_or_else(|| other(m)))
    }
}

impl Nodes for DbNodes<'_> {
    fn node(&self, level: u8, index: u64) -> std::result::Result<Hash, String> {
        let found = cf(self.db, CF_NODES)
            .and_then(|c| self.db.get_cf(c, node_key(level, index)).map_err(db_err));
        let v = match found {
            Ok(v) => v,
            Err(e) => {
                let m = e.to_string();
                *self.err.borrow_mut() = Some(e);
                return Err(m);
            }
        };
        v.ok_or_else(|| format!("tree node {level}/{index} is missing"))?
            .as_slice()
            .try_into()
            .map_err(|_| format!("tree node {level}/{index} is not 32 bytes"))
    }
}

/// The stored tree nodes with a small direct-mapped cache in front (64 entries per level,
/// 160 KiB): inclusion proofs of nearby leaves share most of their nodes, so an export that
/// proves records in log order reads ~2 nodes per proof instead of ~log₂ N. Bounded whatever
/// the tree's size; for one thread (each export worker has its own).
pub(crate) struct CachedNodes<'a> {
    pub(crate) db: DbNodes<'a>,
    /// Slot `level·64 + index mod 64`: (index + 1, hash); 0 = empty.
    slots: RefCell<Vec<(u64, Hash)>>,
    /// MTHs of right-edge ranges `(lo, n)`: every proof against one tree size needs one or
    /// more of the same ≤ 64 (the profile of an export: 13 % of its CPU recomputing them).
    edges: RefCell<Vec<(u64, u64, Hash)>>,
}

impl<'a> CachedNodes<'a> {
    const PER_LEVEL: usize = 64;
    const EDGES: usize = 128;

    pub(crate) fn new(db: &'a DB) -> Self {
        CachedNodes {
            db: DbNodes::new(db),
            slots: RefCell::new(vec![(0, [0; 32]); 64 * Self::PER_LEVEL]),
            edges: RefCell::new(Vec::new()),
        }
    }
}

impl Nodes for CachedNodes<'_> {
    fn node(&self, level: u8, index: u64) -> std::result::Result<Hash, String> {
        let slot = (level as usize % 64) * Self::PER_LEVEL + (index as usize % Self::PER_LEVEL);
        if let Some((tag, h)) = self.slots.borrow().get(slot) {
            if *tag == index.wrapping_add(1) {
                return Ok(*h);
            }
        }
        let h = self.db.node(level, index)?;
        if let Some(s) = self.slots.borrow_mut().get_mut(slot) {
            *s = (index.wrapping_add(1), h);
        }
        Ok(h)
    }

    fn edge(&self, lo: u64, n: u64) -> Option<Hash> {
        let e = self.edges.borrow();
        e.iter()
            .find(|(l, m, _)| (*l, *m) == (lo, n))
            .map(|(_, _, h)| *h)
    }

    fn keep_edge(&self, lo: u64, n: u64, h: Hash) {
        let mut e = self.edges.borrow_mut();
        // One tree size has at most 64 edge ranges; another size's replace them.
        if e.len() >= Self::EDGES {
            e.clear();
        }
        e.push((lo, n, h));
    }
}

/// A u64 counter in `meta` (0 when absent).
pub(crate) fn read_u64(db: &DB, key: &[u8]) -> Result<u64> {
    match db.get_cf(cf(db, CF_META)?, key).map_err(db_err)? {
        Some(v) => parse_u64_key(&v).ok_or_else(|| {
            ArchiveError::Inconsistent(format!(
                "meta {} is not 8 bytes",
                String::from_utf8_lossy(key)
            ))
        }),
        None => Ok(0),
    }
}

/// The last key of a column family at or below `upto` (all of it when `None`).
pub(crate) fn last_key(db: &DB, name: &str, upto: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
    let mut it = db.raw_iterator_cf(cf(db, name)?);
    match upto {
        Some(k) => it.seek_for_prev(k),
        None => it.seek_to_last(),
    }
    if it.valid() {
        return Ok(it.key().map(<[u8]>::to_vec));
    }
    it.status().map_err(db_err)?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_key_s_name_is_read_back_as_it_was_written() {
        let spki = b"any DER SPKI";
        let id = crate::checkpoint::key_id_der(spki);
        let rest = |k: Vec<u8>| k["checkpoint_key:".len()..].to_vec();
        // As kyso writes it, a colon in the name included.
        for name in ["kyso.demo/archive", "log:v2"] {
            let k = rest(checkpoint_key_meta(name, &id));
            assert_eq!(checkpoint_key_name(&k, spki), name);
        }
        // As a kyso before 2026-12-01 wrote it: the name alone (`log:v2` was read as `log`).
        assert_eq!(checkpoint_key_name(b"log:v2", spki), "log:v2");
        // Another key's ID after the name is no ID of this key's: all of it is the name.
        assert_eq!(checkpoint_key_name(b"x:deadbeef", spki), "x:deadbeef");
    }

    #[test]
    fn index_keys_parse_back() {
        for k in [
            IndexKey::Code {
                code: "001099012345.KS".into(),
                id: 7,
            },
            IndexKey::Subject {
                subject: "0100109106-001".into(),
                id: u64::MAX,
            },
            IndexKey::Agency {
                agency: "UBND-HK".into(),
                date: "2026-11-20".into(),
                id: 0,
            },
            IndexKey::Agency {
                agency: "Sở KH&ĐT".into(),
                date: String::new(),
                id: 3,
            },
        ] {
            assert_eq!(IndexKey::parse(&k.encode()), Some(k));
        }
        for junk in [
            &b""[..],
            b"c",
            b"cabc",
            b"x001\0\0\0\0\0\0\0\0\x01",
            b"s0\x00123\0\0\0\0\0\0\0\x01",
        ] {
            assert_eq!(IndexKey::parse(junk), None, "{junk:?}");
        }
    }
}
