//! A zip file written once, front to back, with flat memory and resumable (PKWARE APPNOTE
//! 6.3.10): the E-ARK package's container ([`crate::eark`]).
//!
//! Every entry is STORED (§4.4.5 method 0: the documents are PDFs, compressed already) with
//! the UTF-8 name flag (§4.4.4 bit 11). An entry whose bytes are in memory gets its CRC-32 and
//! sizes in its local file header (§4.3.7) up front; an entry generated as it is written
//! ([`ZipOut::stream`]: METS, PREMIS) gets a header whose CRC-32 and Zip64 sizes (§4.5.3) are
//! filled in once its end is known. The central directory (§4.3.12) is not kept in memory:
//! each entry's record is appended to a side file (the *spool*) and copied after the last entry,
//! followed by the Zip64 end of central directory record and locator (§4.3.14–15) when the
//! entries, offsets or sizes need them (more than 65,534 entries, over 4 GiB), and the end of
//! central directory record (§4.3.16).
//!
//! Resumable: [`ZipState`] (the zip's length, the spool's length, the entries) is what a
//! journal keeps at a commit; [`ZipOut::open`] cuts both files back to it and continues.

use crate::seqfile::SeqFile;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// §4.3.7 local file header signature.
pub const LOCAL: u32 = 0x0403_4b50;
/// §4.3.12 central file header signature.
pub const CENTRAL: u32 = 0x0201_4b50;
/// §4.3.14 Zip64 end of central directory record signature.
pub const END64: u32 = 0x0606_4b50;
/// §4.3.15 Zip64 end of central directory locator signature.
pub const LOCATOR64: u32 = 0x0706_4b50;
/// §4.3.16 end of central directory record signature.
pub const END: u32 = 0x0605_4b50;
/// §4.5.2 the Zip64 extended information extra field's header ID.
pub const ZIP64_EXTRA: u16 = 0x0001;
/// §4.4.4 general purpose bit 11: names are UTF-8.
const UTF8: u16 = 1 << 11;
/// §4.4.2 version made by: UNIX (3), specification 6.3.
const MADE_BY: u16 = (3 << 8) | 63;
/// §4.4.3 version needed: 1.0 stored file, 2.0 folder, 4.5 Zip64.
const NEEDS_STORED: u16 = 10;
const NEEDS_FOLDER: u16 = 20;
const NEEDS_ZIP64: u16 = 45;
/// A 32-bit field that does not hold the value: see the Zip64 record (§4.4.8, §4.4.9).
const FULL32: u32 = u32::MAX;
const FULL16: u16 = u16::MAX;

/// How far a zip got: what a journal records at a commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipState {
    /// Bytes of entries written (where the next local header goes).
    pub len: u64,
    /// Bytes of central directory records spooled.
    pub cd_len: u64,
    /// Entries written.
    pub entries: u64,
}

/// A zip under construction (written past the page cache where the file system allows it, as
/// the tar bag is: [`SeqFile`]).
pub struct ZipOut {
    zip: SeqFile,
    zip_path: PathBuf,
    cd: BufWriter<File>,
    cd_path: PathBuf,
    st: ZipState,
    /// MS-DOS time and date of every entry (§4.4.6).
    dos: (u16, u16),
}

/// MS-DOS time and date (§4.4.6) of `t` (UTC); 1980-01-01 for times before 1980.
pub fn dos_time(t: time::OffsetDateTime) -> (u16, u16) {
    let Some(t) = t.checked_to_offset(time::UtcOffset::UTC) else {
        return (0, (1 << 5) | 1);
    };
    if t.year() < 1980 || t.year() > 2107 {
        return (0, (1 << 5) | 1);
    }
    let time = ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | (t.second() as u16 / 2);
    let date =
        (((t.year() - 1980) as u16) << 9) | ((u8::from(t.month()) as u16) << 5) | t.day() as u16;
    (time, date)
}

/// Open `p` (created if missing, never through a symbolic link), cut to `len` bytes, positioned
/// at its end: a spool continued from a journal's commit.
pub(crate) fn open_at(p: &Path, len: u64) -> io::Result<File> {
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(p)?;
    f.set_len(len)?;
    f.seek(SeekFrom::End(0))?;
    Ok(f)
}

fn err(what: &str, p: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", p.display()))
}

/// One central directory record (§4.3.12), with a Zip64 extra field holding exactly the
/// fields that do not fit in 32 bits (§4.5.3: uncompressed size, compressed size, offset, in
/// that order).
fn central_record(
    name: &str,
    size: u64,
    crc: u32,
    offset: u64,
    folder: bool,
    needs: u16,
) -> Vec<u8> {
    let mut z64 = Vec::new();
    let big = |v: u64| v >= FULL32 as u64;
    if big(size) {
        z64.extend_from_slice(&size.to_le_bytes());
        z64.extend_from_slice(&size.to_le_bytes());
    }
    if big(offset) {
        z64.extend_from_slice(&offset.to_le_bytes());
    }
    let needs = if z64.is_empty() { needs } else { NEEDS_ZIP64 };
    let mut r = Vec::with_capacity(46 + name.len() + 4 + z64.len());
    r.extend_from_slice(&CENTRAL.to_le_bytes());
    r.extend_from_slice(&MADE_BY.to_le_bytes());
    r.extend_from_slice(&needs.to_le_bytes());
    r.extend_from_slice(&UTF8.to_le_bytes());
    r.extend_from_slice(&0u16.to_le_bytes()); // stored
    r.extend_from_slice(&[0; 4]); // time and date: patched by the caller
    r.extend_from_slice(&crc.to_le_bytes());
    let s32 = if big(size) { FULL32 } else { size as u32 };
    r.extend_from_slice(&s32.to_le_bytes());
    r.extend_from_slice(&s32.to_le_bytes());
    r.extend_from_slice(&(name.len() as u16).to_le_bytes());
    let extra = if z64.is_empty() { 0 } else { 4 + z64.len() };
    r.extend_from_slice(&(extra as u16).to_le_bytes());
    r.extend_from_slice(&0u16.to_le_bytes()); // comment
    r.extend_from_slice(&0u16.to_le_bytes()); // disk number start
    r.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    let mode: u32 = if folder { 0o040755 } else { 0o100644 };
    let external = (mode << 16) | if folder { 0x10 } else { 0 };
    r.extend_from_slice(&external.to_le_bytes());
    let o32 = if big(offset) { FULL32 } else { offset as u32 };
    r.extend_from_slice(&o32.to_le_bytes());
    r.extend_from_slice(name.as_bytes());
    if !z64.is_empty() {
        r.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
        r.extend_from_slice(&(z64.len() as u16).to_le_bytes());
        r.extend_from_slice(&z64);
    }
    r
}

/// A local file header (§4.3.7), appended to `h`; with a Zip64 extra field holding both
/// sizes when `zip64` (§4.5.3: in a local header, both).
fn local_header(
    h: &mut Vec<u8>,
    dos: (u16, u16),
    name: &str,
    crc: u32,
    size: u64,
    zip64: bool,
    needs: u16,
) {
    h.extend_from_slice(&LOCAL.to_le_bytes());
    h.extend_from_slice(&(if zip64 { NEEDS_ZIP64 } else { needs }).to_le_bytes());
    h.extend_from_slice(&UTF8.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // stored
    h.extend_from_slice(&dos.0.to_le_bytes());
    h.extend_from_slice(&dos.1.to_le_bytes());
    h.extend_from_slice(&crc.to_le_bytes());
    let s32 = if zip64 { FULL32 } else { size as u32 };
    h.extend_from_slice(&s32.to_le_bytes());
    h.extend_from_slice(&s32.to_le_bytes());
    h.extend_from_slice(&(name.len() as u16).to_le_bytes());
    h.extend_from_slice(&(if zip64 { 20u16 } else { 0 }).to_le_bytes());
    h.extend_from_slice(name.as_bytes());
    if zip64 {
        h.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
    }
}

/// Most bytes of an entry name (§4.4.10: a 16-bit length).
pub const MAX_NAME: usize = u16::MAX as usize;

fn name_ok(name: &str) -> io::Result<()> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("zip entry name of {} bytes", name.len()),
        ));
    }
    Ok(())
}

/// Entries made ready away from the writer (an export worker's part: CRC-32s, headers and
/// data in one buffer), appended by [`ZipOut::append`] at whatever offset the zip has reached:
/// a local header does not hold its own offset, only the central record does.
pub struct Entries {
    dos: (u16, u16),
    bytes: Vec<u8>,
    /// Per entry: name, CRC-32, size, where its local header is in `bytes`, a folder.
    entries: Vec<(String, u32, u64, usize, bool)>,
}

impl Entries {
    /// Entries dated `dos` (the writer's [`ZipOut::dos`]).
    pub fn new(dos: (u16, u16), capacity: usize) -> Entries {
        Entries {
            dos,
            bytes: Vec::with_capacity(capacity),
            entries: Vec::new(),
        }
    }

    /// A file entry.
    pub fn file(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        name_ok(name)?;
        let size = data.len() as u64;
        let crc = crc32fast::hash(data);
        let zip64 = size >= FULL32 as u64;
        let at = self.bytes.len();
        local_header(
            &mut self.bytes,
            self.dos,
            name,
            crc,
            size,
            zip64,
            NEEDS_STORED,
        );
        self.bytes.extend_from_slice(data);
        self.entries.push((name.to_string(), crc, size, at, false));
        Ok(())
    }

    /// A folder entry (`name` ends with `/`).
    pub fn folder(&mut self, name: &str) -> io::Result<()> {
        name_ok(name)?;
        let at = self.bytes.len();
        local_header(&mut self.bytes, self.dos, name, 0, 0, false, NEEDS_FOLDER);
        self.entries.push((name.to_string(), 0, 0, at, true));
        Ok(())
    }

    /// Bytes held (headers and data).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl ZipOut {
    /// Open the zip at `zip` and its central directory spool at `cd`, cut back to `at` (a
    /// fresh zip: the default state), to go on writing entries. `when` dates the entries.
    pub fn open(
        zip: &Path,
        cd: &Path,
        at: ZipState,
        when: time::OffsetDateTime,
    ) -> io::Result<ZipOut> {
        let z = SeqFile::open(zip, at.len).map_err(|e| err("open", zip, e))?;
        let c = open_at(cd, at.cd_len).map_err(|e| err("open", cd, e))?;
        Ok(ZipOut {
            zip: z,
            zip_path: zip.to_path_buf(),
            cd: BufWriter::with_capacity(1 << 16, c),
            cd_path: cd.to_path_buf(),
            st: at,
            dos: dos_time(when),
        })
    }

    /// How far it got (valid for a journal once [`ZipOut::flush`]ed and made durable).
    pub fn state(&self) -> ZipState {
        self.st
    }

    /// The MS-DOS time and date of the entries (for [`Entries::new`]).
    pub fn dos(&self) -> (u16, u16) {
        self.dos
    }

    /// Append a central directory record, its time and date set.
    fn central(&mut self, mut rec: Vec<u8>) -> io::Result<()> {
        rec[12..14].copy_from_slice(&self.dos.0.to_le_bytes());
        rec[14..16].copy_from_slice(&self.dos.1.to_le_bytes());
        self.cd
            .write_all(&rec)
            .map_err(|e| err("write", &self.cd_path, e))?;
        self.st.cd_len += rec.len() as u64;
        self.st.entries += 1;
        Ok(())
    }

    /// Copy a central directory record of another zip as it is (its entry's bytes must be at
    /// the same offset in this one): `bag renew` keeps a package's entries in place.
    pub fn raw_central(&mut self, rec: &[u8]) -> io::Result<()> {
        self.cd
            .write_all(rec)
            .map_err(|e| err("write", &self.cd_path, e))?;
        self.st.cd_len += rec.len() as u64;
        self.st.entries += 1;
        Ok(())
    }

    /// A file entry whose bytes are at hand.
    pub fn put(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let mut e = Entries::new(self.dos, 30 + name.len() + 20 + data.len());
        e.file(name, data)?;
        self.append(&e)
    }

    /// A folder entry (`name` ends with `/`).
    pub fn folder(&mut self, name: &str) -> io::Result<()> {
        let mut e = Entries::new(self.dos, 30 + name.len());
        e.folder(name)?;
        self.append(&e)
    }

    /// Entries made ready elsewhere, written at the zip's end, their central records spooled.
    pub fn append(&mut self, e: &Entries) -> io::Result<()> {
        let base = self.st.len;
        self.zip
            .write_all(&e.bytes)
            .map_err(|x| err("write", &self.zip_path, x))?;
        self.st.len += e.bytes.len() as u64;
        for (name, crc, size, at, folder) in &e.entries {
            let needs = if *folder {
                NEEDS_FOLDER
            } else if *size >= FULL32 as u64 {
                NEEDS_ZIP64
            } else {
                NEEDS_STORED
            };
            let rec = central_record(name, *size, *crc, base + *at as u64, *folder, needs);
            self.central(rec)?;
        }
        Ok(())
    }

    /// A file entry written as it is generated: write to the returned [`Entry`], then
    /// [`Entry::finish`] it. Its local header carries a Zip64 extra field (its size is not
    /// known yet) whose sizes, and the CRC-32, are filled in at the end.
    pub fn stream(&mut self, name: &str) -> io::Result<Entry<'_>> {
        name_ok(name)?;
        let at = self.st.len;
        let mut h = Vec::with_capacity(30 + name.len() + 20);
        local_header(&mut h, self.dos, name, 0, 0, true, NEEDS_STORED);
        self.zip
            .write_all(&h)
            .map_err(|e| err("write", &self.zip_path, e))?;
        self.st.len += h.len() as u64;
        Ok(Entry {
            header_at: at,
            name: name.to_string(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            z: self,
        })
    }

    /// Write out the buffered bytes of the zip, made durable, and of the spool.
    pub fn flush(&mut self) -> io::Result<()> {
        self.zip
            .sync()
            .map_err(|e| err("write", &self.zip_path, e))?;
        self.cd.flush().map_err(|e| err("write", &self.cd_path, e))
    }

    /// The central directory (copied from the spool) and its end records after the last
    /// entry; returns the zip file, complete and durable.
    pub fn finish(mut self) -> io::Result<File> {
        self.cd
            .flush()
            .map_err(|e| err("write", &self.cd_path, e))?;
        let cd_at = self.st.len;
        let cd_len = self.st.cd_len;
        let entries = self.st.entries;
        let mut zip = self.zip;
        let mut spool = self
            .cd
            .into_inner()
            .map_err(|e| err("write", &self.cd_path, e.into_error()))?;
        spool
            .seek(SeekFrom::Start(0))
            .map_err(|e| err("read", &self.cd_path, e))?;
        let n = io::copy(&mut (&mut spool).take(cd_len), &mut zip)
            .map_err(|e| err("copy", &self.cd_path, e))?;
        if n != cd_len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} is shorter than its journal says",
                    self.cd_path.display()
                ),
            ));
        }
        let mut end = Vec::with_capacity(98);
        let zip64 = entries >= FULL16 as u64 || cd_len >= FULL32 as u64 || cd_at >= FULL32 as u64;
        if zip64 {
            let end64_at = cd_at + cd_len;
            end.extend_from_slice(&END64.to_le_bytes());
            end.extend_from_slice(&44u64.to_le_bytes()); // the size of the rest of the record
            end.extend_from_slice(&MADE_BY.to_le_bytes());
            end.extend_from_slice(&NEEDS_ZIP64.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes()); // this disk
            end.extend_from_slice(&0u32.to_le_bytes()); // the disk the directory starts on
            end.extend_from_slice(&entries.to_le_bytes());
            end.extend_from_slice(&entries.to_le_bytes());
            end.extend_from_slice(&cd_len.to_le_bytes());
            end.extend_from_slice(&cd_at.to_le_bytes());
            end.extend_from_slice(&LOCATOR64.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&end64_at.to_le_bytes());
            end.extend_from_slice(&1u32.to_le_bytes()); // disks
        }
        let e16 = if entries >= FULL16 as u64 {
            FULL16
        } else {
            entries as u16
        };
        let fit = |v: u64| if v >= FULL32 as u64 { FULL32 } else { v as u32 };
        end.extend_from_slice(&END.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&e16.to_le_bytes());
        end.extend_from_slice(&e16.to_le_bytes());
        end.extend_from_slice(&fit(cd_len).to_le_bytes());
        end.extend_from_slice(&fit(cd_at).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes()); // comment
        zip.write_all(&end)
            .map_err(|e| err("write", &self.zip_path, e))?;
        zip.into_file().map_err(|e| err("write", &self.zip_path, e))
    }
}

/// An entry being written by [`ZipOut::stream`].
pub struct Entry<'a> {
    z: &'a mut ZipOut,
    header_at: u64,
    name: String,
    crc: crc32fast::Hasher,
    size: u64,
}

impl Write for Entry<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let k = self.z.zip.write(b)?;
        self.crc.update(&b[..k]);
        self.size += k as u64;
        Ok(k)
    }
    /// The bytes stay buffered until the zip is flushed (whole blocks go out as they fill).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Entry<'_> {
    /// Fill in the local header's CRC-32 and sizes, and spool the central record; returns
    /// the entry's size.
    pub fn finish(self) -> io::Result<u64> {
        let Entry {
            z,
            header_at,
            name,
            crc,
            size,
        } = self;
        let crc = crc.finalize();
        z.zip
            .patch(header_at + 14, &crc.to_le_bytes())
            .map_err(|e| err("write", &z.zip_path, e))?;
        let mut sizes = [0u8; 16];
        sizes[..8].copy_from_slice(&size.to_le_bytes());
        sizes[8..].copy_from_slice(&size.to_le_bytes());
        z.zip
            .patch(header_at + 30 + name.len() as u64 + 4, &sizes)
            .map_err(|e| err("write", &z.zip_path, e))?;
        z.st.len += size;
        z.central(central_record(
            &name,
            size,
            crc,
            header_at,
            false,
            NEEDS_ZIP64,
        ))?;
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }

    /// What another reader (the zip crate) finds: names and contents.
    fn read_back(p: &Path) -> Vec<(String, Vec<u8>)> {
        let mut z = zip::ZipArchive::new(File::open(p).unwrap()).unwrap();
        (0..z.len())
            .map(|i| {
                let mut e = z.by_index(i).unwrap();
                let mut v = Vec::new();
                e.read_to_end(&mut v).unwrap();
                (e.name().to_string(), v)
            })
            .collect()
    }

    #[test]
    fn a_zip_written_in_two_runs_cut_back_to_the_commit_reads_whole() {
        let d = tempfile::tempdir().unwrap();
        let (zp, cp) = (d.path().join("a.zip"), d.path().join("a.cd"));
        let mut z = ZipOut::open(&zp, &cp, ZipState::default(), now()).unwrap();
        z.folder("p/").unwrap();
        z.put("p/a.txt", b"first").unwrap();
        z.flush().unwrap();
        let commit = z.state();
        // Written after the commit, then lost (a crash): cut back on resume.
        z.put("p/lost.txt", b"not committed").unwrap();
        z.flush().unwrap();
        drop(z);
        let mut z = ZipOut::open(&zp, &cp, commit, now()).unwrap();
        z.put("p/b.txt", b"second").unwrap();
        let mut e = z.stream("p/c.xml").unwrap();
        for i in 0..1000 {
            writeln!(e, "<line n=\"{i}\"/>").unwrap();
        }
        assert!(e.finish().unwrap() > 10_000);
        z.put("p/empty", b"").unwrap();
        z.finish().unwrap().sync_all().unwrap();
        let got = read_back(&zp);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["p/", "p/a.txt", "p/b.txt", "p/c.xml", "p/empty"]);
        assert_eq!(got[2].1, b"second");
        assert!(String::from_utf8_lossy(&got[3].1).ends_with("<line n=\"999\"/>\n"));
    }

    /// Python's zipfile (testzip reads every entry and checks its CRC-32) and Info-ZIP's
    /// `unzip -t`: readers we did not write. Returns the entries Python counted.
    fn others_accept(p: &Path) -> usize {
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg("import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nbad = z.testzip()\nassert bad is None, bad\nprint(len(z.infolist()))")
            .arg(p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let n = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let out = std::process::Command::new("unzip")
            .arg("-tqq")
            .arg(p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "unzip -t: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        n
    }

    #[test]
    fn python_unzip_and_kyso_read_70000_entries_past_4_gib_offsets() {
        let d = tempfile::tempdir().unwrap();
        let (zp, cp) = (d.path().join("big.zip"), d.path().join("big.cd"));
        // The entries start 5 GiB in (a hole in the file, no disk used): every offset and the
        // central directory's are past 4 GiB; 70,000 entries are past the 16-bit counts.
        let start = ZipState {
            len: 5 << 30,
            ..Default::default()
        };
        let mut z = ZipOut::open(&zp, &cp, start, now()).unwrap();
        z.folder("p/").unwrap();
        for i in 0..70_000u32 {
            z.put(&format!("p/f/{i}.txt"), format!("entry {i}\n").as_bytes())
                .unwrap();
        }
        let mut e = z.stream("p/generated.xml").unwrap();
        for i in 0..10_000 {
            writeln!(e, "<x n=\"{i}\"/>").unwrap();
        }
        e.finish().unwrap();
        let st = z.state();
        assert_eq!(st.entries, 70_002);
        z.finish().unwrap();
        assert_eq!(others_accept(&zp), 70_002);
        // kyso's own reader, as `bag verify` uses it.
        let pk = crate::package::Package::open(&zp).unwrap();
        assert_eq!(pk.top(), "p");
        assert_eq!(pk.read("f/69999.txt", 100).unwrap(), b"entry 69999\n");
        assert!(pk
            .read("generated.xml", 1 << 20)
            .unwrap()
            .ends_with(b"<x n=\"9999\"/>\n"));
        assert_eq!(pk.files_under("f").0.len(), 70_000);
    }

    #[test]
    fn an_entry_over_4_gib_generated_in_place_reads_back() {
        let d = tempfile::tempdir().unwrap();
        let (zp, cp) = (d.path().join("huge.zip"), d.path().join("huge.cd"));
        let mut z = ZipOut::open(&zp, &cp, ZipState::default(), now()).unwrap();
        z.put("p/before.txt", b"before").unwrap();
        let mut e = z.stream("p/huge.bin").unwrap();
        let block = vec![0x5au8; 1 << 20];
        for _ in 0..4097 {
            e.write_all(&block).unwrap();
        }
        assert_eq!(e.finish().unwrap(), 4097 << 20);
        z.put("p/after.txt", b"after").unwrap();
        z.finish().unwrap();
        assert_eq!(others_accept(&zp), 3);
        let pk = crate::package::Package::open(&zp).unwrap();
        assert_eq!(pk.len("huge.bin").unwrap(), 4097 << 20);
        assert_eq!(pk.read("after.txt", 100).unwrap(), b"after");
    }

    #[test]
    fn damaged_zips_are_refused_without_a_panic() {
        let d = tempfile::tempdir().unwrap();
        let (zp, cp) = (d.path().join("a.zip"), d.path().join("a.cd"));
        let mut z = ZipOut::open(&zp, &cp, ZipState::default(), now()).unwrap();
        z.folder("p/").unwrap();
        z.put("p/a.txt", b"hello").unwrap();
        let mut e = z.stream("p/b.xml").unwrap();
        e.write_all(b"<b/>").unwrap();
        e.finish().unwrap();
        z.finish().unwrap().sync_all().unwrap();
        let good = std::fs::read(&zp).unwrap();
        assert!(crate::package::ZipIndex::open(&zp).is_ok());
        let bad = d.path().join("bad.zip");
        // Every truncation, and every byte flipped: an error or a package, never a panic.
        for n in 0..good.len() {
            std::fs::write(&bad, &good[..n]).unwrap();
            if let Ok(ix) = crate::package::ZipIndex::open(&bad) {
                let _ = ix.locate("a.txt");
            }
        }
        for i in 0..good.len() {
            for bit in [0x01u8, 0x80, 0xff] {
                let mut b = good.clone();
                b[i] ^= bit;
                std::fs::write(&bad, &b).unwrap();
                if let Ok(pk) = crate::package::Package::open(&bad) {
                    let _ = pk.read("a.txt", 100);
                    let _ = pk.read("b.xml", 100);
                }
            }
        }
        // Names that leave the folder, and a second folder.
        for name in ["../x", "p/../../x", "/etc/x", "p//x", "p/./x", "p\\..\\x"] {
            let mut z = ZipOut::open(&bad, &cp, ZipState::default(), now()).unwrap();
            z.put("p/a.txt", b"a").unwrap();
            z.put(name, b"x").unwrap();
            z.finish().unwrap();
            let e = crate::package::ZipIndex::open(&bad).err().unwrap();
            assert!(
                e.contains("escapes") || e.contains("more than one"),
                "{name}: {e}"
            );
        }
        // A name twice: readers would differ on which one counts.
        let mut z = ZipOut::open(&bad, &cp, ZipState::default(), now()).unwrap();
        z.put("p/a.txt", b"a").unwrap();
        z.put("p/a.txt", b"b").unwrap();
        z.finish().unwrap();
        assert!(crate::package::ZipIndex::open(&bad)
            .err()
            .unwrap()
            .contains("twice"));
    }

    #[test]
    fn dos_time_of_a_known_date() {
        let t = time::macros::datetime!(2026-12-01 10:25:31 UTC);
        assert_eq!(
            dos_time(t),
            ((10 << 11) | (25 << 5) | 15, (46 << 9) | (12 << 5) | 1)
        );
        let t = time::macros::datetime!(1970-01-01 0:00 UTC);
        assert_eq!(dos_time(t), (0, 33));
    }
}
