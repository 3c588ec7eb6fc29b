//! What is wrong with a PDF file, said so that a clerk knows it is the file, not kyso.

/// Errors reading or updating a PDF.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PdfError {
    #[error("not a PDF file (no %PDF- header in the first 1024 bytes)")]
    NotPdf,
    #[error("the PDF is encrypted; kyso signs and archives only unencrypted PDFs (remove the password first)")]
    Encrypted,
    #[error("the PDF is truncated or has no startxref at its end")]
    NoStartXref,
    #[error("broken cross-reference data at byte {offset}: {what}")]
    BrokenXref { offset: usize, what: String },
    #[error("PDF syntax error at byte {offset}: {what}")]
    Syntax { offset: usize, what: String },
    #[error("object {0} {1} R is missing or unreadable")]
    MissingObject(u32, u16),
    #[error("PDF structure: {0}")]
    Structure(String),
    #[error("PDF feature not supported: {0}")]
    Unsupported(String),
    #[error("PDF limit exceeded: {0}")]
    Limit(String),
    /// The work was stopped from outside (its deadline passed, or its requester left): not a
    /// fault of the file, and what was read so far is no answer (see [`crate::stop`]).
    #[error("stopped before the PDF was read to the end (time limit)")]
    Stopped,
}

pub type Result<T> = std::result::Result<T, PdfError>;

pub(crate) fn syntax(offset: usize, what: impl Into<String>) -> PdfError {
    PdfError::Syntax {
        offset,
        what: what.into(),
    }
}
