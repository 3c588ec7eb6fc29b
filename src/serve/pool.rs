//! Threads for CPU work on uploads (validation): off the async runtime, with stacks large
//! enough for deeply nested inputs, and a bounded queue — when it is full the caller gets 503
//! at once instead of piling up work.

use crossbeam_channel::{bounded, Sender, TrySendError};

type Job = Box<dyn FnOnce() + Send>;

pub struct Pool {
    tx: Option<Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Pool {
    pub fn new(
        name: &str,
        threads: usize,
        stack_bytes: usize,
        queue: usize,
    ) -> std::io::Result<Pool> {
        let (tx, rx) = bounded::<Job>(queue);
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .stack_size(stack_bytes)
                    .spawn(move || {
                        for job in rx {
                            // A panic inside a job is caught by the job itself (see `run`).
                            job();
                        }
                    })?,
            );
        }
        Ok(Pool {
            tx: Some(tx),
            threads: handles,
        })
    }

    /// Run `f` on the pool. `None` when the queue is full or the pool is stopping; the
    /// result is `Err` when `f` panicked (the thread lives on).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<std::thread::Result<T>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(r);
        });
        match self.tx.as_ref()?.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => return None,
        }
        rx.await.ok()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.tx.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_that_panics_is_an_error_and_the_thread_lives_on() {
        let pool = Pool::new("t", 1, 1 << 20, 4).unwrap();
        let r = pool.run(|| -> u32 { panic!("inside a validation") }).await;
        assert!(matches!(r, Some(Err(_))));
        assert_eq!(pool.run(|| 7).await.unwrap().unwrap(), 7);
    }

    #[tokio::test]
    async fn a_full_queue_answers_at_once() {
        use std::time::Duration;
        let pool = Pool::new("t", 1, 1 << 20, 1).unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        // The one thread takes the first job and blocks in it…
        let mut busy = Box::pin(pool.run(move || {
            let _ = started.send(());
            wait.recv().ok()
        }));
        let _ = tokio::time::timeout(Duration::from_millis(1), &mut busy).await;
        running
            .recv_timeout(Duration::from_secs(30))
            .expect("the first job runs");
        // …the second fills the queue…
        let mut queued = Box::pin(pool.run(|| ()));
        let _ = tokio::time::timeout(Duration::from_millis(1), &mut queued).await;
        // …and the third is refused at once, not queued behind them.
        let refused = tokio::time::timeout(Duration::from_secs(30), pool.run(|| ()))
            .await
            .expect("a full queue answers at once");
        assert!(refused.is_none(), "the third job is refused");
        drop(release);
        assert!(busy.await.is_some());
        assert!(queued.await.is_some());
    }
}
