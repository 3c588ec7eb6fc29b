//! The archive's Merkle log for relying agencies and auditors: the latest signed checkpoint
//! (C2SP signed note), the key that signs them, inclusion and consistency proofs (RFC 9162
//! §2.1.3–2.1.4), and the entries themselves for an auditor to recompute the tree.

use super::records::stated;
use crate::serve::auth::Identity;
use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::server::{blocking, Shared};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// The newest signed checkpoint of the log, as a C2SP signed note (`text/plain`). Keep the
/// ones you see: a later one must be consistent with each (`/v1/log/consistency`).
#[utoipa::path(get, path = "/v1/log/checkpoint", operation_id = "checkpoint", tag = "log",
    responses((status = 200, body = String, content_type = "text/plain; charset=utf-8"),
        (status = 400, description = "the log holds no entry yet: there is nothing to sign", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn checkpoint(State(st): State<Shared>) -> ApiResult<Response> {
    let store = st.store.clone();
    let (_, note) = blocking(move || store.checkpoint(1)).await??;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct LogKey {
    pub origin: String,
    /// The key name in signed notes.
    pub key_name: String,
    /// The ECDSA P-256 public key, DER SubjectPublicKeyInfo, base64.
    pub public_key: String,
    /// The same, PEM.
    pub public_key_pem: String,
}

/// The key checkpoints are signed with (check it once against the appliance's published key).
#[utoipa::path(get, path = "/v1/log/key", operation_id = "log_key", tag = "log",
    responses((status = 200, body = LogKey), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn log_key(State(st): State<Shared>) -> Json<LogKey> {
    let der = st.store.log_public_key();
    let b64 = super::to_b64(&der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    Json(LogKey {
        origin: st.store.origin().into(),
        key_name: st.store.key_name().into(),
        public_key: b64,
        public_key_pem: pem,
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// The leaf index.
    pub leaf: u64,
    /// The tree size (a checkpoint's); default: the newest checkpoint's.
    pub size: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// RFC 9162 leaf hash, hex.
    pub leaf_hash: String,
    /// Hashes from the leaf up, hex (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
}

/// Inclusion proof of a leaf in a tree of the given size.
#[utoipa::path(get, path = "/v1/log/inclusion", operation_id = "inclusion", tag = "log",
    params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn inclusion(
    State(st): State<Shared>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
) -> ApiResult<Json<InclusionProof>> {
    let Query(q) = q?;
    let store = st.store.clone();
    blocking(move || -> ApiResult<InclusionProof> {
        let size = match q.size {
            Some(s) => s,
            None => store.checkpoint(q.leaf.saturating_add(1))?.0,
        };
        let proof = store.inclusion(q.leaf, size)?;
        Ok(InclusionProof {
            leaf_index: q.leaf,
            tree_size: size,
            leaf_hash: hex::encode(store.leaf_hash(q.leaf)?),
            proof: proof.iter().map(hex::encode).collect(),
        })
    })
    .await?
    .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The older tree size (a checkpoint you kept).
    pub old: u64,
    /// The newer tree size (default: the newest checkpoint's).
    pub new: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    /// RFC 9162 §2.1.4 consistency proof, hex.
    pub proof: Vec<String>,
}

/// Consistency proof between two tree sizes: the newer tree extends the older one.
#[utoipa::path(get, path = "/v1/log/consistency", operation_id = "consistency", tag = "log",
    params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn consistency(
    State(st): State<Shared>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> ApiResult<Json<ConsistencyProof>> {
    let Query(q) = q?;
    let store = st.store.clone();
    blocking(move || -> ApiResult<ConsistencyProof> {
        if q.old == 0 {
            return Err(ApiError::bad("old: a tree size of at least 1"));
        }
        // Said as the tree size asked for (it read "no entry 18446744073709551614 yet").
        let size = store.size()?;
        if q.old > size {
            return Err(ApiError::bad(format!(
                "old: a tree size of at most {size}, the log's size"
            )));
        }
        let new = match q.new {
            Some(n) => n,
            None => store.checkpoint(q.old)?.0,
        };
        let proof = store.consistency(q.old, new)?;
        Ok(ConsistencyProof {
            old_size: q.old,
            new_size: new,
            proof: proof.iter().map(hex::encode).collect(),
        })
    })
    .await?
    .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// First leaf index.
    pub start: u64,
    /// One past the last (at most 1000 entries an answer).
    pub end: u64,
    /// Why the entries are read (logged with the caller; default "audit of the log"). The
    /// entries name citizens' document codes and what was searched for.
    pub purpose: Option<String>,
}

/// The purpose of a log read that states none.
const AUDIT: &str = "audit of the log";

#[derive(Serialize, ToSchema)]
pub struct Entry {
    pub index: u64,
    /// The event's canonical JSON: the leaf is SHA-256(0x00 ‖ these bytes).
    pub event: String,
}

#[derive(Serialize, ToSchema)]
pub struct Entries {
    pub entries: Vec<Entry>,
    /// The log's size when they were read, before this read's own `log_read` event.
    pub size: u64,
    /// The entries given are `[start, end)`: fewer than asked for when their events pass
    /// 16 MiB (an export event names up to 100,000 records); continue from here.
    pub end: u64,
}

/// The most event bytes one answer of `/v1/log/entries` holds (at least one entry is given).
const MAX_ENTRIES_BYTES: usize = 16 << 20;

/// The entries from `start` while their bytes stay within `cap` (the first always), from
/// `event(i)` for `i` in `start..end`.
fn entries_within(
    start: u64,
    end: u64,
    cap: usize,
    mut event: impl FnMut(u64) -> ApiResult<Vec<u8>>,
) -> ApiResult<Vec<Entry>> {
    let (mut entries, mut bytes) = (Vec::new(), 0usize);
    for i in start..end {
        let b = event(i)?;
        bytes = bytes.saturating_add(b.len());
        if !entries.is_empty() && bytes > cap {
            break;
        }
        entries.push(Entry {
            index: i,
            event: String::from_utf8(b)
                .map_err(|_| ApiError::internal("a log entry is not UTF-8"))?,
        });
    }
    Ok(entries)
}

/// Log entries `[start, end)`, for an auditor to recompute leaves and roots. The read is
/// itself an event of the log (`log_read`: the range, the caller, the purpose), appended after
/// the entries are read.
#[utoipa::path(get, path = "/v1/log/entries", operation_id = "entries", tag = "log",
    params(EntriesQuery),
    responses((status = 200, body = Entries), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn entries(
    State(st): State<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    q: Result<Query<EntriesQuery>, QueryRejection>,
) -> ApiResult<Json<Entries>> {
    let Query(q) = q?;
    if q.end <= q.start || q.end - q.start > 1000 {
        return Err(ApiError::bad("give start < end with at most 1000 entries"));
    }
    let purpose = match &q.purpose {
        Some(p) => stated("purpose", p)?,
        None => AUDIT.to_string(),
    };
    let store = st.store.clone();
    blocking(move || -> ApiResult<Entries> {
        let size = store.size()?;
        if q.end > size {
            return Err(ApiError::bad(format!("the log has {size} entries")));
        }
        let entries = entries_within(q.start, q.end, MAX_ENTRIES_BYTES, |i| Ok(store.event(i)?))?;
        let end = q.start + entries.len() as u64;
        // Nothing is answered that the log does not say was read.
        store.log_read(q.start, end, &id.user, purpose)?;
        Ok(Entries { entries, size, end })
    })
    .await?
    .map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer stops before the entry that would pass the cap, and always gives the first.
    #[test]
    fn entries_stop_within_their_bytes() {
        let ev = |i: u64| Ok(vec![b'x'; (i as usize + 1) * 10]);
        let got = entries_within(0, 10, 60, ev).unwrap();
        assert_eq!(got.iter().map(|e| e.index).collect::<Vec<_>>(), [0, 1, 2]);
        let got = entries_within(5, 10, 10, ev).unwrap();
        assert_eq!(got.iter().map(|e| e.index).collect::<Vec<_>>(), [5]);
        let got = entries_within(0, 3, usize::MAX, ev).unwrap();
        assert_eq!(got.len(), 3);
    }
}
