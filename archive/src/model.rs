//! What the archive keeps: records, their status, and the events of the log.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A record's validity (a status change is an event; the record never changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Valid,
    SupersededBy { record: u64 },
    Revoked { reason: String },
    Expired { on: String },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::SupersededBy { .. } => "superseded",
            Status::Revoked { .. } => "revoked",
            Status::Expired { .. } => "expired",
        }
    }
}

/// One signature found at ingest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FoundSignature {
    pub signer: String,
    pub time: Option<String>,
    pub format: String,
    pub indication: String,
}

/// A signed document and what is known of it. Written once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub id: u64,
    pub code: String,
    pub subject: String,
    pub doc_type: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    /// YYYY-MM-DD
    pub issue_date: Option<String>,
    pub content_sha256: String,
    pub content_sha512: String,
    pub media_type: String,
    pub size: u64,
    pub signatures: Vec<FoundSignature>,
    /// The validation report made at ingest (kyso verify's JSON), or why none was required.
    pub report: serde_json::Value,
    pub ingest_user: String,
    pub ingest_time: String,
    /// The log index of the ingest event.
    pub leaf: u64,
    pub meta: BTreeMap<String, String>,
}

/// What a caller gives to store a document.
#[derive(Debug, Clone, Default)]
pub struct NewRecord {
    pub code: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    pub issue_date: Option<String>,
    pub media_type: String,
    pub signatures: Vec<FoundSignature>,
    pub report: serde_json::Value,
    pub user: String,
    pub meta: BTreeMap<String, String>,
}

/// A log entry. Its canonical encoding is the JSON serde writes for this type (fields in
/// declaration order, no insignificant white space); the leaf is SHA-256(0x00 ‖ those bytes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Ingest {
        record: u64,
        code: String,
        content_sha256: String,
        record_sha256: String,
        user: String,
        time: String,
    },
    Status {
        record: u64,
        status: Status,
        user: String,
        time: String,
    },
    Read {
        record: u64,
        user: String,
        reason: String,
        time: String,
    },
    Export {
        records: Vec<u64>,
        format: String,
        user: String,
        time: String,
    },
    Signature {
        document_sha256: String,
        signer: String,
        format: String,
        user: String,
        time: String,
    },
    Config {
        change: String,
        user: String,
        time: String,
    },
}

pub(crate) fn now_rfc3339() -> String {
    kyso_verify::rfc3339(std::time::SystemTime::now())
}
