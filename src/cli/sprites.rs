//! `thumbd sprites`: sprite strips and WebVTT storyboards for many videos at once.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{BackendArgs, LimitArgs};
use crate::metrics::Metrics;
use crate::plan::{self, OutputFormat, SliceWindow, SourceFacts, ThumbnailRequest};
use crate::render::Backend;
use crate::service::render_job::{RenderJob, SourceMedia, encode_options};
use crate::service::thumbnail::DEFAULT_THUMB_OFFSET;
use crate::service::vtt;
use crate::source;

#[derive(clap::Args, Debug)]
pub struct SpritesArgs {
    /// URL parameters of the sprite, which must include `vid_slices`, such as
    /// `width/160/height/90/vid_slices/20`.
    #[arg(long)]
    params: String,

    /// Directory for the outputs: NAME.jpg (or the requested format) and NAME.vtt per video.
    #[arg(long)]
    out: PathBuf,

    /// Videos rendered at once; defaults to the number of CPU cores.
    #[arg(long)]
    jobs: Option<usize>,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    backend: BackendArgs,

    /// Video files.
    #[arg(required = true)]
    videos: Vec<PathBuf>,
}

/// Renders every video, reporting failures per file without stopping.
pub fn run(args: SpritesArgs) -> anyhow::Result<ExitCode> {
    let request = super::parse_params(&args.params)?;
    anyhow::ensure!(
        request.is_sprite(),
        "--params must ask for a sprite with vid_slices (and no vid_slice)"
    );
    anyhow::ensure!(
        request.format != Some(OutputFormat::Vtt),
        "format vtt is written beside every sprite already; choose an image format"
    );
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let backend = args
        .backend
        .open(crate::render::BackendChoice::Auto, Arc::new(Metrics::new()))
        .context("cannot open the rendering backend")?;

    let progress = ProgressBar::new(args.videos.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} videos, {elapsed} elapsed, {msg}")
            .expect("static template"),
    );
    // Two videos with the same file stem would write the same NAME.jpg and NAME.vtt.
    let mut stems = std::collections::HashSet::new();
    let mut duplicates = Vec::new();
    let mut videos = Vec::new();
    for video in &args.videos {
        if stems.insert(output_stem(video)) {
            videos.push(video);
        } else {
            eprintln!(
                "error: {}: another video already writes {}.*; rename one of them",
                video.display(),
                output_stem(video)
            );
            duplicates.push(video.clone());
        }
    }
    let queue = Mutex::new(videos.into_iter());
    let failures = Mutex::new(duplicates);
    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, args.videos.len().max(1));

    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(video) = queue.lock().expect("queue lock").next() {
                    progress.set_message(file_label(video));
                    let result = render_one(video, &request, &args, backend.as_ref());
                    if let Err(error) = result {
                        progress.suspend(|| eprintln!("error: {}: {error:#}", video.display()));
                        failures.lock().expect("failure lock").push(video.clone());
                    }
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_with_message("done");

    let failures = failures.into_inner().expect("failure lock");
    let done = args.videos.len() - failures.len();
    let noun = if done == 1 { "sprite" } else { "sprites" };
    eprintln!(
        "{done} {noun} written to {}, {} failed",
        args.out.display(),
        failures.len()
    );
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Returns the NAME of a video's NAME.jpg and NAME.vtt: its file name without extension.
fn output_stem(video: &Path) -> String {
    video
        .file_stem()
        .map_or_else(|| "video".to_string(), |s| s.to_string_lossy().into_owned())
}

/// Writes NAME.EXT and NAME.vtt for one video.
fn render_one(
    video: &Path,
    request: &ThumbnailRequest,
    args: &SpritesArgs,
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let limits = args.limits.source_limits();
    let info = source::probe_file(video, &limits)?;
    anyhow::ensure!(
        info.media_type == source::MediaType::Video,
        "{} file, not a video",
        match info.media_type {
            source::MediaType::Image => "an image",
            _ => "an audio",
        }
    );
    let (facts, media) = SourceMedia::from_info(video.to_path_buf(), &info, false);
    let plan = plan::plan_thumbnail(
        request,
        &facts,
        &args.limits.plan_settings(DEFAULT_THUMB_OFFSET),
    )?;

    let format = request.format.unwrap_or(OutputFormat::Jpeg);
    let stem = output_stem(video);
    let image_name = format!("{stem}.{}", format.extension());
    let duration = match facts {
        SourceFacts::Video { duration, .. } => duration,
        SourceFacts::Still { .. } => 0.0,
    };
    let window = SliceWindow::from_request(request, duration).expect("checked: a sprite request");
    let storyboard = vtt::storyboard(&image_name, &plan, &window);

    let job = RenderJob {
        plan,
        source: media,
        encode: encode_options(format, request.quality, None, request.density, None),
        strip: request.strip.unwrap_or(false),
        limits,
    };
    let (rendered, _) = job.run(backend)?;
    write_atomically(&args.out.join(&image_name), &rendered.bytes)?;
    write_atomically(&args.out.join(format!("{stem}.vtt")), storyboard.as_bytes())?;
    Ok(())
}

/// Writes through a temporary file and a rename, so that a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
