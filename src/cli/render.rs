//! `thumbd render`: the serving pipeline on one file, for scripts and benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{BackendArgs, LimitArgs};
use crate::plan::{self, OutputFormat};
use crate::service::render_job::{RenderJob, SourceMedia, encode_options};
use crate::service::thumbnail::DEFAULT_THUMB_OFFSET;
use crate::source;

#[derive(clap::Args, Debug)]
pub struct RenderArgs {
    /// Image, video or audio file.
    input: PathBuf,

    /// URL parameters as in the thumbnail API, such as `width/160/height/90/type/3`.
    #[arg(long, default_value = "")]
    params: String,

    /// Output file; its extension (jpg, png, bmp, gif, webp) sets the format when
    /// --params has no `format`.
    #[arg(short, long)]
    output: PathBuf,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    backend: BackendArgs,
}

pub fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let request = super::parse_params(&args.params)?;
    anyhow::ensure!(
        request.format != Some(OutputFormat::Vtt),
        "format vtt needs the sprite's URL; `thumbd sprites` writes a storyboard beside each sprite"
    );

    let limits = args.limits.source_limits();
    let info = source::probe_file(&args.input, &limits)
        .with_context(|| format!("cannot use {} as a source", args.input.display()))?;
    let (facts, media) = SourceMedia::from_info(args.input.clone(), &info, false);
    let plan = plan::plan_thumbnail(
        &request,
        &facts,
        &args.limits.plan_settings(DEFAULT_THUMB_OFFSET),
    )?;

    // Without `format` in --params, the output file's extension picks it (JPEG otherwise).
    let from_extension = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .and_then(OutputFormat::parse)
        .filter(|f| *f != OutputFormat::Vtt);
    let format = request
        .format
        .or(from_extension)
        .unwrap_or(OutputFormat::Jpeg);
    let job = RenderJob {
        plan,
        source: media,
        encode: encode_options(format, request.quality, None, request.density, None),
        strip: request.strip.unwrap_or(false),
        limits,
    };
    let backend = args
        .backend
        .open(
            crate::render::BackendChoice::Cpu,
            std::sync::Arc::new(crate::metrics::Metrics::new()),
        )
        .context("cannot open the rendering backend")?;
    let (rendered, times) = job
        .run(backend.as_ref())
        .with_context(|| format!("cannot render {}", args.input.display()))?;
    std::fs::write(&args.output, &rendered.bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    tracing::debug!(
        decode_ms = times.decode.as_secs_f64() * 1000.0,
        render_ms = times.render.as_secs_f64() * 1000.0,
        encode_ms = times.encode.as_secs_f64() * 1000.0,
        "rendered"
    );
    Ok(ExitCode::SUCCESS)
}
