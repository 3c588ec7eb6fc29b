//! kyso-archive: the central e-archive ("Kho quản lý dữ liệu điện tử"). Every signed result is
//! kept once in RocksDB under its document code, every event is a leaf of an RFC 9162 Merkle
//! log, checkpoints are signed on the token, and anyone can check the history was not rewritten.

pub mod audit;
pub mod checkpoint;
pub mod code;
pub mod merkle;
pub mod store;

pub use code::{DocumentCode, Subject};
pub use store::{Archive, ArchiveError, Event, FoundSignature, NewRecord, Record, Status};
