//! RFC 3161 time-stamps: requests, a client for an external TSA over HTTP (§3.4), and an
//! internal TSA that signs tokens with a key on the PKCS#11 token.
//!
//! The internal TSA refuses to run with a certificate that lacks the one critical
//! extendedKeyUsage `id-kp-timeStamping` (RFC 3161 §2.3). Tokens carry ESS
//! signing-certificate-v2 (RFC 5816) and a 128-bit random serial number.

use crate::cades::{self, AttributeInput};
use crate::error::{Result, SignError};
use const_oid::db::rfc5912::ID_KP_TIME_STAMPING;
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, Utf8StringRef};
use der::asn1::{GeneralizedTime, Int, OctetString};
use der::Sequence;
use der::{Any, Decode, Encode};
use kyso_hsm::{HashAlg, SigningKey};
use spki::AlgorithmIdentifier;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TspVersion, TstInfo};

/// `PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
/// failInfo PKIFailureInfo OPTIONAL }` (RFC 3161 §2.4.2, RFC 4210 §5.2.3). Defined here
/// because `cmpv2` 0.2 encodes PKIFailureInfo bit positions as masks.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo<'a> {
    /// 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4 revocationWarning, 5 revocationNotification.
    pub status: u8,
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<Utf8StringRef<'a>>>,
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// `TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }`
/// (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp<'a> {
    pub status: PkiStatusInfo<'a>,
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<cms::content_info::ContentInfo>,
}

/// PKIFailureInfo named bits used by a TSA (RFC 3161 §2.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailInfo {
    BadAlg = 0,
    BadRequest = 2,
    BadDataFormat = 5,
    TimeNotAvailable = 14,
    UnacceptedPolicy = 15,
    UnacceptedExtension = 16,
    AddInfoNotAvailable = 17,
    SystemFailure = 25,
}

impl FailInfo {
    /// The DER named-bit string with just this bit (trailing zero bits removed, X.690 §11.2.2).
    pub fn bit_string(self) -> BitString {
        let n = self as usize;
        let mut bytes = vec![0u8; n / 8 + 1];
        bytes[n / 8] = 0x80 >> (n % 8);
        BitString::new((7 - n % 8) as u8, bytes).expect("valid bit string")
    }
}

/// id-ct-TSTInfo (RFC 3161 §2.4.2).
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A), the CAdES B-T attribute.
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// The demo policy: under PEN 32473, which IANA reserves for documentation (RFC 5612).
/// An agency configures its own TSA policy OID.
pub const DEMO_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1.1");
/// Largest TSA response accepted from a server.
pub const MAX_RESPONSE: u64 = 1 << 20;

fn random_int(bytes: usize) -> Int {
    use rand_core::{OsRng, RngCore};
    let mut b = vec![0u8; bytes];
    OsRng.fill_bytes(&mut b);
    b[0] &= 0x7f;
    b[0] |= 0x40; // positive, full length
    Int::new(&b).expect("positive bytes are an INTEGER")
}

/// The hash an imprint's algorithm names: SHA-256, -384 or -512, its parameters absent or
/// NULL (RFC 5754 §2) — anything else there was signed into the token as given (helper 171).
fn hash_of(alg: &AlgorithmIdentifier<Any>) -> Option<HashAlg> {
    let plain = alg
        .parameters
        .as_ref()
        .is_none_or(|p| der::Tagged::tag(p) == der::Tag::Null && p.value().is_empty());
    [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512]
        .into_iter()
        .find(|h| plain && h.oid() == alg.oid)
}

/// Longest nonce the TSA echoes (RFC 3161 sets none; clients send 8 to 20 bytes).
pub const MAX_NONCE: usize = 32;

/// A request judged as kyso's TSA with `policy` judges it (RFC 3161 §2.4.1): the request and
/// the hash of its imprint, or the failure to answer with and why. Nothing but the bytes is
/// looked at; no key is used.
pub fn judge_request(
    req_der: &[u8],
    policy: ObjectIdentifier,
) -> std::result::Result<(TimeStampReq, HashAlg), (FailInfo, String)> {
    // DER (lengths, tags, trailing bytes: `der` holds them). A default written out (certReq
    // FALSE, which Mozilla's winsign sends) is taken: nothing of the request is signed as it
    // was written — the token is made of the values read (helper 174).
    let req = TimeStampReq::from_der(req_der).map_err(|_| {
        (
            FailInfo::BadDataFormat,
            "not a DER TimeStampReq".to_string(),
        )
    })?;
    let Some(hash) = hash_of(&req.message_imprint.hash_algorithm) else {
        return Err((
            FailInfo::BadAlg,
            "hash algorithm not accepted (SHA-256, SHA-384, SHA-512, without parameters)".into(),
        ));
    };
    if req.message_imprint.hashed_message.as_bytes().len() != hash.output_len() {
        return Err((
            FailInfo::BadDataFormat,
            "message imprint has the wrong length".into(),
        ));
    }
    if req.req_policy.is_some_and(|p| p != policy) {
        return Err((FailInfo::UnacceptedPolicy, "policy not offered".into()));
    }
    match &req.extensions {
        Some(e) if e.is_empty() => {
            return Err((
                FailInfo::BadDataFormat,
                "an empty list of extensions (RFC 3161: at least one when present)".into(),
            ))
        }
        Some(_) => {
            return Err((
                FailInfo::UnacceptedExtension,
                "no extensions are accepted".into(),
            ))
        }
        None => {}
    }
    // Counted without the sign's zero byte: a 256-bit nonce with its top bit set is 33 bytes
    // written (helper 174).
    let nonce_len = |n: &Int| n.as_bytes().iter().skip_while(|b| **b == 0).count();
    if req.nonce.as_ref().is_some_and(|n| nonce_len(n) > MAX_NONCE) {
        return Err((
            FailInfo::BadRequest,
            format!("a nonce of more than {MAX_NONCE} bytes"),
        ));
    }
    Ok((req, hash))
}

/// A DER TimeStampResp rejecting a request: status 2, the failure bit and the reason.
pub fn rejection(fail: FailInfo, text: &str) -> Vec<u8> {
    let s = Utf8StringRef::new(text).expect("UTF-8 text");
    TimeStampResp {
        status: PkiStatusInfo {
            status: 2,
            status_string: Some(vec![s]),
            fail_info: Some(fail.bit_string()),
        },
        time_stamp_token: None,
    }
    .to_der()
    .expect("a rejection always encodes")
}

/// A request for a time-stamp on `digest` (made with `hash`), with a random nonce and the
/// TSA's certificate asked for.
pub fn request(hash: HashAlg, digest: &[u8]) -> Result<TimeStampReq> {
    Ok(TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                oid: hash.oid(),
                parameters: None,
            },
            hashed_message: OctetString::new(digest)?,
        },
        req_policy: None,
        nonce: Some(random_int(16)),
        cert_req: true,
        extensions: None,
    })
}

/// Check a response against its request and return the token (ContentInfo DER).
pub fn token_from_response(req: &TimeStampReq, resp_der: &[u8]) -> Result<Vec<u8>> {
    let bad = |m: String| SignError::Timestamp(m);
    let resp = TimeStampResp::from_der(resp_der)
        .map_err(|e| bad(format!("response is not RFC 3161 DER: {e}")))?;
    if resp.status.status > 1 {
        let text: Vec<String> = resp
            .status
            .status_string
            .iter()
            .flatten()
            .map(|s| s.as_str().to_string())
            .collect();
        return Err(bad(format!(
            "the TSA refused (status {}): {}",
            resp.status.status,
            text.join("; ")
        )));
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| bad("granted but no token".into()))?
        .to_der()?;
    // Read as the verifier reads it: a genTime with fractional seconds (RFC 3161 §2.4.2;
    // pyHanko's TSA writes one) failed `der`'s GeneralizedTime, and every such TSA with it
    // (helper 175).
    let (imprint, nonce) = kyso_verify::tsp::imprint_and_nonce(&token)
        .ok_or_else(|| bad("the token holds no TSTInfo kyso can read".into()))?;
    if imprint != req.message_imprint {
        return Err(bad("the token stamps another message imprint".into()));
    }
    if nonce != req.nonce {
        return Err(bad("the token's nonce is not the request's".into()));
    }
    Ok(token)
}

/// Where time-stamps come from.
#[derive(Clone)]
pub enum TimestampSource {
    /// An RFC 3161 server over HTTP(S).
    Url(String),
    /// kyso's own TSA, with a key on the token.
    Internal(Arc<Tsa>),
}

impl TimestampSource {
    /// A token stamping `digest`.
    pub fn stamp(&self, hash: HashAlg, digest: &[u8]) -> Result<Vec<u8>> {
        let req = request(hash, digest)?;
        let resp = match self {
            TimestampSource::Url(url) => fetch(url, &req.to_der()?)?,
            TimestampSource::Internal(tsa) => tsa.respond(&req.to_der()?),
        };
        let token = token_from_response(&req, &resp)?;
        if let TimestampSource::Url(url) = self {
            check_token(url, &token, digest)?;
        }
        Ok(token)
    }
}

/// A token from a TSA over the network is checked before it is embedded (anyone on the path
/// of an http:// URL can answer): its signature over the TSTInfo, the TSA certificate it
/// names (one critical extendedKeyUsage, timeStamping; valid at genTime), and a genTime not
/// ahead of this machine's clock. Whether that TSA is trusted is validation's to say (B-LT
/// validates it before embedding its validation data; `kyso verify` reports it); its
/// revocation status is not asked here. `digest` is the imprint the request asked for (and
/// [`token_from_response`] found in the token).
fn check_token(url: &str, token: &[u8], digest: &[u8]) -> Result<()> {
    let certs = kyso_verify::cms::parse(token)
        .map(|p| p.certs.clone())
        .unwrap_or_default();
    let v = kyso_verify::Validator {
        anchors: certs,
        now: std::time::SystemTime::now(),
        ..Default::default()
    };
    let none = kyso_verify::path::revocation::Data {
        crls: &[],
        ocsps: &[],
    };
    match kyso_verify::tsp::validate_imprint(&v, token, &|_| Ok(digest.to_vec()), &[], none, v.now)
    {
        Ok(_) => Ok(()),
        // Everything else held: only the TSA certificate's status is unknown here.
        Err(f) if f.sub == kyso_verify::SubIndication::TryLater => Ok(()),
        Err(f) => Err(SignError::Timestamp(format!(
            "TSA {url}: its time-stamp does not hold: {} {}",
            f.indication.as_str(),
            f.message
        ))),
    }
}

/// POST a request to a TSA (RFC 3161 §3.4) and read the response.
pub fn fetch(url: &str, req_der: &[u8]) -> Result<Vec<u8>> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(true)
        .build()
        .new_agent();
    let mut resp = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .send(req_der)
        .map_err(|e| SignError::Timestamp(format!("TSA {url}: {e}")))?;
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !ct.starts_with("application/timestamp-reply") {
        return Err(SignError::Timestamp(format!(
            "TSA {url} answered {ct:?}, not application/timestamp-reply"
        )));
    }
    resp.body_mut()
        .with_config()
        .limit(MAX_RESPONSE)
        .read_to_vec()
        .map_err(|e| SignError::Timestamp(format!("TSA {url}: {e}")))
}

/// kyso's internal time-stamping authority.
pub struct Tsa {
    key: Arc<dyn SigningKey>,
    policy: ObjectIdentifier,
}

impl Tsa {
    /// A TSA signing with `key`. The key's certificate must have exactly one extendedKeyUsage,
    /// id-kp-timeStamping, marked critical (RFC 3161 §2.3).
    pub fn new(key: Arc<dyn SigningKey>, policy: ObjectIdentifier) -> Result<Tsa> {
        let exts = key
            .certificate()
            .tbs_certificate
            .extensions
            .clone()
            .unwrap_or_default();
        let eku = exts
            .iter()
            .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE);
        let ok = eku.is_some_and(|e| {
            e.critical
                && ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                    .is_ok_and(|u| u.0 == vec![ID_KP_TIME_STAMPING])
        });
        if !ok {
            return Err(SignError::Timestamp(format!(
                "the certificate of {} is not a TSA certificate: it needs one critical extendedKeyUsage, timeStamping (RFC 3161 §2.3)",
                key.certificate().tbs_certificate.subject
            )));
        }
        Ok(Tsa { key, policy })
    }

    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// The TSA's key, with its certificate and chain.
    pub fn key(&self) -> &dyn SigningKey {
        self.key.as_ref()
    }

    /// When the TSA's certificate is valid: (notBefore, notAfter).
    pub fn validity(&self) -> (SystemTime, SystemTime) {
        let v = &self.key.certificate().tbs_certificate.validity;
        (v.not_before.to_system_time(), v.not_after.to_system_time())
    }

    /// Answer a DER TimeStampReq with a DER TimeStampResp (RFC 3161 §2.4.2). Bad requests get
    /// a rejection with the reason, never a panic.
    pub fn respond(&self, req_der: &[u8]) -> Vec<u8> {
        let answer = judge_request(req_der, self.policy)
            .and_then(|(req, _)| self.token(&req, SystemTime::now()));
        match answer {
            Ok(token) => TimeStampResp {
                status: PkiStatusInfo {
                    status: 0,
                    status_string: None,
                    fail_info: None,
                },
                time_stamp_token: Some(token),
            }
            .to_der()
            .unwrap_or_else(|_| rejection(FailInfo::SystemFailure, "encoding failed")),
            Err((fail, why)) => rejection(fail, &why),
        }
    }

    fn token(
        &self,
        req: &TimeStampReq,
        now: SystemTime,
    ) -> std::result::Result<cms::content_info::ContentInfo, (FailInfo, String)> {
        // A token from a TSA whose certificate is not valid then proves nothing: every one
        // was granted, and failed verification (helper 171: the demo TSA's, before its
        // notBefore and after its notAfter).
        let (from, to) = self.validity();
        if now < from || now > to {
            return Err((
                FailInfo::TimeNotAvailable,
                format!(
                    "the TSA's certificate is not valid now (valid from {} to {}): renew it",
                    kyso_verify::rfc3339(from),
                    kyso_verify::rfc3339(to)
                ),
            ));
        }
        let sys = |e: String| (FailInfo::SystemFailure, e);
        let gen_time = GeneralizedTime::from_system_time(now).map_err(|e| sys(e.to_string()))?;
        let tst = TstInfo {
            version: TspVersion::V1,
            policy: self.policy,
            message_imprint: req.message_imprint.clone(),
            serial_number: random_int(16),
            gen_time,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: req.nonce.clone(),
            tsa: None,
            extensions: None,
        };
        let content = tst.to_der().map_err(|e| sys(e.to_string()))?;
        let alg = self.key.algorithm();
        let digest = alg.hash().digest(&content);
        let p = cades::prepare(
            self.key.certificate(),
            alg,
            &AttributeInput {
                content_type: ID_CT_TST_INFO,
                content_digest: &digest,
                signing_time: None,
            },
        )
        .map_err(|e| sys(e.to_string()))?;
        let sig = self
            .key
            .sign_digest(&p.dtbs_digest)
            .map_err(|e| sys(e.to_string()))?;
        let chain: &[x509_cert::Certificate] = if req.cert_req { self.key.chain() } else { &[] };
        let der = cades::assemble(
            req.cert_req.then(|| self.key.certificate()),
            self.key.certificate(),
            chain,
            alg,
            p.attrs,
            sig,
            Some(&content),
            ID_CT_TST_INFO,
            None,
        )
        .map_err(|e| sys(e.to_string()))?;
        cms::content_info::ContentInfo::from_der(&der).map_err(|e| sys(e.to_string()))
    }
}

/// The unsigned attribute that makes a CMS signature B-T: a token over its signature value.
pub fn signature_timestamp_attribute(token_der: &[u8]) -> Result<x509_cert::attr::Attribute> {
    let mut values = der::asn1::SetOfVec::new();
    values.insert(Any::from_der(token_der)?)?;
    Ok(x509_cert::attr::Attribute {
        oid: ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        values,
    })
}
