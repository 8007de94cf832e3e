//! Data-dir administration: `ingest`, `entry delete`, `entry access`, `partner create`,
//! `partner set`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::DataDirArg;
use crate::config::LimitArgs;
use crate::service::DataDir;
use crate::service::ingest::{IngestRequest, ensure_partner, ingest_file};
use crate::store::{AccessRules, BlobStore, EntryStatus, MetadataStore, Partner, PartnerSettings};

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
    /// Create an active partner with the given secrets and print it.
    Create(PartnerCreateArgs),
    /// Change a partner's thumbnail settings (creating the partner if needed) and
    /// print them. Options not given keep their value.
    Set(PartnerSetArgs),
}

#[derive(clap::Args, Debug)]
pub struct PartnerCreateArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// Partner to create.
    #[arg(long)]
    partner_id: i64,
    /// Admin secret: signs every KS of the partner and starts admin sessions. 1 to 64
    /// printable ASCII characters, no spaces.
    #[arg(long)]
    admin_secret: String,
    /// User secret: starts user sessions. 1 to 64 printable ASCII characters, no spaces.
    #[arg(long)]
    secret: String,
    /// KS format that session.start issues for this partner: 1 (signed) or 2 (encrypted).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    ks_version: Option<u8>,
    /// Replace the secrets of an existing partner, keeping its status and settings.
    #[arg(long)]
    update: bool,
}

#[derive(clap::Args, Debug)]
pub struct PartnerSetArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// Partner to change; created with random secrets when it does not exist.
    #[arg(long)]
    partner_id: i64,
    /// KS format that session.start issues for this partner: 1 (signed) or 2 (encrypted).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    ks_version: Option<u8>,
    /// Maximum KS lifetime that session.start grants, in seconds (0 restores the default,
    /// 86400).
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    ks_max_expiry_secs: Option<i64>,
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
    match command {
        PartnerCommand::Create(args) => partner_create(args),
        PartnerCommand::Set(args) => partner_set(args),
    }
}

/// Kaltura's partner status for an active partner.
const PARTNER_STATUS_ACTIVE: i64 = 1;

/// Maximum secret length that `partner create` accepts, in characters.
const MAX_SECRET_LENGTH: usize = 64;

/// Reason a partner secret given on the command line was rejected. The messages never
/// repeat the secret itself.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum SecretError {
    #[error("invalid --{option}: the value must not be empty")]
    Empty { option: &'static str },
    #[error(
        "invalid --{option}: {length} characters is longer than the maximum of {MAX_SECRET_LENGTH}"
    )]
    TooLong { option: &'static str, length: usize },
    #[error(
        "invalid --{option}: character {position} is a space or not printable ASCII \
         (allowed: '!' to '~')"
    )]
    InvalidCharacter {
        option: &'static str,
        position: usize,
    },
}

/// Checks that `secret` is 1 to 64 printable ASCII characters without spaces.
fn validate_secret(option: &'static str, secret: &str) -> Result<(), SecretError> {
    if secret.is_empty() {
        return Err(SecretError::Empty { option });
    }

    let length = secret.chars().count();
    if length > MAX_SECRET_LENGTH {
        return Err(SecretError::TooLong { option, length });
    }

    if let Some(index) = secret.chars().position(|c| !c.is_ascii_graphic()) {
        return Err(SecretError::InvalidCharacter {
            option,
            position: index + 1,
        });
    }
    Ok(())
}

/// Creates the partner, or replaces its secrets with `--update`, and prints it.
fn partner_create(args: PartnerCreateArgs) -> anyhow::Result<ExitCode> {
    validate_secret("admin-secret", &args.admin_secret)?;
    validate_secret("secret", &args.secret)?;

    let database = args.data.data_dir.join("thumbd.sqlite3");
    if !database.exists() {
        eprintln!(
            "note: {} has no database yet; creating a new data dir there (serve must use the same --data-dir)",
            args.data.data_dir.display()
        );
    }
    let data = open(&args.data)?;
    let existing = data.store.partner(args.partner_id)?;
    let mut partner = match existing {
        Some(_) if !args.update => anyhow::bail!(
            "partner {} already exists (pass --update to replace its secrets)",
            args.partner_id
        ),
        Some(partner) => partner,
        None => Partner {
            id: args.partner_id,
            admin_secret: String::new(),
            secret: String::new(),
            status: PARTNER_STATUS_ACTIVE,
            settings: PartnerSettings::default(),
        },
    };

    partner.admin_secret = args.admin_secret;
    partner.secret = args.secret;
    if args.ks_version.is_some() {
        partner.settings.ks_version = args.ks_version;
    }
    data.store.upsert_partner(&partner)?;

    println!("partner_id: {}", partner.id);
    println!("admin_secret: {}", partner.admin_secret);
    println!("secret: {}", partner.secret);
    println!("status: {}", partner.status);
    println!("ks_version: {}", partner.settings.ks_version.unwrap_or(1));
    Ok(ExitCode::SUCCESS)
}

fn partner_set(args: PartnerSetArgs) -> anyhow::Result<ExitCode> {
    let data = open(&args.data)?;
    let mut partner = ensure_partner(data.store.as_ref(), args.partner_id)?;

    let settings = &mut partner.settings;
    if let Some(version) = args.ks_version {
        settings.ks_version = Some(version);
    }
    if let Some(max_expiry) = args.ks_max_expiry_secs {
        settings.ks_max_expiry_secs = (max_expiry > 0).then_some(max_expiry);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_accepts_printable_ascii() {
        assert_eq!(validate_secret("secret", "a"), Ok(()));
        assert_eq!(validate_secret("secret", "!~#a9Z-_=/+"), Ok(()));
        assert_eq!(validate_secret("secret", &"x".repeat(64)), Ok(()));
    }

    #[test]
    fn secret_rejects_bad_values() {
        let long = "x".repeat(65);
        let cases = [
            ("", SecretError::Empty { option: "secret" }),
            (
                long.as_str(),
                SecretError::TooLong {
                    option: "secret",
                    length: 65,
                },
            ),
            (
                "ab cd",
                SecretError::InvalidCharacter {
                    option: "secret",
                    position: 3,
                },
            ),
            (
                "abc\t",
                SecretError::InvalidCharacter {
                    option: "secret",
                    position: 4,
                },
            ),
            (
                "caf\u{e9}",
                SecretError::InvalidCharacter {
                    option: "secret",
                    position: 4,
                },
            ),
        ];

        for (secret, expected) in cases {
            assert_eq!(
                validate_secret("secret", secret),
                Err(expected),
                "{secret:?}"
            );
        }
    }
}
