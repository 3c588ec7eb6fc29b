//! Revocation of agencies' client certificates: CRLs from files or directories (re-read on
//! SIGHUP and on a timer) and, when configured, the OCSP responders and CRL distribution points
//! a certificate names — judged by kyso-verify's revocation code (RFC 5280 §6.3, RFC 6960), the
//! same that judges signers' certificates, so no CRL or OCSP parsing lives here.

use super::config::{self, Config};
use kyso_verify::path::revocation::{self, Data, Status};
use kyso_verify::x509::{self, CertRef, Crl};
use rustls_pki_types::CertificateDer;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

pub struct ClientRevocation {
    /// The client CAs: where a client's path ends.
    anchors: Vec<CertRef>,
    paths: Vec<PathBuf>,
    crls: RwLock<Arc<Vec<Crl>>>,
    fetcher: Option<Arc<kyso_verify::fetch::Fetcher>>,
    mode: config::ClientRevocation,
    /// How many times the CRLs were read again: each open connection judges its certificate
    /// anew when it moves.
    generation: tokio::sync::watch::Sender<u64>,
    /// Held while the CRLs are read again: one re-read at a time (one stuck on a hung mount
    /// was joined by another thread each tick, until the blocking pool was full; helper 147).
    reading: std::sync::Mutex<()>,
    /// [`ClientRevocation::kept`].
    kept: RwLock<Vec<Crl>>,
    /// CRLs (by SHA-256) refused at a re-read, and until when (`None`: the next SIGHUP).
    refused: std::sync::Mutex<std::collections::HashMap<[u8; 32], Option<SystemTime>>>,
    /// CRLs in use though no file holds them (said when they start to be).
    retained: std::sync::Mutex<std::collections::HashSet<[u8; 32]>>,
}

/// Most CRLs remembered as refused; past them all are judged again.
const MAX_REFUSED: usize = 4096;

/// What a re-read of the client certificate CRLs did.
pub enum Reloaded {
    /// The CRLs in use now, and whether they changed.
    Read(usize, bool),
    /// The last re-read has not ended: this one was not made.
    Skipped,
}

/// Every CRL in `paths`: a file must hold one; in a directory, files that are not CRLs are
/// passed over.
fn read_crls(paths: &[PathBuf]) -> Result<Vec<Crl>, String> {
    let mut out = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let key = format!("server.client_crls[{i}]");
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("config: {key}: {}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .collect();
            files.sort();
            for f in files {
                match super::server::read_trust_file(&key, &f)
                    .and_then(|b| x509::load_crl(&b).map_err(|e| e.to_string()))
                {
                    Ok(c) => out.push(c),
                    Err(e) => {
                        tracing::warn!(file = %f.display(), error = %e, "{key}: a file in the directory is not read")
                    }
                }
            }
        } else {
            // Logged and left out, as a file in a directory is: a cron job's file that a
            // restart found broken (an HTML error page) stopped the start, and at a re-read
            // held every other file's renewal back (helper 155). What the CRLs read before,
            // or `trust.state`, hold of its CA stays in use.
            match super::server::read_trust_file(&key, p).and_then(|b| {
                x509::load_crl(&b).map_err(|e| format!("config: {key}: {}: {e}", p.display()))
            }) {
                Ok(c) => out.push(c),
                Err(e) => {
                    tracing::error!(file = %p.display(), error = %e, "{key}: not read; left out")
                }
            }
        }
    }
    Ok(out)
}

/// The client CA (by fingerprint) whose key signed a CRL: told apart by key, not by name (a
/// forged CRL of an intermediate not in `client_ca` superseded the genuine one; helper 148).
fn signer_of(anchors: &[CertRef], c: &Crl) -> Option<[u8; 32]> {
    anchors
        .iter()
        .filter(|a| x509::same_name(&a.tbs().subject, &c.list.tbs_cert_list.issuer))
        .find(|a| c.signed_by(a).is_ok())
        .map(|a| a.fingerprint())
}

/// Which of two CRLs of a CA and scope is newer: the later thisUpdate, then the higher
/// CRLNumber — as for `[trust]`'s (src/serve/server.rs). By CA alone and thisUpdate alone, a
/// replayed shard, or a replay of a CRL of the same second, superseded the CRL revoking an
/// agency (helper 155).
type Rank = (SystemTime, (usize, Vec<u8>));
fn rank(c: &Crl) -> Rank {
    (
        c.list.tbs_cert_list.this_update.to_system_time(),
        c.number(),
    )
}

/// Does `new` take the place of `old`: the same CRL, or one of the same CA (`ca`, by key) and
/// scope that is newer.
fn supersedes(new: &Crl, new_ca: Option<[u8; 32]>, old: &Crl, ca: Option<[u8; 32]>) -> bool {
    new.sha256() == old.sha256()
        || (ca.is_some() && new_ca == ca && new.scope() == old.scope() && rank(new) > rank(old))
}

/// A client CRL's CA (by key) and scope ([`Crl::scope`]).
type Key = ([u8; 32], Vec<u8>);

/// The newest of each client CA (by key) and scope, of CRLs given with their CA (`None`: no
/// client CA verifies it). One pass (each CRL met with every other made a change cost the
/// square of the CRLs in use, a rank allocated for each).
fn newest_of_each<'c>(crls: impl Iterator<Item = (&'c Crl, Option<[u8; 32]>)>) -> Vec<Crl> {
    let mut newest: std::collections::HashMap<Key, (Rank, &'c Crl)> =
        std::collections::HashMap::new();
    for (c, ca) in crls {
        let Some(ca) = ca else { continue };
        let r = rank(c);
        match newest.entry((ca, c.scope())) {
            std::collections::hash_map::Entry::Occupied(mut e) if e.get().0 < r => {
                e.insert((r, c));
            }
            std::collections::hash_map::Entry::Occupied(_) => {}
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((r, c));
            }
        }
    }
    // In a fixed order: what is saved is compared by its print.
    let mut out: Vec<(Key, Crl)> = newest
        .into_iter()
        .map(|(k, (_, c))| (k, c.clone()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, c)| c).collect()
}

/// Most scopes of client CRLs in use, of one client CA and in all, as for `[trust]`'s
/// (src/serve/server.rs): past them a CRL of a new scope is refused, and none in use is dropped
/// for it. Unbounded, a file fed a CA's genuine CRLs of other scopes, one a tick, grew what is
/// kept, until `trust.state` was too large for the next start to read.
const MAX_SCOPES_PER_CA: usize = 64;
const MAX_SCOPES: usize = 1024;

/// The scopes in use, and those taken so far in this reading.
struct Scopes(std::collections::HashSet<Key>);

impl Scopes {
    /// May a CRL of `key` be taken? A CA's second scope of a kind (complete or delta) only on
    /// an operator's word (at start, on SIGHUP: at a timer re-read a network attacker fed one
    /// file a CA's other scopes, one a tick, until the caps refused its real new one; helper
    /// 155), its first at any re-read (a cron job's first good CRL of a CA), and within the
    /// caps.
    fn admit(&mut self, key: &Key, operator: bool) -> Result<(), String> {
        if self.0.contains(key) {
            return Ok(());
        }
        // Of the same kind (complete, or delta: the first byte of a scope): a genuine delta
        // let in first at a tick kept the CA's complete CRL out until a SIGHUP (helper 157).
        if !operator
            && self
                .0
                .iter()
                .any(|k| k.0 == key.0 && k.1.first() == key.1.first())
        {
            return Err("it is of a scope (issuingDistributionPoint) no client CRL of its CA in use is of: taken on SIGHUP (systemctl reload kyso) or at a restart, not at a timer re-read".into());
        }
        let of_ca = self.0.iter().filter(|k| k.0 == key.0).count();
        if of_ca >= MAX_SCOPES_PER_CA || self.0.len() >= MAX_SCOPES {
            return Err(format!(
                "it is of a new scope (issuingDistributionPoint), and {of_ca} of its CA and {} in all are in use, at most {MAX_SCOPES_PER_CA} and {MAX_SCOPES}: none in use is dropped for it",
                self.0.len()
            ));
        }
        self.0.insert(key.clone());
        Ok(())
    }
}

/// The scopes of `held` to let go on an operator's word (at start, on SIGHUP): those whose
/// newest CRL lists no certificate and expired more than 30 days ago and that no CRL read now
/// (`read`) of the same CA is of. Their slots come free for a CA's new scopes, as for
/// `[trust]`'s; one listing a certificate is never let go (helper 156: a file made to hold
/// another scope starved the revoking one until its release).
fn let_go(
    held: &[(&Crl, Key)],
    read: &[(&Crl, Key)],
    now: SystemTime,
) -> std::collections::HashSet<Key> {
    let month = std::time::Duration::from_secs(30 * 86400);
    held.iter()
        .filter(|(c, k)| {
            !read.iter().any(|(_, j)| j == k)
                && !held.iter().any(|(d, j)| j == k && rank(d) > rank(c))
                && c.list
                    .tbs_cert_list
                    .next_update
                    .is_some_and(|n| n.to_system_time() + month < now)
                && c.list
                    .tbs_cert_list
                    .revoked_certificates
                    .as_ref()
                    .is_none_or(|v| v.is_empty())
        })
        .map(|(_, k)| k.clone())
        .collect()
}

impl ClientRevocation {
    /// `kept`: the client CRLs the last run kept (`trust.state`): one newer than every CRL of
    /// its CA the files hold now stays in use beside them — an older CRL replayed into a file
    /// before a restart let a revoked agency in from then on (as for `[trust]`; helper 149).
    pub fn new(cfg: &Config, kept: &[Crl]) -> Result<ClientRevocation, String> {
        let mut anchors = Vec::new();
        for (i, p) in cfg.server.client_ca.iter().enumerate() {
            let b = std::fs::read(p)
                .map_err(|e| format!("config: server.client_ca[{i}]: {}: {e}", p.display()))?;
            anchors.extend(
                x509::load_certificates(&b)
                    .map_err(|e| format!("config: server.client_ca[{i}]: {e}"))?,
            );
        }
        let read = read_crls(&cfg.server.client_crls)?;
        // Each CRL's client CA (its signature checked) found once.
        let cas = |v: &[Crl]| -> Vec<Option<[u8; 32]>> {
            v.iter().map(|c| signer_of(&anchors, c)).collect()
        };
        let (read_cas, kept_cas) = (cas(&read), cas(kept));
        let keyed = |v: &'_ [Crl], cas: &[Option<[u8; 32]>]| -> Vec<(usize, Key)> {
            v.iter()
                .zip(cas)
                .enumerate()
                .filter_map(|(i, (c, k))| k.map(|k| (i, (k, c.scope()))))
                .collect()
        };
        let (kept_keys, read_keys) = (keyed(kept, &kept_cas), keyed(&read, &read_cas));
        let gone = let_go(
            &kept_keys
                .iter()
                .map(|(i, k)| (&kept[*i], k.clone()))
                .collect::<Vec<_>>(),
            &read_keys
                .iter()
                .map(|(i, k)| (&read[*i], k.clone()))
                .collect::<Vec<_>>(),
            SystemTime::now(),
        );
        let mut scopes = Scopes(
            kept_keys
                .iter()
                .map(|(_, k)| k.clone())
                .filter(|k| !gone.contains(k))
                .collect(),
        );
        // The CRLs in use, each with its client CA.
        let mut crls: Vec<(Crl, Option<[u8; 32]>)> = Vec::new();
        for (c, ca) in read.into_iter().zip(read_cas) {
            if let Some(Err(why)) = ca.map(|ca| scopes.admit(&(ca, c.scope()), true)) {
                tracing::warn!(
                    issuer = %x509::name_string(&c.list.tbs_cert_list.issuer),
                    "client certificate CRLs: a CRL not taken at start ({why})"
                );
                continue;
            }
            crls.push((c, ca));
        }
        for (old, ca) in kept.iter().zip(kept_cas) {
            let Some(ca) = ca else {
                continue;
            };
            if gone.contains(&(ca, old.scope())) {
                tracing::warn!(
                    issuer = %x509::name_string(&old.list.tbs_cert_list.issuer),
                    "client certificate CRLs: a CRL no file holds, expired more than 30 days ago, is let go"
                );
                continue;
            }
            let superseded = crls.iter().any(|(c, k)| supersedes(c, *k, old, Some(ca)));
            if !superseded {
                tracing::warn!(
                    issuer = %x509::name_string(&old.list.tbs_cert_list.issuer),
                    "client certificate CRLs: none read at start is as new as the one in use before the restart for this CA; it stays in use"
                );
                crls.push((old.clone(), Some(ca)));
            }
        }
        let newest = newest_of_each(crls.iter().map(|(c, ca)| (c, *ca)));
        let crls: Vec<Crl> = crls.into_iter().map(|(c, _)| c).collect();
        Ok(ClientRevocation {
            kept: RwLock::new(newest),
            anchors,
            paths: cfg.server.client_crls.clone(),
            crls: RwLock::new(Arc::new(crls)),
            fetcher: cfg
                .server
                .client_ocsp
                .then(|| Arc::new(kyso_verify::fetch::Fetcher::new())),
            mode: cfg.server.client_revocation,
            generation: tokio::sync::watch::Sender::new(0),
            reading: std::sync::Mutex::new(()),
            refused: Default::default(),
            retained: Default::default(),
        })
    }

    /// Told each time the CRLs are read again.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Read the CRLs again. On an error the CRLs read before stay in use; so does one newer than
    /// every CRL of its CA now read (a replayed older CRL, or a file gone, would un-revoke a
    /// client's certificate; helper 144, 2026-12-05). A CRL newly read is not taken when its
    /// thisUpdate is more than 300 s ahead, or when it does not verify with the key of a
    /// client CA of its issuer's name (a forged one under the CA's name, later than the
    /// genuine, let a revoked client in under `if_known`; helper 147).
    ///
    /// A CRL of a scope no CRL in use is of is taken only on the `operator`'s word (SIGHUP), and
    /// within [`MAX_SCOPES_PER_CA`] and [`MAX_SCOPES`]; on it, a scope no file holds whose
    /// newest CRL expired more than 30 days ago is let go ([`let_go`]).
    pub fn reload(&self, operator: bool) -> Result<Reloaded, String> {
        let _one = match self.reading.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(Reloaded::Skipped),
        };
        let ahead = SystemTime::now() + std::time::Duration::from_secs(300);
        let this_update = |c: &Crl| c.list.tbs_cert_list.this_update.to_system_time();
        // The client CA whose key signed a CRL (told apart by key, not by name: a forged CRL
        // of an intermediate not in `client_ca` superseded the genuine one; helper 148).
        // Each found once per re-read (a CRL kept is met as read again and as held before).
        let checked = std::cell::RefCell::new(std::collections::HashMap::new());
        let ca_of = |c: &Crl| -> Option<[u8; 32]> {
            *checked
                .borrow_mut()
                .entry(*c.sha256())
                .or_insert_with(|| signer_of(&self.anchors, c))
        };
        let before = self.crls.read().unwrap_or_else(|p| p.into_inner()).clone();
        let mut crls = read_crls(&self.paths)?;
        let keyed = |v: &[Crl]| -> Vec<(usize, Key)> {
            v.iter()
                .enumerate()
                .filter_map(|(i, c)| ca_of(c).map(|k| (i, (k, c.scope()))))
                .collect()
        };
        let held_keys = keyed(&before);
        let gone = if operator {
            let read: Vec<(&Crl, Key)> = keyed(&crls)
                .into_iter()
                .filter(|(i, _)| this_update(&crls[*i]) <= ahead)
                .map(|(i, k)| (&crls[i], k))
                .collect();
            let held: Vec<(&Crl, Key)> = held_keys
                .iter()
                .map(|(i, k)| (&before[*i], k.clone()))
                .collect();
            let_go(&held, &read, SystemTime::now())
        } else {
            Default::default()
        };
        // The newest in use of each CA and scope.
        let mut newest: std::collections::HashMap<Key, Rank> = std::collections::HashMap::new();
        for (i, k) in &held_keys {
            let r = rank(&before[*i]);
            if newest.get(k).is_none_or(|n| r > *n) {
                newest.insert(k.clone(), r);
            }
        }
        let mut scopes = Scopes(
            held_keys
                .into_iter()
                .map(|(_, k)| k)
                .filter(|k| !gone.contains(k))
                .collect(),
        );
        // Refused before and not to be judged again yet (until an operator's word, or the time
        // a CRL dated ahead claims): passed over silently, unverified — a replay left in a file
        // was verified and logged at every tick.
        let now = SystemTime::now();
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        if operator || refused.len() > MAX_REFUSED {
            refused.clear();
        }
        crls.retain(|c| {
            if before.iter().any(|b| b.sha256() == c.sha256()) {
                return true; // read at start, or taken before
            }
            if refused
                .get(c.sha256())
                .is_some_and(|until| until.is_none_or(|t| now < t))
            {
                return false;
            }
            let issuer = &c.list.tbs_cert_list.issuer;
            let scope_refused;
            let why = if this_update(c) > ahead {
                "its thisUpdate is ahead of this machine's clock"
            } else if let Some(ca) = ca_of(c) {
                let key = (ca, c.scope());
                // Older than the one in use of its CA and scope: a replay. Taken beside it,
                // each older CRL replayed a tick stayed, until past the 1,024 the validator
                // reads the one revoking an agency was not read (helper 156).
                if newest.get(&key).is_some_and(|n| rank(c) < *n) {
                    "it is older (an earlier thisUpdate, or of the same second a lower CRLNumber) than the one in use of its CA and scope"
                } else {
                    match scopes.admit(&key, operator) {
                        Ok(()) => return true,
                        Err(e) => {
                            scope_refused = e;
                            scope_refused.as_str()
                        }
                    }
                }
            } else if self
                .anchors
                .iter()
                .any(|a| x509::same_name(&a.tbs().subject, issuer))
            {
                "it does not verify with the key of the client CA of its issuer's name"
            } else {
                "no client CA of its issuer's name is in server.client_ca to verify it with (restart to read it unverified)"
            };
            tracing::warn!(
                issuer = %x509::name_string(issuer),
                "client certificate CRLs: a CRL not taken ({why})"
            );
            let until = (this_update(c) > ahead)
                .then(|| this_update(c).checked_sub(std::time::Duration::from_secs(300)))
                .flatten();
            refused.insert(*c.sha256(), until);
            false
        });
        drop(refused);
        // Checked inside the loop below, every old CRL against every new one made a tick cost
        // as many lookups as their product.
        let new_cas: Vec<Option<[u8; 32]>> = crls.iter().map(ca_of).collect();
        // One dated ahead that a client CA verifies still guards (a clock set back for a
        // moment must not drop it; helper 153); one nobody here can verify does not.
        let mut said_gone = Vec::new();
        let mut retained_before = self.retained.lock().unwrap_or_else(|p| p.into_inner());
        let mut retained_now = std::collections::HashSet::new();
        for old in before
            .iter()
            .filter(|o| this_update(o) <= ahead || ca_of(o).is_some())
        {
            let issuer = &old.list.tbs_cert_list.issuer;
            let ca = ca_of(old);
            if let Some(k) = ca.map(|ca| (ca, old.scope())).filter(|k| gone.contains(k)) {
                if !said_gone.contains(&k) {
                    tracing::warn!(
                        issuer = %kyso_verify::x509::name_string(issuer),
                        "client certificate CRLs: a CRL no file holds, expired more than 30 days ago, is let go"
                    );
                    said_gone.push(k);
                }
                continue;
            }
            let superseded = crls
                .iter()
                .zip(&new_cas)
                .any(|(c, k)| supersedes(c, *k, old, ca));
            if !superseded {
                // Said once, when it starts (every tick, a log flood; helper 156).
                if retained_before.insert(*old.sha256()) {
                    tracing::warn!(
                        issuer = %kyso_verify::x509::name_string(issuer),
                        "client certificate CRLs: none read now is as new as the one in use for this CA; it stays in use"
                    );
                }
                retained_now.insert(*old.sha256());
                crls.push(old.clone());
            }
        }
        *retained_before = retained_now;
        drop(retained_before);
        let n = crls.len();
        let prints = |v: &[Crl]| {
            let mut p: Vec<[u8; 32]> = v.iter().map(|c| *c.sha256()).collect();
            p.sort();
            p
        };
        // Open connections judge their certificates anew only when the CRLs changed (each
        // re-read, and each SIGHUP of a storm, made every one do so; helper 147).
        let changed = prints(&before) != prints(&crls);
        if changed {
            *self.kept.write().unwrap_or_else(|p| p.into_inner()) =
                newest_of_each(crls.iter().map(|c| (c, ca_of(c))));
            *self.crls.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(crls);
            self.generation.send_modify(|g| *g += 1);
        }
        Ok(Reloaded::Read(n, changed))
    }

    /// What a restart must not forget: the newest CRL in use of each client CA (by key),
    /// found when the CRLs change.
    pub fn kept(&self) -> Vec<Crl> {
        self.kept.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Does the check ask the network (OCSP, CRL distribution points)? Then it blocks.
    pub fn fetches(&self) -> bool {
        self.fetcher.is_some()
    }

    /// Is any certificate on the path from `leaf` to a client CA revoked (or, under
    /// `require`, of unknown status)? `Err` says why the certificate is refused.
    pub fn check(
        &self,
        leaf: &CertRef,
        intermediates: &[CertificateDer<'_>],
    ) -> Result<(), String> {
        let pool: Vec<CertRef> = intermediates
            .iter()
            .filter_map(|c| kyso_verify::Cert::from_ber(c.as_ref()).ok().map(Arc::new))
            .collect();
        let path = kyso_verify::path::build(leaf, &pool, &self.anchors)
            .map_err(|e| format!("client certificate: {e}"))?;
        let crls = self.crls.read().unwrap_or_else(|p| p.into_inner()).clone();
        let now = SystemTime::now();
        for pair in path.windows(2) {
            let (cert, issuer) = (&pair[0], &pair[1]);
            // Named by issuer and SHA-256, never by subject: these messages are logged, and a
            // subject names a person (and may carry their identity number).
            let named = || {
                format!(
                    "the certificate issued by {} with SHA-256 {}",
                    issuer.subject_string(),
                    hex::encode(cert.fingerprint())
                )
            };
            let out = revocation::status(
                cert,
                issuer,
                Data {
                    crls: &crls,
                    ocsps: &[],
                },
                now,
                now,
                self.fetcher.as_deref(),
            );
            match out.status {
                Status::Good => {}
                Status::Revoked(at) => {
                    return Err(format!(
                        "client certificate revoked: {} was revoked on {}",
                        named(),
                        kyso_verify::revoked_when(at)
                    ))
                }
                // Let in only when nothing at hand speaks against it: not a certificate on
                // hold (suspended), listed by a CRL dated ahead of the clock, or named by
                // items left unread.
                Status::Unknown
                    if self.mode == config::ClientRevocation::IfKnown
                        && out.on_hold.is_none()
                        && !out.ignored
                        && !out.unread =>
                {
                    tracing::warn!(
                        certificate = %named(),
                        // The notes name certificates by subject, and a client's names a
                        // person: it is said as "the client certificate" (a reviewer's
                        // reading, 2026-12-05).
                        why = %out
                            .notes
                            .join("; ")
                            .replace(&cert.subject_string(), "the client certificate"),
                        "client certificate: revocation status unknown; let in (server.client_revocation = \"if_known\")"
                    );
                }
                Status::Unknown if out.on_hold.is_some() || out.ignored || out.unread => {
                    return Err(format!(
                        "client certificate refused: the revocation status of {} cannot be told ({}, from {})",
                        named(),
                        if out.on_hold.is_some() {
                            "it is on hold (suspended)"
                        } else if out.ignored {
                            "a CRL or OCSP answer names it that cannot be believed or is dated ahead of this machine's clock"
                        } else {
                            "more CRLs name it than are read"
                        },
                        issuer.subject_string()
                    ))
                }
                Status::Unknown => {
                    return Err(format!(
                        "client certificate refused: the revocation status of {} is unknown (no current CRL{} from {}); the service requires one",
                        named(),
                        if self.fetcher.is_some() { " or OCSP answer" } else { "" },
                        issuer.subject_string()
                    ))
                }
            }
        }
        Ok(())
    }
}
