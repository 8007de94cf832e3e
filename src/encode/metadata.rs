//! Density and colour-profile metadata added to encoded files.

use bytes::Bytes;
use img_parts::ImageICC;
use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::png::{Png, PngChunk};
use img_parts::webp::WebP;

use super::{EncodeError, EncodeOptions};
use crate::plan::OutputFormat;

/// Adds the density and ICC profile of `options` to an encoded file where the format
/// can carry them; other formats pass through unchanged.
pub fn attach(encoded: Vec<u8>, options: &EncodeOptions) -> Result<Bytes, EncodeError> {
    let encoded = Bytes::from(encoded);
    let icc = options.icc_profile.clone().map(Bytes::from);
    if icc.is_none() && options.density.is_none() {
        return Ok(encoded);
    }

    match options.format {
        OutputFormat::Jpeg => {
            let mut jpeg = Jpeg::from_bytes(encoded)?;
            if let Some(density) = options.density {
                set_jfif_density(&mut jpeg, density);
            }
            jpeg.set_icc_profile(icc);
            Ok(jpeg.encoder().bytes())
        }
        OutputFormat::Png => {
            let mut png = Png::from_bytes(encoded)?;
            if let Some(density) = options.density {
                set_png_density(&mut png, density);
            }
            png.set_icc_profile(icc);
            Ok(png.encoder().bytes())
        }
        OutputFormat::WebP if icc.is_some() => {
            let mut webp = WebP::from_bytes(encoded)?;
            webp.set_icc_profile(icc);
            Ok(webp.encoder().bytes())
        }
        _ => Ok(encoded),
    }
}

/// Rewrites the JFIF header's density fields (units 1 = dots per inch).
fn set_jfif_density(jpeg: &mut Jpeg, density: f64) {
    let dpi = density.round().clamp(1.0, f64::from(u16::MAX)) as u16;
    let segments = jpeg.segments_mut();
    let Some(index) = segments
        .iter()
        .position(|s| s.marker() == markers::APP0 && s.contents().starts_with(b"JFIF\0"))
    else {
        return;
    };

    let mut contents = segments[index].contents().to_vec();
    if contents.len() < 12 {
        return;
    }
    // Layout after "JFIF\0": version (2 bytes), units (1), x density (2), y density (2).
    contents[7] = 1;
    contents[8..10].copy_from_slice(&dpi.to_be_bytes());
    contents[10..12].copy_from_slice(&dpi.to_be_bytes());
    segments[index] = JpegSegment::new_with_contents(markers::APP0, Bytes::from(contents));
}

/// Adds a `pHYs` chunk; PNG stores density in pixels per metre.
fn set_png_density(png: &mut Png, density: f64) {
    let per_metre = (density / 0.0254).round().clamp(1.0, f64::from(u32::MAX)) as u32;
    let mut contents = Vec::with_capacity(9);
    contents.extend_from_slice(&per_metre.to_be_bytes());
    contents.extend_from_slice(&per_metre.to_be_bytes());
    contents.push(1);

    png.remove_chunks_by_type(*b"pHYs");
    // pHYs must come before the image data; right after IHDR is always valid.
    png.chunks_mut()
        .insert(1, PngChunk::new(*b"pHYs", Bytes::from(contents)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encode;
    use crate::frame::{RgbaImage, Size};

    #[test]
    fn jpeg_density_lands_in_jfif_header() {
        let canvas = RgbaImage::filled(Size::new(8, 8), [1, 2, 3, 255]);
        let options = EncodeOptions {
            format: OutputFormat::Jpeg,
            quality: 80,
            density: Some(300.0),
            icc_profile: None,
        };
        let bytes = encode(&canvas, &options).unwrap();
        let jpeg = Jpeg::from_bytes(bytes).unwrap();
        let app0 = jpeg.segment_by_marker(markers::APP0).unwrap();
        assert_eq!(&app0.contents()[7..12], &[1, 1, 44, 1, 44]);
    }

    #[test]
    fn png_density_adds_phys_chunk() {
        let canvas = RgbaImage::filled(Size::new(8, 8), [1, 2, 3, 255]);
        let options = EncodeOptions {
            format: OutputFormat::Png,
            quality: 80,
            density: Some(72.0),
            icc_profile: None,
        };
        let bytes = encode(&canvas, &options).unwrap();
        let png = Png::from_bytes(bytes.clone()).unwrap();
        assert!(png.chunk_by_type(*b"pHYs").is_some());
        assert!(image::load_from_memory(&bytes).is_ok());
    }
}
