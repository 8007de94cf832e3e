//! The compute pipelines of `shaders/resize.wgsl`, built once per device.

use std::num::NonZeroU64;

use super::GpuError;
use super::params::{TileParams, YuvParams};

/// WGSL sources, compiled into the binary.
pub const RESIZE_SHADER: &str = include_str!("../../../shaders/resize.wgsl");
pub const YUV_SHADER: &str = include_str!("../../../shaders/yuv.wgsl");

/// Pipelines and the bind group layout they share.
pub struct Pipelines {
    pub layout: wgpu::BindGroupLayout,
    pub fill: wgpu::ComputePipeline,
    pub resize_h: wgpu::ComputePipeline,
    pub resize_v: wgpu::ComputePipeline,
    pub yuv_layout: wgpu::BindGroupLayout,
    pub yuv_to_rgba: wgpu::ComputePipeline,
}

fn storage(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// Returns the bindings of `shaders/resize.wgsl`, in binding order.
pub fn bind_group_layout_entries() -> [wgpu::BindGroupLayoutEntry; 6] {
    [
        wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: true,
                min_binding_size: NonZeroU64::new(std::mem::size_of::<TileParams>() as u64),
            },
            count: None,
        },
        storage(1, true),
        storage(2, false),
        storage(3, false),
        storage(4, true),
        storage(5, true),
    ]
}

/// Returns the bindings of `shaders/yuv.wgsl`, in binding order.
pub fn yuv_bind_group_layout_entries() -> [wgpu::BindGroupLayoutEntry; 3] {
    [
        wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: true,
                min_binding_size: NonZeroU64::new(std::mem::size_of::<YuvParams>() as u64),
            },
            count: None,
        },
        storage(1, true),
        storage(2, false),
    ]
}

impl Pipelines {
    /// Compiles the shader and builds the pipelines inside an error scope, so that a
    /// driver that rejects them fails here with a message rather than later.
    pub fn new(device: &wgpu::Device) -> Result<Self, GpuError> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("resize.module"),
            source: wgpu::ShaderSource::Wgsl(RESIZE_SHADER.into()),
        });
        let entries = bind_group_layout_entries();
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("resize.bind_group_layout"),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("resize.pipeline_layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = |entry_point: &str, label: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry_point),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let yuv_module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("yuv.module"),
            source: wgpu::ShaderSource::Wgsl(YUV_SHADER.into()),
        });
        let yuv_entries = yuv_bind_group_layout_entries();
        let yuv_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("yuv.bind_group_layout"),
            entries: &yuv_entries,
        });
        let yuv_pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("yuv.pipeline_layout"),
            bind_group_layouts: &[Some(&yuv_layout)],
            immediate_size: 0,
        });
        let yuv_to_rgba = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("yuv.to_rgba.pipeline"),
            layout: Some(&yuv_pipeline_layout),
            module: &yuv_module,
            entry_point: Some("yuv_to_rgba"),
            compilation_options: Default::default(),
            cache: None,
        });

        let pipelines = Self {
            fill: pipeline("fill", "resize.fill.pipeline"),
            resize_h: pipeline("resize_h", "resize.h.pipeline"),
            resize_v: pipeline("resize_v", "resize.v.pipeline"),
            layout,
            yuv_layout,
            yuv_to_rgba,
        };
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Pipeline(error.to_string()));
        }
        Ok(pipelines)
    }
}
