//! Per-client limits: a token bucket of requests per second and a bound on requests in flight,
//! keyed by the authenticated user (or the peer address before authentication).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Most clients tracked before idle ones are forgotten.
const MAX_TRACKED: usize = 10_000;

pub struct Limiter {
    rate: f64,
    burst: f64,
    concurrent: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
    inflight: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Limiter {
    pub fn new(rate: f64, burst: f64, concurrent: usize) -> Self {
        Limiter {
            rate,
            burst,
            concurrent,
            buckets: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// Take one request from `key`'s bucket. `Err(seconds)` says when to retry.
    pub fn allow(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut m = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= MAX_TRACKED && !m.contains_key(key) {
            // Forget clients whose bucket has refilled: they lose nothing by it.
            let (rate, burst) = (self.rate, self.burst);
            m.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
            if m.len() >= MAX_TRACKED {
                return Err(1);
            }
        }
        let b = m.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.rate).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }

    /// A slot for one request in flight, or `None` when `key` already has the most allowed.
    pub fn enter(&self, key: &str) -> Option<OwnedSemaphorePermit> {
        let mut m = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= MAX_TRACKED && !m.contains_key(key) {
            let n = self.concurrent;
            m.retain(|_, s| s.available_permits() < n);
        }
        let s = m
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.concurrent)))
            .clone();
        drop(m);
        s.try_acquire_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_burst_waits_and_others_do_not() {
        let l = Limiter::new(1.0, 3.0, 2);
        for _ in 0..3 {
            assert!(l.allow("a").is_ok());
        }
        assert_eq!(l.allow("a"), Err(1));
        assert!(l.allow("b").is_ok());
        let p1 = l.enter("a").unwrap();
        let _p2 = l.enter("a").unwrap();
        assert!(l.enter("a").is_none());
        assert!(l.enter("b").is_some());
        drop(p1);
        assert!(l.enter("a").is_some());
    }
}
