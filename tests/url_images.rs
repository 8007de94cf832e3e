//! The URL API on image entries, through the real server: geometry of every type,
//! padding, crops, orientation, transparency, formats and HTTP caching.

mod common;

use common::*;
use image::{Rgba, RgbaImage};

/// Writes an RGBA image as PNG and returns its path.
fn write_png(server: &TestServer, name: &str, image: &RgbaImage) -> std::path::PathBuf {
    let path = server.file(name);
    image.save(&path).unwrap();
    path
}

/// 400x300 with quadrants: top-left red, top-right green, bottom-left blue,
/// bottom-right white.
fn quadrants() -> RgbaImage {
    RgbaImage::from_fn(400, 300, |x, y| match (x < 200, y < 150) {
        (true, true) => Rgba([255, 0, 0, 255]),
        (false, true) => Rgba([0, 255, 0, 255]),
        (true, false) => Rgba([0, 0, 255, 255]),
        (false, false) => Rgba([255, 255, 255, 255]),
    })
}

#[tokio::test]
async fn output_size_for_every_type_and_dimension_combination() {
    let server = TestServer::start().await;
    let entry = server.ingest(&write_png(&server, "q.png", &quadrants()));
    let cases: &[(&str, (u32, u32))] = &[
        ("", (120, 90)),
        ("width/200", (200, 150)),
        ("height/60", (80, 60)),
        ("width/200/height/200", (200, 150)),
        ("width/0/height/0", (400, 300)),
        ("def_width/50/def_height/40", (50, 38)),
        ("type/2/width/200/height/200", (200, 200)),
        ("type/2/width/200", (200, 150)),
        ("type/3/width/200/height/100", (200, 100)),
        ("type/3/width/200", (200, 200)),
        ("type/4/height/50", (50, 50)),
        ("type/4/width/100/height/300", (100, 300)),
        ("type/5/width/333/height/77", (333, 77)),
        ("type/5/width/200", (200, 150)),
        ("width/333!/height/77", (333, 77)),
        ("width/1000/height/1000", (1000, 750)),
    ];
    for (params, expected) in cases {
        let response = get(&server.thumb(&entry.id, params)).await;
        assert_eq!(response.status, 200, "{params}");
        let image = response.image();
        assert_eq!(image.dimensions(), *expected, "size for {params:?}");
    }
}

#[tokio::test]
async fn type2_pads_with_bgcolor() {
    let server = TestServer::start().await;
    let wide = RgbaImage::from_pixel(400, 100, Rgba([255, 0, 0, 255]));
    let entry = server.ingest(&write_png(&server, "wide.png", &wide));
    let response = get(&server.thumb(
        &entry.id,
        "type/2/width/200/height/200/bgcolor/00ff00/format/png",
    ))
    .await;
    let image = response.image();
    assert_eq!(image.dimensions(), (200, 200));
    assert_colour_near(
        mean_colour(&image, 0, 0, 200, 60),
        [0, 255, 0],
        2.0,
        "top bar",
    );
    assert_colour_near(
        mean_colour(&image, 0, 145, 200, 55),
        [0, 255, 0],
        2.0,
        "bottom bar",
    );
    assert_colour_near(
        mean_colour(&image, 0, 80, 200, 40),
        [255, 0, 0],
        2.0,
        "picture",
    );
}

/// 100x400 in four horizontal bands: red, green, blue, white from the top.
fn bands() -> RgbaImage {
    RgbaImage::from_fn(100, 400, |_, y| match y / 100 {
        0 => Rgba([255, 0, 0, 255]),
        1 => Rgba([0, 255, 0, 255]),
        2 => Rgba([0, 0, 255, 255]),
        _ => Rgba([255, 255, 255, 255]),
    })
}

#[tokio::test]
async fn type3_crops_centre_and_type4_crops_top() {
    let server = TestServer::start().await;
    let entry = server.ingest(&write_png(&server, "bands.png", &bands()));

    let centre = get(&server.thumb(&entry.id, "type/3/width/100/height/100/format/png"))
        .await
        .image();
    assert_colour_near(
        mean_colour(&centre, 0, 5, 100, 40),
        [0, 255, 0],
        3.0,
        "type 3 upper half",
    );
    assert_colour_near(
        mean_colour(&centre, 0, 55, 100, 40),
        [0, 0, 255],
        3.0,
        "type 3 lower half",
    );

    let top = get(&server.thumb(&entry.id, "type/4/width/100/height/100/format/png"))
        .await
        .image();
    assert_colour_near(mean_colour(&top, 0, 0, 100, 95), [255, 0, 0], 3.0, "type 4");
}

#[tokio::test]
async fn source_crop_selects_region_and_rel_width_rescales() {
    let server = TestServer::start().await;
    let entry = server.ingest(&write_png(&server, "q.png", &quadrants()));

    let crop = get(&server.thumb(
        &entry.id,
        "src_x/200/src_y/150/src_w/200/src_h/150/width/100/height/75/format/png",
    ))
    .await;
    let image = crop.image();
    assert_eq!(image.dimensions(), (100, 75));
    assert_colour_near(
        mean_colour(&image, 0, 0, 100, 75),
        [255, 255, 255],
        2.0,
        "bottom-right quadrant",
    );

    // Coordinates measured on a 200x150 preview address the same quadrant.
    let relative = "src_x/100/src_y/75/src_w/100/src_h/75/rel_width/200/rel_height/150/width/100/height/75/format/png";
    let image = get(&server.thumb(&entry.id, relative)).await.image();
    assert_colour_near(
        mean_colour(&image, 0, 0, 100, 75),
        [255, 255, 255],
        2.0,
        "rel_width crop",
    );

    let top_left = get(&server.thumb(&entry.id, "src_w/200/src_h/150/width/0/height/0/format/png"))
        .await
        .image();
    assert_eq!(top_left.dimensions(), (200, 150));
    assert_colour_near(
        mean_colour(&top_left, 0, 0, 200, 150),
        [255, 0, 0],
        2.0,
        "top-left quadrant",
    );
}

fn mean_abs_difference(a: &RgbaImage, b: &RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: f64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| {
            (0..3)
                .map(|c| (f64::from(p[c]) - f64::from(q[c])).abs())
                .sum::<f64>()
        })
        .sum();
    total / f64::from(a.width() * a.height() * 3)
}

#[tokio::test]
async fn exif_orientations_come_out_upright() {
    let server = TestServer::start().await;
    let upright = server.ingest(&fixture("pillow_hopper.jpg"));
    let reference = get(&server.thumb(&upright.id, "width/64/height/64/format/png"))
        .await
        .image();

    for orientation in 2..=8 {
        let entry = server.ingest(&fixture(&format!(
            "pillow_hopper_orientation_{orientation}.jpg"
        )));
        let image = get(&server.thumb(&entry.id, "width/64/height/64/format/png"))
            .await
            .image();
        let difference = mean_abs_difference(&reference, &image);
        assert!(
            difference < 12.0,
            "orientation {orientation} differs by {difference:.1} on average"
        );

        // Turning it the wrong way would differ a lot; the check above can fail.
        let flipped = image::imageops::flip_horizontal(&image);
        assert!(mean_abs_difference(&reference, &flipped) > difference + 10.0);
    }
}

#[tokio::test]
async fn transparent_pixels_take_bgcolor_on_every_type() {
    let server = TestServer::start().await;
    // Left half fully transparent, right half opaque red.
    let source = RgbaImage::from_fn(200, 100, |x, _| {
        if x < 100 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([255, 0, 0, 255])
        }
    });
    let entry = server.ingest(&write_png(&server, "alpha.png", &source));

    for crop_type in 1..=5 {
        let params = format!("type/{crop_type}/width/100/height/100/bgcolor/0000ff/format/png");
        let image = get(&server.thumb(&entry.id, &params)).await.image();
        let (width, height) = image.dimensions();
        let y = height / 2;
        let left = image.get_pixel(5, y).0;
        let right = image.get_pixel(width - 5, y).0;
        assert_eq!(left, [0, 0, 255, 255], "type {crop_type}: transparent area");
        assert!(
            right[0] > 240 && right[2] < 15,
            "type {crop_type}: red area is {right:?}"
        );
    }
}

#[tokio::test]
async fn formats_set_content_type_and_quality_applies() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    for (format, content_type) in [
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("png", "image/png"),
        ("bmp", "image/bmp"),
        ("gif", "image/gif"),
        ("webp", "image/webp"),
    ] {
        let response = get(&server.thumb(&entry.id, &format!("width/100/format/{format}"))).await;
        assert_eq!(response.status, 200, "{format}");
        assert_eq!(response.header("content-type"), Some(content_type));
        assert_eq!(response.image().dimensions(), (100, 100), "{format}");
    }

    let low = get(&server.thumb(&entry.id, "width/128/quality/10/format/webp")).await;
    let high = get(&server.thumb(&entry.id, "width/128/quality/95/format/webp")).await;
    assert!(
        low.body.len() < high.body.len(),
        "webp quality has no effect"
    );
    let low = get(&server.thumb(&entry.id, "width/128/quality/10")).await;
    let high = get(&server.thumb(&entry.id, "width/128/quality/95")).await;
    assert!(
        low.body.len() < high.body.len(),
        "jpeg quality has no effect"
    );
}

#[tokio::test]
async fn partner_default_quality_applies_when_url_has_none() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    let default = get(&server.thumb(&entry.id, "width/128")).await;
    server.update_partner(|p| p.settings.default_quality = Some(20));
    let lowered = get(&server.thumb(&entry.id, "width/128")).await;
    assert!(lowered.body.len() < default.body.len());
}

#[tokio::test]
async fn cmyk_jpeg_and_gif_sources_decode() {
    let server = TestServer::start().await;
    let cmyk = server.ingest(&fixture("pillow_pil_sample_cmyk.jpg"));
    let response = get(&server.thumb(&cmyk.id, "width/50")).await;
    assert_eq!(response.image().dimensions(), (50, 50));

    let gif = server.ingest(&fixture("pillow_dispose_bgnd.gif"));
    let response = get(&server.thumb(&gif.id, "width/50")).await;
    assert_eq!(response.header("content-type"), Some("image/jpeg"));
    assert_eq!(response.image().dimensions(), (50, 50));
}

#[tokio::test]
async fn animated_gif_stays_animated_when_partner_enables_it() {
    let server = TestServer::start().await;
    let gif = server.ingest(&fixture("pillow_dispose_bgnd.gif"));
    server.update_partner(|p| p.settings.animated_gif = true);

    let response = get(&server.thumb(&gif.id, "width/50")).await;
    assert_eq!(response.header("content-type"), Some("image/gif"));
    let decoder =
        image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&response.body)).unwrap();
    let frames = image::AnimationDecoder::into_frames(decoder)
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 5);
    assert!(frames.iter().all(|f| f.buffer().dimensions() == (50, 50)));

    let still = get(&server.thumb(&gif.id, "width/50/format/png")).await;
    assert_eq!(still.header("content-type"), Some("image/png"));
}

#[tokio::test]
async fn file_name_sets_content_disposition() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    let response = get(&server.thumb(&entry.id, "width/64/file_name/my%22thumb.jpg")).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-disposition"),
        Some("attachment; filename=\"mythumb.jpg\"")
    );
    let plain = get(&server.thumb(&entry.id, "width/64")).await;
    assert_eq!(plain.header("content-disposition"), None);
}

#[tokio::test]
async fn etag_revalidation_answers_304() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    let url = server.thumb(&entry.id, "width/64");
    let first = get(&url).await;
    let etag = first.header("etag").expect("etag header").to_string();

    let again = get_with(&url, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    let stale = get_with(&url, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body, first.body);
}

#[tokio::test]
async fn cache_headers_follow_entry_status_and_partner() {
    let server = TestServer::start().await;
    let ready = server.ingest(&fixture("pillow_hopper.jpg"));
    let pending = server.ingest_with(
        &fixture("pillow_hopper.jpg"),
        thumbd::store::EntryStatus::PENDING,
    );

    let response = get(&server.thumb(&ready.id, "")).await;
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=3600, max-stale=0")
    );
    assert!(response.header("last-modified").is_some());
    assert!(response.header("expires").is_some());

    let response = get(&server.thumb(&pending.id, "")).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=60, max-stale=0")
    );

    server.update_partner(|p| p.settings.cache_age = Some(600));
    let response = get(&server.thumb(&ready.id, "width/10")).await;
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=600, max-stale=0")
    );
}

#[tokio::test]
async fn health_and_metrics_endpoints() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    assert_eq!(get(&server.url("/healthz")).await.status, 200);
    get(&server.thumb(&entry.id, "width/30")).await;
    get(&server.thumb(&entry.id, "width/30")).await;

    let metrics = String::from_utf8(get(&server.url("/metrics")).await.body).unwrap();
    assert!(
        metrics.contains("thumbd_requests_total{status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("thumbd_cache_hits_total 1"), "{metrics}");
    assert!(
        metrics.contains("thumbd_render_seconds_bucket"),
        "{metrics}"
    );

    let missing = get(&server.url("/nowhere")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], "NOT_FOUND");
}
