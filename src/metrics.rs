//! Prometheus metrics: requests by status, render latency, cache hits.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BackendLabel {
    pub backend: String,
}

/// Every metric the service exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<StatusLabel, Counter>,
    pub render_seconds: Family<BackendLabel, Histogram>,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    pub coalesced: Counter,
    pub renders_in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub rejected_renders: Counter<u64, AtomicU64>,
    pub gpu_batch_jobs: Histogram,
    pub gpu_batch_seconds: Histogram,
    pub gpu_submissions: Counter,
    pub gpu_fallbacks: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("thumbd");

        let requests = Family::<StatusLabel, Counter>::default();
        registry.register(
            "requests",
            "HTTP requests by response status",
            requests.clone(),
        );

        let render_seconds = Family::<BackendLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        registry.register(
            "render_seconds",
            "Time to decode, render and encode one thumbnail",
            render_seconds.clone(),
        );

        let cache_hits = Counter::default();
        registry.register(
            "cache_hits",
            "Thumbnails served from the result cache",
            cache_hits.clone(),
        );

        let cache_misses = Counter::default();
        registry.register(
            "cache_misses",
            "Thumbnails not found in the result cache",
            cache_misses.clone(),
        );

        let coalesced = Counter::default();
        registry.register(
            "coalesced_requests",
            "Requests that waited for an identical render already in flight",
            coalesced.clone(),
        );

        let renders_in_flight = Gauge::default();
        registry.register(
            "renders_in_flight",
            "Renders running now",
            renders_in_flight.clone(),
        );

        let rejected_renders = Counter::default();
        registry.register(
            "rejected_renders",
            "Renders refused with TOO_MANY_PROCESSES because the limit was reached",
            rejected_renders.clone(),
        );

        let gpu_batch_jobs = Histogram::new(exponential_buckets(1.0, 2.0, 8));
        registry.register(
            "gpu_batch_jobs",
            "Jobs per GPU batch",
            gpu_batch_jobs.clone(),
        );

        let gpu_batch_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "gpu_batch_seconds",
            "Time from a GPU batch's submission to its readback",
            gpu_batch_seconds.clone(),
        );

        let gpu_submissions = Counter::default();
        registry.register(
            "gpu_submissions",
            "GPU queue submissions",
            gpu_submissions.clone(),
        );

        let gpu_fallbacks = Counter::default();
        registry.register(
            "gpu_fallbacks",
            "Renders that the GPU backend handed to the CPU (device errors, oversize jobs)",
            gpu_fallbacks.clone(),
        );

        Self {
            registry,
            requests,
            render_seconds,
            cache_hits,
            cache_misses,
            coalesced,
            renders_in_flight,
            rejected_renders,
            gpu_batch_jobs,
            gpu_batch_seconds,
            gpu_submissions,
            gpu_fallbacks,
        }
    }

    /// Formats the registry as Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}
