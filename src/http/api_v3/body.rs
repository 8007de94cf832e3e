//! The request body turned into parameters: a JSON object, form fields, or a
//! multipart body, chosen by `Content-Type`. Any other body is ignored, as the
//! Kaltura server ignores it.

use std::error::Error as StdError;
use std::path::Path;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::flat;
use super::json_body::{self, JsonBodyError};
use super::multipart;
use super::uploads::{StoreUploadError, TempUploads};
use crate::api::error::{self, Template};
use crate::api::{ApiError, Params};

/// Maximum size, in bytes, of what is read into memory: a JSON or form body, or
/// one text field of a multipart body. File parts go to disk and count only against the
/// configured maximum upload size.
pub const MAX_IN_MEMORY_BYTES: u64 = 16 << 20;

/// The same code as Kaltura's `UPLOAD_ERROR`, with the limit in the message.
pub const BODY_TOO_LARGE: Template = Template {
    code: error::UPLOAD_ERROR.code,
    message: "Upload failed: the request body is larger than the maximum of @MAX_BYTES@ bytes",
};

/// A body that could not be read. Kaltura's server has no error for this because
/// it ignores a body that PHP cannot parse, so the code is thumbd's own.
pub const INVALID_REQUEST_BODY: Template = Template {
    code: "INVALID_REQUEST_BODY",
    message: "The request body could not be read: @REASON@",
};

/// Encoding of a request body, from its `Content-Type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
    Multipart {
        boundary: String,
    },
    /// No body, or one of a type that carries no parameters.
    Ignored,
}

/// Size limits for reading a body.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// The whole body, file parts included (`max_upload_bytes`).
    pub max_body_bytes: u64,
    /// A body or field held in memory.
    pub max_in_memory_bytes: u64,
}

impl BodyLimits {
    /// Limits for a configured maximum upload size.
    pub fn new(max_upload_bytes: u64) -> Self {
        Self {
            max_body_bytes: max_upload_bytes,
            max_in_memory_bytes: max_upload_bytes.min(MAX_IN_MEMORY_BYTES),
        }
    }

    /// Returns the maximum size in bytes of a body of `kind`.
    pub fn for_kind(&self, kind: &BodyKind) -> u64 {
        match kind {
            BodyKind::Multipart { .. } => self.max_body_bytes,
            _ => self.max_in_memory_bytes,
        }
    }
}

/// Parameters found in a body: fields (JSON, form or multipart text) and files.
#[derive(Debug, Default)]
pub struct BodyParams {
    pub fields: Params,
    pub files: Params,
}

/// A body that could not be turned into parameters.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than the maximum of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("multipart/form-data without a boundary")]
    NoBoundary,
    #[error("reading the request body failed")]
    Read(#[source] Box<dyn StdError + Send + Sync>),
    #[error(transparent)]
    Json(#[from] JsonBodyError),
    #[error("invalid multipart body")]
    Multipart(#[source] multer::Error),
    #[error(transparent)]
    Store(#[from] StoreUploadError),
}

impl BodyError {
    /// Converts the error into the API error that the client receives.
    pub fn to_api_error(&self) -> ApiError {
        let api_error = match self {
            BodyError::TooLarge { limit } => ApiError::with(BODY_TOO_LARGE, &[&limit.to_string()]),
            BodyError::Store(_) => ApiError::internal(self),
            _ => ApiError::with(INVALID_REQUEST_BODY, &[&error_chain(self)]),
        };
        api_error.in_envelope()
    }
}

/// Joins the error's message with the messages of its sources.
pub fn error_chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Classifies a body by its `Content-Type` header. The media type is compared
/// without its parameters and case, so `application/json; charset=utf-8` counts as
/// JSON. The Kaltura server wants the bare type, which the official clients send.
pub fn body_kind(content_type: Option<&str>) -> Result<BodyKind, BodyError> {
    let Some(content_type) = content_type else {
        return Ok(BodyKind::Ignored);
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();

    match essence.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "application/x-www-form-urlencoded" => Ok(BodyKind::Form),
        "multipart/form-data" => multer::parse_boundary(content_type)
            .map(|boundary| BodyKind::Multipart { boundary })
            .map_err(|_| BodyError::NoBoundary),
        _ => Ok(BodyKind::Ignored),
    }
}

/// Reads the body in the encoding `kind`. File parts are stored through `uploads` in
/// `tmp_dir`.
pub async fn read_body<S, E>(
    kind: &BodyKind,
    stream: S,
    limits: BodyLimits,
    tmp_dir: &Path,
    uploads: &mut TempUploads,
) -> Result<BodyParams, BodyError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: Into<Box<dyn StdError + Send + Sync>> + 'static,
{
    match kind {
        BodyKind::Ignored => Ok(BodyParams::default()),
        BodyKind::Json => {
            let bytes = collect(stream, limits.max_in_memory_bytes).await?;
            let fields = if bytes.iter().all(u8::is_ascii_whitespace) {
                Params::new()
            } else {
                json_body::params_from_json(&bytes)?
            };
            Ok(BodyParams {
                fields,
                files: Params::new(),
            })
        }
        BodyKind::Form => {
            let bytes = collect(stream, limits.max_in_memory_bytes).await?;
            // `curl -d '{...}'` labels a JSON body as a form; a body that is a JSON
            // object is read as one.
            let fields = match looks_like_json_object(&bytes) {
                true => json_body::params_from_json(&bytes)
                    .unwrap_or_else(|_| flat::params_from_urlencoded(&bytes)),
                false => flat::params_from_urlencoded(&bytes),
            };
            Ok(BodyParams {
                fields,
                files: Params::new(),
            })
        }
        BodyKind::Multipart { boundary } => {
            multipart::read_multipart(stream, boundary, limits, tmp_dir, uploads).await
        }
    }
}

/// Returns true when the body, without surrounding whitespace, starts with `{` and
/// ends with `}`.
fn looks_like_json_object(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii();
    trimmed.first() == Some(&b'{') && trimmed.last() == Some(&b'}')
}

/// Reads a whole body into memory, failing once it passes `limit` bytes.
async fn collect<S, E>(mut stream: S, limit: u64) -> Result<Vec<u8>, BodyError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| BodyError::Read(error.into()))?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, Infallible>> + Unpin {
        let owned: Vec<Result<Bytes, Infallible>> = parts
            .iter()
            .map(|part| Ok(Bytes::copy_from_slice(part)))
            .collect();
        futures::stream::iter(owned)
    }

    #[tokio::test]
    async fn form_labelled_json_object_is_read_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let mut uploads = TempUploads::default();
        let body = chunks(&[br#"{"format": 1, "secret": "s"}"#]);
        let limits = BodyLimits {
            max_in_memory_bytes: 1 << 20,
            max_body_bytes: 1 << 20,
        };

        let read = read_body(&BodyKind::Form, body, limits, dir.path(), &mut uploads)
            .await
            .unwrap();

        assert_eq!(read.fields.text("secret"), Some("s"));
        assert_eq!(read.fields.text("format"), Some("1"));
    }

    #[test]
    fn kind_follows_content_type() {
        assert_eq!(body_kind(Some("application/json")).unwrap(), BodyKind::Json);
        assert_eq!(
            body_kind(Some("Application/JSON; charset=utf-8")).unwrap(),
            BodyKind::Json
        );
        assert_eq!(
            body_kind(Some("application/x-www-form-urlencoded")).unwrap(),
            BodyKind::Form
        );
        assert_eq!(
            body_kind(Some(
                "multipart/form-data; boundary=---------------------------0.5665"
            ))
            .unwrap(),
            BodyKind::Multipart {
                boundary: "---------------------------0.5665".to_string()
            }
        );
        assert!(matches!(
            body_kind(Some("multipart/form-data")),
            Err(BodyError::NoBoundary)
        ));
        assert_eq!(body_kind(Some("text/plain")).unwrap(), BodyKind::Ignored);
        assert_eq!(body_kind(None).unwrap(), BodyKind::Ignored);
    }

    #[tokio::test]
    async fn json_body_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let mut uploads = TempUploads::new();
        let stream = chunks(&[b"{\"format\":", b"1,\"id\":\"0_a\"}"]);
        let body = read_body(
            &BodyKind::Json,
            stream,
            BodyLimits::new(1 << 20),
            dir.path(),
            &mut uploads,
        )
        .await
        .unwrap();
        assert_eq!(body.fields.text("format"), Some("1"));
        assert_eq!(body.fields.text("id"), Some("0_a"));
    }

    #[tokio::test]
    async fn form_body_nests() {
        let dir = tempfile::tempdir().unwrap();
        let mut uploads = TempUploads::new();
        let stream = chunks(&[b"service=media&entry%5Bname%5D=a+b&1:action=get"]);
        let body = read_body(
            &BodyKind::Form,
            stream,
            BodyLimits::new(1 << 20),
            dir.path(),
            &mut uploads,
        )
        .await
        .unwrap();
        assert_eq!(body.fields.text("service"), Some("media"));
        assert_eq!(
            body.fields.object("entry").and_then(|e| e.text("name")),
            Some("a b")
        );
        assert_eq!(
            body.fields.object("1").and_then(|e| e.text("action")),
            Some("get")
        );
    }

    #[tokio::test]
    async fn oversized_body_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let mut uploads = TempUploads::new();
        let stream = chunks(&[b"{\"a\":\"", &[b'x'; 64], b"\"}"]);
        let error = read_body(
            &BodyKind::Json,
            stream,
            BodyLimits::new(32),
            dir.path(),
            &mut uploads,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, BodyError::TooLarge { limit: 32 }),
            "{error:?}"
        );

        let api_error = error.to_api_error();
        assert_eq!(api_error.code, "UPLOAD_ERROR");
        assert_eq!(
            api_error.message,
            "Upload failed: the request body is larger than the maximum of 32 bytes"
        );
    }

    #[tokio::test]
    async fn malformed_json_names_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        let mut uploads = TempUploads::new();
        let error = read_body(
            &BodyKind::Json,
            chunks(&[b"{\"a\":"]),
            BodyLimits::new(1 << 20),
            dir.path(),
            &mut uploads,
        )
        .await
        .unwrap_err()
        .to_api_error();
        assert_eq!(error.code, "INVALID_REQUEST_BODY");
        assert!(
            error
                .message
                .starts_with("The request body could not be read: the body is not valid JSON"),
            "{}",
            error.message
        );
    }
}
