//! Scratch probe (reviewer's, to be deleted): start a service with public verification and
//! the limits in PROBE_LIMITS (';'-separated), run the python script at PROBE_SCRIPT with
//! port, server CA, verifier token, client cert pem, client key pem, kyso pid; print its
//! output and every kyso_limited_total metric.
mod serve_support;
use serve_support::*;

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn probe() {
    let Ok(script_path) = std::env::var("PROBE_SCRIPT") else {
        return;
    };
    let limits = std::env::var("PROBE_LIMITS").unwrap_or_default();
    let limits: Vec<&str> = limits.split(';').filter(|s| !s.is_empty()).collect();
    let mut a = Appliance::start_with(Options {
        limits: lines(&limits),
        web: lines(&["public_verification = true"]),
        ..Default::default()
    });
    let (cert, key) = a.client_cert(Who::Cert("verifier")).unwrap();
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(&cert);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b.as_bytes().chunks(64) {
        pem += std::str::from_utf8(line).unwrap();
        pem += "\n";
    }
    pem += "-----END CERTIFICATE-----\n";
    let cp = a.dir.path().join("agency.pem");
    let kp = a.dir.path().join("agency.key");
    std::fs::write(&cp, pem).unwrap();
    std::fs::write(&kp, key).unwrap();
    let script = std::fs::read_to_string(&script_path).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .args([
            &a.port().to_string(),
            a.server_ca_pem().to_str().unwrap(),
            a.token("verifier"),
            cp.to_str().unwrap(),
            kp.to_str().unwrap(),
            &a.pid().to_string(),
        ])
        .output()
        .unwrap();
    println!("PROBE STDOUT:\n{}", String::from_utf8_lossy(&out.stdout));
    println!("PROBE STDERR:\n{}", String::from_utf8_lossy(&out.stderr));
    if a.alive() {
        let m = a.agent(Who::Token("admin")).get("/metrics").text();
        for l in m
            .lines()
            .filter(|l| l.starts_with("kyso_limited_total") || l.starts_with("kyso_panics"))
        {
            println!("METRIC {l}");
        }
        if std::env::var_os("PROBE_STOP").is_some() {
            let t = std::time::Instant::now();
            let st = a.stop();
            println!("STOPPED {st:?} in {:?}", t.elapsed());
        }
    } else {
        println!("SERVICE NOT ALIVE");
    }
    if std::env::var_os("PROBE_LOG").is_some() {
        println!("LOG:\n{}", a.service_log());
    }
}
