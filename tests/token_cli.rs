//! `kyso token …` end to end: the binary against a real SoftHSM2 token, checked by OpenSSL.

mod common;
use common::*;

#[test]
fn official_sees_the_demo_token_with_its_pin_state() {
    let demo = Demo::new();
    let r = demo.run(&["token", "list", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let tokens = j["tokens"].as_array().unwrap();
    let t = tokens
        .iter()
        .find(|t| t["label"] == "kyso-dev")
        .expect("demo token listed");
    assert_eq!(t["manufacturer"], "SoftHSM project");
    assert_eq!(t["pin_locked"], false);
    assert_eq!(t["pin_count_low"], false);
    assert!(t["uri"]
        .as_str()
        .unwrap()
        .starts_with("pkcs11:token=kyso-dev;"));
    let human = demo.run(&["token", "list"]);
    assert!(
        human.stdout.contains("\"kyso-dev\"") && human.stdout.contains("PIN: ok"),
        "{}",
        human.stdout
    );
}

/// A URI's slot-manufacturer and library-* attributes (RFC 7512 §2.3) choose the token as
/// its other attributes do: the values `token list` shows match, others match nothing (they
/// were accepted and ignored: a URI naming another vendor's library signed with this one).
#[test]
fn a_uri_naming_the_library_or_slot_maker_matches_only_that_one() {
    let demo = Demo::new();
    let j = demo.run(&["token", "list", "--json"]).json();
    let t = j["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "kyso-dev")
        .expect("demo token listed")
        .clone();
    let lib = &t["library"];
    let version = format!("{}.{}", lib["version"][0], lib["version"][1]);
    let enc = |s: &serde_json::Value| s.as_str().unwrap().replace(' ', "%20");
    let good = [
        format!("slot-manufacturer={}", enc(&t["slot_manufacturer"])),
        format!("library-manufacturer={}", enc(&lib["manufacturer"])),
        format!("library-description={}", enc(&lib["description"])),
        format!("library-version={version}"),
    ];
    let sign = |attr: &str| {
        demo.run_pin(&[
            "token",
            "sign-digest",
            "--key",
            &format!("pkcs11:token=kyso-dev;object=signer-rsa;{attr}"),
        ])
    };
    for attr in &good {
        let r = sign(attr);
        assert_eq!(r.code, 0, "{attr}: {}", r.stderr);
    }
    // Another minor is another version; a major alone is its .0 (as p11-kit reads it).
    let other_minor = format!(
        "library-version={}.{}",
        lib["version"][0],
        lib["version"][1].as_u64().unwrap() + 1
    );
    let major_alone = format!("library-version={}", lib["version"][0]);
    let mut bad = vec![
        "slot-manufacturer=Nope",
        "library-manufacturer=Thales",
        "library-description=Another%20module",
        "library-version=99",
        &other_minor,
    ];
    if lib["version"][1] != 0 {
        bad.push(&major_alone);
    }
    for attr in bad {
        let r = sign(attr);
        assert_eq!(r.code, 11, "{attr}: {}", r.stderr);
        assert!(
            r.stderr.contains("no token matches"),
            "{attr}: {}",
            r.stderr
        );
    }
}

#[test]
fn init_demo_twice_keeps_the_same_token_and_keys() {
    let demo = Demo::new();
    let before = std::fs::read(demo.path().join("signer-rsa.pem")).unwrap();
    let r = kyso_cmd()
        .args(["token", "init-demo"])
        .arg(demo.path())
        .arg("--json")
        .output()
        .unwrap();
    let r: Run = r.into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["created"], false);
    assert_eq!(
        std::fs::read(demo.path().join("signer-rsa.pem")).unwrap(),
        before
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(demo.pin_file()).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "PIN file readable by others");
    // The text says where each key's certificate is: the log key's is `--log-key`.
    let r: Run = kyso_cmd()
        .args(["token", "init-demo"])
        .arg(demo.path())
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = format!("certificate: {}", demo.path().join("log.pem").display());
    assert!(r.stdout.contains(&log), "{}", r.stdout);
}

#[test]
fn objects_show_keys_only_after_login() {
    let demo = Demo::new();
    let r = demo.run_pin(&["token", "objects", "pkcs11:token=kyso-dev", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let objs = r.json()["objects"].as_array().unwrap().clone();
    let count = |t: &str| objs.iter().filter(|o| o["type"] == t).count();
    assert_eq!(count("private"), 5, "CA, RSA, EC, log and TSA keys");
    assert_eq!(count("cert"), 5);
    let rsa = objs
        .iter()
        .find(|o| o["type"] == "private" && o["label"] == "signer-rsa")
        .unwrap();
    assert_eq!(rsa["key"]["type"], "RSA");
    assert_eq!(rsa["key"]["bits"], 2048);
    let ec = objs
        .iter()
        .find(|o| o["type"] == "private" && o["label"] == "signer-ec")
        .unwrap();
    assert_eq!(ec["key"]["curve"], "P-256");

    let r = demo.run(&[
        "token",
        "objects",
        "pkcs11:token=kyso-dev",
        "--no-login",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["logged_in"], false);
    assert!(j["objects"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["type"] != "private"));
}

#[test]
fn demo_certificates_chain_to_the_demo_ca_for_openssl() {
    let demo = Demo::new();
    for leaf in ["signer-rsa.pem", "signer-ec.pem"] {
        let r = openssl(&[
            "verify",
            "-CAfile",
            demo.ca_pem().to_str().unwrap(),
            demo.path().join(leaf).to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{leaf}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains(": OK"), "{}", r.stdout);
    }
}

/// Sign a file's digest on the token, then let OpenSSL verify the signature over the file
/// with the public key from the certificate kyso wrote.
fn openssl_accepts(demo: &Demo, key: &str, alg: &str, dgst: &str, extra: &[&str]) {
    let dir = demo.path();
    let input = dir.join("hồ-sơ.txt");
    std::fs::write(&input, "Quyết định cấp giấy phép xây dựng số 123/QĐ-UBND").unwrap();
    let sig = dir.join(format!("{alg}.sig"));
    let cert = dir.join(format!("{alg}.pem"));
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        key,
        "--alg",
        alg,
        "--input",
        input.to_str().unwrap(),
        "--out",
        sig.to_str().unwrap(),
        "--cert-out",
        cert.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{alg}: {}", r.stderr);
    // Asked again, the files are there: not replaced without --overwrite, before any login.
    let again = demo.run(&[
        "token",
        "sign-digest",
        "--key",
        key,
        "--alg",
        alg,
        "--input",
        input.to_str().unwrap(),
        "--out",
        sig.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 3, "{alg}: {}", again.stderr);
    assert!(
        again.stderr.contains("not replaced (use --overwrite)"),
        "{}",
        again.stderr
    );
    let pubkey = dir.join(format!("{alg}.pub"));
    let x = openssl(&[
        "x509",
        "-in",
        cert.to_str().unwrap(),
        "-pubkey",
        "-noout",
        "-out",
        pubkey.to_str().unwrap(),
    ]);
    assert_eq!(x.code, 0, "{}", x.stderr);
    let mut args = vec![
        "dgst",
        dgst,
        "-verify",
        pubkey.to_str().unwrap(),
        "-signature",
        sig.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(input.to_str().unwrap());
    let v = openssl(&args);
    assert!(
        v.code == 0 && v.stdout.contains("Verified OK"),
        "{alg}: openssl says {}{}",
        v.stdout,
        v.stderr
    );

    // And a signature over other bytes must not verify: the check can fail.
    std::fs::write(&input, "Quyết định cấp giấy phép xây dựng số 124/QĐ-UBND").unwrap();
    let mut args = vec![
        "dgst",
        dgst,
        "-verify",
        pubkey.to_str().unwrap(),
        "-signature",
        sig.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(input.to_str().unwrap());
    let v = openssl(&args);
    assert_ne!(
        v.code, 0,
        "{alg}: openssl accepted a signature over other bytes"
    );
}

#[test]
fn openssl_accepts_rsa_pkcs1_pss_and_ecdsa_signatures_from_the_token() {
    let demo = Demo::new();
    openssl_accepts(&demo, RSA_KEY, "rsa-pkcs1-sha256", "-sha256", &[]);
    openssl_accepts(&demo, RSA_KEY, "rsa-pkcs1-sha384", "-sha384", &[]);
    openssl_accepts(&demo, RSA_KEY, "rsa-pkcs1-sha512", "-sha512", &[]);
    openssl_accepts(
        &demo,
        RSA_KEY,
        "rsa-pss-sha256",
        "-sha256",
        &[
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
        ],
    );
    openssl_accepts(
        &demo,
        RSA_KEY,
        "rsa-pss-sha512",
        "-sha512",
        &[
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:64",
        ],
    );
    openssl_accepts(&demo, EC_KEY, "ecdsa-sha256", "-sha256", &[]);
    openssl_accepts(&demo, EC_KEY, "ecdsa-sha384", "-sha384", &[]);
}

#[test]
fn sign_digest_reports_the_algorithm_identifier_to_use() {
    let demo = Demo::new();
    let digest = "00".repeat(32);
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        RSA_KEY,
        "--digest",
        &digest,
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    // sha256WithRSAEncryption with NULL parameters (RFC 4055 §5).
    assert_eq!(j["algorithm_identifier"], "300d06092a864886f70d01010b0500");
    assert_eq!(
        j["chain"][0],
        "CN=kyso Demo Root CA,O=kyso demo (not a real CA),C=VN"
    );
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        EC_KEY,
        "--digest",
        &digest,
        "--json",
    ]);
    assert_eq!(r.json()["algorithm_identifier"], "300a06082a8648ce3d040302");
    // A digest of the wrong length is a usage error: one no hash makes before the PIN is
    // sent, one of another hash than the key's once the key is found.
    let r = demo.run_pin(&["token", "sign-digest", "--key", RSA_KEY, "--digest", "abcd"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("digest is 2 bytes"), "{}", r.stderr);
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        RSA_KEY,
        "--digest",
        &"ab".repeat(48),
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("48 bytes; the key signs with"),
        "{}",
        r.stderr
    );
}

#[test]
fn pin_from_environment_works_and_never_shows_up_in_output() {
    let demo = Demo::new();
    let pin = demo.pin();
    let r: Run = demo
        .cmd()
        .args(["token", "sign-digest", "--key", RSA_KEY, "--json"])
        .env("KYSO_PIN", &pin)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(&pin) && !r.stderr.contains(&pin));
    // A wrong PIN is not echoed either.
    let r: Run = demo
        .cmd()
        .args(["token", "sign-digest", "--key", RSA_KEY])
        .env("KYSO_PIN", "97531864")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 13);
    assert!(!r.stdout.contains("97531864") && !r.stderr.contains("97531864"));
}

#[test]
fn module_that_is_missing_or_not_pkcs11_is_a_clear_error() {
    let demo = Demo::new();
    let r = demo.run(&[
        "token",
        "list",
        "--module",
        "/nonexistent/libvendor-pkcs11.so",
    ]);
    assert_eq!(r.code, 10);
    assert!(
        r.stderr
            .contains("PKCS#11 module not found: /nonexistent/libvendor-pkcs11.so"),
        "{}",
        r.stderr
    );
    let not_pkcs11 = demo.path().join("not-a-module.so");
    std::fs::write(&not_pkcs11, b"\x7fELF but not really").unwrap();
    let r = demo.run(&["token", "list", "--module", not_pkcs11.to_str().unwrap()]);
    assert_eq!(r.code, 10);
    assert!(
        r.stderr.contains("is not a PKCS#11 library"),
        "{}",
        r.stderr
    );
    // A real shared library that is not PKCS#11.
    let libz = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/aarch64-linux-gnu/libz.so.1",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    if let Some(libz) = libz {
        let r = demo.run(&["token", "list", "--module", libz]);
        assert_eq!(r.code, 10);
        assert!(
            r.stderr.contains("it has no C_GetFunctionList")
                || r.stderr.contains("not a PKCS#11 library"),
            "{}",
            r.stderr
        );
    }
    // SoftHSM2 whose configuration file is not there: the module loads but will not start —
    // said so, with where SoftHSM2 looked, not as "not a PKCS#11 library".
    let r: Run = demo
        .cmd()
        .args(["token", "list"])
        .env("SOFTHSM2_CONF", "/nonexistent/softhsm2.conf")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 10, "{}", r.stderr);
    assert!(
        r.stderr.contains("would not start")
            && r.stderr
                .contains("SOFTHSM2_CONF=/nonexistent/softhsm2.conf"),
        "{}",
        r.stderr
    );
    // The module can also come from the environment and from the URI.
    let r: Run = demo
        .cmd()
        .args(["token", "list"])
        .env("KYSO_PKCS11_MODULE", "/nonexistent/env.so")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 10);
    assert!(r.stderr.contains("/nonexistent/env.so"));
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        "pkcs11:token=kyso-dev;object=signer-rsa?module-path=/nonexistent/uri.so",
    ]);
    assert_eq!(r.code, 10);
    assert!(r.stderr.contains("/nonexistent/uri.so"));
}

#[test]
fn uri_that_matches_no_token_or_no_key_says_what_is_there() {
    let demo = Demo::new();
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        "pkcs11:token=VNPT-CA%20token;object=x",
    ]);
    assert_eq!(r.code, 11, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no token matches pkcs11:token=VNPT-CA%20token"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("\"kyso-dev\""),
        "lists the tokens that are present: {}",
        r.stderr
    );
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        "pkcs11:token=kyso-dev;object=nobody",
    ]);
    assert_eq!(r.code, 12, "{}", r.stderr);
    assert!(
        r.stderr.contains("no private key on token \"kyso-dev\""),
        "{}",
        r.stderr
    );
    let r = demo.run_pin(&["token", "sign-digest", "--key", "pkcs11:token=kyso-dev"]);
    assert_eq!(r.code, 12, "{}", r.stderr);
    assert!(r.stderr.contains("5 private keys"), "{}", r.stderr);
}

#[test]
fn bad_uris_and_pins_in_uris_are_refused() {
    let demo = Demo::new();
    let r = demo.run(&[
        "token",
        "sign-digest",
        "--key",
        "pkcs11:token=kyso-dev;object=signer-rsa?pin-value=1234",
    ]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("pin-value is refused"), "{}", r.stderr);
    let r = demo.run(&["token", "objects", "token=kyso-dev"]);
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains("does not start with \"pkcs11:\""),
        "{}",
        r.stderr
    );
    let r = demo.run(&["token", "frobnicate"]);
    assert_eq!(r.code, 3, "usage errors exit 3");
}

#[test]
fn pin_source_in_the_uri_is_read() {
    let demo = Demo::new();
    let key = format!("{RSA_KEY}?pin-source=file:{}", demo.pin_file().display());
    let r = demo.run(&["token", "sign-digest", "--key", &key]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// An official at a terminal runs kyso with its standard input redirected (`find … | xargs
/// kyso sign` gives it /dev/null): the PIN is asked on the terminal, typed there, not echoed,
/// and the signature made. The prompt had looked at standard input alone and answered "no
/// PIN". The terminal is a pseudo-terminal Python's `pty` makes, kyso's controlling one, with
/// only its standard error on it.
#[test]
fn the_pin_is_asked_on_the_terminal_when_standard_input_is_redirected() {
    let demo = Demo::new();
    let script = r#"
import fcntl, os, subprocess, sys, termios, time
pin = sys.argv[1]
m, s = os.openpty()
def own_terminal():
    os.setsid()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=s, preexec_fn=own_terminal, pass_fds=(s,))
os.close(s)
seen, typed, end = b"", False, time.time() + 60
while time.time() < end:
    try:
        b = os.read(m, 4096)
    except OSError:
        break
    if not b:
        break
    seen += b
    if not typed and b"PIN for token" in seen:
        # Typed once the terminal no longer echoes (kyso turns echo off after its prompt).
        while termios.tcgetattr(m)[3] & termios.ECHO and time.time() < end:
            time.sleep(0.01)
        os.write(m, pin.encode() + b"\r")
        typed = True
out = p.communicate(timeout=60)[0]
sys.stdout.write(repr(seen) + "\n" + str(p.returncode) + "\n" + out.decode())
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(demo.pin())
        .arg(kyso_bin())
        .args(["token", "sign-digest", "--key", RSA_KEY, "--json"])
        .env_remove("KYSO_PIN")
        .env("SOFTHSM2_CONF", demo.conf())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let terminal = lines.next().unwrap_or_default().to_string();
    let code = lines.next().unwrap_or_default().to_string();
    let json: String = lines.collect::<Vec<_>>().join("\n");
    assert!(
        terminal.contains("PIN for token \"kyso-dev\""),
        "{terminal} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !terminal.contains(&demo.pin()),
        "the PIN was echoed: {terminal}"
    );
    assert_eq!(code, "0", "{terminal}");
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        j["signature"].as_str().is_some_and(|s| !s.is_empty()),
        "{j}"
    );
}

#[test]
fn no_pin_anywhere_is_a_clear_error() {
    let demo = Demo::new();
    let r = demo.run(&["token", "sign-digest", "--key", RSA_KEY]);
    assert_eq!(r.code, 18, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no PIN: give --pin-file FILE, set KYSO_PIN"),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_pin_says_how_many_tries_the_token_reports() {
    let demo = Demo::new();
    let bad = demo.path().join("bad.pin");
    std::fs::write(&bad, "00000000\n").unwrap();
    let bad = bad.to_str().unwrap();
    let r = demo.run(&["token", "sign-digest", "--key", RSA_KEY, "--pin-file", bad]);
    assert_eq!(r.code, 13, "{}", r.stderr);
    assert!(
        r.stderr.contains("wrong PIN for token \"kyso-dev\""),
        "{}",
        r.stderr
    );
    // SoftHSM2 raises CKF_USER_PIN_COUNT_LOW after a failure, as real tokens do.
    assert!(
        r.stderr
            .contains("a wrong PIN has been entered since its last good login"),
        "{}",
        r.stderr
    );
    let list = demo.run(&["token", "list"]);
    assert!(list.stdout.contains("PIN: count low"), "{}", list.stdout);
    // A token that reports its final try: no PIN from a file or KYSO_PIN is sent, right or
    // wrong — most likely it is the one refused before, and a script sending it again locked
    // the official's token (the CLI spent that try until 2026-12-06; stop-50 note).
    demo.set_token_flags(CKF_USER_PIN_FINAL_TRY);
    let refused = "says one more wrong PIN locks it: kyso then sends only a PIN typed at the prompt, not the PIN in ";
    let r = demo.run(&["token", "sign-digest", "--key", RSA_KEY, "--pin-file", bad]);
    assert_eq!(r.code, 13, "{}", r.stderr);
    assert!(r.stderr.contains(refused), "{}", r.stderr);
    assert!(
        !r.stderr.contains("wrong PIN for token"),
        "not sent: {}",
        r.stderr
    );
    let r = demo.run_pin(&["token", "sign-digest", "--key", RSA_KEY]);
    assert_eq!(r.code, 13, "{}", r.stderr);
    assert!(r.stderr.contains(refused), "{}", r.stderr);
    let pin = std::fs::read_to_string(demo.pin_file()).unwrap();
    let r: Run = demo
        .cmd()
        .args(["token", "sign-digest", "--key", RSA_KEY])
        .env("KYSO_PIN", pin.trim())
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 13, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{refused}$KYSO_PIN")),
        "{}",
        r.stderr
    );
    // The right PIN typed at the prompt (a terminal: util-linux `script`) is sent, and works.
    let mut c = std::process::Command::new("script");
    c.args(["-qec"])
        .arg(format!(
            "'{}' token sign-digest --key '{RSA_KEY}'",
            kyso_bin()
        ))
        .arg("/dev/null")
        .env("SOFTHSM2_CONF", demo.conf())
        .env_remove("KYSO_PIN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(pin.as_bytes())
        .unwrap();
    let r: Run = child.wait_with_output().unwrap().into();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("signature 256 bytes"), "{}", r.stdout);
}

#[test]
fn locked_pin_is_reported_and_no_pin_is_sent() {
    let demo = Demo::new();
    demo.set_token_flags(CKF_USER_PIN_LOCKED);
    let list = demo.run(&["token", "list"]);
    assert!(list.stdout.contains("PIN LOCKED"), "{}", list.stdout);
    // Even the right PIN is not sent to a locked token.
    let r = demo.run_pin(&["token", "sign-digest", "--key", RSA_KEY]);
    assert_eq!(r.code, 14, "{}", r.stderr);
    assert!(
        r.stderr.contains("is locked after too many wrong tries"),
        "{}",
        r.stderr
    );
}

#[test]
fn key_without_certificate_is_refused_until_its_certificate_is_imported() {
    let demo = Demo::new();
    let r = demo.run_pin(&[
        "token",
        "keygen",
        "--token",
        "pkcs11:token=kyso-dev",
        "--label",
        "new-official",
        "--id",
        "0a0b",
        "--type",
        "p-256",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.trim(),
        "pkcs11:token=kyso-dev;object=new-official;id=%0A%0B;type=private"
    );
    let key = "pkcs11:token=kyso-dev;object=new-official";
    let r = demo.run_pin(&["token", "sign-digest", "--key", key]);
    assert_eq!(r.code, 15, "{}", r.stderr);
    assert!(
        r.stderr.contains("has no certificate with the same CKA_ID"),
        "{}",
        r.stderr
    );
    // kyso imports no one else's certificate under this key's id, nor one under an id no key
    // has: each left a key that could not sign, and said so only then (a new user's
    // reading, 2026-12-04).
    let import = |id: &str| {
        demo.run_pin(&[
            "token",
            "import-cert",
            "--token",
            "pkcs11:token=kyso-dev",
            "--label",
            "new-official",
            "--id",
            id,
            demo.path().join("signer-ec.pem").to_str().unwrap(),
        ])
    };
    let r = import("0a0b");
    assert_eq!(r.code, 15, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("another public key than the private key with id 0a0b"),
        "{}",
        r.stderr
    );
    let r = import("ffff");
    assert_eq!(r.code, 12, "{}", r.stderr);
    assert!(r.stderr.contains("id ffff"), "{}", r.stderr);
    // Nor a file that is not a certificate: a usage error, said as such.
    let r = demo.run_pin(&[
        "token",
        "import-cert",
        "--token",
        "pkcs11:token=kyso-dev",
        "--label",
        "x",
        "--id",
        "0a0b",
        demo.pin_file().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not an X.509 certificate"),
        "{}",
        r.stderr
    );
    // Another tool may still store one (OpenSC's pkcs11-tool): signing catches it.
    let der = demo.path().join("signer-ec.der");
    succeeded(
        std::process::Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(demo.path().join("signer-ec.pem"))
            .arg("-out")
            .arg(&der),
    );
    demo.pkcs11_tool(&[
        "--login",
        "--pin",
        &demo.pin(),
        "--write-object",
        der.to_str().unwrap(),
        "--type",
        "cert",
        "--id",
        "0a0b",
        "--label",
        "new-official",
    ]);
    let r = demo.run_pin(&["token", "sign-digest", "--key", key]);
    assert_eq!(r.code, 15, "{}", r.stderr);
    assert!(
        r.stderr.contains("holds a different public key"),
        "{}",
        r.stderr
    );
}

/// A key generated under a label or an id the token already holds is refused before it is
/// made: two keys with one label could not be told apart, and a key given another's id took
/// that key's certificate (both found only at signing; a new user's reading, 2026-12-04).
/// Flags that cannot be right are said before the PIN is asked for.
#[test]
fn keys_are_not_generated_beside_their_namesakes_and_bad_flags_are_said_first() {
    let demo = Demo::new();
    let keygen = |label: &str, id: &str, kind: &str| {
        demo.run_pin(&[
            "token",
            "keygen",
            "--token",
            "pkcs11:token=kyso-dev",
            "--label",
            label,
            "--id",
            id,
            "--type",
            kind,
        ])
    };
    assert_eq!(keygen("official2", "0c", "p-256").code, 0);
    for (label, id) in [("official2", "0d"), ("x", "0c"), ("y", "01")] {
        let r = keygen(label, id, "p-256");
        assert_eq!(r.code, 3, "{label} {id}: {}", r.stderr);
        assert!(r.stderr.contains("already holds"), "{}", r.stderr);
    }
    // The one key made is still the one the label chooses.
    let r = demo.run_pin(&["token", "objects", "pkcs11:token=kyso-dev"]);
    assert_eq!(
        r.stdout.matches("object=official2;").count(),
        2,
        "{}",
        r.stdout
    );
    // Said before any PIN is sent: a wrong PIN file does not turn them into exit 13.
    let wrong = demo.path().join("wrong.pin");
    std::fs::write(&wrong, "00000000").unwrap();
    std::fs::set_permissions(&wrong, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    for (args, says) in [
        (
            vec![
                "token",
                "keygen",
                "--token",
                "pkcs11:token=kyso-dev",
                "--label",
                "z",
                "--type",
                "ed25519",
            ],
            "unknown --type",
        ),
        (
            vec!["token", "sign-digest", "--key", EC_KEY, "--digest", "zz"],
            "--digest is not hex",
        ),
        (
            vec!["token", "sign-digest", "--key", EC_KEY, "--digest", "abcd"],
            "--digest is 2 bytes",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["--pin-file", wrong.to_str().unwrap()]);
        let r = demo.run(&all);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{}", r.stderr);
        assert!(!r.stderr.contains("PKCS#11 URI"), "{}", r.stderr);
    }
}

#[test]
fn mechanism_the_key_cannot_do_is_refused() {
    let demo = Demo::new();
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        RSA_KEY,
        "--alg",
        "ecdsa-sha256",
    ]);
    assert_eq!(r.code, 16, "{}", r.stderr);
    assert!(
        r.stderr.contains("does not support ECDSA with SHA-256"),
        "{}",
        r.stderr
    );
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        EC_KEY,
        "--alg",
        "rsa-pss-sha256",
    ]);
    assert_eq!(r.code, 16, "{}", r.stderr);
    let r = demo.run_pin(&["token", "sign-digest", "--key", EC_KEY, "--alg", "md5-rsa"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
}

/// An agency generates its signing key on the HSM, makes the certificate request with kyso
/// (signed by that key on the token), the CA (OpenSSL here) issues the certificate from it,
/// and kyso imports it beside the key, which then signs. (No step of kyso made the request: a
/// new user's reading, 2026-12-04.)
#[test]
fn an_agency_requests_a_certificate_for_its_new_key_and_imports_what_the_ca_issues() {
    let demo = Demo::new();
    let d = demo.path();
    let r = demo.run_pin(&[
        "token",
        "keygen",
        "--token",
        "pkcs11:token=kyso-dev",
        "--label",
        "ubnd-tinh",
        "--id",
        "0e",
        "--type",
        "rsa-3072",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = "pkcs11:token=kyso-dev;object=ubnd-tinh";
    let csr = d.join("ubnd-tinh.csr");
    let r = demo.run_pin(&[
        "token",
        "csr",
        "--key",
        key,
        "--subject",
        "CN=Chủ tịch UBND tỉnh,O=UBND tỉnh Ninh Bình,C=VN",
        "--out",
        csr.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let openssl = |args: &[&str]| {
        let out = succeeded(
            std::process::Command::new("openssl")
                .args(args)
                .current_dir(d),
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // OpenSSL checks the request's signature and reads its subject, in X.500 order.
    let subject = openssl(&[
        "req",
        "-in",
        "ubnd-tinh.csr",
        "-verify",
        "-noout",
        "-subject",
        "-nameopt",
        "utf8,sep_comma_plus",
    ]);
    assert_eq!(
        subject.trim(),
        "subject=C=VN,O=UBND tỉnh Ninh Bình,CN=Chủ tịch UBND tỉnh"
    );
    // The CA issues the certificate from it.
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        "/C=VN/CN=Test CA",
    ]);
    std::fs::write(
        d.join("ext.cnf"),
        "keyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "ubnd-tinh.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-days",
        "30",
        "-extfile",
        "ext.cnf",
        "-out",
        "ubnd-tinh.pem",
    ]);
    let r = demo.run_pin(&[
        "token",
        "import-cert",
        "--token",
        "pkcs11:token=kyso-dev",
        "--label",
        "ubnd-tinh",
        "--id",
        "0e",
        d.join("ubnd-tinh.pem").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = demo.run_pin(&["token", "sign-digest", "--key", key, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.json()["signer"]
            .as_str()
            .unwrap()
            .contains("Chủ tịch UBND tỉnh"),
        "{}",
        r.stdout
    );
    // A subject that is no name is said before the PIN is asked for.
    let r = demo.run(&["token", "csr", "--key", key, "--subject", "no name here"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("RFC 4514"), "{}", r.stderr);
}

/// `token list` that finds no token says where SoftHSM2 looked, as `kyso sign` does (a new
/// user without SOFTHSM2_CONF set read "no initialized token" and nothing more, 2026-12-05).
#[test]
fn token_list_finding_no_token_says_where_softhsm2_looks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tokens")).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\n",
            dir.path().join("tokens").display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(kyso_bin())
        .args(["token", "list"])
        .env("SOFTHSM2_CONF", &conf)
        .env_remove("KYSO_PKCS11_MODULE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "no initialized token; SoftHSM2 reads SOFTHSM2_CONF={}",
            conf.display()
        )),
        "{stdout}"
    );
}

/// A PIN file others may read is used, with a warning saying so, as `kyso serve --check`
/// refuses one (the command line took it without a word; a new user's reading, 2026-12-05).
#[test]
fn a_pin_file_others_may_read_is_warned_of() {
    use std::os::unix::fs::PermissionsExt;
    let demo = Demo::new();
    let loose = demo.path().join("loose.pin");
    std::fs::copy(demo.pin_file(), &loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let objects = |pin: &std::path::Path| {
        demo.run(&[
            "token",
            "objects",
            "pkcs11:token=kyso-dev",
            "--pin-file",
            pin.to_str().unwrap(),
        ])
    };
    let r = objects(&loose);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("can be read or written by others (mode 644)"),
        "{}",
        r.stderr
    );
    let r = objects(&demo.pin_file());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    // Mode 600, but another user's: that user reads it too (2026-12-05). Only root can give
    // a file away, as CI runs; elsewhere this part is passed over.
    let theirs = demo.path().join("theirs.pin");
    std::fs::copy(demo.pin_file(), &theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o600)).unwrap();
    if std::os::unix::fs::chown(&theirs, Some(65534), None).is_ok() {
        let r = objects(&theirs);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("belongs to another user (uid 65534; kyso runs as uid 0)"),
            "{}",
            r.stderr
        );
    }
}

/// `kyso token objects` narrows by `id=` as by `object=` (it listed every object; helper 176).
#[test]
fn token_objects_narrow_by_id() {
    let demo = Demo::new();
    let listed = demo.run_pin(&["token", "objects", "pkcs11:token=kyso-dev;id=%01", "--json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let ids: Vec<String> = listed.json()["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["01", "01", "01"], "{}", listed.stdout);
}

/// A certificate named like the CA, with another key, written to the token without its PIN
/// (OpenSC's pkcs11-tool, no login; made by OpenSSL) is not taken for the CA: the chain is
/// built from certificates whose keys verify the one below. It was taken by name alone when
/// SoftHSM2 listed it first, and B-LT signing failed, NO_CERTIFICATE_CHAIN_FOUND, five times
/// in six (helper 176).
#[test]
fn a_certificate_named_like_the_ca_does_not_break_the_officials_chain() {
    let demo = Demo::new();
    let d = demo.path();
    let at = |f: &str| d.join(f).to_str().unwrap().to_string();
    let subject = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "compat", "-in"])
        .arg(demo.ca_pem())
        .output()
        .unwrap();
    let subject = String::from_utf8_lossy(&subject.stdout)
        .trim()
        .trim_start_matches("subject=")
        .to_string();
    succeeded(std::process::Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &at("fake-ca.key"),
        "-subj",
        &subject,
        "-days",
        "30",
        "-outform",
        "DER",
        "-out",
        &at("fake-ca.der"),
    ]));
    demo.pkcs11_tool(&[
        "--write-object",
        &at("fake-ca.der"),
        "--type",
        "cert",
        "--id",
        "c0",
        "--label",
        "ca",
    ]);
    let doc = d.join("quyet-dinh.txt");
    std::fs::write(&doc, "Quyết định số 7/QĐ-UBND").unwrap();
    for _ in 0..4 {
        let r = demo.run_pin(&[
            "sign",
            "--key",
            RSA_KEY,
            "--format",
            "cades",
            "--level",
            "B-LT",
            "--tsa",
            "internal",
            "--tsa-key",
            TSA_KEY,
            "--offline",
            "--overwrite",
            doc.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
}

/// A PIN in KYSO_PIN is held as a PIN file's is: `"1234 "` cost a try that the same bytes in
/// a file do not (helper 176); the token's count of wrong tries is untouched. And a URI's
/// module-name is a name, not a path: `../../tmp/evil` loaded a library from outside the
/// module directories, its constructor run.
#[test]
fn an_environment_pin_and_a_module_name_are_held_before_use() {
    let demo = Demo::new();
    let r: Run = demo
        .cmd()
        .args(["token", "sign-digest", "--key", RSA_KEY])
        .env("KYSO_PIN", format!("{} ", demo.pin()))
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("begins or ends with white space") && !r.stderr.contains(&demo.pin()),
        "{}",
        r.stderr
    );
    let listed = demo.run(&["token", "list", "--json"]);
    assert!(
        !listed.stdout.contains("\"pin_count_low\": true"),
        "{}",
        listed.stdout
    );
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        "pkcs11:token=kyso-dev;object=signer-rsa?module-name=../../../tmp/evil",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("is a path, not a name"), "{}", r.stderr);
}

/// A certificate that is not DER as kyso writes it back — `critical FALSE` written out in an
/// extension (tests/hostile/nonder_cert.py: asn1crypto, a byte edit) — is neither imported nor
/// signed with: it was stored and
/// embedded re-encoded, and its signature no longer held, nor the check that its issuer signed
/// it (helper 179). Written to the token by OpenSC's pkcs11-tool, it stops its key (exit 15).
#[test]
fn a_certificate_that_is_not_der_is_neither_imported_nor_signed_with() {
    let demo = Demo::new();
    let bad = demo.path().join("explicit-false.der");
    hostile(
        "nonder_cert.py",
        &[
            demo.path().join("signer-rsa.pem").as_os_str(),
            bad.as_os_str(),
        ],
    );
    let r = demo.run_pin(&[
        "token",
        "import-cert",
        "--token",
        "pkcs11:token=kyso-dev",
        "--label",
        "signer-rsa",
        "--id",
        "01",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("not DER"), "{}", r.stderr);
    // A new key, and for it a certificate so written, put on the token by pkcs11-tool: the
    // key has no other, and it signed with the one re-encoded (exit 0, a signature that fails).
    let r = demo.run_pin(&[
        "token",
        "keygen",
        "--token",
        "pkcs11:token=kyso-dev",
        "--label",
        "fresh",
        "--id",
        "0f",
        "--type",
        "p-256",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let at = |f: &str| demo.path().join(f).to_str().unwrap().to_string();
    let tool = |args: &[&str]| demo.pkcs11_tool(args);
    tool(&[
        "--read-object",
        "--type",
        "pubkey",
        "--id",
        "0f",
        "-o",
        &at("fresh.pub.der"),
    ]);
    let openssl = |args: &[&str]| succeeded(std::process::Command::new("openssl").args(args));
    openssl(&[
        "pkey",
        "-pubin",
        "-inform",
        "DER",
        "-in",
        &at("fresh.pub.der"),
        "-out",
        &at("fresh.pub.pem"),
    ]);
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &at("ca.key"),
        "-out",
        &at("other-ca.pem"),
        "-subj",
        "/CN=Other CA",
        "-days",
        "30",
    ]);
    std::fs::write(
        demo.path().join("leaf.cnf"),
        "[leaf]\nsubjectKeyIdentifier = hash\nkeyUsage = critical, digitalSignature, nonRepudiation\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-new",
        "-subj",
        "/CN=fresh",
        "-days",
        "30",
        "-force_pubkey",
        &at("fresh.pub.pem"),
        "-CA",
        &at("other-ca.pem"),
        "-CAkey",
        &at("ca.key"),
        "-extfile",
        &at("leaf.cnf"),
        "-extensions",
        "leaf",
        "-out",
        &at("fresh.pem"),
    ]);
    let fresh_bad = demo.path().join("fresh-bad.der");
    hostile(
        "nonder_cert.py",
        &[
            demo.path().join("fresh.pem").as_os_str(),
            fresh_bad.as_os_str(),
        ],
    );
    let pin = demo.pin();
    tool(&[
        "--login",
        "--pin",
        &pin,
        "--write-object",
        fresh_bad.to_str().unwrap(),
        "--type",
        "cert",
        "--id",
        "0f",
        "--label",
        "fresh",
    ]);
    let r = demo.run_pin(&[
        "token",
        "sign-digest",
        "--key",
        "pkcs11:token=kyso-dev;object=fresh",
    ]);
    assert_eq!(r.code, 15, "{}", r.stderr);
    assert!(r.stderr.contains("not DER"), "{}", r.stderr);
    // ... and `token objects` says so of that certificate, not of the demo's own.
    let r = demo.run(&["token", "objects", "pkcs11:token=kyso-dev", "--no-login"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let fresh = r
        .stdout
        .split("\ncert ")
        .find(|o| o.trim_start().starts_with("fresh "))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(
        fresh.contains("\n         NOT USABLE: not DER"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.matches("NOT USABLE").count(), 1, "{}", r.stdout);
    let j = demo
        .run(&[
            "token",
            "objects",
            "pkcs11:token=kyso-dev",
            "--no-login",
            "--json",
        ])
        .json();
    let unusable: Vec<_> = j["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["unusable"].is_string())
        .map(|o| o["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(unusable, ["fresh"], "{j}");
}
