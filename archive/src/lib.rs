//! kyso-archive: records in RocksDB, an RFC 9162 Merkle log, signed checkpoints, export.
//!
//! Not built yet (issue 5). Checkpoints will be signed through [`kyso_hsm::SignDigest`] only.

pub use kyso_hsm::SignDigest;
