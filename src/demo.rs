//! Demo content for a first start: a partner with a photo, a video and an audio entry,
//! so that a new user sees a thumbnail within the first minute.
//!
//! The photo ships inside the binary (SpaceX rocket launch, public domain). The video
//! and audio are generated with the `ffmpeg` tool, so they carry no licence.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::service::DataDir;
use crate::service::ingest::{IngestError, IngestRequest, ingest_file};
use crate::source::SourceLimits;
use crate::store::{BlobStore, EntryStatus, MetadataStore, StoreError};

pub const DEMO_PARTNER_ID: i64 = 100;
pub const DEMO_IMAGE_ID: &str = "0_demoimg1";
pub const DEMO_VIDEO_ID: &str = "0_demovid1";
pub const DEMO_AUDIO_ID: &str = "0_demoaud1";

const DEMO_PHOTO: &[u8] = include_bytes!("../assets/demo/rocket.jpg");

/// Failures while creating demo content.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot prepare demo files")]
    Io(#[from] std::io::Error),
    #[error("cannot store demo content")]
    Store(#[from] StoreError),
    #[error("cannot ingest demo media")]
    Ingest(#[from] IngestError),
}

/// Creates the demo partner and entries when the data dir has no demo partner yet.
/// Returns false when the demo partner already existed.
pub fn seed_if_empty(data: &DataDir, limits: &SourceLimits) -> Result<bool, DemoError> {
    if data.store.partner(DEMO_PARTNER_ID)?.is_some() {
        return Ok(false);
    }
    let store: Arc<dyn MetadataStore> = data.store.clone();
    let blobs: Arc<dyn BlobStore> = data.blobs.clone();
    let work = tempfile::tempdir()?;

    let photo = work.path().join("rocket.jpg");
    std::fs::write(&photo, DEMO_PHOTO)?;
    let mut files = vec![(photo, DEMO_IMAGE_ID)];
    match generate_media(work.path()) {
        Ok((video, audio)) => {
            files.push((video, DEMO_VIDEO_ID));
            files.push((audio, DEMO_AUDIO_ID));
        }
        Err(error) => tracing::warn!(
            %error,
            "the ffmpeg tool could not generate the demo video; only the demo photo is created"
        ),
    }

    for (path, entry_id) in files {
        let request = IngestRequest {
            path: &path,
            partner_id: DEMO_PARTNER_ID,
            entry_id: Some(entry_id.to_string()),
            status: EntryStatus::READY,
            limits: *limits,
        };
        ingest_file(&store, &blobs, &request)?;
    }
    Ok(true)
}

/// Generates a 60 s 720p test-pattern video with a keyframe every 2 s, and 10 s of tone.
fn generate_media(dir: &Path) -> std::io::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let video = dir.join("demo-video.mp4");
    let audio = dir.join("demo-audio.m4a");
    run_ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=25:duration=60",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        video.to_str().unwrap_or_default(),
    ])?;
    run_ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=10",
        "-c:a",
        "aac",
        audio.to_str().unwrap_or_default(),
    ])?;
    Ok((video, audio))
}

fn run_ffmpeg(arguments: &[&str]) -> std::io::Result<()> {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(arguments)
        .output()?;
    if !output.status.success() {
        return Err(std::io::Error::other(format!(
            "ffmpeg failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Example URLs for the demo entries, as the API guide lists them.
pub fn example_urls(base: &str, ks: &str) -> Vec<String> {
    let video = format!("{base}/p/{DEMO_PARTNER_ID}/thumbnail/entry_id/{DEMO_VIDEO_ID}");
    let image = format!("{base}/p/{DEMO_PARTNER_ID}/thumbnail/entry_id/{DEMO_IMAGE_ID}");
    let audio = format!("{base}/p/{DEMO_PARTNER_ID}/thumbnail/entry_id/{DEMO_AUDIO_ID}");
    vec![
        image.clone(),
        format!("{video}/width/640/height/360/type/3/vid_sec/30"),
        format!("{video}/width/1920/height/1080/quality/100/format/png"),
        format!("{video}/width/160/height/90/vid_slices/10"),
        format!("{image}/width/400/height/400/type/2/bgcolor/ffffff"),
        format!("{video}/width/160/height/90/vid_slices/10/start_sec/10/end_sec/60"),
        format!("{video}/width/160/height/90/vid_slices/10/vid_slice/3"),
        format!("{video}/src_x/100/src_y/50/src_w/800/src_h/450/width/400/height/225"),
        format!("{image}/width/1200/height/630/type/2/bgcolor/000000/quality/90"),
        format!("{image}/width/300/height/300/type/5"),
        format!("{video}/width/1920/height/1080/file_name/thumbnail.jpg"),
        format!("{video}/width/640/height/360/ks/{ks}"),
        format!("{video}/width/160/height/90/vid_slices/10/format/vtt"),
        audio,
    ]
}
