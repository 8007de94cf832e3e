//! The thumbnail URL API against thumbnail assets, over real HTTP: default assets
//! and their versions, `nearest_aspect_ratio`, `flavor_params_id`,
//! `upload_token_id` previews, audio entries, and assets generated from templates
//! in the background or on request.

mod api_support;
mod common;

use std::time::Duration;

use api_support::{
    ASSET_CAPTURING, ASSET_READY, Api, MEDIA_AUDIO, MEDIA_IMAGE, MEDIA_VIDEO, centre_colour,
    int_field, jpeg, solid_jpeg, text_field, tone_audio,
};
use common::*;
use serde_json::{Value, json};

/// Length of the counter video in seconds. The default capture is at second 3.
const VIDEO_SECONDS: u32 = 6;
/// Colour tolerance per channel for flat pictures after two JPEG encodings.
const COLOUR_TOLERANCE: f64 = 16.0;
const GENERATION_TIMEOUT: Duration = Duration::from_secs(30);

const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];
/// ffmpeg's `green` is #008000.
const GREEN: [u8; 3] = [0, 128, 0];
const YELLOW: [u8; 3] = [255, 255, 0];

fn expected_frame(seconds: f64) -> i64 {
    (seconds * COUNTER_FPS).round() as i64
}

/// Frame number shown at the centre of a counter-video capture.
fn centre_frame(image: &image::RgbaImage) -> i64 {
    frame_number(image.get_pixel(image.width() / 2, image.height() / 2).0)
}

/// Adds a counter-video entry through the API and returns its id.
async fn add_video(server: &TestServer, api: &Api, extra: Value) -> String {
    let path = server.file("counter.mp4");
    counter_video(&path, VIDEO_SECONDS);
    let entry = api.add_entry(MEDIA_VIDEO, &path, extra).await;
    text_field(&entry, "id")
}

/// Writes a flat-colour JPEG into the server's temporary directory.
fn picture(server: &TestServer, colour: &str, width: u32, height: u32) -> std::path::PathBuf {
    let path = server.file(&format!("{colour}-{width}x{height}.jpg"));
    solid_jpeg(&path, colour, width, height);
    path
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
}

async fn fetch_colour(url: &str, case: &str) -> [f64; 3] {
    let response = get(url).await;
    centre_colour(&jpeg(&response, case))
}

async fn thumbnail_url(api: &Api, entry_id: &str) -> String {
    let entry = api
        .call_ok("media", "get", json!({"entryId": entry_id}))
        .await;
    text_field(&entry, "thumbnailUrl")
}

async fn list_assets(api: &Api, entry_id: &str) -> Vec<Value> {
    let listing = api
        .call_ok(
            "thumbAsset",
            "list",
            json!({"filter": {"objectType": "KalturaThumbAssetFilter", "entryIdEqual": entry_id}}),
        )
        .await;
    listing["objects"].as_array().cloned().unwrap_or_default()
}

fn has_tag(asset: &Value, tag: &str) -> bool {
    asset["tags"]
        .as_str()
        .unwrap_or("")
        .split(',')
        .any(|t| t.trim() == tag)
}

#[tokio::test]
async fn default_asset_and_thumbnail_versions() {
    let (server, api) = api_support::start().await;
    let entry_id = add_video(&server, &api, json!({})).await;
    let thumb = |params: &str| server.thumb(&entry_id, params);

    // Without assets, the plain URL captures the frame at the default offset, 3 s.
    let plain = jpeg(&get(&thumb("quality/95")).await, "video without assets");
    assert_eq!(centre_frame(&plain), expected_frame(3.0));
    let url = thumbnail_url(&api, &entry_id).await;
    assert!(
        !url.contains("/version/"),
        "no thumbnail version yet: {url}"
    );

    let red = api
        .add_thumb_from_image(&entry_id, &picture(&server, "red", 400, 400))
        .await;
    let red_id = text_field(&red, "id");
    assert_eq!(
        (red["width"].as_i64(), red["height"].as_i64()),
        (Some(400), Some(400))
    );
    let still_frame = jpeg(&get(&thumb("quality/95")).await, "after addFromImage");
    assert_eq!(
        centre_frame(&still_frame),
        expected_frame(3.0),
        "addFromImage on a ready entry does not change the default"
    );

    api.set_default_thumb(&red_id).await;
    let url = thumbnail_url(&api, &entry_id).await;
    assert!(
        url.ends_with("/version/1"),
        "first default is version 1: {url}"
    );
    assert!(url.starts_with(&server.url("/p/")), "{url}");
    assert_colour_near(
        fetch_colour(&thumb(""), "plain URL, red default").await,
        RED,
        COLOUR_TOLERANCE,
        "plain URL with the red default",
    );
    assert_colour_near(
        fetch_colour(&url, "thumbnailUrl, red default").await,
        RED,
        COLOUR_TOLERANCE,
        "thumbnailUrl with the red default",
    );
    let capture = jpeg(&get(&thumb("vid_sec/1/quality/95")).await, "vid_sec/1");
    assert_eq!(
        centre_frame(&capture),
        expected_frame(1.0),
        "vid_sec still captures a frame"
    );

    let blue = api
        .add_thumb_from_image(&entry_id, &picture(&server, "blue", 1600, 900))
        .await;
    let blue_id = text_field(&blue, "id");
    api.set_default_thumb(&blue_id).await;
    let url = thumbnail_url(&api, &entry_id).await;
    assert!(
        url.ends_with("/version/2"),
        "second default is version 2: {url}"
    );
    assert_colour_near(
        fetch_colour(&thumb(""), "plain URL, blue default").await,
        BLUE,
        COLOUR_TOLERANCE,
        "plain URL with the blue default",
    );
    let blue_default = jpeg(&get(&thumb("")).await, "blue default size");
    assert_eq!(
        blue_default.dimensions(),
        (120, 68),
        "1600x900 fitted into 120x90"
    );
    assert_colour_near(
        fetch_colour(&thumb("version/1"), "version 1").await,
        RED,
        COLOUR_TOLERANCE,
        "version 1 keeps the red default",
    );
    assert_colour_near(
        fetch_colour(&thumb("version/2"), "version 2").await,
        BLUE,
        COLOUR_TOLERANCE,
        "version 2 is the blue default",
    );
    let unknown = get(&thumb("version/3")).await;
    assert_url_error(
        &unknown,
        404,
        "MISSING_THUMBNAIL_FILESYNC",
        10,
        "unknown thumbnail version",
    );

    let assets = list_assets(&api, &entry_id).await;
    let tagged: Vec<String> = assets
        .iter()
        .filter(|asset| has_tag(asset, "default_thumb"))
        .map(|asset| text_field(asset, "id"))
        .collect();
    assert_eq!(
        tagged,
        vec![blue_id],
        "only the new default keeps default_thumb"
    );
}

#[tokio::test]
async fn nearest_aspect_ratio_picks_closest_asset() {
    let (server, api) = api_support::start().await;
    let entry_id = add_video(&server, &api, json!({})).await;
    let thumb = |params: &str| server.thumb(&entry_id, params);

    let red = api
        .add_thumb_from_image(&entry_id, &picture(&server, "red", 400, 400))
        .await;
    api.set_default_thumb(&text_field(&red, "id")).await;
    api.add_thumb_from_image(&entry_id, &picture(&server, "blue", 1600, 900))
        .await;

    let wide = jpeg(
        &get(&thumb("nearest_aspect_ratio/1/width/640/height/360")).await,
        "16:9 box",
    );
    assert_eq!(wide.dimensions(), (640, 360));
    assert_colour_near(centre_colour(&wide), BLUE, COLOUR_TOLERANCE, "16:9 pick");

    let square = jpeg(
        &get(&thumb("nearest_aspect_ratio/1/width/300/height/300")).await,
        "square box",
    );
    assert_eq!(square.dimensions(), (300, 300));
    assert_colour_near(centre_colour(&square), RED, COLOUR_TOLERANCE, "square pick");

    // Without the parameter the default (red) fills the 16:9 box.
    let without = jpeg(&get(&thumb("width/640/height/360/type/3")).await, "no pick");
    assert_colour_near(centre_colour(&without), RED, COLOUR_TOLERANCE, "default");

    // A second 16:9 asset ties on aspect: the one whose width equals the box wins,
    // else the wider one.
    api.add_thumb_from_image(&entry_id, &picture(&server, "green", 640, 360))
        .await;
    let exact = jpeg(
        &get(&thumb("nearest_aspect_ratio/1/width/640/height/360")).await,
        "16:9 box with two 16:9 assets",
    );
    assert_eq!(exact.dimensions(), (640, 360));
    assert_colour_near(
        centre_colour(&exact),
        GREEN,
        COLOUR_TOLERANCE,
        "width equal to the box wins a tie",
    );
    let wider = jpeg(
        &get(&thumb("nearest_aspect_ratio/1/width/320/height/180")).await,
        "320x180 box with two 16:9 assets",
    );
    assert_eq!(wider.dimensions(), (320, 180));
    assert_colour_near(
        centre_colour(&wider),
        BLUE,
        COLOUR_TOLERANCE,
        "the wider asset wins a tie",
    );
}

#[tokio::test]
async fn flavor_params_id_supplies_the_size() {
    let (server, api) = api_support::start().await;
    let image = picture(&server, "yellow", 800, 400);
    let entry = api.add_entry(MEDIA_IMAGE, &image, json!({})).await;
    let entry_id = text_field(&entry, "id");
    let params = api
        .call_ok(
            "thumbParams",
            "add",
            json!({"thumbParams": {
                "objectType": "KalturaThumbParams",
                "name": "200 by 100",
                "width": 200,
                "height": 100,
            }}),
        )
        .await;
    let params_id = int_field(&params, "id");

    let sized = jpeg(
        &get(&server.thumb(&entry_id, &format!("flavor_params_id/{params_id}"))).await,
        "template size",
    );
    assert_eq!(sized.dimensions(), (200, 100));
    assert_colour_near(
        centre_colour(&sized),
        YELLOW,
        COLOUR_TOLERANCE,
        "template size",
    );

    let explicit = jpeg(
        &get(&server.thumb(
            &entry_id,
            &format!("flavor_params_id/{params_id}/width/100"),
        ))
        .await,
        "explicit width",
    );
    assert_eq!(
        explicit.dimensions(),
        (100, 50),
        "an explicit width makes the template size unused"
    );

    let unknown = jpeg(
        &get(&server.thumb(&entry_id, "flavor_params_id/987654")).await,
        "unknown template",
    );
    assert_eq!(unknown.dimensions(), (120, 60), "the 120x90 default box");
}

#[tokio::test]
async fn upload_token_previews_its_file() {
    let (server, api) = api_support::start().await;
    let entry_id = add_video(&server, &api, json!({})).await;

    let token_id = api.upload(&picture(&server, "yellow", 300, 200)).await;
    let preview = get(&server.thumb(&entry_id, &format!("upload_token_id/{token_id}"))).await;
    let image = jpeg(&preview, "image token preview");
    assert_eq!(image.dimensions(), (120, 80));
    assert_colour_near(
        centre_colour(&image),
        YELLOW,
        COLOUR_TOLERANCE,
        "image token",
    );
    assert_eq!(
        preview.header("cache-control"),
        Some("public, max-age=8640000, max-stale=0")
    );

    let sized = jpeg(
        &get(&server.thumb(
            &entry_id,
            &format!("upload_token_id/{token_id}/width/60/height/60/type/3"),
        ))
        .await,
        "image token preview with a size",
    );
    assert_eq!(sized.dimensions(), (60, 60));

    // A video in a token is previewed with a frame at second 3.
    let video = server.file("token.mp4");
    counter_video(&video, VIDEO_SECONDS);
    let video_token = api.upload(&video).await;
    let frame = jpeg(
        &get(&server.thumb(
            &entry_id,
            &format!("upload_token_id/{video_token}/quality/95"),
        ))
        .await,
        "video token preview",
    );
    assert_eq!(centre_frame(&frame), expected_frame(3.0));

    // An unknown token falls back to the entry.
    let fallback = get(&server.thumb(&entry_id, "upload_token_id/0_nosuchtk/quality/95")).await;
    assert_eq!(
        centre_frame(&jpeg(&fallback, "unknown token")),
        expected_frame(3.0)
    );
    assert_eq!(
        fallback.header("cache-control"),
        Some("public, max-age=3600, max-stale=0")
    );
}

#[tokio::test]
async fn audio_entry_serves_its_default_asset() {
    let (server, api) = api_support::start().await;
    let audio = server.file("tone.m4a");
    tone_audio(&audio, 3);
    let entry = api.add_entry(MEDIA_AUDIO, &audio, json!({})).await;
    let entry_id = text_field(&entry, "id");

    let placeholder = get(&server.thumb(&entry_id, "")).await;
    let image = jpeg(&placeholder, "audio placeholder");
    let colour = centre_colour(&image);
    assert!(
        (colour[0] - 255.0).abs() > COLOUR_TOLERANCE || colour[1] > COLOUR_TOLERANCE,
        "the placeholder is not the red asset yet: {colour:?}"
    );

    let red = api
        .add_thumb_from_image(&entry_id, &picture(&server, "red", 400, 300))
        .await;
    api.set_default_thumb(&text_field(&red, "id")).await;
    let served = get(&server.thumb(&entry_id, "")).await;
    let image = jpeg(&served, "audio default asset");
    assert_eq!(image.dimensions(), (120, 90));
    assert_colour_near(
        centre_colour(&image),
        RED,
        COLOUR_TOLERANCE,
        "audio default",
    );
    assert_eq!(
        served.header("cache-control"),
        Some("public, max-age=3600, max-stale=0")
    );
}

/// Checks the Kaltura server's 60 s lifetime for an audio placeholder. There the
/// entry's thumbnail name is the `&audio_thumb.jpg` template marker, and a name
/// starting with `&` limits the cache lifetime to 60 s.
#[tokio::test]
async fn audio_placeholder_is_cached_briefly() {
    let (server, api) = api_support::start().await;
    let audio = server.file("tone.m4a");
    tone_audio(&audio, 3);
    let entry = api.add_entry(MEDIA_AUDIO, &audio, json!({})).await;
    let entry_id = text_field(&entry, "id");

    let placeholder = get(&server.thumb(&entry_id, "")).await;
    jpeg(&placeholder, "audio placeholder");
    assert_eq!(
        placeholder.header("cache-control"),
        Some("public, max-age=60, max-stale=0")
    );
}

#[tokio::test]
async fn conversion_profile_generates_default_thumbnail() {
    let (server, api) = api_support::start().await;
    let params = api
        .call_ok(
            "thumbParams",
            "add",
            json!({"thumbParams": {
                "objectType": "KalturaThumbParams",
                "name": "default 160x90",
                "tags": "default_thumb",
                "width": 160,
                "height": 90,
                "cropType": 3,
                "videoOffset": 1,
            }}),
        )
        .await;
    let params_id = int_field(&params, "id");
    let profile = api
        .call_ok(
            "conversionProfile",
            "add",
            json!({"conversionProfile": {
                "objectType": "KalturaConversionProfile",
                "name": "with a default thumbnail",
                "flavorParamsIds": params_id.to_string(),
            }}),
        )
        .await;
    let profile_id = int_field(&profile, "id");

    let entry_id = add_video(&server, &api, json!({"conversionProfileId": profile_id})).await;
    let asset = api
        .wait_for_asset(&entry_id, GENERATION_TIMEOUT, |asset| {
            asset["status"] == ASSET_READY
        })
        .await;
    assert_eq!(int_field(&asset, "thumbParamsId"), params_id, "{asset}");
    assert_eq!(asset["width"], 160, "{asset}");
    assert_eq!(asset["height"], 90, "{asset}");
    assert!(has_tag(&asset, "default_thumb"), "{asset}");

    let url = thumbnail_url(&api, &entry_id).await;
    assert!(
        url.ends_with("/version/1"),
        "the generated asset is the default: {url}"
    );
    let plain = jpeg(
        &get(&server.thumb(&entry_id, "quality/95")).await,
        "plain URL",
    );
    assert_eq!(plain.dimensions(), (120, 68), "160x90 fitted into 120x90");
    assert_eq!(
        centre_frame(&plain),
        expected_frame(1.0),
        "the plain URL shows the asset made at second 1, not the capture at second 3"
    );
}

/// Serves an asset's stored file with `thumbAsset.serve` (no KS needed).
async fn serve_asset(server: &TestServer, asset_id: &str) -> image::RgbaImage {
    let response = get(&server.url(&format!(
        "/api_v3/service/thumbAsset/action/serve/thumbAssetId/{asset_id}"
    )))
    .await;
    jpeg(&response, "thumbAsset.serve")
}

#[tokio::test]
async fn generate_by_entry_id_finishes_in_background() {
    let (server, api) = api_support::start().await;
    let entry_id = add_video(&server, &api, json!({})).await;
    let params = api
        .call_ok(
            "thumbParams",
            "add",
            json!({"thumbParams": {
                "objectType": "KalturaThumbParams",
                "name": "80x45 at 2 s",
                "width": 80,
                "height": 45,
                "videoOffset": 2,
                "quality": 95,
            }}),
        )
        .await;
    let params_id = int_field(&params, "id");

    let queued = api
        .call_ok(
            "thumbAsset",
            "generateByEntryId",
            json!({"entryId": entry_id, "destThumbParamsId": params_id}),
        )
        .await;
    let status = int_field(&queued, "status");
    assert!(
        status == ASSET_CAPTURING || status == ASSET_READY,
        "generateByEntryId returns a capturing or ready asset: {queued}"
    );
    let asset_id = text_field(&queued, "id");

    let ready = api
        .wait_for_asset(&entry_id, GENERATION_TIMEOUT, |asset| {
            asset["id"] == asset_id.as_str() && asset["status"] == ASSET_READY
        })
        .await;
    assert_eq!(
        (ready["width"].as_i64(), ready["height"].as_i64()),
        (Some(80), Some(45))
    );
    let image = serve_asset(&server, &asset_id).await;
    assert_eq!(image.dimensions(), (80, 45));
    assert_eq!(centre_frame(&image), expected_frame(2.0));
}

#[tokio::test]
async fn generate_returns_ready_asset() {
    let (server, api) = api_support::start().await;
    let entry_id = add_video(&server, &api, json!({})).await;

    let asset = api
        .call_ok(
            "thumbAsset",
            "generate",
            json!({
                "entryId": entry_id,
                "thumbParams": {
                    "objectType": "KalturaThumbParams",
                    "width": 64,
                    "height": 36,
                    "cropType": 3,
                    "videoOffset": 4,
                    "quality": 95,
                },
            }),
        )
        .await;
    assert_eq!(asset["status"], ASSET_READY, "{asset}");
    assert_eq!(asset["width"], 64, "{asset}");
    assert_eq!(asset["height"], 36, "{asset}");

    let image = serve_asset(&server, &text_field(&asset, "id")).await;
    assert_eq!(image.dimensions(), (64, 36));
    assert_eq!(centre_frame(&image), expected_frame(4.0));
}

/// A restart finds assets still CAPTURING: the one with a stored template is
/// captured again, the one without is marked ERROR.
#[tokio::test]
async fn interrupted_captures_resume_at_start() {
    use thumbd::store::{ThumbAsset, asset_status};

    let (server, api) = api_support::start().await;
    let entry_id = add_video(&server, &api, json!({})).await;
    let params = api
        .call_ok(
            "thumbParams",
            "add",
            json!({"thumbParams": {
                "objectType": "KalturaThumbParams",
                "name": "64x36 at 1 s",
                "width": 64,
                "height": 36,
                "videoOffset": 1,
            }}),
        )
        .await;
    let capturing = |id: &str, params_id: Option<i64>| ThumbAsset {
        id: id.to_string(),
        entry_id: entry_id.clone(),
        partner_id: PARTNER,
        thumb_params_id: params_id,
        status: asset_status::CAPTURING,
        created_at: 1,
        updated_at: 1,
        ..ThumbAsset::default()
    };
    let store = &server.services.api_store;
    store
        .insert_thumb_asset(&capturing("0_resume01", Some(int_field(&params, "id"))))
        .expect("stored template asset");
    store
        .insert_thumb_asset(&capturing("0_resume02", None))
        .expect("unsaved template asset");

    thumbd::service::thumb_generation::resume_interrupted(&server.services).await;

    let resumed = store.thumb_asset("0_resume01").unwrap().expect("asset");
    assert_eq!(resumed.status, asset_status::READY, "{resumed:?}");
    assert_eq!((resumed.width, resumed.height), (64, 36));
    let image = serve_asset(&server, "0_resume01").await;
    assert_eq!(centre_frame(&image), expected_frame(1.0));

    let failed = store.thumb_asset("0_resume02").unwrap().expect("asset");
    assert_eq!(failed.status, asset_status::ERROR, "{failed:?}");
    let reason = failed.description.unwrap_or_default();
    assert!(reason.contains("interrupted by a restart"), "{reason}");
}
