//! The quarterly digitization report: statistics from the archive's counters agree with a
//! count the test makes itself from the records it archived — several agencies, document
//! types and quarters, supersessions, revocations, expiries, lookups that found a valid record,
//! signatures and totals — on a real RocksDB directory; an older database gets its counters at
//! open; the audit recomputes them from the log and finds a forged one; the CSV opens as a
//! table in Python's csv module.

mod common;

use common::{kyso_cmd, Run};
use kyso_archive::audit::{self, AuditOptions};
use kyso_archive::stats::{By, StatsQuery, StatsReport, Total};
use kyso_archive::{ingest, Access, Activity, Archive, Ingest, Metadata, Query, Status};
use std::collections::BTreeMap;

const AGENCIES: [&str; 3] = ["UBND Hoàn Kiếm", "Sở Tư pháp, Hà Nội", ""];
const TYPES: [&str; 3] = ["GKS", "KH", "GP"];

/// A small deterministic generator (the test's choices, reproducible).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What the test archived, per agency × type × quarter.
#[derive(Default, Clone, Debug, PartialEq)]
struct Count {
    ingested: u64,
    superseded: u64,
    revoked: u64,
    expired: u64,
    signatures: u64,
    reused: u64,
    total: Option<u64>,
}

type Key = (String, String, String);

/// `2026-Q1` of a date.
fn quarter_of(date: &str) -> String {
    let m: u32 = date[5..7].parse().unwrap();
    format!("{}-Q{}", &date[..4], (m - 1) / 3 + 1)
}

/// The quarter of an RFC 3339 UTC time in Hà Nội (+07:00): the next day from 17:00 UTC.
fn quarter_of_time(t: &str) -> String {
    assert!(t.ends_with('Z'), "{t}");
    let hour: u32 = t[11..13].parse().unwrap();
    let md = &t[5..10];
    let crosses = hour >= 17 && ["03-31", "06-30", "09-30", "12-31"].contains(&md);
    let q = quarter_of(&t[..10]);
    if !crosses {
        return q;
    }
    let (y, n): (u32, u32) = (q[..4].parse().unwrap(), q[6..].parse().unwrap());
    if n == 4 {
        format!("{}-Q1", y + 1)
    } else {
        format!("{y}-Q{}", n + 1)
    }
}

struct Rec {
    id: u64,
    agency: String,
    doc_type: String,
    quarter: String,
    code: String,
    status: Status,
}

fn put(ar: &Archive, code: &str, agency: &str, date: Option<&str>, n: u64) -> u64 {
    ingest(
        ar,
        &kyso_verify::Validator::default(),
        Ingest {
            document: format!("kết quả số {n} của {code}").into_bytes(),
            metadata: Metadata {
                code: code.into(),
                agency: (!agency.is_empty()).then(|| agency.into()),
                issue_date: date.map(str::to_string),
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

fn last_event_time(ar: &Archive) -> String {
    let e: serde_json::Value =
        serde_json::from_slice(&ar.event_bytes(ar.size() - 1).unwrap()).unwrap();
    e["time"].as_str().unwrap().to_string()
}

/// Archive a varied year of results and act on them; the test's own count of each cell.
fn archive_a_year(ar: &Archive) -> BTreeMap<Key, Count> {
    let mut rng = Lcg(14);
    let mut recs: Vec<Rec> = Vec::new();
    let mut want: BTreeMap<Key, Count> = BTreeMap::new();
    let dates = [
        "2025-11-20",
        "2025-12-31",
        "2026-01-01",
        "2026-03-31",
        "2026-04-01",
        "2026-08-15",
        "2026-09-30",
    ];
    for n in 0..240u64 {
        let agency = AGENCIES[rng.next(3) as usize];
        let doc_type = TYPES[rng.next(3) as usize];
        // One subject per agency and a few people each: codes repeat only within an agency.
        let a = AGENCIES.iter().position(|x| *x == agency).unwrap();
        let subject = format!("001099{:06}", a * 1000 + rng.next(40) as usize);
        let code = format!("{subject}.{doc_type}");
        let date = (rng.next(8) != 0).then(|| dates[rng.next(dates.len() as u64) as usize]);
        let id = put(ar, &code, agency, date, n);
        let quarter = match date {
            Some(d) => quarter_of(d),
            None => quarter_of_time(&last_event_time(ar)),
        };
        want.entry((agency.into(), doc_type.into(), quarter.clone()))
            .or_default()
            .ingested += 1;
        recs.push(Rec {
            id,
            agency: agency.into(),
            doc_type: doc_type.into(),
            quarter,
            code,
            status: Status::Valid,
        });
    }
    // Supersessions: a record by a later valid version of the same code (same agency); then
    // revocations and expiries, some of superseded records (the record moves counters).
    for i in 0..recs.len() {
        let later = (i + 1..recs.len()).find(|&j| {
            recs[j].code == recs[i].code
                && recs[j].agency == recs[i].agency
                && recs[j].status == Status::Valid
        });
        if let (Some(j), 0..=1) = (later, rng.next(3)) {
            if recs[i].status == Status::Valid {
                let s = Status::SupersededBy { record: recs[j].id };
                ar.set_status(recs[i].id, s.clone(), "lanhdao").unwrap();
                recs[i].status = s;
            }
        }
    }
    for r in recs.iter_mut() {
        let s = match rng.next(10) {
            0 => Status::Revoked {
                reason: "cấp nhầm".into(),
            },
            // On or after its issue date (the latest is 2026-09-30), on a day that has come.
            1 if !matches!(r.status, Status::SupersededBy { .. }) => Status::Expired {
                on: "2026-10-01".into(),
            },
            _ => continue,
        };
        ar.set_status(r.id, s.clone(), "lanhdao").unwrap();
        r.status = s;
    }
    for r in &recs {
        let key = (r.agency.clone(), r.doc_type.clone(), r.quarter.clone());
        let c = want.entry(key).or_default();
        match r.status {
            Status::Valid => {}
            Status::SupersededBy { .. } => c.superseded += 1,
            Status::Revoked { .. } => c.revoked += 1,
            Status::Expired { .. } => c.expired += 1,
        }
    }
    // Lookups by code and by subject: each that found valid records reuses one document per
    // agency × type among them; lookups that found only invalid records reuse nothing.
    let access = Access::new("canbo.motcua", "công dân không phải nộp lại giấy tờ");
    let mut codes: Vec<&str> = recs.iter().map(|r| r.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes.iter().step_by(3) {
        let found = ar.find(&Query::Code(code.to_string()), &access).unwrap();
        let q = quarter_of_time(&last_event_time(ar));
        let mut cells: Vec<(String, String)> = recs
            .iter()
            .filter(|r| r.code == *code && r.status == Status::Valid)
            .map(|r| (r.agency.clone(), r.doc_type.clone()))
            .collect();
        cells.sort();
        cells.dedup();
        assert_eq!(
            found
                .records
                .iter()
                .filter(|(_, s)| *s == Status::Valid)
                .count(),
            recs.iter()
                .filter(|r| r.code == *code && r.status == Status::Valid)
                .count()
        );
        for (a, t) in cells {
            want.entry((a, t, q.clone())).or_default().reused += 1;
        }
    }
    for subject in ["001099000003", "001099001007", "001099002011"] {
        ar.find(&Query::Subject(subject.into()), &access).unwrap();
        let q = quarter_of_time(&last_event_time(ar));
        let mut cells: Vec<(String, String)> = recs
            .iter()
            .filter(|r| r.code.starts_with(subject) && r.status == Status::Valid)
            .map(|r| (r.agency.clone(), r.doc_type.clone()))
            .collect();
        cells.sort();
        cells.dedup();
        for (a, t) in cells {
            want.entry((a, t, q.clone())).or_default().reused += 1;
        }
    }
    // A lookup by agency is not a reuse.
    ar.find(
        &Query::Agency {
            agency: AGENCIES[0].into(),
            from: "2025-01-01".into(),
            to: "2026-12-31".into(),
        },
        &access,
    )
    .unwrap();
    for n in 0..7 {
        ar.log(
            Activity::Signature {
                document_sha256: format!("{n:064x}"),
                signer: "CN=Nguyễn Văn A".into(),
                format: "PAdES-B-T".into(),
            },
            "lanhdao",
        )
        .unwrap();
        let q = quarter_of_time(&last_event_time(ar));
        want.entry((String::new(), String::new(), q))
            .or_default()
            .signatures += 1;
    }
    // Totals for two cells; the second file corrects one of them (the latest counts).
    let total = |a: &str, t: &str, q: &str, n: u64| Total {
        agency: a.into(),
        doc_type: t.into(),
        quarter: q.into(),
        total: n,
    };
    ar.log(
        Activity::Totals {
            totals: vec![
                total(AGENCIES[0], "GKS", "2026-Q1", 50),
                total(AGENCIES[1], "KH", "2026-Q3", 10),
            ],
        },
        "quantri",
    )
    .unwrap();
    ar.log(
        Activity::Totals {
            totals: vec![total(AGENCIES[0], "GKS", "2026-Q1", 40)],
        },
        "quantri",
    )
    .unwrap();
    want.entry((AGENCIES[0].into(), "GKS".into(), "2026-Q1".into()))
        .or_default()
        .total = Some(40);
    want.entry((AGENCIES[1].into(), "KH".into(), "2026-Q3".into()))
        .or_default()
        .total = Some(10);
    want
}

fn query(ar: &Archive, by: Option<By>) -> StatsReport {
    ar.stats(&StatsQuery {
        from: "2025-10-01".into(),
        to: "2027-12-31".into(),
        by,
    })
    .unwrap()
}

/// The report's rows against the test's count grouped the same way.
fn check(report: &StatsReport, want: &BTreeMap<Key, Count>, by: Option<By>) {
    let mut groups: BTreeMap<Key, Count> = BTreeMap::new();
    for ((a, t, q), c) in want {
        let g = match by {
            None => (a.clone(), t.clone(), q.clone()),
            Some(By::Agency) => (a.clone(), String::new(), String::new()),
            Some(By::Type) => (String::new(), t.clone(), String::new()),
            Some(By::Quarter) => (String::new(), String::new(), q.clone()),
        };
        let e = groups.entry(g).or_default();
        e.ingested += c.ingested;
        e.superseded += c.superseded;
        e.revoked += c.revoked;
        e.expired += c.expired;
        e.signatures += c.signatures;
        e.reused += c.reused;
        if let Some(t) = c.total {
            *e.total.get_or_insert(0) += t;
        }
    }
    let got: BTreeMap<Key, Count> = report
        .rows
        .iter()
        .map(|r| {
            (
                (
                    r.agency.clone().unwrap_or_default(),
                    r.doc_type.clone().unwrap_or_default(),
                    r.quarter.clone().unwrap_or_default(),
                ),
                Count {
                    ingested: r.ingested,
                    superseded: r.superseded,
                    revoked: r.revoked,
                    expired: r.expired,
                    signatures: r.signatures,
                    reused: r.reused,
                    total: r.total,
                },
            )
        })
        .collect();
    assert_eq!(got, groups, "by {by:?}");
    for r in &report.rows {
        assert_eq!(r.valid, r.ingested - r.superseded - r.revoked - r.expired);
    }
}

#[test]
fn province_reports_a_year_of_digitization_from_the_counters() {
    let dir = tempfile::tempdir().unwrap();
    let ar = Archive::open(dir.path()).unwrap();
    let want = archive_a_year(&ar);
    // The count is not trivial: every kind of change happened, in several quarters.
    let sum = |f: fn(&Count) -> u64| want.values().map(f).sum::<u64>();
    assert_eq!(sum(|c| c.ingested), 240);
    for (what, n) in [
        ("superseded", sum(|c| c.superseded)),
        ("revoked", sum(|c| c.revoked)),
        ("expired", sum(|c| c.expired)),
        ("reused", sum(|c| c.reused)),
    ] {
        assert!(n >= 5, "{what}: {n}");
    }
    assert!(
        want.keys()
            .map(|k| &k.2)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            >= 4
    );

    for by in [None, Some(By::Agency), Some(By::Type), Some(By::Quarter)] {
        check(&query(&ar, by), &want, by);
    }
    // Digitized vs total where a total was given: ingested − superseded of that cell.
    let all = query(&ar, None);
    let cell = all
        .rows
        .iter()
        .find(|r| {
            r.agency.as_deref() == Some(AGENCIES[0])
                && r.doc_type.as_deref() == Some("GKS")
                && r.quarter.as_deref() == Some("2026-Q1")
        })
        .unwrap();
    let c = &want[&(AGENCIES[0].into(), "GKS".into(), "2026-Q1".into())];
    assert_eq!(cell.digitized, Some(c.ingested - c.superseded));
    let pct = ((c.ingested - c.superseded) as f64 * 1000.0 / 40.0).round() / 10.0;
    assert_eq!(cell.percent, Some(pct));
    assert_eq!(all.all.ingested, 240);
    assert_eq!(all.all.total, Some(50));
    // One quarter only: the rows of other quarters are not there.
    let q1 = ar
        .stats(&StatsQuery {
            from: "2026-02-10".into(),
            to: "2026-03-01".into(),
            by: Some(By::Quarter),
        })
        .unwrap();
    assert_eq!(
        (q1.from.as_str(), q1.to.as_str()),
        ("2026-01-01", "2026-03-31")
    );
    assert_eq!(q1.rows.len(), 1);
    assert_eq!(
        q1.rows[0].ingested,
        want.iter()
            .filter(|(k, _)| k.2 == "2026-Q1")
            .map(|(_, c)| c.ingested)
            .sum::<u64>()
    );

    // The audit recomputes every counter from the log.
    drop(ar);
    let r = audit::verify(dir.path(), AuditOptions::default()).unwrap();
    assert!(r.counters_checked.unwrap() > 20, "{r:?}");

    // The CSV is a table for Python's csv module: a header, one line per row, then "all".
    let ar = Archive::open(dir.path()).unwrap();
    let csv_path = dir.path().join("stats.csv");
    std::fs::write(&csv_path, query(&ar, Some(By::Agency)).to_csv()).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import csv, json, sys\n\
             rows = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8')))\n\
             print(json.dumps(rows))",
        ])
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<BTreeMap<String, String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows.len(),
        4,
        "three agencies (one unnamed) and all: {rows:?}"
    );
    let hk = rows.iter().find(|r| r["agency"] == AGENCIES[1]).unwrap();
    let want_hk: u64 = want
        .iter()
        .filter(|(k, _)| k.0 == AGENCIES[1])
        .map(|(_, c)| c.ingested)
        .sum();
    assert_eq!(hk["ingested"], want_hk.to_string());
    assert_eq!(rows[3]["agency"], "all");
    assert_eq!(rows[3]["ingested"], "240");
    assert!(!rows[0].contains_key("quarter"));
}

#[test]
fn an_older_archive_gets_its_counters_at_open_and_the_audit_finds_a_forged_one() {
    let dir = tempfile::tempdir().unwrap();
    let ar = Archive::open(dir.path()).unwrap();
    let want = archive_a_year(&ar);
    let before = query(&ar, None);
    drop(ar);
    // As a database from before the counters: no counters, no mark.
    {
        let mut db = rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            dir.path(),
            kyso_archive::store::CFS,
        )
        .unwrap();
        db.drop_cf("stats").unwrap();
        db.delete_cf(db.cf_handle("meta").unwrap(), b"stats_built")
            .unwrap();
    }
    // The audit of a database whose counters are not built says it did not check them.
    let r = audit::verify(dir.path(), AuditOptions::default()).unwrap();
    assert_eq!(r.counters_checked, None);
    let ar = Archive::open(dir.path()).unwrap();
    let after = query(&ar, None);
    assert_eq!(after, before);
    check(&after, &want, None);
    drop(ar);
    audit::verify(dir.path(), AuditOptions::default()).unwrap();

    // One counter changed behind the log's back: the audit names it.
    {
        let db = rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            dir.path(),
            kyso_archive::store::CFS,
        )
        .unwrap();
        let cf = db.cf_handle("stats").unwrap();
        let (k, v) = db
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(Result::unwrap)
            .find(|(k, _)| k[0] == b'i')
            .unwrap();
        let n = u64::from_be_bytes((*v).try_into().unwrap());
        db.put_cf(cf, &k, (n + 1).to_be_bytes()).unwrap();
    }
    let e = audit::verify(dir.path(), AuditOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 20);
    assert!(e.to_string().contains("statistics counter Ingested"), "{e}");

    // Counters the log never made, at zero (helper 167: both passed the audit): a total of 0
    // beside a cell, which `stats` reads as a total given, and a key that is no counter's,
    // which stops every report of its quarter.
    let open = || {
        rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            dir.path(),
            kyso_archive::store::CFS,
        )
        .unwrap()
    };
    let first_ingested = |db: &rocksdb::DB| {
        let cf = db.cf_handle("stats").unwrap();
        db.iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(Result::unwrap)
            .find(|(k, _)| k[0] == b'i')
            .unwrap()
    };
    {
        // The ingested counter as it was.
        let db = open();
        let (k, v) = first_ingested(&db);
        let n = u64::from_be_bytes((*v).try_into().unwrap());
        db.put_cf(db.cf_handle("stats").unwrap(), &k, (n - 1).to_be_bytes())
            .unwrap();
    }
    audit::verify(dir.path(), AuditOptions::default()).unwrap();
    let forge = |key: &dyn Fn(&[u8]) -> Vec<u8>, why: &str| {
        let forged = {
            let db = open();
            let (k, _) = first_ingested(&db);
            let forged = key(&k);
            db.put_cf(db.cf_handle("stats").unwrap(), &forged, 0u64.to_be_bytes())
                .unwrap();
            forged
        };
        let e = audit::verify(dir.path(), AuditOptions::default()).unwrap_err();
        assert_eq!(e.exit_code(), 20, "{e}");
        assert!(e.to_string().contains(why), "{e}");
        let db = open();
        db.delete_cf(db.cf_handle("stats").unwrap(), &forged)
            .unwrap();
    };
    forge(
        &|k| {
            let mut t = k.to_vec();
            t[0] = b't';
            t
        },
        "statistics counter Total",
    );
    forge(
        &|k| {
            let mut t = k[..8].to_vec();
            t.extend_from_slice(b"JUNK");
            t
        },
        "which is no counter's",
    );
}

/// A clerk's 100,001 type codes in one quarter (counters written directly, as 100,001 ingests
/// would leave them): the cap on cells counted them before grouping, so every report of the
/// quarter failed, even one row per quarter (helper 167). Grouped, it is one row; by cell, the
/// cap still says so.
#[test]
fn a_quarter_of_more_cells_than_the_cap_is_reported_by_agency_type_or_quarter() {
    use kyso_archive::stats::{Cell, Counter, Quarter, StatKey, MAX_CELLS};
    let dir = tempfile::tempdir().unwrap();
    drop(Archive::open(dir.path()).unwrap());
    {
        let db = rocksdb::DB::open_cf(
            &rocksdb::Options::default(),
            dir.path(),
            kyso_archive::store::CFS,
        )
        .unwrap();
        let cf = db.cf_handle("stats").unwrap();
        let mut batch = rocksdb::WriteBatch::default();
        for i in 0..=MAX_CELLS {
            let k = StatKey {
                counter: Counter::Ingested,
                cell: Cell {
                    quarter: Quarter { year: 2026, q: 3 },
                    agency: "UBND A".into(),
                    doc_type: format!("T{i}"),
                },
            };
            batch.put_cf(cf, k.encode(), 1u64.to_be_bytes());
        }
        db.write(batch).unwrap();
    }
    let ar = Archive::open(dir.path()).unwrap();
    let q = |by| StatsQuery {
        from: "2026-07-01".into(),
        to: "2026-09-30".into(),
        by,
    };
    for by in [By::Quarter, By::Agency] {
        let r = ar.stats(&q(Some(by))).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.all.ingested, MAX_CELLS as u64 + 1);
    }
    let e = ar.stats(&q(None)).unwrap_err();
    assert!(
        e.to_string().contains("cells: ask for fewer quarters"),
        "{e}"
    );
}

fn kyso(args: &[&str]) -> Run {
    kyso_cmd().args(args).output().unwrap().into()
}

#[test]
fn administrator_gives_totals_and_reads_the_report_from_the_cli_and_bad_input_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let dbs = db.to_str().unwrap();
    {
        let ar = Archive::open(&db).unwrap();
        for n in 0..3 {
            let date = format!("2026-02-0{}", n + 1);
            put(&ar, "001099012345.GKS", "UBND Hoàn Kiếm", Some(&date), n);
        }
    }
    let file = dir.path().join("totals.csv");
    // `kyso stats totals` of a file holding `body`.
    let totals = |body: &str| -> Run {
        std::fs::write(&file, body).unwrap();
        kyso(&[
            "stats",
            "totals",
            "--db",
            dbs,
            "--file",
            file.to_str().unwrap(),
            "--user",
            "quantri",
        ])
    };
    // A totals file given, which must be taken.
    let give = |body: &str| {
        let r = totals(body);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    give("agency,type,quarter,total\r\nUBND Hoàn Kiếm,GKS,2026-Q1,4\r\n");
    let size = || Archive::open(&db).unwrap().size();
    let logged = size();

    let by_agency_q1 = || {
        let r = kyso(&[
            "stats",
            "--db",
            dbs,
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--by",
            "agency",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let j = by_agency_q1();
    assert_eq!(j["rows"][0]["agency"], "UBND Hoàn Kiếm");
    assert_eq!(j["rows"][0]["ingested"], 3);
    assert_eq!(j["rows"][0]["total"], 4);
    assert_eq!(j["rows"][0]["percent"], 75.0);
    let r = kyso(&[
        "stats",
        "--db",
        dbs,
        "--from",
        "2026-01-01",
        "--to",
        "2026-03-31",
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("agency,type,quarter,ingested,"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\r\nUBND Hoàn Kiếm,GKS,2026-Q1,3,0,0,0,3,0,0,4,3,75.0\r\n"),
        "{}",
        r.stdout
    );

    // Bad queries: a clear error and exit 5 (bad input).
    for (args, says) in [
        (&["--from", "2026-02-30"][..], "not a date"),
        (&["--from", "2026-04-01", "--to", "2026-01-01"], "after"),
        (
            &["--from", "0001-01-01", "--to", "9999-12-31"],
            "quarters; at most 40",
        ),
        (&["--by", "person"], "one of agency, type, quarter"),
    ] {
        let r = kyso(&[&["stats", "--db", dbs][..], args].concat());
        assert_eq!(r.code, 5, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    // Bad totals files: nothing is logged.
    let huge = "agency,type,quarter,total\n".to_string() + &"A,B,2026-Q1,1\n".repeat(100_000);
    for (body, code, says) in [
        (
            "agency,type,quarter,total\nA,GKS,2026-Q1,x\n".to_string(),
            5,
            "line 2",
        ),
        (
            "agency;type;quarter;total\nA;GKS;2026-Q1;1\n".to_string(),
            5,
            "header",
        ),
        (
            "agency,type,quarter,total\nA,GKS,2026-Q1,1\nB,\"unclosed\n".to_string(),
            5,
            "fields",
        ),
        (huge, 23, "bytes"),
    ] {
        let r = totals(&body);
        assert_eq!(r.code, code, "{says}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{says}: {}", r.stderr);
    }
    assert_eq!(size(), logged);

    // A total of 0 takes the total back: the results were counted against 0, 150 % of it
    // beside another cell's total (helper 167).
    give("agency,type,quarter,total\r\nUBND Hoàn Kiếm,GKS,2026-Q1,0\r\nNobody,GKS,2026-Q1,0\r\n");
    // A cell with only a total of 0 is no row, by cell as by agency (helper 169).
    let r = kyso(&[
        "stats",
        "--db",
        dbs,
        "--from",
        "2026-01-01",
        "--to",
        "2026-03-31",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("Nobody"), "{}", r.stdout);
    let j = by_agency_q1();
    assert_eq!(j["rows"][0]["ingested"], 3);
    assert!(j["rows"][0]["total"].is_null(), "{j}");
    assert!(j["rows"][0]["percent"].is_null(), "{j}");
}
