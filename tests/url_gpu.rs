//! The URL API served by the GPU backend (lavapipe in CI): the same pictures as the
//! CPU backend, and concurrent requests batched into shared submissions.

mod common;

use common::*;
use thumbd::config::ServiceArgs;
use thumbd::render::gpu::BatchConfig;

fn gpu_config() -> ServiceArgs {
    ServiceArgs {
        max_concurrent_renders: Some(64),
        ..Default::default()
    }
}

/// Reads the value of an unlabelled counter from Prometheus text.
fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from metrics:\n{metrics}"))
}

#[tokio::test]
async fn concurrent_requests_share_gpu_submissions() {
    let batch = BatchConfig {
        deadline: std::time::Duration::from_millis(20),
        ..BatchConfig::default()
    };
    let Some(server) = TestServer::start_gpu(gpu_config(), batch).await else {
        return;
    };
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));

    let mut tasks = Vec::new();
    for width in 40..72 {
        let url = server.thumb(
            &entry.id,
            &format!("width/{width}/height/{width}/type/3/format/png"),
        );
        tasks.push(tokio::spawn(async move { (width, get(&url).await) }));
    }
    for task in tasks {
        let (width, response) = task.await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.image().dimensions(), (width, width));
    }

    let metrics = String::from_utf8(get(&server.url("/metrics")).await.body).unwrap();
    let submissions = counter(&metrics, "thumbd_gpu_submissions_total");
    assert!(submissions >= 1.0);
    assert!(
        submissions < 32.0,
        "32 requests took {submissions} submissions"
    );
    assert_eq!(counter(&metrics, "thumbd_gpu_fallbacks_total"), 0.0);
}

#[tokio::test]
async fn gpu_and_cpu_servers_give_same_pictures() {
    let Some(gpu) = TestServer::start_gpu(gpu_config(), BatchConfig::default()).await else {
        return;
    };
    let cpu = TestServer::start().await;
    let video = cpu.file("counter.mp4");
    counter_video(&video, 10);
    let gpu_video = gpu.ingest(&video);
    let cpu_video = cpu.ingest(&video);
    let gpu_photo = gpu.ingest(&fixture("pillow_hopper_orientation_6.jpg"));
    let cpu_photo = cpu.ingest(&fixture("pillow_hopper_orientation_6.jpg"));

    let cases = [
        (
            &gpu_photo.id,
            &cpu_photo.id,
            "width/100/height/60/type/2/bgcolor/ff0000/format/png",
        ),
        (
            &gpu_photo.id,
            &cpu_photo.id,
            "width/90/height/90/type/4/format/png",
        ),
        (
            &gpu_photo.id,
            &cpu_photo.id,
            "src_x/10/src_y/20/src_w/60/src_h/50/width/120/format/png",
        ),
        (
            &gpu_video.id,
            &cpu_video.id,
            "width/64/height/36/vid_slices/5/format/png",
        ),
        (
            &gpu_video.id,
            &cpu_video.id,
            "vid_sec/4.5/width/0/height/0/format/png",
        ),
    ];
    for (gpu_id, cpu_id, params) in cases {
        let on_gpu = get(&gpu.thumb(gpu_id, params)).await.image();
        let on_cpu = get(&cpu.thumb(cpu_id, params)).await.image();
        assert_eq!(on_gpu.dimensions(), on_cpu.dimensions(), "{params}");
        let largest = on_gpu
            .as_raw()
            .iter()
            .zip(on_cpu.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(largest <= 2, "{params}: channels differ by {largest}");
    }
}
