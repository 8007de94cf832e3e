//! Every URL API error of the service, with its status, body and Kaltura headers, and
//! the guards that keep bad input from crashing the process or touching stored data.

mod common;

use common::*;
use thumbd::auth::{SessionType, create_ks_v1};
use thumbd::config::ServiceArgs;
use thumbd::store::{AccessRules, EntryStatus, MetadataStore};

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Asserts the error shape: HTTP status, JSON code, `X-Kaltura: error-N`.
fn assert_error(response: &Fetched, status: u16, code: &str, number: u16) {
    assert_eq!(
        response.status,
        status,
        "{code}: body {}",
        String::from_utf8_lossy(&response.body)
    );
    let body = response.json();
    assert_eq!(body["code"], code);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        response.header("x-kaltura"),
        Some(format!("error-{number}").as_str())
    );
    let app = response
        .header("x-kaltura-app")
        .expect("X-Kaltura-App header");
    assert!(
        app.starts_with(&format!("exiting on error {number} - ")),
        "{app}"
    );
}

#[tokio::test]
async fn unknown_entry_and_foreign_partner_are_not_found() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));

    let missing = get(&server.thumb("0_missing1", "")).await;
    assert_error(&missing, 404, "ENTRY_ID_NOT_FOUND", 1);
    assert_eq!(
        missing.header("cache-control"),
        Some("private, max-age=60, max-stale=0")
    );

    let other_partner = get(&server.url(&format!(
        "/p/{}/thumbnail/entry_id/{}",
        PARTNER + 1,
        entry.id
    )))
    .await;
    assert_error(&other_partner, 404, "ENTRY_ID_NOT_FOUND", 1);
}

#[tokio::test]
async fn deleted_entry_answers_deleted_moderated() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    assert_eq!(get(&server.thumb(&entry.id, "")).await.status, 200);
    server
        .data
        .store
        .set_entry_status(&entry.id, EntryStatus::DELETED)
        .unwrap();
    let response = get(&server.thumb(&entry.id, "")).await;
    assert_error(&response, 404, "ENTRY_DELETED_MODERATED", 9);
}

#[tokio::test]
async fn bad_queries_name_the_parameter() {
    let server = TestServer::start_with(ServiceArgs {
        limits: thumbd::config::LimitArgs {
            max_output_pixels: 1_000_000,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    let cases = [
        ("vid_slices/0", "vid_slices must be positive"),
        ("vid_slices/abc", "vid_slices must be positive"),
        ("bgcolor/xyz", "bgcolor must be 1 to 6 hexadecimal digits"),
        (
            "width/1000/vid_slices/70",
            "width(1000) * vid_slices(70) must be between 0 and 65500",
        ),
        ("start_sec/-3", "start_sec must be positive"),
        (
            "start_sec/9/end_sec/2",
            "start_sec cant be greater then end_sec",
        ),
        ("format/tiff", "format \"tiff\" is not supported"),
        ("format/vtt", "format vtt requires vid_slices"),
        ("crop_provider/faces", "crop_provider is not supported"),
        (
            "file_name/a.jpg/width/10",
            "file_name must be the last parameter",
        ),
        (
            "width/2000/height/2000/type/5",
            "exceeds the limit of 1000000 pixels",
        ),
    ];
    for (params, detail) in cases {
        let response = get(&server.thumb(&entry.id, params)).await;
        assert_error(&response, 400, "BAD_QUERY", 25);
        let message = response.json()["message"].as_str().unwrap().to_string();
        assert!(message.starts_with("wrong query attributes, "), "{message}");
        assert!(message.contains(detail), "{params}: {message}");
        let app = response.header("x-kaltura-app").unwrap();
        assert!(app.contains(detail), "{params}: {app}");
    }
}

#[tokio::test]
async fn ks_errors_under_access_control() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    let rules = AccessRules {
        require_ks: true,
        ..Default::default()
    };
    let profile = server
        .data
        .store
        .insert_access_rules(PARTNER, &rules)
        .unwrap();
    server
        .data
        .store
        .set_entry_access_control(&entry.id, Some(profile))
        .unwrap();
    let partner = server.partner();
    let now = unix_now();

    let response = get(&server.thumb(&entry.id, "")).await;
    assert_error(&response, 403, "ACCESS_CONTROL_RESTRICTED", 3);
    assert_ne!(
        response.header("cache-control"),
        Some("private, max-age=60, max-stale=0")
    );

    let response = get(&server.thumb(&entry.id, "ks/%25%25notbase64")).await;
    assert_error(&response, 403, "INVALID_KS_SRT", 4);

    let forged = create_ks_v1(
        PARTNER,
        "not-the-secret",
        SessionType::User,
        "",
        "",
        now,
        600,
    );
    let response = get(&server.thumb(&entry.id, &format!("ks/{forged}"))).await;
    assert_error(&response, 403, "INVALID_KS", 7);

    let foreign = create_ks_v1(
        PARTNER + 1,
        &partner.admin_secret,
        SessionType::User,
        "",
        "",
        now,
        600,
    );
    let response = get(&server.thumb(&entry.id, &format!("ks/{foreign}"))).await;
    assert_error(&response, 403, "INVALID_KS", 7);

    let expired = create_ks_v1(
        PARTNER,
        &partner.admin_secret,
        SessionType::User,
        "",
        "",
        now - 100,
        10,
    );
    let response = get(&server.thumb(&entry.id, &format!("ks/{expired}"))).await;
    assert_error(&response, 403, "KS_EXPIRED", 31);

    let valid = create_ks_v1(
        PARTNER,
        &partner.admin_secret,
        SessionType::User,
        "",
        "",
        now,
        600,
    );
    let response = get(&server.thumb(&entry.id, &format!("ks/{valid}"))).await;
    assert_eq!(response.status, 200);
    assert!(
        response
            .header("cache-control")
            .unwrap()
            .starts_with("no-store")
    );
}

#[tokio::test]
async fn referrer_rules_use_parameter_or_header() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    let rules = AccessRules {
        allowed_referrers: vec!["example.com".into()],
        ..Default::default()
    };
    let profile = server
        .data
        .store
        .insert_access_rules(PARTNER, &rules)
        .unwrap();
    server
        .data
        .store
        .set_entry_access_control(&entry.id, Some(profile))
        .unwrap();
    let url = server.thumb(&entry.id, "");

    let response = get_with(&url, &[("referer", "https://blog.example.com/post")]).await;
    assert_eq!(response.status, 200);
    let response = get_with(&url, &[("referer", "https://elsewhere.test/")]).await;
    assert_error(&response, 403, "ACCESS_CONTROL_RESTRICTED", 3);

    // base64("https://www.example.com/") in the referrer parameter wins over the header.
    let encoded = "aHR0cHM6Ly93d3cuZXhhbXBsZS5jb20v";
    let response = get_with(
        &server.thumb(&entry.id, &format!("referrer/{encoded}")),
        &[("referer", "https://elsewhere.test/")],
    )
    .await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn capture_blocking_by_rule_and_by_partner() {
    let server = TestServer::start().await;
    let video = server.file("clip.mp4");
    counter_video(&video, 4);
    let entry = server.ingest(&video);
    let rules = AccessRules {
        block_capture: true,
        ..Default::default()
    };
    let profile = server
        .data
        .store
        .insert_access_rules(PARTNER, &rules)
        .unwrap();
    server
        .data
        .store
        .set_entry_access_control(&entry.id, Some(profile))
        .unwrap();

    let response = get(&server.thumb(&entry.id, "vid_sec/1")).await;
    assert_error(&response, 403, "FEATURE_BLOCK_THUMBNAIL_CAPTURE", 38);
    assert_eq!(get(&server.thumb(&entry.id, "width/40")).await.status, 200);

    let other = server.ingest(&video);
    server.update_partner(|p| p.settings.block_capture = true);
    let response = get(&server.thumb(&other.id, "vid_slices/3")).await;
    assert_error(&response, 403, "FEATURE_BLOCK_THUMBNAIL_CAPTURE", 38);
}

#[tokio::test]
async fn flavor_and_version_mismatches() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));

    let response = get(&server.thumb(&entry.id, "flavor_id/0_notmine")).await;
    assert_error(&response, 404, "FLAVOR_NOT_FOUND", 6);
    let response = get(&server.thumb(&entry.id, &format!("flavor_id/{}", entry.flavor_id))).await;
    assert_eq!(response.status, 200);

    let response = get(&server.thumb(&entry.id, "version/7")).await;
    assert_error(&response, 404, "MISSING_THUMBNAIL_FILESYNC", 10);
    assert_eq!(get(&server.thumb(&entry.id, "version/1")).await.status, 200);
}

#[tokio::test]
async fn corrupt_stored_media_fails_without_crashing() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    let stored = server.data.blobs.root().join(&entry.blob_key);
    std::fs::write(&stored, b"\xff\xd8\xff\xe0 this is not a jpeg any more").unwrap();

    let response = get(&server.thumb(&entry.id, "width/50")).await;
    assert_error(&response, 500, "IMAGE_RESIZE_FAILED", 17);
    assert_eq!(response.header("cache-control"), Some("no-store"));

    let healthy = server.ingest(&fixture("pillow_hopper.jpg"));
    assert_eq!(
        get(&server.thumb(&healthy.id, "width/50")).await.status,
        200
    );
}

#[tokio::test]
async fn render_limit_answers_503_and_identical_requests_coalesce() {
    let server = TestServer::start_with(ServiceArgs {
        max_concurrent_renders: Some(1),
        ..Default::default()
    })
    .await;
    let video = server.file("clip.mp4");
    counter_video(&video, 20);
    let entry = server.ingest(&video);

    // Distinct sprites compete for the single render slot.
    let mut tasks = Vec::new();
    for slices in 20..30 {
        let url = server.thumb(
            &entry.id,
            &format!("width/64/height/36/vid_slices/{slices}"),
        );
        tasks.push(tokio::spawn(async move { get(&url).await }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        if response.status == 503 {
            assert_error(&response, 503, "TOO_MANY_PROCESSES", 46);
            assert_eq!(response.header("retry-after"), Some("1"));
        }
        statuses.push(response.status);
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.contains(&503), "{statuses:?}");

    // Identical requests share one render, so none of them is refused.
    let url = server.thumb(&entry.id, "width/64/height/36/vid_slices/40");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move { get(&url).await.status }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let metrics = String::from_utf8(get(&server.url("/metrics")).await.body).unwrap();
    assert!(
        metrics.contains("thumbd_rejected_renders_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn malformed_paths_get_clear_errors() {
    let server = TestServer::start().await;
    let response = get(&server.url("/p/abc/thumbnail/entry_id/x")).await;
    assert_error(&response, 400, "BAD_QUERY", 25);
    let response = get(&server.url("/p/1/thumbnail/width/100")).await;
    assert_error(&response, 400, "BAD_QUERY", 25);
    let response = get(&server.url("/p/1/notathumbnail")).await;
    assert_eq!(response.status, 404);
    let response =
        get(&server.url(&format!("/p/{PARTNER}/thumbnail/entry_id/%FF%FE/width/%00"))).await;
    assert_error(&response, 404, "ENTRY_ID_NOT_FOUND", 1);
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_request() {
    let server = TestServer::start().await;
    let video = server.file("clip.mp4");
    counter_video(&video, 20);
    let entry = server.ingest(&video);
    let url = server.thumb(&entry.id, "width/64/height/36/vid_slices/30");

    let request = tokio::spawn(async move { get(&url).await.status });
    // Shut down only once the render is running, however slow the machine is.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while server.services.metrics.renders_in_flight.get() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the render never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.shutdown().await;
    assert_eq!(request.await.unwrap(), 200);
}
