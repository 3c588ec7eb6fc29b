//! A signed checkpoint note: what the checkpointer reads from its state file and the database,
//! `log consistency` and `bag verify` from outside. Taken apart without a panic, and each
//! signature line written back as it was read.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(note) = kyso_archive::checkpoint::parse(text) else {
        return;
    };
    for s in &note.signatures {
        let again = kyso_archive::checkpoint::parse(&format!("{}\n{}", note.text, s.line()))
            .expect("a signature line written back parses");
        assert_eq!(again.signatures.len(), 1);
        assert_eq!(again.signatures[0].key_id, s.key_id);
        assert_eq!(again.signatures[0].signature, s.signature);
        assert_eq!(again.checkpoint, note.checkpoint);
    }
    // A P-256 key (the demo token's kind): no signature from the input verifies, none panics.
    let spki = hex_literal();
    let _ = note.signed_by(&spki);
});

/// A P-256 public key (DER SubjectPublicKeyInfo): the generator point.
fn hex_literal() -> Vec<u8> {
    let mut v = hex_decode("3059301306072a8648ce3d020106082a8648ce3d03010703420004");
    v.extend(hex_decode("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"));
    v.extend(hex_decode("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"));
    v
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect()
}
