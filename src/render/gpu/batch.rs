//! The batcher: one thread that owns the device queue, groups concurrent jobs into
//! one command encoder and one submission, and reads every output back together.
//!
//! While the GPU runs batch k, the thread already uploads and submits batch k+1;
//! only then does it wait for batch k's readback. Buffers come from per-kind pools.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use super::device::GpuContext;
use super::layout::{BatchLayout, DispatchKind, Footprint, Range, Ranges};
use super::params::{TileParams, YuvParams};
use super::pipelines::Pipelines;
use super::pool::BufferPool;
use super::{GpuError, StageCounters};
use crate::frame::{Picture, RgbaImage};
use crate::metrics::Metrics;
use crate::plan::RenderPlan;
use crate::render::Backend;
use crate::render::cpu::CpuBackend;

/// One render request travelling to the batcher.
pub struct GpuJob {
    pub plan: RenderPlan,
    pub sources: Vec<Picture>,
    pub reply: SyncSender<Result<RgbaImage, GpuError>>,
}

/// When the batcher flushes: whichever limit is reached first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    pub max_jobs: usize,
    /// Upper bound on the bytes of sources, intermediates and canvases in one batch.
    pub max_bytes: u64,
    /// How long the first job of a batch waits for company.
    pub deadline: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_jobs: 64,
            max_bytes: 256 << 20,
            deadline: Duration::from_micros(500),
        }
    }
}

/// The buffers of one batch, returned to their pools once it completes.
struct BatchBuffers {
    params: wgpu::Buffer,
    planes: wgpu::Buffer,
    sources: wgpu::Buffer,
    between: wgpu::Buffer,
    canvas: wgpu::Buffer,
    bounds: wgpu::Buffer,
    weights: wgpu::Buffer,
    readback: wgpu::Buffer,
}

/// A submitted batch waiting for its readback.
struct PendingBatch {
    jobs: Vec<GpuJob>,
    /// Offset of each job's canvas in the readback buffer, in pixels.
    canvas_offsets: Vec<u64>,
    readback_bytes: u64,
    buffers: BatchBuffers,
    submission: wgpu::SubmissionIndex,
    submitted_at: Instant,
}

/// Per-kind buffer pools.
struct Pools {
    params: BufferPool,
    storage_read: BufferPool,
    storage_write: BufferPool,
    readback: BufferPool,
}

/// The batcher's state; runs on its own thread until every sender is dropped.
pub struct Batcher {
    context: Arc<GpuContext>,
    pipelines: Pipelines,
    config: BatchConfig,
    metrics: Arc<Metrics>,
    lost: Arc<AtomicBool>,
    pools: Pools,
    uniform_stride: u64,
    max_binding: u64,
    stages: Arc<StageCounters>,
}

impl Batcher {
    pub fn new(
        context: Arc<GpuContext>,
        pipelines: Pipelines,
        config: BatchConfig,
        metrics: Arc<Metrics>,
        lost: Arc<AtomicBool>,
        stages: Arc<StageCounters>,
    ) -> Self {
        let limits = &context.limits;
        let uniform_stride = u64::from(limits.min_uniform_buffer_offset_alignment)
            .max(std::mem::size_of::<TileParams>() as u64);
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let pools = Pools {
            params: BufferPool::new(
                "batch.params_buffer",
                wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            ),
            storage_read: BufferPool::new(
                "batch.input_buffer",
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            ),
            storage_write: BufferPool::new(
                "batch.output_buffer",
                wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            ),
            readback: BufferPool::new(
                "batch.readback_buffer",
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
        };
        Self {
            context,
            pipelines,
            config,
            metrics,
            lost,
            pools,
            uniform_stride,
            max_binding,
            stages,
        }
    }

    /// Receives jobs until the channel closes.
    pub fn run(mut self, receiver: Receiver<GpuJob>) {
        let mut pending: Option<PendingBatch> = None;
        let mut carried: Option<GpuJob> = None;
        loop {
            let first = match carried.take() {
                Some(job) => job,
                None if pending.is_some() => match receiver.try_recv() {
                    Ok(job) => job,
                    Err(TryRecvError::Empty) => {
                        self.finish(pending.take().expect("checked above"));
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => break,
                },
                None => match receiver.recv() {
                    Ok(job) => job,
                    Err(_) => break,
                },
            };
            let (jobs, next_carried) = self.collect(first, &receiver);
            carried = next_carried;

            let submitted = self.submit(jobs);
            if let Some(previous) = pending.take() {
                self.finish(previous);
            }
            pending = submitted;
        }
        if let Some(previous) = pending.take() {
            self.finish(previous);
        }
    }

    /// Gathers jobs until the count, byte budget or deadline is reached. A job that
    /// would overflow the budget is returned separately to start the next batch.
    fn collect(&self, first: GpuJob, receiver: &Receiver<GpuJob>) -> (Vec<GpuJob>, Option<GpuJob>) {
        let budget = self.config.max_bytes;
        let mut total = Footprint::of(&first.plan, &first.sources);
        let mut jobs = vec![first];
        let deadline = Instant::now() + self.config.deadline;

        while jobs.len() < self.config.max_jobs {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let job = match receiver.recv_timeout(remaining) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            };
            let footprint = Footprint::of(&job.plan, &job.sources);
            let mut combined = total;
            combined.add(footprint);
            if combined.bytes() > budget || !combined.fits(self.max_binding) {
                return (jobs, Some(job));
            }
            total = combined;
            jobs.push(job);
        }
        (jobs, None)
    }

    /// Uploads, encodes and submits one batch; on a device error the batch is
    /// rendered on the CPU instead and `None` is returned.
    fn submit(&mut self, jobs: Vec<GpuJob>) -> Option<PendingBatch> {
        let span = tracing::debug_span!("gpu_batch", jobs = jobs.len());
        let _entered = span.enter();
        self.metrics.gpu_batch_jobs.observe(jobs.len() as f64);

        if self.lost.load(Ordering::Relaxed) {
            self.fall_back(jobs, "device lost");
            return None;
        }
        let device = &self.context.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let started = Instant::now();
        let alignment = u64::from(self.context.limits.min_storage_buffer_offset_alignment);
        let layout = BatchLayout::build(&jobs, self.uniform_stride, alignment);
        let buffers = self.upload(&jobs, &layout);
        StageCounters::add(&self.stages.upload_ns, started.elapsed());
        let submission = self.encode_and_submit(&layout, &buffers);
        let validation_error = pollster::block_on(validation.pop());
        let memory_error = pollster::block_on(scope.pop());

        if let Some(error) = memory_error.or(validation_error) {
            tracing::warn!(%error, jobs = jobs.len(), "GPU batch failed; rendering it on the CPU");
            self.release(buffers);
            self.fall_back(jobs, "device error");
            return None;
        }
        self.metrics.gpu_submissions.inc();
        Some(PendingBatch {
            jobs,
            canvas_offsets: layout.canvas_offsets,
            readback_bytes: layout.canvas_pixels * 4,
            buffers,
            submission,
            submitted_at: Instant::now(),
        })
    }

    fn upload(&mut self, jobs: &[GpuJob], layout: &BatchLayout) -> BatchBuffers {
        let device = &self.context.device;
        let queue = &self.context.queue;
        let bytes = |pixels: u64| (pixels * 4).max(16);
        let buffers = BatchBuffers {
            params: self.pools.params.take(device, layout.params.len() as u64),
            planes: self
                .pools
                .storage_read
                .take(device, bytes(layout.plane_words)),
            sources: self
                .pools
                .storage_read
                .take(device, bytes(layout.source_pixels)),
            between: self
                .pools
                .storage_write
                .take(device, bytes(layout.between_pixels)),
            canvas: self
                .pools
                .storage_write
                .take(device, bytes(layout.canvas_pixels)),
            bounds: self
                .pools
                .storage_read
                .take(device, (layout.bounds.len() as u64 * 16).max(16)),
            weights: self
                .pools
                .storage_read
                .take(device, (layout.weights.len() as u64 * 4).max(16)),
            readback: self
                .pools
                .readback
                .take(device, bytes(layout.canvas_pixels)),
        };

        queue.write_buffer(&buffers.params, 0, &layout.params);
        queue.write_buffer(&buffers.bounds, 0, bytemuck::cast_slice(&layout.bounds));
        queue.write_buffer(&buffers.weights, 0, bytemuck::cast_slice(&layout.weights));
        for (job, source, range) in &layout.rgba_uploads {
            if let Picture::Rgba(image) = &jobs[*job].sources[*source] {
                queue.write_buffer(&buffers.sources, range.offset, image.as_bytes());
            }
        }
        for (job, source, ranges) in &layout.plane_uploads {
            if let Picture::Yuv(frame) = &jobs[*job].sources[*source] {
                for (plane, range) in frame.planes.iter().zip(ranges) {
                    write_padded(queue, &buffers.planes, range.offset, plane);
                }
            }
        }
        buffers
    }

    fn encode_and_submit(
        &self,
        layout: &BatchLayout,
        buffers: &BatchBuffers,
    ) -> wgpu::SubmissionIndex {
        let device = &self.context.device;
        fn binding(buffer: &wgpu::Buffer, range: Range) -> wgpu::BindingResource<'_> {
            wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer,
                offset: range.offset,
                size: std::num::NonZeroU64::new(range.size.max(16)),
            })
        }
        let whole = |bytes: u64| Range {
            offset: 0,
            size: bytes.max(16),
        };
        // One bind group per distinct set of image ranges; a tile's two passes share one.
        let mut bind_groups: std::collections::HashMap<(bool, Ranges), wgpu::BindGroup> =
            std::collections::HashMap::new();
        for dispatch in &layout.dispatches {
            let is_yuv = dispatch.kind == DispatchKind::Yuv;
            bind_groups
                .entry((is_yuv, dispatch.ranges))
                .or_insert_with(|| {
                    if is_yuv {
                        return device.create_bind_group(&wgpu::BindGroupDescriptor {
                            label: Some("batch.yuv_bind_group"),
                            layout: &self.pipelines.yuv_layout,
                            entries: &[
                                wgpu::BindGroupEntry {
                                    binding: 0,
                                    resource: binding(
                                        &buffers.params,
                                        whole(std::mem::size_of::<YuvParams>() as u64),
                                    ),
                                },
                                wgpu::BindGroupEntry {
                                    binding: 1,
                                    resource: binding(&buffers.planes, dispatch.ranges.source),
                                },
                                wgpu::BindGroupEntry {
                                    binding: 2,
                                    resource: binding(&buffers.sources, dispatch.ranges.canvas),
                                },
                            ],
                        });
                    }
                    device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some("batch.tile_bind_group"),
                        layout: &self.pipelines.layout,
                        entries: &[
                            wgpu::BindGroupEntry {
                                binding: 0,
                                resource: binding(
                                    &buffers.params,
                                    whole(std::mem::size_of::<TileParams>() as u64),
                                ),
                            },
                            wgpu::BindGroupEntry {
                                binding: 1,
                                resource: binding(&buffers.sources, dispatch.ranges.source),
                            },
                            wgpu::BindGroupEntry {
                                binding: 2,
                                resource: binding(&buffers.between, dispatch.ranges.between),
                            },
                            wgpu::BindGroupEntry {
                                binding: 3,
                                resource: binding(&buffers.canvas, dispatch.ranges.canvas),
                            },
                            wgpu::BindGroupEntry {
                                binding: 4,
                                resource: binding(
                                    &buffers.bounds,
                                    whole(layout.bounds.len() as u64 * 16),
                                ),
                            },
                            wgpu::BindGroupEntry {
                                binding: 5,
                                resource: binding(
                                    &buffers.weights,
                                    whole(layout.weights.len() as u64 * 4),
                                ),
                            },
                        ],
                    })
                });
        }

        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("batch.encoder"),
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("batch.pass"),
                timestamp_writes: None,
            });
            for dispatch in &layout.dispatches {
                let pipeline = match dispatch.kind {
                    DispatchKind::Yuv => &self.pipelines.yuv_to_rgba,
                    DispatchKind::Fill => &self.pipelines.fill,
                    DispatchKind::Horizontal => &self.pipelines.resize_h,
                    DispatchKind::Vertical => &self.pipelines.resize_v,
                };
                pass.set_pipeline(pipeline);
                let key = (dispatch.kind == DispatchKind::Yuv, dispatch.ranges);
                pass.set_bind_group(0, &bind_groups[&key], &[dispatch.params_offset]);
                pass.dispatch_workgroups(dispatch.groups.0, dispatch.groups.1, 1);
            }
        }
        encoder.copy_buffer_to_buffer(
            &buffers.canvas,
            0,
            &buffers.readback,
            0,
            layout.canvas_pixels * 4,
        );
        self.context.queue.submit([encoder.finish()])
    }

    /// Waits for a batch, reads every canvas back and replies to each job.
    fn finish(&mut self, batch: PendingBatch) {
        let slice = batch.buffers.readback.slice(..batch.readback_bytes.max(4));
        let (sender, receiver) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        let polled = self.context.device.poll(wgpu::PollType::Wait {
            submission_index: Some(batch.submission.clone()),
            timeout: None,
        });
        let mapped = receiver.recv().ok();
        let gpu_time = batch.submitted_at.elapsed();
        self.metrics
            .gpu_batch_seconds
            .observe(gpu_time.as_secs_f64());
        StageCounters::add(&self.stages.gpu_ns, gpu_time);
        let readback_started = Instant::now();

        let ready = polled.is_ok() && matches!(mapped, Some(Ok(())));
        if !ready {
            tracing::warn!(
                ?polled,
                "GPU readback failed; rendering the batch on the CPU"
            );
            self.lost.store(polled.is_err(), Ordering::Relaxed);
            self.release(batch.buffers);
            self.fall_back(batch.jobs, "readback failed");
            return;
        }
        {
            let view = slice.get_mapped_range().expect("mapped above");
            for (job, offset) in batch.jobs.iter().zip(&batch.canvas_offsets) {
                let start = (*offset * 4) as usize;
                let end = start + (job.plan.canvas.pixels() * 4) as usize;
                let image = RgbaImage::from_vec(job.plan.canvas, view[start..end].to_vec())
                    .expect("canvas slice matches its size");
                let _ = job.reply.send(Ok(image));
            }
        }
        batch.buffers.readback.unmap();
        StageCounters::add(&self.stages.readback_ns, readback_started.elapsed());
        self.stages.batches.fetch_add(1, Ordering::Relaxed);
        self.stages
            .jobs
            .fetch_add(batch.jobs.len() as u64, Ordering::Relaxed);
        self.release(batch.buffers);
    }

    fn release(&mut self, buffers: BatchBuffers) {
        self.pools.params.give(buffers.params);
        self.pools.storage_read.give(buffers.planes);
        self.pools.storage_read.give(buffers.sources);
        self.pools.storage_write.give(buffers.between);
        self.pools.storage_write.give(buffers.canvas);
        self.pools.storage_read.give(buffers.bounds);
        self.pools.storage_read.give(buffers.weights);
        self.pools.readback.give(buffers.readback);
    }

    /// Renders jobs on the CPU after a device failure and counts each one.
    fn fall_back(&self, jobs: Vec<GpuJob>, reason: &'static str) {
        for job in jobs {
            self.metrics.gpu_fallbacks.inc();
            let result = CpuBackend
                .render_pictures(&job.plan, job.sources)
                .map_err(|error| GpuError::Fallback(reason, error.to_string()));
            let _ = job.reply.send(result);
        }
    }
}

/// Writes `bytes` at `offset`, padded with zeros to the 4-byte multiple that buffer
/// writes require.
fn write_padded(queue: &wgpu::Queue, buffer: &wgpu::Buffer, offset: u64, bytes: &[u8]) {
    let whole = bytes.len() / 4 * 4;
    if whole > 0 {
        queue.write_buffer(buffer, offset, &bytes[..whole]);
    }
    if whole < bytes.len() {
        let mut tail = [0u8; 4];
        tail[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
        queue.write_buffer(buffer, offset + whole as u64, &tail);
    }
}
