//! Ingest and the command line: probing, limits, bad files, and the `thumbd` binary.

mod common;

use std::process::Command;

use common::*;
use thumbd::service::DataDir;
use thumbd::store::MetadataStore;

fn thumbd(arguments: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_thumbd"))
        .args(arguments)
        .env("THUMBD_LOG", "warn")
        .output()
        .expect("thumbd binary runs")
}

/// Builds a PNG whose header claims `width` x `height` but whose data is tiny: a
/// decompression bomb as far as any decoder that trusts the header is concerned.
fn lying_png(width: u32, height: u32) -> Vec<u8> {
    let mut png = Vec::new();
    image::RgbaImage::new(1, 1)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // IHDR data starts at byte 16 (signature 8, length 4, type 4); CRC follows 13 bytes.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

#[test]
fn ingest_prints_one_line_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("clip.mp4");
    counter_video(&video, 3);
    let data_dir = dir.path().join("data");
    let output = thumbd(&[
        "ingest",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--partner-id",
        "55",
        fixture("pillow_hopper_orientation_6.jpg").to_str().unwrap(),
        video.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(&lines[0][1..], &["2", "128", "128", "0.000"]);
    assert_eq!(&lines[1][1..4], &["1", "320", "180"]);
    assert!((lines[1][4].parse::<f64>().unwrap() - 3.0).abs() < 0.2);
    assert!(lines[0][0].starts_with("0_"));
    assert_eq!(lines[0][0].len(), 10);
}

#[test]
fn bad_files_are_reported_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let bomb = dir.path().join("bomb.png");
    std::fs::write(&bomb, lying_png(60_000, 60_000)).unwrap();
    let truncated = dir.path().join("truncated.jpg");
    let jpeg = std::fs::read(fixture("pillow_hopper.jpg")).unwrap();
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 3]).unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "just text").unwrap();

    for (path, reason) in [
        (&bomb, "exceeds the limit"),
        (&truncated, "decoding failed"),
        (&text, "not an image, video or audio format"),
    ] {
        let output = thumbd(&[
            "ingest",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--partner-id",
            "55",
            path.to_str().unwrap(),
        ]);
        assert!(!output.status.success(), "{path:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{path:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }

    let data = DataDir::open(&data_dir).unwrap();
    assert!(data.store.blob_keys().unwrap().is_empty());
    let blobs: Vec<_> = walk(&data_dir.join("blobs"));
    assert!(blobs.is_empty(), "{blobs:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for item in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = item.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn source_pixel_limit_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let output = thumbd(&[
        "ingest",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--partner-id",
        "55",
        "--max-source-pixels",
        "10000",
        fixture("pillow_hopper.jpg").to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("exceeds the limit of 10000 pixels"));
}

#[test]
fn render_command_writes_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let output = thumbd(&[
        "render",
        fixture("pillow_hopper.jpg").to_str().unwrap(),
        "--params",
        "width/40/height/20/type/3/format/png",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let image = image::open(&out).unwrap();
    assert_eq!((image.width(), image.height()), (40, 20));

    let output = thumbd(&["render", "/nonexistent.jpg", "-o", out.to_str().unwrap()]);
    assert!(!output.status.success());
    let output = thumbd(&[
        "render",
        fixture("pillow_hopper.jpg").to_str().unwrap(),
        "--params",
        "bgcolor/zz",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("bgcolor must be 1 to 6 hexadecimal digits")
    );
}

#[test]
fn entry_and_partner_commands_change_stored_data() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data_arg = data_dir.to_str().unwrap();
    let output = thumbd(&[
        "ingest",
        "--data-dir",
        data_arg,
        "--partner-id",
        "9",
        "--entry-id",
        "0_fixedid1",
        "--status",
        "pending",
        fixture("pillow_hopper.jpg").to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = thumbd(&[
        "ingest",
        "--data-dir",
        data_arg,
        "--partner-id",
        "9",
        "--entry-id",
        "0_fixedid1",
        fixture("pillow_hopper.jpg").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));

    assert!(
        thumbd(&["entry", "delete", "--data-dir", data_arg, "0_fixedid1"])
            .status
            .success()
    );
    let output = thumbd(&[
        "partner",
        "set",
        "--data-dir",
        data_arg,
        "--partner-id",
        "9",
        "--default-quality",
        "70",
        "--animated-gif",
        "true",
        "--thumb-offset",
        "5",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let data = DataDir::open(&data_dir).unwrap();
    let entry = data.store.entry("0_fixedid1").unwrap().unwrap();
    assert_eq!(entry.status, thumbd::store::EntryStatus::DELETED);
    let partner = data.store.partner(9).unwrap().unwrap();
    assert_eq!(partner.settings.default_quality, Some(70));
    assert!(partner.settings.animated_gif);
    assert_eq!(partner.settings.thumb_offset, Some(5.0));
}

#[test]
fn sprites_command_writes_strips_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.mp4");
    let second = dir.path().join("second.mp4");
    counter_video(&first, 4);
    counter_video(&second, 8);
    let broken = dir.path().join("broken.mp4");
    std::fs::write(&broken, b"not a video").unwrap();
    let out = dir.path().join("out");

    for backend in ["cpu", "gpu"] {
        let output = thumbd(&[
            "sprites",
            "--params",
            "width/64/height/36/vid_slices/4",
            "--out",
            out.to_str().unwrap(),
            "--backend",
            backend,
            first.to_str().unwrap(),
            broken.to_str().unwrap(),
            second.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if backend == "gpu" && stderr.contains("no GPU adapter") && std::env::var_os("CI").is_none()
        {
            continue;
        }
        assert!(
            !output.status.success(),
            "{backend}: a broken file must fail the run"
        );
        assert!(stderr.contains("broken.mp4"), "{backend}: {stderr}");
        assert!(stderr.contains("2 sprites written"), "{backend}: {stderr}");

        for name in ["first", "second"] {
            let sprite = image::open(out.join(format!("{name}.jpg"))).unwrap();
            assert_eq!(
                (sprite.width(), sprite.height()),
                (256, 36),
                "{backend} {name}"
            );
            let storyboard = std::fs::read_to_string(out.join(format!("{name}.vtt"))).unwrap();
            assert_eq!(storyboard.matches(" --> ").count(), 4);
            assert!(
                storyboard.contains(&format!("{name}.jpg#xywh=192,0,64,36")),
                "{storyboard}"
            );
        }
        assert!(!out.join("broken.jpg").exists());
    }
}

#[test]
fn render_takes_format_from_output_extension() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("thumb.png");
    let output = thumbd(&[
        "render",
        fixture("pillow_hopper.jpg").to_str().unwrap(),
        "--params",
        "width/32",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let format = image::guess_format(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(format, image::ImageFormat::Png);
}

#[test]
fn sprites_refuses_two_videos_with_one_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    let first = dir.path().join("a/clip.mp4");
    let second = dir.path().join("b/clip.mp4");
    counter_video(&first, 2);
    std::fs::copy(&first, &second).unwrap();
    let out = dir.path().join("out");

    let output = thumbd(&[
        "sprites",
        "--params",
        "width/32/height/18/vid_slices/2",
        "--out",
        out.to_str().unwrap(),
        "--backend",
        "cpu",
        first.to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("b/clip.mp4: another video already writes clip.*"),
        "{stderr}"
    );
    assert!(stderr.contains("1 sprite written"), "{stderr}");
    assert!(out.join("clip.jpg").exists());
}
