//! Access-control profiles over real HTTP: profiles are added with
//! `accessControlProfile.add`, assigned with `media.update`, and enforced on the
//! thumbnail URL API and on `thumbAsset.serve`.

mod api_support;
mod common;

use api_support::{Api, centre_colour, is_api_error, jpeg, solid_jpeg, text_field, url_safe};
use base64::Engine;
use common::*;
use serde_json::{Value, json};
use thumbd::auth::{SessionType, create_ks_v1};

const BLOCK_ACTION: &str = "KalturaAccessControlBlockAction";
const CAPTURE_ACTION: &str = "KalturaAccessControlLimitThumbnailCaptureAction";
const NO_CACHE: &str = "no-store, no-cache, must-revalidate, post-check=0, pre-check=0";
const OPEN_CACHE: &str = "public, max-age=3600, max-stale=0";
const VIDEO_SECONDS: u32 = 6;

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Builds a rule that blocks requests without a valid KS.
fn require_ks_rule() -> Value {
    json!({
        "objectType": "KalturaRule",
        "conditions": [{"objectType": "KalturaAuthenticatedCondition", "not": true}],
        "actions": [{"objectType": BLOCK_ACTION, "type": "1"}],
    })
}

/// Builds a site rule. With `not` true it blocks every referrer outside `sites`,
/// and with `not` false it blocks the referrers in `sites`.
fn site_rule(sites: &[&str], not: bool) -> Value {
    let values: Vec<Value> = sites
        .iter()
        .map(|site| json!({"objectType": "KalturaStringValue", "value": site}))
        .collect();
    json!({
        "objectType": "KalturaRule",
        "conditions": [{"objectType": "KalturaSiteCondition", "not": not, "values": values}],
        "actions": [{"objectType": BLOCK_ACTION, "type": "1"}],
    })
}

/// Builds a rule that blocks frame capture (`vid_sec`, `vid_slice`, `vid_slices`).
fn block_capture_rule() -> Value {
    json!({
        "objectType": "KalturaRule",
        "actions": [{"objectType": CAPTURE_ACTION, "type": "6"}],
    })
}

/// A server with an image entry and a video entry of the test partner.
struct Setup {
    server: TestServer,
    api: Api,
    image_id: String,
    video_id: String,
}

impl Setup {
    async fn start() -> Self {
        let (server, api) = api_support::start().await;
        let image = server.ingest(&fixture("pillow_hopper.jpg"));
        let video_path = server.file("counter.mp4");
        counter_video(&video_path, VIDEO_SECONDS);
        let video = server.ingest(&video_path);
        Self {
            server,
            api,
            image_id: image.id,
            video_id: video.id,
        }
    }

    fn entries(&self) -> [(&'static str, &str); 2] {
        [("image", &self.image_id), ("video", &self.video_id)]
    }

    /// Adds a profile with `rules` and returns its id.
    async fn add_profile(&self, name: &str, rules: Vec<Value>) -> i64 {
        let profile = self
            .api
            .call_ok(
                "accessControlProfile",
                "add",
                json!({"accessControlProfile": {
                    "objectType": "KalturaAccessControlProfile",
                    "name": name,
                    "rules": rules,
                }}),
            )
            .await;
        profile["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("profile id is a number: {profile}"))
    }

    /// Assigns a profile to an entry (`None` removes it) with `media.update`.
    async fn assign(&self, entry_id: &str, profile_id: Option<i64>) {
        let entry = self
            .api
            .call_ok(
                "media",
                "update",
                json!({
                    "entryId": entry_id,
                    "mediaEntry": {"objectType": "KalturaMediaEntry", "accessControlId": profile_id},
                }),
            )
            .await;
        assert_eq!(entry["accessControlId"].as_i64(), profile_id, "{entry}");
    }

    async fn assign_all(&self, profile_id: i64) {
        self.assign(&self.image_id, Some(profile_id)).await;
        self.assign(&self.video_id, Some(profile_id)).await;
    }

    async fn fetch(&self, entry_id: &str, params: &str) -> Fetched {
        get(&self.server.thumb(entry_id, params)).await
    }
}

/// Asserts a URL API error: status, JSON code and `X-Kaltura: error-N`.
fn assert_url_error(response: &Fetched, status: u16, code: &str, number: u16, case: &str) {
    assert_eq!(
        response.status,
        status,
        "{case}: body {}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.json()["code"], code, "{case}");
    assert_eq!(
        response.header("x-kaltura"),
        Some(format!("error-{number}").as_str()),
        "{case}"
    );
    let app = response.header("x-kaltura-app").unwrap_or("");
    assert!(
        app.starts_with(&format!("exiting on error {number} - ")),
        "{case}: X-Kaltura-App {app:?}"
    );
}

/// Asserts a 200 picture whose caching headers are the Kaltura server's "no cache" set.
fn assert_uncached_image(response: &Fetched, case: &str) {
    jpeg(response, case);
    assert_eq!(response.header("cache-control"), Some(NO_CACHE), "{case}");
    assert_eq!(response.header("pragma"), Some("no-cache"), "{case}");
    assert_eq!(
        response.header("expires"),
        Some("Sun, 19 Nov 2000 08:52:00 GMT"),
        "{case}"
    );
}

/// Builds the `referrer` URL parameter: base64 of the page URL, percent-encoded
/// so that `+` and `/` survive in a path segment.
fn referrer_param(page: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(page);
    let escaped = encoded
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    format!("referrer/{escaped}")
}

#[tokio::test]
async fn require_ks_rule_checks_the_ks() {
    let setup = Setup::start().await;
    let profile = setup
        .add_profile("require ks", vec![require_ks_rule()])
        .await;
    setup.assign_all(profile).await;

    let user_ks = url_safe(&setup.api.user_ks().await);
    let expired = url_safe(&create_ks_v1(
        PARTNER,
        api_support::ADMIN_SECRET,
        SessionType::User,
        "",
        "",
        unix_now() - 600,
        60,
    ));
    for (kind, entry_id) in setup.entries() {
        let missing = setup.fetch(entry_id, "").await;
        assert_url_error(
            &missing,
            403,
            "ACCESS_CONTROL_RESTRICTED",
            3,
            &format!("{kind} without ks"),
        );
        assert_ne!(
            missing.header("cache-control"),
            Some("private, max-age=60, max-stale=0"),
            "{kind}: access-control errors are not cached"
        );

        let valid = setup.fetch(entry_id, &format!("ks/{user_ks}")).await;
        assert_uncached_image(&valid, &format!("{kind} with a valid ks"));

        let with_size = setup
            .fetch(entry_id, &format!("width/64/height/48/ks/{user_ks}"))
            .await;
        let picture = jpeg(&with_size, &format!("{kind} with a valid ks and a size"));
        assert!(picture.width() <= 64, "{kind}: width {}", picture.width());
        assert!(
            picture.height() <= 48,
            "{kind}: height {}",
            picture.height()
        );

        let old = setup.fetch(entry_id, &format!("ks/{expired}")).await;
        assert_url_error(&old, 403, "KS_EXPIRED", 31, &format!("{kind} expired ks"));

        let garbage = setup.fetch(entry_id, "ks/not-a-ks!!").await;
        assert_url_error(
            &garbage,
            403,
            "INVALID_KS_SRT",
            4,
            &format!("{kind} garbage ks"),
        );
    }
}

#[tokio::test]
async fn ks_signed_with_another_secret_is_invalid() {
    let setup = Setup::start().await;
    let profile = setup
        .add_profile("require ks", vec![require_ks_rule()])
        .await;
    setup.assign(&setup.image_id, Some(profile)).await;

    let forged = url_safe(&create_ks_v1(
        PARTNER,
        "not-the-partner-secret",
        SessionType::User,
        "",
        "",
        unix_now(),
        3600,
    ));
    let response = setup.fetch(&setup.image_id, &format!("ks/{forged}")).await;
    assert_url_error(&response, 403, "INVALID_KS", 7, "ks with a wrong signature");
}

#[tokio::test]
async fn allowed_referrer_domains() {
    let setup = Setup::start().await;
    let profile = setup
        .add_profile("allowed sites", vec![site_rule(&["example.com"], true)])
        .await;
    setup.assign_all(profile).await;

    let allowed_page = referrer_param("https://www.example.com/watch?v=1");
    let other_page = referrer_param("https://other.test/page");
    for (kind, entry_id) in setup.entries() {
        let by_parameter = setup.fetch(entry_id, &allowed_page).await;
        assert_uncached_image(&by_parameter, &format!("{kind} allowed referrer parameter"));

        let url = setup.server.thumb(entry_id, "");
        let by_header = get_with(&url, &[("Referer", "https://example.com/player")]).await;
        assert_uncached_image(&by_header, &format!("{kind} allowed Referer header"));

        let other = setup.fetch(entry_id, &other_page).await;
        assert_url_error(
            &other,
            403,
            "ACCESS_CONTROL_RESTRICTED",
            3,
            &format!("{kind} other referrer parameter"),
        );

        let other_header = get_with(&url, &[("Referer", "https://other.test/")]).await;
        assert_url_error(
            &other_header,
            403,
            "ACCESS_CONTROL_RESTRICTED",
            3,
            &format!("{kind} other Referer header"),
        );

        let lookalike = get_with(&url, &[("Referer", "https://notexample.com/")]).await;
        assert_url_error(
            &lookalike,
            403,
            "ACCESS_CONTROL_RESTRICTED",
            3,
            &format!("{kind} domain that only ends with the allowed name"),
        );

        let none = setup.fetch(entry_id, "").await;
        assert_url_error(
            &none,
            403,
            "ACCESS_CONTROL_RESTRICTED",
            3,
            &format!("{kind} without referrer"),
        );

        // The decoded parameter is used before the header.
        let url = setup.server.thumb(entry_id, &other_page);
        let parameter_first = get_with(&url, &[("Referer", "https://example.com/")]).await;
        assert_url_error(
            &parameter_first,
            403,
            "ACCESS_CONTROL_RESTRICTED",
            3,
            &format!("{kind} other referrer parameter with an allowed header"),
        );
    }
}

#[tokio::test]
async fn blocked_referrer_domains() {
    let setup = Setup::start().await;
    let profile = setup
        .add_profile("blocked sites", vec![site_rule(&["blocked.test"], false)])
        .await;
    setup.assign_all(profile).await;

    for (kind, entry_id) in setup.entries() {
        let blocked = setup
            .fetch(entry_id, &referrer_param("http://blocked.test/page"))
            .await;
        assert_url_error(
            &blocked,
            403,
            "ACCESS_CONTROL_RESTRICTED",
            3,
            &format!("{kind} blocked referrer"),
        );

        let url = setup.server.thumb(entry_id, "");
        let subdomain = get_with(&url, &[("Referer", "https://cdn.blocked.test/x")]).await;
        assert_url_error(
            &subdomain,
            403,
            "ACCESS_CONTROL_RESTRICTED",
            3,
            &format!("{kind} subdomain of a blocked referrer"),
        );

        let other = setup
            .fetch(entry_id, &referrer_param("https://example.com/"))
            .await;
        assert_uncached_image(&other, &format!("{kind} other referrer"));

        let none = setup.fetch(entry_id, "").await;
        assert_uncached_image(&none, &format!("{kind} without referrer"));
    }
}

#[tokio::test]
async fn block_capture_rule_blocks_frames_only() {
    let setup = Setup::start().await;
    let profile = setup
        .add_profile("no capture", vec![block_capture_rule()])
        .await;
    setup.assign(&setup.video_id, Some(profile)).await;

    let plain = setup.fetch(&setup.video_id, "").await;
    assert_uncached_image(&plain, "plain URL of a capture-blocked video");

    for params in [
        "vid_sec/1",
        "width/80/height/45/vid_slices/4",
        "vid_slices/4/vid_slice/2",
    ] {
        let response = setup.fetch(&setup.video_id, params).await;
        assert_url_error(
            &response,
            403,
            "FEATURE_BLOCK_THUMBNAIL_CAPTURE",
            38,
            params,
        );
    }
}

#[tokio::test]
async fn cache_headers_follow_access_control() {
    let setup = Setup::start().await;
    for (kind, entry_id) in setup.entries() {
        let open = setup.fetch(entry_id, "").await;
        jpeg(&open, kind);
        assert_eq!(
            open.header("cache-control"),
            Some(OPEN_CACHE),
            "{kind} without a profile"
        );

        // Without a blocking rule the ks parameter is not even parsed.
        let ignored_ks = setup.fetch(entry_id, "ks/not-a-ks!!").await;
        jpeg(
            &ignored_ks,
            &format!("{kind} without a profile, garbage ks"),
        );
    }

    let profile = setup
        .add_profile("blocked sites", vec![site_rule(&["blocked.test"], false)])
        .await;
    setup.assign_all(profile).await;
    for (kind, entry_id) in setup.entries() {
        let restricted = setup.fetch(entry_id, "width/100").await;
        assert_uncached_image(&restricted, &format!("{kind} with a profile"));
    }

    // Removing the profile makes the thumbnails cacheable again.
    setup.assign(&setup.image_id, None).await;
    let reopened = setup.fetch(&setup.image_id, "").await;
    jpeg(&reopened, "image after the profile is removed");
    assert_eq!(reopened.header("cache-control"), Some(OPEN_CACHE));
}

/// A condition's type, its `not` flag and its values.
type ConditionFacts = (String, bool, Vec<String>);
/// A rule's action types and conditions.
type RuleFacts = (Vec<String>, Vec<ConditionFacts>);

/// Reduces rule objects to comparable facts.
fn normalize_rules(rules: &Value) -> Vec<RuleFacts> {
    let as_bool = |value: &Value| match value {
        Value::Bool(flag) => *flag,
        Value::String(text) => text == "1" || text.eq_ignore_ascii_case("true"),
        Value::Number(number) => number.as_i64() == Some(1),
        _ => false,
    };
    let list = |value: &Value| value.as_array().cloned().unwrap_or_default();
    list(rules)
        .iter()
        .map(|rule| {
            let actions = list(&rule["actions"])
                .iter()
                .map(|action| action["objectType"].as_str().unwrap_or("").to_string())
                .collect();
            let conditions = list(&rule["conditions"])
                .iter()
                .map(|condition| {
                    let values = list(&condition["values"])
                        .iter()
                        .map(|value| value["value"].as_str().unwrap_or("").to_string())
                        .collect();
                    (
                        condition["objectType"].as_str().unwrap_or("").to_string(),
                        as_bool(&condition["not"]),
                        values,
                    )
                })
                .collect();
            (actions, conditions)
        })
        .collect()
}

#[tokio::test]
async fn profile_get_and_list_round_trip_rules() {
    let setup = Setup::start().await;
    let rules = vec![
        require_ks_rule(),
        site_rule(&["example.com", "example.org"], true),
        site_rule(&["blocked.test"], false),
        block_capture_rule(),
    ];
    let expected = normalize_rules(&Value::Array(rules.clone()));
    let id = setup.add_profile("every rule", rules).await;
    let other_id = setup
        .add_profile("capture only", vec![block_capture_rule()])
        .await;

    let fetched = setup
        .api
        .call_ok("accessControlProfile", "get", json!({"id": id}))
        .await;
    assert_eq!(fetched["objectType"], "KalturaAccessControlProfile");
    assert_eq!(fetched["id"], id);
    assert_eq!(fetched["name"], "every rule");
    assert_eq!(fetched["partnerId"], PARTNER);
    assert_eq!(normalize_rules(&fetched["rules"]), expected);

    let listing = setup
        .api
        .call_ok("accessControlProfile", "list", json!({}))
        .await;
    assert_eq!(
        listing["objectType"],
        "KalturaAccessControlProfileListResponse"
    );
    assert_eq!(listing["totalCount"], 2, "{listing}");
    let objects = listing["objects"].as_array().expect("objects array");
    let listed = objects
        .iter()
        .find(|profile| profile["id"] == id)
        .unwrap_or_else(|| panic!("profile {id} is listed: {listing}"));
    assert_eq!(normalize_rules(&listed["rules"]), expected);
    let capture_only = objects
        .iter()
        .find(|profile| profile["id"] == other_id)
        .unwrap_or_else(|| panic!("profile {other_id} is listed: {listing}"));
    assert_eq!(
        normalize_rules(&capture_only["rules"]),
        normalize_rules(&json!([block_capture_rule()]))
    );

    let missing = setup
        .api
        .call_error("accessControlProfile", "get", json!({"id": id + 1000}))
        .await;
    assert_eq!(missing["code"], "ACCESS_CONTROL_ID_NOT_FOUND");
}

#[tokio::test]
async fn unsupported_rules_are_rejected() {
    let setup = Setup::start().await;
    let unsupported = [
        (
            "IP address condition",
            json!({
                "objectType": "KalturaRule",
                "conditions": [{"objectType": "KalturaIpAddressCondition", "values": [
                    {"objectType": "KalturaStringValue", "value": "10.0.0.0/8"}]}],
                "actions": [{"objectType": BLOCK_ACTION, "type": "1"}],
            }),
        ),
        (
            "block when authenticated",
            json!({
                "objectType": "KalturaRule",
                "conditions": [{"objectType": "KalturaAuthenticatedCondition", "not": false}],
                "actions": [{"objectType": BLOCK_ACTION, "type": "1"}],
            }),
        ),
        (
            "block without a condition",
            json!({
                "objectType": "KalturaRule",
                "actions": [{"objectType": BLOCK_ACTION, "type": "1"}],
            }),
        ),
        (
            "two conditions in one rule",
            json!({
                "objectType": "KalturaRule",
                "conditions": [
                    {"objectType": "KalturaAuthenticatedCondition", "not": true},
                    {"objectType": "KalturaSiteCondition", "not": true, "values": [
                        {"objectType": "KalturaStringValue", "value": "example.com"}]},
                ],
                "actions": [{"objectType": BLOCK_ACTION, "type": "1"}],
            }),
        ),
        (
            "preview action",
            json!({
                "objectType": "KalturaRule",
                "conditions": [{"objectType": "KalturaAuthenticatedCondition", "not": true}],
                "actions": [{"objectType": "KalturaAccessControlPreviewAction", "limit": 30}],
            }),
        ),
    ];
    for (case, rule) in unsupported {
        let reply = setup
            .api
            .call(
                "accessControlProfile",
                "add",
                json!({"accessControlProfile": {
                    "objectType": "KalturaAccessControlProfile",
                    "name": case,
                    "rules": [rule],
                }}),
            )
            .await;
        assert!(is_api_error(&reply), "{case}: {reply}");
        assert_eq!(reply["code"], "PROPERTY_VALIDATION_WRONG_FORMAT", "{case}");
    }

    let listing = setup
        .api
        .call_ok("accessControlProfile", "list", json!({}))
        .await;
    assert_eq!(
        listing["totalCount"], 0,
        "rejected profiles are not stored: {listing}"
    );
}

/// Adds a red asset to the video entry and puts the entry under a require-KS
/// profile. Returns the asset id.
async fn red_asset_behind_ks(setup: &Setup) -> String {
    let red = setup.server.file("red.jpg");
    solid_jpeg(&red, "red", 200, 100);
    let asset = setup.api.add_thumb_from_image(&setup.video_id, &red).await;
    let profile = setup
        .add_profile("require ks", vec![require_ks_rule()])
        .await;
    setup.assign(&setup.video_id, Some(profile)).await;
    text_field(&asset, "id")
}

#[tokio::test]
async fn serve_on_require_ks_entry() {
    let setup = Setup::start().await;
    let asset_id = red_asset_behind_ks(&setup).await;
    let serve = setup.server.url(&format!(
        "/api_v3/service/thumbAsset/action/serve/thumbAssetId/{asset_id}"
    ));

    let rejected = get(&serve).await;
    assert_eq!(rejected.status, 200, "serve errors keep HTTP 200");
    assert!(
        rejected.body.is_empty(),
        "no body: {}",
        String::from_utf8_lossy(&rejected.body)
    );
    let kaltura = rejected.header("x-kaltura").expect("X-Kaltura header");
    assert!(kaltura.starts_with("error-"), "{kaltura}");
    let app = rejected
        .header("x-kaltura-app")
        .expect("X-Kaltura-App header");
    assert!(app.starts_with("exiting on error "), "{app}");
    assert!(app.contains("restricted"), "{app}");

    let user_ks = url_safe(&setup.api.user_ks().await);
    let served = get(&format!("{serve}/ks/{user_ks}")).await;
    let picture = jpeg(&served, "serve with a valid ks");
    assert_eq!(picture.dimensions(), (200, 100));
    assert_colour_near(centre_colour(&picture), [255, 0, 0], 16.0, "served asset");
}

/// Checks that serve reports an access-control failure with the URL API's error
/// number, as the Kaltura server's `dieError` does, not with the exception code.
#[tokio::test]
async fn serve_access_error_uses_url_error_number() {
    let setup = Setup::start().await;
    let asset_id = red_asset_behind_ks(&setup).await;
    let rejected = get(&setup.server.url(&format!(
        "/api_v3/service/thumbAsset/action/serve/thumbAssetId/{asset_id}"
    )))
    .await;
    assert_eq!(rejected.header("x-kaltura"), Some("error-3"));
    assert_eq!(
        rejected.header("x-kaltura-app"),
        Some("exiting on error 3 - entry restricted due to access-control")
    );
}

#[tokio::test]
async fn get_url_link_carries_a_working_ks() {
    let setup = Setup::start().await;
    let asset_id = red_asset_behind_ks(&setup).await;
    let reply = setup
        .api
        .call_ok("thumbAsset", "getUrl", json!({"id": asset_id}))
        .await;
    let link = reply.as_str().expect("getUrl returns a string");
    assert!(
        link.starts_with(&setup.server.url("/api_v3/")),
        "getUrl link on this server: {link}"
    );
    assert!(
        link.contains("/ks/"),
        "a protected entry's link has a ks: {link}"
    );

    let served = get(link).await;
    let picture = jpeg(&served, "getUrl link");
    assert_colour_near(centre_colour(&picture), [255, 0, 0], 16.0, "linked asset");
}
