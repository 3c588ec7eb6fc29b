//! Threads for CPU work on uploads (validation): off the async runtime, with stacks large
//! enough for deeply nested inputs, and a bounded queue that is fair between clients.
//!
//! - Each client has its own queue; a free thread takes the next job round-robin over the
//!   clients that have one waiting, so one client's backlog never stands in front of another's.
//! - Clients are of two classes: the public (anonymous callers, one client per address) and
//!   the authenticated (agencies, officials). A free thread serves the two classes in turn when
//!   both wait, and the public together may queue at most `max_queued_public` jobs, less than
//!   `max_queued`: many addresses can fill the public's share, never the agencies' room.
//! - A client's jobs count against it while they wait *and* while they run, until they end —
//!   also when its request has gone (a deadline passed): at most `per_client` at once, then
//!   the client is refused at once. All clients together queue at most `max_queued` jobs.
//! - A job whose requester is gone before it started never runs: it leaves the queue when the
//!   request is dropped, and with it whatever it holds (the document, its byte reservation).
//! - [`Pool::stop`] drops every queued job (their requesters get [`Refused::Stopping`]) and
//!   waits a bounded time for running ones.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

/// Why a job was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue of all clients is full.
    Full,
    /// The public's share of the queue is full (a public client).
    PublicFull,
    /// This client has its share queued or running.
    ClientFull,
    /// The pool is stopping (shutdown): queued jobs are dropped.
    Stopping,
    /// The job panicked (the thread lives on).
    Panicked,
}

#[derive(Default)]
struct ClientQueue {
    jobs: VecDeque<(u64, Job)>,
    running: usize,
    public: bool,
}

/// The index of a class in [`State::ready`].
const AUTHENTICATED: usize = 0;
const PUBLIC: usize = 1;

fn class(public: bool) -> usize {
    if public {
        PUBLIC
    } else {
        AUTHENTICATED
    }
}

#[derive(Default)]
struct State {
    clients: HashMap<String, ClientQueue>,
    /// Clients with a job waiting, in the order they are served: authenticated, public.
    ready: [VecDeque<String>; 2],
    /// The class a thread served last (the next takes the other first).
    last: usize,
    queued: usize,
    /// Jobs of the public waiting.
    queued_public: usize,
    running: usize,
    next_id: u64,
    stopping: bool,
}

struct Inner {
    state: Mutex<State>,
    work: Condvar,
    max_queued: usize,
    max_queued_public: usize,
    per_client: usize,
}

pub struct Pool {
    inner: Arc<Inner>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn worker(&self) {
        let mut st = self.lock();
        loop {
            if st.stopping {
                return;
            }
            let first = 1 - st.last;
            let Some((c, client)) = [first, st.last]
                .into_iter()
                .find_map(|c| st.ready[c].pop_front().map(|client| (c, client)))
            else {
                st = self.work.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            st.last = c;
            let Some(q) = st.clients.get_mut(&client) else {
                continue;
            };
            let Some((_, job)) = q.jobs.pop_front() else {
                continue;
            };
            q.running += 1;
            let more = !q.jobs.is_empty();
            st.queued -= 1;
            if c == PUBLIC {
                st.queued_public -= 1;
            }
            st.running += 1;
            if more {
                st.ready[c].push_back(client.clone());
            }
            drop(st);
            // A panic inside a job is caught by the job itself (see `run`).
            job();
            st = self.lock();
            st.running -= 1;
            if let Some(q) = st.clients.get_mut(&client) {
                q.running -= 1;
                if q.running == 0 && q.jobs.is_empty() {
                    st.clients.remove(&client);
                }
            }
        }
    }

    /// Take a job out of the queue if it has not started (its requester is gone).
    fn withdraw(&self, client: &str, id: u64) {
        let mut st = self.lock();
        let Some(q) = st.clients.get_mut(client) else {
            return;
        };
        let Some(pos) = q.jobs.iter().position(|(i, _)| *i == id) else {
            return;
        };
        let job = q.jobs.remove(pos);
        let empty = q.jobs.is_empty();
        let idle = empty && q.running == 0;
        let c = class(q.public);
        st.queued -= 1;
        if c == PUBLIC {
            st.queued_public -= 1;
        }
        if empty {
            st.ready[c].retain(|k| k != client);
        }
        if idle {
            st.clients.remove(client);
        }
        drop(st);
        // What the job holds (the document, its reservations) goes now, outside the lock.
        drop(job);
    }
}

/// Withdraws its job from the queue when the request awaiting it is dropped.
struct Ticket<'a> {
    inner: &'a Inner,
    client: &'a str,
    id: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.inner.withdraw(self.client, self.id);
    }
}

impl Pool {
    /// `max_queued_public`: what the public may queue of `max_queued` (the service sets it
    /// below `max_queued`, so that authenticated clients always have room).
    pub fn new(
        name: &str,
        threads: usize,
        stack_bytes: usize,
        max_queued: usize,
        max_queued_public: usize,
        per_client: usize,
    ) -> std::io::Result<Pool> {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            max_queued,
            max_queued_public: max_queued_public.clamp(1, max_queued.max(1)),
            per_client: per_client.max(1),
        });
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let inner = inner.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .stack_size(stack_bytes)
                    .spawn(move || inner.worker())?,
            );
        }
        Ok(Pool {
            inner,
            threads: Mutex::new(handles),
        })
    }

    /// Run `f` on the pool for `client` (of the public, or authenticated). The job (and all
    /// `f` holds) is dropped unrun if this future is dropped before a thread takes it.
    pub async fn run<T: Send + 'static>(
        &self,
        client: &str,
        public: bool,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refused> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if tx.is_closed() {
                return;
            }
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(r);
        });
        let id = {
            let mut st = self.inner.lock();
            if st.stopping {
                return Err(Refused::Stopping);
            }
            let full = if st.queued >= self.inner.max_queued {
                Some(Refused::Full)
            } else if public && st.queued_public >= self.inner.max_queued_public {
                Some(Refused::PublicFull)
            } else {
                None
            };
            let q = st
                .clients
                .entry(client.to_string())
                .or_insert_with(|| ClientQueue {
                    public,
                    ..ClientQueue::default()
                });
            // A client keeps its class (keys differ: `ip:…` for the public, user names without
            // `:`); the counters are decremented by the class stored here.
            debug_assert_eq!(q.public, public, "client {client} changed class");
            let public = q.public;
            let idle = q.jobs.is_empty() && q.running == 0;
            let over = q.jobs.len() + q.running >= self.inner.per_client;
            if let Some(refused) = over.then_some(Refused::ClientFull).or(full) {
                if idle {
                    st.clients.remove(client);
                }
                return Err(refused);
            }
            let id = st.next_id;
            st.next_id += 1;
            let q = st.clients.get_mut(client).expect("just made");
            q.jobs.push_back((id, job));
            let c = class(public);
            if q.jobs.len() == 1 {
                st.ready[c].push_back(client.to_string());
            }
            st.queued += 1;
            if c == PUBLIC {
                st.queued_public += 1;
            }
            id
        };
        self.inner.work.notify_one();
        let _ticket = Ticket {
            inner: &self.inner,
            client,
            id,
        };
        match rx.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err(Refused::Panicked),
            // Dropped unrun: the pool is stopping.
            Err(_) => Err(Refused::Stopping),
        }
    }

    /// Jobs waiting and running, of all clients.
    pub fn load(&self) -> (usize, usize) {
        let st = self.inner.lock();
        (st.queued, st.running)
    }

    /// Drop every queued job (their requesters get [`Refused::Stopping`]), let no new one in,
    /// and wait at most `wait` for the running ones; threads still busy then are left to the
    /// process's exit.
    pub fn stop(&self, wait: Duration) {
        let dropped: Vec<Job> = {
            let mut st = self.inner.lock();
            st.stopping = true;
            st.ready.iter_mut().for_each(VecDeque::clear);
            st.queued = 0;
            st.queued_public = 0;
            st.clients
                .values_mut()
                .flat_map(|q| q.jobs.drain(..).map(|(_, j)| j))
                .collect()
        };
        let n = dropped.len();
        drop(dropped);
        if n > 0 {
            tracing::warn!(jobs = n, "shutdown: queued validations cancelled");
        }
        self.inner.work.notify_all();
        let deadline = Instant::now() + wait;
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        while threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Jobs still running, not threads not yet exited: an idle thread woken by the stop
        // may still be on its way out, and nothing of it is abandoned.
        let busy = self.inner.lock().running;
        if busy > 0 {
            tracing::warn!(
                validations = busy,
                "shutdown: validations still running are abandoned"
            );
        }
        for t in threads.drain(..) {
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop(Duration::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_that_panics_is_an_error_and_the_thread_lives_on() {
        let pool = Pool::new("t", 1, 1 << 20, 4, 4, 4).unwrap();
        let r = pool
            .run("a", false, || -> u32 { panic!("inside a validation") })
            .await;
        assert_eq!(r.err(), Some(Refused::Panicked));
        assert_eq!(pool.run("a", false, || 7).await.unwrap(), 7);
    }

    /// Block the pool's one thread until the returned sender is dropped.
    async fn occupy(pool: &Arc<Pool>, client: &'static str) -> std::sync::mpsc::Sender<()> {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let p = pool.clone();
        tokio::spawn(async move { p.run(client, false, move || rx.recv().ok()).await });
        while pool.load().1 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tx
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_and_a_client_over_its_share_answer_at_once() {
        let pool = Arc::new(Pool::new("t", 1, 1 << 20, 3, 3, 2).unwrap());
        let gate = occupy(&pool, "a").await;
        let p = pool.clone();
        let queued = tokio::spawn(async move { p.run("a", false, || 1).await });
        while pool.load().0 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // "a" has one running and one queued: its share.
        assert_eq!(pool.run("a", false, || 2).await, Err(Refused::ClientFull));
        // Others still get in, up to the queue.
        let (p1, p2) = (pool.clone(), pool.clone());
        let b = tokio::spawn(async move { p1.run("b", false, || 3).await });
        let c = tokio::spawn(async move { p2.run("c", false, || 4).await });
        while pool.load().0 < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(pool.run("d", false, || 5).await, Err(Refused::Full));
        drop(gate);
        assert_eq!(queued.await.unwrap(), Ok(1));
        assert_eq!(b.await.unwrap(), Ok(3));
        assert_eq!(c.await.unwrap(), Ok(4));
    }

    /// With the pool's one thread busy, queue one job for each of `flood` (client, public),
    /// then one for `other`; free the thread. Where `other`'s job ran among them all.
    async fn turn_after_flood(
        pool: &Arc<Pool>,
        flood: &[(String, bool)],
        other: &str,
        public: bool,
    ) -> usize {
        let gate = occupy(pool, "busy").await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        let jobs = flood.iter().cloned().chain([(other.to_string(), public)]);
        for (i, (client, public)) in jobs.enumerate() {
            let (p, o) = (pool.clone(), order.clone());
            let name = client.clone();
            tasks.push(tokio::spawn(async move {
                p.run(&client, public, move || o.lock().unwrap().push(name))
                    .await
            }));
            while pool.load().0 < i + 1 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        drop(gate);
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let order = order.lock().unwrap();
        order.iter().position(|x| x == other).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn clients_are_served_in_turn_not_in_arrival_order() {
        let pool = Arc::new(Pool::new("t", 1, 1 << 20, 64, 64, 64).unwrap());
        let flood = vec![("flood".to_string(), false); 10];
        let at = turn_after_flood(&pool, &flood, "other", false).await;
        assert!(
            at <= 1,
            "the other client waits for at most one flood job: {at}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_requester_is_gone_never_runs_and_frees_its_place() {
        let pool = Arc::new(Pool::new("t", 1, 1 << 20, 1, 1, 4).unwrap());
        let gate = occupy(&pool, "a").await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = ran.clone();
        let held = Arc::new(());
        let h = held.clone();
        let abandoned = tokio::time::timeout(
            Duration::from_millis(100),
            pool.run("a", false, move || {
                let _h = h;
                r.store(true, std::sync::atomic::Ordering::SeqCst)
            }),
        )
        .await;
        assert!(abandoned.is_err(), "timed out while queued");
        assert_eq!(pool.load().0, 0, "its queue place is free again");
        assert_eq!(Arc::strong_count(&held), 1, "what it held is released");
        let p = pool.clone();
        let next = tokio::spawn(async move { p.run("b", false, || 9).await });
        drop(gate);
        assert_eq!(next.await.unwrap(), Ok(9));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stopping_cancels_queued_jobs_and_does_not_wait_for_a_long_one() {
        let pool = Arc::new(Pool::new("t", 1, 1 << 20, 8, 8, 8).unwrap());
        let gate = occupy(&pool, "a").await;
        let p = pool.clone();
        let queued = tokio::spawn(async move { p.run("b", false, || 1).await });
        while pool.load().0 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let t = Instant::now();
        let p = pool.clone();
        tokio::task::spawn_blocking(move || p.stop(Duration::from_millis(200)))
            .await
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(queued.await.unwrap(), Err(Refused::Stopping));
        assert_eq!(pool.run("c", false, || 2).await, Err(Refused::Stopping));
        drop(gate);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_public_fills_its_share_of_the_queue_never_the_agencies_room() {
        // Four places, two of them for the public.
        let pool = Arc::new(Pool::new("t", 1, 1 << 20, 4, 2, 4).unwrap());
        let gate = occupy(&pool, "a").await;
        let mut queued = Vec::new();
        for ip in ["ip:10.0.0.1", "ip:10.0.0.2"] {
            let p = pool.clone();
            queued.push(tokio::spawn(async move { p.run(ip, true, || 1).await }));
            while pool.load().0 < queued.len() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        // A third address, each one under its own share: the public's share is spent.
        assert_eq!(
            pool.run("ip:10.0.0.3", true, || 2).await,
            Err(Refused::PublicFull)
        );
        // An agency still gets in, up to the whole queue.
        for agency in ["user:ubnd", "user:sotp"] {
            let p = pool.clone();
            queued.push(tokio::spawn(
                async move { p.run(agency, false, || 3).await },
            ));
        }
        while pool.load().0 < 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(pool.run("user:x", false, || 4).await, Err(Refused::Full));
        drop(gate);
        for q in queued {
            assert!(q.await.unwrap().is_ok());
        }
        // Served, the public's places are free again.
        assert_eq!(pool.run("ip:10.0.0.3", true, || 5).await, Ok(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_agency_waits_for_at_most_one_job_of_a_public_flood_from_many_addresses() {
        let pool = Arc::new(Pool::new("t", 1, 1 << 20, 64, 32, 4).unwrap());
        let flood: Vec<_> = (1..=10).map(|i| (format!("ip:10.0.0.{i}"), true)).collect();
        let at = turn_after_flood(&pool, &flood, "user:ubnd", false).await;
        assert!(
            at <= 1,
            "served by client in arrival order it would run after all ten: {at}"
        );
    }
}
