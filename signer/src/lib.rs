//! kyso-signer: CAdES (CMS) and PAdES (PDF) signature creation.
//!
//! It sees keys only through [`kyso_hsm::SigningKey`]: the certificate, the chain, the
//! algorithm and `sign_digest` — nothing of PKCS#11.

pub mod cades;
pub mod cms_edit;
pub mod dss;
pub mod error;
pub mod ltv;
pub mod pades;
pub mod remote;
pub mod stamp;
pub mod tsp;

pub use error::{Result, SignError};
pub use kyso_hsm::{SignDigest, SigningKey};
pub use pades::PadesOptions;
