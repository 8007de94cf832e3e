//! API v3 errors over real HTTP: for each error a user can trigger, the code, the
//! message text and the arguments, as the Kaltura server reports them. Errors are
//! read in JSON (`format=1`), except in the test of the XML form.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Fetched, PARTNER, TestServer, counter_video, fixture};
use serde_json::{Value, json};
use thumbd::auth::ks::{KsVersion, NewKs, SessionType, create_ks, create_ks_v1};
use thumbd::store::{MetadataStore, Partner, PartnerSettings};

/// Partner A is the harness partner, so `TestServer::ingest` files entries under it.
const PARTNER_A: i64 = PARTNER;
const ADMIN_SECRET_A: &str = "admin-secret-of-partner-a";
const USER_SECRET_A: &str = "user-secret-of-partner-a";
const PARTNER_B: i64 = 654;
const ADMIN_SECRET_B: &str = "admin-secret-of-partner-b";
const USER_SECRET_B: &str = "user-secret-of-partner-b";
/// A partner whose `session.start` issues v2 (encrypted) sessions.
const PARTNER_V2: i64 = 987;
const ADMIN_SECRET_V2: &str = "admin-secret-of-the-v2-partner";
/// A partner with status 2 (blocked).
const PARTNER_BLOCKED: i64 = 555;

const SESSION_USER: i64 = 0;
const SESSION_ADMIN: i64 = 2;
const MEDIA_TYPE_VIDEO: i64 = 1;
const MEDIA_TYPE_IMAGE: i64 = 2;
/// Id of the system default template "Default Thumbnail", owned by partner 0.
const DEFAULT_THUMB_PARAMS: i64 = 19;
const MULTIPART_BOUNDARY: &str = "api-errors-boundary-7d1f3a";

/// A server with partners A and B, and a client that posts API v3 calls to it.
struct Api {
    server: TestServer,
    client: reqwest::Client,
}

impl Api {
    async fn start() -> Self {
        let server = TestServer::start().await;
        let api = Self {
            server,
            client: reqwest::Client::new(),
        };
        api.add_partner(&active_partner(PARTNER_A, ADMIN_SECRET_A, USER_SECRET_A));
        api.add_partner(&active_partner(PARTNER_B, ADMIN_SECRET_B, USER_SECRET_B));
        api
    }

    fn add_partner(&self, partner: &Partner) {
        self.server
            .data
            .store
            .upsert_partner(partner)
            .expect("partner is stored");
    }

    /// Posts one call with its parameters as a JSON body, with `format=1` added.
    async fn call(&self, service: &str, action: &str, mut params: Value) -> Fetched {
        params["format"] = json!(1);
        self.post(service, action, "application/json", params.to_string())
            .await
    }

    /// Posts one call without `format`, so the server responds in XML.
    async fn call_xml(&self, service: &str, action: &str, params: Value) -> Fetched {
        self.post(service, action, "application/json", params.to_string())
            .await
    }

    /// Posts one call as multipart: a `json` part with the parameters (and
    /// `format=1`) and a `fileData` part with `file`.
    async fn call_with_file(
        &self,
        service: &str,
        action: &str,
        mut params: Value,
        file_name: &str,
        file: &[u8],
    ) -> Fetched {
        params["format"] = json!(1);
        let mut body = format!(
            "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{params}\r\n\
             --{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"fileData\"; \
             filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{MULTIPART_BOUNDARY}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}");
        self.post(service, action, &content_type, body).await
    }

    async fn post(
        &self,
        service: &str,
        action: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Fetched {
        let url = self
            .server
            .url(&format!("/api_v3/service/{service}/action/{action}"));
        let response = self
            .client
            .post(url)
            .header("Content-Type", content_type)
            .body(body.into())
            .send()
            .await
            .expect("request reaches the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body reads").to_vec();
        Fetched {
            status,
            headers,
            body,
        }
    }

    /// Runs a call that must succeed and returns its JSON result.
    async fn ok(&self, service: &str, action: &str, params: Value) -> Value {
        let fetched = self.call(service, action, params).await;
        assert_eq!(fetched.status, 200, "{service}.{action}: HTTP status");
        let result = fetched.json();
        assert_ne!(
            result["objectType"], "KalturaAPIException",
            "{service}.{action} failed: {result}"
        );
        result
    }

    async fn start_session(&self, partner_id: i64, secret: &str, session_type: i64) -> Fetched {
        let params = json!({
            "secret": secret,
            "partnerId": partner_id,
            "type": session_type,
        });
        self.call("session", "start", params).await
    }

    /// Starts a session that must succeed and returns its KS.
    async fn session(&self, partner_id: i64, secret: &str, session_type: i64) -> String {
        let fetched = self.start_session(partner_id, secret, session_type).await;
        let result = fetched.json();
        result
            .as_str()
            .unwrap_or_else(|| panic!("session.start returned no KS: {result}"))
            .to_string()
    }

    async fn admin_ks_a(&self) -> String {
        self.session(PARTNER_A, ADMIN_SECRET_A, SESSION_ADMIN).await
    }

    /// Adds an entry without content and returns its id.
    async fn empty_entry(&self, ks: &str, media_type: i64) -> String {
        let params = json!({
            "ks": ks,
            "entry": {"objectType": "KalturaMediaEntry", "name": "empty", "mediaType": media_type},
        });
        let entry = self.ok("media", "add", params).await;
        id_of(&entry)
    }

    /// Ingests the hopper photo for partner A as a ready image entry.
    fn image_entry(&self) -> String {
        self.server.ingest(&fixture("pillow_hopper.jpg")).id
    }

    /// Adds a thumbnail asset without content (status QUEUED) and returns its id.
    async fn queued_asset(&self, ks: &str, entry_id: &str, thumb_asset: Value) -> String {
        let params = json!({"ks": ks, "entryId": entry_id, "thumbAsset": thumb_asset});
        let asset = self.ok("thumbAsset", "add", params).await;
        id_of(&asset)
    }

    /// Adds a READY thumbnail asset from the hopper photo and returns its id.
    async fn ready_asset(&self, ks: &str, entry_id: &str) -> String {
        let photo = std::fs::read(fixture("pillow_hopper.jpg")).expect("fixture reads");
        let params = json!({"ks": ks, "entryId": entry_id});
        let fetched = self
            .call_with_file("thumbAsset", "addFromImage", params, "hopper.jpg", &photo)
            .await;
        let asset = fetched.json();
        assert_eq!(
            asset["status"], 2,
            "addFromImage gives a READY asset: {asset}"
        );
        id_of(&asset)
    }

    /// Adds an upload token, uploads `file` to it in one chunk and returns its id.
    async fn uploaded_token(&self, ks: &str, file_name: &str, file: &[u8]) -> String {
        let token = self
            .ok(
                "uploadToken",
                "add",
                json!({"ks": ks, "uploadToken": {"objectType": "KalturaUploadToken"}}),
            )
            .await;
        let token_id = id_of(&token);
        let params = json!({"ks": ks, "uploadTokenId": token_id});
        let fetched = self
            .call_with_file("uploadToken", "upload", params, file_name, file)
            .await;
        let uploaded = fetched.json();
        assert_eq!(uploaded["status"], 2, "upload fills the token: {uploaded}");
        token_id
    }
}

/// Builds an active partner with default settings (KS v1).
fn active_partner(id: i64, admin_secret: &str, secret: &str) -> Partner {
    Partner {
        id,
        admin_secret: admin_secret.to_string(),
        secret: secret.to_string(),
        status: 1,
        settings: PartnerSettings::default(),
    }
}

fn id_of(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("object has no string id: {object}"))
        .to_string()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock is after 1970")
        .as_secs() as i64
}

/// Asserts that `fetched` is a `KalturaAPIException` in JSON with exactly this code,
/// message and `args` (`[]` for an error without arguments).
#[track_caller]
fn assert_api_error(case: &str, fetched: &Fetched, code: &str, message: &str, args: Value) {
    assert_eq!(fetched.status, 200, "{case}: API errors are HTTP 200");
    let error = fetched.json();
    assert_eq!(
        error["objectType"], "KalturaAPIException",
        "{case}: {error}"
    );
    assert_eq!(error["code"], code, "{case}: code in {error}");
    assert_eq!(error["message"], message, "{case}: message in {error}");
    assert_eq!(error["args"], args, "{case}: args in {error}");
}

/// Asserts the `INVALID_KS` error that Kaltura reports: `ks_id` (the KS text, or
/// the name of the failed check) with the code and description fixed at -1 and
/// INVALID_STR.
#[track_caller]
fn assert_invalid_ks(case: &str, fetched: &Fetched, ks_id: &str) {
    assert_api_error(
        case,
        fetched,
        "INVALID_KS",
        &format!("Invalid KS \"{ks_id}\", Error \"-1,INVALID_STR\""),
        json!({"KSID": ks_id, "KS_ERROR_CODE": "-1", "KS_ERROR_DESCRIPTION": "INVALID_STR"}),
    );
}

/// Asserts the response of a serve action to an error raised inside the action: HTTP
/// 200, an empty body, and the error in `X-Kaltura` and `X-Kaltura-App`.
#[track_caller]
fn assert_header_error(case: &str, fetched: &Fetched, code: &str, message: &str) {
    assert_eq!(fetched.status, 200, "{case}: HTTP status");
    assert!(
        fetched.body.is_empty(),
        "{case}: body should be empty, is {}",
        String::from_utf8_lossy(&fetched.body)
    );
    let expected_error = format!("error- {code}");
    assert_eq!(
        fetched.header("x-kaltura"),
        Some(expected_error.as_str()),
        "{case}: X-Kaltura"
    );
    let expected_app = format!("exiting on error {code} - {message}");
    assert_eq!(
        fetched.header("x-kaltura-app"),
        Some(expected_app.as_str()),
        "{case}: X-Kaltura-App"
    );
}

/// A call and the error it must produce.
struct ErrorCase {
    name: &'static str,
    service: &'static str,
    action: &'static str,
    params: Value,
    code: &'static str,
    message: String,
    args: Value,
}

async fn check_cases(api: &Api, cases: Vec<ErrorCase>) {
    for case in cases {
        let fetched = api.call(case.service, case.action, case.params).await;
        assert_api_error(case.name, &fetched, case.code, &case.message, case.args);
    }
}

// Envelope: routing, parameters, sessions and permissions checked before the action.

#[tokio::test]
async fn envelope_errors_in_json() {
    let api = Api::start().await;
    let admin_ks = api.admin_ks_a().await;
    let user_ks = api.session(PARTNER_A, USER_SECRET_A, SESSION_USER).await;

    let cases = vec![
        ErrorCase {
            name: "unknown service",
            service: "noSuchService",
            action: "get",
            params: json!({"ks": admin_ks}),
            code: "SERVICE_DOES_NOT_EXISTS",
            message: "Service \"nosuchservice\" does not exists".into(),
            args: json!({"SRV_NAME": "nosuchservice"}),
        },
        ErrorCase {
            name: "unknown action",
            service: "thumbAsset",
            action: "noSuchAction",
            params: json!({"ks": admin_ks}),
            code: "ACTION_DOES_NOT_EXISTS",
            message: "Action \"nosuchaction\" does not exists for service \"thumbasset\"".into(),
            args: json!({"ACTION_NAME": "nosuchaction", "SERVICE_NAME": "thumbasset"}),
        },
        ErrorCase {
            name: "missing mandatory parameter",
            service: "thumbAsset",
            action: "get",
            params: json!({"ks": admin_ks}),
            code: "MISSING_MANDATORY_PARAMETER",
            message: "Missing parameter \"thumbAssetId\"".into(),
            args: json!({"PARAM_NAME": "thumbAssetId"}),
        },
        ErrorCase {
            name: "call without a KS",
            service: "thumbAsset",
            action: "get",
            params: json!({"thumbAssetId": "0_abcdefgh"}),
            code: "MISSING_KS",
            message: "Missing KS, session not established".into(),
            args: json!([]),
        },
        ErrorCase {
            name: "user session adding a template",
            service: "thumbParams",
            action: "add",
            params: json!({
                "ks": user_ks,
                "thumbParams": {"objectType": "KalturaThumbParams", "name": "small"},
            }),
            code: "SERVICE_FORBIDDEN",
            message: "The access to service [thumbparams->add] is forbidden".into(),
            args: json!({"SERVICE": "thumbparams->add"}),
        },
        ErrorCase {
            name: "cropType outside the enumeration",
            service: "thumbParams",
            action: "add",
            params: json!({
                "ks": admin_ks,
                "thumbParams": {"objectType": "KalturaThumbParams", "name": "crop", "cropType": 9},
            }),
            code: "INVALID_ENUM_VALUE",
            message: "Invalid enumeration value \"9\" for parameter \"cropType\", expecting \
                      enumeration type \"KalturaThumbCropType\""
                .into(),
            args: json!({
                "ENUM_VAL": "9",
                "PARAM_NAME": "cropType",
                "ENUM_TYPE": "KalturaThumbCropType",
            }),
        },
    ];
    check_cases(&api, cases).await;
}

/// Checks the headers that the Kaltura server sends with SERVICE_FORBIDDEN beside
/// the envelope (`KalturaBaseService::initService` in github.com/kaltura/server).
#[tokio::test]
async fn service_forbidden_also_in_headers() {
    let api = Api::start().await;
    let user_ks = api.session(PARTNER_A, USER_SECRET_A, SESSION_USER).await;
    let params = json!({
        "ks": user_ks,
        "thumbParams": {"objectType": "KalturaThumbParams", "name": "small"},
    });

    let fetched = api.call("thumbParams", "add", params).await;

    assert_eq!(fetched.json()["code"], "SERVICE_FORBIDDEN");
    assert_eq!(fetched.header("x-kaltura"), Some("error-SERVICE_FORBIDDEN"));
    assert_eq!(
        fetched.header("x-kaltura-app"),
        Some(
            "exiting on error SERVICE_FORBIDDEN - The access to service [thumbparams->add] is forbidden"
        )
    );
}

#[tokio::test]
async fn error_in_xml_by_default() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;

    let fetched = api
        .call_xml(
            "thumbAsset",
            "get",
            json!({"ks": ks, "thumbAssetId": "0_nosuch01"}),
        )
        .await;

    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.header("content-type"), Some("text/xml"));
    let xml = String::from_utf8(fetched.body.clone()).expect("body is UTF-8");
    let expected = "<result><error><code>THUMB_ASSET_ID_NOT_FOUND</code>\
                    <message>The Thumbnail asset id &quot;0_nosuch01&quot; not found</message>\
                    <objectType>KalturaAPIException</objectType><args><item>\
                    <objectType>KalturaApiExceptionArg</objectType><name>ID</name>\
                    <value>0_nosuch01</value></item></args></error></result>";
    assert!(xml.contains(expected), "{xml}");
}

// Sessions.

#[tokio::test]
async fn garbage_ks_is_invalid_string() {
    let api = Api::start().await;
    let garbage = "this-is-not-a-ks";

    let fetched = api
        .call("thumbParams", "list", json!({"ks": garbage}))
        .await;

    assert_invalid_ks("garbage KS", &fetched, garbage);
}

#[tokio::test]
async fn expired_ks_is_rejected() {
    let api = Api::start().await;
    let expired = create_ks_v1(
        PARTNER_A,
        ADMIN_SECRET_A,
        SessionType::Admin,
        "",
        "",
        unix_now(),
        -60,
    );
    let fetched = api
        .call("thumbParams", "list", json!({"ks": expired}))
        .await;
    assert_invalid_ks("KS that expired a minute ago", &fetched, "EXPIRED");

    let started = api
        .call(
            "session",
            "start",
            json!({
                "secret": ADMIN_SECRET_A,
                "partnerId": PARTNER_A,
                "type": SESSION_ADMIN,
                "expiry": 0,
            }),
        )
        .await
        .json();
    let zero_lifetime = started.as_str().expect("session.start returns a KS");
    let fetched = api
        .call("thumbParams", "list", json!({"ks": zero_lifetime}))
        .await;
    assert_invalid_ks("KS started with expiry 0", &fetched, "EXPIRED");
}

#[tokio::test]
async fn tampered_v1_ks_is_rejected() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let decoded =
        String::from_utf8(STANDARD.decode(&ks).expect("v1 KS is base64")).expect("v1 KS is text");
    let (signature, fields) = decoded.split_once('|').expect("signature|fields");
    let mut parts: Vec<String> = fields.split(';').map(str::to_string).collect();
    // Field 2 is the expiry: moving it by a second keeps it in the future.
    let expiry: i64 = parts[2].parse().expect("numeric expiry");
    parts[2] = (expiry - 1).to_string();
    let tampered = STANDARD.encode(format!("{signature}|{}", parts.join(";")));

    let fetched = api
        .call("thumbParams", "list", json!({"ks": tampered}))
        .await;

    assert_invalid_ks("v1 KS with a changed expiry", &fetched, &tampered);
}

#[tokio::test]
async fn ks_of_other_partner_is_rejected() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;

    let fetched = api
        .call(
            "thumbParams",
            "list",
            json!({"ks": ks, "partnerId": PARTNER_B}),
        )
        .await;
    assert_invalid_ks("KS of A with partnerId of B", &fetched, "INVALID_PARTNER");
}

#[tokio::test]
async fn ks_with_wrong_secret_is_rejected() {
    let api = Api::start().await;
    let cases = [
        (
            "KS signed with an unknown secret",
            "not-a-secret-of-partner-a",
        ),
        ("KS signed with the user secret", USER_SECRET_A),
        ("KS signed with partner B's secret", ADMIN_SECRET_B),
    ];
    for (case, secret) in cases {
        let ks = create_ks_v1(
            PARTNER_A,
            secret,
            SessionType::Admin,
            "",
            "",
            unix_now(),
            3600,
        );

        let fetched = api.call("thumbParams", "list", json!({"ks": ks})).await;

        assert_invalid_ks(case, &fetched, &ks);
    }
}

#[tokio::test]
async fn v2_partner_gets_working_v2_ks() {
    let api = Api::start().await;
    let mut partner = active_partner(PARTNER_V2, ADMIN_SECRET_V2, "user-secret-of-the-v2-partner");
    partner.settings.ks_version = Some(2);
    api.add_partner(&partner);

    let ks = api
        .session(PARTNER_V2, ADMIN_SECRET_V2, SESSION_ADMIN)
        .await;
    let standard = ks.replace('-', "+").replace('_', "/");
    let decoded = STANDARD.decode(&standard).expect("v2 KS is base64");
    let prefix = format!("v2|{PARTNER_V2}|");
    assert!(
        decoded.starts_with(prefix.as_bytes()),
        "session.start of a v2 partner returns a v2 KS: {ks}"
    );
    let listed = api.ok("thumbParams", "list", json!({"ks": ks})).await;
    assert_eq!(listed["objectType"], "KalturaThumbParamsListResponse");

    let mut flipped = decoded.clone();
    *flipped.last_mut().expect("ciphertext is not empty") ^= 0x01;
    let tampered = STANDARD
        .encode(&flipped)
        .replace('+', "-")
        .replace('/', "_");
    let fetched = api
        .call("thumbParams", "list", json!({"ks": tampered}))
        .await;
    assert_invalid_ks("v2 KS with a flipped ciphertext byte", &fetched, &tampered);

    let contents = NewKs {
        partner_id: PARTNER_V2,
        session_type: SessionType::Admin,
        expiry: unix_now() + 3600,
        ..NewKs::default()
    };
    let wrong_key = create_ks(KsVersion::V2, "not-the-v2-admin-secret", &contents);
    let fetched = api
        .call("thumbParams", "list", json!({"ks": wrong_key}))
        .await;
    assert_invalid_ks("v2 KS encrypted with another secret", &fetched, &wrong_key);
}

#[tokio::test]
async fn session_start_errors() {
    let api = Api::start().await;
    let mut blocked = active_partner(PARTNER_BLOCKED, ADMIN_SECRET_A, USER_SECRET_A);
    blocked.status = 2;
    api.add_partner(&blocked);
    let cases = [
        ("unknown secret", PARTNER_A, "not-a-secret", SESSION_ADMIN),
        (
            "partner B's secret",
            PARTNER_A,
            ADMIN_SECRET_B,
            SESSION_ADMIN,
        ),
        (
            "user secret for an admin session",
            PARTNER_A,
            USER_SECRET_A,
            SESSION_ADMIN,
        ),
        (
            "partner that does not exist",
            4040,
            ADMIN_SECRET_A,
            SESSION_ADMIN,
        ),
        (
            "blocked partner",
            PARTNER_BLOCKED,
            ADMIN_SECRET_A,
            SESSION_ADMIN,
        ),
    ];
    for (case, partner_id, secret, session_type) in cases {
        let fetched = api.start_session(partner_id, secret, session_type).await;

        assert_api_error(
            case,
            &fetched,
            "START_SESSION_ERROR",
            &format!("Error while starting session for partner [{partner_id}]"),
            json!({"PID": partner_id.to_string()}),
        );
    }

    let user_ks = api.session(PARTNER_A, USER_SECRET_A, SESSION_USER).await;
    let listed = api.ok("thumbParams", "list", json!({"ks": user_ks})).await;
    assert_eq!(listed["objectType"], "KalturaThumbParamsListResponse");
}

// Entries and upload tokens.

#[tokio::test]
async fn entry_and_token_errors() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let ks_b = api.session(PARTNER_B, ADMIN_SECRET_B, SESSION_ADMIN).await;
    let entry_of_b = api.empty_entry(&ks_b, MEDIA_TYPE_IMAGE).await;
    let empty_entry = api.empty_entry(&ks, MEDIA_TYPE_IMAGE).await;
    let viewer_ks = create_ks_v1(
        PARTNER_A,
        ADMIN_SECRET_A,
        SessionType::User,
        "viewer",
        "",
        unix_now(),
        3600,
    );
    let pending_token = api
        .ok(
            "uploadToken",
            "add",
            json!({"ks": ks, "uploadToken": {"objectType": "KalturaUploadToken"}}),
        )
        .await;
    let pending_token = id_of(&pending_token);

    let cases = vec![
        ErrorCase {
            name: "media.get of an unknown entry",
            service: "media",
            action: "get",
            params: json!({"ks": ks, "entryId": "0_nosuch01"}),
            code: "ENTRY_ID_NOT_FOUND",
            message: "Entry id \"0_nosuch01\" not found".into(),
            args: json!({"ENTRY_ID": "0_nosuch01"}),
        },
        ErrorCase {
            name: "thumbAsset.add on another partner's entry",
            service: "thumbAsset",
            action: "add",
            params: json!({
                "ks": ks,
                "entryId": entry_of_b,
                "thumbAsset": {"objectType": "KalturaThumbAsset"},
            }),
            code: "ENTRY_ID_NOT_FOUND",
            message: format!("Entry id \"{entry_of_b}\" not found"),
            args: json!({"ENTRY_ID": entry_of_b}),
        },
        ErrorCase {
            name: "addContent with an unknown token",
            service: "media",
            action: "addContent",
            params: json!({
                "ks": ks,
                "entryId": empty_entry,
                "resource": {"objectType": "KalturaUploadedFileTokenResource", "token": "0_nosuch01"},
            }),
            code: "UPLOAD_TOKEN_NOT_FOUND",
            message: "Upload token not found".into(),
            args: json!([]),
        },
        ErrorCase {
            name: "uploadToken.get of an unknown token",
            service: "uploadToken",
            action: "get",
            params: json!({"ks": ks, "uploadTokenId": "0_nosuch01"}),
            code: "UPLOAD_TOKEN_NOT_FOUND",
            message: "Upload token not found".into(),
            args: json!([]),
        },
        ErrorCase {
            name: "media.add without mediaType",
            service: "media",
            action: "add",
            params: json!({
                "ks": ks,
                "entry": {"objectType": "KalturaMediaEntry", "name": "no type"},
            }),
            code: "PROPERTY_VALIDATION_CANNOT_BE_NULL",
            message: "The property \"KalturaMediaEntry::mediaType\" cannot be null".into(),
            args: json!({"PROP_NAME": "KalturaMediaEntry::mediaType"}),
        },
        ErrorCase {
            name: "media.add with a mediaType outside the enumeration",
            service: "media",
            action: "add",
            params: json!({
                "ks": ks,
                "entry": {"objectType": "KalturaMediaEntry", "name": "odd type", "mediaType": 99},
            }),
            code: "INVALID_ENUM_VALUE",
            message: "Invalid enumeration value \"99\" for parameter \"mediaType\", expecting \
                      enumeration type \"KalturaMediaType\""
                .into(),
            args: json!({
                "ENUM_VAL": "99",
                "PARAM_NAME": "mediaType",
                "ENUM_TYPE": "KalturaMediaType",
            }),
        },
        ErrorCase {
            name: "addContent with a token that has no file yet",
            service: "media",
            action: "addContent",
            params: json!({
                "ks": ks,
                "entryId": empty_entry,
                "resource": {"objectType": "KalturaUploadedFileTokenResource", "token": pending_token},
            }),
            code: "UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY",
            message: "Upload token is in an invalid status for adding entry".into(),
            args: json!([]),
        },
        ErrorCase {
            name: "user session changing an entry it does not own",
            service: "thumbAsset",
            action: "add",
            params: json!({
                "ks": viewer_ks,
                "entryId": empty_entry,
                "thumbAsset": {"objectType": "KalturaThumbAsset"},
            }),
            code: "INVALID_KS",
            message: "Invalid KS \"\", Error \"-4,INVALID_TYPE\"".into(),
            args: json!({"KSID": "", "KS_ERROR_CODE": "-4", "KS_ERROR_DESCRIPTION": "INVALID_TYPE"}),
        },
    ];
    check_cases(&api, cases).await;
}

#[tokio::test]
async fn token_upload_only_once() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let photo = std::fs::read(fixture("pillow_hopper.jpg")).expect("fixture reads");
    let token_id = api.uploaded_token(&ks, "hopper.jpg", &photo).await;

    let fetched = api
        .call_with_file(
            "uploadToken",
            "upload",
            json!({"ks": ks, "uploadTokenId": token_id}),
            "hopper.jpg",
            &photo,
        )
        .await;

    assert_api_error(
        "second upload without resume",
        &fetched,
        "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD",
        "Upload token is in an invalid status for uploading a file, maybe the file was \
         already uploaded",
        json!([]),
    );
}

#[tokio::test]
async fn entry_content_added_only_once() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let photo = std::fs::read(fixture("pillow_hopper.jpg")).expect("fixture reads");
    let entry_id = api.empty_entry(&ks, MEDIA_TYPE_IMAGE).await;
    let resource = |token: &str| {
        json!({
            "ks": ks,
            "entryId": entry_id,
            "resource": {"objectType": "KalturaUploadedFileTokenResource", "token": token},
        })
    };

    let first_token = api.uploaded_token(&ks, "hopper.jpg", &photo).await;
    api.ok("media", "addContent", resource(&first_token)).await;
    let second_token = api.uploaded_token(&ks, "hopper.jpg", &photo).await;
    let fetched = api
        .call("media", "addContent", resource(&second_token))
        .await;

    assert_api_error(
        "second addContent",
        &fetched,
        "ENTRY_ALREADY_WITH_CONTENT",
        "Entry already associated with content",
        json!([]),
    );
}

// Thumbnail assets.

#[tokio::test]
async fn unknown_thumb_asset_not_found() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let missing = "0_nosuch01";
    let message = format!("The Thumbnail asset id \"{missing}\" not found");
    let args = json!({"ID": missing});
    let calls = [
        ("get", json!({"ks": ks, "thumbAssetId": missing})),
        (
            "update",
            json!({"ks": ks, "id": missing, "thumbAsset": {"objectType": "KalturaThumbAsset", "tags": "a"}}),
        ),
        ("delete", json!({"ks": ks, "thumbAssetId": missing})),
        ("setAsDefault", json!({"ks": ks, "thumbAssetId": missing})),
        ("regenerate", json!({"ks": ks, "thumbAssetId": missing})),
        ("getUrl", json!({"ks": ks, "id": missing})),
        ("getRemotePaths", json!({"ks": ks, "id": missing})),
        (
            "setContent",
            json!({
                "ks": ks,
                "id": missing,
                "contentResource": {"objectType": "KalturaUploadedFileTokenResource", "token": "0_token001"},
            }),
        ),
    ];
    for (action, params) in calls {
        let fetched = api.call("thumbAsset", action, params).await;

        assert_api_error(
            action,
            &fetched,
            "THUMB_ASSET_ID_NOT_FOUND",
            &message,
            args.clone(),
        );
    }
}

/// Edit actions need a session; without a KS they fail before loading anything.
#[tokio::test]
async fn edit_without_ks_is_missing_ks() {
    let api = Api::start().await;
    for action in ["setAsDefault", "delete"] {
        let fetched = api
            .call("thumbAsset", action, json!({"thumbAssetId": "0_abcdefgh"}))
            .await;

        assert_api_error(
            action,
            &fetched,
            "MISSING_KS",
            "Missing KS, session not established",
            json!([]),
        );
    }
}

#[tokio::test]
async fn asset_of_other_partner_not_found() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let ks_b = api.session(PARTNER_B, ADMIN_SECRET_B, SESSION_ADMIN).await;
    let entry_id = api.image_entry();
    let asset_id = api
        .queued_asset(&ks, &entry_id, json!({"objectType": "KalturaThumbAsset"}))
        .await;

    let fetched = api
        .call(
            "thumbAsset",
            "get",
            json!({"ks": ks_b, "thumbAssetId": asset_id}),
        )
        .await;

    assert_api_error(
        "partner B reading partner A's asset",
        &fetched,
        "THUMB_ASSET_ID_NOT_FOUND",
        &format!("The Thumbnail asset id \"{asset_id}\" not found"),
        json!({"ID": asset_id}),
    );
}

/// Kaltura limits an entry to 500 thumbnail assets unless the partner raises the
/// limit, and its message always names 500.
#[tokio::test]
async fn entry_holds_at_most_500_assets() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    for _ in 0..500 {
        api.queued_asset(&ks, &entry_id, json!({"objectType": "KalturaThumbAsset"}))
            .await;
    }

    let fetched = api
        .call(
            "thumbAsset",
            "add",
            json!({"ks": ks, "entryId": entry_id, "thumbAsset": {"objectType": "KalturaThumbAsset"}}),
        )
        .await;

    assert_api_error(
        "501st asset of an entry",
        &fetched,
        "MAX_ASSETS_FOR_ENTRY_REACHED",
        "Entry can contain maximum of \"500\" assets",
        json!({"ASSETS": "500"}),
    );
}

#[tokio::test]
async fn default_asset_cannot_be_deleted() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let asset_id = api
        .queued_asset(&ks, &entry_id, json!({"objectType": "KalturaThumbAsset"}))
        .await;
    api.ok(
        "thumbAsset",
        "setAsDefault",
        json!({"ks": ks, "thumbAssetId": asset_id}),
    )
    .await;

    let fetched = api
        .call(
            "thumbAsset",
            "delete",
            json!({"ks": ks, "thumbAssetId": asset_id}),
        )
        .await;

    assert_api_error(
        "delete of the default asset",
        &fetched,
        "THUMB_ASSET_IS_DEFAULT",
        &format!("Thumbnail asset \"{asset_id}\" is default and could not be deleted"),
        json!({"ASSET": asset_id}),
    );
}

#[tokio::test]
async fn params_id_used_once_per_entry() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let object = json!({"objectType": "KalturaThumbAsset", "thumbParamsId": DEFAULT_THUMB_PARAMS});
    let first = api.queued_asset(&ks, &entry_id, object.clone()).await;

    let fetched = api
        .call(
            "thumbAsset",
            "add",
            json!({"ks": ks, "entryId": entry_id, "thumbAsset": object}),
        )
        .await;

    assert_api_error(
        "second asset with thumbParamsId 19",
        &fetched,
        "THUMB_ASSET_ALREADY_EXISTS",
        &format!("Thumbnail asset id \"{first}\" already use thumbnail params id \"19\""),
        json!({"ASSET_ID": first, "PARAMS_ID": "19"}),
    );
}

#[tokio::test]
async fn regenerate_needs_params_id() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let asset_id = api
        .queued_asset(&ks, &entry_id, json!({"objectType": "KalturaThumbAsset"}))
        .await;

    let fetched = api
        .call(
            "thumbAsset",
            "regenerate",
            json!({"ks": ks, "thumbAssetId": asset_id}),
        )
        .await;

    assert_api_error(
        "regenerate of an asset without thumbParamsId",
        &fetched,
        "THUMB_ASSET_ID_NOT_FOUND",
        "The Thumbnail asset not found for params id \"N/A\"",
        json!({"ID": "N/A"}),
    );
}

#[tokio::test]
async fn queued_asset_has_no_url() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let asset_id = api
        .queued_asset(&ks, &entry_id, json!({"objectType": "KalturaThumbAsset"}))
        .await;

    let fetched = api
        .call("thumbAsset", "getUrl", json!({"ks": ks, "id": asset_id}))
        .await;

    assert_api_error(
        "getUrl of a QUEUED asset",
        &fetched,
        "THUMB_ASSET_IS_NOT_READY",
        "The thumbnail asset is not ready",
        json!([]),
    );

    let fetched = api
        .call(
            "thumbAsset",
            "getRemotePaths",
            json!({"ks": ks, "id": asset_id}),
        )
        .await;
    assert_api_error(
        "getRemotePaths of a QUEUED asset",
        &fetched,
        "THUMB_ASSET_IS_NOT_READY",
        "The thumbnail asset is not ready",
        json!([]),
    );
}

#[tokio::test]
async fn generate_checks_the_entry() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let image_entry = api.image_entry();
    let empty_video = api.empty_entry(&ks, MEDIA_TYPE_VIDEO).await;
    let template = json!({"objectType": "KalturaThumbParams", "width": 100, "height": 100});

    let fetched = api
        .call(
            "thumbAsset",
            "generate",
            json!({"ks": ks, "entryId": image_entry, "thumbParams": template}),
        )
        .await;
    assert_api_error(
        "generate on an image entry",
        &fetched,
        "ENTRY_MEDIA_TYPE_NOT_SUPPORTED",
        "Entry media type \"2\" not supported",
        json!({"MEDIA_TYPE": "2"}),
    );

    let fetched = api
        .call(
            "thumbAsset",
            "generate",
            json!({"ks": ks, "entryId": empty_video, "thumbParams": template}),
        )
        .await;
    assert_api_error(
        "generate on a video entry without content",
        &fetched,
        "INVALID_ENTRY_STATUS",
        "Invalid entry status",
        json!([]),
    );
}

#[tokio::test]
async fn generate_by_entry_id_errors() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let image_entry = api.image_entry();
    let empty_video = api.empty_entry(&ks, MEDIA_TYPE_VIDEO).await;
    let video_path = api.server.file("counter.mp4");
    counter_video(&video_path, 2);
    let ready_video = api.server.ingest(&video_path).id;
    let generate = |entry_id: &str, params_id: i64| json!({"ks": ks, "entryId": entry_id, "destThumbParamsId": params_id});

    let cases = vec![
        ErrorCase {
            name: "unknown entry",
            service: "thumbAsset",
            action: "generateByEntryId",
            params: generate("0_nosuch01", DEFAULT_THUMB_PARAMS),
            code: "ENTRY_ID_NOT_FOUND",
            message: "Entry id \"0_nosuch01\" not found".into(),
            args: json!({"ENTRY_ID": "0_nosuch01"}),
        },
        ErrorCase {
            name: "image entry",
            service: "thumbAsset",
            action: "generateByEntryId",
            params: generate(&image_entry, DEFAULT_THUMB_PARAMS),
            code: "ENTRY_MEDIA_TYPE_NOT_SUPPORTED",
            message: "Entry media type \"2\" not supported".into(),
            args: json!({"MEDIA_TYPE": "2"}),
        },
        ErrorCase {
            name: "video entry without content",
            service: "thumbAsset",
            action: "generateByEntryId",
            params: generate(&empty_video, DEFAULT_THUMB_PARAMS),
            code: "INVALID_ENTRY_STATUS",
            message: "Invalid entry status".into(),
            args: json!([]),
        },
        ErrorCase {
            name: "ready video with an unknown template",
            service: "thumbAsset",
            action: "generateByEntryId",
            params: generate(&ready_video, 999_999),
            code: "THUMB_ASSET_ID_NOT_FOUND",
            message: "The Thumbnail asset not found for params id \"999999\"".into(),
            args: json!({"ID": "999999"}),
        },
    ];
    check_cases(&api, cases).await;
}

#[tokio::test]
async fn readonly_asset_fields_not_updatable() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();

    let fetched = api
        .call(
            "thumbAsset",
            "add",
            json!({
                "ks": ks,
                "entryId": entry_id,
                "thumbAsset": {"objectType": "KalturaThumbAsset", "width": 100},
            }),
        )
        .await;
    assert_api_error(
        "add with width",
        &fetched,
        "PROPERTY_VALIDATION_NOT_UPDATABLE",
        "The property \"KalturaThumbAsset::width\" cannot be updated",
        json!({"PROP_NAME": "KalturaThumbAsset::width"}),
    );

    let asset_id = api
        .queued_asset(
            &ks,
            &entry_id,
            json!({"objectType": "KalturaThumbAsset", "thumbParamsId": DEFAULT_THUMB_PARAMS}),
        )
        .await;
    let update = |params_id: i64| {
        json!({
            "ks": ks,
            "id": asset_id,
            "thumbAsset": {"objectType": "KalturaThumbAsset", "thumbParamsId": params_id},
        })
    };
    let fetched = api.call("thumbAsset", "update", update(20)).await;
    assert_api_error(
        "update changing thumbParamsId",
        &fetched,
        "PROPERTY_VALIDATION_NOT_UPDATABLE",
        "The property \"KalturaThumbAsset::thumbParamsId\" cannot be updated",
        json!({"PROP_NAME": "KalturaThumbAsset::thumbParamsId"}),
    );
    let unchanged = api
        .ok("thumbAsset", "update", update(DEFAULT_THUMB_PARAMS))
        .await;
    assert_eq!(unchanged["thumbParamsId"], DEFAULT_THUMB_PARAMS);
}

#[tokio::test]
async fn asset_list_needs_entry_filter() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let message = "The property \"KalturaThumbAssetFilter::entryIdEqual/\
                   KalturaThumbAssetFilter::entryIdIn\" cannot be null";
    let args = json!({
        "PROP_NAME": "KalturaThumbAssetFilter::entryIdEqual/KalturaThumbAssetFilter::entryIdIn",
    });
    let calls = [
        ("list without a filter", json!({"ks": ks})),
        (
            "list filtered on status only",
            json!({"ks": ks, "filter": {"objectType": "KalturaThumbAssetFilter", "statusEqual": 2}}),
        ),
    ];
    for (case, params) in calls {
        let fetched = api.call("thumbAsset", "list", params).await;

        assert_api_error(
            case,
            &fetched,
            "PROPERTY_VALIDATION_CANNOT_BE_NULL",
            message,
            args.clone(),
        );
    }
}

#[tokio::test]
async fn svg_image_not_secure() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let drawing = br#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="teal"/></svg>
"#;

    let fetched = api
        .call_with_file(
            "thumbAsset",
            "addFromImage",
            json!({"ks": ks, "entryId": entry_id}),
            "drawing.svg",
            drawing,
        )
        .await;

    assert_api_error(
        "addFromImage with an SVG file",
        &fetched,
        "FILE_CONTENT_NOT_SECURE",
        "File content contains potential security risks",
        json!([]),
    );
}

#[tokio::test]
async fn non_image_files_name_their_problem() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let jpeg = std::fs::read(fixture("pillow_hopper.jpg")).expect("fixture");
    let video_path = api.server.dir.path().join("clip.mp4");
    counter_video(&video_path, 1);
    let video = std::fs::read(&video_path).expect("generated video");

    let cases: [(&str, &str, &[u8], &str, &str); 3] = [
        (
            "a text file",
            "notes.txt",
            b"not a picture at all",
            "FILE_TYPE_NOT_SUPPORTED",
            "File type \"txt\" not supported",
        ),
        (
            "a video",
            "clip.mp4",
            &video,
            "FILE_TYPE_NOT_SUPPORTED",
            "File type \"mp4\" not supported",
        ),
        (
            "a truncated JPEG",
            "cut.jpg",
            &jpeg[..jpeg.len() / 3],
            "UPLOAD_ERROR",
            "Upload failed: the file is damaged or incomplete",
        ),
    ];
    for (case, file_name, bytes, code, message) in cases {
        let fetched = api
            .call_with_file(
                "thumbAsset",
                "addFromImage",
                json!({"ks": ks, "entryId": entry_id}),
                file_name,
                bytes,
            )
            .await;
        let error = fetched.json();
        assert_eq!(error["code"], code, "{case}: {error}");
        let text = error["message"].as_str().unwrap_or_default();
        assert!(text.starts_with(message), "{case}: {text}");
    }
}

#[tokio::test]
async fn url_resource_not_supported() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let asset_id = api
        .queued_asset(&ks, &entry_id, json!({"objectType": "KalturaThumbAsset"}))
        .await;
    let url = api.server.thumb(&entry_id, "width/50");

    let fetched = api
        .call(
            "thumbAsset",
            "setContent",
            json!({
                "ks": ks,
                "id": asset_id,
                "contentResource": {"objectType": "KalturaUrlResource", "url": url},
            }),
        )
        .await;

    assert_api_error(
        "setContent with a URL resource",
        &fetched,
        "RESOURCE_TYPE_NOT_SUPPORTED",
        "Resource type \"KalturaUrlResource\" not supported",
        json!({"RES_TYPE": "KalturaUrlResource"}),
    );
    let asset = api
        .ok(
            "thumbAsset",
            "get",
            json!({"ks": ks, "thumbAssetId": asset_id}),
        )
        .await;
    assert_eq!(asset["status"], -1, "the QUEUED asset becomes ERROR");
}

#[tokio::test]
async fn serve_errors_in_headers() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let queued = api
        .queued_asset(&ks, &entry_id, json!({"objectType": "KalturaThumbAsset"}))
        .await;
    let ready = api.ready_asset(&ks, &entry_id).await;

    let cases = [
        (
            "serveByEntryId on an entry without a default",
            "serveByEntryId",
            json!({"ks": ks, "entryId": entry_id}),
            "FILE_DOESNT_EXIST",
            "File doesnt exist".to_string(),
        ),
        (
            "serveByEntryId with a thumbParamId the entry lacks",
            "serveByEntryId",
            json!({"ks": ks, "entryId": entry_id, "thumbParamId": 999}),
            "THUMB_ASSET_ID_NOT_FOUND",
            "The Thumbnail asset not found for params id \"999\"".to_string(),
        ),
        (
            "serveByEntryId of an unknown entry",
            "serveByEntryId",
            json!({"ks": ks, "entryId": "0_nosuch01"}),
            "ENTRY_ID_NOT_FOUND",
            "Entry id \"0_nosuch01\" not found".to_string(),
        ),
        (
            "serve of an unknown asset",
            "serve",
            json!({"ks": ks, "thumbAssetId": "0_nosuch01"}),
            "THUMB_ASSET_ID_NOT_FOUND",
            "The Thumbnail asset id \"0_nosuch01\" not found".to_string(),
        ),
        (
            "serve of an asset without content",
            "serve",
            json!({"ks": ks, "thumbAssetId": queued}),
            "FILE_DOESNT_EXIST",
            "File doesnt exist".to_string(),
        ),
        (
            "serve with a template whose quality is below 20",
            "serve",
            json!({
                "ks": ks,
                "thumbAssetId": ready,
                "thumbParams": {"objectType": "KalturaThumbParams", "quality": 10},
            }),
            "PROPERTY_VALIDATION_MIN_VALUE",
            "The property \"KalturaThumbParams::quality\" must have a min value of 20".to_string(),
        ),
    ];
    for (case, action, params, code, message) in cases {
        let fetched = api.call("thumbAsset", action, params).await;

        assert_header_error(case, &fetched, code, &message);
    }

    let garbage = "this-is-not-a-ks";
    let fetched = api
        .call(
            "thumbAsset",
            "serveByEntryId",
            json!({"ks": garbage, "entryId": entry_id}),
        )
        .await;
    assert_invalid_ks(
        "serve with a garbage KS, found before the action",
        &fetched,
        garbage,
    );

    let fetched = api
        .call(
            "thumbAsset",
            "serve",
            json!({
                "ks": ks,
                "thumbAssetId": ready,
                "thumbParams": {"objectType": "KalturaThumbParams", "cropType": 9},
            }),
        )
        .await;
    assert_api_error(
        "serve with a cropType outside the enumeration, found while decoding",
        &fetched,
        "INVALID_ENUM_VALUE",
        "Invalid enumeration value \"9\" for parameter \"cropType\", expecting enumeration \
         type \"KalturaThumbCropType\"",
        json!({"ENUM_VAL": "9", "PARAM_NAME": "cropType", "ENUM_TYPE": "KalturaThumbCropType"}),
    );
}

#[tokio::test]
async fn export_needs_remote_storage() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let entry_id = api.image_entry();
    let asset_id = api.ready_asset(&ks, &entry_id).await;

    let fetched = api
        .call(
            "thumbAsset",
            "export",
            json!({"ks": ks, "assetId": asset_id, "storageProfileId": 1}),
        )
        .await;

    assert_api_error(
        "export with no remote storage configured",
        &fetched,
        "STORAGE_PROFILE_ID_NOT_FOUND",
        "Storage profile id 1 not found",
        json!({"ID": "1"}),
    );

    let fetched = api
        .call(
            "thumbAsset",
            "export",
            json!({"ks": ks, "assetId": "0_nosuch01", "storageProfileId": 1}),
        )
        .await;
    assert_api_error(
        "export of an unknown asset",
        &fetched,
        "INVALID_FLAVOR_ASSET_ID",
        " Invalid flavor asset id 0_nosuch01",
        json!({"FLAV_ASSET_ID": "0_nosuch01"}),
    );
}

// Thumbnail templates (thumbParams).

#[tokio::test]
async fn unknown_thumb_params_not_found() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let rename = json!({"objectType": "KalturaThumbParams", "name": "renamed"});
    let cases = [
        (
            "get of an unknown id",
            "get",
            json!({"ks": ks, "id": 999_999}),
        ),
        (
            "update of an unknown id",
            "update",
            json!({"ks": ks, "id": 999_999, "thumbParams": rename}),
        ),
        (
            "delete of an unknown id",
            "delete",
            json!({"ks": ks, "id": 999_999}),
        ),
        (
            "update of the system default by a partner",
            "update",
            json!({"ks": ks, "id": DEFAULT_THUMB_PARAMS, "thumbParams": rename}),
        ),
        (
            "delete of the system default by a partner",
            "delete",
            json!({"ks": ks, "id": DEFAULT_THUMB_PARAMS}),
        ),
    ];
    for (case, action, params) in cases {
        let id = params["id"].to_string();

        let fetched = api.call("thumbParams", action, params).await;

        assert_api_error(
            case,
            &fetched,
            "FLAVOR_PARAMS_ID_NOT_FOUND",
            &format!("Flavor params id \"{id}\" not found"),
            json!({"ID": id}),
        );
    }
}

#[tokio::test]
async fn thumb_params_validation() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;
    let add = |fields: Value| {
        let mut object = json!({"objectType": "KalturaThumbParams", "name": "checked"});
        for (name, value) in fields.as_object().expect("fields are an object") {
            object[name] = value.clone();
        }
        json!({"ks": ks, "thumbParams": object})
    };
    let stored = api
        .ok("thumbParams", "add", add(json!({"quality": 80})))
        .await;
    let stored_id = stored["id"].as_i64().expect("numeric id");
    let property = |name: &str| format!("KalturaThumbParams::{name}");

    let cases = vec![
        ErrorCase {
            name: "quality below 20",
            service: "thumbParams",
            action: "add",
            params: add(json!({"quality": 10})),
            code: "PROPERTY_VALIDATION_MIN_VALUE",
            message: "The property \"KalturaThumbParams::quality\" must have a min value of 20"
                .into(),
            args: json!({"PROP_NAME": property("quality"), "MIN_VALUE": "20"}),
        },
        ErrorCase {
            name: "width above 10000",
            service: "thumbParams",
            action: "add",
            params: add(json!({"width": 20000})),
            code: "PROPERTY_VALIDATION_MAX_VALUE",
            message: "The property \"KalturaThumbParams::width\" must have a max value of 10000"
                .into(),
            args: json!({"PROP_NAME": property("width"), "MAX_VALUE": "10000"}),
        },
        ErrorCase {
            name: "quality above 100 on update",
            service: "thumbParams",
            action: "update",
            params: json!({
                "ks": ks,
                "id": stored_id,
                "thumbParams": {"objectType": "KalturaThumbParams", "quality": 101},
            }),
            code: "PROPERTY_VALIDATION_MAX_VALUE",
            message: "The property \"KalturaThumbParams::quality\" must have a max value of 100"
                .into(),
            args: json!({"PROP_NAME": property("quality"), "MAX_VALUE": "100"}),
        },
        ErrorCase {
            name: "backgroundColor that is not hexadecimal",
            service: "thumbParams",
            action: "add",
            params: add(json!({"backgroundColor": "zz"})),
            code: "PROPERTY_VALIDATION_WRONG_FORMAT",
            message: "The property \"KalturaThumbParams::backgroundColor\" must match format \
                      six hexadecimal characters"
                .into(),
            args: json!({
                "PROP_NAME": property("backgroundColor"),
                "FORMAT": "six hexadecimal characters",
            }),
        },
        ErrorCase {
            name: "backgroundColor of 7 characters",
            service: "thumbParams",
            action: "add",
            params: add(json!({"backgroundColor": "ff00ff0"})),
            code: "PROPERTY_VALIDATION_MAX_LENGTH",
            message: "The property \"KalturaThumbParams::backgroundColor\" must have a max \
                      length of 6 characters"
                .into(),
            args: json!({"PROP_NAME": property("backgroundColor"), "MAX_LENGTH": "6"}),
        },
        ErrorCase {
            name: "add without name",
            service: "thumbParams",
            action: "add",
            params: json!({"ks": ks, "thumbParams": {"objectType": "KalturaThumbParams", "width": 100}}),
            code: "PROPERTY_VALIDATION_CANNOT_BE_NULL",
            message: "The property \"KalturaThumbParams::name\" cannot be null".into(),
            args: json!({"PROP_NAME": property("name")}),
        },
        ErrorCase {
            name: "add with an empty name",
            service: "thumbParams",
            action: "add",
            params: add(json!({"name": ""})),
            code: "PROPERTY_VALIDATION_MIN_LENGTH",
            message: "The property \"KalturaThumbParams::name\" must have a min length of 1 \
                      characters"
                .into(),
            args: json!({"PROP_NAME": property("name"), "MIN_LENGTH": "1"}),
        },
        ErrorCase {
            name: "empty backgroundColor",
            service: "thumbParams",
            action: "add",
            params: add(json!({"backgroundColor": ""})),
            code: "PROPERTY_VALIDATION_MIN_LENGTH",
            message: "The property \"KalturaThumbParams::backgroundColor\" must have a min \
                      length of 1 characters"
                .into(),
            args: json!({"PROP_NAME": property("backgroundColor"), "MIN_LENGTH": "1"}),
        },
        ErrorCase {
            name: "width that is not a number",
            service: "thumbParams",
            action: "add",
            params: add(json!({"width": "wide"})),
            code: "PROPERTY_VALIDATION_NUMERIC_VALUE",
            message: "The property \"KalturaThumbParams::width\" must be numeric".into(),
            args: json!({"PROP_NAME": property("width")}),
        },
        ErrorCase {
            name: "interval below 1, named without its class",
            service: "thumbParams",
            action: "add",
            params: add(json!({"interval": 0})),
            code: "PROPERTY_VALIDATION_MIN_VALUE",
            message: "The property \"interval\" must have a min value of 1".into(),
            args: json!({"PROP_NAME": "interval", "MIN_VALUE": "1"}),
        },
        ErrorCase {
            name: "getByConversionProfileId of an unknown profile",
            service: "thumbParams",
            action: "getByConversionProfileId",
            params: json!({"ks": ks, "conversionProfileId": 999_999}),
            code: "CONVERSION_PROFILE_ID_NOT_FOUND",
            message: "Conversion profile id \"999999\" not found".into(),
            args: json!({"ID": "999999"}),
        },
    ];
    check_cases(&api, cases).await;
}

#[tokio::test]
async fn system_default_is_visible() {
    let api = Api::start().await;
    let ks = api.admin_ks_a().await;

    let listed = api.ok("thumbParams", "list", json!({"ks": ks})).await;
    let ids: Vec<i64> = listed["objects"]
        .as_array()
        .expect("list has objects")
        .iter()
        .filter_map(|object| object["id"].as_i64())
        .collect();
    assert!(
        ids.contains(&DEFAULT_THUMB_PARAMS),
        "list includes the system default: {ids:?}"
    );

    let fetched = api
        .ok(
            "thumbParams",
            "get",
            json!({"ks": ks, "id": DEFAULT_THUMB_PARAMS}),
        )
        .await;
    assert_eq!(fetched["name"], "Default Thumbnail");
    assert_eq!(fetched["partnerId"], 0);
}
