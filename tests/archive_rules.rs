//! The archive's rules hold inside the archive, under concurrency, whoever calls it: the
//! kyso-archive API on a real RocksDB directory, as the HTTP service will use it from many
//! request handlers at once.

use kyso_archive::audit::{self, AuditOptions};
use kyso_archive::{
    ingest, Access, Activity, Archive, ArchiveError, Config, Event, Ingest, Metadata, Query, Status,
};
use std::path::Path;
use std::sync::{Arc, Barrier};

fn request(code: &str, doc: Vec<u8>) -> Ingest {
    Ingest {
        document: doc,
        metadata: Metadata {
            code: code.into(),
            ..Default::default()
        },
        user: "canbo.motcua".into(),
        allow_unverified: Some("test document without a signature".into()),
        ..Default::default()
    }
}

fn put(ar: &Archive, code: &str, doc: &[u8]) -> u64 {
    ingest(
        ar,
        &kyso_verify::Validator::default(),
        request(code, doc.to_vec()),
    )
    .unwrap()
    .record
}

fn events(ar: &Archive) -> Vec<Event> {
    (0..ar.size())
        .map(|i| serde_json::from_slice(&ar.event_bytes(i).unwrap()).unwrap())
        .collect()
}

/// The structural audit (no checkpoints were signed, so no log key is needed).
fn audit_clean(dir: &Path) {
    audit::verify(dir, AuditOptions::default()).unwrap();
}

#[test]
fn revoking_and_expiring_at_once_never_leaves_a_status_after_a_revocation() {
    const N: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let ar = Arc::new(Archive::open(dir.path()).unwrap());
    for i in 0..N {
        put(&ar, "001099012345.GP", format!("giấy phép {i}").as_bytes());
    }
    // Two officials act on the same record at the same moment, N times over: one revokes it,
    // the other marks it expired.
    let barrier = Arc::new(Barrier::new(2));
    let act = |status: fn(u64) -> Status| {
        let (ar, barrier) = (ar.clone(), barrier.clone());
        std::thread::spawn(move || {
            (0..N)
                .map(|id| {
                    barrier.wait();
                    ar.set_status(id, status(id), "lanhdao")
                        .map_err(|e| e.exit_code())
                })
                .collect::<Vec<_>>()
        })
    };
    let revoke = act(|id| Status::Revoked {
        reason: format!("cấp nhầm {id}"),
    });
    let expire = act(|_| Status::Expired {
        on: "2026-01-01".into(),
    });
    let (revoked, expired) = (revoke.join().unwrap(), expire.join().unwrap());
    // A revocation is never refused (nothing before it is final); an expiry is refused
    // exactly when the revocation got in first.
    assert!(revoked.iter().all(Result::is_ok), "{revoked:?}");
    assert!(
        expired.iter().all(|r| r.is_ok() || *r == Err(8)),
        "{expired:?}"
    );
    let mut last: Vec<Option<Status>> = vec![None; N as usize];
    for e in events(&ar) {
        if let Event::Status { record, status, .. } = e {
            let before = last[record as usize].replace(status.clone());
            assert!(
                !matches!(before, Some(Status::Revoked { .. })),
                "record {record}: {status:?} was logged after its revocation"
            );
        }
    }
    let refused = expired.iter().filter(|r| r.is_err()).count();
    for (id, s) in last.iter().enumerate() {
        assert!(
            matches!(s, Some(Status::Revoked { .. })),
            "record {id}: {s:?}"
        );
    }
    eprintln!("expiry refused after the revocation {refused} times of {N}");
    drop(ar);
    audit_clean(dir.path());
}

#[test]
fn concurrent_retries_of_one_request_store_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let ar = Arc::new(Archive::open(dir.path()).unwrap());
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (ar, barrier) = (ar.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut req = request("001099012345.GP", b"giay phep so 42".to_vec());
                req.request_id = Some("hs-42".into());
                barrier.wait();
                ingest(&ar, &kyso_verify::Validator::default(), req).unwrap()
            })
        })
        .collect();
    let got: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(got.iter().all(|g| g.record == 0 && g.leaf == 0));
    assert_eq!(got.iter().filter(|g| !g.existing).count(), 1, "stored once");
    assert_eq!(ar.size(), 1, "one ingest event");
    let mut other = request("001099012345.GP", b"another document".to_vec());
    other.request_id = Some("hs-42".into());
    let e = ingest(&ar, &kyso_verify::Validator::default(), other).unwrap_err();
    assert!(
        matches!(e, ArchiveError::RequestConflict { record: 0, .. }),
        "{e}"
    );
    assert_eq!(e.exit_code(), 24);
    assert_eq!(ar.size(), 1);
    drop(ar);
    audit_clean(dir.path());
}

#[test]
fn a_write_batch_is_capped_by_bytes_and_a_document_by_the_configured_size() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        max_document_bytes: 8 << 20,
        max_batch_bytes: 4 << 20,
    };
    let ar = Arc::new(Archive::open_with(dir.path(), config).unwrap());
    // 16 clients send 1 MiB documents at once: no batch holds more than 4 MiB of them.
    let handles: Vec<_> = (0..16u8)
        .map(|t| {
            let ar = ar.clone();
            std::thread::spawn(move || {
                for i in 0..3u8 {
                    put(&ar, "001099012345.SCAN", &vec![t * 3 + i; 1 << 20]);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let largest = ar.largest_batch_bytes();
    assert!((1 << 20..=4 << 20).contains(&largest), "{largest}");
    // A document larger than a batch is a batch of its own.
    put(&ar, "001099012345.SCAN", &vec![200u8; 6 << 20]);
    assert!(ar.largest_batch_bytes() <= (6 << 20) + 1024);
    // One over the configured size is refused before anything is written.
    let size = ar.size();
    let e = ingest(
        &ar,
        &kyso_verify::Validator::default(),
        request("001099012345.SCAN", vec![1u8; (8 << 20) + 1]),
    )
    .unwrap_err();
    assert!(
        matches!(e, ArchiveError::TooLarge { limit, .. } if limit == 8 << 20),
        "{e}"
    );
    assert_eq!(e.exit_code(), 23);
    assert_eq!(ar.size(), size);
    drop(ar);
    audit_clean(dir.path());
}

/// Change the database behind the archive's back (an insider with the files).
fn tamper(db: &Path, f: impl FnOnce(&rocksdb::DB)) {
    let d =
        rocksdb::DB::open_cf(&rocksdb::Options::default(), db, kyso_archive::store::CFS).unwrap();
    f(&d);
}

fn meta(d: &rocksdb::DB, key: &str, v: u64) {
    d.put_cf(d.cf_handle("meta").unwrap(), key, v.to_be_bytes())
        .unwrap();
}

#[test]
fn an_archive_whose_counters_are_behind_its_data_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let ar = Archive::open(dir.path()).unwrap();
    for i in 0..3 {
        put(&ar, "001099012345.GP", format!("doc {i}").as_bytes());
    }
    drop(ar);
    let refused = |what: &str| {
        let e = Archive::open(dir.path()).err().expect("opened");
        assert_eq!(e.exit_code(), 20, "{e}");
        assert!(e.to_string().contains(what), "{e}");
        assert!(e.to_string().contains("refusing to open"), "{e}");
    };
    // The log counter set back: the next event would overwrite event 2 and its leaf.
    tamper(dir.path(), |d| meta(d, "tree_size", 2));
    refused("the log counter says 2 entries but the last stored event is Some(2)");
    tamper(dir.path(), |d| meta(d, "tree_size", 3));
    // The record counter set back: the next ingest would overwrite record 2.
    tamper(dir.path(), |d| meta(d, "next_record_id", 2));
    refused("the record counter says 2 records but the last stored record is Some(2)");
    tamper(dir.path(), |d| meta(d, "next_record_id", 3));
    // A tree node planted beyond the tree: it would be overwritten, or trusted.
    tamper(dir.path(), |d| {
        let k = kyso_archive::schema::node_key(1, 5);
        d.put_cf(d.cf_handle("nodes").unwrap(), k, [0u8; 32])
            .unwrap();
    });
    refused("the last tree node of level 1 is Some(5)");
    tamper(dir.path(), |d| {
        let k = kyso_archive::schema::node_key(1, 5);
        d.delete_cf(d.cf_handle("nodes").unwrap(), k).unwrap();
    });
    // Put right, it opens and nothing was lost.
    let ar = Archive::open(dir.path()).unwrap();
    let c = ar
        .read_content(2, &Access::new("canbo", "kiểm tra"))
        .unwrap();
    assert_eq!(c.document, b"doc 2");
}

/// The lookup entries are derived from the records: an insider who moves one to another
/// citizen's record, or changes a stored record, has a lookup or a read refuse (exit 20,
/// naming the record), not answer with another citizen's record — and a refused lookup logs
/// nothing. (The audit found both; until 2026-12-06 the lookups returned the record.)
#[test]
fn a_lookup_entry_moved_to_another_record_or_a_changed_record_is_refused_not_returned() {
    use kyso_archive::schema::IndexKey;
    let dir = tempfile::tempdir().unwrap();
    let ar = Archive::open(dir.path()).unwrap();
    put(&ar, "001099012345.GKS", b"giay khai sinh A");
    let mut b = request("079099000001.GKS", b"giay khai sinh B".to_vec());
    b.metadata.agency = Some("UBND-Q1".into());
    b.metadata.issue_date = Some("2026-03-02".into());
    ingest(&ar, &kyso_verify::Validator::default(), b).unwrap();
    drop(ar);
    let who = Access::new("canbo.hk", "công dân yêu cầu");
    let sha_a = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"giay khai sinh A"));
    let content_named = format!("record 1 for the document {sha_a}");
    let planted = [
        (
            IndexKey::Code {
                code: "001099012345.GKS".into(),
                id: 1,
            },
            Query::Code("001099012345.gks".into()),
            "record 1 for the code 001099012345.GKS",
        ),
        (
            IndexKey::Subject {
                subject: "001099012345".into(),
                id: 1,
            },
            Query::Subject("001099012345".into()),
            "record 1 for the subject 001099012345",
        ),
        (
            IndexKey::Agency {
                agency: "UBND-Q1".into(),
                date: "2026-01-05".into(),
                id: 0,
            },
            Query::Agency {
                agency: "UBND-Q1".into(),
                from: "2026-01-01".into(),
                to: "2026-01-31".into(),
            },
            "record 0 for agency UBND-Q1 and issue dates 2026-01-01 to 2026-01-31",
        ),
        (
            IndexKey::Content {
                sha256: sha_a.clone(),
                id: 1,
            },
            Query::Content {
                sha256: sha_a.clone(),
                code: None,
                record: None,
            },
            content_named.as_str(),
        ),
    ];
    for (key, query, named) in planted {
        tamper(dir.path(), |d| {
            d.put_cf(d.cf_handle("index").unwrap(), key.encode(), [])
                .unwrap();
        });
        let ar = Archive::open(dir.path()).unwrap();
        let size = ar.size();
        let e = ar.find(&query, &who).unwrap_err();
        assert_eq!(e.exit_code(), 20, "{query:?}: {e}");
        assert!(e.to_string().contains(named), "{query:?}: {e}");
        assert!(
            e.to_string().contains("they were changed"),
            "{query:?}: {e}"
        );
        assert_eq!(ar.size(), size, "{query:?}: a refused lookup logs nothing");
        drop(ar);
        tamper(dir.path(), |d| {
            d.delete_cf(d.cf_handle("index").unwrap(), key.encode())
                .unwrap();
        });
    }
    // Put right, each lookup answers with its own record.
    let ar = Archive::open(dir.path()).unwrap();
    let found = ar
        .find(&Query::Subject("001099012345".into()), &who)
        .unwrap();
    assert_eq!(found.records.len(), 1);
    assert_eq!(found.records[0].0.code, "001099012345.GKS");
    drop(ar);
    audit_clean(dir.path());
    // Record 1 given record 0's code, its lookup entries moved with it (the record, as the
    // lookup holds it to, agrees): its ingest event does not name those bytes.
    tamper(dir.path(), |d| {
        let cf = d.cf_handle("records").unwrap();
        let v = d.get_cf(cf, 1u64.to_be_bytes()).unwrap().unwrap();
        let v = String::from_utf8(v)
            .unwrap()
            .replace("079099000001", "001099012345");
        d.put_cf(cf, 1u64.to_be_bytes(), v).unwrap();
        for k in [
            IndexKey::Code {
                code: "001099012345.GKS".into(),
                id: 1,
            },
            IndexKey::Subject {
                subject: "001099012345".into(),
                id: 1,
            },
        ] {
            d.put_cf(d.cf_handle("index").unwrap(), k.encode(), [])
                .unwrap();
        }
    });
    let ar = Archive::open(dir.path()).unwrap();
    let changed = "record 1 is not the one its ingest event (log entry 1) names";
    let e = ar
        .find(&Query::Code("001099012345.GKS".into()), &who)
        .unwrap_err();
    assert!(e.to_string().contains(changed), "{e}");
    let size = ar.size();
    for e in [
        ar.read_record(1, &who).map(|_| ()).unwrap_err(),
        ar.read_validation_data(1, &who).map(|_| ()).unwrap_err(),
        ar.read_content(1, &who).map(|_| ()).unwrap_err(),
        // `kyso log prove 1` proved (and showed) the entry the record's `leaf` named.
        ar.record_leaf(1).map(|_| ()).unwrap_err(),
    ] {
        assert_eq!(e.exit_code(), 20, "{e}");
        assert!(e.to_string().contains(changed), "{e}");
    }
    assert_eq!(ar.size(), size, "a refused read logs nothing");
    drop(ar);
    // A record deleted (not the last: the archive then refuses to open): its read is refused
    // as one that does not exist, and not logged.
    tamper(dir.path(), |d| {
        d.delete_cf(d.cf_handle("records").unwrap(), 0u64.to_be_bytes())
            .unwrap();
    });
    let ar = Archive::open(dir.path()).unwrap();
    let e = ar.read_record(0, &who).unwrap_err();
    assert!(matches!(e, ArchiveError::NoRecord(0)), "{e}");
    assert_eq!(ar.size(), size);
    // An entry rewritten alone is not shown as the log's.
    assert!(ar.entry(0).is_ok());
    drop(ar);
    tamper(dir.path(), |d| {
        let cf = d.cf_handle("events").unwrap();
        let v = d.get_cf(cf, 0u64.to_be_bytes()).unwrap().unwrap();
        let v = String::from_utf8(v)
            .unwrap()
            .replace("canbo.motcua", "canbo.khac");
        d.put_cf(cf, 0u64.to_be_bytes(), v).unwrap();
    });
    let ar = Archive::open(dir.path()).unwrap();
    let e = ar.entry(0).unwrap_err();
    assert_eq!(e.exit_code(), 20, "{e}");
    assert!(
        e.to_string()
            .contains("log entry 0 is not the one its leaf's hash says"),
        "{e}"
    );
}

#[test]
fn a_document_whose_stored_bytes_were_replaced_is_refused_not_linked_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let ar = Archive::open(dir.path()).unwrap();
    let original = b"Giay khai sinh so 1".to_vec();
    put(&ar, "001099012345.KS", &original);
    drop(ar);
    let sha = <sha2::Sha256 as sha2::Digest>::digest(&original);
    tamper(dir.path(), |d| {
        d.put_cf(d.cf_handle("content").unwrap(), sha, b"Giay khai sinh so 2")
            .unwrap();
    });
    let ar = Archive::open(dir.path()).unwrap();
    let size = ar.size();
    // The same document archived again (another code): the archive would store it "once" by
    // its SHA-256 and link the new record to the wrong bytes. It compares the bytes instead.
    let e = ingest(
        &ar,
        &kyso_verify::Validator::default(),
        request("001099012345.KS2", original.clone()),
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 20, "{e}");
    assert!(e.to_string().contains("other bytes under SHA-256"), "{e}");
    assert_eq!(ar.size(), size, "nothing stored");
    let e = ar
        .read_content(0, &Access::new("canbo", "kiểm tra"))
        .unwrap_err();
    assert!(e.to_string().contains("does not match its SHA-256"), "{e}");
}

#[test]
fn reading_a_record_and_every_lookup_are_logged_with_the_user_and_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let ar = Archive::open(dir.path()).unwrap();
    for i in 0..1001u32 {
        put(&ar, "001099012345.HS", &i.to_be_bytes());
    }
    let who = Access::new("canbo.hk", "công dân yêu cầu");
    let size = ar.size();
    // No purpose, no user: refused, and nothing is read or logged.
    for a in [Access::new("canbo.hk", "  "), Access::new("", "x")] {
        let e = ar.read_record(0, &a).unwrap_err();
        assert_eq!(e.exit_code(), 5, "{e}");
        let e = ar
            .find(&Query::Subject("001099012345".into()), &a)
            .unwrap_err();
        assert_eq!(e.exit_code(), 5, "{e}");
    }
    assert_eq!(ar.size(), size);
    let (r, status) = ar.read_record(7, &who).unwrap();
    assert_eq!((r.id, status), (7, Status::Valid));
    let found = ar
        .find(&Query::Subject("001099012345".into()), &who)
        .unwrap();
    assert!(found.truncated);
    assert_eq!(found.records.len(), kyso_archive::lookup::MAX_FOUND);
    assert_eq!(found.records[0].0.id, 1000, "newest first");
    let ev = events(&ar);
    match &ev[size as usize] {
        Event::Read {
            record: 7,
            user,
            purpose,
            time,
            ..
        } => {
            assert_eq!(
                (user.as_str(), purpose.as_str()),
                ("canbo.hk", "công dân yêu cầu")
            );
            assert!(time.starts_with("20"));
        }
        e => panic!("{e:?}"),
    }
    match &ev[size as usize + 1] {
        Event::Find {
            value,
            records,
            user,
            ..
        } => {
            assert_eq!(
                (value.as_str(), user.as_str()),
                ("001099012345", "canbo.hk")
            );
            assert_eq!(records.len(), 1000);
            assert_eq!(records[0], 1000);
        }
        e => panic!("{e:?}"),
    }
    // A read of a record that does not exist is refused and not logged.
    assert_eq!(ar.read_record(5000, &who).unwrap_err().exit_code(), 7);
    assert_eq!(ar.size(), size + 2);
    // The same read and find again: each event carries 128 random bits of its own, so its
    // leaf (whose hash inclusion proofs show anyone) cannot be recomputed from a guess of who
    // looked up which citizen, when and why (an attacker's reading, 2026-12-05).
    ar.read_record(7, &who).unwrap();
    ar.find(&Query::Subject("001099012345".into()), &who)
        .unwrap();
    let ev = events(&ar);
    let salt = |e: &Event| match e {
        Event::Read { salt, .. } | Event::Find { salt, .. } => salt.clone().unwrap(),
        e => panic!("{e:?}"),
    };
    let salts: Vec<String> = (size as usize..size as usize + 4)
        .map(|i| salt(&ev[i]))
        .collect();
    for s in &salts {
        assert!(
            s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()),
            "{s}"
        );
    }
    assert_ne!(salts[0], salts[2]);
    assert_ne!(salts[1], salts[3]);
    let leaves: std::collections::BTreeSet<_> = (size..size + 4)
        .map(|i| kyso_archive::merkle::leaf_hash(&ar.event_bytes(i).unwrap()))
        .collect();
    assert_eq!(leaves.len(), 4);
    // Past the first thousand, a lookup lists the newest 1,000, the newest first, by subject,
    // by code and by content: it listed the oldest but one (the index read oldest first, cut
    // at the 1,001st), and a code's current version was not among them.
    for i in 1001..1100u32 {
        put(&ar, "001099012345.HS", &i.to_be_bytes());
    }
    let same = b"the same bytes, again and again".to_vec();
    for _ in 0..1002 {
        put(&ar, "001099012345.BS", &same);
    }
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&same));
    for q in [
        Query::Subject("001099012345".into()),
        Query::Code("001099012345.HS".into()),
        Query::Content {
            sha256: sha.clone(),
            code: None,
            record: None,
        },
        Query::Content {
            sha256: sha,
            code: Some("001099012345.BS".into()),
            record: None,
        },
    ] {
        let found = ar.find(&q, &who).unwrap();
        let ids: Vec<u64> = found.records.iter().map(|(r, _)| r.id).collect();
        assert!(found.truncated, "{q:?}");
        let newest = if matches!(q, Query::Code(_)) {
            1099
        } else {
            2101
        };
        assert_eq!(ids.len(), 1000, "{q:?}");
        assert_eq!((ids[0], ids[999]), (newest, newest - 999), "{q:?}");
    }
}

#[test]
fn the_log_takes_only_activities_and_every_event_carries_user_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let ar = Archive::open(dir.path()).unwrap();
    put(&ar, "0100109106.DKKD", b"giay chung nhan");
    // Ingests and status changes cannot be written through Archive::log: it takes an
    // Activity, which has no such variant. An export of a record that does not exist, or an
    // activity without a user, is refused.
    let e = ar
        .log(
            Activity::Export {
                records: vec![0, 9],
                format: "bagit".into(),
                reason: None,
            },
            "luutru",
        )
        .unwrap_err();
    assert!(matches!(e, ArchiveError::NoRecord(9)), "{e}");
    let e = ar
        .log(Activity::Config { change: "x".into() }, " ")
        .unwrap_err();
    assert_eq!(e.exit_code(), 5, "{e}");
    let leaf = ar
        .log(
            Activity::Export {
                records: vec![0],
                format: "bagit".into(),
                reason: None,
            },
            "luutru",
        )
        .unwrap();
    assert_eq!(leaf, 1);
    // A read of the log's entries is logged after them; one of entries it does not hold, not.
    let read = |end: u64| Activity::LogRead {
        start: 0,
        end,
        purpose: "kiểm tra nhật ký".into(),
    };
    assert_eq!(ar.log(read(2), "kiemtoan").unwrap(), 2);
    let e = ar.log(read(9), "kiemtoan").unwrap_err();
    assert_eq!(e.exit_code(), 5, "{e}");
    for e in events(&ar) {
        assert!(!e.user().is_empty());
        assert!(
            e.time().starts_with("20") && e.time().ends_with('Z'),
            "{e:?}"
        );
    }
    drop(ar);
    audit_clean(dir.path());
}

#[test]
fn audit_reports_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let ar = Archive::open(dir.path()).unwrap();
    for i in 0..3000u32 {
        put(&ar, "001099012345.HS", &i.to_be_bytes());
    }
    drop(ar);
    let mut seen = Vec::new();
    let mut record = |p: audit::Progress| seen.push((p.phase, p.done, p.total));
    let r = audit::verify(
        dir.path(),
        AuditOptions {
            progress: Some(&mut record),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.entries_read, 3000);
    let entries: Vec<_> = seen.iter().filter(|s| s.0 == "entries").collect();
    assert!(entries.len() >= 3, "{seen:?}");
    assert!(entries.windows(2).all(|w| w[0].1 <= w[1].1));
    assert_eq!(entries.last().unwrap().1, 3000);
    assert!(seen.iter().any(|s| s.0 == "index"));
}
