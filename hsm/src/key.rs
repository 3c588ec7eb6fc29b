//! Keys and certificates on a token, and the small signing trait the rest of kyso sees.

use crate::alg::{check_len, digest_info, ecdsa_raw_to_der, Curve, KeyKind, SignatureAlgorithm};
use crate::error::{HsmError, Result};
use crate::token::{OpError, Token};
use crate::uri::{ObjectType, Pkcs11Uri};
use cryptoki::mechanism::rsa::PkcsPssParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use std::sync::{Arc, Mutex};
use x509_cert::Certificate;

/// Something that signs digests with one key. All that `signer/` and `archive/` see of a key.
pub trait SignDigest: Send + Sync {
    /// The algorithm this key signs with (scheme and digest).
    fn algorithm(&self) -> SignatureAlgorithm;
    /// The public key, as it goes into a certificate.
    fn public_key_info(&self) -> &SubjectPublicKeyInfoOwned;
    /// Sign a digest made with `algorithm().hash()`. The result is what goes into a CMS
    /// SignerInfo or an X.509 signature: PKCS#1 / PSS bytes, or DER `ECDSA-Sig-Value`.
    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>>;
    /// Hash `msg` with the algorithm's digest and sign it.
    fn sign_message(&self, msg: &[u8]) -> Result<Vec<u8>> {
        self.sign_digest(&self.algorithm().hash().digest(msg))
    }
}

/// A signing key with its certificate and the chain above it.
pub trait SigningKey: SignDigest {
    /// The signer's certificate.
    fn certificate(&self) -> &Certificate;
    /// Certificates above the signer's, nearest first (issuer, its issuer, …), as found.
    fn chain(&self) -> &[Certificate];
}

/// A private key on a token, found by URI; it may or may not have a certificate yet.
pub struct KeyPair {
    token: Arc<Token>,
    id: Vec<u8>,
    label: String,
    /// The label's bytes as the token holds them, for finding the key again: one not UTF-8
    /// (a vendor tool's Windows-1258 label) was found, then searched for as its lossy text
    /// and never found again (an attacker's reading, 2026-12-05).
    label_raw: Vec<u8>,
    kind: KeyKind,
    algorithm: SignatureAlgorithm,
    spki: SubjectPublicKeyInfoOwned,
    /// (pool generation, find, handle): handles are only good until the token reconnects, or
    /// until the key is looked for again (`finds` counts the lookups).
    handle: Mutex<Option<(u64, u64, ObjectHandle)>>,
    /// Lookups of the key on the token so far.
    finds: std::sync::atomic::AtomicU64,
    /// The (pool generation, find) whose first signature was checked against `spki`: a key
    /// found again is another object until a signature of it verifies. Never reset — a thread
    /// still holding a signature of the old object set it back over a new find, and the new
    /// object's signatures left unchecked (helper 185).
    checked: Mutex<Option<(u64, u64)>>,
    /// `spki` as OpenSSL reads it, for the check of every RSA signature (read once).
    rsa_public: std::sync::OnceLock<Option<openssl::pkey::PKey<openssl::pkey::Public>>>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("label", &self.label)
            .field("id", &hex::encode(&self.id))
            .field("kind", &self.kind)
            .finish()
    }
}

/// A private key with its certificate: what `kyso sign --key URI` uses.
#[derive(Debug)]
pub struct TokenKey {
    pair: KeyPair,
    certificate: Certificate,
    chain: Vec<Certificate>,
}

/// One object on the token, as `kyso token objects` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ObjectDescription {
    #[serde(rename = "type")]
    pub object_type: ObjectType,
    pub label: String,
    /// CKA_ID, hex.
    pub id: String,
    pub key: Option<KeyKind>,
    /// For certificates: subject, issuer, serial, validity.
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub serial: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub uri: String,
    /// For a certificate kyso cannot use: why (not DER, too large, not a certificate). It was
    /// listed as any other, and signing with it then failed (exit 15; helper 181).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unusable: Option<String>,
}

fn key_template(uri: &Pkcs11Uri, class: ObjectClass) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(l) = &uri.object {
        t.push(Attribute::Label(l.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

fn attr_bytes(attrs: &[Attribute], want: AttributeType) -> Option<Vec<u8>> {
    attrs.iter().find_map(|a| match (a, want) {
        (Attribute::Id(v), AttributeType::Id)
        | (Attribute::Label(v), AttributeType::Label)
        | (Attribute::Value(v), AttributeType::Value)
        | (Attribute::Modulus(v), AttributeType::Modulus)
        | (Attribute::PublicExponent(v), AttributeType::PublicExponent)
        | (Attribute::EcParams(v), AttributeType::EcParams)
        | (Attribute::EcPoint(v), AttributeType::EcPoint) => Some(v.clone()),
        _ => None,
    })
}

fn attr_key_type(attrs: &[Attribute]) -> Option<KeyType> {
    attrs.iter().find_map(|a| match a {
        Attribute::KeyType(k) => Some(*k),
        _ => None,
    })
}

/// Read the kind of a private or public key object.
/// The public keys of the private keys with CKA_ID `id` in an administration session (those
/// whose public key cannot be read are left out).
pub(crate) fn private_keys_with_id(
    s: &Session,
    id: &[u8],
) -> Result<Vec<(String, SubjectPublicKeyInfoOwned)>> {
    let op = |e: OpError| match e {
        OpError::Ck(e) => crate::error::ck(e),
        OpError::Hsm(e) => e,
    };
    let hits = s
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(id.to_vec()),
        ])
        .map_err(crate::error::ck)?;
    let mut out = Vec::new();
    for h in hits {
        let a = s
            .get_attributes(h, &[AttributeType::Label])
            .map_err(crate::error::ck)?;
        let label =
            String::from_utf8_lossy(&attr_bytes(&a, AttributeType::Label).unwrap_or_default())
                .into_owned();
        let kind = key_kind(s, h, &label).map_err(op)?;
        if let Ok(spki) = public_key_info(s, h, id, kind, &label) {
            out.push((label, spki));
        }
    }
    Ok(out)
}

fn key_kind(
    session: &Session,
    h: ObjectHandle,
    label: &str,
) -> std::result::Result<KeyKind, OpError> {
    let attrs = session.get_attributes(h, &[AttributeType::KeyType])?;
    match attr_key_type(&attrs) {
        Some(KeyType::RSA) => {
            let a = session.get_attributes(h, &[AttributeType::Modulus])?;
            let n = attr_bytes(&a, AttributeType::Modulus).unwrap_or_default();
            let bits = rsa::BigUint::from_bytes_be(&n).bits();
            Ok(KeyKind::Rsa { bits })
        }
        Some(KeyType::EC) => {
            let a = session.get_attributes(h, &[AttributeType::EcParams])?;
            let params = attr_bytes(&a, AttributeType::EcParams).unwrap_or_default();
            let curve = spki::ObjectIdentifier::from_der(&params)
                .ok()
                .and_then(|oid| Curve::from_oid(&oid))
                .ok_or_else(|| HsmError::UnsupportedKey {
                    key: label.to_string(),
                    reason: "EC key on a curve kyso does not sign with (P-256 and P-384 only)"
                        .into(),
                })?;
            Ok(KeyKind::Ec { curve })
        }
        other => Err(HsmError::UnsupportedKey {
            key: label.to_string(),
            reason: format!("key type {other:?} cannot sign here (RSA and EC only)"),
        }
        .into()),
    }
}

/// Largest certificate object kyso reads (a real one is a few KiB).
const MAX_CERTIFICATE_BYTES: usize = 64 << 10;

/// The RSA key sizes kyso signs with: Decree 23/2025 asks for 2048 bits or more; past 16384
/// no verifier is expected to follow.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=16384;

/// An RSA key's size, from its public key when the token hides the modulus of the private
/// key, held to [`RSA_BITS`]: RSA-1024 and RSA-1536 keys signed, and kyso's own verifier then
/// refused what it had made (an attacker's reading, 2026-12-05).
fn rsa_size_checked(kind: KeyKind, spki: &SubjectPublicKeyInfoOwned, key: &str) -> Result<KeyKind> {
    let KeyKind::Rsa { bits } = kind else {
        return Ok(kind);
    };
    let bits = if bits > 0 {
        bits
    } else {
        use rsa::traits::PublicKeyParts;
        spki.to_der()
            .ok()
            .and_then(|d| rsa::pkcs8::DecodePublicKey::from_public_key_der(&d).ok())
            .map_or(0, |k: rsa::RsaPublicKey| k.n().bits())
    };
    if !RSA_BITS.contains(&bits) {
        return Err(HsmError::UnsupportedKey {
            key: key.to_string(),
            reason: format!(
                "RSA-{bits}: kyso signs with RSA keys of {} to {} bits (Decree 23/2025 asks for 2048 or more)",
                RSA_BITS.start(),
                RSA_BITS.end()
            ),
        });
    }
    Ok(KeyKind::Rsa { bits })
}

/// The X.509 certificate objects on the token: (CKA_ID, label, parsed certificate), and those
/// kyso cannot read: (CKA_ID, label, why) — not DER, or over [`MAX_CERTIFICATE_BYTES`]. One
/// such object (a careless CA's leftover; or anyone's: a public object needs no PIN) stopped
/// every key on the token, and a 64 MiB one was read on every lookup (an attacker's reading,
/// 2026-12-05): it now matters only to the key whose CKA_ID it has.
#[allow(clippy::type_complexity)]
fn certificates(
    session: &Session,
) -> std::result::Result<
    (
        Vec<(Vec<u8>, String, Certificate)>,
        Vec<(Vec<u8>, String, String)>,
    ),
    OpError,
> {
    let (mut out, mut unreadable) = (Vec::new(), Vec::new());
    for h in session.find_objects(&[
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(cryptoki::object::CertificateType::X_509),
    ])? {
        let a = session.get_attributes(h, &[AttributeType::Id, AttributeType::Label])?;
        let id = attr_bytes(&a, AttributeType::Id).unwrap_or_default();
        let label =
            String::from_utf8_lossy(&attr_bytes(&a, AttributeType::Label).unwrap_or_default())
                .into_owned();
        let size = match session
            .get_attribute_info(h, &[AttributeType::Value])?
            .first()
        {
            Some(cryptoki::object::AttributeInfo::Available(n)) => *n,
            _ => 0,
        };
        if size > MAX_CERTIFICATE_BYTES {
            unreadable.push((id, label, format!("{size} bytes, more than a certificate")));
            continue;
        }
        let a = session.get_attributes(h, &[AttributeType::Value])?;
        let value = attr_bytes(&a, AttributeType::Value).unwrap_or_default();
        match der_certificate(&value) {
            Ok(cert) => out.push((id, label, cert)),
            Err(e) => unreadable.push((id, label, e)),
        }
    }
    Ok((out, unreadable))
}

/// Does `issuer`'s key verify `child`'s signature (OpenSSL: RSA, RSA-PSS, ECDSA)?
fn issued(child: &Certificate, issuer: &Certificate) -> bool {
    use der::Encode;
    let x509 = |c: &Certificate| {
        c.to_der()
            .ok()
            .and_then(|d| openssl::x509::X509::from_der(&d).ok())
    };
    let (Some(c), Some(i)) = (x509(child), x509(issuer)) else {
        return false;
    };
    i.public_key().and_then(|k| c.verify(&k)).unwrap_or(false)
}

/// Certificates above `leaf`, nearest first, chosen from `pool` by issuer = subject and a
/// signature that verifies: certificates are anyone's to add to a token without its PIN, and
/// one named like the CA, with another key, was taken for it (helper 176: B-LT signing then
/// failed, NO_CERTIFICATE_CHAIN_FOUND, as SoftHSM2 happened to list objects).
pub fn chain_for(leaf: &Certificate, pool: &[Certificate]) -> Vec<Certificate> {
    let mut chain: Vec<Certificate> = Vec::new();
    let mut cur = leaf.clone();
    while cur.tbs_certificate.issuer != cur.tbs_certificate.subject && chain.len() < 10 {
        let next = pool.iter().find(|c| {
            c.tbs_certificate.subject == cur.tbs_certificate.issuer
                && *c != &cur
                && !chain.contains(c)
                && issued(&cur, c)
        });
        match next {
            Some(c) => {
                chain.push(c.clone());
                cur = c.clone();
            }
            None => break,
        }
    }
    chain
}

impl KeyPair {
    /// Find the one private key the URI names on `token`.
    pub fn find(token: Arc<Token>, uri: &Pkcs11Uri) -> Result<KeyPair> {
        if let Some(t) = uri.object_type {
            if t != ObjectType::Private {
                return Err(HsmError::BadUri(format!(
                    "the URI asks for type={t:?}; a signing key is type=private"
                )));
            }
        }
        let label = token.label();
        let (id, key_label, label_raw, kind, spki) = token.with_session(|s, _| {
            let hits = s.find_objects(&key_template(uri, ObjectClass::PRIVATE_KEY))?;
            let h = match hits.len() {
                1 => hits[0],
                0 => {
                    return Err(HsmError::NoObject {
                        what: "private key",
                        token: label.clone(),
                        uri: uri.to_string(),
                    }
                    .into())
                }
                n => {
                    return Err(HsmError::AmbiguousKey {
                        count: n,
                        token: label.clone(),
                        uri: uri.to_string(),
                    }
                    .into())
                }
            };
            let a = s.get_attributes(h, &[AttributeType::Id, AttributeType::Label])?;
            let id = attr_bytes(&a, AttributeType::Id).unwrap_or_default();
            let label_raw = attr_bytes(&a, AttributeType::Label).unwrap_or_default();
            let key_label = String::from_utf8_lossy(&label_raw).into_owned();
            let kind = key_kind(s, h, &key_label)?;
            let spki = public_key_info(s, h, &id, kind, &key_label)?;
            Ok((id, key_label, label_raw, kind, spki))
        })?;
        let kind = rsa_size_checked(kind, &spki, &key_label)?;
        let algorithm = kind.default_algorithm();
        Ok(KeyPair {
            token,
            id,
            label: key_label,
            label_raw,
            kind,
            algorithm,
            spki,
            handle: Mutex::new(None),
            finds: std::sync::atomic::AtomicU64::new(0),
            checked: Mutex::new(None),
            rsa_public: std::sync::OnceLock::new(),
        })
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn id(&self) -> &[u8] {
        &self.id
    }

    pub fn token(&self) -> &Arc<Token> {
        &self.token
    }

    /// The URI that names exactly this key.
    pub fn uri(&self) -> Pkcs11Uri {
        let d = self.token.description();
        Pkcs11Uri {
            token: Some(d.label),
            serial: Some(d.serial),
            object: Some(self.label.clone()),
            id: Some(self.id.clone()),
            object_type: Some(ObjectType::Private),
            ..Default::default()
        }
    }

    /// Use another algorithm with this key (e.g. RSA-PSS, or SHA-384). Refused if the key cannot
    /// make it, or if the token does not offer the mechanism.
    pub fn set_algorithm(&mut self, alg: SignatureAlgorithm) -> Result<()> {
        if !alg.fits(self.kind) {
            return Err(HsmError::MechanismNotSupported {
                token: self.token.label(),
                mechanism: format!("{alg} with the {} key {:?}", self.kind, self.label),
            });
        }
        let wanted = match alg {
            SignatureAlgorithm::RsaPkcs1v15(_) => cryptoki::mechanism::MechanismType::RSA_PKCS,
            SignatureAlgorithm::RsaPss(_) => cryptoki::mechanism::MechanismType::RSA_PKCS_PSS,
            SignatureAlgorithm::Ecdsa(_) => cryptoki::mechanism::MechanismType::ECDSA,
        };
        if !self.token.mechanisms()?.contains(&wanted) {
            return Err(HsmError::MechanismNotSupported {
                token: self.token.label(),
                mechanism: format!(
                    "{alg} ({wanted}) for the {} key {:?}",
                    self.kind, self.label
                ),
            });
        }
        self.algorithm = alg;
        Ok(())
    }

    /// The key's handle and the lookup that found it.
    fn handle(
        &self,
        s: &Session,
        generation: u64,
    ) -> std::result::Result<(ObjectHandle, u64), OpError> {
        if let Some((g, f, h)) = *self.handle.lock().unwrap_or_else(|p| p.into_inner()) {
            if g == generation {
                return Ok((h, f));
            }
        }
        self.find_handle(s, generation)
    }

    /// Find the key on the token, whatever handle is cached, and cache what is found.
    fn find_handle(
        &self,
        s: &Session,
        generation: u64,
    ) -> std::result::Result<(ObjectHandle, u64), OpError> {
        let hits = s.find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(self.id.clone()),
            Attribute::Label(self.label_raw.clone()),
        ])?;
        let h = *hits.first().ok_or_else(|| HsmError::NoObject {
            what: "private key",
            token: self.token.label(),
            uri: self.uri().to_string(),
        })?;
        let find = self
            .finds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        *self.handle.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, find, h));
        Ok((h, find))
    }

    /// Find the certificate with the key's CKA_ID and the chain certificates on the token.
    /// Among the certificates with the key's CKA_ID, only those of this key's public key count
    /// (a certificate of another key under the same id was "not this key's certificate" even
    /// beside the right one); of several, the one valid now, else the newest; two different
    /// certificates valid now are refused — which one signs is no guess to make (an
    /// attacker's reading, 2026-12-05: an expired certificate kept on the token signed five
    /// times in six, picked by the token's object order).
    pub fn with_certificate(self) -> Result<TokenKey> {
        let (certs, unreadable) = self.token.with_session(|s, _| certificates(s))?;
        let with_id: Vec<&Certificate> = certs
            .iter()
            .filter(|(id, _, _)| *id == self.id)
            .map(|(_, _, c)| c)
            .collect();
        let mine: Vec<&Certificate> = with_id
            .iter()
            .copied()
            .filter(|c| c.tbs_certificate.subject_public_key_info == self.spki)
            .collect();
        let leaf = match (mine.as_slice(), with_id.first()) {
            ([], Some(other)) => {
                return Err(HsmError::NotTheKeysCertificate(format!(
                    "key {:?}: the certificate with its CKA_ID ({}) holds a different public key: not this key's certificate",
                    self.label,
                    other.tbs_certificate.subject
                )))
            }
            ([], None) => {
                if let Some((_, label, why)) = unreadable.iter().find(|(id, _, _)| *id == self.id)
                {
                    return Err(HsmError::BadCertificate {
                        label: label.clone(),
                        reason: why.clone(),
                    });
                }
                return Err(HsmError::KeyWithoutCertificate {
                    key: self.uri().to_string(),
                    token: self.token.label(),
                });
            }
            ([one], _) => (*one).clone(),
            (several, _) => choose_certificate(&self.label, several)?.clone(),
        };
        let others: Vec<Certificate> = certs.into_iter().map(|(_, _, c)| c).collect();
        let chain = chain_for(&leaf, &others);
        Ok(TokenKey {
            pair: self,
            certificate: leaf,
            chain,
        })
    }
}

/// Of several certificates of one key: the one valid now, else the newest. Two valid now
/// that are not the same certificate are refused: which one signs is no guess to make, and
/// "the newest" was anyone's to choose — a certificate of the key, the official's subject, a
/// later date, from any CA, written to the token without the PIN, was the one kyso signed with
/// (an attacker's reading, 2026-12-05).
fn choose_certificate<'a>(key: &str, certs: &[&'a Certificate]) -> Result<&'a Certificate> {
    let now = std::time::SystemTime::now();
    let mut valid_now: Vec<&'a Certificate> = Vec::new();
    for c in certs.iter().copied().filter(|c| {
        let v = &c.tbs_certificate.validity;
        v.not_before.to_system_time() <= now && now <= v.not_after.to_system_time()
    }) {
        if !valid_now.contains(&c) {
            valid_now.push(c);
        }
    }
    match valid_now.as_slice() {
        [one] => Ok(one),
        [] => certs
            .iter()
            .copied()
            .max_by_key(|c| c.tbs_certificate.validity.not_before.to_system_time())
            .ok_or_else(|| HsmError::UnsupportedKey {
                key: key.to_string(),
                reason: "no certificate".into(),
            }),
        several => Err(HsmError::UnsupportedKey {
            key: key.to_string(),
            reason: format!(
                "{} different certificates of this key under its CKA_ID are valid now ({}); remove the one that must not sign",
                several.len(),
                several
                    .iter()
                    .map(|c| format!(
                        "{} by {}",
                        c.tbs_certificate.subject, c.tbs_certificate.issuer
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }),
    }
}

/// The public key of a private key object: from the RSA modulus and exponent on the private
/// key; for EC, from the public key object with the same CKA_ID. Keys imported from PKCS#12
/// by vendor tools often come with no public key object (and some tokens hide the RSA
/// attributes): then from the certificate with the same CKA_ID.
fn public_key_info(
    s: &Session,
    h: ObjectHandle,
    id: &[u8],
    kind: KeyKind,
    label: &str,
) -> std::result::Result<SubjectPublicKeyInfoOwned, OpError> {
    let unsupported = |reason: String| -> OpError {
        HsmError::UnsupportedKey {
            key: label.to_string(),
            reason,
        }
        .into()
    };
    let own = match kind {
        KeyKind::Rsa { .. } => rsa_spki(s, h)?,
        KeyKind::Ec { curve } => {
            let pubs = s.find_objects(&[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::EC),
                Attribute::Id(id.to_vec()),
            ])?;
            // Public key objects are anyone's to add, no PIN asked: two that differ are
            // refused, not the first taken. One kyso cannot read (another curve, a malformed
            // point) is passed over, as an unreadable certificate is: it stopped the key (an
            // attacker's reading, 2026-12-05).
            let mut keys: Vec<SubjectPublicKeyInfoOwned> = Vec::new();
            for ph in pubs {
                let Ok(k) = ec_spki(s, ph, curve) else {
                    continue;
                };
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            if keys.len() > 1 {
                return Err(unsupported(format!(
                    "{} public key objects with this key's CKA_ID hold different keys",
                    keys.len()
                )));
            }
            keys.pop()
        }
    };
    let spki = match own {
        Some(spki) => spki,
        None => certificate_spki(s, id)?.ok_or_else(|| {
            unsupported(format!(
                "no {} public key on the token: neither a public key object nor a certificate with the same CKA_ID",
                match kind {
                    KeyKind::Rsa { .. } => "RSA",
                    KeyKind::Ec { .. } => "EC",
                }
            ))
        })?,
    };
    // A certificate's key must be of the kind of the private key it stands for.
    let fits = match kind {
        KeyKind::Rsa { .. } => spki.algorithm.oid == const_oid::db::rfc5912::RSA_ENCRYPTION,
        KeyKind::Ec { curve } => {
            spki.algorithm.oid == const_oid::db::rfc5912::ID_EC_PUBLIC_KEY
                && spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<spki::ObjectIdentifier>().ok())
                    == Some(curve.oid())
        }
    };
    if !fits {
        return Err(unsupported(format!(
            "the certificate with this key's CKA_ID holds a key of another type than the {kind} private key"
        )));
    }
    Ok(spki)
}

/// RSA public key from the modulus and exponent attributes of a key object (None if the
/// token does not show them).
fn rsa_spki(
    s: &Session,
    h: ObjectHandle,
) -> std::result::Result<Option<SubjectPublicKeyInfoOwned>, OpError> {
    let a = match s.get_attributes(h, &[AttributeType::Modulus, AttributeType::PublicExponent]) {
        Ok(a) => a,
        Err(_) => return Ok(None),
    };
    let (Some(n), Some(e)) = (
        attr_bytes(&a, AttributeType::Modulus).filter(|v| !v.is_empty()),
        attr_bytes(&a, AttributeType::PublicExponent).filter(|v| !v.is_empty()),
    ) else {
        return Ok(None);
    };
    let pk = match rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    ) {
        Ok(pk) => pk,
        Err(_) => return Ok(None),
    };
    let der = rsa::pkcs8::EncodePublicKey::to_public_key_der(&pk)
        .map_err(|e| OpError::Hsm(HsmError::Pkcs11(format!("RSA public key encoding: {e}"))))?;
    Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).ok())
}

/// EC public key from a public key object's CKA_EC_POINT.
fn ec_spki(
    s: &Session,
    ph: ObjectHandle,
    curve: Curve,
) -> std::result::Result<SubjectPublicKeyInfoOwned, String> {
    let a = s
        .get_attributes(ph, &[AttributeType::EcPoint])
        .map_err(|e| e.to_string())?;
    let wrapped = attr_bytes(&a, AttributeType::EcPoint).unwrap_or_default();
    // CKA_EC_POINT is DER OCTET STRING(ECPoint); some tokens omit the wrapper.
    let point = der::asn1::OctetString::from_der(&wrapped)
        .map(|o| o.into_bytes())
        .unwrap_or(wrapped);
    let der = match curve {
        Curve::P256 => p256::PublicKey::from_sec1_bytes(&point)
            .map_err(|e| format!("EC point: {e}"))
            .and_then(|k| {
                p256::pkcs8::EncodePublicKey::to_public_key_der(&k).map_err(|e| e.to_string())
            })?,
        Curve::P384 => p384::PublicKey::from_sec1_bytes(&point)
            .map_err(|e| format!("EC point: {e}"))
            .and_then(|k| {
                p384::pkcs8::EncodePublicKey::to_public_key_der(&k).map_err(|e| e.to_string())
            })?,
    };
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(|e| e.to_string())
}

/// The public key in the certificate with this CKA_ID, if the token holds one.
fn certificate_spki(
    s: &Session,
    id: &[u8],
) -> std::result::Result<Option<SubjectPublicKeyInfoOwned>, OpError> {
    let mut keys: Vec<SubjectPublicKeyInfoOwned> = Vec::new();
    for (_, _, c) in certificates(s)?
        .0
        .into_iter()
        .filter(|(cid, _, _)| cid == id)
    {
        let k = c.tbs_certificate.subject_public_key_info;
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    if keys.len() > 1 {
        return Err(HsmError::UnsupportedKey {
            key: format!(
                "with CKA_ID {}",
                id.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ),
            reason: format!(
                "the token shows no public key of its own, and {} certificates with its CKA_ID hold different public keys: which is this key's is no guess to make",
                keys.len()
            ),
        }
        .into());
    }
    Ok(keys.pop())
}

/// The public key an object URI names, read without logging in: from the certificates with
/// that label or id, and the public key objects. What an auditor needs to check checkpoints
/// signed with a key on the token. Certificates and public key objects are public objects,
/// which anyone who can open a session may add, no PIN asked: objects that match and hold
/// different keys are refused, not the first of them taken (an attacker's reading,
/// 2026-12-05: a certificate added under the log key's label swapped the auditor's key).
pub fn find_public_key(token: &Token, uri: &Pkcs11Uri) -> Result<SubjectPublicKeyInfoOwned> {
    let label = token.label();
    token.with_session(|s, _| {
        let mut keys: Vec<SubjectPublicKeyInfoOwned> = Vec::new();
        let mut unreadable = 0usize;
        let mut add = |k: SubjectPublicKeyInfoOwned| {
            if !keys.contains(&k) {
                keys.push(k);
            }
        };
        for h in s.find_objects(&key_template(uri, ObjectClass::CERTIFICATE))? {
            let size = match s.get_attribute_info(h, &[AttributeType::Value])?.first() {
                Some(cryptoki::object::AttributeInfo::Available(n)) => *n,
                _ => 0,
            };
            let c = (size <= MAX_CERTIFICATE_BYTES)
                .then(|| s.get_attributes(h, &[AttributeType::Value]))
                .transpose()?
                .and_then(|a| {
                    Certificate::from_der(&attr_bytes(&a, AttributeType::Value).unwrap_or_default())
                        .ok()
                });
            // An object that cannot be read names no key: it is passed over, as when signing,
            // not made to stop the audit (anyone may add one without the PIN). What is read
            // still has to agree, so passing it over swaps nothing.
            match c {
                Some(c) => add(c.tbs_certificate.subject_public_key_info),
                None => unreadable += 1,
            }
        }
        let obj_label = uri.object.clone().unwrap_or_default();
        for h in s.find_objects(&key_template(uri, ObjectClass::PUBLIC_KEY))? {
            let k = match key_kind(s, h, &obj_label) {
                Ok(KeyKind::Rsa { .. }) => rsa_spki(s, h).ok().flatten(),
                Ok(KeyKind::Ec { curve }) => ec_spki(s, h, curve).ok(),
                Err(_) => None,
            };
            match k {
                Some(k) => add(k),
                None => unreadable += 1,
            }
        }
        match keys.len() {
            0 if unreadable > 0 => Err(HsmError::BadCertificate {
                label: label.clone(),
                reason: format!(
                    "{unreadable} object(s) matching {uri} cannot be read, and no other holds a public key"
                ),
            }
            .into()),
            0 => Err(HsmError::NoObject {
                what: "certificate or public key",
                token: label.clone(),
                uri: uri.to_string(),
            }
            .into()),
            1 => Ok(keys.remove(0)),
            n => Err(HsmError::AmbiguousPublicKey {
                count: n,
                token: label.clone(),
                uri: uri.to_string(),
            }
            .into()),
        }
    })
}

impl SignDigest for KeyPair {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key_info(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let alg = self.algorithm;
        let hash = alg.hash();
        check_len(hash, digest)?;
        let (mechanism, input) = match alg {
            SignatureAlgorithm::RsaPkcs1v15(h) => (Mechanism::RsaPkcs, digest_info(h, digest)?),
            SignatureAlgorithm::RsaPss(h) => (
                Mechanism::RsaPkcsPss(PkcsPssParams {
                    hash_alg: h.mechanism(),
                    mgf: h.mgf1(),
                    s_len: (h.output_len() as u64).into(),
                }),
                digest.to_vec(),
            ),
            SignatureAlgorithm::Ecdsa(_) => (Mechanism::Ecdsa, digest.to_vec()),
        };
        let (raw, generation, find) = self.token.with_session(|s, generation| {
            let (h, find) = self.handle(s, generation)?;
            match s.sign(&mechanism, h, &input) {
                Ok(raw) => Ok((raw, generation, find)),
                // The object behind the handle found earlier is gone while the session lives
                // (SoftHSM2's token directory taken away, another program deleting the key):
                // found again, or said gone — each file of a batch failed with "object handle is
                // not valid", exit 19 (helper 176). The key found again is another lookup: its
                // first signature is checked before it leaves. (The stale handle stays cached
                // while the key is not found: each later file is said so too, not "no key
                // matches".)
                Err(e) if handle_gone(&e) => {
                    let (h, find) = match self.find_handle(s, generation) {
                        Err(OpError::Hsm(HsmError::NoObject { .. })) => {
                            return Err(OpError::Hsm(HsmError::KeyGone {
                                token: self.token.label(),
                                key: self.label.clone(),
                            }))
                        }
                        other => other?,
                    };
                    Ok((s.sign(&mechanism, h, &input)?, generation, find))
                }
                Err(e) => Err(e.into()),
            }
        })?;
        let sig = match self.kind {
            KeyKind::Ec { curve } => ecdsa_raw_to_der(curve, &raw)?,
            KeyKind::Rsa { .. } => raw,
        };
        // A signature is checked against the public key this key was found with (its
        // certificate's) before it leaves: every RSA one — a faulty RSA-CRT signature gives
        // the private key away to whoever holds it (Boneh–DeMillo–Lipton), and the check costs
        // a few hundredths of the token's signing — and the first ECDSA one of each
        // connection: a token put in the removed one's place under the same label signs with
        // another key, which nothing after would notice (found by an attacker's reading,
        // 2026-12-02).
        let checked = || self.checked.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(self.kind, KeyKind::Rsa { .. }) || *checked() != Some((generation, find)) {
            let spki = || {
                self.spki
                    .to_der()
                    .map_err(|e| HsmError::BadSignature(e.to_string()))
            };
            let sound = match self.kind {
                KeyKind::Rsa { .. } => {
                    let public = match self.rsa_public.get() {
                        Some(k) => k,
                        None => {
                            let k = crate::alg::rsa_public_key(&spki()?);
                            self.rsa_public.get_or_init(|| k)
                        }
                    };
                    public
                        .as_ref()
                        .is_some_and(|k| crate::alg::rsa_verifies(k, alg, digest, &sig))
                }
                KeyKind::Ec { .. } => crate::alg::verifies(&spki()?, alg, digest, &sig),
            };
            if !sound {
                return Err(HsmError::BadSignature(format!(
                    "the signature the token made with {:?} does not verify under that key's public key (another token in its place, or a faulty one); nothing is signed",
                    self.label
                )));
            }
            *checked() = Some((generation, find));
        }
        Ok(sig)
    }
}

/// The object a handle named is no longer there (PKCS#11 CKR_OBJECT_HANDLE_INVALID,
/// CKR_KEY_HANDLE_INVALID).
fn handle_gone(e: &cryptoki::error::Error) -> bool {
    matches!(
        crate::error::rv(e),
        Some(
            cryptoki::error::RvError::ObjectHandleInvalid
                | cryptoki::error::RvError::KeyHandleInvalid
        )
    )
}

impl TokenKey {
    /// Find the key the URI names, with its certificate and chain.
    pub fn find(token: Arc<Token>, uri: &Pkcs11Uri) -> Result<TokenKey> {
        KeyPair::find(token, uri)?.with_certificate()
    }

    pub fn key(&self) -> &KeyPair {
        &self.pair
    }

    /// Use another algorithm with this key; see [`KeyPair::set_algorithm`].
    pub fn set_algorithm(&mut self, alg: SignatureAlgorithm) -> Result<()> {
        self.pair.set_algorithm(alg)
    }
}

impl SignDigest for TokenKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.pair.algorithm
    }
    fn public_key_info(&self) -> &SubjectPublicKeyInfoOwned {
        &self.pair.spki
    }
    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>> {
        self.pair.sign_digest(digest)
    }
}

impl SigningKey for TokenKey {
    fn certificate(&self) -> &Certificate {
        &self.certificate
    }
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }
}

/// Every object on the token (private objects only when logged in).
pub fn list_objects(token: &Token) -> Result<Vec<ObjectDescription>> {
    let d = token.description();
    token.with_session(|s, _| {
        let mut out = Vec::new();
        for (class, ty) in [
            (ObjectClass::PRIVATE_KEY, ObjectType::Private),
            (ObjectClass::PUBLIC_KEY, ObjectType::Public),
            (ObjectClass::CERTIFICATE, ObjectType::Cert),
            (ObjectClass::SECRET_KEY, ObjectType::SecretKey),
            (ObjectClass::DATA, ObjectType::Data),
        ] {
            for h in s.find_objects(&[Attribute::Class(class)])? {
                let a = s.get_attributes(h, &[AttributeType::Id, AttributeType::Label])?;
                let id = attr_bytes(&a, AttributeType::Id).unwrap_or_default();
                let label = String::from_utf8_lossy(
                    &attr_bytes(&a, AttributeType::Label).unwrap_or_default(),
                )
                .into_owned();
                let key = match ty {
                    ObjectType::Private | ObjectType::Public => key_kind(s, h, &label).ok(),
                    _ => None,
                };
                let mut o = ObjectDescription {
                    object_type: ty,
                    uri: Pkcs11Uri {
                        token: Some(d.label.clone()),
                        object: Some(label.clone()),
                        id: Some(id.clone()),
                        object_type: Some(ty),
                        ..Default::default()
                    }
                    .to_string(),
                    label,
                    id: hex::encode(&id),
                    key,
                    subject: None,
                    issuer: None,
                    serial: None,
                    not_before: None,
                    not_after: None,
                    unusable: None,
                };
                let size = match s.get_attribute_info(h, &[AttributeType::Value])?.first() {
                    Some(cryptoki::object::AttributeInfo::Available(n)) => *n,
                    _ => 0,
                };
                if ty == ObjectType::Cert && size > MAX_CERTIFICATE_BYTES {
                    o.unusable = Some(format!(
                        "{size} bytes, over the {MAX_CERTIFICATE_BYTES} kyso reads"
                    ));
                }
                if ty == ObjectType::Cert && size <= MAX_CERTIFICATE_BYTES {
                    let v = s.get_attributes(h, &[AttributeType::Value])?;
                    let der = attr_bytes(&v, AttributeType::Value).unwrap_or_default();
                    o.unusable = der_certificate(&der).err();
                    if let Ok(c) = Certificate::from_der(&der) {
                        let t = &c.tbs_certificate;
                        o.subject = Some(t.subject.to_string());
                        o.issuer = Some(t.issuer.to_string());
                        o.serial = Some(hex::encode(t.serial_number.as_bytes()));
                        o.not_before = Some(t.validity.not_before.to_string());
                        o.not_after = Some(t.validity.not_after.to_string());
                    }
                }
                out.push(o);
            }
        }
        Ok(out)
    })
}

/// DER of a certificate, for writing out.
pub fn certificate_der(c: &Certificate) -> Result<Vec<u8>> {
    c.to_der().map_err(|e| HsmError::BadCertificate {
        label: c.tbs_certificate.subject.to_string(),
        reason: e.to_string(),
    })
}

/// PEM of a certificate, for writing out.
pub fn certificate_pem(c: &Certificate) -> Result<String> {
    der::EncodePem::to_pem(c, der::pem::LineEnding::LF).map_err(|e| HsmError::BadCertificate {
        label: c.tbs_certificate.subject.to_string(),
        reason: e.to_string(),
    })
}

/// Parse a certificate given as PEM (read leniently, as OpenSSL does: any line length, CRLF)
/// or DER.
pub fn parse_certificate(bytes: &[u8]) -> std::result::Result<Certificate, String> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let block = pem::parse_many(bytes)
            .map_err(|e| format!("PEM certificate: {e}"))?
            .into_iter()
            .find(|p| p.tag() == "CERTIFICATE")
            .ok_or("PEM certificate: no CERTIFICATE block")?;
        der_certificate(block.contents()).map_err(|e| format!("PEM certificate: {e}"))
    } else {
        der_certificate(bytes).map_err(|e| format!("DER certificate: {e}"))
    }
}

/// A certificate that is DER as kyso writes it back: one read with a value DER leaves out
/// written anyway (`critical FALSE`) was stored and embedded re-encoded, and its signature no
/// longer held, nor did the check that its issuer signed it (helper 179).
pub fn der_certificate(bytes: &[u8]) -> std::result::Result<Certificate, String> {
    let c = Certificate::from_der(bytes).map_err(|e| e.to_string())?;
    match c.to_der() {
        Ok(again) if again == bytes => Ok(c),
        _ => Err(
            "not DER: a value is written otherwise than DER writes it (a default written out, such as critical FALSE, or a set out of order); its signature would not hold as kyso writes it back"
                .into(),
        ),
    }
}
