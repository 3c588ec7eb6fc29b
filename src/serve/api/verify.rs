//! Verification for relying agencies: a document (and a detached signature) in, kyso verify's
//! JSON report out; and whether the archive holds a document, with its status, the inclusion
//! proof and the signed checkpoint it is proved against.

use super::b64;
use crate::serve::auth::Identity;
use crate::serve::budget::Held;
use crate::serve::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::serve::pool::Refused;
use crate::serve::server::{blocking, reserve_answer, ClientKey, Shared};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa::{IntoParams, ToSchema};

/// Deepest BER/DER nesting handed to the validator. A CMS signature nests about 15 levels.
/// kyso-verify bounds its own recursion (issue 9); this cheap iterative scan answers a
/// nesting bomb with 400 before any validation work is queued for it.
const MAX_BER_DEPTH: usize = 256;

/// Does the BER/DER data in `b` nest deeper than `max`? Iterative: an explicit stack of the
/// open constructed values (their end, or `None` for indefinite length).
fn ber_too_deep(b: &[u8], max: usize) -> bool {
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut i = 0usize;
    while i < b.len() {
        while let Some(Some(end)) = open.last() {
            if i >= *end {
                open.pop();
            } else {
                break;
            }
        }
        if b[i..].starts_with(&[0, 0]) && matches!(open.last(), Some(None)) {
            open.pop();
            i += 2;
            continue;
        }
        let first = b[i];
        i += 1;
        if first & 0x1f == 0x1f {
            while b.get(i).is_some_and(|x| x & 0x80 != 0) {
                i += 1;
            }
            i += 1;
        }
        let Some(&l0) = b.get(i) else { return false };
        i += 1;
        let constructed = first & 0x20 != 0;
        if l0 == 0x80 {
            if !constructed {
                return false;
            }
            open.push(None);
        } else {
            let len = if l0 < 0x80 {
                l0 as usize
            } else {
                let n = (l0 & 0x7f) as usize;
                if n > 8 || i + n > b.len() {
                    return false;
                }
                let v = b[i..i + n].iter().fold(0u64, |a, &x| (a << 8) | x as u64);
                i += n;
                usize::try_from(v).unwrap_or(usize::MAX)
            };
            if constructed {
                open.push(Some(i.saturating_add(len)));
            } else {
                i = i.saturating_add(len);
            }
        }
        if open.len() > max {
            return true;
        }
    }
    false
}

/// Refuse what is not worth a validation thread: a CMS nested deeper than any real one.
pub fn precheck(data: &[u8], detached: Option<&[u8]>) -> ApiResult<()> {
    let cms = match detached {
        Some(sig) => Some(sig),
        None if !kyso_verify::looks_like_pdf(data) => Some(data),
        None => None,
    };
    if cms.is_some_and(|c| ber_too_deep(c, MAX_BER_DEPTH)) {
        return Err(ApiError::bad(format!(
            "the signature nests deeper than {MAX_BER_DEPTH} levels; not a CMS kyso validates"
        )));
    }
    Ok(())
}

/// Cancels a request's stop when the request is gone (its handler's future dropped: a
/// deadline, the client left), and when the handler ends (its jobs have ended too).
pub struct CancelOnDrop(pub kyso_verify::Stop);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// What a job on the verification threads does: what its caller is told when it is stopped,
/// fails or finds no room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Validating a document (to verify it, or to archive it).
    Validation,
    /// Reading a document to prepare its signature (remote signing): no token work, which
    /// would hold a thread validations wait for.
    Preparation,
}

impl Work {
    fn name(self) -> &'static str {
        match self {
            Work::Validation => "validation",
            Work::Preparation => "preparation of a signature",
        }
    }

    /// Its `work` label in `kyso_job_memory_bytes`.
    fn label(self) -> &'static str {
        match self {
            Work::Validation => "validation",
            Work::Preparation => "preparation",
        }
    }

    /// What was not done when it was stopped.
    fn undone(self) -> &'static str {
        match self {
            Work::Validation => "the document was not judged, neither valid nor invalid",
            Work::Preparation => "nothing was prepared, nor kept for signing",
        }
    }
}

/// After a job run under `stop` (with a memory limit), on its thread, its memory freed: the
/// most it held, to `kyso_job_memory_bytes`; and past 64 MiB, the memory the allocator kept
/// given back to the system. glibc keeps what a thread's arena held, each verification thread
/// has an arena of its own, and a service that had judged a few hostile documents held their
/// peaks, idle (362 to 575 MB each, helper 223).
pub fn after_job(st: &crate::serve::server::AppState, stop: &kyso_verify::Stop, work: &str) {
    let Some(peak) = stop.peak_memory() else {
        return;
    };
    st.metrics
        .job_memory
        .with_label_values(&[work])
        .observe(peak as f64);
    if peak > 64 << 20 {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only returns free memory of glibc's arenas to the system.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// Run CPU work on the verification threads (off the runtime, with their large stacks), in
/// `who`'s share of the queue (the public's within theirs). The job holds `held` (the request
/// body's byte reservation) until it ends; if this future is dropped first (a deadline), a job
/// not yet started is dropped unrun, and a running one is stopped. A job runs under a
/// [`Stop`](kyso_verify::Stop) that fires `limits.validation_secs` after it starts, or once
/// the job holds more than `limits.validation_memory_mib` (counted on its thread by the
/// global allocator, `kyso_pdf::stop::Counting`): the readers of kyso-pdf and kyso-verify
/// heed it, and a job that did is a 422 `too_slow` or `too_much_memory` (what it returned is
/// no answer: dropped). A panic is a 422 and counted; a client over its share
/// 429, a full queue 503. `work` says what the job does, in these answers.
pub async fn on_pool<T: Send + 'static>(
    st: &Shared,
    who: &Identity,
    held: Option<Held>,
    work: Work,
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    let requester = kyso_verify::Stop::new(None);
    let _cancel = CancelOnDrop(requester.clone());
    let secs = st.cfg.limits.validation_secs();
    let memory = st.cfg.limits.validation_memory();
    let state = st.clone();
    let r = st
        .verify_pool
        .run(&who.client_key(), who.is_public(), move || {
            let _held = held;
            // (A limit too far to reckon is none: the request's own deadline still ends it.)
            let deadline = Instant::now().checked_add(Duration::from_secs(secs));
            let stop = requester.child_within(deadline, Some(memory));
            let out = stop.run(f);
            let r = if !stop.heeded() {
                Ok(out)
            } else {
                // What it returned is no answer; the memory it held is freed here, on its
                // thread, before the next job.
                drop(out);
                Err(stop.over_memory())
            };
            after_job(&state, &stop, work.label());
            r
        })
        .await;
    let limited = |what: &str| st.metrics.limited.with_label_values(&[what]).inc();
    match r {
        Ok(Ok(x)) => Ok(x),
        Ok(Err(over_memory)) => {
            let (code, limit, how) = if over_memory {
                let mib = st.cfg.limits.validation_memory_mib;
                let how = format!("needed more than {mib} MiB");
                (Code::TooMuchMemory, "validation_memory_mib", how)
            } else {
                (
                    Code::TooSlow,
                    "validation_secs",
                    format!("ran past {secs} s"),
                )
            };
            limited(limit);
            let what = work.name();
            tracing::warn!(
                client = %who.client_key(),
                "a {what} {how} (limits.{limit}) and was stopped"
            );
            Err(ApiError::new(
                code,
                format!(
                    "the {what} {how} (limits.{limit}) and was stopped: {} (the operator sets the limit)",
                    work.undone()
                ),
            ))
        }
        Err(Refused::Panicked) => {
            st.metrics.panics.inc();
            tracing::error!("the reader panicked on an upload ({})", work.name());
            Err(ApiError::new(
                Code::Unreadable,
                match work {
                    Work::Validation => {
                        "the document could not be validated (the validator failed on it; logged)"
                    }
                    Work::Preparation => {
                        "the document could not be prepared for signing (the reader failed on it; logged)"
                    }
                },
            ))
        }
        Err(Refused::ClientFull) => {
            limited("verify_queue_client");
            Err(ApiError::new(
                Code::TooManyInFlight,
                format!(
                    "{} of your validations and signature preparations are queued or running (limits.verify_queue_per_client), also those whose requests timed out; wait for them",
                    st.cfg.limits.verify_queue_per_client
                ),
            )
            .retry_after(1))
        }
        Err(Refused::Full) => {
            limited("verify_queue");
            Err(ApiError::unavailable(
                "too many validations and signature preparations queued; retry shortly",
            ))
        }
        Err(Refused::PublicFull) => {
            limited("verify_queue_public");
            Err(ApiError::unavailable(
                "too many public validations queued (limits.public_share); retry shortly",
            ))
        }
        Err(Refused::Stopping) => Err(ApiError::unavailable(format!(
            "the service is stopping; {} cancelled",
            work.name()
        ))),
    }
}

/// Validate on the verification threads, in `who`'s share of the queue. Returns the report
/// and gives the document back.
pub async fn run_verify(
    st: &Shared,
    who: &Identity,
    data: Bytes,
    detached: Option<Vec<u8>>,
    held: Option<Held>,
) -> ApiResult<(kyso_verify::Report, Bytes)> {
    precheck(&data, detached.as_deref())?;
    let v = st.validator();
    on_pool(st, who, held, Work::Validation, move || {
        let report = v.verify_file(&data, detached.as_deref());
        (report, data)
    })
    .await
}

/// The report as the answer, its bytes reserved against the client's and the service's
/// in-flight budgets until it is sent: answers a client did not read were held with no limit,
/// 4.17 GB of 353 MB reports for one verifier before reports had bounds (helper 227).
fn report_response(
    st: &Shared,
    who: &ClientKey,
    report: &kyso_verify::Report,
    data: &[u8],
) -> ApiResult<Response> {
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, data));
    let json = serde_json::to_vec(report).unwrap_or_default();
    let room = reserve_answer(st, who, json.len(), None)?;
    let mut resp = (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::HeaderName::from_static("x-content-sha256"), sha),
        ],
        json,
    )
        .into_response();
    resp.extensions_mut().insert(room);
    Ok(resp)
}

const DOCUMENT_TYPES: [&str; 4] = [
    "application/pdf",
    "application/pkcs7-mime",
    "application/pkcs7-signature",
    "application/octet-stream",
];

/// Validate a signed document: a PDF, or an attached CMS (`.p7m`), as the request body. The
/// answer is `kyso verify --json`'s report (ETSI EN 319 102-1 indications); the header
/// `X-Content-SHA256` carries the document's SHA-256 for `/v1/verify/archived`.
#[utoipa::path(post, path = "/v1/verify", operation_id = "verify", tag = "verification",
    request_body(description = "the document's bytes, as sent (no schema: binary)",
        content(("application/pdf"), ("application/pkcs7-mime"), ("application/pkcs7-signature"), ("application/octet-stream"))),
    responses((status = 200, description = "the validation report", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 405, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn verify(
    State(st): State<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    Extension(who): Extension<ClientKey>,
    held: Option<Extension<Held>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if !DOCUMENT_TYPES.contains(&ct) {
        return Err(ApiError::unsupported_media(format!(
            "send the document with Content-Type one of {}",
            DOCUMENT_TYPES.join(", ")
        )));
    }
    let body = body?;
    if body.is_empty() {
        return Err(ApiError::bad("empty body: send the document"));
    }
    let (report, data) = run_verify(&st, &id, body, None, held.map(|h| h.0)).await?;
    report_response(&st, &who, &report, &data)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetachedRequest {
    /// The signed content, base64.
    pub document: String,
    /// The detached CMS signature (.p7s), base64.
    pub signature: String,
}

/// Validate a detached CMS signature over a document.
#[utoipa::path(post, path = "/v1/verify/detached", operation_id = "verify_detached", tag = "verification",
    request_body = DetachedRequest,
    responses((status = 200, description = "the validation report", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 405, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn verify_detached(
    State(st): State<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    Extension(who): Extension<ClientKey>,
    held: Option<Extension<Held>>,
    req: Result<Json<DetachedRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = req?;
    let doc = b64("document", &req.document)?;
    drop(req.document);
    let sig = b64("signature", &req.signature)?;
    drop(req.signature);
    let (report, data) = run_verify(&st, &id, doc.into(), Some(sig), held.map(|h| h.0)).await?;
    report_response(&st, &who, &report, &data)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArchivedQuery {
    /// SHA-256 of the document, hex (the `X-Content-SHA256` of `/v1/verify`): always needed —
    /// the answer is for someone who holds the document, and record ids cannot be enumerated
    /// to collect citizens' document codes. A lookup that finds the document is logged with
    /// the caller (once an hour for the same caller, document and answer).
    pub sha256: String,
    /// Only this record (optional; agencies only — the public asks about the document).
    pub record: Option<u64>,
    /// Only records under this document code (optional).
    pub code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ArchivedResponse {
    pub archived: bool,
    pub record: Option<u64>,
    /// `valid`, `superseded`, `revoked`, `expired`: of the record that decides, when the archive
    /// holds this exact document more than once (e.g. issued by one agency, archived again by
    /// another): a revocation of any of them first, then a supersession, then an expiry, else
    /// the first archived (among equals, the oldest).
    pub status: Option<String>,
    /// The agency whose record that is (whose word the status is); absent for a record that
    /// names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// How many records of this exact document matched (the one shown decides, as above).
    pub copies: u64,
    /// Some of them have another status than the one shown (ask by `code` or, for agencies,
    /// `record` to see each).
    pub copies_differ: bool,
    /// Asked with a `code` (or, for agencies, a `record`): the weightiest status among the
    /// copies outside it (`revoked`, `superseded`, `expired`), when it is weightier than
    /// `status` — another agency's copy of these bytes, or the issuer's, says otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elsewhere_status: Option<String>,
    /// For the public: the status is another copy's than the record shown (the first archived
    /// of those asked about, whose ingest event and proof these are); whose copy, and under
    /// which code, is not said.
    pub another_copy_decides: bool,
    /// The full status (e.g. which record supersedes it; a revocation's reason only for
    /// agencies, not for the public).
    #[schema(value_type = Object)]
    pub status_detail: Option<serde_json::Value>,
    /// The ingest event (its canonical JSON, the log entry's bytes).
    pub event: Option<String>,
    pub leaf_index: Option<u64>,
    /// RFC 9162 leaf hash, hex.
    pub leaf_hash: Option<String>,
    /// The tree size of `checkpoint`, which `inclusion_proof` proves against.
    pub tree_size: Option<u64>,
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint (C2SP signed note).
    pub checkpoint: Option<String>,
}

/// Does the archive hold this document, is it still valid, and the proof: the ingest event,
/// its inclusion proof and the signed checkpoint it proves against.
#[utoipa::path(get, path = "/v1/verify/archived", operation_id = "archived", tag = "verification",
    params(ArchivedQuery),
    responses((status = 200, body = ArchivedResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 500, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn archived(
    State(st): State<Shared>,
    Extension(idt): Extension<Arc<Identity>>,
    q: Result<Query<ArchivedQuery>, QueryRejection>,
) -> ApiResult<Json<ArchivedResponse>> {
    let Query(q) = q?;
    let store = st.store.clone();
    blocking(move || -> ApiResult<ArchivedResponse> {
        let Some(sha) = Some(q.sha256.as_str())
            .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            return Err(ApiError::bad(
                "sha256: the document's SHA-256, 64 hex digits",
            ));
        };
        let public = idt.address.is_some();
        if public && q.record.is_some() {
            return Err(ApiError::bad(
                "record: the public asks about the document (sha256, and a code if you like); record numbers are for agencies",
            ));
        }
        let decided = store.deciding_copy(
            sha,
            (q.code.as_deref(), q.record),
            &idt.user,
            "verification: does the archive hold this document",
            public,
        )?;
        let another = decided.another;
        let (copies, copies_differ, elsewhere_status) =
            (decided.copies, decided.copies_differ, decided.elsewhere);
        let Some((r, status)) = decided.record else {
            return Ok(ArchivedResponse {
                archived: false,
                record: None,
                copies: 0,
                copies_differ: false,
                elsewhere_status: None,
                another_copy_decides: false,
                agency: None,
                status: None,
                status_detail: None,
                event: None,
                leaf_index: None,
                leaf_hash: None,
                tree_size: None,
                inclusion_proof: Vec::new(),
                checkpoint: None,
            });
        };
        // The lookup is logged (a read); an answer that cannot be proved (no checkpoint can be
        // signed: 503) leaves that event, and the next lookup is logged again rather than
        // taken as said (it stood for the 200 after it; helper 190).
        let proved = store.checkpoint(r.leaf + 1).and_then(|(size, note)| {
            let proof = store.inclusion(r.leaf, size)?;
            Ok((size, note, proof))
        });
        let (size, note, proof) = match proved {
            Ok(p) => p,
            Err(e) => {
                store.forget_lookup(&idt.user, &sha.to_ascii_lowercase());
                return Err(e.into());
            }
        };
        Ok(ArchivedResponse {
            archived: true,
            record: Some(r.id),
            copies,
            copies_differ,
            elsewhere_status,
            another_copy_decides: another,
            // Whose word the status is — not said to the public when it is another copy's.
            agency: if another { None } else { r.agency.clone() },
            status: Some(status.name().into()),
            status_detail: match &status {
                // A reason is free text a clerk wrote; it may name a person; another copy's
                // superseding record is not the public's to learn.
                kyso_archive::Status::Revoked { .. } if public => {
                    Some(serde_json::json!({"state": "revoked"}))
                }
                kyso_archive::Status::SupersededBy { .. } if public && another => {
                    Some(serde_json::json!({"state": "superseded_by"}))
                }
                s => serde_json::to_value(s).ok(),
            },
            event: Some(String::from_utf8_lossy(&store.event(r.leaf)?).into_owned()),
            leaf_index: Some(r.leaf),
            leaf_hash: Some(hex::encode(store.leaf_hash(r.leaf)?)),
            tree_size: Some(size),
            inclusion_proof: proof.iter().map(hex::encode).collect(),
            checkpoint: Some(note),
        })
    })
    .await?
    .map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_bombs_are_seen_and_real_nesting_is_not() {
        let mut bomb = [0x30u8, 0x80].repeat(100_000);
        bomb.extend([0u8, 0].repeat(100_000));
        assert!(ber_too_deep(&bomb, 256));
        // definite lengths, 300 deep
        let mut d = vec![0x04, 0x00];
        for _ in 0..300 {
            let mut n = vec![0x30, 0x82, (d.len() >> 8) as u8, d.len() as u8];
            n.extend(d);
            d = n;
        }
        assert!(ber_too_deep(&d, 256));
        assert!(!ber_too_deep(&d, 400));
        // flat data and garbage are not "deep"
        assert!(!ber_too_deep(&[0x04, 0x03, 1, 2, 3], 4));
        assert!(!ber_too_deep(b"%PDF-1.7 not BER at all", 4));
    }
}
