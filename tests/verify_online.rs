//! Online revocation checking (`kyso verify` without `--offline`) against servers this test runs
//! on loopback: a CRL distribution point, and a responder that accepts connections and never
//! answers. The documents and the CRL are made by tests/corpus/attacks_lta.py with the corpus
//! PKI (see tests/corpus/online/README.md); their certificates name fixed ports, 28517 and
//! 28518 on 127.0.0.1, so each test binds its port and fails saying so when it is taken.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The CRL distribution point of pki/l-online.pem.
const CRL_PORT: u16 = 28517;
const CRL_PATH: &str = "/kyso-issuing-ca.crl";
/// The OCSP responder and CRL distribution point of pki/l-stall.pem.
const STALL_PORT: u16 = 28518;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn bind(port: u16) -> TcpListener {
    TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
        panic!(
            "cannot listen on 127.0.0.1:{port} ({e}): the corpus certificates name this port \
             (tests/corpus/online/README.md); stop what uses it and run the test again"
        )
    })
}

/// A server on a fixed loopback port: each connection accepted is counted and handed to
/// `handle` on the server's thread; `stop` closes the port.
struct Server {
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(port: u16, handle: impl FnMut(TcpStream) + Send + 'static) -> Server {
        Server::on(bind(port), handle)
    }

    /// The same on a listener already bound.
    fn on(listener: TcpListener, mut handle: impl FnMut(TcpStream) + Send + 'static) -> Server {
        listener.set_nonblocking(true).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        a.fetch_add(1, Ordering::SeqCst);
                        stream.set_nonblocking(false).unwrap();
                        handle(stream);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    Err(_) => {}
                }
            }
        });
        Server {
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Stop accepting and close the port.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Answer one HTTP/1.1 request: `body` for GET `path`, 404 otherwise.
fn answer(mut stream: TcpStream, path: &str, body: &[u8]) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let wanted = line.starts_with(&format!("GET {path} "));
    let (status, body) = if wanted {
        ("200 OK", body)
    } else {
        ("404 Not Found", &b""[..])
    };
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let _ = stream.write_all(body);
}

/// `kyso verify DOC --trust pki/root.pem ARGS --json`, killed (and the test failed) if it runs
/// longer than `limit`.
fn verify(doc: &Path, args: &[&str], limit: Duration) -> (Run, serde_json::Value) {
    let mut child = kyso_cmd()
        .arg("verify")
        .arg(doc)
        .arg("--trust")
        .arg(corpus().join("pki/root.pem"))
        .args(args)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "kyso verify {} did not finish within {limit:?}",
                doc.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let r = Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    let j = r.json();
    (r, j)
}

fn messages(sig: &serde_json::Value) -> Vec<String> {
    sig["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

fn says(sig: &serde_json::Value, parts: &[&str]) -> bool {
    messages(sig)
        .iter()
        .any(|m| parts.iter().all(|p| m.contains(p)))
}

const LIMIT: Duration = Duration::from_secs(120);
/// What kyso says when the status rests on data issued before the time it is needed at.
const RESTS_ON: [&str; 3] = [
    "CN=Signer l-online",
    "at 2026-11-25T09:00:00Z rests on a CRL of 2026-11-19T00:00:00Z valid until 2026-11-26T00:00:00Z",
    "issued before that time",
];

/// The signer of tests/corpus/signed-after-revocation-stale-crl was revoked on 2026-11-20; its
/// signature time-stamp says 2026-11-25; the DSS holds only the CA's CRL of 2026-11-19, whose
/// window covers the time-stamp. Offline that stands (EN 319 102-1's default) with a note;
/// online, the distribution point's current CRL lists the revocation and wins (and says
/// nothing of a signer that expired before it was issued); with the distribution point down,
/// the stale CRL stands again, with the note.
#[test]
fn relying_agency_online_gets_the_current_crl_over_a_stale_embedded_one() {
    let doc = corpus().join("signed-after-revocation-stale-crl/doc.pdf");
    let crl = std::fs::read(corpus().join("online/kyso-issuing-ca-current.crl")).unwrap();

    // Offline: the stale CRL, and a note saying what the verdict rests on.
    let (r, j) = verify(&doc, &["--offline"], LIMIT);
    assert_eq!(
        (r.code, &j["indication"]),
        (0, &serde_json::json!("TOTAL-PASSED")),
        "{}",
        r.stdout
    );
    assert!(says(&j["signatures"][0], &RESTS_ON), "{}", r.stdout);

    // (a) Online, the distribution point serves the CA's current CRL: REVOKED.
    let mut server = Server::start(CRL_PORT, move |s| answer(s, CRL_PATH, &crl));
    let (r, j) = verify(&doc, &[], LIMIT);
    assert!(server.accepted() >= 1, "kyso did not ask {CRL_PATH}");
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(j["indication"], "TOTAL-FAILED", "{}", r.stdout);
    assert_eq!(j["subindication"], "REVOKED", "{}", r.stdout);
    assert!(
        says(
            &j["signatures"][0],
            &["CN=Signer l-online", "was revoked on 2026-11-20"]
        ),
        "{}",
        r.stdout
    );

    // The same CRL says nothing of a certificate that expired before it was issued (CAs drop
    // expired certificates from their CRLs): a signer revoked on 2025-03-01, expired on
    // 2025-06-30, time-stamp of 2025-04-15, no data in the file: not good, TRY_LATER.
    let expired = corpus().join("online/revoked-expired-signer-no-data.pdf");
    let asked = server.accepted();
    let (r, j) = verify(&expired, &[], LIMIT);
    assert!(server.accepted() > asked, "kyso did not ask {CRL_PATH}");
    server.stop();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(j["indication"], "INDETERMINATE", "{}", r.stdout);
    assert_eq!(j["subindication"], "TRY_LATER", "{}", r.stdout);
    assert!(
        says(&j["signatures"][0], &["CRL", "of 2026-11-26", "not used"]),
        "{}",
        r.stdout
    );

    // (b) The distribution point is down: the fetch fails at once, the stale CRL stands, and
    // the report says what it rests on and that the CRL could not be fetched.
    drop(bind(CRL_PORT));
    let (r, j) = verify(&doc, &[], LIMIT);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(j["indication"], "TOTAL-PASSED", "{}", r.stdout);
    let sig = &j["signatures"][0];
    assert!(says(sig, &RESTS_ON), "{}", r.stdout);
    assert!(
        says(
            sig,
            &[
                "the CRL could not be fetched",
                &format!("127.0.0.1:{CRL_PORT}{CRL_PATH}")
            ]
        ),
        "{}",
        r.stdout
    );
}

/// Five signatures whose certificate (pki/l-stall.pem) names an OCSP responder and a CRL
/// distribution point on a server that accepts connections and never answers: each fetch
/// ends at the fetcher's timeout, every signature is INDETERMINATE/TRY_LATER, and the failed
/// URLs are remembered, so the run takes one timeout per URL, not one per signature.
#[test]
fn responder_that_never_answers_leaves_try_later_in_bounded_time() {
    let held = Arc::new(std::sync::Mutex::new(Vec::new()));
    let h = held.clone();
    let server = Server::start(STALL_PORT, move |s| h.lock().unwrap().push(s));
    let doc = corpus().join("online/stalled-responder-five-signatures.pdf");
    let start = Instant::now();
    let (r, j) = verify(&doc, &[], LIMIT);
    let took = start.elapsed();
    eprintln!(
        "five signatures, two dead URLs: {took:?}, {} connections",
        server.accepted()
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(j["indication"], "INDETERMINATE", "{}", r.stdout);
    assert_eq!(j["subindication"], "TRY_LATER", "{}", r.stdout);
    let sigs = j["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 5, "{}", r.stdout);
    for sig in sigs {
        assert_eq!(
            (&sig["indication"], &sig["subindication"]),
            (
                &serde_json::json!("INDETERMINATE"),
                &serde_json::json!("TRY_LATER")
            ),
            "{}",
            r.stdout
        );
        assert!(
            says(sig, &[&format!("127.0.0.1:{STALL_PORT}/ocsp")]),
            "{}",
            r.stdout
        );
    }
    // Two URLs, each asked once (a retry allowed), not once per signature (ten).
    assert!(
        server.accepted() <= 4,
        "{} connections to the stalled server",
        server.accepted()
    );
}

/// A delegated OCSP responder's stolen key signs "good" for a signer the CA revoked, dated a
/// second after the signature time-stamp, beside the CA's CRL of ten days before, which lists
/// neither the signer nor the responder. kyso found the responder "good" in that old CRL, took
/// the answer as issued after the time-stamp and fetched nothing: TOTAL-PASSED (an attacker's
/// reading, 2026-12-03). Now a responder whose status rests on a CRL older than its answer has
/// it fetched, as a signer's is: the CA's current CRL revokes the responder (and the signer):
/// REVOKED. The thief also answers at the signer's OCSP URL (plain HTTP): an answer kyso
/// fetched itself was judged without fetching its responder's status (the same day's second
/// reading); now it is. Made by tests/hostile/ocsp_responder.py; the test's own server is the
/// distribution point and the OCSP responder the certificates name.
#[test]
fn a_stolen_responder_key_cannot_vouch_for_a_revoked_signer_online() {
    let demo = Demo::new();
    let d = demo.path().join("ocsp");
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    hostile(
        "ocsp_responder.py",
        &[d.as_os_str(), std::ffi::OsStr::new(&port)],
    );
    let crl = std::fs::read(d.join("ca.crl")).unwrap();
    let stolen = std::fs::read(d.join("bt-stolen.ocsp")).unwrap();
    let asked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = asked.clone();
    let _server = Server::on(listener, move |mut s| {
        // The request line names the path: the CRL (GET) or the OCSP responder (POST).
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let line = String::from_utf8_lossy(&head)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        log.lock().unwrap().push(line.clone());
        let (ct, body) = if line.contains(" /ocsp") {
            ("application/ocsp-response", &stolen[..])
        } else if line.contains(" /ca.crl ") {
            ("application/pkix-crl", &crl[..])
        } else {
            ("text/plain", &b""[..])
        };
        let _ = s.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        let _ = s.write_all(body);
    });
    for given in [true, false] {
        let mut cmd = kyso_cmd();
        cmd.arg("verify")
            .arg(d.join("doc.txt"))
            .arg("--detached")
            .arg(d.join("bt.p7s"))
            .arg("--trust")
            .arg(d.join("root.pem"))
            .arg("--crl")
            .arg(d.join("old.crl"))
            .arg("--json");
        if given {
            cmd.arg("--ocsp").arg(d.join("bt-stolen.ocsp"));
        }
        let r: Run = cmd.output().unwrap().into();
        let j = r.json();
        assert_eq!(
            (j["indication"].as_str(), j["subindication"].as_str()),
            (Some("TOTAL-FAILED"), Some("REVOKED")),
            "given: {given}: {j}"
        );
        let sig = &j["signatures"][0];
        assert!(
            says(sig, &["the OCSP responder", "(stolen)", "was revoked on"]),
            "given: {given}: {sig}"
        );
    }
    let asked = asked.lock().unwrap();
    assert!(asked.iter().any(|l| l.contains("/ca.crl")), "{asked:?}");
    assert!(asked.iter().any(|l| l.contains("/ocsp")), "{asked:?}");
}

/// A TSA key revoked (keyCompromise) on 2026-06-01 back-dates a signature time-stamp to
/// 2024-02-01 over a signature by a signer revoked on 2024-03-01; the file holds only the CAs'
/// CRLs of 2024-02-02. kyso judged the TSA at genTime, where those CRLs settle it, and fetched
/// nothing: TOTAL-PASSED (an attacker's reading, 2026-12-03). Now the TSA's status is needed
/// up to when the token is relied on: online, the distribution points' current CRLs revoke the
/// TSA: the token proves nothing and the signer is revoked. Made by
/// tests/hostile/timestamp_attacks.py; the test's server is the distribution points.
#[test]
fn a_time_stamp_by_a_tsa_key_revoked_later_is_found_online() {
    let demo = Demo::new();
    let d = demo.path().join("ts");
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    hostile(
        "timestamp_attacks.py",
        &[d.as_os_str(), std::ffi::OsStr::new(&port)],
    );
    let c = d.join("tsa-revoked-later");
    let root_crl = std::fs::read(c.join("www/root.crl")).unwrap();
    let inter_crl = std::fs::read(c.join("www/inter.crl")).unwrap();
    let server = Server::on(listener, move |s| {
        let mut peek = [0u8; 64];
        let n = s.peek(&mut peek).unwrap_or(0);
        if String::from_utf8_lossy(&peek[..n]).contains("/root.crl") {
            answer(s, "/root.crl", &root_crl)
        } else {
            answer(s, "/inter.crl", &inter_crl)
        }
    });
    let r: Run = kyso_cmd()
        .arg("verify")
        .arg(c.join("doc.txt"))
        .arg("--detached")
        .arg(c.join("sig.p7s"))
        .arg("--trust")
        .arg(c.join("root.pem"))
        .arg("--json")
        .output()
        .unwrap()
        .into();
    let j = r.json();
    assert_eq!(
        (j["indication"].as_str(), j["subindication"].as_str()),
        (Some("TOTAL-FAILED"), Some("REVOKED")),
        "{j}"
    );
    assert!(
        j.to_string()
            .contains("F1 TSA (key stolen),C=VN was revoked on 2026-06-01"),
        "{j}"
    );
    assert!(server.accepted() >= 1);
}
