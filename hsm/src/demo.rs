//! A demo token for development, tests and `deploy/run`: a project-local SoftHSM2 store (never
//! the system's token directory) holding a demo CA, an RSA-2048 and an ECDSA P-256 signer, and
//! certificates for them. The PINs are random and written to files with mode 0600.

use crate::adapter::{RustCryptoSigner, TokenSignature};
use crate::admin::{self, KeySpec};
use crate::alg::Curve;
use crate::error::{HsmError, Result};
use crate::key::{KeyPair, SignDigest};
use crate::module::Module;
use crate::token::Token;
use crate::uri::Pkcs11Uri;
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

/// The demo token's label.
pub const DEMO_TOKEN: &str = "kyso-dev";
/// The environment variable SoftHSM2 reads its configuration path from.
pub const SOFTHSM2_CONF: &str = "SOFTHSM2_CONF";

/// The files of a demo token directory.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoLayout {
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub tokens: PathBuf,
    pub user_pin_file: PathBuf,
    pub so_pin_file: PathBuf,
    pub ca_pem: PathBuf,
}

impl DemoLayout {
    pub fn new(dir: &Path) -> Self {
        DemoLayout {
            dir: dir.to_path_buf(),
            conf: dir.join("softhsm2.conf"),
            tokens: dir.join("tokens"),
            user_pin_file: dir.join("user.pin"),
            so_pin_file: dir.join("so.pin"),
            ca_pem: dir.join("ca.pem"),
        }
    }

    /// Write the SoftHSM2 configuration that keeps tokens under `dir/tokens`.
    pub fn write_conf(&self) -> Result<()> {
        std::fs::create_dir_all(&self.tokens)
            .map_err(|e| HsmError::io(format!("create {}", self.tokens.display()), e))?;
        let conf = format!(
            "# kyso demo token store (project-local; not the system's)\n\
             directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
            self.tokens.display()
        );
        std::fs::write(&self.conf, conf)
            .map_err(|e| HsmError::io(format!("write {}", self.conf.display()), e))
    }

    /// Is the calling process pointed at this layout's SoftHSM2 configuration?
    pub fn is_active(&self) -> bool {
        let want = std::fs::canonicalize(&self.conf).ok();
        let have = std::env::var_os(SOFTHSM2_CONF).and_then(|p| std::fs::canonicalize(p).ok());
        want.is_some() && want == have
    }
}

/// What `init_demo` made: URIs of the keys and paths of the PEM files.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoToken {
    pub layout: DemoLayout,
    pub created: bool,
    /// Keys made in this run.
    pub added: Vec<String>,
    pub token_uri: String,
    pub keys: Vec<DemoKey>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoKey {
    pub label: String,
    pub uri: String,
    pub certificate_pem: PathBuf,
    pub subject: String,
}

/// What a demo key is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Signer,
    /// A time-stamping authority: extendedKeyUsage timeStamping, critical (RFC 3161 §2.3).
    Tsa,
}

/// Keys the demo token holds below its CA: label, CKA_ID, key, subject, role.
const DEMO_KEYS: &[(&str, &[u8], DemoKind, &str, Role)] = &[
    (
        "signer-rsa",
        b"\x01",
        DemoKind::Rsa(2048),
        "CN=Nguyễn Văn An,title=Phó Giám đốc,O=Sở Tư pháp tỉnh Demo,L=Hà Nội,C=VN",
        Role::Signer,
    ),
    (
        "signer-ec",
        b"\x02",
        DemoKind::Ec(Curve::P256),
        "CN=Trần Thị Bình,title=Chuyên viên,O=Sở Tư pháp tỉnh Demo,L=Hà Nội,C=VN",
        Role::Signer,
    ),
    (
        "log",
        b"\x04",
        DemoKind::Ec(Curve::P256),
        "CN=kyso Demo Archive Log,O=kyso demo,C=VN",
        Role::Signer,
    ),
    (
        "tsa",
        b"\x03",
        DemoKind::Rsa(2048),
        "CN=kyso Demo TSA,O=kyso demo (not a real TSA),C=VN",
        Role::Tsa,
    ),
];

#[derive(Clone, Copy)]
enum DemoKind {
    Rsa(u64),
    Ec(Curve),
}

const CA_LABEL: &str = "demo-ca";
const CA_ID: &[u8] = b"\xca";
const CA_SUBJECT: &str = "CN=kyso Demo Root CA,O=kyso demo (not a real CA),C=VN";

fn random_pin(digits: usize) -> String {
    use rsa::rand_core::{OsRng, RngCore};
    (0..digits)
        .map(|_| char::from(b'0' + (OsRng.next_u32() % 10) as u8))
        .collect()
}

fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| HsmError::io(format!("write {}", path.display()), e))?;
    writeln!(f, "{text}").map_err(|e| HsmError::io(format!("write {}", path.display()), e))
}

fn validity(years: u64) -> Result<Validity> {
    let now = SystemTime::now();
    let t = |s: SystemTime| Time::try_from(s).map_err(|e| HsmError::Pkcs11(format!("time: {e}")));
    Ok(Validity {
        not_before: t(now - Duration::from_secs(3600))?,
        not_after: t(now + Duration::from_secs(years * 365 * 24 * 3600))?,
    })
}

fn serial() -> SerialNumber {
    use rsa::rand_core::{OsRng, RngCore};
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[0] &= 0x7f;
    b[0] |= 0x01;
    SerialNumber::new(&b).expect("16 positive bytes are a valid serial")
}

fn name(s: &str) -> Result<Name> {
    Name::from_str(s).map_err(|e| HsmError::Pkcs11(format!("name {s:?}: {e}")))
}

fn cert_err(e: x509_cert::builder::Error) -> HsmError {
    HsmError::Pkcs11(format!("certificate building: {e}"))
}

/// Issue a certificate for `subject_key` signed by `ca` (or self-signed when `ca` is `None`).
pub fn issue(
    ca: &KeyPair,
    ca_name: &Name,
    profile_leaf: bool,
    subject: &Name,
    subject_key: &dyn SignDigest,
    years: u64,
) -> Result<Certificate> {
    issue_with(
        ca,
        ca_name,
        profile_leaf,
        subject,
        subject_key,
        years,
        false,
    )
}

/// `extendedKeyUsage` with only id-kp-timeStamping, marked critical (RFC 3161 §2.3).
struct TimeStampingOnly(x509_cert::ext::pkix::ExtendedKeyUsage);

impl const_oid::AssociatedOid for TimeStampingOnly {
    const OID: const_oid::ObjectIdentifier = const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE;
}

impl der::Encode for TimeStampingOnly {
    fn encoded_len(&self) -> der::Result<der::Length> {
        self.0.encoded_len()
    }
    fn encode(&self, w: &mut impl der::Writer) -> der::Result<()> {
        self.0.encode(w)
    }
}

impl x509_cert::ext::AsExtension for TimeStampingOnly {
    fn critical(&self, _: &Name, _: &[x509_cert::ext::Extension]) -> bool {
        true
    }
}

/// [`issue`], optionally for a time-stamping authority.
pub fn issue_with(
    ca: &KeyPair,
    ca_name: &Name,
    profile_leaf: bool,
    subject: &Name,
    subject_key: &dyn SignDigest,
    years: u64,
    tsa: bool,
) -> Result<Certificate> {
    let profile = if profile_leaf {
        Profile::Leaf {
            issuer: ca_name.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        }
    } else {
        Profile::Root
    };
    let signer = RustCryptoSigner(ca);
    let b = CertificateBuilder::new(
        profile,
        serial(),
        validity(years)?,
        subject.clone(),
        subject_key.public_key_info().clone(),
        &signer,
    )
    .map_err(cert_err)?;
    let mut b = b;
    if tsa {
        b.add_extension(&TimeStampingOnly(x509_cert::ext::pkix::ExtendedKeyUsage(
            vec![const_oid::db::rfc5912::ID_KP_TIME_STAMPING],
        )))
        .map_err(cert_err)?;
    }
    b.build::<TokenSignature>().map_err(cert_err)
}

/// Create the demo token in `layout` (the process must already have `SOFTHSM2_CONF` pointing at
/// `layout.conf`). If it exists already, only report it.
pub fn init_demo(layout: &DemoLayout, module_path: &Path) -> Result<DemoToken> {
    if !layout.is_active() {
        return Err(HsmError::Pkcs11(format!(
            "{SOFTHSM2_CONF} must point at {} before the module is loaded",
            layout.conf.display()
        )));
    }
    let module = Module::load(module_path)?;
    let token_uri = Pkcs11Uri {
        token: Some(DEMO_TOKEN.into()),
        ..Default::default()
    };
    let exists = module
        .tokens()?
        .iter()
        .any(|t| t.initialized && t.label == DEMO_TOKEN);
    if !exists {
        let so = random_pin(12);
        let user = random_pin(8);
        write_secret(&layout.so_pin_file, &so)?;
        write_secret(&layout.user_pin_file, &user)?;
        admin::init_token(
            &module,
            DEMO_TOKEN,
            &SecretString::from(so),
            &SecretString::from(user),
        )?;
    }
    let pin = crate::pin::resolve(
        &[crate::pin::PinSource::File(layout.user_pin_file.clone())],
        "",
    )?;
    let token = Arc::new(Token::open(&module, &token_uri, pin.clone(), 1)?);
    let key_uri = |label: &str| Pkcs11Uri {
        token: Some(DEMO_TOKEN.into()),
        object: Some(label.into()),
        ..Default::default()
    };
    let s = token.admin_session()?;
    s.login_user(&pin)?;
    if !exists {
        s.generate_rsa(&KeySpec::new(CA_LABEL, CA_ID), 3072)?;
        let ca = KeyPair::find(token.clone(), &key_uri(CA_LABEL))?;
        let ca_name = name(CA_SUBJECT)?;
        let ca_cert = issue(&ca, &ca_name, false, &ca_name, &ca, 10)?;
        s.import_certificate(DEMO_TOKEN, CA_LABEL, CA_ID, &ca_cert)?;
        write_pem(&layout.ca_pem, &ca_cert)?;
    }
    // Keys added to the demo in later versions of kyso are made on an older demo token too.
    let mut created = Vec::new();
    for (label, id, kind, subject, role) in DEMO_KEYS {
        match KeyPair::find(token.clone(), &key_uri(label)) {
            Ok(_) => continue,
            Err(HsmError::NoObject { .. }) => {}
            Err(e) => return Err(e),
        }
        let spec = KeySpec::new(label, id);
        match kind {
            DemoKind::Rsa(bits) => s.generate_rsa(&spec, *bits)?,
            DemoKind::Ec(curve) => s.generate_ec(&spec, *curve)?,
        };
        let ca = KeyPair::find(token.clone(), &key_uri(CA_LABEL))?;
        let ca_name = name(CA_SUBJECT)?;
        let key = KeyPair::find(token.clone(), &key_uri(label))?;
        let cert = issue_with(
            &ca,
            &ca_name,
            true,
            &name(subject)?,
            &key,
            3,
            *role == Role::Tsa,
        )?;
        s.import_certificate(DEMO_TOKEN, label, id, &cert)?;
        write_pem(&layout.dir.join(format!("{label}.pem")), &cert)?;
        created.push(label.to_string());
    }
    drop(s);
    let mut keys = Vec::new();
    for (label, ..) in DEMO_KEYS {
        let key = crate::key::TokenKey::find(
            token.clone(),
            &Pkcs11Uri {
                token: Some(DEMO_TOKEN.into()),
                object: Some((*label).into()),
                ..Default::default()
            },
        )?;
        keys.push(DemoKey {
            label: label.to_string(),
            uri: Pkcs11Uri {
                token: Some(DEMO_TOKEN.into()),
                object: Some((*label).into()),
                ..Default::default()
            }
            .to_string(),
            certificate_pem: layout.dir.join(format!("{label}.pem")),
            subject: crate::key::SigningKey::certificate(&key)
                .tbs_certificate
                .subject
                .to_string(),
        });
    }
    Ok(DemoToken {
        layout: layout.clone(),
        created: !exists,
        added: created,
        token_uri: token_uri.to_string(),
        keys,
    })
}

fn write_pem(path: &Path, cert: &Certificate) -> Result<()> {
    let pem = crate::key::certificate_pem(cert)?;
    std::fs::write(path, pem).map_err(|e| HsmError::io(format!("write {}", path.display()), e))
}
