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

/// One shader module with its bind group layout and pipeline layout.
struct ShaderStage {
    module: wgpu::ShaderModule,
    bind_group_layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
}

impl ShaderStage {
    /// Compiles `source` and builds its layouts; labels start with `name`.
    fn new(
        device: &wgpu::Device,
        name: &str,
        source: &str,
        entries: &[wgpu::BindGroupLayoutEntry],
    ) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(&format!("{name}.module")),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let bind_group_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(&format!("{name}.bind_group_layout")),
            entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(&format!("{name}.pipeline_layout")),
            bind_group_layouts: &[Some(&bind_group_layout)],
            immediate_size: 0,
        });
        Self {
            module,
            bind_group_layout,
            pipeline_layout,
        }
    }

    fn pipeline(
        &self,
        device: &wgpu::Device,
        entry_point: &str,
        label: &str,
    ) -> wgpu::ComputePipeline {
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: Some(&self.pipeline_layout),
            module: &self.module,
            entry_point: Some(entry_point),
            compilation_options: Default::default(),
            cache: None,
        })
    }
}

impl Pipelines {
    /// Compiles the shaders and builds the pipelines inside an error scope, so that a
    /// driver that rejects them fails here with a message rather than later.
    pub fn new(device: &wgpu::Device) -> Result<Self, GpuError> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let resize = ShaderStage::new(
            device,
            "resize",
            RESIZE_SHADER,
            &bind_group_layout_entries(),
        );
        let yuv = ShaderStage::new(device, "yuv", YUV_SHADER, &yuv_bind_group_layout_entries());

        let pipelines = Self {
            fill: resize.pipeline(device, "fill", "resize.fill.pipeline"),
            resize_h: resize.pipeline(device, "resize_h", "resize.h.pipeline"),
            resize_v: resize.pipeline(device, "resize_v", "resize.v.pipeline"),
            yuv_to_rgba: yuv.pipeline(device, "yuv_to_rgba", "yuv.to_rgba.pipeline"),
            layout: resize.bind_group_layout,
            yuv_layout: yuv.bind_group_layout,
        };
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Pipeline(error.to_string()));
        }
        Ok(pipelines)
    }
}
