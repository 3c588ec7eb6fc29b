//! `kyso-bench hsm`: signatures per second through kyso's token layer, beside a bare cryptoki
//! `C_Sign` loop on the same SoftHSM2 key (the limit kyso can reach) and `openssl speed` (what
//! the CPU can do without PKCS#11), all in one run. Prints a Markdown table for
//! docs/benchmarks.md.
//!
//! Usage: `cargo run --release -p kyso-benches -- hsm [--seconds N]`

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

struct Row {
    key: &'static str,
    sessions: usize,
    bare: f64,
    kyso: f64,
    openssl: Option<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("hsm") {
        eprintln!("usage: kyso-bench hsm [--seconds N]");
        std::process::exit(3);
    }
    let seconds: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let run = Duration::from_secs_f64(seconds);

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
    let m = Module::load(module).unwrap();
    let uri =
        Pkcs11Uri::parse(&format!("pkcs11:token={};object={label}", demo::DEMO_TOKEN)).unwrap();
    let p = pin::resolve(&[pin::PinSource::File(layout.user_pin_file.clone())], "").unwrap();
    let token = Arc::new(Token::open(&m, &uri, p, threads).unwrap());
    let key = Arc::new(TokenKey::find(token, &uri).unwrap());
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
