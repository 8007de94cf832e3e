//! Conversion of stored records to the Kaltura objects the clients parse, with each
//! class's fields in its serialization order (top ancestor first).

use super::value::{Object, Value};
use crate::source::MediaType;
use crate::store::{
    AccessControlProfile, ConversionProfile, Entry, ThumbAsset, ThumbParams, UploadToken,
};

/// `KalturaThumbAsset`.
pub fn thumb_asset(asset: &ThumbAsset) -> Object {
    Object::new("KalturaThumbAsset")
        .with("id", asset.id.as_str())
        .with("entryId", asset.entry_id.as_str())
        .with("partnerId", asset.partner_id)
        .with("version", asset.version)
        .with("size", asset.size)
        .with("tags", asset.tags.as_str())
        .with("fileExt", asset.file_ext.clone())
        .with("createdAt", asset.created_at)
        .with("updatedAt", asset.updated_at)
        .with("deletedAt", asset.deleted_at)
        .with("description", asset.description.clone())
        .with("partnerData", asset.partner_data.clone())
        .with("partnerDescription", asset.partner_description.clone())
        .with(
            "actualSourceAssetParamsIds",
            asset.actual_source_asset_params_ids.clone(),
        )
        .with("sizeInBytes", asset.size)
        .with("thumbParamsId", asset.thumb_params_id.unwrap_or(0))
        .with("width", asset.width)
        .with("height", asset.height)
        .with("status", asset.status)
}

/// `KalturaThumbParams`.
pub fn thumb_params(params: &ThumbParams) -> Object {
    let settings = &params.settings;
    let permissions: Vec<Value> = settings
        .required_permissions
        .iter()
        .map(|permission| {
            Value::Object(Object::new("KalturaString").with("value", permission.as_str()))
        })
        .collect();
    Object::new("KalturaThumbParams")
        .with("id", params.id)
        .with("partnerId", params.partner_id)
        .with("name", params.name.as_str())
        .with("systemName", params.system_name.as_str())
        .with("description", params.description.as_str())
        .with("createdAt", params.created_at)
        .with("isSystemDefault", i64::from(params.is_system_default))
        .with("tags", params.tags.as_str())
        .with("requiredPermissions", Value::Array(permissions))
        .with(
            "sourceRemoteStorageProfileId",
            settings.source_remote_storage_profile_id,
        )
        .with(
            "remoteStorageProfileIds",
            settings.remote_storage_profile_ids,
        )
        .with("mediaParserType", settings.media_parser_type.clone())
        .with(
            "sourceAssetParamsIds",
            settings.source_asset_params_ids.clone(),
        )
        .with("cropType", settings.crop_type)
        .with("quality", settings.quality)
        .with("cropX", settings.crop_x)
        .with("cropY", settings.crop_y)
        .with("cropWidth", settings.crop_width)
        .with("cropHeight", settings.crop_height)
        .with("videoOffset", settings.video_offset)
        .with("width", settings.width)
        .with("height", settings.height)
        .with("scaleWidth", settings.scale_width)
        .with("scaleHeight", settings.scale_height)
        .with("backgroundColor", settings.background_color.clone())
        .with("sourceParamsId", settings.source_params_id)
        .with("format", settings.format.clone())
        .with("density", settings.density)
        .with("stripProfiles", settings.strip_profiles)
        .with(
            "videoOffsetInPercentage",
            settings.video_offset_in_percentage,
        )
        .with("interval", settings.interval)
}

/// `KalturaMediaEntry`, with its thumbnail and download URLs under `base_url`.
pub fn media_entry(entry: &Entry, base_url: &str) -> Object {
    let details = &entry.details;
    let pid = entry.partner_id;
    // The version pins the picture, so a CDN may cache the URL for long: an image
    // entry's content version, or a video or audio entry's thumbnail version.
    let version = match entry.media_type {
        MediaType::Image => entry.version,
        _ => details.thumb_version,
    };
    let mut thumbnail_url = format!(
        "{base_url}/p/{pid}/sp/{pid}00/thumbnail/entry_id/{}",
        entry.id
    );
    if version > 0 {
        thumbnail_url.push_str(&format!("/version/{version}"));
    }
    let has_content = !entry.blob_key.is_empty();
    let (width, height) = if has_content && entry.media_type != MediaType::Audio {
        let size = entry.displayed_size();
        (Some(i64::from(size.width)), Some(i64::from(size.height)))
    } else {
        (None, None)
    };
    let duration = has_content.then(|| entry.duration.round() as i64);
    let ms_duration = has_content.then(|| (entry.duration * 1000.0).round() as i64);

    Object::new("KalturaMediaEntry")
        .with("id", entry.id.as_str())
        .with("name", entry.name.as_str())
        .with("description", details.description.clone())
        .with("partnerId", pid)
        .with("userId", details.user_id.clone())
        .with("creatorId", details.creator_id.clone())
        .with("tags", details.tags.clone())
        .with("categories", details.categories.clone())
        .with("status", entry.status.0.to_string())
        .with("moderationStatus", 6_i64)
        .with("moderationCount", 0_i64)
        .with("type", "1")
        .with("createdAt", entry.created_at)
        .with("updatedAt", entry.updated_at)
        .with("partnerData", details.partner_data.clone())
        .with("version", entry.version)
        .with("thumbnailUrl", thumbnail_url)
        .with("accessControlId", entry.access_control_id)
        .with("referenceId", details.reference_id.clone())
        .with("conversionProfileId", details.conversion_profile_id)
        .with("width", width)
        .with("height", height)
        .with("duration", duration)
        .with("msDuration", ms_duration)
        .with("mediaType", entry.media_type.number())
        .with("flavorParamsIds", has_content.then(|| "0".to_string()))
}

/// `KalturaUploadToken`, with the URL that `uploadToken.upload` is posted to.
pub fn upload_token(token: &UploadToken, base_url: &str) -> Object {
    Object::new("KalturaUploadToken")
        .with("id", token.id.as_str())
        .with("partnerId", token.partner_id)
        .with("userId", token.user_id.as_str())
        .with("status", token.status)
        .with("fileName", token.file_name.clone())
        .with("fileSize", token.file_size)
        .with("uploadedFileSize", token.uploaded_file_size)
        .with("createdAt", token.created_at)
        .with("updatedAt", token.updated_at)
        .with(
            "uploadUrl",
            format!("{base_url}/api_v3/service/uploadtoken/action/upload"),
        )
        .with("autoFinalize", token.auto_finalize)
        .with("attachedObjectType", token.attached_object_type.clone())
        .with("attachedObjectId", token.attached_object_id.clone())
}

/// `KalturaConversionProfile`.
pub fn conversion_profile(profile: &ConversionProfile) -> Object {
    Object::new("KalturaConversionProfile")
        .with("id", profile.id)
        .with("partnerId", profile.partner_id)
        .with("status", profile.status.as_str())
        .with("type", profile.profile_type.as_str())
        .with("name", profile.name.as_str())
        .with("systemName", profile.system_name.as_str())
        .with("tags", profile.tags.as_str())
        .with("description", profile.description.as_str())
        .with("defaultEntryId", profile.default_entry_id.clone())
        .with("createdAt", profile.created_at)
        .with("flavorParamsIds", profile.flavor_params_ids.as_str())
        .with("isDefault", i64::from(profile.is_default))
        .with("isPartnerDefault", profile.is_default)
}

/// `KalturaAccessControlProfile`, its rules written back as Kaltura rule objects.
pub fn access_control_profile(profile: &AccessControlProfile) -> Object {
    Object::new("KalturaAccessControlProfile")
        .with("id", profile.id)
        .with("name", profile.name.as_str())
        .with("systemName", profile.system_name.as_str())
        .with("description", profile.description.as_str())
        .with("partnerId", profile.partner_id)
        .with("isDefault", i64::from(profile.is_default))
        .with(
            "rules",
            Value::Array(
                super::actions::access_rules_objects(&profile.rules)
                    .into_iter()
                    .map(Value::Object)
                    .collect(),
            ),
        )
        .with("createdAt", profile.created_at)
        .with("updatedAt", profile.updated_at)
}

/// A `Kaltura*ListResponse`.
pub fn list_response(object_type: &'static str, objects: Vec<Object>, total: u64) -> Object {
    Object::new(object_type)
        .with("totalCount", total as i64)
        .with(
            "objects",
            Value::Array(objects.into_iter().map(Value::Object).collect()),
        )
}
