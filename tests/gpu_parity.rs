//! The GPU backend against the CPU backend on the same plans, on whatever Vulkan
//! device exists (Mesa's lavapipe in CI). Outputs are compared as opaque RGBA after
//! blending over the background: at most 2 apart per channel, 0.5 on average.

use std::sync::Arc;

use thumbd::frame::{ChromaSiting, Picture, RgbaImage, Size, YuvFrame, YuvMatrix};
use thumbd::metrics::Metrics;
use thumbd::plan::{CropType, PlanSettings, SourceFacts, ThumbnailRequest, plan_thumbnail};
use thumbd::render::Backend;
use thumbd::render::cpu::CpuBackend;
use thumbd::render::gpu::{BatchConfig, GpuBackend};

mod common;

fn gpu() -> Option<GpuBackend> {
    common::open_gpu(BatchConfig::default(), Arc::new(Metrics::new()))
}

/// Deterministic test picture: gradients with noise, and optional alpha.
fn picture(width: u32, height: u32, seed: u32, alpha: bool) -> RgbaImage {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut data = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = (state & 63) as i32 - 32;
            let r = (x * 255 / width.max(1)) as i32 + noise;
            let g = (y * 255 / height.max(1)) as i32 - noise;
            let b = ((x + y) % 256) as i32;
            let a = if alpha {
                if (x / 7 + y / 5) % 3 == 0 {
                    0
                } else {
                    ((x * 3 + y) % 256) as i32
                }
            } else {
                255
            };
            data.extend([r, g, b, a].map(|v| v.clamp(0, 255) as u8));
        }
    }
    RgbaImage::from_vec(Size::new(width, height), data).unwrap()
}

struct Case {
    name: &'static str,
    source: (u32, u32),
    params: fn(&mut ThumbnailRequest),
    alpha: bool,
    video_duration: Option<f64>,
}

const SETTINGS: PlanSettings = PlanSettings {
    max_output_pixels: 100_000_000,
    default_offset: 3.0,
};

fn cases() -> Vec<Case> {
    let case = |name, source, params: fn(&mut ThumbnailRequest)| Case {
        name,
        source,
        params,
        alpha: false,
        video_duration: None,
    };
    let mut list = vec![
        case("type1 default", (640, 480), |_| {}),
        case("type1 downscale 1080p to 160x90", (1920, 1080), |r| {
            (r.width, r.height) = (160, 90)
        }),
        case("type1 upscale", (64, 48), |r| {
            (r.width, r.height) = (640, 480)
        }),
        case("type2 pad", (400, 100), |r| {
            (r.width, r.height, r.crop_type) = (200, 200, CropType::ResizeWithPadding);
            r.bgcolor = 0x10_80_f0;
        }),
        case("type3 centre crop", (300, 500), |r| {
            (r.width, r.height, r.crop_type) = (120, 90, CropType::Crop)
        }),
        case("type4 top crop", (300, 500), |r| {
            (r.width, r.height, r.crop_type) = (90, 120, CropType::CropFromTop)
        }),
        case("type5 stretch", (333, 77), |r| {
            (r.width, r.height, r.crop_type) = (77, 333, CropType::ResizeWithForce)
        }),
        case("source crop fractional", (800, 600), |r| {
            (r.src_x, r.src_y, r.src_w, r.src_h) = (100.5, 50.25, 400.0, 225.0);
            (r.width, r.height) = (160, 90);
        }),
        case("source crop outside", (100, 100), |r| {
            (r.src_x, r.src_w) = (500.0, 10.0)
        }),
        case("one pixel output", (500, 400), |r| {
            (r.width, r.height, r.crop_type) = (1, 1, CropType::ResizeWithForce)
        }),
        case("one pixel source", (1, 1), |r| {
            (r.width, r.height) = (31, 17)
        }),
        case("odd sizes", (101, 37), |r| {
            (r.width, r.height, r.crop_type) = (13, 7, CropType::Crop)
        }),
        case("extreme wide source", (3000, 3), |r| {
            (r.width, r.height, r.crop_type) = (50, 50, CropType::Crop)
        }),
        case("extreme tall source", (3, 3000), |r| {
            (r.width, r.height) = (40, 0)
        }),
        case("no resize", (120, 80), |r| (r.width, r.height) = (0, 0)),
    ];
    list.push(Case {
        name: "alpha type1 over colour",
        source: (256, 256),
        params: |r| {
            (r.width, r.height) = (100, 100);
            r.bgcolor = 0x00_ff_00;
        },
        alpha: true,
        video_duration: None,
    });
    list.push(Case {
        name: "alpha type2 padding",
        source: (256, 128),
        params: |r| {
            (r.width, r.height, r.crop_type) = (100, 100, CropType::ResizeWithPadding);
            r.bgcolor = 0xff_00_ff;
        },
        alpha: true,
        video_duration: None,
    });
    list.push(Case {
        name: "sprite of 1 slice",
        source: (320, 180),
        params: |r| (r.width, r.height, r.vid_slices) = (80, 45, 1),
        alpha: false,
        video_duration: Some(10.0),
    });
    list.push(Case {
        name: "sprite of 50 slices",
        source: (320, 180),
        params: |r| (r.width, r.height, r.vid_slices) = (32, 18, 50),
        alpha: false,
        video_duration: Some(100.0),
    });
    list
}

/// Largest and mean absolute channel difference.
fn difference(a: &RgbaImage, b: &RgbaImage) -> (u8, f64) {
    let mut max = 0u8;
    let mut sum = 0u64;
    for (x, y) in a.as_bytes().iter().zip(b.as_bytes()) {
        let d = x.abs_diff(*y);
        max = max.max(d);
        sum += u64::from(d);
    }
    (max, sum as f64 / a.as_bytes().len() as f64)
}

#[test]
fn gpu_matches_cpu_on_every_plan() {
    let Some(gpu) = gpu() else { return };
    for case in cases() {
        let mut request = ThumbnailRequest::new(1, "0_parity");
        (case.params)(&mut request);
        let size = Size::new(case.source.0, case.source.1);
        let facts = match case.video_duration {
            Some(duration) => SourceFacts::Video { size, duration },
            None => SourceFacts::Still { size },
        };
        let plan = plan_thumbnail(&request, &facts, &SETTINGS).unwrap();
        let sources: Vec<RgbaImage> = (0..plan.sources.len())
            .map(|i| picture(size.width, size.height, i as u32 + 7, case.alpha))
            .collect();

        let expected = CpuBackend.render(&plan, sources.clone()).unwrap();
        let actual = gpu.render(&plan, sources).unwrap();
        assert_eq!(actual.size(), expected.size(), "{}", case.name);
        let (max, mean) = difference(&actual, &expected);
        eprintln!("{}: max {max} mean {mean:.4}", case.name);
        assert!(max <= 2, "{}: largest channel difference {max}", case.name);
        assert!(mean <= 0.5, "{}: mean difference {mean:.3}", case.name);
    }
}

#[test]
fn concurrent_jobs_share_submissions() {
    let metrics = Arc::new(Metrics::new());
    let config = BatchConfig {
        deadline: std::time::Duration::from_millis(20),
        ..BatchConfig::default()
    };
    let Some(gpu) = common::open_gpu(config, metrics.clone()) else {
        return;
    };
    let gpu = Arc::new(gpu);
    let mut request = ThumbnailRequest::new(1, "0_batch");
    (request.width, request.height) = (64, 48);
    let facts = SourceFacts::Still {
        size: Size::new(320, 240),
    };
    let plan = plan_thumbnail(&request, &facts, &SETTINGS).unwrap();

    let threads: Vec<_> = (0..16)
        .map(|i| {
            let gpu = gpu.clone();
            let plan = plan.clone();
            std::thread::spawn(move || {
                gpu.render(&plan, vec![picture(320, 240, i, false)])
                    .unwrap()
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap().size(), Size::new(64, 48));
    }
    let submissions = metrics.gpu_submissions.get();
    assert!(submissions < 16, "16 jobs took {submissions} submissions");
}

/// Builds a YUV frame with gradients and noise in every plane, rows padded past the width
/// as decoders pad them.
fn yuv_frame(
    size: Size,
    chroma_shift: (u32, u32),
    matrix: YuvMatrix,
    full_range: bool,
    siting: ChromaSiting,
) -> YuvFrame {
    let chroma = Size::new(
        (size.width + (1 << chroma_shift.0) - 1) >> chroma_shift.0,
        (size.height + (1 << chroma_shift.1) - 1) >> chroma_shift.1,
    );
    let mut state = 0x9e37_79b9u32;
    let mut plane = |plane_size: Size, stride: usize, base: u32| {
        let mut bytes = vec![0u8; stride * plane_size.height as usize];
        for y in 0..plane_size.height {
            for x in 0..plane_size.width {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let value = (x * 7 + y * 3 + base) % 256 + (state % 17);
                bytes[y as usize * stride + x as usize] = value.min(255) as u8;
            }
        }
        bytes
    };
    let luma_stride = (size.width as usize).next_multiple_of(32) + 32;
    let chroma_stride = (chroma.width as usize).next_multiple_of(32) + 16;
    YuvFrame {
        size,
        chroma_shift,
        planes: [
            plane(size, luma_stride, 16),
            plane(chroma, chroma_stride, 90),
            plane(chroma, chroma_stride, 170),
        ],
        strides: [luma_stride, chroma_stride, chroma_stride],
        matrix,
        full_range,
        siting,
    }
}

#[test]
fn gpu_converts_yuv_like_cpu() {
    let Some(gpu) = gpu() else { return };
    let variants = [
        (
            (1, 1),
            YuvMatrix::Bt601,
            false,
            ChromaSiting::Left,
            Size::new(320, 180),
        ),
        (
            (1, 1),
            YuvMatrix::Bt709,
            false,
            ChromaSiting::Left,
            Size::new(161, 91),
        ),
        (
            (1, 1),
            YuvMatrix::Bt709,
            true,
            ChromaSiting::Center,
            Size::new(200, 120),
        ),
        (
            (1, 1),
            YuvMatrix::Bt2020,
            false,
            ChromaSiting::TopLeft,
            Size::new(130, 70),
        ),
        (
            (1, 0),
            YuvMatrix::Bt709,
            false,
            ChromaSiting::Left,
            Size::new(175, 64),
        ),
        (
            (0, 0),
            YuvMatrix::Bt601,
            true,
            ChromaSiting::Center,
            Size::new(96, 96),
        ),
    ];
    for (shift, matrix, full_range, siting, size) in variants {
        let name = format!("{shift:?} {matrix:?} full={full_range} {siting:?} {size:?}");
        let frame = yuv_frame(size, shift, matrix, full_range, siting);
        for (width, height) in [(0, 0), (64, 36)] {
            let mut request = ThumbnailRequest::new(1, "0_yuv");
            (request.width, request.height) = (width, height);
            let facts = SourceFacts::Video {
                size,
                duration: 1.0,
            };
            let plan = plan_thumbnail(&request, &facts, &SETTINGS).unwrap();
            let pictures = vec![Picture::Yuv(frame.clone())];
            let expected = CpuBackend.render_pictures(&plan, pictures.clone()).unwrap();
            let actual = gpu.render_pictures(&plan, pictures).unwrap();
            let (max, mean) = difference(&actual, &expected);
            eprintln!("{name} {width}x{height}: max {max} mean {mean:.4}");
            assert!(max <= 2, "{name}: largest channel difference {max}");
            assert!(mean <= 0.5, "{name}: mean difference {mean:.3}");
        }
    }
}
