//! YUV to RGBA conversion, the CPU twin of `shaders/yuv.wgsl`.
//!
//! Chroma is sampled bilinearly at each luma pixel's position, which depends on the
//! stream's chroma siting; the matrix and range come from the stream too. Both twins
//! compute in f32 with the same formulas and round half up.

use crate::frame::{ChromaSiting, RgbaImage, Size, YuvFrame};

/// Per-frame constants shared by the two twins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YuvConstants {
    /// Chroma coordinate = (luma coordinate - offset) * scale, per axis.
    pub offset: (f32, f32),
    pub scale: (f32, f32),
    pub kr: f32,
    pub kb: f32,
    pub full_range: bool,
}

impl YuvConstants {
    pub fn of(frame: &YuvFrame) -> Self {
        let (sx, sy) = frame.chroma_shift;
        // Luma position of chroma sample 0 on each subsampled axis.
        let (siting_x, siting_y) = match frame.siting {
            ChromaSiting::Left => (0.0, 0.5),
            ChromaSiting::Center => (0.5, 0.5),
            ChromaSiting::TopLeft => (0.0, 0.0),
        };
        let (kr, kb) = frame.matrix.kr_kb();
        Self {
            offset: (
                if sx > 0 { siting_x } else { 0.0 },
                if sy > 0 { siting_y } else { 0.0 },
            ),
            scale: (1.0 / (1 << sx) as f32, 1.0 / (1 << sy) as f32),
            kr,
            kb,
            full_range: frame.full_range,
        }
    }

    /// Converts one sample triple (0-255 each, chroma already interpolated) to RGB.
    pub fn to_rgb(&self, y: f32, cb: f32, cr: f32) -> [u8; 3] {
        let (y, cb, cr) = if self.full_range {
            (y, cb - 128.0, cr - 128.0)
        } else {
            (
                (y - 16.0) * (255.0 / 219.0),
                (cb - 128.0) * (255.0 / 224.0),
                (cr - 128.0) * (255.0 / 224.0),
            )
        };
        let kg = 1.0 - self.kr - self.kb;
        let r = y + 2.0 * (1.0 - self.kr) * cr;
        let b = y + 2.0 * (1.0 - self.kb) * cb;
        let g =
            y - (2.0 * self.kb * (1.0 - self.kb) * cb + 2.0 * self.kr * (1.0 - self.kr) * cr) / kg;
        [r, g, b].map(|v| (v + 0.5).floor().clamp(0.0, 255.0) as u8)
    }
}

/// Bilinear sample of a chroma plane at fractional coordinates, clamped to its edges.
fn sample(plane: &[u8], stride: usize, size: Size, x: f32, y: f32) -> f32 {
    let max_x = size.width as f32 - 1.0;
    let max_y = size.height as f32 - 1.0;
    let x = x.clamp(0.0, max_x);
    let y = y.clamp(0.0, max_y);
    let (x0, y0) = (x.floor(), y.floor());
    let (x1, y1) = ((x0 + 1.0).min(max_x), (y0 + 1.0).min(max_y));
    let (fx, fy) = (x - x0, y - y0);
    let at = |x: f32, y: f32| f32::from(plane[y as usize * stride + x as usize]);
    let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * fx;
    let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * fx;
    top + (bottom - top) * fy
}

/// Converts a YUV frame to opaque RGBA.
pub fn yuv_to_rgba(frame: &YuvFrame) -> RgbaImage {
    let constants = YuvConstants::of(frame);
    let chroma = frame.chroma_size();
    let (width, height) = (frame.size.width as usize, frame.size.height as usize);
    let mut data = Vec::with_capacity(width * height * 4);

    for y in 0..height {
        let cy = (y as f32 - constants.offset.1) * constants.scale.1;
        let luma_row = &frame.planes[0][y * frame.strides[0]..];
        for (x, &luma) in luma_row.iter().take(width).enumerate() {
            let cx = (x as f32 - constants.offset.0) * constants.scale.0;
            let cb = sample(&frame.planes[1], frame.strides[1], chroma, cx, cy);
            let cr = sample(&frame.planes[2], frame.strides[2], chroma, cx, cy);
            let [r, g, b] = constants.to_rgb(f32::from(luma), cb, cr);
            data.extend_from_slice(&[r, g, b, 255]);
        }
    }
    RgbaImage::from_vec(frame.size, data).expect("one pixel per luma sample")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::YuvMatrix;

    fn flat(y: u8, cb: u8, cr: u8, full_range: bool, matrix: YuvMatrix) -> YuvFrame {
        YuvFrame {
            size: Size::new(4, 2),
            chroma_shift: (1, 1),
            planes: [vec![y; 8], vec![cb; 2], vec![cr; 2]],
            strides: [4, 2, 2],
            matrix,
            full_range,
            siting: ChromaSiting::Left,
        }
    }

    #[test]
    fn limited_range_extremes_map_to_black_and_white() {
        let white = yuv_to_rgba(&flat(235, 128, 128, false, YuvMatrix::Bt709));
        assert_eq!(white.pixel(1, 1), [255, 255, 255, 255]);
        let black = yuv_to_rgba(&flat(16, 128, 128, false, YuvMatrix::Bt601));
        assert_eq!(black.pixel(0, 0), [0, 0, 0, 255]);
    }

    #[test]
    fn full_range_red_matches_bt601() {
        // Full-range BT.601 red: Y 76, Cb 85, Cr 255 (JPEG's YCbCr).
        let red = yuv_to_rgba(&flat(76, 85, 255, true, YuvMatrix::Bt601));
        let [r, g, b, _] = red.pixel(2, 0);
        assert!(r >= 253 && g <= 2 && b <= 2, "{r} {g} {b}");
    }
}
