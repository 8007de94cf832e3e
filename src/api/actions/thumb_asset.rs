//! `thumbAsset`: stored thumbnails of an entry, their statuses and the entry's
//! default. File-carrying actions (content, serving, export) are in
//! `thumb_asset_files`.

use super::common::{csv, csv_ints, load_entry, merge, pager, reject_changed, reject_readonly};
use super::thumb_asset_files;
use super::{Context, unix_now, unknown_action};
use crate::api::{ApiError, Output, Params, Value, error, objects};
use crate::service::thumb_generation::{self, generate_into, prepare_asset, unsaved_template};
use crate::service::thumb_template::{Admission, TemplateJob, TemplateSource};
use crate::source::MediaType;
use crate::store::{
    DEFAULT_THUMB_TAG, Entry, EntryStatus, ThumbAsset, ThumbAssetQuery, asset_status,
};

pub const CLASS: &str = "KalturaThumbAsset";
/// Most assets one entry may hold.
const MAX_ASSETS_PER_ENTRY: usize = 500;
/// Fields of `KalturaThumbAsset` that only the server sets.
const READONLY: &[&str] = &[
    "id",
    "entryId",
    "partnerId",
    "version",
    "size",
    "createdAt",
    "updatedAt",
    "deletedAt",
    "description",
    "sizeInBytes",
    "width",
    "height",
    "status",
];

pub async fn run(context: &Context<'_>, action: &str) -> Result<Output, ApiError> {
    match action {
        "add" => add(context).await,
        "get" => get(context).await,
        "getbyentryid" => get_by_entry_id(context).await,
        "list" => list(context).await,
        "update" => update(context).await,
        "delete" => delete(context).await,
        "setasdefault" => set_as_default(context).await,
        "generate" => generate(context).await,
        "generatebyentryid" => generate_by_entry_id(context).await,
        "regenerate" => regenerate(context).await,
        "setcontent" => thumb_asset_files::set_content(context).await,
        "addfromimage" => thumb_asset_files::add_from_image(context).await,
        "serve" => thumb_asset_files::serve(context).await,
        "servebyentryid" => thumb_asset_files::serve_by_entry_id(context).await,
        "geturl" => thumb_asset_files::get_url(context).await,
        "export" => thumb_asset_files::export(context).await,
        "getremotepaths" => thumb_asset_files::get_remote_paths(context).await,
        _ => Err(unknown_action(context)),
    }
}

pub fn asset_not_found(id: &str) -> ApiError {
    ApiError::with(error::THUMB_ASSET_ID_NOT_FOUND, &[id])
}

/// Loads a non-deleted asset of `partner_id`.
pub async fn load_asset_of(
    context: &Context<'_>,
    partner_id: i64,
    id: &str,
) -> Result<ThumbAsset, ApiError> {
    let key = id.to_string();
    context
        .blocking(move |services| Ok(services.api_store.thumb_asset(&key)?))
        .await?
        .filter(|a| a.partner_id == partner_id && a.status != asset_status::DELETED)
        .ok_or_else(|| asset_not_found(id))
}

/// Loads a non-deleted asset of the session's partner.
pub async fn load_asset(context: &Context<'_>, id: &str) -> Result<ThumbAsset, ApiError> {
    load_asset_of(context, context.partner_id()?, id).await
}

fn asset_output(asset: &ThumbAsset) -> Output {
    objects::thumb_asset(asset).into()
}

async fn save(context: &Context<'_>, assets: Vec<ThumbAsset>) -> Result<(), ApiError> {
    context
        .blocking(move |services| Ok(services.api_store.save_thumb_assets(&assets, None)?))
        .await
}

/// `add(entryId, thumbAsset)`: an asset without content, status QUEUED.
async fn add(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let entry_id = params.required_text("entryId")?.to_string();
    let object = params.object("thumbAsset").cloned().unwrap_or_default();
    let entry = load_entry(context, &entry_id).await?;
    context.require_entry_editor(&entry)?;
    reject_readonly(&object, CLASS, READONLY)?;

    let params_id = object.int_field(CLASS, "thumbParamsId")?.value();
    let mut asset = new_asset(&entry);
    asset.status = asset_status::QUEUED;
    asset.tags = object.text("tags").unwrap_or("").to_string();
    asset.file_ext = Some(object.text("fileExt").unwrap_or("jpg").to_string());
    asset.partner_data = object.text("partnerData").map(str::to_string);
    asset.partner_description = object.text("partnerDescription").map(str::to_string);
    asset.actual_source_asset_params_ids = object
        .text("actualSourceAssetParamsIds")
        .map(str::to_string);
    asset.thumb_params_id = params_id;

    let partner_id = entry.partner_id;
    let asset = context
        .blocking(move |services| {
            let existing = services.api_store.entry_thumb_assets(&asset.entry_id)?;
            check_asset_limit(&existing)?;
            if let Some(id) = params_id {
                if let Some(other) = existing.iter().find(|a| a.thumb_params_id == Some(id)) {
                    return Err(ApiError::with(
                        error::THUMB_ASSET_ALREADY_EXISTS,
                        &[&other.id, &id.to_string()],
                    ));
                }
                if let Some(template) = services.api_store.thumb_params(id)?
                    && (template.partner_id == partner_id || template.partner_id == 0)
                {
                    asset.tags = template.tags.clone();
                    asset.width = template.settings.width.unwrap_or(0);
                    asset.height = template.settings.height.unwrap_or(0);
                    if let Some(format) = template.settings.format {
                        asset.file_ext = Some(format);
                    }
                }
            }
            services.api_store.insert_thumb_asset(&asset)?;
            Ok(asset)
        })
        .await?;
    tracing::info!(asset_id = %asset.id, entry_id = %asset.entry_id, "thumb asset added");
    Ok(asset_output(&asset))
}

/// Creates an asset record of `entry` with a fresh id and the current time.
pub fn new_asset(entry: &Entry) -> ThumbAsset {
    let now = unix_now();
    ThumbAsset {
        id: crate::store::model::new_object_id(),
        entry_id: entry.id.clone(),
        partner_id: entry.partner_id,
        created_at: now,
        updated_at: now,
        ..ThumbAsset::default()
    }
}

pub fn check_asset_limit(existing: &[ThumbAsset]) -> Result<(), ApiError> {
    if existing.len() >= MAX_ASSETS_PER_ENTRY {
        return Err(ApiError::with(
            error::MAX_ASSETS_FOR_ENTRY_REACHED,
            &[&MAX_ASSETS_PER_ENTRY.to_string()],
        ));
    }
    Ok(())
}

async fn get(context: &Context<'_>) -> Result<Output, ApiError> {
    let id = context.params().required_text("thumbAssetId")?;
    let asset = load_asset(context, id).await?;
    Ok(asset_output(&asset))
}

/// `getByEntryId(entryId)`: every non-deleted asset of the entry, without paging.
async fn get_by_entry_id(context: &Context<'_>) -> Result<Output, ApiError> {
    let entry_id = context.params().required_text("entryId")?.to_string();
    let entry = load_entry(context, &entry_id).await?;
    let assets = context
        .blocking(move |services| Ok(services.api_store.entry_thumb_assets(&entry.id)?))
        .await?;
    let items = assets
        .iter()
        .map(|a| Value::Object(objects::thumb_asset(a)))
        .collect();
    Ok(Output::Value(Value::Array(items)))
}

/// `list(filter, pager)`: `entryIdEqual` or `entryIdIn` is mandatory.
async fn list(context: &Context<'_>) -> Result<Output, ApiError> {
    let partner_id = context.partner_id()?;
    let params = context.params();
    let filter = params.object("filter").cloned().unwrap_or_default();
    let class = match filter.object_type() {
        Some(name) if name.starts_with("Kaltura") && name.ends_with("Filter") => name.to_string(),
        _ => "KalturaThumbAssetFilter".to_string(),
    };
    let mut entry_ids = csv(filter.text("entryIdIn"));
    if let Some(id) = filter.text("entryIdEqual").filter(|id| !id.is_empty()) {
        entry_ids.push(id.to_string());
    }
    if entry_ids.is_empty() {
        return Err(ApiError::with(
            error::PROPERTY_VALIDATION_CANNOT_BE_NULL,
            &[&format!("{class}::entryIdEqual/{class}::entryIdIn")],
        ));
    }
    let (offset, limit) = pager(params);
    let mut query = asset_query(&filter, offset, limit);

    let (assets, total) = context
        .blocking(move |services| {
            let mut visible = Vec::new();
            for id in entry_ids {
                let owned = services.store.entry(&id)?.is_some_and(|e| {
                    e.partner_id == partner_id && e.status != EntryStatus::DELETED
                });
                if owned {
                    visible.push(id);
                }
            }
            if visible.is_empty() {
                return Ok((Vec::new(), 0));
            }
            query.entry_ids = visible;
            Ok(services.api_store.list_thumb_assets(&query)?)
        })
        .await?;
    let objects = assets.iter().map(objects::thumb_asset).collect();
    Ok(objects::list_response("KalturaThumbAssetListResponse", objects, total).into())
}

/// Reads the filter fields of `KalturaThumbAssetFilter` other than the entry ids.
fn asset_query(filter: &Params, offset: u64, limit: u64) -> ThumbAssetQuery {
    let mut query = ThumbAssetQuery {
        ids: csv(filter.text("idIn")),
        partner_ids: csv_ints(filter.text("partnerIdIn")),
        size_at_least: filter.int("sizeGreaterThanOrEqual"),
        size_at_most: filter.int("sizeLessThanOrEqual"),
        tags_any: csv(filter.text("tagsMultiLikeOr")),
        tags_all: csv(filter.text("tagsMultiLikeAnd")),
        created_at_least: filter.int("createdAtGreaterThanOrEqual"),
        created_at_most: filter.int("createdAtLessThanOrEqual"),
        updated_at_least: filter.int("updatedAtGreaterThanOrEqual"),
        updated_at_most: filter.int("updatedAtLessThanOrEqual"),
        thumb_params_ids: csv_ints(filter.text("thumbParamsIdIn")),
        statuses: csv_ints(filter.text("statusIn")),
        statuses_excluded: csv_ints(filter.text("statusNotIn")),
        order_by: filter.text("orderBy").map(str::to_string),
        offset,
        limit,
        ..ThumbAssetQuery::default()
    };
    if let Some(id) = filter.text("idEqual") {
        query.ids.push(id.to_string());
    }
    if let Some(id) = filter.int("partnerIdEqual") {
        query.partner_ids.push(id);
    }
    if let Some(tags) = filter.text("tagsLike").filter(|t| !t.is_empty()) {
        query.tags_all.push(tags.to_string());
    }
    if let Some(id) = filter.int("thumbParamsIdEqual") {
        query.thumb_params_ids.push(id);
    }
    if let Some(status) = filter.int("statusEqual") {
        query.statuses.push(status);
    }
    query
}

/// `update(id, thumbAsset)`: tags and partner fields; insert-only fields keep their
/// values.
async fn update(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let id = params.required_text("id")?.to_string();
    let object = params.object("thumbAsset").cloned().unwrap_or_default();
    let mut asset = load_asset(context, &id).await?;
    let entry = load_entry(context, &asset.entry_id).await?;
    context.require_entry_editor(&entry)?;

    reject_readonly(&object, CLASS, READONLY)?;
    // An asset without a template reports thumbParamsId 0, so 0 is its same value.
    let params_id = asset.thumb_params_id.unwrap_or(0).to_string();
    reject_changed(&object, CLASS, "thumbParamsId", Some(&params_id))?;
    reject_changed(&object, CLASS, "fileExt", asset.file_ext.as_deref())?;

    asset.tags = merge(object.text_field("tags"), Some(asset.tags.clone())).unwrap_or_default();
    asset.partner_data = merge(object.text_field("partnerData"), asset.partner_data.take());
    asset.partner_description = merge(
        object.text_field("partnerDescription"),
        asset.partner_description.take(),
    );
    asset.actual_source_asset_params_ids = merge(
        object.text_field("actualSourceAssetParamsIds"),
        asset.actual_source_asset_params_ids.take(),
    );
    asset.updated_at = unix_now();

    let becomes_default =
        entry.details.create_thumb != Some(false) && asset.has_tag(DEFAULT_THUMB_TAG);
    let asset = context
        .blocking(move |services| {
            services
                .api_store
                .save_thumb_assets(std::slice::from_ref(&asset), None)?;
            if becomes_default {
                thumb_generation::make_default(services, &asset.entry_id, &asset.id)?;
                return Ok(services.api_store.thumb_asset(&asset.id)?.unwrap_or(asset));
            }
            Ok(asset)
        })
        .await?;
    Ok(asset_output(&asset))
}

/// `delete(thumbAssetId)`: a soft delete, refused for the entry's default.
async fn delete(context: &Context<'_>) -> Result<Output, ApiError> {
    let id = context.params().required_text("thumbAssetId")?.to_string();
    let mut asset = load_asset(context, &id).await?;
    if asset.has_tag(DEFAULT_THUMB_TAG) {
        return Err(ApiError::with(error::THUMB_ASSET_IS_DEFAULT, &[&id]));
    }
    let entry = load_entry(context, &asset.entry_id).await?;
    context.require_entry_editor(&entry)?;

    let now = unix_now();
    asset.status = asset_status::DELETED;
    asset.deleted_at = Some(now);
    asset.updated_at = now;
    save(context, vec![asset]).await?;
    tracing::info!(asset_id = %id, "thumb asset deleted");
    Ok(Output::Value(Value::Null))
}

/// `setAsDefault(thumbAssetId)`; the asset's status is not checked.
async fn set_as_default(context: &Context<'_>) -> Result<Output, ApiError> {
    let id = context.params().required_text("thumbAssetId")?.to_string();
    let asset = load_asset(context, &id).await?;
    let entry = load_entry(context, &asset.entry_id).await?;
    context.require_entry_editor(&entry)?;
    context
        .blocking(move |services| {
            Ok(thumb_generation::make_default(
                services,
                &asset.entry_id,
                &asset.id,
            )?)
        })
        .await?;
    Ok(Output::Value(Value::Null))
}

/// Checks that an entry can be captured from: a video, in an allowed status, with
/// its media stored, in the reference's order of checks.
fn check_generation_entry(entry: &Entry) -> Result<(), ApiError> {
    if entry.media_type != MediaType::Video {
        return Err(ApiError::with(
            error::ENTRY_MEDIA_TYPE_NOT_SUPPORTED,
            &[&entry.media_type.number().to_string()],
        ));
    }
    let allowed = [
        EntryStatus::ERROR_CONVERTING,
        EntryStatus::PRECONVERT,
        EntryStatus::READY,
    ];
    if !allowed.contains(&entry.status) {
        return Err(ApiError::with(error::INVALID_ENTRY_STATUS, &[]));
    }
    if entry.blob_key.is_empty() {
        return Err(ApiError::with(error::NO_FLAVORS_FOUND, &[]));
    }
    Ok(())
}

/// `generate(entryId, thumbParams, sourceAssetId)`: renders now into a new asset.
/// A failed render returns the asset with status ERROR and the reason in its
/// description.
async fn generate(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let entry_id = params.required_text("entryId")?.to_string();
    let object = params.object("thumbParams").cloned().ok_or_else(|| {
        ApiError::with(error::MISSING_MANDATORY_PARAMETER, &["thumbParams"]).in_envelope()
    })?;
    let settings = super::thumb_params::read_settings(&object)?;
    let template = unsaved_template(settings, object.text("tags").unwrap_or(""));

    let entry = load_entry(context, &entry_id).await?;
    context.require_entry_editor(&entry)?;
    check_generation_entry(&entry)?;
    let partner = context.session()?.partner.clone();

    let source_asset = match params.text("sourceAssetId").filter(|id| !id.is_empty()) {
        Some(id) => {
            Some(load_asset(context, id).await?).filter(|a| a.status == asset_status::READY)
        }
        None => None,
    };
    let mut job = TemplateJob::for_entry(
        context.services,
        &entry,
        &partner,
        template.settings.clone(),
    )
    .map_err(|_| ApiError::with(error::THUMB_ASSET_IS_NOT_READY, &[]))?;
    if let Some(source) = &source_asset {
        let key = source.blob_key.clone().unwrap_or_default();
        let path = context
            .services
            .blobs
            .local_path(&key)
            .map_err(|_| ApiError::with(error::THUMB_ASSET_IS_NOT_READY, &[]))?;
        job.source = TemplateSource::Image {
            path,
            size: crate::frame::Size::new(source.width as u32, source.height as u32),
        };
    }

    let mut asset = new_asset(&entry);
    asset.tags = template.tags.clone();
    asset.status = asset_status::CAPTURING;
    asset.file_ext = Some(
        crate::service::thumb_template::template_format(&template.settings)
            .extension()
            .to_string(),
    );
    let prepared = context
        .blocking(move |services| {
            let mut others = services.api_store.entry_thumb_assets(&asset.entry_id)?;
            check_asset_limit(&others)?;
            let changed = thumb_generation::arbitrate_default(&mut asset, &mut others);
            services.api_store.insert_thumb_asset(&asset)?;
            services.api_store.save_thumb_assets(&changed, None)?;
            Ok(asset)
        })
        .await?;
    let asset = generate_into(context.services, job, &partner, prepared, Admission::Reject).await?;
    Ok(asset_output(&asset))
}

/// `generateByEntryId(entryId, destThumbParamsId)`: queues a capture with a stored
/// template and returns the asset at once.
async fn generate_by_entry_id(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let entry_id = params.required_text("entryId")?.to_string();
    let params_id = params.required_int("destThumbParamsId")?;
    let entry = load_entry(context, &entry_id).await?;
    context.require_entry_editor(&entry)?;
    let asset = queue_generation(context, entry, params_id).await?;
    Ok(asset_output(&asset))
}

/// `regenerate(thumbAssetId)`: captures again with the asset's template.
async fn regenerate(context: &Context<'_>) -> Result<Output, ApiError> {
    let id = context.params().required_text("thumbAssetId")?.to_string();
    let asset = load_asset(context, &id).await?;
    let Some(params_id) = asset.thumb_params_id.filter(|id| *id > 0) else {
        return Err(ApiError::new(
            error::THUMB_ASSET_PARAMS_ID_NOT_FOUND,
            &[None],
        ));
    };
    let entry = load_entry(context, &asset.entry_id).await?;
    context.require_entry_editor(&entry)?;
    let asset = queue_generation(context, entry, params_id).await?;
    Ok(asset_output(&asset))
}

/// Checks the entry and template, prepares the asset and renders it in the
/// background.
async fn queue_generation(
    context: &Context<'_>,
    entry: Entry,
    params_id: i64,
) -> Result<ThumbAsset, ApiError> {
    check_generation_entry(&entry)?;
    let template = super::thumb_params::load(context, params_id, true)
        .await
        .map_err(|_| {
            ApiError::with(
                error::THUMB_ASSET_PARAMS_ID_NOT_FOUND,
                &[&params_id.to_string()],
            )
        })?;
    let partner = context.session()?.partner.clone();
    let job = TemplateJob::for_entry(
        context.services,
        &entry,
        &partner,
        template.settings.clone(),
    )
    .map_err(|_| ApiError::with(error::NO_FLAVORS_FOUND, &[]))?;

    let asset = context
        .blocking(move |services| Ok(prepare_asset(services, &entry, &template)?))
        .await?;
    let services = context.services.clone();
    let queued = asset.clone();
    tokio::spawn(async move {
        if let Err(error) = generate_into(&services, job, &partner, queued, Admission::Wait).await {
            tracing::error!(error = %error, "queued thumbnail could not be stored");
        }
    });
    Ok(asset)
}
