//! The whole PDF validation: signatures, byte ranges, revision analysis; and the PDF/A
//! declaration an ingest reads besides.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kyso_verify::Validator::default().verify_pdf(data);
    let _ = kyso_verify::pdfa::declared(data);
});
