//! `kyso bag verify`: check an exported package with no database and no network, decades
//! later, and say per record what holds and what does not.
//!
//! What is trusted comes from outside the package: the log key (`--log-key`), and optionally
//! trust anchors (`--trust`). Everything else is checked against it:
//! 1. the package: manifests and fixity (every payload file against SHA-256 and SHA-512; no
//!    file missing, none unlisted), the tag manifest, bag-info.txt (Payload-Oxum, and the
//!    fields the log holds), and no file kyso does not write — listed in the manifests or not;
//! 2. the checkpoint's signature with the log key given (and its RFC 3161 time-stamp chain);
//! 3. the export's own log events, each with its inclusion proof to the checkpoint, each part
//!    of the export once: which records the archive exported, and their status events. A
//!    record missing from the package, or one in it that the export event does not name, fails;
//! 4. per record: its ingest and status events' inclusion proofs to the checkpoint, in log
//!    order, the status events exactly those the export event names, `status` what they say; the record
//!    (`metadata.json`) against the SHA-256 its ingest event holds; the document and detached
//!    signature against the record's SHA-256 and SHA-512; the validation data against the
//!    record's digests; and every signature, validated as of the ingest (the time of its log
//!    entry, which the archive dates no earlier than the entry before) with the package's validation data as the only revocation source —
//!    trust anchors given with `--trust`, else the self-signed certificates of the record's
//!    validation data, which the log vouches for through the record's digests;
//! 5. for an E-ARK package, what its descriptive metadata (`tt05-2025.xml`) and PREMIS say,
//!    against the records proved and the payload files as read (archive/src/eark_check.rs).

use crate::bag::sha256_hex;
use crate::checkpoint;
use crate::merkle::{self, Hash};
use crate::model::{Event, Record, Status};
use crate::package::{Package, TarIndex};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Largest tag or metadata file read whole (a record's JSON, a log file, a manifest line).
const MAX_SMALL: u64 = 16 << 20;
/// Largest payload file validated (a document of the archive is at most 64 MiB by default).
const MAX_DOCUMENT: u64 = 1 << 30;
const MAX_LINE: usize = 8192;
/// Most lines one manifest may list, and most bytes: 8 million payload files (about 2 million
/// records; a larger export is several packages, by agency and dates) in 2 GiB. The verifier
/// keeps ~200 bytes and the path per listed file, so a hostile manifest of endless or long
/// lines ends here, with a problem, not in an out-of-memory abort.
pub(crate) const MAX_MANIFEST_LINES: u64 = 8 << 20;
const MAX_MANIFEST_BYTES: u64 = 2 << 30;
/// Malformed lines reported per manifest before reading it stops.
const MAX_MALFORMED: usize = 100;

/// What the verifier is given from outside the package.
#[derive(Default)]
pub struct VerifyOptions {
    /// Log keys (DER SubjectPublicKeyInfo).
    pub log_keys: Vec<Vec<u8>>,
    /// The validity of each log key given as a certificate (its DER SubjectPublicKeyInfo,
    /// notBefore, notAfter): a checkpoint it signed must be first time-stamped within it.
    pub log_key_validity: Vec<(Vec<u8>, SystemTime, SystemTime)>,
    /// Trust anchors for the signatures; none: the self-signed certificates of each record's
    /// validation data.
    pub trust: Vec<kyso_verify::CertRef>,
    /// Trust anchors for the checkpoint's time-stamps (TSA roots); none: the self-signed
    /// certificates in the time-stamp tokens.
    pub tsa_trust: Vec<kyso_verify::CertRef>,
    /// The log the checkpoint must be of (its origin line): one key may sign two logs, and a
    /// package of the other passed on the key alone.
    pub origin: Option<String>,
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
    /// The TSA of each of those time-stamps (its certificate's subject).
    #[serde(skip)]
    pub(crate) tsas: Vec<String>,
    /// The time the first of them claims, when it held.
    #[serde(skip)]
    pub(crate) first_time: Option<SystemTime>,
    pub problems: Vec<Problem>,
    /// What holds only as far as the reader trusts it (no problem: the verdict stands).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Problem>,
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
            package.push(problem(
                "manifest",
                e.clone(),
                vi_detail("không đọc được bản kê", &e),
            ));
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

/// Each chunk of the file `rel` to `f`, in order; its size.
fn read_through(pk: &Package, rel: &str, mut f: impl FnMut(&[u8])) -> Result<u64, String> {
    let (mut r, _) = pk.open_file(rel)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = r
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", pk.shown(rel)))?;
        if k == 0 {
            return Ok(n);
        }
        f(&buf[..k]);
        n += k as u64;
    }
}

/// A file's size and SHA-256 (what the METS files and tag manifest give; no SHA-512, which
/// only payload files need: the metadata files of a large E-ARK package are hundreds of MB).
fn sha256_of(pk: &Package, rel: &str) -> Result<crate::eark::Described, String> {
    let mut a = ring::digest::Context::new(&ring::digest::SHA256);
    let size = read_through(pk, rel, |b| a.update(b))?;
    Ok(crate::eark::Described {
        size,
        sha256: hex::encode(a.finish()),
    })
}

/// SHA-256 and SHA-512 (hex) of a payload file, streamed, and its size.
fn digests(pk: &Package, rel: &str) -> Result<(String, String, u64), String> {
    let mut a = ring::digest::Context::new(&ring::digest::SHA256);
    let mut b = openssl::sha::Sha512::new();
    let n = read_through(pk, rel, |c| {
        a.update(c);
        b.update(c);
    })?;
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
    /// Per record: which of [`RECORD_FILES`] its folder holds (bits).
    seen: HashMap<u64, u8>,
    /// The validation data files present (`<kind>-<sha256>.der`).
    evidence: HashSet<String>,
    bytes: u64,
    files: u64,
}

/// The files kyso writes in a record's folder (a record has one document, named by its media
/// type, and a detached signature only when it has one).
const RECORD_FILES: [&str; 6] = [
    "metadata.json",
    "log.json",
    "document.pdf",
    "document.p7m",
    "document.bin",
    "signature.p7s",
];

/// The files kyso writes in the payload's `log/` folder.
const LOG_FILES: [&str; 4] = [
    "checkpoint.txt",
    "checkpoint.tsr",
    "log-key.pem",
    "export.json",
];

/// What a payload file is, by its path: a file kyso writes, or not.
enum PayloadFile {
    Log,
    /// One of [`RECORD_FILES`] (its bit) in a record's folder.
    Record(u64, u8),
    /// Anything else in a record's folder.
    InRecord(u64),
    /// `evidence/<kind>-<sha256>.der`: its name.
    Evidence(String),
    Other,
}

/// A record id as kyso writes it (decimal, no leading zero).
fn record_id(name: &str) -> Option<u64> {
    name.parse::<u64>().ok().filter(|id| id.to_string() == name)
}

fn payload_file(prefix: &str, path: &str) -> PayloadFile {
    let Some(rest) = path.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) else {
        return PayloadFile::Other;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts[..] {
        ["log", name] if LOG_FILES.contains(&name) => PayloadFile::Log,
        ["records", id, ref more @ ..] if !more.is_empty() => match record_id(id) {
            Some(id) => match (more, RECORD_FILES.iter().position(|f| more == [*f])) {
                (_, Some(i)) => PayloadFile::Record(id, 1 << i),
                _ => PayloadFile::InRecord(id),
            },
            None => PayloadFile::Other,
        },
        ["evidence", name] if evidence_name(name) => PayloadFile::Evidence(name.to_string()),
        _ => PayloadFile::Other,
    }
}

/// `<kind>-<sha256, lowercase hex>.der`, as kyso names validation data.
fn evidence_name(name: &str) -> bool {
    let Some((kind, rest)) = name.split_once('-') else {
        return false;
    };
    let Some(hash) = rest.strip_suffix(".der") else {
        return false;
    };
    ["certificate", "crl", "ocsp"].contains(&kind)
        && hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Every file under `data/` against the manifests, and every manifest entry against a file.
fn check_fixity(
    pk: &Package,
    prefix: &str,
    listed: &mut HashMap<String, Listed>,
    package: &mut Vec<Problem>,
    mut keep: Option<&mut HashMap<String, ([u8; 32], u64)>>,
) -> Fixity {
    let mut fx = Fixity {
        by_record: BTreeMap::new(),
        seen: HashMap::new(),
        evidence: HashSet::new(),
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
        // Only files kyso writes: another one, listed in the manifests or not, is what a
        // reader would take for content the log does not vouch for.
        match payload_file(prefix, &path) {
            PayloadFile::Log => {}
            PayloadFile::Record(id, bit) => *fx.seen.entry(id).or_default() |= bit,
            PayloadFile::Evidence(name) => {
                fx.evidence.insert(name);
            }
            PayloadFile::InRecord(id) => fx.by_record.entry(id).or_default().push(problem(
                "unexpected",
                format!("record {id}: {path} is not a file kyso writes in a record's folder (the record, its log entries, its document, a detached signature): content the log does not vouch for"),
                format!("hồ sơ {id}: {path} không phải tệp kyso ghi trong thư mục hồ sơ (hồ sơ, các mục nhật ký, tài liệu, chữ ký rời): nội dung không được nhật ký xác nhận"),
            )),
            PayloadFile::Other => package.push(problem(
                "unexpected",
                format!("{path} is not a file kyso writes in a package: content the log does not vouch for"),
                format!("{path} không phải tệp kyso ghi trong gói: nội dung không được nhật ký xác nhận"),
            )),
        }
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
                // What PREMIS must say of the file: its SHA-256 and size as read.
                if let (Some(keep), Some(sha)) = (keep.as_deref_mut(), unhex(&s256)) {
                    keep.insert(path.clone(), (sha, n));
                }
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
            Err(e) => report(e.clone(), vi_detail("không đọc được tệp", &e)),
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

/// An event with its inclusion proof, as the package carries it (no other field, none twice:
/// what a reader of the file sees is what was checked).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Proved {
    leaf: u64,
    event: String,
    proof: Vec<String>,
}

/// `log/export.json`, or a record's `log.json` (which has its status too).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogFile {
    tree_size: u64,
    #[serde(default)]
    status: Option<Status>,
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
    let b =
        read_small(pk, rel).map_err(|e| (e.clone(), vi_detail("không đọc được nhật ký", &e)))?;
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
/// A package refused before any check (a tar or zip kyso will not read as it stands: a link, a
/// device, entries other readers would read otherwise, …): a failed report that says why.
pub fn refused(path: &Path, format: &'static str, why: &str) -> BagReport {
    BagReport {
        ok: false,
        path: path.display().to_string(),
        format,
        checkpoint: CheckpointResult::default(),
        package: vec![problem(
            "package",
            format!("the package is refused before any check: {why}"),
            format!("gói bị từ chối trước mọi kiểm tra: {why}"),
        )],
        records: Vec::new(),
        records_ok: 0,
        records_failed: 0,
    }
}

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
        // Exactly what kyso writes: a reader takes the first version line, or another
        // encoding, where kyso would have taken any line.
        Ok(t) if t.lines().map(|l| l.trim_end_matches('\r')).eq(BAGIT_TXT) => {}
        Ok(_) => package.push(problem(
            "bagit",
            "bagit.txt is not the one kyso writes (BagIt-Version: 1.0 and Tag-File-Character-Encoding: UTF-8, nothing else)".into(),
            "bagit.txt không phải tệp kyso ghi (BagIt-Version: 1.0 và Tag-File-Character-Encoding: UTF-8, không gì khác)".into(),
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
        match sha256_of(pk, name) {
            Ok(d) => {
                if l.sha256 != unhex(&d.sha256) {
                    package.push(problem(
                        "tagmanifest",
                        format!("tag file {name} does not match tagmanifest-sha256.txt (edited after export)"),
                        format!("tệp thẻ {name} không khớp tagmanifest-sha256.txt (bị sửa sau khi xuất)"),
                    ));
                }
            }
            Err(e) => package.push(problem(
                "tagmanifest",
                e.clone(),
                vi_detail("không đọc được tệp thẻ", &e),
            )),
        }
    }
    let fx = check_fixity(pk, "data", &mut listed, &mut package, None);
    let renewals = renewals_present(pk, "");
    check_outside(pk, "data", &mut package, &|p| {
        BAG_TAG_FILES.contains(&p) || renewals.contains(p)
    });
    let info = match read_small(pk, "bag-info.txt") {
        Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Err(e) => {
            package.push(problem(
                "bag_info",
                format!("bag-info.txt: {e}"),
                format!("bag-info.txt: {e}"),
            ));
            None
        }
    };
    let (checkpoint, cp) = check_checkpoint(pk, "data", o);
    let info = info.map(|text| BagInfo {
        text,
        oxum: format!("{}.{}", fx.bytes, fx.files),
    });
    verify_records(
        pk,
        "data",
        o,
        checkpoint,
        cp,
        package,
        fx,
        info.as_ref(),
        "bagit",
        None,
    )
}

/// The lines of `bagit.txt` kyso writes.
const BAGIT_TXT: [&str; 2] = ["BagIt-Version: 1.0", "Tag-File-Character-Encoding: UTF-8"];

/// The tag files of a bag kyso writes (and `kyso-renewal-<n>.tsr`, each renewal).
const BAG_TAG_FILES: [&str; 5] = [
    "bagit.txt",
    "bag-info.txt",
    "manifest-sha256.txt",
    "manifest-sha512.txt",
    "tagmanifest-sha256.txt",
];

/// The renewals the time-stamp chain follows (`kyso-renewal-1.tsr`, `-2`, … up to the first
/// missing one) in the folder `dir`, and for an E-ARK package each one's PREMIS file.
fn renewals_present(pk: &Package, dir: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for n in 1..=crate::renew::MAX_RENEWALS {
        let p = join(dir, &crate::renew::renewal_name(n));
        if !pk.exists(&p) {
            break;
        }
        out.insert(p);
        if !dir.is_empty() {
            out.insert(join(dir, &format!("premis-renewal-{n}.xml")));
        }
    }
    out
}

/// Every file outside the payload must be one kyso writes (`allowed`): a `fetch.txt` naming
/// payload elsewhere, a second representation, a note, a renewal the chain does not reach
/// are what a reader sees and nothing vouches for.
fn check_outside(
    pk: &Package,
    payload: &str,
    package: &mut Vec<Problem>,
    allowed: &dyn Fn(&str) -> bool,
) {
    let (files, errors) = pk.files_except(payload);
    for (rel, e) in errors {
        package.push(problem(
            "unexpected",
            format!("{rel}: {e}"),
            format!("{rel}: {e}"),
        ));
    }
    for rel in files {
        if rel == "fetch.txt" {
            package.push(problem(
                "unexpected",
                "fetch.txt: the bag says part of its payload is to be fetched from elsewhere; kyso writes complete bags, and nothing fetched is vouched for".into(),
                "fetch.txt: gói nói một phần dữ liệu phải tải từ nơi khác; kyso chỉ ghi gói đầy đủ, và không gì tải về được xác nhận".into(),
            ));
        } else if rel.strip_suffix(".tmp").is_some_and(|f| {
            let name = f.rsplit('/').next().unwrap_or(f);
            allowed(f) || (name.starts_with("kyso-renewal-") && name.ends_with(".tsr"))
        }) {
            // `bag renew` writes a tag file beside itself, then renames it: one killed between
            // left it, and the package failed with no word of why (helper 163).
            package.push(problem(
                "unexpected",
                format!("{rel} was left by an interrupted `kyso bag renew`: run it again, which removes it"),
                format!("{rel} do lệnh `kyso bag renew` bị ngắt để lại: hãy chạy lại lệnh, lệnh sẽ xóa tệp này"),
            ));
        } else if !allowed(&rel) {
            package.push(problem(
                "unexpected",
                format!("{rel} is not a file kyso writes in a package (nor a renewal the time-stamp chain reaches): content nothing vouches for"),
                format!("{rel} không phải tệp kyso ghi trong gói (cũng không phải lần gia hạn mà chuỗi dấu thời gian dẫn tới): nội dung không được xác nhận"),
            ));
        }
    }
}

/// `bag-info.txt` and the Payload-Oxum of the payload as found.
struct BagInfo {
    text: String,
    oxum: String,
}

/// The fields kyso writes in `bag-info.txt`, each once.
const BAG_INFO_FIELDS: [&str; 9] = [
    "Source-Organization",
    "Bagging-Date",
    "Payload-Oxum",
    "Bag-Count",
    "Bag-Software-Agent",
    "External-Identifier",
    "Internal-Sender-Description",
    "Kyso-Checkpoint-Size",
    "Kyso-Records",
];

/// `bag-info.txt` against what the verified package says: every field kyso writes, once, no
/// other; Payload-Oxum, Bag-Count, the checkpoint's size, the records, the identifier (log
/// origin and export event) and the description (records, user, reason of the export event)
/// as the package and the log give them. Source-Organization and Bagging-Date are the
/// exporter's word (nothing in the log holds them).
fn check_bag_info(info: &BagInfo, want: &[(&str, Option<String>)], package: &mut Vec<Problem>) {
    let pb = |package: &mut Vec<Problem>, en: String, vi: String| {
        package.push(problem("bag_info", en, vi))
    };
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for line in info.text.lines().map(|l| l.trim_end_matches('\r')) {
        let Some((k, v)) = line.split_once(':') else {
            pb(
                package,
                format!("bag-info.txt: line {line:?} is not `Field: value`"),
                format!("bag-info.txt: dòng {line:?} không có dạng `Trường: giá trị`"),
            );
            continue;
        };
        if !BAG_INFO_FIELDS.contains(&k) {
            pb(
                package,
                format!("bag-info.txt: {k} is not a field kyso writes"),
                format!("bag-info.txt: {k} không phải trường kyso ghi"),
            );
        } else if fields.insert(k, v.trim()).is_some() {
            pb(
                package,
                format!("bag-info.txt: {k} is there twice (readers differ on which counts)"),
                format!(
                    "bag-info.txt: {k} xuất hiện hai lần (các chương trình đọc hiểu khác nhau)"
                ),
            );
        }
    }
    let date_like = |v: &str| {
        v.len() == 10
            && v.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    };
    for k in BAG_INFO_FIELDS {
        let Some(v) = fields.get(k) else {
            pb(
                package,
                format!("bag-info.txt has no {k}"),
                format!("bag-info.txt không có {k}"),
            );
            continue;
        };
        if k == "Payload-Oxum" && *v != info.oxum {
            package.push(problem(
                "oxum",
                format!("Payload-Oxum says {v}; the payload is {}", info.oxum),
                format!("Payload-Oxum ghi {v}; phần dữ liệu là {}", info.oxum),
            ));
            continue;
        }
        let expected = match k {
            "Bag-Count" => Some("1 of 1".to_string()),
            "Bagging-Date" if !date_like(v) => Some("a date (YYYY-MM-DD)".into()),
            "Bag-Software-Agent" if !v.starts_with("kyso ") => Some("kyso <version>".into()),
            _ => want
                .iter()
                .find(|(w, _)| *w == k)
                .and_then(|(_, x)| x.clone()),
        };
        if let Some(e) = expected {
            if *v != e {
                pb(
                    package,
                    format!("bag-info.txt: {k} says {v:?}; the package and its log say {e:?}"),
                    format!("bag-info.txt: {k} ghi {v:?}; gói và nhật ký của gói cho biết {e:?}"),
                );
            }
        }
    }
}

type Anchor = Option<(u64, Hash)>;

/// The checkpoint's signature with the log keys given, and its time-stamps.
fn check_checkpoint(pk: &Package, data: &str, o: &VerifyOptions) -> (CheckpointResult, Anchor) {
    let mut r = CheckpointResult::default();
    let note = match read_small(pk, &join(data, "log/checkpoint.txt")) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            r.problems.push(problem(
                "checkpoint",
                e.clone(),
                vi_detail("không đọc được điểm kiểm tra", &e),
            ));
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
    if let Some(want) = o.origin.as_ref().filter(|w| **w != n.checkpoint.origin) {
        r.problems.push(problem(
            "checkpoint",
            format!(
                "the checkpoint is of the log {:?}, not {want:?} (--origin)",
                n.checkpoint.origin
            ),
            format!(
                "điểm kiểm tra thuộc nhật ký {:?}, không phải {want:?} (--origin)",
                n.checkpoint.origin
            ),
        ));
        return (r, None);
    }
    if o.log_keys.is_empty() {
        r.problems.push(problem(
            "checkpoint",
            "no log key given (--log-key): the checkpoint cannot be trusted".into(),
            "chưa cho khóa nhật ký (--log-key): không thể tin điểm kiểm tra".into(),
        ));
        return (r, None);
    }
    let signed_by = match n.verify_any(&o.log_keys) {
        Ok(id) => {
            r.key_id = Some(hex::encode(id));
            // The public key the package carries for its reader must be the one that signed.
            let carried = read_small(pk, &join(data, "log/log-key.pem"))
                .and_then(|b| checkpoint::public_key_der(&b));
            let signer = o.log_keys.iter().find(|k| checkpoint::key_id_der(k) == id);
            if carried.as_ref().ok() != signer {
                let (en, vi) = match carried {
                    Err(e) => (e.clone(), vi_detail("không đọc được khóa", &e)),
                    Ok(_) => ("another key".to_string(), "khóa khác".to_string()),
                };
                r.problems.push(problem(
                    "checkpoint",
                    format!("log/log-key.pem is not the log key that signed the checkpoint ({en})"),
                    format!("log/log-key.pem không phải khóa nhật ký đã ký điểm kiểm tra ({vi})"),
                ));
            }
            id
        }
        Err(e) => {
            r.problems.push(problem(
                "checkpoint",
                format!("the checkpoint's signature: {e} (a swapped or re-signed checkpoint)"),
                vi_detail(
                    "chữ ký của điểm kiểm tra không đúng: điểm kiểm tra bị thay hoặc ký lại",
                    &e.to_string(),
                ),
            ));
            return (r, None);
        }
    };
    crate::renew::check_chain(pk, data, note.as_bytes(), o, &mut r);
    // Without --trust, a record's signatures are judged against the roots it carries: what a
    // PASSED then says is said (helper 178: "ĐẠT … HỢP LỆ" read as vouched for by a root the
    // reader trusts).
    if o.trust.is_empty() {
        r.notes.push(Problem {
            kind: "trust",
            en: "the records' signatures are judged against the self-signed roots the package carries (no --trust) and the validation data gathered at ingest: PASSED only means the package holds what the archive kept and judged, not that a root the verifier trusts vouches for the signers; name the national root with --trust".into(),
            vi: "chữ ký của các hồ sơ được đánh giá theo chứng thư gốc tự ký có sẵn trong gói (không có --trust) và dữ liệu xác minh thu thập lúc tiếp nhận: ĐẠT chỉ có nghĩa là gói giữ đúng những gì kho đã lưu và đã đánh giá, chứ không có nghĩa là người ký được bảo đảm bởi một chứng thư gốc mà người xác minh tin cậy; hãy chỉ định chứng thư gốc quốc gia bằng tùy chọn --trust".into(),
        });
    }
    // A key used past its certificate's time — retired, or stolen after — signs a forged
    // archive's checkpoint, and a TSA then dates it truly: the first time-stamp says when the
    // checkpoint existed, which must be while its key was valid (helper 163: a checkpoint
    // first time-stamped in 2031 by a key whose certificate expired in 2029 passed).
    // Within any certificate given for the key (a renewed certificate beside the old one
    // made every package of one period fail; helper 165), a minute either side for the TSA's
    // clock.
    let slack = std::time::Duration::from_secs(60);
    let windows: Vec<_> = o
        .log_key_validity
        .iter()
        .filter(|(k, ..)| checkpoint::key_id_der(k) == signed_by)
        .collect();
    if let Some(t) = r.first_time {
        let within = |(_, from, to): &&(Vec<u8>, SystemTime, SystemTime)| {
            t + slack >= *from && t <= *to + slack
        };
        if !windows.is_empty() && !windows.iter().any(within) {
            let spans: Vec<String> = windows
                .iter()
                .map(|(_, from, to)| {
                    format!(
                        "{} to {}",
                        kyso_verify::rfc3339(*from),
                        kyso_verify::rfc3339(*to)
                    )
                })
                .collect();
            let (t, spans) = (kyso_verify::rfc3339(t), spans.join("; "));
            r.problems.push(problem(
                "checkpoint",
                format!("the checkpoint was first time-stamped at {t}, outside the validity of the log key's certificate ({spans}): a key used past its time signed it"),
                format!("điểm kiểm tra được đóng dấu thời gian lần đầu lúc {t}, ngoài thời hạn của chứng thư khóa nhật ký ({}): khóa đã được dùng quá thời hạn để ký", spans.replace(" to ", " đến ")),
            ));
        }
    }
    r.ok = r.problems.is_empty();
    (r, Some((n.checkpoint.size, n.checkpoint.root)))
}

#[allow(clippy::too_many_arguments)]
fn verify_records(
    pk: &Package,
    data: &str,
    o: &VerifyOptions,
    checkpoint: CheckpointResult,
    anchor: Anchor,
    mut package: Vec<Problem>,
    fx: Fixity,
    info: Option<&BagInfo>,
    format: &'static str,
    mut known: Option<&mut crate::eark_check::Known>,
) -> BagReport {
    let Fixity {
        by_record: mut file_problems,
        seen,
        evidence,
        ..
    } = fx;
    // Which records the archive exported: the export events, proved to the checkpoint.
    let mut named: Option<BTreeSet<u64>> = None;
    // The first export event: its log index, user and reason.
    let mut first: Option<(u64, String, Option<String>)> = None;
    // The status events the export events name, per record; the records named by an export
    // event kyso logged before they named them (nothing to hold their log.json to).
    let mut bound: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut unbound: BTreeSet<u64> = BTreeSet::new();
    // Each event's `[part, of]`, when it says, and what makes its parts one export's.
    let mut parts: Vec<Part> = Vec::new();
    if let Some((size, cproot)) = anchor {
        match read_log(pk, &join(data, "log/export.json"), size) {
            Ok(l) => {
                let mut set = BTreeSet::new();
                for p in &l.events {
                    match included(p, size, &cproot) {
                        Ok(Event::Export {
                            records,
                            user,
                            reason,
                            status_events,
                            status_upto,
                            part,
                            format: exported_as,
                            ..
                        }) => {
                            if exported_as != format {
                                package.push(problem(
                                    "export",
                                    format!("log entry {} exported records as {exported_as:?}; this package is {format:?} (another export's event)", p.leaf),
                                    format!("mục nhật ký {} xuất hồ sơ dạng {exported_as:?}; gói này là {format:?} (sự kiện của lần xuất khác)", p.leaf),
                                ));
                            }
                            match status_events {
                                Some(s) => {
                                    for [record, at] in s {
                                        bound.entry(record).or_default().push(at);
                                    }
                                }
                                None => unbound.extend(records.iter().copied()),
                            }
                            parts.push(Part {
                                leaf: p.leaf,
                                part,
                                status_upto,
                                user: user.clone(),
                                reason: reason.clone(),
                                records: records.first().copied().zip(records.last().copied()),
                            });
                            set.extend(records);
                            if first.is_none() {
                                if let Some(k) = known.as_deref_mut() {
                                    k.export = Some((user.clone(), reason.clone()));
                                }
                            }
                            first.get_or_insert((p.leaf, user, reason));
                        }
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
                check_parts(&parts, &mut package);
                // The checkpoint is the one the export signed: the log as its last export
                // event left it. An older export's event proved to a newer checkpoint would
                // hold the records to statuses that later events (a revocation) changed.
                if let Some(last) = l.events.iter().map(|p| p.leaf).max() {
                    if last.checked_add(1) != Some(size) {
                        package.push(problem(
                            "export",
                            format!("the checkpoint is of {size} log entries, but this package's last export event is entry {last}: an export signs the log as its export events leave it (another export's event, or another checkpoint)"),
                            format!("điểm kiểm tra gồm {size} mục nhật ký, nhưng sự kiện xuất cuối của gói là mục {last}: lần xuất ký nhật ký đúng như các sự kiện xuất để lại (sự kiện của lần xuất khác, hoặc điểm kiểm tra khác)"),
                        ));
                    }
                }
                if l.status.is_some() {
                    package.push(problem(
                        "export",
                        "log/export.json has a status, which kyso does not write there".into(),
                        "log/export.json có trường trạng thái, kyso không ghi trường này ở đó"
                            .into(),
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
    if let Some(info) = info {
        let one_line = |s: &str| s.replace(['\r', '\n'], " ");
        let records = named.as_ref().map(|n| n.len());
        let want = [
            (
                "External-Identifier",
                checkpoint
                    .origin
                    .as_ref()
                    .zip(first.as_ref())
                    .map(|(o, (leaf, _, _))| format!("{} export at log entry {leaf}", one_line(o))),
            ),
            (
                "Internal-Sender-Description",
                records.zip(first.as_ref()).and_then(|(n, (_, user, reason))| {
                    reason.as_ref().map(|r| {
                        format!(
                            "{n} records exported by {} ({}); each verifies offline with `kyso bag verify`",
                            one_line(user),
                            one_line(r)
                        )
                    })
                }),
            ),
            (
                "Kyso-Checkpoint-Size",
                anchor.map(|(size, _)| size.to_string()),
            ),
            ("Kyso-Records", records.map(|n| n.to_string())),
        ];
        check_bag_info(info, &want, &mut package);
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
    // For an E-ARK package: per record what its metadata files must say (when its
    // metadata.json is proved), and the aggregates of the descriptive file.
    let want_facts = known.is_some();
    let mut bounds: Vec<Option<crate::eark_check::Bound>> = if want_facts {
        vec![None; results.len()]
    } else {
        Vec::new()
    };
    type Agg = crate::eark_check::Aggregates;
    let (referenced, agg) = {
        use rayon::prelude::*;
        let named = &named;
        let present = &present;
        let seen = &seen;
        let (bound, unbound) = (&bound, &unbound);
        let mut none = Vec::new();
        let slots: Vec<&mut Option<crate::eark_check::Bound>> = if want_facts {
            bounds.iter_mut().collect()
        } else {
            none.resize_with(results.len(), || None);
            none.iter_mut().collect()
        };
        results.par_iter_mut().zip(slots).map(|(r, slot)| {
            let mut refs = Vec::new();
            let mut agg = Agg::default();
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
                let files = seen.get(&id).copied().unwrap_or_default();
                // The status events the package must hold for the record: those its export
                // event names (none named: none).
                let statuses = (named.is_some() && !unbound.contains(&id)).then(|| {
                    let mut v = bound.get(&id).cloned().unwrap_or_default();
                    v.sort_unstable();
                    v
                });
                let facts;
                (refs, facts) = check_record(pk, data, id, anchor, o, files, statuses, want_facts, r);
                if let Some(f) = facts {
                    *slot = Some(crate::eark_check::Bound::of(&f));
                    agg.add(&f);
                }
            }
            if anchor.is_none() {
                r.problems.push(problem(
                    "checkpoint",
                    format!("record {id}: its log entries cannot be proved: the package's checkpoint does not hold"),
                    format!("hồ sơ {id}: không chứng minh được các mục nhật ký: điểm kiểm tra của gói không đạt"),
                ));
            }
            r.ok = r.problems.is_empty();
            (refs, agg)
        })
        .fold(|| (HashSet::new(), Agg::default()), |(mut a, g), (refs, agg)| {
            a.extend(refs);
            (a, g.merge(agg))
        })
        .reduce(|| (HashSet::new(), Agg::default()), |(mut a, g), (b, h)| {
            a.extend(b);
            (a, g.merge(h))
        })
    };
    if let Some(k) = known {
        k.bound = bounds;
        k.agg = agg;
    }
    // Validation data no record of the package names: a certificate a reader would take for
    // evidence, which no record's digests (and so no log entry) vouch for.
    let mut unnamed: Vec<&String> = evidence.difference(&referenced).collect();
    unnamed.sort();
    for name in unnamed {
        let path = join(data, &format!("evidence/{name}"));
        package.push(problem(
            "unexpected",
            format!("{path} is validation data no record of the package names (nothing vouches for it)"),
            format!("{path} là dữ liệu xác thực không hồ sơ nào trong gói nêu tên (không gì xác nhận nó)"),
        ));
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

/// The export events of `log/export.json` are the parts of one export, each once: a part
/// left out, with its records, is seen (`[part, of]` of each event, by log index; events kyso
/// logged before they said have none).
/// An export event of a package, as [`check_parts`] holds it to the others.
#[derive(Clone, Debug, Default)]
struct Part {
    leaf: u64,
    part: Option<[u64; 2]>,
    status_upto: Option<u64>,
    user: String,
    reason: Option<String>,
    /// Its first and last record (kyso names them ascending).
    records: Option<(u64, u64)>,
}

/// The export events of a package are the parts of one export, each once: logged in order
/// (part i before part i + 1), after the pass over the log they name status events up to
/// (`status_upto`, the same for all), by one user for one reason, naming ascending records.
/// Each part alone proves only that it is some export's: a part of an earlier export of the
/// same records, whose statuses were read before a revocation, put in place of the later
/// export's own had a revoked record verify as valid (found by an insider's reading,
/// 2026-12-03).
fn check_parts(parts: &[Part], package: &mut Vec<Problem>) {
    if parts.iter().all(|p| p.part.is_none()) {
        return;
    }
    let of = parts
        .iter()
        .find_map(|p| p.part.map(|[_, n]| n))
        .unwrap_or(0);
    let mut got = BTreeSet::new();
    let mut ok = true;
    for Part { leaf, part: p, .. } in parts {
        match p {
            Some([i, n]) if *n == of && (1..=of).contains(i) && got.insert(*i) => {}
            _ => {
                ok = false;
                package.push(problem(
                    "export",
                    format!("log/export.json: log entry {leaf} is not one more part of the export whose events are there ({p:?}; of {of} parts)"),
                    format!("log/export.json: mục nhật ký {leaf} không phải một phần khác của lần xuất có các sự kiện trong gói ({p:?}; trong {of} phần)"),
                ));
            }
        }
    }
    if !ok {
        return;
    }
    if got.len() as u64 != of {
        let missing: Vec<u64> = (1..=of).filter(|i| !got.contains(i)).collect();
        package.push(problem(
            "export",
            format!("log/export.json lacks part(s) {missing:?} of the export's {of} export events: records it exported may be missing from the package, unnamed"),
            format!("log/export.json thiếu phần {missing:?} trong {of} sự kiện xuất: các hồ sơ đã xuất có thể bị thiếu khỏi gói mà không được nêu tên"),
        ));
    }
    let mut by_part = parts.to_vec();
    by_part.sort_by_key(|p| p.part.map(|[i, _]| i));
    let first = &by_part[0];
    for (a, b) in by_part.iter().zip(by_part.iter().skip(1)) {
        let mut differs = Vec::new();
        if b.status_upto != first.status_upto {
            differs.push(format!(
                "the log it read statuses from ({:?} entries, part 1 {:?})",
                b.status_upto, first.status_upto
            ));
        }
        if b.user != first.user {
            differs.push("the user".to_string());
        }
        if b.reason != first.reason {
            differs.push("the reason".to_string());
        }
        if b.leaf <= a.leaf {
            differs.push(format!(
                "its place in the log (entry {}, before part {:?} at entry {})",
                b.leaf,
                a.part.map(|[i, _]| i),
                a.leaf
            ));
        }
        if let (Some((_, a_last)), Some((b_first, _))) = (a.records, b.records) {
            if b_first <= a_last {
                differs.push(format!(
                    "its records (from {b_first}, not after part {:?}'s last, {a_last})",
                    a.part.map(|[i, _]| i)
                ));
            }
        }
        if !differs.is_empty() {
            package.push(problem(
                "export",
                format!(
                    "log/export.json: log entry {} (part {:?}) is another export's than part 1 (entry {}): {} — parts of two exports mixed",
                    b.leaf,
                    b.part.map(|[i, _]| i),
                    first.leaf,
                    differs.join(", ")
                ),
                format!(
                    "log/export.json: mục nhật ký {} (phần {:?}) thuộc lần xuất khác với phần 1 (mục {}): {} — trộn các phần của hai lần xuất",
                    b.leaf,
                    b.part.map(|[i, _]| i),
                    first.leaf,
                    differs.join(", ")
                ),
            ));
        }
    }
    for p in &by_part {
        if p.status_upto.is_some_and(|u| p.leaf < u) {
            package.push(problem(
                "export",
                format!("log/export.json: log entry {} says its export read the statuses of the log's first {:?} entries, which it is among: it was not logged after that read", p.leaf, p.status_upto),
                format!("log/export.json: mục nhật ký {} nói lần xuất đã đọc trạng thái trong {:?} mục đầu của nhật ký, gồm cả chính nó: nó không được ghi sau lần đọc đó", p.leaf, p.status_upto),
            ));
        }
    }
}

/// Check one record; the validation data files it names (`<kind>-<sha256>.der`). `files`:
/// which of [`RECORD_FILES`] its folder holds; `statuses`: the log indexes of the status
/// events its export event names (ascending), which its `log.json` must hold, no more.
#[allow(clippy::too_many_arguments)]
fn check_record(
    pk: &Package,
    data: &str,
    id: u64,
    anchor: Anchor,
    o: &VerifyOptions,
    files: u8,
    statuses: Option<Vec<u64>>,
    want_facts: bool,
    r: &mut RecordResult,
) -> (Vec<String>, Option<crate::eark::Facts>) {
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
        Err(e) => {
            fail(
                r,
                "record",
                e.clone(),
                vi_detail("không đọc được metadata.json", &e),
            );
            return (Vec::new(), None);
        }
    };
    let rec: Record = match serde_json::from_slice(&json) {
        Ok(rec) => rec,
        Err(e) => {
            fail(
                r,
                "record",
                format!("metadata.json is not a record: {e}"),
                format!("metadata.json không phải hồ sơ: {e}"),
            );
            return (Vec::new(), None);
        }
    };
    r.code = Some(rec.code.clone());
    let refs: Vec<String> = rec
        .validation_data
        .iter()
        .flat_map(|vd| vd.blobs().map(|(k, b)| format!("{k}-{}.der", b.sha256)))
        .collect();
    // Only the files kyso writes for this record: one document, named by its media type, and
    // a detached signature only when the record has one (a second document, or a signature
    // file beside a record that has none, is what a reader would open instead).
    let bit = |name: &str| {
        RECORD_FILES
            .iter()
            .position(|f| *f == name)
            .map_or(0u8, |i| 1 << i)
    };
    let mut expected =
        bit("metadata.json") | bit("log.json") | bit(crate::bag::document_name(&rec.media_type));
    if rec.detached_signature.is_some() {
        expected |= bit("signature.p7s");
    }
    for (i, name) in RECORD_FILES.iter().enumerate() {
        if files & !expected & (1 << i) != 0 {
            let path = join(&dir, name);
            fail(
                r,
                "unexpected",
                format!("{path} is not a file of this record (its document is {}{}): content the log does not vouch for", crate::bag::document_name(&rec.media_type), if rec.detached_signature.is_some() { ", with signature.p7s" } else { ", with no detached signature" }),
                format!("{path} không phải tệp của hồ sơ này (tài liệu của hồ sơ là {}{}): nội dung không được nhật ký xác nhận", crate::bag::document_name(&rec.media_type), if rec.detached_signature.is_some() { ", kèm signature.p7s" } else { ", không có chữ ký rời" }),
            );
        }
    }
    if rec.id != id {
        fail(
            r,
            "record",
            format!("metadata.json is of record {}", rec.id),
            format!("metadata.json là của hồ sơ {}", rec.id),
        );
    }
    // The log: the ingest event binds the record's bytes; status events give its status.
    let mut proved = false;
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
                let mut status_leaves = Vec::new();
                let mut prev: Option<u64> = None;
                for p in &l.events {
                    // In log order: the status read last is the latest one.
                    if prev.is_some_and(|x| p.leaf <= x) {
                        log_ok = false;
                        fail(
                            r,
                            "log",
                            format!("log.json's entries are not in log order (entry {} after {}): the status read last would not be the latest", p.leaf, prev.unwrap_or_default()),
                            format!("các mục của log.json không theo thứ tự nhật ký (mục {} sau {}): trạng thái đọc sau cùng sẽ không phải trạng thái mới nhất", p.leaf, prev.unwrap_or_default()),
                        );
                    }
                    prev = Some(p.leaf);
                    match included(p, size, &root) {
                        Err(e) => {
                            log_ok = false;
                            fail(
                                r,
                                "inclusion",
                                e.clone(),
                                vi_detail("bằng chứng thuộc nhật ký không đúng", &e),
                            );
                        }
                        Ok(Event::Ingest {
                            record,
                            code,
                            content_sha256,
                            record_sha256,
                            time,
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
                            } else if time != rec.ingest_time {
                                // The signatures are judged as of the log entry's time.
                                log_ok = false;
                                fail(
                                    r,
                                    "record",
                                    format!("metadata.json dates the ingest {}, its log entry {time}", rec.ingest_time),
                                    format!("metadata.json ghi thời điểm lưu trữ {}, mục nhật ký ghi {time}", rec.ingest_time),
                                );
                            } else {
                                ingest_ok = true;
                                proved = true;
                            }
                        }
                        Ok(Event::Status {
                            record, status: s, ..
                        }) if record == id => {
                            status_leaves.push(p.leaf);
                            status = s;
                        }
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
                // Exactly the status events the export event names: one left out (a
                // revocation) would have the record read as valid.
                if let Some(want) = &statuses {
                    status_leaves.sort_unstable();
                    if *want != status_leaves {
                        log_ok = false;
                        fail(
                            r,
                            "status",
                            format!("the export event names its status events at log entries {want:?}; log.json holds {status_leaves:?} (a status change left out of the package, or added)"),
                            format!("sự kiện xuất nêu các sự kiện trạng thái của hồ sơ tại mục nhật ký {want:?}; log.json có {status_leaves:?} (một thay đổi trạng thái bị bỏ khỏi gói, hoặc bị thêm)"),
                        );
                    }
                }
                match &l.status {
                    Some(said) if *said == status => {}
                    said => {
                        log_ok = false;
                        let said = said.as_ref().map_or("nothing", Status::name);
                        fail(
                            r,
                            "status",
                            format!("log.json says its status is {said}; its status events say {}", status.name()),
                            format!("log.json ghi trạng thái {said}; các sự kiện trạng thái cho biết {}", status.name()),
                        );
                    }
                }
                if ingest_ok && log_ok {
                    r.held.push("log");
                }
                r.status = Some(status.name().into());
            }
        }
    }
    // What the E-ARK metadata files must say of it: only of a record the log proves.
    let facts = (want_facts && proved && rec.id == id).then(|| crate::eark::Facts::of(&rec));
    // Sizes and digests come from metadata.json, which only the log vouches for: a record it
    // does not prove has its files left unread (a forged metadata.json could name a 1 GiB
    // document per record, read whole on every thread at once).
    if !proved {
        fail(
            r,
            "document",
            "its document, signature and validation data were not read: the log does not prove the record".into(),
            "tài liệu, chữ ký và dữ liệu xác thực không được đọc: nhật ký không chứng minh hồ sơ".into(),
        );
        return (refs, facts);
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
        return (refs, facts);
    };
    r.held.push("document");
    // The signatures, as of the ingest: the time its log entry holds, which the archive
    // dates no earlier than the entry before it (the audit checks it) — not the validation time
    // the record states beside it, which nothing bounds: an insider's record "validated" in
    // 2025, appended in 2026 and signed into the log, passed a signature expired in between
    // (helper 201).
    // (Not capped by the checkpoint's first time-stamp: by default the appliance's own TSA
    // signs it, and an export run with the clock set back dated it before the entries it
    // covers, flipping an expired signer to PASSED and an honest one to failed; helper 204.)
    if let Some(t) = kyso_verify::dates::parse_rfc3339(&rec.ingest_time) {
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
    if let Some(held) = signatures_hold(&ind, &at_ingest, rec.kept_unverified.is_some()) {
        r.held.push(held);
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
    (refs, facts)
}

/// What a record's signatures, validated again from the package, hold: passed; or, for a
/// record the archive kept unverified (with a reason, logged), not passed now either. The
/// verdict itself may differ from the one at ingest — a later verifier names the same
/// failure otherwise (a detached signature kept without its content was TOTAL-FAILED, "content
/// changed", before 2026-12-02 and is INDETERMINATE, "content not given", since) — and a
/// package read decades on meets a verifier years newer than the one that ingested it.
/// None: the signatures fail.
fn signatures_hold(now: &str, at_ingest: &str, kept_unverified: bool) -> Option<&'static str> {
    match (now, kept_unverified) {
        ("TOTAL-PASSED", _) => Some("signatures"),
        (_, true) if now == at_ingest => Some("signatures (kept unverified at ingest, as then)"),
        (_, true) if at_ingest != "TOTAL-PASSED" => {
            Some("signatures (kept unverified at ingest; judged otherwise now, still not passed)")
        }
        _ => None,
    }
}

fn vi_blob(en: &str) -> String {
    let sizes = en
        .strip_prefix("is ")
        .and_then(|r| r.split_once(" bytes; the record says "));
    if en.starts_with("does not match") {
        "không khớp SHA-256 và SHA-512 ghi trong hồ sơ (nhật ký giữ các mã này)".into()
    } else if let Some((len, size)) = sizes {
        format!("có {len} byte; hồ sơ ghi {size} byte")
    } else {
        vi_detail("không đọc được", en)
    }
}

/// A Vietnamese sentence with the English detail it rests on (a reader, a parser, the
/// operating system), named as such: the Vietnamese report printed those alone (helper 138,
/// 2026-12-05).
fn vi_detail(lead: &str, en: &str) -> String {
    format!("{lead} (chi tiết, tiếng Anh: {en})")
}

/// A record's verdict and status in Vietnamese, for the text report's record line.
fn vi_state(indication: &str, status: &str) -> String {
    let verdict = match indication {
        "TOTAL-PASSED" | "TOTAL-FAILED" | "INDETERMINATE" | "NO_SIGNATURE" => {
            kyso_verify::i18n::tr(
                &format!("verdict.{indication}"),
                kyso_verify::report::Lang::Vi,
            )
            .to_string()
        }
        other => other.to_string(),
    };
    let status = match status {
        "valid" => "còn hiệu lực",
        "superseded" => "đã được thay thế",
        "revoked" => "đã bị thu hồi",
        "expired" => "đã hết hiệu lực",
        other => other,
    };
    format!("chữ ký: {verdict} ({indication}); hồ sơ: {status}")
}

/// The text summary, in Vietnamese or English.
pub fn text(r: &BagReport, vi: bool) -> String {
    // Names and messages come from the package (file names, a checkpoint's origin, a record's
    // code): their control, bidirectional and zero-width characters are shown as escapes — a
    // file named with `ESC[2J` and a fake "ĐẠT" report cleared the terminal and printed that
    // report (found by an attacker's reading, 2026-12-02).
    use kyso_verify::report::{shown, MAX_SHOWN_MESSAGE, MAX_SHOWN_VALUE};
    let pick = |p: &Problem| shown(if vi { &p.vi } else { &p.en }, MAX_SHOWN_MESSAGE).into_owned();
    let value = |v: &str| shown(v, MAX_SHOWN_VALUE).into_owned();
    let mut s = String::new();
    let (ok, bad) = if vi {
        ("ĐẠT", "KHÔNG ĐẠT")
    } else {
        ("PASSED", "FAILED")
    };
    let verdict = format!(
        "{}: {} ({}) — {}\n",
        if vi { "Gói" } else { "Package" },
        value(&r.path),
        value(r.format),
        if r.ok { ok } else { bad }
    );
    s.push_str(&verdict);
    let c = &r.checkpoint;
    s.push_str(&format!(
        "{}: {} {} {} {}\n",
        if vi {
            "Điểm kiểm tra"
        } else {
            "Checkpoint"
        },
        value(c.origin.as_deref().unwrap_or("?")),
        // The tree size, named; the time-stamps in Vietnam's time as `kyso verify` shows
        // times (helper 138: a bare "2" and raw UTC).
        c.size
            .map(|x| if vi {
                format!("({x} mục)")
            } else {
                format!("({x} entries)")
            })
            .unwrap_or_default(),
        if c.ok { ok } else { bad },
        c.timestamps
            .iter()
            .map(|t| format!(
                "[{} {}]",
                if vi {
                    "dấu thời gian"
                } else {
                    "time-stamp"
                },
                value(&kyso_verify::i18n::display_time(
                    t,
                    if vi {
                        kyso_verify::report::Lang::Vi
                    } else {
                        kyso_verify::report::Lang::En
                    }
                ))
            ))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    for p in c.problems.iter().chain(&r.package) {
        s.push_str(&format!("  ! {}\n", pick(p)));
    }
    for p in &c.notes {
        s.push_str(&format!("  - {}\n", pick(p)));
    }
    for rec in &r.records {
        s.push_str(&format!(
            "{} {} {} {}{}\n",
            if vi { "Hồ sơ" } else { "Record" },
            rec.id,
            value(rec.code.as_deref().unwrap_or("?")),
            if rec.ok { ok } else { bad },
            rec.indication
                .as_ref()
                .map(|i| {
                    let status = rec.status.as_deref().unwrap_or("?");
                    match vi {
                        true => format!(" ({})", value(&vi_state(i, status))),
                        false => format!(" ({}, {})", value(i), value(status)),
                    }
                })
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
    // The verdict again, last: no line of the package's text can be the last one read.
    s.push_str(&verdict);
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
/// manifest in metadata/preservation, then everything a bag gets, and what tt05-2025.xml,
/// premis.xml, the root METS and each renewal's PREMIS file say against the records, files and
/// time-stamps verified (archive/src/eark_check.rs).
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
        package.push(pb(e.clone(), vi_detail("không đọc được METS", &e)));
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
    // Each file's size and SHA-256 as read, for the root METS made again.
    let mut described: HashMap<String, crate::eark::Described> = HashMap::new();
    for (href, sum) in &referenced {
        // A file the METS names twice (a forger may name a large one thousands of times) is
        // read once.
        let d = match described.get(href) {
            Some(d) => Ok(d.clone()),
            None => sha256_of(pk, href),
        };
        match d {
            Ok(d) => {
                if d.sha256 != *sum {
                    package.push(pb(
                        format!("{href} does not match the checksum the root METS gives it"),
                        format!("{href} không khớp mã băm ghi trong METS gốc"),
                    ));
                }
                described.insert(href.clone(), d);
            }
            Err(e) => package.push(pb(
                format!("{href}, which the root METS references: {e}"),
                format!("{href}, được METS gốc tham chiếu: {e}"),
            )),
        }
    }
    let rep_mets = "representations/rep1/METS.xml";
    let actual = sha256_of(pk, rep_mets).ok().map(|d| {
        let sha256 = d.sha256.clone();
        described.insert(rep_mets.to_string(), d);
        sha256
    });
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
        package.push(pb(e.clone(), vi_detail("không đọc được METS", &e)));
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
    // The payload files as read, for PREMIS's objects: checked as soon as the files are
    // read, the map dropped before the records are.
    let mut files = HashMap::new();
    let fx = check_fixity(pk, prefix, &mut listed, &mut package, Some(&mut files));
    let mut findings = crate::eark_check::Findings::default();
    let premis = crate::eark_check::check_premis_objects(pk, files, &mut findings);
    let renewals = renewals_present(pk, pres);
    check_outside(pk, prefix, &mut package, &|p| {
        // What kyso writes outside the payload: the root METS, the files it references, and
        // each renewal's time-stamp and PREMIS file.
        p == "METS.xml" || crate::eark::ROOT_REFERENCED.contains(&p) || renewals.contains(p)
    });
    let (checkpoint, cp) = check_checkpoint(pk, prefix, o);
    let mut known = crate::eark_check::Known::default();
    let mut report = verify_records(
        pk,
        prefix,
        o,
        checkpoint,
        cp,
        package,
        fx,
        None,
        "eark",
        Some(&mut known),
    );
    // What tt05-2025.xml and premis.xml say, against the records just verified: the two
    // files read at once, each on a core.
    let ids: Vec<u64> = report.records.iter().map(|r| r.id).collect();
    let mut descriptive = crate::eark_check::Findings::default();
    std::thread::scope(|s| {
        s.spawn(|| crate::eark_check::check_descriptive(pk, &ids, &known, &mut descriptive));
        if let Some(rest) = premis {
            crate::eark_check::check_premis_events(pk, rest, &ids, &known, &mut findings);
        }
    });
    // tt05-2025.xml's findings first, then PREMIS's, then the root METS's.
    descriptive.extend(findings);
    let mut findings = descriptive;
    let mut described = |rel: &str| match described.get(rel) {
        Some(d) => Some(d.clone()),
        None => sha256_of(pk, rel).ok(),
    };
    crate::eark_check::check_root_mets(
        pk,
        ids.len() as u64,
        &mut described,
        &report.checkpoint,
        &mut findings,
    );
    findings.apply(&mut report);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_of_a_record_kept_unverified_hold_while_they_do_not_pass() {
        assert_eq!(
            signatures_hold("TOTAL-PASSED", "TOTAL-PASSED", false),
            Some("signatures")
        );
        assert!(signatures_hold("INDETERMINATE", "INDETERMINATE", true).is_some());
        // A verdict named otherwise by a newer verifier: still kept, still not passed.
        assert_eq!(
            signatures_hold("INDETERMINATE", "TOTAL-FAILED", true),
            Some("signatures (kept unverified at ingest; judged otherwise now, still not passed)")
        );
        // Verified at ingest, failing now; or never kept unverified: the signatures fail.
        assert_eq!(signatures_hold("TOTAL-FAILED", "TOTAL-PASSED", true), None);
        assert_eq!(
            signatures_hold("INDETERMINATE", "INDETERMINATE", false),
            None
        );
        assert_eq!(signatures_hold("TOTAL-FAILED", "TOTAL-PASSED", false), None);
    }

    fn said(parts: &[(u64, Option<[u64; 2]>)]) -> String {
        let parts: Vec<Part> = parts
            .iter()
            .map(|&(leaf, part)| Part {
                leaf,
                part,
                ..Part::default()
            })
            .collect();
        said_of(&parts)
    }

    fn said_of(parts: &[Part]) -> String {
        let mut p = Vec::new();
        check_parts(parts, &mut p);
        p.iter()
            .map(|x| x.en.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The export events of a package are the parts of one export, each once: a part left
    /// out with its records (an export of more than 100,000 records has several) is named.
    #[test]
    fn an_export_event_left_out_of_a_package_is_named() {
        assert_eq!(said(&[(7, Some([1, 2])), (8, Some([2, 2]))]), "");
        assert_eq!(said(&[(7, None), (8, None)]), "");
        assert!(said(&[(7, Some([1, 2]))]).contains("lacks part(s) [2]"));
        assert!(said(&[(8, Some([2, 2]))]).contains("lacks part(s) [1]"));
        assert!(said(&[(7, Some([1, 2])), (9, Some([1, 2]))])
            .contains("log entry 9 is not one more part"));
        assert!(said(&[(7, Some([1, 1])), (9, Some([1, 2]))])
            .contains("log entry 9 is not one more part"));
        assert!(said(&[(7, Some([1, 1])), (3, None)]).contains("log entry 3 is not one more part"));
    }

    /// The parts of a package's export are one export's: an earlier export's part 1 (its
    /// statuses read before a revocation) in place of the later export's own is named, as are
    /// parts by another user or for another reason, out of order, or overlapping.
    #[test]
    fn parts_of_two_exports_mixed_are_named() {
        let part = |leaf, i, upto, first, last| Part {
            leaf,
            part: Some([i, 2]),
            status_upto: Some(upto),
            user: "luutru".into(),
            reason: Some("nop luu".into()),
            records: Some((first, last)),
        };
        let one = [
            part(200_010, 1, 200_010, 0, 99_999),
            part(200_011, 2, 200_010, 100_000, 100_000),
        ];
        assert_eq!(said_of(&one), "");
        // Export A's part 1 (logged before the revocation at 200,003) with export B's part 2.
        let mixed = [part(100_002, 1, 100_002, 0, 99_999), one[1].clone()];
        let s = said_of(&mixed);
        assert!(s.contains("parts of two exports mixed"), "{s}");
        assert!(s.contains("the log it read statuses from"), "{s}");
        let mut other = one.clone();
        other[1].user = "insider".into();
        other[1].reason = None;
        let s = said_of(&other);
        assert!(s.contains("the user, the reason"), "{s}");
        let mut order = one.clone();
        order[1].leaf = 200_009;
        order[1].status_upto = Some(200_010);
        let s = said_of(&order);
        assert!(s.contains("its place in the log"), "{s}");
        assert!(s.contains("it was not logged after that read"), "{s}");
        let mut overlap = one.clone();
        overlap[1].records = Some((99_999, 100_000));
        assert!(said_of(&overlap).contains("its records"));
    }

    /// Only the names kyso writes are taken for files of a record, the log or the evidence.
    #[test]
    fn payload_files_are_known_by_their_exact_names() {
        let kind = |p: &str| match payload_file("data", p) {
            PayloadFile::Log => "log".to_string(),
            PayloadFile::Record(id, bit) => format!("record {id} {bit}"),
            PayloadFile::InRecord(id) => format!("in {id}"),
            PayloadFile::Evidence(n) => format!("evidence {n}"),
            PayloadFile::Other => "other".into(),
        };
        assert_eq!(kind("data/log/export.json"), "log");
        assert_eq!(kind("data/log/Export.json"), "other");
        assert_eq!(kind("data/records/12/metadata.json"), "record 12 1");
        assert_eq!(kind("data/records/12/signature.p7s"), "record 12 32");
        assert_eq!(kind("data/records/12/Document.pdf"), "in 12");
        assert_eq!(kind("data/records/12/x/document.pdf"), "in 12");
        assert_eq!(kind("data/records/012/document.pdf"), "other");
        assert_eq!(kind("data/records/12"), "other");
        let h = "0a".repeat(32);
        assert_eq!(
            kind(&format!("data/evidence/crl-{h}.der")),
            format!("evidence crl-{h}.der")
        );
        assert_eq!(
            kind(&format!("data/evidence/crl-{}.der", h.to_uppercase())),
            "other"
        );
        assert_eq!(kind(&format!("data/evidence/key-{h}.der")), "other");
        assert_eq!(kind("data/README.txt"), "other");
    }
}
