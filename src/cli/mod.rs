//! The `thumbd` command line: serve, render, ingest, and data-dir administration.

mod admin;
mod bench;
mod render;
mod serve;
mod sprites;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// GPU-ready thumbnail service compatible with the Kaltura thumbnail API.
#[derive(Parser, Debug)]
#[command(name = "thumbd", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP service.
    Serve(serve::ServeArgs),
    /// Render one thumbnail from a file, without a server.
    Render(render::RenderArgs),
    /// Write sprite strips and WebVTT storyboards for many videos.
    Sprites(sprites::SpritesArgs),
    /// Compare the GPU and CPU backends on the same workloads.
    Bench(bench::BenchArgs),
    /// Store media files as entries of a partner. Prints one line per file:
    /// ENTRY_ID MEDIA_TYPE WIDTH HEIGHT DURATION_SECONDS, where MEDIA_TYPE is Kaltura's
    /// number (1 video, 2 image, 5 audio).
    Ingest(admin::IngestArgs),
    /// Manage stored entries.
    Entry {
        #[command(subcommand)]
        command: admin::EntryCommand,
    },
    /// Manage partners: their secrets, KS format and thumbnail settings.
    Partner {
        #[command(subcommand)]
        command: admin::PartnerCommand,
    },
}

/// Location of the metadata database and blobs.
#[derive(clap::Args, Debug, Clone)]
pub struct DataDirArg {
    /// Directory holding the database (thumbd.sqlite3) and media blobs.
    #[arg(long, env = "THUMBD_DATA_DIR", default_value = "./thumbd-data")]
    pub data_dir: PathBuf,
}

/// Parses `--params` (`width/160/height/90/...`) with the thumbnail URL grammar.
fn parse_params(params: &str) -> anyhow::Result<crate::plan::ThumbnailRequest> {
    let path = format!("/p/0/thumbnail/entry_id/file/{}", params.trim_matches('/'));
    crate::http::thumbnail_url::parse_thumbnail_url(&path, None)
        .map_err(|error| anyhow::anyhow!("{error}"))
}

/// Parses the command line, sets up logging and runs the command.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Render(args) => render::run(args),
        Command::Sprites(args) => sprites::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Ingest(args) => admin::ingest(args),
        Command::Entry { command } => admin::entry(command),
        Command::Partner { command } => admin::partner(command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("THUMBD_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
