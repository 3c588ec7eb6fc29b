//! Who may call what: every route of the served OpenAPI document, tried with every role (as an
//! API token and as an agency certificate), with no credential, a wrong token, an expired and
//! an untrusted client certificate. The spec validates with a validator we did not write, and
//! docs/api.md's table says what the spec says.

mod serve_support;

use serde_json::json;
use serve_support::common::succeeded;
use serve_support::*;
use std::collections::BTreeMap;

/// (method, path, roles) for every operation of the served spec.
fn operations(spec: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let roles = op["x-kyso-roles"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} has no x-kyso-roles"))
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect();
            out.push((method.to_uppercase(), path.clone(), roles));
        }
    }
    out
}

fn call(c: &Client, method: &str, path: &str) -> u16 {
    let path = path.replace("{id}", "0");
    match method {
        "GET" => c.get(&path).status,
        // A body that passes no route's checks: an admitted caller gets a 4xx about the body,
        // never 401 or 403, and nothing is done.
        m => c.send(m, &path, "application/json", b"{}").status,
    }
}

#[test]
fn every_route_admits_exactly_its_roles_and_refuses_everyone_else() {
    let a = Appliance::start();
    let spec = a.agent(Who::Anonymous).get("/v1/openapi.json");
    assert_eq!(spec.status, 200);
    let spec = spec.json();
    let ops = operations(&spec);
    assert!(ops.len() >= 20, "{ops:?}");
    // Every answer met here is one the spec lists for its operation: a client generated from
    // it met 408, 413, 415 and 429 it did not list (a reading of the docs, 2026-12-07).
    let unlisted = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let listed = |method: &str, path: &str, s: u16| {
        let responses = &spec["paths"][path][method.to_lowercase()]["responses"];
        if responses.get(s.to_string()).is_none() {
            unlisted.borrow_mut().insert(format!("{method} {path} {s}"));
        }
    };
    let mut tried = 0;
    for (method, path, roles) in &ops {
        let public = roles.is_empty();
        // What the layers before each handler answer: listed for all, and for an operation
        // that takes a body, its limits.
        let body = !spec["paths"][path][method.to_lowercase()]["requestBody"].is_null();
        for status in [401, 408, 429] {
            listed(method, path, status);
        }
        if body {
            listed(method, path, 413);
            listed(method, path, 415);
        }
        for role in ROLES {
            for who in [Who::Token(role), Who::Cert(role)] {
                let s = call(&a.agent(who), method, path);
                listed(method, path, s);
                if public || roles.iter().any(|r| r == role) {
                    assert!(s != 401 && s != 403, "{who:?} on {method} {path}: {s}");
                } else {
                    assert_eq!(s, 403, "{who:?} on {method} {path}");
                }
                tried += 1;
            }
        }
        let s = call(&a.agent(Who::Anonymous), method, path);
        listed(method, path, s);
        if public {
            assert!(s != 401 && s != 403, "anonymous on {method} {path}: {s}");
        } else {
            assert_eq!(s, 401, "anonymous on {method} {path}");
        }
        for who in [Who::WrongToken, Who::ExpiredCert, Who::UntrustedCert] {
            assert_eq!(
                call(&a.agent(who), method, path),
                401,
                "{who:?} on {method} {path}"
            );
            tried += 1;
        }
    }
    assert!(tried > 250);
    assert!(
        unlisted.borrow().is_empty(),
        "answers the spec does not list: {:?}",
        unlisted.borrow()
    );
    // The reasons are told to the caller and logged.
    let r = a.agent(Who::ExpiredCert).get("/v1/whoami");
    assert!(
        r.json()["message"].as_str().unwrap().contains("xpired"),
        "{}",
        r.text()
    );
    let r = a.agent(Who::UntrustedCert).get("/v1/whoami");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("not accepted"),
        "{}",
        r.text()
    );
    let log = a.service_log();
    assert!(log.contains("client certificate refused"), "{log}");
    assert!(log.contains("\"status\":403"), "{log}");
    // A caller refused for its role is named in the access log's request line, as it is in
    // the refusal's own line.
    let refused: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"message\":\"request\"") && l.contains("\"status\":403"))
        .collect();
    assert!(!refused.is_empty(), "{log}");
    for l in &refused {
        assert!(!l.contains("\"user\":\"-\""), "{l}");
    }
    // Secrets never reach the log.
    assert!(!log.contains(&a.demo.pin()), "the PIN is in the log");
    for r in ROLES {
        assert!(!log.contains(a.token(r)), "a token is in the log");
    }
}

#[test]
fn the_caller_is_who_its_credential_says_and_no_one_else() {
    let a = Appliance::start();
    for (who, user, method) in [
        (Who::Cert("clerk"), "clerk-agency", "certificate"),
        (Who::Token("clerk"), "clerk-script", "token"),
        (Who::Cert("verifier"), "verifier-agency", "certificate"),
    ] {
        let r = a.agent(who).get("/v1/whoami");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["user"], user);
        assert_eq!(r.json()["method"], method);
    }
    // A certificate and a token at once: refused, whichever they name.
    let mut both = a.agent(Who::Cert("clerk"));
    both.bearer = Some(a.token("admin").to_string());
    assert_eq!(both.get("/v1/whoami").status, 401);
    // Two tokens, in two Authorization headers: which one speaks would be each reader's
    // guess (the service took the first; a proxy in front may check the last), so neither.
    let verifier = a.agent(Who::Token("verifier"));
    let second = format!("Bearer {}", a.token("clerk"));
    let r = verifier.get_with("/v1/whoami", &[("Authorization", second.as_str())]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(
        r.text().contains("more than one Authorization header"),
        "{}",
        r.text()
    );
    assert_eq!(verifier.get("/v1/whoami").json()["user"], "verifier-script");
    // A body cannot name another user: unknown fields are refused.
    let clerk = a.agent(Who::Cert("clerk"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "content": b64(&pdf), "user": "chu-tich-ubnd"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    // Headers that name a user are not read either.
    let r = clerk
        .agent
        .post(format!("{}/v1/records", clerk.base))
        .header("Content-Type", "application/json")
        .header("X-Forwarded-User", "chu-tich-ubnd")
        .header("X-Remote-User", "chu-tich-ubnd")
        .send(json!({"code": "001099012345.GPXD", "content": b64(&pdf)}).to_string())
        .unwrap();
    assert_eq!(r.status(), 201);
    let auditor = a.agent(Who::Token("auditor"));
    let e = auditor.get("/v1/log/entries?start=0&end=1").json();
    let ev: serde_json::Value =
        serde_json::from_str(e["entries"][0]["event"].as_str().unwrap()).unwrap();
    assert_eq!(ev["user"], "clerk-agency");
}

#[test]
fn the_openapi_document_is_valid_openapi_3_1_and_docs_api_md_lists_the_same_roles() {
    let a = Appliance::start();
    let r = a.agent(Who::Anonymous).get("/v1/openapi.json");
    let spec = r.json();
    assert_eq!(spec["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    let file = a.dir.path().join("openapi.json");
    std::fs::write(&file, &r.body).unwrap();
    let validator = std::env::var_os("KYSO_OPENAPI_VALIDATOR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap())
                .join(".cache/kyso/venv/bin/openapi-spec-validator")
        });
    let out = std::process::Command::new(&validator)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} not runnable ({e}); deploy/test installs it",
                validator.display()
            )
        });
    assert!(
        out.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Bytes are bytes: no body is described as a JSON array of integers (how a Vec<u8> came
    // out, so a generated client sent one), and every content type a route takes or answers
    // is listed (helper 216).
    let mut bodies = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let mut contents = vec![(
                format!("{method} {path} request"),
                &op["requestBody"]["content"],
            )];
            for (status, r) in op["responses"].as_object().into_iter().flatten() {
                contents.push((format!("{method} {path} {status}"), &r["content"]));
            }
            for (what, content) in contents {
                for (ct, media) in content.as_object().into_iter().flatten() {
                    let items = &media["schema"]["items"]["type"];
                    assert!(
                        !(media["schema"]["type"] == "array" && items == "integer"),
                        "{what} {ct}: bytes described as an array of integers"
                    );
                    bodies.push(format!("{what} {ct}"));
                }
            }
        }
    }
    for listed in [
        "post /v1/verify request application/pdf",
        "post /v1/verify request application/pkcs7-mime",
        "post /v1/verify request application/pkcs7-signature",
        "post /v1/verify request application/octet-stream",
        "get /v1/records/{id}/content 200 application/pdf",
        "get /v1/records/{id}/content 200 application/pkcs7-mime",
        "get /v1/stats 200 application/json",
        "get /v1/stats 200 text/csv; charset=utf-8",
        "post /v1/timestamp 200 application/timestamp-reply",
    ] {
        assert!(bodies.iter().any(|b| b == listed), "{listed}: {bodies:#?}");
    }
    // docs/api.md's table, parsed, equals the spec's roles.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    let mut table = BTreeMap::new();
    for line in doc.lines() {
        let Some(rest) = line.strip_prefix("| `") else {
            continue;
        };
        let (route, roles) = rest.split_once("` | ").unwrap();
        if !["GET ", "POST ", "PUT ", "DELETE "]
            .iter()
            .any(|m| route.starts_with(m))
        {
            continue; // another table (the error codes)
        }
        let roles: Vec<String> = match roles.trim_end_matches(" |").trim() {
            "public" => vec![],
            r => r.split(", ").map(str::to_string).collect(),
        };
        table.insert(route.to_string(), roles);
    }
    let from_spec: BTreeMap<String, Vec<String>> = operations(&spec)
        .into_iter()
        .map(|(m, p, r)| (format!("{m} {p}"), r))
        .collect();
    assert_eq!(table, from_spec, "docs/api.md and the served spec disagree");
}

/// curl keeping one connection busy with a client certificate: `n` requests to /v1/whoami,
/// one every 300 ms.
fn busy_whoami(
    a: &Appliance,
    cert: &std::path::Path,
    key: &std::path::Path,
    n: usize,
) -> std::process::Child {
    std::process::Command::new("curl")
        .args([
            "-sS",
            "--rate",
            "200/m",
            "-w",
            "\nCODE %{http_code}\n",
            "--cacert",
        ])
        .arg(a.server_ca_pem())
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .args(std::iter::repeat_n(format!("{}/v1/whoami", a.base), n))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The status of each answer [`busy_whoami`] got, in order.
fn status_codes(busy: std::process::Child) -> Vec<String> {
    let out = busy.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("CODE ").map(str::to_string))
        .collect()
}

/// `kyso serve --check --config CONFIG` with the appliance's demo token: (exit code, stderr).
fn serve_check(a: &Appliance, config: &std::path::Path) -> (Option<i32>, String) {
    let o = a
        .demo
        .cmd()
        .args(["serve", "--check", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The service has logged `line`.
fn assert_logged(a: &Appliance, line: &str) {
    let log = a.service_log();
    assert!(log.contains(line), "no {line:?}: {log}");
}

/// Waits (30 s at most, for two loaded cores) until the service has logged `line` at least
/// `n` times. (A wait that timed out on 2026-12-05 was a service ended by a SIGHUP sent before
/// its handler was installed, fixed in src/serve/server.rs, not a slow reload.)
fn wait_logged(a: &Appliance, line: &str, n: usize) {
    let t = std::time::Instant::now();
    while a.service_log().matches(line).count() < n {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "no {line:?} ×{n}: {}",
            a.service_log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_revoked_client_certificate_is_refused_and_a_subject_names_a_client_only_with_its_issuer() {
    // An agency CA and a second trusted CA, made with openssl; a CRL for each, in a directory.
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca ca1 "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA 2"
mkca ca2 "/C=VN/O=Another province (test)/CN=Another agency CA"
issue ca1 good "/C=VN/O=Sở Tư pháp (test)/OU=Phòng Một cửa/CN=Nguyễn Văn A" client -days 30
issue ca1 good2 "/C=VN/O=Sở Tư pháp (test)/CN=Trần Thị Bình" client -days 30
issue ca1 revoked "/C=VN/O=Sở Tư pháp (test)/CN=Lê Văn C" client -days 30
issue ca2 same-name "/C=VN/O=Sở Tư pháp (test)/OU=Phòng Một cửa/CN=Nguyễn Văn A" client -days 30
issue ca2 fakeca "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA 2" subca -days 30
mkdir -p fakeca.db/new; : > fakeca.db/index.txt; echo 2000 > fakeca.db/serial; echo 01 > fakeca.db/crlnumber
sed 's/ca2/fakeca/g' ca2.cnf > fakeca.cnf
issue fakeca forged "/C=VN/O=Sở Tư pháp (test)/OU=Phòng Một cửa/CN=Nguyễn Văn A" client -days 30
cat forged.pem fakeca.pem > forged-chain.pem
revoke ca1 revoked
mkdir crls
crl ca1 crls/ca1.crl
crl ca2 crls/ca2.crl
"#,
    );
    // One client named as openssl prints its subject and issuer (RFC 2253, UTF-8 as \XX
    // escapes; pasted as TOML literal strings), one as `kyso serve client-id` prints it, one by
    // fingerprint.
    let demo = serve_support::common::Demo::new();
    let id = demo.run(&["serve", "client-id", p("good2.pem").to_str().unwrap()]);
    assert_eq!(id.code, 0, "{}", id.stderr);
    let by_client_id: String = id
        .stdout
        .lines()
        .filter(|l| l.starts_with("subject") || l.starts_with("issuer"))
        .map(|l| format!("{l}\n"))
        .collect();
    let extra = vec![
        format!(
            "[[clients]]\nname = \"nguyen-van-a\"\nsubject = '{}'\nissuer = '{}'\nroles = [\"verifier\"]\n",
            openssl_subject(&p("good.pem"), "-subject"),
            openssl_subject(&p("good.pem"), "-issuer")
        ),
        format!("[[clients]]\nname = \"tran-thi-binh\"\n{by_client_id}roles = [\"verifier\"]\n"),
        format!(
            "[[clients]]\nname = \"le-van-c\"\nsha256 = \"{}\"\nroles = [\"verifier\"]\n",
            pem_sha256(&p("revoked.pem"))
        ),
    ];
    let a = Appliance::start_with(Options {
        server: vec![format!("client_crls = [{:?}]", p("crls"))],
        client_ca: vec![
            p("ca1.pem").display().to_string(),
            p("ca2.pem").display().to_string(),
        ],
        extra,
        ..Default::default()
    });
    let whoami = |name: &str| {
        curl_cert(
            &a,
            &p(&format!("{name}.pem")),
            &p(&format!("{name}.key")),
            "/v1/whoami",
        )
    };
    let (s, body) = whoami("good");
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"user\":\"nguyen-van-a\""), "{body}");
    let (s, body) = whoami("good2");
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"user\":\"tran-thi-binh\""), "{body}");
    // Revoked by its CA: refused, and told why.
    let (s, body) = whoami("revoked");
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    // Another trusted CA's certificate with the very subject of a configured client: not it.
    let (s, body) = whoami("same-name");
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("not configured"), "{body}");
    // ... nor one under a CA that CA issued with the agency CA's very name, sent with it: the
    // issuer is the key of a client CA, not its name (it was taken for the desk, its reads
    // logged as the desk's; helper 232).
    let (s, body) = curl_cert(&a, &p("forged-chain.pem"), &p("forged.key"), "/v1/whoami");
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("not configured"), "{body}");
    // A certificate of a CA without a CRL: its status is unknown, and the service requires one.
    let r = a.agent(Who::Cert("clerk")).get("/v1/whoami");
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("unknown"), "{}", r.text());
    // A client keeping one connection busy across the revocation (curl, a request every
    // 300 ms): once the CRLs are read again its connection is closed, and the next one is
    // refused. The judgement was made once per connection, and a revoked certificate kept
    // working on a connection that never went idle (found by an attacker's reading,
    // 2026-12-02).
    let busy = busy_whoami(&a, &p("good.pem"), &p("good.key"), 40);
    std::thread::sleep(std::time::Duration::from_secs(1));
    // The CA revokes a certificate in use; on SIGHUP the new CRL is read and it stops working.
    std::fs::copy(p("crls/ca1.crl"), p("ca1-before.crl")).unwrap();
    openssl_ca(pki.path(), "revoke ca1 good\ncrl ca1 crls/ca1.crl");
    unsafe_kill(a.pid(), 1);
    let t = std::time::Instant::now();
    loop {
        let (s, body) = whoami("good");
        if s == 401 {
            assert!(body.contains("revoked"), "{body}");
            break;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "still {s}: {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(whoami("good2").0, 200);
    let codes = status_codes(busy);
    assert_eq!(codes.len(), 40, "{codes:?}");
    assert_eq!(codes[0], "200", "{codes:?}");
    assert_eq!(codes[39], "401", "{codes:?}");
    let log = a.service_log();
    assert!(
        log.contains("client certificate refused now that the CRLs were read again"),
        "{log}"
    );
    assert!(log.contains("client certificate CRLs read"), "{log}");
    assert!(log.contains("SIGHUP"), "{log}");
    // The CRL of before the revocation put back (still current: a replay) un-revokes nothing
    // (it did: helper 144, 2026-12-05).
    std::fs::copy(p("ca1-before.crl"), p("crls/ca1.crl")).unwrap();
    unsafe_kill(a.pid(), 1);
    wait_logged(&a, "none read now is as new as the one in use", 1);
    // Not taken beside it either: older CRLs replayed one a tick piled up, until the one
    // revoking an agency was past the 1,024 the validator reads (helper 156).
    wait_logged(
        &a,
        "it is older (an earlier thisUpdate, or of the same second a lower CRLNumber) than the one in use of its CA and scope",
        1,
    );
    let (s, body) = whoami("good");
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    // A CRL under CA 1's name signed by another key, later than the genuine one (anyone who
    // answers the download a cron job makes): not taken, and the revoked client stays out,
    // revoked (it superseded the genuine CRL, the status became unknown, and `if_known` let
    // the client in; helper 147).
    openssl_ca(
        pki.path(),
        "mkca rogue \"/C=VN/O=Sở Tư pháp (test)/CN=Agency CA 2\"\nopenssl ca -config rogue.cnf -gencrl -crldays 30 -out crls/ca1.crl 2>/dev/null",
    );
    unsafe_kill(a.pid(), 1);
    wait_logged(
        &a,
        "it does not verify with the key of the client CA of its issuer's name",
        1,
    );
    let (s, body) = whoami("good");
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    // The refusals are logged naming the certificates by issuer and SHA-256, never by the
    // person's name (a subject named them until 2026-12-02).
    assert!(log.contains("client certificate revoked"), "{log}");
    for name in ["Lê Văn C", "Nguyễn Văn A", "Le Van C"] {
        assert!(!log.contains(name), "{name} in the service log: {log}");
    }
    // One `message` per line (the refusal's text is its `detail`): a JSON reader keeps the
    // last of two keys, and alerts matching "request refused" missed the lines.
    let refused: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("request refused"))
        .collect();
    assert!(!refused.is_empty(), "{log}");
    for l in refused {
        assert_eq!(l.matches("\"message\"").count(), 1, "{l}");
        assert!(l.contains("\"detail\""), "{l}");
    }
    // The CRL of before the revocation put back, and a restart: the client stays out (the
    // newest client CRL of each CA is kept in trust.state; a restart took the files' CRLs,
    // and the replay let the revoked agency in).
    let mut a = a;
    a.stop();
    std::fs::copy(p("ca1-before.crl"), p("crls/ca1.crl")).unwrap();
    a.launch();
    let (s, body) = curl_cert(&a, &p("good.pem"), &p("good.key"), "/v1/whoami");
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    assert_logged(
        &a,
        "none read at start is as new as the one in use before the restart",
    );
    // An entry whose issuer is no client CA's subject (an intermediate left out of
    // server.client_ca) is refused at start: its key could not be told from a look-alike's.
    a.stop();
    let config = a.dir.path().join("kyso.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let other = a.dir.path().join("issuer-elsewhere.toml");
    std::fs::write(
        &other,
        format!(
            "{text}\n[[clients]]\nname = \"intermediate\"\nsubject = \"CN=Desk\"\nissuer = \"CN=Intermediate CA,O=Elsewhere\"\nroles = [\"verifier\"]\n"
        ),
    )
    .unwrap();
    let (code, err) = serve_check(&a, &other);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(
            "client intermediate: issuer: no certificate in server.client_ca has this subject"
        ),
        "{err}"
    );
}

/// A client CRL file that a restart finds broken (a cron job's HTML error page) is logged and
/// left out: the service starts, and the CRL `trust.state` kept still keeps the revoked agency
/// out (the start failed: whoever could spoil the fetch kept the service down; helper 155).
#[test]
fn a_broken_client_crl_file_at_start_is_left_out_and_the_kept_one_still_counts() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca ca1 "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA 3"
issue ca1 gone "/C=VN/O=Sở Tư pháp (test)/CN=Agency revoked" client -days 30
revoke ca1 gone
crl ca1 ca1.crl
"#,
    );
    let extra = vec![verifier_client("gone", &p("gone.pem"))];
    let mut a = Appliance::start_with(Options {
        server: vec![format!("client_crls = [{:?}]", p("ca1.crl"))],
        client_ca: vec![p("ca1.pem").display().to_string()],
        extra,
        ..Default::default()
    });
    let refused = |a: &Appliance| {
        let (s, body) = curl_cert(a, &p("gone.pem"), &p("gone.key"), "/v1/whoami");
        assert_eq!(s, 401, "{body}");
        assert!(body.contains("revoked"), "{body}");
    };
    refused(&a);
    a.stop();
    std::fs::write(p("ca1.crl"), b"<html>502 Bad Gateway</html>").unwrap();
    a.launch();
    refused(&a);
    let log = a.service_log();
    assert!(
        log.contains("server.client_crls[0]: not read; left out"),
        "{log}"
    );
}

/// A client CA's CRL of a scope none of its CRLs in use is of is taken on SIGHUP, not at a
/// timer re-read (a file fed the CA's other genuine scopes, one a tick, grew what is kept
/// without end, until trust.state was too large for the next start; helper 155); a CA's first
/// is taken at any re-read; on SIGHUP a scope no file holds whose newest CRL expired more than
/// 30 days ago is let go.
#[test]
fn a_client_crl_of_a_new_scope_waits_for_sighup_and_one_expired_long_ago_is_let_go() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca ca1 "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA moving its CRLs"
mkca ca2 "/C=VN/O=Sở Nội vụ (test)/CN=Agency CA without a CRL yet"
printf '[crl_other]\nissuingDistributionPoint = critical,@idp_other\n[idp_other]\nfullname = URI:http://127.0.0.1:9/other.crl\n[crl_old]\nissuingDistributionPoint = critical,@idp_old\n[idp_old]\nfullname = URI:http://127.0.0.1:9/old.crl\n' >> ca1.cnf
issue ca1 moved "/C=VN/O=Sở Tư pháp (test)/CN=Agency under the new CRL" client_cdp_other -days 30
issue ca2 first "/C=VN/O=Sở Nội vụ (test)/CN=Agency of the first CRL" client -days 30
mkdir crls
FROM=$(date -u -d '-60 days' +%Y%m%d%H%M%SZ); TO=$(date -u -d '-40 days' +%Y%m%d%H%M%SZ)
openssl ca -config ca1.cnf -gencrl -crlexts crl_old -crl_lastupdate $FROM -crl_nextupdate $TO -out crls/old.crl 2>/dev/null
revoke ca1 moved
openssl ca -config ca1.cnf -gencrl -crlexts crl_other -out other.crl 2>/dev/null
revoke ca2 first
crl ca2 ca2.crl
"#,
    );
    let extra = ["moved", "first"]
        .iter()
        .map(|n| {
            format!(
                "[[clients]]\nname = \"{n}\"\nsha256 = \"{}\"\nroles = [\"verifier\"]\n",
                pem_sha256(&p(&format!("{n}.pem")))
            )
        })
        .collect();
    let a = Appliance::start_with(Options {
        server: vec![
            format!("client_crls = [{:?}]", p("crls")),
            "client_crl_reload_secs = 1".into(),
        ],
        client_ca: vec![
            p("ca1.pem").display().to_string(),
            p("ca2.pem").display().to_string(),
        ],
        extra,
        ..Default::default()
    });
    let whoami = |name: &str| {
        curl_cert(
            &a,
            &p(&format!("{name}.pem")),
            &p(&format!("{name}.key")),
            "/v1/whoami",
        )
    };
    // No CRL in use covers either: their status is unknown.
    for n in ["moved", "first"] {
        let (s, body) = whoami(n);
        assert_eq!(s, 401, "{body}");
        assert!(!body.contains("revoked"), "{body}");
    }
    // The CA moves its CRL to a new distribution point; the old one's CRL is gone; the other
    // CA's first CRL comes.
    std::fs::remove_file(p("crls/old.crl")).unwrap();
    std::fs::copy(p("other.crl"), p("crls/other.crl")).unwrap();
    std::fs::copy(p("ca2.crl"), p("crls/ca2.crl")).unwrap();
    wait_logged(&a, "not at a timer re-read", 1);
    wait_logged(&a, "client certificate CRLs read: changed", 1);
    let (s, body) = whoami("first");
    assert!(s == 401 && body.contains("revoked"), "{s} {body}");
    let (s, body) = whoami("moved");
    assert!(s == 401 && !body.contains("revoked"), "{s} {body}");
    unsafe_kill(a.pid(), 1);
    wait_logged(&a, "expired more than 30 days ago, is let go", 1);
    wait_logged(&a, "client certificate CRLs read: changed", 2);
    let (s, body) = whoami("moved");
    assert!(s == 401 && body.contains("revoked"), "{s} {body}");
}

#[test]
fn a_clerk_changes_the_status_only_of_its_own_agencys_records_and_only_to_a_version_of_the_same_document(
) {
    let other_token = "kyso_test_clerk_of_another_district";
    let a = Appliance::start_with(Options {
        extra: vec![format!(
            "[[api_tokens]]\nname = \"clerk2-other-district\"\nsha256 = \"{}\"\nroles = [\"clerk\"]\nagency = \"000.21.30.H42\"\n",
            sha256_hex(other_token.as_bytes())
        )],
        ..Default::default()
    });
    let clerk = a.agent(Who::Token("clerk"));
    let other = a.agent_with(None, Some(other_token.to_string()));
    let put = |code: &str, fixture: &str| {
        let r = clerk.post_json(
            "/v1/records",
            &json!({"code": code, "content": b64(&signed_fixture(&a, fixture))}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["record"].as_u64().unwrap()
    };
    let first = put("001099011111.GKS", "giay-phep.pdf");
    let other_citizen = put("038222222222.GPXD", "three-pages.pdf");
    let new_version = put("001099011111.GKS", "giay-phep-objstm.pdf");
    // The records carry the clerk's agency.
    let r = clerk.get(&format!("/v1/records/{first}?purpose=kiem%20tra"));
    assert_eq!(r.json()["record"]["agency"], AGENCY, "{}", r.text());
    let status = |c: &Client, id: u64, body: serde_json::Value| {
        c.put_json(&format!("/v1/records/{id}/status"), &body)
    };
    let err = |r: &Resp| r.json()["error"].as_str().unwrap_or("").to_string();
    // Another district's clerk cannot revoke them, nor supersede them, nor archive in its name.
    let r = status(&other, first, json!({"state": "revoked", "reason": "nhầm"}));
    assert_eq!(
        (r.status, err(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
    let r = status(
        &other,
        first,
        json!({"state": "superseded_by", "record": new_version}),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    // Its refusals name nothing of the record: neither its agency nor, when the other clerk
    // supersedes a record of its own by it, its citizen's code.
    let r = status(
        &other,
        first,
        json!({"state": "expired", "on": "2026-01-01"}),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!r.text().contains(AGENCY), "{}", r.text());
    let own = {
        let r = other.post_json(
            "/v1/records",
            &json!({"code": "038222222222.GKS", "content": b64(&signed_fixture(&a, "giay-phep.pdf"))}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["record"].as_u64().unwrap()
    };
    let r = status(
        &other,
        own,
        json!({"state": "superseded_by", "record": first}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "status_refused"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("001099011111"), "{}", r.text());
    assert!(!r.text().contains(AGENCY), "{}", r.text());
    let r = other.post_json(
        "/v1/records",
        &json!({"code": "001099011111.GKS", "agency": AGENCY, "content": b64(&signed_fixture(&a, "giay-phep.pdf"))}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
    // Its own clerk supersedes a citizen's record only by another version of that document.
    let r = status(
        &clerk,
        first,
        json!({"state": "superseded_by", "record": other_citizen}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "status_refused"),
        "{}",
        r.text()
    );
    let r = status(
        &clerk,
        first,
        json!({"state": "superseded_by", "record": 999}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "status_refused"),
        "{}",
        r.text()
    );
    let r = status(
        &clerk,
        first,
        json!({"state": "superseded_by", "record": new_version}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // No cycles: the new version cannot in turn be superseded by the one it replaced.
    let r = status(
        &clerk,
        new_version,
        json!({"state": "superseded_by", "record": first}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "status_refused"),
        "{}",
        r.text()
    );
    // An expiry is of a day that has come (Vietnam's day): one ahead of it read "expired" to
    // every relying party at once (helper 216).
    let r = status(
        &clerk,
        other_citizen,
        json!({"state": "expired", "on": "2999-01-01"}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (422, "status_refused"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("has not come"), "{}", r.text());
    // Dates are dates.
    for on in ["??", "2025-02-30", "2025-13-01", "20250101"] {
        let r = status(&clerk, other_citizen, json!({"state": "expired", "on": on}));
        assert_eq!(
            (r.status, err(&r).as_str()),
            (422, "invalid_json"),
            "{on}: {}",
            r.text()
        );
    }
    // The agency's archivist may too.
    let r = status(
        &a.agent(Who::Cert("archivist")),
        other_citizen,
        json!({"state": "expired", "on": "2026-01-01"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Revoked stays final.
    let r = status(
        &clerk,
        new_version,
        json!({"state": "revoked", "reason": "cấp nhầm"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = status(&clerk, new_version, json!({"state": "valid"}));
    assert_eq!((r.status, err(&r).as_str()), (409, "status_conflict"));
    // None of the other district's status changes is in the log.
    let events = log_events(&a);
    for ev in &events {
        assert!(
            ev["event"] != "status" || ev["user"] != "clerk2-other-district",
            "{ev}"
        );
    }
    assert!(
        events.len() >= 7,
        "four ingests and three status changes are logged"
    );
}

#[test]
fn remote_signing_takes_only_a_certificate_of_the_callers_official_that_may_sign_now() {
    // A document-signing CA the appliance trusts (openssl), with certificates that may not
    // sign: one for encipherment only, one expired; and a self-made "Chairman" certificate.
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca docca "/C=VN/O=kyso test documents/CN=Document CA"
issue docca encipher "/C=VN/O=UBND tỉnh (test)/CN=Only encipherment" encipher -days 30
issue docca expired "/C=VN/O=UBND tỉnh (test)/CN=Expired official" signing -startdate 20200101000000Z -enddate 20210101000000Z
openssl req -x509 -new -newkey rsa:2048 -nodes -keyout fake.key -out fake.pem -days 30 -utf8 \
  -subj "/C=VN/O=UBND tỉnh Ninh Bình/CN=Chủ tịch UBND tỉnh" 2>/dev/null
issue docca real "/C=VN/O=UBND tỉnh (test)/CN=Trần Văn Ký" signing -days 30
mkca docca2 "/C=VN/O=another licensed CA (test)/CN=Another CA"
issue docca2 lookalike "/C=VN/O=kyso test documents/CN=Document CA" subca -days 30
mkdir -p lookalike.db/new; : > lookalike.db/index.txt; echo 3000 > lookalike.db/serial; echo 01 > lookalike.db/crlnumber
sed 's/docca2/lookalike/g' docca2.cnf > lookalike.cnf
issue lookalike forged "/C=VN/O=UBND tỉnh (test)/CN=Trần Văn Ký" signing -days 30
"#,
    );
    let official_b = "kyso_test_official_b";
    let official_c = "kyso_test_official_c";
    let listed: Vec<String> = ["encipher", "expired", "fake"]
        .iter()
        .map(|n| format!("{{ sha256 = \"{}\" }}", pem_sha256(&p(&format!("{n}.pem")))))
        .collect();
    let a = Appliance::start_with(Options {
        anchors: vec![
            p("docca.pem").display().to_string(),
            p("docca2.pem").display().to_string(),
        ],
        extra: vec![
            format!(
                "[[api_tokens]]\nname = \"official-b\"\nsha256 = \"{}\"\nroles = [\"signer\"]\nsigning_certs = [{}]\n",
                sha256_hex(official_b.as_bytes()),
                listed.join(", ")
            ),
            format!(
                "[[api_tokens]]\nname = \"official-c\"\nsha256 = \"{}\"\nroles = [\"signer\"]\nsigning_certs = [{{ subject = '{}', issuer = '{}' }}]\n",
                sha256_hex(official_c.as_bytes()),
                openssl_subject(&p("real.pem"), "-subject"),
                openssl_subject(&p("real.pem"), "-issuer")
            ),
        ],
        ..Default::default()
    });
    let prepare = |c: &Client, cert: &std::path::Path| {
        c.post_json(
            "/v1/sign/remote/prepare",
            &json!({"format": "cades", "certificate": std::fs::read_to_string(cert).unwrap(), "document": b64(b"Quyet dinh so 1")}),
        )
    };
    let b = a.agent_with(None, Some(official_b.to_string()));
    let err = |r: &Resp| r.json()["error"].as_str().unwrap_or("").to_string();
    // Listed by subject and issuer: the official's own certificate is taken; one of that
    // subject under a CA certificate another trusted CA issued with the official's CA's
    // name, sent along, is not (helper 232's reading of client certificates, the same here).
    let c = a.agent_with(None, Some(official_c.to_string()));
    let r = prepare(&c, &p("real.pem"));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = c.post_json(
        "/v1/sign/remote/prepare",
        &json!({"format": "cades", "certificate": std::fs::read_to_string(p("forged.pem")).unwrap(),
                "chain": [std::fs::read_to_string(p("lookalike.pem")).unwrap()],
                "document": b64(b"Quyet dinh so 1")}),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("not in [trust]"), "{}", r.text());
    // Listed for the caller, but not a certificate that may sign now: 422, saying why.
    for (cert, why) in [
        ("fake", "trust anchors"),
        ("encipher", "cannot sign now"),
        ("expired", "cannot sign now"),
    ] {
        let r = prepare(&b, &p(&format!("{cert}.pem")));
        assert_eq!(
            (r.status, err(&r).as_str()),
            (422, "cannot_sign"),
            "{cert}: {}",
            r.text()
        );
        assert!(r.text().contains(why), "{cert}: {}", r.text());
    }
    // A certificate that is not DER as kyso writes it back (critical FALSE written out;
    // tests/hostile/nonder_cert.py): 400 at prepare, before anyone signs — it was embedded
    // re-encoded, and finalize refused it with a wrong reason after the token had signed
    // (helper 180).
    let ec = a.demo.path().join("signer-ec.pem");
    let nonder = (p("ec-nonder.der"), p("ec-nonder.pem"));
    serve_support::common::hostile(
        "nonder_cert.py",
        &[ec.as_os_str(), nonder.0.as_os_str(), nonder.1.as_os_str()],
    );
    let r = prepare(&b, &nonder.1);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("not DER"), "{}", r.text());
    // A good certificate, but another official's: 403.
    let r = prepare(&b, &ec);
    assert_eq!(
        (r.status, err(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
    let official = a.agent(Who::Token("signer"));
    let r = prepare(&official, &a.demo.path().join("signer-rsa.pem"));
    assert_eq!(
        (r.status, err(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
    // Its own: prepared.
    let r = prepare(&official, &ec);
    assert_eq!(r.status, 200, "{}", r.text());
    // Its own, relabelled `TRUSTED CERTIFICATE` after a space, then another official's: one
    // reader of the field checked the first, the signature embedded the second (found by an
    // attacker's reading, 2026-12-02: the service signed as CN=Nguyễn Văn An for a caller whose
    // list does not name him). One certificate, read once, or nothing.
    let pem = |f: &std::path::Path| std::fs::read_to_string(f).unwrap();
    let smuggled = format!(
        " {}{}",
        pem(&ec).replace("CERTIFICATE-----", "TRUSTED CERTIFICATE-----"),
        pem(&a.demo.path().join("signer-rsa.pem"))
    );
    let r = official.post_json(
        "/v1/sign/remote/prepare",
        &json!({"format": "cades", "certificate": smuggled, "document": b64(b"Quyet dinh so 1")}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("holds 2 certificates"), "{}", r.text());
    // The same in `chain`: what is embedded is what was checked; and a chain has 8 at most.
    let r = official.post_json(
        "/v1/sign/remote/prepare",
        &json!({"format": "cades", "certificate": pem(&ec), "chain": vec![pem(&ec); 9],
            "document": b64(b"Quyet dinh so 1")}),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("more than 8 certificates"),
        "{}",
        r.text()
    );
}

/// A certificate judged at prepare is judged again at finalize: one that expired in between
/// (up to `remote_pending_secs` later) no longer signs (it did: an attacker's reading,
/// 2026-12-04). The official's key signs the digest with OpenSSL, as the desk's token would.
#[test]
fn a_prepared_signature_whose_certificate_expired_since_is_not_finalized() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    let made = std::time::Instant::now();
    openssl_ca(
        pki.path(),
        r#"
mkca docca "/C=VN/O=kyso test documents/CN=Document CA"
issue docca short "/C=VN/O=UBND tỉnh (test)/CN=Short-lived official" signing -enddate "$(date -u -d '+10 seconds' +%Y%m%d%H%M%SZ)"
"#,
    );
    let token = "kyso_test_official_short";
    let a = Appliance::start_with(Options {
        anchors: vec![p("docca.pem").display().to_string()],
        extra: vec![format!(
            "[[api_tokens]]\nname = \"official-short\"\nsha256 = \"{}\"\nroles = [\"signer\"]\nsigning_certs = [{{ sha256 = \"{}\" }}]\n",
            sha256_hex(token.as_bytes()),
            pem_sha256(&p("short.pem"))
        )],
        ..Default::default()
    });
    let official = a.agent_with(None, Some(token.to_string()));
    let r = official.post_json(
        "/v1/sign/remote/prepare",
        &json!({"format": "cades", "certificate": std::fs::read_to_string(p("short.pem")).unwrap(), "document": b64(b"Quyet dinh so 9")}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let prepared = r.json();
    std::fs::write(
        p("digest.bin"),
        hex::decode(prepared["digest"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    succeeded(
        std::process::Command::new("openssl")
            .args([
                "pkeyutl",
                "-sign",
                "-inkey",
                "short.key",
                "-in",
                "digest.bin",
                "-out",
                "sig.bin",
            ])
            .current_dir(pki.path()),
    );
    let sig = hex::encode(std::fs::read(p("sig.bin")).unwrap());
    // The certificate expires 10 s after it was made.
    std::thread::sleep(std::time::Duration::from_secs(12).saturating_sub(made.elapsed()));
    let r = official.post_json(
        "/v1/sign/remote/finalize",
        &json!({"handle": prepared["handle"], "signature": sig}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"], "cannot_sign", "{}", r.text());
    assert!(r.text().contains("no longer valid"), "{}", r.text());
}

/// A certificate revoked after its signature was prepared: the `[trust]` CRL read again by the
/// timer revokes it, and the finalize is refused — it finalized, the revocation data taken as
/// "read at start: unchanged since" (helper 166). The official's key signs the digest with
/// OpenSSL, as the desk's token would.
#[test]
fn a_prepared_signature_whose_certificate_was_revoked_since_is_not_finalized() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca docca "/C=VN/O=kyso test documents/CN=Document CA"
issue docca official "/C=VN/O=UBND tỉnh (test)/CN=Official revoked later" signing -days 30
crl docca docca.crl
"#,
    );
    let token = "kyso_test_official_revoked_later";
    let a = Appliance::start_with(Options {
        anchors: vec![p("docca.pem").display().to_string()],
        trust: vec![format!("crls = [{:?}]", p("docca.crl"))],
        server: vec!["client_crl_reload_secs = 1".into()],
        extra: vec![format!(
            "[[api_tokens]]\nname = \"official-revoked-later\"\nsha256 = \"{}\"\nroles = [\"signer\"]\nsigning_certs = [{{ sha256 = \"{}\" }}]\n",
            sha256_hex(token.as_bytes()),
            pem_sha256(&p("official.pem"))
        )],
        ..Default::default()
    });
    let official = a.agent_with(None, Some(token.to_string()));
    let prepare = || {
        official.post_json(
            "/v1/sign/remote/prepare",
            &json!({"format": "cades", "certificate": std::fs::read_to_string(p("official.pem")).unwrap(), "document": b64(b"Quyet dinh so 10")}),
        )
    };
    let r = prepare();
    assert_eq!(r.status, 200, "{}", r.text());
    let prepared = r.json();
    std::fs::write(
        p("digest.bin"),
        hex::decode(prepared["digest"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    succeeded(
        std::process::Command::new("openssl")
            .args(["pkeyutl", "-sign", "-inkey", "official.key"])
            .args(["-in", "digest.bin", "-out", "sig.bin"])
            .current_dir(pki.path()),
    );
    let sig = hex::encode(std::fs::read(p("sig.bin")).unwrap());
    // The CA revokes the official; the timer reads its new CRL.
    openssl_ca(
        pki.path(),
        "revoke docca official\ncrl docca docca.crl.new\nmv docca.crl.new docca.crl",
    );
    wait_logged(&a, "trust files read again: in use from now on", 1);
    let r = prepare();
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("was revoked"), "{}", r.text());
    let r = official.post_json(
        "/v1/sign/remote/finalize",
        &json!({"handle": prepared["handle"], "signature": sig}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"], "cannot_sign", "{}", r.text());
    assert!(
        r.text().contains("no longer valid to sign with") && r.text().contains("was revoked"),
        "{}",
        r.text()
    );
}

#[test]
fn a_client_certificate_its_cas_ocsp_responder_says_is_revoked_is_refused() {
    // An agency CA whose certificates name its OCSP responder: `openssl ocsp` on loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        &format!(
            r#"
export OCSP_PORT={port}
mkca ocspca "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA with OCSP"
issue ocspca good "/C=VN/O=Sở Tư pháp (test)/CN=Agency with OCSP" client_ocsp -days 30
issue ocspca revoked "/C=VN/O=Sở Tư pháp (test)/CN=Revoked agency" client_ocsp -days 30
revoke ocspca revoked
"#
        ),
    );
    let _responder = openssl_ocsp(pki.path(), port, "ocspca");
    let client = |name: &str, cert: &str| {
        format!(
            "[[clients]]\nname = \"{name}\"\nsha256 = \"{}\"\nroles = [\"verifier\"]\n",
            pem_sha256(&p(cert))
        )
    };
    let a = Appliance::start_with(Options {
        server: vec!["client_ocsp = true".into()],
        client_ca: vec![p("ocspca.pem").display().to_string()],
        extra: vec![
            client("agency-with-ocsp", "good.pem"),
            client("revoked-agency", "revoked.pem"),
        ],
        ..Default::default()
    });
    let whoami = |name: &str| {
        curl_cert(
            &a,
            &p(&format!("{name}.pem")),
            &p(&format!("{name}.key")),
            "/v1/whoami",
        )
    };
    // (The responder may take a moment to listen.)
    let t = std::time::Instant::now();
    let (s, body) = loop {
        let (s, body) = whoami("good");
        if s == 200 || t.elapsed() > std::time::Duration::from_secs(10) {
            break (s, body);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("agency-with-ocsp"), "{body}");
    let (s, body) = whoami("revoked");
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
}

/// With several server keys, each signer signs only with the keys its entry names: an
/// official of the Department of Justice cannot have documents signed with the provincial
/// People's Committee's key (any signer could, until 2026-12-02: found by an attacker's
/// reading). A signer that names none is refused at start when there are several keys.
#[test]
fn a_signer_signs_only_with_the_server_keys_its_entry_names() {
    let token = "kyso_test_signer_b";
    let a = Appliance::start_with(Options {
        extra: vec![format!(
            "[[keys]]\nname = \"so-tu-phap\"\nuri = \"pkcs11:token=kyso-dev;object=signer-ec\"\n\n[[api_tokens]]\nname = \"giam-doc.so-tu-phap\"\nsha256 = \"{}\"\nroles = [\"signer\"]\nkeys = [\"so-tu-phap\"]\n",
            sha256_hex(token.as_bytes())
        )],
        ..Default::default()
    });
    let b = a.agent_with(None, Some(token.to_string()));
    let sign = |c: &Client, key: Option<&str>| {
        let mut body = json!({"format": "cades", "documents": [{"name": "qd.txt", "content": b64(b"Quyet dinh so 7")}]});
        if let Some(k) = key {
            body["key"] = json!(k);
        }
        c.post_json("/v1/sign", &body)
    };
    let r = sign(&b, Some("official-rsa"));
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.text()
            .contains("is not one giam-doc.so-tu-phap signs with"),
        "{}",
        r.text()
    );
    // A key that does not exist is answered as one that is not the caller's: the answer does
    // not tell which names the appliance has.
    let other = r.text().replace("official-rsa", "K");
    let r = sign(&b, Some("no-such-key"));
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.text().replace("no-such-key", "K"), other);
    let r = sign(&b, Some("so-tu-phap"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["signed"], 1, "{}", r.text());
    // Its only key is the default.
    assert_eq!(sign(&b, None).status, 200);
    // The province's signer names its key; the department's is not among its own.
    let province = a.agent(Who::Token("signer"));
    assert_eq!(sign(&province, Some("so-tu-phap")).status, 403);
    assert_eq!(sign(&province, Some("official-rsa")).status, 200);
}

/// A server key whose certificate may not sign documents now (expired: a token left in the
/// appliance past its certificate's end) signs nothing over HTTP: 422 `cannot_sign`, naming
/// why, and no signature event; the service's other key still signs. The certificate is
/// OpenSSL's, the key put on the token by SoftHSM2's own tool.
#[test]
fn a_server_key_whose_certificate_cannot_sign_now_signs_nothing() {
    let mut a = Appliance::start();
    let dir = a.dir.path().to_path_buf();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out old.key 2>/dev/null \
             && openssl req -new -key old.key -subj '/CN=Chu tich UBND (cu)/C=VN' -out old.csr \
             && openssl x509 -req -days -1 -in old.csr -signkey old.key -out old.pem 2>/dev/null",
        )
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    a.stop();
    a.demo.import_key(
        "old-signer",
        "6f6c64",
        &dir.join("old.key"),
        &dir.join("old.pem"),
    );
    let token = "kyso_test_signer_old_key";
    let mut cfg = std::fs::read_to_string(dir.join("kyso.toml")).unwrap();
    cfg += &format!(
        "\n[[keys]]\nname = \"chu-tich-cu\"\nuri = \"pkcs11:token=kyso-dev;object=old-signer\"\n\n[[api_tokens]]\nname = \"chu-tich-cu\"\nsha256 = \"{}\"\nroles = [\"signer\"]\nkeys = [\"chu-tich-cu\", \"official-rsa\"]\n",
        sha256_hex(token.as_bytes())
    );
    std::fs::write(dir.join("kyso.toml"), cfg).unwrap();
    a.launch();
    let c = a.agent_with(None, Some(token.to_string()));
    let signatures = |a: &Appliance| {
        log_events(a)
            .into_iter()
            .filter(|e| e["event"] == "signature")
            .count()
    };
    let sign = |key: &str| {
        c.post_json(
            "/v1/sign",
            &json!({"key": key, "format": "cades", "documents": [{"name": "qd.txt", "content": b64(b"Quyet dinh so 9")}]}),
        )
    };
    let r = sign("official-rsa");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(signatures(&a), 1);
    let r = sign("chu-tich-cu");
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"], "cannot_sign", "{}", r.text());
    assert!(r.text().contains("expired"), "{}", r.text());
    assert!(r.text().contains("Chu tich UBND"), "{}", r.text());
    assert_eq!(signatures(&a), 1, "nothing more was signed");
}

/// A CRL a client certificate's distribution point serves is believed, and kept, only when its
/// CA signed it. A forged one (the CA's name, another key, next update in 30 years) served once
/// was kept unchecked until then: the revoked agency got in at every handshake after, and the
/// genuine CRL was never asked for again (an attacker's reading, 2026-12-05: a thief on the
/// plain-HTTP path once). Served the genuine CRL after the forged one, the service asks again
/// and refuses the agency. The CRLs are OpenSSL's (`openssl ca -gencrl`).
#[test]
fn a_forged_crl_served_once_is_not_kept() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        &format!(
            r#"
export CRL_PORT={port}
mkca crlca "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA with a CRL"
issue crlca revoked "/C=VN/O=Sở Tư pháp (test)/CN=Revoked agency" client_cdp -days 30
issue crlca stranger "/C=VN/O=Công ty khác (test)/CN=Someone the service does not know" client_cdp_other -days 30
revoke crlca revoked
crl crlca genuine.crl
mkca rogue "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA with a CRL"
openssl ca -config rogue.cnf -gencrl -crldays 10950 -out forged.crl 2>/dev/null
"#
        ),
    );
    let (forged, genuine) = (
        std::fs::read(p("forged.crl")).unwrap(),
        std::fs::read(p("genuine.crl")).unwrap(),
    );
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    serve_http(listener, move |_| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n == 0 {
            forged.clone()
        } else {
            genuine.clone()
        }
    });
    let a = Appliance::start_with(Options {
        server: vec![
            "client_ocsp = true".into(),
            "client_revocation = \"if_known\"".into(),
        ],
        client_ca: vec![p("crlca.pem").display().to_string()],
        extra: vec![format!(
            "[[clients]]\nname = \"revoked-agency\"\nsha256 = \"{}\"\nroles = [\"verifier\"]\n",
            pem_sha256(&p("revoked.pem"))
        )],
        ..Default::default()
    });
    let whoami = || curl_cert(&a, &p("revoked.pem"), &p("revoked.key"), "/v1/whoami");
    // The forged CRL is not believed: the status is unknown, which "if_known" lets in.
    let (s, body) = whoami();
    assert_eq!(s, 200, "{body}");
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Not kept: the next handshake past the 5 s that an answer not believed waits for (not
    // every handshake's fetch) asks again, and the genuine CRL says revoked.
    std::thread::sleep(std::time::Duration::from_millis(5_500));
    let (s, body) = whoami();
    assert_eq!(s, 401, "{body}");
    assert!(body.contains("revoked"), "{body}");
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_logged(&a, "signed neither by the certificate's issuer");
    assert!(
        !a.service_log().contains("CN=Revoked agency"),
        "a client's subject names a person: {}",
        a.service_log()
    );
    // A certificate of the same CA configured for no client (naming another distribution
    // point) is refused without a fetch: any holder of one made the service ask the CA's
    // distribution point at every handshake.
    for _ in 0..3 {
        let (s, body) = curl_cert(&a, &p("stranger.pem"), &p("stranger.key"), "/v1/whoami");
        assert_eq!(s, 401, "{body}");
    }
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// An OCSP answer signed by a certificate its CA did not certify for OCSP signing (here an
/// agency's own client certificate, as any holder of one could) is not kept: it was kept for
/// up to an hour, never believed, and the CA's genuine responder was not asked again (a
/// reviewer's reading, 2026-12-05). With the genuine responder back at the address, the next
/// handshake past the 5 s wait asks it, and the revoked agency is refused. The responders are
/// `openssl ocsp` on loopback.
#[test]
fn an_ocsp_answer_by_a_responder_its_ca_did_not_certify_is_not_kept() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        &format!(
            r#"
export OCSP_PORT={port}
mkca ocspca "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA with OCSP"
issue ocspca other "/C=VN/O=Sở Tư pháp (test)/CN=Another agency" client_ocsp -days 30
issue ocspca revoked "/C=VN/O=Sở Tư pháp (test)/CN=Revoked agency" client_ocsp -days 30
revoke ocspca revoked
"#
        ),
    );
    let responder = |signer: &str| openssl_ocsp(pki.path(), port, signer);
    let a = Appliance::start_with(Options {
        server: vec![
            "client_ocsp = true".into(),
            "client_revocation = \"if_known\"".into(),
        ],
        client_ca: vec![p("ocspca.pem").display().to_string()],
        extra: vec![format!(
            "[[clients]]\nname = \"revoked-agency\"\nsha256 = \"{}\"\nroles = [\"verifier\"]\n",
            pem_sha256(&p("revoked.pem"))
        )],
        ..Default::default()
    });
    let whoami = || curl_cert(&a, &p("revoked.pem"), &p("revoked.key"), "/v1/whoami");
    let log_has = |what: &str| a.service_log().contains(what);
    // Another agency's certificate answers at the responder's address: not believed, so the
    // status is unknown, which "if_known" lets in.
    let forger = responder("other");
    let t = std::time::Instant::now();
    while !log_has("status unknown") && t.elapsed() < std::time::Duration::from_secs(10) {
        let (s, body) = whoami();
        assert_eq!(s, 200, "{body}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    assert!(
        log_has("signed neither by the certificate's issuer"),
        "{}",
        a.service_log()
    );
    drop(forger);
    // The CA's own responder: asked at the next handshake past the wait, and believed.
    let _genuine = responder("ocspca");
    std::thread::sleep(std::time::Duration::from_millis(5_500));
    let t = std::time::Instant::now();
    let (s, body) = loop {
        let (s, body) = whoami();
        if s == 401 || t.elapsed() > std::time::Duration::from_secs(10) {
            break (s, body);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    assert_eq!(s, 401, "{body}\n{}", a.service_log());
    assert!(body.contains("revoked"), "{body}");
}

/// `[trust]` is read again: its CRLs and OCSP responses on the CRL timer (a cron job renews
/// them), each file on its own, all of it — anchors too — on SIGHUP (what the service trusts
/// changes when an operator says so). A file that cannot be read keeps what it held, an older
/// CRL than the one in use is not taken (a replayed CRL un-revoked a signer), an anchors'
/// bundle cut short changes nothing, and a file renamed out of `*.pem` withdraws its anchor
/// (helper 144). They were read once, at start: a renewed CRL went unseen until a restart.
/// The CAs, the official's certificate, the CRLs and the signature are OpenSSL's.
#[test]
fn trust_files_are_read_again_anchors_on_sighup_alone_and_a_broken_one_changes_nothing() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca docca "/C=VN/O=Ban Cơ yếu (test)/CN=Reloaded CA"
mkca other "/C=VN/O=Ban Cơ yếu (test)/CN=Another CA"
issue docca official "/C=VN/O=UBND tỉnh (test)/CN=Reloaded official" signing -days 30
mkdir anchors
cp other.pem anchors/other.pem
crl docca docca.crl
crl other other.crl
cp docca.crl docca-before.crl
echo "not a certificate" > anchors/README
printf 'Quyết định số 42/QĐ-UBND\n' > doc.txt
openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer official.pem -inkey official.key -in doc.txt -out doc.p7m
"#,
    );
    let a = Appliance::start_with(Options {
        anchors: vec![p("anchors").display().to_string()],
        trust: vec![format!(
            "crls = [{:?}, {:?}]",
            p("docca.crl"),
            p("other.crl")
        )],
        server: vec!["client_crl_reload_secs = 1".into()],
        ..Default::default()
    });
    let p7m = std::fs::read(p("doc.p7m")).unwrap();
    let judged = || verdict(&a, &p7m);
    // Waits until the log says `line` (at least n times).
    let logged = |line: &str, n: usize| wait_logged(&a, line, n);
    let read_again = "trust files read again: in use from now on";
    let (i, sub, text) = judged();
    assert_eq!(
        (i.as_str(), sub.as_str()),
        ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"),
        "{text}"
    );
    assert!(
        a.service_log().contains("not read (only *.pem"),
        "{}",
        a.service_log()
    );
    // The CA's certificate put in the anchors' directory: the timer does not take it...
    std::fs::copy(p("docca.pem"), p("anchors/docca.pem")).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let (i, _, text) = judged();
    assert_eq!(i, "INDETERMINATE", "{text}");
    assert!(!a.service_log().contains(read_again), "{}", a.service_log());
    // ... SIGHUP does.
    unsafe_kill(a.pid(), 1);
    logged(read_again, 1);
    let (i, _, text) = judged();
    assert_eq!(i, "TOTAL-PASSED", "{text}");
    assert!(text.contains("Reloaded official"), "{text}");
    // Another CA's CRL file goes missing; the CA revokes the official; the timer reads its new
    // CRL all the same (one missing file held every other back).
    std::fs::rename(p("other.crl"), p("other.crl.gone")).unwrap();
    openssl_ca(
        pki.path(),
        "revoke docca official\ncrl docca docca.crl.new\nmv docca.crl.new docca.crl",
    );
    logged(read_again, 2);
    logged("trust file not read; what it held before stays in use", 1);
    let (revoked, _, text) = judged();
    assert_ne!(revoked, "TOTAL-PASSED", "{text}");
    assert!(text.contains("revoked"), "{text}");
    // The CRL of before the revocation put back (still valid: a replay) is not taken.
    let older = "than a CRL of the same CA read before";
    std::fs::copy(p("docca-before.crl"), p("docca.crl")).unwrap();
    logged(older, 1);
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    // Nor after another trusted CA's CRL took its place: the CA's newest CRL stays in use
    // while no file holds it (the file compared a CRL with what it held last only, and the
    // swap let the replay in: TOTAL-PASSED; helper 147).
    std::fs::copy(p("other.crl.gone"), p("docca.crl")).unwrap();
    logged(
        "no trust file holds this CA's newest CRL read before any more",
        1,
    );
    logged(read_again, 3);
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    std::fs::copy(p("docca-before.crl"), p("docca.crl")).unwrap();
    logged(older, 2);
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    // A CRL under the CA's name signed by another key, then one dated 2099: neither is taken,
    // and the CA's next CRL is (unchecked, the one of 2099 outranked every genuine renewal
    // until a restart; helper 147).
    openssl_ca(
        pki.path(),
        "mkca rogue \"/C=VN/O=Ban Cơ yếu (test)/CN=Reloaded CA\"\ncrl rogue docca.crl",
    );
    logged(
        "it does not verify with the key of its CA's certificate in [trust]",
        1,
    );
    openssl_ca(
        pki.path(),
        "openssl ca -config rogue.cnf -gencrl -crl_lastupdate 20990101000000Z -crl_nextupdate 20990201000000Z -out docca.crl 2>/dev/null",
    );
    logged("its thisUpdate is ahead of this machine's clock", 1);
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    // Nor a CRL of a CA no certificate in [trust] can verify it for (a forged one of an
    // intermediate outranked the genuine one and passed its revoked signer; helper 148).
    openssl_ca(
        pki.path(),
        "mkca stranger \"/C=VN/O=Nơi khác (test)/CN=Stranger CA\"\ncrl stranger docca.crl",
    );
    logged(
        "no certificate of its CA is in [trust] to verify it with",
        1,
    );
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    openssl_ca(
        pki.path(),
        "crl docca docca.crl.new\nmv docca.crl.new docca.crl",
    );
    logged(read_again, 4);
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    // A CRL file cut short keeps the CRL read before.
    let crl = std::fs::read(p("docca.crl")).unwrap();
    std::fs::write(p("docca.crl"), &crl[..crl.len() / 2]).unwrap();
    logged("config: trust.crls[0]", 1);
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    // An anchors' bundle cut short, then SIGHUP: nothing changes (a partly written bundle lost
    // its last certificates without a word).
    let anchor = std::fs::read(p("anchors/docca.pem")).unwrap();
    std::fs::write(p("anchors/docca.pem"), &anchor[..anchor.len() * 3 / 4]).unwrap();
    unsafe_kill(a.pid(), 1);
    logged("trust anchors and certificates not read", 1);
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    // The anchors' directory made writable by others: nothing is read from it any more.
    std::fs::write(p("anchors/docca.pem"), &anchor).unwrap();
    let mode = |m: u32| {
        std::fs::set_permissions(
            p("anchors"),
            std::os::unix::fs::PermissionsExt::from_mode(m),
        )
        .unwrap()
    };
    mode(0o777);
    unsafe_kill(a.pid(), 1);
    logged("trust anchors and certificates not read", 2);
    logged("chmod go-w it", 1);
    mode(0o755);
    let (i, _, text) = judged();
    assert_eq!(i, revoked, "{text}");
    // Renamed out of *.pem, the anchor is withdrawn on SIGHUP (in use once the re-read says
    // so: the warning comes before).
    let n = a.service_log().matches(read_again).count();
    std::fs::rename(p("anchors/docca.pem"), p("anchors/docca.pem.withdrawn")).unwrap();
    unsafe_kill(a.pid(), 1);
    logged("trust anchors: fewer than before", 1);
    logged(read_again, n + 1);
    let (i, sub, text) = judged();
    assert_eq!(
        (i.as_str(), sub.as_str()),
        ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"),
        "{text}"
    );
}

/// The newest CRL of each CA and scope and the OCSP responses in use are kept across a restart
/// (`trust.state`, here `<db>.trust`): older ones replayed into the files before it are not
/// taken (before, a restart took what the files held, and a revoked signer passed again from
/// then on; helper 149). The CA's CRL of end entities (issuingDistributionPoint onlyUser) and
/// its newer ARL (onlyCA) are each kept (kept by CA alone, the ARL made the other refused at
/// every restart; helper 152). A second service started on the same database changes nothing
/// of it; a state file that is not one, or a FIFO in its place, stops the start.
#[test]
fn the_newest_crl_and_ocsp_answer_outlive_a_restart_and_replays_before_it() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    let ca = |commands: &str| openssl_ca(pki.path(), &format!("{ANSWER}\n{commands}"));
    ca(r#"
mkca crlca "/C=VN/O=Ban Cơ yếu (test)/CN=CA publishing CRLs"
mkca docca "/C=VN/O=Ban Cơ yếu (test)/CN=CA answering OCSP"
issue crlca listed "/C=VN/O=UBND tỉnh (test)/CN=Official in a CRL" signing_cdp -days 30
issue docca answered "/C=VN/O=UBND tỉnh (test)/CN=Official asked of" signing -days 30
openssl ca -config crlca.cnf -gencrl -crlexts crl_user -out crlca.crl 2>/dev/null
cp crlca.crl good.crl
openssl ca -config crlca.cnf -gencrl -crlexts crl_ca -out arl.crl 2>/dev/null
answer docca answered answered.ocsp
cp answered.ocsp good.ocsp
printf 'Quyết định số 44/QĐ-UBND\n' > doc.txt
for s in listed answered; do
  openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer $s.pem -inkey $s.key -in doc.txt -out $s.p7m
done
"#);
    let mut a = Appliance::start_with(Options {
        anchors: vec![
            p("crlca.pem").display().to_string(),
            p("docca.pem").display().to_string(),
        ],
        trust: vec![format!(
            "crls = [{:?}, {:?}]\nocsps = [{:?}]",
            p("crlca.crl"),
            p("arl.crl"),
            p("answered.ocsp")
        )],
        server: vec!["client_crl_reload_secs = 1".into()],
        ..Default::default()
    });
    let judged = |a: &Appliance, who: &str| {
        let (i, _, text) = verdict(a, &std::fs::read(p(&format!("{who}.p7m"))).unwrap());
        (i, text)
    };
    for who in ["listed", "answered"] {
        let (i, text) = judged(&a, who);
        assert_eq!(i, "TOTAL-PASSED", "{who}: {text}");
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    ca(r#"revoke crlca listed
openssl ca -config crlca.cnf -gencrl -crlexts crl_user -out crlca.crl.new 2>/dev/null
mv crlca.crl.new crlca.crl
revoke docca answered
answer docca answered answered.ocsp
sleep 1
openssl ca -config crlca.cnf -gencrl -crlexts crl_ca -out arl.crl.new 2>/dev/null
mv arl.crl.new arl.crl"#);
    let state = a.db().with_file_name("db.trust");
    let revoked = |a: &Appliance| {
        for who in ["listed", "answered"] {
            let (i, text) = judged(a, who);
            assert_ne!(i, "TOTAL-PASSED", "{who}: {text}");
            assert!(text.contains("revoked"), "{who}: {text}");
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (l, _) = judged(&a, "listed");
        let (o, _) = judged(&a, "answered");
        if l != "TOTAL-PASSED" && o != "TOTAL-PASSED" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", a.service_log());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    revoked(&a);
    // The files put back as they were before the revocations, and the service restarted.
    a.stop();
    std::fs::copy(p("good.crl"), p("crlca.crl")).unwrap();
    std::fs::copy(p("good.ocsp"), p("answered.ocsp")).unwrap();
    a.launch();
    revoked(&a);
    let log = a.service_log();
    assert!(
        log.contains("than the newest of its CA read before the restart")
            && log.contains("an OCSP response in use before the restart says a certificate is revoked or on hold"),
        "{log}"
    );
    // Another restart, the OCSP file now an HTML error page (a cron job's failed fetch): the
    // service starts (it did not, and whoever could spoil the fetch kept it down; helper
    // 153), and what it kept still says "revoked".
    a.stop();
    std::fs::write(p("answered.ocsp"), b"<html>502 Bad Gateway</html>").unwrap();
    a.launch();
    revoked(&a);
    assert!(
        a.service_log().contains("trust file not read at start"),
        "{}",
        a.service_log()
    );
    // What it keeps is the service's own: by its user alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", state.display());
    // A second service on the same database, with no CRL or OCSP file: it cannot open the
    // archive, and leaves the state as it was (it wrote an empty one first; helper 152).
    let kept = std::fs::read(&state).unwrap();
    let config = a.dir.path().join("kyso.toml");
    let other = a.dir.path().join("other.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let trust_line = text
        .lines()
        .find(|l| l.starts_with("crls = "))
        .unwrap()
        .to_string();
    let ocsp_line = text
        .lines()
        .find(|l| l.starts_with("ocsps = "))
        .unwrap()
        .to_string();
    std::fs::write(
        &other,
        text.replace(&trust_line, "crls = []")
            .replace(&ocsp_line, "ocsps = []"),
    )
    .unwrap();
    let o = a
        .demo
        .cmd()
        .args(["serve", "--config"])
        .arg(&other)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("archive.db"), "{err}");
    assert_eq!(std::fs::read(&state).unwrap(), kept);
    let check = |a: &Appliance| serve_check(a, &config);
    a.stop();
    // In a directory writable by others (who may delete it, and replays count again): the
    // service does not start (helper 153).
    let open_dir = a.dir.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let elsewhere = a.dir.path().join("elsewhere.toml");
    std::fs::write(
        &elsewhere,
        text.replace(
            &trust_line,
            &format!("state = {:?}\n{trust_line}", open_dir.join("db.trust")),
        ),
    )
    .unwrap();
    let (code, err) = serve_check(&a, &elsewhere);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("trust.state") && err.contains("its directory"),
        "{err}"
    );
    // A state file that is not one: the service does not start on it, and says what to do.
    std::fs::write(&state, b"not a state file").unwrap();
    let (code, err) = check(&a);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("trust.state") && err.contains("move it away"),
        "{err}"
    );
    // A FIFO in its place is refused, not waited on.
    std::fs::remove_file(&state).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&state)
        .status()
        .unwrap();
    assert!(made.success());
    let (code, err) = check(&a);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

/// A CA's CRLs of new scopes (shards, each its own issuingDistributionPoint) are taken on
/// SIGHUP, not at a timer re-read (helper 155), and kept up to 64 of the CA; past them a new
/// scope is refused, and none kept is dropped: the CRL revoking a signer, the oldest kept, was
/// left out of `trust.state` by 1,024 newer ones, and a replay after the restart passed the
/// signer (helper 154).
#[test]
fn crl_shards_past_their_share_are_refused_and_drop_nothing_kept() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca crlca "/C=VN/O=Ban Cơ yếu (test)/CN=CA sharding its CRLs"
for i in $(seq 1 72); do
  printf '[crl_s%s]\nissuingDistributionPoint = critical,@idp_s%s\n[idp_s%s]\nfullname = URI:http://127.0.0.1:9/s%s.crl\n' $i $i $i $i >> crlca.cnf
done
issue crlca listed "/C=VN/O=UBND tỉnh (test)/CN=Official in a sharded CRL" signing_cdp -days 30
issue crlca later "/C=VN/O=UBND tỉnh (test)/CN=Official revoked later" signing_cdp -days 30
openssl ca -config crlca.cnf -gencrl -crlexts crl_user -out user.crl 2>/dev/null
cp user.crl good.crl
revoke crlca listed
sleep 1
openssl ca -config crlca.cnf -gencrl -crlexts crl_user -out user.crl 2>/dev/null
for i in $(seq 1 72); do openssl ca -config crlca.cnf -gencrl -crlexts crl_s$i -out s$i.crl 2>/dev/null; done
for f in 1 2 3 4 5 6 7 8; do cp s$f.crl shard$f.crl; done
printf 'Quyết định số 45/QĐ-UBND\n' > doc.txt
for s in listed later; do
  openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer $s.pem -inkey $s.key -in doc.txt -out $s.p7m
done
"#,
    );
    let files: Vec<String> = std::iter::once(p("user.crl"))
        .chain((1..=8).map(|f| p(&format!("shard{f}.crl"))))
        .map(|f| format!("{f:?}"))
        .collect();
    let mut a = Appliance::start_with(Options {
        anchors: vec![p("crlca.pem").display().to_string()],
        trust: vec![format!("crls = [{}]", files.join(", "))],
        server: vec!["client_crl_reload_secs = 1".into()],
        ..Default::default()
    });
    let p7m = std::fs::read(p("listed.p7m")).unwrap();
    let revoked = |a: &Appliance| {
        let (i, _, text) = verdict(a, &p7m);
        assert_ne!(i, "TOTAL-PASSED", "{text}");
        assert!(text.contains("revoked"), "{text}");
    };
    revoked(&a);
    // Eight shards a tick, into the eight files, until 72 of the CA's scopes were offered: at
    // most 64 are kept, the user CRL among them.
    let read_again = "trust files read again: in use from now on";
    for round in 1..9 {
        let n = a.service_log().matches(read_again).count();
        for f in 1..=8 {
            let i = round * 8 + f;
            if i <= 72 {
                std::fs::copy(p(&format!("s{i}.crl")), p(&format!("shard{f}.crl"))).unwrap();
            }
        }
        // A scope not kept is taken on SIGHUP alone, not at a timer re-read: fed one a tick
        // into a file, the CA's other scopes filled the caps for good (helper 155).
        if round == 1 {
            wait_logged(&a, "not at a timer re-read", 1);
        }
        unsafe_kill(a.pid(), 1);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while a.service_log().matches(read_again).count() == n
            && !a.service_log().contains("it is of a new scope")
        {
            assert!(std::time::Instant::now() < deadline, "{}", a.service_log());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        std::thread::sleep(std::time::Duration::from_millis(1500));
    }
    wait_logged(
        &a,
        "it is of a new scope (issuingDistributionPoint), and 64 of its CA",
        1,
    );
    revoked(&a);
    // The CRL of before the revocation put back, and a restart: still revoked.
    a.stop();
    std::fs::copy(p("good.crl"), p("user.crl")).unwrap();
    a.launch();
    revoked(&a);
    // Two CRLs of the same second, the later (a higher CRLNumber) revoking another official:
    // the earlier put back is older (it was taken: the same thisUpdate).
    let n = a.service_log().matches(read_again).count();
    openssl_ca(
        pki.path(),
        r#"T=$(date -u +%Y%m%d%H%M%SZ)
openssl ca -config crlca.cnf -gencrl -crlexts crl_user -crl_lastupdate $T -out same-second.crl 2>/dev/null
revoke crlca later
openssl ca -config crlca.cnf -gencrl -crlexts crl_user -crl_lastupdate $T -out user.crl.new 2>/dev/null
mv user.crl.new user.crl"#,
    );
    wait_logged(&a, read_again, n + 1);
    let later = std::fs::read(p("later.p7m")).unwrap();
    let (i, _, text) = verdict(&a, &later);
    assert!(i != "TOTAL-PASSED" && text.contains("revoked"), "{text}");
    std::fs::copy(p("same-second.crl"), p("user.crl")).unwrap();
    wait_logged(&a, "than a CRL of the same CA read before", 1);
    let (i, _, text) = verdict(&a, &later);
    assert!(i != "TOTAL-PASSED" && text.contains("revoked"), "{text}");
}

/// A CA's scopes fill its share (64) with CRLs that expired long ago and that no file holds
/// any more: on SIGHUP those are let go, and the CRL of the CA's new scope is taken (before,
/// it was refused for good; helper 155).
#[test]
fn crl_scopes_expired_long_ago_and_in_no_file_are_let_go_on_sighup() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca crlca "/C=VN/O=Ban Cơ yếu (test)/CN=CA moving its CRLs"
for i in $(seq 1 65); do
  printf '[crl_s%s]\nissuingDistributionPoint = critical,@idp_s%s\n[idp_s%s]\nfullname = URI:http://127.0.0.1:9/s%s.crl\n' $i $i $i $i >> crlca.cnf
done
printf '[signing_s65]\nkeyUsage = critical,digitalSignature,nonRepudiation\nextendedKeyUsage = emailProtection\ncrlDistributionPoints = URI:http://127.0.0.1:9/s65.crl\n' >> crlca.cnf
FROM=$(date -u -d '-60 days' +%Y%m%d%H%M%SZ); TO=$(date -u -d '-40 days' +%Y%m%d%H%M%SZ)
for i in $(seq 1 63); do
  openssl ca -config crlca.cnf -gencrl -crlexts crl_s$i -crl_lastupdate $FROM -crl_nextupdate $TO -out s$i.crl 2>/dev/null
done
issue crlca early "/C=VN/O=UBND tỉnh (test)/CN=Official revoked early" signing -days 30
revoke crlca early
openssl ca -config crlca.cnf -gencrl -crlexts crl_s64 -crl_lastupdate $FROM -crl_nextupdate $TO -out s64.crl 2>/dev/null
issue crlca moved "/C=VN/O=UBND tỉnh (test)/CN=Official under the new CRL" signing_s65 -days 30
revoke crlca moved
openssl ca -config crlca.cnf -gencrl -crlexts crl_s65 -out s65.crl 2>/dev/null
printf 'Quyết định số 46/QĐ-UBND\n' > doc.txt
openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer moved.pem -inkey moved.key -in doc.txt -out moved.p7m
"#,
    );
    let files: Vec<String> = (1..=64)
        .map(|i| format!("{:?}", p(&format!("s{i}.crl"))))
        .collect();
    let a = Appliance::start_with(Options {
        anchors: vec![p("crlca.pem").display().to_string()],
        trust: vec![format!("crls = [{}]", files.join(", "))],
        ..Default::default()
    });
    let p7m = std::fs::read(p("moved.p7m")).unwrap();
    // The new scope's CRL in the place of the first: the caps are full, and the first's scope,
    // which no file holds now, expired 40 days ago.
    std::fs::copy(p("s65.crl"), p("s1.crl")).unwrap();
    // A file broken at the same time (a cron job's HTML error page) still holds what it held.
    std::fs::write(p("s2.crl"), "<html>502 Bad Gateway</html>").unwrap();
    // A scope whose CRL lists a certificate is never let go: the 64th's file made to hold
    // another scope (anyone who answers its fetch), and starved, would drop a revocation
    // (helper 156).
    std::fs::copy(p("s3.crl"), p("s64.crl")).unwrap();
    let let_go = "expired more than 30 days ago, is let go";
    let refused = "it is of a new scope (issuingDistributionPoint), and 64 of its CA";
    unsafe_kill(a.pid(), 1);
    wait_logged(&a, let_go, 1);
    // Refused by this SIGHUP's caps if they were counted before the release: the next takes it.
    if a.service_log().contains(refused) {
        unsafe_kill(a.pid(), 1);
        wait_logged(&a, "trust files read again: in use from now on", 1);
    }
    let (i, sub, text) = verdict(&a, &p7m);
    assert!(i != "TOTAL-PASSED" && sub == "REVOKED", "{sub} {text}");
    // Only the scope no file holds that lists nothing went: the 62 others, expired as long
    // but still in their files (the broken one's as it was read before), and the 64th, which
    // lists a certificate, are not let go.
    assert_eq!(
        a.service_log().matches(let_go).count(),
        1,
        "{}",
        a.service_log()
    );
    assert_logged(
        &a,
        "no trust file holds this CA's newest CRL read before any more",
    );
}

/// A CRL in use dated ahead of the machine's clock — as every CRL is for a moment when the
/// clock is set back — still guards: a replayed older CRL is not taken in its place, at a
/// re-read or across a restart, for `[trust]` or the client CAs (dropped from what was held, a
/// clock set back for a moment let the replay un-revoke a signer; helper 153, checked then by
/// hand with libfaketime). Here the CA itself dated its CRL an hour ahead.
#[test]
fn a_crl_dated_ahead_of_the_clock_still_guards_against_an_older_one() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca docca "/C=VN/O=Ban Cơ yếu (test)/CN=CA ahead of the clock"
mkca ca1 "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA ahead of the clock"
issue docca official "/C=VN/O=UBND tỉnh (test)/CN=Official revoked" signing -days 30
issue ca1 gone "/C=VN/O=Sở Tư pháp (test)/CN=Agency revoked" client -days 30
crl docca docca-before.crl
crl ca1 ca1-before.crl
revoke docca official
revoke ca1 gone
FROM=$(date -u -d '+1 hour' +%Y%m%d%H%M%SZ); TO=$(date -u -d '+8 days' +%Y%m%d%H%M%SZ)
openssl ca -config docca.cnf -gencrl -crl_lastupdate $FROM -crl_nextupdate $TO -out docca.crl 2>/dev/null
openssl ca -config ca1.cnf -gencrl -crl_lastupdate $FROM -crl_nextupdate $TO -out ca1.crl 2>/dev/null
printf 'Quyết định số 47/QĐ-UBND\n' > doc.txt
openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer official.pem -inkey official.key -in doc.txt -out doc.p7m
"#,
    );
    let mut a = Appliance::start_with(Options {
        anchors: vec![p("docca.pem").display().to_string()],
        trust: vec![format!("crls = [{:?}]", p("docca.crl"))],
        server: vec![
            format!("client_crls = [{:?}]", p("ca1.crl")),
            "client_crl_reload_secs = 1".into(),
            "client_revocation = \"if_known\"".into(),
        ],
        client_ca: vec![p("ca1.pem").display().to_string()],
        extra: vec![verifier_client("gone", &p("gone.pem"))],
        ..Default::default()
    });
    let p7m = std::fs::read(p("doc.p7m")).unwrap();
    // The validator cannot tell the status from a CRL dated ahead, but one that lists the
    // certificate is no "no data": the signature is INDETERMINATE, not passed "not checked"
    // (the official's certificate names no place for its status), and the agency is refused
    // even under "if_known". The replay, taken, would have made both good.
    let both_revoked = |a: &Appliance| {
        let (i, _, text) = verdict(a, &p7m);
        assert!(
            i == "INDETERMINATE" && text.contains("is dated in the future and lists"),
            "{text}"
        );
        let (s, body) = curl_cert(a, &p("gone.pem"), &p("gone.key"), "/v1/whoami");
        assert!(
            s == 401 && body.contains("cannot be told"),
            "{s} {body} {}",
            a.service_log()
        );
    };
    both_revoked(&a);
    // The CRLs of before the revocations, dated now (earlier than those in use): not taken.
    std::fs::copy(p("docca-before.crl"), p("docca.crl")).unwrap();
    std::fs::copy(p("ca1-before.crl"), p("ca1.crl")).unwrap();
    wait_logged(&a, "than a CRL of the same CA read before", 1);
    wait_logged(
        &a,
        "client certificate CRLs: none read now is as new as the one in use for this CA",
        1,
    );
    both_revoked(&a);
    a.stop();
    a.launch();
    both_revoked(&a);
}

/// A `[trust]` CRL file broken at start (a spoiled fetch) takes the cron job's next genuine
/// CRL at a timer re-read, though it is of a scope nothing kept is of — once: a file holding
/// it takes a further new scope on SIGHUP alone (the first waited for a SIGHUP, while the
/// signers it revokes were INDETERMINATE; helper 156).
#[test]
fn a_crl_file_broken_at_start_takes_its_first_genuine_crl_at_a_timer_re_read() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca crlca "/C=VN/O=Ban Cơ yếu (test)/CN=CA with two CRLs"
printf '[crl_s1]\nissuingDistributionPoint = critical,@idp_s1\n[idp_s1]\nfullname = URI:http://127.0.0.1:9/s1.crl\n[crl_s2]\nissuingDistributionPoint = critical,@idp_s2\n[idp_s2]\nfullname = URI:http://127.0.0.1:9/s2.crl\n[signing_s1]\nkeyUsage = critical,digitalSignature,nonRepudiation\nextendedKeyUsage = emailProtection\ncrlDistributionPoints = URI:http://127.0.0.1:9/s1.crl\n' >> crlca.cnf
issue crlca official "/C=VN/O=UBND tỉnh (test)/CN=Official under the second CRL" signing_s1 -days 30
openssl ca -config crlca.cnf -gencrl -crlexts crl_user -out user.crl 2>/dev/null
revoke crlca official
openssl ca -config crlca.cnf -gencrl -crlexts crl_s1 -out s1.crl.good 2>/dev/null
openssl ca -config crlca.cnf -gencrl -crlexts crl_s2 -out s2.crl 2>/dev/null
printf '<html>502 Bad Gateway</html>' > s1.crl
printf 'Quyết định số 48/QĐ-UBND\n' > doc.txt
openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer official.pem -inkey official.key -in doc.txt -out doc.p7m
"#,
    );
    let a = Appliance::start_with(Options {
        anchors: vec![p("crlca.pem").display().to_string()],
        trust: vec![format!("crls = [{:?}, {:?}]", p("user.crl"), p("s1.crl"))],
        server: vec!["client_crl_reload_secs = 1".into()],
        ..Default::default()
    });
    let p7m = std::fs::read(p("doc.p7m")).unwrap();
    let (i, sub, text) = verdict(&a, &p7m);
    assert!(i == "INDETERMINATE" && sub != "REVOKED", "{sub} {text}");
    std::fs::copy(p("s1.crl.good"), p("s1.crl")).unwrap();
    wait_logged(&a, "trust files read again: in use from now on", 1);
    let (i, sub, text) = verdict(&a, &p7m);
    assert!(i != "TOTAL-PASSED" && sub == "REVOKED", "{sub} {text}");
    // The file holds a CRL now: another new scope waits for a SIGHUP.
    std::fs::copy(p("s2.crl"), p("s1.crl")).unwrap();
    wait_logged(&a, "not at a timer re-read", 1);
}

/// A revocation a CA lists in a delta CRL, or in a CRL of only some reasons, counts, though
/// the CRL is not complete for the certificate and its silence tells nothing: ignored whole,
/// the older full CRL's "good" passed the revoked signer (helper 156).
#[test]
fn a_revocation_in_a_delta_or_some_reasons_crl_counts() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca docca "/C=VN/O=Ban Cơ yếu (test)/CN=CA publishing delta CRLs"
printf '[delta]\n2.5.29.27 = critical,DER:02:01:01\n[some]\nissuingDistributionPoint = critical,@idp_some\n[idp_some]\nonlysomereasons = keyCompromise\n' >> docca.cnf
issue docca first "/C=VN/O=UBND tỉnh (test)/CN=Official in a delta CRL" signing -days 30
issue docca second "/C=VN/O=UBND tỉnh (test)/CN=Official in a key-compromise CRL" signing -days 30
issue docca third "/C=VN/O=UBND tỉnh (test)/CN=Official not revoked" signing -days 30
issue docca held "/C=VN/O=UBND tỉnh (test)/CN=Official suspended in a delta CRL" signing -days 30
crl docca full.crl
sleep 1
revoke docca first
openssl ca -config docca.cnf -revoke held.pem -crl_reason certificateHold 2>/dev/null
openssl ca -config docca.cnf -gencrl -crlexts delta -out delta.crl 2>/dev/null
revoke docca second
openssl ca -config docca.cnf -gencrl -crlexts some -out some.crl 2>/dev/null
printf 'Quyết định số 49/QĐ-UBND\n' > doc.txt
for s in first second third held; do
  openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer $s.pem -inkey $s.key -in doc.txt -out $s.p7m
done
"#,
    );
    let a = Appliance::start_with(Options {
        anchors: vec![p("docca.pem").display().to_string()],
        trust: vec![format!(
            "crls = [{:?}, {:?}, {:?}]",
            p("full.crl"),
            p("delta.crl"),
            p("some.crl")
        )],
        ..Default::default()
    });
    for s in ["first", "second"] {
        let (i, sub, text) = verdict(&a, &std::fs::read(p(&format!("{s}.p7m"))).unwrap());
        assert!(i != "TOTAL-PASSED" && sub == "REVOKED", "{s}: {sub} {text}");
    }
    // A hold in the delta is a suspension: not passed on the complete CRL's "good".
    let (i, _, text) = verdict(&a, &std::fs::read(p("held.p7m")).unwrap());
    assert_eq!(i, "INDETERMINATE", "{text}");
    // Their silence says nothing: the third stands on the full CRL alone.
    let (i, _, text) = verdict(&a, &std::fs::read(p("third.p7m")).unwrap());
    assert_eq!(i, "TOTAL-PASSED", "{text}");
    assert!(text.contains("its silence tells nothing"), "{text}");
}

/// A complete CRL older than the base a delta CRL of the same scope builds on is no ground for
/// "good": revocations listed since are in neither. Kept beside the CA's newer delta (an
/// attacker on the fetch served the old complete CRL again), it passed a signer the delta
/// before had revoked (helper 157).
#[test]
fn a_complete_crl_older_than_a_deltas_base_says_no_good() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        r#"
mkca docca "/C=VN/O=Ban Cơ yếu (test)/CN=CA publishing deltas"
printf '[delta1]\n2.5.29.27 = critical,DER:02:01:01\n[delta3]\n2.5.29.27 = critical,DER:02:01:03\n' >> docca.cnf
issue docca official "/C=VN/O=UBND tỉnh (test)/CN=Official revoked in a delta" signing -days 30
crl docca full.crl
cp docca.db/index.txt index.before
sleep 1
revoke docca official
openssl ca -config docca.cnf -gencrl -crlexts delta1 -out delta.crl 2>/dev/null
sleep 1
crl docca full3.crl
# The delta on complete CRL 3 leaves out what CRL 3 lists (openssl lists its whole index).
cp docca.db/index.txt index.after; cp index.before docca.db/index.txt
openssl ca -config docca.cnf -gencrl -crlexts delta3 -out delta3.crl 2>/dev/null
cp index.after docca.db/index.txt
printf 'Quyết định số 50/QĐ-UBND\n' > doc.txt
openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer official.pem -inkey official.key -in doc.txt -out doc.p7m
"#,
    );
    let a = Appliance::start_with(Options {
        anchors: vec![p("docca.pem").display().to_string()],
        trust: vec![format!(
            "crls = [{:?}, {:?}]",
            p("full.crl"),
            p("delta.crl")
        )],
        server: vec!["client_crl_reload_secs = 1".into()],
        ..Default::default()
    });
    let p7m = std::fs::read(p("doc.p7m")).unwrap();
    let (i, sub, text) = verdict(&a, &p7m);
    assert!(i != "TOTAL-PASSED" && sub == "REVOKED", "{sub} {text}");
    // The next delta (built on complete CRL 3, which lists the official) comes; complete CRL 3
    // does not (its file still holds complete CRL 1).
    std::fs::copy(p("delta3.crl"), p("delta.crl")).unwrap();
    wait_logged(&a, "trust files read again: in use from now on", 1);
    let (i, _, text) = verdict(&a, &p7m);
    assert!(
        i == "INDETERMINATE" && text.contains("a delta CRL of the same CA builds on"),
        "{text}"
    );
    std::fs::copy(p("full3.crl"), p("full.crl")).unwrap();
    wait_logged(&a, "trust files read again: in use from now on", 2);
    let (i, sub, text) = verdict(&a, &p7m);
    assert!(i != "TOTAL-PASSED" && sub == "REVOKED", "{sub} {text}");
}

/// With a client CRL dated ahead of the clock listing an agency, the CRL its distribution point
/// serves is read beside it, not alone: the CA's older genuine CRL served there (by an attacker
/// on the plain-HTTP path) let the revoked agency in (helper 157).
#[test]
fn a_crl_fetched_is_read_beside_one_dated_ahead_that_lists_the_certificate() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        &format!(
            r#"
export CRL_PORT={port}
mkca ca1 "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA ahead and online"
issue ca1 gone "/C=VN/O=Sở Tư pháp (test)/CN=Agency revoked" client_cdp -days 30
crl ca1 before.crl
revoke ca1 gone
FROM=$(date -u -d '+1 hour' +%Y%m%d%H%M%SZ); TO=$(date -u -d '+8 days' +%Y%m%d%H%M%SZ)
openssl ca -config ca1.cnf -gencrl -crl_lastupdate $FROM -crl_nextupdate $TO -out ahead.crl 2>/dev/null
"#
        ),
    );
    let before = std::fs::read(p("before.crl")).unwrap();
    serve_http(listener, move |_| before.clone());
    gone_is_untold(pki.path(), "ahead.crl");
}

/// An OCSP response dated ahead of the clock that says "revoked" leaves the status untold, and
/// the CA's older CRL saying "good" does not stand against it (with the clock set back, every
/// answer is dated ahead; ignored, the older "good" passed the revoked signer). The answer is
/// OpenSSL's, made an hour ahead under libfaketime.
#[test]
fn an_ocsp_revoked_dated_ahead_of_the_clock_is_no_ground_for_an_older_good() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        &format!(
            r#"{ANSWER}
mkca docca "/C=VN/O=Ban Cơ yếu (test)/CN=CA answering ahead"
issue docca official "/C=VN/O=UBND tỉnh (test)/CN=Official revoked" signing -days 30
crl docca before.crl
revoke docca official
faketime -f '+1h' bash -c "$(declare -f answer); answer docca official ahead.ocsp"
printf 'Quyết định số 51/QĐ-UBND\n' > doc.txt
openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer official.pem -inkey official.key -in doc.txt -out doc.p7m
"#
        ),
    );
    let a = Appliance::start_with(Options {
        anchors: vec![p("docca.pem").display().to_string()],
        trust: vec![
            format!("crls = [{:?}]", p("before.crl")),
            format!("ocsps = [{:?}]", p("ahead.ocsp")),
        ],
        ..Default::default()
    });
    let (i, _, text) = verdict(&a, &std::fs::read(p("doc.p7m")).unwrap());
    assert!(
        i == "INDETERMINATE" && text.contains("dated in the future says"),
        "{text}"
    );
}

/// An OCSP answer fetched for a client certificate, dated ahead of the clock, that says
/// "revoked" leaves its status untold: the current CRL at hand, issued before the revocation,
/// does not let the agency in over it (helper 161). The answer is OpenSSL's, made an hour ahead
/// under libfaketime.
#[test]
fn a_fetched_ocsp_revoked_dated_ahead_is_not_overruled_by_an_older_crl() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    openssl_ca(
        pki.path(),
        &format!(
            r#"
export OCSP_PORT={port}
mkca ca1 "/C=VN/O=Sở Tư pháp (test)/CN=Agency CA answering ahead"
issue ca1 gone "/C=VN/O=Sở Tư pháp (test)/CN=Agency revoked" client_ocsp -days 30
# Issued an hour ago (a "good" from before now: the responder is asked).
openssl ca -config ca1.cnf -gencrl -crl_lastupdate $(date -u -d '-1 hour' +%Y%m%d%H%M%SZ) -out ca1.crl 2>/dev/null
revoke ca1 gone
faketime -f '+1h' openssl ocsp -index ca1.db/index.txt -rsigner ca1.pem -rkey ca1.key -CA ca1.pem \
  -issuer ca1.pem -cert gone.pem -respout ahead.ocsp -ndays 1 2>/dev/null
"#
        ),
    );
    let answer = std::fs::read(p("ahead.ocsp")).unwrap();
    serve_http(listener, move |_| answer.clone());
    gone_is_untold(pki.path(), "ca1.crl");
}

/// The `[[clients]]` entry of a verifier named `name` by its certificate's SHA-256.
fn verifier_client(name: &str, cert: &std::path::Path) -> String {
    format!(
        "[[clients]]\nname = \"{name}\"\nsha256 = \"{}\"\nroles = [\"verifier\"]\n",
        pem_sha256(cert)
    )
}

/// The agency `gone` (ca1's, in `pki`) presents its certificate to a service that reads
/// `crl` as its client CRL and asks ca1's responders: refused, its status "cannot be told".
fn gone_is_untold(pki: &std::path::Path, crl: &str) {
    let p = |f: &str| pki.join(f);
    let a = Appliance::start_with(Options {
        server: vec![
            format!("client_crls = [{:?}]", p(crl)),
            "client_ocsp = true".into(),
        ],
        client_ca: vec![p("ca1.pem").display().to_string()],
        extra: vec![verifier_client("gone", &p("gone.pem"))],
        ..Default::default()
    });
    let (s, body) = curl_cert(&a, &p("gone.pem"), &p("gone.key"), "/v1/whoami");
    assert!(s == 401 && body.contains("cannot be told"), "{s} {body}");
}

/// An HTTP server on `listener` (loopback) that answers every request, a CRL distribution
/// point's GET or an OCSP responder's POST, with `answer(n)`, `n` the requests before it.
fn serve_http(listener: std::net::TcpListener, answer: impl Fn(usize) -> Vec<u8> + Send + 'static) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { return };
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            let head_end = loop {
                if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(i + 4);
                }
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break None,
                    Ok(k) => req.extend_from_slice(&buf[..k]),
                }
            };
            let Some(head_end) = head_end else { continue };
            // The body a POST announces is read before the answer (an OCSP request).
            let announced = String::from_utf8_lossy(&req[..head_end])
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            while req.len() < head_end + announced {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => req.extend_from_slice(&buf[..k]),
                }
            }
            let body = answer(n);
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = s.write_all(&body);
        }
    });
}

/// A verifier's `/v1/verify` of a CMS signature: its first signature's indication,
/// subindication, and the whole answer.
fn verdict(a: &Appliance, p7m: &[u8]) -> (String, String, String) {
    let r =
        a.agent(Who::Token("verifier"))
            .send("POST", "/v1/verify", "application/pkcs7-mime", p7m);
    assert_eq!(r.status, 200, "{}", r.text());
    let s = &r.json()["signatures"][0];
    (
        s["indication"].as_str().unwrap_or_default().to_string(),
        s["subindication"].as_str().unwrap_or_default().to_string(),
        r.text(),
    )
}

/// `openssl ocsp` answering for `docca`'s certificate `$2` into `$3`, signed by `$1`.
const ANSWER: &str = r#"
answer() { openssl ocsp -index docca.db/index.txt -rsigner "$1.pem" -rkey "$1.key" -CA docca.pem \
  -issuer docca.pem -cert "$2.pem" -respout "$3.new" -ndays 1 2>/dev/null && mv "$3.new" "$3"; }
"#;

/// `[trust]`'s OCSP files are read again as its CRLs are: a renewal counts, from the CA or
/// the responder it certified; what would drop a "revoked" answer is not taken — a forged
/// response, another certificate's genuine one, an older one (before, each newer one was
/// taken unchecked, and the signature went from revoked to INDETERMINATE).
#[test]
fn trust_ocsp_files_read_again_take_renewals_and_nothing_that_drops_an_answer() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    let ca = |commands: &str| openssl_ca(pki.path(), &format!("{ANSWER}\n{commands}"));
    ca(r#"
mkca docca "/C=VN/O=Ban Cơ yếu (test)/CN=CA answering OCSP"
mkca rogue "/C=VN/O=Ban Cơ yếu (test)/CN=CA answering OCSP"
issue docca official "/C=VN/O=UBND tỉnh (test)/CN=Official asked of" signing -days 30
issue docca other "/C=VN/O=UBND tỉnh (test)/CN=Another official" signing -days 30
issue docca responder "/C=VN/O=Ban Cơ yếu (test)/CN=Delegated responder" ocsp_signing -days 30
issue docca uncertified "/C=VN/O=Ban Cơ yếu (test)/CN=Not a responder" signing -days 30
answer docca official official.ocsp
cp official.ocsp good.ocsp
printf 'Quyết định số 43/QĐ-UBND\n' > doc.txt
openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer official.pem -inkey official.key -in doc.txt -out doc.p7m
"#);
    let a = Appliance::start_with(Options {
        anchors: vec![p("docca.pem").display().to_string()],
        trust: vec![format!("ocsps = [{:?}]", p("official.ocsp"))],
        server: vec!["client_crl_reload_secs = 1".into()],
        ..Default::default()
    });
    let p7m = std::fs::read(p("doc.p7m")).unwrap();
    let judged = || {
        let (i, _, text) = verdict(&a, &p7m);
        (i, text)
    };
    let logged = |line: &str, n: usize| wait_logged(&a, line, n);
    let read_again = "trust files read again: in use from now on";
    let (i, text) = judged();
    assert_eq!(i, "TOTAL-PASSED", "{text}");
    // A genuine answer for the official and another certificate (as anyone may ask the CA's
    // responder for): taken, and no bar to a later answer for the official alone (it was,
    // its "good" standing after the revocation; helper 151).
    std::thread::sleep(std::time::Duration::from_secs(1));
    ca(
        r#"openssl ocsp -index docca.db/index.txt -rsigner docca.pem -rkey docca.key -CA docca.pem \
  -issuer docca.pem -cert official.pem -cert other.pem -respout official.ocsp.new -ndays 1 2>/dev/null
mv official.ocsp.new official.ocsp"#,
    );
    logged(read_again, 1);
    let (i, text) = judged();
    assert_eq!(i, "TOTAL-PASSED", "{text}");
    // The CA revokes the official and the file is renewed: the timer takes it.
    ca("revoke docca official\nanswer docca official official.ocsp");
    logged(read_again, 2);
    let (revoked, text) = judged();
    assert_ne!(revoked, "TOTAL-PASSED", "{text}");
    assert!(text.contains("revoked"), "{text}");
    let still_revoked = |why: &str, n: usize| {
        logged(why, n);
        let (i, text) = judged();
        assert_eq!(i, revoked, "{text}");
        assert!(text.contains("revoked"), "{text}");
    };
    // The CA's genuine answer for another certificate in its place.
    ca("answer docca other official.ocsp");
    let unsaid = "it does not say of a certificate what the response in use says";
    still_revoked(unsaid, 1);
    // The CA's genuine, newer "unknown" for the official (a responder that lost it from its
    // index): it counted as an answer, and the signature passed (helper 153).
    ca(r#": > empty.txt
openssl ocsp -index empty.txt -rsigner docca.pem -rkey docca.key -CA docca.pem -issuer docca.pem \
  -cert official.pem -respout official.ocsp.new -ndays 1 2>/dev/null
mv official.ocsp.new official.ocsp"#);
    still_revoked(unsaid, 2);
    // An answer for the official under the CA's name, signed by another key; then one signed
    // by a certificate of the CA not certified for OCSP signing.
    let forged = "no certificate in [trust] answered in it";
    ca("answer rogue official official.ocsp");
    still_revoked(forged, 1);
    ca("answer uncertified official official.ocsp");
    still_revoked(forged, 2);
    // The answer of before the revocation put back (a replay).
    std::fs::copy(p("good.ocsp"), p("official.ocsp")).unwrap();
    still_revoked(
        "it is older (an earlier producedAt) than the response in use",
        1,
    );
    // Each refused file is judged and said once, not at every tick while it stays (a 64 MiB
    // forgery cost 25 s of CPU a tick; helper 149).
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let log = a.service_log();
    assert_eq!(
        log.matches("trust file holds an OCSP response not taken")
            .count(),
        5,
        "{log}"
    );
    // The responder the CA certified renews it: taken.
    ca("answer responder official official.ocsp");
    logged(read_again, 3);
    let (i, text) = judged();
    assert_eq!(i, revoked, "{text}");
    assert!(text.contains("revoked"), "{text}");
    // The same with another certificate of the responder's key, not certified for OCSP
    // signing, put first among the response's certificates (its signature does not cover
    // them): taken, and still believed (the first alone decided, and the signature was
    // TOTAL-PASSED; helper 149).
    ca(r#"
openssl ca -batch -config docca.cnf -extensions signing -preserveDN -utf8 -notext -days 30 \
  -in responder.csr -out sibling.pem 2>/dev/null
openssl ocsp -index docca.db/index.txt -rsigner sibling.pem -rkey responder.key -rother responder.pem \
  -CA docca.pem -issuer docca.pem -cert official.pem -respout official.ocsp.new -ndays 1 2>/dev/null
mv official.ocsp.new official.ocsp
"#);
    logged(read_again, 4);
    let (i, text) = judged();
    assert_eq!(i, revoked, "{text}");
    assert!(text.contains("revoked"), "{text}");
    // The same signed answers with the responder's certificate swapped for another of its
    // key, certified for OCSP signing too, that the CA revoked (asn1crypto): nothing new, not
    // taken (taken, the answer was no longer believed; helper 153).
    ca(
        r#"openssl ca -batch -config docca.cnf -extensions ocsp_signing -preserveDN -utf8 -notext \
  -startdate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" -days 30 -in responder.csr \
  -out revoked-sibling.pem 2>/dev/null
revoke docca revoked-sibling"#,
    );
    let file = p("official.ocsp");
    serve_support::common::hostile(
        "ocsp_certs.py",
        &[
            file.as_os_str(),
            file.as_os_str(),
            p("revoked-sibling.pem").as_os_str(),
        ],
    );
    still_revoked("it says nothing the response in use does not", 1);
}

/// Clients and tokens removed from kyso.toml stop working on SIGHUP (`systemctl reload kyso`),
/// one added works, and a connection a removed certificate holds is closed: a removed admin
/// token kept its access until a restart (helper 232, 2026-12-06).
#[test]
fn clients_and_tokens_removed_from_the_configuration_stop_working_on_sighup() {
    let a = Appliance::start();
    let config = a.dir.path().join("kyso.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let without = |text: &str, entry: &str| {
        let at = text
            .find(entry)
            .unwrap_or_else(|| panic!("{entry}: {text}"));
        let end = text[at + 2..]
            .find("\n[")
            .map_or(text.len(), |e| at + 2 + e);
        format!("{}{}", &text[..at], &text[end..])
    };
    let text = without(&text, "[[api_tokens]]\nname = \"admin-script\"");
    let text = without(&text, "[[clients]]\nname = \"verifier-agency\"");
    let added = "kyso_test_added_0123456789abcdef";
    let text = format!(
        "{text}\n[[api_tokens]]\nname = \"added-script\"\nsha256 = \"{}\"\nroles = [\"verifier\"]\n",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(added.as_bytes()))
    );
    let bearer = |token: &str| {
        let out = std::process::Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(a.server_ca_pem())
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args(["-w", "\n%{http_code}"])
            .arg(format!("{}/v1/whoami", a.base))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.rsplit_once('\n')
            .map_or(0, |(_, c)| c.trim().parse::<u16>().unwrap_or(0))
    };
    let admin = a.agent(Who::Token("admin"));
    assert_eq!(admin.get("/v1/whoami").status, 200);
    assert_eq!(a.agent(Who::Cert("verifier")).get("/v1/whoami").status, 200);
    assert_eq!(bearer(added), 401);
    // A client keeping one connection busy with the verifier agency's certificate (a request
    // every 300 ms), across the reload.
    let (der, key) = a.client_cert(Who::Cert("verifier")).unwrap();
    let (cert_pem, key_pem) = (a.dir.path().join("v.pem"), a.dir.path().join("v.key"));
    std::fs::write(a.dir.path().join("v.der"), der).unwrap();
    std::fs::write(&key_pem, key).unwrap();
    let made = std::process::Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in"])
        .arg(a.dir.path().join("v.der"))
        .arg("-out")
        .arg(&cert_pem)
        .status()
        .unwrap();
    assert!(made.success());
    let busy = busy_whoami(&a, &cert_pem, &key_pem, 20);
    std::thread::sleep(std::time::Duration::from_secs(1));
    std::fs::write(&config, &text).unwrap();
    unsafe_kill(a.pid(), 1);
    wait_logged(
        &a,
        "clients and tokens read again from the configuration: changed",
        1,
    );
    assert_eq!(admin.get("/v1/whoami").status, 401);
    assert_eq!(
        a.agent(Who::Token("verifier")).get("/v1/whoami").status,
        200
    );
    assert_eq!(a.agent(Who::Cert("verifier")).get("/v1/whoami").status, 401);
    assert_eq!(a.agent(Who::Cert("clerk")).get("/v1/whoami").status, 200);
    assert_eq!(bearer(added), 200);
    let codes = status_codes(busy);
    assert_eq!(codes.len(), 20, "{codes:?}");
    assert_eq!(codes[0], "200", "{codes:?}");
    assert_eq!(codes[19], "401", "{codes:?}");
    assert_logged(
        &a,
        "client certificate refused now that the configured clients were read again",
    );
    // A file that no longer validates leaves the clients and tokens in use; so does one whose
    // keys are not those in use (a signer naming none may sign with every key in use).
    std::fs::write(&config, format!("{text}\n[[api_tokens]]\nname = \"x\"\n")).unwrap();
    unsafe_kill(a.pid(), 1);
    wait_logged(&a, "the configuration could not be read again", 1);
    let more_keys = format!(
        "{}\n[[keys]]\nname = \"extra\"\nuri = \"pkcs11:token=kyso-dev;object=signer-ec\"\n",
        text.replace("added-script", "added-again")
    );
    std::fs::write(&config, more_keys).unwrap();
    unsafe_kill(a.pid(), 1);
    wait_logged(&a, "the configuration could not be read again", 2);
    assert_logged(&a, "its [[keys]] are not those in use");
    assert_eq!(bearer(added), 200);
    assert_eq!(
        a.agent(Who::Token("verifier")).get("/v1/whoami").status,
        200
    );
}
