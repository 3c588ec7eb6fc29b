//! CMS parsing (BER and DER) and a whole CMS validation over fixed content.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kyso_verify::ber::to_der(data);
    let _ = kyso_verify::cms::parse(data);
    let v = kyso_verify::Validator::default();
    let _ = v.verify_cms(data, Some(b"content"));
    let _ = v.verify_cms(data, None);
});
