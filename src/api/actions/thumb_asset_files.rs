//! `thumbAsset` actions that carry files: setContent, addFromImage, serve,
//! serveByEntryId, getUrl, export and getRemotePaths.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::common::{
    extension_of, load_entry, rejected_upload, unsupported_file_type, upload_path,
};
use super::thumb_asset::{
    CLASS, asset_not_found, check_asset_limit, load_asset, load_asset_of, new_asset,
};
use super::upload_token::load_token;
use super::{Context, unix_now};
use crate::api::{
    ApiError, ErrorStage, FileReply, Object, Output, UploadedFile, Value, error, objects,
};
use crate::auth::ks::{KsVersion, NewKs, SessionType, create_ks};
use crate::auth::{AccessRequest, check_access};
use crate::cache::Rendered;
use crate::service::Services;
use crate::service::ThumbnailError;
use crate::service::thumb_generation::{self, store_asset_file};
use crate::service::thumb_template::{Admission, TemplateJob, TemplateSource, render_template};
use crate::source::{self, MediaType};
use crate::store::{
    DEFAULT_THUMB_TAG, Entry, EntryStatus, Partner, ThumbAsset, asset_status, upload_status,
};

/// Maximum browser cache lifetime of a served asset, in seconds (100 days).
const MAX_SERVE_AGE: i64 = 8_640_000;
/// Lifetime of the KS embedded in getUrl links, in seconds.
const URL_KS_LIFETIME: i64 = 86_400;
/// Storage profile id of the configured remote-storage directory.
const REMOTE_STORAGE_ID: i64 = 1;

/// `setContent(id, contentResource)` with an uploaded-file token.
pub async fn set_content(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let id = params.required_text("id")?.to_string();
    let resource = params
        .object("contentResource")
        .cloned()
        .unwrap_or_default();
    let mut asset = load_asset(context, &id).await?;
    let entry = load_entry(context, &asset.entry_id).await?;
    context.require_entry_editor(&entry)?;

    let token_id = match (resource.object_type(), resource.text("token")) {
        (Some("KalturaUploadedFileTokenResource") | None, Some(token)) => token.to_string(),
        (kind, _) => {
            // TODO: URL resources (synchronous download) are not supported yet.
            let kind = kind.unwrap_or("null").to_string();
            if matches!(
                asset.status,
                asset_status::QUEUED | asset_status::NOT_APPLICABLE
            ) {
                asset.status = asset_status::ERROR;
                asset.updated_at = unix_now();
                let failed = asset.clone();
                context
                    .blocking(move |services| {
                        Ok(services.api_store.save_thumb_assets(&[failed], None)?)
                    })
                    .await?;
            }
            return Err(ApiError::with(error::RESOURCE_TYPE_NOT_SUPPORTED, &[&kind]));
        }
    };
    let mut token = load_token(context, &token_id).await?;
    if token.status != upload_status::FULL_UPLOAD {
        return Err(ApiError::with(error::UPLOADED_FILE_NOT_FOUND_BY_TOKEN, &[]));
    }

    let path = upload_path(&context.services.data_root, &token.id);
    let file_name = token.file_name.clone().unwrap_or_default();
    let asset = store_content(
        context,
        asset,
        &entry,
        path.clone(),
        file_name,
        DefaultRule::SetContent,
    )
    .await?;

    token.status = upload_status::CLOSED;
    token.attached_object_type = Some(CLASS.to_string());
    token.attached_object_id = Some(asset.id.clone());
    token.updated_at = unix_now();
    context
        .blocking(move |services| {
            services.api_store.update_upload_token(&token)?;
            let _ = std::fs::remove_file(&path);
            Ok(())
        })
        .await?;
    Ok(objects::thumb_asset(&asset).into())
}

/// `addFromImage(entryId, fileData)`: a new READY asset from a multipart file.
pub async fn add_from_image(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let entry_id = params.required_text("entryId")?.to_string();
    let file: UploadedFile = params.file("fileData").cloned().ok_or_else(|| {
        ApiError::with(error::MISSING_MANDATORY_PARAMETER, &["fileData"]).in_envelope()
    })?;
    let entry = load_entry(context, &entry_id).await?;
    context.require_entry_editor(&entry)?;

    let asset = new_asset(&entry);
    let inserted = asset.clone();
    context
        .blocking(move |services| {
            check_asset_limit(&services.api_store.entry_thumb_assets(&inserted.entry_id)?)?;
            Ok(())
        })
        .await?;
    let asset = store_content(
        context,
        asset,
        &entry,
        file.path.clone(),
        file.file_name.clone(),
        DefaultRule::AddFromImage,
    )
    .await?;
    Ok(objects::thumb_asset(&asset).into())
}

/// When new content makes an asset the entry's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DefaultRule {
    /// Tagged `default_thumb`, or the only thumbnail of an entry without content.
    SetContent,
    /// The only thumbnail of an entry without content, unless a default was picked
    /// by hand.
    AddFromImage,
}

/// Checks that `path` is a safe, decodable image, stores it as the asset's next
/// version (inserting the asset when it is new) and applies the default rule.
async fn store_content(
    context: &Context<'_>,
    mut asset: ThumbAsset,
    entry: &Entry,
    path: PathBuf,
    file_name: String,
    rule: DefaultRule,
) -> Result<ThumbAsset, ApiError> {
    let entry = entry.clone();
    context
        .blocking(move |services| {
            let existing = services.api_store.thumb_asset(&asset.id)?;
            let is_new = existing.is_none();
            let info = match inspect_image(services, &path, &file_name) {
                Ok(info) => info,
                Err(rejection) => {
                    if !is_new {
                        asset.status = asset_status::ERROR;
                        asset.description = Some(rejection.message.clone());
                        asset.updated_at = unix_now();
                        services.api_store.save_thumb_assets(std::slice::from_ref(&asset), None)?;
                    }
                    return Err(rejection);
                }
            };
            // A new asset's row is inserted with its file, in one transaction.
            let extension = extension_of(&file_name).unwrap_or_else(|| image_extension(&info.format));
            let size = info.orientation.displayed_size(info.stored_size);
            store_asset_file(services, &mut asset, &path, &extension, size.width, size.height)?;
            tracing::info!(asset_id = %asset.id, version = asset.version, "thumb asset content stored");

            let others = services.api_store.entry_thumb_assets(&entry.id)?;
            let only_thumb = others.len() == 1;
            let no_default = entry.details.default_thumb_asset_id.is_none();
            let empty_entry = entry.status == EntryStatus::NO_CONTENT && only_thumb && no_default;
            let becomes_default = match rule {
                DefaultRule::SetContent => asset.has_tag(DEFAULT_THUMB_TAG) || empty_entry,
                DefaultRule::AddFromImage => entry.details.create_thumb != Some(false) && empty_entry,
            };
            if becomes_default {
                thumb_generation::make_default(services, &entry.id, &asset.id)?;
                return Ok(services.api_store.thumb_asset(&asset.id)?.unwrap_or(asset));
            }
            Ok(asset)
        })
        .await
}

/// Rejects markup (SVG, HTML, XML) and anything that is not a decodable image.
/// `file_name` is the name the client gave, for messages.
fn inspect_image(
    services: &Services,
    path: &Path,
    file_name: &str,
) -> Result<source::MediaInfo, ApiError> {
    let mut head = [0u8; 512];
    let read = std::fs::File::open(path)
        .and_then(|mut file| std::io::Read::read(&mut file, &mut head))
        .map_err(|_| ApiError::with(error::UPLOAD_ERROR, &[]))?;
    let text_start = head[..read].iter().find(|b| !b.is_ascii_whitespace());
    if text_start == Some(&b'<') {
        return Err(ApiError::with(error::FILE_CONTENT_NOT_SECURE, &[]));
    }

    let limits = services.config.limits.source_limits();
    let info = source::probe_file(path, &limits)
        .map_err(|failure| rejected_upload(file_name, &failure))?;
    if info.media_type != MediaType::Image {
        return Err(unsupported_file_type(file_name));
    }
    source::validate_file(path, &info, &limits)
        .map_err(|failure| rejected_upload(file_name, &failure))?;
    Ok(info)
}

fn image_extension(format: &str) -> String {
    match format {
        "jpeg" => "jpg".to_string(),
        other => other.to_ascii_lowercase(),
    }
}

/// `serve(thumbAssetId, version, thumbParams, options)`: the stored file, or a
/// rendition of it when `thumbParams` is given. Works without a KS.
pub async fn serve(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let id = params.required_text("thumbAssetId")?.to_string();
    let version = params.int("version").filter(|v| *v > 0);
    let options = params.object("options").cloned().unwrap_or_default();

    let asset = load_public_asset(context, &id).await?;
    let (entry, partner) = load_entry_and_partner(context, &asset.entry_id)
        .await?
        .ok_or_else(|| asset_not_found(&id))?;
    check_entry_access(context, &entry, &partner, options.text("referrer")).await?;

    let file = stored_file(context, &asset, version).await?;
    let max_age = serve_max_age(context);
    let template = match params.object("thumbParams") {
        Some(object) => Some(super::thumb_params::read_settings(object)?),
        None => None,
    };
    let Some(settings) = template else {
        let download_name = options
            .bool("download")
            .unwrap_or(false)
            .then(|| format!("{}_{}.{}", entry.id, asset.id, file.extension));
        return Ok(file_reply(file.bytes, max_age, download_name));
    };

    let key = format!("asset:{}_{}|{settings:?}", asset.id, file.version);
    let job = TemplateJob {
        source: TemplateSource::Image {
            path: file.path.clone(),
            size: crate::frame::Size::new(file.width as u32, file.height as u32),
        },
        settings,
        default_offset: 0.0,
    };
    let services = context.services.clone();
    let render = async move {
        let render = render_template(&services, job, &partner, Admission::Reject).await?;
        Ok::<_, crate::service::ThumbnailError>(Arc::new(Rendered::new(
            render.bytes,
            render.format.content_type(),
        )))
    };
    let (rendered, _) = context
        .services
        .cache
        .get_or_render(key, render)
        .await
        .map_err(|failure| render_error(&failure))?;
    Ok(Output::File(FileReply {
        bytes: rendered.bytes.clone(),
        content_type: rendered.content_type.to_string(),
        max_age,
        download_name: None,
    }))
}

fn render_error(failure: &ThumbnailError) -> ApiError {
    match failure {
        ThumbnailError::TooManyProcesses => ApiError {
            code: "TOO_MANY_PROCESSES",
            message: failure.to_string(),
            args: Vec::new(),
            stage: ErrorStage::Action,
        },
        ThumbnailError::BadQuery(detail) => ApiError::with(
            error::PROPERTY_VALIDATION_WRONG_FORMAT,
            &["KalturaThumbParams", detail],
        ),
        other => ApiError::internal(other),
    }
}

/// `serveByEntryId(entryId, thumbParamId)`: the entry's default thumbnail, or its
/// asset made with the given template; never resized.
pub async fn serve_by_entry_id(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let entry_id = params.required_text("entryId")?.to_string();
    let params_id = params.int("thumbParamId");

    let not_found = || ApiError::with(error::ENTRY_ID_NOT_FOUND, &[&entry_id]);
    let (entry, partner) = load_entry_and_partner(context, &entry_id)
        .await?
        .ok_or_else(not_found)?;
    if context
        .session
        .as_ref()
        .is_some_and(|s| s.partner.id != entry.partner_id)
    {
        return Err(not_found());
    }
    check_entry_access(context, &entry, &partner, None).await?;

    let lookup_entry = entry.clone();
    let asset = context
        .blocking(move |services| {
            let assets = services.api_store.entry_thumb_assets(&lookup_entry.id)?;
            Ok(match params_id {
                Some(id) => assets.into_iter().find(|a| a.thumb_params_id == Some(id)),
                None => lookup_entry
                    .details
                    .default_thumb_asset_id
                    .as_ref()
                    .and_then(|default| assets.into_iter().find(|a| &a.id == default)),
            })
        })
        .await?;
    let asset = match (asset, params_id) {
        (Some(asset), _) => asset,
        (None, Some(id)) => {
            return Err(ApiError::with(
                error::THUMB_ASSET_PARAMS_ID_NOT_FOUND,
                &[&id.to_string()],
            ));
        }
        (None, None) => return Err(ApiError::with(error::FILE_DOESNT_EXIST, &[])),
    };
    let file = stored_file(context, &asset, None).await?;
    Ok(file_reply(file.bytes, serve_max_age(context), None))
}

/// Loads an asset visible to the caller: one of the session's partner, or of any
/// partner when the call has no KS (the partner then comes from the asset).
async fn load_public_asset(context: &Context<'_>, id: &str) -> Result<ThumbAsset, ApiError> {
    if let Some(session) = &context.session {
        return load_asset_of(context, session.partner.id, id).await;
    }
    let key = id.to_string();
    context
        .blocking(move |services| Ok(services.api_store.thumb_asset(&key)?))
        .await?
        .filter(|a| a.status != asset_status::DELETED)
        .ok_or_else(|| asset_not_found(id))
}

/// Loads the entry (unless deleted) and its partner.
async fn load_entry_and_partner(
    context: &Context<'_>,
    entry_id: &str,
) -> Result<Option<(Entry, Partner)>, ApiError> {
    let id = entry_id.to_string();
    context
        .blocking(move |services| {
            let Some(entry) = services
                .store
                .entry(&id)?
                .filter(|e| e.status != EntryStatus::DELETED)
            else {
                return Ok(None);
            };
            Ok(services
                .store
                .partner(entry.partner_id)?
                .map(|partner| (entry, partner)))
        })
        .await
}

/// Applies the entry's access-control rules in the thumbnail context.
async fn check_entry_access(
    context: &Context<'_>,
    entry: &Entry,
    partner: &Partner,
    referrer: Option<&str>,
) -> Result<(), ApiError> {
    let Some(profile_id) = entry.access_control_id else {
        return Ok(());
    };
    let rules = context
        .blocking(move |services| Ok(services.store.access_rules(profile_id)?))
        .await?;
    let Some(rules) = rules else {
        return Ok(());
    };
    let request = AccessRequest {
        ks: context.params().text("ks"),
        referrer: referrer.or(context.call.client.referer.as_deref()),
        wants_capture: false,
        now: unix_now(),
    };
    check_access(&rules, partner, &request).map_err(|denied| {
        tracing::info!(entry_id = %entry.id, reason = %denied, "access control rejected the call");
        let failure = ThumbnailError::from(denied);
        ApiError {
            code: failure.code(),
            message: failure.kaltura_description().to_string(),
            args: Vec::new(),
            stage: ErrorStage::UrlApi(failure.kaltura_number()),
        }
    })
}

/// One stored file of an asset, read into memory.
struct StoredFile {
    path: PathBuf,
    bytes: bytes::Bytes,
    version: i64,
    extension: String,
    width: i64,
    height: i64,
}

/// Reads the asset's file of `version` (the current one when `None`), or fails
/// with `FILE_DOESNT_EXIST` when there is none.
async fn stored_file(
    context: &Context<'_>,
    asset: &ThumbAsset,
    version: Option<i64>,
) -> Result<StoredFile, ApiError> {
    let asset = asset.clone();
    context
        .blocking(move |services| {
            let version = version.unwrap_or(asset.version);
            let file = services
                .api_store
                .thumb_file(&asset.id, version)?
                .ok_or_else(|| ApiError::with(error::FILE_DOESNT_EXIST, &[]))?;
            let path = services
                .blobs
                .local_path(&file.blob_key)
                .map_err(|_| ApiError::with(error::FILE_DOESNT_EXIST, &[]))?;
            let bytes =
                std::fs::read(&path).map_err(|_| ApiError::with(error::FILE_DOESNT_EXIST, &[]))?;
            Ok(StoredFile {
                path,
                bytes: bytes.into(),
                version: file.version,
                extension: file.file_ext,
                width: file.width,
                height: file.height,
            })
        })
        .await
}

/// Builds a file reply whose content type is sniffed from the bytes.
fn file_reply(bytes: bytes::Bytes, max_age: u32, download_name: Option<String>) -> Output {
    let content_type = image::guess_format(&bytes)
        .ok()
        .map_or("application/octet-stream", |format| format.to_mime_type())
        .to_string();
    Output::File(FileReply {
        bytes,
        content_type,
        max_age,
        download_name,
    })
}

/// 100 days without a KS; with one, until the KS expires (at least 1 s).
fn serve_max_age(context: &Context<'_>) -> u32 {
    match &context.session {
        None => MAX_SERVE_AGE as u32,
        Some(session) => (session.ks.expiry - unix_now()).clamp(1, MAX_SERVE_AGE) as u32,
    }
}

/// `getUrl(id, storageId, thumbParams)`: the download URL of the asset's file,
/// with a KS when the entry needs one.
pub async fn get_url(context: &Context<'_>) -> Result<Output, ApiError> {
    let id = context.params().required_text("id")?.to_string();
    let asset = load_asset(context, &id).await?;
    let (entry, partner) = load_entry_and_partner(context, &asset.entry_id)
        .await?
        .ok_or_else(|| asset_not_found(&id))?;
    if asset.status != asset_status::READY {
        return Err(ApiError::with(error::THUMB_ASSET_IS_NOT_READY, &[]));
    }
    check_entry_access(context, &entry, &partner, None).await?;

    let mut url = format!(
        "{}/api_v3/index.php/service/thumbAsset/action/serve/thumbAssetId/{}",
        context.public_base_url(),
        asset.id
    );
    if asset.version > 1 {
        url.push_str(&format!("/v/{}", asset.version));
    }
    if entry.access_control_id.is_some() {
        url.push_str(&format!("/ks/{}", download_ks(&partner, &entry, &asset)));
    }
    Ok(Output::Value(Value::Text(url)))
}

/// Creates a user KS that allows downloading one asset. It expires 24 h from now,
/// rounded up to five minutes, and uses the URL-safe base64 alphabet.
fn download_ks(partner: &Partner, entry: &Entry, asset: &ThumbAsset) -> String {
    let now = unix_now();
    let expiry = (now + URL_KS_LIFETIME + 299) / 300 * 300;
    let privileges = format!(
        "download:{entry},disableentitlementforentry:{entry},sview:{entry},downloadasset:{asset}",
        entry = entry.id,
        asset = asset.id
    );
    let request = NewKs {
        partner_id: partner.id,
        session_type: SessionType::User,
        user_id: "",
        privileges: &privileges,
        expiry,
        master_partner_id: None,
        additional_data: None,
    };
    create_ks(
        KsVersion::from_setting(partner.settings.ks_version),
        &partner.admin_secret,
        &request,
    )
    .replace('+', "-")
    .replace('/', "_")
}

/// Returns the remote-storage directory, or `STORAGE_PROFILE_ID_NOT_FOUND` when
/// none is configured or the request names another profile id.
fn remote_storage(services: &Services, storage_id: i64) -> Result<PathBuf, ApiError> {
    let configured = services.config.api.remote_storage_dir.clone();
    match configured {
        Some(dir) if storage_id == REMOTE_STORAGE_ID => Ok(dir),
        Some(_) => Err(ApiError::with(
            error::STORAGE_PROFILE_ID_NOT_FOUND,
            &[&storage_id.to_string()],
        )),
        None => {
            tracing::info!(
                "export rejected: no remote storage directory is configured (--remote-storage-dir)"
            );
            Err(ApiError::with(
                error::STORAGE_PROFILE_ID_NOT_FOUND,
                &[&storage_id.to_string()],
            ))
        }
    }
}

/// Path of an asset's current file inside the remote-storage directory.
fn remote_file(root: &Path, asset: &ThumbAsset) -> PathBuf {
    let extension = asset.file_ext.as_deref().unwrap_or("jpg");
    root.join(asset.partner_id.to_string())
        .join(&asset.entry_id)
        .join(format!("{}_{}.{extension}", asset.id, asset.version))
}

/// `export(assetId, storageProfileId)`: copies the asset's file into the remote
/// storage directory. The reply is a `KalturaFlavorAsset`, the type the clients declare.
pub async fn export(context: &Context<'_>) -> Result<Output, ApiError> {
    let params = context.params();
    let id = params.required_text("assetId")?.to_string();
    let storage_id = params.required_int("storageProfileId")?;
    let invalid = || ApiError::with(error::INVALID_FLAVOR_ASSET_ID, &[&id]);
    let asset = load_asset(context, &id).await.map_err(|_| invalid())?;
    let root = remote_storage(context.services, storage_id)?;
    if asset.status != asset_status::READY {
        return Err(ApiError::with(
            error::STORAGE_PROFILE_RULES_NOT_FULFILLED,
            &[&storage_id.to_string()],
        ));
    }

    let exported = asset.clone();
    context
        .blocking(move |services| {
            let key = exported.blob_key.clone().unwrap_or_default();
            let source = services.blobs.local_path(&key)?;
            let target = remote_file(&root, &exported);
            copy_durably(&source, &target).map_err(|io| {
                tracing::error!(error = %io, target = %target.display(), "export failed");
                ApiError::with(error::INTERNAL_SERVERL_ERROR, &[])
            })?;
            tracing::info!(asset_id = %exported.id, target = %target.display(), "asset exported");
            Ok(())
        })
        .await?;
    Ok(flavor_asset_object(&asset).into())
}

/// Copies through a temporary name so a crash never leaves a partial file.
fn copy_durably(source: &Path, target: &Path) -> std::io::Result<()> {
    let directory = target.parent().expect("export paths have a parent");
    std::fs::create_dir_all(directory)?;
    let staged = target.with_extension("partial");
    std::fs::copy(source, &staged)?;
    std::fs::File::open(&staged)?.sync_all()?;
    std::fs::rename(&staged, target)
}

/// Writes a thumbnail asset as the `KalturaFlavorAsset` that the clients expect
/// back from export.
fn flavor_asset_object(asset: &ThumbAsset) -> Object {
    let thumb = objects::thumb_asset(asset);
    let mut object = Object::new("KalturaFlavorAsset");
    for (name, value) in thumb.fields {
        let name = if name == "thumbParamsId" {
            "flavorParamsId"
        } else {
            name
        };
        object.fields.push((name, value));
    }
    object
}

/// `getRemotePaths(id)`: the asset's file in the remote-storage directory, when
/// it was exported.
pub async fn get_remote_paths(context: &Context<'_>) -> Result<Output, ApiError> {
    let id = context.params().required_text("id")?.to_string();
    let asset = load_asset(context, &id).await?;
    if asset.status != asset_status::READY {
        return Err(ApiError::with(error::THUMB_ASSET_IS_NOT_READY, &[]));
    }
    let root = remote_storage(context.services, REMOTE_STORAGE_ID)?;
    let path = remote_file(&root, &asset);
    let mut items = Vec::new();
    if path.is_file() {
        items.push(
            Object::new("KalturaRemotePath")
                .with("storageProfileId", REMOTE_STORAGE_ID)
                .with("uri", format!("file://{}", path.display())),
        );
    }
    let total = items.len() as u64;
    Ok(objects::list_response("KalturaRemotePathListResponse", items, total).into())
}
