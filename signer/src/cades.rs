//! CAdES baseline signatures (ETSI EN 319 122-1) as CMS SignedData (RFC 5652).
//!
//! The SignerInfo is assembled here rather than by the `cms` builder so that the
//! data-to-be-signed (the DER of the signed attributes, RFC 5652 §5.4) can leave the machine as
//! a digest and come back as a signature: that is two-phase remote signing. Signed attributes:
//! content-type, message-digest, ESS signing-certificate-v2 (RFC 5035) and, for CAdES (not
//! PAdES, EN 319 142-1 §6.3), signing-time.

use crate::error::{Result, SignError};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::{rfc5911, rfc6268};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use kyso_hsm::{HashAlg, SignatureAlgorithm, SigningKey};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;
use x509_cert::Certificate;

/// id-data (RFC 5652 §4).
pub const ID_DATA: ObjectIdentifier = rfc5911::ID_DATA;
/// id-signedData (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = rfc5911::ID_SIGNED_DATA;
/// id-aa-signingCertificateV2 (RFC 5035 §3).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }`
/// (RFC 5035 §4).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256},
/// certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }` (RFC 5035 §4).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2,
/// policies SEQUENCE OF PolicyInformation OPTIONAL }` (RFC 5035 §3).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}

/// The ESS signing-certificate-v2 attribute binding `cert` (hash with `hash`; the DEFAULT
/// SHA-256 is left out, as DER requires).
pub fn signing_certificate_v2(cert: &Certificate, hash: HashAlg) -> Result<Attribute> {
    let der = cert.to_der()?;
    let id = EssCertIdV2 {
        hash_algorithm: (hash != HashAlg::Sha256).then(|| hash.algorithm_identifier()),
        cert_hash: OctetString::new(hash.digest(&der))?,
        issuer_serial: Some(IssuerSerial {
            issuer: vec![GeneralName::DirectoryName(
                cert.tbs_certificate.issuer.clone(),
            )],
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
    };
    let v = SigningCertificateV2 { certs: vec![id] };
    attribute(ID_AA_SIGNING_CERTIFICATE_V2, Any::encode_from(&v)?)
}

/// What goes into the signed attributes.
#[derive(Debug, Clone)]
pub struct AttributeInput<'a> {
    /// The content type being signed (id-data for documents).
    pub content_type: ObjectIdentifier,
    /// Digest of the content (or of the PDF byte ranges).
    pub content_digest: &'a [u8],
    /// `Some` adds the signing-time attribute (CAdES); `None` leaves it out (PAdES).
    pub signing_time: Option<std::time::SystemTime>,
}

/// Build the signed attributes for `cert` with the key's digest algorithm.
pub fn signed_attributes(
    cert: &Certificate,
    hash: HashAlg,
    input: &AttributeInput<'_>,
) -> Result<Attributes> {
    let mut attrs = SetOfVec::new();
    attrs.insert(attribute(
        rfc6268::ID_CONTENT_TYPE,
        Any::encode_from(&input.content_type)?,
    )?)?;
    attrs.insert(attribute(
        rfc6268::ID_MESSAGE_DIGEST,
        Any::encode_from(&OctetString::new(input.content_digest)?)?,
    )?)?;
    if let Some(t) = input.signing_time {
        let time = signing_time(t)?;
        attrs.insert(attribute(
            rfc6268::ID_SIGNING_TIME,
            Any::encode_from(&time)?,
        )?)?;
    }
    attrs.insert(signing_certificate_v2(cert, hash)?)?;
    Ok(attrs)
}

/// `SigningTime ::= Time` (RFC 5652 §11.3): UTCTime for 1950 through 2049 — a MUST —
/// GeneralizedTime after. Always UTC, whole seconds.
pub fn signing_time(t: std::time::SystemTime) -> Result<Time> {
    let bad = |e: der::Error| SignError::Encoding(format!("signing time: {e}"));
    let dt = der::DateTime::from_system_time(t).map_err(bad)?;
    Ok(if dt.year() < 2050 {
        Time::UtcTime(der::asn1::UtcTime::from_date_time(dt).map_err(bad)?)
    } else {
        Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(dt))
    })
}

/// The bytes the signer's key signs: DER of the signed attributes as a SET OF (RFC 5652 §5.4).
pub fn data_to_be_signed(attrs: &Attributes) -> Result<Vec<u8>> {
    Ok(attrs.to_der()?)
}

/// Assemble ContentInfo(SignedData) around one signer. `include` is the signer's certificate
/// to embed (None leaves the certificates out, as a TSA may); `signer` identifies the signer.
#[allow(clippy::too_many_arguments)]
pub fn assemble(
    include: Option<&Certificate>,
    signer: &Certificate,
    chain: &[Certificate],
    algorithm: SignatureAlgorithm,
    attrs: Attributes,
    signature: Vec<u8>,
    content: Option<&[u8]>,
    content_type: ObjectIdentifier,
    unsigned: Option<Attributes>,
) -> Result<Vec<u8>> {
    let cert = signer;
    let hash = algorithm.hash();
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: hash.algorithm_identifier(),
        signed_attrs: Some(attrs),
        signature_algorithm: algorithm.algorithm_identifier(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: unsigned,
    };
    let mut certs = SetOfVec::new();
    if let Some(c) = include {
        certs.insert(CertificateChoices::Certificate(c.clone()))?;
    }
    for c in chain {
        // A chain certificate equal to the signer's is not added twice (a SET has no duplicates).
        if c != cert {
            let _ = certs.insert(CertificateChoices::Certificate(c.clone()));
        }
    }
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(hash.algorithm_identifier())?;
    let sd = SignedData {
        // RFC 5652 §5.1: version 3 when the content is not id-data (a TSTInfo, say).
        version: if content_type == ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent: match content {
                Some(c) => Some(Any::encode_from(&OctetString::new(c)?)?),
                None => None,
            },
        },
        certificates: (!certs.is_empty()).then_some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
    };
    let ci = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd)?,
    };
    Ok(ci.to_der()?)
}

/// A signature prepared but not yet signed: the first phase of two-phase signing, and the
/// inside of every one-phase signature.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub attrs: Attributes,
    /// DER of the signed attributes.
    pub dtbs: Vec<u8>,
    /// Digest of `dtbs` with the key's hash: what travels to the token.
    pub dtbs_digest: Vec<u8>,
}

/// Phase one: signed attributes and the digest the token must sign.
pub fn prepare(
    cert: &Certificate,
    algorithm: SignatureAlgorithm,
    input: &AttributeInput<'_>,
) -> Result<Prepared> {
    let attrs = signed_attributes(cert, algorithm.hash(), input)?;
    let dtbs = data_to_be_signed(&attrs)?;
    let dtbs_digest = algorithm.hash().digest(&dtbs);
    Ok(Prepared {
        attrs,
        dtbs,
        dtbs_digest,
    })
}

/// The unsigned attributes of B-T: a time-stamp over the signature value, when asked for.
fn unsigned_for(
    tsa: Option<&crate::tsp::TimestampSource>,
    hash: HashAlg,
    signature: &[u8],
) -> Result<Option<Attributes>> {
    let Some(tsa) = tsa else { return Ok(None) };
    let token = tsa.stamp(hash, &hash.digest(signature))?;
    let mut set = SetOfVec::new();
    set.insert(crate::tsp::signature_timestamp_attribute(&token)?)?;
    Ok(Some(set))
}

/// Sign prepared attributes with `key` and assemble the SignedData (B-T with `tsa`).
fn finish(
    key: &dyn SigningKey,
    p: Prepared,
    content: Option<&[u8]>,
    tsa: Option<&crate::tsp::TimestampSource>,
) -> Result<Vec<u8>> {
    let alg = key.algorithm();
    let sig = key.sign_digest(&p.dtbs_digest)?;
    let unsigned = unsigned_for(tsa, alg.hash(), &sig)?;
    assemble(
        Some(key.certificate()),
        key.certificate(),
        key.chain(),
        alg,
        p.attrs,
        sig,
        content,
        ID_DATA,
        unsigned,
    )
}

/// CAdES-B-B over `data` (B-T with `tsa`): detached (the p7s holds no content) or attached.
pub fn sign_cades(
    key: &dyn SigningKey,
    data: &[u8],
    attached: bool,
    now: std::time::SystemTime,
    tsa: Option<&crate::tsp::TimestampSource>,
) -> Result<Vec<u8>> {
    let alg = key.algorithm();
    let digest = alg.hash().digest(data);
    let p = prepare(
        key.certificate(),
        alg,
        &AttributeInput {
            content_type: ID_DATA,
            content_digest: &digest,
            signing_time: Some(now),
        },
    )?;
    finish(key, p, attached.then_some(data), tsa)
}

/// A CMS detached signature over an external digest, as PAdES embeds it (no signing-time);
/// B-T with `tsa`.
pub fn sign_digest_for_pdf(
    key: &dyn SigningKey,
    digest: &[u8],
    tsa: Option<&crate::tsp::TimestampSource>,
) -> Result<Vec<u8>> {
    let p = prepare(
        key.certificate(),
        key.algorithm(),
        &AttributeInput {
            content_type: ID_DATA,
            content_digest: digest,
            signing_time: None,
        },
    )?;
    finish(key, p, None, tsa)
}

/// Is this DER a CMS ContentInfo(SignedData)? (A cheap check for inputs and tests.)
pub fn is_signed_data(der: &[u8]) -> bool {
    ContentInfo::from_der(der).is_ok_and(|ci| ci.content_type == ID_SIGNED_DATA)
}
