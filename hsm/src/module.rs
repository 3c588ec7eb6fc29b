//! Loading a PKCS#11 module and describing its slots and tokens.

use crate::error::{rv, HsmError, Result};
use crate::uri::Pkcs11Uri;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::Slot;
use std::path::{Path, PathBuf};

/// The environment variable naming the module when neither the command line nor the URI does.
pub const MODULE_ENV: &str = "KYSO_PKCS11_MODULE";
/// SoftHSM2's module as Debian installs it: the default.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// Where p11-kit-aware distributions keep modules, searched for a URI's `module-name`.
const MODULE_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/pkcs11",
    "/usr/lib/aarch64-linux-gnu/pkcs11",
    "/usr/lib/pkcs11",
    "/usr/lib64/pkcs11",
    "/usr/lib/softhsm",
];

/// A loaded and initialized PKCS#11 module.
#[derive(Clone)]
pub struct Module {
    pub(crate) ctx: Pkcs11,
    path: PathBuf,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("path", &self.path).finish()
    }
}

/// One slot with a token in it, as `kyso token list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenDescription {
    pub slot_id: u64,
    pub slot_description: String,
    /// CK_SLOT_INFO.manufacturerID
    pub slot_manufacturer: String,
    /// The module's CK_INFO.
    pub library: LibraryInfo,
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub initialized: bool,
    pub login_required: bool,
    pub user_pin_initialized: bool,
    pub removable: bool,
    pub hardware_slot: bool,
    pub write_protected: bool,
    /// CKF_USER_PIN_COUNT_LOW: a wrong PIN was given since the last good login.
    pub pin_count_low: bool,
    /// CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks the token.
    pub pin_final_try: bool,
    /// CKF_USER_PIN_LOCKED.
    pub pin_locked: bool,
    /// The URI that selects this token.
    pub uri: String,
    #[serde(skip)]
    pub(crate) slot: Option<Slot>,
}

/// What a module says of itself (CK_INFO): RFC 7512's `library-*` attributes match it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LibraryInfo {
    pub manufacturer: String,
    pub description: String,
    /// (major, minor)
    pub version: (u8, u8),
}

impl Module {
    /// Which module to load: the explicit path, else the URI's `module-path` or `module-name`,
    /// else `KYSO_PKCS11_MODULE`, else SoftHSM2.
    pub fn resolve_path(explicit: Option<&Path>, uri: Option<&Pkcs11Uri>) -> PathBuf {
        if let Some(p) = explicit {
            return p.to_path_buf();
        }
        if let Some(u) = uri {
            if let Some(p) = &u.module_path {
                return PathBuf::from(p);
            }
            if let Some(name) = &u.module_name {
                for dir in MODULE_DIRS {
                    for file in [format!("{name}.so"), format!("lib{name}.so"), name.clone()] {
                        let p = Path::new(dir).join(file);
                        if p.is_file() {
                            return p;
                        }
                    }
                }
                // Not found in them: named in the directory kyso looked in first, where
                // loading it says it is not there (never the working directory, which dlopen
                // would not search either).
                return Path::new(MODULE_DIRS[0]).join(format!("{name}.so"));
            }
        }
        match std::env::var_os(MODULE_ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from(DEFAULT_MODULE),
        }
    }

    /// Load and initialize the module at `path`.
    pub fn load(path: &Path) -> Result<Module> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(HsmError::ModuleNotFound { path: shown });
        }
        let ctx = Pkcs11::new(path).map_err(|e| HsmError::NotPkcs11 {
            path: shown.clone(),
            reason: match e {
                CkError::LibraryLoading(e) => e.to_string(),
                CkError::MissingSymbol(s) => format!("it has no {s}"),
                other => other.to_string(),
            },
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => {}
            Err(e) if rv(&e) == Some(RvError::CryptokiAlreadyInitialized) => {}
            // The library loaded: it is one, and its own configuration is what failed
            // (SoftHSM2 without its configuration file said "not a PKCS#11 library" and "some
            // horrible, unrecoverable error"; a new user's reading, 2026-12-04).
            Err(e) => {
                return Err(HsmError::ModuleInit {
                    path: shown,
                    reason: e.to_string(),
                    hint: softhsm_hint(path),
                })
            }
        }
        Ok(Module {
            ctx,
            path: path.to_path_buf(),
        })
    }

    /// Load the module a URI (or the environment) calls for.
    pub fn for_uri(explicit: Option<&Path>, uri: &Pkcs11Uri) -> Result<Module> {
        Module::load(&Module::resolve_path(explicit, Some(uri)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every slot that holds a token.
    pub fn tokens(&self) -> Result<Vec<TokenDescription>> {
        let mut out = Vec::new();
        for slot in self.ctx.get_slots_with_token().map_err(crate::error::ck)? {
            match self.describe(slot) {
                Ok(d) => out.push(d),
                // A token pulled out between the two calls is simply not there.
                Err(HsmError::TokenRemoved { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    pub(crate) fn describe(&self, slot: Slot) -> Result<TokenDescription> {
        let gone = |e: CkError| {
            if crate::error::is_removal(&e) {
                HsmError::TokenRemoved {
                    token: format!("slot {}", slot.id()),
                }
            } else {
                crate::error::ck(e)
            }
        };
        let si = self.ctx.get_slot_info(slot).map_err(gone)?;
        let li = self.ctx.get_library_info().map_err(crate::error::ck)?;
        let library = LibraryInfo {
            manufacturer: li.manufacturer_id().trim_end().to_string(),
            description: li.library_description().trim_end().to_string(),
            version: (li.library_version().major(), li.library_version().minor()),
        };
        let ti = self.ctx.get_token_info(slot).map_err(gone)?;
        let label = ti.label().trim_end().to_string();
        let serial = ti.serial_number().trim_end().to_string();
        let uri = Pkcs11Uri {
            token: Some(label.clone()),
            serial: Some(serial.clone()),
            manufacturer: Some(ti.manufacturer_id().trim_end().to_string()),
            model: Some(ti.model().trim_end().to_string()),
            ..Default::default()
        };
        Ok(TokenDescription {
            slot_id: slot.id(),
            slot_description: si.slot_description().trim_end().to_string(),
            slot_manufacturer: si.manufacturer_id().trim_end().to_string(),
            library,
            manufacturer: ti.manufacturer_id().trim_end().to_string(),
            model: ti.model().trim_end().to_string(),
            initialized: ti.token_initialized(),
            login_required: ti.login_required(),
            user_pin_initialized: ti.user_pin_initialized(),
            removable: si.removable_device(),
            hardware_slot: si.hardware_slot(),
            write_protected: ti.write_protected(),
            pin_count_low: ti.user_pin_count_low(),
            pin_final_try: ti.user_pin_final_try(),
            pin_locked: ti.user_pin_locked(),
            uri: uri.to_string(),
            label,
            serial,
            slot: Some(slot),
        })
    }

    /// The one initialized token that matches the URI's token attributes.
    pub fn find_token(&self, uri: &Pkcs11Uri) -> Result<TokenDescription> {
        let all = self.tokens()?;
        let mut hits: Vec<TokenDescription> = all
            .iter()
            .filter(|t| t.initialized && uri.matches_token(t))
            .cloned()
            .collect();
        match hits.len() {
            1 => Ok(hits.remove(0)),
            0 => Err(HsmError::NoToken {
                uri: uri.token_only().to_string(),
                present: format!(
                    "{}{}",
                    present(&all),
                    if all.iter().any(|t| t.initialized) {
                        String::new()
                    } else {
                        softhsm_hint(&self.path)
                    }
                ),
            }),
            _ => Err(HsmError::NoToken {
                uri: format!(
                    "{} (it matches {} tokens; add token= or serial=)",
                    uri.token_only(),
                    hits.len()
                ),
                present: present(&all),
            }),
        }
    }
}

/// For SoftHSM2, where its tokens and configuration are: what a demo user gets wrong first
/// (`; SoftHSM2 reads …`, or nothing for another module).
pub fn softhsm_hint(module: &Path) -> String {
    if !module.to_string_lossy().contains("softhsm") {
        return String::new();
    }
    match std::env::var_os("SOFTHSM2_CONF") {
        Some(c) => format!(
            "; SoftHSM2 reads SOFTHSM2_CONF={}: it must be readable and its directories.tokendir must exist",
            Path::new(&c).display()
        ),
        None => "; SoftHSM2 reads SOFTHSM2_CONF (not set here: /etc/softhsm/softhsm2.conf) — set it to the demo's softhsm2.conf".into(),
    }
}

fn present(all: &[TokenDescription]) -> String {
    let v: Vec<String> = all
        .iter()
        .filter(|t| t.initialized)
        .map(|t| format!("{:?} serial {}", t.label, t.serial))
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
