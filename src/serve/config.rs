//! `kyso.toml` for `kyso serve`: read, overridden from `KYSO_<SECTION>_<KEY>` environment
//! variables, and validated before anything starts. Every error names the key that is wrong.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::auth::Role;

/// The whole file. Unknown keys are errors (a typo never silently falls back to a default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: Server,
    #[serde(default)]
    pub limits: Limits,
    pub token: Token,
    pub archive: Archive,
    #[serde(default)]
    pub trust: Trust,
    /// The internal time-stamping authority (`/v1/timestamp`, and B-T signatures).
    pub tsa: Option<TsaKey>,
    /// Keys the service signs with for callers that have the `signer` role.
    #[serde(default)]
    pub keys: Vec<Key>,
    /// Agencies' client certificates (mutual TLS) and their roles.
    #[serde(default)]
    pub clients: Vec<Client>,
    /// Bearer API tokens for scripts, stored as SHA-256 of the token.
    #[serde(default)]
    pub api_tokens: Vec<ApiToken>,
    /// The verification page at `/`.
    #[serde(default)]
    pub web: Web,
    /// Export jobs (`/v1/exports`): where packages are written, how many run at once.
    pub export: Option<Export>,
    /// What looks wrong but is not an error (logged at start).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// The file it was read from (read again on SIGHUP for its clients and tokens).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The verification page (`GET /`) and who may use it without credentials.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Web {
    /// Callers without a certificate or token get the `verifier` role (user `(public)`, rate
    /// limited by address): anyone may verify a document, ask whether the archive holds it and
    /// check the proof. Off by default: then the page needs an agency certificate or a token.
    #[serde(default)]
    pub public_verification: bool,
}

/// `[export]`: archivists' export jobs (docs/operations.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// The directory packages are written to (job files, bags, E-ARK zips); it must exist, be
    /// writable, and not be inside the archive's database directory.
    pub dir: PathBuf,
    /// Jobs that run at once (each on a thread of its own); the others wait in order.
    #[serde(default = "default_export_concurrent")]
    pub concurrent: usize,
    /// Jobs one user may hold (queued, running, done or failed, until deleted); one more is 429.
    #[serde(default = "default_export_jobs_per_user")]
    pub jobs_per_user: usize,
    /// A job starts only with at least this much free space in `dir` (MiB); a job that fills
    /// the disk fails and its partial package is removed.
    #[serde(default = "default_export_min_free_mib")]
    pub min_free_mib: u64,
    /// `Source-Organization` of the packages.
    #[serde(default = "default_export_organization")]
    pub organization: String,
    /// Threads that prepare a job's records ahead of its writer (1–16): more makes a job
    /// faster and takes that many cores from the verification requests while it runs.
    #[serde(default = "default_export_workers")]
    pub workers: usize,
}

fn default_export_workers() -> usize {
    1
}

fn default_export_concurrent() -> usize {
    1
}
fn default_export_jobs_per_user() -> usize {
    4
}
fn default_export_min_free_mib() -> u64 {
    1024
}
fn default_export_organization() -> String {
    "kyso archive".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// PEM certificate chain of the service (leaf first).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the service (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// CA certificates (PEM) that issue agencies' client certificates.
    #[serde(default)]
    pub client_ca: Vec<PathBuf>,
    /// Serve plain HTTP. Only on a loopback address, and only when set explicitly.
    #[serde(default)]
    pub plain_http: bool,
    /// Lowest TLS version: "1.2" or "1.3".
    #[serde(default = "default_tls_min")]
    pub tls_min: String,
    /// Threads that run validations (CPU work); 0 = the number of CPUs.
    #[serde(default)]
    pub verify_threads: usize,
    /// Stack of each validation thread, MiB (deeply nested inputs recurse).
    #[serde(default = "default_verify_stack")]
    pub verify_stack_mib: usize,
    /// Seconds a graceful shutdown waits for requests in flight; then queued validations are
    /// cancelled (503) and the process exits.
    #[serde(default = "default_drain")]
    pub drain_secs: u64,
    /// CRLs for client certificates: PEM or DER files, or directories of them. Re-read on
    /// SIGHUP and every `client_crl_reload_secs`.
    #[serde(default)]
    pub client_crls: Vec<PathBuf>,
    /// Also ask the OCSP responders and CRL distribution points a client certificate names
    /// (answers are cached until their nextUpdate).
    #[serde(default)]
    pub client_ocsp: bool,
    /// When CRLs or OCSP are configured and none tells a client certificate's status:
    /// `require` refuses the certificate (the default), `if_known` lets it in and logs it.
    #[serde(default)]
    pub client_revocation: ClientRevocation,
    /// Seconds between re-reads of `client_crls` and of `[trust]`'s CRLs and OCSP responses
    /// (SIGHUP re-reads them, and `[trust]`'s anchors and certificates, at once).
    #[serde(default = "default_crl_reload")]
    pub client_crl_reload_secs: u64,
}

/// What a client certificate whose revocation status is unknown gets.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientRevocation {
    /// No current CRL or OCSP answer from its CA: refused (401).
    #[default]
    Require,
    /// Only a certificate known to be revoked is refused.
    IfKnown,
}

impl Server {
    /// Are client certificates checked for revocation at all?
    pub fn checks_client_revocation(&self) -> bool {
        !self.client_crls.is_empty() || self.client_ocsp
    }
}

fn default_tls_min() -> String {
    "1.2".into()
}
fn default_verify_stack() -> usize {
    256
}
fn default_drain() -> u64 {
    20
}
fn default_crl_reload() -> u64 {
    300
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest JSON request body (bytes) for requests without documents.
    pub json_bytes: usize,
    /// Largest upload (bytes): a document to verify, archive or sign; base64 in JSON counts.
    pub upload_bytes: usize,
    /// Largest signing batch request (bytes, base64 included).
    pub batch_bytes: usize,
    /// Most documents in one signing batch.
    pub batch_documents: usize,
    /// Sustained requests per second per client (token bucket), and the bucket's size.
    pub rate_per_second: f64,
    pub burst: f64,
    /// Requests one client may have in flight at once.
    pub concurrent_per_client: usize,
    /// Connections open at once (all clients), and from one address.
    pub max_connections: usize,
    pub connections_per_address: usize,
    /// Seconds for a whole request, body included (slow clients get 408).
    pub request_timeout_secs: u64,
    /// Seconds one validation may run on a verification thread (from when it starts, queueing
    /// not counted): past it the validation is stopped, its thread freed, and the caller
    /// answered 422 `too_slow`. The same limit holds the reading of a document to sign (a
    /// remote `prepare`, each document of a batch before its token signs it). At most `request_timeout_secs`; unset: 30, or
    /// `request_timeout_secs` if less. A validation whose request is gone (timed out, the
    /// client left) is stopped too.
    pub validation_secs: Option<u64>,
    /// MiB one validation may hold (what it allocated on its verification thread since it
    /// began and has not freed), the same for the reading of a document to sign: past it the
    /// work is stopped at its next check, its thread freed, and the caller answered 422
    /// `too_much_memory`. The parsers' budgets bound each structure of a hostile file, but
    /// together they could still hold 2.4 GB for a 32 MiB upload; the busiest honest file
    /// measured (200,000 objects, five signatures, 2.2 MB) held 349 MiB. The service's
    /// validations may hold `server.verify_threads` times this at once, and the batch
    /// documents being signed as many times as the token's sessions or those threads are.
    pub validation_memory_mib: usize,
    /// Bytes per second a client must take its answers at, at least, as its TCP stack
    /// acknowledges them, over each 30 seconds in which data waits for it (0: no minimum). A
    /// client reading slower has its connection closed: slow readers of pipelined answers had
    /// held connection slots for as long as they pleased.
    pub answer_min_rate: usize,
    /// Seconds to send the request head after connecting or after the previous request.
    pub header_timeout_secs: u64,
    /// Seconds for the TLS handshake.
    pub handshake_timeout_secs: u64,
    /// Pending remote signatures kept per user, and for how long (seconds).
    pub remote_pending_per_user: usize,
    pub remote_pending_secs: u64,
    /// Bytes of prepared documents kept for remote signing: all users together, and one user.
    pub remote_pending_bytes: usize,
    pub remote_pending_bytes_per_user: usize,
    /// Validations queued beyond the running ones before the service answers 503.
    pub verify_queue: usize,
    /// Validations one client may have queued or running (its share of the queue); more: 429.
    pub verify_queue_per_client: usize,
    /// Bytes of request bodies being received or held (until their validation ends): all
    /// clients together (503 beyond), and one client (429 beyond). A body counts by its
    /// Content-Length; one without (chunked) by its route's largest body.
    pub inflight_bytes: usize,
    pub inflight_bytes_per_client: usize,
    /// Percent of `verify_queue` and of `inflight_bytes` the public (callers without
    /// credentials, a client per address) may hold together; the rest stays for agencies.
    pub public_share: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_bytes: 64 << 10,
            upload_bytes: 32 << 20,
            batch_bytes: 64 << 20,
            batch_documents: 500,
            rate_per_second: 50.0,
            burst: 200.0,
            concurrent_per_client: 16,
            max_connections: 1024,
            connections_per_address: 32,
            request_timeout_secs: 60,
            validation_secs: None,
            validation_memory_mib: 1024,
            answer_min_rate: 8 << 10,
            header_timeout_secs: 10,
            handshake_timeout_secs: 3,
            remote_pending_per_user: 100,
            remote_pending_secs: 600,
            remote_pending_bytes: 1 << 30,
            remote_pending_bytes_per_user: 128 << 20,
            verify_queue: 256,
            verify_queue_per_client: 16,
            inflight_bytes: 1 << 30,
            inflight_bytes_per_client: 128 << 20,
            public_share: 50,
        }
    }
}

impl Limits {
    /// Bytes one validation may hold: `validation_memory_mib`.
    pub fn validation_memory(&self) -> usize {
        self.validation_memory_mib.saturating_mul(1 << 20)
    }

    /// Seconds one validation may run: `validation_secs`, or 30 (at most the request's).
    pub fn validation_secs(&self) -> u64 {
        self.validation_secs
            .unwrap_or_else(|| self.request_timeout_secs.min(30))
    }

    /// The public's part of a limit: `public_share` percent of it, at least 1, and below the
    /// whole unless the share is 100 (something is kept for agencies).
    pub fn public_part(&self, whole: usize) -> usize {
        let part = (whole as u128 * self.public_share.min(100) as u128 / 100) as usize;
        let part = if self.public_share < 100 {
            part.min(whole.saturating_sub(1))
        } else {
            part
        };
        part.max(1)
    }

    /// The largest body a route takes: `upload_bytes` as base64 in JSON, or a signing batch.
    pub fn largest_body(&self) -> usize {
        self.upload_json_bytes().max(self.batch_bytes)
    }

    /// A document base64 in JSON: 4/3 of the document, plus the other fields.
    pub fn upload_json_bytes(&self) -> usize {
        self.upload_bytes.div_ceil(3) * 4 + self.json_bytes
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// PKCS#11 module (default: the URIs' module-path, KYSO_PKCS11_MODULE, or SoftHSM2).
    pub module: Option<PathBuf>,
    /// File whose first line is the user PIN; else the KYSO_PIN environment variable. Never a
    /// prompt, never in this file.
    pub pin_file: Option<PathBuf>,
    /// Sessions in the pool of each key.
    #[serde(default = "default_sessions")]
    pub sessions: usize,
}

fn default_sessions() -> usize {
    4
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    /// The RocksDB directory.
    pub db: PathBuf,
    /// The ECDSA P-256 checkpoint key (PKCS#11 URI).
    pub log_key: String,
    /// The log's origin line and the key's name in signed notes.
    pub origin: String,
    /// The checkpoint key's name; default: the origin, as the CLI names the first key (a
    /// config copied from a CLI-made archive with `origin` alone did not start; a new user's
    /// walk-through, helper 182). A wrong name stops the start, naming the right one.
    #[serde(default)]
    pub key_name: Option<String>,
    /// Store documents that are not TOTAL-PASSED when the caller gives a reason.
    #[serde(default)]
    pub allow_unsigned_with_reason: bool,
    /// The last signed checkpoint, kept outside the database directory so that a restored
    /// older database cannot fork the log (docs/archive.md); default: `<db>.checkpoint`
    /// beside the database directory.
    #[serde(default)]
    pub checkpoint_state: Option<PathBuf>,
}

impl Config {
    /// Where `[trust]`'s state is kept ([`Trust::state`]).
    pub fn trust_state(&self) -> PathBuf {
        self.trust.state.clone().unwrap_or_else(|| {
            let db = &self.archive.db;
            let mut name = db
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_else(|| "archive".into());
            name.push(".trust");
            db.with_file_name(name)
        })
    }
}

impl Archive {
    /// The checkpoint key's name: `key_name`, or the origin.
    pub fn key_name(&self) -> &str {
        self.key_name.as_deref().unwrap_or(&self.origin)
    }

    /// Where the last signed checkpoint is kept outside the database.
    pub fn checkpoint_state(&self) -> PathBuf {
        self.checkpoint_state.clone().unwrap_or_else(|| {
            let mut name = self
                .db
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_else(|| "archive".into());
            name.push(".checkpoint");
            self.db.with_file_name(name)
        })
    }
}

/// What signatures are judged against: read at start; the CRLs and OCSP responses again every
/// `server.client_crl_reload_secs`, all of it on SIGHUP (a file that fails then changes
/// nothing).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// Trust anchors for validation: PEM/DER files, or directories of `*.pem`, `*.crt`,
    /// `*.cer` and `*.der` files.
    #[serde(default)]
    pub anchors: Vec<PathBuf>,
    /// Intermediate certificates.
    #[serde(default)]
    pub certs: Vec<PathBuf>,
    /// CRLs.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// OCSP responses (DER), e.g. fetched by a cron job.
    #[serde(default)]
    pub ocsps: Vec<PathBuf>,
    /// Where the newest CRL of each CA and the OCSP responses in use are kept across
    /// restarts (a replayed older one put in a file before a restart is not taken); default:
    /// `<db>.trust` beside the archive's database directory.
    #[serde(default)]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// The name callers use (`"key": "…"` in a signing request).
    pub name: String,
    /// PKCS#11 URI of the key.
    pub uri: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsaKey {
    /// PKCS#11 URI of the TSA key (its certificate: one critical EKU, timeStamping).
    pub key: String,
    /// The TSA policy OID (default: the demo policy; set your agency's).
    pub policy: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// The user name this client acts as: the `user` of every archive event it causes. Several
    /// entries (certificates and tokens) may name one user; they must agree on roles and agency.
    pub name: String,
    /// The certificate's subject, RFC 4514 (`CN=…,O=…,C=VN`, `\XX` escapes allowed), with
    /// `issuer`: every certificate that CA issues with that subject (and that is not revoked).
    pub subject: Option<String>,
    /// The issuing CA's subject, RFC 4514; only with `subject`.
    pub issuer: Option<String>,
    /// Or the SHA-256 fingerprint of the certificate's DER, hex: that certificate only.
    pub sha256: Option<String>,
    pub roles: Vec<Role>,
    /// The agency this client acts for (its code): the records a clerk archives carry it, and
    /// status changes are limited to records of it. Required for clerks.
    pub agency: Option<String>,
    /// Certificates the official behind this client signs with remotely (its USB token's).
    #[serde(default)]
    pub signing_certs: Vec<CertId>,
    /// The service's keys (`[[keys]]` names) it may sign with through `/v1/sign` (`[]`:
    /// none, for an official who signs only remotely with a USB token): required for a signer
    /// when the service has several keys (one agency's official must not sign with another's
    /// key).
    pub keys: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    pub name: String,
    /// SHA-256 of the token, hex (`kyso serve new-token` prints both).
    pub sha256: String,
    pub roles: Vec<Role>,
    /// As for `[[clients]]`.
    pub agency: Option<String>,
    #[serde(default)]
    pub signing_certs: Vec<CertId>,
    /// As for `[[clients]]`.
    pub keys: Option<Vec<String>>,
}

/// A certificate named in the config: `{ sha256 = "…" }` or `{ subject = "…", issuer = "…" }`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct CertId {
    pub sha256: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
}

/// Sections `KYSO_<SECTION>_<KEY>` may override (arrays of tables are not overridable).
const SECTIONS: [&str; 8] = [
    "server", "limits", "token", "archive", "trust", "tsa", "web", "export",
];

/// Variables kyso reads that are not overrides, and those its tests, benchmarks and deploy
/// scripts set (not warned of: deploy/test exports several to every service it starts).
const NOT_OVERRIDES: [&str; 27] = [
    "KYSO_PIN",
    "KYSO_PKCS11_MODULE",
    "KYSO_CONFIG",
    "KYSO_LOG",
    "KYSO_MEASURE_RECORDS",
    "KYSO_BAGIT",
    "KYSO_BENCH_PERF",
    "KYSO_BENCH_PERF_DWARF",
    "KYSO_BROWSER_TOOLS",
    "KYSO_CHROMIUM",
    "KYSO_DEMO_DIR",
    "KYSO_DEMO_PORT",
    "KYSO_EARK_PYTHON",
    "KYSO_EARK_VENV",
    "KYSO_FUZZ_SEEDS",
    "KYSO_MUTANTS",
    "KYSO_MUTANTS_SEED",
    "KYSO_NODE_MODULES",
    "KYSO_OPENAPI_VALIDATOR",
    "KYSO_PYHANKO",
    "KYSO_ROCKSDB_DIR",
    "KYSO_SCREENSHOTS",
    "KYSO_TEST_BIN",
    "KYSO_TEST_LEGACY_CONFIG",
    "KYSO_TOOLS",
    "KYSO_URL",
    "KYSO_VENV",
];

/// A config error: which key, and what is wrong with it.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad(key: &str, what: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("config: {key}: {what}"))
}

/// An override read as a TOML value other than a string: the key (`section.key`) and the
/// text as given, taken as that text if the key wants one (`KYSO_SERVER_TLS_MIN=1.3`).
type Typed = (String, String);

/// Apply `KYSO_SECTION_KEY=value` overrides to the parsed file. A value is read as TOML when it
/// parses as one (numbers, booleans, arrays, quoted strings), else as a plain string; one read
/// as a number, boolean, date or array is listed in the second vector, to be taken as plain
/// text if its key wants text. Returns a warning for each `KYSO_` variable that overrides
/// nothing (a misspelt section, an array of tables), by name only: its value may be a secret.
fn apply_env(
    root: &mut toml::Table,
    env: impl Iterator<Item = (String, String)>,
) -> Result<(Vec<String>, Vec<Typed>), ConfigError> {
    let mut ignored = Vec::new();
    let mut typed = Vec::new();
    for (k, v) in env {
        if !k.starts_with("KYSO_") || NOT_OVERRIDES.contains(&k.as_str()) {
            continue;
        }
        let rest = k["KYSO_".len()..].to_ascii_lowercase();
        let section = rest.split_once('_').map(|(s, key)| (s.to_string(), key));
        let Some((section, key)) =
            section.filter(|(s, key)| SECTIONS.contains(&s.as_str()) && !key.is_empty())
        else {
            ignored.push(format!(
                "config: the environment variable {k} overrides nothing and is ignored: overrides are KYSO_<SECTION>_<KEY> for the sections {}",
                SECTIONS.join(", ")
            ));
            continue;
        };
        let section = section.as_str();
        let value = match toml::from_str::<toml::Table>(&format!("v = {v}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
        {
            Some(s @ toml::Value::String(_)) => s,
            Some(value) => {
                typed.push((format!("{section}.{key}"), v));
                value
            }
            None => toml::Value::String(v),
        };
        let table = root
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match table {
            toml::Value::Table(t) => {
                t.insert(key.to_string(), value);
            }
            _ => return Err(bad(section, format!("is not a table (override {k})"))),
        }
    }
    Ok((ignored, typed))
}

impl Config {
    /// Read `path`, apply the environment's overrides, parse and validate.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("config: cannot read {}: {e}", path.display())))?;
        let mut cfg = Config::from_text(&text, std::env::vars(), path.parent())?;
        cfg.source = Some(path.to_path_buf());
        Ok(cfg)
    }

    pub fn from_text(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
        base: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        Config::parse(text, env, base, true)
    }

    fn parse(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
        base: Option<&Path>,
        files: bool,
    ) -> Result<Config, ConfigError> {
        // Errors name the place, never the text there: a PIN typed into the config (on a
        // line that does not parse, or where a file name belongs) is not repeated to the log.
        let mut root: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            ConfigError(match line {
                Some(l) => format!("config: not valid TOML at line {l}: {}", e.message()),
                None => format!("config: not valid TOML: {}", e.message()),
            })
        })?;
        let (ignored, mut typed) = apply_env(&mut root, env)?;
        // An override read as a number (`KYSO_SERVER_TLS_MIN=1.3`, `KYSO_ARCHIVE_ORIGIN=123`)
        // where its key takes text is that text: each is tried as given once its key is
        // refused, so no more tries than overrides.
        // Refused as text too, a key is refused as it was given (`drain_secs = 1.5` is a
        // number of the wrong kind, not a string; a helper's reading, 2026-12-07).
        let mut as_given: std::collections::HashMap<String, String> = Default::default();
        let mut cfg: Config = loop {
            let e = match serde_path_to_error::deserialize(toml::Value::Table(root.clone())) {
                Ok(cfg) => break cfg,
                Err(e) => e,
            };
            let path = e.path().to_string();
            if let Some(i) = typed.iter().position(|(k, _)| *k == path) {
                let (key, text) = typed.swap_remove(i);
                as_given.insert(key.clone(), e.inner().to_string());
                let (section, key) = key.split_once('.').unwrap_or((&key, ""));
                if let Some(toml::Value::Table(t)) = root.get_mut(section) {
                    t.insert(key.to_string(), toml::Value::String(text));
                    continue;
                }
            }
            if let Some(first) = as_given.get(&path).filter(|_| !path.starts_with("token")) {
                return Err(bad(&path, first));
            }
            return Err({
                if path.starts_with("token") {
                    bad(
                        &path,
                        "not what this key takes (its value is not repeated: it may be a secret)",
                    )
                } else {
                    bad(&path, e.into_inner())
                }
            });
        };
        if let Some(base) = base.filter(|b| !b.as_os_str().is_empty()) {
            cfg.resolve_paths(base);
        }
        cfg.validate(files)?;
        cfg.warnings = ignored;
        cfg.warnings.extend(cfg.lint());
        Ok(cfg)
    }

    /// Relative paths in the file are relative to the file's directory.
    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        let s = &mut self.server;
        s.tls_cert.iter_mut().for_each(fix);
        s.tls_key.iter_mut().for_each(fix);
        s.client_ca.iter_mut().for_each(fix);
        s.client_crls.iter_mut().for_each(fix);
        self.token.pin_file.iter_mut().for_each(fix);
        fix(&mut self.archive.db);
        self.archive.checkpoint_state.iter_mut().for_each(fix);
        let t = &mut self.trust;
        t.anchors.iter_mut().for_each(fix);
        t.certs.iter_mut().for_each(fix);
        t.crls.iter_mut().for_each(fix);
        t.ocsps.iter_mut().for_each(fix);
        t.state.iter_mut().for_each(fix);
        if let Some(e) = &mut self.export {
            fix(&mut e.dir);
        }
    }

    /// Check every key; `files`: also that the files named can be read.
    fn validate(&self, files: bool) -> Result<(), ConfigError> {
        let readable = |k: &str, p: &Path| if files { readable(k, p) } else { Ok(()) };
        let exists = |k: &str, p: &Path| if files { exists(k, p) } else { Ok(()) };
        let secret = |k: &str, p: &Path| if files { secret(k, p) } else { Ok(()) };
        let trusted = |k: &str, p: &Path| if files { trusted(k, p) } else { Ok(()) };
        let s = &self.server;
        if s.plain_http {
            if !s.listen.ip().is_loopback() {
                return Err(bad(
                    "server.plain_http",
                    format!(
                        "plain HTTP is allowed only on a loopback address, and server.listen is {}",
                        s.listen
                    ),
                ));
            }
            if !s.client_ca.is_empty() {
                return Err(bad(
                    "server.client_ca",
                    "client certificates need TLS; remove server.plain_http",
                ));
            }
        } else {
            let cert = s.tls_cert.as_ref().ok_or_else(|| {
                bad(
                    "server.tls_cert",
                    "missing (or set server.plain_http = true on loopback)",
                )
            })?;
            let key = s
                .tls_key
                .as_ref()
                .ok_or_else(|| bad("server.tls_key", "missing"))?;
            readable("server.tls_cert", cert)?;
            secret("server.tls_key", key)?;
        }
        for (i, p) in s.client_ca.iter().enumerate() {
            trusted(&format!("server.client_ca[{i}]"), p)?;
        }
        if s.tls_min != "1.2" && s.tls_min != "1.3" {
            return Err(bad(
                "server.tls_min",
                format!("{:?}: give \"1.2\" or \"1.3\"", s.tls_min),
            ));
        }
        if !(1..=4096).contains(&s.verify_stack_mib) {
            return Err(bad("server.verify_stack_mib", "between 1 and 4096"));
        }
        let l = &self.limits;
        let most = crate::serve::api::sign::MAX_BATCH_DOCUMENTS;
        if l.batch_documents > most {
            return Err(bad("limits.batch_documents", format!("at most {most}")));
        }
        let positive = [
            ("limits.json_bytes", l.json_bytes as f64),
            ("limits.upload_bytes", l.upload_bytes as f64),
            ("limits.batch_bytes", l.batch_bytes as f64),
            ("limits.batch_documents", l.batch_documents as f64),
            ("limits.rate_per_second", l.rate_per_second),
            ("limits.burst", l.burst),
            (
                "limits.concurrent_per_client",
                l.concurrent_per_client as f64,
            ),
            ("limits.max_connections", l.max_connections as f64),
            (
                "limits.connections_per_address",
                l.connections_per_address as f64,
            ),
            ("limits.request_timeout_secs", l.request_timeout_secs as f64),
            ("limits.validation_secs", l.validation_secs() as f64),
            (
                "limits.validation_memory_mib",
                l.validation_memory_mib as f64,
            ),
            ("limits.header_timeout_secs", l.header_timeout_secs as f64),
            (
                "limits.handshake_timeout_secs",
                l.handshake_timeout_secs as f64,
            ),
            (
                "limits.remote_pending_per_user",
                l.remote_pending_per_user as f64,
            ),
            ("limits.remote_pending_secs", l.remote_pending_secs as f64),
            ("limits.verify_queue", l.verify_queue as f64),
            (
                "limits.verify_queue_per_client",
                l.verify_queue_per_client as f64,
            ),
            ("limits.remote_pending_bytes", l.remote_pending_bytes as f64),
            (
                "limits.remote_pending_bytes_per_user",
                l.remote_pending_bytes_per_user as f64,
            ),
            ("limits.inflight_bytes", l.inflight_bytes as f64),
            (
                "limits.inflight_bytes_per_client",
                l.inflight_bytes_per_client as f64,
            ),
            (
                "server.client_crl_reload_secs",
                s.client_crl_reload_secs as f64,
            ),
        ];
        for (k, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(k, "must be greater than 0"));
            }
        }
        // Bounds past which sums wrapped or a panic waited (helper 170): a body limit past
        // 2^62 overflowed the largest body's sum, a header timeout of i64::MAX seconds
        // panicked every connection, 2^61 permits per client every request.
        for (k, v) in [
            ("limits.json_bytes", l.json_bytes as u64),
            ("limits.upload_bytes", l.upload_bytes as u64),
            ("limits.batch_bytes", l.batch_bytes as u64),
        ] {
            if v > 1 << 42 {
                return Err(bad(k, "at most 4 TiB"));
            }
        }
        for (k, v) in [
            ("limits.request_timeout_secs", l.request_timeout_secs),
            ("limits.header_timeout_secs", l.header_timeout_secs),
            ("limits.handshake_timeout_secs", l.handshake_timeout_secs),
            // A helper's reading, 2026-12-07: the docs say a timeout past a day is refused,
            // and these three were taken (`drain_secs = i64::MAX` too).
            ("limits.remote_pending_secs", l.remote_pending_secs),
            ("server.drain_secs", s.drain_secs),
            ("server.client_crl_reload_secs", s.client_crl_reload_secs),
        ] {
            if v > 86_400 {
                return Err(bad(k, "at most 86400 s (a day)"));
            }
        }
        if l.validation_memory_mib > 1 << 22 {
            return Err(bad(
                "limits.validation_memory_mib",
                "at most 4194304 (4 TiB)",
            ));
        }
        if l.concurrent_per_client > 1 << 20 {
            return Err(bad("limits.concurrent_per_client", "at most 1048576"));
        }
        if s.verify_threads > 1024 {
            return Err(bad("server.verify_threads", "at most 1024"));
        }
        if l.validation_secs() > l.request_timeout_secs {
            return Err(bad(
                "limits.validation_secs",
                format!(
                    "{} s is longer than limits.request_timeout_secs ({} s): the request would time out first",
                    l.validation_secs(),
                    l.request_timeout_secs
                ),
            ));
        }
        if l.burst < 1.0 {
            return Err(bad("limits.burst", "must be at least 1"));
        }
        if l.inflight_bytes_per_client < l.largest_body() {
            return Err(bad(
                "limits.inflight_bytes_per_client",
                format!(
                    "{} is less than the largest body a route takes ({} bytes: limits.batch_bytes, or limits.upload_bytes as base64 in JSON); such a request could never be received",
                    l.inflight_bytes_per_client,
                    l.largest_body()
                ),
            ));
        }
        if !(1..=100).contains(&l.public_share) {
            return Err(bad("limits.public_share", "a percent, from 1 to 100"));
        }
        // The public's routes take a document (raw, or base64 in JSON), never a signing batch.
        if self.web.public_verification && l.public_part(l.inflight_bytes) < l.upload_json_bytes() {
            return Err(bad(
                "limits.public_share",
                format!(
                    "{} % of limits.inflight_bytes is less than the largest document the public may send ({} bytes: limits.upload_bytes as base64 in JSON); such a request could never be received",
                    l.public_share,
                    l.upload_json_bytes()
                ),
            ));
        }
        if self.web.public_verification && l.public_share < 100 && l.verify_queue < 2 {
            return Err(bad(
                "limits.verify_queue",
                "at least 2 with public verification on: one place is kept for agencies (or set limits.public_share = 100)",
            ));
        }
        if l.inflight_bytes < l.inflight_bytes_per_client {
            return Err(bad(
                "limits.inflight_bytes",
                "less than limits.inflight_bytes_per_client",
            ));
        }
        if l.remote_pending_bytes < l.remote_pending_bytes_per_user {
            return Err(bad(
                "limits.remote_pending_bytes",
                "less than limits.remote_pending_bytes_per_user",
            ));
        }
        if l.inflight_bytes > (u32::MAX as usize) << 10 {
            return Err(bad("limits.inflight_bytes", "at most 4 TiB"));
        }
        for (i, p) in s.client_crls.iter().enumerate() {
            exists(&format!("server.client_crls[{i}]"), p)?;
        }
        if s.checks_client_revocation() && (s.client_ca.is_empty() || s.plain_http) {
            return Err(bad(
                "server.client_crls",
                "client certificate revocation is configured but no client CA is",
            ));
        }
        if let Some(p) = &self.token.pin_file {
            secret("token.pin_file", p)?;
        }
        if !(1..=64).contains(&self.token.sessions) {
            return Err(bad("token.sessions", "between 1 and 64"));
        }
        kyso_hsm::Pkcs11Uri::parse(&self.archive.log_key).map_err(|e| bad("archive.log_key", e))?;
        if self.archive.origin.trim().is_empty() || self.archive.origin.contains('\n') {
            return Err(bad("archive.origin", "one non-empty line"));
        }
        // A checkpoint note is at most 16 KiB: an origin of 16,400 bytes started a service
        // that never signed one (helper 170).
        if self.archive.origin.len() > kyso_archive::checkpoint::MAX_NAME {
            return Err(bad(
                "archive.origin",
                format!("at most {} bytes", kyso_archive::checkpoint::MAX_NAME),
            ));
        }
        if self.archive.key_name().len() > kyso_archive::checkpoint::MAX_NAME {
            return Err(bad(
                "archive.key_name",
                format!("at most {} bytes", kyso_archive::checkpoint::MAX_NAME),
            ));
        }
        let key_name = self.archive.key_name();
        if key_name.trim().is_empty()
            || key_name.contains(char::is_whitespace)
            || key_name.contains('+')
        {
            return Err(bad(
                "archive.key_name",
                match self.archive.key_name {
                    Some(_) => "a non-empty name without spaces or '+' (C2SP signed note)",
                    None => "a non-empty name without spaces or '+' (C2SP signed note); it defaults to archive.origin, which is not one: give archive.key_name",
                },
            ));
        }
        for (i, p) in self.trust.anchors.iter().enumerate() {
            exists(&format!("trust.anchors[{i}]"), p)?;
        }
        for (i, p) in self.trust.certs.iter().enumerate() {
            readable(&format!("trust.certs[{i}]"), p)?;
        }
        for (i, p) in self.trust.crls.iter().enumerate() {
            readable(&format!("trust.crls[{i}]"), p)?;
        }
        for (i, p) in self.trust.ocsps.iter().enumerate() {
            readable(&format!("trust.ocsps[{i}]"), p)?;
        }
        if let Some(t) = &self.tsa {
            kyso_hsm::Pkcs11Uri::parse(&t.key).map_err(|e| bad("tsa.key", e))?;
        }
        if let Some(e) = &self.export {
            if !(1..=16).contains(&e.concurrent) {
                return Err(bad("export.concurrent", "between 1 and 16"));
            }
            if !(1..=16).contains(&e.workers) {
                return Err(bad("export.workers", "between 1 and 16"));
            }
            if !(1..=1000).contains(&e.jobs_per_user) {
                return Err(bad("export.jobs_per_user", "between 1 and 1000"));
            }
            let o = &e.organization;
            if o.trim().is_empty() || o.len() > 200 || o.chars().any(char::is_control) {
                return Err(bad(
                    "export.organization",
                    "1–200 bytes, no control characters",
                ));
            }
            if files {
                export_dir(&e.dir, &self.archive.db)?;
            }
        }
        if files {
            self.one_file_one_purpose()?;
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, k) in self.keys.iter().enumerate() {
            let at = format!("keys[{i}]");
            if !names.insert(k.name.as_str()) || k.name.trim().is_empty() {
                return Err(bad(
                    &format!("{at}.name"),
                    format!("{:?} is empty or used twice", k.name),
                ));
            }
            kyso_hsm::Pkcs11Uri::parse(&k.uri).map_err(|e| bad(&format!("{at}.uri"), e))?;
        }
        let mut users = std::collections::BTreeMap::new();
        for (i, c) in self.clients.iter().enumerate() {
            let at = format!("clients[{i}]");
            match (&c.sha256, &c.subject, &c.issuer) {
                (Some(_), None, None) | (None, Some(_), Some(_)) => {}
                (None, Some(_), None) => {
                    return Err(bad(
                        &format!("{at}.issuer"),
                        "a subject needs its issuer (the CA's subject): a subject alone would match a certificate another client CA issued with it (`kyso serve client-id CERT` prints both)",
                    ))
                }
                _ => {
                    return Err(bad(
                        &at,
                        "give either sha256, or subject and issuer (`kyso serve client-id CERT` prints them)",
                    ))
                }
            }
            cert_id(
                &at,
                c.sha256.as_deref(),
                c.subject.as_deref(),
                c.issuer.as_deref(),
            )?;
            user(&at, &c.name, &c.roles, c.agency.as_deref(), &mut users)?;
            for (j, s) in c.signing_certs.iter().enumerate() {
                signing_cert(&format!("{at}.signing_certs[{j}]"), s)?;
            }
        }
        if !self.clients.is_empty() && (s.client_ca.is_empty() || s.plain_http) {
            return Err(bad(
                "server.client_ca",
                "clients are configured but no client CA is (their certificates cannot be checked)",
            ));
        }
        // One hash, one entry: with two, the last token entry (the first client entry)
        // answered for both, an auditor's token acting as the admin (helper 170).
        // (Entries of one user may repeat theirs: user() holds their roles and agency equal.)
        let another_users =
            |kind: &str, hashes: &[(usize, &str, &str)]| -> Result<(), ConfigError> {
                let mut seen = std::collections::BTreeMap::new();
                for (i, hash, name) in hashes {
                    if seen
                        .insert(hash.trim().to_ascii_lowercase(), name)
                        .is_some_and(|n| n != name)
                    {
                        return Err(bad(
                            &format!("{kind}[{i}].sha256"),
                            format!("the same as a {kind} entry of another user's"),
                        ));
                    }
                }
                Ok(())
            };
        let hashes: Vec<_> = self
            .clients
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.sha256.as_deref().map(|h| (i, h, c.name.as_str())))
            .collect();
        another_users("clients", &hashes)?;
        let hashes: Vec<_> = self
            .api_tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (i, t.sha256.as_str(), t.name.as_str()))
            .collect();
        another_users("api_tokens", &hashes)?;
        for (i, t) in self.api_tokens.iter().enumerate() {
            let at = format!("api_tokens[{i}]");
            sha256_hex(&format!("{at}.sha256"), &t.sha256)?;
            user(&at, &t.name, &t.roles, t.agency.as_deref(), &mut users)?;
            for (j, s) in t.signing_certs.iter().enumerate() {
                signing_cert(&format!("{at}.signing_certs[{j}]"), s)?;
            }
        }
        // Which server keys each signer may use: named keys only, and with several keys,
        // every signer names its own.
        let entries = self
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("clients[{i}]"), &c.name, &c.roles, &c.keys))
            .chain(
                self.api_tokens
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (format!("api_tokens[{i}]"), &t.name, &t.roles, &t.keys)),
            );
        let mut named: std::collections::BTreeSet<&str> = Default::default();
        let mut signers: Vec<(String, &str)> = Vec::new();
        for (at, name, roles, keys) in entries {
            if keys.is_some() {
                named.insert(name.as_str());
            }
            for (j, k) in keys.iter().flatten().enumerate() {
                if !self.keys.iter().any(|x| &x.name == k) {
                    return Err(bad(
                        &format!("{at}.keys[{j}]"),
                        format!("no [[keys]] entry is named {k:?}"),
                    ));
                }
            }
            if roles.contains(&Role::Signer) {
                signers.push((at, name.as_str()));
            }
        }
        if self.keys.len() > 1 {
            if let Some((at, name)) = signers.iter().find(|(_, n)| !named.contains(n)) {
                return Err(bad(
                    &format!("{at}.keys"),
                    format!("the service has {} keys: name the ones {name} may sign with (keys = [\"…\"], or [] for none); none is given to every signer", self.keys.len()),
                ));
            }
        }
        Ok(())
    }
}

impl Config {
    /// No file named for two purposes, and the trust state outside the database: the
    /// checkpoint state and trust.state given one path both worked at first, then every
    /// start refused the file as "not a trust state file … move it away", which removed the
    /// checkpoint state (helper 170).
    fn one_file_one_purpose(&self) -> Result<(), ConfigError> {
        // Resolved through the parent (a state file may not exist yet).
        let resolved = |p: &Path| {
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::canonicalize(parent)
                .map(|d| d.join(p.file_name().unwrap_or_default()))
                .unwrap_or_else(|_| p.to_path_buf())
        };
        let mut named: Vec<(&str, PathBuf)> = vec![
            (
                "archive.checkpoint_state",
                resolved(&self.archive.checkpoint_state()),
            ),
            ("trust.state", resolved(&self.trust_state())),
        ];
        if let Some(p) = &self.token.pin_file {
            named.push(("token.pin_file", resolved(p)));
        }
        if let Some(p) = &self.server.tls_cert {
            named.push(("server.tls_cert", resolved(p)));
        }
        if let Some(p) = &self.server.tls_key {
            named.push(("server.tls_key", resolved(p)));
        }
        for (i, (k, p)) in named.iter().enumerate() {
            if let Some((other, _)) = named[..i].iter().find(|(_, q)| q == p) {
                return Err(bad(
                    k,
                    format!("{} is also {other}: give each its own file", p.display()),
                ));
            }
        }
        let db =
            std::fs::canonicalize(&self.archive.db).unwrap_or_else(|_| self.archive.db.clone());
        if named[1].1.starts_with(&db) {
            return Err(bad(
                "trust.state",
                format!(
                    "{} is inside the database directory; keep it outside, where a restore does not reach",
                    named[1].1.display()
                ),
            ));
        }
        Ok(())
    }
}

/// The export directory: an existing, writable directory outside the database directory.
fn export_dir(dir: &Path, db: &Path) -> Result<(), ConfigError> {
    let k = "export.dir";
    let meta = std::fs::metadata(dir).map_err(|e| bad(k, format!("{}: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(bad(k, format!("{} is not a directory", dir.display())));
    }
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (d, db) = (canon(dir), canon(db));
    if d.starts_with(&db) || db.starts_with(&d) {
        return Err(bad(
            k,
            format!(
                "{} and the archive's database directory {} must not contain one another",
                d.display(),
                db.display()
            ),
        ));
    }
    let probe = dir.join(".kyso-write-probe");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| bad(k, format!("{} is not writable: {e}", dir.display())))
}

/// One user's roles and agency, as its first entry gave them.
type Users<'a> = std::collections::BTreeMap<&'a str, (String, &'a [Role], Option<&'a str>)>;

/// Check what `kyso serve new-token` is asked to print an entry for, as the config's check
/// will: so that the entry passes `serve --check` as it is pasted.
pub(crate) fn check_new_user(
    name: &str,
    roles: &[Role],
    agency: Option<&str>,
) -> Result<(), ConfigError> {
    user("api_tokens[new]", name, roles, agency, &mut Users::new())
}

/// Check an entry's user: a valid name, roles, an agency where the roles need one, and the same
/// roles and agency as every other entry (certificate or token) of that user.
fn user<'a>(
    at: &str,
    name: &'a str,
    roles: &'a [Role],
    agency: Option<&'a str>,
    seen: &mut Users<'a>,
) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if !ok {
        return Err(bad(
            &format!("{at}.name"),
            format!("{name:?}: 1–128 letters, digits, '.', '-', '_' or '@'"),
        ));
    }
    if roles.is_empty() {
        return Err(bad(&format!("{at}.roles"), "give at least one role"));
    }
    if let Some(a) = agency {
        if a.trim().is_empty() || a.len() > 128 || a.chars().any(char::is_control) {
            return Err(bad(
                &format!("{at}.agency"),
                "1–128 characters, no control characters",
            ));
        }
    } else if roles.contains(&Role::Clerk) {
        return Err(bad(
            &format!("{at}.agency"),
            "a clerk archives records for an agency: give its code (the records it archives carry it, and it may change the status of that agency's records only)",
        ));
    }
    let mut sorted = roles.to_vec();
    sorted.sort();
    sorted.dedup();
    match seen.get(name) {
        None => {
            seen.insert(name, (at.to_string(), roles, agency));
        }
        Some((first, r, a)) => {
            let mut r = r.to_vec();
            r.sort();
            r.dedup();
            if r != sorted || *a != agency {
                return Err(bad(
                    &format!("{at}.name"),
                    format!("{name:?} is also {first}'s name, with other roles or another agency: the entries of one user must agree"),
                ));
            }
        }
    }
    Ok(())
}

fn cert_id(
    at: &str,
    sha256: Option<&str>,
    subject: Option<&str>,
    issuer: Option<&str>,
) -> Result<(), ConfigError> {
    super::auth::CertMatch::parse(sha256, subject, issuer)
        .map(drop)
        .map_err(|(field, why)| bad(&format!("{at}.{field}"), why))
}

fn signing_cert(at: &str, c: &CertId) -> Result<(), ConfigError> {
    match (&c.sha256, &c.subject, &c.issuer) {
        (Some(_), None, None) | (None, Some(_), Some(_)) => {}
        _ => return Err(bad(at, "give either sha256, or subject and issuer")),
    }
    cert_id(
        at,
        c.sha256.as_deref(),
        c.subject.as_deref(),
        c.issuer.as_deref(),
    )
}

impl Config {
    /// What is allowed but most likely a mistake.
    fn lint(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.clients.is_empty() && self.api_tokens.is_empty() && !self.web.public_verification {
            out.push(
                "config: no [[clients]], no [[api_tokens]] and web.public_verification off: no one can be given a role, and every request that needs one will be refused (401)"
                    .to_string(),
            );
        }
        let mut names = Vec::new();
        for (i, c) in self.clients.iter().enumerate() {
            names.push((format!("clients[{i}].subject"), c.subject.as_deref()));
            names.push((format!("clients[{i}].issuer"), c.issuer.as_deref()));
        }
        for (k, v) in names {
            let Some(v) = v else { continue };
            if super::auth::parse_dn(v).is_ok_and(|n| looks_reversed(&n)) {
                out.push(format!(
                    "config: {k}: {v:?} starts with the country and ends with the common name; RFC 4514 writes the most specific part first (CN=…,…,C=VN), as `kyso serve client-id CERT` prints it — as written it matches no certificate that lists C first"
                ));
            }
        }
        out
    }
}

/// A name whose RFC 4514 text starts with C= and ends with CN= (written in the wrong order).
fn looks_reversed(n: &x509_cert::name::Name) -> bool {
    let oid = |r: Option<&x509_cert::name::RelativeDistinguishedName>| {
        r.and_then(|r| r.0.iter().next()).map(|a| a.oid)
    };
    n.0.len() >= 2
        && oid(n.0.first()) == Some(const_oid::db::rfc4519::CN)
        && oid(n.0.last()) == Some(const_oid::db::rfc4519::C)
}

fn sha256_hex(key: &str, h: &str) -> Result<(), ConfigError> {
    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(key, "64 hex digits (a SHA-256)"));
    }
    Ok(())
}

fn readable(key: &str, p: &Path) -> Result<(), ConfigError> {
    opened(p)
        .map(drop)
        .map_err(|e| bad(key, format!("cannot read {}: {e}", p.display())))
}

/// `p` opened to read without waiting on it, if it is a file or a directory: a FIFO named for
/// the PIN file, a TLS certificate or a trust file held `--check` and the start forever, with
/// no word (helper 170).
fn opened(p: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(p)?;
    let t = f.metadata()?.file_type();
    if t.is_file() || t.is_dir() {
        Ok(f)
    } else {
        Err(std::io::Error::other(
            "not a regular file or directory (a FIFO, a device or a socket)",
        ))
    }
}

/// A file that says whom the service trusts (a client CA): readable, and no other user's to
/// change: whoever may add a client CA may issue themselves any agency's certificate.
fn trusted(key: &str, p: &Path) -> Result<(), ConfigError> {
    let m = opened(p)
        .and_then(|f| f.metadata())
        .map_err(|e| bad(key, format!("cannot read {}: {e}", p.display())))?;
    match super::server::trusted_file_loose(p, &m) {
        Some(why) => Err(bad(key, why)),
        None => Ok(()),
    }
}

/// A secret's file (the PIN, the TLS key): readable, and by its owner alone. A PIN file any
/// local user can read is a PIN every local user has.
fn secret(key: &str, p: &Path) -> Result<(), ConfigError> {
    // The PIN file's name is not repeated: a PIN typed where its file name belongs would be
    // (`pin_file = "Secr3tPIN"`); the TLS key's path is no secret.
    let name = if key.starts_with("token.") {
        "the file it names".to_string()
    } else {
        p.display().to_string()
    };
    let m = opened(p)
        .and_then(|f| f.metadata())
        .map_err(|e| bad(key, format!("cannot read {name}: {e}")))?;
    match kyso_hsm::pin::others_may_read(&m) {
        Some(why) => Err(bad(key, format!("{name} {why}"))),
        None => Ok(()),
    }
}

fn exists(key: &str, p: &Path) -> Result<(), ConfigError> {
    if p.exists() {
        Ok(())
    } else {
        Err(bad(key, format!("{} does not exist", p.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
[server]
listen = "127.0.0.1:0"
plain_http = true
[token]
[archive]
db = "/tmp/x"
log_key = "pkcs11:token=kyso-dev;object=log"
origin = "kyso.test/archive"
key_name = "kyso.test"
"#;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_text(
            text,
            env.iter().map(|(a, b)| (a.to_string(), b.to_string())),
            None,
        )
    }

    #[test]
    fn errors_name_the_bad_key() {
        let e = load(&MIN.replace("[token]", "[token]\nsessions = \"four\""), &[]).unwrap_err();
        assert!(e.0.contains("token.sessions"), "{e}");
        let e = load(&MIN.replace("[token]", "[token]\npin = \"1234\""), &[]).unwrap_err();
        assert!(e.0.contains("pin"), "{e}");
        let e = load(MIN, &[("KYSO_LIMITS_RATE_PER_SECOND", "0")]).unwrap_err();
        assert!(e.0.contains("limits.rate_per_second"), "{e}");
        let e = load(MIN, &[("KYSO_SERVER_LISTEN", "0.0.0.0:8080")]).unwrap_err();
        assert!(e.0.contains("server.plain_http"), "{e}");
        let bad_role = format!(
            "{MIN}\n[[api_tokens]]\nname = \"x\"\nsha256 = \"{}\"\nroles = [\"signr\"]\n",
            "0".repeat(64)
        );
        let e = load(&bad_role, &[]).unwrap_err();
        assert!(e.0.contains("api_tokens[0].roles"), "{e}");
    }

    #[test]
    fn the_key_name_defaults_to_the_origin_as_on_the_command_line() {
        assert_eq!(load(MIN, &[]).unwrap().archive.key_name(), "kyso.test");
        let bare = MIN.replace("key_name = \"kyso.test\"\n", "");
        assert_eq!(
            load(&bare, &[]).unwrap().archive.key_name(),
            "kyso.test/archive"
        );
        // An origin that cannot name a key says which key to give.
        let e = load(&bare.replace("kyso.test/archive", "kyso test"), &[]).unwrap_err();
        assert!(e.0.contains("give archive.key_name"), "{e}");
    }

    #[test]
    fn public_verification_is_off_unless_the_file_or_the_environment_turns_it_on() {
        assert!(!load(MIN, &[]).unwrap().web.public_verification);
        let on = format!("{MIN}\n[web]\npublic_verification = true\n");
        assert!(load(&on, &[]).unwrap().web.public_verification);
        let c = load(MIN, &[("KYSO_WEB_PUBLIC_VERIFICATION", "true")]).unwrap();
        assert!(c.web.public_verification);
        let e = load(&format!("{MIN}\n[web]\npublic = true\n"), &[]).unwrap_err();
        assert!(e.0.contains("web.public"), "{e}");
    }

    #[test]
    fn the_example_province_config_is_valid() {
        let text = include_str!("../../deploy/kyso.example.toml");
        let c = Config::parse(text, std::iter::empty(), None, false).unwrap();
        assert_eq!(c.warnings, Vec::<String>::new());
        assert!(c.clients.len() >= 8 && c.api_tokens.len() >= 3);
        let mut roles: Vec<Role> = c
            .clients
            .iter()
            .flat_map(|x| x.roles.clone())
            .chain(c.api_tokens.iter().flat_map(|x| x.roles.clone()))
            .collect();
        roles.sort();
        roles.dedup();
        assert_eq!(roles, Role::ALL.to_vec(), "every role appears");
        assert!(c.web.public_verification);
        assert_eq!(c.export.map(|e| e.concurrent), Some(1));
    }

    #[test]
    fn the_export_directory_must_exist_be_writable_and_stay_out_of_the_database() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("db")).unwrap();
        std::fs::create_dir(d.path().join("exports")).unwrap();
        let with = |dir: &str, more: &str| {
            format!("{MIN}\n[export]\ndir = {dir:?}\n{more}\n")
                .replace("db = \"/tmp/x\"", "db = \"db\"")
        };
        let load = |t: String| Config::parse(&t, std::iter::empty(), Some(d.path()), true);
        let c = load(with("exports", "")).unwrap();
        assert_eq!(c.export.unwrap().dir, d.path().join("exports"));
        for (dir, more, key) in [
            ("missing", "", "export.dir"),
            ("db/exports", "", "export.dir"),
            (".", "", "export.dir"),
            ("exports", "concurrent = 0", "export.concurrent"),
            ("exports", "workers = 0", "export.workers"),
            ("exports", "workers = 17", "export.workers"),
            ("exports", "jobs_per_user = 0", "export.jobs_per_user"),
            ("exports", "organization = \"\"", "export.organization"),
            ("exports", "size = 1", "export"),
        ] {
            let e = load(with(dir, more))
                .err()
                .unwrap_or_else(|| panic!("{dir} {more}"));
            assert!(e.0.contains(key), "{dir} {more}: {e}");
        }
    }

    fn with_client(entry: &str) -> String {
        format!(
            "{}\n[[clients]]\nname = \"a\"\nroles = [\"verifier\"]\n{entry}\n",
            MIN.replace(
                "plain_http = true",
                "tls_cert = \"c\"\ntls_key = \"k\"\nclient_ca = [\"ca\"]"
            )
        )
    }

    fn parse_only(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, std::iter::empty(), None, false)
    }

    #[test]
    fn a_client_named_by_subject_needs_its_issuer_and_names_parse_as_rfc_4514() {
        let e = parse_only(&with_client("subject = \"CN=a,O=b\"")).unwrap_err();
        assert!(e.0.contains("clients[0].issuer"), "{e}");
        let e = parse_only(&with_client(
            "subject = \"CN=a,O=b\"\nissuer = \"no equals sign\"",
        ))
        .unwrap_err();
        assert!(e.0.contains("clients[0].issuer"), "{e}");
        let e = parse_only(&with_client(&format!(
            "sha256 = \"{}\"\nissuer = \"CN=x\"",
            "0".repeat(64)
        )))
        .unwrap_err();
        assert!(e.0.contains("clients[0]"), "{e}");
        // As `openssl x509 -subject -nameopt RFC2253` prints a Vietnamese name: \XX escapes of
        // UTF-8 bytes. The same name as the UTF-8 text.
        let c = parse_only(&with_client(
            "subject = \"CN=Nguy\\\\E1\\\\BB\\\\85n V\\\\C4\\\\83n A,O=S\\\\E1\\\\BB\\\\9F T\\\\C6\\\\B0 ph\\\\C3\\\\A1p,C=VN\"\nissuer = \"CN=CA\"",
        ))
        .unwrap();
        let a = crate::serve::auth::parse_dn(c.clients[0].subject.as_deref().unwrap()).unwrap();
        let b = crate::serve::auth::parse_dn("CN=Nguyễn Văn A,O=Sở Tư pháp,C=VN").unwrap();
        assert!(kyso_verify::x509::same_name(&a, &b));
        // Written most significant first: allowed (it is a name), but warned about.
        let c = parse_only(&with_client(
            "subject = \"C=VN,O=Sở Tư pháp,CN=Nguyễn Văn A\"\nissuer = \"CN=CA\"",
        ))
        .unwrap();
        assert!(
            c.warnings.iter().any(|w| w.contains("clients[0].subject")),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn clerks_need_an_agency_and_one_user_may_have_several_credentials_that_agree() {
        let token = |name: &str, roles: &str, agency: &str| {
            format!(
                "\n[[api_tokens]]\nname = \"{name}\"\nsha256 = \"{}\"\nroles = [{roles}]\n{agency}",
                "1".repeat(64)
            )
        };
        let e = load(&(MIN.to_string() + &token("c", "\"clerk\"", "")), &[]).unwrap_err();
        assert!(e.0.contains("api_tokens[0].agency"), "{e}");
        let two = MIN.to_string()
            + &token("c", "\"clerk\"", "agency = \"X\"")
            + &token("c", "\"clerk\"", "agency = \"X\"");
        assert!(load(&two, &[]).is_ok());
        let other_agency = MIN.to_string()
            + &token("c", "\"clerk\"", "agency = \"X\"")
            + &token("c", "\"clerk\"", "agency = \"Y\"");
        let e = load(&other_agency, &[]).unwrap_err();
        assert!(e.0.contains("api_tokens[1].name"), "{e}");
        let other_roles = MIN.to_string()
            + &token("c", "\"clerk\"", "agency = \"X\"")
            + &token("c", "\"clerk\", \"admin\"", "agency = \"X\"");
        assert!(load(&other_roles, &[]).is_err());
    }

    #[test]
    fn byte_budgets_must_fit_the_largest_body() {
        let e = load(MIN, &[("KYSO_LIMITS_INFLIGHT_BYTES_PER_CLIENT", "1000")]).unwrap_err();
        assert!(e.0.contains("limits.inflight_bytes_per_client"), "{e}");
        let e = load(MIN, &[("KYSO_LIMITS_REMOTE_PENDING_BYTES", "1000")]).unwrap_err();
        assert!(e.0.contains("limits.remote_pending_bytes"), "{e}");
        // The public's share: a percent, and large enough for the largest body (1 % of 1 GiB
        // is less than a 64 MiB signing batch).
        let public = [("KYSO_WEB_PUBLIC_VERIFICATION", "true")];
        for share in ["0", "101", "1"] {
            let e = load(MIN, &[public[0], ("KYSO_LIMITS_PUBLIC_SHARE", share)]).unwrap_err();
            assert!(e.0.contains("limits.public_share"), "{share}: {e}");
        }
        // Without public verification the public sends no body: 1 % is no error.
        assert!(load(MIN, &[("KYSO_LIMITS_PUBLIC_SHARE", "1")]).is_ok());
        // One place in the queue cannot be shared and kept for agencies at once.
        let e = load(MIN, &[public[0], ("KYSO_LIMITS_VERIFY_QUEUE", "1")]).unwrap_err();
        assert!(e.0.contains("limits.verify_queue"), "{e}");
        let mut l = Limits::default();
        for (whole, share, part) in [
            (1, 50, 1),
            (2, 50, 1),
            (3, 99, 2),
            (3, 100, 3),
            (256, 50, 128),
        ] {
            l.public_share = share;
            assert_eq!(l.public_part(whole), part, "{share} % of {whole}");
        }
        let c = load(MIN, &[("KYSO_LIMITS_PUBLIC_SHARE", "25")]).unwrap();
        assert_eq!(c.limits.public_part(c.limits.verify_queue), 64);
        assert_eq!(c.limits.public_part(c.limits.inflight_bytes), 256 << 20);
    }

    #[test]
    fn environment_overrides_the_file() {
        let c = load(
            &format!("{MIN}[web]\npublic_verification = true\n"),
            &[
                ("KYSO_LIMITS_BURST", "7"),
                ("KYSO_ARCHIVE_ORIGIN", "kyso.other/log"),
                ("KYSO_PIN", "not an override"),
            ],
        )
        .unwrap();
        assert_eq!(c.limits.burst, 7.0);
        assert_eq!(c.archive.origin, "kyso.other/log");
        assert_eq!(c.warnings, Vec::<String>::new());
        // Text that reads as a number, a boolean or a date where the key takes text is that
        // text (a helper's reading, 2026-12-07: `KYSO_SERVER_TLS_MIN=1.3`, as the docs write
        // it, was refused as a float); where the key takes a number it is still one, and a
        // number given where one is wanted but of the wrong kind is still refused by its key.
        let c = load(
            MIN,
            &[
                ("KYSO_SERVER_TLS_MIN", "1.3"),
                ("KYSO_ARCHIVE_ORIGIN", "2026"),
                ("KYSO_ARCHIVE_KEY_NAME", "true"),
                ("KYSO_LIMITS_BURST", "9"),
            ],
        )
        .unwrap();
        assert_eq!(c.server.tls_min, "1.3");
        assert_eq!(c.archive.origin, "2026");
        assert_eq!(c.archive.key_name.as_deref(), Some("true"));
        assert_eq!(c.limits.burst, 9.0);
        let e = load(MIN, &[("KYSO_LIMITS_BURST", "lots")]).unwrap_err();
        assert!(
            e.0.contains("limits.burst") && e.0.contains("expected f64"),
            "{e}"
        );
        let e = load(MIN, &[("KYSO_SERVER_VERIFY_THREADS", "1.5")]).unwrap_err();
        assert!(
            e.0.contains("server.verify_threads")
                && e.0.contains("floating point `1.5`, expected usize"),
            "{e}"
        );
        // The TSA's key, too; a misspelt section or an array of tables overrides nothing and
        // is named in a warning, without its value.
        let c = load(
            MIN,
            &[
                ("KYSO_TSA_KEY", "pkcs11:token=kyso-dev;object=tsa"),
                ("KYSO_SERVR_LISTEN", "0.0.0.0:1"),
                ("KYSO_CLIENTS_NAME", "secret-value"),
                ("KYSO_WEB_", "x"),
                ("KYSO_LOG", "debug"),
                ("KYSO_PYHANKO", "/opt/venv/bin/pyhanko"),
            ],
        )
        .unwrap();
        assert_eq!(c.tsa.unwrap().key, "pkcs11:token=kyso-dev;object=tsa");
        assert_eq!(c.server.listen.port(), 0);
        assert_eq!(c.warnings.len(), 4, "{:?}", c.warnings);
        // MIN has no clients, no tokens and no public page: no one can be let in.
        assert!(c.warnings[3].contains("no [[clients]]"), "{:?}", c.warnings);
        for (w, name) in
            c.warnings
                .iter()
                .zip(["KYSO_SERVR_LISTEN", "KYSO_CLIENTS_NAME", "KYSO_WEB_"])
        {
            assert!(w.contains(name) && w.contains("overrides nothing"), "{w}");
            assert!(!w.contains("secret-value") && !w.contains("0.0.0.0"), "{w}");
        }
    }
}
