//! CMS parsing (BER and DER) and a whole CMS validation over fixed content, and its report as
//! JSON and in words (a certificate's dates past year 9999 at +07:00 panicked the words, which
//! no target wrote; 2026-12-06).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kyso_verify::ber::to_der(data);
    let _ = kyso_verify::ber::to_der_unique(data);
    let _ = kyso_verify::cms::parse(data);
    let v = kyso_verify::Validator::default();
    for r in [
        v.verify_cms(data, Some(b"content")),
        v.verify_cms(data, None),
    ] {
        let _ = r.to_json();
        let _ = r.summary(kyso_verify::report::Lang::Vi);
        let _ = r.summary(kyso_verify::report::Lang::En);
    }
});
