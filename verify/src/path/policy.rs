//! Certificate policies (RFC 5280 §6.1.2–6.1.5) with the initial inputs kyso validates with:
//! user-initial-policy-set {anyPolicy}, no initial explicit policy, mapping and anyPolicy not
//! inhibited. The valid policy tree is kept as the set of its leaves' valid policies (no
//! qualifiers, which kyso does not use), which decides the same outcome: whether a path that
//! requires an explicit policy has one. policyConstraints, policyMappings and inhibitAnyPolicy
//! are processed, so CAs that mark them critical are judged, not refused.

use crate::x509::CertRef;
use const_oid::ObjectIdentifier;
use std::collections::BTreeSet;
use x509_cert::ext::pkix::{
    CertificatePolicies, InhibitAnyPolicy, PolicyConstraints, PolicyMappings,
};

/// anyPolicy (§4.2.1.4).
pub const ANY_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32.0");

/// Policy-processing failures along `path` (leaf first, anchor last).
pub fn check(path: &[CertRef]) -> Vec<String> {
    // Certificates 1..=n from the one the anchor issued (§6.1: the anchor is input, not a
    // certificate of the path).
    let certs: Vec<&CertRef> = path.iter().rev().skip(1).collect();
    let n = certs.len();
    let mut explicit_policy = n + 1;
    let mut inhibit_any = n + 1;
    let mut policy_mapping = n + 1;
    // None: the valid_policy_tree is NULL.
    let mut valid: Option<BTreeSet<ObjectIdentifier>> = Some(BTreeSet::from([ANY_POLICY]));
    for (k, c) in certs.iter().enumerate() {
        let i = k + 1;
        let name = c.subject_string();
        let bad = |what: &str, e: der::Error| {
            vec![format!("certificate {name}: unreadable {what} ({e})")]
        };
        let policies = match c.extension::<CertificatePolicies>() {
            Ok(p) => p.map(|(_, p)| {
                p.0.into_iter()
                    .map(|x| x.policy_identifier)
                    .collect::<Vec<_>>()
            }),
            Err(e) => return bad("certificatePolicies", e),
        };
        // (d), (e): the certificate's policies against the valid ones.
        valid = match (policies.as_ref(), valid.take()) {
            (Some(ps), Some(set)) => {
                let any_valid = set.contains(&ANY_POLICY);
                let mut next: BTreeSet<ObjectIdentifier> = ps
                    .iter()
                    .filter(|p| **p != ANY_POLICY && (any_valid || set.contains(p)))
                    .cloned()
                    .collect();
                if ps.contains(&ANY_POLICY) && (inhibit_any > 0 || (i < n && c.is_self_issued())) {
                    next.extend(set.iter().cloned());
                }
                (!next.is_empty()).then_some(next)
            }
            _ => None,
        };
        // (f)
        if explicit_policy == 0 && valid.is_none() {
            return vec![format!(
                "certificate {name}: the path must carry an explicit certificate policy (policyConstraints) and none is valid here"
            )];
        }
        if i == n {
            // Wrap-up (§6.1.5 (a), (b)).
            explicit_policy = explicit_policy.saturating_sub(1);
            match c.extension::<PolicyConstraints>() {
                Ok(Some((_, pc))) if pc.require_explicit_policy == Some(0) => explicit_policy = 0,
                Ok(_) => {}
                Err(e) => return bad("policyConstraints", e),
            }
            if explicit_policy == 0 && valid.is_none() {
                return vec![format!(
                    "certificate {name}: no certificate policy is valid for the path, and one is required (policyConstraints)"
                )];
            }
            break;
        }
        // Preparation for certificate i+1 (§6.1.4).
        match c.extension::<PolicyMappings>() {
            Ok(Some((_, pm))) => {
                for m in &pm.0 {
                    if m.issuer_domain_policy == ANY_POLICY || m.subject_domain_policy == ANY_POLICY
                    {
                        return vec![format!(
                            "certificate {name} maps anyPolicy (policyMappings)"
                        )];
                    }
                }
                if let Some(set) = valid.as_mut() {
                    let any_valid = set.contains(&ANY_POLICY);
                    for m in &pm.0 {
                        if policy_mapping > 0 {
                            if set.remove(&m.issuer_domain_policy) || any_valid {
                                set.insert(m.subject_domain_policy);
                            }
                        } else {
                            set.remove(&m.issuer_domain_policy);
                        }
                    }
                    if set.is_empty() {
                        valid = None;
                    }
                }
            }
            Ok(None) => {}
            Err(e) => return bad("policyMappings", e),
        }
        if !c.is_self_issued() {
            explicit_policy = explicit_policy.saturating_sub(1);
            policy_mapping = policy_mapping.saturating_sub(1);
            inhibit_any = inhibit_any.saturating_sub(1);
        }
        match c.extension::<PolicyConstraints>() {
            Ok(Some((_, pc))) => {
                if let Some(r) = pc.require_explicit_policy {
                    explicit_policy = explicit_policy.min(r as usize);
                }
                if let Some(q) = pc.inhibit_policy_mapping {
                    policy_mapping = policy_mapping.min(q as usize);
                }
            }
            Ok(None) => {}
            Err(e) => return bad("policyConstraints", e),
        }
        match c.extension::<InhibitAnyPolicy>() {
            Ok(Some((_, v))) => inhibit_any = inhibit_any.min(v.0 as usize),
            Ok(None) => {}
            Err(e) => return bad("inhibitAnyPolicy", e),
        }
    }
    Vec::new()
}
