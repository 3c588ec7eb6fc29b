//! The `kyso` binary: thin wiring from the command line to the kyso crates.

mod archive_cmd;
mod extend_cmd;
mod remote_cmd;
mod serve;
mod sign_cmd;
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
    /// A consistent copy of the archive that opens and verifies on its own.
    Backup {
        #[arg(long, value_name = "DIR")]
        db: std::path::PathBuf,
        #[arg(long, value_name = "DIR")]
        to: std::path::PathBuf,
    },
    /// The HTTP service: API v1 over TLS with client certificates or API tokens (docs/api.md).
    Serve(Box<serve::ServeCmd>),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every leaf, the tree, every record and checkpoint; report the first inconsistency.
    Verify {
        #[arg(long, value_name = "DIR")]
        db: std::path::PathBuf,
    },
}

/// Exit status for usage and I/O errors (as `kyso verify` defines it).
pub const EXIT_USAGE: u8 = 3;

fn main() -> ExitCode {
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
        Command::Audit(AuditCommand::Verify { db }) => return archive_cmd::run_audit(&db),
        Command::Backup { db, to } => return archive_cmd::run_backup(&db, &to),
        Command::Serve(s) => return serve::run(*s),
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
        | Command::Serve(_) => {
            unreachable!("handled above")
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kyso: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
