//! API v3 helpers shared by the integration tests that drive thumbd as a Kaltura
//! client would: a partner with known secrets, `format=1` JSON calls with an admin
//! KS, multipart uploads, and solid-colour test pictures made with the ffmpeg tool.
//!
//! A test crate that uses this module also declares `mod common;`.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thumbd::store::{MetadataStore, Partner, PartnerSettings};

use crate::common::{Fetched, PARTNER, TestServer, ffmpeg, mean_colour};

pub const ADMIN_SECRET: &str = "api-test-admin-secret";
pub const USER_SECRET: &str = "api-test-user-secret";

/// Kaltura media types (`KalturaMediaType`).
pub const MEDIA_VIDEO: i64 = 1;
pub const MEDIA_IMAGE: i64 = 2;
pub const MEDIA_AUDIO: i64 = 5;

/// Thumbnail asset statuses (`KalturaThumbAssetStatus`).
pub const ASSET_CAPTURING: i64 = 1;
pub const ASSET_READY: i64 = 2;

const MULTIPART_BOUNDARY: &str = "thumbd-api-test-boundary-7f3a9c";

/// A client of one server's API v3, signed in with an admin KS of the test partner.
pub struct Api {
    base: String,
    pub ks: String,
    client: reqwest::Client,
}

/// Starts a server whose test partner has known secrets, and signs in as admin.
pub async fn start() -> (TestServer, Api) {
    start_with(thumbd::config::ServiceArgs::default()).await
}

/// Starts a server with `config`, a test partner with known secrets, and an admin
/// session.
pub async fn start_with(config: thumbd::config::ServiceArgs) -> (TestServer, Api) {
    let server = TestServer::start_with(config).await;
    server
        .data
        .store
        .upsert_partner(&Partner {
            id: PARTNER,
            admin_secret: ADMIN_SECRET.to_string(),
            secret: USER_SECRET.to_string(),
            status: 1,
            settings: PartnerSettings::default(),
        })
        .expect("partner is stored");
    let mut api = Api {
        base: server.url(""),
        ks: String::new(),
        client: reqwest::Client::new(),
    };
    api.ks = api.start_session(ADMIN_SECRET, 2, 86_400).await;
    (server, api)
}

impl Api {
    fn action_url(&self, service: &str, action: &str) -> String {
        format!("{}/api_v3/service/{service}/action/{action}", self.base)
    }

    /// Adds `format=1` and the admin KS to `params` unless they name their own.
    fn with_envelope(&self, mut params: Value) -> Value {
        let object = params
            .as_object_mut()
            .expect("API parameters are a JSON object");
        object.entry("format").or_insert(json!(1));
        object.entry("ks").or_insert(json!(self.ks));
        params
    }

    /// Calls `service.action` with a JSON body and returns the decoded reply,
    /// whether a result or a `KalturaAPIException`.
    pub async fn call(&self, service: &str, action: &str, params: Value) -> Value {
        let response = self
            .client
            .post(self.action_url(service, action))
            .header("Content-Type", "application/json")
            .body(self.with_envelope(params).to_string())
            .send()
            .await
            .expect("request reaches the server");
        read_json(service, action, response).await
    }

    /// Calls `service.action` and panics with the error when the call failed.
    pub async fn call_ok(&self, service: &str, action: &str, params: Value) -> Value {
        let reply = self.call(service, action, params).await;
        assert!(!is_api_error(&reply), "{service}.{action} failed: {reply}");
        reply
    }

    /// Calls `service.action` and returns its error, panicking when it succeeded.
    pub async fn call_error(&self, service: &str, action: &str, params: Value) -> Value {
        let reply = self.call(service, action, params).await;
        assert!(
            is_api_error(&reply),
            "{service}.{action} was expected to fail but returned {reply}"
        );
        reply
    }

    /// Calls `service.action` with a multipart body: the parameters in a `json`
    /// part and `file` in a `fileData` part, as the official clients send them.
    /// Returns the reply, API errors included.
    pub async fn post_file(
        &self,
        service: &str,
        action: &str,
        params: Value,
        file: &Path,
    ) -> Value {
        let json = self.with_envelope(params).to_string();
        let file_name = file.file_name().unwrap().to_string_lossy();
        let contents = std::fs::read(file).expect("upload file is readable");
        let mut body = format!(
            "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n\
             {json}\r\n--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; \
             name=\"fileData\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&contents);
        body.extend_from_slice(format!("\r\n--{MULTIPART_BOUNDARY}--\r\n").as_bytes());

        let response = self
            .client
            .post(self.action_url(service, action))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .expect("request reaches the server");
        read_json(service, action, response).await
    }

    /// Like [`Api::post_file`], and fails the test when the reply is an API error.
    pub async fn call_with_file(
        &self,
        service: &str,
        action: &str,
        params: Value,
        file: &Path,
    ) -> Value {
        let reply = self.post_file(service, action, params, file).await;
        assert!(
            !is_api_error(&reply),
            "{service}.{action} with file {} failed: {reply}",
            file.display()
        );
        reply
    }

    /// `session.start` for the test partner; `session_type` 0 is USER, 2 is ADMIN.
    pub async fn start_session(&self, secret: &str, session_type: i64, expiry: i64) -> String {
        let reply = self
            .call_ok(
                "session",
                "start",
                json!({
                    "ks": null,
                    "secret": secret,
                    "type": session_type,
                    "partnerId": PARTNER,
                    "expiry": expiry,
                }),
            )
            .await;
        reply
            .as_str()
            .unwrap_or_else(|| panic!("session.start returned {reply}, not a KS"))
            .to_string()
    }

    /// Starts a USER session of the test partner, valid for an hour.
    pub async fn user_ks(&self) -> String {
        self.start_session(USER_SECRET, 0, 3600).await
    }

    /// Creates an upload token and uploads `file` into it in one chunk.
    pub async fn upload(&self, file: &Path) -> String {
        let token = self
            .call_ok("uploadToken", "add", json!({"uploadToken": {}}))
            .await;
        let token_id = text_field(&token, "id");
        let uploaded = self
            .call_with_file(
                "uploadToken",
                "upload",
                json!({"uploadTokenId": token_id, "resume": false, "finalChunk": true}),
                file,
            )
            .await;
        assert_eq!(uploaded["status"], 2, "token is FULL_UPLOAD: {uploaded}");
        token_id
    }

    /// Adds an entry with `media.add` (fields of `extra` included), uploads `file`
    /// and attaches it with `media.addContent`. Returns the entry object.
    pub async fn add_entry(&self, media_type: i64, file: &Path, extra: Value) -> Value {
        let mut entry = json!({
            "objectType": "KalturaMediaEntry",
            "mediaType": media_type,
            "name": file.file_name().unwrap().to_string_lossy(),
        });
        for (name, value) in extra.as_object().expect("extra entry fields are an object") {
            entry[name] = value.clone();
        }
        let added = self.call_ok("media", "add", json!({"entry": entry})).await;
        let entry_id = text_field(&added, "id");
        let token_id = self.upload(file).await;
        let resource = json!({"objectType": "KalturaUploadedFileTokenResource", "token": token_id});
        let entry = self
            .call_ok(
                "media",
                "addContent",
                json!({"entryId": entry_id, "resource": resource}),
            )
            .await;
        assert_eq!(
            entry["status"], "2",
            "entry is READY after addContent: {entry}"
        );
        entry
    }

    /// `thumbAsset.addFromImage`: a READY asset of `entry_id` from `file`.
    pub async fn add_thumb_from_image(&self, entry_id: &str, file: &Path) -> Value {
        let asset = self
            .call_with_file(
                "thumbAsset",
                "addFromImage",
                json!({"entryId": entry_id}),
                file,
            )
            .await;
        assert_eq!(asset["status"], ASSET_READY, "{asset}");
        asset
    }

    pub async fn set_default_thumb(&self, asset_id: &str) {
        self.call_ok(
            "thumbAsset",
            "setAsDefault",
            json!({"thumbAssetId": asset_id}),
        )
        .await;
    }

    /// Polls `thumbAsset.list` for the entry until `ready` picks an asset; panics
    /// with the last listing after `timeout`.
    pub async fn wait_for_asset(
        &self,
        entry_id: &str,
        timeout: Duration,
        ready: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let listing = self
                .call_ok(
                    "thumbAsset",
                    "list",
                    json!({"filter": {"objectType": "KalturaThumbAssetFilter", "entryIdEqual": entry_id}}),
                )
                .await;
            let objects = listing["objects"].as_array().cloned().unwrap_or_default();
            if let Some(asset) = objects.iter().find(|asset| ready(asset)) {
                return asset.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for a thumbnail asset of entry {entry_id}; \
                 last thumbAsset.list: {listing}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

async fn read_json(service: &str, action: &str, response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body reads");
    assert_eq!(
        status,
        200,
        "{service}.{action} returned HTTP {status}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap_or_else(|error| {
        panic!(
            "{service}.{action} reply is not JSON ({error}): {}",
            String::from_utf8_lossy(&body)
        )
    })
}

pub fn is_api_error(reply: &Value) -> bool {
    reply["objectType"] == "KalturaAPIException"
}

/// Reads a string field of an API object (ids are strings for entries and assets).
pub fn text_field(object: &Value, name: &str) -> String {
    match &object[name] {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        other => panic!("field {name} is {other} in {object}"),
    }
}

/// Reads an integer field of an API object, whether sent as a number or as text.
pub fn int_field(object: &Value, name: &str) -> i64 {
    match &object[name] {
        Value::Number(number) => number.as_i64().expect("an integer"),
        Value::String(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("field {name} is {text:?} in {object}")),
        other => panic!("field {name} is {other} in {object}"),
    }
}

/// Writes a JPEG of one flat colour (an ffmpeg colour name or `0xRRGGBB`).
pub fn solid_jpeg(path: &Path, colour: &str, width: u32, height: u32) {
    let source = format!("color=c={colour}:s={width}x{height}:d=1");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &source,
        "-frames:v",
        "1",
        "-q:v",
        "2",
        path.to_str().unwrap(),
    ]);
}

/// Writes a short AAC audio file with no video stream.
pub fn tone_audio(path: &Path, seconds: u32) {
    let source = format!("sine=frequency=440:duration={seconds}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &source,
        "-c:a",
        "aac",
        path.to_str().unwrap(),
    ]);
}

/// Computes the mean colour of a 9x9 square at the centre of the picture.
pub fn centre_colour(image: &image::RgbaImage) -> [f64; 3] {
    let (width, height) = image.dimensions();
    assert!(width >= 9, "picture is {width}x{height}");
    assert!(height >= 9, "picture is {width}x{height}");
    mean_colour(image, width / 2 - 4, height / 2 - 4, 9, 9)
}

/// Asserts a 200 JPEG response and decodes it.
pub fn jpeg(response: &Fetched, case: &str) -> image::RgbaImage {
    assert_eq!(
        response.status,
        200,
        "{case}: body {}",
        String::from_utf8_lossy(&response.body[..response.body.len().min(300)])
    );
    assert_eq!(
        response.header("content-type"),
        Some("image/jpeg"),
        "{case}"
    );
    response.image()
}

/// Rewrites a KS into the URL-safe base64 alphabet (`-` and `_`), which the
/// server maps back, so that it can sit in a URL path segment.
pub fn url_safe(ks: &str) -> String {
    ks.replace('+', "-").replace('/', "_")
}
