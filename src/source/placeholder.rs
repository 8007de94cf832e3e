//! The picture shown for audio entries that have no thumbnail of their own.
//!
//! It is drawn in code (a waveform on a dark background) so that no binary asset of
//! unclear licence ships with the service.

use crate::frame::{RgbaImage, Size};

/// Size of the audio placeholder, a 4:3 frame like the classic player thumbnail.
pub const AUDIO_PLACEHOLDER_SIZE: Size = Size::new(480, 360);

/// Draws the audio placeholder.
pub fn audio_placeholder() -> RgbaImage {
    let Size { width, height } = AUDIO_PLACEHOLDER_SIZE;
    let mut image = RgbaImage::filled(AUDIO_PLACEHOLDER_SIZE, [38, 42, 51, 255]);
    let bar_width = 12;
    let gap = 6;
    let bars = (width - 2 * 48) / (bar_width + gap);
    let centre = height / 2;

    for bar in 0..bars {
        // A fixed, smooth envelope: tall in the middle, short at the ends.
        let phase = bar as f64 / bars as f64 * std::f64::consts::PI;
        let wobble = ((bar * 7919) % 13) as f64 / 13.0;
        let half = (phase.sin() * (0.55 + 0.45 * wobble) * 110.0) as u32 + 4;
        let x0 = 48 + bar * (bar_width + gap);
        for y in centre - half..centre + half {
            for x in x0..x0 + bar_width {
                let offset = ((y * width + x) * 4) as usize;
                image.as_bytes_mut()[offset..offset + 4].copy_from_slice(&[86, 180, 233, 255]);
            }
        }
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_has_background_and_bars() {
        let image = audio_placeholder();
        assert_eq!(image.size(), AUDIO_PLACEHOLDER_SIZE);
        assert_eq!(image.pixel(0, 0), [38, 42, 51, 255]);
        assert_eq!(image.pixel(235, 180), [86, 180, 233, 255]);
    }
}
