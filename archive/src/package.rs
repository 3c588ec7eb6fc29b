//! A package's files as `kyso bag verify` and `kyso bag renew` read them: a directory, a
//! serialized bag (one tar file) or an E-ARK zip, read in place — never extracted into the
//! file system.
//!
//! A tar is indexed once (each entry's name, data offset and size, by seeking over the data);
//! a zip by one pass over its central directory (APPNOTE 6.3.10 §4.3.12, Zip64 §4.3.14–15,
//! §4.5.3); then every file is read with positional reads, so records are checked in parallel
//! as from a directory. Every read is bounded by the caller's limit; entry names must stay
//! inside the package's one top-level folder; links, devices and other non-file tar entries,
//! and compressed or encrypted zip entries (kyso writes stored ones), are refused. So is a
//! tar or zip that another reader — GNU tar, Info-ZIP's unzip, Python's zipfile — would read
//! otherwise (another member under a name, other bytes for an entry): what they extract is
//! what a verdict is about. A folder is read only inside itself: no symbolic link is followed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

/// Most entries a tar package may have (about 6 million records).
const MAX_ENTRIES: usize = 20_000_000;
/// Deepest path taken.
const MAX_DEPTH: usize = 10;
/// Most folders below the folder a folder package's files are listed from ([`Package::files_under`]).
const MAX_FOLDER_DEPTH: usize = 8;

/// A tar's regular files, by path under its top-level folder.
pub struct TarIndex {
    file: File,
    path: PathBuf,
    /// The bag's folder inside the tar.
    pub top: String,
    /// Path (relative to the bag) → (data offset, size); a later entry of the same name wins,
    /// as when GNU tar extracts it.
    entries: HashMap<String, (u64, u64)>,
    /// Paths in tar order (first occurrence).
    order: Vec<String>,
    /// Where the tar's end-of-archive blocks start (after its last entry).
    pub end: u64,
}

/// Where a package's files are read from.
pub enum Package {
    Dir(PathBuf),
    Tar(TarIndex),
    Zip(ZipIndex),
}

/// `rel` in the package folder `root`: plain names only, and no symbolic link on the way (a
/// folder of the package linked elsewhere would have the package read from outside it) — nor
/// at the end when `folder`; a file at the end is opened without following a link.
fn inside(root: &Path, rel: &str, folder: bool) -> Result<PathBuf, String> {
    let mut p = root.to_path_buf();
    let mut parts = Path::new(rel).components().peekable();
    while let Some(c) = parts.next() {
        let Component::Normal(name) = c else {
            return Err(format!(
                "{}: not a path inside the package",
                root.join(rel).display()
            ));
        };
        p.push(name);
        if (folder || parts.peek().is_some())
            && std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(format!(
                "{}: {}",
                p.display(),
                refusal(
                    "a symbolic link inside the package (what it points to is outside the package, and not read)",
                    "một liên kết tượng trưng trong gói (đích của nó nằm ngoài gói và không được đọc)",
                )
            ));
        }
    }
    Ok(p)
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}/{b}")
    }
}

/// Whether the first 512 bytes of `path` are a tar header (POSIX ustar or GNU magic).
pub fn is_tar(path: &Path) -> bool {
    let mut b = [0u8; 512];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
        && &b[257..262] == b"ustar"
}

/// Longest name a GNU long-name entry may give (PATH_MAX), and most bytes of a PAX header.
const MAX_LONG_NAME: u64 = 4096;
const MAX_PAX: u64 = 64 << 10;

/// A numeric field of a tar header in the one form every reader reads alike: octal digits
/// (after spaces), then only NULs or spaces; or base-256 (first byte 0x80) within 64 bits.
/// The tar crate also takes a sign, which GNU tar reads as its old base-64, and drops the
/// high bytes of a base-256 value GNU tar finds too large — after which GNU tar skips to
/// whatever looks like the next header, inside the data kyso read.
fn tar_number(f: &[u8]) -> Option<u64> {
    if f.first() == Some(&0x80) {
        let (high, low) = f[1..].split_at(f.len().checked_sub(9)?);
        let low: [u8; 8] = low.try_into().ok()?;
        return high
            .iter()
            .all(|&b| b == 0)
            .then(|| u64::from_be_bytes(low));
    }
    let f = &f[f.iter().take_while(|&&b| b == b' ').count()..];
    let digits = f.iter().take_while(|b| (b'0'..=b'7').contains(*b)).count();
    if digits == 0 || !f[digits..].iter().all(|&b| b == 0 || b == b' ') {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(&f[..digits]).ok()?, 8).ok()
}

/// What a header gives of itself that readers could read differently: its size and checksum
/// fields in another form than [`tar_number`]'s, or the POSIX magic with another version (the
/// tar crate then ignores the name prefix GNU tar puts before the name).
fn tar_header_check(h: &tar::Header) -> Result<(), Why> {
    let b = h.as_bytes();
    if tar_number(&b[124..136]) != h.entry_size().ok()
        || tar_number(&b[148..156]).map(|x| x as u32) != h.cksum().ok()
    {
        return Err(why(
            "its size or checksum field is not a plain number",
            "trường kích thước hoặc tổng kiểm tra không phải một số thông thường",
        ));
    }
    // Mode, owner, group and time: GNU tar refuses the member (and fails) when one is not a
    // number; all NULs it reads as 0 (kyso leaves the owner and group so).
    let number_or_nuls = |f: &[u8]| f.iter().all(|&x| x == 0) || tar_number(f).is_some();
    if ![&b[100..108], &b[108..116], &b[116..124], &b[136..148]]
        .into_iter()
        .all(number_or_nuls)
    {
        return Err(why(
            "its mode, owner, group or time field is not a number (GNU tar refuses the member)",
            "trường quyền, chủ sở hữu, nhóm hoặc thời gian không phải một số (GNU tar từ chối mục này)",
        ));
    }
    if &b[257..263] == b"ustar\0" && &b[263..265] != b"00" {
        return Err(why(
            "a POSIX header of another version",
            "tiêu đề POSIX của phiên bản khác",
        ));
    }
    Ok(())
}

/// What is wrong, in English and Vietnamese.
type Why = (String, String);

fn why(en: impl Into<String>, vi: impl Into<String>) -> Why {
    (en.into(), vi.into())
}

/// A GNU long-name entry's or a PAX header's data, at most `max` bytes.
fn tar_meta(e: &mut impl Read, size: u64, max: u64) -> Result<Vec<u8>, Why> {
    if size > max {
        return Err(why(
            format!("a GNU long name or PAX header of {size} bytes (at most {max} are read)"),
            format!("tên dài GNU hoặc tiêu đề PAX dài {size} byte (chỉ đọc tối đa {max})"),
        ));
    }
    let mut v = Vec::new();
    e.take(max)
        .read_to_end(&mut v)
        .map_err(|e| why(e.to_string(), e.to_string()))?;
    Ok(v)
}

/// A PAX extended header's records (POSIX.1-2008 pax, "length key=value\n"): the path and the
/// size it gives. Readers differ on a key given twice (the tar crate takes the first, GNU tar
/// and Python the last) and on GNU's keys (sparse files, named by `GNU.sparse.name`, which the
/// tar crate does not read): refused.
fn pax_records(mut b: &[u8]) -> Result<(Option<Vec<u8>>, Option<u64>), Why> {
    let (mut path, mut size) = (None, None);
    let mut seen = HashSet::new();
    let malformed = || why("a malformed PAX record", "một bản ghi PAX sai dạng");
    while !b.is_empty() {
        let sp = b.iter().position(|&c| c == b' ').ok_or_else(malformed)?;
        let len: usize = std::str::from_utf8(&b[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&n| n > sp + 1 && n <= b.len())
            .ok_or_else(malformed)?;
        let rec = &b[sp + 1..len];
        b = &b[len..];
        let rec = rec.strip_suffix(b"\n").ok_or_else(malformed)?;
        let eq = rec.iter().position(|&c| c == b'=').ok_or_else(malformed)?;
        let (key, value) = (&rec[..eq], &rec[eq + 1..]);
        let k = String::from_utf8_lossy(key);
        if !seen.insert(key) {
            return Err(why(
                format!("the PAX key {k:?} twice"),
                format!("khóa PAX {k:?} xuất hiện hai lần"),
            ));
        }
        if key.starts_with(b"GNU.") {
            return Err(why(
                format!("the PAX key {k:?} (GNU sparse files and volumes are refused)"),
                format!("khóa PAX {k:?} (tệp thưa và tập đa phần của GNU bị từ chối)"),
            ));
        }
        match key {
            b"path" => path = Some(value.to_vec()),
            b"size" => {
                size = Some(
                    std::str::from_utf8(value)
                        .ok()
                        .filter(|v| !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()))
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(malformed)?,
                )
            }
            _ => {}
        }
    }
    Ok((path, size))
}

impl TarIndex {
    /// Index the tar at `path`: one pass over its headers. GNU long names and PAX headers are
    /// read here, bounded, the way GNU tar reads them; what readers would read differently is
    /// refused (see [`tar_number`], [`pax_records`]).
    pub fn open(path: &Path) -> Result<TarIndex, String> {
        let shown = path.display();
        let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
        let mut ar = tar::Archive::new(&file);
        let mut entries = HashMap::new();
        let mut folders = HashSet::new();
        let mut order = Vec::new();
        let mut top: Option<String> = None;
        let mut end = 0u64;
        let it = ar
            .entries_with_seek()
            .map_err(|e| format!("{shown}: not a tar: {e}"))?
            .raw(true);
        // What a GNU long-name entry and a PAX header said of the entry after them.
        let (mut long_name, mut pax): (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
        for (n, e) in it.enumerate() {
            if n >= MAX_ENTRIES {
                return Err(format!("{shown} has more than {MAX_ENTRIES} entries"));
            }
            let mut e = e.map_err(|e| format!("{shown}: a damaged tar entry: {e}"))?;
            let at_header = e.raw_header_position();
            let bad = |(en, vi): Why| {
                format!(
                    "{shown}: {}",
                    refusal(
                        &format!("the tar header at byte {at_header}: {en} (readers would read the tar differently)"),
                        &format!("tiêu đề tar tại byte {at_header}: {vi} (các trình đọc sẽ đọc tar khác nhau)"),
                    )
                )
            };
            tar_header_check(e.header()).map_err(&bad)?;
            let (at, size) = (e.raw_file_position(), e.size());
            end = at
                .checked_add(size.div_ceil(512) * 512)
                .ok_or_else(|| format!("{shown}: a tar entry's size is impossible"))?;
            match e.header().entry_type() {
                tar::EntryType::GNULongName if long_name.is_none() => {
                    let v = tar_meta(&mut e, size, MAX_LONG_NAME).map_err(bad)?;
                    long_name = Some(v);
                    continue;
                }
                tar::EntryType::XHeader if pax.is_none() => {
                    let v = tar_meta(&mut e, size, MAX_PAX).map_err(bad)?;
                    pax = Some(v);
                    continue;
                }
                tar::EntryType::GNULongName | tar::EntryType::XHeader => {
                    return Err(bad(why(
                        "two long names or PAX headers for one entry",
                        "hai tên dài hoặc hai tiêu đề PAX cho một mục",
                    )))
                }
                _ => {}
            }
            let (pax_path, pax_size) = match pax.take() {
                Some(p) => pax_records(&p).map_err(&bad)?,
                None => (None, None),
            };
            if pax_size.is_some_and(|s| s != size) {
                return Err(bad(why(
                    "a PAX size other than its header's",
                    "kích thước PAX khác kích thước trong tiêu đề",
                )));
            }
            // GNU tar takes a PAX path over a GNU long name, the tar crate the long name:
            // never both. A long name ends at its first NUL for GNU tar: one NUL, at its end.
            let name = match (long_name.take(), pax_path) {
                (Some(_), Some(_)) => {
                    return Err(bad(why(
                        "both a GNU long name and a PAX path (GNU tar takes one, the tar crate the other)",
                        "vừa có tên dài GNU vừa có đường dẫn PAX (GNU tar lấy một, thư viện tar lấy cái kia)",
                    )))
                }
                (Some(mut l), None) => {
                    if l.last() == Some(&0) {
                        l.pop();
                    }
                    l
                }
                (None, Some(p)) => p,
                (None, None) => e.header().path_bytes().into_owned(),
            };
            if name.contains(&0) {
                return Err(bad(why(
                    "a NUL in its name (GNU tar cuts the name there)",
                    "ký tự NUL trong tên (GNU tar cắt tên tại đó)",
                )));
            }
            let name = PathBuf::from(
                <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(name),
            );
            let slash = name.as_os_str().as_encoded_bytes().ends_with(b"/");
            let shown_name = name.display().to_string();
            let mut parts = Vec::new();
            for c in name.components() {
                match c {
                    Component::Normal(s) => parts.push(
                        s.to_str()
                            .ok_or_else(|| format!("tar entry {shown_name:?} is not UTF-8"))?
                            .to_string(),
                    ),
                    Component::CurDir => {}
                    _ => {
                        return Err(format!(
                            "tar entry {shown_name:?} escapes the package (absolute or ..)"
                        ))
                    }
                }
            }
            if parts.is_empty() || parts.len() > MAX_DEPTH {
                return Err(format!("tar entry {shown_name:?}: no name, or too deep"));
            }
            let first = parts.remove(0);
            match &top {
                None => top = Some(first),
                Some(t) if *t == first => {}
                Some(t) => {
                    return Err(format!(
                        "the tar holds more than one package folder ({t}, {first})"
                    ))
                }
            }
            match e.header().entry_type() {
                tar::EntryType::Directory => {
                    folders.insert(parts.join("/"));
                    continue;
                }
                tar::EntryType::Regular | tar::EntryType::Continuous if slash => {
                    return Err(bad(why(
                        "a file whose name ends with '/' (GNU tar makes a folder of it)",
                        "một tệp có tên kết thúc bằng '/' (GNU tar tạo thư mục từ nó)",
                    )))
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                t => {
                    return Err(format!(
                    "tar entry {shown_name:?} is not a file ({t:?}): links and devices are refused"
                ))
                }
            }
            if parts.is_empty() {
                return Err(format!("tar entry {shown_name:?} is a file, not a folder"));
            }
            let rel = parts.join("/");
            if entries.insert(rel.clone(), (at, size)).is_none() {
                order.push(rel);
            }
        }
        if long_name.is_some() || pax.is_some() {
            return Err(format!(
                "{shown}: a GNU long name or PAX header describes no entry"
            ));
        }
        if let Some(p) = file_and_folder(&entries, &folders) {
            return Err(format!("{shown}: {}", both(&p)));
        }
        // After the last entry only zeros (its end-of-archive blocks and the record's padding):
        // anything else there is another reader's file — a zip appended to the tar, which
        // unzip extracts while tar readers stop at the end blocks.
        let len = file.metadata().map_err(|e| format!("{shown}: {e}"))?.len();
        let mut at = end;
        while at < len {
            let n = (len - at).min(1 << 16) as usize;
            let chunk = read_at(&file, at, n).map_err(|e| format!("{shown}: {e}"))?;
            if let Some(i) = chunk.iter().position(|b| *b != 0) {
                return Err(format!(
                    "{shown}: {}",
                    refusal(
                        &format!("byte {} is after the tar's last entry and not zero: something else is appended (a zip reader would read that)", at + i as u64),
                        &format!("byte {} nằm sau mục cuối của tar và khác 0: có dữ liệu khác được nối thêm (trình đọc zip sẽ đọc phần đó)", at + i as u64),
                    )
                ));
            }
            at += n as u64;
        }
        Ok(TarIndex {
            file,
            path: path.to_path_buf(),
            top: top.ok_or_else(|| format!("{shown} is an empty tar"))?,
            entries,
            order,
            end,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &File {
        &self.file
    }
}

/// A bounded reader of one tar entry, by positional reads (shared across threads).
struct At<'a> {
    f: &'a File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.end - self.pos) as usize;
        if n == 0 {
            return Ok(0);
        }
        let k = self.f.read_at(&mut buf[..n], self.pos)?;
        if k == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.pos += k as u64;
        Ok(k)
    }
}

/// A zip entry's data, its CRC-32 checked against the central record's when read to the end:
/// a byte changed in an entry whose digest nothing else holds (the root METS) is what unzip
/// and Python refuse (`bad CRC`), so it is an error here too.
struct Crc32Checked<'a> {
    at: At<'a>,
    crc: crc32fast::Hasher,
    want: u32,
    /// The end was reached and the CRC-32 found right.
    checked: bool,
}

impl Read for Crc32Checked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.at.read(buf)?;
        if k == 0 && !buf.is_empty() && !self.checked {
            let got = self.crc.clone().finalize();
            if got != self.want {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    refusal(
                        &format!("its CRC-32 is {got:08x}, its central record says {:08x}: the entry was changed (unzip refuses it)", self.want),
                        &format!("CRC-32 là {got:08x}, bản ghi trung tâm ghi {:08x}: mục đã bị thay đổi (unzip từ chối mục này)", self.want),
                    ),
                ));
            }
            self.checked = true;
        }
        self.crc.update(&buf[..k]);
        Ok(k)
    }
}

impl Package {
    /// Open what `path` is: a directory, a tar file, or else a zip file.
    pub fn open(path: &Path) -> Result<Package, String> {
        if path.is_dir() {
            Ok(Package::Dir(path.to_path_buf()))
        } else if is_tar(path) {
            TarIndex::open(path).map(Package::Tar)
        } else {
            ZipIndex::open(path).map(Package::Zip)
        }
    }

    /// A path to show for a file of the package.
    pub fn shown(&self, rel: &str) -> String {
        match self {
            Package::Dir(root) => root.join(rel).display().to_string(),
            Package::Tar(t) => format!("{}:{rel}", t.path.display()),
            Package::Zip(z) => format!("{}:{rel}", z.path.display()),
        }
    }

    /// The package file or directory.
    pub fn path(&self) -> &Path {
        match self {
            Package::Dir(root) => root,
            Package::Tar(t) => &t.path,
            Package::Zip(z) => &z.path,
        }
    }

    /// The name of the package's folder: a directory's own name, a tar's or zip's one
    /// top-level folder.
    pub fn top(&self) -> String {
        match self {
            Package::Dir(root) => root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Package::Tar(t) => t.top.clone(),
            Package::Zip(z) => z.top.clone(),
        }
    }

    /// A reader of a file of the package and its size.
    pub fn open_file(&self, rel: &str) -> Result<(Box<dyn Read + '_>, u64), String> {
        match self {
            Package::Dir(root) => {
                // Only a regular file inside the folder: a name a hostile manifest gives
                // (`/dev/zero`, `../../etc/passwd`, a symbolic link) is refused, not read.
                let p = inside(root, rel, false)?;
                use std::os::unix::fs::OpenOptionsExt;
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                    .open(&p)
                    .map_err(|e| format!("{}: {e}", p.display()))?;
                let m = f.metadata().map_err(|e| format!("{}: {e}", p.display()))?;
                if !m.is_file() {
                    return Err(format!("{}: not a regular file", p.display()));
                }
                Ok((Box::new(f), m.len()))
            }
            Package::Tar(t) => {
                let &(at, size) = t
                    .entries
                    .get(rel)
                    .ok_or_else(|| format!("{}: No such file in the tar", self.shown(rel)))?;
                Ok((
                    Box::new(At {
                        f: &t.file,
                        pos: at,
                        end: at + size,
                    }),
                    size,
                ))
            }
            Package::Zip(z) => {
                let (at, size, crc) = z
                    .data(rel)
                    .map_err(|e| format!("{}: {e}", self.shown(rel)))?;
                Ok((
                    Box::new(Crc32Checked {
                        at: At {
                            f: &z.file,
                            pos: at,
                            end: at + size,
                        },
                        crc: crc32fast::Hasher::new(),
                        want: crc,
                        checked: false,
                    }),
                    size,
                ))
            }
        }
    }

    /// A file's size.
    pub fn len(&self, rel: &str) -> Result<u64, String> {
        match self {
            Package::Dir(root) => std::fs::symlink_metadata(inside(root, rel, false)?)
                .map(|m| m.len())
                .map_err(|e| e.to_string()),
            Package::Tar(t) => t
                .entries
                .get(rel)
                .map(|x| x.1)
                .ok_or_else(|| "No such file in the tar".into()),
            Package::Zip(z) => z
                .entries
                .get(rel)
                .map(|x| x.2)
                .ok_or_else(|| "No such file in the zip".into()),
        }
    }

    pub fn exists(&self, rel: &str) -> bool {
        match self {
            Package::Dir(root) => {
                inside(root, rel, false).is_ok_and(|p| std::fs::symlink_metadata(p).is_ok())
            }
            Package::Tar(t) => t.entries.contains_key(rel),
            Package::Zip(z) => z.entries.contains_key(rel),
        }
    }

    /// A whole file, at most `max` bytes (larger: an error).
    pub fn read(&self, rel: &str, max: u64) -> Result<Vec<u8>, String> {
        let (r, _) = self.open_file(rel)?;
        let mut v = Vec::new();
        r.take(max + 1)
            .read_to_end(&mut v)
            .map_err(|e| format!("{}: {e}", self.shown(rel)))?;
        if v.len() as u64 > max {
            return Err(format!("{} is larger than {max} bytes", self.shown(rel)));
        }
        Ok(v)
    }

    /// Every regular file under the folder `rel` (paths relative to the package), depth
    /// bounded; and the folders that could not be read.
    pub fn files_under(&self, rel: &str) -> (Vec<String>, Vec<(String, String)>) {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        match self {
            Package::Dir(root) => {
                if let Err(e) = inside(root, rel, true) {
                    errors.push((rel.to_string(), e));
                    return (out, errors);
                }
                // Below `rel`, a linked folder is not followed: it is listed as a file, whose
                // opening (O_NOFOLLOW) fails.
                walk(root, rel, &|_| false, &mut out, &mut errors);
            }
            Package::Tar(TarIndex { order, .. }) | Package::Zip(ZipIndex { order, .. }) => {
                let prefix = format!("{rel}/");
                out.extend(order.iter().filter(|p| p.starts_with(&prefix)).cloned());
                if out.is_empty() {
                    errors.push((rel.to_string(), "no such folder in the package".into()));
                }
            }
        }
        (out, errors)
    }

    /// Every regular file of the package outside the folder `skip` (the payload, which
    /// [`Package::files_under`] lists), depth bounded; and the folders that could not be read.
    /// What a reader sees besides the payload: each must be a tag or metadata file kyso writes.
    pub fn files_except(&self, skip: &str) -> (Vec<String>, Vec<(String, String)>) {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let under = |p: &str| p == skip || p.starts_with(&format!("{skip}/"));
        match self {
            Package::Dir(root) => walk(root, "", &under, &mut out, &mut errors),
            Package::Tar(TarIndex { order, .. }) | Package::Zip(ZipIndex { order, .. }) => {
                out.extend(order.iter().filter(|p| !under(p)).cloned());
            }
        }
        (out, errors)
    }

    /// The names directly inside the folder `rel` (files and folders; `""`: the package's top).
    pub fn names_in(&self, rel: &str) -> BTreeSet<String> {
        match self {
            Package::Dir(root) => inside(root, rel, true)
                .and_then(|p| std::fs::read_dir(p).map_err(|e| e.to_string()))
                .map(|it| {
                    it.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
            Package::Tar(TarIndex { order, .. }) | Package::Zip(ZipIndex { order, .. }) => {
                let prefix = if rel.is_empty() {
                    String::new()
                } else {
                    format!("{rel}/")
                };
                order
                    .iter()
                    .filter_map(|p| p.strip_prefix(&prefix))
                    .map(|p| p.split('/').next().unwrap_or_default().to_string())
                    .collect()
            }
        }
    }
}

/// Every regular file (and link, listed as a file: it is opened with O_NOFOLLOW) in the
/// folder `start` of the folder package `root` and below it, but those `skip` names; the
/// folders and entries that could not be read. Folders more than [`MAX_FOLDER_DEPTH`] below
/// `start` are named, not skipped: a file hidden there would be one no manifest lists, unseen.
fn walk(
    root: &Path,
    start: &str,
    skip: &dyn Fn(&str) -> bool,
    out: &mut Vec<String>,
    errors: &mut Vec<(String, String)>,
) {
    let below = if start.is_empty() {
        "the package"
    } else {
        start
    };
    let mut stack = vec![(start.to_string(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(root.join(&dir)) {
            Ok(e) => e,
            Err(e) => {
                errors.push((dir, e.to_string()));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    errors.push((dir.clone(), e.to_string()));
                    continue;
                }
            };
            let path = join(&dir, &entry.file_name().to_string_lossy());
            if skip(&path) {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() && depth < MAX_FOLDER_DEPTH => stack.push((path, depth + 1)),
                Ok(t) if t.is_dir() => errors.push((
                    path,
                    format!("a folder nested deeper than {MAX_FOLDER_DEPTH} folders below {below}: not read — thư mục lồng sâu hơn {MAX_FOLDER_DEPTH} cấp dưới {below}: không đọc"),
                )),
                Ok(_) => out.push(path),
                Err(e) => errors.push((path, e.to_string())),
            }
        }
    }
}

/// Most entries a zip package may have.
const MAX_ZIP_ENTRIES: u64 = 20_000_000;
/// The end of central directory record and the longest comment it may have (§4.3.16).
const END_LEN: u64 = 22;
const MAX_COMMENT: u64 = u16::MAX as u64;

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn le64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// Where a zip's central directory is (§4.3.16, or the Zip64 record §4.3.14 its locator
/// §4.3.15 points to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipEnd {
    /// The central directory's offset, length and entries.
    pub cd_at: u64,
    pub cd_len: u64,
    pub entries: u64,
}

fn read_at(f: &File, at: u64, n: usize) -> Result<Vec<u8>, String> {
    let mut b = vec![0u8; n];
    f.read_exact_at(&mut b, at).map_err(|e| e.to_string())?;
    Ok(b)
}

/// Find the end of central directory record and the Zip64 record when a locator precedes it,
/// where every reader finds them: the last end record signature in the file's tail (Python's
/// zipfile and Info-ZIP's unzip take the last one), its comment ending the file; the Zip64
/// record right before its locator (Python reads it there, unzip where the locator says); the
/// central directory right before them (both readers shift every offset by any gap there).
/// A zip that another reader would read another way is refused, not read kyso's way.
fn zip_end(f: &File, len: u64) -> Result<ZipEnd, String> {
    if len < END_LEN {
        return Err("not a zip (too short)".into());
    }
    let tail_len = len.min(END_LEN + MAX_COMMENT + 20);
    let tail = read_at(f, len - tail_len, tail_len as usize)?;
    let sig = crate::zipout::END.to_le_bytes();
    let i = tail
        .windows(4)
        .rposition(|w| w == sig)
        .ok_or("not a zip (no end of central directory record)")?;
    if i + END_LEN as usize > tail.len()
        || i + END_LEN as usize + le16(&tail, i + 20) as usize != tail.len()
    {
        return Err(refusal(
            "the zip's end record is not where every reader finds it (its comment does not end the file, or holds another end record)",
            "bản ghi kết thúc của zip không nằm ở chỗ mọi trình đọc tìm thấy (chú thích không kết thúc tệp, hoặc chứa một bản ghi kết thúc khác)",
        ));
    }
    let end_at = len - tail_len + i as u64;
    let e = &tail[i..];
    if le16(e, 4) != 0 || le16(e, 6) != 0 || le16(e, 8) != le16(e, 10) {
        return Err("a zip split over several disks".into());
    }
    let mut end = ZipEnd {
        cd_at: le32(e, 16) as u64,
        cd_len: le32(e, 12) as u64,
        entries: le16(e, 10) as u64,
    };
    let mut limit = end_at;
    if i >= 20 && le32(&tail, i - 20) == crate::zipout::LOCATOR64 {
        let l = &tail[i - 20..i];
        let at64 = le64(l, 8);
        if le32(l, 4) != 0 || le32(l, 16) > 1 {
            return Err("a zip split over several disks".into());
        }
        if end_at < 20 + 56 || at64 != end_at - 20 - 56 {
            return Err(refusal(
                "the Zip64 end record is not right before its locator (readers would differ on where the central directory is)",
                "bản ghi kết thúc Zip64 không nằm ngay trước bộ định vị của nó (các trình đọc sẽ hiểu khác nhau về vị trí thư mục trung tâm)",
            ));
        }
        let r = read_at(f, at64, 56)?;
        if le32(&r, 0) != crate::zipout::END64 || le64(&r, 4) != 44 {
            return Err("the Zip64 end of central directory record is damaged".into());
        }
        if le32(&r, 16) != 0 || le32(&r, 20) != 0 || le64(&r, 24) != le64(&r, 32) {
            return Err("a zip split over several disks".into());
        }
        end = ZipEnd {
            cd_at: le64(&r, 48),
            cd_len: le64(&r, 40),
            entries: le64(&r, 32),
        };
        limit = at64;
    }
    if end.cd_at.checked_add(end.cd_len) != Some(limit) {
        return Err(refusal(
            "the central directory does not end where the end record is (readers would shift every entry by the gap)",
            "thư mục trung tâm không kết thúc ở chỗ bản ghi kết thúc (các trình đọc sẽ dịch mọi mục theo khoảng trống đó)",
        ));
    }
    if end.entries > MAX_ZIP_ENTRIES {
        return Err(format!("more than {MAX_ZIP_ENTRIES} entries"));
    }
    if end.entries.saturating_mul(46) > end.cd_len {
        return Err("the central directory is shorter than its entries".into());
    }
    Ok(end)
}

/// A refusal of a package that readers would read differently, in English and Vietnamese.
fn refusal(en: &str, vi: &str) -> String {
    format!("{en} — {vi}")
}

/// One central directory record (§4.3.12), as read.
pub struct CentralRecord {
    /// The record's bytes, as they are.
    pub raw: Vec<u8>,
    pub name: String,
    /// The local header's offset, the data's size (stored), and whether it is a folder.
    pub offset: u64,
    pub size: u64,
    pub folder: bool,
    /// The CRC-32 of the data, as the record gives it.
    pub crc: u32,
}

/// Reads a zip's central directory records one at a time, each checked.
pub struct CentralRecords<'a> {
    r: std::io::BufReader<std::io::Take<&'a File>>,
    left: u64,
    /// Bytes of the central directory not read yet: none once its last record is.
    rest: u64,
}

impl<'a> CentralRecords<'a> {
    pub fn new(f: &'a File, end: &ZipEnd) -> Result<CentralRecords<'a>, String> {
        use std::io::{Seek, SeekFrom};
        let mut h = f;
        h.seek(SeekFrom::Start(end.cd_at))
            .map_err(|e| e.to_string())?;
        Ok(CentralRecords {
            r: std::io::BufReader::with_capacity(1 << 16, h.take(end.cd_len)),
            left: end.entries,
            rest: end.cd_len,
        })
    }

    fn record(&mut self) -> Result<CentralRecord, String> {
        let mut raw = vec![0u8; 46];
        self.r
            .read_exact(&mut raw)
            .map_err(|e| format!("the central directory: {e}"))?;
        if le32(&raw, 0) != crate::zipout::CENTRAL {
            return Err("the central directory is damaged (a record's signature)".into());
        }
        let (n, m, k) = (
            le16(&raw, 28) as usize,
            le16(&raw, 30) as usize,
            le16(&raw, 32) as usize,
        );
        raw.resize(46 + n + m + k, 0);
        self.r
            .read_exact(&mut raw[46..])
            .map_err(|e| format!("the central directory: {e}"))?;
        self.rest -= raw.len() as u64;
        let name = std::str::from_utf8(&raw[46..46 + n])
            .map_err(|_| "a zip entry name is not UTF-8".to_string())?
            .to_string();
        let (flags, method) = (le16(&raw, 8), le16(&raw, 10));
        let (mut csize, mut size, mut offset) = (
            le32(&raw, 20) as u64,
            le32(&raw, 24) as u64,
            le32(&raw, 42) as u64,
        );
        // §4.5.3: the Zip64 extra field holds, in order, the fields that are 0xFFFFFFFF.
        let extra = &raw[46 + n..46 + n + m];
        let mut p = 0;
        while p + 4 <= extra.len() {
            let (id, len) = (le16(extra, p), le16(extra, p + 2) as usize);
            let body = extra
                .get(p + 4..p + 4 + len)
                .ok_or_else(|| format!("zip entry {name:?}: an extra field overruns"))?;
            if id != crate::zipout::ZIP64_EXTRA {
                return Err(foreign_extra(&name, id));
            }
            {
                let mut q = 0;
                let mut next = |v: &mut u64| -> Result<(), String> {
                    if *v == u32::MAX as u64 {
                        let b = body
                            .get(q..q + 8)
                            .ok_or_else(|| format!("zip entry {name:?}: a short Zip64 field"))?;
                        *v = le64(b, 0);
                        q += 8;
                    }
                    Ok(())
                };
                next(&mut size)?;
                next(&mut csize)?;
                next(&mut offset)?;
            }
            p += 4 + len;
        }
        if p != extra.len() {
            return Err(format!(
                "zip entry {name:?}: its extra fields do not fill its extra area exactly"
            ));
        }
        let folder = name.ends_with('/');
        // §4.4.15: on Unix the high half of the external attributes is the file's mode, and
        // unzip makes what its type says (a symbolic link whose target is the entry's data).
        let kind = (le32(&raw, 38) >> 16) & 0o170_000;
        if !matches!(
            (kind, folder),
            (0, _) | (0o100_000, false) | (0o040_000, true)
        ) {
            return Err(refusal(
                &format!("zip entry {name:?} is not a plain {} by its attributes (mode type 0o{kind:o}): unzip would make something else (a symbolic link) of it", if folder { "folder" } else { "file" }),
                &format!("mục zip {name:?} theo thuộc tính không phải {} thông thường (kiểu 0o{kind:o}): unzip sẽ tạo thứ khác (liên kết tượng trưng)", if folder { "thư mục" } else { "tệp" }),
            ));
        }
        if raw[6] > MAX_VERSION_NEEDED || raw[7] != 0 {
            return Err(version_refused(&name, raw[6], raw[7]));
        }
        if flags & 1 != 0 {
            return Err(format!("zip entry {name:?} is encrypted"));
        }
        if method != 0 || csize != size {
            return Err(format!(
                "zip entry {name:?} is compressed (method {method}): kyso reads stored entries, as it writes them"
            ));
        }
        if folder && size != 0 {
            return Err(format!("zip folder entry {name:?} holds data"));
        }
        let crc = u32::from_le_bytes([raw[16], raw[17], raw[18], raw[19]]);
        Ok(CentralRecord {
            raw,
            name,
            offset,
            size,
            folder,
            crc,
        })
    }
}

impl Iterator for CentralRecords<'_> {
    type Item = Result<CentralRecord, String>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            // Python's zipfile reads records to the directory's end, unzip as many as the end
            // record counts: both must find the same ones.
            if self.rest != 0 {
                self.rest = 0;
                return Some(Err(refusal(
                    "the central directory holds more than the records its end record counts (readers would differ on which files the zip holds)",
                    "thư mục trung tâm chứa nhiều hơn số bản ghi mà bản ghi kết thúc khai báo (các trình đọc sẽ hiểu khác nhau về các tệp trong zip)",
                )));
            }
            return None;
        }
        self.left -= 1;
        let r = self.record();
        if r.is_err() {
            self.left = 0;
        }
        Some(r)
    }
}

/// Where the data of `rec`'s entry starts, its local header (§4.3.7) checked against `rec`:
/// the same name, flags, method, CRC-32 and sizes (Info-ZIP's unzip reads the sizes of the
/// local header: it must read the bytes kyso reads).
/// The highest "version needed to extract" taken (4.6: what Info-ZIP's unzip 6 extracts; it
/// skips an entry that asks for more, and Python refuses above 6.3). kyso writes 2.0 and 4.5
/// (Zip64). The field's high byte is unused by the specification, and unzip reads it as the
/// system the entry is for (2: it asks whether to extract a VMS file): it must be 0.
const MAX_VERSION_NEEDED: u8 = 46;

fn version_refused(name: &str, v: u8, system: u8) -> String {
    refusal(
        &format!("zip entry {name:?} needs version {}.{} (system {system}) to be extracted, which unzip does not extract as it is", v / 10, v % 10),
        &format!("mục zip {name:?} cần phiên bản {}.{} (hệ {system}) để giải nén, unzip không giải nén nguyên trạng", v / 10, v % 10),
    )
}

/// An extra field other than Zip64's, which kyso never writes: readers that honour it would
/// read another entry than kyso does (Info-ZIP's unzip takes a Unicode Path field, 0x7075,
/// for the entry's name).
fn foreign_extra(name: &str, id: u16) -> String {
    refusal(
        &format!("zip entry {name:?} carries an extra field kyso does not write (ID 0x{id:04x}): readers that honour it (unzip takes a Unicode Path field, 0x7075, for the name) would read another entry than kyso"),
        &format!("mục zip {name:?} có trường mở rộng kyso không ghi (ID 0x{id:04x}): trình đọc dùng trường đó (unzip lấy trường Unicode Path 0x7075 làm tên) sẽ đọc mục khác với kyso"),
    )
}

fn local_data(f: &File, rec: &CentralRecord) -> Result<u64, String> {
    let h = read_at(f, rec.offset, 30).map_err(|e| format!("its local header: {e}"))?;
    if le32(&h, 0) != crate::zipout::LOCAL {
        return Err("its local header is damaged".into());
    }
    let (n, m) = (le16(&h, 26) as usize, le16(&h, 28) as usize);
    let rest = read_at(f, rec.offset + 30, n + m).map_err(|e| format!("its local header: {e}"))?;
    if &rest[..n] != rec.name.as_bytes() {
        return Err("its local header names another file".into());
    }
    if h[4] > MAX_VERSION_NEEDED || h[5] != 0 {
        return Err(version_refused(&rec.name, h[4], h[5]));
    }
    let c = &rec.raw;
    let full = u32::MAX as u64;
    // Its extra fields must fill the extra area exactly: one overrunning it (a length with a
    // bit set) has unzip read past it and misplace the data, where kyso took the sizes.
    let extra = &rest[n..];
    let mut p = 0;
    while p < extra.len() {
        let fits = extra.len() - p >= 4 && extra.len() - p - 4 >= le16(extra, p + 2) as usize;
        if !fits {
            return Err(refusal(
                "its local header's extra fields do not fill its extra area exactly (one overruns it): unzip would read the entry elsewhere",
                "các trường mở rộng của tiêu đề cục bộ không lấp đúng vùng mở rộng (một trường tràn ra ngoài): unzip sẽ đọc mục ở chỗ khác",
            ));
        }
        if le16(extra, p) != crate::zipout::ZIP64_EXTRA {
            return Err(foreign_extra(&rec.name, le16(extra, p)));
        }
        p += 4 + le16(extra, p + 2) as usize;
    }
    let mut sizes = (le32(&h, 22) as u64, le32(&h, 18) as u64);
    if sizes == (full, full) {
        // §4.5.3: in a local header the Zip64 extra field holds both sizes.
        let extra = &rest[n..];
        let mut p = 0;
        while p + 4 <= extra.len() {
            let (id, len) = (le16(extra, p), le16(extra, p + 2) as usize);
            if id == crate::zipout::ZIP64_EXTRA && len >= 16 && p + 4 + 16 <= extra.len() {
                sizes = (le64(extra, p + 4), le64(extra, p + 12));
                break;
            }
            p += 4 + len;
        }
    }
    if le16(&h, 6) != le16(c, 8)
        || le16(&h, 8) != le16(c, 10)
        || le32(&h, 14) != le32(c, 16)
        || sizes != (rec.size, rec.size)
    {
        return Err(refusal(
            "its local header disagrees with the central directory (flags, method, CRC-32 or sizes): readers would read other bytes",
            "tiêu đề cục bộ không khớp thư mục trung tâm (cờ, phương thức, CRC-32 hoặc kích thước): các trình đọc sẽ đọc các byte khác",
        ));
    }
    Ok(rec.offset + 30 + (n + m) as u64)
}

/// A name that is a file and a folder at once — a file with entries under it, or a folder
/// entry of a file's name — if there is one: extracted, one of them would be missing.
fn file_and_folder<V>(files: &HashMap<String, V>, folders: &HashSet<String>) -> Option<String> {
    for rel in files.keys() {
        let mut p = rel.as_str();
        while let Some((up, _)) = p.rsplit_once('/') {
            if files.contains_key(up) {
                return Some(up.to_string());
            }
            p = up;
        }
    }
    folders.iter().find(|f| files.contains_key(*f)).cloned()
}

fn both(rel: &str) -> String {
    refusal(
        &format!("{rel:?} is both a file and a folder in the package (extracted, one of them would be missing)"),
        &format!("{rel:?} vừa là tệp vừa là thư mục trong gói (khi giải nén sẽ thiếu một trong hai)"),
    )
}

/// A zip's stored files, by path under its top-level folder.
pub struct ZipIndex {
    file: File,
    path: PathBuf,
    /// The package's folder inside the zip.
    pub top: String,
    /// Path (relative to the folder) → (local header offset, data offset, size, CRC-32).
    entries: HashMap<String, (u64, u64, u64, u32)>,
    /// Paths in central directory order.
    order: Vec<String>,
    /// Where its central directory is.
    pub end: ZipEnd,
}

impl ZipIndex {
    /// Index the zip at `path`: one pass over its central directory.
    pub fn open(path: &Path) -> Result<ZipIndex, String> {
        let shown = path.display();
        let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
        let len = file.metadata().map_err(|e| format!("{shown}: {e}"))?.len();
        let end = zip_end(&file, len).map_err(|e| format!("{shown}: {e}"))?;
        let mut entries = HashMap::new();
        let mut folders = HashSet::new();
        let mut order = Vec::new();
        let mut top: Option<String> = None;
        // Where the entry before ends: each starts at or after it (none inside another, as
        // unzip also refuses).
        let mut next = 0u64;
        for rec in CentralRecords::new(&file, &end).map_err(|e| format!("{shown}: {e}"))? {
            let rec = rec.map_err(|e| format!("{shown}: {e}"))?;
            let name = rec.name.strip_suffix('/').unwrap_or(&rec.name);
            let mut parts: Vec<&str> = name.split('/').collect();
            if parts
                .iter()
                .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains(['\\', '\0']))
            {
                return Err(format!(
                    "zip entry {:?} escapes the package (absolute, .. or an empty part)",
                    rec.name
                ));
            }
            if parts.len() > MAX_DEPTH {
                return Err(format!("zip entry {:?} is too deep", rec.name));
            }
            let first = parts.remove(0);
            match &top {
                None => top = Some(first.to_string()),
                Some(t) if t == first => {}
                Some(t) => {
                    return Err(format!(
                        "the zip holds more than one package folder ({t}, {first})"
                    ))
                }
            }
            if rec.offset >= end.cd_at {
                return Err(format!("zip entry {:?} starts past its entries", rec.name));
            }
            let data = local_data(&file, &rec)
                .map_err(|e| format!("{shown}: zip entry {:?}: {e}", rec.name))?;
            if rec.offset < next {
                return Err(format!(
                    "{shown}: {}",
                    refusal(
                        &format!("zip entry {:?} starts inside the entry before it, or before it (overlapping entries)", rec.name),
                        &format!("mục zip {:?} bắt đầu bên trong hoặc trước mục đứng trước nó (các mục chồng lên nhau)", rec.name),
                    )
                ));
            }
            next = data
                .checked_add(rec.size)
                .filter(|&x| x <= end.cd_at)
                .ok_or_else(|| {
                    format!("zip entry {:?}: its data runs past the entries", rec.name)
                })?;
            let rel = parts.join("/");
            if rec.folder {
                folders.insert(rel);
                continue;
            }
            if rel.is_empty() {
                return Err(format!("zip entry {:?} is a file, not a folder", rec.name));
            }
            if entries
                .insert(rel.clone(), (rec.offset, data, rec.size, rec.crc))
                .is_some()
            {
                return Err(format!(
                    "zip entry {:?} is there twice (readers would differ on which one counts)",
                    rec.name
                ));
            }
            order.push(rel);
        }
        if let Some(p) = file_and_folder(&entries, &folders) {
            return Err(format!("{shown}: {}", both(&p)));
        }
        Ok(ZipIndex {
            file,
            path: path.to_path_buf(),
            top: top.ok_or_else(|| format!("{shown} is an empty zip"))?,
            entries,
            order,
            end,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// Where an entry's local header starts, where its data starts and its size (its local
    /// header checked against the central directory when the zip was indexed).
    pub fn locate(&self, rel: &str) -> Result<(u64, u64, u64), String> {
        self.entries
            .get(rel)
            .map(|&(l, d, s, _)| (l, d, s))
            .ok_or_else(|| "No such file in the zip".into())
    }

    /// An entry's data offset, size and CRC-32.
    fn data(&self, rel: &str) -> Result<(u64, u64, u32), String> {
        self.entries
            .get(rel)
            .map(|&(_, d, s, c)| (d, s, c))
            .ok_or_else(|| "No such file in the zip".into())
    }

    /// The central directory's records, one at a time.
    pub fn central_records(&self) -> Result<CentralRecords<'_>, String> {
        CentralRecords::new(&self.file, &self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small bag as a tar: a GNU long name, a PAX path and a plain member.
    fn small_tar() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let long = format!("p/data/{}.txt", "x".repeat(150));
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        b.append_data(&mut h, &long, &b"hello"[..]).unwrap();
        let rec = "21 path=p/data/b.txt\n";
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::XHeader);
        h.set_path("p/PaxHeader").unwrap();
        h.set_size(rec.len() as u64);
        h.set_cksum();
        b.append(&h, rec.as_bytes()).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("p/short-name").unwrap();
        h.set_size(3);
        h.set_cksum();
        b.append(&h, &b"abc"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        b.append_data(&mut h, "p/bagit.txt", &b"ok"[..]).unwrap();
        b.into_inner().unwrap()
    }

    #[test]
    fn damaged_tars_are_refused_without_a_panic() {
        let d = tempfile::tempdir().unwrap();
        let good = small_tar();
        let p = d.path().join("a.tar");
        std::fs::write(&p, &good).unwrap();
        let pk = Package::open(&p).unwrap();
        assert_eq!(pk.read("data/b.txt", 10).unwrap(), b"abc");
        assert_eq!(
            pk.read(&format!("data/{}.txt", "x".repeat(150)), 10)
                .unwrap(),
            b"hello"
        );
        // Every truncation, and every byte of a header flipped: an error or a package, never a
        // panic (and the long name and PAX records after a header).
        let bad = d.path().join("bad.tar");
        let headers: Vec<usize> = (0..good.len())
            .step_by(512)
            .filter(|&h| &good[h + 257..h + 262] == b"ustar")
            .flat_map(|h| h..h + 512 + 192)
            .collect();
        for &n in headers.iter().chain(&[good.len() - 512]) {
            std::fs::write(&bad, &good[..n]).unwrap();
            if let Ok(pk) = Package::open(&bad) {
                let _ = pk.read("data/b.txt", 10);
            }
        }
        for &i in &headers {
            for bit in [0x01u8, 0xff] {
                let mut b = good.clone();
                b[i] ^= bit;
                std::fs::write(&bad, &b).unwrap();
                if let Ok(pk) = Package::open(&bad) {
                    let _ = pk.read("data/b.txt", 10);
                    let _ = pk.read("bagit.txt", 10);
                }
            }
        }
    }

    #[test]
    fn tar_numbers_in_one_form_only() {
        assert_eq!(tar_number(b"00000000012\0"), Some(10));
        assert_eq!(tar_number(b"     12 \0\0\0\0"), Some(10));
        assert_eq!(tar_number(b"\x80\0\0\0\0\0\0\0\0\0\x01\0"), Some(256));
        for f in [
            &b"+0000000012\0"[..],
            b"0000000001 2",
            b"\0\0\0\0\0\0\0\0\0\0\0\0",
            b"\x80\0\0\x01\0\0\0\0\0\0\x01\0",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x80\0\0\0\0\0\0\0",
            b"77777777777777777777777",
        ] {
            assert_eq!(tar_number(f), None, "{f:?}");
        }
    }
}
