//! Stopping a long piece of work from outside: a deadline, or the one who asked for it gone.
//!
//! The budgets of the parsers bound what a hostile file can make them hold and do, but not
//! every slow path a file could find: a validation in a service must also end when its time is
//! up, so that a thread is not held until it finishes on its own. The work runs inside
//! [`Stop::run`]; the readers of this crate and of `kyso-verify` ask [`stopped`] at every
//! object read, every chunk inflated, every signature and every certification path, and end
//! with [`PdfError::Stopped`](crate::PdfError::Stopped) (or a finding) once it says yes.
//!
//! What such work returns after it was stopped is not an answer: its caller asks
//! [`Stop::heeded`] and discards it (a half-read document must never be reported as
//! judged). The stop is the calling thread's (a thread-local): the work checks it on the
//! thread it runs on, and code that runs outside any [`Stop::run`] — the CLI — is never
//! stopped. Work that sets a limit of its own inside another's (the signer checking the
//! signatures already in a document) takes a [`Stop::child`] of [`current`], so that the outer
//! stop still ends it, and a child heeded because its parent fired marks the parent heeded
//! too.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The stop of one piece of work: fires when its deadline passes or [`Stop::cancel`] is
/// called (from any thread). Clones share it.
#[derive(Debug, Clone)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fired: AtomicBool,
    /// A check under [`Stop::run`] answered that the work is stopped: what the work returns
    /// may be cut short.
    heeded: AtomicBool,
    deadline: Option<Instant>,
    /// Fires this one too (a job's stop under its request's).
    parent: Option<Stop>,
}

thread_local! {
    static CURRENT: RefCell<Option<Stop>> = const { RefCell::new(None) };
}

impl Stop {
    /// A stop that fires at `deadline` (or when cancelled); `None`: only when cancelled.
    pub fn new(deadline: Option<Instant>) -> Stop {
        Stop {
            inner: Arc::new(Inner {
                fired: AtomicBool::new(false),
                heeded: AtomicBool::new(false),
                deadline,
                parent: None,
            }),
        }
    }

    /// A stop that fires at `deadline` or when this one fires (a job's time limit, counted
    /// from when it starts, under its requester's cancel).
    pub fn child(&self, deadline: Option<Instant>) -> Stop {
        Stop {
            inner: Arc::new(Inner {
                fired: AtomicBool::new(false),
                heeded: AtomicBool::new(false),
                deadline,
                parent: Some(self.clone()),
            }),
        }
    }

    /// A stop under the one in force on this thread, if any, else a new one: fires at
    /// `deadline`, or with the stop in force.
    pub fn within_current(deadline: Option<Instant>) -> Stop {
        match current() {
            Some(outer) => outer.child(deadline),
            None => Stop::new(deadline),
        }
    }

    /// Stop the work now (its requester is gone).
    pub fn cancel(&self) {
        self.inner.fired.store(true, Ordering::Relaxed);
    }

    /// Has it fired: cancelled, or its deadline passed.
    pub fn fired(&self) -> bool {
        if self.inner.fired.load(Ordering::Relaxed) {
            return true;
        }
        if self.inner.deadline.is_some_and(|d| Instant::now() >= d)
            || self.inner.parent.as_ref().is_some_and(Stop::fired)
        {
            self.inner.fired.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Did the work heed it: did a check under [`Stop::run`] answer that the work is stopped?
    /// Then what the work returned may be cut short and is no answer. Work that ended before
    /// any check saw the stop fire is whole, even if the stop fired after.
    pub fn heeded(&self) -> bool {
        self.inner.heeded.load(Ordering::Relaxed)
    }

    /// Run `f` on this thread under this stop: [`stopped`] answers for it until `f` returns
    /// (or unwinds); the stop that was in force before is in force again after.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Restore(Option<Stop>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let prev = self.0.take();
                let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
            }
        }
        let prev = CURRENT
            .try_with(|c| c.borrow_mut().replace(self.clone()))
            .ok()
            .flatten();
        let _restore = Restore(prev);
        f()
    }
}

/// The stop in force on this thread (inside [`Stop::run`]).
pub fn current() -> Option<Stop> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Has the work running on this thread been stopped? `false` outside any [`Stop::run`].
pub fn stopped() -> bool {
    CURRENT
        .try_with(|c| {
            c.borrow().as_ref().is_some_and(|s| {
                let fired = s.fired();
                if fired {
                    s.inner.heeded.store(true, Ordering::Relaxed);
                    // And each parent that fired: its work was cut short too (the signer's
                    // check of earlier signatures under the service's time limit).
                    let mut up = s.inner.parent.as_ref();
                    while let Some(p) = up.filter(|p| p.fired()) {
                        p.inner.heeded.store(true, Ordering::Relaxed);
                        up = p.inner.parent.as_ref();
                    }
                }
                fired
            })
        })
        .unwrap_or(false)
}

/// `Err(Stopped)` once the work on this thread has been stopped.
pub fn check() -> crate::Result<()> {
    if stopped() {
        Err(crate::PdfError::Stopped)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_the_work_under_a_stop_is_stopped_and_only_once_it_fires() {
        assert!(!stopped(), "no stop in force: never stopped");
        let s = Stop::new(None);
        s.run(|| {
            assert!(!stopped());
            s.cancel();
            assert!(!s.heeded(), "fired, but no check has seen it yet");
            assert!(stopped());
            assert!(s.heeded());
            // Another thread's work is not this one's.
            assert!(!std::thread::spawn(stopped).join().unwrap());
        });
        assert!(!stopped(), "the stop ends with its work");
        let past = Stop::new(Some(Instant::now()));
        assert!(past.run(stopped));
        let later = Stop::new(Some(Instant::now() + Duration::from_secs(3600)));
        assert!(!later.run(stopped));
        // Work that ended before its stop fired is whole.
        later.cancel();
        assert!(later.fired() && !later.heeded());
        // Nested: the inner stop answers inside, the outer one again after.
        let fresh = Stop::new(None);
        s.run(|| {
            fresh.run(|| assert!(!stopped()));
            assert!(stopped());
        });
        // A child fires with its parent, not the other way round.
        let parent = Stop::new(None);
        let child = parent.child(Some(Instant::now() + Duration::from_secs(3600)));
        assert!(!child.fired());
        parent.cancel();
        assert!(child.run(stopped) && child.heeded());
        assert!(parent.heeded(), "the parent's work was cut short too");
        let parent = Stop::new(None);
        let child = parent.child(Some(Instant::now()));
        assert!(child.fired() && !parent.fired());
        assert!(child.run(stopped) && child.heeded());
        assert!(
            !parent.heeded(),
            "the child's own limit is not the parent's"
        );
        // A limit of its own inside another's: the outer one still ends it.
        let outer = Stop::new(None);
        outer.run(|| {
            let inner = Stop::within_current(Some(Instant::now() + Duration::from_secs(3600)));
            outer.cancel();
            assert!(inner.run(stopped));
        });
        assert!(outer.heeded());
        assert!(
            !Stop::within_current(None).fired(),
            "no stop in force: a new one"
        );
        // A panic in the work does not leave its stop in force.
        let r = std::panic::catch_unwind(|| past.run(|| panic!("in the work")));
        assert!(r.is_err());
        assert!(!stopped());
    }
}
