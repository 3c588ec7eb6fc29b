//! Who is calling, and may they: agencies' client certificates (mutual TLS, chain checked
//! against the configured CAs, mapped to a user by subject or SHA-256 fingerprint) and bearer
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
    /// The configured name: the `user` of archive events.
    pub user: String,
    pub roles: Vec<Role>,
    /// How the caller proved it: `certificate` or `token`.
    pub method: &'static str,
}

/// What the TLS layer saw of the client's certificate on this connection.
#[derive(Debug, Clone)]
pub enum PeerCert {
    /// No certificate presented (or plain HTTP).
    None,
    /// The chain verified against the client CAs and the certificate maps to a client.
    Known(Arc<Identity>),
    /// Presented but not acceptable: expired, untrusted, or not configured. The reason is for
    /// the log and the 401 answer.
    Refused(String),
}

/// The per-connection facts handlers may read (request extension).
#[derive(Debug, Clone)]
pub struct Conn {
    pub peer: std::net::SocketAddr,
    pub cert: PeerCert,
}

struct CertClient {
    subject: Option<String>,
    sha256: Option<[u8; 32]>,
    identity: Arc<Identity>,
}

struct TokenEntry {
    sha256: [u8; 32],
    identity: Arc<Identity>,
}

/// The configured clients and tokens.
pub struct Authenticator {
    verifier: Option<Arc<dyn ClientCertVerifier>>,
    clients: Vec<CertClient>,
    tokens: Vec<TokenEntry>,
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
    pub fn new(cfg: &Config, roots: Option<Arc<rustls::RootCertStore>>) -> Result<Self, String> {
        let verifier = match roots {
            Some(r) => Some(
                WebPkiClientVerifier::builder(r)
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| format!("config: server.client_ca: {e}"))?,
            ),
            None => None,
        };
        let ident = |user: &str, roles: &[Role], method| {
            let mut roles = roles.to_vec();
            roles.sort();
            roles.dedup();
            Arc::new(Identity {
                user: user.to_string(),
                roles,
                method,
            })
        };
        Ok(Authenticator {
            verifier,
            clients: cfg
                .clients
                .iter()
                .map(|c| CertClient {
                    subject: c.subject.clone(),
                    sha256: c.sha256.as_deref().map(unhex32),
                    identity: ident(&c.name, &c.roles, "certificate"),
                })
                .collect(),
            tokens: cfg
                .api_tokens
                .iter()
                .map(|t| TokenEntry {
                    sha256: unhex32(&t.sha256),
                    identity: ident(&t.name, &t.roles, "token"),
                })
                .collect(),
        })
    }

    /// The verifier the TLS layer uses: it checks that the client holds the certificate's key
    /// (the handshake signature) but lets the chain be judged here, after the handshake, so an
    /// expired or untrusted certificate gets a 401 that says why instead of a bare TLS alert.
    pub fn tls_verifier(&self) -> Option<Arc<dyn ClientCertVerifier>> {
        self.verifier
            .clone()
            .map(|inner| Arc::new(DeferredChainCheck { inner }) as Arc<dyn ClientCertVerifier>)
    }

    /// Judge the certificate chain a client presented on a connection.
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
        let fp: [u8; 32] = Sha256::digest(leaf.as_ref()).into();
        let subject = <x509_cert::Certificate as der::Decode>::from_der(leaf.as_ref())
            .map(|c| kyso_verify::x509::name_string(&c.tbs_certificate.subject))
            .unwrap_or_default();
        for c in &self.clients {
            let hit = match (&c.sha256, &c.subject) {
                (Some(h), _) => bool::from(subtle::ConstantTimeEq::ct_eq(&h[..], &fp[..])),
                (None, Some(s)) => *s == subject,
                _ => false,
            };
            if hit {
                return PeerCert::Known(c.identity.clone());
            }
        }
        PeerCert::Refused(format!(
            "the client certificate (subject {subject}, SHA-256 {}) is trusted but not configured for any user",
            hex::encode(fp)
        ))
    }

    /// The identity of a bearer token, comparing its SHA-256 with every configured one in
    /// constant time (no early exit: the time does not tell which one, or whether any, matched).
    pub fn token(&self, presented: &str) -> Option<Arc<Identity>> {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for t in &self.tokens {
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
