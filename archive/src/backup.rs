//! Backups that survive the disk, and restores.
//!
//! `backup` logs a configuration event (who, when, where to) in the source database first, so
//! the copy holds the record of its own making; then takes a RocksDB checkpoint (a consistent
//! view: hard links to the immutable table and blob files, next to the database) and copies
//! every byte of it to the destination — read and written, never linked or cloned, each file
//! fsynced — under a temporary name that is renamed into place at the end. A backup on another
//! disk therefore survives the loss of the archive's disk, and opens and audits on its own.
//!
//! `restore` copies a backup the same way into a new database directory, opens it (which
//! checks its counters against its data) and logs the restore in it. What a restore cannot do
//! is make the log forget what was signed after the backup was taken: the checkpoint state file
//! (crate::checkpointer) refuses to sign a log that does not extend the last signed checkpoint.

use crate::error::{db_err, ArchiveError, Result};
use crate::model::{check_user, Activity};
use crate::store::{Archive, Config};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What a backup or restore wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Copied {
    pub path: PathBuf,
    pub files: u64,
    pub bytes: u64,
    /// The log index of the backup or restore event.
    pub leaf: u64,
}

use crate::error::io;

/// A sibling path of `p` with a suffix added to its name.
fn sibling(p: &Path, suffix: &str) -> Result<PathBuf> {
    let name = p
        .file_name()
        .ok_or_else(|| ArchiveError::Input(format!("{} has no directory name", p.display())))?;
    Ok(p.with_file_name(format!("{}{suffix}", name.to_string_lossy())))
}

/// Is anything at `p` — a file, a directory, a link, even one pointing nowhere?
fn present(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

fn must_be_new(to: &Path) -> Result<()> {
    // A link, even a dangling one, is there: the copy was made, then its rename failed
    // ("Not a directory"), leaving a full copy behind (helper 162).
    if present(to) {
        return Err(ArchiveError::Input(format!(
            "{} exists; give a new directory",
            to.display()
        )));
    }
    match to.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) if !d.is_dir() => Err(ArchiveError::Input(format!(
            "{} does not exist: create it first (the new directory inside it is made)",
            d.display()
        ))),
        _ => Ok(()),
    }
}

/// Refuse a new directory `to` inside `dir` (compared with every link resolved): a backup
/// inside the database it copies is on the same disk and becomes part of it; a restore
/// inside its backup spoils the backup.
fn not_inside(to: &Path, dir: &Path, what: &str) -> Result<()> {
    let parent = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (Ok(parent), Ok(dir)) = (parent.canonicalize(), dir.canonicalize()) else {
        return Ok(());
    };
    let to = parent.join(to.file_name().unwrap_or_default());
    if to.starts_with(&dir) {
        return Err(ArchiveError::Input(format!(
            "{} is inside {what} {}; give a directory outside it",
            to.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// A directory this run made (never one that was there: a name that clashed with a database
/// or a backup had it deleted, helper 162), removed again unless [`Scratch::keep`] is called.
struct Scratch {
    path: PathBuf,
    kept: bool,
}

impl Scratch {
    fn create(path: PathBuf) -> Result<Scratch> {
        use std::os::unix::fs::DirBuilderExt;
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => Ok(Scratch { path, kept: false }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(ArchiveError::Input(format!(
                    "{} is there already (left by an interrupted backup or restore, or another running now?): see what it holds, move it away, and run again",
                    path.display()
                )))
            }
            Err(e) => Err(io("create", &path, e)),
        }
    }

    /// Rename the directory to `to` (a new path), then sync `to`'s parent.
    fn rename_into_place(mut self, to: &Path) -> Result<()> {
        std::fs::rename(&self.path, to).map_err(|e| io("rename to", to, e))?;
        self.kept = true;
        let parent = to
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("sync", parent, e))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.kept {
            // A link put in its place is removed, not followed.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The staging directory of a backup of `db`: `<db>.backup-staging`, made anew (the RocksDB
/// checkpoint goes in its `checkpoint` folder, so RocksDB's own `checkpoint.tmp` is inside a
/// directory this run made: a link planted at `<db>.backup-staging.tmp` had RocksDB empty the
/// directory it pointed to, helper 162). A leftover of a crash (a link, or a directory
/// holding only `checkpoint` and `checkpoint.tmp` folders) is removed first; anything else
/// there is refused.
fn staging_for(db: &Path) -> Result<Scratch> {
    let staging = sibling(db, ".backup-staging")?;
    match std::fs::symlink_metadata(&staging) {
        Err(_) => {}
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::remove_file(&staging).map_err(|e| io("remove", &staging, e))?;
        }
        Ok(m) if m.is_dir() && leftover_staging(&staging) => {
            std::fs::remove_dir_all(&staging).map_err(|e| io("remove", &staging, e))?;
        }
        Ok(_) => {
            return Err(ArchiveError::Input(format!(
                "{} is there and is not a backup's leftover: move it away, and run again",
                staging.display()
            )))
        }
    }
    Scratch::create(staging)
}

fn leftover_staging(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.into_iter().all(|e| {
        e.is_ok_and(|e| {
            matches!(
                e.file_name().to_str(),
                Some("checkpoint" | "checkpoint.tmp")
            ) && e.file_type().is_ok_and(|t| t.is_dir())
        })
    })
}

impl Archive {
    /// Copy the archive to `to` (a new directory, ideally on another disk), logged as done by
    /// `user`.
    pub fn backup(&self, to: &Path, user: &str) -> Result<Copied> {
        check_user(user)?;
        must_be_new(to)?;
        not_inside(to, self.path(), "the database")?;
        let _g = self.sign_lock.lock().unwrap_or_else(|p| p.into_inner());
        // Both directories are made before anything is logged: a clash refuses the backup
        // and leaves the log as it was.
        let partial = Scratch::create(sibling(to, ".partial")?)?;
        let staging = staging_for(self.path())?;
        let leaf = self.log(
            Activity::Config {
                change: format!("backup to {}", to.display()),
            },
            user,
        )?;
        // The checkpoint sits next to the database (same file system: hard links, no copy).
        let checkpoint = staging.path.join("checkpoint");
        let copied = rocksdb::checkpoint::Checkpoint::new(&self.db)
            .and_then(|c| c.create_checkpoint(&checkpoint))
            .map_err(db_err)
            .and_then(|()| copy_files(&checkpoint, &partial.path))
            .and_then(|n| partial.rename_into_place(to).map(|()| n));
        let (files, bytes) = match copied {
            Ok(n) => n,
            Err(e) => {
                // The log said a backup was made: it says too that none was (helper 162).
                let _ = self.log(
                    Activity::Config {
                        change: format!("backup to {} failed: {e}", to.display()),
                    },
                    user,
                );
                return Err(e);
            }
        };
        Ok(Copied {
            path: to.to_path_buf(),
            files,
            bytes,
            leaf,
        })
    }
}

/// Restore the backup `from` into the new directory `to`, logged in the restored archive as
/// done by `user`.
pub fn restore(from: &Path, to: &Path, user: &str, config: Config) -> Result<Copied> {
    check_user(user)?;
    must_be_new(to)?;
    if !Archive::holds(from) {
        return Err(ArchiveError::Input(format!(
            "{} is not a kyso backup (no CURRENT file)",
            from.display()
        )));
    }
    not_inside(to, from, "the backup")?;
    let partial = Scratch::create(sibling(to, ".restoring")?)?;
    let (files, bytes) = copy_files(from, &partial.path)?;
    let leaf = {
        // A file missing is found at the open, a flipped byte by the read: both are the
        // backup's damage (a missing table file was said as the archive's, helper 165).
        let damaged = |e| match e {
            ArchiveError::Corrupt(detail) => ArchiveError::DamagedBackup {
                path: from.display().to_string(),
                detail,
            },
            e => e,
        };
        let ar = Archive::open_with(&partial.path, config).map_err(damaged)?;
        ar.read_everything().map_err(damaged)?;
        ar.log(
            Activity::Config {
                change: format!("restored from {}", from.display()),
            },
            user,
        )?
    };
    partial.rename_into_place(to)?;
    Ok(Copied {
        path: to.to_path_buf(),
        files,
        bytes,
        leaf,
    })
}

/// Is `name` a file a live database directory holds beside its data — RocksDB's lock and
/// info logs, kyso's direct-I/O probe — which a file-system snapshot of a running archive
/// (docs/operations.md) copies too? Such files are left out of a restore, not refused.
fn beside_the_data(name: &str) -> bool {
    matches!(name, "LOCK" | "LOG" | ".kyso-direct-io-probe")
        || name
            .strip_prefix("LOG.old.")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Refuse a database directory where one of RocksDB's files is not a plain file (a link, a
/// FIFO, a device) or is a write-ahead log mostly holes: opening it, RocksDB waited on a FIFO
/// for good, read `/dev/zero` through a link without end, and replayed a sparse 1 GiB log of
/// zeros for 10 s on every open (16 TiB: days) — an insider's files (helper 191). `kyso
/// restore` refuses the same in what it copies. (The bound on holes is loose: a file system
/// that compresses may report fewer blocks than bytes, never 64 times fewer for a log.)
pub(crate) fn plain_files(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(()); // no directory: opening it says so
    };
    for entry in entries {
        let entry = entry.map_err(|e| io("read", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| rocksdb_file(n)) else {
            continue;
        };
        let p = entry.path();
        let m = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            // Deleted since the listing (a compaction, a log recycled by the running service
            // while the audit opens the database): nothing to refuse (helper 199).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io("stat", &p, e)),
        };
        if !m.is_file() {
            return Err(ArchiveError::Inconsistent(format!(
                "{} is not a plain file (a link, a FIFO or a device): a database directory holds only RocksDB's files, and it is not opened",
                p.display()
            )));
        }
        let on_disk = m.blocks().saturating_mul(512);
        if name.ends_with(".log") && m.len() > (256 << 20) && on_disk.saturating_mul(64) < m.len() {
            return Err(ArchiveError::Inconsistent(format!(
                "{} is a write-ahead log of {} bytes of which {on_disk} are on disk (a file with holes, which RocksDB does not write): the database is not opened",
                p.display(),
                m.len()
            )));
        }
    }
    Ok(())
}

/// Is `name` a file RocksDB writes in a database or checkpoint directory?
fn rocksdb_file(name: &str) -> bool {
    let numbered = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    matches!(name, "CURRENT" | "IDENTITY")
        || name.strip_prefix("MANIFEST-").is_some_and(numbered)
        || name.strip_prefix("OPTIONS-").is_some_and(numbered)
        || [".sst", ".blob", ".log"]
            .iter()
            .any(|x| name.strip_suffix(x).is_some_and(numbered))
}

/// Copy every file of `src` (a database directory: RocksDB's files only) into the new, empty
/// directory `dst`, byte by byte, each file and then the directory fsynced, after checking that
/// `dst`'s file system has room for them. Returns (files, bytes).
fn copy_files(src: &Path, dst: &Path) -> Result<(u64, u64)> {
    let mut listed = Vec::new();
    let mut total = 0u64;
    for entry in std::fs::read_dir(src).map_err(|e| io("read", src, e))? {
        let entry = entry.map_err(|e| io("read", src, e))?;
        let from = entry.path();
        let name = entry.file_name();
        if name.to_str().is_some_and(beside_the_data) {
            continue;
        }
        let m = std::fs::symlink_metadata(&from).map_err(|e| io("stat", &from, e))?;
        if !m.is_file() {
            return Err(ArchiveError::Input(format!(
                "{} is not a plain file; a database directory holds only files",
                from.display()
            )));
        }
        if !name.to_str().is_some_and(rocksdb_file) {
            return Err(ArchiveError::Input(format!(
                "{} is not a file of a RocksDB database; a backup holds only its database's files",
                from.display()
            )));
        }
        total = total.saturating_add(m.len());
        listed.push(name);
    }
    // A sparse file of 10 GB, or a backup larger than the disk, filled the destination before
    // failing (helper 162): said first, with nothing written.
    let free = rustix::fs::statvfs(dst)
        .map(|v| v.f_bavail.saturating_mul(v.f_frsize))
        .map_err(|e| io("stat", dst, e.into()))?;
    if total > free {
        return Err(ArchiveError::Input(format!(
            "{} holds {total} bytes, and {} has {free} bytes free",
            src.display(),
            dst.display()
        )));
    }
    let mut buf = vec![0u8; 1 << 20];
    let (mut files, mut bytes) = (0u64, 0u64);
    for name in listed {
        let (from, to) = (src.join(&name), dst.join(&name));
        let n = copy_file(&from, &to, &mut buf)?;
        files += 1;
        bytes = bytes.saturating_add(n);
        if bytes > total {
            return Err(ArchiveError::Input(format!(
                "{} grew while it was copied; copy a directory nothing writes to",
                src.display()
            )));
        }
    }
    std::fs::File::open(dst)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("sync", dst, e))?;
    Ok((files, bytes))
}

/// Copy the plain file `from` to the new file `to` (fsynced): as long as it was when opened. A
/// link or FIFO swapped in after the listing is refused, not followed or waited on.
fn copy_file(from: &Path, to: &Path, buf: &mut [u8]) -> Result<u64> {
    use std::os::unix::fs::OpenOptionsExt;
    let r = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(from)
        .map_err(|e| io("open", from, e))?;
    let m = r.metadata().map_err(|e| io("stat", from, e))?;
    if !m.is_file() {
        return Err(ArchiveError::Input(format!(
            "{} is not a plain file; a database directory holds only files",
            from.display()
        )));
    }
    let mut w = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|e| io("create", to, e))?;
    let mut r = r.take(m.len());
    let mut n = 0u64;
    loop {
        let got = r.read(buf).map_err(|e| io("read", from, e))?;
        if got == 0 {
            break;
        }
        w.write_all(&buf[..got]).map_err(|e| io("write", to, e))?;
        n += got as u64;
    }
    if n != m.len() {
        return Err(ArchiveError::Input(format!(
            "{} changed while it was copied; copy a directory nothing writes to",
            from.display()
        )));
    }
    w.sync_all().map_err(|e| io("sync", to, e))?;
    Ok(n)
}
