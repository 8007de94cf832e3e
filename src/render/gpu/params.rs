//! Records shared with `shaders/resize.wgsl`; each mirrors the WGSL struct of the same
//! name, field for field.

use bytemuck::{Pod, Zeroable};

/// Per-tile parameters, read through a uniform binding with a dynamic offset.
/// Must match `TileParams` in `shaders/resize.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct TileParams {
    pub source_offset: u32,
    pub source_width: u32,
    pub source_height: u32,
    pub between_offset: u32,
    pub column_start: u32,
    pub column_count: u32,
    pub scaled_width: u32,
    pub scaled_height: u32,
    pub canvas_offset: u32,
    pub canvas_width: u32,
    pub canvas_height: u32,
    pub dst_x: u32,
    pub dst_y: u32,
    pub column_bounds: u32,
    pub row_bounds: u32,
    pub background: u32,
}

const _: () = assert!(std::mem::size_of::<TileParams>() == 64);

/// Source range and weights of one output column or row.
/// Must match `Bound` in `shaders/resize.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Bound {
    pub start: u32,
    pub count: u32,
    pub weight_offset: u32,
    pub pad: u32,
}

const _: () = assert!(std::mem::size_of::<Bound>() == 16);

/// Per-frame parameters of the YUV conversion, read through a uniform binding with a
/// dynamic offset. Must match `YuvParams` in `shaders/yuv.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct YuvParams {
    pub width: u32,
    pub height: u32,
    pub y_offset: u32,
    pub cb_offset: u32,
    pub cr_offset: u32,
    pub y_stride: u32,
    pub c_stride: u32,
    pub chroma_width: u32,
    pub chroma_height: u32,
    pub full_range: u32,
    pub offset_x: f32,
    pub offset_y: f32,
    pub scale_x: f32,
    pub scale_y: f32,
    pub kr: f32,
    pub kb: f32,
}

const _: () = assert!(std::mem::size_of::<YuvParams>() == 64);
