//! Executes render plans: the `Backend` seam and its implementations.
//!
//! A backend receives a `RenderPlan` and the decoded source pictures, and returns the
//! finished canvas. It never chooses geometry: every size and offset comes from the plan.

pub mod cpu;
pub mod gpu;

use std::sync::Arc;

use crate::frame::{Picture, RgbaImage};
use crate::metrics::Metrics;
use crate::plan::RenderPlan;

/// Failures while executing a plan.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("plan expects {expected} source pictures, got {actual}")]
    SourceCount { expected: usize, actual: usize },
    #[error("resampling failed")]
    Resize(#[from] fast_image_resize::ResizeError),
    #[error("invalid source picture")]
    SourceImage(#[from] fast_image_resize::ImageBufferError),
    #[error("GPU rendering failed: {0}")]
    Gpu(String),
}

/// Something that can turn a plan and its sources into pixels.
pub trait Backend: Send + Sync {
    /// Short name for logs and metrics, such as "cpu".
    fn name(&self) -> &'static str;

    /// Renders `plan` from `sources`, which are in the plan's source order and already
    /// upright (orientation and rotation applied).
    fn render(&self, plan: &RenderPlan, sources: Vec<RgbaImage>) -> Result<RgbaImage, RenderError>;

    /// Renders from pictures that may still be YUV planes. The default converts them
    /// on the CPU (`cpu::yuv`); the GPU backend converts them in a shader instead.
    fn render_pictures(
        &self,
        plan: &RenderPlan,
        sources: Vec<Picture>,
    ) -> Result<RgbaImage, RenderError> {
        let images = sources
            .into_iter()
            .map(|picture| match picture {
                Picture::Rgba(image) => image,
                Picture::Yuv(frame) => cpu::yuv::yuv_to_rgba(&frame),
            })
            .collect();
        self.render(plan, images)
    }
}

/// Backend choice, as `--backend` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BackendChoice {
    /// A hardware GPU when one exists, else the CPU.
    #[default]
    Auto,
    /// Any Vulkan device, software ones (lavapipe) included; fails without one.
    Gpu,
    /// The CPU backend.
    Cpu,
}

/// Opens the backend `choice` names.
pub fn open_backend(
    choice: BackendChoice,
    batch: gpu::BatchConfig,
    metrics: Arc<Metrics>,
) -> Result<Arc<dyn Backend>, gpu::GpuError> {
    match choice {
        BackendChoice::Cpu => Ok(Arc::new(cpu::CpuBackend)),
        BackendChoice::Gpu => match gpu::GpuBackend::open(true, batch, metrics)? {
            Some(backend) => Ok(Arc::new(backend)),
            None => Err(gpu::GpuError::NoAdapter),
        },
        BackendChoice::Auto => match gpu::GpuBackend::open(false, batch, metrics) {
            Ok(Some(backend)) => Ok(Arc::new(backend)),
            Ok(None) => {
                tracing::info!("no hardware GPU found; rendering on the CPU");
                Ok(Arc::new(cpu::CpuBackend))
            }
            Err(error) => {
                tracing::warn!(%error, "GPU backend unavailable; rendering on the CPU");
                Ok(Arc::new(cpu::CpuBackend))
            }
        },
    }
}
