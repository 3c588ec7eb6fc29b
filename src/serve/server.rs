//! Start-up, the accept loop (TLS handshake with a deadline, HTTP/1.1 with a header deadline),
//! the middleware every request passes, and graceful shutdown.

use super::api;
use super::archive::Store;
use super::auth::{Authenticator, Conn, Identity, PeerCert, Role};
use super::config::Config;
use super::error::ApiError;
use super::limits::Limiter;
use super::metrics::Metrics;
use super::pool::Pool;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kyso_hsm::{pin, Module, Pkcs11Uri, SigningKey, Token, TokenKey};
use kyso_signer::tsp::{TimestampSource, Tsa};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// A start-up failure: the message and the exit status.
pub struct StartError {
    pub message: String,
    pub code: u8,
}

fn start_err(code: u8) -> impl Fn(String) -> StartError {
    move |message| StartError { message, code }
}

/// One of the keys the service signs with.
pub struct ServerKey {
    pub key: Arc<TokenKey>,
    pub tsa: Option<TimestampSource>,
}

/// Everything a handler may use.
pub struct AppState {
    pub cfg: Config,
    pub auth: Authenticator,
    pub limiter: Limiter,
    pub store: Arc<Store>,
    pub keys: BTreeMap<String, ServerKey>,
    pub tsa: Option<Arc<Tsa>>,
    /// The validator, its `now` refreshed at most once a second (cloning it per request would
    /// copy every trust anchor and CRL).
    pub validator: std::sync::Mutex<(Instant, Arc<kyso_verify::Validator>)>,
    pub metrics: Metrics,
    pub verify_pool: Pool,
    pub remote: api::sign::PendingStore,
    /// True from the start of a graceful shutdown: /readyz says so.
    pub draining: std::sync::atomic::AtomicBool,
}

pub type Shared = Arc<AppState>;

/// Structured JSON logs on stderr (`RUST_LOG` / `KYSO_LOG` filter, default `info`).
pub fn init_logging() {
    let filter = std::env::var("KYSO_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Open the keys the config names, logging in once per token. The PIN comes from
/// `token.pin_file` or `KYSO_PIN`, never from a prompt or the command line.
struct Keyring {
    modules: Vec<Module>,
    tokens: Vec<(String, Arc<Token>)>,
    module_override: Option<std::path::PathBuf>,
    pin_file: Option<std::path::PathBuf>,
    sessions: usize,
}

impl Keyring {
    fn open(&mut self, what: &str, uri: &str) -> Result<TokenKey, StartError> {
        let e = |m: String| StartError {
            message: format!("{what}: {m}"),
            code: 10,
        };
        let uri = Pkcs11Uri::parse(uri).map_err(|x| e(x.to_string()))?;
        let module =
            Module::for_uri(self.module_override.as_deref(), &uri).map_err(|x| e(x.to_string()))?;
        let module = match self.modules.iter().find(|m| m.path() == module.path()) {
            Some(m) => m.clone(),
            None => {
                self.modules.push(module.clone());
                module
            }
        };
        let selector = format!("{}|{}", module.path().display(), uri.token_only());
        let token = match self.tokens.iter().find(|(s, _)| *s == selector) {
            Some((_, t)) => t.clone(),
            None => {
                let desc = module
                    .find_token(&uri.token_only())
                    .map_err(|x| e(x.to_string()))?;
                if desc.pin_locked {
                    return Err(e(format!("the PIN of token {:?} is locked", desc.label)));
                }
                let mut sources = Vec::new();
                if let Some(f) = &self.pin_file {
                    sources.push(pin::PinSource::File(f.clone()));
                }
                sources.push(pin::PinSource::Env(pin::PIN_ENV.into()));
                let pin = pin::resolve(&sources, "").map_err(|_| {
                    e(
                        "no PIN: set token.pin_file in the config or KYSO_PIN in the environment"
                            .into(),
                    )
                })?;
                let t = Arc::new(
                    Token::open(&module, &uri, pin, self.sessions).map_err(|x| e(x.to_string()))?,
                );
                self.tokens.push((selector, t.clone()));
                t
            }
        };
        TokenKey::find(token, &uri).map_err(|x| e(x.to_string()))
    }
}

fn load_certs(
    path: &std::path::Path,
    what: &str,
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, String> {
    use rustls_pki_types::pem::PemObject;
    let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("config: {what}: {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("config: {what}: {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "config: {what}: no certificate in {}",
            path.display()
        ));
    }
    Ok(certs)
}

fn tls_config(cfg: &Config, auth: &Authenticator) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    let s = &cfg.server;
    let cert_path = s
        .tls_cert
        .as_ref()
        .ok_or("config: server.tls_cert: missing")?;
    let key_path = s
        .tls_key
        .as_ref()
        .ok_or("config: server.tls_key: missing")?;
    let certs = load_certs(cert_path, "server.tls_cert")?;
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| format!("config: server.tls_key: {}: {e}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if s.tls_min == "1.3" {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match auth.tls_verifier() {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut c = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("config: server.tls_cert/tls_key: {e}"))?;
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(c))
}

fn client_roots(cfg: &Config) -> Result<Option<Arc<rustls::RootCertStore>>, String> {
    if cfg.server.client_ca.is_empty() {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore::empty();
    for (i, p) in cfg.server.client_ca.iter().enumerate() {
        for c in load_certs(p, &format!("server.client_ca[{i}]"))? {
            roots
                .add(c)
                .map_err(|e| format!("config: server.client_ca[{i}]: {}: {e}", p.display()))?;
        }
    }
    Ok(Some(Arc::new(roots)))
}

fn validator(cfg: &Config) -> Result<kyso_verify::Validator, String> {
    use kyso_verify::x509;
    let read = |key: &str, p: &std::path::Path| {
        std::fs::read(p).map_err(|e| format!("config: {key}: {}: {e}", p.display()))
    };
    let mut v = kyso_verify::Validator::default();
    for (i, p) in cfg.trust.anchors.iter().enumerate() {
        let key = format!("trust.anchors[{i}]");
        let files: Vec<std::path::PathBuf> = if p.is_dir() {
            let mut f: Vec<_> = std::fs::read_dir(p)
                .map_err(|e| format!("config: {key}: {e}"))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .collect();
            f.sort();
            f
        } else {
            vec![p.clone()]
        };
        for f in files {
            match x509::load_certificates(&read(&key, &f)?) {
                Ok(c) => v.anchors.extend(c),
                Err(e) if !p.is_dir() => {
                    return Err(format!("config: {key}: {}: {e}", f.display()))
                }
                Err(_) => {}
            }
        }
    }
    for (i, p) in cfg.trust.certs.iter().enumerate() {
        let key = format!("trust.certs[{i}]");
        v.certs.extend(
            x509::load_certificates(&read(&key, p)?).map_err(|e| format!("config: {key}: {e}"))?,
        );
    }
    for (i, p) in cfg.trust.crls.iter().enumerate() {
        let key = format!("trust.crls[{i}]");
        v.crls
            .push(x509::load_crl(&read(&key, p)?).map_err(|e| format!("config: {key}: {e}"))?);
    }
    for (i, p) in cfg.trust.ocsps.iter().enumerate() {
        let key = format!("trust.ocsps[{i}]");
        v.ocsps
            .push(x509::load_ocsp(&read(&key, p)?).map_err(|e| format!("config: {key}: {e}"))?);
    }
    if v.anchors.is_empty() {
        tracing::warn!("no trust anchors configured: no signature will be TOTAL-PASSED");
    }
    Ok(v)
}

/// Build everything, then serve until SIGTERM or SIGINT.
pub fn run(cfg: Config, check_only: bool) -> Result<(), StartError> {
    let cfg_err = start_err(3);
    let mut ring = Keyring {
        modules: Vec::new(),
        tokens: Vec::new(),
        module_override: cfg.token.module.clone(),
        pin_file: cfg.token.pin_file.clone(),
        sessions: cfg.token.sessions,
    };
    let log_key = Arc::new(ring.open("archive.log_key", &cfg.archive.log_key)?);
    let tsa = match &cfg.tsa {
        Some(t) => {
            let k = ring.open("tsa.key", &t.key)?;
            let policy = match &t.policy {
                Some(p) => p.parse().map_err(|e| StartError {
                    message: format!("config: tsa.policy: {p:?} is not an OID: {e}"),
                    code: 3,
                })?,
                None => kyso_signer::tsp::DEMO_POLICY,
            };
            Some(Arc::new(Tsa::new(Arc::new(k), policy).map_err(|e| {
                StartError {
                    message: format!("config: tsa.key: {e}"),
                    code: 3,
                }
            })?))
        }
        None => None,
    };
    let mut keys = BTreeMap::new();
    for (i, k) in cfg.keys.iter().enumerate() {
        let key = ring.open(&format!("keys[{i}].uri"), &k.uri)?;
        keys.insert(
            k.name.clone(),
            ServerKey {
                key: Arc::new(key),
                tsa: tsa.clone().map(TimestampSource::Internal),
            },
        );
    }
    let validator = validator(&cfg).map_err(&cfg_err)?;
    let roots = client_roots(&cfg).map_err(&cfg_err)?;
    let auth = Authenticator::new(&cfg, roots).map_err(&cfg_err)?;
    let tls = if cfg.server.plain_http {
        None
    } else {
        Some(tls_config(&cfg, &auth).map_err(&cfg_err)?)
    };
    let store = Store::open(
        &cfg.archive.db,
        log_key.clone() as Arc<dyn kyso_hsm::SignDigest>,
        cfg.archive.origin.clone(),
        cfg.archive.key_name.clone(),
        cfg.archive.allow_unsigned_with_reason,
        cfg.archive.checkpoint_state(),
        cfg.limits.upload_bytes as u64,
    )
    .map_err(|e| StartError {
        message: format!("archive.db: {e}"),
        code: u8::try_from(e.exit_code()).unwrap_or(21),
    })?;
    let store = Arc::new(store);
    if check_only {
        println!("configuration, token and archive are in order");
        return Ok(());
    }
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let verify_threads = if cfg.server.verify_threads == 0 {
        cpus
    } else {
        cfg.server.verify_threads
    };
    let verify_pool = Pool::new(
        "kyso-verify",
        verify_threads,
        cfg.server.verify_stack_mib << 20,
        cfg.limits.verify_queue,
    )
    .map_err(|e| StartError {
        message: format!("verify threads: {e}"),
        code: 1,
    })?;
    let metrics = Metrics::new().map_err(|e| StartError {
        message: format!("metrics: {e}"),
        code: 1,
    })?;
    let limiter = Limiter::new(
        cfg.limits.rate_per_second,
        cfg.limits.burst,
        cfg.limits.concurrent_per_client,
    );
    let publisher = store.clone().run_publisher(
        super::archive::CHECKPOINT_INTERVAL,
        metrics.token_errors.clone(),
    );
    let state = Arc::new(AppState {
        remote: api::sign::PendingStore::new(
            cfg.limits.remote_pending_per_user,
            Duration::from_secs(cfg.limits.remote_pending_secs),
        ),
        cfg,
        auth,
        limiter,
        store: store.clone(),
        keys,
        tsa,
        validator: std::sync::Mutex::new((Instant::now(), Arc::new(validator))),
        metrics,
        verify_pool,
        draining: Default::default(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kyso-http")
        .build()
        .map_err(|e| StartError {
            message: format!("runtime: {e}"),
            code: 1,
        })?;
    let result = rt.block_on(serve(state.clone(), tls));
    // Requests are drained; stop the publisher (it signs a last checkpoint over everything
    // acknowledged), then close the archive: its writer and syncer finish their batches.
    store.stop();
    let _ = publisher.join();
    drop(rt);
    drop(state);
    match Arc::try_unwrap(store) {
        Ok(s) => drop(s),
        Err(_) => tracing::warn!("archive still referenced at exit"),
    }
    tracing::info!("kyso serve stopped");
    result
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn serve(state: Shared, tls: Option<Arc<rustls::ServerConfig>>) -> Result<(), StartError> {
    let listen = state.cfg.server.listen;
    let listener = TcpListener::bind(listen).await.map_err(|e| StartError {
        message: format!("config: server.listen: cannot listen on {listen}: {e}"),
        code: 3,
    })?;
    let local = listener.local_addr().map_err(|e| StartError {
        message: e.to_string(),
        code: 1,
    })?;
    tracing::info!(listen = %local, tls = tls.is_some(), "kyso serve listening");
    // Tests and scripts wait for this line on stdout.
    println!(
        "listening on {}://{local}",
        if tls.is_some() { "https" } else { "http" }
    );
    let router = api::router(state.clone());
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let conns = Arc::new(tokio::sync::Semaphore::new(
        state.cfg.limits.max_connections,
    ));
    let per_address = Arc::new(PerAddress::default());
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let limits = &state.cfg.limits;
    let (handshake_t, header_t) = (
        Duration::from_secs(limits.handshake_timeout_secs),
        Duration::from_secs(limits.header_timeout_secs),
    );
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = conns.clone().try_acquire_owned() else {
            state
                .metrics
                .limited
                .with_label_values(&["connections"])
                .inc();
            drop(tcp);
            continue;
        };
        let Some(slot) = per_address.enter(peer.ip(), state.cfg.limits.connections_per_address)
        else {
            state
                .metrics
                .limited
                .with_label_values(&["connections_per_address"])
                .inc();
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (state, router, acceptor) = (state.clone(), router.clone(), acceptor.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = (permit, slot);
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_t)
                .max_buf_size(64 * 1024);
            match acceptor {
                None => {
                    let conn = Conn {
                        peer,
                        cert: PeerCert::None,
                    };
                    let svc = service(router, conn);
                    let c = http.serve_connection(hyper_util::rt::TokioIo::new(tcp), svc);
                    let _ = watcher.watch(c).await;
                }
                Some(acc) => {
                    let tls = match tokio::time::timeout(handshake_t, acc.accept(tcp)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::info!(peer = %peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::info!(peer = %peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let cert = state.auth.peer(tls.get_ref().1.peer_certificates());
                    if let PeerCert::Refused(why) = &cert {
                        tracing::warn!(peer = %peer, reason = %why, "client certificate refused");
                    }
                    let svc = service(router, Conn { peer, cert });
                    let c = http.serve_connection(hyper_util::rt::TokioIo::new(tls), svc);
                    let _ = watcher.watch(c).await;
                }
            }
        });
    }
    tracing::info!("shutting down: no new connections; draining requests in flight");
    state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    drop(listener);
    let drain = Duration::from_secs(state.cfg.server.drain_secs);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain deadline passed with requests still in flight");
    }
    Ok(())
}

/// Open connections per peer address.
#[derive(Default)]
struct PerAddress(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

struct AddressSlot(Arc<PerAddress>, std::net::IpAddr);

impl PerAddress {
    fn enter(self: &Arc<Self>, ip: std::net::IpAddr, max: usize) -> Option<AddressSlot> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot(self.clone(), ip))
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut m = self.0 .0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

fn service(
    router: axum::Router,
    conn: Conn,
) -> hyper_util::service::TowerToHyperService<
    impl tower::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = Response,
            Error = std::convert::Infallible,
            Future = impl Send,
        > + Clone,
> {
    let svc = router.map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(conn.clone());
        req.map(axum::body::Body::new)
    });
    hyper_util::service::TowerToHyperService::new(svc)
}

/// The user name of callers without credentials when `web.public_verification` is on (in
/// parentheses: no configured client or token can be confused with it in the logs).
pub const PUBLIC_USER: &str = "(public)";

/// What the gate found out about the caller, for the access log (response extension).
#[derive(Clone)]
pub struct Caller(pub Option<Arc<Identity>>);

/// The one gate every route passes, before its handler: who is calling (certificate or bearer
/// token; never both), the per-client rate and concurrency limits, then the roles the route
/// admits. `roles` empty means a public route.
pub async fn gate(
    State((state, roles)): State<(Shared, &'static [Role])>,
    mut req: Request,
    next: Next,
) -> Response {
    let conn = req.extensions().get::<Conn>().cloned();
    let Some(conn) = conn else {
        return ApiError::internal("no connection facts").into_response();
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let refuse = |state: &Shared,
                  status: StatusCode,
                  code: &'static str,
                  reason: &str,
                  msg: String| {
        state
            .metrics
            .auth_failures
            .with_label_values(&[reason])
            .inc();
        tracing::warn!(peer = %conn.peer, path = %req.uri().path(), status = status.as_u16(), reason, message = %msg, "request refused");
        let mut r = ApiError::new(status, code, msg).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kyso\""),
            );
        }
        r
    };
    let identity = match (&conn.cert, bearer) {
        (PeerCert::Refused(why), _) => {
            return refuse(
                &state,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "certificate",
                why.clone(),
            );
        }
        (PeerCert::Known(_), Some(_)) => {
            return refuse(
                &state,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "two_credentials",
                "a client certificate and a bearer token were both presented; use one".into(),
            );
        }
        (PeerCert::Known(id), None) => Some(id.clone()),
        (PeerCert::None, Some(h)) => {
            let token = h
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim())
                .unwrap_or("");
            match (!token.is_empty())
                .then(|| state.auth.token(token))
                .flatten()
            {
                Some(id) => Some(id),
                None => {
                    // Failed tokens count against the peer's address: guessing is rate limited.
                    if state
                        .limiter
                        .allow(&format!("ip:{}", conn.peer.ip()))
                        .is_err()
                    {
                        state.metrics.limited.with_label_values(&["rate"]).inc();
                        return ApiError::new(
                            StatusCode::TOO_MANY_REQUESTS,
                            "rate_limited",
                            "too many failed attempts from this address; wait",
                        )
                        .into_response();
                    }
                    return refuse(
                        &state,
                        StatusCode::UNAUTHORIZED,
                        "unauthenticated",
                        "token",
                        "the Authorization header does not carry a valid bearer token".into(),
                    );
                }
            }
        }
        (PeerCert::None, None) => None,
    };
    // Without credentials, and when the config allows public verification: the verifier role,
    // rate limited by address like any anonymous caller.
    let key = match &identity {
        Some(id) => format!("user:{}", id.user),
        None => format!("ip:{}", conn.peer.ip()),
    };
    let identity = match identity {
        None if state.cfg.web.public_verification => Some(Arc::new(Identity {
            user: PUBLIC_USER.into(),
            roles: vec![Role::Verifier],
            method: "none",
        })),
        other => other,
    };
    if let Err(retry) = state.limiter.allow(&key) {
        state.metrics.limited.with_label_values(&["rate"]).inc();
        tracing::warn!(client = %key, "rate limit");
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; retry in {retry} s"),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    if !roles.is_empty() {
        match &identity {
            None => {
                return refuse(
                    &state,
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "none",
                    "this route needs a client certificate or a bearer token".into(),
                )
            }
            Some(id) if !id.roles.iter().any(|r| roles.contains(r)) => {
                let msg = format!(
                    "{} may not use this route (it admits: {})",
                    id.user,
                    roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return refuse(&state, StatusCode::FORBIDDEN, "forbidden", "role", msg);
            }
            Some(_) => {}
        }
    }
    let Some(_permit) = state.limiter.enter(&key) else {
        state
            .metrics
            .limited
            .with_label_values(&["concurrency"])
            .inc();
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_in_flight",
            "too many requests in flight for this client; wait for some to finish",
        )
        .into_response();
    };
    if let Some(id) = &identity {
        req.extensions_mut().insert(id.clone());
    }
    let mut resp = next.run(req).await;
    resp.extensions_mut().insert(Caller(identity));
    resp
}

/// Access log and metrics for every request: route (the template, not the path), method,
/// status, latency, user. Never bodies, tokens or query strings (purposes may be personal).
pub async fn observe(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        _ => "OTHER",
    };
    let peer = req.extensions().get::<Conn>().map(|c| c.peer);
    let resp = next.run(req).await;
    let status = resp.status();
    let secs = start.elapsed().as_secs_f64();
    let labels = [route.as_str(), method, status.as_str()];
    state.metrics.requests.with_label_values(&labels).inc();
    state
        .metrics
        .latency
        .with_label_values(&labels)
        .observe(secs);
    let user = resp
        .extensions()
        .get::<Caller>()
        .and_then(|c| c.0.as_ref().map(|i| i.user.clone()));
    tracing::info!(
        route = %route,
        method = %method,
        status = status.as_u16(),
        ms = (secs * 1000.0),
        user = user.as_deref().unwrap_or("-"),
        peer = %peer.map(|p| p.to_string()).unwrap_or_default(),
        "request"
    );
    resp
}

/// A handler that panicked: 500, an error log, the process stays up.
pub fn on_panic(
    panics: prometheus::IntCounter,
) -> impl Fn(Box<dyn std::any::Any + Send>) -> Response + Clone {
    move |err| {
        panics.inc();
        let what = err
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown".into());
        tracing::error!(panic = %what, "a request handler panicked");
        ApiError::internal(
            "the request failed inside the service (logged); nothing was changed by it",
        )
        .into_response()
    }
}

impl AppState {
    /// The validator with a current `now` (at most a second old).
    pub fn validator(&self) -> Arc<kyso_verify::Validator> {
        let mut v = self.validator.lock().unwrap_or_else(|p| p.into_inner());
        if v.0.elapsed() >= Duration::from_secs(1) {
            let mut fresh = (*v.1).clone();
            fresh.now = std::time::SystemTime::now();
            *v = (Instant::now(), Arc::new(fresh));
        }
        v.1.clone()
    }
}

/// Run blocking work (token, RocksDB) off the runtime's threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f).await?)
}

/// The signing key's certificate subject, for logs and events.
pub fn subject(k: &dyn SigningKey) -> String {
    kyso_verify::x509::name_string(&k.certificate().tbs_certificate.subject)
}
