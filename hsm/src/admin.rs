//! Token administration: initialize a token, make keys, import certificates. Used by
//! `kyso token init-demo`, `kyso token keygen|import-cert`, `deploy/run` and the tests;
//! production tokens come initialized from the CA, and their keys are generated on the token
//! and never leave it. The PKCS#11 session stays inside [`AdminSession`]: no cryptoki type is
//! part of kyso-hsm's public API.

use crate::alg::Curve;
use crate::error::{ck, rv, HsmError, Result};
use crate::module::{Module, TokenDescription};
use crate::token::Token;
use crate::uri::Pkcs11Uri;
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, CertificateType, ObjectClass};
use cryptoki::session::{Session, UserType};
use der::Encode;
use secrecy::SecretString;
use x509_cert::Certificate;

/// Initialize a fresh token in the first free slot with a label, SO PIN and user PIN.
pub fn init_token(
    module: &Module,
    label: &str,
    so_pin: &SecretString,
    user_pin: &SecretString,
) -> Result<TokenDescription> {
    let free = module
        .tokens()?
        .into_iter()
        .find(|t| !t.initialized)
        .ok_or_else(|| HsmError::Pkcs11("no free slot to initialize a token in".into()))?;
    let slot = free.slot.expect("tokens() fills the slot");
    module.ctx.init_token(slot, so_pin, label).map_err(ck)?;
    // After C_InitToken SoftHSM2 moves the token to a new slot id: find it by label.
    let t = module.find_token(&crate::Pkcs11Uri {
        token: Some(label.to_string()),
        ..Default::default()
    })?;
    let session = module
        .ctx
        .open_rw_session(t.slot.expect("filled"))
        .map_err(ck)?;
    session.login(UserType::So, Some(so_pin)).map_err(ck)?;
    session.init_pin(user_pin).map_err(ck)?;
    session.logout().map_err(ck)?;
    Ok(t)
}

/// A read-write session for administration (key generation, imports).
pub struct AdminSession {
    session: Session,
}

impl std::fmt::Debug for AdminSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSession").finish_non_exhaustive()
    }
}

impl AdminSession {
    pub(crate) fn new(session: Session) -> Self {
        AdminSession { session }
    }

    /// Log in as the user (a no-op if this application already is).
    pub fn login_user(&self, pin: &SecretString) -> Result<()> {
        match self.session.login(UserType::User, Some(pin)) {
            Ok(()) => Ok(()),
            Err(e) if rv(&e) == Some(RvError::UserAlreadyLoggedIn) => Ok(()),
            Err(e) => Err(ck(e)),
        }
    }

    /// Generate an RSA key pair on the token (public exponent 65537).
    pub fn generate_rsa(&self, spec: &KeySpec, bits: u64) -> Result<()> {
        generate_rsa(&self.session, spec, bits)
    }

    /// Generate an EC key pair on a named curve.
    pub fn generate_ec(&self, spec: &KeySpec, curve: Curve) -> Result<()> {
        generate_ec(&self.session, spec, curve)
    }

    /// Store an X.509 certificate on the token under a label and CKA_ID — only beside the
    /// private key it certifies (the key with that CKA_ID whose public key it holds): stored
    /// under an id no key has, or over another key, it left a key that could not sign, which
    /// nothing said until signing (a new user's reading, 2026-12-04). `token`: the token's
    /// label, for the messages.
    pub fn import_certificate(
        &self,
        token: &str,
        label: &str,
        id: &[u8],
        cert: &Certificate,
    ) -> Result<()> {
        // A CA's certificate (the chain above the signer's, which tokens often hold) has no
        // key on the token.
        if is_ca(cert) {
            return import_certificate(&self.session, label, id, cert);
        }
        let keys = crate::key::private_keys_with_id(&self.session, id)?;
        if keys.is_empty() {
            return Err(HsmError::NoObject {
                what: "private key",
                token: token.to_string(),
                uri: format!(
                    "id {} (import the certificate under its key's id: `kyso token objects` lists them)",
                    hex::encode(id)
                ),
            });
        }
        if !keys
            .iter()
            .any(|(_, spki)| *spki == cert.tbs_certificate.subject_public_key_info)
        {
            return Err(HsmError::NotTheKeysCertificate(format!(
                "the certificate {label:?} holds another public key than the private key with id {} ({:?}): not that key's certificate",
                hex::encode(id),
                keys.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>()
            )));
        }
        import_certificate(&self.session, label, id, cert)
    }

    /// The labels of the objects with this label or CKA_ID already on the token, for refusing
    /// a key generated beside them: two keys with one label are two the label cannot choose
    /// between, and a key given another's id takes that key's certificate.
    pub fn objects_named(&self, label: &str, id: &[u8]) -> Result<Vec<String>> {
        let mut found = Vec::new();
        for t in [
            vec![Attribute::Label(label.as_bytes().to_vec())],
            vec![Attribute::Id(id.to_vec())],
        ] {
            for h in self.session.find_objects(&t).map_err(ck)? {
                let a = self
                    .session
                    .get_attributes(
                        h,
                        &[
                            cryptoki::object::AttributeType::Label,
                            cryptoki::object::AttributeType::Id,
                        ],
                    )
                    .map_err(ck)?;
                let mut l = String::new();
                let mut i = Vec::new();
                for x in a {
                    match x {
                        Attribute::Label(v) => l = String::from_utf8_lossy(&v).into_owned(),
                        Attribute::Id(v) => i = v,
                        _ => {}
                    }
                }
                let name = format!("{l:?} id {}", hex::encode(i));
                if !found.contains(&name) {
                    found.push(name);
                }
            }
        }
        Ok(found)
    }
}

/// Open the token a URI names, log in as the user (PIN from `pin_file`, the URI's
/// pin-source, `KYSO_PIN` or a prompt) and open an administration session on it.
pub fn open(
    module: Option<&std::path::Path>,
    uri: &Pkcs11Uri,
    pin_file: Option<std::path::PathBuf>,
) -> Result<(Token, AdminSession)> {
    let m = Module::for_uri(module, uri)?;
    let desc = m.find_token(&uri.token_only())?;
    let sources = crate::pin::PinSource::chain(pin_file, uri.pin_source.as_deref());
    let p = crate::pin::resolve_for(
        &desc,
        &sources,
        &format!("PIN for token {:?}: ", desc.label),
    )?;
    let token = Token::open(&m, uri, p, 1)?;
    let s = token.admin_session()?;
    Ok((token, s))
}

/// Options for a generated key pair.
#[derive(Debug, Clone)]
pub struct KeySpec {
    pub label: String,
    pub id: Vec<u8>,
    /// CKA_SIGN on the private key (false only to test refusals).
    pub can_sign: bool,
}

impl KeySpec {
    pub fn new(label: &str, id: &[u8]) -> Self {
        KeySpec {
            label: label.into(),
            id: id.to_vec(),
            can_sign: true,
        }
    }

    fn public(&self) -> Vec<Attribute> {
        vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Label(self.label.as_bytes().to_vec()),
            Attribute::Id(self.id.clone()),
        ]
    }

    fn private(&self) -> Vec<Attribute> {
        vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(self.can_sign),
            Attribute::Label(self.label.as_bytes().to_vec()),
            Attribute::Id(self.id.clone()),
        ]
    }
}

fn generate_rsa(session: &Session, spec: &KeySpec, bits: u64) -> Result<()> {
    let mut public = spec.public();
    public.push(Attribute::ModulusBits(bits.into()));
    public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
    session
        .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &spec.private())
        .map_err(ck)?;
    Ok(())
}

fn generate_ec(session: &Session, spec: &KeySpec, curve: Curve) -> Result<()> {
    let mut public = spec.public();
    let params = curve
        .oid()
        .to_der()
        .map_err(|e| HsmError::Pkcs11(e.to_string()))?;
    public.push(Attribute::EcParams(params));
    session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &spec.private())
        .map_err(ck)?;
    Ok(())
}

/// The certificate says it is a CA's (basicConstraints cA).
fn is_ca(cert: &Certificate) -> bool {
    use der::Decode;
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS)
        .any(|e| {
            x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes())
                .is_ok_and(|b| b.ca)
        })
}

fn import_certificate(session: &Session, label: &str, id: &[u8], cert: &Certificate) -> Result<()> {
    let enc = |e: der::Error| HsmError::Pkcs11(format!("certificate encoding: {e}"));
    let t = &cert.tbs_certificate;
    session
        .create_object(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
            Attribute::Subject(t.subject.to_der().map_err(enc)?),
            Attribute::Issuer(t.issuer.to_der().map_err(enc)?),
            Attribute::SerialNumber(t.serial_number.to_der().map_err(enc)?),
            Attribute::Value(cert.to_der().map_err(enc)?),
        ])
        .map_err(ck)?;
    Ok(())
}
