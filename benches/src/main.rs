//! `kyso-bench hsm`: signatures per second through kyso's token layer, beside a bare cryptoki
//! `C_Sign` loop on the same SoftHSM2 key (the limit kyso can reach) and `openssl speed` (what
//! the CPU can do without PKCS#11), all in one run. Prints a Markdown table for
//! docs/benchmarks.md.
//!
//! `kyso-bench sign`: PAdES-B-B on a 50 KB and a 5 MB PDF and CAdES detached on 1 MB through
//! kyso, beside pyHanko in-process with the same SoftHSM2 key and the bare token sign rate.
//!
//! `kyso-bench export`: `kyso export` of N small records beside `dd` on the same disk
//! (docs/benchmarks.md).
//!
//! Usage: `cargo run --release -p kyso-benches -- hsm|sign|verify|archive|export [--seconds N]`

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use kyso_hsm::demo::{self, DemoLayout};
use kyso_hsm::{pin, HashAlg, Module, Pkcs11Uri, SignDigest, Token, TokenKey};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Run `work` on `threads` threads at once (after each thread's setup), each for `run`;
/// operations per second over all threads.
fn timed<S: Send + 'static>(
    threads: usize,
    run: Duration,
    setup: impl Fn() -> S + Send + Sync + 'static,
    work: impl Fn(&S) + Send + Sync + 'static,
) -> f64 {
    let barrier = Arc::new(std::sync::Barrier::new(threads));
    let setup = Arc::new(setup);
    let work = Arc::new(work);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, setup, work) = (barrier.clone(), setup.clone(), work.clone());
            std::thread::spawn(move || {
                let state = setup();
                barrier.wait();
                let start = Instant::now();
                let mut n = 0u64;
                while start.elapsed() < run {
                    work(&state);
                    n += 1;
                }
                (n, start.elapsed())
            })
        })
        .collect();
    let results: Vec<(u64, Duration)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total: u64 = results.iter().map(|r| r.0).sum();
    let longest = results.iter().map(|r| r.1).max().unwrap_or(run);
    total as f64 / longest.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Rounds of bare and kyso runs, interleaved so that drift of the machine hits both alike.
const ROUNDS: usize = 7;

/// The same for the small PDF's signatures beside the bare token (`sign`), each round a
/// fifth of `--seconds` for each.
const SIGN_ROUNDS: usize = 5;

struct Row {
    key: &'static str,
    sessions: usize,
    bare: f64,
    kyso: f64,
    openssl: Option<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    if mode == "verify-threads" {
        verify_threads(&args);
        return;
    }
    if !matches!(
        mode.as_str(),
        "hsm" | "sign" | "verify" | "archive" | "export" | "backup"
    ) {
        eprintln!(
            "usage: kyso-bench hsm|sign|verify|archive|export|backup [--seconds N] [--leaves N,M] \
             [--sizes BYTES,…] [--writers N,…] [--puts-only] [--records N,…]"
        );
        std::process::exit(3);
    }
    if mode == "backup" {
        backup_bench(&args); // needs no token
        return;
    }
    let seconds: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let run = Duration::from_secs_f64(seconds);
    if mode == "archive" && args.iter().any(|a| a == "--puts-only") {
        archive_puts(run, &args); // needs no token
        return;
    }

    let dir = tempfile_dir();
    let layout = DemoLayout::new(&dir);
    layout.write_conf().expect("write SoftHSM2 config");
    // Set before any thread starts and before the module is loaded; SoftHSM2 reads it once.
    std::env::set_var(demo::SOFTHSM2_CONF, &layout.conf);
    let module_path = Module::resolve_path(None, None);
    let made = demo::init_demo(&layout, &module_path).expect("demo token");
    eprintln!("demo token in {} ({} keys)", dir.display(), made.keys.len());
    let user_pin = std::fs::read_to_string(&layout.user_pin_file).unwrap();
    let user_pin = user_pin.trim().to_string();

    if mode == "export" {
        export_bench(&args, &layout);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    if mode == "archive" {
        archive_bench(run, &args, &module_path, &layout);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    if mode == "verify" {
        verify_bench(&module_path, &layout, run);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    if mode == "sign" {
        sign_bench(&module_path, &layout, &user_pin, run);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let mut rows = Vec::new();
    for (key, label, ossl) in [
        ("RSA-2048", "signer-rsa", "rsa2048"),
        ("ECDSA P-256", "signer-ec", "ecdsap256"),
    ] {
        for sessions in [1usize, 2] {
            let (mut bares, mut kysos) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                bares.push(bare_loop(&module_path, label, &user_pin, sessions, run));
                kysos.push(kyso_loop(&module_path, label, &layout, sessions, run));
            }
            let (bare, kyso) = (median(bares), median(kysos));
            let openssl = openssl_speed(ossl, sessions, seconds);
            eprintln!("{key} x{sessions}: bare {bare:.0}/s kyso {kyso:.0}/s openssl {openssl:?}");
            rows.push(Row {
                key,
                sessions,
                bare,
                kyso,
                openssl,
            });
        }
    }

    println!("| key | sessions (threads) | bare `C_Sign` loop /s | kyso `sign_digest` /s | kyso ÷ bare | `openssl speed` sign /s (same number of processes) | bare ÷ openssl |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let o = r
            .openssl
            .map(|o| format!("{o:.0}"))
            .unwrap_or_else(|| "n/a".into());
        let ratio = r
            .openssl
            .map(|o| format!("{:.2}", r.bare / o))
            .unwrap_or_else(|| "n/a".into());
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.3} | {} | {} |",
            r.key,
            r.sessions,
            r.bare,
            r.kyso,
            r.kyso / r.bare,
            o,
            ratio
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The comma-separated numbers after `flag`, if given.
/// `kyso-bench verify-threads FILE CA THREADS SECONDS`: in-process validations per second of
/// one signed file on THREADS threads (benches/serve.sh puts it beside the HTTP service's rate).
fn verify_threads(args: &[String]) {
    let [_, file, ca, threads, seconds] = args else {
        eprintln!("usage: kyso-bench verify-threads FILE CA THREADS SECONDS");
        std::process::exit(3);
    };
    let data = Arc::new(std::fs::read(file).unwrap());
    let v = Arc::new(kyso_verify::Validator {
        anchors: kyso_verify::x509::load_certificates(&std::fs::read(ca).unwrap()).unwrap(),
        ..Default::default()
    });
    assert_eq!(
        v.verify_file(&data, None).indication,
        kyso_verify::Indication::TotalPassed
    );
    let rate = timed(
        threads.parse().unwrap(),
        Duration::from_secs_f64(seconds.parse().unwrap()),
        move || (v.clone(), data.clone()),
        |(v, d)| {
            std::hint::black_box(v.verify_file(d, None));
        },
    );
    println!("{rate:.0}");
}

fn list_arg<T: std::str::FromStr>(args: &[String], flag: &str) -> Option<Vec<T>> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
}

/// User + system CPU time of this process so far.
fn process_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kyso-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn digest() -> Vec<u8> {
    HashAlg::Sha256.digest(b"kyso benchmark")
}

/// The limit: raw cryptoki, one session per thread, the mechanism input prepared once.
fn bare_loop(
    module: &std::path::Path,
    label: &str,
    pin: &str,
    threads: usize,
    run: Duration,
) -> f64 {
    let ctx = Pkcs11::new(module).unwrap();
    let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
    let slot = ctx
        .get_slots_with_initialized_token()
        .unwrap()
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .map(|t| t.label().trim_end() == demo::DEMO_TOKEN)
                .unwrap_or(false)
        })
        .unwrap();
    let login = ctx.open_ro_session(slot).unwrap();
    match login.login(
        UserType::User,
        Some(&secrecy::SecretString::from(pin.to_string())),
    ) {
        Ok(()) => {}
        Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("login: {e}"),
    }
    let rsa = label.contains("rsa");
    let label = label.to_string();
    let input = if rsa {
        kyso_hsm::alg::digest_info(HashAlg::Sha256, &digest()).unwrap()
    } else {
        digest()
    };
    let mech_rsa = rsa;
    let rate = timed(
        threads,
        run,
        move || {
            let s = ctx.open_ro_session(slot).unwrap();
            let key = s
                .find_objects(&[
                    Attribute::Class(ObjectClass::PRIVATE_KEY),
                    Attribute::Label(label.clone().into_bytes()),
                ])
                .unwrap()[0];
            (s, key)
        },
        move |(s, key)| {
            let mech = if mech_rsa {
                Mechanism::RsaPkcs
            } else {
                Mechanism::Ecdsa
            };
            s.sign(&mech, *key, &input).unwrap();
        },
    );
    drop(login);
    rate
}

/// kyso's layer: a pool of `threads` sessions, `TokenKey::sign_digest` from each thread.
fn kyso_loop(
    module: &std::path::Path,
    label: &str,
    layout: &DemoLayout,
    threads: usize,
    run: Duration,
) -> f64 {
    let key = Arc::new(demo_key(module, layout, label, threads));
    let d = digest();
    key.sign_digest(&d).unwrap();
    timed(
        threads,
        run,
        move || (key.clone(), d.clone()),
        |(key, d)| {
            key.sign_digest(d).unwrap();
        },
    )
}

/// `openssl speed -multi N ALG`: sign operations per second over N processes.
fn openssl_speed(alg: &str, multi: usize, seconds: f64) -> Option<f64> {
    let secs = (seconds.ceil() as u64).max(1).to_string();
    let mut cmd = std::process::Command::new("openssl");
    cmd.args(["speed", "-seconds", &secs]);
    if multi > 1 {
        cmd.args(["-multi", &multi.to_string()]);
    }
    let out = cmd.arg(alg).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Lines like: "rsa 2048 bits 0.000310s 0.000009s   3225.8 110000.0"
    //             "256 bits ecdsa (nistp256)   0.0000s   0.0001s  41592.9  13760.1"
    let line = text.lines().rev().find(|l| {
        (alg.starts_with("rsa") && l.trim_start().starts_with("rsa ") && l.contains("bits"))
            || (alg.starts_with("ecdsa") && l.contains("ecdsa") && l.contains("bits"))
    })?;
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse::<f64>().ok())
        .collect();
    // The last two numbers are sign/s and verify/s.
    nums.len().checked_sub(2).map(|i| nums[i])
}

/// Operations per second of `f` on one thread for `run` (after three warm-up calls).
fn rate(run: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < run {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn sign_bench(module: &std::path::Path, layout: &DemoLayout, user_pin: &str, run: Duration) {
    use kyso_signer::{cades, pades};
    let (root, venv, inputs) = bench_inputs(layout);
    let python = venv.join("bin/python");
    let small = inputs.join("bench-50k.pdf");
    let large = inputs.join("bench-5m.pdf");
    let blob = inputs.join("bench-1m.bin");

    let key = Arc::new(demo_key(module, layout, "signer-rsa", 2));
    let opts = kyso_signer::PadesOptions::vietnam();
    let now = std::time::SystemTime::now();

    // The small PDF and the bare token in interleaved rounds (medians), so that drift of the
    // machine hits both alike: measured one after the other, the bare rate moved 1,761–2,101/s
    // between runs of this VM and the ratio with it (2026-12-04).
    let mut kyso = Vec::new();
    let small_data = std::fs::read(&small).unwrap();
    let (mut smalls, mut bares) = (Vec::new(), Vec::new());
    for _ in 0..SIGN_ROUNDS {
        smalls.push(rate(run / SIGN_ROUNDS as u32, || {
            let out = pades::sign_pdf(&*key, &small_data, now, &opts, None).unwrap();
            std::hint::black_box(out);
        }));
        bares.push(bare_loop(
            module,
            "signer-rsa",
            user_pin,
            1,
            run / SIGN_ROUNDS as u32,
        ));
    }
    eprintln!(
        "kyso PAdES {}: {smalls:.1?}/s; bare {bares:.1?}/s",
        small.display()
    );
    let ratios: Vec<f64> = smalls.iter().zip(&bares).map(|(k, b)| k / b).collect();
    let small_ratio = median(ratios);
    kyso.push(median(smalls));
    let bare1 = median(bares);
    let data = std::fs::read(&large).unwrap();
    let r = rate(run, || {
        let out = pades::sign_pdf(&*key, &data, now, &opts, None).unwrap();
        std::hint::black_box(out);
    });
    eprintln!("kyso PAdES {}: {r:.1}/s", large.display());
    kyso.push(r);
    let data = std::fs::read(&blob).unwrap();
    let cades_rate = rate(run, || {
        std::hint::black_box(cades::sign_cades(&*key, &data, false, now, None).unwrap());
    });
    eprintln!("kyso CAdES 1 MB: {cades_rate:.1}/s");
    // Two threads sharing the pool of two sessions, on the small PDF.
    let small_data = Arc::new(std::fs::read(&small).unwrap());
    let k2 = key.clone();
    let d2 = small_data.clone();
    let pades2 = timed(
        2,
        run,
        move || (k2.clone(), d2.clone()),
        move |(k, d)| {
            let o = kyso_signer::PadesOptions::vietnam();
            std::hint::black_box(
                pades::sign_pdf(&**k, d, std::time::SystemTime::now(), &o, None).unwrap(),
            );
        },
    );
    eprintln!("kyso PAdES 50 KB, 2 threads: {pades2:.1}/s");

    let bare2 = bare_loop(module, "signer-rsa", user_pin, 2, run);

    let out = std::process::Command::new(&python)
        .arg(root.join("peers/pyhanko_sign.py"))
        .arg(module)
        .arg(&layout.user_pin_file)
        .arg("signer-rsa")
        .arg(run.as_secs_f64().to_string())
        .arg(&small)
        .arg(&large)
        .arg("--cades")
        .arg(&blob)
        .output()
        .expect("pyHanko peer");
    assert!(
        out.status.success(),
        "pyHanko peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let py = |kind: &str, f: &std::path::Path| j[kind][f.to_str().unwrap()].as_f64().unwrap();
    let py_small = py("pades", &small);
    let py_large = py("pades", &large);
    let py_cades = py("cades", &blob);

    let size = |f: &std::path::Path| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
    println!("| what (RSA-2048, SoftHSM2, 1 thread unless said) | kyso /s | pyHanko in-process /s | kyso ÷ pyHanko | bare token /s (same threads) | kyso ÷ bare |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| PAdES-B-B, {} B PDF ({SIGN_ROUNDS} rounds beside the bare token, medians) | {:.0} | {:.1} | {:.1}× | {:.0} | {:.2} |",
        size(&small),
        kyso[0],
        py_small,
        kyso[0] / py_small,
        bare1,
        small_ratio
    );
    println!(
        "| PAdES-B-B, {} B PDF | {:.0} | {:.1} | {:.1}× | {:.0} | {:.2} |",
        size(&large),
        kyso[1],
        py_large,
        kyso[1] / py_large,
        bare1,
        kyso[1] / bare1
    );
    println!(
        "| CAdES-B-B detached, {} B | {:.0} | {:.1} | {:.1}× | {:.0} | {:.2} |",
        size(&blob),
        cades_rate,
        py_cades,
        cades_rate / py_cades,
        bare1,
        cades_rate / bare1
    );
    println!(
        "| PAdES-B-B, {} B PDF, 2 threads / 2 sessions | {:.0} | — | — | {:.0} | {:.2} |",
        size(&small),
        pades2,
        bare2,
        pades2 / bare2
    );

    // The long-term levels beside B-B and B-T, same key, same PDF, same run: B-T adds the
    // internal TSA's token (a second token signature), B-LT a validation of the new signature
    // and a DSS update, B-LTA a document time-stamp and its DSS.
    use kyso_signer::ltv::{self, Level};
    use kyso_signer::tsp::{TimestampSource, Tsa, DEMO_POLICY};
    let tsa = TimestampSource::Internal(Arc::new(
        Tsa::new(Arc::new(demo_key(module, layout, "tsa", 1)), DEMO_POLICY).unwrap(),
    ));
    let v = kyso_verify::Validator {
        anchors: kyso_verify::x509::load_certificates(&std::fs::read(&layout.ca_pem).unwrap())
            .unwrap(),
        ..Default::default()
    };
    let data = std::fs::read(&small).unwrap();
    let sign_bt = || pades::sign_pdf(&*key, &data, now, &opts, Some(&tsa)).unwrap();
    let bt = rate(run, || {
        std::hint::black_box(sign_bt());
    });
    let lt = |level| {
        rate(run, || {
            let s = sign_bt();
            std::hint::black_box(ltv::extend_pdf(&s, &v, level, Some(&tsa), false, now).unwrap());
        })
    };
    let (blt, blta) = (lt(Level::BLt), lt(Level::BLta));
    println!();
    println!("| level (PAdES, {} B PDF, RSA-2048, internal TSA on the same token, 1 thread) | kyso /s | ÷ B-B |", size(&small));
    println!("|---|---|---|");
    for (name, r) in [
        ("B-B", kyso[0]),
        ("B-T", bt),
        ("B-LT", blt),
        ("B-LTA", blta),
    ] {
        println!("| {name} | {r:.0} | {:.2} |", r / kyso[0]);
    }
}

/// Runs per second of a whole command (process start included), over `run`.
fn command_rate(run: Duration, mut make: impl FnMut() -> std::process::Command) -> f64 {
    let st = make().output().expect("peer command runs");
    assert!(
        st.status.success() || st.status.code() == Some(0),
        "peer failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    rate(run, || {
        let o = make().output().unwrap();
        std::hint::black_box(o);
    })
}

fn verify_bench(module: &std::path::Path, layout: &DemoLayout, run: Duration) {
    use kyso_signer::{cades, pades};
    let (root, venv, inputs) = bench_inputs(layout);
    let python = venv.join("bin/python");
    // Sign the inputs once with kyso.
    let key = demo_key(module, layout, "signer-rsa", 1);
    let now = std::time::SystemTime::now();
    let pdf = pades::sign_pdf(
        &key,
        &std::fs::read(inputs.join("bench-50k.pdf")).unwrap(),
        now,
        &kyso_signer::PadesOptions::vietnam(),
        None,
    )
    .unwrap();
    let signed = inputs.join("signed-50k.pdf");
    std::fs::write(&signed, &pdf).unwrap();
    let content = std::fs::read(inputs.join("bench-1m.bin")).unwrap();
    let p7s = cades::sign_cades(&key, &content, false, now, None).unwrap();
    let p7s_path = inputs.join("bench-1m.bin.p7s");
    std::fs::write(&p7s_path, &p7s).unwrap();
    let ca = layout.ca_pem.clone();

    let v = kyso_verify::Validator {
        anchors: kyso_verify::x509::load_certificates(&std::fs::read(&ca).unwrap()).unwrap(),
        ..Default::default()
    };
    assert_eq!(
        v.verify_pdf(&pdf).indication,
        kyso_verify::Indication::TotalPassed
    );
    assert_eq!(
        v.verify_cms(&p7s, Some(&content)).indication,
        kyso_verify::Indication::TotalPassed
    );
    let kyso_pdf = rate(run, || {
        std::hint::black_box(v.verify_pdf(&pdf));
    });
    let kyso_cms = rate(run, || {
        std::hint::black_box(v.verify_cms(&p7s, Some(&content)));
    });
    // What an ingest adds to the verification: the PDF/A declaration and the page count
    // (the document parsed again, its XMP metadata read — this file has none, as most have
    // not — and its page tree walked).
    let pdfa_read = rate(run, || {
        std::hint::black_box(kyso_verify::pdfa::pdf_facts(&pdf));
    });
    let kyso_bin = std::env::current_exe().unwrap().with_file_name("kyso");
    let kyso_cli_pdf = if kyso_bin.exists() {
        Some(command_rate(run, || {
            let mut c = std::process::Command::new(&kyso_bin);
            c.arg("verify")
                .arg(&signed)
                .arg("--trust")
                .arg(&ca)
                .arg("--json");
            c
        }))
    } else {
        None
    };
    // pyHanko in-process (benches/peers/pyhanko_validate.py): validations per second of the
    // first signature of `file`, or of every one.
    let pyhanko_rate = |file: &std::path::Path, every: bool| -> f64 {
        let mut c = std::process::Command::new(&python);
        c.arg(root.join("peers/pyhanko_validate.py"))
            .arg(&ca)
            .arg(run.as_secs_f64().to_string())
            .arg(file);
        if every {
            c.arg("--all");
        }
        let out = c.output().expect("pyHanko peer");
        assert!(
            out.status.success(),
            "pyHanko: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        eprintln!("pyHanko says of {}: {}", file.display(), j["last"]);
        j["per_second"].as_f64().unwrap()
    };
    let py_pdf = pyhanko_rate(&signed, false);
    let pyhanko_cli = venv.join("bin/pyhanko");
    let py_cli = command_rate(run.max(Duration::from_secs(3)), || {
        let mut c = std::process::Command::new(&pyhanko_cli);
        c.args([
            "sign",
            "validate",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(&ca)
        .arg(&signed);
        c
    });
    let openssl_cli = command_rate(run, || {
        let mut c = std::process::Command::new("openssl");
        c.args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
            .arg(&p7s_path)
            .arg("-content")
            .arg(inputs.join("bench-1m.bin"))
            .arg("-CAfile")
            .arg(&ca)
            .args(["-out", "/dev/null"]);
        c
    });
    let kyso_cli_cms = if kyso_bin.exists() {
        Some(command_rate(run, || {
            let mut c = std::process::Command::new(&kyso_bin);
            c.arg("verify")
                .arg(inputs.join("bench-1m.bin"))
                .arg("--detached")
                .arg(&p7s_path)
                .arg("--trust")
                .arg(&ca)
                .arg("--json");
            c
        }))
    } else {
        None
    };
    // Files with revisions after a signature: three signatures, each an incremental update
    // over the last, on the plain file and on the same file as qpdf writes it (object
    // streams): what the change classifier and the earlier-version rule cost.
    let mut later = Vec::new();
    for (base, what) in [
        ("bench-50k.pdf", "3 × PAdES-B-B RSA-2048, 50 KB PDF"),
        (
            "bench-50k-objstm.pdf",
            "3 × PAdES-B-B RSA-2048, 50 KB PDF in object streams (qpdf)",
        ),
    ] {
        let mut doc = std::fs::read(inputs.join(base)).unwrap();
        for _ in 0..3 {
            doc = pades::sign_pdf(&key, &doc, now, &kyso_signer::PadesOptions::vietnam(), None)
                .unwrap();
        }
        let r = v.verify_pdf(&doc);
        assert_eq!(r.signatures.len(), 3, "{base}");
        assert_eq!(r.indication, kyso_verify::Indication::TotalPassed, "{base}");
        let path = inputs.join(format!("signed3-{base}"));
        std::fs::write(&path, &doc).unwrap();
        let kyso = rate(run, || {
            std::hint::black_box(v.verify_pdf(&doc));
        });
        later.push((what, kyso, pyhanko_rate(&path, true)));
    }
    // The same with a national CA's CRL held (100,000 entries, 4 MB, of another CA: every
    // CRL at hand is part of each validation's data, whoever issued it), and what a deep copy
    // of that CRL costs — what each validation paid before CRLs were shared (2026-12-05).
    let big_path = inputs.join("big-100k.crl");
    let st = std::process::Command::new(&python)
        .arg(root.join("peers/big_crl.py"))
        .arg("100000")
        .arg(&big_path)
        .status()
        .expect("python with cryptography");
    assert!(st.success(), "making the CRL failed");
    let big = kyso_verify::x509::Crl::from_ber(&std::fs::read(&big_path).unwrap()).unwrap();
    let with_crl = kyso_verify::Validator {
        crls: vec![big.clone()],
        ..v.clone()
    };
    assert_eq!(
        with_crl.verify_pdf(&pdf).indication,
        kyso_verify::Indication::TotalPassed
    );
    let crl_pdf = rate(run, || {
        std::hint::black_box(with_crl.verify_pdf(&pdf));
    });
    let crl_cms = rate(run, || {
        std::hint::black_box(with_crl.verify_cms(&p7s, Some(&content)));
    });
    let deep_copy = rate(run, || {
        std::hint::black_box(big.list.clone());
    });
    let f = |x: Option<f64>| x.map(|v| format!("{v:.0}")).unwrap_or_else(|| "n/a".into());
    println!("| what | kyso in-process /s | kyso CLI /s | peer | peer /s | kyso in-process ÷ peer | kyso CLI ÷ peer |");
    println!("|---|---|---|---|---|---|---|");
    println!("| PAdES-B-B RSA-2048, 50 KB PDF | {kyso_pdf:.0} | {} | pyHanko 0.38 in-process (`validate_pdf_signature`) | {py_pdf:.1} | {:.0}× | — |", f(kyso_cli_pdf), kyso_pdf / py_pdf);
    println!(
        "| same | | | `pyhanko sign validate` CLI | {py_cli:.2} | — | {} |",
        kyso_cli_pdf
            .map(|k| format!("{:.0}×", k / py_cli))
            .unwrap_or_else(|| "n/a".into())
    );
    println!("| CAdES detached RSA-2048, 1 MiB | {kyso_cms:.0} | {} | `openssl cms -verify` CLI | {openssl_cli:.0} | {:.1}× | {} |", f(kyso_cli_cms), kyso_cms / openssl_cli, kyso_cli_cms.map(|k| format!("{:.2}×", k / openssl_cli)).unwrap_or_else(|| "n/a".into()));
    for (what, kyso, py) in later {
        println!("| {what}, every signature | {kyso:.0} | | pyHanko in-process, every signature | {py:.1} | {:.0}× | — |", kyso / py);
    }
    println!(
        "\nHolding a 100,000-entry CRL (4 MB) of another CA: PAdES {crl_pdf:.0}/s ({:.0} % of {kyso_pdf:.0}/s without it), CAdES 1 MiB {crl_cms:.0}/s ({:.0} % of {kyso_cms:.0}/s); one deep copy of that CRL as parsed, what each validation paid before CRLs were shared: {deep_copy:.0}/s ({:.2} ms)",
        100.0 * crl_pdf / kyso_pdf,
        100.0 * crl_cms / kyso_cms,
        1000.0 / deep_copy
    );
    println!(
        "\nWhat an ingest reads of a PDF besides its signatures (`kyso_verify::pdfa::pdf_facts`: the PDF/A declaration, the pages; same 50 KB PDF): {pdfa_read:.0}/s, {:.1} % of a verification's time",
        100.0 * kyso_pdf / pdfa_read
    );
}

/// Durable puts per second, proof latency on large synthetic logs, and the delay from an
/// acknowledged put to a signed checkpoint that covers it.
/// Run `writers` threads calling `op(writer, n)` until `run` is over: (operations, wall seconds,
/// process CPU seconds).
fn run_writers(
    writers: usize,
    run: Duration,
    op: impl Fn(usize, u64) + Send + Sync + 'static,
) -> (u64, f64, f64) {
    let op = Arc::new(op);
    let cpu0 = process_cpu();
    let start = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let op = op.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while start.elapsed() < run {
                    op(w, n);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let wall = start.elapsed().as_secs_f64();
    (total, wall, (process_cpu() - cpu0).as_secs_f64())
}

fn document(size: usize, w: usize, n: u64) -> Vec<u8> {
    let mut doc = format!("writer {w} document {n} ").into_bytes();
    doc.resize(size, b'x');
    doc
}

/// Durable puts per second, CPU per put and cores busy, per document size and writer count;
/// then, for 50 KiB, the two limits measured in the same run: RocksDB alone (synced puts of the
/// same documents into a blob-file column family, RocksDB's own group commit, no records, log
/// or digests) and the two digests alone on every core.
fn archive_puts(run: Duration, args: &[String]) {
    use kyso_archive::{ingest, Archive, Ingest, Metadata};
    // Not the whole temporary directory: the demo token lives there too.
    let base = tempfile_dir().join("puts");
    println!("| document size | writers | durable puts /s | CPU per put | cores busy | puts per WAL sync |");
    println!("|---|---|---|---|---|---|");
    let sizes = list_arg(args, "--sizes").unwrap_or_else(|| vec![1024, 50 * 1024, 1024 * 1024]);
    let writer_counts = list_arg(args, "--writers").unwrap_or_else(|| vec![1, 16, 64]);
    let name = |size: usize| {
        if size >= 1 << 20 {
            format!("{} MiB", size >> 20)
        } else {
            format!("{} KiB", size >> 10)
        }
    };
    for &size in &sizes {
        for &writers in &writer_counts {
            let dir = base.join(format!("puts-{size}-{writers}"));
            let ar = Arc::new(Archive::open(&dir).unwrap());
            let a = ar.clone();
            // Through the ingest policy, as the service calls it: the validator runs (it finds
            // no signature in the synthetic document), the document is kept with a reason,
            // and every request carries a client request id.
            let validator = Arc::new(kyso_verify::Validator::default());
            let (total, wall, cpu) = run_writers(writers, run, move |w, n| {
                let req = Ingest {
                    document: document(size, w, n),
                    metadata: Metadata {
                        code: "001099012345.BENCH".into(),
                        ..Default::default()
                    },
                    user: "bench".into(),
                    allow_unverified: Some("benchmark".into()),
                    request_id: Some(format!("{w}-{n}")),
                    media_type: Some("application/pdf".into()),
                    ..Default::default()
                };
                ingest(&a, &validator, req).unwrap();
            });
            println!(
                "| {} | {writers} | {:.0} | {:.0} µs | {:.2} | {:.1} |",
                name(size),
                total as f64 / wall,
                cpu / total as f64 * 1e6,
                cpu / wall,
                total as f64 / ar.wal_syncs().max(1) as f64
            );
            drop(ar);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    if !sizes.contains(&(50 * 1024)) {
        archive_reads(run, &writer_counts, &base);
        let _ = std::fs::remove_dir_all(&base);
        return;
    }
    println!();
    println!(
        "| 50 KiB, limits in the same run | writers | per second | CPU per put | cores busy |"
    );
    println!("|---|---|---|---|---|");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for &writers in &writer_counts {
        let dir = base.join(format!("rocksdb-{writers}"));
        let mut o = rocksdb::Options::default();
        o.create_if_missing(true);
        o.set_enable_blob_files(true);
        o.set_min_blob_size(4096);
        let db = Arc::new(rocksdb::DB::open(&o, &dir).unwrap());
        let d = db.clone();
        let (total, wall, cpu) = run_writers(writers, run, move |w, n| {
            let mut wo = rocksdb::WriteOptions::default();
            wo.set_sync(true);
            let key = format!("{w}/{n}");
            d.put_opt(key.as_bytes(), document(50 * 1024, w, n), &wo)
                .unwrap();
        });
        println!(
            "| RocksDB alone: synced puts, blob files | {writers} | {:.0} | {:.0} µs | {:.2} |",
            total as f64 / wall,
            cpu / total as f64 * 1e6,
            cpu / wall
        );
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (total, wall, cpu) = run_writers(cores, run, |w, n| {
        let doc = document(50 * 1024, w, n);
        std::hint::black_box(ring::digest::digest(&ring::digest::SHA256, &doc));
        std::hint::black_box(openssl::sha::sha512(&doc));
    });
    println!(
        "| SHA-256 + SHA-512 alone (ring, OpenSSL) | {cores} | {:.0} | {:.0} µs | {:.2} |",
        total as f64 / wall,
        cpu / total as f64 * 1e6,
        cpu / wall
    );
    archive_reads(run, &writer_counts, &base);
    let _ = std::fs::remove_dir_all(&base);
}

/// Logged reads per second from 1, 16 or 64 threads, over 1,000 records of 50 KiB: a content
/// read (`Archive::read_content`: the read event durable in the log before the bytes return,
/// the stored record held to its ingest event, the document checked against its SHA-256) and,
/// beside it, a metadata read (`Archive::read_record`: the same durable event, the record as
/// stored). Their limit is the durable put of a small document (the 1 KiB rows above): each
/// read appends one event to the log.
fn archive_reads(run: Duration, writer_counts: &[usize], base: &std::path::Path) {
    use kyso_archive::{ingest, Access, Archive, Ingest, Metadata};
    let dir = base.join("reads");
    let ar = Arc::new(Archive::open(&dir).unwrap());
    let validator = kyso_verify::Validator::default();
    let ids: Arc<Vec<u64>> = Arc::new(
        (0..1000u64)
            .map(|n| {
                let req = Ingest {
                    document: document(50 * 1024, 0, n),
                    metadata: Metadata {
                        code: "001099012345.BENCH".into(),
                        ..Default::default()
                    },
                    user: "bench".into(),
                    allow_unverified: Some("benchmark".into()),
                    media_type: Some("application/pdf".into()),
                    ..Default::default()
                };
                ingest(&ar, &validator, req).unwrap().record
            })
            .collect(),
    );
    println!();
    println!("| logged read, 50 KiB documents | readers | reads /s | CPU per read | cores busy | reads per WAL sync |");
    println!("|---|---|---|---|---|---|");
    for content in [true, false] {
        for &readers in writer_counts {
            let (a, ids) = (ar.clone(), ids.clone());
            let syncs = ar.wal_syncs();
            let (total, wall, cpu) = run_writers(readers, run, move |w, n| {
                let id = ids[(w * 7919 + n as usize * 104_729) % ids.len()];
                let access = Access::new("bench", "benchmark");
                if content {
                    std::hint::black_box(a.read_content(id, &access).unwrap());
                } else {
                    std::hint::black_box(a.read_record(id, &access).unwrap());
                }
            });
            println!(
                "| {} | {readers} | {:.0} | {:.0} µs | {:.2} | {:.1} |",
                if content {
                    "content (`read_content`)"
                } else {
                    "metadata (`read_record`)"
                },
                total as f64 / wall,
                cpu / total as f64 * 1e6,
                cpu / wall,
                total as f64 / (ar.wal_syncs() - syncs).max(1) as f64
            );
        }
    }
    drop(ar);
    let _ = std::fs::remove_dir_all(&dir);
}

fn archive_bench(run: Duration, args: &[String], module: &std::path::Path, layout: &DemoLayout) {
    use kyso_archive::{ingest, Archive, CheckpointSigner, Ingest, Metadata};
    archive_puts(run, args);
    let base = tempfile_dir();

    // Proofs on synthetic logs: leaves written straight into the documented node layout.
    let leaves: Vec<u64> =
        list_arg(args, "--leaves").unwrap_or_else(|| vec![1_000_000, 10_000_000]);
    println!();
    println!(
        "| leaves | build (synthetic) | caches | inclusion proof p50 | p99 | max | consistency proof p50 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for n in leaves {
        let dir = base.join(format!("log-{n}"));
        let t0 = Instant::now();
        synthetic_log(&dir, n);
        let build = t0.elapsed();
        // First as written (the tables are in the kernel's page cache, RocksDB's block cache is
        // empty), then cold: reopened after dropping the page cache (root only).
        let mut x: u64 = 0x2545F4914F6CDD1D;
        for pass in ["tables in page cache", "cold (page cache dropped)"] {
            if pass.starts_with("cold") && std::fs::write("/proc/sys/vm/drop_caches", "3").is_err()
            {
                continue;
            }
            let ar = Archive::open(&dir).unwrap();
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let mut lat = Vec::new();
            for _ in 0..2000 {
                let i = next() % n;
                let t = Instant::now();
                std::hint::black_box(ar.inclusion_proof(i, n).unwrap());
                lat.push(t.elapsed());
            }
            lat.sort();
            let mut clat = Vec::new();
            for _ in 0..500 {
                let m = 1 + next() % (n - 1);
                let t = Instant::now();
                std::hint::black_box(ar.consistency_proof(m, n).unwrap());
                clat.push(t.elapsed());
            }
            clat.sort();
            let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
            println!(
                "| {n} | {:.0} s | {pass} | {} | {} | {} | {} |",
                build.as_secs_f64(),
                us(lat[lat.len() / 2]),
                us(lat[lat.len() * 99 / 100]),
                us(lat[lat.len() - 1]),
                us(clat[clat.len() / 2])
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    // From an acknowledged put to a signed checkpoint covering it, with the background
    // publisher at its one-second interval and the log key on the token.
    let key: Arc<dyn kyso_hsm::SignDigest> = Arc::new(demo_key(module, layout, "log", 1));
    let dir = base.join("checkpoints");
    let ar = Arc::new(Archive::open(&dir).unwrap());
    let _publisher = ar.start_checkpointer(
        CheckpointSigner {
            origin: "kyso.bench/log".into(),
            key_name: "kyso.bench/log".into(),
            key,
            state_file: base.join("checkpoint-state"),
        },
        kyso_archive::store::CHECKPOINT_INTERVAL,
    );
    let validator = kyso_verify::Validator::default();
    // Put the `i`th document of `size` bytes (unsigned, kept with a reason): its log entry.
    let put = |ar: &Archive, i: u64, size: usize| {
        let mut document = vec![b'x'; size];
        document[..8].copy_from_slice(&i.to_be_bytes());
        let req = Ingest {
            document,
            metadata: Metadata {
                code: "001099012345.BENCH".into(),
                ..Default::default()
            },
            user: "bench".into(),
            allow_unverified: Some("benchmark".into()),
            ..Default::default()
        };
        ingest(ar, &validator, req).unwrap().leaf
    };
    let mut delays = Vec::new();
    for i in 0..12u64 {
        std::thread::sleep(Duration::from_millis(137 * (i % 7)));
        let leaf = put(&ar, i, 50 * 1024);
        let acked = Instant::now();
        loop {
            let covered = ar
                .checkpoints()
                .unwrap()
                .last()
                .is_some_and(|(size, _)| *size > leaf);
            if covered {
                delays.push(acked.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    delays.sort();
    println!();
    println!("| put acknowledged → covered by a signed checkpoint (publisher every 500 ms) | p50 | max |");
    println!("|---|---|---|");
    println!(
        "| 12 puts at scattered times | {:.0} ms | {:.0} ms |",
        delays[delays.len() / 2].as_secs_f64() * 1e3,
        delays[delays.len() - 1].as_secs_f64() * 1e3
    );

    // What one checkpoint costs, and the state file's probe within it: before each signature
    // the signer writes 16 KiB beside the state file, syncs and removes it (a full or
    // read-only file system is refused before the token signs). `CheckpointSigner::judge` is
    // the probe and checks taking microseconds; a checkpoint is signed after each put, on
    // another archive than the publisher's.
    let dir = base.join("checkpoints-direct");
    let direct = Archive::open(&dir).unwrap();
    let signer = CheckpointSigner {
        origin: "kyso.bench/direct".into(),
        key_name: "kyso.bench/direct".into(),
        key: Arc::new(demo_key(module, layout, "log", 1)),
        state_file: base.join("checkpoint-state-direct"),
    };
    let (mut whole, mut probe) = (Vec::new(), Vec::new());
    for i in 0..40u64 {
        put(&direct, i, 2048);
        let t = Instant::now();
        signer.judge(&dir).unwrap();
        probe.push(t.elapsed());
        let t = Instant::now();
        direct.sign_checkpoint(&signer).unwrap();
        whole.push(t.elapsed());
    }
    whole.sort();
    probe.sort();
    let ms = |v: &[Duration], q: usize| v[q].as_secs_f64() * 1e3;
    println!();
    println!("| 40 checkpoints, each after one put | p50 | max |");
    println!("|---|---|---|");
    println!(
        "| signing a checkpoint (`sign_checkpoint`: the probe, P-256 on SoftHSM2, state file and database synced) | {:.2} ms | {:.2} ms |",
        ms(&whole, whole.len() / 2),
        ms(&whole, whole.len() - 1)
    );
    println!(
        "| the state file's probe alone (`CheckpointSigner::judge`) | {:.2} ms | {:.2} ms |",
        ms(&probe, probe.len() / 2),
        ms(&probe, probe.len() - 1)
    );
    drop(direct);
    let _ = std::fs::remove_dir_all(&base);
}

/// Write `n` synthetic leaves and their perfect-subtree nodes in the archive's layout
/// (docs/archive.md: CF `events`, key index BE; CF `nodes`, key level ‖ index BE; `meta`
/// tree_size).
fn synthetic_log(dir: &std::path::Path, n: u64) {
    use kyso_archive::merkle::{leaf_hash, Frontier};
    drop(kyso_archive::Archive::open(dir).unwrap()); // create the column families
    let names = kyso_archive::store::CFS;
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir, names).unwrap();
    let nodes = db.cf_handle("nodes").unwrap();
    let events = db.cf_handle("events").unwrap();
    let mut f = Frontier::default();
    let mut b = rocksdb::WriteBatch::default();
    for i in 0..n {
        // The archive opens only a log whose events and nodes end where its counter says.
        b.put_cf(events, i.to_be_bytes(), i.to_be_bytes());
        for (level, idx, h) in f.push(leaf_hash(&i.to_be_bytes())) {
            let mut k = [0u8; 9];
            k[0] = level;
            k[1..].copy_from_slice(&idx.to_be_bytes());
            b.put_cf(nodes, k, h);
        }
        if b.len() >= 200_000 {
            db.write(std::mem::take(&mut b)).unwrap();
        }
    }
    db.write(b).unwrap();
    db.put_cf(db.cf_handle("meta").unwrap(), b"tree_size", n.to_be_bytes())
        .unwrap();
    db.flush_cf(nodes).unwrap();
    // A log of this size has long been compacted: no compaction may run while proofs are timed.
    db.compact_range_cf(nodes, None::<&[u8]>, None::<&[u8]>);
}

/// The demo token's key `label`, with its certificate, on a pool of `sessions`.
fn demo_key(
    module: &std::path::Path,
    layout: &DemoLayout,
    label: &str,
    sessions: usize,
) -> TokenKey {
    let m = Module::load(module).unwrap();
    let uri =
        Pkcs11Uri::parse(&format!("pkcs11:token={};object={label}", demo::DEMO_TOKEN)).unwrap();
    let p = pin::resolve(&[pin::PinSource::File(layout.user_pin_file.clone())], "").unwrap();
    let token = Arc::new(Token::open(&m, &uri, p, sessions).unwrap());
    TokenKey::find(token, &uri).unwrap()
}

/// The benchmark inputs, made by `peers/make_bench_pdfs.py` in the peers' venv:
/// (benches dir, venv, inputs dir).
fn bench_inputs(
    layout: &DemoLayout,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let venv = std::env::var_os("KYSO_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/kyso/venv")
        });
    let inputs = layout.dir.join("inputs");
    let st = std::process::Command::new(venv.join("bin/python"))
        .arg(root.join("peers/make_bench_pdfs.py"))
        .arg(&inputs)
        .status()
        .expect("python with fpdf2 and pillow (benches/run installs them)");
    assert!(st.success(), "making the benchmark inputs failed");
    (root, venv, inputs)
}

/// `kyso-bench export`: `kyso export` (the release binary beside this one) of N small records
/// (2 KiB synthetic documents, ingested through the policy with 64 writers): wall time, the
/// export process's peak RSS (VmHWM, sampled), CPU time, payload and package bytes per second — beside the disk's
/// sequential write speed measured in the same run on the same file system (`dd` of as many
/// bytes, `conv=fdatasync`, as the export also syncs before it reports) — then `kyso bag verify`.
fn export_bench(args: &[String], layout: &DemoLayout) {
    use std::process::Command;
    let counts = list_arg(args, "--records").unwrap_or_else(|| vec![10_000, 100_000]);
    let size = doc_size(args);
    let kyso = std::env::current_exe().unwrap().with_file_name("kyso");
    // --workers N: `kyso export --workers N` (the default is two per core, 2 to 4).
    let workers: Option<String> = args
        .iter()
        .position(|a| a == "--workers")
        .and_then(|i| args.get(i + 1))
        .cloned();
    // --drop-caches: drop the page cache before each export (root; the archive read cold, as
    // an export of older records reads it).
    let drop_caches = args.iter().any(|a| a == "--drop-caches");
    let keep = keep_dir(args);
    let base = keep
        .clone()
        .unwrap_or_else(|| tempfile_dir().join("export"));
    println!("| records | layout | package | export | records /s | MB/s | disk `dd` MB/s (same run) | share | `dd oflag=direct` MB/s | CPU µs/record | peak RSS | `bag verify` (rate, peak RSS) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut peers = Vec::new();
    for &n in &counts {
        let (dir, db) = bench_dir(&base, n, size, keep.is_some());
        // --ingest-only: leave the freshly ingested archive (with --keep: to copy it and study
        // its first open).
        if args.iter().any(|a| a == "--ingest-only") {
            println!("ingested {n} records into {}", db.display());
            continue;
        }
        let mut peer = None;
        for (layout_name, file, extra) in [
            ("BagIt directory", "package", &[][..]),
            ("BagIt tar", "package.tar", &[][..]),
            ("E-ARK zip", "package.zip", &["--format", "eark"][..]),
        ] {
            // --only dir|tar|eark: one layout
            if let Some(only) = args
                .iter()
                .position(|a| a == "--only")
                .and_then(|i| args.get(i + 1))
            {
                let want = match layout_name {
                    "BagIt directory" => "dir",
                    "BagIt tar" => "tar",
                    _ => "eark",
                };
                if only != want {
                    continue;
                }
            }
            let out = dir.join(file);
            let state = dir.join(format!("state-{file}"));
            let _ = std::fs::remove_file(&state);
            if drop_caches {
                let st = Command::new("sync").status().unwrap();
                assert!(st.success());
                std::fs::write("/proc/sys/vm/drop_caches", "3").expect("--drop-caches needs root");
            }
            let start = Instant::now();
            // KYSO_BENCH_PERF=FILE: profile the export with `perf record` (not for figures);
            // with KYSO_BENCH_PERF_DWARF=1, call stacks from DWARF (the release build keeps no
            // frame pointers).
            let perf = std::env::var_os("KYSO_BENCH_PERF");
            let stacks: &[&str] = if std::env::var_os("KYSO_BENCH_PERF_DWARF").is_some() {
                &["-F", "499", "--call-graph", "dwarf,16384"]
            } else {
                &["-F", "1999", "-g"]
            };
            let mut cmd = match &perf {
                Some(f) => {
                    let mut c = Command::new("perf");
                    c.arg("record")
                        .args(stacks)
                        .arg("-o")
                        .arg(f)
                        .arg("--")
                        .arg(&kyso);
                    c
                }
                None => Command::new(&kyso),
            };
            // Reaped by wait4 (wait_rusage), which also samples the child's own peak RSS.
            #[allow(clippy::zombie_processes)]
            let child = cmd
                .env(demo::SOFTHSM2_CONF, &layout.conf)
                .arg("export")
                .arg("--db")
                .arg(&db)
                .arg("--out")
                .arg(&out)
                .args(extra)
                .args(["--all", "--user", "bench", "--reason", "benchmark"])
                .args(workers.iter().flat_map(|w| ["--workers", w.as_str()]))
                .args(["--checkpoint-key", "pkcs11:token=kyso-dev;object=log"])
                .arg("--checkpoint-state")
                .arg(&state)
                .args(["--origin", "kyso.demo/archive"])
                .args(["--tsa-key", "pkcs11:token=kyso-dev;object=tsa"])
                .arg("--pin-file")
                .arg(&layout.user_pin_file)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let name = if perf.is_some() { "perf" } else { "kyso" };
            let (ok, rss_kib, cpu_s) = wait_rusage(child.id() as i32, name);
            let export_s = start.elapsed().as_secs_f64();
            assert!(ok, "kyso export failed");
            let (bytes, files) = dir_size(&out);
            let (dd_mbs, direct_mbs) = dd_rates(&dir, bytes);
            let mbs = bytes as f64 / export_s / 1e6;
            let t = Instant::now();
            // Its peak memory too (VmHWM sampled, as for the export).
            #[allow(clippy::zombie_processes)]
            let child = Command::new(&kyso)
                .arg("bag")
                .arg("verify")
                .arg(&out)
                .arg("--log-key")
                .arg(layout.dir.join("log.pem"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let (ok, verify_kib, _) = wait_rusage(child.id() as i32, "kyso");
            let verify = if ok {
                format!(
                    "{:.0} records/s, {:.0} MiB",
                    n as f64 / t.elapsed().as_secs_f64(),
                    verify_kib as f64 / 1024.0
                )
            } else {
                "fails".into()
            };
            println!(
                "| {n} × {} KiB | {layout_name} | {:.0} MB, {files} files | {export_s:.1} s | {:.0} | {mbs:.0} | {dd_mbs:.0} | {:.0} % | {direct_mbs:.0} | {:.0} | {:.0} MiB | {verify} |",
                size / 1024,
                bytes as f64 / 1e6,
                n as f64 / export_s,
                100.0 * mbs / dd_mbs,
                cpu_s * 1e6 / n as f64,
                rss_kib as f64 / 1024.0,
            );
            // The peer, from the directory bag's payload (already on disk, warm): the Library
            // of Congress's bagit.py making a bag of it with the same two manifests, on as many
            // processes as cores, then GNU tar serializing that bag — what an archive without
            // kyso would run to make the tar bag from exported files (no database reads, no
            // proofs, no evidence), set beside kyso's tar export below.
            if out.is_dir() {
                peer = bagit_peer(&out, &dir);
            }
            if layout_name == "BagIt tar" {
                if let Some((bagit_s, tar_s)) = peer.take() {
                    peers.push(format!(
                        "| {n} × {} KiB | {bagit_s:.1} s | {tar_s:.1} s | {:.1} s | {export_s:.1} s | {:.1}× |",
                        size / 1024,
                        bagit_s + tar_s,
                        (bagit_s + tar_s) / export_s
                    ));
                }
            }
            if out.is_dir() {
                let _ = std::fs::remove_dir_all(&out);
            } else {
                let _ = std::fs::remove_file(&out);
            }
        }
        if keep.is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    if !peers.is_empty() {
        println!();
        println!("| records | peer: `bagit.py --sha256 --sha512` | then GNU `tar -cf` | peer total | kyso tar export | kyso's speed-up |");
        println!("|---|---|---|---|---|---|");
        for p in peers {
            println!("{p}");
        }
    }
}

/// `kyso-bench backup --records N,… [--doc-kib N] [--rounds R] [--keep DIR]`: per row count an
/// archive of N records (as the export bench makes it; `--keep` reuses it), then R rounds
/// (default 5), each: the peer — GNU `cp -a` of the database directory, then `sync -f` (what an
/// operator would run with the service stopped: no event logged, no file synced one by one, no
/// checksum read back) —, the release `kyso backup` and `kyso restore` of it as child
/// processes (wall time, CPU, peak RSS), and the disk's `dd` of as many bytes. Medians, with
/// the rounds' range: this VM's page-cache writes swing tenfold from one minute to the next.
fn backup_bench(args: &[String]) {
    use std::process::Command;
    let counts = list_arg(args, "--records").unwrap_or_else(|| vec![100_000]);
    let size = doc_size(args);
    let rounds = list_arg::<usize>(args, "--rounds")
        .and_then(|v| v.first().copied())
        .unwrap_or(5)
        .max(1);
    let keep = keep_dir(args);
    let base = keep
        .clone()
        .unwrap_or_else(|| tempfile_dir().join("backup"));
    let kyso = std::env::current_exe().unwrap().with_file_name("kyso");
    // "median (min–max)" of a round's figures.
    let spread = |v: &[f64], digits: usize| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        format!(
            "{:.digits$} ({lo:.digits$}–{hi:.digits$})",
            median(v.to_vec())
        )
    };
    println!("| records | database | step | time | MB/s | CPU s | peak RSS | peer: `cp -a` + `sync` (same rounds) | kyso ÷ peer | disk `dd` MB/s (same rounds) | `dd oflag=direct` MB/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &counts {
        let (dir, db) = bench_dir(&base, n, size, keep.is_some());
        let (backup, restored, copy) = (dir.join("backup"), dir.join("restored"), dir.join("copy"));
        let (bytes, files) = dir_size(&db);
        // [peer, backup, restore] × rounds: (seconds, CPU seconds, peak RSS KiB).
        let mut runs: [Vec<(f64, f64, f64)>; 3] = Default::default();
        let (mut dds, mut directs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for p in [&backup, &restored, &copy] {
                let _ = std::fs::remove_dir_all(p);
            }
            let t = Instant::now();
            let st = Command::new("cp")
                .arg("-a")
                .arg(&db)
                .arg(&copy)
                .status()
                .unwrap();
            assert!(st.success());
            let st = Command::new("sync").arg("-f").arg(&copy).status().unwrap();
            assert!(st.success());
            runs[0].push((t.elapsed().as_secs_f64(), 0.0, 0.0));
            let _ = std::fs::remove_dir_all(&copy);
            for (i, argv) in [
                ["backup", "--db", "--to"].map(String::from).to_vec(),
                ["restore", "--from", "--db"].map(String::from).to_vec(),
            ]
            .iter()
            .enumerate()
            {
                let (from, to) = if i == 0 {
                    (&db, &backup)
                } else {
                    (&backup, &restored)
                };
                let t = Instant::now();
                // Reaped by wait4 (wait_rusage), which also samples the child's peak RSS.
                #[allow(clippy::zombie_processes)]
                let child = Command::new(&kyso)
                    .args([&argv[0], &argv[1]])
                    .arg(from)
                    .arg(&argv[2])
                    .arg(to)
                    .args(["--user", "bench"])
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap();
                let (ok, rss_kib, cpu_s) = wait_rusage(child.id() as i32, "kyso");
                assert!(ok, "kyso {} failed", argv[0]);
                runs[i + 1].push((t.elapsed().as_secs_f64(), cpu_s, rss_kib as f64));
            }
            let (dd, direct) = dd_rates(&dir, bytes);
            dds.push(dd);
            directs.push(direct);
        }
        for p in [&backup, &restored, &copy] {
            let _ = std::fs::remove_dir_all(p);
        }
        let peer: Vec<f64> = runs[0].iter().map(|r| r.0).collect();
        for (i, step) in [
            "`kyso backup`",
            "`kyso restore` (copy, then every key read with its checksum)",
        ]
        .iter()
        .enumerate()
        {
            let r = &runs[i + 1];
            let secs: Vec<f64> = r.iter().map(|r| r.0).collect();
            let mbs: Vec<f64> = secs.iter().map(|s| bytes as f64 / s / 1e6).collect();
            let ratio: Vec<f64> = secs.iter().zip(&peer).map(|(k, p)| k / p).collect();
            println!(
                "| {n} × {} KiB | {:.0} MB, {files} files | {step} | {} s | {} | {} | {:.0} MiB | {} s | {}× | {} | {} |",
                size / 1024,
                bytes as f64 / 1e6,
                spread(&secs, 1),
                spread(&mbs, 0),
                spread(&r.iter().map(|r| r.1).collect::<Vec<_>>(), 1),
                r.iter().map(|r| r.2).fold(0.0, f64::max) / 1024.0,
                spread(&peer, 1),
                spread(&ratio, 1),
                spread(&dds, 0),
                spread(&directs, 0),
            );
        }
        if keep.is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// `--keep DIR`: keep each archive under DIR and reuse it on the next run.
fn keep_dir(args: &[String]) -> Option<std::path::PathBuf> {
    args.iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from)
}

/// `--doc-kib N`: the synthetic documents' size in bytes (2 KiB by default: the per-record
/// cost at its worst).
fn doc_size(args: &[String]) -> usize {
    list_arg::<usize>(args, "--doc-kib")
        .and_then(|v| v.first().copied())
        .unwrap_or(2)
        * 1024
}

/// The folder of a row's archive under `base`, and its database: made unless `kept` finds one
/// from an earlier run.
fn bench_dir(
    base: &std::path::Path,
    n: u64,
    size: usize,
    kept: bool,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = base.join(format!("export-{n}-{}k", size / 1024));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("db");
    if !(kept && db.exists()) {
        bench_archive(&db, n, size);
    }
    (dir, db)
}

/// An archive of `n` synthetic documents of `size` bytes at `db`, ingested through the policy
/// by 64 writers (one agency, dated, unverified: the benchmarks' records).
fn bench_archive(db: &std::path::Path, n: u64, size: usize) {
    use kyso_archive::{ingest, Archive, Ingest, Metadata};
    use std::sync::atomic::{AtomicU64, Ordering};
    let ar = Arc::new(Archive::open(db).unwrap());
    let next = Arc::new(AtomicU64::new(0));
    let validator = Arc::new(kyso_verify::Validator::default());
    let threads: Vec<_> = (0..64)
        .map(|w| {
            let (ar, next, validator) = (ar.clone(), next.clone(), validator.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                ingest(
                    &ar,
                    &validator,
                    Ingest {
                        document: document(size, w, i),
                        metadata: Metadata {
                            code: format!("001099{:06}.BENCH", i % 1_000_000),
                            title: Some(format!("Giấy phép số {i}")),
                            agency: Some("UBND huyện Hoài Đức".into()),
                            issue_date: Some("2026-11-20".into()),
                            ..Default::default()
                        },
                        user: "bench".into(),
                        allow_unverified: Some("synthetic benchmark document".into()),
                        media_type: Some("application/octet-stream".into()),
                        ..Default::default()
                    },
                )
                .unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// The disk under `dir`, in MB/s: `bytes` written sequentially by `dd` and synced, through
/// the page cache (`conv=fdatasync`, as most programs write), then bypassing it
/// (`oflag=direct`).
fn dd_rates(dir: &std::path::Path, bytes: u64) -> (f64, f64) {
    let dd_file = dir.join("dd.bin");
    let mb = (bytes >> 20).max(1);
    let rate = |flags: &[&str]| {
        let t = Instant::now();
        let st = std::process::Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", dd_file.display()))
            .args(["bs=1M", &format!("count={mb}")])
            .args(flags)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let s = t.elapsed().as_secs_f64();
        let _ = std::fs::remove_file(&dd_file);
        (mb << 20) as f64 / s / 1e6
    };
    (
        rate(&["conv=fdatasync"]),
        rate(&["oflag=direct", "conv=fdatasync"]),
    )
}

/// The peer of a tar bag export, run on the payload of the directory bag kyso exported to
/// `bag` (moved out of it): `bagit.py --processes <cores> --sha256 --sha512` making a bag of
/// it in place, then `tar -cf` of that bag. Their wall times in seconds; None without bagit.py
/// (KYSO_BAGIT, or $KYSO_VENV/bin/bagit.py).
fn bagit_peer(bag: &std::path::Path, dir: &std::path::Path) -> Option<(f64, f64)> {
    use std::process::Command;
    let bagit = std::env::var_os("KYSO_BAGIT")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("KYSO_VENV").map(|v| std::path::PathBuf::from(v).join("bin/bagit.py"))
        })
        .filter(|p| p.exists())?;
    let peer = dir.join("peer-bag");
    let _ = std::fs::remove_dir_all(&peer);
    std::fs::rename(bag.join("data"), &peer).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let st = Command::new(&bagit)
        .args(["--quiet", "--sha256", "--sha512", "--processes"])
        .arg(cores.to_string())
        .arg(&peer)
        .status()
        .unwrap();
    assert!(st.success(), "bagit.py failed");
    let bagit_s = t.elapsed().as_secs_f64();
    let tar = dir.join("peer.tar");
    let t = Instant::now();
    let st = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(dir)
        .arg("peer-bag")
        .status()
        .unwrap();
    // Synced, as kyso's export syncs its package before it reports.
    let st2 = Command::new("sync").arg(&tar).status().unwrap();
    assert!(st.success() && st2.success(), "tar failed");
    let tar_s = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&tar);
    let _ = std::fs::remove_dir_all(&peer);
    Some((bagit_s, tar_s))
}

/// Wait for a child; whether it succeeded, its peak RSS in KiB and its CPU seconds (user +
/// system, from wait4). The peak is the child's `VmHWM` (/proc/PID/status), read every 10 ms
/// while it runs as `name`: wait4's `ru_maxrss` will not do, because Linux carries the
/// high-water mark of the memory a process had before `exec` into it — a child spawned by this
/// bench after it ingested 100,000 records "peaked" at the bench's own ~190 MiB (`/bin/true`
/// spawned from a 300 MiB Python process reports 309 MiB).
fn wait_rusage(pid: i32, name: &str) -> (bool, i64, f64) {
    let mut status = 0;
    let mut hwm_kib = 0i64;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for the child `pid`.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break;
        }
        assert_eq!(r, 0, "wait4");
        if let Ok(st) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let field = |k: &str| {
                st.lines()
                    .find_map(|l| l.strip_prefix(k))
                    .map(|v| v.trim().to_string())
            };
            // Only once the child runs the program (before exec it shares the bench's memory).
            if field("Name:").as_deref() == Some(name) {
                if let Some(kib) = field("VmHWM:")
                    .and_then(|v| v.trim_end_matches("kB").trim().parse::<i64>().ok())
                {
                    hwm_kib = hwm_kib.max(kib);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        hwm_kib,
        [ru.ru_utime, ru.ru_stime]
            .iter()
            .map(|t| t.tv_sec as f64 + t.tv_usec as f64 / 1e6)
            .sum(),
    )
}

/// Bytes and files under a directory (a file: its size, 1).
fn dir_size(p: &std::path::Path) -> (u64, u64) {
    if p.is_file() {
        return (std::fs::metadata(p).unwrap().len(), 1);
    }
    let (mut bytes, mut files) = (0, 0);
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                bytes += m.len();
                files += 1;
            }
        }
    }
    (bytes, files)
}
