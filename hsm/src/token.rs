//! An open, logged-in token with a pool of sessions.
//!
//! A cryptoki `Session` may move between threads but not be shared, so the pool hands each
//! caller a session of its own for the length of one operation. PKCS#11 login state belongs to
//! the application, not to a session (PKCS#11 v2.40 §5.6): the pool logs in once on its first
//! session and every later session shares that login. When the token is pulled out, or its
//! sessions are closed under us, the operation fails with [`HsmError::TokenRemoved`]; the pool
//! drops its sessions and on the next use finds the token again (it may come back in another
//! slot), logs in again with the PIN it keeps (zeroized on drop) and carries on.

use crate::error::{is_removal, rv, HsmError, Result};
use crate::module::{Module, TokenDescription};
use crate::uri::Pkcs11Uri;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use secrecy::ExposeSecret;
use secrecy::SecretString;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, Weak};

/// Logins this process holds: (module, token serial) → the PIN that logged in. PKCS#11 login
/// belongs to the whole application, so a second `Token::open` of a token that is already
/// logged in would get `CKR_USER_ALREADY_LOGGED_IN` for any PIN at all; kyso instead compares
/// the new PIN with the one that logged in, and refuses a different one without touching the
/// token (so its retry counter is not spent either).
static LOGINS: Mutex<Vec<(PathBuf, String, Weak<SecretString>)>> = Mutex::new(Vec::new());

fn same_secret(a: &SecretString, b: &SecretString) -> bool {
    let (a, b) = (a.expose_secret().as_bytes(), b.expose_secret().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An error inside a pooled operation: a PKCS#11 failure still to be classified, or one of ours.
#[derive(Debug)]
pub(crate) enum OpError {
    Ck(CkError),
    Hsm(HsmError),
}

impl From<CkError> for OpError {
    fn from(e: CkError) -> Self {
        OpError::Ck(e)
    }
}

impl From<HsmError> for OpError {
    fn from(e: HsmError) -> Self {
        OpError::Hsm(e)
    }
}

struct PoolState {
    idle: Vec<Session>,
    /// Sessions open now, idle or lent out.
    open: usize,
    /// Bumped every time the pool reconnects; object handles are only good for one generation.
    generation: u64,
    /// The slot the token is in, or `None` while it has to be found again.
    slot: Option<Slot>,
    /// The token refused the kept PIN once: it is never sent again. A service's pool
    /// reconnected and logged in again on every request after a refusal — a token inserted
    /// again with its PIN changed lost a try per request until it locked (an attacker's
    /// reading, 2026-12-05).
    pin_refused: bool,
}

/// A token that kyso has logged in to.
pub struct Token {
    module: Module,
    selector: Pkcs11Uri,
    description: Mutex<TokenDescription>,
    pin: Option<Arc<SecretString>>,
    max_sessions: usize,
    state: Mutex<PoolState>,
    returned: Condvar,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("selector", &self.selector.to_string())
            .field("max_sessions", &self.max_sessions)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Find the token the URI names, log in with `pin`, and keep up to `max_sessions` sessions.
    pub fn open(
        module: &Module,
        uri: &Pkcs11Uri,
        pin: SecretString,
        max_sessions: usize,
    ) -> Result<Token> {
        Token::open_inner(module, uri, Some(pin), max_sessions)
    }

    /// Open the token without logging in: only public objects are visible.
    pub fn open_public(module: &Module, uri: &Pkcs11Uri) -> Result<Token> {
        Token::open_inner(module, uri, None, 1)
    }

    fn open_inner(
        module: &Module,
        uri: &Pkcs11Uri,
        pin: Option<SecretString>,
        max_sessions: usize,
    ) -> Result<Token> {
        let selector = uri.token_only();
        let description = module.find_token(&selector)?;
        let mut logins = LOGINS.lock().unwrap_or_else(|p| p.into_inner());
        logins.retain(|(_, _, w)| w.strong_count() > 0);
        let pin = match pin {
            None => None,
            Some(pin) => {
                let held = logins.iter().find_map(|(m, serial, w)| {
                    (m == module.path() && *serial == description.serial)
                        .then(|| w.upgrade())
                        .flatten()
                });
                match held {
                    Some(held) if same_secret(&held, &pin) => Some(held),
                    Some(_) => {
                        return Err(HsmError::WrongPin {
                            token: description.label,
                            count_low: false,
                            final_try: false,
                        })
                    }
                    None => Some(Arc::new(pin)),
                }
            }
        };
        let token = Token {
            module: module.clone(),
            selector,
            description: Mutex::new(description),
            pin,
            max_sessions: max_sessions.max(1),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
                generation: 0,
                slot: None,
                pin_refused: false,
            }),
            returned: Condvar::new(),
        };
        {
            let mut st = token.lock();
            token.connect(&mut st)?;
        }
        if let Some(pin) = &token.pin {
            if !logins
                .iter()
                .any(|(_, _, w)| w.as_ptr() == Arc::as_ptr(pin))
            {
                logins.push((
                    module.path().to_path_buf(),
                    token.description().serial,
                    Arc::downgrade(pin),
                ));
            }
        }
        Ok(token)
    }

    pub fn module(&self) -> &Module {
        &self.module
    }

    /// The token as it was last seen.
    pub fn description(&self) -> TokenDescription {
        self.description
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn label(&self) -> String {
        self.description().label
    }

    pub fn max_sessions(&self) -> usize {
        self.max_sessions
    }

    /// Sessions open now (idle or lent out).
    pub fn sessions_open(&self) -> usize {
        self.lock().open
    }

    /// How many times the pool has had to reconnect (token removed, sessions closed under it).
    pub fn reconnects(&self) -> u64 {
        self.lock().generation.saturating_sub(1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// (Re)connect: find the token, open one session, log in. Called with the state locked.
    fn connect(&self, st: &mut PoolState) -> Result<()> {
        let desc = self
            .module
            .find_token(&self.selector)
            .map_err(|e| match e {
                HsmError::NoToken { .. } => HsmError::TokenRemoved {
                    token: self
                        .selector
                        .token
                        .clone()
                        .unwrap_or_else(|| self.selector.to_string()),
                },
                other => other,
            })?;
        let slot = desc.slot.expect("find_token fills the slot");
        // Reconnecting: the token found must be the one first opened, not another that matches
        // the URI (any token labelled `kyso-dev` for `pkcs11:token=kyso-dev`): the kept PIN
        // goes to no other token.
        if st.generation > 0 {
            let was = self.description();
            if (&desc.serial, &desc.manufacturer, &desc.model)
                != (&was.serial, &was.manufacturer, &was.model)
            {
                return Err(HsmError::TokenReplaced {
                    token: was.label,
                    serial: desc.serial,
                    was: was.serial,
                });
            }
        }
        if desc.pin_locked && self.pin.is_some() {
            // Never send a PIN to a locked token: it cannot succeed and some tokens count it.
            return Err(HsmError::PinLocked { token: desc.label });
        }
        if st.pin_refused && self.pin.is_some() {
            return Err(HsmError::PinRefusedBefore { token: desc.label });
        }
        // Reconnecting, nobody is there to decide to spend the last try: the kept PIN is not
        // sent when the token says one try is left (kyso serve refuses it at start, too).
        if st.generation > 0 && desc.pin_final_try && self.pin.is_some() {
            return Err(HsmError::WrongPin {
                token: desc.label,
                count_low: true,
                final_try: true,
            });
        }
        let session = self
            .module
            .ctx
            .open_ro_session(slot)
            .map_err(|e| self.classify(e))?;
        if let Some(pin) = &self.pin {
            match session.login(UserType::User, Some(&**pin)) {
                Ok(()) => {}
                Err(e) if rv(&e) == Some(RvError::UserAlreadyLoggedIn) => {}
                Err(e) => {
                    let e = self.login_error(slot, &desc, e);
                    if matches!(e, HsmError::WrongPin { .. } | HsmError::PinLocked { .. }) {
                        st.pin_refused = true;
                    }
                    return Err(e);
                }
            }
        }
        st.idle.clear();
        st.idle.push(session);
        st.open = 1;
        st.generation += 1;
        st.slot = Some(slot);
        *self.description.lock().unwrap_or_else(|p| p.into_inner()) = desc;
        self.returned.notify_all();
        Ok(())
    }

    fn login_error(&self, slot: Slot, desc: &TokenDescription, e: CkError) -> HsmError {
        match rv(&e) {
            Some(RvError::PinIncorrect) | Some(RvError::PinLenRange) => {
                // The token's PIN flags after the failure tell how many tries are left.
                let now = self.module.describe(slot).unwrap_or_else(|_| desc.clone());
                if now.pin_locked {
                    return HsmError::PinLocked { token: now.label };
                }
                HsmError::WrongPin {
                    token: now.label,
                    count_low: now.pin_count_low,
                    final_try: now.pin_final_try,
                }
            }
            Some(RvError::PinLocked) => HsmError::PinLocked {
                token: desc.label.clone(),
            },
            _ => self.classify(e),
        }
    }

    pub(crate) fn classify(&self, e: CkError) -> HsmError {
        if is_removal(&e) {
            return HsmError::TokenRemoved {
                token: self.label(),
            };
        }
        match rv(&e) {
            Some(
                RvError::MechanismInvalid
                | RvError::MechanismParamInvalid
                | RvError::KeyTypeInconsistent
                | RvError::KeyFunctionNotPermitted
                | RvError::KeySizeRange,
            ) => HsmError::MechanismNotSupported {
                token: self.label(),
                mechanism: format!("what was asked of this key ({e})"),
            },
            _ => crate::error::ck(e),
        }
    }

    /// Borrow a session (opening one if the pool has room), waiting if all are lent out.
    fn checkout(&self) -> Result<(Session, u64)> {
        let mut st = self.lock();
        loop {
            if st.slot.is_none() {
                self.connect(&mut st)?;
            }
            if let Some(s) = st.idle.pop() {
                return Ok((s, st.generation));
            }
            if st.open < self.max_sessions {
                let slot = st.slot.expect("connected");
                match self.module.ctx.open_ro_session(slot) {
                    Ok(s) => {
                        st.open += 1;
                        return Ok((s, st.generation));
                    }
                    Err(e) if is_removal(&e) => {
                        self.disconnect(&mut st);
                        continue;
                    }
                    Err(e) => return Err(self.classify(e)),
                }
            }
            st = self.returned.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn checkin(&self, s: Session, generation: u64) {
        let mut st = self.lock();
        if generation == st.generation && st.slot.is_some() {
            st.idle.push(s);
        } else {
            // A session from before a reconnect is dead; closing it may fail, which is fine.
            drop(s);
        }
        self.returned.notify_one();
    }

    fn disconnect(&self, st: &mut PoolState) {
        st.idle.clear();
        st.open = 0;
        st.slot = None;
        self.returned.notify_all();
    }

    /// Run one operation on a pooled session. `f` gets the session and the pool generation
    /// (for caching object handles). If the token went away, the pool reconnects once and
    /// retries; if that fails too the caller gets [`HsmError::TokenRemoved`].
    pub(crate) fn with_session<T>(
        &self,
        mut f: impl FnMut(&Session, u64) -> std::result::Result<T, OpError>,
    ) -> Result<T> {
        let mut retried = false;
        loop {
            let (session, generation) = self.checkout()?;
            match f(&session, generation) {
                Ok(v) => {
                    self.checkin(session, generation);
                    return Ok(v);
                }
                Err(OpError::Ck(e)) if is_removal(&e) => {
                    drop(session);
                    {
                        let mut st = self.lock();
                        if st.generation == generation {
                            self.disconnect(&mut st);
                        }
                    }
                    if retried {
                        return Err(HsmError::TokenRemoved {
                            token: self.label(),
                        });
                    }
                    retried = true;
                }
                Err(OpError::Ck(e)) => {
                    self.checkin(session, generation);
                    return Err(self.classify(e));
                }
                Err(OpError::Hsm(e)) => {
                    self.checkin(session, generation);
                    return Err(e);
                }
            }
        }
    }

    /// Open a separate read-write session for administration (key generation, imports).
    pub fn admin_session(&self) -> Result<crate::admin::AdminSession> {
        let slot = {
            let mut st = self.lock();
            if st.slot.is_none() {
                self.connect(&mut st)?;
            }
            st.slot.expect("connected")
        };
        self.module
            .ctx
            .open_rw_session(slot)
            .map(crate::admin::AdminSession::new)
            .map_err(|e| self.classify(e))
    }

    /// The mechanisms the token offers.
    pub(crate) fn mechanisms(&self) -> Result<Vec<cryptoki::mechanism::MechanismType>> {
        let slot = {
            let mut st = self.lock();
            if st.slot.is_none() {
                self.connect(&mut st)?;
            }
            st.slot.expect("connected")
        };
        self.module
            .ctx
            .get_mechanism_list(slot)
            .map_err(|e| self.classify(e))
    }
}
