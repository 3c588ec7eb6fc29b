//! Tokens as CAs and vendor tools issue them: a private key imported from PKCS#8/PKCS#12 and
//! its certificate, and *no* public key object. Made here the way an administrator would:
//! `softhsm2-util --import` of a PKCS#8 key, `pkcs11-tool --write-object` of the certificate,
//! then the public key object `softhsm2-util` made is deleted. kyso takes the public key from
//! the certificate, for signing and for the archive's checkpoints.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const SO_PIN: &str = "12345678";
const USER_PIN: &str = "87654321";
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A SoftHSM2 token of its own, initialized by softhsm2-util.
struct Imported {
    dir: tempfile::TempDir,
}

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PEM certificate file written again as DER, by OpenSSL.
fn pem_to_der(pem: &std::path::Path, der: &std::path::Path) {
    run(Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(pem)
        .arg("-out")
        .arg(der));
}

impl Imported {
    fn new() -> Imported {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tokens")).unwrap();
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path().join("tokens").display()
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("user.pin"), USER_PIN).unwrap();
        let t = Imported { dir };
        run(t.tool("softhsm2-util").args([
            "--init-token",
            "--free",
            "--label",
            "imported",
            "--so-pin",
            SO_PIN,
            "--pin",
            USER_PIN,
        ]));
        t
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn tool(&self, name: &str) -> Command {
        let mut c = Command::new(name);
        c.env("SOFTHSM2_CONF", self.path().join("softhsm2.conf"));
        c
    }

    fn pkcs11_tool(&self, args: &[&str]) -> String {
        run(self
            .tool("pkcs11-tool")
            .args([
                "--module",
                MODULE,
                "--token-label",
                "imported",
                "--login",
                "--pin",
                USER_PIN,
            ])
            .args(args))
    }

    /// A key made outside the token (as a CA hands it over, PKCS#8) with a self-signed
    /// certificate, imported under `label` and `id`; the public key object removed. Returns
    /// the certificate (PEM).
    fn import(&self, label: &str, id: &str, newkey: &[&str]) -> PathBuf {
        let (key, cert, der) = (
            self.path().join(format!("{label}.key")),
            self.path().join(format!("{label}.pem")),
            self.path().join(format!("{label}.der")),
        );
        run(Command::new("openssl")
            .args(["req", "-x509", "-nodes", "-days", "30", "-subj"])
            .arg(format!("/CN={label}/O=So Tu phap/C=VN"))
            // A signer's certificate, not a CA's (OpenSSL's default for -x509).
            .args([
                "-addext",
                "basicConstraints=critical,CA:FALSE",
                "-addext",
                "keyUsage=critical,digitalSignature,nonRepudiation",
            ])
            .args(newkey)
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert));
        assert!(
            std::fs::read_to_string(&key)
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----"),
            "PKCS#8"
        );
        self.put(label, id, &key, &cert, &der);
        cert
    }

    /// The PKCS#8 `key` and its certificate `cert` (PEM; written as DER to `der`) onto the
    /// token under `label` and `id`, the public key object removed.
    fn put(&self, label: &str, id: &str, key: &Path, cert: &Path, der: &Path) {
        pem_to_der(cert, der);
        run(self.tool("softhsm2-util").arg("--import").arg(key).args([
            "--token", "imported", "--label", label, "--id", id, "--pin", USER_PIN,
        ]));
        self.pkcs11_tool(&[
            "--write-object",
            der.to_str().unwrap(),
            "--type",
            "cert",
            "--id",
            id,
            "--label",
            label,
        ]);
        self.pkcs11_tool(&["--delete-object", "--type", "pubkey", "--id", id]);
    }

    /// `pkcs11-tool` with no login: what anyone who can open a session on the token may do.
    /// Certificates are public objects; PKCS#11 lets such a session create them.
    fn write_public_cert(&self, der: &Path, label: &str, id: &str) {
        run(self.tool("pkcs11-tool").args([
            "--module",
            MODULE,
            "--token-label",
            "imported",
            "--write-object",
            der.to_str().unwrap(),
            "--type",
            "cert",
            "--label",
            label,
            "--id",
            id,
        ]));
    }

    /// A self-signed certificate by OpenSSL with a 24-byte serial, as older CAs issued: OpenSSL
    /// reads it (pkcs11-tool checks that much), and kyso's X.509 reader refuses it, past RFC
    /// 5280's 20 bytes. As DER.
    fn long_serial_certificate(&self, file: &str, cn: &str) -> PathBuf {
        let (pem, der) = (
            self.path().join(format!("{file}.pem")),
            self.path().join(format!("{file}.der")),
        );
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes"])
            .args(["-keyout", "/dev/null", "-days", "3650", "-subj"])
            .arg(format!("/CN={cn}"))
            .args(["-set_serial", &format!("0x{}", "7f".repeat(24)), "-out"])
            .arg(&pem));
        pem_to_der(&pem, &der);
        der
    }

    /// A certificate of the key `label` (its PKCS#8 file from [`Imported::import`]) by
    /// OpenSSL, `days` long from now (negative: expired), as DER.
    fn another_certificate(&self, label: &str, cn: &str, days: &str) -> PathBuf {
        let (csr, pem, der) = (
            self.path().join(format!("{cn}.csr")),
            self.path().join(format!("{cn}.pem")),
            self.path().join(format!("{cn}.der")),
        );
        let key = self.path().join(format!("{label}.key"));
        run(Command::new("openssl")
            .args(["req", "-new", "-subj"])
            .arg(format!("/CN={cn}/O=So Tu phap/C=VN"))
            .arg("-key")
            .arg(&key)
            .arg("-out")
            .arg(&csr));
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", days, "-in"])
            .arg(&csr)
            .arg("-signkey")
            .arg(&key)
            .arg("-out")
            .arg(&pem));
        pem_to_der(&pem, &der);
        der
    }

    /// `kyso` against this token.
    fn kyso(&self, args: &[&str]) -> Run {
        kyso_cmd()
            .env("SOFTHSM2_CONF", self.path().join("softhsm2.conf"))
            .args(args)
            .output()
            .unwrap()
            .into()
    }

    fn pin_file(&self) -> String {
        self.path().join("user.pin").display().to_string()
    }
}

#[test]
fn keys_imported_with_only_a_certificate_sign_rsa_and_ecdsa() {
    let t = Imported::new();
    let rsa = t.import("rsa-imported", "0a", &["-newkey", "rsa:2048"]);
    let ec = t.import(
        "ec-imported",
        "0b",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    // The token holds private keys and certificates, and no public key object.
    let r = t.kyso(&[
        "token",
        "objects",
        "pkcs11:token=imported",
        "--pin-file",
        &t.pin_file(),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let types: Vec<String> = r.json()["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types.iter().filter(|t| *t == "private").count(),
        2,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| *t == "cert").count(),
        2,
        "{types:?}"
    );
    assert!(!types.iter().any(|t| t == "public"), "{types:?}");

    let msg = t.path().join("to-sign.txt");
    std::fs::write(&msg, "Quyết định số 12/QĐ-UBND").unwrap();
    for (label, cert) in [("rsa-imported", &rsa), ("ec-imported", &ec)] {
        // A digest signed with the key; OpenSSL checks it with the certificate's public key.
        let sig = t.path().join(format!("{label}.sig"));
        let r = t.kyso(&[
            "token",
            "sign-digest",
            "--key",
            &format!("pkcs11:token=imported;object={label}"),
            "--pin-file",
            &t.pin_file(),
            "--input",
            msg.to_str().unwrap(),
            "--out",
            sig.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{label}: {}", r.stderr);
        let pubkey = t.path().join(format!("{label}.pub"));
        run(Command::new("openssl")
            .args(["x509", "-pubkey", "-noout", "-in"])
            .arg(cert)
            .arg("-out")
            .arg(&pubkey));
        let v = openssl(&[
            "dgst",
            "-sha256",
            "-verify",
            pubkey.to_str().unwrap(),
            "-signature",
            sig.to_str().unwrap(),
            msg.to_str().unwrap(),
        ]);
        assert_eq!(v.code, 0, "{label}: {}{}", v.stdout, v.stderr);
        // And a CAdES signature over the file, which OpenSSL verifies against the certificate.
        let r = t.kyso(&[
            "sign",
            "--key",
            &format!("pkcs11:token=imported;object={label}"),
            "--format",
            "cades",
            "--pin-file",
            &t.pin_file(),
            "--overwrite",
            msg.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{label}: {}", r.stderr);
        let p7s = t.path().join("to-sign.txt.p7s");
        let v = openssl(&[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            p7s.to_str().unwrap(),
            "-content",
            msg.to_str().unwrap(),
            "-CAfile",
            cert.to_str().unwrap(),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ]);
        assert_eq!(v.code, 0, "{label}: {}", v.stderr);
    }
}

#[test]
fn an_imported_ec_key_without_a_public_key_object_signs_the_archives_checkpoints() {
    let t = Imported::new();
    let cert = t.import(
        "log-imported",
        "0c",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let db = t.path().join("archive");
    let r = t.kyso(&[
        "archive",
        "stress",
        "--count",
        "5",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = "pkcs11:token=imported;object=log-imported";
    let state = t.path().join("checkpoint-state");
    let r = t.kyso(&[
        "log",
        "checkpoint",
        "--db",
        db.to_str().unwrap(),
        "--checkpoint-key",
        key,
        "--checkpoint-state",
        state.to_str().unwrap(),
        "--origin",
        "kyso.demo/archive",
        "--pin-file",
        &t.pin_file(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("kyso.demo/archive\n5\n"),
        "{}",
        r.stdout
    );
    // The auditor checks it with the certificate, or with the token's certificate by URI
    // (no PIN needed).
    for log_key in [cert.to_str().unwrap(), key] {
        let r = t.kyso(&[
            "audit",
            "verify",
            "--json",
            "--db",
            db.to_str().unwrap(),
            "--log-key",
            log_key,
        ]);
        assert_eq!(r.code, 0, "{log_key}: {}", r.stderr);
        assert_eq!(r.json()["checkpoints"], 1);
    }
    // A certificate kyso cannot read (OpenSSL's, with a 24-byte serial past RFC 5280's 20),
    // written under the log key's label with no PIN: it names no key and is passed over, as
    // when signing (it stopped the audit, 2026-12-05).
    let junk = t.long_serial_certificate("unreadable", "Unreadable");
    t.write_public_cert(&junk, "log-imported", "0f");
    let r = t.kyso(&[
        "audit",
        "verify",
        "--json",
        "--db",
        db.to_str().unwrap(),
        "--log-key",
        key,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Anyone who can open a session adds a certificate of another key under the log key's
    // label, no PIN asked: the URI then names two keys, and the audit refuses to guess
    // (it took the first, the attacker's by the token's order; an attacker's reading,
    // 2026-12-05). The key given as a file is not touched by it.
    let _ = t.import("other", "0d", &["-newkey", "rsa:2048"]);
    let forged = t.another_certificate("other", "forged-log", "30");
    t.write_public_cert(&forged, "log-imported", "0e");
    for (log_key, code) in [(key, 12), (cert.to_str().unwrap(), 0)] {
        let r = t.kyso(&[
            "audit",
            "verify",
            "--json",
            "--db",
            db.to_str().unwrap(),
            "--log-key",
            log_key,
        ]);
        assert_eq!(r.code, code, "{log_key}: {}", r.stderr);
        if code == 12 {
            assert!(r.stderr.contains("2 different public keys"), "{}", r.stderr);
        }
    }
}

/// What else lies on a token does not choose what signs (an attacker's reading, 2026-12-05),
/// each object put there by OpenSSL and OpenSC's pkcs11-tool, most with no login at all:
/// - a certificate object that is no certificate stopped every key on the token;
/// - of two certificates of the key under its CKA_ID, an expired one (a renewal's leftover)
///   signed five times in six; now the one valid now signs;
/// - a certificate of another key under the same CKA_ID made the right one "not this key's";
/// - a key whose only certificate has expired signed, and a 1024-bit RSA key signed: kyso's
///   own verifier refused both signatures;
/// - a key label with terminal escapes was printed as it was.
#[test]
fn stray_objects_on_a_token_do_not_choose_what_signs() {
    let t = Imported::new();
    let signer = t.import("signer", "0a", &["-newkey", "rsa:2048"]);
    let msg = t.path().join("to-sign.txt");
    std::fs::write(&msg, "Quyết định số 12/QĐ-UBND").unwrap();
    let sign = |key: &str| {
        t.kyso(&[
            "sign",
            "--key",
            &format!("pkcs11:token=imported;object={key}"),
            "--format",
            "cades",
            "--pin-file",
            &t.pin_file(),
            "--overwrite",
            msg.to_str().unwrap(),
        ])
    };
    let verified = || {
        t.kyso(&[
            "verify",
            msg.to_str().unwrap(),
            "--detached",
            t.path().join("to-sign.txt.p7s").to_str().unwrap(),
            "--trust",
            signer.to_str().unwrap(),
            "--offline",
            "--json",
        ])
        .json()["indication"]
            .clone()
    };
    let old_ca_der = t.long_serial_certificate("old-ca", "Old CA with a long serial");
    t.write_public_cert(&old_ca_der, "leftover", "99");
    let expired = t.another_certificate("signer", "signer-2025", "-1");
    t.write_public_cert(&expired, "signer", "0a");
    let _ = t.import("other", "0b", &["-newkey", "rsa:2048"]);
    let foreign = t.another_certificate("other", "someone-else", "30");
    t.write_public_cert(&foreign, "signer", "0a");
    for _ in 0..3 {
        let r = sign("signer");
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(verified(), "TOTAL-PASSED");
    }
    // A second certificate of the key valid now, the official's own subject, from another CA,
    // written without the PIN: which one signs is no guess to make, so neither does (taken as
    // "the newest", it signed: a reviewer's reading of the fix, 2026-12-05).
    let (atk_key, atk, csr, forged) = (
        t.path().join("atk.key"),
        t.path().join("atk.pem"),
        t.path().join("signer-again.csr"),
        t.path().join("signer-again.pem"),
    );
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/CN=Attacker CA"])
        .arg("-keyout")
        .arg(&atk_key)
        .arg("-out")
        .arg(&atk));
    run(Command::new("openssl")
        .args([
            "req",
            "-new",
            "-subj",
            "/CN=signer/O=So Tu phap/C=VN",
            "-key",
        ])
        .arg(t.path().join("signer.key"))
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "30", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(&atk)
        .arg("-CAkey")
        .arg(&atk_key)
        .arg("-outform")
        .arg("DER")
        .arg("-out")
        .arg(&forged));
    t.write_public_cert(&forged, "signer", "0a");
    let r = sign("signer");
    assert_eq!(r.code, 16, "{}", r.stderr);
    assert!(
        r.stderr.contains("2 different certificates of this key")
            && r.stderr.contains("Attacker CA"),
        "{}",
        r.stderr
    );
    // A key whose only certificate has expired signs nothing, and says why.
    let _ = t.import("old", "0c", &["-newkey", "rsa:2048"]);
    t.pkcs11_tool(&["--delete-object", "--type", "cert", "--id", "0c"]);
    let old = t.another_certificate("old", "old-2025", "-1");
    t.write_public_cert(&old, "old", "0c");
    let r = sign("old");
    assert_eq!(r.code, 15, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot sign documents now") && r.stderr.contains("expired"),
        "{}",
        r.stderr
    );
    // Nor does RSA-1024, which Decree 23/2025 does not allow.
    let _ = t.import("weak", "0d", &["-newkey", "rsa:1024"]);
    let r = sign("weak");
    assert_eq!(r.code, 16, "{}", r.stderr);
    assert!(r.stderr.contains("RSA-1024"), "{}", r.stderr);
    // A key labelled in Windows-1258 (not UTF-8), as Vietnamese vendor tools may write it,
    // chosen by its id: found, and found again to sign (it was searched for as its lossy
    // UTF-8 text, "no private key … matches", exit 12).
    {
        use std::os::unix::ffi::OsStrExt;
        let label = std::ffi::OsStr::from_bytes(b"Nguy\xeen V\xe3n An");
        let (key, pem, der) = (
            t.path().join("vn.key"),
            t.path().join("vn.pem"),
            t.path().join("vn.der"),
        );
        run(Command::new("openssl")
            .args([
                "req", "-x509", "-nodes", "-days", "30", "-newkey", "rsa:2048",
            ])
            .args(["-subj", "/CN=Nguyen Van An/C=VN"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args([
                "-addext",
                "keyUsage=critical,digitalSignature,nonRepudiation",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&pem));
        run(Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&pem)
            .arg("-out")
            .arg(&der));
        run(t
            .tool("softhsm2-util")
            .arg("--import")
            .arg(&key)
            .args([
                "--token", "imported", "--id", "10", "--pin", USER_PIN, "--label",
            ])
            .arg(label));
        run(t
            .tool("pkcs11-tool")
            .args(["--module", MODULE, "--token-label", "imported", "--login"])
            .args([
                "--pin",
                USER_PIN,
                "--type",
                "cert",
                "--id",
                "10",
                "--write-object",
            ])
            .arg(&der)
            .arg("--label")
            .arg(label));
        let r = t.kyso(&[
            "sign",
            "--key",
            "pkcs11:token=imported;id=%10",
            "--format",
            "cades",
            "--pin-file",
            &t.pin_file(),
            "--overwrite",
            msg.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // A label that would write on the terminal is shown escaped.
    let _ = t.import(
        "x\u{1b}]0;pwned\u{7}\u{1b}[2K",
        "0f",
        &["-newkey", "rsa:2048"],
    );
    let r = t.kyso(&[
        "token",
        "objects",
        "pkcs11:token=imported",
        "--pin-file",
        &t.pin_file(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains('\u{1b}'), "{}", r.stdout);
    assert!(r.stdout.contains("x\\u{1b}]0;pwned"), "{}", r.stdout);
}

/// A public key object kyso cannot use under an EC key's CKA_ID — another curve's, written by
/// OpenSC's pkcs11-tool from OpenSSL's key — is passed over, as an unreadable certificate is:
/// it stopped the key, which no longer signed (an attacker's reading, 2026-12-05). The key
/// signs, and kyso's verifier passes the signature against the certificate.
#[test]
fn a_public_key_object_of_another_curve_does_not_stop_an_ec_key() {
    let t = Imported::new();
    let cert = t.import(
        "ec-signer",
        "0c",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let (p384, p384_pub) = (t.path().join("p384.key"), t.path().join("p384.pub.der"));
    run(Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC", "-pkeyopt"])
        .arg("ec_paramgen_curve:P-384")
        .arg("-out")
        .arg(&p384));
    run(Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(&p384)
        .arg("-out")
        .arg(&p384_pub));
    t.pkcs11_tool(&[
        "--write-object",
        p384_pub.to_str().unwrap(),
        "--type",
        "pubkey",
        "--id",
        "0c",
        "--label",
        "ec-signer",
    ]);
    let r = t.kyso(&[
        "token",
        "objects",
        "pkcs11:token=imported",
        "--pin-file",
        &t.pin_file(),
        "--json",
    ]);
    assert!(
        r.json()["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["type"] == "public"),
        "{}",
        r.stdout
    );
    let msg = t.path().join("to-sign.txt");
    std::fs::write(&msg, "Quyết định số 13/QĐ-UBND").unwrap();
    let r = t.kyso(&[
        "sign",
        "--key",
        "pkcs11:token=imported;object=ec-signer",
        "--format",
        "cades",
        "--pin-file",
        &t.pin_file(),
        msg.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = t.kyso(&[
        "verify",
        msg.to_str().unwrap(),
        "--detached",
        t.path().join("to-sign.txt.p7s").to_str().unwrap(),
        "--trust",
        cert.to_str().unwrap(),
        "--offline",
        "--json",
    ]);
    assert_eq!(r.json()["indication"], "TOTAL-PASSED", "{}", r.stdout);
}

/// A key whose certificate's path to the `--trust` root runs through a CA whose key usage
/// does not allow it to certify (made by OpenSSL): `kyso sign` says, before it signs, that the
/// path fails and why, as `kyso verify` then fails the signature (the wording had no test;
/// stop-50 note).
#[test]
fn the_signing_as_line_says_why_the_certificates_path_fails() {
    let t = Imported::new();
    let p = |f: &str| t.path().join(f).to_str().unwrap().to_string();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-days",
            "30",
            "-subj",
            "/CN=Root/O=So Tu phap/C=VN",
        ])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .args(ec)
        .args(["-keyout", &p("root.key"), "-out", &p("root.pem")]));
    // Issued by `ca` with the extensions `ext`, from a new key `name`.key.
    let issue = |name: &str, subject: &str, ca: &str, ext: &str| {
        std::fs::write(p(&format!("{name}.ext")), ext).unwrap();
        run(Command::new("openssl")
            .args(["req", "-new", "-subj", subject])
            .args(ec)
            .args(["-keyout", &p(&format!("{name}.key"))])
            .args(["-out", &p(&format!("{name}.csr"))]));
        run(Command::new("openssl")
            .args([
                "x509",
                "-req",
                "-days",
                "30",
                "-in",
                &p(&format!("{name}.csr")),
            ])
            .args([
                "-CA",
                &p(&format!("{ca}.pem")),
                "-CAkey",
                &p(&format!("{ca}.key")),
            ])
            .args(["-extfile", &p(&format!("{name}.ext"))])
            .args(["-out", &p(&format!("{name}.pem"))]));
    };
    issue(
        "ca",
        "/CN=CA that may not certify/O=So Tu phap/C=VN",
        "root",
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\n",
    );
    issue(
        "signer",
        "/CN=Signer/O=So Tu phap/C=VN",
        "ca",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    );
    t.put(
        "signer",
        "0c",
        Path::new(&p("signer.key")),
        Path::new(&p("signer.pem")),
        Path::new(&p("signer.der")),
    );
    let msg = p("to-sign.txt");
    std::fs::write(&msg, "Quyết định số 12/QĐ-UBND").unwrap();
    let r = t.kyso(&[
        "sign",
        "--key",
        "pkcs11:token=imported;object=signer",
        "--format",
        "cades",
        "--pin-file",
        &t.pin_file(),
        "--certs",
        &p("ca.pem"),
        "--trust",
        &p("root.pem"),
        &msg,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            " — its path to a --trust root fails: certificate C=VN,O=So Tu phap,CN=CA that may not certify may not sign certificates (keyUsage lacks keyCertSign), valid until "
        ),
        "{}",
        r.stderr
    );
    let r = t.kyso(&[
        "verify",
        &msg,
        "--detached",
        &format!("{msg}.p7s"),
        "--trust",
        &p("root.pem"),
        "--offline",
        "--json",
    ]);
    assert_eq!(
        r.json()["subindication"],
        "CHAIN_CONSTRAINTS_FAILURE",
        "{}",
        r.stdout
    );
}
