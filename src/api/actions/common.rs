//! Helpers shared by the actions: pagers, entry lookups, field checks and file moves.

use std::path::Path;

use super::Context;
use crate::api::{ApiError, Field, Params, error};
use crate::store::{Entry, EntryStatus};

/// Rows of one page: `pageSize` defaults to 30 within [0, 500], `pageIndex` to 1.
pub fn pager(params: &Params) -> (u64, u64) {
    let pager = params.object("pager");
    let size = pager
        .and_then(|p| p.int("pageSize"))
        .filter(|size| *size != 0 || pager.is_some_and(|p| p.has("pageSize")))
        .unwrap_or(30)
        .clamp(0, 500) as u64;
    let index = pager.and_then(|p| p.int("pageIndex")).unwrap_or(1).max(1) as u64;
    ((index - 1) * size, size)
}

/// Splits a comma-separated list, dropping empty items.
pub fn csv(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits a comma-separated list of integers, dropping items that are not numbers.
pub fn csv_ints(text: Option<&str>) -> Vec<i64> {
    csv(text)
        .iter()
        .filter_map(|item| item.parse().ok())
        .collect()
}

/// Loads an entry of the session's partner that is not deleted, else
/// `ENTRY_ID_NOT_FOUND`.
pub async fn load_entry(context: &Context<'_>, entry_id: &str) -> Result<Entry, ApiError> {
    let partner_id = context.partner_id()?;
    let id = entry_id.to_string();
    let entry = context
        .blocking(move |services| Ok(services.store.entry(&id)?))
        .await?;
    entry
        .filter(|entry| entry.partner_id == partner_id && entry.status != EntryStatus::DELETED)
        .ok_or_else(|| ApiError::with(error::ENTRY_ID_NOT_FOUND, &[entry_id]))
}

/// Rejects server-set fields sent in an object (`PROPERTY_VALIDATION_NOT_UPDATABLE`).
pub fn reject_readonly(object: &Params, class: &str, fields: &[&str]) -> Result<(), ApiError> {
    for field in fields {
        if object.has(field) {
            return Err(ApiError::with(
                error::PROPERTY_VALIDATION_NOT_UPDATABLE,
                &[&format!("{class}::{field}")],
            ));
        }
    }
    Ok(())
}

/// Rejects a change of an insert-only field on update; the same value is allowed.
pub fn reject_changed(
    object: &Params,
    class: &str,
    field: &str,
    current: Option<&str>,
) -> Result<(), ApiError> {
    match object.text_field(field) {
        Field::Absent => Ok(()),
        Field::Value(value) if Some(value.as_str()) == current => Ok(()),
        _ => Err(ApiError::with(
            error::PROPERTY_VALIDATION_NOT_UPDATABLE,
            &[&format!("{class}::{field}")],
        )),
    }
}

/// Applies an optional field of an update: absent keeps `current`, null clears it.
pub fn merge<T>(field: Field<T>, current: Option<T>) -> Option<T> {
    match field {
        Field::Absent => current,
        Field::Null => None,
        Field::Value(value) => Some(value),
    }
}

pub use crate::service::upload_file_path as upload_path;

/// Lower-case file extension of a name, when it is short and alphanumeric.
pub fn extension_of(name: &str) -> Option<String> {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| !e.is_empty() && e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_ascii_lowercase)
}

/// Turns a probe or decode failure of an uploaded file into an API error: an
/// unknown format names the file's extension, a damaged file or one over a limit
/// gets UPLOAD_ERROR with the reason.
pub fn rejected_upload(file_name: &str, failure: &crate::source::SourceError) -> ApiError {
    use crate::source::SourceError;

    match failure {
        SourceError::UnsupportedFormat | SourceError::UnrecognisedMedia(_) => {
            unsupported_file_type(file_name)
        }
        SourceError::TooManyPixels { .. } | SourceError::FileTooLarge { .. } => {
            upload_failed(&failure.to_string())
        }
        _ => {
            let reason = crate::service::error_chain(failure);
            upload_failed(&format!("the file is damaged or incomplete ({reason})"))
        }
    }
}

/// `FILE_TYPE_NOT_SUPPORTED` naming the file's extension.
pub fn unsupported_file_type(file_name: &str) -> ApiError {
    let kind = extension_of(file_name).unwrap_or_else(|| "unknown".to_string());
    ApiError::with(error::FILE_TYPE_NOT_SUPPORTED, &[&kind])
}

/// `UPLOAD_ERROR` whose message gives the reason after Kaltura's text.
pub fn upload_failed(reason: &str) -> ApiError {
    let mut failure = ApiError::with(error::UPLOAD_ERROR, &[]);
    failure.message = format!("{}: {reason}", failure.message);
    failure
}
