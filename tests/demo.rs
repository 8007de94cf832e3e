//! The demo content that `thumbd serve` creates on an empty data dir answers every
//! example URL of the API guide.

mod common;

use common::*;
use std::sync::Arc;

use thumbd::auth::{SessionType, create_ks_v1};
use thumbd::config::ServiceArgs;
use thumbd::demo::{DEMO_PARTNER_ID, example_urls, seed_if_empty};
use thumbd::metrics::Metrics;
use thumbd::render::gpu::BatchConfig;
use thumbd::source::SourceLimits;
use thumbd::store::MetadataStore;

#[tokio::test]
async fn demo_answers_every_example_url() {
    let server = TestServer::start().await;
    assert!(seed_if_empty(&server.data, &SourceLimits::default()).unwrap());
    assert!(!seed_if_empty(&server.data, &SourceLimits::default()).unwrap());

    let partner = server.data.store.partner(DEMO_PARTNER_ID).unwrap().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ks = create_ks_v1(
        partner.id,
        &partner.admin_secret,
        SessionType::User,
        "",
        "",
        now,
        600,
    );
    let base = format!("http://{}", server.address);

    let expected_sizes = [
        Some((120, 80)),
        Some((640, 360)),
        Some((1920, 1080)),
        Some((1600, 90)),
        Some((400, 400)),
        Some((1600, 90)),
        Some((160, 90)),
        Some((400, 225)),
        Some((1200, 630)),
        Some((300, 300)),
        Some((1920, 1080)),
        Some((640, 360)),
        None,
        Some((120, 90)),
    ];
    let urls = example_urls(&base, &ks);
    assert_eq!(urls.len(), expected_sizes.len());
    for (url, expected) in urls.iter().zip(expected_sizes) {
        let response = get(url).await;
        assert_eq!(response.status, 200, "{url}");
        match expected {
            Some(size) => assert_eq!(response.image().dimensions(), size, "{url}"),
            None => assert!(String::from_utf8_lossy(&response.body).starts_with("WEBVTT")),
        }
    }

    // The same data dir served by the GPU backend returns the same sizes for every URL.
    let metrics = Arc::new(Metrics::new());
    let Some(gpu) = open_gpu(BatchConfig::default(), metrics.clone()) else {
        return;
    };
    let TestServer { dir, .. } = server;
    let server = TestServer::start_in(dir, ServiceArgs::default(), Arc::new(gpu), metrics).await;
    let base = format!("http://{}", server.address);
    for (url, expected) in example_urls(&base, &ks).iter().zip(expected_sizes) {
        let response = get(url).await;
        assert_eq!(response.status, 200, "GPU: {url}");
        if let Some(size) = expected {
            assert_eq!(response.image().dimensions(), size, "GPU: {url}");
        }
    }
    let metrics = String::from_utf8(get(&server.url("/metrics")).await.body).unwrap();
    assert!(
        metrics.contains("thumbd_gpu_submissions_total"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("thumbd_gpu_submissions_total 0\n"),
        "{metrics}"
    );
}
