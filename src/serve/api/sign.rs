//! Signing: with a key the service holds (one document or a batch), two-phase remote signing
//! for an official's USB token on a desk PC (the handle belongs to the caller who prepared it),
//! and the internal RFC 3161 TSA.

use super::verify::CancelOnDrop;
use super::{b64, to_b64};
use crate::serve::auth::{CertMatch, Identity};
use crate::serve::budget::Held;
use crate::serve::error::{ApiError, ApiResult, Code, ErrorBody};
use crate::serve::server::{blocking, reserve_answer, subject, ClientKey, Shared};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use kyso_signer::remote::{self, Pending, RemoteFormat};
use kyso_signer::{cades, pades, PadesOptions};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use utoipa::ToSchema;

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A PDF signature as an incremental update (ETSI.CAdES.detached).
    #[default]
    Pades,
    /// CMS SignedData, detached (default) or attached.
    Cades,
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Level {
    #[default]
    #[serde(rename = "B-B")]
    BB,
    /// With a signature time-stamp from the service's TSA.
    #[serde(rename = "B-T")]
    BT,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignDocument {
    /// A name to find this document in the answer by.
    pub name: String,
    /// The document, base64.
    pub content: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The configured key's name (default: the only key, when there is one).
    pub key: Option<String>,
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub level: Level,
    /// CAdES: put the content inside the signature.
    #[serde(default)]
    pub attached: bool,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// One or more documents (at most `limits.batch_documents`).
    #[serde(deserialize_with = "documents")]
    pub documents: Vec<SignDocument>,
}

/// The most documents a batch may hold, whatever `limits.batch_documents` says: parsing
/// stops past them.
pub const MAX_BATCH_DOCUMENTS: usize = 10_000;

fn documents<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SignDocument>, D::Error> {
    super::at_most(d, MAX_BATCH_DOCUMENTS)
}

fn chain<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    // Well past MAX_CHAIN, which the handler says precisely (an item may hold several PEMs).
    super::at_most(d, 64)
}

#[derive(Serialize, ToSchema)]
pub struct SignedDocument {
    pub name: String,
    /// The signed PDF (PAdES) or the CMS (CAdES), base64; absent when signing failed.
    pub content: Option<String>,
    /// SHA-256 of `content`, hex.
    pub sha256: Option<String>,
    /// Why this document was not signed: not a PDF, encrypted, damaged, a signature already
    /// in it fails (naming that signature and what broke), the token failed.
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SignResponse {
    pub signed: usize,
    pub failed: usize,
    /// The signer's certificate subject.
    pub signer: String,
    /// e.g. `PAdES-B-T`.
    pub format: String,
    pub documents: Vec<SignedDocument>,
}

fn format_name(f: Format, l: Level) -> String {
    format!(
        "{}-{}",
        match f {
            Format::Pades => "PAdES",
            Format::Cades => "CAdES",
        },
        match l {
            Level::BB => "B-B",
            Level::BT => "B-T",
        }
    )
}

fn text_field(name: &str, v: &Option<String>) -> ApiResult<()> {
    if let Some(s) = v {
        if s.len() > 256 || s.chars().any(char::is_control) {
            return Err(ApiError::bad(format!(
                "{name}: at most 256 characters, no control characters"
            )));
        }
    }
    Ok(())
}

/// Sign one document or a batch with a key the service holds. Every signature is logged in the
/// archive with the caller as its user.
#[utoipa::path(post, path = "/v1/sign", operation_id = "sign", tag = "signing",
    request_body = SignRequest,
    responses((status = 200, body = SignResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "the caller lacks the signer role, or the key is not one its entry names (keys) — a name no key has is answered alike", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "too_many_in_flight: the caller's answers not yet sent hold its share of bytes in flight (a batch's answer is reserved before signing); Retry-After", body = ErrorBody),
        (status = 503, description = "the service holds as many bytes in flight as it takes", body = ErrorBody)))]
pub async fn sign(
    State(st): State<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    Extension(who): Extension<ClientKey>,
    held: Option<Extension<Held>>,
    req: Result<Json<SignRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = req?;
    let max = st.cfg.limits.batch_documents;
    if req.documents.is_empty() || req.documents.len() > max {
        return Err(ApiError::bad(format!("documents: between 1 and {max}")));
    }
    text_field("reason", &req.reason)?;
    text_field("location", &req.location)?;
    if req.format == Format::Pades && req.attached {
        return Err(ApiError::bad("attached is for format cades"));
    }
    // The keys this caller may sign with (`keys` of its entries; none said: every key, which
    // the configuration allows only when the service has one).
    let allowed: Vec<&String> = st
        .keys
        .keys()
        .filter(|k| id.keys.as_ref().is_none_or(|ks| ks.contains(k)))
        .collect();
    let key = match &req.key {
        // A key that is not the caller's and one that does not exist are answered alike: a
        // signer told the second apart learnt which key names the appliance has (an attacker's
        // reading, 2026-12-04).
        Some(k) if !allowed.contains(&k) => {
            return Err(ApiError::forbidden(format!(
                "key {k:?} is not one {} signs with: its keys are {allowed:?} (keys in its configuration entry)",
                id.user
            )))
        }
        Some(k) => st.keys.get(k),
        None if allowed.len() == 1 => st.keys.get(allowed[0]),
        None => None,
    }
    .ok_or_else(|| ApiError::bad(format!("key: one of {allowed:?}")))?;
    // Its certificate, judged now as a verifier judges a signer's: expired since the service
    // started, say, it signs nothing that any verifier would then refuse.
    let cert = kyso_hsm::SigningKey::certificate(key.key.as_ref());
    if let Some(why) = kyso_signer::unfit_to_sign(cert, SystemTime::now()) {
        return Err(ApiError::new(
            Code::CannotSign,
            format!(
                "the certificate of this key ({}) cannot sign documents now: {why}",
                cert.tbs_certificate.subject
            ),
        ));
    }
    let tsa = match req.level {
        Level::BB => None,
        Level::BT => Some(
            key.tsa
                .clone()
                .ok_or_else(|| ApiError::bad("level B-T: this service has no TSA configured"))?,
        ),
    };
    let mut inputs = Vec::with_capacity(req.documents.len());
    for (i, d) in req.documents.iter().enumerate() {
        inputs.push((
            d.name.clone(),
            b64(&format!("documents[{i}].content"), &d.content)?,
        ));
    }
    drop(req.documents);
    // Room for the answer before any signing: each document signed, as base64, with what a
    // signature adds (a time-stamp and certificates: 18.6 MB answered 500 tiny documents in
    // a 302 KB request, held unread outside every limit; found by an attacker's reading,
    // 2026-12-03).
    let adds = match (req.format, req.attached) {
        (Format::Pades, _) => PADES_ROOM,
        (Format::Cades, true) => CADES_ROOM,
        // A detached signature answers the signature alone.
        (Format::Cades, false) => 0,
    };
    let answer: usize = inputs
        .iter()
        .map(|(_, d)| {
            let out = if adds == 0 {
                CADES_ROOM
            } else {
                d.len() + adds
            };
            out.div_ceil(3) * 4
        })
        .sum();
    let room = reserve_answer(&st, &who, answer, held.as_ref().map(|h| &h.0))?;
    let opts = Arc::new(PadesOptions {
        reason: req.reason,
        location: req.location,
        ..PadesOptions::vietnam()
    });
    let signer = subject(key.key.as_ref());
    let fmt = format_name(req.format, req.level);
    // One blocking task per document, as many at once as the key has sessions.
    let sem = Arc::new(tokio::sync::Semaphore::new(st.cfg.token.sessions));
    // Fires when this request is gone (answered, timed out, or its client left): a document
    // not begun by then is not signed, and one being read is stopped. Each signature costs
    // token time and leaves a permanent log event; a batch whose caller gets a 408 went on
    // signing thousands of them.
    let gone = kyso_verify::Stop::new(None);
    let _gone = CancelOnDrop(gone.clone());
    let secs = st.cfg.limits.validation_secs();
    let memory = st.cfg.limits.validation_memory();
    let mib = st.cfg.limits.validation_memory_mib;
    let mut tasks = Vec::new();
    for (name, data) in inputs {
        let (k, tsa, opts, sem) = (key.key.clone(), tsa.clone(), opts.clone(), sem.clone());
        let (gone, shared) = (gone.clone(), st.clone());
        let (format, attached) = (req.format, req.attached);
        let store = st.store.clone();
        let (user, signer, fmt) = (id.user.clone(), signer.clone(), fmt.clone());
        // The documents' bytes stay reserved while a task holds one.
        let held = held.as_ref().map(|h| h.0.clone());
        tasks.push(tokio::spawn(async move {
            let _held = held;
            let _p = sem.acquire_owned().await;
            // Then the service's: this request queues at most its own sessions' worth of
            // documents for it, so the requests take turns.
            let _r = shared.sign_readings.clone().acquire_owned().await;
            if gone.fired() {
                let why = "not signed: the request was gone before it began".to_string();
                return (name, Ok(Err((false, why))));
            }
            // Err((the token failed, message))
            let r = blocking(move || -> Result<Vec<u8>, (bool, String)> {
                let now = SystemTime::now();
                // Reading the document is an upload's reading like a validation's, under the
                // same limit from when it begins (a hostile PDF had held the thread and the
                // key's session permit past the request's end); the token's work is not cut.
                let deadline = Instant::now().checked_add(Duration::from_secs(secs));
                let stop = gone.child_within(deadline, Some(memory));
                let out = stop.run(|| match format {
                    Format::Pades => pades::sign_pdf(k.as_ref(), &data, now, &opts, tsa.as_ref()),
                    Format::Cades => {
                        cades::sign_cades(k.as_ref(), &data, attached, now, tsa.as_ref())
                    }
                });
                crate::serve::api::verify::after_job(&shared, &stop, "signing");
                if stop.heeded() {
                    // Whatever it returned is no answer (it is neither released nor logged).
                    drop(out);
                    if gone.fired() {
                        let why = "not signed: the request was gone before its reading ended";
                        return Err((false, why.to_string()));
                    }
                    let (limit, what) = if stop.over_memory() {
                        ("validation_memory_mib", format!("needed more than {mib} MiB"))
                    } else {
                        ("validation_secs", format!("ran past {secs} s"))
                    };
                    shared.metrics.limited.with_label_values(&[limit]).inc();
                    tracing::warn!(
                        user = %user,
                        "reading a document to sign {what} (limits.{limit}) and was stopped"
                    );
                    return Err((false, format!(
                        "not signed: reading the document {what} (limits.{limit}) and was stopped (the operator sets the limit)"
                    )));
                }
                let out = out.map_err(|e| {
                    (
                        matches!(e, kyso_signer::SignError::Token(_)),
                        crate::serve::error::with_hint(&e),
                    )
                })?;
                let sha = ring::digest::digest(&ring::digest::SHA256, &out);
                store
                    .log_signature(sha.as_ref(), signer, &fmt, &user)
                    .map_err(|e| {
                        (
                            false,
                            format!("signed, but the signature could not be logged: {e}"),
                        )
                    })?;
                Ok(out)
            })
            .await;
            (name, r)
        }));
    }
    let mut documents = Vec::new();
    for t in tasks {
        let (name, r) = t.await.map_err(ApiError::from)?;
        documents.push(match r {
            Ok(Ok(out)) => {
                st.metrics
                    .signatures
                    .with_label_values(&["server_key"])
                    .inc();
                SignedDocument {
                    name,
                    sha256: Some(hex::encode(ring::digest::digest(
                        &ring::digest::SHA256,
                        &out,
                    ))),
                    content: Some(to_b64(&out)),
                    error: None,
                }
            }
            Ok(Err((token, e))) => {
                if token {
                    st.metrics.token_errors.inc();
                }
                SignedDocument {
                    name,
                    content: None,
                    sha256: None,
                    error: Some(e),
                }
            }
            Err(e) => SignedDocument {
                name,
                content: None,
                sha256: None,
                error: Some(e.message),
            },
        });
    }
    let failed = documents.iter().filter(|d| d.error.is_some()).count();
    let mut resp = Json(SignResponse {
        signed: documents.len() - failed,
        failed,
        signer,
        format: fmt,
        documents,
    })
    .into_response();
    resp.extensions_mut().insert(room);
    Ok(resp)
}

/// What a signature adds to a document, as a batch's answer reserves it: PAdES, the container
/// it reserves (as hex, with a time-stamp and the certificates); CAdES, the SignedData.
const PADES_ROOM: usize = 48 << 10;
const CADES_ROOM: usize = 16 << 10;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrepareRequest {
    #[serde(default)]
    pub format: Format,
    /// CAdES: put the content inside the signature.
    #[serde(default)]
    pub attached: bool,
    /// The official's certificate, PEM (from the USB token): exactly one.
    pub certificate: String,
    /// Certificates above it, PEM (at most 8 in all).
    #[serde(default, deserialize_with = "chain")]
    pub chain: Vec<String>,
    /// e.g. `rsa-pkcs1-sha256`, `ecdsa-sha256` (default: from the certificate's key).
    pub algorithm: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// Finalize will add a time-stamp from the service's TSA (B-T).
    #[serde(default)]
    pub timestamped: bool,
    /// The document, base64.
    pub document: String,
}

#[derive(Serialize, ToSchema)]
pub struct PrepareResponse {
    /// Give this to finalize; only the caller who prepared may finalize.
    pub handle: String,
    /// What the token signs, hex (a pre-hashed digest: docs/remote-signing.md).
    pub digest: String,
    pub digest_algorithm: String,
    pub algorithm: String,
    /// Seconds the handle stays valid.
    pub expires_in: u64,
    /// What the document was prepared with (format, algorithm, signing time, reason,
    /// location, the bytes reserved): the desk prepares the document it holds by it, for its
    /// token's certificate, and signs `digest` only if it gets the same (`kyso sign digest
    /// --prepared ANSWER --document FILE`; docs/remote-signing.md, "The desk check").
    #[schema(value_type = Object)]
    pub recipe: remote::Recipe,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinalizeRequest {
    pub handle: String,
    /// The token's signature over `digest`, hex.
    pub signature: String,
}

#[derive(Serialize, ToSchema)]
pub struct FinalizeResponse {
    /// The signed PDF (PAdES) or the CMS (CAdES), base64.
    pub content: String,
    pub sha256: String,
    pub format: String,
}

struct Entry {
    owner: String,
    at: Instant,
    pending: Pending,
    pdf: Option<Vec<u8>>,
    timestamped: bool,
    phase: Phase,
}

/// Where a prepared signature is in its life.
enum Phase {
    /// Waiting for its finalize.
    Waiting,
    /// Being finalized now: what it holds was taken for the work.
    Busy,
    /// Finalized: the answer, kept for the rest of the handle's time to live.
    Finished(Finished),
}

/// A finalize's answer, for a retry with the same signature: a finalize whose answer was lost
/// (a dropped connection, a proxy's timeout) was logged, and its retry answered 404, the
/// signed document gone and the official to sign again (helper 221).
#[derive(Clone)]
struct Finished {
    /// SHA-256 of the signature value it was finalized with.
    signature: [u8; 32],
    out: Arc<Vec<u8>>,
    /// SHA-256 of `out`, hex.
    sha256: String,
    format: String,
}

/// What [`PendingStore::take`] found.
enum Taken {
    /// To finalize now (marked busy in the store until [`PendingStore::finish`] or
    /// [`PendingStore::put_back`]).
    Fresh(Box<Entry>),
    /// Finalized already with this signature: its answer.
    Again(Finished),
}

impl Entry {
    /// Bytes it keeps in memory.
    fn bytes(&self) -> usize {
        let answer = match &self.phase {
            Phase::Finished(f) => f.out.len(),
            _ => 0,
        };
        answer
            + self.pdf.as_ref().map_or(0, Vec::len)
            + self
                .pending
                .attached_content
                .as_ref()
                .map_or(0, String::len)
            + self.pending.signed_attributes.len()
            + self.pending.certificate.len()
            + self.pending.chain.iter().map(String::len).sum::<usize>()
    }
}

/// Prepared remote signatures waiting for their token signature, by handle: at most
/// `limits.remote_pending_per_user` of one user, `limits.remote_pending_bytes_per_user` bytes
/// of one user, and `limits.remote_pending_bytes` of all. A user over its share gets 429 and
/// others are not affected; only when all users together hold the whole does anyone get 503.
pub struct PendingStore {
    per_user: usize,
    bytes_all: usize,
    bytes_per_user: usize,
    ttl: Duration,
    map: Mutex<HashMap<String, Entry>>,
    /// The signed data (its digest) finalized, or being finalized, within the last `ttl`:
    /// a token signature over it finalizes once. Prepared again within the same second, the
    /// same document has the same digest, and the one signature finalized a second handle
    /// (two signature events; found by an attacker's reading, 2026-12-03) — also another
    /// user's, who lists the same certificate (keyed by owner and digest, it did: two events,
    /// the second naming a user the official never signed for; 2026-12-04).
    done: Mutex<HashMap<String, Instant>>,
}

/// Most finalized digests remembered (expired ones are dropped first).
const MAX_DONE: usize = 100_000;

impl PendingStore {
    pub fn new(l: &crate::serve::config::Limits) -> Self {
        PendingStore {
            per_user: l.remote_pending_per_user,
            bytes_all: l.remote_pending_bytes,
            bytes_per_user: l.remote_pending_bytes_per_user,
            ttl: Duration::from_secs(l.remote_pending_secs),
            map: Mutex::new(HashMap::new()),
            done: Mutex::new(HashMap::new()),
        }
    }

    /// Drop answers kept for a retry, oldest first (`last`'s last of all), while all that is
    /// kept and `more` bytes would pass `remote_pending_bytes`: they are kept only for a retry,
    /// and must not stand in the way of what waits (helper 222 found them past the limit).
    fn evict_answers(&self, m: &mut HashMap<String, Entry>, more: usize, last: Option<&str>) {
        let mut all: usize = m.values().map(Entry::bytes).sum();
        if all + more <= self.bytes_all {
            return;
        }
        let mut answers: Vec<(bool, Instant, String)> = m
            .iter()
            .filter(|(_, x)| matches!(x.phase, Phase::Finished(_)))
            .map(|(h, x)| (Some(h.as_str()) == last, x.at, h.clone()))
            .collect();
        answers.sort_unstable();
        for (_, _, h) in answers {
            if all + more <= self.bytes_all {
                break;
            }
            if let Some(x) = m.remove(&h) {
                all -= x.bytes();
            }
        }
    }

    /// May `owner` keep `more` bytes more? Refuses with Retry-After: when the oldest entry
    /// that stands in the way expires. Answers kept for a retry (finalized) do not count
    /// against the caller's share, and are dropped when all that is kept stands in the way.
    fn room(&self, m: &mut HashMap<String, Entry>, owner: &str, more: usize) -> ApiResult<()> {
        self.evict_answers(m, more, None);
        let m = &*m;
        let left = |e: &Entry| self.ttl.saturating_sub(e.at.elapsed()).as_secs() + 1;
        let mine = || {
            m.values()
                .filter(|x| x.owner == owner && !matches!(x.phase, Phase::Finished(_)))
        };
        let oldest_mine = || mine().map(left).min().unwrap_or(1);
        if mine().count() >= self.per_user {
            return Err(ApiError::new(
                Code::TooManyPending,
                format!(
                    "{} prepared signatures of yours are waiting; finalize them or let them expire",
                    self.per_user
                ),
            )
            .retry_after(oldest_mine()));
        }
        let my_bytes: usize = mine().map(Entry::bytes).sum();
        if my_bytes + more > self.bytes_per_user {
            return Err(ApiError::new(
                Code::TooManyPending,
                format!(
                    "your prepared documents would hold {} bytes, more than your share ({} bytes, limits.remote_pending_bytes_per_user); finalize some or let them expire",
                    my_bytes + more,
                    self.bytes_per_user
                ),
            )
            .retry_after(oldest_mine()));
        }
        let all: usize = m.values().map(Entry::bytes).sum();
        if all + more > self.bytes_all {
            let oldest = m.values().map(left).min().unwrap_or(1);
            return Err(ApiError::unavailable(
                "too many prepared documents wait for their signatures; retry later",
            )
            .retry_after(oldest));
        }
        Ok(())
    }

    /// Refuse early, before the work of preparing, a document that would not fit.
    fn admit(&self, owner: &str, estimate: usize) -> ApiResult<()> {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let ttl = self.ttl;
        m.retain(|_, x| x.at.elapsed() < ttl);
        self.room(&mut m, owner, estimate)
    }

    /// Keep `e` under a new handle: the handle and the seconds it lives.
    fn insert(&self, e: Entry) -> ApiResult<(String, u64)> {
        let mut b = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
            .map_err(|_| ApiError::internal("no randomness"))?;
        let handle = hex::encode(b);
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let ttl = self.ttl;
        m.retain(|_, x| x.at.elapsed() < ttl);
        // What this caller prepared already and is waiting (the same signed data: the same
        // document within the same second) keeps its handle: one token signature finalizes
        // one handle, and is one signature event (found by an attacker's reading, 2026-12-02:
        // three prepares, one signature, three events). The same signed data asked for with
        // other options (attached, time-stamped; a CAdES digest does not show them) is refused
        // rather than answered with a handle that would finalize otherwise than asked.
        if let Some((h, x)) = m.iter().find(|(_, x)| {
            matches!(x.phase, Phase::Waiting) && x.pending.digest == e.pending.digest
        }) {
            // Another user's, waiting: one token signature would finalize both.
            if x.owner != e.owner {
                return Err(ApiError::new(
                    Code::RequestConflict,
                    "the same signed data (this certificate, this document, this second) is prepared and waiting for another user: one token signature signs once; prepare again in a second",
                )
                .retry_after(1));
            }
            if x.pending == e.pending && x.pdf == e.pdf && x.timestamped == e.timestamped {
                return Ok((h.clone(), ttl.saturating_sub(x.at.elapsed()).as_secs()));
            }
            return Err(ApiError::new(
                Code::RequestConflict,
                "the same signed data is prepared and waiting with other options (attached or time-stamped): finalize that one, or prepare again in a second",
            ));
        }
        if self
            .done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&e.pending.digest)
            .is_some_and(|at| at.elapsed() < ttl)
        {
            return Err(ApiError::new(
                Code::RequestConflict,
                "the same signed data was finalized (or is being finalized) already: one token signature signs once; prepare again in a second for another signature",
            )
            .retry_after(1));
        }
        self.room(&mut m, &e.owner, e.bytes())?;
        m.insert(handle.clone(), e);
        Ok((handle, ttl.as_secs()))
    }

    /// Give back an entry whose finalize failed (a wrong signature): the caller may retry
    /// until it expires.
    fn put_back(&self, handle: String, e: Entry) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        self.done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&e.pending.digest);
        m.insert(handle, e);
    }

    /// Forget a handle whose entry was lost (the work on it stopped).
    fn forget(&self, handle: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(handle);
    }

    /// Keep a finalize's answer under its handle, in place of what was taken, until the
    /// handle would have expired (within the same memory limits as what waits).
    fn finish(&self, handle: &str, f: Finished) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = m.get_mut(handle) {
            e.phase = Phase::Finished(f);
        }
        self.evict_answers(&mut m, 0, Some(handle));
    }

    /// Take the entry if it exists, is fresh and belongs to `owner`, marking it busy; or, if
    /// it was finalized with the signature whose SHA-256 is `signature`, its answer. Another
    /// caller's handle looks exactly like one that does not exist; one being finalized, or
    /// finalized with another signature, is a conflict (a wrong and a right signature sent
    /// at once got a 404 for the right one; helper 221).
    fn take(&self, handle: &str, owner: &str, signature: [u8; 32]) -> ApiResult<Taken> {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let e = match m.get_mut(handle) {
            Some(e) if e.owner == owner && e.at.elapsed() < self.ttl => e,
            _ => {
                return Err(ApiError::not_found(
                    "no such prepared signature (unknown, expired, finalized, or not yours)",
                ))
            }
        };
        match &e.phase {
            Phase::Busy => Err(ApiError::new(
                Code::RequestConflict,
                "this prepared signature is being finalized; ask again in a moment",
            )
            .retry_after(1)),
            Phase::Finished(f) if f.signature == signature => Ok(Taken::Again(f.clone())),
            Phase::Finished(_) => Err(ApiError::new(
                Code::RequestConflict,
                "this prepared signature was finalized already, with another signature value",
            )),
            Phase::Waiting => {
                // What it holds is taken for the work (the document, an attached content); a
                // busy placeholder stays.
                let attached = e.pending.attached_content.take();
                let mut pending = e.pending.clone();
                pending.attached_content = attached;
                let taken = Entry {
                    owner: e.owner.clone(),
                    at: e.at,
                    pending,
                    pdf: e.pdf.take(),
                    timestamped: e.timestamped,
                    phase: Phase::Waiting,
                };
                e.phase = Phase::Busy;
                let e = taken;
                let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
                if done.len() >= MAX_DONE {
                    let ttl = self.ttl;
                    done.retain(|_, at| at.elapsed() < ttl);
                    if done.len() >= MAX_DONE {
                        // All fresh: the oldest go (a same-second prepare is long past).
                        let mut ats: Vec<Instant> = done.values().copied().collect();
                        ats.sort_unstable();
                        let cut = ats[ats.len() / 2];
                        done.retain(|_, at| *at > cut);
                    }
                }
                done.insert(e.pending.digest.clone(), Instant::now());
                Ok(Taken::Fresh(Box::new(e)))
            }
        }
    }
}

/// May `id` sign with `cert` (the certificate its official's USB token holds)? It must be one
/// the configuration lists for that user (`signing_certs`: else 403), chain to the appliance's
/// trust anchors, be valid now, allow signing documents (keyUsage digitalSignature or
/// nonRepudiation, no CA, an extendedKeyUsage for signing if any) and not be revoked by the
/// CRLs and OCSP responses at hand (else 422) — as kyso-verify judges a signer's path.
fn check_signing_certificate(
    st: &Shared,
    id: &Identity,
    cert: &kyso_verify::CertRef,
    chain: &[kyso_verify::CertRef],
) -> ApiResult<()> {
    use kyso_verify::path::{self, revocation};
    let who = format!(
        "the certificate {} (SHA-256 {})",
        cert.subject_string(),
        hex::encode(cert.fingerprint())
    );
    if !id.signing_certs.iter().any(|m| m.matches(cert)) {
        return Err(ApiError::forbidden(format!(
            "{who} is not one {} signs with (signing_certs in the configuration)",
            id.user
        )));
    }
    let v = st.validator();
    let pool: Vec<kyso_verify::CertRef> = chain.iter().chain(v.certs.iter()).cloned().collect();
    let found = path::build(cert, &pool, &v.anchors).map_err(|e| {
        ApiError::new(
            Code::CannotSign,
            format!("{who} does not lead to the appliance's trust anchors: {e}"),
        )
    })?;
    // An entry by subject and issuer holds the issuer to a certificate of [trust] (an anchor,
    // or one of trust.certs), not one the caller sent along: by name alone, a CA certificate
    // another trusted CA issued under the official's CA's name would stand in for it (as it
    // did for client certificates; helper 232).
    let by_fingerprint = id
        .signing_certs
        .iter()
        .any(|m| matches!(m, CertMatch::Sha256(_)) && m.matches(cert));
    let trusted = |c: &kyso_verify::CertRef| {
        v.anchors
            .iter()
            .chain(v.certs.iter())
            .any(|t| t.fingerprint() == c.fingerprint())
    };
    if !by_fingerprint && !found.get(1).is_some_and(trusted) {
        return Err(ApiError::forbidden(format!(
            "{who} is listed for {} by subject and issuer, and was issued by a certificate not in [trust] (anchors or certs): list its CA there, or the certificate by sha256",
            id.user
        )));
    }
    let now = SystemTime::now();
    if let Some(p) = path::check(&found, now, path::Purpose::Signer).first() {
        return Err(ApiError::new(
            Code::CannotSign,
            format!("{who} cannot sign now: {p}"),
        ));
    }
    for pair in found.windows(2) {
        let data = revocation::Data {
            crls: &v.crls,
            ocsps: &v.ocsps,
        };
        if let revocation::Status::Revoked(at) =
            revocation::status(&pair[0], &pair[1], data, now, now, None).status
        {
            return Err(ApiError::new(
                Code::CannotSign,
                format!(
                    "{} was revoked on {}",
                    pair[0].subject_string(),
                    kyso_verify::revoked_when(at)
                ),
            ));
        }
    }
    Ok(())
}

/// Most certificates `chain` may give (a national root, a CA or two, and cross-certificates).
const MAX_CHAIN: usize = 8;

/// The PEM of a signer's certificate and its chain, together, at most: certificates are a few
/// KiB each, and what a PAdES signature reserves for them must stay within what a desk
/// accepts (`kyso_signer::remote::MAX_RESERVE`, 1 MiB).
const MAX_CERTIFICATE_PEM: usize = 256 << 10;

/// The certificates of a PEM field, read once: each as checked (kyso-verify's reading of the
/// bytes received) and as embedded (decoded from those same bytes). Two readers of the text
/// found different certificates in one field — one skipped a `TRUSTED CERTIFICATE` block the
/// other took — so the signature embedded a certificate no check had seen.
fn pem_certs(
    field: &str,
    s: &str,
) -> ApiResult<Vec<(kyso_verify::CertRef, x509_cert::Certificate)>> {
    let certs = kyso_verify::x509::load_certificates(s.as_bytes())
        .map_err(|e| ApiError::bad(format!("{field}: {e}")))?;
    certs
        .into_iter()
        .map(|c| {
            // DER as kyso writes it back: one re-encoded was embedded, and finalize refused
            // it with a wrong reason after the official had signed (helper 180).
            let x = kyso_hsm::key::der_certificate(c.der()).map_err(|e| {
                ApiError::bad(format!("{field}: not a DER-encoded certificate: {e}"))
            })?;
            Ok((c, x))
        })
        .collect()
}

/// Two-phase remote signing, step 1: prepare a document for an official's token. The answer's
/// digest is what the token signs; the handle is bound to the caller. What the caller prepared
/// and has not finalized, prepared again (the same digest), answers the same handle.
#[utoipa::path(post, path = "/v1/sign/remote/prepare", operation_id = "remote_prepare", tag = "signing",
    request_body = PrepareRequest,
    responses((status = 200, body = PrepareResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "the certificate is not one the caller signs with (signing_certs)", body = ErrorBody),
        (status = 409, description = "request_conflict: the same signed data is prepared and waiting with other options, or was finalized already (Retry-After: 1)", body = ErrorBody),
        (status = 405, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, description = "cannot_sign: the certificate does not chain to the trust anchors, is not valid now, may not sign, or is revoked; or the document cannot be prepared (not a PDF, encrypted, damaged, or an earlier signature in it already fails); too_slow: reading the document ran past limits.validation_secs and was stopped, nothing prepared; too_much_memory: reading it held more than limits.validation_memory_mib and was stopped, nothing prepared; unreadable: the reader failed on it", body = ErrorBody),
        (status = 429, description = "too_many_pending: the caller's prepared signatures (count or bytes) are at its share; too_many_in_flight: its validations and preparations queued or running are at limits.verify_queue_per_client; Retry-After", body = ErrorBody),
        (status = 503, description = "all users' prepared documents hold the service's whole store (Retry-After), or the verification threads' queue is full", body = ErrorBody)))]
pub async fn remote_prepare(
    State(st): State<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    held: Option<Extension<Held>>,
    req: Result<Json<PrepareRequest>, JsonRejection>,
) -> ApiResult<Json<PrepareResponse>> {
    let Json(mut req) = req?;
    text_field("reason", &req.reason)?;
    text_field("location", &req.location)?;
    // Certificates are counted and measured before any is parsed or checked: eight junk
    // "certificates" of 3 MiB each took 8.8 s of work and a 25 MB reserve no desk accepts
    // (found by an attacker's reading, 2026-12-03).
    let pem_blocks = |t: &str| t.matches("-----BEGIN").count();
    if req.chain.iter().map(|c| pem_blocks(c)).sum::<usize>() > MAX_CHAIN {
        return Err(ApiError::bad(format!(
            "chain: more than {MAX_CHAIN} certificates"
        )));
    }
    let pem_bytes = req.certificate.len() + req.chain.iter().map(String::len).sum::<usize>();
    if pem_bytes > MAX_CERTIFICATE_PEM {
        return Err(ApiError::bad(format!(
            "certificate and chain: {pem_bytes} bytes of PEM, more than {MAX_CERTIFICATE_PEM}"
        )));
    }
    let mut given = pem_certs("certificate", &req.certificate)?;
    if given.len() != 1 {
        return Err(ApiError::bad(format!(
            "certificate: holds {} certificates; give the signer's alone (those above it go in chain)",
            given.len()
        )));
    }
    let (leaf, cert) = given.remove(0);
    let (mut above, mut chain) = (Vec::new(), Vec::new());
    for (i, c) in req.chain.iter().enumerate() {
        for (checked, embedded) in pem_certs(&format!("chain[{i}]"), c)? {
            above.push(checked);
            chain.push(embedded);
        }
        if above.len() > MAX_CHAIN {
            return Err(ApiError::bad(format!(
                "chain: more than {MAX_CHAIN} certificates"
            )));
        }
    }
    check_signing_certificate(&st, &id, &leaf, &above)?;
    // What the prepared signature will keep: a PAdES document about the document's size, an
    // attached CAdES its hex; refuse now what would not be kept, before the work.
    let size = req.document.len() / 4 * 3;
    let keeps = match (req.format, req.attached) {
        (Format::Pades, _) => size,
        (Format::Cades, true) => 2 * size,
        (Format::Cades, false) => 0,
    };
    st.remote.admit(&id.user, keeps)?;
    let alg = match &req.algorithm {
        Some(a) => kyso_hsm::SignatureAlgorithm::parse(a)
            .ok_or_else(|| ApiError::bad(format!("algorithm: unknown {a:?}")))?,
        None => remote::default_algorithm(&cert)?,
    };
    if req.timestamped && st.tsa.is_none() {
        return Err(ApiError::bad(
            "timestamped: this service has no TSA configured",
        ));
    }
    if req.format == Format::Pades && req.attached {
        return Err(ApiError::bad("attached is for format cades"));
    }
    let data = b64("document", &std::mem::take(&mut req.document))?;
    let timestamped = req.timestamped;
    let format = match req.format {
        Format::Pades => RemoteFormat::Pades,
        Format::Cades => RemoteFormat::Cades,
    };
    let recipe = remote::Recipe {
        reason: req.reason,
        location: req.location,
        reserve: (format == RemoteFormat::Pades)
            .then(|| remote::reserve_for(&cert, &chain, timestamped)),
        attached: req.attached,
        ..remote::Recipe::now(format, alg)
    };
    // On the verification threads, under their time limit: the document is an upload read
    // like any other (a slow one had held a thread past its request's end).
    let r = recipe.clone();
    let (pdf, pending) = super::verify::on_pool(
        &st,
        &id,
        held.map(|h| h.0),
        super::verify::Work::Preparation,
        move || r.prepare(&data, &cert, &chain),
    )
    .await??;
    let resp = PrepareResponse {
        handle: String::new(),
        digest: pending.digest.clone(),
        digest_algorithm: pending.digest_algorithm.clone(),
        algorithm: pending.algorithm.clone(),
        expires_in: st.remote.ttl.as_secs(),
        recipe,
    };
    let (handle, expires_in) = st.remote.insert(Entry {
        owner: id.user.clone(),
        at: Instant::now(),
        pending,
        pdf,
        timestamped,
        phase: Phase::Waiting,
    })?;
    Ok(Json(PrepareResponse {
        handle,
        expires_in,
        ..resp
    }))
}

/// Two-phase remote signing, step 2: the token's signature in, the signed document out. The
/// signature must verify with the prepared certificate over the prepared digest.
#[utoipa::path(post, path = "/v1/sign/remote/finalize", operation_id = "remote_finalize", tag = "signing",
    request_body = FinalizeRequest,
    responses((status = 200, description = "the signed document; sent again, with the same signature, until the handle expires (nothing more signed or logged)", body = FinalizeResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "request_conflict: being finalized (Retry-After), or finalized with another signature value", body = ErrorBody),
        (status = 422, description = "cannot_sign: the signature does not verify over the digest (the handle is kept), or the certificate can no longer sign since it was prepared (expired, revoked, its anchor withdrawn)", body = ErrorBody),
        (status = 429, description = "too_many_in_flight: the caller's answers not yet sent hold its share of bytes in flight; the handle is kept; Retry-After", body = ErrorBody),
        (status = 503, description = "the service holds as many bytes in flight as it takes", body = ErrorBody)))]
pub async fn remote_finalize(
    State(st): State<Shared>,
    Extension(id): Extension<Arc<Identity>>,
    Extension(who): Extension<ClientKey>,
    req: Result<Json<FinalizeRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = req?;
    let signature = hex::decode(req.signature.trim())
        .map_err(|e| ApiError::bad(format!("signature: not hex: {e}")))?;
    if signature.len() > 2048 {
        return Err(ApiError::bad("signature: too long"));
    }
    let signature_sha: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, &signature)
        .as_ref()
        .try_into()
        .expect("32 bytes");
    let e = match st.remote.take(&req.handle, &id.user, signature_sha)? {
        Taken::Fresh(e) => *e,
        // The answer again, to a retry with the same signature: nothing new is signed or
        // logged.
        Taken::Again(f) => {
            let room = reserve_answer(&st, &who, f.out.len() / 3 * 4 + (64 << 10), None)?;
            let mut resp = Json(FinalizeResponse {
                content: to_b64(&f.out),
                sha256: f.sha256,
                format: f.format,
            })
            .into_response();
            resp.extensions_mut().insert(room);
            return Ok(resp);
        }
    };
    // The certificate and its chain were judged at prepare; they are judged again now, as
    // then: one that expired since — up to `remote_pending_secs` later — signed (an
    // attacker's reading, 2026-12-04), and so did one revoked since, or whose anchor was
    // withdrawn: the trust files are read again on a timer and on SIGHUP (helper 166).
    // Read again from the pending state's DER (kept parsed, they doubled what a pending
    // signature holds beyond what its bytes are counted as; helper 168).
    let parsed = |h: &String| {
        hex::decode(h)
            .ok()
            .and_then(|d| kyso_verify::Cert::from_ber(&d).ok())
            .map(Arc::new)
    };
    let judged = match (
        parsed(&e.pending.certificate),
        e.pending
            .chain
            .iter()
            .map(parsed)
            .collect::<Option<Vec<_>>>(),
    ) {
        (Some(signer), Some(above)) => check_signing_certificate(&st, &id, &signer, &above),
        _ => Err(ApiError::new(
            Code::CannotSign,
            "its certificates cannot be read again",
        )),
    };
    if let Err(err) = judged {
        // Given back (not left busy): a retry is told the same.
        st.remote.put_back(req.handle.clone(), e);
        return Err(ApiError::new(
            Code::CannotSign,
            format!(
                "the certificate is no longer valid to sign with ({}): this prepared signature cannot be finalized; prepare again with a valid certificate",
                err.message
            ),
        ));
    }
    // Room for the answer (the signed document, and its base64) until it is sent: a caller
    // that does not read it holds it.
    let room = match reserve_answer(
        &st,
        &who,
        e.bytes() + (e.bytes() + (64 << 10)) / 3 * 4,
        None,
    ) {
        Ok(r) => r,
        Err(err) => {
            st.remote.put_back(req.handle.clone(), e);
            return Err(err);
        }
    };
    let tsa = if e.timestamped {
        st.tsa
            .clone()
            .map(kyso_signer::tsp::TimestampSource::Internal)
    } else {
        None
    };
    let format = match e.pending.format {
        RemoteFormat::Pades => "PAdES",
        RemoteFormat::Cades => "CAdES",
    };
    let fmt = format!(
        "{format}-{} (remote)",
        if e.timestamped { "B-T" } else { "B-B" }
    );
    let (store, user) = (st.store.clone(), id.user.clone());
    let handle = req.handle.clone();
    // The work goes on if the caller goes away (a dropped connection drops this handler): its
    // answer is kept for a retry with the same signature, or the handle given back — never
    // left marked as being finalized.
    let st2 = st.clone();
    let work = tokio::spawn(async move {
        let st = st2;
        let r = blocking(move || {
            let out = remote::finalize(&e.pending, e.pdf.clone(), &signature, tsa.as_ref());
            (out, e)
        })
        .await;
        let (out, e) = match r {
            Ok(r) => r,
            Err(err) => {
                st.remote.forget(&handle);
                return Err(err);
            }
        };
        let out = match out {
            Ok(o) => o,
            Err(err) => {
                // Put it back: the caller may retry with the right signature until it expires.
                st.remote.put_back(handle, e);
                return Err(err.into());
            }
        };
        let signer = x509_cert::Certificate::from_der_hex(&e.pending.certificate);
        let sha = ring::digest::digest(&ring::digest::SHA256, &out);
        let sha_bytes = sha.as_ref().to_vec();
        let fmt2 = fmt.clone();
        if let Err(err) = blocking(move || store.log_signature(&sha_bytes, signer, &fmt2, &user))
            .await
            .and_then(|r| r.map_err(ApiError::from))
        {
            // Not logged, not answered: the caller may finalize it again.
            st.remote.put_back(handle, e);
            return Err(err);
        }
        let out = Arc::new(out);
        st.remote.finish(
            &handle,
            Finished {
                signature: signature_sha,
                out: out.clone(),
                sha256: hex::encode(sha),
                format: fmt.clone(),
            },
        );
        st.metrics.signatures.with_label_values(&["remote"]).inc();
        Ok((out, hex::encode(sha), fmt))
    });
    let (out, sha, fmt) = work.await??;
    let mut resp = Json(FinalizeResponse {
        content: to_b64(&out),
        sha256: sha,
        format: fmt,
    })
    .into_response();
    resp.extensions_mut().insert(room);
    Ok(resp)
}

trait FromDerHex {
    fn from_der_hex(h: &str) -> String;
}

impl FromDerHex for x509_cert::Certificate {
    /// The subject of a hex DER certificate (for the log), or `unknown`.
    fn from_der_hex(h: &str) -> String {
        hex::decode(h)
            .ok()
            .and_then(|d| <x509_cert::Certificate as der::Decode>::from_der(&d).ok())
            .map(|c| kyso_verify::x509::name_string(&c.tbs_certificate.subject))
            .unwrap_or_else(|| "unknown".into())
    }
}

/// The internal TSA (RFC 3161 over HTTP, §3.4): a DER TimeStampReq in, a TimeStampResp out.
#[utoipa::path(post, path = "/v1/timestamp", operation_id = "timestamp", tag = "signing",
    request_body(description = "a DER TimeStampReq", content(("application/timestamp-query"))),
    responses((status = 200, description = "a DER TimeStampResp", content(("application/timestamp-reply"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn timestamp(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.split(';').next().map(str::trim) != Some("application/timestamp-query") {
        return Err(ApiError::unsupported_media(
            "send Content-Type: application/timestamp-query",
        ));
    }
    let body = body?;
    let tsa = st
        .tsa
        .clone()
        .ok_or_else(|| ApiError::unavailable("no TSA is configured"))?;
    let resp = blocking(move || tsa.respond(&body)).await?;
    st.metrics
        .signatures
        .with_label_values(&["timestamp"])
        .inc();
    Ok((
        [(header::CONTENT_TYPE, "application/timestamp-reply")],
        resp,
    )
        .into_response())
}
