//! The signing side's PDF path: an incremental update prepared over outside bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let opts = kyso_signer::PadesOptions::vietnam();
    if let Ok(p) = kyso_signer::pades::prepare_pdf(data, None, std::time::SystemTime::UNIX_EPOCH, 2048, &opts) {
        assert!(p.bytes.starts_with(data));
    }
});
