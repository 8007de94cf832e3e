//! Request routing, with one tracing span and one log line per request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use tracing::Instrument;

use super::api_v3;
use super::response::{self, Body};
use super::thumbnail_url::{UrlError, parse_thumbnail_url};
use crate::metrics::StatusLabel;
use crate::service::thumbnail::{ThumbnailCall, serve_thumbnail};
use crate::service::{Services, ThumbnailError, error_chain};

/// Dispatches one request and records its status.
pub async fn handle(
    services: Arc<Services>,
    request: Request<Incoming>,
    remote: SocketAddr,
) -> Response<Body> {
    let started = Instant::now();
    let path = request.uri().path().to_string();
    let route = route_template(&path);
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        service = tracing::field::Empty,
        action = tracing::field::Empty,
        entry_id = tracing::field::Empty,
        status = tracing::field::Empty,
        error_code = tracing::field::Empty,
        cache = tracing::field::Empty,
    );

    let response = dispatch(&services, request, route, remote)
        .instrument(span.clone())
        .await;

    let status = response.status().as_u16();
    span.record("status", status);
    services
        .metrics
        .requests
        .get_or_create(&StatusLabel { status })
        .inc();
    span.in_scope(|| {
        tracing::info!(
            %remote,
            status,
            elapsed_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0,
            "request finished"
        );
    });
    response
}

/// Returns the route template for logs, never the raw URL, which may carry a KS.
fn route_template(path: &str) -> &'static str {
    match path {
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        p if p.starts_with("/p/") => "/p/{partner_id}/thumbnail/...",
        p if api_v3::is_api_path(p) => api_v3::ROUTE_TEMPLATE,
        _ => "unknown",
    }
}

async fn dispatch(
    services: &Arc<Services>,
    request: Request<Incoming>,
    route: &str,
    remote: SocketAddr,
) -> Response<Body> {
    if route == api_v3::ROUTE_TEMPLATE {
        return api(services, request, remote).await;
    }
    let is_read = request.method() == Method::GET || request.method() == Method::HEAD;
    if !is_read {
        return response::plain_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "only GET and HEAD are supported here",
        );
    }
    match route {
        "/healthz" => response::text("text/plain; charset=utf-8", "ok\n".to_string()),
        "/metrics" => response::text(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            services.metrics.encode(),
        ),
        "/p/{partner_id}/thumbnail/..." => thumbnail(services, request).await,
        _ => not_found(request.uri().path()),
    }
}

/// Serves the API v3 envelope, which takes GET, POST and CORS preflights.
async fn api(
    services: &Arc<Services>,
    request: Request<Incoming>,
    remote: SocketAddr,
) -> Response<Body> {
    let method = request.method();
    if method != Method::GET && method != Method::POST && method != Method::OPTIONS {
        return response::plain_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "the API takes GET, POST and OPTIONS",
        );
    }
    api_v3::handle(services, request, remote).await
}

fn not_found(path: &str) -> Response<Body> {
    response::plain_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!(
            "no route for {path:?}; thumbnails are served at /p/{{partner_id}}/thumbnail/entry_id/{{entry_id}}/..."
        ),
    )
}

async fn thumbnail(services: &Arc<Services>, request: Request<Incoming>) -> Response<Body> {
    let uri = request.uri().clone();
    let parsed = match parse_thumbnail_url(uri.path(), uri.query()) {
        Ok(parsed) => parsed,
        Err(UrlError::NotThumbnailPath) => return not_found(uri.path()),
        Err(UrlError::BadQuery(detail)) => {
            return error_response(&ThumbnailError::BadQuery(detail));
        }
    };
    tracing::Span::current().record("entry_id", parsed.entry_id.as_str());

    let header_text = |name: header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let if_none_match = header_text(header::IF_NONE_MATCH);
    let call = ThumbnailCall {
        request: parsed,
        referer_header: header_text(header::REFERER),
        path: uri.path().to_string(),
    };

    match serve_thumbnail(services, call).await {
        Ok(answer) => {
            tracing::Span::current()
                .record("cache", format!("{:?}", answer.cache_outcome).as_str());
            let mut response = response::thumbnail(&answer, if_none_match.as_deref());
            if request.method() == Method::HEAD {
                let length = answer.rendered.bytes.len();
                *response.body_mut() = Body::default();
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, length.into());
            }
            response
        }
        Err(error) => error_response(&error),
    }
}

/// Logs an error once, with its source chain, where it becomes a response.
fn error_response(error: &ThumbnailError) -> Response<Body> {
    tracing::Span::current().record("error_code", error.code());
    let chain = error_chain(error);
    match error.http_status() {
        500..=599 if !matches!(error, ThumbnailError::TooManyProcesses) => {
            tracing::error!(code = error.code(), error = %chain, "thumbnail failed");
        }
        503 => tracing::warn!(code = error.code(), "render limit reached"),
        _ => tracing::debug!(code = error.code(), error = %chain, "thumbnail rejected"),
    }
    response::thumbnail_error(error)
}
