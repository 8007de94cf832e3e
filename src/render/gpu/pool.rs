//! Buffers reused across batches, grouped by usage and picked by size.

/// Free buffers of one usage. Sizes are rounded up to a power of two so that a
/// buffer serves many nearby request sizes.
pub struct BufferPool {
    label: &'static str,
    usage: wgpu::BufferUsages,
    free: Vec<wgpu::Buffer>,
}

/// Buffers kept per pool; more are dropped on return.
const MAX_FREE: usize = 16;

impl BufferPool {
    pub fn new(label: &'static str, usage: wgpu::BufferUsages) -> Self {
        Self {
            label,
            usage,
            free: Vec::new(),
        }
    }

    /// Returns a buffer of at least `size` bytes, reusing the smallest free one that
    /// is no more than four times too big.
    pub fn take(&mut self, device: &wgpu::Device, size: u64) -> wgpu::Buffer {
        let size = size.max(16);
        let best = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, b)| b.size() >= size && b.size() <= size.saturating_mul(4).max(1 << 16))
            .min_by_key(|(_, b)| b.size())
            .map(|(index, _)| index);
        if let Some(index) = best {
            return self.free.swap_remove(index);
        }
        let rounded = size
            .next_power_of_two()
            .min(device.limits().max_buffer_size)
            .max(size);
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(self.label),
            size: rounded.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT),
            usage: self.usage,
            mapped_at_creation: false,
        })
    }

    /// Returns a buffer to the pool once the GPU no longer uses it.
    pub fn give(&mut self, buffer: wgpu::Buffer) {
        if self.free.len() < MAX_FREE {
            self.free.push(buffer);
        }
    }
}
