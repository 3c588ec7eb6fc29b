//! The PDF/A declaration in an XMP packet: what every ingest reads of a PDF's metadata; and
//! what two packets state, compared (a metadata update judged under DocMDP P=1).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kyso_verify::pdfa::in_xmp(data);
    let half = data.len() / 2;
    let _ = kyso_verify::pdfa::xmp_same_but_dates(&data[..half], &data[half..]);
    let _ = kyso_verify::pdfa::xmp_same_but_dates(data, data);
});
