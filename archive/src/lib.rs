//! kyso-archive: the central e-archive ("Kho quản lý dữ liệu điện tử"). Every signed result is
//! kept once in RocksDB under its document code, every event is a leaf of an RFC 9162 Merkle
//! log, checkpoints are signed on the token, and anyone can check the history was not rewritten.
//!
//! - [`schema`]: column families, keys and RocksDB options;
//! - [`model`]: records, statuses and log events;
//! - [`store`]: the open [`Archive`]; [`writer`]: its writer/syncer pipeline;
//! - [`lookup`]: reads and proofs; [`checkpointer`]: signed checkpoints;
//! - [`audit`]: recompute everything from outside.

pub mod audit;
pub mod checkpoint;
pub mod checkpointer;
pub mod code;
pub mod error;
pub mod lookup;
pub mod merkle;
pub mod model;
pub mod schema;
pub mod store;
pub mod writer;

pub use code::{DocumentCode, Subject};
pub use error::{ArchiveError, Result};
pub use model::{Event, FoundSignature, NewRecord, Record, Status};
pub use store::Archive;
