//! `uploadToken`: a token, then one or more chunks written to `uploads/` under the
//! data dir. Each chunk is on disk and fsynced before the token's size moves, so a
//! crash mid-upload leaves the token at the last complete chunk.

use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};

use super::common::{extension_of, pager, upload_path};
use super::{Context, unix_now, unknown_action};
use crate::api::{ApiError, Output, UploadedFile, error, objects};
use crate::store::model::new_object_id;
use crate::store::{UploadToken, upload_status};

pub async fn run(context: &Context<'_>, action: &str) -> Result<Output, ApiError> {
    match action {
        "add" => add(context).await,
        "upload" => upload(context).await,
        "get" => get(context).await,
        "list" => list(context).await,
        "delete" => delete(context).await,
        _ => Err(unknown_action(context)),
    }
}

async fn add(context: &Context<'_>) -> Result<Output, ApiError> {
    let session = context.session()?;
    let object = context
        .params()
        .object("uploadToken")
        .cloned()
        .unwrap_or_default();
    let now = unix_now();
    let token = UploadToken {
        id: new_object_id(),
        partner_id: session.partner.id,
        user_id: session.ks.user_id.clone(),
        status: upload_status::PENDING,
        file_name: object.text("fileName").map(str::to_string),
        file_size: object.float("fileSize"),
        uploaded_file_size: 0.0,
        auto_finalize: object.int("autoFinalize"),
        attached_object_type: None,
        attached_object_id: None,
        created_at: now,
        updated_at: now,
    };

    let stored = token.clone();
    context
        .blocking(move |services| Ok(services.api_store.insert_upload_token(&stored)?))
        .await?;
    tracing::info!(token_id = %token.id, "upload token added");
    Ok(objects::upload_token(&token, &context.public_base_url()).into())
}

/// Loads a token of the session's partner that is not deleted.
pub async fn load_token(context: &Context<'_>, token_id: &str) -> Result<UploadToken, ApiError> {
    let partner_id = context.partner_id()?;
    let id = token_id.to_string();
    context
        .blocking(move |services| Ok(services.api_store.upload_token(&id)?))
        .await?
        .filter(|t| t.partner_id == partner_id && t.status != upload_status::DELETED)
        .ok_or_else(|| ApiError::with(error::UPLOAD_TOKEN_NOT_FOUND, &[]))
}

/// `upload(uploadTokenId, fileData, resume = false, finalChunk = true, resumeAt = -1)`.
async fn upload(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let token_id = params.required_text("uploadTokenId")?.to_string();
    let file = params.file("fileData").cloned().ok_or_else(|| {
        ApiError::with(error::MISSING_MANDATORY_PARAMETER, &["fileData"]).in_envelope()
    })?;
    let resume = params.bool("resume").unwrap_or(false);
    let final_chunk = params.bool("finalChunk").unwrap_or(true);
    let resume_at = params.float("resumeAt").unwrap_or(-1.0);

    let mut token = load_token(context, &token_id).await?;
    let writable = token.status == upload_status::PENDING
        || (resume && token.status == upload_status::PARTIAL_UPLOAD);
    if !writable {
        return Err(ApiError::with(
            error::UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD,
            &[],
        ));
    }
    if resume && resume_at >= 0.0 && resume_at != token.uploaded_file_size {
        return Err(ApiError::with(
            error::UPLOAD_TOKEN_RESUMING_INVALID_POSITION,
            &[],
        ));
    }

    let max_bytes = context.services.config.limits.max_source_bytes;
    let target = upload_path(&context.services.data_root, &token.id);
    let committed = token.uploaded_file_size as u64;
    let size = tokio::task::spawn_blocking(move || {
        write_chunk(&file, &target, resume, committed, max_bytes)
    })
    .await
    .map_err(|join| ApiError::internal(&join))??;

    if token.file_name.is_none() {
        token.file_name = Some(
            params
                .file("fileData")
                .map_or_else(String::new, |f| f.file_name.clone()),
        );
    }
    token.uploaded_file_size = size as f64;
    token.status = if final_chunk {
        upload_status::FULL_UPLOAD
    } else {
        upload_status::PARTIAL_UPLOAD
    };
    token.updated_at = unix_now();
    let stored = token.clone();
    context
        .blocking(move |services| Ok(services.api_store.update_upload_token(&stored)?))
        .await?;
    tracing::info!(token_id = %token.id, bytes = size, final_chunk, "upload written");
    Ok(objects::upload_token(&token, &context.public_base_url()).into())
}

/// Writes one chunk durably and returns the file's new size. A first chunk is
/// copied to a staged file, fsynced and renamed over the upload file. A resumed
/// chunk is appended after the last committed byte, so bytes of a chunk cut off by
/// a crash are dropped.
fn write_chunk(
    file: &UploadedFile,
    target: &std::path::Path,
    resume: bool,
    committed: u64,
    max_bytes: u64,
) -> Result<u64, ApiError> {
    let io_error = |error: std::io::Error| {
        tracing::error!(%error, path = %target.display(), "upload write failed");
        ApiError::with(error::UPLOAD_ERROR, &[])
    };
    let directory = target.parent().expect("upload paths have a parent");
    fs::create_dir_all(directory).map_err(io_error)?;

    if !resume {
        if file.size > max_bytes {
            return Err(too_large(max_bytes));
        }
        let staged = target.with_extension("staged");
        fs::copy(&file.path, &staged).map_err(io_error)?;
        fs::File::open(&staged)
            .and_then(|f| f.sync_all())
            .map_err(io_error)?;
        fs::rename(&staged, target).map_err(io_error)?;
        sync_directory(directory);
        return Ok(file.size);
    }

    if committed + file.size > max_bytes {
        return Err(too_large(max_bytes));
    }
    let mut output = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(target)
        .map_err(io_error)?;
    output.set_len(committed).map_err(io_error)?;
    output.seek(SeekFrom::Start(committed)).map_err(io_error)?;
    let mut input = fs::File::open(&file.path).map_err(io_error)?;
    std::io::copy(&mut input, &mut output).map_err(io_error)?;
    output.flush().map_err(io_error)?;
    output.sync_all().map_err(io_error)?;
    Ok(committed + file.size)
}

fn too_large(max_bytes: u64) -> ApiError {
    tracing::info!(
        max_bytes,
        "upload rejected: larger than the source size limit"
    );
    let mut rejection = ApiError::with(error::UPLOAD_ERROR, &[]);
    rejection.message = format!(
        "Upload failed: the file is larger than the limit of {max_bytes} bytes (--max-source-bytes)"
    );
    rejection
}

fn sync_directory(directory: &std::path::Path) {
    if let Ok(handle) = fs::File::open(directory) {
        let _ = handle.sync_all();
    }
}

async fn get(context: &Context<'_>) -> Result<Output, ApiError> {
    let token_id = context.params().required_text("uploadTokenId")?;
    let token = load_token(context, token_id).await?;
    Ok(objects::upload_token(&token, &context.public_base_url()).into())
}

async fn list(context: &Context<'_>) -> Result<Output, ApiError> {
    let partner_id = context.partner_id()?;
    let params = context.params();
    let (offset, limit) = pager(params);
    let filter = params.object("filter").cloned().unwrap_or_default();
    let mut statuses = super::common::csv_ints(filter.text("statusIn"));
    if let Some(status) = filter.int("statusEqual") {
        statuses.push(status);
    }

    let (tokens, total) = context
        .blocking(move |services| {
            Ok(services
                .api_store
                .list_upload_tokens(partner_id, &statuses, offset, limit)?)
        })
        .await?;
    let base = context.public_base_url();
    let objects = tokens
        .iter()
        .map(|t| objects::upload_token(t, &base))
        .collect();
    Ok(objects::list_response("KalturaUploadTokenListResponse", objects, total).into())
}

async fn delete(context: &Context<'_>) -> Result<Output, ApiError> {
    let token_id = context.params().required_text("uploadTokenId")?;
    let mut token = load_token(context, token_id).await?;
    token.status = upload_status::DELETED;
    token.updated_at = unix_now();

    let path = upload_path(&context.services.data_root, &token.id);
    context
        .blocking(move |services| {
            services.api_store.update_upload_token(&token)?;
            let _ = fs::remove_file(&path);
            Ok(())
        })
        .await?;
    Ok(Output::Value(crate::api::Value::Null))
}

/// The extension a token's file should keep when it is stored.
pub fn token_extension(token: &UploadToken, format: &str) -> String {
    token
        .file_name
        .as_deref()
        .and_then(extension_of)
        .unwrap_or_else(|| format.to_ascii_lowercase())
}
