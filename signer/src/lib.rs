//! kyso-signer: CAdES (CMS) and PAdES (PDF) signature creation and RFC 3161 timestamps.
//!
//! Not built yet (issue 3). It will see keys only through [`kyso_hsm::SigningKey`]: the
//! certificate, the chain, the algorithm and `sign_digest` — nothing of PKCS#11.

pub use kyso_hsm::{SignDigest, SigningKey};
