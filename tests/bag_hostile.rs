//! Packages from outside, made hostile: an archivist hands `kyso bag verify` a tar or zip from
//! long-term storage decades later, and an attacker or a damaged medium controls every byte.
//! Each package here is made from one real export (SoftHSM2 keys, RocksDB) by tools we did not
//! write — Python's struct, zipfile and tarfile (tests/hostile/packages.py), GNU tar, coreutils
//! — and each is one that another reader (Info-ZIP's unzip, Python's zipfile, GNU tar) reads
//! otherwise than kyso read it: a document other than the one kyso checked comes out under the
//! same name. kyso must refuse it, never call it valid. And `kyso bag renew`, which writes into
//! packages, writes nothing outside the package it renews.

mod common;
use common::*;
use kyso_archive::Archive;
use std::path::{Path, PathBuf};
use std::process::Command;

const LOG_KEY: &str = "pkcs11:token=kyso-dev;object=log";
const TSA_KEY: &str = "pkcs11:token=kyso-dev;object=tsa";
/// The document a forger replaces, in a bag and in an E-ARK package.
const BAG_DOC: &str = "data/records/0/document.pdf";
const EARK_DOC: &str = "representations/rep1/data/records/0/document.pdf";

struct Setup {
    demo: Demo,
    db: PathBuf,
}

impl Setup {
    /// A demo token and an archive of two records (one PDF signed on the token).
    fn new() -> Setup {
        let demo = Demo::new();
        let signed = demo.sign_fixtures(&["giay-phep.pdf"]);
        let db = demo.path().join("archive");
        let ar = Archive::open(&db).unwrap();
        let v = demo.validator();
        for i in 0..2 {
            let got = kyso_archive::ingest(&ar, &v, permit(i, signed[0].clone())).unwrap();
            assert_eq!(got.indication, "TOTAL-PASSED");
        }
        drop(ar);
        Setup { demo, db }
    }

    /// Export every record to `name` (in the demo folder) as `format`; its path.
    fn export(&self, name: &str, format: &str) -> PathBuf {
        let out = self.demo.path().join(name);
        let r = self.demo.run_pin(&[
            "export",
            "--db",
            self.db.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--all",
            "--user",
            "luutru",
            "--reason",
            "nộp lưu lịch sử",
            "--format",
            format,
            "--checkpoint-key",
            LOG_KEY,
            "--checkpoint-state",
            self.demo.path().join("checkpoint-state").to_str().unwrap(),
            "--tsa-key",
            TSA_KEY,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        out
    }

    /// `kyso bag verify --json`, in a shell that limits its address space to 600 MB.
    fn verify(&self, package: &Path) -> Run {
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 600000; exec \"$0\" \"$@\"")
            .arg(kyso_bin())
            .args(["bag", "verify"])
            .arg(package)
            .arg("--log-key")
            .arg(self.demo.path().join("log.pem"))
            .arg("--json")
            .env_remove("SOFTHSM2_CONF")
            .output()
            .unwrap()
            .into()
    }

    fn renew(&self, package: &Path) -> Run {
        self.demo.run_pin(&[
            "bag",
            "renew",
            package.to_str().unwrap(),
            "--tsa-key",
            TSA_KEY,
        ])
    }

    /// A hostile copy of `package`, made by tests/hostile/packages.py.
    fn hostile(&self, kind: &str, package: &Path, document: &str) -> PathBuf {
        let out = self.demo.path().join(format!("{kind}.pkg"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/packages.py");
        let r: Run = Command::new("python3")
            .arg(script)
            .args([
                kind,
                package.to_str().unwrap(),
                out.to_str().unwrap(),
                document,
            ])
            .output()
            .unwrap()
            .into();
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        out
    }
}

/// The forged document packages.py puts in: one byte changed, in the middle.
fn forged(doc: &[u8]) -> Vec<u8> {
    let mut b = doc.to_vec();
    let i = b.len() / 2;
    b[i] ^= 0x20;
    b
}

/// What Python's zipfile reads under the name ending with `/rel` (the last such entry).
fn python_reads(zip: &Path, rel: &str) -> Vec<u8> {
    let out = Command::new("python3")
        .arg("-c")
        .arg("import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nn = [i for i in z.namelist() if i.endswith('/' + sys.argv[2])][-1]\nsys.stdout.buffer.write(z.read(n))")
        .arg(zip)
        .arg(rel)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zipfile: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// What Info-ZIP's unzip extracts under `*/rel`.
fn unzip_reads(zip: &Path, rel: &str) -> Vec<u8> {
    Command::new("unzip")
        .arg("-p")
        .arg(zip)
        .arg(format!("*/{rel}"))
        .output()
        .unwrap()
        .stdout
}

/// What GNU tar extracts as `member` (None: not a file once extracted).
fn gnu_tar_extracts(tar: &Path, member: &str) -> Option<Vec<u8>> {
    let to = tempfile::tempdir().unwrap();
    Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(to.path())
        .output()
        .unwrap();
    let p = to.path().join(member);
    p.is_file().then(|| std::fs::read(p).unwrap())
}

/// `kyso bag verify` refused the package before reading any record, saying why.
fn assert_refused(r: &Run, why: &str, case: &str) {
    assert_eq!(r.code, 3, "{case}: not refused:\n{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(why), "{case}: {}", r.stderr);
}

#[test]
fn zips_that_unzip_or_python_read_otherwise_than_kyso_are_refused() {
    let s = Setup::new();
    let zip = s.export("nop-luu.zip", "eark");
    assert_eq!(s.verify(&zip).json()["ok"], true);
    let doc = python_reads(&zip, EARK_DOC);
    let forged = forged(&doc);
    // (case, why kyso refuses, whether Python's zipfile and unzip read the forged document).
    let cases: [(&str, &str, bool, bool); 4] = [
        // The end record counts the records; the directory holds one more, a second document:
        // Python reads records to the directory's end, and the last of a name counts.
        (
            "zip-records-past-count",
            "holds more than the records its end record counts",
            true,
            false,
        ),
        // A second directory and forged entries between the real directory and the end
        // record: unzip and Python shift every offset by that gap, and read them.
        (
            "zip-gap-before-end",
            "the central directory does not end where the end record is",
            true,
            true,
        ),
        // The end record's comment holds a forged entry, a directory and a second end record:
        // unzip and Python take the last end record signature.
        (
            "zip-second-end-in-comment",
            "the zip's end record is not where every reader finds it",
            true,
            true,
        ),
        // The Zip64 locator names a record; Python reads the one right before the locator.
        (
            "zip64-record-not-before-locator",
            "the Zip64 end record is not right before its locator",
            true,
            false,
        ),
    ];
    for (kind, why, by_python, by_unzip) in cases {
        let bad = s.hostile(kind, &zip, EARK_DOC);
        assert_eq!(python_reads(&bad, EARK_DOC) == forged, by_python, "{kind}");
        if by_unzip {
            assert_eq!(unzip_reads(&bad, EARK_DOC), forged, "{kind}");
        }
        assert_refused(&s.verify(&bad), why, kind);
    }
    // The document's local header gives it more bytes than its central record: unzip takes
    // the local size, and extracts the document with a revision appended after it (which a PDF
    // reader shows).
    let bad = s.hostile("zip-local-size-grown", &zip, EARK_DOC);
    let got = unzip_reads(&bad, EARK_DOC);
    assert!(got.len() > doc.len() && got.starts_with(&doc));
    assert_refused(
        &s.verify(&bad),
        "its local header disagrees with the central directory",
        "zip-local-size-grown",
    );
    // Zipped again by Python with its documents deflated: kyso inflates nothing (no bomb).
    let bad = s.hostile("zip-deflated", &zip, EARK_DOC);
    assert_eq!(python_reads(&bad, EARK_DOC), doc);
    assert_refused(&s.verify(&bad), "is compressed (method 8)", "zip-deflated");
}

#[test]
fn tars_that_gnu_tar_reads_otherwise_than_kyso_are_refused() {
    let s = Setup::new();
    let tar = s.export("nop-luu.tar", "bagit");
    assert_eq!(s.verify(&tar).json()["ok"], true);
    let member = format!("nop-luu/{BAG_DOC}");
    let doc = gnu_tar_extracts(&tar, &member).unwrap();
    let forged = forged(&doc);
    // Each adds a member kyso took for a tag file it does not read (`notes.txt`) and GNU tar
    // extracts as the document, forged.
    for (kind, why) in [
        // Two PAX path records: the tar crate took the first, GNU tar takes the last.
        ("tar-pax-path-twice", "the PAX key \"path\" twice"),
        // A GNU long name and a PAX path for one member, in either order.
        (
            "tar-long-name-and-pax-path",
            "both a GNU long name and a PAX path",
        ),
        (
            "tar-pax-path-and-long-name",
            "both a GNU long name and a PAX path",
        ),
        // A PAX sparse member: GNU tar names it by GNU.sparse.name.
        (
            "tar-pax-sparse-name",
            "GNU sparse files and volumes are refused",
        ),
        // A base-256 size too large for GNU tar, which then skips to the forged member
        // hidden in the data the tar crate read as the member's.
        (
            "tar-size-base256-too-large",
            "its size or checksum field is not a plain number",
        ),
    ] {
        let bad = s.hostile(kind, &tar, BAG_DOC);
        assert_eq!(
            gnu_tar_extracts(&bad, &member).as_deref(),
            Some(&forged[..]),
            "{kind}"
        );
        assert_refused(&s.verify(&bad), why, kind);
    }
    // A folder member named like the document, after it: GNU tar's extraction has no document.
    let bad = s.hostile("tar-folder-over-file", &tar, BAG_DOC);
    assert_eq!(gnu_tar_extracts(&bad, &member), None);
    assert_refused(
        &s.verify(&bad),
        "is both a file and a folder in the package",
        "tar-folder-over-file",
    );
    // A GNU long name of 1 GiB: refused from its header, not read into memory (the verifier
    // runs in 600 MB of address space).
    let bad = s.hostile("tar-long-name-of-1-gib", &tar, BAG_DOC);
    assert_refused(
        &s.verify(&bad),
        "a GNU long name or PAX header of 1073741824 bytes (at most 4096 are read)",
        "tar-long-name-of-1-gib",
    );
    // A forged document appended with GNU tar (`tar --append`): the tar has the name twice,
    // GNU tar extracts the later one, and that is the one kyso checks.
    let appended = s.demo.path().join("appended.tar");
    std::fs::copy(&tar, &appended).unwrap();
    let dir = s.demo.path().join("forger");
    std::fs::create_dir_all(dir.join("nop-luu/data/records/0")).unwrap();
    std::fs::write(dir.join(&member), &forged).unwrap();
    let st = Command::new("tar")
        .arg("--append")
        .arg("-f")
        .arg(&appended)
        .arg("-C")
        .arg(&dir)
        .arg(&member)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(gnu_tar_extracts(&appended, &member), Some(forged));
    let r = s.verify(&appended);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["records"][0]["ok"], false, "{j}");
    assert!(
        j["records"][0]["problems"].to_string().contains(BAG_DOC),
        "{j}"
    );
}

/// `ln -s TARGET LINK`.
fn ln_s(target: &Path, link: &Path) {
    let st = Command::new("ln")
        .arg("-s")
        .arg(target)
        .arg(link)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn renew_writes_only_into_its_package_and_a_folder_is_read_only_inside_itself() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    let tar = s.export("nop-luu.tar", "bagit");
    let zip = s.export("nop-luu.zip", "eark");
    let outside = s.demo.path().join("outside.txt");
    let untouched = || assert_eq!(std::fs::read(&outside).unwrap(), b"not the package's\n");

    // A folder bag whose `data` is a symbolic link to a copy elsewhere: read from outside
    // the package, it verified; now the link is named, and nothing behind it read.
    let linked = s.demo.path().join("linked");
    let st = Command::new("cp")
        .arg("-a")
        .arg(&bag)
        .arg(&linked)
        .status()
        .unwrap();
    assert!(st.success());
    let elsewhere = s.demo.path().join("elsewhere");
    std::fs::rename(linked.join("data"), &elsewhere).unwrap();
    ln_s(&elsewhere, &linked.join("data"));
    let r = s.verify(&linked);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let j = r.json();
    assert!(
        j["package"]
            .to_string()
            .contains("a symbolic link inside the package"),
        "{j}"
    );

    // What an interrupted renewal leaves beside its files — or a forger plants — is a
    // symbolic link to a file outside: the renewal removes it and writes its own file.
    for (package, planted) in [
        (&bag, bag.join("tagmanifest-sha256.txt.tmp")),
        (&bag, bag.join("kyso-renewal-2.tsr.tmp")),
        (&tar, s.demo.path().join("nop-luu.tar.renew-partial")),
        (&zip, s.demo.path().join("nop-luu.zip.renew-partial")),
        (&zip, s.demo.path().join("nop-luu.zip.renew-central")),
    ] {
        std::fs::write(&outside, b"not the package's\n").unwrap();
        ln_s(&outside, &planted);
        let r = s.renew(package);
        assert_eq!(r.code, 0, "{}: {}", planted.display(), r.stderr);
        untouched();
        assert!(!planted.exists(), "{}", planted.display());
        let j = s.verify(package).json();
        assert_eq!(j["ok"], true, "{}: {j}", planted.display());
        assert!(std::fs::symlink_metadata(package).unwrap().is_dir() || package.is_file());
        assert!(!std::fs::symlink_metadata(package)
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert!(
        std::fs::symlink_metadata(bag.join("tagmanifest-sha256.txt"))
            .unwrap()
            .is_file()
    );

    // A symbolic link to a tar: renewing in a copy renamed over the link would leave the
    // package it names as it was; refused, the link and the tar as they were.
    let link = s.demo.path().join("current.tar");
    ln_s(&tar, &link);
    let before = std::fs::read(&tar).unwrap();
    let r = s.renew(&link);
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&tar).unwrap(), before);
}
