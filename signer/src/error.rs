//! Errors of signature creation.

use kyso_hsm::HsmError;
use kyso_pdf::PdfError;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The token or key failed.
    #[error(transparent)]
    Token(#[from] HsmError),
    /// The PDF cannot be signed as it is.
    #[error("{0}")]
    Pdf(#[from] PdfError),
    /// An ASN.1 encoding failed (a bug or an absurd certificate).
    #[error("encoding the signature: {0}")]
    Encoding(String),
    /// The signature did not fit the space reserved for it.
    #[error("the signature is {need} bytes but only {have} were reserved")]
    TooLarge { need: usize, have: usize },
    /// A time-stamp could not be had.
    #[error("time-stamp: {0}")]
    Timestamp(String),
    /// The input is not what the chosen format signs.
    #[error("{0}")]
    Input(String),
    /// A signature already in the document fails: signing it now would vouch for a broken
    /// document.
    #[error("{0}; a new signature would vouch for a document whose earlier signature is broken: sign the document as it was issued")]
    BrokenSignature(String),
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl From<der::Error> for SignError {
    fn from(e: der::Error) -> Self {
        SignError::Encoding(e.to_string())
    }
}

impl SignError {
    /// Process exit code: the token's codes for token failures, 5 for a file kyso will not sign.
    pub fn exit_code(&self) -> i32 {
        match self {
            SignError::Token(e) => e.exit_code(),
            SignError::Pdf(_) | SignError::Input(_) | SignError::BrokenSignature(_) => 5,
            SignError::Encoding(_) | SignError::TooLarge { .. } => 19,
            SignError::Timestamp(_) => 6,
            SignError::Io { .. } => 3,
        }
    }
}

pub type Result<T> = std::result::Result<T, SignError>;
