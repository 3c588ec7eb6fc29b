//! Evidence that outlives keys (the RFC 4998 evidence-record idea, for a package).
//!
//! A package's proofs lead to one checkpoint, signed with the log key. Keys are retired and
//! algorithms weaken: so each export also time-stamps the checkpoint (RFC 3161:
//! `data/log/checkpoint.tsr`, over the signed note), which shows the checkpoint existed while
//! its key was good; and `kyso bag renew` adds, before that time-stamp's TSA certificate
//! expires or its hash weakens, a new time-stamp (`kyso-renewal-<n>.tsr`, a tag file) over
//! everything before it:
//!
//! ```text
//! renewal n covers: checkpoint note ‖ manifest-sha512.txt ‖ checkpoint.tsr ‖ renewal-1 ‖ … ‖ renewal-(n−1)
//! ```
//!
//! (the SHA-512 manifest brings the whole payload under the new time-stamp: a hash-tree
//! renewal in RFC 4998's terms, not only a time-stamp renewal). `bag verify` follows the chain:
//! each time-stamp must be valid at the time the next one proves it existed, the newest now.

use crate::bag_verify::{CheckpointResult, Problem, VerifyOptions};
use crate::error::{ArchiveError, Result};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Largest time-stamp token read.
const MAX_TOKEN: u64 = 1 << 20;
/// Largest SHA-512 manifest a renewal covers (about 3 million payload files).
const MAX_MANIFEST: u64 = 512 << 20;
/// Most renewals followed.
const MAX_RENEWALS: usize = 1000;

/// The first time-stamp, over the checkpoint (payload).
pub const FIRST: &str = "data/log/checkpoint.tsr";

pub fn renewal_name(n: usize) -> String {
    format!("kyso-renewal-{n}.tsr")
}

fn read_bounded(p: &Path, max: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let mut v = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut v)
        .map_err(|e| format!("{}: {e}", p.display()))?;
    if v.len() as u64 > max {
        return Err(format!("{} is larger than {max} bytes", p.display()));
    }
    Ok(v)
}

/// The chain's tokens, oldest first: the checkpoint's, then each renewal.
fn tokens(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let first = root.join(FIRST);
    if first.exists() {
        out.push((FIRST.to_string(), first));
    }
    for n in 1..=MAX_RENEWALS {
        let p = root.join(renewal_name(n));
        if !p.exists() {
            break;
        }
        out.push((renewal_name(n), p));
    }
    out
}

fn problem(en: String, vi: String) -> Problem {
    Problem {
        kind: "timestamp",
        en,
        vi,
    }
}

/// Follow the time-stamp chain over the checkpoint of the package at `data`'s parent; add
/// each time-stamp's time to `r`, and what does not hold to its problems.
pub(crate) fn check_chain(data: &Path, note: &[u8], o: &VerifyOptions, r: &mut CheckpointResult) {
    let root = data.parent().unwrap_or(Path::new("."));
    let toks = tokens(root);
    if toks.is_empty() {
        r.problems.push(problem(
            "the checkpoint has no time-stamp (data/log/checkpoint.tsr): its evidence lasts only as long as the log key".into(),
            "điểm kiểm tra không có dấu thời gian (data/log/checkpoint.tsr): bằng chứng chỉ có giá trị khi khóa nhật ký còn giá trị".into(),
        ));
        return;
    }
    let mut bytes = Vec::with_capacity(toks.len());
    for (name, p) in &toks {
        match read_bounded(p, MAX_TOKEN) {
            Ok(b) => bytes.push(b),
            Err(e) => {
                r.problems
                    .push(problem(format!("{name}: {e}"), format!("{name}: {e}")));
                return;
            }
        }
    }
    let manifest = if toks.len() > 1 {
        match read_bounded(&root.join("manifest-sha512.txt"), MAX_MANIFEST) {
            Ok(m) => m,
            Err(e) => {
                r.problems.push(problem(e.clone(), e));
                return;
            }
        }
    } else {
        Vec::new()
    };
    // When each token is relied on: the time the next one proves it existed; the newest, now.
    let times: Vec<Option<SystemTime>> = bytes
        .iter()
        .map(|b| kyso_verify::tsp::claimed_gen_time(b))
        .collect();
    for (i, (name, _)) in toks.iter().enumerate() {
        let mut parts: Vec<&[u8]> = vec![note];
        if i > 0 {
            parts.push(&manifest);
            parts.extend(bytes[..i].iter().map(Vec::as_slice));
        }
        let reliance = match times.get(i + 1) {
            Some(Some(t)) => *t,
            _ => SystemTime::now(),
        };
        let mut v = kyso_verify::Validator {
            anchors: o.tsa_trust.clone(),
            now: reliance,
            ..Default::default()
        };
        if v.anchors.is_empty() {
            v.anchors = o.trust.clone();
        }
        let parsed = kyso_verify::cms::parse(&bytes[i]);
        if v.anchors.is_empty() {
            if let Ok(p) = &parsed {
                v.anchors = p
                    .certs
                    .iter()
                    .filter(|c| c.is_self_issued())
                    .cloned()
                    .collect();
            }
        }
        let (crls, ocsps) = match &parsed {
            Ok(p) => (p.crls.clone(), p.ocsps.clone()),
            Err(_) => (Vec::new(), Vec::new()),
        };
        let data_at_hand = kyso_verify::path::revocation::Data {
            crls: &crls,
            ocsps: &ocsps,
        };
        match kyso_verify::tsp::validate(&v, &bytes[i], &parts, &[], data_at_hand, reliance) {
            Ok(t) => r.timestamps.push(kyso_verify::rfc3339(t.gen_time)),
            Err(f) => {
                r.problems.push(problem(
                    format!(
                        "time-stamp {name} does not hold: {} {}",
                        f.indication.as_str(),
                        f.message
                    ),
                    format!(
                        "dấu thời gian {name} không đạt: {} {}",
                        f.indication.as_str(),
                        f.message
                    ),
                ));
                return;
            }
        }
    }
}

/// `kyso bag renew`: add a time-stamp over the previous evidence. The chain must hold now
/// (renewing broken evidence would only hide it); `stamp` makes the token over the parts'
/// concatenation. Returns the new tag file's name.
pub fn renew(root: &Path, o: &VerifyOptions, stamp: crate::bag::Stamper<'_>) -> Result<String> {
    let data = root.join("data");
    let note = read_bounded(
        &data.join("log/checkpoint.txt"),
        crate::checkpoint::MAX_NOTE as u64,
    )
    .map_err(ArchiveError::Input)?;
    let mut r = CheckpointResult::default();
    check_chain(&data, &note, o, &mut r);
    if let Some(p) = r.problems.first() {
        return Err(ArchiveError::Input(format!(
            "the evidence does not hold now, so it is not renewed: {}",
            p.en
        )));
    }
    let toks = tokens(root);
    let mut input = note;
    input.extend(
        read_bounded(&root.join("manifest-sha512.txt"), MAX_MANIFEST)
            .map_err(ArchiveError::Input)?,
    );
    for (_, p) in &toks {
        input.extend(read_bounded(p, MAX_TOKEN).map_err(ArchiveError::Input)?);
    }
    let token = stamp(&input).map_err(|e| ArchiveError::Input(format!("time-stamping: {e}")))?;
    let name = renewal_name(toks.len());
    let path = root.join(&name);
    if path.exists() {
        return Err(ArchiveError::Input(format!("{} exists", path.display())));
    }
    crate::bag::write_atomic(&path, &token)?;
    // The tag manifest lists the new tag file.
    let tm = root.join("tagmanifest-sha256.txt");
    let mut text = std::fs::read_to_string(&tm)
        .map_err(|e| ArchiveError::Input(format!("{}: {e}", tm.display())))?;
    text.push_str(&format!(
        "{}  {name}\n",
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &token))
    ));
    crate::bag::write_atomic(&tm, text.as_bytes())?;
    Ok(name)
}
