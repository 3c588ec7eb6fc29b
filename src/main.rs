//! The `kyso` binary: thin wiring from the command line to the kyso crates.

/// `eprintln!` without its panic: std's panics when stderr cannot be written (a closed pipe,
/// `2>&1 | head`; a full disk), and a message that cannot be written is lost, not a crash.
/// Defined before the modules, it shadows std's in the whole binary.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// `eprint!` without its panic, as [`eprintln!`] above.
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// `println!` to standard output through [`emit`] (no panic when the reader has gone).
macro_rules! outln {
    () => {
        $crate::emit(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::emit(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to standard output through [`emit`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::emit(format_args!($($arg)*))
    };
}

mod archive_cmd;
mod export_cmd;
mod extend_cmd;
mod remote_cmd;
mod serve;
mod sign_cmd;
mod stats_cmd;
mod timestamp_cmd;
mod token_cmd;
mod verify_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// kyso — signing and e-archive appliance (ký số).
#[derive(Parser)]
#[command(name = "kyso", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// See tokens and keys, sign a test digest, make a demo token.
    #[command(subcommand)]
    Token(token_cmd::TokenCommand),
    /// Sign PDFs (PAdES) or any files (CAdES), one or a batch, with a key on a token.
    Sign(Box<sign_cmd::SignCmd>),
    /// Bring signed PDFs or CMS to B-LT or B-LTA (validation data, archive time-stamp), or
    /// renew their archive time-stamp.
    Extend(Box<extend_cmd::ExtendArgs>),
    /// Act as an RFC 3161 time-stamping authority with a key on the token: request in, response out.
    Timestamp(timestamp_cmd::TimestampArgs),
    /// Validate signatures (PDF, CMS attached or detached) per ETSI EN 319 102-1.
    /// Exit: 0 TOTAL-PASSED, 1 TOTAL-FAILED, 2 INDETERMINATE or NO_SIGNATURE, 3 usage/I-O.
    Verify(verify_cmd::VerifyArgs),
    /// Keep and look up signed results in the archive.
    #[command(subcommand)]
    Archive(Box<archive_cmd::ArchiveCommand>),
    /// The archive's Merkle log: checkpoints and proofs.
    #[command(subcommand)]
    Log(archive_cmd::LogCommand),
    /// Check that the archive's history has not been rewritten.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Export records with their evidence to long-term storage (a BagIt 1.0 bag, or an E-ARK
    /// CSIP zip): a logged export, streamed, resumable (rerun the same command after an
    /// interruption).
    Export(Box<export_cmd::ExportArgs>),
    /// Exported packages: check one offline, renew its evidence.
    #[command(subcommand)]
    Bag(export_cmd::BagCommand),
    /// A copy of the archive (every byte copied, not linked) that opens and audits on its own.
    Backup {
        /// The archive's RocksDB directory.
        #[arg(long, value_name = "DIR")]
        db: std::path::PathBuf,
        /// A new directory, ideally on another disk.
        #[arg(long, value_name = "DIR")]
        to: std::path::PathBuf,
        /// Who makes the backup (logged in the archive before the copy).
        #[arg(long)]
        user: String,
    },
    /// Restore a backup into a new database directory (logged in the restored archive).
    Restore {
        /// The backup (a directory `kyso backup` wrote).
        #[arg(long, value_name = "DIR")]
        from: std::path::PathBuf,
        /// The new database directory.
        #[arg(long, value_name = "DIR")]
        db: std::path::PathBuf,
        /// Who restores it (logged in the restored archive).
        #[arg(long)]
        user: String,
    },
    /// The quarterly digitization report (records ingested, superseded, revoked; signatures;
    /// documents reused; digitized vs total) from the archive's counters, JSON or CSV; and
    /// `stats totals` to give the number of results issued.
    Stats(Box<stats_cmd::StatsCmd>),
    /// The HTTP service: API v1 over TLS with client certificates or API tokens (docs/api.md).
    Serve(Box<serve::ServeCmd>),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the log and check every record, document, index entry, status and checkpoint
    /// against it (with the log key given from outside); report the first inconsistency.
    Verify(archive_cmd::AuditArgs),
}

/// Exit status for usage and I/O errors (as `kyso verify` defines it).
pub const EXIT_USAGE: u8 = 3;

/// The system allocator, counting per thread what is allocated and not freed: the service's
/// validations are stopped past `limits.validation_memory_mib` (`kyso_pdf::stop`).
#[global_allocator]
static ALLOCATOR: kyso_verify::Counting<std::alloc::System> =
    kyso_verify::Counting(std::alloc::System);

/// Set when standard output failed for another reason than a reader gone (a full disk): the
/// command's output is incomplete, so its exit status becomes [`EXIT_USAGE`].
static STDOUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Write to standard output, as `print!` does, but without its panic: a reader that closed
/// the pipe early (`kyso … | head`) is not an error — the rest is dropped and the command's
/// own exit status stands, as for `kyso verify`. Any other write error is said once on stderr
/// and makes the exit status [`EXIT_USAGE`].
pub(crate) fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    emitted(out.write_fmt(args).and_then(|()| out.flush()));
}

/// Bytes to standard output, as [`emit`].
pub(crate) fn emit_bytes(b: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    emitted(out.write_all(b).and_then(|()| out.flush()));
}

fn emitted(r: std::io::Result<()>) {
    use std::sync::atomic::Ordering;
    match r {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            if !STDOUT_FAILED.swap(true, Ordering::Relaxed) {
                eprintln!("kyso: write to standard output: {e}");
            }
        }
    }
}

fn main() -> ExitCode {
    // `kyso serve`: a SIGHUP is kept for the service from the process's first instructions.
    if std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| a == "serve")
    {
        serve::catch_early_sighup();
    }
    harden_process();
    let code = run();
    // A command that failed keeps its own status; one that succeeded but whose output was
    // lost says so.
    if STDOUT_FAILED.load(std::sync::atomic::Ordering::Relaxed) && code == ExitCode::SUCCESS {
        return ExitCode::from(EXIT_USAGE);
    }
    code
}

/// What this process writes is its user's alone — archives and their backups, export packages
/// and job files, checkpoint state, signed documents: citizens' personal data — whatever umask
/// it was started with (a backup under umask 022 was readable by every local user). And it
/// leaves no core dump holding a PIN, the keys SoftHSM2 keeps in this process or the TLS key:
/// core size 0, and not dumpable, which also keeps other processes of the same user out of
/// its memory and its environment (`KYSO_PIN`). (Found by an attacker's reading, 2026-12-02.)
fn harden_process() {
    use rustix::process::{DumpableBehavior, Resource, Rlimit};
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let _ = rustix::process::setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    let _ = rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable);
}

fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => EXIT_USAGE,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let cli = match cli.command {
        Command::Verify(a) => return verify_cmd::run(a),
        Command::Archive(a) => return archive_cmd::run_archive(*a),
        Command::Log(l) => return archive_cmd::run_log(l),
        Command::Audit(AuditCommand::Verify(a)) => return archive_cmd::run_audit(a),
        Command::Backup { db, to, user } => return archive_cmd::run_backup(&db, &to, &user),
        Command::Restore { from, db, user } => return archive_cmd::run_restore(&from, &db, &user),
        Command::Serve(s) => return serve::run(*s),
        Command::Stats(s) => return stats_cmd::run(*s),
        Command::Export(a) => return export_cmd::run_export(*a),
        Command::Bag(b) => return export_cmd::run_bag(b),
        other => Cli { command: other },
    };
    let result = match cli.command {
        Command::Token(t) => token_cmd::run(t).map_err(kyso_signer::SignError::from),
        Command::Sign(a) => sign_cmd::run(*a),
        Command::Timestamp(a) => timestamp_cmd::run(a),
        Command::Extend(a) => extend_cmd::run(*a),
        Command::Verify(_)
        | Command::Archive(_)
        | Command::Log(_)
        | Command::Audit(_)
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Serve(_)
        | Command::Stats(_)
        | Command::Export(_)
        | Command::Bag(_) => {
            unreachable!("handled above")
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let hint = match e {
                kyso_signer::SignError::BrokenSignature(_) => {
                    " (or, knowingly, give --sign-over-broken)"
                }
                _ => "",
            };
            // An error may quote outside text — a token's labels, a file's names — which must
            // not write on the terminal (an attacker's reading, 2026-12-05: a key's label
            // cleared the line and set the window title); its line breaks are kyso's own.
            let text = e.to_string();
            let lines: Vec<_> = text
                .split('\n')
                .map(|l| kyso_verify::report::shown(l, 4096))
                .collect();
            eprintln!("kyso: {}{hint}", lines.join("\n"));
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
