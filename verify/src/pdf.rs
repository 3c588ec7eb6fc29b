//! PDF signatures (ISO 32000-1 §12.8, ETSI EN 319 142-1): every signature field across all
//! revisions, the /ByteRange checks that defeat universal-signature-forgery and
//! signature-wrapping attacks, and the analysis of every incremental update after a signed
//! revision that defeats incremental-saving, shadow and evil-annotation attacks: only changes
//! that cannot alter what the signer saw are allowed (further signatures, validation data, and
//! form filling or annotations only where a certification signature permits them).

use crate::cms::{self, Context};
use crate::report::{Indication, Report, SignatureReport, SubIndication};
use crate::Validator;
use kyso_pdf::{Dict, Document, ObjRef, Object, XrefEntry};
use std::collections::{HashMap, HashSet};
use std::time::SystemTime;
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

/// A signature field with a value, as found.
struct Found {
    name: String,
    sig_ref: Option<ObjRef>,
    sig: Dict,
}

fn text(o: Option<&Object>) -> String {
    match o.and_then(Object::as_string) {
        Some(b) if b.starts_with(&[0xfe, 0xff]) => {
            let u: Vec<u16> = b[2..]
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&u)
        }
        Some(b) => b.iter().map(|&c| c as char).collect(),
        None => String::new(),
    }
}

/// Walk the AcroForm field tree (§12.7.3.1) for signature fields with a value.
fn signature_fields(doc: &Document<'_>) -> (Vec<Found>, Vec<String>) {
    let mut found = Vec::new();
    let mut empty = Vec::new();
    let Ok(root) = doc.dict(doc.root()) else {
        return (found, empty);
    };
    let Some(acro) = root.get("AcroForm").and_then(|a| doc.resolve(a).ok()) else {
        return (found, empty);
    };
    let fields = acro
        .as_dict()
        .and_then(|a| a.get("Fields"))
        .and_then(|f| doc.resolve(f).ok());
    let mut stack: Vec<(Object, String, Option<Object>, usize)> = fields
        .as_ref()
        .and_then(Object::as_array)
        .unwrap_or(&[])
        .iter()
        .rev()
        .map(|f| (f.clone(), String::new(), None, 0))
        .collect();
    let mut seen = HashSet::new();
    while let Some((f, prefix, inherited_ft, depth)) = stack.pop() {
        if depth > 32 {
            continue;
        }
        if let Some(r) = f.as_ref() {
            if !seen.insert(r) {
                continue;
            }
        }
        let Ok(obj) = doc.resolve(&f) else { continue };
        let Some(d) = obj.as_dict() else { continue };
        let t = text(d.get("T"));
        let name = match (prefix.is_empty(), t.is_empty()) {
            (true, _) => t.clone(),
            (false, true) => prefix.clone(),
            (false, false) => format!("{prefix}.{t}"),
        };
        let ft = d.get("FT").cloned().or(inherited_ft);
        if let Some(kids) = d.get("Kids").and_then(|k| doc.resolve(k).ok()) {
            let kids = kids.as_array().unwrap_or(&[]).to_vec();
            if kids.iter().any(|k| {
                doc.resolve(k)
                    .ok()
                    .and_then(|k| k.as_dict().map(|d| d.get("T").is_some()))
                    .unwrap_or(false)
            }) {
                for k in kids.iter().rev() {
                    stack.push((k.clone(), name.clone(), ft.clone(), depth + 1));
                }
                continue;
            }
        }
        if !ft.as_ref().is_some_and(|t| t.is_name("Sig")) {
            continue;
        }
        match d.get("V") {
            Some(Object::Ref(r)) => {
                if let Ok(Object::Dict(sig)) = doc.get(*r) {
                    found.push(Found {
                        name,
                        sig_ref: Some(*r),
                        sig,
                    });
                }
            }
            Some(Object::Dict(sig)) => found.push(Found {
                name,
                sig_ref: None,
                sig: sig.clone(),
            }),
            _ => empty.push(name),
        }
    }
    (found, empty)
}

/// Signature dictionaries (with /ByteRange and /Contents) in use in the newest revision that
/// no field refers to. Only objects whose bytes contain `/ByteRange` are parsed: a signature
/// dictionary cannot sit in an object stream, since its /Contents is written in place.
fn orphan_signatures(doc: &Document<'_>, known: &HashSet<ObjRef>) -> Vec<ObjRef> {
    let data = doc.data();
    let hits: Vec<usize> = data
        .windows(10)
        .enumerate()
        .filter(|(_, w)| *w == b"/ByteRange")
        .map(|(i, _)| i)
        .collect();
    if hits.len() <= known.len() {
        return Vec::new();
    }
    // Objects in use, by file offset.
    let mut by_offset: Vec<(usize, ObjRef)> = (0..doc.size())
        .filter_map(|n| match doc.entry(n) {
            Some(XrefEntry::Offset { offset, gen }) => Some((offset, ObjRef::new(n, gen))),
            _ => None,
        })
        .collect();
    by_offset.sort_unstable();
    let mut out = Vec::new();
    for h in hits {
        let i = by_offset.partition_point(|(o, _)| *o <= h);
        let Some(&(_, r)) = i.checked_sub(1).and_then(|i| by_offset.get(i)) else {
            continue;
        };
        if known.contains(&r) || out.contains(&r) {
            continue;
        }
        if let Ok(Object::Dict(d)) = doc.get(r) {
            let is_sig = d.get("ByteRange").is_some()
                && d.get("Contents").and_then(Object::as_string).is_some()
                && d.type_name()
                    .is_none_or(|t| t == b"Sig" || t == b"DocTimeStamp");
            if is_sig {
                out.push(r);
            }
        }
    }
    out
}

/// `D:YYYYMMDDHHmmSSOHH'mm'` (§7.9.4) to a time.
pub fn parse_pdf_date(s: &str) -> Option<SystemTime> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let num = |a: usize, b: usize, default: u32| -> Option<u32> {
        match s.get(a..b) {
            Some(x) if x.bytes().all(|c| c.is_ascii_digit()) => x.parse().ok(),
            Some(_) => None,
            None => Some(default),
        }
    };
    let (y, mo, d, h, mi, se) = (
        num(0, 4, 0)?,
        num(4, 6, 1)?,
        num(6, 8, 1)?,
        num(8, 10, 0)?,
        num(10, 12, 0)?,
        num(12, 14, 0)?,
    );
    let dt = der::DateTime::new(y as u16, mo as u8, d as u8, h as u8, mi as u8, se as u8).ok()?;
    let mut t = dt.to_system_time();
    let rest = s.get(14..).unwrap_or("");
    if let Some(sign) = rest.chars().next().filter(|c| *c == '+' || *c == '-') {
        let digits: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
        let oh: u64 = digits.get(0..2).and_then(|x| x.parse().ok()).unwrap_or(0);
        let om: u64 = digits.get(2..4).and_then(|x| x.parse().ok()).unwrap_or(0);
        let off = std::time::Duration::from_secs(oh * 3600 + om * 60);
        t = if sign == '+' { t - off } else { t + off };
    }
    Some(t)
}

/// Validation data from the Document Security Store (EN 319 142-1 §5.4).
#[derive(Default)]
struct Dss {
    certs: Vec<Certificate>,
    crls: Vec<CertificateList>,
    ocsps: Vec<x509_ocsp::BasicOcspResponse>,
}

fn dss(doc: &Document<'_>) -> Dss {
    let mut out = Dss::default();
    let Ok(root) = doc.dict(doc.root()) else {
        return out;
    };
    let Some(dss) = root.get("DSS").and_then(|d| doc.resolve(d).ok()) else {
        return out;
    };
    let Some(dss) = dss.as_dict() else { return out };
    let streams = |key: &str| -> Vec<Vec<u8>> {
        dss.get(key)
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
            .iter()
            .filter_map(|o| match doc.resolve(o).ok()? {
                Object::Stream(s) => kyso_pdf::document::decode_stream(&s).ok(),
                _ => None,
            })
            .collect()
    };
    for b in streams("Certs") {
        if let Ok(c) = crate::path::load_certificates(&b) {
            out.certs.extend(c);
        }
    }
    for b in streams("CRLs") {
        if let Ok(c) = crate::path::load_crl(&b) {
            out.crls.push(c);
        }
    }
    for b in streams("OCSPs") {
        if let Ok(o) = crate::path::load_ocsp(&b) {
            out.ocsps.push(o);
        }
    }
    out
}

/// Validate every signature in a PDF.
pub fn verify_pdf(v: &Validator, data: &[u8]) -> Report {
    let doc = match Document::parse(data) {
        Ok(d) => d,
        Err(e) => return Report::format_failure(format!("the PDF cannot be read as it is: {e}")),
    };
    let (mut found, empty) = signature_fields(&doc);
    // Signature dictionaries no field points to: a signature hidden by a later change.
    let known: HashSet<ObjRef> = found.iter().filter_map(|f| f.sig_ref).collect();
    let mut orphans = HashSet::new();
    for r in orphan_signatures(&doc, &known) {
        if let Ok(Object::Dict(sig)) = doc.get(r) {
            orphans.insert(r);
            found.push(Found {
                name: format!("(object {} — no field shows it)", r.num),
                sig_ref: Some(r),
                sig,
            });
        }
    }
    let mut messages: Vec<String> = empty
        .iter()
        .map(|n| format!("signature field {n:?} is empty (not signed)"))
        .collect();
    if found.is_empty() {
        messages.push("the PDF has no signature".into());
        return Report::from_signatures(Vec::new(), messages);
    }
    let ends = doc.revision_ends();
    let dss = dss(&doc);
    let mut reports = Vec::new();
    // (signed end, DocMDP permission from a certification signature) to apply to later revisions.
    let mut certification: Option<(usize, i64)> = None;
    let mut checks: Vec<(usize, SignatureReport)> = Vec::new();
    for f in &found {
        let mut r = SignatureReport::new("PAdES");
        r.field = Some(f.name.clone());
        match check_one(v, &doc, data, f, &ends, &dss) {
            Ok((end, rep)) => {
                let mut rep = rep;
                rep.field = Some(f.name.clone());
                if f.sig_ref.is_some_and(|r| orphans.contains(&r)) {
                    rep.fail(
                        Indication::Indeterminate,
                        SubIndication::SigConstraintsFailure,
                        "this signature is in the file but no signature field shows it: it may have been hidden after signing",
                    );
                }
                if let Ok(Some(p)) = certification_level(&doc, data, f, end) {
                    certification = Some((end, p));
                    rep.note(format!("certification signature (DocMDP P={p})"));
                }
                checks.push((end, rep));
            }
            Err(msg) => {
                r.fail(Indication::TotalFailed, SubIndication::FormatFailure, msg);
                r.facts.integrity = Some(false);
                reports.push(r);
            }
        }
    }
    // Changes after each signed revision.
    for (end, mut rep) in checks {
        let covers = end == data.len();
        rep.covers_whole_document = Some(covers);
        if !covers {
            let p = certification.and_then(|(cend, p)| (cend <= end).then_some(p));
            for n in later_visible_signatures(data, &doc, end) {
                rep.note(n);
            }
            let lock = found
                .iter()
                .find(|f| rep.field.as_deref() == Some(f.name.as_str()))
                .and_then(|f| field_lock(&doc, &f.sig));
            match changes_after(data, &doc, end, p, lock.as_ref()) {
                Ok(problems) if problems.is_empty() => rep.note("later revisions add only what the signature allows (signatures, validation data, permitted changes)"),
                Ok(problems) => {
                    let first = problems[0].clone();
                    rep.fail(Indication::TotalFailed, SubIndication::FormatFailure, format!("the document was changed after this signature: {first}"));
                    for p in problems.into_iter().skip(1) {
                        rep.note(p);
                    }
                }
                Err(e) => rep.fail(Indication::TotalFailed, SubIndication::FormatFailure, format!("a later revision cannot be read: {e}")),
            }
        }
        reports.push(rep);
    }
    Report::from_signatures(reports, messages)
}

/// The DocMDP permission if this signature is the certification signature.
/// The document as it was signed: `doc` itself when the signature covers the whole file,
/// otherwise the revision that ends at `end`, parsed into `slot`.
fn signed_revision<'a, 'd>(
    doc: &'a Document<'d>,
    data: &'d [u8],
    end: usize,
    slot: &'a mut Option<Document<'d>>,
) -> Result<&'a Document<'d>, String> {
    if end == data.len() {
        return Ok(doc);
    }
    let parsed = Document::parse(&data[..end])
        .map_err(|e| format!("the signed revision cannot be read: {e}"))?;
    Ok(slot.insert(parsed))
}

fn certification_level(
    doc: &Document<'_>,
    data: &[u8],
    f: &Found,
    end: usize,
) -> Result<Option<i64>, String> {
    let refs = f.sig.get("Reference").and_then(|r| doc.resolve(r).ok());
    let is_docmdp = refs
        .as_ref()
        .and_then(Object::as_array)
        .unwrap_or(&[])
        .iter()
        .any(|r| {
            doc.resolve(r)
                .ok()
                .and_then(|r| {
                    r.as_dict().map(|d| {
                        d.get("TransformMethod")
                            .is_some_and(|m| m.is_name("DocMDP"))
                    })
                })
                .unwrap_or(false)
        });
    if !is_docmdp {
        return Ok(None);
    }
    let mut reparsed = None;
    let signed = signed_revision(doc, data, end, &mut reparsed)?;
    signed.docmdp_permission().map_err(|e| e.to_string())
}

/// Check one signature's byte range and CMS; the end of its signed revision and the report.
fn check_one(
    v: &Validator,
    doc: &Document<'_>,
    data: &[u8],
    f: &Found,
    ends: &[usize],
    dss: &Dss,
) -> Result<(usize, SignatureReport), String> {
    let br: Vec<i64> = f
        .sig
        .get("ByteRange")
        .and_then(|b| doc.resolve(b).ok())
        .and_then(|b| {
            b.as_array()
                .map(|a| a.iter().filter_map(Object::as_int).collect())
        })
        .ok_or("the signature has no /ByteRange")?;
    if br.len() != 4 || br.iter().any(|&x| x < 0) {
        return Err("the /ByteRange is not four non-negative numbers".into());
    }
    let [a, b, c, d] = [
        br[0] as usize,
        br[1] as usize,
        br[2] as usize,
        br[3] as usize,
    ];
    let end = c.checked_add(d).ok_or("the /ByteRange overflows")?;
    if a != 0 || b >= c || end > data.len() {
        return Err(format!(
            "the /ByteRange [{a} {b} {c} {d}] does not start at 0 or does not fit the file"
        ));
    }
    // The gap must be exactly the /Contents hex string of this signature dictionary.
    let gap = &data[b..c];
    if gap.len() < 2
        || gap[0] != b'<'
        || gap[gap.len() - 1] != b'>'
        || !gap[1..gap.len() - 1].iter().all(|x| x.is_ascii_hexdigit())
    {
        return Err("the /ByteRange leaves out more (or other) than the /Contents string".into());
    }
    let contents = f
        .sig
        .get("Contents")
        .and_then(Object::as_string)
        .ok_or("the signature has no /Contents string")?;
    let gap_bytes: Vec<u8> = hex::decode(&gap[1..gap.len() - 1]).unwrap_or_default();
    if gap_bytes.as_slice() != contents {
        return Err("the bytes left out by /ByteRange are not this signature's /Contents (signature wrapping)".into());
    }
    if !ends.contains(&end) && end != data.len() {
        return Err("the signed range does not end at the end of a revision".into());
    }
    // The signature dictionary must be part of what it signs.
    let mut reparsed = None;
    let signed = signed_revision(doc, data, end, &mut reparsed)?;
    if let Some(r) = f.sig_ref {
        let in_signed = signed.get(r).ok();
        let same = in_signed
            .as_ref()
            .and_then(Object::as_dict)
            .and_then(|d| {
                d.get("Contents")
                    .and_then(Object::as_string)
                    .map(|c| c == contents)
            })
            .unwrap_or(false);
        if !same {
            return Err("the signature dictionary is not part of the revision it signs (signature wrapping)".into());
        }
    }
    let sub = f
        .sig
        .get("SubFilter")
        .and_then(Object::as_name)
        .unwrap_or(b"");
    let (format, baseline) = match sub {
        b"ETSI.CAdES.detached" => ("PAdES", true),
        b"adbe.pkcs7.detached" => ("PDF adbe.pkcs7.detached", false),
        b"ETSI.RFC3161" => ("PAdES document time-stamp", false),
        other => {
            return Err(format!(
                "signature /SubFilter /{} is not supported",
                String::from_utf8_lossy(other)
            ))
        }
    };
    let parts: [&[u8]; 2] = [&data[..b], &data[c..end]];
    if sub == b"ETSI.RFC3161" {
        let mut r = SignatureReport::new(format);
        match cms::check_timestamp(v, contents, &parts, &dss.certs) {
            Ok((t, tsa)) => {
                r.timestamp = Some(cms::rfc3339(t));
                r.facts.integrity = Some(true);
                r.note(format!("document time-stamp by {tsa}"));
            }
            Err(e) => {
                r.facts.integrity = Some(false);
                r.fail(
                    Indication::TotalFailed,
                    SubIndication::HashFailure,
                    format!("the document time-stamp does not verify: {e}"),
                );
            }
        }
        return Ok((end, r));
    }
    let claimed = f
        .sig
        .get("M")
        .map(|m| text(Some(m)))
        .and_then(|m| parse_pdf_date(&m));
    let ctx = Context {
        content: &parts,
        format,
        baseline,
        claimed_time: claimed,
        extra_certs: &dss.certs,
        extra_crls: &dss.crls,
        extra_ocsps: &dss.ocsps,
    };
    Ok((end, cms::validate(v, contents, &ctx)))
}

fn same(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::Dict(x), Object::Dict(y)) => same_dict(x, y, &[]),
        (Object::Stream(x), Object::Stream(y)) => {
            same_dict(&x.dict, &y.dict, &["Length"]) && x.data == y.data
        }
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Object::Real(x), Object::Int(y)) | (Object::Int(y), Object::Real(x)) => *x == *y as f64,
        _ => a == b,
    }
}

/// Equal as maps, ignoring `skip` keys.
fn same_dict(a: &Dict, b: &Dict, skip: &[&str]) -> bool {
    let keys: HashSet<&[u8]> =
        a.0.iter()
            .chain(b.0.iter())
            .map(|(k, _)| k.as_slice())
            .collect();
    keys.into_iter()
        .filter(|k| !skip.iter().any(|s| s.as_bytes() == *k))
        .all(|k| {
            let key = String::from_utf8_lossy(k);
            match (a.get(&key), b.get(&key)) {
                (Some(x), Some(y)) => same(x, y),
                (None, None) => true,
                _ => false,
            }
        })
}

fn changed_keys(a: &Dict, b: &Dict) -> Vec<String> {
    let keys: HashSet<&[u8]> =
        a.0.iter()
            .chain(b.0.iter())
            .map(|(k, _)| k.as_slice())
            .collect();
    let mut out: Vec<String> = keys
        .into_iter()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .filter(|k| match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) => !same(x, y),
            (None, None) => false,
            _ => true,
        })
        .collect();
    out.sort();
    out
}

/// Is the annotation (a reference in the final document) a signature widget?
fn is_signature_widget(doc: &Document<'_>, o: &Object) -> bool {
    let Ok(a) = doc.resolve(o) else { return false };
    let Some(d) = a.as_dict() else { return false };
    let ft_sig = d.get("FT").is_some_and(|t| t.is_name("Sig"))
        || d.get("Parent")
            .and_then(|p| doc.resolve(p).ok())
            .and_then(|p| {
                p.as_dict()
                    .map(|p| p.get("FT").is_some_and(|t| t.is_name("Sig")))
            })
            .unwrap_or(false);
    ft_sig && d.get("Subtype").is_none_or(|s| s.is_name("Widget"))
}

fn subtype(doc: &Document<'_>, o: &Object) -> String {
    doc.resolve(o)
        .ok()
        .and_then(|a| {
            a.as_dict().and_then(|d| {
                d.get("Subtype")
                    .and_then(Object::as_name)
                    .map(|n| String::from_utf8_lossy(n).into_owned())
            })
        })
        .unwrap_or_else(|| "?".into())
}

/// Old entries kept in order, new ones checked with `ok_new`.
fn list_grows(
    old: &[Object],
    new: &[Object],
    mut ok_new: impl FnMut(&Object) -> Result<(), String>,
) -> Result<(), String> {
    if new.len() < old.len() || !old.iter().zip(new).all(|(a, b)| same(a, b)) {
        return Err("entries were removed or replaced".into());
    }
    for n in &new[old.len()..] {
        ok_new(n)?;
    }
    Ok(())
}

/// What changes later revisions make to the objects of the revision that ends at `end`,
/// and which of them the signature does not allow. `docmdp` is the certification's P, `lock`
/// the signature's own FieldMDP.
fn changes_after(
    data: &[u8],
    last: &Document<'_>,
    end: usize,
    docmdp: Option<i64>,
    lock: Option<&FieldLock>,
) -> Result<Vec<String>, String> {
    let old = Document::parse(&data[..end]).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    if old.root() != last.root() {
        problems.push("the document catalog was replaced by another object".into());
        return Ok(problems);
    }
    // Objects the later sections list.
    let mut touched: Vec<u32> = last
        .sections()
        .iter()
        .filter(|s| s.offset >= end)
        .flat_map(|s| s.entries.iter().map(|(n, _)| *n))
        .collect::<HashSet<u32>>()
        .into_iter()
        .collect();
    touched.sort_unstable();
    let old_root = old.dict(old.root()).map_err(|e| e.to_string())?;
    let acro_ref = old_root.get("AcroForm").and_then(Object::as_ref);
    let fields_ref = acro_ref
        .and_then(|r| old.dict(r).ok())
        .or_else(|| old_root.get("AcroForm").and_then(Object::as_dict).cloned())
        .and_then(|a| a.get("Fields").and_then(Object::as_ref));
    let dss_ref = old_root.get("DSS").and_then(Object::as_ref);
    // Document metadata (the trailer's /Info, the catalog's XMP /Metadata): signing tools
    // update dates and producers there; it is not what a page shows.
    let info_ref = old.trailer().get("Info").and_then(Object::as_ref);
    let xmp_ref = old_root.get("Metadata").and_then(Object::as_ref);
    // Which page (number) an indirect /Annots array belongs to.
    let pages = old.pages().unwrap_or_default();
    let mut annots_of: HashMap<ObjRef, usize> = HashMap::new();
    for (i, p) in pages.iter().enumerate() {
        if let Some(r) = old
            .dict(*p)
            .ok()
            .and_then(|d| d.get("Annots").and_then(Object::as_ref))
        {
            annots_of.insert(r, i + 1);
        }
    }
    let page_no: HashMap<ObjRef, usize> =
        pages.iter().enumerate().map(|(i, p)| (*p, i + 1)).collect();
    // Fonts of the form's default resources that no page uses: form tools rewrite them.
    let form_fonts: HashSet<ObjRef> = {
        let acro = old_root.get("AcroForm").and_then(|a| old.resolve(a).ok());
        let dr = acro
            .as_ref()
            .and_then(|a| a.as_dict())
            .and_then(|a| a.get("DR"))
            .and_then(|d| old.resolve(d).ok());
        let fonts = dr
            .as_ref()
            .and_then(|d| d.as_dict())
            .and_then(|d| d.get("Font"))
            .and_then(|f| old.resolve(f).ok());
        let mut set: HashSet<ObjRef> = fonts
            .as_ref()
            .and_then(|f| f.as_dict())
            .map(|f| f.0.iter().filter_map(|(_, v)| v.as_ref()).collect())
            .unwrap_or_default();
        for p in &pages {
            for r in page_resource_refs(&old, *p) {
                set.remove(&r);
            }
        }
        set
    };
    let annots_ok = |old_a: &[Object], new_a: &[Object], page: usize| -> Result<(), String> {
        list_grows(old_a, new_a, |n| {
            // Signature widgets always; other annotations only under DocMDP P=3.
            if is_signature_widget(last, n) || docmdp == Some(3) {
                Ok(())
            } else {
                Err(format!(
                    "a {} annotation was added to page {page}",
                    subtype(last, n)
                ))
            }
        })
        .map_err(|e| {
            if e.starts_with("entries") {
                format!("annotations of page {page} were removed or replaced")
            } else {
                e
            }
        })
    };
    for num in touched {
        let Some(old_entry) = old.entry(num) else {
            continue;
        }; // a new object
        if matches!(old_entry, XrefEntry::Free) {
            continue;
        }
        let gen = match old_entry {
            XrefEntry::Offset { gen, .. } => gen,
            _ => 0,
        };
        let r = ObjRef::new(num, gen);
        let Ok(before) = old.get(r) else { continue };
        let after = match last.entry(num) {
            Some(XrefEntry::Free) | None => {
                problems.push(format!("object {num} was deleted"));
                continue;
            }
            _ => match last.get(r) {
                Ok(o) => o,
                Err(_) => {
                    problems.push(format!(
                        "object {num} was replaced by one that cannot be read"
                    ));
                    continue;
                }
            },
        };
        if same(&before, &after) {
            continue;
        }
        let (Some(bd), ad) = (before.as_dict(), after.as_dict()) else {
            // Arrays: the AcroForm fields or a page's annotations may grow.
            let (Some(ba), Some(aa)) = (before.as_array(), after.as_array()) else {
                problems.push(format!("object {num} was changed"));
                continue;
            };
            if Some(r) == fields_ref {
                let grows = list_grows(ba, aa, |n| {
                    if is_signature_field(last, n) || is_signature_widget(last, n) {
                        Ok(())
                    } else {
                        Err("a form field that is not a signature was added".into())
                    }
                });
                if let Err(e) = grows {
                    problems.push(format!("the form's field list: {e}"));
                }
            } else if let Some(page) = annots_of.get(&r) {
                if let Err(e) = annots_ok(ba, aa, *page) {
                    problems.push(e);
                }
            } else {
                problems.push(format!("array object {num} was changed"));
            }
            continue;
        };
        let Some(ad) = ad else {
            problems.push(format!("object {num} changed type"));
            continue;
        };
        let keys = changed_keys(bd, ad);
        if r == old.root() {
            let bad: Vec<&String> = keys
                .iter()
                .filter(|k| {
                    !matches!(
                        k.as_str(),
                        "AcroForm" | "DSS" | "Extensions" | "Metadata" | "Version"
                    )
                })
                .collect();
            if !bad.is_empty() {
                problems.push(format!(
                    "the document catalog's {} changed",
                    bad.iter()
                        .map(|k| format!("/{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            // An inline AcroForm changes with the catalog.
            if keys.iter().any(|k| k == "AcroForm") {
                if let (Some(Object::Dict(oa)), Some(Object::Dict(na))) =
                    (bd.get("AcroForm"), ad.get("AcroForm"))
                {
                    acroform_ok(oa, na, last, &mut problems);
                }
            }
        } else if Some(r) == acro_ref {
            acroform_ok(bd, ad, last, &mut problems);
        } else if Some(r) == dss_ref || bd.type_name() == Some(b"DSS") {
            // validation data may grow
        } else if Some(r) == info_ref || Some(r) == xmp_ref {
            // metadata
        } else if form_fonts.contains(&r) && bd.type_name() == Some(b"Font") {
            // a font of the form's default resources, used by no page
        } else if bd.type_name() == Some(b"Page") || page_no.contains_key(&r) {
            let page = page_no.get(&r).copied().unwrap_or(0);
            let other: Vec<&String> = keys.iter().filter(|k| *k != "Annots").collect();
            if !other.is_empty() {
                problems.push(format!(
                    "page {page}: {} changed",
                    other
                        .iter()
                        .map(|k| format!("/{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if keys.iter().any(|k| k == "Annots") {
                let oa = bd
                    .get("Annots")
                    .and_then(|a| old.resolve(a).ok())
                    .and_then(|a| a.as_array().map(<[Object]>::to_vec))
                    .unwrap_or_default();
                let na = ad
                    .get("Annots")
                    .and_then(|a| last.resolve(a).ok())
                    .and_then(|a| a.as_array().map(<[Object]>::to_vec))
                    .unwrap_or_default();
                if let Err(e) = annots_ok(&oa, &na, page) {
                    problems.push(e);
                }
            }
        } else if bd.get("FT").is_some_and(|t| t.is_name("Sig")) {
            // Signing an empty signature field: /V set once, appearance added.
            let bad: Vec<&String> = keys
                .iter()
                .filter(|k| !matches!(k.as_str(), "V" | "AP" | "AS" | "F"))
                .collect();
            if !bad.is_empty() || (bd.get("V").is_some() && keys.iter().any(|k| k == "V")) {
                problems.push(format!(
                    "signature field {:?} was altered",
                    text(bd.get("T"))
                ));
            }
        } else if bd.get("FT").is_some() && lock.is_some_and(|l| l.locks(&text(bd.get("T")))) {
            problems.push(format!(
                "form field {:?} is locked by this signature (FieldMDP) and was changed",
                text(bd.get("T"))
            ));
        } else if bd.get("FT").is_some() && docmdp.is_some_and(|p| p >= 2) {
            let bad: Vec<&String> = keys
                .iter()
                .filter(|k| !matches!(k.as_str(), "V" | "AS" | "AP"))
                .collect();
            if !bad.is_empty() {
                problems.push(format!(
                    "form field {:?}: {} changed",
                    text(bd.get("T")),
                    bad.iter()
                        .map(|k| format!("/{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        } else if bd.get("FT").is_some() {
            problems.push(format!(
                "form field {:?} was filled in or changed, which no certification permits",
                text(bd.get("T"))
            ));
        } else {
            let what = bd
                .type_name()
                .map(|t| format!("/{}", String::from_utf8_lossy(t)))
                .or_else(|| {
                    bd.get("Subtype")
                        .and_then(Object::as_name)
                        .map(|t| format!("/{}", String::from_utf8_lossy(t)))
                })
                .unwrap_or_else(|| {
                    if matches!(before, Object::Stream(_)) {
                        "stream".into()
                    } else {
                        "dictionary".into()
                    }
                });
            problems.push(format!("object {num} ({what}) was changed"));
        }
    }
    Ok(problems)
}

fn is_signature_field(doc: &Document<'_>, o: &Object) -> bool {
    doc.resolve(o)
        .ok()
        .and_then(|f| {
            f.as_dict()
                .map(|d| d.get("FT").is_some_and(|t| t.is_name("Sig")))
        })
        .unwrap_or(false)
}

fn acroform_ok(old: &Dict, new: &Dict, last: &Document<'_>, problems: &mut Vec<String>) {
    for k in changed_keys(old, new) {
        match k.as_str() {
            "SigFlags" | "DR" | "DA" => {}
            "Fields" => {
                let oa = old
                    .get("Fields")
                    .and_then(Object::as_array)
                    .unwrap_or(&[])
                    .to_vec();
                let na = new
                    .get("Fields")
                    .and_then(Object::as_array)
                    .unwrap_or(&[])
                    .to_vec();
                // An indirect array changing identity is checked where the array is.
                if let (Some(_), Some(_)) = (
                    old.get("Fields").and_then(Object::as_array),
                    new.get("Fields").and_then(Object::as_array),
                ) {
                    if let Err(e) = list_grows(&oa, &na, |n| {
                        if is_signature_field(last, n) {
                            Ok(())
                        } else {
                            Err("a form field that is not a signature was added".into())
                        }
                    }) {
                        problems.push(format!("the form's field list: {e}"));
                    }
                } else if old.get("Fields").and_then(Object::as_ref)
                    != new.get("Fields").and_then(Object::as_ref)
                {
                    problems.push("the form's field list was replaced".into());
                }
            }
            other => problems.push(format!("the form's /{other} changed")),
        }
    }
}

/// References in a page's resources (its own or inherited): fonts and XObjects.
fn page_resource_refs(doc: &Document<'_>, page: ObjRef) -> Vec<ObjRef> {
    let Ok(Some(res)) = doc.inherited(page, "Resources") else {
        return Vec::new();
    };
    let Some(res) = res.as_dict() else {
        return Vec::new();
    };
    ["Font", "XObject"]
        .iter()
        .filter_map(|k| res.get(k).and_then(|m| doc.resolve(m).ok()))
        .filter_map(|m| {
            m.as_dict().map(|d| {
                d.0.iter()
                    .filter_map(|(_, v)| v.as_ref())
                    .collect::<Vec<_>>()
            })
        })
        .flatten()
        .collect()
}

/// Signature widgets with a visible area added after the revision ending at `end`: allowed, but
/// what they show was not signed by the earlier signer (the "sneaky signature" class).
fn later_visible_signatures(data: &[u8], last: &Document<'_>, end: usize) -> Vec<String> {
    let Ok(old) = Document::parse(&data[..end]) else {
        return Vec::new();
    };
    let (Ok(old_pages), Ok(new_pages)) = (old.pages(), last.pages()) else {
        return Vec::new();
    };
    let annots = |doc: &Document<'_>, p: ObjRef| -> Vec<Object> {
        doc.dict(p)
            .ok()
            .and_then(|d| d.get("Annots").cloned())
            .and_then(|a| doc.resolve(&a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
    };
    let mut notes = Vec::new();
    for (i, p) in new_pages.iter().enumerate() {
        let before: Vec<Object> = old_pages
            .get(i)
            .map(|op| annots(&old, *op))
            .unwrap_or_default();
        for a in annots(last, *p) {
            if before.iter().any(|b| same(b, &a)) || !is_signature_widget(last, &a) {
                continue;
            }
            let area = last
                .resolve(&a)
                .ok()
                .and_then(|d| d.as_dict().and_then(|d| d.get("Rect").cloned()))
                .and_then(|r| r.as_array().map(<[Object]>::to_vec))
                .and_then(|r| Object::Array(r).as_rect())
                .map(|v| (v[2] - v[0]) * (v[3] - v[1]))
                .unwrap_or(0.0);
            if area > 1.0 {
                notes.push(format!("a later signature put a visible appearance on page {}: what it shows was not signed by this signature", i + 1));
            }
        }
    }
    notes
}

/// A FieldMDP lock (ISO 32000-1 §12.8.2.4): which fields a signature forbids changing.
struct FieldLock {
    action: Vec<u8>,
    fields: Vec<String>,
}

impl FieldLock {
    fn locks(&self, name: &str) -> bool {
        match self.action.as_slice() {
            b"All" => true,
            b"Include" => self
                .fields
                .iter()
                .any(|f| f == name || f.rsplit('.').next() == Some(name)),
            b"Exclude" => !self
                .fields
                .iter()
                .any(|f| f == name || f.rsplit('.').next() == Some(name)),
            _ => true,
        }
    }
}

fn field_lock(doc: &Document<'_>, sig: &Dict) -> Option<FieldLock> {
    let refs = doc.resolve(sig.get("Reference")?).ok()?;
    for r in refs.as_array().unwrap_or(&[]) {
        let r = doc.resolve(r).ok()?;
        let d = r.as_dict()?;
        if !d
            .get("TransformMethod")
            .is_some_and(|m| m.is_name("FieldMDP"))
        {
            continue;
        }
        let params = doc.resolve(d.get("TransformParams")?).ok()?;
        let p = params.as_dict()?;
        let action = p
            .get("Action")
            .and_then(Object::as_name)
            .unwrap_or(b"All")
            .to_vec();
        let fields = p
            .get("Fields")
            .and_then(|f| doc.resolve(f).ok())
            .and_then(|f| {
                f.as_array()
                    .map(|a| a.iter().map(|x| text(Some(x))).collect())
            })
            .unwrap_or_default();
        return Some(FieldLock { action, fields });
    }
    None
}
