//! The verification corpus (made by tests/corpus/make_corpus.py with pyHanko, OpenSSL and
//! pyca/cryptography) and the public PDF-signature attack samples of Ruhr University Bochum
//! (../shared/attacks/rub): every case gets the verdict its case.json expects, and no
//! manipulated attack sample is TOTAL-PASSED or judged like its signed original.

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn verify(args: &[String]) -> (Run, serde_json::Value) {
    let r: Run = kyso_cmd()
        .arg("verify")
        .args(args)
        .arg("--json")
        .output()
        .unwrap()
        .into();
    let j = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {} {}", r.stdout, r.stderr));
    (r, j)
}

#[test]
fn every_corpus_case_gets_its_expected_verdict() {
    let root = corpus();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("case.json").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    for dir in &cases {
        let case: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
        let mut args = vec![dir
            .join(case["file"].as_str().unwrap())
            .display()
            .to_string()];
        for (flag, key) in [("--trust", "trust"), ("--certs", "certs"), ("--crl", "crl")] {
            for p in case[key].as_array().unwrap() {
                args.push(flag.into());
                args.push(root.join(p.as_str().unwrap()).display().to_string());
            }
        }
        if let Some(d) = case["detached"].as_str() {
            args.push("--detached".into());
            args.push(dir.join(d).display().to_string());
        }
        // Further arguments; a value naming a file of the corpus is made absolute.
        for a in case["args"].as_array().into_iter().flatten() {
            let a = a.as_str().unwrap();
            let p = root.join(a);
            args.push(if !a.starts_with('-') && p.exists() {
                p.display().to_string()
            } else {
                a.to_string()
            });
        }
        let (r, j) = verify(&args);
        let want = (
            &case["expect"]["indication"],
            &case["expect"]["subindication"],
        );
        let got = (&j["indication"], &j["subindication"]);
        let code = match want.0.as_str().unwrap() {
            "TOTAL-PASSED" => 0,
            "TOTAL-FAILED" => 1,
            _ => 2,
        };
        if got != want || r.code != code {
            failures.push(format!(
                "{}: want {want:?} exit {code}, got {got:?} exit {}: {}",
                dir.file_name().unwrap().to_string_lossy(),
                r.code,
                j["signatures"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bochum_attack_samples_are_never_passed_and_never_judged_like_their_originals() {
    let rub = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/attacks/rub");
    let pairs: serde_json::Value = serde_json::from_slice(
        &std::fs::read(rub.join("pairs.json")).expect("../shared/attacks/rub/pairs.json"),
    )
    .unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for p in pairs["pairs"].as_array().unwrap() {
        let trust = rub.join(p["trust"].as_str().unwrap()).display().to_string();
        let run = |f: &str| {
            verify(&[
                rub.join(f).display().to_string(),
                "--trust".into(),
                trust.clone(),
            ])
            .1
        };
        let o = run(p["original"].as_str().unwrap());
        for m in p["manipulated"].as_array().unwrap() {
            let j = run(m.as_str().unwrap());
            checked += 1;
            let same =
                j["indication"] == o["indication"] && j["subindication"] == o["subindication"];
            if j["indication"] == "TOTAL-PASSED" || same {
                failures.push(format!(
                    "{}: {} / {} (original {} / {})",
                    m, j["indication"], j["subindication"], o["indication"], o["subindication"]
                ));
            }
        }
    }
    assert_eq!(checked, 11, "the manipulated samples of pairs.json");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// dss-update-drops-revoking-crl with one more update by Python (tests/hostile/dss_hiding.py):
/// a stream whose data is 300 times `startxref <the first revision's offset> %%EOF`. kyso read
/// the DSS of the revisions ending at the newest 256 `%%EOF` strings, so the fake ends (each
/// read as the unsigned first revision) hid the earlier DSS that holds the CRL saying
/// "revoked", and the signature passed. The revisions are now those the cross-reference chains
/// have. (That a later update's zlib bombs cannot spend the budget that reads a signed
/// revision's DSS is verify's unit test `a_signed_revisions_dss_is_read_before_…`.)
#[test]
fn fake_revision_ends_in_a_later_update_hide_no_earlier_dss() {
    let root = corpus();
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/dss_hiding.py");
    for count in [0, 300] {
        let out = dir.path().join(format!("fake-eofs-{count}.pdf"));
        let st = std::process::Command::new("python3")
            .arg(&script)
            .arg(root.join("dss-update-drops-revoking-crl/doc.pdf"))
            .arg(&out)
            .arg(count.to_string())
            .status()
            .unwrap();
        assert!(st.success());
        let (r, j) = verify(&[
            out.display().to_string(),
            "--trust".into(),
            root.join("pki/root.pem").display().to_string(),
            "--offline".into(),
        ]);
        assert_eq!(r.code, 1, "{count}: {}", r.stdout);
        assert_eq!(
            (&j["indication"], &j["subindication"]),
            (&"TOTAL-FAILED".into(), &"REVOKED".into()),
            "{count}: {}",
            r.stdout
        );
    }
    // The archivist's DSS revision (unsigned: the file cut before its document time-stamp),
    // then an update placing the week-old CRL under the number of the revoking CRL's stream,
    // the DSS that names it left as it was. The first fix read each DSS dictionary once, by
    // where it lies, and so never read the earlier revision's CRL under that number
    // (TOTAL-PASSED; found by a review of the fix). Each revision's entries are looked up in
    // that revision.
    let lta = std::fs::read(root.join("dss-revoking-crl-under-doc-timestamp/doc.pdf")).unwrap();
    let ends: Vec<usize> = lta
        .windows(6)
        .enumerate()
        .filter(|(_, w)| w == b"%%EOF\n")
        .map(|(i, _)| i + 6)
        .collect();
    let cut = dir.path().join("cut.pdf");
    std::fs::write(&cut, &lta[..ends[2]]).unwrap();
    let relisted = dir.path().join("relisted.pdf");
    let st = std::process::Command::new("python3")
        .arg(&script)
        .arg("relist")
        .arg(&cut)
        .arg(&relisted)
        .arg("15")
        .arg(root.join("dss-update-drops-revoking-crl/doc.pdf"))
        .arg("24")
        .status()
        .unwrap();
    assert!(st.success());
    // One update whose DSS arrays are five 60 MiB zlib bombs and 10,000 references, then a
    // thousand empty cross-reference sections: each a revision whose DSS is read again. The
    // first fix walked every entry in every revision once the bombs had spent the budget
    // (121 s, debug); the release before it read only the newest 256 revisions, missed the
    // revoking CRL and said INDETERMINATE. Each document now looks at 200,000 entries at
    // most and tries a stream its budget could not decode once.
    let views = dir.path().join("views.pdf");
    let st = std::process::Command::new("python3")
        .arg(&script)
        .arg("views")
        .arg(root.join("dss-update-drops-revoking-crl/doc.pdf"))
        .arg(&views)
        .args(["1000", "10000", "5"])
        .status()
        .unwrap();
    assert!(st.success());
    for f in [&cut, &relisted, &views] {
        let (r, j) = verify(&[
            f.display().to_string(),
            "--trust".into(),
            root.join("pki/root.pem").display().to_string(),
            "--offline".into(),
        ]);
        assert_eq!(
            (&j["indication"], &j["subindication"]),
            (&"TOTAL-FAILED".into(), &"REVOKED".into()),
            "{}: {}",
            f.display(),
            r.stdout
        );
    }
}
