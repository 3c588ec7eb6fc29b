//! The PDF reader: cross-reference tables and streams, object streams, the page tree.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = kyso_pdf::Document::parse(data) {
        let _ = doc.pages();
        let _ = doc.docmdp_permission();
        let _ = doc.revision_ends();
        for n in 0..doc.size().min(2000) {
            let _ = doc.get(kyso_pdf::ObjRef::new(n, 0));
        }
    }
});
