//! `kyso token …`: list tokens and objects, sign a test digest, make a demo token.

use clap::{Args, Subcommand};
use kyso_hsm::demo::{self, DemoLayout};
use kyso_hsm::{admin, Curve, KeyKind};
use kyso_hsm::{
    key, pin, HashAlg, HsmError, Module, Pkcs11Uri, Result, SignDigest, SignatureAlgorithm,
    SigningKey, Token,
};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Clone)]
pub struct ModuleArg {
    /// PKCS#11 module (default: the URI's module-path where a URI is given,
    /// $KYSO_PKCS11_MODULE, or SoftHSM2).
    #[arg(long, value_name = "PATH")]
    pub module: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct PinArg {
    /// File whose first line is the user PIN (else the URI's pin-source, $KYSO_PIN, or a prompt).
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// List slots with a token: label, maker, model, serial, flags and PIN state.
    List {
        #[command(flatten)]
        module: ModuleArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the objects on the token a URI names (private keys only after login).
    Objects {
        /// PKCS#11 URI (RFC 7512) selecting the token, e.g. pkcs11:token=kyso-dev
        uri: String,
        #[command(flatten)]
        module: ModuleArg,
        #[command(flatten)]
        pin: PinArg,
        /// List only public objects; do not log in.
        #[arg(long)]
        no_login: bool,
        #[arg(long)]
        json: bool,
    },
    /// Sign one digest with a key on the token and print the signature (a test of the token).
    SignDigest {
        /// PKCS#11 URI of the private key, e.g. pkcs11:token=kyso-dev;object=signer-rsa
        #[arg(long, value_name = "URI")]
        key: String,
        /// The digest, hex. Without it, the digest of --input, or of a fixed test message.
        #[arg(long, value_name = "HEX", conflicts_with = "input")]
        digest: Option<String>,
        /// A file to hash and sign.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// Signature algorithm: rsa-pkcs1-sha256 (default for RSA), rsa-pss-sha256,
        /// ecdsa-sha256 (default for P-256), … with sha256, sha384 or sha512.
        #[arg(long, value_name = "ALG")]
        alg: Option<String>,
        /// Write the signature bytes (DER for ECDSA) to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Write the signer's certificate (PEM) to this file.
        #[arg(long, value_name = "FILE")]
        cert_out: Option<PathBuf>,
        /// Replace the files of --out and --cert-out if they exist.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        module: ModuleArg,
        #[command(flatten)]
        pin: PinArg,
        #[arg(long)]
        json: bool,
    },
    /// Generate a key pair on the token (non-extractable private key).
    Keygen {
        /// PKCS#11 URI of the token, e.g. pkcs11:token=kyso-dev
        #[arg(long, value_name = "URI")]
        token: String,
        /// CKA_LABEL of the new key.
        #[arg(long)]
        label: String,
        /// CKA_ID of the new key, hex (default: random 8 bytes).
        #[arg(long, value_name = "HEX")]
        id: Option<String>,
        /// rsa-2048, rsa-3072, rsa-4096, p-256 or p-384.
        #[arg(long = "type", value_name = "TYPE", default_value = "rsa-2048")]
        key_type: String,
        #[command(flatten)]
        module: ModuleArg,
        #[command(flatten)]
        pin: PinArg,
    },
    /// Make a PKCS#10 certificate request (PEM) for a key on the token, signed by that key:
    /// what the CA issues the key's certificate from.
    Csr {
        /// PKCS#11 URI of the private key, e.g. pkcs11:token=kyso-province;object=ubnd-tinh
        #[arg(long, value_name = "URI")]
        key: String,
        /// The subject, RFC 4514 (most specific first): "CN=…,O=UBND tỉnh …,C=VN" (UTF-8).
        #[arg(long, value_name = "NAME")]
        subject: String,
        /// Write the request here (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace the file of --out if it exists.
        #[arg(long, requires = "out")]
        overwrite: bool,
        #[command(flatten)]
        module: ModuleArg,
        #[command(flatten)]
        pin: PinArg,
    },
    /// Store a certificate (PEM or DER) on the token, under the CKA_ID of its key.
    ImportCert {
        /// PKCS#11 URI of the token.
        #[arg(long, value_name = "URI")]
        token: String,
        #[arg(long)]
        label: String,
        /// CKA_ID, hex: the same as the private key's.
        #[arg(long, value_name = "HEX")]
        id: String,
        /// The certificate file.
        cert: PathBuf,
        #[command(flatten)]
        module: ModuleArg,
        #[command(flatten)]
        pin: PinArg,
    },
    /// Create a demo SoftHSM2 token in DIR (its own config; never the system's token store):
    /// a demo CA, an RSA-2048 and an ECDSA P-256 signer, the archive's log key and a TSA key,
    /// each with its certificate on the token and in DIR/<label>.pem; random PINs in files.
    InitDemo {
        /// The folder for the token store, its config, PIN files and certificates (made if
        /// missing; run again, it finds the token there).
        dir: PathBuf,
        #[command(flatten)]
        module: ModuleArg,
        /// Print what was made (or found) as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::List { module, json } => list(module, json),
        TokenCommand::Objects {
            uri,
            module,
            pin,
            no_login,
            json,
        } => objects(&uri, module, pin, no_login, json),
        TokenCommand::SignDigest {
            key,
            digest,
            input,
            alg,
            out,
            cert_out,
            overwrite,
            module,
            pin,
            json,
        } => sign_digest(SignDigestArgs {
            key,
            digest,
            input,
            alg,
            out,
            cert_out,
            overwrite,
            module,
            pin,
            json,
        }),
        TokenCommand::InitDemo { dir, module, json } => init_demo(&dir, module, json),
        TokenCommand::Keygen {
            token,
            label,
            id,
            key_type,
            module,
            pin,
        } => keygen(&token, &label, id.as_deref(), &key_type, module, pin),
        TokenCommand::ImportCert {
            token,
            label,
            id,
            cert,
            module,
            pin,
        } => import_cert(&token, &label, &id, &cert, module, pin),
        TokenCommand::Csr {
            key,
            subject,
            out,
            overwrite,
            module,
            pin,
        } => {
            let uri = parse_uri(&key)?;
            if let Some(e) = crate::sign_cmd::exists_already(out.as_deref(), overwrite) {
                return Err(HsmError::Usage(e));
            }
            let pem = kyso_hsm::certificate_request(
                module.module.as_deref(),
                &uri,
                pin.pin_file,
                &subject,
            )?;
            match out {
                Some(p) => {
                    crate::sign_cmd::write_atomic(&p, pem.as_bytes(), overwrite).map_err(|e| {
                        HsmError::Io {
                            what: format!("write {}", p.display()),
                            source: e,
                        }
                    })?
                }
                None => outln!("{}", pem.trim_end()),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_json(v: &impl serde::Serialize) {
    outln!("{}", serde_json::to_string_pretty(v).expect("serializable"));
}

fn list(module: ModuleArg, json: bool) -> Result<ExitCode> {
    let m = Module::load(&Module::resolve_path(module.module.as_deref(), None))?;
    let tokens = m.tokens()?;
    if json {
        print_json(&serde_json::json!({ "module": m.path(), "tokens": tokens }));
        return Ok(ExitCode::SUCCESS);
    }
    outln!("module {}", m.path().display());
    for t in &tokens {
        if !t.initialized {
            outln!(
                "slot {:#x}: uninitialized token ({})",
                t.slot_id,
                shown(&t.slot_description, 128)
            );
            continue;
        }
        let pin = if t.pin_locked {
            "PIN LOCKED"
        } else if t.pin_final_try {
            "PIN: final try"
        } else if t.pin_count_low {
            "PIN: count low"
        } else {
            "PIN: ok"
        };
        outln!(
            "slot {:#x}: {:?}  {} / {}  serial {}  {}{}",
            t.slot_id,
            t.label,
            shown(&t.manufacturer, 64),
            shown(&t.model, 64),
            shown(&t.serial, 64),
            pin,
            if t.removable { "  removable" } else { "" }
        );
        outln!("  {}", t.uri);
    }
    if tokens.iter().all(|t| !t.initialized) {
        // As `kyso sign` says it: the demo's token is in its own SoftHSM2 configuration.
        outln!(
            "no initialized token{}",
            kyso_hsm::module::softhsm_hint(m.path())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A token's own text (labels, manufacturer, model, serial) as it may be printed: it is
/// anyone's who can write to the token, and its escape sequences must not reach the terminal
/// (an attacker's reading, 2026-12-05).
fn shown(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    kyso_verify::report::shown(s, max)
}

fn parse_uri(s: &str) -> Result<Pkcs11Uri> {
    Pkcs11Uri::parse(s)
}

fn objects(
    uri: &str,
    module: ModuleArg,
    pin: PinArg,
    no_login: bool,
    json: bool,
) -> Result<ExitCode> {
    let uri = parse_uri(uri)?;
    let m = Module::for_uri(module.module.as_deref(), &uri)?;
    let desc = m.find_token(&uri.token_only())?;
    let token = if no_login {
        None
    } else {
        let sources = pin::PinSource::chain(pin.pin_file, uri.pin_source.as_deref());
        match pin::resolve_for(
            &desc,
            &sources,
            &format!("PIN for token {:?}: ", desc.label),
        ) {
            Ok(p) => Some(Token::open(&m, &uri, p, 1)?),
            Err(HsmError::NoPin) => None,
            Err(e) => return Err(e),
        }
    };
    let logged_in = token.is_some();
    let objects = match &token {
        Some(t) => key::list_objects(t)?,
        None => key::list_objects(&Token::open_public(&m, &uri)?)?,
    };
    let objects: Vec<_> = objects
        .into_iter()
        .filter(|o| uri.object.as_ref().is_none_or(|l| *l == o.label))
        // id= narrows as object= does (it was passed over: every object listed; helper 176).
        .filter(|o| uri.id.as_ref().is_none_or(|i| hex::encode(i) == o.id))
        .filter(|o| uri.object_type.is_none_or(|t| t == o.object_type))
        .collect();
    if json {
        print_json(
            &serde_json::json!({ "token": desc, "logged_in": logged_in, "objects": objects }),
        );
        return Ok(ExitCode::SUCCESS);
    }
    // What a token or anyone without its PIN wrote is shown with its hidden characters
    // escaped: a serial with terminal escapes and a certificate subject with U+202E reached the
    // terminal as they were (helper 176).
    outln!(
        "token {:?} serial {}{}",
        desc.label,
        shown(&desc.serial, 64),
        if logged_in {
            ""
        } else {
            " (not logged in: public objects only)"
        }
    );
    for o in &objects {
        let what = match (&o.key, &o.subject) {
            (Some(k), _) => k.to_string(),
            (None, Some(s)) => format!(
                "subject {}, valid {} – {}",
                shown(s, 256),
                o.not_before.as_deref().unwrap_or("?"),
                o.not_after.as_deref().unwrap_or("?")
            ),
            _ => String::new(),
        };
        outln!(
            "{:<8} {:<14} id {:<6} {}",
            format!("{:?}", o.object_type).to_lowercase(),
            shown(&o.label, 128),
            o.id,
            what
        );
        // A certificate kyso cannot use is said so here, not first when a signature fails.
        if let Some(why) = &o.unusable {
            outln!("         NOT USABLE: {}", shown(why, 512));
        }
        outln!("         {}", o.uri);
    }
    Ok(ExitCode::SUCCESS)
}

struct SignDigestArgs {
    key: String,
    digest: Option<String>,
    input: Option<PathBuf>,
    alg: Option<String>,
    out: Option<PathBuf>,
    cert_out: Option<PathBuf>,
    overwrite: bool,
    module: ModuleArg,
    pin: PinArg,
    json: bool,
}

/// The message `kyso token sign-digest` signs when given nothing else.
pub const TEST_MESSAGE: &[u8] = b"kyso token test: k\xc3\xbd s\xe1\xbb\x91";

fn sign_digest(a: SignDigestArgs) -> Result<ExitCode> {
    let uri = parse_uri(&a.key)?;
    if let Some(e) = crate::sign_cmd::exists_already(
        a.out.iter().chain(a.cert_out.iter()).map(PathBuf::as_path),
        a.overwrite,
    ) {
        return Err(HsmError::Usage(e));
    }
    let alg = match &a.alg {
        Some(s) => Some(SignatureAlgorithm::parse(s).ok_or_else(|| {
            HsmError::Usage(format!(
                "unknown --alg {s:?} (try rsa-pkcs1-sha256, rsa-pss-sha256, ecdsa-sha256)"
            ))
        })?),
        None => None,
    };
    // A digest that cannot be one is said before the PIN is sent (the key's own hash is
    // known only once it is found, after the login).
    let given = match &a.digest {
        Some(h) => {
            let d = hex::decode(h.trim())
                .map_err(|e| HsmError::Usage(format!("--digest is not hex: {e}")))?;
            let fits = match alg {
                Some(alg) => d.len() == alg.hash().output_len(),
                None => [32, 48, 64].contains(&d.len()),
            };
            if !fits {
                return Err(HsmError::Usage(format!(
                    "--digest is {} bytes: a SHA-256, SHA-384 or SHA-512 digest is 32, 48 or 64{}",
                    d.len(),
                    alg.map(|a| format!(" ({a} takes {})", a.hash().output_len()))
                        .unwrap_or_default()
                )));
            }
            Some(d)
        }
        None => None,
    };
    let mut key = kyso_hsm::open_key(a.module.module.as_deref(), &uri, a.pin.pin_file, 1)?;
    if let Some(alg) = alg {
        key.set_algorithm(alg)?;
    }
    let hash: HashAlg = key.algorithm().hash();
    let digest = match (given, &a.input) {
        (Some(d), _) => {
            if d.len() != hash.output_len() {
                return Err(HsmError::Usage(format!(
                    "--digest is {} bytes; the key signs with {}, whose digest is {} (or give --alg)",
                    d.len(),
                    key.algorithm(),
                    hash.output_len()
                )));
            }
            d
        }
        (None, Some(f)) => {
            let data = std::fs::read(f).map_err(|e| HsmError::Io {
                what: format!("read {}", f.display()),
                source: e,
            })?;
            hash.digest(&data)
        }
        (None, None) => hash.digest(TEST_MESSAGE),
    };
    let sig = key.sign_digest(&digest)?;
    if let Some(p) = &a.out {
        crate::sign_cmd::write_atomic(p, &sig, a.overwrite).map_err(|e| HsmError::Io {
            what: format!("write {}", p.display()),
            source: e,
        })?;
    }
    let cert_pem = key::certificate_pem(key.certificate())?;
    if let Some(p) = &a.cert_out {
        crate::sign_cmd::write_atomic(p, cert_pem.as_bytes(), a.overwrite).map_err(|e| {
            HsmError::Io {
                what: format!("write {}", p.display()),
                source: e,
            }
        })?;
    }
    let alg_id = key.algorithm().algorithm_identifier_der();
    let report = serde_json::json!({
        "key": key.key().uri().to_string(),
        "key_type": key.key().kind().to_string(),
        "algorithm": key.algorithm().name(),
        "algorithm_identifier": hex::encode(alg_id),
        "digest_algorithm": hash.name(),
        "digest": hex::encode(&digest),
        "signature": hex::encode(&sig),
        "signer": key.certificate().tbs_certificate.subject.to_string(),
        "issuer": key.certificate().tbs_certificate.issuer.to_string(),
        "chain": key.chain().iter().map(|c| c.tbs_certificate.subject.to_string()).collect::<Vec<_>>(),
    });
    if a.json {
        print_json(&report);
    } else {
        outln!(
            "signed with {} ({})",
            report["key"].as_str().unwrap_or(""),
            key.key().kind()
        );
        outln!("  signer    {}", report["signer"].as_str().unwrap_or(""));
        outln!("  algorithm {}", key.algorithm());
        outln!("  digest    {} {}", hash.name(), hex::encode(&digest));
        outln!(
            "  signature {} bytes: {}…",
            sig.len(),
            &hex::encode(&sig)[..32.min(sig.len() * 2)]
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn init_demo(dir: &std::path::Path, module: ModuleArg, json: bool) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).map_err(|e| HsmError::Io {
        what: format!("create {}", dir.display()),
        source: e,
    })?;
    let dir = std::fs::canonicalize(dir).map_err(|e| HsmError::Io {
        what: format!("resolve {}", dir.display()),
        source: e,
    })?;
    let layout = DemoLayout::new(&dir);
    if !layout.conf.exists() {
        layout.write_conf()?;
    }
    if !layout.is_active() {
        // SoftHSM2 reads SOFTHSM2_CONF once, when the module is initialized: run again with it set.
        let exe = std::env::current_exe().map_err(|e| HsmError::Io {
            what: "find own executable".into(),
            source: e,
        })?;
        let status = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(demo::SOFTHSM2_CONF, &layout.conf)
            .status()
            .map_err(|e| HsmError::Io {
                what: "run kyso again with SOFTHSM2_CONF".into(),
                source: e,
            })?;
        return Ok(ExitCode::from(
            status.code().unwrap_or(1).clamp(0, 255) as u8
        ));
    }
    let module_path = Module::resolve_path(module.module.as_deref(), None);
    let made = demo::init_demo(&layout, &module_path)?;
    if json {
        print_json(&made);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} demo token {:?} in {}",
        if made.created { "created" } else { "found" },
        demo::DEMO_TOKEN,
        dir.display()
    );
    outln!("  export SOFTHSM2_CONF={}", layout.conf.display());
    outln!(
        "  user PIN in {} (mode 0600)",
        layout.user_pin_file.display()
    );
    outln!("  demo CA certificate: {}", layout.ca_pem.display());
    for k in &made.keys {
        outln!("  key {}  {}", k.uri, k.subject);
        // Where each certificate is: the log key's is what `audit verify` and `bag verify`
        // take as --log-key (a new user had to guess it, 2026-12-04).
        outln!("      certificate: {}", k.certificate_pem.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_id(id: &str) -> Result<Vec<u8>> {
    hex::decode(id.trim()).map_err(|e| HsmError::Usage(format!("--id is not hex: {e}")))
}

fn keygen(
    token: &str,
    label: &str,
    id: Option<&str>,
    key_type: &str,
    module: ModuleArg,
    pin: PinArg,
) -> Result<ExitCode> {
    let uri = parse_uri(token)?;
    let id = match id {
        Some(h) => parse_id(h)?,
        None => {
            let d = HashAlg::Sha256
                .digest(format!("{label}{:?}", std::time::SystemTime::now()).as_bytes());
            d[..8].to_vec()
        }
    };
    let spec = admin::KeySpec::new(label, &id);
    // Said before the PIN is asked for.
    let generate = match key_type.to_ascii_lowercase().as_str() {
        "rsa-2048" | "rsa2048" => KeyKind::Rsa { bits: 2048 },
        "rsa-3072" | "rsa3072" => KeyKind::Rsa { bits: 3072 },
        "rsa-4096" | "rsa4096" => KeyKind::Rsa { bits: 4096 },
        "p-256" | "p256" | "ec" => KeyKind::Ec { curve: Curve::P256 },
        "p-384" | "p384" => KeyKind::Ec { curve: Curve::P384 },
        _ => {
            return Err(HsmError::Usage(format!(
                "unknown --type {key_type:?} (rsa-2048, rsa-3072, rsa-4096, p-256, p-384)"
            )))
        }
    };
    let (token, s) = admin::open(module.module.as_deref(), &uri, pin.pin_file)?;
    // Two keys with one label are two a key URI's object= cannot choose between, and a key
    // given another's id takes that key's certificate: both made a key that could not sign,
    // and said so only then (a new user's reading, 2026-12-04).
    let there = s.objects_named(label, &id)?;
    if !there.is_empty() {
        return Err(HsmError::Usage(format!(
            "token {:?} already holds {}: give the new key a label and an id of its own (--label, --id)",
            token.label(),
            there.join(", ")
        )));
    }
    match generate {
        KeyKind::Rsa { bits } => s.generate_rsa(&spec, bits as u64)?,
        KeyKind::Ec { curve } => s.generate_ec(&spec, curve)?,
    };
    let made = Pkcs11Uri {
        token: Some(token.label()),
        object: Some(label.to_string()),
        id: Some(id),
        object_type: Some(kyso_hsm::ObjectType::Private),
        ..Default::default()
    };
    outln!("{made}");
    Ok(ExitCode::SUCCESS)
}

fn import_cert(
    token: &str,
    label: &str,
    id: &str,
    cert: &std::path::Path,
    module: ModuleArg,
    pin: PinArg,
) -> Result<ExitCode> {
    let uri = parse_uri(token)?;
    let id = parse_id(id)?;
    let bytes = std::fs::read(cert).map_err(|e| HsmError::Io {
        what: format!("read {}", cert.display()),
        source: e,
    })?;
    let c = key::parse_certificate(&bytes).map_err(|reason| {
        HsmError::Usage(format!(
            "{} is not an X.509 certificate (PEM or DER): {reason}",
            cert.display()
        ))
    })?;
    let (token, s) = admin::open(module.module.as_deref(), &uri, pin.pin_file)?;
    s.import_certificate(&token.label(), label, &id, &c)?;
    outln!(
        "imported {} as {label:?} id {}",
        c.tbs_certificate.subject,
        hex::encode(&id)
    );
    Ok(ExitCode::SUCCESS)
}
