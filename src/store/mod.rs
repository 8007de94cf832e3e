//! Metadata and media storage, each behind a narrow trait.
//!
//! The default implementations are an embedded SQLite database and a local blob
//! directory under the data dir. A scaled-out deployment would add PostgreSQL and
//! object-storage implementations of the same traits.

pub mod blobs;
pub mod model;
pub mod sqlite;

use std::path::{Path, PathBuf};

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
