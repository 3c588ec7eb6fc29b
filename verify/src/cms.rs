//! CMS SignedData (RFC 5652) as CAdES (ETSI EN 319 122-1) and as the inside of PAdES: every
//! SignerInfo, its signer (the candidate certificate the signature verifies with), its signed
//! attributes, the signature value, the signature time-stamp, then the certification path and
//! revocation — each finding mapped to an EN 319 102-1 verdict.

use crate::ber::{self, Tlv};
use crate::crypto::{self, CryptoFail, Hash};
use crate::path::revocation::{self, Status};
use crate::path::{self, BuildError, PathProblem, Purpose};
use crate::report::{Indication, SignatureReport, SignerSummary, SubIndication};
use crate::x509::{Cert, CertRef, Crl, Ocsp};
use crate::{rfc3339, tsp, Validator};
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::db::rfc6268;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode};
use std::sync::Arc;
use std::time::SystemTime;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub(crate) const ID_AA_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-ri-ocsp-response (RFC 5940 §4.1): an OCSP response among SignedData.crls.
const ID_RI_OCSP_RESPONSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");
/// adbe-revocationInfoArchival (ISO 32000-1 §12.8.3.3.2): CRLs and OCSP responses as a signed
/// attribute, as Acrobat and pyHanko write them.
const ADBE_REVOCATION_INFO_ARCHIVAL: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");

/// Most SignerInfos validated in one SignedData (each is a full validation).
pub const MAX_SIGNER_INFOS: usize = 16;
/// Most different certificates tried for one SignerInfo's identifier (a real signature has
/// one; a certificate renewed on the same key, a few).
pub const MAX_SIGNER_CANDIDATES: usize = 16;

/// A finding that decides a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub indication: Indication,
    pub sub: SubIndication,
    pub message: String,
    /// A TRY_LATER that is a certificate on hold (suspended) and nothing at hand lifting it:
    /// whose, and since when — the report's reason says so rather than "no CRL or OCSP
    /// response could be had" (a time-stamp's TSA on hold read so; 2026-12-06).
    pub held: Option<Held>,
    /// A time-stamp's TSA's certification path (its certificate to the trust anchor) and the
    /// token's genTime as written, when the finding came after the path was built and the
    /// token's signature held.
    pub tsa: Option<(Vec<CertRef>, SystemTime)>,
}

/// A certificate on hold when judged (certificateHold, EN 319 102-1 §5.2.6: TRY_LATER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// The hold's start; the epoch when the data did not give it readably.
    pub since: SystemTime,
    /// The certificate the finding speaks of itself (a TSA's own), not a CA above it.
    pub leaf: bool,
}

impl Finding {
    pub fn new(indication: Indication, sub: SubIndication, message: impl Into<String>) -> Self {
        Finding {
            indication,
            sub,
            message: message.into(),
            held: None,
            tsa: None,
        }
    }

    fn format(message: impl Into<String>) -> Self {
        Finding::new(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            message,
        )
    }
}

/// A SignedData as received: parsed, with its certificates and revocation data kept as the
/// bytes they came in.
pub struct SignedCms {
    pub sd: SignedData,
    pub certs: Vec<CertRef>,
    pub crls: Vec<Crl>,
    /// OCSP responses among SignedData.crls (RFC 5940).
    pub ocsps: Vec<Ocsp>,
    /// Each SignerInfo's signed attributes as its signer signed them, in `sd.signer_infos`'
    /// order (`None`: it has none).
    signed_attrs: Vec<Option<SignedAttrs>>,
}

/// A SignerInfo's signed attributes as received.
struct SignedAttrs {
    /// Which attributes these are, whatever their order: each one normalized
    /// ([`ber::to_der_unique`]), sorted, equal ones once — as the parsed copy's are.
    key: Vec<Vec<u8>>,
    /// The SignerInfo's signature value, in DER.
    signature: Vec<u8>,
    /// What the signature covers: the attributes in the order they came, each as its signer
    /// signed it ([`attribute_as_signed`]), under a SET tag (RFC 5652 §5.4 as OpenSSL and
    /// pyHanko read it). Re-encoded as the sorted DER SET the parse holds, a signer's
    /// attributes written in another order failed as "does not match" (helper 242).
    der: Vec<u8>,
    /// An attribute RFC 5652 §11 (and RFC 5035) allows once with one value, given twice or
    /// with several: which. kyso read the first, so of two message digests either document
    /// passed (helper 242; OpenSSL and pyHanko refuse such a signature).
    repeated: Option<String>,
}

/// The signed attributes of a SignerInfo as received (`raw`: the SignerInfo's encoding).
fn signed_attrs_of(raw: &Tlv<'_>) -> Result<Option<SignedAttrs>, ber::BerError> {
    // version, sid, digestAlgorithm, [0] IMPLICIT signedAttrs OPTIONAL, …
    let Some(attrs) = raw.children().nth(3).transpose()? else {
        return Ok(None);
    };
    if attrs.tag_byte() != 0xa0 {
        return Ok(None);
    }
    // signatureAlgorithm, then signature (an OCTET STRING, in pieces in BER).
    let signature = match raw.children().nth(5).transpose()? {
        Some(s) => ber::to_der(s.raw)?,
        None => return Ok(None),
    };
    let mut body = Vec::new();
    let mut key = Vec::new();
    let mut seen = Once::default();
    let mut repeated = None;
    for (i, a) in attrs.children().enumerate() {
        if i % 1024 == 1023 && kyso_pdf::stop::stopped() {
            return Err(ber::BerError::Stopped);
        }
        let a = a?;
        body.extend_from_slice(&attribute_as_signed(&a)?);
        key.push(ber::to_der_unique(a.raw)?);
        let mut parts = a.children();
        let oid = parts.next().transpose()?.and_then(|t| oid_of(&t));
        let values = match parts.next().transpose()? {
            Some(set) => set.children().count(),
            None => 0,
        };
        let Some(oid) = oid else { continue };
        if repeated.is_none() {
            repeated = seen.repetition(oid, values);
        }
    }
    let der = ber::tlv(0x31, &body);
    key.sort();
    key.dedup();
    Ok(Some(SignedAttrs {
        key,
        signature,
        der,
        repeated,
    }))
}

/// An attribute RFC 5652 §11 allows once with one value, as the parsed copy holds it (equal
/// ones written once): given twice, or with several values — which.
fn repeated_in(attrs: &x509_cert::attr::Attributes) -> Option<String> {
    let mut seen = Once::default();
    attrs
        .iter()
        .find_map(|a| seen.repetition(a.oid, a.values.len()))
}

/// Which of the attributes RFC 5652 §11 (and RFC 5035) allow once with one value were seen.
/// Only those five are remembered: a list of every type seen, searched at each attribute,
/// cost 47 s for 100,000 attributes of distinct types (2 MB, before any signature check;
/// helper 248).
#[derive(Default)]
struct Once([bool; 5]);

impl Once {
    /// What is wrong with an attribute of type `oid` with `values` values when it is one of
    /// the five — given before, or with other than one value; `None` for the others, and for
    /// one as it should be. One reading for the attributes as received and for the parsed
    /// copy.
    fn repetition(&mut self, oid: ObjectIdentifier, values: usize) -> Option<String> {
        let (i, name) = match oid {
            rfc6268::ID_CONTENT_TYPE => (0, "content-type"),
            rfc6268::ID_MESSAGE_DIGEST => (1, "message-digest"),
            rfc6268::ID_SIGNING_TIME => (2, "signing-time"),
            ID_AA_SIGNING_CERTIFICATE => (3, "signing-certificate"),
            ID_AA_SIGNING_CERTIFICATE_V2 => (4, "signing-certificate-v2"),
            _ => return None,
        };
        if std::mem::replace(&mut self.0[i], true) {
            Some(format!("the signed attributes give {name} twice"))
        } else if values != 1 {
            Some(format!(
                "the signed {name} attribute has {values} values, not one"
            ))
        } else {
            None
        }
    }
}

/// An attribute as its signer signed it: as written when its lengths are DER's; otherwise its
/// `SEQUENCE { type, SET OF value }` given DER lengths, its values sorted as DER sorts a SET,
/// each as OpenSSL re-encodes it ([`ber::value_as_signed`]: primitives with minimal lengths,
/// strings in pieces joined, other constructed values as written). Re-encoded whole
/// ([`ber::to_der`]), choices were made inside values that the signer did not make — a
/// GeneralizedTime's fraction dropped, a SET inside a value sorted — and an honest BER
/// signature failed (helper 246); each value kept as written, a digest in BER pieces signed
/// in DER failed (helper 247).
fn attribute_as_signed(a: &Tlv<'_>) -> Result<Vec<u8>, ber::BerError> {
    if ber::lengths_are_der(a.raw) {
        return Ok(a.raw.to_vec());
    }
    let mut body = Vec::new();
    for (i, part) in a.children().enumerate() {
        let part = part?;
        if i == 1 && part.tag_byte() == 0x31 {
            let mut each = Vec::new();
            for v in part.children() {
                each.push(ber::value_as_signed(v?.raw)?);
            }
            each.sort();
            body.extend_from_slice(&ber::tlv(0x31, &each.concat()));
        } else {
            body.extend_from_slice(&ber::to_der(part.raw)?);
        }
    }
    Ok(ber::tlv(0x30, &body))
}

fn oid_of(t: &Tlv<'_>) -> Option<ObjectIdentifier> {
    ObjectIdentifier::from_der(t.raw).ok()
}

/// How many bytes follow the ContentInfo that starts `bytes`, not counting zero padding and
/// white space (which tools write after a .p7m); `None` when no ContentInfo can be read.
pub fn trailing_bytes(bytes: &[u8]) -> Option<usize> {
    let ci = ber::read(bytes).ok()?;
    let rest = &bytes[ci.raw.len().min(bytes.len())..];
    Some(
        rest.iter()
            .filter(|b| !matches!(b, 0 | b' ' | b'\t' | b'\r' | b'\n'))
            .count(),
    )
}

/// A CMS file whose bytes outside its signed content read as PDF structure: what was found,
/// or `None`. A PDF reader opens such a file at a `%PDF-` header it finds (the embedded one of
/// an attached PDF, or one of its own) and takes the cross-reference sections and the objects
/// it finds anywhere in the file — also an update hidden in an unsigned attribute, a
/// certificate or a CRL, which the signature does not cover (Poppler and MuPDF showed such
/// forgeries; found by attackers' readings, 2026-12-02). Outside the eContent octets (the
/// whole file, for a detached signature) there must be no `%PDF-`, `startxref`, `%%EOF`,
/// `trailer`, `xref` nor the keyword `obj` (see [`kyso_pdf::parse::obj_keywords`]).
pub fn pdf_structure_outside_content(bytes: &[u8]) -> Option<&'static str> {
    let mut segments = Vec::new();
    // No eContent (detached) or none that reads: everything is outside.
    if econtent_segments(bytes, &mut segments).is_none() {
        segments.clear();
    }
    // An embedded PDF in BER chunks: each chunk's header is bytes inside the PDF that the
    // signature (over the joined octets) does not cover — `04 82 25 41` reads `%A`, a comment
    // that hid the signed "NO" from Poppler and MuPDF (found by an attacker's reading,
    // 2026-12-02). Such a file is re-encoded as DER (one primitive OCTET STRING).
    if segments.len() > 1 {
        let head: Vec<u8> = segments
            .iter()
            .flat_map(|r| bytes[r.clone()].iter().copied())
            .take(1024)
            .collect();
        if head.windows(5).any(|w| w == b"%PDF-") {
            return Some(
                "the chunk headers of a BER-encoded embedded PDF (re-encode the signature as DER)",
            );
        }
    }
    // Everything else, each stretch apart (a token cannot span the content it surrounds).
    let mut at = 0;
    let mut outside: Vec<&[u8]> = Vec::new();
    for r in &segments {
        outside.push(&bytes[at.min(r.start)..r.start]);
        at = r.end;
    }
    outside.push(&bytes[at.min(bytes.len())..]);
    for part in outside {
        for token in [&b"%PDF-"[..], b"startxref", b"%%EOF", b"trailer", b"xref"] {
            if part.windows(token.len()).any(|w| w == token) {
                return Some("a PDF header, cross-reference section or end-of-file marker");
            }
        }
        // The same words as a reader's tokens (`tr#61iler`, `o#62j`: MuPDF decodes them).
        let words: [&[u8]; 3] = [b"startxref", b"trailer", b"xref"];
        if kyso_pdf::parse::keyword_tokens(part, &words)
            .next()
            .is_some()
        {
            return Some("a PDF header, cross-reference section or end-of-file marker");
        }
        if kyso_pdf::parse::obj_keywords(part).next().is_some() {
            return Some("a PDF object (the keyword `obj`)");
        }
    }
    None
}

/// The ranges of `bytes` that hold the eContent octets of the ContentInfo(SignedData) at its
/// start (one per segment of a constructed OCTET STRING); `None` when there are none.
fn econtent_segments(bytes: &[u8], out: &mut Vec<std::ops::Range<usize>>) -> Option<()> {
    fn nth<'a>(t: &Tlv<'a>, n: usize) -> Option<Tlv<'a>> {
        t.children().nth(n)?.ok()
    }
    let ci = ber::read(bytes).ok()?;
    let sd = nth(&nth(&ci, 1)?, 0)?;
    let eci = nth(&sd, 2)?;
    let octets = nth(&nth(&eci, 1)?, 0)?;
    // An OCTET STRING, in at most MAX_SEGMENTS pieces: a SEQUENCE of 4 million NULLs put there
    // made a list of 4 million ranges here, and another of the stretches between them, 142 MB
    // for an 8 MB file, before any check (helper 229). Anything else is no content: every byte
    // is outside it.
    const MAX_SEGMENTS: usize = 1 << 16;
    fn leaves(
        t: &Tlv<'_>,
        base: usize,
        out: &mut Vec<std::ops::Range<usize>>,
        depth: usize,
    ) -> Option<()> {
        if depth > ber::MAX_DEPTH
            || !matches!(t.tag_byte(), 0x04 | 0x24)
            || out.len() >= MAX_SEGMENTS
        {
            return None;
        }
        if t.constructed {
            for c in t.children() {
                leaves(&c.ok()?, base, out, depth + 1)?;
            }
        } else {
            let start = (t.contents.as_ptr() as usize).checked_sub(base)?;
            out.push(start..start + t.contents.len());
        }
        Some(())
    }
    leaves(&octets, bytes.as_ptr() as usize, out, 0)?;
    (!out.is_empty()).then_some(())
}

/// Parse ContentInfo(SignedData), DER or BER; bytes after it (PDF zero padding) are ignored.
pub fn parse(bytes: &[u8]) -> Result<SignedCms, Finding> {
    let ber_err =
        |e: ber::BerError| Finding::format(format!("the signature is neither DER nor BER ({e})"));
    let ci = ber::read(bytes).map_err(ber_err)?;
    let mut parts = ci.children();
    let ct = parts
        .next()
        .transpose()
        .map_err(ber_err)?
        .and_then(|t| oid_of(&t))
        .ok_or_else(|| Finding::format("the signature is not a CMS ContentInfo"))?;
    if ct != ID_SIGNED_DATA {
        return Err(Finding::format(format!(
            "the CMS content is {ct}, not SignedData"
        )));
    }
    let explicit = parts
        .next()
        .transpose()
        .map_err(ber_err)?
        .filter(|t| t.tag_byte() == 0xa0)
        .ok_or_else(|| Finding::format("ContentInfo without content"))?;
    let sd_tlv = explicit
        .children()
        .next()
        .transpose()
        .map_err(ber_err)?
        .ok_or_else(|| Finding::format("ContentInfo without content"))?;
    // Nothing else inside ContentInfo or its [0]: bytes there are no part of SignedData, and
    // no signature covers them (an attached signature carrying an unsigned ZIP there read as
    // valid while unzip opened it; OpenSSL refuses both; helper 242).
    if parts.next().is_some() || explicit.children().nth(1).is_some() {
        return Err(Finding::format(
            "the signature's ContentInfo holds more than its content type and SignedData: bytes no signature covers",
        ));
    }
    // Certificates and revocation data are taken as received; the rest goes to the `cms` types.
    let mut certs = Vec::new();
    let mut crls = Vec::new();
    let mut ocsps = Vec::new();
    let mut rest: Vec<u8> = Vec::new();
    // The encapsulated content (a .p7m's whole document) is copied whole, not parsed into
    // structures: what the parse below may hold is reckoned apart from it.
    let mut bulk = 0;
    // SignedData's fields in RFC 5652 §5.1's order, each once: version, digestAlgorithms,
    // encapContentInfo, [0] certificates, [1] crls, signerInfos. kyso took [0] and [1]
    // anywhere and any number of times, the archive time-stamp's index only the first of
    // each, and OpenSSL refuses the file: one reading for all (an attacker's reading,
    // 2026-12-03).
    let tags: Vec<u8> = sd_tlv
        .children()
        .map(|c| c.map(|c| c.tag_byte()))
        .collect::<Result<_, _>>()
        .map_err(ber_err)?;
    let in_order = matches!(
        tags.as_slice(),
        [0x02, 0x31, 0x30, middle @ .., 0x31]
            if matches!(middle, [] | [0xa0] | [0xa1] | [0xa0, 0xa1])
    );
    if !in_order {
        return Err(Finding::format(
            "SignedData's fields are not in the order RFC 5652 §5.1 gives (version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls, signerInfos), or one is repeated",
        ));
    }
    for child in sd_tlv.children() {
        let child = child.map_err(ber_err)?;
        match child.tag_byte() {
            0xa0 => {
                for c in child.children().flatten().filter(|c| c.tag_byte() == 0x30) {
                    // (Hundreds of thousands of small certificates fit a signature: each
                    // parsed holds a kilobyte. Stopped, the caller discards the result.)
                    if kyso_pdf::stop::stopped() {
                        break;
                    }
                    if let Ok(cert) = Cert::from_ber(c.raw) {
                        certs.push(Arc::new(cert));
                    }
                }
            }
            0xa1 => {
                for c in child.children().flatten() {
                    if kyso_pdf::stop::stopped() {
                        break;
                    }
                    match c.tag_byte() {
                        0x30 => crls.extend(Crl::from_ber(c.raw).ok()),
                        // OtherRevocationInfoFormat ::= SEQUENCE { format OID, info ANY }, [1] IMPLICIT
                        0xa1 => {
                            let mut it = c.children().flatten();
                            if it.next().and_then(|o| oid_of(&o)) == Some(ID_RI_OCSP_RESPONSE) {
                                if let Some(r) = it.next() {
                                    ocsps.extend(Ocsp::from_response(r.raw).ok());
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            tag => {
                if tag == 0x30 {
                    bulk = child.raw.len();
                }
                rest.extend_from_slice(child.raw)
            }
        }
    }
    let stripped = ber::tlv(0x30, &rest);
    crate::x509::afford_parse(stripped.len().saturating_sub(bulk), bulk)
        .map_err(|e| Finding::format(format!("SignedData: {e}")))?;
    let sd = match SignedData::from_der(&stripped) {
        Ok(sd) => sd,
        Err(_) => {
            let der = ber::to_der_unique(&stripped).map_err(ber_err)?;
            SignedData::from_der(&der)
                .map_err(|e| Finding::format(format!("SignedData does not parse: {e}")))?
        }
    };
    // Each SignerInfo's signed attributes as received, matched to the parsed SignerInfo by
    // what they are — its signature value and the same attributes, in any order — never by
    // position: the parse sorts the SET of SignerInfos (DER or not), and a SignerInfo matched
    // by its place was checked against another's attributes — an honest two-signer CAdES
    // failed, and a copy given another message digest passed on the honest one's (helper
    // 245). The bytes checked then hold exactly the attributes kyso reads.
    let raw_infos: Vec<Tlv<'_>> = match sd_tlv.children().last() {
        Some(set) => set.map_err(ber_err)?.children().collect::<Result<_, _>>(),
        None => Ok(Vec::new()),
    }
    .map_err(ber_err)?;
    // (Past the SignerInfos a validation reads, none: the signature is refused for them. Equal
    // SignerInfos are written once in the parse: a SET of a million alike and one other is
    // read no further than this.)
    let within = sd.signer_infos.0.len() <= MAX_SIGNER_INFOS;
    let mut received = Vec::new();
    if within {
        for r in raw_infos.iter().take(4 * MAX_SIGNER_INFOS) {
            received.extend(signed_attrs_of(r).map_err(ber_err)?);
        }
    }
    let mut signed_attrs = Vec::new();
    for si in sd.signer_infos.0.iter().filter(|_| within) {
        let key = |si: &SignerInfo| -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
            let attrs = si.signed_attrs.as_ref()?;
            // Both sides normalized alike (the parsed copy is DER as received, or normalized).
            let mut k = attrs
                .iter()
                .map(|a| ber::to_der_unique(&a.to_der().ok()?).ok())
                .collect::<Option<Vec<_>>>()?;
            k.sort();
            k.dedup();
            Some((si.signature.to_der().ok()?, k))
        };
        let found = key(si).and_then(|(sig, k)| {
            received
                .iter()
                .position(|r| r.signature == sig && r.key == k)
        });
        signed_attrs.push(found.map(|i| received.swap_remove(i)));
    }
    Ok(SignedCms {
        sd,
        certs,
        crls,
        ocsps,
        signed_attrs,
    })
}

/// The first value of a signed attribute.
fn attr(si: &SignerInfo, oid: ObjectIdentifier) -> Option<&der::Any> {
    first_value(si.signed_attrs.as_ref(), oid)
}

/// The first value of an unsigned attribute.
fn first_value(
    attrs: Option<&x509_cert::attr::Attributes>,
    oid: ObjectIdentifier,
) -> Option<&der::Any> {
    attrs?.iter().find(|a| a.oid == oid)?.values.iter().next()
}

/// CRLs and OCSP responses in a SignerInfo's adbe-revocationInfoArchival attribute.
fn adobe_revocation(si: &SignerInfo) -> (Vec<Crl>, Vec<Ocsp>) {
    let mut crls = Vec::new();
    let mut ocsps = Vec::new();
    let Some(der) = attr(si, ADBE_REVOCATION_INFO_ARCHIVAL).and_then(|v| v.to_der().ok()) else {
        return (crls, ocsps);
    };
    let Ok(seq) = ber::read(&der) else {
        return (crls, ocsps);
    };
    // RevocationInfoArchival ::= SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CRL, ocsp [1] EXPLICIT
    // SEQUENCE OF OCSPResponse, otherRevInfo [2] … }
    for part in seq.children().flatten() {
        let Some(list) = part.children().next().and_then(Result::ok) else {
            continue;
        };
        for item in list.children().flatten() {
            if kyso_pdf::stop::stopped() {
                break; // the caller discards the result
            }
            match part.tag_byte() {
                0xa0 => crls.extend(Crl::from_ber(item.raw).ok()),
                0xa1 => ocsps.extend(Ocsp::from_response(item.raw).ok()),
                _ => {}
            }
        }
    }
    (crls, ocsps)
}

fn matches_sid(c: &Cert, sid: &SignerIdentifier) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            c.tbs().issuer == ias.issuer && c.tbs().serial_number == ias.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => c
            .extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, k)| k.0.as_bytes() == ski.0.as_bytes()),
    }
}

/// What the core check of one SignerInfo established.
pub struct SignerCheck {
    pub cert: CertRef,
    pub digest: Hash,
    /// The ESS signing-certificate(-v2) attribute was present and names `cert`.
    pub signing_certificate_attr: bool,
    pub signing_time: Option<SystemTime>,
    /// A sound signature made with an algorithm too weak by policy.
    pub weak: Option<String>,
}

/// Check one SignerInfo over `content` (its parts concatenated): message-digest, content-type,
/// then the signature value with each candidate certificate that matches the SignerIdentifier
/// (an injected certificate with the same issuer and serial cannot break or take over a valid
/// signature), then the ESS signing-certificate attribute. On failure, the certificate the
/// signer claims to be, if any, comes with the finding.
pub fn check_signer(
    cms: &SignedCms,
    si: &SignerInfo,
    content: &[&[u8]],
    pool: &[CertRef],
) -> Result<SignerCheck, (Finding, Option<CertRef>)> {
    let digest = Hash::from_oid(&si.digest_alg.oid).ok_or_else(|| {
        (
            Finding::new(
                Indication::Indeterminate,
                SubIndication::CryptoConstraintsFailure,
                format!("unknown digest algorithm {}", si.digest_alg.oid),
            ),
            None,
        )
    })?;
    // ESS signing-certificate(-v2): the certificate the signer meant (RFC 5035).
    let ess_v2 = attr(si, ID_AA_SIGNING_CERTIFICATE_V2);
    let ess_v1 = attr(si, ID_AA_SIGNING_CERTIFICATE);
    let named = |c: &Cert| match (ess_v2, ess_v1) {
        (Some(v), _) => Some(ess_v2_matches(v, c)),
        (None, Some(v)) => Some(ess_v1_matches(v, c)),
        (None, None) => None,
    };
    // Each certificate once (a set, not a scan per certificate), those the signed ESS
    // attribute names first, and a bounded number tried: each costs a signature check, over
    // the whole content when there are no signed attributes. The certificates are not signed:
    // anyone may add look-alikes, which then cost a bounded amount and hide nothing the
    // signer named.
    let mut candidates: Vec<CertRef> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in cms.certs.iter().chain(pool) {
        if matches_sid(c, &si.sid) && seen.insert(c.fingerprint()) {
            candidates.push(c.clone());
        }
    }
    // (Each certificate's ESS digest made once, not once per comparison of the sort.)
    candidates.sort_by_cached_key(|c| named(c) != Some(true));
    let matching = candidates.len();
    candidates.truncate(MAX_SIGNER_CANDIDATES);
    let Some(first) = candidates.first().cloned() else {
        return Err((
            Finding::new(
                Indication::Indeterminate,
                SubIndication::NoSigningCertificateFound,
                "the signer's certificate is not in the signature nor among the certificates given",
            ),
            None,
        ));
    };
    // No content at all (a detached signature given alone): the signature value over the
    // signed attributes can still be checked; the message-digest cannot.
    let missing = content.is_empty();
    let content_digest = digest.digest(content);
    let signature = si.signature.as_bytes();
    // Without signed attributes the signature is over the content: by its digest, made once
    // above, for every candidate, when the signature algorithm hashes as the SignerInfo says.
    let prehashed = si.signed_attrs.is_none()
        && crypto::scheme_hash(&si.signature_algorithm, Some(digest)) == Some(digest);
    let signed_bytes: Vec<u8> = match &si.signed_attrs {
        None if missing => {
            return Err((signed_data_not_found(), Some(first)));
        }
        None if prehashed => Vec::new(),
        None => content.concat(),
        Some(attrs) => {
            let received = cms
                .sd
                .signer_infos
                .0
                .iter()
                .position(|x| std::ptr::eq(x, si))
                .and_then(|i| cms.signed_attrs.get(i))
                .and_then(Option::as_ref);
            if let Some(why) = received
                .and_then(|r| r.repeated.clone())
                .or_else(|| repeated_in(attrs))
            {
                return Err((Finding::format(why), Some(first.clone())));
            }
            let md = attr(si, rfc6268::ID_MESSAGE_DIGEST)
                .and_then(|v| v.decode_as::<OctetString>().ok())
                .ok_or_else(|| {
                    (
                        Finding::format("signed attributes without message-digest"),
                        Some(first.clone()),
                    )
                })?;
            let ct = attr(si, rfc6268::ID_CONTENT_TYPE)
                .and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
            if ct != Some(cms.sd.encap_content_info.econtent_type) {
                return Err((
                    Finding::format(
                        "the content-type attribute does not match the signed content's type",
                    ),
                    Some(first),
                ));
            }
            if !missing && md.as_bytes() != content_digest.as_slice() {
                return Err((
                    Finding::new(
                        Indication::TotalFailed,
                        SubIndication::HashFailure,
                        "the signed content was changed: its digest is not the one the signer signed",
                    ),
                    Some(first),
                ));
            }
            // Never a copy of kyso's making: verified over bytes the file does not hold, a value
            // given twice in one attribute, or an edit the signer never signed, passed (helper
            // 246).
            match received {
                Some(r) => r.der.clone(),
                None => {
                    return Err((
                        Finding::format(
                            "the SignerInfo's signed attributes as written are not the ones they read as",
                        ),
                        Some(first.clone()),
                    ));
                }
            }
        }
    };
    // The signature value, with each candidate.
    let mut sound: Vec<(CertRef, Option<String>)> = Vec::new();
    let mut unsupported = None;
    for c in &candidates {
        if kyso_pdf::stop::stopped() {
            break; // the caller discards the result
        }
        let spki = &c.tbs().subject_public_key_info;
        let checked = if prehashed {
            crypto::verify_digest(
                spki,
                &si.signature_algorithm,
                Some(digest),
                &content_digest,
                signature,
            )
        } else {
            crypto::verify(
                spki,
                &si.signature_algorithm,
                Some(digest),
                &signed_bytes,
                signature,
            )
        };
        match checked {
            Ok(()) => sound.push((c.clone(), None)),
            Err(CryptoFail::Weak(w)) => sound.push((c.clone(), Some(w))),
            Err(CryptoFail::Unsupported(u)) => unsupported = unsupported.or(Some(u)),
            Err(CryptoFail::Invalid(_)) => {}
        }
    }
    if sound.is_empty() && matching > MAX_SIGNER_CANDIDATES {
        return Err((
            Finding::new(
                Indication::Indeterminate,
                SubIndication::NoSigningCertificateFound,
                format!(
                    "{matching} different certificates match the signer identifier; the signature value verifies with none of the {MAX_SIGNER_CANDIDATES} tried"
                ),
            ),
            Some(first),
        ));
    }
    if sound.is_empty() {
        return Err(match unsupported {
            Some(u) => (
                Finding::new(
                    Indication::Indeterminate,
                    SubIndication::CryptoConstraintsFailure,
                    format!("the signature cannot be verified: {u}"),
                ),
                Some(first),
            ),
            None => (
                Finding::new(
                    Indication::TotalFailed,
                    SubIndication::SigCryptoFailure,
                    "the signature value does not match the signed data and the signer's public key",
                ),
                Some(first),
            ),
        });
    }
    let chosen = sound.iter().find(|(c, _)| named(c) != Some(false)).cloned();
    let Some((cert, weak)) = chosen else {
        return Err((
            Finding::new(
                Indication::Indeterminate,
                SubIndication::NoSigningCertificateFound,
                "the signing-certificate attribute names another certificate than the one the signature verifies with",
            ),
            Some(sound[0].0.clone()),
        ));
    };
    let weak = weak.or_else(|| {
        (digest == Hash::Sha1 && si.signed_attrs.is_some())
            .then(|| "the SHA-1 message digest is not accepted (SHA-2 required)".to_string())
    });
    let signing_time = attr(si, rfc6268::ID_SIGNING_TIME)
        .and_then(|v| v.to_der().ok())
        .and_then(|d| x509_cert::time::Time::from_der(&d).ok())
        .map(|t| t.to_system_time());
    Ok(SignerCheck {
        signing_certificate_attr: named(&cert) == Some(true),
        cert,
        digest,
        signing_time,
        weak,
    })
}

/// `IssuerSerial { issuer GeneralNames, serialNumber CertificateSerialNumber, … }` (RFC 5035):
/// when an ESS certificate identifier gives it, it must name the certificate too — its issuer
/// among the names (compared as RFC 5280 §7.1 asks: a tool that writes the name in other
/// string types names the same issuer), its serial number. A certHash alone was taken, with
/// an issuerSerial naming another certificate (helper 242; pyHanko refuses it).
#[derive(der::Sequence)]
struct IssuerSerial {
    issuer: x509_cert::ext::pkix::name::GeneralNames,
    serial_number: x509_cert::serial_number::SerialNumber,
    #[asn1(optional = "true")]
    _issuer_uid: Option<der::Any>,
}

fn issuer_serial_names(i: &Option<IssuerSerial>, c: &Cert) -> bool {
    use x509_cert::ext::pkix::name::GeneralName;
    i.as_ref().is_none_or(|i| {
        i.serial_number == c.tbs().serial_number
            && i.issuer
                .iter()
                .any(|n| matches!(n, GeneralName::DirectoryName(d) if crate::x509::same_name(d, &c.tbs().issuer)))
    })
}

/// `SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 }`: the first certHash must be the
/// certificate's hash (with the given or default SHA-256 algorithm), and its issuerSerial,
/// if given, the certificate's.
fn ess_v2_matches(v: &der::Any, c: &Cert) -> bool {
    #[derive(der::Sequence)]
    struct EssCertIdV2 {
        #[asn1(optional = "true")]
        hash_algorithm: Option<spki::AlgorithmIdentifierOwned>,
        cert_hash: OctetString,
        #[asn1(optional = "true")]
        issuer_serial: Option<IssuerSerial>,
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
    h.is_some_and(|h| h.digest(&[c.der()]) == first.cert_hash.as_bytes())
        && issuer_serial_names(&first.issuer_serial, c)
}

/// `SigningCertificate { certs SEQUENCE OF ESSCertID }` with SHA-1 hashes (RFC 2634 §5.4).
fn ess_v1_matches(v: &der::Any, c: &Cert) -> bool {
    #[derive(der::Sequence)]
    struct EssCertId {
        cert_hash: OctetString,
        #[asn1(optional = "true")]
        issuer_serial: Option<IssuerSerial>,
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
    sc.certs.first().is_some_and(|id| {
        Hash::Sha1.digest(&[c.der()]) == id.cert_hash.as_bytes()
            && issuer_serial_names(&id.issuer_serial, c)
    })
}

/// A certificate as the report shows its signer.
pub fn summary(c: &Cert) -> SignerSummary {
    SignerSummary {
        subject: c.subject_string(),
        issuer: crate::x509::name_string(&c.tbs().issuer),
        serial: hex::encode(c.tbs().serial_number.as_bytes()),
        sha256: hex::encode(c.fingerprint()),
        not_before: rfc3339(c.tbs().validity.not_before.to_system_time()),
        not_after: rfc3339(c.tbs().validity.not_after.to_system_time()),
    }
}

pub(crate) fn organization(name: &x509_cert::name::Name) -> Option<String> {
    crate::x509::name_attribute(name, const_oid::db::rfc4519::O)
}

/// Inputs of a whole signature check beyond the CMS itself.
pub struct Context<'a> {
    /// The signed content, in parts (PDF byte ranges, or the file).
    pub content: &'a [&'a [u8]],
    /// Base name of the format: `CAdES` or `PAdES`, or a full name for other forms.
    pub format: &'a str,
    /// Whether the format names a baseline level (CAdES/PAdES) to append (`-B-B`, `-B-T`).
    pub baseline: bool,
    /// A baseline signature must carry the ESS signing-certificate(-v2) attribute (PAdES with
    /// ETSI.CAdES.detached); without, a CAdES file is reported as plain CMS.
    pub require_ess: bool,
    /// Claimed signing time from outside the CMS (PDF /M).
    pub claimed_time: Option<SystemTime>,
    /// Certificates, CRLs and OCSP responses from outside the CMS (PDF DSS).
    pub extra_certs: &'a [CertRef],
    pub extra_crls: &'a [Crl],
    pub extra_ocsps: &'a [Ocsp],
    /// When the signature's time-stamp is relied on: the validation time, or the genTime of an
    /// archive or document time-stamp that proves the signature time-stamp existed then.
    pub ts_reliance: SystemTime,
    /// PAdES: the genTime of the earliest valid document time-stamp over the signature — its
    /// proof of existence, and its trusted time at B-T when it has no signature time-stamp of
    /// its own (EN 319 142-1 §6.3: "either by a signature-time-stamp attribute or a
    /// document-time-stamp"; EN 319 102-1 §5.6). A B-B signature extended with one was still
    /// reported B-B, judged at the claimed time only (a new user's reading, 2026-12-04).
    /// With it, that time-stamp's validation data: what the signature's verdict then rests on
    /// too (B-LT needs it in the DSS, as a signature time-stamp's).
    pub doc_ts_poe: Option<(SystemTime, &'a crate::Evidence)>,
}

/// A detached signature given alone: its content is missing, not changed (EN 319 102-1:
/// INDETERMINATE / SIGNED_DATA_NOT_FOUND). Its signer, signature value over the signed
/// attributes and certificate path are still checked and reported.
fn signed_data_not_found() -> Finding {
    Finding::new(
        Indication::Indeterminate,
        SubIndication::SignedDataNotFound,
        "the signature is detached and its signed content was not given: give the signed file with the signature (kyso verify FILE --detached SIGNATURE; over HTTP, the file and the signature together)",
    )
}

/// Validate every SignerInfo of a CMS signature: one report each.
pub fn validate(v: &Validator, cms_der: &[u8], ctx: &Context<'_>) -> Vec<SignatureReport> {
    let cms = match parse(cms_der) {
        Ok(c) => c,
        Err(f) => {
            // A file given alone that is no CMS at all (a text file, a damaged .p7s) is not
            // called CAdES: `unreadable`, as a PDF that cannot be read is (docs/verification.md;
            // a helper's reading of the docs, 2026-12-07). A signature inside a PDF keeps the
            // PDF's format.
            let format = if ctx.format == "CAdES" {
                "unreadable"
            } else {
                ctx.format
            };
            let mut r = SignatureReport::new(format);
            r.fail(f.indication, f.sub, f.message);
            r.facts.integrity = Some(false);
            return vec![r];
        }
    };
    let sis: Vec<&SignerInfo> = cms.sd.signer_infos.0.iter().collect();
    if sis.is_empty() || sis.len() > MAX_SIGNER_INFOS {
        let mut r = SignatureReport::new(ctx.format);
        r.fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!(
                "SignedData has {} SignerInfos (1 to {MAX_SIGNER_INFOS} are validated)",
                sis.len()
            ),
        );
        r.facts.integrity = Some(false);
        return vec![r];
    }
    // An attached signature carries its content; a detached one is given it.
    let attached: Option<Vec<u8>> = match (
        &cms.sd.encap_content_info.econtent,
        ctx.content.is_empty(),
    ) {
        (Some(e), true) => Some(
            e.decode_as::<OctetString>()
                .map(|o| o.into_bytes())
                .unwrap_or_default(),
        ),
        // Content given, and content of its own: the signature is over the one given, and
        // what it carries is unsigned bytes — a PDF there showed in Poppler and MuPDF
        // beside a TOTAL-PASSED detached signature (found by an attacker's reading,
        // 2026-12-02). A detached signature carries none.
        (Some(_), false) => {
            let mut r = SignatureReport::new(ctx.format);
            r.fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    "the signature is detached (its content is given) yet carries content of its own, which it does not sign",
                );
            r.facts.integrity = Some(false);
            return vec![r];
        }
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
    let raw = crate::ats::parts(cms_der).ok();
    sis.into_iter()
        // Once the work is stopped the rest is not validated (the caller discards the report).
        .take_while(|_| !kyso_pdf::stop::stopped())
        .map(|si| {
            // The SignerInfo as received (its archive time-stamps are over those bytes) is the
            // one with this signature value, not the one at this index: a BER CMS is read
            // through its DER form, whose SET OF SignerInfo is sorted. None found (a signature
            // value in constructed BER): its archive time-stamps are not relied on.
            let archive = raw.as_ref().and_then(|p| {
                let sig = si.signature.to_der().ok()?;
                let mut same = p
                    .signers
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.fields.last().is_some_and(|f| *f == sig.as_slice()))
                    .map(|(j, _)| j);
                // Exactly one: two SignerInfos with one signature value (one a copy with other
                // unsigned attributes) cannot be told apart, and neither's are relied on.
                match (same.next(), same.next()) {
                    (Some(j), None) => Some((p, j)),
                    _ => None,
                }
            });
            validate_signer(v, &cms, si, content, ctx, archive)
        })
        .collect()
}

/// At most this many archive time-stamps, and signature time-stamps, are validated per
/// SignerInfo: each costs a path build and revocation checks, and a real signature renewed
/// every few years for a century holds far fewer.
const MAX_TIMESTAMPS: usize = 32;

/// What a valid archive time-stamp proves: at `at`, every unsigned attribute whose
/// `hash(attrType ‖ value)` its ats-hash-index-v3 lists existed.
struct Cover {
    at: SystemTime,
    hash: Hash,
    unsigned: std::collections::HashSet<Vec<u8>>,
    /// The digests of the certificates and CRLs (revocation values) it lists.
    validation_data: std::collections::HashSet<Vec<u8>>,
}

/// The earliest time a valid archive time-stamp proves an unsigned attribute value existed
/// (`attr_type` and `value` as received), or `fallback` when none lists it.
/// The value is hashed once per index algorithm, not once per archive time-stamp: a token may
/// be megabytes, and 32 archive time-stamps are looked at.
fn proven_at(covers: &[Cover], attr_type: &[u8], value: &[u8], fallback: SystemTime) -> SystemTime {
    let mut digests: Vec<(Hash, Vec<u8>)> = Vec::new();
    let mut at = None;
    for c in covers {
        let n = match digests.iter().position(|(h, _)| *h == c.hash) {
            Some(n) => n,
            None => {
                digests.push((c.hash, c.hash.digest(&[attr_type, value])));
                digests.len() - 1
            }
        };
        if c.unsigned.contains(&digests[n].1) && at.is_none_or(|t| c.at < t) {
            at = Some(c.at);
        }
    }
    at.unwrap_or(fallback)
}

/// An archive time-stamp's ats-hash-index-v3: its encoding (as the imprint hashes it) and what
/// it lists.
fn index_of(token: &[u8]) -> Result<(&[u8], crate::ats::Index), Finding> {
    let tp = crate::ats::parts(token).map_err(|e| Finding::format(e.to_string()))?;
    let index_tlv = tp
        .signers
        .first()
        .and_then(|s| {
            s.unsigned
                .iter()
                .find(|a| a.oid == Some(crate::ats::ID_AA_ATS_HASH_INDEX_V3))
        })
        .and_then(|a| a.values.first().copied())
        .ok_or_else(|| Finding::format("an archive time-stamp without ats-hash-index-v3"))?;
    let index = crate::ats::read_index(index_tlv).map_err(|e| Finding::format(e.to_string()))?;
    Ok((index_tlv, index))
}

/// The archive time-stamps (by position in `tokens`; of those in `order`, the ones considered)
/// that list a time-stamp made later than they say they were made, directly or through
/// another archive time-stamp they list: each with its genTime, what it covers ("the
/// signature time-stamp" or "another archive time-stamp"), that one's genTime, and whether it
/// lists it directly. Every archive and signature time-stamp is compared, made after a past
/// validation time (`--at`) or not: what one lists was made before it, whenever that was.
/// Times within the tokens' accuracies and 300 s of each other are in order.
///
/// What lists what is proved by the hashes alone, whatever the tokens in between are (a hash
/// of a token not yet made cannot be listed): the chain runs through any archive time-stamp.
/// The time that contradicts is believed only of a token a trusted TSA signed and that was
/// never revoked, in the data at hand ([`tsp::vouched_window`]); the one set aside may be any
/// token (set aside, one no trusted TSA vouches for loses nothing). Claims are read first and
/// only that end is checked, at most 2 × [`MAX_TIMESTAMPS`] of them — past that, what is not
/// checked counts, which can only set more aside (counted false, a contradiction could be
/// hidden behind tokens checked first).
fn out_of_order(
    v: &Validator,
    signer: &crate::ats::SignerParts<'_>,
    tokens: &[(&[u8], &[u8])],
    order: &[(usize, Option<SystemTime>)],
    (extra, data): (&[CertRef], revocation::Data<'_>),
) -> std::collections::BTreeMap<usize, (SystemTime, &'static str, SystemTime, bool)> {
    type Window = (SystemTime, SystemTime, SystemTime);
    let skew = std::time::Duration::from_secs(300);
    let mut out = std::collections::BTreeMap::new();
    // (attribute type, value) and the window each claims (earliest, latest, as written): the
    // archive time-stamps first, at their positions in `tokens`, then signature time-stamps. A signature time-stamp value that claims no
    // time can be nobody's later time, and one given twice is one: a million copies of one
    // value, listed by one hash, made every list a million long (helper 145: 41 s for a 1 MB
    // file in a debug build).
    let a = tokens.len();
    let mut timed: Vec<(&[u8], &[u8])> = tokens.to_vec();
    let mut claimed: Vec<Option<Window>> = timed
        .iter()
        .map(|(_, value)| tsp::claimed_window(value))
        .collect();
    let mut seen: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    for attr in signer
        .unsigned
        .iter()
        .filter(|a| a.oid == Some(ID_AA_TIME_STAMP_TOKEN))
    {
        for value in &attr.values {
            if !seen.insert(value) {
                continue;
            }
            if let Some(w) = tsp::claimed_window(value) {
                timed.push((attr.attr_type, value));
                claimed.push(Some(w));
            }
        }
    }
    // What each archive time-stamp lists among them (each value hashed once per algorithm).
    let mut digests: Vec<(Hash, Vec<Vec<u8>>)> = Vec::new();
    let mut lists: Vec<Vec<usize>> = vec![Vec::new(); a];
    for (i, list) in lists.iter_mut().enumerate() {
        let Ok((_, index)) = index_of(timed[i].1) else {
            continue; // said when validated
        };
        let Some(h) = index.hash else { continue };
        if !digests.iter().any(|(d, _)| *d == h) {
            let all = timed.iter().map(|(t, v)| h.digest(&[t, v])).collect();
            digests.push((h, all));
        }
        let Some((_, of)) = digests.iter().find(|(d, _)| *d == h) else {
            continue;
        };
        let listed: std::collections::HashSet<&[u8]> =
            index.unsigned.iter().map(Vec::as_slice).collect();
        *list = (0..timed.len())
            .filter(|&j| j != i && listed.contains(of[j].as_slice()))
            .collect();
    }
    if lists.iter().all(Vec::is_empty) {
        return out;
    }
    // The archive time-stamps each reaches through those it lists, whatever they are, each
    // with the first one on the way (itself: listed directly).
    let reach: Vec<Vec<(usize, usize)>> = (0..a)
        .map(|i| {
            let mut found = vec![(i, i)];
            let mut k = 0;
            while k < found.len() {
                let (r, hop) = found[k];
                for &j in lists[r].iter().filter(|&&j| j < a) {
                    if !found.iter().any(|(x, _)| *x == j) {
                        found.push((j, if r == i { j } else { hop }));
                    }
                }
                k += 1;
            }
            found
        })
        .collect();
    // What each lists that claims a time, latest "made no earlier than" first; a cursor past
    // those found false.
    let sorted: Vec<Vec<(SystemTime, usize)>> = lists
        .iter()
        .map(|l| {
            let mut l: Vec<(SystemTime, usize)> = l
                .iter()
                .filter_map(|&j| claimed[j].map(|w| (w.0, j)))
                .collect();
            l.sort_by_key(|(t, j)| (std::cmp::Reverse(*t), *j));
            l
        })
        .collect();
    let mut cursor = vec![0usize; a];
    let considered: std::collections::BTreeSet<usize> = order.iter().map(|(n, _)| *n).collect();
    let mut genuine: Vec<Option<bool>> = vec![None; timed.len()];
    let mut checks = 0;
    loop {
        if kyso_pdf::stop::stopped() {
            return out; // the caller discards the result
        }
        for r in 0..a {
            while sorted[r]
                .get(cursor[r])
                .is_some_and(|(_, j)| genuine[*j] == Some(false))
            {
                cursor[r] += 1;
            }
        }
        // (set aside, the later time, the token claiming it, the first one on the way)
        let mut flagged: Vec<(usize, SystemTime, usize, usize)> = Vec::new();
        for &i in considered.iter().filter(|&&i| i < a) {
            let Some((_, latest, _)) = claimed[i] else {
                continue;
            };
            let mut top: Option<(SystemTime, usize, usize)> = None;
            for &(r, hop) in &reach[i] {
                if let Some(&(t, k)) = sorted[r].get(cursor[r]) {
                    if top.is_none_or(|(best, _, _)| t > best) {
                        top = Some((t, k, if r == i { k } else { hop }));
                    }
                }
            }
            if let Some((later, k, hop)) = top.filter(|(later, _, _)| latest + skew < *later) {
                flagged.push((i, later, k, hop));
            }
        }
        // The end whose time contradicts must be what it claims; one that is not is left out
        // and the times worked out again (each round leaves one more out, or ends). The one
        // set aside need not be: set aside, a token no trusted TSA vouches for loses nothing,
        // and one whose TSA was revoked after the honest time-stamp over it must still go
        // (helper 146: checked too, a stolen TSA key's February token over an August one
        // was found "not genuine", never set aside, then validated at the honest October
        // time-stamp over it, before the TSA's revocation, and passed a revoked signer).
        let mut left_out = false;
        for &(_, _, k, _) in &flagged {
            if genuine[k].is_none() {
                genuine[k] = Some(if checks < 2 * MAX_TIMESTAMPS {
                    checks += 1;
                    tsp::vouched_window(v, timed[k].1, extra, data).is_some()
                } else {
                    true
                });
            }
            left_out |= genuine[k] == Some(false);
        }
        if left_out {
            continue;
        }
        for (i, later, k, hop) in flagged {
            let Some((_, _, at)) = claimed[i] else {
                continue;
            };
            let what = if k < a {
                "another archive time-stamp"
            } else {
                "the signature time-stamp"
            };
            let written = claimed[k].map_or(later, |w| w.2);
            out.insert(i, (at, what, written, hop == k));
        }
        return out;
    }
}

/// The archive-time-stamps-v3 of a SignerInfo (EN 319 122-1 §5.5.3), newest last: each is
/// validated over the imprint its ats-hash-index-v3 says it covers, and everything it lists
/// must still be there. Each is relied on at the earliest genTime of a valid later one whose
/// index lists it (the validation time when none does): an archive time-stamp added beside,
/// rather than under, the chain proves nothing about the past. Returns what the valid ones
/// prove; findings go to the report.
fn archive_timestamps(
    v: &Validator,
    (parts, si): (&crate::ats::Parts<'_>, usize),
    content: &[&[u8]],
    extra: &[CertRef],
    data: revocation::Data<'_>,
    reliance: SystemTime,
    r: &mut SignatureReport,
) -> (Vec<Cover>, Vec<(SubIndication, String)>) {
    // The time-stamps that prove nothing, with why: reported after the signer's own findings.
    let mut failed = Vec::new();
    let Some(signer) = parts.signers.get(si) else {
        return (Vec::new(), failed);
    };
    let tokens: Vec<(&[u8], &[u8])> = signer
        .unsigned
        .iter()
        .filter(|a| a.oid == Some(crate::ats::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3))
        .flat_map(|a| a.values.iter().map(|v| (a.attr_type, *v)))
        .collect();
    if tokens.len() > MAX_TIMESTAMPS {
        failed.push((
            SubIndication::SigConstraintsFailure,
            format!(
                "{} archive time-stamps (at most {MAX_TIMESTAMPS} are validated): none relied on",
                tokens.len()
            ),
        ));
        return (Vec::new(), failed);
    }
    let detached: Vec<u8> = content.concat();
    let mut covers: Vec<Cover> = Vec::new();
    // Newest first by the genTime each claims, not by position: unsigned attributes are a SET
    // (DER sorts it), and anyone may reorder them; taken by position, a renewal's later time-
    // stamp put first was judged before the one it covers, whose expired TSA then failed it
    // (found by an attacker's reading, 2026-12-03). A claim is checked when validated.
    let mut order: Vec<(usize, Option<SystemTime>)> = tokens
        .iter()
        .enumerate()
        .map(|(n, (_, t))| (n, tsp::claimed_gen_time(t)))
        .collect();
    order.sort_by_key(|(n, at)| (*at, *n));
    // Validating as of a past time (--at): an archive time-stamp made after it did not exist
    // then, as a PDF's later document time-stamps (it made the signature INDETERMINATE as "a
    // genTime in the future"; helper 139, 2026-12-05).
    let skew = std::time::Duration::from_secs(300);
    order.retain(|(_, at)| match at {
        Some(t) if *t > v.now + skew => {
            r.note(format!(
                "an archive time-stamp made at {}, after the validation time: not considered",
                rfc3339(*t)
            ));
            false
        }
        _ => true,
    });
    // An archive time-stamp whose index lists — directly, or through another it lists — a
    // time-stamp made later than it says it was made: one of the TSAs is wrong, and its time
    // proves nothing. It is set aside before any is validated, so that no other is judged at
    // its time (taken as the earliest, it proved a revoked signer's signature older than its
    // revocation; helper 139, 2026-12-05). Only tokens a trusted TSA signed count, each with
    // its accuracy: a value no TSA signed, planted before an honest archive time-stamp listed
    // it, set that time-stamp aside (helper 141).
    let set_aside = out_of_order(v, signer, &tokens, &order, (extra, data));
    for (n, (at, what, later, direct)) in &set_aside {
        failed.push((
            SubIndication::TimestampOrderFailure,
            format!(
                "archive time-stamp {} of {} covers {}{} of {}, a later time: time-stamps out of order",
                n + 1,
                rfc3339(*at),
                if *direct { "" } else { "one that covers " },
                what,
                rfc3339(*later)
            ),
        ));
    }
    order.retain(|(n, _)| !set_aside.contains_key(n));
    // What each token's check hashes of the signer's SignedData (its content, its
    // certificates, CRLs and unsigned values), hashed once per algorithm for all of them.
    let mut present: Vec<crate::ats::Present> = Vec::new();
    let mut content_digests: Vec<(crate::crypto::Hash, Vec<u8>)> = Vec::new();
    for (n, (attr_type, token)) in order.iter().rev().map(|(n, _)| (*n, &tokens[*n])) {
        if kyso_pdf::stop::stopped() {
            break; // the caller discards the result
        }
        let at = proven_at(&covers, attr_type, token, reliance);
        let result = (|| -> Result<(tsp::Timestamp, crate::ats::Index), Finding> {
            let (index_tlv, index) = index_of(token)?;
            let h = index.hash.ok_or_else(|| {
                Finding::new(
                    Indication::Indeterminate,
                    SubIndication::CryptoConstraintsFailure,
                    "the archive time-stamp's index hash is unknown",
                )
            })?;
            // As for a time-stamp's imprint: what SHA-1 binds, a collision can swap.
            if h == crate::crypto::Hash::Sha1 {
                return Err(Finding::new(
                    Indication::Indeterminate,
                    SubIndication::CryptoConstraintsFailure,
                    "the archive time-stamp's ats-hash-index-v3 uses SHA-1",
                ));
            }
            if !present.iter().any(|p| p.hash == h) {
                present.extend(crate::ats::Present::of(parts, si, h));
            }
            let missing =
                crate::ats::missing(parts, si, &index, present.iter().find(|p| p.hash == h));
            if let Some(m) = missing.first() {
                return Err(Finding::new(
                    Indication::Indeterminate,
                    SubIndication::SigConstraintsFailure,
                    format!("{m} the archive time-stamp covered was removed"),
                ));
            }
            let signed = parts.econtent.as_deref().unwrap_or(&detached);
            if !content_digests.iter().any(|(x, _)| *x == h) {
                content_digests.push((h, h.digest(&[signed])));
            }
            let digest = content_digests
                .iter()
                .find(|(x, _)| *x == h)
                .map(|(_, d)| d.as_slice())
                .unwrap_or_default();
            let m = crate::ats::imprint_input(parts, si, digest, index_tlv)
                .ok_or_else(|| Finding::format("no signed content for the archive time-stamp"))?;
            Ok((tsp::validate(v, token, &[&m], extra, data, at)?, index))
        })();
        match result {
            Ok((ts, index)) => {
                r.note(format!(
                    "archive time-stamp {} at {} by {}",
                    n + 1,
                    rfc3339(ts.claimed),
                    ts.tsa
                ));
                r.evidence.merge(&ts.evidence);
                if let Some(hash) = index.hash {
                    covers.push(Cover {
                        at: ts.gen_time,
                        hash,
                        unsigned: index.unsigned.into_iter().collect(),
                        validation_data: index.certificates.into_iter().chain(index.crls).collect(),
                    });
                }
            }
            Err(f) => failed.push((
                SubIndication::SigConstraintsFailure,
                format!(
                    "archive time-stamp {} does not prove anything: {}",
                    n + 1,
                    f.message
                ),
            )),
        }
    }
    (covers, failed)
}

/// A certificate the signature rests on besides the signer's — a CA of its path, its
/// time-stamp's TSA or a CA of that — on hold: the report's reason says so (it read "no CRL or
/// OCSP response could be had"). The earliest readable start is kept.
fn path_held(r: &mut SignatureReport, held: Option<Held>) {
    let Some(h) = held.filter(|h| h.since > std::time::UNIX_EPOCH) else {
        return;
    };
    let at = rfc3339(h.since);
    if r.facts
        .path_on_hold_since
        .as_ref()
        .is_none_or(|was| at < *was)
    {
        r.facts.path_on_hold_since = Some(at);
    }
}

fn validate_signer(
    v: &Validator,
    cms: &SignedCms,
    si: &SignerInfo,
    content: &[&[u8]],
    ctx: &Context<'_>,
    archive: Option<(&crate::ats::Parts<'_>, usize)>,
) -> SignatureReport {
    let mut r = SignatureReport::new(ctx.format);
    let mut pool: Vec<CertRef> = v.certs.clone();
    pool.extend(ctx.extra_certs.iter().cloned());
    pool.extend(v.anchors.iter().cloned());
    let check = match check_signer(cms, si, content, &pool) {
        Ok(c) => c,
        Err((f, claimed)) => {
            if matches!(
                f.sub,
                SubIndication::HashFailure | SubIndication::SigCryptoFailure
            ) {
                r.facts.integrity = Some(false);
            }
            r.signer = claimed.as_deref().map(summary);
            // Item 4 as for any signature: the issuer's organization, not its whole name (a
            // tampered PDF showed the CA's full DN; a new user's reading, 2026-12-05).
            r.facts.ca_body = claimed
                .as_deref()
                .and_then(|c| organization(&c.tbs().issuer));
            r.fail(f.indication, f.sub, f.message);
            return r;
        }
    };
    if content.is_empty() {
        // Nothing to say of the content's integrity; the rest is checked as usual.
        let f = signed_data_not_found();
        r.fail(f.indication, f.sub, f.message);
    } else {
        r.facts.integrity = Some(true);
    }
    r.signer = Some(summary(&check.cert));
    r.facts.ca_body = organization(&check.cert.tbs().issuer);
    let claimed = check.signing_time.or(ctx.claimed_time);
    r.signing_time = claimed.map(rfc3339);
    // A claim that cannot be true is said beside the verdict: it is only a claim (EN 319
    // 102-1), but "VALID" beside a signing time in 2099, or before the certificate existed,
    // said nothing of it (helper 139, 2026-12-05).
    if let Some(c) = claimed {
        let skew = std::time::Duration::from_secs(300);
        let validity = &check.cert.tbs().validity;
        if c > v.now + skew {
            r.note(format!(
                "the claimed signing time {} is after the validation time: it cannot be true",
                rfc3339(c)
            ));
        } else if c > validity.not_after.to_system_time() + skew
            || c + skew < validity.not_before.to_system_time()
        {
            r.note(format!(
                "the claimed signing time {} is outside the signer's certificate's validity period",
                rfc3339(c)
            ));
        }
    }
    let mut format = ctx.format.to_string();
    if ctx.baseline && !check.signing_certificate_attr {
        if ctx.require_ess {
            r.fail(
                Indication::Indeterminate,
                SubIndication::SigConstraintsFailure,
                "no ESS signing-certificate(-v2) signed attribute: not a baseline signature (EN 319 142-1 §6.3, EN 319 122-1 §5.2.2)",
            );
        } else {
            format = "CMS".into();
            r.note("no ESS signing-certificate(-v2) attribute: a CMS signature, not a CAdES baseline one");
        }
    }
    let baseline = ctx.baseline && format != "CMS";
    if let Some(w) = &check.weak {
        r.fail(
            Indication::Indeterminate,
            SubIndication::CryptoConstraintsFailure,
            w.clone(),
        );
    }

    // Revocation data at hand for this signature.
    let (adbe_crls, adbe_ocsps) = adobe_revocation(si);
    // Each item once, whatever number of places hold it; in the order of who vouches for
    // them, since at most so many are looked at per certificate: the verifier's own, the
    // signer's (Adobe's signed attribute), the document's (a PDF's DSS, the revisions signed
    // first), and last SignedData.crls, which anyone can fill without breaking the signature —
    // junk there pushed the verifier's and the DSS's data past the limit (found by an
    // attacker's reading, 2026-12-02).
    let mut at_hand = crate::Evidence::default();
    at_hand.add_crls(
        v.crls
            .iter()
            .chain(&adbe_crls)
            .chain(ctx.extra_crls)
            .chain(&cms.crls)
            .cloned(),
    );
    at_hand.add_ocsps(
        v.ocsps
            .iter()
            .chain(&adbe_ocsps)
            .chain(ctx.extra_ocsps)
            .chain(&cms.ocsps)
            .cloned(),
    );
    let (crls, ocsps) = (at_hand.crls, at_hand.ocsps);
    let data = revocation::Data {
        crls: &crls,
        ocsps: &ocsps,
    };
    let mut all: Vec<CertRef> = cms.certs.clone();
    all.extend(pool.iter().cloned());

    // The signature time-stamp's failures are reported after the signer's own (EN 319 102-1
    // validates the signer's certificate path before the time-stamps that add to it): a
    // signature with no path to a trusted root says so first, whatever its time-stamp.
    let mut ts_failed: Vec<(SubIndication, String, Option<Held>)> = Vec::new();
    // Archive time-stamps (B-LTA): proof of existence of the signature and its time-stamps.
    let covers = match archive {
        Some(a) => {
            let (covers, failed) =
                archive_timestamps(v, a, content, &all, data, ctx.ts_reliance, &mut r);
            // An archive time-stamp that proves nothing says first: it is how a removed or
            // altered piece of the validation data it covered shows (the signer's findings
            // that follow may only be its consequence — a status gone with a removed CRL).
            for (sub, m) in failed {
                r.fail(Indication::Indeterminate, sub, m);
            }
            covers
        }
        None => Vec::new(),
    };
    let archived = covers.iter().map(|c| c.at).min();

    // Signature time-stamps (B-T): proof of existence at genTime. Each is validated; the
    // earliest valid one is the proof, the others are reported. A time-stamp is relied on at
    // the time an archive time-stamp proves it existed, or at the context's reliance time.
    let sig_tokens: Vec<(Vec<u8>, Vec<u8>)> = match archive.and_then(|(p, i)| p.signers.get(i)) {
        Some(sp) => sp
            .unsigned
            .iter()
            .filter(|a| a.oid == Some(ID_AA_TIME_STAMP_TOKEN))
            .flat_map(|a| a.values.iter().map(|v| (a.attr_type.to_vec(), v.to_vec())))
            .collect(),
        None => si
            .unsigned_attrs
            .iter()
            .flat_map(|attrs| attrs.iter())
            .filter(|a| a.oid == ID_AA_TIME_STAMP_TOKEN)
            .flat_map(|a| {
                let t = a.oid.to_der().unwrap_or_default();
                a.values
                    .iter()
                    .map(move |v| (t.clone(), v.to_der().unwrap_or_default()))
            })
            .collect(),
    };
    let mut poe = None;
    let mut level = "B-B";
    if sig_tokens.len() > MAX_TIMESTAMPS {
        ts_failed.push((
            SubIndication::SigConstraintsFailure,
            format!(
                "{} signature time-stamps (at most {MAX_TIMESTAMPS} are validated): none relied on",
                sig_tokens.len()
            ),
            None,
        ));
    } else if !sig_tokens.is_empty() {
        let several = sig_tokens.len() > 1;
        let mut best: Option<tsp::Timestamp> = None;
        let mut failures: Vec<Finding> = Vec::new();
        for (n, (attr_type, der)) in sig_tokens.iter().enumerate() {
            if kyso_pdf::stop::stopped() {
                break; // the caller discards the result
            }
            let at = proven_at(&covers, attr_type, der, ctx.ts_reliance);
            match tsp::validate(v, der, &[si.signature.as_bytes()], &all, data, at) {
                Ok(ts) => {
                    if several {
                        r.note(format!(
                            "signature time-stamp {} at {} by {}",
                            n + 1,
                            rfc3339(ts.claimed),
                            ts.tsa
                        ));
                    }
                    if best.as_ref().is_none_or(|b| ts.gen_time < b.gen_time) {
                        best = Some(ts);
                    }
                }
                Err(mut f) => {
                    if several {
                        f.message = format!("signature time-stamp {}: {}", n + 1, f.message);
                    }
                    failures.push(f);
                }
            }
        }
        match best {
            Some(ts) => {
                for f in &failures {
                    r.note(format!("{} (not relied on)", f.message));
                }
                poe = Some(ts.gen_time);
                level = "B-T";
                r.evidence.merge(&ts.evidence);
                r.timestamp = Some(rfc3339(ts.claimed));
                r.note(format!(
                    "signature time-stamp at {} by {}",
                    rfc3339(ts.claimed),
                    ts.tsa
                ));
                for n in ts.notes {
                    r.note(format!("time-stamp: {n}"));
                }
            }
            None => {
                for f in failures {
                    let sub = if f.sub == SubIndication::TryLater {
                        SubIndication::TryLater
                    } else {
                        SubIndication::SigConstraintsFailure
                    };
                    ts_failed.push((
                        sub,
                        format!(
                            "the signature time-stamp does not prove anything: {}",
                            f.message
                        ),
                        f.held.filter(|_| sub == SubIndication::TryLater),
                    ));
                }
            }
        }
    }
    // No signature time-stamp relied on: a valid archive time-stamp's imprint covers the
    // signature value, so the earliest one proves when the signature existed (EN 319 102-1
    // §5.6.2); the level stays B-B (EN 319 122-1 builds B-LTA on B-T). Until 2026-12-05 such a
    // signature was judged at the validation time alone.
    if poe.is_none() {
        if let Some(at) = covers.iter().map(|c| c.at).min() {
            poe = Some(at);
            r.note(format!(
                "trusted time: an archive time-stamp proves the signature existed by {} (it has no signature time-stamp)",
                rfc3339(at)
            ));
        }
    }
    if poe.is_none() {
        if let Some((t, evidence)) = ctx.doc_ts_poe {
            poe = Some(t);
            level = "B-T";
            r.evidence.merge(evidence);
            r.note(format!(
                "trusted time: a document time-stamp proves the signature existed by {} (it has no signature time-stamp of its own)",
                rfc3339(t)
            ));
        }
    }
    // A signing time claimed after the time the signature is proved to have existed cannot be
    // true, whichever time-stamp proves it (said for the signature time-stamp alone until
    // 2026-12-05: an archive time-stamp of February over a signature claiming June was silent).
    if let (Some(c), Some(p)) = (claimed, poe) {
        if c > p + std::time::Duration::from_secs(300) {
            r.note(format!(
                "the claimed signing time {} is after {}, when a time-stamp proves the signature existed: it cannot be true",
                rfc3339(c),
                rfc3339(p)
            ));
        }
    }
    r.format = if baseline {
        format!("{format}-{level}")
    } else {
        format
    };

    // Certification path to a trust anchor.
    let chain = match path::build_when(&check.cert, &all, &v.anchors, v.now, poe) {
        Ok(c) => c,
        Err(e) => {
            let sub = match e {
                BuildError::NoPath => SubIndication::NoCertificateChainFound,
                BuildError::TooMuchWork(_) => SubIndication::CertificateChainGeneralFailure,
            };
            r.fail(
                Indication::Indeterminate,
                sub,
                format!("no certification path from {} to a trusted root ({e}; give --trust, and --certs for intermediates)", check.cert.subject_string()),
            );
            for (sub, m, held) in ts_failed {
                path_held(&mut r, held);
                r.fail(Indication::Indeterminate, sub, m);
            }
            r.facts.valid_at_signing = validity_at(&check.cert, poe.or(claimed));
            r.facts.time_proven = poe.is_some();
            return r;
        }
    };
    r.chain = chain.iter().map(|c| c.subject_string()).collect();
    r.facts.chain_trusted = true;
    r.evidence.add_certs(chain.iter());
    if let Some(o) = chain.get(1).and_then(|ca| organization(&ca.tbs().subject)) {
        r.facts.ca_body = Some(o);
    }
    judge_path(&mut r, &chain, v.now, poe, Purpose::Signer);

    // Revocation of every certificate below the anchor, at the best time the signature is known
    // to have existed.
    // Without a time-stamp, nothing but the signer's word says when the signature was made:
    // it may have been made now, so the status must be known now (a backdated claim with an
    // old CRL proves nothing). The claimed time only tells REVOKED from REVOKED_NO_POE.
    let control = poe.unwrap_or(v.now);
    let mut checked_all = true;
    let mut revoked_before_signing = false;
    // Revoked after the time the signature claims (or with no time claimed), and nothing
    // proving it was made before: whether the certificate was valid when it signed is not
    // known — item 7 said "no" beside REVOKED_NO_POE (helper 242).
    let mut revoked_unproven = false;
    // When the status data of the whole path knew it: the earliest "good" below the anchor,
    // none unless every certificate is good (the signer's alone was shown over a CA's CRL 300
    // days old, and beside a CA whose status could not be had; helper 186).
    let mut as_of: Option<Option<SystemTime>> = Some(None);
    for (i, c) in chain.iter().enumerate().take(chain.len().saturating_sub(1)) {
        let out = revocation::status(c, &chain[i + 1], data, control, v.now, v.fetch.as_deref());
        for n in out.notes {
            r.note(n);
        }
        r.evidence.add_crls(out.crls);
        r.evidence.add_ocsps(out.ocsps);
        let name = c.subject_string();
        match out.status {
            Status::Good => {
                as_of = as_of.map(|a| match (a, out.as_of) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                });
            }
            Status::Unknown => {
                as_of = None;
                let sources = revocation::status_sources(c);
                if i == 0 {
                    checked_all = false;
                }
                // Data left unread (junk spending the budget) is not "no data": a CA revoked
                // by a CRL in the file came back "not checked" (found by an attacker's
                // reading, 2026-12-03).
                if let Some(since) = out.on_hold {
                    // Suspended when judged (EN 319 102-1 §5.2.6: on hold is TRY_LATER).
                    // (A start the data did not give readably is no date to show; helper 189.)
                    if i == 0 && since > std::time::UNIX_EPOCH {
                        r.facts.on_hold_since = Some(rfc3339(since));
                    } else if i > 0 {
                        path_held(&mut r, Some(Held { since, leaf: false }));
                    }
                    r.fail(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        format!("{name} was on hold (suspended) from {}, and nothing at hand shows the hold lifted by {} (the time the signature is judged at): verify again with a later CRL or OCSP response", crate::revoked_when(since), rfc3339(control)),
                    );
                } else if out.unread {
                    r.fail(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        format!("the status of {name} at {} cannot be told: CRLs or OCSP responses that may be about it were left unread", rfc3339(control)),
                    );
                } else if out.ignored {
                    r.fail(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        format!("a CRL or OCSP response at hand names {name} but cannot be relied on (the notes say why): its status at {} cannot be told", rfc3339(control)),
                    );
                } else if !sources.is_empty() {
                    r.fail(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        format!(
                            "no CRL or OCSP response at hand tells the status of {name} at {} (the time the signature is judged at), though the certificate names where to get one ({}): fetch a CRL or OCSP response and verify again",
                            rfc3339(control),
                            sources.join(", ")
                        ),
                    );
                } else if i == 0 {
                    r.note("no CRL or OCSP response for the signer's certificate, which names no place to get one: its revocation status was not checked");
                } else {
                    r.note(format!("no CRL or OCSP response for CA certificate {name}: its revocation status was not checked"));
                }
            }
            Status::Revoked(at) => {
                as_of = None;
                // A date the data did not give readably is the epoch (revoked since ever):
                // said as such, not as 1970 (helper 186).
                let when = crate::revoked_when(at);
                // A date the data did not give readably is taken as the epoch (revoked since
                // ever: fail closed); it is no date to show (helper 185).
                if i == 0 && at > std::time::UNIX_EPOCH {
                    r.facts.revoked_at = Some(when.clone());
                }
                match (poe, claimed) {
                    (Some(p), _) if p < at => r.note(format!(
                        "{name} was revoked on {when}, after the time-stamp: the signature stands"
                    )),
                    (_, Some(c)) if at <= c => {
                        revoked_before_signing = true;
                        r.fail(
                            Indication::TotalFailed,
                            SubIndication::Revoked,
                            format!("{name} was revoked on {when}, before the signing time"),
                        )
                    }
                    _ => {
                        revoked_unproven = true;
                        r.fail(Indication::Indeterminate, SubIndication::RevokedNoPoe, format!("{name} was revoked on {when} and nothing proves the signature was made before"))
                    }
                }
            }
        }
    }
    r.facts.revocation_checked = checked_all;
    r.facts.status_as_of = as_of.flatten().map(|t| rfc3339(t.min(v.now)));
    for (sub, m, held) in ts_failed {
        path_held(&mut r, held);
        r.fail(Indication::Indeterminate, sub, m);
    }
    // B-LT when the SignedData itself holds the validation data the verdict rested on; B-LTA
    // when an archive time-stamp covers it too (EN 319 122-1 §6.3–6.5). A PAdES signature's
    // long-term levels are its DSS's and document time-stamps' (EN 319 142-1 §6.4–6.5; the
    // PDF reader judges them): the chain in its CMS alone made a B-B signature with a
    // document time-stamp over it "PAdES-B-LT".
    if baseline && level == "B-T" && ctx.format != "PAdES" {
        let e = &r.evidence;
        // Certificates inside the time-stamp tokens: covered, for B-LTA, with the attribute
        // that holds them. (For B-LT kyso still asks for them in SignedData.certificates: a
        // B-T over a PKI naming no revocation sources would otherwise be called B-LT.)
        let archive_tokens = archive
            .and_then(|(p, i)| p.signers.get(i))
            .into_iter()
            .flat_map(|sp| sp.unsigned.iter())
            .filter(|a| a.oid == Some(crate::ats::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3))
            .flat_map(|a| a.values.iter().copied());
        let in_tokens: Vec<CertRef> = sig_tokens
            .iter()
            .map(|(_, der)| der.as_slice())
            .chain(archive_tokens)
            .take(2 * MAX_TIMESTAMPS)
            .filter_map(|der| parse(der).ok())
            .flat_map(|t| t.certs)
            .collect();
        let held = e
            .certs
            .iter()
            .all(|c| c.is_self_issued() || cms.certs.iter().any(|x| x == c))
            && e.crls
                .iter()
                .all(|c| cms.crls.iter().any(|x| x.der() == c.der()))
            && e.ocsps
                .iter()
                .all(|o| cms.ocsps.iter().any(|x| x.der() == o.der()));
        if held {
            // B-LTA only when valid archive time-stamps list every certificate and revocation
            // value the verdict rested on: one added after the last is not covered (a CRL
            // added later was called B-LTA; found by an attacker's reading, 2026-12-03); an
            // unrelated item anyone may add does not make a signature kyso extended B-LT.
            let covered = |x: &[u8]| {
                covers
                    .iter()
                    .any(|c| c.validation_data.contains(&c.hash.digest(&[x])))
            };
            let all_covered = archive.is_some_and(|(p, _)| {
                e.certs
                    .iter()
                    // Inside a time-stamp token: covered with the attribute that holds it.
                    .all(|c| c.is_self_issued() || covered(c.der()) || in_tokens.contains(c))
                    && e.crls.iter().all(|c| covered(c.der()))
                    // An OCSP response is held in an OtherRevocationInfoFormat: the item that
                    // holds its bytes must be listed.
                    && e.ocsps.iter().all(|o| {
                        p.crls.iter().any(|x| {
                            memchr::memmem::find(x, o.der()).is_some() && covered(x)
                        })
                    })
            });
            let lt = if archived.is_some() && all_covered {
                "B-LTA"
            } else {
                "B-LT"
            };
            r.format = format!("{}-{lt}", r.format.trim_end_matches("-B-T"));
        }
    }
    r.facts.valid_at_signing = match validity_at(&check.cert, poe.or(claimed)) {
        Some(true) if revoked_unproven && !revoked_before_signing => None,
        v => v.map(|ok| ok && !revoked_before_signing),
    };
    r.facts.time_proven = poe.is_some();
    r
}

/// Apply a path's problems now, and at the proof of existence, to a report.
pub(crate) fn judge_path(
    r: &mut SignatureReport,
    chain: &[CertRef],
    now: SystemTime,
    poe: Option<SystemTime>,
    purpose: Purpose,
) {
    // A time-stamp proving the signature existed before its signer's certificate was valid:
    // it was not made under that certificate (EN 319 102-1 §5.6.2.4: TOTAL-FAILED,
    // NOT_YET_VALID; only the certificate's expiry was held to the proof of existence).
    // A minute of slack: the TSA's clock and the CA's may differ (a certificate issued and
    // used at once, as for a one-time remote-signing certificate).
    if let (Some(t), Some(leaf)) = (poe, chain.first()) {
        let not_before = leaf.tbs().validity.not_before.to_system_time();
        if t + std::time::Duration::from_secs(60) < not_before {
            r.fail(
                Indication::TotalFailed,
                SubIndication::NotYetValid,
                format!(
                    "a time-stamp proves the signature existed on {}, before its signer's certificate {} was valid (from {}): it was not made under that certificate",
                    crate::rfc3339(t),
                    leaf.subject_string(),
                    crate::rfc3339(not_before)
                ),
            );
        }
    }
    // ... nor before a CA certificate between it and the anchor was valid: the path did not
    // exist then (a time-stamp 10 days old over a sub-CA valid from 5 days ago passed, item 7
    // "yes"; helper 243 — OpenSSL at that time and certvalidator refuse it). The anchor's
    // dates are trusted as they are (`path::check`).
    if let Some(t) = poe {
        for ca in chain.iter().skip(1).take(chain.len().saturating_sub(2)) {
            let not_before = ca.tbs().validity.not_before.to_system_time();
            if t + std::time::Duration::from_secs(60) < not_before {
                r.fail(
                    Indication::Indeterminate,
                    SubIndication::NotYetValid,
                    format!(
                        "a time-stamp proves the signature existed on {}, before the CA certificate {} in its path was valid (from {}): the path did not exist then",
                        crate::rfc3339(t),
                        ca.subject_string(),
                        crate::rfc3339(not_before)
                    ),
                );
            }
        }
    }
    let now_problems = path::check(chain, now, purpose);
    let at_poe = poe.map(|t| path::check(chain, t, purpose));
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
}

pub(crate) fn validity_at(c: &Cert, t: Option<SystemTime>) -> Option<bool> {
    let t = t?;
    let v = &c.tbs().validity;
    Some(t >= v.not_before.to_system_time() && t <= v.not_after.to_system_time())
}
