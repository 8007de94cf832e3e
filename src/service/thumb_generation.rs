//! Thumbnail assets made from templates, and the entry's default thumbnail.
//!
//! Shared by `thumbAsset.generate`/`generateByEntryId`/`regenerate` and by the
//! background generation that follows a video upload under a conversion profile.
//! A file is written to the blob store first and its row committed after, so a
//! crash leaves at most an orphan blob that start-up removes.

use std::path::Path;
use std::sync::Arc;

use tracing::Instrument;

use super::thumb_template::{Admission, TemplateJob, render_template};
use super::{Services, ThumbnailError, unix_now};
use crate::store::model::new_object_id;
use crate::store::{
    DEFAULT_THUMB_TAG, Entry, EntryDetails, Partner, StoreError, ThumbAsset, ThumbFile,
    ThumbParams, ThumbParamsSettings, asset_status,
};

/// Tag of a temporary default that a generated default replaces.
const TEMP_THUMB_TAG: &str = "temp_thumb";
/// Entry thumbnail versions remembered for the URL API's `version` parameter.
const THUMB_HISTORY_LIMIT: usize = 100;

/// Stores `source` as the asset's next file version and marks the asset READY with
/// the file's size and dimensions. Runs on a blocking thread.
pub fn store_asset_file(
    services: &Services,
    asset: &mut ThumbAsset,
    source: &Path,
    extension: &str,
    width: u32,
    height: u32,
) -> Result<(), StoreError> {
    let version = asset.version + 1;
    let blob_key = format!(
        "{}/{}/thumbs/{}/{version}.{extension}",
        asset.partner_id, asset.entry_id, asset.id
    );
    let size = services.blobs.put_file(&blob_key, source)? as i64;

    let now = unix_now();
    asset.version = version;
    asset.size = size;
    asset.width = i64::from(width);
    asset.height = i64::from(height);
    asset.file_ext = Some(extension.to_string());
    asset.status = asset_status::READY;
    asset.blob_key = Some(blob_key.clone());
    asset.updated_at = now;
    let file = ThumbFile {
        asset_id: asset.id.clone(),
        version,
        blob_key,
        file_ext: extension.to_string(),
        width: i64::from(width),
        height: i64::from(height),
        size,
        created_at: now,
    };
    services.api_store.commit_thumb_file(asset, &file)
}

/// Stores encoded bytes as the asset's next file version (through a temporary file
/// under the data dir).
pub fn store_asset_bytes(
    services: &Services,
    asset: &mut ThumbAsset,
    bytes: &[u8],
    extension: &str,
    width: u32,
    height: u32,
) -> Result<(), StoreError> {
    let directory = services.data_root.join("tmp");
    let io_error = |source| StoreError::Blob {
        path: directory.clone(),
        source,
    };
    std::fs::create_dir_all(&directory).map_err(io_error)?;
    let temp = tempfile::NamedTempFile::new_in(&directory).map_err(io_error)?;
    std::fs::write(temp.path(), bytes).map_err(io_error)?;
    store_asset_file(services, asset, temp.path(), extension, width, height)
}

/// Makes `asset_id` the entry's default thumbnail: it gets `default_thumb`, every
/// other asset of the entry loses it, and the entry's thumbnail version moves on.
/// Runs on a blocking thread; one transaction.
pub fn make_default(services: &Services, entry_id: &str, asset_id: &str) -> Result<(), StoreError> {
    let Some(entry) = services.store.entry(entry_id)? else {
        return Err(StoreError::NotFound {
            kind: "entry",
            id: entry_id.to_string(),
        });
    };
    let mut assets = services.api_store.entry_thumb_assets(entry_id)?;
    let now = unix_now();
    let mut file_version = 0;
    for asset in &mut assets {
        if asset.id == asset_id {
            asset.add_tag(DEFAULT_THUMB_TAG);
            file_version = asset.version;
        } else if asset.has_tag(DEFAULT_THUMB_TAG) {
            asset.remove_tag(DEFAULT_THUMB_TAG);
        } else {
            continue;
        }
        asset.updated_at = now;
    }

    let mut details: EntryDetails = entry.details.clone();
    details.default_thumb_asset_id = Some(asset_id.to_string());
    details.thumb_version += 1;
    details.create_thumb = Some(false);
    details.thumb_history.push(crate::store::ThumbVersion {
        version: details.thumb_version,
        asset_id: asset_id.to_string(),
        file_version,
    });
    let excess = details
        .thumb_history
        .len()
        .saturating_sub(THUMB_HISTORY_LIMIT);
    details.thumb_history.drain(..excess);
    services
        .api_store
        .save_thumb_assets(&assets, Some((entry_id, &details)))?;
    tracing::info!(entry_id, asset_id, "default thumbnail set");
    Ok(())
}

/// Applies the default-tag arbitration to a new or regenerated asset. When another
/// asset of the entry already has `default_thumb`, that asset gives the tag up if
/// it is also tagged `temp_thumb`, and otherwise the new asset does. Returns the
/// other assets that changed.
pub fn arbitrate_default(asset: &mut ThumbAsset, others: &mut [ThumbAsset]) -> Vec<ThumbAsset> {
    if !asset.has_tag(DEFAULT_THUMB_TAG) {
        return Vec::new();
    }
    let mut changed = Vec::new();
    let asset_id = asset.id.clone();
    for other in others.iter_mut().filter(|o| o.id != asset_id) {
        if !other.has_tag(DEFAULT_THUMB_TAG) {
            continue;
        }
        if other.has_tag(TEMP_THUMB_TAG) {
            other.remove_tag(DEFAULT_THUMB_TAG);
            changed.push(other.clone());
        } else {
            asset.remove_tag(DEFAULT_THUMB_TAG);
        }
    }
    changed
}

/// Renders a template into `asset` and stores the file. On failure the asset is
/// saved with status ERROR and the reason appended to its description. A READY
/// asset tagged `default_thumb` becomes the entry's default.
pub async fn generate_into(
    services: &Arc<Services>,
    job: TemplateJob,
    partner: &Partner,
    mut asset: ThumbAsset,
    admission: Admission,
) -> Result<ThumbAsset, StoreError> {
    let span =
        tracing::info_span!("generate_thumb", entry_id = %asset.entry_id, asset_id = %asset.id);
    let _entered = span.enter();
    drop(_entered);

    let rendered = render_template(services, job, partner, admission).await;
    let services_for_store = services.clone();
    tokio::task::spawn_blocking(move || {
        let services = services_for_store.as_ref();
        match rendered {
            Ok(render) => {
                let extension = render.format.extension();
                store_asset_bytes(
                    services,
                    &mut asset,
                    &render.bytes,
                    extension,
                    render.width,
                    render.height,
                )?;
                if asset.has_tag(DEFAULT_THUMB_TAG) {
                    make_default(services, &asset.entry_id, &asset.id)?;
                    if let Some(updated) = services.api_store.thumb_asset(&asset.id)? {
                        asset = updated;
                    }
                }
                tracing::info!(asset_id = %asset.id, width = asset.width, height = asset.height, "thumbnail generated");
            }
            Err(error) => {
                record_failure(&mut asset, &error);
                services.api_store.save_thumb_assets(std::slice::from_ref(&asset), None)?;
            }
        }
        Ok(asset)
    })
    .await
    .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
}

fn record_failure(asset: &mut ThumbAsset, error: &ThumbnailError) {
    tracing::warn!(asset_id = %asset.id, error = %error, "thumbnail generation failed");
    let reason = format!("thumbnail generation failed: {error}");
    asset.description = Some(match asset.description.take() {
        Some(previous) if !previous.is_empty() => format!("{previous}\n{reason}"),
        _ => reason,
    });
    asset.status = asset_status::ERROR;
    asset.updated_at = unix_now();
}

/// Finds or creates the entry's asset for a stored template and prepares it for a
/// new capture: tags and extension from the template, status CAPTURING unless it
/// is already READY, default arbitration applied. Runs on a blocking thread.
pub fn prepare_asset(
    services: &Services,
    entry: &Entry,
    params: &ThumbParams,
) -> Result<ThumbAsset, StoreError> {
    let mut others = services.api_store.entry_thumb_assets(&entry.id)?;
    let existing = others
        .iter()
        .find(|a| a.thumb_params_id == Some(params.id))
        .cloned();
    let now = unix_now();
    let is_new = existing.is_none();
    let mut asset = existing.unwrap_or_else(|| ThumbAsset {
        id: new_object_id(),
        entry_id: entry.id.clone(),
        partner_id: entry.partner_id,
        thumb_params_id: Some(params.id),
        created_at: now,
        ..ThumbAsset::default()
    });
    asset.tags = params.tags.clone();
    asset.file_ext = Some(
        super::thumb_template::template_format(&params.settings)
            .extension()
            .to_string(),
    );
    if asset.status != asset_status::READY {
        asset.status = asset_status::CAPTURING;
    }
    asset.updated_at = now;
    let mut writes = arbitrate_default(&mut asset, &mut others);

    if is_new {
        services.api_store.insert_thumb_asset(&asset)?;
    } else {
        writes.push(asset.clone());
    }
    services.api_store.save_thumb_assets(&writes, None)?;
    Ok(asset)
}

/// Generates the assets of every template in a conversion profile that the entry
/// does not have yet. Failures are logged and recorded on the assets.
pub async fn generate_for_profile(services: &Arc<Services>, entry_id: &str, profile_id: i64) {
    let span = tracing::info_span!("profile_thumbnails", entry_id, profile_id);
    generate_profile_assets(services, entry_id, profile_id)
        .instrument(span)
        .await;
}

async fn generate_profile_assets(services: &Arc<Services>, entry_id: &str, profile_id: i64) {
    let lookup = {
        let services = services.clone();
        let entry_id = entry_id.to_string();
        tokio::task::spawn_blocking(move || load_profile_work(&services, &entry_id, profile_id))
            .await
    };
    let (entry, partner, templates) = match lookup {
        Ok(Ok(Some(work))) => work,
        Ok(Ok(None)) => return,
        Ok(Err(error)) => {
            tracing::error!(entry_id, profile_id, error = %error, "thumbnail generation could not start");
            return;
        }
        Err(join) => {
            tracing::error!(entry_id, profile_id, error = %join, "thumbnail generation task failed");
            return;
        }
    };

    for params in templates {
        let prepared = {
            let services = services.clone();
            let entry = entry.clone();
            let params = params.clone();
            tokio::task::spawn_blocking(move || prepare_asset(&services, &entry, &params)).await
        };
        let asset = match prepared {
            Ok(Ok(asset)) => asset,
            Ok(Err(error)) => {
                tracing::error!(entry_id, thumb_params_id = params.id, error = %error, "thumbnail asset could not be created");
                continue;
            }
            Err(join) => {
                tracing::error!(entry_id, error = %join, "thumbnail asset task failed");
                continue;
            }
        };
        let job = match TemplateJob::for_entry(services, &entry, &partner, params.settings.clone())
        {
            Ok(job) => job,
            Err(error) => {
                tracing::error!(entry_id, error = %error, "entry media is missing");
                return;
            }
        };
        if let Err(error) = generate_into(services, job, &partner, asset, Admission::Wait).await {
            tracing::error!(entry_id, thumb_params_id = params.id, error = %error, "thumbnail could not be stored");
        }
    }
}

/// Loads the entry, its partner and the profile's templates that have no asset yet.
#[allow(clippy::type_complexity)]
fn load_profile_work(
    services: &Services,
    entry_id: &str,
    profile_id: i64,
) -> Result<Option<(Entry, Partner, Vec<ThumbParams>)>, StoreError> {
    let Some(entry) = services.store.entry(entry_id)? else {
        return Ok(None);
    };
    let Some(partner) = services.store.partner(entry.partner_id)? else {
        return Ok(None);
    };
    let Some(profile) = services.api_store.conversion_profile(profile_id)? else {
        return Ok(None);
    };
    let existing = services.api_store.entry_thumb_assets(entry_id)?;
    let mut templates = Vec::new();
    for id in profile
        .flavor_params_ids
        .split(',')
        .filter_map(|id| id.trim().parse::<i64>().ok())
    {
        if existing.iter().any(|a| a.thumb_params_id == Some(id)) {
            continue;
        }
        if let Some(params) = services.api_store.thumb_params(id)?
            && (params.partner_id == entry.partner_id || params.partner_id == 0)
        {
            templates.push(params);
        }
    }
    Ok(Some((entry, partner, templates)))
}

/// Settings of an unsaved template, for `thumbAsset.generate`.
pub fn unsaved_template(settings: ThumbParamsSettings, tags: &str) -> ThumbParams {
    ThumbParams {
        id: 0,
        tags: tags.to_lowercase(),
        settings,
        ..ThumbParams::default()
    }
}

/// Most interrupted captures picked up again at start-up.
const RESUME_LIMIT: u64 = 10_000;

/// Captures again the assets that a stop or crash left CAPTURING. An asset made
/// from a stored template is rendered again. One from an unsaved template is marked
/// ERROR with the reason, because its settings were never stored.
pub async fn resume_interrupted(services: &Arc<Services>) {
    let found = {
        let services = services.clone();
        tokio::task::spawn_blocking(move || interrupted_work(&services)).await
    };
    let work = match found {
        Ok(Ok(work)) => work,
        Ok(Err(error)) => {
            tracing::error!(error = %error, "cannot list interrupted thumbnail captures");
            return;
        }
        Err(join) => {
            tracing::error!(error = %join, "interrupted-capture lookup failed");
            return;
        }
    };
    if !work.is_empty() {
        tracing::info!(
            assets = work.len(),
            "capturing thumbnails interrupted by a restart again"
        );
    }

    for (asset, entry, partner, params) in work {
        let job = match TemplateJob::for_entry(services, &entry, &partner, params.settings) {
            Ok(job) => job,
            Err(error) => {
                tracing::error!(asset_id = %asset.id, error = %error, "entry media is missing");
                continue;
            }
        };
        if let Err(error) = generate_into(services, job, &partner, asset, Admission::Wait).await {
            tracing::error!(error = %error, "resumed thumbnail could not be stored");
        }
    }
}

/// Interrupted assets with a stored template, each with its entry, partner and
/// template. Others are marked ERROR on the way.
#[allow(clippy::type_complexity)]
fn interrupted_work(
    services: &Services,
) -> Result<Vec<(ThumbAsset, Entry, Partner, ThumbParams)>, StoreError> {
    let query = crate::store::ThumbAssetQuery {
        statuses: vec![asset_status::CAPTURING],
        limit: RESUME_LIMIT,
        ..Default::default()
    };
    let (assets, _) = services.api_store.list_thumb_assets(&query)?;
    let mut work = Vec::new();
    for mut asset in assets {
        let entry = services.store.entry(&asset.entry_id)?;
        let partner = match &entry {
            Some(entry) => services.store.partner(entry.partner_id)?,
            None => None,
        };
        let params = match asset.thumb_params_id {
            Some(id) => services.api_store.thumb_params(id)?,
            None => None,
        };
        match (entry, partner, params) {
            (Some(entry), Some(partner), Some(params)) => {
                work.push((asset, entry, partner, params))
            }
            _ => {
                let reason = ThumbnailError::MissingThumbnail(
                    "the capture was interrupted by a restart and its template is not stored",
                );
                record_failure(&mut asset, &reason);
                services
                    .api_store
                    .save_thumb_assets(std::slice::from_ref(&asset), None)?;
            }
        }
    }
    Ok(work)
}
