//! Two-phase remote signing: the document stays where it is, only a digest travels.
//!
//! 1. `prepare` (where the document is): build the signed attributes — and for PAdES the
//!    incremental update with an empty `/Contents` — and hand out the digest of the
//!    data-to-be-signed with a [`Pending`] state.
//! 2. The holder of the token signs that digest (`kyso sign digest`, or any PKCS#11 client).
//! 3. `finalize` (where the document is): check the signature against the certificate's public
//!    key over the same digest — a wrong or foreign signature is refused, nothing is written —
//!    then embed it (and, for B-T, a time-stamp over it).
//!
//! The protocol, for other clients: docs/remote-signing.md.

use crate::cades::{self, AttributeInput, ID_DATA};
use crate::error::{Result, SignError};
use crate::pades::{self, PadesOptions, PreparedPdf};
use der::{Decode, Encode};
use kyso_hsm::{HashAlg, SignatureAlgorithm};
use serde::{Deserialize, Serialize};
use std::time::SystemTime;
use x509_cert::Certificate;

/// What is being signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteFormat {
    Pades,
    Cades,
}

/// The state kept between prepare and finalize. Holds no secret: certificates, the signed
/// attributes and offsets. For PAdES the prepared PDF is kept beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub version: u32,
    pub format: RemoteFormat,
    /// e.g. `rsa-pkcs1-sha256`.
    pub algorithm: String,
    /// Hex DER of the signer's certificate and the chain above it.
    pub certificate: String,
    pub chain: Vec<String>,
    /// Hex DER of the signed attributes (SET OF).
    pub signed_attributes: String,
    /// Hex digest of the signed attributes: what the token signs.
    pub digest: String,
    pub digest_algorithm: String,
    /// PAdES: offsets of `/Contents` `<` and after `>` in the prepared PDF.
    pub contents: Option<(usize, usize)>,
    /// CAdES attached: the content is embedded at finalize (hex).
    pub attached_content: Option<String>,
}

fn alg_name(a: SignatureAlgorithm) -> String {
    match a {
        SignatureAlgorithm::RsaPkcs1v15(h) => {
            format!("rsa-pkcs1-{}", h.name().to_lowercase().replace('-', ""))
        }
        SignatureAlgorithm::RsaPss(h) => {
            format!("rsa-pss-{}", h.name().to_lowercase().replace('-', ""))
        }
        SignatureAlgorithm::Ecdsa(h) => {
            format!("ecdsa-{}", h.name().to_lowercase().replace('-', ""))
        }
    }
}

fn unhex(what: &str, s: &str) -> Result<Vec<u8>> {
    hex::decode(s).map_err(|e| SignError::Input(format!("pending state: {what} is not hex: {e}")))
}

/// The algorithm to use with a certificate's key unless told otherwise.
pub fn default_algorithm(cert: &Certificate) -> Result<SignatureAlgorithm> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let rsa = const_oid::db::rfc5912::RSA_ENCRYPTION;
    let ec = const_oid::db::rfc5912::ID_EC_PUBLIC_KEY;
    if spki.algorithm.oid == rsa {
        return Ok(SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256));
    }
    if spki.algorithm.oid == ec {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
        return match curve.and_then(|c| kyso_hsm::Curve::from_oid(&c)) {
            Some(kyso_hsm::Curve::P256) => Ok(SignatureAlgorithm::Ecdsa(HashAlg::Sha256)),
            Some(kyso_hsm::Curve::P384) => Ok(SignatureAlgorithm::Ecdsa(HashAlg::Sha384)),
            None => Err(SignError::Input(
                "the certificate's EC curve is not P-256 or P-384".into(),
            )),
        };
    }
    Err(SignError::Input(
        "the certificate's key is neither RSA nor EC".into(),
    ))
}

/// Refuse an algorithm the certificate's key cannot make: an RSA key asked for ECDSA (or an
/// EC key for RSA) prepared a state no signature could ever finalize, holding a pending slot
/// until it expired (helper 166).
fn fits(cert: &Certificate, alg: SignatureAlgorithm) -> Result<()> {
    let key = cert.tbs_certificate.subject_public_key_info.algorithm.oid;
    let rsa = key == const_oid::db::rfc5912::RSA_ENCRYPTION;
    let ec = key == const_oid::db::rfc5912::ID_EC_PUBLIC_KEY;
    let fit = match alg {
        SignatureAlgorithm::RsaPkcs1v15(_) | SignatureAlgorithm::RsaPss(_) => rsa,
        // A curve kyso signs with (P-256, P-384): a P-521 key asked for ECDSA prepared a
        // state nothing could finalize (helper 168).
        SignatureAlgorithm::Ecdsa(_) => ec && default_algorithm(cert).is_ok(),
    };
    if fit {
        Ok(())
    } else {
        Err(SignError::Input(format!(
            "the algorithm {} does not fit the certificate's key ({})",
            alg_name(alg),
            if rsa {
                "RSA"
            } else if ec && default_algorithm(cert).is_ok() {
                "EC"
            } else if ec {
                "EC, on a curve other than P-256 or P-384"
            } else {
                "neither RSA nor EC"
            }
        )))
    }
}

fn pending(
    format: RemoteFormat,
    alg: SignatureAlgorithm,
    cert: &Certificate,
    chain: &[Certificate],
    p: &cades::Prepared,
) -> Result<Pending> {
    fits(cert, alg)?;
    Ok(Pending {
        version: 1,
        format,
        algorithm: alg_name(alg),
        certificate: hex::encode(cert.to_der()?),
        chain: chain
            .iter()
            .map(|c| c.to_der().map(hex::encode))
            .collect::<der::Result<_>>()?,
        signed_attributes: hex::encode(&p.dtbs),
        digest: hex::encode(&p.dtbs_digest),
        digest_algorithm: alg.hash().name().into(),
        contents: None,
        attached_content: None,
    })
}

/// What `prepare` was given, less the document and the certificates: enough for the holder
/// of the token to prepare the same document itself and see that the digest it is asked to
/// sign is that document's, prepared for its own certificate (docs/remote-signing.md, "The
/// desk check"). The same inputs give the same bytes. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub format: RemoteFormat,
    /// e.g. `rsa-pkcs1-sha256`.
    pub algorithm: String,
    /// The time the signature says it was made (PAdES /M, CAdES signingTime), in seconds
    /// since 1970-01-01 UTC.
    pub signing_time: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// PAdES: the bytes reserved for the CMS in /Contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve: Option<usize>,
    /// PAdES: a visible signer's stamp, `PAGE,X,Y,W,H` (drawn with the same font).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub copy_stamp: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sign_over_broken: bool,
    /// CAdES: the content goes inside the signature.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attached: bool,
}

/// Most bytes a recipe may reserve for a PAdES signature's CMS (a chain of 8 large
/// certificates and a time-stamp need well under 100 KiB).
pub const MAX_RESERVE: usize = 1 << 20;

/// The bytes a PAdES signature by `cert` (with `chain`, and a time-stamp if `timestamped`)
/// reserves for its CMS.
pub fn reserve_for(cert: &Certificate, chain: &[Certificate], timestamped: bool) -> usize {
    let certs: usize = std::iter::once(cert)
        .chain(chain)
        .map(|c| c.to_der().map(|d| d.len()).unwrap_or(4096))
        .sum();
    (certs
        + 1024
        + 2048
        + if timestamped {
            pades::TIMESTAMP_ROOM
        } else {
            0
        })
    .next_multiple_of(1024)
}

impl Recipe {
    /// A recipe for signing now (to the second: the signature keeps no more).
    pub fn now(format: RemoteFormat, alg: SignatureAlgorithm) -> Recipe {
        let secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Recipe {
            format,
            algorithm: alg_name(alg),
            signing_time: secs,
            reason: None,
            location: None,
            reserve: None,
            stamp: None,
            copy_stamp: false,
            sign_over_broken: false,
            attached: false,
        }
    }

    /// The signing time; a number no clock reaches is an input error, not a panic.
    pub fn time(&self) -> Result<SystemTime> {
        SystemTime::UNIX_EPOCH
            .checked_add(std::time::Duration::from_secs(self.signing_time))
            .filter(|t| {
                t.duration_since(SystemTime::UNIX_EPOCH)
                    .is_ok_and(|d| d.as_secs() < 253_402_300_800)
            })
            .ok_or_else(|| {
                SignError::Input(format!(
                    "signing_time {} is past the year 9999",
                    self.signing_time
                ))
            })
    }

    fn alg(&self) -> Result<SignatureAlgorithm> {
        SignatureAlgorithm::parse(&self.algorithm)
            .ok_or_else(|| SignError::Input(format!("unknown algorithm {:?}", self.algorithm)))
    }

    /// Phase one by this recipe: the prepared PDF (PAdES; keep it) and the pending state.
    pub fn prepare(
        &self,
        document: &[u8],
        cert: &Certificate,
        chain: &[Certificate],
    ) -> Result<(Option<Vec<u8>>, Pending)> {
        let alg = self.alg()?;
        match self.format {
            RemoteFormat::Pades => {
                if self.attached {
                    return Err(SignError::Input("attached is for CAdES".into()));
                }
                let stamp = match &self.stamp {
                    Some(s) => Some(s.parse().map_err(SignError::Input)?),
                    None => None,
                };
                let opts = PadesOptions {
                    reason: self.reason.clone(),
                    location: self.location.clone(),
                    reserve: Some(
                        self.reserve
                            .unwrap_or_else(|| reserve_for(cert, chain, false)),
                    ),
                    stamp,
                    copy_stamp: self.copy_stamp,
                    over_broken: self.sign_over_broken,
                    ..PadesOptions::vietnam()
                };
                let (pdf, p) =
                    prepare_pades(document, cert, chain, alg, self.time()?, &opts, false)?;
                Ok((Some(pdf), p))
            }
            RemoteFormat::Cades => {
                if self.reason.is_some() || self.location.is_some() || self.stamp.is_some() {
                    return Err(SignError::Input(
                        "reason, location and stamp are for PAdES".into(),
                    ));
                }
                Ok((
                    None,
                    prepare_cades(document, self.attached, cert, chain, alg, self.time()?)?,
                ))
            }
        }
    }

    /// The desk check: prepare `document` by this recipe for `cert` (the token's own) and
    /// compare the digest with `digest`, the one the token is asked to sign. Another
    /// document, another certificate, other attributes or another prepared PDF (a changed
    /// page, say) give another digest: refused. So is a recipe whose signing time is more
    /// than a day from `now` (the signature would claim it) or that reserves more than
    /// [`MAX_RESERVE`] (the desk would build it).
    pub fn check(
        &self,
        digest: &str,
        document: &[u8],
        cert: &Certificate,
        now: SystemTime,
    ) -> Result<()> {
        let day = std::time::Duration::from_secs(86_400);
        let t = self.time()?;
        if t > now + day || t + day < now {
            return Err(SignError::Input(format!(
                "the recipe's signing time ({} seconds since 1970) is more than a day from this machine's clock: the signature would claim it; nothing was signed",
                self.signing_time
            )));
        }
        if self.reserve.is_some_and(|r| r > MAX_RESERVE) {
            return Err(SignError::Input(format!(
                "the recipe reserves more than {MAX_RESERVE} bytes for the signature; nothing was signed"
            )));
        }
        let (_, p) = self.prepare(document, cert, &[])?;
        if !p.digest.eq_ignore_ascii_case(digest.trim()) {
            return Err(SignError::Input(format!(
                "the digest to sign is not that of this document prepared for this token's certificate (prepared here: {}; asked to sign: {}): another document, another certificate or other signed data was prepared; nothing was signed",
                p.digest,
                digest.trim()
            )));
        }
        Ok(())
    }
}

/// Phase one for a PDF: the prepared PDF (keep it) and the pending state.
pub fn prepare_pades(
    pdf: &[u8],
    cert: &Certificate,
    chain: &[Certificate],
    alg: SignatureAlgorithm,
    now: SystemTime,
    opts: &PadesOptions,
    timestamped: bool,
) -> Result<(Vec<u8>, Pending)> {
    let reserve = opts
        .reserve
        .unwrap_or_else(|| reserve_for(cert, chain, timestamped));
    let prepared = pades::prepare_pdf(pdf, Some(cert), now, reserve, opts)?;
    let digest = prepared.digest(alg.hash());
    let p = cades::prepare(
        cert,
        alg,
        &AttributeInput {
            content_type: ID_DATA,
            content_digest: &digest,
            signing_time: None,
        },
    )?;
    let mut pend = pending(RemoteFormat::Pades, alg, cert, chain, &p)?;
    pend.contents = Some(prepared.contents);
    Ok((prepared.bytes, pend))
}

/// Phase one for CAdES over `data`.
pub fn prepare_cades(
    data: &[u8],
    attached: bool,
    cert: &Certificate,
    chain: &[Certificate],
    alg: SignatureAlgorithm,
    now: SystemTime,
) -> Result<Pending> {
    let digest = alg.hash().digest(data);
    let p = cades::prepare(
        cert,
        alg,
        &AttributeInput {
            content_type: ID_DATA,
            content_digest: &digest,
            signing_time: Some(now),
        },
    )?;
    let mut pend = pending(RemoteFormat::Cades, alg, cert, chain, &p)?;
    pend.attached_content = attached.then(|| hex::encode(data));
    Ok(pend)
}

/// Check `signature` over `digest` with the certificate's public key (RustCrypto verifiers).
pub fn check_signature(
    cert: &Certificate,
    alg: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<()> {
    let spki = cert.tbs_certificate.subject_public_key_info.to_der()?;
    if kyso_hsm::alg::verifies(&spki, alg, digest, signature) {
        Ok(())
    } else {
        Err(SignError::Input("the signature does not verify with the certificate's public key over the prepared digest (wrong key, wrong digest, or corrupted)".into()))
    }
}

/// Phase three: check the signature, then embed it. `prepared_pdf` is the PDF from
/// [`prepare_pades`] (PAdES only); the result is the signed PDF or the CMS.
pub fn finalize(
    pending: &Pending,
    prepared_pdf: Option<Vec<u8>>,
    signature: &[u8],
    tsa: Option<&crate::tsp::TimestampSource>,
) -> Result<Vec<u8>> {
    if pending.version != 1 {
        return Err(SignError::Input(format!(
            "pending state version {} is not supported",
            pending.version
        )));
    }
    let alg = SignatureAlgorithm::parse(&pending.algorithm).ok_or_else(|| {
        SignError::Input(format!(
            "pending state: unknown algorithm {:?}",
            pending.algorithm
        ))
    })?;
    let cert = Certificate::from_der(&unhex("certificate", &pending.certificate)?)?;
    let chain = pending
        .chain
        .iter()
        .map(|c| Ok(Certificate::from_der(&unhex("chain", c)?)?))
        .collect::<Result<Vec<_>>>()?;
    let dtbs = unhex("signed_attributes", &pending.signed_attributes)?;
    let digest = alg.hash().digest(&dtbs);
    if hex::encode(&digest) != pending.digest {
        return Err(SignError::Input(
            "pending state: the digest does not match the signed attributes".into(),
        ));
    }
    // A certificate that may not sign now signs nothing, as at prepare (the CLI finalized with
    // one expired since; helper 166).
    if let Some(reason) = crate::unfit_to_sign(&cert, std::time::SystemTime::now()) {
        return Err(kyso_hsm::HsmError::UnfitCertificate {
            key: "the pending state's certificate".into(),
            subject: cert.tbs_certificate.subject.to_string(),
            reason,
        }
        .into());
    }
    check_signature(&cert, alg, &digest, signature)?;
    let attrs = x509_cert::attr::Attributes::from_der(&dtbs)?;
    // The certificate embedded must be the one the signed attributes name: another over the
    // same key (another subject, issued by anyone) was embedded as the signer (helper 166).
    let named = cades::signing_certificate_v2(&cert, alg.hash())?;
    if !attrs.iter().any(|a| *a == named) {
        return Err(SignError::Input(
            "pending state: the certificate is not the one its signed attributes name (signing-certificate-v2)".into(),
        ));
    }
    // The prepared PDF is judged before anything else is asked: a TSA's time-stamp (paid, or a
    // token signature) was spent on a finalize then refused (helper 168).
    let prepared = match pending.format {
        RemoteFormat::Cades => None,
        RemoteFormat::Pades => {
            let bytes = prepared_pdf
                .ok_or_else(|| SignError::Input("finalize needs the prepared PDF".into()))?;
            let contents = pending
                .contents
                .ok_or_else(|| SignError::Input("pending state has no /Contents offsets".into()))?;
            if contents.1 > bytes.len()
                || contents.0.checked_add(2).is_none_or(|end| end > contents.1)
                || bytes.get(contents.0) != Some(&b'<')
                || bytes.get(contents.1 - 1) != Some(&b'>')
            {
                return Err(SignError::Input(
                    "the prepared PDF does not match the pending state".into(),
                ));
            }
            // What prepare wrote: the hole all zeros, and the /ByteRange naming it. Text put
            // in the hole, or the hole widened with its offsets edited, finalized with exit 0
            // into a PDF every verifier refused (helper 166).
            let byte_range = [0, contents.0, contents.1, bytes.len() - contents.1];
            let hole = &bytes[contents.0 + 1..contents.1 - 1];
            let named = crate::pades::byte_range_text(byte_range);
            if hole.iter().any(|&b| b != b'0')
                || memchr::memmem::find(&bytes[..contents.0], named.as_bytes()).is_none()
            {
                return Err(SignError::Input(
                    "the prepared PDF does not match the pending state (its /Contents or /ByteRange is not as prepared)".into(),
                ));
            }
            let prepared = PreparedPdf {
                byte_range,
                contents,
                original_len: 0,
                bytes,
            };
            // The document must be the one whose digest went into the signed attributes.
            let want = prepared.digest(alg.hash());
            let attrs_digest = message_digest_of(&dtbs)?;
            if want != attrs_digest {
                return Err(SignError::Input(
                    "the prepared PDF is not the one that was prepared (its digest differs)".into(),
                ));
            }
            Some(prepared)
        }
    };
    let content = match &pending.attached_content {
        Some(h) => Some(unhex("attached_content", h)?),
        None => None,
    };
    // The content attached must be the one whose digest was signed: a pending state whose
    // content was replaced made a CMS that failed verification, exit 0 (found by an
    // attacker's reading, 2026-12-03).
    if let Some(c) = &content {
        if alg.hash().digest(c) != message_digest_of(&dtbs)? {
            return Err(SignError::Input(
                "pending state: the attached content is not the content whose digest was signed (its message-digest differs)".into(),
            ));
        }
    }
    // A time-stamp asked for a PDF whose hole has no room for one (prepared without
    // --timestamped) was spent, then the signature did not fit (helper 169): the CMS without
    // it must leave the room a time-stamp is reserved (8 KiB) before one is asked.
    if let (Some(_), Some(p)) = (tsa, &prepared) {
        let bare = cades::assemble(
            Some(&cert),
            &cert,
            &chain,
            alg,
            attrs.clone(),
            signature.to_vec(),
            None,
            ID_DATA,
            None,
        )?;
        let room = (p.contents.1 - p.contents.0 - 2) / 2;
        if bare.len() + pades::TIMESTAMP_ROOM > room {
            return Err(SignError::Input(format!(
                "the prepared signature has room for {room} bytes, {} of them taken without a time-stamp: too few for one (about {}); it was prepared without one (prepare again with --timestamped), or finalize without --tsa",
                bare.len(),
                pades::TIMESTAMP_ROOM
            )));
        }
    }
    let unsigned = match tsa {
        Some(t) => {
            let token = t.stamp(alg.hash(), &alg.hash().digest(signature))?;
            let mut set = der::asn1::SetOfVec::new();
            set.insert(crate::tsp::signature_timestamp_attribute(&token)?)?;
            Some(set)
        }
        None => None,
    };
    let cms = cades::assemble(
        Some(&cert),
        &cert,
        &chain,
        alg,
        attrs,
        signature.to_vec(),
        content.as_deref(),
        ID_DATA,
        unsigned,
    )?;
    match prepared {
        None => Ok(cms),
        Some(prepared) => prepared.embed(&cms),
    }
}

/// The message-digest attribute's value in DER signed attributes.
fn message_digest_of(dtbs: &[u8]) -> Result<Vec<u8>> {
    let attrs = x509_cert::attr::Attributes::from_der(dtbs)?;
    let a = attrs
        .iter()
        .find(|a| a.oid == const_oid::db::rfc6268::ID_MESSAGE_DIGEST)
        .ok_or_else(|| SignError::Input("signed attributes without message-digest".into()))?;
    let v = a
        .values
        .iter()
        .next()
        .ok_or_else(|| SignError::Input("empty message-digest".into()))?;
    Ok(v.decode_as::<der::asn1::OctetString>()?.into_bytes())
}
