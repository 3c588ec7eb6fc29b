//! Certificates (RFC 5280 §4), CRLs (§5) and OCSP responses (RFC 6960 §4.2) as received:
//! parsed for their fields, and kept as the bytes that arrived, so that the signature over each
//! is checked over exactly the `tbs…` bytes its issuer signed. CAs in the field now and then
//! write non-strict DER (an explicit `critical FALSE`, a long-form length); re-encoding those
//! would break their signatures, and a strict parser would refuse them: such bytes are parsed
//! after BER normalization and verified as they are.

use crate::ber;
use crate::crypto::{self, CryptoFail, Hash};
use der::asn1::OctetString;
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

/// Why bytes are not a certificate, CRL or OCSP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    #[error("not BER: {0}")]
    Ber(#[from] ber::BerError),
    #[error("not a {what}: {reason}")]
    Parse { what: &'static str, reason: String },
    #[error("no {0} in the PEM text")]
    NoPemBlock(&'static str),
    #[error("PEM: {0}")]
    Pem(String),
    #[error("OCSP response status is {0} (not successful)")]
    OcspStatus(String),
    #[error("OCSP response without a basic response body")]
    OcspNoBody,
}

/// What the `der` crate's structures may hold for each byte of DER they are parsed from, the
/// BER-normalized copy made when strict DER fails included: a CRL of 3.6 million 9-byte
/// extensions, 32 MB inflated from a 74 KB stream in a PDF's DSS, held 463 MB parsed, past a
/// 64 MiB memory limit before any check (helper 227). An honest CRL holds two to three times its
/// size.
pub const PARSED_PER_BYTE: usize = 16;

/// `Err` when the work on this thread may not hold what parsing `structured` bytes of DER may
/// take ([`PARSED_PER_BYTE`]), and `bulk` bytes copied whole beside them (its stop then fires:
/// `kyso_pdf::stop::afford`).
pub(crate) fn afford_parse(structured: usize, bulk: usize) -> Result<(), kyso_pdf::PdfError> {
    kyso_pdf::stop::afford(
        structured
            .saturating_mul(PARSED_PER_BYTE)
            .saturating_add(bulk.saturating_mul(2)),
    )
}

/// Parse `raw` (exactly one value) as `T`: strict DER first, then the BER-normalized bytes.
fn parse_lenient<T: for<'a> Decode<'a>>(raw: &[u8], what: &'static str) -> Result<T, X509Error> {
    afford_parse(raw.len(), 0).map_err(|e| X509Error::Parse {
        what,
        reason: e.to_string(),
    })?;
    match T::from_der(raw) {
        Ok(t) => Ok(t),
        Err(strict) => {
            let der = ber::to_der(raw)?;
            T::from_der(&der).map_err(|_| X509Error::Parse {
                what,
                reason: strict.to_string(),
            })
        }
    }
}

/// The outer value of `b` and the range of its first component (the `tbs…` part).
fn outer_and_tbs(b: &[u8]) -> Result<(&[u8], Range<usize>), X509Error> {
    let outer = ber::read(b)?;
    let tbs = outer.children().next().ok_or(X509Error::Parse {
        what: "signed structure",
        reason: "empty SEQUENCE".into(),
    })??;
    let start = tbs.raw.as_ptr() as usize - outer.raw.as_ptr() as usize;
    Ok((outer.raw, start..start + tbs.raw.len()))
}

/// A distinguished name as text (RFC 4514, most significant RDN last), exactly as
/// x509-cert's `Display` writes it — but the attribute types names use in practice are looked
/// up in a small table made once, not by a linear search of const-oid's whole database for
/// every attribute (which was a seventh of a whole validation).
pub fn name_string(name: &x509_cert::name::Name) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64);
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            match (attribute_name(&atv.oid), text_value(&atv.value)) {
                (Some(key), Some(val)) => {
                    out.push_str(key);
                    out.push('=');
                    let mut chars = val.char_indices().peekable();
                    while let Some((k, c)) = chars.next() {
                        match c {
                            '#' if k == 0 => out.push_str("\\#"),
                            ' ' if k == 0 || chars.peek().is_none() => out.push_str("\\ "),
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                                out.push('\\');
                                out.push(c)
                            }
                            '\x00'..='\x1f' | '\x7f' => {
                                let _ = write!(out, "\\{:02x}", c as u8);
                            }
                            _ => out.push(c),
                        }
                    }
                }
                _ => {
                    let _ = write!(out, "{atv}");
                }
            }
        }
    }
    out
}

/// The string value of an attribute, for the string types x509-cert prints as text.
fn text_value(v: &der::Any) -> Option<&str> {
    use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
    use der::{Tag, Tagged};
    match v.tag() {
        Tag::PrintableString => PrintableStringRef::try_from(v).ok().map(|s| s.as_str()),
        Tag::Utf8String => Utf8StringRef::try_from(v).ok().map(|s| s.as_str()),
        Tag::Ia5String => Ia5StringRef::try_from(v).ok().map(|s| s.as_str()),
        Tag::TeletexString => TeletexStringRef::try_from(v).ok().map(|s| s.as_str()),
        _ => None,
    }
}

/// The upper-case short name x509-cert prints for an attribute type, from a table of the
/// common ones filled once from const-oid's database; other types are looked up there.
fn attribute_name(oid: &const_oid::ObjectIdentifier) -> Option<&'static str> {
    use const_oid::db::{rfc3280, rfc4519, DB};
    use std::collections::HashMap;
    static COMMON: std::sync::OnceLock<HashMap<const_oid::ObjectIdentifier, &'static str>> =
        std::sync::OnceLock::new();
    let common = COMMON.get_or_init(|| {
        [
            rfc4519::CN,
            rfc4519::O,
            rfc4519::OU,
            rfc4519::C,
            rfc4519::L,
            rfc4519::ST,
            rfc4519::STREET,
            rfc4519::SERIAL_NUMBER,
            rfc4519::UID,
            rfc4519::DC,
            rfc4519::TITLE,
            rfc4519::GIVEN_NAME,
            rfc4519::SN,
            rfc4519::POSTAL_CODE,
            const_oid::ObjectIdentifier::new_unwrap("2.5.4.97"), // organizationIdentifier
            rfc3280::EMAIL_ADDRESS,
        ]
        .into_iter()
        .filter_map(|o| {
            // The shortest of its names, as x509-cert picks it.
            DB.find_names_for_oid(o)
                .min_by_key(|n| n.len())
                .map(|n| (o, &*Box::leak(n.to_ascii_uppercase().into_boxed_str())))
        })
        .collect()
    });
    // Other types (rare) are printed by x509-cert's own Display.
    common.get(oid).copied()
}

/// A certificate and the bytes it came in.
pub struct Cert {
    pub x509: Certificate,
    der: Vec<u8>,
    tbs: Range<usize>,
    fingerprint: [u8; 32],
    /// The subject as text, made once: reports and messages name certificates many times.
    subject: std::sync::OnceLock<String>,
    /// The subject's and the issuer's RDNs as [`same_name`] compares them, made once: path
    /// building compares each certificate's names with every other's, and normalizing them at
    /// each comparison cost 65 s of a debug build for one path among look-alike CAs named in
    /// 2,000 full-width letters (helper 146, 2026-12-05).
    subject_key: std::sync::OnceLock<NameKey>,
    issuer_key: std::sync::OnceLock<NameKey>,
}

/// A name's RDNs as [`same_name`] compares them: each normalized (NFKC), or `None` when a value
/// cannot be (such an RDN matches only itself, byte for byte).
type NameKey = Vec<Option<Vec<(String, String)>>>;

/// Certificates are shared between paths, pools and reports.
pub type CertRef = Arc<Cert>;

impl std::fmt::Debug for Cert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cert({})", self.subject_string())
    }
}

impl PartialEq for Cert {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}
impl Eq for Cert {}

impl Cert {
    /// Parse one certificate; bytes after it are ignored.
    pub fn from_ber(b: &[u8]) -> Result<Cert, X509Error> {
        let (raw, tbs) = outer_and_tbs(b)?;
        let x509 = parse_lenient::<Certificate>(raw, "certificate")?;
        let fingerprint: [u8; 32] = Hash::Sha256.digest(&[raw]).try_into().expect("32 bytes");
        Ok(Cert {
            x509,
            der: raw.to_vec(),
            tbs,
            fingerprint,
            subject: std::sync::OnceLock::new(),
            subject_key: std::sync::OnceLock::new(),
            issuer_key: std::sync::OnceLock::new(),
        })
    }

    /// From a parsed certificate (its DER encoding stands for the bytes received).
    pub fn from_parsed(c: &Certificate) -> Result<Cert, X509Error> {
        let der = c.to_der().map_err(|e| X509Error::Parse {
            what: "certificate",
            reason: e.to_string(),
        })?;
        Cert::from_ber(&der)
    }

    /// The bytes as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `tbsCertificate` as received: what the issuer signed.
    pub fn tbs_bytes(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }

    /// SHA-256 of the bytes as received.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    pub fn tbs(&self) -> &x509_cert::TbsCertificate {
        &self.x509.tbs_certificate
    }

    pub fn subject_string(&self) -> String {
        self.subject
            .get_or_init(|| name_string(&self.tbs().subject))
            .clone()
    }

    /// Is `issuer`'s subject this certificate's issuer, as [`same_name`] says, with each
    /// name normalized once per certificate.
    pub fn named_issuer(&self, issuer: &Cert) -> bool {
        keyed_match(
            (&self.tbs().issuer, &self.issuer_key),
            (&issuer.tbs().subject, &issuer.subject_key),
        )
    }

    pub fn is_self_issued(&self) -> bool {
        self.tbs().subject == self.tbs().issuer
    }

    /// An extension by type; `Err` when it is present but does not parse, or appears twice.
    pub fn extension<'a, T>(&'a self) -> Result<Option<(bool, T)>, der::Error>
    where
        T: Decode<'a> + const_oid::AssociatedOid,
    {
        self.tbs().get::<T>()
    }

    /// Does `issuer`'s key verify this certificate's signature (over the bytes received)?
    pub fn signed_by(&self, issuer: &Cert) -> Result<(), CryptoFail> {
        let sig = self
            .x509
            .signature
            .as_bytes()
            .ok_or_else(|| CryptoFail::Unsupported("signature is not whole bytes".into()))?;
        crypto::verify(
            &issuer.tbs().subject_public_key_info,
            &self.x509.signature_algorithm,
            None,
            self.tbs_bytes(),
            sig,
        )
    }
}

/// A CRL and the bytes it came in, read once and shared: a clone is a reference count.
/// Cloned whole, each validation copied every CRL the verifier held — a national CA's CRL of
/// 100,000 entries (4 MB) took 40 ms per signature in a debug build, the service's
/// validator copied them all once a second, and the validation data gathered for a verdict
/// copied each again (measured 2026-12-05).
#[derive(Debug, Clone)]
pub struct Crl(Arc<CrlData>);

#[derive(Debug)]
pub struct CrlData {
    pub list: CertificateList,
    der: Vec<u8>,
    tbs: Range<usize>,
    sha256: [u8; 32],
    /// Its issuer as [`same_name`] compares it, made once ([`Cert::named_issuer`]).
    issuer_key: std::sync::OnceLock<NameKey>,
}

impl std::ops::Deref for Crl {
    type Target = CrlData;
    fn deref(&self) -> &CrlData {
        &self.0
    }
}

use const_oid::db::rfc5280::{
    ID_CE_CRL_NUMBER, ID_CE_DELTA_CRL_INDICATOR, ID_CE_ISSUING_DISTRIBUTION_POINT,
};

/// A CRLNumber or BaseCRLNumber (an INTEGER) as a number that compares as such: its length
/// without leading zeros, then its bytes.
fn crl_number(der: &[u8]) -> Option<(usize, Vec<u8>)> {
    let n = der::asn1::UintRef::from_der(der).ok()?;
    let b = n.as_bytes();
    let b = &b[b.iter().take_while(|x| **x == 0).count()..];
    Some((b.len(), b.to_vec()))
}

impl Crl {
    /// What it covers beside its issuer: its issuingDistributionPoint as encoded, and whether
    /// it is a delta CRL. A CA's base CRL and its newer delta, or its ARL and a newer CRL of
    /// end entities, are not a CRL and its replay (helper 152).
    pub fn scope(&self) -> Vec<u8> {
        let mut scope = vec![u8::from(
            self.extension(ID_CE_DELTA_CRL_INDICATOR).is_some(),
        )];
        if let Some(e) = self.extension(ID_CE_ISSUING_DISTRIBUTION_POINT) {
            scope.extend(e.extn_value.as_bytes());
        }
        scope
    }

    /// Its CRL extension `oid`, the first if it has several.
    fn extension(&self, oid: const_oid::ObjectIdentifier) -> Option<&x509_cert::ext::Extension> {
        self.list
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid)
    }

    /// Its cRLNumber (RFC 5280 §5.2.3) as a number that compares as such: its length without
    /// leading zeros, then its bytes; none, or one that cannot be read, is the least.
    pub fn number(&self) -> (usize, Vec<u8>) {
        self.extension(ID_CE_CRL_NUMBER)
            .and_then(|e| crl_number(e.extn_value.as_bytes()))
            .unwrap_or_default()
    }

    /// A delta CRL's BaseCRLNumber (RFC 5280 §5.2.4), as [`Crl::number`] compares; one that
    /// cannot be read is the greatest (no complete CRL is taken as new enough for it). `None`:
    /// not a delta CRL.
    pub fn delta_base(&self) -> Option<(usize, Vec<u8>)> {
        self.extension(ID_CE_DELTA_CRL_INDICATOR)
            .map(|e| crl_number(e.extn_value.as_bytes()).unwrap_or((usize::MAX, Vec::new())))
    }

    pub fn from_ber(b: &[u8]) -> Result<Crl, X509Error> {
        let (raw, tbs) = outer_and_tbs(b)?;
        Ok(Crl(Arc::new(CrlData {
            list: parse_lenient::<CertificateList>(raw, "CRL")?,
            der: raw.to_vec(),
            tbs,
            sha256: Sha256::digest(raw).into(),
            issuer_key: std::sync::OnceLock::new(),
        })))
    }

    /// Did `cert`'s issuer, by name, issue this CRL ([`same_name`], each name normalized once)?
    pub fn names_issuer_of(&self, cert: &Cert) -> bool {
        keyed_match(
            (&self.list.tbs_cert_list.issuer, &self.issuer_key),
            (&cert.tbs().issuer, &cert.issuer_key),
        )
    }

    /// The SHA-256 of its encoding: the same CRL read twice is the same CRL.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// `tbsCertList` as received.
    pub fn tbs_bytes(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Does `issuer`'s key verify the CRL's signature?
    pub fn signed_by(&self, issuer: &Cert) -> Result<(), CryptoFail> {
        let sig = self
            .list
            .signature
            .as_bytes()
            .ok_or_else(|| CryptoFail::Unsupported("signature is not whole bytes".into()))?;
        crypto::verify(
            &issuer.tbs().subject_public_key_info,
            &self.list.signature_algorithm,
            None,
            self.tbs_bytes(),
            sig,
        )
    }
}

/// A BasicOCSPResponse (RFC 6960 §4.2.1) and the bytes it came in, shared as [`Crl`].
#[derive(Debug, Clone)]
pub struct Ocsp(Arc<OcspData>);

#[derive(Debug)]
pub struct OcspData {
    pub basic: x509_ocsp::BasicOcspResponse,
    der: Vec<u8>,
    tbs: Range<usize>,
    sha256: [u8; 32],
}

impl std::ops::Deref for Ocsp {
    type Target = OcspData;
    fn deref(&self) -> &OcspData {
        &self.0
    }
}

/// id-pkix-ocsp-basic (RFC 6960 §4.2.1).
const ID_PKIX_OCSP_BASIC: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");

impl Ocsp {
    /// From an OCSPResponse: status successful, a basic response.
    pub fn from_response(b: &[u8]) -> Result<Ocsp, X509Error> {
        let outer = ber::read(b)?;
        let r = parse_lenient::<x509_ocsp::OcspResponse>(outer.raw, "OCSP response")?;
        if r.response_status != x509_ocsp::OcspResponseStatus::Successful {
            return Err(X509Error::OcspStatus(format!("{:?}", r.response_status)));
        }
        let body = r.response_bytes.ok_or(X509Error::OcspNoBody)?;
        if body.response_type != ID_PKIX_OCSP_BASIC {
            return Err(X509Error::OcspNoBody);
        }
        // The OCTET STRING's contents are the BasicOCSPResponse as the responder wrote it.
        Ocsp::from_basic(body.response.as_bytes())
    }

    /// From a BasicOCSPResponse.
    pub fn from_basic(b: &[u8]) -> Result<Ocsp, X509Error> {
        let (raw, tbs) = outer_and_tbs(b)?;
        Ok(Ocsp(Arc::new(OcspData {
            basic: parse_lenient::<x509_ocsp::BasicOcspResponse>(raw, "BasicOCSPResponse")?,
            der: raw.to_vec(),
            tbs,
            sha256: Sha256::digest(raw).into(),
        })))
    }

    /// The SHA-256 of its encoding.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// `tbsResponseData` as received.
    pub fn tbs_bytes(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }

    /// The BasicOCSPResponse as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The OCSPResponse around it (status successful, id-pkix-ocsp-basic): what a PDF's DSS
    /// /OCSPs and CMS revocation data hold.
    pub fn response_der(&self) -> Vec<u8> {
        let basic = OctetString::new(self.der.clone()).and_then(|o| {
            x509_ocsp::OcspResponse {
                response_status: x509_ocsp::OcspResponseStatus::Successful,
                response_bytes: Some(x509_ocsp::ResponseBytes {
                    response_type: ID_PKIX_OCSP_BASIC,
                    response: o,
                }),
            }
            .to_der()
        });
        basic.unwrap_or_default()
    }

    /// Does `signer`'s key verify the response's signature?
    pub fn signed_by(&self, signer: &Cert) -> Result<(), CryptoFail> {
        let sig = self
            .basic
            .signature
            .as_bytes()
            .ok_or_else(|| CryptoFail::Unsupported("signature is not whole bytes".into()))?;
        crypto::verify(
            &signer.tbs().subject_public_key_info,
            &self.basic.signature_algorithm,
            None,
            self.tbs_bytes(),
            sig,
        )
    }

    /// The certificates the responder sent with the response: the first `max`.
    pub fn certificates(&self, max: usize) -> Vec<CertRef> {
        // Their bytes as received: walk BasicOCSPResponse { tbs, alg, sig, [0] EXPLICIT SEQUENCE OF Certificate }.
        let Ok(outer) = ber::read(&self.der) else {
            return Vec::new();
        };
        outer
            .children()
            .filter_map(Result::ok)
            .find(|t| t.tag_byte() == 0xa0)
            .and_then(|t| t.children().next().and_then(Result::ok))
            .map(|seq| {
                seq.children()
                    .filter_map(Result::ok)
                    .take(max)
                    .filter_map(|c| Cert::from_ber(c.raw).ok().map(Arc::new))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn pem_blocks(bytes: &[u8]) -> Result<Vec<pem::Pem>, X509Error> {
    let blocks = pem::parse_many(bytes).map_err(|e| X509Error::Pem(e.to_string()))?;
    // `parse_many` stops quietly at a block cut short: a bundle half written (a cron job's, or
    // a copy in progress) lost its last certificates without a word (helper 144, 2026-12-05).
    let begun = bytes.windows(11).filter(|w| w == b"-----BEGIN ").count();
    if blocks.len() < begun {
        return Err(X509Error::Pem(format!(
            "{begun} PEM blocks begin, {} end whole: a block is cut short",
            blocks.len()
        )));
    }
    Ok(blocks)
}

fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Certificates from PEM (one or more blocks, read leniently: any line length, CRLF, as
/// OpenSSL reads them) or from DER.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<CertRef>, X509Error> {
    if is_pem(bytes) {
        let certs: Vec<CertRef> = pem_blocks(bytes)?
            .iter()
            .filter(|p| {
                matches!(
                    p.tag(),
                    "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE"
                )
            })
            .map(|p| Cert::from_ber(p.contents()).map(Arc::new))
            .collect::<Result<_, _>>()?;
        if certs.is_empty() {
            return Err(X509Error::NoPemBlock("CERTIFICATE block"));
        }
        Ok(certs)
    } else {
        Ok(vec![Arc::new(Cert::from_ber(bytes)?)])
    }
}

/// A CRL from PEM or DER.
pub fn load_crl(bytes: &[u8]) -> Result<Crl, X509Error> {
    if is_pem(bytes) {
        let p = pem_blocks(bytes)?
            .into_iter()
            .find(|p| p.tag() == "X509 CRL")
            .ok_or(X509Error::NoPemBlock("X509 CRL block"))?;
        Crl::from_ber(p.contents())
    } else {
        Crl::from_ber(bytes)
    }
}

/// An OCSP response (OCSPResponse, DER or PEM) from a file.
pub fn load_ocsp(bytes: &[u8]) -> Result<Ocsp, X509Error> {
    if is_pem(bytes) {
        let p = pem_blocks(bytes)?
            .into_iter()
            .next()
            .ok_or(X509Error::NoPemBlock("OCSP RESPONSE block"))?;
        Ocsp::from_response(p.contents())
    } else {
        Ocsp::from_response(bytes)
    }
}

/// The value of an attribute of a name (the first one of that type), as text.
pub fn name_attribute(
    name: &x509_cert::name::Name,
    oid: const_oid::ObjectIdentifier,
) -> Option<String> {
    name_attributes(name, oid).into_iter().next()
}

/// The values of every attribute of that type in a name, as text (each string type decoded:
/// a BMPString or TeletexString value is as much a value as a UTF8String one).
pub fn name_attributes(
    name: &x509_cert::name::Name,
    oid: const_oid::ObjectIdentifier,
) -> Vec<String> {
    name.0
        .iter()
        .flat_map(|r| r.0.iter())
        .filter(|a| a.oid == oid)
        .filter_map(|a| decode(&a.value))
        .collect()
}

/// Do two names match (RFC 5280 §7.1)? Byte-equal names do; otherwise each RDN must hold the
/// same attribute types with values equal after decoding their string type (PrintableString,
/// UTF8String, IA5String, BMPString, TeletexString read as UTF-8 or else Latin-1), normalizing Unicode (NFKC,
/// RFC 4518 §2.2), folding case and runs of white space — so a CRL whose issuer is written as
/// PrintableString matches certificates that write it as UTF8String, and "Bộ" written
/// decomposed (NFD) is the "Bộ" written composed.
pub fn same_name(a: &x509_cert::name::Name, b: &x509_cert::name::Name) -> bool {
    names_match(a, b, Form::Nfkc)
}

/// [`same_name`] with canonical equivalence only (NFC: what is the same text, composed or
/// decomposed), not compatibility (NFKC: full-width letters, ligatures): who a client
/// certificate's names say it is (`kyso serve`'s `[[clients]]` by subject and issuer).
pub fn same_name_canonical(a: &x509_cert::name::Name, b: &x509_cert::name::Name) -> bool {
    names_match(a, b, Form::Nfc)
}

/// The Unicode normalization names are compared under.
#[derive(Clone, Copy)]
enum Form {
    Nfc,
    Nfkc,
}

fn names_match(a: &x509_cert::name::Name, b: &x509_cert::name::Name, f: Form) -> bool {
    if a == b {
        return true;
    }
    a.0.len() == b.0.len() && a.0.iter().zip(b.0.iter()).all(|(x, y)| rdns_match(x, y, f))
}

/// Do two RDNs match, as [`same_name`] compares them?
pub fn same_rdn(
    a: &x509_cert::name::RelativeDistinguishedName,
    b: &x509_cert::name::RelativeDistinguishedName,
) -> bool {
    rdns_match(a, b, Form::Nfkc)
}

/// [`same_name`] of two names, each normalized at most once, kept in its `OnceLock`.
fn keyed_match(
    (a, ka): (&x509_cert::name::Name, &std::sync::OnceLock<NameKey>),
    (b, kb): (&x509_cert::name::Name, &std::sync::OnceLock<NameKey>),
) -> bool {
    if a == b {
        return true;
    }
    if a.0.len() != b.0.len() {
        return false;
    }
    let (ka, kb) = (
        ka.get_or_init(|| name_key(a)),
        kb.get_or_init(|| name_key(b)),
    );
    a.0.iter()
        .zip(b.0.iter())
        .zip(ka.iter().zip(kb.iter()))
        .all(|((x, y), (p, q))| x == y || (p.is_some() && p == q))
}

fn name_key(n: &x509_cert::name::Name) -> NameKey {
    n.0.iter().map(|r| rdn_key(r, Form::Nfkc)).collect()
}

/// An RDN as names are compared: each value normalized, sorted; `None` if one cannot be.
fn rdn_key(
    r: &x509_cert::name::RelativeDistinguishedName,
    f: Form,
) -> Option<Vec<(String, String)>> {
    let mut v: Vec<(String, String)> =
        r.0.iter()
            .map(|atv| Some((atv.oid.to_string(), normalize(&atv.value, f)?)))
            .collect::<Option<_>>()?;
    v.sort();
    Some(v)
}

fn rdns_match(
    a: &x509_cert::name::RelativeDistinguishedName,
    b: &x509_cert::name::RelativeDistinguishedName,
    f: Form,
) -> bool {
    if a == b {
        return true;
    }
    matches!((rdn_key(a, f), rdn_key(b, f)), (Some(p), Some(q)) if p == q)
}

/// The longest attribute value (in characters) compared by its normalized text.
const MAX_NORMALIZED: usize = 4096;

/// A directory string's value as text, whatever its string type.
pub(crate) fn decode(v: &der::Any) -> Option<String> {
    let bytes = v.value();
    Some(match der::Tagged::tag(v) {
        der::Tag::PrintableString
        | der::Tag::Utf8String
        | der::Tag::Ia5String
        | der::Tag::VisibleString => std::str::from_utf8(bytes).ok()?.to_string(),
        // T.61 in practice: UTF-8 where the bytes are UTF-8 (as Windows reads it: CryptoAPI
        // tries UTF-8 first, so a Vietnamese name a CA wrote so shows there as written), else
        // Latin-1 (OpenSSL's reading, and Windows' when UTF-8 fails).
        der::Tag::TeletexString => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => bytes.iter().map(|&c| c as char).collect(),
        },
        // UCS-2 / UTF-16 big-endian: a value of an odd length is not one (its last byte was
        // once dropped, so two different names could compare the same).
        der::Tag::BmpString => {
            if bytes.len() % 2 != 0 {
                return None;
            }
            let u: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&u).ok()?
        }
        _ => return None,
    })
}

/// A value as names are compared: decoded, normalized (NFKC, or NFC), runs of white space as
/// one space, lower case.
fn normalize(v: &der::Any, f: Form) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    // No name a CA writes is this long (X.520 bounds a common name at 64 characters): longer
    // values match byte for byte only. A 3-million-character name, each character expanding
    // eighteenfold under NFKC, took a validation 8 s and 550 MB (helper 177). Counted in
    // characters, so that one name falls on one side whatever its string type (helper 179).
    // (Four bytes a character at most, in any string type: longer is past it undecoded.)
    if v.value().len() > 4 * MAX_NORMALIZED {
        return None;
    }
    let text = decode(v)?;
    if text.chars().count() > MAX_NORMALIZED {
        return None;
    }
    let s: String = match f {
        Form::Nfkc => text.nfkc().collect(),
        Form::Nfc => text.nfc().collect(),
    };
    Some(
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle cut short in its last block is refused, not read as the blocks before it
    /// (`pem::parse_many` stops quietly there; helper 144, 2026-12-05).
    #[test]
    fn a_pem_bundle_cut_short_is_refused() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/pki/");
        let mut bundle = std::fs::read(format!("{dir}ec.pem")).unwrap();
        bundle.extend(std::fs::read(format!("{dir}inter.pem")).unwrap());
        assert_eq!(load_certificates(&bundle).unwrap().len(), 2);
        let cut = &bundle[..bundle.len() * 3 / 4];
        let e = load_certificates(cut).unwrap_err().to_string();
        assert!(e.contains("2 PEM blocks begin, 1 end whole"), "{e}");
    }

    /// An OCSP response whose producedAt, thisUpdate and nextUpdate carry microseconds
    /// (asn1crypto writes them; RFC 6960 allows them), signed by a throwaway P-256 CA.
    const FRACTIONAL_OCSP: &str = "3082011a0a0100a08201133082010f06092b0601050507300101048201003081fd3081a4a21604143cafdb3a6f594b373858a9160c9268dfc4e9a210181632303236313230313034353732342e3132333435365a30723070303a300906052b0e03021a0500041411048cd20cb3592307d019fd0889562b62d3649204143cafdb3a6f594b373858a9160c9268dfc4e9a2100201028000181632303236313230313034353732342e3132333435365aa018181632303236313230323034353732342e3132333435365a300a06082a8648ce3d040302034800304502204a17dd3b8e60476bf56e5c96009cfc54f1beab00fca998fddac88795960bb968022100b6f63abdb25ffdc5974d1058c053a4c79ae3da9ecc4414913f6b17d198fe29bb";
    const ITS_CA: &str = "3082011a3081c2a003020102020101300a06082a8648ce3d040302300d310b300906035504030c026361301e170d3236313133303034353732345a170d3236313231313034353732345a300d310b300906035504030c0263613059301306072a8648ce3d020106082a8648ce3d030107034200045479c3ad40e62917dc7fd22d71d3b5fb647eff8bb11909cdcd3e3921d4dfd784fa72adb4754781c5473d900f4b06389fd21ec825446986ef0b6c1250c463dbc7a3133011300f0603551d130101ff040530030101ff300a06082a8648ce3d04030203470030440220277fcbd69b120fc200294eb70281fe6adae4394a44d0eaad3a6f71d03996b04d02204d283980a1974c1469c7ba419c29977cfb373467d6bc012f66e78be8f58d5296";

    #[test]
    fn names_print_as_x509_cert_prints_them() {
        use std::str::FromStr;
        for text in [
            "CN=Nguyễn Văn A,OU=Phòng Một cửa,O=UBND tỉnh Ninh Bình,L=Ninh Bình,C=VN",
            "CN=a\\,b+UID=CMND:0123456789,O=x\\+y\\;z,C=VN",
            "CN=\\ leading and trailing\\ ,SERIALNUMBER=MST:0101234567,ST=Hà Nội",
            "CN=\\#hash,DC=gov,DC=vn,emailAddress=a@b.vn",
            "CN=x,2.5.4.72=#0c0474657374,1.2.3.4=#13026869",
        ] {
            let name =
                x509_cert::name::Name::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(name_string(&name), name.to_string(), "{text}");
        }
        // A BMPString value (some CAs write Vietnamese names so) prints as x509-cert does.
        let mut name = x509_cert::name::Name::from_str("CN=x,C=VN").unwrap();
        let bmp = der::Any::new(der::Tag::BmpString, vec![0, b'A', 0x1e, 0xa1]).unwrap();
        let atv = x509_cert::attr::AttributeTypeAndValue {
            oid: const_oid::db::rfc4519::O,
            value: bmp,
        };
        name.0.push(x509_cert::name::RelativeDistinguishedName(
            der::asn1::SetOfVec::try_from(vec![atv]).unwrap(),
        ));
        assert_eq!(name_string(&name), name.to_string());
    }

    /// Path building's comparison of an issuer name, each normalized once per certificate,
    /// says what [`same_name`] says: full-width letters, case, runs of spaces, an RDN's values
    /// in another order match; another name, another RDN count, a torn BMPString do not.
    #[test]
    fn issuer_names_compare_once_normalized_as_same_name_compares_them() {
        use std::str::FromStr;
        let any = |tag, bytes: &[u8]| der::Any::new(tag, bytes.to_vec()).unwrap();
        let with = |issuer: &x509_cert::name::Name, subject: &x509_cert::name::Name| {
            let mut c = Certificate::from_der(&hex::decode(ITS_CA).unwrap()).unwrap();
            c.tbs_certificate.issuer = issuer.clone();
            c.tbs_certificate.subject = subject.clone();
            Cert::from_ber(&c.to_der().unwrap()).unwrap()
        };
        let name = |text: &str| x509_cert::name::Name::from_str(text).unwrap();
        let one = |tag, bytes: &[u8]| {
            let atv = x509_cert::attr::AttributeTypeAndValue {
                oid: const_oid::db::rfc4519::CN,
                value: any(tag, bytes),
            };
            x509_cert::name::Name::from(vec![x509_cert::name::RelativeDistinguishedName(
                der::asn1::SetOfVec::try_from(vec![atv]).unwrap(),
            )])
        };
        let names = [
            name("CN=Bộ Công an CA,O=Ban Cơ yếu Chính phủ,C=VN"),
            name("CN=bộ  công AN ca,O=Ban Cơ yếu Chính phủ,C=VN"),
            name("CN=Ｂộ Công an CA,O=Ban Cơ yếu Chính phủ,C=VN"),
            name("CN=Bộ Công an CA,O=Ban Cơ yếu Chính phủ"),
            name("CN=Bộ Tư pháp CA,O=Ban Cơ yếu Chính phủ,C=VN"),
            name("CN=a+O=b,C=VN"),
            name("O=b+CN=a,C=VN"),
            one(der::Tag::BmpString, &[0, b'V', 0x01, 0xb0]),
            one(der::Tag::Utf8String, "Vư".as_bytes()),
            one(der::Tag::BmpString, &[0, b'V', 0x01, 0xb0, 0x41]),
        ];
        let mut matched = 0;
        for a in &names {
            for b in &names {
                let (child, issuer) = (with(a, a), with(b, b));
                let want = same_name(a, b);
                assert_eq!(child.named_issuer(&issuer), want, "{a} / {b}");
                // Asked again, from what was kept.
                assert_eq!(child.named_issuer(&issuer), want, "{a} / {b}, again");
                matched += usize::from(want);
            }
        }
        // The first three are one name, so are the two orders and the two "Vư"; each other
        // matches itself.
        assert_eq!(matched, 9 + 4 + 4 + 3, "{names:?}");
    }

    #[test]
    fn directory_strings_decode_by_their_type_and_a_torn_one_is_no_value() {
        let any = |tag, bytes: &[u8]| der::Any::new(tag, bytes.to_vec()).unwrap();
        // "Vư" as UCS-2, and T.61 read as Latin-1 ("é" is 0xE9 there).
        assert_eq!(
            decode(&any(der::Tag::BmpString, &[0, b'V', 0x01, 0xb0])).as_deref(),
            Some("Vư")
        );
        assert_eq!(
            decode(&any(der::Tag::TeletexString, b"caf\xe9")).as_deref(),
            Some("café")
        );
        // T.61 bytes that are UTF-8 read as UTF-8, as Windows shows them ("Nguyễn", not
        // "Nguyá»\u{85}n").
        assert_eq!(
            decode(&any(der::Tag::TeletexString, "Nguyễn".as_bytes())).as_deref(),
            Some("Nguyễn")
        );
        // A BMPString with an odd byte is no value (the odd byte was once dropped, and
        // "Vư" + 0x41 read as "Vư").
        assert_eq!(
            decode(&any(der::Tag::BmpString, &[0, b'V', 0x01, 0xb0, 0x41])),
            None
        );
    }

    #[test]
    fn ocsp_times_with_fractions_of_a_second_are_read_and_the_signature_still_verifies() {
        let der = hex::decode(FRACTIONAL_OCSP).unwrap();
        assert!(der.windows(8).any(|w| w == b".123456Z"));
        let ocsp = Ocsp::from_response(&der).expect("a response with fractional times reads");
        let ca = load_certificates(&hex::decode(ITS_CA).unwrap()).unwrap();
        // Verified over tbsResponseData as received, fractions included.
        ocsp.signed_by(&ca[0]).expect("its signature verifies");
        let t = ocsp.basic.tbs_response_data.responses[0]
            .this_update
            .0
            .to_system_time();
        let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap();
        assert_eq!(
            secs.subsec_nanos(),
            0,
            "the fraction is dropped, not rounded up"
        );
    }
}
