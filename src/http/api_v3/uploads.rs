//! Temporary files that hold uploaded file parts for the length of one request.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

/// The temporary files of one request. Dropping it deletes every file still at its
/// path, so a file that an action moved away (into an upload token's storage, for
/// instance) is kept.
#[derive(Debug, Default)]
pub struct TempUploads {
    paths: Vec<PathBuf>,
}

/// A file part that could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("storing an uploaded file at {path} failed")]
pub struct StoreUploadError {
    /// The upload directory, or the file when writing to it failed.
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl TempUploads {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates an empty file in `dir` (created when missing) that is deleted with
    /// this guard, and returns it opened for writing.
    pub async fn create(
        &mut self,
        dir: &Path,
    ) -> Result<(tokio::fs::File, PathBuf), StoreUploadError> {
        let error = |source| StoreUploadError {
            path: dir.to_path_buf(),
            source,
        };
        tokio::fs::create_dir_all(dir).await.map_err(error)?;

        let owned_dir = dir.to_path_buf();
        let created = tokio::task::spawn_blocking(move || {
            tempfile::Builder::new()
                .prefix("upload-")
                .tempfile_in(&owned_dir)
                .and_then(|file| file.keep().map_err(|persist| persist.error))
        })
        .await
        .map_err(|join| error(std::io::Error::other(join)))?;
        let (file, path) = created.map_err(error)?;

        self.paths.push(path.clone());
        Ok((tokio::fs::File::from_std(file), path))
    }

    /// Paths of the files created so far.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

impl Drop for TempUploads {
    fn drop(&mut self) {
        let paths = std::mem::take(&mut self.paths);
        if paths.is_empty() {
            return;
        }
        let remove = move || paths.iter().for_each(|path| remove_leftover(path));

        // Deleting a large file can block for a while, so it runs on the blocking
        // pool when a runtime is there to take it.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(remove)),
            Err(_) => remove(),
        }
    }
}

fn remove_leftover(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => tracing::debug!(path = %path.display(), "temporary upload deleted"),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "deleting a temporary upload failed");
        }
    }
}

/// Appends `bytes` to an upload file.
pub async fn append(
    file: &mut tokio::fs::File,
    path: &Path,
    bytes: &[u8],
) -> Result<(), StoreUploadError> {
    file.write_all(bytes)
        .await
        .map_err(|source| StoreUploadError {
            path: path.to_path_buf(),
            source,
        })
}

/// Waits until every appended byte is written. Tokio writes files on its blocking
/// pool, so the data may still be in flight when `append` returns.
pub async fn finish(file: &mut tokio::fs::File, path: &Path) -> Result<(), StoreUploadError> {
    file.flush().await.map_err(|source| StoreUploadError {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drop_deletes_files_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        let mut uploads = TempUploads::new();
        let (mut kept_file, kept) = uploads.create(&tmp).await.unwrap();
        append(&mut kept_file, &kept, b"data").await.unwrap();
        finish(&mut kept_file, &kept).await.unwrap();
        let (_, moved) = uploads.create(&tmp).await.unwrap();
        let destination = dir.path().join("moved");
        std::fs::rename(&moved, &destination).unwrap();
        drop(kept_file);

        drop(uploads);

        for _ in 0..100 {
            if !kept.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!kept.exists(), "the file left in place is deleted");
        assert!(destination.exists(), "the moved file is kept");
    }
}
