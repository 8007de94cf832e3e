//! Metadata and media storage, each behind a narrow trait.
//!
//! The default implementations are an embedded SQLite database and a local blob
//! directory under the data dir. A scaled-out deployment would add PostgreSQL and
//! object-storage implementations of the same traits.

pub mod api_model;
pub mod blobs;
pub mod model;
pub mod sqlite;
mod sqlite_api;

use std::path::{Path, PathBuf};

pub use api_model::{
    AccessControlProfile, ConversionProfile, DEFAULT_THUMB_PARAMS_ID, DEFAULT_THUMB_TAG,
    EntryDetails, EntryQuery, ThumbAsset, ThumbAssetQuery, ThumbFile, ThumbParams,
    ThumbParamsQuery, ThumbParamsSettings, ThumbVersion, UploadToken, asset_status, upload_status,
};
pub use blobs::LocalBlobStore;
pub use model::{AccessRules, Entry, EntryStatus, NewEntry, Partner, PartnerSettings};
pub use sqlite::SqliteStore;

/// Failures of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] rusqlite::Error),
    #[error("blob storage error at {path}")]
    Blob {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("stored settings are not valid JSON")]
    Settings(#[from] serde_json::Error),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("invalid blob key {0:?}")]
    InvalidKey(String),
}

/// Partners, entries and access-control profiles.
pub trait MetadataStore: Send + Sync {
    fn partner(&self, partner_id: i64) -> Result<Option<Partner>, StoreError>;
    fn upsert_partner(&self, partner: &Partner) -> Result<(), StoreError>;
    fn entry(&self, entry_id: &str) -> Result<Option<Entry>, StoreError>;
    /// Inserts an entry whose blob is already stored.
    fn insert_entry(&self, entry: &NewEntry) -> Result<Entry, StoreError>;
    fn set_entry_status(&self, entry_id: &str, status: EntryStatus) -> Result<(), StoreError>;
    fn set_entry_access_control(
        &self,
        entry_id: &str,
        profile_id: Option<i64>,
    ) -> Result<(), StoreError>;
    fn access_rules(&self, profile_id: i64) -> Result<Option<AccessRules>, StoreError>;
    /// Creates an access-control profile and returns its id.
    fn insert_access_rules(&self, partner_id: i64, rules: &AccessRules) -> Result<i64, StoreError>;
    /// Blob keys that some entry refers to, for removing orphans at start-up.
    fn blob_keys(&self) -> Result<Vec<String>, StoreError>;
}

/// Records of the API v3 services. Every method that writes several rows does so in
/// one transaction, so a crash leaves either all of them or none.
pub trait ApiStore: Send + Sync {
    /// Inserts an entry (with or without content) and its details together.
    fn create_entry(&self, entry: &NewEntry, details: &EntryDetails) -> Result<Entry, StoreError>;
    /// Gives an entry without content (or with replaced content) its media: blob key,
    /// media facts, flavor id, file size and format from `content`, status from
    /// `content.status`, version raised by one.
    fn attach_entry_content(&self, entry_id: &str, content: &NewEntry)
    -> Result<Entry, StoreError>;
    /// Replaces an entry's name and details (`media.update`).
    fn update_entry(
        &self,
        entry_id: &str,
        name: &str,
        details: &EntryDetails,
    ) -> Result<Entry, StoreError>;
    /// Lists the partner's entries, deleted ones excluded; returns the page and the total.
    fn list_entries(&self, query: &EntryQuery) -> Result<(Vec<Entry>, u64), StoreError>;

    fn insert_thumb_asset(&self, asset: &ThumbAsset) -> Result<(), StoreError>;
    /// Returns an asset by id, deleted ones included.
    fn thumb_asset(&self, asset_id: &str) -> Result<Option<ThumbAsset>, StoreError>;
    /// Returns the entry's assets that are not deleted, oldest first.
    fn entry_thumb_assets(&self, entry_id: &str) -> Result<Vec<ThumbAsset>, StoreError>;
    /// Writes back every given asset, and the entry details when given, in one
    /// transaction (default-thumbnail changes touch several assets and the entry).
    fn save_thumb_assets(
        &self,
        assets: &[ThumbAsset],
        entry: Option<(&str, &EntryDetails)>,
    ) -> Result<(), StoreError>;
    /// Records a new file version and writes the asset (its new version, size and
    /// status), inserting the asset when it is new, in one transaction. The blob
    /// must already be stored.
    fn commit_thumb_file(&self, asset: &ThumbAsset, file: &ThumbFile) -> Result<(), StoreError>;
    /// One stored version of an asset's file.
    fn thumb_file(&self, asset_id: &str, version: i64) -> Result<Option<ThumbFile>, StoreError>;
    /// Lists assets (deleted ones excluded unless the statuses ask for them);
    /// returns the page and the total.
    fn list_thumb_assets(
        &self,
        query: &ThumbAssetQuery,
    ) -> Result<(Vec<ThumbAsset>, u64), StoreError>;

    /// Inserts a template and returns its new id (partner ids start above 1000).
    fn insert_thumb_params(&self, params: &ThumbParams) -> Result<i64, StoreError>;
    /// Returns a template by id, soft-deleted ones excluded.
    fn thumb_params(&self, id: i64) -> Result<Option<ThumbParams>, StoreError>;
    fn update_thumb_params(&self, params: &ThumbParams) -> Result<(), StoreError>;
    /// Lists the partner's templates and partner 0's system defaults.
    fn list_thumb_params(
        &self,
        query: &ThumbParamsQuery,
    ) -> Result<(Vec<ThumbParams>, u64), StoreError>;

    fn insert_conversion_profile(&self, profile: &ConversionProfile) -> Result<i64, StoreError>;
    fn conversion_profile(&self, id: i64) -> Result<Option<ConversionProfile>, StoreError>;
    /// Lists the partner's profiles (deleted ones excluded): the page and the total.
    fn list_conversion_profiles(
        &self,
        partner_id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ConversionProfile>, u64), StoreError>;

    fn insert_upload_token(&self, token: &UploadToken) -> Result<(), StoreError>;
    fn upload_token(&self, id: &str) -> Result<Option<UploadToken>, StoreError>;
    fn update_upload_token(&self, token: &UploadToken) -> Result<(), StoreError>;
    /// Lists the partner's tokens (deleted ones excluded): the page and the total.
    fn list_upload_tokens(
        &self,
        partner_id: i64,
        statuses: &[i64],
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<UploadToken>, u64), StoreError>;

    fn insert_access_control_profile(
        &self,
        profile: &AccessControlProfile,
    ) -> Result<i64, StoreError>;
    fn access_control_profile(&self, id: i64) -> Result<Option<AccessControlProfile>, StoreError>;
    fn list_access_control_profiles(
        &self,
        partner_id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<AccessControlProfile>, u64), StoreError>;
}

/// Media files addressed by relative keys such as `101/0_ab12cd34/1.jpg`.
pub trait BlobStore: Send + Sync {
    /// Stores the file at `source` under `key` atomically: temporary file, fsync,
    /// rename. A crash leaves either nothing or the whole file.
    fn put_file(&self, key: &str, source: &Path) -> Result<u64, StoreError>;
    /// Path of a stored blob on the local disk (FFmpeg reads files by path).
    fn local_path(&self, key: &str) -> Result<PathBuf, StoreError>;
    fn read(&self, key: &str) -> Result<Vec<u8>, StoreError>;
    /// Deletes every blob and temporary file that no key in `keep` names.
    fn remove_orphans(&self, keep: &[String]) -> Result<usize, StoreError>;
}
