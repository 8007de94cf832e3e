//! The CPU backend: SIMD resampling through fast_image_resize, then compositing.

pub mod composite;
pub mod resize;
pub mod yuv;

use crate::frame::RgbaImage;
use crate::plan::RenderPlan;
use crate::render::{Backend, RenderError};

/// Renders plans on the calling thread.
#[derive(Debug, Default)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn render(&self, plan: &RenderPlan, sources: Vec<RgbaImage>) -> Result<RgbaImage, RenderError> {
        if sources.len() != plan.sources.len() {
            return Err(RenderError::SourceCount {
                expected: plan.sources.len(),
                actual: sources.len(),
            });
        }

        let [r, g, b] = plan.background;
        let mut canvas = RgbaImage::filled(plan.canvas, [r, g, b, 255]);

        for tile in &plan.tiles {
            let Some(src_rect) = tile.src_rect else {
                continue;
            };
            let scaled = resize::resize(&sources[tile.source], src_rect, tile.dst)?;
            composite::draw_over(&mut canvas, &scaled, tile.dst, plan.background);
        }
        Ok(canvas)
    }
}
