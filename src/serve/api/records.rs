//! The archive over HTTP: put a signed record (verified first; idempotent with a client
//! request id), read its metadata or content (each a logged read with the caller and a stated
//! purpose), find records, change a record's status.

use super::b64;
use crate::serve::archive::{Find, Ingest};
use crate::serve::auth::Identity;
use crate::serve::budget::Held;
use crate::serve::error::{ApiError, ApiResult, ErrorBody};
use crate::serve::server::{blocking, reserve_answer, ClientKey, Shared};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use kyso_archive::model::is_date;
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
    /// The issuing agency's code: the caller's own (`agency` in its configuration), which is
    /// also what an absent one means.
    pub agency: Option<String>,
    pub procedure: Option<String>,
    pub dossier: Option<String>,
    /// YYYY-MM-DD
    pub issue_date: Option<String>,
    /// Further metadata; a key given twice is refused.
    #[serde(default, deserialize_with = "unique_keys")]
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
    /// The PDF/A conformance the document declares (read at ingest; declared, not validated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdfa_declared: Option<String>,
    /// A PDF's pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u64>,
}

/// Most entries of a record's free metadata.
const MAX_META: usize = 64;

/// A JSON object's entries, refusing a key that appears twice (serde's maps keep the last).
fn unique_keys<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    struct Keys;
    impl<'de> serde::de::Visitor<'de> for Keys {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of strings")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut m: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = m.next_entry::<String, String>()? {
                // Stopped at the first entry too many: the map is built before the handler
                // counts it, and 3.8 million empty entries (a 44 MB body) held 500 MiB (an
                // attacker's reading, 2026-12-05).
                if out.len() == MAX_META {
                    return Err(serde::de::Error::custom(format!(
                        "at most {MAX_META} entries"
                    )));
                }
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!("duplicate key {k:?}")));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Keys)
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
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "the record names another agency than the caller's", body = ErrorBody),
        (status = 405, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 409, description = "request_conflict: the request_id was used for another request", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn put_record(
    State(st): State<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    held: Option<Extension<Held>>,
    req: Result<Json<PutRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(mut req) = req?;
    // A clerk archives for its own agency: the record carries it.
    match (&req.agency, &id.agency) {
        (Some(a), Some(mine)) if a != mine => {
            return Err(ApiError::forbidden(format!(
                "you archive for agency {mine:?}; this record names {a:?}"
            )))
        }
        (None, Some(mine)) => req.agency = Some(mine.clone()),
        _ => {}
    }
    if req.issue_date.as_deref().is_some_and(|d| !is_date(d)) {
        return Err(ApiError::invalid("issue_date: not a date (YYYY-MM-DD)"));
    }
    for (n, v, max) in [
        ("title", req.title.as_ref(), 1024),
        ("agency", req.agency.as_ref(), 128),
        ("procedure", req.procedure.as_ref(), 256),
        ("dossier", req.dossier.as_ref(), 128),
    ] {
        check_text(n, v, max)?;
    }
    // Why a document whose signatures did not pass is kept: the record keeps it.
    if let Some(r) = &req.allow_unsigned {
        req.allow_unsigned = Some(stated_within(
            "allow_unsigned",
            r,
            kyso_archive::model::REASON_MAX,
        )?);
    }
    if req.meta.len() > MAX_META
        || req.meta.iter().any(|(k, v)| {
            k.is_empty() || k.len() > 64 || v.len() > 1024 || v.chars().any(char::is_control)
        })
    {
        return Err(ApiError::bad(
            "meta: at most 64 entries, keys 1–64 bytes, values at most 1024 bytes",
        ));
    }
    let content = b64("content", &std::mem::take(&mut req.content))?;
    if content.len() > st.cfg.limits.upload_bytes {
        return Err(ApiError::too_large(
            "content is larger than limits.upload_bytes",
        ));
    }
    // Cheap checks before the CPU work: the code must parse.
    req.code
        .parse::<kyso_archive::DocumentCode>()
        .map_err(|e| ApiError::bad(format!("code: {e}")))?;
    // The archive validates and applies its ingest policy on the validation threads (in the
    // caller's share of the queue, holding the body's byte reservation); the durable write then
    // waits with the other writers (group commit) off the runtime.
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
    let prepared = super::verify::on_pool(
        &st,
        &id,
        held.map(|h| h.0),
        super::verify::Work::Validation,
        move || store.prepare(&v, ingest, content, &user),
    )
    .await??;
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
            // As kept: the type code in upper case (helper 222: the code as typed came back).
            code: req
                .code
                .parse::<kyso_archive::DocumentCode>()
                .map_or(req.code, |c| c.to_string()),
            indication: r.indication,
            replayed: r.existing,
            pdfa_declared: r.pdfa_declared,
            pages: r.pages,
        }),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// Why the record is read (kept in the log with the caller). Required; missing, it is
    /// refused by the purpose rule's words, not serde's ("missing field", helper 216).
    #[serde(default)]
    #[param(required = true)]
    pub purpose: String,
}

/// A stated purpose: the archive's rule ([`kyso_archive::model::check_stated`]).
fn purpose(p: &str) -> ApiResult<String> {
    stated("purpose", p)
}

/// A stated purpose or reason (`field` names it in the error): the rules of [`purpose`].
pub fn stated(field: &str, p: &str) -> ApiResult<String> {
    stated_within(field, p, kyso_archive::model::PURPOSE_MAX)
}

/// The rules of [`purpose`], at most `max` bytes; as kept: trimmed, each space a plain one.
/// Refused before the archive is asked, with the archive's words, as a bad request.
fn stated_within(field: &str, p: &str, max: usize) -> ApiResult<String> {
    let p = kyso_archive::model::stated_form(p);
    kyso_archive::model::check_stated(field, &p, max).map_err(|e| ApiError::bad(e.to_string()))?;
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
    let p = purpose(&q.purpose)?;
    let (store, user) = (st.store.clone(), idt.user.clone());
    let (r, s) = blocking(move || store.record(id, &user, &p)).await??;
    Ok(Json(serde_json::json!({ "record": r, "status": s })))
}

/// A record's document. Citizens' documents are personal data: the read is logged durably
/// with the caller and purpose before the bytes leave.
#[utoipa::path(get, path = "/v1/records/{id}/content", operation_id = "get_content", tag = "archive",
    params(("id" = u64, Path, description = "record id"), Purpose),
    responses((status = 200, description = "the document's bytes as archived: a PDF, or a CMS (.p7m)",
            content(("application/pdf"), ("application/pkcs7-mime"))), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "too_many_in_flight: the caller's answers and requests not yet sent hold its share of bytes (limits.inflight_bytes_per_client); Retry-After", body = ErrorBody),
        (status = 503, description = "the service holds as many bytes in flight as it takes (limits.inflight_bytes)", body = ErrorBody)))]
pub async fn get_content(
    State(st): State<Shared>,
    Extension(idt): Extension<Arc<Identity>>,
    Extension(who): Extension<ClientKey>,
    id: Result<Path<u64>, PathRejection>,
    q: Result<Query<Purpose>, QueryRejection>,
) -> ApiResult<Response> {
    let (Path(id), Query(q)) = (id?, q?);
    let p = purpose(&q.purpose)?;
    // Room for the answer before the read: a client that does not read what it asked for
    // holds it (refused with 429 past its share, 503 past the service's), and a refused read
    // is not logged. A record that cannot be sized fails the read below, as it would.
    let store = st.store.clone();
    let size = blocking(move || store.content_size(id)).await?.ok();
    let room = match size {
        Some(n) => Some(reserve_answer(
            &st,
            &who,
            usize::try_from(n).unwrap_or(usize::MAX),
            None,
        )?),
        None => None,
    };
    let (store, user) = (st.store.clone(), idt.user.clone());
    let (r, bytes) = blocking(move || store.content(id, &user, &p)).await??;
    let ct = match r.media_type.as_str() {
        "application/pdf" => "application/pdf",
        _ => "application/pkcs7-mime",
    };
    let mut resp = (
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
        .into_response();
    if let Some(room) = room {
        resp.extensions_mut().insert(room);
    }
    Ok(resp)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FindQuery {
    /// A document code: every version of it, the current valid one first.
    pub code: Option<String>,
    /// A personal id or tax code: every record of that subject, newest first.
    pub subject: Option<String>,
    /// An agency code, with `from` and `to` (YYYY-MM-DD, inclusive) on the issue date (a
    /// record with none: the day it was archived, +07:00).
    pub agency: Option<String>,
    /// With `agency` only (400 with a code or a subject).
    pub from: Option<String>,
    /// With `agency` only (400 with a code or a subject).
    pub to: Option<String>,
    /// Why (kept in the log with the caller, for every record returned). Required: missing, it
    /// is refused by the purpose rule's words.
    #[serde(default)]
    #[param(required = true)]
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
    let p = purpose(&q.purpose)?;
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
        // Dates bound a find by agency only: given with a code or a subject they were
        // ignored, and every version answered (helper 232).
        let dated = q.from.is_some() || q.to.is_some();
        let by = match (&q.code, &q.subject, &q.agency) {
            (Some(_), None, None) | (None, Some(_), None) if dated => {
                return Err(kyso_archive::ArchiveError::Input(
                    "from and to go with agency only: a find by code or subject answers every record of it".into(),
                ))
            }
            (Some(c), None, None) => Find::Code(c),
            (None, Some(s), None) => Find::Subject(s),
            (None, None, Some(a)) => Find::Agency {
                agency: a,
                from: q.from.as_deref().unwrap_or("0001-01-01"),
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

/// A new status: `{"state":"superseded_by","record":N}` (another record of the same code and
/// agency, still valid), `{"state":"revoked","reason":"…"}`, `{"state":"expired","on":"YYYY-MM-DD"}`.
/// A record is valid from its ingest: `valid` cannot be set again (400; 409 on a revoked record).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// `superseded_by`, `revoked` or `expired`.
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
/// final). Only for records of the caller's agency (a record without one: only for whoever
/// archived it); a record is superseded only by another of the same code and agency.
#[utoipa::path(put, path = "/v1/records/{id}/status", operation_id = "set_status", tag = "archive",
    params(("id" = u64, Path, description = "record id")),
    request_body = StatusRequest,
    responses((status = 200, body = StatusResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "the record is not of the caller's agency", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 405, body = ErrorBody),
        (status = 409, description = "the record is revoked (final)", body = ErrorBody),
        (status = 422, description = "invalid_json (e.g. a date that is no date), status_refused (e.g. superseded by a record of another code, an expiry date that has not come or is before the record's issue date)", body = ErrorBody)))]
pub async fn set_status(
    State(st): State<Shared>,
    Extension(idt): Extension<Arc<Identity>>,
    id: Result<Path<u64>, PathRejection>,
    req: Result<Json<StatusRequest>, JsonRejection>,
) -> ApiResult<Json<StatusResponse>> {
    let (Path(id), Json(mut req)) = (id?, req?);
    if let Some(r) = &req.reason {
        req.reason = Some(stated_within("reason", r, kyso_archive::model::REASON_MAX)?);
    }
    if let Some(on) = &req.on {
        if !is_date(on) {
            return Err(ApiError::invalid(format!(
                "on: {:?} is not a date (YYYY-MM-DD)",
                on.chars().take(16).collect::<String>()
            )));
        }
    }
    let status = match (req.state.as_str(), req.record, req.reason, req.on) {
        ("valid", None, None, None) => kyso_archive::Status::Valid,
        ("superseded_by", Some(r), None, None) => kyso_archive::Status::SupersededBy { record: r },
        ("revoked", None, Some(reason), None) => kyso_archive::Status::Revoked { reason },
        ("expired", None, None, Some(on)) => kyso_archive::Status::Expired { on },
        _ => {
            return Err(ApiError::bad(
                "state: superseded_by (with record) | revoked (with reason) | expired (with on)",
            ))
        }
    };
    let store = st.store.clone();
    let leaf =
        blocking(move || store.set_status(id, status, &idt.user, idt.agency.as_deref())).await??;
    Ok(Json(StatusResponse { record: id, leaf }))
}
