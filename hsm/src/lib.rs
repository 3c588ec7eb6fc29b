//! kyso-hsm: signing through PKCS#11 tokens — government-issued USB tokens and network HSMs,
//! with SoftHSM2 as the real token in development and tests.
//!
//! - [`Module`] loads a PKCS#11 library and lists its tokens;
//! - [`Pkcs11Uri`] selects tokens and objects (RFC 7512);
//! - [`pin`] gets a PIN from a file, `KYSO_PIN` or a prompt — never argv;
//! - [`Token`] is a logged-in token with a session pool that survives removal;
//! - [`TokenKey`] is a private key with its certificate and chain, found by URI;
//! - [`SignDigest`] / [`SigningKey`] are all that the rest of kyso sees of a key;
//! - [`adapter`] plugs a token key into RustCrypto's `x509-cert` and `cms` builders;
//! - [`admin`] and [`demo`] make keys and certificates on a token.

pub mod adapter;
pub mod admin;
pub mod alg;
pub mod demo;
pub mod error;
pub mod key;
pub mod module;
pub mod pin;
pub mod token;
pub mod uri;

pub use alg::{Curve, HashAlg, KeyKind, SignatureAlgorithm};
pub use error::{HsmError, Result};
pub use key::{KeyPair, ObjectDescription, SignDigest, SigningKey, TokenKey};
pub use module::{LibraryInfo, Module, TokenDescription};
pub use token::Token;
pub use uri::{ObjectType, Pkcs11Uri};

/// Open the token a key URI names and find the key with its certificate: the one call most
/// users need. `sessions` is the pool size (1 for the CLI, more for batches and the service).
pub fn open_key(
    module: Option<&std::path::Path>,
    uri: &Pkcs11Uri,
    pin_file: Option<std::path::PathBuf>,
    sessions: usize,
) -> Result<TokenKey> {
    TokenKey::find(log_in(module, uri, pin_file, sessions)?, uri)
}

/// The token a URI names, logged in: its module loaded, a locked PIN refused before any is
/// sent, the PIN from `pin_file`, the URI's pin-source, `KYSO_PIN` or a prompt.
fn log_in(
    module: Option<&std::path::Path>,
    uri: &Pkcs11Uri,
    pin_file: Option<std::path::PathBuf>,
    sessions: usize,
) -> Result<std::sync::Arc<Token>> {
    let module = Module::for_uri(module, uri)?;
    let desc = module.find_token(&uri.token_only())?;
    if desc.pin_locked {
        return Err(HsmError::PinLocked { token: desc.label });
    }
    let sources = pin::PinSource::chain(pin_file, uri.pin_source.as_deref());
    let pin = pin::resolve_for(
        &desc,
        &sources,
        &format!("PIN for token {:?}: ", desc.label),
    )?;
    Ok(std::sync::Arc::new(Token::open(
        &module, uri, pin, sessions,
    )?))
}

/// A PKCS#10 certificate request (PEM) for the private key a URI names — a key generated on the
/// token has no certificate yet: the CA issues one from this request. `subject`: an RFC 4514
/// name, most specific first (`CN=…,O=…,C=VN`; UTF-8 values, the country printable). The
/// request is signed on the token with the key's default algorithm.
pub fn certificate_request(
    module: Option<&std::path::Path>,
    uri: &Pkcs11Uri,
    pin_file: Option<std::path::PathBuf>,
    subject: &str,
) -> Result<String> {
    use std::str::FromStr;
    use x509_cert::builder::Builder;
    let name = x509_cert::name::Name::from_str(subject).map_err(|e| {
        HsmError::Usage(format!(
            "--subject {subject:?} is not an RFC 4514 name (CN=…,O=…,C=VN): {e}"
        ))
    })?;
    if name.0.is_empty() {
        return Err(HsmError::Usage("--subject is empty".into()));
    }
    let key = KeyPair::find(log_in(module, uri, pin_file, 1)?, uri)?;
    let signer = adapter::RustCryptoSigner(&key);
    let req = x509_cert::builder::RequestBuilder::new(name, &signer)
        .and_then(|b| b.build::<adapter::TokenSignature>())
        .map_err(|e| HsmError::Pkcs11(format!("certificate request: {e}")))?;
    der::EncodePem::to_pem(&req, der::pem::LineEnding::LF)
        .map_err(|e| HsmError::Pkcs11(format!("certificate request: {e}")))
}

/// The public key (certificate, else public key object) an object URI names, read without
/// logging in: an auditor checks checkpoints with it and needs no PIN.
pub fn public_key(
    module: Option<&std::path::Path>,
    uri: &Pkcs11Uri,
) -> Result<spki::SubjectPublicKeyInfoOwned> {
    let module = Module::for_uri(module, uri)?;
    let token = Token::open_public(&module, uri)?;
    key::find_public_key(&token, uri)
}
