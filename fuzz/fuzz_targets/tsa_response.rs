//! A time-stamp response from an outside TSA (`kyso sign --tsa URL`, the network's bytes):
//! taken apart without a panic; a token accepted reads back, as the verifier reads it, with
//! the request's imprint and no nonce (the request asked for none).
#![no_main]
use der::Decode;
use kyso_signer::tsp::token_from_response;

/// `openssl ts -query -digest 00…07 -sha256 -no_nonce -cert` (what fuzz/run.sh seeds
/// OpenSSL's replies with).
const REQUEST: [u8; 59] = [
    0x30, 0x39, 0x02, 0x01, 0x01, 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0xff,
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let req = x509_tsp::TimeStampReq::from_der(&REQUEST).unwrap();
    if let Ok(token) = token_from_response(&req, data) {
        let (imprint, nonce) =
            kyso_verify::tsp::imprint_and_nonce(&token).expect("an accepted token reads back");
        assert_eq!(imprint, req.message_imprint);
        assert!(nonce.is_none());
    }
});
