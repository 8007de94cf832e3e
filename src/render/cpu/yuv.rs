//! YUV to RGBA conversion, the CPU twin of `shaders/yuv.wgsl`.
//!
//! Chroma is sampled bilinearly at each luma pixel's position, which depends on the
//! stream's chroma siting; the matrix and range come from the stream too. Both twins
//! compute in f32 with the same formulas and round half up.

use crate::frame::{ChromaSiting, RgbaImage, YuvFrame};

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
    #[inline]
    pub fn to_rgb(&self, y: f32, cb: f32, cr: f32) -> [u8; 3] {
        let (luma_offset, luma_scale, chroma_scale) = if self.full_range {
            (0.0, 1.0, 1.0)
        } else {
            (16.0, 255.0 / 219.0, 255.0 / 224.0)
        };
        let y = (y - luma_offset) * luma_scale;
        let cb = (cb - 128.0) * chroma_scale;
        let cr = (cr - 128.0) * chroma_scale;
        let kg = 1.0 - self.kr - self.kb;
        let r = y + 2.0 * (1.0 - self.kr) * cr;
        let b = y + 2.0 * (1.0 - self.kb) * cb;
        let g =
            y - (2.0 * self.kb * (1.0 - self.kb) * cb + 2.0 * self.kr * (1.0 - self.kr) * cr) / kg;
        // After the clamp the value is not negative, so the cast truncates like floor.
        [r, g, b].map(|v| (v + 0.5).clamp(0.0, 255.0) as u8)
    }
}

/// Chroma sample indices and weight for one luma coordinate, clamped to the plane.
fn chroma_taps(position: f32, size: u32) -> (usize, usize, f32) {
    let max = size as f32 - 1.0;
    let clamped = position.clamp(0.0, max);
    let first = clamped.floor();
    let second = (first + 1.0).min(max);
    (first as usize, second as usize, clamped - first)
}

/// Converts a YUV frame to opaque RGBA.
///
/// Chroma is interpolated vertically into a row buffer first, then horizontally per
/// pixel. The shader takes the same bilinear sample in the other order, so a result
/// can move by one unit at most.
pub fn yuv_to_rgba(frame: &YuvFrame) -> RgbaImage {
    let constants = YuvConstants::of(frame);
    let chroma = frame.chroma_size();
    let (width, height) = (frame.size.width as usize, frame.size.height as usize);
    let columns: Vec<(usize, usize, f32)> = (0..width)
        .map(|x| {
            chroma_taps(
                (x as f32 - constants.offset.0) * constants.scale.0,
                chroma.width,
            )
        })
        .collect();
    let mut data = vec![0u8; width * height * 4];

    // Large frames are split into bands of rows, one thread each.
    let threads = if frame.size.pixels() >= 1 << 20 {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    } else {
        1
    };
    let band_rows = height.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (band, rows) in data.chunks_mut(band_rows * width * 4).enumerate() {
            let columns = &columns;
            scope.spawn(move || convert_rows(frame, &constants, columns, band * band_rows, rows));
        }
    });
    RgbaImage::from_vec(frame.size, data).expect("one pixel per luma sample")
}

/// Converts the rows starting at `first_row` into `out`, four bytes per pixel.
fn convert_rows(
    frame: &YuvFrame,
    constants: &YuvConstants,
    columns: &[(usize, usize, f32)],
    first_row: usize,
    out: &mut [u8],
) {
    let width = frame.size.width as usize;
    let chroma = frame.chroma_size();
    let mut cb_row = vec![0f32; chroma.width as usize];
    let mut cr_row = vec![0f32; chroma.width as usize];

    for (index, out_row) in out.chunks_exact_mut(width * 4).enumerate() {
        let y = first_row + index;
        let (top, bottom, fy) = chroma_taps(
            (y as f32 - constants.offset.1) * constants.scale.1,
            chroma.height,
        );
        blend_rows(
            &frame.planes[1],
            frame.strides[1],
            top,
            bottom,
            fy,
            &mut cb_row,
        );
        blend_rows(
            &frame.planes[2],
            frame.strides[2],
            top,
            bottom,
            fy,
            &mut cr_row,
        );

        let luma_row = &frame.planes[0][y * frame.strides[0]..y * frame.strides[0] + width];
        for ((pixel, &luma), &(x0, x1, fx)) in
            out_row.chunks_exact_mut(4).zip(luma_row).zip(columns)
        {
            let cb = cb_row[x0] + (cb_row[x1] - cb_row[x0]) * fx;
            let cr = cr_row[x0] + (cr_row[x1] - cr_row[x0]) * fx;
            let [r, g, b] = constants.to_rgb(f32::from(luma), cb, cr);
            pixel.copy_from_slice(&[r, g, b, 255]);
        }
    }
}

/// Interpolates between chroma rows `top` and `bottom` at weight `fy` into `out`.
fn blend_rows(plane: &[u8], stride: usize, top: usize, bottom: usize, fy: f32, out: &mut [f32]) {
    let width = out.len();
    let upper = &plane[top * stride..top * stride + width];
    let lower = &plane[bottom * stride..bottom * stride + width];
    for ((value, &a), &b) in out.iter_mut().zip(upper).zip(lower) {
        let (a, b) = (f32::from(a), f32::from(b));
        *value = a + (b - a) * fy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Size, YuvMatrix};

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
        assert!(r >= 253, "red {r}");
        assert!(g <= 2, "green {g}");
        assert!(b <= 2, "blue {b}");
    }
}
