//! One function per user action, independent of HTTP: serve a thumbnail, ingest media.

pub mod error;
pub mod ingest;
pub mod render_job;
pub mod thumb_generation;
pub mod thumb_sources;
pub mod thumb_template;
pub mod thumbnail;
pub mod vtt;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::cache::ResultCache;
use crate::config::ServiceArgs;
use crate::metrics::Metrics;
use crate::render::Backend;
use crate::store::{ApiStore, BlobStore, LocalBlobStore, MetadataStore, SqliteStore, StoreError};

pub use error::ThumbnailError;

/// Shared state of a running service.
pub struct Services {
    pub store: Arc<dyn MetadataStore>,
    /// Records of the API v3 services, in the same database as `store`.
    pub api_store: Arc<dyn ApiStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub backend: Arc<dyn Backend>,
    pub cache: ResultCache,
    pub render_gate: Arc<Semaphore>,
    pub metrics: Arc<Metrics>,
    pub config: ServiceArgs,
    /// The data dir: `uploads/` contains upload-token files and `tmp/` request bodies.
    pub data_root: PathBuf,
}

/// The metadata database and blob directory of one data dir.
pub struct DataDir {
    pub root: PathBuf,
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
        Ok(Self {
            root: dir.to_path_buf(),
            store,
            blobs,
        })
    }

    /// Deletes blobs that no entry or thumbnail file refers to (leftovers of a crash
    /// between storing a file and committing its row), request bodies left in
    /// `tmp/`, and upload chunks that were being staged.
    pub fn remove_orphans(&self) -> Result<usize, StoreError> {
        let keys = self.store.blob_keys()?;
        let mut removed = self.blobs.remove_orphans(&keys)?;
        removed += remove_files_in(&self.root.join("tmp"), |_| true)?;
        removed += remove_files_in(&self.root.join("uploads"), |path| {
            path.extension().is_some_and(|e| e == "staged")
        })?;
        Ok(removed)
    }
}

/// Deletes the files of `directory` (not recursing) that `select` picks; a missing
/// directory has none.
fn remove_files_in(directory: &Path, select: impl Fn(&Path) -> bool) -> Result<usize, StoreError> {
    let blob_error = |source| StoreError::Blob {
        path: directory.to_path_buf(),
        source,
    };
    let listing = match std::fs::read_dir(directory) {
        Ok(listing) => listing,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(blob_error(error)),
    };
    let mut removed = 0;
    for item in listing {
        let path = item.map_err(blob_error)?.path();
        if path.is_file() && select(&path) {
            std::fs::remove_file(&path).map_err(blob_error)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Current Unix time in whole seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Formats an error and its chain of sources as one line, `outer: inner: ...`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Path of an upload token's file under the data dir.
pub fn upload_file_path(data_root: &Path, token_id: &str) -> PathBuf {
    data_root.join("uploads").join(format!("{token_id}.upload"))
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
            api_store: data.store.clone(),
            blobs: data.blobs.clone(),
            backend,
            cache: ResultCache::new(
                config.cache_bytes,
                std::time::Duration::from_secs(config.cache_ttl_secs),
            ),
            render_gate: Arc::new(Semaphore::new(config.concurrent_renders())),
            metrics,
            config,
            data_root: data.root.clone(),
        }
    }
}
