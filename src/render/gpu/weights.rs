//! Resampling weights for the GPU passes, computed exactly as fast_image_resize
//! computes its convolution coefficients, so both backends read the same pixels.
//!
//! Lanczos3: `sinc(x) * sinc(x / 3)` on (-3, 3), its support widened by the downscale
//! ratio. Bounds may reach outside the crop rectangle but never outside the image.

use std::f64::consts::PI;

use super::params::Bound;

/// Support of the Lanczos3 kernel in source pixels at scale 1.
const SUPPORT: f64 = 3.0;

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * PI;
        x.sin() / x
    }
}

fn lanczos3(x: f64) -> f64 {
    if (-SUPPORT..SUPPORT).contains(&x) {
        sinc(x) * sinc(x / SUPPORT)
    } else {
        0.0
    }
}

/// Appends one bound per output pixel of an axis to `bounds` and their weights to
/// `weights`. The source axis has `in_size` pixels; `[in0, in1)` is the crop on it.
pub fn push_axis(
    in_size: u32,
    in0: f64,
    in1: f64,
    out_size: u32,
    bounds: &mut Vec<Bound>,
    weights: &mut Vec<f32>,
) {
    let scale = (in1 - in0) / f64::from(out_size);
    let filter_scale = scale.max(1.0);
    let radius = SUPPORT * filter_scale;

    for out in 0..out_size {
        let in_center = in0 + (f64::from(out) + 0.5) * scale;
        let x_min = (in_center - radius).floor().max(0.0) as u32;
        let x_max = (in_center + radius).ceil().min(f64::from(in_size)) as u32;
        let center = in_center - 0.5;

        let mut taps: Vec<(u32, f64)> = (x_min..x_max)
            .map(|x| (x, lanczos3((f64::from(x) - center) / filter_scale)))
            .collect();
        // Zero weights at either end only widen the loop. Lanczos is zero at whole
        // pixel offsets, where sin(k * pi) comes out near 1e-16 instead of 0.
        let negligible = |w: f64| w.abs() < 1e-9;
        while taps.first().is_some_and(|(_, w)| negligible(*w)) {
            taps.remove(0);
        }
        while taps.last().is_some_and(|(_, w)| negligible(*w)) {
            taps.pop();
        }
        if taps.is_empty() {
            // A degenerate range still needs one tap: take the nearest pixel.
            let nearest = (center.round().max(0.0) as u32).min(in_size.saturating_sub(1));
            taps.push((nearest, 1.0));
        }

        let sum: f64 = taps.iter().map(|(_, w)| w).sum();
        let norm = if sum != 0.0 { sum } else { 1.0 };
        bounds.push(Bound {
            start: taps[0].0,
            count: taps.len() as u32,
            weight_offset: weights.len() as u32,
            pad: 0,
        });
        weights.extend(taps.iter().map(|(_, w)| (*w / norm) as f32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_normalised_and_inside_image() {
        let mut bounds = Vec::new();
        let mut weights = Vec::new();
        push_axis(1000, 100.0, 900.0, 37, &mut bounds, &mut weights);
        assert_eq!(bounds.len(), 37);
        for bound in &bounds {
            assert!(bound.start + bound.count <= 1000);
            let start = bound.weight_offset as usize;
            let sum: f32 = weights[start..start + bound.count as usize].iter().sum();
            assert!((sum - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn identity_scale_is_one_tap() {
        let mut bounds = Vec::new();
        let mut weights = Vec::new();
        push_axis(10, 0.0, 10.0, 10, &mut bounds, &mut weights);
        assert!(bounds.iter().all(|b| b.count == 1));
        assert_eq!(bounds[3].start, 3);
    }
}
