//! Records behind the API v3 services: thumbnail assets and their stored versions,
//! thumbnail params, conversion profiles, upload tokens, entry details and
//! access-control profiles.

use serde::{Deserialize, Serialize};

use super::model::AccessRules;

/// Kaltura asset statuses (`KalturaThumbAssetStatus` plus the core model's extras).
pub mod asset_status {
    pub const ERROR: i64 = -1;
    pub const QUEUED: i64 = 0;
    pub const CAPTURING: i64 = 1;
    pub const READY: i64 = 2;
    pub const DELETED: i64 = 3;
    pub const NOT_APPLICABLE: i64 = 4;
    pub const IMPORTING: i64 = 7;
    pub const EXPORTING: i64 = 9;
}

/// Tag that marks an entry's default thumbnail asset.
pub const DEFAULT_THUMB_TAG: &str = "default_thumb";

/// A thumbnail asset of an entry (`KalturaThumbAsset`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThumbAsset {
    pub id: String,
    pub entry_id: String,
    pub partner_id: i64,
    /// Content version: 0 before any content, raised by each new content.
    pub version: i64,
    /// Comma-separated tags; `default_thumb` marks the entry's default.
    pub tags: String,
    pub file_ext: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// System or error text.
    pub description: Option<String>,
    pub partner_data: Option<String>,
    pub partner_description: Option<String>,
    pub actual_source_asset_params_ids: Option<String>,
    /// Byte size of the current file.
    pub size: i64,
    pub thumb_params_id: Option<i64>,
    pub width: i64,
    pub height: i64,
    /// One of [`asset_status`].
    pub status: i64,
    /// Blob key of the current version's file; `None` before any content.
    pub blob_key: Option<String>,
}

impl ThumbAsset {
    /// Returns whether the tag list contains `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.split(',').any(|t| t.trim() == tag)
    }

    /// Adds `tag` when missing.
    pub fn add_tag(&mut self, tag: &str) {
        if self.has_tag(tag) {
            return;
        }
        if self.tags.trim().is_empty() {
            self.tags = tag.to_string();
        } else {
            self.tags = format!("{},{tag}", self.tags);
        }
    }

    /// Removes every occurrence of `tag`.
    pub fn remove_tag(&mut self, tag: &str) {
        let remaining: Vec<&str> = self
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty() && *t != tag)
            .collect();
        self.tags = remaining.join(",");
    }
}

/// One stored version of a thumbnail asset's file. Older versions stay readable
/// through `thumbAsset.serve` with `version` and the URL API's `version`.
#[derive(Clone, Debug, PartialEq)]
pub struct ThumbFile {
    pub asset_id: String,
    pub version: i64,
    pub blob_key: String,
    pub file_ext: String,
    pub width: i64,
    pub height: i64,
    pub size: i64,
    pub created_at: i64,
}

/// Filter of `thumbAsset.list`; empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThumbAssetQuery {
    /// Entries to list from; the caller has already restricted them to the partner.
    pub entry_ids: Vec<String>,
    pub ids: Vec<String>,
    pub partner_ids: Vec<i64>,
    pub size_at_least: Option<i64>,
    pub size_at_most: Option<i64>,
    /// Assets whose tags contain any of these words.
    pub tags_any: Vec<String>,
    /// Assets whose tags contain all of these words.
    pub tags_all: Vec<String>,
    pub created_at_least: Option<i64>,
    pub created_at_most: Option<i64>,
    pub updated_at_least: Option<i64>,
    pub updated_at_most: Option<i64>,
    pub thumb_params_ids: Vec<i64>,
    pub statuses: Vec<i64>,
    pub statuses_excluded: Vec<i64>,
    /// `+size`, `-size`, `+createdAt`, `-createdAt`, `+updatedAt`, `-updatedAt`,
    /// `+deletedAt`, `-deletedAt`; `None` keeps insertion order.
    pub order_by: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// Settings of a thumbnail template; `None` means unset (null on the wire).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThumbParamsSettings {
    pub crop_type: Option<i64>,
    pub quality: Option<i64>,
    pub crop_x: Option<i64>,
    pub crop_y: Option<i64>,
    pub crop_width: Option<i64>,
    pub crop_height: Option<i64>,
    pub video_offset: Option<f64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub scale_width: Option<f64>,
    pub scale_height: Option<f64>,
    pub background_color: Option<String>,
    pub source_params_id: Option<i64>,
    pub format: Option<String>,
    pub density: Option<i64>,
    pub strip_profiles: Option<bool>,
    pub video_offset_in_percentage: Option<i64>,
    pub interval: Option<i64>,
    pub required_permissions: Vec<String>,
    pub source_remote_storage_profile_id: Option<i64>,
    pub remote_storage_profile_ids: Option<i64>,
    pub media_parser_type: Option<String>,
    pub source_asset_params_ids: Option<String>,
}

/// A thumbnail template (`KalturaThumbParams`). Partner 0 owns the system defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThumbParams {
    pub id: i64,
    pub partner_id: i64,
    pub name: String,
    pub system_name: String,
    pub description: String,
    /// Lower-cased comma-separated tags.
    pub tags: String,
    pub is_system_default: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    pub settings: ThumbParamsSettings,
}

/// Id of the system default template "Default Thumbnail" (as on a fresh Kaltura
/// install).
pub const DEFAULT_THUMB_PARAMS_ID: i64 = 19;

/// Filter of `thumbParams.list`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThumbParamsQuery {
    /// The calling partner; its own params and partner 0's are listed.
    pub partner_id: i64,
    pub ids: Vec<i64>,
    pub system_names: Vec<String>,
    pub is_system_default: Option<bool>,
    pub tags_equal: Option<String>,
    pub format_equal: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// A conversion profile: here, the list of thumbnail templates applied on upload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConversionProfile {
    pub id: i64,
    pub partner_id: i64,
    /// `KalturaConversionProfileStatus`: "1" disabled, "2" enabled, "3" deleted.
    pub status: String,
    /// `KalturaConversionProfileType`: "1" media, "2" live stream.
    pub profile_type: String,
    pub name: String,
    pub system_name: String,
    pub tags: String,
    pub description: String,
    pub default_entry_id: Option<String>,
    /// Comma-separated asset params ids (thumbnail templates here).
    pub flavor_params_ids: String,
    pub is_default: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `KalturaUploadTokenStatus` values.
pub mod upload_status {
    pub const PENDING: i64 = 0;
    pub const PARTIAL_UPLOAD: i64 = 1;
    pub const FULL_UPLOAD: i64 = 2;
    pub const CLOSED: i64 = 3;
    pub const TIMED_OUT: i64 = 4;
    pub const DELETED: i64 = 5;
}

/// An upload in progress or finished (`KalturaUploadToken`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UploadToken {
    pub id: String,
    pub partner_id: i64,
    pub user_id: String,
    /// One of [`upload_status`].
    pub status: i64,
    pub file_name: Option<String>,
    pub file_size: Option<f64>,
    /// Bytes durably written so far.
    pub uploaded_file_size: f64,
    pub auto_finalize: Option<i64>,
    pub attached_object_type: Option<String>,
    pub attached_object_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Editable entry fields that the thumbnail path does not read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryDetails {
    pub description: Option<String>,
    pub tags: Option<String>,
    pub user_id: Option<String>,
    pub creator_id: Option<String>,
    pub reference_id: Option<String>,
    pub partner_data: Option<String>,
    pub categories: Option<String>,
    pub conversion_profile_id: Option<i64>,
    /// The thumbnail asset whose file is the entry's default thumbnail.
    pub default_thumb_asset_id: Option<String>,
    /// Raised whenever the default thumbnail changes, for cache busting.
    pub thumb_version: i64,
    /// False once a default was chosen by hand (Kaltura's `createThumb`).
    pub create_thumb: Option<bool>,
    /// Recent default thumbnails by entry thumbnail version, oldest first.
    pub thumb_history: Vec<ThumbVersion>,
}

/// One entry thumbnail version: which asset file was the default then.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThumbVersion {
    pub version: i64,
    pub asset_id: String,
    pub file_version: i64,
}

/// Filter of `media.list`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EntryQuery {
    pub partner_id: i64,
    pub ids: Vec<String>,
    pub media_types: Vec<i64>,
    pub statuses: Vec<i64>,
    /// Entries whose name contains this text.
    pub name_like: Option<String>,
    /// `+createdAt`, `-createdAt`, `+updatedAt`, `-updatedAt`, `+name`, `-name`.
    pub order_by: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// An access-control profile with its rules.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessControlProfile {
    pub id: i64,
    pub partner_id: i64,
    pub name: String,
    pub system_name: String,
    pub description: String,
    pub is_default: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub rules: AccessRules,
}
