// Separable resampling of one plan tile, and the canvas fill before it.
//
// CPU twin: src/render/cpu/resize.rs (fast_image_resize) plus
// src/render/cpu/composite.rs. The filter weights are computed on the CPU by
// src/render/gpu/weights.rs with the same Lanczos3 kernel and bounds as
// fast_image_resize, so both backends sample the same source pixels.
//
// Pixels are RGBA8 packed in a u32 (red in the low byte), in storage buffers that
// hold every image of a batch; `TileParams` gives each image's offset in pixels.
//
// The passes run in fast_image_resize's order for 8-bit pixels: vertical first (into
// premultiplied 8-bit columns), then horizontal, with the same roundings, so that the
// two backends differ by at most a unit or two.
//
// Bindings (group 0), in binding order:
//   0  uniform  TileParams (dynamic offset, one record per tile)
//   1  storage  sources: straight-alpha source pixels, read
//   2  storage  between: premultiplied pixels after the vertical pass, read-write
//   3  storage  canvas: output pixels, read-write
//   4  storage  bounds: per output column, then per output row (start, count, weight offset)
//   5  storage  weights: normalised filter weights, f32

// Must match `TileParams` in src/render/gpu/params.rs.
struct TileParams {
    source_offset: u32,
    source_width: u32,
    source_height: u32,
    between_offset: u32,
    // Source columns that the vertical pass produces: [column_start, column_start + column_count).
    column_start: u32,
    column_count: u32,
    scaled_width: u32,
    scaled_height: u32,
    canvas_offset: u32,
    canvas_width: u32,
    canvas_height: u32,
    dst_x: u32,
    dst_y: u32,
    // Index of the first column bound, then of the first row bound, in `bounds`.
    column_bounds: u32,
    row_bounds: u32,
    // Background as packed RGBA8 (alpha 255).
    background: u32,
}

// Must match `Bound` in src/render/gpu/params.rs.
struct Bound {
    start: u32,
    count: u32,
    weight_offset: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> tile: TileParams;
@group(0) @binding(1) var<storage, read> sources: array<u32>;
@group(0) @binding(2) var<storage, read_write> between: array<u32>;
@group(0) @binding(3) var<storage, read_write> canvas: array<u32>;
@group(0) @binding(4) var<storage, read> bounds: array<Bound>;
@group(0) @binding(5) var<storage, read> weights: array<f32>;

fn unpack(packed: u32) -> vec4<f32> {
    return round(unpack4x8unorm(packed) * 255.0);
}

fn pack(rgba: vec4<f32>) -> u32 {
    return pack4x8unorm(clamp(round(rgba), vec4<f32>(0.0), vec4<f32>(255.0)) / 255.0);
}

// Straight RGBA8 to premultiplied RGBA8, rounded as fast_image_resize rounds it.
fn premultiplied(packed: u32) -> vec4<f32> {
    let rgba = unpack(packed);
    return vec4<f32>(round(rgba.rgb * rgba.a / 255.0), rgba.a);
}

// Fills the whole canvas with the background colour.
@compute @workgroup_size(64)
fn fill(@builtin(global_invocation_id) id: vec3<u32>) {
    let index = id.x + id.y * 65535u * 64u;
    if index >= tile.canvas_width * tile.canvas_height {
        return;
    }
    canvas[tile.canvas_offset + index] = tile.background;
}

// Vertical pass: for the source columns the horizontal pass needs, `scaled_height`
// premultiplied rows.
@compute @workgroup_size(8, 8)
fn resize_v(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= tile.column_count || id.y >= tile.scaled_height {
        return;
    }
    let bound = bounds[tile.row_bounds + id.y];
    let column = tile.source_offset + tile.column_start + id.x;

    var sum = vec4<f32>(0.0);
    for (var k = 0u; k < bound.count; k++) {
        let weight = weights[bound.weight_offset + k];
        sum += premultiplied(sources[column + (bound.start + k) * tile.source_width]) * weight;
    }
    between[tile.between_offset + id.y * tile.column_count + id.x] = pack(sum);
}

// Horizontal pass: to the tile's place on the canvas. Alpha is divided out as
// fast_image_resize does, then the pixel is blended over the background, so that the
// canvas is opaque.
@compute @workgroup_size(8, 8)
fn resize_h(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= tile.scaled_width || id.y >= tile.scaled_height {
        return;
    }
    let bound = bounds[tile.column_bounds + id.x];
    let row = tile.between_offset + id.y * tile.column_count + bound.start - tile.column_start;

    var sum = vec4<f32>(0.0);
    for (var k = 0u; k < bound.count; k++) {
        sum += unpack(between[row + k]) * weights[bound.weight_offset + k];
    }
    let colour = clamp(round(sum), vec4<f32>(0.0), vec4<f32>(255.0));
    let alpha = colour.a;
    var straight = vec3<f32>(0.0);
    if alpha > 0.0 {
        straight = min(round(colour.rgb * 255.0 / alpha), vec3<f32>(255.0));
    }
    let background = unpack(tile.background).rgb;
    let blended = floor((straight * alpha + background * (255.0 - alpha) + 127.0) / 255.0);
    let out_index = tile.canvas_offset + (tile.dst_y + id.y) * tile.canvas_width + tile.dst_x + id.x;
    canvas[out_index] = pack(vec4<f32>(blended, 255.0));
}
