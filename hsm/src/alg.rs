//! Digest and signature algorithms, and the encodings a token needs around them.
//!
//! A token signs what it is given: for RSA PKCS#1 v1.5 (`CKM_RSA_PKCS`) that is the DER
//! `DigestInfo` of RFC 8017 §9.2, which we build; for RSA-PSS (`CKM_RSA_PKCS_PSS`) and ECDSA
//! (`CKM_ECDSA`) the bare digest. ECDSA tokens return `r‖s` (PKCS#11 §2.3.1), which CMS and X.509
//! want as `ECDSA-Sig-Value` DER (RFC 5480 §2.2 / RFC 3279 §2.2.3).

use crate::error::{HsmError, Result};
use const_oid::db::rfc5912;
use der::{asn1::OctetStringRef, Any, Encode, Sequence};
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, AlgorithmIdentifierRef, ObjectIdentifier};

/// A SHA-2 digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum HashAlg {
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-384")]
    Sha384,
    #[serde(rename = "SHA-512")]
    Sha512,
}

impl HashAlg {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// The digest's OID (NIST, RFC 5754 §2).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlg::Sha256 => rfc5912::ID_SHA_256,
            HashAlg::Sha384 => rfc5912::ID_SHA_384,
            HashAlg::Sha512 => rfc5912::ID_SHA_512,
        }
    }

    /// `AlgorithmIdentifier` for the digest, parameters absent (RFC 5754 §2).
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// Hash a message.
    pub fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => sha2::Sha256::digest(msg).to_vec(),
            HashAlg::Sha384 => sha2::Sha384::digest(msg).to_vec(),
            HashAlg::Sha512 => sha2::Sha512::digest(msg).to_vec(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
        }
    }

    /// Parse `sha256`, `SHA-256`, … .
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Some(HashAlg::Sha256),
            "sha384" => Some(HashAlg::Sha384),
            "sha512" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    pub(crate) fn mechanism(self) -> cryptoki::mechanism::MechanismType {
        use cryptoki::mechanism::MechanismType as M;
        match self {
            HashAlg::Sha256 => M::SHA256,
            HashAlg::Sha384 => M::SHA384,
            HashAlg::Sha512 => M::SHA512,
        }
    }

    pub(crate) fn mgf1(self) -> cryptoki::mechanism::rsa::PkcsMgfType {
        use cryptoki::mechanism::rsa::PkcsMgfType as G;
        match self {
            HashAlg::Sha256 => G::MGF1_SHA256,
            HashAlg::Sha384 => G::MGF1_SHA384,
            HashAlg::Sha512 => G::MGF1_SHA512,
        }
    }
}

/// A named elliptic curve kyso signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Curve {
    #[serde(rename = "P-256")]
    P256,
    #[serde(rename = "P-384")]
    P384,
}

impl Curve {
    /// The curve's OID (RFC 5480 §2.1.1.1).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Curve::P256 => rfc5912::SECP_256_R_1,
            Curve::P384 => rfc5912::SECP_384_R_1,
        }
    }

    /// Length of one coordinate / scalar in bytes.
    pub fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [Curve::P256, Curve::P384]
            .into_iter()
            .find(|c| &c.oid() == oid)
    }
}

/// What kind of key sits on the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type")]
pub enum KeyKind {
    #[serde(rename = "RSA")]
    Rsa { bits: usize },
    #[serde(rename = "EC")]
    Ec { curve: Curve },
}

impl KeyKind {
    /// The algorithm kyso uses with this key unless told otherwise: RSA PKCS#1 v1.5 with SHA-256
    /// (what Vietnamese government PDFs carry), ECDSA with the curve's matching hash.
    pub fn default_algorithm(self) -> SignatureAlgorithm {
        match self {
            KeyKind::Rsa { .. } => SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256),
            KeyKind::Ec { curve: Curve::P256 } => SignatureAlgorithm::Ecdsa(HashAlg::Sha256),
            KeyKind::Ec { curve: Curve::P384 } => SignatureAlgorithm::Ecdsa(HashAlg::Sha384),
        }
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyKind::Ec { curve: Curve::P256 } => write!(f, "EC P-256"),
            KeyKind::Ec { curve: Curve::P384 } => write!(f, "EC P-384"),
        }
    }
}

/// A signature algorithm: scheme and digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
    RsaPkcs1v15(HashAlg),
    /// RSASSA-PSS (RFC 8017 §8.1), MGF1 with the same hash, salt length = hash length.
    RsaPss(HashAlg),
    /// ECDSA (FIPS 186-5), signature as DER `ECDSA-Sig-Value`.
    Ecdsa(HashAlg),
}

impl SignatureAlgorithm {
    pub fn hash(self) -> HashAlg {
        match self {
            SignatureAlgorithm::RsaPkcs1v15(h)
            | SignatureAlgorithm::RsaPss(h)
            | SignatureAlgorithm::Ecdsa(h) => h,
        }
    }

    /// Parse names like `rsa-pkcs1-sha256`, `rsa-pss-sha384`, `ecdsa-sha256`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.to_ascii_lowercase();
        let at = s.rfind("sha")?;
        let (scheme, hash) = (s[..at].trim_end_matches(['-', '_']), &s[at..]);
        let h = HashAlg::parse(hash)?;
        match scheme {
            "rsa-pkcs1" | "rsa" | "rsa-pkcs1v15" => Some(SignatureAlgorithm::RsaPkcs1v15(h)),
            "rsa-pss" | "pss" => Some(SignatureAlgorithm::RsaPss(h)),
            "ecdsa" | "ec" => Some(SignatureAlgorithm::Ecdsa(h)),
            _ => None,
        }
    }

    /// Can a key of this kind make this signature?
    pub fn fits(self, kind: KeyKind) -> bool {
        matches!(
            (self, kind),
            (
                SignatureAlgorithm::RsaPkcs1v15(_) | SignatureAlgorithm::RsaPss(_),
                KeyKind::Rsa { .. }
            ) | (SignatureAlgorithm::Ecdsa(_), KeyKind::Ec { .. })
        )
    }

    /// The `AlgorithmIdentifier` that goes into a CMS SignerInfo or an X.509 certificate next
    /// to a signature made with this algorithm.
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        match self {
            SignatureAlgorithm::RsaPkcs1v15(h) => AlgorithmIdentifierOwned {
                // RFC 4055 §5: parameters MUST be NULL.
                oid: match h {
                    HashAlg::Sha256 => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
                    HashAlg::Sha384 => rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
                    HashAlg::Sha512 => rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
                },
                parameters: Some(Any::null()),
            },
            SignatureAlgorithm::RsaPss(h) => {
                let params = RsaPssParams::for_hash(h);
                AlgorithmIdentifierOwned {
                    oid: rfc5912::ID_RSASSA_PSS,
                    parameters: Some(
                        Any::encode_from(&params).expect("RSASSA-PSS-params always encode"),
                    ),
                }
            }
            SignatureAlgorithm::Ecdsa(h) => AlgorithmIdentifierOwned {
                // RFC 5758 §3.2: parameters absent.
                oid: match h {
                    HashAlg::Sha256 => rfc5912::ECDSA_WITH_SHA_256,
                    HashAlg::Sha384 => rfc5912::ECDSA_WITH_SHA_384,
                    HashAlg::Sha512 => rfc5912::ECDSA_WITH_SHA_512,
                },
                parameters: None,
            },
        }
    }

    /// DER of [`Self::algorithm_identifier`].
    pub fn algorithm_identifier_der(self) -> Vec<u8> {
        self.algorithm_identifier()
            .to_der()
            .expect("algorithm identifiers always encode")
    }

    pub fn name(self) -> String {
        match self {
            SignatureAlgorithm::RsaPkcs1v15(h) => format!("RSA PKCS#1 v1.5 with {}", h.name()),
            SignatureAlgorithm::RsaPss(h) => format!("RSA-PSS with {}", h.name()),
            SignatureAlgorithm::Ecdsa(h) => format!("ECDSA with {}", h.name()),
        }
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl serde::Serialize for SignatureAlgorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// `DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }`
/// (RFC 8017 §9.2, step 2). The algorithm's parameters are NULL, as in the note of §9.2.
#[derive(Sequence)]
pub struct DigestInfo<'a> {
    pub digest_algorithm: AlgorithmIdentifierRef<'a>,
    pub digest: OctetStringRef<'a>,
}

/// DER `DigestInfo` for a digest, the input of `CKM_RSA_PKCS`.
pub fn digest_info(hash: HashAlg, digest: &[u8]) -> Result<Vec<u8>> {
    check_len(hash, digest)?;
    let oid = hash.oid();
    let null = der::asn1::AnyRef::NULL;
    DigestInfo {
        digest_algorithm: AlgorithmIdentifierRef {
            oid,
            parameters: Some(null),
        },
        digest: OctetStringRef::new(digest).map_err(|e| HsmError::BadSignature(e.to_string()))?,
    }
    .to_der()
    .map_err(|e| HsmError::BadSignature(e.to_string()))
}

pub(crate) fn check_len(hash: HashAlg, digest: &[u8]) -> Result<()> {
    if digest.len() != hash.output_len() {
        return Err(HsmError::DigestLength {
            alg: hash.name(),
            got: digest.len(),
            want: hash.output_len(),
        });
    }
    Ok(())
}

/// `RSASSA-PSS-params` (RFC 4055 §3.1) with MGF1 over the same hash and salt = hash length.
#[derive(Sequence)]
pub struct RsaPssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub hash_algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    pub mask_gen_algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    pub salt_length: u32,
}

impl RsaPssParams {
    pub fn for_hash(h: HashAlg) -> Self {
        // RFC 4055 §2.1: hash identifiers in these params carry NULL parameters by convention;
        // OpenSSL and the EU DSS both write and accept NULL here.
        let hash = AlgorithmIdentifierOwned {
            oid: h.oid(),
            parameters: Some(Any::null()),
        };
        RsaPssParams {
            mask_gen_algorithm: AlgorithmIdentifierOwned {
                oid: rfc5912::ID_MGF_1,
                parameters: Some(Any::encode_from(&hash).expect("AlgorithmIdentifier encodes")),
            },
            hash_algorithm: hash,
            salt_length: h.output_len() as u32,
        }
    }
}

/// Turn a token's raw ECDSA `r‖s` into DER `ECDSA-Sig-Value`.
pub fn ecdsa_raw_to_der(curve: Curve, raw: &[u8]) -> Result<Vec<u8>> {
    let bad = |e: ecdsa::Error| HsmError::BadSignature(format!("ECDSA r||s: {e}"));
    if raw.len() != 2 * curve.field_len() {
        return Err(HsmError::BadSignature(format!(
            "ECDSA signature is {} bytes, {:?} needs {}",
            raw.len(),
            curve,
            2 * curve.field_len()
        )));
    }
    Ok(match curve {
        Curve::P256 => p256::ecdsa::Signature::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Curve::P384 => p384::ecdsa::Signature::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
    })
}

/// Does `signature` verify over the pre-hashed `digest` with `alg` under the public key
/// `spki_der` (a DER SubjectPublicKeyInfo)? RustCrypto's verifiers. What a token signed is
/// checked with it (a token swapped under the same label, or a faulty one), and so is a
/// signature made elsewhere for a remote signing.
pub fn verifies(spki_der: &[u8], alg: SignatureAlgorithm, digest: &[u8], signature: &[u8]) -> bool {
    match alg {
        SignatureAlgorithm::RsaPkcs1v15(h) | SignatureAlgorithm::RsaPss(h) => {
            use rsa::pkcs8::DecodePublicKey;
            use rsa::{pkcs1v15, pss};
            let Ok(pk) = rsa::RsaPublicKey::from_public_key_der(spki_der) else {
                return false;
            };
            let pss = matches!(alg, SignatureAlgorithm::RsaPss(_));
            match (pss, h) {
                (false, HashAlg::Sha256) => prehash_ok::<pkcs1v15::Signature>(
                    &pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk),
                    digest,
                    signature,
                ),
                (false, HashAlg::Sha384) => prehash_ok::<pkcs1v15::Signature>(
                    &pkcs1v15::VerifyingKey::<sha2::Sha384>::new(pk),
                    digest,
                    signature,
                ),
                (false, HashAlg::Sha512) => prehash_ok::<pkcs1v15::Signature>(
                    &pkcs1v15::VerifyingKey::<sha2::Sha512>::new(pk),
                    digest,
                    signature,
                ),
                (true, HashAlg::Sha256) => prehash_ok::<pss::Signature>(
                    &pss::VerifyingKey::<sha2::Sha256>::new(pk),
                    digest,
                    signature,
                ),
                (true, HashAlg::Sha384) => prehash_ok::<pss::Signature>(
                    &pss::VerifyingKey::<sha2::Sha384>::new(pk),
                    digest,
                    signature,
                ),
                (true, HashAlg::Sha512) => prehash_ok::<pss::Signature>(
                    &pss::VerifyingKey::<sha2::Sha512>::new(pk),
                    digest,
                    signature,
                ),
            }
        }
        SignatureAlgorithm::Ecdsa(_) => {
            use p256::pkcs8::DecodePublicKey as _;
            if let Ok(vk) = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der) {
                prehash_ok::<p256::ecdsa::DerSignature>(&vk, digest, signature)
            } else if let Ok(vk) = p384::ecdsa::VerifyingKey::from_public_key_der(spki_der) {
                prehash_ok::<p384::ecdsa::DerSignature>(&vk, digest, signature)
            } else {
                false
            }
        }
    }
}

/// The RSA public key of a DER SubjectPublicKeyInfo, for [`rsa_verifies`] (parsed once per
/// key: OpenSSL 3's decoders cost more than the check).
pub fn rsa_public_key(spki_der: &[u8]) -> Option<openssl::pkey::PKey<openssl::pkey::Public>> {
    openssl::pkey::PKey::public_key_from_der(spki_der).ok()
}

/// [`verifies`] for an RSA signature, with OpenSSL's assembly: what a token signed is checked
/// against its certificate's key before it leaves, and RustCrypto's RSA public operation took
/// ~130 µs of the ~900 µs a SoftHSM2 RSA-2048 signature takes (13 % of the signing rate on one
/// session, 27 % on two; `benches/run hsm`); OpenSSL's takes ~20 µs.
pub fn rsa_verifies(
    key: &openssl::pkey::PKeyRef<openssl::pkey::Public>,
    alg: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> bool {
    use openssl::md::Md;
    use openssl::rsa::Padding;
    let (h, pss) = match alg {
        SignatureAlgorithm::RsaPkcs1v15(h) => (h, false),
        SignatureAlgorithm::RsaPss(h) => (h, true),
        SignatureAlgorithm::Ecdsa(_) => return false,
    };
    let md = match h {
        HashAlg::Sha256 => Md::sha256(),
        HashAlg::Sha384 => Md::sha384(),
        HashAlg::Sha512 => Md::sha512(),
    };
    let run = || -> std::result::Result<bool, openssl::error::ErrorStack> {
        let mut ctx = openssl::pkey_ctx::PkeyCtx::new(key)?;
        ctx.verify_init()?;
        ctx.set_signature_md(md)?;
        if pss {
            ctx.set_rsa_padding(Padding::PKCS1_PSS)?;
            ctx.set_rsa_mgf1_md(md)?;
            ctx.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::DIGEST_LENGTH)?;
        } else {
            ctx.set_rsa_padding(Padding::PKCS1)?;
        }
        ctx.verify(digest, signature)
    };
    run().unwrap_or(false)
}

/// Does `signature` (in the encoding `S` reads) verify over the pre-hashed `digest`?
fn prehash_ok<S>(
    vk: &impl signature::hazmat::PrehashVerifier<S>,
    digest: &[u8],
    signature: &[u8],
) -> bool
where
    S: for<'a> TryFrom<&'a [u8]>,
{
    S::try_from(signature).is_ok_and(|s| vk.verify_prehash(digest, &s).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenSSL's check of a token's RSA signature says yes to one over the digest, PKCS#1
    /// v1.5 and PSS, and no to a changed digest or signature.
    #[test]
    fn an_rsa_signature_is_checked_over_its_digest() {
        use openssl::pkey::PKey;
        use openssl::pkey_ctx::PkeyCtx;
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let spki = key.public_key_to_der().unwrap();
        let digest = HashAlg::Sha256.digest(b"giay phep");
        for pss in [false, true] {
            let mut ctx = PkeyCtx::new(&key).unwrap();
            ctx.sign_init().unwrap();
            ctx.set_signature_md(openssl::md::Md::sha256()).unwrap();
            if pss {
                ctx.set_rsa_padding(openssl::rsa::Padding::PKCS1_PSS)
                    .unwrap();
                ctx.set_rsa_mgf1_md(openssl::md::Md::sha256()).unwrap();
                ctx.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::DIGEST_LENGTH)
                    .unwrap();
            }
            let mut sig = Vec::new();
            ctx.sign_to_vec(&digest, &mut sig).unwrap();
            let alg = if pss {
                SignatureAlgorithm::RsaPss(HashAlg::Sha256)
            } else {
                SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256)
            };
            let public = rsa_public_key(&spki).unwrap();
            assert!(rsa_verifies(&public, alg, &digest, &sig));
            assert!(verifies(&spki, alg, &digest, &sig), "RustCrypto agrees");
            let mut other = digest.clone();
            other[0] ^= 1;
            assert!(!rsa_verifies(&public, alg, &other, &sig));
            sig[10] ^= 1;
            assert!(!rsa_verifies(&public, alg, &digest, &sig));
        }
    }

    #[test]
    fn digest_info_matches_rfc8017_prefixes() {
        // RFC 8017 §9.2, note 1: the fixed DER prefixes for SHA-256/384/512.
        let cases = [
            (HashAlg::Sha256, "3031300d060960864801650304020105000420"),
            (HashAlg::Sha384, "3041300d060960864801650304020205000430"),
            (HashAlg::Sha512, "3051300d060960864801650304020305000440"),
        ];
        for (h, prefix) in cases {
            let d = vec![0xab; h.output_len()];
            let di = digest_info(h, &d).unwrap();
            assert_eq!(hex::encode(&di[..di.len() - h.output_len()]), prefix);
            assert_eq!(&di[di.len() - h.output_len()..], &d[..]);
        }
    }

    #[test]
    fn wrong_digest_length_is_an_error() {
        let e = digest_info(HashAlg::Sha256, &[0; 20]).unwrap_err();
        assert!(matches!(
            e,
            HsmError::DigestLength {
                got: 20,
                want: 32,
                ..
            }
        ));
    }

    #[test]
    fn pss_identifier_is_the_openssl_encoding() {
        // What `openssl req -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sha256`
        // writes for RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32.
        let der = SignatureAlgorithm::RsaPss(HashAlg::Sha256)
            .algorithm_identifier()
            .to_der()
            .unwrap();
        assert_eq!(
            hex::encode(der),
            "304106092a864886f70d01010a3034a00f300d06096086480165030402010500\
             a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120"
        );
    }

    #[test]
    fn ecdsa_raw_becomes_der_and_bad_lengths_fail() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[63] = 2;
        let der = ecdsa_raw_to_der(Curve::P256, &raw).unwrap();
        assert_eq!(hex::encode(der), "3006020101020102");
        assert!(ecdsa_raw_to_der(Curve::P256, &raw[..63]).is_err());
        assert!(ecdsa_raw_to_der(Curve::P384, &raw).is_err());
        assert!(
            ecdsa_raw_to_der(Curve::P256, &[0u8; 64]).is_err(),
            "r = 0 is invalid"
        );
    }

    #[test]
    fn algorithm_names_parse() {
        assert_eq!(
            SignatureAlgorithm::parse("rsa-pss-sha384"),
            Some(SignatureAlgorithm::RsaPss(HashAlg::Sha384))
        );
        assert_eq!(
            SignatureAlgorithm::parse("ECDSA-SHA-256"),
            Some(SignatureAlgorithm::Ecdsa(HashAlg::Sha256))
        );
        assert_eq!(SignatureAlgorithm::parse("md5-rsa"), None);
    }
}
