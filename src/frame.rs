//! Pixel types shared by `source`, `render` and `encode`.
//!
//! This module depends on nothing else in the crate, so decoding, rendering and
//! encoding exchange pixels without importing each other.

use std::time::Duration;

/// A width and height in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// Returns the number of pixels, in 64 bits so that byte counts and frame totals
    /// computed from it cannot overflow.
    pub fn pixels(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Returns the size with width and height exchanged, as a 90-degree turn leaves it.
    pub fn transposed(self) -> Self {
        Self::new(self.height, self.width)
    }
}

/// An 8-bit RGBA image with straight (not premultiplied) alpha, rows packed without padding.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbaImage {
    size: Size,
    data: Vec<u8>,
}

impl std::fmt::Debug for RgbaImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RgbaImage")
            .field("size", &self.size)
            .finish()
    }
}

impl RgbaImage {
    /// Wraps a pixel buffer; returns `None` when its length is not `4 * width * height`.
    pub fn from_vec(size: Size, data: Vec<u8>) -> Option<Self> {
        let expected = usize::try_from(size.pixels() * 4).ok()?;
        (data.len() == expected).then_some(Self { size, data })
    }

    /// Creates an image filled with one colour.
    pub fn filled(size: Size, rgba: [u8; 4]) -> Self {
        let data = rgba.repeat(size.pixels() as usize);
        Self { size, data }
    }

    pub fn size(&self) -> Size {
        self.size
    }

    pub fn width(&self) -> u32 {
        self.size.width
    }

    pub fn height(&self) -> u32 {
        self.size.height
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.data
    }

    /// Returns the RGBA value at (x, y); panics outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let offset = ((y as usize) * (self.size.width as usize) + x as usize) * 4;
        let mut rgba = [0; 4];
        rgba.copy_from_slice(&self.data[offset..offset + 4]);
        rgba
    }
}

/// One frame of a decoded image: a still, or a frame of an animation.
#[derive(Clone, Debug)]
pub struct Frame {
    pub image: RgbaImage,
    /// How long an animation shows this frame; zero for stills.
    pub delay: Duration,
}

impl Frame {
    pub fn still(image: RgbaImage) -> Self {
        Self {
            image,
            delay: Duration::ZERO,
        }
    }
}

/// The eight EXIF orientations, as the TIFF `Orientation` tag numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Orientation {
    #[default]
    Normal = 1,
    FlipHorizontal = 2,
    Rotate180 = 3,
    FlipVertical = 4,
    Transpose = 5,
    Rotate90 = 6,
    Transverse = 7,
    Rotate270 = 8,
}

impl Orientation {
    /// Maps the EXIF tag value; anything outside 1..=8 reads as normal, as viewers treat it.
    pub fn from_exif(value: u32) -> Self {
        match value {
            2 => Self::FlipHorizontal,
            3 => Self::Rotate180,
            4 => Self::FlipVertical,
            5 => Self::Transpose,
            6 => Self::Rotate90,
            7 => Self::Transverse,
            8 => Self::Rotate270,
            _ => Self::Normal,
        }
    }

    /// Maps a clockwise display rotation in degrees (video metadata) to an orientation.
    pub fn from_rotation(degrees: u32) -> Self {
        match degrees % 360 {
            90 => Self::Rotate90,
            180 => Self::Rotate180,
            270 => Self::Rotate270,
            _ => Self::Normal,
        }
    }

    pub fn exif_value(self) -> u32 {
        self as u32
    }

    /// True when applying the orientation exchanges width and height.
    pub fn swaps_axes(self) -> bool {
        matches!(
            self,
            Self::Transpose | Self::Rotate90 | Self::Transverse | Self::Rotate270
        )
    }

    /// Size of an image of stored size `stored` once this orientation is applied.
    pub fn displayed_size(self, stored: Size) -> Size {
        if self.swaps_axes() {
            stored.transposed()
        } else {
            stored
        }
    }

    /// Turns and mirrors stored pixels so that they display upright.
    pub fn apply(self, image: RgbaImage) -> RgbaImage {
        if self == Self::Normal {
            return image;
        }
        let stored = image.size();
        let displayed = self.displayed_size(stored);
        let (sw, sh) = (stored.width as usize, stored.height as usize);
        let dw = displayed.width as usize;
        let src = image.as_bytes();
        let mut out = vec![0u8; src.len()];

        for y in 0..sh {
            for x in 0..sw {
                // Where stored pixel (x, y) lands in the displayed image.
                let (dx, dy) = match self {
                    Self::Normal => (x, y),
                    Self::FlipHorizontal => (sw - 1 - x, y),
                    Self::Rotate180 => (sw - 1 - x, sh - 1 - y),
                    Self::FlipVertical => (x, sh - 1 - y),
                    Self::Transpose => (y, x),
                    Self::Rotate90 => (sh - 1 - y, x),
                    Self::Transverse => (sh - 1 - y, sw - 1 - x),
                    Self::Rotate270 => (y, sw - 1 - x),
                };
                let from = (y * sw + x) * 4;
                let to = (dy * dw + dx) * 4;
                out[to..to + 4].copy_from_slice(&src[from..from + 4]);
            }
        }
        RgbaImage::from_vec(displayed, out).expect("an orientation keeps the pixel count")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(width: u32, height: u32) -> RgbaImage {
        let data = (0..width * height)
            .flat_map(|i| [i as u8, 0, 0, 255])
            .collect();
        RgbaImage::from_vec(Size::new(width, height), data).unwrap()
    }

    #[test]
    fn rotate90_moves_top_left_to_top_right() {
        let image = numbered(3, 2);
        let turned = Orientation::Rotate90.apply(image);
        assert_eq!(turned.size(), Size::new(2, 3));
        assert_eq!(turned.pixel(1, 0)[0], 0);
        assert_eq!(turned.pixel(0, 0)[0], 3);
    }

    #[test]
    fn every_orientation_round_trips_pixel_count() {
        for value in 1..=8 {
            let orientation = Orientation::from_exif(value);
            let turned = orientation.apply(numbered(5, 3));
            assert_eq!(turned.size(), orientation.displayed_size(Size::new(5, 3)));
        }
    }

    #[test]
    fn from_vec_rejects_wrong_length() {
        assert!(RgbaImage::from_vec(Size::new(2, 2), vec![0; 15]).is_none());
    }
}

/// YUV to RGB matrix of a video stream (ITU-R recommendation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum YuvMatrix {
    /// BT.601, FFmpeg's assumption when a stream has no colour matrix tag.
    #[default]
    Bt601,
    Bt709,
    Bt2020,
}

impl YuvMatrix {
    /// Returns the luma weights (Kr, Kb) of the matrix.
    pub fn kr_kb(self) -> (f32, f32) {
        match self {
            Self::Bt601 => (0.299, 0.114),
            Self::Bt709 => (0.2126, 0.0722),
            Self::Bt2020 => (0.2627, 0.0593),
        }
    }
}

/// Position of chroma samples relative to luma samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ChromaSiting {
    /// Co-sited with the left luma column, centred vertically (MPEG-2, H.264 default;
    /// FFmpeg's assumption when a stream has no chroma location tag).
    #[default]
    Left,
    /// Centred between luma samples both ways (JPEG, MPEG-1).
    Center,
    /// Co-sited with the top-left luma sample (BT.2020 content).
    TopLeft,
}

/// 8-bit planar YUV frame as a decoder produced it: Y, then Cb, then Cr.
#[derive(Clone, PartialEq, Eq)]
pub struct YuvFrame {
    pub size: Size,
    /// Chroma subsampling as shifts: (1, 1) is 4:2:0, (1, 0) is 4:2:2, (0, 0) is 4:4:4.
    pub chroma_shift: (u32, u32),
    pub planes: [Vec<u8>; 3],
    pub strides: [usize; 3],
    pub matrix: YuvMatrix,
    /// Full-range (0-255) samples; otherwise limited range (Y 16-235, chroma 16-240).
    pub full_range: bool,
    pub siting: ChromaSiting,
}

impl std::fmt::Debug for YuvFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YuvFrame")
            .field("size", &self.size)
            .field("chroma_shift", &self.chroma_shift)
            .field("matrix", &self.matrix)
            .field("full_range", &self.full_range)
            .field("siting", &self.siting)
            .finish()
    }
}

impl YuvFrame {
    /// Size of the chroma planes.
    pub fn chroma_size(&self) -> Size {
        let (sx, sy) = self.chroma_shift;
        Size::new(
            (self.size.width + (1 << sx) - 1) >> sx,
            (self.size.height + (1 << sy) - 1) >> sy,
        )
    }
}

/// A source picture as a backend receives it: RGBA pixels, or YUV planes that the
/// backend converts itself (on the GPU, in the shader).
#[derive(Clone, Debug, PartialEq)]
pub enum Picture {
    Rgba(RgbaImage),
    Yuv(YuvFrame),
}

impl Picture {
    pub fn size(&self) -> Size {
        match self {
            Self::Rgba(image) => image.size(),
            Self::Yuv(frame) => frame.size,
        }
    }
}
