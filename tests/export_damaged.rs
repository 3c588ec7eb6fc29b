//! Export meets a damaged record (issue 12): an insider with write access to the RocksDB files
//! damages one record in the middle of a real archive (SoftHSM2 keys, RocksDB) while it is
//! closed — its document overwritten, its document deleted, a stored digest that is not hex.
//! `kyso export` (a BagIt tar, a BagIt folder, an E-ARK zip) must stop with a message naming
//! the record and what broke, never panic, and leave nothing that `bagit.py --validate` or
//! `kyso bag verify` accepts as a complete package.

mod common;
use common::*;
use kyso_archive::Archive;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const LOG_KEY: &str = "pkcs11:token=kyso-dev;object=log";
const TSA_KEY: &str = "pkcs11:token=kyso-dev;object=tsa";
/// Records in the archive; the damaged one is in the middle.
const RECORDS: u64 = 300;
const DAMAGED: u64 = 150;

/// The Library of Congress's bagit.py: $KYSO_BAGIT, else kyso's venv.
fn bagit() -> PathBuf {
    std::env::var_os("KYSO_BAGIT")
        .map(PathBuf::from)
        .unwrap_or_else(|| pyhanko().with_file_name("bagit.py"))
}

struct Setup {
    demo: Demo,
    db: PathBuf,
    /// The damaged record's code and its document's SHA-256 (the content key).
    code: String,
    sha256: Vec<u8>,
}

impl Setup {
    /// 300 records signed on the token and validated at ingest: two PDFs shared by all records
    /// but one, and the one in the middle with a document of its own (so that damaging its
    /// stored document damages no other record).
    fn new() -> Setup {
        let demo = Demo::new();
        let signed =
            demo.sign_fixtures(&["giay-phep.pdf", "three-pages.pdf", "giay-phep-objstm.pdf"]);
        let db = demo.path().join("archive");
        let ar = Archive::open(&db).unwrap();
        let v = demo.validator();
        for i in 0..RECORDS {
            let document = if i == DAMAGED {
                signed[2].clone()
            } else {
                signed[(i % 2) as usize].clone()
            };
            let got = kyso_archive::ingest(&ar, &v, permit(i, document)).unwrap();
            assert_eq!(got.indication, "TOTAL-PASSED");
            assert_eq!(got.record, i, "records are numbered in ingest order");
        }
        drop(ar);
        Setup {
            demo,
            db,
            code: permit_code(DAMAGED),
            sha256: Sha256::digest(&signed[2]).to_vec(),
        }
    }

    fn export(&self, out: &Path, extra: &[&str]) -> Run {
        let mut c = self.demo.cmd();
        c.args(["export", "--db"])
            .arg(&self.db)
            .arg("--out")
            .arg(out)
            .args(["--all", "--user", "luutru", "--reason", "nộp lưu lịch sử"])
            .args(["--organization", "UBND huyện Hoài Đức"])
            .args(["--checkpoint-key", LOG_KEY, "--checkpoint-state"])
            .arg(self.demo.path().join("checkpoint-state"))
            .args(["--tsa-key", TSA_KEY, "--pin-file"])
            .arg(self.demo.pin_file())
            .args(extra);
        c.output().unwrap().into()
    }

    fn bag_verify(&self, package: &Path) -> Run {
        kyso_cmd()
            .args(["bag", "verify"])
            .arg(package)
            .arg("--log-key")
            .arg(self.demo.path().join("log.pem"))
            .arg("--json")
            .output()
            .unwrap()
            .into()
    }

    /// Open the archive's RocksDB directly, as an insider with write access to its files
    /// would (the layout is archive/src/schema.rs's), and change it; closed again after.
    fn tamper(&self, f: impl FnOnce(&rocksdb::DB)) {
        let mut o = rocksdb::Options::default();
        o.create_if_missing(false);
        let d = rocksdb::DB::open_cf(&o, &self.db, kyso_archive::store::CFS).unwrap();
        f(&d);
        d.flush_wal(true).unwrap();
    }
}

fn cf<'a>(d: &'a rocksdb::DB, n: &str) -> &'a rocksdb::ColumnFamily {
    d.cf_handle(n).unwrap()
}

/// The damaged record's stored JSON with one field replaced.
fn with_field(d: &rocksdb::DB, field: &str, value: &str) {
    let key = kyso_archive::schema::u64_key(DAMAGED);
    let stored = d
        .get_cf(cf(d, kyso_archive::schema::CF_RECORDS), key)
        .unwrap()
        .unwrap();
    let mut r: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert!(r[field].is_string(), "{field}: {r}");
    r[field] = value.into();
    d.put_cf(
        cf(d, kyso_archive::schema::CF_RECORDS),
        key,
        serde_json::to_vec(&r).unwrap(),
    )
    .unwrap();
}

type Damage = Box<dyn Fn(&Setup, &rocksdb::DB)>;

#[test]
fn an_export_that_meets_a_damaged_record_stops_naming_it_and_leaves_no_package_that_validates() {
    let s = Setup::new();
    let content = kyso_archive::schema::CF_CONTENT;
    // A clean export first: the archive and the damage below are all that differ.
    let clean = s.demo.path().join("clean.tar");
    let r = s.export(&clean, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["records"], RECORDS);
    assert_eq!(s.bag_verify(&clean).code, 0);
    let original = {
        let mut v = None;
        s.tamper(|d| v = d.get_cf(cf(d, content), &s.sha256).unwrap());
        v.expect("the damaged record's document is stored under its SHA-256")
    };
    let record_json = {
        let mut v = None;
        s.tamper(|d| {
            v = d
                .get_cf(
                    cf(d, kyso_archive::schema::CF_RECORDS),
                    kyso_archive::schema::u64_key(DAMAGED),
                )
                .unwrap()
        });
        v.unwrap()
    };

    // (damage, what the message must say broke)
    let cases: Vec<(&str, Damage, &str)> = vec![
        (
            "overwritten",
            Box::new(|s: &Setup, d: &rocksdb::DB| {
                let mut v = d.get_cf(cf(d, content), &s.sha256).unwrap().unwrap();
                let n = v.len();
                v[n / 2] ^= 0x20;
                d.put_cf(cf(d, content), &s.sha256, v).unwrap();
            }),
            "does not match its SHA-256",
        ),
        (
            "deleted",
            Box::new(|s: &Setup, d: &rocksdb::DB| {
                d.delete_cf(cf(d, content), &s.sha256).unwrap();
            }),
            "is missing",
        ),
        (
            "sha512-not-hex",
            Box::new(|_: &Setup, d: &rocksdb::DB| {
                with_field(d, "content_sha512", &"zz".repeat(64));
            }),
            "malformed",
        ),
        (
            "sha256-not-hex",
            Box::new(|_: &Setup, d: &rocksdb::DB| {
                with_field(
                    d,
                    "content_sha256",
                    "not-a-digest-not-a-digest-not-a-digest-not-a-digest-not-a-diges",
                );
            }),
            "malformed SHA-256",
        ),
    ];
    for (name, damage, broke) in &cases {
        s.tamper(|d| damage(&s, d));
        for (format, ext, extra) in [
            ("tar", ".tar", &["--format", "bagit"][..]),
            ("eark", ".zip", &["--format", "eark"][..]),
            ("dir", "", &["--format", "bagit"][..]),
        ] {
            let out = s.demo.path().join(format!("{name}-{format}{ext}"));
            let r = s.export(&out, extra);
            let what = format!("{name}, {format}");
            // Exit 20: the archive's stored data is inconsistent (docs/cli.md).
            assert_eq!(r.code, 20, "{what}: {}{}", r.stdout, r.stderr);
            assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
            assert!(
                r.stderr.contains(&format!("record {DAMAGED}")) && r.stderr.contains(broke),
                "{what}: the message must name record {DAMAGED} and say it {broke}: {}",
                r.stderr
            );
            assert!(r.stderr.contains(&s.code), "{what}: {}", r.stderr);
            // Nothing at PATH: the package is renamed into place only when complete.
            assert!(!out.exists(), "{what}: {} exists", out.display());
            let v = s.bag_verify(&out);
            assert_ne!(v.code, 0, "{what}: {}", v.stdout);
            // What is under PATH.partial is no package either: not to bag verify, not to
            // bagit.py, and its journal says it stopped short of the damaged record.
            let mut partial = out.as_os_str().to_owned();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            assert!(partial.is_dir(), "{what}");
            for p in std::iter::once(partial.clone()).chain(
                std::fs::read_dir(&partial)
                    .unwrap()
                    .map(|e| e.unwrap().path()),
            ) {
                let v = s.bag_verify(&p);
                assert_ne!(v.code, 0, "{what}: bag verify accepts {}", p.display());
                assert!(!v.stderr.contains("panicked"), "{what}: {}", v.stderr);
            }
            let b = Command::new(bagit())
                .arg("--validate")
                .arg(&partial)
                .output()
                .unwrap();
            assert!(
                !b.status.success(),
                "{what}: bagit.py accepts {}",
                partial.display()
            );
            let mut journal = out.as_os_str().to_owned();
            journal.push(".journal");
            let j: serde_json::Value =
                serde_json::from_slice(&std::fs::read(PathBuf::from(journal)).unwrap()).unwrap();
            assert_eq!(j["records"], RECORDS, "{what}");
            assert!(j["done"].as_u64().unwrap() <= DAMAGED, "{what}: {j}");
        }
        // Repaired (the insider's change undone): the next case starts from a whole archive.
        s.tamper(|d| {
            d.put_cf(cf(d, content), &s.sha256, &original).unwrap();
            d.put_cf(
                cf(d, kyso_archive::schema::CF_RECORDS),
                kyso_archive::schema::u64_key(DAMAGED),
                &record_json,
            )
            .unwrap();
        });
    }
    // Once repaired, the same command finishes the stopped package (a rerun resumes from its
    // journal), and the package verifies.
    let again = s.demo.path().join("sha256-not-hex-eark.zip");
    let r = s.export(&again, &["--format", "eark"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["records"], RECORDS);
    assert_eq!(r.json()["resumed"], true);
    let v = s.bag_verify(&again);
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert_eq!(v.json()["records_ok"], RECORDS);
}
