//! A time-stamp request as the internal TSA judges it (`POST /v1/timestamp`, `kyso timestamp`):
//! taken apart without a panic; a request judged good encodes to DER that reads back to the
//! same request, with an imprint as long as its hash; a refused one gets a rejection that
//! reads back as a TimeStampResp with status 2, the failure's bit and no token.
#![no_main]
use der::{Decode, Encode};
use kyso_signer::tsp::{judge_request, rejection, TimeStampResp, DEMO_POLICY, MAX_NONCE};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    match judge_request(data, DEMO_POLICY) {
        Ok((req, hash)) => {
            let again = req.to_der().unwrap();
            assert_eq!(x509_tsp::TimeStampReq::from_der(&again).unwrap(), req);
            assert_eq!(
                req.message_imprint.hashed_message.as_bytes().len(),
                hash.output_len()
            );
            assert!(req.extensions.is_none());
            // A sign byte on top of the 32 counted.
            assert!(req
                .nonce
                .as_ref()
                .is_none_or(|n| n.as_bytes().len() <= MAX_NONCE + 1));
        }
        Err((fail, why)) => {
            let answer = rejection(fail, &why);
            let resp = TimeStampResp::from_der(&answer).expect("a rejection reads back");
            assert_eq!(resp.status.status, 2);
            assert!(resp.time_stamp_token.is_none());
            let bits = resp
                .status
                .fail_info
                .expect("a failure bit")
                .raw_bytes()
                .to_vec();
            assert_eq!(bits, fail.bit_string().raw_bytes());
        }
    }
});
