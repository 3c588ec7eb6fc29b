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
//! thread it runs on, and code that runs outside any [`Stop::run`] — signing, the CLI — is
//! never stopped.

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

/// Has the work running on this thread been stopped? `false` outside any [`Stop::run`].
pub fn stopped() -> bool {
    CURRENT
        .try_with(|c| {
            c.borrow().as_ref().is_some_and(|s| {
                let fired = s.fired();
                if fired {
                    s.inner.heeded.store(true, Ordering::Relaxed);
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
        let parent = Stop::new(None);
        let child = parent.child(Some(Instant::now()));
        assert!(child.fired() && !parent.fired());
        // A panic in the work does not leave its stop in force.
        let r = std::panic::catch_unwind(|| past.run(|| panic!("in the work")));
        assert!(r.is_err());
        assert!(!stopped());
    }
}
