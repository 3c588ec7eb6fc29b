//! Two-phase remote signing end to end: the document never reaches the token's machine, only
//! a digest does; the result is judged by pyHanko and OpenSSL.

mod common;
use common::*;
use std::path::Path;

/// Phase 1: `kyso sign prepare --cert CERT --chain CA --out BASE EXTRA DOC` (BASE.json,
/// BASE.pdf kept); it must succeed. Its answer (stdout) is what the desk checks.
fn prepare(demo: &Demo, cert: &str, base: &Path, extra: &[&str], doc: &Path) -> Run {
    let cert = demo.path().join(cert);
    let ca = demo.ca_pem();
    let mut args = vec![
        "sign",
        "prepare",
        "--cert",
        cert.to_str().unwrap(),
        "--chain",
        ca.to_str().unwrap(),
        "--out",
        base.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(doc.to_str().unwrap());
    let p = demo.run(&args);
    assert_eq!(p.code, 0, "prepare: {}", p.stderr);
    p
}

/// Phase 1 in the "service" directory, phase 2 with only the digest, phase 3 back again.
fn three_phases(
    demo: &Demo,
    key: &str,
    cert: &str,
    prepare_extra: &[&str],
    finalize_extra: &[&str],
    doc: &Path,
    out: &Path,
) -> Run {
    // A state per signing (one is never written over).
    let base = demo.path().join(format!(
        "pending-{}",
        out.file_name().unwrap().to_str().unwrap()
    ));
    let p = prepare(demo, cert, &base, prepare_extra, doc);
    // The desk check: the token's machine prepares the document by the answer's recipe and
    // signs only if it gets the same digest.
    let answer = demo.path().join("answer.json");
    std::fs::write(&answer, &p.stdout).unwrap();
    let s = desk(demo, key, &answer, doc, &[]);
    assert_eq!(s.code, 0, "digest: {}", s.stderr);
    let pending = Path::new(&format!("{}.json", base.display())).to_path_buf();
    let mut args = vec![
        "sign",
        "finalize",
        "--pending",
        pending.to_str().unwrap(),
        "--signature",
        s.stdout.trim(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(finalize_extra);
    demo.run_pin(&args)
}

/// `kyso sign digest --key KEY --prepared ANSWER --document DOC MORE`.
fn desk(demo: &Demo, key: &str, answer: &Path, doc: &Path, more: &[&str]) -> Run {
    let mut args = vec![
        "sign",
        "digest",
        "--key",
        key,
        "--prepared",
        answer.to_str().unwrap(),
        "--document",
        doc.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    demo.run_pin(&args)
}

/// The desk check refuses what the official did not mean to sign, before the token signs
/// anything: the answer for another document, a digest swapped for another prepared
/// document's (a service that lies), a recipe changed after the digest was made (another
/// reason), an answer prepared for another official's certificate, a --digest beside the
/// answer that is not its own. Without the check the token signs any digest it is given.
#[test]
fn the_desk_signs_only_the_digest_of_the_document_it_holds() {
    let demo = Demo::new();
    let prepare = |cert: &str, doc: &Path, extra: &[&str]| -> serde_json::Value {
        // The copy-stamped prepare keeps its pending state apart: p.json stays the last plain one's.
        let base = demo.path().join(if extra.contains(&"--copy-stamp") {
            "q"
        } else {
            "p"
        });
        // A state is never written over: the last one removed first, as a user would.
        for ext in ["json", "pdf"] {
            let _ = std::fs::remove_file(base.with_extension(ext));
        }
        prepare(&demo, cert, &base, extra, doc).json()
    };
    let mine = fixture("giay-phep.pdf");
    let other = fixture("three-pages.pdf");
    let answer = demo.path().join("answer.json");
    let reason = ["--reason", "Phê duyệt"];
    let other_digest = prepare("signer-rsa.pem", &other, &reason)["digest"].clone();
    let ec = prepare("signer-ec.pem", &mine, &reason);
    // Last: p.json is its pending state.
    let good = prepare("signer-rsa.pem", &mine, &reason);
    let refused = |j: &serde_json::Value, key: &str, doc: &Path, more: &[&str], why: &str| {
        std::fs::write(&answer, j.to_string()).unwrap();
        let r = desk(&demo, key, &answer, doc, more);
        assert_eq!(r.code, 5, "{j}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "nothing is signed: {}", r.stdout);
        assert!(r.stderr.contains(why), "{}", r.stderr);
    };
    // Another document than the one prepared.
    refused(&good, RSA_KEY, &other, &[], "not that of this document");
    // The digest of another prepared document with this one's recipe.
    let mut swapped = good.clone();
    swapped["digest"] = other_digest;
    refused(&swapped, RSA_KEY, &mine, &[], "not that of this document");
    // The recipe told otherwise than it was prepared.
    let mut retold = good.clone();
    retold["recipe"]["reason"] = "Đồng ý".into();
    refused(&retold, RSA_KEY, &mine, &[], "not that of this document");
    // Prepared for another official's certificate (an EC one), signed with this token.
    let mut ec_as_rsa = ec.clone();
    ec_as_rsa["recipe"]["algorithm"] = "rsa-pkcs1-sha256".into();
    refused(&ec_as_rsa, RSA_KEY, &mine, &[], "not that of this document");
    // A --digest that is not the answer's.
    refused(
        &good,
        RSA_KEY,
        &mine,
        &["--digest", ec["digest"].as_str().unwrap()],
        "--digest is not the digest",
    );
    // A signing time two days back (the signature would claim it).
    let mut backdated = good.clone();
    backdated["recipe"]["signing_time"] =
        (good["recipe"]["signing_time"].as_u64().unwrap() - 2 * 86_400).into();
    refused(&backdated, RSA_KEY, &mine, &[], "more than a day");
    // A signing time no clock reaches: refused, no panic.
    let mut far = good.clone();
    far["recipe"]["signing_time"] = u64::MAX.into();
    refused(&far, RSA_KEY, &mine, &[], "past the year 9999");
    // What the official did not ask for: the digitized-copy stamp, signing over a broken
    // signature — refused unless the desk says so itself.
    let copy = prepare("signer-rsa.pem", &mine, &["--copy-stamp"]);
    refused(&copy, RSA_KEY, &mine, &[], "give --copy-stamp");
    std::fs::write(&answer, copy.to_string()).unwrap();
    let r = desk(&demo, RSA_KEY, &answer, &mine, &["--copy-stamp"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("the digitized-copy stamp"),
        "{}",
        r.stderr
    );
    let mut over = good.clone();
    over["recipe"]["sign_over_broken"] = true.into();
    refused(&over, RSA_KEY, &mine, &[], "give --sign-over-broken");
    // A recipe kyso does not know.
    let mut odd = good.clone();
    odd["recipe"]["page"] = 2.into();
    refused(&odd, RSA_KEY, &mine, &[], "not what prepare answers");
    // The answer as prepared: signed, and the signature verifies over its digest.
    std::fs::write(&answer, good.to_string()).unwrap();
    let r = desk(&demo, RSA_KEY, &answer, &mine, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("checked:") && r.stderr.contains("Phê duyệt"),
        "{}",
        r.stderr
    );
    let f = demo.run_pin(&[
        "sign",
        "finalize",
        "--pending",
        demo.path().join("p.json").to_str().unwrap(),
        "--signature",
        r.stdout.trim(),
        "--out",
        demo.path().join("out.pdf").to_str().unwrap(),
    ]);
    assert_eq!(f.code, 0, "{}", f.stderr);
}

#[test]
fn official_signs_a_pdf_held_by_the_service_with_only_a_digest_travelling() {
    let demo = Demo::new();
    for (key, cert, input) in [
        (RSA_KEY, "signer-rsa.pem", "giay-phep.pdf"),
        (EC_KEY, "signer-ec.pem", "three-pages.pdf"),
    ] {
        let out = demo.path().join(format!("{cert}.signed.pdf"));
        let r = three_phases(
            &demo,
            key,
            cert,
            &["--reason", "Phê duyệt từ xa"],
            &[],
            &fixture(input),
            &out,
        );
        assert_eq!(r.code, 0, "finalize: {}", r.stderr);
        let original = std::fs::read(fixture(input)).unwrap();
        assert!(std::fs::read(&out).unwrap().starts_with(&original));
        let lines = pyhanko_validate(&demo, &out).1;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains(":INTACT:TRUSTED"), "{}", lines[0]);
    }
}

#[test]
fn remote_b_t_and_cades_detached_and_attached() {
    let demo = Demo::new();
    let out = demo.path().join("bt.pdf");
    let tsa = [
        "--tsa",
        "internal",
        "--tsa-key",
        "pkcs11:token=kyso-dev;object=tsa",
    ];
    let r = three_phases(
        &demo,
        RSA_KEY,
        "signer-rsa.pem",
        &["--timestamped"],
        &tsa,
        &fixture("giay-phep-objstm.pdf"),
        &out,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = pyhanko_validate(&demo, &out).1;
    assert!(
        lines[0].contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "{lines:?}"
    );

    let doc = demo.path().join("quyet-dinh.txt");
    std::fs::write(&doc, "Quyết định số 77/QĐ-UBND").unwrap();
    for (extra, name) in [
        (vec!["--format", "cades"], "d.p7s"),
        (vec!["--format", "cades", "--attached"], "a.p7m"),
    ] {
        let out = demo.path().join(name);
        let r = three_phases(&demo, EC_KEY, "signer-ec.pem", &extra, &[], &doc, &out);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let v = openssl_cms_verify(&demo, &out, name.ends_with("p7s").then_some(doc.as_path()));
        assert_eq!(v.code, 0, "{name}: {}", v.stderr);
    }
}

#[test]
fn a_foreign_or_damaged_signature_or_document_is_refused_and_nothing_is_written() {
    let demo = Demo::new();
    let base = demo.path().join("job");
    let cert = demo.path().join("signer-rsa.pem");
    let p = demo.run(&[
        "sign",
        "prepare",
        "--cert",
        cert.to_str().unwrap(),
        "--out",
        base.to_str().unwrap(),
        fixture("giay-phep.pdf").to_str().unwrap(),
    ]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let digest = p.json()["digest"].as_str().unwrap().to_string();
    let pending = base.with_extension("json");
    let out = demo.path().join("out.pdf");
    let finalize = |sig: &str| {
        demo.run(&[
            "sign",
            "finalize",
            "--pending",
            pending.to_str().unwrap(),
            "--signature",
            sig,
            "--out",
            out.to_str().unwrap(),
        ])
    };

    // Signed by another official's key: refused.
    let other = demo.run_pin(&["sign", "digest", "--key", EC_KEY, "--digest", &digest]);
    assert_eq!(other.code, 0, "{}", other.stderr);
    let r = finalize(other.stdout.trim());
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("does not verify with the certificate's public key"),
        "{}",
        r.stderr
    );
    // The right key over another digest: refused.
    let wrong = demo.run_pin(&[
        "sign",
        "digest",
        "--key",
        RSA_KEY,
        "--digest",
        &"11".repeat(32),
    ]);
    let r = finalize(wrong.stdout.trim());
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(!out.exists());

    // The right signature, but the prepared PDF was changed meanwhile: refused.
    let good = demo.run_pin(&["sign", "digest", "--key", RSA_KEY, "--digest", &digest]);
    let pdf = base.with_extension("pdf");
    let mut bytes = std::fs::read(&pdf).unwrap();
    let i = bytes.windows(3).position(|w| w == b"Hoa").unwrap_or(200);
    bytes[i] ^= 0x20;
    std::fs::write(&pdf, &bytes).unwrap();
    let r = finalize(good.stdout.trim());
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not the one that was prepared"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    bytes[i] ^= 0x20;
    std::fs::write(&pdf, &bytes).unwrap();
    let r = finalize(good.stdout.trim());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.exists());

    // Garbage in the pending state or signature: clear errors.
    std::fs::write(&pending, "{not json").unwrap();
    let r = demo.run(&[
        "sign",
        "finalize",
        "--pending",
        pending.to_str().unwrap(),
        "--signature",
        "00",
        "--out",
        demo.path().join("x.pdf").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("is not a pending state"), "{}", r.stderr);

    // A certificate that may not sign documents now (OpenSSL's, expired) prepares nothing.
    let (key, csr, expired) = (
        demo.path().join("old.key"),
        demo.path().join("old.csr"),
        demo.path().join("old.pem"),
    );
    assert_eq!(
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            key.to_str().unwrap()
        ])
        .code,
        0
    );
    assert_eq!(
        openssl(&[
            "req",
            "-new",
            "-key",
            key.to_str().unwrap(),
            "-subj",
            "/CN=Can bo cu/C=VN",
            "-out",
            csr.to_str().unwrap()
        ])
        .code,
        0
    );
    assert_eq!(
        openssl(&[
            "x509",
            "-req",
            "-days",
            "-1",
            "-in",
            csr.to_str().unwrap(),
            "-signkey",
            key.to_str().unwrap(),
            "-out",
            expired.to_str().unwrap()
        ])
        .code,
        0
    );
    let base = demo.path().join("old-prepared");
    let r = demo.run(&[
        "sign",
        "prepare",
        "--cert",
        expired.to_str().unwrap(),
        "--out",
        base.to_str().unwrap(),
        fixture("giay-phep.pdf").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 15, "{}", r.stderr);
    assert!(r.stderr.contains("expired"), "{}", r.stderr);
    assert!(!base.with_extension("json").exists());
}

/// A CAdES-attached pending state whose content was replaced after the signature was made is
/// refused at finalize, and nothing is written: the CMS it made had the new content beside the
/// old digest and failed verification, exit 0 (found by an attacker's reading, 2026-12-03).
/// The state as prepared finalizes, and OpenSSL verifies the result.
#[test]
fn an_attached_content_replaced_in_the_pending_state_is_refused() {
    let demo = Demo::new();
    let doc = demo.path().join("quyet-dinh.txt");
    std::fs::write(&doc, "Quyết định số 77/QĐ-UBND").unwrap();
    let base = demo.path().join("pending");
    let p = prepare(
        &demo,
        "signer-ec.pem",
        &base,
        &["--format", "cades", "--attached"],
        &doc,
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    let answer = demo.path().join("answer.json");
    std::fs::write(&answer, &p.stdout).unwrap();
    let s = desk(&demo, EC_KEY, &answer, &doc, &[]);
    assert_eq!(s.code, 0, "digest: {}", s.stderr);
    let pending = base.with_extension("json");
    let original = std::fs::read_to_string(&pending).unwrap();
    let mut state: serde_json::Value = serde_json::from_str(&original).unwrap();
    let other: String = "Quyết định số 99/QĐ-UBND"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    state["attached_content"] = serde_json::Value::String(other);
    std::fs::write(&pending, state.to_string()).unwrap();
    let out = demo.path().join("a.p7m");
    let finalize = || {
        demo.run(&[
            "sign",
            "finalize",
            "--pending",
            pending.to_str().unwrap(),
            "--signature",
            s.stdout.trim(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let r = finalize();
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the attached content is not the content whose digest was signed"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    std::fs::write(&pending, original).unwrap();
    let r = finalize();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = openssl_cms_verify(&demo, &out, None);
    assert_eq!(v.code, 0, "{}", v.stderr);
}

/// Helper 166's reading of `kyso sign finalize`: a prepared PDF whose /Contents hole was
/// written in (or widened, its offsets edited), a pending state whose certificate was swapped
/// for another over the same key, a certificate that expired since — each finalized with exit
/// 0 into a file verifiers refused, or signed with a certificate that may not sign now. And an
/// algorithm the key cannot make prepared a state nothing could finalize.
#[test]
fn a_prepared_pdf_or_pending_state_edited_or_an_expired_certificate_finalizes_nothing() {
    let demo = Demo::new();
    let d = demo.path();
    let base = d.join("pending");
    let p = prepare(
        &demo,
        "signer-ec.pem",
        &base,
        &[],
        &fixture("giay-phep.pdf"),
    );
    let answer = d.join("answer.json");
    std::fs::write(&answer, &p.stdout).unwrap();
    let s = desk(&demo, EC_KEY, &answer, &fixture("giay-phep.pdf"), &[]);
    assert_eq!(s.code, 0, "digest: {}", s.stderr);
    let (pending, pdf) = (base.with_extension("json"), base.with_extension("pdf"));
    let (state, prepared) = (
        std::fs::read_to_string(&pending).unwrap(),
        std::fs::read(&pdf).unwrap(),
    );
    let out = d.join("signed.pdf");
    let finalize = |faketime: Option<&str>, more: &[&str]| -> Run {
        let mut c = match faketime {
            Some(t) => {
                let mut c = std::process::Command::new("faketime");
                c.arg(t).arg(kyso_bin());
                c.env("SOFTHSM2_CONF", demo.conf());
                c
            }
            None => demo.cmd(),
        };
        c.args(["sign", "finalize", "--pending"])
            .arg(&pending)
            .args(["--signature", s.stdout.trim()])
            .args(more)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
            .into()
    };
    // Text written into the hole (a /Reason, as the helper did).
    let v: serde_json::Value = serde_json::from_str(&state).unwrap();
    let c0 = v["contents"][0].as_u64().unwrap() as usize;
    let mut edited = prepared.clone();
    let text = b">/Reason (EVIL) /X <";
    edited[c0 + 100..c0 + 100 + text.len()].copy_from_slice(text);
    std::fs::write(&pdf, &edited).unwrap();
    let r = finalize(None, &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("is not as prepared"), "{}", r.stderr);
    assert!(!out.exists());
    std::fs::write(&pdf, &prepared).unwrap();

    // Another certificate over the official's key (OpenSSL, any issuer), put in the state.
    let pubkey = d.join("official-pub.pem");
    succeeded(
        std::process::Command::new("openssl")
            .args(["x509", "-pubkey", "-noout", "-in"])
            .arg(d.join("signer-ec.pem"))
            .arg("-out")
            .arg(&pubkey),
    );
    openssl_ec_key(&d.join("any.key"), None);
    let other = d.join("someone-else.der");
    succeeded(
        std::process::Command::new("openssl")
            .args(["x509", "-new", "-subj", "/CN=SOMEONE ELSE", "-days", "30"])
            .arg("-key")
            .arg(d.join("any.key"))
            .arg("-force_pubkey")
            .arg(&pubkey)
            .args(["-outform", "DER", "-out"])
            .arg(&other),
    );
    let mut v2 = v.clone();
    v2["certificate"] = serde_json::Value::String(hex::encode(std::fs::read(&other).unwrap()));
    std::fs::write(&pending, v2.to_string()).unwrap();
    let r = finalize(None, &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the certificate is not the one its signed attributes name"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    std::fs::write(&pending, &state).unwrap();

    // Finalized after the certificate expired (the demo's are valid for a few years).
    let r = finalize(Some("10 years"), &[]);
    assert_eq!(r.code, 15, "{}", r.stderr);
    assert!(!out.exists());
    // As prepared: signed.
    let r = finalize(None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // ECDSA asked of an RSA key: refused at prepare, nothing written.
    let base2 = d.join("pending-alg");
    let r = demo.run(&[
        "sign",
        "prepare",
        "--cert",
        d.join("signer-rsa.pem").to_str().unwrap(),
        "--alg",
        "ecdsa-sha256",
        "--out",
        base2.to_str().unwrap(),
        fixture("giay-phep.pdf").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("does not fit the certificate's key (RSA)"),
        "{}",
        r.stderr
    );
    assert!(!base2.with_extension("json").exists());

    // ECDSA asked of a P-521 key (OpenSSL's), a curve kyso does not sign with.
    std::fs::write(
        d.join("p521.cnf"),
        "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n\
         [dn]\nCN = P-521 official\n\
         [ext]\nkeyUsage = critical,digitalSignature,nonRepudiation\nbasicConstraints = critical,CA:FALSE\n",
    )
    .unwrap();
    succeeded(
        std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-521",
            ])
            .args(["-nodes", "-days", "30", "-config"])
            .arg(d.join("p521.cnf"))
            .arg("-keyout")
            .arg(d.join("p521.key"))
            .arg("-out")
            .arg(d.join("p521.pem")),
    );
    let r = demo.run(&[
        "sign",
        "prepare",
        "--cert",
        d.join("p521.pem").to_str().unwrap(),
        "--alg",
        "ecdsa-sha512",
        "--out",
        base2.to_str().unwrap(),
        fixture("giay-phep.pdf").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr.contains("a curve other than P-256 or P-384"),
        "{}",
        r.stderr
    );
    assert!(!base2.with_extension("json").exists());

    // The prepared PDF is judged before the TSA is asked: a refused finalize spent a
    // time-stamp (helper 168). The TSA named does not answer; the hole's byte says first.
    let mut edited = prepared.clone();
    edited[c0 + 1] = b'1';
    std::fs::write(&pdf, &edited).unwrap();
    std::fs::remove_file(&out).unwrap();
    let r = finalize(None, &["--tsa", "http://127.0.0.1:9/"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("is not as prepared"), "{}", r.stderr);

    // Prepared without --timestamped, finalized with --tsa: no room for a token, said before
    // the TSA is asked (helper 169: a token was spent, then the signature did not fit).
    std::fs::write(&pdf, &prepared).unwrap();
    let r = finalize(None, &["--tsa", "http://127.0.0.1:9/"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("too few for one"), "{}", r.stderr);
    assert!(!out.exists());
}

/// `--out BASE` gets its extensions appended: the document's own name as BASE leaves the
/// document as it was (with the extension replaced, `--out hoso.pdf hoso.pdf` wrote the
/// prepared PDF over it), the state finalizes from there, and a pending state is never
/// written over (usage, exit 3, before the document is read).
#[test]
fn a_pending_state_never_overwrites_the_document_or_another_state() {
    let demo = Demo::new();
    let doc = demo.path().join("hoso.pdf");
    std::fs::copy(fixture("giay-phep.pdf"), &doc).unwrap();
    let before = std::fs::read(&doc).unwrap();
    let cert = demo.path().join("signer-rsa.pem");
    let run = || {
        demo.run(&[
            "sign",
            "prepare",
            "--cert",
            cert.to_str().unwrap(),
            "--out",
            doc.to_str().unwrap(),
            doc.to_str().unwrap(),
        ])
    };
    let p = run();
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(
        std::fs::read(&doc).unwrap(),
        before,
        "the document is untouched"
    );
    let state = demo.path().join("hoso.pdf.json");
    assert_eq!(p.json()["pending"].as_str(), state.to_str(), "{}", p.stdout);
    let prepared = std::fs::read(demo.path().join("hoso.pdf.pdf")).unwrap();
    assert!(prepared.len() > before.len() && prepared.starts_with(&before));
    let kept = std::fs::read(&state).unwrap();
    let again = run();
    assert_eq!(again.code, 3, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("hoso.pdf.json exists: a pending state is never written over"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read(&state).unwrap(), kept);
    assert_eq!(std::fs::read(&doc).unwrap(), before);
    // The state finalizes: its prepared PDF is found beside it.
    let digest = p.json()["digest"].as_str().unwrap().to_string();
    let s = demo.run_pin(&["sign", "digest", "--key", RSA_KEY, "--digest", &digest]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let out = demo.path().join("hoso.signed.pdf");
    let f = demo.run(&[
        "sign",
        "finalize",
        "--pending",
        state.to_str().unwrap(),
        "--signature",
        s.stdout.trim(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(f.code, 0, "{}", f.stderr);
    let j = verified(&demo, &out, &demo.ca_pem());
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
    // A folder is no base (`jobs/` wrote `jobs/.json`, and finalize looked for
    // `jobs/.json.pdf`); a CAdES state writes no PDF, so a PDF of that base is no obstacle.
    let jobs = demo.path().join("jobs");
    std::fs::create_dir(&jobs).unwrap();
    for base in [format!("{}/", jobs.display()), jobs.display().to_string()] {
        let r = demo.run(&[
            "sign",
            "prepare",
            "--cert",
            cert.to_str().unwrap(),
            "--out",
            &base,
            doc.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 3, "{base}: {}", r.stderr);
        assert!(r.stderr.contains("not a folder"), "{base}: {}", r.stderr);
    }
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    let r = demo.run(&[
        "sign",
        "prepare",
        "--format",
        "cades",
        "--cert",
        cert.to_str().unwrap(),
        "--out",
        demo.path().join("hoso").to_str().unwrap(),
        doc.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(demo.path().join("hoso.json").is_file());
}
