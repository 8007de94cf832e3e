//! Response building: thumbnail bodies with caching headers, and errors in the URL
//! API's shape (JSON body plus the Kaltura `X-Kaltura` headers).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

use crate::service::ThumbnailError;
use crate::service::thumbnail::ThumbnailResponse;

pub type Body = Full<Bytes>;

/// The fixed past date the Kaltura server sends for uncacheable responses.
const EPOCH_EXPIRES: &str = "Sun, 19 Nov 2000 08:52:00 GMT";

fn http_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

/// 200 with the body, or 304 when `if_none_match` names the same entity tag.
pub fn thumbnail(answer: &ThumbnailResponse, if_none_match: Option<&str>) -> Response<Body> {
    let rendered = &answer.rendered;
    let not_modified = if_none_match.is_some_and(|header| etag_matches(header, &rendered.etag));
    let mut builder = Response::builder()
        .status(if not_modified {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        })
        .header(header::CONTENT_TYPE, rendered.content_type)
        .header(header::ETAG, &rendered.etag)
        .header(header::LAST_MODIFIED, http_date(answer.last_modified))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");

    if answer.max_age > 0 {
        let expires = SystemTime::now() + Duration::from_secs(u64::from(answer.max_age));
        builder = builder
            .header(
                header::CACHE_CONTROL,
                format!("public, max-age={}, max-stale=0", answer.max_age),
            )
            .header(header::EXPIRES, http_date(expires));
    } else {
        builder = builder
            .header(
                header::CACHE_CONTROL,
                "no-store, no-cache, must-revalidate, post-check=0, pre-check=0",
            )
            .header(header::EXPIRES, EPOCH_EXPIRES)
            .header(header::PRAGMA, "no-cache");
    }
    if let Some(name) = answer.file_name.as_deref().and_then(attachment_name) {
        builder = builder.header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        );
    }

    let body = if not_modified {
        Bytes::new()
    } else {
        rendered.bytes.clone()
    };
    builder
        .body(Full::new(body))
        .expect("static header names and checked values")
}

/// True when an `If-None-Match` header lists `etag` or is `*`.
fn etag_matches(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

/// Returns the base name of `file_name` without control characters, quotes and
/// backslashes, or `None` when nothing printable is left.
fn attachment_name(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty() && HeaderValue::from_str(&cleaned).is_ok()).then_some(cleaned)
}

/// Builds the URL API's error response.
pub fn thumbnail_error(error: &ThumbnailError) -> Response<Body> {
    let message = error.message();
    let body = serde_json::json!({ "code": error.code(), "message": message });
    let detail = message
        .strip_prefix(error.kaltura_description())
        .unwrap_or("")
        .to_string();
    let app_header = format!(
        "exiting on error {} - {}{}",
        error.kaltura_number(),
        error.kaltura_description(),
        detail
    );

    let mut builder = Response::builder()
        .status(error.http_status())
        .header(header::CONTENT_TYPE, "application/json")
        .header("X-Kaltura-App", header_safe(&app_header))
        .header("X-Kaltura", format!("error-{}", error.kaltura_number()))
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    if error.cacheable() {
        let now = SystemTime::now();
        builder = builder
            .header(header::CACHE_CONTROL, "private, max-age=60, max-stale=0")
            .header(header::EXPIRES, http_date(now + Duration::from_secs(60)))
            .header(header::LAST_MODIFIED, http_date(now));
    } else {
        builder = builder.header(header::CACHE_CONTROL, "no-store");
    }
    if matches!(error, ThumbnailError::TooManyProcesses) {
        builder = builder.header(header::RETRY_AFTER, "1");
    }
    builder
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("header values are sanitised")
}

/// Replaces characters that cannot appear in a header value.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Builds a JSON error for routes outside the thumbnail API.
pub fn plain_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "code": code, "message": message });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static headers")
}

/// Builds a plain-text 200 response.
pub fn text(content_type: &'static str, body: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("static headers")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_name_keeps_base_name_only() {
        assert_eq!(
            attachment_name("a/b/thumb.jpg").as_deref(),
            Some("thumb.jpg")
        );
        assert_eq!(attachment_name("x\"y\r\n.jpg").as_deref(), Some("xy.jpg"));
        assert_eq!(attachment_name("\u{1}"), None);
    }

    #[test]
    fn etag_lists_match() {
        assert!(etag_matches("\"a\", \"b\"", "\"b\""));
        assert!(etag_matches("W/\"b\"", "\"b\""));
        assert!(etag_matches("*", "\"b\""));
        assert!(!etag_matches("\"c\"", "\"b\""));
    }

    #[test]
    fn bad_query_headers_match_kaltura() {
        let error = ThumbnailError::BadQuery("vid_slices must be positive".into());
        let response = thumbnail_error(&error);
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.headers()["X-Kaltura-App"],
            "exiting on error 25 - wrong query attributes, vid_slices must be positive"
        );
        assert_eq!(response.headers()["X-Kaltura"], "error-25");
    }
}
