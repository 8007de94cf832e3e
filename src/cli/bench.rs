//! `thumbd bench`: GPU against CPU on the same workloads, written up as Markdown and SVG.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::bench::{self, BenchBackend, Workload, report};
use crate::encode::{self, EncodeOptions};
use crate::frame::{RgbaImage, Size};
use crate::metrics::Metrics;
use crate::plan::OutputFormat;
use crate::render::cpu::CpuBackend;
use crate::render::gpu::{BatchConfig, GpuBackend};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// JPEG photo for the photo workload; a synthetic 4000x3000 one when omitted.
    #[arg(long)]
    photo: Option<PathBuf>,

    /// Video frames as image files (all one size) for the sprite workload; 20
    /// synthetic 1920x1080 frames when omitted.
    #[arg(long = "frame")]
    frames: Vec<PathBuf>,

    /// Jobs in flight per measurement, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    batch_sizes: Vec<usize>,

    /// Rounds per measurement; each round runs one batch of jobs.
    #[arg(long, default_value_t = 3)]
    rounds: usize,

    /// Skip the GPU backend.
    #[arg(long)]
    cpu_only: bool,

    /// Directory for report.md and throughput.svg.
    #[arg(long, default_value = "bench-report")]
    out: PathBuf,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let (photo, photo_origin) = match &args.photo {
        Some(path) => (read(path)?, path.display().to_string()),
        None => (
            synthetic_jpeg(Size::new(4000, 3000), 1)?,
            "synthetic 4000x3000 JPEG, quality 90".into(),
        ),
    };
    let (frames, frame_origin) = if args.frames.is_empty() {
        let frames = (0..20)
            .map(|seed| synthetic_jpeg(Size::new(1920, 1080), seed + 2))
            .collect::<anyhow::Result<Vec<_>>>()?;
        (frames, "20 synthetic 1920x1080 JPEG frames".to_string())
    } else {
        let frames = args
            .frames
            .iter()
            .map(|p| read(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        (
            frames,
            format!(
                "{} frames from {}",
                args.frames.len(),
                args.frames[0].display()
            ),
        )
    };
    let workloads = [Workload::photos(photo)?, Workload::sprite(frames)?];

    let mut context = vec![
        format!("photo: {photo_origin}"),
        format!("frames: {frame_origin}"),
        format!(
            "CPU: {} threads available",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ),
        format!("rounds per measurement: {}", args.rounds),
    ];
    let backends = open_backends(args.cpu_only, &mut context)?;

    let mut measurements = Vec::new();
    for workload in &workloads {
        for end_to_end in [false, true] {
            for subject in &backends {
                for &batch in &args.batch_sizes {
                    let measurement = bench::measure(
                        workload,
                        subject,
                        batch.max(1),
                        args.rounds.max(1),
                        end_to_end,
                    )?;
                    eprintln!(
                        "{} / {} / {} / batch {}: {:.1} jobs/s",
                        workload.name,
                        if end_to_end {
                            "end to end"
                        } else {
                            "resize only"
                        },
                        subject.label,
                        batch,
                        measurement.jobs_per_second()
                    );
                    measurements.push(measurement);
                }
            }
        }
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let text = report::markdown("thumbd bench", &context, &measurements);
    std::fs::write(args.out.join("report.md"), &text)?;
    report::plot(&args.out.join("throughput.svg"), &measurements)?;
    println!("{text}");
    eprintln!("wrote {}/report.md and throughput.svg", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn open_backends(cpu_only: bool, context: &mut Vec<String>) -> anyhow::Result<Vec<BenchBackend>> {
    let mut backends = vec![BenchBackend {
        label: "cpu".into(),
        backend: Arc::new(CpuBackend),
        gpu: None,
    }];
    if cpu_only {
        return Ok(backends);
    }
    match GpuBackend::open(true, BatchConfig::default(), Arc::new(Metrics::new()))? {
        Some(gpu) => {
            context.push(format!("GPU adapter: {}", gpu.adapter()));
            if gpu.adapter().contains("Cpu") {
                context.push("the GPU adapter is a software rasteriser (lavapipe): its figures measure the CPU, not GPU hardware".into());
            }
            let gpu = Arc::new(gpu);
            backends.push(BenchBackend {
                label: "gpu".into(),
                backend: gpu.clone(),
                gpu: Some(gpu),
            });
        }
        None => context.push("no GPU adapter: GPU figures skipped".into()),
    }
    Ok(backends)
}

fn read(path: &std::path::Path) -> anyhow::Result<bytes::Bytes> {
    Ok(bytes::Bytes::from(std::fs::read(path).with_context(
        || format!("cannot read {}", path.display()),
    )?))
}

/// Encodes a JPEG of smooth gradients with grain, so that it compresses like a photo.
fn synthetic_jpeg(size: Size, seed: u32) -> anyhow::Result<bytes::Bytes> {
    let mut state = seed.wrapping_mul(747_796_405).max(1);
    let mut data = Vec::with_capacity((size.pixels() * 4) as usize);
    for y in 0..size.height {
        for x in 0..size.width {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let grain = (state % 24) as i32 - 12;
            let r = (x * 255 / size.width) as i32 + grain;
            let g = (y * 255 / size.height) as i32 + grain;
            let b = (((x / 40 + y / 40 + seed) % 2) * 90 + 60) as i32 + grain;
            data.extend([r, g, b, 255].map(|v| v.clamp(0, 255) as u8));
        }
    }
    let image = RgbaImage::from_vec(size, data).expect("buffer matches size");
    let options = EncodeOptions {
        format: OutputFormat::Jpeg,
        quality: 90,
        density: None,
        icc_profile: None,
    };
    Ok(encode::encode(&image, &options)?)
}
