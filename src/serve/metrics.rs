//! Prometheus metrics, served at `/metrics` in the text exposition format.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    /// The most memory each job on the verification threads, and each batch document's
    /// reading, held at once (`limits.validation_memory_mib` bounds it), by `work`
    /// (`validation`, `preparation`, `signing`).
    pub job_memory: HistogramVec,
    pub signatures: IntCounterVec,
    pub token_errors: IntCounter,
    pub auth_failures: IntCounterVec,
    pub limited: IntCounterVec,
    /// Connections on probation given a connection slot, by `slot` (`free`, `taken`) and `who`
    /// (`agency`, `public`).
    pub promoted: IntCounterVec,
    pub panics: IntCounter,
    pub log_size: Gauge,
    pub checkpoint_age: Gauge,
    pub checkpoint_errors: Gauge,
    pub log_ahead_of_clock: Gauge,
    pub inflight_bytes: Gauge,
    pub verify_queued: Gauge,
    pub verify_running: Gauge,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "kyso_http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kyso_http_request_duration_seconds",
                "HTTP request latency by route, method and status",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0,
            ]),
            &["route", "method", "status"],
        )?;
        let job_memory = HistogramVec::new(
            HistogramOpts::new(
                "kyso_job_memory_bytes",
                "The most memory a validation, a remote preparation or a batch document's reading held at once",
            )
            .buckets(
                [1u64, 4, 16, 64, 256, 1024, 4096]
                    .iter()
                    .map(|mib| (mib << 20) as f64)
                    .collect(),
            ),
            &["work"],
        )?;
        let signatures = IntCounterVec::new(
            Opts::new("kyso_signatures_total", "Signatures made, by kind"),
            &["kind"],
        )?;
        let token_errors = IntCounter::new("kyso_token_errors_total", "Token (PKCS#11) failures")?;
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "kyso_auth_failures_total",
                "Requests refused by authentication or roles",
            ),
            &["reason"],
        )?;
        let limited = IntCounterVec::new(
            Opts::new(
                "kyso_limited_total",
                "Requests refused by rate, concurrency or queue limits",
            ),
            &["limit"],
        )?;
        let promoted = IntCounterVec::new(
            Opts::new(
                "kyso_probation_promoted_total",
                "Connections on probation that got a connection slot for their request: one come free, or one taken from a connection told to go",
            ),
            &["slot", "who"],
        )?;
        let panics = IntCounter::new("kyso_panics_total", "Requests whose handler panicked")?;
        let log_size = Gauge::new("kyso_log_size", "Entries in the archive's Merkle log")?;
        let checkpoint_age = Gauge::new(
            "kyso_checkpoint_age_seconds",
            "Seconds since the newest checkpoint was signed (-1: none yet)",
        )?;
        let checkpoint_errors = Gauge::new(
            "kyso_checkpoint_errors",
            "Checkpoints that could not be signed",
        )?;
        let log_ahead_of_clock = Gauge::new(
            "kyso_log_ahead_of_clock_seconds",
            "Seconds the log's last entry is dated ahead of the clock (0: not): new entries keep the log's time until the clock catches up",
        )?;
        let inflight_bytes = Gauge::new(
            "kyso_inflight_body_bytes",
            "Bytes of request bodies being received or held until their validation ends",
        )?;
        let verify_queued = Gauge::new("kyso_verify_queued", "Validations waiting for a thread")?;
        let verify_running = Gauge::new("kyso_verify_running", "Validations running")?;
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(job_memory.clone()),
            Box::new(signatures.clone()),
            Box::new(token_errors.clone()),
            Box::new(auth_failures.clone()),
            Box::new(limited.clone()),
            Box::new(promoted.clone()),
            Box::new(panics.clone()),
            Box::new(log_size.clone()),
            Box::new(checkpoint_age.clone()),
            Box::new(checkpoint_errors.clone()),
            Box::new(log_ahead_of_clock.clone()),
            Box::new(inflight_bytes.clone()),
            Box::new(verify_queued.clone()),
            Box::new(verify_running.clone()),
        ] {
            registry.register(c)?;
        }
        Ok(Metrics {
            registry,
            requests,
            latency,
            job_memory,
            signatures,
            token_errors,
            auth_failures,
            limited,
            promoted,
            panics,
            log_size,
            checkpoint_age,
            checkpoint_errors,
            log_ahead_of_clock,
            inflight_bytes,
            verify_queued,
            verify_running,
        })
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
