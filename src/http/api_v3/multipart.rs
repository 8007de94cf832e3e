//! Multipart bodies, as both official clients send them for calls with a file: a
//! `json` part holding the parameters, plus one part per file.
//!
//! `multer` parses the framing. It skips a preamble, such as the Node client's
//! leading CRLF, and needs no CRLF after the closing boundary, which the Node
//! client leaves out. File parts are streamed to temporary files and become [`Param::File`]
//! under their part name, which may be a flat name such as `1:fileData` (item 1 of
//! a multirequest).

use std::error::Error as StdError;
use std::path::Path;

use bytes::Bytes;
use futures::Stream;
use multer::{Constraints, Multipart, SizeLimit};

use super::body::{BodyError, BodyLimits, BodyParams};
use super::flat::{self, FlatParams};
use super::json_body;
use super::uploads::{self, TempUploads};
use crate::api::{Param, UploadedFile};

/// The part that carries the parameters as one JSON object.
const JSON_PART: &str = "json";

/// Reads every part. Text fields other than `json` are taken as form fields, and
/// the `json` part's values win over them.
pub async fn read_multipart<S, E>(
    stream: S,
    boundary: &str,
    limits: BodyLimits,
    tmp_dir: &Path,
    uploads: &mut TempUploads,
) -> Result<BodyParams, BodyError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn StdError + Send + Sync>> + 'static,
{
    let constraints =
        Constraints::new().size_limit(SizeLimit::new().whole_stream(limits.max_body_bytes));
    let mut multipart = Multipart::with_constraints(stream, boundary, constraints);
    let mut text_fields = FlatParams::new();
    let mut json_fields = None;
    let mut files = FlatParams::new();

    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                if let Some(file) = store_file(&mut field, &file_name, tmp_dir, uploads).await? {
                    files.insert(&name, Param::File(file));
                }
            }
            None => {
                let bytes = read_text(&mut field, limits.max_in_memory_bytes).await?;
                if name == JSON_PART {
                    json_fields = Some(json_body::params_from_json(&bytes)?);
                } else {
                    let text = String::from_utf8_lossy(&bytes);
                    text_fields.insert(&name, Param::Scalar(text.into_owned()));
                }
            }
        }
    }

    let mut fields = text_fields.finish();
    if let Some(json_fields) = json_fields {
        flat::merge(&mut fields, json_fields);
    }
    Ok(BodyParams {
        fields,
        files: files.finish(),
    })
}

/// Writes a file part to a temporary file. A part with an empty file name is a
/// form's file input with no file chosen, and gives no parameter.
async fn store_file(
    field: &mut multer::Field<'_>,
    file_name: &str,
    tmp_dir: &Path,
    uploads: &mut TempUploads,
) -> Result<Option<UploadedFile>, BodyError> {
    let base_name = base_name(file_name);
    if base_name.is_empty() {
        while field.chunk().await.map_err(multipart_error)?.is_some() {}
        return Ok(None);
    }

    let (mut file, path) = uploads.create(tmp_dir).await?;
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        uploads::append(&mut file, &path, &chunk).await?;
        size += chunk.len() as u64;
    }
    uploads::finish(&mut file, &path).await?;
    tracing::debug!(
        size,
        part = field.name().unwrap_or_default(),
        "file part stored"
    );

    Ok(Some(UploadedFile {
        path,
        file_name: base_name.to_string(),
        size,
    }))
}

async fn read_text(field: &mut multer::Field<'_>, limit: u64) -> Result<Vec<u8>, BodyError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Returns the last element of a client-side path with `/` or `\` separators,
/// because the Python client sends the full path it opened.
fn base_name(file_name: &str) -> &str {
    file_name.rsplit(['/', '\\']).next().unwrap_or_default()
}

fn multipart_error(error: multer::Error) -> BodyError {
    match error {
        multer::Error::StreamSizeExceeded { limit } => BodyError::TooLarge { limit },
        multer::Error::StreamReadFailed(source) => BodyError::Read(source),
        other => BodyError::Multipart(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    const JPEG_BYTES: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\r\n--not-a-boundary\r\n\xff\xd9";

    /// Splits `body` into chunks of `size` bytes, so that boundaries straddle chunks.
    fn chunked(body: Vec<u8>, size: usize) -> impl Stream<Item = Result<Bytes, Infallible>> {
        let parts: Vec<Result<Bytes, Infallible>> = body
            .chunks(size)
            .map(|part| Ok(Bytes::copy_from_slice(part)))
            .collect();
        futures::stream::iter(parts)
    }

    fn python_body(boundary: &str, json: &str, part_name: &str) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{json}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"{part_name}\"; \
                 filename=\"/home/editor/uploads/sample.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(JPEG_BYTES);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        body
    }

    fn node_body(boundary: &str, json: &str) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{json}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"fileData\"; \
                 filename=\"chunk\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(JPEG_BYTES);
        body.extend_from_slice(format!("\r\n--{boundary}--").as_bytes());
        body
    }

    async fn read(
        body: Vec<u8>,
        boundary: &str,
        chunk_size: usize,
        tmp: &Path,
        uploads: &mut TempUploads,
    ) -> Result<BodyParams, BodyError> {
        read_multipart(
            chunked(body, chunk_size),
            boundary,
            BodyLimits::new(1 << 20),
            tmp,
            uploads,
        )
        .await
    }

    #[tokio::test]
    async fn python_framing_with_full_path() {
        let dir = tempfile::tempdir().unwrap();
        let boundary = "bf4505468ecf4f0692fb1803e227b606";
        let json = r#"{"format": "2", "uploadTokenId": "0_tok001", "resume": "False"}"#;
        for chunk_size in [7, 64, 4096] {
            let mut uploads = TempUploads::new();
            let body = python_body(boundary, json, "fileData");
            let params = read(body, boundary, chunk_size, dir.path(), &mut uploads)
                .await
                .unwrap();
            assert_eq!(params.fields.text("uploadTokenId"), Some("0_tok001"));
            assert_eq!(params.fields.text("resume"), Some("False"));

            let file = params.files.file("fileData").expect("fileData is a file");
            assert_eq!(file.file_name, "sample.jpg");
            assert_eq!(file.size, JPEG_BYTES.len() as u64);
            assert_eq!(std::fs::read(&file.path).unwrap(), JPEG_BYTES);
            assert!(file.path.starts_with(dir.path()));
        }
    }

    #[tokio::test]
    async fn node_framing_with_chunk_name() {
        let dir = tempfile::tempdir().unwrap();
        let boundary = "---------------------------0.566595552027586";
        let json = r#"{"uploadTokenId":"0_tok001","resume":false,"resumeAt":-1,"format":1}"#;
        for chunk_size in [1, 5, 4096] {
            let mut uploads = TempUploads::new();
            let body = node_body(boundary, json);
            let params = read(body, boundary, chunk_size, dir.path(), &mut uploads)
                .await
                .unwrap();
            assert_eq!(params.fields.text("resume"), Some("0"));
            assert_eq!(params.fields.text("resumeAt"), Some("-1"));
            assert_eq!(params.fields.text("format"), Some("1"));

            let file = params.files.file("fileData").expect("fileData is a file");
            assert_eq!(file.file_name, "chunk");
            assert_eq!(std::fs::read(&file.path).unwrap(), JPEG_BYTES);
        }
    }

    #[tokio::test]
    async fn multirequest_part_name_goes_to_its_item() {
        let dir = tempfile::tempdir().unwrap();
        let boundary = "dccc3136aae04e4ba74eec6313a559e7";
        let json = r#"{"format": "2", "1": {"action": "addFromImage", "service": "thumbasset"}}"#;
        let mut uploads = TempUploads::new();
        let body = python_body(boundary, json, "1:fileData");
        let params = read(body, boundary, 4096, dir.path(), &mut uploads)
            .await
            .unwrap();

        let mut fields = params.fields;
        flat::merge(&mut fields, params.files);
        let item = fields.object("1").expect("item 1");
        assert_eq!(item.text("action"), Some("addFromImage"));
        assert_eq!(
            item.file("fileData").map(|f| f.file_name.as_str()),
            Some("sample.jpg")
        );
    }

    #[tokio::test]
    async fn windows_path_and_plain_fields() {
        let dir = tempfile::tempdir().unwrap();
        let boundary = "b";
        let body = "--b\r\nContent-Disposition: form-data; name=\"service\"\r\n\r\nmedia\r\n\
                    --b\r\nContent-Disposition: form-data; name=\"entry[name]\"\r\n\r\nclip\r\n\
                    --b\r\nContent-Disposition: form-data; name=\"fileData\"; \
                    filename=\"C:\\Users\\me\\a.png\"\r\n\r\npng\r\n--b--\r\n";
        let mut uploads = TempUploads::new();
        let params = read(
            body.as_bytes().to_vec(),
            boundary,
            4096,
            dir.path(),
            &mut uploads,
        )
        .await
        .unwrap();
        assert_eq!(params.fields.text("service"), Some("media"));
        assert_eq!(
            params.fields.object("entry").and_then(|e| e.text("name")),
            Some("clip")
        );
        let file = params.files.file("fileData").expect("fileData is a file");
        assert_eq!(file.file_name, "a.png");
    }

    #[tokio::test]
    async fn oversized_multipart_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let boundary = "bf4505468ecf4f0692fb1803e227b606";
        let body = python_body(boundary, "{}", "fileData");
        let limits = BodyLimits::new(64);
        let mut uploads = TempUploads::new();
        let error = read_multipart(
            chunked(body, 16),
            boundary,
            limits,
            dir.path(),
            &mut uploads,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, BodyError::TooLarge { limit: 64 }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn truncated_multipart_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let boundary = "bf4505468ecf4f0692fb1803e227b606";
        let mut body = python_body(boundary, "{}", "fileData");
        body.truncate(body.len() - 20);
        let mut uploads = TempUploads::new();
        let error = read(body, boundary, 4096, dir.path(), &mut uploads)
            .await
            .unwrap_err();
        assert!(matches!(error, BodyError::Multipart(_)), "{error:?}");
    }

    #[test]
    fn base_name_handles_both_separators() {
        assert_eq!(base_name("/home/editor/uploads/sample.jpg"), "sample.jpg");
        assert_eq!(base_name("C:\\Users\\me\\a.png"), "a.png");
        assert_eq!(base_name("chunk"), "chunk");
        assert_eq!(base_name("dir/"), "");
    }
}
