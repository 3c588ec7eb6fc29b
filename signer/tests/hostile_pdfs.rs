//! Outside bytes never panic the PDF path of signing: every truncation and many single-byte
//! changes of real PDFs give either a prepared update (whose prefix is the input) or an error.

use kyso_signer::pades::{prepare_pdf, PadesOptions};
use std::time::SystemTime;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    [
        "giay-phep.pdf",
        "giay-phep-objstm.pdf",
        "three-pages.pdf",
        "encrypted.pdf",
    ]
    .iter()
    .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
    .collect()
}

fn try_prepare(bytes: &[u8]) {
    if let Ok(p) = prepare_pdf(
        bytes,
        None,
        SystemTime::now(),
        4096,
        &PadesOptions::vietnam(),
    ) {
        assert!(p.bytes.starts_with(bytes));
        assert_eq!(p.byte_range[0], 0);
        assert_eq!(p.byte_range[1], p.contents.0);
        assert_eq!(p.byte_range[2], p.contents.1);
        assert_eq!(p.byte_range[2] + p.byte_range[3], p.bytes.len());
    }
}

#[test]
fn truncated_pdfs_never_panic() {
    for (name, data) in fixtures() {
        for n in (0..data.len()).step_by(13) {
            try_prepare(&data[..n]);
        }
        eprintln!("{name}: truncations done");
    }
}

#[test]
fn single_byte_changes_never_panic() {
    let replacements = [b'0', b'9', b' ', b'<', b'>', b'/', b'[', b'(', b'R', 0xff];
    for (name, data) in fixtures() {
        let mut d = data.clone();
        for (i, pos) in (0..data.len()).step_by(7).enumerate() {
            let old = d[pos];
            d[pos] = replacements[i % replacements.len()];
            try_prepare(&d);
            d[pos] = old;
        }
        eprintln!("{name}: mutations done");
    }
}
