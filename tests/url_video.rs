//! The URL API on video and audio entries: frame times, sprites, storyboards,
//! rotation, and the audio placeholder.

mod common;

use common::*;
use image::GenericImageView;

/// Reads the frame number shown in the middle of tile `index` of a sprite.
fn tile_frame(sprite: &image::RgbaImage, tiles: u32, index: u32) -> i64 {
    let tile_width = sprite.width() / tiles;
    let x = index * tile_width + tile_width / 2;
    frame_number(sprite.get_pixel(x, sprite.height() / 2).0)
}

fn expected_frame(seconds: f64) -> i64 {
    (seconds * COUNTER_FPS).round() as i64
}

#[tokio::test]
async fn sprite_tiles_show_exact_slice_times() {
    let server = TestServer::start().await;
    let video = server.file("counter.mp4");
    counter_video(&video, 60);
    let entry = server.ingest(&video);
    assert_eq!(entry.duration.round(), 60.0);

    // 8 slices over 60 s: exact times 0, 7.5, 15, ... (Kaltura floors to 0, 7, 15, ...).
    let response =
        get(&server.thumb(&entry.id, "width/80/height/45/vid_slices/8/quality/95")).await;
    assert_eq!(response.status, 200);
    let sprite = response.image();
    assert_eq!(sprite.dimensions(), (640, 45));
    for index in 0..8 {
        let expected = expected_frame(7.5 * f64::from(index));
        assert_eq!(tile_frame(&sprite, 8, index), expected, "slice {index}");
    }
}

#[tokio::test]
async fn sprite_window_single_slice_and_vid_sec() {
    let server = TestServer::start().await;
    let video = server.file("counter.mp4");
    counter_video(&video, 60);
    let entry = server.ingest(&video);

    let window = get(&server.thumb(
        &entry.id,
        "width/80/height/45/vid_slices/5/start_sec/10/end_sec/35/quality/95",
    ))
    .await
    .image();
    assert_eq!(window.dimensions(), (400, 45));
    for index in 0..5 {
        let expected = expected_frame(10.0 + 5.0 * f64::from(index));
        assert_eq!(
            tile_frame(&window, 5, index),
            expected,
            "window slice {index}"
        );
    }

    let single = get(&server.thumb(
        &entry.id,
        "width/80/height/45/vid_slices/6/vid_slice/3/quality/95",
    ))
    .await
    .image();
    assert_eq!(single.dimensions(), (80, 45));
    assert_eq!(
        frame_number(single.get_pixel(40, 22).0),
        expected_frame(30.0)
    );

    let frame = get(&server.thumb(&entry.id, "vid_sec/12.5/width/80/height/45/quality/95"))
        .await
        .image();
    assert_eq!(
        frame_number(frame.get_pixel(40, 22).0),
        expected_frame(12.5)
    );
}

#[tokio::test]
async fn vid_sec_past_end_and_default() {
    let server = TestServer::start().await;
    let video = server.file("counter.mp4");
    counter_video(&video, 12);
    let entry = server.ingest(&video);
    let last = (12.0 * COUNTER_FPS) as i64 - 1;

    for params in ["vid_sec/500/quality/95", "vid_sec/12/quality/95"] {
        let image = get(&server.thumb(&entry.id, params)).await.image();
        let (w, h) = image.dimensions();
        assert_eq!(
            frame_number(image.get_pixel(w / 2, h / 2).0),
            last,
            "{params}"
        );
    }

    let default = get(&server.thumb(&entry.id, "quality/95")).await.image();
    assert_eq!(default.dimensions(), (120, 68));
    assert_eq!(
        frame_number(default.get_pixel(60, 34).0),
        expected_frame(3.0)
    );

    server.update_partner(|p| p.settings.thumb_offset = Some(8.0));
    let moved = get(&server.thumb(&entry.id, "quality/95/width/100"))
        .await
        .image();
    assert_eq!(frame_number(moved.get_pixel(50, 28).0), expected_frame(8.0));
}

#[tokio::test]
async fn rotated_video_comes_out_upright() {
    let server = TestServer::start().await;
    let plain = server.file("plain.mp4");
    let rotated = server.file("rotated.mp4");
    // Left half blue, right half red; displayed turned by the container's matrix.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=160x90:r=10:d=2,drawbox=x=0:y=0:w=80:h=90:color=blue:t=fill",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        plain.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-i",
        plain.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        rotated.to_str().unwrap(),
    ]);
    let entry = server.ingest(&rotated);
    assert_eq!(entry.displayed_size(), thumbd::frame::Size::new(90, 160));

    // FFmpeg's own autorotation of the same file is the Kaltura server picture.
    let reference = server.file("reference.png");
    ffmpeg(&[
        "-i",
        rotated.to_str().unwrap(),
        "-frames:v",
        "1",
        reference.to_str().unwrap(),
    ]);
    let reference = image::open(&reference).unwrap().into_rgba8();

    for params in [
        "width/0/height/0/vid_sec/1/format/png",
        "width/0/height/0/vid_slices/2/format/png",
    ] {
        let image = get(&server.thumb(&entry.id, params)).await.image();
        let first_tile = image.view(0, 0, 90, 160).to_image();
        assert_eq!(first_tile.dimensions(), reference.dimensions(), "{params}");
        let top = mean_colour(&first_tile, 10, 10, 70, 50);
        let bottom = mean_colour(&first_tile, 10, 100, 70, 50);
        assert_colour_near(top, rgb(&reference, 45, 35), 12.0, "top half");
        assert_colour_near(bottom, rgb(&reference, 45, 125), 12.0, "bottom half");
        assert!(
            (top[0] - bottom[0]).abs() > 150.0,
            "{params}: halves must differ"
        );
    }
}

fn rgb(image: &image::RgbaImage, x: u32, y: u32) -> [u8; 3] {
    let p = image.get_pixel(x, y).0;
    [p[0], p[1], p[2]]
}

#[tokio::test]
async fn storyboard_lists_one_cue_per_slice() {
    let server = TestServer::start().await;
    let video = server.file("counter.mp4");
    counter_video(&video, 20);
    let entry = server.ingest(&video);

    let response =
        get(&server.thumb(&entry.id, "width/160/height/90/vid_slices/4/format/vtt")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/vtt"));
    let text = String::from_utf8(response.body).unwrap();
    assert!(text.starts_with("WEBVTT\n"));
    let cues: Vec<&str> = text.lines().filter(|l| l.contains(" --> ")).collect();
    assert_eq!(cues.len(), 4);
    assert_eq!(cues[1], "00:00:05.000 --> 00:00:10.000");
    let last = text.lines().last().unwrap();
    assert!(
        last.ends_with("/width/160/height/90/vid_slices/4/format/jpg#xywh=480,0,160,90"),
        "{last}"
    );

    // The sprite the cues point at is served.
    let sprite_path = last.split('#').next().unwrap();
    let sprite = get(&server.url(sprite_path)).await;
    assert_eq!(sprite.image().dimensions(), (640, 90));
}

#[tokio::test]
async fn image_entries_ignore_capture_and_tile_copies() {
    let server = TestServer::start().await;
    let entry = server.ingest(&fixture("pillow_hopper.jpg"));
    let sprite = get(&server.thumb(&entry.id, "width/50/height/50/vid_slices/3/vid_sec/4")).await;
    assert_eq!(sprite.image().dimensions(), (150, 50));
    let frame = get(&server.thumb(&entry.id, "width/50/height/50/vid_sec/4")).await;
    assert_eq!(frame.image().dimensions(), (50, 50));
}

#[tokio::test]
async fn audio_entries_get_placeholder_or_partner_image() {
    let server = TestServer::start().await;
    let audio = server.file("tone.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-c:a",
        "aac",
        audio.to_str().unwrap(),
    ]);
    let entry = server.ingest(&audio);
    assert_eq!(entry.media_type, thumbd::source::MediaType::Audio);

    let placeholder = get(&server.thumb(&entry.id, "vid_sec/1/format/png")).await;
    assert_eq!(placeholder.status, 200);
    let image = placeholder.image();
    assert_eq!(image.dimensions(), (120, 90));
    assert_colour_near(
        mean_colour(&image, 0, 0, 5, 5),
        [38, 42, 51],
        4.0,
        "placeholder background",
    );

    let picture = server.ingest(&fixture("pillow_hopper.jpg"));
    server.update_partner(|p| p.settings.audio_thumb_entry_id = Some(picture.id.clone()));
    let image = get(&server.thumb(&entry.id, "width/64/format/png"))
        .await
        .image();
    let expected = get(&server.thumb(&picture.id, "width/64/format/png"))
        .await
        .image();
    assert_eq!(image, expected);
}
