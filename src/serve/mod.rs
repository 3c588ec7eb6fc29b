//! `kyso serve --config kyso.toml`: the appliance's HTTP API v1 (docs/api.md) on axum/tokio,
//! TLS by rustls with optional client certificates, roles per route, limits, metrics, logs.
//!
//! This module is wiring: every rule about signatures, validation and the archive lives in the
//! crate that owns it; src/serve/archive.rs is the one door into kyso-archive.

pub mod api;
pub mod archive;
pub mod auth;
pub mod budget;
pub mod config;
pub mod error;
pub mod exports;
pub mod limits;
pub mod metrics;
pub mod pool;
pub mod redact;
pub mod revocation;
pub mod server;
pub mod web;

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// `kyso serve`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ServeCmd {
    #[command(subcommand)]
    pub sub: Option<ServeSub>,
    /// The service's configuration (TOML; KYSO_<SECTION>_<KEY> variables override it).
    #[arg(long, value_name = "FILE", env = "KYSO_CONFIG", required = true)]
    pub config: Option<PathBuf>,
    /// Check the configuration, the token and the archive, then exit without serving.
    #[arg(long)]
    pub check: bool,
}

#[derive(Subcommand)]
pub enum ServeSub {
    /// Make a new random API token: prints the token (give it to the script) and the
    /// `[[api_tokens]]` entry with its SHA-256 (put it in the config).
    NewToken {
        /// The user name the token acts as.
        #[arg(long)]
        name: String,
        /// Roles (repeatable): signer, clerk, verifier, archivist, auditor, admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The agency the user archives for (its code): a clerk needs one.
        #[arg(long)]
        agency: Option<String>,
    },
    /// Print how the configuration names a certificate (an agency's client certificate, or an
    /// official's signing certificate): its SHA-256 fingerprint, and its subject and issuer
    /// exactly as `subject` and `issuer` want them.
    ClientId {
        /// The certificate, PEM or DER.
        cert: PathBuf,
    },
}

/// Exit status when the configuration is wrong.
const EXIT_CONFIG: u8 = 3;

/// `kyso serve client-id CERT`: the lines a `[[clients]]` entry (or a `signing_certs` item)
/// takes to name this certificate. The subject and issuer are RFC 4514 as kyso compares them
/// (parsed back, they name the same certificate: checked before printing).
fn client_id(path: &std::path::Path) -> ExitCode {
    let certs = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| kyso_verify::x509::load_certificates(&b).map_err(|e| e.to_string()));
    let cert = match certs.as_deref() {
        Ok([c, ..]) => c.clone(),
        Ok([]) => {
            eprintln!("kyso: {}: no certificate", path.display());
            return ExitCode::from(EXIT_CONFIG);
        }
        Err(e) => {
            eprintln!("kyso: {}: {e}", path.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let subject = kyso_verify::x509::name_string(&cert.tbs().subject);
    let issuer = kyso_verify::x509::name_string(&cert.tbs().issuer);
    let by_name = auth::CertMatch::parse(None, Some(&subject), Some(&issuer));
    if !by_name.is_ok_and(|m| m.matches(&cert)) {
        eprintln!(
            "kyso: this certificate's names do not read back as themselves; name it by sha256"
        );
    }
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    outln!("# {}", path.display());
    outln!("# this certificate only:");
    outln!("sha256 = \"{}\"", hex::encode(cert.fingerprint()));
    outln!("# or whatever its CA issues under its subject (renewals too):");
    outln!("subject = {}", q(&subject));
    outln!("issuer = {}", q(&issuer));
    ExitCode::SUCCESS
}

/// A SIGHUP that came before the service's own handler (tokio's, installed when the runtime is
/// built): [`catch_early_sighup`]'s handler notes it, and the service answers it once it
/// listens.
static EARLY_SIGHUP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_early_sighup(_: libc::c_int) {
    EARLY_SIGHUP.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Note a SIGHUP from now on rather than die of it: called first thing in `main` for `kyso
/// serve`. Until the runtime's handler was installed (after the configuration was read and the
/// runtime built) a SIGHUP ended the service — `systemctl restart kyso && systemctl reload
/// kyso` in 14 starts of 20 at 0 ms, 2 of 20 at 6 ms (helper 257) — by a signal systemd counts
/// as a clean exit, so the unit was not restarted.
pub fn catch_early_sighup() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGHUP,
            on_early_sighup as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

/// Whether a SIGHUP came before the service's own handler (and forget it).
pub fn early_sighup() -> bool {
    EARLY_SIGHUP.swap(false, std::sync::atomic::Ordering::SeqCst)
}

pub fn run(cmd: ServeCmd) -> ExitCode {
    if let Some(ServeSub::ClientId { cert }) = &cmd.sub {
        return client_id(cert);
    }
    if let Some(ServeSub::NewToken {
        name,
        roles,
        agency,
    }) = cmd.sub
    {
        let mut parsed = Vec::new();
        for r in &roles {
            match auth::Role::ALL.iter().find(|x| x.as_str() == r) {
                Some(x) => parsed.push(*x),
                None => {
                    eprintln!(
                        "kyso: --role {r:?}: one of signer, clerk, verifier, archivist, auditor, admin"
                    );
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
        }
        // The entry printed must pass `kyso serve --check` as it is.
        if parsed.contains(&auth::Role::Clerk) && agency.is_none() {
            eprintln!("kyso: a clerk archives records for an agency: give --agency CODE");
            return ExitCode::from(EXIT_CONFIG);
        }
        if let Err(e) = config::check_new_user(&name, &parsed, agency.as_deref()) {
            eprintln!("kyso: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        return match auth::new_token() {
            Ok((token, hash)) => {
                eprintln!("token (give it to the client; it is not stored anywhere):");
                // The token is the command's result: if it cannot be written, no entry for it.
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                if let Err(e) = writeln!(out, "{token}").and_then(|()| out.flush()) {
                    eprintln!("kyso: the token could not be written ({e}); nothing to configure");
                    return ExitCode::from(1);
                }
                drop(out);
                eprintln!("config entry:");
                eprintln!(
                    "[[api_tokens]]\nname = {}\nsha256 = \"{hash}\"\nroles = [{}]{}",
                    q(&name),
                    roles.iter().map(|r| q(r)).collect::<Vec<_>>().join(", "),
                    agency
                        .as_deref()
                        .map(|a| format!("\nagency = {}", q(a)))
                        .unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kyso: {e}");
                ExitCode::from(1)
            }
        };
    }
    let path = cmd.config.expect("clap requires --config");
    let cfg = match config::Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kyso: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    server::init_logging();
    match server::run(cfg, cmd.check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e.message, "kyso serve stopped");
            eprintln!("kyso: {}", redact::redact_text(&e.message));
            ExitCode::from(e.code)
        }
    }
}
