//! What can go wrong in the archive, each with its exit status (docs/cli.md).
//!
//! RocksDB's errors are classified by their kind (the status code RocksDB puts first in the
//! message: `Corruption`, `IO error`, …), never by words inside the message: a "block checksum
//! mismatch" contains "lock", and must still be reported as corruption.

use std::path::Path;

/// Errors of the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Another process has the database open (RocksDB's LOCK file is held).
    #[error("the archive at {path} is in use by another process{}; stop it first (a running `kyso serve` keeps it open; `kyso audit verify` reads it while it runs)", holder.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked { path: String, holder: Option<u32> },
    /// RocksDB found damaged data: a checksum mismatch, a truncated file, a missing file.
    #[error("the archive's database is corrupt: {0}; restore it from a backup (`kyso restore`)")]
    Corrupt(String),
    /// A backup whose data does not hold its checksums, found by a restore before anything
    /// was put in place.
    #[error(
        "the backup {path} is damaged ({detail}); nothing was restored: restore another backup"
    )]
    DamagedBackup { path: String, detail: String },
    /// Any other database failure (I/O error, full disk, …).
    #[error("database: {0}")]
    Db(String),
    /// A file outside the database could not be read or written: an export's, a backup's, a
    /// directory to create (`path` as given, or a package's own path). Said as "database"
    /// until 2026-12-04, a full disk under an export read as a database failure.
    #[error("{what} {path}: {error}")]
    File {
        what: String,
        path: String,
        error: String,
        /// The file system is full (ENOSPC).
        full: bool,
    },
    /// The caller gave something the archive refuses (with the reason).
    #[error("{0}")]
    Input(String),
    /// The ingest policy refuses a document whose signatures did not pass (and no reason to
    /// keep it anyway was given).
    #[error("refused: the document's signatures are {indication} ({detail}); it is kept only with a reason for keeping it unverified (`--allow-unsigned REASON`; over HTTP `allow_unsigned`, where the appliance allows it)")]
    NotVerified { indication: String, detail: String },
    /// A document larger than the configured limit.
    #[error("the document is {size} bytes; this archive takes documents up to {limit} bytes (max_document_bytes)")]
    TooLarge { size: u64, limit: u64 },
    /// A client request id already used for another document or code.
    #[error("request id {request_id:?} of user {user:?} was already used for record {record} ({what}); a retry sends the same request (document, code and metadata), a new request a new request id")]
    RequestConflict {
        user: String,
        request_id: String,
        record: u64,
        what: String,
    },
    #[error("record {0} does not exist")]
    NoRecord(u64),
    /// A command that reads or changes an archive was pointed at a place that holds none.
    #[error("no archive at {0} (check --db; `kyso archive put` and `kyso serve` create one, `kyso restore` brings one back)")]
    NoArchive(String),
    /// A status change that the record's status forbids.
    #[error("record {id} is {status}; {what}")]
    Status {
        id: u64,
        status: String,
        what: String,
    },
    /// A status change the rules refuse whatever the record's status: superseded by itself, by
    /// a record that does not exist, by another document (another code or agency), or by a
    /// revoked record.
    #[error("record {id} cannot take that status: {what}")]
    StatusRefused { id: u64, what: String },
    /// The record is not the caller's to change (another agency's, or another user's).
    #[error("{0}")]
    NotYours(String),
    /// The stored data contradicts itself (found by the audit, or by the checks at open).
    #[error("the archive's stored data is inconsistent: {0}")]
    Inconsistent(String),
    /// A checkpoint could not be signed, or is refused.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

impl ArchiveError {
    /// Process exit status (docs/cli.md).
    pub fn exit_code(&self) -> i32 {
        match self {
            ArchiveError::Input(_) | ArchiveError::NotVerified { .. } => 5,
            ArchiveError::NoRecord(_) => 7,
            ArchiveError::NoArchive(_) => 3,
            ArchiveError::Status { .. } | ArchiveError::StatusRefused { .. } => 8,
            ArchiveError::Locked { .. } => 9,
            ArchiveError::Inconsistent(_) => 20,
            ArchiveError::Corrupt(_)
            | ArchiveError::DamagedBackup { .. }
            | ArchiveError::Db(_)
            | ArchiveError::File { .. } => 21,
            ArchiveError::Checkpoint(_) => 22,
            ArchiveError::TooLarge { .. } => 23,
            ArchiveError::RequestConflict { .. } => 24,
            ArchiveError::NotYours(_) => 25,
        }
    }
}

/// A file outside the database that could not be `what` (read, written, created…).
pub(crate) fn file_err(
    what: &str,
    path: impl std::fmt::Display,
    e: std::io::Error,
) -> ArchiveError {
    ArchiveError::File {
        what: what.to_string(),
        path: path.to_string(),
        full: e.kind() == std::io::ErrorKind::StorageFull,
        error: e.to_string(),
    }
}

/// The file at `p` could not be `what`.
pub(crate) fn io(what: &str, p: &Path, e: std::io::Error) -> ArchiveError {
    file_err(what, p.display(), e)
}

/// A RocksDB error, by its kind.
pub(crate) fn db_err(e: rocksdb::Error) -> ArchiveError {
    match e.kind() {
        rocksdb::ErrorKind::Corruption => ArchiveError::Corrupt(e.into_string()),
        _ => ArchiveError::Db(e.into_string()),
    }
}

/// A RocksDB error at open: held by another process (seen on the LOCK file itself, not in the
/// message), corrupt, or another failure.
pub(crate) fn open_err(dir: &Path, e: rocksdb::Error) -> ArchiveError {
    if e.kind() == rocksdb::ErrorKind::IOError {
        if let Some(holder) = lock_holder(&dir.join("LOCK")) {
            return ArchiveError::Locked {
                path: dir.display().to_string(),
                holder: (holder > 0).then_some(holder as u32),
            };
        }
    }
    db_err(e)
}

/// The process holding a POSIX lock on `file` (RocksDB locks its LOCK file with fcntl), if
/// another process holds one; `Some(0)` if held but the holder is not known.
fn lock_holder(file: &Path) -> Option<i32> {
    use std::os::unix::io::AsRawFd;
    let f = std::fs::OpenOptions::new().read(true).open(file).ok()?;
    // SAFETY: a zeroed flock is a valid argument; F_GETLK only writes into it.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as _;
    fl.l_whence = libc::SEEK_SET as _;
    // SAFETY: fd is open for the duration of the call; fl is a valid flock.
    let r = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETLK, &mut fl) };
    (r == 0 && i32::from(fl.l_type) != libc::F_UNLCK).then_some(fl.l_pid)
}

pub type Result<T> = std::result::Result<T, ArchiveError>;
