//! `thumbd bench`: the same workloads on the CPU and GPU backends in one process.
//!
//! Two workloads: photos cropped to 320x180 grid thumbnails, and video frames tiled
//! into 20-slice sprites of 160x90. Each runs at several batch sizes (jobs in flight
//! at once), twice: resize-only on pre-decoded pixels (upload and readback counted
//! for the GPU), and end to end (decode, render, encode).

pub mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::encode::{self, EncodeOptions};
use crate::frame::{RgbaImage, Size};
use crate::plan::{
    CropType, OutputFormat, PlanSettings, RenderPlan, SourceFacts, ThumbnailRequest, plan_thumbnail,
};
use crate::render::Backend;
use crate::render::gpu::{GpuBackend, StageTotals};
use crate::source::{self, SourceLimits};

/// One workload's inputs: encoded files (for end to end) and their decoded pixels.
pub struct Workload {
    pub name: &'static str,
    pub plan: RenderPlan,
    /// Pixels of every source a job needs, decoded at full size.
    pub sources: Vec<RgbaImage>,
    /// The encoded files behind `sources`, one per source.
    pub files: Vec<bytes::Bytes>,
}

const SETTINGS: PlanSettings = PlanSettings {
    max_output_pixels: 100_000_000,
    default_offset: 3.0,
};

impl Workload {
    /// Photos to 320x180 centre crops; one job renders one photo.
    pub fn photos(file: bytes::Bytes) -> anyhow::Result<Self> {
        let decoded = source::image::decode(
            &file,
            Size::new(u32::MAX / 2, u32::MAX / 2),
            false,
            &SourceLimits::default(),
        )?;
        let image = decoded.frames.into_iter().next().expect("one frame").image;
        let mut request = ThumbnailRequest::new(0, "bench");
        (request.width, request.height, request.crop_type) = (320, 180, CropType::Crop);
        let plan = plan_thumbnail(
            &request,
            &SourceFacts::Still { size: image.size() },
            &SETTINGS,
        )?;
        Ok(Self {
            name: "photo to 320x180 crop",
            plan,
            sources: vec![image],
            files: vec![file],
        })
    }

    /// Video frames (as image files) to a sprite of 160x90 tiles, one tile per frame.
    pub fn sprite(frames: Vec<bytes::Bytes>) -> anyhow::Result<Self> {
        anyhow::ensure!(!frames.is_empty(), "the sprite workload needs frames");
        let mut sources = Vec::with_capacity(frames.len());
        for frame in &frames {
            let decoded = source::image::decode(
                frame,
                Size::new(u32::MAX / 2, u32::MAX / 2),
                false,
                &SourceLimits::default(),
            )?;
            sources.push(decoded.frames.into_iter().next().expect("one frame").image);
        }

        let size = sources[0].size();
        anyhow::ensure!(
            sources.iter().all(|s| s.size() == size),
            "frames must share one size"
        );

        let mut request = ThumbnailRequest::new(0, "bench");
        (request.width, request.height) = (160, 90);
        request.vid_slices = sources.len() as i64;
        let facts = SourceFacts::Video {
            size,
            duration: sources.len() as f64,
        };
        let plan = plan_thumbnail(&request, &facts, &SETTINGS)?;
        anyhow::ensure!(plan.sources.len() == sources.len(), "one frame per slice");
        Ok(Self {
            name: "video frames to 160x90 sprite tiles",
            plan,
            sources,
            files: frames,
        })
    }

    fn input_pixels(&self) -> u64 {
        self.sources.iter().map(|s| s.size().pixels()).sum()
    }
}

/// Figures for one workload, backend, mode and batch size.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub workload: &'static str,
    pub backend: String,
    pub end_to_end: bool,
    pub batch: usize,
    pub jobs: usize,
    pub wall: Duration,
    pub latencies: Vec<Duration>,
    pub stages: Stages,
    pub input_pixels: u64,
}

/// Summed time per stage over all jobs of a measurement.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stages {
    pub decode: Duration,
    pub render: Duration,
    pub encode: Duration,
    /// GPU batcher stages; zero on the CPU.
    pub gpu: StageTotals,
}

impl Measurement {
    pub fn jobs_per_second(&self) -> f64 {
        self.jobs as f64 / self.wall.as_secs_f64()
    }

    pub fn megapixels_per_second(&self) -> f64 {
        self.input_pixels as f64 * self.jobs as f64 / self.wall.as_secs_f64() / 1e6
    }

    pub fn latency_percentile(&self, percentile: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * percentile).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }
}

/// A backend under test, with its GPU stage counters when it is the GPU one.
pub struct BenchBackend {
    pub label: String,
    pub backend: Arc<dyn Backend>,
    pub gpu: Option<Arc<GpuBackend>>,
}

/// Runs `rounds` rounds of `batch` concurrent jobs and times them.
pub fn measure(
    workload: &Workload,
    subject: &BenchBackend,
    batch: usize,
    rounds: usize,
    end_to_end: bool,
) -> anyhow::Result<Measurement> {
    let before = subject
        .gpu
        .as_ref()
        .map(|g| g.stage_totals())
        .unwrap_or_default();
    let mut latencies = Vec::with_capacity(batch * rounds);
    let mut stages = Stages::default();
    let mut wall = Duration::ZERO;

    for _ in 0..rounds {
        // Resize-only jobs get copies of the decoded pixels before the clock starts.
        let inputs: Vec<Option<(RenderPlan, Vec<RgbaImage>)>> = (0..batch)
            .map(|_| (!end_to_end).then(|| (workload.plan.clone(), workload.sources.clone())))
            .collect();
        let started = Instant::now();
        let results: Vec<anyhow::Result<(Duration, Stages)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = inputs
                .into_iter()
                .map(|input| scope.spawn(|| run_job(workload, subject.backend.as_ref(), input)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("bench job panicked"))
                .collect()
        });
        wall += started.elapsed();
        for result in results {
            let (latency, job_stages) = result?;
            latencies.push(latency);
            stages.decode += job_stages.decode;
            stages.render += job_stages.render;
            stages.encode += job_stages.encode;
        }
    }

    if let Some(gpu) = &subject.gpu {
        let after = gpu.stage_totals();
        stages.gpu = StageTotals {
            upload: after.upload - before.upload,
            gpu: after.gpu - before.gpu,
            readback: after.readback - before.readback,
            batches: after.batches - before.batches,
            jobs: after.jobs - before.jobs,
        };
    }
    Ok(Measurement {
        workload: workload.name,
        backend: subject.label.clone(),
        end_to_end,
        batch,
        jobs: batch * rounds,
        wall,
        latencies,
        stages,
        input_pixels: workload.input_pixels(),
    })
}

/// Runs one job: decode the files (end to end, when `ready` is `None`), render, and
/// encode (end to end only).
fn run_job(
    workload: &Workload,
    backend: &dyn Backend,
    ready: Option<(RenderPlan, Vec<RgbaImage>)>,
) -> anyhow::Result<(Duration, Stages)> {
    let end_to_end = ready.is_none();
    let started = Instant::now();
    let mut stages = Stages::default();

    let (plan, sources) = match ready {
        Some(ready) => ready,
        None => {
            let mut plan = workload.plan.clone();
            let mut sources = Vec::with_capacity(workload.files.len());
            for (index, file) in workload.files.iter().enumerate() {
                let min_size = plan.min_decode_size(index);
                let decoded =
                    source::image::decode(file, min_size, false, &SourceLimits::default())?;
                let image = decoded.frames.into_iter().next().expect("one frame").image;
                plan.adapt_source(index, image.size());
                sources.push(image);
            }
            stages.decode = started.elapsed();
            (plan, sources)
        }
    };

    let render_started = Instant::now();
    let canvas = backend.render(&plan, sources)?;
    stages.render = render_started.elapsed();

    if end_to_end {
        let encode_started = Instant::now();
        let options = EncodeOptions {
            format: OutputFormat::Jpeg,
            quality: 80,
            density: None,
            icc_profile: None,
        };
        encode::encode(&canvas, &options)?;
        stages.encode = encode_started.elapsed();
    }
    Ok((started.elapsed(), stages))
}
