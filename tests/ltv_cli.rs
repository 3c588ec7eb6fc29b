//! Long-term signatures (issue 13) against real responders on loopback: a CRL distribution
//! point (Python's http.server) and an OCSP responder (`openssl ocsp`), started by the test, for
//! a test PKI whose certificates name them (tests/ltv/make_pki.py). Time moves with libfaketime.

mod common;
use common::*;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The Python of kyso's venv (pyca/cryptography, pyHanko).
fn python() -> PathBuf {
    pyhanko().with_file_name("python")
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ltv")
        .join(name)
}

/// A test PKI in a temporary directory, and the responders its certificates name.
struct Pki {
    dir: tempfile::TempDir,
    crl_port: u16,
    ocsp_port: u16,
    servers: Vec<Child>,
}

impl Pki {
    /// A PKI whose certificates name CRL and OCSP URLs on two free ports, served. A port
    /// found free can be taken by another test's process before the server binds it, and the
    /// readiness check then met that process: the CRL was not ours, and a B-LT signing said
    /// TRY_LATER (once in a full run, 2026-12-07). So the CRL served is read back and compared,
    /// and on a mismatch the PKI is made again on other ports.
    fn new() -> Pki {
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let (crl_port, ocsp_port) = (free_port(), free_port());
            succeeded(
                Command::new(python())
                    .arg(script("make_pki.py"))
                    .arg(dir.path())
                    .args([crl_port.to_string(), ocsp_port.to_string()]),
            );
            let mut p = Pki {
                dir,
                crl_port,
                ocsp_port,
                servers: Vec::new(),
            };
            p.start();
            if p.serves_its_crl() {
                return p;
            }
            p.stop();
        }
        panic!("the PKI's CRL server could not be started on a port of its own");
    }

    /// Does the CRL port answer with this PKI's root CRL (not another process's answer)?
    fn serves_its_crl(&self) -> bool {
        use std::io::{Read, Write};
        let want = std::fs::read(self.path("crl/root.crl")).unwrap();
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.crl_port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
        let mut got = Vec::new();
        s.write_all(b"GET /crl/root.crl HTTP/1.0\r\n\r\n").is_ok()
            && s.read_to_end(&mut got).is_ok()
            && got.ends_with(&want)
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }

    fn s(&self, f: &str) -> String {
        self.path(f).display().to_string()
    }

    /// Serve the CRLs and answer OCSP until `stop`.
    fn start(&mut self) {
        let http = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &self.crl_port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // `openssl ocsp` answers one connection at a time: a connection that sends nothing
        // would stall it, so readiness is read from its own words, and -timeout bounds a
        // client that stalls.
        let mut ocsp = Command::new("openssl")
            .args([
                "ocsp",
                "-index",
                "index.txt",
                "-port",
                &self.ocsp_port.to_string(),
            ])
            .args([
                "-rsigner",
                "ocsp.pem",
                "-rkey",
                "ocsp.key.pem",
                "-CA",
                "ca.pem",
            ])
            .args(["-nmin", "60", "-timeout", "5"])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = ocsp.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("waiting for OCSP client connections") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("openssl ocsp did not start");
        let up = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            std::net::TcpStream::connect(("127.0.0.1", self.crl_port)).is_ok()
        });
        assert!(up, "the CRL server did not start");
        self.servers = vec![http, ocsp];
    }

    /// The CA goes away: nothing answers any more.
    fn stop(&mut self) {
        for mut s in self.servers.drain(..) {
            let _ = s.kill();
            let _ = s.wait();
        }
    }

    /// The issuing CA revokes the signer as of `when` (a new CRL and OCSP database).
    fn revoke_signer(&mut self, when: &str) {
        self.revoke_signer_compromised(when, None)
    }

    /// Revoked as of `when` (ISO 8601 or `now`); with `since`, the CRL entry says keyCompromise
    /// with that invalidityDate.
    fn revoke_signer_compromised(&mut self, when: &str, since: Option<&str>) {
        let mut since_args = vec![];
        if let Some(s) = since {
            since_args = vec!["--compromised-since", s];
        }
        succeeded(
            Command::new(python())
                .arg(script("make_pki.py"))
                .arg(self.dir.path())
                .args(["--revoke-signer-at", when])
                .args(since_args),
        );
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        self.stop();
    }
}

const LT_KEY: &str = "pkcs11:token=kyso-dev;object=signer-lt";

/// Put the PKI's signer (and optionally its TSA) on the demo token, as an official's token
/// from the CA would carry them.
fn import(demo: &Demo, pki: &Pki, label: &str, id: &str, key: &str, cert: &str) {
    demo.import_key(label, id, &pki.path(key), &pki.path(cert));
}

/// The PKI's signer on the demo token (`LT_KEY`).
fn import_signer(demo: &Demo, pki: &Pki) {
    import(
        demo,
        pki,
        "signer-lt",
        "4c54",
        "signer.key.pem",
        "signer.pem",
    );
}

/// giay-phep.pdf copied into the demo's folder.
fn giay_phep(demo: &Demo) -> PathBuf {
    let pdf = demo.path().join("giay-phep.pdf");
    std::fs::copy(fixture("giay-phep.pdf"), &pdf).unwrap();
    pdf
}

fn verify(demo: &Demo, pki: &Pki, file: &Path, faketime: Option<&str>) -> serde_json::Value {
    let mut c = match faketime {
        Some(f) => {
            let mut c = Command::new("faketime");
            c.args(["-f", f, kyso_bin()]);
            c
        }
        None => kyso_cmd(),
    };
    let r: Run = verify_with(&mut c, demo, pki, file, &["--json"]).into();
    r.json()
}

/// `kyso verify --offline` of `file` with both roots and `more`, as `c` runs it.
fn verify_with(
    c: &mut Command,
    demo: &Demo,
    pki: &Pki,
    file: &Path,
    more: &[&str],
) -> std::process::Output {
    c.args(["verify", "--offline", "--trust"])
        .arg(pki.path("root.pem"))
        .arg("--trust")
        .arg(demo.ca_pem())
        .args(more)
        .arg(file)
        .output()
        .unwrap()
}

fn verdicts(j: &serde_json::Value) -> Vec<(String, String)> {
    j["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["format"].as_str().unwrap().to_string(),
                s["indication"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn official_signs_b_lta_that_still_verifies_after_the_certificate_expired_and_the_ca_is_gone() {
    let (demo, mut pki) = (Demo::new(), Pki::new());
    import_signer(&demo, &pki);
    let pdf = giay_phep(&demo);
    let sign = |level: &str, out: &str| {
        let r = demo.run_pin(&[
            "sign",
            "--level",
            level,
            "--tsa",
            "internal",
            "--tsa-key",
            "pkcs11:token=kyso-dev;object=tsa",
            "--key",
            LT_KEY,
            "--certs",
            &pki.s("ca.pem"),
            "--trust",
            &pki.s("root.pem"),
            "--trust",
            demo.ca_pem().to_str().unwrap(),
            "--out-dir",
            &demo.path().join(out).display().to_string(),
            pdf.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{level}: {}", r.stderr);
        demo.path().join(out).join("giay-phep.signed.pdf")
    };
    let lta = sign("B-LTA", "lta");
    let bt = sign("B-T", "bt");

    // Now, with the CA answering: both pass; the B-LTA one offline too, from what it embeds.
    let j = verify(&demo, &pki, &lta, None);
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
    assert_eq!(
        verdicts(&j),
        [
            ("PAdES-B-LTA".into(), "TOTAL-PASSED".into()),
            ("PAdES document time-stamp".into(), "TOTAL-PASSED".into())
        ]
    );
    // The document time-stamp's eight items say what holds: its path reached the trusted
    // root, the TSA's certificate was valid at genTime, which the token proves (they said
    // "not verified" and "unknown" beside TOTAL-PASSED).
    let facts = &j["signatures"][1]["facts"];
    assert_eq!(facts["chain_trusted"], true, "{j}");
    assert_eq!(facts["time_proven"], true, "{j}");
    assert_eq!(facts["valid_at_signing"], true, "{j}");
    assert_eq!(facts["integrity"], true, "{j}");
    assert!(facts["ca_body"].is_string(), "{j}");
    // ... and in Vietnamese they speak of a time-stamp and its TSA, not of a signer (helper
    // 178: the TSA was item 3, "Người ký").
    let out = verify_with(&mut kyso_cmd(), &demo, &pki, &lta, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let ts = text
        .split("\nDấu thời gian 2, đóng trên toàn bộ tài liệu")
        .nth(1)
        .unwrap_or_else(|| panic!("no time-stamp heading: {text}"));
    for want in [
        "1. Tình trạng dấu thời gian: HỢP LỆ",
        "3. Tổ chức cung cấp dịch vụ cấp dấu thời gian: ",
        "5. Thời điểm ghi trong dấu thời gian: ",
        "7. Chứng thư số của tổ chức cung cấp dịch vụ cấp dấu thời gian còn hiệu lực tại thời điểm ở mục 5: có",
    ] {
        assert!(ts.contains(want), "{want}: {text}");
    }
    assert!(!ts.contains("Người ký"), "{text}");
    assert!(text.contains("\nChữ ký 1 — "), "{text}");
    // pyHanko, asked to use the revocation data embedded in the file, agrees.
    let out = Command::new(pyhanko())
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--trust",
            &pki.s("root.pem"),
            "--trust",
        ])
        .arg(demo.ca_pem())
        .arg(&lta)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("The signature is judged VALID"), "{text}");

    // The B-T signature, offline, has nothing to show the signer's status: the certificate
    // names a CRL and an OCSP responder, so it is TRY_LATER…
    let j = verify(&demo, &pki, &bt, None);
    assert_eq!(j["subindication"], "TRY_LATER", "{j}");
    // …online, kyso asks the responder (with a nonce it requires back) and it passes.
    let r: Run = kyso_cmd()
        .args([
            "verify",
            "--json",
            "--ocsp-nonce",
            "--trust",
            &pki.s("root.pem"),
            "--trust",
        ])
        .arg(demo.ca_pem())
        .arg(&bt)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.json()["indication"], "TOTAL-PASSED", "{}", r.stdout);

    // Two years on: the signer's certificate (one year) has expired and nothing answers.
    pki.stop();
    let j = verify(&demo, &pki, &lta, Some("+730d"));
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
    let messages = j["signatures"][0]["messages"].to_string();
    assert!(
        messages.contains("expired on") && messages.contains("valid at the time-stamp"),
        "{messages}"
    );
    let j = verify(&demo, &pki, &bt, Some("+730d"));
    assert_eq!(j["indication"], "INDETERMINATE", "{j}");
}

/// The PKI's signer on the demo token signs giay-phep.pdf at B-LT (the demo's TSA), written
/// to giay-phep.signed.pdf in the demo's folder.
fn signed_b_lt(demo: &Demo, pki: &Pki) {
    import_signer(demo, pki);
    let pdf = giay_phep(demo);
    let r = demo.run_pin(&[
        "sign",
        "--level",
        "B-LT",
        "--tsa",
        "internal",
        "--tsa-key",
        "pkcs11:token=kyso-dev;object=tsa",
        "--key",
        LT_KEY,
        "--certs",
        &pki.s("ca.pem"),
        "--trust",
        &pki.s("root.pem"),
        "--trust",
        demo.ca_pem().to_str().unwrap(),
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// pyHanko adds a CRL to a PDF's DSS: `python -c ADD_CRL_TO_DSS IN.pdf CRL OUT.pdf`.
const ADD_CRL_TO_DSS: &str = "import io, sys\n\
from pyhanko.sign.validation.dss import DocumentSecurityStore\n\
from asn1crypto import crl\n\
buf = io.BytesIO(open(sys.argv[1], 'rb').read())\n\
c = crl.CertificateList.load(open(sys.argv[2], 'rb').read())\n\
DocumentSecurityStore.add_dss(buf, None, crls=[c], force_write=True)\n\
open(sys.argv[3], 'wb').write(buf.getvalue())\n";

/// A CRL that revokes the signer after the signature's time-stamp, but says its key was
/// compromised before it (invalidityDate, RFC 5280 §5.3.2): the signature is not the
/// holder's. Without the invalidity date the signature stands; with it, it is REVOKED (the
/// date was ignored, and a signature proven to exist between the two passed; an attacker's
/// reading, 2026-12-04).
#[test]
fn a_key_compromised_before_the_signature_fails_it_though_revoked_after() {
    let demo = Demo::new();
    let mut pki = Pki::new();
    signed_b_lt(&demo, &pki);
    let bt = demo.path().join("giay-phep.signed.pdf");
    // The revocation comes after the time-stamp's genTime and its 1 s accuracy.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let with_crl = |since: Option<&str>, pki: &mut Pki| {
        pki.revoke_signer_compromised("now", since);
        let out_pdf = demo.path().join("revoked.pdf");
        succeeded(
            Command::new(python())
                .args(["-c", ADD_CRL_TO_DSS])
                .arg(&bt)
                .arg(pki.path("crl/ca.crl"))
                .arg(&out_pdf),
        );
        out_pdf
    };
    pki.stop();
    // Revoked after the time-stamp, for no stated compromise: it stands.
    let f = with_crl(None, &mut pki);
    let j = verify(&demo, &pki, &f, None);
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
    // Revoked after it, the key compromised since 2020: it fails.
    let f = with_crl(Some("2020-01-01T00:00:00+00:00"), &mut pki);
    let j = verify(&demo, &pki, &f, None);
    assert_eq!(
        (j["indication"].as_str(), j["subindication"].as_str()),
        (Some("TOTAL-FAILED"), Some("REVOKED")),
        "{j}"
    );
    // The report names both dates: "revoked on" is the invalidity date, which the CRL gives
    // beside a later revocation date.
    let messages = j["signatures"][0]["messages"].to_string();
    assert!(
        messages.contains("was revoked on 2020-01-01T00:00:00Z")
            && messages.contains("says its key was invalid from 2020-01-01T00:00:00Z"),
        "{messages}"
    );
}

#[test]
fn revocation_data_made_after_a_revocation_fails_the_signature() {
    let demo = Demo::new();
    let mut pki = Pki::new();
    signed_b_lt(&demo, &pki);
    let lt = demo.path().join("giay-phep.signed.pdf");
    assert_eq!(verify(&demo, &pki, &lt, None)["indication"], "TOTAL-PASSED");
    // The CA later says the key was compromised years before the signature: a CRL issued now
    // (after the revocation) lists it, and pyHanko adds that CRL to the document's DSS.
    pki.revoke_signer("2020-01-01T00:00:00+00:00");
    let with_crl = demo.path().join("revoked.pdf");
    succeeded(
        Command::new(python())
            .args(["-c", ADD_CRL_TO_DSS])
            .arg(&lt)
            .arg(pki.path("crl/ca.crl"))
            .arg(&with_crl),
    );
    pki.stop();
    let j = verify(&demo, &pki, &with_crl, None);
    assert_eq!(
        (j["indication"].as_str(), j["subindication"].as_str()),
        (Some("TOTAL-FAILED"), Some("REVOKED")),
        "{j}"
    );
    // And kyso refuses to extend a signature that does not validate.
    let r = demo.run(&[
        "extend",
        "--level",
        "B-LT",
        "--offline",
        "--trust",
        &pki.s("root.pem"),
        "--trust",
        demo.ca_pem().to_str().unwrap(),
        with_crl.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("REVOKED"), "{}", r.stderr);
}

#[test]
fn kyso_accepts_pyhankos_b_lta_and_renewal_outlives_the_first_tsa() {
    let demo = Demo::new();
    let mut pki = Pki::new();
    // pyHanko signs B-LTA with the PKI's signer and TSA, fetching from the responders.
    let py = demo.path().join("py-lta.pdf");
    succeeded(
        Command::new(python())
            .arg(script("pyhanko_lta.py"))
            .arg(pki.dir.path())
            .arg(fixture("giay-phep.pdf"))
            .arg(&py),
    );
    pki.stop();
    let j = verify(&demo, &pki, &py, None);
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
    assert_eq!(verdicts(&j)[0].0, "PAdES-B-LTA");
    let j = verify(&demo, &pki, &py, Some("+730d"));
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");

    // A kyso B-LTA whose document time-stamp comes from the demo TSA (its certificate ends
    // within three years), renewed with a TSA whose certificate lasts ten.
    pki.start();
    import_signer(&demo, &pki);
    import(&demo, &pki, "tsa-lt", "7473", "tsa.key.pem", "tsa.pem");
    let pdf = giay_phep(&demo);
    let trust = [
        "--trust".to_string(),
        pki.s("root.pem"),
        "--trust".to_string(),
        demo.ca_pem().display().to_string(),
    ];
    let mut args = vec![
        "sign",
        "--level",
        "B-LTA",
        "--tsa",
        "internal",
        "--tsa-key",
        "pkcs11:token=kyso-dev;object=tsa",
        "--key",
        LT_KEY,
        "--certs",
    ];
    let ca = pki.s("ca.pem");
    args.push(&ca);
    args.extend(trust.iter().map(String::as_str));
    args.push(pdf.to_str().unwrap());
    let r = demo.run_pin(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let signed = demo.path().join("giay-phep.signed.pdf");
    let renewed = demo.path().join("renewed.pdf");
    let mut args = vec![
        "extend",
        "--level",
        "B-LTA",
        "--renew",
        "--tsa",
        "internal",
        "--tsa-key",
        "pkcs11:token=kyso-dev;object=tsa-lt",
        "--out",
    ];
    let renewed_s = renewed.display().to_string();
    args.push(&renewed_s);
    args.extend(trust.iter().map(String::as_str));
    args.push(signed.to_str().unwrap());
    let r = demo.run_pin(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    pki.stop();
    // Four years on, the demo TSA's certificate has expired: only the renewal keeps it.
    let old = verify(&demo, &pki, &signed, Some("+1500d"));
    assert_eq!(old["indication"], "INDETERMINATE", "{old}");
    let new = verify(&demo, &pki, &renewed, Some("+1500d"));
    assert_eq!(new["indication"], "TOTAL-PASSED", "{new}");
    assert_eq!(
        verdicts(&new),
        [
            ("PAdES-B-LTA".into(), "TOTAL-PASSED".into()),
            ("PAdES document time-stamp".into(), "TOTAL-PASSED".into()),
            ("PAdES document time-stamp".into(), "TOTAL-PASSED".into())
        ]
    );
}

#[test]
fn cades_b_lt_and_b_lta_stay_valid_for_openssl_and_after_expiry_and_a_removed_certificate_is_caught(
) {
    let demo = Demo::new();
    let mut pki = Pki::new();
    import_signer(&demo, &pki);
    import(&demo, &pki, "tsa-lt", "7473", "tsa.key.pem", "tsa.pem");
    let doc = demo.path().join("quyet-dinh.txt");
    std::fs::write(&doc, "Quyết định số 123/QĐ-UBND — bản điện tử\n").unwrap();
    let sign = |mode: &str, level: &str, out: &str| {
        let r = demo.run_pin(&[
            "sign",
            "--format",
            "cades",
            mode,
            "--level",
            level,
            "--tsa",
            "internal",
            "--tsa-key",
            "pkcs11:token=kyso-dev;object=tsa-lt",
            "--key",
            LT_KEY,
            "--certs",
            &pki.s("ca.pem"),
            "--trust",
            &pki.s("root.pem"),
            "--out-dir",
            &demo.path().join(out).display().to_string(),
            doc.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{mode} {level}: {}", r.stderr);
    };
    sign("--detached", "B-LT", "lt");
    sign("--detached", "B-LTA", "lta");
    sign("--attached", "B-LTA", "lta");
    let p7s_lt = demo.path().join("lt/quyet-dinh.txt.p7s");
    let p7s = demo.path().join("lta/quyet-dinh.txt.p7s");
    let p7m = demo.path().join("lta/quyet-dinh.txt.p7m");
    // OpenSSL still verifies them: the validation data and archive time-stamps are in places
    // (SignedData.certificates/crls, unsigned attributes) a CMS verifier does not mind.
    for (sig, content) in [(&p7s_lt, Some(&doc)), (&p7s, Some(&doc)), (&p7m, None)] {
        let mut args = vec![
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any",
        ];
        let (s, c, ca) = (
            sig.display().to_string(),
            content.map(|c| c.display().to_string()),
            pki.s("root.pem"),
        );
        args.extend(["-in", &s, "-CAfile", &ca, "-out", "/dev/null"]);
        if let Some(c) = &c {
            args.extend(["-content", c]);
        }
        let r = openssl(&args);
        assert_eq!(r.code, 0, "{}: {}", s, r.stderr);
    }
    pki.stop();
    let check = |sig: &Path, detached: bool, faketime: Option<&str>| -> serde_json::Value {
        let mut c = match faketime {
            Some(f) => {
                let mut c = Command::new("faketime");
                c.args(["-f", f, kyso_bin()]);
                c
            }
            None => kyso_cmd(),
        };
        c.args([
            "verify",
            "--offline",
            "--json",
            "--trust",
            &pki.s("root.pem"),
        ]);
        if detached {
            c.arg(&doc).arg("--detached");
        }
        let r: Run = c.arg(sig).output().unwrap().into();
        r.json()
    };
    let j = check(&p7s_lt, true, None);
    assert_eq!(
        verdicts(&j),
        [("CAdES-B-LT".into(), "TOTAL-PASSED".into())],
        "{j}"
    );
    for (sig, detached) in [(&p7s, true), (&p7m, false)] {
        let j = check(sig, detached, None);
        assert_eq!(
            verdicts(&j),
            [("CAdES-B-LTA".into(), "TOTAL-PASSED".into())],
            "{j}"
        );
        // Two years on, the signer's certificate has expired; nothing answers.
        let j = check(sig, detached, Some("+730d"));
        assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
    }
    // Renewal adds a second archive time-stamp over the first.
    let r = demo.run_pin(&[
        "extend",
        "--level",
        "B-LTA",
        "--renew",
        "--offline",
        "--tsa",
        "internal",
        "--tsa-key",
        "pkcs11:token=kyso-dev;object=tsa-lt",
        "--trust",
        &pki.s("root.pem"),
        p7m.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = check(&p7m, false, None);
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
    assert!(
        j["signatures"][0]["messages"]
            .to_string()
            .contains("archive time-stamp 2"),
        "{j}"
    );
    // An archivist's copy loses a certificate the archive time-stamps covered (asn1crypto
    // drops the issuing CA from SignedData.certificates): caught, and not TOTAL-PASSED.
    let cut = demo.path().join("cut.p7m");
    let drop_ca = "import sys\n\
from asn1crypto import cms\n\
ci = cms.ContentInfo.load(open(sys.argv[1], 'rb').read())\n\
sd = ci['content']\n\
certs = [c for c in sd['certificates'] if 'Issuing CA' not in c.chosen.subject.human_friendly]\n\
sd['certificates'] = certs\n\
open(sys.argv[2], 'wb').write(ci.dump(force=True))\n";
    succeeded(
        Command::new(python())
            .args(["-c", drop_ca])
            .arg(&p7m)
            .arg(&cut),
    );
    let j = check(&cut, false, None);
    assert_ne!(j["indication"], "TOTAL-PASSED", "{j}");
    assert!(
        j.to_string()
            .contains("the archive time-stamp covered was removed"),
        "{j}"
    );
}

#[test]
fn the_archive_keeps_the_validation_data_of_a_b_b_document_it_receives() {
    // Another agency sends a B-B PDF: no validation data inside. The clerk archives it offline
    // with the CA's CRLs at hand; the record keeps them and the certificates of the path.
    let demo = Demo::new();
    let mut pki = Pki::new();
    import_signer(&demo, &pki);
    pki.stop();
    let pdf = giay_phep(&demo);
    let r = demo.run_pin(&[
        "sign",
        "--key",
        LT_KEY,
        "--certs",
        &pki.s("ca.pem"),
        "--out-dir",
        &demo.path().join("bb").display().to_string(),
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let signed = demo.path().join("bb/giay-phep.signed.pdf");
    let db = demo.path().join("archive").display().to_string();
    let r = demo.run(&[
        "archive",
        "put",
        "--db",
        &db,
        "--code",
        "001099012345.GIAY_PHEP",
        "--user",
        "canbo.motcua",
        "--offline",
        "--trust",
        &pki.s("root.pem"),
        "--crl",
        &pki.s("crl/ca.crl"),
        "--crl",
        &pki.s("crl/root.crl"),
        signed.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["indication"], "TOTAL-PASSED", "{}", r.stdout);

    let out = demo.path().join("evidence");
    let r = demo.run(&[
        "archive",
        "get",
        "--db",
        &db,
        "0",
        "--user",
        "luutru",
        "--purpose",
        "kiểm tra chứng cứ",
        "--validation-data-out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let v = &j["validation_data"];
    assert_eq!(v["mode"], "offline", "{j}");
    assert!(v["gathered"].as_str().unwrap().ends_with('Z'), "{j}");
    // The CA's CRL (the signer's status) is kept as given, byte for byte; the certificates of
    // the path (signer, CA, root) too, each readable and matching its SHA-256.
    let ca_crl = std::fs::read(pki.path("crl/ca.crl")).unwrap();
    let sha = |b: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b));
    let crls: Vec<&str> = v["crls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["sha256"].as_str().unwrap())
        .collect();
    assert!(crls.contains(&sha(&ca_crl).as_str()), "{j}");
    assert_eq!(
        std::fs::read(out.join(format!("crl-{}.der", sha(&ca_crl)))).unwrap(),
        ca_crl
    );
    let certs = v["certificates"].as_array().unwrap();
    assert!(certs.len() >= 3, "signer, CA and root: {j}");
    let pem_der = |f: &str| {
        let text = std::fs::read_to_string(pki.path(f)).unwrap();
        let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
    };
    for f in ["signer.pem", "ca.pem", "root.pem"] {
        let der = pem_der(f);
        let name = format!("certificate-{}.der", sha(&der));
        assert_eq!(std::fs::read(out.join(&name)).unwrap(), der, "{f}");
    }
    for b in certs.iter().chain(v["crls"].as_array().unwrap()) {
        let kind = if certs.contains(b) {
            "certificate"
        } else {
            "crl"
        };
        let f = out.join(format!("{kind}-{}.der", b["sha256"].as_str().unwrap()));
        assert_eq!(
            std::fs::metadata(f).unwrap().len(),
            b["size"].as_u64().unwrap()
        );
    }
    // The read was logged, as a read of the validation data.
    let p = demo.run(&[
        "log",
        "prove",
        "--db",
        &db,
        "--leaf",
        "1",
        "--user",
        "kiemtra",
        "--purpose",
        "test",
    ]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let e: serde_json::Value = serde_json::from_str(p.json()["event"].as_str().unwrap()).unwrap();
    assert_eq!(e["part"], "validation_data", "{e}");
    assert_eq!(e["user"], "luutru", "{e}");

    // Into the same folder again: the files there are these items, kept. A link planted under
    // an item's name is refused, not written through (it was `fs::write`; 2026-12-05).
    let again = |demo: &Demo| {
        demo.run(&[
            "archive",
            "get",
            "--db",
            &db,
            "0",
            "--user",
            "luutru",
            "--purpose",
            "kiểm tra chứng cứ",
            "--validation-data-out",
            out.to_str().unwrap(),
        ])
    };
    let r = again(&demo);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let name = format!("crl-{}.der", sha(&ca_crl));
    let victim = demo.path().join("victim.txt");
    std::fs::write(&victim, "không được ghi đè").unwrap();
    std::fs::remove_file(out.join(&name)).unwrap();
    std::os::unix::fs::symlink(&victim, out.join(&name)).unwrap();
    let r = again(&demo);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("exists and is not this item; not replaced"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "không được ghi đè"
    );
}

/// A signature with no time-stamp (B-B — as most government PDFs are signed) is given its
/// trusted time when extended: a document time-stamp over a PDF signature (EN 319 142-1 §6.3
/// lets one serve), a signature-time-stamp on a CMS SignerInfo; without a time-stamping
/// authority the command refuses. The document time-stamp is the signature's proof of
/// existence: two years on, its certificate expired, it still verifies. (A B-B signature
/// "extended" stayed B-B while the command said it had reached the level; a new user's
/// reading, 2026-12-04.)
#[test]
fn a_signature_without_a_time_stamp_gets_its_trusted_time_when_extended() {
    let (demo, mut pki) = (Demo::new(), Pki::new());
    import_signer(&demo, &pki);
    let pdf = giay_phep(&demo);
    let doc = demo.path().join("quyet-dinh.txt");
    std::fs::write(&doc, "Quyết định số 124/QĐ-UBND\n").unwrap();
    for (format, file) in [("pades", &pdf), ("cades", &doc)] {
        let r = demo.run_pin(&[
            "sign",
            "--format",
            format,
            "--key",
            LT_KEY,
            "--certs",
            &pki.s("ca.pem"),
            "--trust",
            &pki.s("root.pem"),
            "--out-dir",
            &demo.path().join("bb").display().to_string(),
            file.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let signed_pdf = demo.path().join("bb/giay-phep.signed.pdf");
    let signed_p7s = demo.path().join("bb/quyet-dinh.txt.p7s");
    let extend = |file: &Path, level: &str, tsa: bool, out: &Path| {
        let mut args = vec![
            "extend".to_string(),
            "--level".into(),
            level.into(),
            "--json".into(),
            "--trust".into(),
            pki.s("root.pem"),
            "--trust".into(),
            demo.ca_pem().display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ];
        if tsa {
            args.extend([
                "--tsa".into(),
                "internal".into(),
                "--tsa-key".into(),
                "pkcs11:token=kyso-dev;object=tsa".into(),
            ]);
        }
        if file.extension().is_some_and(|e| e == "p7s") {
            args.extend(["--content".into(), doc.display().to_string()]);
        }
        args.push(file.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        demo.run_pin(&args)
    };
    // No time-stamping authority: refused, saying what is missing; nothing written.
    for file in [&signed_pdf, &signed_p7s] {
        let out = demo.path().join("refused.out");
        let r = extend(file, "B-LT", false, &out);
        assert_eq!(r.code, 5, "{}", r.stderr);
        assert!(r.stderr.contains("has no time-stamp:"), "{}", r.stderr);
        assert!(!out.exists());
    }
    // PDF: B-LT is a document time-stamp (its trusted time), then the DSS; B-LTA one more
    // document time-stamp over that DSS.
    let lt = demo.path().join("lt.pdf");
    let r = extend(&signed_pdf, "B-LT", true, &lt);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["level"], "B-LT", "{}", r.stdout);
    let stamp = || {
        (
            "PAdES document time-stamp".to_string(),
            "TOTAL-PASSED".to_string(),
        )
    };
    let j = verify(&demo, &pki, &lt, None);
    assert_eq!(
        verdicts(&j),
        [("PAdES-B-LT".into(), "TOTAL-PASSED".into()), stamp()],
        "{j}"
    );
    assert_eq!(j["signatures"][0]["facts"]["time_proven"], true, "{j}");
    let lta = demo.path().join("lta.pdf");
    let r = extend(&signed_pdf, "B-LTA", true, &lta);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = verify(&demo, &pki, &lta, None);
    assert_eq!(
        verdicts(&j),
        [
            ("PAdES-B-LTA".into(), "TOTAL-PASSED".into()),
            stamp(),
            stamp()
        ],
        "{j}"
    );
    // pyHanko judges the extended file valid too.
    let out = Command::new(pyhanko())
        .args(["sign", "validate", "--pretty-print", "--trust"])
        .arg(pki.path("root.pem"))
        .arg("--trust")
        .arg(demo.ca_pem())
        .arg(&lta)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("The signature is judged VALID"), "{text}");
    // CMS: a signature-time-stamp on the SignerInfo, then the validation data; OpenSSL still
    // verifies it.
    let p7s = demo.path().join("lt.p7s");
    let r = extend(&signed_p7s, "B-LT", true, &p7s);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (s, c, ca) = (
        p7s.display().to_string(),
        doc.display().to_string(),
        pki.s("root.pem"),
    );
    let r = openssl(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-purpose",
        "any",
        "-in",
        &s,
        "-content",
        &c,
        "-CAfile",
        &ca,
        "-out",
        "/dev/null",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r: Run = kyso_cmd()
        .args(["verify", "--offline", "--json", "--trust"])
        .arg(pki.path("root.pem"))
        .arg("--trust")
        .arg(demo.ca_pem())
        .arg(&doc)
        .arg("--detached")
        .arg(&p7s)
        .output()
        .unwrap()
        .into();
    assert_eq!(
        verdicts(&r.json()),
        [("CAdES-B-LT".into(), "TOTAL-PASSED".into())],
        "{}",
        r.stdout
    );
    // A plain CMS signature (OpenSSL's, no CAdES attributes: no baseline level to reach) gets
    // its time-stamp too, and the command says what the file now is (it was extended with no
    // time at all, and reported "B-LT"; an attacker's reading, 2026-12-04).
    let plain = demo.path().join("plain.p7s");
    let (key, cert) = (pki.s("signer.key.pem"), pki.s("signer.pem"));
    let (plain_s, ca_s) = (plain.display().to_string(), pki.s("ca.pem"));
    let r = openssl(&[
        "cms",
        "-sign",
        "-binary",
        "-outform",
        "DER",
        "-in",
        &c,
        "-signer",
        &cert,
        "-inkey",
        &key,
        "-certfile",
        &ca_s,
        "-out",
        &plain_s,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let extended = demo.path().join("plain-lt.p7s");
    let r = extend(&plain, "B-LT", true, &extended);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json()["signatures"],
        serde_json::json!(["CMS"]),
        "{}",
        r.stdout
    );
    let r: Run = kyso_cmd()
        .args(["verify", "--offline", "--json", "--trust"])
        .arg(pki.path("root.pem"))
        .arg("--trust")
        .arg(demo.ca_pem())
        .arg(&doc)
        .arg("--detached")
        .arg(&extended)
        .output()
        .unwrap()
        .into();
    let j = r.json();
    assert_eq!(j["signatures"][0]["facts"]["time_proven"], true, "{j}");
    assert!(j["signatures"][0]["timestamp"].is_string(), "{j}");
    // Two years on: the signer's certificate has expired and nothing answers. The document
    // time-stamp proves the B-B signature existed while it was valid; the file as signed has
    // nothing to prove it.
    pki.stop();
    let j = verify(&demo, &pki, &lta, Some("+730d"));
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
    let j = verify(&demo, &pki, &signed_pdf, Some("+730d"));
    assert_eq!(j["indication"], "INDETERMINATE", "{j}");
}

/// A B-B signature whose trusted time is a document time-stamp (pyHanko's, from a TSA a
/// script makes) rests on that time-stamp's validation data too: a DSS holding only the
/// signer's path is not B-LT, one that also holds the TSA's is, and a second time-stamp over
/// it makes B-LTA. (The signer's data alone made it "B-LT", and a time-stamp on top "B-LTA",
/// though the TSA's certificate was in no DSS; an attacker's reading, 2026-12-04.)
#[test]
fn a_document_time_stamp_that_gives_a_signature_its_time_must_have_its_data_for_b_lt() {
    let demo = Demo::new();
    let pdf = giay_phep(&demo);
    let r = demo.run_pin(&[
        "sign",
        "--key",
        EC_KEY,
        "--out-dir",
        demo.path().to_str().unwrap(),
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    succeeded(
        Command::new(python())
            .arg(script("doc_ts_dss.py"))
            .arg(demo.path().join("giay-phep.signed.pdf"))
            .arg(demo.path().join("signer-ec.pem"))
            .arg(demo.ca_pem())
            .arg(demo.path()),
    );
    let format_of = |file: &str| {
        let r: Run = kyso_cmd()
            .args(["verify", "--offline", "--json", "--trust"])
            .arg(demo.ca_pem())
            .arg("--trust")
            .arg(demo.path().join("tsa-root.pem"))
            .arg(demo.path().join(file))
            .output()
            .unwrap()
            .into();
        let j = r.json();
        assert_eq!(j["indication"], "TOTAL-PASSED", "{file}: {j}");
        j["signatures"][0]["format"].as_str().unwrap().to_string()
    };
    assert_eq!(format_of("bt.pdf"), "PAdES-B-T");
    assert_eq!(format_of("lt.pdf"), "PAdES-B-LT");
    assert_eq!(format_of("lta.pdf"), "PAdES-B-LTA");
    // A signer with no path to a trusted root has no data of its own to hold: the
    // time-stamps' alone do not make it B-LT or B-LTA (they did; helper 125).
    let r: Run = kyso_cmd()
        .args(["verify", "--offline", "--json", "--trust"])
        .arg(demo.path().join("tsa-root.pem"))
        .arg(demo.path().join("lta.pdf"))
        .output()
        .unwrap()
        .into();
    let j = r.json();
    assert_eq!(j["indication"], "INDETERMINATE", "{j}");
    assert_eq!(j["signatures"][0]["format"], "PAdES-B-T", "{j}");
}

/// A hold lifted by the control time keeps its evidence when a signature is extended: the
/// delta listing the hold and the delta lifting it go into the DSS beside the complete CRL.
/// Kept without them, the B-LT file turned INDETERMINATE when anyone added the genuine hold
/// delta later (helper 159). The document and deltas are pyHanko's and pyca's
/// (tests/corpus/attacks_delta.py).
#[test]
fn a_lifted_hold_keeps_its_evidence_when_a_signature_is_extended() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let case = corpus.join("delta-hold-lifted-by-remove-from-crl");
    let root = corpus.join("pki/d-root.pem");
    let out = tempfile::tempdir().unwrap();
    let lt = out.path().join("lt.pdf");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let r: Run = kyso_cmd()
        .args([
            "extend",
            "--level",
            "B-LT",
            "--offline",
            "--trust",
            &s(&root),
        ])
        .args(["--crl", &s(&case.join("hold.crl"))])
        .args(["--crl", &s(&case.join("release.crl"))])
        .args(["--out", &s(&lt), &s(&case.join("base.pdf"))])
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The hold delta given again, as anyone may add it to the file: the lift is in the file.
    let r: Run = kyso_cmd()
        .args([
            "verify",
            &s(&lt),
            "--offline",
            "--json",
            "--trust",
            &s(&root),
        ])
        .args(["--crl", &s(&case.join("hold.crl"))])
        .output()
        .unwrap()
        .into();
    let j = r.json();
    assert_eq!(j["indication"], "TOTAL-PASSED", "{j}");
}

/// An extension never writes over what a signature covers, nor reads a DSS without bounds
/// (helper 175; each document made by tests/hostile/dss_targets.py with pyHanko's writer from a
/// kyso B-T): a /DSS naming the signature dictionary had the new DSS written over it — the
/// signature then failed, and `kyso extend` said "extended"; one 1 MiB stream listed 2,000
/// times in /Certs took the extension to 2 GB, 20,000 times past 20 GB; after 10,000 junk
/// entries what it added was never read, and it said "extended" (helper 177). Each now extends
/// to a B-LT that validates. And `--out` replaces no file without `--overwrite`.
#[test]
fn an_extension_never_writes_over_what_a_signature_covers_nor_reads_a_dss_without_bounds() {
    let demo = Demo::new();
    let pdf = giay_phep(&demo);
    let r = demo.run_pin(&[
        "sign",
        "--level",
        "B-T",
        "--tsa",
        "internal",
        "--tsa-key",
        TSA_KEY,
        "--key",
        RSA_KEY,
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cases = demo.path().join("dss");
    hostile(
        "dss_targets.py",
        &[
            demo.path().join("giay-phep.signed.pdf").as_os_str(),
            cases.as_os_str(),
        ],
    );
    let ca = demo.ca_pem();
    let extend = |name: &str, more: &[&str]| -> Run {
        let mut c = demo.cmd();
        c.args(["extend", "--level", "B-LT", "--trust"])
            .arg(&ca)
            .arg("--out")
            .arg(cases.join(format!("{name}.lt.pdf")))
            .args(more)
            .arg(cases.join(format!("{name}.pdf")));
        c.output().unwrap().into()
    };
    for name in ["page", "sigdict", "many", "huge", "fill"] {
        let r = extend(name, &[]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let j: Run = demo
            .cmd()
            .args(["verify", "--offline", "--json", "--trust"])
            .arg(&ca)
            .arg(cases.join(format!("{name}.lt.pdf")))
            .output()
            .unwrap()
            .into();
        let j = j.json();
        assert_eq!(j["indication"], "TOTAL-PASSED", "{name}: {j}");
        assert_eq!(j["signatures"][0]["format"], "PAdES-B-LT", "{name}: {j}");
    }
    // Flate bombs put first in /Certs spend the decoding budget before kyso's own items:
    // each renewal then added the same validation data again (helper 179). Known by their
    // bytes as written, nothing is added twice.
    let lta = cases.join("page.lta.pdf");
    let to_lta = |from: &Path, to: &Path, renew: bool| {
        let mut args = vec!["extend", "--level", "B-LTA", "--tsa", "internal"];
        args.extend(["--tsa-key", TSA_KEY, "--trust", ca.to_str().unwrap()]);
        args.extend(renew.then_some("--renew"));
        args.extend(["--out", to.to_str().unwrap(), from.to_str().unwrap()]);
        let r = demo.run_pin(&args);
        assert_eq!(
            r.code,
            0,
            "{} -> {}: {}",
            from.display(),
            to.display(),
            r.stderr
        );
    };
    to_lta(&cases.join("page.lt.pdf"), &lta, false);
    let bombed = cases.join("bombed.pdf");
    hostile(
        "dss_targets.py",
        &["bombs".as_ref(), lta.as_os_str(), bombed.as_os_str()],
    );
    let count = |f: &Path| {
        let o = Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/dss_targets.py"))
            .arg("count")
            .arg(f)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let before = count(&bombed);
    let mut last = bombed.clone();
    for n in 1..=2 {
        let next = cases.join(format!("renewed-{n}.pdf"));
        to_lta(&last, &next, true);
        assert_eq!(
            count(&next),
            before,
            "renewal {n} added validation data again"
        );
        last = next;
    }
    // An existing file --out names: not replaced without --overwrite.
    let before = std::fs::read(cases.join("page.lt.pdf")).unwrap();
    let r = extend("page", &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr.contains("exists; not replaced (use --overwrite)"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(cases.join("page.lt.pdf")).unwrap(), before);
    let r = extend("page", &["--overwrite"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// What `kyso extend` must take to B-LTA without `--renew` (helper 244, 2026-12-06; made by
/// pyHanko, OpenSSL and asn1crypto): pyHanko's PAdES-B-T with a document time-stamp and no
/// DSS (the DSS written after that time-stamp was covered by none, and the extension refused
/// "the validation data it rests on did not all go into it"), and a CAdES signature carrying a
/// signature-time-stamp attribute of no value — an edit anyone can make — which was taken for a
/// time-stamp, so none was added and both levels were refused.
#[test]
fn extend_takes_a_document_time_stamp_before_any_dss_and_an_empty_time_stamp_attribute_to_b_lta() {
    let demo = Demo::new();
    let d = demo.path().join("inputs");
    hostile("cms_attacks.py", &["extend-inputs".as_ref(), d.as_os_str()]);
    let p = |f: &str| d.join(f).display().to_string();
    for (file, level, want) in [
        ("bt-docts.pdf", "B-LTA", "(PAdES-B-LTA"),
        ("empty-ts.p7s", "B-LT", "(CAdES-B-LT)"),
        ("empty-ts.p7s", "B-LTA", "(CAdES-B-LTA)"),
    ] {
        let out = p(&format!("out-{level}-{file}"));
        let (root, ca, crl, input) = (
            p("root.pem"),
            demo.ca_pem().display().to_string(),
            p("root.crl"),
            p(file),
        );
        let content = p("doc.txt");
        let mut args = vec![
            "extend",
            "--level",
            level,
            "--offline",
            "--trust",
            &root,
            "--trust",
            &ca,
            "--crl",
            &crl,
            "--tsa",
            "internal",
            "--tsa-key",
            TSA_KEY,
            "--out",
            &out,
        ];
        if file.ends_with(".p7s") {
            args.extend(["--content", content.as_str()]);
        }
        args.push(&input);
        let r = demo.run_pin(&args);
        assert_eq!(r.code, 0, "{file} {level}: {}", r.stderr);
        let said = format!("{}{}", r.stdout, r.stderr);
        assert!(said.contains(want), "{file} {level}: {said}");
    }
}
