//! The archive end to end: a real RocksDB directory, real SoftHSM2 keys, and checks made by
//! code that is not kyso's (RFC 9162 verification and C2SP note verification written here).
//! An insider with write access to the database files is played by opening RocksDB directly.

mod common;
use common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const LOG_KEY: &str = "pkcs11:token=kyso-dev;object=log";
/// The log's origin the tests give for an archive's first checkpoint (and the key's name, by
/// default the same).
const ORIGIN: &str = "kyso.demo/archive";

/// A demo token, the archive's directory, and the checkpoint state file outside it.
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

    /// `kyso` with `--db` after the subcommand words.
    fn kyso(&self, args: &[&str]) -> Run {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let pos = v.iter().position(|a| a.starts_with('-')).unwrap_or(v.len());
        v.insert(pos, self.db.display().to_string());
        v.insert(pos, "--db".into());
        self.demo.cmd().args(&v).output().unwrap().into()
    }

    /// A clerk archives `file` under `code`.
    fn put(&self, code: &str, file: &Path, extra: &[&str]) -> Run {
        let ca = self.demo.ca_pem();
        let mut a = vec![
            "archive",
            "put",
            "--code",
            code,
            "--user",
            "canbo.motcua",
            "--trust",
            ca.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        a.push(file.to_str().unwrap());
        self.kyso(&a)
    }

    /// `kyso backup --to to`, which must succeed.
    fn backup_to(&self, to: &Path) -> Run {
        let r = self.kyso(&["backup", "--to", to.to_str().unwrap(), "--user", "quantri"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r
    }

    /// Three records, a backup (its path), two more records: a backup older than the log.
    fn backup_then_two_more(&self, a: &Path) -> PathBuf {
        for i in 0..3 {
            assert_eq!(self.put(&format!("001099012345.R{i}"), a, &[]).code, 0);
        }
        let backup = self.demo.path().join("backup");
        self.backup_to(&backup);
        for i in 3..5 {
            assert_eq!(self.put(&format!("001099012345.R{i}"), a, &[]).code, 0);
        }
        backup
    }

    /// `kyso restore` of `backup` into `to`.
    fn restore_run(&self, backup: &Path, to: &Path) -> Run {
        self.demo
            .cmd()
            .args([
                "restore",
                "--from",
                backup.to_str().unwrap(),
                "--user",
                "quantri",
                "--db",
            ])
            .arg(to)
            .output()
            .unwrap()
            .into()
    }

    /// [`Setup::restore_run`], which must succeed.
    fn restore(&self, backup: &Path, to: &Path) {
        let r = self.restore_run(backup, to);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }

    /// The last signed checkpoint, kept outside the database directory.
    fn state(&self) -> PathBuf {
        self.demo.path().join("checkpoint-state")
    }

    /// `kyso log checkpoint` with `key` (the log key by default).
    fn checkpoint_with(&self, key: &str) -> Run {
        let pin = self.demo.pin_file();
        let state = self.state();
        self.kyso(&[
            "log",
            "checkpoint",
            "--checkpoint-key",
            key,
            "--checkpoint-state",
            state.to_str().unwrap(),
            "--origin",
            ORIGIN,
            // Named, for a rotated key (one that signed none of the log's checkpoints).
            "--key-name",
            ORIGIN,
            "--pin-file",
            pin.to_str().unwrap(),
        ])
    }

    fn checkpoint(&self) -> Run {
        self.checkpoint_with(LOG_KEY)
    }

    /// The log key's certificate, as an auditor holds it (outside the archive).
    fn log_pem(&self) -> PathBuf {
        self.demo.path().join("log.pem")
    }

    /// `kyso audit verify` with the log key's certificate.
    fn audit(&self) -> Run {
        let pem = self.log_pem();
        self.kyso(&[
            "audit",
            "verify",
            "--log-key",
            pem.to_str().unwrap(),
            "--json",
        ])
    }

    /// A logged read or lookup by `user` for `purpose`.
    fn read(&self, args: &[&str]) -> Run {
        let mut v = args.to_vec();
        v.extend_from_slice(&["--user", "canbo.hk", "--purpose", "tra cứu hồ sơ"]);
        self.kyso(&v)
    }

    /// The event at a leaf, as JSON: a logged read of that log entry (it appends one).
    fn event(&self, leaf: u64) -> serde_json::Value {
        let p = self.read(&["log", "prove", "--leaf", &leaf.to_string()]);
        assert_eq!(p.code, 0, "{}", p.stderr);
        serde_json::from_str(p.json()["event"].as_str().unwrap()).unwrap()
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

// ---- the insider: RocksDB opened directly, the documented layout written by hand ----

/// Open the archive's RocksDB directly (as an insider with disk access would) and change it.
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

struct RawNodes<'a>(&'a rocksdb::DB);

impl kyso_archive::merkle::Nodes for RawNodes<'_> {
    fn node(&self, level: u8, index: u64) -> Result<[u8; 32], String> {
        let k = kyso_archive::schema::node_key(level, index);
        let v = self
            .0
            .get_cf(cf(self.0, "nodes"), k)
            .unwrap()
            .ok_or("missing")?;
        Ok(v.try_into().unwrap())
    }
}

/// Append an event to the log the way the writer would — leaf, tree nodes, size — so that the
/// tree stays well formed and only what the event says can give it away.
fn append_event(d: &rocksdb::DB, event: &str) {
    use kyso_archive::merkle::{leaf_hash, Frontier};
    let size = u64::from_be_bytes(
        d.get_cf(cf(d, "meta"), b"tree_size").unwrap().unwrap()[..]
            .try_into()
            .unwrap(),
    );
    let mut f = Frontier::load(&RawNodes(d), size).unwrap();
    d.put_cf(cf(d, "events"), size.to_be_bytes(), event)
        .unwrap();
    for (l, i, h) in f.push(leaf_hash(event.as_bytes())) {
        d.put_cf(cf(d, "nodes"), kyso_archive::schema::node_key(l, i), h)
            .unwrap();
    }
    d.put_cf(cf(d, "meta"), b"tree_size", f.size.to_be_bytes())
        .unwrap();
}

/// Recompute every tree node from the stored events, as an insider who rewrote an event
/// would to keep the tree well formed.
fn rebuild_tree(d: &rocksdb::DB) {
    use kyso_archive::merkle::{leaf_hash, Frontier};
    let size = u64::from_be_bytes(
        d.get_cf(cf(d, "meta"), b"tree_size").unwrap().unwrap()[..]
            .try_into()
            .unwrap(),
    );
    let mut f = Frontier::default();
    for i in 0..size {
        let e = d.get_cf(cf(d, "events"), i.to_be_bytes()).unwrap().unwrap();
        for (l, idx, h) in f.push(leaf_hash(&e)) {
            d.put_cf(cf(d, "nodes"), kyso_archive::schema::node_key(l, idx), h)
                .unwrap();
        }
    }
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
    assert_eq!(r.json()["indication"], "TOTAL-PASSED");
    // No checkpoint key: stored, and said that no checkpoint covers it yet.
    assert!(r.json()["checkpoint"].is_null());
    assert!(
        r.stderr
            .contains("no checkpoint was signed (no --checkpoint-key)"),
        "{}",
        r.stderr
    );
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
    // A proof alone does not show the entry (it names a citizen's code); showing it is a read
    // of the log, logged with who and why before it is shown.
    let p = s.kyso(&["log", "prove", "--leaf", "0"]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert!(p.json().get("event").is_none(), "{}", p.stdout);
    assert_eq!(p.json()["tree_size"], 3);
    let r = s.kyso(&["log", "prove", "--leaf", "0", "--user", "canbo.hk"]);
    assert_eq!(r.code, 3, "--purpose goes with --user: {}", r.stderr);
    let r = s.kyso(&[
        "log",
        "prove",
        "--leaf",
        "0",
        "--user",
        "x",
        "--purpose",
        " ",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("purpose"), "{}", r.stderr);
    let ingest = s.event(0);
    assert_eq!(ingest["event"], "ingest");
    assert_eq!(ingest["user"], "canbo.motcua");
    let read = s.event(3);
    assert_eq!(
        (&read["event"], &read["start"], &read["end"], &read["user"]),
        (
            &serde_json::json!("log_read"),
            &serde_json::json!(0),
            &serde_json::json!(1),
            &serde_json::json!("canbo.hk")
        ),
        "{read}"
    );

    // Lookups by code (current valid first), subject, agency and dates — each a logged read
    // naming who, why, and the records it returned.
    let f = s
        .read(&["archive", "find", "--code", "001099012345.KS_KETHON"])
        .json();
    let ids = |f: &serde_json::Value| {
        f.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&f), vec![1, 0]);
    let e = s.event(5);
    assert_eq!(e["event"], "find");
    assert_eq!(e["by"], "code");
    assert_eq!(e["user"], "canbo.hk");
    assert_eq!(e["purpose"], "tra cứu hồ sơ");
    assert_eq!(e["records"], serde_json::json!([1, 0]));
    // The revocation is signed over at once (a checkpoint whose tree holds its entry), as a
    // put is: until one covers it, it could be taken out of the log unseen.
    let (pin, state) = (s.demo.pin_file(), s.state());
    let r = s.kyso(&[
        "archive",
        "status",
        "1",
        "--revoke",
        "cấp nhầm",
        "--user",
        "lanhdao.hk",
        "--checkpoint-key",
        LOG_KEY,
        "--checkpoint-state",
        state.to_str().unwrap(),
        "--origin",
        ORIGIN,
        "--pin-file",
        pin.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let leaf = r.json()["leaf"].as_u64().unwrap();
    let note = r.json()["checkpoint"].as_str().unwrap().to_string();
    assert_eq!(
        note.lines().nth(1),
        Some((leaf + 1).to_string().as_str()),
        "{note}"
    );
    let f = s
        .read(&["archive", "find", "--code", "001099012345.KS_KETHON"])
        .json();
    assert_eq!(f[0]["id"], 0, "the valid one first once 1 is revoked");
    assert_eq!(f[1]["status"]["state"], "revoked");
    let f = s
        .read(&["archive", "find", "--subject", "0100109106"])
        .json();
    assert_eq!(ids(&f), vec![2]);
    let size = s.kyso(&["log", "prove", "--leaf", "0"]).json()["tree_size"]
        .as_u64()
        .unwrap();
    let e = s.event(size - 1);
    assert_eq!(
        (e["event"].as_str(), e["by"].as_str()),
        (Some("find"), Some("subject"))
    );
    assert_eq!(e["value"], "0100109106");
    let f = s
        .read(&[
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
    assert_eq!(ids(&f), vec![1]);
    // A range that ends before it starts is said, not answered with no records.
    let r = s.kyso(&[
        "archive",
        "find",
        "--agency",
        "UBND-HK",
        "--from",
        "2026-12-31",
        "--to",
        "2026-11-21",
        "--user",
        "clerk",
        "--purpose",
        "lookup",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("is after to"), "{}", r.stderr);

    // Without a purpose, or without a user, nothing is read.
    let r = s.kyso(&[
        "archive",
        "find",
        "--subject",
        "0100109106",
        "--user",
        "x",
        "--purpose",
        " ",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("purpose"), "{}", r.stderr);
    let r = s.kyso(&["archive", "get", "0", "--purpose", "x"]);
    assert_eq!(r.code, 3, "--user is required: {}", r.stderr);

    // Reading the record keeps its validation report and metadata — a logged read too.
    let before = s.kyso(&["log", "prove", "--leaf", "0"]).json()["tree_size"]
        .as_u64()
        .unwrap();
    let g = s.read(&["archive", "get", "0"]).json();
    assert_eq!(g["record"]["report"]["indication"], "TOTAL-PASSED");
    assert_eq!(g["record"]["meta"]["so"], "12/2026");
    assert_eq!(
        g["record"]["content_sha256"].as_str().unwrap(),
        hex::encode(Sha256::digest(std::fs::read(&a).unwrap()))
    );
    let e = s.event(before);
    assert_eq!(
        (e["event"].as_str(), e["part"].as_str()),
        (Some("read"), Some("metadata"))
    );
    assert!(!e["time"].as_str().unwrap().is_empty());

    // Reading the content is logged as such.
    let out = s.demo.path().join("got.pdf");
    let r = s.kyso(&[
        "archive",
        "get",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--user",
        "canbo.hk",
        "--purpose",
        "công dân xin bản sao",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&a).unwrap());
    // (before + 1: the read of the entry just above)
    let e = s.event(before + 2);
    assert_eq!(e["event"], "read");
    assert_eq!(e["part"], "content");
    assert_eq!(e["user"], "canbo.hk");
    assert_eq!(e["purpose"], "công dân xin bản sao");
    // A file in the way is not replaced, and nothing is read: it was written over without a
    // word (a new user's reading, 2026-12-05); --overwrite replaces it.
    let mine = s.demo.path().join("ghi-chu.txt");
    std::fs::write(&mine, "ghi chú của cán bộ").unwrap();
    let get_into = |extra: &[&str]| {
        let mut args = vec![
            "archive",
            "get",
            "0",
            "--out",
            mine.to_str().unwrap(),
            "--user",
            "canbo.hk",
            "--purpose",
            "công dân xin bản sao",
        ];
        args.extend_from_slice(extra);
        s.kyso(&args)
    };
    let r = get_into(&[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("exists; not replaced (use --overwrite)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "ghi chú của cán bộ"
    );
    // (before + 3: the read of the log entry just above, not a read of the record)
    assert_ne!(s.event(before + 3)["event"], "read");
    // One file named twice is refused, --overwrite or not (the signature replaced the
    // document), and so is a dangling link (it passed, and the read was logged before the
    // write failed): a reviewer's reading, 2026-12-05.
    let same = format!("{}/./ghi-chu.txt", s.demo.path().display());
    let r = get_into(&["--signature-out", &same, "--overwrite"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("are one file"), "{}", r.stderr);
    let dangling = s.demo.path().join("link-to-nothing");
    std::os::unix::fs::symlink(s.demo.path().join("nothing-here"), &dangling).unwrap();
    let r = s.kyso(&[
        "archive",
        "get",
        "0",
        "--out",
        dangling.to_str().unwrap(),
        "--user",
        "canbo.hk",
        "--purpose",
        "công dân xin bản sao",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("not replaced"), "{}", r.stderr);
    assert!(!s.demo.path().join("nothing-here").exists());
    // A signature the record lacks, or a folder that is not there: refused before the read is
    // logged (it was logged, then nothing written; helper 190).
    let size = || {
        s.kyso(&["log", "prove", "--leaf", "0"]).json()["tree_size"]
            .as_u64()
            .unwrap()
    };
    let was = size();
    let sig = s.demo.path().join("ban-sao.p7s");
    let r = get_into(&["--signature-out", sig.to_str().unwrap(), "--overwrite"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("record 0 has no detached signature"),
        "{}",
        r.stderr
    );
    let nowhere = s.demo.path().join("no-such-folder").join("ban-sao.pdf");
    let r = s.kyso(&[
        "archive",
        "get",
        "0",
        "--out",
        nowhere.to_str().unwrap(),
        "--user",
        "canbo.hk",
        "--purpose",
        "công dân xin bản sao",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("is not there"), "{}", r.stderr);
    assert_eq!(size(), was, "a read was logged");
    let r = get_into(&["--overwrite"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&mine).unwrap(), std::fs::read(&a).unwrap());

    // Status rules: superseding, revoked is final, unknown ids, no self-superseding.
    let status = |id: &str, flag: &str, v: &str| {
        s.kyso(&["archive", "status", id, flag, v, "--user", "lanhdao.hk"])
    };
    // A record is superseded only by another version of the same document (same code and
    // agency, not revoked) — the archive's rule, for the CLI as for the service.
    let r = status("0", "--superseded-by", "2");
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("same document"), "{}", r.stderr);
    let r = status("0", "--superseded-by", "1");
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("record 1 is revoked"), "{}", r.stderr);
    let r = s.put(
        "001099012345.KS_KETHON",
        &a,
        &["--agency", "UBND-HK", "--issue-date", "2026-11-25"],
    );
    assert_eq!(r.json()["record"], 3, "{}", r.stderr);
    assert_eq!(status("0", "--superseded-by", "3").code, 0);
    // A status moves on from valid (helper 221: the same change sent twice wrote two events,
    // and a second clerk's supersession silently re-pointed the first's): nothing logged.
    let before = size();
    for (flag, v) in [("--superseded-by", "3"), ("--expired", "2026-11-25")] {
        let r = status("0", flag, v);
        assert_eq!(r.code, 8, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("record 0 is superseded by record 3; nothing was changed"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(size(), before);
    let r = status("1", "--superseded-by", "0");
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("revoked"), "{}", r.stderr);
    assert_eq!(s.read(&["archive", "get", "99"]).code, 7);
    assert_eq!(status("0", "--superseded-by", "99").code, 8);
    assert_eq!(status("2", "--superseded-by", "2").code, 8);
    assert_eq!(status("2", "--expired", "2027-02-30").code, 5);
    // An expiry is of a day that has come, in Vietnam's time (helper 216: a future one read
    // "expired" at once), and what someone states is the archive's rule for the command line
    // as for the service (helper 216: ".", "x" and a zero-width space were logged).
    let r = status("2", "--expired", "2999-01-01");
    assert_eq!(r.code, 8, "{}", r.stderr);
    assert!(r.stderr.contains("has not come"), "{}", r.stderr);
    // Nor one before the record's issue date (helper 218: 0001-01-01 was accepted).
    for before in ["2026-11-24", "0001-01-01"] {
        let r = status("3", "--expired", before);
        assert_eq!(r.code, 8, "{}", r.stderr);
        assert!(
            r.stderr.contains("before its issue date 2026-11-25"),
            "{}",
            r.stderr
        );
    }
    let was = size();
    let read_for = |purpose: &str| {
        s.kyso(&[
            "archive",
            "get",
            "0",
            "--user",
            "canbo.hk",
            "--purpose",
            purpose,
        ])
    };
    let braille = format!("{}abc", "\u{2800}".repeat(80));
    let piled = format!("abc{}", "\u{0301}".repeat(6));
    for said in [
        ".",
        "x",
        "a\u{200B}bc",
        "\u{0E31}\u{0E31}\u{0E31}",
        "ab\u{202E}cd",
        // Blank without being spaces, and accents piled on a letter (helper 218).
        &braille,
        "abc\u{13430}",
        "abc\u{0600}",
        &piled,
    ] {
        let r = status("2", "--revoke", said);
        assert_eq!(r.code, 5, "{said:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("revocation reason: required"),
            "{}",
            r.stderr
        );
        let r = read_for(said);
        assert_eq!(r.code, 5, "{said:?}: {}", r.stderr);
        assert!(r.stderr.contains("purpose: required"), "{}", r.stderr);
    }
    assert_eq!(size(), was, "nothing refused was logged");
    // Spaces of every width are plain ones in the log, none at either end; Korean typed
    // decomposed (conjoining jamo, each no letter alone) is read, and logged composed, as
    // Vietnamese typed either way is (helper 218: refused).
    let nfd =
        "\u{1109}\u{1161}\u{1107}\u{1169}\u{11AB} \u{1107}\u{1161}\u{11AF}\u{1100}\u{1173}\u{11B8}";
    for (typed, logged) in [("\u{3000}tra\u{00A0}cứu ", "tra cứu"), (nfd, "사본 발급")] {
        let r = read_for(typed);
        assert_eq!(r.code, 0, "{typed:?}: {}", r.stderr);
        let read = s.event(size() - 1);
        assert_eq!(
            (read["event"].as_str(), read["purpose"].as_str()),
            (Some("read"), Some(logged)),
            "{read}"
        );
    }

    // Bad codes and documents are refused, nothing is stored.
    for (code, why) in [
        ("12345.X", "neither a 12-digit"),
        ("0100109107.DKKD", "check digit"),
        ("001099012345", "<subject id>.<document type code>"),
        ("003099012345.GP", "province code 003 is not assigned"),
        ("001499012345.GP", "birth year 2199, which is in the future"),
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
    let g = s.read(&["archive", "get", "4"]).json();
    assert_eq!(g["record"]["kept_unverified"], "bản giấy chưa số hóa ký");
    assert_eq!(g["record"]["report"]["indication"], "NO_SIGNATURE");
    let audit = s.audit();
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert_eq!(audit.json()["records"], 5);
}

#[test]
fn a_document_with_a_detached_signature_is_kept_with_it() {
    let s = Setup::new();
    let doc = s.demo.path().join("quyet-dinh.txt");
    std::fs::write(&doc, "Quyết định số 12/QĐ-UBND\n").unwrap();
    let sig = s.demo.path().join("quyet-dinh.txt.p7s");
    let r = s.demo.run_pin(&[
        "sign",
        "--key",
        RSA_KEY,
        "--format",
        "cades",
        doc.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = s.put(
        "001099012345.QD",
        &doc,
        &["--detached", sig.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["indication"], "TOTAL-PASSED");
    // Without its signature the same bytes do not pass.
    assert_eq!(s.put("001099012345.QD", &doc, &[]).code, 5);
    let (out, sig_out) = (s.demo.path().join("out.txt"), s.demo.path().join("out.p7s"));
    let r = s.read(&[
        "archive",
        "get",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--signature-out",
        sig_out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&doc).unwrap());
    assert_eq!(
        std::fs::read(&sig_out).unwrap(),
        std::fs::read(&sig).unwrap()
    );
    let r = s.demo.run(&[
        "verify",
        out.to_str().unwrap(),
        "--detached",
        sig_out.to_str().unwrap(),
        "--trust",
        s.demo.ca_pem().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(s.audit().code, 0);
}

#[test]
fn a_retried_put_returns_the_record_it_made_and_a_reused_request_id_is_refused() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let b = s.signed("b.pdf", "three-pages.pdf");
    let r = s.put("001099012345.GP", &a, &["--request-id", "hs-2026-0042"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        (r.json()["record"].as_u64(), r.json()["existing"].as_bool()),
        (Some(0), Some(false))
    );
    // The client got no answer (a timeout, a failed sync) and sends the same request again.
    let r = s.put("001099012345.GP", &a, &["--request-id", "hs-2026-0042"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        (r.json()["record"].as_u64(), r.json()["existing"].as_bool()),
        (Some(0), Some(true))
    );
    assert_eq!(r.json()["leaf"], 0);
    // The same id for another document, or under another code: refused, nothing stored.
    for (code, file) in [("001099012345.GP", &b), ("001099012345.GPXD", &a)] {
        let r = s.put(code, file, &["--request-id", "hs-2026-0042"]);
        assert_eq!(r.code, 24, "{}", r.stderr);
        assert!(
            r.stderr.contains("already used for record 0"),
            "{}",
            r.stderr
        );
    }
    // Another user's request ids are their own.
    let ca = s.demo.ca_pem();
    let r = s.kyso(&[
        "archive",
        "put",
        "--code",
        "001099012345.GP",
        "--user",
        "canbo.khac",
        "--request-id",
        "hs-2026-0042",
        "--trust",
        ca.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(r.json()["record"], 1, "{}", r.stderr);
    let audit = s.audit();
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert_eq!(audit.json()["records"], 2);
}

#[test]
fn documents_over_the_configured_size_are_refused_before_anything_is_stored() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let size = std::fs::metadata(&a).unwrap().len();
    let r = s.put("001099012345.GP", &a, &["--max-document-size", "10K"]);
    assert_eq!(r.code, 23, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("the document is {size} bytes"))
            && r.stderr.contains("up to 10240 bytes"),
        "{}",
        r.stderr
    );
    assert!(!s.db.exists(), "nothing was opened or stored");
    let r = s.put("001099012345.GP", &a, &["--max-document-size", "1M"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn proofs_verify_with_an_independent_rfc9162_implementation_and_checkpoints_with_the_key_alone() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    for i in 0..9 {
        let r = s.put(&format!("001099012345.T{i}"), &a, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // An origin of several lines would make the key sign a note that reads as another size
    // and root (found by an insider's reading, 2026-12-03): refused, nothing signed.
    let pin = s.demo.pin_file();
    let forged = s.kyso(&[
        "log",
        "checkpoint",
        "--checkpoint-key",
        LOG_KEY,
        "--checkpoint-state",
        s.state().to_str().unwrap(),
        "--pin-file",
        pin.to_str().unwrap(),
        "--origin",
        "kyso.demo/archive\n1000\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ]);
    assert_ne!(forged.code, 0, "{}", forged.stdout);
    assert!(
        forged.stderr.contains("one non-empty line"),
        "{}",
        forged.stderr
    );
    assert!(forged.stdout.is_empty());
    assert!(!s.state().exists(), "nothing signed");
    // The first checkpoint names the log for good: without --origin it is a usage error
    // naming the flag, before the token is asked for a PIN (the origin defaulted to
    // kyso.demo/archive, a name a production archive then kept forever).
    let state = s.state();
    let unnamed = || {
        s.kyso(&[
            "log",
            "checkpoint",
            "--checkpoint-key",
            LOG_KEY,
            "--checkpoint-state",
            state.to_str().unwrap(),
            "--pin-file",
            pin.to_str().unwrap(),
        ])
    };
    let r = unnamed();
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("holds no checkpoint yet") && r.stderr.contains("give --origin"),
        "{}",
        r.stderr
    );
    assert!(!s.state().exists(), "nothing signed");
    // Nor is a record stored by a put that would sign the first checkpoint unnamed.
    let r = s.put(
        "001099012345.UN",
        &a,
        &[
            "--checkpoint-key",
            LOG_KEY,
            "--checkpoint-state",
            state.to_str().unwrap(),
            "--pin-file",
            pin.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("give --origin"), "{}", r.stderr);
    assert_eq!(s.audit().json()["records"], 9, "nothing stored");
    // The audit says what its "clean" does not cover: entries under no signed checkpoint yet
    // (one who can write the database can still remove them unseen), and no checkpoint kept
    // outside to hold the log to.
    let pem = s.log_pem();
    let text = s.kyso(&["audit", "verify", "--log-key", pem.to_str().unwrap()]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("the newest 9 entries are under no signed checkpoint yet"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("no checkpoint kept outside the archive was given"),
        "{}",
        text.stdout
    );
    let cp = s.checkpoint();
    assert_eq!(cp.code, 0, "{}", cp.stderr);
    let note = cp.stdout.clone();
    let state = s.state();
    let audited = s.kyso(&[
        "audit",
        "verify",
        "--log-key",
        pem.to_str().unwrap(),
        "--checkpoint",
        state.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(audited.code, 0, "{}", audited.stderr);
    assert_eq!(audited.json()["unsigned_entries"], 0, "{}", audited.stdout);
    assert_eq!(
        audited.json()["outside_checkpoints"],
        1,
        "{}",
        audited.stdout
    );
    assert_eq!(
        std::fs::read_to_string(s.state()).unwrap(),
        note,
        "the state file holds it"
    );
    // Later, the origin and the key's name are those of the state file's checkpoint.
    let again = unnamed();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, note, "the same log, nothing new to sign");
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
    let cert_pem = std::fs::read_to_string(s.log_pem()).unwrap();
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
    let mut leaf_hashes = Vec::new();
    for leaf in 0..size {
        let p = s
            .kyso(&["log", "prove", "--leaf", &leaf.to_string(), "--size", "9"])
            .json();
        let leaf_hash = unhex32(p["leaf_hash"].as_str().unwrap());
        leaf_hashes.push(leaf_hash);
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

    // Signing again with nothing new gives the same checkpoint, not a second one.
    assert_eq!(s.checkpoint().stdout, note);
    // Each leaf is the hash of its event (read here: each read of an entry is logged).
    for (leaf, want) in leaf_hashes.iter().enumerate() {
        let p = s
            .read(&["log", "prove", "--leaf", &leaf.to_string()])
            .json();
        let event = p["event"].as_str().unwrap();
        assert_eq!(&h(&[&[0], event.as_bytes()]), want, "leaf {leaf}");
    }

    // A later checkpoint is consistent with the earlier one; the relying agency checks it
    // with the log key's certificate it holds.
    let old = s.demo.path().join("old.note");
    std::fs::write(&old, &note).unwrap();
    for i in 0..5 {
        assert_eq!(s.put(&format!("0100109106.X{i}"), &a, &[]).code, 0);
    }
    let cp2 = s.checkpoint();
    let new = s.demo.path().join("new.note");
    std::fs::write(&new, &cp2.stdout).unwrap();
    let pem = s.log_pem();
    let consistency = || {
        s.kyso(&[
            "log",
            "consistency",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--pubkey",
            pem.to_str().unwrap(),
        ])
    };
    let c = consistency();
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.json()["consistent"], true);
    // Given the other way round: exit 5, saying which goes first (helper 182).
    let c = s.kyso(&[
        "log",
        "consistency",
        new.to_str().unwrap(),
        old.to_str().unwrap(),
        "--pubkey",
        pem.to_str().unwrap(),
    ]);
    assert_eq!(c.code, 5, "{}", c.stderr);
    assert!(
        c.stderr.contains("give the older checkpoint first"),
        "{}",
        c.stderr
    );
    // A forged "new" checkpoint fails its signature.
    // (9 entries, the 9 reads of them above, 5 puts.)
    assert!(cp2.stdout.contains("\n23\n"), "{}", cp2.stdout);
    std::fs::write(&new, cp2.stdout.replace("\n23\n", "\n24\n")).unwrap();
    assert_eq!(consistency().code, 1);
}

/// The checkpoint signer holds what it adds to the log to the order the writer keeps: an
/// insider's entry appended with its leaf and nodes, dated a year back, is not signed (signed,
/// it went out with every export and `bag verify` passed an expired signer; helpers 201, 204);
/// one dated two minutes back, as a release before 2026-12-06 dated an entry when the clock
/// was stepped back, is — and audits clean; a chain of entries each 4 minutes before the one
/// just ahead is not, nor is it once the database's record of the last signed checkpoint is
/// moved past it (helper 206).
#[test]
fn a_checkpoint_is_not_signed_over_an_entry_dated_back_past_the_one_ahead_of_it() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    assert_eq!(s.checkpoint().code, 0);
    // Log reads (they touch no counter) dated `back` minutes before the last entry's time.
    let read_dated_back = |d: &rocksdb::DB, minutes: u64| {
        let mut it = d.raw_iterator_cf(cf(d, "events"));
        it.seek_to_last();
        let last: serde_json::Value = serde_json::from_slice(it.value().unwrap()).unwrap();
        let at = kyso_verify::dates::parse_rfc3339(last["time"].as_str().unwrap()).unwrap();
        let back = kyso_verify::rfc3339(at - std::time::Duration::from_secs(60 * minutes));
        append_event(
            d,
            &format!(
                r#"{{"event":"log_read","start":0,"end":1,"user":"insider","purpose":"x","time":"{back}"}}"#
            ),
        );
    };
    tamper(&s.db, |d| read_dated_back(d, 2));
    let r = s.checkpoint();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = s.audit();
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Each entry 4 minutes before the one just ahead of it: within the slack of that one, not of
    // the latest ahead (a chain of such reached back an hour; helper 206).
    tamper(&s.db, |d| {
        read_dated_back(d, 4);
        read_dated_back(d, 4);
    });
    let refused = |r: &Run| {
        assert_ne!(r.code, 0, "{}", r.stdout);
        assert!(
            r.stderr
                .contains("more than 5 minutes before an entry ahead of it")
                && r.stderr.contains("refusing to sign it"),
            "{}",
            r.stderr
        );
    };
    refused(&s.checkpoint());
    assert_eq!(s.audit().code, 20);
    // The database's own record of the last signed checkpoint moved to the whole log, as an
    // insider who can write it would: the signer still checks from the state file's (it did
    // from the database's, and signed; helper 206).
    tamper(&s.db, |d| {
        let size = u64::from_be_bytes(
            d.get_cf(cf(d, "meta"), b"tree_size").unwrap().unwrap()[..]
                .try_into()
                .unwrap(),
        );
        let root = kyso_archive::merkle::Frontier::load(&RawNodes(d), size)
            .unwrap()
            .root();
        d.put_cf(cf(d, "meta"), b"last_signed_size", size.to_be_bytes())
            .unwrap();
        d.put_cf(cf(d, "meta"), b"last_signed_root", root).unwrap();
    });
    refused(&s.checkpoint());
}

#[test]
fn audit_catches_every_kind_of_tampering_and_names_it() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let b = s.signed("b.pdf", "three-pages.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    assert_eq!(
        s.put("001099012345.B", &b, &["--agency", "UBND-HK"]).code,
        0
    );
    assert_eq!(s.checkpoint().code, 0);
    let r = s.kyso(&[
        "archive", "status", "0", "--revoke", "sai", "--user", "lanhdao",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(s.audit().code, 0);
    let backup = s.demo.path().join("backup");
    s.backup_to(&backup);
    let restore = |s: &Setup| {
        std::fs::remove_dir_all(&s.db).unwrap();
        s.restore(&backup, &s.db);
    };
    let sha_a = Sha256::digest(std::fs::read(&a).unwrap()).to_vec();
    use kyso_archive::schema::IndexKey;
    type Tamper = Box<dyn Fn(&rocksdb::DB)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "content byte",
            Box::new(move |d| {
                let mut v = d.get_cf(cf(d, "content"), &sha_a).unwrap().unwrap();
                v[100] ^= 1;
                d.put_cf(cf(d, "content"), &sha_a, v).unwrap();
            }),
            "the content of record 0 was changed",
        ),
        (
            "validation data",
            Box::new(move |d| {
                // The demo CA's certificate, kept with record 0 as its validation data.
                let rec: serde_json::Value = serde_json::from_slice(
                    &d.get_cf(cf(d, "records"), 0u64.to_be_bytes())
                        .unwrap()
                        .unwrap(),
                )
                .unwrap();
                let certs = rec["validation_data"]["certificates"].as_array().unwrap();
                let key = hex::decode(certs[0]["sha256"].as_str().unwrap()).unwrap();
                let mut v = d.get_cf(cf(d, "content"), &key).unwrap().unwrap();
                v[40] ^= 1;
                d.put_cf(cf(d, "content"), &key, v).unwrap();
            }),
            "the validation data (certificate",
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
                let k = kyso_archive::schema::node_key(0, 1);
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
        (
            "a lookup entry moved to another citizen",
            Box::new(|d| {
                let k = IndexKey::Subject {
                    subject: "079099000001".into(),
                    id: 1,
                };
                d.put_cf(cf(d, "index"), k.encode(), []).unwrap();
            }),
            "does not match record 1: a lookup would return it for another code, subject or agency",
        ),
        (
            "a lookup entry deleted",
            Box::new(|d| {
                let k = IndexKey::Agency {
                    agency: "UBND-HK".into(),
                    date: String::new(),
                    id: 1,
                };
                d.delete_cf(cf(d, "index"), k.encode()).unwrap();
            }),
            "record 1's index entry",
        ),
        (
            "a status appended after the revocation",
            Box::new(|d| {
                let st = r#"{"state":"expired","on":"2027-01-01"}"#;
                append_event(
                    d,
                    &format!(
                        r#"{{"event":"status","record":0,"status":{st},"user":"insider","time":"2099-12-01T00:00:00Z"}}"#
                    ),
                );
                d.put_cf(cf(d, "status"), 0u64.to_be_bytes(), st).unwrap();
            }),
            "breaks the status rules: record 0 is revoked; a revoked record's status is final",
        ),
        (
            "a supersession by another document",
            Box::new(|d| {
                let st = r#"{"state":"superseded_by","record":0}"#;
                append_event(
                    d,
                    &format!(
                        r#"{{"event":"status","record":1,"status":{st},"user":"insider","time":"2099-12-01T00:00:00Z"}}"#
                    ),
                );
                d.put_cf(cf(d, "status"), 1u64.to_be_bytes(), st).unwrap();
            }),
            "record 1 superseded by record 0, which is not a version of the same document",
        ),
        (
            "a status for a record that does not exist",
            Box::new(|d| {
                append_event(
                    d,
                    r#"{"event":"status","record":7,"status":{"state":"revoked","reason":"x"},"user":"insider","time":"2099-12-01T00:00:00Z"}"#,
                );
            }),
            "changes the status of record 7, which was not ingested before it",
        ),
        (
            // The signer checks the log against it before each checkpoint: written over, it
            // stopped every checkpoint (and every put, and the service's start) while the
            // audit said clean (helper 191).
            "the last signed root",
            Box::new(|d| {
                d.put_cf(cf(d, "meta"), b"last_signed_root", [0u8; 32])
                    .unwrap();
            }),
            "the database's record of the last signed root (0000",
        ),
        (
            "an ingest out of order",
            Box::new(|d| {
                let rec = d
                    .get_cf(cf(d, "records"), 0u64.to_be_bytes())
                    .unwrap()
                    .unwrap();
                append_event(
                    d,
                    &format!(
                        r#"{{"event":"ingest","record":0,"code":"001099012345.A","content_sha256":"{}","record_sha256":"{}","user":"insider","time":"2099-12-01T00:00:00Z"}}"#,
                        hex::encode(Sha256::digest(
                            std::fs::read(fixture("giay-phep.pdf")).unwrap()
                        )),
                        hex::encode(Sha256::digest(rec))
                    ),
                );
            }),
            "ingests record 0, but records are numbered in ingest order",
        ),
        (
            // The writer never dates an entry before the one ahead of it: an insider's entry
            // backdated (to before an expired certificate's end, say) is no archive's
            // (helper 201).
            "an entry backdated",
            Box::new(|d| {
                let st = r#"{"state":"expired","on":"2027-01-01"}"#;
                append_event(
                    d,
                    &format!(
                        r#"{{"event":"status","record":1,"status":{st},"user":"insider","time":"2025-06-01T00:00:00Z"}}"#
                    ),
                );
                d.put_cf(cf(d, "status"), 1u64.to_be_bytes(), st).unwrap();
            }),
            "is dated 2025-06-01T00:00:00Z, more than 5 minutes before an entry ahead of it (",
        ),
        (
            "validated after its ingest",
            Box::new(|d| {
                let mut rec: serde_json::Value = serde_json::from_slice(
                    &d.get_cf(cf(d, "records"), 1u64.to_be_bytes())
                        .unwrap()
                        .unwrap(),
                )
                .unwrap();
                rec["validation_data"]["gathered"] = "2099-12-01T00:00:00Z".into();
                let leaf = rec["leaf"].as_u64().unwrap().to_be_bytes();
                let rec = serde_json::to_vec(&rec).unwrap();
                d.put_cf(cf(d, "records"), 1u64.to_be_bytes(), &rec)
                    .unwrap();
                // Its ingest event names the record's new hash; the tree is rebuilt.
                let mut ev: serde_json::Value =
                    serde_json::from_slice(&d.get_cf(cf(d, "events"), leaf).unwrap().unwrap())
                        .unwrap();
                assert_eq!(ev["event"], "ingest");
                ev["record_sha256"] = hex::encode(Sha256::digest(&rec)).into();
                d.put_cf(cf(d, "events"), leaf, serde_json::to_vec(&ev).unwrap())
                    .unwrap();
                rebuild_tree(d);
            }),
            "record 1 says it was validated at \"2099-12-01T00:00:00Z\", after its ingest",
        ),
    ];
    for (what, f, msg) in cases {
        restore(&s);
        assert_eq!(s.audit().code, 0, "{what}: clean before");
        tamper(&s.db, f);
        let r = s.audit();
        assert_eq!(r.code, 20, "{what}: audit passed: {}", r.stdout);
        assert!(r.stderr.contains(msg), "{what}: {}", r.stderr);
    }
}

/// An ECDSA P-256 key that is not the log key: an insider's.
fn insider_key() -> (p256::ecdsa::SigningKey, Vec<u8>) {
    use p256::pkcs8::EncodePublicKey;
    let k = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    let spki = k.verifying_key().to_public_key_der().unwrap().into_vec();
    (k, spki)
}

/// The signature lines of a signed note printed on standard output.
fn signature_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with('\u{2014}'))
        .collect()
}

/// A C2SP signed note of `body` by `key`, as an insider would make one.
fn insider_note(body: &str, key: &p256::ecdsa::SigningKey, spki: &[u8]) -> String {
    use base64::Engine;
    use p256::ecdsa::signature::Signer;
    let sig: p256::ecdsa::DerSignature = key.sign(body.as_bytes());
    let mut blob = Sha256::digest(spki)[..4].to_vec();
    blob.extend_from_slice(sig.as_bytes());
    format!(
        "{body}\n\u{2014} kyso.demo/archive {}\n",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

#[test]
fn audit_trusts_only_the_log_keys_it_is_given_and_a_rotated_key_keeps_old_checkpoints_verifiable() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    assert_eq!(s.checkpoint().code, 0);
    // The log key is rotated to another P-256 key on the token, under the same name.
    assert_eq!(s.put("001099012345.B", &a, &[]).code, 0);
    let r = s.checkpoint_with("pkcs11:token=kyso-dev;object=signer-ec");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pem = s.log_pem();
    let new_pem = s.demo.path().join("signer-ec.pem");
    let audit = |keys: &[&str]| {
        let mut v = vec!["audit", "verify", "--json"];
        for k in keys {
            v.extend_from_slice(&["--log-key", k]);
        }
        s.kyso(&v)
    };
    // Both keys given (files, or the old one read from the token by URI): every checkpoint
    // verifies. The archive kept both public keys, by key ID.
    let r = audit(&[pem.to_str().unwrap(), new_pem.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["checkpoints"], 2);
    let r = audit(&[LOG_KEY, new_pem.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut stored_keys = 0;
    tamper(&s.db, |d| {
        for item in d.prefix_iterator_cf(cf(d, "meta"), b"checkpoint_key:") {
            let (k, _) = item.unwrap();
            if k.starts_with(b"checkpoint_key:") {
                stored_keys += 1;
            }
        }
    });
    assert_eq!(stored_keys, 2, "one entry per key ID, none overwritten");
    // Only the old key: the newer checkpoint is not taken on the archive's word.
    let r = audit(&[pem.to_str().unwrap()]);
    assert_eq!(r.code, 20, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("no key given verifies it (the keys given have ID "),
        "{}",
        r.stderr
    );

    // An insider who rewrote history would have to re-sign the checkpoints: with a key of
    // their own, recorded in the archive as a checkpoint key. The audit, given the real keys,
    // is not fooled.
    let (k, spki) = insider_key();
    tamper(&s.db, |d| {
        for item in d.iterator_cf(cf(d, "checkpoints"), rocksdb::IteratorMode::Start) {
            let (key, note) = item.unwrap();
            let body = String::from_utf8(note.to_vec()).unwrap();
            let body = body.split_once("\n\n").unwrap().0.to_string() + "\n";
            d.put_cf(cf(d, "checkpoints"), key, insider_note(&body, &k, &spki))
                .unwrap();
        }
        let id = hex::encode(&Sha256::digest(&spki)[..4]);
        d.put_cf(
            cf(d, "meta"),
            format!("checkpoint_key:kyso.demo/archive:{id}"),
            &spki,
        )
        .unwrap();
    });
    let r = audit(&[pem.to_str().unwrap(), new_pem.to_str().unwrap()]);
    assert_eq!(r.code, 20, "{}", r.stdout);
    assert!(
        r.stderr.contains("checkpoint 1: signed by key ID"),
        "{}",
        r.stderr
    );
}

#[test]
fn audit_resumes_from_a_checkpoint_it_verified_and_reads_only_newer_entries() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    for i in 0..4 {
        assert_eq!(s.put(&format!("001099012345.R{i}"), &a, &[]).code, 0);
    }
    let r = s.kyso(&[
        "archive", "status", "1", "--revoke", "sai", "--user", "lanhdao",
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(s.checkpoint().code, 0);
    let saved = s.demo.path().join("audited.json");
    let pem = s.log_pem();
    let audit = |extra: &[&str]| {
        let mut v = vec![
            "audit",
            "verify",
            "--json",
            "--log-key",
            pem.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        s.kyso(&v)
    };
    let r = audit(&["--save", saved.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["entries_read"], 5);
    // More entries, among them a status change of a record from before the checkpoint.
    for i in 4..7 {
        assert_eq!(s.put(&format!("001099012345.R{i}"), &a, &[]).code, 0);
    }
    let r = s.kyso(&[
        "archive",
        "status",
        "2",
        "--expired",
        "2026-01-01",
        "--user",
        "lanhdao",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(s.checkpoint().code, 0);
    let r = audit(&[
        "--since",
        saved.to_str().unwrap(),
        "--save",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(
        (j["resumed_from"].as_u64(), j["entries_read"].as_u64()),
        (Some(5), Some(4))
    );
    assert_eq!(j["records"], 7);

    // The entry before the resumed start is the audited checkpoint's last, proved to its root:
    // forged with its leaf (dated back, so that an entry after it could be), it was taken
    // (helper 204). At an even size that leaf lies under a node of the tree, not among the
    // frontier's own (at 9, leaf 8 is one, and the audit already compares them): audited again
    // there first, and that file set aside.
    let at_ten = s.demo.path().join("audited-10.json");
    let r = s.kyso(&[
        "archive", "status", "3", "--revoke", "sai", "--user", "lanhdao",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(s.checkpoint().code, 0);
    let r = audit(&[
        "--since",
        saved.to_str().unwrap(),
        "--save",
        at_ten.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["last_checkpoint"], 10, "{}", r.stdout);
    // The stored checkpoints verified again: the audited one (9) and the one after it, not
    // the one before (verified by the first audit).
    let stored = kyso_archive::Archive::open_existing(&s.db)
        .unwrap()
        .checkpoints()
        .unwrap();
    let sizes: Vec<u64> = stored.iter().map(|(n, _)| *n).collect();
    assert_eq!(sizes, [5, 9, 10]);
    assert_eq!(r.json()["checkpoints"], 2, "{}", r.stdout);
    let key = 9u64.to_be_bytes();
    let node = kyso_archive::schema::node_key(0, 9);
    let kept = std::cell::RefCell::new((Vec::new(), Vec::new()));
    tamper(&s.db, |d| {
        let event = d.get_cf(cf(d, "events"), key).unwrap().unwrap();
        let leaf = d.get_cf(cf(d, "nodes"), node).unwrap().unwrap();
        let mut forged: serde_json::Value = serde_json::from_slice(&event).unwrap();
        forged["time"] = "2025-05-01T00:00:00Z".into();
        let forged = serde_json::to_vec(&forged).unwrap();
        d.put_cf(cf(d, "events"), key, &forged).unwrap();
        d.put_cf(
            cf(d, "nodes"),
            node,
            kyso_archive::merkle::leaf_hash(&forged),
        )
        .unwrap();
        *kept.borrow_mut() = (event, leaf);
    });
    let r = audit(&["--since", at_ten.to_str().unwrap()]);
    assert_eq!(r.code, 20, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("event 9 is not the one the audited checkpoint holds"),
        "{}",
        r.stderr
    );
    tamper(&s.db, |d| {
        let (event, leaf) = kept.take();
        d.put_cf(cf(d, "events"), key, event).unwrap();
        d.put_cf(cf(d, "nodes"), node, leaf).unwrap();
    });
    assert_eq!(audit(&["--since", at_ten.to_str().unwrap()]).code, 0);

    // What the resumed audit relies on is checked: the revocation before the checkpoint still
    // holds (an insider's status change of record 1 after it is caught) …
    tamper(&s.db, |d| {
        append_event(
            d,
            r#"{"event":"status","record":1,"status":{"state":"expired","on":"2027-01-01"},"user":"insider","time":"2099-12-01T00:00:00Z"}"#,
        );
        d.put_cf(
            cf(d, "status"),
            1u64.to_be_bytes(),
            r#"{"state":"expired","on":"2027-01-01"}"#,
        )
        .unwrap();
    });
    let r = audit(&["--since", saved.to_str().unwrap()]);
    assert_eq!(r.code, 20, "{}", r.stdout);
    assert!(
        r.stderr.contains("a revoked record's status is final"),
        "{}",
        r.stderr
    );
    // … and history rewritten before the audited checkpoint (an entry changed and the whole
    // tree rebuilt over it) is caught by the checkpoint's signed root.
    tamper(&s.db, |d| {
        let v = d
            .get_cf(cf(d, "events"), 1u64.to_be_bytes())
            .unwrap()
            .unwrap();
        let t = String::from_utf8(v)
            .unwrap()
            .replace("canbo.motcua", "canbo.khac");
        d.put_cf(cf(d, "events"), 1u64.to_be_bytes(), &t).unwrap();
        rebuild_tree(d);
    });
    let r = audit(&["--since", saved.to_str().unwrap()]);
    assert_eq!(r.code, 20, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("are no longer those of the audited checkpoint"),
        "{}",
        r.stderr
    );
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
        r.stderr.contains(&format!(
            "in use by another process (pid {})",
            std::process::id()
        )),
        "{}",
        r.stderr
    );
    // Auditing read-only works alongside.
    assert_eq!(s.audit().code, 0);
    drop(held);
    assert_eq!(s.put("001099012345.B", &a, &[]).code, 0);
}

#[test]
fn a_corrupt_database_is_reported_as_corrupt_not_as_held_by_another_process() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    assert_eq!(s.put("001099012345.B", &a, &[]).code, 0);
    // A backup flushes every memtable to table files.
    let backup = s.demo.path().join("backup");
    s.backup_to(&backup);
    // A bad sector: one byte flipped in the first data block of every table file.
    let mut flipped = 0;
    for e in std::fs::read_dir(&s.db).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "sst") {
            let mut b = std::fs::read(&p).unwrap();
            b[20] ^= 0x40;
            std::fs::write(&p, b).unwrap();
            flipped += 1;
        }
    }
    assert!(flipped > 0);
    let r = s.read(&["archive", "get", "0"]);
    assert_eq!(r.code, 21, "{}", r.stderr);
    assert!(r.stderr.contains("is corrupt"), "{}", r.stderr);
    assert!(r.stderr.contains("checksum mismatch"), "{}", r.stderr);
    assert!(!r.stderr.contains("another process"), "{}", r.stderr);
    let r = s.audit();
    assert_eq!(r.code, 21, "{}", r.stderr);
    assert!(r.stderr.contains("is corrupt"), "{}", r.stderr);
}

#[test]
fn backup_is_a_real_copy_that_survives_the_disk_and_restores() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    assert_eq!(s.put("001099012345.B", &a, &[]).code, 0);
    assert_eq!(s.checkpoint().code, 0);
    let other_disk = s.demo.path().join("other-disk");
    std::fs::create_dir(&other_disk).unwrap();
    let backup = other_disk.join("archive-2026-12-01");
    let r = s.backup_to(&backup);
    let leaf = r.json()["leaf"].as_u64().unwrap();
    assert!(r.json()["bytes"].as_u64().unwrap() > std::fs::metadata(&a).unwrap().len());
    // The backup event is in the source log, with who and when, written before the copy —
    // so the copy holds it as its last entry.
    let e = s.event(leaf);
    assert_eq!(e["event"], "config");
    assert_eq!(e["user"], "quantri");
    assert!(e["change"].as_str().unwrap().starts_with("backup to "));
    assert!(e["time"].as_str().unwrap().starts_with("20"));
    // Every file is a copy of its own: no hard link into the archive's files.
    use std::os::unix::fs::MetadataExt;
    let inodes: std::collections::HashSet<u64> = std::fs::read_dir(&s.db)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().ino())
        .collect();
    let mut files = 0;
    for e in std::fs::read_dir(&backup).unwrap() {
        let m = e.unwrap().metadata().unwrap();
        assert!(m.is_file());
        assert_eq!(m.nlink(), 1);
        assert!(!inodes.contains(&m.ino()));
        files += 1;
    }
    assert_eq!(r.json()["files"], files);
    assert!(!s.db.with_file_name("archive.backup-staging").exists());

    // The archive's disk is lost. The backup audits on its own, with the log key.
    std::fs::remove_dir_all(&s.db).unwrap();
    let pem = s.log_pem();
    let audit = |db: &Path| -> Run {
        s.demo
            .cmd()
            .args([
                "audit",
                "verify",
                "--json",
                "--log-key",
                pem.to_str().unwrap(),
                "--db",
            ])
            .arg(db)
            .output()
            .unwrap()
            .into()
    };
    let r = audit(&backup);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["tree_size"], leaf + 1);
    // Restored into a new directory: it opens, audits, serves the documents, and logs the
    // restore.
    let restore = |to: &Path| -> Run { s.restore_run(&backup, to) };
    let r = restore(&s.db);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(audit(&s.db).code, 0);
    let e = s.event(leaf + 1);
    assert_eq!(e["event"], "config");
    assert!(e["change"].as_str().unwrap().starts_with("restored from "));
    let out = s.demo.path().join("out.pdf");
    let r = s.read(&["archive", "get", "1", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&a).unwrap());
    // A restore never overwrites a database.
    let r = restore(&s.db);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("exists"), "{}", r.stderr);
}

/// Every file of a directory, by name, with its bytes.
fn files_of(d: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Copy a backup (files only) to a new directory.
fn copy_backup(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn backup_and_restore_delete_nothing_they_did_not_make_and_copy_only_a_sound_database() {
    // Helper 162's attacks on backup and restore, each with the tools an operator has.
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    let dir = s.demo.path().to_path_buf();
    let backup = dir.join("bk");
    s.backup_to(&backup);
    let pristine = files_of(&backup);
    let leftovers = |d: &Path| {
        for x in [".partial", ".restoring"] {
            assert!(!d
                .with_file_name(format!("{}{x}", d.file_name().unwrap().to_str().unwrap()))
                .exists());
        }
    };

    // A backup whose name is a restore's scratch directory: it was deleted, an empty archive
    // made in its place, exit 0.
    let clash = dir.join("arch.restoring");
    std::fs::rename(&backup, &clash).unwrap();
    let r = s.restore_run(&clash, &dir.join("arch"));
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("is there already"), "{}", r.stderr);
    assert_eq!(files_of(&clash), pristine);
    assert!(!dir.join("arch").exists());
    std::fs::rename(&clash, &backup).unwrap();

    // A database whose name is a backup's scratch directory: it was deleted, exit 0.
    let live = dir.join("live.partial");
    std::fs::rename(&s.db, &live).unwrap();
    let r: Run = s
        .demo
        .cmd()
        .args(["backup", "--user", "quantri", "--db"])
        .arg(&live)
        .arg("--to")
        .arg(dir.join("live"))
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("is there already"), "{}", r.stderr);
    assert!(Path::new(&live).join("CURRENT").is_file());
    assert!(!dir.join("live").exists());
    std::fs::rename(&live, &s.db).unwrap();
    let size = s.audit().json()["tree_size"].as_u64().unwrap();

    // A dangling link as --to: the copy was made, its rename failed (exit 21), the copy left.
    let link = dir.join("bk-link");
    std::os::unix::fs::symlink(dir.join("nowhere"), &link).unwrap();
    let r = s.kyso(&[
        "backup",
        "--to",
        link.to_str().unwrap(),
        "--user",
        "quantri",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("exists"), "{}", r.stderr);
    leftovers(&link);
    // Inside the database: the same disk, and a directory RocksDB does not expect.
    let inside = s.db.join("bk");
    let r = s.kyso(&[
        "backup",
        "--to",
        inside.to_str().unwrap(),
        "--user",
        "quantri",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("inside the database"), "{}", r.stderr);
    assert!(!inside.exists());
    // Refusals log nothing.
    assert_eq!(s.audit().json()["tree_size"].as_u64().unwrap(), size);

    // Links planted where a backup stages its checkpoint: RocksDB emptied the directory a
    // link at `<db>.backup-staging.tmp` pointed to.
    let victim = dir.join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("keep.txt"), b"not yours").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("archive.backup-staging.tmp")).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("archive.backup-staging")).unwrap();
    s.backup_to(&dir.join("bk2"));
    assert_eq!(
        std::fs::read(victim.join("keep.txt")).unwrap(),
        b"not yours"
    );
    assert!(!dir.join("archive.backup-staging").exists());
    // Something else where the staging goes is not removed, but refused.
    std::fs::create_dir(dir.join("archive.backup-staging")).unwrap();
    std::fs::write(dir.join("archive.backup-staging/notes.txt"), b"mine").unwrap();
    let r = s.kyso(&[
        "backup",
        "--to",
        dir.join("bk3").to_str().unwrap(),
        "--user",
        "quantri",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("not a backup's leftover"), "{}", r.stderr);
    assert!(dir.join("archive.backup-staging/notes.txt").is_file());
    leftovers(&dir.join("bk3"));

    // A restore copies only what a database holds: a file added to a backup (a hard link to
    // a secret, a note) was copied into the restored database.
    let added = dir.join("bk-added");
    copy_backup(&backup, &added);
    std::fs::write(added.join("notes.txt"), b"x").unwrap();
    let to = dir.join("restored");
    let r = s.restore_run(&added, &to);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("notes.txt is not a file of a RocksDB database"),
        "{}",
        r.stderr
    );
    assert!(!to.exists());
    leftovers(&to);
    // A restore inside its backup.
    let r = s.restore_run(&backup, &backup.join("inner"));
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("inside the backup"), "{}", r.stderr);
    assert_eq!(files_of(&backup), pristine);

    // A damaged backup (a flipped byte in its largest table or blob file) is found before it is put in
    // place: it restored with exit 0, and only the next audit said so.
    let damaged = dir.join("bk-damaged");
    copy_backup(&backup, &damaged);
    let largest = std::fs::read_dir(&damaged)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "blob" || x == "sst"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut b = std::fs::read(&largest).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x5a;
    std::fs::write(&largest, b).unwrap();
    let r = s.restore_run(&damaged, &to);
    assert_eq!(r.code, 21, "{}", r.stderr);
    assert!(r.stderr.contains("is damaged"), "{}", r.stderr);
    assert!(!to.exists());
    leftovers(&to);

    // A table file missing: the backup's damage, not the archive's.
    let missing = dir.join("bk-missing");
    copy_backup(&backup, &missing);
    let sst = std::fs::read_dir(&missing)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "sst"))
        .unwrap();
    std::fs::remove_file(sst).unwrap();
    let r = s.restore_run(&missing, &to);
    assert_eq!(r.code, 21, "{}", r.stderr);
    assert!(r.stderr.contains("is damaged"), "{}", r.stderr);
    assert!(!to.exists());
    leftovers(&to);
    // A copy of a stopped archive's own directory (as a file-system snapshot of a running one
    // holds): its lock and info logs are left out, not refused (helper 165).
    let live = dir.join("live-copy");
    copy_backup(&s.db, &live);
    assert!(live.join("LOCK").exists() && live.join("LOG").exists());
    let from_live = dir.join("from-live");
    s.restore(&live, &from_live);

    // A sparse file larger than the disk's free space: it filled the disk before failing.
    let sparse = dir.join("bk-sparse");
    copy_backup(&backup, &sparse);
    std::fs::File::create(sparse.join("000999.sst"))
        .unwrap()
        .set_len(8 << 40)
        .unwrap();
    let r = s.restore_run(&sparse, &to);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("bytes free"), "{}", r.stderr);
    assert!(!to.exists());
    leftovers(&to);

    // The backup itself still restores.
    s.restore(&backup, &to);
    assert_eq!(files_of(&backup), pristine);

    // A backup to a disk too small (a 64 KiB tmpfs): refused before a byte is written, and
    // the log that said "backup to …" says it failed.
    std::fs::remove_dir_all(dir.join("archive.backup-staging")).unwrap();
    let (_disk, small) = SmallDisk::under(&s.demo, "64k");
    let r = s.kyso(&[
        "backup",
        "--to",
        small.join("bk").to_str().unwrap(),
        "--user",
        "quantri",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("bytes free"), "{}", r.stderr);
    assert!(std::fs::read_dir(&small).unwrap().next().is_none());
    let size = s.audit().json()["tree_size"].as_u64().unwrap();
    let (said, failed) = (s.event(size - 2), s.event(size - 1));
    assert!(
        said["change"].as_str().unwrap().starts_with("backup to "),
        "{said}"
    );
    assert!(
        failed["change"].as_str().unwrap().contains("failed: "),
        "{failed}"
    );
    assert!(!dir.join("archive.backup-staging").exists());
}

#[test]
fn a_restored_backup_cannot_fork_the_log_past_a_signed_checkpoint() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let backup = s.backup_then_two_more(&a);
    let r = s.checkpoint();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\n6\n"), "{}", r.stdout);
    // The archive is replaced by the older backup: it knows nothing of the checkpoint of 6.
    std::fs::remove_dir_all(&s.db).unwrap();
    s.restore(&backup, &s.db);
    let r = s.checkpoint();
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the log has 5 entries but a checkpoint of 6 was signed"),
        "{}",
        r.stderr
    );
    // The audit of the older copy is clean on the database's word (its own checkpoints); given
    // the state file, kept outside, it is not.
    let audit = |outside: bool| -> Run {
        let mut c = s.demo.cmd();
        c.args(["audit", "verify", "--log-key"])
            .arg(s.demo.path().join("log.pem"))
            .arg("--db")
            .arg(&s.db);
        if outside {
            c.arg("--checkpoint").arg(s.state());
        }
        c.output().unwrap().into()
    };
    assert_eq!(audit(false).code, 0);
    let r = audit(true);
    assert_eq!(r.code, 20, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("is a checkpoint of 6 entries but the log has 5"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("checkpoint-state"),
        "the state file says so: {}",
        r.stderr
    );
    // New entries on the restored log make it as long as the signed one, then longer: it is
    // a fork, and no checkpoint is signed for it.
    for i in 5..8 {
        assert_eq!(s.put(&format!("0100109106.F{i}"), &a, &[]).code, 0);
    }
    let r = s.checkpoint();
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the log's first 6 entries no longer match the last signed checkpoint"),
        "{}",
        r.stderr
    );
    let r = audit(true);
    assert_eq!(r.code, 20, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the log does not extend the checkpoint in"),
        "{}",
        r.stderr
    );
    // The state file may not be put inside the database directory, where a restore reaches.
    let pin = s.demo.pin_file();
    let inside = s.db.join("state");
    let r = s.kyso(&[
        "log",
        "checkpoint",
        "--checkpoint-key",
        LOG_KEY,
        "--checkpoint-state",
        inside.to_str().unwrap(),
        "--origin",
        ORIGIN,
        "--pin-file",
        pin.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(
        r.stderr.contains("inside the database directory"),
        "{}",
        r.stderr
    );
}

/// A note planted in the database never reaches the state file (found by an attacker's
/// reading, 2026-12-02). The insider plants, at the log's current size, a "checkpoint" of a
/// fork's root under a key ID that is not the log key's, with the last signed size and the true
/// root in `meta`. `kyso log checkpoint` took the stored note as already signed and wrote it to
/// the state file, which takes a note of another key as it is; with the fork then put in the
/// database's place, the log key signed the fork. A stored note is now used again only if the
/// log key signed it over the log's own root.
#[test]
fn a_checkpoint_planted_in_the_database_never_reaches_the_state_file() {
    use base64::Engine;
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let backup = s.backup_then_two_more(&a);
    assert_eq!(s.checkpoint().code, 0);
    assert_eq!(s.put("001099012345.R5", &a, &[]).code, 0);
    use kyso_archive::Archive;
    let size_of = |db: &Path| Archive::open_existing(db).unwrap().size();
    let n = size_of(&s.db);
    // The fork: the backup, with other records until it is as long.
    let fork = s.demo.path().join("fork");
    s.restore(&backup, &fork);
    let mut i = 0;
    while size_of(&fork) < n {
        let ca = s.demo.ca_pem();
        let r: Run = s
            .demo
            .cmd()
            .args([
                "archive",
                "put",
                "--code",
                &format!("0100109106.F{i}"),
                "--user",
                "x",
            ])
            .args([
                "--trust",
                ca.to_str().unwrap(),
                "--db",
                fork.to_str().unwrap(),
            ])
            .arg(&a)
            .output()
            .unwrap()
            .into();
        assert_eq!(r.code, 0, "{}", r.stderr);
        i += 1;
    }
    assert_eq!(size_of(&fork), n);
    let root_of = |db: &Path| Archive::open_existing(db).unwrap().root(n).unwrap();
    let (real, forked) = (root_of(&s.db), root_of(&fork));
    assert_ne!(real, forked);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let planted = format!(
        "kyso.demo/archive\n{n}\n{}\n\n\u{2014} kyso.demo/archive {}\n",
        b64(&forked),
        b64(&[0u8; 74])
    );
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "checkpoints"), n.to_be_bytes(), &planted)
            .unwrap();
        d.put_cf(cf(d, "meta"), b"last_signed_size", n.to_be_bytes())
            .unwrap();
        d.put_cf(cf(d, "meta"), b"last_signed_root", real).unwrap();
    });
    let r = s.checkpoint();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(r.stdout, planted);
    assert!(r.stdout.contains(&b64(&real)), "{}", r.stdout);
    let state = std::fs::read_to_string(s.state()).unwrap();
    assert_eq!(state, r.stdout);
    // The fork in the database's place: the log key signs nothing for it.
    std::fs::rename(&s.db, s.demo.path().join("real")).unwrap();
    std::fs::rename(&fork, &s.db).unwrap();
    let r = s.checkpoint();
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "the log's first {n} entries no longer match the last signed checkpoint"
        )),
        "{}",
        r.stderr
    );
    // An older backup restored and written to reads the same: both refusals name the restore
    // section (they said nothing of a restore; helper 182).
    let restore = "see docs/operations.md, \"A backup older than the last signed checkpoint\"";
    assert!(r.stderr.contains(restore), "{}", r.stderr);
    let state = s.state();
    let r = s.kyso(&[
        "audit",
        "verify",
        "--log-key",
        s.log_pem().to_str().unwrap(),
        "--checkpoint",
        state.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 20, "{}", r.stderr);
    assert!(
        r.stdout.contains("its history was rewritten")
            || r.stderr.contains("its history was rewritten"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stdout.contains(restore) || r.stderr.contains(restore),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn crash_at_random_moments_loses_no_acknowledged_record() {
    use std::io::{BufRead, BufReader};
    let s = Setup::new();
    let pin = s.demo.pin_file();
    let state = s.state();
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
                "--checkpoint-state",
                state.to_str().unwrap(),
                "--origin",
                ORIGIN,
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
    let audit = s.audit();
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let j = audit.json();
    assert!(j["records"].as_u64().unwrap() >= acked.len() as u64);
    assert!(j["checkpoints"].as_u64().unwrap() > 0);
    for (id, sha) in acked.iter().step_by(17) {
        let g = s.read(&["archive", "get", &id.to_string()]);
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
    let state = s.state();
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
            "--checkpoint-state",
            state.to_str().unwrap(),
            "--origin",
            ORIGIN,
            "--pin-file",
            pin.to_str().unwrap(),
        ])
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = s.audit().json();
    assert_eq!(a["tree_size"], 40);
    assert!(a["checkpoints"].as_u64().unwrap() >= 1);
    assert_eq!(
        a["last_checkpoint"], 40,
        "the publisher covered every acknowledged entry"
    );
}

/// `kyso audit verify` (no checkpoints) on `db`, which must pass.
fn audit_clean(demo: &Demo, db: &Path) -> Run {
    let a: Run = demo
        .cmd()
        .args(["audit", "verify", "--json", "--log-key"])
        .arg(demo.path().join("log.pem"))
        .arg("--db")
        .arg(db)
        .output()
        .unwrap()
        .into();
    assert_eq!(a.code, 0, "{}", a.stderr);
    a
}

#[test]
fn after_a_failed_write_the_archive_refuses_writes_until_reopened_and_a_retry_is_safe() {
    use kyso_archive::{ingest, Archive, Ingest, Metadata};
    let demo = Demo::new();
    let (_disk, mnt) = SmallDisk::under(&demo, "4m");
    let db = mnt.join("archive");
    let validator = kyso_verify::Validator::default();
    let req = |doc: Vec<u8>, request_id: String| Ingest {
        document: doc,
        metadata: Metadata {
            code: "001099012345.STRESS".into(),
            ..Default::default()
        },
        user: "test".into(),
        allow_unverified: Some("test".into()),
        request_id: Some(request_id),
        ..Default::default()
    };
    let doc = |n: u64| {
        let mut d = format!("document {n}\n").into_bytes();
        d.resize(64 * 1024, b'.');
        d
    };
    let ar = Archive::open(&db).unwrap();
    let mut acked = 0u64;
    let err = loop {
        match ingest(&ar, &validator, req(doc(acked), format!("r{acked}"))) {
            Ok(_) => acked += 1,
            Err(e) => break e,
        }
        assert!(acked < 1000, "the 4 MiB disk never filled");
    };
    assert_eq!(err.exit_code(), 21, "{err}");
    // Even a write that would fit is refused now: what reached the disk is only known after a
    // reopen recovers it.
    let again = ingest(&ar, &validator, req(b"tiny".to_vec(), "tiny".into())).unwrap_err();
    assert!(
        again.to_string().contains("until it is reopened"),
        "{again}"
    );
    drop(ar);
    // Give the disk room, reopen: every acknowledged entry is there and the log verifies.
    let grown = std::process::Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(grown.success());
    let ar = Archive::open(&db).unwrap();
    let size = ar.size();
    assert!(
        size >= acked,
        "{size} entries on disk, {acked} acknowledged"
    );
    // The client whose put failed retries it with its request id: it gets the record if the
    // failed batch did reach the disk after all, or a new one if not — exactly one either way.
    let retried = ingest(&ar, &validator, req(doc(acked), format!("r{acked}"))).unwrap();
    let again = ingest(&ar, &validator, req(doc(acked), format!("r{acked}"))).unwrap();
    assert_eq!(retried.record, again.record);
    assert!(again.existing);
    drop(ar);
    let a = audit_clean(&demo, &db);
    assert_eq!(a.json()["records"].as_u64().unwrap(), retried.record + 1);
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
    // The document once, and each certificate of its validation data once, although both
    // records name them.
    let mut blobs = std::collections::BTreeSet::new();
    for item in db.iterator_cf(
        db.cf_handle("records").unwrap(),
        rocksdb::IteratorMode::Start,
    ) {
        let r: serde_json::Value = serde_json::from_slice(&item.unwrap().1).unwrap();
        blobs.insert(r["content_sha256"].as_str().unwrap().to_string());
        for c in r["validation_data"]["certificates"].as_array().unwrap() {
            blobs.insert(c["sha256"].as_str().unwrap().to_string());
        }
    }
    assert!(
        blobs.len() >= 3,
        "the document and at least two certificates: {blobs:?}"
    );
    assert_eq!((contents, records), (blobs.len(), 2));
}

/// `kyso` with `args` (`@db` replaced by the archive's directory), its standard output a
/// stream whose reader has already gone (`kyso … | head` once head has quit): a socket pair
/// with one end closed, where a write fails with EPIPE as on a pipe.
/// One end of a socket pair whose reader has gone: writing to it fails with EPIPE.
fn closed_pipe() -> std::process::Stdio {
    let (reader, writer) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(reader);
    std::os::fd::OwnedFd::from(writer).into()
}

fn run_into_closed_pipe(s: &Setup, args: &[&str]) -> Run {
    run_with_stdout(s, args, closed_pipe())
}

fn run_with_stdout(s: &Setup, args: &[&str], out: std::process::Stdio) -> Run {
    run_with(s, args, out, std::process::Stdio::piped())
}

fn run_with(s: &Setup, args: &[&str], out: std::process::Stdio, err: std::process::Stdio) -> Run {
    let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    if let Some(pos) = v.iter().position(|a| a == "@db") {
        v[pos] = s.db.display().to_string();
    }
    let o = s
        .demo
        .cmd()
        .args(&v)
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap();
    o.into()
}

#[test]
fn a_reader_that_leaves_early_changes_no_exit_status_and_a_full_disk_is_an_error() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let r = s.put("001099012345.KS_KETHON", &a, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log_pem = s.demo.path().join("log.pem");
    let log_pem = log_pem.to_str().unwrap();
    let reader = ["--user", "canbo.hk", "--purpose", "tra cứu hồ sơ"];
    let find: Vec<&str> = [
        "archive",
        "find",
        "--db",
        "@db",
        "--code",
        "001099012345.KS_KETHON",
    ]
    .into_iter()
    .chain(reader)
    .collect();
    let get: Vec<&str> = ["archive", "get", "0", "--db", "@db"]
        .into_iter()
        .chain(reader)
        .collect();
    // `kyso timestamp` answering a query OpenSSL made, on the demo token's TSA key.
    let tsq = s.demo.path().join("q.tsq");
    let r = openssl(&[
        "ts",
        "-query",
        "-data",
        a.to_str().unwrap(),
        "-sha256",
        "-cert",
        "-out",
        tsq.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pin = s.demo.pin_file();
    let timestamp = [
        "timestamp",
        "--key",
        "pkcs11:token=kyso-dev;object=tsa",
        "--in",
        tsq.to_str().unwrap(),
        "--pin-file",
        pin.to_str().unwrap(),
    ];
    let commands: [&[&str]; 9] = [
        &["token", "list"],
        &["token", "list", "--json"],
        &["token", "objects", "pkcs11:token=kyso-dev"],
        &find,
        &get,
        &["log", "prove", "--db", "@db", "--leaf", "0"],
        &[
            "audit",
            "verify",
            "--json",
            "--db",
            "@db",
            "--log-key",
            log_pem,
        ],
        &["stats", "--db", "@db", "--format", "csv"],
        &timestamp,
    ];
    for args in commands {
        // Each command's own status when its output is read whole: that is the reference.
        let whole = run_with_stdout(&s, args, std::process::Stdio::piped());
        assert_eq!(whole.code, 0, "{args:?}: {}", whole.stderr);
        let gone = run_into_closed_pipe(&s, args);
        assert_eq!(gone.code, whole.code, "{args:?}: {}", gone.stderr);
        assert!(
            !gone.stderr.contains("panicked") && !gone.stderr.contains("Broken pipe"),
            "{args:?}: {}",
            gone.stderr
        );
        // Output to a full disk is incomplete: said once, and the status is an I/O error's.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let r = run_with_stdout(&s, args, full.into());
        assert_eq!(r.code, 3, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr
                .matches("kyso: write to standard output: No space left on device")
                .count(),
            1,
            "{args:?}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
    }
    // An error said to a closed standard error (`2>&1 | head` gone): the command's own status,
    // not a panic's 101 (`eprintln!` panics on a failed write; the binary's does not).
    for args in [
        &["stats", "--db", "/nonexistent/db"][..],
        &[
            "archive",
            "get",
            "0",
            "--db",
            "/nonexistent/db",
            "--user",
            "u",
            "--purpose",
            "xem lai",
        ],
        &["token", "objects", "pkcs11:token=no-such-token"],
    ] {
        let said = run_with(
            &s,
            args,
            std::process::Stdio::null(),
            std::process::Stdio::piped(),
        );
        assert!(![0, 101].contains(&said.code), "{args:?}: {}", said.stderr);
        let unsaid = run_with(&s, args, std::process::Stdio::null(), closed_pipe());
        assert_eq!(unsaid.code, said.code, "{args:?}: {}", said.stderr);
    }
    // A mistyped --db is no archive: said so (exit 3), and nothing is created there.
    let typo = s.demo.path().join("archiv");
    for args in [
        &["stats", "--db", "@typo"][..],
        &[
            "archive",
            "find",
            "--db",
            "@typo",
            "--code",
            "001099012345.KS_KETHON",
        ],
        &["audit", "verify", "--db", "@typo", "--log-key", log_pem],
        &["log", "prove", "--db", "@typo", "--leaf", "0"],
    ] {
        let args: Vec<&str> = args
            .iter()
            .map(|a| {
                if *a == "@typo" {
                    typo.to_str().unwrap()
                } else {
                    a
                }
            })
            .chain(if args[0] == "archive" {
                reader.to_vec()
            } else {
                vec![]
            })
            .collect();
        let r = run_with_stdout(&s, &args, std::process::Stdio::piped());
        assert_eq!(r.code, 3, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("no archive at"), "{args:?}: {}", r.stderr);
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
}

/// Every file and folder kyso writes — the archive (its write-ahead log holds the documents),
/// a backup of it, a signed document — is its user's alone, whatever umask kyso was started
/// with (under umask 022 a backup's tables were readable by every local user; found by an
/// attacker's reading, 2026-12-02).
#[test]
fn what_kyso_writes_is_its_users_alone_whatever_the_umask() {
    let s = Setup::new();
    let a = s.signed("gp.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.GP", &a, &[]).code, 0);
    let backup = s.demo.path().join("backup");
    // The same commands, started by a shell whose umask lets everyone read.
    let with_umask = |args: &[&str]| -> Run {
        let kyso = s.demo.cmd();
        let mut c = std::process::Command::new("sh");
        c.stdin(std::process::Stdio::null())
            .arg("-c")
            .arg("umask 022; exec \"$0\" \"$@\"")
            .arg(kyso.get_program())
            .args(args);
        for (k, v) in kyso.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.output().unwrap().into()
    };
    let r = with_umask(&[
        "backup",
        "--db",
        s.db.to_str().unwrap(),
        "--to",
        backup.to_str().unwrap(),
        "--user",
        "quantri",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = s.demo.path().join("cv.pdf");
    std::fs::copy(fixture("giay-phep.pdf"), &f).unwrap();
    let pin = s.demo.path().join("user.pin");
    let r = with_umask(&[
        "sign",
        "--key",
        RSA_KEY,
        "--pin-file",
        pin.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut open = Vec::new();
    let mut walk = vec![s.db.clone(), backup, s.demo.path().join("cv.signed.pdf")];
    while let Some(p) = walk.pop() {
        let m = std::fs::metadata(&p).unwrap();
        if std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o077 != 0 {
            open.push(p.display().to_string());
        }
        if m.is_dir() {
            walk.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(open.is_empty(), "readable or writable by others: {open:?}");
}

/// The state file names nothing its own signature does not, and a checkpoint key the archive
/// would refuse stores nothing: an insider who can write only the state file chose the origin
/// and the key name the next checkpoint was signed under (overwriting the stored one, `audit`
/// clean); with the state file deleted, the CLI asked for `--origin` as if for the first
/// checkpoint and signed under a new one; `archive put` stored its record and then refused the
/// checkpoint in eleven ways; a FIFO there held the command for good (an insider's reading,
/// 2026-12-04).
#[test]
fn the_state_file_names_only_what_the_log_key_signed_and_a_refused_checkpoint_stores_nothing() {
    use kyso_archive::Archive;
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let (pin, state) = (s.demo.pin_file(), s.state());
    let key_flags = |key: &'static str| -> Vec<String> {
        vec![
            "--checkpoint-key".into(),
            key.into(),
            "--checkpoint-state".into(),
            state.display().to_string(),
            "--pin-file".into(),
            pin.display().to_string(),
        ]
    };
    let put = |code: &str, key: &'static str, extra: &[&str]| -> Run {
        let mut v = key_flags(key);
        v.extend(extra.iter().map(|e| e.to_string()));
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        s.put(code, &a, &v)
    };
    let checkpoint_by = |key: &'static str, extra: &[&str]| -> Run {
        let mut v = vec!["log".to_string(), "checkpoint".into()];
        v.extend(key_flags(key));
        v.extend(extra.iter().map(|e| e.to_string()));
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        s.kyso(&v)
    };
    let checkpoint = |extra: &[&str]| checkpoint_by(LOG_KEY, extra);
    let entries = || Archive::open_existing(&s.db).unwrap().size();
    let stored = || {
        let a = Archive::open_existing(&s.db).unwrap();
        let all = a.checkpoints().unwrap();
        // The service's start reads only the newest (one key from the end).
        assert_eq!(a.last_checkpoint().unwrap(), all.last().cloned());
        all
    };
    let r = put("001099012345.R0", LOG_KEY, &["--origin", ORIGIN]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let genuine = std::fs::read_to_string(&state).unwrap();
    let (n, before) = (entries(), stored());
    let (size, root) = {
        let mut l = genuine.lines();
        l.next();
        (l.next().unwrap().to_string(), l.next().unwrap().to_string())
    };

    // An unsigned note of another log: refused, whatever the command; nothing stored, the
    // stored checkpoint kept.
    std::fs::write(&state, format!("evil.example/log\n{size}\n{root}\n\n")).unwrap();
    let r = checkpoint(&[]);
    assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("evil.example/log"), "{}", r.stderr);
    let r = put("001099012345.R1", LOG_KEY, &[]);
    assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
    assert_eq!((entries(), stored()), (n, before.clone()));

    // The state file as given (None: none), and what the refusal of a checkpoint must say.
    let refused = |content: Option<String>, says: &str| {
        match content {
            Some(c) => std::fs::write(&state, c).unwrap(),
            None => std::fs::remove_file(&state).unwrap(),
        }
        let r = checkpoint(&[]);
        assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(says), "{}", r.stderr);
    };
    // Cut short: refused, saying how to mend it (it said nothing of that before).
    refused(
        Some(format!("{ORIGIN}\n{size}\n")),
        "then write `kyso: write anew from the database` in it",
    );
    // Emptied (a copy that failed on a full disk leaves it so): refused as well, not read as
    // the word to write it anew (the log key then signed a restored older database).
    refused(Some(String::new()), "write anew from the database");
    // Deleted (a mount that failed): refused once the archive has signed, the file being
    // what catches a database put back from an older copy (written anew, unsaid, before).
    refused(
        None,
        "is missing or empty, but this archive has signed checkpoints",
    );
    let r = put("001099012345.R1", LOG_KEY, &[]);
    assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
    assert_eq!((entries(), stored()), (n, before.clone()));
    assert!(!state.exists());
    // The operator's word: the log's names come from the last checkpoint the key signed in
    // the database; a new origin is refused, not taken as the first checkpoint's.
    std::fs::write(&state, "kyso: write anew from the database\n").unwrap();
    let r = checkpoint(&["--origin", "new.example/log"]);
    assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("a log keeps its name"), "{}", r.stderr);
    let r = checkpoint(&["--key-name", "other.name"]);
    assert_eq!(r.code, 22, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(stored(), before);
    let r = checkpoint(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, genuine);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), genuine);

    // A signature line planted before the genuine one names no key: the next checkpoint is
    // signed under the name the log key signed with.
    let planted = genuine.replacen("\n\n", "\n\n\u{2014} impostor.example/key AAAAAAA=\n", 1);
    std::fs::write(&state, &planted).unwrap();
    let r = put("001099012345.R2", LOG_KEY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let note = r.json()["checkpoint"].as_str().unwrap().to_string();
    assert!(note.contains(&format!("\u{2014} {ORIGIN} ")), "{note}");
    assert!(!note.contains("impostor"), "{note}");
    let (n, before) = (entries(), stored());

    // Refused before the record: an RSA key, a key name a note cannot carry, a state file of a
    // log longer than this one, a FIFO (which must not hold the command).
    let r = put("001099012345.R3", RSA_KEY, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not signed by this key"),
        "{}",
        r.stderr
    );
    let r = put("001099012345.R3", RSA_KEY, &["--origin", ORIGIN]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("needs --key-name"), "{}", r.stderr);
    let r = put(
        "001099012345.R3",
        RSA_KEY,
        &["--origin", ORIGIN, "--key-name", "rsa.example"],
    );
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(r.stderr.contains("ECDSA P-256"), "{}", r.stderr);
    let r = put("001099012345.R3", LOG_KEY, &["--key-name", "a+b"]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    let good = std::fs::read_to_string(&state).unwrap();
    std::fs::write(&state, format!("{ORIGIN}\n1000000\n{root}\n\n")).unwrap();
    let r = put("001099012345.R3", LOG_KEY, &[]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(r.stderr.contains("the log went backwards"), "{}", r.stderr);
    assert!(
        r.stderr.contains("docs/operations.md, \"Restore\""),
        "what to do next is said: {}",
        r.stderr
    );
    assert_eq!((entries(), stored()), (n, before.clone()));
    std::fs::remove_file(&state).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&state)
        .status()
        .unwrap();
    assert!(made.success());
    let mut v = vec!["archive", "put", "--db", s.db.to_str().unwrap()];
    v.extend(["--code", "001099012345.R3", "--user", "canbo.motcua"]);
    let ca = s.demo.ca_pem();
    v.extend(["--trust", ca.to_str().unwrap()]);
    let flags = key_flags(LOG_KEY);
    v.extend(flags.iter().map(String::as_str));
    let mut child = s
        .demo
        .cmd()
        .args(&v)
        .arg(&a)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a FIFO as the state file held archive put for 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(22), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!((entries(), stored()), (n, before));
    std::fs::remove_file(&state).unwrap();
    std::fs::write(&state, &good).unwrap();
    assert_eq!(audit_clean(&s.demo, &s.db).code, 0);

    // The state file's temporary file is a new one: through a symlink at the name it had, the
    // appliance wrote the note over the file it named.
    let victim = s.demo.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, s.demo.path().join(".checkpoint-state.tmp")).unwrap();
    let r = put("001099012345.R3", LOG_KEY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&state)
        .unwrap()
        .file_type()
        .is_file());

    // A new log key keeps the log's name: another origin is refused; the same checkpoint is
    // co-signed, the earlier key's signature kept (replaced, it was gone for good).
    let rotate = |extra: &[&str]| checkpoint_by(EC_KEY, extra);
    let r = rotate(&["--origin", "evil.example/log", "--key-name", "evil"]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(r.stderr.contains("a log keeps its name"), "{}", r.stderr);
    let r = rotate(&["--origin", ORIGIN, "--key-name", "kyso.demo/archive-2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = signature_lines(&r.stdout);
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(
        lines[0].starts_with(&format!("\u{2014} {ORIGIN} ")),
        "{}",
        r.stdout
    );
    assert!(
        lines[1].starts_with("\u{2014} kyso.demo/archive-2 "),
        "{}",
        r.stdout
    );
    assert_eq!(audit_clean(&s.demo, &s.db).code, 0);
    // A second rotation while the log still did not grow: every earlier key's signature is
    // kept, not the first found (the first key's was dropped, and the audit with that key
    // alone failed the honest archive: no given key verified the newest checkpoint).
    // (A third P-256 key: made by OpenSSL with its certificate, imported by softhsm2-util.)
    let (k3, c3) = (
        s.demo.path().join("log3.key"),
        s.demo.path().join("log3.pem"),
    );
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "30", "-subj", "/CN=log3"])
        .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        .arg("-keyout")
        .arg(&k3)
        .arg("-out")
        .arg(&c3)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    s.demo.import_key("log3", "0c0d", &k3, &c3);
    let r = checkpoint_by(
        "pkcs11:token=kyso-dev;object=log3",
        &["--origin", ORIGIN, "--key-name", "kyso.demo/archive-3"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = signature_lines(&r.stdout);
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for name in [ORIGIN, "kyso.demo/archive-2", "kyso.demo/archive-3"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("\u{2014} {name} "))),
            "{name}: {}",
            r.stdout
        );
    }
    assert_eq!(audit_clean(&s.demo, &s.db).code, 0);
    // Lines added to the stored note by whoever can write the database (101 copies of a
    // line that verifies, a name with a tab under a key ID no key has) are not signed out
    // again: at the same size, the note given (and written to a state file) carries each
    // key's line once. As stored, it went out whole, a note standard verifiers refuse. The
    // stored one is the audit's to name.
    let three = r.stdout.clone();
    let size_now = entries();
    assert_eq!(stored().last(), Some(&(size_now, three.clone())));
    tamper(&s.db, |d| {
        use base64::Engine as _;
        let line = format!("{}\n", signature_lines(&three)[1]);
        let junk = format!(
            "{three}{}\u{2014} evil\tname {}\n",
            line.repeat(101),
            base64::engine::general_purpose::STANDARD.encode([7u8; 40])
        );
        d.put_cf(cf(d, "checkpoints"), size_now.to_be_bytes(), junk)
            .unwrap();
    });
    let r = checkpoint_by("pkcs11:token=kyso-dev;object=log3", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, three);
    let audit: Run = s
        .demo
        .cmd()
        .args(["audit", "verify", "--json", "--log-key"])
        .arg(s.log_pem())
        .arg("--db")
        .arg(&s.db)
        .output()
        .unwrap()
        .into();
    assert_ne!(audit.code, 0, "{}", audit.stdout);
    assert!(
        audit
            .stderr
            .contains("standard verifiers refuse more than 100"),
        "{}",
        audit.stderr
    );
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "checkpoints"), size_now.to_be_bytes(), &three)
            .unwrap();
    });
    assert_eq!(audit_clean(&s.demo, &s.db).code, 0);
    // Later checkpoints by the new key need no flags.
    let r = put("001099012345.R4", EC_KEY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let note = r.json()["checkpoint"].as_str().unwrap().to_string();
    assert!(note.contains("\u{2014} kyso.demo/archive-2 "), "{note}");
    // The earlier key back under another name: refused (it signed, and the audit then failed
    // the honest archive as changed).
    let r = put(
        "001099012345.R5",
        LOG_KEY,
        &["--origin", ORIGIN, "--key-name", "logkey2"],
    );
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(r.stderr.contains("a key keeps its name"), "{}", r.stderr);

    // This state file beside a database that is not there: refused before one is created.
    let elsewhere = s.demo.path().join("elsewhere");
    let ca = s.demo.ca_pem();
    let mut v = vec!["archive", "put", "--db", elsewhere.to_str().unwrap()];
    v.extend(["--code", "001099012345.R5", "--user", "canbo.motcua"]);
    v.extend(["--trust", ca.to_str().unwrap()]);
    let flags = key_flags(EC_KEY);
    v.extend(flags.iter().map(String::as_str));
    let r: Run = s.demo.cmd().args(&v).arg(&a).output().unwrap().into();
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(r.stderr.contains("is new, but"), "{}", r.stderr);
    // Not "move it aside": with no database to write it from, that signed a second history
    // under the same name.
    assert!(!r.stderr.contains("aside"), "{}", r.stderr);
    assert!(!elsewhere.exists());

    // A state file where none can be written (in /proc here; a file system read-only or
    // full): refused before the database is made, not after the record.
    let mut v = vec!["archive", "put", "--db", elsewhere.to_str().unwrap()];
    v.extend(["--code", "001099012345.R5", "--user", "canbo.motcua"]);
    v.extend([
        "--trust",
        ca.to_str().unwrap(),
        "--origin",
        "kyso.demo/other",
    ]);
    v.extend([
        "--checkpoint-key",
        LOG_KEY,
        "--pin-file",
        pin.to_str().unwrap(),
    ]);
    v.extend(["--checkpoint-state", "/proc/kyso-checkpoint-state"]);
    let r: Run = s.demo.cmd().args(&v).arg(&a).output().unwrap().into();
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(r.stderr.contains("cannot be written"), "{}", r.stderr);
    assert!(!elsewhere.exists());

    // An empty state file before the archive's first checkpoint (an installer's `touch`): none
    // yet, not a refusal.
    let fresh = s.demo.path().join("fresh.state");
    std::fs::write(&fresh, "").unwrap();
    let mut v = vec!["archive", "put", "--db", elsewhere.to_str().unwrap()];
    v.extend(["--code", "001099012345.R5", "--user", "canbo.motcua"]);
    v.extend([
        "--trust",
        ca.to_str().unwrap(),
        "--origin",
        "kyso.demo/fresh",
    ]);
    v.extend([
        "--checkpoint-key",
        LOG_KEY,
        "--pin-file",
        pin.to_str().unwrap(),
    ]);
    v.extend(["--checkpoint-state", fresh.to_str().unwrap()]);
    let r: Run = s.demo.cmd().args(&v).arg(&a).output().unwrap().into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::read_to_string(&fresh)
        .unwrap()
        .starts_with("kyso.demo/fresh\n"));
}

/// A key and a note planted in the database, or a key's name changed on the stored note (the
/// signature does not cover it), do not name the log: the state file and the database must
/// agree, and a refusal then points to the audit, not to moving the state file aside (which,
/// advised, let an insider's note name the log the real key signed next; an insider's
/// reading, 2026-12-04). A co-signed rotation copies one line of the earlier key, however
/// many the stored note has.
#[test]
fn a_key_planted_in_the_database_does_not_rename_the_log() {
    use base64::Engine;
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    let (pin, state) = (s.demo.pin_file(), s.state());
    let by = |key: &str, code: Option<&str>, extra: &[&str]| -> Run {
        let mut v: Vec<String> = match code {
            Some(_) => vec![],
            None => vec!["log".into(), "checkpoint".into()],
        };
        v.extend(
            [
                "--checkpoint-key",
                key,
                "--checkpoint-state",
                state.to_str().unwrap(),
                "--pin-file",
                pin.to_str().unwrap(),
            ]
            .map(String::from),
        );
        v.extend(extra.iter().map(|e| e.to_string()));
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        match code {
            Some(c) => s.put(c, &a, &v),
            None => s.kyso(&v),
        }
    };
    let r = by(LOG_KEY, Some("001099012345.R0"), &["--origin", ORIGIN]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let genuine = std::fs::read_to_string(&state).unwrap();
    let n: u64 = genuine.lines().nth(1).unwrap().parse().unwrap();
    let root = genuine.lines().nth(2).unwrap().to_string();
    let stored_note = |d: &rocksdb::DB| -> String {
        String::from_utf8(
            d.get_cf(cf(d, "checkpoints"), n.to_be_bytes())
                .unwrap()
                .unwrap(),
        )
        .unwrap()
    };

    // The key's name changed on the stored note.
    tamper(&s.db, |d| {
        let renamed = stored_note(d).replace(
            &format!("\u{2014} {ORIGIN} "),
            "\u{2014} attacker.example/renamed ",
        );
        d.put_cf(cf(d, "checkpoints"), n.to_be_bytes(), renamed)
            .unwrap();
    });
    let r = by(LOG_KEY, None, &[]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(r.stderr.contains("one of them was changed"), "{}", r.stderr);
    // The audit the refusal points to names the change (it passed on the build before: the
    // name is under no signature, and each note verified).
    let pem = s.log_pem();
    let audit = |outside: &Path| {
        s.kyso(&[
            "audit",
            "verify",
            "--log-key",
            pem.to_str().unwrap(),
            "--checkpoint",
            outside.to_str().unwrap(),
        ])
    };
    let r = audit(&state);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr.contains("names the log key")
            && r.stderr.contains(&format!(
                "{ORIGIN:?}, checkpoint {n} names it \"attacker.example/renamed\""
            )),
        "{}",
        r.stderr
    );
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "checkpoints"), n.to_be_bytes(), &genuine)
            .unwrap();
    });
    assert_eq!(audit(&state).code, 0);

    // A key of the insider's recorded, and its note of another log at the last signed size.
    let (k, spki) = insider_key();
    let planted = insider_note(&format!("evil.example/log\n{n}\n{root}\n"), &k, &spki);
    tamper(&s.db, |d| {
        let id = hex::encode(&Sha256::digest(&spki)[..4]);
        d.put_cf(cf(d, "meta"), format!("checkpoint_key:x:{id}"), &spki)
            .unwrap();
        d.put_cf(cf(d, "checkpoints"), n.to_be_bytes(), &planted)
            .unwrap();
    });
    for extra in [
        &[][..],
        &["--origin", "evil.example/log", "--key-name", ORIGIN][..],
    ] {
        let r = by(LOG_KEY, None, extra);
        assert_eq!(r.code, 22, "{extra:?}: {}", r.stderr);
        assert!(r.stderr.contains("one of them was changed"), "{}", r.stderr);
        assert!(!r.stderr.contains("move it aside"), "{}", r.stderr);
    }
    let r = by(LOG_KEY, Some("001099012345.R1"), &[]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), genuine);
    // The audit names the planted note.
    assert_ne!(s.audit().code, 0);
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "checkpoints"), n.to_be_bytes(), &genuine)
            .unwrap();
    });
    // `audit verify` fails, naming `says`.
    let audit_names = |says: &str| {
        let r = s.audit();
        assert_ne!(r.code, 0, "{says}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{says}: {}", r.stderr);
    };
    // The insider's key record stays behind the note put back: no checkpoint it signed is
    // stored, and the audit names the record (it passed on the build before).
    let insider_id = hex::encode(&Sha256::digest(&spki)[..4]);
    audit_names(&format!(
        "records the log key {insider_id} as \"x\", but no stored checkpoint"
    ));
    tamper(&s.db, |d| {
        d.delete_cf(cf(d, "meta"), format!("checkpoint_key:x:{insider_id}"))
            .unwrap()
    });
    assert_eq!(s.audit().code, 0);
    // The log key recorded under a name of the insider's as well, one that sorts first: the
    // checkpointer takes it as the name the key must keep and refuses to sign; the audit
    // names the record, and with it gone both go on.
    let log_id = {
        let d = rocksdb::DB::open_cf_for_read_only(
            &rocksdb::Options::default(),
            &s.db,
            rocksdb::DB::list_cf(&rocksdb::Options::default(), &s.db).unwrap(),
            false,
        )
        .unwrap();
        let prefix = format!("checkpoint_key:{ORIGIN}:");
        let (k, v) = d
            .prefix_iterator_cf(cf(&d, "meta"), prefix.as_bytes())
            .map(Result::unwrap)
            .next()
            .unwrap();
        let id = String::from_utf8(k[prefix.len()..].to_vec()).unwrap();
        assert_eq!(id, hex::encode(&Sha256::digest(&v)[..4]));
        (id, v.to_vec())
    };
    let planted_name = format!("checkpoint_key:a.example/planted:{}", log_id.0);
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "meta"), &planted_name, &log_id.1).unwrap()
    });
    let r = by(LOG_KEY, None, &[]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(
        r.stderr.contains("signed here as \"a.example/planted\""),
        "{}",
        r.stderr
    );
    audit_names(&format!(
        "records the log key {} as \"a.example/planted\", but its checkpoints name it {ORIGIN:?}",
        log_id.0
    ));
    tamper(&s.db, |d| {
        d.delete_cf(cf(d, "meta"), &planted_name).unwrap()
    });
    assert_eq!(s.audit().code, 0);
    assert_eq!(by(LOG_KEY, None, &[]).code, 0);
    // The log key's own record made to hold the insider's key: the signer refuses every
    // checkpoint, and the audit names the record (read whole as a name, it passed beside a
    // note line of the insider's key under that whole string).
    let genuine_record = format!("checkpoint_key:{ORIGIN}:{}", log_id.0);
    let body = format!("{}\n", genuine.split("\n\n").next().unwrap());
    let line = insider_note(&body, &k, &spki)
        .lines()
        .last()
        .unwrap()
        .replace(
            "\u{2014} kyso.demo/archive ",
            &format!("\u{2014} {ORIGIN}:{} ", log_id.0),
        );
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "meta"), &genuine_record, &spki).unwrap();
        d.put_cf(
            cf(d, "checkpoints"),
            n.to_be_bytes(),
            format!("{genuine}{line}\n"),
        )
        .unwrap();
    });
    let r = by(LOG_KEY, Some("001099012345.R2"), &[]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    assert!(
        r.stderr.contains("another key with the same key ID"),
        "{}",
        r.stderr
    );
    audit_names(&format!(
        "records under the log key {}'s name {ORIGIN:?} and key ID another key (ID {insider_id})",
        log_id.0
    ));
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "meta"), &genuine_record, &log_id.1).unwrap();
        d.put_cf(cf(d, "checkpoints"), n.to_be_bytes(), &genuine)
            .unwrap();
    });
    assert_eq!(s.audit().code, 0);
    // The log key's record deleted: the next rotation at this size would have replaced its
    // note rather than co-signed it; the audit names the deletion.
    tamper(&s.db, |d| {
        d.delete_cf(cf(d, "meta"), &genuine_record).unwrap()
    });
    audit_names(&format!(
        "the log key {} signed checkpoints here, but the database records no such key",
        log_id.0
    ));
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "meta"), &genuine_record, &log_id.1).unwrap()
    });
    assert_eq!(s.audit().code, 0);
    // Lines added to the genuine note that standard verifiers (golang.org/x/mod/sumdb/note)
    // refuse the whole note for — past 100 signatures, or a name with a control character —
    // went out with it, and the audit passed (helper 114): now each is named.
    let insider_line = |name: &str| {
        insider_note(&body, &k, &spki)
            .lines()
            .last()
            .unwrap()
            .replace("\u{2014} kyso.demo/archive ", &format!("\u{2014} {name} "))
    };
    let many: String = (0..101)
        .map(|i| insider_line(&format!("a{i}")) + "\n")
        .collect();
    for (junk, says) in [
        (many, "carries 102 signatures"),
        (
            insider_line("a\u{1}") + "\n",
            "carries a line no kyso signs",
        ),
    ] {
        tamper(&s.db, |d| {
            d.put_cf(
                cf(d, "checkpoints"),
                n.to_be_bytes(),
                format!("{genuine}{junk}"),
            )
            .unwrap();
        });
        audit_names(says);
    }
    tamper(&s.db, |d| {
        d.put_cf(cf(d, "checkpoints"), n.to_be_bytes(), &genuine)
            .unwrap();
    });
    assert_eq!(s.audit().code, 0);

    // The stored note with the log key's line three times: a rotation co-signs with one.
    tamper(&s.db, |d| {
        let line = genuine.split("\n\n").nth(1).unwrap().to_string();
        let tripled = format!(
            "{}\n\n{line}{line}{line}",
            genuine.split("\n\n").next().unwrap()
        );
        d.put_cf(cf(d, "checkpoints"), n.to_be_bytes(), tripled)
            .unwrap();
    });
    let r = by(
        EC_KEY,
        None,
        &["--origin", ORIGIN, "--key-name", "kyso.demo/archive-2"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = signature_lines(&r.stdout);
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    let b64 = base64::engine::general_purpose::STANDARD;
    let ids: Vec<Vec<u8>> = lines
        .iter()
        .map(|l| b64.decode(l.rsplit(' ').next().unwrap()).unwrap()[..4].to_vec())
        .collect();
    assert_ne!(ids[0], ids[1]);
}

/// An insider's files in the database directory: a write-ahead log replaced by a FIFO, or by a
/// link to /dev/zero. RocksDB, opening the database, waited on the FIFO for good and read the
/// link without end; every command now refuses the directory at once, naming the file
/// (helper 191).
#[test]
fn a_fifo_or_a_link_among_the_databases_files_is_refused_not_waited_on() {
    let s = Setup::new();
    let a = s.signed("a.pdf", "giay-phep.pdf");
    assert_eq!(s.put("001099012345.A", &a, &[]).code, 0);
    let wal = std::fs::read_dir(&s.db)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .expect("a write-ahead log");
    for planted in ["fifo", "link"] {
        std::fs::remove_file(&wal).unwrap();
        match planted {
            "fifo" => assert!(std::process::Command::new("mkfifo")
                .arg(&wal)
                .status()
                .unwrap()
                .success()),
            _ => std::os::unix::fs::symlink("/dev/zero", &wal).unwrap(),
        }
        for r in [
            s.audit(),
            s.read(&["archive", "get", "0"]),
            s.kyso(&[
                "archive",
                "status",
                "0",
                "--revoke",
                "x",
                "--user",
                "lanhdao.hk",
            ]),
        ] {
            assert_eq!(r.code, 20, "{planted}: {}{}", r.stdout, r.stderr);
            assert!(
                r.stderr.contains("is not a plain file"),
                "{planted}: {}",
                r.stderr
            );
        }
    }
}
