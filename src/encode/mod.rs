//! Output encoding: JPEG, PNG, BMP, GIF (still or animated) and lossy WebP.
//!
//! Every canvas that reaches this module is opaque (the renderer flattens transparency
//! over the background colour), so formats without alpha lose nothing.

mod metadata;

use std::io::Cursor;
use std::time::Duration;

use bytes::Bytes;
use image::codecs::gif::{GifEncoder, Repeat};
use image::{ExtendedColorType, ImageEncoder};

use crate::frame::RgbaImage;
use crate::plan::OutputFormat;

/// How to write one output picture.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodeOptions {
    pub format: OutputFormat,
    /// 1-100, for JPEG and WebP.
    pub quality: u8,
    /// Pixels per inch written to the file header, when set.
    pub density: Option<f64>,
    /// Colour profile copied from the source; `None` when stripped or absent.
    pub icc_profile: Option<Vec<u8>>,
}

/// Failures while encoding; all are internal, since inputs are already valid canvases.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("jpeg encoding failed")]
    Jpeg(#[from] turbojpeg::Error),
    #[error("{format:?} encoding failed")]
    Image {
        format: OutputFormat,
        #[source]
        source: image::ImageError,
    },
    #[error("webp encoding failed: {0}")]
    WebP(String),
    #[error("cannot encode pictures as {0:?}")]
    Unsupported(OutputFormat),
    #[error("cannot add metadata to the encoded file")]
    Metadata(#[from] img_parts::Error),
}

/// Encodes a single picture.
pub fn encode(image: &RgbaImage, options: &EncodeOptions) -> Result<Bytes, EncodeError> {
    let encoded = match options.format {
        OutputFormat::Jpeg => encode_jpeg(image, options.quality)?,
        OutputFormat::Png => encode_png(image)?,
        OutputFormat::Bmp => encode_bmp(image)?,
        OutputFormat::Gif => encode_gif(&[(image, Duration::ZERO)])?,
        OutputFormat::WebP => encode_webp(image, options.quality)?,
        OutputFormat::Vtt => return Err(EncodeError::Unsupported(OutputFormat::Vtt)),
    };
    metadata::attach(encoded, options)
}

/// Encodes an animation as GIF; each frame carries its display time.
pub fn encode_animation(frames: &[(RgbaImage, Duration)]) -> Result<Bytes, EncodeError> {
    let borrowed: Vec<(&RgbaImage, Duration)> = frames.iter().map(|(i, d)| (i, *d)).collect();
    Ok(Bytes::from(encode_gif(&borrowed)?))
}

fn encode_jpeg(image: &RgbaImage, quality: u8) -> Result<Vec<u8>, EncodeError> {
    let view = turbojpeg::Image {
        pixels: image.as_bytes(),
        width: image.width() as usize,
        pitch: image.width() as usize * 4,
        height: image.height() as usize,
        format: turbojpeg::PixelFormat::RGBA,
    };
    let buffer = turbojpeg::compress(view, i32::from(quality), turbojpeg::Subsamp::Sub2x2)?;
    Ok(buffer.to_vec())
}

/// Drops the alpha channel; callers pass opaque canvases.
fn to_rgb(image: &RgbaImage) -> Vec<u8> {
    image
        .as_bytes()
        .chunks_exact(4)
        .flat_map(|px| [px[0], px[1], px[2]])
        .collect()
}

fn image_error(format: OutputFormat) -> impl Fn(image::ImageError) -> EncodeError {
    move |source| EncodeError::Image { format, source }
}

fn encode_png(image: &RgbaImage) -> Result<Vec<u8>, EncodeError> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};

    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive);
    encoder
        .write_image(
            &to_rgb(image),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(image_error(OutputFormat::Png))?;
    Ok(out)
}

fn encode_bmp(image: &RgbaImage) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    image::codecs::bmp::BmpEncoder::new(&mut out)
        .write_image(
            &to_rgb(image),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(image_error(OutputFormat::Bmp))?;
    Ok(out)
}

/// NeuQuant speed for GIF palettes: 10 is the image crate's suggested balance.
const GIF_QUANTIZER_SPEED: i32 = 10;

fn encode_gif(frames: &[(&RgbaImage, Duration)]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, GIF_QUANTIZER_SPEED);
        if frames.len() > 1 {
            encoder
                .set_repeat(Repeat::Infinite)
                .map_err(image_error(OutputFormat::Gif))?;
        }
        for (image, delay) in frames {
            let buffer = image::RgbaImage::from_raw(
                image.width(),
                image.height(),
                image.as_bytes().to_vec(),
            )
            .expect("frame buffer matches its size");
            let delay = image::Delay::from_saturating_duration(*delay);
            encoder
                .encode_frame(image::Frame::from_parts(buffer, 0, 0, delay))
                .map_err(image_error(OutputFormat::Gif))?;
        }
    }
    Ok(out.into_inner())
}

fn encode_webp(image: &RgbaImage, quality: u8) -> Result<Vec<u8>, EncodeError> {
    let rgb = to_rgb(image);
    let encoder = webp::Encoder::from_rgb(&rgb, image.width(), image.height());
    let memory = encoder
        .encode_simple(false, f32::from(quality))
        .map_err(|error| EncodeError::WebP(format!("{error:?}")))?;
    Ok(memory.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Size;

    fn options(format: OutputFormat) -> EncodeOptions {
        EncodeOptions {
            format,
            quality: 80,
            density: None,
            icc_profile: None,
        }
    }

    #[test]
    fn every_format_decodes_back_to_its_size() {
        let canvas = RgbaImage::filled(Size::new(33, 17), [200, 30, 40, 255]);
        for format in [
            OutputFormat::Jpeg,
            OutputFormat::Png,
            OutputFormat::Bmp,
            OutputFormat::Gif,
            OutputFormat::WebP,
        ] {
            let bytes = encode(&canvas, &options(format)).unwrap();
            let decoded = image::load_from_memory(&bytes).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (33, 17), "{format:?}");
        }
    }

    #[test]
    fn vtt_is_not_a_picture_format() {
        let canvas = RgbaImage::filled(Size::new(2, 2), [0, 0, 0, 255]);
        assert!(encode(&canvas, &options(OutputFormat::Vtt)).is_err());
    }
}
