//! What can go wrong in the archive, each with its exit status (docs/cli.md).

/// Errors of the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the archive at {path} is in use by another process (RocksDB lock held)")]
    Locked { path: String },
    #[error("database: {0}")]
    Db(String),
    #[error("{0}")]
    Input(String),
    #[error("record {0} does not exist")]
    NoRecord(u64),
    #[error("record {id} is {status}; {what}")]
    Status {
        id: u64,
        status: String,
        what: String,
    },
    #[error("the archive's stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

impl ArchiveError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ArchiveError::Input(_) => 5,
            ArchiveError::NoRecord(_) => 7,
            ArchiveError::Status { .. } => 8,
            ArchiveError::Locked { .. } => 9,
            ArchiveError::Corrupt(_) => 20,
            ArchiveError::Db(_) | ArchiveError::Checkpoint(_) => 21,
        }
    }
}

pub(crate) fn db_err(e: rocksdb::Error) -> ArchiveError {
    ArchiveError::Db(e.to_string())
}

pub type Result<T> = std::result::Result<T, ArchiveError>;
