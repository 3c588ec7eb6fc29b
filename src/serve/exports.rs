//! Export jobs: an archivist's export runs on a thread of its own, into `[export] dir`, never in
//! memory, a configured few at a time; the service keeps each job's state in a file beside its
//! package, so a restart resumes the jobs it had not finished (the export is resumable:
//! docs/export.md). A BagIt package is written as one tar file by the export's tar
//! serialization (the bag under `<id>/`), an E-ARK package as a zip file; either leaves as it
//! is, with the size and SHA-256 measured from the file when the job finished, so they are
//! known before a download starts and a `Range` is a seek.
//!
//! Files in the directory, for job `<id>` (32 hex digits, random): `<id>.json` the job;
//! `<id>.tar` (BagIt) or `<id>.zip` (E-ARK) the package; and while it is written the export's
//! own `<package>.partial`, `.journal`, `.records` (and `.zip-partial`, which earlier versions
//! wrote for E-ARK). A service from before
//! the tar serialization wrote a BagIt package as a directory, `<id>.bag`: its jobs still
//! finish and download ([`Package::LegacyBag`]).

use super::archive::Store;
use super::config;
use super::error::ApiError;
use kyso_archive::bag::{Format, Serialization};
use kyso_archive::export::Selection;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// A job's state, as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Waiting for a free export thread.
    Queued,
    /// Writing: `done` of `total` records (0 of 0 while the records are selected and logged).
    Running { done: u64, total: u64 },
    /// The package is ready.
    Done {
        records: u64,
        /// The package's size as downloaded (the bag's tar file; the E-ARK zip file).
        size: u64,
        /// SHA-256 of the package as downloaded, hex.
        sha256: String,
    },
    /// Nothing to download; why.
    Failed { error: String },
}

/// One job, as kept in `<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    /// Who started it (the export event's user); only they see it (and admins).
    pub user: String,
    pub format: Format,
    pub selection: Selection,
    pub reason: String,
    /// Seconds since the epoch.
    pub created: u64,
    /// When it finished (seconds since the epoch).
    pub finished: Option<u64>,
    /// How many times the service restarted while it was unfinished.
    #[serde(default)]
    pub resumed: u32,
    /// The client's id for the request that started it: a retry with it answers this job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(flatten)]
    pub state: State,
}

impl Job {
    pub fn finished(&self) -> bool {
        matches!(self.state, State::Done { .. } | State::Failed { .. })
    }
}

/// Why a job could not be started.
pub enum Refused {
    /// The user holds `jobs_per_user` jobs already.
    TooMany(usize),
    /// Less free space than `min_free_mib`.
    Disk(String),
    Io(String),
    /// The user's request id names a job started with other arguments (which).
    Conflict(String),
}

/// Why a job could not be deleted.
#[derive(Debug)]
pub enum NotDeleted {
    NotFound,
    Running,
    Io(String),
}

struct Inner {
    jobs: BTreeMap<String, Job>,
    queue: VecDeque<String>,
}

/// The jobs, the queue and the export threads.
pub struct Exports {
    dir: PathBuf,
    jobs_per_user: usize,
    min_free: u64,
    organization: String,
    /// Threads preparing a job's records (`export.workers`).
    workers: usize,
    inner: Mutex<Inner>,
    wake: Condvar,
    /// Held while a job file is written or a job removed: a job file written from a copy taken
    /// just before a DELETE removed the job brought it back, without its package, at the next
    /// start.
    files: Mutex<()>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A job id: 32 lowercase hex digits (and nothing that could name another file).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn with_ext(p: &Path, ext: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// Free bytes for an unprivileged writer in `dir`.
pub fn free_bytes(dir: &Path) -> io::Result<u64> {
    let s = rustix::fs::statvfs(dir)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

impl Exports {
    /// Read the jobs in `cfg.dir`; the unfinished ones are queued again, in the order they were
    /// created (their exports resume from their journals).
    pub fn open(cfg: &config::Export) -> io::Result<Exports> {
        let mut jobs = BTreeMap::new();
        for e in fs::read_dir(&cfg.dir)? {
            let e = e?;
            let name = e.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if !valid_id(id) {
                continue;
            }
            let text = fs::read(e.path())?;
            match serde_json::from_slice::<Job>(&text) {
                Ok(j) if j.id == id => {
                    jobs.insert(id.to_string(), j);
                }
                _ => tracing::warn!(file = %e.path().display(), "not an export job; left alone"),
            }
        }
        let mut waiting: Vec<&mut Job> = jobs.values_mut().filter(|j| !j.finished()).collect();
        waiting.sort_by_key(|j| (j.created, j.id.clone()));
        let mut queue = VecDeque::new();
        for j in waiting {
            if matches!(j.state, State::Running { .. }) {
                j.resumed += 1;
            }
            j.state = State::Queued;
            queue.push_back(j.id.clone());
        }
        if !queue.is_empty() {
            tracing::info!(jobs = queue.len(), "unfinished export jobs queued again");
        }
        let x = Exports {
            dir: cfg.dir.clone(),
            jobs_per_user: cfg.jobs_per_user,
            // Saturating: 2^44 MiB shifted wrapped to 0, and no room was ever asked (helper
            // 170).
            min_free: cfg.min_free_mib.saturating_mul(1 << 20),
            organization: cfg.organization.clone(),
            workers: cfg.workers,
            inner: Mutex::new(Inner { jobs, queue }),
            wake: Condvar::new(),
            files: Mutex::new(()),
        };
        let queued = x.lock().queue.clone();
        for id in queued {
            x.save(&id)?;
        }
        Ok(x)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The job file's path.
    fn job_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Where a job's package is: `<id>.tar` or `<id>.zip`; `<id>.bag` for a BagIt job a service
    /// from before the tar serialization started (its directory, or the journal of its
    /// interrupted export, is there).
    pub fn package(&self, j: &Job) -> Package {
        match j.format {
            Format::Eark => Package::Zip(self.dir.join(format!("{}.zip", j.id))),
            Format::Bagit => {
                let bag = self.dir.join(format!("{}.bag", j.id));
                if bag.exists() || with_ext(&bag, ".journal").exists() {
                    Package::LegacyBag(bag)
                } else {
                    Package::Tar(self.dir.join(format!("{}.tar", j.id)))
                }
            }
        }
    }

    /// Write a job's file atomically (temporary file, fsync, rename).
    fn save(&self, id: &str) -> io::Result<()> {
        let _files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let Some(j) = self.lock().jobs.get(id).cloned() else {
            return Ok(());
        };
        let path = self.job_path(id);
        let tmp = with_ext(&path, ".tmp");
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(&j).map_err(io::Error::other)?)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    }

    fn set(&self, id: &str, f: impl FnOnce(&mut Job)) {
        if let Some(j) = self.lock().jobs.get_mut(id) {
            f(j);
        }
    }

    /// Queue a new job for `user`, or — when `request_id` names one of the user's jobs started
    /// with the same arguments — answer that one (`true`: a replay). A client retrying a
    /// start it got no answer to made a second job and a second export event (an attacker's
    /// reading, 2026-12-05).
    pub fn start(
        &self,
        user: &str,
        format: Format,
        selection: Selection,
        reason: &str,
        request_id: Option<&str>,
    ) -> Result<(Job, bool), Refused> {
        let free = free_bytes(&self.dir).map_err(|e| Refused::Io(e.to_string()))?;
        let mut id = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id)
            .map_err(|_| Refused::Io("no randomness for a job id".into()))?;
        let job = Job {
            id: hex::encode(id),
            user: user.into(),
            format,
            selection,
            reason: reason.into(),
            created: now(),
            finished: None,
            resumed: 0,
            request_id: request_id.map(str::to_string),
            state: State::Queued,
        };
        {
            // The request id looked up where the job is added: two retries racing find one
            // job between them.
            let mut g = self.lock();
            if let Some(rid) = request_id {
                let same = g
                    .jobs
                    .values()
                    .find(|j| j.user == user && j.request_id.as_deref() == Some(rid));
                if let Some(j) = same {
                    let differs: Vec<&str> = [
                        ("format", j.format != job.format),
                        ("selection", j.selection != job.selection),
                        ("reason", j.reason != job.reason),
                    ]
                    .into_iter()
                    .filter(|(_, d)| *d)
                    .map(|(n, _)| n)
                    .collect();
                    return if differs.is_empty() {
                        Ok((j.clone(), true))
                    } else {
                        Err(Refused::Conflict(format!(
                            "request_id {rid:?} started job {} with another {}",
                            j.id,
                            differs.join(" and ")
                        )))
                    };
                }
            }
            if free < self.min_free {
                return Err(Refused::Disk(format!(
                    "the export directory has {} MiB free, less than export.min_free_mib ({} MiB)",
                    free >> 20,
                    self.min_free >> 20
                )));
            }
            let held = g.jobs.values().filter(|j| j.user == user).count();
            if held >= self.jobs_per_user {
                return Err(Refused::TooMany(self.jobs_per_user));
            }
            g.jobs.insert(job.id.clone(), job.clone());
        }
        if let Err(e) = self.save(&job.id) {
            self.lock().jobs.remove(&job.id);
            return Err(Refused::Io(e.to_string()));
        }
        self.lock().queue.push_back(job.id.clone());
        self.wake.notify_one();
        Ok((job, false))
    }

    /// A job, if `user` may see it (its owner; every job for an admin).
    pub fn get(&self, id: &str, user: &str, admin: bool) -> Option<Job> {
        if !valid_id(id) {
            return None;
        }
        self.lock()
            .jobs
            .get(id)
            .filter(|j| admin || j.user == user)
            .cloned()
    }

    /// The jobs `user` may see, oldest first.
    pub fn list(&self, user: &str, admin: bool) -> Vec<Job> {
        let mut v: Vec<Job> = self
            .lock()
            .jobs
            .values()
            .filter(|j| admin || j.user == user)
            .cloned()
            .collect();
        v.sort_by_key(|j| (j.created, j.id.clone()));
        v
    }

    /// Open a job's package file for a download, under the lock a deletion holds: `None` when
    /// the job was deleted meanwhile — a download racing a DELETE found the file gone and
    /// answered 500, "the package cannot be read" (helper 183: 7 of 140).
    pub fn open_package(&self, id: &str, path: &Path) -> io::Result<Option<fs::File>> {
        let _files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if !self.lock().jobs.contains_key(id) {
            return Ok(None);
        }
        fs::File::open(path).map(Some)
    }

    /// Remove a job that is not running: its package and its file (a queued job is cancelled).
    pub fn delete(&self, id: &str, user: &str, admin: bool) -> Result<(), NotDeleted> {
        let j = self.get(id, user, admin).ok_or(NotDeleted::NotFound)?;
        let _files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let (queued, held) = {
            let mut g = self.lock();
            match g.jobs.get(id).map(|j| &j.state) {
                Some(State::Running { .. }) => return Err(NotDeleted::Running),
                None => return Err(NotDeleted::NotFound),
                _ => {}
            }
            // Out of the queue and out of the jobs under the lock that saw it queued: a worker
            // that had already taken it from the queue finds no job and runs nothing. Left a
            // job until its files were gone, it was marked running meanwhile and exported the
            // citizens' documents into a package no job named, after the DELETE's 204 (helper
            // 221: 2 of 25). Put back if its files cannot be removed: forgotten then, a package
            // no one could remove was left, and the job came back after a restart (an
            // attacker's reading, 2026-12-05).
            let queued = g.queue.iter().any(|q| q == id);
            g.queue.retain(|q| q != id);
            (queued, g.jobs.remove(id))
        };
        let removed = self.remove_files(&j).and_then(|()| {
            fs::remove_file(self.job_path(id))
                .or_else(|e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| e.to_string())
        });
        match removed {
            Ok(()) => Ok(()),
            Err(e) => {
                let mut g = self.lock();
                if let Some(j) = held {
                    g.jobs.insert(id.to_string(), j);
                    if queued {
                        g.queue.push_back(id.to_string());
                        self.wake.notify_one();
                    }
                }
                Err(NotDeleted::Io(e))
            }
        }
    }

    /// The package and whatever the export left beside it (under any of the package names a
    /// job has had: a tar, a zip, or a directory bag of an older service).
    fn remove_files(&self, j: &Job) -> Result<(), String> {
        for ext in ["tar", "zip", "bag"] {
            let p = self.dir.join(format!("{}.{ext}", j.id));
            for q in [
                p.clone(),
                with_ext(&p, ".partial"),
                with_ext(&p, ".journal"),
                with_ext(&p, ".journal.tmp"),
                with_ext(&p, ".records"),
                with_ext(&p, ".records.tmp"),
                with_ext(&p, ".zip-partial"),
            ] {
                let r = match fs::symlink_metadata(&q) {
                    Ok(m) if m.is_dir() => fs::remove_dir_all(&q),
                    Ok(_) => fs::remove_file(&q),
                    Err(_) => continue,
                };
                r.map_err(|e| format!("remove {}: {e}", q.display()))?;
            }
        }
        Ok(())
    }

    /// Start `n` export threads; they run until the process ends (a job interrupted by a stop
    /// resumes at the next start). An idle thread holds no reference to the archive, so a stop
    /// closes it cleanly.
    pub fn run_workers(
        self: &Arc<Self>,
        n: usize,
        store: Arc<Store>,
        tsa: Option<Arc<kyso_signer::tsp::Tsa>>,
    ) -> io::Result<()> {
        for i in 0..n {
            let (me, store, tsa) = (self.clone(), Arc::downgrade(&store), tsa.clone());
            std::thread::Builder::new()
                .name(format!("kyso-export-{i}"))
                .spawn(move || loop {
                    let id = {
                        let mut g = me.lock();
                        loop {
                            if let Some(id) = g.queue.pop_front() {
                                break id;
                            }
                            g = me.wake.wait(g).unwrap_or_else(|p| p.into_inner());
                        }
                    };
                    let Some(store) = store.upgrade() else { return };
                    me.run(&id, &store, tsa.as_ref());
                })?;
        }
        Ok(())
    }

    /// The queued job `id` taken from the queue, marked running; `None` if it was deleted
    /// meanwhile. Taken and marked under one lock: a DELETE between the two saw it queued,
    /// removed it and its files, and the export then ran anyway, leaving a package no job
    /// names (found by an attacker's reading, 2026-12-02).
    fn take(&self, id: &str) -> Option<Job> {
        let mut g = self.lock();
        let j = g
            .jobs
            .get_mut(id)
            .filter(|j| matches!(j.state, State::Queued))?;
        j.state = State::Running { done: 0, total: 0 };
        Some(j.clone())
    }

    fn run(&self, id: &str, store: &Store, tsa: Option<&Arc<kyso_signer::tsp::Tsa>>) {
        let Some(job) = self.take(id) else {
            return;
        };
        if let Err(e) = self.save(id) {
            tracing::error!(job = id, error = %e, "export job file not written");
        }
        tracing::info!(job = id, user = %job.user, format = job.format.name(), "export started");
        let state = match self.export(&job, store, tsa) {
            Ok((records, size, sha256)) => {
                tracing::info!(job = id, records, size, "export done");
                State::Done {
                    records,
                    size,
                    sha256,
                }
            }
            Err(error) => {
                tracing::warn!(job = id, error = %error, "export failed");
                if let Err(e) = self.remove_files(&job) {
                    tracing::error!(job = id, error = %e, "a failed export's files not removed");
                }
                // Logged whole above; the archivist reads the files' names, not the
                // appliance's paths (a leftover that could not be removed said its path).
                State::Failed {
                    error: super::error::file_names_only(&error),
                }
            }
        };
        let deleted = {
            let mut g = self.lock();
            match g.jobs.get_mut(id) {
                Some(j) => {
                    j.state = state;
                    j.finished = Some(now());
                    false
                }
                None => true,
            }
        };
        if deleted {
            // Not reachable through `delete`, which refuses a running job; whatever else
            // removed it, its files go with it.
            if let Err(e) = self.remove_files(&job) {
                tracing::error!(job = id, error = %e, "a deleted export's files not removed");
            }
            return;
        }
        if let Err(e) = self.save(id) {
            tracing::error!(job = id, error = %e, "export job file not written");
        }
    }

    /// Run (or resume) the export, then measure the package as it will be downloaded.
    fn export(
        &self,
        job: &Job,
        store: &Store,
        tsa: Option<&Arc<kyso_signer::tsp::Tsa>>,
    ) -> Result<(u64, u64, String), String> {
        let pkg = self.package(job);
        let out = pkg.path().to_path_buf();
        let journal = with_ext(&out, ".journal");
        let complete_already = out.exists() && !journal.exists();
        let records = if complete_already {
            // Killed after the package was complete, before its job file said so.
            None
        } else {
            if !journal.exists() {
                // Nothing the export could resume from: whatever a run left is removed.
                self.remove_files(job)?;
            }
            let free = free_bytes(&self.dir).map_err(|e| e.to_string())?;
            if free < self.min_free {
                return Err(format!(
                    "the export directory has {} MiB free, less than export.min_free_mib ({} MiB)",
                    free >> 20,
                    self.min_free >> 20
                ));
            }
            let stamp = |sha256: &[u8; 32]| -> Result<Vec<u8>, String> {
                let tsa = tsa.ok_or("no TSA")?;
                kyso_signer::tsp::TimestampSource::Internal(tsa.clone())
                    .stamp(kyso_hsm::HashAlg::Sha256, sha256)
                    .map_err(|e| e.to_string())
            };
            let mut progress = |done: u64, total: u64| {
                self.set(&job.id, |j| j.state = State::Running { done, total });
            };
            // A bag is one tar file; an older service's directory bag is finished as it was
            // begun (its journal names the directory: another layout would be refused).
            let serialization = match pkg {
                Package::Tar(_) => Serialization::Tar,
                Package::Zip(_) | Package::LegacyBag(_) => Serialization::Directory,
            };
            let s = store
                .export(
                    &out,
                    job.format,
                    serialization,
                    job.selection.clone(),
                    &job.user,
                    &job.reason,
                    &self.organization,
                    self.workers,
                    tsa.map(|_| &stamp as kyso_archive::bag::Stamper),
                    &mut progress,
                )
                // Told as the API tells it: a checkpoint that could not be signed or
                // time-stamped names the appliance's files, so its cause is logged and the
                // archivist told to try again (it showed the state file's path).
                .map_err(|e| ApiError::from(e).message)?;
            Some(s.records)
        };
        let mut sink = Measure::default();
        pkg.write(job, &mut sink)
            .map_err(|e| format!("reading the package back: {e}"))?;
        let records = match records {
            Some(r) => r,
            None => pkg.records(&job.id),
        };
        Ok((records, sink.len, hex::encode(sink.hash.finalize())))
    }
}

/// A job's package on disk, and how it leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Package {
    /// `<id>.tar`: the bag serialized by the export as one tar file (entries under `<id>/`),
    /// served as it is.
    Tar(PathBuf),
    /// `<id>.zip`: an E-ARK package, served as it is.
    Zip(PathBuf),
    /// `<id>.bag/`: a directory bag, from a service before the tar serialization (finished
    /// then, or interrupted then and finished as a directory after the upgrade: its journal
    /// names that layout). It leaves as the tar stream those services built on the fly
    /// ([`append_tree`]: sorted entries under `<id>/`, owner 0, fixed modes, the job's creation
    /// time), byte for byte the size and SHA-256 its job announced. Kept and streamed rather
    /// than converted to a tar file at the upgrade: a conversion would read and write each such
    /// package once more and need its size again in free space, for packages that go at their
    /// archivist's next delete (`jobs_per_user` bounds them); the stream needs no disk, and its
    /// bytes are what the job file already promises.
    LegacyBag(PathBuf),
}

impl Package {
    pub fn path(&self) -> &Path {
        match self {
            Package::Tar(p) | Package::Zip(p) | Package::LegacyBag(p) => p,
        }
    }

    /// The package's bytes as downloaded, from the start.
    pub fn write(&self, job: &Job, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Package::Tar(p) | Package::Zip(p) => {
                io::copy(&mut fs::File::open(p)?, w)?;
                Ok(())
            }
            Package::LegacyBag(p) => {
                let mut b = tar::Builder::new(w);
                b.mode(tar::HeaderMode::Deterministic);
                append_tree(&mut b, p, Path::new(&job.id), job.created, 0)?;
                b.into_inner()?;
                Ok(())
            }
        }
    }

    /// Records in a finished bag: `Kyso-Records` of its bag-info.txt (0 when it cannot be
    /// read; an E-ARK zip: unknown, 0).
    fn records(&self, id: &str) -> u64 {
        let info = match self {
            Package::Zip(_) => return 0,
            Package::LegacyBag(p) => fs::File::open(p.join("bag-info.txt")).and_then(|f| {
                let mut v = Vec::new();
                f.take(MAX_BAG_INFO).read_to_end(&mut v)?;
                Ok(v)
            }),
            Package::Tar(p) => tar_bag_info(p, id),
        };
        info.ok()
            .and_then(|b| {
                String::from_utf8_lossy(&b).lines().find_map(|l| {
                    l.strip_prefix("Kyso-Records:")
                        .and_then(|n| n.trim().parse().ok())
                })
            })
            .unwrap_or(0)
    }
}

/// Largest bag-info.txt read back (the export writes a few hundred bytes).
const MAX_BAG_INFO: u64 = 64 << 10;

/// `<id>/bag-info.txt` of a bag's tar file: its entries are walked by seeking over their data
/// (the tag files come after the payload); a later entry of the name wins, as for GNU tar.
fn tar_bag_info(p: &Path, id: &str) -> io::Result<Vec<u8>> {
    let want = Path::new(id).join("bag-info.txt");
    let mut ar = tar::Archive::new(fs::File::open(p)?);
    let mut found = None;
    for e in ar.entries_with_seek()? {
        let mut e = e?;
        if e.path()?.as_ref() == want.as_path() {
            let mut v = Vec::new();
            (&mut e).take(MAX_BAG_INFO).read_to_end(&mut v)?;
            found = Some(v);
        }
    }
    found.ok_or_else(|| io::Error::other("no bag-info.txt in the tar"))
}

/// Deepest directory a bag has is 4 levels; refuse anything much deeper.
const MAX_DEPTH: usize = 8;

/// A directory bag as the deterministic tar stream services before the tar serialization
/// served ([`Package::LegacyBag`]); unchanged, so that it gives the bytes they announced.
fn append_tree<W: Write>(
    b: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
    mtime: u64,
    depth: usize,
) -> io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(io::Error::other(format!(
            "{}: deeper than a package is",
            dir.display()
        )));
    }
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_mtime(mtime);
    h.set_size(0);
    b.append_data(&mut h, name, io::empty())?;
    let mut entries: Vec<(std::ffi::OsString, fs::FileType)> = fs::read_dir(dir)?
        .map(|e| e.and_then(|e| Ok((e.file_name(), e.file_type()?))))
        .collect::<io::Result<_>>()?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (n, t) in entries {
        let p = dir.join(&n);
        let inner = name.join(&n);
        if t.is_dir() {
            append_tree(b, &p, &inner, mtime, depth + 1)?;
        } else if t.is_file() {
            let f = fs::File::open(&p)?;
            let len = f.metadata()?.len();
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_mtime(mtime);
            h.set_size(len);
            // Exactly the length measured: a file that changed size fails the stream.
            b.append_data(&mut h, &inner, Exact(f.take(len), len))?;
        } else {
            return Err(io::Error::other(format!(
                "{}: not a file or directory",
                p.display()
            )));
        }
    }
    Ok(())
}

/// A reader that must give exactly `n` bytes.
struct Exact<R>(R, u64);

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.0.read(buf)?;
        if k == 0 && self.1 > 0 && !buf.is_empty() {
            return Err(io::Error::other("a package file shrank while it was read"));
        }
        self.1 = self.1.saturating_sub(k as u64);
        Ok(k)
    }
}

/// Counts and hashes what is written.
#[derive(Default)]
struct Measure {
    len: u64,
    hash: sha2::Sha256,
}

impl Write for Measure {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        use sha2::Digest;
        self.hash.update(b);
        self.len += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

use sha2::Digest as _;

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn job(format: Format) -> Job {
        Job {
            id: ID.into(),
            user: "archivist".into(),
            format,
            selection: Selection::All,
            reason: "nộp lưu".into(),
            created: 1_767_225_600,
            finished: Some(1_767_225_700),
            resumed: 0,
            request_id: None,
            state: State::Queued,
        }
    }

    fn exports(dir: &Path) -> Exports {
        Exports {
            dir: dir.into(),
            jobs_per_user: 4,
            min_free: 0,
            organization: "kyso archive".into(),
            workers: 1,
            inner: Mutex::new(Inner {
                jobs: BTreeMap::new(),
                queue: VecDeque::new(),
            }),
            wake: Condvar::new(),
            files: Mutex::new(()),
        }
    }

    /// A small directory bag as an older service left it (a name longer than a tar header's
    /// 100 bytes among them, as evidence names are).
    fn legacy_bag(dir: &Path) -> PathBuf {
        let bag = dir.join(format!("{ID}.bag"));
        let evidence = format!("data/evidence/certificate-{}.der", "ab".repeat(32));
        for (rel, body) in [
            ("bagit.txt", &b"BagIt-Version: 1.0\n"[..]),
            ("bag-info.txt", b"Payload-Oxum: 7.2\nKyso-Records: 1\n"),
            ("data/records/7/document.pdf", b"%PDF-1.7 ..."),
            ("data/records/7/metadata.json", b"{}"),
            (evidence.as_str(), b"\x30\x03\x02\x01\x00"),
        ] {
            let p = bag.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, body).unwrap();
        }
        bag
    }

    /// The bytes an older service announced for a directory bag (its size and SHA-256) are the
    /// bytes a download of it gives now: the stream is pinned to what it was.
    #[test]
    fn an_older_services_directory_bag_downloads_as_the_tar_it_announced() {
        let d = tempfile::tempdir().unwrap();
        let x = exports(d.path());
        let bag = legacy_bag(d.path());
        let j = job(Format::Bagit);
        let pkg = x.package(&j);
        assert_eq!(pkg, Package::LegacyBag(bag.clone()));
        let mut m = Measure::default();
        pkg.write(&j, &mut m).unwrap();
        let mut bytes = Vec::new();
        pkg.write(&j, &mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, m.len);
        assert_eq!(
            hex::encode(m.hash.finalize()),
            "7bfed3d6afaeb8d1ed9de221d31ad8fd7fc07002c3f30562132d7d2c9abe9d2a",
            "the stream of a directory bag changed: older jobs' size and SHA-256 no longer hold"
        );
        // Sorted, under `<id>/`, owner 0, fixed modes, the job's creation time.
        let mut ar = tar::Archive::new(&bytes[..]);
        let mut names = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.mtime().unwrap(), j.created);
            // No owner: the uid and gid fields are empty (GNU tar reads 0).
            let old = h.as_old();
            assert!(old.uid.iter().chain(&old.gid).all(|b| *b == 0), "{names:?}");
            let dir = h.entry_type().is_dir();
            assert_eq!(h.mode().unwrap(), if dir { 0o755 } else { 0o644 });
            names.push(e.path().unwrap().display().to_string());
        }
        assert_eq!(names[0], ID);
        assert!(names.iter().all(|n| n.starts_with(ID)), "{names:?}");
        assert!(names.contains(&format!(
            "{ID}/data/evidence/certificate-{}.der",
            "ab".repeat(32)
        )));
        assert_eq!(pkg.records(ID), 1);
    }

    /// A new bag job's package is the tar file; a job whose older export left a journal for a
    /// directory finishes as that directory; removing a job's files removes every name.
    #[test]
    fn a_bag_job_is_a_tar_file_unless_an_older_service_began_it_as_a_directory() {
        let d = tempfile::tempdir().unwrap();
        let x = exports(d.path());
        let j = job(Format::Bagit);
        assert_eq!(
            x.package(&j),
            Package::Tar(d.path().join(format!("{ID}.tar")))
        );
        assert_eq!(
            x.package(&job(Format::Eark)),
            Package::Zip(d.path().join(format!("{ID}.zip")))
        );
        let journal = d.path().join(format!("{ID}.bag.journal"));
        fs::write(&journal, b"{}").unwrap();
        assert_eq!(
            x.package(&j),
            Package::LegacyBag(d.path().join(format!("{ID}.bag")))
        );
        let bag = legacy_bag(d.path());
        for f in [
            format!("{ID}.tar"),
            format!("{ID}.tar.journal"),
            format!("{ID}.tar.records.tmp"),
            format!("{ID}.zip.zip-partial"),
        ] {
            fs::write(d.path().join(f), b"x").unwrap();
        }
        fs::create_dir(d.path().join(format!("{ID}.tar.partial"))).unwrap();
        x.remove_files(&j).unwrap();
        assert!(!bag.exists() && !journal.exists());
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
        // A tar bag's record count is read from its bag-info.txt (a finished export whose job
        // file was not yet written when the service died).
        let mut b = tar::Builder::new(Vec::new());
        for (name, body) in [
            (format!("{ID}/data/records/1/metadata.json"), &b"{}"[..]),
            (
                format!("{ID}/bag-info.txt"),
                b"Payload-Oxum: 2.1\nKyso-Records: 42\n",
            ),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, body).unwrap();
        }
        let tar = d.path().join(format!("{ID}.tar"));
        fs::write(&tar, b.into_inner().unwrap()).unwrap();
        assert_eq!(x.package(&j).records(ID), 42);
        fs::write(&tar, b"not a tar").unwrap();
        assert_eq!(x.package(&j).records(ID), 0);
    }

    /// A finished job deleted while its job file is being written: the job stays deleted (the
    /// file written from the copy taken before the DELETE brought it back at the next start,
    /// its package gone).
    #[test]
    fn a_job_deleted_while_its_file_is_written_stays_deleted() {
        let d = tempfile::tempdir().unwrap();
        let x = std::sync::Arc::new(exports(d.path()));
        let mut back = 0;
        for i in 0..500u32 {
            let mut j = job(Format::Eark);
            j.state = State::Failed {
                error: "disk full".into(),
            };
            x.lock().jobs.insert(ID.into(), j);
            let y = x.clone();
            let saving = std::thread::spawn(move || y.save(ID).unwrap());
            // Deleted at moments spread over the save's course.
            std::thread::sleep(std::time::Duration::from_micros(u64::from(i % 200)));
            x.delete(ID, "archivist", false).unwrap();
            saving.join().unwrap();
            if d.path().join(format!("{ID}.json")).exists() {
                back += 1;
                fs::remove_file(d.path().join(format!("{ID}.json"))).unwrap();
            }
        }
        assert_eq!(back, 0, "of 500 deleted jobs, {back} came back");
    }

    /// A queued job a worker has just taken from the queue, deleted at that moment: either
    /// the worker runs it and the DELETE is refused, or the DELETE succeeds and the worker
    /// finds nothing to run — never both (helper 221: a 204 while the export ran on, its
    /// package named by no job, 2 of 25).
    #[test]
    fn a_job_is_either_deleted_or_run_never_both() {
        let d = tempfile::tempdir().unwrap();
        let x = std::sync::Arc::new(exports(d.path()));
        let (mut ran, mut deleted) = (0, 0);
        for i in 0..500u32 {
            x.lock().jobs.insert(ID.into(), job(Format::Bagit));
            x.save(ID).unwrap();
            // Popped from the queue, as a worker does before it takes the job.
            let y = x.clone();
            let worker = std::thread::spawn(move || y.take(ID).is_some());
            // At moments spread over the worker's start.
            std::thread::sleep(std::time::Duration::from_micros(u64::from(i % 100)));
            let del = x.delete(ID, "archivist", false);
            let took = worker.join().unwrap();
            assert!(!(took && del.is_ok()), "round {i}: run and deleted");
            assert!(took || del.is_ok(), "round {i}: neither");
            if took {
                ran += 1;
                assert!(matches!(del, Err(NotDeleted::Running)), "{del:?}");
                x.lock().jobs.remove(ID);
            } else {
                deleted += 1;
                assert!(!x.lock().jobs.contains_key(ID));
            }
        }
        eprintln!("ran {ran}, deleted {deleted}");
    }
}
