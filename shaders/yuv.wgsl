// YUV planes to RGBA pixels, one frame per dispatch, so that decoded video frames are
// uploaded as the decoder produced them.
//
// CPU twin: src/render/cpu/yuv.rs (same sampling positions, formulas and rounding).
// Chroma is sampled bilinearly at each luma pixel's position:
//   chroma coordinate = (luma coordinate - offset) * scale, per axis,
// where offset and scale follow the stream's subsampling and chroma siting.
//
// Bindings (group 0), in binding order:
//   0  uniform  YuvParams (dynamic offset, one record per frame)
//   1  storage  planes: Y, Cb and Cr bytes packed four to a u32, read
//   2  storage  rgba: the frame's pixels in the batch's sources buffer, read-write

// Must match `YuvParams` in src/render/gpu/params.rs.
struct YuvParams {
    width: u32,
    height: u32,
    // Byte offsets of the three planes inside the `planes` binding.
    y_offset: u32,
    cb_offset: u32,
    cr_offset: u32,
    y_stride: u32,
    c_stride: u32,
    chroma_width: u32,
    chroma_height: u32,
    full_range: u32,
    offset_x: f32,
    offset_y: f32,
    scale_x: f32,
    scale_y: f32,
    kr: f32,
    kb: f32,
}

@group(0) @binding(0) var<uniform> frame: YuvParams;
@group(0) @binding(1) var<storage, read> planes: array<u32>;
@group(0) @binding(2) var<storage, read_write> rgba: array<u32>;

fn byte_at(offset: u32) -> f32 {
    let word = planes[offset / 4u];
    return f32((word >> ((offset % 4u) * 8u)) & 0xffu);
}

// Bilinear sample of a chroma plane, clamped to its edges.
fn chroma(plane: u32, x: f32, y: f32) -> f32 {
    let max_x = f32(frame.chroma_width) - 1.0;
    let max_y = f32(frame.chroma_height) - 1.0;
    let cx = clamp(x, 0.0, max_x);
    let cy = clamp(y, 0.0, max_y);
    let x0 = floor(cx);
    let y0 = floor(cy);
    let x1 = min(x0 + 1.0, max_x);
    let y1 = min(y0 + 1.0, max_y);
    let fx = cx - x0;
    let fy = cy - y0;
    let row0 = plane + u32(y0) * frame.c_stride;
    let row1 = plane + u32(y1) * frame.c_stride;
    let top = byte_at(row0 + u32(x0)) + (byte_at(row0 + u32(x1)) - byte_at(row0 + u32(x0))) * fx;
    let bottom = byte_at(row1 + u32(x0)) + (byte_at(row1 + u32(x1)) - byte_at(row1 + u32(x0))) * fx;
    return top + (bottom - top) * fy;
}

@compute @workgroup_size(8, 8)
fn yuv_to_rgba(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= frame.width || id.y >= frame.height {
        return;
    }
    let cx = (f32(id.x) - frame.offset_x) * frame.scale_x;
    let cy = (f32(id.y) - frame.offset_y) * frame.scale_y;
    var luma = byte_at(frame.y_offset + id.y * frame.y_stride + id.x);
    var cb = chroma(frame.cb_offset, cx, cy) - 128.0;
    var cr = chroma(frame.cr_offset, cx, cy) - 128.0;
    if frame.full_range == 0u {
        luma = (luma - 16.0) * (255.0 / 219.0);
        cb = cb * (255.0 / 224.0);
        cr = cr * (255.0 / 224.0);
    }
    let kg = 1.0 - frame.kr - frame.kb;
    let r = luma + 2.0 * (1.0 - frame.kr) * cr;
    let b = luma + 2.0 * (1.0 - frame.kb) * cb;
    let g = luma - (2.0 * frame.kb * (1.0 - frame.kb) * cb + 2.0 * frame.kr * (1.0 - frame.kr) * cr) / kg;
    let rgb = clamp(floor(vec3<f32>(r, g, b) + 0.5), vec3<f32>(0.0), vec3<f32>(255.0));
    rgba[id.y * frame.width + id.x] = pack4x8unorm(vec4<f32>(rgb / 255.0, 1.0));
}
