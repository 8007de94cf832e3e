//! `ApiStore` on the SQLite database. Each method runs one function of the
//! submodule for its record kind, in one transaction when it writes.

mod entries;
mod profiles;
mod query;
mod thumb_params;
mod thumbs;
mod uploads;

use super::api_model::{
    AccessControlProfile, ConversionProfile, EntryDetails, EntryQuery, ThumbAsset, ThumbAssetQuery,
    ThumbFile, ThumbParams, ThumbParamsQuery, UploadToken,
};
use super::model::{Entry, NewEntry};
use super::sqlite::SqliteStore;
use super::{ApiStore, StoreError};
use query::Page;

impl ApiStore for SqliteStore {
    fn create_entry(&self, entry: &NewEntry, details: &EntryDetails) -> Result<Entry, StoreError> {
        self.with_transaction(|t| entries::create(t, entry, details))
    }

    fn attach_entry_content(
        &self,
        entry_id: &str,
        content: &NewEntry,
    ) -> Result<Entry, StoreError> {
        self.with_transaction(|t| entries::attach_content(t, entry_id, content))
    }

    fn update_entry(
        &self,
        entry_id: &str,
        name: &str,
        details: &EntryDetails,
    ) -> Result<Entry, StoreError> {
        self.with_transaction(|t| entries::update(t, entry_id, name, details))
    }

    fn list_entries(&self, query: &EntryQuery) -> Result<(Vec<Entry>, u64), StoreError> {
        self.with(|c| entries::list(c, query))
    }

    fn insert_thumb_asset(&self, asset: &ThumbAsset) -> Result<(), StoreError> {
        self.with(|c| thumbs::insert_asset(c, asset))
    }

    fn thumb_asset(&self, asset_id: &str) -> Result<Option<ThumbAsset>, StoreError> {
        self.with(|c| thumbs::asset(c, asset_id))
    }

    fn entry_thumb_assets(&self, entry_id: &str) -> Result<Vec<ThumbAsset>, StoreError> {
        self.with(|c| thumbs::entry_assets(c, entry_id))
    }

    fn save_thumb_assets(
        &self,
        assets: &[ThumbAsset],
        entry: Option<(&str, &EntryDetails)>,
    ) -> Result<(), StoreError> {
        self.with_transaction(|t| thumbs::save_assets(t, assets, entry))
    }

    fn commit_thumb_file(&self, asset: &ThumbAsset, file: &ThumbFile) -> Result<(), StoreError> {
        self.with_transaction(|t| thumbs::commit_file(t, asset, file))
    }

    fn thumb_file(&self, asset_id: &str, version: i64) -> Result<Option<ThumbFile>, StoreError> {
        self.with(|c| thumbs::file(c, asset_id, version))
    }

    fn list_thumb_assets(
        &self,
        query: &ThumbAssetQuery,
    ) -> Result<(Vec<ThumbAsset>, u64), StoreError> {
        self.with(|c| thumbs::list_assets(c, query))
    }

    fn insert_thumb_params(&self, params: &ThumbParams) -> Result<i64, StoreError> {
        self.with(|c| thumb_params::insert(c, params))
    }

    fn thumb_params(&self, id: i64) -> Result<Option<ThumbParams>, StoreError> {
        self.with(|c| thumb_params::get(c, id))
    }

    fn update_thumb_params(&self, params: &ThumbParams) -> Result<(), StoreError> {
        self.with(|c| thumb_params::update(c, params))
    }

    fn list_thumb_params(
        &self,
        query: &ThumbParamsQuery,
    ) -> Result<(Vec<ThumbParams>, u64), StoreError> {
        self.with(|c| thumb_params::list(c, query))
    }

    fn insert_conversion_profile(&self, profile: &ConversionProfile) -> Result<i64, StoreError> {
        self.with(|c| profiles::insert_conversion(c, profile))
    }

    fn conversion_profile(&self, id: i64) -> Result<Option<ConversionProfile>, StoreError> {
        self.with(|c| profiles::conversion(c, id))
    }

    fn list_conversion_profiles(
        &self,
        partner_id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ConversionProfile>, u64), StoreError> {
        self.with(|c| profiles::list_conversion(c, partner_id, Page { offset, limit }))
    }

    fn insert_upload_token(&self, token: &UploadToken) -> Result<(), StoreError> {
        self.with(|c| uploads::insert(c, token))
    }

    fn upload_token(&self, id: &str) -> Result<Option<UploadToken>, StoreError> {
        self.with(|c| uploads::get(c, id))
    }

    fn update_upload_token(&self, token: &UploadToken) -> Result<(), StoreError> {
        self.with(|c| uploads::update(c, token))
    }

    fn list_upload_tokens(
        &self,
        partner_id: i64,
        statuses: &[i64],
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<UploadToken>, u64), StoreError> {
        self.with(|c| uploads::list(c, partner_id, statuses, Page { offset, limit }))
    }

    fn insert_access_control_profile(
        &self,
        profile: &AccessControlProfile,
    ) -> Result<i64, StoreError> {
        self.with(|c| profiles::insert_access_control(c, profile))
    }

    fn access_control_profile(&self, id: i64) -> Result<Option<AccessControlProfile>, StoreError> {
        self.with(|c| profiles::access_control(c, id))
    }

    fn list_access_control_profiles(
        &self,
        partner_id: i64,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<AccessControlProfile>, u64), StoreError> {
        self.with(|c| profiles::list_access_control(c, partner_id, Page { offset, limit }))
    }
}

/// Store set-up shared by the tests of the record kinds.
#[cfg(test)]
pub(in crate::store) mod test_support {
    use tempfile::TempDir;

    use crate::frame::{Orientation, Size};
    use crate::source::MediaType;
    use crate::store::{
        EntryStatus, MetadataStore, NewEntry, Partner, PartnerSettings, SqliteStore,
    };

    /// Opens a new store in a temporary directory with partners 101 and 202.
    pub(in crate::store) fn open_store() -> (TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("thumbd.sqlite3")).unwrap();
        for id in [101, 202] {
            store
                .upsert_partner(&Partner {
                    id,
                    admin_secret: format!("admin{id}"),
                    secret: format!("user{id}"),
                    status: 1,
                    settings: PartnerSettings::default(),
                })
                .unwrap();
        }
        (dir, store)
    }

    /// A ready 640x480 JPEG image entry of `partner_id`.
    pub(in crate::store) fn image_entry(id: &str, partner_id: i64) -> NewEntry {
        NewEntry {
            id: id.to_string(),
            partner_id,
            name: format!("Entry {id}"),
            media_type: MediaType::Image,
            status: EntryStatus::READY,
            stored_size: Size::new(640, 480),
            orientation: Orientation::Normal,
            duration: 0.0,
            frame_rate: 0.0,
            flavor_id: format!("{id}_flavor"),
            blob_key: format!("{partner_id}/{id}/1.jpg"),
            file_size: 1000,
            format: "jpg".to_string(),
        }
    }
}
