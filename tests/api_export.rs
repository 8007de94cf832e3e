//! API v3 behaviour that depends on server settings: `thumbAsset.export` and
//! `getRemotePaths` with a remote-storage directory (the copy on disk, the
//! `KalturaFlavorAsset` reply the clients declare, the listed remote path), and
//! uploads over the source size limit.

mod api_support;
mod common;

use api_support::{MEDIA_IMAGE, int_field, solid_jpeg, text_field};
use serde_json::json;
use thumbd::config::ServiceArgs;

#[tokio::test]
async fn export_copies_into_remote_storage() {
    let remote = tempfile::tempdir().expect("remote storage directory");
    let mut config = ServiceArgs::default();
    config.api.remote_storage_dir = Some(remote.path().to_path_buf());
    let (server, api) = api_support::start_with(config).await;

    let picture = server.dir.path().join("red.jpg");
    solid_jpeg(&picture, "red", 320, 200);
    let entry = api.add_entry(MEDIA_IMAGE, &picture, json!({})).await;
    let entry_id = text_field(&entry, "id");
    let asset = api.add_thumb_from_image(&entry_id, &picture).await;
    let asset_id = text_field(&asset, "id");

    let before = api
        .call_ok("thumbAsset", "getRemotePaths", json!({"id": asset_id}))
        .await;
    assert_eq!(before["totalCount"], 0, "nothing exported yet: {before}");

    let exported = api
        .call_ok(
            "thumbAsset",
            "export",
            json!({"assetId": asset_id, "storageProfileId": 1}),
        )
        .await;
    assert_eq!(exported["objectType"], "KalturaFlavorAsset", "{exported}");
    assert_eq!(exported["id"], asset_id.as_str(), "{exported}");
    assert_eq!(int_field(&exported, "status"), 2, "{exported}");

    let listed = api
        .call_ok("thumbAsset", "getRemotePaths", json!({"id": asset_id}))
        .await;
    assert_eq!(
        listed["objectType"], "KalturaRemotePathListResponse",
        "{listed}"
    );
    assert_eq!(listed["totalCount"], 1, "{listed}");
    let path = &listed["objects"][0];
    assert_eq!(path["objectType"], "KalturaRemotePath", "{path}");
    assert_eq!(path["storageProfileId"], 1, "{path}");
    let uri = text_field(path, "uri");
    let file = uri.strip_prefix("file://").expect("a file URI");
    assert!(
        file.starts_with(&remote.path().display().to_string()),
        "{file} is inside the remote storage directory"
    );

    let copied = std::fs::read(file).expect("exported file exists");
    let stored = std::fs::read(&picture).expect("source picture");
    assert_eq!(copied, stored, "export copies the asset's file unchanged");
}

#[tokio::test]
async fn export_to_unknown_profile_fails() {
    let remote = tempfile::tempdir().expect("remote storage directory");
    let mut config = ServiceArgs::default();
    config.api.remote_storage_dir = Some(remote.path().to_path_buf());
    let (server, api) = api_support::start_with(config).await;

    let picture = server.dir.path().join("blue.jpg");
    solid_jpeg(&picture, "blue", 64, 64);
    let entry = api.add_entry(MEDIA_IMAGE, &picture, json!({})).await;
    let asset = api
        .add_thumb_from_image(&text_field(&entry, "id"), &picture)
        .await;

    let error = api
        .call_error(
            "thumbAsset",
            "export",
            json!({"assetId": text_field(&asset, "id"), "storageProfileId": 7}),
        )
        .await;
    assert_eq!(error["code"], "STORAGE_PROFILE_ID_NOT_FOUND", "{error}");
    assert_eq!(
        error["message"], "Storage profile id 7 not found",
        "{error}"
    );
}

#[tokio::test]
async fn upload_over_source_limit_fails() {
    let mut config = ServiceArgs::default();
    config.limits.max_source_bytes = 1_000;
    let (server, api) = api_support::start_with(config).await;
    let picture = server.dir.path().join("large.jpg");
    solid_jpeg(&picture, "red", 640, 480);

    let token = api
        .call_ok("uploadToken", "add", json!({"uploadToken": {}}))
        .await;
    let token_id = text_field(&token, "id");
    let reply = api
        .post_file(
            "uploadToken",
            "upload",
            json!({"uploadTokenId": token_id}),
            &picture,
        )
        .await;

    assert_eq!(reply["code"], "UPLOAD_ERROR", "{reply}");
    assert_eq!(
        reply["message"],
        "Upload failed: the file is larger than the limit of 1000 bytes (--max-source-bytes)",
        "{reply}"
    );
    let after = api
        .call_ok("uploadToken", "get", json!({"uploadTokenId": token_id}))
        .await;
    assert_eq!(after["status"], 0, "the token stays PENDING: {after}");
}
