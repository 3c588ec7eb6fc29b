//! The whole PDF validation: signatures, byte ranges, revision analysis, and the report as
//! JSON and in words (a certificate's dates past year 9999 at +07:00 panicked the words, which
//! no target wrote; 2026-12-06); and the PDF/A declaration an ingest reads besides.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let r = kyso_verify::Validator::default().verify_pdf(data);
    let _ = r.to_json();
    let _ = r.summary(kyso_verify::report::Lang::Vi);
    let _ = r.summary(kyso_verify::report::Lang::En);
    let _ = kyso_verify::pdfa::declared(data);
});
