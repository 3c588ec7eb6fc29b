//! Start-up, the accept loop (TLS handshake with a deadline, HTTP/1.1 with a header deadline),
//! the middleware every request passes, and graceful shutdown.

use super::api;
use super::archive::Store;
use super::auth::{Authenticator, Conn, Identity, PeerCert, Role};
use super::budget::{Budget, Held, Over};
use super::config::Config;
use super::error::ApiError;
use super::error::Code;
use super::limits::Limiter;
use super::metrics::Metrics;
use super::pool::Pool;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kyso_hsm::{pin, Module, Pkcs11Uri, SignDigest, SigningKey, Token, TokenKey};
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
    /// The SHA-256 of the `[trust]` files the validator was made of (see `reload_trust`).
    pub trust_read: std::sync::Mutex<TrustRead>,
    pub metrics: Metrics,
    pub verify_pool: Pool,
    /// Batch documents being signed at once, all requests together (each also within its
    /// request's `token.sessions`): as many as the token has sessions or the verification
    /// threads are, whichever is more. Each may hold `limits.validation_memory_mib` while it is
    /// read; before this bound, four batches at once of two documents each held 1.35 GB with
    /// one verification thread and a 128 MiB limit (helper 223).
    pub sign_readings: Arc<tokio::sync::Semaphore>,
    /// Bytes of request bodies in flight (all clients, and each).
    pub budget: Budget,
    pub remote: api::sign::PendingStore,
    /// True from the start of a graceful shutdown: /readyz says so.
    pub draining: std::sync::atomic::AtomicBool,
    /// Export jobs (`[export]`), when configured.
    pub exports: Option<Arc<super::exports::Exports>>,
}

pub type Shared = Arc<AppState>;

/// Structured JSON logs on stderr (`RUST_LOG` / `KYSO_LOG` filter, default `info`), subject ids
/// masked ([`super::redact`]).
pub fn init_logging() {
    let filter = std::env::var("KYSO_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(|| super::redact::RedactedStderr)
        .try_init();
    // A panic's message goes through the same writer (Rust's default hook prints it to
    // stderr as it is, before the handler's own masked log line).
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(panic = %info, "panic");
    }));
}

/// Open the keys the config names, logging in once per token. The PIN comes from
/// `token.pin_file` or `KYSO_PIN`, never from a prompt or the command line.
struct Keyring {
    modules: Vec<Module>,
    tokens: Vec<(String, Arc<Token>)>,
    module_override: Option<std::path::PathBuf>,
    pin_file: Option<std::path::PathBuf>,
    sessions: usize,
    starting: Starting,
}

impl Keyring {
    fn open(&mut self, what: &str, uri: &str) -> Result<TokenKey, StartError> {
        // (Named by the config key, not the URI: a URI may carry a pin-value.)
        self.starting
            .step(format!("opening the key of {what} on its token"));
        // The CLI's exit codes (docs/cli.md): a wrong PIN is 13, a locked one 14, no PIN 18.
        // The unit does not restart on 13 and 14 (deploy/kyso.service): restarted, each start
        // spent one more of the token's tries (all were 10; a new user's reading, 2026-12-04);
        // 18 it restarts on, as a PIN file not there yet may come.
        let e = |x: kyso_hsm::HsmError| StartError {
            message: format!(
                "{what}: {}",
                // The service has no --module flag; its config says where the module is.
                x.to_string()
                    .replace("(set --module, ", "(set token.module in the config, ")
            ),
            code: u8::try_from(x.exit_code()).unwrap_or(10),
        };
        let said = |m: String, code: u8| StartError {
            message: format!("{what}: {m}"),
            code,
        };
        let uri = Pkcs11Uri::parse(uri).map_err(e)?;
        let module = Module::for_uri(self.module_override.as_deref(), &uri).map_err(e)?;
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
                let desc = module.find_token(&uri.token_only()).map_err(e)?;
                if desc.pin_locked {
                    return Err(e(kyso_hsm::HsmError::PinLocked { token: desc.label }));
                }
                // Unattended, the service does not spend a token's last try: if its PIN is
                // wrong, that try locks an official's token until its security officer
                // unblocks it.
                if desc.pin_final_try {
                    return Err(said(
                        format!(
                            "token {:?} says one more wrong PIN locks it: the service does not spend that try unattended; check the PIN file, then log in once by hand (`kyso token objects 'pkcs11:token=…'` on a terminal, typing the PIN: a right PIN resets the count) and start the service again",
                            desc.label
                        ),
                        13,
                    ));
                }
                let mut sources = Vec::new();
                if let Some(f) = &self.pin_file {
                    sources.push(pin::PinSource::File(f.clone()));
                }
                sources.push(pin::PinSource::Env(pin::PIN_ENV.into()));
                let pin = pin::resolve(&sources, "").map_err(|x| match x {
                    kyso_hsm::HsmError::NoPin => said(
                        "no PIN: set token.pin_file in the config or KYSO_PIN in the environment"
                            .into(),
                        18,
                    ),
                    x => e(x),
                })?;
                let t = Arc::new(Token::open(&module, &uri, pin, self.sessions).map_err(e)?);
                self.tokens.push((selector, t.clone()));
                t
            }
        };
        TokenKey::find(token, &uri).map_err(e)
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

/// The client CAs: as the TLS layer's roots, and as certificates, whose keys decide which CA
/// issued a client's certificate ([`Authenticator::new`]).
type ClientCas = (
    Option<Arc<rustls::RootCertStore>>,
    Vec<Arc<kyso_verify::Cert>>,
);

fn client_roots(cfg: &Config) -> Result<ClientCas, String> {
    if cfg.server.client_ca.is_empty() {
        return Ok((None, Vec::new()));
    }
    let mut roots = rustls::RootCertStore::empty();
    let mut cas = Vec::new();
    for (i, p) in cfg.server.client_ca.iter().enumerate() {
        for c in load_certs(p, &format!("server.client_ca[{i}]"))? {
            let at = || format!("config: server.client_ca[{i}]: {}", p.display());
            cas.push(Arc::new(
                kyso_verify::Cert::from_ber(c.as_ref()).map_err(|e| format!("{}: {e}", at()))?,
            ));
            roots.add(c).map_err(|e| format!("{}: {e}", at()))?;
        }
    }
    Ok((Some(Arc::new(roots)), cas))
}

/// Largest `[trust]` file read (a national CRL is a few MiB).
const MAX_TRUST_FILE: u64 = 64 << 20;

/// A `[trust]` file's bytes: a regular file (after symlinks; a FIFO would hold the reader for
/// good) of at most [`MAX_TRUST_FILE`] bytes.
pub(super) fn read_trust_file(key: &str, p: &std::path::Path) -> Result<Vec<u8>, String> {
    read_trust_file_meta(key, p).map(|(b, _)| b)
}

/// Why another user than root and this process's may change a file or directory of trust
/// anchors (group or others may write it, or it belongs to another user): whoever may add an
/// anchor may make any signature they forge TOTAL-PASSED, at the next SIGHUP or start. A
/// directory with the sticky bit (/tmp) lets others add files but not replace one of another
/// owner: `sticky_ok` for the directory a named file is in, not for one read for its files.
fn others_may_change(m: &std::fs::Metadata, sticky_ok: bool) -> Option<String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = m.permissions().mode() & 0o7777;
    let me = rustix::process::geteuid().as_raw();
    if m.uid() != me && m.uid() != 0 {
        Some(format!(
            "belongs to another user (uid {}; kyso runs as uid {me}), who may change what the service trusts: chown it",
            m.uid()
        ))
    } else if mode & 0o022 != 0 && !(sticky_ok && mode & 0o1000 != 0) {
        Some(format!(
            "group or others may write it (mode {:o}), and so change what the service trusts: chmod go-w it",
            mode & 0o777
        ))
    } else {
        None
    }
}

/// Why another user may change `p`, a file whose metadata (read from the open file) is `m`, or
/// put another in its place: [`others_may_change`] of it, and [`path_loose`] of its path, which
/// must lead to that same file.
pub(super) fn trusted_file_loose(p: &std::path::Path, m: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if let Some(why) = others_may_change(m, false) {
        return Some(format!("{}: {why}", p.display()));
    }
    match path_loose(p) {
        Err(why) => Some(why),
        Ok(real) => match std::fs::metadata(&real) {
            Err(e) => Some(format!("{}: {e}", real.display())),
            Ok(r) if (r.dev(), r.ino()) != (m.dev(), m.ino()) => {
                Some(format!("{}: changed while it was read", p.display()))
            }
            Ok(_) => None,
        },
    }
}

/// The path `p` resolves to, each directory it passes through and each symbolic link on the
/// way looked at as it is followed: an error saying which one another user may change (a
/// directory of another owner, or one group or others may write unless sticky; a link of
/// another owner). Only the file's directory was looked at, and a link there to a file in a
/// directory another user owns let that user put the system's whole CA bundle in its place
/// (helper 151). As sshd's StrictModes, from `/` down.
fn path_loose(p: &std::path::Path) -> Result<std::path::PathBuf, String> {
    use std::collections::VecDeque;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Component, PathBuf};
    let start = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("{}: {e}", p.display()))?
            .join(p)
    };
    let me = rustix::process::geteuid().as_raw();
    let mut rest: VecDeque<std::ffi::OsString> = VecDeque::new();
    let push_front = |rest: &mut VecDeque<std::ffi::OsString>, q: &std::path::Path| {
        for c in q.components().rev() {
            match c {
                Component::Normal(n) => rest.push_front(n.to_os_string()),
                Component::ParentDir => rest.push_front("..".into()),
                _ => {}
            }
        }
    };
    push_front(&mut rest, &start);
    let mut at = PathBuf::from("/");
    let mut links = 0;
    while let Some(name) = rest.pop_front() {
        if name == ".." {
            at.pop();
            continue;
        }
        let dm = std::fs::metadata(&at).map_err(|e| format!("{}: {e}", at.display()))?;
        if let Some(why) = others_may_change(&dm, true) {
            return Err(format!(
                "{} (a directory on the way to {}): {why}",
                at.display(),
                p.display()
            ));
        }
        let next = at.join(&name);
        let lm =
            std::fs::symlink_metadata(&next).map_err(|e| format!("{}: {e}", next.display()))?;
        if !lm.file_type().is_symlink() {
            at = next;
            continue;
        }
        links += 1;
        if links > 40 {
            return Err(format!("{}: too many symbolic links", p.display()));
        }
        if lm.uid() != me && lm.uid() != 0 {
            return Err(format!(
                "{} (a symbolic link on the way to {}) belongs to another user (uid {}), who may point it elsewhere: chown -h it",
                next.display(),
                p.display(),
                lm.uid()
            ));
        }
        let target = std::fs::read_link(&next).map_err(|e| format!("{}: {e}", next.display()))?;
        if target.is_absolute() {
            at = PathBuf::from("/");
        }
        push_front(&mut rest, &target);
    }
    Ok(at)
}

/// [`read_trust_file`], for an anchor: refused if another user may change it or the directory
/// it is in ([`trusted_file_loose`]).
fn read_anchor_file(key: &str, p: &std::path::Path) -> Result<Vec<u8>, String> {
    let (b, meta) = read_trust_file_meta(key, p)?;
    match trusted_file_loose(p, &meta) {
        Some(why) => Err(format!("config: {key}: {why}")),
        None => Ok(b),
    }
}

fn read_trust_file_meta(
    key: &str,
    p: &std::path::Path,
) -> Result<(Vec<u8>, std::fs::Metadata), String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let what = |e: &dyn std::fmt::Display| format!("config: {key}: {}: {e}", p.display());
    // Opened without blocking, then looked at: a FIFO swapped in between a look at the path
    // and its opening held the re-read in open() for good, and every later one was skipped
    // (helper 147).
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(p)
        .map_err(|e| what(&e))?;
    let meta = f.metadata().map_err(|e| what(&e))?;
    if !meta.is_file() {
        return Err(what(&"not a regular file"));
    }
    if meta.len() > MAX_TRUST_FILE {
        return Err(what(&format!("more than {MAX_TRUST_FILE} bytes")));
    }
    let mut b = Vec::new();
    f.take(MAX_TRUST_FILE + 1)
        .read_to_end(&mut b)
        .map_err(|e| what(&e))?;
    if b.len() as u64 > MAX_TRUST_FILE {
        return Err(what(&format!("more than {MAX_TRUST_FILE} bytes")));
    }
    Ok((b, meta))
}

/// SHA-256 of a file's path, length and content (unambiguous: a path holds no NUL).
fn file_print(p: &std::path::Path, b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(p.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update((b.len() as u64).to_be_bytes());
    h.update(b);
    h.finalize().into()
}

type Certs = Vec<kyso_verify::CertRef>;

/// Each file of a kind, by its place in the config: what it held when last read (its
/// [`file_print`] and content), if it was ever read.
type TrustHeld<T> = Vec<Option<([u8; 32], T)>>;

/// What `[trust]` was last read as: the anchors' and certificates' files, and each CRL and
/// OCSP file with what it held.
pub struct TrustRead {
    anchors: [u8; 32],
    crls: TrustHeld<kyso_verify::Crl>,
    /// CRLs no file holds now that are still the newest of their CA read since the start: a
    /// file's CRL replaced by another CA's, then by an older one of its own CA, un-revoked a
    /// signer (helper 147).
    retained: Vec<kyso_verify::Crl>,
    ocsps: TrustHeld<kyso_verify::Ocsp>,
    /// The files (by [`file_print`]) last refused or unparsable, each with the time it may be
    /// judged again (`None`: at the next SIGHUP): a refused file left in place was parsed,
    /// verified and warned of at every tick — a 64 MiB forgery cost 25 s of CPU each
    /// (helper 149).
    refused: Refused,
    /// OCSP responses no file holds that say "revoked" or "on hold" of a certificate no
    /// response in use answers for as newly: kept from before a restart ([`TrustState`]).
    retained_ocsps: Vec<kyso_verify::Ocsp>,
    /// The [`TrustState::print`] of what `trust.state` holds.
    saved: [u8; 32],
    /// A save of `trust.state` failed, and was said: said again only once it worked.
    save_failed: bool,
    /// What `[trust]`'s part of `trust.state` is now (without the client CRLs).
    state: TrustState,
    /// Which certificate in `[trust]` verifies each CRL and OCSP response met (by SHA-256),
    /// kept from tick to tick (each check hashes the whole item) and dropped on SIGHUP.
    verified: Verified,
}

/// Which certificate in `[trust]` verifies a CRL (its fingerprint), and whether one answered
/// in an OCSP response, by the item's SHA-256.
#[derive(Default, Clone)]
struct Verified {
    crls: std::collections::HashMap<[u8; 32], Option<[u8; 32]>>,
    ocsps: std::collections::HashMap<[u8; 32], bool>,
}

/// Most OCSP responses kept though no file holds them ([`TrustRead::retained_ocsps`]).
const MAX_RETAINED_OCSPS: usize = 64;
/// Most CRL scopes (CA and [`kyso_verify::Crl::scope`]) kept, in all and of one CA: past them a CRL of a
/// new scope is refused at a re-read, and none kept is ever dropped for it. A CA that shards
/// its CRLs, or moves them over the years, adds a scope each time: a state the next start
/// refused as too large stopped it (helper 153); dropping the oldest from it dropped the one
/// revoking a signer, and a replay after the restart passed it (helper 154). Of one CA, well
/// below the 1,024 CRLs the validator reads for a certificate.
const MAX_STATE_CRLS: usize = 1024;
const MAX_SCOPES_PER_CA: usize = 64;

/// File prints refused, and when they may be judged again (`None`: on SIGHUP).
type Refused = Vec<([u8; 32], Option<std::time::SystemTime>)>;

/// Most answers (SingleResponses) an OCSP response in a trust file may hold: a verifier's
/// responses answer for a certificate each, a batch for a few hundred.
const MAX_TRUST_OCSP_ANSWERS: usize = 10_000;

/// The names a directory of anchors is read for: certificates, not an editor's backup or a
/// file renamed to withdraw it.
fn anchor_file_name(f: &std::path::Path) -> bool {
    let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
    !name.starts_with('.')
        && ["pem", "crt", "cer", "der"]
            .iter()
            .any(|x| ext.eq_ignore_ascii_case(x))
}

/// The anchors and certificates `[trust]` names, and the SHA-256 of what was read. Any file
/// that cannot be read or holds a certificate cut short fails the whole (at start, the service
/// does not start; later, what was read before stays in use); a directory is read for its
/// `*.pem`, `*.crt`, `*.cer` and `*.der` files, others named in a warning.
fn anchor_files(cfg: &Config) -> Result<(Certs, Certs, [u8; 32]), String> {
    use kyso_verify::x509;
    use sha2::Digest;
    let mut seen = sha2::Sha256::new();
    let mut read = |key: &str, p: &std::path::Path, anchor: bool| {
        let b = if anchor {
            read_anchor_file(key, p)?
        } else {
            read_trust_file(key, p)?
        };
        seen.update(file_print(p, &b));
        Ok::<_, String>(b)
    };
    let (mut anchors, mut certs) = (Vec::new(), Vec::new());
    for (i, p) in cfg.trust.anchors.iter().enumerate() {
        let key = format!("trust.anchors[{i}]");
        let listed: Vec<std::path::PathBuf> = if p.is_dir() {
            // Whoever may add a file here adds an anchor.
            let m = std::fs::metadata(p).map_err(|e| format!("config: {key}: {e}"))?;
            if let Some(why) = others_may_change(&m, false) {
                return Err(format!("config: {key}: {}: {why}", p.display()));
            }
            path_loose(p).map_err(|why| format!("config: {key}: {why}"))?;
            let mut f: Vec<_> = std::fs::read_dir(p)
                .map_err(|e| format!("config: {key}: {e}"))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            f.sort();
            f.retain(|f| {
                let take = anchor_file_name(f);
                if !take {
                    tracing::warn!(file = %f.display(), "{key}: not read (only *.pem, *.crt, *.cer and *.der files are anchors)");
                }
                take
            });
            f
        } else {
            vec![p.clone()]
        };
        for f in listed {
            anchors.extend(
                x509::load_certificates(&read(&key, &f, true)?)
                    .map_err(|e| format!("config: {key}: {}: {e}", f.display()))?,
            );
        }
    }
    for (i, p) in cfg.trust.certs.iter().enumerate() {
        let key = format!("trust.certs[{i}]");
        certs.extend(
            x509::load_certificates(&read(&key, p, false)?)
                .map_err(|e| format!("config: {key}: {}: {e}", p.display()))?,
        );
    }
    Ok((anchors, certs, seen.finalize().into()))
}

/// Each CRL file's, the CRLs kept though no file holds them, each OCSP file's, the files
/// refused, and what a restart must not forget.
struct RevocationRead {
    crls: TrustHeld<kyso_verify::Crl>,
    retained: Vec<kyso_verify::Crl>,
    ocsps: TrustHeld<kyso_verify::Ocsp>,
    retained_ocsps: Vec<kyso_verify::Ocsp>,
    refused: Refused,
    state: TrustState,
    verified: Verified,
}

/// What a restart must not forget of `[trust]`'s CRLs and OCSP responses (`trust.state`,
/// default `<db>.trust`): the newest CRL of each CA and scope ([`kyso_verify::Crl::scope`]) a certificate in
/// `[trust]` verifies, and the OCSP responses in use that one verifies. Before, a restart took
/// what the files held unchecked: an older CRL or OCSP response replayed into a file (a cron
/// job fetching over plain HTTP) un-revoked a signer from the restart on (helper 149).
#[derive(Default, Clone)]
pub struct TrustState {
    crls: Vec<kyso_verify::Crl>,
    ocsps: Vec<kyso_verify::Ocsp>,
    /// The newest CRL of each client CA (`server.client_crls`; src/serve/revocation.rs).
    client_crls: Vec<kyso_verify::Crl>,
}

/// The directory of `trust.state` when the service keeps one: when `[trust]` names CRL or OCSP
/// files, or `server.client_crls` CRLs.
fn trust_state_dir(cfg: &Config) -> Option<std::path::PathBuf> {
    let keeps = !cfg.trust.crls.is_empty()
        || !cfg.trust.ocsps.is_empty()
        || !cfg.server.client_crls.is_empty();
    let file = cfg.trust_state();
    keeps.then(|| {
        file.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf()
    })
}

/// The first line of a trust state file.
const TRUST_STATE_MAGIC: &[u8] = b"kyso trust state 1\n";
/// The most bytes a trust state file of `max` items is read for: as many items as large as a
/// trust file may be (a fixed 1 GiB refused the state of a service holding a few national CAs'
/// CRLs of tens of MiB each, and so its start; helper 156).
fn max_trust_state(max: usize) -> u64 {
    (max as u64).saturating_mul(MAX_TRUST_FILE + 9) + TRUST_STATE_MAGIC.len() as u64
}

impl TrustState {
    /// SHA-256 of what it holds (its items' own hashes, in order): whether it changed.
    fn print(&self) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for c in &self.crls {
            h.update(b"C");
            h.update(c.sha256());
        }
        for o in &self.ocsps {
            h.update(b"O");
            h.update(o.sha256());
        }
        for c in &self.client_crls {
            h.update(b"K");
            h.update(c.sha256());
        }
        h.finalize().into()
    }

    /// The file's bytes: the magic line, then per item a tag (`C` a CRL, `O` a
    /// BasicOCSPResponse, `K` a client CA's CRL), its length as an 8-byte big-endian number,
    /// its DER.
    fn encode(&self) -> Vec<u8> {
        let mut b = TRUST_STATE_MAGIC.to_vec();
        let mut item = |tag: u8, der: &[u8]| {
            b.push(tag);
            b.extend((der.len() as u64).to_be_bytes());
            b.extend(der);
        };
        for c in &self.crls {
            item(b'C', c.der());
        }
        for o in &self.ocsps {
            item(b'O', o.der());
        }
        for c in &self.client_crls {
            item(b'K', c.der());
        }
        b
    }

    /// At most `max` items; one met twice is read once.
    fn decode(b: &[u8], max: usize) -> Result<TrustState, String> {
        let mut rest = b
            .strip_prefix(TRUST_STATE_MAGIC)
            .ok_or("not a kyso trust state file")?;
        let take = |rest: &mut &[u8]| -> Result<Vec<u8>, String> {
            let (n, r) = rest.split_first_chunk::<8>().ok_or("cut short")?;
            let n = usize::try_from(u64::from_be_bytes(*n)).map_err(|_| "cut short")?;
            if n > r.len() {
                return Err("cut short".into());
            }
            let (item, r) = r.split_at(n);
            *rest = r;
            Ok(item.to_vec())
        };
        let mut state = TrustState::default();
        let mut seen = std::collections::HashSet::new();
        while let Some((&tag, r)) = rest.split_first() {
            rest = r;
            if seen.len() >= max {
                return Err(format!("more than {max} items"));
            }
            let der = take(&mut rest)?;
            {
                use sha2::Digest;
                if !seen.insert((tag, <[u8; 32]>::from(sha2::Sha256::digest(&der)))) {
                    continue;
                }
            }
            match tag {
                b'C' => state
                    .crls
                    .push(kyso_verify::x509::load_crl(&der).map_err(|e| format!("a CRL: {e}"))?),
                b'K' => state
                    .client_crls
                    .push(kyso_verify::x509::load_crl(&der).map_err(|e| format!("a CRL: {e}"))?),
                b'O' => state.ocsps.push(
                    kyso_verify::Ocsp::from_basic(&der)
                        .map_err(|e| format!("an OCSP response: {e}"))?,
                ),
                _ => return Err(format!("an item of unknown kind {tag:#04x}")),
            }
        }
        Ok(state)
    }

    /// What `p` holds, at most `max` items; none if there is no such file. A file that cannot
    /// be read, that another user may change, or that is not one is an error (the service
    /// does not start on it).
    fn load(p: &std::path::Path, max: usize) -> Result<TrustState, String> {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let what = |e: &dyn std::fmt::Display| format!("trust.state: {}: {e}", p.display());
        // Opened as the trust files are: a FIFO put there held the start (helper 152).
        let f = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(p)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TrustState::default()),
            Err(e) => return Err(what(&e)),
        };
        let meta = f.metadata().map_err(|e| what(&e))?;
        if !meta.is_file() {
            return Err(what(&"not a regular file"));
        }
        // Whoever may change it may empty it, and replays count again after a restart.
        if let Some(why) = trusted_file_loose(p, &meta) {
            return Err(format!("trust.state: {why}"));
        }
        let mut b = Vec::new();
        let limit = max_trust_state(max);
        f.take(limit.saturating_add(1))
            .read_to_end(&mut b)
            .map_err(|e| what(&e))?;
        if b.len() as u64 > limit {
            return Err(what(&format!("more than {limit} bytes")));
        }
        TrustState::decode(&b, max).map_err(|e| {
            what(&format!(
                "{e} (it keeps the newest CRLs and OCSP responses across restarts; move it away to start without it)"
            ))
        })
    }

    /// Write it in place of `p`'s content (whole or not at all).
    fn save(&self, p: &std::path::Path) -> Result<(), String> {
        kyso_archive::checkpointer::write_atomically(p, &self.encode())
            .map_err(|e| format!("trust.state: {}: {e}", p.display()))
    }
}

/// `[trust]`'s CRLs and OCSP responses, each file on its own, and the CRLs kept though no
/// file holds them ([`TrustRead::retained`]). With `before` (a re-read), a file that cannot be
/// read or parsed keeps what it held before, and so does one holding a CRL that
/// - claims a thisUpdate more than 300 s ahead (a forged one dated 2099 outranked every
///   genuine renewal until a restart; helper 147),
/// - does not verify with the key of a certificate of its CA in `trusted` (the anchors and
///   certificates in use; a CA whose certificate is not there cannot be told from a forger
///   here, and its CRLs are checked when a signature is), or
/// - is older (an earlier thisUpdate) than the newest of its CA read since the start, in any
///   file — a replayed CRL would un-revoke a signer;
///
/// and so does one holding an OCSP response
/// - produced more than 300 s ahead,
/// - that no certificate in `trusted` answered in (the CA its CertIDs name, by name and key
///   hash, signing it or certifying for OCSP signing the responder that did),
/// - that does not answer for every certificate (CertID) the file's response answered for,
/// - answering for more than [`MAX_TRUST_OCSP_ANSWERS`], or
/// - produced before the file's response.
///
/// Each is logged by file, once: a file refused or unparsable is not judged again while it
/// stays as it is, until the time it claims is no longer ahead, or a SIGHUP (`rejudge`;
/// [`TrustRead::refused`]). At start (without `before`) a file that cannot be read or parsed
/// is logged and left out.
fn revocation_files(
    cfg: &Config,
    before: Option<&TrustRead>,
    persisted: &TrustState,
    trusted: &[kyso_verify::CertRef],
    rejudge: bool,
) -> RevocationRead {
    use kyso_verify::x509;
    // A file that cannot be read or parsed: left out at start (a cron job's file that a restart
    // found broken, an HTML error page, stopped the start, which an attacker on its network
    // path could then keep doing; helper 153), kept as it was later.
    let not_read = |key: &str, e: &dyn std::fmt::Display| {
        if before.is_none() {
            tracing::error!(file = key, error = %e, "trust file not read at start: nothing of it is in use (what trust.state kept of its CA still is)");
        } else {
            tracing::error!(file = key, error = %e, "trust file not read; what it held before stays in use");
        }
    };
    let now = std::time::SystemTime::now();
    let ahead = now + Duration::from_secs(300);
    // Refused before and not to be judged again yet: kept refused, silently.
    let mut refused_now: Refused = Vec::new();
    let mut still_refused = |fp: &[u8; 32]| {
        let r = before.filter(|_| !rejudge).and_then(|b| {
            b.refused
                .iter()
                .find(|(f, until)| f == fp && until.is_none_or(|t| now < t))
        });
        if let Some(r) = r {
            refused_now.push(*r);
        }
        r.is_some()
    };
    let this_update = |c: &kyso_verify::Crl| c.list.tbs_cert_list.this_update.to_system_time();
    // Which of two CRLs of a CA and scope is newer: the later thisUpdate, and of two issued in
    // the same second the higher CRLNumber (a replay of the other of that second was taken).
    let rank = |c: &kyso_verify::Crl| (this_update(c), c.number());
    // The certificate in `trusted` whose key signed a CRL: its CA, told apart by key, not by
    // name (a CA re-keyed under its name, or another of a look-alike name, is another CA; a
    // CRL no certificate there verifies cannot be told from a forgery; helper 148).
    // Each CRL's signature checked once per re-read (a file held and unchanged is met as held
    // and as read again; each check hashes the whole CRL).
    // Kept from tick to tick, not past a SIGHUP (what `trusted` holds may have changed); only
    // what is met this time is kept for the next.
    let seed = before
        .filter(|_| !rejudge)
        .map(|b| b.verified.clone())
        .unwrap_or_default();
    let verified = std::cell::RefCell::new(Verified::default());
    let ca_of = |crl: &kyso_verify::Crl| -> Option<[u8; 32]> {
        let h = *crl.sha256();
        let mut v = verified.borrow_mut();
        if let Some(k) = v.crls.get(&h) {
            return *k;
        }
        let k = match seed.crls.get(&h) {
            Some(k) => *k,
            None => trusted
                .iter()
                .filter(|c| x509::same_name(&c.tbs().subject, &crl.list.tbs_cert_list.issuer))
                .find(|c| crl.signed_by(c).is_ok())
                .map(|c| c.fingerprint()),
        };
        v.crls.insert(h, k);
        k
    };
    // A CRL's CA and scope ([`kyso_verify::Crl::scope`]): what "newer" is judged within.
    type CrlKey = ([u8; 32], Vec<u8>);
    let key_of =
        |crl: &kyso_verify::Crl| -> Option<CrlKey> { ca_of(crl).map(|k| (k, crl.scope())) };
    // What was held before that a certificate in `trusted` verifies, dated no later than now
    // (one dated ahead, or one nobody here can verify, guards and keeps nothing).
    // At start, what the last run kept ([`TrustState`]).
    let held: Vec<(kyso_verify::Crl, CrlKey)> = before
        .map(|b| {
            b.crls
                .iter()
                .flatten()
                .map(|(_, c)| c.clone())
                .chain(b.retained.iter().cloned())
                .collect::<Vec<_>>()
        })
        .unwrap_or_else(|| persisted.crls.clone())
        .into_iter()
        // One dated ahead of the clock is kept and guards as any other: it verifies, so it is
        // its CA's; dropped, a clock set back for a moment lost every kept revocation
        // (helper 153).
        .filter_map(|c| key_of(&c).map(|k| (c, k)))
        .collect();
    // The scopes kept, and those taken from the files so far this time.
    let held_keys: std::cell::RefCell<std::collections::HashSet<CrlKey>> =
        std::cell::RefCell::new(held.iter().map(|(_, k)| k.clone()).collect());
    // Why a CRL of a scope not kept yet is not taken: too many kept.
    let over_cap = |key: &CrlKey| -> Option<String> {
        let mut keys = held_keys.borrow_mut();
        if keys.contains(key) {
            return None;
        }
        let of_ca = keys.iter().filter(|k| k.0 == key.0).count();
        if of_ca >= MAX_SCOPES_PER_CA || keys.len() >= MAX_STATE_CRLS {
            return Some(format!(
                "it is of a new scope (issuingDistributionPoint), and {of_ca} of its CA and {} in all are kept, at most {MAX_SCOPES_PER_CA} and {MAX_STATE_CRLS}: none kept is dropped for it",
                keys.len()
            ));
        }
        // Counted as kept from now on (it is taken unless refused for another reason, which
        // is judged before this).
        keys.insert(key.clone());
        None
    };
    // The newest held of each CA and scope, found once (each re-read met every held CRL
    // against every other).
    type Rank = (std::time::SystemTime, (usize, Vec<u8>));
    let mut newest: std::collections::HashMap<CrlKey, Rank> = std::collections::HashMap::new();
    for (c, k) in &held {
        let r = rank(c);
        if newest.get(k).is_none_or(|n| r > *n) {
            newest.insert(k.clone(), r);
        }
    }
    let newest_held = |key: &CrlKey| newest.get(key).cloned();
    // `held_nothing`: the CRL's file held nothing in use (broken at start, or new).
    let crl_refused = |crl: &kyso_verify::Crl, held_nothing: bool| -> Option<String> {
        if this_update(crl) > ahead {
            return Some("its thisUpdate is ahead of this machine's clock".into());
        }
        let Some(key) = key_of(crl) else {
            let named = trusted
                .iter()
                .any(|c| x509::same_name(&c.tbs().subject, &crl.list.tbs_cert_list.issuer));
            return Some(if named {
                "it does not verify with the key of its CA's certificate in [trust]".into()
            } else {
                "no certificate of its CA is in [trust] to verify it with: add the CA's certificate to trust.certs (SIGHUP), or restart".into()
            });
        };
        if newest_held(&key).is_some_and(|t| rank(crl) < t) {
            return Some(
                "it is older (an earlier thisUpdate, or of the same second a lower CRLNumber) than a CRL of the same CA read before".into(),
            );
        }
        // A CA's second scope is taken when an operator says so: at a timer re-read a network
        // attacker fed one file the CA's other genuine scopes, one a tick, until the caps
        // below refused the CA's real new one for good (helper 155). Its first is taken at
        // any re-read (its first complete and its first delta: a genuine delta let in first
        // kept the complete one out; helper 157), and so is one in a file that held nothing
        // (once: then it holds it): a
        // cron job's first good CRL, after a fetch spoiled at start, waited for a SIGHUP
        // while the signers it revokes were INDETERMINATE (helper 156).
        let new_scope_of_a_ca_kept = || {
            let keys = held_keys.borrow();
            !keys.contains(&key)
                && keys
                    .iter()
                    .any(|k| k.0 == key.0 && k.1.first() == key.1.first())
        };
        if !rejudge && !held_nothing && new_scope_of_a_ca_kept() {
            return Some("it is of a scope (issuingDistributionPoint) no CRL kept of its CA is of: taken on SIGHUP (systemctl reload kyso) or at a restart, not at a timer re-read".into());
        }
        over_cap(&key)
    };
    // Why a CRL newly read is not taken in place of what its file held, and when to judge it
    // again (`None`: on SIGHUP).
    let refused = |crl: &kyso_verify::Crl,
                   held_nothing: bool|
     -> Option<(String, Option<std::time::SystemTime>)> {
        let why = crl_refused(crl, held_nothing)?;
        let until = (this_update(crl) > ahead)
            .then(|| this_update(crl).checked_sub(Duration::from_secs(300)))
            .flatten();
        Some((why, until))
    };
    // One file: its print and bytes if it is to be judged; `None`: keep what it held (it
    // could not be read, is unchanged, or was refused before and stays so).
    let mut read_one = |key: &str, p: &std::path::Path, old: Option<&[u8; 32]>| {
        let b = read_trust_file(key, p)
            .map_err(|e| not_read(key, &e))
            .ok()?;
        let fp = file_print(p, &b);
        if old == Some(&fp) || (before.is_some() && still_refused(&fp)) {
            return None;
        }
        Some((fp, b))
    };
    let mut refusals: Refused = Vec::new();
    // A file that does not parse: said once while it stays as it is.
    let unparsed = |refusals: &mut Refused, key: &str, p: &std::path::Path, fp, e: String| {
        not_read(key, &format!("config: {key}: {}: {e}", p.display()));
        refusals.push((fp, None));
    };
    // Each file read once: what it held before, and what it holds now if that is to be judged.
    enum Fresh {
        /// Keep what it held (unreadable, unchanged, or refused before and still so).
        Keep,
        Unparsed([u8; 32], String),
        Crl([u8; 32], kyso_verify::Crl),
    }
    type Old = Option<([u8; 32], kyso_verify::Crl)>;
    let mut read: Vec<(String, &std::path::PathBuf, Old, Fresh)> = Vec::new();
    for (i, p) in cfg.trust.crls.iter().enumerate() {
        let key = format!("trust.crls[{i}]");
        let old = before.and_then(|b| b.crls.get(i).cloned().flatten());
        let fresh = match read_one(&key, p, old.as_ref().map(|(f, _)| f)) {
            None => Fresh::Keep,
            Some((fp, b)) => match x509::load_crl(&b) {
                Ok(c) => Fresh::Crl(fp, c),
                Err(e) => Fresh::Unparsed(fp, e.to_string()),
            },
        };
        read.push((key, p, old, fresh));
    }
    // At start and on SIGHUP (an operator's word), a scope whose newest CRL lists nothing and
    // expired more than 30 days ago and that no file holds now is let go, before the caps are counted: its slot
    // comes free for a CA's new scope. Filled with other scopes (a network attacker fed one
    // file the CA's genuine ones, one a tick), the caps refused the CA's real new one for
    // good; and one whose file now holds the new scope kept its slot as "what the file held
    // before" (helper 155; tests/serve_auth.rs).
    // Only a CRL that lists no certificate: an attacker who can write a file can make it hold
    // another scope and starve the one revoking a signer until it expired 30 days ago — let
    // go, its revocation was gone, and an older CRL of its scope taken after (helper 156). A
    // scope whose CRL lists certificates keeps its slot: past the caps a CA's new scope is
    // refused (its signers INDETERMINATE), never a revocation dropped.
    let lists_nothing = |c: &kyso_verify::Crl| {
        c.list
            .tbs_cert_list
            .revoked_certificates
            .as_ref()
            .is_none_or(|v| v.is_empty())
    };
    let long_expired = |c: &kyso_verify::Crl| {
        c.list
            .tbs_cert_list
            .next_update
            .is_some_and(|n| n.to_system_time() + Duration::from_secs(30 * 86400) < now)
    };
    let let_go: std::collections::HashSet<CrlKey> = if rejudge || before.is_none() {
        let in_files: std::collections::HashSet<CrlKey> = read
            .iter()
            .filter_map(|(_, _, old, fresh)| {
                let old = || old.as_ref().and_then(|(_, c)| key_of(c));
                match fresh {
                    // A file moves to the scope of what it holds now when that is a CRL it
                    // may take but for the caps: one broken, dated ahead, or not its CA's
                    // leaves the file holding what it held.
                    // (At start each is taken as it is.)
                    Fresh::Crl(_, c) if before.is_none() || this_update(c) <= ahead => {
                        key_of(c).or_else(old)
                    }
                    _ => old(),
                }
            })
            .collect();
        held.iter()
            .filter(|(h, k)| {
                !in_files.contains(k)
                    && newest_held(k).is_some_and(|t| rank(h) >= t)
                    && long_expired(h)
                    && lists_nothing(h)
            })
            .map(|(_, k)| k.clone())
            .collect()
    } else {
        Default::default()
    };
    held_keys.borrow_mut().retain(|k| !let_go.contains(k));
    // What a file held before, unless its scope is let go.
    let kept_old = |old: Old| old.filter(|(_, c)| key_of(c).is_none_or(|k| !let_go.contains(&k)));
    let mut crls = Vec::new();
    for (key, p, old, fresh) in read {
        let key = key.as_str();
        let crl = match fresh {
            Fresh::Keep => {
                crls.push(kept_old(old));
                continue;
            }
            Fresh::Unparsed(fp, e) => {
                unparsed(&mut refusals, key, p, fp, e);
                crls.push(kept_old(old));
                continue;
            }
            Fresh::Crl(fp, c) => (fp, c),
        };
        let (fp, crl) = crl;
        if before.is_none() {
            // At start a CRL is taken as it is (one of a CA not in [trust] is checked when a
            // signature is), unless it is older than the newest of its CA the last run kept:
            // that one stays in use (below).
            let k = key_of(&crl);
            let older = k
                .as_ref()
                .and_then(newest_held)
                .is_some_and(|t| rank(&crl) < t);
            if older {
                tracing::warn!(
                    file = key,
                    path = %p.display(),
                    "trust file holds an older CRL (an earlier thisUpdate) than the newest of its CA read before the restart: that one stays in use"
                );
                crls.push(None);
            } else if let Some(why) = k.as_ref().and_then(over_cap) {
                tracing::warn!(file = key, path = %p.display(), "trust file holds a CRL not taken at start ({why})");
                crls.push(None);
            } else {
                crls.push(Some((fp, crl)));
            }
            continue;
        }
        crls.push(match refused(&crl, old.is_none()) {
            Some((why, until)) => {
                tracing::warn!(
                    file = key,
                    path = %p.display(),
                    "trust file holds a CRL not taken ({why}): what the file held before stays in use"
                );
                refusals.push((fp, until));
                kept_old(old)
            }
            None => Some((fp, crl)),
        });
    }
    // The newest held before of each CA and scope stays while no file holds one as new.
    let mut now_held: std::collections::HashMap<CrlKey, Rank> = std::collections::HashMap::new();
    for (_, c) in crls.iter().flatten() {
        if let Some(k) = key_of(c) {
            let r = rank(c);
            if now_held.get(&k).is_none_or(|n| r > *n) {
                now_held.insert(k, r);
            }
        }
    }
    let mut retained: Vec<kyso_verify::Crl> = Vec::new();
    let mut kept_for: Vec<CrlKey> = Vec::new();
    for (h, k) in &held {
        let newest = newest_held(k).is_some_and(|t| rank(h) >= t);
        let covered = now_held.get(k).is_some_and(|t| *t >= rank(h));
        if let_go.contains(k) {
            if newest && !kept_for.contains(k) {
                kept_for.push(k.clone());
                tracing::warn!(
                    issuer = %x509::name_string(&h.list.tbs_cert_list.issuer),
                    "a CRL no trust file holds, expired more than 30 days ago, is let go"
                );
            }
            continue;
        }
        if newest && !covered && !kept_for.contains(k) {
            // Said once, when it starts (every tick, a log flood; helper 148).
            if !before.is_some_and(|b| b.retained.iter().any(|r| r.sha256() == h.sha256())) {
                tracing::warn!(
                    issuer = %x509::name_string(&h.list.tbs_cert_list.issuer),
                    "no trust file holds this CA's newest CRL read before any more: it stays in use (and in trust.state, across restarts) until a file holds a newer one"
                );
            }
            kept_for.push(k.clone());
            retained.push(h.clone());
        }
    }
    // OCSP responses, as CRLs: a file renewed by a cron job over plain HTTP (as OCSP is
    // served) takes what the network gave it. A forged response, or another certificate's
    // genuine one, in place of the one saying "revoked" dropped that answer (the signature
    // went from REVOKED to INDETERMINATE), and so did an unreadable one at validation.
    let produced = |o: &kyso_verify::Ocsp| o.basic.tbs_response_data.produced_at.0.to_system_time();
    let ca_answered = |o: &kyso_verify::Ocsp| {
        let h = *o.sha256();
        let mut v = verified.borrow_mut();
        if let Some(a) = v.ocsps.get(&h) {
            return *a;
        }
        let a = match seed.ocsps.get(&h) {
            Some(a) => *a,
            None => {
                o.basic.tbs_response_data.responses.len() <= MAX_TRUST_OCSP_ANSWERS
                    && trusted
                        .iter()
                        .any(|c| kyso_verify::path::revocation::answered_by(o, c))
            }
        };
        v.ocsps.insert(h, a);
        a
    };
    // What a response says of each certificate (serial number, CA in `trusted`) it answers
    // for. By serial and CA, not by CertID as encoded: a CA's SHA-256 CertIDs for its SHA-1
    // ones are the same certificates.
    use kyso_verify::path::revocation::Says;
    type Asked = std::collections::HashSet<((Vec<u8>, Option<[u8; 32]>), Says)>;
    let asked = |o: &kyso_verify::Ocsp| -> Asked {
        kyso_verify::path::revocation::answers(o, trusted)
            .into_iter()
            .filter(|(_, ca, _)| ca.is_some())
            .map(|(serial, ca, says)| ((serial, ca), says))
            .collect()
    };
    // Does `now` still say what `old` said of a certificate it said was revoked or on hold?
    // A "revoked" is answered only by a "revoked"; a hold by anything but "unknown" (lifted,
    // or revoked for good). A newer "unknown", or a lagging responder's "good", took the place
    // of a "revoked" (helper 153).
    let still_said = |old: &Asked, now: &Asked| {
        old.iter().all(|(k, said)| {
            let may: &[Says] = match said {
                Says::Revoked => &[Says::Revoked],
                Says::OnHold => &[Says::Good, Says::Revoked, Says::OnHold],
                Says::Good | Says::Unknown => return true,
            };
            may.iter().any(|m| now.contains(&(k.clone(), *m)))
        })
    };
    let answers = |o: &kyso_verify::Ocsp| o.basic.tbs_response_data.responses.len();
    // Why a response newly read is not taken in place of `old`, what its file held.
    let ocsp_refused = |o: &kyso_verify::Ocsp, old: Option<&kyso_verify::Ocsp>| {
        if produced(o) > ahead {
            return Some("it was produced ahead of this machine's clock".to_string());
        }
        if answers(o) > MAX_TRUST_OCSP_ANSWERS {
            return Some(format!(
                "it answers for {} certificates, more than {MAX_TRUST_OCSP_ANSWERS}",
                answers(o)
            ));
        }
        if !ca_answered(o) {
            return Some("no certificate in [trust] answered in it: neither the CA its answers name nor a responder that CA certified signed it, or the CA is not in [trust] (add it to trust.certs, SIGHUP)".into());
        }
        // One nobody here can verify guards nothing; one dated ahead of the clock does (it
        // verifies: a clock set back for a moment let an older "good" in; helper 153).
        let old = old.filter(|h| answers(h) <= MAX_TRUST_OCSP_ANSWERS && ca_answered(h))?;
        // The same signed answers with other certificates beside them: nothing new, and the
        // genuine responder's certificate swapped for a revoked sibling of its key made the
        // "revoked" unbelievable (helper 153).
        if o.tbs_bytes() == old.tbs_bytes() {
            return Some(
                "it says nothing the response in use does not (the same signed answers)".into(),
            );
        }
        if produced(o) < produced(old) {
            return Some("it is older (an earlier producedAt) than the response in use".into());
        }
        // Only a "revoked" or "on hold" must not be dropped: a response that answers for more
        // certificates, taken once, refused every later answer for fewer (a "revoked" among
        // them) while its "good" stood (helper 151).
        if !still_said(&asked(old), &asked(o)) {
            return Some("it does not say of a certificate what the response in use says (revoked, or on hold)".into());
        }
        None
    };
    let mut ocsps = Vec::new();
    for (i, p) in cfg.trust.ocsps.iter().enumerate() {
        let key = format!("trust.ocsps[{i}]");
        let old = before.and_then(|b| b.ocsps.get(i).cloned().flatten());
        let Some((fp, b)) = read_one(&key, p, old.as_ref().map(|(f, _)| f)) else {
            ocsps.push(old);
            continue;
        };
        let ocsp = match x509::load_ocsp(&b) {
            Ok(o) => o,
            Err(e) => {
                unparsed(&mut refusals, &key, p, fp, e.to_string());
                ocsps.push(old);
                continue;
            }
        };
        if before.is_none() {
            // At start a response is taken as it is (what the last run kept beside it is
            // judged below), if it is not too large to judge.
            if answers(&ocsp) > MAX_TRUST_OCSP_ANSWERS {
                unparsed(
                    &mut refusals,
                    &key,
                    p,
                    fp,
                    format!("it answers for more than {MAX_TRUST_OCSP_ANSWERS} certificates"),
                );
            }
            ocsps.push(Some((fp, ocsp)));
            continue;
        }
        ocsps.push(match ocsp_refused(&ocsp, old.as_ref().map(|(_, o)| o)) {
            Some(why) => {
                tracing::warn!(
                    file = key,
                    path = %p.display(),
                    "trust file holds an OCSP response not taken ({why}): what the file held before stays in use"
                );
                let until = (produced(&ocsp) > ahead)
                    .then(|| produced(&ocsp).checked_sub(Duration::from_secs(300)))
                    .flatten();
                refusals.push((fp, until));
                old
            }
            None => Some((fp, ocsp)),
        });
    }
    refused_now.extend(refusals);
    // A response read before (at start: kept by the last run) stays in use while it says
    // "revoked" or "on hold" of a certificate (serial number and CA) that no response in use
    // answers for as newly — a replayed older "good", or a file pointed at other
    // certificates, cannot drop it. At a re-read a file's response cannot drop one (it is
    // refused above), so only those kept from before the restart are judged again here.
    let in_use: Vec<&kyso_verify::Ocsp> = ocsps
        .iter()
        .flatten()
        .map(|(_, o)| o)
        .filter(|o| ca_answered(o))
        .collect();
    let candidates: Vec<kyso_verify::Ocsp> = match before {
        Some(b) => b.retained_ocsps.clone(),
        None => persisted.ocsps.clone(),
    };
    // What each answers for, once (a response may answer for 10,000), and only when there is
    // something to judge it against (most ticks there is none).
    let in_use_asked: Vec<_> = if candidates.is_empty() {
        Vec::new()
    } else {
        in_use.iter().map(|o| (produced(o), asked(o))).collect()
    };
    let mut retained_ocsps: Vec<kyso_verify::Ocsp> = Vec::new();
    for c in candidates {
        if !ca_answered(&c)
            || in_use.iter().any(|o| o.sha256() == c.sha256())
            || retained_ocsps.iter().any(|o| o.sha256() == c.sha256())
        {
            continue;
        }
        // Open while no response in use as new says of each of its revoked or held
        // certificates what it says (`still_said`, answer by answer).
        let open = asked(&c)
            .into_iter()
            .filter(|(_, said)| matches!(said, Says::Revoked | Says::OnHold))
            .any(|(k, said)| {
                let one: Asked = [(k, said)].into_iter().collect();
                !in_use_asked
                    .iter()
                    .any(|(t, a)| *t >= produced(&c) && still_said(&one, a))
            });
        if open {
            if before.is_none() {
                tracing::warn!(
                    "an OCSP response in use before the restart says a certificate is revoked or on hold, and no trust file answers for it as newly: it stays in use"
                );
            }
            retained_ocsps.push(c);
        }
    }
    if retained_ocsps.len() > MAX_RETAINED_OCSPS {
        retained_ocsps.sort_by_key(|o| std::cmp::Reverse(produced(o)));
        retained_ocsps.truncate(MAX_RETAINED_OCSPS);
        tracing::warn!("more than {MAX_RETAINED_OCSPS} OCSP responses kept from before the restart: the oldest are dropped");
    }
    // What the next start must not forget: the newest CRL of each CA and scope in use, and
    // the OCSP responses in use that [trust] verifies.
    let mut state = TrustState::default();
    let mut newest_of: std::collections::HashMap<CrlKey, (Rank, &kyso_verify::Crl)> =
        std::collections::HashMap::new();
    for c in crls.iter().flatten().map(|(_, c)| c).chain(&retained) {
        let Some(k) = key_of(c) else { continue };
        let r = rank(c);
        if newest_of.get(&k).is_none_or(|(n, _)| r > *n) {
            newest_of.insert(k, (r, c));
        }
    }
    state.crls = newest_of.into_values().map(|(_, c)| c.clone()).collect();
    state.ocsps = in_use
        .iter()
        .map(|o| (*o).clone())
        .chain(retained_ocsps.iter().cloned())
        .collect();
    RevocationRead {
        crls,
        retained,
        ocsps,
        retained_ocsps,
        refused: refused_now,
        state,
        verified: verified.into_inner(),
    }
}

/// The validator `[trust]` makes, and what was read.
/// With what `trust.state` is to hold now: saved by the caller once the archive is opened
/// (its lock held: a second service started on the same database rewrote it, then exited;
/// helper 152).
fn validator(
    cfg: &Config,
) -> Result<(kyso_verify::Validator, TrustRead, Vec<kyso_verify::Crl>), String> {
    let (anchors, certs, anchors_print) = anchor_files(cfg)?;
    let trusted: Certs = anchors.iter().chain(&certs).cloned().collect();
    // As many as a save writes (the scopes a re-read takes, and those of the files at a
    // start): a file of more holds no state of this service's.
    let max = MAX_STATE_CRLS
        + cfg.trust.crls.len()
        + cfg.trust.ocsps.len()
        + MAX_RETAINED_OCSPS
        + MAX_STATE_CRLS;
    let file = cfg.trust_state();
    if let Some(dir) = trust_state_dir(cfg) {
        let dir = dir.as_path();
        // Whoever may write its directory may delete it, and replays count again after the
        // next restart: checked whether the file is there or not (helper 153).
        if let Ok(m) = std::fs::metadata(dir) {
            if let Some(why) = others_may_change(&m, true) {
                return Err(format!(
                    "trust.state: {} (its directory): {why}",
                    dir.display()
                ));
            }
            path_loose(dir).map_err(|why| format!("trust.state: {why}"))?;
        }
        if !file.exists() && cfg.archive.db.exists() {
            tracing::warn!(
                file = %file.display(),
                "trust.state is not there though the archive is: the first start of this version, or it was removed (what it kept is lost: older CRLs and OCSP responses replayed into the files are taken this once)"
            );
        }
    }
    let persisted = TrustState::load(&file, max)?;
    let r = revocation_files(cfg, None, &persisted, &trusted, false);
    let read = TrustRead {
        anchors: anchors_print,
        crls: r.crls,
        retained: r.retained,
        ocsps: r.ocsps,
        retained_ocsps: r.retained_ocsps,
        refused: r.refused,
        saved: persisted.print(),
        save_failed: false,
        state: r.state,
        verified: r.verified,
    };
    let mut v = kyso_verify::Validator::default();
    (v.anchors, v.certs) = (anchors, certs);
    in_use(&mut v, &read);
    Ok((v, read, persisted.client_crls))
}

/// The validator's CRLs and OCSP responses: those `read` holds.
fn in_use(v: &mut kyso_verify::Validator, read: &TrustRead) {
    v.crls = read
        .crls
        .iter()
        .flatten()
        .map(|(_, c)| c.clone())
        .chain(read.retained.iter().cloned())
        .collect();
    v.ocsps = read
        .ocsps
        .iter()
        .flatten()
        .map(|(_, o)| o.clone())
        .chain(read.retained_ocsps.iter().cloned())
        .collect();
}

/// Write `read`'s part of `trust.state` with the client CRLs `client` if that is not what was
/// last saved; a failure is said once until a save works again.
fn persist_trust(cfg: &Config, read: &mut TrustRead, client: Vec<kyso_verify::Crl>) {
    let state = TrustState {
        client_crls: client,
        ..read.state.clone()
    };
    if state.print() == read.saved {
        return;
    }
    match state.save(&cfg.trust_state()) {
        Ok(()) => {
            read.saved = state.print();
            read.save_failed = false;
        }
        Err(e) if !read.save_failed => {
            read.save_failed = true;
            tracing::error!(error = %e, "trust state not saved: a restart may take older CRLs or OCSP responses than those in use (said once until it works)");
        }
        Err(_) => {}
    }
}

/// Read `[trust]` again, so that a CRL or OCSP file a cron job renewed counts from the next
/// request on without a restart (all of it was read once, at start, until 2026-12-05: a
/// renewed CRL went unseen, and an expired one left signatures INDETERMINATE). The timer
/// re-reads the CRLs and OCSP responses only; SIGHUP — the operator's `systemctl reload` —
/// the anchors and certificates too (not kyso.toml): what the service trusts changes only
/// when an operator says so, not because a file in a directory did. See [`anchor_files`] and
/// [`revocation_files`] for what a failure keeps. A CRL in use past its nextUpdate is said
/// at every re-read.
fn reload_trust(state: &Shared, why: &'static str) {
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        // One re-read at a time; one stuck on a file (a hung mount) is not joined by another
        // each tick.
        let mut read = match st.trust_read.try_lock() {
            Ok(r) => r,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                tracing::warn!(
                    trigger = why,
                    "trust files: the last re-read has not ended; this one skipped"
                );
                return;
            }
        };
        let current = st.validator();
        let mut v = (*current).clone();
        let mut anchors_print = read.anchors;
        if why == "SIGHUP" {
            match anchor_files(&st.cfg) {
                Ok((anchors, certs, print)) => {
                    if anchors.len() < v.anchors.len() {
                        tracing::warn!(
                            before = v.anchors.len(),
                            now = anchors.len(),
                            "trust anchors: fewer than before"
                        );
                    }
                    (v.anchors, v.certs, anchors_print) = (anchors, certs, print);
                }
                Err(e) => {
                    tracing::error!(error = %e, trigger = why, "trust anchors and certificates not read; the ones read before stay in use")
                }
            }
        }
        let trusted: Certs = v.anchors.iter().chain(&v.certs).cloned().collect();
        let sighup = why == "SIGHUP";
        let r = revocation_files(
            &st.cfg,
            Some(&read),
            &TrustState::default(),
            &trusted,
            sighup,
        );
        // What a restart must not forget, written after what is read is in use.
        let client = st
            .auth
            .revocation
            .as_ref()
            .map(|c| c.kept())
            .unwrap_or_default();
        let fresh = TrustRead {
            anchors: anchors_print,
            crls: r.crls,
            retained: r.retained,
            ocsps: r.ocsps,
            retained_ocsps: r.retained_ocsps,
            refused: r.refused,
            saved: read.saved,
            save_failed: read.save_failed,
            state: r.state,
            verified: r.verified,
        };
        for (i, (_, c)) in fresh
            .crls
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
        {
            let next = c.list.tbs_cert_list.next_update.map(|t| t.to_system_time());
            if next.is_some_and(|n| n < std::time::SystemTime::now()) {
                tracing::warn!(
                    file = format!("trust.crls[{i}]"),
                    "the CRL in use is past its nextUpdate: renew the file"
                );
            }
        }
        let prints = |r: &TrustRead| {
            (
                r.anchors,
                r.crls
                    .iter()
                    .map(|c| c.as_ref().map(|x| x.0))
                    .collect::<Vec<_>>(),
                r.retained.iter().map(|c| *c.sha256()).collect::<Vec<_>>(),
                r.retained_ocsps
                    .iter()
                    .map(|c| *c.sha256())
                    .collect::<Vec<_>>(),
                r.ocsps
                    .iter()
                    .map(|c| c.as_ref().map(|x| x.0))
                    .collect::<Vec<_>>(),
            )
        };
        if prints(&read) == prints(&fresh) {
            read.refused = fresh.refused;
            read.verified = fresh.verified;
            read.state = fresh.state;
            persist_trust(&st.cfg, &mut read, client);
            if why == "SIGHUP" {
                tracing::info!(trigger = why, "trust files read again: unchanged");
            }
            return;
        }
        let anchors_changed = read.anchors != fresh.anchors;
        in_use(&mut v, &fresh);
        let (anchors, crls, ocsps) = (v.anchors.len(), v.crls.len(), v.ocsps.len());
        if anchors == 0 {
            tracing::warn!("no trust anchors read: no signature will be TOTAL-PASSED");
        }
        *st.validator.lock().unwrap_or_else(|p| p.into_inner()) = (Instant::now(), Arc::new(v));
        *read = fresh;
        tracing::info!(
            trigger = why,
            anchors,
            anchors_changed,
            crls,
            ocsps,
            "trust files read again: in use from now on"
        );
        persist_trust(&st.cfg, &mut read, client);
    });
}

/// Build everything, then serve until SIGTERM or SIGINT.
pub fn run(cfg: Config, check_only: bool) -> Result<(), StartError> {
    let cfg_err = start_err(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kyso-http")
        // A batch document is read, and the signatures already in it validated, on a blocking
        // thread: give those threads the stack the CLI's main thread has (8 MiB), on which the
        // readers are fuzzed, not tokio's 2 MiB. (Depth-64 nestings, chained through 300
        // objects and diffed across revisions, needed under 512 KiB in a debug build.)
        .thread_stack_size(8 << 20)
        .build()
        .map_err(|e| StartError {
            message: format!("runtime: {e}"),
            code: 1,
        })?;
    // SIGHUP's handler first of all: one that came while the tokens were opened (`systemctl
    // restart` then `reload`: the unit is active from exec on) took the default action, and
    // the service ended by a signal, which systemd counts as clean and does not restart
    // (helper 255). One that comes during the start is answered once the service listens.
    let hup = {
        let _in = rt.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    };
    let starting = Starting::begin(if check_only {
        "still checking"
    } else {
        "still starting: not listening yet"
    });
    let mut ring = Keyring {
        modules: Vec::new(),
        tokens: Vec::new(),
        module_override: cfg.token.module.clone(),
        pin_file: cfg.token.pin_file.clone(),
        sessions: cfg.token.sessions,
        starting: starting.clone(),
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
            let tsa = Tsa::new(Arc::new(k), policy).map_err(|e| StartError {
                message: format!("config: tsa.key: {e}"),
                code: 3,
            })?;
            // Said at start: past its certificate's validity the TSA rejects every request.
            let (from, to) = tsa.validity();
            let now = std::time::SystemTime::now();
            let said = if now < from || now > to {
                Some(format!(
                    "tsa.key: the TSA's certificate is not valid now (valid from {} to {}): every time-stamp request will be rejected, and B-T signing fails",
                    kyso_verify::rfc3339(from),
                    kyso_verify::rfc3339(to)
                ))
            } else if to < now + Duration::from_secs(30 * 86_400) {
                Some(format!(
                    "tsa.key: the TSA's certificate expires at {}: renew it before then",
                    kyso_verify::rfc3339(to)
                ))
            } else {
                None
            };
            if let Some(w) = said {
                tracing::warn!("{w}");
                if check_only {
                    eprintln!("kyso: warning: {w}");
                }
            }
            Some(Arc::new(tsa))
        }
        None => None,
    };
    // One key, one purpose: a document signed with the log key or the TSA's key would be
    // taken for a checkpoint or a time-stamp by whoever holds only the key (URIs may name one
    // object differently: the public keys are compared).
    let mut purposes = vec![("archive.log_key", log_key.public_key_info())];
    let same_as = |what: &str,
                   spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
                   purposes: &[(&str, _)]| {
        match purposes.iter().find(|(_, p)| *p == spki) {
            Some((other, _)) => Err(cfg_err(format!(
                "config: {what}: the same key as {other}; a key signs for one purpose — give it its own key on the token"
            ))),
            None => Ok(()),
        }
    };
    if let Some(t) = &tsa {
        same_as("tsa.key", t.key().public_key_info(), &purposes)?;
        purposes.push(("tsa.key", t.key().public_key_info()));
    }
    let mut keys = BTreeMap::new();
    for (i, k) in cfg.keys.iter().enumerate() {
        let what = format!("keys[{i}].uri");
        let key = ring.open(&what, &k.uri)?;
        same_as(&what, key.public_key_info(), &purposes)?;
        keys.insert(
            k.name.clone(),
            ServerKey {
                key: Arc::new(key),
                tsa: tsa.clone().map(TimestampSource::Internal),
            },
        );
    }
    for w in &cfg.warnings {
        tracing::warn!("{w}");
        if check_only {
            eprintln!("kyso: warning: {w}");
        }
    }
    let (validator, mut trust_read, kept_client_crls) = validator(&cfg).map_err(&cfg_err)?;
    if validator.anchors.is_empty() {
        tracing::warn!("no trust anchors configured: no signature will be TOTAL-PASSED");
    }
    let (roots, client_cas) = client_roots(&cfg).map_err(&cfg_err)?;
    let auth = Authenticator::new(&cfg, roots, &client_cas, &kept_client_crls).map_err(&cfg_err)?;
    let tls = if cfg.server.plain_http {
        None
    } else {
        Some(tls_config(&cfg, &auth).map_err(&cfg_err)?)
    };
    // A mistyped archive.db made `--check` create an empty archive there, and the start then
    // served it without a word (helper 170): `--check` creates nothing and says so, the start
    // says it creates one.
    let new_archive = !kyso_archive::Archive::holds(&cfg.archive.db);
    if new_archive {
        let w = format!(
            "archive.db: {} holds no archive: the service creates a new, empty one there at its start (check the path if an archive was meant)",
            cfg.archive.db.display()
        );
        tracing::warn!("{w}");
        if check_only {
            eprintln!("kyso: warning: {w}");
        }
    }
    starting.step("opening the archive (and signing a checkpoint if one is due)".into());
    let opened = (!(check_only && new_archive)).then(|| {
        Store::open(
            &cfg.archive.db,
            log_key.clone() as Arc<dyn kyso_hsm::SignDigest>,
            cfg.archive.origin.clone(),
            cfg.archive.key_name().to_string(),
            cfg.archive.allow_unsigned_with_reason,
            cfg.archive.checkpoint_state(),
            cfg.limits.upload_bytes as u64,
        )
        .map_err(|e| StartError {
            message: format!("archive.db: {e}"),
            code: u8::try_from(e.exit_code()).unwrap_or(21),
        })
    });
    let store = opened.transpose()?.map(Arc::new);
    let state = cfg.archive.checkpoint_state();
    super::error::hide_dirs(
        [
            Some(cfg.archive.db.as_path()),
            state.parent(),
            cfg.export.as_ref().map(|e| e.dir.as_path()),
        ]
        .into_iter()
        .flatten(),
    );
    let exports = match &cfg.export {
        Some(e) => Some(Arc::new(super::exports::Exports::open(e).map_err(|x| {
            StartError {
                message: format!("config: export.dir: {}: {x}", e.dir.display()),
                code: 3,
            }
        })?)),
        None => None,
    };
    // `trust.state` is written once the archive's lock is held (below), and must be writable.
    let trust_file = cfg.trust_state();
    if check_only {
        if let Some(dir) = trust_state_dir(&cfg) {
            rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK).map_err(|e| StartError {
                message: format!(
                    "config: trust.state: {}: its directory cannot be written ({e}): the newest CRLs and OCSP responses could not be kept across restarts",
                    trust_file.display()
                ),
                code: 3,
            })?;
        }
        if new_archive {
            outln!("configuration and token are in order; the archive is created at the start");
        } else {
            outln!("configuration, token and archive are in order");
        }
        return Ok(());
    }
    let Some(store) = store else {
        return Err(StartError {
            message: "archive.db: not opened".into(),
            code: 21,
        });
    };
    let trust_state = TrustState {
        client_crls: auth
            .revocation
            .as_ref()
            .map(|c| c.kept())
            .unwrap_or_default(),
        ..trust_read.state.clone()
    };
    if trust_state.print() != trust_read.saved {
        trust_state.save(&trust_file).map_err(&cfg_err)?;
        trust_read.saved = trust_state.print();
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
        cfg.limits.public_part(cfg.limits.verify_queue),
        cfg.limits.verify_queue_per_client,
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
    let budget = Budget::new(
        cfg.limits.inflight_bytes,
        cfg.limits.public_part(cfg.limits.inflight_bytes),
        cfg.limits.inflight_bytes_per_client,
    );
    if let (Some(x), Some(e)) = (&exports, &cfg.export) {
        x.run_workers(e.concurrent, store.clone(), tsa.clone())
            .map_err(|e| StartError {
                message: format!("export threads: {e}"),
                code: 1,
            })?;
    }
    let cfg_sessions = cfg.token.sessions;
    let state = Arc::new(AppState {
        exports,
        remote: api::sign::PendingStore::new(&cfg.limits),
        budget,
        cfg,
        auth,
        limiter,
        store: store.clone(),
        keys,
        tsa,
        validator: std::sync::Mutex::new((Instant::now(), Arc::new(validator))),
        trust_read: std::sync::Mutex::new(trust_read),
        metrics,
        sign_readings: Arc::new(tokio::sync::Semaphore::new(
            cfg_sessions.max(verify_threads),
        )),
        verify_pool,
        draining: Default::default(),
    });
    starting.done();
    let result = rt.block_on(serve(state.clone(), tls, hup));
    // Requests are drained (or past the deadline: dropped). Work on blocking threads (token,
    // RocksDB) gets a moment to end; validations still running are abandoned. Then stop the
    // publisher (it signs a last checkpoint over everything written), then close the archive:
    // its writer and syncer finish their batches.
    rt.shutdown_timeout(Duration::from_secs(2));
    state.verify_pool.stop(Duration::ZERO);
    store.stop();
    // The last checkpoint is waited for at most LAST_CHECKPOINT_WAIT, with the one a caller
    // had signed on demand: a token that hangs (a USB token pulled mid-call, a held lock)
    // held the stop for as long as it hung — 30.6 s in a 30 s hang, on top of the drain
    // (helper 254), past the unit's TimeoutStopSec, where systemd kills.
    let deadline = Instant::now() + LAST_CHECKPOINT_WAIT;
    while !publisher.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let published = publisher.is_finished();
    let on_demand = store.idle_by(deadline);
    if !(published && on_demand) {
        tracing::error!(
            waited_secs = LAST_CHECKPOINT_WAIT.as_secs(),
            "the checkpoint key did not answer: stopping without a last checkpoint (every entry acknowledged is on disk; the next start signs one)"
        );
    } else {
        let _ = publisher.join();
    }
    // Work the runtime gave up on (a request's token call) still holds the state.
    let abandoned = Arc::strong_count(&state) > 1;
    drop(state);
    let closed = match Arc::try_unwrap(store) {
        Ok(s) => {
            drop(s);
            true
        }
        Err(_) => {
            tracing::warn!("archive still in use at exit (by a token call or an export): every entry acknowledged is on disk; RocksDB replays its log at the next start");
            false
        }
    };
    tracing::info!("kyso serve stopped");
    if !(published && on_demand && closed) || abandoned {
        // Threads are left inside token calls. Ending the process the usual way runs the
        // libraries' exit handlers (OpenSSL's, the PKCS#11 module's) under them: a token that
        // answered just as the stop gave up crashed the exit (SIGSEGV in `C_Sign`, 3 stops in
        // 84; helper 255), and systemd then reports a core dump. Nothing is left to write:
        // every acknowledged entry is synced, and the logs go to stderr unbuffered.
        tracing::warn!(
            "work is still running in token calls: ending without the libraries' exit handlers"
        );
        let code = match &result {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("kyso: {}", super::redact::redact_text(&e.message));
                i32::from(e.code)
            }
        };
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: `_exit` ends the process at once; no Rust state is used after it.
        unsafe { libc::_exit(code) };
    }
    result
}

/// Says what a start still waits on, every [`START_NOTICE`]: a token that hangs at login (a
/// USB token pulled, a held lock) kept the start silent and not listening for as long
/// (helper 255). Cloned into what opens the keys; [`Starting::done`] once all is open.
#[derive(Clone)]
struct Starting(Arc<std::sync::Mutex<Option<String>>>);

/// How often a start that waits says so ([`Starting`]).
const START_NOTICE: Duration = Duration::from_secs(5);

impl Starting {
    /// `saying`: the log line's message (a check never listens).
    fn begin(saying: &'static str) -> Starting {
        let s = Starting(Arc::new(std::sync::Mutex::new(Some(
            "reading the configuration".into(),
        ))));
        let watched = Arc::downgrade(&s.0);
        let began = Instant::now();
        let _ = std::thread::Builder::new()
            .name("kyso-start".into())
            .spawn(move || {
                let mut notice = START_NOTICE;
                loop {
                    std::thread::sleep(Duration::from_millis(200));
                    let Some(s) = watched.upgrade() else { return };
                    let Some(step) = s.lock().unwrap_or_else(|p| p.into_inner()).clone() else {
                        return;
                    };
                    if began.elapsed() >= notice {
                        tracing::warn!(
                            waited_secs = notice.as_secs(),
                            step = %step,
                            "{saying}"
                        );
                        notice += START_NOTICE;
                    }
                }
            });
        s
    }

    fn step(&self, what: String) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(what);
    }

    fn done(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// How long a stop waits for the last checkpoint's signature ([`run`]).
const LAST_CHECKPOINT_WAIT: Duration = Duration::from_secs(10);

/// What a SIGHUP reads again: CRLs, trust files, clients and API tokens.
fn on_sighup(state: &Shared) {
    reload_crls(state, "SIGHUP");
    reload_trust(state, "SIGHUP");
    reload_credentials(state);
}

/// SIGTERM or SIGINT, their handlers installed when this is called (not when the future is
/// first polled): a signal between the start and the first poll took the default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        match (term, int) {
            (Some(mut t), Some(mut i)) => {
                tokio::select! {
                    _ = t.recv() => {}
                    _ = i.recv() => {}
                }
            }
            (Some(mut t), None) => {
                t.recv().await;
            }
            (None, Some(mut i)) => {
                i.recv().await;
            }
            (None, None) => std::future::pending().await,
        }
    }
}

async fn serve(
    state: Shared,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut hup: Option<tokio::signal::unix::Signal>,
) -> Result<(), StartError> {
    let listen = state.cfg.server.listen;
    let listener = TcpListener::bind(listen).await.map_err(|e| StartError {
        message: format!("config: server.listen: cannot listen on {listen}: {e}"),
        code: 3,
    })?;
    let local = listener.local_addr().map_err(|e| StartError {
        message: e.to_string(),
        code: 1,
    })?;
    // SIGTERM's handler before the service says it listens (SIGHUP's is installed first thing,
    // in `run`): a signal sent on that line took the default action when it came before.
    let shutdown = shutdown_signal();
    tracing::info!(listen = %local, tls = tls.is_some(), "kyso serve listening");
    // Tests and scripts wait for this line on stdout.
    outln!(
        "listening on {}://{local}",
        if tls.is_some() { "https" } else { "http" }
    );
    // A SIGHUP before the runtime's handler was installed ([`super::early_sighup`]): answered
    // now, as one during the start is.
    if super::early_sighup() {
        on_sighup(&state);
    }
    let router = api::router(state.clone());
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let limits = &state.cfg.limits;
    let slots = Arc::new(Slots::new(
        limits.max_connections,
        limits.public_part(limits.max_connections),
    ));
    let per_address = Arc::new(PerAddress::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    let mut reload =
        tokio::time::interval(Duration::from_secs(state.cfg.server.client_crl_reload_secs));
    reload.tick().await;
    let (handshake_t, header_t) = (
        Duration::from_secs(limits.handshake_timeout_secs),
        Duration::from_secs(limits.header_timeout_secs),
    );
    // An answer the client has read nothing of for a request's whole deadline is given up.
    let write_t = Duration::from_secs(limits.request_timeout_secs);
    let min_rate = limits.answer_min_rate;
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
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {
                on_sighup(&state);
                continue;
            }
            _ = reload.tick() => {
                reload_crls(&state, "timer");
                reload_trust(&state, "timer");
                continue;
            }
        };
        // Per address first, before TLS and before a connection slot: one address (an IPv6
        // /64) cannot hold more than its share of the service's connections.
        let Some(slot) = per_address.enter(peer.ip(), limits.connections_per_address) else {
            state
                .metrics
                .limited
                .with_label_values(&["connections_per_address"])
                .inc();
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        // A free slot is taken here, in the order connections were accepted: taken by each
        // connection's task, a later newcomer could get the last free slot before an earlier
        // one, which then waited on probation (helper 150).
        let free = slots
            .permits
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|p| (p, slots.place()));
        let (state, router, acceptor, slots) = (
            state.clone(),
            router.clone(),
            acceptor.clone(),
            slots.clone(),
        );
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            // A connection slot; when all are taken, the connection that has waited longest for
            // its client (its TLS handshake, or its next request) gives its slot up: a client
            // that never sends a ClientHello, or keeps a connection open between requests,
            // holds a slot only until someone else needs it.
            let admitted = match free {
                Some(f) => Some(f),
                None => slots.admit().await,
            };
            let Some((permit, place)) = admitted else {
                state
                    .metrics
                    .limited
                    .with_label_values(&["connections"])
                    .inc();
                return;
            };
            let _held = slot;
            let activity = Activity::new(slots.clone(), place);
            *activity.permit() = Some(permit);
            // Told of the client's first byte: a connection on probation that has sent none
            // gives its overflow slot up at any age.
            let tcp = Heard {
                io: tcp,
                activity: activity.clone(),
                told: false,
            };
            // Dropped before `_held`: the connection stops counting as an agency's before its
            // slot (held by the activity, given back by `Open`) is free.
            let _open = Open(activity.clone());
            let fd = std::os::fd::AsRawFd::as_raw_fd(&tcp.io);
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
                    serve_connection(
                        &http,
                        Lingering::new(tcp, write_t)
                            .paced(fd, min_rate, peer, &state.metrics.limited)
                            .of(&activity),
                        service(router, conn, activity.clone()),
                        stop,
                        (&activity, &state, peer),
                        false,
                    )
                    .await;
                }
                Some(acc) => {
                    let tls = tokio::select! {
                        r = tokio::time::timeout(handshake_t, acc.accept(tcp)) => r,
                        _ = activity.cut.notified() => {
                            state.metrics.limited.with_label_values(&["handshake_evicted"]).inc();
                            if let Some(skipped) = HANDSHAKE_DROPPED.pass() {
                                tracing::info!(peer = %peer, skipped, "TLS handshake dropped: its connection slot went to a newer connection");
                            }
                            return;
                        }
                    };
                    // Its first request comes right after the handshake: not given up in that
                    // moment (a newcomer's own slot went to the next newcomer then, under a flood
                    // of handshakes), but only for `SETTLING`: a client that finishes its
                    // handshake and says nothing waits like any idle connection after that.
                    activity.settle();
                    let tls = match tls {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            if let Some(skipped) = HANDSHAKE_FAILED.pass() {
                                tracing::info!(peer = %peer, error = %e, skipped, "TLS handshake failed");
                            }
                            return;
                        }
                        Err(_) => {
                            if let Some(skipped) = HANDSHAKE_FAILED.pass() {
                                tracing::info!(peer = %peer, skipped, "TLS handshake timed out");
                            }
                            return;
                        }
                    };
                    let chain = peer_chain(&tls);
                    // Told of every reading of the CRLs, and of the clients configured, from
                    // before this judgement on.
                    let generation = state.auth.revocation.as_ref().map(|r| r.subscribe());
                    let configured = state.auth.credentials_generation.subscribe();
                    let cert = client_certificate(&state, chain.clone()).await;
                    if let PeerCert::Refused(why) = &cert {
                        if let Some(skipped) = CERT_REFUSED.pass() {
                            tracing::warn!(peer = %peer, reason = %why, skipped, "client certificate refused");
                        }
                    }
                    let known = match &cert {
                        PeerCert::Known(id) => Some(id.clone()),
                        _ => None,
                    };
                    if known.is_some() {
                        activity.agency();
                    }
                    let svc = service(router, Conn { peer, cert }, activity.clone());
                    // A connection kept busy keeps its certificate's judgement: judged again
                    // each time the CRLs or the configured clients are read, it is closed
                    // (after its request in flight) once that certificate is refused, or is
                    // another client's now.
                    let stop = match (known, chain) {
                        (Some(id), Some(chain)) => {
                            rejudged(&state, (generation, configured), (chain, id), stop, peer)
                        }
                        _ => stop,
                    };
                    let io = Lingering::new(tls, write_t)
                        .paced(fd, min_rate, peer, &state.metrics.limited)
                        .of(&activity);
                    serve_connection(&http, io, svc, stop, (&activity, &state, peer), true).await;
                }
            }
        });
    }
    tracing::info!("shutting down: no new connections; draining requests in flight");
    state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    drop(listener);
    let _ = stop_tx.send(true);
    let drain = Duration::from_secs(state.cfg.server.drain_secs);
    if !slots.all_closed(drain).await {
        // Past the deadline: validations still queued will not run; their requests get 503
        // now, and the connections a moment to send it.
        let (queued, running) = state.verify_pool.load();
        tracing::warn!(
            queued,
            running,
            "drain deadline passed with connections still open (requests in flight, or closing); queued validations cancelled"
        );
        state.verify_pool.stop(Duration::ZERO);
        if !slots.all_closed(Duration::from_secs(2)).await {
            tracing::warn!("connections still open at exit are closed");
        }
    }
    Ok(())
}

/// Read the configuration file again for its `[[clients]]` and `[[api_tokens]]` (SIGHUP, off
/// the runtime's threads): a token or a client certificate removed from it stops working, one
/// added works; connections judged by a certificate are judged again. The other settings take
/// effect at a restart. A file that no longer reads or validates leaves those in use.
fn reload_credentials(state: &Shared) {
    let Some(path) = state.cfg.source.clone() else {
        return;
    };
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        match st.auth.reload_credentials(&path) {
            Ok((clients, tokens, true)) => tracing::info!(
                clients,
                tokens,
                "clients and tokens read again from the configuration: changed, in use from now on (its other settings take effect at a restart)"
            ),
            Ok((_, _, false)) => {
                tracing::info!("clients and tokens read again from the configuration: unchanged")
            }
            Err(e) => tracing::error!(
                error = %super::redact::redact_text(&e),
                "the configuration could not be read again: the clients and tokens in use are kept"
            ),
        }
    });
}

/// Re-read the client certificates' CRLs (off the runtime's threads).
fn reload_crls(state: &Shared, why: &'static str) {
    if state.auth.revocation.is_none() {
        return;
    }
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let Some(r) = &st.auth.revocation else { return };
        match r.reload(why == "SIGHUP") {
            Ok(super::revocation::Reloaded::Read(n, true)) => {
                tracing::info!(
                    crls = n,
                    trigger = why,
                    "client certificate CRLs read: changed"
                );
                // Kept across restarts with [trust]'s (while a [trust] re-read runs, its end
                // saves them).
                if let Ok(mut read) = st.trust_read.try_lock() {
                    persist_trust(&st.cfg, &mut read, r.kept());
                }
            }
            Ok(super::revocation::Reloaded::Read(n, false)) => {
                tracing::debug!(
                    crls = n,
                    trigger = why,
                    "client certificate CRLs read: unchanged"
                )
            }
            Ok(super::revocation::Reloaded::Skipped) => tracing::warn!(
                trigger = why,
                "client certificate CRLs: the last re-read has not ended; this one skipped"
            ),
            Err(e) => {
                tracing::error!(error = %e, trigger = why, "client certificate CRLs not read; the ones read before stay in use")
            }
        }
    });
}

type Chain = Vec<rustls_pki_types::CertificateDer<'static>>;

/// The certificates a client presented.
fn peer_chain<IO>(tls: &tokio_rustls::server::TlsStream<IO>) -> Option<Chain> {
    tls.get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
}

/// A stop for one connection: the service's, or the refusal of its client certificate when
/// the CRLs, read again, revoke it (a revoked certificate kept working on a connection that
/// never went idle: found by an attacker's reading, 2026-12-02).
fn rejudged(
    state: &Shared,
    (mut generation, mut configured): (
        Option<tokio::sync::watch::Receiver<u64>>,
        tokio::sync::watch::Receiver<u64>,
    ),
    (chain, was): (Chain, Arc<Identity>),
    mut stop: tokio::sync::watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let st = state.clone();
    tokio::spawn(async move {
        loop {
            let why = tokio::select! {
                _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
                    let _ = tx.send(true);
                    return;
                }
                _ = tx.closed() => return,
                moved = async {
                    match generation.as_mut() {
                        Some(g) => g.changed().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if moved.is_err() {
                        generation = None;
                        continue;
                    }
                    "the CRLs were read again"
                }
                moved = configured.changed() => {
                    if moved.is_err() {
                        return;
                    }
                    "the configured clients were read again"
                }
            };
            match client_certificate(&st, Some(chain.clone())).await {
                PeerCert::Known(id) if format!("{id:?}") == format!("{was:?}") => {}
                PeerCert::Refused(reason) => {
                    tracing::warn!(peer = %peer, reason = %reason, "client certificate refused now that {why}: its connection is closed");
                    let _ = tx.send(true);
                    return;
                }
                _ => {
                    tracing::info!(peer = %peer, "client certificate configured otherwise now that {why}: its connection is closed");
                    let _ = tx.send(true);
                    return;
                }
            }
        }
    });
    rx
}

/// Judge the certificate a client presented (its revocation may need the network: then off
/// the runtime's threads).
async fn client_certificate(state: &Shared, chain: Option<Chain>) -> PeerCert {
    let blocks = state.auth.revocation.as_ref().is_some_and(|r| r.fetches());
    if chain.is_none() || !blocks {
        return state.auth.peer(chain.as_deref());
    }
    let st = state.clone();
    let limit = Duration::from_secs(st.cfg.limits.handshake_timeout_secs + 15);
    match tokio::time::timeout(
        limit,
        tokio::task::spawn_blocking(move || st.auth.peer(chain.as_deref())),
    )
    .await
    {
        Ok(Ok(c)) => c,
        _ => PeerCert::Refused(
            "client certificate: its revocation status could not be had in time".into(),
        ),
    }
}

/// At most one log line a second for an event a flood of connections or requests repeats
/// (`skipped`: the lines left out since the last; the metrics count every event, and every
/// request has its access line). A reviewer's flood of 60,000 connects wrote 32,526 lines of
/// dropped handshakes in 30 s; self-signed client certificates a line per handshake, 3 MB in
/// 10 s; 5,000 pipelined requests 4,755 lines of rate limits beside their access lines
/// (2026-12-03).
struct Throttle {
    second: std::sync::atomic::AtomicU64,
    skipped: std::sync::atomic::AtomicU64,
}

impl Throttle {
    const fn new() -> Throttle {
        Throttle {
            second: std::sync::atomic::AtomicU64::new(0),
            skipped: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `Some(lines skipped since the last)` if a line may be written now.
    fn pass(&self) -> Option<u64> {
        use std::sync::atomic::Ordering::Relaxed;
        let now = unix_second();
        let last = self.second.load(Relaxed);
        if last != now
            && self
                .second
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
        {
            Some(self.skipped.swap(0, Relaxed))
        } else {
            self.skipped.fetch_add(1, Relaxed);
            None
        }
    }
}

/// The wall clock's second, which the log throttles count in.
fn unix_second() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

static HANDSHAKE_DROPPED: Throttle = Throttle::new();
static HANDSHAKE_FAILED: Throttle = Throttle::new();
static CUT: Throttle = Throttle::new();
static CERT_REFUSED: Throttle = Throttle::new();
static RATE_LIMITED: Throttle = Throttle::new();
static CROSS_SITE: Throttle = Throttle::new();
static FAILED_CREDENTIALS: KeyedThrottle = KeyedThrottle::new();

/// Keys a [`KeyedThrottle`] follows one by one in a second; past them, the rest share one line.
const KEYED_MAX: usize = 64;

/// At most one line a second per key (a failed credential's address), for at most
/// [`KEYED_MAX`] keys at once; past them, one line a second for all the others together. One
/// throttle for every caller let one attacker's refusals hide another's: a loop of cross-site
/// requests took the only line each second, and a token guesser and a holder of an untrusted
/// certificate got none (a reviewer's reading, 2026-12-04).
struct KeyedThrottle {
    keys: std::sync::Mutex<Option<std::collections::HashMap<String, (u64, u64)>>>,
    rest: Throttle,
}

impl KeyedThrottle {
    const fn new() -> KeyedThrottle {
        KeyedThrottle {
            keys: std::sync::Mutex::new(None),
            rest: Throttle::new(),
        }
    }

    /// `Some(lines of `key` skipped since its last)` if a line may be written now.
    fn pass(&self, key: &str) -> Option<u64> {
        self.pass_at(key, unix_second())
    }

    /// [`KeyedThrottle::pass`] at the second `now`.
    fn pass_at(&self, key: &str, now: u64) -> Option<u64> {
        let mut guard = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let keys = guard.get_or_insert_with(std::collections::HashMap::new);
        if let Some((second, skipped)) = keys.get_mut(key) {
            if *second == now {
                *skipped += 1;
                return None;
            }
            *second = now;
            return Some(std::mem::take(skipped));
        }
        if keys.len() >= KEYED_MAX {
            // A key seen in the last second stays: new ones must not push out a caller that
            // is still refused (a burst of new addresses just after each second took every
            // place, and a guesser's lines went nowhere; a reviewer's reading, 2026-12-04).
            keys.retain(|_, (second, _)| now.saturating_sub(*second) <= 1);
            if keys.len() >= KEYED_MAX {
                drop(guard);
                return self.rest.pass();
            }
        }
        keys.insert(key.to_string(), (now, 0));
        Some(0)
    }
}

/// How long a connection that has just finished its TLS handshake keeps its slot before its
/// first request without being counted among the waiting (an honest client sends it at once).
const SETTLING: Duration = Duration::from_secs(2);

/// How long a connection slot's silent holder not known to be an agency's is spared, at the
/// public's share, by a newcomer not yet known, which waits on probation instead
/// ([`Slots::give_one_up`]) — unless every overflow slot is taken and the holder came before
/// every silent connection there: then it goes, the silent one that has waited longest (a
/// client of the public sent there takes, once its request has come, the slot of a silent
/// holder `FIRST_FLIGHT` old: [`Slots::take_silent`]). A client's first flight comes with its connect, but not in
/// the same instant: taken at any age, an agency's newcomer that had just taken a silent
/// connect's slot lost it to the flood's next connect, its ClientHello not sent yet 0.1–5 ms
/// after the accept (8 of 20 agencies whose ClientHello came 2 ms after their connect were
/// reset at 200 silent connects a second in 8 slots; 2 of 230 at 50 a second in a loaded
/// suite; 2026-12-04). Spared whatever their age while an overflow slot was free, silent
/// connects holding the public's share kept every public newcomer on probation, answered
/// 503 (helper 116); spared under 250 ms whatever the overflow slots held, a flood past 4
/// connects a second per slot went all to the overflow slots, at most 128, and an agency's
/// newcomer had fewer connects before its turn (helper 115; both readings 2026-12-04). 50 ms:
/// the ClientHellos measured came within 5 ms of the accept; 250 ms at first, a flood of 40
/// silent connects a second in 8 slots kept every slot holder younger, and a newcomer of the
/// public waited on probation (helper 117).
const FIRST_FLIGHT: Duration = Duration::from_millis(50);

/// How long a connection on probation that has spoken keeps its overflow slot against
/// newcomers: its handshake and first request head take less. With `SETTLING`, connects that
/// sent one byte each kept every overflow slot young at the pool's size every 2 s (64 a
/// second at the defaults) and agencies' newcomers out (5 of 16 got in at 200 a second; a
/// reviewer's reading, 2026-12-04).
const PROBATION_HOLD: Duration = Duration::from_millis(500);

/// Serve HTTP/1.1 on a connection until it closes, or, once `stop` turns true or its slot went
/// to a newcomer, until the request in flight (if any) is answered; at once if its slot went to
/// a newcomer while it held more than the public's share with a public request.
/// `settling`: the connection has just finished its handshake ([`SETTLING`]).
async fn serve_connection<IO>(
    http: &hyper::server::conn::http1::Builder,
    io: IO,
    svc: impl hyper::service::HttpService<
            hyper::body::Incoming,
            ResBody = axum::body::Body,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    mut stop: tokio::sync::watch::Receiver<bool>,
    (activity, state, peer): (&Arc<Activity>, &Shared, std::net::SocketAddr),
    mut settling: bool,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = http.serve_connection(hyper_util::rt::TokioIo::new(io), svc);
    tokio::pin!(conn);
    let settled = tokio::time::sleep(SETTLING);
    tokio::pin!(settled);
    // Told to give its slot up while not known to be an agency's: closed at once. A connection
    // that has become an agency's since it was told keeps its slot (the newcomer tries the next).
    let cut = || {
        let why = match activity.given() {
            Given::Waiting => "idle_evicted",
            Given::Share => "public_evicted",
            Given::Probation => "probation_evicted",
        };
        state.metrics.limited.with_label_values(&[why]).inc();
        if let Some(skipped) = CUT.pass() {
            tracing::info!(peer = %peer, why, skipped, "connection closed at once, not known to be an agency's: its slot went to a newer connection");
        }
    };
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = activity.cut.notified() => if !activity.is_agency() {
                return cut();
            },
            _ = stop.wait_for(|s| *s) => break,
            _ = activity.evicted.notified() => {
                activity.hurry();
                state.metrics.limited.with_label_values(&["idle_evicted"]).inc();
                tracing::info!(peer = %peer, "idle connection closed: its slot went to a newer connection");
                break;
            }
            _ = &mut settled, if settling => {
                settling = false;
                activity.unsettle();
            }
        }
    }
    conn.as_mut().graceful_shutdown();
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = activity.cut.notified() => if !activity.is_agency() {
                return cut();
            },
        }
    }
}

/// Connections by the moment they began to wait, or were accepted.
type Queue = std::sync::Mutex<BTreeMap<u64, Entry>>;

/// A connection in a [`Queue`]: the connection, and what a newcomer looks at to choose (read
/// under the queue's lock without reaching the connection, whose end takes that lock).
type Entry = (std::sync::Weak<Activity>, Arc<Known>, std::time::Instant);

/// What a newcomer knows of a connection it may take a slot from.
struct Known {
    /// [`AGENCY`]: a known agency's connection (client certificate, or a request with its
    /// credentials); [`CLOSED`]: its connection has ended.
    state: std::sync::atomic::AtomicU8,
    /// When it was accepted.
    born: std::time::Instant,
}

const AGENCY: u8 = 1;
const CLOSED: u8 = 2;
/// On probation: it holds one of the overflow slots ([`Slots::probation`]), not a connection
/// slot, until it proves to be an agency's ([`Activity::promote`]) or, the public's, takes a
/// silent connection's slot with its first request ([`Activity::promote_public`]).
const PROBATION: u8 = 4;
/// Its client has sent a byte ([`Heard`]).
const HEARD: u8 = 8;
/// The public's surplus ([`Slots::surplus`]).
const SURPLUS: u8 = 16;

impl Known {
    fn agency(&self) -> bool {
        self.state.load(std::sync::atomic::Ordering::SeqCst) & AGENCY != 0
    }

    fn heard(&self) -> bool {
        self.state.load(std::sync::atomic::Ordering::SeqCst) & HEARD != 0
    }

    /// Its client has sent nothing yet. A client's first flight comes with its connect. (A
    /// grace before silence counts, 50 ms for an agency's ClientHello read a moment after the
    /// accept as a reviewer suggested, 2026-12-04, let a stream of connects, each taking a
    /// silent one's slot the moment it was old enough, leave none for an agency: 2 of 10 got
    /// 503 at 100 silent connects a second in 8 slots; found testing it.)
    fn silent(&self) -> bool {
        !self.heard()
    }

    /// May it give its slot up as one waiting for its client (since `since`): an agency's
    /// unless the public holds its share or more (the newcomer, the public's until known,
    /// would take it past), and only
    /// once it has waited `SETTLING` (an agency's keep-alive connection between two requests
    /// sent back to back was closed as its next request arrived, and the request lost: a
    /// reviewer counted 20 in 6 s, 2026-12-03); any other once it has been
    /// open `SETTLING` (a newcomer's own connection, waiting in its handshake, went to the
    /// next connect while agencies held every slot beyond the public's share and the public
    /// its share but one: no agency got through at 20 connects a second; a reviewer's
    /// measurement, 2026-12-03).
    ///
    /// A connection whose client has sent nothing yet may go at any age (at the public's
    /// share, for a newcomer not yet known, see `FIRST_FLIGHT`): a client's first flight comes
    /// with its connect, and silent connects from many addresses, each closed
    /// after a second, held the public's share of the slots against every agency's newcomer,
    /// none of them ever 2 s old (a reviewer's reading, 2026-12-04).
    fn may_go(&self, public_at_share: bool, since: std::time::Instant) -> bool {
        if self.agency() {
            !public_at_share && since.elapsed() >= SETTLING
        } else {
            self.silent() || self.born.elapsed() >= SETTLING
        }
    }
}

/// Connection slots, and two orders of the connections holding them: those waiting for their
/// client, longest waiting first (in their TLS handshake, or between requests: kept alive, or
/// not yet asked anything), and those not known to be an agency's, oldest first (no client
/// certificate of a known agency, no request with an agency's credentials yet: the public's,
/// and anyone's before their first request). When all slots are taken, a newcomer gets the
/// slot of the connection that has waited longest; if none waits and connections not known to
/// be an agency's hold more than `public_share` percent of the slots, the oldest of them.
struct Slots {
    permits: Arc<tokio::sync::Semaphore>,
    max: u32,
    waiting: Queue,
    unknown: Queue,
    /// Overflow slots for newcomers not yet known while the public holds its share (or more)
    /// and no connection may give its slot up to them ([`Slots::give_one_up`]): a newcomer
    /// waits there through its handshake and its first request head, and takes a connection
    /// slot only once it proves to be an agency's, or, the public's, a silent connection's
    /// ([`Slots::take_silent`]); else it is answered 503 and closed. At its share, the public's oldest
    /// connection went for any newcomer, so a client of the public opening a connection every
    /// half second cut honest uploads of the public one after another (one cut after 5.8 s; a
    /// reviewer's reading, 2026-12-04).
    probation: Arc<tokio::sync::Semaphore>,
    probation_max: u32,
    /// The connections on probation, oldest first.
    trial: Queue,
    /// Connections not known to be an agency's that took a free slot while the public already
    /// held its share, oldest first: while the public holds more than its share, these go
    /// first. A public client opening a connection every half second took the slot an
    /// agency's closed connection freed, and its next connect, the public now over its share,
    /// cut the public's oldest connection, an honest upload (a reviewer's reading,
    /// 2026-12-04).
    surplus: Queue,
    /// Connections open and known to be an agency's. Every other slot held is the public's:
    /// connections not known to be an agency's, those told to give their slots up and still
    /// closing, and newcomers given a slot and not yet counted anywhere. The public's count
    /// was taken from [`Slots::unknown`], which a told connection leaves at once: while told
    /// ones were closing, a burst of newcomers saw the public within its share and took
    /// agencies' idle connections (a reviewer saw two go, 2026-12-03).
    agencies: std::sync::atomic::AtomicUsize,
    /// Slots connections not known to be an agency's may hold without giving them up.
    public_max: usize,
    next: std::sync::atomic::AtomicU64,
}

fn queue(q: &Queue) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
    q.lock().unwrap_or_else(|p| p.into_inner())
}

/// How many of the waiting connections a newcomer looks at, longest waiting first.
const SCAN: usize = 64;

/// How many connections a newcomer may try to take a slot from, half a second each.
const ADMIT_TRIES: usize = 4;

/// How a connection on probation came to be served (`kyso_probation_promoted_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Promotion {
    /// Off probation already, or a request answered on probation (a health check).
    Already,
    /// A connection slot came free.
    Free,
    /// It took the slot of a connection told to go for it.
    Taken,
    /// None to take: answered 503.
    Refused,
}

impl Slots {
    /// `public_max`: what connections not known to be an agency's may hold
    /// ([`crate::serve::config::Limits::public_part`] of `max`).
    fn new(max: usize, public_max: usize) -> Slots {
        let max = u32::try_from(max).unwrap_or(u32::MAX >> 1);
        let probation_max = probation_slots(max);
        Slots {
            permits: Arc::new(tokio::sync::Semaphore::new(max as usize)),
            max,
            waiting: Default::default(),
            unknown: Default::default(),
            probation: Arc::new(tokio::sync::Semaphore::new(probation_max as usize)),
            probation_max,
            trial: Default::default(),
            surplus: Default::default(),
            agencies: Default::default(),
            public_max,
            next: Default::default(),
        }
    }

    fn key(&self) -> u64 {
        self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// A slot: a free one; else, while connections not known to be an agency's hold more than
    /// their share, the one of the oldest of them; else the one of the connection that has
    /// waited longest for its client. A connection told to give its slot up that has not done
    /// so in half a second is passed over for the next.
    ///
    /// Without the share, request bodies announced and sent slowly or not at all to
    /// `/v1/verify` from many addresses held every slot for `request_timeout_secs` each, and
    /// no agency got one (the open finding of an attacker's reading, 2026-12-03); and a
    /// connection told to close did not always: one that had sent a byte of a request head
    /// kept its slot until `header_timeout_secs`, one whose last answer its client did not
    /// read until the rate judged it (a reviewer's reading of this change, 2026-12-03).
    /// Connections not known to be an agency's are now closed at once when told. The share
    /// comes before the waiting order: taken the other way round, a stream of silent connects
    /// kept some connection always waiting, the public's uploads held every other slot past
    /// the share, and each agency's newcomer, waiting in its own handshake, gave its slot to
    /// the next connect (no agency answered at 40 connects/s; a reviewer's measurement,
    /// 2026-12-03). Oldest first, a newcomer is cut last: after all the older ones.
    ///
    /// While the public holds its share (or more) and no connection may give its slot up to a
    /// newcomer not yet known (a silent one just come is spared: `FIRST_FLIGHT`), the
    /// newcomer is put on probation instead ([`Place::Probation`]: [`Slots::probation`]).
    async fn admit(&self) -> Option<(tokio::sync::OwnedSemaphorePermit, Place)> {
        for _ in 0..ADMIT_TRIES {
            if let Ok(p) = self.permits.clone().try_acquire_owned() {
                return Some((p, self.place()));
            }
            match self.give_one_up(true)? {
                Taken::Free => continue,
                Taken::Probation => {
                    return self.on_probation().await.map(|p| (p, Place::Probation));
                }
                Taken::Told(heir) => {
                    if let Some(p) = handed(heir, &self.permits).await {
                        return Some((p, self.place()));
                    }
                }
            }
        }
        None
    }

    /// A connection slot just taken by a newcomer: past the public's share, it is surplus.
    fn place(&self) -> Place {
        let held = (self.max as usize).saturating_sub(self.permits.available_permits());
        let agencies = self.agencies.load(std::sync::atomic::Ordering::SeqCst);
        if held.saturating_sub(agencies) > self.public_max {
            Place::Surplus
        } else {
            Place::Slot
        }
    }

    /// An overflow slot: a free one; else the one of the connection on probation longest
    /// whose client has sent nothing yet, whatever its age; else of the one on probation
    /// longest open `SETTLING`; never an agency's. Refused at once when all were younger, a
    /// stream of silent connects at half the overflow slots a second kept every agency's
    /// newcomer out (2 of 20 got in at 200 connects a second; a reviewer's reading,
    /// 2026-12-04): a silent connect now holds its overflow slot only until the next
    /// newcomer. A client's first flight comes with its connect; one that has spoken keeps its
    /// slot through its handshake and first request head for `SETTLING`.
    async fn on_probation(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        for _ in 0..ADMIT_TRIES {
            if let Ok(p) = self.probation.clone().try_acquire_owned() {
                return Some(p);
            }
            let victim = {
                let mut t = queue(&self.trial);
                let silent = t
                    .iter()
                    .find(|(_, (_, k, _))| !k.agency() && k.silent())
                    .map(|(key, _)| *key);
                let key = silent.or_else(|| {
                    t.iter()
                        .find(|(_, (_, k, _))| !k.agency() && k.born.elapsed() >= PROBATION_HOLD)
                        .map(|(key, _)| *key)
                });
                key.and_then(|key| t.remove(&key))
            };
            // None may go yet: the newcomer waits, as for a connection slot, and looks again
            // (refused at once, it lost to whoever connected the instant one turned old enough).
            // One that has left probation since (promoted: an agency's, or the public's with its
            // request let through), ended, or been told already is not told: a promoted one was
            // cut with the request it had just been let through with (helper 120).
            let heir = victim
                .and_then(|(a, ..)| a.upgrade())
                .filter(|a| {
                    a.on_probation()
                        && a.known.state.load(std::sync::atomic::Ordering::SeqCst) & CLOSED == 0
                        && !a.heir_waits()
                })
                .map(|a| a.give_up(Given::Probation));
            if let Some(p) = handed(heir, &self.probation).await {
                return Some(p);
            }
        }
        None
    }

    /// Tell the connection whose slot goes to a newcomer; `None` if none may be taken. While
    /// connections not known to be an agency's hold more than their share: the one of them
    /// that has waited longest for its client (idle: honest uploads of the public are not cut
    /// while an idle connection of the public could go), else the oldest of them; otherwise
    /// the connection that has waited longest and may go ([`Known::may_go`]).
    ///
    /// `probation`: for a newcomer not yet known. While the public holds its share (or more)
    /// and nothing else may go (a silent one just come is spared: `FIRST_FLIGHT`), it is put
    /// on probation ([`Taken::Probation`]) rather than cut the
    /// public's oldest connection: that is done only for a newcomer known to be an agency's
    /// ([`Activity::promote`]).
    ///
    /// The slot told to go is handed to the newcomer when its connection ends
    /// ([`Taken::Told`]): given back to all, it went to whoever waited longest, and a stream of
    /// connects, each telling the public's oldest connection to go and waiting, took every
    /// slot an agency's promotion had freed (a reviewer's reading of this change, 2026-12-04).
    fn give_one_up(&self, probation: bool) -> Option<Taken> {
        loop {
            // A slot came free since the newcomer looked: it takes that one, and nobody is
            // told. Counted with that slot free, the public seemed within its share, and an
            // agency's idle connection was told to go for nothing (the public closing and
            // opening connections in the same instant aimed at that; a reviewer's reading,
            // 2026-12-04).
            let free = self.permits.available_permits();
            if free > 0 {
                return Some(Taken::Free);
            }
            let held = (self.max as usize).saturating_sub(free);
            let agencies = self.agencies.load(std::sync::atomic::Ordering::SeqCst);
            let public = held.saturating_sub(agencies);
            // The newcomer is the public's until it is known: at its share already, an
            // agency's idle connection would give the public one slot more than its share
            // (agencies holding the rest lost their idle connections to 20 connects a second;
            // a reviewer's reading, 2026-12-04). Past its share the public's oldest goes
            // whatever its age; at it, only one open `SETTLING` (below).
            let (at_share, over) = (public >= self.public_max, public > self.public_max);
            // At its share, a newcomer not yet known spares a silent slot holder come less than
            // `FIRST_FLIGHT` ago, and waits on probation — unless every overflow slot is taken
            // and the holder came before every silent connection there: then it goes, the
            // silent one that has waited longest. See `FIRST_FLIGHT` for why.
            let oldest_on_probation = if probation && at_share {
                self.silent_on_probation()
            } else {
                None
            };
            let spared = |k: &Known| {
                probation
                    && at_share
                    && !k.agency()
                    && k.silent()
                    && k.born.elapsed() < FIRST_FLIGHT
                    && oldest_on_probation.is_none_or(|oldest| k.born > oldest)
            };
            let waited = {
                let mut w = queue(&self.waiting);
                // The scan is bounded: under a flood every entry may be too young, and each
                // newcomer walked them all under this lock (210 µs of CPU per connect at
                // 1,024 slots; a reviewer's measurement, 2026-12-03).
                // At the public's share no agency's connection may go: those are passed over
                // uncounted (64 or more agencies' keep-alive connections, waiting longest,
                // filled the window, and the public's silent connects behind them were never
                // seen; a reviewer's reading, 2026-12-04). Passing one over is an atomic load,
                // no clock: at most `max_connections` of them under this lock.
                let key = w
                    .iter()
                    .filter(|(_, (_, k, _))| !(at_share && k.agency()))
                    .take(SCAN)
                    // At its share, a newcomer not yet known takes only a silent one's slot:
                    // recycling the public's connections open 2 s, a stream of connects that
                    // each sent a byte kept them all younger than an agency's promotion could
                    // take (503 for 2 of 12 agencies at 6 a second in 16 slots; found testing
                    // this change, 2026-12-04).
                    .find(|(_, (_, k, since))| {
                        k.may_go(at_share, *since)
                            && !(probation && at_share && !over && k.heard())
                            && !spared(k)
                    })
                    .map(|(key, _)| *key);
                key.and_then(|key| w.remove(&key))
            };
            // Past its share, the public's surplus goes first (the connections that took a free
            // slot while the public held its share), oldest first and once open `SETTLING`.
            // One queue's lock at a time: holding `surplus` while taking `unknown` here, and
            // `unknown` while taking `surplus` below, two newcomers could each wait for the
            // other for good, and every connection after them (a reviewer's reading,
            // 2026-12-04).
            let surplus = || {
                let taken = {
                    let mut q = queue(&self.surplus);
                    let key = q
                        .iter()
                        .find(|(_, (_, k, _))| {
                            (k.silent() && !spared(k)) || k.born.elapsed() >= SETTLING
                        })
                        .map(|(key, _)| *key)?;
                    q.remove(&key).map(|e| (key, e))
                };
                let (key, e) = taken?;
                queue(&self.unknown).remove(&key);
                Some(e)
            };
            let (victim, why) = match waited {
                Some((a, ..)) => (a, Given::Waiting),
                None if over => match surplus() {
                    Some((a, ..)) => (a, Given::Share),
                    // A newcomer not yet known waits on probation: only an agency's cuts the
                    // public's oldest connection.
                    None if probation => return Some(Taken::Probation),
                    None => {
                        let popped = queue(&self.unknown).pop_first();
                        match popped {
                            Some((key, (a, ..))) => {
                                queue(&self.surplus).remove(&key);
                                (a, Given::Share)
                            }
                            None => return None,
                        }
                    }
                },
                None if at_share && probation => return Some(Taken::Probation),
                // At its share, the public's oldest connection goes for an agency's newcomer if
                // it has been open `SETTLING`: refusing every newcomer there kept an agency's new connection out
                // for as long as the public's uploads and agencies' keep-alive connections held
                // every slot (0 of 8 got in; a reviewer's reading, 2026-12-04). A younger one
                // stays: under a stream of connects it would soon be an agency's newcomer in
                // its handshake.
                None if at_share => {
                    let taken = {
                        let mut u = queue(&self.unknown);
                        match u.first_key_value() {
                            Some((&key, (_, k, _))) if k.born.elapsed() >= SETTLING => {
                                u.remove(&key).map(|e| (key, e))
                            }
                            _ => None,
                        }
                    };
                    match taken {
                        Some((key, (a, ..))) => {
                            queue(&self.surplus).remove(&key);
                            (a, Given::Share)
                        }
                        // For an agency's newcomer (promoted), an agency's connection waiting
                        // 2 s goes when none of the public's may: its slot leaves the public at
                        // its share (the public's all younger, an agency got 503 while agencies'
                        // idle connections could have gone; a reviewer's reading, 2026-12-04).
                        None if !probation => {
                            let mut w = queue(&self.waiting);
                            let key = w
                                .iter()
                                .find(|(_, (_, k, since))| {
                                    k.agency() && since.elapsed() >= SETTLING
                                })
                                .map(|(key, _)| *key)?;
                            let (a, ..) = w.remove(&key)?;
                            (a, Given::Waiting)
                        }
                        None => return None,
                    }
                }
                None => return None,
            };
            if let Some(heir) = victim.upgrade().and_then(|a| self.tell(&a, why)) {
                return Some(Taken::Told(Some(heir)));
            }
        }
    }

    /// Tell `a` to give its slot up: out of the orders it could be chosen from again (one at a
    /// time; `waiting` after its connection's state, the order `touch` takes them in). `None`
    /// if it has ended, or was told already with a newcomer waiting for its slot: told again,
    /// the first newcomer lost it and another connection was cut for nothing (a reviewer's
    /// reading, 2026-12-04).
    fn tell(&self, a: &Arc<Activity>, why: Given) -> Option<Heir> {
        queue(&self.unknown).remove(&a.unknown);
        queue(&self.surplus).remove(&a.unknown);
        if let Some(k) = a.state().1.take() {
            queue(&self.waiting).remove(&k);
        }
        if a.known.state.load(std::sync::atomic::Ordering::SeqCst) & CLOSED != 0 || a.heir_waits() {
            return None;
        }
        Some(a.give_up(why))
    }

    /// For a connection of the public on probation whose first request has come: the slot of
    /// the silent connection not known to be an agency's that has waited longest among the
    /// first [`SCAN`] waiting, once `FIRST_FLIGHT` old (`None` if there is none). A newcomer
    /// not yet known waits on probation while the public's silent connections are younger than
    /// `FIRST_FLIGHT`; under a flood of silent connects they often were, and half the public's
    /// requests were answered 503 at 40 connects a second in 8 slots (helper 117's reading,
    /// 2026-12-04). One that has spoken and asked goes before one that has said nothing; one
    /// just come is not taken: at any age, a public request arriving in an agency newcomer's
    /// first milliseconds cut it (helper 118's reading, 2026-12-04).
    fn take_silent(&self) -> Option<Heir> {
        loop {
            let (victim, ..) = {
                let mut w = queue(&self.waiting);
                let key = w
                    .iter()
                    .filter(|(_, (_, k, _))| !k.agency())
                    .take(SCAN)
                    .find(|(_, (_, k, _))| k.silent() && k.born.elapsed() >= FIRST_FLIGHT)
                    .map(|(key, _)| *key)?;
                w.remove(&key)?
            };
            if let Some(heir) = victim.upgrade().and_then(|a| self.tell(&a, Given::Waiting)) {
                return Some(heir);
            }
        }
    }

    /// When every overflow slot is taken, when the silent connection on probation longest
    /// (the one [`Slots::on_probation`] takes) was accepted; `None` if one is free or none
    /// there is silent.
    fn silent_on_probation(&self) -> Option<std::time::Instant> {
        if self.probation.available_permits() > 0 {
            return None;
        }
        queue(&self.trial)
            .values()
            .find(|(_, k, _)| !k.agency() && k.silent())
            .map(|(_, k, _)| k.born)
    }

    /// Wait at most `wait` for every connection to close.
    async fn all_closed(&self, wait: Duration) -> bool {
        let all = async {
            self.permits.acquire_many(self.max).await.is_ok()
                && self
                    .probation
                    .acquire_many(self.probation_max)
                    .await
                    .is_ok()
        };
        tokio::time::timeout(wait, all).await.unwrap_or(false)
    }
}

/// The overflow slots beside `max` connection slots: an eighth, at least 4 and at most 128.
fn probation_slots(max: u32) -> u32 {
    (max / 8).clamp(4, 128)
}

/// Where a newcomer was admitted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A connection slot.
    Slot,
    /// A connection slot taken while the public already held its share ([`Slots::surplus`]).
    Surplus,
    /// An overflow slot ([`Slots::probation`]).
    Probation,
}

/// What [`Slots::give_one_up`] did for a newcomer.
enum Taken {
    /// A slot is free.
    Free,
    /// A connection was told to give its slot up: it comes here when that connection ends.
    Told(Option<Heir>),
    /// Nothing may go for a newcomer not yet known (a silent one just come is spared:
    /// `FIRST_FLIGHT`): the newcomer is put on probation.
    Probation,
}

/// Where a connection told to give its slot up hands it when it ends.
type Heir = tokio::sync::oneshot::Receiver<tokio::sync::OwnedSemaphorePermit>;

/// The slot a told connection hands on, or any of `pool` freed meanwhile, within half a second.
async fn handed(
    heir: Option<Heir>,
    pool: &Arc<tokio::sync::Semaphore>,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let wait = async {
        match heir {
            Some(heir) => tokio::select! {
                Ok(p) = heir => Some(p),
                Ok(p) = pool.clone().acquire_owned() => Some(p),
                else => None,
            },
            None => pool.clone().acquire_owned().await.ok(),
        }
    };
    tokio::time::timeout(Duration::from_millis(500), wait)
        .await
        .ok()
        .flatten()
}

/// Why a connection was told to give its slot up.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Given {
    /// It had waited longest for its client.
    Waiting = 1,
    /// Not known to be an agency's, it was the oldest while such connections held more than
    /// their share.
    Share = 2,
    /// On probation, not known to be an agency's, it was the oldest while every overflow slot
    /// was taken.
    Probation = 3,
}

/// What one connection is doing for its client: requests in flight (from the head read to the
/// answer's last byte handed on, or dropped), and, while there are none, its place among the
/// connections waiting for their clients. Every slot could be held by idle keep-alive
/// connections sending `GET /healthz` every few seconds and reading nothing: their answers fit
/// the socket buffers, so no rate or timeout ever judged them, and 32 addresses held all 1,024
/// slots at ~130 requests/s (found by an attacker's reading, 2026-12-03). Such a connection now
/// gives its slot up to a newcomer.
struct Activity {
    slots: Arc<Slots>,
    /// Fires (once, remembered) when an agency's connection, waiting, gave its slot up: it
    /// closes once its request in flight, if one came meanwhile, is answered.
    evicted: tokio::sync::Notify,
    /// Fires when a connection not known to be an agency's gave its slot up: it closes at
    /// once (unless it has become an agency's meanwhile), what it was doing given up.
    cut: tokio::sync::Notify,
    /// Why it was last told ([`Given`]), for the log and the metrics.
    given: std::sync::atomic::AtomicU8,
    /// Whether it is an agency's, and when it was accepted.
    known: Arc<Known>,
    /// Its key among the connections not known to be an agency's.
    unknown: u64,
    /// Requests in flight, and the connection's key among the waiting while there are none.
    state: std::sync::Mutex<(usize, Option<u64>)>,
    /// Closed idle for a newcomer: no client bytes to read and drop once closed, and the slot
    /// is wanted now (a newcomer waits half a second for it).
    hurried: std::sync::atomic::AtomicBool,
    /// Its slot: a connection slot, or an overflow one while on probation; given back when
    /// the connection's task ends ([`Open`]).
    permit: std::sync::Mutex<Option<tokio::sync::OwnedSemaphorePermit>>,
    /// The newcomer its slot goes to, once told to give it up ([`Slots::give_one_up`]).
    heir: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<tokio::sync::OwnedSemaphorePermit>>>,
}

impl Activity {
    /// A connection just accepted: waiting for its client (its handshake, or its first
    /// request), and not known to be an agency's. On `probation`, it is neither: it is among
    /// the connections on probation until [`Activity::promote`].
    fn new(slots: Arc<Slots>, place: Place) -> Arc<Activity> {
        let probation = place == Place::Probation;
        let unknown = slots.key();
        let a = Arc::new(Activity {
            slots,
            evicted: tokio::sync::Notify::new(),
            cut: tokio::sync::Notify::new(),
            given: Default::default(),
            known: Arc::new(Known {
                state: std::sync::atomic::AtomicU8::new(match place {
                    Place::Probation => PROBATION,
                    Place::Surplus => SURPLUS,
                    Place::Slot => 0,
                }),
                born: std::time::Instant::now(),
            }),
            unknown,
            state: std::sync::Mutex::new((0, None)),
            hurried: Default::default(),
            permit: Default::default(),
            heir: Default::default(),
        });
        if probation {
            queue(&a.slots.trial).insert(unknown, a.entry());
        } else {
            queue(&a.slots.unknown).insert(unknown, a.entry());
            if place == Place::Surplus {
                queue(&a.slots.surplus).insert(unknown, a.entry());
            }
            a.touch();
        }
        a
    }

    /// Its client has sent a byte.
    fn heard(&self) {
        self.known
            .state
            .fetch_or(HEARD, std::sync::atomic::Ordering::SeqCst);
    }

    fn permit(&self) -> std::sync::MutexGuard<'_, Option<tokio::sync::OwnedSemaphorePermit>> {
        self.permit.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn heir(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        Option<tokio::sync::oneshot::Sender<tokio::sync::OwnedSemaphorePermit>>,
    > {
        self.heir.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn on_probation(&self) -> bool {
        self.known.state.load(std::sync::atomic::Ordering::SeqCst) & PROBATION != 0
    }

    /// Known to be an agency's while on probation: it takes a connection slot, as a newcomer
    /// known to be an agency's would ([`Slots::give_one_up`]: with the public at its share,
    /// the public's oldest connection open `SETTLING`), and gives its overflow slot back.
    /// `false` if none may be taken.
    async fn promote(self: &Arc<Self>) -> Promotion {
        if !self.on_probation() {
            return Promotion::Already;
        }
        let slots = &self.slots;
        for _ in 0..ADMIT_TRIES {
            let (permit, how) = match slots.permits.clone().try_acquire_owned() {
                Ok(p) => (p, Promotion::Free),
                Err(_) => match slots.give_one_up(false) {
                    None => return Promotion::Refused,
                    Some(Taken::Told(heir)) => match handed(heir, &slots.permits).await {
                        Some(p) => (p, Promotion::Taken),
                        None => continue,
                    },
                    Some(_) => continue,
                },
            };
            self.off_probation(permit);
            return how;
        }
        Promotion::Refused
    }

    /// Of the public, on probation, its first request come: it takes a slot come free, else the
    /// slot of the silent connection that has waited longest ([`Slots::take_silent`]), and
    /// gives its overflow slot back; `false` if there is none.
    async fn promote_public(self: &Arc<Self>) -> Promotion {
        if !self.on_probation() {
            return Promotion::Already;
        }
        // A slot came free: taken, nobody cut (a silent connection told to go for it was an
        // agency's newcomer whose ClientHello was late, reset for nothing; helper 119).
        if let Ok(permit) = self.slots.permits.clone().try_acquire_owned() {
            self.off_probation(permit);
            return Promotion::Free;
        }
        // Out of the order newcomers take overflow slots from while it waits for its slot:
        // told to go meanwhile, it was cut on promotion, its request lost and the silent one cut
        // for nothing (helper 118). Back in it if not promoted: answered 503, the connection
        // lingers up to 2 s, and out of the order nobody could take its overflow slot
        // meanwhile (helper 119).
        queue(&self.slots.trial).remove(&self.unknown);
        for _ in 0..ADMIT_TRIES {
            let Some(heir) = self.slots.take_silent() else {
                break;
            };
            if let Some(permit) = handed(Some(heir), &self.slots.permits).await {
                self.off_probation(permit);
                return Promotion::Taken;
            }
        }
        if self.on_probation() {
            queue(&self.slots.trial).insert(self.unknown, self.entry());
        }
        Promotion::Refused
    }

    /// Off probation with a connection slot: counted as an agency's if known to be one, else
    /// among the public's.
    fn off_probation(self: &Arc<Self>, permit: tokio::sync::OwnedSemaphorePermit) {
        let slots = &self.slots;
        queue(&slots.trial).remove(&self.unknown);
        let was = self
            .known
            .state
            .fetch_and(!PROBATION, std::sync::atomic::Ordering::SeqCst);
        if was & (AGENCY | CLOSED) == AGENCY {
            slots
                .agencies
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        } else if was & (AGENCY | CLOSED) == 0 {
            queue(&slots.unknown).insert(self.unknown, self.entry());
            // Past the public's share it is surplus, as a newcomer taking a slot there is: left
            // unmarked, the public held a slot more than its surplus said, and an agency's
            // promotion cut an honest upload of the public instead (helper 118).
            if slots.place() == Place::Surplus {
                self.known
                    .state
                    .fetch_or(SURPLUS, std::sync::atomic::Ordering::SeqCst);
                queue(&slots.surplus).insert(self.unknown, self.entry());
            }
        }
        // The overflow slot goes back as the connection slot comes in: to the newcomer told it
        // would get it, if one still waits (else that newcomer got this connection slot when
        // the connection ended, and sat on probation holding one).
        let old = self.permit().replace(permit);
        let heir = self.heir().take();
        if let (Some(old), Some(heir)) = (old, heir) {
            let _ = heir.send(old);
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, (usize, Option<u64>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The client did something (its answer ended): if the connection is idle, it waits from
    /// now on.
    fn touch(self: &Arc<Self>) {
        let mut st = self.state();
        if st.0 == 0 && !self.on_probation() {
            let mut w = queue(&self.slots.waiting);
            if let Some(k) = st.1.take() {
                w.remove(&k);
            }
            let k = self.slots.key();
            w.insert(k, self.entry());
            st.1 = Some(k);
        }
    }

    /// Not counted among the waiting until its next request has been answered, or
    /// [`Activity::unsettle`].
    fn settle(&self) {
        if let Some(k) = self.state().1.take() {
            queue(&self.slots.waiting).remove(&k);
        }
    }

    /// Settled long enough: if it is still idle and not waiting, it waits from now on.
    fn unsettle(self: &Arc<Self>) {
        let mut st = self.state();
        if st.0 == 0 && st.1.is_none() && !self.on_probation() {
            let k = self.slots.key();
            queue(&self.slots.waiting).insert(k, self.entry());
            st.1 = Some(k);
        }
    }

    /// Known to be an agency's from now on: its slot is taken only while it waits, and
    /// gracefully.
    fn agency(&self) {
        let was = self
            .known
            .state
            .fetch_or(AGENCY, std::sync::atomic::Ordering::SeqCst);
        if was & AGENCY == 0 {
            queue(&self.slots.unknown).remove(&self.unknown);
            // On probation it holds no connection slot yet: counted once promoted.
            if was & (CLOSED | PROBATION) == 0 {
                self.leaves_the_public(was);
                self.slots
                    .agencies
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            } else {
                queue(&self.slots.surplus).remove(&self.unknown);
            }
        }
    }

    /// The connection has ended (before its slot is given back): no longer counted as an
    /// agency's, whatever still holds this `Activity` (an answer being dropped).
    fn closed(&self) {
        let was = self
            .known
            .state
            .fetch_or(CLOSED, std::sync::atomic::Ordering::SeqCst);
        if was & (AGENCY | CLOSED | PROBATION) == AGENCY {
            self.slots
                .agencies
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
        if was & (AGENCY | CLOSED | PROBATION) == 0 {
            self.leaves_the_public(was);
        }
    }

    /// A connection of the public holding a connection slot leaves the public (it ended, or
    /// proved an agency's): if it was within the share, the oldest surplus one is within the
    /// share now. Marked surplus for good, an honest upload that took a slot an agency freed
    /// was still the first to go once the public's older connections had left and a public
    /// client pushed past the share again (a reviewer's reading, 2026-12-04); and when one
    /// within the share became an agency's, the next public connect past the share left the
    /// older upload marked, and an agency's newcomer cut it (found reading that change,
    /// 2026-12-04).
    fn leaves_the_public(&self, was: u8) {
        let mut q = queue(&self.slots.surplus);
        if was & SURPLUS != 0 {
            q.remove(&self.unknown);
        } else if let Some((_, (_, k, _))) = q.pop_first() {
            k.state
                .fetch_and(!SURPLUS, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn is_agency(&self) -> bool {
        self.known.agency()
    }

    /// The connection as a queue holds it.
    fn entry(self: &Arc<Self>) -> Entry {
        (
            Arc::downgrade(self),
            self.known.clone(),
            std::time::Instant::now(),
        )
    }

    /// A newcomer waits for its slot ([`Activity::give_up`]).
    fn heir_waits(&self) -> bool {
        self.heir().as_ref().is_some_and(|h| !h.is_closed())
    }

    /// Its slot goes to a newcomer, which waits for it here.
    fn give_up(&self, why: Given) -> Heir {
        let (tx, rx) = tokio::sync::oneshot::channel();
        *self.heir() = Some(tx);
        self.given
            .store(why as u8, std::sync::atomic::Ordering::SeqCst);
        if self.is_agency() {
            self.evicted.notify_one();
        } else {
            self.cut.notify_one();
        }
        rx
    }

    /// Why it was last told to give its slot up.
    fn given(&self) -> Given {
        match self.given.load(std::sync::atomic::Ordering::SeqCst) {
            2 => Given::Share,
            3 => Given::Probation,
            _ => Given::Waiting,
        }
    }

    /// Evicted: close without lingering unless a request came in meanwhile.
    fn hurry(&self) {
        if self.state().0 == 0 {
            self.hurried
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn hurried(&self) -> bool {
        self.hurried.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A request begins: the connection no longer waits until its answer has been sent.
    fn begin(self: &Arc<Self>) -> Busy {
        let mut st = self.state();
        st.0 += 1;
        if let Some(k) = st.1.take() {
            queue(&self.slots.waiting).remove(&k);
        }
        Busy(self.clone())
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        if let Some(k) = self.state().1.take() {
            queue(&self.slots.waiting).remove(&k);
        }
        queue(&self.slots.unknown).remove(&self.unknown);
        queue(&self.slots.trial).remove(&self.unknown);
        queue(&self.slots.surplus).remove(&self.unknown);
    }
}

/// A connection's socket, telling its [`Activity`] when the client's first byte has come.
struct Heard<IO> {
    io: IO,
    activity: Arc<Activity>,
    told: bool,
}

impl<IO: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Heard<IO> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut this.io).poll_read(cx, buf);
        if !this.told && buf.filled().len() > before {
            this.told = true;
            this.activity.heard();
        }
        r
    }
}

impl<IO: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Heard<IO> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// A connection's task, until it ends: it stops counting as an agency's, then its slot is free.
struct Open(Arc<Activity>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.closed();
        // To the newcomer it was told to give its slot to, if that one still waits; else back
        // to all (a send that fails gives the slot back to the pool it came from).
        let permit = self.0.permit().take();
        let heir = self.0.heir().take();
        if let (Some(p), Some(heir)) = (permit, heir) {
            let _ = heir.send(p);
        }
    }
}

/// A request in flight on a connection, until its answer has been handed on (or dropped).
struct Busy(Arc<Activity>);

/// The connection a request came on (request extension), for the gate.
#[derive(Clone)]
struct OnConnection(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let idle = {
            let mut st = self.0.state();
            st.0 = st.0.saturating_sub(1);
            st.0 == 0
        };
        if idle {
            self.0.touch();
        }
    }
}

/// An answer's body, with its request's [`Busy`] until it ends.
struct Answering {
    inner: axum::body::Body,
    _busy: Busy,
}

impl hyper::body::Body for Answering {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's socket that, when the connection ends, closes the way RFC 9112 §9.6 asks:
/// the answer is sent, the write side is shut (TLS close_notify, TCP FIN), and what the client
/// still sends (the rest of a refused body) is read and dropped for a moment, so that the
/// client reads the answer instead of a reset.
struct Lingering<IO> {
    io: IO,
    closing: Option<(std::pin::Pin<Box<tokio::time::Sleep>>, usize)>,
    /// How long a write may wait for the client to read, and since when it has: a client
    /// that sends requests and never reads their answers held its connection (and the
    /// answers' memory) forever (found by an attacker's reading, 2026-12-02).
    write_timeout: Duration,
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    /// The TCP socket, whose acknowledged bytes say how fast the client takes its answers,
    /// and the least it must take (bytes a second; 0: any) over each [`RATE_WINDOW`] in which
    /// data waits for it. A client reading a few KiB a second never stalled a write for the
    /// whole write timeout: 64 such connections from 4 addresses held every slot of a service
    /// (found by an attacker's reading, 2026-12-03). What the service wrote was no measure of
    /// what the client read — socket buffers take megabytes at once — and a first rule on it
    /// cut honest downloads; the bytes the client's TCP stack acknowledged are.
    pace: Option<(std::os::fd::RawFd, u64)>,
    /// The TCP socket, reset when the connection is closed for its client's slowness.
    socket: Option<std::os::fd::RawFd>,
    /// Who, for the log line of such a close, and the counters of those closes (a reviewer
    /// saw 701 cut connections and could not tell whose, 2026-12-03).
    peer: Option<std::net::SocketAddr>,
    cut: Option<(prometheus::IntCounter, prometheus::IntCounter)>,
    /// Since when data has waited for the client, and how many bytes it had acknowledged then.
    window: Option<(std::time::Instant, u64)>,
    /// Wakes a write waiting for the client when a window may have ended.
    rate_check: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    /// When the rate was last looked at, and whether a write was waiting for the client then:
    /// a gap without one is the service's (no answer to send), which ends a window.
    last: Option<(std::time::Instant, bool)>,
    /// The connection's activity: closed idle for a newcomer, it does not linger.
    activity: Option<Arc<Activity>>,
}

/// A gap between writes longer than this, no write waiting, is not the client's.
const IDLE_GAP: Duration = Duration::from_millis(500);

/// The span over which a client's reading rate is judged: long enough for a receiver that
/// opens its window in steps (125 KiB every 5–6 s from a steady 20 KiB/s reader, 1,000-byte
/// segments) and for a pause of 10 s or so; 10 s cut both (a reviewer's measurement,
/// 2026-12-03).
const RATE_WINDOW: Duration = Duration::from_secs(30);

/// The bytes the peer has acknowledged, and whether data still waits for it (not sent, or
/// not acknowledged); `None` where the kernel does not say.
fn tcp_progress(fd: std::os::fd::RawFd) -> Option<(u64, bool)> {
    // SAFETY: `info` is a plain C struct the kernel fills up to `len`; `fd` is the
    // connection's socket, open while its `Lingering` is.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    (r == 0).then_some((
        info.tcpi_bytes_acked,
        info.tcpi_notsent_bytes > 0 || info.tcpi_unacked > 0,
    ))
}

/// How long, and how many bytes, a closing connection reads and drops.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 4 << 20;

impl<IO> Lingering<IO> {
    fn new(io: IO, write_timeout: Duration) -> Self {
        Lingering {
            io,
            closing: None,
            write_timeout,
            stalled: None,
            pace: None,
            socket: None,
            peer: None,
            cut: None,
            window: None,
            rate_check: None,
            last: None,
            activity: None,
        }
    }

    /// The connection's [`Activity`]: when it is closed idle for a newcomer, it closes at once.
    fn of(mut self, activity: &Arc<Activity>) -> Self {
        self.activity = Some(activity.clone());
        self
    }

    /// Judge the client's reading rate on socket `fd` (at least `min_rate` bytes a second;
    /// 0: not judged), and reset `fd` when the connection is closed for its client's
    /// slowness (this rate, or `write_timeout`).
    fn paced(
        mut self,
        fd: std::os::fd::RawFd,
        min_rate: usize,
        peer: std::net::SocketAddr,
        limited: &prometheus::IntCounterVec,
    ) -> Self {
        self.pace = (min_rate > 0).then_some((fd, min_rate as u64));
        self.socket = Some(fd);
        self.peer = Some(peer);
        self.cut = Some((
            limited.with_label_values(&["answer_min_rate"]),
            limited.with_label_values(&["answer_unread"]),
        ));
        self
    }

    /// The connection is being closed for its client's slowness: its socket is reset when
    /// closed. A closed socket's unsent answer otherwise stayed in the kernel (up to the send
    /// buffer, megabytes) for minutes, sent on to a client that keeps its window shut, and
    /// the close was nothing but a FIN queued behind it (found by an attacker's reading,
    /// 2026-12-03).
    fn reset_on_close(&self) {
        let Some(fd) = self.socket else { return };
        let l = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: `fd` is the connection's socket, open while its `Lingering` is; `l` is the
        // plain C struct SO_LINGER takes, passed with its size.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&l as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }

    /// An error once the client has acknowledged less than the minimum rate over a window in
    /// which data waited for it; a window ends (passed) when nothing waits any more.
    fn judge(&mut self, pending: bool) -> std::io::Result<()> {
        let Some((fd, min_rate)) = self.pace else {
            return Ok(());
        };
        // The service had nothing to write for a while (between requests of a keep-alive
        // connection, or while a handler worked): that time is not the client's.
        if let Some((t, false)) = self.last {
            if t.elapsed() > IDLE_GAP {
                self.window = None;
            }
        }
        self.last = Some((std::time::Instant::now(), pending));
        let Some((acked, waiting)) = tcp_progress(fd) else {
            return Ok(());
        };
        if !waiting {
            self.window = None;
            return Ok(());
        }
        if self.window.is_none() {
            // A new window: its check is due a whole window from now, not on the schedule of
            // the last one (which let a client read nothing for ~57 s; a reviewer's
            // measurement, 2026-12-03).
            self.window = Some((std::time::Instant::now(), acked));
            self.rate_check = None;
        }
        let Some((since, from)) = self.window else {
            return Ok(());
        };
        let elapsed = since.elapsed();
        if elapsed >= RATE_WINDOW {
            let want = (min_rate as f64 * elapsed.as_secs_f64()) as u64;
            if acked.saturating_sub(from) < want {
                tracing::info!(
                    peer = %self.peer.map(|p| p.to_string()).unwrap_or_default(),
                    acknowledged = acked.saturating_sub(from),
                    seconds = elapsed.as_secs(),
                    "connection closed: the client reads its answers slower than limits.answer_min_rate"
                );
                if let Some((rate, _)) = &self.cut {
                    rate.inc();
                }
                self.reset_on_close();
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client reads its answers slower than limits.answer_min_rate",
                ));
            }
            self.window = Some((std::time::Instant::now(), acked));
        }
        Ok(())
    }

    /// After the inner write or flush gave `r`: progress ends a stall; waiting past the
    /// write timeout is an error (the connection is closed).
    fn stall<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        r: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        use std::task::Poll;
        match r {
            Poll::Pending => {
                if let Err(e) = self.judge(true) {
                    return Poll::Ready(Err(e));
                }
                // While data waits, the rate is judged again at the window's end.
                if self.pace.is_some() {
                    let mut check = self
                        .rate_check
                        .take()
                        .unwrap_or_else(|| Box::pin(tokio::time::sleep(RATE_WINDOW)));
                    if std::future::Future::poll(check.as_mut(), cx).is_ready() {
                        if let Err(e) = self.judge(true) {
                            return Poll::Ready(Err(e));
                        }
                        check = Box::pin(tokio::time::sleep(RATE_WINDOW));
                        let _ = std::future::Future::poll(check.as_mut(), cx);
                    }
                    self.rate_check = Some(check);
                }
                let t = self.write_timeout;
                let deadline = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(t)));
                if std::future::Future::poll(deadline.as_mut(), cx).is_ready() {
                    tracing::info!(
                        peer = %self.peer.map(|p| p.to_string()).unwrap_or_default(),
                        seconds = self.write_timeout.as_secs(),
                        "connection closed: the client read nothing of its answer within limits.request_timeout_secs"
                    );
                    if let Some((_, unread)) = &self.cut {
                        unread.inc();
                    }
                    self.reset_on_close();
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client read nothing of its answer in time",
                    )));
                }
                Poll::Pending
            }
            ready => {
                self.stalled = None;
                if let Err(e) = self.judge(false) {
                    return Poll::Ready(Err(e));
                }
                ready
            }
        }
    }
}

impl<IO: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Lingering<IO> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite
    for Lingering<IO>
{
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.io).poll_write(cx, buf);
        self.stall(cx, r)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let r = std::pin::Pin::new(&mut self.io).poll_flush(cx);
        self.stall(cx, r)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = &mut *self;
        if this.closing.is_none() {
            // The TLS close_notify is a write too: a client that reads nothing does not hold
            // the connection here past the write timeout or below the minimum rate.
            let r = std::pin::Pin::new(&mut this.io).poll_shutdown(cx);
            std::task::ready!(this.stall(cx, r))?;
            if this.activity.as_ref().is_some_and(|a| a.hurried()) {
                return Poll::Ready(Ok(()));
            }
            this.closing = Some((Box::pin(tokio::time::sleep(LINGER)), 0));
        }
        let Some((deadline, read)) = this.closing.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let mut scratch = [0u8; 8192];
        loop {
            if std::future::Future::poll(deadline.as_mut(), cx).is_ready() || *read >= LINGER_BYTES
            {
                return Poll::Ready(Ok(()));
            }
            let mut buf = tokio::io::ReadBuf::new(&mut scratch);
            match std::pin::Pin::new(&mut this.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => *read += buf.filled().len(),
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Open connections per peer address (an IPv6 address counts by its /64: one host has many).
#[derive(Default)]
struct PerAddress(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

struct AddressSlot(Arc<PerAddress>, std::net::IpAddr);

fn address_key(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => std::net::IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                std::net::IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

impl PerAddress {
    fn enter(self: &Arc<Self>, ip: std::net::IpAddr, max: usize) -> Option<AddressSlot> {
        let ip = address_key(ip);
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
    activity: Arc<Activity>,
) -> hyper_util::service::TowerToHyperService<
    impl tower::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = Response,
            Error = std::convert::Infallible,
            Future = impl Send,
        > + Clone,
> {
    let svc = tower::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        // From the head read to the answer's end, the connection is busy, not waiting.
        let busy = activity.begin();
        req.extensions_mut().insert(conn.clone());
        req.extensions_mut().insert(OnConnection(activity.clone()));
        let answer = router.clone().oneshot(req.map(axum::body::Body::new));
        let on = activity.clone();
        async move {
            let mut resp = answer.await?;
            // Answered past the gate (a route that does not exist) while still on probation:
            // that connection has not earned a slot.
            if on.on_probation() {
                close_after(&mut resp);
            }
            Ok::<_, std::convert::Infallible>(
                resp.map(|inner| axum::body::Body::new(Answering { inner, _busy: busy })),
            )
        }
    });
    hyper_util::service::TowerToHyperService::new(svc)
}

/// The user name of callers without credentials when `web.public_verification` is on (in
/// parentheses: no configured client or token can be confused with it in the logs).
pub const PUBLIC_USER: &str = "(public)";

/// What the gate found out about the caller, for the access log (response extension).
#[derive(Clone)]
pub struct Caller(pub Option<Arc<Identity>>);

/// Does the request carry a body (announced, or chunked)?
pub fn has_body(req: &Request) -> bool {
    let h = req.headers();
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// An answer given without reading the request's body: the connection cannot carry another
/// request after it, so say so (the socket then closes gracefully, see `Lingering`).
pub fn close_after(r: &mut Response) {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// What the gate lets through with a request: who, and the slots it holds until the answer.
struct Admitted {
    identity: Option<Arc<Identity>>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// The one gate every route passes, before its handler: who is calling (certificate or bearer
/// token; never both), the per-client rate and concurrency limits, the roles the route admits
/// (empty: public), and the bytes its body may take (reserved from the head, before a byte is
/// read, against the service's and the client's budgets). A refusal of a request with a body
/// closes the connection after the answer.
pub async fn gate(
    State((state, roles, limit)): State<(Shared, &'static [Role], usize)>,
    mut req: Request,
    next: Next,
) -> Response {
    let body = has_body(&req);
    let admitted = match admit(&state, roles, limit, &mut req) {
        Ok(a) => a,
        Err(mut r) => {
            // Refused (a rate, a budget, a role) but with an agency's credentials: its
            // connection is an agency's all the same.
            if r.extensions()
                .get::<Caller>()
                .and_then(|c| c.0.as_ref())
                .is_some_and(|id| !id.is_public())
            {
                if let Some(c) = req.extensions().get::<OnConnection>() {
                    c.0.agency();
                }
            }
            // On probation, a refused request ends its connection: it has not earned a slot.
            let probation = req
                .extensions()
                .get::<OnConnection>()
                .is_some_and(|c| c.0.on_probation());
            if body || probation {
                close_after(&mut r);
            }
            return *r;
        }
    };
    // The request's body bytes stay reserved, and the request counts as in flight for its
    // client, until its answer has been sent or dropped — not only until the handler returns:
    // an answer a client does not read held its memory (a record's content) or a thread (a
    // package download) while the client's limits said it had nothing in flight (found by an
    // attacker's reading, 2026-12-03). An answer's own bytes, reserved by its handler
    // ([`reserve_answer`]), are held as long.
    let request_bytes = req.extensions().get::<Held>().cloned();
    // A request with an agency's credentials makes its connection an agency's.
    if req
        .extensions()
        .get::<ClientKey>()
        .is_some_and(|k| !k.public)
    {
        if let Some(c) = req.extensions().get::<OnConnection>() {
            c.0.agency();
        }
    }
    // A connection on probation is served only once it has proved to be an agency's and
    // taken a connection slot, or, the public's, taken a slot come free or a silent
    // connection's; else it is answered 503 before any work, and closed. A load
    // balancer's health check (no credentials, a new connection) is answered on probation,
    // and its connection closed: refused while the public held its share, it would take the
    // appliance out of service for agencies too. So are the web page's own files (bytes in
    // memory): a citizen's browser then shows the page, and the page says the service is busy
    // when the verification itself is answered 503.
    if let Some(c) = req.extensions().get::<OnConnection>().cloned() {
        if c.0.on_probation() {
            // While draining, no slot is taken: the drain holds every one given back, and a
            // promotion would only cut the public's requests in flight for nothing.
            let draining = state.draining.load(std::sync::atomic::Ordering::Relaxed);
            let open = req.extensions().get::<MatchedPath>().is_some_and(|m| {
                PROBATION_OPEN.contains(&m.as_str()) || super::web::is_file(m.as_str())
            });
            let agency = c.0.is_agency();
            // The public's takes only a slot come free or a silent connection's
            // ([`Activity::promote_public`]).
            let how = if open {
                Promotion::Already
            } else if draining {
                Promotion::Refused
            } else if agency {
                c.0.promote().await
            } else {
                c.0.promote_public().await
            };
            let slot = match how {
                Promotion::Refused => return not_promoted(&state, agency, admitted.identity),
                Promotion::Already => None,
                Promotion::Free => Some("free"),
                Promotion::Taken => Some("taken"),
            };
            if let Some(slot) = slot {
                let who = if agency { "agency" } else { "public" };
                state.metrics.promoted.with_label_values(&[slot, who]).inc();
            }
        }
    }
    let mut resp = next.run(req).await;
    let answer_bytes = resp.extensions_mut().remove::<Held>();
    resp.extensions_mut().insert(Caller(admitted.identity));
    let held = InFlight {
        _permit: admitted._permit,
        _bytes: (request_bytes, answer_bytes),
    };
    resp.map(|inner| {
        axum::body::Body::new(Guarded {
            inner,
            rest: axum::body::Bytes::new(),
            _held: held,
        })
    })
}

/// Routes answered on a connection on probation without credentials (then closed).
const PROBATION_OPEN: [&str; 2] = ["/healthz", "/readyz"];

/// The answer to a request on a connection on probation that may not take a connection slot:
/// the public's (it holds its share), or an agency's when every slot is taken and none may go.
fn not_promoted(state: &Shared, agency: bool, identity: Option<Arc<Identity>>) -> Response {
    let (what, e) = if agency {
        (
            "connections",
            ApiError::unavailable("every connection slot is taken and none may be given up (limits.max_connections); retry shortly"),
        )
    } else {
        (
            "public_connections",
            ApiError::unavailable("the service holds as many connections of the public as it takes (limits.public_share); retry shortly"),
        )
    };
    state.metrics.limited.with_label_values(&[what]).inc();
    let mut r = e.into_response();
    r.extensions_mut().insert(Caller(identity));
    close_after(&mut r);
    r
}

/// What a request holds of its client's limits until its answer is sent or dropped.
struct InFlight {
    _permit: tokio::sync::OwnedSemaphorePermit,
    _bytes: (Option<Held>, Option<Held>),
}

/// An answer's body, holding what its request holds until it ends. Its data goes out in
/// chunks of at most 64 KiB, so that the end (and the release of what it holds) comes when the
/// client has taken the answer, not when hyper has been handed all of it at once in its queue.
struct Guarded {
    inner: axum::body::Body,
    rest: axum::body::Bytes,
    _held: InFlight,
}

/// The largest piece of an answer handed to hyper at once.
const ANSWER_CHUNK: usize = 64 << 10;

impl hyper::body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        if self.rest.is_empty() {
            match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => self.rest = data,
                    Err(other) => return Poll::Ready(Some(Ok(other))),
                },
                other => return other,
            }
        }
        let n = self.rest.len().min(ANSWER_CHUNK);
        let piece = self.rest.split_to(n);
        Poll::Ready(Some(Ok(hyper::body::Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        let inner = self.inner.size_hint();
        let rest = self.rest.len() as u64;
        let mut h = hyper::body::SizeHint::new();
        h.set_lower(inner.lower().saturating_add(rest));
        if let Some(u) = inner.upper() {
            h.set_upper(u.saturating_add(rest));
        }
        h
    }
}

/// Who a request's bytes are counted against: its client (a user, or an anonymous caller's
/// address) and whether it is of the public.
#[derive(Clone)]
pub struct ClientKey {
    pub key: String,
    pub public: bool,
}

/// Reserve `bytes` for an answer the handler holds in memory (a record's content, a signed
/// document), against the same budgets as request bodies: put the [`Held`] in the answer's
/// extensions and it is kept until the answer is sent or dropped.
/// `beside`: what the request holds already (its body), which an answer larger than the
/// budgets is reserved beside rather than refused forever.
pub fn reserve_answer(
    state: &Shared,
    who: &ClientKey,
    bytes: usize,
    beside: Option<&Held>,
) -> Result<Held, ApiError> {
    state
        .budget
        .reserve_beside(&who.key, who.public, bytes, beside)
        .map_err(|over| over_budget(state, over))
}

/// The answer to a request whose bytes do not fit a budget.
fn over_budget(state: &Shared, over: Over) -> ApiError {
    let (what, e) = match over {
        Over::Client => (
            "inflight_bytes_client",
            ApiError::new(
                Code::TooManyInFlight,
                "too many bytes of your requests are in flight (limits.inflight_bytes_per_client); wait for some to finish",
            )
            .retry_after(1),
        ),
        Over::Public => (
            "inflight_bytes_public",
            ApiError::unavailable(
                "the service holds as many bytes of public requests as it takes (limits.public_share); retry shortly",
            ),
        ),
        Over::All => (
            "inflight_bytes",
            ApiError::unavailable(
                "the service holds as many request bytes as it takes (limits.inflight_bytes); retry shortly",
            ),
        ),
    };
    state.metrics.limited.with_label_values(&[what]).inc();
    e
}

fn admit(
    state: &Shared,
    roles: &'static [Role],
    limit: usize,
    req: &mut Request,
) -> Result<Admitted, Box<Response>> {
    let Some(conn) = req.extensions().get::<Conn>().cloned() else {
        return Err(Box::new(
            ApiError::internal("no connection facts").into_response(),
        ));
    };
    let mut authorizations = req.headers().get_all(header::AUTHORIZATION).iter();
    let bearer = authorizations
        .next()
        .map(|v| v.to_str().unwrap_or("").to_string());
    // Two: which one speaks is each reader's guess (the first here; a proxy may check the
    // last), so neither does (an attacker's reading, 2026-12-05).
    let authorizations_twice = authorizations.next().is_some();
    // The route's template, not the path asked for: a path can carry a code (percent-encoded
    // past the log's masking); the template names the route as well.
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", |m| m.as_str())
        .to_string();
    // `throttled`: `None` for a refusal logged each time; `Some(pass)` for one logged at most
    // once a second (`pass`: the throttle's verdict, with the lines skipped).
    let refuse = |code: Code, reason: &str, msg: String, throttled: Option<Option<u64>>| {
        state
            .metrics
            .auth_failures
            .with_label_values(&[reason])
            .inc();
        // `detail`, not `message`: the event's own text is the JSON line's `message`. A
        // refusal after the limiter is logged each time (alerts match them; the limiter bounds
        // them per client). One before it is logged at most once a second — failed
        // credentials per address, cross-site requests for all together — with the
        // lines `skipped` (the metric counts each): 32 addresses repeating a cross-site request
        // wrote 6,586 lines in 1.9 s (a reviewer's measurement, 2026-12-04).
        match throttled {
            None => {
                tracing::warn!(peer = %conn.peer, path = %path, status = code.status().as_u16(), reason, detail = %msg, "request refused");
            }
            Some(Some(skipped)) => {
                tracing::warn!(peer = %conn.peer, path = %path, status = code.status().as_u16(), reason, detail = %msg, skipped, "request refused");
            }
            Some(None) => {}
        }
        let mut r = ApiError::new(code, msg).into_response();
        if code == Code::Unauthenticated {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kyso\""),
            );
        }
        Box::new(r)
    };
    let limited = |what: &str, e: ApiError| {
        state.metrics.limited.with_label_values(&[what]).inc();
        Box::new(e.into_response())
    };
    // Failed credentials (a token, a refused certificate, two credentials) are charged to the
    // address's bucket first: guessing is rate limited, and one connection repeating them gets
    // 429 after the burst.
    let address = address_key(conn.peer.ip());
    let refused_early = |code: Code, reason: &str, msg: String| {
        if let Err(retry) = state.limiter.allow(&format!("ip:{address}")) {
            if let Some(skipped) = RATE_LIMITED.pass() {
                tracing::warn!(peer = %conn.peer, reason, skipped, "rate limit");
            }
            return limited(
                "rate",
                ApiError::new(
                    Code::RateLimited,
                    format!("too many refused requests from this address; retry in {retry} s"),
                )
                .retry_after(retry),
            );
        }
        let pass = FAILED_CREDENTIALS.pass(&address.to_string());
        refuse(code, reason, msg, Some(pass))
    };
    // A browser tells where a request comes from. A page of another site must not make a
    // clerk's browser (which presents its client certificate on its own) read records or write
    // reads into the log in the clerk's name: requests to routes that need a role are taken
    // only from this service's own pages or from clients that are not browsers.
    let site = req
        .headers()
        .get("sec-fetch-site")
        // Present but not text is no value the standard defines: another site's, as any
        // unknown value (it read as absent, a client's own request, until 2026-12-04).
        .map_or("none", |v| v.to_str().unwrap_or("?"));
    let foreign = !matches!(site, "same-origin" | "none");
    if !roles.is_empty() && foreign {
        // Only a value the Fetch standard defines is repeated (the message is logged).
        let site = match site {
            "cross-site" | "same-site" => site,
            _ => "an unknown Sec-Fetch-Site",
        };
        // Not charged to the address: the request may be an official's browser made to
        // send it by another site's page, and the charge would refuse the others at that
        // address (a reviewer's reading, 2026-12-04).
        return Err(refuse(
            Code::Forbidden,
            "cross_site",
            format!("a request from another site ({site}) is not taken; use the service's own page or a client"),
            Some(CROSS_SITE.pass()),
        ));
    }
    // Nor from a browser's navigation: a link opened from a mail, a chat or a document is
    // `Sec-Fetch-Site: none`, as a typed address, and the browser presents the clerk's
    // certificate on its own — a link with `?purpose=…` wrote a read in the clerk's name with
    // a purpose another chose (helper 173). The service's pages ask with fetch() (mode cors,
    // destination empty); clients that are not browsers send neither header.
    let fetch_header = |name: &str| req.headers().get(name).map(|v| v.to_str().unwrap_or("?"));
    let navigation = fetch_header("sec-fetch-mode")
        .is_some_and(|m| m != "cors" && m != "same-origin" && m != "no-cors")
        || fetch_header("sec-fetch-dest").is_some_and(|d| d != "empty");
    if !roles.is_empty() && navigation {
        return Err(refuse(
            Code::Forbidden,
            "navigation",
            "a browser's navigation (a link opened, an address typed) to the API is not taken; use the service's own page or a client".into(),
            Some(CROSS_SITE.pass()),
        ));
    }
    // On a route open to anyone, a browser's request from another site is taken as anyone's:
    // the client certificate the browser presents on its own does not speak for the official.
    // Counted as the official's, another site's page could spend the official's requests
    // (GET /healthz in a loop; a reviewer's reading, 2026-12-04).
    let cert = if foreign { &PeerCert::None } else { &conn.cert };
    if authorizations_twice {
        return Err(refused_early(
            Code::Unauthenticated,
            "two_credentials",
            "more than one Authorization header; send one".into(),
        ));
    }
    let identity = match (cert, bearer) {
        (PeerCert::Refused(why), _) => {
            return Err(refused_early(
                Code::Unauthenticated,
                "certificate",
                why.clone(),
            ));
        }
        (PeerCert::Known(_), Some(_)) => {
            return Err(refused_early(
                Code::Unauthenticated,
                "two_credentials",
                "a client certificate and a bearer token were both presented; use one".into(),
            ));
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
                    return Err(refused_early(
                        Code::Unauthenticated,
                        "token",
                        "the Authorization header does not carry a valid bearer token".into(),
                    ));
                }
            }
        }
        (PeerCert::None, None) => None,
    };
    // Without credentials, and when the config allows public verification: the verifier role,
    // rate limited by address like any anonymous caller (another site's request with a known
    // certificate: by that certificate, above).
    let key = match (&identity, &conn.cert) {
        (Some(id), _) => format!("user:{}", id.user),
        // Anyone's, but counted apart from the address: someone at the address spending its
        // requests got an official following a link from another site 429 (a reviewer's
        // reading, 2026-12-04), and another site's page spends only these.
        (None, PeerCert::Known(id)) if foreign => format!("foreign:{}", id.user),
        (None, _) => format!("ip:{address}"),
    };
    let identity = match identity {
        None if state.cfg.web.public_verification => Some(Arc::new(Identity {
            user: PUBLIC_USER.into(),
            roles: vec![Role::Verifier],
            method: "none",
            agency: None,
            signing_certs: Arc::new(Vec::new()),
            keys: Some(Arc::new(Vec::new())),
            address: Some(address),
        })),
        other => other,
    };
    // Refusals from here on know who asked: the access log names them.
    let known = |mut r: Box<Response>| {
        r.extensions_mut().insert(Caller(identity.clone()));
        r
    };
    if let Err(retry) = state.limiter.allow(&key) {
        if let Some(skipped) = RATE_LIMITED.pass() {
            tracing::warn!(client = %key, skipped, "rate limit");
        }
        return Err(known(limited(
            "rate",
            ApiError::new(
                Code::RateLimited,
                format!("too many requests; retry in {retry} s"),
            )
            .retry_after(retry),
        )));
    }
    if !roles.is_empty() {
        match &identity {
            None => {
                return Err(known(refuse(
                    Code::Unauthenticated,
                    "none",
                    "this route needs a client certificate or a bearer token".into(),
                    None,
                )))
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
                return Err(known(refuse(Code::Forbidden, "role", msg, None)));
            }
            Some(_) => {}
        }
    }
    let Some(permit) = state.limiter.enter(&key) else {
        return Err(known(limited(
            "concurrency",
            ApiError::new(
                Code::TooManyInFlight,
                "too many requests in flight for this client; wait for some to finish",
            )
            .retry_after(1),
        )));
    };
    if limit > 0 && has_body(req) {
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = match announced {
            // Larger than the route takes: refused from the head by the route's own check.
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX).min(limit),
            None => limit,
        };
        let public = identity.as_ref().is_none_or(|id| id.is_public());
        match state.budget.reserve(&key, public, bytes) {
            Ok(held) => {
                req.extensions_mut().insert(held);
            }
            Err(over) => return Err(known(Box::new(over_budget(state, over).into_response()))),
        }
    }
    let public = identity.as_ref().is_none_or(|id| id.is_public());
    req.extensions_mut().insert(ClientKey { key, public });
    if let Some(id) = &identity {
        req.extensions_mut().insert(id.clone());
    }
    Ok(Admitted {
        identity,
        _permit: permit,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One caller's refusals do not hide another's: each key gets its line each second; past
    /// `KEYED_MAX` keys the rest share one; and new keys do not push out one seen in the last
    /// second.
    #[test]
    fn a_keyed_throttle_gives_each_caller_its_line() {
        let t = KeyedThrottle::new();
        assert_eq!(t.pass_at("10.0.0.1", 100), Some(0));
        assert_eq!(t.pass_at("10.0.0.1", 100), None);
        assert_eq!(t.pass_at("10.0.0.2", 100), Some(0));
        // Two keys taken: KEYED_MAX - 2 more get their own line, then the rest share one.
        let many: Vec<_> = (0..KEYED_MAX + 5)
            .map(|i| t.pass_at(&format!("10.1.0.{i}"), 100))
            .collect();
        let passed = many.iter().filter(|p| p.is_some()).count();
        assert_eq!(passed, KEYED_MAX - 2 + 1, "{many:?}");
        // The next second, a burst of new addresses finds every place kept, and the first
        // caller still gets its line, with what it skipped.
        let burst: Vec<_> = (0..100)
            .map(|i| t.pass_at(&format!("10.2.0.{i}"), 101))
            .collect();
        // (The shared line follows the clock, not the seconds given here: one at most.)
        assert!(
            burst.iter().filter(|p| p.is_some()).count() <= 1,
            "{burst:?}"
        );
        assert_eq!(t.pass_at("10.0.0.1", 101), Some(1));
        // Keys not seen for two seconds give their places up.
        assert_eq!(t.pass_at("10.3.0.1", 103), Some(0));
    }
}
