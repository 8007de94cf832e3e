//! Ingest: probe a media file, store it atomically, and record its entry.

use std::path::Path;
use std::sync::Arc;

use crate::source::{self, SourceError, SourceLimits};
use crate::store::model::new_object_id;
use crate::store::{
    BlobStore, Entry, EntryStatus, MetadataStore, NewEntry, Partner, PartnerSettings, StoreError,
};

/// Failure of an ingest. Nothing is stored in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot ingest {path}")]
    Source {
        path: String,
        #[source]
        source: SourceError,
    },
    #[error("entry {0} already exists")]
    EntryExists(String),
    #[error(
        "entry id {0:?} is invalid: use letters, digits and underscores, at most 64 characters"
    )]
    InvalidEntryId(String),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

/// A file to ingest and the labels of its new entry.
#[derive(Clone, Debug)]
pub struct IngestRequest<'a> {
    pub path: &'a Path,
    pub partner_id: i64,
    pub entry_id: Option<String>,
    pub status: EntryStatus,
    pub limits: SourceLimits,
}

/// Stores a file as a new entry: probe and validate, blob first, then the row.
pub fn ingest_file(
    store: &Arc<dyn MetadataStore>,
    blobs: &Arc<dyn BlobStore>,
    request: &IngestRequest<'_>,
) -> Result<Entry, IngestError> {
    let source_error = |source| IngestError::Source {
        path: request.path.display().to_string(),
        source,
    };
    let info = source::probe_file(request.path, &request.limits).map_err(source_error)?;
    source::validate_file(request.path, &info, &request.limits).map_err(source_error)?;

    let entry_id = match &request.entry_id {
        Some(id) => validated_entry_id(id)?,
        None => new_object_id(),
    };
    if store.entry(&entry_id)?.is_some() {
        return Err(IngestError::EntryExists(entry_id));
    }
    ensure_partner(store.as_ref(), request.partner_id)?;

    let extension = request
        .path
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or(&info.format)
        .to_ascii_lowercase();
    let blob_key = format!("{}/{entry_id}/1.{extension}", request.partner_id);
    let file_size = blobs.put_file(&blob_key, request.path)?;

    let name = request
        .path
        .file_stem()
        .map_or_else(|| entry_id.clone(), |s| s.to_string_lossy().into_owned());
    let new_entry = NewEntry {
        id: entry_id,
        partner_id: request.partner_id,
        name,
        media_type: info.media_type,
        status: request.status,
        stored_size: info.stored_size,
        orientation: info.orientation,
        duration: info.duration,
        frame_rate: info.frame_rate,
        flavor_id: new_object_id(),
        blob_key,
        file_size,
        format: info.format.clone(),
    };
    // If the row fails, the blob is an orphan that the next start-up removes.
    Ok(store.insert_entry(&new_entry)?)
}

fn validated_entry_id(id: &str) -> Result<String, IngestError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(IngestError::InvalidEntryId(id.to_string()));
    }
    Ok(id.to_string())
}

/// Creates the partner with random secrets when it does not exist yet.
pub fn ensure_partner(store: &dyn MetadataStore, partner_id: i64) -> Result<Partner, StoreError> {
    if let Some(partner) = store.partner(partner_id)? {
        return Ok(partner);
    }
    let partner = Partner {
        id: partner_id,
        admin_secret: random_secret(),
        secret: random_secret(),
        status: 1,
        settings: PartnerSettings::default(),
    };
    store.upsert_partner(&partner)?;
    Ok(partner)
}

/// 32 hex characters, the shape of Kaltura partner secrets.
pub fn random_secret() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}
