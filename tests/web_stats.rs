//! The statistics page and `GET /v1/stats` of the real `kyso serve` (SoftHSM2 token, RocksDB,
//! TLS on loopback) over an archive the test filled with the kyso-archive API (several
//! agencies, types and quarters, a supersession, a revocation, lookups, totals): the API's
//! roles and answers (JSON, CSV read by Python's csv module, bad queries 400), then Debian's
//! chromium (playwright-core, tests/web/stats.mjs) signs in as the auditor, reads the figures
//! and runs axe-core. `KYSO_SCREENSHOTS=docs/img` keeps the screenshot README.md shows.

mod serve_support;

use kyso_archive::{ingest, Access, Activity, Archive, Ingest, Metadata, Query, Status, Total};
use serve_support::*;
use std::path::PathBuf;
use std::process::Command;

fn node_modules() -> PathBuf {
    let p = std::env::var_os("KYSO_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/kyso/web/node_modules")
        });
    assert!(
        p.join("playwright-core").is_dir() && p.join("axe-core").is_dir(),
        "{} lacks playwright-core or axe-core: deploy/test installs them",
        p.display()
    );
    p
}

fn put(ar: &Archive, code: &str, agency: &str, date: &str, n: u32) -> u64 {
    ingest(
        ar,
        &kyso_verify::Validator::default(),
        Ingest {
            document: format!("kết quả {n}").into_bytes(),
            metadata: Metadata {
                code: code.into(),
                agency: Some(agency.into()),
                issue_date: Some(date.into()),
                ..Default::default()
            },
            user: "canbo.motcua".into(),
            allow_unverified: Some("test document without a signature".into()),
            ..Default::default()
        },
    )
    .unwrap()
    .record
}

#[test]
fn auditor_reads_the_quarterly_report_on_the_stats_page_and_the_api() {
    let modules = node_modules();
    let mut a = Appliance::start();
    a.stop();
    // The archive: agency A has 5 GKS in Q1 2026 (one superseded by a sixth, one revoked)
    // and 2 KH in Q2; agency B has 3 GP in Q2. Totals: A GKS Q1 = 8.
    let (ag_a, ag_b) = ("UBND phường Hoàn Kiếm", "Sở Xây dựng");
    {
        let ar = Archive::open(&a.db()).unwrap();
        let mut ids = Vec::new();
        for n in 0..5 {
            ids.push(put(
                &ar,
                &format!("00109901234{n}.GKS"),
                ag_a,
                "2026-02-10",
                n,
            ));
        }
        let newer = put(&ar, "001099012340.GKS", ag_a, "2026-03-01", 9);
        ar.set_status(ids[0], Status::SupersededBy { record: newer }, "lanhdao")
            .unwrap();
        ar.set_status(
            ids[1],
            Status::Revoked {
                reason: "cấp nhầm".into(),
            },
            "lanhdao",
        )
        .unwrap();
        for n in 0..2 {
            put(
                &ar,
                &format!("00109901235{n}.KH"),
                ag_a,
                "2026-05-10",
                10 + n,
            );
        }
        for n in 0..3 {
            put(
                &ar,
                &format!("00109901236{n}.GP"),
                ag_b,
                "2026-06-30",
                20 + n,
            );
        }
        let access = Access::new("canbo.motcua", "tra cứu");
        // Two lookups that found a valid record, one that found only a revoked one.
        ar.find(&Query::Code("001099012340.GKS".into()), &access)
            .unwrap();
        ar.find(&Query::Code("001099012360.GP".into()), &access)
            .unwrap();
        ar.find(&Query::Code("001099012341.GKS".into()), &access)
            .unwrap();
        ar.log(
            Activity::Totals {
                totals: vec![Total {
                    agency: ag_a.into(),
                    doc_type: "GKS".into(),
                    quarter: "2026-Q1".into(),
                    total: 8,
                }],
            },
            "quantri",
        )
        .unwrap();
    }
    a.launch();
    // Ingested 11; valid 11 − 1 superseded − 1 revoked = 9; reused 2; A GKS Q1: 6 ingested,
    // 1 superseded → 5 digitized of 8 = 62.5 %.
    // Lookups count in the quarter they were made (today's), results in their issue date's.
    let today = kyso_archive::stats::today();
    let last = kyso_archive::stats::Quarter::of_date(&today)
        .unwrap()
        .last_day();
    let q = &format!("/v1/stats?from=2026-01-01&to={today}");
    let auditor = a.agent(Who::Token("auditor"));
    let r = auditor.get(&format!("{q}&by=agency"));
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["all"]["ingested"], 11);
    assert_eq!(j["all"]["valid"], 9);
    assert_eq!(j["all"]["reused"], 2);
    assert_eq!(j["rows"][0]["agency"], ag_b);
    assert_eq!(j["rows"][0]["ingested"], 3);
    assert_eq!(j["rows"][1]["ingested"], 8);
    assert_eq!(j["rows"][1]["percent"], 62.5);
    assert_eq!(a.agent(Who::Token("admin")).get(q).status, 200);
    for who in ["clerk", "verifier", "signer", "archivist"] {
        assert_eq!(a.agent(Who::Token(who)).get(q).status, 403, "{who}");
    }
    // CSV: a table for Python's csv module.
    let r = auditor.get(&format!("{q}&format=csv&by=quarter"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let csv_file = a.dir.path().join("stats.csv");
    std::fs::write(&csv_file, r.text()).unwrap();
    let out = python(
        "import csv, sys\nrows = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8')))\nprint(' '.join(r['quarter'] + '=' + r['ingested'] for r in rows if r['ingested'] != '0'))",
        &[csv_file.to_str().unwrap()],
    );
    assert_eq!(out.trim(), "2026-Q1=6 2026-Q2=5 all=11");
    // Bad queries: 400 with what was wrong.
    for (bad, says) in [
        ("from=2026-13-01", "not a date"),
        ("from=2026-06-01&to=2026-01-01", "after"),
        ("from=1000-01-01&to=9999-12-31", "at most 40"),
        ("by=citizen", "one of agency"),
        ("format=xlsx", "json or csv"),
        ("sql=1", ""),
    ] {
        let r = auditor.get(&format!("/v1/stats?{bad}"));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.text().contains(says), "{bad}: {}", r.text());
    }

    let shots = std::env::var_os("KYSO_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| a.dir.path().to_path_buf());
    let want = serde_json::json!({
        "from": "2026-01-01", "to": today,
        "heading_vi": format!("Từ 01/01/2026 đến {}/{}/{}", &last[8..], &last[5..7], &last[..4]),
        "heading_en": format!("From 2026-01-01 to {last}"),
        "ingested": 11, "valid": 9, "reused": 2, "percent_vi": "62,5 %",
        "by_agency": { ag_a: 8, ag_b: 3 },
    });
    let out = Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web/stats.mjs"))
        .env("KYSO_NODE_MODULES", &modules)
        .env("KYSO_URL", &a.base)
        .env("KYSO_WEB_SHOTS", &shots)
        .env("KYSO_WEB_EXPECT_CSP", kyso_csp())
        .env("KYSO_WEB_STATS_WANT", want.to_string())
        .env("KYSO_WEB_AUDITOR_TOKEN", a.token("auditor"))
        .output()
        .expect("node runs (deploy/test installs it)");
    assert!(
        out.status.success(),
        "stats.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let last = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(last.lines().last().unwrap_or("{}")).unwrap();
    assert!(summary["checks"].as_array().unwrap().len() >= 6, "{last}");
}

/// The page's CSP as the service sends it (src/serve/web/mod.rs).
fn kyso_csp() -> &'static str {
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"
}
