//! Places a resampled tile on the canvas over the background colour.

use crate::frame::RgbaImage;
use crate::plan::PixelRect;

/// Blends `tile` over `background` and writes it into `canvas` at `dst`.
///
/// The result is opaque: a transparent source pixel takes the background colour, which
/// is how the thumbnail API fills transparency for every resize type.
pub fn draw_over(canvas: &mut RgbaImage, tile: &RgbaImage, dst: PixelRect, background: [u8; 3]) {
    let canvas_width = canvas.width() as usize;
    let tile_width = tile.width() as usize;
    let pixels = canvas.as_bytes_mut();

    for row in 0..dst.height as usize {
        let src_row = &tile.as_bytes()[row * tile_width * 4..(row + 1) * tile_width * 4];
        let start = ((dst.y as usize + row) * canvas_width + dst.x as usize) * 4;
        let dst_row = &mut pixels[start..start + tile_width * 4];

        for (out, px) in dst_row.chunks_exact_mut(4).zip(src_row.chunks_exact(4)) {
            let alpha = u32::from(px[3]);
            for channel in 0..3 {
                let blended =
                    u32::from(px[channel]) * alpha + u32::from(background[channel]) * (255 - alpha);
                out[channel] = ((blended + 127) / 255) as u8;
            }
            out[3] = 255;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Size;

    #[test]
    fn transparent_pixels_take_background() {
        let mut canvas = RgbaImage::filled(Size::new(2, 1), [0, 0, 0, 255]);
        let tile =
            RgbaImage::from_vec(Size::new(2, 1), vec![10, 20, 30, 0, 200, 100, 50, 255]).unwrap();
        let dst = PixelRect {
            x: 0,
            y: 0,
            width: 2,
            height: 1,
        };
        draw_over(&mut canvas, &tile, dst, [255, 0, 255]);
        assert_eq!(canvas.pixel(0, 0), [255, 0, 255, 255]);
        assert_eq!(canvas.pixel(1, 0), [200, 100, 50, 255]);
    }
}
