//! Export jobs over HTTP: an archivist starts an export (BagIt or E-ARK) of a selection, with a
//! reason; the job runs in the background (src/serve/exports.rs), the archivist watches its
//! progress and downloads the package. A job is visible only to the archivist who started it,
//! and to admins (who may see and delete it: disk housekeeping); only its archivist downloads
//! it, since the export event logged that archivist's read. Any other id is 404, so ids cannot
//! be probed.

use super::records::stated;
use crate::serve::auth::{Identity, Role};
use crate::serve::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::serve::exports::{Exports, Job, NotDeleted, Package, Refused, State};
use crate::serve::server::{blocking, Shared};
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use kyso_archive::bag::Format;
use kyso_archive::export::Selection;
use kyso_archive::model::is_date;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    /// BagIt 1.0 (RFC 8493), downloaded as one tar file holding the bag under `<id>/`.
    Bagit,
    /// E-ARK CSIP 2.1 information package, a zip.
    Eark,
}

/// Which records: exactly one of `code`, `subject`, `agency` (with optional `from`/`to`, issue
/// dates YYYY-MM-DD inclusive) or `all: true`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectionRequest {
    /// Every version of a document code.
    pub code: Option<String>,
    /// Every record of a subject (personal id or tax code).
    pub subject: Option<String>,
    /// Records of an agency issued between `from` and `to` (a record with no issue date: the
    /// day it was archived, +07:00).
    pub agency: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Every record of the archive.
    pub all: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    pub format: FormatName,
    pub selection: SelectionRequest,
    /// Why (logged with the caller in the export event; the purpose rules of record reads).
    pub reason: String,
    /// The client's id for this request (per user): a retry with it answers the job it
    /// started (`200`) instead of starting another; with other arguments, `409`.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// An export job.
#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    /// The archivist who started it (the export event's user).
    pub user: String,
    /// `bagit` or `eark`.
    pub format: String,
    /// The selection as the archive names it (`{"by": "code", "code": …}`, …).
    #[schema(value_type = Object)]
    pub selection: serde_json::Value,
    pub reason: String,
    /// Seconds since the epoch.
    pub created: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<u64>,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// Running: records written so far, of `total`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Done: records in the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// Done: the package's size in bytes, as downloaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Done: SHA-256 of the package as downloaded, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Done: where to download it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Failed: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How many times a restart of the service resumed it.
    pub resumed: u32,
}

impl From<Job> for JobView {
    fn from(j: Job) -> JobView {
        let mut v = JobView {
            package: None,
            id: j.id.clone(),
            user: j.user,
            format: j.format.name().into(),
            selection: serde_json::to_value(&j.selection).unwrap_or_default(),
            reason: j.reason,
            created: j.created,
            finished: j.finished,
            state: String::new(),
            done: None,
            total: None,
            records: None,
            size: None,
            sha256: None,
            error: None,
            resumed: j.resumed,
        };
        v.state = match j.state {
            State::Queued => "queued",
            State::Running { done, total } => {
                (v.done, v.total) = (Some(done), Some(total));
                "running"
            }
            State::Done {
                records,
                size,
                sha256,
            } => {
                (v.records, v.size, v.sha256) = (Some(records), Some(size), Some(sha256));
                v.package = Some(format!("/v1/exports/{}/package", j.id));
                "done"
            }
            State::Failed { error } => {
                v.error = Some(error);
                "failed"
            }
        }
        .into();
        v
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobView>,
}

fn exports(st: &Shared) -> ApiResult<Arc<Exports>> {
    st.exports.clone().ok_or_else(|| {
        ApiError::unavailable("exports are not configured on this appliance ([export] dir)")
    })
}

fn admin(id: &Identity) -> bool {
    id.roles.contains(&Role::Admin)
}

/// A job as `caller` may see it: an admin sees other archivists' jobs to run the service, not
/// the citizens they name — a selection's code or subject (personal ids), the reason, and a
/// failure's text (which names records' codes) are for the job's owner (found by an
/// attacker's reading, 2026-12-02).
fn view(j: Job, caller: &str) -> JobView {
    let own = j.user == caller;
    let mut v = JobView::from(j);
    if !own {
        if let Some(by) = v.selection.get("by").cloned() {
            let mut shown = serde_json::Map::new();
            shown.insert("by".into(), by);
            for k in ["agency", "from", "to"] {
                if let Some(x) = v.selection.get(k) {
                    shown.insert(k.into(), x.clone());
                }
            }
            v.selection = serde_json::Value::Object(shown);
        }
        v.reason = "(the job's owner sees it)".into();
        if v.error.is_some() {
            v.error = Some("(the job's owner sees it)".into());
        }
    }
    v
}

fn no_job() -> ApiError {
    ApiError::not_found("no such export job")
}

/// The request's selection, checked as the archive will check it.
fn selection(s: SelectionRequest) -> ApiResult<Selection> {
    let text = |n: &str, v: &str| -> ApiResult<()> {
        if v.is_empty() || v.len() > 128 || v.chars().any(char::is_control) {
            return Err(ApiError::bad(format!(
                "selection.{n}: 1–128 bytes, no control characters"
            )));
        }
        Ok(())
    };
    let all = s.all.unwrap_or(false);
    if s.all == Some(false) {
        return Err(ApiError::bad(
            "selection.all: true, or leave it out and give code, subject or agency",
        ));
    }
    if (s.from.is_some() || s.to.is_some()) && s.agency.is_none() {
        return Err(ApiError::bad("selection.from and .to go with agency"));
    }
    Ok(match (s.code, s.subject, s.agency, all) {
        (Some(c), None, None, false) => {
            text("code", &c)?;
            c.parse::<kyso_archive::DocumentCode>()
                .map_err(|e| ApiError::bad(format!("selection.code: {e}")))?;
            Selection::Code { code: c }
        }
        (None, Some(x), None, false) => {
            text("subject", &x)?;
            kyso_archive::code::parse_subject(&x)
                .map_err(|e| ApiError::bad(format!("selection.subject: {e}")))?;
            Selection::Subject { subject: x }
        }
        (None, None, Some(a), false) => {
            text("agency", &a)?;
            let from = s.from.unwrap_or_else(|| "0001-01-01".into());
            let to = s.to.unwrap_or_else(|| "9999-12-31".into());
            for (n, d) in [("from", &from), ("to", &to)] {
                if !is_date(d) {
                    return Err(ApiError::bad(format!(
                        "selection.{n}: not a date (YYYY-MM-DD)"
                    )));
                }
            }
            if from > to {
                return Err(ApiError::bad("selection: from is after to"));
            }
            Selection::Agency {
                agency: a,
                from,
                to,
            }
        }
        (None, None, None, true) => Selection::All,
        _ => {
            return Err(ApiError::bad(
                "selection: exactly one of code, subject, agency (with from/to) or all: true",
            ))
        }
    })
}

/// Start an export: the job is queued and runs in the background (one at a time, or
/// `export.concurrent`). The archive logs the export event — the caller, the reason, every
/// record — durably before it reads a record. Watch it with `GET /v1/exports/{id}`.
#[utoipa::path(post, path = "/v1/exports", operation_id = "start_export", tag = "export",
    request_body = ExportRequest,
    responses((status = 202, description = "queued; `Location` is the job", body = JobView),
        (status = 200, description = "a retry with the request_id of a job started with the same arguments: that job", body = JobView),
        (status = 409, description = "request_conflict: the request_id started a job with other arguments", body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "too_many_exports: the caller holds export.jobs_per_user jobs", body = ErrorBody),
        (status = 503, description = "exports not configured, or too little free disk", body = ErrorBody)))]
pub async fn start_export(
    AxState(st): AxState<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    req: Result<Json<ExportRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = req?;
    let ex = exports(&st)?;
    let reason = stated("reason", &req.reason)?;
    let sel = selection(req.selection)?;
    let format = match req.format {
        FormatName::Bagit => Format::Bagit,
        FormatName::Eark => Format::Eark,
    };
    let request_id = match req.request_id {
        Some(r) if r.is_empty() || r.len() > 200 || r.chars().any(char::is_control) => {
            return Err(ApiError::bad(
                "request_id: 1 to 200 bytes, no control characters",
            ))
        }
        r => r,
    };
    let user = id.user.clone();
    let (job, replayed) =
        blocking(move || ex.start(&user, format, sel, &reason, request_id.as_deref()))
            .await?
            .map_err(|e| match e {
                Refused::TooMany(n) => ApiError::new(
                    Code::TooManyExports,
                    format!(
                    "you hold {n} export jobs (export.jobs_per_user); delete finished ones first"
                ),
                ),
                Refused::Disk(m) => ApiError::unavailable(m),
                Refused::Io(m) => ApiError::internal(format!("export directory: {m}")),
                Refused::Conflict(m) => ApiError::new(Code::RequestConflict, m),
            })?;
    let location = format!("/v1/exports/{}", job.id);
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let mut r = (status, Json(JobView::from(job))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// The caller's export jobs (an admin: every job), oldest first.
#[utoipa::path(get, path = "/v1/exports", operation_id = "list_exports", tag = "export",
    responses((status = 200, body = JobList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn list_exports(
    AxState(st): AxState<Shared>,
    Extension(id): Extension<Arc<Identity>>,
) -> ApiResult<Json<JobList>> {
    let ex = exports(&st)?;
    Ok(Json(JobList {
        jobs: ex
            .list(&id.user, admin(&id))
            .into_iter()
            .map(|j| view(j, &id.user))
            .collect(),
    }))
}

/// An export job's state: queued; running with records done of total; done with the package's
/// size and SHA-256; failed with the reason. Another user's job is 404.
#[utoipa::path(get, path = "/v1/exports/{id}", operation_id = "get_export", tag = "export",
    params(("id" = String, Path, description = "the job id (32 hex digits)")),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get_export(
    AxState(st): AxState<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    job: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<JobView>> {
    let ex = exports(&st)?;
    let Ok(Path(job)) = job else {
        return Err(no_job());
    };
    ex.get(&job, &id.user, admin(&id))
        .map(|j| Json(view(j, &id.user)))
        .ok_or_else(no_job)
}

/// Remove a job that is not running, and its package (a queued job is cancelled). Another
/// user's job is 404.
#[utoipa::path(delete, path = "/v1/exports/{id}", operation_id = "delete_export", tag = "export",
    params(("id" = String, Path, description = "the job id (32 hex digits)")),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "export_not_ready: the job is running", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn delete_export(
    AxState(st): AxState<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    job: Result<Path<String>, PathRejection>,
) -> ApiResult<StatusCode> {
    let ex = exports(&st)?;
    let Ok(Path(job)) = job else {
        return Err(no_job());
    };
    let (user, admin) = (id.user.clone(), admin(&id));
    blocking(move || ex.delete(&job, &user, admin))
        .await?
        .map_err(|e| match e {
            NotDeleted::NotFound => no_job(),
            NotDeleted::Running => ApiError::new(
                Code::ExportNotReady,
                "the job is running; delete it when it is done or failed",
            ),
            NotDeleted::Io(m) => {
                tracing::error!(error = %m, "an export job's files not deleted");
                ApiError::internal(format!(
                    "export directory: {}",
                    crate::serve::error::file_names_only(&m)
                ))
            }
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// A single byte range `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size`: Some((start, len));
/// None for no Range, or one this does not serve (several ranges: the whole package);
/// Err when it lies outside.
fn range(h: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(v) = h.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = v.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    // 1*DIGIT (RFC 9110 §14.1.1: no sign, no space inside); a number past u64 is past any
    // package: a last position or suffix length that large means "to the end" (§14.1.2).
    let num = |s: &str| {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        Ok(s.parse::<u64>().unwrap_or(u64::MAX))
    };
    let (start, end) = match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, true) => return Ok(None),
        (true, false) => {
            let n = num(b)?;
            if n == 0 || size == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size - 1)
        }
        (false, true) => (num(a)?, size.saturating_sub(1)),
        (false, false) => (num(a)?, num(b)?.min(size.saturating_sub(1))),
    };
    if start >= size || end < start {
        return Err(());
    }
    Ok(Some((start, end - start + 1)))
}

/// Download a finished package: the BagIt bag as one tar file (`<id>/bagit.txt`, …), or the
/// E-ARK zip, as the export wrote it. `Content-Length` and `X-Content-SHA256` are the package's
/// (the job's `size` and `sha256`); a single `Range` is served (206). Only the archivist who
/// started the job; another user's job is 404.
#[utoipa::path(get, path = "/v1/exports/{id}/package", operation_id = "get_export_package", tag = "export",
    params(("id" = String, Path, description = "the job id (32 hex digits)"),
        ("Range" = Option<String>, Header, description = "one byte range, e.g. bytes=1048576-")),
    responses((status = 200, description = "the package: a bag's tar file, or an E-ARK zip",
            content(("application/x-tar"), ("application/zip"))),
        (status = 206, description = "the range asked for, of the tar or the zip",
            content(("application/x-tar"), ("application/zip"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "export_not_ready: queued, running or failed", body = ErrorBody),
        (status = 416, body = ErrorBody),
        (status = 500, description = "internal: the package file is gone or not the size the job measured (logged)", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn get_export_package(
    AxState(st): AxState<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    job: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let ex = exports(&st)?;
    let Ok(Path(job)) = job else {
        return Err(no_job());
    };
    // Only the owner: the export event logged the owner's read, no one else's.
    let job = ex.get(&job, &id.user, false).ok_or_else(no_job)?;
    let State::Done { size, sha256, .. } = job.state.clone() else {
        return Err(ApiError::new(
            Code::ExportNotReady,
            "the package is not ready: see the job's state",
        ));
    };
    let (start, len, partial) = match range(&headers, size) {
        Ok(Some((s, l))) => (s, l, true),
        Ok(None) => (0, size, false),
        Err(()) => {
            let mut r = ApiError::new(
                Code::RangeNotSatisfiable,
                format!("the package has {size} bytes"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    // A package file (a bag's tar, an E-ARK zip) is opened before the answer starts: one that
    // is gone or not the size the job measured is a 500, not a cut stream.
    let pkg = ex.package(&job);
    let file = match &pkg {
        Package::Tar(p) | Package::Zip(p) => {
            let (p, ex, jid) = (p.clone(), ex.clone(), job.id.clone());
            let f = blocking(move || -> io::Result<Option<std::fs::File>> {
                let Some(f) = ex.open_package(&jid, &p)? else {
                    return Ok(None);
                };
                let n = f.metadata()?.len();
                if n != size {
                    return Err(io::Error::other(format!(
                        "{} has {n} bytes, the job measured {size}",
                        p.display()
                    )));
                }
                Ok(Some(f))
            })
            .await?
            .map_err(|e: io::Error| {
                tracing::error!(error = %e, "export package not readable");
                ApiError::internal("the package cannot be read; see the service log")
            })?;
            // Deleted meanwhile: no job, not a damaged package.
            Some(f.ok_or_else(no_job)?)
        }
        Package::LegacyBag(_) => None,
    };
    let body = match file {
        // A file: read a chunk when the client has taken the one before, each on a blocking
        // thread only while it is read. A producer thread per download, blocked on a client
        // that does not read, had held every thread of the pool the archive and the tokens
        // use: ~500 unread downloads stalled every route for everyone (found by an attacker's
        // reading, 2026-12-03).
        Some(f) => axum::body::Body::new(FileBody {
            file: Arc::new(f),
            pos: start,
            left: len,
            read: None,
        }),
        None => axum::body::Body::new(ChanBody(legacy_bag(pkg, job.clone(), start, len))),
    };
    let (ct, ext) = match job.format {
        Format::Bagit => ("application/x-tar", "tar"),
        Format::Eark => ("application/zip", "zip"),
    };
    let mut r = body.into_response();

    *r.status_mut() = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let h = r.headers_mut();
    let mut set = |k: header::HeaderName, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(header::CONTENT_TYPE, ct.into());
    set(header::CONTENT_LENGTH, len.to_string());
    set(header::ACCEPT_RANGES, "bytes".into());
    set(header::ETAG, format!("\"{sha256}\""));
    set(
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{}.{ext}\"", job.id),
    );
    set(header::HeaderName::from_static("x-content-sha256"), sha256);
    if partial {
        set(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    Ok(r)
}

const CHUNK: usize = 64 << 10;

/// An older service's directory bag, streamed as the tar it announced: written on a blocking
/// thread into a channel of a few chunks (the client's request in flight holds it: at most
/// `limits.concurrent_per_client` of a client at once).
fn legacy_bag(
    pkg: Package,
    job: Job,
    start: u64,
    len: u64,
) -> tokio::sync::mpsc::Receiver<io::Result<Bytes>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut w = Chan {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
            skip: start,
            left: len,
        };
        let r = pkg.write(&job, &mut w);
        let r = match r {
            Err(_) if w.left == 0 => Ok(()),
            r => r,
        };
        let r = r.and_then(|()| w.flush());
        match r {
            Ok(()) if w.left == 0 => {}
            Ok(()) => {
                let _ = tx.blocking_send(Err(io::Error::other(
                    "the package is shorter than its size",
                )));
            }
            Err(e) => {
                tracing::error!(error = %e, "package download failed");
                let _ = tx.blocking_send(Err(e));
            }
        }
    });
    rx
}

/// The range `pos..pos+left` of a package file, read a chunk at a time as the client takes
/// them.
struct FileBody {
    file: Arc<std::fs::File>,
    pos: u64,
    left: u64,
    read: Option<tokio::task::JoinHandle<io::Result<Bytes>>>,
}

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, io::Error>>> {
        use std::future::Future;
        use std::task::Poll;
        if self.read.is_none() {
            if self.left == 0 {
                return Poll::Ready(None);
            }
            let (file, pos) = (self.file.clone(), self.pos);
            let n = self.left.min(CHUNK as u64) as usize;
            self.read = Some(tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::FileExt;
                let mut buf = vec![0u8; n];
                // A file shorter than the job measured ends the answer with an error (the
                // client sees a cut transfer, never other bytes).
                file.read_exact_at(&mut buf, pos)?;
                Ok(Bytes::from(buf))
            }));
        }
        let Some(read) = self.read.as_mut() else {
            return Poll::Ready(None);
        };
        let done = match std::pin::Pin::new(read).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r.map_err(io::Error::other).and_then(|r| r),
        };
        self.read = None;
        Poll::Ready(Some(match done {
            Ok(b) => {
                self.pos += b.len() as u64;
                self.left -= b.len() as u64;
                Ok(hyper::body::Frame::data(b))
            }
            Err(e) => {
                tracing::error!(error = %e, "package download failed");
                self.left = 0;
                Err(e)
            }
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0 && self.read.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.left)
    }
}

/// Writes the range `skip..skip+left` of what it is given into the channel, in chunks; past
/// the range it refuses more (the producer stops).
struct Chan {
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    skip: u64,
    left: u64,
}

impl Write for Chan {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = b.len();
        let mut b = b;
        if self.skip > 0 {
            let k = (self.skip.min(b.len() as u64)) as usize;
            self.skip -= k as u64;
            b = &b[k..];
        }
        if b.is_empty() {
            return Ok(n);
        }
        if self.left == 0 {
            return Err(io::Error::other("past the range"));
        }
        let k = (self.left.min(b.len() as u64)) as usize;
        self.buf.extend_from_slice(&b[..k]);
        self.left -= k as u64;
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::other("the client went away"))
    }
}

/// A response body fed by the package's producer thread.
struct ChanBody(tokio::sync::mpsc::Receiver<io::Result<Bytes>>);

impl hyper::body::Body for ChanBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, io::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|o| o.map(|r| r.map(hyper::body::Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
        m
    }

    #[test]
    fn ranges_are_single_and_inside_the_package() {
        assert_eq!(range(&HeaderMap::new(), 10), Ok(None));
        assert_eq!(range(&h("bytes=0-3"), 10), Ok(Some((0, 4))));
        assert_eq!(range(&h("bytes=4-"), 10), Ok(Some((4, 6))));
        assert_eq!(range(&h("bytes=-3"), 10), Ok(Some((7, 3))));
        assert_eq!(range(&h("bytes=5-100"), 10), Ok(Some((5, 5))));
        assert_eq!(range(&h("bytes=-30"), 10), Ok(Some((0, 10))));
        assert_eq!(range(&h("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(range(&h("items=0-1"), 10), Ok(None));
        assert_eq!(range(&h("bytes=10-"), 10), Err(()));
        assert_eq!(range(&h("bytes=5-2"), 10), Err(()));
        assert_eq!(range(&h("bytes=-0"), 10), Err(()));
        assert_eq!(range(&h("bytes=x-2"), 10), Err(()));
        assert_eq!(range(&h("bytes=99999999999999999999-"), 10), Err(()));
        // A last position or suffix past u64 is the rest; a sign is no digit (helper 130).
        assert_eq!(
            range(&h("bytes=2-99999999999999999999"), 10),
            Ok(Some((2, 8)))
        );
        assert_eq!(
            range(&h("bytes=-99999999999999999999"), 10),
            Ok(Some((0, 10)))
        );
        assert_eq!(range(&h("bytes=+5-9"), 10), Err(()));
        assert_eq!(range(&h("bytes=5-+9"), 10), Err(()));
    }

    #[test]
    fn a_selection_is_exactly_one_of_its_kinds() {
        let s = |v: serde_json::Value| selection(serde_json::from_value(v).unwrap());
        assert!(matches!(
            s(serde_json::json!({"all": true})),
            Ok(Selection::All)
        ));
        assert!(matches!(
            s(serde_json::json!({"agency": "A", "from": "2024-01-01"})),
            Ok(Selection::Agency { .. })
        ));
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"all": false}),
            serde_json::json!({"all": true, "code": "001099012345.GPXD"}),
            serde_json::json!({"code": "not a code"}),
            serde_json::json!({"subject": "12"}),
            serde_json::json!({"from": "2024-01-01"}),
            serde_json::json!({"agency": "A", "from": "2024-13-01"}),
            serde_json::json!({"agency": "A", "from": "2025-01-01", "to": "2024-01-01"}),
            serde_json::json!({"agency": "A\u{0}"}),
        ] {
            assert!(s(bad.clone()).is_err(), "{bad}");
        }
        assert!(
            serde_json::from_value::<SelectionRequest>(serde_json::json!({"records": [1]}))
                .is_err()
        );
    }
}
