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
use kyso_archive::{Archive, Status};
use std::path::{Path, PathBuf};
use std::process::Command;

const LOG_KEY: &str = "pkcs11:token=kyso-dev;object=log";
/// The document a forger replaces, in a bag and in an E-ARK package.
const BAG_DOC: &str = "data/records/0/document.pdf";
const EARK_DOC: &str = "representations/rep1/data/records/0/document.pdf";

struct Setup {
    demo: Demo,
    db: PathBuf,
}

impl Setup {
    /// A demo token and an archive of two records (one PDF signed on the token); record 1
    /// expired, then revoked (two status events).
    fn new() -> Setup {
        Setup::build(true)
    }

    /// Two records, `statuses`: record 1 expired, then revoked.
    fn build(statuses: bool) -> Setup {
        let demo = Demo::new();
        let signed = demo.sign_fixtures(&["giay-phep.pdf"]);
        let db = demo.path().join("archive");
        let ar = Archive::open(&db).unwrap();
        let v = demo.validator();
        for i in 0..2 {
            let got = kyso_archive::ingest(&ar, &v, permit(i, signed[0].clone())).unwrap();
            assert_eq!(got.indication, "TOTAL-PASSED");
        }
        if statuses {
            let on = "2026-11-30".to_string();
            ar.set_status(1, Status::Expired { on }, "lanhdao").unwrap();
            let reason = "cấp sai đối tượng".to_string();
            ar.set_status(1, Status::Revoked { reason }, "lanhdao")
                .unwrap();
        }
        drop(ar);
        Setup { demo, db }
    }

    /// Export every record to `name` (in the demo folder) as `format`; its path.
    fn export(&self, name: &str, format: &str) -> PathBuf {
        let out = self.demo.path().join(name);
        let r = self.export_run(&out, format);
        assert_eq!(r.code, 0, "{}", r.stderr);
        out
    }

    /// `kyso export` of every record to `out` (as [`Setup::export`], any outcome).
    fn export_run(&self, out: &Path, format: &str) -> Run {
        self.demo.run_pin(&[
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
            "--origin",
            "kyso.demo/archive",
            "--tsa-key",
            TSA_KEY,
        ])
    }

    /// `kyso bag verify --json`, in a shell that limits its address space to 600 MB.
    fn verify(&self, package: &Path) -> Run {
        self.verify_with(package, &[])
    }

    /// `kyso bag verify --json` with more arguments (in the same shell).
    fn verify_with(&self, package: &Path, more: &[&std::ffi::OsStr]) -> Run {
        self.verify_keyed(package, &self.demo.path().join("log.pem"), more)
    }

    /// [`Setup::verify_with`] given `log_key` as the log key.
    fn verify_keyed(&self, package: &Path, log_key: &Path, more: &[&std::ffi::OsStr]) -> Run {
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 600000; exec \"$0\" \"$@\"")
            .arg(kyso_bin())
            .args(["bag", "verify"])
            .arg(package)
            .arg("--log-key")
            .arg(log_key)
            .args(more)
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

/// `kyso bag verify` refused the package before reading any record, saying why: it fails
/// (exit 1, a report with no record and the reason as a package problem).
fn assert_refused(r: &Run, why: &str, case: &str) {
    assert_eq!(r.code, 1, "{case}: not refused:\n{}{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["ok"], false, "{case}: {j}");
    assert_eq!(j["records"], serde_json::json!([]), "{case}: {j}");
    let said = j["package"][0]["en"].as_str().unwrap_or_default();
    assert!(
        said.starts_with("the package is refused before any check: ") && said.contains(why),
        "{case}: {j}"
    );
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

/// What unzip and GNU tar read from fields kyso did not look at (found by an attacker's
/// reading, 2026-12-02; each package passed `bag verify`):
/// - an Info-ZIP Unicode Path extra field on two records' documents, naming each other: unzip
///   extracts them swapped, so one citizen's folder holds the other's document;
/// - a document whose external attributes say "symbolic link": unzip makes a link of it;
/// - a tar bag with an E-ARK zip appended by Python's zipfile: GNU tar reads the bag, unzip
///   the zip, and kyso verified the tar (whatever the file's name).
///
/// Now an extra field other than Zip64's, a file type other than a plain file or folder, and
/// anything but zeros after a tar's last entry are refused, and the text report names the
/// format it verified.
#[test]
fn fields_unzip_and_tar_read_that_kyso_did_not_are_refused() {
    let s = Setup::new();
    let zip = s.export("nop-luu.zip", "eark");
    let other = "representations/rep1/data/records/1/document.pdf";
    let bad = s.hostile("zip-unicode-path", &zip, EARK_DOC);
    assert_eq!(unzip_reads(&bad, EARK_DOC), python_reads(&zip, other));
    assert_refused(
        &s.verify(&bad),
        "carries an extra field kyso does not write (ID 0x7075)",
        "zip-unicode-path",
    );
    let bad = s.hostile("zip-symlink-attribute", &zip, EARK_DOC);
    assert_refused(
        &s.verify(&bad),
        "is not a plain file by its attributes (mode type 0o120000)",
        "zip-symlink-attribute",
    );
    let tar = s.export("nop-luu.tar", "bagit");
    let poly = s.hostile("tar-then-zip", &tar, zip.to_str().unwrap());
    assert!(!unzip_reads(&poly, EARK_DOC).is_empty());
    assert_refused(
        &s.verify(&poly),
        "after the tar's last entry and not zero",
        "tar-then-zip",
    );
    // The text report names the format.
    let r: Run = Command::new(kyso_bin())
        .args(["bag", "verify", "--lang", "en"])
        .arg(&tar)
        .arg("--log-key")
        .arg(s.demo.path().join("log.pem"))
        .env_remove("SOFTHSM2_CONF")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("(bagit) — PASSED"), "{}", r.stdout);
}

/// A record folder the log does not prove, whose `metadata.json` says its document is 1 GiB
/// (a sparse file: nothing on disk), listed in the manifests. Its files were read whole, on
/// every verifying thread at once, before anything said the record was not the archive's
/// (found by an attacker's reading, 2026-12-02: 2.1 GB of memory for 164 KB on disk). The
/// verifier runs in 600 MB of address space here: now it reads nothing of such a record.
#[test]
fn an_unproved_record_that_says_its_document_is_1_gib_is_not_read() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    let b = copy_of(&bag, "huge");
    let dir = b.join("data/records/7");
    std::fs::create_dir_all(&dir).unwrap();
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.join("data/records/0/metadata.json")).unwrap())
            .unwrap();
    meta["id"] = 7.into();
    meta["size"] = (1u64 << 30).into();
    std::fs::write(
        dir.join("metadata.json"),
        serde_json::to_vec(&meta).unwrap(),
    )
    .unwrap();
    std::fs::copy(b.join("data/records/0/log.json"), dir.join("log.json")).unwrap();
    let f = std::fs::File::create(dir.join("document.pdf")).unwrap();
    f.set_len(1 << 30).unwrap();
    rebag(&b, &[]);
    let r = s.verify(&b);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let j = r.json();
    let seven = record(&j, 7)["problems"].to_string();
    assert!(
        seven.contains("were not read: the log does not prove the record"),
        "{j}"
    );
}

/// The log key a package carries for its reader (`data/log/log-key.pem`) replaced by another
/// key, the manifests made to match: it was listed and hashed, never compared with the key
/// that signed the checkpoint (found by an attacker's reading, 2026-12-02).
#[test]
fn a_log_key_file_that_is_not_the_checkpoints_key_or_of_another_log_fails() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    let j = s.verify(&bag).json();
    assert_eq!(j["ok"], true);
    // No --tsa-trust: the verdict stands, and says the time-stamps vouch only for themselves.
    assert!(
        j["checkpoint"]["notes"]
            .to_string()
            .contains("trusted by their own certificates only"),
        "{j}"
    );
    // ... and that the signatures were judged against the roots the package carries (helper
    // 178); with --trust, not.
    let trust_note = |j: &serde_json::Value| {
        j["checkpoint"]["notes"]
            .as_array()
            .is_some_and(|a| a.iter().any(|n| n["kind"] == "trust"))
    };
    assert!(trust_note(&j), "{j}");
    let ca = s.demo.ca_pem();
    let j = s
        .verify_with(&bag, &["--trust".as_ref(), ca.as_os_str()])
        .json();
    assert_eq!(j["ok"], true, "{j}");
    assert!(!trust_note(&j), "{j}");
    // The log named: its own passes; another log's package, signed by the same key, fails
    // (one key may sign two logs; the origin was shown, never checked).
    let r = s.verify_with(&bag, &["--origin".as_ref(), "kyso.demo/archive".as_ref()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = s.verify_with(&bag, &["--origin".as_ref(), "kyso.demo/other".as_ref()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let problems = r.json()["checkpoint"]["problems"].to_string();
    assert!(
        problems.contains("the checkpoint is of the log")
            && problems.contains("not \\\"kyso.demo/other\\\" (--origin)"),
        "{problems}"
    );
    let b = copy_of(&bag, "other-key");
    openssl_ec_key(
        &s.demo.path().join("other.key"),
        Some(&b.join("data/log/log-key.pem")),
    );
    rebag(&b, &[]);
    assert!(bagit_py_accepts(&b));
    let r = s.verify(&b);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let j = r.json();
    assert!(
        j["checkpoint"]["problems"]
            .to_string()
            .contains("log/log-key.pem is not the log key that signed the checkpoint"),
        "{j}"
    );
}

/// A log key used past its certificate's time — retired, or stolen after — signs a forged
/// archive's checkpoint, and a TSA dates it truly (helper 163: a checkpoint first time-stamped
/// in 2031 by a key whose certificate expired in 2029 passed). The same key certified by
/// OpenSSL for a month of 2020 and a month of 2040 (under libfaketime), then for the month
/// from yesterday.
#[test]
fn a_checkpoint_first_time_stamped_outside_its_log_keys_certificate_fails() {
    let s = Setup::new();
    let d = s.demo.path();
    let mut packages = vec![s.export("nop-luu", "bagit")];
    packages.push(s.export("nop-luu.zip", "eark"));
    openssl_ec_key(&d.join("issuer.key"), None);
    let certified = |name: &str, at: &str| -> PathBuf {
        let out = d.join(name);
        let st = Command::new("faketime")
            .args([
                at,
                "openssl",
                "x509",
                "-new",
                "-subj",
                "/CN=kyso log key",
                "-days",
                "30",
            ])
            .arg("-key")
            .arg(d.join("issuer.key"))
            .arg("-force_pubkey")
            .arg(packages[0].join("data/log/log-key.pem"))
            .arg("-out")
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        out
    };
    let past = certified("past.pem", "2020-01-01 00:00:00");
    let future = certified("future.pem", "2040-01-01 00:00:00");
    let now = certified("now.pem", "1 day ago");
    for p in &packages {
        for (key, when) in [(&past, "2020-01"), (&future, "2040-01")] {
            let r = s.verify_keyed(p, key, &[]);
            assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
            let problems = r.json()["checkpoint"]["problems"].to_string();
            assert!(
                problems.contains("outside the validity of the log key's certificate")
                    && problems.contains(when),
                "{problems}"
            );
        }
        let r = s.verify_keyed(p, &now, &[]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        // Its renewed certificate beside the old one: within one of them is enough (helper
        // 165: the first found was the only one judged).
        let more = [std::ffi::OsStr::new("--log-key"), now.as_os_str()];
        let r = s.verify_keyed(p, &past, &more);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    }
}

/// A renewal dated before the time-stamp it renews, every byte of it right (OpenSSL's TSA under
/// libfaketime, tests/hostile/backdated_renewal.sh): it would move back the time the export's
/// time-stamp is relied on. Two TSAs' clocks a few seconds apart are not a forgery.
#[test]
fn a_renewal_dated_before_the_time_stamp_it_renews_fails() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/backdated_renewal.sh");
    for (back, holds) in [("20", true), ("600", false)] {
        let b = copy_of(&bag, &format!("back-{back}"));
        let work = s.demo.path().join(format!("forger-tsa-{back}"));
        let r: Run = Command::new("bash")
            .arg(&script)
            .arg(&b)
            .arg(&work)
            .arg(back)
            .output()
            .unwrap()
            .into();
        assert_eq!(r.code, 0, "backdated_renewal.sh: {}", r.stderr);
        assert!(bagit_py_accepts(&b));
        // Both TSAs trusted: ours (the demo CA) and the forger's.
        let (ours, theirs) = (s.demo.path().join("ca.pem"), work.join("tsa-root.pem"));
        let tsa = std::ffi::OsStr::new("--tsa-trust");
        let r = s.verify_with(&b, &[tsa, ours.as_os_str(), tsa, theirs.as_os_str()]);
        let j = r.json();
        let problems = j["checkpoint"]["problems"].to_string();
        if holds {
            assert_eq!(r.code, 0, "{j}");
            assert_eq!(
                j["checkpoint"]["timestamps"].as_array().unwrap().len(),
                2,
                "{j}"
            );
        } else {
            assert_eq!(r.code, 1, "{j}");
            assert!(
                problems.contains("time-stamp kyso-renewal-1.tsr is dated")
                    && problems
                        .contains("before the time-stamp it renews (data/log/checkpoint.tsr"),
                "{j}"
            );
        }
    }
}

/// A folder anyone may write to without the sticky bit: another local user can rename the
/// export's folder away and put theirs in its place, so the export is refused there (found by
/// an attacker's reading, 2026-12-02); the same folder with the sticky bit (as /tmp) is used.
#[test]
fn an_export_into_a_folder_anyone_can_swap_things_in_is_refused() {
    let s = Setup::new();
    let shared = s.demo.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let mode = |m: u32| {
        std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(m)).unwrap()
    };
    mode(0o777);
    let r = s.export_run(&shared.join("nop-luu.tar"), "bagit");
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("has no sticky bit"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0);
    mode(0o1777);
    let r = s.export_run(&shared.join("nop-luu.tar"), "bagit");
    assert_eq!(r.code, 0, "{}", r.stderr);
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

/// A folder with none of a package's files (helper 164: judged as a bag, a dozen "No such
/// file" lines, "0 passed, 0 failed") is said to be none: a usage error.
#[test]
fn a_folder_that_is_no_package_is_said_to_be_none() {
    let d = tempfile::tempdir().unwrap();
    let folder = d.path().join("scans");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.txt"), b"hi").unwrap();
    let pem = d.path().join("log.pem");
    openssl_ec_key(&d.path().join("log.key"), Some(&pem));
    let r: Run = Command::new(kyso_bin())
        .args(["bag", "verify"])
        .arg(&folder)
        .arg("--log-key")
        .arg(&pem)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("is not a package"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// Helper 163's renewal attacks: bytes appended to a time-stamp token, the manifests made to
/// match (content nothing vouches for in a file kyso writes — and `bag renew` then time-stamped
/// it); a renewal after a gap (renewed with exit 0 into a package `bag verify` then failed);
/// what a renewal killed before its rename leaves in a folder (failed with no word of why).
#[test]
fn a_token_with_bytes_after_it_or_a_renewal_past_a_gap_fails_and_is_not_renewed() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    let tar = s.export("nop-luu.tar", "bagit");
    // A TSA that does not answer is exit 6, as for `kyso sign` (it was 5, "time-stamping:
    // time-stamp: …").
    let r = s.demo.run_pin(&[
        "bag",
        "renew",
        bag.to_str().unwrap(),
        "--tsa",
        "http://127.0.0.1:9/",
    ]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.starts_with("kyso: time-stamp: "), "{}", r.stderr);
    // Renewed without --tsa-trust: said, as `bag verify` says it (it passed silently).
    let r = s.renew(&bag);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("kyso: warning: the time-stamps are trusted by their own certificates only"),
        "{}",
        r.stderr
    );
    assert_eq!(s.renew(&tar).code, 0);
    let append = |f: &Path| {
        let mut b = std::fs::read(f).unwrap();
        b.extend_from_slice(b"HIDDEN: nothing vouches for this");
        std::fs::write(f, b).unwrap();
    };
    for (name, file) in [
        ("junk-renewal", "kyso-renewal-1.tsr"),
        ("junk-first", "data/log/checkpoint.tsr"),
    ] {
        let b = copy_of(&bag, name);
        append(&b.join(file));
        rebag(&b, &[]);
        assert!(bagit_py_accepts(&b));
        let r = s.verify(&b);
        assert_eq!(r.code, 1, "{file}: {}", r.stdout);
        let problems = r.json()["checkpoint"]["problems"].to_string();
        assert!(
            problems.contains("bytes follow the time-stamp token"),
            "{problems}"
        );
        let r = s.renew(&b);
        assert_ne!(r.code, 0, "{file}");
        assert!(
            r.stderr.contains("bytes follow the time-stamp token"),
            "{}",
            r.stderr
        );
    }
    // A tar: a later entry of the same name, as GNU tar extracts it (Python's tarfile).
    let t = s.demo.path().join("junk.tar");
    std::fs::copy(&tar, &t).unwrap();
    renewal_1_appended(&t, "renewal-1", 6000);
    let r = s.verify(&t);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let problems = r.json()["checkpoint"]["problems"].to_string();
    assert!(
        problems.contains("6000 bytes follow the time-stamp token"),
        "{problems}"
    );
    let before = std::fs::read(&t).unwrap();
    assert_ne!(s.renew(&t).code, 0);
    assert_eq!(std::fs::read(&t).unwrap(), before);

    // A renewal past a gap: renew refuses, naming it.
    let b = copy_of(&bag, "gap");
    std::fs::copy(b.join("kyso-renewal-1.tsr"), b.join("kyso-renewal-3.tsr")).unwrap();
    assert_eq!(s.verify(&b).code, 1);
    let past_a_gap = |package: &Path| {
        let r = s.renew(package);
        assert_ne!(r.code, 0);
        assert!(
            r.stderr
                .contains("kyso-renewal-3.tsr is not a renewal the time-stamp chain reaches"),
            "{}",
            r.stderr
        );
    };
    past_a_gap(&b);
    assert!(!b.join("kyso-renewal-2.tsr").exists());
    // The same in a tar (helper 165: the tar's top folder was not looked in).
    let t = s.demo.path().join("gap.tar");
    std::fs::copy(&tar, &t).unwrap();
    renewal_1_appended(&t, "renewal-3", 0);
    let before = std::fs::read(&t).unwrap();
    past_a_gap(&t);
    assert_eq!(std::fs::read(&t).unwrap(), before);

    // A renewal killed before its rename: verify says what to do, and the rerun does it.
    let b = copy_of(&bag, "killed");
    std::fs::write(b.join("kyso-renewal-2.tsr.tmp"), b"half").unwrap();
    let r = s.verify(&b);
    assert_eq!(r.code, 1);
    assert!(
        r.json()["package"].to_string().contains(
            "kyso-renewal-2.tsr.tmp was left by an interrupted `kyso bag renew`: run it again"
        ),
        "{}",
        r.stdout
    );
    assert_eq!(s.renew(&b).code, 0);
    assert_eq!(s.verify(&b).code, 0);
}

/// A file added to a folder bag nine folders below `data/` (by `mkdir -p` and `cp`): the
/// verifier read eight levels and never saw it, so the bag passed with a file in its payload
/// that no manifest lists. It is now a problem of the package; the same folder tarred by GNU
/// tar is refused as too deep.
#[test]
fn a_file_hidden_deep_in_the_payload_fails_the_bag() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    assert_eq!(s.verify(&bag).json()["ok"], true);
    let deep = bag.join("data/records/0/a/b/c/d/e/f/g/h/i");
    let st = Command::new("mkdir").arg("-p").arg(&deep).status().unwrap();
    assert!(st.success());
    let st = Command::new("cp")
        .arg(bag.join(BAG_DOC))
        .arg(deep.join("document.pdf"))
        .status()
        .unwrap();
    assert!(st.success());
    let r = s.verify(&bag);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["ok"], false, "{j}");
    let said = format!("{}{}", j["package"], j["records"]);
    assert!(said.contains("data/records/0/a/b/c/d/e/f/g"), "{j}");
    assert!(said.contains("nested deeper than"), "{j}");

    let tar = s.demo.path().join("deep.tar");
    let st = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(s.demo.path())
        .arg("nop-luu")
        .status()
        .unwrap();
    assert!(st.success());
    assert_refused(&s.verify(&tar), "too deep", "deep tar");
}

/// A file named by Python with `ESC[2J`, a fake "ĐẠT" summary and `ESC[8m`, beside a changed
/// document: the text report printed the name as it was, and the terminal showed the fake
/// summary (found by an attacker's reading, 2026-12-02). Now the name is shown with visible
/// escapes, and the package's verdict is the last line.
#[test]
fn names_in_a_package_cannot_write_on_the_terminal() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    python(
        "import sys\nesc = '\\x1b'\nfake = 'Gói: nop-luu (bagit) — ĐẠT\\nTổng: 1 ĐẠT, 0 KHÔNG ĐẠT\\n'\n\
         open(sys.argv[1] + '/data/records/0/' + esc + '[2J' + esc + '[H' + fake + esc + '[8m', 'w').write('x')\n\
         p = sys.argv[1] + '/data/records/0/document.pdf'\nb = bytearray(open(p, 'rb').read())\n\
         b[2000] ^= 1\nopen(p, 'wb').write(b)",
        &[&bag],
    );
    let r: Run = Command::new(kyso_bin())
        .args(["bag", "verify"])
        .arg(&bag)
        .arg("--log-key")
        .arg(s.demo.path().join("log.pem"))
        .env_remove("SOFTHSM2_CONF")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains('\u{1b}'), "{:?}", r.stdout);
    assert!(r.stdout.contains("\\u{1b}[2J"), "{}", r.stdout);
    let last = r
        .stdout
        .lines()
        .rfind(|l| !l.is_empty())
        .unwrap_or_default();
    assert!(
        last.starts_with("Gói: ") && last.ends_with("KHÔNG ĐẠT"),
        "{}",
        r.stdout
    );
}

/// The tar bag's `kyso-renewal-1.tsr` appended again by Python's tarfile, as `name`
/// (`renewal-1`: a later entry of the same name, which GNU tar extracts) with `extra` bytes
/// after its token.
fn renewal_1_appended(tar: &Path, name: &str, extra: usize) {
    python(
        "import io, sys, tarfile\n\
         with tarfile.open(sys.argv[1]) as f:\n\
         \x20   m = next(m for m in f.getmembers() if m.name.endswith('kyso-renewal-1.tsr'))\n\
         \x20   b = f.extractfile(m).read() + b'H' * int(sys.argv[3])\n\
         with tarfile.open(sys.argv[1], 'a', format=tarfile.USTAR_FORMAT) as f:\n\
         \x20   m.name = m.name.replace('renewal-1', sys.argv[2])\n\
         \x20   m.size = len(b)\n\
         \x20   f.addfile(m, io.BytesIO(b))\n",
        &[tar, Path::new(name), Path::new(&extra.to_string())],
    );
}

/// A copy of the folder package `from`, named `name` beside it (`cp -a`).
fn copy_of(from: &Path, name: &str) -> PathBuf {
    let to = from.with_file_name(name);
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(&to)
        .status()
        .unwrap();
    assert!(st.success());
    to
}

/// tests/hostile/rebag.py: the folder bag's manifests, Payload-Oxum and tag manifest made to
/// agree with what is on disk again (`tags`: tag files the tag manifest lists besides kyso's).
fn rebag(bag: &Path, tags: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/rebag.py");
    let r: Run = Command::new("python3")
        .arg(script)
        .arg(bag)
        .args(tags)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "rebag: {}", r.stderr);
}

/// The Library of Congress's bagit.py (`$KYSO_BAGIT`, else kyso's venv): does it call the
/// bag valid?
fn bagit_py_accepts(bag: &Path) -> bool {
    let bagit = std::env::var_os("KYSO_BAGIT")
        .map(PathBuf::from)
        .unwrap_or_else(|| pyhanko().with_file_name("bagit.py"));
    Command::new(bagit)
        .arg("--validate")
        .arg(bag)
        .output()
        .unwrap()
        .status
        .success()
}

/// `python3 -c CODE ARGS…`, which must succeed.
fn python(code: &str, args: &[&Path]) {
    let r: Run = Command::new("python3")
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "python: {}", r.stderr);
}

/// The verdict of record `id` in a `bag verify --json` report.
fn record(j: &serde_json::Value, id: u64) -> &serde_json::Value {
    j["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no record {id}: {j}"))
}

/// The package failed, and `what` is named where it belongs: record `id`'s problems, or the
/// package's (`None`).
fn assert_named(s: &Setup, package: &Path, id: Option<u64>, what: &str, case: &str) {
    let r = s.verify(package);
    assert_eq!(r.code, 1, "{case}: {}{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["ok"], false, "{case}: {j}");
    let said = match id {
        Some(id) => {
            assert_eq!(record(&j, id)["ok"], false, "{case}: {j}");
            record(&j, id)["problems"].to_string()
        }
        None => j["package"].to_string(),
    };
    assert!(said.contains(what), "{case}: {what} not named: {j}");
}

/// Files added to a folder bag that a reader takes for content — another document in a
/// record's folder, one whose name differs by case only, a detached signature the record does
/// not have, a certificate no record names, a file beside the records, a second checkpoint, a
/// `fetch.txt` naming remote payload, a tag file, a renewal the chain does not reach — each
/// listed in both manifests with the tag manifest and Payload-Oxum made to match (by
/// tests/hostile/rebag.py, as any BagIt tool would). bagit.py calls each bag valid; kyso
/// checked only the files it reads, so every record still passed. Now every file must be one
/// kyso writes for what the package holds, and one that is not is named.
#[test]
fn files_kyso_did_not_write_fail_a_bag_even_when_its_manifests_list_them() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    let j = s.verify(&bag).json();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(record(&j, 1)["status"], "revoked", "{j}");
    let doc = std::fs::read(bag.join(BAG_DOC)).unwrap();
    let forged = forged(&doc);
    let checkpoint = std::fs::read(bag.join("data/log/checkpoint.txt")).unwrap();
    let token = std::fs::read(bag.join("data/log/checkpoint.tsr")).unwrap();
    let cert = format!("data/evidence/certificate-{}.der", "ab".repeat(32));
    let fetch = b"https://example.invalid/phu-luc.pdf 1234 data/records/0/phu-luc.pdf\n";
    // (file added, its bytes, the record whose verdict names it — None: the package's).
    let cases: [(&str, &[u8], Option<u64>); 12] = [
        ("data/records/0/phu-luc.pdf", &forged, Some(0)),
        ("data/records/0/Document.pdf", &forged, Some(0)),
        ("data/records/0/document.bin", &forged, Some(0)),
        ("data/records/0/cu/document.pdf", &forged, Some(0)),
        ("data/records/1/signature.p7s", b"0\x80", Some(1)),
        (&cert, &forged, None),
        ("data/huong-dan.pdf", &forged, None),
        ("data/log/checkpoint-2.txt", &checkpoint, None),
        ("data/records/\u{ff10}/document.pdf", &forged, None),
        ("fetch.txt", fetch, None),
        ("ghi-chu.txt", b"Ban sao co chinh sua\n", None),
        ("kyso-renewal-2.tsr", &token, None),
    ];
    for (i, (rel, bytes, id)) in cases.into_iter().enumerate() {
        let b = copy_of(&bag, &format!("extra-{i}"));
        let p = b.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        // (rebag.py lists the renewals in the tag manifest itself.)
        let tags: &[&str] = if rel.contains('/') || rel.starts_with("kyso-renewal") {
            &[]
        } else {
            &[rel]
        };
        rebag(&b, tags);
        if rel != "fetch.txt" {
            assert!(bagit_py_accepts(&b), "{rel}: bagit.py refuses it");
        }
        assert_named(&s, &b, id, rel, rel);
    }
    // Tag files edited to say something else, the tag manifest made to match.
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    let edits: [(&str, &str, String); 6] = [
        (
            "bagit.txt",
            "bagit.txt",
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n".into(),
        ),
        (
            "bag-info.txt",
            "Kyso-Records",
            info.replace("Kyso-Records: 2", "Kyso-Records: 3"),
        ),
        (
            "bag-info.txt",
            "External-Identifier",
            info.replace("export at log entry", "export at log entry 1"),
        ),
        (
            "bag-info.txt",
            "Internal-Sender-Description",
            info.replace("nộp lưu lịch sử", "tiêu hủy"),
        ),
        (
            "bag-info.txt",
            "Bag-Count",
            info.replace("Bag-Count: 1 of 1", "Bag-Count: 1 of 2"),
        ),
        (
            "bag-info.txt",
            "External-Description",
            format!("{info}External-Description: bản duy nhất, bản gốc đã hủy\n"),
        ),
    ];
    for (i, (file, what, text)) in edits.into_iter().enumerate() {
        let b = copy_of(&bag, &format!("tags-{i}"));
        std::fs::write(b.join(file), text).unwrap();
        rebag(&b, &[]);
        assert!(bagit_py_accepts(&b), "{what}: bagit.py refuses it");
        assert_named(&s, &b, None, what, what);
    }
}

/// A revoked record presented as valid: its revocation left out of its `log.json` (or every
/// status event, or the events put out of order so that an earlier status is the last one
/// read, or the file's `status` field set to valid), the manifests made to match. kyso
/// reported the status the events it was given said — "valid", "expired" — and the record
/// passed. The export event now names each record's status events (the log's own list, made
/// before the export read anything): a package must carry exactly those, in log order, and
/// `log.json`'s `status` must be what they say.
#[test]
fn a_status_change_left_out_of_a_package_or_reordered_is_caught() {
    let s = Setup::new();
    let bag = s.export("nop-luu", "bagit");
    let j = s.verify(&bag).json();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(record(&j, 1)["status"], "revoked", "{j}");
    let edit = r#"
import json, sys
kind, path = sys.argv[1], sys.argv[2]
log = json.load(open(path, encoding='utf-8'))
ev = log['events']
kind_of = lambda e: json.loads(e['event'])['event']
state_of = lambda e: json.loads(e['event'])['status']
if kind == 'revocation-left-out':
    ev[:] = [e for e in ev if kind_of(e) != 'status' or state_of(e)['state'] != 'revoked']
    log['status'] = state_of(ev[-1])
elif kind == 'every-status-left-out':
    ev[:] = [e for e in ev if kind_of(e) != 'status']
    log['status'] = {'state': 'valid'}
elif kind == 'reordered':
    ev[1], ev[2] = ev[2], ev[1]
elif kind == 'status-field-valid':
    log['status'] = {'state': 'valid'}
text = json.dumps(log, ensure_ascii=False, indent=2)
if kind == 'status-key-twice':
    text = '{\n  "status": {"state": "valid"},' + text[1:]
open(path, 'w', encoding='utf-8').write(text)
"#;
    // The export event names record 1's two status events, and says it is the whole export.
    let export: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/log/export.json")).unwrap()).unwrap();
    let event: serde_json::Value =
        serde_json::from_str(export["events"][0]["event"].as_str().unwrap()).unwrap();
    let statuses = event["status_events"].as_array().unwrap();
    assert_eq!(statuses.len(), 2, "{event}");
    assert!(statuses.iter().all(|p| p[0] == 1), "{event}");
    assert_eq!(event["part"], serde_json::json!([1, 1]), "{event}");
    for (kind, why) in [
        (
            "revocation-left-out",
            "a status change left out of the package",
        ),
        (
            "every-status-left-out",
            "a status change left out of the package",
        ),
        ("reordered", "not in log order"),
        (
            "status-field-valid",
            "log.json says its status is valid; its status events say revoked",
        ),
        ("status-key-twice", "duplicate field `status`"),
    ] {
        let b = copy_of(&bag, kind);
        let log = b.join("data/records/1/log.json");
        python(edit, &[Path::new(kind), &log]);
        rebag(&b, &[]);
        assert!(bagit_py_accepts(&b), "{kind}: bagit.py refuses it");
        let r = s.verify(&b);
        assert_eq!(r.code, 1, "{kind}: {}{}", r.stdout, r.stderr);
        let j = r.json();
        assert_eq!(record(&j, 1)["ok"], false, "{kind}: {j}");
        assert!(
            record(&j, 1)["problems"].to_string().contains(why),
            "{kind}: {j}"
        );
        assert_eq!(record(&j, 0)["ok"], true, "{kind}: {j}");
    }
}

/// An earlier export's event proved to a later export's checkpoint (found by an attacker's
/// reading, 2026-12-02): package 1 is exported while record 1 is valid, then record 1 is
/// revoked and package 2 exported. The forger keeps package 2 (its checkpoint, the newest)
/// but puts package 1's export event in it, with an inclusion proof to package 2's checkpoint
/// (what `kyso log prove` and `/v1/log/inclusion` hand out, or what the two packages' proofs
/// together give), drops the revocation from record 1's `log.json` (package 1's event names no
/// status event for it) and makes the manifests match. Every check held, and record 1 read as
/// valid. An export now signs the log exactly as its last export event left it, and `bag
/// verify` requires that checkpoint.
#[test]
fn an_earlier_exports_event_proved_to_a_later_checkpoint_hides_no_revocation() {
    let s = Setup::build(false);
    let first = s.export("truoc", "bagit");
    let ar = Archive::open(&s.db).unwrap();
    let reason = "cấp sai đối tượng".to_string();
    ar.set_status(1, Status::Revoked { reason }, "lanhdao")
        .unwrap();
    drop(ar);
    let second = s.export("sau", "bagit");
    let j = s.verify(&second).json();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(record(&j, 1)["status"], "revoked", "{j}");
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let mut export = read(&first.join("data/log/export.json"));
    let size = read(&second.join("data/log/export.json"))["tree_size"].clone();
    let ar = Archive::open(&s.db).unwrap();
    let mut leaves = Vec::new();
    for e in export["events"].as_array_mut().unwrap() {
        let leaf = e["leaf"].as_u64().unwrap();
        leaves.push(leaf);
        let proof = ar.inclusion_proof(leaf, size.as_u64().unwrap()).unwrap();
        e["proof"] = proof.iter().map(hex::encode).collect();
    }
    drop(ar);
    export["tree_size"] = size;
    let b = copy_of(&second, "forged");
    std::fs::write(
        b.join("data/log/export.json"),
        serde_json::to_vec_pretty(&export).unwrap(),
    )
    .unwrap();
    let log = b.join("data/records/1/log.json");
    let mut l = read(&log);
    l["events"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !e["event"].as_str().unwrap().contains(r#""event":"status""#));
    l["status"] = serde_json::json!({"state": "valid"});
    std::fs::write(&log, serde_json::to_vec_pretty(&l).unwrap()).unwrap();
    let info = std::fs::read_to_string(b.join("bag-info.txt")).unwrap();
    let info = info
        .lines()
        .map(|line| match line.split_once(" export at log entry ") {
            Some((head, _)) => format!("{head} export at log entry {}", leaves[0]),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(b.join("bag-info.txt"), info + "\n").unwrap();
    rebag(&b, &[]);
    assert!(bagit_py_accepts(&b), "bagit.py refuses it");
    let r = s.verify(&b);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let j = r.json();
    assert!(
        j.to_string()
            .contains("but this package's last export event is entry"),
        "{j}"
    );
}

/// Entries added to an E-ARK zip (rezipped by Python's zipfile, stored, every other entry as
/// it was): a second representation with a forged document, a document under documentation/,
/// descriptive metadata the METS does not reference. The root METS and every file it
/// references still matched, and the payload was as exported, so kyso called the package
/// valid; `unzip` extracts the forged files beside the real ones. Now every entry must be one
/// kyso writes.
#[test]
fn entries_kyso_did_not_write_fail_an_eark_zip() {
    let s = Setup::new();
    let zip = s.export("nop-luu.zip", "eark");
    assert_eq!(s.verify(&zip).json()["ok"], true);
    let add = r#"
import sys, zipfile
src, out, rel = sys.argv[1:4]
zin = zipfile.ZipFile(src)
top = zin.namelist()[0].split('/')[0]
zout = zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED)
for i in zin.infolist():
    if not i.is_dir():
        zout.writestr(zipfile.ZipInfo(i.filename, i.date_time), zin.read(i))
doc = [n for n in zin.namelist() if n.endswith('/records/0/document.pdf')][0]
b = bytearray(zin.read(doc)); b[len(b) // 2] ^= 0x20
if rel != '-':
    zout.writestr(zipfile.ZipInfo(top + '/' + rel, (2026, 12, 1, 0, 0, 0)), bytes(b))
zout.close()
"#;
    // The same entries rezipped, nothing added: still valid (the rezipping is not the finding).
    let same = s.demo.path().join("same.zip");
    python(add, &[&zip, &same, Path::new("-")]);
    let j = s.verify(&same).json();
    assert_eq!(j["ok"], true, "{j}");
    for (i, rel) in [
        "representations/rep2/data/records/0/document.pdf",
        "documentation/phu-luc.pdf",
        "metadata/descriptive/EAD.xml",
        "METS.xml.bak",
    ]
    .into_iter()
    .enumerate()
    {
        let out = s.demo.path().join(format!("added-{i}.zip"));
        python(add, &[&zip, &out, Path::new(rel)]);
        assert!(
            !unzip_reads(&out, rel).is_empty(),
            "{rel}: unzip reads nothing"
        );
        assert_named(&s, &out, None, rel, rel);
    }
}

/// `diff -r` of two folders: None when the same.
fn differs(a: &Path, b: &Path) -> Option<String> {
    let out = Command::new("diff")
        .arg("-rq")
        .arg(a)
        .arg(b)
        .output()
        .unwrap();
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What GNU tar (a tar) or Info-ZIP's unzip (a zip) extracts of `package` into `to`, and
/// whether it read it without an error.
fn extract(package: &Path, to: &Path) -> bool {
    std::fs::create_dir_all(to).unwrap();
    let zip = package.to_string_lossy().ends_with(".zip") || {
        let mut m = [0u8; 4];
        std::io::Read::read_exact(&mut std::fs::File::open(package).unwrap(), &mut m).is_ok()
            && &m == b"PK\x03\x04"
    };
    let st = if zip {
        Command::new("unzip")
            .arg("-qq")
            .arg(package)
            .arg("-d")
            .arg(to)
            .output()
    } else {
        Command::new("tar")
            .arg("-xf")
            .arg(package)
            .arg("-C")
            .arg(to)
            .output()
    };
    st.unwrap().status.success()
}

/// Hundreds of mutants of a real tar and zip (tests/hostile/mutants.py: header bytes flipped or
/// set to extremes, the file cut short, a stretch doubled): the verifier never crashes or
/// aborts (exit 0, 1 or 3 only, in 600 MB of address space), and a mutant it calls valid is
/// one that GNU tar or unzip extracts whole and byte for byte as the original.
#[test]
fn mutated_packages_never_crash_the_verifier_nor_pass_with_other_content() {
    let s = Setup::new();
    let count = std::env::var("KYSO_MUTANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300u32);
    // KYSO_MUTANTS_SEED: another corpus (to hunt; the suite keeps its own).
    let shift: u64 = std::env::var("KYSO_MUTANTS_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    for (name, format, seed) in [("nop-luu.tar", "bagit", 11), ("nop-luu.zip", "eark", 12)] {
        let seed = seed + shift;
        let package = s.export(name, format);
        let original = s.demo.path().join(format!("{name}.extracted"));
        assert!(extract(&package, &original), "{name}");
        let dir = s.demo.path().join(format!("{name}.mutants"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/mutants.py");
        let made: Run = Command::new("python3")
            .arg(script)
            .arg(&package)
            .arg(&dir)
            .arg(count.to_string())
            .arg(seed.to_string())
            .output()
            .unwrap()
            .into();
        assert_eq!(made.code, 0, "{}", made.stderr);
        let mut verdicts = std::collections::BTreeMap::new();
        for line in made.stdout.lines() {
            let (file, what) = line.split_once(' ').unwrap();
            let mutant = dir.join(file);
            let r = s.verify(&mutant);
            assert!(
                matches!(r.code, 0 | 1 | 3),
                "{name}, {what}: exit {}\n{}{}",
                r.code,
                r.stdout,
                r.stderr
            );
            if r.code == 0 {
                let to = dir.join(format!("{file}.extracted"));
                let whole = extract(&mutant, &to);
                assert!(
                    whole && differs(&original, &to).is_none(),
                    "{name}, {what}: bag verify says valid, but the extraction {}: {:?}",
                    if whole { "differs" } else { "failed" },
                    differs(&original, &to)
                );
                std::fs::remove_dir_all(&to).unwrap();
            }
            std::fs::remove_file(&mutant).unwrap();
            *verdicts.entry(r.code).or_insert(0u32) += 1;
        }
        // The mutations bite: most are refused or fail.
        let passed = verdicts.get(&0).copied().unwrap_or(0);
        assert!(passed * 4 < count, "{name}: {verdicts:?}");
        eprintln!("{name}: exit code → mutants {verdicts:?}");
    }
}

/// The descriptive metadata (what a receiving archive catalogues) and PREMIS edited, the root
/// METS's checksum of the file made to match (tests/hostile/metadata.py, Python's zipfile): a
/// document's subject id changed, a `taiLieu` dropped, one twice, an element kyso does not
/// write, a DOCTYPE with an entity; a file's SHA-256 in PREMIS, a validation outcome. The root
/// METS agreed with every file it references, the records held, so kyso called each package
/// valid. Now both files are read and held to the records the log proves and the payload
/// files as read, and each is named, with its record; the same values rewritten otherwise
/// (ElementTree: prefixes renamed, attributes reordered, no XML declaration) still pass.
#[test]
fn descriptive_metadata_and_premis_edited_with_their_checksum_fail_an_eark_zip() {
    let s = Setup::new();
    let zip = s.export("nop-luu.zip", "eark");
    let j = s.verify(&zip).json();
    assert_eq!(j["ok"], true, "{j}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/metadata.py");
    let edited = |kind: &str| {
        let out = s.demo.path().join(format!("meta-{kind}.zip"));
        let r: Run = Command::new("python3")
            .arg(&script)
            .arg(&zip)
            .arg(&out)
            .arg(kind)
            .output()
            .unwrap()
            .into();
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        out
    };
    let same = edited("reformat");
    let j = s.verify(&same).json();
    assert_eq!(j["ok"], true, "reformat: {j}");
    // (edit, the record named — None: the package —, what is said)
    let cases: [(&str, Option<u64>, &str); 7] = [
        (
            "subject",
            Some(0),
            "tt05-2025.xml: record 0: <chuTheDuLieu> says \\\"001099999999\\\"; the record gives \\\"001099000000\\\"",
        ),
        ("drop", Some(1), "tt05-2025.xml: record 1 has no <taiLieu>"),
        (
            "duplicate",
            Some(0),
            "tt05-2025.xml: a <taiLieu> of record 0 out of place: there twice, out of ascending order, or of a record not in the package",
        ),
        ("unknown", Some(0), "tt05-2025.xml: record 0: <ghiChu>"),
        ("doctype", None, "tt05-2025.xml: has a DOCTYPE"),
        (
            "digest",
            Some(0),
            "premis.xml: the object of representations/rep1/data/records/0/document.pdf: <objectCharacteristics/fixity/messageDigest> says",
        ),
        (
            "outcome",
            Some(0),
            "premis.xml: record 0, event validation-0: <eventOutcomeInformation/eventOutcome> says \\\"TOTAL-FAILED\\\"; the record gives \\\"TOTAL-PASSED\\\"",
        ),
    ];
    for (kind, id, what) in cases {
        let out = edited(kind);
        assert_named(&s, &out, id, what, kind);
        // The records' own checks still hold: only the description is named.
        let j = s.verify(&out).json();
        for r in j["records"].as_array().unwrap() {
            if Some(r["id"].as_u64().unwrap()) != id {
                assert_eq!(r["ok"], true, "{kind}: {j}");
            }
        }
    }
}

/// The root METS itself edited — nothing it references changed, so every checksum in it
/// still held and kyso called each package valid: its LABEL (how many records), the creator
/// agent, the header's CREATEDATE alone, a structural division's label, an fptr moved to
/// another division, LABEL written `mets:LABEL`, a stylesheet processing instruction, a file
/// kyso writes taken out with its reference, a METS whose paths would take gigabytes (under
/// the 600 MB the verifier runs with here), a root element of 200,000 namespace declarations
/// (277 s of quadratic work in quick-xml's duplicate check, debug build, until 2026-12-04;
/// 0.26 s now) or of 200,000 attributes (refused at the 65th before, and now); the representation's METS (a file's SIZE, its
/// LABEL; with a CRLF manifest, which BagIt readers take), the root METS's checksum of it made
/// to match (tests/hostile/metadata.py). And, in a renewed package, a renewal's PREMIS file — the
/// event's time, the TSA's name — with the METS's checksum of it made to match. Now the METS
/// and each renewal's PREMIS file are made again from what was verified and compared as
/// values (a renewal's token object given an xsi:type in another namespace, too); each edit
/// is named, and the records still hold. Several of these passed the first version of the
/// check (an attacker review by a helper).
#[test]
fn the_root_mets_and_a_renewals_premis_edited_fail_an_eark_zip() {
    let s = Setup::new();
    let zip = s.export("nop-luu.zip", "eark");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/metadata.py");
    let edited = |from: &Path, kind: &str| {
        let out = s.demo.path().join(format!("mets-{kind}.zip"));
        let r: Run = Command::new("python3")
            .arg(&script)
            .arg(from)
            .arg(&out)
            .arg(kind)
            .output()
            .unwrap()
            .into();
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        out
    };
    let check = |out: &Path, kind: &str, what: &str| {
        assert_named(&s, out, None, what, kind);
        let j = s.verify(out).json();
        assert_eq!(j["records_ok"], 2, "{kind}: {j}");
        assert_eq!(j["checkpoint"]["ok"], true, "{kind}: {j}");
    };
    for (kind, what) in [
        (
            "mets-label",
            "METS.xml: its root element: <mets> says LABEL=\\\"3 records exported by kyso\\\"",
        ),
        (
            "mets-agent",
            "METS.xml: <metsHdr>: <agent/name> says \\\"Trung tâm Lưu trữ lịch sử\\\"; what kyso writes for the package verified gives \\\"kyso\\\"",
        ),
        ("mets-date", "METS.xml: <dmdSec>: <dmdSec> says CREATED="),
        (
            "mets-div",
            "METS.xml: <structMap>: <div/div> says",
        ),
        (
            "mets-move-fptr",
            "METS.xml: <structMap>: its elements are not where kyso writes them",
        ),
        (
            "mets-prefixed-label",
            "METS.xml: <structMap>: <div/div> says",
        ),
        ("mets-pi", "METS.xml: has a processing instruction: refused"),
        (
            "mets-bomb",
            "METS.xml: an element name of more than 512 bytes",
        ),
        (
            "mets-xmlns",
            "METS.xml: an element with more than 16 namespace declarations",
        ),
        (
            "mets-attrs",
            "METS.xml: an element with more than 64 attributes (namespace declarations included)",
        ),
        (
            "rep-crlf",
            "metadata/preservation/manifest-sha256.txt: line 1 is",
        ),
        (
            "mets-drop-readme",
            "documentation/README.txt, which kyso writes in every package (and the METS references), cannot be read",
        ),
        (
            "rep-size",
            "representations/rep1/METS.xml: line 8 is",
        ),
        (
            "rep-label",
            "representations/rep1/METS.xml: line 2 is",
        ),
    ] {
        check(&edited(&zip, kind), kind, what);
    }
    let r = s.renew(&zip);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(s.verify(&zip).code, 0);
    for (kind, what) in [
        (
            "renewal-time",
            "metadata/preservation/premis-renewal-1.xml: <event>: <eventDateTime> says",
        ),
        (
            "renewal-xsi",
            "metadata/preservation/premis-renewal-1.xml: <object>: <object> says xsi:type=\\\"{urn:example:evil}file\\\"",
        ),
        (
            "renewal-tsa",
            "metadata/preservation/premis-renewal-1.xml: <agent> 2 of 2: <agentName> says \\\"Cục Chứng thực số\\\"",
        ),
    ] {
        check(&edited(&zip, kind), kind, what);
    }
}

/// Seeds for the fuzz target fuzz/fuzz_targets/bag_package.rs (fuzz/run.sh runs this): a tar
/// bag and an E-ARK zip of the two records and a PDF/A one, into the folder KYSO_FUZZ_SEEDS names, and the log
/// key that signs their checkpoint beside it (`<folder>.log.pem`). Not a check: ignored, and
/// without the variable it writes nothing.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let Some(to) = std::env::var_os("KYSO_FUZZ_SEEDS").map(PathBuf::from) else {
        return;
    };
    let s = Setup::new();
    // A third record, a PDF/A-1b (Ghostscript's, signed on the token): its format
    // identification event and its PREMIS object's PRONOM identifier are in the seeds too.
    let page = ghostscript_page(s.demo.path(), "giay-chung-nhan", Some(1));
    let r = s
        .demo
        .run_pin(&["sign", "--key", RSA_KEY, page.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let signed = std::fs::read(s.demo.path().join("giay-chung-nhan.signed.pdf")).unwrap();
    let ar = Archive::open(&s.db).unwrap();
    let got = kyso_archive::ingest(&ar, &s.demo.validator(), permit(2, signed)).unwrap();
    assert_eq!(got.pdfa_declared.as_deref(), Some("PDF/A-1b"));
    drop(ar);
    std::fs::create_dir_all(&to).unwrap();
    for (name, format) in [("bag.tar", "bagit"), ("eark.zip", "eark")] {
        let package = s.export(name, format);
        assert_eq!(s.verify(&package).code, 0, "{name}");
        std::fs::copy(&package, to.join(name)).unwrap();
    }
    let mut key = to.clone().into_os_string();
    key.push(".log.pem");
    std::fs::copy(s.demo.path().join("log.pem"), key).unwrap();
}

/// A record archived while the appliance's clock ran four years ahead keeps that time in the
/// log once the clock is set right, and so do the entries after it until the clock catches up
/// (the archive never dates an entry before the one ahead of it): the export's checkpoint is
/// signed, the audit is clean, and `bag verify` judges the record's signatures as of its
/// ingest entry, four years on, when the signer's certificate (three years) had expired. Not
/// as of the checkpoint's time-stamp: by default the appliance's own TSA signs it, and an
/// export run with the clock set back dated it before the entries it covers (helper 204).
#[test]
fn a_record_archived_while_the_clock_ran_ahead_is_judged_as_of_its_log_entry() {
    let s = Setup::build(false);
    let d = s.demo.path();
    // The PDF the setup signed on the token (signed now, valid three years).
    let signed = d.join("giay-phep.signed.pdf");
    let r: Run = Command::new("faketime")
        .args(["-f", "+4y", kyso_bin()])
        .args(["archive", "put", "--db"])
        .arg(&s.db)
        .args([
            "--code",
            "001099012345.AHEAD",
            "--user",
            "canbo",
            "--offline",
        ])
        .arg("--trust")
        .arg(s.demo.ca_pem())
        .args(["--allow-unsigned", "đồng hồ chạy trước"])
        .arg(&signed)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["record"], 2);
    assert_ne!(r.json()["indication"], "TOTAL-PASSED", "{}", r.stdout);
    let package = s.export("ahead", "bagit");
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(package.join("data/records/2/metadata.json")).unwrap(),
    )
    .unwrap();
    let year = |t: &str| t[..4].parse::<i32>().unwrap();
    let ingest = meta["ingest_time"].as_str().unwrap().to_string();
    let r = s.verify(&package);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let now = r.json()["checkpoint"]["timestamps"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(year(&ingest) >= year(&now) + 3, "{ingest} {now}");
    let j = r.json();
    let rec = j["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == 2)
        .unwrap();
    assert_eq!(rec["indication"], "INDETERMINATE", "{rec}");
    assert!(
        rec["ok"].as_bool().unwrap(),
        "kept unverified at ingest: {rec}"
    );
    // The export event, written with the clock right, keeps the time of the entry ahead of it;
    // the audit finds the log in order.
    let r = s.demo.run(&[
        "audit",
        "verify",
        "--db",
        s.db.to_str().unwrap(),
        "--log-key",
        d.join("log.pem").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
