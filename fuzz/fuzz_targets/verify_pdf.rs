//! The whole PDF validation: signatures, byte ranges, revision analysis.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kyso_verify::Validator::default().verify_pdf(data);
});
