//! Revocation (RFC 5280 §6.3, RFC 6960) judged at a control time: the signature time-stamp's
//! genTime when one proves when the signature existed, else the claimed signing time.
//!
//! - A CRL counts only if the certificate's issuer signed it (direct CRLs), the issuer may sign
//!   CRLs, it is complete for the certificate (not a delta CRL; an issuingDistributionPoint that
//!   covers the certificate and all reasons; no critical extension kyso does not process) and it
//!   is not dated in the future.
//! - An OCSP response counts if the issuer signed it, or a responder the issuer certified for
//!   OCSPSigning, valid when the response was produced, whose own status is not "revoked" in the
//!   CRLs at hand (unless it carries id-pkix-ocsp-nocheck).
//! - "Revoked" from any source wins over "good" from another. "Good" proves the certificate
//!   was not revoked at the control time only if the CRL or response was issued at or after it
//!   (fresh); older data is reported and not used.

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

/// The longest window a CRL or OCSP response issued *before* the control time may claim and
/// still count for it: a CA publishes status for end-entity certificates at least every ten
/// days, and for CA certificates at least every twelve months (CA/Browser Forum Baseline
/// Requirements §4.9.7, §4.10.2). A response that claims a longer window is not believed for a
/// time before it was made.
const MAX_WINDOW_END_ENTITY: Duration = Duration::from_secs(10 * 86_400);
const MAX_WINDOW_CA: Duration = Duration::from_secs(366 * 86_400);

/// Does status information issued at `this_update` (valid until `next_update`) tell the status
/// at `control`? Issued at or after it: yes. Issued before: only if `control` falls within its
/// window and the window is one a CA really publishes in (EN 319 102-1 §5.2.5.4's freshness
/// with the Baseline Requirements' periods as the maximum).
fn fresh(
    this_update: SystemTime,
    next_update: Option<SystemTime>,
    control: SystemTime,
    for_ca: bool,
) -> bool {
    if this_update >= control {
        return true;
    }
    let Some(next) = next_update else {
        return false;
    };
    let max = if for_ca {
        MAX_WINDOW_CA
    } else {
        MAX_WINDOW_END_ENTITY
    };
    control <= next
        && next
            .duration_since(this_update)
            .is_ok_and(|window| window <= max)
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

/// Is the CRL complete for `cert` (§6.3.3 (b)), and why not?
fn crl_scope(crl: &Crl, cert: &Cert) -> Result<(), NotComplete> {
    let t = &crl.list.tbs_cert_list;
    for e in t.crl_extensions.iter().flatten() {
        match e.extn_id {
            ID_CE_DELTA_CRL_INDICATOR => return Err(NotComplete::Delta),
            ID_CE_ISSUING_DISTRIBUTION_POINT => {
                let idp = IssuingDistributionPoint::from_der(e.extn_value.as_bytes())
                    .map_err(|_| NotComplete::BadIdp)?;
                if idp.indirect_crl {
                    return Err(NotComplete::Indirect);
                }
                if idp.only_some_reasons.is_some() {
                    return Err(NotComplete::SomeReasons);
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
    Ok(())
}

/// What one CRL says of `cert`.
fn from_crl(
    crl: &Crl,
    cert: &Cert,
    issuer: &Cert,
    control: SystemTime,
    now: SystemTime,
    notes: &mut Vec<String>,
) -> Option<Status> {
    let t = &crl.list.tbs_cert_list;
    if !crate::x509::same_name(&t.issuer, &cert.tbs().issuer) {
        return None;
    }
    let from = t.issuer.to_string();
    if let Err(e) = crl.signed_by(issuer) {
        notes.push(format!(
            "a CRL from {from} does not verify with its issuer's key ({e}); ignored"
        ));
        return None;
    }
    if let Ok(Some((_, ku))) = issuer.extension::<KeyUsage>() {
        if !ku.0.contains(KeyUsages::CRLSign) {
            notes.push(format!(
                "a CRL from {from}, whose key may not sign CRLs (keyUsage); ignored"
            ));
            return None;
        }
    }
    if let Err(why) = crl_scope(crl, cert) {
        notes.push(format!(
            "a CRL from {from} is not a complete CRL for {}: {why}; ignored",
            cert.subject_string()
        ));
        return None;
    }
    let this_update = t.this_update.to_system_time();
    if this_update > now + SKEW {
        notes.push(format!("a CRL from {from} is dated in the future; ignored"));
        return None;
    }
    let entry = t
        .revoked_certificates
        .iter()
        .flatten()
        .find(|r| r.serial_number == cert.tbs().serial_number);
    if let Some(r) = entry {
        return Some(Status::Revoked(r.revocation_date.to_system_time()));
    }
    let next_update = t.next_update.as_ref().map(|n| n.to_system_time());
    if !fresh(this_update, next_update, control, is_ca(cert)) {
        notes.push(format!(
            "the CRL from {from} of {} does not cover the signing time ({}): it cannot show {} was not revoked then; not used",
            crate::rfc3339(this_update),
            crate::rfc3339(control),
            cert.subject_string()
        ));
        return None;
    }
    Some(Status::Good)
}

/// Does the CertID of a single response name `cert` issued by `issuer` (RFC 6960 §4.1.1)?
fn cert_id_matches(id: &x509_ocsp::CertId, cert: &Cert, issuer: &Cert) -> bool {
    if id.serial_number != cert.tbs().serial_number {
        return false;
    }
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

/// Who may have signed a response for certificates of `issuer`: the issuer itself, or a
/// delegated responder it certified. `Err` says why a response must not be believed.
fn responder_ok(
    resp: &Ocsp,
    issuer: &CertRef,
    data: Data<'_>,
    now: SystemTime,
    notes: &mut Vec<String>,
) -> bool {
    if resp.signed_by(issuer).is_ok() {
        return true;
    }
    let produced = resp.basic.tbs_response_data.produced_at.0.to_system_time();
    for r in resp.certificates() {
        if !crate::x509::same_name(&r.tbs().issuer, &issuer.tbs().subject)
            || r.signed_by(issuer).is_err()
        {
            continue;
        }
        if resp.signed_by(&r).is_err() {
            continue;
        }
        let name = r.subject_string();
        let eku = r.extension::<ExtendedKeyUsage>().ok().flatten();
        if !eku.is_some_and(|(_, u)| u.0.contains(&ID_KP_OCSP_SIGNING)) {
            notes.push(format!("an OCSP response is signed by {name}, which the issuer did not certify for OCSP signing; ignored"));
            return false;
        }
        let problems = super::check(
            &[r.clone(), issuer.clone()],
            produced,
            Purpose::OcspResponder,
        );
        if let Some(p) = problems.first() {
            notes.push(format!("the OCSP responder {name} was not valid when it answered ({p:?}); its response is ignored"));
            return false;
        }
        let nocheck = r
            .tbs()
            .extensions
            .iter()
            .flatten()
            .any(|e| e.extn_id == ID_PKIX_OCSP_NOCHECK);
        if !nocheck {
            let mut inner = Vec::new();
            let revoked = data
                .crls
                .iter()
                .filter_map(|c| from_crl(c, &r, issuer, produced, now, &mut inner))
                .find_map(|s| match s {
                    Status::Revoked(at) => Some(at),
                    _ => None,
                });
            match revoked {
                Some(at) if at <= produced => {
                    notes.push(format!("the OCSP responder {name} was revoked on {} (before it answered); its response is ignored", crate::rfc3339(at)));
                    return false;
                }
                Some(_) => {}
                None if inner.is_empty() && data.crls.is_empty() => notes.push(format!(
                    "the OCSP responder {name} has no id-pkix-ocsp-nocheck and no CRL for it is at hand: its own status was not checked"
                )),
                None => {}
            }
        }
        return true;
    }
    notes.push(format!(
        "an OCSP response for a certificate of {} is not signed by it or by a responder it delegated; ignored",
        issuer.subject_string()
    ));
    false
}

/// What the OCSP responses say of `cert`.
fn from_ocsp(
    resp: &Ocsp,
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    control: SystemTime,
    now: SystemTime,
    notes: &mut Vec<String>,
) -> Option<Status> {
    use x509_ocsp::CertStatus;
    let singles: Vec<_> = resp
        .basic
        .tbs_response_data
        .responses
        .iter()
        .filter(|s| cert_id_matches(&s.cert_id, cert, issuer))
        .collect();
    if singles.is_empty() || !responder_ok(resp, issuer, data, now, notes) {
        return None;
    }
    let mut out = None;
    for single in singles {
        let this_update = single.this_update.0.to_system_time();
        if this_update > now + SKEW {
            notes.push("an OCSP response is dated in the future; ignored".into());
            continue;
        }
        match &single.cert_status {
            CertStatus::Revoked(info) => {
                return Some(Status::Revoked(info.revocation_time.0.to_system_time()))
            }
            CertStatus::Good(_)
                if fresh(
                    this_update,
                    single.next_update.as_ref().map(|n| n.0.to_system_time()),
                    control,
                    is_ca(cert),
                ) =>
            {
                out = Some(Status::Good)
            }
            CertStatus::Good(_) => notes.push(format!(
                "an OCSP response of {} says {} is good, but does not cover the signing time ({}); not used",
                crate::rfc3339(this_update),
                cert.subject_string(),
                crate::rfc3339(control)
            )),
            CertStatus::Unknown(_) => notes.push(format!(
                "the OCSP responder does not know {}",
                cert.subject_string()
            )),
        }
    }
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
}

/// Evaluate the data at hand: the status, and which items gave one.
fn evaluate(
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    control: SystemTime,
    now: SystemTime,
    notes: &mut Vec<String>,
) -> (Status, Vec<Crl>, Vec<Ocsp>) {
    let mut found: Vec<Status> = Vec::new();
    let mut crls = Vec::new();
    let mut ocsps = Vec::new();
    for r in data.ocsps {
        if let Some(s) = from_ocsp(r, cert, issuer, data, control, now, notes) {
            found.push(s);
            ocsps.push(r.clone());
        }
    }
    for c in data.crls {
        if let Some(s) = from_crl(c, cert, issuer, control, now, notes) {
            found.push(s);
            crls.push(c.clone());
        }
    }
    let revoked = found
        .iter()
        .filter_map(|s| match s {
            Status::Revoked(at) => Some(*at),
            _ => None,
        })
        .min();
    let status = match revoked {
        Some(at) => Status::Revoked(at),
        None if found.contains(&Status::Good) => Status::Good,
        None => Status::Unknown,
    };
    (status, crls, ocsps)
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

/// The status of `cert` (issued by `issuer`) at `control`, from every source at hand, and —
/// when that tells nothing and a fetcher is given — from the responders and distribution
/// points the certificate names (OCSP first), with notes on what was not used and why.
pub fn status(
    cert: &Cert,
    issuer: &CertRef,
    data: Data<'_>,
    control: SystemTime,
    now: SystemTime,
    fetcher: Option<&crate::fetch::Fetcher>,
) -> Outcome {
    let mut notes = Vec::new();
    let (status, crls, ocsps) = evaluate(cert, issuer, data, control, now, &mut notes);
    let mut out = Outcome {
        status,
        notes,
        crls,
        ocsps,
    };
    let Some(f) = fetcher else { return out };
    if out.status != Status::Unknown {
        return out;
    }
    let (ocsp_urls, crl_urls) = urls(cert);
    for url in ocsp_urls.iter().take(4) {
        match f.ocsp(url, cert, issuer) {
            Ok(r) => {
                let got = [r];
                let d = Data {
                    crls: data.crls,
                    ocsps: &got,
                };
                let (s, _, used) = evaluate(cert, issuer, d, control, now, &mut out.notes);
                if s != Status::Unknown {
                    out.status = s;
                    out.ocsps.extend(used);
                    return out;
                }
            }
            Err(e) => out
                .notes
                .push(format!("the OCSP responder could not be asked: {e}")),
        }
    }
    for url in crl_urls.iter().take(4) {
        match f.crl(url, now) {
            Ok(c) => {
                let got = [c];
                let d = Data {
                    crls: &got,
                    ocsps: &[],
                };
                let (s, used, _) = evaluate(cert, issuer, d, control, now, &mut out.notes);
                if s != Status::Unknown {
                    out.status = s;
                    out.crls.extend(used);
                    return out;
                }
            }
            Err(e) => out.notes.push(format!("the CRL could not be fetched: {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_follows_the_signing_time_and_believable_windows() {
        let day = Duration::from_secs(86_400);
        let t = SystemTime::UNIX_EPOCH + 20_000 * day;
        // Issued after the signing time: fresh, whatever its window.
        assert!(fresh(t + day, None, t, false));
        // A daily CRL issued the day before, valid for two days: covers the signing time.
        assert!(fresh(t - day, Some(t + day), t, false));
        // Expired before the signing time, or no nextUpdate: not.
        assert!(!fresh(t - 3 * day, Some(t - day), t, false));
        assert!(!fresh(t - day, None, t, false));
        // A ten-year "good" made half a year before signing: not believed for the signing time…
        assert!(!fresh(t - 182 * day, Some(t + 3650 * day), t, false));
        // …but a CA's yearly ARL is.
        assert!(fresh(t - 90 * day, Some(t + 270 * day), t, true));
        assert!(!fresh(t - 90 * day, Some(t + 400 * day), t, true));
    }
}
