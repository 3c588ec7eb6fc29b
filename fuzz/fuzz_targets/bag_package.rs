//! `kyso bag verify` of a package from outside: the tar index (ustar, GNU and PAX headers), the
//! zip index (end records, Zip64, central and local headers, CRC-32), the manifests and tag
//! files, bag-info, the log files and proofs, the checkpoint and its time-stamps, the records'
//! signatures, and an E-ARK package's METS, tt05-2025.xml and PREMIS. Seeded by fuzz/run.sh
//! with a real export (tests/bag_hostile.rs `write_fuzz_seeds`); KYSO_FUZZ_LOG_KEY names the
//! log key that signs the seeds' checkpoint, so mutants get past it to the proofs.
#![no_main]
use kyso_archive::bag_verify::{verify_eark, verify_package, VerifyOptions};
use kyso_archive::package::Package;
use std::path::PathBuf;
use std::sync::OnceLock;

fn setup() -> &'static (PathBuf, VerifyOptions) {
    static S: OnceLock<(PathBuf, VerifyOptions)> = OnceLock::new();
    S.get_or_init(|| {
        let mut o = VerifyOptions::default();
        if let Ok(p) = std::env::var("KYSO_FUZZ_LOG_KEY") {
            let pem = std::fs::read(&p).expect("KYSO_FUZZ_LOG_KEY");
            o.log_keys
                .push(kyso_archive::checkpoint::public_key_der(&pem).expect("a log key"));
        }
        let path = std::env::temp_dir().join(format!("kyso-fuzz-package-{}", std::process::id()));
        (path, o)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (path, o) = setup();
    std::fs::write(path, data).expect("write the package");
    let Ok(pk) = Package::open(path) else { return };
    let r = match pk {
        Package::Zip(_) => verify_eark(&pk, o),
        _ => verify_package(&pk, o),
    };
    // Whatever the bytes, a report; valid only with nothing found wrong anywhere.
    assert!(
        !r.ok
            || (r.package.is_empty()
                && r.checkpoint.ok
                && r.checkpoint.problems.is_empty()
                && r.records.iter().all(|x| x.ok && x.problems.is_empty()))
    );
});
