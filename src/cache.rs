//! Rendered thumbnails kept in memory, bounded in bytes, with request coalescing.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use moka::future::Cache;
use sha1::{Digest, Sha1};

/// A finished output with what the HTTP layer needs to send it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    pub bytes: Bytes,
    pub content_type: &'static str,
    /// Strong entity tag derived from the bytes, quoted as HTTP wants it.
    pub etag: String,
}

impl Rendered {
    pub fn new(bytes: Bytes, content_type: &'static str) -> Self {
        let digest = Sha1::digest(&bytes);
        let etag = format!("\"{}\"", hex::encode(&digest[..12]));
        Self {
            bytes,
            content_type,
            etag,
        }
    }
}

/// Outcome of a cache lookup, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    /// This request rendered the value.
    Rendered,
    /// Another identical request rendered it while this one waited.
    Coalesced,
}

/// The result cache. Identical keys requested together share one render.
#[derive(Clone)]
pub struct ResultCache {
    inner: Cache<String, Arc<Rendered>>,
}

impl ResultCache {
    pub fn new(max_bytes: u64, ttl: Duration) -> Self {
        let inner = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, value: &Arc<Rendered>| {
                (key.len() + value.bytes.len() + 128)
                    .try_into()
                    .unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .build();
        Self { inner }
    }

    /// Returns the cached value for `key`, or runs `render` once for all concurrent
    /// callers of the same key. Errors are shared with the waiters and not cached.
    pub async fn get_or_render<E, F>(
        &self,
        key: String,
        render: F,
    ) -> Result<(Arc<Rendered>, CacheOutcome), Arc<E>>
    where
        F: Future<Output = Result<Arc<Rendered>, E>>,
        E: Send + Sync + 'static,
    {
        if let Some(value) = self.inner.get(&key).await {
            return Ok((value, CacheOutcome::Hit));
        }
        let entry = self.inner.entry(key).or_try_insert_with(render).await?;
        let outcome = if entry.is_fresh() {
            CacheOutcome::Rendered
        } else {
            CacheOutcome::Coalesced
        };
        Ok((entry.into_value(), outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_identical_keys_render_once() {
        let cache = ResultCache::new(1 << 20, Duration::from_secs(60));
        let renders = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let cache = cache.clone();
            let renders = renders.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_render::<(), _>("key".into(), async move {
                        renders.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(Arc::new(Rendered::new(
                            Bytes::from_static(b"x"),
                            "image/jpeg",
                        )))
                    })
                    .await
                    .unwrap()
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let cache = ResultCache::new(1 << 20, Duration::from_secs(60));
        let failed = cache
            .get_or_render::<&str, _>("k".into(), async { Err("boom") })
            .await;
        assert!(failed.is_err());
        let (_, outcome) = cache
            .get_or_render::<&str, _>("k".into(), async {
                Ok(Arc::new(Rendered::new(
                    Bytes::from_static(b"y"),
                    "image/png",
                )))
            })
            .await
            .unwrap();
        assert_eq!(outcome, CacheOutcome::Rendered);
    }
}
