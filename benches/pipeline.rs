//! Criterion benchmarks of the pipeline stages behind `thumbd render`, named
//! `operation/size/backend`: JPEG decode with and without shrink-on-load, planning,
//! YUV to RGBA conversion of video frames, CPU resampling and output encoding.
//!
//! Inputs are synthetic: a smooth gradient with uniform noise of ±16 levels, so that
//! JPEG entropy decoding does work comparable to a grainy photo. Sample counts and
//! measurement times are small to keep `cargo bench --bench pipeline` short; expect
//! a few percent of run-to-run noise.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use thumbd::encode::{EncodeOptions, encode};
use thumbd::frame::{ChromaSiting, Picture, RgbaImage, Size, YuvFrame, YuvMatrix};
use thumbd::plan::{
    CropType, OutputFormat, PlanSettings, RenderPlan, SourceFacts, ThumbnailRequest, plan_thumbnail,
};
use thumbd::render::Backend;
use thumbd::render::cpu::CpuBackend;
use thumbd::render::cpu::yuv::yuv_to_rgba;
use thumbd::source::SourceLimits;
use thumbd::source::image::decode;

/// Source sizes: a 12 MP photo, a 1080p frame and a 720p frame.
const PHOTO: Size = Size::new(4000, 3000);
const FULL_HD: Size = Size::new(1920, 1080);
const HD: Size = Size::new(1280, 720);

/// Quality of the generated 4:2:0 source JPEGs, on libjpeg's 1-100 scale.
const SOURCE_QUALITY: i32 = 90;

const PLAN_SETTINGS: PlanSettings = PlanSettings {
    max_output_pixels: 100_000_000,
    default_offset: 3.0,
};

fn label(size: Size) -> String {
    format!("{}x{}", size.width, size.height)
}

/// Creates an opaque RGBA picture: a diagonal gradient plus seeded uniform noise.
fn noisy_image(size: Size, seed: u64) -> RgbaImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let (width, height) = (size.width as usize, size.height as usize);
    let mut pixels = Vec::with_capacity(width * height * 4);
    for y in 0..height {
        for x in 0..width {
            let base = [
                x * 255 / width,
                y * 255 / height,
                (x + y) * 255 / (width + height),
            ];
            for value in base {
                let noisy = value as i32 + rng.random_range(-16..=16);
                pixels.push(noisy.clamp(0, 255) as u8);
            }
            pixels.push(255);
        }
    }
    RgbaImage::from_vec(size, pixels).expect("buffer sized for the image")
}

/// Creates a limited-range BT.709 4:2:0 frame, as H.264 decoders return it, with the
/// same gradient and noise as `noisy_image` in Y and noise around grey in chroma.
fn noisy_yuv420(size: Size, seed: u64) -> YuvFrame {
    let mut rng = StdRng::seed_from_u64(seed);
    let (width, height) = (size.width as usize, size.height as usize);
    let luma = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x + y) * 219 / (width + height) + 16))
        .map(|value| (value as i32 + rng.random_range(-16..=16)).clamp(16, 235) as u8)
        .collect();

    let chroma_size = Size::new(size.width.div_ceil(2), size.height.div_ceil(2));
    let mut chroma_plane = || -> Vec<u8> {
        (0..chroma_size.pixels())
            .map(|_| (128 + rng.random_range(-16..=16)) as u8)
            .collect()
    };
    let (cb, cr) = (chroma_plane(), chroma_plane());

    YuvFrame {
        size,
        chroma_shift: (1, 1),
        planes: [luma, cb, cr],
        strides: [
            width,
            chroma_size.width as usize,
            chroma_size.width as usize,
        ],
        matrix: YuvMatrix::Bt709,
        full_range: false,
        siting: ChromaSiting::Left,
    }
}

fn encode_source_jpeg(image: &RgbaImage) -> Bytes {
    let view = turbojpeg::Image {
        pixels: image.as_bytes(),
        width: image.width() as usize,
        pitch: image.width() as usize * 4,
        height: image.height() as usize,
        format: turbojpeg::PixelFormat::RGBA,
    };
    let jpeg = turbojpeg::compress(view, SOURCE_QUALITY, turbojpeg::Subsamp::Sub2x2)
        .expect("synthetic image encodes");
    Bytes::copy_from_slice(&jpeg)
}

fn request(width: u32, height: u32, crop_type: CropType) -> ThumbnailRequest {
    let mut request = ThumbnailRequest::new(1, "0_bench");
    request.width = width;
    request.height = height;
    request.crop_type = crop_type;
    request
}

fn still_plan(source: Size, width: u32, height: u32, crop_type: CropType) -> RenderPlan {
    let facts = SourceFacts::Still { size: source };
    plan_thumbnail(&request(width, height, crop_type), &facts, &PLAN_SETTINGS)
        .expect("benchmark request is within limits")
}

/// Builds the request and source facts of `vid_slices/20` at 160x90 over a 10-minute
/// 720p video.
fn sprite_request() -> (ThumbnailRequest, SourceFacts) {
    let mut request = request(160, 90, CropType::Resize);
    request.vid_slices = 20;
    let facts = SourceFacts::Video {
        size: HD,
        duration: 600.0,
    };
    (request, facts)
}

/// Decodes a 4000x3000 and a 1920x1080 JPEG at full size and with the DCT scaling
/// that the thumbnail needs (1/8 for 320x180 and for 160x90).
fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    // One iteration per sample: a full-size decode takes tens of milliseconds.
    group.sampling_mode(SamplingMode::Flat);
    let limits = SourceLimits::default();

    for (source, thumbnail) in [(PHOTO, Size::new(320, 180)), (FULL_HD, Size::new(160, 90))] {
        let bytes = encode_source_jpeg(&noisy_image(source, 1));
        // Type 3 crops the source to the thumbnail's aspect ratio before scaling.
        let plan = still_plan(source, thumbnail.width, thumbnail.height, CropType::Crop);
        let min_size = plan.min_decode_size(0);

        for (backend, min_size) in [("turbojpeg-full", source), ("turbojpeg-shrink", min_size)] {
            group.bench_with_input(
                BenchmarkId::new(label(source), backend),
                &min_size,
                |b, min_size| {
                    b.iter(|| decode(black_box(&bytes), *min_size, false, &limits).unwrap());
                },
            );
        }
    }
    group.finish();
}

/// Plans a 320x180 crop of a 12 MP photo and a 20-slice sprite of a 720p video.
fn bench_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan");

    let photo_request = request(320, 180, CropType::Crop);
    let photo_facts = SourceFacts::Still { size: PHOTO };
    group.bench_function(BenchmarkId::new("4000x3000-to-320x180", "cpu"), |b| {
        b.iter(|| plan_thumbnail(black_box(&photo_request), &photo_facts, &PLAN_SETTINGS));
    });

    let (sprite_request, sprite_facts) = sprite_request();
    group.bench_function(BenchmarkId::new("1280x720-sprite-20x160x90", "cpu"), |b| {
        b.iter(|| plan_thumbnail(black_box(&sprite_request), &sprite_facts, &PLAN_SETTINGS));
    });
    group.finish();
}

/// Converts decoded video frames from YUV planes to RGBA, which the CPU backend does
/// for every video source before it resamples.
fn bench_yuv(c: &mut Criterion) {
    let mut group = c.benchmark_group("yuv-to-rgba");
    group.sampling_mode(SamplingMode::Flat);
    for size in [FULL_HD, HD] {
        let frame = noisy_yuv420(size, 4);
        group.bench_function(BenchmarkId::new(label(size), "cpu"), |b| {
            b.iter(|| yuv_to_rgba(black_box(&frame)));
        });
    }
    group.finish();
}

/// Renders plans with the CPU backend: Lanczos3 resampling plus compositing.
fn bench_resize(c: &mut Criterion) {
    let mut group = c.benchmark_group("resize");
    group.sampling_mode(SamplingMode::Flat);
    let backend = CpuBackend;

    // 500x375 is what a 4000x3000 JPEG decodes to at 1/8 scale, the size the
    // renderer receives in `thumbd render` with shrink-on-load.
    let cases = [
        (FULL_HD, 160, 90, CropType::Resize),
        (PHOTO, 320, 180, CropType::Crop),
        (Size::new(500, 375), 320, 180, CropType::Crop),
    ];
    for (source, width, height, crop_type) in cases {
        let image = noisy_image(source, 2);
        let plan = still_plan(source, width, height, crop_type);
        let id = format!("{}-to-{width}x{height}", label(source));
        group.bench_function(BenchmarkId::new(id, backend.name()), |b| {
            // The backend takes its sources by value; the copy is made outside the timing.
            b.iter_batched(
                || vec![image.clone()],
                |sources| backend.render(black_box(&plan), sources).unwrap(),
                BatchSize::LargeInput,
            );
        });
    }

    let (request, facts) = sprite_request();
    let plan = plan_thumbnail(&request, &facts, &PLAN_SETTINGS).expect("sprite plan");
    let frames: Vec<RgbaImage> = (0..plan.sources.len() as u64)
        .map(|seed| noisy_image(HD, seed))
        .collect();
    group.bench_function(
        BenchmarkId::new("1280x720-sprite-20x160x90", backend.name()),
        |b| {
            b.iter_batched(
                || frames.clone(),
                |sources| backend.render(black_box(&plan), sources).unwrap(),
                BatchSize::LargeInput,
            );
        },
    );

    // The same sprite from YUV frames, as video reaches the backend: the render stage
    // of `thumbd render` with `width/160/height/90/vid_slices/20` on a 720p clip.
    let yuv_frames: Vec<Picture> = (0..plan.sources.len() as u64)
        .map(|seed| Picture::Yuv(noisy_yuv420(HD, seed)))
        .collect();
    // Ten samples of 250 ms or more each do not fit the default second.
    group.measurement_time(Duration::from_secs(4));
    group.bench_function(
        BenchmarkId::new("1280x720-yuv-sprite-20x160x90", backend.name()),
        |b| {
            b.iter_batched(
                || yuv_frames.clone(),
                |sources| backend.render_pictures(black_box(&plan), sources).unwrap(),
                BatchSize::LargeInput,
            );
        },
    );
    group.finish();
}

/// Encodes a 320x180 thumbnail, rendered from a noisy source, in each web format.
fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    let source = noisy_image(FULL_HD, 3);
    let plan = still_plan(FULL_HD, 320, 180, CropType::Resize);
    let canvas = CpuBackend
        .render(&plan, vec![source])
        .expect("thumbnail renders");

    for (format, backend) in [
        (OutputFormat::Jpeg, "turbojpeg"),
        (OutputFormat::Png, "image-png"),
        (OutputFormat::WebP, "libwebp"),
    ] {
        let options = EncodeOptions {
            format,
            quality: 80,
            density: None,
            icc_profile: None,
        };
        group.bench_function(BenchmarkId::new("320x180", backend), |b| {
            b.iter(|| encode(black_box(&canvas), &options).unwrap());
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = pipeline;
    config = config();
    targets = bench_decode, bench_plan, bench_yuv, bench_resize, bench_encode
}
criterion_main!(pipeline);
