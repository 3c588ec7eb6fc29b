//! Who may call what: every route of the served OpenAPI document, tried with every role (as an
//! API token and as an agency certificate), with no credential, a wrong token, an expired and
//! an untrusted client certificate. The spec validates with a validator we did not write, and
//! docs/api.md's table says what the spec says.

mod serve_support;

use serde_json::json;
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
    let mut tried = 0;
    for (method, path, roles) in &ops {
        let public = roles.is_empty();
        for role in ROLES {
            for who in [Who::Token(role), Who::Cert(role)] {
                let s = call(&a.agent(who), method, path);
                if public || roles.iter().any(|r| r == role) {
                    assert!(s != 401 && s != 403, "{who:?} on {method} {path}: {s}");
                } else {
                    assert_eq!(s, 403, "{who:?} on {method} {path}");
                }
                tried += 1;
            }
        }
        let s = call(&a.agent(Who::Anonymous), method, path);
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
    // docs/api.md's table, parsed, equals the spec's roles.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    let mut table = BTreeMap::new();
    for line in doc.lines() {
        let Some(rest) = line.strip_prefix("| `") else {
            continue;
        };
        let (route, roles) = rest.split_once("` | ").unwrap();
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
