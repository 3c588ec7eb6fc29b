//! `kyso verify` on what kyso signs, its exit codes, and the human summary of Circular 15/2025.

mod common;
use common::*;

#[test]
fn relying_agency_accepts_what_kyso_signs_and_sees_the_eight_items() {
    let demo = Demo::new();
    let d = demo.path();
    let pdf = d.join("gp.pdf");
    std::fs::copy(fixture("three-pages.pdf"), &pdf).unwrap();
    assert_eq!(
        demo.run_pin(&[
            "sign",
            "--level",
            "B-T",
            "--key",
            RSA_KEY,
            pdf.to_str().unwrap()
        ])
        .code,
        0
    );
    let signed = d.join("gp.signed.pdf");
    assert_eq!(
        demo.run_pin(&["sign", "--key", EC_KEY, signed.to_str().unwrap()])
            .code,
        0
    );
    let both = d.join("gp.signed.signed.pdf");
    let ca = demo.ca_pem();
    let r = demo.run(&[
        "verify",
        both.to_str().unwrap(),
        "--trust",
        ca.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let j = r.json();
    assert_eq!(j["indication"], "TOTAL-PASSED");
    let sigs = j["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs[0]["format"], "PAdES-B-T");
    assert!(sigs[0]["timestamp"].is_string());
    assert_eq!(sigs[0]["covers_whole_document"], false);
    assert_eq!(sigs[1]["format"], "PAdES-B-B");
    assert_eq!(sigs[1]["covers_whole_document"], true);
    assert!(sigs[0]["signer"]["subject"]
        .as_str()
        .unwrap()
        .contains("Nguyễn Văn An"));
    assert_eq!(sigs[0]["signer"]["sha256"].as_str().unwrap().len(), 64);

    // The human summary in Vietnamese shows the eight items, and the missing revocation warning.
    let r = demo.run(&[
        "verify",
        both.to_str().unwrap(),
        "--trust",
        ca.to_str().unwrap(),
    ]);
    for item in [
        "Kết quả: HỢP LỆ",
        "1. Tình trạng chữ ký",
        "2. Tổ chức cấp chứng thư",
        "3. Người ký",
        "4. Tổ chức quản lý chứng thư",
        "5. Thời gian ký",
        "6. Toàn vẹn nội dung: có",
        "7. Chứng thư còn hiệu lực khi ký: có",
        "8. Thời hạn chứng thư",
        "không kiểm tra được tình trạng thu hồi",
    ] {
        assert!(r.stdout.contains(item), "missing {item:?}:\n{}", r.stdout);
    }
    let r = demo.run(&[
        "verify",
        both.to_str().unwrap(),
        "--trust",
        ca.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert!(
        r.stdout.contains("Result: VALID") && r.stdout.contains("8. Certificate validity period"),
        "{}",
        r.stdout
    );

    // A CAdES detached signature by kyso, and the same over other bytes.
    let doc = d.join("doc.xml");
    std::fs::write(&doc, "<KetQua/>").unwrap();
    assert_eq!(
        demo.run_pin(&[
            "sign",
            "--format",
            "cades",
            "--key",
            RSA_KEY,
            doc.to_str().unwrap()
        ])
        .code,
        0
    );
    let p7s = d.join("doc.xml.p7s");
    let r = demo.run(&[
        "verify",
        doc.to_str().unwrap(),
        "--detached",
        p7s.to_str().unwrap(),
        "--trust",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    std::fs::write(&doc, "<KetQua>sửa</KetQua>").unwrap();
    let r = demo.run(&[
        "verify",
        doc.to_str().unwrap(),
        "--detached",
        p7s.to_str().unwrap(),
        "--trust",
        ca.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["subindication"], "HASH_FAILURE");
}

#[test]
fn verify_exit_codes_follow_design_md() {
    let demo = Demo::new();
    let d = demo.path();
    // 2: no signature
    let r = demo.run(&["verify", fixture("giay-phep.pdf").to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.contains("KHÔNG CÓ CHỮ KÝ SỐ"), "{}", r.stdout);
    // 2: signed, but no trust anchor given
    let pdf = d.join("x.pdf");
    std::fs::copy(fixture("giay-phep.pdf"), &pdf).unwrap();
    assert_eq!(
        demo.run_pin(&["sign", "--key", RSA_KEY, pdf.to_str().unwrap()])
            .code,
        0
    );
    let r = demo.run(&["verify", d.join("x.signed.pdf").to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["subindication"], "NO_CERTIFICATE_CHAIN_FOUND");
    // The same with a signature time-stamp (B-T, the internal TSA, untrusted too): the
    // signer's missing path is still the reason given first, the time-stamp's after it.
    let bt = d.join("bt.pdf");
    std::fs::copy(fixture("giay-phep.pdf"), &bt).unwrap();
    let r = demo.run_pin(&[
        "sign",
        "--key",
        RSA_KEY,
        "--level",
        "B-T",
        bt.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = demo.run(&[
        "verify",
        d.join("bt.signed.pdf").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 2);
    let j = r.json();
    assert_eq!(j["subindication"], "NO_CERTIFICATE_CHAIN_FOUND", "{j}");
    let m = j["signatures"][0]["messages"].as_array().unwrap();
    assert!(
        m[0].as_str()
            .unwrap()
            .starts_with("no certification path from"),
        "{j}"
    );
    assert!(
        m.iter().any(|m| m
            .as_str()
            .unwrap()
            .starts_with("the signature time-stamp does not prove")),
        "{j}"
    );
    // 2: a detached signature (OpenSSL's `cms -sign`, detached by default) given without its
    // content: the content is missing, not changed — and `--detached` is named.
    let key = d.join("ossl.key");
    let cert = d.join("ossl.pem");
    let r = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=detached",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let content = d.join("qd.txt");
    std::fs::write(&content, "Quyết định số 12/QĐ-UBND\n").unwrap();
    let sig = d.join("qd.txt.p7s");
    let r = openssl(&[
        "cms",
        "-sign",
        "-binary",
        "-in",
        content.to_str().unwrap(),
        "-signer",
        cert.to_str().unwrap(),
        "-inkey",
        key.to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        sig.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let alone = demo.run(&[
        "verify",
        sig.to_str().unwrap(),
        "--trust",
        cert.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(alone.code, 2, "{}", alone.stdout);
    let j = alone.json();
    assert_eq!(
        (j["indication"].as_str(), j["subindication"].as_str()),
        (Some("INDETERMINATE"), Some("SIGNED_DATA_NOT_FOUND")),
        "{j}"
    );
    assert!(j.to_string().contains("--detached"), "{j}");
    // Alone, its signer is still named, and a signature value that does not verify over the
    // signed attributes is a failure, not "content not given" (OpenSSL puts the RSA value
    // last: its last byte flipped).
    assert_eq!(
        j["signatures"][0]["signer"]["subject"], "CN=detached",
        "{j}"
    );
    let mut forged = std::fs::read(&sig).unwrap();
    *forged.last_mut().unwrap() ^= 1;
    let forged_sig = d.join("forged.p7s");
    std::fs::write(&forged_sig, &forged).unwrap();
    let f = demo.run(&[
        "verify",
        forged_sig.to_str().unwrap(),
        "--trust",
        cert.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(f.code, 1, "{}", f.stdout);
    assert_eq!(
        f.json()["subindication"],
        "SIG_CRYPTO_FAILURE",
        "{}",
        f.stdout
    );
    // Given its content, the same signature is judged over it (and the bytes are not refused
    // as changed).
    let both = demo.run(&[
        "verify",
        content.to_str().unwrap(),
        "--detached",
        sig.to_str().unwrap(),
        "--trust",
        cert.to_str().unwrap(),
        "--json",
    ]);
    assert_ne!(
        both.json()["subindication"],
        "SIGNED_DATA_NOT_FOUND",
        "{}",
        both.stdout
    );
    assert_ne!(
        both.json()["subindication"],
        "HASH_FAILURE",
        "{}",
        both.stdout
    );
    // 1: garbage that claims to be a PDF
    let junk = d.join("junk.pdf");
    std::fs::write(&junk, b"%PDF-1.7\n garbage").unwrap();
    let r = demo.run(&["verify", junk.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["subindication"], "FORMAT_FAILURE");
    // 3: usage and I/O
    assert_eq!(demo.run(&["verify", "/nonexistent.pdf"]).code, 3);
    assert_eq!(
        demo.run(&[
            "verify",
            junk.to_str().unwrap(),
            "--trust",
            junk.to_str().unwrap()
        ])
        .code,
        3
    );
    assert_eq!(demo.run(&["verify"]).code, 3);
}

#[test]
fn truncations_and_byte_changes_of_a_signed_pdf_never_pass_and_never_crash() {
    let demo = Demo::new();
    let d = demo.path();
    let pdf = d.join("x.pdf");
    std::fs::copy(fixture("giay-phep-objstm.pdf"), &pdf).unwrap();
    assert_eq!(
        demo.run_pin(&["sign", "--key", EC_KEY, pdf.to_str().unwrap()])
            .code,
        0
    );
    let signed = std::fs::read(d.join("x.signed.pdf")).unwrap();
    let ca = demo.ca_pem();
    let target = d.join("t.pdf");
    let original_len = std::fs::metadata(fixture("giay-phep-objstm.pdf"))
        .unwrap()
        .len() as usize;
    // Changes inside the signed bytes: every 997th position of the original part.
    for pos in (0..original_len).step_by(997) {
        let mut b = signed.clone();
        b[pos] ^= 0x04;
        std::fs::write(&target, &b).unwrap();
        let r = demo.run(&[
            "verify",
            target.to_str().unwrap(),
            "--trust",
            ca.to_str().unwrap(),
            "--json",
        ]);
        assert!(
            r.code == 1 || r.code == 2,
            "byte {pos} changed: exit {} {}",
            r.code,
            r.stdout
        );
        assert_ne!(r.json()["indication"], "TOTAL-PASSED");
    }
    for cut in [signed.len() - 1, signed.len() - 10, signed.len() / 2, 100] {
        std::fs::write(&target, &signed[..cut]).unwrap();
        let r = demo.run(&[
            "verify",
            target.to_str().unwrap(),
            "--trust",
            ca.to_str().unwrap(),
            "--json",
        ]);
        assert!(
            matches!(r.code, 1 | 2),
            "cut at {cut}: exit {} {}",
            r.code,
            r.stderr
        );
    }
}

#[test]
fn a_reader_that_closes_the_pipe_early_gets_no_panic_and_the_verdict_stays_in_the_exit_status() {
    // `kyso verify … | head -1`: head closes the pipe after its line; kyso must not panic on
    // the closed pipe, and its exit status still tells the verdict.
    let demo = Demo::new();
    let pdf = demo.path().join("gp.pdf");
    std::fs::copy(fixture("three-pages.pdf"), &pdf).unwrap();
    assert_eq!(
        demo.run_pin(&["sign", "--key", RSA_KEY, pdf.to_str().unwrap()])
            .code,
        0
    );
    let signed = demo.path().join("gp.signed.pdf");
    for json in [true, false] {
        let mut cmd = kyso_cmd();
        cmd.args(["verify", signed.to_str().unwrap(), "--trust"])
            .arg(demo.ca_pem());
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before kyso writes
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(out.status.code(), Some(0), "json={json}: {stderr}");
    }
}

/// A PDF made with Python's zlib (tests/hostile/objstm_bomb.py): 4,000 form fields, all in one
/// object stream that inflates past the 64 MiB limit. Each reference used to inflate it again
/// — minutes of one validation thread for a 110 KB file (found by the `verify_pdf` fuzz
/// target); it is now read once (pdf/src/document.rs tests count the bytes inflated) and the
/// file is judged: no signature, nothing else to say.
#[test]
fn an_object_stream_bomb_referenced_by_thousands_of_fields_is_judged() {
    let demo = Demo::new();
    let pdf = demo.path().join("bomb.pdf");
    let st = std::process::Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/objstm_bomb.py"))
        .arg(&pdf)
        .arg("4000")
        .status()
        .unwrap();
    assert!(st.success());
    let r = demo.run(&["verify", pdf.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["indication"], "NO_SIGNATURE");
}
