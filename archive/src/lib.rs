//! kyso-archive: the central e-archive ("Kho quản lý dữ liệu điện tử"). Every signed result is
//! kept once in RocksDB under its document code, every event is a leaf of an RFC 9162 Merkle
//! log, checkpoints are signed on the token, and anyone can check the history was not rewritten.
//!
//! The archive owns its rules; callers (the CLI, the HTTP service) only wire them up:
//! - [`ingest`]: what is taken, on what terms (validation, reasons, idempotent retries);
//! - [`store`]: the open [`Archive`]; [`writer`]: its writer/syncer pipeline, where every
//!   rule that depends on earlier writes is decided (status rules, request ids, no overwrite);
//! - [`lookup`]: logged reads of records, content and lookups; proofs;
//! - [`checkpointer`]: signed checkpoints, never inconsistent with the last one signed;
//! - [`backup`]: copies that survive the disk, and restores;
//! - [`export`], [`bag`]: logged exports to BagIt packages, [`eark`]: and to E-ARK packages,
//!   written through [`zipout`]; [`package`]: a package read in place; [`bag_verify`]: their
//!   offline check; [`renew`]: time-stamps over a package's evidence, renewed;
//! - [`audit`]: recompute everything, trusting nothing inside the database;
//! - [`stats`]: counters for the quarterly digitization report, kept by the writer;
//! - [`schema`]: column families, keys and RocksDB options; [`model`]: records and events.

pub mod audit;
pub mod backup;
pub mod bag;
pub mod bag_verify;
pub mod checkpoint;
pub mod checkpointer;
pub mod code;
pub mod eark;
mod eark_check;
pub mod error;
pub mod export;
pub mod ingest;
pub mod lookup;
pub mod merkle;
pub mod model;
pub mod package;
pub mod renew;
pub mod schema;
mod seqfile;
pub mod stats;
pub mod store;
pub mod writer;
pub mod zipout;

pub use code::{DocumentCode, Subject};
pub use error::{ArchiveError, Result};
pub use ingest::{ingest, Ingest, Ingested, Prepared};
pub use lookup::{Content, Evidence, Found, Query};
pub use model::{
    Access, Activity, Event, FoundSignature, Metadata, Record, Status, ValidationData,
};
pub use stats::{By, StatsQuery, StatsReport, Total};
pub use store::{Archive, CheckpointSigner, Config};
