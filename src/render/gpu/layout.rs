//! Batch layout: the place of every image of a batch in the shared buffers, and the
//! dispatches that convert and resample them.

use super::batch::GpuJob;
use super::params::{Bound, TileParams, YuvParams};
use super::weights::push_axis;
use crate::frame::{Picture, YuvFrame};
use crate::plan::RenderPlan;
use crate::render::cpu::yuv::YuvConstants;

/// Pixels a job occupies on the device, per buffer kind, and its largest binding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub source_pixels: u64,
    pub between_pixels: u64,
    pub canvas_pixels: u64,
    /// The largest single image or intermediate, which one binding must hold.
    pub largest_binding_pixels: u64,
}

impl Footprint {
    pub fn of(plan: &RenderPlan, sources: &[Picture]) -> Self {
        let source_pixels: u64 = sources.iter().map(|s| s.size().pixels()).sum();
        let plane_bytes: u64 = sources.iter().map(plane_bytes).sum();
        let tiles = plan.tiles.iter().filter(|t| t.src_rect.is_some());
        let betweens: Vec<u64> = tiles
            .map(|t| u64::from(sources[t.source].size().width) * u64::from(t.dst.height))
            .collect();
        let largest_source = sources.iter().map(|s| s.size().pixels()).max().unwrap_or(0);
        let largest_between = betweens.iter().copied().max().unwrap_or(0);
        Self {
            source_pixels: source_pixels + plane_bytes.div_ceil(4),
            between_pixels: betweens.iter().sum(),
            canvas_pixels: plan.canvas.pixels(),
            largest_binding_pixels: largest_source
                .max(largest_between)
                .max(plan.canvas.pixels()),
        }
    }

    pub fn bytes(&self) -> u64 {
        (self.source_pixels + self.between_pixels + 2 * self.canvas_pixels) * 4
    }

    /// True when every image and intermediate fits one binding of `max_binding` bytes.
    pub fn fits(&self, max_binding: u64) -> bool {
        self.largest_binding_pixels * 4 <= max_binding
    }

    pub fn add(&mut self, other: Footprint) {
        self.source_pixels += other.source_pixels;
        self.between_pixels += other.between_pixels;
        self.canvas_pixels += other.canvas_pixels;
        self.largest_binding_pixels = self
            .largest_binding_pixels
            .max(other.largest_binding_pixels);
    }
}

/// Bytes of a picture's YUV planes, or zero for RGBA pictures.
fn plane_bytes(picture: &Picture) -> u64 {
    match picture {
        Picture::Rgba(_) => 0,
        Picture::Yuv(frame) => frame.planes.iter().map(|p| p.len() as u64).sum(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DispatchKind {
    Fill,
    Yuv,
    Horizontal,
    Vertical,
}

/// A byte range of a buffer bound for one dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Range {
    pub offset: u64,
    pub size: u64,
}

/// The source, intermediate and canvas ranges one tile reads and writes. Binding
/// each image on its own keeps every binding under the adapter's binding limit even
/// when the whole batch is larger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ranges {
    pub source: Range,
    pub between: Range,
    pub canvas: Range,
}

#[derive(Clone, Copy, Debug)]
pub struct Dispatch {
    pub kind: DispatchKind,
    pub params_offset: u32,
    pub groups: (u32, u32),
    /// For a YUV dispatch: `source` is the planes range and `canvas` the RGBA output.
    pub ranges: Ranges,
}

/// Placement of every image of a batch in the shared buffers, and the dispatches.
pub struct BatchLayout {
    pub params: Vec<u8>,
    pub bounds: Vec<Bound>,
    pub weights: Vec<f32>,
    pub dispatches: Vec<Dispatch>,
    pub canvas_offsets: Vec<u64>,
    /// Range of each RGBA source of each job in the sources buffer, in job order.
    pub rgba_uploads: Vec<(usize, usize, Range)>,
    /// Ranges of the planes of each YUV source in the planes buffer.
    pub plane_uploads: Vec<(usize, usize, [Range; 3])>,
    pub source_pixels: u64,
    pub plane_words: u64,
    pub between_pixels: u64,
    pub canvas_pixels: u64,
    /// Binding offsets must be multiples of this many pixels.
    alignment_pixels: u64,
}

/// Workgroups of 8 x 8 invocations covering `width` x `height`.
fn groups_8x8(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(8), height.div_ceil(8))
}

/// Workgroups of 64 covering `count` invocations, folded into two dimensions because
/// one dimension takes at most 65535 workgroups.
fn groups_linear(count: u64) -> (u32, u32) {
    let groups = count.div_ceil(64).max(1);
    let x = groups.min(65_535);
    (x as u32, groups.div_ceil(65_535) as u32)
}

impl BatchLayout {
    pub fn build(jobs: &[GpuJob], uniform_stride: u64, offset_alignment: u64) -> Self {
        let mut layout = Self {
            params: Vec::new(),
            bounds: Vec::new(),
            weights: Vec::new(),
            dispatches: Vec::new(),
            canvas_offsets: Vec::with_capacity(jobs.len()),
            rgba_uploads: Vec::new(),
            plane_uploads: Vec::new(),
            source_pixels: 0,
            plane_words: 0,
            between_pixels: 0,
            canvas_pixels: 0,
            alignment_pixels: (offset_alignment / 4).max(1),
        };
        for (index, job) in jobs.iter().enumerate() {
            layout.add_job(index, job, uniform_stride);
        }
        layout
    }

    /// Reserves `pixels` at the end of a buffer whose current length is `*end`, at an
    /// offset that a binding may start at.
    fn reserve(end: &mut u64, pixels: u64, alignment: u64) -> Range {
        let start = end.next_multiple_of(alignment);
        *end = start + pixels;
        Range {
            offset: start * 4,
            size: (pixels * 4).max(16),
        }
    }

    fn push_params<T: bytemuck::Pod>(&mut self, params: T, uniform_stride: u64) -> u32 {
        let offset = self.params.len();
        self.params.extend_from_slice(bytemuck::bytes_of(&params));
        self.params.resize(offset + uniform_stride as usize, 0);
        offset as u32
    }

    fn add_job(&mut self, job_index: usize, job: &GpuJob, uniform_stride: u64) {
        let plan = &job.plan;
        let align = self.alignment_pixels;
        let canvas = Self::reserve(&mut self.canvas_pixels, plan.canvas.pixels(), align);
        self.canvas_offsets.push(canvas.offset / 4);
        let [r, g, b] = plan.background;
        let background = u32::from_le_bytes([r, g, b, 255]);

        let sources: Vec<Range> = job
            .sources
            .iter()
            .map(|source| Self::reserve(&mut self.source_pixels, source.size().pixels(), align))
            .collect();
        // The fill binds only the canvas; the other ranges just need to be valid.
        let placeholder = Range {
            offset: 0,
            size: 16,
        };

        let base = TileParams {
            canvas_width: plan.canvas.width,
            canvas_height: plan.canvas.height,
            background,
            ..TileParams::default()
        };
        let fill_offset = self.push_params(base, uniform_stride);
        self.dispatches.push(Dispatch {
            kind: DispatchKind::Fill,
            params_offset: fill_offset,
            groups: groups_linear(plan.canvas.pixels()),
            ranges: Ranges {
                source: placeholder,
                between: placeholder,
                canvas,
            },
        });

        for (source_index, (picture, range)) in job.sources.iter().zip(&sources).enumerate() {
            match picture {
                Picture::Rgba(_) => self.rgba_uploads.push((job_index, source_index, *range)),
                Picture::Yuv(frame) => {
                    self.add_yuv(job_index, source_index, frame, *range, uniform_stride)
                }
            }
        }

        for tile in &plan.tiles {
            let Some(rect) = tile.src_rect else { continue };
            let source = job.sources[tile.source].size();
            let column_bounds = self.bounds.len() as u32;
            push_axis(
                source.width,
                rect.x,
                rect.x + rect.width,
                tile.dst.width,
                &mut self.bounds,
                &mut self.weights,
            );
            let row_bounds = self.bounds.len() as u32;
            push_axis(
                source.height,
                rect.y,
                rect.y + rect.height,
                tile.dst.height,
                &mut self.bounds,
                &mut self.weights,
            );
            let columns = &self.bounds[column_bounds as usize..row_bounds as usize];
            let column_start = columns.iter().map(|b| b.start).min().unwrap_or(0);
            let column_end = columns.iter().map(|b| b.start + b.count).max().unwrap_or(0);
            let column_count = column_end - column_start;

            let between_pixels = u64::from(column_count) * u64::from(tile.dst.height);
            let between = Self::reserve(&mut self.between_pixels, between_pixels, align);
            let ranges = Ranges {
                source: sources[tile.source],
                between,
                canvas,
            };
            let params = TileParams {
                source_width: source.width,
                source_height: source.height,
                column_start,
                column_count,
                scaled_width: tile.dst.width,
                scaled_height: tile.dst.height,
                dst_x: tile.dst.x,
                dst_y: tile.dst.y,
                column_bounds,
                row_bounds,
                ..base
            };
            let params_offset = self.push_params(params, uniform_stride);
            // Vertical first, as fast_image_resize orders the passes for 8-bit pixels.
            self.dispatches.push(Dispatch {
                kind: DispatchKind::Vertical,
                params_offset,
                groups: groups_8x8(column_count, tile.dst.height),
                ranges,
            });
            self.dispatches.push(Dispatch {
                kind: DispatchKind::Horizontal,
                params_offset,
                groups: groups_8x8(tile.dst.width, tile.dst.height),
                ranges,
            });
        }
    }

    /// Reserves the planes of a YUV source and adds the dispatch that converts them
    /// into the source's RGBA range.
    fn add_yuv(
        &mut self,
        job_index: usize,
        source_index: usize,
        frame: &YuvFrame,
        output: Range,
        uniform_stride: u64,
    ) {
        let words_alignment = self.alignment_pixels;
        let mut reserve_plane = |bytes: usize| {
            let range = Self::reserve(
                &mut self.plane_words,
                (bytes as u64).div_ceil(4),
                words_alignment,
            );
            Range {
                offset: range.offset,
                size: range.size,
            }
        };
        let planes = [
            reserve_plane(frame.planes[0].len()),
            reserve_plane(frame.planes[1].len()),
            reserve_plane(frame.planes[2].len()),
        ];
        self.plane_uploads.push((job_index, source_index, planes));

        // One binding spans the three planes; plane offsets are relative to it.
        let start = planes[0].offset;
        let end = planes[2].offset + planes[2].size;
        let chroma = frame.chroma_size();
        let constants = YuvConstants::of(frame);
        let params = YuvParams {
            width: frame.size.width,
            height: frame.size.height,
            y_offset: 0,
            cb_offset: (planes[1].offset - start) as u32,
            cr_offset: (planes[2].offset - start) as u32,
            y_stride: frame.strides[0] as u32,
            c_stride: frame.strides[1] as u32,
            chroma_width: chroma.width,
            chroma_height: chroma.height,
            full_range: u32::from(constants.full_range),
            offset_x: constants.offset.0,
            offset_y: constants.offset.1,
            scale_x: constants.scale.0,
            scale_y: constants.scale.1,
            kr: constants.kr,
            kb: constants.kb,
        };
        let params_offset = self.push_params(params, uniform_stride);
        let placeholder = Range {
            offset: 0,
            size: 16,
        };
        self.dispatches.push(Dispatch {
            kind: DispatchKind::Yuv,
            params_offset,
            groups: groups_8x8(frame.size.width, frame.size.height),
            ranges: Ranges {
                source: Range {
                    offset: start,
                    size: end - start,
                },
                between: placeholder,
                canvas: output,
            },
        });
    }
}
