//! CMS SignedData (RFC 5652) as CAdES (ETSI EN 319 122-1) and as the inside of PAdES: the
//! signer, its signed attributes, the signature value, the signature time-stamp, then the
//! certification path and revocation — each finding mapped to an EN 319 102-1 verdict.

use crate::crypto::{self, CryptoFail, Hash};
use crate::path::{self, PathProblem, Purpose, Revocation};
use crate::report::{Indication, SignatureReport, SignerSummary, SubIndication};
use crate::Validator;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::rfc6268;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode};
use std::time::SystemTime;
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_AA_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// The first DER element of `b` (PDF /Contents carry zero padding after it).
pub fn first_tlv(b: &[u8]) -> Option<&[u8]> {
    let mut r = der::SliceReader::new(b).ok()?;
    let header = der::Header::decode(&mut r).ok()?;
    let len = u32::from(header.length) as usize + u32::from(header.encoded_len().ok()?) as usize;
    b.get(..len)
}

/// A finding that decides a verdict.
#[derive(Debug, Clone)]
pub struct Finding(pub Indication, pub SubIndication, pub String);

fn fail(ind: Indication, sub: SubIndication, msg: impl Into<String>) -> Finding {
    Finding(ind, sub, msg.into())
}

/// Parse ContentInfo(SignedData).
pub fn parse_signed_data(der: &[u8]) -> Result<SignedData, Finding> {
    let normalized;
    let bytes = match first_tlv(der).filter(|b| ContentInfo::from_der(b).is_ok()) {
        Some(b) => b,
        None => {
            normalized = crate::ber::to_der(der).map_err(|e| {
                fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    format!("the signature is neither DER nor BER ({})", e.0),
                )
            })?;
            &normalized
        }
    };
    let ci = ContentInfo::from_der(bytes).map_err(|e| {
        fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!("the signature is not a CMS ContentInfo: {e}"),
        )
    })?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!("the CMS content is {}, not SignedData", ci.content_type),
        ));
    }
    ci.content.decode_as::<SignedData>().map_err(|e| {
        fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!("SignedData does not parse: {e}"),
        )
    })
}

/// The certificates inside a SignedData.
pub fn embedded_certificates(sd: &SignedData) -> Vec<Certificate> {
    sd.certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// adbe-revocationInfoArchival (ISO 32000-1 §12.8.3.3.2): CRLs and OCSP responses as a signed
/// attribute, as Acrobat and pyHanko write them.
const ADBE_REVOCATION_INFO_ARCHIVAL: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");

/// OCSP responses and CRLs carried in Adobe's signed revocation-info attribute. (RFC 5940 OCSP
/// responses among SignedData.crls are not read: `cms` 0.2 types that field wrongly.)
pub fn embedded_revocation(
    sd: &SignedData,
) -> (Vec<x509_ocsp::BasicOcspResponse>, Vec<CertificateList>) {
    let mut ocsps = Vec::new();
    let mut crls = Vec::new();

    #[derive(der::Sequence)]
    struct RevocationInfoArchival {
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        crl: Option<Vec<CertificateList>>,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
        ocsp: Option<Vec<der::Any>>,
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
        other: Option<der::Any>,
    }
    for si in sd.signer_infos.0.iter() {
        if let Some(v) = attr(si, ADBE_REVOCATION_INFO_ARCHIVAL) {
            if let Ok(a) = v.decode_as::<RevocationInfoArchival>() {
                crls.extend(a.crl.unwrap_or_default());
                for o in a.ocsp.unwrap_or_default() {
                    if let Ok(r) = o
                        .to_der()
                        .map_err(|e| e.to_string())
                        .and_then(|d| path::load_ocsp(&d))
                    {
                        ocsps.push(r);
                    }
                }
            }
        }
    }
    (ocsps, crls)
}

/// The CRLs inside a SignedData.
pub fn embedded_crls(sd: &SignedData) -> Vec<CertificateList> {
    sd.crls
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            cms::revocation::RevocationInfoChoice::Crl(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// The first value of a signed attribute.
fn attr(si: &SignerInfo, oid: ObjectIdentifier) -> Option<&der::Any> {
    first_value(si.signed_attrs.as_ref(), oid)
}

/// The first value of an unsigned attribute.
fn unsigned_attr(si: &SignerInfo, oid: ObjectIdentifier) -> Option<&der::Any> {
    first_value(si.unsigned_attrs.as_ref(), oid)
}

fn first_value(
    attrs: Option<&x509_cert::attr::Attributes>,
    oid: ObjectIdentifier,
) -> Option<&der::Any> {
    attrs?.iter().find(|a| a.oid == oid)?.values.iter().next()
}

fn find_signer(si: &SignerInfo, pool: &[Certificate]) -> Option<Certificate> {
    pool.iter()
        .find(|c| match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                c.tbs_certificate.issuer == ias.issuer
                    && c.tbs_certificate.serial_number == ias.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => c
                .tbs_certificate
                .extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER)
                .and_then(|e| OctetString::from_der(e.extn_value.as_bytes()).ok())
                .is_some_and(|k| k.as_bytes() == ski.0.as_bytes()),
        })
        .cloned()
}

/// What the core check of one SignerInfo established.
pub struct SignerCheck {
    pub cert: Certificate,
    pub signer_info: SignerInfo,
    pub digest: Hash,
    /// The signing-certificate(-v2) attribute was present and matched.
    pub signing_certificate_attr: bool,
    pub signing_time: Option<SystemTime>,
}

/// Check the first SignerInfo of `sd` over `content` (its parts are concatenated):
/// message-digest, content-type, signing-certificate, signature value.
pub fn check_signer(
    sd: &SignedData,
    content: &[&[u8]],
    pool: &[Certificate],
) -> Result<SignerCheck, Finding> {
    let si = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| {
            fail(
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                "SignedData has no SignerInfo",
            )
        })?
        .clone();
    let digest = Hash::from_oid(&si.digest_alg.oid).ok_or_else(|| {
        fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!("unknown digest algorithm {}", si.digest_alg.oid),
        )
    })?;
    let mut all = embedded_certificates(sd);
    all.extend(pool.iter().cloned());
    let cert = find_signer(&si, &all).ok_or_else(|| {
        fail(
            Indication::Indeterminate,
            SubIndication::NoSigningCertificateFound,
            "the signer's certificate is not in the signature nor among the certificates given",
        )
    })?;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let signature = si.signature.as_bytes();
    let content_digest = digest.digest(content);
    let mut signing_certificate_attr = false;
    let mut signing_time = None;
    match &si.signed_attrs {
        None => {
            // Signature over the content itself (RFC 5652 §5.4, no attributes).
            let data: Vec<u8> = content.concat();
            crypto_result(crypto::verify(
                spki,
                &si.signature_algorithm,
                Some(digest),
                &data,
                signature,
            ))?;
        }
        Some(attrs) => {
            let md = attr(&si, rfc6268::ID_MESSAGE_DIGEST)
                .and_then(|v| v.decode_as::<OctetString>().ok())
                .ok_or_else(|| {
                    fail(
                        Indication::TotalFailed,
                        SubIndication::FormatFailure,
                        "signed attributes without message-digest",
                    )
                })?;
            let ct = attr(&si, rfc6268::ID_CONTENT_TYPE)
                .and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
            if ct != Some(sd.encap_content_info.econtent_type) {
                return Err(fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    "the content-type attribute does not match the signed content's type",
                ));
            }
            let dtbs = attrs.to_der().map_err(|e| {
                fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    e.to_string(),
                )
            })?;
            crypto_result(crypto::verify(
                spki,
                &si.signature_algorithm,
                Some(digest),
                &dtbs,
                signature,
            ))?;
            if md.as_bytes() != content_digest.as_slice() {
                return Err(fail(
                    Indication::TotalFailed,
                    SubIndication::HashFailure,
                    "the signed content was changed: its digest is not the one the signer signed",
                ));
            }
            if digest == Hash::Sha1 {
                return Err(fail(
                    Indication::Indeterminate,
                    SubIndication::CryptoConstraintsFailure,
                    "SHA-1 digests are not accepted (SHA-2 required)",
                ));
            }
            // ESS signing-certificate(-v2): the certificate the signer meant (RFC 5035).
            let der = cert.to_der().unwrap_or_default();
            if let Some(v) = attr(&si, ID_AA_SIGNING_CERTIFICATE_V2) {
                let ok = ess_v2_matches(v, &der);
                if !ok {
                    return Err(fail(Indication::Indeterminate, SubIndication::NoSigningCertificateFound, "the signing-certificate-v2 attribute names another certificate than the one found"));
                }
                signing_certificate_attr = true;
            } else if let Some(v) = attr(&si, ID_AA_SIGNING_CERTIFICATE) {
                let ok = ess_v1_matches(v, &der);
                if !ok {
                    return Err(fail(Indication::Indeterminate, SubIndication::NoSigningCertificateFound, "the signing-certificate attribute names another certificate than the one found"));
                }
                signing_certificate_attr = true;
            }
            if let Some(t) = attr(&si, rfc6268::ID_SIGNING_TIME)
                .and_then(|v| v.to_der().ok())
                .and_then(|d| x509_cert::time::Time::from_der(&d).ok())
            {
                signing_time = Some(t.to_system_time());
            }
        }
    }
    Ok(SignerCheck {
        cert,
        signer_info: si,
        digest,
        signing_certificate_attr,
        signing_time,
    })
}

fn crypto_result(r: Result<(), CryptoFail>) -> Result<(), Finding> {
    r.map_err(|e| match e {
        CryptoFail::Invalid(m) => fail(Indication::TotalFailed, SubIndication::SigCryptoFailure, m),
        CryptoFail::Weak(m) => fail(
            Indication::Indeterminate,
            SubIndication::CryptoConstraintsFailure,
            m,
        ),
        CryptoFail::Unsupported(m) => {
            fail(Indication::TotalFailed, SubIndication::FormatFailure, m)
        }
    })
}

/// `SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 }`: the first certHash must be the
/// certificate's hash (with the given or default SHA-256 algorithm).
fn ess_v2_matches(v: &der::Any, cert_der: &[u8]) -> bool {
    #[derive(der::Sequence)]
    struct EssCertIdV2 {
        #[asn1(optional = "true")]
        hash_algorithm: Option<spki::AlgorithmIdentifierOwned>,
        cert_hash: OctetString,
        #[asn1(optional = "true")]
        _issuer_serial: Option<der::Any>,
    }
    #[derive(der::Sequence)]
    struct SigningCertificateV2 {
        certs: Vec<EssCertIdV2>,
        #[asn1(optional = "true")]
        _policies: Option<der::Any>,
    }
    let Ok(sc) = v.decode_as::<SigningCertificateV2>() else {
        return false;
    };
    let Some(first) = sc.certs.first() else {
        return false;
    };
    let h = match &first.hash_algorithm {
        None => Some(Hash::Sha256),
        Some(a) => Hash::from_oid(&a.oid),
    };
    h.is_some_and(|h| h.digest(&[cert_der]) == first.cert_hash.as_bytes())
}

/// `SigningCertificate { certs SEQUENCE OF ESSCertID }` with SHA-1 hashes (RFC 2634 §5.4).
fn ess_v1_matches(v: &der::Any, cert_der: &[u8]) -> bool {
    #[derive(der::Sequence)]
    struct EssCertId {
        cert_hash: OctetString,
        #[asn1(optional = "true")]
        _issuer_serial: Option<der::Any>,
    }
    #[derive(der::Sequence)]
    struct SigningCertificate {
        certs: Vec<EssCertId>,
        #[asn1(optional = "true")]
        _policies: Option<der::Any>,
    }
    let Ok(sc) = v.decode_as::<SigningCertificate>() else {
        return false;
    };
    sc.certs
        .first()
        .is_some_and(|c| Hash::Sha1.digest(&[cert_der]) == c.cert_hash.as_bytes())
}

/// `TSTInfo` (RFC 3161 §2.4.2), with genTime read as it is: RFC 3161 allows fractional
/// seconds there, which DER GeneralizedTime in `der` does not.
#[derive(der::Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: x509_tsp::MessageImprint,
    serial_number: der::asn1::Int,
    gen_time: der::Any,
    #[asn1(optional = "true")]
    _accuracy: Option<x509_tsp::Accuracy>,
    #[asn1(default = "Default::default")]
    _ordering: bool,
    #[asn1(optional = "true")]
    _nonce: Option<der::asn1::Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    _tsa: Option<der::Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    _extensions: Option<x509_cert::ext::Extensions>,
}

/// `YYYYMMDDHHMMSS[.f*]Z` to a time.
fn generalized_time(a: &der::Any) -> Option<SystemTime> {
    if der::Tagged::tag(a) != der::Tag::GeneralizedTime {
        return None;
    }
    let s = std::str::from_utf8(a.value()).ok()?;
    let s = s.strip_suffix('Z')?;
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.len() != 14
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let n = |a: usize, b: usize| whole[a..b].parse::<u16>().ok();
    let dt = der::DateTime::new(
        n(0, 4)?,
        n(4, 6)? as u8,
        n(6, 8)? as u8,
        n(8, 10)? as u8,
        n(10, 12)? as u8,
        n(12, 14)? as u8,
    )
    .ok()?;
    Some(dt.to_system_time())
}

/// Verify an RFC 3161 token over `data` (the parts concatenated). Returns genTime and the
/// TSA's name.
pub fn check_timestamp(
    v: &Validator,
    token_der: &[u8],
    data: &[&[u8]],
    extra: &[Certificate],
) -> Result<(SystemTime, String), String> {
    let sd = parse_signed_data(token_der).map_err(|f| f.2)?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err("the time-stamp token does not hold a TSTInfo".into());
    }
    let tst_bytes = sd
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|e| e.decode_as::<OctetString>().ok())
        .ok_or("the time-stamp token has no TSTInfo")?;
    let tst = TstInfo::from_der(tst_bytes.as_bytes()).map_err(|e| format!("TSTInfo: {e}"))?;
    let h = Hash::from_oid(&tst.message_imprint.hash_algorithm.oid)
        .ok_or("time-stamp imprint with an unknown hash")?;
    if h == Hash::Sha1 {
        return Err("time-stamp imprint uses SHA-1".into());
    }
    if h.digest(data) != tst.message_imprint.hashed_message.as_bytes() {
        return Err("the time-stamp is over other data (message imprint differs)".into());
    }
    let mut pool: Vec<Certificate> = v.certs.clone();
    pool.extend(extra.iter().cloned());
    let signer = check_signer(&sd, &[tst_bytes.as_bytes()], &pool)
        .map_err(|f| format!("time-stamp token: {}", f.2))?;
    let gen = generalized_time(&tst.gen_time).ok_or("TSTInfo genTime is not a GeneralizedTime")?;
    let mut all = embedded_certificates(&sd);
    all.extend(pool);
    let path = path::build(&signer.cert, &all, &v.anchors).ok_or_else(|| {
        format!(
            "the TSA {} does not chain to a trusted root",
            signer.cert.tbs_certificate.subject
        )
    })?;
    let problems = path::check(&path, gen, Purpose::Tsa);
    if let Some(p) = problems.first() {
        return Err(format!("TSA certificate path: {p:?}"));
    }
    Ok((gen, signer.cert.tbs_certificate.subject.to_string()))
}

/// RFC 3339 in UTC, whole seconds: how kyso writes times in reports and records.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map(|d| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                d.year(),
                d.month(),
                d.day(),
                d.hour(),
                d.minutes(),
                d.seconds()
            )
        })
        .unwrap_or_default()
}

fn summary(c: &Certificate) -> SignerSummary {
    SignerSummary {
        subject: c.tbs_certificate.subject.to_string(),
        issuer: c.tbs_certificate.issuer.to_string(),
        serial: hex::encode(c.tbs_certificate.serial_number.as_bytes()),
        sha256: hex::encode(Hash::Sha256.digest(&[&c.to_der().unwrap_or_default()])),
        not_before: rfc3339(c.tbs_certificate.validity.not_before.to_system_time()),
        not_after: rfc3339(c.tbs_certificate.validity.not_after.to_system_time()),
    }
}

fn organization(name: &x509_cert::name::Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|r| r.0.iter())
        .find(|a| a.oid == const_oid::db::rfc4519::O)
        .and_then(|a| {
            let d = a.value.to_der().ok()?;
            der::asn1::Utf8StringRef::from_der(&d)
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    der::asn1::PrintableStringRef::from_der(&d).map(|s| s.as_str().to_string())
                })
                .ok()
        })
}

/// Inputs of a whole signature check beyond the CMS itself.
pub struct Context<'a> {
    /// The signed content, in parts (PDF byte ranges, or the file).
    pub content: &'a [&'a [u8]],
    /// Base name of the format: `CAdES` or `PAdES`, or a full name for other forms.
    pub format: &'a str,
    /// Whether the format names a baseline level (CAdES/PAdES) to append (`-B-B`, `-B-T`).
    pub baseline: bool,
    /// Claimed signing time from outside the CMS (PDF /M).
    pub claimed_time: Option<SystemTime>,
    /// Certificates and CRLs from outside the CMS (PDF DSS).
    pub extra_certs: &'a [Certificate],
    pub extra_crls: &'a [CertificateList],
    /// OCSP responses from outside the CMS (PDF DSS).
    pub extra_ocsps: &'a [x509_ocsp::BasicOcspResponse],
}

/// The full validation of one CMS signature.
pub fn validate(v: &Validator, cms_der: &[u8], ctx: &Context<'_>) -> SignatureReport {
    let mut r = SignatureReport::new(ctx.format);
    let sd = match parse_signed_data(cms_der) {
        Ok(sd) => sd,
        Err(Finding(i, s, m)) => {
            r.fail(i, s, m);
            r.facts.integrity = Some(false);
            return r;
        }
    };
    // An attached signature carries its content; a detached one is given it.
    let attached: Option<Vec<u8>> = match (&sd.encap_content_info.econtent, ctx.content.is_empty())
    {
        (Some(e), true) => Some(
            e.decode_as::<OctetString>()
                .map(|o| o.into_bytes())
                .unwrap_or_default(),
        ),
        _ => None,
    };
    let attached_parts: Vec<&[u8]>;
    let content: &[&[u8]] = match &attached {
        Some(a) => {
            attached_parts = vec![a.as_slice()];
            &attached_parts
        }
        None => ctx.content,
    };
    let mut pool = v.certs.clone();
    pool.extend(ctx.extra_certs.iter().cloned());
    pool.extend(v.anchors.iter().cloned());
    let check = match check_signer(&sd, content, &pool) {
        Ok(c) => c,
        Err(Finding(i, s, m)) => {
            if s == SubIndication::HashFailure || s == SubIndication::SigCryptoFailure {
                r.facts.integrity = Some(false);
            }
            // Still show who the signer claims to be.
            let mut all = embedded_certificates(&sd);
            all.extend(pool.iter().cloned());
            if let Some(si) = sd.signer_infos.0.iter().next() {
                if let Some(c) = find_signer(si, &all) {
                    r.signer = Some(summary(&c));
                }
            }
            r.fail(i, s, m);
            return r;
        }
    };
    r.facts.integrity = Some(true);
    r.signer = Some(summary(&check.cert));
    r.facts.ca_body = organization(&check.cert.tbs_certificate.issuer);
    let claimed = check.signing_time.or(ctx.claimed_time);
    r.signing_time = claimed.map(rfc3339);
    if ctx.baseline && !check.signing_certificate_attr {
        r.note(
            "no signing-certificate(-v2) attribute: the signature is not a baseline AdES signature",
        );
    }

    // Signature time-stamp (B-T): proof of existence at genTime.
    let mut poe = None;
    let mut level = "B-B";
    if let Some(tok) = unsigned_attr(&check.signer_info, ID_AA_TIME_STAMP_TOKEN) {
        let der = tok.to_der().unwrap_or_default();
        let mut extra = embedded_certificates(&sd);
        extra.extend(ctx.extra_certs.iter().cloned());
        match check_timestamp(v, &der, &[check.signer_info.signature.as_bytes()], &extra) {
            Ok((t, tsa)) => {
                poe = Some(t);
                level = "B-T";
                r.timestamp = Some(rfc3339(t));
                r.note(format!("signature time-stamp at {} by {tsa}", rfc3339(t)));
                if let Some(c) = claimed {
                    if c > t + std::time::Duration::from_secs(300) {
                        r.note("the claimed signing time is after the time-stamp");
                    }
                }
            }
            Err(e) => r.fail(
                Indication::Indeterminate,
                SubIndication::SigConstraintsFailure,
                format!("the signature time-stamp does not verify: {e}"),
            ),
        }
    }
    r.format = if ctx.baseline {
        format!("{}-{level}", ctx.format)
    } else {
        ctx.format.to_string()
    };

    // Certification path to a trust anchor.
    let mut all = embedded_certificates(&sd);
    all.extend(pool.iter().cloned());
    let Some(chain) = path::build(&check.cert, &all, &v.anchors) else {
        r.fail(
            Indication::Indeterminate,
            SubIndication::NoCertificateChainFound,
            format!("no certification path from {} to a trusted root (give --trust, and --certs for intermediates)", check.cert.tbs_certificate.subject),
        );
        r.facts.valid_at_signing = validity_at(&check.cert, claimed.or(poe));
        return r;
    };
    r.chain = chain
        .iter()
        .map(|c| c.tbs_certificate.subject.to_string())
        .collect();
    if let Some(o) = chain
        .get(1)
        .and_then(|ca| organization(&ca.tbs_certificate.subject))
    {
        r.facts.ca_body = Some(o);
    }
    let now_problems = path::check(&chain, v.now, Purpose::Signer);
    let at_poe = poe.map(|t| path::check(&chain, t, Purpose::Signer));
    for p in &now_problems {
        match p {
            PathProblem::Expired(m) => match &at_poe {
                Some(ps)
                    if !ps.iter().any(|q| {
                        matches!(q, PathProblem::Expired(_) | PathProblem::NotYetValid(_))
                    }) =>
                {
                    r.note(format!(
                        "{m}; valid at the time-stamp, which proves the signature existed then"
                    ))
                }
                _ => r.fail(
                    Indication::Indeterminate,
                    SubIndication::OutOfBoundsNoPoe,
                    format!("{m}, and no time-stamp proves the signature existed before"),
                ),
            },
            PathProblem::NotYetValid(m) => r.fail(
                Indication::Indeterminate,
                SubIndication::NotYetValid,
                m.clone(),
            ),
            PathProblem::Constraints(m) => r.fail(
                Indication::Indeterminate,
                SubIndication::ChainConstraintsFailure,
                m.clone(),
            ),
            PathProblem::Crypto(m) => r.fail(
                Indication::Indeterminate,
                SubIndication::CryptoConstraintsFailure,
                m.clone(),
            ),
        }
    }

    // Revocation of every certificate below the anchor.
    let mut crls = v.crls.clone();
    crls.extend(embedded_crls(&sd));
    crls.extend(ctx.extra_crls.iter().cloned());
    let (mut ocsps, archived_crls) = embedded_revocation(&sd);
    crls.extend(archived_crls);
    ocsps.extend(ctx.extra_ocsps.iter().cloned());
    let mut checked_all = true;
    for (i, c) in chain.iter().enumerate().take(chain.len().saturating_sub(1)) {
        let (mut status, notes) = path::ocsp_status(c, &chain[i + 1], &ocsps, v.now);
        for n in notes {
            r.note(n);
        }
        if status == Revocation::Unknown {
            let (s, notes) = path::crl_status(c, &chain[i + 1], &crls, v.now);
            status = s;
            for n in notes {
                r.note(n);
            }
        }
        let name = c.tbs_certificate.subject.to_string();
        match status {
            Revocation::Good => {}
            Revocation::Unknown if i == 0 => {
                checked_all = false;
                r.note("no CRL or OCSP response for the signer's certificate: its revocation status was not checked");
            }
            Revocation::Unknown => r.note(format!("no CRL or OCSP response for CA certificate {name}: its revocation status was not checked")),
            Revocation::Revoked(at) => {
                let when = rfc3339(at);
                match (poe, claimed) {
                    (Some(p), _) if p < at => r.note(format!("{name} was revoked on {when}, after the time-stamp: the signature stands")),
                    (_, Some(c)) if at <= c => r.fail(Indication::TotalFailed, SubIndication::Revoked, format!("{name} was revoked on {when}, before the signing time")),
                    _ => r.fail(Indication::Indeterminate, SubIndication::RevokedNoPoe, format!("{name} was revoked on {when} and nothing proves the signature was made before")),
                }
            }
        }
    }
    r.facts.revocation_checked = checked_all;
    r.facts.valid_at_signing = validity_at(&check.cert, poe.or(claimed)).map(|ok| {
        ok && !r
            .messages
            .iter()
            .any(|m| m.contains("revoked on") && !m.contains("after the time-stamp"))
    });
    r
}

fn validity_at(c: &Certificate, t: Option<SystemTime>) -> Option<bool> {
    let t = t?;
    let v = &c.tbs_certificate.validity;
    Some(t >= v.not_before.to_system_time() && t <= v.not_after.to_system_time())
}
