//! Packages from outside, made hostile: an archivist hands `kyso bag verify` a tar or zip from
//! long-term storage decades later, and an attacker or a damaged medium controls every byte.
//! Each package here is made from one real export (SoftHSM2 keys, RocksDB) by tools we did not
//! write — Python's struct and zipfile (tests/hostile/packages.py) — and each is one that another
//! reader (Info-ZIP's unzip, Python's zipfile) reads
//! otherwise than kyso read it: a document other than the one kyso checked comes out under the
//! same name. kyso must refuse it, never call it valid.

mod common;
use common::*;
use kyso_archive::Archive;
use std::path::{Path, PathBuf};
use std::process::Command;

const LOG_KEY: &str = "pkcs11:token=kyso-dev;object=log";
const TSA_KEY: &str = "pkcs11:token=kyso-dev;object=tsa";
/// The document a forger replaces, in an E-ARK package.
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
