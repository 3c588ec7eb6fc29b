//! PDF signatures (ISO 32000-1 §12.8, ETSI EN 319 142-1): every signature — in the form's
//! fields, and hidden ones still in the file's bytes — its /ByteRange (`byterange`), its CMS or
//! document time-stamp, and every change after its signed revision: the classifier (`roles`,
//! `diff`) turns each difference into a value and the policy (`policy`, with `mdp`'s DocMDP and
//! FieldMDP permissions) judges them. Each revision is parsed once.

pub mod byterange;
pub mod diff;
pub mod dss;
pub mod fields;
pub mod mdp;
pub mod policy;
pub mod roles;

use crate::cms::{self, Context};
use crate::report::{Indication, Report, SignatureReport, SubIndication};
use crate::{rfc3339, tsp, Validator};
use fields::Found;
use kyso_pdf::{Document, Object};
use std::collections::HashMap;
use std::time::SystemTime;

/// Most signatures validated in one file (each may analyse a whole revision).
pub const MAX_SIGNATURES: usize = 64;

/// A signature whose byte range checked out.
struct Checked {
    found: Found,
    range: byterange::SignedRange,
    reports: Vec<SignatureReport>,
}

/// Validate every signature in a PDF.
pub fn verify_pdf(v: &Validator, data: &[u8]) -> Report {
    let doc = match Document::parse(data) {
        Ok(d) => d,
        Err(e) => return Report::format_failure(format!("the PDF cannot be read as it is: {e}")),
    };
    let (mut found, empty) = fields::signature_fields(&doc);
    match fields::hidden_signatures(&doc, &found) {
        Ok(hidden) => found.extend(hidden),
        Err(e) => return Report::format_failure(e.to_string()),
    }
    let mut messages: Vec<String> = empty
        .iter()
        .map(|n| format!("signature field {n:?} is empty (not signed)"))
        .collect();
    if found.is_empty() {
        messages.push("the PDF has no signature".into());
        return Report::from_signatures(Vec::new(), messages);
    }
    if found.len() > MAX_SIGNATURES {
        return Report::format_failure(format!(
            "the PDF holds {} signatures; kyso validates at most {MAX_SIGNATURES}",
            found.len()
        ));
    }
    let ends = doc.revision_ends();
    // Bytes after the last revision belong to none: a viewer repairing the file may read them.
    let tail_start = ends.iter().copied().max().unwrap_or(0);
    if data[tail_start.min(data.len())..]
        .iter()
        .any(|b| !kyso_pdf::parse::is_ws(*b))
    {
        return Report::format_failure(format!(
            "{} bytes after the last %%EOF belong to no revision",
            data.len() - tail_start
        ));
    }
    // Each signed revision parsed once, shared by the signatures that end there.
    let mut revisions: HashMap<usize, Result<Document<'_>, String>> = HashMap::new();
    let mut reports = Vec::new();
    let mut checked: Vec<Checked> = Vec::new();
    let mut pending: Vec<(&Found, byterange::SignedRange)> = Vec::new();
    for f in &found {
        if kyso_pdf::stop::stopped() {
            break; // no verdict: the caller discards the report
        }
        let fail = |msg: String| {
            let mut r = SignatureReport::new("PAdES");
            r.field = Some(f.name.clone());
            r.fail(Indication::TotalFailed, SubIndication::FormatFailure, msg);
            r.facts.integrity = Some(false);
            r
        };
        let range = match byterange::check(&doc, data, f, &ends) {
            Ok(r) => r,
            Err(e) => {
                reports.push(fail(e.to_string()));
                continue;
            }
        };
        if range.end < data.len() {
            // A signed revision is read within the file's budgets of memory, sharing the object
            // streams the file decoded: with budgets of its own, eight signed revisions of an
            // 18 KB file held eight copies of one 5.5-million-element array and aborted the
            // process (helper 215, 2026-12-06). A later revision spending them leaves the
            // objects a signature covers unreadable, which fails it, as any damage would.
            revisions
                .entry(range.end)
                .or_insert_with(|| doc.parse_revision(range.end).map_err(|e| e.to_string()));
        }
        let signed = if range.end == data.len() {
            Ok(&doc)
        } else {
            revisions[&range.end].as_ref().map_err(Clone::clone)
        };
        // The signature dictionary must be part of what it signs.
        let part_of_signed = match (signed, f.sig_ref) {
            (Err(e), _) => Err(format!("the signed revision cannot be read: {e}")),
            // An inline signature dictionary: the field that holds it must hold the same one
            // in the signed revision (a copy of a real signature's /Contents in a new field
            // is not that signature).
            (Ok(s), None) => {
                let same = f
                    .field
                    .and_then(|fr| s.dict(fr).ok())
                    .and_then(|d| d.get("V").cloned())
                    .is_some_and(|v| matches!(&v, Object::Dict(d) if diff::same(&Object::Dict(d.clone()), &Object::Dict(f.sig.clone()))));
                if same {
                    Ok(())
                } else {
                    Err("the signature dictionary is not part of the revision it signs (a copy of a signature in a later revision)".into())
                }
            }
            (Ok(s), Some(r)) => {
                let same = s
                    .get(r)
                    .ok()
                    .and_then(|o| o.as_dict().and_then(|d| d.get("Contents").cloned()))
                    .is_some_and(|c| Some(&c) == f.sig.get("Contents"));
                if same {
                    Ok(())
                } else {
                    Err("the signature dictionary is not part of the revision it signs (signature wrapping)".into())
                }
            }
        };
        if let Err(e) = part_of_signed {
            reports.push(fail(e));
            continue;
        }
        pending.push((f, range));
    }
    // The DSS of every revision the signed revisions' chains and the file's have: the signed
    // ones first, oldest first, each with a budget of its own.
    let dss = {
        let mut signed: Vec<(&usize, &Document<'_>)> = revisions
            .iter()
            .filter_map(|(end, r)| r.as_ref().ok().map(|d| (end, d)))
            .collect();
        signed.sort_by_key(|(end, _)| **end);
        dss::read_all(
            signed
                .into_iter()
                .map(|(e, d)| (*e, d))
                .chain([(data.len(), &doc)]),
        )
    };
    // Document time-stamps, newest first: each is relied on at the genTime of the newest valid
    // one that covers it (its proof of existence), the newest at the validation time; a
    // signature's own time-stamp likewise (EN 319 102-1 §5.6: long-term validation).
    let is_doc_ts = |f: &Found| {
        f.sig
            .get("SubFilter")
            .is_some_and(|s| s.is_name("ETSI.RFC3161"))
    };
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|i| {
        (
            !is_doc_ts(pending[*i].0),
            std::cmp::Reverse(pending[*i].1.end),
        )
    });
    // (end of the revision it signs, genTime, its validation data)
    let mut proofs: Vec<(usize, SystemTime, crate::Evidence)> = Vec::new();
    // Document time-stamps whose time a time-stamp they cover contradicts: (end of the
    // revision the contradicted one signs, why).
    let mut out_of_order: Vec<(usize, String)> = Vec::new();
    let mut done: Vec<Option<Vec<SignatureReport>>> = vec![None; pending.len()];
    for i in order {
        if kyso_pdf::stop::stopped() {
            break; // no verdict: the caller discards the report
        }
        let (f, range) = pending[i];
        // The earliest valid document time-stamp over it: its proof of existence.
        let covering = proofs
            .iter()
            .filter(|(end, _, _)| *end > range.end)
            .min_by_key(|(_, t, _)| *t)
            .map(|(_, t, e)| (*t, e));
        let reliance = covering.map_or(v.now, |(t, _)| t);
        // Validating as of a past time (--at): a document time-stamp made after it did not
        // exist then.
        if is_doc_ts(f) {
            let claimed = f
                .sig
                .get("Contents")
                .and_then(Object::as_string)
                .and_then(tsp::claimed_gen_time);
            if let Some(t) = claimed.filter(|t| *t > v.now + std::time::Duration::from_secs(300)) {
                messages.push(format!(
                    "document time-stamp {:?} was made at {}, after the validation time: not considered",
                    f.name,
                    rfc3339(t)
                ));
                // Not considered, but what covers it was made after it all the same: one
                // claiming an earlier time is out of order (helper 145: a revoked signer's
                // signature passed as of July on a February time-stamp over an August one,
                // which the same CAdES file did not).
                // Its claim is read first: only one that some proof contradicts is checked
                // (checked each, 63 such time-stamps among look-alike CAs took 38 s of a debug
                // build; helper 146).
                let contents = f.sig.get("Contents").and_then(Object::as_string);
                let skew = std::time::Duration::from_secs(300);
                let contradicts = |(lo, _, _): &(SystemTime, SystemTime, SystemTime)| {
                    proofs
                        .iter()
                        .any(|(end, pt, _)| *end > range.end && *pt + skew < *lo)
                };
                let vouched = || {
                    let mut at_hand = crate::Evidence::default();
                    at_hand.add_crls(v.crls.iter().chain(&dss.crls).cloned());
                    at_hand.add_ocsps(v.ocsps.iter().chain(&dss.ocsps).cloned());
                    let mut extra = dss.certs.clone();
                    extra.extend(v.certs.iter().cloned());
                    let data_at_hand = crate::path::revocation::Data {
                        crls: &at_hand.crls,
                        ocsps: &at_hand.ocsps,
                    };
                    tsp::vouched_window(v, contents?, &extra, data_at_hand)
                };
                if let Some((earliest, _, written)) = contents
                    .and_then(tsp::claimed_window)
                    .filter(contradicts)
                    .and_then(|_| vouched())
                {
                    set_aside_contradicted(
                        &mut proofs,
                        &mut out_of_order,
                        (range.end, earliest, written),
                        &f.name,
                    );
                }
                continue;
            }
        }
        let (mut reps, proof) = check_one(v, f, data, &range, &dss, reliance, covering);
        if let Some(t) = proof {
            // A later document time-stamp over this one claiming an earlier time: one of the
            // two TSAs is wrong, and the earlier time is relied on by no signature (taken as
            // the earliest, it proved a revoked signer's signature older than the revocation;
            // helper 139, 2026-12-05). The signatures it covered are INDETERMINATE. Each
            // within its accuracy: the covering one's latest time (its proof, `pt`) before
            // this one's earliest (genTime less accuracy; compared with genTime plus
            // accuracy, an hour's accuracy on the covered one was out of order; helper 143).
            let (earliest, written) = f
                .sig
                .get("Contents")
                .and_then(Object::as_string)
                .and_then(tsp::claimed_window)
                .map_or((t, t), |(lo, _, gen)| (lo, gen));
            set_aside_contradicted(
                &mut proofs,
                &mut out_of_order,
                (range.end, earliest, written),
                &f.name,
            );
            let evidence = reps.first().map(|r| r.evidence.clone()).unwrap_or_default();
            proofs.push((range.end, t, evidence));
        }
        // A document time-stamp over a signature's own time-stamp claiming an earlier time:
        // the same contradiction (helper 139's `doc_ts_before_sig_ts`, B-LTA).
        let skew = std::time::Duration::from_secs(300);
        for r in &mut reps {
            let own = r.timestamp.as_deref().and_then(crate::dates::parse_rfc3339);
            let earlier = proofs
                .iter()
                .filter(|(end, pt, _)| *end > range.end && own.is_some_and(|o| *pt + skew < o))
                .map(|(_, pt, _)| *pt)
                .min();
            if let (Some(pt), Some(o)) = (earlier, own) {
                r.fail(
                    Indication::Indeterminate,
                    SubIndication::TimestampOrderFailure,
                    format!(
                        "a document time-stamp of {} covers this signature's time-stamp of {}, a later time: time-stamps out of order",
                        rfc3339(pt),
                        rfc3339(o)
                    ),
                );
            }
        }
        for r in &mut reps {
            r.field = Some(f.name.clone());
            if !f.shared_by.is_empty() {
                r.fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    format!(
                        "this signature is the value of more than one signature field ({:?} and {}): each signature is made with a field of its own, and another field naming it shows an appearance its signer did not make",
                        f.name,
                        f.shared_by
                            .iter()
                            .map(|n| format!("{n:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            if f.hidden {
                r.fail(
                    Indication::Indeterminate,
                    SubIndication::SigConstraintsFailure,
                    "this signature is in the file but no signature field shows it: it may have been hidden after signing",
                );
            }
        }
        done[i] = Some(reps);
    }
    for (i, reps) in done.into_iter().enumerate() {
        if let Some(mut reports) = reps {
            // The revisions valid document time-stamps after it sign: B-LTA needs one whose
            // DSS holds the signature's data (a DSS added after the only time-stamp was called
            // B-LTA). Each DSS item carries the first revision that holds it: read once (a
            // DSS read again per time-stamp cost 60 time-stamps × 10,000 entries 24 s; an
            // attacker's reading, 2026-12-04).
            let stamped: Vec<usize> = proofs
                .iter()
                .map(|(end, _, _)| *end)
                .filter(|end| *end > pending[i].1.end)
                .collect();
            for r in &mut reports {
                long_term_level(r, &dss, &stamped);
                for (_, why) in out_of_order
                    .iter()
                    .filter(|(end, _)| *end > pending[i].1.end)
                {
                    r.fail(
                        Indication::Indeterminate,
                        SubIndication::TimestampOrderFailure,
                        why.clone(),
                    );
                }
            }
            checked.push(Checked {
                found: pending[i].0.clone(),
                range: pending[i].1,
                reports,
            });
        }
    }
    // A permission each signature sets, read in the revision it signed: (end of that
    // revision, /P).
    let permissions = |read: fn(&Document<'_>, &Found) -> Option<i64>| {
        let (doc, revisions) = (&doc, &revisions);
        checked.iter().filter_map(move |c| {
            let signed = if c.range.end == data.len() {
                doc
            } else {
                revisions[&c.range.end].as_ref().ok()?
            };
            read(signed, &c.found).map(|p| (c.range.end, p))
        })
    };
    // The certification signature, if any: its permission applies to every later revision.
    let certification: Option<(usize, i64)> =
        permissions(mdp::docmdp_permission).min_by_key(|(end, _)| *end);
    // Field locks with a /P (ISO 32000-2): each sets, for every revision after the signature
    // that carries it, a permission as a certification's — Acrobat's "lock document after
    // signing". A document locked with P=1 was signed again and passed (helper 172).
    let locks: Vec<(usize, i64)> = permissions(mdp::lock_permission).collect();
    let last_fields = fields::field_names(&doc);
    // The object headers a reader rebuilding the table would find: read once, when some
    // signature is followed by a later revision.
    let headers = std::cell::OnceCell::new();
    // The signatures the form shows, as checked: (end of signed revision, /Contents, whether a
    // document time-stamp).
    let signatures: Vec<(usize, Vec<u8>, bool)> = checked
        .iter()
        // A signature two fields name stands behind neither field's appearance.
        .filter(|c| !c.found.hidden && c.found.shared_by.is_empty())
        .map(|c| {
            let contents = c
                .found
                .sig
                .get("Contents")
                .and_then(Object::as_string)
                .unwrap_or_default()
                .to_vec();
            let ts = c
                .found
                .sig
                .get("SubFilter")
                .is_some_and(|s| s.is_name("ETSI.RFC3161"));
            (c.range.end, contents, ts)
        })
        .collect();
    let all_signatures: Vec<(Vec<u8>, bool)> = signatures
        .iter()
        .map(|(_, contents, ts)| (contents.clone(), *ts))
        .collect();
    // One budget for the walks of all signed revisions (they hold mostly the same objects).
    let mut walk_left = roles::MAX_WALKED;
    for mut c in checked {
        if kyso_pdf::stop::stopped() {
            break; // no verdict: the caller discards the report
        }
        let covers = c.range.end == data.len();
        if let Some((end, p)) = certification {
            if end == c.range.end {
                for r in &mut c.reports {
                    r.note(format!("certification signature (DocMDP P={p})"));
                }
            }
        }
        // Nothing follows a signature over the whole file, but its signed bytes may read
        // otherwise to PDF readers: a cross-reference stream MuPDF takes as the object its
        // table places elsewhere passed one (found by an attacker's reading, 2026-12-06).
        // (Later revisions' analysis checks the signed revision's streams too.)
        let read_otherwise = if covers {
            diff::xref_streams_differ(&doc, data.len())
        } else {
            None
        };
        let judgement = if covers {
            None
        } else {
            let signed = revisions[&c.range.end].as_ref().expect("checked above");
            let certified = certification.and_then(|(end, p)| (end <= c.range.end).then_some(p));
            let locked = locks
                .iter()
                .filter(|(end, _)| *end <= c.range.end)
                .map(|(_, p)| *p)
                .min();
            // A lock only narrows: without a certification nothing but signing is permitted
            // already, so a lock's P=2 or 3 adds nothing there, and its P=1 forbids that too.
            let docmdp = match (certified, locked) {
                (c, None) => c,
                (None, Some(l)) => (l == 1).then_some(1),
                (Some(c), Some(l)) => Some(c.min(l)),
            };
            let perms = policy::Permissions {
                docmdp,
                lock: mdp::field_lock(signed, &c.found),
                locked_by_field: docmdp == Some(1) && certified != Some(1),
            };
            // The signatures made after this one that the form shows: only they may stand
            // behind new signature fields and widgets.
            let later: Vec<(Vec<u8>, bool)> = signatures
                .iter()
                .filter(|(end, _, _)| *end > c.range.end)
                .map(|(_, contents, ts)| (contents.clone(), *ts))
                .collect();
            Some(later_changes(
                signed,
                &doc,
                c.range.end,
                &last_fields,
                (&later, &all_signatures),
                &perms,
                (
                    headers.get_or_init(|| diff::Headers::find(data)),
                    &mut walk_left,
                ),
            ))
        };
        for mut r in c.reports {
            r.covers_whole_document = Some(covers);
            if let Some(why) = &read_otherwise {
                r.facts.integrity = Some(false);
                r.fail(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    format!("PDF readers show the signed document otherwise: {why}"),
                );
            }
            if let Some(n) = dss.skipped_note() {
                r.note(n);
            }
            match &judgement {
                None => {}
                Some(Err(e)) => {
                    let m = format!("a later revision cannot be analysed: {e}");
                    // Item 6 of the summary: the signed bytes are intact, the document is not.
                    r.facts.integrity = Some(false);
                    r.changes.push(m.clone());
                    r.fail(Indication::TotalFailed, SubIndication::FormatFailure, m)
                }
                Some(Ok(j)) => {
                    for n in &j.notes {
                        r.note(n.clone());
                    }
                    r.changes = j.warnings.iter().chain(&j.violations).cloned().collect();
                    for w in &j.warnings {
                        r.fail(
                            Indication::Indeterminate,
                            SubIndication::SigConstraintsFailure,
                            w.clone(),
                        );
                    }
                    match j.violations.split_first() {
                        None if j.warnings.is_empty() => r.note(
                            "later revisions add only what the signature allows (signatures, validation data, permitted changes)",
                        ),
                        None => {}
                        Some((first, rest)) => {
                            r.facts.integrity = Some(false);
                            r.fail(
                                Indication::TotalFailed,
                                SubIndication::FormatFailure,
                                format!("{}: {first}", crate::report::CHANGED_AFTER),
                            );
                            for p in rest {
                                r.note(p.clone());
                            }
                        }
                    }
                }
            }
            reports.push(r);
        }
    }
    Report::from_signatures(reports, messages)
}

/// PAdES-B-LT when the DSS holds the validation data the signature's B-T verdict rested on
/// (its certificates, and its revocation data when it had any); B-LTA when a valid document
/// time-stamp also covers it — signs a revision whose DSS holds it (`time_stamped`: the ends
/// of the revisions the valid time-stamps after the signature sign; EN 319 142-1 §6.2–6.4).
/// Only for a signature whose path reached a trust anchor.
fn long_term_level(r: &mut SignatureReport, dss: &dss::Dss, time_stamped: &[usize]) {
    // A signature with no path to a trust anchor has no validation data of its own to hold:
    // the time-stamps' alone made it "B-LT" (helper 125).
    if r.format != "PAdES-B-T" || r.indication == Indication::TotalFailed || !r.facts.chain_trusted
    {
        return;
    }
    if let Some(held_from) = held_from(r, dss) {
        let covered = time_stamped.iter().any(|end| *end >= held_from);
        r.format = if covered { "PAdES-B-LTA" } else { "PAdES-B-LT" }.into();
    }
}

/// The end of the first revision whose DSS holds all the validation data the signature's
/// verdict rested on (`None`: the DSS does not hold it all). Each item counts from the first
/// revision that holds it; one pass, whatever the number of time-stamps.
fn held_from(r: &SignatureReport, dss: &dss::Dss) -> Option<usize> {
    let e = &r.evidence;
    let mut from = 0usize;
    // Every certificate but the self-signed anchors.
    if e.certs.is_empty() {
        return None;
    }
    for c in e.certs.iter().filter(|c| !c.is_self_issued()) {
        let at = dss
            .certs
            .iter()
            .zip(&dss.cert_at)
            .filter(|(d, _)| *d == c)
            .map(|(_, at)| *at)
            .min()?;
        from = from.max(at);
    }
    for c in &e.crls {
        let at = dss
            .crls
            .iter()
            .zip(&dss.crl_at)
            .filter(|(d, _)| d.der() == c.der())
            .map(|(_, at)| *at)
            .min()?;
        from = from.max(at);
    }
    for o in &e.ocsps {
        let at = dss
            .ocsps
            .iter()
            .zip(&dss.ocsp_at)
            .filter(|(d, _)| d.der() == o.der())
            .map(|(_, at)| *at)
            .min()?;
        from = from.max(at);
    }
    Some(from)
}

/// Classify and judge what the revisions after `end` changed. With what the file's analyses
/// share: the object headers a reader rebuilding the table finds, and what the walks of its
/// signed revisions may still visit.
fn later_changes(
    signed: &Document<'_>,
    last: &Document<'_>,
    end: usize,
    last_fields: &HashMap<kyso_pdf::ObjRef, fields::FieldNode>,
    (later_signatures, all_signatures): (&diff::Signatures, &diff::Signatures),
    perms: &policy::Permissions,
    (headers, walk_left): (&diff::Headers, &mut usize),
) -> Result<policy::Judgement, roles::WalkError> {
    let signed_fields = fields::field_names(signed);
    let roles = roles::walk(signed, &signed_fields, walk_left)?;
    let changes = diff::Revisions {
        signed,
        last,
        end,
        roles: &roles,
        fields: &signed_fields,
        last_fields,
        later_signatures,
        all_signatures,
        drawn_from_defaults: Default::default(),
        need_appearances: Default::default(),
        objstm_dicts: Default::default(),
        inherited_from: Default::default(),
        headers,
    }
    .changes();
    Ok(perms.judge(&changes))
}

/// Validate one signature's CMS (or document time-stamp) over its byte ranges.
/// With the reports, a document time-stamp's genTime when it validated (a proof of
/// existence for what it covers). `reliance`: when time-stamps are relied on (see above);
/// `covering`: the genTime and validation data of the earliest valid document time-stamp over
/// it.
/// Set aside the document time-stamps over the revision ending at `covered.0` whose time
/// (their proof: genTime plus accuracy) is before `covered.1`, the earliest the document
/// time-stamp `name` over that revision can have been made (its genTime less its accuracy,
/// with 300 s of skew), and say why, with `covered.2`, its genTime as written.
fn set_aside_contradicted(
    proofs: &mut Vec<(usize, SystemTime, crate::Evidence)>,
    out_of_order: &mut Vec<(usize, String)>,
    covered: (usize, SystemTime, SystemTime),
    name: &str,
) {
    let skew = std::time::Duration::from_secs(300);
    let (covered_end, earliest, written) = covered;
    proofs.retain(|(end, pt, _)| {
        let contradicted = *end > covered_end && *pt + skew < earliest;
        if contradicted {
            out_of_order.push((
                *end,
                format!(
                    "a document time-stamp of {} covers document time-stamp {:?} of {}, a later time: time-stamps out of order",
                    rfc3339(*pt),
                    name,
                    rfc3339(written)
                ),
            ));
        }
        !contradicted
    });
}

/// A document time-stamp's eight items from its TSA's path to a trust anchor and the time the
/// token writes (its TSA's signature held): who the TSA is, its path vouches for items 2 and 4,
/// and item 7 is judged at item 5, which no signer claims (they read "not verified" and
/// "unknown" beside TOTAL-PASSED; a new user's reading, 2026-12-04).
fn tsa_items(r: &mut SignatureReport, chain: &[crate::x509::CertRef], gen: SystemTime) {
    r.timestamp = Some(rfc3339(gen));
    r.chain = chain.iter().map(|c| c.subject_string()).collect();
    if let Some(c) = chain.first() {
        r.signer = Some(cms::summary(c));
        r.facts.chain_trusted = true;
        r.facts.time_proven = true;
        r.facts.valid_at_signing = cms::validity_at(c, Some(gen));
        r.facts.ca_body = chain
            .get(1)
            .and_then(|ca| cms::organization(&ca.tbs().subject))
            .or_else(|| cms::organization(&c.tbs().issuer));
    }
}

fn check_one(
    v: &Validator,
    f: &Found,
    data: &[u8],
    range: &byterange::SignedRange,
    dss: &dss::Dss,
    reliance: SystemTime,
    covering: Option<(SystemTime, &crate::Evidence)>,
) -> (Vec<SignatureReport>, Option<SystemTime>) {
    let contents = f
        .sig
        .get("Contents")
        .and_then(Object::as_string)
        .unwrap_or_default();
    let sub = f
        .sig
        .get("SubFilter")
        .and_then(Object::as_name)
        .unwrap_or(b"");
    let parts = range.parts(data);
    let (format, baseline) = match sub {
        b"ETSI.CAdES.detached" => ("PAdES", true),
        b"adbe.pkcs7.detached" => ("PDF adbe.pkcs7.detached", false),
        b"ETSI.RFC3161" => {
            let mut r = SignatureReport::new(crate::report::DOC_TIMESTAMP);
            // The verifier's own data first, then the DSS's, each item once (as for
            // signatures: 64 junk CRLs in a DSS update pushed `--crl` past the limit).
            let mut at_hand = crate::Evidence::default();
            at_hand.add_crls(v.crls.iter().chain(&dss.crls).cloned());
            at_hand.add_ocsps(v.ocsps.iter().chain(&dss.ocsps).cloned());
            let data_at_hand = crate::path::revocation::Data {
                crls: &at_hand.crls,
                ocsps: &at_hand.ocsps,
            };
            let mut extra = dss.certs.clone();
            extra.extend(v.certs.iter().cloned());
            let mut proof = None;
            match tsp::validate(v, contents, &parts, &extra, data_at_hand, reliance) {
                Ok(ts) => {
                    proof = Some(ts.gen_time);
                    r.evidence.merge(&ts.evidence);
                    r.facts.integrity = Some(true);
                    tsa_items(&mut r, &ts.chain, ts.claimed);
                    r.facts.revocation_checked = ts.revocation_checked;
                    r.note(format!("document time-stamp by {}", ts.tsa));
                    for n in ts.notes {
                        r.note(n);
                    }
                }
                Err(e) => {
                    // Its TSA (item 7's certificate) or a CA above it on hold: the reason
                    // says so.
                    match e.held.filter(|h| h.since > std::time::UNIX_EPOCH) {
                        Some(h) if h.leaf => r.facts.on_hold_since = Some(rfc3339(h.since)),
                        Some(h) => r.facts.path_on_hold_since = Some(rfc3339(h.since)),
                        None => {}
                    }
                    // Failed once its TSA's path to a trust anchor was built (the TSA's
                    // status, expiry): the items say who the TSA is and what the token says
                    // of its time, as a failed signature's do — "unknown, no path to a
                    // trusted root" was said of a TSA on hold (2026-12-06).
                    if let Some((chain, gen)) = &e.tsa {
                        tsa_items(&mut r, chain, *gen);
                    }
                    r.facts.integrity = Some(!matches!(
                        e.sub,
                        SubIndication::HashFailure
                            | SubIndication::SigCryptoFailure
                            | SubIndication::FormatFailure
                    ));
                    r.fail(
                        e.indication,
                        e.sub,
                        format!("the document time-stamp: {}", e.message),
                    );
                }
            }
            return (vec![r], proof);
        }
        other => {
            let mut r = SignatureReport::new("PAdES");
            r.fail(
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                format!(
                    "signature /SubFilter /{} is not supported",
                    String::from_utf8_lossy(other)
                ),
            );
            return (vec![r], None);
        }
    };
    let claimed = f
        .sig
        .get("M")
        .map(|m| fields::text(Some(m)))
        .and_then(|m| kyso_pdf::date::parse_system_time(&m));
    let ctx = Context {
        content: &parts,
        format,
        baseline,
        require_ess: baseline,
        claimed_time: claimed,
        extra_certs: &dss.certs,
        extra_crls: &dss.crls,
        extra_ocsps: &dss.ocsps,
        ts_reliance: reliance,
        doc_ts_poe: covering,
    };
    (cms::validate(v, contents, &ctx), None)
}
