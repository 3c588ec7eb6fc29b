//! Fetching validation data (RFC 5280 §4.2.1.13 CRL distribution points, RFC 6960 OCSP over
//! HTTP §A.1): what a certificate names, with timeouts and size limits, never blocking for long,
//! cached until the data's nextUpdate. Offline validation simply has no fetcher.

use crate::crypto::Hash;
use crate::x509::{Cert, Crl, Ocsp, X509Error};
use der::asn1::OctetString;
use der::Encode;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Largest CRL fetched (a national CA's CRL can hold hundreds of thousands of entries).
pub const MAX_CRL_BYTES: u64 = 32 << 20;
/// Largest OCSP response fetched.
pub const MAX_OCSP_BYTES: u64 = 1 << 20;
/// How long one fetch may take, all of it.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a URL that failed is not asked again: a document naming the same dead responder
/// a thousand times costs one timeout, not a thousand.
pub const RETRY_AFTER: Duration = Duration::from_secs(60);
/// How long a URL whose answer was not believed is not asked again: not a minute (a forged
/// answer, once, must not stand in for the genuine one for long), but not at every handshake
/// either (a reviewer's reading, 2026-12-05: five handshakes, five fetches of up to 32 MiB).
pub const RETRY_UNBELIEVED: Duration = Duration::from_secs(5);
/// Most URLs remembered, failed or cached; the oldest entries go first.
const MAX_CACHED: usize = 4096;
/// Longest an answer is kept, whatever its nextUpdate says: a CA that publishes a CRL ahead
/// of time after an emergency revocation is heard within the hour by a service that runs for
/// months.
pub const MAX_KEPT: Duration = Duration::from_secs(3600);

/// id-pkix-ocsp-nonce (RFC 6960 §4.4.1).
const ID_PKIX_OCSP_NONCE: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

/// Why validation data could not be had from a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: only http and https URLs are fetched")]
    Scheme { url: String },
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url}: the answer is not {what}: {reason}")]
    Parse {
        url: String,
        what: &'static str,
        reason: X509Error,
    },
    #[error("{url}: the OCSP response does not echo the request's nonce")]
    Nonce { url: String },
    #[error("{url}: the {what} is signed neither by the certificate's issuer nor by a responder it certified: not believed, not kept")]
    Unsigned { url: String, what: &'static str },
}

/// A fetched CRL, kept until its nextUpdate.
struct Cached {
    crl: Crl,
    until: SystemTime,
}

/// An OCSP answer's cache key: responder URL, the certificate's and its issuer's SHA-256.
type OcspKey = (String, [u8; 32], [u8; 32]);

/// A CRL's cache key: distribution point URL and the issuer's SHA-256 (two issuers naming one
/// URL do not share an answer).
type CrlKey = (String, [u8; 32]);

/// Fetches CRLs and OCSP responses over HTTP.
pub struct Fetcher {
    agent: ureq::Agent,
    cache: Mutex<HashMap<CrlKey, Cached>>,
    /// OCSP responses by (URL, certificate fingerprint), kept until their nextUpdate.
    ocsp_cache: Mutex<HashMap<OcspKey, (Ocsp, SystemTime)>>,
    /// URLs that failed, and when: not asked again for [`RETRY_AFTER`].
    failed: Mutex<HashMap<String, (Instant, FetchError)>>,
    /// One fetch of a URL (of an OCSP responder: per certificate) at a time: the others wait
    /// for its answer in the cache. Each of a burst of handshakes fetched the same 32 MiB CRL
    /// at once when it was not cached yet (memory as many times over).
    flights: Mutex<HashMap<String, std::sync::Arc<Mutex<()>>>>,
    /// Send a nonce with OCSP requests and require it back (RFC 6960 §4.4.1; many responders
    /// serve pre-produced responses and ignore nonces, so this is off by default).
    pub nonce: bool,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("nonce", &self.nonce)
            .finish()
    }
}

impl Default for Fetcher {
    fn default() -> Self {
        Fetcher::new()
    }
}

fn check_scheme(url: &str) -> Result<(), FetchError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Ok(())
    } else {
        Err(FetchError::Scheme { url: url.into() })
    }
}

impl Fetcher {
    pub fn new() -> Fetcher {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .http_status_as_error(true)
            .max_redirects(3)
            .build()
            .new_agent();
        Fetcher {
            agent,
            cache: Mutex::new(HashMap::new()),
            ocsp_cache: Mutex::new(HashMap::new()),
            failed: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            nonce: false,
        }
    }

    /// Held while `key` is fetched: whoever holds it next finds the answer (or the failure)
    /// remembered.
    fn flight(&self, key: String) -> std::sync::Arc<Mutex<()>> {
        let mut f = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if f.len() >= MAX_CACHED {
            f.retain(|_, m| std::sync::Arc::strong_count(m) > 1);
        }
        f.entry(key).or_default().clone()
    }

    /// The error a URL gave less than [`RETRY_AFTER`] ago.
    fn recent_failure(&self, url: &str) -> Option<FetchError> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed
            .get(url)
            .filter(|(t, e)| {
                t.elapsed()
                    < match e {
                        FetchError::Unsigned { .. } => RETRY_UNBELIEVED,
                        _ => RETRY_AFTER,
                    }
            })
            .map(|(_, e)| e.clone())
    }

    /// Remember the outcome of asking `url`.
    fn remember<T>(&self, url: &str, r: Result<T, FetchError>) -> Result<T, FetchError> {
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        match &r {
            // A missing nonce is the answer's fault, not the URL's: ask again next time. An
            // answer not believed waits RETRY_UNBELIEVED.
            Err(e) if !matches!(e, FetchError::Nonce { .. }) => {
                if failed.len() >= MAX_CACHED {
                    failed.retain(|_, (t, _)| t.elapsed() < RETRY_AFTER);
                }
                if failed.len() < MAX_CACHED {
                    failed.insert(url.into(), (Instant::now(), e.clone()));
                }
            }
            _ => {
                failed.remove(url);
            }
        }
        r
    }

    /// The CRL of `issuer`'s certificates at `url` (from the cache while it is current, and for
    /// at most [`MAX_KEPT`]). Only a CRL `issuer` signed is returned and kept: one was kept
    /// unchecked until whatever nextUpdate its forger wrote, and the service's client
    /// certificate checks believed "not revoked" (or were locked out) until a restart (an
    /// attacker's reading, 2026-12-05).
    pub fn crl(&self, url: &str, issuer: &Cert, now: SystemTime) -> Result<Crl, FetchError> {
        check_scheme(url)?;
        let key = (url.to_string(), issuer.fingerprint());
        let known = || -> Option<Result<Crl, FetchError>> {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            match cache.get(&key) {
                Some(c) if c.until > now => Some(Ok(c.crl.clone())),
                _ => self.recent_failure(url).map(Err),
            }
        };
        if let Some(r) = known() {
            return r;
        }
        let flight = self.flight(url.to_string());
        let _one = turn(&flight);
        if let Some(r) = known() {
            return r;
        }
        let r = self
            .fetch_crl(url)
            .and_then(|crl| match crl.signed_by(issuer) {
                Ok(()) => Ok(crl),
                Err(_) => Err(FetchError::Unsigned {
                    url: url.into(),
                    what: "CRL",
                }),
            });
        let crl = self.remember(url, r)?;
        if let Some(next) = &crl.list.tbs_cert_list.next_update {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, c| c.until > now);
            }
            if cache.len() < MAX_CACHED {
                cache.insert(
                    key,
                    Cached {
                        crl: crl.clone(),
                        until: next.to_system_time().min(now + MAX_KEPT),
                    },
                );
            }
        }
        Ok(crl)
    }

    fn fetch_crl(&self, url: &str) -> Result<Crl, FetchError> {
        let http = |reason: String| FetchError::Http {
            url: url.into(),
            reason,
        };
        let mut resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| http(e.to_string()))?;
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_CRL_BYTES)
            .read_to_vec()
            .map_err(|e| http(e.to_string()))?;
        // A CRL distribution point serves DER (RFC 5280 §4.2.1.13); PEM is read too.
        crate::x509::load_crl(&body).map_err(|reason| FetchError::Parse {
            url: url.into(),
            what: "a CRL",
            reason,
        })
    }

    /// Ask the OCSP responder at `url` for the status of `cert` (issued by `issuer`); without
    /// a nonce, an earlier answer is reused until its nextUpdate (at most [`MAX_KEPT`]). Only
    /// an answer signed by `issuer`, or by a responder certificate it carries that `issuer`
    /// signed, is returned and kept (who may vouch is judged again at each use: the responder's
    /// extended key usage and revocation).
    pub fn ocsp(&self, url: &str, cert: &Cert, issuer: &Cert) -> Result<Ocsp, FetchError> {
        check_scheme(url)?;
        let key = (url.to_string(), cert.fingerprint(), issuer.fingerprint());
        let now = SystemTime::now();
        let known = || -> Option<Result<Ocsp, FetchError>> {
            if !self.nonce {
                let cache = self.ocsp_cache.lock().unwrap_or_else(|p| p.into_inner());
                if let Some((o, until)) = cache.get(&key) {
                    if *until > now {
                        return Some(Ok(o.clone()));
                    }
                }
            }
            self.recent_failure(url).map(Err)
        };
        if let Some(r) = known() {
            return r;
        }
        let flight = self.flight(format!("{url} {}", hex::encode(cert.fingerprint())));
        let _one = turn(&flight);
        if let Some(r) = known() {
            return r;
        }
        let r = self.fetch_ocsp(url, cert, issuer).and_then(|o| {
            // A delegated responder must be certified by the issuer for OCSP signing (any
            // certificate of the CA signed an answer that was kept for an hour and never
            // believed; a reviewer's reading, 2026-12-05).
            let by_issuer = o.signed_by(issuer).is_ok()
                || crate::path::revocation::delegated_signers(&o, issuer)
                    .any(|r| crate::path::revocation::certified_for_ocsp(&r));
            if by_issuer {
                Ok(o)
            } else {
                Err(FetchError::Unsigned {
                    url: url.into(),
                    what: "OCSP response",
                })
            }
        });
        let ocsp = self.remember(url, r)?;
        let next = ocsp
            .basic
            .tbs_response_data
            .responses
            .iter()
            .map(|s| s.next_update.as_ref().map(|n| n.0.to_system_time()))
            .min()
            .flatten();
        if let (false, Some(until)) = (self.nonce, next) {
            let mut cache = self.ocsp_cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, (_, u)| *u > now);
            }
            if cache.len() < MAX_CACHED {
                cache.insert(key, (ocsp.clone(), until.min(now + MAX_KEPT)));
            }
        }
        Ok(ocsp)
    }

    fn fetch_ocsp(&self, url: &str, cert: &Cert, issuer: &Cert) -> Result<Ocsp, FetchError> {
        let http = |reason: String| FetchError::Http {
            url: url.into(),
            reason,
        };
        let nonce = if self.nonce {
            let mut n = [0u8; 16];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut n)
                .map_err(|_| http("no randomness for the nonce".into()))?;
            Some(n.to_vec())
        } else {
            None
        };
        let req = request(cert, issuer, nonce.as_deref()).map_err(|e| http(e.to_string()))?;
        let mut resp = self
            .agent
            .post(url)
            .header("Content-Type", "application/ocsp-request")
            .send(&req[..])
            .map_err(|e| http(e.to_string()))?;
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_OCSP_BYTES)
            .read_to_vec()
            .map_err(|e| http(e.to_string()))?;
        let ocsp = Ocsp::from_response(&body).map_err(|reason| FetchError::Parse {
            url: url.into(),
            what: "an OCSP response",
            reason,
        })?;
        if let Some(n) = nonce {
            let echoed = ocsp
                .basic
                .tbs_response_data
                .response_extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
                .map(|e| e.extn_value.as_bytes().to_vec());
            let want = OctetString::new(n)
                .and_then(|o| o.to_der())
                .map_err(|e| http(e.to_string()))?;
            if echoed.as_deref() != Some(&want[..]) {
                return Err(FetchError::Nonce { url: url.into() });
            }
        }
        Ok(ocsp)
    }
}

/// Wait for the fetch of a URL under way to end: at most [`TIMEOUT`] (behind a slow
/// responder each waiter then made its own fetch, one after another, the k-th waiting k times
/// as long), and no longer once the validation is stopped; then fetch whether or not it ended
/// (helper 158).
fn turn(flight: &Mutex<()>) -> Option<std::sync::MutexGuard<'_, ()>> {
    let start = Instant::now();
    loop {
        match flight.try_lock() {
            Ok(g) => return Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
        if start.elapsed() >= TIMEOUT || kyso_pdf::stop::stopped() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An OCSPRequest (RFC 6960 §4.1) for one certificate, CertID with SHA-1 (what every
/// responder answers; RFC 5019 §2.1.1), with a nonce if given.
pub fn request(cert: &Cert, issuer: &Cert, nonce: Option<&[u8]>) -> Result<Vec<u8>, der::Error> {
    let name_der = issuer.tbs().subject.to_der()?;
    let key = issuer
        .tbs()
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let cert_id = x509_ocsp::CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_1,
            parameters: Some(der::asn1::Null.into()),
        },
        issuer_name_hash: OctetString::new(Hash::Sha1.digest(&[&name_der]))?,
        issuer_key_hash: OctetString::new(Hash::Sha1.digest(&[key]))?,
        serial_number: cert.tbs().serial_number.clone(),
    };
    let request_extensions = match nonce {
        Some(n) => Some(vec![x509_cert::ext::Extension {
            extn_id: ID_PKIX_OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(OctetString::new(n)?.to_der()?)?,
        }]),
        None => None,
    };
    x509_ocsp::OcspRequest {
        tbs_request: x509_ocsp::TbsRequest {
            version: x509_ocsp::Version::V1,
            requestor_name: None,
            request_list: vec![x509_ocsp::Request {
                req_cert: cert_id,
                single_request_extensions: None,
            }],
            request_extensions,
        },
        optional_signature: None,
    }
    .to_der()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A burst of checks of one URL not cached yet makes one request: the others wait for its
    /// answer (each fetched the same CRL, up to 32 MiB, at once).
    #[test]
    fn a_burst_of_checks_of_one_url_fetches_it_once() {
        let crl =
            crate::x509::load_crl(include_bytes!("../../tests/corpus/pki/issuing-ca.crl.pem"))
                .unwrap();
        let issuer =
            crate::x509::load_certificates(include_bytes!("../../tests/corpus/pki/inter.pem"))
                .unwrap()
                .remove(0);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/ca.crl", listener.local_addr().unwrap());
        let asked = Arc::new(AtomicUsize::new(0));
        let a = asked.clone();
        let body = crl.der().to_vec();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { return };
                a.fetch_add(1, Ordering::SeqCst);
                let mut head = [0u8; 4096];
                let _ = s.read(&mut head);
                // Slow enough that every check below asks while the first waits.
                std::thread::sleep(Duration::from_millis(300));
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                );
                let _ = s.write_all(&body);
            }
        });
        let f = Arc::new(Fetcher::new());
        let now = SystemTime::now();
        let checks: Vec<_> = (0..8)
            .map(|_| {
                let (f, url, issuer) = (f.clone(), url.clone(), issuer.clone());
                std::thread::spawn(move || f.crl(&url, &issuer, now).map(|c| *c.sha256()))
            })
            .collect();
        for c in checks {
            assert_eq!(c.join().unwrap(), Ok(*crl.sha256()));
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }
}
