//! `media`: entries created empty, given content from an upload token, read,
//! updated, listed and deleted.

use std::sync::Arc;

use super::common::{
    csv, csv_ints, load_entry, merge, pager, reject_changed, reject_readonly, rejected_upload,
    upload_path,
};
use super::upload_token::{load_token, token_extension};
use super::{Context, unknown_action};
use crate::api::{ApiError, Field, Output, Params, Value, error, objects};
use crate::service::Services;
use crate::source::{self, MediaType};
use crate::store::model::new_object_id;
use crate::store::{Entry, EntryDetails, EntryQuery, EntryStatus, NewEntry, upload_status};

const CLASS: &str = "KalturaMediaEntry";

/// Fields of `KalturaMediaEntry` that only the server sets.
const READONLY: &[&str] = &[
    "id",
    "partnerId",
    "status",
    "moderationStatus",
    "moderationCount",
    "createdAt",
    "updatedAt",
    "rank",
    "totalRank",
    "votes",
    "downloadUrl",
    "searchText",
    "version",
    "thumbnailUrl",
    "plays",
    "views",
    "lastPlayedAt",
    "width",
    "height",
    "duration",
    "durationType",
    "mediaDate",
    "dataUrl",
    "flavorParamsIds",
];

/// Values of the `KalturaMediaType` enumeration. Those other than video (1), image
/// (2) and audio (5) are live streams, which are valid but not supported here.
const KALTURA_MEDIA_TYPES: [i64; 7] = [1, 2, 5, 201, 202, 203, 204];

pub async fn run(context: &Context<'_>, action: &str) -> Result<Output, ApiError> {
    match action {
        "add" => add(context).await,
        "addcontent" => add_content(context).await,
        "addfromuploadedfile" => add_from_uploaded_file(context).await,
        "get" => get(context).await,
        "update" => update(context).await,
        "delete" => delete(context).await,
        "list" => list(context).await,
        _ => Err(unknown_action(context)),
    }
}

/// `media.add(entry)`: an entry without content, status NO_CONTENT.
async fn add(context: &Context<'_>) -> Result<Output, ApiError> {
    let object = context
        .params()
        .object("entry")
        .cloned()
        .ok_or_else(|| missing("entry"))?;
    let entry = create_entry(context, &object).await?;
    Ok(media_object(context, &entry).into())
}

/// `media.addFromUploadedFile(mediaEntry, uploadTokenId)`: add, then addContent.
async fn add_from_uploaded_file(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let object = params
        .object("mediaEntry")
        .cloned()
        .ok_or_else(|| missing("mediaEntry"))?;
    let token_id = params.required_text("uploadTokenId")?.to_string();
    let entry = create_entry(context, &object).await?;
    let entry = attach_token(context, entry, &token_id).await?;
    Ok(media_object(context, &entry).into())
}

fn missing(name: &str) -> ApiError {
    ApiError::with(error::MISSING_MANDATORY_PARAMETER, &[name]).in_envelope()
}

async fn create_entry(context: &Context<'_>, object: &Params) -> Result<Entry, ApiError> {
    let session = context.session()?;
    reject_readonly(object, CLASS, READONLY)?;
    let media_number = object
        .int_field(CLASS, "mediaType")?
        .value()
        .ok_or_else(|| {
            ApiError::with(
                error::PROPERTY_VALIDATION_CANNOT_BE_NULL,
                &[&format!("{CLASS}::mediaType")],
            )
        })?;
    if !KALTURA_MEDIA_TYPES.contains(&media_number) {
        let value = object.text("mediaType").unwrap_or_default();
        return Err(ApiError::with(
            error::INVALID_ENUM_VALUE,
            &[value, "mediaType", "KalturaMediaType"],
        )
        .in_envelope());
    }
    let media_type = MediaType::from_number(media_number).ok_or_else(|| {
        ApiError::with(
            error::ENTRY_MEDIA_TYPE_NOT_SUPPORTED,
            &[&media_number.to_string()],
        )
    })?;

    let mut details = EntryDetails {
        user_id: Some(session.ks.user_id.clone()).filter(|u| !u.is_empty()),
        creator_id: Some(session.ks.user_id.clone()).filter(|u| !u.is_empty()),
        ..EntryDetails::default()
    };
    apply_details(object, &mut details)?;
    let access_control_id = object.int_field(CLASS, "accessControlId")?.value();
    check_references(context, details.conversion_profile_id, access_control_id).await?;

    let new_entry = NewEntry {
        id: new_object_id(),
        partner_id: session.partner.id,
        name: object.text("name").unwrap_or("").to_string(),
        media_type,
        status: EntryStatus::NO_CONTENT,
        stored_size: crate::frame::Size::new(0, 0),
        orientation: crate::frame::Orientation::Normal,
        duration: 0.0,
        frame_rate: 0.0,
        flavor_id: String::new(),
        blob_key: String::new(),
        file_size: 0,
        format: String::new(),
    };
    let entry = context
        .blocking(move |services| {
            let entry = services.api_store.create_entry(&new_entry, &details)?;
            if access_control_id.is_some() {
                services
                    .store
                    .set_entry_access_control(&entry.id, access_control_id)?;
                return Ok(services.store.entry(&entry.id)?.unwrap_or(entry));
            }
            Ok(entry)
        })
        .await?;
    tracing::info!(entry_id = %entry.id, media_type = media_number, "entry added");
    Ok(entry)
}

/// Copies the editable fields of a `KalturaMediaEntry` object into `details`.
fn apply_details(object: &Params, details: &mut EntryDetails) -> Result<(), ApiError> {
    details.description = merge(object.text_field("description"), details.description.take());
    details.tags = merge(object.text_field("tags"), details.tags.take());
    details.user_id = merge(object.text_field("userId"), details.user_id.take());
    details.reference_id = merge(
        object.text_field("referenceId"),
        details.reference_id.take(),
    );
    details.partner_data = merge(
        object.text_field("partnerData"),
        details.partner_data.take(),
    );
    details.categories = merge(object.text_field("categories"), details.categories.take());
    details.conversion_profile_id = merge(
        object.int_field(CLASS, "conversionProfileId")?,
        details.conversion_profile_id,
    );
    Ok(())
}

/// Checks that a conversion profile and an access-control profile exist for the
/// session's partner.
async fn check_references(
    context: &Context<'_>,
    conversion_profile_id: Option<i64>,
    access_control_id: Option<i64>,
) -> Result<(), ApiError> {
    let partner_id = context.partner_id()?;
    context
        .blocking(move |services| {
            if let Some(id) = conversion_profile_id {
                let found = services
                    .api_store
                    .conversion_profile(id)?
                    .is_some_and(|p| p.partner_id == partner_id);
                if !found {
                    return Err(ApiError::with(
                        error::CONVERSION_PROFILE_ID_NOT_FOUND,
                        &[&id.to_string()],
                    ));
                }
            }
            if let Some(id) = access_control_id {
                let found = services
                    .api_store
                    .access_control_profile(id)?
                    .is_some_and(|p| p.partner_id == partner_id);
                if !found {
                    return Err(ApiError::with(
                        error::ACCESS_CONTROL_ID_NOT_FOUND,
                        &[&id.to_string()],
                    ));
                }
            }
            Ok(())
        })
        .await
}

/// `media.addContent(entryId, resource)` with a `KalturaUploadedFileTokenResource`.
async fn add_content(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let entry_id = params.required_text("entryId")?.to_string();
    let entry = load_entry(context, &entry_id).await?;
    context.require_entry_editor(&entry)?;
    let resource = params.object("resource").cloned().unwrap_or_default();
    let token_id = match (resource.object_type(), resource.text("token")) {
        (Some("KalturaUploadedFileTokenResource") | None, Some(token)) => token.to_string(),
        (kind, _) => {
            let kind = kind.unwrap_or("null").to_string();
            return Err(ApiError::with(error::RESOURCE_TYPE_NOT_SUPPORTED, &[&kind]));
        }
    };
    let entry = attach_token(context, entry, &token_id).await?;
    Ok(media_object(context, &entry).into())
}

/// Stores an upload token's file as the entry's media: probe and validate, blob,
/// entry row, then close the token. Video entries with a conversion profile then
/// get their thumbnails generated in the background.
async fn attach_token(
    context: &Context<'_>,
    entry: Entry,
    token_id: &str,
) -> Result<Entry, ApiError> {
    if entry.status != EntryStatus::NO_CONTENT {
        return Err(ApiError::with(error::ENTRY_ALREADY_WITH_CONTENT, &[]));
    }
    let mut token = load_token(context, token_id).await?;
    if token.status != upload_status::FULL_UPLOAD {
        return Err(ApiError::with(
            error::UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY,
            &[],
        ));
    }

    let entry_id = entry.id.clone();
    let expected = entry.media_type;
    let entry = context
        .blocking(move |services| {
            let path = upload_path(&services.data_root, &token.id);
            let limits = services.config.limits.source_limits();
            let info = source::probe_file(&path, &limits)
                .and_then(|info| source::validate_file(&path, &info, &limits).map(|()| info))
                .map_err(|source_error| {
                    tracing::info!(entry_id, error = %source_error, "uploaded file rejected");
                    rejected_upload(token.file_name.as_deref().unwrap_or(""), &source_error)
                })?;
            if info.media_type != expected {
                return Err(ApiError::with(
                    error::ENTRY_MEDIA_TYPE_NOT_SUPPORTED,
                    &[&info.media_type.number().to_string()],
                ));
            }

            let extension = token_extension(&token, &info.format);
            let blob_key = format!(
                "{}/{entry_id}/{}.{extension}",
                token.partner_id,
                entry.version + 1
            );
            let file_size = services.blobs.put_file(&blob_key, &path)?;
            let content = NewEntry {
                id: entry_id.clone(),
                partner_id: token.partner_id,
                name: entry.name.clone(),
                media_type: info.media_type,
                status: EntryStatus::READY,
                stored_size: info.stored_size,
                orientation: info.orientation,
                duration: info.duration,
                frame_rate: info.frame_rate,
                flavor_id: new_object_id(),
                blob_key,
                file_size,
                format: info.format.clone(),
            };
            let updated = services
                .api_store
                .attach_entry_content(&entry_id, &content)?;

            token.status = crate::store::upload_status::CLOSED;
            token.attached_object_type = Some("KalturaMediaEntry".into());
            token.attached_object_id = Some(entry_id.clone());
            token.updated_at = super::unix_now();
            services.api_store.update_upload_token(&token)?;
            let _ = std::fs::remove_file(&path);
            Ok(updated)
        })
        .await?;
    tracing::info!(entry_id = %entry.id, "entry content stored");

    schedule_generation(context.services, &entry);
    Ok(entry)
}

/// Starts background thumbnail generation for a video entry under a conversion profile.
fn schedule_generation(services: &Arc<Services>, entry: &Entry) {
    if entry.media_type != MediaType::Video {
        return;
    }
    let Some(profile_id) = entry.details.conversion_profile_id else {
        return;
    };
    let services = services.clone();
    let entry_id = entry.id.clone();
    tokio::spawn(async move {
        crate::service::thumb_generation::generate_for_profile(&services, &entry_id, profile_id)
            .await;
    });
}

/// `media.get(entryId, version = -1)`.
async fn get(context: &Context<'_>) -> Result<Output, ApiError> {
    let entry_id = context.params().required_text("entryId")?;
    let entry = load_entry(context, entry_id).await?;
    Ok(media_object(context, &entry).into())
}

/// `media.update(entryId, mediaEntry)`.
async fn update(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let entry_id = params.required_text("entryId")?.to_string();
    let object = params
        .object("mediaEntry")
        .cloned()
        .ok_or_else(|| missing("mediaEntry"))?;
    let entry = load_entry(context, &entry_id).await?;
    context.require_entry_editor(&entry)?;

    reject_readonly(&object, CLASS, READONLY)?;
    let media_number = entry.media_type.number().to_string();
    reject_changed(&object, CLASS, "mediaType", Some(&media_number))?;
    let mut details = entry.details.clone();
    apply_details(&object, &mut details)?;
    let access_control = object.int_field(CLASS, "accessControlId")?;
    let access_control_id = match &access_control {
        Field::Value(id) => Some(*id),
        _ => None,
    };
    check_references(context, details.conversion_profile_id, access_control_id).await?;

    let name = match object.text_field("name") {
        Field::Value(name) => name,
        _ => entry.name.clone(),
    };
    let updated = context
        .blocking(move |services| {
            services
                .api_store
                .update_entry(&entry_id, &name, &details)?;
            match access_control {
                Field::Value(id) => services
                    .store
                    .set_entry_access_control(&entry_id, Some(id))?,
                Field::Null => services.store.set_entry_access_control(&entry_id, None)?,
                Field::Absent => {}
            }
            services
                .store
                .entry(&entry_id)?
                .ok_or_else(|| ApiError::with(error::ENTRY_ID_NOT_FOUND, &[&entry_id]))
        })
        .await?;
    Ok(media_object(context, &updated).into())
}

/// `media.delete(entryId)`: the entry is marked deleted; its files stay until an
/// operator removes them.
async fn delete(context: &Context<'_>) -> Result<Output, ApiError> {
    let entry_id = context.params().required_text("entryId")?.to_string();
    let entry = load_entry(context, &entry_id).await?;
    context.require_entry_editor(&entry)?;
    context
        .blocking(move |services| {
            Ok(services
                .store
                .set_entry_status(&entry_id, EntryStatus::DELETED)?)
        })
        .await?;
    tracing::info!(entry_id = %entry.id, "entry deleted");
    Ok(Output::Value(Value::Null))
}

/// `media.list(filter, pager)` with the common `KalturaMediaEntryFilter` fields.
async fn list(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let filter = params.object("filter").cloned().unwrap_or_default();
    let (offset, limit) = pager(params);
    let mut query = EntryQuery {
        partner_id: context.partner_id()?,
        ids: csv(filter.text("idIn")),
        media_types: csv_ints(filter.text("mediaTypeIn")),
        statuses: csv_ints(filter.text("statusIn")),
        name_like: filter.text("nameLike").map(str::to_string),
        order_by: filter.text("orderBy").map(str::to_string),
        offset,
        limit,
    };
    if let Some(id) = filter.text("idEqual") {
        query.ids.push(id.to_string());
    }
    if let Some(media_type) = filter.int("mediaTypeEqual") {
        query.media_types.push(media_type);
    }
    if let Some(status) = filter.int("statusEqual") {
        query.statuses.push(status);
    }

    let (entries, total) = context
        .blocking(move |services| Ok(services.api_store.list_entries(&query)?))
        .await?;
    let base = context.public_base_url();
    let objects = entries
        .iter()
        .map(|e| objects::media_entry(e, &base))
        .collect();
    Ok(objects::list_response("KalturaMediaListResponse", objects, total).into())
}

fn media_object(context: &Context<'_>, entry: &Entry) -> crate::api::Object {
    objects::media_entry(entry, &context.public_base_url())
}
