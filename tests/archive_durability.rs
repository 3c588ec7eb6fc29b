//! An acknowledged put is on the disk: its WAL bytes were written *and* fdatasync'ed before the
//! archive answered. Killing the process cannot show that (the page cache survives a
//! SIGKILL), so this test watches the system calls: an LD_PRELOAD shim, compiled here with
//! `cc`, wraps write/pwrite/writev and fsync/fdatasync, and for every one on a WAL file
//! (`*.log` in the database directory) prints a line to the same stdout on which
//! `kyso archive stress` prints `ack ID SHA256 MARKER` when a put returns. In that one
//! ordered stream, every document must lie inside bytes of a WAL file that were written and
//! then synced before its `ack` line. The WAL files are read as RocksDB writes them (`wal`
//! below): every record's checksum, batches in sequence, and each document in exactly one
//! entry — so a WAL damaged or written twice fails here, with the files kept to look at.

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

/// RocksDB's write-ahead log as this test reads it (RocksDB 7.9: db/log_format.h,
/// db/log_writer.cc, db/write_batch.cc).
mod wal {
    /// The log is written in blocks of 32 KiB; a record never crosses one.
    const BLOCK: usize = 32 * 1024;

    /// CRC-32C (Castagnoli), bit by bit: the test reads a few hundred KB.
    fn crc32c(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x82f6_3b78
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// util/crc32c.h `Unmask`: stored checksums are rotated and offset.
    fn unmask(masked: u32) -> u32 {
        masked.wrapping_sub(0xa282_ead8).rotate_left(15)
    }

    /// One write batch: where its last fragment ends in the file, and its entries.
    pub struct Batch {
        pub end: u64,
        pub seq: u64,
        pub entries: Vec<Entry>,
    }

    /// A put into a column family (0: the default one).
    pub struct Entry {
        pub cf: u32,
        pub key: Vec<u8>,
        pub value: Vec<u8>,
    }

    fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*i)?;
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn slice<'a>(b: &'a [u8], i: &mut usize) -> Option<&'a [u8]> {
        let n = usize::try_from(varint(b, i)?).ok()?;
        let s = b.get(*i..i.checked_add(n)?)?;
        *i += n;
        Some(s)
    }

    /// A batch's entries: puts are kept; anything else the archive's writer does not write
    /// is a problem.
    fn entries(data: &[u8]) -> Result<(u64, Vec<Entry>), String> {
        let head = data.get(..12).ok_or("a batch shorter than its header")?;
        let seq = u64::from_le_bytes(head[..8].try_into().unwrap());
        let count = u32::from_le_bytes(head[8..].try_into().unwrap());
        let mut out = Vec::new();
        let mut i = 12;
        while i < data.len() {
            let tag = data[i];
            i += 1;
            let cf = match tag {
                0x1 => 0,
                0x5 => varint(data, &mut i).ok_or("a torn column family id")? as u32,
                t => return Err(format!("seq {seq}: an entry of type {t:#x}, not a put")),
            };
            let key = slice(data, &mut i).ok_or("a torn key")?.to_vec();
            let value = slice(data, &mut i).ok_or("a torn value")?.to_vec();
            out.push(Entry { cf, key, value });
        }
        if out.len() != count as usize {
            return Err(format!(
                "seq {seq}: the batch says {count} entries and holds {}",
                out.len()
            ));
        }
        Ok((seq, out))
    }

    /// Every batch of a WAL file, checked: records tile the blocks, each checksum holds,
    /// fragments come in order, sequence numbers follow on. Problems are said, not skipped.
    pub fn read(file: &[u8], problems: &mut Vec<String>) -> Vec<Batch> {
        let mut batches: Vec<Batch> = Vec::new();
        let mut open: Option<Vec<u8>> = None;
        let mut off = 0usize;
        while off < file.len() {
            let left = BLOCK - off % BLOCK;
            if left < 7 {
                if file[off..(off + left).min(file.len())]
                    .iter()
                    .any(|&b| b != 0)
                {
                    problems.push(format!("@{off}: a block trailer that is not zeros"));
                }
                off += left;
                continue;
            }
            let Some(h) = file.get(off..off + 7) else {
                problems.push(format!("@{off}: a torn record header"));
                break;
            };
            let (masked, len, kind) = (
                u32::from_le_bytes(h[..4].try_into().unwrap()),
                usize::from(u16::from_le_bytes([h[4], h[5]])),
                h[6],
            );
            if masked == 0 && len == 0 && kind == 0 {
                if file[off..].iter().any(|&b| b != 0) {
                    problems.push(format!("@{off}: zeros, then more records"));
                }
                break;
            }
            // Types 5-8 are the recyclable forms, with the log number after the header.
            let head = if (5..=8).contains(&kind) { 11 } else { 7 };
            let end = off + head + len;
            if head + len > left || end > file.len() {
                problems.push(format!("@{off}: a record past its block or the file"));
                break;
            }
            if crc32c(&file[off + 6..end]) != unmask(masked) {
                problems.push(format!(
                    "@{off}: checksum mismatch (type {kind}, {len} bytes)"
                ));
            }
            let payload = &file[off + head..end];
            let whole = match (kind - if kind >= 5 { 4 } else { 0 }, open.take()) {
                (1, None) => Some(payload.to_vec()),
                (2, None) => {
                    open = Some(payload.to_vec());
                    None
                }
                (3, Some(mut b)) => {
                    b.extend_from_slice(payload);
                    open = Some(b);
                    None
                }
                (4, Some(mut b)) => {
                    b.extend_from_slice(payload);
                    Some(b)
                }
                (k, _) => {
                    problems.push(format!("@{off}: a fragment of type {k} out of order"));
                    None
                }
            };
            if let Some(data) = whole {
                match entries(&data) {
                    Ok((seq, entries)) => {
                        if let Some(last) = batches.last() {
                            let next = last.seq + last.entries.len() as u64;
                            if seq != next {
                                problems.push(format!(
                                    "@{off}: sequence number {seq} where {next} follows"
                                ));
                            }
                        }
                        batches.push(Batch {
                            end: end as u64,
                            seq,
                            entries,
                        });
                    }
                    Err(e) => problems.push(format!("@{off}: {e}")),
                }
            }
            off = end;
        }
        if open.is_some() {
            problems.push("the file ends inside a record".into());
        }
        batches
    }
}

/// A WAL entry holding a synthetic document: its file, where its batch ends, its column
/// family, its bytes.
struct Held {
    path: String,
    end: u64,
    cf: u32,
    value: Vec<u8>,
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
                ["ack", ..] => acked.push((line.to_string(), wal.clone())),
                _ => panic!("unexpected line {line:?}"),
            }
        }
        assert_eq!(acked.len(), 150, "round {round}");
        assert!(
            syncs > 0 && syncs <= 150,
            "round {round}: {syncs} WAL syncs"
        );
        // Where each document lies in the WAL files (they remain: nothing was flushed): the
        // entry holding its bytes, in exactly one batch of one file.
        let mut problems = Vec::new();
        // Entries whose value is a synthetic document, by their key.
        let mut holders: HashMap<Vec<u8>, Vec<Held>> = HashMap::new();
        for path in wal.keys() {
            let mut said = Vec::new();
            for b in wal::read(&std::fs::read(path).unwrap(), &mut said) {
                for e in b.entries {
                    if e.value.starts_with(b"<synthetic document ") {
                        holders.entry(e.key).or_default().push(Held {
                            path: path.clone(),
                            end: b.end,
                            cf: e.cf,
                            value: e.value,
                        });
                    }
                }
            }
            problems.extend(said.into_iter().map(|p| format!("{path} {p}")));
        }
        for (line, seen) in &acked {
            let mut f = line.splitn(4, ' ');
            let (_, _, sha, marker) = (f.next(), f.next(), f.next().unwrap(), f.next().unwrap());
            // The content column family keeps a document under its SHA-256.
            let key = hex::decode(sha).unwrap();
            let mut body = marker.repeat(3000 / marker.len() + 1).into_bytes();
            body.truncate(3000);
            let places = holders.get(&key).map(Vec::as_slice).unwrap_or_default();
            let [Held {
                path, end, value, ..
            }] = places
            else {
                let at: Vec<_> = places
                    .iter()
                    .map(|h| format!("{} batch ending {} (column family {})", h.path, h.end, h.cf))
                    .collect();
                problems.push(format!(
                    "{marker}: {} entries hold it ({at:?}), not one",
                    at.len()
                ));
                continue;
            };
            if *value != body {
                problems.push(format!(
                    "{marker}: the entry under its digest holds other bytes"
                ));
            }
            let synced = seen.get(path).map_or(0, |w| w.synced);
            if *end > synced {
                problems.push(format!(
                    "round {round}: {marker} was acknowledged when {path} was synced only up to byte {synced}; its batch ends at {end}"
                ));
            }
        }
        if !problems.is_empty() {
            let kept = dir.keep();
            panic!(
                "round {round}:\n{}\n(the database and WAL files are kept in {})",
                problems.join("\n"),
                kept.display()
            );
        }
        if round == 0 {
            // The reader sees damage: one byte changed inside the first document's batch.
            let (line, _) = &acked[0];
            let key = hex::decode(line.split(' ').nth(2).unwrap()).unwrap();
            let Held { path, end, .. } = &holders[&key][0];
            let mut bytes = std::fs::read(path).unwrap();
            bytes[*end as usize - 100] ^= 1;
            let mut said = Vec::new();
            wal::read(&bytes, &mut said);
            assert!(
                said.iter().any(|p| p.contains("checksum mismatch")),
                "{said:?}"
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
