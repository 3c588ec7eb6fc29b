//! The PDF/A declaration in an XMP packet: what every ingest reads of a PDF's metadata; and
//! the comparison of two packets under DocMDP P=1 (the input's halves, and the input with
//! itself).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kyso_verify::pdfa::in_xmp(data);
    let (a, b) = data.split_at(data.len() / 2);
    let _ = kyso_verify::pdfa::xmp_same_but_stamps(a, b);
    let _ = kyso_verify::pdfa::xmp_same_but_stamps(data, data);
});
