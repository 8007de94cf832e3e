//! Still and animated image decoding, with EXIF orientation and JPEG shrink-on-load.
//!
//! JPEG goes through libjpeg-turbo, which can decode at 1/2, 1/4 or 1/8 scale inside
//! the DCT: a 12 MP photo bound for a 320 px thumbnail never exists at full size in
//! memory. Other formats, and CMYK JPEGs, go through the image crate.

use std::io::Cursor;
use std::time::Duration;

use image::{AnimationDecoder, ImageDecoder, ImageFormat, ImageReader};

use super::{SourceError, SourceLimits};
use crate::frame::{Frame, Orientation, RgbaImage, Size};

/// Size, format and orientation read from an image file's header, without decoding pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageHeader {
    pub format: ImageFormat,
    pub stored_size: Size,
    pub orientation: Orientation,
}

/// Decoded pixels of an image, upright.
#[derive(Debug)]
pub struct DecodedImage {
    /// One frame for stills; every frame of an animation when animation was asked for.
    pub frames: Vec<Frame>,
    /// ICC colour profile embedded in the file.
    pub icc_profile: Option<Vec<u8>>,
}

/// Recognises the image formats thumbd decodes.
pub fn guess_format(bytes: &[u8]) -> Option<ImageFormat> {
    let format = image::guess_format(bytes).ok()?;
    matches!(
        format,
        ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::Gif
            | ImageFormat::Bmp
            | ImageFormat::WebP
    )
    .then_some(format)
}

/// Reads size and orientation from the header and checks them against the limits.
pub fn read_header(bytes: &[u8], limits: &SourceLimits) -> Result<ImageHeader, SourceError> {
    let format = guess_format(bytes).ok_or(SourceError::UnsupportedFormat)?;
    let stored_size = match format {
        ImageFormat::Jpeg => {
            let header = turbojpeg::read_header(bytes).map_err(SourceError::Jpeg)?;
            Size::new(header.width as u32, header.height as u32)
        }
        _ => {
            let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
                .into_dimensions()
                .map_err(SourceError::Image)?;
            Size::new(width, height)
        }
    };
    limits.check_pixels(stored_size, 1)?;

    Ok(ImageHeader {
        format,
        stored_size,
        orientation: read_orientation(bytes),
    })
}

/// Reads the EXIF orientation; normal when the file has none or it cannot be read.
fn read_orientation(bytes: &[u8]) -> Orientation {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return Orientation::Normal;
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|field| field.value.get_uint(0))
        .map_or(Orientation::Normal, Orientation::from_exif)
}

/// Decodes an image upright, at no less than `min_displayed` where the format can
/// shrink on load. `animate` keeps every frame of an animated GIF.
pub fn decode(
    bytes: &bytes::Bytes,
    min_displayed: Size,
    animate: bool,
    limits: &SourceLimits,
) -> Result<DecodedImage, SourceError> {
    let header = read_header(bytes, limits)?;
    let icc_profile = read_icc_profile(bytes);

    let mut frames = match header.format {
        ImageFormat::Jpeg => {
            let min_stored = if header.orientation.swaps_axes() {
                min_displayed.transposed()
            } else {
                min_displayed
            };
            vec![Frame::still(decode_jpeg(bytes, min_stored)?)]
        }
        ImageFormat::Gif if animate => decode_gif_frames(bytes, header.stored_size, limits)?,
        format => vec![Frame::still(decode_with_image_crate(
            bytes, format, limits,
        )?)],
    };

    for frame in &mut frames {
        let image = std::mem::replace(&mut frame.image, RgbaImage::filled(Size::new(0, 0), [0; 4]));
        frame.image = header.orientation.apply(image);
    }
    Ok(DecodedImage {
        frames,
        icc_profile,
    })
}

fn read_icc_profile(bytes: &bytes::Bytes) -> Option<Vec<u8>> {
    use img_parts::ImageICC;

    // Cloning `Bytes` shares the buffer: the file is not copied.
    let image = img_parts::DynImage::from_bytes(bytes.clone()).ok()??;
    image.icc_profile().map(|profile| profile.to_vec())
}

/// Picks the smallest DCT scale whose output still covers `min_stored`.
fn jpeg_scale(stored: Size, min_stored: Size) -> turbojpeg::ScalingFactor {
    use turbojpeg::ScalingFactor;

    for factor in [
        ScalingFactor::ONE_EIGHTH,
        ScalingFactor::ONE_QUARTER,
        ScalingFactor::ONE_HALF,
    ] {
        let width = factor.scale(stored.width as usize) as u32;
        let height = factor.scale(stored.height as usize) as u32;
        if width >= min_stored.width && height >= min_stored.height {
            return factor;
        }
    }
    ScalingFactor::ONE
}

fn decode_jpeg(bytes: &[u8], min_stored: Size) -> Result<RgbaImage, SourceError> {
    let mut decompressor = turbojpeg::Decompressor::new().map_err(SourceError::Jpeg)?;
    let header = decompressor.read_header(bytes).map_err(SourceError::Jpeg)?;
    if matches!(
        header.colorspace,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK
    ) {
        // libjpeg-turbo hands CMYK out unconverted; the image crate converts it to RGB.
        return decode_with_image_crate(bytes, ImageFormat::Jpeg, &SourceLimits::unbounded());
    }

    let stored = Size::new(header.width as u32, header.height as u32);
    let factor = jpeg_scale(stored, min_stored);
    decompressor
        .set_scaling_factor(factor)
        .map_err(SourceError::Jpeg)?;
    let scaled = header.scaled(factor);

    let mut pixels = vec![0u8; scaled.width * scaled.height * 4];
    let output = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: scaled.width,
        pitch: scaled.width * 4,
        height: scaled.height,
        format: turbojpeg::PixelFormat::RGBA,
    };
    decompressor
        .decompress(bytes, output)
        .map_err(SourceError::Jpeg)?;

    let size = Size::new(scaled.width as u32, scaled.height as u32);
    Ok(RgbaImage::from_vec(size, pixels).expect("buffer sized for the scaled image"))
}

fn decode_with_image_crate(
    bytes: &[u8],
    format: ImageFormat,
    limits: &SourceLimits,
) -> Result<RgbaImage, SourceError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.image_crate_limits());
    let decoded = reader.decode().map_err(SourceError::Image)?.into_rgba8();

    let size = Size::new(decoded.width(), decoded.height());
    Ok(RgbaImage::from_vec(size, decoded.into_raw()).expect("image crate buffer matches size"))
}

fn decode_gif_frames(
    bytes: &[u8],
    stored: Size,
    limits: &SourceLimits,
) -> Result<Vec<Frame>, SourceError> {
    let mut decoder =
        image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(SourceError::Image)?;
    decoder
        .set_limits(limits.image_crate_limits())
        .map_err(SourceError::Image)?;

    let mut frames = Vec::new();
    for frame in decoder.into_frames() {
        let frame = frame.map_err(SourceError::Image)?;
        limits.check_pixels(stored, frames.len() as u64 + 1)?;

        let (numerator, denominator) = frame.delay().numer_denom_ms();
        let delay = Duration::from_millis(u64::from(numerator / denominator.max(1)));
        let buffer = frame.into_buffer();
        let size = Size::new(buffer.width(), buffer.height());
        let image = RgbaImage::from_vec(size, buffer.into_raw()).expect("frame matches its size");
        frames.push(Frame { image, delay });
    }
    if frames.is_empty() {
        return Err(SourceError::NoFrames);
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_scale_keeps_at_least_target() {
        let stored = Size::new(4000, 3000);
        let factor = jpeg_scale(stored, Size::new(320, 240));
        assert_eq!(factor, turbojpeg::ScalingFactor::ONE_EIGHTH);
        let factor = jpeg_scale(stored, Size::new(1000, 750));
        assert_eq!(factor, turbojpeg::ScalingFactor::ONE_QUARTER);
        let factor = jpeg_scale(stored, Size::new(3000, 100));
        assert_eq!(factor, turbojpeg::ScalingFactor::ONE);
    }

    #[test]
    fn header_rejects_unknown_bytes() {
        let error = read_header(b"not an image", &SourceLimits::default()).unwrap_err();
        assert!(matches!(error, SourceError::UnsupportedFormat));
    }
}
