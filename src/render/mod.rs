//! Executes render plans: the `Backend` seam and its implementations.
//!
//! A backend receives a `RenderPlan` and the decoded source pictures, and returns the
//! finished canvas. It never chooses geometry: every size and offset comes from the plan.

pub mod cpu;

use crate::frame::RgbaImage;
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
}

/// Something that can turn a plan and its sources into pixels.
pub trait Backend: Send + Sync {
    /// Short name for logs and metrics, such as "cpu".
    fn name(&self) -> &'static str;

    /// Renders `plan` from `sources`, which are in the plan's source order and already
    /// upright (orientation and rotation applied).
    fn render(&self, plan: &RenderPlan, sources: &[RgbaImage]) -> Result<RgbaImage, RenderError>;
}
