//! The archivist's export over HTTP, against the real `kyso serve` on loopback with TLS, a
//! SoftHSM2 token and a RocksDB archive: records a clerk archived are exported as a job, the
//! archivist watches it and downloads the package, and tools we did not write (GNU tar,
//! bagit.py, Python's zipfile) and `kyso bag verify` accept what arrives. Hostile input,
//! another user's ids, too many jobs, a restart in the middle of a job, and the jobs a service
//! from before the tar serialization left (a directory bag).

mod serve_support;

use serde_json::json;
use serve_support::common::kyso_cmd;
use serve_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SUBJECT: &str = "001099012345";

/// Archive three records of one citizen (two documents) as the clerk.
fn archive_three(a: &Appliance) -> Vec<u64> {
    let clerk = a.agent(Who::Cert("clerk"));
    let mut ids = Vec::new();
    for (code, fixture) in [
        ("001099012345.GPXD", "giay-phep.pdf"),
        ("001099012345.GPXD", "three-pages.pdf"),
        ("001099012345.DKKD", "giay-phep.pdf"),
    ] {
        let pdf = signed_fixture(a, fixture);
        let r = clerk.post_json(
            "/v1/records",
            &json!({"code": code, "title": "Giấy phép", "issue_date": "2026-11-20", "content": b64(&pdf)}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        ids.push(r.json()["record"].as_u64().unwrap());
    }
    ids
}

/// Poll a job until it is done or failed; every state seen on the way.
fn watch(c: &Client, id: &str) -> (serde_json::Value, Vec<serde_json::Value>) {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let r = c.get(&format!("/v1/exports/{id}"));
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        seen.push(j.clone());
        if j["state"] == "done" || j["state"] == "failed" {
            return (j, seen);
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "job {id} not finished: {j}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start(c: &Client, body: serde_json::Value) -> Resp {
    c.post_json("/v1/exports", &body)
}

fn log_key(a: &Appliance) -> PathBuf {
    let k = a.agent(Who::Token("auditor")).get("/v1/log/key").json();
    let p = a.dir.path().join("log-key.pem");
    std::fs::write(&p, k["public_key_pem"].as_str().unwrap()).unwrap();
    p
}

fn bag_verify(a: &Appliance, package: &Path) -> serde_json::Value {
    let out = kyso_cmd()
        .args(["bag", "verify", "--json"])
        .arg(package)
        .arg("--log-key")
        .arg(log_key(a))
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bag verify: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(out.status.code(), Some(if j["ok"] == true { 0 } else { 1 }));
    j
}

fn bagit_py() -> PathBuf {
    std::env::var_os("KYSO_BAGIT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/kyso/venv/bin/bagit.py")
        })
}

/// GNU tar extracts a downloaded bag into `<top>/` (and nothing else), `kyso bag verify` and
/// bagit.py accept what it extracted, and bag verify the tar itself; how many records it found.
fn tar_bagit_and_bag_verify_accept(a: &Appliance, body: &[u8], top: &str) -> u64 {
    let x = a.dir.path().join(format!("unpacked-{top}"));
    std::fs::create_dir(&x).unwrap();
    let tar = a.dir.path().join(format!("{top}-download.tar"));
    std::fs::write(&tar, body).unwrap();
    let out = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&x)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tops: Vec<_> = std::fs::read_dir(&x)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(tops, [top], "one folder, named after the job");
    let bag = x.join(top);
    let v = bag_verify(a, &bag);
    assert_eq!(v["ok"], true, "{v}");
    let out = Command::new(bagit_py())
        .arg("--validate")
        .arg(&bag)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bagit.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // bag verify reads the downloaded tar in place too.
    let t = bag_verify(a, &tar);
    assert_eq!(t["ok"], true, "{t}");
    assert_eq!(t["records_ok"], v["records_ok"]);
    v["records_ok"].as_u64().unwrap()
}

/// `kyso export` on the stopped service's archive into `out`, with the arguments of the
/// service's job (`{"all": true}`, the archivist's script, "nộp lưu", the service's log key,
/// origin, checkpoint state and TSA), one record per journal commit, SIGKILLed once its journal
/// says a record is durable: the files a service killed in the middle of that job leaves (the
/// same export code writes them). Returns the journal at the kill.
fn killed_export(a: &Appliance, out: &Path, serialize: &str) -> serde_json::Value {
    let journal = PathBuf::from(format!("{}.journal", out.display()));
    let mut child = a
        .demo
        .cmd()
        .args(["export", "--db"])
        .arg(a.db())
        .arg("--out")
        .arg(out)
        .args([
            "--serialize",
            serialize,
            "--all",
            "--user",
            "archivist-script",
        ])
        .args(["--reason", "nộp lưu", "--organization", "kyso archive"])
        .args(["--checkpoint-key", "pkcs11:token=kyso-dev;object=log"])
        .arg("--checkpoint-state")
        .arg(a.dir.path().join("db.checkpoint"))
        .args(["--origin", "kyso.test/archive", "--key-name", "kyso.test"])
        .args([
            "--tsa-key",
            "pkcs11:token=kyso-dev;object=tsa",
            "--pin-file",
        ])
        .arg(a.demo.pin_file())
        .args(["--pace-ms", "500", "--commit-every", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let j = std::fs::read(&journal)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        if j.is_some_and(|j| j["done"].as_u64().unwrap_or(0) >= 1) {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the export made no progress");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out.exists(), "a killed export leaves no package");
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&journal).unwrap()).unwrap();
    assert!(
        j["done"].as_u64().unwrap() < 3,
        "killed before the end: {j}"
    );
    j
}

/// The export events of the log, as the auditor reads them.
fn export_events(a: &Appliance) -> Vec<serde_json::Value> {
    log_events(a)
        .into_iter()
        .filter(|e| e["event"] == "export")
        .collect()
}

#[test]
fn archivist_exports_what_a_clerk_archived_watches_it_and_downloads_packages_that_bag_verify_bagit_py_and_tar_accept(
) {
    let a = Appliance::start();
    let ids = archive_three(&a);
    let archivist = a.agent(Who::Cert("archivist"));
    let reason = "Nộp lưu vào Lưu trữ lịch sử tỉnh";
    let r = start(
        &archivist,
        json!({"format": "bagit", "selection": {"subject": SUBJECT}, "reason": reason}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let job = r.json();
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/exports/{id}").as_str())
    );
    assert_eq!(job["user"], "archivist-agency");
    assert!(
        job["state"] == "queued" || job["state"] == "running",
        "{job}"
    );
    let (done, seen) = watch(&archivist, &id);
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["records"], 3, "{done}");
    for s in &seen {
        if s["state"] == "running" {
            assert!(s["done"].as_u64() <= s["total"].as_u64(), "{s}");
        }
    }
    // The export event: the archivist, the reason, every record, logged before the reads.
    let ev = export_events(&a);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0]["user"], "archivist-agency");
    assert_eq!(ev[0]["reason"], reason);
    assert_eq!(ev[0]["records"], json!(ids));

    // The download: the size and SHA-256 the job announced.
    let url = format!("/v1/exports/{id}/package");
    let p = archivist.get(&url);
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.content_type, "application/x-tar");
    let size = done["size"].as_u64().unwrap();
    assert_eq!(p.body.len() as u64, size);
    assert_eq!(p.header("content-length"), Some(size.to_string().as_str()));
    assert_eq!(sha256_hex(&p.body), done["sha256"].as_str().unwrap());
    assert_eq!(p.header("x-content-sha256"), done["sha256"].as_str());
    assert_eq!(
        p.header("content-disposition"),
        Some(format!("attachment; filename=\"{id}.tar\"").as_str())
    );
    // The package is the export's tar file, served as it is: no directory bag beside it.
    let exports = a.dir.path().join("exports");
    assert_eq!(
        std::fs::read(exports.join(format!("{id}.tar"))).unwrap(),
        p.body
    );
    assert!(!exports.join(format!("{id}.bag")).exists());
    // GNU tar unpacks it into `<id>/`; bag verify and bagit.py accept the bag.
    assert_eq!(tar_bagit_and_bag_verify_accept(&a, &p.body, &id), 3);
    // A range is the same bytes again (the stream is the same every time); one outside is 416.
    let ranged = archivist
        .agent
        .get(format!("{}{url}", archivist.base))
        .header("Range", "bytes=1000-2999")
        .call()
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.headers()["content-range"].to_str().unwrap(),
        format!("bytes 1000-2999/{size}")
    );
    let body = ranged.into_body().read_to_vec().unwrap();
    assert_eq!(body, p.body[1000..3000]);
    let tail = archivist
        .agent
        .get(format!("{}{url}", archivist.base))
        .header("Range", "bytes=-10")
        .call()
        .unwrap()
        .into_body()
        .read_to_vec()
        .unwrap();
    assert_eq!(tail, p.body[p.body.len() - 10..]);
    let r = archivist
        .agent
        .get(format!("{}{url}", archivist.base))
        .header("Range", format!("bytes={size}-"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 416);

    // The spec says what a download is: the tar or the zip, whole or a range of it.
    let spec = a.agent(Who::Anonymous).get("/v1/openapi.json").json();
    let op = &spec["paths"]["/v1/exports/{id}/package"]["get"]["responses"];
    for status in ["200", "206"] {
        let c = op[status]["content"].as_object().unwrap();
        assert!(
            c.contains_key("application/x-tar") && c.contains_key("application/zip"),
            "{status}: {c:?}"
        );
    }

    // Nobody else sees the job: another archivist (its script is another user) gets 404 for
    // the job, its package and its deletion — the same as for an id that does not exist.
    let other = a.agent(Who::Token("archivist"));
    for path in [format!("/v1/exports/{id}"), url.clone()] {
        let r = other.get(&path);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
    }
    assert_eq!(
        other
            .send("DELETE", &format!("/v1/exports/{id}"), "", b"")
            .status,
        404
    );
    assert_eq!(other.get("/v1/exports").json()["jobs"], json!([]));
    // The admin sees it (housekeeping) but does not download it: the log holds no read of its.
    let admin = a.agent(Who::Token("admin"));
    let seen = admin.get(&format!("/v1/exports/{id}"));
    assert_eq!(seen.status, 200);
    assert_eq!(
        admin.get("/v1/exports").json()["jobs"][0]["id"],
        id.as_str()
    );
    assert_eq!(admin.get(&url).status, 403);
    // … nor whom it names: of the selection only how it selects, not the citizen's id; the
    // reason is the owner's to see (an admin read both until 2026-12-02).
    let j = seen.json();
    let by = j["selection"]["by"].as_str().unwrap().to_string();
    assert_eq!(
        j["selection"].as_object().unwrap().len(),
        if by == "agency" { 4 } else { 1 },
        "{j}"
    );
    assert_eq!(j["reason"], "(the job's owner sees it)", "{j}");
    let own = archivist.get(&format!("/v1/exports/{id}")).json();
    assert_ne!(own["reason"], "(the job's owner sees it)", "{own}");

    // E-ARK: the zip as it is; bag verify accepts it, Python's zipfile opens it.
    let r = start(
        &archivist,
        json!({"format": "eark", "selection": {"agency": AGENCY, "from": "2026-01-01", "to": "2026-12-31"}, "reason": reason}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let eid = r.json()["id"].as_str().unwrap().to_string();
    let (edone, _) = watch(&archivist, &eid);
    assert_eq!(edone["state"], "done", "{edone}");
    let z = archivist.get(&format!("/v1/exports/{eid}/package"));
    assert_eq!(z.status, 200);
    assert_eq!(z.content_type, "application/zip");
    assert_eq!(sha256_hex(&z.body), edone["sha256"].as_str().unwrap());
    let zip = a.dir.path().join("package.zip");
    std::fs::write(&zip, &z.body).unwrap();
    let v = bag_verify(&a, &zip);
    assert_eq!(v["ok"], true, "{v}");
    // The key route's answer saved whole is not a key: said what to keep of it (it read
    // "expected SEQUENCE, got APPLICATION [27]"; helper 182).
    let whole = a.dir.path().join("log-key.json");
    std::fs::write(
        &whole,
        a.agent(Who::Token("auditor")).get("/v1/log/key").body,
    )
    .unwrap();
    let out = kyso_cmd()
        .args(["bag", "verify"])
        .arg(&zip)
        .arg("--log-key")
        .arg(&whole)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("keep its public_key_pem field"), "{err}");
    let names = python(
        "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))",
        &[zip.to_str().unwrap()],
    );
    assert!(names.trim().parse::<u32>().unwrap() > 10, "{names}");

    // Deleting a finished job removes its package; the id is gone. A deletion that cannot
    // remove the package (made immutable: chattr, as root on ext4) fails and forgets nothing:
    // the job stays, to be deleted again (it was forgotten first, its package left with no way
    // to remove it, and back after a restart; an attacker's reading, 2026-12-05).
    let tar = exports.join(format!("{id}.tar"));
    assert!(tar.is_file());
    let chattr = |flag: &str| {
        let ok = std::process::Command::new("chattr")
            .arg(flag)
            .arg(&tar)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chattr {flag} needs root on ext4 (CI runs as root)");
    };
    chattr("+i");
    let r = archivist.send("DELETE", &format!("/v1/exports/{id}"), "", b"");
    chattr("-i");
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        !r.text().contains(exports.to_str().unwrap()),
        "{}",
        r.text()
    );
    assert_eq!(archivist.get(&format!("/v1/exports/{id}")).status, 200);
    assert!(exports.join(format!("{id}.json")).is_file() && tar.is_file());
    let r = archivist.send("DELETE", &format!("/v1/exports/{id}"), "", b"");
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(!exports.join(format!("{id}.tar")).exists());
    assert!(!exports.join(format!("{id}.json")).exists());
    assert_eq!(archivist.get(&format!("/v1/exports/{id}")).status, 404);
    assert_eq!(
        archivist.get("/v1/exports").json()["jobs"][0]["id"],
        eid.as_str()
    );
    // A start retried with its request id answers the job it started (200), not a second
    // job and a second export event; the same id with other arguments is a 409.
    let body = |reason: &str| {
        json!({"format": "bagit", "selection": {"all": true}, "reason": reason,
               "request_id": "nop-luu-2026-12"})
    };
    let first = start(&archivist, body("nộp lưu lần hai"));
    assert_eq!(first.status, 202, "{}", first.text());
    let again = start(&archivist, body("nộp lưu lần hai"));
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["id"], first.json()["id"]);
    let other = start(&archivist, body("một lý do khác"));
    assert_eq!(other.status, 409, "{}", other.text());
    assert_eq!(other.json()["error"], "request_conflict");
    assert!(other.text().contains("another reason"), "{}", other.text());
    assert_eq!(
        archivist.get("/v1/exports").json()["jobs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let bad = start(
        &archivist,
        json!({"format": "bagit", "selection": {"all": true}, "reason": "nộp lưu",
               "request_id": ""}),
    );
    assert_eq!(bad.status, 400, "{}", bad.text());

    // Downloads racing the job's deletion: each is the package (200) or no job (404), never
    // a 500 and an ERROR line for a package "not readable" (helper 183: 7 of 140 were).
    for j in archivist.get("/v1/exports").json()["jobs"]
        .as_array()
        .unwrap()
    {
        let r = archivist.send(
            "DELETE",
            &format!("/v1/exports/{}", j["id"].as_str().unwrap()),
            "",
            b"",
        );
        assert!(r.status == 204 || r.status == 409, "{}", r.text());
    }
    let mut seen = std::collections::BTreeMap::new();
    for round in 0..10u64 {
        let r = start(
            &archivist,
            json!({"format": "bagit", "selection": {"subject": SUBJECT}, "reason": "đua"}),
        );
        assert_eq!(r.status, 202, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(watch(&archivist, &id).0["state"], "done");
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let mut hs: Vec<_> = (0..6)
                .map(|_| {
                    let (c, url) = (
                        a.agent(Who::Cert("archivist")),
                        format!("/v1/exports/{id}/package"),
                    );
                    s.spawn(move || c.get(&url).status)
                })
                .collect();
            let (c, url) = (a.agent(Who::Cert("archivist")), format!("/v1/exports/{id}"));
            hs.push(s.spawn(move || {
                std::thread::sleep(Duration::from_millis(2 * (round % 5)));
                c.send("DELETE", &url, "", b"").status
            }));
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for st in statuses {
            *seen.entry(st).or_insert(0) += 1;
        }
    }
    assert!(
        seen.keys().all(|s| [200, 204, 404].contains(s)),
        "{seen:?}: {}",
        a.service_log()
    );
    assert_eq!(seen.get(&204), Some(&10), "{seen:?}");
}

#[test]
fn hostile_export_requests_are_refused_and_change_nothing_and_a_restart_resumes_a_tar_export_and_an_older_services_directory_bag(
) {
    let mut a = Appliance::start_with(Options {
        export: vec!["jobs_per_user = 2".into(), "workers = 2".into()],
        ..Options::default()
    });
    archive_three(&a);
    let archivist = a.agent(Who::Token("archivist"));
    let ok =
        |sel: serde_json::Value| json!({"format": "bagit", "selection": sel, "reason": "nộp lưu"});
    for (body, status) in [
        // Unknown fields, at the top and in the selection: the caller cannot name another user.
        (
            json!({"format": "bagit", "selection": {"all": true}, "reason": "nộp lưu", "user": "x"}),
            422,
        ),
        (ok(json!({"all": true, "records": [1, 2]})), 422),
        (
            json!({"format": "tar", "selection": {"all": true}, "reason": "nộp lưu"}),
            422,
        ),
        (json!({"format": "bagit", "selection": {"all": true}}), 422),
        // Bad selections.
        (ok(json!({})), 400),
        (ok(json!({"all": true, "subject": SUBJECT})), 400),
        (ok(json!({"code": "../../etc/passwd"})), 400),
        (ok(json!({"subject": "00109901"})), 400),
        (ok(json!({"agency": AGENCY, "from": "2026-02-30"})), 400),
        (ok(json!({"from": "2026-01-01"})), 400),
        // A reason of invisible characters, or none.
        (
            json!({"format": "bagit", "selection": {"all": true}, "reason": "\u{200b}\u{200b}\u{200b}\u{200b}"}),
            400,
        ),
        (
            json!({"format": "bagit", "selection": {"all": true}, "reason": "   "}),
            400,
        ),
        (
            json!({"format": "bagit", "selection": {"all": true}, "reason": "ok\u{202e}lưu"}),
            400,
        ),
    ] {
        let r = start(&archivist, body.clone());
        assert_eq!(r.status, status, "{body}: {}", r.text());
    }
    assert_eq!(
        archivist
            .send("POST", "/v1/exports", "application/json", b"{\"format\":")
            .status,
        400
    );
    // Ids that are not ids, or try to leave the directory: 404 like any unknown id.
    for id in [
        "0",
        "..%2F..%2Fkyso.toml",
        "..%2Fexports",
        "%2e%2e",
        "00000000000000000000000000000000",
        "0000000000000000000000000000000G",
    ] {
        for suffix in ["", "/package"] {
            let r = archivist.get(&format!("/v1/exports/{id}{suffix}"));
            assert_eq!(r.status, 404, "{id}{suffix}: {}", r.text());
        }
        assert_eq!(
            archivist
                .send("DELETE", &format!("/v1/exports/{id}"), "", b"")
                .status,
            404
        );
    }
    // Nothing was started, nothing logged.
    assert_eq!(archivist.get("/v1/exports").json()["jobs"], json!([]));
    assert!(export_events(&a).is_empty());

    // A selection that matches nothing: a job that fails with the archive's reason.
    let r = start(&archivist, ok(json!({"agency": "000.00.99.Z99"})));
    assert_eq!(r.status, 202, "{}", r.text());
    let failed = r.json()["id"].as_str().unwrap().to_string();
    let (j, _) = watch(&archivist, &failed);
    assert_eq!(j["state"], "failed", "{j}");
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("no record of the agency \"000.00.99.Z99\" issued from"),
        "{j}"
    );
    assert_eq!(
        archivist
            .get(&format!("/v1/exports/{failed}/package"))
            .json()["error"],
        "export_not_ready"
    );
    // Two jobs held (jobs_per_user = 2): the third is 429 until one is deleted.
    let r = start(&archivist, ok(json!({"all": true})));
    assert_eq!(r.status, 202, "{}", r.text());
    let second = r.json()["id"].as_str().unwrap().to_string();
    let r = start(&archivist, ok(json!({"all": true})));
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["error"], "too_many_exports");
    assert_eq!(watch(&archivist, &second).0["state"], "done");
    assert_eq!(
        archivist
            .send("DELETE", &format!("/v1/exports/{failed}"), "", b"")
            .status,
        204
    );

    // A restart in the middle of a tar export: the service died with `second` running, its
    // tar written up to the journal's last commit. And a job a service from before the tar
    // serialization was running: a directory bag `<id>.bag`, interrupted the same way.
    let dir = a.dir.path().join("exports");
    let job_file = dir.join(format!("{second}.json"));
    let mut j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&job_file).unwrap()).unwrap();
    let first_sha = j["sha256"].clone();
    let tar = dir.join(format!("{second}.tar"));
    assert!(tar.is_file() && !dir.join(format!("{second}.bag")).exists());
    a.stop();
    assert!(
        a.dir.path().join("db.checkpoint").is_file(),
        "the service's checkpoint state"
    );
    std::fs::remove_file(&tar).unwrap();
    let tar_journal = killed_export(&a, &tar, "tar");
    assert!(
        tar_journal["tar_offset"].as_u64().unwrap() > 0,
        "{tar_journal}"
    );
    assert!(dir.join(format!("{second}.tar.partial/bag.tar")).is_file());
    let running = |j: &mut serde_json::Value, id: &str| {
        let obj = j.as_object_mut().unwrap();
        for k in ["records", "size", "sha256", "finished"] {
            obj.remove(k);
        }
        obj.insert("id".into(), json!(id));
        obj.insert("state".into(), json!("running"));
        obj.insert("done".into(), json!(0));
        obj.insert("total".into(), json!(0));
    };
    let mut legacy_job = j.clone();
    running(&mut j, &second);
    std::fs::write(&job_file, serde_json::to_vec(&j).unwrap()).unwrap();
    let legacy = "1e9ac1e9ac1e9ac1e9ac1e9ac1e9ac10";
    running(&mut legacy_job, legacy);
    legacy_job["created"] = json!(j["created"].as_u64().unwrap() + 1);
    std::fs::write(
        dir.join(format!("{legacy}.json")),
        serde_json::to_vec(&legacy_job).unwrap(),
    )
    .unwrap();
    let bag = dir.join(format!("{legacy}.bag"));
    let bag_journal = killed_export(&a, &bag, "dir");
    assert!(dir.join(format!("{legacy}.bag.partial/data")).is_dir());
    a.launch();
    let archivist = a.agent(Who::Token("archivist"));
    let (j, _) = watch(&archivist, &second);
    assert_eq!(j["state"], "done", "{j}");
    assert_eq!(j["resumed"], 1, "{j}");
    assert_eq!(j["records"], 3, "{j}");
    assert_ne!(j["sha256"], first_sha, "another export: another checkpoint");
    // Finished as one tar file, served as it is; its size and SHA-256 are the file's.
    let file = std::fs::read(&tar).unwrap();
    assert!(!dir.join(format!("{second}.tar.partial")).exists());
    assert!(!dir.join(format!("{second}.tar.journal")).exists());
    assert_eq!(j["size"], file.len());
    assert_eq!(j["sha256"].as_str().unwrap(), sha256_hex(&file));
    let p = archivist.get(&format!("/v1/exports/{second}/package"));
    assert_eq!(p.status, 200);
    assert_eq!(p.body, file);
    assert_eq!(tar_bagit_and_bag_verify_accept(&a, &p.body, &second), 3);
    // The older service's job: finished as the directory it was begun as, and downloaded as
    // the tar stream older services built from it (the same bytes every time, a range of it).
    let (lj, _) = watch(&archivist, legacy);
    assert_eq!(lj["state"], "done", "{lj}");
    assert_eq!(lj["resumed"], 1, "{lj}");
    assert_eq!(lj["records"], 3, "{lj}");
    assert!(bag.join("data").is_dir() && !dir.join(format!("{legacy}.tar")).exists());
    let url = format!("/v1/exports/{legacy}/package");
    let lp = archivist.get(&url);
    assert_eq!(lp.status, 200);
    assert_eq!(lp.content_type, "application/x-tar");
    assert_eq!(lp.body.len() as u64, lj["size"].as_u64().unwrap());
    assert_eq!(sha256_hex(&lp.body), lj["sha256"].as_str().unwrap());
    assert_eq!(archivist.get(&url).body, lp.body);
    let ranged = archivist.get_with(&url, &[("Range", "bytes=700-1799")]);
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.body, lp.body[700..1800]);
    assert_eq!(tar_bagit_and_bag_verify_accept(&a, &lp.body, legacy), 3);
    // Each run logged its own export event, with the same user and reason; a resumed one
    // names only the records its interrupted run had not made durable.
    let ev = export_events(&a);
    assert_eq!(ev.len(), 5, "{ev:?}");
    assert!(ev
        .iter()
        .all(|e| e["user"] == "archivist-script" && e["reason"] == "nộp lưu"));
    let mut rest: Vec<u64> = ev[3..]
        .iter()
        .map(|e| e["records"].as_array().unwrap().len() as u64)
        .collect();
    rest.sort();
    let mut want = vec![
        3 - tar_journal["done"].as_u64().unwrap(),
        3 - bag_journal["done"].as_u64().unwrap(),
    ];
    want.sort();
    assert_eq!(rest, want);
    assert!(a
        .service_log()
        .contains("unfinished export jobs queued again"));

    // Killed after the tar was complete, before the job file said so: measured again, the
    // records counted from its bag-info.txt, nothing exported or logged again.
    let done_sha = j["sha256"].clone();
    a.stop();
    let mut j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&job_file).unwrap()).unwrap();
    running(&mut j, &second);
    std::fs::write(&job_file, serde_json::to_vec(&j).unwrap()).unwrap();
    a.launch();
    let archivist = a.agent(Who::Token("archivist"));
    let (j, _) = watch(&archivist, &second);
    assert_eq!(j["state"], "done", "{j}");
    assert_eq!(j["records"], 3, "{j}");
    assert_eq!(j["sha256"], done_sha);
    assert_eq!(export_events(&a).len(), 5);
    // Deleting the older service's job removes its directory bag.
    let r = archivist.send("DELETE", &format!("/v1/exports/{legacy}"), "", b"");
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(!bag.exists() && !dir.join(format!("{legacy}.json")).exists());

    // A damaged record (an insider edited its stored SHA-512 while the service was down): the
    // job fails naming it; the archivist reads its code in the job, the service log only its
    // number — no citizen's id reaches the operators' log.
    a.stop();
    {
        let mut o = rocksdb::Options::default();
        o.create_if_missing(false);
        let d = rocksdb::DB::open_cf(&o, a.db(), kyso_archive::store::CFS).unwrap();
        let cf = d.cf_handle(kyso_archive::schema::CF_RECORDS).unwrap();
        let key = kyso_archive::schema::u64_key(1);
        let mut r: serde_json::Value =
            serde_json::from_slice(&d.get_cf(cf, key).unwrap().unwrap()).unwrap();
        assert_eq!(r["code"], format!("{SUBJECT}.GPXD"));
        r["content_sha512"] = json!("zz".repeat(64));
        d.put_cf(cf, key, serde_json::to_vec(&r).unwrap()).unwrap();
        d.flush_wal(true).unwrap();
    }
    a.launch();
    let archivist = a.agent(Who::Token("archivist"));
    let r = start(&archivist, ok(json!({"subject": SUBJECT})));
    assert_eq!(r.status, 202, "{}", r.text());
    let (j, _) = watch(&archivist, r.json()["id"].as_str().unwrap());
    assert_eq!(j["state"], "failed", "{j}");
    let error = j["error"].as_str().unwrap();
    assert!(
        error.contains("malformed") && error.contains(&format!("[record 1, code {SUBJECT}.GPXD]")),
        "{j}"
    );
    // A refused request whose path carries the id percent-encoded: the log names the route.
    let anon = a.agent_with(None, None);
    let r = anon.get("/v1/exports/%30%30%31099012345");
    assert_eq!(r.status, 401, "{}", r.text());
    let log = a.service_log();
    assert!(
        log.contains("export failed") && log.contains("[record 1, code ************.GPXD]"),
        "{log}"
    );
    assert!(
        log.contains(r#""path":"/v1/exports/{id}""#) && log.contains("request refused"),
        "{log}"
    );
    assert!(
        !log.contains(SUBJECT) && !log.contains("099012345"),
        "a citizen's id in the service log:\n{log}"
    );
}

/// The service judges its checkpoint signer at start: a config that renames the log (another
/// `archive.origin` than the last checkpoint its log key signed) is refused before the service
/// listens, and so is a state file that is not a regular file; with the config and the file
/// mended, it starts on the same archive (an insider's reading of the CLI, 2026-12-04, found
/// the log renamed by an edited state file; the service's checkpointer would have logged the
/// refusal every round instead).
#[test]
fn the_service_does_not_start_under_another_name_for_its_log() {
    let mut a = Appliance::start();
    archive_three(&a);
    a.stop();
    let state = a.dir.path().join("db.checkpoint");
    let signed = std::fs::read_to_string(&state).unwrap();
    assert!(signed.starts_with("kyso.test/archive\n"), "{signed}");
    let conf = a.dir.path().join("kyso.toml");
    let good = std::fs::read_to_string(&conf).unwrap();
    // `kyso serve`, which must end by itself within 30 s (one that starts serves for good).
    let serve = |a: &Appliance| -> (Option<i32>, String) {
        let err_file = a.dir.path().join("refused.log");
        let mut child = a
            .demo
            .cmd()
            .args(["serve", "--config"])
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&err_file).unwrap())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "kyso serve started: {}",
                    std::fs::read_to_string(&err_file).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        (status.code(), std::fs::read_to_string(&err_file).unwrap())
    };
    std::fs::write(
        &conf,
        good.replace(
            "origin = \"kyso.test/archive\"",
            "origin = \"kyso.test/renamed\"",
        ),
    )
    .unwrap();
    let (code, err) = serve(&a);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("a log keeps its name") || err.contains("not \"kyso.test/renamed\""),
        "{err}"
    );
    std::fs::write(&conf, &good).unwrap();
    // A FIFO in the state file's place must not hold it.
    std::fs::remove_file(&state).unwrap();
    let made = Command::new("mkfifo").arg(&state).status().unwrap();
    assert!(made.success());
    let (code, err) = serve(&a);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    // No state file once the archive has signed (a mount that failed): refused, the file
    // being what catches a database put back from an older copy (written anew, unsaid,
    // before). The operator's word to write it anew: the names are the last checkpoint's the
    // key signed in the database.
    std::fs::remove_file(&state).unwrap();
    let (code, err) = serve(&a);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("is missing or empty, but this archive has signed checkpoints"),
        "{err}"
    );
    std::fs::write(&state, "kyso: write anew from the database\n").unwrap();
    a.launch();
    // Written at start, not at the next record's checkpoint (until then it guarded nothing).
    let now = std::fs::read_to_string(&state).unwrap();
    assert_eq!(
        now.split(
            "

"
        )
        .next(),
        signed
            .split(
                "

"
            )
            .next(),
        "{now}"
    );
    let archivist = a.agent(Who::Cert("archivist"));
    let r = archivist.get("/v1/log/checkpoint");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("kyso.test/archive"), "{}", r.text());

    // No checkpoint can be kept (a directory in the state file's place here; a file system
    // read-only or full): records are still taken, but within seconds the service is no
    // longer ready, and a proof that needs a new checkpoint says "try again" without the
    // appliance's paths (it said ready, and answered 500 with the state file's path).
    std::fs::remove_file(&state).unwrap();
    std::fs::create_dir(&state).unwrap();
    let clerk = a.agent(Who::Cert("clerk"));
    let pdf = signed_fixture(&a, "giay-phep.pdf");
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.GPXD", "title": "Giấy phép", "issue_date": "2026-11-20", "content": b64(&pdf)}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let leaf = r.json()["leaf"].as_u64().unwrap();
    let anyone = a.agent(Who::Anonymous);
    let start = Instant::now();
    let r = loop {
        let r = anyone.get("/readyz");
        if r.status != 200 || start.elapsed() > Duration::from_secs(20) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["checks"]["checkpointer"], false, "{}", r.text());
    let r = archivist.get(&format!("/v1/log/inclusion?leaf={leaf}"));
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(
        !r.text().contains(a.dir.path().to_str().unwrap()),
        "{}",
        r.text()
    );
    // Nor can an export job sign the checkpoint its package needs: it fails, and its error
    // tells the archivist so without the appliance's paths (it carried the state file's).
    let r = archivist.post_json(
        "/v1/exports",
        &json!({"format": "bagit", "selection": {"all": true}, "reason": "nộp lưu"}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let (j, _) = watch(&archivist, r.json()["id"].as_str().unwrap());
    assert_eq!(j["state"], "failed", "{j}");
    let error = j["error"].as_str().unwrap();
    assert!(
        error.contains("checkpoint could not be signed or time-stamped now")
            && !error.contains(a.dir.path().to_str().unwrap()),
        "{j}"
    );
    // "Does the archive hold this document?" cannot be proved either (503); its lookup is
    // logged, and not taken as said: the next one, answered, is logged too (the 503 stood
    // for the 200 after it; helper 190).
    let other = signed_fixture(&a, "three-pages.pdf");
    let r = clerk.post_json(
        "/v1/records",
        &json!({"code": "001099012345.BAN_SAO", "title": "Bản sao", "issue_date": "2026-11-20", "content": b64(&other)}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let sha = sha256_hex(&other);
    let lookup = format!("/v1/verify/archived?sha256={sha}");
    let r = clerk.get(&lookup);
    assert_eq!(r.status, 503, "{}", r.text());
    // Mended: ready again once a checkpoint is signed.
    std::fs::remove_dir(&state).unwrap();
    std::fs::write(&state, "kyso: write anew from the database\n").unwrap();
    let start = Instant::now();
    while anyone.get("/readyz").status != 200 {
        assert!(start.elapsed() < Duration::from_secs(20), "not ready again");
        std::thread::sleep(Duration::from_millis(250));
    }
    let r = clerk.get(&lookup);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["archived"], true, "{}", r.text());
    let finds = log_events(&a)
        .into_iter()
        .filter(|e| e["event"] == "find" && e["value"] == sha.as_str())
        .count();
    assert_eq!(
        finds, 2,
        "the lookup answered 503, then the one answered 200"
    );
    assert_eq!(
        archivist
            .get(&format!("/v1/log/inclusion?leaf={leaf}"))
            .status,
        200
    );
}
