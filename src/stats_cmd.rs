//! `kyso stats …`: the quarterly digitization report from the archive's counters, and the
//! totals an administrator gives. Wiring only: the counters, the query and its limits, the
//! CSV and the checks of a totals file live in kyso-archive (`stats`).

use crate::archive_cmd::{fail, print, read_bounded};
use clap::{Args, Subcommand, ValueEnum};
use kyso_archive::stats::{parse_totals_csv, StatsQuery, MAX_TOTALS_BYTES};
use kyso_archive::{Activity, Archive};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StatsCmd {
    #[command(subcommand)]
    command: Option<StatsCommand>,
    /// The archive's RocksDB directory.
    #[arg(long, value_name = "DIR")]
    db: Option<PathBuf>,
    /// First day (YYYY-MM-DD): its whole quarter is counted (default: three quarters before
    /// --to's).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day (YYYY-MM-DD): its whole quarter is counted (default: today, +07:00).
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// One row per agency, type or quarter (default: per agency × type × quarter).
    #[arg(long, value_name = "agency|type|quarter")]
    by: Option<String>,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Give the number of results issued per agency, type and quarter (the "total" of
    /// digitized vs total): a CSV file with the header agency,type,quarter,total. Logged.
    Totals {
        /// The archive's RocksDB directory.
        #[arg(long, value_name = "DIR")]
        db: PathBuf,
        /// The CSV file (at most 10000 rows, 1 MiB); every row is checked, or nothing is taken.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Who gives them (logged with the event).
        #[arg(long)]
        user: String,
    },
}

pub fn run(cmd: StatsCmd) -> ExitCode {
    let go = || -> Result<(), ExitCode> {
        match cmd.command {
            Some(StatsCommand::Totals { db, file, user }) => {
                let bytes = read_bounded(&file, MAX_TOTALS_BYTES as u64)?;
                let totals = parse_totals_csv(&bytes).map_err(fail)?;
                let n = totals.len();
                let ar = Archive::open_existing(&db).map_err(fail)?;
                let leaf = ar.log(Activity::Totals { totals }, &user).map_err(fail)?;
                print(&serde_json::json!({ "totals": n, "leaf": leaf }));
            }
            None => {
                let Some(db) = cmd.db else {
                    eprintln!("kyso: stats needs --db DIR");
                    return Err(ExitCode::from(crate::EXIT_USAGE));
                };
                let q = StatsQuery::new(cmd.from.as_deref(), cmd.to.as_deref(), cmd.by.as_deref())
                    .map_err(fail)?;
                let ar = Archive::open_existing(&db).map_err(fail)?;
                let report = ar.stats(&q).map_err(fail)?;
                match cmd.format {
                    Format::Json => print(&report),
                    Format::Csv => {
                        crate::emit_bytes(&report.to_csv());
                    }
                }
            }
        }
        Ok(())
    };
    go().map_or_else(|c| c, |()| ExitCode::SUCCESS)
}
