//! Long-term levels (ETSI EN 319 142-1 and 319 122-1): B-LT embeds the validation data a
//! signature's verdict rests on — every certificate of its paths and of its time-stamps', and
//! the CRLs and OCSP responses that gave their status — so the verdict can be reached again
//! when the CAs no longer answer; B-LTA adds an archive time-stamp over all of it, renewed
//! before its TSA's certificate expires or its algorithms weaken.
//!
//! The validation data is what kyso-verify used to reach a TOTAL-PASSED verdict now (fetching
//! what the certificates name when the validator may): a signature that does not validate now
//! is not extended.

use crate::error::{Result, SignError};
use crate::tsp::TimestampSource;
use der::Decode;
use kyso_verify::{Evidence, Indication, Report, Validator};
use std::time::SystemTime;

/// The long-term level to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Validation data embedded.
    BLt,
    /// Validation data and an archive (PAdES: document) time-stamp over everything.
    BLta,
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "B-LT" | "LT" => Ok(Level::BLt),
            "B-LTA" | "LTA" => Ok(Level::BLta),
            _ => Err(format!("level {s:?}: give B-LT or B-LTA")),
        }
    }
}

/// Every signature of the report must validate now; their evidence, merged.
fn evidence_of(report: &Report) -> Result<Evidence> {
    if report.signatures.is_empty() {
        return Err(SignError::Input(
            "the document has no signature to extend".into(),
        ));
    }
    let mut all = Evidence::default();
    for s in &report.signatures {
        if s.indication != Indication::TotalPassed {
            return Err(SignError::Input(format!(
                "signature {} is {}{}: {}; only a signature that validates now can be extended (give --trust, --certs, --crl or --ocsp, or let kyso fetch)",
                s.field.as_deref().unwrap_or("(CMS)"),
                s.indication.as_str(),
                s.subindication
                    .and_then(|x| serde_json::to_value(x).ok())
                    .and_then(|v| v.as_str().map(|v| format!("/{v}")))
                    .unwrap_or_default(),
                s.messages.first().cloned().unwrap_or_default()
            )));
        }
        all.merge(&s.evidence);
    }
    Ok(all)
}

fn dss_data(e: &Evidence) -> crate::dss::DssData {
    crate::dss::DssData {
        certs: e.certs.iter().map(|c| c.der().to_vec()).collect(),
        crls: e.crls.iter().map(|c| c.der().to_vec()).collect(),
        ocsps: e.ocsps.iter().map(|o| o.response_der()).collect(),
    }
}

/// Does the last revision end with a document time-stamp (nothing but validation data after)?
fn newest_is_doc_timestamp(report: &Report) -> bool {
    report
        .signatures
        .iter()
        .filter(|s| s.format == "PAdES document time-stamp")
        .any(|s| s.covers_whole_document == Some(true))
}

/// The signatures of a report with no trusted time (no signature time-stamp, no document
/// time-stamp over them: B-B, and plain CMS or `adbe.pkcs7.detached` without one — left out,
/// they were extended with no time at all; an attacker's reading, 2026-12-04), by name.
fn untimed(report: &Report) -> Vec<String> {
    report
        .signatures
        .iter()
        .filter(|s| s.format != "PAdES document time-stamp" && !s.facts.time_proven)
        .map(|s| s.field.clone().unwrap_or_else(|| "(CMS)".into()))
        .collect()
}

/// B-LT and B-LTA build on B-T: a signature with no trusted time is given one, which needs a
/// time-stamping authority (EN 319 102-1 augmentation; a B-B signature "extended" was left
/// B-B, and the command said it had reached the level; a new user's reading, 2026-12-04).
fn tsa_for_untimed<'t>(
    untimed: &[String],
    tsa: Option<&'t TimestampSource>,
) -> Result<Option<&'t TimestampSource>> {
    if untimed.is_empty() {
        return Ok(None);
    }
    tsa.map(Some).ok_or_else(|| {
        SignError::Input(format!(
            "{} {} no time-stamp: B-LT and B-LTA build on a trusted time over the signature; give a time-stamping authority (--tsa URL, or --tsa internal --tsa-key URI) and kyso adds one",
            untimed.join(", "),
            if untimed.len() == 1 { "has" } else { "have" }
        ))
    })
}

/// Bring a signed PDF to `level`: a signature with no trusted time first gets a document
/// time-stamp over it (its B-T: EN 319 142-1 §6.3, "either by a signature-time-stamp attribute
/// or a document-time-stamp"); then the DSS with every signature's (and time-stamp's)
/// validation data; for B-LTA a document time-stamp over it all, then the DSS for that
/// time-stamp's own path. `renew` adds a new document time-stamp even if the newest revision
/// is one (what an archivist does before the previous time-stamp's TSA certificate expires).
pub fn extend_pdf(
    pdf: &[u8],
    v: &Validator,
    level: Level,
    tsa: Option<&TimestampSource>,
    renew: bool,
    now: SystemTime,
) -> Result<Vec<u8>> {
    let mut report = v.verify_pdf(pdf);
    // Every signature validates now before anything is added.
    evidence_of(&report)?;
    let mut pdf = std::borrow::Cow::Borrowed(pdf);
    let stamped = match tsa_for_untimed(&untimed(&report), tsa)? {
        Some(tsa) => {
            pdf = std::borrow::Cow::Owned(crate::pades::timestamp_pdf(&pdf, now, tsa)?);
            report = v.verify_pdf(&pdf);
            true
        }
        None => false,
    };
    let evidence = evidence_of(&report)?;
    let mut out = crate::dss::add_dss(&pdf, &dss_data(&evidence))?;
    // The time-stamp just added gives the trusted time; the DSS after it is covered only by
    // another — as is validation data added after an older document time-stamp (a pyHanko
    // B-T with a document time-stamp and no DSS was refused B-LTA without --renew, "the
    // validation data it rests on did not all go into it"; helper 244).
    let dss_added = out.as_slice() != &*pdf;
    if level == Level::BLta && (renew || stamped || dss_added || !newest_is_doc_timestamp(&report))
    {
        let tsa = tsa.ok_or_else(|| {
            SignError::Input("B-LTA needs a time-stamping authority (--tsa internal|URL)".into())
        })?;
        out = crate::pades::timestamp_pdf(&out, now, tsa)?;
        // The document time-stamp's own validation data, after it.
        let report = v.verify_pdf(&out);
        let evidence = evidence_of(&report)?;
        out = crate::dss::add_dss(&out, &dss_data(&evidence))?;
    }
    // What is handed back validates as what was given did, every signature (helper 175: an
    // update that broke an earlier signature was written, and `kyso extend` said "extended").
    evidence_of(&v.verify_pdf(&out)).map_err(|e| {
        SignError::Input(format!(
            "the extended document does not validate ({e}); nothing was written"
        ))
    })?;
    Ok(out)
}

/// Bring a CMS signature (attached, or detached over `content`) to `level`: B-LT puts the
/// validation data into SignedData.certificates and .crls (EN 319 122-1 §5.5.3; OCSP responses
/// as RFC 5940 other revocation info); B-LTA adds an archive-time-stamp-v3 with its
/// ats-hash-index-v3 to every SignerInfo, then the validation data of that time-stamp.
/// `renew` adds a new archive time-stamp even if the signature has one.
pub fn extend_cms(
    cms: &[u8],
    content: Option<&[u8]>,
    v: &Validator,
    level: Level,
    tsa: Option<&TimestampSource>,
    renew: bool,
) -> Result<Vec<u8>> {
    // `report`: the CMS's, when already made (validation may fetch: not done twice).
    let add = |cms: &[u8], report: Option<Report>| -> Result<Vec<u8>> {
        let report = report.unwrap_or_else(|| v.verify_cms(cms, content));
        let e = evidence_of(&report)?;
        let d = dss_data(&e);
        crate::cms_edit::add_validation_data(cms, &d.certs, &d.crls, &d.ocsps)
    };
    // A SignerInfo with no signature time-stamp gets one first (B-T: EN 319 122-1 §6.3), over
    // its signature value.
    let report = v.verify_cms(cms, content);
    evidence_of(&report)?;
    let mut cms = std::borrow::Cow::Borrowed(cms);
    let stamp_with = tsa_for_untimed(&untimed(&report), tsa)?;
    // Unchanged, the CMS keeps the report just made.
    let mut report = Some(report);
    if let Some(tsa) = stamp_with {
        report = None;
        let n = kyso_verify::ats::parts(&cms)
            .map_err(|e| SignError::Input(e.to_string()))?
            .signers
            .len();
        for si in 0..n {
            let parts =
                kyso_verify::ats::parts(&cms).map_err(|e| SignError::Input(e.to_string()))?;
            let signer = &parts.signers[si];
            // One with a token: an attribute of no value (an edit anyone can make) is none
            // (helper 244: such a signature was never time-stamped, and the extension was
            // refused as if validation data were missing).
            if signer.unsigned.iter().any(|a| {
                a.oid == Some(crate::tsp::ID_AA_SIGNATURE_TIME_STAMP_TOKEN) && !a.values.is_empty()
            }) {
                continue;
            }
            let value = signer
                .fields
                .last()
                .and_then(|f| der::asn1::OctetStringRef::from_der(f).ok())
                .ok_or_else(|| {
                    SignError::Input(
                        "a SignerInfo's signature value is not a DER OCTET STRING".into(),
                    )
                })?;
            let h = kyso_hsm::HashAlg::Sha256;
            let token = tsa.stamp(h, &h.digest(value.as_bytes()))?;
            let attr =
                crate::cms_edit::attribute(crate::tsp::ID_AA_SIGNATURE_TIME_STAMP_TOKEN, &token)?;
            cms =
                std::borrow::Cow::Owned(crate::cms_edit::add_unsigned_attribute(&cms, si, &attr)?);
        }
    }
    let cms: &[u8] = &cms;
    let mut out = add(cms, report)?;
    if level == Level::BLt {
        return Ok(out);
    }
    let (signers, stamped) = {
        let parts = kyso_verify::ats::parts(&out).map_err(|e| SignError::Input(e.to_string()))?;
        let stamped = parts.signers.iter().all(|s| {
            s.unsigned.iter().any(|a| {
                a.oid == Some(kyso_verify::ats::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
                    && !a.values.is_empty()
            })
        });
        (parts.signers.len(), stamped)
    };
    // Stamped already, and the stamp covers the validation data: done. Data the archive
    // time-stamp came before (added just now, or by another tool) needs a new one — the
    // extension was refused as if validation data were missing (helper 244).
    if stamped
        && !renew
        && v.verify_cms(&out, content)
            .signatures
            .iter()
            .all(|s| s.format.ends_with("-B-LTA"))
    {
        return Ok(out);
    }
    let tsa = tsa.ok_or_else(|| {
        SignError::Input("B-LTA needs a time-stamping authority (--tsa internal|URL)".into())
    })?;
    let h = kyso_verify::crypto::Hash::Sha256;
    let sha256 = der::Encode::to_der(&spki::AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::ID_SHA_256,
        parameters: None,
    })?;
    out = crate::cms_edit::add_digest_algorithm(&out, &sha256)?;
    for si in 0..signers {
        let parts = kyso_verify::ats::parts(&out).map_err(|e| SignError::Input(e.to_string()))?;
        let bad = || SignError::Input("the CMS signature has no such signer".into());
        let index = kyso_verify::ats::hash_index(&parts, si, h).ok_or_else(bad)?;
        let m = parts
            .econtent
            .as_deref()
            .or(content)
            .and_then(|signed| {
                kyso_verify::ats::imprint_input(&parts, si, &h.digest(&[signed]), &index)
            })
            .ok_or_else(|| {
                SignError::Input(
                    "a detached signature needs its content (--content) for B-LTA".into(),
                )
            })?;
        let token = tsa.stamp(kyso_hsm::HashAlg::Sha256, &h.digest(&[&m]))?;
        let index_attr =
            crate::cms_edit::attribute(kyso_verify::ats::ID_AA_ATS_HASH_INDEX_V3, &index)?;
        let token = crate::cms_edit::add_unsigned_attribute(&token, 0, &index_attr)?;
        let ats =
            crate::cms_edit::attribute(kyso_verify::ats::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3, &token)?;
        out = crate::cms_edit::add_unsigned_attribute(&out, si, &ats)?;
    }
    // The archive time-stamps' own validation data.
    add(&out, None)
}
