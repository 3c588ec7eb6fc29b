//! RFC 3161 time-stamp tokens: the imprint over the data, the token's signature, and the TSA's
//! own certification path and revocation at genTime — checked before genTime proves anything
//! (EN 319 102-1 §5.4: a time-stamp is a proof of existence only if it validates).

use crate::cms::{self, Finding};
use crate::crypto::Hash;
use crate::path::revocation::{self, Status};
use crate::path::{self, BuildError, PathProblem, Purpose};
use crate::report::{Indication, SubIndication};
use crate::x509::CertRef;
use crate::{dates, rfc3339, Validator};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::Decode;
use std::time::SystemTime;

const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

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
    accuracy: Option<x509_tsp::Accuracy>,
    #[asn1(default = "Default::default")]
    _ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<der::asn1::Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<x509_cert::ext::pkix::name::GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

/// An accuracy (RFC 3161 §2.4.2) of a year or more dates nothing.
const MAX_ACCURACY_SECS: u64 = 366 * 86_400;

/// The genTime a token claims, unverified (to leave out time-stamps made after a past
/// validation time before validating them).
pub fn claimed_gen_time(token_der: &[u8]) -> Option<SystemTime> {
    let (_, tst) = tst_info(&cms::parse(token_der).ok()?)?;
    dates::generalized_time(&tst.gen_time)
}

/// What a token stamps and the nonce it echoes, read as [`validate`] reads a TSTInfo (genTime
/// with fractional seconds, as RFC 3161 allows, too); nothing checked.
pub fn imprint_and_nonce(
    token_der: &[u8],
) -> Option<(x509_tsp::MessageImprint, Option<der::asn1::Int>)> {
    let tok = cms::parse(token_der).ok()?;
    if tok.sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return None;
    }
    let (_, tst) = tst_info(&tok)?;
    Some((tst.message_imprint, tst.nonce))
}

/// A token's TSTInfo: its encoding and what it says.
fn tst_info(tok: &cms::SignedCms) -> Option<(OctetString, TstInfo)> {
    let bytes = tok
        .sd
        .encap_content_info
        .econtent
        .as_ref()?
        .decode_as::<OctetString>()
        .ok()?;
    crate::x509::afford_parse(bytes.as_bytes().len(), 0).ok()?;
    let tst = TstInfo::from_der(bytes.as_bytes()).ok()?;
    Some((bytes, tst))
}

/// A time-stamp that validated.
#[derive(Debug, Clone)]
pub struct Timestamp {
    /// What the token proves: the data existed by then (genTime + its accuracy).
    pub gen_time: SystemTime,
    /// The genTime the token states, as written (for reports and records).
    pub claimed: SystemTime,
    /// The TSA's subject.
    pub tsa: String,
    pub chain: Vec<CertRef>,
    /// What was checked and what was not (no revocation data for the TSA, say).
    pub notes: Vec<String>,
    /// The TSA's path and the revocation data its status rests on.
    pub evidence: crate::Evidence,
    /// The status of every certificate of the TSA's path below its trust anchor was told by
    /// revocation data (none is when the TSA's certificate is itself the anchor).
    pub revocation_checked: bool,
}

fn fail(i: Indication, s: SubIndication, m: impl Into<String>) -> Finding {
    Finding::new(i, s, m)
}

/// Validate a time-stamp token over `data` (the parts concatenated). `extra` are certificates
/// from around the token (the signature's, a PDF's DSS); `data_at_hand` the revocation data;
/// `reliance` when the token is relied on: the validation time, or the genTime of a later
/// archive time-stamp that proves this token existed then. The TSA's certificates must be
/// valid at genTime, and not expired at `reliance`: once a TSA certificate has expired, only a
/// later time-stamp can keep its tokens worth anything (EN 319 102-1 §5.6.2.4).
pub fn validate(
    v: &Validator,
    token_der: &[u8],
    data: &[&[u8]],
    extra: &[CertRef],
    data_at_hand: revocation::Data<'_>,
    reliance: SystemTime,
) -> Result<Timestamp, Finding> {
    validate_imprint(
        v,
        token_der,
        &|h: Hash| Ok(h.digest(data)),
        extra,
        data_at_hand,
        reliance,
    )
}

/// The token's signature by a TSA whose certificate chains to a trust anchor and was valid at
/// the genTime it claims (not in the future): its signer's certificate, the chain and genTime.
/// Neither the time-stamped data nor any revocation is looked at.
fn signed_by_a_tsa(
    v: &Validator,
    tok: &cms::SignedCms,
    tst_bytes: &[u8],
    tst: &TstInfo,
    extra: &[CertRef],
    now: SystemTime,
) -> Result<(CertRef, Vec<CertRef>, SystemTime), Finding> {
    let mut pool: Vec<CertRef> = tok.certs.clone();
    pool.extend(extra.iter().cloned());
    pool.extend(v.certs.iter().cloned());
    pool.extend(v.anchors.iter().cloned());
    let malformed = |m: &str| {
        fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!("time-stamp token: {m}"),
        )
    };
    // What RFC 3161 §2.4.2 says a token is, held before anything it says is believed (helper
    // 171: each of these was a TOTAL-PASSED B-T, and `kyso sign --tsa` embedded them).
    if tst.version != 1 {
        return Err(malformed(&format!(
            "TSTInfo version {} (RFC 3161 knows version 1 only)",
            tst.version
        )));
    }
    if let Some(e) = tst.extensions.iter().flatten().find(|e| e.critical) {
        return Err(malformed(&format!(
            "TSTInfo has a critical extension kyso does not know ({})",
            e.extn_id
        )));
    }
    let mut infos = tok.sd.signer_infos.0.iter();
    let (Some(si), None) = (infos.next(), infos.next()) else {
        return Err(malformed(
            "a token is signed by one SignerInfo (RFC 3161 §2.4.2)",
        ));
    };
    let signer = cms::check_signer(tok, si, &[tst_bytes], &pool).map_err(|(f, _)| {
        Finding::new(
            f.indication,
            f.sub,
            format!("time-stamp token: {}", f.message),
        )
    })?;
    // The TSA's certificate is named inside what it signed (RFC 3161 §2.4.1, RFC 5816): a
    // token without it can be re-signed by any key its certificates hold.
    if !signer.signing_certificate_attr {
        return Err(malformed(
            "no ESS signing-certificate attribute names the TSA's certificate (RFC 3161 §2.4.1)",
        ));
    }
    if let Some(name) = &tst.tsa {
        if !names_certificate(name, &signer.cert) {
            let said = match name {
                x509_cert::ext::pkix::name::GeneralName::DirectoryName(n) => {
                    crate::report::shown(&n.to_string(), 256).into_owned()
                }
                _ => "a name that is no directory name".into(),
            };
            return Err(malformed(&format!(
                "its TSTInfo names the TSA {said}, which is not the certificate it is signed with ({}; RFC 5280 compares names part by part, in order)",
                signer.cert.subject_string()
            )));
        }
    }
    if let Some(w) = signer.weak {
        return Err(fail(
            Indication::Indeterminate,
            SubIndication::CryptoConstraintsFailure,
            format!("time-stamp token: {w}"),
        ));
    }
    let gen = dates::generalized_time(&tst.gen_time).ok_or_else(|| {
        fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            "TSTInfo genTime is not a GeneralizedTime",
        )
    })?;
    if gen > now + std::time::Duration::from_secs(300) {
        return Err(fail(
            Indication::Indeterminate,
            SubIndication::NotYetValid,
            format!("the time-stamp's genTime {} is in the future", rfc3339(gen)),
        ));
    }
    let tsa = signer.cert.subject_string();
    // A TSA certificate trusted directly is still held to its expiry and revocation: the path
    // to a trusted root that issued it is checked when there is one (a TSA certificate given
    // with --trust beside its root was neither: an expired or revoked TSA's backdated token
    // passed; found by an attacker's reading, 2026-12-03).
    let anchors_but_tsa: Vec<CertRef> = v
        .anchors
        .iter()
        .filter(|a| a.fingerprint() != signer.cert.fingerprint())
        .cloned()
        .collect();
    // Only when no such path exists: a path building that gave up (its budget spent by junk
    // tokens) must not fall back to the TSA alone, whose revocation no one then asks about
    // (found by an attacker's reading, 2026-12-03).
    let chain = path::build_at(&signer.cert, &pool, &anchors_but_tsa, v.now)
        .or_else(|e| match e {
            BuildError::NoPath => path::build_at(&signer.cert, &pool, &v.anchors, v.now),
            e => Err(e),
        })
        .map_err(|e| match e {
            BuildError::NoPath => fail(
                Indication::Indeterminate,
                SubIndication::NoCertificateChainFound,
                format!("the TSA {tsa} does not chain to a trusted root"),
            ),
            BuildError::TooMuchWork(_) => fail(
                Indication::Indeterminate,
                SubIndication::CertificateChainGeneralFailure,
                format!("the TSA {tsa}: {e}"),
            ),
        })?;
    if let Some(p) = path::check(&chain, gen, Purpose::Tsa).into_iter().next() {
        return Err(match p {
            PathProblem::Expired(m) => fail(
                Indication::Indeterminate,
                SubIndication::OutOfBoundsNoPoe,
                format!("TSA certificate path: {m}"),
            ),
            PathProblem::NotYetValid(m) => fail(
                Indication::Indeterminate,
                SubIndication::NotYetValid,
                format!("TSA certificate path: {m}"),
            ),
            PathProblem::Constraints(m) => fail(
                Indication::Indeterminate,
                SubIndication::ChainConstraintsFailure,
                format!("TSA certificate path: {m}"),
            ),
            PathProblem::Crypto(m) => fail(
                Indication::Indeterminate,
                SubIndication::CryptoConstraintsFailure,
                format!("TSA certificate path: {m}"),
            ),
        });
    }
    Ok((signer.cert, chain, gen))
}

/// Is `name` (a TSTInfo's `tsa`) one of the certificate's names: its subject, or one of its
/// subject alternative names (RFC 3161 §2.4.2)? Directory names are compared as RFC 5280
/// compares names ([`crate::x509::same_name`]: a TSA may write its name with other string
/// types than its certificate); other kinds by encoding.
fn names_certificate(name: &x509_cert::ext::pkix::name::GeneralName, cert: &CertRef) -> bool {
    use der::Encode;
    use x509_cert::ext::pkix::name::GeneralName;
    let same = |a: &GeneralName, b: &GeneralName| match (a, b) {
        (GeneralName::DirectoryName(x), GeneralName::DirectoryName(y)) => {
            crate::x509::same_name(x, y)
        }
        _ => a.to_der().ok().is_some_and(|d| b.to_der().ok() == Some(d)),
    };
    if same(
        name,
        &GeneralName::DirectoryName(cert.tbs().subject.clone()),
    ) {
        return true;
    }
    cert.extension::<x509_cert::ext::pkix::SubjectAltName>()
        .ok()
        .flatten()
        .is_some_and(|(_, san)| san.0.iter().any(|g| same(name, g)))
}

/// A token's accuracy (RFC 3161 §2.4.2; zero when absent), at most [`MAX_ACCURACY_SECS`].
fn accuracy(tst: &TstInfo) -> std::time::Duration {
    tst.accuracy
        .as_ref()
        .map_or(std::time::Duration::ZERO, |a| {
            std::time::Duration::from_secs(a.seconds.unwrap_or(0).min(MAX_ACCURACY_SECS))
                + std::time::Duration::from_millis(a.millis.unwrap_or(0).clamp(0, 999) as u64)
                + std::time::Duration::from_micros(a.micros.unwrap_or(0).clamp(0, 999) as u64)
        })
}

/// When a token says it was made — genTime less and plus its accuracy, and genTime as written
/// — read, not checked.
pub fn claimed_window(token_der: &[u8]) -> Option<(SystemTime, SystemTime, SystemTime)> {
    let (_, tst) = tst_info(&cms::parse(token_der).ok()?)?;
    window(&tst)
}

fn window(tst: &TstInfo) -> Option<(SystemTime, SystemTime, SystemTime)> {
    let gen = dates::generalized_time(&tst.gen_time)?;
    let accuracy = accuracy(tst);
    if accuracy.as_secs() >= MAX_ACCURACY_SECS {
        return None;
    }
    Some((gen.checked_sub(accuracy)?, gen + accuracy, gen))
}

/// [`claimed_window`], if a TSA the validator trusts signed the token: its certificate
/// chaining to a trust anchor and valid at genTime, genTime not after the real clock (not the
/// validation time: a token made after a past validation time still shows what was made
/// when), and no certificate of its path revoked, at any date, by the data at hand (a stolen
/// key signs any time). What a token tells of when it was made, whatever data it is over. A
/// value no trusted TSA signed proves nothing about time, not even that another is out of
/// order.
pub fn vouched_window(
    v: &Validator,
    token_der: &[u8],
    extra: &[CertRef],
    data_at_hand: revocation::Data<'_>,
) -> Option<(SystemTime, SystemTime, SystemTime)> {
    let tok = cms::parse(token_der).ok()?;
    if tok.sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return None;
    }
    let (tst_bytes, tst) = tst_info(&tok)?;
    let now = SystemTime::now().max(v.now);
    let (_, chain, _) = signed_by_a_tsa(v, &tok, tst_bytes.as_bytes(), &tst, extra, now).ok()?;
    for pair in chain.windows(2) {
        let out = revocation::status(&pair[0], &pair[1], data_at_hand, now, now, None);
        if matches!(out.status, Status::Revoked(_)) {
            return None;
        }
    }
    window(&tst)
}

/// [`validate`] for data too large to hold: `digest` computes the data's digest with the
/// algorithm the token's imprint names (streaming it from where it lies); its error is the
/// reason the data could not be read (TOTAL-FAILED, HASH_FAILURE).
pub fn validate_imprint(
    v: &Validator,
    token_der: &[u8],
    digest: &dyn Fn(Hash) -> Result<Vec<u8>, String>,
    extra: &[CertRef],
    data_at_hand: revocation::Data<'_>,
    reliance: SystemTime,
) -> Result<Timestamp, Finding> {
    let tok = cms::parse(token_der)?;
    if tok.sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(Finding::new(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            "the time-stamp token does not hold a TSTInfo",
        ));
    }
    let tst_bytes = tok
        .sd
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|e| e.decode_as::<OctetString>().ok())
        .ok_or_else(|| {
            fail(
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                "the time-stamp token has no TSTInfo",
            )
        })?;
    crate::x509::afford_parse(tst_bytes.as_bytes().len(), 0).map_err(|e| {
        fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!("TSTInfo: {e}"),
        )
    })?;
    let tst = TstInfo::from_der(tst_bytes.as_bytes()).map_err(|e| {
        fail(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            format!("TSTInfo: {e}"),
        )
    })?;
    let h = Hash::from_oid(&tst.message_imprint.hash_algorithm.oid).ok_or_else(|| {
        fail(
            Indication::Indeterminate,
            SubIndication::CryptoConstraintsFailure,
            "time-stamp imprint with an unknown hash",
        )
    })?;
    let computed = digest(h).map_err(|e| {
        fail(
            Indication::TotalFailed,
            SubIndication::HashFailure,
            format!("the time-stamped data cannot be read: {e}"),
        )
    })?;
    if computed != tst.message_imprint.hashed_message.as_bytes() {
        return Err(fail(
            Indication::TotalFailed,
            SubIndication::HashFailure,
            "the time-stamp is over other data (message imprint differs)",
        ));
    }
    if h == Hash::Sha1 {
        return Err(fail(
            Indication::Indeterminate,
            SubIndication::CryptoConstraintsFailure,
            "time-stamp imprint uses SHA-1",
        ));
    }
    let (signer, chain, gen) = signed_by_a_tsa(v, &tok, tst_bytes.as_bytes(), &tst, extra, v.now)?;
    // A finding after the TSA's path was built (its status, its certificate's expiry, the
    // accuracy) carries that path: a document time-stamp whose TSA was on hold said "no path
    // to a trusted root" in its eight items (2026-12-06).
    let path = chain.clone();
    tsa_in_force(v, &tst, &signer, chain, gen, data_at_hand, reliance).map_err(|mut f| {
        f.tsa = Some((path, gen));
        f
    })
}

/// The rest of [`validate_imprint`] once the token's signature and its TSA's path to a trust
/// anchor hold: the path's certificates in force when relied on, their revocation at genTime
/// and up to `reliance`, the accuracy.
fn tsa_in_force(
    v: &Validator,
    tst: &TstInfo,
    signer: &CertRef,
    chain: Vec<CertRef>,
    gen: SystemTime,
    data_at_hand: revocation::Data<'_>,
    reliance: SystemTime,
) -> Result<Timestamp, Finding> {
    let tsa = signer.subject_string();
    // Every certificate below the anchor, and the TSA's own even when it is the anchor.
    let below_anchor = chain.len().saturating_sub(1).max(1);
    for c in chain.iter().take(below_anchor) {
        let not_after = c.tbs().validity.not_after.to_system_time();
        if reliance > not_after {
            return Err(fail(
                Indication::Indeterminate,
                SubIndication::OutOfBoundsNoPoe,
                format!(
                    "the TSA certificate {} expired on {}, and no later time-stamp proves this time-stamp existed before",
                    c.subject_string(),
                    rfc3339(not_after)
                ),
            ));
        }
    }
    // Revocation of the TSA's path: at genTime, and up to when the token is relied on — a
    // TSA key revoked after genTime (stolen) backdates tokens, and data issued just after the
    // claimed genTime, all a forger keeps in the file, says nothing of that (found by an
    // attacker's reading, 2026-12-03). The status at `reliance` is fetched online when the
    // data at hand does not tell it; offline, a "good" at genTime stands, with a note.
    let mut notes = Vec::new();
    let mut evidence = crate::Evidence::default();
    evidence.add_certs(chain.iter());
    if chain.len() == 1 {
        notes.push(format!(
            "the TSA certificate {tsa} is itself a trust anchor: no issuer to ask for its revocation status"
        ));
    }
    let mut revocation_checked = chain.len() > 1;
    for (i, c) in chain.iter().enumerate().take(chain.len().saturating_sub(1)) {
        let name = c.subject_string();
        let since = revocation::status(
            c,
            &chain[i + 1],
            data_at_hand,
            reliance,
            v.now,
            v.fetch.as_deref(),
        );
        let out = match since.status {
            Status::Unknown if !since.unread && since.on_hold.is_none() => {
                let at_gen = revocation::status(c, &chain[i + 1], data_at_hand, gen, v.now, None);
                if at_gen.status == Status::Good {
                    notes.push(format!(
                        "the status of the TSA certificate {name} is known at the time-stamp's genTime ({}) but not since: a revocation of the TSA's key after it (a stolen key backdates time-stamps) would not show (verify online, or add fresher validation data, to rule that out)",
                        rfc3339(gen)
                    ));
                }
                at_gen
            }
            _ => since,
        };
        notes.extend(out.notes);
        evidence.add_crls(out.crls);
        evidence.add_ocsps(out.ocsps);
        match out.status {
            Status::Good => {}
            Status::Revoked(at) if at <= gen => {
                return Err(fail(
                    Indication::TotalFailed,
                    SubIndication::Revoked,
                    format!("the TSA certificate {name} was revoked on {}, before the time-stamp's genTime {}", crate::revoked_when(at), rfc3339(gen)),
                ))
            }
            // Revoked after genTime: the token stands only if something proves it existed
            // before the revocation (a key revoked for compromise can backdate tokens).
            Status::Revoked(at) if at <= reliance => {
                return Err(fail(
                    Indication::Indeterminate,
                    SubIndication::RevokedNoPoe,
                    format!(
                        "the TSA certificate {name} was revoked on {}, and nothing proves the time-stamp (genTime {}) existed before that",
                        crate::revoked_when(at),
                        rfc3339(gen)
                    ),
                ))
            }
            Status::Revoked(at) => notes.push(format!(
                "{name} was revoked on {}, after a later time-stamp proves this one existed",
                crate::revoked_when(at)
            )),
            Status::Unknown => {
                revocation_checked = false;
                let sources = revocation::status_sources(c);
                if let Some(held) = out.on_hold {
                    let mut f = fail(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        format!("the TSA certificate {name} was on hold (suspended) from {}, and nothing at hand shows the hold lifted: verify again with a later CRL or OCSP response", crate::revoked_when(held)),
                    );
                    f.held = Some(crate::cms::Held {
                        since: held,
                        leaf: i == 0,
                    });
                    return Err(f);
                } else if out.unread {
                    return Err(fail(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        format!("the status of the TSA certificate {name} cannot be told: CRLs or OCSP responses that may be about it were left unread"),
                    ));
                } else if out.ignored {
                    return Err(fail(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        format!("a CRL or OCSP response at hand names the TSA certificate {name} but cannot be relied on (the notes say why): its status cannot be told"),
                    ));
                } else if sources.is_empty() {
                    notes.push(format!("no revocation data for {name} (it names no place to get any)"));
                } else {
                    return Err(fail(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        format!("no CRL or OCSP response at hand tells the status of the TSA certificate {name} at genTime ({})", sources.join(", ")),
                    ));
                }
            }
        }
    }
    // genTime is exact only within the token's accuracy (RFC 3161 §2.4.2): what it proves is
    // that the data existed by genTime + accuracy (a revocation an hour after genTime, inside
    // an accuracy of an hour, was taken as after the time-stamp).
    let accuracy = accuracy(tst);
    if accuracy.as_secs() >= MAX_ACCURACY_SECS {
        return Err(fail(
            Indication::Indeterminate,
            SubIndication::SigConstraintsFailure,
            format!(
                "the time-stamp claims an accuracy of a year or more ({tsa}): it dates nothing"
            ),
        ));
    }
    if !accuracy.is_zero() {
        notes.push(format!(
            "the time-stamp's genTime {} is exact to {:?}: taken as {}",
            rfc3339(gen),
            accuracy,
            rfc3339(gen + accuracy)
        ));
    }
    Ok(Timestamp {
        gen_time: gen + accuracy,
        claimed: gen,
        tsa,
        chain,
        notes,
        evidence,
        revocation_checked,
    })
}
