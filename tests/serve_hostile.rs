//! Hostile input over HTTP: oversized bodies, wrong content types, malformed and deeply nested
//! JSON, PDF bombs, a BER nesting bomb, slow clients. Each gets a clear 4xx, the service stays
//! up and serves others meanwhile, and nothing changes: the log and the archive are the same
//! afterwards, and `kyso audit verify` finds them clean.

mod serve_support;

use serde_json::json;
use serve_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn hostile_appliance() -> Appliance {
    Appliance::start_with(Options {
        limits: vec![
            "upload_bytes = 4194304".into(),
            "request_timeout_secs = 3".into(),
            "header_timeout_secs = 2".into(),
            "handshake_timeout_secs = 2".into(),
        ],
        ..Default::default()
    })
}

fn log_size(a: &Appliance) -> u64 {
    let m = a.agent(Who::Token("admin")).get("/metrics").text();
    m.lines()
        .find_map(|l| l.strip_prefix("kyso_log_size "))
        .unwrap()
        .parse()
        .unwrap()
}

fn tls(a: &Appliance) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(
            a.server_ca_der().to_vec(),
        ))
        .unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(cfg), "localhost".try_into().unwrap()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", a.port())).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(250)))
        .unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

/// Read whatever the server says within `wait`; `None` if it closed without a word.
fn read_answer(s: &mut impl Read, wait: Duration) -> Option<String> {
    let start = Instant::now();
    let mut buf = Vec::new();
    let mut b = [0u8; 4096];
    while start.elapsed() < wait {
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&b[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    (!buf.is_empty()).then(|| String::from_utf8_lossy(&buf).into_owned())
}

/// A request whose head announces `length` bytes of body, and no body: the answer the service
/// gives from the head alone (a well-behaved server refuses an oversized body before reading it).
fn head_only(
    a: &Appliance,
    method: &str,
    path: &str,
    bearer: &str,
    ct: &str,
    length: usize,
) -> String {
    let mut s = tls(a);
    s.write_all(
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\nContent-Type: {ct}\r\nContent-Length: {length}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    read_answer(&mut s, Duration::from_secs(5)).unwrap_or_default()
}

fn pdf_nesting_bomb() -> Vec<u8> {
    let mut body = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages ".to_vec();
    body.extend(std::iter::repeat_n(b'[', 400_000));
    body.extend(std::iter::repeat_n(b']', 400_000));
    body.extend(b" >>\nendobj\n");
    let xref = body.len();
    body.extend(
        format!("xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    body
}

/// An object stream claiming a billion objects, whose 64 KiB inflate to 64 MiB.
fn pdf_object_stream_bomb() -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(b"1 0 ").unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..64 {
        z.write_all(&spaces).unwrap();
    }
    let stream = z.finish().unwrap();
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let o2 = pdf.len();
    pdf.extend(
        format!(
            "2 0 obj\n<< /Type /ObjStm /N 1000000000 /First 4 /Filter /FlateDecode /Length {} >>\nstream\n",
            stream.len()
        )
        .as_bytes(),
    );
    pdf.extend(&stream);
    pdf.extend(b"\nendstream\nendobj\n");
    let o3 = pdf.len();
    let mut x = Vec::new();
    for (t, f2, f3) in [
        (0u8, 0u32, 65535u16),
        (2, 2, 0),
        (1, o2 as u32, 0),
        (1, o3 as u32, 0),
    ] {
        x.push(t);
        x.extend(f2.to_be_bytes());
        x.extend(f3.to_be_bytes());
    }
    pdf.extend(
        format!(
            "3 0 obj\n<< /Type /XRef /Size 4 /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
            x.len()
        )
        .as_bytes(),
    );
    pdf.extend(&x);
    pdf.extend(format!("\nendstream\nendobj\nstartxref\n{o3}\n%%EOF\n").as_bytes());
    pdf
}

fn ber_bomb() -> Vec<u8> {
    let mut b = [0x30u8, 0x80].repeat(200_000);
    b.extend([0u8, 0].repeat(200_000));
    b
}

#[test]
fn hostile_input_gets_a_clear_4xx_never_takes_the_service_down_and_changes_nothing() {
    let mut a = hostile_appliance();
    let clerk = a.agent(Who::Cert("clerk"));
    let agency = a.agent(Who::Token("verifier"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&pdf)}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    std::thread::sleep(Duration::from_millis(1200));
    let before = log_size(&a);
    assert_eq!(before, 1);

    let put = |content: &[u8]| {
        clerk.post_json(
            "/v1/records",
            &json!({"code": "001099012345.BOMB", "content": b64(content)}),
        )
    };
    let code = |r: &Resp| r.json()["error"].as_str().unwrap().to_string();

    // Oversized: raw and as JSON; announced (refused from the head) and sent whole.
    let (vt, ct) = (a.token("verifier"), a.token("clerk"));
    let ans = head_only(&a, "POST", "/v1/verify", vt, "application/pdf", 5 << 20);
    assert!(ans.starts_with("HTTP/1.1 413"), "{ans}");
    let ans = head_only(
        &a,
        "POST",
        "/v1/verify/detached",
        vt,
        "application/json",
        8 << 20,
    );
    assert!(ans.starts_with("HTTP/1.1 413"), "{ans}");
    let ans = head_only(&a, "POST", "/v1/records", ct, "application/json", 7 << 20);
    assert!(ans.starts_with("HTTP/1.1 413"), "{ans}");
    // As JSON within the HTTP limit, but a document over the upload limit once decoded.
    let big = vec![b'%'; (4 << 20) + 1];
    let r = put(&big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(code(&r), "too_large");
    // Wrong content types.
    let r = agency.send("POST", "/v1/verify", "text/html", &pdf);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (415, "unsupported_media_type")
    );
    let r = clerk.send("POST", "/v1/records", "text/plain", b"{}");
    assert_eq!(r.status, 415);
    // Malformed and hostile JSON.
    let r = clerk.send(
        "POST",
        "/v1/records",
        "application/json",
        b"{\"code\": \"001099012345.X\", ",
    );
    assert_eq!((r.status, code(&r).as_str()), (400, "malformed_json"));
    let deep = format!(
        "{{\"code\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let r = clerk.send("POST", "/v1/records", "application/json", deep.as_bytes());
    assert!(r.status == 400 || r.status == 422, "{}", r.status);
    let r = clerk.send(
        "POST",
        "/v1/records",
        "application/json",
        b"{\"code\": 5, \"content\": []}",
    );
    assert_eq!(r.status, 422);
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.X", "content": "not base64!"}),
    );
    assert_eq!(r.status, 400);
    // PDF bombs: validated to a failure, never stored.
    for bomb in [pdf_nesting_bomb(), pdf_object_stream_bomb()] {
        let r = agency.send("POST", "/v1/verify", "application/pdf", &bomb);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_ne!(r.json()["indication"], "TOTAL-PASSED");
        let r = put(&bomb);
        assert_eq!(
            (r.status, code(&r).as_str()),
            (422, "not_verified"),
            "{}",
            r.text()
        );
    }
    // A BER nesting bomb (it aborts a process whose parser recurses on it).
    let bomb = ber_bomb();
    let r = agency.send("POST", "/v1/verify", "application/pkcs7-mime", &bomb);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("nests deeper"), "{}", r.text());
    let r = agency.post_json(
        "/v1/verify/detached",
        &json!({"document": b64(b"x"), "signature": b64(&bomb)}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(put(&bomb).status, 400);
    // Unknown routes and methods.
    assert_eq!(agency.get("/v1/../../etc/passwd").status, 404);
    assert_eq!(
        agency
            .send("PUT", "/v1/verify", "application/pdf", b"")
            .status,
        405
    );
    // Query strings that are not numbers.
    assert_eq!(agency.get("/v1/log/inclusion?leaf=-1").status, 400);
    assert_eq!(
        agency
            .get("/v1/log/consistency?old=18446744073709551615")
            .status,
        400
    );

    // Slow clients: a request head at a byte a second is cut off at the header deadline, a
    // body at a few bytes a second gets 408 at the request deadline; others are served meanwhile.
    let mut slow_head = tls(&a);
    slow_head
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut slow_body = tls(&a);
    slow_body
        .write_all(
            format!(
                "POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/pdf\r\nContent-Length: 100000\r\n\r\n%PDF-",
                a.token("verifier")
            )
            .as_bytes(),
        )
        .unwrap();
    let start = Instant::now();
    let mut head_closed = None;
    let mut body_answer = None;
    while start.elapsed() < Duration::from_secs(12)
        && (head_closed.is_none() || body_answer.is_none())
    {
        if head_closed.is_none() {
            let gone = slow_head
                .write_all(b"X")
                .and_then(|_| slow_head.flush())
                .is_err()
                || read_answer(&mut slow_head, Duration::from_millis(200)).is_some()
                || slow_head.conn.wants_read() && matches!(slow_head.read(&mut [0u8; 1]), Ok(0));
            if gone {
                head_closed = Some(start.elapsed());
            }
        }
        if body_answer.is_none() {
            let _ = slow_body.write_all(b"0").and_then(|_| slow_body.flush());
            if let Some(ans) = read_answer(&mut slow_body, Duration::from_millis(200)) {
                body_answer = Some((start.elapsed(), ans));
            }
        }
        // Others are served meanwhile.
        assert_eq!(agency.get("/v1/whoami").status, 200);
    }
    let t = head_closed.expect("a slow request head is cut off");
    assert!(t < Duration::from_secs(8), "{t:?}");
    let (t, ans) = body_answer.expect("a slow body gets an answer");
    assert!(ans.starts_with("HTTP/1.1 408"), "{ans}");
    assert!(t < Duration::from_secs(8), "{t:?}");
    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(("127.0.0.1", a.port())).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(!String::from_utf8_lossy(&got).contains("200 OK"));

    // Still up, and nothing changed.
    assert!(a.alive(), "{}", a.service_log());
    assert_eq!(a.agent(Who::Anonymous).get("/healthz").status, 200);
    assert_eq!(a.agent(Who::Anonymous).get("/readyz").status, 200);
    assert_eq!(log_size(&a), before);
    let found = clerk
        .get("/v1/records?subject=001099012345&purpose=kiem%20tra")
        .json();
    assert_eq!(found["records"].as_array().unwrap().len(), 1);
    let status = a.stop();
    assert!(status.success(), "{status:?}\n{}", a.service_log());
    let audit = a.demo.run(&[
        "audit",
        "verify",
        "--db",
        a.db().to_str().unwrap(),
        "--log-key",
        "pkcs11:token=kyso-dev;object=log",
    ]);
    assert_eq!(audit.code, 0, "{}{}", audit.stdout, audit.stderr);
}

#[test]
fn a_client_over_its_rate_waits_and_the_others_do_not() {
    let a = Appliance::start_with(Options {
        limits: vec!["burst = 5".into(), "rate_per_second = 0.2".into()],
        ..Default::default()
    });
    let agency = a.agent(Who::Cert("verifier"));
    for _ in 0..5 {
        assert_eq!(agency.get("/v1/whoami").status, 200);
    }
    let r = agency.get("/v1/whoami");
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    assert_eq!(a.agent(Who::Cert("clerk")).get("/v1/whoami").status, 200);
    // Guessing tokens is rate limited by address.
    let guess = a.agent(Who::WrongToken);
    let statuses: Vec<u16> = (0..8).map(|_| guess.get("/v1/whoami").status).collect();
    assert!(statuses.contains(&401));
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[test]
fn shutdown_drains_requests_in_flight_and_the_archive_reopens_clean_with_a_final_checkpoint() {
    let mut a = Appliance::start();
    let official = a.agent(Who::Token("signer"));
    let doc = b64(&std::fs::read(serve_support::common::fixture("three-pages.pdf")).unwrap());
    let docs: Vec<_> = (0..40)
        .map(|i| json!({"name": format!("d{i}.pdf"), "content": doc}))
        .collect();
    let pid = a.child.as_ref().unwrap().id();
    let t = std::thread::spawn(move || official.post_json("/v1/sign", &json!({"documents": docs})));
    std::thread::sleep(Duration::from_millis(400));
    unsafe_kill(pid, 15);
    let r = t.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["signed"], 40);
    let status = a.child.take().unwrap().wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", a.service_log());
    // Reopened: every signature is logged and the last checkpoint covers all of them.
    a.launch();
    let auditor = a.agent(Who::Token("auditor"));
    let note = auditor.get("/v1/log/checkpoint").text();
    let key = unb64(
        auditor.get("/v1/log/key").json()["public_key"]
            .as_str()
            .unwrap(),
    );
    let (_, size, _) = verify_note(&note, &key);
    assert_eq!(size, 40, "{note}");
    a.stop();
    let audit = a.demo.run(&[
        "audit",
        "verify",
        "--db",
        a.db().to_str().unwrap(),
        "--log-key",
        "pkcs11:token=kyso-dev;object=log",
    ]);
    assert_eq!(audit.code, 0, "{}{}", audit.stdout, audit.stderr);
}

#[test]
fn a_bad_config_is_refused_at_start_with_the_key_named_and_no_pin_anywhere() {
    let demo = serve_support::common::Demo::new();
    let dir = tempfile::tempdir().unwrap();
    let base = format!(
        "[server]\nlisten = \"0.0.0.0:0\"\nplain_http = true\n[token]\npin_file = \"{}\"\n[archive]\ndb = \"db\"\nlog_key = \"pkcs11:token=kyso-dev;object=log\"\norigin = \"o\"\nkey_name = \"k\"\n",
        demo.pin_file().display()
    );
    let run = |text: &str, env: &[(&str, &str)]| {
        let p = dir.path().join("kyso.toml");
        std::fs::write(&p, text).unwrap();
        let mut c = demo.cmd();
        c.args(["serve", "--check", "--config"]).arg(&p);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&base, &[]);
    assert_eq!(code, 3);
    assert!(err.contains("server.plain_http"), "{err}");
    let (code, err) = run(&base, &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(
        &base.replace("key_name = \"k\"", "key_name = \"k\"\nretention = 5"),
        &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")],
    );
    assert_eq!(code, 3);
    assert!(
        err.contains("archive") && err.contains("retention"),
        "{err}"
    );
    let (code, err) = run(
        &base,
        &[
            ("KYSO_SERVER_LISTEN", "127.0.0.1:0"),
            ("KYSO_LIMITS_BURST", "lots"),
        ],
    );
    assert_eq!(code, 3);
    assert!(err.contains("limits.burst"), "{err}");
    // No PIN: a clear error; a wrong PIN: the token's error, never the PIN itself.
    let no_pin = base.replace(&format!("pin_file = \"{}\"", demo.pin_file().display()), "");
    let (code, err) = run(&no_pin, &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")]);
    assert_ne!(code, 0);
    assert!(err.contains("KYSO_PIN"), "{err}");
    let (code, err) = run(
        &no_pin,
        &[
            ("KYSO_SERVER_LISTEN", "127.0.0.1:0"),
            ("KYSO_PIN", "98765432"),
        ],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("wrong PIN") && !err.contains("98765432"),
        "{err}"
    );
}
