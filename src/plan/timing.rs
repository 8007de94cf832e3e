//! Capture times: the second of a video that each tile shows.
//!
//! Unlike the Kaltura server, times are exact (no flooring to whole seconds): slice `i`
//! of `n` sits at `start + i * (end - start) / n`.

use crate::plan::request::ThumbnailRequest;

/// The time window that a sprite's slices divide, after the `end_sec` adjustments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SliceWindow {
    pub start: f64,
    pub end: f64,
    pub slices: u32,
}

impl SliceWindow {
    /// Derives the window from the request; `duration` is the media length in seconds.
    pub fn from_request(request: &ThumbnailRequest, duration: f64) -> Option<Self> {
        if request.vid_slices <= 0 {
            return None;
        }
        let (mut start, mut end) = (request.start_sec, request.end_sec);
        if (end != -1.0 && end > duration) || (start != -1.0 && end == -1.0) {
            end = duration;
        }
        if start == -1.0 && end != -1.0 {
            start = 0.0;
        }
        if start == -1.0 || end == -1.0 {
            start = 0.0;
            end = duration;
        }
        Some(Self {
            start,
            end,
            slices: request.vid_slices as u32,
        })
    }

    /// Returns the time of slice `index`.
    pub fn slice_time(&self, index: u32) -> f64 {
        self.start + (self.end - self.start) / f64::from(self.slices) * f64::from(index)
    }

    /// Start and end of slice `index`; the last slice ends at the window's end.
    pub fn slice_span(&self, index: u32) -> (f64, f64) {
        let end = if index + 1 >= self.slices {
            self.end
        } else {
            self.slice_time(index + 1)
        };
        (self.slice_time(index), end)
    }
}

/// Capture times, one per tile, for a video entry.
///
/// `default_offset` is used when the request names no frame. A time at or past the
/// duration is kept; the decoder then returns the last frame.
pub fn capture_times(request: &ThumbnailRequest, duration: f64, default_offset: f64) -> Vec<f64> {
    if request.vid_sec != -1.0 {
        return vec![request.vid_sec.min(duration).max(0.0)];
    }
    if let Some(window) = SliceWindow::from_request(request, duration) {
        if request.vid_slice >= 0 {
            return vec![window.slice_time(request.vid_slice as u32)];
        }
        return (0..window.slices).map(|i| window.slice_time(i)).collect();
    }
    vec![default_offset.min(duration).max(0.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sprite(slices: i64, start: f64, end: f64) -> ThumbnailRequest {
        let mut request = ThumbnailRequest::new(1, "0_test");
        request.vid_slices = slices;
        request.start_sec = start;
        request.end_sec = end;
        request
    }

    #[test]
    fn slices_divide_whole_duration_exactly() {
        let times = capture_times(&sprite(10, -1.0, -1.0), 95.0, 3.0);
        assert_eq!(times.len(), 10);
        assert_eq!(times[1], 9.5);
        assert_eq!(times[9], 85.5);
    }

    #[test]
    fn window_slices_start_at_start_sec() {
        let times = capture_times(&sprite(10, 10.0, 60.0), 120.0, 3.0);
        assert_eq!(times[0], 10.0);
        assert_eq!(times[9], 55.0);
    }

    #[test]
    fn end_past_duration_is_clamped() {
        let window = SliceWindow::from_request(&sprite(4, 0.0, 500.0), 40.0).unwrap();
        assert_eq!(window.end, 40.0);
        assert_eq!(window.slice_span(3), (30.0, 40.0));
    }

    #[test]
    fn start_alone_runs_to_end() {
        let times = capture_times(&sprite(2, 20.0, -1.0), 60.0, 3.0);
        assert_eq!(times, vec![20.0, 40.0]);
    }

    #[test]
    fn single_slice_picks_index() {
        let mut request = sprite(10, -1.0, -1.0);
        request.vid_slice = 3;
        assert_eq!(capture_times(&request, 100.0, 3.0), vec![30.0]);
    }

    #[test]
    fn vid_sec_is_clamped_to_duration() {
        let mut request = ThumbnailRequest::new(1, "0_test");
        request.vid_sec = 500.0;
        assert_eq!(capture_times(&request, 60.0, 3.0), vec![60.0]);
    }

    #[test]
    fn default_offset_applies_without_video_params() {
        let request = ThumbnailRequest::new(1, "0_test");
        assert_eq!(capture_times(&request, 60.0, 3.0), vec![3.0]);
        assert_eq!(capture_times(&request, 2.0, 3.0), vec![2.0]);
    }
}
