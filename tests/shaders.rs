//! Every WGSL shader parses and validates with naga, and its bindings and shared
//! structs match the Rust side byte for byte.

use std::mem::{offset_of, size_of};

use thumbd::render::gpu::params::{Bound, TileParams, YuvParams};
use thumbd::render::gpu::{
    RESIZE_SHADER, YUV_SHADER, bind_group_layout_entries, yuv_bind_group_layout_entries,
};

fn module() -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(RESIZE_SHADER).expect("resize.wgsl parses");
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default(),
    )
    .validate(&module)
    .expect("resize.wgsl validates");
    (module, info)
}

/// Member names and byte offsets of a WGSL struct.
fn wgsl_struct(module: &naga::Module, name: &str) -> (Vec<(String, u32)>, u32) {
    let ty = module
        .types
        .iter()
        .find(|(_, ty)| ty.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("struct {name} not in resize.wgsl"))
        .1;
    match &ty.inner {
        naga::TypeInner::Struct { members, span } => (
            members
                .iter()
                .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
                .collect(),
            *span,
        ),
        other => panic!("{name} is not a struct: {other:?}"),
    }
}

#[test]
fn resize_shader_has_its_entry_points() {
    let (module, _) = module();
    let names: Vec<&str> = module
        .entry_points
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["fill", "resize_v", "resize_h"]);
}

#[test]
fn tile_params_match_rust_layout() {
    let (module, _) = module();
    let (members, size) = wgsl_struct(&module, "TileParams");
    assert_eq!(size as usize, size_of::<TileParams>());
    let rust = [
        ("source_offset", offset_of!(TileParams, source_offset)),
        ("source_width", offset_of!(TileParams, source_width)),
        ("source_height", offset_of!(TileParams, source_height)),
        ("between_offset", offset_of!(TileParams, between_offset)),
        ("column_start", offset_of!(TileParams, column_start)),
        ("column_count", offset_of!(TileParams, column_count)),
        ("scaled_width", offset_of!(TileParams, scaled_width)),
        ("scaled_height", offset_of!(TileParams, scaled_height)),
        ("canvas_offset", offset_of!(TileParams, canvas_offset)),
        ("canvas_width", offset_of!(TileParams, canvas_width)),
        ("canvas_height", offset_of!(TileParams, canvas_height)),
        ("dst_x", offset_of!(TileParams, dst_x)),
        ("dst_y", offset_of!(TileParams, dst_y)),
        ("column_bounds", offset_of!(TileParams, column_bounds)),
        ("row_bounds", offset_of!(TileParams, row_bounds)),
        ("background", offset_of!(TileParams, background)),
    ];
    let rust: Vec<(String, u32)> = rust
        .iter()
        .map(|(n, o)| (n.to_string(), *o as u32))
        .collect();
    assert_eq!(members, rust);
}

#[test]
fn bound_matches_rust_layout() {
    let (module, _) = module();
    let (members, size) = wgsl_struct(&module, "Bound");
    assert_eq!(size as usize, size_of::<Bound>());
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["start", "count", "weight_offset", "pad"]);
    assert_eq!(members[2].1 as usize, offset_of!(Bound, weight_offset));
}

#[test]
fn bindings_match_pipeline_layout() {
    let (module, _) = module();
    let mut bindings: Vec<(u32, String)> = module
        .global_variables
        .iter()
        .filter_map(|(_, var)| {
            let binding = var.binding.as_ref()?;
            assert_eq!(binding.group, 0);
            let space = match var.space {
                naga::AddressSpace::Uniform => "uniform".to_string(),
                naga::AddressSpace::Storage { access } => {
                    if access.contains(naga::StorageAccess::STORE) {
                        "storage read_write".to_string()
                    } else {
                        "storage read".to_string()
                    }
                }
                other => format!("{other:?}"),
            };
            Some((binding.binding, space))
        })
        .collect();
    bindings.sort();
    let expected: Vec<(u32, String)> = bind_group_layout_entries()
        .iter()
        .map(|entry| {
            let kind = match entry.ty {
                wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    ..
                } => "uniform",
                wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: true },
                    ..
                } => "storage read",
                wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: false },
                    ..
                } => "storage read_write",
                ref other => panic!("unexpected binding type {other:?}"),
            };
            (entry.binding, kind.to_string())
        })
        .collect();
    assert_eq!(bindings, expected);
}

#[test]
fn yuv_shader_matches_rust_layout() {
    let module = naga::front::wgsl::parse_str(YUV_SHADER).expect("yuv.wgsl parses");
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default(),
    )
    .validate(&module)
    .expect("yuv.wgsl validates");

    let (members, size) = wgsl_struct(&module, "YuvParams");
    assert_eq!(size as usize, size_of::<YuvParams>());
    let rust = [
        ("width", offset_of!(YuvParams, width)),
        ("height", offset_of!(YuvParams, height)),
        ("y_offset", offset_of!(YuvParams, y_offset)),
        ("cb_offset", offset_of!(YuvParams, cb_offset)),
        ("cr_offset", offset_of!(YuvParams, cr_offset)),
        ("y_stride", offset_of!(YuvParams, y_stride)),
        ("c_stride", offset_of!(YuvParams, c_stride)),
        ("chroma_width", offset_of!(YuvParams, chroma_width)),
        ("chroma_height", offset_of!(YuvParams, chroma_height)),
        ("full_range", offset_of!(YuvParams, full_range)),
        ("offset_x", offset_of!(YuvParams, offset_x)),
        ("offset_y", offset_of!(YuvParams, offset_y)),
        ("scale_x", offset_of!(YuvParams, scale_x)),
        ("scale_y", offset_of!(YuvParams, scale_y)),
        ("kr", offset_of!(YuvParams, kr)),
        ("kb", offset_of!(YuvParams, kb)),
    ];
    let rust: Vec<(String, u32)> = rust
        .iter()
        .map(|(n, o)| (n.to_string(), *o as u32))
        .collect();
    assert_eq!(members, rust);

    let bindings: Vec<u32> = module
        .global_variables
        .iter()
        .filter_map(|(_, var)| var.binding.as_ref().map(|b| b.binding))
        .collect();
    let expected: Vec<u32> = yuv_bind_group_layout_entries()
        .iter()
        .map(|e| e.binding)
        .collect();
    assert_eq!(bindings, expected);
    let names: Vec<&str> = module
        .entry_points
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["yuv_to_rgba"]);
}
