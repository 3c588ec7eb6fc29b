//! Export meets a damaged record (issue 12): an insider with write access to the RocksDB files
//! damages one record in the middle of a real archive (SoftHSM2 keys, RocksDB) while it is
//! closed — its document overwritten or deleted, a stored digest that is not hex, its detached
//! signature overwritten or deleted, an item of its validation data overwritten or deleted.
//! `kyso export` (a BagIt tar, a BagIt folder, an E-ARK zip) must stop with a message naming
//! the record and what broke, never panic, and leave nothing that `bagit.py --validate` or
//! `kyso bag verify` accepts as a complete package; once the damage is repaired, the same
//! command resumes and finishes a package that verifies.

mod common;
use common::*;
use kyso_archive::schema::{u64_key, CF_CONTENT, CF_EVENTS, CF_RECORDS};
use kyso_archive::Archive;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const LOG_KEY: &str = "pkcs11:token=kyso-dev;object=log";
/// Records in the archive; the damaged one is in the middle.
const RECORDS: u64 = 300;
const DAMAGED: u64 = 150;
/// The three packages an export writes: (name, extension of PATH, arguments).
const FORMATS: [(&str, &str, &[&str]); 3] = [
    ("tar", ".tar", &["--format", "bagit"]),
    ("eark", ".zip", &["--format", "eark"]),
    ("dir", "", &["--format", "bagit"]),
];

/// The Library of Congress's bagit.py: $KYSO_BAGIT, else kyso's venv.
fn bagit() -> PathBuf {
    std::env::var_os("KYSO_BAGIT")
        .map(PathBuf::from)
        .unwrap_or_else(|| pyhanko().with_file_name("bagit.py"))
}

struct Setup {
    demo: Demo,
    db: PathBuf,
    /// The damaged record's code.
    code: String,
    /// Keys in the `content` column family (SHA-256) of what the damaged record alone names:
    /// its document, its detached signature, and its signer's certificate (validation data).
    document: Vec<u8>,
    signature: Vec<u8>,
    certificate: Vec<u8>,
}

impl Setup {
    /// 300 records signed on the token and validated at ingest: two PDFs signed on the RSA key
    /// (PAdES) shared by all records but one, and the one in the middle a document of its own
    /// with a detached CAdES signature on the EC key — so that damaging its document, its
    /// signature or its signer's certificate (kept in its validation data) damages no other
    /// record.
    fn new() -> Setup {
        let demo = Demo::new();
        let signed = demo.sign_fixtures(&["giay-phep.pdf", "three-pages.pdf"]);
        let (document, signature) = demo.sign_detached("giay-phep-objstm.pdf", EC_KEY);
        let db = demo.path().join("archive");
        let ar = Archive::open(&db).unwrap();
        let v = demo.validator();
        for i in 0..RECORDS {
            let req = if i == DAMAGED {
                kyso_archive::Ingest {
                    detached_signature: Some(signature.clone()),
                    ..permit(i, document.clone())
                }
            } else {
                permit(i, signed[(i % 2) as usize].clone())
            };
            let got = kyso_archive::ingest(&ar, &v, req).unwrap();
            assert_eq!(got.indication, "TOTAL-PASSED");
            assert_eq!(got.record, i, "records are numbered in ingest order");
        }
        drop(ar);
        let mut s = Setup {
            demo,
            db,
            code: permit_code(DAMAGED),
            document: Sha256::digest(&document).to_vec(),
            signature: Sha256::digest(&signature).to_vec(),
            certificate: Vec::new(),
        };
        s.certificate = s.own_certificate();
        s
    }

    /// The certificate among the damaged record's validation data that no other record names
    /// (the EC signer's; the demo CA's is shared by all).
    fn own_certificate(&self) -> Vec<u8> {
        let mut own = Vec::new();
        let mut others = std::collections::HashSet::new();
        self.tamper(|d| {
            for kv in d.iterator_cf(cf(d, CF_RECORDS), rocksdb::IteratorMode::Start) {
                let (k, v) = kv.unwrap();
                let r: serde_json::Value = serde_json::from_slice(&v).unwrap();
                let certs = r["validation_data"]["certificates"].as_array().unwrap();
                let shas = certs
                    .iter()
                    .map(|c| c["sha256"].as_str().unwrap().to_string());
                if *k == u64_key(DAMAGED) {
                    assert_eq!(
                        r["detached_signature"]["sha256"],
                        hex::encode(&self.signature)
                    );
                    own.extend(shas);
                } else {
                    others.extend(shas);
                }
            }
        });
        own.retain(|c| !others.contains(c));
        assert_eq!(own.len(), 1, "the EC signer's certificate: {own:?}");
        hex::decode(&own[0]).unwrap()
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
            .args(["--origin", "kyso.demo/archive"])
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

    /// What is stored under `key` of column family `name` (the archive closed).
    fn stored(&self, name: &str, key: &[u8]) -> Vec<u8> {
        let mut v = None;
        self.tamper(|d| v = d.get_cf(cf(d, name), key).unwrap());
        v.unwrap_or_else(|| panic!("nothing under {} in {name}", hex::encode(key)))
    }

    /// `kyso export` of the damaged archive to `out` stopped at the damaged record: exit 20,
    /// a message naming the record, its code and each of `broke`, no panic, nothing at `out`,
    /// nothing under `out.partial` that `bag verify` or bagit.py accept, and a journal short
    /// of the record.
    fn stops_at_damaged_record(&self, out: &Path, extra: &[&str], what: &str, broke: &[String]) {
        let r = self.export(out, extra);
        // Exit 20: the archive's stored data is inconsistent (docs/cli.md).
        assert_eq!(r.code, 20, "{what}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("record {DAMAGED}"))
                && broke.iter().all(|b| r.stderr.contains(b.as_str())),
            "{what}: the message must name record {DAMAGED} and say {broke:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(&self.code), "{what}: {}", r.stderr);
        // Nothing at PATH: the package is renamed into place only when complete.
        assert!(!out.exists(), "{what}: {} exists", out.display());
        let v = self.bag_verify(out);
        assert_ne!(v.code, 0, "{what}: {}", v.stdout);
        // What is under PATH.partial is no package either: not to bag verify, not to
        // bagit.py, and its journal says it stopped short of the damaged record.
        let partial = with_suffix(out, ".partial");
        assert!(partial.is_dir(), "{what}");
        for p in std::iter::once(partial.clone()).chain(
            std::fs::read_dir(&partial)
                .unwrap()
                .map(|e| e.unwrap().path()),
        ) {
            let v = self.bag_verify(&p);
            assert_ne!(v.code, 0, "{what}: bag verify accepts {}", p.display());
            assert!(!v.stderr.contains("panicked"), "{what}: {}", v.stderr);
        }
        assert!(
            !bagit_validates(&partial),
            "{what}: bagit.py accepts {}",
            partial.display()
        );
        let j: serde_json::Value =
            serde_json::from_slice(&std::fs::read(with_suffix(out, ".journal")).unwrap()).unwrap();
        assert_eq!(j["records"], RECORDS, "{what}");
        assert!(j["done"].as_u64().unwrap() <= DAMAGED, "{what}: {j}");
    }

    /// The same command as the stopped export, the archive repaired: it resumes from its
    /// journal and finishes a package that `bag verify` accepts, and bagit.py too for a bag
    /// (a tar extracted by GNU tar first).
    fn resumes(&self, out: &Path, extra: &[&str], what: &str) {
        let r = self.export(out, extra);
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        assert_eq!(r.json()["records"], RECORDS, "{what}");
        assert_eq!(r.json()["resumed"], true, "{what}");
        let v = self.bag_verify(out);
        assert_eq!(v.code, 0, "{what}: {}", v.stdout);
        assert_eq!(v.json()["records_ok"], RECORDS, "{what}");
        let bag = match out.extension().and_then(|e| e.to_str()) {
            Some("zip") => return,
            Some("tar") => {
                let x = with_suffix(out, ".x");
                std::fs::create_dir(&x).unwrap();
                let t = Command::new("tar")
                    .arg("-xf")
                    .arg(out)
                    .arg("-C")
                    .arg(&x)
                    .output()
                    .unwrap();
                assert!(t.status.success(), "{what}: {t:?}");
                x.join(out.file_stem().unwrap())
            }
            _ => out.to_path_buf(),
        };
        assert!(bagit_validates(&bag), "{what}: bagit.py refuses it");
    }
}

fn cf<'a>(d: &'a rocksdb::DB, n: &str) -> &'a rocksdb::ColumnFamily {
    d.cf_handle(n).unwrap()
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn bagit_validates(bag: &Path) -> bool {
    Command::new(bagit())
        .arg("--validate")
        .arg(bag)
        .output()
        .unwrap()
        .status
        .success()
}

/// The damaged record's stored JSON with one field replaced.
fn with_field(d: &rocksdb::DB, field: &str, value: &str) {
    let key = u64_key(DAMAGED);
    let stored = d.get_cf(cf(d, CF_RECORDS), key).unwrap().unwrap();
    let mut r: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert!(r[field].is_string(), "{field}: {r}");
    r[field] = value.into();
    d.put_cf(cf(d, CF_RECORDS), key, serde_json::to_vec(&r).unwrap())
        .unwrap();
}

/// The blob under `key` of the content column family with one bit flipped in its middle.
fn overwrite(d: &rocksdb::DB, key: &[u8]) {
    let mut v = d.get_cf(cf(d, CF_CONTENT), key).unwrap().unwrap();
    let n = v.len();
    v[n / 2] ^= 0x20;
    d.put_cf(cf(d, CF_CONTENT), key, v).unwrap();
}

type Damage = Box<dyn Fn(&Setup, &rocksdb::DB)>;

/// A damage done to the archive, what the message must say broke, and which of the stopped
/// packages are resumed once it is repaired (an overwritten and a deleted blob stop the export
/// at the same place: one of the two is resumed, to keep the test short).
struct Case {
    name: &'static str,
    damage: Damage,
    broke: Vec<String>,
    resume: &'static [&'static str],
}

#[test]
fn an_export_that_meets_a_damaged_record_stops_naming_it_and_leaves_no_package_that_validates() {
    let s = Setup::new();
    // A clean export first: the archive and the damage below are all that differ.
    let clean = s.demo.path().join("clean.tar");
    let r = s.export(&clean, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["records"], RECORDS);
    assert_eq!(s.bag_verify(&clean).code, 0);
    // What the insider changes, kept to repair it.
    let kept: Vec<(&str, Vec<u8>, Vec<u8>)> = [
        (CF_CONTENT, s.document.clone()),
        (CF_CONTENT, s.signature.clone()),
        (CF_CONTENT, s.certificate.clone()),
        (CF_RECORDS, u64_key(DAMAGED).to_vec()),
    ]
    .into_iter()
    .map(|(name, key)| (name, key.clone(), s.stored(name, &key)))
    .collect();

    let (document, signature, certificate) = (
        hex::encode(&s.document),
        hex::encode(&s.signature),
        hex::encode(&s.certificate),
    );
    let says = |what: &[&str]| what.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let cases = vec![
        Case {
            name: "overwritten",
            damage: Box::new(|s: &Setup, d: &rocksdb::DB| overwrite(d, &s.document)),
            broke: says(&[&format!("content {document}"), "does not match its SHA-256"]),
            resume: &[],
        },
        Case {
            name: "deleted",
            damage: Box::new(|s: &Setup, d: &rocksdb::DB| {
                d.delete_cf(cf(d, CF_CONTENT), &s.document).unwrap()
            }),
            broke: says(&[&format!("content {document}"), "is missing"]),
            resume: &[],
        },
        Case {
            name: "sha512-not-hex",
            damage: Box::new(|_: &Setup, d: &rocksdb::DB| {
                with_field(d, "content_sha512", &"zz".repeat(64));
            }),
            broke: says(&["malformed"]),
            resume: &[],
        },
        Case {
            name: "sha256-not-hex",
            damage: Box::new(|_: &Setup, d: &rocksdb::DB| {
                with_field(
                    d,
                    "content_sha256",
                    "not-a-digest-not-a-digest-not-a-digest-not-a-digest-not-a-diges",
                );
            }),
            broke: says(&["malformed SHA-256"]),
            resume: &["eark"],
        },
        Case {
            name: "signature-overwritten",
            damage: Box::new(|s: &Setup, d: &rocksdb::DB| overwrite(d, &s.signature)),
            broke: says(&[
                &format!("detached signature {signature}"),
                "does not match its SHA-256",
            ]),
            resume: &[],
        },
        Case {
            name: "signature-deleted",
            damage: Box::new(|s: &Setup, d: &rocksdb::DB| {
                d.delete_cf(cf(d, CF_CONTENT), &s.signature).unwrap()
            }),
            broke: says(&[&format!("detached signature {signature}"), "is missing"]),
            resume: &["tar", "eark", "dir"],
        },
        Case {
            name: "certificate-overwritten",
            damage: Box::new(|s: &Setup, d: &rocksdb::DB| overwrite(d, &s.certificate)),
            broke: says(&[
                &format!("validation data item (certificate) {certificate}"),
                "does not match its SHA-256",
            ]),
            resume: &["tar", "eark", "dir"],
        },
        Case {
            name: "certificate-deleted",
            damage: Box::new(|s: &Setup, d: &rocksdb::DB| {
                d.delete_cf(cf(d, CF_CONTENT), &s.certificate).unwrap()
            }),
            broke: says(&[
                &format!("validation data item (certificate) {certificate}"),
                "is missing",
            ]),
            resume: &[],
        },
    ];
    for c in &cases {
        s.tamper(|d| (c.damage)(&s, d));
        let out = |format: &str, ext: &str| s.demo.path().join(format!("{}-{format}{ext}", c.name));
        for (format, ext, extra) in FORMATS {
            let what = format!("{}, {format}", c.name);
            s.stops_at_damaged_record(&out(format, ext), extra, &what, &c.broke);
        }
        // Repaired (the insider's change undone, the original bytes put back).
        s.tamper(|d| {
            for (name, key, value) in &kept {
                d.put_cf(cf(d, name), key, value).unwrap();
            }
        });
        // Once repaired, the same command finishes the stopped package (a rerun resumes from
        // its journal), and the package verifies.
        for (format, ext, extra) in FORMATS {
            if c.resume.contains(&format) {
                let what = format!("{}, {format}, repaired", c.name);
                s.resumes(&out(format, ext), extra, &what);
            }
        }
    }

    // The log an export reads its status events from must be the one its checkpoint signs,
    // whole: a stray key among the events (7 bytes, before the last entry) had ended that
    // read early, and the export then vouched for every status event while leaving a
    // revocation out (found by an insider's reading, 2026-12-03); an event's bytes replaced
    // do not hash to the tree's root.
    let stray = u64_key(5)[..7].to_vec();
    let first = u64_key(0).to_vec();
    let event0 = s.stored(CF_EVENTS, &first);
    for (name, damage, says) in [
        (
            "stray-event-key",
            Box::new(|d: &rocksdb::DB| d.put_cf(cf(d, CF_EVENTS), &stray, b"{}").unwrap())
                as Box<dyn Fn(&rocksdb::DB)>,
            "not stored in order",
        ),
        (
            "event-replaced",
            Box::new(|d: &rocksdb::DB| {
                let mut v = event0.clone();
                v.push(b' ');
                d.put_cf(cf(d, CF_EVENTS), &first, v).unwrap()
            }),
            "do not hash to its tree's root",
        ),
    ] {
        s.tamper(|d| damage(d));
        let out = s.demo.path().join(format!("{name}.tar"));
        let r = s.export(&out, &[]);
        assert_eq!(r.code, 20, "{name}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(says), "{name}: {}", r.stderr);
        assert!(!out.exists(), "{name}");
        // The audit an operator runs then says so too (it had called the stray key clean).
        let mut c = s.demo.cmd();
        c.args(["audit", "verify", "--db"])
            .arg(&s.db)
            .args(["--log-key", LOG_KEY]);
        let a: Run = c.output().unwrap().into();
        assert_eq!(a.code, 20, "{name}: {}{}", a.stdout, a.stderr);
        s.tamper(|d| {
            d.delete_cf(cf(d, CF_EVENTS), &stray).unwrap();
            d.put_cf(cf(d, CF_EVENTS), &first, &event0).unwrap();
        });
    }
    // A record the selection is read without (its key deleted from the records, or its
    // lookup entries) was left out of the export, which the package could not show: the log
    // says which records were ingested, and every one the selection matches must be in it.
    let key = u64_key(7).to_vec();
    let record7 = s.stored(CF_RECORDS, &key);
    s.tamper(|d| d.delete_cf(cf(d, CF_RECORDS), &key).unwrap());
    let out = s.demo.path().join("unlisted.tar");
    let r = s.export(&out, &[]);
    assert_eq!(r.code, 20, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("the log holds 1 record(s) the selection matches")
            && r.stderr.contains("record 7"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    s.tamper(|d| d.put_cf(cf(d, CF_RECORDS), &key, &record7).unwrap());
    let r = s.export(&out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["records"], RECORDS);
}
