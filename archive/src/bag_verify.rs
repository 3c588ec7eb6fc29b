//! `kyso bag verify`: check an exported package with no database and no network, decades
//! later, and say per record what holds and what does not.
//!
//! What is trusted comes from outside the package: the log key (`--log-key`), and optionally
//! trust anchors (`--trust`). Everything else is checked against it:
//! 1. the package: manifests and fixity (every payload file against SHA-256 and SHA-512; no
//!    file missing, none unlisted), the tag manifest, Payload-Oxum;
//! 2. the checkpoint's signature with the log key given (and its RFC 3161 time-stamp chain);
//! 3. the export's own log events, each with its inclusion proof to the checkpoint: which
//!    records the archive exported. A record missing from the package, or one in it that the
//!    export event does not name, fails;
//! 4. per record: its ingest (and status) events' inclusion proofs to the checkpoint; the record
//!    (`metadata.json`) against the SHA-256 its ingest event holds; the document and detached
//!    signature against the record's SHA-256 and SHA-512; the validation data against the
//!    record's digests; and every signature, validated as of the ingest (when the log proves
//!    the archive held it) with the package's validation data as the only revocation source —
//!    trust anchors given with `--trust`, else the self-signed certificates of the record's
//!    validation data, which the log vouches for through the record's digests.

use crate::bag::sha256_hex;
use crate::checkpoint;
use crate::merkle::{self, Hash};
use crate::model::{Event, Record, Status};
use crate::package::{Package, TarIndex};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// Largest tag or metadata file read whole (a record's JSON, a log file, a manifest line).
const MAX_SMALL: u64 = 16 << 20;
/// Largest payload file validated (a document of the archive is at most 64 MiB by default).
const MAX_DOCUMENT: u64 = 1 << 30;
const MAX_LINE: usize = 8192;
/// Most lines one manifest may list, and most bytes: 8 million payload files (about 2 million
/// records; a larger export is several packages, by agency and dates) in 2 GiB. The verifier
/// keeps ~200 bytes and the path per listed file, so a hostile manifest of endless or long
/// lines ends here, with a problem, not in an out-of-memory abort.
const MAX_MANIFEST_LINES: u64 = 8 << 20;
const MAX_MANIFEST_BYTES: u64 = 2 << 30;
/// Malformed lines reported per manifest before reading it stops.
const MAX_MALFORMED: usize = 100;

/// What the verifier is given from outside the package.
#[derive(Default)]
pub struct VerifyOptions {
    /// Log keys (DER SubjectPublicKeyInfo).
    pub log_keys: Vec<Vec<u8>>,
    /// Trust anchors for the signatures; none: the self-signed certificates of each record's
    /// validation data.
    pub trust: Vec<kyso_verify::CertRef>,
    /// Trust anchors for the checkpoint's time-stamps (TSA roots); none: the self-signed
    /// certificates in the time-stamp tokens.
    pub tsa_trust: Vec<kyso_verify::CertRef>,
}

/// A finding, in English and Vietnamese.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Machine-readable kind.
    pub kind: &'static str,
    pub en: String,
    pub vi: String,
}

fn problem(kind: &'static str, en: String, vi: String) -> Problem {
    Problem { kind, en, vi }
}

/// The checkpoint and what vouches for it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CheckpointResult {
    pub ok: bool,
    pub origin: Option<String>,
    pub size: Option<u64>,
    pub root: Option<String>,
    pub key_id: Option<String>,
    /// The time-stamps over the checkpoint (the first at export, then each renewal), oldest
    /// first: each one's time.
    pub timestamps: Vec<String>,
    pub problems: Vec<Problem>,
}

/// One record's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct RecordResult {
    pub id: u64,
    pub ok: bool,
    pub code: Option<String>,
    /// The record's status at the checkpoint (from its status events).
    pub status: Option<String>,
    /// The signatures' verdict now, from the package alone.
    pub indication: Option<String>,
    /// What was checked and held.
    pub held: Vec<&'static str>,
    pub problems: Vec<Problem>,
}

/// The whole package's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct BagReport {
    pub ok: bool,
    pub path: String,
    pub format: &'static str,
    pub checkpoint: CheckpointResult,
    /// Problems not of one record (manifests, tag files, unexpected files).
    pub package: Vec<Problem>,
    pub records: Vec<RecordResult>,
    pub records_ok: u64,
    pub records_failed: u64,
}

/// Digests of a payload file as a manifest lists them (bytes, not hex: a package of
/// millions of files keeps one of these per file while it is verified).
#[derive(Default, Clone)]
struct Listed {
    sha256: Option<[u8; 32]>,
    sha512: Option<[u8; 64]>,
}

/// Hex (either case) to bytes; `None` unless exactly `2·N` hex digits.
fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// Manifest lines into `into` ([`read_manifest`]).
fn listing<'a>(into: &'a mut HashMap<String, Listed>) -> impl FnMut(String, &str) + 'a {
    |path, hash| {
        let e = into.entry(path).or_default();
        match hash.len() {
            64 => e.sha256 = unhex(hash),
            _ => e.sha512 = unhex(hash),
        }
    }
}

fn read_small(pk: &Package, rel: &str) -> Result<Vec<u8>, String> {
    pk.read(rel, MAX_SMALL)
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    }
}

/// Read a manifest (`<hex>  <path>` lines): each well-formed line's path and digest (lowercase
/// hex of the manifest's algorithm) to `each`, what is malformed to `package`.
fn read_manifest(
    pk: &Package,
    rel: &str,
    alg: &str,
    package: &mut Vec<Problem>,
    each: &mut dyn FnMut(String, &str),
) {
    let f = match pk.open_file(rel) {
        Ok((f, _)) => f,
        Err(e) => {
            package.push(problem("manifest", e.clone(), e));
            return;
        }
    };
    let mut r = std::io::BufReader::new(f);
    let mut line = Vec::new();
    let want = if alg == "sha256" { 64 } else { 128 };
    let (mut lines, mut bytes, mut malformed) = (0u64, 0u64, 0usize);
    let mut bad = |package: &mut Vec<Problem>, en: String, vi: String| -> bool {
        malformed += 1;
        if malformed > MAX_MALFORMED {
            package.push(problem(
                "manifest",
                format!("manifest-{alg}.txt: more than {MAX_MALFORMED} malformed lines; not read further"),
                format!("manifest-{alg}.txt: hơn {MAX_MALFORMED} dòng sai dạng; không đọc tiếp"),
            ));
            return false;
        }
        package.push(problem("manifest", en, vi));
        true
    };
    loop {
        line.clear();
        match r
            .by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                package.push(problem("manifest", e.to_string(), e.to_string()));
                return;
            }
        }
        if line.len() > MAX_LINE {
            package.push(problem(
                "manifest",
                format!("manifest-{alg}.txt has a line longer than {MAX_LINE} bytes"),
                format!("manifest-{alg}.txt có dòng dài hơn {MAX_LINE} byte"),
            ));
            return;
        }
        bytes += line.len() as u64;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            continue;
        }
        lines += 1;
        if lines > MAX_MANIFEST_LINES || bytes > MAX_MANIFEST_BYTES {
            package.push(problem(
                "manifest",
                format!("manifest-{alg}.txt lists more than {MAX_MANIFEST_LINES} files or {MAX_MANIFEST_BYTES} bytes; not read further (export larger archives as several packages)"),
                format!("manifest-{alg}.txt liệt kê hơn {MAX_MANIFEST_LINES} tệp hoặc {MAX_MANIFEST_BYTES} byte; không đọc tiếp (hãy xuất kho lớn thành nhiều gói)"),
            ));
            return;
        }
        let Some((hash, path)) = text.split_once(char::is_whitespace) else {
            if !bad(
                package,
                format!("manifest-{alg}.txt: line {text:?} is not `digest path`"),
                format!("manifest-{alg}.txt: dòng {text:?} không có dạng `mã băm đường dẫn`"),
            ) {
                return;
            }
            continue;
        };
        let path = path.trim_start().to_string();
        let hash = hash.to_ascii_lowercase();
        if hash.len() != want || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            if !bad(
                package,
                format!("manifest-{alg}.txt: {hash:?} for {path} is not a {alg} digest"),
                format!("manifest-{alg}.txt: {hash:?} của {path} không phải mã băm {alg}"),
            ) {
                return;
            }
            continue;
        }
        each(path, &hash);
    }
}

/// SHA-256 and SHA-512 (hex) of a file, streamed.
fn digests(pk: &Package, rel: &str) -> Result<(String, String, u64), String> {
    let shown = || pk.shown(rel);
    let (mut f, _) = pk.open_file(rel)?;
    let mut a = ring::digest::Context::new(&ring::digest::SHA256);
    let mut b = openssl::sha::Sha512::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| format!("{}: {e}", shown()))?;
        if k == 0 {
            break;
        }
        a.update(&buf[..k]);
        b.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(a.finish()), hex::encode(b.finish()), n))
}

/// Which record a payload path belongs to (`<prefix>/records/<id>/…`).
fn record_of(prefix: &str, path: &str) -> Option<u64> {
    path.strip_prefix(prefix)?
        .strip_prefix("/records/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

struct Fixity {
    /// Per record: file problems.
    by_record: BTreeMap<u64, Vec<Problem>>,
    bytes: u64,
    files: u64,
}

/// Every file under `data/` against the manifests, and every manifest entry against a file.
fn check_fixity(
    pk: &Package,
    prefix: &str,
    listed: &mut HashMap<String, Listed>,
    package: &mut Vec<Problem>,
) -> Fixity {
    let mut fx = Fixity {
        by_record: BTreeMap::new(),
        bytes: 0,
        files: 0,
    };
    let (files, errors) = pk.files_under(prefix);
    for (rel, e) in errors {
        package.push(problem(
            "payload",
            format!("{rel}: {e}"),
            format!("{rel}: {e}"),
        ));
    }
    for path in files {
        let mut report = |en: String, vi: String| match record_of(prefix, &path) {
            Some(id) => fx
                .by_record
                .entry(id)
                .or_default()
                .push(problem("fixity", en, vi)),
            None => package.push(problem("fixity", en, vi)),
        };
        let Some(l) = listed.remove(&path) else {
            report(
                format!("{path} is not in the manifests (a file added to the package)"),
                format!("{path} không có trong bản kê (tệp bị thêm vào gói)"),
            );
            continue;
        };
        match digests(pk, &path) {
            Ok((s256, s512, n)) => {
                fx.bytes += n;
                fx.files += 1;
                if l.sha256 != unhex(&s256) || l.sha512 != unhex(&s512) {
                    report(
                        format!(
                            "{path} does not match its manifest digests (changed after export)"
                        ),
                        format!(
                            "{path} không khớp mã băm trong bản kê (đã bị thay đổi sau khi xuất)"
                        ),
                    );
                }
            }
            Err(e) => report(e.clone(), e),
        }
    }
    for (path, _) in listed.drain() {
        let (en, vi) = (
            format!("{path} is listed in the manifests but missing"),
            format!("{path} có trong bản kê nhưng bị thiếu"),
        );
        match record_of(prefix, &path) {
            Some(id) => fx
                .by_record
                .entry(id)
                .or_default()
                .push(problem("fixity", en, vi)),
            None => package.push(problem("fixity", en, vi)),
        }
    }
    fx
}

/// An event with its inclusion proof, as the package carries it.
#[derive(serde::Deserialize)]
struct Proved {
    leaf: u64,
    event: String,
    proof: Vec<String>,
}

#[derive(serde::Deserialize)]
struct LogFile {
    tree_size: u64,
    events: Vec<Proved>,
}

/// Check an event's inclusion proof against the checkpoint.
fn included(p: &Proved, size: u64, root: &Hash) -> Result<Event, String> {
    let proof: Vec<Hash> = p
        .proof
        .iter()
        .map(|h| {
            hex::decode(h)
                .ok()
                .and_then(|v| Hash::try_from(v.as_slice()).ok())
                .ok_or_else(|| format!("the proof of log entry {} is not hex hashes", p.leaf))
        })
        .collect::<Result<_, _>>()?;
    let leaf = merkle::leaf_hash(p.event.as_bytes());
    if !merkle::verify_inclusion(&leaf, p.leaf, size, &proof, root) {
        return Err(format!(
            "log entry {} does not verify against the checkpoint (its event or proof was changed, or the proof is for another tree)",
            p.leaf
        ));
    }
    serde_json::from_str(&p.event).map_err(|e| format!("log entry {}: {e}", p.leaf))
}

fn read_log(pk: &Package, rel: &str, size: u64) -> Result<LogFile, (String, String)> {
    let b = read_small(pk, rel).map_err(|e| (e.clone(), e))?;
    let l: LogFile = serde_json::from_slice(&b).map_err(|e| {
        (
            format!("{}: {e}", pk.shown(rel)),
            format!("{}: {e}", pk.shown(rel)),
        )
    })?;
    if l.tree_size != size {
        return Err((
            format!(
                "its proofs are for a log of {} entries; the checkpoint is of {size}",
                l.tree_size
            ),
            format!(
                "bằng chứng dành cho nhật ký {} mục; điểm kiểm tra là {size} mục",
                l.tree_size
            ),
        ));
    }
    Ok(l)
}

/// Verify the BagIt bag at `root` (a directory).
pub fn verify_bag(root: &Path, o: &VerifyOptions) -> BagReport {
    verify_package(&Package::Dir(root.to_path_buf()), o)
}

/// Verify a serialized BagIt bag (one tar file), read in place: indexed, then read with
/// bounded positional reads; nothing is extracted.
pub fn verify_tar(path: &Path, o: &VerifyOptions) -> Result<BagReport, String> {
    let pk = Package::Tar(TarIndex::open(path)?);
    let mut r = verify_package(&pk, o);
    r.path = path.display().to_string();
    Ok(r)
}

/// Verify a BagIt bag, a directory or a tar.
pub fn verify_package(pk: &Package, o: &VerifyOptions) -> BagReport {
    let mut package = Vec::new();
    match read_small(pk, "bagit.txt").map(|b| String::from_utf8_lossy(&b).into_owned()) {
        Ok(t) if t.lines().any(|l| l.trim() == "BagIt-Version: 1.0") => {}
        Ok(_) => package.push(problem(
            "bagit",
            "bagit.txt does not declare BagIt-Version: 1.0".into(),
            "bagit.txt không khai báo BagIt-Version: 1.0".into(),
        )),
        Err(e) => package.push(problem(
            "bagit",
            format!("bagit.txt: {e} (not a BagIt bag?)"),
            format!("bagit.txt: {e} (không phải gói BagIt?)"),
        )),
    }
    let mut listed = HashMap::new();
    for alg in ["sha256", "sha512"] {
        let rel = format!("manifest-{alg}.txt");
        read_manifest(pk, &rel, alg, &mut package, &mut listing(&mut listed));
    }
    // The tag manifest covers bagit.txt, bag-info.txt and the payload manifests.
    let mut tags = HashMap::new();
    read_manifest(
        pk,
        "tagmanifest-sha256.txt",
        "sha256",
        &mut package,
        &mut listing(&mut tags),
    );
    for (name, l) in &tags {
        match digests(pk, name) {
            Ok((sha256, _, _)) => {
                if l.sha256 != unhex(&sha256) {
                    package.push(problem(
                        "tagmanifest",
                        format!("tag file {name} does not match tagmanifest-sha256.txt (edited after export)"),
                        format!("tệp thẻ {name} không khớp tagmanifest-sha256.txt (bị sửa sau khi xuất)"),
                    ));
                }
            }
            Err(e) => package.push(problem("tagmanifest", e.clone(), e)),
        }
    }
    let fx = check_fixity(pk, "data", &mut listed, &mut package);
    if let Ok(info) =
        read_small(pk, "bag-info.txt").map(|b| String::from_utf8_lossy(&b).into_owned())
    {
        if let Some(oxum) = info
            .lines()
            .find_map(|l| l.strip_prefix("Payload-Oxum:"))
            .map(str::trim)
        {
            if oxum != format!("{}.{}", fx.bytes, fx.files) {
                package.push(problem(
                    "oxum",
                    format!(
                        "Payload-Oxum says {oxum}; the payload is {}.{}",
                        fx.bytes, fx.files
                    ),
                    format!(
                        "Payload-Oxum ghi {oxum}; phần dữ liệu là {}.{}",
                        fx.bytes, fx.files
                    ),
                ));
            }
        }
    }
    let (checkpoint, cp) = check_checkpoint(pk, "data", o);
    verify_records(
        pk,
        "data",
        o,
        checkpoint,
        cp,
        package,
        fx.by_record,
        "bagit",
    )
}

type Anchor = Option<(u64, Hash)>;

/// The checkpoint's signature with the log keys given, and its time-stamps.
fn check_checkpoint(pk: &Package, data: &str, o: &VerifyOptions) -> (CheckpointResult, Anchor) {
    let mut r = CheckpointResult::default();
    let note = match read_small(pk, &join(data, "log/checkpoint.txt")) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            r.problems.push(problem("checkpoint", e.clone(), e));
            return (r, None);
        }
    };
    let n = match checkpoint::parse(&note) {
        Ok(n) => n,
        Err(e) => {
            r.problems.push(problem(
                "checkpoint",
                format!("the checkpoint: {e}"),
                format!("điểm kiểm tra: {e}"),
            ));
            return (r, None);
        }
    };
    r.origin = Some(n.checkpoint.origin.clone());
    r.size = Some(n.checkpoint.size);
    r.root = Some(hex::encode(n.checkpoint.root));
    if o.log_keys.is_empty() {
        r.problems.push(problem(
            "checkpoint",
            "no log key given (--log-key): the checkpoint cannot be trusted".into(),
            "chưa cho khóa nhật ký (--log-key): không thể tin điểm kiểm tra".into(),
        ));
        return (r, None);
    }
    match n.verify_any(&o.log_keys) {
        Ok(id) => r.key_id = Some(hex::encode(id)),
        Err(e) => {
            r.problems.push(problem(
                "checkpoint",
                format!("the checkpoint's signature: {e} (a swapped or re-signed checkpoint)"),
                format!("chữ ký của điểm kiểm tra: {e} (điểm kiểm tra bị thay hoặc ký lại)"),
            ));
            return (r, None);
        }
    }
    crate::renew::check_chain(pk, data, note.as_bytes(), o, &mut r);
    r.ok = r.problems.is_empty();
    (r, Some((n.checkpoint.size, n.checkpoint.root)))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn verify_records(
    pk: &Package,
    data: &str,
    o: &VerifyOptions,
    checkpoint: CheckpointResult,
    anchor: Anchor,
    mut package: Vec<Problem>,
    mut file_problems: BTreeMap<u64, Vec<Problem>>,
    format: &'static str,
) -> BagReport {
    // Which records the archive exported: the export events, proved to the checkpoint.
    let mut named: Option<BTreeSet<u64>> = None;
    if let Some((size, cproot)) = anchor {
        match read_log(pk, &join(data, "log/export.json"), size) {
            Ok(l) => {
                let mut set = BTreeSet::new();
                for p in &l.events {
                    match included(p, size, &cproot) {
                        Ok(Event::Export { records, .. }) => set.extend(records),
                        Ok(_) => package.push(problem(
                            "export",
                            format!(
                                "log entry {} in log/export.json is not an export event",
                                p.leaf
                            ),
                            format!(
                                "mục nhật ký {} trong log/export.json không phải sự kiện xuất",
                                p.leaf
                            ),
                        )),
                        Err(e) => package.push(problem(
                            "export",
                            format!("log/export.json: {e}"),
                            format!("log/export.json: {e}"),
                        )),
                    }
                }
                if l.events.is_empty() {
                    package.push(problem(
                        "export",
                        "log/export.json names no export event".into(),
                        "log/export.json không có sự kiện xuất".into(),
                    ));
                }
                named = Some(set);
            }
            Err((en, vi)) => package.push(problem(
                "export",
                format!("log/export.json: {en}"),
                format!("log/export.json: {vi}"),
            )),
        }
    }
    // The records present.
    let mut present = BTreeSet::new();
    {
        for name in pk.names_in(&join(data, "records")) {
            match name.parse::<u64>() {
                Ok(id) if id.to_string() == name => {
                    present.insert(id);
                }
                _ => package.push(problem(
                    "payload",
                    format!("records/{name} is not a record directory"),
                    format!("records/{name} không phải thư mục hồ sơ"),
                )),
            }
        }
    }
    let mut ids: BTreeSet<u64> = present.clone();
    if let Some(n) = &named {
        ids.extend(n.iter().copied());
    }
    ids.extend(file_problems.keys().copied());
    // Records are independent: checked in parallel, each read one at a time per thread.
    let ids: Vec<u64> = ids.into_iter().collect();
    let mut results: Vec<RecordResult> = ids
        .iter()
        .map(|&id| RecordResult {
            id,
            ok: false,
            code: None,
            status: None,
            indication: None,
            held: Vec::new(),
            problems: file_problems.remove(&id).unwrap_or_default(),
        })
        .collect();
    {
        use rayon::prelude::*;
        let named = &named;
        let present = &present;
        results.par_iter_mut().for_each(|r| {
            let id = r.id;
            let is_named = named.as_ref().map(|n| n.contains(&id));
            if !present.contains(&id) {
                r.problems.push(problem(
                    "missing",
                    format!("record {id} is named by the export event but missing from the package"),
                    format!("hồ sơ {id} có trong sự kiện xuất nhưng bị thiếu trong gói"),
                ));
            } else {
                if is_named == Some(false) {
                    r.problems.push(problem(
                        "not_exported",
                        format!("record {id} is not named by the export event: the log does not say the archive exported it"),
                        format!("hồ sơ {id} không có trong sự kiện xuất: nhật ký không xác nhận kho đã xuất hồ sơ này"),
                    ));
                }
                check_record(pk, data, id, anchor, o, r);
            }
            if anchor.is_none() {
                r.problems.push(problem(
                    "checkpoint",
                    format!("record {id}: its log entries cannot be proved: the package's checkpoint does not hold"),
                    format!("hồ sơ {id}: không chứng minh được các mục nhật ký: điểm kiểm tra của gói không đạt"),
                ));
            }
            r.ok = r.problems.is_empty();
        });
    }
    let records = results;
    let records_ok = records.iter().filter(|r| r.ok).count() as u64;
    let records_failed = records.len() as u64 - records_ok;
    BagReport {
        ok: package.is_empty() && checkpoint.ok && records_failed == 0 && !records.is_empty(),
        path: pk.path().display().to_string(),
        format,
        checkpoint,
        package,
        records,
        records_ok,
        records_failed,
    }
}

fn check_record(
    pk: &Package,
    data: &str,
    id: u64,
    anchor: Anchor,
    o: &VerifyOptions,
    r: &mut RecordResult,
) {
    let dir = join(data, &format!("records/{id}"));
    let fail = |r: &mut RecordResult, kind: &'static str, en: String, vi: String| {
        r.problems.push(problem(
            kind,
            format!("record {id}: {en}"),
            format!("hồ sơ {id}: {vi}"),
        ))
    };
    let json = match read_small(pk, &join(&dir, "metadata.json")) {
        Ok(b) => b,
        Err(e) => return fail(r, "record", e.clone(), e),
    };
    let rec: Record = match serde_json::from_slice(&json) {
        Ok(rec) => rec,
        Err(e) => {
            return fail(
                r,
                "record",
                format!("metadata.json is not a record: {e}"),
                format!("metadata.json không phải hồ sơ: {e}"),
            )
        }
    };
    r.code = Some(rec.code.clone());
    if rec.id != id {
        fail(
            r,
            "record",
            format!("metadata.json is of record {}", rec.id),
            format!("metadata.json là của hồ sơ {}", rec.id),
        );
    }
    // The log: the ingest event binds the record's bytes; status events give its status.
    if let Some((size, root)) = anchor {
        match read_log(pk, &join(&dir, "log.json"), size) {
            Err((en, vi)) => fail(
                r,
                "log",
                format!("log.json: {en}"),
                format!("log.json: {vi}"),
            ),
            Ok(l) => {
                let mut status = Status::Valid;
                let mut ingest_ok = false;
                let mut log_ok = true;
                for p in &l.events {
                    match included(p, size, &root) {
                        Err(e) => {
                            log_ok = false;
                            fail(r, "inclusion", e.clone(), e);
                        }
                        Ok(Event::Ingest {
                            record,
                            code,
                            content_sha256,
                            record_sha256,
                            ..
                        }) => {
                            if record != id || p.leaf != rec.leaf || code != rec.code {
                                log_ok = false;
                                fail(
                                    r,
                                    "log",
                                    format!("log entry {} ingests record {record} ({code}), not this one", p.leaf),
                                    format!("mục nhật ký {} lưu hồ sơ {record} ({code}), không phải hồ sơ này", p.leaf),
                                );
                            } else if record_sha256 != sha256_hex(&json) {
                                log_ok = false;
                                fail(
                                    r,
                                    "record",
                                    "metadata.json is not the record the log holds (its SHA-256 differs from the ingest event's)".into(),
                                    "metadata.json không phải hồ sơ mà nhật ký ghi nhận (SHA-256 khác với sự kiện lưu trữ)".into(),
                                );
                            } else if content_sha256 != rec.content_sha256 {
                                log_ok = false;
                                fail(
                                    r,
                                    "record",
                                    "the ingest event names another document".into(),
                                    "sự kiện lưu trữ ghi nhận tài liệu khác".into(),
                                );
                            } else {
                                ingest_ok = true;
                            }
                        }
                        Ok(Event::Status {
                            record, status: s, ..
                        }) if record == id => status = s,
                        Ok(_) => {
                            log_ok = false;
                            fail(
                                r,
                                "log",
                                format!("log entry {} is not about this record", p.leaf),
                                format!("mục nhật ký {} không thuộc hồ sơ này", p.leaf),
                            );
                        }
                    }
                }
                if !ingest_ok && log_ok {
                    fail(
                        r,
                        "log",
                        "log.json has no ingest event for it".into(),
                        "log.json không có sự kiện lưu trữ của hồ sơ".into(),
                    );
                }
                if ingest_ok && log_ok {
                    r.held.push("log");
                }
                r.status = Some(status.name().into());
            }
        }
    }
    // The document and detached signature against the record's digests.
    let doc_path = join(&dir, crate::bag::document_name(&rec.media_type));
    let blob = |p: &str, sha256: &str, sha512: &str, size: u64| -> Result<Vec<u8>, String> {
        let len = pk.len(p)?;
        if len > MAX_DOCUMENT || len != size {
            return Err(format!("is {len} bytes; the record says {size}"));
        }
        let b = pk.read(p, MAX_DOCUMENT)?;
        if sha256_hex(&b) != sha256 || hex::encode(openssl::sha::sha512(&b)) != sha512 {
            return Err(
                "does not match the record's SHA-256 and SHA-512 (the log holds them)".into(),
            );
        }
        Ok(b)
    };
    let document = match blob(
        &doc_path,
        &rec.content_sha256,
        &rec.content_sha512,
        rec.size,
    ) {
        Ok(b) => Some(b),
        Err(e) => {
            fail(
                r,
                "document",
                format!("the document {e}"),
                format!("tài liệu {}", vi_blob(&e)),
            );
            None
        }
    };
    let signature = match &rec.detached_signature {
        None => Some(None),
        Some(b) => match blob(&join(&dir, "signature.p7s"), &b.sha256, &b.sha512, b.size) {
            Ok(s) => Some(Some(s)),
            Err(e) => {
                fail(
                    r,
                    "document",
                    format!("the detached signature {e}"),
                    format!("chữ ký rời {}", vi_blob(&e)),
                );
                None
            }
        },
    };
    // The validation data against the record's digests.
    let mut v = kyso_verify::Validator {
        anchors: o.trust.clone(),
        ..Default::default()
    };
    let mut evidence_ok = true;
    if let Some(vd) = &rec.validation_data {
        for (kind, b) in vd.blobs() {
            let p = join(data, &format!("evidence/{kind}-{}.der", b.sha256));
            let bytes = match blob(&p, &b.sha256, &b.sha512, b.size) {
                Ok(x) => x,
                Err(e) => {
                    evidence_ok = false;
                    fail(
                        r,
                        "validation_data",
                        format!("validation data {kind} {} {e}", b.sha256),
                        format!("dữ liệu xác thực {kind} {} {}", b.sha256, vi_blob(&e)),
                    );
                    continue;
                }
            };
            match kind {
                "certificate" => {
                    if let Ok(certs) = kyso_verify::x509::load_certificates(&bytes) {
                        for c in certs {
                            if o.trust.is_empty() && c.is_self_issued() {
                                v.anchors.push(c.clone());
                            }
                            v.certs.push(c);
                        }
                    }
                }
                "crl" => {
                    if let Ok(c) = kyso_verify::x509::load_crl(&bytes) {
                        v.crls.push(c);
                    }
                }
                _ => {
                    if let Ok(x) = kyso_verify::x509::load_ocsp(&bytes) {
                        v.ocsps.push(x);
                    }
                }
            }
        }
    }
    if evidence_ok {
        r.held.push("validation_data");
    }
    let (Some(document), Some(signature)) = (document, signature) else {
        return;
    };
    r.held.push("document");
    // The signatures, as of the ingest: the log proves the archive held the document then.
    let at = rec
        .validation_data
        .as_ref()
        .map(|d| d.gathered.as_str())
        .unwrap_or(&rec.ingest_time);
    if let Some(t) = kyso_verify::dates::parse_rfc3339(at) {
        v.now = t;
    }
    let report = v.verify_file(&document, signature.as_deref());
    let ind = report.indication.as_str().to_string();
    let at_ingest = rec
        .report
        .get("indication")
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string();
    r.indication = Some(ind.clone());
    if ind == "TOTAL-PASSED" {
        r.held.push("signatures");
    } else if rec.kept_unverified.is_some() && ind == at_ingest {
        r.held
            .push("signatures (kept unverified at ingest, as then)");
    } else {
        let why = report
            .signatures
            .iter()
            .flat_map(|s| s.messages.first())
            .chain(report.messages.first())
            .next()
            .cloned()
            .unwrap_or_default();
        fail(
            r,
            "signatures",
            format!("its signatures are {ind} from the package's validation data (at ingest: {at_ingest}): {why}"),
            format!("chữ ký là {ind} theo dữ liệu xác thực trong gói (khi lưu trữ: {at_ingest}): {why}"),
        );
    }
}

fn vi_blob(en: &str) -> String {
    if en.starts_with("does not match") {
        "không khớp SHA-256 và SHA-512 ghi trong hồ sơ (nhật ký giữ các mã này)".into()
    } else {
        en.to_string()
    }
}

/// The text summary, in Vietnamese or English.
pub fn text(r: &BagReport, vi: bool) -> String {
    let pick = |p: &Problem| if vi { p.vi.clone() } else { p.en.clone() };
    let mut s = String::new();
    let (ok, bad) = if vi {
        ("ĐẠT", "KHÔNG ĐẠT")
    } else {
        ("PASSED", "FAILED")
    };
    s.push_str(&format!(
        "{}: {} — {}\n",
        if vi { "Gói" } else { "Package" },
        r.path,
        if r.ok { ok } else { bad }
    ));
    let c = &r.checkpoint;
    s.push_str(&format!(
        "{}: {} {} {} {}\n",
        if vi {
            "Điểm kiểm tra"
        } else {
            "Checkpoint"
        },
        c.origin.as_deref().unwrap_or("?"),
        c.size.map(|x| x.to_string()).unwrap_or_default(),
        if c.ok { ok } else { bad },
        c.timestamps
            .iter()
            .map(|t| format!(
                "[{} {t}]",
                if vi {
                    "dấu thời gian"
                } else {
                    "time-stamp"
                }
            ))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    for p in c.problems.iter().chain(&r.package) {
        s.push_str(&format!("  ! {}\n", pick(p)));
    }
    for rec in &r.records {
        s.push_str(&format!(
            "{} {} {} {}{}\n",
            if vi { "Hồ sơ" } else { "Record" },
            rec.id,
            rec.code.as_deref().unwrap_or("?"),
            if rec.ok { ok } else { bad },
            rec.indication
                .as_ref()
                .map(|i| format!(" ({i}, {})", rec.status.as_deref().unwrap_or("?")))
                .unwrap_or_default()
        ));
        for p in &rec.problems {
            s.push_str(&format!("  ! {}\n", pick(p)));
        }
    }
    s.push_str(&format!(
        "{}: {} {}, {} {}\n",
        if vi { "Tổng" } else { "Total" },
        r.records_ok,
        ok,
        r.records_failed,
        bad
    ));
    s
}

/// Where a package's payload is (for callers that unpacked one).
pub fn data_dir(root: &Path) -> PathBuf {
    root.join("data")
}

/// Verify a zipped E-ARK package, read in place (indexed by its central directory, then
/// bounded positional reads; entry names that would leave the package folder refused; nothing
/// extracted): the METS root checked (OBJID, csip:OAISPACKAGETYPE, the SHA-256 of every file
/// it references: the representation METS, the metadata, documentation, schema and renewal
/// time-stamps), every payload file against the representation METS's SHA-256 and the SHA-512
/// manifest in metadata/preservation, then everything a bag gets.
pub fn verify_eark_zip(zip_path: &Path, o: &VerifyOptions) -> Result<BagReport, String> {
    let pk = Package::Zip(crate::package::ZipIndex::open(zip_path)?);
    Ok(verify_eark(&pk, o))
}

/// The value of `attr="…"` in `tag` (kyso's METS writes attributes with double quotes).
fn attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let k = format!(" {attr}=\"");
    let i = tag.find(&k)? + k.len();
    let j = tag[i..].find('"')?;
    Some(&tag[i..i + j])
}

fn unesc(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Verify an E-ARK package (a zip read in place, or its unpacked folder).
pub fn verify_eark(pk: &Package, o: &VerifyOptions) -> BagReport {
    let prefix = crate::eark::PAYLOAD;
    let mut package = Vec::new();
    let mut listed: HashMap<String, Listed> = HashMap::new();
    let pb = |en: String, vi: String| problem("mets", en, vi);
    // The root METS: the package's identity and type, and the representation's METS by its
    // SHA-256; the representation's METS: every payload file's SHA-256.
    let scan = |rel: &str, f: &mut dyn FnMut(&str)| -> Result<(), String> {
        let (file, _) = pk.open_file(rel)?;
        let mut r = std::io::BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            match r
                .by_ref()
                .take(MAX_LINE as u64 * 4)
                .read_until(b'\n', &mut line)
            {
                Ok(0) => return Ok(()),
                Ok(_) => f(&String::from_utf8_lossy(&line)),
                Err(e) => return Err(format!("{}: {e}", pk.shown(rel))),
            }
        }
    };
    let dir_name = pk.top();
    let (mut objid, mut oais, mut rep_sum) = (None, None, None);
    // The files the root METS gives a checksum (metadata, documentation, schema, renewals).
    let mut referenced: Vec<(String, String)> = Vec::new();
    let r = scan("METS.xml", &mut |l| {
        if (l.contains("<mets:mdRef ") || l.contains("<mets:file ")) && referenced.len() < 10_000 {
            if let (Some(href), Some(sum)) = (attr(l, "xlink:href"), attr(l, "CHECKSUM")) {
                if href != "representations/rep1/METS.xml" {
                    referenced.push((unesc(href), sum.to_ascii_lowercase()));
                }
            }
        }
        if l.contains("<mets:mets ") {
            objid = attr(l, "OBJID").map(unesc);
        }
        if l.contains("<mets:metsHdr ") {
            oais = attr(l, "csip:OAISPACKAGETYPE").map(str::to_string);
        }
        if l.contains("<mets:file ")
            && attr(l, "xlink:href") == Some("representations/rep1/METS.xml")
        {
            rep_sum = attr(l, "CHECKSUM").map(str::to_ascii_lowercase);
        }
    });
    if let Err(e) = r {
        package.push(pb(e.clone(), e));
    }
    match objid {
        Some(id) if id == dir_name => {}
        Some(id) => package.push(pb(
            format!("METS OBJID {id:?} is not the package folder's name {dir_name:?}"),
            format!("OBJID {id:?} của METS khác tên thư mục gói {dir_name:?}"),
        )),
        None => package.push(pb(
            "METS.xml has no OBJID".into(),
            "METS.xml không có OBJID".into(),
        )),
    }
    if !matches!(oais.as_deref(), Some("SIP" | "AIP" | "DIP")) {
        package.push(pb(
            "METS.xml has no csip:OAISPACKAGETYPE".into(),
            "METS.xml không có csip:OAISPACKAGETYPE".into(),
        ));
    }
    for (href, sum) in &referenced {
        match digests(pk, href) {
            Ok((sha256, _, _)) if sha256 == *sum => {}
            Ok(_) => package.push(pb(
                format!("{href} does not match the checksum the root METS gives it"),
                format!("{href} không khớp mã băm ghi trong METS gốc"),
            )),
            Err(e) => package.push(pb(
                format!("{href}, which the root METS references: {e}"),
                format!("{href}, được METS gốc tham chiếu: {e}"),
            )),
        }
    }
    let rep_mets = "representations/rep1/METS.xml";
    let actual = digests(pk, rep_mets).ok().map(|(s, _, _)| s);
    if rep_sum.is_none() || rep_sum != actual {
        package.push(pb(
            "representations/rep1/METS.xml does not match the checksum the root METS gives it"
                .into(),
            "representations/rep1/METS.xml không khớp mã băm ghi trong METS gốc".into(),
        ));
    }
    // As many file entries, and bytes of their names, as a manifest may hold, no more.
    let (mut files, mut names, mut full) = (0u64, 0u64, false);
    let r = scan(rep_mets, &mut |l| {
        if l.contains("<mets:file ") && !full {
            if let (Some(sum), Some(href)) = (attr(l, "CHECKSUM"), attr(l, "xlink:href")) {
                files += 1;
                names += href.len() as u64;
                if files > MAX_MANIFEST_LINES || names > MAX_MANIFEST_BYTES {
                    full = true;
                    return;
                }
                listed
                    .entry(format!("representations/rep1/{}", unesc(href)))
                    .or_default()
                    .sha256 = unhex(sum);
            }
        }
    });
    if let Err(e) = r {
        package.push(pb(e.clone(), e));
    }
    if full {
        package.push(pb(
            format!("{rep_mets} lists more than {MAX_MANIFEST_LINES} files or {MAX_MANIFEST_BYTES} bytes of names; not read further"),
            format!("{rep_mets} liệt kê hơn {MAX_MANIFEST_LINES} tệp hoặc {MAX_MANIFEST_BYTES} byte tên; không đọc tiếp"),
        ));
    }
    // The SHA-512 manifest the package carries; its SHA-256 one must agree with the METS,
    // line by line (not held: the METS's digests are).
    let pres = crate::eark::MANIFESTS;
    read_manifest(
        pk,
        &join(pres, "manifest-sha512.txt"),
        "sha512",
        &mut package,
        &mut listing(&mut listed),
    );
    let (mut disagree, mut more) = (Vec::new(), 0u64);
    read_manifest(
        pk,
        &join(pres, "manifest-sha256.txt"),
        "sha256",
        &mut package,
        &mut |path, hash| {
            if listed.get(&path).and_then(|x| x.sha256) != unhex(hash) {
                if disagree.len() < MAX_MALFORMED {
                    disagree.push(pb(
                        format!("{path}: the METS and manifest-sha256.txt disagree"),
                        format!("{path}: METS và manifest-sha256.txt không khớp"),
                    ));
                } else {
                    more += 1;
                }
            }
        },
    );
    package.extend(disagree);
    if more > 0 {
        package.push(pb(
            format!("{more} more lines where the METS and manifest-sha256.txt disagree"),
            format!("{more} dòng khác mà METS và manifest-sha256.txt không khớp"),
        ));
    }
    let fx = check_fixity(pk, prefix, &mut listed, &mut package);
    let (checkpoint, cp) = check_checkpoint(pk, prefix, o);
    verify_records(pk, prefix, o, checkpoint, cp, package, fx.by_record, "eark")
}
