//! Revocation (RFC 5280 §6.3, RFC 6960) judged at a control time: the signature time-stamp's
//! genTime when one proves when the signature existed, else the claimed signing time.
//!
//! - A CRL counts only if the certificate's issuer signed it (direct CRLs), the issuer may sign
//!   CRLs, it is complete for the certificate (not a delta CRL; an issuingDistributionPoint that
//!   covers the certificate and all reasons; no critical extension kyso does not process) and it
//!   is not dated in the future (one dated ahead that lists the certificate leaves its status
//!   untold: no "good" from older items stands against it).
//! - An OCSP response counts if the issuer signed it, or a responder the issuer certified for
//!   OCSPSigning, valid when the response was produced, and — unless it carries
//!   id-pkix-ocsp-nocheck — whose own status is known and not "revoked": from the CRLs at hand,
//!   else from its CRL distribution points or, naming none, the asked certificate's (the same
//!   CA's CRL). Only when neither certificate names a place is the responder taken unchecked,
//!   with a note.
//! - "Revoked" from any source wins over "good" from another.
//! - "Good" tells the status at the control time if the CRL or response was issued at or after
//!   it, while the certificate was valid; or, failing that, if it was issued before and its
//!   thisUpdate–nextUpdate window covers the control time (EN 319 102-1 §5.2.5.4 without a
//!   freshness constraint, as EU DSS and pyHanko judge by default). Data issued before is
//!   weaker — a revocation after it and before nextUpdate does not show — so when that is all
//!   there is and a fetcher is given, fresher data is fetched first (as EU DSS does when the
//!   data predates the best signature time), and the report says what the verdict rests on.

use super::{Purpose, ID_KP_OCSP_SIGNING, ID_PKIX_OCSP_NOCHECK};
use crate::crypto::Hash;
use crate::x509::{Cert, CertRef, Crl, Ocsp};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use std::time::{Duration, SystemTime};
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
};

/// The longest thisUpdate–nextUpdate window a CRL or OCSP response issued *before* the control
/// time may claim and still count: CAs publish status at least every twelve months (CA/Browser
/// Forum Baseline Requirements §4.9.7); a longer claim is not taken at its word.
const MAX_WINDOW: Duration = Duration::from_secs(366 * 86_400);
/// Second-resolution thisUpdate against a genTime with fractions: data fetched in the same
/// second as the time-stamp is not "before" it.
const SAME_SECOND: Duration = Duration::from_secs(2);

/// How well a "good" tells the status at the control time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Freshness {
    /// It says nothing about the control time.
    Stale,
    /// Issued before the control time, its validity window covering it.
    Covers,
    /// Issued at or after the control time.
    After,
}

/// Does a "good" issued at `this_update` (valid until `next_update`) tell the status of `cert`
/// at `control`, and how well?
///
/// - It must have been issued while the certificate was still valid: CAs drop expired
///   certificates from their CRLs and may answer "good" for them (RFC 5280 §3.3), so later data
///   says nothing — unless it declares it keeps them (ExpiredCertsOnCRL, OCSP archiveCutoff),
///   `keeps_expired` being the date from which it does.
/// - Issued at or after `control`: it does ([`Freshness::After`]).
/// - Issued before: only if `control` falls within its thisUpdate–nextUpdate window, a window
///   of at most twelve months ([`Freshness::Covers`]).
fn fresh(
    cert: &Cert,
    this_update: SystemTime,
    next_update: Option<SystemTime>,
    keeps_expired: Option<SystemTime>,
    control: SystemTime,
) -> Freshness {
    let not_after = cert.tbs().validity.not_after.to_system_time();
    let while_valid = this_update <= not_after || keeps_expired.is_some_and(|k| k <= not_after);
    if !while_valid {
        return Freshness::Stale;
    }
    if this_update + SAME_SECOND >= control {
        return Freshness::After;
    }
    let Some(next) = next_update else {
        return Freshness::Stale;
    };
    let covers = control <= next
        && next
            .duration_since(this_update)
            .is_ok_and(|window| window <= MAX_WINDOW);
    if covers {
        Freshness::Covers
    } else {
        Freshness::Stale
    }
}

/// Why a "good" issued at `this_update` says nothing at `control`, for the report.
fn stale_why(cert: &Cert, this_update: SystemTime, control: SystemTime) -> String {
    let not_after = cert.tbs().validity.not_after.to_system_time();
    if this_update > not_after {
        format!(
            "it was issued after {} expired ({}), when its CA no longer has to list it",
            cert.subject_string(),
            crate::rfc3339(not_after)
        )
    } else {
        format!(
            "it was issued before {} and its validity does not reach it",
            crate::rfc3339(control)
        )
    }
}

/// What one CRL or OCSP response says of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Said {
    Revoked(SystemTime),
    Good(Freshness),
    /// certificateHold since this time (RFC 5280 §5.3.1): a suspension, which a later CRL or
    /// OCSP response may lift — not a revocation for good.
    OnHold(SystemTime),
}

/// certificateHold and removeFromCRL (RFC 5280 §5.3.1).
const REASON_CERTIFICATE_HOLD: u32 = 6;
const REASON_REMOVE_FROM_CRL: u32 = 8;

/// The CRLReason a CRL entry's (or an OCSP single response's) extensions give.
fn entry_reason<'e>(
    mut extensions: impl Iterator<Item = &'e x509_cert::ext::Extension>,
) -> Option<u32> {
    use x509_cert::ext::pkix::crl::CrlReason;
    let e = extensions.find(|e| e.extn_id == ID_CE_CRL_REASONS)?;
    CrlReason::from_der(e.extn_value.as_bytes())
        .ok()
        .map(|r| r as u32)
}

/// Clock skew tolerated for "dated in the future".
const SKEW: Duration = Duration::from_secs(300);

const ID_CE_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const ID_CE_DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ID_CE_ISSUING_DISTRIBUTION_POINT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.28");
const ID_CE_AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const ID_CE_ISSUER_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.18");
const ID_CE_FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
const ID_CE_EXPIRED_CERTS_ON_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.60");
const ID_CE_CRL_REASONS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const ID_CE_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
/// id-ad-ocsp (RFC 5280 §4.2.2.1).
const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// A certificate's revocation status, as the data at hand tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Fresh data from the issuer says it was not revoked at the control time.
    Good,
    /// Revoked at this time (whenever that is relative to the control time).
    Revoked(SystemTime),
    /// No usable, fresh data.
    Unknown,
}

/// Revocation data at hand.
#[derive(Clone, Copy)]
pub struct Data<'a> {
    pub crls: &'a [Crl],
    pub ocsps: &'a [Ocsp],
}

/// Where a certificate says its status can be had: CRL distribution point and OCSP URLs.
pub fn status_sources(c: &Cert) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Some((_, dps))) = c.extension::<CrlDistributionPoints>() {
        for dp in dps.0 {
            match dp.distribution_point {
                Some(DistributionPointName::FullName(names)) => {
                    out.extend(names.into_iter().map(|n| general_name_text(&n)))
                }
                Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                    out.push("a CRL distribution point relative to the CRL issuer".into())
                }
                None => out.push("a CRL from the CRL issuer".into()),
            }
        }
    }
    if let Ok(Some((_, aia))) = c.extension::<AuthorityInfoAccessSyntax>() {
        for ad in aia.0 {
            if ad.access_method == ID_AD_OCSP {
                out.push(format!("OCSP {}", general_name_text(&ad.access_location)));
            }
        }
    }
    out
}

fn general_name_text(n: &GeneralName) -> String {
    match n {
        GeneralName::UniformResourceIdentifier(u) => u.to_string(),
        GeneralName::DirectoryName(d) => d.to_string(),
        GeneralName::DnsName(d) => d.to_string(),
        GeneralName::Rfc822Name(e) => e.to_string(),
        _ => "a name".into(),
    }
}

fn is_ca(c: &Cert) -> bool {
    c.extension::<x509_cert::ext::pkix::BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, b)| b.ca)
}

/// Why a CRL is not complete for a certificate (§6.3.3 (b)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum NotComplete {
    #[error("it is a delta CRL")]
    Delta,
    #[error("its issuingDistributionPoint is unreadable")]
    BadIdp,
    #[error("it is an indirect CRL")]
    Indirect,
    #[error("it covers only some revocation reasons")]
    SomeReasons,
    #[error("it covers attribute certificates only")]
    AttributeCertsOnly,
    #[error("it covers end-entity certificates only")]
    UserCertsOnly,
    #[error("it covers CA certificates only")]
    CaCertsOnly,
    #[error("it is a partitioned CRL for another distribution point than the certificate's")]
    OtherPartition,
    #[error("its distribution point is relative to the issuer (not processed)")]
    RelativeName,
    #[error("it has an unknown critical extension {0}")]
    UnknownCritical(ObjectIdentifier),
    #[error("an entry has an unknown critical extension {0}")]
    UnknownCriticalEntry(ObjectIdentifier),
}

/// Is the CRL complete for `cert` (§6.3.3 (b)), and why not? A delta CRL, or one of only some
/// reasons, that is otherwise for the certificate is said as [`NotComplete::Delta`] or
/// [`NotComplete::SomeReasons`] (its revocations count, its silence does not).
fn crl_scope(crl: &Crl, cert: &Cert) -> Result<(), NotComplete> {
    let t = &crl.list.tbs_cert_list;
    let mut partial = None;
    for e in t.crl_extensions.iter().flatten() {
        match e.extn_id {
            ID_CE_DELTA_CRL_INDICATOR => partial = Some(NotComplete::Delta),
            ID_CE_ISSUING_DISTRIBUTION_POINT => {
                let idp = IssuingDistributionPoint::from_der(e.extn_value.as_bytes())
                    .map_err(|_| NotComplete::BadIdp)?;
                if idp.indirect_crl {
                    return Err(NotComplete::Indirect);
                }
                if idp.only_some_reasons.is_some() {
                    partial.get_or_insert(NotComplete::SomeReasons);
                }
                if idp.only_contains_attribute_certs {
                    return Err(NotComplete::AttributeCertsOnly);
                }
                if idp.only_contains_user_certs && is_ca(cert) {
                    return Err(NotComplete::UserCertsOnly);
                }
                if idp.only_contains_ca_certs && !is_ca(cert) {
                    return Err(NotComplete::CaCertsOnly);
                }
                match idp.distribution_point {
                    None => {}
                    Some(DistributionPointName::FullName(names)) => {
                        let dps: Vec<GeneralName> = cert
                            .extension::<CrlDistributionPoints>()
                            .ok()
                            .flatten()
                            .map(|(_, d)| d.0)
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|d| match d.distribution_point {
                                Some(DistributionPointName::FullName(n)) => Some(n),
                                _ => None,
                            })
                            .flatten()
                            .collect();
                        if !names.iter().any(|n| dps.contains(n)) {
                            return Err(NotComplete::OtherPartition);
                        }
                    }
                    Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                        return Err(NotComplete::RelativeName)
                    }
                }
            }
            ID_CE_CRL_NUMBER
            | ID_CE_AUTHORITY_KEY_IDENTIFIER
            | ID_CE_ISSUER_ALT_NAME
            | ID_CE_FRESHEST_CRL
            | ID_CE_EXPIRED_CERTS_ON_CRL => {}
            other if e.critical => return Err(NotComplete::UnknownCritical(other)),
            _ => {}
        }
    }
    for entry in t.revoked_certificates.iter().flatten() {
        for e in entry.crl_entry_extensions.iter().flatten() {
            if e.critical && !matches!(e.extn_id, ID_CE_CRL_REASONS | ID_CE_INVALIDITY_DATE) {
                return Err(NotComplete::UnknownCriticalEntry(e.extn_id));
            }
        }
    }
    partial.map_or(Ok(()), Err)
}

/// When a revoked certificate stopped being its holder's: the revocation date, or the
/// invalidityDate the CRL entry (or OCSP single response) gives if earlier — "the date on which
/// it is known or suspected that the private key was compromised" (RFC 5280 §5.3.2; RFC 6960
/// §4.4 lets an OCSP response carry CRL entry extensions). A signature proven to exist after it
/// but before the revocation was taken as made before the revocation (an attacker's reading,
/// 2026-12-04); kyso fails closed on the earlier date.
fn revoked_at<'e>(
    revocation: SystemTime,
    mut extensions: impl Iterator<Item = &'e x509_cert::ext::Extension>,
) -> SystemTime {
    extensions
        .find(|e| e.extn_id == ID_CE_INVALIDITY_DATE)
        // An invalidity date kyso cannot read is taken as "compromised from the start" — a
        // declared compromise is not dropped for its encoding (a fractional or UTCTime one
        // was, and the signature passed; helper 125).
        .map_or(revocation, |e| {
            invalidity_date(e.extn_value.as_bytes())
                .unwrap_or(SystemTime::UNIX_EPOCH)
                .min(revocation)
        })
}

/// A note when a revocation takes effect before its date: the report's "revoked on" then names
/// the invalidity date, which an auditor comparing it with the CRL would not find there.
fn said_compromised(
    notes: &mut Vec<String>,
    source: &str,
    cert: &Cert,
    revoked: SystemTime,
    at: SystemTime,
) {
    if at < revoked {
        notes.push(format!(
            "{source} revokes {} on {}, and says its key was invalid from {} (invalidityDate, RFC 5280 §5.3.2): it is taken as revoked from then",
            cert.subject_string(),
            crate::rfc3339(revoked),
            if at == SystemTime::UNIX_EPOCH {
                "a date kyso cannot read (taken as the start)".to_string()
            } else {
                crate::rfc3339(at)
            }
        ));
    }
}

/// An invalidityDate's value: a GeneralizedTime as RFC 5280 §4.1.2.5.2 asks
/// (YYYYMMDDHHMMSSZ), or as CAs write it anyway — with a fraction of a second, without
/// seconds, with an offset — or a UTCTime.
fn invalidity_date(v: &[u8]) -> Option<SystemTime> {
    if let Ok(t) = der::asn1::GeneralizedTime::from_der(v) {
        return Some(t.to_system_time());
    }
    let (&tag, rest) = v.split_first()?;
    let (&len, text) = rest.split_first()?;
    if usize::from(len) != text.len() || len >= 0x80 {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let rest = &text[digits.len()..];
    let n = |s: &str| s.parse::<u16>().ok();
    let (year, body) = match tag {
        0x18 if digits.len() >= 10 => (n(&digits[..4])?, &digits[4..]),
        0x17 if digits.len() >= 10 => {
            let yy = n(&digits[..2])?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &digits[2..])
        }
        _ => return None,
    };
    let field = |i: usize| body.get(i..i + 2).map_or(Some(0), n);
    let (month, day, hour) = (field(0)?, field(2)?, field(4)?);
    let (minute, second) = (field(6)?, field(8)?);
    // A fraction of a second is dropped; an offset is applied; no zone is UTC.
    let rest = rest
        .strip_prefix(['.', ','])
        .map_or(rest, |f| f.trim_start_matches(|c: char| c.is_ascii_digit()));
    let offset: i64 = match rest.as_bytes().first() {
        None | Some(b'Z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hh = i64::from(n(rest.get(1..3)?)?);
            let mm = rest.get(3..5).map_or(Some(0), n).map(i64::from)?;
            let secs = hh * 3600 + mm * 60;
            if *sign == b'+' {
                secs
            } else {
                -secs
            }
        }
        _ => return None,
    };
    let t = der::DateTime::new(
        year,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?
    .to_system_time();
    let shift = std::time::Duration::from_secs(offset.unsigned_abs());
    if offset >= 0 {
        t.checked_sub(shift)
    } else {
        t.checked_add(shift)
    }
}

/// What a CRL lists of a certificate (every entry for its serial: a CRL may list it twice, and
/// a hold listed before a keyCompromise hid it; helper 140, 2026-12-05).
struct Listed {
    /// The earliest revocation (not a hold or removeFromCRL): its date, and when it took
    /// effect ([`revoked_at`]).
    revocation: Option<(SystemTime, SystemTime)>,
    /// The earliest hold begun by the control time (one begun after it tells, as an unlisted
    /// serial does, that the certificate was neither suspended nor revoked then).
    hold: Option<SystemTime>,
    /// A removeFromCRL entry.
    removed: bool,
    /// The earliest hold begun after the control time: the signature stands, and the reader
    /// is told the certificate is suspended since (it was silent; helper 188).
    held_later: Option<SystemTime>,
}

fn listed(t: &x509_cert::crl::TbsCertList, cert: &Cert, control: SystemTime) -> Listed {
    let mut l = Listed {
        revocation: None,
        hold: None,
        removed: false,
        held_later: None,
    };
    for r in t
        .revoked_certificates
        .iter()
        .flatten()
        .filter(|r| r.serial_number == cert.tbs().serial_number)
    {
        let revoked = r.revocation_date.to_system_time();
        let at = revoked_at(revoked, r.crl_entry_extensions.iter().flatten());
        match entry_reason(r.crl_entry_extensions.iter().flatten()) {
            Some(REASON_CERTIFICATE_HOLD) if at <= control => {
                l.hold = Some(l.hold.map_or(at, |h| h.min(at)));
            }
            Some(REASON_CERTIFICATE_HOLD) => {
                l.held_later = Some(l.held_later.map_or(at, |h| h.min(at)));
            }
            Some(REASON_REMOVE_FROM_CRL) => l.removed = true,
            _ => {
                if l.revocation.is_none_or(|(_, a)| at < a) {
                    l.revocation = Some((revoked, at));
                }
            }
        }
    }
    l
}

/// A delta CRL's scope (its issuingDistributionPoint as encoded) and the number of the
/// complete CRL it builds on ([`Crl::delta_base`]).
type DeltaBase = (Vec<u8>, (usize, Vec<u8>));
// Only deltas issued by the control time are recorded: a later one's base says nothing of it.

/// What one CRL says of `cert`.
#[allow(clippy::too_many_arguments)]
fn from_crl(
    crl: &Crl,
    cert: &Cert,
    issuer: &Cert,
    control: SystemTime,
    now: SystemTime,
    notes: &mut Vec<String>,
    unread: &mut usize,
    listed_ahead: &mut bool,
    delta_bases: &mut Vec<DeltaBase>,
) -> Option<Said> {
    let t = &crl.list.tbs_cert_list;
    if !crl.names_issuer_of(cert) {
        return None;
    }
    let from = crate::x509::name_string(&t.issuer);
    // Each CRL's signature is checked once per validation, on its budget: junk CRLs under the
    // CA's name cost a check each, and past the budget a CRL is counted as not read.
    // (The digest the CRL kept when read: hashed here, 16 MB of junk CRLs were hashed again
    // at every status asked; helper 200.)
    let key = (*crl.sha256(), issuer.fingerprint());
    let mut why = None;
    match super::budgeted(key, || {
        crl.signed_by(issuer).map_err(|e| why = Some(e)).is_ok()
    }) {
        None => {
            *unread += 1;
            return None;
        }
        Some(false) => {
            // A sound signature by a weak algorithm is said as such: "does not verify … (the
            // signature itself is sound)" contradicted itself (helper 242).
            notes.push(match why {
                Some(crate::crypto::CryptoFail::Weak(w)) => format!(
                    "a CRL from {from} is signed by its issuer with an algorithm not accepted ({w}); ignored"
                ),
                Some(w) => format!(
                    "a CRL from {from} does not verify with its issuer's key ({w}); ignored"
                ),
                None => format!("a CRL from {from} does not verify with its issuer's key; ignored"),
            });
            return None;
        }
        Some(true) => {}
    }
    let this_update = t.this_update.to_system_time();
    match issuer.extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.0.contains(KeyUsages::CRLSign) => {
            notes.push(format!(
                "a CRL from {from}, whose key may not sign CRLs (keyUsage); ignored"
            ));
            return None;
        }
        Err(e) => {
            notes.push(format!(
                "a CRL from {from}, whose keyUsage cannot be read ({e}); ignored"
            ));
            return None;
        }
        _ => {}
    }
    // A delta CRL, or one of only some reasons, otherwise for the certificate: a revocation
    // it lists counts (the CA said so, signed), its silence does not. Ignored whole, a
    // revocation a CA published in a delta first passed on its older full CRL's "good" (helper
    // 156).
    let partial = match crl_scope(crl, cert) {
        Ok(()) => None,
        Err(why @ (NotComplete::Delta | NotComplete::SomeReasons)) => Some(why),
        Err(why) => {
            notes.push(format!(
                "a CRL from {from} is not a complete CRL for {}: {why}; ignored",
                cert.subject_string()
            ));
            return None;
        }
    };
    if this_update > now + SKEW {
        // One that lists the certificate is not "no data": with the clock set back, every CRL
        // is dated ahead for a while, and one revoking a signer whose certificate names no
        // place for its status let the signature pass, "not checked".
        let names_it = t
            .revoked_certificates
            .iter()
            .flatten()
            .any(|r| r.serial_number == cert.tbs().serial_number);
        if names_it && this_update > SystemTime::now() + SKEW {
            notes.push(format!(
                "a CRL from {from} is dated in the future and lists {}: its status cannot be told until this machine's clock reaches the CRL's date",
                cert.subject_string()
            ));
            *listed_ahead = true;
            return None;
        }
        // Issued after a validation time asked for (`--at`), not after this machine's clock:
        // a revocation or hold it lists from the control time or before counts (the file
        // itself proves the key compromised then: ignored, such a CRL passed the signature;
        // helper 159); later entries, and its silence, tell nothing of that time (anyone may
        // add a CA's later CRL to a document: as a veto it failed signatures that stood).
        let l = listed(t, cert, control);
        let (revocation, hold) = (l.revocation.filter(|(_, at)| *at <= control), l.hold);
        if let Some((revoked, at)) = revocation {
            said_compromised(notes, &format!("the CRL from {from}"), cert, revoked, at);
            return Some(Said::Revoked(at));
        }
        if let Some(since) = hold {
            return Some(Said::OnHold(since));
        }
        notes.push(format!(
            "a CRL from {from} is dated after the validation time; ignored"
        ));
        return None;
    }
    // Every entry for the serial (a CRL may list it twice: the first alone was read, and a
    // hold listed before a keyCompromise hid it; helper 140, 2026-12-05). A revocation wins;
    // then removeFromCRL, which belongs in delta CRLs only (RFC 5280 §5.3.1): kyso reads
    // complete CRLs, so one that carries it is no CRL to rest on (it was read as a
    // revocation); then a hold — a suspension, lifted when a later CRL no longer lists it (it
    // was taken as a revocation for good, and a signature made after a hold was lifted failed
    // as REVOKED; helper 139). A hold that began after the control time tells, as an unlisted
    // serial does, that the certificate was neither suspended nor revoked then. An
    // invalidityDate moves a hold's start earlier, as a revocation's.
    if let Some(why) = partial {
        // The complete CRL a delta builds on (RFC 5280 §5.2.4): one older than it, of the same
        // scope, lacks what was revoked since (below).
        // Only one issued by the control time: its base existed then. A later one says nothing
        // of it, and anyone may add a CA's later delta to a document (it spoiled every
        // long-term signature resting on a complete CRL valid at its time-stamp; helper 158).
        if let Some(base) = crl.delta_base().filter(|_| this_update <= control) {
            delta_bases.push((crl.scope()[1..].to_vec(), base));
        }
        // A hold it lists, begun by the control time, counts as a hold (a later complete CRL
        // that no longer lists it lifts it): passed over, a suspension published in a delta
        // passed on the complete CRL's "good" (helper 157). A delta's removeFromCRL (RFC 5280
        // §5.3.1): the hold is lifted as of the delta's thisUpdate. Said as a "good" that
        // tells nothing of the control time by itself, it counts only where a hold is judged
        // lifted (a hold placed and released within one base period is in deltas alone, and
        // stood for good; helper 158).
        let l = listed(t, cert, control);
        let (revoked, hold) = (l.revocation, l.hold);
        let lifted = matches!(why, NotComplete::Delta)
            && this_update <= cert.tbs().validity.not_after.to_system_time()
            && l.removed;
        return match (revoked, hold) {
            (Some((revoked, at)), _) => {
                said_compromised(notes, &format!("the CRL from {from}"), cert, revoked, at);
                Some(Said::Revoked(at))
            }
            (None, Some(since)) => Some(Said::OnHold(since)),
            (None, None) if lifted => Some(Said::Good(Freshness::Stale)),
            (None, None) => {
                notes.push(format!(
                    "a CRL from {from} is not a complete CRL for {}: {why}; it does not list it as revoked, and its silence tells nothing",
                    cert.subject_string()
                ));
                None
            }
        };
    }
    let Listed {
        revocation,
        hold,
        removed,
        held_later,
    } = listed(t, cert, control);
    if let (Some(later), None, None) = (held_later, revocation, hold) {
        notes.push(held_after_note(
            cert,
            later,
            control,
            &format!("the CRL from {from}"),
        ));
    }
    if let Some((revoked, at)) = revocation {
        said_compromised(notes, &format!("the CRL from {from}"), cert, revoked, at);
        return Some(Said::Revoked(at));
    }
    if removed {
        notes.push(format!(
            "a CRL from {from} lists {} with reason removeFromCRL, which only a delta CRL may carry; ignored",
            cert.subject_string()
        ));
        return None;
    }
    if let Some(since) = hold {
        return Some(Said::OnHold(since));
    }
    let next_update = t.next_update.as_ref().map(|n| n.to_system_time());
    // ExpiredCertsOnCRL (RFC 5280 §5.2.7, 2.5.29.60): the CRL keeps certificates that expired
    // after this date.
    let keeps_expired = t
        .crl_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_CE_EXPIRED_CERTS_ON_CRL)
        .and_then(|e| der::asn1::GeneralizedTime::from_der(e.extn_value.as_bytes()).ok())
        .map(|g| g.to_system_time());
    match fresh(cert, this_update, next_update, keeps_expired, control) {
        Freshness::Stale => {
            notes.push(format!(
                "the CRL from {from} of {} cannot show {} was not revoked at {}: {}; not used",
                crate::rfc3339(this_update),
                cert.subject_string(),
                crate::rfc3339(control),
                stale_why(cert, this_update, control)
            ));
            None
        }
        f => Some(Said::Good(f)),
    }
}

/// Does a CertID name `issuer` (its name and key hashes)?
fn cert_id_names_issuer(id: &x509_ocsp::CertId, issuer: &Cert) -> bool {
    let Some(h) = Hash::from_oid(&id.hash_algorithm.oid) else {
        return false;
    };
    let name_der = issuer.tbs().subject.to_der().unwrap_or_default();
    let key = issuer
        .tbs()
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    h.digest(&[&name_der]) == id.issuer_name_hash.as_bytes()
        && h.digest(&[key]) == id.issuer_key_hash.as_bytes()
}

/// The certificates a response carries that `issuer` issued and that signed the response: its
/// delegated responder, if any. A response carries its responder's certificate, perhaps a few
/// more: not thousands, each costing a signature check (the first [`MAX_RESPONDER_CERTS`]).
pub(crate) fn delegated_signers<'a>(
    resp: &'a Ocsp,
    issuer: &'a Cert,
) -> impl Iterator<Item = CertRef> + 'a {
    // Each certificate once (16 copies of one were each judged; helper 153).
    let mut seen = Vec::new();
    let mut certs = resp.certificates(MAX_RESPONDER_CERTS);
    certs.retain(|c| {
        let f = c.fingerprint();
        let first = !seen.contains(&f);
        seen.push(f);
        first
    });
    certs.into_iter().filter(move |r| {
        r.named_issuer(issuer)
            && !kyso_pdf::stop::stopped()
            && r.signed_by(issuer).is_ok()
            && resp.signed_by(r).is_ok()
    })
}

/// Did `ca` answer in `resp`: every answer's CertID names it, and it signed the response, or a
/// responder it issued and certified for OCSP signing did (one of the first
/// [`MAX_RESPONDER_CERTS`] the response carries). Not whether the responder was valid or
/// revoked when it answered: that is judged when a signature's status is. What the service
/// asks of an OCSP response read again from a trust file before it replaces the one in use.
pub fn answered_by(resp: &Ocsp, ca: &CertRef) -> bool {
    let answers = &resp.basic.tbs_response_data.responses;
    !answers.is_empty()
        && answers.iter().all(|a| cert_id_names_issuer(&a.cert_id, ca))
        && (resp.signed_by(ca).is_ok() || delegated_responder(resp, ca).is_some())
}

/// What an OCSP answer says of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Says {
    Good,
    Revoked,
    /// Revoked with reason certificateHold: suspended.
    OnHold,
    Unknown,
}

/// What `resp` answers, answer by answer: the certificate's serial number (as encoded), the
/// certificate in `trusted` its CertID names as issuer (its fingerprint; `None`: none does,
/// or its hash algorithm is not known here), and what it says.
pub fn answers(resp: &Ocsp, trusted: &[CertRef]) -> Vec<(Vec<u8>, Option<[u8; 32]>, Says)> {
    // Each trusted certificate's name and key hashed once per hash algorithm met.
    type Hashes = Vec<(Vec<u8>, Vec<u8>)>;
    let mut hashed: Vec<(Hash, Hashes)> = Vec::new();
    resp.basic
        .tbs_response_data
        .responses
        .iter()
        .map(|a| {
            let id = &a.cert_id;
            let ca = Hash::from_oid(&id.hash_algorithm.oid).and_then(|h| {
                let at = match hashed.iter().position(|(g, _)| *g == h) {
                    Some(at) => at,
                    None => {
                        let each = trusted
                            .iter()
                            .map(|c| {
                                let name = c.tbs().subject.to_der().unwrap_or_default();
                                let key = c
                                    .tbs()
                                    .subject_public_key_info
                                    .subject_public_key
                                    .raw_bytes();
                                (h.digest(&[&name]), h.digest(&[key]))
                            })
                            .collect();
                        hashed.push((h, each));
                        hashed.len() - 1
                    }
                };
                hashed[at].1.iter().zip(trusted).find_map(|((n, k), c)| {
                    (n.as_slice() == id.issuer_name_hash.as_bytes()
                        && k.as_slice() == id.issuer_key_hash.as_bytes())
                    .then(|| c.fingerprint())
                })
            });
            let says = match &a.cert_status {
                x509_ocsp::CertStatus::Good(_) => Says::Good,
                x509_ocsp::CertStatus::Unknown(_) => Says::Unknown,
                x509_ocsp::CertStatus::Revoked(info) => {
                    let reason = info
                        .revocation_reason
                        .map(|r| r as u32)
                        .or_else(|| entry_reason(a.single_extensions.iter().flatten()));
                    if reason == Some(REASON_CERTIFICATE_HOLD) {
                        Says::OnHold
                    } else {
                        Says::Revoked
                    }
                }
            };
            (id.serial_number.as_bytes().to_vec(), ca, says)
        })
        .collect()
}

/// The delegated responder that answered in `resp` for `issuer`: the first certificate it
/// carries that `issuer` issued, whose key signed the response, that `issuer` certified for
/// OCSP signing, and that was valid when the response was produced. Which one it is must not
/// hang on the order of the response's certificates, which its signature does not cover:
/// the first signer alone decided, and the same key's older certificate put first (expired,
/// or without id-kp-OCSPSigning) made a genuine "revoked" ignored (helper 149). Its own status
/// is not judged here.
fn delegated_responder(resp: &Ocsp, issuer: &CertRef) -> Option<CertRef> {
    let produced = resp.basic.tbs_response_data.produced_at.0.to_system_time();
    delegated_signers(resp, issuer).find(|r| {
        certified_for_ocsp(r)
            && super::check(
                &[r.clone(), issuer.clone()],
                produced,
                Purpose::OcspResponder,
            )
            .is_empty()
    })
}

/// Its issuer certified `r` for OCSP signing (id-kp-OCSPSigning, RFC 6960 §4.2.2.2).
pub(crate) fn certified_for_ocsp(r: &Cert) -> bool {
    r.extension::<ExtendedKeyUsage>()
        .ok()
        .flatten()
        .is_some_and(|(_, u)| u.0.contains(&ID_KP_OCSP_SIGNING))
}

/// Who may have signed a response about `cert` for certificates of `issuer`: the issuer
/// itself, or a delegated responder it certified. `false` (with a note) when the response must
/// not be believed.
fn responder_ok(
    resp: &Ocsp,
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    now: SystemTime,
    fetcher: Option<&crate::fetch::Fetcher>,
    notes: &mut Vec<String>,
) -> bool {
    let produced = resp.basic.tbs_response_data.produced_at.0.to_system_time();
    if resp.signed_by(issuer).is_ok() {
        return true;
    }
    // Every certificate it carries that the issuer certified for OCSP signing, valid when it
    // answered, whose key signed it, is judged in turn, its own status too: the certificates
    // are not signed, and whoever put first a sibling of the responder's key that the CA had
    // revoked made a genuine "revoked" ignored (helper 151).
    let signers: Vec<CertRef> = delegated_signers(resp, issuer).collect();
    let produced_valid = |r: &CertRef| {
        super::check(
            &[r.clone(), issuer.clone()],
            produced,
            Purpose::OcspResponder,
        )
        .is_empty()
    };
    let candidates: Vec<&CertRef> = signers
        .iter()
        .filter(|r| certified_for_ocsp(r) && produced_valid(r))
        .collect();
    if candidates.is_empty() {
        // Why not, said of the first certificate that signed it.
        match signers.first() {
            _ if kyso_pdf::stop::stopped() => {}
            Some(r) if !certified_for_ocsp(r) => notes.push(format!(
                "an OCSP response is signed by {}, which the issuer did not certify for OCSP signing; ignored",
                r.subject_string()
            )),
            Some(r) => {
                let problems = super::check(
                    &[r.clone(), issuer.clone()],
                    produced,
                    Purpose::OcspResponder,
                );
                let p = problems
                    .first()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                notes.push(format!(
                    "the OCSP responder {} was not valid when it answered ({p}); its response is ignored",
                    r.subject_string()
                ));
            }
            None => notes.push(format!(
                "an OCSP response for a certificate of {} is not signed by it or by a responder it delegated; ignored",
                issuer.subject_string()
            )),
        }
        return false;
    }
    candidates
        .into_iter()
        .any(|r| responder_standing(resp, r, cert, issuer, data, now, fetcher, notes))
}

/// A delegated responder's own status when it answered (`resp`): known and not revoked,
/// unless it carries id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1). `false`, with a note, when
/// its answer is not to be believed.
#[allow(clippy::too_many_arguments)]
fn responder_standing(
    resp: &Ocsp,
    r: &CertRef,
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    now: SystemTime,
    fetcher: Option<&crate::fetch::Fetcher>,
    notes: &mut Vec<String>,
) -> bool {
    let produced = resp.basic.tbs_response_data.produced_at.0.to_system_time();
    if kyso_pdf::stop::stopped() {
        return false;
    }
    let name = r.subject_string();
    let nocheck = r
        .tbs()
        .extensions
        .iter()
        .flatten()
        .any(|e| e.extn_id == ID_PKIX_OCSP_NOCHECK);
    if !nocheck {
        // Without id-pkix-ocsp-nocheck the responder's own status must be known (RFC 6960
        // §4.2.2.2.1): from the CRLs at hand, else from its CRL distribution points — or,
        // when it names none, from those of the certificate asked about: the same CA
        // issued both, and its CRL lists the responder it revoked. A responder whose status
        // cannot be had is not believed when either names where to look (a revoked
        // responder's "good" is worth nothing: a delegated responder's stolen key would
        // otherwise vouch for any certificate of its CA).
        let mut inner = Vec::new();
        let mut crls: Vec<Crl> = data.crls.to_vec();
        let (ocsp_urls, mut crl_urls) = urls(r);
        if crl_urls.is_empty() {
            crl_urls = urls(cert).1;
        }
        let judge = |crls: &[Crl], inner: &mut Vec<String>| {
            evaluate(
                r,
                issuer,
                Data { crls, ocsps: &[] },
                produced,
                now,
                None,
                inner,
            )
        };
        let mut found = judge(&crls, &mut inner);
        // A "good" from a CRL issued before the response is weaker: a responder revoked
        // after that CRL (its key stolen) does not show in it, and the response's own date
        // is the thief's to choose. Online, its status is then fetched, as a signer's is.
        let settled = |f: &Found| {
            f.status != Status::Unknown
                && (f.status != Status::Good || f.freshness == Freshness::After)
        };
        if !settled(&found) {
            if let Some(f) = fetcher {
                for url in crl_urls.iter().take(2) {
                    if kyso_pdf::stop::stopped() {
                        break;
                    }
                    if let Ok(c) = f.crl(url, issuer, now) {
                        crls.push(c);
                        let again = judge(&crls, &mut inner);
                        if again.status != Status::Unknown {
                            found = again;
                        }
                        if settled(&found) {
                            break;
                        }
                    }
                }
            }
        }
        if found.status == Status::Good && found.freshness != Freshness::After {
            notes.push(format!(
                "the status of the OCSP responder {name} rests on a CRL issued before its response was produced: a revocation of the responder after that CRL would not show (verify online, or add fresher validation data, to rule that out)"
            ));
        }
        let known = found.status;
        match known {
            Status::Revoked(at) => {
                notes.push(format!("the OCSP responder {name} was revoked on {}; its response is ignored", crate::revoked_when(at)));
                return false;
            }
            Status::Good => {}
            Status::Unknown
                if ocsp_urls.is_empty()
                    && crl_urls.is_empty()
                    && !found.unread
                    && found.on_hold.is_none() =>
            {
                notes.push(format!(
                "the OCSP responder {name} has no id-pkix-ocsp-nocheck, and neither it nor {} names a place for its status: the responder's own status was not checked",
                cert.subject_string()
            ))
            }
            Status::Unknown => {
                notes.push(format!(
                    "the OCSP responder {name} has no id-pkix-ocsp-nocheck and its own status cannot be had; its response is ignored"
                ));
                return false;
            }
        }
    }
    true
}

/// An OCSP response's archiveCutoff (RFC 6960 §4.4.4): it answers for certificates that
/// expired after that date.
fn archive_cutoff(resp: &Ocsp) -> Option<SystemTime> {
    const ID_PKIX_OCSP_ARCHIVE_CUTOFF: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.6");
    resp.basic
        .tbs_response_data
        .response_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_PKIX_OCSP_ARCHIVE_CUTOFF)
        .and_then(|e| der::asn1::GeneralizedTime::from_der(e.extn_value.as_bytes()).ok())
        .map(|g| g.to_system_time())
}

/// What the OCSP responses say of `cert`.
#[allow(clippy::too_many_arguments)]
fn from_ocsp(
    resp: &Ocsp,
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    control: SystemTime,
    now: SystemTime,
    fetcher: Option<&crate::fetch::Fetcher>,
    notes: &mut Vec<String>,
    unread: &mut usize,
    ignored: &mut bool,
    listed_ahead: &mut bool,
) -> Vec<(Said, SystemTime)> {
    use x509_ocsp::CertStatus;
    // The single responses for this certificate (a real response has one, a batch a few):
    // the issuer's name and key hashed once per hash algorithm, not once per answer.
    let name_der = issuer.tbs().subject.to_der().unwrap_or_default();
    let key = issuer
        .tbs()
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let mut hashed: Vec<(Hash, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut names_issuer = |id: &x509_ocsp::CertId| {
        let Some(h) = Hash::from_oid(&id.hash_algorithm.oid) else {
            return false;
        };
        let i = match hashed.iter().position(|(g, ..)| *g == h) {
            Some(i) => i,
            None => {
                hashed.push((h, h.digest(&[&name_der]), h.digest(&[key])));
                hashed.len() - 1
            }
        };
        let (_, n, k) = &hashed[i];
        n.as_slice() == id.issuer_name_hash.as_bytes()
            && k.as_slice() == id.issuer_key_hash.as_bytes()
    };
    let mut singles: Vec<_> = resp
        .basic
        .tbs_response_data
        .responses
        .iter()
        .filter(|s| s.cert_id.serial_number == cert.tbs().serial_number)
        .filter(|s| names_issuer(&s.cert_id))
        .collect();
    // Answers for this serial under a hash kyso does not know (SHA-224, say) may be about
    // this certificate and say "revoked": the status does not rest on the others (a genuine
    // "revoked" under SHA-224 was "no data"; helper 151).
    let unknown_hash = resp
        .basic
        .tbs_response_data
        .responses
        .iter()
        .filter(|s| s.cert_id.serial_number == cert.tbs().serial_number)
        .filter(|s| Hash::from_oid(&s.cert_id.hash_algorithm.oid).is_none())
        .count();
    if unknown_hash > 0 {
        notes.push(format!(
            "an OCSP response has {unknown_hash} answers for the serial number of {} under a hash algorithm kyso does not know: they are not read",
            cert.subject_string()
        ));
        *unread += unknown_hash;
    }
    if singles.is_empty() {
        return Vec::new();
    }
    // An answer for this certificate that is not believed is not "no answer": a certificate
    // naming no place for its status passed as "not checked" when its "revoked" was made
    // unbelievable (helper 149).
    if !responder_ok(resp, cert, issuer, data, now, fetcher, notes) {
        *ignored = true;
        // Its "revoked" or "on hold" is not believed, but no "good" from elsewhere may stand
        // beside it: the response's certificates are not signed, and a genuine "revoked" whose
        // responder certificate was swapped for a revoked sibling of the same key let an older
        // CRL's "good" pass (helper 153).
        if singles
            .iter()
            .any(|s| matches!(s.cert_status, CertStatus::Revoked(_)))
        {
            notes.push(format!(
                "an OCSP response that is not to be believed says {} is revoked or on hold: its status cannot be told from the rest",
                cert.subject_string()
            ));
            *unread += 1;
        }
        return Vec::new();
    }
    // At most MAX_CANDIDATES answers for one certificate are read, those saying "revoked"
    // first; past them the status is not told from part of them (64 "good" answers put before
    // the "revoked" one hid it; helper 149).
    singles.sort_by_key(|s| !matches!(s.cert_status, CertStatus::Revoked(_)));
    if singles.len() > MAX_CANDIDATES {
        *unread += singles.len() - MAX_CANDIDATES;
        singles.truncate(MAX_CANDIDATES);
    }
    // What the response says, and when each single response that says it knew the status (its
    // thisUpdate; not the earliest over the response's answers for this serial, which may be
    // another issuer's: an old answer under another CA moved a hold in force back before an
    // older CRL's "good", and the signature passed; helper 186). A revocation or hold is the
    // whole answer; every "good" counts (one kept per response left a hold lifted by its
    // other "good" in force; helper 188).
    let mut out: Vec<(Said, SystemTime)> = Vec::new();
    // Holds begun after the time judged, said only when the response tells no revocation or
    // hold in force (beside a REVOKED, "it was in force then" read wrong; helper 189).
    let mut later_holds: Vec<String> = Vec::new();
    let produced = resp.basic.tbs_response_data.produced_at.0.to_system_time();
    for single in singles {
        let this_update = single.this_update.0.to_system_time();
        // thisUpdate is when the responder knew the status, producedAt when it signed (RFC
        // 6960 §4.2.1, §4.2.2.1): a status known after the signing is no honest responder's.
        // The responder is judged valid at producedAt, so an expired responder's key dated its
        // signature back into its validity and its "good" forward past the signing time
        // (found by an attacker's reading, 2026-12-03).
        if this_update > produced + SKEW
            || single
                .next_update
                .as_ref()
                .is_some_and(|n| n.0.to_system_time() < this_update)
        {
            // Its "revoked" or "on hold" is not believed, but no "good" may stand beside it, as
            // for a response not believed (a keyCompromise with impossible dates let a CRL of 20
            // days ago pass the signature; helper 189).
            if matches!(single.cert_status, CertStatus::Revoked(_)) {
                *unread += 1;
            }
            notes.push(format!(
                "an OCSP response about {} is dated inconsistently (thisUpdate {} after producedAt {}, or nextUpdate before thisUpdate); ignored",
                cert.subject_string(),
                crate::rfc3339(this_update),
                crate::rfc3339(produced)
            ));
            *ignored = true;
            continue;
        }
        if this_update > now + SKEW {
            // As for CRLs: ahead of this machine's clock, a "revoked" or hold leaves the
            // status untold and no "good" stands against it; issued after a validation time
            // asked for (`--at`), only a revocation or hold from the control time or before
            // counts (helper 159).
            let revoked = match &single.cert_status {
                x509_ocsp::CertStatus::Revoked(info) => Some(info),
                _ => None,
            };
            if this_update > SystemTime::now() + SKEW {
                if revoked.is_some() {
                    notes.push(format!(
                        "an OCSP response dated in the future says {} is revoked or on hold: its status cannot be told until this machine's clock reaches the response's date",
                        cert.subject_string()
                    ));
                    *listed_ahead = true;
                } else {
                    notes.push("an OCSP response is dated in the future; ignored".into());
                    *ignored = true;
                }
                continue;
            }
            if let Some(info) = revoked {
                let revoked = info.revocation_time.0.to_system_time();
                let at = revoked_at(revoked, single.single_extensions.iter().flatten());
                let hold = info
                    .revocation_reason
                    .map(|r| r as u32)
                    .or_else(|| entry_reason(single.single_extensions.iter().flatten()))
                    == Some(REASON_CERTIFICATE_HOLD);
                if at <= control && hold {
                    return vec![(Said::OnHold(at), this_update)];
                }
                if at <= control {
                    said_compromised(notes, "an OCSP response", cert, revoked, at);
                    return vec![(Said::Revoked(at), this_update)];
                }
            }
            notes.push("an OCSP response is dated after the validation time; ignored".into());
            continue;
        }
        // A hold (a suspension) that began after the control time tells that the certificate
        // was good then, as a "good" does.
        let hold = |info: &x509_ocsp::RevokedInfo| {
            info.revocation_reason
                .map(|r| r as u32)
                .or_else(|| entry_reason(single.single_extensions.iter().flatten()))
                == Some(REASON_CERTIFICATE_HOLD)
        };
        let since = |info: &x509_ocsp::RevokedInfo| {
            revoked_at(
                info.revocation_time.0.to_system_time(),
                single.single_extensions.iter().flatten(),
            )
        };
        let held_after = matches!(&single.cert_status,
            CertStatus::Revoked(info) if hold(info) && since(info) > control);
        if let (true, CertStatus::Revoked(info)) = (held_after, &single.cert_status) {
            later_holds.push(held_after_note(
                cert,
                since(info),
                control,
                "an OCSP response",
            ));
        }
        match &single.cert_status {
            CertStatus::Revoked(info) if !held_after => {
                let revoked = info.revocation_time.0.to_system_time();
                if hold(info) {
                    return vec![(Said::OnHold(since(info)), this_update)];
                }
                let at = revoked_at(revoked, single.single_extensions.iter().flatten());
                said_compromised(notes, "an OCSP response", cert, revoked, at);
                return vec![(Said::Revoked(at), this_update)];
            }
            CertStatus::Good(_) | CertStatus::Revoked(_) => match fresh(
                cert,
                this_update,
                single.next_update.as_ref().map(|n| n.0.to_system_time()),
                archive_cutoff(resp),
                control,
            ) {
                Freshness::Stale => notes.push(format!(
                    "an OCSP response of {} says {} is good, but cannot show it at {}: {}; not used",
                    crate::rfc3339(this_update),
                    cert.subject_string(),
                    crate::rfc3339(control),
                    stale_why(cert, this_update, control)
                )),
                f => out.push((Said::Good(f), this_update)),
            },
            CertStatus::Unknown(_) => notes.push(format!(
                "the OCSP responder does not know {}",
                cert.subject_string()
            )),
        }
    }
    notes.extend(later_holds);
    out
}

/// What a status check found, and what it rests on.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// What was not used and why, what could not be fetched.
    pub notes: Vec<String>,
    /// The CRLs and OCSP responses the status rests on (given or fetched): the evidence a
    /// B-LT signature or an archive record keeps.
    pub crls: Vec<Crl>,
    pub ocsps: Vec<Ocsp>,
    /// The status is unknown because items that may be about the certificate were left
    /// unread (a validation's signature-check budget spent, say): never let through as "no
    /// data".
    pub unread: bool,
    /// The status is unknown because the certificate was on hold (certificateHold) at the
    /// control time, since this time: never let through as "no data" either.
    pub on_hold: Option<SystemTime>,
    /// An OCSP response at hand answers for the certificate (its CertID: serial, issuer's name
    /// and key) but was not believed — its responder unauthorized, invalid or revoked, its
    /// dates impossible — or a CRL of its issuer dated in the future lists it: when the status
    /// is unknown, not "no data" either.
    pub ignored: bool,
    /// For a "good": when the latest item it rests on knew the status (a CRL's thisUpdate, an
    /// OCSP single response's) — what a reader is shown beside "valid when signed", since a
    /// revocation published after it would not show (helper 178).
    pub as_of: Option<SystemTime>,
}

/// Most OCSP responses looked at for one certificate.
const MAX_CANDIDATES: usize = 64;
/// Most CRLs looked at for one certificate (each signature checked once per validation, on
/// its budget of [`super::MAX_SIGNATURE_CHECKS_PER_VALIDATION`]).
const MAX_CRL_CANDIDATES: usize = 1024;
/// Certificates of an OCSP response considered as its delegated responder.
const MAX_RESPONDER_CERTS: usize = 16;

/// What the data at hand says of a certificate, and which items say it.
struct Found {
    status: Status,
    /// For a "good": how well the best item tells the status at the control time.
    freshness: Freshness,
    crls: Vec<Crl>,
    ocsps: Vec<Ocsp>,
    /// Unknown because items that may be about the certificate were left unread (past the
    /// bounds): not the same as "no data" — a certificate naming no place is let through
    /// with a note only when nothing was left unread.
    unread: bool,
    /// Unknown because the certificate was on hold (suspended) at the control time, since
    /// then, and nothing at hand shows the hold lifted before it.
    on_hold: Option<SystemTime>,
    /// See [`Outcome::ignored`].
    ignored: bool,
    /// See [`Outcome::as_of`].
    as_of: Option<SystemTime>,
    /// A CRL dated ahead of the clock lists the certificate: a CRL fetched is read beside the
    /// ones at hand (alone, an older genuine CRL served at the distribution point said "good";
    /// helper 157).
    listed_ahead: bool,
}

/// Evaluate the data at hand: the status, and which items gave one. Only items that can be
/// about this certificate are looked at (CRLs by issuer name, OCSP responses by CertID serial),
/// at most [`MAX_CRL_CANDIDATES`] and [`MAX_CANDIDATES`]. A "revoked" rests on the items saying
/// so; a "good" on the items of the best freshness, and only when every item that may be about
/// the certificate was read.
fn evaluate(
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    control: SystemTime,
    now: SystemTime,
    fetcher: Option<&crate::fetch::Fetcher>,
    notes: &mut Vec<String>,
) -> Found {
    // What each item says, the item, and when it knew the status (a CRL's thisUpdate, the
    // deciding OCSP single response's).
    let mut said: Vec<(Said, Option<Crl>, Option<Ocsp>, SystemTime)> = Vec::new();
    // Past the cap, what was not looked at may be what says "revoked": a "good" from the rest
    // is not enough (below).
    let mut left_unread = 0;
    let mut ignored = false;
    // A CRL of the issuer dated ahead of the clock lists the certificate: no "good" from older
    // items stands against it (with the clock set back, a replayed older CRL let a revoked
    // agency in beside the newer one in use).
    let mut listed_ahead = false;
    // Of each scope (issuingDistributionPoint), the base CRL numbers of the delta CRLs read.
    let mut delta_bases = Vec::new();
    let mut candidates = data.ocsps.iter().filter(|r| {
        r.basic
            .tbs_response_data
            .responses
            .iter()
            .any(|s| s.cert_id.serial_number == cert.tbs().serial_number)
    });
    for r in candidates.by_ref().take(MAX_CANDIDATES) {
        if kyso_pdf::stop::stopped() {
            break; // the caller discards the result
        }
        for (s, known) in from_ocsp(
            r,
            cert,
            issuer,
            data,
            control,
            now,
            fetcher,
            notes,
            &mut left_unread,
            &mut ignored,
            &mut listed_ahead,
        ) {
            said.push((s, None, Some(r.clone()), known));
        }
    }
    left_unread += candidates.count();
    let mut candidates = data.crls.iter().filter(|c| c.names_issuer_of(cert));
    for c in candidates.by_ref().take(MAX_CRL_CANDIDATES) {
        if kyso_pdf::stop::stopped() {
            break;
        }
        if let Some(s) = from_crl(
            c,
            cert,
            issuer,
            control,
            now,
            notes,
            &mut left_unread,
            &mut listed_ahead,
            &mut delta_bases,
        ) {
            let known = c.list.tbs_cert_list.this_update.to_system_time();
            said.push((s, Some(c.clone()), None, known));
        }
    }
    left_unread += candidates.count();
    // A complete CRL older than the base a delta CRL of the same scope builds on: revocations
    // listed since are in neither (the newer base lists them, the delta leaves them out), so
    // its "good" is not taken when it was issued before the control time (one issued after
    // it tells of it whatever came later: a CA's later delta, which anyone may add to a
    // document, does not spoil it). Kept beside the newer delta, the older full CRL passed a
    // certificate the missing base revokes (helper 157).
    let mut stale_base = false;
    said.retain(|(s, c, ..)| {
        let Some(c) = c
            .as_ref()
            .filter(|_| matches!(s, Said::Good(Freshness::Covers)))
        else {
            return true;
        };
        let scope = c.scope();
        let newer = delta_bases
            .iter()
            .find(|(idp, base)| *idp == scope[1..] && c.number() < *base);
        if let Some((_, (_, base))) = newer {
            notes.push(format!(
                "the CRL from {} of {} is older than the complete CRL (number {}) a delta CRL of the same CA builds on: what was revoked since is in neither; not used",
                crate::x509::name_string(&c.list.tbs_cert_list.issuer),
                crate::rfc3339(c.list.tbs_cert_list.this_update.to_system_time()),
                if base.is_empty() { "unreadable".to_string() } else { hex::encode(base) }
            ));
            stale_base = true;
        }
        newer.is_none()
    });
    let revoked = said
        .iter()
        .filter_map(|(s, ..)| match s {
            Said::Revoked(at) => Some(*at),
            _ => None,
        })
        .min();
    let best = said
        .iter()
        .filter_map(|(s, ..)| match s {
            Said::Good(f) => Some(*f),
            _ => None,
        })
        .max()
        .unwrap_or(Freshness::Stale);
    // A hold counts when it began by the control time and nothing at hand issued after the
    // CRL or response that listed it says "good" by then: the certificate was suspended when
    // judged. A hold lifted before the control time is passed over; one that began after it
    // tells nothing of it.
    // When an item knew the status (the fourth of each): a CRL's thisUpdate, the deciding OCSP
    // single response's (not its producedAt: a responder working from an old CRL signs late
    // what it knew before the hold; helper 140, 2026-12-05).
    let on_hold = said
        .iter()
        .filter_map(|(s, _, _, listed)| match s {
            Said::OnHold(since) if *since <= control => {
                // After it was listed and after it began: a "good" issued between a hold's
                // listing and its later start lifts nothing (helper 188).
                let listed = (*listed).max(*since);
                let lifted = said
                    .iter()
                    .filter(|(g, ..)| matches!(g, Said::Good(_)))
                    .map(|(.., t)| *t)
                    .filter(|t| *t > listed)
                    .min();
                lifted.is_none_or(|t| t > control).then_some(*since)
            }
            _ => None,
        })
        .min();
    // A hold in force at the control time counts over a revocation after it: suspended when
    // it signed, then revoked for good (a lost token's pattern) is no "revoked after the
    // time-stamp: the signature stands" (helper 140, 2026-12-05).
    let revoked = revoked.filter(|at| *at <= control || on_hold.is_none());
    let status = match revoked {
        Some(at) => Status::Revoked(at),
        None if on_hold.is_some() => Status::Unknown,
        // More CRLs or OCSP responses that may be about this certificate than are looked at:
        // anyone can put junk ones under the CA's name first (SignedData.crls is unsigned), so
        // that the one saying "revoked" is never read — a B-LTA signature whose revoking CRL
        // an archive time-stamp covers passed so (found by an attacker's reading, 2026-12-02).
        None if left_unread > 0 => {
            notes.push(format!(
                "{left_unread} more CRLs or OCSP responses that may be about {} were not looked \
                 at (at most {MAX_CRL_CANDIDATES} CRLs and {MAX_CANDIDATES} OCSP responses, \
                 {} signature checks in all): its status cannot rest on part of them",
                cert.subject_string(),
                super::MAX_SIGNATURE_CHECKS_PER_VALIDATION
            ));
            Status::Unknown
        }
        None if listed_ahead => Status::Unknown,
        None if best > Freshness::Stale => Status::Good,
        None => Status::Unknown,
    };
    let keep = |s: &Said| match status {
        Status::Revoked(_) => matches!(s, Said::Revoked(_)),
        Status::Good => *s == Said::Good(best),
        Status::Unknown => on_hold.is_some() && matches!(s, Said::OnHold(_)),
    };
    // A hold lifted by the control time: the item listing it and the first lifting it are
    // evidence too (kept without them, a B-LT signature or an archive record turned
    // INDETERMINATE when anyone added the item listing the hold later; helper 159).
    let mut lift_evidence: Vec<usize> = Vec::new();
    if status == Status::Good {
        for (i, (s, _, _, listed)) in said.iter().enumerate() {
            let Said::OnHold(since) = s else { continue };
            if *since > control {
                continue;
            }
            let listed = (*listed).max(*since);
            let first_lift = said
                .iter()
                .enumerate()
                .filter(|(_, (g, ..))| matches!(g, Said::Good(_)))
                .map(|(j, (.., t))| (j, *t))
                .filter(|(_, t)| *t > listed)
                .min_by_key(|(_, t)| *t);
            if let Some((j, _)) = first_lift.filter(|(_, t)| *t <= control) {
                lift_evidence.extend([i, j]);
            }
        }
    }
    let as_of = said
        .iter()
        .filter(|(s, ..)| status == Status::Good && *s == Said::Good(best))
        .map(|(.., t)| *t)
        .max();
    let mut found = Found {
        as_of,
        on_hold: on_hold.filter(|_| revoked.is_none()),
        unread: status == Status::Unknown && left_unread > 0,
        ignored: status == Status::Unknown && (ignored || listed_ahead || stale_base),
        listed_ahead,
        status: status.clone(),
        freshness: best,
        crls: Vec::new(),
        ocsps: Vec::new(),
    };
    for (i, (s, c, o, _)) in said.into_iter().enumerate() {
        if keep(&s) || lift_evidence.contains(&i) {
            found
                .crls
                .extend(c.filter(|c| !found.crls.iter().any(|k| k.sha256() == c.sha256())));
            found
                .ocsps
                .extend(o.filter(|o| !found.ocsps.iter().any(|k| k.sha256() == o.sha256())));
        }
    }
    found
}

/// A hold begun after the time judged: the signature stands, and the certificate has been
/// suspended since (helper 188: nothing said it).
fn held_after_note(cert: &Cert, since: SystemTime, control: SystemTime, by: &str) -> String {
    format!(
        "{by} says {} has been on hold (suspended) since {}, after {} (the time judged): it was in force then, and is suspended since",
        cert.subject_string(),
        crate::rfc3339(since),
        crate::rfc3339(control)
    )
}

/// The URLs a certificate names: (OCSP responders, CRL distribution points).
pub fn urls(c: &Cert) -> (Vec<String>, Vec<String>) {
    let mut ocsp = Vec::new();
    let mut crl = Vec::new();
    if let Ok(Some((_, aia))) = c.extension::<AuthorityInfoAccessSyntax>() {
        for ad in aia.0 {
            if let (ID_AD_OCSP, GeneralName::UniformResourceIdentifier(u)) =
                (ad.access_method, &ad.access_location)
            {
                ocsp.push(u.to_string());
            }
        }
    }
    if let Ok(Some((_, dps))) = c.extension::<CrlDistributionPoints>() {
        for dp in dps.0 {
            if let Some(DistributionPointName::FullName(names)) = dp.distribution_point {
                for n in names {
                    if let GeneralName::UniformResourceIdentifier(u) = n {
                        crl.push(u.to_string());
                    }
                }
            }
        }
    }
    (ocsp, crl)
}

/// The status of `cert` (issued by `issuer`) at `control`, from every source at hand, with
/// notes on what was not used and why. When the data at hand tells nothing, or only a "good"
/// issued before `control`, and a fetcher is given, the responders and distribution points the
/// certificate names are asked (OCSP first) and a definite answer from them is taken instead.
pub fn status(
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    control: SystemTime,
    now: SystemTime,
    fetcher: Option<&crate::fetch::Fetcher>,
) -> Outcome {
    let mut notes = Vec::new();
    let at_hand = evaluate(cert, issuer, data, control, now, fetcher, &mut notes);
    let settled = at_hand.status != Status::Good || at_hand.freshness == Freshness::After;
    if settled && at_hand.status != Status::Unknown {
        return Outcome {
            status: at_hand.status,
            notes,
            crls: at_hand.crls,
            ocsps: at_hand.ocsps,
            unread: at_hand.unread,
            on_hold: at_hand.on_hold,
            ignored: at_hand.ignored,
            as_of: at_hand.as_of,
        };
    }
    if let Some(f) = fetcher {
        let held = at_hand.on_hold.is_some() || at_hand.listed_ahead;
        if let Some(got) = fetch_status(f, cert, issuer, data, control, now, held, &mut notes) {
            return Outcome {
                status: got.status,
                notes,
                crls: got.crls,
                ocsps: got.ocsps,
                unread: got.unread,
                on_hold: got.on_hold,
                ignored: got.ignored,
                as_of: got.as_of,
            };
        }
    }
    if at_hand.status == Status::Good {
        let items: Vec<String> = at_hand
            .crls
            .iter()
            .map(|c| {
                let t = &c.list.tbs_cert_list;
                format!(
                    "a CRL of {}{}",
                    crate::rfc3339(t.this_update.to_system_time()),
                    t.next_update
                        .as_ref()
                        .map(|n| format!(" valid until {}", crate::rfc3339(n.to_system_time())))
                        .unwrap_or_default()
                )
            })
            .chain(at_hand.ocsps.iter().map(|_| "an OCSP response".to_string()))
            .collect();
        notes.push(format!(
            "the status of {} at {} rests on {}, issued before that time: a revocation published after it and before it expires would not show (verify online, or add fresher validation data, to rule that out)",
            cert.subject_string(),
            crate::rfc3339(control),
            items.join(" and ")
        ));
    }
    Outcome {
        status: at_hand.status,
        notes,
        crls: at_hand.crls,
        ocsps: at_hand.ocsps,
        unread: at_hand.unread,
        on_hold: at_hand.on_hold,
        ignored: at_hand.ignored,
        as_of: at_hand.as_of,
    }
}

/// Ask what the certificate names: the first definite answer (revoked, or a good that tells
/// the status at `control`).
#[allow(clippy::too_many_arguments)]
fn fetch_status(
    f: &crate::fetch::Fetcher,
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    control: SystemTime,
    now: SystemTime,
    held: bool,
    notes: &mut Vec<String>,
) -> Option<Found> {
    let (ocsp_urls, crl_urls) = urls(cert);
    for url in ocsp_urls.iter().take(4) {
        if kyso_pdf::stop::stopped() {
            return None; // a stopped validation asks no one (the caller discards its result)
        }
        match f.ocsp(url, cert, issuer) {
            Ok(r) => {
                let fetched = *r.sha256();
                // Beside the responses at hand when one dated ahead says "revoked" or a hold
                // is at hand (as the CRLs below).
                let got: Vec<Ocsp> = match held {
                    true => data.ocsps.iter().cloned().chain([r]).collect(),
                    false => vec![r],
                };
                let d = Data {
                    crls: data.crls,
                    ocsps: &got,
                };
                // With the fetcher: the answer fetched may be by a delegated responder whose
                // own status must be fetched too (a stolen responder key answering at the
                // signer's OCSP URL was believed on the strength of an old CRL at hand; found
                // by an attacker's reading, 2026-12-03). Its check fetches CRLs only: no loop.
                let found = evaluate(cert, issuer, d, control, now, Some(f), notes);
                // Only what the answer itself says: the CRLs at hand are there for its
                // responder's check, and their weaker "good" is why this fetch happens (an
                // answer ignored left that "good" standing as if fetched; the same reading).
                // A hold the answer tells is an answer too (it was passed over, and an older
                // CRL decided; helper 140, 2026-12-05).
                // The fetched answer itself among what the status rests on, not only a
                // response at hand (a hold at hand stopped the search before the CRLs that
                // lift it; helper 160).
                if (found.status != Status::Unknown || found.on_hold.is_some())
                    && found.ocsps.iter().any(|o| *o.sha256() == fetched)
                {
                    return Some(found);
                }
                // An answer dated ahead of this machine's clock saying "revoked" or a hold:
                // the status cannot be told, and no CRL fetched next may say "good" over it
                // (helper 161).
                if found.listed_ahead {
                    return Some(found);
                }
            }
            Err(e) => notes.push(format!("the OCSP responder could not be asked: {e}")),
        }
    }
    for url in crl_urls.iter().take(4) {
        if kyso_pdf::stop::stopped() {
            return None;
        }
        match f.crl(url, issuer, now) {
            Ok(c) => {
                // With a hold at hand, the CRL fetched is read beside it: whether it lifts the
                // hold by the control time is theirs together to tell (read alone, a current
                // CRL lifted a hold in force when the signature was made; helper 140).
                let got: Vec<Crl> = match held {
                    true => data.crls.iter().cloned().chain([c]).collect(),
                    false => vec![c],
                };
                let d = Data {
                    crls: &got,
                    ocsps: if held { data.ocsps } else { &[] },
                };
                let found = evaluate(cert, issuer, d, control, now, None, notes);
                if found.status != Status::Unknown || found.on_hold.is_some() {
                    return Some(found);
                }
            }
            Err(e) => notes.push(format!("the CRL could not be fetched: {e}")),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(ca: bool, days_valid: u64) -> Cert {
        // A throwaway certificate with the validity and basicConstraints asked for, from the
        // corpus PKI's shape (pyca would do; here x509-cert's builder with a P-256 key).
        use p256::pkcs8::EncodePublicKey;
        use x509_cert::builder::{Builder, CertificateBuilder, Profile};
        let sk = p256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
        let spki = spki::SubjectPublicKeyInfoOwned::from_der(
            sk.verifying_key().to_public_key_der().unwrap().as_bytes(),
        )
        .unwrap();
        let name: x509_cert::name::Name = "CN=t".parse().unwrap();
        let validity = x509_cert::time::Validity {
            not_before: x509_cert::time::Time::try_from(
                SystemTime::UNIX_EPOCH + Duration::from_secs(19_000 * 86_400),
            )
            .unwrap(),
            not_after: x509_cert::time::Time::try_from(
                SystemTime::UNIX_EPOCH + Duration::from_secs((20_000 + days_valid) * 86_400),
            )
            .unwrap(),
        };
        let profile = if ca {
            Profile::SubCA {
                issuer: name.clone(),
                path_len_constraint: None,
            }
        } else {
            Profile::Leaf {
                issuer: name.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            }
        };
        let b = CertificateBuilder::new(
            profile,
            x509_cert::serial_number::SerialNumber::from(1u32),
            validity,
            name,
            spki,
            &sk,
        )
        .unwrap();
        let c = b.build::<p256::ecdsa::DerSignature>().unwrap();
        Cert::from_parsed(&c).unwrap()
    }

    #[test]
    fn freshness_follows_the_signing_time_and_the_certificates_life() {
        let day = Duration::from_secs(86_400);
        let t = SystemTime::UNIX_EPOCH + 20_000 * day;
        let (ee, ca) = (cert(false, 365), cert(true, 3650));
        // An end-entity certificate's "good": issued at or after the signing time, while the
        // certificate was valid.
        use Freshness::*;
        assert_eq!(fresh(&ee, t + day, None, None, t), After);
        assert_eq!(
            fresh(&ee, t - Duration::from_secs(1), Some(t + day), None, t),
            After
        );
        // Issued before, its window covering the time: weaker, but it counts.
        assert_eq!(fresh(&ee, t - day, Some(t + day), None, t), Covers);
        // Issued before, without a nextUpdate or with one already past: nothing.
        assert_eq!(fresh(&ee, t - day, None, None, t), Stale);
        assert_eq!(fresh(&ee, t - 3 * day, Some(t - day), None, t), Stale);
        // Issued after the certificate expired: CAs drop expired certificates from CRLs…
        assert_eq!(fresh(&ee, t + 400 * day, None, None, t), Stale);
        // …unless the data says it keeps them.
        assert_eq!(fresh(&ee, t + 400 * day, None, Some(t), t), After);
        // A yearly ARL issued before the signing time covers it…
        assert_eq!(
            fresh(&ca, t - 90 * day, Some(t + 270 * day), None, t),
            Covers
        );
        // …but not one that claims a longer window, or has expired.
        assert_eq!(
            fresh(&ca, t - 90 * day, Some(t + 400 * day), None, t),
            Stale
        );
        assert_eq!(fresh(&ca, t - 3 * day, Some(t - day), None, t), Stale);
    }
}

#[cfg(test)]
mod invalidity_tests {
    use super::invalidity_date;
    use std::time::{Duration, SystemTime};

    fn at(secs: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Invalidity dates as CAs write them are read: DER, a fraction, no seconds, an offset,
    /// a UTCTime; what is not a time is not.
    #[test]
    fn invalidity_dates_are_read_as_cas_write_them() {
        // 2026-04-01T00:00:00Z
        let t = 1_775_001_600;
        let tlv = |tag: u8, s: &str| {
            let mut v = vec![tag, s.len() as u8];
            v.extend(s.as_bytes());
            v
        };
        assert_eq!(invalidity_date(&tlv(0x18, "20260401000000Z")), at(t));
        assert_eq!(invalidity_date(&tlv(0x18, "20260401000000.5Z")), at(t));
        assert_eq!(invalidity_date(&tlv(0x18, "202604010000Z")), at(t));
        assert_eq!(invalidity_date(&tlv(0x18, "20260401070000+0700")), at(t));
        assert_eq!(invalidity_date(&tlv(0x17, "260401000000Z")), at(t));
        assert_eq!(invalidity_date(&tlv(0x18, "2026040100")), at(t));
        assert_eq!(invalidity_date(&tlv(0x18, "yesterday")), None);
        assert_eq!(invalidity_date(&tlv(0x18, "20261301000000Z")), None);
        assert_eq!(invalidity_date(&[0x18]), None);
        // Not a time at all: the declared compromise counts from the start, not never.
        let garbage = x509_cert::ext::Extension {
            extn_id: const_oid::db::rfc5280::ID_CE_INVALIDITY_DATE,
            critical: false,
            extn_value: der::asn1::OctetString::new(tlv(0x18, "yesterday")).unwrap(),
        };
        let revoked = SystemTime::UNIX_EPOCH + Duration::from_secs(t + 86_400);
        assert_eq!(
            super::revoked_at(revoked, [&garbage].into_iter()),
            SystemTime::UNIX_EPOCH
        );
        let fraction = x509_cert::ext::Extension {
            extn_value: der::asn1::OctetString::new(tlv(0x18, "20260401000000.5Z")).unwrap(),
            ..garbage.clone()
        };
        assert_eq!(
            super::revoked_at(revoked, [&fraction].into_iter()),
            at(t).unwrap()
        );
    }
}
