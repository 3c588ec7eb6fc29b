//! API v1: the route table (path, method, the roles each admits, its body limit), the router
//! built from it, and the OpenAPI 3.1 document generated from the handlers' annotations with
//! each operation's roles as `x-kyso-roles` — so docs/api.md, the spec and the code cannot drift.

pub mod exports;
pub mod log;
pub mod records;
pub mod sign;
pub mod stats;
pub mod verify;

use super::auth::Role;
use super::error::{ApiError, Code};
use super::server::{self, Shared};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{self, MethodRouter};
use axum::{Extension, Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;

/// How large a route's request body may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// No body (GET).
    None,
    /// A small JSON request (`limits.json_bytes`).
    Json,
    /// A document as the body (`limits.upload_bytes`).
    Upload,
    /// A document base64 in JSON (`limits.upload_bytes` as base64, plus `limits.json_bytes`).
    UploadJson,
    /// A signing batch (`limits.batch_bytes`).
    Batch,
    /// An RFC 3161 request (64 KiB).
    TimestampQuery,
}

/// One route: what it is, who may call it. Empty `roles` = public.
pub struct Route {
    pub operation: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub roles: &'static [Role],
    pub body: Body,
}

use Role::*;

const ALL: &[Role] = &[Signer, Clerk, Verifier, Archivist, Auditor, Admin];
const PUBLIC: &[Role] = &[];

/// The table of every route and the roles it admits (docs/api.md shows the same table; a test
/// checks that it does).
pub const ROUTES: &[Route] = &[
    Route {
        operation: "healthz",
        method: Method::GET,
        path: "/healthz",
        roles: PUBLIC,
        body: Body::None,
    },
    Route {
        operation: "readyz",
        method: Method::GET,
        path: "/readyz",
        roles: PUBLIC,
        body: Body::None,
    },
    Route {
        operation: "metrics",
        method: Method::GET,
        path: "/metrics",
        roles: &[Admin, Auditor],
        body: Body::None,
    },
    Route {
        operation: "openapi",
        method: Method::GET,
        path: "/v1/openapi.json",
        roles: PUBLIC,
        body: Body::None,
    },
    Route {
        operation: "whoami",
        method: Method::GET,
        path: "/v1/whoami",
        roles: ALL,
        body: Body::None,
    },
    Route {
        operation: "sign",
        method: Method::POST,
        path: "/v1/sign",
        roles: &[Signer],
        body: Body::Batch,
    },
    Route {
        operation: "remote_prepare",
        method: Method::POST,
        path: "/v1/sign/remote/prepare",
        roles: &[Signer],
        body: Body::UploadJson,
    },
    Route {
        operation: "remote_finalize",
        method: Method::POST,
        path: "/v1/sign/remote/finalize",
        roles: &[Signer],
        body: Body::Json,
    },
    Route {
        operation: "timestamp",
        method: Method::POST,
        path: "/v1/timestamp",
        roles: &[Signer, Clerk],
        body: Body::TimestampQuery,
    },
    Route {
        operation: "put_record",
        method: Method::POST,
        path: "/v1/records",
        roles: &[Clerk],
        body: Body::UploadJson,
    },
    Route {
        operation: "find_records",
        method: Method::GET,
        path: "/v1/records",
        roles: &[Clerk, Archivist],
        body: Body::None,
    },
    Route {
        operation: "get_record",
        method: Method::GET,
        path: "/v1/records/{id}",
        roles: &[Clerk, Archivist],
        body: Body::None,
    },
    Route {
        operation: "get_content",
        method: Method::GET,
        path: "/v1/records/{id}/content",
        roles: &[Clerk, Archivist],
        body: Body::None,
    },
    Route {
        operation: "set_status",
        method: Method::PUT,
        path: "/v1/records/{id}/status",
        roles: &[Clerk, Archivist],
        body: Body::Json,
    },
    Route {
        operation: "verify",
        method: Method::POST,
        path: "/v1/verify",
        roles: &[Verifier, Clerk],
        body: Body::Upload,
    },
    Route {
        operation: "verify_detached",
        method: Method::POST,
        path: "/v1/verify/detached",
        roles: &[Verifier, Clerk],
        body: Body::UploadJson,
    },
    Route {
        operation: "archived",
        method: Method::GET,
        path: "/v1/verify/archived",
        roles: &[Verifier, Clerk, Auditor],
        body: Body::None,
    },
    Route {
        operation: "checkpoint",
        method: Method::GET,
        path: "/v1/log/checkpoint",
        roles: ALL,
        body: Body::None,
    },
    Route {
        operation: "log_key",
        method: Method::GET,
        path: "/v1/log/key",
        roles: ALL,
        body: Body::None,
    },
    Route {
        operation: "inclusion",
        method: Method::GET,
        path: "/v1/log/inclusion",
        roles: &[Verifier, Auditor, Archivist],
        body: Body::None,
    },
    Route {
        operation: "consistency",
        method: Method::GET,
        path: "/v1/log/consistency",
        roles: &[Verifier, Auditor, Archivist],
        body: Body::None,
    },
    Route {
        operation: "stats",
        method: Method::GET,
        path: "/v1/stats",
        roles: &[Admin, Auditor],
        body: Body::None,
    },
    Route {
        operation: "entries",
        method: Method::GET,
        path: "/v1/log/entries",
        roles: &[Auditor],
        body: Body::None,
    },
    Route {
        operation: "start_export",
        method: Method::POST,
        path: "/v1/exports",
        roles: &[Archivist],
        body: Body::Json,
    },
    Route {
        operation: "list_exports",
        method: Method::GET,
        path: "/v1/exports",
        roles: &[Archivist, Admin],
        body: Body::None,
    },
    Route {
        operation: "get_export",
        method: Method::GET,
        path: "/v1/exports/{id}",
        roles: &[Archivist, Admin],
        body: Body::None,
    },
    Route {
        operation: "delete_export",
        method: Method::DELETE,
        path: "/v1/exports/{id}",
        roles: &[Archivist, Admin],
        body: Body::None,
    },
    Route {
        operation: "get_export_package",
        method: Method::GET,
        path: "/v1/exports/{id}/package",
        roles: &[Archivist],
        body: Body::None,
    },
];

/// The reads the log records as such (a record, its content, a lookup, the log's entries). A
/// HEAD, which axum answers with the GET handler and no body, logged a read that delivered
/// nothing, and a lookup's HEAD stood for the GET after it (helper 190): these paths take no
/// HEAD (405).
const LOGGED_READS: [&str; 5] = [
    "find_records",
    "get_record",
    "get_content",
    "archived",
    "entries",
];

fn handler(operation: &str) -> MethodRouter<Shared> {
    use routing::{delete, get, post, put};
    match operation {
        "healthz" => get(healthz),
        "readyz" => get(readyz),
        "metrics" => get(metrics),
        "openapi" => get(openapi),
        "whoami" => get(whoami),
        "sign" => post(sign::sign),
        "remote_prepare" => post(sign::remote_prepare),
        "remote_finalize" => post(sign::remote_finalize),
        "timestamp" => post(sign::timestamp),
        "put_record" => post(records::put_record),
        "find_records" => get(records::find_records),
        "get_record" => get(records::get_record),
        "get_content" => get(records::get_content),
        "set_status" => put(records::set_status),
        "verify" => post(verify::verify),
        "verify_detached" => post(verify::verify_detached),
        "archived" => get(verify::archived),
        "checkpoint" => get(log::checkpoint),
        "log_key" => get(log::log_key),
        "inclusion" => get(log::inclusion),
        "consistency" => get(log::consistency),
        "entries" => get(log::entries),
        "stats" => get(stats::stats),
        "start_export" => post(exports::start_export),
        "list_exports" => get(exports::list_exports),
        "get_export" => get(exports::get_export),
        "delete_export" => delete(exports::delete_export),
        "get_export_package" => get(exports::get_export_package),
        other => unreachable!("route {other} has no handler"),
    }
}

fn body_limit(state: &Shared, b: Body) -> usize {
    let l = &state.cfg.limits;
    match b {
        Body::None => 0,
        Body::Json => l.json_bytes,
        Body::Upload => l.upload_bytes,
        // base64 is 4/3 of the document, plus the other fields
        Body::UploadJson => l.upload_json_bytes(),
        Body::Batch => l.batch_bytes,
        Body::TimestampQuery => 64 << 10,
    }
}

/// Security headers on every answer.
async fn headers(State(tls): State<bool>, req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    // The pages set their own (src/serve/web); everything else may load nothing.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(
            h,
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        );
    }
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
    set(
        h,
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if tls {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    r
}

/// A whole request, body included, within `limits.request_timeout_secs`: a client that sends a
/// byte a second gets 408 and its connection back.
async fn deadline(State(secs): State<u64>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(std::time::Duration::from_secs(secs), next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            let mut r = ApiError::new(
                Code::Timeout,
                format!("the request did not complete within {secs} s"),
            )
            .into_response();
            server::close_after(&mut r);
            r
        }
    }
}

/// A body announced larger than the route takes is refused from the request head, before a
/// byte of it is read.
async fn announced_length(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        let mut r = ApiError::too_large(format!(
            "the body is larger than this route takes ({limit} bytes)"
        ))
        .into_response();
        server::close_after(&mut r);
        return r;
    }
    next.run(req).await
}

/// An answer given while the request's body was not read to its end closes the connection: the
/// unread rest cannot be taken for the next request. (A request with both Content-Length and
/// Transfer-Encoding never gets here as such: hyper reads it by its Transfer-Encoding alone,
/// drops the Content-Length and closes the connection after the answer, RFC 9112 §6.3.)
async fn body_hygiene(req: Request, next: Next) -> Response {
    if !server::has_body(&req) {
        return next.run(req).await;
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let req = req.map(|b| axum::body::Body::new(Tracked(b, done.clone())));
    let mut r = next.run(req).await;
    if !done.load(std::sync::atomic::Ordering::Acquire) {
        server::close_after(&mut r);
    }
    r
}

/// A request body that notes when it has been read to its end.
struct Tracked(axum::body::Body, Arc<std::sync::atomic::AtomicBool>);

impl hyper::body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let r = std::pin::Pin::new(&mut self.0).poll_frame(cx);
        if let std::task::Poll::Ready(None) = r {
            self.1.store(true, std::sync::atomic::Ordering::Release);
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.0.size_hint()
    }
}

/// The answer to a method a route does not take, after the gate (with the roles of every
/// method of the path): the caller learns which methods exist only if it may use the path.
async fn method_not_allowed(State(allow): State<&'static str>) -> Response {
    let mut r =
        ApiError::new(Code::MethodNotAllowed, format!("this route takes {allow}")).into_response();
    if let Ok(v) = HeaderValue::from_str(allow) {
        r.headers_mut().insert(header::ALLOW, v);
    }
    r
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// The router: every route of [`ROUTES`] with its gate and body limit, a 405 for the methods
/// a path does not take (after a gate with the roles of all its methods), then the layers every
/// request passes (outermost first): panic catcher, security headers, access log and metrics,
/// unread bodies close the connection, deadline.
pub fn router(state: Shared) -> Router {
    let mut r: Router<Shared> = Router::new();
    let mut paths: Vec<&'static str> = Vec::new();
    for route in ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let routes: Vec<&Route> = ROUTES.iter().filter(|r| r.path == path).collect();
        let mut methods: Option<MethodRouter<Shared>> = None;
        let mut roles: Vec<Role> = Vec::new();
        let mut allow: Vec<&str> = Vec::new();
        for route in &routes {
            let limit = body_limit(&state, route.body);
            let h = handler(route.operation)
                .layer(DefaultBodyLimit::max(limit))
                .layer(middleware::from_fn_with_state(limit, announced_length))
                .route_layer(middleware::from_fn_with_state(
                    (state.clone(), route.roles, limit),
                    server::gate,
                ));
            methods = Some(match methods {
                None => h,
                Some(m) => m.merge(h),
            });
            roles.extend(route.roles.iter().copied());
            allow.push(route.method.as_str());
            if route.method == Method::GET && !LOGGED_READS.contains(&route.operation) {
                allow.push("HEAD");
            }
        }
        roles.sort();
        roles.dedup();
        let public = routes.iter().any(|r| r.roles.is_empty());
        let roles: &'static [Role] = if public {
            PUBLIC
        } else {
            Box::leak(roles.into_boxed_slice())
        };
        let allow: &'static str = Box::leak(allow.join(", ").into_boxed_str());
        let refuse = method_not_allowed
            .layer(middleware::from_fn_with_state(
                (state.clone(), roles, 0usize),
                server::gate,
            ))
            .with_state(allow);
        let mut m = methods.expect("a path has a route");
        if routes.iter().any(|r| LOGGED_READS.contains(&r.operation)) {
            m = m.head_service(refuse.clone());
        }
        let m = m.fallback_service(refuse);
        r = r.route(path, m);
    }
    let tls = !state.cfg.server.plain_http;
    r.merge(super::web::routes(state.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.cfg.limits.request_timeout_secs,
            deadline,
        ))
        .layer(middleware::from_fn(body_hygiene))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            server::observe,
        ))
        .layer(middleware::from_fn_with_state(tls, headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            server::on_panic(state.metrics.panics.clone()),
        ))
        .with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kyso appliance API",
        version = "1",
        description = "Signing, verification and the e-archive of kyso. Every operation lists the roles it admits in x-kyso-roles (empty: public). Authenticate with an agency client certificate (mutual TLS) or `Authorization: Bearer <token>`; when the appliance allows public verification (web.public_verification), a caller with neither has the verifier role. The verification page for people is at `/` (not an API operation)."
    ),
    paths(
        healthz, readyz, metrics, openapi, whoami,
        sign::sign, sign::remote_prepare, sign::remote_finalize, sign::timestamp,
        records::put_record, records::find_records, records::get_record, records::get_content, records::set_status,
        verify::verify, verify::verify_detached, verify::archived,
        log::checkpoint, log::log_key, log::inclusion, log::consistency, log::entries,
        stats::stats,
        exports::start_export, exports::list_exports, exports::get_export, exports::delete_export,
        exports::get_export_package,
    ),
    components(schemas(super::error::ErrorBody)),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "mutual_tls",
            SecurityScheme::MutualTls {
                description: Some("An agency client certificate issued by a configured CA".into()),
                extensions: None,
            },
        );
    }
}

/// The OpenAPI document with each operation's roles and security from [`ROUTES`].
pub fn spec() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::extensions::ExtensionsBuilder;
    use utoipa::openapi::security::SecurityRequirement;
    let mut doc = ApiDoc::openapi();
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            (Method::GET, item.get.as_mut()),
            (Method::POST, item.post.as_mut()),
            (Method::PUT, item.put.as_mut()),
            (Method::DELETE, item.delete.as_mut()),
        ];
        for (m, op) in ops {
            let Some(op) = op else { continue };
            let route = ROUTES.iter().find(|r| r.path == path && r.method == m);
            let roles: Vec<&str> = route
                .map(|r| r.roles.iter().map(|x| x.as_str()).collect())
                .unwrap_or_default();
            if route.is_some_and(|r| !r.roles.is_empty()) {
                op.security = Some(vec![
                    SecurityRequirement::new("bearer", Vec::<String>::new()),
                    SecurityRequirement::new("mutual_tls", Vec::<String>::new()),
                ]);
            }
            let ext = ExtensionsBuilder::new()
                .add("x-kyso-roles", serde_json::json!(roles))
                .build();
            match &mut op.extensions {
                Some(e) => e.merge(ext),
                None => op.extensions = Some(ext),
            }
            if let Some(route) = route {
                for (status, said) in gate_answers(route) {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error_response(said));
                }
            }
        }
    }
    doc
}

/// What the layers every route passes may answer before or instead of its handler (the gate,
/// the body's limits, the deadline), listed in the spec beside each handler's own answers: a
/// client generated from the spec met 408, 413, 415 and 429 it did not list (a reading of the
/// docs, 2026-12-07).
fn gate_answers(route: &Route) -> Vec<(u16, &'static str)> {
    let mut out = vec![
        (
            401,
            "credentials that are not accepted (an unknown token, a certificate not of a client CA)",
        ),
        (
            408,
            "the whole request did not arrive within limits.request_timeout_secs",
        ),
        (
            429,
            "over the caller's rate or concurrency limits, or a queue's share (see Retry-After)",
        ),
    ];
    if !route.roles.is_empty() {
        out.push((
            403,
            "the caller's roles do not include one this operation admits",
        ));
    }
    if route.body != Body::None {
        out.push((413, "a body past this operation's size limit"));
        out.push((415, "a body of a content type this operation does not take"));
    }
    out
}

fn error_response(said: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(said)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "service",
    responses((status = 200, description = "alive", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok\n"
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Readiness {
    ready: bool,
    /// database open, checkpointer alive, token logged in and signing.
    checks: std::collections::BTreeMap<String, bool>,
}

/// Ready to serve: database open, checkpoint publisher alive, token logged in, not draining.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "service",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
async fn readyz(State(st): State<Shared>) -> Response {
    let mut checks: std::collections::BTreeMap<String, bool> = st
        .store
        .readiness()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    checks.insert(
        "accepting".into(),
        !st.draining.load(std::sync::atomic::Ordering::Relaxed),
    );
    let ready = checks.values().all(|v| *v);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, checks })).into_response()
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "service",
    responses((status = 200, body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)))]
async fn metrics(State(st): State<Shared>) -> Response {
    let m = &st.metrics;
    let store = st.store.clone();
    if let Ok(size) = server::blocking(move || store.size())
        .await
        .and_then(|r| r.map_err(ApiError::from))
    {
        m.log_size.set(size as f64);
    }
    m.checkpoint_age
        .set(st.store.checkpoint_age().unwrap_or(-1.0));
    m.log_ahead_of_clock.set(st.store.log_ahead_of_clock());
    m.checkpoint_errors.set(
        st.store
            .checkpoint_errors
            .load(std::sync::atomic::Ordering::Relaxed) as f64,
    );
    m.inflight_bytes
        .set((st.budget.in_flight_kib() as f64) * 1024.0);
    let (queued, running) = st.verify_pool.load();
    m.verify_queued.set(queued as f64);
    m.verify_running.set(running as f64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        m.render(),
    )
        .into_response()
}

/// This API's OpenAPI 3.1 description.
#[utoipa::path(get, path = "/v1/openapi.json", operation_id = "openapi", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
async fn openapi() -> Response {
    static SPEC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = SPEC.get_or_init(|| spec().to_pretty_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], text.clone()).into_response()
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct WhoAmI {
    /// The user name archive events record for this caller.
    user: String,
    roles: Vec<String>,
    /// `certificate` or `token`.
    method: String,
}

/// Who the service takes the caller to be.
#[utoipa::path(get, path = "/v1/whoami", operation_id = "whoami", tag = "service",
    responses((status = 200, body = WhoAmI), (status = 401, body = super::error::ErrorBody)))]
async fn whoami(Extension(id): Extension<Arc<super::auth::Identity>>) -> Json<WhoAmI> {
    Json(WhoAmI {
        user: id.user.clone(),
        roles: id.roles.iter().map(|r| r.as_str().to_string()).collect(),
        method: id.method.to_string(),
    })
}

/// A JSON array field of at most `max` items: parsing stops at the next one. serde's `Vec`
/// takes every item a body holds, and an item costs more memory than its bytes: 2.6 million
/// `{"name":"","content":""}` (65 MB) held 252 MiB before the batch's count was checked (an
/// attacker's reading, 2026-12-05).
pub fn at_most<'de, D, T>(d: D, max: usize) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct Items<T> {
        max: usize,
        item: std::marker::PhantomData<T>,
    }
    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Items<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "an array of at most {} items", self.max)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(x) = a.next_element()? {
                if out.len() == self.max {
                    // The error names the field already (its path).
                    return Err(serde::de::Error::custom(format!(
                        "at most {} items",
                        self.max
                    )));
                }
                out.push(x);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Items {
        max,
        item: std::marker::PhantomData,
    })
}

/// Parse a base64 field of a JSON request.
pub fn b64(field: &str, s: &str) -> Result<Vec<u8>, ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| ApiError::bad(format!("{field}: not base64: {e}")))
}

pub fn to_b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_handler_that_panics_is_a_500_and_the_router_keeps_serving() {
        use tower::ServiceExt;
        let panics = prometheus::IntCounter::new("p", "p").unwrap();
        let app: Router = Router::new()
            .route(
                "/boom",
                routing::get(|| async { panic!("boom") as &'static str }),
            )
            .route("/ok", routing::get(|| async { "ok" }))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                server::on_panic(panics.clone()),
            ));
        let req = |p: &str| {
            Request::builder()
                .uri(p)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let r = app.clone().oneshot(req("/boom")).await.unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("\"error\":\"internal\""));
        assert_eq!(panics.get(), 1);
        let r = app.oneshot(req("/ok")).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    #[test]
    fn every_route_has_a_handler_and_an_operation_in_the_spec_and_back() {
        let doc = spec();
        let mut ops = 0;
        for (path, item) in &doc.paths.paths {
            for (m, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
            ] {
                if let Some(op) = op {
                    ops += 1;
                    let r = ROUTES
                        .iter()
                        .find(|r| r.path == path && r.method == m)
                        .unwrap_or_else(|| panic!("{m} {path} is in the spec but not routed"));
                    assert_eq!(op.operation_id.as_deref(), Some(r.operation));
                }
            }
        }
        assert_eq!(ops, ROUTES.len());
        for r in ROUTES {
            let _ = handler(r.operation);
        }
    }
}
