//! Render plans: what to cut from which source picture and where to put it.
//!
//! Planning is pure. It reads only the request and facts stored at ingest (displayed
//! size, duration), so every formula of the thumbnail API is testable without pixels,
//! and the CPU and GPU backends execute the same plan.

pub mod geometry;
pub mod request;
pub mod timing;

use crate::frame::Size;
pub use geometry::{BoxRequest, Gravity, RectF, TileGeometry};
pub use request::{CropType, OutputFormat, ThumbnailRequest};
pub use timing::SliceWindow;

/// The widest (or tallest) sprite the API allows, exclusive, in pixels.
pub const MAX_SPRITE_SIDE: u64 = 65_500;

/// Facts about an entry's media that the planner uses, read without decoding it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SourceFacts {
    /// A still picture (image entry or placeholder) of this displayed size.
    Still { size: Size },
    /// A video of this displayed size (rotation applied) and duration in seconds.
    Video { size: Size, duration: f64 },
}

impl SourceFacts {
    pub fn size(&self) -> Size {
        match *self {
            Self::Still { size } | Self::Video { size, .. } => size,
        }
    }
}

/// Limits and defaults that shape planning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanSettings {
    pub max_output_pixels: u64,
    /// Second captured from a video when the request names none.
    pub default_offset: f64,
}

/// One picture the renderer needs: its expected displayed size, and for video the time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannedSource {
    pub size: Size,
    pub time: Option<f64>,
}

/// An integer rectangle in the output canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// One resampling job: `src_rect` of source `source` goes to `dst` in the canvas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannedTile {
    pub source: usize,
    /// `None` when the tile shows only background.
    pub src_rect: Option<RectF>,
    pub dst: PixelRect,
}

/// A complete description of one output picture.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderPlan {
    pub canvas: Size,
    /// Colour of padding and of transparent source pixels.
    pub background: [u8; 3],
    pub sources: Vec<PlannedSource>,
    pub tiles: Vec<PlannedTile>,
}

/// Reasons a request cannot be planned; all are the caller's fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error("output of {width}x{height} pixels exceeds the limit of {max} pixels")]
    OutputTooLarge { width: u64, height: u64, max: u64 },
}

/// Builds the plan for a request on a source described by `facts`.
pub fn plan_thumbnail(
    request: &ThumbnailRequest,
    facts: &SourceFacts,
    settings: &PlanSettings,
) -> Result<RenderPlan, PlanError> {
    let displayed = facts.size();
    let box_request = box_request(request, displayed);

    let sources = planned_sources(request, facts, settings);
    let tile = geometry::tile_geometry(&box_request, displayed);
    let tile_count = if request.is_sprite() {
        request.vid_slices as u32
    } else {
        1
    };

    let canvas_width = u64::from(tile.tile.width) * u64::from(tile_count);
    let canvas_height = u64::from(tile.tile.height);
    if canvas_width * canvas_height > settings.max_output_pixels
        || canvas_width > u64::from(u32::MAX)
    {
        return Err(PlanError::OutputTooLarge {
            width: canvas_width,
            height: canvas_height,
            max: settings.max_output_pixels,
        });
    }

    let tiles = (0..tile_count)
        .map(|index| PlannedTile {
            source: source_for_tile(index as usize, &sources),
            src_rect: tile.src_rect,
            dst: PixelRect {
                x: index * tile.tile.width + tile.offset.0,
                y: tile.offset.1,
                width: tile.scaled.width,
                height: tile.scaled.height,
            },
        })
        .collect();

    Ok(RenderPlan {
        canvas: Size::new(canvas_width as u32, canvas_height as u32),
        background: request.background_rgb(),
        sources: sources.into_iter().map(|(source, _)| source).collect(),
        tiles,
    })
}

/// Builds the geometry inputs: box size after the sprite width cap, source crop after
/// `rel_width`/`rel_height` scaling.
fn box_request(request: &ThumbnailRequest, displayed: Size) -> BoxRequest {
    let mut width = request.width;
    if request.width == 0 && request.height == 0 && request.vid_slices > 0 {
        let cap = (MAX_SPRITE_SIDE / request.vid_slices as u64) as u32;
        if displayed.width > cap {
            width = cap;
        }
    }

    let [mut x, mut y, mut w, mut h] = [request.src_x, request.src_y, request.src_w, request.src_h];
    if request.rel_width != -1.0 && request.rel_width != 0.0 {
        let k = f64::from(displayed.width) / request.rel_width;
        x *= k;
        w *= k;
    }
    if request.rel_height != -1.0 && request.rel_height != 0.0 {
        let k = f64::from(displayed.height) / request.rel_height;
        y *= k;
        h *= k;
    }

    // From the URL, src_x/src_y are only ever >= 0, so type 6 places by them like this.
    let gravity = request.gravity.unwrap_or(Gravity {
        x: i8::from(request.src_x > 0.0),
        y: i8::from(request.src_y > 0.0),
    });
    BoxRequest {
        width,
        height: request.height,
        crop_type: request.crop_type,
        src_crop: [x, y, w, h],
        gravity,
    }
}

/// Distinct source pictures, each with the index of the first tile that uses it.
fn planned_sources(
    request: &ThumbnailRequest,
    facts: &SourceFacts,
    settings: &PlanSettings,
) -> Vec<(PlannedSource, usize)> {
    match *facts {
        SourceFacts::Still { size } => vec![(PlannedSource { size, time: None }, 0)],
        SourceFacts::Video { size, duration } => {
            let times = timing::capture_times(request, duration, settings.default_offset);
            let mut sources: Vec<(PlannedSource, usize)> = Vec::new();
            for (tile, time) in times.into_iter().enumerate() {
                if sources.last().is_some_and(|(s, _)| s.time == Some(time)) {
                    continue;
                }
                let source = PlannedSource {
                    size,
                    time: Some(time),
                };
                sources.push((source, tile));
            }
            sources
        }
    }
}

/// Finds the source whose first tile is the last one at or before `tile`.
fn source_for_tile(tile: usize, sources: &[(PlannedSource, usize)]) -> usize {
    sources
        .iter()
        .rposition(|(_, first)| *first <= tile)
        .unwrap_or(0)
}

impl RenderPlan {
    /// Returns the smallest decoded size of source `index` that still gives every tile at
    /// least as many source pixels as output pixels. Shrink-on-load decodes no smaller.
    pub fn min_decode_size(&self, index: usize) -> Size {
        let planned = self.sources[index].size;
        let mut factor: f64 = 0.0;
        for tile in self.tiles.iter().filter(|t| t.source == index) {
            let Some(rect) = tile.src_rect else { continue };
            factor = factor
                .max(f64::from(tile.dst.width) / rect.width)
                .max(f64::from(tile.dst.height) / rect.height);
        }
        let factor = factor.min(1.0);
        Size::new(
            (f64::from(planned.width) * factor).ceil() as u32,
            (f64::from(planned.height) * factor).ceil() as u32,
        )
    }

    /// Rescales the source rectangles of source `index` to a picture decoded at `actual`
    /// size instead of the planned one (shrink-on-load, or a frame of another size).
    pub fn adapt_source(&mut self, index: usize, actual: Size) {
        let planned = self.sources[index].size;
        if planned == actual {
            return;
        }
        let fx = f64::from(actual.width) / f64::from(planned.width);
        let fy = f64::from(actual.height) / f64::from(planned.height);
        for tile in self.tiles.iter_mut().filter(|t| t.source == index) {
            tile.src_rect = tile.src_rect.map(|rect| rect.scaled(fx, fy));
        }
        self.sources[index].size = actual;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: PlanSettings = PlanSettings {
        max_output_pixels: 100_000_000,
        default_offset: 3.0,
    };

    fn video() -> SourceFacts {
        SourceFacts::Video {
            size: Size::new(1280, 720),
            duration: 60.0,
        }
    }

    #[test]
    fn sprite_tiles_sit_side_by_side() {
        let mut request = ThumbnailRequest::new(1, "0_a");
        request.width = 160;
        request.height = 90;
        request.vid_slices = 10;
        let plan = plan_thumbnail(&request, &video(), &SETTINGS).unwrap();
        assert_eq!(plan.canvas, Size::new(1600, 90));
        assert_eq!(plan.tiles.len(), 10);
        assert_eq!(plan.sources.len(), 10);
        assert_eq!(plan.tiles[3].dst.x, 480);
        assert_eq!(plan.sources[3].time, Some(18.0));
    }

    #[test]
    fn image_sprite_reuses_one_source() {
        let mut request = ThumbnailRequest::new(1, "0_a");
        request.vid_slices = 4;
        let facts = SourceFacts::Still {
            size: Size::new(400, 300),
        };
        let plan = plan_thumbnail(&request, &facts, &SETTINGS).unwrap();
        assert_eq!(plan.sources.len(), 1);
        assert!(plan.tiles.iter().all(|t| t.source == 0));
        assert_eq!(plan.canvas, Size::new(480, 90));
    }

    #[test]
    fn output_limit_is_enforced() {
        let mut request = ThumbnailRequest::new(1, "0_a");
        request.width = 10000;
        request.height = 10000;
        request.crop_type = CropType::ResizeWithForce;
        let settings = PlanSettings {
            max_output_pixels: 1_000_000,
            ..SETTINGS
        };
        let error = plan_thumbnail(&request, &video(), &settings).unwrap_err();
        assert!(matches!(error, PlanError::OutputTooLarge { .. }));
    }

    #[test]
    fn rel_width_rescales_source_crop() {
        let mut request = ThumbnailRequest::new(1, "0_a");
        request.width = 0;
        request.height = 0;
        request.src_x = 10.0;
        request.src_w = 64.0;
        request.rel_width = 128.0;
        let plan = plan_thumbnail(&request, &video(), &SETTINGS).unwrap();
        let rect = plan.tiles[0].src_rect.unwrap();
        assert_eq!((rect.x, rect.width), (100.0, 640.0));
        assert_eq!(plan.canvas, Size::new(640, 720));
    }

    #[test]
    fn sprite_without_size_caps_width() {
        let mut request = ThumbnailRequest::new(1, "0_a");
        request.width = 0;
        request.height = 0;
        request.vid_slices = 100;
        let plan = plan_thumbnail(&request, &video(), &SETTINGS).unwrap();
        assert_eq!(plan.canvas.width, 655 * 100);
    }

    #[test]
    fn min_decode_size_follows_downscale() {
        let mut request = ThumbnailRequest::new(1, "0_a");
        request.width = 160;
        request.height = 90;
        let facts = SourceFacts::Still {
            size: Size::new(1600, 900),
        };
        let plan = plan_thumbnail(&request, &facts, &SETTINGS).unwrap();
        assert_eq!(plan.min_decode_size(0), Size::new(160, 90));
    }

    #[test]
    fn adapt_source_scales_rects() {
        let mut request = ThumbnailRequest::new(1, "0_a");
        request.src_x = 100.0;
        request.src_w = 200.0;
        let facts = SourceFacts::Still {
            size: Size::new(800, 600),
        };
        let mut plan = plan_thumbnail(&request, &facts, &SETTINGS).unwrap();
        plan.adapt_source(0, Size::new(400, 300));
        let rect = plan.tiles[0].src_rect.unwrap();
        assert_eq!((rect.x, rect.width), (50.0, 100.0));
    }
}
