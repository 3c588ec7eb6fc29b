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
//!
//! A stop may also bound the memory its work holds ([`Stop::child_within`]): the bytes
//! allocated on the work's thread and not yet freed, counted from when it began by the
//! [`Counting`] allocator, which the program installs as its global allocator (`kyso` does;
//! without it nothing is counted and no memory limit fires). The parsers' budgets bound what
//! each structure of a hostile file may hold, but their sum can still be many times the
//! file (a 32 MiB upload held 2.4 GB, 2026-12-06), and the service runs several at once. The
//! check is [`stopped`]'s, so the work ends at the next check after the limit is passed: by
//! at most what one step between two checks allocates (one object, one inflated chunk,
//! 65,536 cross-reference entries); a large table whose size is known is asked of the limit
//! before it is made ([`afford`]).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::{Cell, RefCell};
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
    /// Most bytes the work may hold: allocated on its thread since [`Stop::run`] began it,
    /// and not freed.
    memory: Option<usize>,
    /// With a memory limit, [`held`] when the first [`Stop::run`] of this stop began.
    base: std::sync::OnceLock<i64>,
    /// It fired because its work held more than `memory`.
    over_memory: AtomicBool,
}

thread_local! {
    static CURRENT: RefCell<Option<Stop>> = const { RefCell::new(None) };
    /// Bytes allocated on this thread and not freed on it ([`Counting`]).
    static HELD: Cell<i64> = const { Cell::new(0) };
    /// The most `HELD` has been since a stop with a memory limit began on this thread.
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

/// A global allocator that counts, per thread, the bytes allocated and not yet freed on it
/// (each block as the system allocator holds it, [`footprint`]), for the memory limits of
/// [`Stop::child_within`]: install it with `#[global_allocator]`.
/// Memory freed on another thread than the one that allocated it is counted off there: the
/// limits measure what a piece of work allocated since it began, on its own thread.
pub struct Counting<A>(pub A);

/// What the system allocator holds for a block of `size` bytes aligned to `align`: glibc's
/// malloc adds an 8-byte header, rounds to 16 and takes at least 32 bytes (a 1-byte name
/// holds 32: arrays of millions of short names held 1.6 times what their sizes add up to,
/// helper 223), and an alignment past 16 may cost as much again.
fn footprint(size: usize, align: usize) -> i64 {
    let chunk = size.saturating_add(8).next_multiple_of(16).max(32);
    let extra = if align > 16 { align } else { 0 };
    i64::try_from(chunk.saturating_add(extra)).unwrap_or(i64::MAX)
}

fn count(delta: i64) {
    // (A thread being torn down has no counter left: nothing to count.)
    let Ok(now) = HELD.try_with(|h| {
        let now = h.get().wrapping_add(delta);
        h.set(now);
        now
    }) else {
        return;
    };
    if delta > 0 {
        let _ = PEAK.try_with(|p| {
            if now > p.get() {
                p.set(now);
            }
        });
    }
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            count(footprint(layout.size(), layout.align()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            count(footprint(layout.size(), layout.align()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) };
        count(-footprint(layout.size(), layout.align()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(footprint(new_size, layout.align()) - footprint(layout.size(), layout.align()));
        }
        p
    }
}

/// Bytes allocated on this thread and not freed on it, as [`Counting`] counts them (0 if it
/// is not the global allocator).
pub fn held() -> i64 {
    HELD.try_with(Cell::get).unwrap_or(0)
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
                memory: None,
                base: std::sync::OnceLock::new(),
                over_memory: AtomicBool::new(false),
            }),
        }
    }

    /// A stop that fires at `deadline` or when this one fires (a job's time limit, counted
    /// from when it starts, under its requester's cancel).
    pub fn child(&self, deadline: Option<Instant>) -> Stop {
        self.child_within(deadline, None)
    }

    /// [`Stop::child`], that also fires when its work holds more than `memory` bytes
    /// allocated on its thread since it began ([`Counting`]; [`Stop::over_memory`] then says
    /// so).
    pub fn child_within(&self, deadline: Option<Instant>, memory: Option<usize>) -> Stop {
        Stop {
            inner: Arc::new(Inner {
                fired: AtomicBool::new(false),
                heeded: AtomicBool::new(false),
                deadline,
                parent: Some(self.clone()),
                memory,
                base: std::sync::OnceLock::new(),
                over_memory: AtomicBool::new(false),
            }),
        }
    }

    /// The most its work held at once, for a stop with a memory limit, asked on the thread
    /// that ran it once the work is done (another stop with a limit begun since on this
    /// thread restarts the count).
    pub fn peak_memory(&self) -> Option<usize> {
        self.inner.memory?;
        let base = self.inner.base.get()?;
        let peak = PEAK.try_with(Cell::get).ok()?;
        usize::try_from(peak.saturating_sub(*base)).ok()
    }

    /// Did it fire because its work held more memory than its limit?
    pub fn over_memory(&self) -> bool {
        self.inner.over_memory.load(Ordering::Relaxed)
    }

    /// Fire it if its work, on this thread, holds more than its memory limit, or would with
    /// `more` bytes.
    fn check_memory(&self, more: usize) {
        if let (Some(limit), Some(base)) = (self.inner.memory, self.inner.base.get()) {
            let holds = held().saturating_sub(*base);
            if holds.saturating_add(i64::try_from(more).unwrap_or(i64::MAX)) > limit as i64 {
                self.inner.over_memory.store(true, Ordering::Relaxed);
                self.inner.fired.store(true, Ordering::Relaxed);
            }
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
        if self.inner.memory.is_some() && self.inner.base.get().is_none() {
            let now = held();
            let _ = self.inner.base.set(now);
            let _ = PEAK.try_with(|p| p.set(now));
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
    stopped_with(0)
}

/// `Err(Stopped)` if the work on this thread has been stopped, or would pass a memory limit
/// holding `bytes` more: asked before a large allocation whose size is known, so that it is
/// not made.
pub fn afford(bytes: usize) -> crate::Result<()> {
    if stopped_with(bytes) {
        Err(crate::PdfError::Stopped)
    } else {
        Ok(())
    }
}

fn stopped_with(more: usize) -> bool {
    CURRENT
        .try_with(|c| {
            c.borrow().as_ref().is_some_and(|s| {
                // The memory limits of this stop and of those it is under (their work runs
                // on this thread too, and counts from when each began).
                let mut up = Some(s);
                while let Some(p) = up {
                    p.check_memory(more);
                    up = p.inner.parent.as_ref();
                }
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

    #[global_allocator]
    static COUNTING: Counting<std::alloc::System> = Counting(std::alloc::System);

    fn mib(n: usize) -> Vec<u8> {
        std::hint::black_box(vec![1u8; n << 20])
    }

    #[test]
    fn a_memory_limit_fires_once_the_work_holds_more_than_it_since_it_began() {
        let before = mib(16); // held before the work began: not the work's
        let s = Stop::new(None).child_within(None, Some(8 << 20));
        let n = s.run(|| {
            let mut kept = vec![mib(4)];
            assert!(!stopped(), "4 MiB held");
            kept.clear(); // freed: counted off
            kept.extend([mib(4), mib(3)]);
            assert!(!stopped(), "7 MiB held, 4 more allocated and freed before");
            kept.push(mib(2));
            assert!(stopped(), "9 MiB held");
            kept.len()
        });
        assert_eq!(n, 3);
        assert!(s.heeded() && s.over_memory());
        let peak = s.peak_memory().unwrap();
        assert!((9 << 20..10 << 20).contains(&peak), "{peak}");
        assert_eq!(Stop::new(None).peak_memory(), None, "no limit: not counted");
        drop(before);
        // A stop without a memory limit, or one whose work stays under it, is not over it.
        let t = Stop::new(None).child_within(None, Some(8 << 20));
        assert!(!t.run(|| {
            let _m = mib(6);
            stopped()
        }));
        assert!(!t.over_memory());
        let u = Stop::new(None).child(None);
        assert!(!u.run(|| {
            let _m = mib(64);
            stopped()
        }));
        assert!(!u.over_memory());
        // A stop inside a limited one (the signer's own check of earlier signatures) ends
        // when the outer one's work holds too much, counted from when the outer one began.
        let outer = Stop::new(None).child_within(None, Some(8 << 20));
        outer.run(|| {
            let _m = mib(6);
            let inner = Stop::within_current(None);
            assert!(!inner.run(stopped));
            assert!(inner.run(|| {
                let _more = mib(4);
                stopped()
            }));
        });
        assert!(outer.heeded() && outer.over_memory());
        // Asked before an allocation: stopped before it is made.
        let w = Stop::new(None).child_within(None, Some(8 << 20));
        w.run(|| {
            let _m = mib(4);
            assert!(afford(3 << 20).is_ok());
            assert!(!stopped());
            assert!(afford(5 << 20).is_err());
            assert!(stopped());
        });
        assert!(w.heeded() && w.over_memory());
        assert!(
            afford(usize::MAX).is_ok(),
            "no stop in force: nothing to pass"
        );
        // Each block counted as the system allocator holds it: 300,000 one-byte blocks hold
        // 9.6 MB, not 300 KB.
        let x = Stop::new(None).child_within(None, Some(8 << 20));
        assert!(x.run(|| {
            let boxes: Vec<Box<u8>> = (0..300_000).map(|i| Box::new(i as u8)).collect();
            std::hint::black_box(&boxes);
            stopped()
        }));
        // Counted per thread: another thread's memory is not this work's.
        let v = Stop::new(None).child_within(None, Some(8 << 20));
        assert!(!v.run(|| {
            let other = std::thread::spawn(|| mib(32)).join().unwrap();
            drop(other); // freed here: counted off this thread, never over
            stopped()
        }));
    }
}
