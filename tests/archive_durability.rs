//! An acknowledged put is on the disk: its WAL bytes were written *and* fdatasync'ed before the
//! archive answered. Killing the process cannot show that (the page cache survives a
//! SIGKILL), so this test watches the system calls: an LD_PRELOAD shim, compiled here with
//! `cc`, wraps write/pwrite/writev and fsync/fdatasync, and for every one on a WAL file
//! (`*.log` in the database directory) prints a line to the same stdout on which
//! `kyso archive stress` prints `ack ID SHA256 MARKER` when a put returns. In that one
//! ordered stream, every document must lie inside bytes of a WAL file that were written and
//! then synced before its `ack` line.

mod common;
use common::*;
use std::collections::HashMap;
use std::path::Path;

const SHIM: &str = r##"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* The path of fd if it is a RocksDB WAL file (NNNNNN.log). */
static int wal_path(int fd, char *path, size_t n) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t r = readlink(link, path, n - 1);
    if (r <= 4) return 0;
    path[r] = 0;
    return strcmp(path + r - 4, ".log") == 0;
}

/* One line, one write(2) straight to the kernel: lines never interleave. */
static void say(const char *what, int fd, long long from, long long to) {
    char path[4096], line[4300];
    if (!wal_path(fd, path, sizeof path)) return;
    int n = snprintf(line, sizeof line, "#shim %s %s %lld %lld\n", what, path, from, to);
    syscall(SYS_write, 1, line, (size_t)n);
}

#define REAL(name, ret, ...) \
    static ret (*real)(__VA_ARGS__); \
    if (!real) real = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, name);

ssize_t write(int fd, const void *buf, size_t count) {
    REAL("write", ssize_t, int, const void *, size_t)
    ssize_t r = real(fd, buf, count);
    if (r > 0) {
        long long end = lseek(fd, 0, SEEK_CUR);
        say("write", fd, end - r, end);
    }
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    REAL("writev", ssize_t, int, const struct iovec *, int)
    ssize_t r = real(fd, iov, cnt);
    if (r > 0) {
        long long end = lseek(fd, 0, SEEK_CUR);
        say("write", fd, end - r, end);
    }
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off) {
    REAL("pwrite", ssize_t, int, const void *, size_t, off_t)
    ssize_t r = real(fd, buf, count, off);
    if (r > 0) say("write", fd, off, off + r);
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off) {
    REAL("pwrite64", ssize_t, int, const void *, size_t, off_t)
    ssize_t r = real(fd, buf, count, off);
    if (r > 0) say("write", fd, off, off + r);
    return r;
}

int fdatasync(int fd) {
    REAL("fdatasync", int, int)
    int r = real(fd);
    if (r == 0) say("sync", fd, 0, 0);
    return r;
}

int fsync(int fd) {
    REAL("fsync", int, int)
    int r = real(fd);
    if (r == 0) say("sync", fd, 0, 0);
    return r;
}
"##;

/// Build the shim with the system's C compiler.
fn shim(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("walshim.c");
    let so = dir.join("walshim.so");
    std::fs::write(&src, SHIM).unwrap();
    let r = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&so)
        .arg(&src)
        .arg("-ldl")
        .output()
        .expect("cc (build-essential) builds the LD_PRELOAD shim");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    so
}

/// Per WAL file: how far it was written, and how far of that was synced.
#[derive(Default, Clone, Copy, Debug)]
struct Wal {
    written: u64,
    synced: u64,
}

#[test]
fn an_acknowledged_put_was_written_to_the_wal_and_fdatasynced_before_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let so = shim(dir.path());
    let db = dir.path().join("archive");
    // Several rounds, so that WAL files of earlier processes are replayed and new ones made;
    // concurrency comes from the checkpoint-free stress loop's pipelining (writer and syncer).
    let mut acks = 0;
    for round in 0..3 {
        let out = kyso_cmd()
            .args([
                "archive", "stress", "--count", "150", "--size", "3000", "--db",
            ])
            .arg(&db)
            .env("LD_PRELOAD", &so)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        // Replay the stream in order.
        let mut wal: HashMap<String, Wal> = HashMap::new();
        let mut acked: Vec<(String, HashMap<String, Wal>)> = Vec::new();
        let mut syncs = 0;
        for line in stdout.lines() {
            let f: Vec<&str> = line.splitn(5, ' ').collect();
            match f[..] {
                ["#shim", "write", path, from, to] => {
                    let w = wal.entry(path.to_string()).or_default();
                    let (from, to): (u64, u64) = (from.parse().unwrap(), to.parse().unwrap());
                    assert!(from <= w.written, "a hole in {path}");
                    w.written = w.written.max(to);
                }
                ["#shim", "sync", path, ..] => {
                    let w = wal.entry(path.to_string()).or_default();
                    w.synced = w.written;
                    syncs += 1;
                }
                ["ack", _id, _sha, ..] => {
                    let marker = line.splitn(4, ' ').nth(3).unwrap().to_string();
                    acked.push((marker, wal.clone()));
                }
                _ => panic!("unexpected line {line:?}"),
            }
        }
        assert_eq!(acked.len(), 150, "round {round}");
        assert!(
            syncs > 0 && syncs <= 150,
            "round {round}: {syncs} WAL syncs"
        );
        // Where each document lies in the WAL files (they remain: nothing was flushed).
        let files: HashMap<String, Vec<u8>> = wal
            .keys()
            .map(|p| (p.clone(), std::fs::read(p).unwrap()))
            .collect();
        for (marker, seen) in &acked {
            // The end of the first whole copy of the document: its last marker within one
            // document's length (and the WAL's block headers) of its first. A later copy of the
            // same bytes in the WAL (seen once under load, 2026-12-02: the last marker lay
            // 260 KB after the first) is not what the acknowledgement promised.
            let found = files.iter().find_map(|(p, bytes)| {
                let m = marker.as_bytes();
                let first = bytes.windows(m.len()).position(|w| w == m)?;
                let window = (first + 3000 + 4096 + m.len()).min(bytes.len());
                let last = first
                    + bytes[first..window]
                        .windows(m.len())
                        .rposition(|w| w == m)?;
                Some((p, (last + m.len()) as u64))
            });
            let (path, end) = found.unwrap_or_else(|| panic!("{marker} is in no WAL file"));
            let synced = seen.get(path).map_or(0, |w| w.synced);
            assert!(
                end <= synced,
                "round {round}: {marker} was acknowledged when {path} was synced only up to byte {synced}; the document ends at {end}"
            );
        }
        acks += acked.len();
    }
    assert_eq!(acks, 450);
    // And the archive those processes left audits clean (no checkpoint was signed: the
    // structural audit needs no log key).
    let r = kyso_archive::audit::verify(&db, Default::default()).unwrap();
    assert_eq!(r.records, 450);
}
