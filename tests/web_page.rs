//! The verification page in a real browser: the real `kyso serve` on loopback (SoftHSM2 token,
//! RocksDB archive, TLS) with public verification on; Debian's chromium driven by
//! playwright-core (tests/web/page.mjs) uploads a signed, a tampered, a co-signed, a detached
//! and a changed-after-signing document, reads each verdict on the screen in Vietnamese and
//! English, follows an archived record from valid to superseded to revoked with the inclusion
//! proof checked in the page, and runs axe-core. `deploy/test` installs chromium, node and the
//! pinned npm packages (deploy/lib.sh `kyso_web_peers`).
//!
//! `KYSO_SCREENSHOTS=docs/img` keeps the screenshots where README.md shows them.

mod serve_support;

use serde_json::json;
use serve_support::*;
use std::path::PathBuf;
use std::process::Command;

fn node_modules() -> PathBuf {
    let p = std::env::var_os("KYSO_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/kyso/web/node_modules")
        });
    assert!(
        p.join("playwright-core").is_dir() && p.join("axe-core").is_dir(),
        "{} lacks playwright-core or axe-core: deploy/test installs them (deploy/lib.sh kyso_web_peers)",
        p.display()
    );
    p
}

fn pem(der: &[u8]) -> String {
    let b = b64(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap());
        s.push('\n');
    }
    s + "-----END CERTIFICATE-----\n"
}

/// The log's entries from index `start` on (read as the auditor).
fn events_from(a: &Appliance, start: u64) -> Vec<serde_json::Value> {
    let auditor = a.agent(Who::Token("auditor"));
    let end = tree_size(a);
    (start..end)
        .map(|i| {
            let r = auditor.get(&format!("/v1/log/entries?start={i}&end={}", i + 1));
            assert_eq!(r.status, 200, "{}", r.text());
            serde_json::from_str(r.json()["entries"][0]["event"].as_str().unwrap()).unwrap()
        })
        .collect()
}

fn tree_size(a: &Appliance) -> u64 {
    let note = a
        .agent(Who::Token("auditor"))
        .get("/v1/log/checkpoint")
        .text();
    note.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn relying_agency_verifies_on_the_web_page_in_vietnamese_and_english_and_checks_the_archive_proof()
{
    let modules = node_modules();
    let a = Appliance::start_with(Options {
        web: vec!["public_verification = true".into()],
        // Within what every document below needs; not within what revisions-table.pdf does.
        limits: vec!["validation_memory_mib = 48".into()],
        ..Default::default()
    });
    let dir = a.dir.path().join("web");
    std::fs::create_dir_all(&dir).unwrap();

    // The documents: a result signed by the official, the same with one byte of the signed
    // range changed, the signed one co-signed with a second key, a detached CAdES signature,
    // and a corpus document whose page was changed after signing.
    let signed = signed_fixture(&a, "giay-phep.pdf");
    let signed_path = dir.join("giay-phep-da-ky.pdf");
    std::fs::write(&signed_path, &signed).unwrap();
    let mut tampered = signed.clone();
    let at = tampered
        .windows(29)
        .position(|w| w == b"/MediaBox [0 0 595.28 841.89]")
        .expect("the fixture's MediaBox");
    tampered[at + 27] = b'8';
    let tampered_path = dir.join("giay-phep-bi-sua.pdf");
    std::fs::write(&tampered_path, &tampered).unwrap();
    let cosign_src = dir.join("giay-phep-dong-ky.pdf");
    std::fs::write(&cosign_src, &signed).unwrap();
    let r = a.demo.run_pin(&[
        "sign",
        "--key",
        common::EC_KEY,
        "--overwrite",
        cosign_src.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cosigned_path = dir.join("giay-phep-dong-ky.signed.pdf");
    let detached_doc = dir.join("ket-qua.xml");
    std::fs::write(&detached_doc, "<KetQua>Được cấp phép</KetQua>\n").unwrap();
    let r = a.demo.run_pin(&[
        "sign",
        "--format",
        "cades",
        "--key",
        common::RSA_KEY,
        detached_doc.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let detached_sig = dir.join("ket-qua.xml.p7s");
    assert!(detached_sig.exists());
    // A detached signature by a signer (of a CA the service does not trust) whose name holds a
    // right-to-left override, a zero-width space and a line separator (pyca, OpenSSL).
    let spoof = dir.join("spoof");
    let out = Command::new(common::pyhanko().with_file_name("python"))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/hostile/report_spoofing.py"
        ))
        .arg(&spoof)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A document whose checking holds more than the 48 MiB limit (tests/hostile/repeated_work.py).
    serve_support::common::hostile("repeated_work.py", &[dir.as_os_str()]);
    let costly = dir.join("revisions-table.pdf");
    let changed_path = dir.join("trang-bi-sua-sau-khi-ky.pdf");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/corpus/isa-page-content-added/doc.pdf"
        ),
        &changed_path,
    )
    .unwrap();

    // The clerk archives the signed result, and a second version that will supersede it.
    let clerk = a.agent(Who::Token("clerk"));
    let code = "001099012345.GPXD";
    let put = |content: &[u8], rid: &str| {
        let r = clerk.post_json(
            "/v1/records",
            &json!({"code": code, "title": "Giấy phép xây dựng", "request_id": rid,
                    "content": b64(content)}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let j = r.json();
        (j["record"].as_u64().unwrap(), j["leaf"].as_u64().unwrap())
    };
    let (record, _) = put(&signed, "web-1");
    let (successor, successor_leaf) = put(&std::fs::read(&cosigned_path).unwrap(), "web-2");

    // The page and its files: the strict policy, on the page and on the API alike.
    let anon = a.agent(Who::Anonymous);
    let page = anon.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    let csp = page.header("content-security-policy").unwrap().to_string();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    for asset in ["/app.js", "/verify.js", "/app.css", "/i18n.json"] {
        let r = anon.get(asset);
        assert_eq!(r.status, 200, "{asset}");
        assert_eq!(r.header("content-security-policy"), Some(csp.as_str()));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    // The catalogue the page loads is the one `kyso verify` prints its summary from.
    assert_eq!(
        anon.get("/i18n.json").body,
        kyso_verify::i18n::CATALOGUE.as_bytes()
    );
    assert_eq!(
        anon.get("/v1/whoami").json()["user"],
        "(public)",
        "public verification answers without credentials"
    );

    // The public caller is a verifier and nothing more.
    for (method, path) in [
        ("POST", "/v1/records"),
        ("GET", "/v1/records?code=001099012345.GPXD&purpose=x"),
        ("GET", "/v1/records/0/content?purpose=x"),
        ("GET", "/v1/log/entries?start=0&end=1"),
        ("POST", "/v1/sign"),
        ("GET", "/metrics"),
    ] {
        let r = if method == "GET" {
            anon.get(path)
        } else {
            anon.send(method, path, "application/json", b"{}")
        };
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
    }

    // The checkpointer signs the log a moment after the ingest: wait until its checkpoint
    // holds the second ingest, so that what the page does is all that follows it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let size_before = loop {
        let size = tree_size(&a);
        if size > successor_leaf || std::time::Instant::now() > deadline {
            break size;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let ca = dir.join("server-ca.pem");
    std::fs::write(&ca, pem(a.server_ca_der())).unwrap();
    let shots = std::env::var_os("KYSO_SCREENSHOTS")
        .map(|p| {
            let p = PathBuf::from(p);
            if p.is_relative() {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
            } else {
                p
            }
        })
        .unwrap_or_else(|| dir.join("shots"));
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web/page.mjs"))
        .env("KYSO_NODE_MODULES", &modules)
        .env("KYSO_URL", &a.base)
        .env("KYSO_WEB_SHOTS", &shots)
        .env("KYSO_WEB_EXPECT_CSP", &csp)
        .env("KYSO_WEB_SIGNED", &signed_path)
        .env("KYSO_WEB_TAMPERED", &tampered_path)
        .env("KYSO_WEB_COSIGNED", &cosigned_path)
        .env(
            "KYSO_WEB_DOC_TIMESTAMP",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/corpus/b-lta-good/doc.pdf"
            ),
        )
        .env("KYSO_WEB_DETACHED_DOC", &detached_doc)
        .env("KYSO_WEB_DETACHED_SIG", &detached_sig)
        .env("KYSO_WEB_CHANGED", &changed_path)
        .env("KYSO_WEB_COSTLY", &costly)
        .env("KYSO_WEB_BIDI_DOC", spoof.join("doc.txt"))
        .env("KYSO_WEB_BIDI_SIG", spoof.join("bidi.p7s"))
        .env("KYSO_WEB_CODE", code)
        .env("KYSO_WEB_RECORD", record.to_string())
        .env("KYSO_WEB_SUCCESSOR", successor.to_string())
        .env("KYSO_WEB_CLERK_TOKEN", a.token("clerk"))
        .env("NODE_EXTRA_CA_CERTS", &ca)
        .output()
        .expect("node runs (deploy/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}\nservice log:\n{}",
        a.service_log()
    );
    assert!(stdout.contains(r#"{"ok":true,"checks":"#), "{stdout}");
    for shot in [
        "verify-valid-desktop.png",
        "verify-valid-phone.png",
        "verify-tampered-desktop.png",
        "verify-cosigned-desktop.png",
    ] {
        let png = std::fs::read(shots.join(shot)).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{shot}");
    }

    // Nothing of what was verified is kept: the log grew by the clerk's two status changes
    // and the page's lookups of documents the archive holds (each a logged find by the
    // public caller); a lookup of a document it does not hold (the tampered one) left no
    // entry; the service's log names neither the tampered document nor its hash.
    let grown = events_from(&a, size_before);
    let statuses = grown.iter().filter(|e| e["event"] == "status").count();
    assert_eq!(statuses, 2, "{grown:?}");
    for e in &grown {
        if e["event"] == "find" {
            assert_eq!(e["by"], "content", "{e}");
            assert_eq!(e["user"], "(public)", "{e}");
            assert_ne!(e["value"], sha256_hex(&tampered), "{e}");
            assert!(!e["records"].as_array().unwrap().is_empty(), "{e}");
        } else {
            assert_eq!(e["event"], "status", "{e}");
        }
    }
    assert!(grown.iter().any(|e| e["event"] == "find"));
    let log = a.service_log();
    assert!(!log.contains(&sha256_hex(&tampered)));
    assert!(!log.contains(&sha256_hex(&signed)));
    assert!(!log.contains("giay-phep-bi-sua"));
    assert!(log.contains("\"user\":\"(public)\""));
}

#[test]
fn without_public_verification_the_page_asks_for_credentials_and_works_with_an_agency_token() {
    let modules = node_modules();
    let a = Appliance::start();
    let anon = a.agent(Who::Anonymous);
    let page = anon.get("/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<html lang=\"vi\">"));
    assert_eq!(anon.get("/v1/whoami").status, 401);
    assert_eq!(
        anon.send("POST", "/v1/verify", "application/pdf", b"%PDF-1.7")
            .status,
        401
    );
    // The API's own answers keep the policy that loads nothing.
    let r = a.agent(Who::Token("verifier")).get("/v1/whoami");
    assert_eq!(
        r.header("content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );

    let signed = a.dir.path().join("giay-phep-da-ky.pdf");
    std::fs::write(&signed, signed_fixture(&a, "giay-phep.pdf")).unwrap();
    let csp = page.header("content-security-policy").unwrap();
    let out = Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web/page.mjs"))
        .env("KYSO_WEB_MODE", "private")
        .env("KYSO_NODE_MODULES", &modules)
        .env("KYSO_URL", &a.base)
        .env("KYSO_WEB_SHOTS", a.dir.path())
        .env("KYSO_WEB_EXPECT_CSP", csp)
        .env("KYSO_WEB_SIGNED", &signed)
        .env("KYSO_WEB_VERIFIER_TOKEN", a.token("verifier"))
        .output()
        .expect("node runs (deploy/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success() && stdout.contains(r#"{"ok":true,"checks":"#),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
