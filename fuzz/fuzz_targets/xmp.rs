//! The PDF/A declaration in an XMP packet: what every ingest reads of a PDF's metadata.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kyso_verify::pdfa::in_xmp(data);
});
