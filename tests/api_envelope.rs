//! The API v3 envelope over real HTTP: routing, formats, headers, multirequest and
//! body decoding, checked with calls that fail before any action runs.

mod common;

use std::time::Duration;

use common::{Fetched, TestServer};
use reqwest::Method;
use thumbd::config::ServiceArgs;

const NO_CACHE: &str = "no-store, no-cache, must-revalidate, post-check=0, pre-check=0";
const XML_START: &str = r#"<?xml version="1.0" encoding="utf-8"?><xml><result>"#;

async fn send(
    method: Method,
    url: &str,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> Fetched {
    let client = reqwest::Client::new();
    let mut request = client.request(method, url).body(body.into());
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    let response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body reads").to_vec();
    Fetched {
        status,
        headers,
        body,
    }
}

async fn post_json(url: &str, json: &str) -> Fetched {
    send(Method::POST, url, Some("application/json"), json).await
}

fn text(fetched: &Fetched) -> String {
    String::from_utf8(fetched.body.clone()).expect("body is UTF-8")
}

fn assert_api_headers(fetched: &Fetched) {
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        fetched.header("expires"),
        Some("Sun, 19 Nov 2000 08:52:00 GMT")
    );
    assert_eq!(fetched.header("cache-control"), Some(NO_CACHE));
    assert_eq!(fetched.header("pragma"), Some("no-cache"));
}

#[tokio::test]
async fn unknown_service_in_xml_by_default() {
    let server = TestServer::start().await;
    let fetched = post_json(
        &server.url("/api_v3/service/nosuch/action/list"),
        r#"{"clientTag":"python-26-10-22","apiVersion":"23.10.0"}"#,
    )
    .await;

    assert_api_headers(&fetched);
    assert_eq!(fetched.header("content-type"), Some("text/xml"));
    let xml = text(&fetched);
    assert!(xml.starts_with(XML_START), "{xml}");
    assert!(
        xml.contains(
            "<result><error><code>SERVICE_DOES_NOT_EXISTS</code><message>Service &quot;nosuch&quot; \
             does not exists</message><objectType>KalturaAPIException</objectType><args><item>\
             <objectType>KalturaApiExceptionArg</objectType><name>SRV_NAME</name><value>nosuch</value>\
             </item></args></error></result><executionTime>"
        ),
        "{xml}"
    );
    assert!(xml.ends_with("</executionTime></xml>"), "{xml}");
    assert!(!xml.contains('\n'));
}

#[tokio::test]
async fn unknown_service_in_json_with_format_1() {
    let server = TestServer::start().await;
    let fetched = post_json(
        &server.url("/api_v3/service/NoSuch/action/list"),
        r#"{"format":1,"clientTag":"node:25-07-20"}"#,
    )
    .await;

    assert_api_headers(&fetched);
    assert_eq!(fetched.header("content-type"), Some("application/json"));
    assert_eq!(
        text(&fetched),
        r#"{"code":"SERVICE_DOES_NOT_EXISTS","message":"Service \"nosuch\" does not exists","objectType":"KalturaAPIException","args":{"SRV_NAME":"nosuch"}}"#
    );
}

#[tokio::test]
async fn query_string_and_alias_routes() {
    let server = TestServer::start().await;
    for path in [
        "/api_v3/index.php?service=nosuch&action=get&format=1",
        "/api_v3/index.php/service/nosuch/action/get?format=1",
        "/api/service/nosuch/action/get/format/1",
        "/api_v3/?service=nosuch&action=get&format=1",
    ] {
        let fetched = common::get(&server.url(path)).await;
        assert_api_headers(&fetched);
        let json = fetched.json();
        assert_eq!(json["code"], "SERVICE_DOES_NOT_EXISTS", "{path}");
        assert_eq!(json["args"]["SRV_NAME"], "nosuch", "{path}");
    }
}

#[tokio::test]
async fn path_pairs_override_the_body() {
    let server = TestServer::start().await;
    let fetched = post_json(
        &server.url("/api_v3/service/fromthepath/action/get"),
        r#"{"service":"fromthebody","format":"1"}"#,
    )
    .await;
    assert_eq!(fetched.json()["args"]["SRV_NAME"], "fromthepath");
}

#[tokio::test]
async fn missing_service_is_named() {
    let server = TestServer::start().await;
    let fetched = common::get(&server.url("/api_v3/index.php?format=1")).await;
    assert_api_headers(&fetched);
    let json = fetched.json();
    assert_eq!(json["code"], "SERVICE_NOT_SPECIFIED");
    assert_eq!(json["args"], serde_json::json!([]));
}

#[tokio::test]
async fn options_answers_cors_headers() {
    let server = TestServer::start().await;
    let fetched = send(
        Method::OPTIONS,
        &server.url("/api_v3/service/thumbasset/action/get"),
        None,
        Vec::new(),
    )
    .await;

    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        fetched.header("access-control-allow-methods"),
        Some("POST, GET, HEAD, OPTIONS")
    );
    assert_eq!(fetched.header("access-control-max-age"), Some("86400"));
    assert!(fetched.body.is_empty());
}

#[tokio::test]
async fn unknown_format_answers_headers_only() {
    let server = TestServer::start().await;
    let fetched = post_json(
        &server.url("/api_v3/service/session/action/start"),
        r#"{"format":"9"}"#,
    )
    .await;

    assert_api_headers(&fetched);
    assert!(fetched.body.is_empty());
    assert_eq!(
        fetched.header("x-kaltura"),
        Some("error- UNKNOWN_RESPONSE_FORMAT")
    );
    assert_eq!(
        fetched.header("x-kaltura-app"),
        Some(
            "exiting on error UNKNOWN_RESPONSE_FORMAT - Response format provided [9] is not recognized by server"
        )
    );
}

#[tokio::test]
async fn multirequest_returns_every_slot() {
    let server = TestServer::start().await;
    let body = r#"{"format":1,"0":{"service":"nosuch","action":"get"},
                   "1":{"action":"get"},"2":{"service":"other","action":"get"}}"#;
    let fetched = post_json(&server.url("/api_v3/service/multirequest"), body).await;

    assert_api_headers(&fetched);
    let json = fetched.json();
    let slots = json.as_array().expect("a JSON array");
    assert_eq!(slots.len(), 3);
    assert_eq!(slots[0]["args"]["SRV_NAME"], "nosuch");
    assert_eq!(slots[1]["code"], "SERVICE_NOT_SPECIFIED");
    assert_eq!(slots[2]["args"]["SRV_NAME"], "other");
}

#[tokio::test]
async fn form_multirequest_in_xml() {
    let server = TestServer::start().await;
    let fetched = send(
        Method::POST,
        &server.url("/api_v3/index.php"),
        Some("application/x-www-form-urlencoded"),
        "service=multirequest&1:service=nosuch&1:action=get&2:service=other&2:action=get",
    )
    .await;

    assert_api_headers(&fetched);
    let xml = text(&fetched);
    assert!(
        xml.starts_with(&format!("{XML_START}<item><error>")),
        "{xml}"
    );
    assert!(xml.contains("<value>nosuch</value></item></args></error></item><item><error>"));
    assert!(xml.contains("<value>other</value>"));
}

/// Builds a multipart body in the Node client's framing: a leading CRLF and no CRLF
/// after the last boundary.
fn node_multipart(boundary: &str, json: &str, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{json}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"fileData\"; filename=\"chunk\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--").as_bytes());
    body
}

#[tokio::test]
async fn multipart_upload_is_decoded_and_cleaned_up() {
    let server = TestServer::start().await;
    let boundary = "---------------------------0.566595552027586";
    let body = node_multipart(boundary, r#"{"format":1,"resume":false}"#, &[0xff; 4096]);
    let fetched = send(
        Method::POST,
        &server.url("/api_v3/service/nosuch/action/upload"),
        Some(&format!("multipart/form-data; boundary={boundary}")),
        body,
    )
    .await;

    assert_api_headers(&fetched);
    assert_eq!(fetched.json()["code"], "SERVICE_DOES_NOT_EXISTS");

    let tmp = server.services.data_root.join("tmp");
    assert!(
        tmp.is_dir(),
        "file parts are stored under the data dir's tmp/"
    );
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = std::fs::read_dir(&tmp).unwrap().count();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        left, 0,
        "temporary uploads are deleted when the request ends"
    );
}

#[tokio::test]
async fn oversized_body_is_an_api_error() {
    let mut config = ServiceArgs::default();
    config.api.max_upload_bytes = 1024;
    let server = TestServer::start_with(config).await;
    let boundary = "bf4505468ecf4f0692fb1803e227b606";
    let body = node_multipart(boundary, r#"{"format":1}"#, &[0u8; 4096]);

    let fetched = send(
        Method::POST,
        &server.url("/api_v3/service/uploadtoken/action/upload?format=1"),
        Some(&format!("multipart/form-data; boundary={boundary}")),
        body,
    )
    .await;

    assert_api_headers(&fetched);
    let json = fetched.json();
    assert_eq!(json["code"], "UPLOAD_ERROR");
    assert_eq!(
        json["message"],
        "Upload failed: the request body is larger than the maximum of 1024 bytes"
    );
}

#[tokio::test]
async fn malformed_json_body_is_an_api_error() {
    let server = TestServer::start().await;
    let fetched = post_json(
        &server.url("/api_v3/service/media/action/get?format=1"),
        r#"{"format":1,"#,
    )
    .await;
    assert_api_headers(&fetched);
    assert_eq!(fetched.json()["code"], "INVALID_REQUEST_BODY");
}

#[tokio::test]
async fn other_methods_are_rejected() {
    let server = TestServer::start().await;
    let fetched = send(
        Method::DELETE,
        &server.url("/api_v3/service/media/action/get"),
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(fetched.status, 405);
}

#[tokio::test]
async fn health_route_still_served() {
    let server = TestServer::start().await;
    let fetched = common::get(&server.url("/healthz")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(text(&fetched), "ok\n");
}
