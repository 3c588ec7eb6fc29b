//! RFC 3161: kyso's internal TSA judged by OpenSSL, B-T signatures judged by pyHanko and
//! OpenSSL, and the TSA client over real HTTP on loopback.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

#[test]
fn internal_tsa_answers_openssl_requests_and_openssl_verifies_the_reply() {
    let demo = Demo::new();
    let d = demo.path();
    let data = d.join("ket-qua.pdf");
    std::fs::copy(fixture("giay-phep.pdf"), &data).unwrap();
    for (hash, flag) in [("sha256", "-sha256"), ("sha512", "-sha512")] {
        let q = d.join(format!("{hash}.tsq"));
        let r = d.join(format!("{hash}.tsr"));
        let o = openssl(&[
            "ts",
            "-query",
            "-data",
            data.to_str().unwrap(),
            flag,
            "-cert",
            "-out",
            q.to_str().unwrap(),
        ]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let k = demo.run_pin(&[
            "timestamp",
            "--key",
            TSA_KEY,
            "--in",
            q.to_str().unwrap(),
            "--out",
            r.to_str().unwrap(),
        ]);
        assert_eq!(k.code, 0, "{}", k.stderr);
        let v = openssl(&[
            "ts",
            "-verify",
            "-in",
            r.to_str().unwrap(),
            "-queryfile",
            q.to_str().unwrap(),
            "-CAfile",
            demo.ca_pem().to_str().unwrap(),
        ]);
        assert_eq!(v.code, 0, "{hash}: {}{}", v.stdout, v.stderr);
        assert!(v.stdout.contains("Verification: OK"), "{}", v.stdout);
        let t = openssl(&["ts", "-reply", "-in", r.to_str().unwrap(), "-text"]);
        assert!(t.stdout.contains("Status: Granted"), "{}", t.stdout);
        assert!(
            t.stdout.contains("Policy OID: 1.3.6.1.4.1.32473.1.1"),
            "{}",
            t.stdout
        );
        // A reply checked against other data fails: the check can fail.
        let other = d.join("other.txt");
        std::fs::write(&other, "khác").unwrap();
        let v = openssl(&[
            "ts",
            "-verify",
            "-in",
            r.to_str().unwrap(),
            "-data",
            other.to_str().unwrap(),
            "-CAfile",
            demo.ca_pem().to_str().unwrap(),
        ]);
        assert_ne!(v.code, 0, "verified against other data");
    }
}

#[test]
fn tsa_rejects_bad_requests_with_a_status_not_a_crash() {
    let demo = Demo::new();
    let d = demo.path();
    let garbage = d.join("garbage.tsq");
    std::fs::write(&garbage, b"\x30\x03\x02\x01").unwrap();
    let r = d.join("garbage.tsr");
    let k = demo.run_pin(&[
        "timestamp",
        "--key",
        TSA_KEY,
        "--in",
        garbage.to_str().unwrap(),
        "--out",
        r.to_str().unwrap(),
    ]);
    assert_eq!(k.code, 0, "{}", k.stderr);
    let t = openssl(&["ts", "-reply", "-in", r.to_str().unwrap(), "-text"]);
    assert!(t.stdout.contains("Status: Rejected"), "{}", t.stdout);
    assert!(
        t.stdout.contains("the data submitted has the wrong format"),
        "{}",
        t.stdout
    );
    // SHA-1 is not accepted.
    let data = d.join("x.txt");
    std::fs::write(&data, "x").unwrap();
    let q = d.join("sha1.tsq");
    let o = openssl(&[
        "ts",
        "-query",
        "-data",
        data.to_str().unwrap(),
        "-sha1",
        "-out",
        q.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let answer = |extra: &[&str]| {
        let mut args = vec![
            "timestamp",
            "--key",
            TSA_KEY,
            "--in",
            q.to_str().unwrap(),
            "--out",
            r.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        demo.run_pin(&args)
    };
    // The earlier answer is not written over without a word (it was until 2026-12-05).
    let k = answer(&[]);
    assert_eq!(k.code, 5, "{}", k.stderr);
    assert!(
        k.stderr.contains("not replaced (use --overwrite)"),
        "{}",
        k.stderr
    );
    let k = answer(&["--overwrite"]);
    assert_eq!(k.code, 0, "{}", k.stderr);
    let t = openssl(&["ts", "-reply", "-in", r.to_str().unwrap(), "-text"]);
    assert!(
        t.stdout.contains("Status: Rejected")
            && t.stdout.contains("unrecognized or unsupported algorithm"),
        "{}",
        t.stdout
    );
    // What was granted as it was given (helper 171; tests/hostile/tsa_requests.py, asn1crypto
    // and byte edits): a hash's parameters were signed into the token, and a 60-byte nonce
    // echoed. Each is refused with its failure; the control is granted. And a TSA outside its
    // certificate's validity (libfaketime, 2020) grants nothing: its tokens proved nothing.
    let q = d.join("requests");
    hostile("tsa_requests.py", &[q.as_os_str()]);
    let reply = |req: &str, faketime: Option<&str>| {
        let mut c = match faketime {
            Some(at) => {
                let mut c = std::process::Command::new("faketime");
                c.arg(at).arg(kyso_bin());
                c.env("SOFTHSM2_CONF", demo.conf());
                c
            }
            None => demo.cmd(),
        };
        let o = c
            .args(["timestamp", "--key", TSA_KEY, "--overwrite", "--in"])
            .arg(q.join(req))
            .arg("--out")
            .arg(&r)
            .arg("--pin-file")
            .arg(demo.pin_file())
            .output()
            .unwrap();
        assert!(o.status.success(), "{req}: {o:?}");
        openssl(&["ts", "-reply", "-in", r.to_str().unwrap(), "-text"]).stdout
    };
    for (req, status, said) in [
        ("ok.tsq", "Status: Granted", ""),
        (
            "params.tsq",
            "Status: Rejected",
            "unrecognized or unsupported algorithm",
        ),
        (
            "ext-empty.tsq",
            "Status: Rejected",
            "an empty list of extensions",
        ),
        // Neither is signed as written (helper 174): taken.
        ("certreq-false.tsq", "Status: Granted", ""),
        ("nonce-32.tsq", "Status: Granted", ""),
        (
            "nonce-60.tsq",
            "Status: Rejected",
            "a nonce of more than 32 bytes",
        ),
    ] {
        let t = reply(req, None);
        assert!(t.contains(status) && t.contains(said), "{req}: {t}");
    }
    let t = reply("ok.tsq", Some("2020-01-01 00:00:00"));
    assert!(
        t.contains("Status: Rejected")
            && t.contains("the TSA's certificate is not valid now")
            && t.contains("the TSA's time source is not available"),
        "{t}"
    );
}

#[test]
fn a_signing_key_cannot_act_as_a_tsa() {
    let demo = Demo::new();
    let k = demo.run_pin(&["timestamp", "--key", RSA_KEY, "--in", "/dev/null"]);
    assert_eq!(k.code, 6, "{}", k.stderr);
    assert!(
        k.stderr.contains("is not a TSA certificate"),
        "{}",
        k.stderr
    );
}

#[test]
fn pades_and_cades_b_t_with_the_internal_tsa_are_accepted_by_pyhanko_and_openssl() {
    let demo = Demo::new();
    let d = demo.path();
    let pdf = d.join("gp.pdf");
    std::fs::copy(fixture("giay-phep-objstm.pdf"), &pdf).unwrap();
    for key in [RSA_KEY, EC_KEY] {
        let r = demo.run_pin(&[
            "sign",
            "--level",
            "B-T",
            "--key",
            key,
            "--overwrite",
            pdf.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let lines = pyhanko_validate(&demo, &d.join("gp.signed.pdf")).1;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
            "{key}: {}",
            lines[0]
        );
    }
    let doc = d.join("doc.xml");
    std::fs::write(&doc, "<KetQua>đã duyệt</KetQua>").unwrap();
    let r = demo.run_pin(&[
        "sign",
        "--format",
        "cades",
        "--level",
        "B-T",
        "--key",
        RSA_KEY,
        doc.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p7s = d.join("doc.xml.p7s");
    let v = openssl_cms_verify(&demo, &p7s, Some(&doc));
    assert_eq!(v.code, 0, "{}", v.stderr);
    let p = openssl(&[
        "cms",
        "-cmsout",
        "-print",
        "-inform",
        "DER",
        "-in",
        p7s.to_str().unwrap(),
    ]);
    assert!(
        p.stdout.contains("id-smime-aa-timeStampToken"),
        "B-T attribute missing"
    );
    assert!(p.stdout.contains("id-smime-ct-TSTInfo"));
    // `--tsa` without B-T is a usage mistake (exit 3, docs/cli.md).
    let r = demo.run_pin(&[
        "sign",
        "--tsa",
        "internal",
        "--key",
        RSA_KEY,
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
}

/// A one-thread HTTP/1.1 server on loopback that hands each POSTed request to `kyso timestamp`
/// and answers with its response: a real RFC 3161 §3.4 exchange with a real token behind it.
fn serve_tsa(demo: &Demo, requests: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let conf = demo.conf();
    let pin = demo.pin_file();
    let h = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..requests {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
                .unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            seen.push(line.trim().to_string());
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                let l = h.to_ascii_lowercase();
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if l.starts_with("content-type:") {
                    seen.push(l.trim().to_string());
                }
                if h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let mut body = vec![0u8; len];
            r.read_exact(&mut body).unwrap();
            let mut child = kyso_cmd()
                .env("SOFTHSM2_CONF", &conf)
                .args(["timestamp", "--key", TSA_KEY, "--pin-file"])
                .arg(&pin)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&body).unwrap();
            let out = child.wait_with_output().unwrap();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                out.stdout.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&out.stdout).unwrap();
        }
        seen
    });
    (url, h)
}

#[test]
fn b_t_with_an_external_tsa_over_http_on_loopback() {
    let demo = Demo::new();
    let d = demo.path();
    let pdf = d.join("gp.pdf");
    std::fs::copy(fixture("giay-phep.pdf"), &pdf).unwrap();
    let (url, server) = serve_tsa(&demo, 1);
    let r = demo.run_pin(&[
        "sign",
        "--level",
        "B-T",
        "--tsa",
        &url,
        "--key",
        RSA_KEY,
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let seen = server.join().unwrap();
    assert_eq!(seen[0], "POST /tsa HTTP/1.1");
    assert!(
        seen.iter()
            .any(|l| l == "content-type: application/timestamp-query"),
        "{seen:?}"
    );
    let lines = pyhanko_validate(&demo, &d.join("gp.signed.pdf")).1;
    assert!(
        lines[0].contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "{lines:?}"
    );

    // A TSA that is not there: a clear error and no output.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/tsa", dead.local_addr().unwrap());
    drop(dead);
    let out = d.join("out");
    let r = demo.run_pin(&[
        "sign",
        "--level",
        "B-T",
        "--tsa",
        &dead_url,
        "--key",
        RSA_KEY,
        "--out-dir",
        out.to_str().unwrap(),
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("time-stamp: TSA http://127.0.0.1"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn cades_b_t_for_every_algorithm_passes_openssl_and_kyso_verify() {
    let demo = Demo::new();
    let d = demo.path();
    let doc = d.join("kq.txt");
    std::fs::write(&doc, "Kết quả giải quyết thủ tục hành chính").unwrap();
    let ca = demo.ca_pem();
    for (key, alg) in [
        (RSA_KEY, "rsa-pkcs1-sha256"),
        (RSA_KEY, "rsa-pss-sha256"),
        (EC_KEY, "ecdsa-sha256"),
        (EC_KEY, "ecdsa-sha384"),
    ] {
        for attached in [false, true] {
            let mut args = vec![
                "sign",
                "--format",
                "cades",
                "--level",
                "B-T",
                "--key",
                key,
                "--alg",
                alg,
                "--overwrite",
            ];
            if attached {
                args.push("--attached");
            }
            args.push(doc.to_str().unwrap());
            let r = demo.run_pin(&args);
            assert_eq!(r.code, 0, "{alg}: {}", r.stderr);
            let sig = d.join(if attached { "kq.txt.p7m" } else { "kq.txt.p7s" });
            let v = openssl_cms_verify(&demo, &sig, (!attached).then_some(doc.as_path()));
            assert_eq!(v.code, 0, "{alg} attached={attached}: {}", v.stderr);
            let mut k = vec![
                "verify",
                if attached {
                    sig.to_str().unwrap()
                } else {
                    doc.to_str().unwrap()
                },
                "--trust",
                ca.to_str().unwrap(),
                "--json",
            ];
            if !attached {
                k.extend_from_slice(&["--detached", sig.to_str().unwrap()]);
            }
            let j = demo.run(&k).json();
            assert_eq!(
                j["indication"], "TOTAL-PASSED",
                "{alg} attached={attached}: {j}"
            );
            assert_eq!(j["signatures"][0]["format"], "CAdES-B-T");
        }
    }
}
