//! The archive over HTTP: put a signed record (verified first; idempotent with a client
//! request id), read its metadata or content (each a logged read with the caller and a stated
//! purpose), find records, change a record's status.

use super::b64;
use crate::serve::archive::{Find, Ingest};
use crate::serve::auth::Identity;
use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::server::{blocking, Shared};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRequest {
    /// Document code `<personal id or tax code>.<document type code>`.
    pub code: String,
    pub title: Option<String>,
    /// The issuing agency's code.
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    /// YYYY-MM-DD
    pub issue_date: Option<String>,
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
    /// The client's id for this request: a retry with the same id and content returns the
    /// record already stored (200) instead of storing it again.
    pub request_id: Option<String>,
    /// Store even if the signatures are not TOTAL-PASSED, with this reason (if the appliance
    /// allows it).
    pub allow_unsigned: Option<String>,
    /// The signed document (PDF or attached CMS), base64.
    pub content: String,
}

#[derive(Serialize, ToSchema)]
pub struct PutResponse {
    pub record: u64,
    /// The ingest event's index in the log.
    pub leaf: u64,
    pub code: String,
    /// The verdict on the document's signatures at ingest.
    pub indication: String,
    /// True when this was a retry of a request already stored (nothing new was written).
    pub replayed: bool,
}

fn check_text(name: &str, v: Option<&String>, max: usize) -> ApiResult<()> {
    if let Some(s) = v {
        if s.len() > max || s.chars().any(char::is_control) {
            return Err(ApiError::bad(format!(
                "{name}: at most {max} bytes, no control characters"
            )));
        }
    }
    Ok(())
}

/// Archive a signed result under its document code. The document's signatures are verified
/// against the appliance's trust anchors first; anything not TOTAL-PASSED is refused unless
/// the appliance allows it and a reason is given.
#[utoipa::path(post, path = "/v1/records", operation_id = "put_record", tag = "archive",
    request_body = PutRequest,
    responses((status = 201, body = PutResponse), (status = 200, description = "a retry of a stored request", body = PutResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn put_record(
    State(st): State<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    req: Result<Json<PutRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = req?;
    for (n, v, max) in [
        ("title", req.title.as_ref(), 1024),
        ("agency", req.agency.as_ref(), 128),
        ("procedure", req.procedure.as_ref(), 256),
        ("dossier", req.dossier.as_ref(), 128),
        ("allow_unsigned", req.allow_unsigned.as_ref(), 1024),
    ] {
        check_text(n, v, max)?;
    }
    if req.meta.len() > 64
        || req.meta.iter().any(|(k, v)| {
            k.is_empty() || k.len() > 64 || v.len() > 1024 || v.chars().any(char::is_control)
        })
    {
        return Err(ApiError::bad(
            "meta: at most 64 entries, keys 1–64 bytes, values at most 1024 bytes",
        ));
    }
    let content = b64("content", &req.content)?;
    if content.len() > st.cfg.limits.upload_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "content is larger than limits.upload_bytes",
        ));
    }
    // Cheap checks before the CPU work: the code must parse.
    req.code
        .parse::<kyso_archive::DocumentCode>()
        .map_err(|e| ApiError::bad(format!("code: {e}")))?;
    // The archive validates and applies its ingest policy on the validation threads; the
    // durable write then waits with the other writers (group commit) off the runtime.
    super::verify::precheck(&content, None)?;
    let ingest = Ingest {
        code: req.code.clone(),
        title: req.title,
        agency: req.agency,
        procedure: req.procedure,
        dossier: req.dossier,
        issue_date: req.issue_date,
        meta: req.meta,
        request_id: req.request_id,
        allow_unsigned: req.allow_unsigned,
    };
    let (store, user, v) = (st.store.clone(), id.user.clone(), st.validator());
    let prepared =
        super::verify::on_pool(&st, move || store.prepare(&v, ingest, content, &user)).await??;
    let store = st.store.clone();
    let r = blocking(move || store.store(prepared)).await??;
    let status = if r.existing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(PutResponse {
            record: r.record,
            leaf: r.leaf,
            code: req.code,
            indication: r.indication,
            replayed: r.existing,
        }),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// Why the record is read (kept in the log with the caller).
    pub purpose: String,
}

fn purpose(p: &str) -> ApiResult<&str> {
    let p = p.trim();
    if p.is_empty() || p.len() > 256 || p.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "purpose: required, at most 256 bytes (it is logged with your name)",
        ));
    }
    Ok(p)
}

/// A record's metadata and current status. The read is logged with the caller and purpose.
#[utoipa::path(get, path = "/v1/records/{id}", operation_id = "get_record", tag = "archive",
    params(("id" = u64, Path, description = "record id"), Purpose),
    responses((status = 200, description = "{record, status}", body = Object), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_record(
    State(st): State<Shared>,
    Extension(idt): Extension<Arc<Identity>>,
    id: Result<Path<u64>, PathRejection>,
    q: Result<Query<Purpose>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let (Path(id), Query(q)) = (id?, q?);
    let p = purpose(&q.purpose)?.to_string();
    let (store, user) = (st.store.clone(), idt.user.clone());
    let (r, s) = blocking(move || store.record(id, &user, &p)).await??;
    Ok(Json(serde_json::json!({ "record": r, "status": s })))
}

/// A record's document. Citizens' documents are personal data: the read is logged durably
/// with the caller and purpose before the bytes leave.
#[utoipa::path(get, path = "/v1/records/{id}/content", operation_id = "get_content", tag = "archive",
    params(("id" = u64, Path, description = "record id"), Purpose),
    responses((status = 200, body = Vec<u8>, content_type = "application/pdf"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_content(
    State(st): State<Shared>,
    Extension(idt): Extension<Arc<Identity>>,
    id: Result<Path<u64>, PathRejection>,
    q: Result<Query<Purpose>, QueryRejection>,
) -> ApiResult<Response> {
    let (Path(id), Query(q)) = (id?, q?);
    let p = purpose(&q.purpose)?.to_string();
    let (store, user) = (st.store.clone(), idt.user.clone());
    let (r, bytes) = blocking(move || store.content(id, &user, &p)).await??;
    let ct = match r.media_type.as_str() {
        "application/pdf" => "application/pdf",
        _ => "application/pkcs7-mime",
    };
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (header::CONTENT_DISPOSITION, "attachment".to_string()),
            (
                header::HeaderName::from_static("x-content-sha256"),
                r.content_sha256,
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FindQuery {
    /// A document code: every version of it, the current valid one first.
    pub code: Option<String>,
    /// A personal id or tax code: every record of that subject, newest first.
    pub subject: Option<String>,
    /// An agency code, with `from` and `to` (YYYY-MM-DD, inclusive) on the issue date.
    pub agency: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Why (kept in the log with the caller, for every record returned).
    pub purpose: String,
}

#[derive(Serialize, ToSchema)]
pub struct FoundRecord {
    pub id: u64,
    pub code: String,
    pub title: Option<String>,
    pub agency: Option<String>,
    pub issue_date: Option<String>,
    /// `valid`, `superseded`, `revoked`, `expired`.
    pub status: String,
    pub content_sha256: String,
    pub leaf: u64,
}

#[derive(Serialize, ToSchema)]
pub struct FindResponse {
    pub records: Vec<FoundRecord>,
    /// More records matched than the answer holds (1000).
    pub truncated: bool,
}

/// Find records by document code, subject, or agency and issue dates. Every record returned
/// is a logged read.
#[utoipa::path(get, path = "/v1/records", operation_id = "find_records", tag = "archive",
    params(FindQuery),
    responses((status = 200, body = FindResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn find_records(
    State(st): State<Shared>,
    Extension(idt): Extension<Arc<Identity>>,
    q: Result<Query<FindQuery>, QueryRejection>,
) -> ApiResult<Json<FindResponse>> {
    let Query(q) = q?;
    let p = purpose(&q.purpose)?.to_string();
    for (n, v) in [
        ("code", &q.code),
        ("subject", &q.subject),
        ("agency", &q.agency),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        check_text(n, v.as_ref(), 128)?;
    }
    let (store, user) = (st.store.clone(), idt.user.clone());
    let (found, truncated) = blocking(move || {
        let by = match (&q.code, &q.subject, &q.agency) {
            (Some(c), None, None) => Find::Code(c),
            (None, Some(s), None) => Find::Subject(s),
            (None, None, Some(a)) => Find::Agency {
                agency: a,
                from: q.from.as_deref().unwrap_or("0000-01-01"),
                to: q.to.as_deref().unwrap_or("9999-12-31"),
            },
            _ => {
                return Err(kyso_archive::ArchiveError::Input(
                    "give exactly one of code, subject or agency".into(),
                ))
            }
        };
        store.find(by, &user, &p)
    })
    .await??;
    Ok(Json(FindResponse {
        records: found
            .into_iter()
            .map(|(r, s)| FoundRecord {
                id: r.id,
                code: r.code,
                title: r.title,
                agency: r.agency,
                issue_date: r.issue_date,
                status: s.name().into(),
                content_sha256: r.content_sha256,
                leaf: r.leaf,
            })
            .collect(),
        truncated,
    }))
}

/// A new status: `{"state":"valid"}`, `{"state":"superseded_by","record":N}`,
/// `{"state":"revoked","reason":"…"}`, `{"state":"expired","on":"YYYY-MM-DD"}`.
#[derive(Deserialize, ToSchema)]
pub struct StatusRequest {
    pub state: String,
    pub record: Option<u64>,
    pub reason: Option<String>,
    pub on: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StatusResponse {
    pub record: u64,
    /// The status event's index in the log.
    pub leaf: u64,
}

/// Change a record's validity (a logged event; the record itself never changes; revoked is
/// final).
#[utoipa::path(put, path = "/v1/records/{id}/status", operation_id = "set_status", tag = "archive",
    params(("id" = u64, Path, description = "record id")),
    request_body = StatusRequest,
    responses((status = 200, body = StatusResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn set_status(
    State(st): State<Shared>,
    Extension(idt): Extension<Arc<Identity>>,
    id: Result<Path<u64>, PathRejection>,
    req: Result<Json<StatusRequest>, JsonRejection>,
) -> ApiResult<Json<StatusResponse>> {
    let (Path(id), Json(req)) = (id?, req?);
    check_text("reason", req.reason.as_ref(), 1024)?;
    check_text("on", req.on.as_ref(), 10)?;
    let status = match (req.state.as_str(), req.record, req.reason, req.on) {
        ("valid", None, None, None) => kyso_archive::Status::Valid,
        ("superseded_by", Some(r), None, None) => kyso_archive::Status::SupersededBy { record: r },
        ("revoked", None, Some(reason), None) => kyso_archive::Status::Revoked { reason },
        ("expired", None, None, Some(on)) => kyso_archive::Status::Expired { on },
        _ => {
            return Err(ApiError::bad(
                "state: valid | superseded_by (with record) | revoked (with reason) | expired (with on)",
            ))
        }
    };
    let (store, user) = (st.store.clone(), idt.user.clone());
    let leaf = blocking(move || store.set_status(id, status, &user)).await??;
    Ok(Json(StatusResponse { record: id, leaf }))
}
