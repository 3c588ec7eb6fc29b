//! The archive end to end: a real RocksDB directory, real SoftHSM2 keys, and checks made by
//! code that is not kyso's (RFC 9162 verification and C2SP note verification written here).

mod common;
use common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const LOG_KEY: &str = "pkcs11:token=kyso-dev;object=log";

/// A demo token and a directory of signed PDFs to archive.
struct Setup {
    demo: Demo,
    db: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let demo = Demo::new();
        let db = demo.path().join("archive");
        Setup { demo, db }
    }

    fn signed(&self, name: &str, fixture_name: &str) -> PathBuf {
        let f = self.demo.path().join(name);
        std::fs::copy(fixture(fixture_name), &f).unwrap();
        let r = self
            .demo
            .run_pin(&["sign", "--key", RSA_KEY, "--overwrite", f.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        self.demo.path().join(name.replace(".pdf", ".signed.pdf"))
    }

    fn kyso(&self, args: &[&str]) -> Run {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        // --db after the subcommand words
        let pos = v.iter().position(|a| a.starts_with('-')).unwrap_or(v.len());
        v.insert(pos, self.db.display().to_string());
        v.insert(pos, "--db".into());
        self.demo.cmd().args(&v).output().unwrap().into()
    }

    fn put(&self, code: &str, file: &Path, extra: &[&str]) -> Run {
        let ca = self.demo.ca_pem();
        let mut a = vec![
            "archive",
            "put",
            "--code",
            code,
            "--trust",
            ca.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        a.push(file.to_str().unwrap());
        self.kyso(&a)
    }
}

// ---- RFC 9162 §2.1.3.2 / §2.1.4.2 verification, written independently of kyso-archive ----

fn h(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

fn rfc9162_verify_inclusion(
    leaf: [u8; 32],
    index: u64,
    size: u64,
    proof: &[[u8; 32]],
    root: [u8; 32],
) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in proof {
        if s == 0 {
            return false;
        }
        if f % 2 == 1 || f == s {
            r = h(&[&[1], p, &r]);
            while f % 2 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = h(&[&[1], &r, p]);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == root
}

fn unhex32(s: &str) -> [u8; 32] {
    let v = hex_bytes(s);
    v.try_into().unwrap()
}

#[test]
fn clerk_archives_finds_reads_and_changes_status_and_every_event_is_logged() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let b = s.signed("b.pdf", "three-pages.pdf");
    let r = s.put(
        "001099012345.KS_KETHON",
        &a,
        &[
            "--agency",
            "UBND-HK",
            "--issue-date",
            "2026-11-20",
            "--title",
            "Giấy chứng nhận kết hôn",
            "--meta",
            "so=12/2026",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["record"], 0);
    let r = s.put(
        "001099012345.KS_KETHON",
        &b,
        &["--agency", "UBND-HK", "--issue-date", "2026-11-21"],
    );
    assert_eq!(r.json()["record"], 1);
    let r = s.put(
        "0100109106.DKKD",
        &b,
        &["--agency", "SKHDT", "--issue-date", "2026-10-01"],
    );
    assert_eq!(r.json()["record"], 2);

    // Lookups by code (current valid first), subject, agency and dates.
    let f = s
        .kyso(&["archive", "find", "--code", "001099012345.KS_KETHON"])
        .json();
    assert_eq!(
        f.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 0]
    );
    assert_eq!(
        s.kyso(&["archive", "status", "1", "--revoke", "cấp nhầm"])
            .code,
        0
    );
    let f = s
        .kyso(&["archive", "find", "--code", "001099012345.KS_KETHON"])
        .json();
    assert_eq!(f[0]["id"], 0, "the valid one first once 1 is revoked");
    assert_eq!(f[1]["status"]["state"], "revoked");
    let f = s
        .kyso(&["archive", "find", "--subject", "0100109106"])
        .json();
    assert_eq!(f.as_array().unwrap().len(), 1);
    let f = s
        .kyso(&[
            "archive",
            "find",
            "--agency",
            "UBND-HK",
            "--from",
            "2026-11-21",
            "--to",
            "2026-12-31",
        ])
        .json();
    assert_eq!(
        f.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1]
    );

    // The record keeps its validation report and metadata.
    let g = s.kyso(&["archive", "get", "0"]).json();
    assert_eq!(g["record"]["report"]["indication"], "TOTAL-PASSED");
    assert_eq!(g["record"]["meta"]["so"], "12/2026");
    assert_eq!(
        g["record"]["content_sha256"].as_str().unwrap(),
        hex::encode(Sha256::digest(std::fs::read(&a).unwrap()))
    );

    // Reading the content needs a reason and is a logged event.
    let out = s.demo.path().join("got.pdf");
    let r = s.kyso(&["archive", "get", "0", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 5, "no reason: {}", r.stderr);
    let r = s.kyso(&[
        "archive",
        "get",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--user",
        "canbo.hk",
        "--reason",
        "công dân xin bản sao",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&a).unwrap());
    let p = s.kyso(&["log", "prove", "--leaf", "4"]).json();
    let ev: serde_json::Value = serde_json::from_str(p["event"].as_str().unwrap()).unwrap();
    assert_eq!(ev["event"], "read");
    assert_eq!(ev["user"], "canbo.hk");
    assert_eq!(ev["reason"], "công dân xin bản sao");

    // Status rules: superseding, revoked is final, unknown ids.
    assert_eq!(
        s.kyso(&["archive", "status", "0", "--superseded-by", "2"])
            .code,
        0
    );
    let r = s.kyso(&["archive", "status", "1", "--superseded-by", "0"]);
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("revoked"), "{}", r.stderr);
    assert_eq!(s.kyso(&["archive", "get", "99"]).code, 7);
    assert_eq!(
        s.kyso(&["archive", "status", "0", "--superseded-by", "99"])
            .code,
        7
    );

    // Bad codes and documents are refused, nothing is stored.
    for (code, why) in [
        ("12345.X", "neither a 12-digit"),
        ("0100109107.DKKD", "check digit"),
        ("001099012345", "<subject id>.<document type code>"),
    ] {
        let r = s.put(code, &a, &[]);
        assert_eq!(r.code, 5, "{code}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{code}: {}", r.stderr);
    }
    let r = s.put("001099012345.GP", &fixture("giay-phep.pdf"), &[]);
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("NO_SIGNATURE"), "{}", r.stderr);
    let r = s.put(
        "001099012345.GP",
        &fixture("giay-phep.pdf"),
        &["--allow-unsigned", "bản giấy chưa số hóa ký"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let audit = s.kyso(&["audit", "verify"]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert_eq!(audit.json()["records"], 4);
}

#[test]
fn proofs_verify_with_an_independent_rfc9162_implementation_and_checkpoints_with_the_key_alone() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    for i in 0..9 {
        let r = s.put(&format!("001099012345.T{i}"), &a, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let pin = s.demo.pin_file();
    let cp = s.kyso(&[
        "log",
        "checkpoint",
        "--checkpoint-key",
        LOG_KEY,
        "--pin-file",
        pin.to_str().unwrap(),
    ]);
    assert_eq!(cp.code, 0, "{}", cp.stderr);
    let note = cp.stdout.clone();
    // Verify the note from its text and the public key alone (C2SP signed note, type 0x02).
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let (text, sigline) = note.split_once("\n\n").unwrap();
    let text = format!("{text}\n");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "kyso.demo/archive");
    let size: u64 = lines[1].parse().unwrap();
    assert_eq!(size, 9);
    let root: [u8; 32] = b64.decode(lines[2]).unwrap().try_into().unwrap();
    let sig = b64
        .decode(sigline.trim().rsplit(' ').next().unwrap())
        .unwrap();
    let cert_pem = std::fs::read_to_string(s.demo.path().join("log.pem")).unwrap();
    let cert_der = {
        let body: String = cert_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        b64.decode(body).unwrap()
    };
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(&cert_der).unwrap();
    let spki = der::Encode::to_der(&cert.tbs_certificate.subject_public_key_info).unwrap();
    assert_eq!(
        &sig[..4],
        &Sha256::digest(&spki)[..4],
        "key ID = SHA-256(SPKI)[:4]"
    );
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();
    vk.verify(
        text.as_bytes(),
        &p256::ecdsa::DerSignature::try_from(&sig[4..]).unwrap(),
    )
    .expect("checkpoint signature");
    let mut forged = text.replace("\n9\n", "\n10\n");
    forged.push(' ');
    assert!(vk
        .verify(
            forged.as_bytes(),
            &p256::ecdsa::DerSignature::try_from(&sig[4..]).unwrap()
        )
        .is_err());

    // Every leaf's inclusion proof, checked by the code above, against the signed root.
    for leaf in 0..size {
        let p = s
            .kyso(&["log", "prove", "--leaf", &leaf.to_string(), "--size", "9"])
            .json();
        let event = p["event"].as_str().unwrap();
        let leaf_hash = h(&[&[0], event.as_bytes()]);
        assert_eq!(hex::encode(leaf_hash), p["leaf_hash"].as_str().unwrap());
        let proof: Vec<[u8; 32]> = p["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| unhex32(x.as_str().unwrap()))
            .collect();
        assert!(
            rfc9162_verify_inclusion(leaf_hash, leaf, size, &proof, root),
            "leaf {leaf}"
        );
        let mut bad = leaf_hash;
        bad[0] ^= 1;
        assert!(!rfc9162_verify_inclusion(bad, leaf, size, &proof, root));
    }

    // A later checkpoint is consistent with the earlier one; the relying agency checks it.
    let old = s.demo.path().join("old.note");
    std::fs::write(&old, &note).unwrap();
    for i in 0..5 {
        assert_eq!(s.put(&format!("0100109106.X{i}"), &a, &[]).code, 0);
    }
    let cp2 = s.kyso(&[
        "log",
        "checkpoint",
        "--checkpoint-key",
        LOG_KEY,
        "--pin-file",
        pin.to_str().unwrap(),
    ]);
    let new = s.demo.path().join("new.note");
    std::fs::write(&new, &cp2.stdout).unwrap();
    let c = s.kyso(&[
        "log",
        "consistency",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
    ]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.json()["consistent"], true);
    // A forged "new" checkpoint fails its signature.
    std::fs::write(&new, cp2.stdout.replace("\n14\n", "\n15\n")).unwrap();
    assert_eq!(
        s.kyso(&[
            "log",
            "consistency",
            old.to_str().unwrap(),
            new.to_str().unwrap()
        ])
        .code,
        1
    );
}

/// Open the archive's RocksDB directly (as an attacker with disk access would) and change it.
fn tamper(db: &Path, f: impl FnOnce(&rocksdb::DB)) {
    let names = kyso_archive::store::CFS;
    let mut o = rocksdb::Options::default();
    o.create_if_missing(false);
    let d = rocksdb::DB::open_cf(&o, db, names).unwrap();
    f(&d);
}

fn cf<'a>(d: &'a rocksdb::DB, n: &str) -> &'a rocksdb::ColumnFamily {
    d.cf_handle(n).unwrap()
}

#[test]
fn audit_catches_every_kind_of_tampering_and_names_it() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let b = s.signed("b.pdf", "three-pages.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    assert_eq!(s.put("001099012345.B", &b, &[]).code, 0);
    let pin = s.demo.pin_file();
    assert_eq!(
        s.kyso(&[
            "log",
            "checkpoint",
            "--checkpoint-key",
            LOG_KEY,
            "--pin-file",
            pin.to_str().unwrap()
        ])
        .code,
        0
    );
    assert_eq!(
        s.kyso(&["archive", "status", "0", "--revoke", "sai"]).code,
        0
    );
    assert_eq!(s.kyso(&["audit", "verify"]).code, 0);
    let backup = s.demo.path().join("backup");
    assert_eq!(
        s.kyso(&["backup", "--to", backup.to_str().unwrap()]).code,
        0
    );
    let restore = |s: &Setup| {
        std::fs::remove_dir_all(&s.db).unwrap();
        let r: Run = s
            .demo
            .cmd()
            .args([
                "backup",
                "--db",
                backup.to_str().unwrap(),
                "--to",
                s.db.to_str().unwrap(),
            ])
            .output()
            .unwrap()
            .into();
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    let sha_a = Sha256::digest(std::fs::read(&a).unwrap()).to_vec();
    type Tamper = Box<dyn Fn(&rocksdb::DB)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "content byte",
            Box::new(move |d| {
                let mut v = d.get_cf(cf(d, "content"), &sha_a).unwrap().unwrap();
                v[100] ^= 1;
                d.put_cf(cf(d, "content"), &sha_a, v).unwrap();
            }),
            "content of record 0 was changed",
        ),
        (
            "record",
            Box::new(|d| {
                let v = d
                    .get_cf(cf(d, "records"), 1u64.to_be_bytes())
                    .unwrap()
                    .unwrap();
                let t = String::from_utf8(v)
                    .unwrap()
                    .replace("001099012345.B", "001099012345.C");
                d.put_cf(cf(d, "records"), 1u64.to_be_bytes(), t).unwrap();
            }),
            "record 1 was changed",
        ),
        (
            "event",
            Box::new(|d| {
                let v = d
                    .get_cf(cf(d, "events"), 2u64.to_be_bytes())
                    .unwrap()
                    .unwrap();
                let t = String::from_utf8(v).unwrap().replace("sai", "sửa");
                d.put_cf(cf(d, "events"), 2u64.to_be_bytes(), t).unwrap();
            }),
            "event 2 or its leaf was changed",
        ),
        (
            "leaf",
            Box::new(|d| {
                let mut k = vec![0u8];
                k.extend_from_slice(&1u64.to_be_bytes());
                d.put_cf(cf(d, "nodes"), k, [7u8; 32]).unwrap();
            }),
            "event 1 or its leaf was changed",
        ),
        (
            "deleted record",
            Box::new(|d| d.delete_cf(cf(d, "records"), 0u64.to_be_bytes()).unwrap()),
            "record 0 (ingested at event 0) was deleted",
        ),
        (
            "rolled back",
            Box::new(|d| {
                d.put_cf(cf(d, "meta"), b"tree_size", 2u64.to_be_bytes())
                    .unwrap();
                d.delete_cf(cf(d, "events"), 2u64.to_be_bytes()).unwrap();
            }),
            "no event in the log set: the log was rolled back",
        ),
    ];
    for (what, f, msg) in cases {
        restore(&s);
        assert_eq!(s.kyso(&["audit", "verify"]).code, 0, "{what}: clean before");
        tamper(&s.db, f);
        let r = s.kyso(&["audit", "verify"]);
        assert_eq!(r.code, 20, "{what}: audit passed: {}", r.stdout);
        assert!(r.stderr.contains(msg), "{what}: {}", r.stderr);
    }
}

#[test]
fn a_database_held_by_another_process_is_a_clear_error() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    let names = kyso_archive::store::CFS;
    let held = rocksdb::DB::open_cf(&rocksdb::Options::default(), &s.db, names).unwrap();
    let r = s.put("001099012345.B", &a, &[]);
    assert_eq!(r.code, 9, "{}", r.stderr);
    assert!(
        r.stderr.contains("in use by another process"),
        "{}",
        r.stderr
    );
    // Auditing read-only works alongside.
    assert_eq!(s.kyso(&["audit", "verify"]).code, 0);
    drop(held);
    assert_eq!(s.put("001099012345.B", &a, &[]).code, 0);
}

#[test]
fn crash_at_random_moments_loses_no_acknowledged_record() {
    use std::io::{BufRead, BufReader};
    let s = Setup::new();
    let pin = s.demo.pin_file();
    let mut acked: Vec<(u64, String)> = Vec::new();
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for round in 0..50 {
        let mut child = s
            .demo
            .cmd()
            .args([
                "archive",
                "stress",
                "--db",
                s.db.to_str().unwrap(),
                "--count",
                "100000",
                "--checkpoint-every",
                "7",
                "--checkpoint-key",
                LOG_KEY,
                "--pin-file",
                pin.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let want = 1 + (seed % 40) as usize; // kill after a random number of acknowledgements
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let mut n = 0;
        while n < want {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let mut it = line.split_whitespace();
            if it.next() == Some("ack") {
                let id: u64 = it.next().unwrap().parse().unwrap();
                acked.push((id, it.next().unwrap().to_string()));
                n += 1;
            }
        }
        // SIGKILL mid-flight: no chance to flush or close anything.
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(n > 0, "round {round}: no acknowledgement before the kill");
    }
    // Everything acknowledged is there, byte for byte, and the log and checkpoints verify.
    let audit = s.kyso(&["audit", "verify"]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let j = audit.json();
    assert!(j["records"].as_u64().unwrap() >= acked.len() as u64);
    assert!(j["checkpoints"].as_u64().unwrap() > 0);
    for (id, sha) in acked.iter().step_by(17) {
        let g = s.kyso(&["archive", "get", &id.to_string()]);
        assert_eq!(
            g.code, 0,
            "acknowledged record {id} is missing: {}",
            g.stderr
        );
        assert_eq!(g.json()["record"]["content_sha256"].as_str().unwrap(), sha);
    }
    assert_eq!(
        acked.len(),
        acked
            .iter()
            .map(|a| a.0)
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
}

#[test]
fn checkpoints_are_published_in_the_background_while_entries_arrive() {
    let s = Setup::new();
    let pin = s.demo.pin_file();
    let r: Run = s
        .demo
        .cmd()
        .args([
            "archive",
            "stress",
            "--db",
            s.db.to_str().unwrap(),
            "--count",
            "40",
            "--checkpoint-interval-ms",
            "150",
            "--checkpoint-key",
            LOG_KEY,
            "--pin-file",
            pin.to_str().unwrap(),
        ])
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = s.kyso(&["audit", "verify"]).json();
    assert_eq!(a["tree_size"], 40);
    assert!(a["checkpoints"].as_u64().unwrap() >= 1);
    assert_eq!(
        a["last_checkpoint"], 40,
        "the publisher covered every acknowledged entry"
    );
}

/// `kyso audit verify` on `db`, which must pass.
fn audit_clean(demo: &Demo, db: &Path) -> Run {
    let a: Run = demo
        .cmd()
        .args(["audit", "verify", "--db", db.to_str().unwrap()])
        .output()
        .unwrap()
        .into();
    assert_eq!(a.code, 0, "{}", a.stderr);
    a
}

/// A small tmpfs, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn new(dir: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl SmallDisk {
    /// A tmpfs of `size` in the demo's directory, and where it is mounted.
    fn under(demo: &Demo, size: &str) -> (SmallDisk, PathBuf) {
        let mnt = demo.path().join("small");
        let Some(disk) = SmallDisk::new(&mnt, size) else {
            panic!("mounting a tmpfs needs root (CI runs as root); cannot stage a full disk here");
        };
        (disk, mnt)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn after_a_failed_write_the_archive_refuses_writes_until_reopened() {
    let demo = Demo::new();
    let (_disk, mnt) = SmallDisk::under(&demo, "4m");
    let db = mnt.join("archive");
    let rec = || kyso_archive::NewRecord {
        code: "001099012345.STRESS".into(),
        media_type: "application/octet-stream".into(),
        user: "test".into(),
        ..Default::default()
    };
    let ar = kyso_archive::Archive::open(&db).unwrap();
    let mut acked = 0u64;
    let err = loop {
        let mut doc = format!("document {acked}\n").into_bytes();
        doc.resize(64 * 1024, b'.');
        match ar.put(rec(), doc) {
            Ok(_) => acked += 1,
            Err(e) => break e,
        }
        assert!(acked < 1000, "the 4 MiB disk never filled");
    };
    assert_eq!(err.exit_code(), 21, "{err}");
    // Even a write that would fit is refused now: what reached the disk is only known after a
    // reopen recovers it.
    let again = ar.put(rec(), b"tiny".to_vec()).unwrap_err();
    assert!(
        again.to_string().contains("until it is reopened"),
        "{again}"
    );
    assert!(ar.size().unwrap() >= acked);
    drop(ar);
    // Give the disk room, reopen: every acknowledged entry is there and the log verifies.
    let grown = std::process::Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(grown.success());
    let ar = kyso_archive::Archive::open(&db).unwrap();
    let size = ar.size().unwrap();
    assert!(
        size >= acked,
        "{size} entries on disk, {acked} acknowledged"
    );
    ar.put(rec(), b"after the reopen".to_vec()).unwrap();
    drop(ar);
    let a = audit_clean(&demo, &db);
    assert!(a.json()["records"].as_u64().unwrap() > acked);
}

#[test]
fn a_full_disk_is_a_clear_error_and_leaves_no_partial_record() {
    let demo = Demo::new();
    let (_disk, mnt) = SmallDisk::under(&demo, "6m");
    let db = mnt.join("archive");
    let mut acked = 0u64;
    let mut failure = None;
    for _ in 0..40 {
        let r: Run = demo
            .cmd()
            .args([
                "archive",
                "stress",
                "--db",
                db.to_str().unwrap(),
                "--count",
                "20",
                "--size",
                "65536",
            ])
            .output()
            .unwrap()
            .into();
        acked += r.stdout.lines().filter(|l| l.starts_with("ack ")).count() as u64;
        if r.code != 0 {
            failure = Some(r);
            break;
        }
    }
    let r = failure.expect("the 6 MiB disk never filled");
    assert_eq!(r.code, 21, "{}", r.stderr);
    assert!(
        r.stderr.contains("No space left on device") || r.stderr.contains("space"),
        "{}",
        r.stderr
    );
    // Everything acknowledged is intact; nothing partial was left behind.
    let a = audit_clean(&demo, &db);
    assert_eq!(a.json()["records"], acked);
}

#[test]
fn the_same_document_archived_twice_is_stored_once() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    assert_eq!(s.put("0100109106.A", &a, &[]).code, 0);
    let names = kyso_archive::store::CFS;
    let db = rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), &s.db, names, false)
        .unwrap();
    let contents = db
        .iterator_cf(
            db.cf_handle("content").unwrap(),
            rocksdb::IteratorMode::Start,
        )
        .count();
    let records = db
        .iterator_cf(
            db.cf_handle("records").unwrap(),
            rocksdb::IteratorMode::Start,
        )
        .count();
    assert_eq!((contents, records), (1, 2));
}

#[test]
fn no_checkpoint_is_signed_for_a_log_that_went_backwards() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    for i in 0..3 {
        assert_eq!(s.put(&format!("001099012345.R{i}"), &a, &[]).code, 0);
    }
    let pin = s.demo.pin_file();
    let cp = |s: &Setup| {
        s.kyso(&[
            "log",
            "checkpoint",
            "--checkpoint-key",
            LOG_KEY,
            "--pin-file",
            pin.to_str().unwrap(),
        ])
    };
    assert_eq!(cp(&s).code, 0);
    // Someone rolls the log back on disk; the appliance restarts and is asked to sign again.
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "meta"), b"tree_size", 2u64.to_be_bytes())
            .unwrap();
        d.delete_cf(cf(d, "events"), 2u64.to_be_bytes()).unwrap();
    });
    let r = cp(&s);
    assert_eq!(r.code, 21, "{}", r.stderr);
    assert!(r.stderr.contains("the log went backwards"), "{}", r.stderr);
    // It grows back to the signed size with other entries: still no checkpoint, since it would
    // contradict the one already signed.
    assert_eq!(s.put("0100109106.OTHER", &a, &[]).code, 0);
    assert_eq!(s.put("0100109106.MORE", &a, &[]).code, 0);
    let r = cp(&s);
    assert_eq!(r.code, 21, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no longer match the last signed checkpoint"),
        "{}",
        r.stderr
    );
}
