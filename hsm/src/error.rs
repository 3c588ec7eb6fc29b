//! What can go wrong with a token, said so that an official at a desk knows what to do.
//!
//! Every variant maps to a distinct process exit code ([`HsmError::exit_code`]) so that scripts
//! around `kyso` can tell a wrong PIN from a missing token without parsing messages. Messages
//! never contain a PIN.

use cryptoki::error::{Error as CkError, RvError};

/// Errors of the token layer.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// The PKCS#11 module file does not exist.
    #[error("PKCS#11 module not found: {path} (set --module, KYSO_PKCS11_MODULE or module-path in the URI)")]
    ModuleNotFound { path: String },
    /// The file exists but is not a loadable PKCS#11 library.
    #[error("{path} is not a PKCS#11 library: {reason}")]
    NotPkcs11 { path: String, reason: String },
    /// The PKCS#11 library loaded, but would not start (C_Initialize): its own configuration.
    #[error("the PKCS#11 module {path} would not start (C_Initialize: {reason}){hint}")]
    ModuleInit {
        path: String,
        reason: String,
        hint: String,
    },
    /// A PKCS#11 URI could not be parsed.
    #[error("bad PKCS#11 URI: {0}")]
    BadUri(String),
    /// A command's input that is not what it takes (a flag's value, an input file's bytes).
    #[error("{0}")]
    Usage(String),
    /// No token in any slot matches the URI.
    #[error("no token matches {uri} (present tokens: {present})")]
    NoToken { uri: String, present: String },
    /// No object on the token matches the URI.
    #[error("no {what} on token {token:?} matches {uri}")]
    NoObject {
        what: &'static str,
        token: String,
        uri: String,
    },
    /// Several private keys match and the URI does not say which.
    #[error(
        "{count} private keys on token {token:?} match {uri}; add object= or id= to choose one"
    )]
    AmbiguousKey {
        count: usize,
        token: String,
        uri: String,
    },
    /// Public objects (certificates, public keys) that match hold different keys. Anyone who
    /// can open a session may add one, no PIN asked.
    #[error(
        "{count} different public keys on token {token:?} match {uri} (certificates and public key objects; anyone may add one without the PIN): remove the one that is not the key's, or give the key as a PEM file"
    )]
    AmbiguousPublicKey {
        count: usize,
        token: String,
        uri: String,
    },
    /// The private key has no certificate with the same CKA_ID on the token.
    #[error("key {key} on token {token:?} has no certificate with the same CKA_ID; import the certificate first")]
    KeyWithoutCertificate { key: String, token: String },
    /// No PIN could be obtained.
    #[error("no PIN: give --pin-file FILE, set KYSO_PIN, or run on a terminal to be asked")]
    NoPin,
    /// Reading the PIN failed.
    #[error("cannot read PIN from {source_name}: {reason}")]
    PinSource { source_name: String, reason: String },
    /// The token rejected the PIN.
    #[error("wrong PIN for token {token:?}{}", tries_hint(*.final_try, *.count_low))]
    WrongPin {
        token: String,
        count_low: bool,
        final_try: bool,
    },
    /// The token refused the PIN kyso holds, earlier: it is not sent again.
    #[error("token {token:?} refused the PIN kyso was given, earlier: kyso does not send it again (each wrong try counts toward locking the PIN); restart with the right PIN")]
    PinRefusedBefore { token: String },
    /// The token says one more wrong PIN locks it, and the PIN at hand is not one typed now.
    #[error("token {token:?} says one more wrong PIN locks it: kyso then sends only a PIN typed at the prompt, not {given} (a PIN refused before and sent again locks the token until its security officer unblocks it); run kyso on a terminal without --pin-file, a pin-source or KYSO_PIN and type the PIN: a right PIN resets the count")]
    FinalTryUnattended { token: String, given: String },
    /// The PIN is locked after too many wrong tries.
    #[error("the user PIN of token {token:?} is locked after too many wrong tries; ask the token's security officer to unblock it")]
    PinLocked { token: String },
    /// The token cannot do what was asked.
    #[error("token {token:?} does not support {mechanism}")]
    MechanismNotSupported { token: String, mechanism: String },
    /// The key's type or size is not allowed for signing.
    #[error("key {key}: {reason}")]
    UnsupportedKey { key: String, reason: String },
    /// The token was removed (or the sessions were closed under us).
    #[error("token {token:?} was removed or its session was closed; insert it again and retry")]
    TokenRemoved { token: String },
    /// The key found at start is no longer on the token while its session lives (the token
    /// taken away and its objects with it, or the key deleted).
    #[error("the key {key:?} found at start is no longer on token {token:?} (the token was removed, or the key deleted); insert the token again and retry")]
    KeyGone { token: String, key: String },
    /// Another token took the place of the one opened (same URI, another serial number).
    #[error("token {token:?} was replaced by another (serial {serial:?}, not {was:?}); no PIN was sent to it: insert the token kyso opened and retry")]
    TokenReplaced {
        token: String,
        serial: String,
        was: String,
    },
    /// A certificate on the token is not valid DER.
    #[error("certificate {label:?} on the token is not valid X.509 DER: {reason}")]
    BadCertificate { label: String, reason: String },
    /// A certificate that is not the key's: it holds another public key (said as "not valid
    /// X.509 DER" before; a new user's reading, 2026-12-04).
    #[error("{0}")]
    NotTheKeysCertificate(String),
    /// The key's certificate may not sign documents now (expired, a CA's, its key usages).
    #[error("the certificate of key {key:?} ({subject}) cannot sign documents now: {reason}")]
    UnfitCertificate {
        key: String,
        subject: String,
        reason: String,
    },
    /// A digest has the wrong length for the algorithm.
    #[error("digest is {got} bytes, {alg} needs {want}")]
    DigestLength {
        alg: &'static str,
        got: usize,
        want: usize,
    },
    /// The token returned a signature we could not use.
    #[error("token returned a malformed signature: {0}")]
    BadSignature(String),
    /// File or directory trouble.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Any other PKCS#11 failure, with the function and return value.
    #[error("PKCS#11 error: {0}")]
    Pkcs11(String),
}

fn tries_hint(final_try: bool, count_low: bool) -> &'static str {
    if final_try {
        " — the token says ONE try is left before the PIN locks"
    } else if count_low {
        // CKF_USER_PIN_COUNT_LOW: a wrong PIN since the last good login (PKCS#11 v2.40 §5.3),
        // raised at the first failure; not "few tries left", which alarmed an official after
        // one mistyped PIN (a new user's walk-through, 2026-12-04).
        " — the token says a wrong PIN has been entered since its last good login; it locks the PIN after a few wrong tries"
    } else {
        ""
    }
}

impl HsmError {
    /// Process exit code for this error (see docs/cli.md). 3 is usage or I/O, as for `kyso verify`.
    pub fn exit_code(&self) -> i32 {
        match self {
            HsmError::Io { .. }
            | HsmError::BadUri(_)
            | HsmError::Usage(_)
            | HsmError::PinSource { .. } => 3,
            HsmError::ModuleNotFound { .. }
            | HsmError::NotPkcs11 { .. }
            | HsmError::ModuleInit { .. } => 10,
            HsmError::NoToken { .. } => 11,
            HsmError::NoObject { .. }
            | HsmError::AmbiguousKey { .. }
            | HsmError::AmbiguousPublicKey { .. } => 12,
            HsmError::WrongPin { .. }
            | HsmError::PinRefusedBefore { .. }
            | HsmError::FinalTryUnattended { .. } => 13,
            HsmError::PinLocked { .. } => 14,
            HsmError::KeyWithoutCertificate { .. }
            | HsmError::BadCertificate { .. }
            | HsmError::NotTheKeysCertificate(_)
            | HsmError::UnfitCertificate { .. } => 15,
            HsmError::MechanismNotSupported { .. } | HsmError::UnsupportedKey { .. } => 16,
            HsmError::TokenRemoved { .. }
            | HsmError::KeyGone { .. }
            | HsmError::TokenReplaced { .. } => 17,
            HsmError::NoPin => 18,
            HsmError::DigestLength { .. } | HsmError::BadSignature(_) | HsmError::Pkcs11(_) => 19,
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        HsmError::Io {
            what: what.into(),
            source,
        }
    }
}

/// The PKCS#11 return value inside a cryptoki error, if any.
pub(crate) fn rv(e: &CkError) -> Option<RvError> {
    match e {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

/// True when the error means the token went away or our sessions were closed under us.
pub(crate) fn is_removal(e: &CkError) -> bool {
    matches!(
        rv(e),
        Some(
            RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::DeviceError
                | RvError::TokenNotRecognized
                | RvError::CryptokiNotInitialized
        )
    )
}

/// A PKCS#11 failure with no more specific meaning (crate-internal: no cryptoki type is part
/// of kyso-hsm's public API).
pub(crate) fn ck(e: CkError) -> HsmError {
    HsmError::Pkcs11(e.to_string())
}

pub type Result<T> = std::result::Result<T, HsmError>;
