//! A package's files as `kyso bag verify` and `kyso bag renew` read them: a directory, or a
//! serialized bag (one tar file) read in place — never extracted into the file system.
//!
//! A tar is indexed once (each entry's name, data offset and size, by seeking over the data),
//! then read with positional reads, so records are checked in parallel as from a directory.
//! Every read is bounded by the caller's limit; entry names must stay inside the bag's one
//! top-level folder; links, devices and other non-file entries are refused.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

/// Most entries a tar package may have (about 6 million records).
const MAX_ENTRIES: usize = 20_000_000;
/// Deepest path taken.
const MAX_DEPTH: usize = 10;

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

impl TarIndex {
    /// Index the tar at `path`: one pass over its headers.
    pub fn open(path: &Path) -> Result<TarIndex, String> {
        let shown = path.display();
        let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
        let mut ar = tar::Archive::new(&file);
        let mut entries = HashMap::new();
        let mut order = Vec::new();
        let mut top: Option<String> = None;
        let mut end = 0u64;
        let it = ar
            .entries_with_seek()
            .map_err(|e| format!("{shown}: not a tar: {e}"))?;
        for (n, e) in it.enumerate() {
            if n >= MAX_ENTRIES {
                return Err(format!("{shown} has more than {MAX_ENTRIES} entries"));
            }
            let e = e.map_err(|e| format!("{shown}: a damaged tar entry: {e}"))?;
            let name = e
                .path()
                .map_err(|e| format!("{shown}: an entry name: {e}"))?
                .into_owned();
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
            let (at, size) = (e.raw_file_position(), e.size());
            end = at
                .checked_add(size.div_ceil(512) * 512)
                .ok_or_else(|| format!("tar entry {shown_name:?}: its size is impossible"))?;
            match e.header().entry_type() {
                tar::EntryType::Directory => continue,
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

impl Package {
    /// Open what `path` is: a directory, or a tar file.
    pub fn open(path: &Path) -> Result<Package, String> {
        if path.is_dir() {
            Ok(Package::Dir(path.to_path_buf()))
        } else {
            TarIndex::open(path).map(Package::Tar)
        }
    }

    /// A path to show for a file of the package.
    pub fn shown(&self, rel: &str) -> String {
        match self {
            Package::Dir(root) => root.join(rel).display().to_string(),
            Package::Tar(t) => format!("{}:{rel}", t.path.display()),
        }
    }

    /// A reader of a file of the package and its size.
    pub fn open_file(&self, rel: &str) -> Result<(Box<dyn Read + '_>, u64), String> {
        match self {
            Package::Dir(root) => {
                let p = root.join(rel);
                let f = File::open(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                let len = f
                    .metadata()
                    .map_err(|e| format!("{}: {e}", p.display()))?
                    .len();
                Ok((Box::new(f), len))
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
        }
    }

    /// A file's size.
    pub fn len(&self, rel: &str) -> Result<u64, String> {
        match self {
            Package::Dir(root) => std::fs::metadata(root.join(rel))
                .map(|m| m.len())
                .map_err(|e| e.to_string()),
            Package::Tar(t) => t
                .entries
                .get(rel)
                .map(|x| x.1)
                .ok_or_else(|| "No such file in the tar".into()),
        }
    }

    pub fn exists(&self, rel: &str) -> bool {
        match self {
            Package::Dir(root) => root.join(rel).exists(),
            Package::Tar(t) => t.entries.contains_key(rel),
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
                let mut stack = vec![(rel.to_string(), 0usize)];
                while let Some((dir, depth)) = stack.pop() {
                    let entries = match std::fs::read_dir(root.join(&dir)) {
                        Ok(e) => e,
                        Err(e) => {
                            errors.push((dir, e.to_string()));
                            continue;
                        }
                    };
                    for entry in entries.flatten() {
                        let path = join(&dir, &entry.file_name().to_string_lossy());
                        let Ok(ft) = entry.file_type() else { continue };
                        if ft.is_dir() {
                            if depth < 8 {
                                stack.push((path, depth + 1));
                            }
                        } else {
                            out.push(path);
                        }
                    }
                }
            }
            Package::Tar(t) => {
                let prefix = format!("{rel}/");
                out.extend(t.order.iter().filter(|p| p.starts_with(&prefix)).cloned());
                if out.is_empty() {
                    errors.push((rel.to_string(), "no such folder in the tar".into()));
                }
            }
        }
        (out, errors)
    }

    /// The names directly inside the folder `rel` (files and folders).
    pub fn names_in(&self, rel: &str) -> BTreeSet<String> {
        match self {
            Package::Dir(root) => std::fs::read_dir(root.join(rel))
                .map(|it| {
                    it.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default(),
            Package::Tar(t) => {
                let prefix = format!("{rel}/");
                t.order
                    .iter()
                    .filter_map(|p| p.strip_prefix(&prefix))
                    .map(|p| p.split('/').next().unwrap_or_default().to_string())
                    .collect()
            }
        }
    }
}
