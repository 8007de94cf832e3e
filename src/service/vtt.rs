//! WebVTT storyboards: one cue per sprite slice, pointing into the sprite image.

use std::fmt::Write;

use crate::plan::{RenderPlan, SliceWindow};

/// Builds the storyboard for the sprite at `sprite_path` (the request path with
/// `format/vtt` replaced by the image format).
pub fn storyboard(sprite_path: &str, plan: &RenderPlan, window: &SliceWindow) -> String {
    let tile_width = plan.canvas.width / window.slices.max(1);
    let tile_height = plan.canvas.height;
    let mut text = String::from("WEBVTT\n");
    for index in 0..window.slices {
        let (start, end) = window.slice_span(index);
        let _ = write!(
            text,
            "\n{} --> {}\n{sprite_path}#xywh={},0,{tile_width},{tile_height}\n",
            timestamp(start),
            timestamp(end),
            index * tile_width,
        );
    }
    text
}

/// Replaces the `format/vtt` pair of a path with `format/{extension}`.
pub fn sprite_path(path: &str, extension: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = Vec::with_capacity(segments.len());
    let mut previous_is_format = false;
    for segment in segments {
        if previous_is_format && segment.eq_ignore_ascii_case("vtt") {
            out.push(extension);
        } else {
            out.push(segment);
        }
        previous_is_format = segment == "format";
    }
    out.join("/")
}

/// `HH:MM:SS.mmm`, as WebVTT requires.
fn timestamp(seconds: f64) -> String {
    let millis = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Size;

    #[test]
    fn cues_cover_window_with_tile_offsets() {
        let plan = RenderPlan {
            canvas: Size::new(480, 90),
            background: [0, 0, 0],
            sources: vec![],
            tiles: vec![],
        };
        let window = SliceWindow {
            start: 0.0,
            end: 75.5,
            slices: 3,
        };
        let text = storyboard("/p/1/thumbnail/entry_id/e/format/jpg", &plan, &window);
        let expected = "WEBVTT\n\n00:00:00.000 --> 00:00:25.167\n/p/1/thumbnail/entry_id/e/format/jpg#xywh=0,0,160,90\n\n\
00:00:25.167 --> 00:00:50.333\n/p/1/thumbnail/entry_id/e/format/jpg#xywh=160,0,160,90\n\n\
00:00:50.333 --> 00:01:15.500\n/p/1/thumbnail/entry_id/e/format/jpg#xywh=320,0,160,90\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn sprite_path_swaps_format() {
        assert_eq!(
            sprite_path("/p/1/thumbnail/entry_id/e/vid_slices/3/format/vtt", "jpg"),
            "/p/1/thumbnail/entry_id/e/vid_slices/3/format/jpg"
        );
    }
}
