//! The GPU backend: wgpu compute shaders (`shaders/resize.wgsl`) fed by a batcher that
//! groups concurrent renders into shared submissions.
//!
//! It runs on any Vulkan device, including Mesa's lavapipe, on which CI tests it
//! against the CPU backend.

mod batch;
mod device;
mod layout;
pub mod params;
mod pipelines;
mod pool;
pub mod weights;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};

pub use batch::BatchConfig;
pub use layout::Footprint;
pub use pipelines::{
    RESIZE_SHADER, YUV_SHADER, bind_group_layout_entries, yuv_bind_group_layout_entries,
};

use crate::frame::{Picture, RgbaImage};
use crate::metrics::Metrics;
use crate::plan::RenderPlan;
use crate::render::cpu::CpuBackend;
use crate::render::{Backend, RenderError};
use batch::{Batcher, GpuJob};

/// Failures of the GPU backend.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no GPU adapter found (a Vulkan driver is needed; on Debian, mesa-vulkan-drivers provides lavapipe)"
    )]
    NoAdapter,
    #[error("cannot open the GPU device")]
    RequestDevice(#[source] wgpu::RequestDeviceError),
    #[error("cannot build the compute pipelines: {0}")]
    Pipeline(String),
    #[error("cannot start the batcher thread")]
    Thread(#[source] std::io::Error),
    #[error("the batcher stopped")]
    BatcherStopped,
    #[error("CPU fallback after {0} failed: {1}")]
    Fallback(&'static str, String),
}

/// Time the batcher spent per stage, summed over all batches, in nanoseconds.
#[derive(Debug, Default)]
pub struct StageCounters {
    pub upload_ns: std::sync::atomic::AtomicU64,
    pub gpu_ns: std::sync::atomic::AtomicU64,
    pub readback_ns: std::sync::atomic::AtomicU64,
    pub batches: std::sync::atomic::AtomicU64,
    pub jobs: std::sync::atomic::AtomicU64,
}

/// A snapshot of `StageCounters`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageTotals {
    pub upload: std::time::Duration,
    pub gpu: std::time::Duration,
    pub readback: std::time::Duration,
    pub batches: u64,
    pub jobs: u64,
}

impl StageCounters {
    pub fn add(counter: &std::sync::atomic::AtomicU64, elapsed: std::time::Duration) {
        counter.fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StageTotals {
        let read = |counter: &std::sync::atomic::AtomicU64| {
            std::time::Duration::from_nanos(counter.load(Ordering::Relaxed))
        };
        StageTotals {
            upload: read(&self.upload_ns),
            gpu: read(&self.gpu_ns),
            readback: read(&self.readback_ns),
            batches: self.batches.load(Ordering::Relaxed),
            jobs: self.jobs.load(Ordering::Relaxed),
        }
    }
}

/// Jobs waiting for the batcher at most; senders block beyond it.
const QUEUE_DEPTH: usize = 1024;

/// Renders plans on a GPU through the batcher thread.
pub struct GpuBackend {
    /// `None` only while dropping.
    sender: Option<SyncSender<GpuJob>>,
    batcher: Option<std::thread::JoinHandle<()>>,
    lost: Arc<AtomicBool>,
    max_binding: u64,
    metrics: Arc<Metrics>,
    adapter: String,
    stages: Arc<StageCounters>,
}

impl GpuBackend {
    /// Opens a device (software adapters only when `accept_software`), builds the
    /// pipelines and starts the batcher. `Ok(None)` when no acceptable adapter exists.
    pub fn open(
        accept_software: bool,
        config: BatchConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Option<Self>, GpuError> {
        let Some(context) = device::open_device(accept_software)? else {
            return Ok(None);
        };
        let pipelines = pipelines::Pipelines::new(&context.device)?;
        let adapter = format!(
            "{} ({:?}, {})",
            context.info.name, context.info.device_type, context.info.driver_info
        );
        let max_binding = context
            .limits
            .max_storage_buffer_binding_size
            .min(context.limits.max_buffer_size);

        let lost = Arc::new(AtomicBool::new(false));
        let lost_flag = lost.clone();
        context.device.set_device_lost_callback(move |reason, message| {
            tracing::error!(?reason, %message, "GPU device lost; rendering on the CPU from now on");
            lost_flag.store(true, Ordering::Relaxed);
        });

        let context = Arc::new(context);
        let config = BatchConfig {
            max_bytes: config.max_bytes.min(context.limits.max_buffer_size),
            ..config
        };
        let stages = Arc::new(StageCounters::default());
        let batcher = Batcher::new(
            context,
            pipelines,
            config,
            metrics.clone(),
            lost.clone(),
            stages.clone(),
        );
        let (sender, receiver) = sync_channel(QUEUE_DEPTH);
        let batcher = std::thread::Builder::new()
            .name("thumbd-gpu-batcher".into())
            .spawn(move || batcher.run(receiver))
            .map_err(GpuError::Thread)?;

        tracing::info!(%adapter, max_binding_bytes = max_binding, "GPU backend ready");
        Ok(Some(Self {
            sender: Some(sender),
            batcher: Some(batcher),
            lost,
            max_binding,
            metrics,
            adapter,
            stages,
        }))
    }

    /// Time spent uploading, on the GPU and reading back, over all batches so far.
    pub fn stage_totals(&self) -> StageTotals {
        self.stages.snapshot()
    }

    /// Adapter name, type and driver, for logs and reports.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }
}

impl Drop for GpuBackend {
    /// Closes the job channel and waits for the batcher to finish its last batch and
    /// release the device, so that the driver is never torn down under a live device.
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(batcher) = self.batcher.take() {
            if batcher.join().is_err() {
                tracing::error!("the GPU batcher thread panicked");
            }
        }
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn render(&self, plan: &RenderPlan, sources: Vec<RgbaImage>) -> Result<RgbaImage, RenderError> {
        self.render_pictures(plan, sources.into_iter().map(Picture::Rgba).collect())
    }

    /// Uploads YUV frames as their planes; the shader converts them.
    fn render_pictures(
        &self,
        plan: &RenderPlan,
        sources: Vec<Picture>,
    ) -> Result<RgbaImage, RenderError> {
        if sources.len() != plan.sources.len() {
            return Err(RenderError::SourceCount {
                expected: plan.sources.len(),
                actual: sources.len(),
            });
        }
        // TODO: split single images larger than one storage binding into bands on the
        // GPU; until then such jobs render on the CPU.
        let footprint = Footprint::of(plan, &sources);
        if self.lost.load(Ordering::Relaxed) || !footprint.fits(self.max_binding) {
            self.metrics.gpu_fallbacks.inc();
            return CpuBackend.render_pictures(plan, sources);
        }

        let (reply, answer) = sync_channel(1);
        let job = GpuJob {
            plan: plan.clone(),
            sources,
            reply,
        };
        let sender = self.sender.as_ref().expect("sender lives until drop");
        sender
            .send(job)
            .map_err(|_| RenderError::Gpu(GpuError::BatcherStopped.to_string()))?;
        answer
            .recv()
            .map_err(|_| RenderError::Gpu(GpuError::BatcherStopped.to_string()))?
            .map_err(|error| RenderError::Gpu(error.to_string()))
    }
}
