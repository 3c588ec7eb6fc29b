//! Who is calling, and may they: agencies' client certificates (mutual TLS, chain checked
//! against the configured CAs, revocation checked when configured, mapped to a user by SHA-256
//! fingerprint or by subject and issuer) and bearer
//! API tokens (kept as SHA-256, compared in constant time). The identity found here is the
//! `user` of every archive event a request causes; nothing a client sends can change it.

use super::config::Config;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The roles of DESIGN.md's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An approving official: signs with the service's keys or remotely with a USB token.
    Signer,
    /// A one-stop-shop clerk: archives signed results and finds earlier ones.
    Clerk,
    /// A relying agency: verifies documents and asks whether the archive holds them.
    Verifier,
    /// Exports and reads records for long-term preservation.
    Archivist,
    /// Checks that the archive's history has not been rewritten.
    Auditor,
    /// Operates the appliance (metrics, configuration).
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Signer,
        Role::Clerk,
        Role::Verifier,
        Role::Archivist,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Signer => "signer",
            Role::Clerk => "clerk",
            Role::Verifier => "verifier",
            Role::Archivist => "archivist",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The configured name: the `user` of archive events, and the key of every per-client
    /// limit (a certificate and a token configured under one name are one client).
    pub user: String,
    pub roles: Vec<Role>,
    /// How the caller proved it: `certificate` or `token`.
    pub method: &'static str,
    /// The agency it acts for (`agency` in the config): records a clerk archives carry it,
    /// and status changes are limited to records of it.
    pub agency: Option<String>,
    /// The certificates its official may sign with remotely.
    pub signing_certs: Arc<Vec<CertMatch>>,
    /// The service's keys it may sign with (`keys` in the config); `None`: any (its entries
    /// name none: the service has one key, or the caller no signer role).
    pub keys: Option<Arc<Vec<String>>>,
    /// For the public verifier (no credential): its address, the key of its share of the
    /// validation queue, so that one address cannot take the share of every other citizen.
    pub address: Option<std::net::IpAddr>,
}

impl Identity {
    /// The key of this caller's share of per-client limits (the validation queue): its name,
    /// or for the public verifier its address.
    pub fn client_key(&self) -> std::borrow::Cow<'_, str> {
        match self.address {
            Some(ip) => format!("ip:{ip}").into(),
            None => self.user.as_str().into(),
        }
    }

    /// The public verifier (no credential): its requests count against the public's share of
    /// the validation queue and of the bytes in flight.
    pub fn is_public(&self) -> bool {
        self.address.is_some()
    }
}

/// What the TLS layer saw of the client's certificate on this connection.
#[derive(Debug, Clone)]
pub enum PeerCert {
    /// No certificate presented (or plain HTTP).
    None,
    /// The chain verified against the client CAs and the certificate maps to a client.
    Known(Arc<Identity>),
    /// Presented but not acceptable: expired, untrusted, revoked, or not configured. The
    /// reason is for the log and the 401 answer.
    Refused(String),
}

/// The per-connection facts handlers may read (request extension).
#[derive(Debug, Clone)]
pub struct Conn {
    pub peer: std::net::SocketAddr,
    pub cert: PeerCert,
}

/// A distinguished name from its RFC 4514 text (most specific RDN first, `\XX` escapes of
/// UTF-8 bytes allowed: what `openssl x509 -noout -subject -nameopt RFC2253` prints, and what
/// `kyso serve client-id` prints).
pub fn parse_dn(s: &str) -> Result<x509_cert::name::Name, String> {
    use std::str::FromStr;
    let n = x509_cert::name::Name::from_str(s.trim()).map_err(|e| {
        format!("{s:?} is not an RFC 4514 distinguished name ({e}); `kyso serve client-id CERT` prints it as wanted")
    })?;
    let text_ok = n.0.iter().flat_map(|r| r.0.iter()).all(|a| {
        der::Tagged::tag(&a.value) != der::Tag::Utf8String
            || std::str::from_utf8(a.value.value()).is_ok()
    });
    if n.0.is_empty() || !text_ok {
        return Err(format!(
            "{s:?} is not an RFC 4514 distinguished name (empty, or an escape is not UTF-8)"
        ));
    }
    Ok(n)
}

/// A certificate as the config names it: by the SHA-256 of its DER (that certificate only), or
/// by subject and issuer (whatever that CA issues under that name), compared as names
/// (RFC 5280 §7.1: kyso_verify::x509::same_name), not as text.
#[derive(Debug, Clone)]
pub enum CertMatch {
    Sha256([u8; 32]),
    Name {
        subject: x509_cert::name::Name,
        issuer: x509_cert::name::Name,
    },
}

impl CertMatch {
    /// From the config's fields; `Err((field, why))`.
    pub fn parse(
        sha256: Option<&str>,
        subject: Option<&str>,
        issuer: Option<&str>,
    ) -> Result<CertMatch, (&'static str, String)> {
        match (sha256, subject, issuer) {
            (Some(h), None, None) => {
                let v = hex::decode(h.trim())
                    .ok()
                    .and_then(|v| <[u8; 32]>::try_from(v).ok())
                    .ok_or(("sha256", "64 hex digits (a SHA-256)".to_string()))?;
                Ok(CertMatch::Sha256(v))
            }
            (None, Some(s), Some(i)) => Ok(CertMatch::Name {
                subject: parse_dn(s).map_err(|e| ("subject", e))?,
                issuer: parse_dn(i).map_err(|e| ("issuer", e))?,
            }),
            _ => Err((
                "sha256",
                "give either sha256, or subject and issuer".to_string(),
            )),
        }
    }

    pub fn matches(&self, cert: &kyso_verify::Cert) -> bool {
        // Names compared as the same text (composed or decomposed letters, case, spaces), not
        // as compatible text: a full-width or ligature look-alike is another client.
        use kyso_verify::x509::same_name_canonical as same;
        match self {
            CertMatch::Sha256(h) => bool::from(subtle::ConstantTimeEq::ct_eq(
                &h[..],
                &cert.fingerprint()[..],
            )),
            CertMatch::Name { subject, issuer } => {
                same(&cert.tbs().subject, subject) && same(&cert.tbs().issuer, issuer)
            }
        }
    }
}

struct CertClient {
    matcher: CertMatch,
    /// For an entry by subject and issuer: the `server.client_ca` certificates of that issuer,
    /// one of whose keys must have signed the client's certificate. Names alone let another
    /// client CA stand in: it issued a CA certificate named like the agency's CA, and under it
    /// a certificate of the agency desk's subject, which the service took for the desk — its
    /// reads and status changes logged as the desk's (helper 232).
    issuers: Vec<Arc<kyso_verify::Cert>>,
    identity: Arc<Identity>,
}

impl CertClient {
    fn is(&self, cert: &kyso_verify::Cert) -> bool {
        self.matcher.matches(cert)
            && match self.matcher {
                CertMatch::Sha256(_) => true,
                CertMatch::Name { .. } => self.issuers.iter().any(|ca| cert.signed_by(ca).is_ok()),
            }
    }
}

struct TokenEntry {
    sha256: [u8; 32],
    identity: Arc<Identity>,
}

/// The configured clients and tokens: read at start, and again on SIGHUP
/// ([`Authenticator::reload_credentials`]).
struct Credentials {
    clients: Vec<CertClient>,
    tokens: Vec<TokenEntry>,
}

/// The configured clients and tokens.
pub struct Authenticator {
    verifier: Option<Arc<dyn ClientCertVerifier>>,
    credentials: std::sync::RwLock<Arc<Credentials>>,
    /// `server.client_ca`'s certificates (their keys tell an entry's issuer).
    client_cas: Vec<Arc<kyso_verify::Cert>>,
    /// Moves each time the credentials read again differ from those in use: connections
    /// judged by a certificate are judged again then.
    pub credentials_generation: tokio::sync::watch::Sender<u64>,
    /// What the credentials in use were made of ([`entries_digest`]); held while the
    /// configuration is read again, so that reloads apply in turn, each reading the file as it
    /// is then (two quick SIGHUPs, the slower read of the older file applied last, brought a
    /// removed token back; helper 233).
    entries: std::sync::Mutex<[u8; 32]>,
    /// The names of the keys the service started with: a reload naming others is refused (a
    /// signer with no `keys` may sign with every key; one key fewer in the file read again gave
    /// such a signer every running key, another agency's too; helper 233).
    key_names: Vec<String>,
    /// Revocation checks of client certificates, when configured.
    pub revocation: Option<super::revocation::ClientRevocation>,
}

/// The names of the configured keys, sorted.
fn key_names(cfg: &Config) -> Vec<String> {
    let mut v: Vec<String> = cfg.keys.iter().map(|k| k.name.clone()).collect();
    v.sort();
    v
}

/// A digest of the `[[clients]]` and `[[api_tokens]]` entries as read (token hashes, never
/// tokens): whether a configuration read again changes them.
fn entries_digest(cfg: &Config) -> [u8; 32] {
    Sha256::digest(format!("{:?}{:?}", cfg.clients, cfg.api_tokens).as_bytes()).into()
}

/// The clients and tokens `cfg` configures; `client_cas`: `server.client_ca`'s certificates.
fn credentials(cfg: &Config, client_cas: &[Arc<kyso_verify::Cert>]) -> Result<Credentials, String> {
    // Every entry of one user signs with the certificates any of its entries names.
    let mut signing: std::collections::BTreeMap<&str, Vec<CertMatch>> = Default::default();
    let entries = cfg
        .clients
        .iter()
        .map(|c| (c.name.as_str(), &c.signing_certs))
        .chain(
            cfg.api_tokens
                .iter()
                .map(|t| (t.name.as_str(), &t.signing_certs)),
        );
    for (name, certs) in entries {
        let list = signing.entry(name).or_default();
        for c in certs {
            list.push(
                CertMatch::parse(
                    c.sha256.as_deref(),
                    c.subject.as_deref(),
                    c.issuer.as_deref(),
                )
                .map_err(|(f, e)| format!("config: {name}: signing_certs: {f}: {e}"))?,
            );
        }
    }
    let signing: std::collections::BTreeMap<&str, Arc<Vec<CertMatch>>> =
        signing.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
    // Every entry of one user signs with the keys any of its entries names.
    let mut keys: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (name, ks) in cfg
        .clients
        .iter()
        .map(|c| (c.name.as_str(), &c.keys))
        .chain(cfg.api_tokens.iter().map(|t| (t.name.as_str(), &t.keys)))
    {
        let Some(ks) = ks else { continue };
        let list = keys.entry(name).or_default();
        list.extend(ks.iter().cloned());
        list.sort();
        list.dedup();
    }
    let keys: std::collections::BTreeMap<&str, Arc<Vec<String>>> =
        keys.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
    let ident = |user: &str, roles: &[Role], agency: &Option<String>, method| {
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        Arc::new(Identity {
            user: user.to_string(),
            roles,
            method,
            agency: agency.clone(),
            signing_certs: signing.get(user).cloned().unwrap_or_default(),
            keys: keys.get(user).cloned(),
            address: None,
        })
    };
    let mut clients = Vec::new();
    for c in &cfg.clients {
        let matcher = CertMatch::parse(
            c.sha256.as_deref(),
            c.subject.as_deref(),
            c.issuer.as_deref(),
        )
        .map_err(|(f, e)| format!("config: client {}: {f}: {e}", c.name))?;
        let issuers: Vec<Arc<kyso_verify::Cert>> = match &matcher {
            CertMatch::Sha256(_) => Vec::new(),
            CertMatch::Name { issuer, .. } => client_cas
                .iter()
                .filter(|ca| kyso_verify::x509::same_name_canonical(&ca.tbs().subject, issuer))
                .cloned()
                .collect(),
        };
        if matches!(matcher, CertMatch::Name { .. }) && issuers.is_empty() {
            return Err(format!(
                    "config: client {}: issuer: no certificate in server.client_ca has this subject: the CA that issues the client's certificates must be in server.client_ca itself (an intermediate CA too), so that its key, not its name alone, tells it from a CA another client CA named alike",
                    c.name
                ));
        }
        clients.push(CertClient {
            matcher,
            issuers,
            identity: ident(&c.name, &c.roles, &c.agency, "certificate"),
        });
    }
    Ok(Credentials {
        clients,
        tokens: cfg
            .api_tokens
            .iter()
            .map(|t| TokenEntry {
                sha256: unhex32(&t.sha256),
                identity: ident(&t.name, &t.roles, &t.agency, "token"),
            })
            .collect(),
    })
}

fn unhex32(h: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(v) = hex::decode(h) {
        if v.len() == 32 {
            out.copy_from_slice(&v);
        }
    }
    out
}

impl Authenticator {
    /// `client_cas`: the certificates of `server.client_ca`; `kept_crls`: the client CRLs
    /// `trust.state` kept ([`super::revocation::ClientRevocation::new`]).
    pub fn new(
        cfg: &Config,
        roots: Option<Arc<rustls::RootCertStore>>,
        client_cas: &[Arc<kyso_verify::Cert>],
        kept_crls: &[kyso_verify::Crl],
    ) -> Result<Self, String> {
        let verifier = match roots {
            Some(r) => Some(
                WebPkiClientVerifier::builder(r)
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| format!("config: server.client_ca: {e}"))?,
            ),
            None => None,
        };
        let credentials = credentials(cfg, client_cas)?;
        let revocation = if cfg.server.checks_client_revocation() {
            Some(super::revocation::ClientRevocation::new(cfg, kept_crls)?)
        } else {
            None
        };
        Ok(Authenticator {
            verifier,
            credentials: std::sync::RwLock::new(Arc::new(credentials)),
            client_cas: client_cas.to_vec(),
            credentials_generation: tokio::sync::watch::Sender::new(0),
            entries: std::sync::Mutex::new(entries_digest(cfg)),
            key_names: key_names(cfg),
            revocation,
        })
    }

    /// Take the clients and tokens of `cfg` (kyso.toml read again on SIGHUP) in place of those
    /// in use: a token or a certificate removed from the file stops working then, not at the
    /// next restart (a removed admin token kept its access after `systemctl reload`; helper
    /// 232). Returns how many clients and tokens are now configured, and whether they changed;
    /// on an error those in use stay.
    pub fn reload_credentials(
        &self,
        path: &std::path::Path,
    ) -> Result<(usize, usize, bool), String> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let cfg = Config::load(path).map_err(|e| e.0)?;
        if key_names(&cfg) != self.key_names {
            return Err("its [[keys]] are not those in use: keys change at a restart".into());
        }
        let c = credentials(&cfg, &self.client_cas)?;
        let counts = (c.clients.len(), c.tokens.len());
        let digest = entries_digest(&cfg);
        let changed = *entries != digest;
        if changed {
            *self.credentials.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
            *entries = digest;
            self.credentials_generation.send_modify(|g| *g += 1);
        }
        Ok((counts.0, counts.1, changed))
    }

    fn current(&self) -> Arc<Credentials> {
        self.credentials
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The verifier the TLS layer uses: it checks that the client holds the certificate's key
    /// (the handshake signature) but lets the chain be judged here, after the handshake, so an
    /// expired or untrusted certificate gets a 401 that says why instead of a bare TLS alert.
    pub fn tls_verifier(&self) -> Option<Arc<dyn ClientCertVerifier>> {
        self.verifier
            .clone()
            .map(|inner| Arc::new(DeferredChainCheck { inner }) as Arc<dyn ClientCertVerifier>)
    }

    /// Judge the certificate chain a client presented on a connection: the chain to a client
    /// CA, its revocation status (when configured: this may block on OCSP, call it off the
    /// runtime's threads), and which client it is.
    pub fn peer(&self, chain: Option<&[CertificateDer<'_>]>) -> PeerCert {
        let Some((leaf, intermediates)) = chain.and_then(|c| c.split_first()) else {
            return PeerCert::None;
        };
        let Some(v) = &self.verifier else {
            return PeerCert::Refused("client certificates are not accepted here".into());
        };
        if let Err(e) = v.verify_client_cert(leaf, intermediates, UnixTime::now()) {
            return PeerCert::Refused(format!("client certificate not accepted: {e}"));
        }
        let cert = match kyso_verify::Cert::from_ber(leaf.as_ref()) {
            Ok(c) => Arc::new(c),
            Err(e) => return PeerCert::Refused(format!("client certificate unreadable: {e}")),
        };
        // Which client first, then its revocation status: checked first, any holder of a
        // certificate of a client CA (a national CA's, say) had the service ask that CA's
        // responders at every handshake, each holding a thread while they were slow (an
        // attacker's reading, 2026-12-05).
        if let Some(c) = self.current().clients.iter().find(|c| c.is(&cert)) {
            if let Some(r) = &self.revocation {
                if let Err(why) = r.check(&cert, intermediates) {
                    return PeerCert::Refused(why);
                }
            }
            return PeerCert::Known(c.identity.clone());
        }
        // Not its subject: the refusal is logged, and a subject names a person (and may carry
        // their identity number); the SHA-256 is what the configuration takes.
        PeerCert::Refused(format!(
            "the client certificate (issuer {}, SHA-256 {}) is trusted but not configured for any user",
            kyso_verify::x509::name_string(&cert.tbs().issuer),
            hex::encode(cert.fingerprint())
        ))
    }

    /// The identity of a bearer token, comparing its SHA-256 with every configured one in
    /// constant time (no early exit: the time does not tell which one, or whether any, matched).
    pub fn token(&self, presented: &str) -> Option<Arc<Identity>> {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for t in &self.current().tokens {
            if bool::from(subtle::ConstantTimeEq::ct_eq(&t.sha256[..], &h[..])) {
                found = Some(t.identity.clone());
            }
        }
        found
    }
}

/// A client certificate verifier that checks the handshake signatures (possession of the key)
/// with webpki and defers the chain to [`Authenticator::peer`], which runs on every
/// connection that presented a certificate before any request is served.
#[derive(Debug)]
struct DeferredChainCheck {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for DeferredChainCheck {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A new random API token (32 bytes, base64url) and its SHA-256 for the config.
pub fn new_token() -> Result<(String, String), String> {
    use base64::Engine;
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| "no randomness from the operating system".to_string())?;
    let token = format!(
        "kyso_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    );
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    Ok((token, hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyso_verify::x509::same_name;

    #[test]
    fn names_as_openssl_prints_them_are_the_names_kyso_prints() {
        // `openssl x509 -noout -subject -nameopt RFC2253` of the demo token's EC certificate,
        // and kyso's own print of it (`kyso serve client-id`).
        let openssl = r"CN=Tr\E1\BA\A7n Th\E1\BB\8B B\C3\ACnh,title=Chuy\C3\AAn vi\C3\AAn,O=S\E1\BB\9F T\C6\B0 ph\C3\A1p t\E1\BB\89nh Demo,L=H\C3\A0 N\E1\BB\99i,C=VN";
        let kyso = "CN=Trần Thị Bình,TITLE=Chuyên viên,O=Sở Tư pháp tỉnh Demo,L=Hà Nội,C=VN";
        let (a, b) = (parse_dn(openssl).unwrap(), parse_dn(kyso).unwrap());
        assert!(same_name(&a, &b));
        assert_eq!(kyso_verify::x509::name_string(&a), kyso);
        // Other attribute names openssl prints; case does not matter.
        for n in [
            "serialNumber=CMND:012345678,emailAddress=a@b.vn,UID=x,street=1 Tr\\C3\\A0ng Ti\\E1\\BB\\81n,DC=gov,DC=vn",
            "cn=x,o=y,c=VN",
        ] {
            parse_dn(n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
        // The order is part of the name.
        let reversed =
            parse_dn("C=VN,L=Hà Nội,O=Sở Tư pháp tỉnh Demo,TITLE=Chuyên viên,CN=Trần Thị Bình")
                .unwrap();
        assert!(!same_name(&reversed, &b));
        // A client named by subject and issuer (CertMatch::matches): the same letters
        // composed or decomposed (NFD) are the same client; full-width letters — the same name
        // to RFC 4518's NFKC, which path building and name constraints use — are another.
        let same = |x: &str, y: &str| {
            kyso_verify::x509::same_name_canonical(&parse_dn(x).unwrap(), &parse_dn(y).unwrap())
        };
        let configured = "CN=Bộ phận một cửa,C=VN";
        let nfd = "CN=Bo\u{323}\u{302} pha\u{323}\u{302}n mo\u{323}\u{302}t cu\u{31b}\u{309}a,C=VN";
        assert!(same(nfd, configured));
        assert!(same("cn=BỘ PHẬN MỘT CỬA,c=vn", configured));
        let wide = "CN=Ｂộ phận một cửa,C=VN";
        assert!(!same(wide, configured));
        assert!(same_name(
            &parse_dn(wide).unwrap(),
            &parse_dn(configured).unwrap()
        ));
        // Not names.
        for n in ["", "no equals", r"CN=\FF\FE"] {
            assert!(parse_dn(n).is_err(), "{n}");
        }
    }
}
