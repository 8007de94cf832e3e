//! The API v3 envelope that the official Kaltura client libraries talk to: request
//! decoding into [`Params`], multirequest batching, and XML or JSON replies.
//!
//! A request is handled in these steps:
//! 1. URL parameters: the query string, then the path pairs on top ([`route`]).
//! 2. The body, chosen by `Content-Type`: JSON, form fields or multipart with file
//!    parts on disk ([`body`]). Body fields come first, then files, then the URL.
//! 3. `format` picks XML or JSON. An unknown one ends the request with a
//!    header-only error.
//! 4. The call, or each multirequest item, goes to [`actions::call`].
//! 5. The reply is written in the requested format ([`xml`], [`json`]), or is the
//!    file that a serve action returned ([`reply`]).
//!
//! Temporary upload files are deleted when the request ends, unless the action
//! moved them.

mod backref;
pub mod body;
pub mod call;
pub mod flat;
pub mod json;
pub mod json_body;
mod multipart;
pub mod multirequest;
mod php_number;
pub mod reply;
pub mod route;
mod uploads;
pub mod xml;

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, header};

use self::body::{BodyError, BodyKind, BodyLimits};
use self::multirequest::MultiOutcome;
use self::uploads::TempUploads;
use super::response::Body;
use crate::api::actions::{self, ClientInfo};
use crate::api::{ApiError, ErrorStage, Output, Params, Value};
use crate::service::Services;

pub use self::reply::ResponseFormat;
pub use self::route::is_api_path;

/// The route template that request logs show for every API path. The raw URL is
/// never logged because it may carry a KS.
pub const ROUTE_TEMPLATE: &str = "/api_v3/{service}/{action}";

/// Maximum length, in characters, of a service or action name recorded in the
/// request span.
const MAX_LOGGED_NAME: usize = 64;

/// Content of the envelope's `<result>` element.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// One call's result or error.
    Single(Result<Value, ApiError>),
    /// A multirequest's results and errors, in run order.
    Multi(Vec<Result<Value, ApiError>>),
}

/// Serializes `reply` as a response body in `format`, with an execution time of 0
/// in XML. Handy for checking what a client will receive.
pub fn encode(reply: &Reply, format: ResponseFormat, ignore_null: bool) -> String {
    match format {
        ResponseFormat::Json => json::document(reply),
        ResponseFormat::Xml => xml::document(reply, ignore_null, 0.0),
    }
}

/// Handles one API request: OPTIONS preflight, a single call or a multirequest.
pub async fn handle<B>(
    services: &Arc<Services>,
    request: Request<B>,
    remote: SocketAddr,
) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>> + 'static,
{
    if request.method() == Method::OPTIONS {
        return reply::options();
    }
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let url_params = route::url_params(parts.uri.path(), parts.uri.query());
    let client = client_info(&parts, remote);

    // The guard lives until the reply is built, so actions see their files.
    let mut uploads = TempUploads::new();
    let params = match read_params(services, &parts, body, &url_params, &mut uploads).await {
        Ok(params) => params,
        Err(error) => {
            tracing::debug!(error = %body::error_chain(&error), "API request body rejected");
            let api_error = error.to_api_error();
            record_error(&api_error);
            let reply = Reply::Single(Err(api_error));
            let format = ResponseFormat::or_xml(&url_params);
            return reply::envelope(format, false, &reply, started.elapsed());
        }
    };

    let response = respond(services, params, &client, started).await;
    drop(uploads);
    response
}

/// Decodes every parameter of the request. Body fields come first, then files,
/// then the query string, and path pairs override them all.
async fn read_params<B>(
    services: &Services,
    parts: &Parts,
    body: B,
    url_params: &Params,
    uploads: &mut TempUploads,
) -> Result<Params, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>> + 'static,
{
    let content_type = header_text(parts, header::CONTENT_TYPE);
    let kind = body::body_kind(content_type.as_deref())?;
    let limits = BodyLimits::new(services.config.api.max_upload_bytes);
    if kind != BodyKind::Ignored {
        check_content_length(parts, limits.for_kind(&kind))?;
    }

    let tmp_dir = services.data_root.join("tmp");
    let stream = body.into_data_stream();
    let body = body::read_body(&kind, stream, limits, &tmp_dir, uploads).await?;

    let mut params = body.fields;
    flat::merge(&mut params, body.files);
    flat::merge(&mut params, url_params.clone());
    Ok(params)
}

/// Rejects a body whose announced length is over `limit` before reading it.
fn check_content_length(parts: &Parts, limit: u64) -> Result<(), BodyError> {
    let length =
        header_text(parts, header::CONTENT_LENGTH).and_then(|text| text.parse::<u64>().ok());
    match length {
        Some(length) if length > limit => Err(BodyError::TooLarge { limit }),
        _ => Ok(()),
    }
}

/// Runs the call or multirequest that `params` describe and builds the response.
async fn respond(
    services: &Arc<Services>,
    params: Params,
    client: &ClientInfo,
    started: Instant,
) -> Response<Body> {
    let format = match ResponseFormat::from_params(&params) {
        Ok(format) => format,
        Err(error) => {
            record_error(&error);
            return reply::headers_only_error(&error);
        }
    };
    let envelope = Envelope {
        format,
        ignore_null: reply::ignore_null(&params),
        started,
    };

    if call::lower_text(&params, "service") == "multirequest" {
        return run_multirequest(services, &params, client, &envelope).await;
    }
    run_single(services, params, client, &envelope).await
}

/// The settings that the envelopes of one request are written with.
struct Envelope {
    format: ResponseFormat,
    ignore_null: bool,
    started: Instant,
}

impl Envelope {
    fn write(&self, reply: &Reply) -> Response<Body> {
        reply::envelope(self.format, self.ignore_null, reply, self.started.elapsed())
    }
}

async fn run_multirequest(
    services: &Arc<Services>,
    params: &Params,
    client: &ClientInfo,
    envelope: &Envelope,
) -> Response<Body> {
    record_names("multirequest", "");
    let items = multirequest::split_items(params);

    let outcome =
        multirequest::run(items, client, |api_call| actions::call(services, api_call)).await;

    match outcome {
        MultiOutcome::File(file) => reply::file(file),
        MultiOutcome::Results(results) => envelope.write(&Reply::Multi(results)),
    }
}

/// Runs one call. As on the Kaltura server, an error raised inside a serve action
/// or by an access-control check becomes headers on an empty body. Any other
/// error is written in the envelope.
async fn run_single(
    services: &Arc<Services>,
    params: Params,
    client: &ClientInfo,
    envelope: &Envelope,
) -> Response<Body> {
    let api_call = match call::build_call(params, client) {
        Ok(api_call) => api_call,
        Err(error) => {
            record_error(&error);
            return envelope.write(&Reply::Single(Err(error)));
        }
    };
    record_names(&api_call.service, &api_call.action);
    let is_file_action = actions::is_file_action(&api_call.service, &api_call.action);

    match actions::call(services, api_call).await {
        Ok(Output::File(file)) => reply::file(file),
        Ok(Output::Value(value)) => envelope.write(&Reply::Single(Ok(value))),
        Err(error) => {
            record_error(&error);
            let headers_only = match error.stage {
                ErrorStage::Envelope => false,
                ErrorStage::Action => is_file_action,
                ErrorStage::UrlApi(_) => true,
            };
            if headers_only {
                return reply::headers_only_error(&error);
            }
            let forbidden = error.code == crate::api::error::SERVICE_FORBIDDEN.code;
            let mut response = envelope.write(&Reply::Single(Err(error.clone())));
            if forbidden {
                reply::add_error_headers(&mut response, &error);
            }
            response
        }
    }
}

fn client_info(parts: &Parts, remote: SocketAddr) -> ClientInfo {
    ClientInfo {
        ip: remote.ip(),
        referer: header_text(parts, header::REFERER),
        host: header_text(parts, header::HOST),
    }
}

fn header_text(parts: &Parts, name: header::HeaderName) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// Adds the call's names to the request span.
fn record_names(service: &str, action: &str) {
    let span = tracing::Span::current();
    span.record("service", truncate(service, MAX_LOGGED_NAME));
    if !action.is_empty() {
        span.record("action", truncate(action, MAX_LOGGED_NAME));
    }
}

/// Adds a failed call's error code to the request span.
fn record_error(error: &ApiError) {
    tracing::Span::current().record("error_code", error.code);
    tracing::debug!(code = error.code, message = %error.message, "API call failed");
}

fn truncate(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
