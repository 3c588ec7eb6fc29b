//! `kyso export`: records with their evidence, as a BagIt 1.0 bag (RFC 8493) that verifies
//! offline (`kyso bag verify`, [`crate::bag_verify`]).
//!
//! ```text
//! PATH/bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-sha256.txt
//! PATH/data/log/checkpoint.txt       the signed checkpoint (C2SP signed note)
//! PATH/data/log/checkpoint.tsr       its RFC 3161 time-stamp (when the export had a TSA)
//! PATH/data/log/log-key.pem          the checkpoint key's public key (for reading; verify with
//!                                    a key from outside: --log-key)
//! PATH/data/log/export.json          the export's own log events, with inclusion proofs
//! PATH/data/records/<id>/document.pdf|.p7m|.bin, signature.p7s (a detached one)
//! PATH/data/records/<id>/metadata.json  the record exactly as stored (its SHA-256 is in the
//!                                    ingest event): metadata, validation report made at ingest,
//!                                    signatures found, the validation data's digests
//! PATH/data/records/<id>/log.json    the record's ingest and status events, inclusion proofs
//! PATH/data/evidence/<kind>-<sha256>.der  validation data (certificates, CRLs, OCSP
//!                                    responses), each stored once for all records naming it
//! ```
//!
//! Streaming: one record in memory at a time; manifests are appended as records are written.
//! Resumable: the bag is written under `PATH.partial`; `PATH.journal` says how far it got
//! (records done, manifest lengths, payload totals) and is replaced atomically after a
//! `syncfs` every [`COMMIT_RECORDS`] records (by default) or [`COMMIT_BYTES`] bytes. A rerun with the same
//! arguments cuts the manifests back to the journal's lengths and rewrites from the first record
//! not committed (the bytes are the same); a rerun with other arguments is refused. The bag is
//! renamed to `PATH` only once complete.

use crate::checkpointer::CheckpointSigner;
use crate::error::{ArchiveError, Result};
use crate::export::{ExportSession, Selection};
use crate::model::Access;
use crate::schema::CachedNodes;
use crate::seqfile::SeqFile;
use crate::store::Archive;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Records between journal commits (by default).
pub const COMMIT_RECORDS: u64 = 2000;
/// Payload bytes between journal commits.
pub const COMMIT_BYTES: u64 = 256 << 20;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The package format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// BagIt 1.0 (RFC 8493): a directory.
    Bagit,
    /// E-ARK CSIP 2.x information package, zipped ([`crate::eark`]).
    Eark,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Bagit => "bagit",
            Format::Eark => "eark",
        }
    }
}

/// How a BagIt bag is laid out (RFC 8493 §4: a bag may be serialized).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Serialization {
    /// A directory: a file per payload file, to browse record by record.
    #[default]
    Directory,
    /// One tar file holding the bag's directory (`<name>/bagit.txt`, `<name>/data/…`), streamed:
    /// one file to create instead of three per record.
    Tar,
}

/// Makes an RFC 3161 time-stamp token (DER) over the data whose SHA-256 is given (the data
/// itself may be too large to hold: `bag renew` streams it).
pub type Stamper<'a> = &'a dyn Fn(&[u8; 32]) -> std::result::Result<Vec<u8>, String>;

/// What an export is asked to do.
pub struct ExportOptions<'a> {
    pub out: PathBuf,
    pub format: Format,
    pub selection: Selection,
    /// The archivist and the reason (logged with the export).
    pub access: Access,
    /// `Source-Organization` in bag-info.txt.
    pub organization: String,
    /// Signs the checkpoint the package's proofs lead to (needed to start an export; a resumed
    /// one keeps the checkpoint it started with).
    pub signer: Option<&'a CheckpointSigner>,
    /// Time-stamps the checkpoint (RFC 3161), so the evidence outlives the checkpoint key.
    pub stamper: Option<Stamper<'a>>,
    /// Pause after each record (tests interrupt an export mid-way).
    pub pace: Option<std::time::Duration>,
    /// Records between journal commits ([`COMMIT_RECORDS`] when 0).
    pub commit_every: u64,
    /// A BagIt bag as a directory or as one tar file (E-ARK packages are zipped either way).
    pub serialization: Serialization,
    /// Threads preparing records ahead of the writer (0: two per core, 2 to 4).
    pub workers: usize,
}

/// What [`export`] did.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub path: String,
    pub format: &'static str,
    pub records: u64,
    pub payload_bytes: u64,
    pub payload_files: u64,
    pub checkpoint_size: u64,
    /// The export continued an interrupted one.
    pub resumed: bool,
    /// The log index of the export event(s) this run logged.
    pub export_events: Vec<u64>,
}

/// The arguments an export is identified by: a rerun must give the same ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Args {
    format: Format,
    selection: Selection,
    user: String,
    reason: String,
    organization: String,
    #[serde(default, skip_serializing_if = "is_directory")]
    serialization: Serialization,
}

fn is_directory(s: &Serialization) -> bool {
    *s == Serialization::Directory
}

/// How far an export got (`PATH.journal`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    args: Args,
    /// The export events of the first run (the package's proofs of which records it holds).
    export_events: Vec<u64>,
    checkpoint: String,
    checkpoint_size: u64,
    /// Base64 RFC 3161 token over the checkpoint note.
    checkpoint_timestamp: Option<String>,
    log_key_pem: String,
    records: u64,
    done: u64,
    manifest_sha256_len: u64,
    manifest_sha512_len: u64,
    payload_bytes: u64,
    payload_files: u64,
    /// A tar bag: its length at the last commit (a rerun cuts it back there).
    #[serde(default)]
    tar_offset: u64,
    /// An E-ARK zip: its length, its central directory spool's and its record spool's at the
    /// last commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zip: Option<crate::eark::ZipJournal>,
}

use crate::error::io;

fn with_ext(p: &Path, ext: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// Flush everything written on the file system holding `dir` (one call for thousands of files).
fn syncfs(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(|e| io("open", dir, e))?;
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs takes an open file descriptor and nothing else.
    let r = unsafe { libc::syncfs(f.as_raw_fd()) };
    if r != 0 {
        return Err(io("syncfs", dir, std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Create `p` anew: what an interrupted run left there is removed first (a symbolic link
/// itself, never what it points to), and the file is created exclusively — nothing is written
/// through a link planted in its place (in a package from outside, or beside it).
pub(crate) fn create_fresh(p: &Path) -> std::io::Result<File> {
    match fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(p)
}

/// Write `bytes` to `p` atomically (temporary file, fsync, rename, fsync of the directory).
pub(crate) fn write_atomic(p: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = with_ext(p, ".tmp");
    let mut f = create_fresh(&tmp).map_err(|e| io("create", &tmp, e))?;
    f.write_all(bytes).map_err(|e| io("write", &tmp, e))?;
    f.sync_all().map_err(|e| io("fsync", &tmp, e))?;
    fs::rename(&tmp, p).map_err(|e| io("rename", p, e))?;
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
    File::open(dir.unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(|e| io("fsync the directory of", p, e))
}

/// Where payload files go.
enum Sink {
    /// Files under the package root.
    Dir,
    /// Entries of one tar file, under `top/`.
    Tar {
        file: SeqFile,
        path: PathBuf,
        top: String,
        mtime: u64,
    },
    /// Entries of the E-ARK zip, under `<OBJID>/`, and the side files its metadata is made
    /// from ([`crate::eark`]).
    Zip(Box<crate::eark::ZipSink>),
}

/// The tar of a serialized bag under construction (in the `.partial` directory, beside the
/// manifests).
pub(crate) const TAR_PARTIAL: &str = "bag.tar";

/// The payload of a package under construction: files, and the manifest lines for them.
struct Payload {
    /// The package root (the bag; for a tar or an E-ARK zip, the directory holding the
    /// manifests and the tar or zip while they are written).
    root: PathBuf,
    /// Where the payload is, relative to the root (`data`, or E-ARK's representation data).
    prefix: &'static str,
    sink: Sink,
    m256: BufWriter<File>,
    m512: BufWriter<File>,
    m256_len: u64,
    m512_len: u64,
    bytes: u64,
    files: u64,
    /// Evidence files already written (by SHA-256).
    evidence: HashSet<String>,
}

/// A tar entry's header for a regular file of `size` bytes.
fn tar_header(size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(mtime);
    h
}

/// One tar entry (header, GNU long-name entry where the path needs one, data, padding),
/// appended to `out`.
fn tar_entry_into(out: &mut Vec<u8>, path: &str, data: &[u8], mtime: u64) -> std::io::Result<()> {
    let start = out.len();
    let mut b = tar::Builder::new(&mut *out);
    b.append_data(&mut tar_header(data.len() as u64, mtime), path, data)?;
    b.into_inner()?;
    // into_inner ends the archive with two zero blocks; the entry alone is wanted.
    let end = out.len().saturating_sub(1024).max(start);
    out.truncate(end);
    Ok(())
}

/// The bag's folder inside its tar: the file's name without `.tar`.
pub fn tar_top(out: &Path) -> String {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let top = name.strip_suffix(".tar").unwrap_or(&name);
    let top: String = top
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    if top.is_empty() || top == "." || top == ".." {
        "bag".into()
    } else {
        top
    }
}

impl Payload {
    /// Open the manifests, cut back to the journal's lengths (and the tar to its offset; a
    /// zip, given, is cut back already).
    fn open(
        root: &Path,
        prefix: &'static str,
        manifests: &Path,
        j: &Journal,
        tar_top: Option<String>,
        zip: Option<crate::eark::ZipSink>,
    ) -> Result<Payload> {
        fs::create_dir_all(manifests).map_err(|e| io("create", manifests, e))?;
        let open = |p: &Path, len: u64| -> Result<File> {
            let f = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(p)
                .map_err(|e| io("open", p, e))?;
            f.set_len(len).map_err(|e| io("truncate", p, e))?;
            let mut f = f;
            use std::io::Seek;
            f.seek(std::io::SeekFrom::End(0))
                .map_err(|e| io("seek", p, e))?;
            Ok(f)
        };
        let sink = match (tar_top, zip) {
            (_, Some(z)) => Sink::Zip(Box::new(z)),
            (None, None) => {
                for d in ["log", "records", "evidence"] {
                    let d = root.join(prefix).join(d);
                    fs::create_dir_all(&d).map_err(|e| io("create", &d, e))?;
                }
                Sink::Dir
            }
            (Some(top), None) => {
                let path = root.join(TAR_PARTIAL);
                Sink::Tar {
                    file: SeqFile::open(&path, j.tar_offset).map_err(|e| io("open", &path, e))?,
                    path,
                    top,
                    mtime: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or_default(),
                }
            }
        };
        let m256 = open(
            &manifests.join("manifest-sha256.txt"),
            j.manifest_sha256_len,
        )?;
        let m512 = open(
            &manifests.join("manifest-sha512.txt"),
            j.manifest_sha512_len,
        )?;
        // Evidence written before the last commit is in the manifest kept.
        let mut evidence = HashSet::new();
        let kept = fs::read(manifests.join("manifest-sha256.txt"))
            .map_err(|e| io("read", &manifests.join("manifest-sha256.txt"), e))?;
        let evidence_dir = format!("{prefix}/evidence/");
        for line in kept.split(|b| *b == b'\n') {
            let line = String::from_utf8_lossy(line);
            if let Some((_, path)) = line.split_once("  ") {
                if let Some(name) = path.strip_prefix(evidence_dir.as_str()) {
                    if let Some((_, sha)) = name.trim_end_matches(".der").rsplit_once('-') {
                        evidence.insert(sha.to_string());
                    }
                }
            }
        }
        Ok(Payload {
            root: root.to_path_buf(),
            prefix,
            sink,
            m256: BufWriter::with_capacity(1 << 16, m256),
            m512: BufWriter::with_capacity(1 << 16, m512),
            m256_len: j.manifest_sha256_len,
            m512_len: j.manifest_sha512_len,
            bytes: j.payload_bytes,
            files: j.payload_files,
            evidence,
        })
    }

    /// Write a payload file (`rel` under the payload directory) and its manifest lines.
    fn put(&mut self, rel: &str, data: &[u8]) -> Result<()> {
        self.write(&FileOut::hashed(rel.to_string(), data.to_vec()))
    }

    /// Write a prepared payload file and its manifest lines.
    fn write(&mut self, f: &FileOut) -> Result<()> {
        match &mut self.sink {
            Sink::Dir => write_file(&self.root.join(self.prefix).join(&f.rel), &f.data)?,
            Sink::Tar {
                file,
                path,
                top,
                mtime,
            } => {
                let mut entry = Vec::with_capacity(f.data.len() + 2048);
                tar_entry_into(
                    &mut entry,
                    &format!("{top}/{}/{}", self.prefix, f.rel),
                    &f.data,
                    *mtime,
                )
                .map_err(|e| io("write", path, e))?;
                file.write_all(&entry).map_err(|e| io("write", path, e))?;
            }
            Sink::Zip(z) => z.put(&f.rel, &f.data)?,
        }
        self.lines(f)
    }

    /// The manifest lines of a payload file (written already, or just now).
    fn lines(&mut self, f: &FileOut) -> Result<()> {
        let (mut m256, mut m512) = (String::new(), String::new());
        push_line(&mut m256, &f.sha256, self.prefix, &f.rel);
        push_line(&mut m512, &f.sha512, self.prefix, &f.rel);
        self.append_lines(&m256, &m512, f.size, 1)
    }

    /// Append a record a worker prepared: its tar or zip entries, its manifest lines.
    fn add(&mut self, r: &Prepared) -> Result<()> {
        if let Sink::Tar { file, path, .. } = &mut self.sink {
            file.write_all(&r.tar).map_err(|e| io("write", path, e))?;
        }
        if let (Sink::Zip(z), Some(e)) = (&mut self.sink, &r.zip) {
            z.add(e)?;
        }
        self.append_lines(&r.m256, &r.m512, r.bytes, r.files)
    }

    /// Manifest lines for `files` payload files of `bytes` bytes in all.
    fn append_lines(&mut self, m256: &str, m512: &str, bytes: u64, files: u64) -> Result<()> {
        self.m256
            .write_all(m256.as_bytes())
            .and_then(|()| self.m512.write_all(m512.as_bytes()))
            .map_err(|e| io("write the manifests in", &self.root, e))?;
        self.m256_len += m256.len() as u64;
        self.m512_len += m512.len() as u64;
        self.bytes += bytes;
        self.files += files;
        Ok(())
    }

    /// How a worker writes records for this payload.
    fn layout(&self) -> Layout {
        Layout {
            prefix: self.prefix,
            dir: matches!(self.sink, Sink::Dir).then(|| self.root.join(self.prefix)),
            tar: match &self.sink {
                Sink::Tar { top, mtime, .. } => Some((top.clone(), *mtime)),
                Sink::Dir | Sink::Zip(_) => None,
            },
            zip: match &self.sink {
                Sink::Zip(z) => Some(z.layout()),
                _ => None,
            },
        }
    }

    /// The tar's length so far (0 for a directory).
    fn tar_offset(&mut self) -> u64 {
        match &mut self.sink {
            Sink::Dir | Sink::Zip(_) => 0,
            Sink::Tar { file, .. } => file.position(),
        }
    }

    /// How far the E-ARK zip got (valid once flushed).
    fn zip_state(&self) -> Option<crate::eark::ZipJournal> {
        match &self.sink {
            Sink::Zip(z) => Some(z.state()),
            _ => None,
        }
    }

    fn flush(&mut self) -> Result<()> {
        if let Sink::Tar { file, path, .. } = &mut self.sink {
            file.sync().map_err(|e| io("write", path, e))?;
        }
        if let Sink::Zip(z) = &mut self.sink {
            z.flush()?;
        }
        self.m256
            .flush()
            .and_then(|()| self.m512.flush())
            .map_err(|e| io("write the manifests in", &self.root, e))
    }
}

/// A log entry with its inclusion proof to the checkpoint, as `log.json` and `export.json`
/// hold it (fields in the order the verifier's reader does not depend on, kept stable).
#[derive(Serialize)]
struct Proved {
    leaf: u64,
    event: String,
    proof: HexHashes,
}

/// Hashes written as a JSON list of lowercase hex strings, each from a stack buffer (a proof
/// has ~17 of them, and one allocation each was measurable per record).
struct HexHashes(Vec<crate::merkle::Hash>);

impl Serialize for HexHashes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for h in &self.0 {
            let mut buf = [0u8; 64];
            hex_into(h, &mut buf);
            seq.serialize_element(std::str::from_utf8(&buf).unwrap_or_default())?;
        }
        seq.end()
    }
}

/// Log entries with their inclusion proofs to the checkpoint of `size` leaves.
fn proofs(ar: &Archive, nodes: &CachedNodes, leaves: &[u64], size: u64) -> Result<Vec<Proved>> {
    leaves
        .iter()
        .map(|&leaf| {
            let event = String::from_utf8(ar.event_bytes(leaf)?)
                .map_err(|_| ArchiveError::Inconsistent(format!("event {leaf} is not UTF-8")))?;
            let proof = ar.inclusion_proof_cached(nodes, leaf, size)?;
            Ok(Proved {
                leaf,
                event,
                proof: HexHashes(proof),
            })
        })
        .collect()
}

/// A payload file ready to write, with its digests (lowercase hex).
struct FileOut {
    /// The path under the payload directory.
    rel: String,
    data: Vec<u8>,
    size: u64,
    sha256: String,
    sha512: String,
}

impl FileOut {
    fn hashed(rel: String, data: Vec<u8>) -> FileOut {
        FileOut {
            sha256: sha256_hex(&data),
            sha512: hex_lower(&openssl::sha::sha512(&data)),
            size: data.len() as u64,
            rel,
            data,
        }
    }

    /// A file whose digests the archive keeps: the bytes were checked against the SHA-256 when
    /// read, and the SHA-512 was computed at ingest from the same bytes (the record holding it
    /// is bound to the log by its ingest event). Only well-formed digests reach a manifest line.
    fn known(rel: String, data: Vec<u8>, sha256: &str, sha512: &str) -> Result<FileOut> {
        let hex_of = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !hex_of(sha256, 64) || !hex_of(sha512, 128) {
            return Err(ArchiveError::Inconsistent(format!(
                "the stored digests of {rel} are malformed"
            )));
        }
        Ok(FileOut {
            size: data.len() as u64,
            rel,
            data,
            sha256: sha256.to_string(),
            sha512: sha512.to_string(),
        })
    }
}

/// A record prepared by an export worker, ready for the writer to append in order: for a tar
/// bag its entries as bytes, for a directory bag nothing (the worker wrote the files); its
/// manifest lines; and the validation data it names (written once per package, by the
/// writer, in record order).
struct Prepared {
    id: u64,
    tar: Vec<u8>,
    m256: String,
    m512: String,
    bytes: u64,
    files: u64,
    /// The record's code, to name it if an item of its validation data is damaged.
    code: String,
    evidence: Vec<(&'static str, crate::model::Blob)>,
    /// An E-ARK zip: the record's entries, sizes and facts ([`crate::eark`]).
    zip: Option<crate::eark::PreparedRecord>,
}

/// Where a worker puts a record's files.
#[derive(Clone)]
struct Layout {
    /// The payload directory's name in the manifests (`data`, or E-ARK's representation data).
    prefix: &'static str,
    /// A directory bag: the payload directory on disk.
    dir: Option<PathBuf>,
    /// A tar bag: the entries' top folder and time.
    tar: Option<(String, u64)>,
    /// An E-ARK zip: the payload folder's name in it and the entries' MS-DOS time.
    zip: Option<(String, (u16, u16))>,
}

/// A manifest line, `<digest>  <prefix>/<rel>` (RFC 8493 §2.1.3), appended to a manifest's text.
fn push_line(m: &mut String, digest: &str, prefix: &str, rel: &str) {
    m.push_str(digest);
    m.push_str("  ");
    m.push_str(prefix);
    m.push('/');
    m.push_str(rel);
    m.push('\n');
}

/// Lowercase hex of `bytes` into `out` (twice as long), by table (hex::encode goes char by
/// char: a tenth of an export's CPU).
fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const D: &[u8; 16] = b"0123456789abcdef";
    for (b, o) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        o[0] = D[(b >> 4) as usize];
        o[1] = D[(b & 15) as usize];
    }
}

/// Lowercase hex.
fn hex_lower(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    hex_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// A record's `log.json`: its events with inclusion proofs, and its status.
#[derive(Serialize)]
struct LogFile<'a> {
    tree_size: u64,
    status: &'a crate::model::Status,
    events: Vec<Proved>,
}

fn write_file(p: &Path, data: &[u8]) -> Result<()> {
    let mut f = File::create(p).map_err(|e| io("create", p, e))?;
    f.write_all(data).map_err(|e| io("write", p, e))
}

/// Read one record and make its payload files (a worker's part: reads, proofs, JSON, digests,
/// tar entries; for a directory bag the files are written here too).
fn prepare(
    s: &ExportSession,
    nodes: &CachedNodes,
    id: u64,
    size: u64,
    layout: &Layout,
    bound: Option<&Bound>,
) -> Result<Prepared> {
    let mut x = s.read(id)?;
    // The status events the package's export events name for the record (a resumed run
    // too: its own session may have seen later ones, which the package's checkpoint does
    // not cover and its export events do not name).
    if let Some(b) = bound {
        x.events.truncate(1);
        x.events.extend(b.get(&id).into_iter().flatten());
    }
    let named = |e| crate::export::naming(e, id, Some(&x.record.code));
    let d = format!("records/{id}");
    let mut files = Vec::with_capacity(4);
    files.push(
        FileOut::known(
            format!("{d}/{}", document_name(&x.record.media_type)),
            x.document,
            &x.record.content_sha256,
            &x.record.content_sha512,
        )
        .map_err(named)?,
    );
    if let (Some(sig), Some(b)) = (x.detached_signature, &x.record.detached_signature) {
        files.push(
            FileOut::known(format!("{d}/signature.p7s"), sig, &b.sha256, &b.sha512)
                .map_err(named)?,
        );
    }
    // An E-ARK package describes every field of the record: parsed whole for it only.
    let full = match &layout.zip {
        Some(z) => Some((
            z,
            serde_json::from_slice::<crate::model::Record>(&x.record_json).map_err(|e| {
                ArchiveError::Inconsistent(format!("record {id} is not a record: {e}"))
            })?,
        )),
        None => None,
    };
    files.push(FileOut::hashed(format!("{d}/metadata.json"), x.record_json));
    let events = proofs(s.archive(), nodes, &x.events, size)?;
    // The status the package's events give (the last one), which `bag verify` checks
    // `status` against — not the stored status, which may have changed since the export
    // began.
    let mut status = crate::model::Status::Valid;
    for p in events.iter().skip(1) {
        if let Ok(crate::model::Event::Status { status: st, .. }) = serde_json::from_str(&p.event) {
            status = st;
        }
    }
    let log = LogFile {
        tree_size: size,
        status: &status,
        events,
    };
    let log = serde_json::to_vec_pretty(&log).map_err(|e| ArchiveError::Db(e.to_string()))?;
    files.push(FileOut::hashed(format!("{d}/log.json"), log));
    let mut p = Prepared {
        id,
        tar: Vec::with_capacity(if layout.tar.is_some() {
            files.iter().map(|f| f.data.len() + 2048).sum::<usize>() + 1024
        } else {
            0
        }),
        m256: String::with_capacity(files.len() * 120),
        m512: String::with_capacity(files.len() * 184),
        bytes: 0,
        files: files.len() as u64,
        code: x.record.code.clone(),
        evidence: x.validation_data,
        zip: None,
    };
    if let Some(((prefix, dos), record)) = &full {
        let named: Vec<(&str, &[u8])> = files
            .iter()
            .map(|f| (f.rel.as_str(), f.data.as_slice()))
            .collect();
        p.zip = Some(crate::eark::prepare_record(prefix, *dos, record, &named)?);
    }
    if let Some(dir) = &layout.dir {
        let rd = dir.join(&d);
        match fs::create_dir(&rd) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(io("create", &rd, e))
            }
            _ => {}
        }
    }
    for f in &files {
        let path = format!("{}/{}", layout.prefix, f.rel);
        if let Some(dir) = &layout.dir {
            write_file(&dir.join(&f.rel), &f.data)?;
        }
        if let Some((top, mtime)) = &layout.tar {
            tar_entry_into(&mut p.tar, &format!("{top}/{path}"), &f.data, *mtime)
                .map_err(|e| crate::error::file_err("write a tar entry for", path, e))?;
        }
        push_line(&mut p.m256, &f.sha256, layout.prefix, &f.rel);
        push_line(&mut p.m512, &f.sha512, layout.prefix, &f.rel);
        p.bytes += f.size;
    }
    Ok(p)
}

/// Per record, the log indexes of the status events the package's export events name.
type Bound = std::collections::HashMap<u64, Vec<u64>>;

/// The status events the export events at `leaves` name, per record (`None`: an export
/// event kyso logged before they named them).
fn bound_status_events(ar: &Archive, leaves: &[u64]) -> Result<Option<Bound>> {
    let mut out = Bound::new();
    for &leaf in leaves {
        let e: crate::model::Event = serde_json::from_slice(&ar.event_bytes(leaf)?)
            .map_err(|e| ArchiveError::Inconsistent(format!("event {leaf}: {e}")))?;
        match e {
            crate::model::Event::Export {
                status_events: Some(s),
                ..
            } => {
                for [record, at] in s {
                    out.entry(record).or_default().push(at);
                }
            }
            crate::model::Event::Export { .. } => return Ok(None),
            _ => {
                return Err(ArchiveError::Inconsistent(format!(
                    "event {leaf}, which the export's journal names, is not an export event"
                )))
            }
        }
    }
    Ok(Some(out))
}

/// Records a worker prepares in a row (consecutive records share most proof nodes).
const BLOCK: usize = 64;
/// A worker hands prepared records over in batches of about this many bytes (with two batches
/// queued per worker, what is prepared ahead stays bounded whatever the documents' size).
const BATCH_BYTES: usize = 4 << 20;

/// How many worker threads prepare records ahead of the writer (0 = two per core, from 2 to
/// 4: a record read from an archive not in the page cache waits on the disk, and on two cores
/// four workers exported 100,000 cold 16 KiB records 25-35 % faster than two, warm 2 KiB ones
/// as fast; docs/benchmarks.md). At most 4 by default: each worker may hold three batches,
/// a batch being one record when the record is larger than 4 MiB.
fn worker_count(asked: usize) -> usize {
    if asked > 0 {
        return asked.min(16);
    }
    std::thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(2)
        .clamp(2, 4)
}

/// The file name of a record's document, by its media type.
pub fn document_name(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "document.pdf",
        "application/pkcs7-mime" => "document.p7m",
        _ => "document.bin",
    }
}

/// What an interrupted export left, if anything, must be this user's and no one else's to
/// change: an export resumed from a journal and a `.partial` folder another local user made
/// (in a shared folder, under the name the next export would use) wrote its records into
/// their folder (found by an attacker's reading, 2026-12-02). A symbolic link is no such file.
fn ours_alone(p: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let m = match fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("read", p, e)),
    };
    let me = rustix::process::geteuid().as_raw();
    if m.file_type().is_symlink() || m.uid() != me || m.mode() & 0o022 != 0 {
        return Err(ArchiveError::Input(format!(
            "{} is not this user's alone (a symbolic link, another owner, or writable by others): an export does not resume from it; remove it, or export to a folder of your own",
            p.display()
        )));
    }
    Ok(())
}

/// Make the `.partial` folder a fresh export writes into, failing if anything has its name:
/// made now, at the start, by this process (0700), so that no one else can
/// put one there first in the time an export spends signing its checkpoint (another local
/// user's folder, made in that window, received a whole package; found by an attacker's
/// reading, 2026-12-02).
/// A `.partial` folder just made, removed again (if still empty) when dropped: forgotten once
/// the export's journal is written.
struct EmptyPartial(Option<PathBuf>);

impl Drop for EmptyPartial {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = fs::remove_dir(p);
        }
    }
}

fn make_partial(partial: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    // In a folder others may write to without the sticky bit, another user can rename this
    // one away and put theirs in its place: refused.
    let parent = partial
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(m) = fs::metadata(parent) {
        if m.mode() & 0o002 != 0 && m.mode() & 0o1000 == 0 {
            return Err(ArchiveError::Input(format!(
                "{} can be written by anyone and has no sticky bit: another user could take the export's place; export to a folder of your own",
                parent.display()
            )));
        }
    }
    match fs::DirBuilder::new().mode(0o700).create(partial) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(ArchiveError::Input(
            format!("{} already exists; export to a new path", partial.display()),
        )),
        Err(e) => Err(io("create", partial, e)),
    }
}

fn read_journal(p: &Path) -> Result<Option<Journal>> {
    match fs::read(p) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            ArchiveError::Input(format!(
                "{} is not an export journal ({e}); remove it and the .partial directory to start over",
                p.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", p, e)),
    }
}

fn read_ids(p: &Path) -> Result<Vec<u64>> {
    let text = fs::read_to_string(p).map_err(|e| io("read", p, e))?;
    text.lines()
        .map(|l| {
            l.parse().map_err(|_| {
                ArchiveError::Input(format!("{}: {l:?} is not a record id", p.display()))
            })
        })
        .collect()
}

/// Export the selected records to `o.out` — or finish the interrupted export there.
pub fn export(
    ar: &Archive,
    o: &ExportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportSummary> {
    let out = &o.out;
    let partial = with_ext(out, ".partial");
    let journal_path = with_ext(out, ".journal");
    let ids_path = with_ext(out, ".records");
    let args = Args {
        format: o.format,
        selection: o.selection.clone(),
        user: o.access.user.clone(),
        reason: o.access.purpose.clone(),
        organization: o.organization.clone(),
        serialization: o.serialization,
    };
    let tar = o.serialization == Serialization::Tar;
    if tar && o.format != Format::Bagit {
        return Err(ArchiveError::Input(
            "an E-ARK package is one zip file already: tar serializes BagIt bags".into(),
        ));
    }
    crate::model::check_text("organization", &o.organization, 200)?;
    for p in [&journal_path, &ids_path, &partial] {
        ours_alone(p)?;
    }
    let earlier = read_journal(&journal_path)?;
    if let Some(j) = &earlier {
        if j.args != args {
            return Err(ArchiveError::Input(format!(
                "an interrupted export to {} was started with other arguments ({}); rerun it with those, or remove {}, {} and {} to start a new one",
                out.display(),
                serde_json::to_string(&j.args).unwrap_or_default(),
                partial.display(),
                journal_path.display(),
                ids_path.display()
            )));
        }
        if out.exists() {
            // Complete: killed after the rename, before the journal was removed.
            if partial.exists() {
                fs::remove_dir_all(&partial).map_err(|e| io("remove", &partial, e))?;
            }
            let _ = fs::remove_file(&ids_path);
            fs::remove_file(&journal_path).map_err(|e| io("remove", &journal_path, e))?;
            return Ok(summary(o, j, true, Vec::new()));
        }
    } else if out.exists() {
        return Err(ArchiveError::Input(format!(
            "{} already exists; export to a new path",
            out.display()
        )));
    } else {
        make_partial(&partial)?;
    }
    // A fresh export that fails before its journal is written (nothing selected, a damaged
    // log, no checkpoint signed) leaves no `.partial` behind: it holds nothing, and it would
    // refuse the rerun to the same path.
    let mut fresh = EmptyPartial(earlier.is_none().then(|| partial.clone()));
    let resumed = earlier.is_some();
    let (mut j, ids, session) = match earlier {
        Some(mut j) => {
            // The same archive, its log as the journal's checkpoint saw it: a rerun given
            // another --db (or a log restored and forked since) would finish the package with
            // another archive's records, and log reading them.
            let cp = crate::checkpoint::parse(&j.checkpoint).map_err(ArchiveError::Checkpoint)?;
            let size = cp.checkpoint.size;
            if size > ar.size() || ar.root(size)? != cp.checkpoint.root {
                return Err(ArchiveError::Input(format!(
                    "{} was begun on another archive, or on this one before its log changed: its checkpoint of {size} entries is not this log's; export anew (remove it and {})",
                    journal_path.display(),
                    partial.display()
                )));
            }
            let ids = read_ids(&ids_path)?;
            if ids.len() as u64 != j.records || j.done > j.records {
                return Err(ArchiveError::Input(format!(
                    "{} and {} disagree; remove them and {} to start over",
                    journal_path.display(),
                    ids_path.display(),
                    partial.display()
                )));
            }
            // Nothing to continue from: no .partial, or an E-ARK export an earlier kyso
            // began as a folder tree (no zip in its journal).
            if !partial.exists() || (j.args.format == Format::Eark && j.zip.is_none()) {
                if !partial.exists() {
                    make_partial(&partial)?;
                }
                j.done = 0;
                j.manifest_sha256_len = 0;
                j.manifest_sha512_len = 0;
                j.payload_bytes = 0;
                j.payload_files = 0;
                j.tar_offset = 0;
                j.zip = None;
            }
            // The rest is read now: logged again, naming the records this run reads.
            let rest = Selection::Records {
                records: ids[j.done as usize..].to_vec(),
            };
            let session = if rest_is_empty(&rest) {
                None
            } else {
                Some(ar.begin_export(&rest, o.format.name(), &o.access)?)
            };
            (j, ids, session)
        }
        None => {
            let signer = o.signer.ok_or_else(|| {
                ArchiveError::Input(
                    "an export signs a checkpoint over its own log events: give the checkpoint key"
                        .into(),
                )
            })?;
            let session = ar.begin_export(&o.selection, o.format.name(), &o.access)?;
            // The log as the last export event left it: `bag verify` requires that checkpoint.
            let last = session.event_leaves.iter().max().copied().unwrap_or(0);
            let note = ar.sign_checkpoint_at(signer, Some(last + 1))?;
            let cp = crate::checkpoint::parse(&note).map_err(ArchiveError::Checkpoint)?;
            let spki = der::Encode::to_der(signer.key.public_key_info())
                .map_err(|e| ArchiveError::Checkpoint(e.to_string()))?;
            let log_key_pem =
                der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &spki)
                    .map_err(|e| ArchiveError::Checkpoint(e.to_string()))?;
            let checkpoint_timestamp = match o.stamper {
                Some(stamp) => Some(B64.encode(stamp(&sha256(note.as_bytes())).map_err(|e| {
                    ArchiveError::Checkpoint(format!("time-stamping the checkpoint: {e}"))
                })?)),
                None => None,
            };
            let ids = session.records().to_vec();
            let mut text = String::with_capacity(ids.len() * 8);
            for id in &ids {
                text.push_str(&id.to_string());
                text.push('\n');
            }
            write_atomic(&ids_path, text.as_bytes())?;
            let j = Journal {
                args: args.clone(),
                export_events: session.event_leaves.clone(),
                checkpoint: note,
                checkpoint_size: cp.checkpoint.size,
                checkpoint_timestamp,
                log_key_pem,
                records: ids.len() as u64,
                done: 0,
                manifest_sha256_len: 0,
                manifest_sha512_len: 0,
                payload_bytes: 0,
                payload_files: 0,
                tar_offset: 0,
                zip: None,
            };
            write_json_atomic(&journal_path, &j)?;
            fresh.0 = None;
            (j, ids, Some(session))
        }
    };
    let logged = session
        .as_ref()
        .map(|s| s.event_leaves.clone())
        .unwrap_or_default();
    let objid = objid(&j);
    let (prefix, zip) = match o.format {
        Format::Bagit => ("data", None),
        Format::Eark => (
            crate::eark::PAYLOAD,
            Some(crate::eark::ZipSink::open(
                &partial,
                &objid,
                j.zip,
                j.payload_files,
            )?),
        ),
    };
    let mut p = Payload::open(
        &partial,
        prefix,
        &partial,
        &j,
        tar.then(|| tar_top(out)),
        zip,
    )?;
    if j.done == 0 {
        write_log_files(&mut p, ar, &j)?;
    }
    let size = j.checkpoint_size;
    let total = j.records;
    progress(j.done, total);
    let mut since = (0u64, p.bytes);
    let first = j.done as usize;
    let bound = bound_status_events(ar, &j.export_events)?;
    if let Some(s) = &session {
        let pending = &ids[first..];
        let bound = bound.as_ref();
        let workers = worker_count(o.workers);
        let layout = p.layout();
        let every = if o.commit_every == 0 {
            COMMIT_RECORDS
        } else {
            o.commit_every
        };
        std::thread::scope(|sc| -> Result<()> {
            // Worker w prepares blocks w, w + workers, …, and sends each block in batches of at
            // most BATCH_BYTES; the writer takes the blocks back in order.
            let mut rxs = Vec::with_capacity(workers);
            for w in 0..workers {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Prepared>>>(2);
                rxs.push(rx);
                let layout = layout.clone();
                sc.spawn(move || {
                    let nodes = CachedNodes::new(&s.archive().db);
                    for block in pending.chunks(BLOCK).skip(w).step_by(workers) {
                        let mut batch = Vec::new();
                        let mut held = 0;
                        for &id in block {
                            match prepare(s, &nodes, id, size, &layout, bound) {
                                Ok(r) => {
                                    held +=
                                        r.tar.len() + r.zip.as_ref().map_or(0, |z| z.len()) + 512;
                                    batch.push(r);
                                }
                                Err(e) => {
                                    let _ = tx.send(Ok(batch));
                                    let _ = tx.send(Err(e));
                                    return;
                                }
                            }
                            if held >= BATCH_BYTES {
                                if tx.send(Ok(std::mem::take(&mut batch))).is_err() {
                                    return;
                                }
                                held = 0;
                            }
                        }
                        if !batch.is_empty() && tx.send(Ok(batch)).is_err() {
                            return;
                        }
                    }
                });
            }
            let mut k = 0;
            let mut batch = Vec::new().into_iter();
            while k < pending.len() {
                let id = pending[k];
                let r = match batch.next() {
                    Some(r) => r,
                    None => {
                        batch = rxs[(k / BLOCK) % workers]
                            .recv()
                            .map_err(|_| {
                                ArchiveError::Db(format!(
                                    "the export stopped preparing record {id}"
                                ))
                            })??
                            .into_iter();
                        continue;
                    }
                };
                if r.id != id {
                    return Err(ArchiveError::Db(format!(
                        "the export prepared record {} where {id} was due",
                        r.id
                    )));
                }
                p.add(&r)?;
                for (kind, b) in &r.evidence {
                    if !p.evidence.contains(&b.sha256) {
                        let bytes = s.evidence(r.id, &r.code, kind, b)?;
                        let rel = format!("evidence/{kind}-{}.der", b.sha256);
                        let f = FileOut::known(rel, bytes, &b.sha256, &b.sha512)
                            .map_err(|e| crate::export::naming(e, r.id, Some(&r.code)))?;
                        p.write(&f)?;
                        p.evidence.insert(b.sha256.clone());
                    }
                }
                k += 1;
                since.0 += 1;
                j.done = (first + k) as u64;
                if since.0 >= every || p.bytes - since.1 >= COMMIT_BYTES {
                    commit(&mut p, &mut j, &partial, &journal_path)?;
                    since = (0, p.bytes);
                }
                progress(j.done, total);
                if let Some(d) = o.pace {
                    std::thread::sleep(d);
                }
            }
            Ok(())
        })?;
    }
    p.flush()?;
    match o.format {
        Format::Bagit if tar => {
            let (bytes, files) = (p.bytes, p.files);
            finish_tar(p, &j, &partial)?;
            j.payload_bytes = bytes;
            j.payload_files = files;
            fs::rename(partial.join(TAR_PARTIAL), out).map_err(|e| io("rename", out, e))?;
        }
        Format::Bagit => {
            finish(&mut p, &j, &partial)?;
            syncfs(&partial)?;
            fs::rename(&partial, out).map_err(|e| io("rename", out, e))?;
            j.payload_bytes = p.bytes;
            j.payload_files = p.files;
        }
        Format::Eark => {
            let (bytes, files) = (p.bytes, p.files);
            let Sink::Zip(z) = p.sink else {
                return Err(ArchiveError::Db("not an E-ARK zip".into()));
            };
            let zip = crate::eark::finish_zip(
                *z,
                j.records,
                &j.args.organization,
                &j.args.user,
                &j.args.reason,
            )?;
            fs::rename(&zip, out).map_err(|e| io("rename", out, e))?;
            j.payload_bytes = bytes;
            j.payload_files = files;
        }
    }
    let parent = out.parent().filter(|d| !d.as_os_str().is_empty());
    File::open(parent.unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(|e| io("fsync the directory of", out, e))?;
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(|e| io("remove", &partial, e))?;
    }
    let _ = fs::remove_file(&ids_path);
    fs::remove_file(&journal_path).map_err(|e| io("remove", &journal_path, e))?;
    Ok(summary(o, &j, resumed, logged))
}

/// The package's identifier: the log's origin and the export event (E-ARK's OBJID and root
/// folder name).
pub fn objid(j: &Journal) -> String {
    let origin: String = crate::checkpoint::parse(&j.checkpoint)
        .map(|n| n.checkpoint.origin)
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "{origin}-export-{}",
        j.export_events.first().copied().unwrap_or_default()
    )
}

fn rest_is_empty(s: &Selection) -> bool {
    matches!(s, Selection::Records { records } if records.is_empty())
}

fn summary(o: &ExportOptions, j: &Journal, resumed: bool, logged: Vec<u64>) -> ExportSummary {
    ExportSummary {
        path: o.out.display().to_string(),
        format: o.format.name(),
        records: j.records,
        payload_bytes: j.payload_bytes,
        payload_files: j.payload_files,
        checkpoint_size: j.checkpoint_size,
        resumed,
        export_events: logged,
    }
}

fn write_json_atomic(p: &Path, v: &impl Serialize) -> Result<()> {
    write_atomic(
        p,
        &serde_json::to_vec(v).map_err(|e| ArchiveError::Db(e.to_string()))?,
    )
}

/// Make what was written durable, then say so in the journal.
fn commit(p: &mut Payload, j: &mut Journal, partial: &Path, journal: &Path) -> Result<()> {
    p.flush()?;
    syncfs(partial)?;
    j.manifest_sha256_len = p.m256_len;
    j.manifest_sha512_len = p.m512_len;
    j.payload_bytes = p.bytes;
    j.payload_files = p.files;
    j.tar_offset = p.tar_offset();
    j.zip = p.zip_state();
    write_json_atomic(journal, j)
}

/// The checkpoint, its time-stamp, the log key, and the export's own events with proofs.
fn write_log_files(p: &mut Payload, ar: &Archive, j: &Journal) -> Result<()> {
    p.put("log/checkpoint.txt", j.checkpoint.as_bytes())?;
    if let Some(ts) = &j.checkpoint_timestamp {
        let der = B64
            .decode(ts)
            .map_err(|e| ArchiveError::Input(format!("the journal's time-stamp: {e}")))?;
        p.put("log/checkpoint.tsr", &der)?;
    }
    p.put("log/log-key.pem", j.log_key_pem.as_bytes())?;
    let nodes = CachedNodes::new(&ar.db);
    let export = serde_json::json!({
        "tree_size": j.checkpoint_size,
        "events": proofs(ar, &nodes, &j.export_events, j.checkpoint_size)?,
    });
    p.put(
        "log/export.json",
        &serde_json::to_vec_pretty(&export).map_err(|e| ArchiveError::Db(e.to_string()))?,
    )
}

/// bagit.txt and bag-info.txt (RFC 8493 §2.1–2.2).
fn tag_texts(p: &Payload, j: &Journal) -> Result<[(&'static str, String); 2]> {
    let cp = crate::checkpoint::parse(&j.checkpoint).map_err(ArchiveError::Checkpoint)?;
    // Today in Vietnam (+07:00), as the archive dates its statistics: an export at 01:00 on
    // 6 December said 2026-12-05 (helper 164).
    let now = kyso_verify::rfc3339(std::time::SystemTime::now());
    let today = &crate::model::ingest_day(&now).unwrap_or_else(|_| now[..10].to_string());
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let info = format!(
        "Source-Organization: {}\n\
         Bagging-Date: {today}\n\
         Payload-Oxum: {}.{}\n\
         Bag-Count: 1 of 1\n\
         Bag-Software-Agent: kyso {}\n\
         External-Identifier: {} export at log entry {}\n\
         Internal-Sender-Description: {} records exported by {} ({}); each verifies offline with `kyso bag verify`\n\
         Kyso-Checkpoint-Size: {}\n\
         Kyso-Records: {}\n",
        one_line(&j.args.organization),
        p.bytes,
        p.files,
        env!("CARGO_PKG_VERSION"),
        one_line(&cp.checkpoint.origin),
        j.export_events.first().copied().unwrap_or_default(),
        j.records,
        one_line(&j.args.user),
        one_line(&j.args.reason),
        j.checkpoint_size,
        j.records,
    );
    Ok([
        (
            "bagit.txt",
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".into(),
        ),
        ("bag-info.txt", info),
    ])
}

/// SHA-256 (hex) of a file, streamed.
fn sha256_file(p: &Path) -> Result<String> {
    let mut f = File::open(p).map_err(|e| io("open", p, e))?;
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        use std::io::Read;
        let k = f.read(&mut buf).map_err(|e| io("read", p, e))?;
        if k == 0 {
            break;
        }
        c.update(&buf[..k]);
    }
    Ok(hex::encode(c.finish()))
}

/// bagit.txt, bag-info.txt and the tag manifest (RFC 8493 §2.1–2.2), beside the manifests.
fn finish(p: &mut Payload, j: &Journal, root: &Path) -> Result<()> {
    let mut tags = String::new();
    for (name, text) in tag_texts(p, j)? {
        let f = root.join(name);
        fs::write(&f, &text).map_err(|e| io("write", &f, e))?;
        tags.push_str(&format!("{}  {name}\n", sha256_hex(text.as_bytes())));
    }
    for name in ["manifest-sha256.txt", "manifest-sha512.txt"] {
        tags.push_str(&format!("{}  {name}\n", sha256_file(&root.join(name))?));
    }
    let f = root.join("tagmanifest-sha256.txt");
    fs::write(&f, &tags).map_err(|e| io("write", &f, e))
}

/// SHA-256.
pub(crate) fn sha256(b: &[u8]) -> [u8; 32] {
    sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(b)).into()
}

/// SHA-256, lowercase hex (what the manifests, METS and PREMIS write).
pub(crate) fn sha256_hex(b: &[u8]) -> String {
    hex_lower(&sha256(b))
}

/// A tar bag's tag files, appended after the payload (the manifests streamed from the
/// `.partial` directory); then the tar's end, and the tar made durable.
fn finish_tar(p: Payload, j: &Journal, partial: &Path) -> Result<()> {
    let texts = tag_texts(&p, j)?;
    let Sink::Tar {
        file,
        path,
        top,
        mtime,
    } = p.sink
    else {
        return Err(ArchiveError::Db("not a tar bag".into()));
    };
    // The tag files and the end of the archive (the builder writes the two zero blocks).
    let mut tar = tar::Builder::new(file);
    let mut tags = String::new();
    for (name, text) in &texts {
        tar.append_data(
            &mut tar_header(text.len() as u64, mtime),
            format!("{top}/{name}"),
            text.as_bytes(),
        )
        .map_err(|e| io("write", &path, e))?;
        tags.push_str(&format!("{}  {name}\n", sha256_hex(text.as_bytes())));
    }
    for name in ["manifest-sha256.txt", "manifest-sha512.txt"] {
        let m = partial.join(name);
        let f = File::open(&m).map_err(|e| io("open", &m, e))?;
        let len = f.metadata().map_err(|e| io("read", &m, e))?.len();
        tar.append_data(&mut tar_header(len, mtime), format!("{top}/{name}"), f)
            .map_err(|e| io("write", &path, e))?;
        tags.push_str(&format!("{}  {name}\n", sha256_file(&m)?));
    }
    tar.append_data(
        &mut tar_header(tags.len() as u64, mtime),
        format!("{top}/tagmanifest-sha256.txt"),
        tags.as_bytes(),
    )
    .map_err(|e| io("write", &path, e))?;
    let mut file = tar.into_inner().map_err(|e| io("write", &path, e))?;
    file.sync().map_err(|e| io("fsync", &path, e))
}
