//! Adapter choice and device creation.

use super::GpuError;

/// An open device with what was learned about its adapter.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
}

/// Preference order of adapter kinds: real GPUs first, software last.
fn rank(kind: wgpu::DeviceType) -> u8 {
    match kind {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Opens the best Vulkan adapter. Software adapters (Mesa's lavapipe) are taken only
/// when `accept_software` is set; `Ok(None)` means no acceptable adapter exists.
pub fn open_device(accept_software: bool) -> Result<Option<GpuContext>, GpuError> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::VULKAN,
        ..wgpu::InstanceDescriptor::new_without_display_handle_from_env()
    });
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::VULKAN));
    adapters.sort_by_key(|adapter| rank(adapter.get_info().device_type));
    let Some(adapter) = adapters.into_iter().next() else {
        return Ok(None);
    };
    let info = adapter.get_info();
    if info.device_type == wgpu::DeviceType::Cpu && !accept_software {
        tracing::info!(adapter = %info.name, "only a software GPU adapter exists");
        return Ok(None);
    }

    // wgpu's default limits (8192-pixel textures, 128 MiB bindings) are below what
    // adapters offer; ask for everything the adapter has.
    let limits = adapter.limits();
    let descriptor = wgpu::DeviceDescriptor {
        label: Some("thumbd.device"),
        required_features: wgpu::Features::empty(),
        required_limits: limits.clone(),
        ..Default::default()
    };
    let (device, queue) =
        pollster::block_on(adapter.request_device(&descriptor)).map_err(GpuError::RequestDevice)?;
    Ok(Some(GpuContext {
        device,
        queue,
        info,
        limits,
    }))
}
