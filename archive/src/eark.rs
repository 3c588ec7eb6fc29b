//! E-ARK CSIP 2.x information packages (Circular 05/2025/TT-BNV asks for them): the same
//! payload as the BagIt export, inside the CSIP structure, with a METS root, PREMIS v3
//! preservation metadata (SHA-256 fixity of every file; ingest, validation and transfer
//! events) and the circular's descriptive metadata, in one zip.
//!
//! ```text
//! <OBJID>/METS.xml                                   mets@OBJID, metsHdr@csip:OAISPACKAGETYPE="SIP"
//! <OBJID>/metadata/descriptive/tt05-2025.xml         fonds, dossiers and documents (docs/export.md)
//! <OBJID>/metadata/preservation/premis.xml           PREMIS v3: objects with SHA-256 fixity, events
//! <OBJID>/metadata/preservation/manifest-sha256.txt  and -sha512.txt: the payload digests (as BagIt)
//! <OBJID>/metadata/preservation/kyso-renewal-<n>.tsr time-stamps added by `kyso bag renew`
//! <OBJID>/representations/rep1/METS.xml              every payload file with its SHA-256
//! <OBJID>/representations/rep1/data/…                the payload: log/, records/<id>/, evidence/
//! ```
//!
//! Written once, streaming ([`crate::zipout`]): every payload file goes straight into the zip
//! as the record is exported, and what the metadata needs of it is appended to side files in
//! `PATH.partial` — the file's size (the manifests hold its digests), and per record the facts
//! the descriptive metadata and PREMIS name ([`ZipSink`]). The journal cuts them back with the
//! zip on a resume. At the end the metadata files are generated from those side files, one
//! line at a time, straight into the zip (their CRC-32 and sizes filled in after), then the
//! manifests, documentation, schema, the representation's METS and the root METS — last, so
//! `kyso bag renew` can replace it — and the central directory. No directory tree, no second
//! pass over the payload, memory flat in the number of records (the dossiers of the
//! descriptive metadata are aggregated in bounded sorted runs on disk).

use crate::error::{ArchiveError, Result};
use crate::model::Record;
use crate::zipout::{ZipOut, ZipState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The payload's place inside the package root.
pub const PAYLOAD: &str = "representations/rep1/data";
/// Where the payload manifests (and renewal time-stamps) are kept.
pub const MANIFESTS: &str = "metadata/preservation";
/// The zip under construction, in the `.partial` directory.
pub(crate) const ZIP_PARTIAL: &str = "package.zip";
/// Side files in the `.partial` directory: the zip's central directory records, each payload
/// file's size (8 bytes, little-endian, in manifest order), each record's facts (JSON lines).
const CENTRAL_SPOOL: &str = "zip-central.spool";
const SIZES_SPOOL: &str = "eark-sizes.spool";
const RECORDS_SPOOL: &str = "eark-records.spool";
/// Longest facts line read back (a record's metadata is bounded far below).
const MAX_FACTS_LINE: u64 = 4 << 20;
/// Dossiers aggregated in memory before a sorted run is written to disk, and runs merged at
/// once.
const DOSSIERS_IN_MEMORY: usize = if cfg!(test) { 64 } else { 16_384 };
const RUNS_MERGED: usize = if cfg!(test) { 8 } else { 64 };

use crate::error::io;

fn zio(e: std::io::Error) -> ArchiveError {
    ArchiveError::Db(e.to_string())
}

/// A character XML 1.0 allows in a document (its `Char` production: no C0 control but tab and
/// line ends, no U+FFFE or U+FFFF; Rust's strings hold no surrogates).
pub(crate) fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

/// XML text or attribute value, escaped, characters XML does not allow dropped ([`xml_char`]:
/// a record titled with U+FFFF, kept by an older kyso, made `tt05-2025.xml` a file no XML parser
/// reads; helper 232) — borrowed when nothing needs it: the end of an E-ARK export escapes
/// several strings per record.
pub(crate) fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    let plain = |b: u8| {
        !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'')
            && (b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
    };
    // (U+FFFE and U+FFFF are the bytes EF BF BE and EF BF BF.)
    if s.bytes().all(plain) && !s.contains(['\u{FFFE}', '\u{FFFF}']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if !xml_char(c) => {}
            c => o.push(c),
        }
    }
    std::borrow::Cow::Owned(o)
}

/// The IANA media type of a payload file, by its name.
pub fn media_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.starts_with("certificate-") {
        "application/pkix-cert"
    } else if name.starts_with("crl-") {
        "application/pkix-crl"
    } else if name.starts_with("ocsp-") {
        "application/ocsp-response"
    } else if name.ends_with(".pdf") {
        "application/pdf"
    } else if name.ends_with(".p7m") {
        "application/pkcs7-mime"
    } else if name.ends_with(".p7s") {
        "application/pkcs7-signature"
    } else if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".tsr") {
        "application/vnd.etsi.timestamp-token"
    } else if name.ends_with(".txt") || name.ends_with(".pem") {
        "text/plain"
    } else if name.ends_with(".xml") {
        "text/xml"
    } else {
        "application/octet-stream"
    }
}

fn now() -> String {
    kyso_verify::rfc3339(std::time::SystemTime::now())
}

/// How far the E-ARK zip and its side files got (in the export's journal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipJournal {
    pub zip: ZipState,
    /// Bytes of record facts spooled.
    pub records_len: u64,
}

/// What the descriptive metadata and PREMIS say of a record: one line of the facts spool;
/// also what `bag verify` holds the package's tt05-2025.xml and premis.xml to
/// (archive/src/eark_check.rs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Facts {
    pub(crate) id: u64,
    pub(crate) code: String,
    pub(crate) subject: String,
    pub(crate) doc_type: String,
    pub(crate) title: Option<String>,
    pub(crate) agency: Option<String>,
    pub(crate) procedure: Option<String>,
    pub(crate) dossier: Option<String>,
    pub(crate) issue_date: Option<String>,
    pub(crate) media_type: String,
    pub(crate) size: u64,
    pub(crate) content_sha256: String,
    pub(crate) signers: Vec<String>,
    pub(crate) meta: BTreeMap<String, String>,
    pub(crate) leaf: u64,
    pub(crate) ingest_time: String,
    pub(crate) ingest_user: String,
    pub(crate) indication: String,
    pub(crate) kept_unverified: Option<String>,
    pub(crate) gathered: Option<String>,
    /// The PDF/A the document declares (`Record::pdfa_declared`; absent in spools written
    /// before kyso read it).
    #[serde(default)]
    pub(crate) pdfa_declared: Option<String>,
    /// The PDF's pages (`Record::pages`; absent in spools written before kyso counted them).
    #[serde(default)]
    pub(crate) pages: Option<u64>,
}

impl Facts {
    pub(crate) fn of(r: &Record) -> Facts {
        Facts {
            id: r.id,
            code: r.code.clone(),
            subject: r.subject.clone(),
            doc_type: r.doc_type.clone(),
            title: r.title.clone(),
            agency: r.agency.clone(),
            procedure: r.procedure.clone(),
            dossier: r.dossier.clone(),
            issue_date: r.issue_date.clone(),
            media_type: r.media_type.clone(),
            size: r.size,
            content_sha256: r.content_sha256.clone(),
            signers: r.signatures.iter().map(|s| s.signer.clone()).collect(),
            meta: r.meta.clone(),
            leaf: r.leaf,
            ingest_time: r.ingest_time.clone(),
            ingest_user: r.ingest_user.clone(),
            indication: r
                .report
                .get("indication")
                .and_then(|v| v.as_str())
                .unwrap_or("NO_SIGNATURE")
                .to_string(),
            kept_unverified: r.kept_unverified.clone(),
            gathered: r.validation_data.as_ref().map(|v| v.gathered.clone()),
            pdfa_declared: r.pdfa_declared.clone(),
            pages: r.pages,
        }
    }

    /// The detail of the record's format identification event, when its document declares
    /// a PDF/A (PREMIS eventType `format identification`, outcome `declared`).
    pub(crate) fn format_identified(&self) -> Option<String> {
        let label = self.pdfa_declared.as_deref()?;
        let registry = self
            .pronom()
            .map(|p| format!("; PRONOM {p}"))
            .unwrap_or_default();
        Some(format!(
            "the document declares {label} in its XMP metadata (pdfaid, ISO 19005){registry}; read at ingest, a declaration, not a validation"
        ))
    }

    /// The PRONOM identifier of the PDF/A the document declares, if PRONOM has one: its
    /// PREMIS object's `formatRegistry` and in its format identification event.
    pub(crate) fn pronom(&self) -> Option<&'static str> {
        kyso_verify::pdfa::PdfaClaim::from_label(self.pdfa_declared.as_deref()?)?.pronom()
    }

    /// The document's date: its issue date, else the day it was archived.
    pub(crate) fn date(&self) -> String {
        self.issue_date.clone().unwrap_or_else(|| {
            self.ingest_time
                .get(..10)
                .unwrap_or(&self.ingest_time)
                .to_string()
        })
    }

    pub(crate) fn document(&self) -> String {
        format!(
            "{PAYLOAD}/records/{}/{}",
            self.id,
            crate::bag::document_name(&self.media_type)
        )
    }
}

fn open_cut(p: &Path, len: u64) -> Result<File> {
    crate::zipout::open_at(p, len).map_err(|e| io("open", p, e))
}

/// Where an E-ARK export's payload goes: entries of the zip under `<OBJID>/`, and the side
/// files its metadata is made from.
pub(crate) struct ZipSink {
    pub(crate) zip: ZipOut,
    dir: PathBuf,
    objid: String,
    /// `<OBJID>/representations/rep1/data/`
    prefix: String,
    sizes: BufWriter<File>,
    records: BufWriter<File>,
    records_len: u64,
}

impl ZipSink {
    /// Open the zip and side files in `dir` (the `.partial` directory), cut back to the
    /// journal's state (`files`: payload files committed); a fresh zip starts with the
    /// package's folders.
    pub(crate) fn open(
        dir: &Path,
        objid: &str,
        at: Option<ZipJournal>,
        files: u64,
    ) -> Result<ZipSink> {
        fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
        let at = at.unwrap_or_default();
        let zip = ZipOut::open(
            &dir.join(ZIP_PARTIAL),
            &dir.join(CENTRAL_SPOOL),
            at.zip,
            time::OffsetDateTime::now_utc(),
        )
        .map_err(zio)?;
        let sizes = open_cut(&dir.join(SIZES_SPOOL), files * 8)?;
        let records = open_cut(&dir.join(RECORDS_SPOOL), at.records_len)?;
        let mut z = ZipSink {
            zip,
            dir: dir.to_path_buf(),
            objid: objid.to_string(),
            prefix: format!("{objid}/{PAYLOAD}/"),
            sizes: BufWriter::with_capacity(1 << 16, sizes),
            records: BufWriter::with_capacity(1 << 16, records),
            records_len: at.records_len,
        };
        if at.zip.len == 0 {
            let mut f = format!("{objid}/");
            z.zip.folder(&f).map_err(zio)?;
            for part in ["representations/", "rep1/", "data/"] {
                f.push_str(part);
                z.zip.folder(&f).map_err(zio)?;
            }
            for d in ["log/", "records/", "evidence/"] {
                z.zip.folder(&format!("{f}{d}")).map_err(zio)?;
            }
        }
        Ok(z)
    }

    /// What an export worker needs to prepare a record's entries: the payload folder's name in
    /// the zip and the entries' time.
    pub(crate) fn layout(&self) -> (String, (u16, u16)) {
        (self.prefix.clone(), self.zip.dos())
    }

    /// Append a record a worker prepared: its entries, its files' sizes, its facts.
    pub(crate) fn add(&mut self, r: &PreparedRecord) -> Result<()> {
        self.zip.append(&r.entries).map_err(zio)?;
        for size in &r.sizes {
            self.sizes
                .write_all(&size.to_le_bytes())
                .map_err(|e| io("write", &self.dir.join(SIZES_SPOOL), e))?;
        }
        self.records
            .write_all(&r.facts)
            .map_err(|e| io("write", &self.dir.join(RECORDS_SPOOL), e))?;
        self.records_len += r.facts.len() as u64;
        Ok(())
    }

    /// A payload file (`rel` under the payload folder).
    pub(crate) fn put(&mut self, rel: &str, data: &[u8]) -> Result<()> {
        self.zip
            .put(&format!("{}{rel}", self.prefix), data)
            .map_err(zio)?;
        self.sizes
            .write_all(&(data.len() as u64).to_le_bytes())
            .map_err(|e| io("write", &self.dir.join(SIZES_SPOOL), e))
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        self.zip.flush().map_err(zio)?;
        self.sizes
            .flush()
            .map_err(|e| io("write", &self.dir.join(SIZES_SPOOL), e))?;
        self.records
            .flush()
            .map_err(|e| io("write", &self.dir.join(RECORDS_SPOOL), e))
    }

    /// Valid for the journal once flushed and made durable.
    pub(crate) fn state(&self) -> ZipJournal {
        ZipJournal {
            zip: self.zip.state(),
            records_len: self.records_len,
        }
    }
}

/// A record's part of the zip, prepared by an export worker: its folder and file entries
/// (CRC-32s computed, headers made), the files' sizes for the sizes spool, its facts line.
pub(crate) struct PreparedRecord {
    entries: crate::zipout::Entries,
    sizes: Vec<u64>,
    facts: Vec<u8>,
}

impl PreparedRecord {
    /// Bytes held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len() + self.facts.len()
    }
}

/// Prepare a record's entries (`files`: paths under the payload folder and their bytes, in
/// manifest order) for a zip whose payload folder is `prefix`, dated `dos`
/// ([`ZipSink::layout`]).
pub(crate) fn prepare_record(
    prefix: &str,
    dos: (u16, u16),
    record: &Record,
    files: &[(&str, &[u8])],
) -> Result<PreparedRecord> {
    let room = files
        .iter()
        .map(|(r, d)| 50 + prefix.len() + r.len() + d.len())
        .sum::<usize>()
        + 64;
    let mut entries = crate::zipout::Entries::new(dos, room);
    entries
        .folder(&format!("{prefix}records/{}/", record.id))
        .map_err(zio)?;
    for (rel, data) in files {
        entries.file(&format!("{prefix}{rel}"), data).map_err(zio)?;
    }
    let mut facts =
        serde_json::to_vec(&Facts::of(record)).map_err(|e| ArchiveError::Db(e.to_string()))?;
    facts.push(b'\n');
    Ok(PreparedRecord {
        entries,
        sizes: files.iter().map(|(_, d)| d.len() as u64).collect(),
        facts,
    })
}

/// The size and SHA-256 of a file written into the package (for an mdRef or a METS file).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Described {
    pub(crate) size: u64,
    pub(crate) sha256: String,
}

impl Described {
    pub(crate) fn of(b: &[u8]) -> Described {
        Described {
            size: b.len() as u64,
            sha256: crate::bag::sha256_hex(b),
        }
    }
}

/// An entry generated into the zip, its SHA-256 computed on the way.
struct Digesting<'a> {
    e: crate::zipout::Entry<'a>,
    sha: ring::digest::Context,
}

impl Write for Digesting<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let k = self.e.write(b)?;
        self.sha.update(&b[..k]);
        Ok(k)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.e.flush()
    }
}

/// Bytes a generating thread hands over at once, and chunks queued.
const CHUNK: usize = 256 << 10;
const CHUNKS_QUEUED: usize = 4;

/// What a generating thread writes to: chunks, handed to the thread that writes the zip.
struct Chunks {
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl Chunks {
    fn hand_over(&mut self) -> std::io::Result<()> {
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .send(full)
            .map_err(|_| std::io::Error::other("the zip's writer stopped"))
    }
}

impl Write for Chunks {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK {
            self.hand_over()?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.hand_over()
    }
}

/// Generate the entry `rel` (under the package folder) with `f`, on a thread of its own:
/// `f` formats (and reads the side files) while this thread checksums and writes, so the
/// end of an E-ARK export — the metadata of every record — takes two cores, not one. A
/// failure on either side stops both; the writer's is the one returned.
fn generate(
    z: &mut ZipSink,
    rel: &str,
    f: impl FnOnce(&mut dyn Write) -> Result<()> + Send,
) -> Result<Described> {
    let name = format!("{}/{rel}", z.objid);
    let mut w = Digesting {
        e: z.zip.stream(&name).map_err(zio)?,
        sha: ring::digest::Context::new(&ring::digest::SHA256),
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(CHUNKS_QUEUED);
    let (made, written) = std::thread::scope(|s| {
        let maker = s.spawn(move || {
            let mut c = Chunks {
                tx,
                buf: Vec::with_capacity(CHUNK),
            };
            f(&mut c)?;
            c.flush()
                .map_err(|e| crate::error::file_err("generate", rel, e))
        });
        let mut written = Ok(());
        for chunk in rx.iter() {
            if let Err(e) = w.write_all(&chunk) {
                written = Err(crate::error::file_err("write", rel, e));
                break;
            }
        }
        // Dropping the receiver (on an error) makes the maker's next hand-over fail.
        drop(rx);
        let made = maker
            .join()
            .unwrap_or_else(|_| Err(ArchiveError::Db(format!("generating {rel} panicked"))));
        (made, written)
    });
    written?;
    made?;
    let sha256 = hex::encode(w.sha.finish());
    let size = w.e.finish().map_err(zio)?;
    Ok(Described { size, sha256 })
}

/// A small entry whose bytes are at hand.
fn put_text(z: &mut ZipSink, rel: &str, text: &[u8]) -> Result<Described> {
    z.zip
        .put(&format!("{}/{rel}", z.objid), text)
        .map_err(zio)?;
    Ok(Described {
        size: text.len() as u64,
        sha256: crate::bag::sha256_hex(text),
    })
}

/// The facts lines of the spool, in export order.
struct Spool {
    p: PathBuf,
    r: BufReader<File>,
    line: Vec<u8>,
}

impl Spool {
    fn open(dir: &Path) -> Result<Spool> {
        let p = dir.join(RECORDS_SPOOL);
        let r = BufReader::with_capacity(1 << 16, File::open(&p).map_err(|e| io("open", &p, e))?);
        Ok(Spool {
            p,
            r,
            line: Vec::new(),
        })
    }

    fn next(&mut self) -> Result<Option<Facts>> {
        self.line.clear();
        let k = self
            .r
            .by_ref()
            .take(MAX_FACTS_LINE + 1)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| io("read", &self.p, e))?;
        if k == 0 {
            return Ok(None);
        }
        if k as u64 > MAX_FACTS_LINE {
            return Err(ArchiveError::Inconsistent(format!(
                "{}: a line longer than {MAX_FACTS_LINE} bytes",
                self.p.display()
            )));
        }
        serde_json::from_slice(&self.line)
            .map(Some)
            .map_err(|e| ArchiveError::Inconsistent(format!("{}: {e}", self.p.display())))
    }
}

/// Each facts line of the spool, in export order.
fn each_record(dir: &Path, mut f: impl FnMut(Facts) -> Result<()>) -> Result<u64> {
    let mut spool = Spool::open(dir)?;
    let mut n = 0;
    while let Some(facts) = spool.next()? {
        f(facts)?;
        n += 1;
    }
    Ok(n)
}

/// Each payload file, in manifest order: (SHA-256, path relative to the package, size).
fn each_file(dir: &Path, mut f: impl FnMut(&str, &str, u64) -> Result<()>) -> Result<()> {
    let mp = dir.join("manifest-sha256.txt");
    let sp = dir.join(SIZES_SPOOL);
    let m = BufReader::with_capacity(1 << 16, File::open(&mp).map_err(|e| io("open", &mp, e))?);
    let mut sizes =
        BufReader::with_capacity(1 << 16, File::open(&sp).map_err(|e| io("open", &sp, e))?);
    for line in m.split(b'\n') {
        let line = line.map_err(|e| io("read", &mp, e))?;
        let line = String::from_utf8_lossy(&line);
        let Some((sha, path)) = line.split_once("  ") else {
            continue;
        };
        let mut b = [0u8; 8];
        sizes.read_exact(&mut b).map_err(|e| {
            ArchiveError::Inconsistent(format!("{} ends before the manifest: {e}", sp.display()))
        })?;
        f(sha, path, u64::from_le_bytes(b))?;
    }
    Ok(())
}

/// Per dossier: documents, earliest and latest date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Dossier {
    n: u64,
    from: String,
    to: String,
}

impl Dossier {
    fn add(&mut self, o: &Dossier) {
        self.n += o.n;
        if o.from < self.from {
            self.from = o.from.clone();
        }
        if o.to > self.to {
            self.to = o.to.clone();
        }
    }
}

/// The dossiers of an export, aggregated with bounded memory: at most
/// [`DOSSIERS_IN_MEMORY`] in memory, then a sorted run written to disk; read back merged, in
/// order.
struct Dossiers {
    dir: PathBuf,
    mem: BTreeMap<String, Dossier>,
    runs: Vec<PathBuf>,
    made: usize,
}

impl Dossiers {
    fn new(dir: &Path) -> Dossiers {
        Dossiers {
            dir: dir.to_path_buf(),
            mem: BTreeMap::new(),
            runs: Vec::new(),
            made: 0,
        }
    }

    fn add(&mut self, name: &str, date: &str) -> Result<()> {
        let d = Dossier {
            n: 1,
            from: date.to_string(),
            to: date.to_string(),
        };
        match self.mem.get_mut(name) {
            Some(e) => e.add(&d),
            None => {
                self.mem.insert(name.to_string(), d);
                if self.mem.len() >= DOSSIERS_IN_MEMORY {
                    self.spill()?;
                }
            }
        }
        Ok(())
    }

    fn new_run(&mut self) -> PathBuf {
        self.made += 1;
        self.dir.join(format!("eark-dossiers-{}.run", self.made))
    }

    fn spill(&mut self) -> Result<()> {
        let p = self.new_run();
        let mut w = BufWriter::new(File::create(&p).map_err(|e| io("create", &p, e))?);
        for (k, v) in std::mem::take(&mut self.mem) {
            serde_json::to_writer(&mut w, &(k, v)).map_err(|e| ArchiveError::Db(e.to_string()))?;
            w.write_all(b"\n").map_err(|e| io("write", &p, e))?;
        }
        w.flush().map_err(|e| io("write", &p, e))?;
        self.runs.push(p);
        Ok(())
    }

    /// Every dossier, in order, merged.
    fn each(mut self, mut f: impl FnMut(&str, &Dossier) -> Result<()>) -> Result<()> {
        if self.runs.is_empty() {
            for (k, v) in &self.mem {
                f(k, v)?;
            }
            return Ok(());
        }
        self.spill()?;
        while self.runs.len() > RUNS_MERGED {
            let group: Vec<PathBuf> = self.runs.drain(..RUNS_MERGED).collect();
            let p = self.new_run();
            let mut w = BufWriter::new(File::create(&p).map_err(|e| io("create", &p, e))?);
            merge_runs(&group, &mut |k, v| {
                serde_json::to_writer(&mut w, &(k, v))
                    .map_err(|e| ArchiveError::Db(e.to_string()))?;
                w.write_all(b"\n").map_err(|e| io("write", &p, e))
            })?;
            w.flush().map_err(|e| io("write", &p, e))?;
            for g in group {
                let _ = fs::remove_file(g);
            }
            self.runs.push(p);
        }
        merge_runs(&self.runs, &mut |k, v| f(k, v))
    }
}

/// Merge sorted runs of (dossier, aggregate) lines, combining equal dossiers.
fn merge_runs(runs: &[PathBuf], out: &mut dyn FnMut(&str, &Dossier) -> Result<()>) -> Result<()> {
    let mut readers = Vec::with_capacity(runs.len());
    for p in runs {
        readers.push(BufReader::new(File::open(p).map_err(|e| io("open", p, e))?));
    }
    let read = |i: usize, r: &mut BufReader<File>| -> Result<Option<(String, Dossier)>> {
        let mut line = Vec::new();
        let k = r
            .by_ref()
            .take(MAX_FACTS_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| io("read", &runs[i], e))?;
        if k == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&line)
            .map(Some)
            .map_err(|e| ArchiveError::Inconsistent(format!("{}: {e}", runs[i].display())))
    };
    let mut heads: Vec<Option<Dossier>> = Vec::with_capacity(runs.len());
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        match read(i, r)? {
            Some((k, v)) => {
                heap.push(std::cmp::Reverse((k, i)));
                heads.push(Some(v));
            }
            None => heads.push(None),
        }
    }
    let mut cur: Option<(String, Dossier)> = None;
    while let Some(std::cmp::Reverse((k, i))) = heap.pop() {
        let v = heads[i].take().unwrap_or(Dossier {
            n: 0,
            from: String::new(),
            to: String::new(),
        });
        match &mut cur {
            Some((ck, cv)) if *ck == k => cv.add(&v),
            _ => {
                if let Some((ck, cv)) = cur.take() {
                    out(&ck, &cv)?;
                }
                cur = Some((k, v));
            }
        }
        if let Some((k2, v2)) = read(i, &mut readers[i])? {
            heap.push(std::cmp::Reverse((k2, i)));
            heads[i] = Some(v2);
        }
    }
    if let Some((ck, cv)) = cur {
        out(&ck, &cv)?;
    }
    Ok(())
}

/// The Circular 05/2025/TT-BNV fields the records have, in kyso's own file (not the annexes'
/// `EAD.xml` / `EAD_doc` files): the fonds, the dossiers (the records' `dossier`), and one
/// entry per document (docs/export.md lists each field, and what the record lacks). Two passes over the facts spool: the time span and dossiers, then the
/// documents.
fn write_descriptive(z: &mut ZipSink, organization: &str, records: u64) -> Result<Described> {
    let dir = z.dir.clone();
    let mut dossiers = Dossiers::new(&dir);
    let (mut first, mut last) = (String::new(), String::new());
    let n = each_record(&dir, |r| {
        let date = r.date();
        if first.is_empty() || date < first {
            first = date.clone();
        }
        if date > last {
            last = date.clone();
        }
        if let Some(d) = &r.dossier {
            dossiers.add(d, &date)?;
        }
        Ok(())
    })?;
    if n != records {
        return Err(ArchiveError::Inconsistent(format!(
            "{} holds {n} records; the export has {records}",
            dir.join(RECORDS_SPOOL).display()
        )));
    }
    generate(z, "metadata/descriptive/tt05-2025.xml", |w| {
        let wr = |w: &mut dyn Write, s: &str| {
            w.write_all(s.as_bytes())
                .map_err(|e| crate::error::file_err("write", "tt05-2025.xml", e))
        };
        wr(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
        wr(
            w,
            "<duLieuLuuTru xmlns=\"urn:kyso:tt05-2025-tt-bnv\" thongTu=\"05/2025/TT-BNV\">\n",
        )?;
        wr(w, &format!(
            "  <phong>\n    <tenPhong>{}</tenPhong>\n    <thoiGianTaiLieu>{} – {}</thoiGianTaiLieu>\n    <tongSoTaiLieu>{}</tongSoTaiLieu>\n  </phong>\n",
            esc(organization),
            esc(&first),
            esc(&last),
            records
        ))?;
        dossiers.each(|d, x| {
            wr(w, &format!(
                "  <hoSo>\n    <maHoSo>{}</maHoSo>\n    <thoiGianBatDau>{}</thoiGianBatDau>\n    <thoiGianKetThuc>{}</thoiGianKetThuc>\n    <tongSoTaiLieu>{}</tongSoTaiLieu>\n  </hoSo>\n",
                esc(d),
                esc(&x.from),
                esc(&x.to),
                x.n
            ))
        })?;
        each_record(&dir, |r| {
            let mut t = String::new();
            t.push_str("  <taiLieu>\n");
            let mut field = |name: &str, v: Option<&str>| {
                if let Some(v) = v {
                    t.push_str(&format!("    <{name}>{}</{name}>\n", esc(v)));
                }
            };
            field("maDinhDanh", Some(&format!("{}#{}", r.code, r.id)));
            field("maHoSo", r.dossier.as_deref());
            field("tenLoaiTaiLieu", Some(&r.doc_type));
            field("trichYeuNoiDung", r.title.as_deref());
            field("ngayThangNam", r.issue_date.as_deref());
            field("coQuanBanHanh", r.agency.as_deref());
            field("thuTucHanhChinh", r.procedure.as_deref());
            field("chuTheDuLieu", Some(&r.subject));
            field("soLuongTrang", r.pages.map(|n| n.to_string()).as_deref());
            for s in &r.signers {
                field("nguoiKy", Some(s));
            }
            for (k, v) in &r.meta {
                t.push_str(&format!(
                    "    <truongKhac ten=\"{}\">{}</truongKhac>\n",
                    esc(k),
                    esc(v)
                ));
            }
            t.push_str(&format!(
                "    <tepTin duongDan=\"{}\" dinhDang=\"{}\" kichThuoc=\"{}\" sha256=\"{}\"/>\n  </taiLieu>\n",
                r.document(),
                esc(&r.media_type),
                r.size,
                r.content_sha256
            ));
            wr(w, &t)
        })?;
        wr(w, "</duLieuLuuTru>\n")
    })
}

fn premis_event(
    id: &str,
    kind: &str,
    time: &str,
    detail: &str,
    outcome: &str,
    agent: &str,
    object: Option<&str>,
) -> String {
    format!(
        "  <premis:event>\n    <premis:eventIdentifier><premis:eventIdentifierType>local</premis:eventIdentifierType><premis:eventIdentifierValue>{}</premis:eventIdentifierValue></premis:eventIdentifier>\n    <premis:eventType>{kind}</premis:eventType>\n    <premis:eventDateTime>{}</premis:eventDateTime>\n    <premis:eventDetailInformation><premis:eventDetail>{}</premis:eventDetail></premis:eventDetailInformation>\n    <premis:eventOutcomeInformation><premis:eventOutcome>{}</premis:eventOutcome></premis:eventOutcomeInformation>\n    <premis:linkingAgentIdentifier><premis:linkingAgentIdentifierType>local</premis:linkingAgentIdentifierType><premis:linkingAgentIdentifierValue>{}</premis:linkingAgentIdentifierValue></premis:linkingAgentIdentifier>\n{}  </premis:event>\n",
        esc(id),
        esc(time),
        esc(detail),
        esc(outcome),
        esc(agent),
        object
            .map(|o| format!("    <premis:linkingObjectIdentifier><premis:linkingObjectIdentifierType>local</premis:linkingObjectIdentifierType><premis:linkingObjectIdentifierValue>{}</premis:linkingObjectIdentifierValue></premis:linkingObjectIdentifier>\n", esc(o)))
            .unwrap_or_default()
    )
}

/// PREMIS v3: every payload file with its SHA-256 fixity, size and format (and a document's
/// PRONOM identifier when it declares a PDF/A PRONOM has one); per record its ingest and
/// signature-validation events (and format identification); the transfer (this export).
fn write_premis(z: &mut ZipSink, user: &str, reason: &str, created: &str) -> Result<Described> {
    let dir = z.dir.clone();
    generate(z, "metadata/preservation/premis.xml", |w| {
        let wr = |w: &mut dyn Write, s: &str| {
            w.write_all(s.as_bytes())
                .map_err(|e| crate::error::file_err("write", "premis.xml", e))
        };
        wr(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<premis:premis xmlns:premis=\"http://www.loc.gov/premis/v3\" version=\"3.0\">\n")?;
        // The records, read in step with the manifest: both are in export order, each
        // record's document among its files.
        // (The next record's id, document path and identifier: a path made once per record,
        // not once per file.)
        let mut spool = Spool::open(&dir)?;
        let ahead = |spool: &mut Spool| -> Result<Option<(u64, String, Option<&'static str>)>> {
            Ok(spool.next()?.map(|r| (r.id, r.document(), r.pronom())))
        };
        let mut next = ahead(&mut spool)?;
        each_file(&dir, |sha, path, size| {
            let mut registry = None;
            if let Some((_, _, pronom)) = next.as_ref().filter(|(_, doc, _)| doc == path) {
                registry = *pronom;
                next = ahead(&mut spool)?;
            }
            wr(w, &format!(
                "  <premis:object xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"premis:file\">\n    <premis:objectIdentifier><premis:objectIdentifierType>local</premis:objectIdentifierType><premis:objectIdentifierValue>{}</premis:objectIdentifierValue></premis:objectIdentifier>\n    <premis:objectCharacteristics><premis:compositionLevel>0</premis:compositionLevel><premis:fixity><premis:messageDigestAlgorithm>SHA-256</premis:messageDigestAlgorithm><premis:messageDigest>{sha}</premis:messageDigest></premis:fixity><premis:size>{size}</premis:size><premis:format><premis:formatDesignation><premis:formatName>{}</premis:formatName></premis:formatDesignation>{}</premis:format></premis:objectCharacteristics>\n  </premis:object>\n",
                esc(path),
                media_type(path),
                registry.map(pronom_registry).unwrap_or_default()
            ))
        })?;
        if let Some((id, doc, _)) = next {
            return Err(ArchiveError::Inconsistent(format!(
                "{}: record {id}'s document {doc} is not in the manifest where the records spool has it",
                dir.display(),
            )));
        }
        each_record(&dir, |r| {
            let doc = r.document();
            wr(
                w,
                &premis_event(
                    &format!("ingest-{}", r.id),
                    "ingestion",
                    &r.ingest_time,
                    &format!(
                        "record {} ({}) archived at log entry {}",
                        r.id, r.code, r.leaf
                    ),
                    "success",
                    &r.ingest_user,
                    Some(&doc),
                ),
            )?;
            let detail = match &r.kept_unverified {
                Some(why) => format!(
                    "signatures validated at ingest (ETSI EN 319 102-1); kept unverified: {why}"
                ),
                None => "signatures validated at ingest (ETSI EN 319 102-1)".into(),
            };
            wr(
                w,
                &premis_event(
                    &format!("validation-{}", r.id),
                    "validation",
                    r.gathered.as_deref().unwrap_or(&r.ingest_time),
                    &detail,
                    &r.indication,
                    "kyso",
                    Some(&doc),
                ),
            )?;
            match r.format_identified() {
                Some(detail) => wr(
                    w,
                    &premis_event(
                        &format!("format-{}", r.id),
                        "format identification",
                        &r.ingest_time,
                        &detail,
                        "declared",
                        "kyso",
                        Some(&doc),
                    ),
                ),
                None => Ok(()),
            }
        })?;
        wr(
            w,
            &premis_event(
                "transfer",
                "transfer",
                created,
                &format!("exported by kyso for long-term preservation: {reason}"),
                "success",
                user,
                None,
            ),
        )?;
        for (id, kind) in [(user, "person"), ("kyso", "software")] {
            wr(w, &format!(
                "  <premis:agent>\n    <premis:agentIdentifier><premis:agentIdentifierType>local</premis:agentIdentifierType><premis:agentIdentifierValue>{}</premis:agentIdentifierValue></premis:agentIdentifier>\n    <premis:agentName>{}</premis:agentName>\n    <premis:agentType>{kind}</premis:agentType>\n  </premis:agent>\n",
                esc(id),
                esc(id)
            ))?;
        }
        wr(w, "</premis:premis>\n")
    })
}

/// A PREMIS object's `formatRegistry`: the PRONOM identifier `key`, the format's
/// specification (the Library of Congress's formatRegistryRole vocabulary).
fn pronom_registry(key: &str) -> String {
    format!("<premis:formatRegistry><premis:formatRegistryName>PRONOM</premis:formatRegistryName><premis:formatRegistryKey>{}</premis:formatRegistryKey><premis:formatRegistryRole>specification</premis:formatRegistryRole></premis:formatRegistry>", esc(key))
}

/// Copy a manifest from the `.partial` directory into the zip.
fn copy_manifest(z: &mut ZipSink, name: &str) -> Result<Described> {
    let p = z.dir.join(name);
    let mut f = File::open(&p).map_err(|e| io("open", &p, e))?;
    generate(z, &format!("{MANIFESTS}/{name}"), |w| {
        std::io::copy(&mut f, w).map_err(|e| io("copy", &p, e))?;
        Ok(())
    })
}

/// The content information type of every file group (CSIP62–63: OTHER, and what it is).
const CIT: &str = "csip:CONTENTINFORMATIONTYPE=\"OTHER\" csip:OTHERCONTENTINFORMATIONTYPE=\"kyso signed records with evidence\"";

/// documentation/README.txt: what the package is and how to check it.
const README: &str = "This E-ARK information package was exported by kyso, a signing and e-archive appliance.\n\
\n\
representations/rep1/data/records/<id>/  one archived record: the signed document, its detached\n\
    signature (if any), metadata.json (the record exactly as the archive stored it, with the\n\
    validation report made at ingest), log.json (its log events with inclusion proofs)\n\
representations/rep1/data/evidence/      certificates, CRLs and OCSP responses kept at ingest\n\
representations/rep1/data/log/           the signed checkpoint every proof leads to, its RFC 3161\n\
    time-stamp, the log key, and the export's own log events (which records, who, why)\n\
metadata/descriptive/tt05-2025.xml        descriptive metadata (Circular 05/2025/TT-BNV)\n\
metadata/preservation/premis.xml          PREMIS v3: fixity (SHA-256) of every file, events\n\
\n\
Check it offline, with the log key's certificate obtained from the archive (not from this package):\n\
    kyso bag verify PACKAGE.zip --log-key log.pem\n";

/// schemas/tt05-2025.xsd: the schema of the descriptive metadata file.
const XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:kyso:tt05-2025-tt-bnv"
  xmlns="urn:kyso:tt05-2025-tt-bnv" elementFormDefault="qualified">
  <xs:element name="duLieuLuuTru">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="phong">
          <xs:complexType><xs:sequence>
            <xs:element name="tenPhong" type="xs:string"/>
            <xs:element name="thoiGianTaiLieu" type="xs:string"/>
            <xs:element name="tongSoTaiLieu" type="xs:nonNegativeInteger"/>
          </xs:sequence></xs:complexType>
        </xs:element>
        <xs:element name="hoSo" minOccurs="0" maxOccurs="unbounded">
          <xs:complexType><xs:sequence>
            <xs:element name="maHoSo" type="xs:string"/>
            <xs:element name="thoiGianBatDau" type="xs:string"/>
            <xs:element name="thoiGianKetThuc" type="xs:string"/>
            <xs:element name="tongSoTaiLieu" type="xs:nonNegativeInteger"/>
          </xs:sequence></xs:complexType>
        </xs:element>
        <xs:element name="taiLieu" minOccurs="0" maxOccurs="unbounded">
          <xs:complexType><xs:sequence>
            <xs:element name="maDinhDanh" type="xs:string"/>
            <xs:element name="maHoSo" type="xs:string" minOccurs="0"/>
            <xs:element name="tenLoaiTaiLieu" type="xs:string"/>
            <xs:element name="trichYeuNoiDung" type="xs:string" minOccurs="0"/>
            <xs:element name="ngayThangNam" type="xs:date" minOccurs="0"/>
            <xs:element name="coQuanBanHanh" type="xs:string" minOccurs="0"/>
            <xs:element name="thuTucHanhChinh" type="xs:string" minOccurs="0"/>
            <xs:element name="chuTheDuLieu" type="xs:string"/>
            <xs:element name="soLuongTrang" type="xs:nonNegativeInteger" minOccurs="0"/>
            <xs:element name="nguoiKy" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
            <xs:element name="truongKhac" minOccurs="0" maxOccurs="unbounded">
              <xs:complexType><xs:simpleContent><xs:extension base="xs:string">
                <xs:attribute name="ten" type="xs:string" use="required"/>
              </xs:extension></xs:simpleContent></xs:complexType>
            </xs:element>
            <xs:element name="tepTin">
              <xs:complexType>
                <xs:attribute name="duongDan" type="xs:string" use="required"/>
                <xs:attribute name="dinhDang" type="xs:string" use="required"/>
                <xs:attribute name="kichThuoc" type="xs:nonNegativeInteger" use="required"/>
                <xs:attribute name="sha256" type="xs:string" use="required"/>
              </xs:complexType>
            </xs:element>
          </xs:sequence></xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="thongTu" type="xs:string"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"#;

const METS_NS: &str = "xmlns:mets=\"http://www.loc.gov/METS/\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:csip=\"https://DILCIS.eu/XML/METS/CSIPExtensionMETS\"";

/// What opens the software version in a METS header (the version of kyso that exported).
pub(crate) const VERSION_NOTE: &str = "<mets:note csip:NOTETYPE=\"SOFTWARE VERSION\">";

fn mets_hdr(created: &str, version: &str) -> String {
    format!(
        "  <mets:metsHdr CREATEDATE=\"{created}\" LASTMODDATE=\"{created}\" RECORDSTATUS=\"NEW\" csip:OAISPACKAGETYPE=\"SIP\">\n    <mets:agent ROLE=\"CREATOR\" TYPE=\"OTHER\" OTHERTYPE=\"SOFTWARE\"><mets:name>kyso</mets:name>{VERSION_NOTE}{}</mets:note></mets:agent>\n  </mets:metsHdr>\n",
        esc(version)
    )
}

fn md_ref(rel: &str, mdtype: &str, d: &Described, created: &str) -> String {
    let kind = if mdtype == "PREMIS" {
        "MDTYPE=\"PREMIS\"".to_string()
    } else {
        format!("MDTYPE=\"OTHER\" OTHERMDTYPE=\"{mdtype}\"")
    };
    let mime = media_type(rel);
    format!(
        "<mets:mdRef LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"{rel}\" {kind} MIMETYPE=\"{mime}\" SIZE=\"{}\" CREATED=\"{created}\" CHECKSUM=\"{}\" CHECKSUMTYPE=\"SHA-256\"/>",
        d.size, d.sha256
    )
}

/// A fileSec entry for a file outside the payload (documentation, schemas).
fn file_entry(rel: &str, id: &str, d: &Described, created: &str) -> String {
    format!(
        "      <mets:file ID=\"{id}\" MIMETYPE=\"{}\" SIZE=\"{}\" CREATED=\"{created}\" CHECKSUM=\"{}\" CHECKSUMTYPE=\"SHA-256\"><mets:FLocat LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"{rel}\"/></mets:file>\n",
        if rel.ends_with(".xsd") || rel.ends_with(".xml") {
            "text/xml"
        } else {
            "text/plain"
        },
        d.size,
        d.sha256
    )
}

/// The representation's METS: every payload file with its SHA-256 (hrefs relative to the
/// representation folder), streamed from the manifest and the sizes.
fn write_rep_mets(z: &mut ZipSink, objid: &str, created: &str) -> Result<Described> {
    let dir = z.dir.clone();
    generate(z, "representations/rep1/METS.xml", |w| {
        let wr = |w: &mut dyn Write, s: &str| {
            w.write_all(s.as_bytes())
                .map_err(|e| crate::error::file_err("write", "representations/rep1/METS.xml", e))
        };
        wr(w, &rep_mets_head(objid, created, env!("CARGO_PKG_VERSION")))?;
        let mut n = 0u64;
        each_file(&dir, |sha, path, size| {
            n += 1;
            wr(w, &rep_mets_file(n, path, size, sha, created))
        })?;
        wr(w, REP_METS_END)
    })
}

/// The representation's METS up to its first file entry.
pub(crate) fn rep_mets_head(objid: &str, created: &str, version: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mets:mets {METS_NS} OBJID=\"{}/rep1\" LABEL=\"rep1\" TYPE=\"Textual works – Digital\" csip:CONTENTINFORMATIONTYPE=\"MIXED\" PROFILE=\"https://earksip.dilcis.eu/profile/E-ARK-SIP.xml\">\n{}  <mets:fileSec ID=\"filesec-rep1\">\n    <mets:fileGrp ID=\"filegrp-data\" USE=\"Data\" {CIT}>\n",
        esc(objid),
        mets_hdr(created, version)
    )
}

/// The representation METS's entry (one line) of its `n`th payload file (1-based, in the
/// order of manifest-sha256.txt), `path` under the package folder.
pub(crate) fn rep_mets_file(n: u64, path: &str, size: u64, sha256: &str, created: &str) -> String {
    let href = path.strip_prefix("representations/rep1/").unwrap_or(path);
    format!(
        "      <mets:file ID=\"file-{n}\" MIMETYPE=\"{}\" SIZE=\"{size}\" CREATED=\"{created}\" CHECKSUM=\"{sha256}\" CHECKSUMTYPE=\"SHA-256\"><mets:FLocat LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"{}\"/></mets:file>\n",
        media_type(path),
        esc(href)
    )
}

/// The representation's METS after its last file entry.
pub(crate) const REP_METS_END: &str = "    </mets:fileGrp>\n  </mets:fileSec>\n  <mets:structMap ID=\"structmap-rep1\" TYPE=\"PHYSICAL\" LABEL=\"CSIP\">\n    <mets:div ID=\"div-rep1\" LABEL=\"rep1\">\n      <mets:div ID=\"div-data\" LABEL=\"Data\"><mets:fptr FILEID=\"filegrp-data\"/></mets:div>\n    </mets:div>\n  </mets:structMap>\n</mets:mets>\n";

/// The root METS's metadata division: what `kyso bag renew` adds an ADMID to.
const METADATA_DIV: &str =
    "<mets:div ID=\"div-metadata\" LABEL=\"Metadata\" DMDID=\"dmd-tt05\" ADMID=\"";
/// The end of the root METS's amdSec: where `kyso bag renew` adds a digiprovMD.
const AMDSEC_END: &str = "</mets:amdSec>";

/// The files the root METS references with a checksum (renewals aside), in the order of
/// [`RootMets::files`].
pub(crate) const ROOT_REFERENCED: [&str; 7] = [
    "metadata/descriptive/tt05-2025.xml",
    "metadata/preservation/premis.xml",
    "metadata/preservation/manifest-sha256.txt",
    "metadata/preservation/manifest-sha512.txt",
    "documentation/README.txt",
    "schemas/tt05-2025.xsd",
    "representations/rep1/METS.xml",
];

/// Everything the root METS is made of, before any renewal: `bag verify` makes it again from
/// what it verified and holds the package's to it, as values (archive/src/eark_check.rs).
pub(crate) struct RootMets<'a> {
    /// The package's folder.
    pub(crate) objid: &'a str,
    /// The records exported (the label says how many).
    pub(crate) records: u64,
    /// When the export finished (RFC 3339).
    pub(crate) created: &'a str,
    /// The version of kyso that exported.
    pub(crate) version: &'a str,
    /// The files of [`ROOT_REFERENCED`], in its order.
    pub(crate) files: [Described; 7],
}

/// The root METS (CSIP 2.1): the package's identity and type, the metadata files, the
/// documentation and schema, and the representation by its own METS.
pub(crate) fn root_mets(m: &RootMets<'_>) -> String {
    let (objid, created) = (m.objid, m.created);
    let label = format!("{} records exported by kyso", m.records);
    let [dmd, premis, m256, m512, readme, xsd, rep] = &m.files;
    let dmd = md_ref(
        "metadata/descriptive/tt05-2025.xml",
        "TT05-2025-TT-BNV",
        dmd,
        created,
    );
    let premis = md_ref(
        "metadata/preservation/premis.xml",
        "PREMIS",
        premis,
        created,
    );
    let m256 = md_ref(
        "metadata/preservation/manifest-sha256.txt",
        "BagIt manifest SHA-256",
        m256,
        created,
    );
    let m512 = md_ref(
        "metadata/preservation/manifest-sha512.txt",
        "BagIt manifest SHA-512",
        m512,
        created,
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<mets:mets {METS_NS} OBJID=\"{}\" LABEL=\"{}\" TYPE=\"Textual works – Digital\" csip:CONTENTINFORMATIONTYPE=\"MIXED\" PROFILE=\"https://earksip.dilcis.eu/profile/E-ARK-SIP.xml\">\n\
{}\
  <mets:dmdSec ID=\"dmd-tt05\" CREATED=\"{created}\" STATUS=\"CURRENT\">{dmd}</mets:dmdSec>\n\
  <mets:amdSec>\n\
    <mets:digiprovMD ID=\"digiprov-premis\" CREATED=\"{created}\" STATUS=\"CURRENT\">{premis}</mets:digiprovMD>\n\
    <mets:digiprovMD ID=\"digiprov-manifest-sha256\" CREATED=\"{created}\" STATUS=\"CURRENT\">{m256}</mets:digiprovMD>\n\
    <mets:digiprovMD ID=\"digiprov-manifest-sha512\" CREATED=\"{created}\" STATUS=\"CURRENT\">{m512}</mets:digiprovMD>\n\
{AMDSEC_END}\n\
  <mets:fileSec ID=\"filesec\">\n\
    <mets:fileGrp ID=\"filegrp-documentation\" USE=\"Documentation\" {CIT}>\n{}    </mets:fileGrp>\n\
    <mets:fileGrp ID=\"filegrp-schemas\" USE=\"Schemas\" {CIT}>\n{}    </mets:fileGrp>\n\
    <mets:fileGrp ID=\"filegrp-rep1\" USE=\"Representations/rep1\" {CIT}>\n{}    </mets:fileGrp>\n\
  </mets:fileSec>\n\
  <mets:structMap ID=\"structmap\" TYPE=\"PHYSICAL\" LABEL=\"CSIP\">\n\
    <mets:div ID=\"div-root\" LABEL=\"{}\">\n\
      {METADATA_DIV}digiprov-premis digiprov-manifest-sha256 digiprov-manifest-sha512\"/>\n\
      <mets:div ID=\"div-documentation\" LABEL=\"Documentation\"><mets:fptr FILEID=\"filegrp-documentation\"/></mets:div>\n\
      <mets:div ID=\"div-schemas\" LABEL=\"Schemas\"><mets:fptr FILEID=\"filegrp-schemas\"/></mets:div>\n\
      <mets:div ID=\"div-representations\" LABEL=\"Representations\"><mets:fptr FILEID=\"filegrp-rep1\"/>\n\
        <mets:div ID=\"div-rep1\" LABEL=\"Representations/rep1\"><mets:mptr LOCTYPE=\"URL\" xlink:type=\"simple\" xlink:href=\"representations/rep1/METS.xml\" xlink:title=\"rep1\"/></mets:div>\n\
      </mets:div>\n\
    </mets:div>\n\
  </mets:structMap>\n\
</mets:mets>\n",
        esc(objid),
        esc(&label),
        mets_hdr(created, m.version),
        file_entry("documentation/README.txt", "file-documentation", readme, created),
        file_entry("schemas/tt05-2025.xsd", "file-schema", xsd, created),
        file_entry("representations/rep1/METS.xml", "file-rep1-mets", rep, created),
        esc(objid),
    )
}

/// The PREMIS eventType of a renewal: the Library of Congress's preservation vocabulary
/// (id.loc.gov/vocabulary/preservation/eventType), term `dsg`. A renewal is a TSA's signature
/// (an RFC 3161 token is CMS SignedData) made over the package's evidence; docs/export.md says
/// why not `fixity check` or `metadata modification`.
const RENEWAL_EVENT_TYPE: &str = "<premis:eventType authority=\"eventType\" authorityURI=\"http://id.loc.gov/vocabulary/preservation/eventType\" valueURI=\"http://id.loc.gov/vocabulary/preservation/eventType/dsg\">digital signature generation</premis:eventType>";

/// What `kyso bag renew` did, for its PREMIS file.
pub(crate) struct Renewal<'a> {
    /// Its number (`kyso-renewal-<n>.tsr`).
    pub n: usize,
    /// The token's path in the package.
    pub token_path: &'a str,
    /// The token's size and SHA-256.
    pub token: &'a Described,
    /// The version of kyso that renewed.
    pub version: &'a str,
    /// The token's genTime (RFC 3339).
    pub time: &'a str,
    /// The TSA's subject, from its certificate.
    pub tsa: &'a str,
    /// What the token covers, in order (package paths): the checkpoint note, the SHA-512
    /// manifest, the earlier time-stamps.
    pub covered: &'a [String],
    /// When each earlier time-stamp was made (genTime, RFC 3339), as validated before renewing;
    /// the last entries of `covered` are those time-stamps.
    pub held: &'a [String],
}

/// `metadata/preservation/premis-renewal-<n>.xml` (PREMIS v3): the new token as a file object
/// with its SHA-256 fixity, size and format; the renewal as a `digital signature generation`
/// event at the token's genTime, linked to what it covers (role `source`) and to the token
/// (role `outcome`); the agents (kyso, the TSA). A file of its own per renewal, referenced from
/// the root METS (CSIP allows preservation metadata split over several PREMIS files): the
/// export's premis.xml stays as written, and so does its checksum in the METS.
pub(crate) fn premis_renewal(r: &Renewal<'_>) -> String {
    let sha = &r.token.sha256;
    let id = |t: &str, v: &str| {
        format!(
            "<premis:{t}Type>local</premis:{t}Type><premis:{t}Value>{}</premis:{t}Value>",
            esc(v)
        )
    };
    let event_id = format!("renewal-{}", r.n);
    let tsa_id = format!("tsa: {}", r.tsa);
    let stamps = r.covered.len().saturating_sub(r.held.len());
    let held: Vec<String> = r.covered[stamps..]
        .iter()
        .zip(r.held)
        .map(|(p, t)| format!("{p} (made {t})"))
        .collect();
    let mut x = String::with_capacity(4096);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<premis:premis xmlns:premis=\"http://www.loc.gov/premis/v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" version=\"3.0\">\n");
    x.push_str(&format!(
        "  <premis:object xsi:type=\"premis:file\">\n    <premis:objectIdentifier>{}</premis:objectIdentifier>\n    <premis:objectCharacteristics><premis:compositionLevel>0</premis:compositionLevel><premis:fixity><premis:messageDigestAlgorithm>SHA-256</premis:messageDigestAlgorithm><premis:messageDigest>{sha}</premis:messageDigest></premis:fixity><premis:size>{}</premis:size><premis:format><premis:formatDesignation><premis:formatName>{}</premis:formatName></premis:formatDesignation></premis:format></premis:objectCharacteristics>\n    <premis:linkingEventIdentifier>{}</premis:linkingEventIdentifier>\n  </premis:object>\n",
        id("objectIdentifier", r.token_path),
        r.token.size,
        media_type(r.token_path),
        id("linkingEventIdentifier", &event_id),
    ));
    x.push_str(&format!(
        "  <premis:event>\n    <premis:eventIdentifier>{}</premis:eventIdentifier>\n    {RENEWAL_EVENT_TYPE}\n    <premis:eventDateTime>{}</premis:eventDateTime>\n    <premis:eventDetailInformation><premis:eventDetail>{}</premis:eventDetail></premis:eventDetailInformation>\n    <premis:eventOutcomeInformation><premis:eventOutcome>success</premis:eventOutcome><premis:eventOutcomeDetail><premis:eventOutcomeDetailNote>{}</premis:eventOutcomeDetailNote></premis:eventOutcomeDetail></premis:eventOutcomeInformation>\n",
        id("eventIdentifier", &event_id),
        esc(r.time),
        esc(&format!(
            "kyso bag renew: RFC 3161 time-stamp {} by the TSA {} over {} (the RFC 4998 evidence-record idea: each renewal covers the evidence and every earlier time-stamp)",
            r.token_path,
            r.tsa,
            r.covered.join(" ‖ ")
        )),
        esc(&format!(
            "the time-stamp chain held when renewed: {}; the new time-stamp was validated over what it covers",
            held.join(", ")
        )),
    ));
    for (agent, role) in [
        ("kyso", "executing program"),
        (tsa_id.as_str(), "implementer"),
    ] {
        x.push_str(&format!(
            "    <premis:linkingAgentIdentifier>{}<premis:linkingAgentRole>{role}</premis:linkingAgentRole></premis:linkingAgentIdentifier>\n",
            id("linkingAgentIdentifier", agent)
        ));
    }
    for p in r.covered {
        x.push_str(&format!(
            "    <premis:linkingObjectIdentifier>{}<premis:linkingObjectRole>source</premis:linkingObjectRole></premis:linkingObjectIdentifier>\n",
            id("linkingObjectIdentifier", p)
        ));
    }
    x.push_str(&format!(
        "    <premis:linkingObjectIdentifier>{}<premis:linkingObjectRole>outcome</premis:linkingObjectRole></premis:linkingObjectIdentifier>\n  </premis:event>\n",
        id("linkingObjectIdentifier", r.token_path)
    ));
    for (agent, name, kind, version) in [
        ("kyso", "kyso", "software", Some(r.version)),
        (tsa_id.as_str(), r.tsa, "organization", None),
    ] {
        x.push_str(&format!(
            "  <premis:agent>\n    <premis:agentIdentifier>{}</premis:agentIdentifier>\n    <premis:agentName>{}</premis:agentName>\n    <premis:agentType>{kind}</premis:agentType>\n{}  </premis:agent>\n",
            id("agentIdentifier", agent),
            esc(name),
            version
                .map(|v| format!("    <premis:agentVersion>{}</premis:agentVersion>\n", esc(v)))
                .unwrap_or_default()
        ));
    }
    x.push_str("</premis:premis>\n");
    x
}

/// The root METS with a renewal added (`kyso bag renew`): two digiprovMDs, the time-stamp
/// token's (`digiprov-renewal-<n>`) and its PREMIS file's (`digiprov-premis-renewal-<n>`), each
/// an mdRef with the file's size and SHA-256, both named by the metadata division's ADMID; the
/// header's LASTMODDATE set to `created`.
pub(crate) fn mets_with_renewal(
    mets: &str,
    n: usize,
    (rel, token): (&str, &Described),
    (premis_rel, premis): (&str, &Described),
    created: &str,
) -> std::result::Result<String, String> {
    let id = format!("digiprov-renewal-{n}");
    let premis_id = format!("digiprov-premis-renewal-{n}");
    if mets.contains(&format!("ID=\"{id}\"")) || mets.contains(&format!("ID=\"{premis_id}\"")) {
        return Err(format!("METS.xml already has {id}"));
    }
    let not_kyso = |what: &str| format!("METS.xml is not as kyso writes it ({what}): not renewed");
    let at = mets.find(AMDSEC_END).ok_or_else(|| not_kyso("no amdSec"))?;
    let lines = format!(
        "    <mets:digiprovMD ID=\"{id}\" CREATED=\"{created}\" STATUS=\"CURRENT\">{}</mets:digiprovMD>\n    <mets:digiprovMD ID=\"{premis_id}\" CREATED=\"{created}\" STATUS=\"CURRENT\">{}</mets:digiprovMD>\n",
        md_ref(
            rel,
            "RFC 3161 time-stamp token (kyso bag renew)",
            token,
            created
        ),
        md_ref(premis_rel, "PREMIS", premis, created)
    );
    let mut out = String::with_capacity(mets.len() + lines.len() + 64);
    out.push_str(&mets[..at]);
    out.push_str(&lines);
    out.push_str(&mets[at..]);
    let div = out
        .find(METADATA_DIV)
        .ok_or_else(|| not_kyso("no metadata division"))?
        + METADATA_DIV.len();
    let close = out[div..]
        .find('"')
        .ok_or_else(|| not_kyso("an unclosed ADMID"))?
        + div;
    out.insert_str(close, &format!(" {id} {premis_id}"));
    let k = " LASTMODDATE=\"";
    let lm = out.find(k).ok_or_else(|| not_kyso("no LASTMODDATE"))? + k.len();
    let end = out[lm..]
        .find('"')
        .ok_or_else(|| not_kyso("an unclosed LASTMODDATE"))?
        + lm;
    out.replace_range(lm..end, created);
    Ok(out)
}

/// Finish the package: the metadata generated from the side files, the manifests, README,
/// schema, the representation's METS and the root METS appended, then the central directory;
/// the zip made durable. Returns its path (in `dir`, to be renamed into place).
pub(crate) fn finish_zip(
    mut z: ZipSink,
    records: u64,
    organization: &str,
    user: &str,
    reason: &str,
) -> Result<PathBuf> {
    z.flush()?;
    let created = now();
    let objid = z.objid.clone();
    for d in [
        "metadata/",
        "metadata/descriptive/",
        "metadata/preservation/",
        "documentation/",
        "schemas/",
    ] {
        z.zip.folder(&format!("{objid}/{d}")).map_err(zio)?;
    }
    let dmd = write_descriptive(&mut z, organization, records)?;
    let premis = write_premis(&mut z, user, reason, &created)?;
    let m256 = copy_manifest(&mut z, "manifest-sha256.txt")?;
    let m512 = copy_manifest(&mut z, "manifest-sha512.txt")?;
    let readme = put_text(&mut z, "documentation/README.txt", README.as_bytes())?;
    let xsd = put_text(&mut z, "schemas/tt05-2025.xsd", XSD.as_bytes())?;
    let rep = write_rep_mets(&mut z, &objid, &created)?;
    let mets = root_mets(&RootMets {
        objid: &objid,
        records,
        created: &created,
        version: env!("CARGO_PKG_VERSION"),
        files: [dmd, premis, m256, m512, readme, xsd, rep],
    });
    put_text(&mut z, "METS.xml", mets.as_bytes())?;
    let path = z.dir.join(ZIP_PARTIAL);
    let f = z.zip.finish().map_err(zio)?;
    f.sync_all().map_err(|e| io("fsync", &path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    /// What XML does not allow is dropped, what it escapes escaped, the rest kept as it is.
    #[test]
    fn escaping_leaves_only_what_xml_allows() {
        assert!(matches!(
            esc("Giấy phép số 12"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(esc("a\u{FFFF}b\u{FFFE}c\u{1}d\te"), "abcd\te");
        assert_eq!(esc("<&>\"'\u{FFFD}"), "&lt;&amp;&gt;&quot;&apos;\u{FFFD}");
        assert!(esc("x\u{FFFF}").chars().all(xml_char));
    }

    use super::*;

    #[test]
    fn dossiers_spilled_to_runs_merge_to_what_memory_would_give() {
        let d = tempfile::tempdir().unwrap();
        let mut big = Dossiers::new(d.path());
        let mut want: BTreeMap<String, Dossier> = BTreeMap::new();
        // More distinct dossiers than fit in memory, runs more than merged at once.
        let total = DOSSIERS_IN_MEMORY * (RUNS_MERGED + 3) + 17;
        for i in 0..total {
            let name = format!("HS-{:07}", (i * 7919) % (total / 2 + 1));
            let date = format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
            big.add(&name, &date).unwrap();
            let x = Dossier {
                n: 1,
                from: date.clone(),
                to: date,
            };
            match want.get_mut(&name) {
                Some(e) => e.add(&x),
                None => {
                    want.insert(name, x);
                }
            }
        }
        assert!(big.runs.len() > RUNS_MERGED);
        let mut got = Vec::new();
        big.each(|k, v| {
            got.push((k.to_string(), v.clone()));
            Ok(())
        })
        .unwrap();
        let want: Vec<(String, Dossier)> = want.into_iter().collect();
        assert_eq!(got.len(), want.len());
        assert_eq!(got, want);
    }

    #[test]
    fn renewal_is_added_to_the_root_mets_once() {
        let d = |s: &str| Described {
            size: s.len() as u64,
            sha256: "00".repeat(32),
        };
        let x = d("x");
        let mets = root_mets(&RootMets {
            objid: "o",
            records: 2,
            created: "2026-01-01T00:00:00Z",
            version: "0.1.0",
            files: std::array::from_fn(|_| x.clone()),
        });
        let r = mets_with_renewal(
            &mets,
            1,
            ("metadata/preservation/kyso-renewal-1.tsr", &d("token")),
            (
                "metadata/preservation/premis-renewal-1.xml",
                &d("<premis/>"),
            ),
            "2027-01-01T00:00:00Z",
        )
        .unwrap();
        assert!(r.contains("ADMID=\"digiprov-premis digiprov-manifest-sha256 digiprov-manifest-sha512 digiprov-renewal-1 digiprov-premis-renewal-1\""));
        assert!(r.contains("<mets:digiprovMD ID=\"digiprov-renewal-1\""));
        assert!(r.contains("xlink:href=\"metadata/preservation/kyso-renewal-1.tsr\""));
        assert!(r.contains("<mets:digiprovMD ID=\"digiprov-premis-renewal-1\""));
        assert!(r.contains(
            "xlink:href=\"metadata/preservation/premis-renewal-1.xml\" MDTYPE=\"PREMIS\""
        ));
        assert!(r.contains("LASTMODDATE=\"2027-01-01T00:00:00Z\""));
        assert!(r.contains("CREATEDATE=\"2026-01-01T00:00:00Z\""));
        let again = |m: &str| mets_with_renewal(m, 1, ("x", &x), ("y", &x), "c");
        assert!(again(&r).is_err());
        assert!(again("<mets/>").is_err());
    }

    /// The quick path (nothing to escape: borrowed) gives what the character loop gives.
    #[test]
    fn esc_borrows_only_what_needs_no_escaping() {
        for s in [
            "",
            "Giấy phép xây dựng số 12/GPXD",
            "a & b",
            "<x y=\"1\">'q'</x>",
            "tab\tnew\nline\rret",
            "bell\u{7}and\u{1f}nul\u{0}",
        ] {
            let slow: String = s
                .chars()
                .filter(|&c| (c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r'))
                .map(|c| match c {
                    '&' => "&amp;".to_string(),
                    '<' => "&lt;".to_string(),
                    '>' => "&gt;".to_string(),
                    '"' => "&quot;".to_string(),
                    '\'' => "&apos;".to_string(),
                    c => c.to_string(),
                })
                .collect();
            let got = esc(s);
            assert_eq!(got, slow, "{s:?}");
            assert_eq!(
                matches!(got, std::borrow::Cow::Borrowed(_)),
                slow == s,
                "{s:?}"
            );
        }
    }

    /// A generated entry is what its maker wrote, across chunk boundaries; a maker's failure
    /// is the entry's, and stops it.
    #[test]
    fn a_generated_entry_is_its_makers_bytes_and_its_failure() {
        let d = tempfile::tempdir().unwrap();
        let mut z = ZipSink::open(d.path(), "o", None, 0).unwrap();
        let want: Vec<u8> = (0..3 * CHUNK + 5).map(|i| (i * 7 % 251) as u8).collect();
        let got = generate(&mut z, "big.xml", |w| {
            for part in want.chunks(1000) {
                w.write_all(part)
                    .map_err(|e| ArchiveError::Db(e.to_string()))?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(got.size, want.len() as u64);
        assert_eq!(got.sha256, crate::bag::sha256_hex(&want));
        let e = generate(&mut z, "broken.xml", |w| {
            w.write_all(&want)
                .map_err(|e| ArchiveError::Db(e.to_string()))?;
            Err(ArchiveError::Inconsistent("a side file is damaged".into()))
        })
        .expect_err("the maker's failure");
        assert!(e.to_string().contains("a side file is damaged"), "{e}");
    }
}

/// What `bag verify` reads of the metadata files (crate::eark_check) is what the export wrote,
/// for values that need escaping, line ends, control characters, tabs in attribute values,
/// optional fields absent, dossiers and the fonds' dates; and a record whose facts differ is
/// named.
#[cfg(test)]
mod metadata_round_trip {
    use super::*;
    use crate::eark_check::{
        check_descriptive, check_premis_events, check_premis_objects, Aggregates, Bound, Findings,
        Known,
    };
    use std::collections::HashMap;

    fn facts(i: u64) -> Facts {
        let odd = "a & b <c> \"q\" 'a' ]]>\r\nline\rcr\ttab\u{7}bell Hà Nội";
        Facts {
            id: i * 3,
            code: format!("0010990000{i:02}.GIAY_PHEP"),
            subject: format!("0010990000{i:02}"),
            doc_type: odd.into(),
            title: (i % 2 == 0).then(|| odd.to_string()),
            agency: Some(format!("UBND {i} & co")),
            procedure: None,
            dossier: (i != 4).then(|| format!("HS-{}", i % 2)),
            issue_date: (i != 1).then(|| format!("2026-0{}-01", 5 - i)),
            media_type: if i == 2 {
                "application/pkcs7-mime"
            } else {
                "application/pdf"
            }
            .into(),
            size: 1000 + i,
            content_sha256: format!("{i:02x}").repeat(32),
            signers: vec![odd.into(), "Nguyễn Văn A".into()],
            meta: BTreeMap::from([
                (format!("k\t{i}\r\nx"), odd.into()),
                ("b".into(), String::new()),
            ]),
            leaf: 10 + i,
            ingest_time: format!("2026-11-2{i}T01:02:03Z"),
            ingest_user: "canbo & <co>".into(),
            indication: "TOTAL-PASSED".into(),
            kept_unverified: (i == 2).then(|| "chữ ký \"hết hạn\"\r\n".into()),
            gathered: (i == 3).then(|| "2026-11-23T05:00:00Z".into()),
            pdfa_declared: (i == 1).then(|| "PDF/A-2u".into()),
            pages: (i != 2).then_some(i + 1),
        }
    }

    #[test]
    fn what_bag_verify_reads_of_the_metadata_is_what_export_wrote() {
        let d = tempfile::tempdir().unwrap();
        let mut z = ZipSink::open(d.path(), "o", None, 0).unwrap();
        let all: Vec<Facts> = (0..5).map(facts).collect();
        let mut manifest = String::new();
        let mut files = HashMap::new();
        for f in &all {
            z.records
                .write_all(&serde_json::to_vec(f).unwrap())
                .unwrap();
            z.records.write_all(b"\n").unwrap();
            for (path, size) in [
                (f.document(), f.size),
                (format!("{PAYLOAD}/records/{}/metadata.json", f.id), 77),
            ] {
                let sha = [f.id as u8 + 1; 32];
                manifest.push_str(&format!("{}  {path}\n", hex::encode(sha)));
                z.sizes.write_all(&size.to_le_bytes()).unwrap();
                files.insert(path, (sha, size));
            }
        }
        fs::write(d.path().join("manifest-sha256.txt"), manifest).unwrap();
        z.flush().unwrap();
        let (user, reason) = ("luutru & co", "nộp <lưu>\r\nlịch sử");
        write_descriptive(&mut z, "UBND & co", all.len() as u64).unwrap();
        write_premis(&mut z, user, reason, "2026-12-01T00:00:00Z").unwrap();
        z.zip.finish().unwrap();
        let pk = crate::package::Package::Zip(
            crate::package::ZipIndex::open(&d.path().join(ZIP_PARTIAL)).unwrap(),
        );
        let ids: Vec<u64> = all.iter().map(|f| f.id).collect();
        let check = |known: &Known| {
            let mut found = Findings::default();
            check_descriptive(&pk, &ids, known, &mut found);
            let rest = check_premis_objects(&pk, files.clone(), &mut found).unwrap();
            check_premis_events(&pk, rest, &ids, known, &mut found);
            found.said()
        };
        let known = |all: &[Facts]| Known {
            bound: all.iter().map(|f| Some(Bound::of(f))).collect(),
            agg: all.iter().fold(Aggregates::default(), |a, f| {
                let mut b = Aggregates::default();
                b.add(f);
                a.merge(b)
            }),
            export: Some((user.into(), Some(reason.into()))),
        };
        assert_eq!(check(&known(&all)), vec![]);
        // The PDF/A-2u document's object gives its PRONOM identifier, the others none.
        let premis =
            String::from_utf8(pk.read(crate::eark_check::PREMIS, 1 << 20).unwrap()).unwrap();
        let registry = "<premis:formatRegistry><premis:formatRegistryName>PRONOM</premis:formatRegistryName><premis:formatRegistryKey>fmt/478</premis:formatRegistryKey><premis:formatRegistryRole>specification</premis:formatRegistryRole></premis:formatRegistry>";
        assert_eq!(premis.matches("<premis:formatRegistry>").count(), 1);
        let at = premis.find(registry).unwrap();
        let object = premis[..at]
            .rfind("<premis:objectIdentifierValue>")
            .unwrap();
        assert!(premis[object..at].starts_with(&format!(
            "<premis:objectIdentifierValue>{}<",
            all[1].document()
        )));
        // Facts that declare another PDF/A, or none, or one PRONOM lacks: the object is named.
        for (declared, what) in [
            (
                Some("PDF/A-1b"),
                "gives PRONOM fmt/478; the record's document declares the PDF/A of fmt/354",
            ),
            (
                None,
                "gives PRONOM fmt/478; the record's document declares no PDF/A PRONOM identifies",
            ),
            (
                Some("PDF/A-4"),
                "gives PRONOM fmt/478; the record's document declares no PDF/A PRONOM identifies",
            ),
        ] {
            let mut other = all.clone();
            other[1].pdfa_declared = declared.map(str::to_string);
            let said = check(&known(&other));
            assert!(
                said.iter()
                    .any(|(id, m)| *id == Some(3) && m.contains(what)),
                "{declared:?}: {said:?}"
            );
            assert!(said.iter().all(|(id, _)| *id == Some(3)), "{said:?}");
        }
        let mut other = all.clone();
        other[0].pdfa_declared = Some("PDF/A-3b".into());
        let said = check(&known(&other));
        assert!(
            said.iter().any(|(id, m)| *id == Some(0)
                && m.contains("gives no PRONOM identifier; the record's document declares the PDF/A of fmt/480")),
            "{said:?}"
        );
        for m in ["application/pdf", "application/pkcs7-mime", "text/plain"] {
            assert!(crate::eark_check::DOCUMENT_NAMES.contains(&crate::bag::document_name(m)));
        }
        // A record whose facts are other than the files say: named (its metadata.json, read
        // again to name the field, is not there).
        let mut other = all.clone();
        other[3].subject = "001099999999".into();
        let said = check(&known(&other));
        assert!(said.iter().any(|(id, _)| *id == Some(9)), "{said:?}");
        assert!(said.iter().all(|(id, _)| *id == Some(9)), "{said:?}");
        // Another export user: the transfer event and the agents.
        let mut k = known(&all);
        k.export = Some(("ai-do".into(), Some(reason.into())));
        let said = check(&k);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].1.contains("the transfer event"), "{said:?}");
        assert!(said[1].1.contains("the agents are"), "{said:?}");
        // Another dossier count: the fonds and dossiers are the records'.
        let mut fewer = known(&all);
        fewer.bound[4] = None;
        let said = check(&fewer);
        assert_eq!(said, vec![], "an unproved record's entries are not checked");
    }

    /// The cost of the check: `KYSO_MEASURE_RECORDS` records (default 100,000) written by the
    /// export's writer, then bound and checked as `bag verify` does (run with `--release
    /// --ignored --nocapture`).
    #[test]
    #[ignore]
    fn measure_the_metadata_check() {
        let n: u64 = std::env::var("KYSO_MEASURE_RECORDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        let d = tempfile::tempdir().unwrap();
        let mut z = ZipSink::open(d.path(), "o", None, 0).unwrap();
        let mut manifest = String::new();
        let mut files = HashMap::new();
        let mut all = Vec::new();
        for i in 0..n {
            let mut f = facts(i % 5);
            f.id = i;
            f.dossier = Some(format!("HS-{}", i % 1000));
            z.records
                .write_all(&serde_json::to_vec(&f).unwrap())
                .unwrap();
            z.records.write_all(b"\n").unwrap();
            for (path, size) in [
                (f.document(), f.size),
                (format!("{PAYLOAD}/records/{}/metadata.json", f.id), 2000),
                (format!("{PAYLOAD}/records/{}/log.json", f.id), 3000),
            ] {
                let sha = [i as u8; 32];
                manifest.push_str(&format!("{}  {path}\n", hex::encode(sha)));
                z.sizes.write_all(&size.to_le_bytes()).unwrap();
                files.insert(path, (sha, size));
            }
            all.push(f);
        }
        fs::write(d.path().join("manifest-sha256.txt"), manifest).unwrap();
        z.flush().unwrap();
        let (user, reason) = ("luutru", "nộp lưu");
        let dmd = write_descriptive(&mut z, "UBND", n).unwrap();
        let premis = write_premis(&mut z, user, reason, "2026-12-01T00:00:00Z").unwrap();
        z.zip.finish().unwrap();
        let pk = crate::package::Package::Zip(
            crate::package::ZipIndex::open(&d.path().join(ZIP_PARTIAL)).unwrap(),
        );
        let ids: Vec<u64> = all.iter().map(|f| f.id).collect();
        let t = std::time::Instant::now();
        let mut known = Known {
            export: Some((user.into(), Some(reason.into()))),
            ..Default::default()
        };
        for f in &all {
            known.bound.push(Some(Bound::of(f)));
            let mut b = Aggregates::default();
            b.add(f);
            known.agg = std::mem::take(&mut known.agg).merge(b);
        }
        let bind = t.elapsed();
        drop(all);
        let t = std::time::Instant::now();
        let mut found = Findings::default();
        check_descriptive(&pk, &ids, &known, &mut found);
        let desc = t.elapsed();
        let t = std::time::Instant::now();
        let rest = check_premis_objects(&pk, files, &mut found).unwrap();
        check_premis_events(&pk, rest, &ids, &known, &mut found);
        let prem = t.elapsed();
        assert_eq!(found.said(), vec![]);
        let per = |x: std::time::Duration| x.as_secs_f64() * 1e6 / n as f64;
        eprintln!(
            "{n} records: tt05-2025.xml {} MB, premis.xml {} MB; binding (per record, done in the parallel record pass) {:.2} s = {:.1} µs; tt05 check {:.2} s = {:.1} µs; premis check {:.2} s = {:.1} µs",
            dmd.size / 1_000_000,
            premis.size / 1_000_000,
            bind.as_secs_f64(),
            per(bind),
            desc.as_secs_f64(),
            per(desc),
            prem.as_secs_f64(),
            per(prem)
        );
    }
}
