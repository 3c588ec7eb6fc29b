//! The token layer against a real SoftHSM2 token made in a temporary directory.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` once per process, so this file holds one test that walks
//! through the whole story on its own token; other test binaries get their own process.

use kyso_hsm::admin::{self, KeySpec};
use kyso_hsm::demo::{self, DemoLayout};
use kyso_hsm::*;
use secrecy::SecretString;
use signature::Verifier;
use std::str::FromStr;
use std::sync::Arc;

const SO_PIN: &str = "87654321";
const USER_PIN: &str = "24682468";

fn uri(label: &str) -> Pkcs11Uri {
    Pkcs11Uri::from_str(&format!("pkcs11:token=lib-test;object={label}")).unwrap()
}

/// Verify with RustCrypto, not with kyso code.
fn verify(key: &dyn SigningKey, msg: &[u8], sig: &[u8]) {
    let spki =
        der::Encode::to_der(&key.certificate().tbs_certificate.subject_public_key_info).unwrap();
    match key.algorithm() {
        SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256) => {
            use rsa::pkcs8::DecodePublicKey;
            let pk = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
            let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk);
            vk.verify(msg, &rsa::pkcs1v15::Signature::try_from(sig).unwrap())
                .unwrap();
        }
        SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha512) => {
            use rsa::pkcs8::DecodePublicKey;
            let pk = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
            let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(pk);
            vk.verify(msg, &rsa::pkcs1v15::Signature::try_from(sig).unwrap())
                .unwrap();
        }
        SignatureAlgorithm::RsaPss(HashAlg::Sha256) => {
            use rsa::pkcs8::DecodePublicKey;
            let pk = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
            let vk = rsa::pss::VerifyingKey::<sha2::Sha256>::new(pk);
            vk.verify(msg, &rsa::pss::Signature::try_from(sig).unwrap())
                .unwrap();
        }
        SignatureAlgorithm::Ecdsa(HashAlg::Sha256) => {
            use p256::pkcs8::DecodePublicKey;
            let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();
            vk.verify(msg, &p256::ecdsa::DerSignature::try_from(sig).unwrap())
                .unwrap();
        }
        SignatureAlgorithm::Ecdsa(HashAlg::Sha384) => {
            use p384::pkcs8::DecodePublicKey;
            let vk = p384::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();
            vk.verify(msg, &p384::ecdsa::DerSignature::try_from(sig).unwrap())
                .unwrap();
        }
        other => panic!("no verifier for {other} in this test"),
    }
}

#[test]
fn token_layer_signs_pools_recovers_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let layout = DemoLayout::new(dir.path());
    layout.write_conf().unwrap();
    // Single test in this process: nothing else reads the environment concurrently.
    std::env::set_var(demo::SOFTHSM2_CONF, &layout.conf);
    let module_path = Module::resolve_path(None, None);
    let module = Module::load(&module_path).unwrap();
    let so = SecretString::from(SO_PIN);
    let pin = SecretString::from(USER_PIN);
    admin::init_token(&module, "lib-test", &so, &pin).unwrap();

    // Keys: an RSA CA, RSA-2048, P-256, P-384, an RSA key that may not sign, one without a cert.
    let token = Arc::new(Token::open(&module, &uri(""), pin.clone(), 2).unwrap());
    {
        let s = token.admin_session().unwrap();
        s.login_user(&pin).unwrap();
        s.generate_rsa(&KeySpec::new("ca", b"ca"), 2048).unwrap();
        s.generate_rsa(&KeySpec::new("rsa", b"\x01"), 2048).unwrap();
        s.generate_ec(&KeySpec::new("p256", b"\x02"), Curve::P256)
            .unwrap();
        s.generate_ec(&KeySpec::new("p384", b"\x03"), Curve::P384)
            .unwrap();
        let mut nosign = KeySpec::new("nosign", b"\x04");
        nosign.can_sign = false;
        s.generate_rsa(&nosign, 2048).unwrap();
        s.generate_rsa(&KeySpec::new("orphan", b"\x05"), 2048)
            .unwrap();
        let ca = KeyPair::find(token.clone(), &uri("ca")).unwrap();
        let ca_name = x509_cert::name::Name::from_str("CN=Lib Test CA,C=VN").unwrap();
        let ca_cert = demo::issue(&ca, &ca_name, false, &ca_name, &ca, 1).unwrap();
        s.import_certificate("t", "ca", b"ca", &ca_cert).unwrap();
        for (label, id) in [
            ("rsa", b"\x01"),
            ("p256", b"\x02"),
            ("p384", b"\x03"),
            ("nosign", b"\x04"),
        ] {
            let k = KeyPair::find(token.clone(), &uri(label)).unwrap();
            let name = x509_cert::name::Name::from_str(&format!("CN={label},C=VN")).unwrap();
            let cert = demo::issue(&ca, &ca_name, true, &name, &k, 1).unwrap();
            s.import_certificate("t", label, id, &cert).unwrap();
        }
    }

    // Every algorithm signs, and RustCrypto accepts the signature; the chain is found.
    let msg = "Giấy chứng nhận đăng ký kết hôn".as_bytes();
    let mut rsa = TokenKey::find(token.clone(), &uri("rsa")).unwrap();
    assert_eq!(rsa.key().kind(), KeyKind::Rsa { bits: 2048 });
    assert_eq!(
        rsa.chain().len(),
        1,
        "the CA certificate on the token is the chain"
    );
    assert_eq!(
        rsa.chain()[0].tbs_certificate.subject.to_string(),
        "CN=Lib Test CA,C=VN"
    );
    for alg in [
        SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256),
        SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha512),
        SignatureAlgorithm::RsaPss(HashAlg::Sha256),
    ] {
        rsa.set_algorithm(alg).unwrap();
        let sig = rsa.sign_message(msg).unwrap();
        verify(&rsa, msg, &sig);
    }
    rsa.set_algorithm(SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256))
        .unwrap();
    let p256 = TokenKey::find(token.clone(), &uri("p256")).unwrap();
    assert_eq!(p256.algorithm(), SignatureAlgorithm::Ecdsa(HashAlg::Sha256));
    verify(&p256, msg, &p256.sign_message(msg).unwrap());
    let p384 = TokenKey::find(token.clone(), &uri("p384")).unwrap();
    assert_eq!(p384.algorithm(), SignatureAlgorithm::Ecdsa(HashAlg::Sha384));
    verify(&p384, msg, &p384.sign_message(msg).unwrap());

    // A wrong-length digest is refused before the token sees it.
    assert!(matches!(
        rsa.sign_digest(&[0u8; 20]),
        Err(HsmError::DigestLength { .. })
    ));

    // The pool: 4 threads share 2 sessions; every signature verifies; never more than 2 open.
    let rsa = Arc::new(rsa);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let k = rsa.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let m = format!("hồ sơ {t}-{i}");
                    let sig = k.sign_message(m.as_bytes()).unwrap();
                    verify(&*k, m.as_bytes(), &sig);
                    assert!(k.key().token().sessions_open() <= 2);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(token.sessions_open(), 2);

    // Token "removed and re-inserted": every session closed under us, login gone. The next
    // signature reconnects, logs in again and succeeds.
    let slot = token.description().slot_id;
    close_all_sessions(&module_path, slot);
    let sig = rsa.sign_message(msg).unwrap();
    verify(&*rsa, msg, &sig);
    assert_eq!(token.reconnects(), 1);
    let sig = p256.sign_message(msg).unwrap();
    verify(&p256, msg, &sig);
    assert_eq!(
        token.reconnects(),
        1,
        "one reconnect serves every key of the token"
    );

    // Refusals, each a distinct error.
    let e = TokenKey::find(token.clone(), &uri("orphan")).unwrap_err();
    assert!(matches!(e, HsmError::KeyWithoutCertificate { .. }), "{e}");
    assert_eq!(e.exit_code(), 15);
    let nosign = TokenKey::find(token.clone(), &uri("nosign")).unwrap();
    let e = nosign.sign_message(msg).unwrap_err();
    assert!(matches!(e, HsmError::MechanismNotSupported { .. }), "{e}");
    let mut p = TokenKey::find(token.clone(), &uri("p384")).unwrap();
    let e = p
        .set_algorithm(SignatureAlgorithm::RsaPss(HashAlg::Sha256))
        .unwrap_err();
    assert_eq!(e.exit_code(), 16, "{e}");
    let e = TokenKey::find(token.clone(), &uri("missing")).unwrap_err();
    assert!(matches!(e, HsmError::NoObject { .. }), "{e}");
    let e = TokenKey::find(
        token.clone(),
        &Pkcs11Uri::parse("pkcs11:token=lib-test").unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, HsmError::AmbiguousKey { .. }), "{e}");
    // The token is logged in for this process; PKCS#11 would wave any PIN through
    // (CKR_USER_ALREADY_LOGGED_IN). kyso compares with the PIN that logged in.
    let e = Token::open(&module, &uri(""), SecretString::from("0000"), 1).unwrap_err();
    assert!(matches!(e, HsmError::WrongPin { .. }), "{e}");
    assert!(!e.to_string().contains("0000"));
    let again = Token::open(&module, &uri(""), pin.clone(), 1).unwrap();
    assert_eq!(again.label(), "lib-test");
    drop((again, p, nosign, p256, p384, rsa, token));
    // With every session closed the login is gone; a wrong PIN now reaches the token, which
    // counts it.
    let e = Token::open(&module, &uri(""), SecretString::from("0000"), 1).unwrap_err();
    assert!(
        matches!(
            e,
            HsmError::WrongPin {
                count_low: true,
                ..
            }
        ),
        "{e}"
    );

    // The PIN changed while the token was out (another program, the token's officer): the
    // pool's reconnect is refused once, and the kept PIN is not sent again — it logged in
    // anew on every call, each try counting toward locking the PIN (an attacker's reading,
    // 2026-12-05).
    let token = Arc::new(Token::open(&module, &uri(""), pin.clone(), 1).unwrap());
    let rsa = TokenKey::find(token.clone(), &uri("rsa")).unwrap();
    rsa.sign_message(msg).unwrap();
    let slot = token.description().slot_id;
    close_all_sessions(&module_path, slot);
    set_user_pin(&module_path, slot, USER_PIN, "13571357");
    let e = rsa.sign_message(msg).unwrap_err();
    assert!(matches!(e, HsmError::WrongPin { .. }), "{e}");
    for _ in 0..3 {
        let e = rsa.sign_message(msg).unwrap_err();
        assert!(matches!(e, HsmError::PinRefusedBefore { .. }), "{e}");
        assert_eq!(e.exit_code(), 13);
    }
    // One wrong try was counted, not four: the right PIN still logs in.
    set_user_pin(&module_path, slot, "13571357", USER_PIN);
    drop((rsa, token));

    // Another token put in the removed one's place, under its label (the first one wiped and
    // renamed away): the pool's next signature reconnects, finds a token of another serial
    // number and sends it no PIN (it logged in to whatever matched the URI, and signed with
    // whatever key it held under the label and id).
    let token = Arc::new(Token::open(&module, &uri(""), pin.clone(), 1).unwrap());
    let rsa = TokenKey::find(token.clone(), &uri("rsa")).unwrap();
    rsa.sign_message(msg).unwrap();
    let first = token.description();
    close_all_sessions(&module_path, first.slot_id);
    init_token_in_place(&module_path, first.slot_id, SO_PIN, "lib-test-old");
    let other = admin::init_token(&module, "lib-test", &so, &pin).unwrap();
    assert_ne!(other.serial, first.serial);
    let e = rsa.sign_message(msg).unwrap_err();
    assert!(matches!(e, HsmError::TokenReplaced { .. }), "{e}");
    assert_eq!(e.exit_code(), 17);
}

/// C_InitToken on a slot whose token is initialized: SoftHSM2 wipes it and gives it `label`.
fn init_token_in_place(module_path: &std::path::Path, slot: u64, so_pin: &str, label: &str) {
    let mut padded = [b' '; 32];
    padded[..label.len()].copy_from_slice(label.as_bytes());
    // SAFETY: as in close_all_sessions; the PIN and the 32-byte label outlive the call.
    unsafe {
        let lib = cryptoki_sys::Pkcs11::new(module_path).unwrap();
        let rv = lib.C_InitToken(
            slot as cryptoki_sys::CK_SLOT_ID,
            so_pin.as_ptr() as *mut u8,
            so_pin.len() as cryptoki_sys::CK_ULONG,
            padded.as_mut_ptr(),
        );
        assert_eq!(rv, cryptoki_sys::CKR_OK);
    }
}

/// C_SetPIN in a session of its own, not logged in: the user PIN changed from `old` to `new`,
/// as another program would change it.
fn set_user_pin(module_path: &std::path::Path, slot: u64, old: &str, new: &str) {
    // SAFETY: as in close_all_sessions; the PINs outlive the calls, the handle is ours.
    unsafe {
        let lib = cryptoki_sys::Pkcs11::new(module_path).unwrap();
        let mut h: cryptoki_sys::CK_SESSION_HANDLE = 0;
        let rv = lib.C_OpenSession(
            slot as cryptoki_sys::CK_SLOT_ID,
            cryptoki_sys::CKF_SERIAL_SESSION | cryptoki_sys::CKF_RW_SESSION,
            std::ptr::null_mut(),
            None,
            &mut h,
        );
        assert_eq!(rv, cryptoki_sys::CKR_OK);
        let rv = lib.C_SetPIN(
            h,
            old.as_ptr() as *mut u8,
            old.len() as cryptoki_sys::CK_ULONG,
            new.as_ptr() as *mut u8,
            new.len() as cryptoki_sys::CK_ULONG,
        );
        assert_eq!(rv, cryptoki_sys::CKR_OK);
        lib.C_CloseSession(h);
    }
}

/// What a USB token's removal does to an application: every session handle becomes invalid
/// and the login is gone. Done through a second handle on the same module (same process
/// state), with the raw C_CloseAllSessions.
fn close_all_sessions(module_path: &std::path::Path, slot: u64) {
    // SAFETY: loads the already-loaded module again (dlopen returns the same instance) and
    // calls C_CloseAllSessions with a valid slot id; the module is initialized.
    unsafe {
        let lib = cryptoki_sys::Pkcs11::new(module_path).unwrap();
        let rv = lib.C_CloseAllSessions(slot as cryptoki_sys::CK_SLOT_ID);
        assert_eq!(rv, cryptoki_sys::CKR_OK);
    }
}
