//! `kyso timestamp`: the internal TSA on the command line — an RFC 3161 TimeStampReq (DER) in,
//! a TimeStampResp (DER) out.

use clap::Args;
use kyso_hsm::{HsmError, Pkcs11Uri};
use kyso_signer::tsp::{Tsa, DEMO_POLICY};
use kyso_signer::SignError;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Largest request read (a TimeStampReq is a few hundred bytes).
const MAX_REQUEST: u64 = 64 * 1024;

#[derive(Args)]
pub struct TimestampArgs {
    /// PKCS#11 URI of the TSA key (its certificate must have critical EKU timeStamping).
    #[arg(long, value_name = "URI")]
    key: String,
    /// TSA policy OID (default: the demo policy 1.3.6.1.4.1.32473.1.1; set your agency's).
    #[arg(long, value_name = "OID")]
    policy: Option<String>,
    /// The request (DER); default stdin.
    #[arg(long = "in", value_name = "FILE")]
    input: Option<PathBuf>,
    /// The response (DER); default stdout.
    #[arg(long = "out", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace the file of --out if it exists.
    #[arg(long, requires = "output")]
    overwrite: bool,
    /// PKCS#11 module.
    #[arg(long, value_name = "PATH")]
    module: Option<PathBuf>,
    /// File whose first line is the PIN.
    #[arg(long, value_name = "FILE")]
    pin_file: Option<PathBuf>,
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> SignError {
    move |e| SignError::Token(HsmError::Io { what, source: e })
}

pub fn run(a: TimestampArgs) -> Result<ExitCode, SignError> {
    let uri = Pkcs11Uri::parse(&a.key)?;
    if let Some(e) = crate::sign_cmd::exists_already(a.output.as_deref(), a.overwrite) {
        return Err(SignError::Input(e));
    }
    let policy = match &a.policy {
        Some(p) => p
            .parse()
            .map_err(|e| SignError::Input(format!("--policy {p:?} is not an OID: {e}")))?,
        None => DEMO_POLICY,
    };
    let mut req = Vec::new();
    match &a.input {
        Some(p) => std::fs::File::open(p)
            .map_err(io(format!("read {}", p.display())))?
            .take(MAX_REQUEST)
            .read_to_end(&mut req)
            .map_err(io(format!("read {}", p.display())))?,
        None => std::io::stdin()
            .take(MAX_REQUEST)
            .read_to_end(&mut req)
            .map_err(io("read stdin".into()))?,
    };
    let key = kyso_hsm::open_key(a.module.as_deref(), &uri, a.pin_file.clone(), 1)?;
    let tsa = Tsa::new(Arc::new(key), policy)?;
    let resp = tsa.respond(&req);
    match &a.output {
        Some(p) => crate::sign_cmd::write_atomic(p, &resp, a.overwrite)
            .map_err(io(format!("write {}", p.display())))?,
        // As every command's output: a reader gone early is not an error of the TSA's.
        None => crate::emit_bytes(&resp),
    }
    Ok(ExitCode::SUCCESS)
}
