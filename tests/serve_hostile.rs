//! Hostile input over HTTP: oversized bodies, wrong content types, malformed and deeply nested
//! JSON, PDF bombs, a BER nesting bomb, slow clients. Each gets a clear 4xx, the service stays
//! up and serves others meanwhile, and nothing changes: the log and the archive are the same
//! afterwards, and `kyso audit verify` finds them clean.

mod serve_support;

use serde_json::json;
use serve_support::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
    // A signature in PEM text, as OpenSSL writes it: refused, saying how to convert it, and
    // nothing kept (the archive keeps signatures as DER; through the CLI only until
    // 2026-12-06).
    let w = tempfile::tempdir().unwrap();
    let f = |n: &str| w.path().join(n).to_str().unwrap().to_string();
    std::fs::write(f("doc.txt"), "Giấy phép số 1").unwrap();
    let openssl = |args: &[&str]| {
        let r = serve_support::common::openssl(args);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    openssl(&[
        "req",
        "-x509",
        "-days",
        "1",
        "-subj",
        "/CN=x",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &f("k.pem"),
        "-out",
        &f("c.pem"),
    ]);
    openssl(&[
        "cms",
        "-sign",
        "-nodetach",
        "-binary",
        "-outform",
        "PEM",
        "-in",
        &f("doc.txt"),
        "-signer",
        &f("c.pem"),
        "-inkey",
        &f("k.pem"),
        "-out",
        &f("sig.pem"),
    ]);
    let r = put(&std::fs::read(f("sig.pem")).unwrap());
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("the signature is PEM text"),
        "{}",
        r.text()
    );
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
    let r = agency.get("/v1/log/consistency?old=18446744073709551615");
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("old: a tree size of at most "),
        "{}",
        r.text()
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
    audit_clean(&a);
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
    let started = std::time::Instant::now();
    let guess = a.agent(Who::WrongToken);
    let statuses: Vec<u16> = (0..8).map(|_| guess.get("/v1/whoami").status).collect();
    assert!(statuses.contains(&401));
    assert!(statuses.contains(&429), "{statuses:?}");
    // Other failed credentials are charged to the address too: with its bucket empty, a
    // refused certificate and two credentials are answered 429, not refused one by one.
    let refused_before = a.service_log().matches("request refused").count();
    let r = a.agent(Who::UntrustedCert).get("/v1/whoami");
    assert_eq!(r.status, 429, "{}", r.text());
    let both = a.agent_with(
        a.client_cert(Who::Cert("clerk")),
        Some(a.token("clerk").to_string()),
    );
    let r = both.get("/v1/whoami");
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    assert_eq!(
        a.service_log().matches("request refused").count(),
        refused_before,
        "{}",
        a.service_log()
    );
    // A request from another site is not charged to anyone (it may be an official's browser
    // made to send it by another site's page): refused each time, counted each time, and
    // logged at most once a second over all callers. The clerk's own requests still pass.
    let clerk = a.agent(Who::Cert("clerk"));
    for _ in 0..30 {
        let r = clerk.get_with("/v1/whoami", &[("sec-fetch-site", "cross-site")]);
        assert_eq!(r.status, 403, "{}", r.text());
    }
    // On a route open to anyone, another site's request is anyone's, counted apart: the
    // certificate the browser presents does not spend the clerk's requests, nor does the
    // address's empty bucket refuse the clerk's link from another site.
    let r = clerk.get_with("/healthz", &[("sec-fetch-site", "cross-site")]);
    assert_eq!(r.status, 200, "{}", r.text());
    for _ in 0..10 {
        clerk.get_with("/healthz", &[("sec-fetch-site", "cross-site")]);
    }
    // A link opened from a mail or a document (what chromium sends for it, helper 173): not
    // another site's, but a navigation — refused on the API, so a link cannot write a read
    // with a purpose of its author's in the clerk's name; the page's own fetch() passes.
    let navigation = [
        ("sec-fetch-site", "none"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-dest", "document"),
        ("sec-fetch-user", "?1"),
    ];
    let r = clerk.get_with(
        "/v1/records?code=001099012345.GKS&purpose=link",
        &navigation,
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("navigation"), "{}", r.text());
    let r = clerk.get_with("/v1/whoami", &[("sec-fetch-dest", "iframe")]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(clerk.get_with("/", &navigation).status, 200);
    let page = [
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-mode", "cors"),
        ("sec-fetch-dest", "empty"),
    ];
    assert_eq!(clerk.get_with("/v1/whoami", &page).status, 200);
    let seconds = started.elapsed().as_secs();
    assert_eq!(clerk.get("/v1/whoami").status, 200);
    assert_eq!(
        metric(&a, "kyso_auth_failures_total{reason=\"cross_site\"}"),
        30.0
    );
    let log = a.service_log();
    // Refusals before the caller is known (the guessed tokens, the cross-site requests): one
    // line a second at most for each reason (from one address here).
    let lines = log
        .lines()
        .filter(|l| l.contains("request refused"))
        .count() as u64;
    assert!(
        lines >= 2 && lines <= 2 * (seconds + 2),
        "{lines} lines in {seconds} s: {log}"
    );
    assert!(log.contains("\"skipped\":"), "{log}");
    // A Sec-Fetch-Site that is not text is no value a browser sends: another site's, not
    // absent (python ssl: the byte 0xff in it).
    let out = python(
        r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="localhost")
t.sendall(b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + sys.argv[3].encode() + b"\r\nSec-Fetch-Site: cross\xffsite\r\nConnection: close\r\n\r\n")
got = b""
while True:
    b = t.recv(4096)
    if not b:
        break
    got += b
print(got.split(b"\r\n")[0].decode())
"#,
        &[
            &a.port().to_string(),
            a.server_ca_pem().to_str().unwrap(),
            a.token("verifier"),
        ],
    );
    assert_eq!(out.trim(), "HTTP/1.1 403 Forbidden", "{out}");
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
    // A stop with nothing left running ends the usual way (the token finalized).
    assert!(
        !a.service_log().contains("ending without"),
        "{}",
        a.service_log()
    );
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
    audit_clean(&a);
}

/// Trust anchors another user may change are refused at start (and on SIGHUP, which keeps
/// the anchors in use: tests/serve_auth.rs): whoever may add an anchor may make a signature
/// they forge TOTAL-PASSED. Before, any file and directory was read as it was.
#[test]
fn anchors_another_user_may_change_are_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let demo = serve_support::common::Demo::new();
    let dir = tempfile::tempdir().unwrap();
    let at = |f: &str| dir.path().join(f);
    // `kyso serve --check` of a config: (exit code, stderr).
    let checked = |config: &std::path::Path| {
        let o = demo
            .cmd()
            .args(["serve", "--check", "--config"])
            .arg(config)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let check = |anchors: &std::path::Path| {
        let p = at("kyso.toml");
        std::fs::write(
            &p,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\nplain_http = true\n[token]\npin_file = \"{}\"\n[archive]\ndb = \"db\"\nlog_key = \"pkcs11:token=kyso-dev;object=log\"\norigin = \"o\"\nkey_name = \"k\"\n[trust]\nanchors = [{:?}]\n",
                demo.pin_file().display(),
                anchors
            ),
        )
        .unwrap();
        checked(&p)
    };
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    std::fs::create_dir(at("trust")).unwrap();
    mode(&at("trust"), 0o755);
    std::fs::copy(demo.ca_pem(), at("trust/ca.pem")).unwrap();
    mode(&at("trust/ca.pem"), 0o644);
    let (code, err) = check(&at("trust"));
    assert_eq!(code, 0, "{err}");
    // The directory read for its files, writable by its group: anyone in it adds an anchor.
    mode(&at("trust"), 0o775);
    let (code, err) = check(&at("trust"));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("trust.anchors[0]") && err.contains("mode 775") && err.contains("chmod go-w"),
        "{err}"
    );
    // A file in it others may write.
    mode(&at("trust"), 0o755);
    mode(&at("trust/ca.pem"), 0o646);
    let (code, err) = check(&at("trust"));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("ca.pem") && err.contains("mode 646"), "{err}");
    // A file named on its own, in a directory others may write: they may put another in its
    // place; unless the directory is sticky, as /tmp is.
    mode(&at("trust/ca.pem"), 0o644);
    mode(&at("trust"), 0o777);
    let (code, err) = check(&at("trust/ca.pem"));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("a directory on the way") && err.contains("mode 777"),
        "{err}"
    );
    mode(&at("trust"), 0o1777);
    let (code, err) = check(&at("trust/ca.pem"));
    assert_eq!(code, 0, "{err}");
    // A client CA file others may write: whoever may add one may issue themselves any
    // agency's client certificate.
    mode(&at("trust"), 0o755);
    let tls = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-subj", "/CN=kyso.test", "-days", "2"])
        .args(["-keyout", "server.key", "-out", "server.pem"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(tls.status.success(), "{tls:?}");
    mode(&at("server.key"), 0o600);
    std::fs::copy(at("server.pem"), at("agency-ca.pem")).unwrap();
    mode(&at("agency-ca.pem"), 0o664);
    let toml = std::fs::read_to_string(at("kyso.toml")).unwrap().replace(
        "plain_http = true",
        &format!(
            "tls_cert = {:?}\ntls_key = {:?}\nclient_ca = [{:?}]",
            at("server.pem"),
            at("server.key"),
            at("agency-ca.pem")
        ),
    );
    std::fs::write(at("kyso.toml"), toml).unwrap();
    let (code, err) = checked(&at("kyso.toml"));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("server.client_ca[0]") && err.contains("mode 664"),
        "{err}"
    );
    mode(&at("agency-ca.pem"), 0o644);
    let (code, err) = checked(&at("kyso.toml"));
    assert_eq!(code, 0, "{err}");
    // Another user's file, directory or link (as root alone may give one away).
    if rustix::process::geteuid().is_root() {
        // A link to a file of root's in a directory of another user's: that user may put
        // another file, or a link to the system's CA bundle, in its place (helper 151).
        std::fs::create_dir(at("theirs")).unwrap();
        std::fs::copy(demo.ca_pem(), at("theirs/real.pem")).unwrap();
        mode(&at("theirs/real.pem"), 0o644);
        std::os::unix::fs::chown(at("theirs"), Some(1234), None).unwrap();
        std::os::unix::fs::symlink("../theirs/real.pem", at("trust/linked.pem")).unwrap();
        let (code, err) = check(&at("trust/linked.pem"));
        assert_eq!(code, 3, "{err}");
        assert!(
            err.contains("a directory on the way") && err.contains("uid 1234"),
            "{err}"
        );
        std::fs::remove_file(at("trust/linked.pem")).unwrap();
        // A link of another user's: they may point it elsewhere.
        std::os::unix::fs::symlink("ca.pem", at("trust/linked.pem")).unwrap();
        std::os::unix::fs::lchown(at("trust/linked.pem"), Some(4321), None).unwrap();
        let (code, err) = check(&at("trust/linked.pem"));
        assert_eq!(code, 3, "{err}");
        assert!(
            err.contains("symbolic link") && err.contains("uid 4321"),
            "{err}"
        );
        std::os::unix::fs::lchown(at("trust/linked.pem"), Some(0), None).unwrap();
        let (code, err) = check(&at("trust/linked.pem"));
        assert_eq!(code, 0, "{err}");
        std::fs::remove_file(at("trust/linked.pem")).unwrap();
        std::os::unix::fs::chown(at("trust/ca.pem"), Some(4321), None).unwrap();
        let (code, err) = check(&at("trust"));
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("uid 4321") && err.contains("chown"), "{err}");
    }
}

/// Helper 170's configurations: each passed `--check`, then the service misbehaved — a token
/// hash given twice (the last entry's roles answered for both), an origin too long for any
/// checkpoint to be signed, a FIFO for the PIN file (`--check` hung), limits past which sums
/// wrapped or every request or connection panicked. And `--check` of a mistyped archive.db
/// created an empty archive there.
#[test]
fn odd_configurations_are_refused_by_check_and_check_creates_no_archive() {
    let demo = serve_support::common::Demo::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive-typo");
    let base = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nplain_http = true\n[token]\npin_file = \"{}\"\n[archive]\ndb = \"{}\"\nlog_key = \"pkcs11:token=kyso-dev;object=log\"\norigin = \"o\"\nkey_name = \"k\"\n",
        demo.pin_file().display(),
        db.display()
    );
    let run = |text: &str| {
        let p = dir.path().join("kyso.toml");
        std::fs::write(&p, text).unwrap();
        let o = std::process::Command::new("timeout")
            .arg("20")
            .arg(serve_support::common::kyso_bin())
            .args(["serve", "--check", "--config"])
            .arg(&p)
            .env("SOFTHSM2_CONF", demo.conf())
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&base);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("holds no archive"), "{err}");
    assert!(!db.exists(), "--check created the archive");
    // No one can be let in: said, not refused (a config may be filled in in steps).
    assert!(err.contains("no [[clients]], no [[api_tokens]]"), "{err}");
    let token = |name: &str, role: &str, hash: &str| {
        format!("[[api_tokens]]\nname = \"{name}\"\nsha256 = \"{hash}\"\nroles = [\"{role}\"]\n")
    };
    let fifo = dir.path().join("pin.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (text, key) in [
        (
            format!(
                "{base}{}{}",
                token("night-auditor", "auditor", &"ab".repeat(32)),
                token("ops-admin", "admin", &"AB".repeat(32))
            ),
            "api_tokens[1].sha256",
        ),
        (
            base.replace(
                "origin = \"o\"",
                &format!("origin = \"{}\"", "a".repeat(16_400)),
            ),
            "archive.origin",
        ),
        (
            base.replace(
                &format!("pin_file = \"{}\"", demo.pin_file().display()),
                &format!("pin_file = \"{}\"", fifo.display()),
            ),
            "token.pin_file",
        ),
        (
            format!("{base}[limits]\nconcurrent_per_client = 2305843009213693952\n"),
            "limits.concurrent_per_client",
        ),
        (
            format!("{base}[limits]\nupload_bytes = 9223372036854775807\n"),
            "limits.upload_bytes",
        ),
        (
            format!("{base}[limits]\nheader_timeout_secs = 9223372036854775807\n"),
            "limits.header_timeout_secs",
        ),
        // Timeouts past a day, as docs/operations.md says (these three were taken).
        (
            format!("{base}[limits]\nremote_pending_secs = 86401\n"),
            "limits.remote_pending_secs",
        ),
        (
            base.replace(
                "plain_http = true\n",
                "plain_http = true\ndrain_secs = 9223372036854775807\n",
            ),
            "server.drain_secs",
        ),
        (
            base.replace(
                "plain_http = true\n",
                "plain_http = true\nclient_crl_reload_secs = 86401\n",
            ),
            "server.client_crl_reload_secs",
        ),
        (
            format!("{base}[limits]\nvalidation_memory_mib = 0\n"),
            "limits.validation_memory_mib",
        ),
        (
            format!("{base}[limits]\nvalidation_memory_mib = 9223372036854775807\n"),
            "limits.validation_memory_mib",
        ),
        (
            base.replace(
                "plain_http = true\n",
                "plain_http = true\nverify_threads = 1000000\n",
            ),
            "server.verify_threads",
        ),
        // One file for two purposes: fine at first, then every start refused the file, and
        // moving it away removed the checkpoint state.
        (
            base.replace(
                "key_name = \"k\"\n",
                &format!(
                    "key_name = \"k\"\ncheckpoint_state = \"{0}\"\n[trust]\nstate = \"{0}\"\n",
                    dir.path().join("state").display()
                ),
            ),
            "is also archive.checkpoint_state",
        ),
        (
            format!(
                "{base}[trust]\nstate = \"{}\"\n",
                db.join("trust.state").display()
            ),
            "inside the database directory",
        ),
        // The log key named again, as the key documents are signed with: whoever got a
        // document signed would hold a checkpoint signature on bytes they chose.
        (
            format!(
                "{base}[[keys]]\nname = \"so-tu-phap\"\nuri = \"pkcs11:token=kyso-dev;object=log;type=private\"\n"
            ),
            "keys[0].uri: the same key as archive.log_key",
        ),
    ] {
        let (code, err) = run(&text);
        assert_eq!(code, 3, "{key}: {err}");
        assert!(err.contains(key), "{key}: {err}");
    }
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
    // A validation's time limit longer than its request's deadline: the request would end
    // first.
    let (code, err) = run(
        &format!("{base}[limits]\nvalidation_secs = 90\n"),
        &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("limits.validation_secs") && err.contains("request_timeout_secs"),
        "{err}"
    );
    // Two server keys and a signer that names neither: which one may it use? Refused, as is
    // a name no [[keys]] entry has.
    let two = format!(
        "{base}[[keys]]\nname = \"a\"\nuri = \"pkcs11:token=kyso-dev;object=signer-rsa\"\n[[keys]]\nname = \"b\"\nuri = \"pkcs11:token=kyso-dev;object=signer-ec\"\n[[api_tokens]]\nname = \"s\"\nsha256 = \"{}\"\nroles = [\"signer\"]\n",
        "ab".repeat(32)
    );
    let (code, err) = run(&two, &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("api_tokens[0].keys") && err.contains("name the ones s may sign with"),
        "{err}"
    );
    let (code, err) = run(
        &format!("{two}keys = [\"c\"]\n"),
        &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("api_tokens[0].keys[0]") && err.contains("no [[keys]] entry is named \"c\""),
        "{err}"
    );
    for keys in ["[\"b\"]", "[]"] {
        // A key of its own, or none (an official who signs only remotely, with a USB token).
        let (code, err) = run(
            &format!("{two}keys = {keys}\n"),
            &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")],
        );
        assert_eq!(code, 0, "{keys}: {err}");
    }
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
    // Each with the CLI's exit code, which the systemd unit does not restart on (each restart
    // spent one more of the token's tries when all were 10).
    let (code, err) = run(&no_pin, &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")]);
    assert_eq!(code, 18, "{err}");
    assert!(err.contains("KYSO_PIN"), "{err}");
    let (code, err) = run(
        &no_pin,
        &[
            ("KYSO_SERVER_LISTEN", "127.0.0.1:0"),
            ("KYSO_PIN", "98765432"),
        ],
    );
    assert_eq!(code, 13, "{err}");
    assert!(
        err.contains("wrong PIN") && !err.contains("98765432"),
        "{err}"
    );
    let unit = include_str!("../deploy/kyso.service");
    let prevent = unit
        .lines()
        .find_map(|l| l.strip_prefix("RestartPreventExitStatus="))
        .expect("the unit names the exit codes it does not restart on");
    // A wrong or locked PIN is not restarted on; a start failure that may mend itself (a
    // listen address, a mount, a PIN file not there yet: 3, 18) is (helper 124).
    let prevent: Vec<&str> = prevent.split(' ').collect();
    assert_eq!(prevent, ["13", "14"]);
    assert!(
        !unit.contains("ExecStartPre"),
        "a check before each start spends a PIN try too"
    );
    // A module that is not there: the service's own setting is named, not the CLI's flag.
    let (code, err) = run(
        &base.replace("[token]", "[token]\nmodule = \"/nonexistent/libpkcs11.so\""),
        &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")],
    );
    assert_eq!(code, 10, "{err}");
    assert!(
        err.contains("token.module") && !err.contains("--module"),
        "{err}"
    );
    // A PIN file others can read is a PIN every local user has: refused, the file named.
    let open_pin = dir.path().join("open.pin");
    std::fs::copy(demo.pin_file(), &open_pin).unwrap();
    std::fs::set_permissions(
        &open_pin,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let (code, err) = run(
        &base.replace(
            &demo.pin_file().display().to_string(),
            &open_pin.display().to_string(),
        ),
        &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("token.pin_file") && err.contains("chmod 600"),
        "{err}"
    );
    // A PIN typed where a file name belongs is not repeated in the error, as a number or as
    // a name.
    for pin in ["55667788", "\"Secr3tPIN-9876\""] {
        let (code, err) = run(
            &base.replace(
                &format!("pin_file = \"{}\"", demo.pin_file().display()),
                &format!("pin_file = {pin}"),
            ),
            &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")],
        );
        assert_eq!(code, 3, "{err}");
        assert!(
            err.contains("token.pin_file") && !err.contains(pin.trim_matches('"')),
            "{err}"
        );
    }
    // `kyso serve new-token`: the entry it prints passes the check as it is pasted; a clerk's
    // needs the agency it archives for, asked for up front rather than by the check.
    let new_token = |args: &[&str]| {
        let o = demo
            .cmd()
            .args(["serve", "new-token", "--name", "canbo.motcua"])
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, _, err) = new_token(&["--role", "clerk"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("give --agency"), "{err}");
    // An agency the config would refuse is refused here, with the config's reason.
    let (code, _, err) = new_token(&["--role", "clerk", "--agency", "  "]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("agency"), "{err}");
    // A token that cannot be written (a full disk) was never given to anyone: no entry for it.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = demo
        .cmd()
        .args([
            "serve",
            "new-token",
            "--name",
            "canbo.motcua",
            "--role",
            "verifier",
        ])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("could not be written"), "{err}");
    assert!(
        !err.contains("config entry") && !err.contains("sha256"),
        "{err}"
    );
    let (code, token, err) = new_token(&["--role", "clerk", "--agency", "UBND-HK"]);
    assert_eq!(code, 0, "{err}");
    assert!(token.trim().len() >= 32, "{token}");
    let entry = err.split_once("config entry:\n").unwrap().1;
    assert!(entry.contains("agency = \"UBND-HK\""), "{entry}");
    let (code, err) = run(
        &format!("{base}{entry}"),
        &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")],
    );
    assert_eq!(code, 0, "{err}");
    // A token that says one more wrong PIN locks it: unattended, the service does not spend
    // that try, with the right PIN file or not (exit 13, which the unit does not restart on).
    demo.set_token_flags(serve_support::common::CKF_USER_PIN_FINAL_TRY);
    let (code, err) = run(&base, &[("KYSO_SERVER_LISTEN", "127.0.0.1:0")]);
    assert_eq!(code, 13, "{err}");
    assert!(err.contains("one more wrong PIN locks it"), "{err}");
    // (A real token resets its count at the next good login, which the message asks the
    // official to make by hand; SoftHSM2 keeps the flag planted in its file, so that step
    // is not tested here.)
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A status, or the transport error's kind.
fn outcome(r: Result<Resp, ureq::Error>) -> String {
    match r {
        Ok(r) => r.status.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn one_client_flooding_validations_cannot_take_the_queue_from_others_even_past_its_deadlines() {
    // One validation thread, a short request deadline, a small queue: the attacker review's
    // finding 1 within seconds. Byte budgets out of the way (they would stop the flood first).
    let a = one_verify_thread(&[
        "request_timeout_secs = 2",
        "verify_queue = 16",
        "verify_queue_per_client = 12",
        "inflight_bytes = 4294967296",
        "inflight_bytes_per_client = 2147483648",
        "rate_per_second = 1000",
        "burst = 1000",
    ]);
    let slow = Arc::new(slow_pdf(100_000));
    let small = signed_fixture(&a, "giay-phep.pdf");
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    // One relying agency's script keeps fourteen uploads of a slow document in flight,
    // resending as soon as one is answered (or times out): more than a few seconds of work
    // queued at all times, more than its share.
    let flood: Vec<_> = (0..14)
        .map(|_| {
            let (c, doc, stop, seen) = (
                a.agent(Who::Token("verifier")),
                slow.clone(),
                stop.clone(),
                seen.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let o = outcome(c.try_send("POST", "/v1/verify", "application/pdf", &doc));
                    if o == "429" {
                        // (A little patience, to spare the machine the uploads, not the queue.)
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    *seen.lock().unwrap().entry(o).or_default() += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(4));
    // Meanwhile another agency verifies a small document, and a clerk archives one: served in
    // turn, never refused for the flood.
    let other = a.agent(Who::Cert("verifier"));
    let clerk = a.agent(Who::Token("clerk"));
    let mut slowest = Duration::ZERO;
    for i in 0..6 {
        let t = Instant::now();
        let r = other.send("POST", "/v1/verify", "application/pdf", &small);
        assert_eq!(r.status, 200, "another agency's verify: {}", r.text());
        let r = clerk.post_json(
            "/v1/records",
            &json!({"code": "001099012345.GPXD", "content": b64(&small), "request_id": format!("flood-{i}")}),
        );
        assert!(r.status == 201 || r.status == 200, "{}", r.text());
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(300));
    }
    stop.store(true, Ordering::Relaxed);
    for t in flood {
        t.join().unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    eprintln!("the flood's answers: {seen:?}; the others' slowest: {slowest:?}");
    // The flooder got its share and was told to wait for the rest (429), never a 503; some of
    // its requests passed their deadline while their validations waited (408).
    assert!(seen.get("429").copied().unwrap_or(0) > 0, "{seen:?}");
    assert!(seen.get("408").copied().unwrap_or(0) > 0, "{seen:?}");
    assert_eq!(seen.get("503"), None, "{seen:?}");
    assert!(
        slowest < Duration::from_secs(10),
        "the others wait behind one validation at most, not the flood: {slowest:?}"
    );
    // Validations whose requests timed out did not keep their places: the queue empties as
    // soon as the flood stops.
    let t = Instant::now();
    while metric(&a, "kyso_verify_queued") + metric(&a, "kyso_verify_running") > 0.0 {
        assert!(t.elapsed() < Duration::from_secs(5), "the queue stays busy");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(metric(&a, "kyso_limited_total{limit=\"verify_queue_client\"}") > 0.0);
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"verify_queue\"}"),
        0.0
    );
}

/// A document slow in a way no parser budget covers: tests/hostile/slow_pdf.py (Python's zlib)
/// writes sixteen 64 MiB zlib bombs, each reached by one form field, and 16 MB of padding, so
/// the document's decode budget (32 times its size) is spent to the last byte — bounded, but
/// about 20 s of one thread in a debug build (1.5 s in release). With `limits.validation_secs
/// = 1` the validation is stopped, the caller told so (422 `too_slow`, not a verdict), nothing
/// is archived, and the one validation thread serves the next caller at once.
/// Reading `doc` to sign it is stopped at a limit (`code`, its message naming `says`): in a
/// batch beside an honest document, `doc` fails alone and the other is signed (one signature
/// event); a remote prepare of it is a 422 `code`, nothing prepared, and the verification
/// thread then prepares the honest one.
fn read_to_sign_and_stopped(a: &Appliance, doc: &[u8], code: &str, says: &str) {
    let small = std::fs::read(serve_support::common::fixture("giay-phep.pdf")).unwrap();
    let before = log_size(a);
    let official = a.agent(Who::Token("signer"));
    let r = official.post_json(
        "/v1/sign",
        &json!({"format": "pades", "documents": [
            {"name": "hostile.pdf", "content": b64(doc)},
            {"name": "giay-phep.pdf", "content": b64(&small)},
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(
        (j["signed"].clone(), j["failed"].clone()),
        (json!(1), json!(1)),
        "{j}"
    );
    let error = j["documents"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(says) && error.contains("not signed"),
        "{error}"
    );
    assert!(j["documents"][0]["content"].is_null(), "{j}");
    assert!(j["documents"][1]["content"].is_string(), "{j}");
    assert_eq!(
        log_size(a),
        before + 1,
        "one signature event: the small document's"
    );
    // A remote prepare reads its document on the verification threads, under the same limit.
    let cert = std::fs::read_to_string(a.demo.path().join("signer-ec.pem")).unwrap();
    let prepare = |doc: &[u8]| {
        official.post_json(
            "/v1/sign/remote/prepare",
            &json!({"format": "pades", "certificate": cert, "document": b64(doc)}),
        )
    };
    let r = prepare(doc);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"], code, "{}", r.text());
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains(says) && msg.contains("nothing was prepared"),
        "{msg}"
    );
    // Its one thread is free: the next preparation is served.
    let r = prepare(&small);
    assert_eq!(r.status, 200, "{}", r.text());
}

/// `doc`'s validation, on the appliance's one verification thread, is stopped: a 422 `code`
/// whose message names the limit (`says`) and says nothing was judged; the thread then serves
/// an honest document; archiving `doc` is stopped the same way and stores nothing.
fn stopped_and_not_judged(a: &Appliance, doc: &[u8], code: &str, says: &str) {
    let verifier = a.agent(Who::Token("verifier"));
    let r = verifier.send("POST", "/v1/verify", "application/pdf", doc);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"], code, "{}", r.text());
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.contains(says) && msg.contains("not judged"), "{msg}");
    // The thread is free: the next validation is served.
    let small = signed_fixture(a, "giay-phep.pdf");
    let r = verifier.send("POST", "/v1/verify", "application/pdf", &small);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["indication"], "TOTAL-PASSED", "{}", r.text());
    let clerk = a.agent(Who::Token("clerk"));
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(doc), "request_id": format!("{code}-1")}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"], code, "{}", r.text());
    let r = clerk.get("/v1/records?code=001099012345.GPXD&purpose=kiem%20tra");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["records"], json!([]), "nothing archived");
}

/// A CRL in a DSS added after signing, 32 MB inflated from ~70 KB, whose 3.6 million tiny
/// extensions parse to ~14 times its size: held 463 MB under a 64 MiB limit and was judged,
/// the parse done between two checks (helper 227). Now asked of the limit before it is
/// parsed: stopped, having held less than the limit. And a BER signature of 4 million NULLs,
/// re-encoded as DER value by value before it is parsed, each value in a buffer of its own
/// (helper 229: 16 million held 1 GB under a 256 MiB limit; these 224 MB): now judged within
/// the limit. And XMP metadata whose PDF/A declaration the archive reads at ingest.
#[test]
fn der_that_parses_or_re_encodes_to_many_times_its_size_is_stopped_within_the_limit() {
    let a = one_verify_thread(&["validation_memory_mib = 48"]);
    let dir = tempfile::tempdir().unwrap();
    let signed = dir.path().join("signed.pdf");
    std::fs::write(&signed, signed_fixture(&a, "giay-phep.pdf")).unwrap();
    let costly = dir.path().join("crl-extensions.pdf");
    serve_support::common::hostile(
        "crl_extensions.py",
        &[signed.as_os_str(), costly.as_os_str(), "3600000".as_ref()],
    );
    let costly = std::fs::read(&costly).unwrap();
    assert!(costly.len() < 200_000, "{}", costly.len());
    stopped_and_not_judged(
        &a,
        &costly,
        "too_much_memory",
        "48 MiB (limits.validation_memory_mib)",
    );
    // The stopped validations (verified, archived, and the BER one below) held less than the
    // limit, the honest one a few MB: parsed, the CRL alone held 463 MB, converted, the NULLs
    // 224 MB.
    let ber = dir.path().join("ber-values.p7m");
    serve_support::common::hostile("ber_values.py", &[ber.as_os_str(), "4000000".as_ref()]);
    let r = a.agent(Who::Token("verifier")).send(
        "POST",
        "/v1/verify",
        "application/pkcs7-mime",
        &std::fs::read(&ber).unwrap(),
    );
    // Re-encoded in place, it now fits the limit: judged (it has no SignerInfo).
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["indication"], "TOTAL-FAILED", "{}", r.text());
    // XMP metadata of 280,000 namespace declarations added after signing: its PDF/A
    // declaration read at ingest is asked of the limit first (helper 229: 80 MB under 16 MiB).
    let xmp = dir.path().join("xmp-declarations.pdf");
    serve_support::common::hostile(
        "xmp_declarations.py",
        &[signed.as_os_str(), xmp.as_os_str(), "280000".as_ref()],
    );
    let r = a.agent(Who::Token("clerk")).post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&std::fs::read(&xmp).unwrap()),
                "request_id": "xmp-1"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"], "too_much_memory", "{}", r.text());
    let mib = 1024.0 * 1024.0;
    let (count, held) = (
        metric(&a, "kyso_job_memory_bytes_count{work=\"validation\"}"),
        metric(&a, "kyso_job_memory_bytes_sum{work=\"validation\"}") / mib,
    );
    assert_eq!(count, 5.0);
    assert!(held < 4.0 * 48.0 + 8.0, "{held} MiB");
}

/// An appliance with one verification thread and these `[limits]` lines: the limit tests'
/// (a stopped job must leave that one thread free for the next).
fn one_verify_thread(limits: &[&str]) -> Appliance {
    Appliance::start_with(Options {
        limits: lines(limits),
        server: lines(&["verify_threads = 1"]),
        ..Default::default()
    })
}

/// tests/hostile/slow_pdf.py's document of this kind and size, made in `dir`.
fn hostile_slow_pdf(dir: &tempfile::TempDir, kind: &str, n: &str) -> Vec<u8> {
    let slow = dir.path().join("slow.pdf");
    serve_support::common::hostile(
        "slow_pdf.py",
        &[kind.as_ref(), slow.as_os_str(), n.as_ref()],
    );
    std::fs::read(&slow).unwrap()
}

#[test]
fn a_validation_past_its_time_limit_is_stopped_and_its_thread_serves_the_next() {
    let a = one_verify_thread(&["validation_secs = 1"]);
    let dir = tempfile::tempdir().unwrap();
    let slow = hostile_slow_pdf(&dir, "inflate-budget", "16");
    stopped_and_not_judged(&a, &slow, "too_slow", "limits.validation_secs");
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"validation_secs\"}"),
        2.0
    );
}

/// Reading a document to sign it is held to the same limit as a validation: a PDF whose form
/// spends the decode budget to its last byte had a batch's blocking thread, and the key's
/// session permit, held past the request's end, and a remote prepare's too, outside every
/// limit (found by reading the service for what no stop covered, 2026-12-06). The slow
/// document fails alone; the thread and the permit are free for the next.
#[test]
fn a_document_to_sign_whose_reading_runs_past_the_time_limit_is_stopped_and_not_signed() {
    let a = one_verify_thread(&["validation_secs = 1"]);
    let dir = tempfile::tempdir().unwrap();
    let slow = hostile_slow_pdf(&dir, "inflate-budget-page", "8");
    let started = Instant::now();
    read_to_sign_and_stopped(&a, &slow, "too_slow", "limits.validation_secs");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the batch and the prepares took {:?}",
        started.elapsed()
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"validation_secs\"}"),
        2.0
    );
}

/// A document whose validation holds more memory than `limits.validation_memory_mib`:
/// tests/hostile/repeated_work.py's `revisions-table.pdf` (Python, 1 MB: 64 signed revisions
/// over one cross-reference stream of 300,000 free entries) holds about 85 MB to judge. The
/// parsers' budgets bound it, but not below what an appliance running several such
/// validations at once can hold: a 32 MiB file of this shape held 2.4 GB (2026-12-06). Under
/// a 48 MiB limit its validation, its archiving, a remote prepare and a batch's reading of it
/// are stopped and said so (422 `too_much_memory`, not a verdict), nothing is stored, and the
/// one verification thread goes on serving an honest document within the same limit.
#[test]
fn a_validation_holding_more_memory_than_its_limit_is_stopped_and_its_thread_serves_the_next() {
    let a = one_verify_thread(&["validation_memory_mib = 48"]);
    let dir = tempfile::tempdir().unwrap();
    serve_support::common::hostile("repeated_work.py", &[dir.path().as_os_str()]);
    let costly = std::fs::read(dir.path().join("revisions-table.pdf")).unwrap();
    stopped_and_not_judged(
        &a,
        &costly,
        "too_much_memory",
        "48 MiB (limits.validation_memory_mib)",
    );
    let small = signed_fixture(&a, "giay-phep.pdf");
    let clerk = a.agent(Who::Token("clerk"));
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&small), "request_id": "small-1"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // Reading it to sign: one document of a batch (the other signed), a remote prepare.
    read_to_sign_and_stopped(
        &a,
        &costly,
        "too_much_memory",
        "limits.validation_memory_mib",
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"validation_memory_mib\"}"),
        4.0
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"validation_secs\"}"),
        0.0
    );
    // What each job held at its most: two validations stopped at 48 MiB and two honest
    // ones, a preparation stopped and an honest one, a batch document stopped and one
    // signed. Those stopped read ~40 MiB, and were stopped before the table that would have
    // passed the limit was made: none held more than the limit.
    let count = |work: &str| {
        metric(
            &a,
            &format!("kyso_job_memory_bytes_count{{work=\"{work}\"}}"),
        )
    };
    let sum = |work: &str| metric(&a, &format!("kyso_job_memory_bytes_sum{{work=\"{work}\"}}"));
    assert_eq!(
        (count("validation"), count("preparation"), count("signing")),
        (4.0, 2.0, 2.0)
    );
    let mib = 1024.0 * 1024.0;
    for (work, stopped, all) in [
        ("validation", 2.0, 4.0),
        ("preparation", 1.0, 2.0),
        ("signing", 1.0, 2.0),
    ] {
        let held = sum(work) / mib;
        assert!(
            held > 32.0 * stopped && held <= 48.0 * all,
            "{work}: {held} MiB"
        );
    }
}

#[test]
fn a_graceful_stop_cancels_queued_validations_after_drain_secs_and_exits_in_time() {
    let mut a = Appliance::start_with(Options {
        limits: lines(&[
            "verify_queue = 64",
            "verify_queue_per_client = 64",
            "concurrent_per_client = 64",
            "inflight_bytes = 4294967296",
            "inflight_bytes_per_client = 2147483648",
        ]),
        server: lines(&["verify_threads = 1", "drain_secs = 2"]),
        ..Default::default()
    });
    let slow = Arc::new(slow_pdf(300_000));
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let (c, doc) = (a.agent(Who::Token("verifier")), slow.clone());
            std::thread::spawn(move || {
                match c.try_send("POST", "/v1/verify", "application/pdf", &doc) {
                    Ok(r) => (r.status, r.text()),
                    Err(e) => (0, e.to_string()),
                }
            })
        })
        .collect();
    let t = Instant::now();
    while metric(&a, "kyso_verify_queued") < 10.0 {
        // (A build without the gauge: give the uploads time to land in the queue.)
        if t.elapsed() > Duration::from_secs(6) {
            let m = a.agent(Who::Token("admin")).get("/metrics").text();
            if !m.contains("kyso_verify_queued") {
                break;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the queue never filled"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Ten or more validations of over a second each wait: far more than drain_secs.
    let stopping = Instant::now();
    unsafe_kill(a.pid(), 15);
    let status = a.child.take().unwrap().wait().unwrap();
    let took = stopping.elapsed();
    assert!(status.success(), "{status:?}\n{}", a.service_log());
    assert!(
        took < Duration::from_secs(7),
        "stopped {took:?} after SIGTERM with drain_secs = 2"
    );
    let answers: Vec<(u16, String)> = calls.into_iter().map(|t| t.join().unwrap()).collect();
    // Every request got an answer: validated, or 503 because the service stopped.
    for (s, text) in &answers {
        assert!(*s == 200 || *s == 503, "{s} {text}");
    }
    let cancelled = answers.iter().filter(|(s, _)| *s == 503).count();
    assert!(cancelled >= 5, "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|(s, t)| *s == 503 && t.contains("stopping")),
        "{answers:?}"
    );
    assert!(a.service_log().contains("queued validations cancelled"));
}

#[test]
fn one_official_cannot_take_the_prepared_signature_store_from_the_others() {
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "remote_pending_bytes = 67108864",
            "remote_pending_bytes_per_user = 10485760",
        ]),
        ..Default::default()
    });
    let cert = std::fs::read_to_string(a.demo.path().join("signer-ec.pem")).unwrap();
    // 2 MiB to sign, CAdES attached: kept as hex until finalize (4 MiB each).
    let doc: Vec<u8> = (0..2u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    // Each a document of its own (the same one prepared again in the same second answers
    // its waiting handle).
    let prepare = |c: &Client, n: u8| {
        let mut doc = doc.clone();
        doc[0] = n;
        c.post_json(
            "/v1/sign/remote/prepare",
            &json!({"format": "cades", "attached": true, "certificate": cert, "document": b64(&doc)}),
        )
    };
    let official = a.agent(Who::Token("signer"));
    for n in 0..2 {
        let r = prepare(&official, n);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = prepare(&official, 2);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["error"], "too_many_pending");
    assert!(
        r.header("retry-after")
            .is_some_and(|s| s.parse::<u64>().unwrap() > 0),
        "{:?}",
        r.headers
    );
    // Another official (another user) is not affected.
    let r = prepare(&a.agent(Who::Cert("signer")), 3);
    assert_eq!(r.status, 200, "{}", r.text());
}

/// An upload in flight: its head sent, its body only begun.
struct HeldUpload(rustls::StreamOwned<rustls::ClientConnection, TcpStream>);

impl Drop for HeldUpload {
    fn drop(&mut self) {
        let _ = self.0.sock.shutdown(std::net::Shutdown::Both);
    }
}

/// A request whose head announces `length` bytes and whose body is sent only in part: the
/// connection stays open, the body in flight.
fn hold_upload(a: &Appliance, bearer: &str, length: usize) -> HeldUpload {
    let mut s = tls(a);
    s.write_all(
        format!("POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\nContent-Type: application/pdf\r\nContent-Length: {length}\r\n\r\n%PDF-1.7\n")
            .as_bytes(),
    )
    .unwrap();
    s.flush().unwrap();
    HeldUpload(s)
}

/// Wait (at most 10 s) until no bytes are in flight: the held bodies and answers released.
fn wait_released(a: &Appliance) {
    let t = Instant::now();
    while metric(a, "kyso_inflight_body_bytes") > 0.0 {
        assert!(t.elapsed() < Duration::from_secs(10), "bytes still held");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_inflight(a: &Appliance, bytes: f64) {
    let t = Instant::now();
    while metric(a, "kyso_inflight_body_bytes") < bytes {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "bodies not in flight"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn request_bodies_in_flight_are_bounded_per_client_and_for_all() {
    const MIB: usize = 1 << 20;
    // The verifier agency also has a token for its scripts: the same user, one budget.
    let same_user_token = "kyso_test_same_user_as_the_verifier_agency_certificate";
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "upload_bytes = 4194304",
            "batch_bytes = 4194304",
            "inflight_bytes_per_client = 12582912",
            "inflight_bytes = 20971520",
        ]),
        extra: vec![format!(
            "[[api_tokens]]\nname = \"verifier-agency\"\nsha256 = \"{}\"\nroles = [\"verifier\"]\n",
            sha256_hex(same_user_token.as_bytes())
        )],
        ..Default::default()
    });
    let small = signed_fixture(&a, "giay-phep.pdf");
    // The agency's script holds three 4 MiB uploads: its 12 MiB.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(hold_upload(&a, same_user_token, 4 * MIB));
    }
    wait_inflight(&a, (12 * MIB) as f64);
    // Its certificate is the same user: refused from the head, told to wait.
    let r = a
        .agent(Who::Cert("verifier"))
        .send("POST", "/v1/verify", "application/pdf", &small);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["error"], "too_many_in_flight");
    assert!(
        r.text().contains("inflight_bytes_per_client"),
        "{}",
        r.text()
    );
    assert!(r.header("retry-after").is_some());
    // Another user still sends bodies, until all clients together hold the service's 20 MiB.
    let r = a
        .agent(Who::Token("verifier"))
        .send("POST", "/v1/verify", "application/pdf", &small);
    assert_eq!(r.status, 200, "{}", r.text());
    for _ in 0..2 {
        held.push(hold_upload(&a, a.token("verifier"), 4 * MIB));
    }
    wait_inflight(&a, (20 * MIB) as f64);
    let clerk = a.agent(Who::Token("clerk"));
    let r = clerk.send("POST", "/v1/verify", "application/pdf", &small);
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    // Requests without a body are not held up.
    assert_eq!(clerk.get("/v1/whoami").status, 200);
    // The bytes come back when the uploads end.
    drop(held);
    wait_released(&a);
    let r = clerk.send("POST", "/v1/verify", "application/pdf", &small);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(metric(&a, "kyso_limited_total{limit=\"inflight_bytes\"}") >= 1.0);
    assert!(metric(&a, "kyso_limited_total{limit=\"inflight_bytes_client\"}") >= 1.0);
}

/// Idle TCP connections from eight loopback addresses (python sockets: no TLS ClientHello
/// ever), reopened as the service drops them, while another address asks /healthz.
const IDLE_FLOOD: &str = r#"
import socket, ssl, sys, time, threading, json
port, ca = int(sys.argv[1]), sys.argv[2]
stop = time.time() + 10
def hold(ip):
    mine = []
    while time.time() < stop:
        while len(mine) < 16:
            try:
                mine.append(socket.create_connection(("127.0.0.1", port), source_address=(ip, 0), timeout=2))
            except Exception:
                time.sleep(0.05)
                break
        time.sleep(0.1)
        alive = []
        for c in mine:
            c.setblocking(False)
            try:
                if c.recv(1) == b"":
                    c.close()
                    continue
            except BlockingIOError:
                pass
            except Exception:
                c.close()
                continue
            alive.append(c)
        mine = alive
    for c in mine:
        c.close()
threads = [threading.Thread(target=hold, args=(f"127.0.0.{i}",), daemon=True) for i in range(2, 10)]
for t in threads:
    t.start()
time.sleep(3)
ctx = ssl.create_default_context(cafile=ca)
healthz = []
for i in range(10):
    try:
        s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.1.1", 0), timeout=5)
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        healthz.append(t.recv(100).split(b"\r\n")[0].decode())
        t.close()
    except Exception as e:
        healthz.append(type(e).__name__)
    time.sleep(0.5)
for t in threads:
    t.join()
def life(s):
    t0 = time.time()
    s.settimeout(20)
    try:
        s.recv(1)
    except Exception:
        pass
    return round(time.time() - t0, 2)
idle = life(socket.create_connection(("127.0.0.1", port), source_address=("127.0.2.1", 0)))
same = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.3.1", 0)) for _ in range(16)]
time.sleep(0.2)
extra = life(socket.create_connection(("127.0.0.1", port), source_address=("127.0.3.1", 0)))
print(json.dumps({"healthz": healthz, "idle_life": idle, "over_address_life": extra}))
"#;

#[test]
fn connections_without_a_finished_tls_handshake_cannot_keep_healthz_from_answering() {
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "max_connections = 64",
            "connections_per_address = 16",
            "handshake_timeout_secs = 2",
        ]),
        ..Default::default()
    });
    let out = python(
        IDLE_FLOOD,
        &[&a.port().to_string(), a.server_ca_pem().to_str().unwrap()],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let healthz: Vec<&str> = v["healthz"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        healthz.iter().all(|h| *h == "HTTP/1.1 200 OK"),
        "/healthz during the flood: {healthz:?}"
    );
    // A connection that never starts TLS holds its slot for the handshake deadline at most,
    // and one over its address's share is closed at once.
    let idle = v["idle_life"].as_f64().unwrap();
    assert!((1.5..4.0).contains(&idle), "{v}");
    assert!(v["over_address_life"].as_f64().unwrap() < 1.0, "{v}");
    assert!(metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}") > 0.0);
}

/// Connections kept alive between requests (the attacker's `GET /healthz` every second, its
/// answers read) hold every slot but one, which carries an upload in progress; newcomers come
/// in. Python's ssl sockets: a client we did not write.
const IDLE_KEEPALIVE_FLOOD: &str = r#"
import socket, ssl, sys, json, threading, time
port, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
def connect(src):
    s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0), timeout=5)
    return ctx.wrap_socket(s, server_hostname="localhost")
def answer(t):
    got = b""
    while b"\r\n\r\n" not in got:
        b = t.recv(4096)
        if not b:
            return None
        got += b
    head, rest = got.split(b"\r\n\r\n", 1)
    n = [int(l.split(b":")[1]) for l in head.lower().split(b"\r\n") if l.startswith(b"content-length:")]
    while n and len(rest) < n[0]:
        b = t.recv(4096)
        if not b:
            return None
        rest += b
    return head.split(b"\r\n")[0].decode()
# One upload in progress: its head and a part of its body sent.
upload = connect("127.0.5.1")
upload.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/pdf\r\nContent-Length: 20000\r\n\r\n%%PDF-1.7\n" % token.encode())
time.sleep(0.3)
idle = []
for src in ["127.0.6.1"] * 4 + ["127.0.6.2"] * 3:
    t = connect(src)
    t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer(t) == "HTTP/1.1 200 OK"
    idle.append(t)
stop = False
closed = [None] * len(idle)
def ping(i, t):
    while not stop and closed[i] is None:
        try:
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            if answer(t) is None:
                closed[i] = "eof"
        except Exception as e:
            closed[i] = type(e).__name__
        time.sleep(1)
threads = [threading.Thread(target=ping, args=(i, t), daemon=True) for i, t in enumerate(idle)]
for th in threads:
    th.start()
time.sleep(1.5)
newcomers = []
for i in range(5):
    try:
        t = connect("127.0.7.1")
        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        newcomers.append(answer(t) or "closed")
        t.close()
    except Exception as e:
        newcomers.append(type(e).__name__)
    time.sleep(0.3)
stop = True
for th in threads:
    th.join()
# The upload was never given up: the rest of its body gets an answer.
upload.settimeout(20)
try:
    upload.sendall(b" " * (20000 - 9))
    uploaded = answer(upload) or "closed"
except Exception as e:
    uploaded = type(e).__name__
print(json.dumps({"newcomers": newcomers, "idle_closed": closed, "upload": uploaded}))
"#;

#[test]
fn connections_idle_between_requests_give_their_slots_to_newcomers_and_busy_ones_keep_theirs() {
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "max_connections = 8",
            "connections_per_address = 4",
            "header_timeout_secs = 5",
        ]),
        ..Default::default()
    });
    let out = python(
        IDLE_KEEPALIVE_FLOOD,
        &[
            &a.port().to_string(),
            a.server_ca_pem().to_str().unwrap(),
            a.token("verifier"),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Every slot was held (7 idle, 1 busy), yet each newcomer was answered: each took the
    // slot of the connection idle longest, which the service closed.
    let newcomers: Vec<&str> = v["newcomers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(newcomers, vec!["HTTP/1.1 200 OK"; 5], "{v}");
    let closed = v["idle_closed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c.is_null())
        .count();
    assert!((1..=7).contains(&closed), "{v}");
    // Anonymous, the idle connections are not known to be an agency's: past the share, the
    // oldest of them gave its slot up.
    assert!(
        metric(&a, "kyso_limited_total{limit=\"idle_evicted\"}")
            + metric(&a, "kyso_limited_total{limit=\"public_evicted\"}")
            >= 1.0
    );
    assert_eq!(metric(&a, "kyso_limited_total{limit=\"connections\"}"), 0.0);
    // The connection carrying an upload kept its slot and its request was answered.
    let upload = v["upload"].as_str().unwrap();
    assert!(upload.starts_with("HTTP/1.1 "), "{v}");
}

/// A service with public verification on and these `[limits]`.
/// Eight connection slots, four per address, half of them the public's share: the small
/// appliance the slot tests crowd.
const EIGHT_SLOTS: [&str; 3] = [
    "max_connections = 8",
    "connections_per_address = 4",
    "public_share = 50",
];

fn with_public_verification(limits: &[&str]) -> Appliance {
    Appliance::start_with(Options {
        limits: lines(limits),
        web: lines(&["public_verification = true"]),
        ..Default::default()
    })
}

/// Run a python script of clients (port, server CA, an agency's token as arguments) and read
/// the JSON it prints.
fn slot_clients(a: &Appliance, script: &str) -> serde_json::Value {
    let out = python(
        script,
        &[
            &a.port().to_string(),
            a.server_ca_pem().to_str().unwrap(),
            a.token("verifier"),
        ],
    );
    serde_json::from_str(&out).unwrap()
}

/// Every slot taken: five public uploads announced and never finished (from two addresses), a
/// connection that sent one byte of a request head, one that finished its handshake and said
/// nothing, and an agency's upload in progress. Then agencies come, each with an upload of its
/// own (python ssl sockets).
const PUBLIC_SLOW_BODIES: &str = r#"
import socket, ssl, sys, json, time
port, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
def connect(src):
    s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0), timeout=5)
    return ctx.wrap_socket(s, server_hostname="localhost")
def answer(t):
    got = b""
    try:
        while b"\r\n\r\n" not in got:
            b = t.recv(4096)
            if not b:
                return "closed"
            got += b
    except Exception as e:
        return type(e).__name__
    return got.split(b"\r\n")[0].decode()
def upload(src, auth):
    t = connect(src)
    t.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/pdf\r\nContent-Length: 20000\r\n\r\n%%PDF-1.7\n" % auth)
    return t
def finish(t):
    try:
        t.settimeout(20)
        t.sendall(b" " * (20000 - 9))
    except Exception as e:
        return type(e).__name__
    return answer(t)
def ended(t):
    t.settimeout(5)
    try:
        return "closed" if t.recv(100) == b"" else "data"
    except Exception as e:
        return type(e).__name__
bearer = b"Authorization: Bearer %s\r\n" % token.encode()
public = []
for src in ["127.0.8.1"] * 3 + ["127.0.8.2"] * 2:
    public.append(upload(src, b""))
    time.sleep(0.2)
zombie = connect("127.0.8.3")
zombie.sendall(b"P")
silent = connect("127.0.8.3")
agency = upload("127.0.9.1", bearer)
time.sleep(3)
# Each newcomer is an agency whose upload keeps its slot busy.
newcomers = []
for i in range(5):
    try:
        t = upload("127.0.10.%d" % (i + 1), bearer)
        time.sleep(0.5)
        newcomers.append(t)
    except Exception as e:
        newcomers.append(type(e).__name__)
print(json.dumps({
    "zombie": ended(zombie),
    "silent": ended(silent),
    "public": [finish(t) for t in public],
    "agency": finish(agency),
    "newcomers": [finish(t) if not isinstance(t, str) else t for t in newcomers],
}))
"#;

/// Connections not known to be an agency's (no agency's client certificate, no request with an
/// agency's credentials yet) hold at most `public_share` of the connection slots against
/// newcomers: past it, the oldest is closed at once. With public verification on, five public
/// uploads never finished, sent from two addresses (the most `connections_per_address` lets
/// each hold), had held five of eight slots for `request_timeout_secs`, and no agency got one.
/// And a connection told to give its slot up while waiting is closed at once unless it is an
/// agency's: one that had sent a byte of a request head kept its slot until
/// `header_timeout_secs` (a reviewer's reading, 2026-12-03). A connection that finishes its TLS
/// handshake and says nothing waits like an idle one after two seconds.
#[test]
fn connections_of_the_public_beyond_its_share_give_their_slots_to_agencies_at_once() {
    let a = with_public_verification(&[
        "max_connections = 8",
        "connections_per_address = 3",
        "public_share = 50",
        "header_timeout_secs = 20",
    ]);
    let v = slot_clients(&a, PUBLIC_SLOW_BODIES);
    let answered = |x: &serde_json::Value| x.as_str().is_some_and(|s| s.starts_with("HTTP/1.1 "));
    // Seven connections not known to be an agency's held 8 slots, past their share of 4: the
    // fifth public upload, the connection with a byte of a head and the silent one, which
    // took free slots when the public already held its share (surplus), gave theirs to the
    // first three agencies; at its share (4 uploads, open
    // past 2 s), the public's oldest to the fourth, which waited on probation until its
    // request showed an agency's credentials; the public then held 3, the agencies'
    // connections were all busy, and the fifth found no slot to take.
    for c in ["zombie", "silent"] {
        assert!(
            !["data", "TimeoutError"].contains(&v[c].as_str().unwrap()),
            "{c} still open: {v}"
        );
    }
    let newcomers = v["newcomers"].as_array().unwrap();
    assert!(newcomers[..4].iter().all(answered), "{v}");
    assert!(!newcomers[4..].iter().any(answered), "{v}");
    let public = v["public"].as_array().unwrap();
    assert!(!answered(&public[0]) && !answered(&public[4]), "{v}");
    assert!(public[1..4].iter().all(answered), "{v}");
    assert!(answered(&v["agency"]), "{v}");
    // Four given up: the two waiting (surplus, cut as the public's past its share) and two
    // uploads.
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_evicted\"}")
            + metric(&a, "kyso_limited_total{limit=\"idle_evicted\"}"),
        4.0
    );
    assert!(metric(&a, "kyso_limited_total{limit=\"connections\"}") >= 1.0);
}

/// Python for the tests below: uploads announced and never finished, and an agency as a client
/// across a network: its TLS Finished reaches the service `rtt` seconds after the service's
/// flight (a reviewer's script, 2026-12-03; python ssl over memory BIOs).
const AGENCY_OVER_A_NETWORK: &str = r#"
import socket, ssl, sys, json, time, threading
port, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
bearer = b"Authorization: Bearer %s\r\n" % token.encode()
def upload(src, auth=b""):
    s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0), timeout=5)
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Type: application/pdf\r\nContent-Length: 20000\r\n\r\n%PDF-1.7\n")
    return t
def agency(src, rtt, hello=0):
    s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0), timeout=5)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out, server_hostname="localhost")
    flights = 0
    def pump():
        nonlocal flights
        d = out.read()
        if d:
            if flights > 0:
                time.sleep(rtt)
            elif hello:
                time.sleep(hello)
            flights += 1
            s.sendall(d)
    while True:
        try:
            o.do_handshake()
            pump()
            break
        except ssl.SSLWantReadError:
            pump()
            b = s.recv(65536)
            if not b:
                return "closed in its handshake"
            inc.write(b)
    o.write(b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\n" + bearer + b"\r\n")
    s.sendall(out.read())
    got = b""
    while b"\r\n" not in got:
        try:
            got += o.read(200)
            continue
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as e:
            return "ssl error after its request: %s" % e.reason
        b = s.recv(65536)
        if not b:
            return "closed after its request"
        inc.write(b)
    return got.split(b"\r\n")[0].decode()
def ask(t):
    t.sendall(b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\n" + bearer + b"\r\n")
    got = b""
    try:
        while b"\r\n\r\n" not in got:
            b = t.recv(4096)
            if not b:
                return "closed"
            got += b
        head, body = got.split(b"\r\n\r\n", 1)
        n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
        while len(body) < n:
            b = t.recv(4096)
            if not b:
                return "closed"
            body += b
    except Exception as e:
        return type(e).__name__
    return head.split(b"\r\n")[0].decode()
"#;

/// Fifteen public uploads never finished hold 15 of 16 slots; a stream of silent connects from
/// many addresses (40 a second, each closed after a second) keeps the last slot turning over;
/// ten agencies come one after another, their TLS Finished 50 ms late.
const AGENCIES_THROUGH_A_CONNECT_FLOOD: &str = r#"
rate = 40.0
stop = False
held = [upload("127.0.77.%d" % (i // 4 + 1)) for i in range(15)]
def flooder():
    socks, n = [], 0
    while not stop:
        n += 1
        try:
            s = socket.socket()
            s.setblocking(False)
            s.bind(("127.%d.%d.%d" % (100 + n % 50, (n >> 8) % 250, n % 250 + 1), 0))
            s.connect_ex(("127.0.0.1", port))
            socks.append((time.time(), s))
        except Exception:
            pass
        while socks and time.time() - socks[0][0] > 1.0:
            socks.pop(0)[1].close()
        time.sleep(1.0 / rate)
    for _, s in socks:
        s.close()
th = threading.Thread(target=flooder)
th.start()
time.sleep(1)
res = []
for i in range(10):
    try:
        res.append(agency("127.0.9.%d" % (i + 1), 0.05))
    except Exception as e:
        res.append(type(e).__name__)
    time.sleep(0.2)
stop = True
th.join()
print(json.dumps({"agencies": res}))
"#;

/// Agencies' uploads hold their part of 8 slots (4), the public's its share but one (3), and a
/// silent connection the last slot. An agency comes, its TLS Finished 300 ms late; meanwhile
/// five silent connects arrive.
const AGENCY_AFTER_THE_BAIT: &str = r#"
held = [upload("127.0.8.1", bearer) for i in range(4)] + [upload("127.0.9.1") for i in range(3)]
bait = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.2", 0), timeout=5)
time.sleep(2.5)
connects = []
def connect_meanwhile():
    time.sleep(0.1)
    for i in range(5):
        s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.10.%d" % (i + 1), 0), timeout=5)
        connects.append(s)
        time.sleep(0.02)
th = threading.Thread(target=connect_meanwhile)
th.start()
try:
    got = agency("127.0.11.1", 0.3)
except Exception as e:
    got = type(e).__name__
th.join()
print(json.dumps({"agency": got}))
"#;

/// The public's share of the slots comes before the waiting order: when the waiting came
/// first, a stream of silent connects kept some connection always waiting, the public's
/// uploads kept every other slot, and each agency, waiting in its own handshake, gave its slot
/// to the next connect (none of them answered at 40 connects a second, a reviewer's
/// measurement). Now the oldest connections not known to be an agency's give theirs up first;
/// and since a connection whose client has said nothing gives its slot up at any age (a
/// reviewer's reading, 2026-12-04), the silent connects give theirs to each other, and the
/// public's uploads are cut only for the agencies.
#[test]
fn agencies_get_through_a_flood_of_connects_beside_the_public_s_uploads() {
    let a = with_public_verification(&[
        "max_connections = 16",
        "connections_per_address = 4",
        "public_share = 50",
    ]);
    let v = slot_clients(
        &a,
        &format!("{AGENCY_OVER_A_NETWORK}{AGENCIES_THROUGH_A_CONNECT_FLOOD}"),
    );
    assert_eq!(
        v["agencies"],
        serde_json::to_value(vec!["HTTP/1.1 200 OK"; 10]).unwrap(),
        "{v}"
    );
    assert!(metric(&a, "kyso_limited_total{limit=\"public_evicted\"}") <= 10.0);
    assert!(metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}") >= 50.0);
}

/// A connection not known to be an agency's gives its slot up as a waiting one only once it
/// has been open two seconds: an agency's newcomer that took the slot of a silent connection
/// was, in its own handshake, the only connection waiting, and gave its slot to the next
/// connect (agencies held their part, the public its share but one: no agency got through at
/// 20 connects a second; a reviewer's measurement, 2026-12-03).
#[test]
fn an_agency_s_newcomer_keeps_its_slot_through_its_handshake() {
    let a =
        with_public_verification(&[&EIGHT_SLOTS[..], &["handshake_timeout_secs = 20"]].concat());
    let v = slot_clients(
        &a,
        &format!("{AGENCY_OVER_A_NETWORK}{AGENCY_AFTER_THE_BAIT}"),
    );
    assert_eq!(v["agency"], "HTTP/1.1 200 OK", "{v}");
    // The silent connection gave its slot up to the agency's newcomer; with the public at its
    // share (its three uploads and that newcomer, not yet known), the five connects were put
    // on probation, four overflow slots for eight connection slots: four waited there, saying
    // nothing, and the fifth took the overflow slot of the first, which had said nothing
    // either. None took a connection slot.
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}"),
        2.0
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_evicted\"}"),
        0.0
    );
    assert_eq!(metric(&a, "kyso_limited_total{limit=\"connections\"}"), 0.0);
}

/// An appliance of `slots` connection slots (the public's share half of them) and the python
/// `scenario` of agencies' keep-alive connections run against it: each of its `agencies` was
/// answered when it first asked and when it asked again on the same connection.
fn agencies_asked_again(
    slots: usize,
    scenario: &str,
    agencies: usize,
) -> (Appliance, serde_json::Value) {
    let a = with_public_verification(&[
        &format!("max_connections = {slots}"),
        "connections_per_address = 4",
        "public_share = 50",
    ]);
    let v = slot_clients(&a, &format!("{AGENCY_OVER_A_NETWORK}{scenario}"));
    let ok = serde_json::to_value(vec!["HTTP/1.1 200 OK"; agencies]).unwrap();
    assert_eq!(v["first"], ok, "{v}");
    assert_eq!(v["again"], ok, "{v}");
    (a, v)
}

/// Seven agencies' keep-alive connections in 16 slots, idle past two seconds; then silent
/// connects from many addresses, 2,000 a second in fours, each closed after a second (the
/// public over its share of 8 whenever every slot is taken); then each agency asks again on
/// its connection.
const AGENCIES_IDLE_BESIDE_A_FLOOD: &str = r#"
agencies = []
for i in range(7):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.%d" % (i + 1), 0), timeout=5)
    agencies.append(ctx.wrap_socket(s, server_hostname="localhost"))
first = [ask(t) for t in agencies]
time.sleep(2.5)
socks, n, t0 = [], 0, time.time()
while time.time() - t0 < 2.5:
    while n < int((time.time() - t0) * 2000):
        for _ in range(4):
            n += 1
            s = socket.socket()
            s.setblocking(False)
            s.bind(("127.%d.%d.%d" % (100 + n % 100, (n >> 8) % 250, n % 250 + 1), 0))
            s.connect_ex(("127.0.0.1", port))
            socks.append((time.time(), s))
    while socks and time.time() - socks[0][0] > 1.0:
        socks.pop(0)[1].close()
    time.sleep(0.002)
for _, s in socks:
    s.close()
print(json.dumps({"first": first, "again": [ask(t) for t in agencies], "connects": n}))
"#;

/// A connection of the public told to give its slot up counts in the public's share until it
/// has closed, and so does a newcomer given a slot: the share was counted from the
/// connections not yet told, so under a flood of connects newcomers took agencies' idle
/// connections although the public held more than its share (a reviewer saw two of seven
/// go, 2026-12-03).
#[test]
fn agencies_idle_connections_stay_while_the_public_is_over_its_share_under_a_flood() {
    let (a, _) = agencies_asked_again(16, AGENCIES_IDLE_BESIDE_A_FLOOD, 7);
    // The flood's connections gave their slots to each other, in their handshakes.
    assert!(metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}") >= 100.0);
}

/// Four agencies' keep-alive connections in 8 slots, idle past two seconds, and four public
/// uploads never finished (the public at its share of 4); then three silent connects, one at a
/// time, and a new agency's connection; then each agency asks again on its connection.
const AGENCIES_IDLE_AT_THE_PUBLIC_S_SHARE: &str = r#"
agencies = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.%d" % (i + 1), 0), timeout=5)
    agencies.append(ctx.wrap_socket(s, server_hostname="localhost"))
first = [ask(t) for t in agencies]
held = [upload("127.0.8.%d" % (i + 1)) for i in range(4)]
time.sleep(2.5)
connects = []
for i in range(3):
    connects.append(socket.create_connection(("127.0.0.1", port), source_address=("127.0.12.%d" % (i + 1), 0), timeout=5))
    time.sleep(0.3)
newcomer = agency("127.0.13.1", 0.05)
print(json.dumps({"first": first, "again": [ask(t) for t in agencies], "newcomer": newcomer}))
"#;

/// The newcomer is the public's until it is known: with the public at its share, an agency's
/// idle connection is not given up for it (that would give the public one slot more than its
/// share: agencies holding the rest lost their idle connections to 20 connects a second, a
/// reviewer's reading, 2026-12-04), and neither is the public's oldest: the newcomer waits on
/// probation. Once its request shows an agency's credentials, the public's oldest connection
/// open past 2 s gives its slot up to it (refusing every newcomer there kept a new agency's
/// connection out: 0 of 8, a reviewer's reading the same day).
#[test]
fn agencies_idle_connections_stay_while_the_public_holds_its_share() {
    let (a, v) = agencies_asked_again(8, AGENCIES_IDLE_AT_THE_PUBLIC_S_SHARE, 4);
    assert_eq!(v["newcomer"], "HTTP/1.1 200 OK", "{v}");
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"idle_evicted\"}"),
        0.0
    );
    // The three silent connects waited on probation and took nothing; the agency's newcomer
    // took the slot of one public upload.
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_evicted\"}"),
        1.0
    );
    assert_eq!(metric(&a, "kyso_limited_total{limit=\"connections\"}"), 0.0);
}

/// Agencies' uploads hold their part of 8 slots (4); the public its share (4): three uploads
/// never finished and, youngest, an honest upload that sends its body slowly. Meanwhile a
/// client of the public opens a connection every half second and asks for the API's
/// description, /healthz, the web page's script or a route that does not exist; then four silent
/// connects fill the overflow slots; 2.5 s later an agency comes, and the honest upload ends.
/// A client of the public: `connect(src)` over TLS; `head_and_end(t)` reads an answer to its
/// end and says its status line (and `close` if the connection was closed by the service).
const THE_PUBLIC: &str = r#"
def connect(src):
    s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0), timeout=5)
    return ctx.wrap_socket(s, server_hostname="localhost")
def head_and_end(t):
    got = b""
    try:
        while True:
            b = t.recv(4096)
            if not b:
                break
            got += b
    except Exception as e:
        return type(e).__name__
    head = got.split(b"\r\n\r\n")[0].decode(errors="replace").lower()
    return head.split("\r\n")[0] + (" close" if "connection: close" in head else "")
def public(src):
    t = connect(src)
    t.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return head_and_end(t)
"#;

const THE_PUBLIC_AT_ITS_SHARE_AND_A_TRICKLE: &str = r#"
held = [upload("127.0.8.1", bearer) for i in range(4)] + [upload("127.0.9.1") for i in range(3)]
time.sleep(0.3)
honest = upload("127.0.9.2")
sent = 9
time.sleep(2.5)
trickle = []
for i in range(12):
    try:
        honest.sendall(b" " * 100)
        sent += 100
    except Exception as e:
        trickle.append("honest upload: " + type(e).__name__)
        break
    try:
        t = connect("127.0.10.%d" % (i + 1))
        path = [b"/v1/openapi.json", b"/healthz", b"/app.js", b"/v1/nowhere"][i % 4]
        t.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
        trickle.append(head_and_end(t))
        t.close()
    except Exception as e:
        trickle.append(type(e).__name__)
    time.sleep(0.5)
silent = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.12.%d" % (i + 1), 0)) for i in range(4)]
time.sleep(2.5)
newcomer = agency("127.0.11.1", 0.05)
try:
    honest.settimeout(20)
    honest.sendall(b" " * (20000 - sent))
    got = b""
    while b"\r\n" not in got:
        b = honest.recv(4096)
        if not b:
            break
        got += b
    honest_answer = got.split(b"\r\n")[0].decode() or "closed"
except Exception as e:
    honest_answer = type(e).__name__
print(json.dumps({"trickle": trickle, "honest": honest_answer, "newcomer": newcomer}))
"#;

/// While the public holds its share, a newcomer waits on probation (overflow slots) through
/// its handshake and its first request head, and takes a connection slot only once it shows
/// an agency's credentials: the public's is answered 503 and closed. Before, the public's
/// oldest connection open 2 s went for any newcomer, so a client of the public opening a
/// connection every half second cut honest uploads of the public one after another (one cut
/// after 5.8 s; a reviewer's reading, 2026-12-04).
#[test]
fn the_public_at_its_share_keeps_its_uploads_against_newcomers_of_the_public() {
    let a =
        with_public_verification(&[&EIGHT_SLOTS[..], &["handshake_timeout_secs = 20"]].concat());
    let v = slot_clients(
        &a,
        &format!("{AGENCY_OVER_A_NETWORK}{THE_PUBLIC}{THE_PUBLIC_AT_ITS_SHARE_AND_A_TRICKLE}"),
    );
    let trickle = v["trickle"].as_array().unwrap();
    assert_eq!(trickle.len(), 12, "{v}");
    for (i, t) in trickle.iter().enumerate() {
        // A load balancer's health check and the web page's files are answered, and a route
        // that does not exist past the gate; each connection is closed all the same.
        let want = [
            "503 service unavailable",
            "200 ok",
            "200 ok",
            "404 not found",
        ][i % 4];
        assert_eq!(t, &format!("http/1.1 {want} close"), "{v}");
    }
    // The honest upload was not cut: it was answered (a report on a document with no
    // signature).
    assert_eq!(v["honest"], "HTTP/1.1 200 OK", "{v}");
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_connections\"}"),
        3.0
    );
    // The agency's newcomer took the overflow slot of the oldest silent connect (open past
    // 2 s), then the connection slot of the public's oldest upload (not the honest one, the
    // youngest).
    assert_eq!(v["newcomer"], "HTTP/1.1 200 OK", "{v}");
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}"),
        1.0
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_evicted\"}"),
        1.0
    );
    assert_eq!(
        metric(
            &a,
            "kyso_probation_promoted_total{slot=\"taken\",who=\"agency\"}"
        ),
        1.0
    );
    assert_eq!(metric(&a, "kyso_limited_total{limit=\"connections\"}"), 0.0);
}

/// A connection on probation whose client has sent nothing gives its overflow slot up to the
/// next newcomer at any age: refused at once while every overflow slot was younger than 2 s,
/// a stream of silent connects at half the overflow slots a second kept agencies' newcomers
/// out (5 of 20 got in at 20 connects a second in 8 slots, 2 of 20 at 200 a second at the
/// defaults; a reviewer's reading, 2026-12-04).
#[test]
fn agencies_get_through_a_silent_flood_while_the_public_holds_its_share() {
    let (a, v) = eight_slots_beside_a_silent_flood(4, 50, 10, 0.0, false);
    assert_eq!(
        v["agencies"],
        serde_json::to_value(vec!["HTTP/1.1 200 OK"; 10]).unwrap(),
        "{v}"
    );
    assert!(metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}") >= 100.0);
}

/// At the public's share, a newcomer not yet known spares a silent slot holder come less than
/// 50 ms ago (unless every overflow slot is taken and the holder came before every silent one
/// there): taking it at any age, the flood's next connect took the slot of an agency's
/// newcomer whose ClientHello had not come yet (8 of 20 agencies reset, their ClientHello 2 ms
/// after their connect, at 200 silent connects a second; 2 of 230 at 50 a second in a loaded
/// suite, theirs at once; 2026-12-04).
#[test]
fn agencies_whose_client_hello_comes_a_moment_after_the_connect_get_through_a_silent_flood() {
    let (a, v) = eight_slots_beside_a_silent_flood(4, 200, 12, 0.002, false);
    assert_eq!(
        v["agencies"],
        serde_json::to_value(vec!["HTTP/1.1 200 OK"; 12]).unwrap(),
        "{v}"
    );
    assert!(metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}") >= 500.0);
}

/// Under a flood of silent connects, clients of the public get through: with silent slot
/// holders spared under 250 ms, half the public's requests were answered 503 at 40 silent
/// connects a second in 8 slots (helper 117's reading, 2026-12-04). Now they are spared under
/// 50 ms, and a client of the public put on probation takes, once its request has come, the
/// slot of the silent one waiting longest, once 50 ms old.
#[test]
fn clients_of_the_public_get_through_a_silent_flood_at_its_share() {
    let (a, v) = eight_slots_beside_a_silent_flood(0, 40, 10, 0.0, true);
    assert_eq!(
        v["agencies"],
        serde_json::to_value(vec!["http/1.1 200 ok close"; 10]).unwrap(),
        "{v}"
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_connections\"}"),
        0.0
    );
}

/// A request of the public on probation takes no silent connection's slot come less than 50 ms
/// ago: at any age, one request in an agency newcomer's first milliseconds, its ClientHello not
/// yet sent, cut it (helper 118's reading, 2026-12-04).
#[test]
fn requests_of_the_public_on_probation_do_not_cut_an_agency_s_newcomer_in_its_first_flight() {
    let a = with_public_verification(&EIGHT_SLOTS);
    let v = slot_clients(
        &a,
        &format!(
            "{AGENCY_OVER_A_NETWORK}{THE_PUBLIC}{}",
            r#"
held = [upload("127.0.8.1", bearer) for i in range(4)] + [upload("127.0.9.1") for i in range(3)]
bait = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.2", 0), timeout=5)
time.sleep(0.5)
publics = []
def publics_meanwhile():
    time.sleep(0.003)
    for i in range(3):
        try:
            publics.append(public("127.0.10.%d" % (i + 1)))
        except Exception as e:
            publics.append(type(e).__name__)
th = threading.Thread(target=publics_meanwhile)
th.start()
try:
    got = agency("127.0.11.1", 0.05, 0.03)
except Exception as e:
    got = type(e).__name__
th.join()
print(json.dumps({"agency": got, "publics": publics}))
"#
        ),
    );
    // The agency's newcomer took the silent connection's slot (open half a second), its
    // ClientHello 30 ms after its connect; the public's requests, meanwhile on probation, found
    // no silent connection 50 ms old and were answered 503. On a loaded machine they may come
    // only later: then, the agency's client gone, they take its slot, free (200), or, the
    // public below its share with nothing to take, are refused. On the build before, they came
    // in time and cut the agency's newcomer, 3 runs of 3.
    assert_eq!(v["agency"], "HTTP/1.1 200 OK", "{v}");
    assert_eq!(v["publics"].as_array().map(Vec::len), Some(3), "{v}");
}

/// Silent connects holding the public's share keep no client of the public out while they are
/// older than 50 ms: spared at any age while an overflow slot was free, they kept every
/// newcomer of the public on probation, answered 503 (helper 116's reading, 2026-12-04).
#[test]
fn silent_connects_at_the_public_s_share_give_their_slots_to_the_public_s_newcomers() {
    let a = with_public_verification(&EIGHT_SLOTS);
    let v = slot_clients(
        &a,
        &format!(
            "{AGENCY_OVER_A_NETWORK}{THE_PUBLIC}{}",
            r#"
agencies = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.1", 0), timeout=5)
    agencies.append(ctx.wrap_socket(s, server_hostname="localhost"))
first = [ask(t) for t in agencies]
silent = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.12.%d" % (i + 1), 0)) for i in range(4)]
time.sleep(1)
t = connect("127.0.10.1")
t.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print(json.dumps({"first": first, "public": head_and_end(t)}))
"#
        ),
    );
    assert_eq!(
        v["first"],
        serde_json::to_value(vec!["HTTP/1.1 200 OK"; 4]).unwrap(),
        "{v}"
    );
    assert_eq!(v["public"], "http/1.1 200 ok close", "{v}");
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}"),
        1.0
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_connections\"}"),
        0.0
    );
}

/// The operator sees how the public's requests on probation were let through: two newcomers
/// of the public came while the last slot held a client of the public that had spoken and
/// said nothing more (heard, not to be cut for a newcomer of the public at its share: both
/// put on probation); that client left, and a silent connect took its slot; the first
/// newcomer's request, 300 ms later, took that silent connection's slot, and the second's the
/// slot the first left when it was answered.
///
/// It failed its first try in about half the whole-suite runs (2026-12-05) until the script
/// took this order (helper 150): the bait connected first and the two newcomers after it, and
/// each connection's task takes its slot on its own, so on a loaded machine a newcomer could
/// take the last free slot before the bait (the bait then on probation, where no one looks for
/// a silent connection to cut: 503), or come 50 ms after the bait (the bait no longer young:
/// cut for it, and the other's request found nothing to take: 503).
#[test]
fn the_public_s_requests_on_probation_are_counted_by_the_slot_they_took() {
    let a = with_public_verification(&EIGHT_SLOTS);
    let v = slot_clients(
        &a,
        &format!(
            "{AGENCY_OVER_A_NETWORK}{THE_PUBLIC}{}",
            r#"
held = [upload("127.0.8.1", bearer) for i in range(4)] + [upload("127.0.9.1") for i in range(3)]
idle = connect("127.0.9.2")
time.sleep(0.3)
raw = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.10.%d" % (i + 1), 0), timeout=5) for i in range(2)]
ts = [ctx.wrap_socket(s, server_hostname="localhost") for s in raw]
idle.close()
time.sleep(0.3)
bait = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.3", 0), timeout=5)
time.sleep(0.3)
got = []
for t in ts:
    t.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got.append(head_and_end(t))
    t.close()
    time.sleep(0.3)
print(json.dumps({"publics": got}))
"#
        ),
    );
    let counts = [
        "kyso_limited_total{limit=\"handshake_evicted\"}",
        "kyso_limited_total{limit=\"public_connections\"}",
        "kyso_probation_promoted_total{slot=\"taken\",who=\"public\"}",
        "kyso_probation_promoted_total{slot=\"free\",who=\"public\"}",
    ]
    .map(|m| format!("{m} {}", metric(&a, m)));
    assert_eq!(
        v["publics"],
        serde_json::to_value(vec!["http/1.1 200 ok close"; 2]).unwrap(),
        "{v} {counts:?}"
    );
    for (slot, n) in [("taken", 1.0), ("free", 1.0)] {
        assert_eq!(
            metric(
                &a,
                &format!("kyso_probation_promoted_total{{slot=\"{slot}\",who=\"public\"}}")
            ),
            n,
            "{slot}"
        );
    }
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}"),
        1.0
    );
}

/// `agencies` agencies' keep-alive connections (half the slots); `uploads` public uploads never
/// finished; then silent connects from many addresses, `rate` a second, each closed after a
/// second; then `tries` agencies come one after another, their ClientHello `hello` seconds
/// after their connect and their TLS Finished 50 ms late (with `public`, clients of the public
/// instead, each asking for the API's description: [`THE_PUBLIC`] must be in the script).
fn agencies_beside_a_silent_flood(
    agencies: usize,
    uploads: usize,
    rate: u32,
    tries: usize,
    hello: f64,
) -> String {
    beside_a_silent_flood(agencies, uploads, rate, tries, hello, false)
}

/// An appliance of 8 connection slots (the public's share half of them), four agencies'
/// keep-alive connections and `uploads` public uploads in them, beside a silent flood
/// ([`beside_a_silent_flood`]).
fn eight_slots_beside_a_silent_flood(
    uploads: usize,
    rate: u32,
    tries: usize,
    hello: f64,
    public: bool,
) -> (Appliance, serde_json::Value) {
    let a = with_public_verification(&EIGHT_SLOTS);
    let v = slot_clients(
        &a,
        &format!(
            "{AGENCY_OVER_A_NETWORK}{THE_PUBLIC}{}",
            beside_a_silent_flood(4, uploads, rate, tries, hello, public)
        ),
    );
    (a, v)
}

fn beside_a_silent_flood(
    agencies: usize,
    uploads: usize,
    rate: u32,
    tries: usize,
    hello: f64,
    public: bool,
) -> String {
    let who = if public {
        "public(\"127.0.20.%d\" % (i + 1))".to_string()
    } else {
        format!("agency(\"127.0.20.%d\" % (i + 1), 0.05, {hello})")
    };
    format!(
        r#"
agencies = []
for i in range({agencies}):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.%d" % (i // 4 + 1), 0), timeout=5)
    agencies.append(ctx.wrap_socket(s, server_hostname="localhost"))
first = [ask(t) for t in agencies]
held = [upload("127.0.8.%d" % (i // 4 + 1)) for i in range({uploads})]
time.sleep(2.5)
stop = False
def flooder():
    socks, n, t0 = [], 0, time.time()
    while not stop:
        while n < int((time.time() - t0) * {rate}):
            n += 1
            try:
                s = socket.socket()
                s.setblocking(False)
                s.bind(("127.%d.%d.%d" % (100 + n % 100, (n >> 8) % 250, n % 250 + 1), 0))
                s.connect_ex(("127.0.0.1", port))
                socks.append((time.time(), s))
            except Exception:
                pass
        while socks and time.time() - socks[0][0] > 1.0:
            socks.pop(0)[1].close()
        time.sleep(0.002)
    for _, s in socks:
        s.close()
th = threading.Thread(target=flooder)
th.start()
time.sleep(3)
res = []
for i in range({tries}):
    try:
        res.append({who})
    except Exception as e:
        res.append(type(e).__name__)
    time.sleep(0.25)
stop = True
th.join()
print(json.dumps({{"first": first, "agencies": res}}))
"#
    )
}

/// At the public's share no agency's waiting connection may go, so those are passed over
/// uncounted when a newcomer looks for one: 64 or more agencies' keep-alive connections,
/// waiting longest, filled the 64 a newcomer looks at, and the public's silent connects behind
/// them were never seen (9 of 16 agencies got in at 200 silent connects a second in 160 slots;
/// a reviewer's reading, 2026-12-04).
#[test]
fn agencies_keep_alive_connections_do_not_hide_the_public_s_silent_ones() {
    let a = with_public_verification(&[
        "max_connections = 160",
        "connections_per_address = 4",
        "public_share = 50",
    ]);
    let v = slot_clients(
        &a,
        &format!(
            "{AGENCY_OVER_A_NETWORK}{}",
            agencies_beside_a_silent_flood(80, 0, 200, 12, 0.0)
        ),
    );
    assert_eq!(
        v["agencies"],
        serde_json::to_value(vec!["HTTP/1.1 200 OK"; 12]).unwrap(),
        "{v}"
    );
}

/// Four agencies' keep-alive connections in 8 slots, idle past two seconds, and `uploads` public
/// uploads never finished; four connects each send one byte and stall; `wait` seconds later an
/// agency comes, its TLS Finished 50 ms late.
fn an_agency_after_stalled_connects(uploads: usize, wait: f64) -> String {
    format!(
        r#"
agencies = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.%d" % (i + 1), 0), timeout=5)
    agencies.append(ctx.wrap_socket(s, server_hostname="localhost"))
first = [ask(t) for t in agencies]
held = [upload("127.0.8.%d" % (i + 1)) for i in range({uploads})]
time.sleep(2.5)
stalled = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.12.%d" % (i + 1), 0), timeout=5)
    s.send(b"\x16")
    stalled.append(s)
time.sleep({wait})
try:
    got = agency("127.0.11.1", 0.05)
except Exception as e:
    got = type(e).__name__
print(json.dumps({{"first": first, "agency": got}}))
"#
    )
}

/// A connection on probation that has sent a byte keeps its overflow slot against newcomers
/// half a second, not two: connects sending one byte each, the overflow slots' number every
/// 2 s, kept every agency's newcomer out (6 of 12 got in at 5 a second in 8 slots, 5 of 16 at
/// 200 a second at the defaults; a reviewer's reading, 2026-12-04). And a newcomer that finds
/// none to take waits for one, as for a connection slot, rather than being refused at once.
#[test]
fn an_agency_takes_the_overflow_slot_of_a_connect_that_sent_one_byte_and_stalled() {
    let a =
        with_public_verification(&[&EIGHT_SLOTS[..], &["handshake_timeout_secs = 20"]].concat());
    let v = slot_clients(
        &a,
        &format!(
            "{AGENCY_OVER_A_NETWORK}{}",
            an_agency_after_stalled_connects(4, 0.7)
        ),
    );
    assert_eq!(v["agency"], "HTTP/1.1 200 OK", "{v}");
    // The stalled connect's overflow slot, then the public's oldest upload's connection slot.
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"handshake_evicted\"}"),
        1.0
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_evicted\"}"),
        1.0
    );
}

/// A newcomer that proves to be an agency's takes the slot of an agency's connection waiting
/// 2 s when none of the public's may go: its slot leaves the public at its share. It was
/// refused 503 although agencies' idle connections could go (a reviewer's reading,
/// 2026-12-04).
#[test]
fn an_agency_takes_an_agency_s_idle_slot_when_the_public_s_are_all_too_young() {
    let a =
        with_public_verification(&[&EIGHT_SLOTS[..], &["handshake_timeout_secs = 20"]].concat());
    let v = slot_clients(
        &a,
        // No uploads: the four stalled connects are the public's share, all younger than 2 s.
        &format!(
            "{AGENCY_OVER_A_NETWORK}{}",
            an_agency_after_stalled_connects(0, 0.2)
        ),
    );
    assert_eq!(v["agency"], "HTTP/1.1 200 OK", "{v}");
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"idle_evicted\"}"),
        1.0
    );
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_evicted\"}"),
        0.0
    );
}

/// Four agencies' keep-alive connections in 8 slots; an honest public upload sent slowly, then
/// three never finished (the public at its share). Two seconds on, an agency's client closes
/// one of its connections, while a public client opens an upload every half second.
const THE_PUBLIC_OVER_ITS_SHARE_BY_A_FREED_SLOT: &str = r#"
agencies = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.%d" % (i + 1), 0), timeout=5)
    agencies.append(ctx.wrap_socket(s, server_hostname="localhost"))
first = [ask(t) for t in agencies]
honest = upload("127.0.7.1")
sent = 9
time.sleep(0.2)
held = [upload("127.0.8.%d" % (i + 1)) for i in range(3)]
time.sleep(2.5)
t0 = time.time()
closed = False
i = 0
while sent < 4000:
    honest.sendall(b" " * 100)
    sent += 100
    if not closed and time.time() - t0 > 2:
        agencies.pop().close()
        closed = True
    i += 1
    try:
        held.append(upload("127.0.10.%d" % (i % 250 + 1)))
    except Exception:
        pass
    time.sleep(0.5)
try:
    honest.settimeout(20)
    honest.sendall(b" " * (20000 - sent))
    got = b""
    while b"\r\n" not in got:
        b = honest.recv(4096)
        if not b:
            break
        got += b
    honest_answer = got.split(b"\r\n")[0].decode() or "closed"
except Exception as e:
    honest_answer = type(e).__name__
print(json.dumps({"first": first, "honest": honest_answer}))
"#;

/// Past its share, the public's surplus goes first: the connections that took a free slot
/// while the public already held its share. A public client opening an upload every half
/// second took the slot an agency's closed connection freed, and its next connect cut the
/// public's oldest connection, an honest upload (a reviewer's reading, 2026-12-04).
#[test]
fn a_slot_an_agency_frees_does_not_let_the_public_cut_its_own_oldest() {
    let a = with_public_verification(&EIGHT_SLOTS);
    let v = slot_clients(
        &a,
        &format!("{AGENCY_OVER_A_NETWORK}{THE_PUBLIC_OVER_ITS_SHARE_BY_A_FREED_SLOT}"),
    );
    assert_eq!(v["honest"], "HTTP/1.1 200 OK", "{v}");
    // The surplus upload went for a later connect of the public's once open 2 s; the rest
    // waited on probation and were answered 503.
    assert!(metric(&a, "kyso_limited_total{limit=\"public_evicted\"}") >= 1.0);
    assert!(metric(&a, "kyso_limited_total{limit=\"public_connections\"}") >= 5.0);
}

/// A connection within the public's share that proves an agency's (its first request carries
/// an agency's credentials) leaves the share to the oldest surplus connection: an honest upload
/// that took a free slot past the share, no longer surplus, is not the first to go when the
/// public pushes past its share again (found reading the surplus rule, 2026-12-04).
const AN_AGENCY_S_CONNECTION_LEAVES_THE_SHARE: &str = r#"
x = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), source_address=("127.0.11.1", 0), timeout=5), server_hostname="localhost")
held = [upload("127.0.8.%d" % (i + 1)) for i in range(3)]
time.sleep(0.3)
honest = upload("127.0.7.1")
sent = 9
time.sleep(0.3)
first = [ask(x)]
time.sleep(0.3)
later = upload("127.0.7.2")
agencies = []
for i in range(2):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.9.%d" % (i + 1), 0), timeout=5)
    agencies.append(ctx.wrap_socket(s, server_hostname="localhost"))
first += [ask(t) for t in agencies]
for _ in range(5):
    honest.sendall(b" " * 100)
    sent += 100
    time.sleep(0.5)
newcomer = agency("127.0.20.1", 0.0)
def finish(t, n):
    try:
        t.settimeout(20)
        t.sendall(b" " * n)
        got = b""
        while b"\r\n" not in got:
            b = t.recv(4096)
            if not b:
                return "closed"
            got += b
        return got.split(b"\r\n")[0].decode()
    except Exception as e:
        return type(e).__name__
print(json.dumps({"first": first, "newcomer": newcomer, "honest": finish(honest, 20000 - sent), "later": finish(later, 20000 - 9)}))
"#;

#[test]
fn an_agency_s_connection_leaves_its_place_in_the_public_s_share_to_the_oldest_surplus() {
    let a = with_public_verification(&EIGHT_SLOTS);
    let v = slot_clients(
        &a,
        &format!("{AGENCY_OVER_A_NETWORK}{AN_AGENCY_S_CONNECTION_LEAVES_THE_SHARE}"),
    );
    assert_eq!(
        v["first"],
        serde_json::to_value(vec!["HTTP/1.1 200 OK"; 3]).unwrap(),
        "{v}"
    );
    assert_eq!(v["newcomer"], "HTTP/1.1 200 OK", "{v}");
    assert_eq!(v["honest"], "HTTP/1.1 200 OK", "{v}");
    assert_ne!(v["later"], "HTTP/1.1 200 OK", "{v}");
    assert_eq!(
        metric(&a, "kyso_limited_total{limit=\"public_evicted\"}"),
        1.0
    );
}

/// POST bodies of several sizes to a route the caller may not use (python ssl sockets, as a
/// client library sends them: the whole body, then read the answer to the end).
const REFUSED_BODIES: &str = r#"
import socket, ssl, sys, json
port, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
out = []
for n in [2, 100, 100000, 3 << 20]:
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    body = b"{" + b" " * (n - 2) + b"}"
    err = None
    try:
        t.sendall(b"POST /v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (token.encode(), n) + body)
    except Exception as e:
        err = "send: " + type(e).__name__
    t.settimeout(10)
    got = b""
    try:
        while True:
            b = t.recv(65536)
            if not b:
                break
            got += b
    except Exception as e:
        err = (err or "") + " recv: " + type(e).__name__
    head = got.split(b"\r\n\r\n")[0].decode(errors="replace").lower()
    out.append({"size": n, "status": head.split("\r\n")[0], "close": "connection: close" in head, "error": err})
print(json.dumps(out))
"#;

#[test]
fn a_refused_request_with_a_body_is_answered_with_connection_close_and_a_clean_close() {
    let a = Appliance::start();
    let out = python(
        REFUSED_BODIES,
        &[
            &a.port().to_string(),
            a.server_ca_pem().to_str().unwrap(),
            a.token("verifier"),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for r in v.as_array().unwrap() {
        assert_eq!(r["status"], "http/1.1 403 forbidden", "{v}");
        assert_eq!(r["close"], true, "{v}");
        assert_eq!(r["error"], serde_json::Value::Null, "{v}");
    }
}

/// Content-Length and chunked together (python ssl): a document to verify as the chunked body,
/// then a second request after the chunked end.
const CL_AND_TE: &str = r#"
import socket, ssl, sys, json
port, ca, token, doc = int(sys.argv[1]), sys.argv[2], sys.argv[3], open(sys.argv[4], "rb").read()
ctx = ssl.create_default_context(cafile=ca)
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
t.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/pdf\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\nGET /v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (token.encode(), len(doc), doc, token.encode()))
t.settimeout(5)
got, closed = b"", False
try:
    while True:
        b = t.recv(65536)
        if not b:
            closed = True
            break
        got += b
except Exception as e:
    pass
print(json.dumps({"answers": got.count(b"HTTP/1.1 "), "first": got.split(b"\r\n")[0].decode(), "close": b"connection: close" in got.lower(), "closed": closed}))
"#;

/// RFC 9112 §6.3: a request with both Content-Length and Transfer-Encoding is read by its
/// Transfer-Encoding alone, and the connection is closed after the answer (hyper does both:
/// it drops the Content-Length before the service sees the request, and closes): what follows
/// the chunked end is never taken for a request.
#[test]
fn a_request_with_content_length_and_chunked_is_answered_once_and_its_connection_closed() {
    let a = Appliance::start();
    let doc = a.dir.path().join("signed.pdf");
    std::fs::write(&doc, signed_fixture(&a, "giay-phep.pdf")).unwrap();
    let out = python(
        CL_AND_TE,
        &[
            &a.port().to_string(),
            a.server_ca_pem().to_str().unwrap(),
            a.token("verifier"),
            doc.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["answers"], 1,
        "the bytes after the chunked end are not a request: {v}"
    );
    assert_eq!(v["close"], true, "{v}");
    assert_eq!(v["closed"], true, "{v}");
}

#[test]
fn answers_say_what_docs_api_md_says_they_say() {
    let a = Appliance::start();
    let clerk = a.agent(Who::Token("clerk"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let err = |r: &Resp| {
        serde_json::from_slice::<serde_json::Value>(&r.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("(no error code: {} {})", r.status, r.text()))
    };
    // Unknown fields in a status change are refused, as everywhere.
    let put = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&pdf), "request_id": "r-1", "title": "Giấy phép"}),
    );
    assert_eq!(put.status, 201, "{}", put.text());
    let rec = put.json()["record"].as_u64().unwrap();
    let r = clerk.put_json(
        &format!("/v1/records/{rec}/status"),
        &json!({"state": "valid", "user": "admin-script"}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "invalid_json"),
        "{}",
        r.text()
    );
    // A method a route does not take: 401 before any credential, then a JSON 405 with Allow.
    let anon = a.agent(Who::Anonymous);
    let r = anon.send("PUT", "/metrics", "application/json", b"{}");
    assert_eq!((r.status, err(&r).as_str()), (401, "unauthenticated"));
    let r = a
        .agent(Who::Token("admin"))
        .send("PATCH", "/metrics", "application/json", b"{}");
    assert_eq!((r.status, err(&r).as_str()), (405, "method_not_allowed"));
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let r = a
        .agent(Who::Token("auditor"))
        .send("PATCH", "/v1/records", "application/json", b"{}");
    assert_eq!((r.status, err(&r).as_str()), (403, "forbidden"));
    let r = anon.send("PUT", "/healthz", "application/json", b"{}");
    assert_eq!((r.status, err(&r).as_str()), (405, "method_not_allowed"));
    // The archive's refusals carry documented codes (no `invalid`).
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&pdf), "request_id": "x".repeat(200)}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (400, "bad_request"),
        "{}",
        r.text()
    );
    // A replay with other metadata is refused, naming it.
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&pdf), "request_id": "r-1", "title": "OTHER"}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (409, "request_conflict"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("title"), "{}", r.text());
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&pdf), "request_id": "r-1", "title": "Giấy phép"}),
    );
    assert_eq!(
        (r.status, r.json()["replayed"].as_bool()),
        (200, Some(true))
    );
    // Concurrent retries of one request: one stores it, the others get the stored record (the
    // archive's writer orders them); none is told its request is wrong.
    let answers: Vec<Resp> = (0..8)
        .map(|_| {
            let (c, body) = (
                a.agent(Who::Token("clerk")),
                json!({"code": "001099055555.GPXD", "content": b64(&pdf), "request_id": "r-2"}),
            );
            std::thread::spawn(move || c.post_json("/v1/records", &body))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(answers.iter().filter(|r| r.status == 201).count(), 1);
    for r in &answers {
        assert!(matches!(r.status, 200 | 201), "{}: {}", r.status, r.text());
        assert_eq!(r.json()["record"], answers[0].json()["record"]);
    }
    // A meta key given twice.
    let r = clerk.send(
        "POST",
        "/v1/records",
        "application/json",
        format!(
            r#"{{"code":"001099012345.GPXD","meta":{{"a":"1","a":"2"}},"content":"{}"}}"#,
            b64(&pdf)
        )
        .as_bytes(),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "invalid_json"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("duplicate key"), "{}", r.text());
    // A body of a million empty metadata entries, or documents, under the size limits: parsing
    // stops at the first one too many (the whole map was built first, ~11 times the body's
    // bytes in memory, before the count was checked; an attacker's reading, 2026-12-05).
    let many = |n: usize, item: &str| vec![item; n].join(",");
    let meta: String = (0..1_000_000)
        .map(|i| format!("\"{i}\":\"\""))
        .collect::<Vec<_>>()
        .join(",");
    let r = clerk.send(
        "POST",
        "/v1/records",
        "application/json",
        format!(
            r#"{{"code":"001099012345.GPXD","meta":{{{meta}}},"content":"{}"}}"#,
            b64(&pdf)
        )
        .as_bytes(),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "invalid_json"),
        "{}",
        r.text()
    );
    assert!(
        r.text().contains("meta: at most 64 entries"),
        "{}",
        r.text()
    );
    let r = a.agent(Who::Token("signer")).send(
        "POST",
        "/v1/sign",
        "application/json",
        format!(
            r#"{{"format":"cades","documents":[{}]}}"#,
            many(1_000_000, r#"{"name":"","content":""}"#)
        )
        .as_bytes(),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "invalid_json"),
        "{}",
        r.text()
    );
    assert!(
        r.text().contains("documents: at most 10000 items"),
        "{}",
        r.text()
    );
    // A purpose must say something: not an invisible character, not two letters.
    for p in [
        "%E2%80%8B",
        "%E2%80%8Bab%E2%80%8B",
        "ab",
        "%20%20",
        "a%E2%80%AEbcd",
        "x%09yz",
        // Characters that show nothing of their own, three of each (an attacker's reading,
        // 2026-12-05): the braille blank, combining acute accents, Thai vowel signs, musical
        // null noteheads, a conjoining Hangul jamo.
        "%E2%A0%80%E2%A0%80%E2%A0%80",
        "%CC%81%CC%81%CC%81",
        "%E0%B8%B1%E0%B8%B1%E0%B8%B1",
        "%F0%9D%85%99%F0%9D%85%99%F0%9D%85%99",
        "%E1%85%9A%E1%85%9A%E1%85%9A",
    ] {
        let r = clerk.get(&format!("/v1/records/{rec}?purpose={p}"));
        assert_eq!(
            (r.status, err(&r).as_str()),
            (400, "bad_request"),
            "purpose {p}"
        );
    }
    let r = clerk.get(&format!("/v1/records/{rec}?purpose=ki%E1%BB%83m%20tra"));
    assert_eq!(r.status, 200, "{}", r.text());
    // Written with combining marks (NFD), the letters still count; a no-break space pasted
    // from a word processor is a space (a reviewer's reading of the rule, 2026-12-05).
    for p in [
        "kie%CC%82%CC%89m%20tra",
        "ki%E1%BB%83m%C2%A0tra",
        "ki%E1%BB%83m%E2%80%82tra%E3%80%80",
    ] {
        let r = clerk.get(&format!("/v1/records/{rec}?purpose={p}"));
        assert_eq!(r.status, 200, "{p}: {}", r.text());
    }
    // ... and logged as a plain one, none at the end; and, since helper 218's reading, each
    // composed (NFC): the decomposed one too, four in all.
    let purposes: Vec<String> = log_events(&a)
        .into_iter()
        .filter(|e| e["event"] == "read")
        .map(|e| e["purpose"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        purposes.iter().filter(|p| *p == "kiểm tra").count(),
        4,
        "{purposes:?}"
    );
    // A revocation's reason follows the same rules, and a refused one changes nothing.
    let r = clerk.put_json(
        &format!("/v1/records/{rec}/status"),
        &json!({"state": "revoked", "reason": "\u{200b}\u{200b}\u{200b}"}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (400, "bad_request"),
        "{}",
        r.text()
    );
    let r = clerk.get(&format!("/v1/records/{rec}?purpose=ki%E1%BB%83m%20tra"));
    assert_eq!(r.json()["status"]["state"], "valid", "{}", r.text());
    // The spec names the codes (docs/api.md lists them; a unit test checks that list).
    let spec = a.agent(Who::Anonymous).get("/v1/openapi.json").json();
    let codes = &spec["components"]["schemas"]["Code"]["enum"];
    for c in ["method_not_allowed", "request_conflict", "status_refused"] {
        assert!(
            codes.as_array().is_some_and(|v| v.iter().any(|x| x == c)),
            "{codes}"
        );
    }
}

/// Anonymous uploads from one address (the flooder) and from another (a citizen), python's
/// http.client over TLS with a chosen source address on loopback.
/// Flooders post a slow document to the public page again and again, each thread from its
/// address, while another client posts a small one four times from 127.0.0.3 (with a bearer
/// token when one is given). argv: port, CA, slow PDF, small PDF, the flooders' addresses
/// (comma-separated, one thread each), the other client's token ("" for none).
const FLOOD: &str = r#"
import http.client, json, ssl, sys, threading, time
port, ca, slow, small, sources, bearer = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=ca)
slow, small = open(slow, "rb").read(), open(small, "rb").read()
def post(src, body, token=""):
    c = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=30, source_address=(src, 0))
    h = {"Content-Type": "application/pdf"}
    if token: h["Authorization"] = "Bearer " + token
    try:
        c.request("POST", "/v1/verify", body=body, headers=h)
        r = c.getresponse(); r.read(); return r.status
    except Exception as e:
        return type(e).__name__
    finally:
        c.close()
flood, stop = {}, time.time() + 6
lock = threading.Lock()
def flooder(src):
    while time.time() < stop:
        s = post(src, slow)
        with lock:
            flood[str(s)] = flood.get(str(s), 0) + 1
threads = [threading.Thread(target=flooder, args=(src,)) for src in sources.split(",")]
for t in threads: t.start()
time.sleep(1.5)
other = []
for _ in range(4):
    other.append(post("127.0.0.3", small, bearer))
    time.sleep(0.3)
for t in threads: t.join()
print(json.dumps({"flood": flood, "other": other}))
"#;

/// Run [`FLOOD`] against `a`: the flooders' addresses, the other client's bearer token.
fn flood(a: &Appliance, sources: &[String], bearer: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let (slow, small) = (dir.path().join("slow.pdf"), dir.path().join("small.pdf"));
    std::fs::write(&slow, slow_pdf(100_000)).unwrap();
    std::fs::write(&small, signed_fixture(a, "giay-phep.pdf")).unwrap();
    let out = python(
        FLOOD,
        &[
            &a.port().to_string(),
            a.server_ca_pem().to_str().unwrap(),
            slow.to_str().unwrap(),
            small.to_str().unwrap(),
            &sources.join(","),
            bearer,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    eprintln!("{v}");
    v
}

#[test]
fn one_address_flooding_the_public_page_cannot_take_the_queue_from_other_citizens() {
    // Public verification on: every anonymous caller is the user "(public)", but each address
    // has its own share of the validation queue (before, they shared one: a flooder's share was
    // everyone's).
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "request_timeout_secs = 20",
            "verify_queue = 64",
            "verify_queue_per_client = 2",
            "inflight_bytes = 4294967296",
            "inflight_bytes_per_client = 2147483648",
            "rate_per_second = 1000",
            "burst = 1000",
        ]),
        server: lines(&["verify_threads = 1"]),
        web: lines(&["public_verification = true"]),
        ..Default::default()
    });
    let v = flood(&a, &vec!["127.0.0.2".to_string(); 8], "");
    // The flooder was told to wait (its share is two validations)…
    assert!(v["flood"]["429"].as_u64().unwrap_or(0) > 0, "{v}");
    // …and the citizen at another address was served every time.
    assert_eq!(v["other"], json!([200, 200, 200, 200]), "{v}");
}

#[test]
fn many_addresses_flooding_the_public_page_cannot_take_the_queue_from_an_agency() {
    // The second attacker review's open point: each address has its own share, but sixteen
    // addresses (a botnet, or a /48 of IPv6) took the whole queue, and an agency's validations
    // were refused (503 four times out of four before this change). Now the public holds at
    // most `public_share` of the queue and of the bytes in flight, and a free thread serves the
    // public and the agencies in turn.
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "request_timeout_secs = 20",
            "verify_queue = 8",
            "verify_queue_per_client = 2",
            "public_share = 50",
            "inflight_bytes = 4294967296",
            "inflight_bytes_per_client = 2147483648",
            "rate_per_second = 1000",
            "burst = 1000",
        ]),
        server: lines(&["verify_threads = 1"]),
        web: lines(&["public_verification = true"]),
        ..Default::default()
    });
    let sources: Vec<String> = (10..26).map(|i| format!("127.0.0.{i}")).collect();
    let v = flood(&a, &sources, a.token("verifier"));
    // The public was told to retry once its share was queued…
    assert!(v["flood"]["503"].as_u64().unwrap_or(0) > 0, "{v}");
    // …and the agency was served every time.
    assert_eq!(v["other"], json!([200, 200, 200, 200]), "{v}");
    assert!(
        metric(&a, "kyso_limited_total{limit=\"verify_queue_public\"}") > 0.0,
        "{v}"
    );
}

/// The appliance of `opts` with a clerk of another province's agency (000.00.99.H99, user
/// `clerk-other-province`), and that clerk's client.
fn with_a_clerk_of_another_province(mut opts: Options) -> (Appliance, Client) {
    let token = "kyso_test_clerk_of_another_province";
    opts.extra.push(format!(
        "[[api_tokens]]\nname = \"clerk-other-province\"\nsha256 = \"{}\"\nroles = [\"clerk\"]\nagency = \"000.00.99.H99\"\n",
        sha256_hex(token.as_bytes())
    ));
    let a = Appliance::start_with(opts);
    let clerk = a.agent_with(None, Some(token.to_string()));
    (a, clerk)
}

#[test]
fn the_public_learns_a_revocation_and_whose_it_is_and_nothing_personal_and_cannot_fill_the_log() {
    // The third attacker review (web): another agency's copy of a revoked licence hid the
    // revocation; the public could walk record numbers for citizens' codes and read revocation
    // reasons; every anonymous lookup was a permanent log event; a page of another site could
    // make a clerk's browser write reads in the clerk's name.
    let (a, elsewhere) = with_a_clerk_of_another_province(Options {
        web: lines(&["public_verification = true"]),
        limits: lines(&["rate_per_second = 1000", "burst = 1000"]),
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let sha = sha256_hex(&pdf);
    let put = |c: &Client| {
        let r = c.post_json(
            "/v1/records",
            &json!({"code": "001099012345.GPXD", "content": b64(&pdf)}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["record"].as_u64().unwrap()
    };
    let issued = put(&clerk);
    let r = clerk.put_json(
        &format!("/v1/records/{issued}/status"),
        &json!({"state": "revoked", "reason": "công dân Nguyễn Văn A đã mất"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Another agency archives the same bytes later (as an input document, say).
    let copy = put(&elsewhere);
    assert!(copy > issued);
    let anon = a.agent(Who::Anonymous);
    let r = anon.get(&format!("/v1/verify/archived?sha256={sha}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (
            v["status"].as_str(),
            v["record"].as_u64(),
            v["copies"].as_u64()
        ),
        (Some("revoked"), Some(issued), Some(2)),
        "{v}"
    );
    assert_eq!(v["copies_differ"], true, "{v}");
    assert!(
        !r.text().contains("Nguyễn"),
        "the reason is not for the public: {v}"
    );
    // Agencies see the reason.
    let v = a
        .agent(Who::Token("verifier"))
        .get(&format!("/v1/verify/archived?sha256={sha}"))
        .json();
    assert_eq!(
        v["status_detail"]["reason"], "công dân Nguyễn Văn A đã mất",
        "{v}"
    );
    // The public cannot walk the records of a document.
    let r = anon.get(&format!("/v1/verify/archived?sha256={sha}&record={copy}"));
    assert_eq!(r.status, 400, "{}", r.text());
    // Asking again and again adds one find to the log, not one per request.
    let public_finds = |a: &Appliance| {
        log_events(a)
            .into_iter()
            .filter(|e| e["event"] == "find" && e["user"] == "(public)" && e["value"] == sha)
            .count()
    };
    for _ in 0..20 {
        assert_eq!(
            anon.get(&format!("/v1/verify/archived?sha256={sha}"))
                .status,
            200
        );
    }
    assert_eq!(public_finds(&a), 1);
    // An agency's narrowed lookup is logged as answered: the record asked for, not every
    // record of those bytes; one the narrowing leaves empty names nobody and is not logged.
    let verifier = a.agent(Who::Token("verifier"));
    let verifier_finds = |a: &Appliance| -> Vec<serde_json::Value> {
        log_events(a)
            .into_iter()
            .filter(|e| e["event"] == "find" && e["user"] == "verifier-script" && e["value"] == sha)
            .map(|e| e["records"].clone())
            .collect()
    };
    assert_eq!(verifier_finds(&a), [json!([copy, issued])]);
    let v = verifier
        .get(&format!("/v1/verify/archived?sha256={sha}&record={copy}"))
        .json();
    assert_eq!(
        (v["record"].as_u64(), v["copies"].as_u64()),
        (Some(copy), Some(1)),
        "{v}"
    );
    assert_eq!(verifier_finds(&a), [json!([copy, issued]), json!([copy])]);
    let v = verifier
        .get(&format!(
            "/v1/verify/archived?sha256={sha}&code=001099099999.GPXD"
        ))
        .json();
    assert_eq!(v["archived"], false, "{v}");
    assert_eq!(verifier_finds(&a).len(), 2);
    // Both narrowings at once: the record asked for must also be of the code asked for.
    let v = verifier
        .get(&format!(
            "/v1/verify/archived?sha256={sha}&record={copy}&code=0100109106.DKKD"
        ))
        .json();
    assert_eq!(v["archived"], false, "{v}");
    // The code is read as a code: one that is none is a bad request, not "not archived".
    let r = verifier.get(&format!("/v1/verify/archived?sha256={sha}&code=not-a-code"));
    assert_eq!(r.status, 400, "{}", r.text());
    // Narrowed to the code both copies have: both, newest first — the answer of the first
    // lookup, within the hour, so not logged again.
    let v = verifier
        .get(&format!(
            "/v1/verify/archived?sha256={sha}&code=001099012345.GPXD"
        ))
        .json();
    assert_eq!(
        (v["record"].as_u64(), v["copies"].as_u64()),
        (Some(issued), Some(2)),
        "{v}"
    );
    assert_eq!(
        verifier_finds(&a),
        [json!([copy, issued]), json!([copy])],
        "{:?}",
        verifier_finds(&a)
    );
    // The other way round (an attacker's reading, 2026-12-05): the issuer's licence is valid,
    // and another agency archives the same bytes under a code of its own and revokes its
    // copy. The archive cannot tell the issuer's copy from the other's (taking the first
    // archiving agency as the issuer hid the issuer's own revocations whenever another agency
    // archived first), so the answer stays the conservative one — revoked — and says whose
    // word it is, and that other copies differ; asked by the issuer's code, its copy answers.
    let pdf2 = signed_fixture(&a, "three-pages.pdf");
    let sha2 = sha256_hex(&pdf2);
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&pdf2)}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let issued2 = r.json()["record"].as_u64().unwrap();
    let r = elsewhere.post_json(
        "/v1/records",
        &json!({"code": "0100109106.DKKD", "content": b64(&pdf2)}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let copy2 = r.json()["record"].as_u64().unwrap();
    // Both valid: the first archived answers, most likely the issuer's, and the public is
    // shown its ingest event — not the newest, another agency's filed under another code (an
    // attacker's reading, 2026-12-05).
    let v = anon
        .get(&format!("/v1/verify/archived?sha256={sha2}"))
        .json();
    assert_eq!(
        (
            v["status"].as_str(),
            v["record"].as_u64(),
            v["agency"].as_str(),
            v["copies_differ"].as_bool()
        ),
        (Some("valid"), Some(issued2), Some(AGENCY), Some(false)),
        "{v}"
    );
    assert!(!v["event"].as_str().unwrap().contains("0100109106"), "{v}");
    let r = elsewhere.put_json(
        &format!("/v1/records/{copy2}/status"),
        &json!({"state": "revoked", "reason": "nhầm hồ sơ"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Agencies see the deciding copy, and whose it is.
    let v = verifier
        .get(&format!("/v1/verify/archived?sha256={sha2}"))
        .json();
    assert_eq!(
        (
            v["status"].as_str(),
            v["record"].as_u64(),
            v["agency"].as_str(),
            v["copies"].as_u64(),
            v["copies_differ"].as_bool(),
            v["another_copy_decides"].as_bool()
        ),
        (
            Some("revoked"),
            Some(copy2),
            Some("000.00.99.H99"),
            Some(2),
            Some(true),
            Some(false)
        ),
        "{v}"
    );
    assert!(v["elsewhere_status"].is_null(), "{v}");
    // The public learns the status, and that it is another copy's, with the first copy's
    // event and proof: the deciding copy's named another citizen's code, its clerk and its
    // agency (an attacker's reading, 2026-12-05).
    let r = anon.get(&format!("/v1/verify/archived?sha256={sha2}"));
    let v = r.json();
    assert_eq!(
        (
            v["status"].as_str(),
            v["record"].as_u64(),
            v["copies_differ"].as_bool(),
            v["another_copy_decides"].as_bool()
        ),
        (Some("revoked"), Some(issued2), Some(true), Some(true)),
        "{v}"
    );
    assert!(v["agency"].is_null(), "{v}");
    for other in ["0100109106", "000.00.99.H99", "clerk-other-province"] {
        assert!(!r.text().contains(other), "{other}: {v}");
    }
    let v = anon
        .get(&format!(
            "/v1/verify/archived?sha256={sha2}&code=001099012345.GPXD"
        ))
        .json();
    assert_eq!(
        (
            v["status"].as_str(),
            v["record"].as_u64(),
            v["copies"].as_u64(),
            v["copies_differ"].as_bool()
        ),
        (Some("valid"), Some(issued2), Some(1), Some(false)),
        "{v}"
    );
    // ... and says that a copy outside the code is revoked: narrowed by its own code, a copy
    // answered "valid" and nothing more while another was revoked (an attacker's reading,
    // 2026-12-05: a holder's link to the page with the code filled in).
    assert_eq!(v["elsewhere_status"], "revoked", "{v}");
    let v = anon
        .get(&format!(
            "/v1/verify/archived?sha256={sha2}&code=0100109106.DKKD"
        ))
        .json();
    assert_eq!(
        (v["status"].as_str(), v["record"].as_u64()),
        (Some("revoked"), Some(copy2)),
        "{v}"
    );
    assert!(v["elsewhere_status"].is_null(), "{v}");
    // Answers asked for in turn (narrowed by either code, and not) are each logged once: only
    // the last answer was remembered, and every request of such a loop was a permanent event.
    // Three answers, three events: the one narrowed by the issuer's code above, and these two.
    let finds_of = |a: &Appliance, sha: &str| {
        log_events(a)
            .into_iter()
            .filter(|e| e["event"] == "find" && e["user"] == "(public)" && e["value"] == sha)
            .count()
    };
    for _ in 0..10 {
        for q in ["", "&code=0100109106.DKKD"] {
            let r = anon.get(&format!("/v1/verify/archived?sha256={sha2}{q}"));
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }
    assert_eq!(finds_of(&a, &sha2), 3);
    // A request another site's page makes the clerk's browser send is refused; the service's
    // own page and non-browser clients are served.
    let read = |site: Option<&str>| {
        let h: Vec<(&str, &str)> = site.map(|s| ("Sec-Fetch-Site", s)).into_iter().collect();
        clerk.get_with(
            &format!("/v1/records/{issued}?purpose=tra%20c%E1%BB%A9u"),
            &h,
        )
    };
    // (The auditor's own reads of the log, `log_read`, aside.)
    let written = |a: &Appliance| {
        log_events(a)
            .into_iter()
            .filter(|e| e["event"] != "log_read")
            .count()
    };
    let before = written(&a);
    for site in ["cross-site", "same-site"] {
        let r = read(Some(site));
        assert_eq!(r.status, 403, "{site}: {}", r.text());
    }
    assert_eq!(written(&a), before, "a refused read writes nothing");
    assert_eq!(read(Some("same-origin")).status, 200);
    assert_eq!(read(None).status, 200);
}

/// A batch the service cannot sign within the request's deadline: the caller gets 408, and
/// the documents not begun by then are not signed. Each document was a task of its own that
/// went on after the answer (found by an attacker's reading, 2026-12-02: thirteen batches of
/// 3,000 answered 408 and the log grew by 15,000 signature events the callers never got).
#[test]
fn a_batch_past_its_deadline_stops_signing_when_its_request_is_gone() {
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "request_timeout_secs = 2",
            "batch_documents = 3000",
            "rate_per_second = 1000",
            "burst = 1000",
        ]),
        ..Default::default()
    });
    let before = log_size(&a);
    let official = a.agent(Who::Token("signer"));
    let docs: Vec<_> = (0..3000)
        .map(|i| json!({"name": format!("d{i}.txt"), "content": b64(format!("Quyet dinh so {i}").as_bytes())}))
        .collect();
    let r = official.post_json("/v1/sign", &json!({"format": "cades", "documents": docs}));
    assert_eq!(r.status, 408, "{}", r.text());
    // What was begun ends (one document per token session); nothing more is signed.
    std::thread::sleep(Duration::from_millis(1500));
    let settled = log_size(&a);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(log_size(&a), settled);
    assert!(
        settled - before < 3000,
        "{} signed after a 408",
        settled - before
    );
}

/// A client that pipelines requests for the largest public answer and never reads: its
/// connection held the answers' memory and a connection slot forever (still open after 240 s:
/// found by an attacker's reading, 2026-12-02). An answer the client reads nothing of for a
/// request's deadline (here 3 s) is given up and the connection closed.
#[test]
fn a_client_that_never_reads_its_answers_loses_its_connection() {
    let a = hostile_appliance();
    let mut s = tls(&a);
    let one = format!(
        "GET /v1/openapi.json HTTP/1.1\r\nhost: localhost:{}\r\n\r\n",
        a.port()
    );
    let size = a.agent(Who::Anonymous).get("/v1/openapi.json").text().len();
    let n = 300;
    s.write_all(one.repeat(n).as_bytes()).unwrap();
    s.flush().unwrap();
    // Read nothing for longer than the deadline, then all there is.
    std::thread::sleep(Duration::from_secs(8));
    let mut got = 0usize;
    let mut b = vec![0u8; 1 << 16];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => break,
        }
    }
    assert!(
        got < n * size / 2,
        "{got} bytes of {} answered to a client that read nothing for 8 s",
        n * size
    );
    // The service still answers everyone else.
    assert_eq!(a.agent(Who::Anonymous).get("/healthz").status, 200);
}

/// Clients (python sockets and ssl, with a 4 KiB receive buffer) that send a request each and
/// read no more than the answer's head: prints their statuses, then holds the connections until
/// its standard input closes.
const UNREAD: &str = r#"
import json, socket, ssl, sys
port, ca, token, path, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
body = open(sys.argv[6], "rb").read() if len(sys.argv) > 6 else None
ctx = ssl.create_default_context(cafile=ca)
held, statuses = [], []
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    t = ctx.wrap_socket(s, server_hostname="localhost")
    if body is None:
        t.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    else:
        t.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    head = b""
    while b"\r\n\r\n" not in head:
        head += t.recv(1)
    statuses.append(int(head.split(b" ")[1]))
    held.append(t)
print(json.dumps(statuses), flush=True)
sys.stdin.read()
"#;

/// `n` requests of `bearer` for `path` whose answers are not read (beyond their heads) until
/// the returned process is dropped; their statuses.
fn unread(a: &Appliance, bearer: &str, path: &str, n: usize) -> (Unread, Vec<u16>) {
    unread_posts(a, bearer, path, n, None)
}

/// The same, each request a POST of the JSON in `body` when given.
fn unread_posts(
    a: &Appliance,
    bearer: &str,
    path: &str,
    n: usize,
    body: Option<&std::path::Path>,
) -> (Unread, Vec<u16>) {
    use std::io::BufRead;
    let ca = a.server_ca_pem();
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(UNREAD)
        .args([
            &a.port().to_string(),
            ca.to_str().unwrap(),
            bearer,
            path,
            &n.to_string(),
        ])
        .args(body)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let statuses = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (Unread(child), statuses)
}

struct Unread(std::process::Child);

impl Drop for Unread {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// An answer a client does not read holds what its request held until it is sent or the
/// connection ends: the client's requests in flight, and the bytes of an answer kept in memory
/// (a record's content). Before (found by an attacker's reading, 2026-12-03), both were given
/// back as soon as the answer's head left: unread content answers grew the service by 500 MiB
/// with no limit met, and ~500 unread package downloads each held a thread of the pool the
/// archive and the tokens use, stalling every route for everyone.
#[test]
fn answers_a_client_does_not_read_count_against_its_limits_until_sent() {
    const MIB: usize = 1 << 20;
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "upload_bytes = 8388608",
            "batch_bytes = 8388608",
            "inflight_bytes_per_client = 16777216",
            "concurrent_per_client = 4",
        ]),
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    // A 6 MiB scan kept unsigned, with a reason: more than the sockets' buffers take.
    let mut scan = std::fs::read(serve_support::common::fixture("giay-phep.pdf")).unwrap();
    scan.push(b'%');
    scan.extend((0..6 * MIB as u32).map(|i| b'a' + (i.wrapping_mul(2654435761) >> 27) as u8));
    scan.push(b'\n');
    let code = "001099012345.GPXD";
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": code, "agency": AGENCY, "issue_date": "2026-11-20",
                "allow_unsigned": "ban quet giay to cu", "content": b64(&scan)}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["record"].as_u64().unwrap();
    let content = format!("/v1/records/{id}/content?purpose=kiem%20tra");
    // Two answers of 6 MiB unread: 12 MiB of the clerk's 16 MiB.
    let (held, statuses) = unread(&a, a.token("clerk"), &content, 2);
    assert_eq!(statuses, [200, 200]);
    wait_inflight(&a, (12 * MIB) as f64);
    let before = log_size(&a);
    let r = clerk.get(&content);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["error"], "too_many_in_flight");
    assert!(r.header("retry-after").is_some());
    assert_eq!(log_size(&a), before, "a read refused is not logged");
    assert_eq!(
        a.agent(Who::Token("verifier")).get("/v1/whoami").status,
        200
    );
    drop(held);
    wait_released(&a);
    let r = clerk.get(&content);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, scan);

    // Package downloads not read: each is one of the archivist's four requests in flight.
    let archivist = a.agent(Who::Token("archivist"));
    let r = archivist.post_json(
        "/v1/exports",
        &json!({"format": "bagit", "selection": {"code": code}, "reason": "nop luu"}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let job = r.json()["id"].as_str().unwrap().to_string();
    let t = Instant::now();
    while archivist.get(&format!("/v1/exports/{job}")).json()["state"] != "done" {
        assert!(t.elapsed() < Duration::from_secs(60), "export not done");
        std::thread::sleep(Duration::from_millis(100));
    }
    let package = format!("/v1/exports/{job}/package");
    let (held, statuses) = unread(&a, a.token("archivist"), &package, 4);
    assert_eq!(statuses, [200, 200, 200, 200]);
    let r = archivist.get("/v1/exports");
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["error"], "too_many_in_flight");
    // Everyone else is served, the archive and the token included.
    assert_eq!(clerk.get(&content).status, 200);
    assert_eq!(
        a.agent(Who::Token("auditor"))
            .get("/v1/log/checkpoint")
            .status,
        200
    );
    drop(held);
    let t = Instant::now();
    while archivist.get("/v1/exports").status != 200 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "downloads still held"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let p = archivist.get(&package);
    assert_eq!(p.status, 200);
    assert!(p.body.len() > 6 * MIB);
}

/// A remote prepare's certificates are counted and measured before any is parsed or checked:
/// eight junk "certificates" of 3 MiB each took 8.8 s of the service's work, grew it by
/// 190 MiB and answered a 25 MB reserve that no desk accepts (found by an attacker's reading,
/// 2026-12-03); one chain entry could carry any number of certificates.
#[test]
fn a_remote_prepare_with_too_many_or_too_large_certificates_is_refused_before_the_work() {
    let a = Appliance::start();
    let official = a.agent(Who::Token("signer"));
    let cert = std::fs::read_to_string(a.demo.path().join("signer-ec.pem")).unwrap();
    let ca = std::fs::read_to_string(a.demo.ca_pem()).unwrap();
    let doc = b64(&std::fs::read(serve_support::common::fixture("giay-phep.pdf")).unwrap());
    let prepare = |chain: serde_json::Value| {
        official.post_json(
            "/v1/sign/remote/prepare",
            &json!({"format": "pades", "certificate": cert, "chain": chain, "document": doc}),
        )
    };
    let r = prepare(json!([ca.repeat(9)]));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("more than 8 certificates"),
        "{}",
        r.text()
    );
    let junk = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        "QUFB".repeat(300 << 8)
    );
    let r = prepare(json!([junk]));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("bytes of PEM"), "{}", r.text());
    // The honest chain is prepared.
    let r = prepare(json!([ca]));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Two clients of one address that read their answers slowly, their requests pipelined
/// (python, 4 KiB receive buffers): 8 KiB a second each, under `limits.answer_min_rate` (64
/// KiB here), holding the address's two connections; a third connection of the address asks
/// /healthz every second: when it is first answered.
const SLOW_READERS: &str = r#"
import json, socket, ssl, sys, threading, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
def slow():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 200)
    t.settimeout(5)
    began = time.time()
    end, how = began + 70, "still reading"
    while time.time() < end:
        try:
            if not t.recv(1024):
                how = "end of stream"
                break
        except ConnectionResetError:
            how = "reset"
            break
        except Exception as e:
            how = repr(e)
            break
        time.sleep(0.125)
    ends.append([how, round(time.time() - began)])
ends = []
honest = {}
def steady():
    # Another address reading steadily at 512 KiB/s (8 times the minimum): served whole.
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port))
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 29
              + b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.settimeout(10)
    got, start = 0, time.time()
    while True:
        try:
            b = t.recv(16384)
        except Exception:
            break
        if not b:
            break
        got += len(b)
        ahead = got / 524288 - (time.time() - start)
        if ahead > 0:
            time.sleep(ahead)
    honest["read"] = got
realigned = {}
def realign():
    # A fourth address: answers that wait, then read whole; a pause (the window ends); then
    # answers it never reads. Cut about a window after those, not on the first window's
    # schedule (~57 s, a reviewer's measurement).
    import struct
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind(("127.0.0.4", 0))
    s.connect(("127.0.0.1", port))
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 30)
    time.sleep(2)
    t.settimeout(1.5)
    try:
        while t.recv(65536):
            pass
    except Exception:
        pass
    t.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 200)
    began = time.time()
    while time.time() - began < 75:
        state = t.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        if state != 1:  # no longer ESTABLISHED
            realigned["cut_after"] = round(time.time() - began)
            return
        time.sleep(0.5)
polled = {}
def poller():
    # A keep-alive client of a third address asking small things every 3 s: never cut.
    import http.client
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, source_address=("127.0.0.3", 0))
    ok = 0
    for _ in range(8):
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        ok += r.status == 200
        time.sleep(3)
    polled["ok"] = ok
for _ in range(2):
    threading.Thread(target=slow, daemon=True).start()
others = [threading.Thread(target=steady), threading.Thread(target=poller),
          threading.Thread(target=realign)]
for o in others:
    o.start()
time.sleep(2)
start = time.time()
free = None
while time.time() - start < 65:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if t.recv(100).startswith(b"HTTP/1.1 200"):
            free = round(time.time() - start, 1)
            break
    except Exception:
        pass
    time.sleep(1)
for o in others:
    o.join()
time.sleep(8)
print(json.dumps({"free_after": free, "steady_read": honest.get("read"), "polled": polled.get("ok"), "slow_ends": ends,
                  "realigned_cut_after": realigned.get("cut_after")}))
"#;

/// Clients reading their pipelined answers slower than `limits.answer_min_rate` lose their
/// connections (with their requests in flight and their answers): slow readers of 8–16 KiB a
/// second each never stalled a write for the whole write timeout, and 64 of them held every
/// connection slot of a service (found by an attacker's reading, 2026-12-03).
#[test]
fn clients_reading_their_answers_too_slowly_lose_their_connections() {
    let a = Appliance::start_with(Options {
        limits: lines(&["answer_min_rate = 65536", "connections_per_address = 2"]),
        ..Default::default()
    });
    let ca = a.server_ca_pem();
    let out = python(SLOW_READERS, &[&a.port().to_string(), ca.to_str().unwrap()]);
    let r: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let free = r["free_after"].as_f64();
    let one = a.agent(Who::Anonymous).get("/v1/openapi.json").body.len() as u64;
    assert!(
        r["steady_read"].as_u64().is_some_and(|n| n > 30 * one),
        "a client reading steadily at 8 times the minimum was cut: {r}"
    );
    assert_eq!(
        r["polled"], 8,
        "a keep-alive client polling every 3 s was cut: {r}"
    );
    assert!(
        free.is_some_and(|t| t < 45.0),
        "the address's connections were still held after {free:?} s: {}",
        a.service_log()
    );
    // Reset, not closed behind their unsent answers: the kernel kept those (megabytes, past
    // the FIN) and sent them on to the slow readers, still reading 70 s on.
    let ends = r["slow_ends"].as_array().cloned().unwrap_or_default();
    assert!(
        ends.len() == 2
            && ends
                .iter()
                .all(|e| e[0] != "still reading" && e[1].as_u64().is_some_and(|t| t < 50)),
        "how the slow readers' connections ended ([how, seconds]): {r}"
    );
    // Its new window's check due a window after it began.
    assert!(
        r["realigned_cut_after"]
            .as_u64()
            .is_some_and(|t| (25..45).contains(&t)),
        "a client reading nothing after a pause was cut after {} s: {r}",
        r["realigned_cut_after"]
    );
    let log = a.service_log();
    assert!(
        log.contains("slower than limits.answer_min_rate") && log.contains("\"peer\":\"127.0.0.4:"),
        "the cut is logged with its peer: {log}"
    );
}

/// A signing batch's answer (its documents signed, as base64) counts against the caller's
/// bytes in flight from before the signing until it is sent: 18.6 MB answered a 302 KB batch
/// and twelve unread answers took the service from 96 to 535 MiB outside every limit (found by
/// an attacker's reading, 2026-12-03).
#[test]
fn a_signing_batch_answer_not_read_counts_against_its_callers_bytes() {
    const MIB: usize = 1 << 20;
    let a = Appliance::start_with(Options {
        limits: lines(&[
            "upload_bytes = 8388608",
            "batch_bytes = 16777216",
            "inflight_bytes_per_client = 41943040",
        ]),
        ..Default::default()
    });
    // Five 1 MiB documents, CAdES attached: a 7 MB request, a 7 MB answer.
    let docs: Vec<_> = (0..5u8)
        .map(|i| {
            let d: Vec<u8> = (0..MIB as u32)
                .map(|j| (j.wrapping_mul(2654435761) >> 24) as u8 ^ i)
                .collect();
            json!({"name": format!("d{i}.bin"), "content": b64(&d)})
        })
        .collect();
    let body = json!({"format": "cades", "attached": true, "documents": docs}).to_string();
    let path = a.dir.path().join("batch.json");
    std::fs::write(&path, &body).unwrap();
    let (held, statuses) = unread_posts(&a, a.token("signer"), "/v1/sign", 2, Some(&path));
    assert_eq!(statuses, [200, 200]);
    // Two requests and two answers held: 28 MB of the caller's 40 MiB.
    wait_inflight(&a, (26 * MIB) as f64);
    let official = a.agent(Who::Token("signer"));
    let before = log_size(&a);
    let r = official.send("POST", "/v1/sign", "application/json", body.as_bytes());
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["error"], "too_many_in_flight");
    assert_eq!(log_size(&a), before, "nothing signed");
    drop(held);
    wait_released(&a);
    let r = official.send("POST", "/v1/sign", "application/json", body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["signed"], 5);
}

/// The archive's disk fills under the running service (a 6 MiB tmpfs; mounting needs root,
/// which CI has). The put that meets it is told so (500 `internal`, "No space left on
/// device", no path of the appliance's), the service stays up, `/readyz` turns 503 on its
/// `database` check so a load balancer sends clerks elsewhere, and nothing more is written:
/// not the next put, not a read of a record's content either — a read that cannot be logged
/// is not served. Once the operator grows the disk and restarts the service, every
/// acknowledged record reads back as sent, a retry of the failed put with its request id gives
/// exactly one record, and new records are taken. (Until 2026-12-05 only the CLI met a full
/// disk in the tests; the service's mapping was unit-tested alone.)
#[test]
fn a_full_archive_disk_is_said_refuses_what_it_cannot_log_and_loses_nothing() {
    let outer = tempfile::tempdir().unwrap();
    let mnt = outer.path().join("disk");
    let disk = serve_support::common::SmallDisk::new(&mnt, "6m")
        .expect("mounting a tmpfs needs root (CI runs as root); cannot stage a full disk here");
    let mut a = Appliance::start_with(Options {
        db: Some(mnt.join("db")),
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    let base = std::fs::read(serve_support::common::fixture("giay-phep.pdf")).unwrap();
    // Distinct scans of 256 KiB that do not compress, kept unsigned with a reason.
    let doc = |i: u32| {
        let mut d = base.clone();
        d.extend(format!("%scan {i}\n%").bytes());
        let mut x = i.wrapping_mul(0x9E37_79B9) | 1;
        d.extend((0..256 * 1024).map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b'!' + (x % 90) as u8
        }));
        d.push(b'\n');
        d
    };
    let put = |clerk: &Client, i: u32| {
        clerk.post_json(
            "/v1/records",
            &json!({"code": "001099012345.GPXD", "agency": AGENCY, "issue_date": "2026-11-20",
                    "allow_unsigned": "ban quet giay to cu", "request_id": format!("scan-{i}"),
                    "content": b64(&doc(i))}),
        )
    };
    let mut acked = Vec::new();
    let mut failed = None;
    for i in 0..200 {
        let r = put(&clerk, i);
        match r.status {
            201 => acked.push((i, r.json()["record"].as_u64().unwrap())),
            _ => {
                failed = Some((i, r));
                break;
            }
        }
    }
    let (lost, r) = failed.expect("the 6 MiB disk never filled");
    assert!(!acked.is_empty(), "the disk filled before any record");
    assert_eq!(r.status, 500, "{}", r.text());
    let e = r.json();
    assert_eq!(e["error"], "internal", "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("No space left on device"), "{msg}");
    assert!(
        !msg.contains(mnt.to_str().unwrap()),
        "no path of the appliance's: {msg}"
    );
    // Up, not ready: the database check says why.
    assert_eq!(clerk.get("/healthz").status, 200);
    let ready = clerk.get("/readyz");
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert_eq!(
        ready.json()["checks"]["database"],
        false,
        "{}",
        ready.text()
    );
    // Nothing more is written: another put, and a read (which must be logged first).
    assert_eq!(put(&clerk, lost + 1).status, 500);
    let (_, first) = acked[0];
    let read = clerk.get(&format!(
        "/v1/records/{first}/content?purpose=cap%20ban%20sao"
    ));
    assert_eq!(
        read.status, 500,
        "a read that cannot be logged is not served"
    );
    // The operator frees space and restarts the service.
    a.stop();
    disk.resize("64m");
    a.launch();
    let clerk = a.agent(Who::Token("clerk"));
    let ready = clerk.get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.text());
    for (i, id) in &acked {
        let r = clerk.get(&format!("/v1/records/{id}/content?purpose=cap%20ban%20sao"));
        assert_eq!(r.status, 200, "record {id}: {}", r.text());
        assert!(r.body == doc(*i), "record {id} reads back as sent");
    }
    // The failed put's retry: one record, whether or not its batch reached the disk.
    let retry = put(&clerk, lost);
    assert!(matches!(retry.status, 200 | 201), "{}", retry.text());
    let again = put(&clerk, lost);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["record"], retry.json()["record"]);
    assert_eq!(again.json()["replayed"], true);
    assert_eq!(put(&clerk, lost + 2).status, 201);
    drop(a);
    drop(disk);
}

/// An insider cannot hide the issuer's revocation behind copies: a clerk of another agency
/// archives the revoked licence's bytes 1,001 times — more than a lookup lists (1,000, newest
/// first) — and `/v1/verify/archived` still answers with the issuer's revoked record, counting
/// every copy; the revoked record it answers with is read, so logged. (The answer was the
/// newest copies' "valid" until 2026-12-05: an attacker's reading.)
#[test]
fn a_thousand_copies_do_not_hide_the_issuers_revocation() {
    let (a, elsewhere) = with_a_clerk_of_another_province(Options {
        limits: lines(&["rate_per_second = 100000", "burst = 100000"]),
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    let doc = std::fs::read(serve_support::common::fixture("giay-phep.pdf")).unwrap();
    let sha = sha256_hex(&doc);
    let put = |c: &Client, i: usize| {
        let r = c.post_json(
            "/v1/records",
            &json!({"code": "001099012345.GPXD", "allow_unsigned": "ban quet",
                    "request_id": format!("copy-{i}"), "content": b64(&doc)}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["record"].as_u64().unwrap()
    };
    let issued = put(&clerk, 0);
    let r = clerk.put_json(
        &format!("/v1/records/{issued}/status"),
        &json!({"state": "revoked", "reason": "cấp sai đối tượng"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for i in 1..=1001 {
        put(&elsewhere, i);
    }
    let verifier = a.agent(Who::Token("verifier"));
    let v = verifier
        .get(&format!("/v1/verify/archived?sha256={sha}"))
        .json();
    assert_eq!(
        (
            v["status"].as_str(),
            v["record"].as_u64(),
            v["copies"].as_u64()
        ),
        (Some("revoked"), Some(issued), Some(1002)),
        "{v}"
    );
    assert_eq!(v["copies_differ"], true, "{v}");
    // Narrowed by the citizen's code, under which the copies were filed too: every copy under
    // it is weighed, not the 1,000 a lookup lists (which left the issuer's first copy out).
    let v = verifier
        .get(&format!(
            "/v1/verify/archived?sha256={sha}&code=001099012345.GPXD"
        ))
        .json();
    assert_eq!(
        (
            v["status"].as_str(),
            v["record"].as_u64(),
            v["copies"].as_u64()
        ),
        (Some("revoked"), Some(issued), Some(1002)),
        "{v}"
    );
    let finds: Vec<serde_json::Value> = log_events(&a)
        .into_iter()
        .filter(|e| e["event"] == "find" && e["user"] == "verifier-script" && e["value"] == sha)
        .collect();
    assert!(
        finds.iter().any(|e| e["records"] == json!([issued])),
        "the record answered with is logged: {finds:?}"
    );
    // A lookup lists the newest 1,000, logged once: narrowed by the code, the same answer
    // within the hour (it listed the oldest but one: the index read oldest first, cut at the
    // 1,001st).
    let listed: Vec<&Vec<serde_json::Value>> = finds
        .iter()
        .filter_map(|e| e["records"].as_array())
        .filter(|r| r.len() > 1)
        .collect();
    assert_eq!(listed.len(), 1, "{finds:?}");
    assert_eq!(listed[0].len(), 1000);
    assert_eq!(listed[0][0].as_u64(), Some(issued + 1001), "newest first");
}

/// An insider with write access to the database's files, while the service is stopped, plants
/// lookup entries that point at a record of other bytes and another citizen's code. Over HTTP,
/// as from the command line (archive_rules), the lookup is refused and logged by nobody; the
/// public page is never told that the archive holds a document it never held, and a clerk
/// asking for one citizen's code is never handed another citizen's record (helper 241's
/// reading, 2026-12-06, checked below the service; this is the service's end).
#[test]
fn index_entries_planted_while_the_service_was_stopped_are_refused_over_http_not_answered() {
    use kyso_archive::schema::IndexKey;
    let mut a = Appliance::start_with(Options {
        web: lines(&["public_verification = true"]),
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let record = archived(&clerk, "001099012345.GPXD", &pdf)["record"]
        .as_u64()
        .unwrap();
    let never = sha256_hex(b"a licence this archive never held");
    a.stop();
    {
        let mut o = rocksdb::Options::default();
        o.create_if_missing(false);
        let d = rocksdb::DB::open_cf(&o, a.db(), kyso_archive::store::CFS).unwrap();
        let cf = d.cf_handle("index").unwrap();
        for key in [
            IndexKey::Content {
                sha256: never.clone(),
                id: record,
            },
            IndexKey::Code {
                code: "079099000001.GPXD".into(),
                id: record,
            },
        ] {
            d.put_cf(cf, key.encode(), []).unwrap();
        }
        d.flush_wal(true).unwrap();
    }
    a.launch();
    let size = log_size(&a);
    let anon = a.agent(Who::Anonymous);
    let r = anon.get(&format!("/v1/verify/archived?sha256={never}"));
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        r.text().contains("they were changed") && !r.text().contains("\"archived\""),
        "{}",
        r.text()
    );
    let clerk = a.agent(Who::Token("clerk"));
    let r = clerk.get("/v1/records?code=079099000001.GPXD&purpose=kiem%20tra");
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        r.text()
            .contains(&format!("record {record} for the code 079099000001.GPXD"))
            && r.text().contains("they were changed")
            && !r.text().contains(&sha256_hex(&pdf)),
        "{}",
        r.text()
    );
    assert_eq!(log_size(&a), size, "a refused lookup logs nothing");
    // The genuine entries still answer: the record's own code, and its own bytes.
    let r = clerk.get("/v1/records?code=001099012345.GPXD&purpose=kiem%20tra");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = anon.get(&format!("/v1/verify/archived?sha256={}", sha256_hex(&pdf)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["record"].as_u64(), Some(record), "{}", r.text());
    assert!(a.alive());
}

/// Anonymous callers asking again and again for a proof of the newest entry while clerks
/// archive share the checkpoints signed on demand — at most one per half second beside the
/// publisher's — rather than each have the log key sign one of its own (helper 250: four public
/// clients had 629 signed in 10 s, each a token signature, a state-file write and a stored
/// checkpoint every audit checks again).
#[test]
fn public_proofs_of_the_newest_entry_share_checkpoints_and_do_not_sign_one_each() {
    use std::sync::atomic::AtomicU64;
    let mut a = Appliance::start_with(Options {
        web: lines(&["public_verification = true"]),
        limits: lines(&["rate_per_second = 100000", "burst = 100000"]),
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let first = archived(&clerk, "001099012345.GPXD", &pdf);
    let newest = AtomicU64::new(first["leaf"].as_u64().unwrap());
    let done = AtomicBool::new(false);
    let asked = AtomicU64::new(0);
    let before = kyso_archive::Archive::open_existing(&a.db());
    assert!(before.is_err(), "the service holds its archive");
    let started = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..40 {
                let r = archived(&clerk, &format!("0010990{i:05}.GPXD"), &pdf);
                newest.store(r["leaf"].as_u64().unwrap(), Ordering::SeqCst);
            }
            done.store(true, Ordering::SeqCst);
        });
        for _ in 0..4 {
            s.spawn(|| {
                let anon = a.agent(Who::Anonymous);
                while !done.load(Ordering::SeqCst) {
                    let leaf = newest.load(Ordering::SeqCst);
                    let r = anon.get(&format!("/v1/log/inclusion?leaf={leaf}"));
                    assert_eq!(r.status, 200, "{}", r.text());
                    asked.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let elapsed = started.elapsed();
    a.stop();
    let signed = kyso_archive::Archive::open_existing(&a.db())
        .unwrap()
        .checkpoints()
        .unwrap()
        .len() as u128;
    // The publisher's, one per half second at most, and as many on demand, and a few for the
    // start and the stop.
    let bound = 2 * (elapsed.as_millis() / 500 + 1) + 4;
    let asked = asked.load(Ordering::Relaxed);
    // (A proof waits for the next shared signature: up to half a second each.)
    assert!(asked >= 8, "the public asked only {asked} times");
    assert!(
        signed <= bound,
        "{signed} checkpoints signed in {elapsed:?} for {asked} public proofs (at most {bound})"
    );
}

/// While the log key cannot sign (its state file unwritable here; an unplugged token or a
/// full disk alike), callers asking for a proof of an entry no checkpoint covers share the
/// failure — one attempt per half second, told to all — rather than each wait their turn to
/// try again (helper 251: sixteen anonymous callers took 8 s each, a hundred filled every
/// blocking thread and the clerks' ingests timed out). Signing again once mended.
#[test]
fn while_the_log_key_cannot_sign_callers_share_the_failure_and_are_not_queued() {
    let a = Appliance::start_with(Options {
        web: lines(&["public_verification = true"]),
        limits: lines(&["rate_per_second = 100000", "burst = 100000"]),
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let first = archived(&clerk, "001099012345.GPXD", &pdf)["leaf"]
        .as_u64()
        .unwrap();
    let anon = a.agent(Who::Anonymous);
    assert_eq!(
        anon.get(&format!("/v1/log/inclusion?leaf={first}")).status,
        200
    );
    let state = a.dir.path().join("db.checkpoint");
    let kept = std::fs::read(&state).unwrap();
    std::fs::remove_file(&state).unwrap();
    std::fs::create_dir(&state).unwrap();
    let newest = archived(&clerk, "001099012346.GPXD", &pdf)["leaf"]
        .as_u64()
        .unwrap();
    let answers: Vec<(u16, Duration)> = std::thread::scope(|s| {
        let asks: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    let anon = a.agent(Who::Anonymous);
                    let t = Instant::now();
                    let r = anon.get(&format!("/v1/log/inclusion?leaf={newest}"));
                    (r.status, t.elapsed())
                })
            })
            .collect();
        asks.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, took) in &answers {
        assert_eq!(*status, 503, "{answers:?}");
        // At most the 5 s a caller waits for a signature, never its turn behind the others'.
        assert!(*took < Duration::from_secs(6), "{answers:?}");
    }
    std::fs::remove_dir(&state).unwrap();
    std::fs::write(&state, kept).unwrap();
    let mut status = 0;
    for _ in 0..50 {
        status = anon.get(&format!("/v1/log/inclusion?leaf={newest}")).status;
        if status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, 200);
}

/// A token that hangs when the service is stopped (a USB token pulled mid-call; here SoftHSM2
/// held on its token's `generation` file, whose lock every call on the token takes): the stop
/// waits at most 10 s for the last checkpoint — the publisher's, and one a public proof had
/// asked for on demand — says so, and exits. Nothing acknowledged is lost. Before, the stop
/// waited for as long as the token hung (helper 254). Started again while the token still
/// hangs, the service says what it waits on and survives a SIGHUP (helper 255); once the
/// token answers it listens, answers the SIGHUP, and signs the checkpoint.
#[test]
fn a_token_that_hangs_bounds_the_stop_and_a_start_waits_for_it_saying_so_and_keeping_a_reload() {
    use std::io::BufRead;
    let mut a = Appliance::start_with(Options {
        web: lines(&["public_verification = true"]),
        server: lines(&["drain_secs = 2"]),
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let generation = std::fs::read_dir(a.demo.path().join("tokens"))
        .unwrap()
        .map(|e| e.unwrap().path().join("generation"))
        .find(|p| p.is_file())
        .expect("the demo token's generation file");
    let mut holder = KillOnDrop(
        std::process::Command::new("python3")
            .args([
                "-c",
                "import fcntl, os, sys, time\nfd = os.open(sys.argv[1], os.O_RDWR)\nfcntl.lockf(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(600)",
            ])
            .arg(&generation)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(holder.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "held");
    // Archived while the token hangs (ingest needs no key): the log is now ahead of every
    // checkpoint, and the publisher's signature of it hangs.
    let leaf = archived(&clerk, "001099012345.GPXD", &pdf)["leaf"]
        .as_u64()
        .unwrap();
    // A public proof of it asks for a checkpoint on demand: told 503 after 5 s, its signing
    // thread left hanging too.
    let answer = a
        .agent(Who::Anonymous)
        .get(&format!("/v1/log/inclusion?leaf={leaf}"));
    assert_eq!(answer.status, 503, "{}", answer.text());
    let stopping = Instant::now();
    unsafe_kill(a.pid(), 15);
    let mut child = a.child.take().unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if stopping.elapsed() > Duration::from_secs(40) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running 40 s after SIGTERM\n{}", a.service_log());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = stopping.elapsed();
    let log = a.service_log();
    assert!(status.success(), "{status:?}\n{log}");
    // No request in flight: the checkpoint's 10 s, and a margin.
    assert!(
        took < Duration::from_secs(18),
        "stopped {took:?} after SIGTERM\n{log}"
    );
    assert!(log.contains("stopping without a last checkpoint"), "{log}");
    assert!(
        log.contains("ending without the libraries' exit handlers"),
        "{log}"
    );
    // Started again while the token still hangs: the start says what it waits on, and a
    // SIGHUP meanwhile (`systemctl reload` right after a restart) is answered once it listens
    // — it ended the service before (helper 255). Then the token answers.
    let conf = a.dir.path().join("kyso.toml");
    let log_file = a.log.clone();
    let releaser = std::thread::spawn(move || {
        let t = Instant::now();
        let pid = loop {
            let found = std::fs::read_dir("/proc").unwrap().find_map(|e| {
                let e = e.ok()?;
                let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
                let conf = conf.to_str().unwrap().as_bytes();
                cmdline
                    .windows(conf.len())
                    .any(|w| w == conf)
                    .then_some(pid)
            });
            if let Some(pid) = found {
                break pid;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the service did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_secs(1));
        unsafe_kill(pid, 1);
        while !std::fs::read_to_string(&log_file)
            .unwrap_or_default()
            .contains("still starting")
        {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the start never said what it waits on"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        drop(holder);
        pid
    });
    a.launch();
    let pid = releaser.join().unwrap();
    assert_eq!(a.pid(), pid);
    let auditor = a.agent(Who::Token("auditor"));
    assert_eq!(auditor.get("/v1/whoami").status, 200);
    let log = a.service_log_with("read again from the configuration");
    assert!(log.contains("still starting"), "{log}");
    assert!(log.contains("read again from the configuration"), "{log}");
    // The entry is there, and a checkpoint covers it.
    let key = unb64(
        auditor.get("/v1/log/key").json()["public_key"]
            .as_str()
            .unwrap(),
    );
    let mut size = 0;
    for _ in 0..50 {
        let note = auditor.get("/v1/log/checkpoint").text();
        size = verify_note(&note, &key).1;
        if size > leaf {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(size > leaf, "no checkpoint covers entry {leaf}: {size}");
    assert!(a.stop().success());
    audit_clean(&a);
}

/// A SIGHUP that comes before the service has read its configuration (`systemctl restart kyso
/// && systemctl reload kyso` on a cold start) is kept and answered once it listens: it ended
/// the service before, by a signal systemd counts as a clean exit (helper 257: 14 starts of 20
/// at 0 ms). Held here at that point by a configuration file that is a FIFO, written only
/// after the SIGHUP was sent.
#[test]
fn a_sighup_before_the_configuration_is_read_is_answered_once_the_service_listens() {
    let mut a = Appliance::start();
    assert!(a.stop().success());
    let conf = a.dir.path().join("kyso.toml");
    let text = std::fs::read(&conf).unwrap();
    std::fs::remove_file(&conf).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&conf)
        .status()
        .unwrap();
    assert!(made.success());
    let plain = a.dir.path().join("kyso.toml.plain");
    std::fs::write(&plain, &text).unwrap();
    a.launch_with(|pid| {
        // Once the process handles SIGHUP (SigCgt, bit 0) and while it waits on the FIFO.
        let t = Instant::now();
        loop {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            let caught = status
                .lines()
                .find_map(|l| l.strip_prefix("SigCgt:"))
                .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
                .unwrap_or(0);
            if caught & 1 == 1 {
                break;
            }
            if t.elapsed() > Duration::from_secs(20) {
                // (Not left behind, waiting on the FIFO.)
                unsafe_kill(pid, 9);
                panic!("SIGHUP never handled: {status}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(200));
        unsafe_kill(pid, 1);
        std::thread::sleep(Duration::from_millis(200));
        // The configuration given through the FIFO, then a plain file put in its place for the
        // reload to read.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&conf)
            .unwrap()
            .write_all(&text)
            .unwrap();
        std::fs::rename(&plain, &conf).unwrap();
    });
    let log = a.service_log_with("read again from the configuration");
    assert!(log.contains("read again from the configuration"), "{log}");
    let auditor = a.agent(Who::Token("auditor"));
    assert_eq!(auditor.get("/v1/whoami").status, 200);
    assert!(a.stop().success());
}
