//! The real `kyso serve` on loopback for the service's tests: a demo SoftHSM2 token, a RocksDB
//! archive, TLS with certificates the test makes (rcgen; no key is ever committed), and for
//! every role an agency client certificate and an API token.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
pub mod common;

use common::Demo;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;

pub const ROLES: [&str; 6] = [
    "signer",
    "clerk",
    "verifier",
    "archivist",
    "auditor",
    "admin",
];

/// How a test client presents itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// An API token of this role (user `<role>-script`).
    Token(&'static str),
    /// A client certificate of this role (user `<role>-agency`).
    Cert(&'static str),
    /// Nothing.
    Anonymous,
    /// A certificate from the agency CA whose validity ended in 2021.
    ExpiredCert,
    /// A certificate from a CA the appliance does not trust.
    UntrustedCert,
    /// A bearer token nobody configured.
    WrongToken,
}

struct Issued {
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

pub struct Pki {
    server_ca_der: Vec<u8>,
    clients: BTreeMap<String, Issued>,
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.distinguished_name
        .push(DnType::OrganizationName, "kyso test");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let k = KeyPair::generate().unwrap();
    (p.self_signed(&k).unwrap(), k)
}

fn client(cn: &str, issuer: &rcgen::Certificate, issuer_key: &KeyPair, expired: bool) -> Issued {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "Sở Tư pháp (test)");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let k = KeyPair::generate().unwrap();
    let c = p.signed_by(&k, issuer, issuer_key).unwrap();
    Issued {
        cert_der: c.der().to_vec(),
        key_der: k.serialize_pem().into_bytes(),
    }
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

impl Pki {
    /// Writes server.pem, server.key, agency-ca.pem into `dir`.
    fn new(dir: &Path) -> Pki {
        let (server_ca, server_ca_key) = ca("kyso test server CA");
        let mut p =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "kyso.test");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let sk = KeyPair::generate().unwrap();
        let server = p.signed_by(&sk, &server_ca, &server_ca_key).unwrap();
        std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
        std::fs::write(dir.join("server.key"), sk.serialize_pem()).unwrap();
        // The service refuses a key file others can read.
        std::fs::set_permissions(
            dir.join("server.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let (agency_ca, agency_key) = ca("Agency test CA");
        std::fs::write(dir.join("agency-ca.pem"), agency_ca.pem()).unwrap();
        let (rogue_ca, rogue_key) = ca("Agency test CA");
        let mut clients = BTreeMap::new();
        for r in ROLES {
            clients.insert(
                r.to_string(),
                client(&format!("{r} agency"), &agency_ca, &agency_key, false),
            );
        }
        clients.insert(
            "expired".into(),
            client("clerk agency", &agency_ca, &agency_key, true),
        );
        clients.insert(
            "untrusted".into(),
            client("clerk agency", &rogue_ca, &rogue_key, false),
        );
        Pki {
            server_ca_der: server_ca.der().to_vec(),
            clients,
        }
    }
}

/// The config without the keys the service before the second attacker review did not know
/// (`KYSO_TEST_LEGACY_CONFIG=1` with `KYSO_TEST_BIN` pointing at that build shows which tests
/// fail there for what they test, not for a key it refuses).
fn legacy_config(cfg: &str) -> String {
    const NEW: [&str; 12] = [
        "issuer",
        "agency",
        "signing_certs",
        "client_crls",
        "client_ocsp",
        "client_revocation",
        "client_crl_reload_secs",
        "verify_queue_per_client",
        "inflight_bytes",
        "inflight_bytes_per_client",
        "remote_pending_bytes",
        "remote_pending_bytes_per_user",
    ];
    cfg.lines()
        .filter(|l| {
            let key = l.split('=').next().unwrap_or("").trim();
            !NEW.contains(&key)
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

pub struct Appliance {
    pub demo: Demo,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub child: Option<Child>,
    pki: Pki,
    tokens: BTreeMap<String, String>,
    pub log: PathBuf,
    db: PathBuf,
}

/// Extra lines for the config's `[limits]`, `[server]` and `[web]` sections, more client CAs,
/// and TOML appended at the end (more `[[clients]]` and `[[api_tokens]]`).
#[derive(Default, Clone)]
pub struct Options {
    pub limits: Vec<String>,
    pub server: Vec<String>,
    pub web: Vec<String>,
    pub client_ca: Vec<String>,
    pub anchors: Vec<String>,
    /// More lines for `[trust]` (after `anchors`).
    pub trust: Vec<String>,
    pub extra: Vec<String>,
    /// Lines for `[export]` (after `dir = "exports"`).
    pub export: Vec<String>,
    /// The archive's database directory (default `db` in the appliance's folder).
    pub db: Option<PathBuf>,
}

/// The agency the test clerks and archivists act for.
pub const AGENCY: &str = "000.00.12.H42";

/// SHA-256 of the first certificate in a PEM file, hex.
pub fn pem_sha256(path: &Path) -> String {
    use rustls_pki_types::pem::PemObject;
    let c = rustls_pki_types::CertificateDer::from_pem_file(path).unwrap();
    sha256_hex(c.as_ref())
}

impl Appliance {
    pub fn start() -> Appliance {
        Appliance::start_with(Options::default())
    }

    pub fn start_with(opts: Options) -> Appliance {
        let demo = Demo::new();
        let dir = tempfile::tempdir().unwrap();
        let db = opts.db.clone().unwrap_or_else(|| dir.path().join("db"));
        let pki = Pki::new(dir.path());
        std::fs::create_dir(dir.path().join("exports")).unwrap();
        let mut tokens = BTreeMap::new();
        let mut cfg = format!(
            r#"[server]
listen = "127.0.0.1:0"
tls_cert = "server.pem"
tls_key = "server.key"
client_ca = ["agency-ca.pem"{more_ca}]
{drain}
{server}

[limits]
{limits}

[web]
{web}

[token]
pin_file = "{pin}"
sessions = 2

[archive]
db = "{db}"
log_key = "pkcs11:token=kyso-dev;object=log"
origin = "kyso.test/archive"
key_name = "kyso.test"
allow_unsigned_with_reason = true

[trust]
anchors = ["{ca}"{more_anchors}]
{trust}

[tsa]
key = "pkcs11:token=kyso-dev;object=tsa"

[[keys]]
name = "official-rsa"
uri = "pkcs11:token=kyso-dev;object=signer-rsa"

[export]
dir = "exports"
min_free_mib = 1
{export}
"#,
            export = opts.export.join("\n"),
            server = opts.server.join("\n"),
            drain = if opts.server.iter().any(|l| l.starts_with("drain_secs")) {
                ""
            } else {
                "drain_secs = 10"
            },
            limits = opts.limits.join("\n"),
            trust = opts.trust.join("\n"),
            web = opts.web.join("\n"),
            more_anchors = opts
                .anchors
                .iter()
                .map(|c| format!(", {c:?}"))
                .collect::<String>(),
            more_ca = opts
                .client_ca
                .iter()
                .map(|c| format!(", {c:?}"))
                .collect::<String>(),
            pin = demo.pin_file().display(),
            ca = demo.ca_pem().display(),
            db = db.display(),
        );
        // The official behind the signer credentials signs remotely with the demo token's EC
        // certificate (its "USB token").
        let signing = format!(
            "signing_certs = [{{ sha256 = \"{}\" }}]\nkeys = [\"official-rsa\"]\n",
            pem_sha256(&demo.path().join("signer-ec.pem"))
        );
        for (i, r) in ROLES.iter().enumerate() {
            let c = &pki.clients[*r];
            // Half the agencies are known by fingerprint, half by subject and issuer.
            let by = if i % 2 == 0 {
                format!("sha256 = \"{}\"", sha256_hex(&c.cert_der))
            } else {
                format!("subject = \"O=Sở Tư pháp (test),CN={r} agency\"\nissuer = \"O=kyso test,CN=Agency test CA\"")
            };
            let more = match *r {
                "clerk" | "archivist" => format!("agency = \"{AGENCY}\"\n"),
                "signer" => signing.clone(),
                _ => String::new(),
            };
            cfg +=
                &format!("\n[[clients]]\nname = \"{r}-agency\"\n{by}\nroles = [\"{r}\"]\n{more}");
            let token = format!(
                "kyso_test_{r}_{}",
                &sha256_hex(dir.path().to_str().unwrap().as_bytes())[..16]
            );
            cfg += &format!(
                "\n[[api_tokens]]\nname = \"{r}-script\"\nsha256 = \"{}\"\nroles = [\"{r}\"]\n{more}",
                sha256_hex(token.as_bytes())
            );
            tokens.insert(r.to_string(), token);
        }
        for e in &opts.extra {
            cfg += "\n";
            cfg += e;
            cfg += "\n";
        }
        if std::env::var_os("KYSO_TEST_LEGACY_CONFIG").is_some() {
            cfg = legacy_config(&cfg);
        }
        std::fs::write(dir.path().join("kyso.toml"), cfg).unwrap();
        let log = dir.path().join("serve.log");
        let mut a = Appliance {
            demo,
            dir,
            base: String::new(),
            child: None,
            pki,
            tokens,
            log,
            db,
        };
        a.launch();
        a
    }

    /// Start (or restart) the service on the same config, token and database.
    pub fn launch(&mut self) {
        self.launch_with(|_| {});
    }

    /// [`Appliance::launch`], calling `started` with the process id once it is running and
    /// before it says it listens.
    pub fn launch_with(&mut self, started: impl FnOnce(u32)) {
        let mut child = self
            .demo
            .cmd()
            .args(["serve", "--config"])
            .arg(self.dir.path().join("kyso.toml"))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&self.log).unwrap())
            .spawn()
            .unwrap();
        started(child.id());
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!(
                "kyso serve did not start: {line:?}\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        };
        self.base = url.to_string();
        // Keep draining stdout so the service never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        self.child = Some(child);
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn db(&self) -> PathBuf {
        self.db.clone()
    }

    pub fn token(&self, role: &str) -> &str {
        &self.tokens[role]
    }

    pub fn server_ca_der(&self) -> &[u8] {
        &self.pki.server_ca_der
    }

    /// The server CA as a PEM file (for curl, openssl and python clients).
    pub fn server_ca_pem(&self) -> PathBuf {
        let p = self.dir.path().join("server-ca.pem");
        if !p.exists() {
            use base64::Engine;
            let b = base64::engine::general_purpose::STANDARD.encode(&self.pki.server_ca_der);
            let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
            for line in b.as_bytes().chunks(64) {
                pem += std::str::from_utf8(line).unwrap();
                pem += "\n";
            }
            pem += "-----END CERTIFICATE-----\n";
            std::fs::write(&p, pem).unwrap();
        }
        p
    }

    /// The service's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The DER certificate and PKCS#8 PEM key a `Who` presents, if any.
    pub fn client_cert(&self, who: Who) -> Option<(Vec<u8>, Vec<u8>)> {
        let name = match who {
            Who::Cert(r) => r,
            Who::ExpiredCert => "expired",
            Who::UntrustedCert => "untrusted",
            _ => return None,
        };
        let c = &self.pki.clients[name];
        Some((c.cert_der.clone(), c.key_der.clone()))
    }

    pub fn agent(&self, who: Who) -> Client {
        let bearer = match who {
            Who::Token(r) => Some(self.tokens[r].clone()),
            Who::WrongToken => Some("kyso_not_a_configured_token".into()),
            _ => None,
        };
        self.agent_with(self.client_cert(who), bearer)
    }

    /// A client of `who` that gives up on an answer after `timeout` (a dropped connection).
    pub fn impatient_agent(&self, who: Who, timeout: Duration) -> Client {
        let mut c = self.agent(who);
        c.timeout = timeout;
        c
    }

    /// A client with this certificate (DER) and key (PEM), or this bearer token.
    pub fn agent_with(&self, cert: Option<(Vec<u8>, Vec<u8>)>, bearer: Option<String>) -> Client {
        use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
        let mut tls = TlsConfig::builder().root_certs(RootCerts::Specific(Arc::new(vec![
            Certificate::from_der(&self.pki.server_ca_der).to_owned(),
        ])));
        if let Some((cert, key)) = cert {
            tls = tls.client_cert(Some(ClientCert::new_with_certs(
                &[Certificate::from_der(&cert).to_owned()],
                PrivateKey::from_pem(&key).unwrap(),
            )));
        }
        let agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Client {
            agent,
            base: self.base.clone(),
            bearer,
            timeout: Duration::from_secs(60),
        }
    }

    /// SIGTERM, then wait for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        unsafe_kill(c.id(), 15);
        c.wait().unwrap()
    }

    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// The service's log once it holds `needle`, or after 5 s as it is then.
    pub fn service_log_with(&self, needle: &str) -> String {
        let t = std::time::Instant::now();
        loop {
            let log = self.service_log();
            if log.contains(needle) || t.elapsed() > Duration::from_secs(5) {
                return log;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn service_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `kill -SIG PID` through the kill(1) command (the tests carry no libc binding).
pub fn unsafe_kill(pid: u32, sig: i32) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

pub struct Client {
    pub agent: ureq::Agent,
    pub base: String,
    pub bearer: Option<String>,
    /// How long a POST, PUT or PATCH waits for its answer once sent.
    pub timeout: Duration,
}

/// A response, read whole.
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    fn finish(mut r: ureq::http::Response<ureq::Body>) -> Resp {
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Resp {
            status: r.status().as_u16(),
            content_type,
            headers,
            body: r
                .body_mut()
                .with_config()
                .limit(256 << 20)
                .read_to_vec()
                .unwrap(),
        }
    }

    pub fn try_get(&self, path: &str) -> Result<Resp, ureq::Error> {
        let mut rq = self.agent.get(format!("{}{path}", self.base));
        if let Some(b) = &self.bearer {
            rq = rq.header("Authorization", format!("Bearer {b}"));
        }
        rq.call().map(Client::finish)
    }

    /// GET with extra request headers (e.g. what a browser adds: `Sec-Fetch-Site`).
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut rq = self.agent.get(format!("{}{path}", self.base));
        if let Some(b) = &self.bearer {
            rq = rq.header("Authorization", format!("Bearer {b}"));
        }
        for (k, v) in headers {
            rq = rq.header(*k, *v);
        }
        rq.call()
            .map(Client::finish)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub fn get(&self, path: &str) -> Resp {
        self.try_get(path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// A HEAD request (no body comes back).
    pub fn head(&self, path: &str) -> Resp {
        let mut rq = self.agent.head(format!("{}{path}", self.base));
        if let Some(b) = &self.bearer {
            rq = rq.header("Authorization", format!("Bearer {b}"));
        }
        rq.call()
            .map(Client::finish)
            .unwrap_or_else(|e| panic!("HEAD {path}: {e}"))
    }

    pub fn send(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Resp {
        self.try_send(method, path, content_type, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Resp, ureq::Error> {
        let url = format!("{}{path}", self.base);
        if method == "DELETE" {
            let mut rq = self.agent.delete(&url);
            if let Some(b) = &self.bearer {
                rq = rq.header("Authorization", format!("Bearer {b}"));
            }
            return rq.call().map(Client::finish);
        }
        let mut rq = match method {
            "POST" => self.agent.post(&url),
            "PUT" => self.agent.put(&url),
            "PATCH" => self.agent.patch(&url),
            other => panic!("method {other}"),
        };
        rq = rq.header("Content-Type", content_type);
        if let Some(b) = &self.bearer {
            rq = rq.header("Authorization", format!("Bearer {b}"));
        }
        rq.config()
            .timeout_recv_response(Some(self.timeout))
            .build()
            .send(body)
            .map(Client::finish)
    }

    pub fn post_json(&self, path: &str, v: &serde_json::Value) -> Resp {
        self.send("POST", path, "application/json", v.to_string().as_bytes())
    }

    pub fn put_json(&self, path: &str, v: &serde_json::Value) -> Resp {
        self.send("PUT", path, "application/json", v.to_string().as_bytes())
    }
}

/// `kyso audit verify` of the stopped appliance's archive, with its log key: clean.
pub fn audit_clean(a: &Appliance) {
    let audit = a.demo.run(&[
        "audit",
        "verify",
        "--db",
        a.db().to_str().unwrap(),
        "--log-key",
        "pkcs11:token=kyso-dev;object=log",
    ]);
    assert_eq!(audit.code, 0, "{}{}", audit.stdout, audit.stderr);
}

/// `doc` archived by `c` under `code` (`POST /v1/records`): the 201's JSON.
pub fn archived(c: &Client, code: &str, doc: &[u8]) -> serde_json::Value {
    let r = c.post_json(
        "/v1/records",
        &serde_json::json!({"code": code, "content": b64(doc)}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

pub fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

// ---- RFC 9162 §2.1, written independently of kyso-archive, to check what the service proves ----

pub fn h(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    h(&[&[0], entry])
}

/// MTH over leaf hashes (RFC 9162 §2.1.1).
pub fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => h(&[]),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            h(&[&[1], &mth(&leaves[..k]), &mth(&leaves[k..])])
        }
    }
}

pub fn verify_inclusion(
    leaf: [u8; 32],
    index: u64,
    size: u64,
    proof: &[[u8; 32]],
    root: [u8; 32],
) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in proof {
        if s == 0 {
            return false;
        }
        if f % 2 == 1 || f == s {
            r = h(&[&[1], p, &r]);
            while f % 2 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = h(&[&[1], &r, p]);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == root
}

/// RFC 9162 §2.1.4.2.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[[u8; 32]],
    old_root: [u8; 32],
    new_root: [u8; 32],
) -> bool {
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 || old > new || proof.is_empty() {
        return false;
    }
    let mut path = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, old_root);
    }
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = h(&[&[1], c, &fr]);
            sr = h(&[&[1], c, &sr]);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = h(&[&[1], &sr, c]);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && fr == old_root && sr == new_root
}

pub fn unhex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// A checkpoint note checked with the log key alone (C2SP signed note, ECDSA P-256 type 0x02):
/// (origin, size, root).
pub fn verify_note(note: &str, spki_der: &[u8]) -> (String, u64, [u8; 32]) {
    let (text, sigline) = note.split_once("\n\n").expect("note has a signature line");
    let text = format!("{text}\n");
    let lines: Vec<&str> = text.lines().collect();
    let size: u64 = lines[1].parse().unwrap();
    let root: [u8; 32] = unb64(lines[2]).try_into().unwrap();
    let sig = unb64(sigline.trim().rsplit(' ').next().unwrap());
    assert_eq!(&sig[..4], &Sha256::digest(spki_der)[..4], "key id");
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der).unwrap();
    vk.verify(
        text.as_bytes(),
        &p256::ecdsa::DerSignature::try_from(&sig[4..]).unwrap(),
    )
    .expect("the checkpoint's signature verifies with the log key");
    (lines[0].to_string(), size, root)
}

/// Signed PDFs for the stories: the fixtures, signed with the demo token's RSA key by the CLI.
pub fn signed_fixture(a: &Appliance, fixture: &str) -> Vec<u8> {
    let out = a.dir.path().join(format!("{fixture}.signed-by-cli"));
    std::fs::create_dir_all(&out).unwrap();
    let src = out.join(fixture);
    std::fs::copy(common::fixture(fixture), &src).unwrap();
    let r = a.demo.run_pin(&[
        "sign",
        "--key",
        common::RSA_KEY,
        "--overwrite",
        src.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stem = fixture.trim_end_matches(".pdf");
    std::fs::read(out.join(format!("{stem}.signed.pdf"))).unwrap()
}

/// A metric's value from `/metrics` (the first sample whose line starts with `name`, labels
/// included in `name` when given), 0 when absent.
pub fn metric(a: &Appliance, name: &str) -> f64 {
    let m = a.agent(Who::Token("admin")).get("/metrics").text();
    m.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// A PDF that is slow to read (`objects` small objects in a classic xref table): a validation
/// that keeps a verification thread busy for a while, without any trick.
pub fn slow_pdf(objects: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    let body = |i: usize| -> Vec<u8> {
        match i {
            0 => b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            1 => b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
            _ => b"<< /A [1 2 3 (x)] /B /Name >>".to_vec(),
        }
    };
    for i in 0..objects + 2 {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(body(i));
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for o in offsets.iter() {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Run a python3 script (the standard library only: sockets and ssl, a client we did not
/// write) with arguments; its stdout.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Shell functions for a CA made with openssl (a CA we did not write): `mkca NAME SUBJECT`
/// makes NAME.pem, NAME.key and an `openssl ca` database; `issue CA NAME SUBJECT SECTION
/// [openssl ca options]` issues NAME.pem/NAME.key with the extensions of SECTION (`client`,
/// `client_ocsp` — naming an OCSP responder on 127.0.0.1:$OCSP_PORT —, `signing`,
/// `encipher`); `revoke CA NAME` revokes it; `crl CA OUT` writes CA's CRL.
pub const OPENSSL_CA: &str = r#"
set -e
mkca() {
  mkdir -p "$1.db/new"; : > "$1.db/index.txt"; echo 1000 > "$1.db/serial"; echo 01 > "$1.db/crlnumber"
  cat > "$1.cnf" <<CNF
[ca]
default_ca = d
[d]
dir = $1.db
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $1.pem
private_key = $1.key
default_md = sha256
default_crl_days = 7
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
[client]
extendedKeyUsage = clientAuth
keyUsage = critical,digitalSignature
[signing]
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
[encipher]
keyUsage = critical,keyEncipherment
[ocsp_signing]
extendedKeyUsage = OCSPSigning
keyUsage = critical,digitalSignature
[signing_cdp]
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
crlDistributionPoints = URI:http://127.0.0.1:9/user.crl
[crl_user]
issuingDistributionPoint = critical,@idp_user
[idp_user]
fullname = URI:http://127.0.0.1:9/user.crl
onlyuser = TRUE
[crl_ca]
issuingDistributionPoint = critical,@idp_ca
[idp_ca]
onlyCA = TRUE
[subca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[client_ocsp]
extendedKeyUsage = clientAuth
keyUsage = critical,digitalSignature
authorityInfoAccess = OCSP;URI:http://127.0.0.1:${OCSP_PORT:-9}/
[client_cdp]
extendedKeyUsage = clientAuth
keyUsage = critical,digitalSignature
crlDistributionPoints = URI:http://127.0.0.1:${CRL_PORT:-9}/ca.crl
[client_cdp_other]
extendedKeyUsage = clientAuth
keyUsage = critical,digitalSignature
crlDistributionPoints = URI:http://127.0.0.1:${CRL_PORT:-9}/other.crl
CNF
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -out "$1.pem" -days 30 -utf8 -subj "$2" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
issue() {
  ca=$1; name=$2; subj=$3; ext=$4; shift 4
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
    -out "$name.csr" -utf8 -subj "$subj" 2>/dev/null
  openssl ca -batch -config "$ca.cnf" -extensions "$ext" -preserveDN -utf8 -notext \
    -in "$name.csr" -out "$name.pem" "$@" 2>/dev/null
}
revoke() { openssl ca -config "$1.cnf" -revoke "$2.pem" -crl_reason keyCompromise 2>/dev/null; }
crl() { openssl ca -config "$1.cnf" -gencrl -out "$2" 2>/dev/null; }
"#;

/// A child process killed when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `openssl ocsp` on 127.0.0.1:`port` answering for the `ocspca` of [`openssl_ca`] in `dir`
/// (its index), signing with `signer` (`signer.pem`, `signer.key`), answers valid a day.
pub fn openssl_ocsp(dir: &Path, port: u16, signer: &str) -> KillOnDrop {
    KillOnDrop(
        std::process::Command::new("openssl")
            .args(["ocsp", "-index", "ocspca.db/index.txt", "-port"])
            .arg(port.to_string())
            .args(["-rsigner", &format!("{signer}.pem")])
            .args(["-rkey", &format!("{signer}.key")])
            .args(["-CA", "ocspca.pem", "-ndays", "1"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Run `OPENSSL_CA` and then `commands` with bash in `dir`.
pub fn openssl_ca(dir: &Path, commands: &str) {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("{OPENSSL_CA}\n{commands}"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `curl` over TLS to the appliance with a client certificate: (status, body).
pub fn curl_cert(a: &Appliance, cert: &Path, key: &Path, path: &str) -> (u16, String) {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(a.server_ca_pem())
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .args(["-w", "\n%{http_code}"])
        .arg(format!("{}{path}", a.base))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// The subject of a certificate as `openssl x509 -noout -subject -nameopt RFC2253` prints it.
pub fn openssl_subject(cert: &Path, which: &str) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", which, "-nameopt", "RFC2253", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    s.split_once('=').map(|x| x.1.to_string()).unwrap_or(s)
}

/// Every event of the log, parsed, read through the auditor's `/v1/log/entries`.
pub fn log_events(a: &Appliance) -> Vec<serde_json::Value> {
    let auditor = a.agent(Who::Token("auditor"));
    let cp = auditor.get("/v1/log/checkpoint");
    assert_eq!(cp.status, 200, "{}", cp.text());
    // Each read of the entries is itself logged after them: the events up to the size the
    // first read saw (that read's own event is the last).
    let first = auditor.get("/v1/log/entries?start=0&end=1");
    assert_eq!(first.status, 200, "{}", first.text());
    let size = first.json()["size"].as_u64().unwrap() + 1;
    let mut out = Vec::new();
    let mut start = 0;
    while start < size {
        let end = (start + 1000).min(size);
        let r = auditor.get(&format!("/v1/log/entries?start={start}&end={end}"));
        assert_eq!(r.status, 200, "{}", r.text());
        for e in r.json()["entries"].as_array().unwrap() {
            out.push(serde_json::from_str(e["event"].as_str().unwrap()).unwrap());
        }
        start = end;
    }
    out
}
