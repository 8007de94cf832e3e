//! Geometry of the six resize and crop types, on one source picture.
//!
//! Formulas follow the Kaltura server's ImageMagick command lines (rounding included),
//! with three deliberate changes: types 2, 3 and 4 always produce exactly the requested
//! box, and every computation uses the displayed (EXIF-rotated) source size.

use crate::frame::Size;
use crate::plan::request::CropType;

/// A rectangle with fractional position and size, in source pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RectF {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl RectF {
    pub fn full(size: Size) -> Self {
        Self {
            x: 0.0,
            y: 0.0,
            width: f64::from(size.width),
            height: f64::from(size.height),
        }
    }

    /// Multiplies position and size by per-axis factors.
    pub fn scaled(self, fx: f64, fy: f64) -> Self {
        Self {
            x: self.x * fx,
            y: self.y * fy,
            width: self.width * fx,
            height: self.height * fy,
        }
    }
}

/// Placement of one resized picture inside its tile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TileGeometry {
    /// Part of the source that is resampled; `None` when a source crop missed the image
    /// and the tile is background only.
    pub src_rect: Option<RectF>,
    /// Size the source rectangle is resampled to.
    pub scaled: Size,
    /// Top-left corner of the resampled picture inside the tile.
    pub offset: (u32, u32),
    /// Size of the whole tile.
    pub tile: Size,
}

/// Placement of the type 6 crop, per axis: -1 (left or top), 0 (centre), 1 (right or bottom).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Gravity {
    pub x: i8,
    pub y: i8,
}

/// Everything the geometry needs besides the source size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxRequest {
    /// Requested width; 0 means unconstrained.
    pub width: u32,
    /// Requested height; 0 means unconstrained.
    pub height: u32,
    pub crop_type: CropType,
    /// Source crop `src_x`, `src_y`, `src_w`, `src_h` after `rel_width`/`rel_height` scaling.
    pub src_crop: [f64; 4],
    /// Crop placement for type 6.
    pub gravity: Gravity,
}

/// Computes the tile for one source of displayed size `source`.
pub fn tile_geometry(request: &BoxRequest, source: Size) -> TileGeometry {
    match request.crop_type {
        CropType::Resize => fit_geometry(request, source),
        CropType::ResizeWithPadding => pad_geometry(request, source),
        CropType::Crop | CropType::CropFromTop => fill_geometry(request, source),
        CropType::ResizeWithForce => force_geometry(request, source),
        CropType::CropAfterResize => crop_after_resize_geometry(request, source),
    }
}

/// Builds a tile that shows `rect` resampled to `scaled`, with nothing around it.
fn plain(rect: Option<RectF>, scaled: Size) -> TileGeometry {
    TileGeometry {
        src_rect: rect,
        scaled,
        offset: (0, 0),
        tile: scaled,
    }
}

/// ImageMagick's `-resize WxH` without `!`: fit inside, one side may round short.
pub fn fit_size(w0: f64, h0: f64, width: u32, height: u32) -> Size {
    let scale = match (width, height) {
        (0, 0) => 1.0,
        (w, 0) => f64::from(w) / w0,
        (0, h) => f64::from(h) / h0,
        (w, h) => (f64::from(w) / w0).min(f64::from(h) / h0),
    };
    let round = |v: f64| ((v * scale + 0.5).floor() as u32).max(1);
    Size::new(round(w0), round(h0))
}

/// Computes the `-crop WxH+X+Y` pre-crop of types 1 and 2, with ImageMagick's rounding and
/// clipping. A zero width or height reaches the image edge; `None` when it misses.
pub fn source_crop(crop: [f64; 4], source: Size) -> Option<RectF> {
    let [x, y, w, h] = crop;
    if x == 0.0 && y == 0.0 && w == 0.0 && h == 0.0 {
        return Some(RectF::full(source));
    }

    let x = (x - 0.5).ceil().max(0.0);
    let y = (y - 0.5).ceil().max(0.0);
    let (sw, sh) = (f64::from(source.width), f64::from(source.height));
    let w = if w == 0.0 { sw } else { (w + 0.5).floor() };
    let h = if h == 0.0 { sh } else { (h + 0.5).floor() };

    let right = (x + w).min(sw);
    let bottom = (y + h).min(sh);
    if x >= sw || y >= sh || right <= x || bottom <= y {
        return None;
    }
    Some(RectF {
        x,
        y,
        width: right - x,
        height: bottom - y,
    })
}

fn fit_geometry(request: &BoxRequest, source: Size) -> TileGeometry {
    let Some(rect) = source_crop(request.src_crop, source) else {
        // ImageMagick leaves a 1x1 transparent image, which the fill turns to background.
        return plain(None, fit_size(1.0, 1.0, request.width, request.height));
    };
    plain(
        Some(rect),
        fit_size(rect.width, rect.height, request.width, request.height),
    )
}

fn pad_geometry(request: &BoxRequest, source: Size) -> TileGeometry {
    let (width, height) = (request.width, request.height);
    if width == 0 || height == 0 {
        return fit_geometry(request, source);
    }
    let tile = Size::new(width, height);
    let Some(rect) = source_crop(request.src_crop, source) else {
        return TileGeometry {
            src_rect: None,
            scaled: tile,
            offset: (0, 0),
            tile,
        };
    };

    let (sw, sh) = (rect.width, rect.height);
    let (w_box, h_box) = (f64::from(width), f64::from(height));
    let (scaled, offset) = if w_box * sh < h_box * sw {
        // Relatively wider source: bars above and below.
        let mut h = (sh * (w_box / sw)).ceil().clamp(1.0, h_box);
        let bar = ((h_box - h) / 2.0).ceil();
        if 2.0 * bar + h > h_box {
            h -= 1.0;
        }
        (Size::new(width, (h as u32).max(1)), (0, bar as u32))
    } else {
        // Relatively taller source: bars left and right.
        let mut w = (sw * (h_box / sh)).ceil().clamp(1.0, w_box);
        let bar = ((w_box - w) / 2.0).ceil();
        if 2.0 * bar + w > w_box {
            w -= 1.0;
        }
        (Size::new((w as u32).max(1), height), (bar as u32, 0))
    };
    TileGeometry {
        src_rect: Some(rect),
        scaled,
        offset,
        tile,
    }
}

/// ImageMagick's gravity placement of a `cw x ch` crop inside `w x h`, in integer maths.
fn gravity_offset(outer: (f64, f64), inner: (f64, f64), gravity: Gravity) -> (f64, f64) {
    let place = |outer: f64, inner: f64, g: i8| match g {
        -1 => 0.0,
        1 => (outer - inner).max(0.0),
        _ => ((outer as i64) / 2 - (inner as i64) / 2).max(0) as f64,
    };
    (
        place(outer.0, inner.0, gravity.x),
        place(outer.1, inner.1, gravity.y),
    )
}

fn fill_geometry(request: &BoxRequest, source: Size) -> TileGeometry {
    if request.width == 0 && request.height == 0 {
        return plain(Some(RectF::full(source)), source);
    }
    let w = if request.width > 0 {
        request.width
    } else {
        request.height
    };
    let h = if request.height > 0 {
        request.height
    } else {
        request.width
    };

    // src_w/src_h replace the assumed source size and move the crop to an edge.
    let [_, _, crop_w, crop_h] = request.src_crop;
    let mut gravity = None;
    let (mut sw, mut sh) = (f64::from(source.width), f64::from(source.height));
    if crop_h > 0.0 {
        sh = crop_h;
        gravity = Some(Gravity { x: 0, y: -1 });
    }
    if crop_w > 0.0 {
        sw = crop_w;
        gravity = Some(Gravity { x: -1, y: 0 });
    }

    let (mut rw, mut rh) = (sw, sh);
    let (wf, hf) = (f64::from(w), f64::from(h));
    if w < h {
        let ratio = round_to(hf / wf, 3);
        if sh / ratio <= rw {
            rw = sh / ratio;
        } else {
            rh = sw * ratio;
        }
    } else if h < w {
        let ratio = round_to(wf / hf, 3);
        if sh * ratio <= rw {
            rw = sh * ratio;
        } else {
            rh = sw / ratio;
        }
    } else {
        rw = rw.min(rh);
        rh = rw;
    }
    let (rw, rh) = (rw.round().max(1.0), rh.round().max(1.0));

    let default_gravity = match request.crop_type {
        CropType::CropFromTop => Gravity { x: 0, y: -1 },
        _ => Gravity::default(),
    };
    let full = (f64::from(source.width), f64::from(source.height));
    let (x, y) = gravity_offset(full, (rw, rh), gravity.unwrap_or(default_gravity));
    let rect = RectF {
        x,
        y,
        width: rw.min(full.0 - x),
        height: rh.min(full.1 - y),
    };
    plain(Some(rect), Size::new(w, h))
}

fn force_geometry(request: &BoxRequest, source: Size) -> TileGeometry {
    let full = RectF::full(source);
    let scaled = if request.width > 0 && request.height > 0 {
        Size::new(request.width, request.height)
    } else {
        fit_size(full.width, full.height, request.width, request.height)
    };
    plain(Some(full), scaled)
}

fn crop_after_resize_geometry(request: &BoxRequest, source: Size) -> TileGeometry {
    if request.width == 0 && request.height == 0 {
        return plain(Some(RectF::full(source)), source);
    }
    let w = if request.width > 0 {
        request.width
    } else {
        request.height
    };
    let h = if request.height > 0 {
        request.height
    } else {
        request.width
    };

    // Stretch to w x h, then cut cw x ch at the gravity point; map that cut back.
    let [_, _, crop_w, crop_h] = request.src_crop;
    let cw = if crop_w > 0.0 {
        crop_w.round().min(f64::from(w))
    } else {
        f64::from(w)
    };
    let ch = if crop_h > 0.0 {
        crop_h.round().min(f64::from(h))
    } else {
        f64::from(h)
    };
    let (x, y) = gravity_offset((f64::from(w), f64::from(h)), (cw, ch), request.gravity);
    let fx = f64::from(source.width) / f64::from(w);
    let fy = f64::from(source.height) / f64::from(h);
    let rect = RectF {
        x,
        y,
        width: cw,
        height: ch,
    }
    .scaled(fx, fy);
    plain(Some(rect), Size::new(cw as u32, ch as u32))
}

/// PHP's `round($v, $digits)`: halves away from zero.
fn round_to(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn request(width: u32, height: u32, crop_type: CropType) -> BoxRequest {
        BoxRequest {
            width,
            height,
            crop_type,
            src_crop: [0.0; 4],
            gravity: Gravity::default(),
        }
    }

    const HD: Size = Size::new(1280, 720);

    #[test]
    fn default_box_on_hd_is_120x68() {
        let tile = tile_geometry(&request(120, 90, CropType::Resize), HD);
        assert_eq!(tile.tile, Size::new(120, 68));
    }

    #[test]
    fn square_crop_takes_centre() {
        let tile = tile_geometry(&request(300, 300, CropType::Crop), HD);
        let rect = tile.src_rect.unwrap();
        assert_eq!((rect.x, rect.width, rect.height), (280.0, 720.0, 720.0));
        assert_eq!(tile.tile, Size::new(300, 300));
    }

    #[test]
    fn padding_is_exact_and_symmetric() {
        let tile = tile_geometry(&request(300, 300, CropType::ResizeWithPadding), HD);
        assert_eq!(tile.tile, Size::new(300, 300));
        assert_eq!(tile.scaled, Size::new(300, 168));
        assert_eq!(tile.offset, (0, 66));
    }

    #[test]
    fn crop_from_top_starts_at_row_zero() {
        let portrait = Size::new(600, 1000);
        let tile = tile_geometry(&request(200, 100, CropType::CropFromTop), portrait);
        let rect = tile.src_rect.unwrap();
        assert_eq!(rect.y, 0.0);
        assert_eq!(rect.width, 600.0);
        assert_eq!(rect.height, 300.0);
    }

    #[test]
    fn portrait_box_from_narrow_source_is_exact() {
        let narrow = Size::new(100, 1000);
        let tile = tile_geometry(&request(100, 300, CropType::Crop), narrow);
        assert_eq!(tile.tile, Size::new(100, 300));
        let rect = tile.src_rect.unwrap();
        assert_eq!((rect.width, rect.height), (100.0, 300.0));
    }

    #[test]
    fn single_width_for_crop_gives_square() {
        let tile = tile_geometry(&request(200, 0, CropType::Crop), HD);
        assert_eq!(tile.tile, Size::new(200, 200));
    }

    #[test]
    fn source_crop_clips_and_rounds() {
        let rect = source_crop([10.0, 0.0, 0.0, 0.0], Size::new(100, 50)).unwrap();
        assert_eq!((rect.x, rect.width, rect.height), (10.0, 90.0, 50.0));
        let rect = source_crop([10.5, 0.0, 20.5, 10.4], Size::new(100, 50)).unwrap();
        assert_eq!((rect.x, rect.width, rect.height), (10.0, 21.0, 10.0));
        assert!(source_crop([200.0, 0.0, 10.0, 10.0], Size::new(100, 50)).is_none());
    }

    #[test]
    fn force_stretches_to_box() {
        let tile = tile_geometry(&request(300, 300, CropType::ResizeWithForce), HD);
        assert_eq!(tile.tile, Size::new(300, 300));
        let tile = tile_geometry(&request(640, 0, CropType::ResizeWithForce), HD);
        assert_eq!(tile.tile, Size::new(640, 360));
    }

    #[test]
    fn crop_after_resize_places_by_gravity() {
        let mut req = request(200, 100, CropType::CropAfterResize);
        req.src_crop = [0.0, 0.0, 100.0, 100.0];
        req.gravity = Gravity { x: 1, y: 0 };
        let tile = tile_geometry(&req, Size::new(400, 200));
        assert_eq!(tile.tile, Size::new(100, 100));
        let rect = tile.src_rect.unwrap();
        assert_eq!((rect.x, rect.width), (200.0, 200.0));
    }

    fn crop_types() -> impl Strategy<Value = CropType> {
        (1i64..=6).prop_map(CropType::from_number)
    }

    proptest! {
        #[test]
        fn output_matches_box_and_rect_stays_inside(
            sw in 1u32..4000, sh in 1u32..4000,
            w in 0u32..2000, h in 0u32..2000,
            crop_type in crop_types(),
            crop in proptest::array::uniform4(0.0f64..3000.0),
            use_crop in any::<bool>(),
        ) {
            let source = Size::new(sw, sh);
            let mut req = request(w, h, crop_type);
            if use_crop {
                req.src_crop = crop;
            }
            let tile = tile_geometry(&req, source);

            prop_assert!(tile.scaled.width >= 1 && tile.scaled.height >= 1);
            prop_assert!(tile.offset.0 + tile.scaled.width <= tile.tile.width);
            prop_assert!(tile.offset.1 + tile.scaled.height <= tile.tile.height);
            if let Some(rect) = tile.src_rect {
                prop_assert!(rect.x >= 0.0 && rect.y >= 0.0);
                prop_assert!(rect.width > 0.0 && rect.height > 0.0);
                prop_assert!(rect.x + rect.width <= f64::from(sw) + 1e-6);
                prop_assert!(rect.y + rect.height <= f64::from(sh) + 1e-6);
            }
            let exact = matches!(crop_type, CropType::ResizeWithPadding | CropType::Crop
                | CropType::CropFromTop | CropType::ResizeWithForce);
            if exact && w > 0 && h > 0 {
                prop_assert_eq!(tile.tile, Size::new(w, h));
            }
            if crop_type == CropType::ResizeWithPadding && w > 0 && h > 0 {
                let right = tile.tile.width - tile.offset.0 - tile.scaled.width;
                let bottom = tile.tile.height - tile.offset.1 - tile.scaled.height;
                prop_assert!(right.abs_diff(tile.offset.0) <= 1);
                prop_assert!(bottom.abs_diff(tile.offset.1) <= 1);
            }
        }
    }
}
