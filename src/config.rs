//! Service limits and tuning, each a command-line flag and an environment variable.

use std::time::Duration;

use crate::plan::PlanSettings;
use crate::source::SourceLimits;

/// Size limits for sources and outputs.
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct LimitArgs {
    /// Largest source picture accepted, in pixels (all frames of an animation together).
    #[arg(long, env = "THUMBD_MAX_SOURCE_PIXELS", default_value_t = 100_000_000)]
    pub max_source_pixels: u64,

    /// Largest source file accepted, in bytes.
    #[arg(long, env = "THUMBD_MAX_SOURCE_BYTES", default_value_t = 2 << 30)]
    pub max_source_bytes: u64,

    /// Largest output picture, in pixels (a whole sprite counts as one picture).
    #[arg(long, env = "THUMBD_MAX_OUTPUT_PIXELS", default_value_t = 100_000_000)]
    pub max_output_pixels: u64,
}

impl Default for LimitArgs {
    fn default() -> Self {
        Self {
            max_source_pixels: 100_000_000,
            max_source_bytes: 2 << 30,
            max_output_pixels: 100_000_000,
        }
    }
}

impl LimitArgs {
    pub fn source_limits(&self) -> SourceLimits {
        SourceLimits {
            max_pixels: self.max_source_pixels,
            max_file_bytes: self.max_source_bytes,
        }
    }

    pub fn plan_settings(&self, default_offset: f64) -> PlanSettings {
        PlanSettings {
            max_output_pixels: self.max_output_pixels,
            default_offset,
        }
    }
}

/// Rendering concurrency, timeouts and the result cache.
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub limits: LimitArgs,

    /// Renders allowed at once; further requests get 503 TOO_MANY_PROCESSES.
    /// Defaults to twice the number of CPU cores.
    #[arg(long, env = "THUMBD_MAX_CONCURRENT_RENDERS")]
    pub max_concurrent_renders: Option<usize>,

    /// Seconds one render may take before the request fails.
    #[arg(long, env = "THUMBD_RENDER_TIMEOUT_SECS", default_value_t = 30)]
    pub render_timeout_secs: u64,

    /// Memory for cached thumbnails, in bytes.
    #[arg(long, env = "THUMBD_CACHE_BYTES", default_value_t = 256 << 20)]
    pub cache_bytes: u64,

    /// Seconds a cached thumbnail stays in the server's own cache.
    #[arg(long, env = "THUMBD_CACHE_TTL_SECS", default_value_t = 3600)]
    pub cache_ttl_secs: u64,
}

impl Default for ServiceArgs {
    fn default() -> Self {
        Self {
            limits: LimitArgs::default(),
            max_concurrent_renders: None,
            render_timeout_secs: 30,
            cache_bytes: 256 << 20,
            cache_ttl_secs: 3600,
        }
    }
}

impl ServiceArgs {
    pub fn concurrent_renders(&self) -> usize {
        self.max_concurrent_renders
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()) * 2)
    }

    pub fn render_timeout(&self) -> Duration {
        Duration::from_secs(self.render_timeout_secs)
    }
}

/// Backend choice and GPU batching.
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct BackendArgs {
    /// Rendering backend: auto takes a hardware GPU when one exists, gpu also accepts
    /// a software Vulkan device (lavapipe), cpu never uses the GPU. Defaults to auto,
    /// except for `render`, where one picture does not repay the GPU's start-up.
    #[arg(long, env = "THUMBD_BACKEND", value_enum)]
    pub backend: Option<crate::render::BackendChoice>,

    /// Jobs in one GPU batch at most.
    #[arg(long, env = "THUMBD_GPU_BATCH_MAX_JOBS", default_value_t = 64)]
    pub gpu_batch_max_jobs: usize,

    /// Bytes of sources, intermediates and outputs in one GPU batch at most (further
    /// capped by the adapter's largest storage binding).
    #[arg(long, env = "THUMBD_GPU_BATCH_MAX_BYTES", default_value_t = 256 << 20)]
    pub gpu_batch_max_bytes: u64,

    /// Microseconds the first job of a GPU batch waits for more jobs.
    #[arg(long, env = "THUMBD_GPU_BATCH_DEADLINE_US", default_value_t = 500)]
    pub gpu_batch_deadline_us: u64,
}

impl Default for BackendArgs {
    fn default() -> Self {
        Self {
            backend: None,
            gpu_batch_max_jobs: 64,
            gpu_batch_max_bytes: 256 << 20,
            gpu_batch_deadline_us: 500,
        }
    }
}

impl BackendArgs {
    pub fn batch_config(&self) -> crate::render::gpu::BatchConfig {
        crate::render::gpu::BatchConfig {
            max_jobs: self.gpu_batch_max_jobs.max(1),
            max_bytes: self.gpu_batch_max_bytes,
            deadline: Duration::from_micros(self.gpu_batch_deadline_us),
        }
    }

    /// Opens the chosen backend, or `default` when none was chosen.
    pub fn open(
        &self,
        default: crate::render::BackendChoice,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
    ) -> Result<std::sync::Arc<dyn crate::render::Backend>, crate::render::gpu::GpuError> {
        let choice = self.backend.unwrap_or(default);
        crate::render::open_backend(choice, self.batch_config(), metrics)
    }
}
