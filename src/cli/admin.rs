//! Data-dir administration: `ingest`, `entry delete`, `entry access`, `partner set`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::DataDirArg;
use crate::config::LimitArgs;
use crate::service::DataDir;
use crate::service::ingest::{IngestRequest, ensure_partner, ingest_file};
use crate::store::{AccessRules, BlobStore, EntryStatus, MetadataStore};

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    #[command(flatten)]
    data: DataDirArg,

    /// Partner that owns the new entries; created when it does not exist.
    #[arg(long)]
    partner_id: i64,

    /// Entry id to use (only with a single file); generated when omitted.
    #[arg(long)]
    entry_id: Option<String>,

    /// Entry status: a name (ready, pending, preconvert, ...) or a number.
    #[arg(long, default_value = "ready")]
    status: EntryStatus,

    #[command(flatten)]
    limits: LimitArgs,

    /// Media files to store.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Ingests each file and prints `ENTRY_ID MEDIA_TYPE WIDTH HEIGHT DURATION_SECONDS`.
/// A failed file is reported and the others still go in; the exit code is then 1.
pub fn ingest(args: IngestArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.entry_id.is_none() || args.files.len() == 1,
        "--entry-id names one entry, but {} files were given",
        args.files.len()
    );
    let data = open(&args.data)?;
    let store: Arc<dyn MetadataStore> = data.store.clone();
    let blobs: Arc<dyn BlobStore> = data.blobs.clone();

    let mut failed = 0;
    for path in &args.files {
        let request = IngestRequest {
            path,
            partner_id: args.partner_id,
            entry_id: args.entry_id.clone(),
            status: args.status,
            limits: args.limits.source_limits(),
        };
        match ingest_file(&store, &blobs, &request) {
            Ok(entry) => {
                let size = entry.displayed_size();
                println!(
                    "{} {} {} {} {:.3}",
                    entry.id,
                    entry.media_type.number(),
                    size.width,
                    size.height,
                    entry.duration
                );
            }
            Err(error) => {
                failed += 1;
                eprintln!("error: {:#}", anyhow::Error::from(error));
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(clap::Subcommand, Debug)]
pub enum EntryCommand {
    /// Mark an entry deleted, so that its thumbnails return ENTRY_DELETED_MODERATED.
    Delete {
        #[command(flatten)]
        data: DataDirArg,
        entry_id: String,
    },
    /// Attach access-control rules to an entry (replacing any it had).
    Access {
        #[command(flatten)]
        data: DataDirArg,
        entry_id: String,
        /// Block requests without a valid KS.
        #[arg(long)]
        require_ks: bool,
        /// Allow only these referrer domains (repeatable).
        #[arg(long = "allow-referrer")]
        allowed_referrers: Vec<String>,
        /// Block these referrer domains (repeatable).
        #[arg(long = "block-referrer")]
        blocked_referrers: Vec<String>,
        /// Block frame capture (vid_sec, vid_slice, vid_slices).
        #[arg(long)]
        block_capture: bool,
    },
}

pub fn entry(command: EntryCommand) -> anyhow::Result<ExitCode> {
    match command {
        EntryCommand::Delete { data, entry_id } => {
            let data = open(&data)?;
            data.store
                .set_entry_status(&entry_id, EntryStatus::DELETED)
                .with_context(|| format!("cannot delete entry {entry_id}"))?;
            println!("{entry_id} deleted");
        }
        EntryCommand::Access {
            data,
            entry_id,
            require_ks,
            allowed_referrers,
            blocked_referrers,
            block_capture,
        } => {
            let data = open(&data)?;
            let entry = data
                .store
                .entry(&entry_id)?
                .with_context(|| format!("entry {entry_id} not found"))?;
            let rules = AccessRules {
                require_ks,
                allowed_referrers,
                blocked_referrers,
                block_capture,
            };
            let profile = data.store.insert_access_rules(entry.partner_id, &rules)?;
            data.store
                .set_entry_access_control(&entry_id, Some(profile))?;
            println!(
                "{entry_id} access control profile {profile}: {}",
                serde_json::to_string(&rules)?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand, Debug)]
pub enum PartnerCommand {
    /// Change a partner's thumbnail settings (creating the partner if needed) and
    /// print them. Options not given keep their value.
    Set(PartnerSetArgs),
}

#[derive(clap::Args, Debug)]
pub struct PartnerSetArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// Partner to change; created with random secrets when it does not exist.
    #[arg(long)]
    partner_id: i64,
    /// JPEG/WebP quality (1-100) when a URL gives none; 0 restores the default, 85.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
    default_quality: Option<u8>,
    /// Density in pixels per inch written to outputs; 0 writes none.
    #[arg(long)]
    default_density: Option<f64>,
    /// Strip metadata (colour profiles) when a URL has no `strip` parameter.
    #[arg(long)]
    strip: Option<bool>,
    /// Second of a video used for its default thumbnail.
    #[arg(long)]
    thumb_offset: Option<f64>,
    /// Keep animated GIF sources animated.
    #[arg(long)]
    animated_gif: Option<bool>,
    /// Image entry shown for audio entries; an empty value restores the placeholder.
    #[arg(long)]
    audio_thumb_entry_id: Option<String>,
    /// max-age in seconds for this partner's thumbnails; 0 restores the defaults.
    #[arg(long)]
    cache_age: Option<u32>,
    /// Block frame capture for every entry of the partner.
    #[arg(long)]
    block_capture: Option<bool>,
}

pub fn partner(command: PartnerCommand) -> anyhow::Result<ExitCode> {
    let PartnerCommand::Set(args) = command;
    let data = open(&args.data)?;
    let mut partner = ensure_partner(data.store.as_ref(), args.partner_id)?;

    let settings = &mut partner.settings;
    if let Some(quality) = args.default_quality {
        settings.default_quality = (quality > 0).then_some(quality);
    }
    if let Some(density) = args.default_density {
        settings.default_density = (density > 0.0).then_some(density);
    }
    if let Some(strip) = args.strip {
        settings.strip = Some(strip);
    }
    if let Some(offset) = args.thumb_offset {
        settings.thumb_offset = Some(offset.max(0.0));
    }
    if let Some(animated) = args.animated_gif {
        settings.animated_gif = animated;
    }
    if let Some(entry_id) = args.audio_thumb_entry_id {
        settings.audio_thumb_entry_id = (!entry_id.is_empty()).then_some(entry_id);
    }
    if let Some(age) = args.cache_age {
        settings.cache_age = (age > 0).then_some(age);
    }
    if let Some(block) = args.block_capture {
        settings.block_capture = block;
    }
    data.store.upsert_partner(&partner)?;
    println!(
        "partner {}: {}",
        partner.id,
        serde_json::to_string(&partner.settings)?
    );
    Ok(ExitCode::SUCCESS)
}

fn open(arg: &DataDirArg) -> anyhow::Result<DataDir> {
    DataDir::open(&arg.data_dir)
        .with_context(|| format!("cannot open data dir {}", arg.data_dir.display()))
}
