//! Separable resampling of a source rectangle, the CPU twin of `shaders/resize.wgsl`.
//!
//! The filter is Lanczos3 (three lobes, support widened by the downscale ratio), the
//! filter libvips uses for its reduce step, so thumbnails look as sharp as a vips
//! thumbnail. Alpha is premultiplied while filtering so that transparent pixels do
//! not bleed their colour into neighbours.

use std::cell::RefCell;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::frame::{RgbaImage, Size};
use crate::plan::{PixelRect, RectF};
use crate::render::RenderError;

/// Filter shared by both backends.
pub const FILTER: FilterType = FilterType::Lanczos3;

thread_local! {
    // A resizer keeps scratch buffers between calls; one per worker thread reuses them.
    static RESIZER: RefCell<Resizer> = RefCell::new(Resizer::new());
}

/// Resamples `src_rect` of `source` to the size of `dst`.
pub fn resize(
    source: &RgbaImage,
    src_rect: RectF,
    dst: PixelRect,
) -> Result<RgbaImage, RenderError> {
    let src_view = ImageRef::new(
        source.width(),
        source.height(),
        source.as_bytes(),
        PixelType::U8x4,
    )?;
    let mut out = Image::new(dst.width, dst.height, PixelType::U8x4);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FILTER))
        .crop(src_rect.x, src_rect.y, src_rect.width, src_rect.height);

    RESIZER.with_borrow_mut(|resizer| resizer.resize(&src_view, &mut out, &options))?;

    let size = Size::new(dst.width, dst.height);
    Ok(RgbaImage::from_vec(size, out.into_vec()).expect("resizer output matches its size"))
}
