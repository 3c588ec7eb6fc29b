//! The database layout: column families, their keys, and the RocksDB options of each
//! (docs/archive.md describes every key and why each option is set).

use crate::error::{db_err, ArchiveError, Result};
use crate::merkle::{Hash, Nodes};
use rocksdb::{Options, DB};
use std::path::Path;

/// Column families (docs/archive.md describes every key).
pub const CF_CONTENT: &str = "content";
pub const CF_RECORDS: &str = "records";
pub const CF_STATUS: &str = "status";
pub const CF_INDEX: &str = "index";
pub const CF_EVENTS: &str = "events";
pub const CF_NODES: &str = "nodes";
pub const CF_CHECKPOINTS: &str = "checkpoints";
pub const CF_META: &str = "meta";
pub const CFS: [&str; 8] = [
    CF_CONTENT,
    CF_RECORDS,
    CF_STATUS,
    CF_INDEX,
    CF_EVENTS,
    CF_NODES,
    CF_CHECKPOINTS,
    CF_META,
];
pub(crate) const META_SIZE: &[u8] = b"tree_size";
pub(crate) const META_NEXT_ID: &[u8] = b"next_record_id";
pub(crate) const META_SIGNED: &[u8] = b"last_signed_size";
pub(crate) const META_SIGNED_ROOT: &[u8] = b"last_signed_root";

pub(crate) fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub fn node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
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
    // The writer thread appends to the WAL without syncing; the syncer thread makes it durable
    // with flush_wal(true) and only then acknowledges, so batch N+1 is built and applied while
    // batch N is on its way to the disk.
    o.set_manual_wal_flush(true);
    // All column families flush together, so a WAL file is obsolete as soon as its memtables
    // are flushed and can be recycled: overwriting an allocated file syncs about twice as fast
    // as appending to a new one.
    o.set_atomic_flush(true);
    o.set_recycle_log_file_num(8);
    // Blob and table files bypass the page cache where the file system allows it.
    o.set_use_direct_io_for_flush_and_compaction(direct_io_works(dir));
    o
}

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
    if name == CF_CONTENT {
        // Documents are large values: keep them in blob files (integrated BlobDB).
        o.set_enable_blob_files(true);
        o.set_min_blob_size(4096);
        o.set_write_buffer_size(64 << 20);
        // A put first asks whether the document is already stored; the filter answers "no"
        // for new documents without reading table files.
        let mut t = rocksdb::BlockBasedOptions::default();
        t.set_bloom_filter(10.0, false);
        o.set_block_based_table_factory(&t);
    }
    o
}

pub(crate) struct DbNodes<'a>(pub(crate) &'a DB);

impl Nodes for DbNodes<'_> {
    fn node(&self, level: u8, index: u64) -> std::result::Result<Hash, String> {
        let cf = self.0.cf_handle(CF_NODES).ok_or("no nodes column family")?;
        let v = self
            .0
            .get_cf(cf, node_key(level, index))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("tree node {level}/{index} is missing"))?;
        v.as_slice()
            .try_into()
            .map_err(|_| format!("tree node {level}/{index} is not 32 bytes"))
    }
}

pub(crate) fn read_u64(db: &DB, key: &[u8]) -> Result<u64> {
    let cf = db
        .cf_handle(CF_META)
        .ok_or_else(|| ArchiveError::Corrupt("no meta column family".into()))?;
    Ok(match db.get_cf(cf, key).map_err(db_err)? {
        Some(v) => u64::from_be_bytes(
            v.as_slice()
                .try_into()
                .map_err(|_| ArchiveError::Corrupt("meta value is not 8 bytes".into()))?,
        ),
        None => 0,
    })
}
