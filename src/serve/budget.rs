//! Bytes of request bodies in flight: reserved from the request head (its Content-Length, or
//! the route's largest body when it has none) before a byte of the body is read, against a
//! budget of all clients and one of the client; held until the last holder of the body (the
//! handler, or the validation job it handed the document to) is done. The public (anonymous
//! callers, a client per address) together hold at most their share of the whole, so that
//! many addresses cannot spend the agencies' room.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most clients tracked before idle ones are forgotten.
const MAX_TRACKED: usize = 10_000;

/// Budgets count KiB, so that a few GiB fit a semaphore's u32.
fn kib(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

pub struct Budget {
    all: Arc<Semaphore>,
    public: Arc<Semaphore>,
    /// The KiB `all` and `public` hold when nothing is in flight.
    all_kib: u32,
    public_kib: u32,
    per_client: u32,
    clients: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Bytes reserved for one request's body. Clones share the reservation: it ends with the last.
#[derive(Clone)]
pub struct Held(
    #[allow(dead_code)]
    Arc<(
        OwnedSemaphorePermit,
        OwnedSemaphorePermit,
        Option<OwnedSemaphorePermit>,
    )>,
);

/// Why a body was not let in.
#[derive(Debug, PartialEq, Eq)]
pub enum Over {
    /// This client has its share in flight.
    Client,
    /// All clients together have the service's budget in flight.
    All,
    /// The public together have their share of it in flight.
    Public,
}

impl Budget {
    /// `public_bytes`: what the public may hold together, of `all_bytes`.
    pub fn new(all_bytes: usize, public_bytes: usize, per_client_bytes: usize) -> Budget {
        Budget {
            all: Arc::new(Semaphore::new(kib(all_bytes) as usize)),
            public: Arc::new(Semaphore::new(kib(public_bytes.min(all_bytes)) as usize)),
            all_kib: kib(all_bytes),
            public_kib: kib(public_bytes.min(all_bytes)),
            per_client: kib(per_client_bytes),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Reserve `bytes` for `client`'s body (of the public, or authenticated), or say whose
    /// budget is spent.
    pub fn reserve(&self, client: &str, public: bool, bytes: usize) -> Result<Held, Over> {
        self.reserve_beside(client, public, bytes, None)
    }

    /// [`Budget::reserve`], for an answer of a request that holds `beside` already: more than
    /// the budgets hold beside it (a record stored larger than a client's share, a large
    /// signing batch's documents) is reserved as all they hold beside it, not refused forever:
    /// it is let out when nothing else of the client's (and, for the public, of the public's)
    /// is in flight.
    pub fn reserve_beside(
        &self,
        client: &str,
        public: bool,
        bytes: usize,
        beside: Option<&Held>,
    ) -> Result<Held, Over> {
        let held = beside.map_or(0, |h| h.0 .1.num_permits() as u32);
        let mut n = kib(bytes)
            .min(self.per_client.saturating_sub(held))
            .min(self.all_kib.saturating_sub(held));
        if public {
            n = n.min(self.public_kib.saturating_sub(held));
        }
        let n = n.max(1);
        let sem = {
            let mut m = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            if m.len() >= MAX_TRACKED && !m.contains_key(client) {
                let full = self.per_client as usize;
                m.retain(|_, s| s.available_permits() < full);
            }
            m.entry(client.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_client as usize)))
                .clone()
        };
        let mine = sem.try_acquire_many_owned(n).map_err(|_| Over::Client)?;
        let public = match public {
            true => Some(
                self.public
                    .clone()
                    .try_acquire_many_owned(n)
                    .map_err(|_| Over::Public)?,
            ),
            false => None,
        };
        let all = self
            .all
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| Over::All)?;
        Ok(Held(Arc::new((all, mine, public))))
    }

    /// KiB in flight, of all clients.
    pub fn in_flight_kib(&self) -> usize {
        let m = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let full = self.per_client as usize;
        m.values().map(|s| full - s.available_permits()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_share_is_refused_and_others_are_not_until_the_whole_is_spent() {
        let b = Budget::new(3 << 20, 3 << 20, 2 << 20);
        let a1 = b.reserve("a", false, 1 << 20).unwrap();
        let a2 = b.reserve("a", false, 1 << 20).unwrap();
        assert_eq!(b.reserve("a", false, 1).err(), Some(Over::Client));
        let b1 = b.reserve("b", false, 1 << 20).unwrap();
        assert_eq!(b.reserve("c", false, 1).err(), Some(Over::All));
        // A clone (the job a handler queued) keeps the bytes reserved after the request.
        let job = a1.clone();
        drop(a1);
        assert_eq!(b.reserve("c", false, 1).err(), Some(Over::All));
        drop(job);
        assert!(b.reserve("c", false, 1).is_ok());
        drop((a2, b1));
        assert_eq!(b.in_flight_kib(), 0);
    }

    #[test]
    fn more_than_a_share_takes_the_whole_share_and_is_not_refused_forever() {
        let b = Budget::new(8 << 20, 4 << 20, 2 << 20);
        let big = b.reserve("a", false, 5 << 20).unwrap();
        assert_eq!(b.in_flight_kib(), 2048);
        assert_eq!(b.reserve("a", false, 1).err(), Some(Over::Client));
        drop(big);
        // Beside its request's own 1.5 MiB: the half MiB left.
        let request = b.reserve("a", false, 1536 << 10).unwrap();
        let answer = b
            .reserve_beside("a", false, 5 << 20, Some(&request))
            .unwrap();
        assert_eq!(b.in_flight_kib(), 2048);
        drop((request, answer));
        // The public's answers too: each at most its client's share, together their share.
        let p1 = b.reserve("ip:1", true, 16 << 20).unwrap();
        let p2 = b.reserve("ip:2", true, 16 << 20).unwrap();
        assert_eq!(b.in_flight_kib(), 4096);
        assert_eq!(b.reserve("ip:3", true, 1).err(), Some(Over::Public));
        drop((p1, p2));
        assert_eq!(b.in_flight_kib(), 0);
    }

    #[test]
    fn the_public_spends_its_share_and_agencies_keep_the_rest() {
        // 4 MiB in all, 2 MiB of it for the public, 1 MiB a client.
        let b = Budget::new(4 << 20, 2 << 20, 1 << 20);
        let p1 = b.reserve("ip:10.0.0.1", true, 1 << 20).unwrap();
        let p2 = b.reserve("ip:10.0.0.2", true, 1 << 20).unwrap();
        assert_eq!(b.reserve("ip:10.0.0.3", true, 1).err(), Some(Over::Public));
        let a1 = b.reserve("user:ubnd", false, 1 << 20).unwrap();
        let a2 = b.reserve("user:sotp", false, 1 << 20).unwrap();
        assert_eq!(b.reserve("user:x", false, 1).err(), Some(Over::All));
        drop(p1);
        assert!(b.reserve("ip:10.0.0.3", true, 1).is_ok());
        drop((p2, a1, a2));
        assert_eq!(b.in_flight_kib(), 0);
    }
}
