//! `BlobStore` on a local directory.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use super::{BlobStore, StoreError};

/// Suffix of files being written; start-up deletes any left by a crash.
const TEMP_SUFFIX: &str = ".partial";

/// Blobs under one root directory, each key a relative path.
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(root).map_err(|source| StoreError::Blob {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// Returns the directory that contains every blob.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves a key, rejecting anything that could leave the root.
    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        let relative = Path::new(key);
        let safe = !key.is_empty()
            && relative
                .components()
                .all(|component| matches!(component, Component::Normal(_)));
        if !safe {
            return Err(StoreError::InvalidKey(key.to_string()));
        }
        Ok(self.root.join(relative))
    }
}

fn blob_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Blob {
        path: path.to_path_buf(),
        source,
    }
}

impl BlobStore for LocalBlobStore {
    fn put_file(&self, key: &str, source: &Path) -> Result<u64, StoreError> {
        let target = self.path_of(key)?;
        let directory = target.parent().expect("a key has a parent directory");
        fs::create_dir_all(directory).map_err(blob_error(directory))?;

        let temp = target.with_extension(format!(
            "{}{TEMP_SUFFIX}",
            target.extension().and_then(|e| e.to_str()).unwrap_or("bin")
        ));
        let size = {
            let mut input = fs::File::open(source).map_err(blob_error(source))?;
            let mut output = fs::File::create(&temp).map_err(blob_error(&temp))?;
            let size = std::io::copy(&mut input, &mut output).map_err(blob_error(&temp))?;
            output.flush().map_err(blob_error(&temp))?;
            output.sync_all().map_err(blob_error(&temp))?;
            size
        };
        fs::rename(&temp, &target).map_err(blob_error(&target))?;

        // Make the rename itself durable.
        if let Ok(dir) = fs::File::open(directory) {
            let _ = dir.sync_all();
        }
        Ok(size)
    }

    fn local_path(&self, key: &str) -> Result<PathBuf, StoreError> {
        self.path_of(key)
    }

    fn read(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path_of(key)?;
        fs::read(&path).map_err(blob_error(&path))
    }

    fn remove_orphans(&self, keep: &[String]) -> Result<usize, StoreError> {
        let keep: std::collections::HashSet<PathBuf> = keep
            .iter()
            .filter_map(|key| self.path_of(key).ok())
            .collect();
        let mut removed = 0;
        let mut pending = vec![self.root.clone()];
        while let Some(directory) = pending.pop() {
            let listing = fs::read_dir(&directory).map_err(blob_error(&directory))?;
            for item in listing {
                let path = item.map_err(blob_error(&directory))?.path();
                if path.is_dir() {
                    pending.push(path);
                } else if !keep.contains(&path) {
                    fs::remove_file(&path).map_err(blob_error(&path))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        assert!(store.local_path("../etc/passwd").is_err());
        assert!(store.local_path("/etc/passwd").is_err());
        assert!(store.local_path("1/0_abc/1.jpg").is_ok());
    }

    #[test]
    fn orphans_and_partials_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let source = dir.path().join("source.bin");
        fs::write(&source, b"data").unwrap();
        store.put_file("1/a/1.bin", &source).unwrap();
        store.put_file("1/b/1.bin", &source).unwrap();
        fs::write(dir.path().join("1/a/2.bin.partial"), b"half").unwrap();
        fs::remove_file(&source).unwrap();

        let removed = store.remove_orphans(&["1/a/1.bin".to_string()]).unwrap();
        assert_eq!(removed, 2);
        assert_eq!(store.read("1/a/1.bin").unwrap(), b"data");
    }
}
