//! One function per user action, independent of HTTP: serve a thumbnail, ingest media.

pub mod error;
pub mod ingest;
pub mod render_job;
pub mod thumbnail;
pub mod vtt;

use std::path::Path;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::cache::ResultCache;
use crate::config::ServiceArgs;
use crate::metrics::Metrics;
use crate::render::Backend;
use crate::store::{BlobStore, LocalBlobStore, MetadataStore, SqliteStore, StoreError};

pub use error::ThumbnailError;

/// Shared state of a running service.
pub struct Services {
    pub store: Arc<dyn MetadataStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub backend: Arc<dyn Backend>,
    pub cache: ResultCache,
    pub render_gate: Arc<Semaphore>,
    pub metrics: Arc<Metrics>,
    pub config: ServiceArgs,
}

/// The metadata database and blob directory of one data dir.
pub struct DataDir {
    pub store: Arc<SqliteStore>,
    pub blobs: Arc<LocalBlobStore>,
}

impl DataDir {
    /// Opens `dir`, creating the database and blob directory when missing.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Blob {
            path: dir.to_path_buf(),
            source,
        })?;
        let store = Arc::new(SqliteStore::open(&dir.join("thumbd.sqlite3"))?);
        let blobs = Arc::new(LocalBlobStore::open(&dir.join("blobs"))?);
        Ok(Self { store, blobs })
    }

    /// Deletes blobs that no entry refers to: leftovers of a crash between storing a
    /// file and committing its row.
    pub fn remove_orphans(&self) -> Result<usize, StoreError> {
        let keys = self.store.blob_keys()?;
        self.blobs.remove_orphans(&keys)
    }
}

impl Services {
    pub fn new(
        data: &DataDir,
        backend: Arc<dyn Backend>,
        metrics: Arc<Metrics>,
        config: ServiceArgs,
    ) -> Self {
        Self {
            store: data.store.clone(),
            blobs: data.blobs.clone(),
            backend,
            cache: ResultCache::new(
                config.cache_bytes,
                std::time::Duration::from_secs(config.cache_ttl_secs),
            ),
            render_gate: Arc::new(Semaphore::new(config.concurrent_renders())),
            metrics,
            config,
        }
    }
}
