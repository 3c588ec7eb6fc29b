//! Signature verification over SubjectPublicKeyInfo and AlgorithmIdentifier, with the
//! cryptographic policy of Decree 23/2025 / Circular 15/2025 as kyso reads it: RSA ≥ 2048,
//! ECDSA ≥ 256 (P-256, P-384), SHA-2; SHA-1 and MD5 are refused as too weak.

use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use signature::hazmat::PrehashVerifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// A digest algorithm kyso knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Hash> {
        Some(match *oid {
            rfc5912::ID_SHA_1 => Hash::Sha1,
            rfc5912::ID_SHA_256 => Hash::Sha256,
            rfc5912::ID_SHA_384 => Hash::Sha384,
            rfc5912::ID_SHA_512 => Hash::Sha512,
            _ => return None,
        })
    }

    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        use sha2::Digest;
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            Hash::Sha1 => run::<sha1::Sha1>(parts),
            Hash::Sha256 => run::<sha2::Sha256>(parts),
            Hash::Sha384 => run::<sha2::Sha384>(parts),
            Hash::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    /// A running digest of this algorithm, for data that arrives in pieces (a file read in
    /// chunks: nothing needs to be in memory whole).
    pub fn running(self) -> Box<dyn sha2::digest::DynDigest> {
        match self {
            Hash::Sha1 => Box::new(sha1::Sha1::default()),
            Hash::Sha256 => Box::new(sha2::Sha256::default()),
            Hash::Sha384 => Box::new(sha2::Sha384::default()),
            Hash::Sha512 => Box::new(sha2::Sha512::default()),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Hash::Sha1 => "SHA-1",
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoFail {
    /// The algorithm or key is not one kyso verifies (FORMAT_FAILURE).
    Unsupported(String),
    /// Too weak by policy (CRYPTO_CONSTRAINTS_FAILURE).
    Weak(String),
    /// The signature value does not match (SIG_CRYPTO_FAILURE).
    Invalid(String),
}

impl std::fmt::Display for CryptoFail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CryptoFail::Unsupported(s) | CryptoFail::Weak(s) | CryptoFail::Invalid(s) => {
                f.write_str(s)
            }
        }
    }
}

/// `RSASSA-PSS-params` (RFC 4055 §3.1); only the hash matters for verification (MGF1 with the
/// same hash is what kyso accepts; the salt length is read from the signature).
#[derive(der::Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mgf: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer: Option<u32>,
}

/// id-Ed25519 and id-Ed448 (RFC 8410).
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ID_ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");

enum Scheme {
    Pkcs1(Hash),
    /// Hash and salt length (RFC 4055 §3.1: default 20).
    Pss(Hash, usize),
    Ecdsa(Hash),
}

/// Work out the scheme from a signature algorithm identifier, falling back to `digest` for
/// the bare `rsaEncryption` / `id-ecPublicKey` that CMS allows (RFC 3370 §3.2, RFC 5753).
fn scheme(alg: &AlgorithmIdentifierOwned, digest: Option<Hash>) -> Result<Scheme, CryptoFail> {
    let need =
        |d: Option<Hash>| d.ok_or_else(|| CryptoFail::Unsupported("no digest algorithm".into()));
    Ok(match alg.oid {
        rfc5912::RSA_ENCRYPTION => Scheme::Pkcs1(need(digest)?),
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha1),
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha256),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha384),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha512),
        rfc5912::ID_RSASSA_PSS => {
            let params = alg
                .parameters
                .as_ref()
                .and_then(|p| p.to_der().ok())
                .and_then(|d| PssParams::from_der(&d).ok())
                .ok_or_else(|| {
                    CryptoFail::Unsupported("RSASSA-PSS without readable parameters".into())
                })?;
            let h = match params.hash {
                None => Hash::Sha1, // RFC 4055 default
                Some(h) => Hash::from_oid(&h.oid)
                    .ok_or_else(|| CryptoFail::Unsupported(format!("PSS hash {}", h.oid)))?,
            };
            if let Some(m) = &params.mgf {
                let inner = m
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
                    .and_then(|a| Hash::from_oid(&a.oid));
                if m.oid != rfc5912::ID_MGF_1 || inner != Some(h) {
                    return Err(CryptoFail::Unsupported(
                        "PSS with a mask generation other than MGF1 over the same hash".into(),
                    ));
                }
            }
            Scheme::Pss(h, params.salt.unwrap_or(20) as usize)
        }
        rfc5912::ECDSA_WITH_SHA_256 => Scheme::Ecdsa(Hash::Sha256),
        rfc5912::ECDSA_WITH_SHA_384 => Scheme::Ecdsa(Hash::Sha384),
        rfc5912::ECDSA_WITH_SHA_512 => Scheme::Ecdsa(Hash::Sha512),
        rfc5912::ECDSA_WITH_SHA_224 => {
            return Err(CryptoFail::Unsupported(
                "ECDSA with SHA-224 is not verified".into(),
            ))
        }
        rfc5912::ID_EC_PUBLIC_KEY => Scheme::Ecdsa(need(digest)?),
        o if o == ObjectIdentifier::new_unwrap("1.2.840.10045.4.1") => Scheme::Ecdsa(Hash::Sha1),
        rfc5912::MD_5_WITH_RSA_ENCRYPTION => {
            return Err(CryptoFail::Unsupported(
                "RSA with MD5 is not verified".into(),
            ))
        }
        o if o == ID_ED25519 || o == ID_ED448 => {
            return Err(CryptoFail::Unsupported(
                "EdDSA signatures are not verified by kyso".into(),
            ))
        }
        other => {
            return Err(CryptoFail::Unsupported(format!(
                "signature algorithm {other}"
            )))
        }
    })
}

/// The family of keys a signature algorithm, or a public key, is of.
fn family(oid: &ObjectIdentifier) -> Option<&'static str> {
    Some(match *oid {
        rfc5912::RSA_ENCRYPTION
        | rfc5912::ID_RSASSA_PSS
        | rfc5912::SHA_1_WITH_RSA_ENCRYPTION
        | rfc5912::SHA_224_WITH_RSA_ENCRYPTION
        | rfc5912::SHA_256_WITH_RSA_ENCRYPTION
        | rfc5912::SHA_384_WITH_RSA_ENCRYPTION
        | rfc5912::SHA_512_WITH_RSA_ENCRYPTION
        | rfc5912::MD_5_WITH_RSA_ENCRYPTION => "RSA",
        rfc5912::ID_EC_PUBLIC_KEY
        | rfc5912::ECDSA_WITH_SHA_224
        | rfc5912::ECDSA_WITH_SHA_256
        | rfc5912::ECDSA_WITH_SHA_384
        | rfc5912::ECDSA_WITH_SHA_512 => "ECDSA",
        o if o == ObjectIdentifier::new_unwrap("1.2.840.10045.4.1") => "ECDSA",
        o if o == ID_ED25519 => "Ed25519",
        o if o == ID_ED448 => "Ed448",
        _ => return None,
    })
}

/// The hash a signature algorithm uses (for a time-stamp imprint check, say).
pub fn scheme_hash(alg: &AlgorithmIdentifierOwned, digest: Option<Hash>) -> Option<Hash> {
    match scheme(alg, digest).ok()? {
        Scheme::Pkcs1(h) | Scheme::Pss(h, _) | Scheme::Ecdsa(h) => Some(h),
    }
}

/// Verify `signature` over `message` with `spki`. The message is hashed here.
///
/// The mathematics come first: a signature that does not verify is `Invalid` whatever its
/// algorithm, and only a sound one made with a weak algorithm (SHA-1, RSA below 2048 bits) is
/// `Weak`. Algorithms kyso cannot verify (Ed25519, P-521, RSA above 8192 bits, MD5) are
/// `Unsupported`.
pub fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest: Option<Hash>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoFail> {
    verify_either(spki, alg, digest, Signed::Message(message), signature)
}

/// [`verify`] of a signature over a message given by its `digest` (by the algorithm
/// [`scheme_hash`] names): hashed once for several keys, such as the look-alike certificates
/// of a SignerInfo without signed attributes (16 SignerInfos each trying 16 hashed a 64 MiB
/// document 270 times; helper 242). Verified with RustCrypto, which takes a digest.
pub fn verify_digest(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest: Option<Hash>,
    message_digest: &[u8],
    signature: &[u8],
) -> Result<(), CryptoFail> {
    verify_either(spki, alg, digest, Signed::Digest(message_digest), signature)
}

/// What a signature is checked over.
#[derive(Clone, Copy)]
enum Signed<'a> {
    Message(&'a [u8]),
    Digest(&'a [u8]),
}

fn verify_either(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest: Option<Hash>,
    message: Signed<'_>,
    signature: &[u8],
) -> Result<(), CryptoFail> {
    // An algorithm of another family than the key's cannot have made a sound signature with
    // it: a signature of zeros under an RSA certificate, labelled ECDSA or Ed25519, was left
    // undecided ("an EC key on a curve other than P-256 or P-384", "EdDSA signatures are not
    // verified") where the same zeros labelled RSA failed (helper 242).
    if let (Some(a), Some(k)) = (family(&alg.oid), family(&spki.algorithm.oid)) {
        if a != k {
            return Err(CryptoFail::Invalid(format!(
                "the signature algorithm is {a}, the signer's key {k}: no such signature is sound"
            )));
        }
    }
    let s = scheme(alg, digest)?;
    let h = match s {
        Scheme::Pkcs1(h) | Scheme::Pss(h, _) | Scheme::Ecdsa(h) => h,
    };
    let invalid = || {
        CryptoFail::Invalid(
            "the signature value does not match the signed data and the public key".into(),
        )
    };
    let sound = match message {
        Signed::Message(m) => match ring_verify(spki, &s, m, signature) {
            Some(ok) => ok,
            None => rustcrypto_verify(spki, &s, h, &h.digest(&[m]), signature)?,
        },
        Signed::Digest(d) => rustcrypto_verify(spki, &s, h, d, signature)?,
    };
    if !sound {
        return Err(invalid());
    }
    if let Some(w) = weakness(spki, alg).or_else(|| {
        (h == Hash::Sha1).then(|| "SHA-1 signatures are not accepted (SHA-2 required)".into())
    }) {
        return Err(CryptoFail::Weak(format!(
            "{w} (the signature itself is sound)"
        )));
    }
    Ok(())
}

/// Largest RSA modulus kyso verifies (ring's limit too).
const RSA_MAX_BITS: usize = 8192;

/// RustCrypto for what ring does not do: RSA below 2048 bits (to tell a sound weak signature
/// from a broken one), PSS with other salt lengths, SHA-1.
fn rustcrypto_verify(
    spki: &SubjectPublicKeyInfoOwned,
    s: &Scheme,
    h: Hash,
    d: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoFail> {
    if d.len() != h.digest(&[]).len() {
        return Ok(false);
    }
    let spki_der = spki
        .to_der()
        .map_err(|e| CryptoFail::Unsupported(e.to_string()))?;
    match s {
        Scheme::Pkcs1(_) | Scheme::Pss(..) => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            if spki.algorithm.oid != rfc5912::RSA_ENCRYPTION
                && spki.algorithm.oid != rfc5912::ID_RSASSA_PSS
            {
                return Err(CryptoFail::Unsupported(format!(
                    "an RSA signature algorithm with a {} key",
                    spki.algorithm.oid
                )));
            }
            let key = spki
                .subject_public_key
                .as_bytes()
                .ok_or_else(|| CryptoFail::Unsupported("RSA key is not whole bytes".into()))?;
            let bits = rsa_modulus_bits(key).unwrap_or(0);
            if bits > RSA_MAX_BITS {
                return Err(CryptoFail::Unsupported(format!(
                    "RSA-{bits}: keys above {RSA_MAX_BITS} bits are not verified"
                )));
            }
            let pk = rsa::RsaPublicKey::from_pkcs1_der(key)
                .ok()
                .and_then(|k| {
                    rsa::RsaPublicKey::new_with_max_size(k.n().clone(), k.e().clone(), RSA_MAX_BITS)
                        .ok()
                })
                .ok_or_else(|| {
                    CryptoFail::Unsupported("the RSA public key does not parse".into())
                })?;
            let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
                return Ok(false);
            };
            let pss = rsa::pss::Signature::try_from(signature).ok();
            macro_rules! both {
                ($d:ty) => {
                    match s {
                        Scheme::Pkcs1(_) => rsa::pkcs1v15::VerifyingKey::<$d>::new(pk)
                            .verify_prehash(d, &sig)
                            .is_ok(),
                        Scheme::Pss(_, salt) => pss.is_some_and(|p| {
                            rsa::pss::VerifyingKey::<$d>::new_with_salt_len(pk, *salt)
                                .verify_prehash(d, &p)
                                .is_ok()
                        }),
                        Scheme::Ecdsa(_) => false,
                    }
                };
            }
            Ok(match h {
                Hash::Sha1 => both!(sha1::Sha1),
                Hash::Sha256 => both!(sha2::Sha256),
                Hash::Sha384 => both!(sha2::Sha384),
                Hash::Sha512 => both!(sha2::Sha512),
            })
        }
        Scheme::Ecdsa(_) => {
            if let Ok(vk) =
                <p256::ecdsa::VerifyingKey as p256::pkcs8::DecodePublicKey>::from_public_key_der(
                    &spki_der,
                )
            {
                let Ok(sig) = p256::ecdsa::DerSignature::try_from(signature) else {
                    return Ok(false);
                };
                Ok(vk.verify_prehash(d, &sig).is_ok())
            } else if let Ok(vk) =
                <p384::ecdsa::VerifyingKey as p384::pkcs8::DecodePublicKey>::from_public_key_der(
                    &spki_der,
                )
            {
                let Ok(sig) = p384::ecdsa::DerSignature::try_from(signature) else {
                    return Ok(false);
                };
                Ok(vk.verify_prehash(d, &sig).is_ok())
            } else {
                Err(CryptoFail::Unsupported(
                    "an EC key on a curve other than P-256 or P-384".into(),
                ))
            }
        }
    }
}

/// Verify with ring (BoringSSL's assembly, the provider rustls uses) where it has the exact
/// algorithm: RSA PKCS#1 v1.5 and PSS with salt = hash length (2048–8192 bits), ECDSA P-256 and
/// P-384 with SHA-256/384. `None` means ring cannot judge it and RustCrypto does.
fn ring_verify(
    spki: &SubjectPublicKeyInfoOwned,
    s: &Scheme,
    message: &[u8],
    signature: &[u8],
) -> Option<bool> {
    use ring::signature as rs;
    let key = spki.subject_public_key.as_bytes()?;
    let alg: &dyn rs::VerificationAlgorithm = match (spki.algorithm.oid, s) {
        (rfc5912::RSA_ENCRYPTION, Scheme::Pkcs1(Hash::Sha256)) => &rs::RSA_PKCS1_2048_8192_SHA256,
        (rfc5912::RSA_ENCRYPTION, Scheme::Pkcs1(Hash::Sha384)) => &rs::RSA_PKCS1_2048_8192_SHA384,
        (rfc5912::RSA_ENCRYPTION, Scheme::Pkcs1(Hash::Sha512)) => &rs::RSA_PKCS1_2048_8192_SHA512,
        (rfc5912::RSA_ENCRYPTION, Scheme::Pss(Hash::Sha256, 32)) => &rs::RSA_PSS_2048_8192_SHA256,
        (rfc5912::RSA_ENCRYPTION, Scheme::Pss(Hash::Sha384, 48)) => &rs::RSA_PSS_2048_8192_SHA384,
        (rfc5912::RSA_ENCRYPTION, Scheme::Pss(Hash::Sha512, 64)) => &rs::RSA_PSS_2048_8192_SHA512,
        (rfc5912::ID_EC_PUBLIC_KEY, Scheme::Ecdsa(h)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()?
                .decode_as::<ObjectIdentifier>()
                .ok()?;
            match (curve, h) {
                (rfc5912::SECP_256_R_1, Hash::Sha256) => &rs::ECDSA_P256_SHA256_ASN1,
                (rfc5912::SECP_256_R_1, Hash::Sha384) => &rs::ECDSA_P256_SHA384_ASN1,
                (rfc5912::SECP_384_R_1, Hash::Sha256) => &rs::ECDSA_P384_SHA256_ASN1,
                (rfc5912::SECP_384_R_1, Hash::Sha384) => &rs::ECDSA_P384_SHA384_ASN1,
                _ => return None,
            }
        }
        _ => return None,
    };
    if spki.algorithm.oid == rfc5912::RSA_ENCRYPTION {
        // Below 2048 bits ring refuses; let the policy check below say why.
        let n_bits = rsa_modulus_bits(key)?;
        if !(2048..=8192).contains(&n_bits) {
            return None;
        }
    }
    Some(
        rs::UnparsedPublicKey::new(alg, key)
            .verify(message, signature)
            .is_ok(),
    )
}

/// Bits of the modulus of a PKCS#1 RSAPublicKey.
fn rsa_modulus_bits(key: &[u8]) -> Option<usize> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        _public_exponent: der::asn1::UintRef<'a>,
    }
    let k = RsaPublicKey::from_der(key).ok()?;
    let b = k.modulus.as_bytes();
    let lead = b
        .first()
        .map(|x| 8 - x.leading_zeros() as usize)
        .unwrap_or(0);
    Some(b.len().saturating_sub(1) * 8 + lead)
}

/// Why a signature made with `alg` under `spki` is too weak by policy, without verifying it:
/// SHA-1 or MD5, or RSA below 2048 bits.
pub fn weakness(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
) -> Option<String> {
    match scheme(alg, None) {
        Err(CryptoFail::Weak(w)) => return Some(w),
        Ok(Scheme::Pkcs1(Hash::Sha1) | Scheme::Pss(Hash::Sha1, _) | Scheme::Ecdsa(Hash::Sha1)) => {
            return Some("SHA-1 signatures are not accepted (SHA-2 required)".into())
        }
        _ => {}
    }
    // An RSA key under either identifier: rsaEncryption, or id-RSASSA-PSS (RFC 4055 §1.2), which
    // the verification accepts too (an RSA-PSS-512 key passed, found by an attacker's reading,
    // 2026-12-02). A modulus that cannot be read is no key to accept.
    if spki.algorithm.oid == rfc5912::RSA_ENCRYPTION || spki.algorithm.oid == rfc5912::ID_RSASSA_PSS
    {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .and_then(rsa_modulus_bits);
        match bits {
            Some(bits) if bits < 2048 => {
                return Some(format!("RSA-{bits} is below the 2048 bits required"))
            }
            None => return Some("the RSA public key's modulus cannot be read".into()),
            Some(_) => {}
        }
    }
    None
}
