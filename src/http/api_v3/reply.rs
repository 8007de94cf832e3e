//! HTTP responses of the API: the XML or JSON envelope, files from serve actions,
//! header-only errors, and CORS preflight responses.
//!
//! Every API result, errors included, is HTTP 200, because the Node client loses
//! the error body of any other status. Every response allows any origin and, unless
//! it is a cacheable file, carries the Kaltura server's no-cache headers.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::http::response::Builder;
use hyper::{Response, StatusCode};

use super::{Reply, json, xml};
use crate::api::ErrorStage;
use crate::api::{ApiError, FileReply, Params, error};
use crate::http::response::Body;

/// The fixed past date the Kaltura server sends for uncacheable responses.
const EPOCH_EXPIRES: &str = "Sun, 19 Nov 2000 08:52:00 GMT";

const NO_CACHE: &str = "no-store, no-cache, must-revalidate, post-check=0, pre-check=0";

/// The serialization a request asked for with `format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFormat {
    /// `format=1`.
    Json,
    /// `format=2`, and the default.
    Xml,
}

impl ResponseFormat {
    /// Reads `format`: absent or null means XML. PHP compares the value loosely
    /// with the format numbers, so `2`, `"2"` and `2.0` are all XML. PHP
    /// serialization (3), JSONP (9) and anything else give
    /// `UNKNOWN_RESPONSE_FORMAT`.
    pub fn from_params(params: &Params) -> Result<Self, ApiError> {
        let Some(text) = params.text("format") else {
            return Ok(ResponseFormat::Xml);
        };
        let number = text.trim().parse::<f64>().ok();
        if number == Some(1.0) {
            Ok(ResponseFormat::Json)
        } else if number == Some(2.0) {
            Ok(ResponseFormat::Xml)
        } else {
            Err(ApiError::with(error::UNKNOWN_RESPONSE_FORMAT, &[text]).in_envelope())
        }
    }

    /// Returns the format for errors found before the whole request was read: the
    /// one the URL requests when it is valid, else XML.
    pub fn or_xml(params: &Params) -> Self {
        Self::from_params(params).unwrap_or(ResponseFormat::Xml)
    }
}

/// `ignoreNull=1` leaves null fields out of XML objects.
pub fn ignore_null(params: &Params) -> bool {
    params.text("ignoreNull") == Some("1")
}

/// Builds the envelope response for `reply`.
pub fn envelope(
    format: ResponseFormat,
    ignore_null: bool,
    reply: &Reply,
    elapsed: Duration,
) -> Response<Body> {
    let (content_type, body) = match format {
        ResponseFormat::Json => ("application/json", json::document(reply)),
        ResponseFormat::Xml => (
            "text/xml",
            xml::document(reply, ignore_null, elapsed.as_secs_f64()),
        ),
    };
    no_cache(api_headers(StatusCode::OK))
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static headers")
}

/// Builds the response of a serve action: the file's bytes.
pub fn file(file: FileReply) -> Response<Body> {
    let mut builder = api_headers(StatusCode::OK);
    builder = match HeaderValue::from_str(&file.content_type) {
        Ok(content_type) => builder.header(header::CONTENT_TYPE, content_type),
        Err(_) => builder.header(header::CONTENT_TYPE, "application/octet-stream"),
    };
    builder = if file.max_age > 0 {
        builder.header(
            header::CACHE_CONTROL,
            format!("public, max-age={}", file.max_age),
        )
    } else {
        no_cache(builder)
    };
    if let Some(name) = file.download_name.as_deref().and_then(attachment_name) {
        builder = builder.header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        );
    }
    builder
        .body(Full::new(file.bytes))
        .expect("header values are checked")
}

/// Builds the Kaltura server's response to an error that has no envelope (an error
/// inside a serve action, or an unknown `format`): HTTP 200, an empty body, and
/// the error in `X-Kaltura` and `X-Kaltura-App`.
pub fn headers_only_error(error: &ApiError) -> Response<Body> {
    // API errors name their code after "error- "; URL-style errors give the number.
    let (kaltura, name) = match error.stage {
        ErrorStage::UrlApi(number) => (format!("error-{number}"), number.to_string()),
        _ => (format!("error- {}", error.code), error.code.to_string()),
    };
    let app = format!("exiting on error {name} - {}", error.message);
    no_cache(api_headers(StatusCode::OK))
        .header("X-Kaltura", header_safe(&kaltura))
        .header("X-Kaltura-App", header_safe(&app))
        .body(Full::new(Bytes::new()))
        .expect("header values are sanitised")
}

/// Adds `X-Kaltura: error-CODE` and `X-Kaltura-App` to an envelope, as the Kaltura
/// server does for SERVICE_FORBIDDEN besides writing the error in the body.
pub fn add_error_headers(response: &mut Response<Body>, error: &ApiError) {
    let app = format!("exiting on error {} - {}", error.code, error.message);
    let values = [
        ("X-Kaltura", header_safe(&format!("error-{}", error.code))),
        ("X-Kaltura-App", header_safe(&app)),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// Builds the response to a CORS preflight. `Access-Control-Allow-Headers` lists
/// the headers that the official clients and browsers send, as the Kaltura
/// server's `index.php` does, so that a browser may POST JSON.
pub fn options() -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "POST, GET, HEAD, OPTIONS",
        )
        .header(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Origin, X-Requested-With, Content-Type, Accept",
        )
        .header(header::ACCESS_CONTROL_MAX_AGE, "86400")
        .body(Full::new(Bytes::new()))
        .expect("static headers")
}

fn api_headers(status: StatusCode) -> Builder {
    Response::builder()
        .status(status)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
}

fn no_cache(builder: Builder) -> Builder {
    builder
        .header(header::EXPIRES, EPOCH_EXPIRES)
        .header(header::CACHE_CONTROL, NO_CACHE)
        .header(header::PRAGMA, "no-cache")
}

/// Returns the base name of `file_name` without control characters, quotes and
/// backslashes, or `None` when nothing printable is left.
fn attachment_name(file_name: &str) -> Option<String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty() && HeaderValue::from_str(&cleaned).is_ok()).then_some(cleaned)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Param, Value};

    fn format_of(value: Option<&str>) -> Result<ResponseFormat, ApiError> {
        let mut params = Params::new();
        if let Some(value) = value {
            params.insert("format", Param::Scalar(value.to_string()));
        }
        ResponseFormat::from_params(&params)
    }

    fn assert_no_cache(response: &Response<Body>) {
        let headers = response.headers();
        assert_eq!(headers["Access-Control-Allow-Origin"], "*");
        assert_eq!(headers["Expires"], EPOCH_EXPIRES);
        assert_eq!(headers["Cache-Control"], NO_CACHE);
        assert_eq!(headers["Pragma"], "no-cache");
    }

    #[test]
    fn format_values() {
        assert_eq!(format_of(None), Ok(ResponseFormat::Xml));
        assert_eq!(format_of(Some("2")), Ok(ResponseFormat::Xml));
        assert_eq!(format_of(Some("1")), Ok(ResponseFormat::Json));
        assert_eq!(format_of(Some("1.0")), Ok(ResponseFormat::Json));
        for unknown in ["3", "9", "", "xml"] {
            let error = format_of(Some(unknown)).unwrap_err();
            assert_eq!(error.code, "UNKNOWN_RESPONSE_FORMAT", "{unknown:?}");
        }
    }

    #[test]
    fn envelope_headers() {
        let reply = Reply::Single(Ok(Value::Null));
        let response = envelope(ResponseFormat::Json, false, &reply, Duration::ZERO);
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["Content-Type"], "application/json");
        assert_no_cache(&response);

        let response = envelope(ResponseFormat::Xml, false, &reply, Duration::ZERO);
        assert_eq!(response.headers()["Content-Type"], "text/xml");
    }

    #[test]
    fn headers_only_error_has_space_after_dash() {
        let error = ApiError::with(error::THUMB_ASSET_ID_NOT_FOUND, &["0_é"]);
        let response = headers_only_error(&error);
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["X-Kaltura"],
            "error- THUMB_ASSET_ID_NOT_FOUND"
        );
        assert_eq!(
            response.headers()["X-Kaltura-App"],
            "exiting on error THUMB_ASSET_ID_NOT_FOUND - The Thumbnail asset id \"0_?\" not found"
        );
        assert_no_cache(&response);
    }

    #[test]
    fn cacheable_file_with_download_name() {
        let response = file(FileReply {
            bytes: Bytes::from_static(b"jpg"),
            content_type: "image/jpeg".to_string(),
            max_age: 600,
            download_name: Some("dir/thumb \"1\".jpg".to_string()),
        });
        let headers = response.headers();
        assert_eq!(headers["Content-Type"], "image/jpeg");
        assert_eq!(headers["Cache-Control"], "public, max-age=600");
        assert_eq!(
            headers["Content-Disposition"],
            "attachment; filename=\"thumb 1.jpg\""
        );
        assert_eq!(headers["Access-Control-Allow-Origin"], "*");
        assert!(headers.get("Pragma").is_none());
    }

    #[test]
    fn uncacheable_file_gets_no_cache_headers() {
        let response = file(FileReply {
            bytes: Bytes::from_static(b"png"),
            content_type: "image/png".to_string(),
            max_age: 0,
            download_name: None,
        });
        assert_no_cache(&response);
        assert!(response.headers().get("Content-Disposition").is_none());
    }

    #[test]
    fn options_lists_methods() {
        let response = options();
        let headers = response.headers();
        assert_eq!(headers["Access-Control-Allow-Origin"], "*");
        assert_eq!(
            headers["Access-Control-Allow-Methods"],
            "POST, GET, HEAD, OPTIONS"
        );
        assert_eq!(headers["Access-Control-Max-Age"], "86400");
    }
}
