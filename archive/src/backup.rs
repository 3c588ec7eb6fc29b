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

fn must_be_new(to: &Path) -> Result<()> {
    if to.exists() {
        return Err(ArchiveError::Input(format!(
            "{} exists; give a new directory",
            to.display()
        )));
    }
    match to.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) if !d.is_dir() => Err(ArchiveError::Input(format!(
            "{} does not exist",
            d.display()
        ))),
        _ => Ok(()),
    }
}

impl Archive {
    /// Copy the archive to `to` (a new directory, ideally on another disk), logged as done by
    /// `user`.
    pub fn backup(&self, to: &Path, user: &str) -> Result<Copied> {
        check_user(user)?;
        must_be_new(to)?;
        let _g = self.sign_lock.lock().unwrap_or_else(|p| p.into_inner());
        let leaf = self.log(
            Activity::Config {
                change: format!("backup to {}", to.display()),
            },
            user,
        )?;
        // The checkpoint sits next to the database (same file system: hard links, no copy).
        // Only this process can have the database open, so a leftover is from a crash.
        let staging = sibling(self.path(), ".backup-staging")?;
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io("remove", &staging, e))?;
        }
        rocksdb::checkpoint::Checkpoint::new(&self.db)
            .and_then(|c| c.create_checkpoint(&staging))
            .map_err(db_err)?;
        let copied = copy_into_place(&staging, to);
        let removed = std::fs::remove_dir_all(&staging).map_err(|e| io("remove", &staging, e));
        let (files, bytes) = copied?;
        removed?;
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
    if !from.join("CURRENT").is_file() {
        return Err(ArchiveError::Input(format!(
            "{} is not a kyso backup (no CURRENT file)",
            from.display()
        )));
    }
    let partial = sibling(to, ".restoring")?;
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| io("remove", &partial, e))?;
    }
    let (files, bytes) = copy_files(from, &partial)?;
    let leaf = {
        let ar = Archive::open_with(&partial, config)?;
        ar.log(
            Activity::Config {
                change: format!("restored from {}", from.display()),
            },
            user,
        )?
    };
    rename_into_place(&partial, to)?;
    Ok(Copied {
        path: to.to_path_buf(),
        files,
        bytes,
        leaf,
    })
}

/// Copy `src`'s files to `<to>.partial`, then rename that to `to`.
fn copy_into_place(src: &Path, to: &Path) -> Result<(u64, u64)> {
    let partial = sibling(to, ".partial")?;
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| io("remove", &partial, e))?;
    }
    let n = copy_files(src, &partial)?;
    rename_into_place(&partial, to)?;
    Ok(n)
}

fn rename_into_place(partial: &Path, to: &Path) -> Result<()> {
    std::fs::rename(partial, to).map_err(|e| io("rename to", to, e))?;
    let parent = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("sync", parent, e))
}

/// Copy every file of `src` (a database directory: files only) into the new directory `dst`,
/// byte by byte, each file and then the directory fsynced. Returns (files, bytes).
fn copy_files(src: &Path, dst: &Path) -> Result<(u64, u64)> {
    std::fs::create_dir(dst).map_err(|e| io("create", dst, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut files, mut bytes) = (0u64, 0u64);
    for entry in std::fs::read_dir(src).map_err(|e| io("read", src, e))? {
        let entry = entry.map_err(|e| io("read", src, e))?;
        let from = entry.path();
        let kind = entry.file_type().map_err(|e| io("stat", &from, e))?;
        if !kind.is_file() {
            return Err(ArchiveError::Input(format!(
                "{} is not a plain file; a database directory holds only files",
                from.display()
            )));
        }
        let to = dst.join(entry.file_name());
        let mut r = std::fs::File::open(&from).map_err(|e| io("open", &from, e))?;
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&to)
            .map_err(|e| io("create", &to, e))?;
        loop {
            let n = r.read(&mut buf).map_err(|e| io("read", &from, e))?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n]).map_err(|e| io("write", &to, e))?;
            bytes += n as u64;
        }
        w.sync_all().map_err(|e| io("sync", &to, e))?;
        files += 1;
    }
    std::fs::File::open(dst)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("sync", dst, e))?;
    Ok((files, bytes))
}
