//! Serving one dynamic thumbnail: resolve the entry, check access, plan, then render
//! through the result cache and the concurrency gate.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tracing::Instrument;

use super::render_job::{RenderJob, SourceMedia, encode_options};
use super::{Services, ThumbnailError, unix_now, vtt};
use crate::auth::{AccessRequest, check_access};
use crate::cache::{CacheOutcome, Rendered};
use crate::frame::Size;
use crate::plan::{self, OutputFormat, SliceWindow, SourceFacts, ThumbnailRequest};
use crate::source::MediaType;
use crate::source::placeholder::AUDIO_PLACEHOLDER_SIZE;
use crate::store::{AccessRules, Entry, EntryStatus, Partner};

use super::thumb_sources::{
    AssetFacts, Candidate, apply_nearest, load_asset_facts, nearest_candidate,
};

/// Partner default for the second captured from a video when none is requested.
pub const DEFAULT_THUMB_OFFSET: f64 = 3.0;
/// max-age for ready entries.
const READY_MAX_AGE: u32 = 3600;
/// max-age for entries that are not ready yet.
const NOT_READY_MAX_AGE: u32 = 60;

/// A thumbnail request as the HTTP layer hands it over.
#[derive(Clone, Debug)]
pub struct ThumbnailCall {
    pub request: ThumbnailRequest,
    /// The `Referer` header, used when the URL has no `referrer` parameter.
    pub referer_header: Option<String>,
    /// The request path, for WebVTT cues that point at the sprite.
    pub path: String,
}

/// A rendered thumbnail with its caching facts.
#[derive(Clone, Debug)]
pub struct ThumbnailResponse {
    pub rendered: Arc<Rendered>,
    /// Seconds clients and CDNs may cache it; 0 means not at all.
    pub max_age: u32,
    pub last_modified: SystemTime,
    pub file_name: Option<String>,
    pub cache_outcome: CacheOutcome,
}

/// Everything read from the store for one request.
struct Resolved {
    entry: Entry,
    partner: Partner,
    rules: Option<AccessRules>,
    /// The image entry shown for an audio entry, when the partner configured one.
    audio_image: Option<Entry>,
    /// Thumbnail assets, templates and uploads the request refers to.
    assets: AssetFacts,
}

/// max-age of upload-token previews (100 days).
const UPLOAD_PREVIEW_MAX_AGE: u32 = 8_640_000;

/// Serves one thumbnail request.
pub async fn serve_thumbnail(
    services: &Arc<Services>,
    call: ThumbnailCall,
) -> Result<ThumbnailResponse, ThumbnailError> {
    let resolved = resolve(services, &call.request).await?;
    let Resolved {
        entry,
        partner,
        rules,
        audio_image,
        assets,
    } = &resolved;

    check_entry(
        &call.request,
        entry,
        partner,
        rules.as_ref(),
        call.referer_header.as_deref(),
        assets,
    )?;
    let mut request = call.request.clone();
    if let Some((width, height)) = assets.template_size {
        request.width = width;
        request.height = height;
    }
    let (facts, source) = choose_source(
        services,
        &mut request,
        entry,
        partner,
        audio_image.as_ref(),
        assets,
    )?;
    let request = &request;
    let settings = services.config.limits.plan_settings(
        partner
            .settings
            .thumb_offset
            .unwrap_or(DEFAULT_THUMB_OFFSET),
    );
    let plan = plan::plan_thumbnail(request, &facts, &settings)
        .map_err(|error| ThumbnailError::BadQuery(error.to_string()))?;

    let max_age = if assets.upload.is_some() {
        UPLOAD_PREVIEW_MAX_AGE
    } else {
        // An audio entry without a default thumbnail shows the placeholder or the
        // partner's audio picture, which the Kaltura server caches for 60 s.
        let shows_template = entry.media_type == MediaType::Audio && assets.default_file.is_none();
        max_age(entry, partner, rules.as_ref(), shows_template)
    };
    let last_modified = UNIX_EPOCH + Duration::from_secs(entry.updated_at.max(0) as u64);
    let respond = |rendered, cache_outcome| ThumbnailResponse {
        rendered,
        max_age,
        last_modified,
        file_name: request.file_name.clone(),
        cache_outcome,
    };

    if request.format == Some(OutputFormat::Vtt) {
        let duration = match facts {
            SourceFacts::Video { duration, .. } => duration,
            SourceFacts::Still { .. } => 0.0,
        };
        let window = SliceWindow::from_request(request, duration)
            .ok_or_else(|| ThumbnailError::BadQuery("format vtt requires vid_slices".into()))?;
        let sprite = vtt::sprite_path(&call.path, "jpg");
        let text = vtt::storyboard(&sprite, &plan, &window);
        let rendered = Rendered::new(Bytes::from(text), OutputFormat::Vtt.content_type());
        return Ok(respond(Arc::new(rendered), CacheOutcome::Rendered));
    }

    let animate = matches!(source, SourceMedia::Image { animate: true, .. });
    let format = request.format.unwrap_or(if animate {
        OutputFormat::Gif
    } else {
        OutputFormat::Jpeg
    });
    let source = match source {
        SourceMedia::Image { path, .. } => SourceMedia::Image {
            path,
            animate: animate && format == OutputFormat::Gif && !request.is_sprite(),
        },
        other => other,
    };
    let job = RenderJob {
        plan,
        source,
        encode: encode_options(
            format,
            request.quality,
            partner.settings.default_quality,
            request.density,
            partner.settings.default_density,
        ),
        strip: request.strip.or(partner.settings.strip).unwrap_or(false),
        limits: services.config.limits.source_limits(),
    };

    let key = format!(
        "{}|v{}|u{}|t{}|{:?}|{:?}|{:?}|{}",
        entry.id,
        entry.version,
        entry.updated_at,
        entry.details.thumb_version,
        job.source.path(),
        job.encode,
        job.strip,
        request.render_key()
    );
    let (rendered, outcome) = services
        .cache
        .get_or_render(key, render_gated(services.clone(), job))
        .await
        .map_err(|shared| (*shared).clone())?;
    record_cache_outcome(services, outcome);
    Ok(respond(rendered, outcome))
}

/// Loads the entry, its partner and access rules on a blocking thread.
async fn resolve(
    services: &Arc<Services>,
    request: &ThumbnailRequest,
) -> Result<Resolved, ThumbnailError> {
    let lookup_services = services.clone();
    let store = services.store.clone();
    let entry_id = request.entry_id.clone();
    let path_partner = request.partner_id;
    let request = request.clone();

    let lookup = tokio::task::spawn_blocking(
        move || -> Result<Option<Resolved>, crate::store::StoreError> {
            let Some(entry) = store.entry(&entry_id)? else {
                return Ok(None);
            };
            if entry.partner_id != path_partner {
                return Ok(None);
            }
            let Some(partner) = store.partner(entry.partner_id)? else {
                return Ok(None);
            };
            let rules = match entry.access_control_id {
                Some(id) => store.access_rules(id)?,
                None => None,
            };
            let audio_image = match (&entry.media_type, &partner.settings.audio_thumb_entry_id) {
                (MediaType::Audio, Some(id)) => store
                    .entry(id)?
                    .filter(|e| e.partner_id == partner.id && e.media_type == MediaType::Image),
                _ => None,
            };
            let assets = load_asset_facts(&lookup_services, &entry, &request)?;
            Ok(Some(Resolved {
                entry,
                partner,
                rules,
                audio_image,
                assets,
            }))
        },
    );
    lookup
        .await
        .map_err(ThumbnailError::resize_failed)?
        .map_err(ThumbnailError::resize_failed)?
        .ok_or(ThumbnailError::EntryNotFound)
}

/// Partner state, entry status, access control, capture blocking, flavor and version.
fn check_entry(
    request: &ThumbnailRequest,
    entry: &Entry,
    partner: &Partner,
    rules: Option<&AccessRules>,
    referer_header: Option<&str>,
    assets: &AssetFacts,
) -> Result<(), ThumbnailError> {
    // Kaltura partner statuses: 1 active, 4 read-only; anything else is not served.
    if partner.status != 1 && partner.status != 4 {
        return Err(ThumbnailError::PartnerNotActive);
    }
    if let Some(rules) = rules {
        let access = AccessRequest {
            ks: request.ks.as_deref(),
            referrer: request.referrer.as_deref().or(referer_header),
            wants_capture: request.wants_capture(),
            now: unix_now(),
        };
        check_access(rules, partner, &access)?;
    }
    if entry.status.is_deleted_or_blocked() {
        return Err(ThumbnailError::EntryDeleted);
    }
    if partner.settings.block_capture && request.wants_capture() {
        return Err(ThumbnailError::CaptureBlocked);
    }
    if request
        .flavor_id
        .as_ref()
        .is_some_and(|id| *id != entry.flavor_id)
    {
        return Err(ThumbnailError::FlavorNotFound);
    }
    if !assets.version_found {
        return Err(ThumbnailError::MissingThumbnail("no such version"));
    }
    Ok(())
}

/// Picks the pictures to render from: an upload-token preview, the
/// `nearest_aspect_ratio` pick, the default thumbnail asset of a video or audio
/// entry (unless a frame is asked for), the image, video frames, or the audio
/// picture. May rewrite the request's geometry (nearest aspect ratio).
fn choose_source(
    services: &Services,
    request: &mut ThumbnailRequest,
    entry: &Entry,
    partner: &Partner,
    audio_image: Option<&Entry>,
    assets: &AssetFacts,
) -> Result<(SourceFacts, SourceMedia), ThumbnailError> {
    let path_of = |key: &str| {
        services
            .blobs
            .local_path(key)
            .map_err(|_| ThumbnailError::MissingThumbnail("the stored media is missing"))
    };
    let still = |path, size| {
        (
            SourceFacts::Still { size },
            SourceMedia::Image {
                path,
                animate: false,
            },
        )
    };
    let image = |entry: &Entry| -> Result<_, ThumbnailError> {
        let animate = partner.settings.animated_gif && entry.format == "gif";
        Ok((
            SourceFacts::Still {
                size: entry.displayed_size(),
            },
            SourceMedia::Image {
                path: path_of(&entry.blob_key)?,
                animate,
            },
        ))
    };
    let asset_size =
        |file: &crate::store::ThumbFile| Size::new(file.width as u32, file.height as u32);

    if let Some((path, info)) = &assets.upload {
        let size = info.orientation.displayed_size(info.stored_size);
        return Ok(match info.media_type {
            MediaType::Video => (
                SourceFacts::Video {
                    size,
                    duration: info.duration,
                },
                SourceMedia::Video {
                    path: path.clone(),
                    orientation: info.orientation,
                },
            ),
            _ => still(path.clone(), size),
        });
    }

    if request.nearest_aspect_ratio && !request.wants_capture() {
        let mut candidates = Vec::new();
        if entry.media_type == MediaType::Image && !entry.blob_key.is_empty() {
            candidates.push(Candidate {
                path: path_of(&entry.blob_key)?,
                size: entry.displayed_size(),
                is_default: true,
            });
        } else if let Some(file) = &assets.default_file {
            candidates.push(Candidate {
                path: path_of(&file.blob_key)?,
                size: asset_size(file),
                is_default: true,
            });
        }
        for file in &assets.ready_files {
            candidates.push(Candidate {
                path: path_of(&file.blob_key)?,
                size: asset_size(file),
                is_default: false,
            });
        }
        if let Some(pick) = nearest_candidate(request.width, request.height, &candidates) {
            let pick = pick.clone();
            apply_nearest(request, pick.size);
            return Ok(still(pick.path, pick.size));
        }
    }

    let uses_default_thumb = entry.media_type != MediaType::Image
        && (!request.wants_capture() || entry.media_type == MediaType::Audio);
    if uses_default_thumb && let Some(file) = &assets.default_file {
        return Ok(still(path_of(&file.blob_key)?, asset_size(file)));
    }
    if entry.blob_key.is_empty() {
        return Err(ThumbnailError::MissingThumbnail(
            "the entry has no content yet",
        ));
    }

    match entry.media_type {
        MediaType::Image => image(entry),
        MediaType::Video => Ok((
            SourceFacts::Video {
                size: entry.displayed_size(),
                duration: entry.duration,
            },
            SourceMedia::Video {
                path: path_of(&entry.blob_key)?,
                orientation: entry.orientation,
            },
        )),
        MediaType::Audio => match audio_image {
            Some(picture) => image(picture),
            None => Ok((
                SourceFacts::Still {
                    size: AUDIO_PLACEHOLDER_SIZE,
                },
                SourceMedia::AudioPlaceholder,
            )),
        },
    }
}

/// Runs a job under the concurrency gate and the render timeout; a full gate
/// rejects the request with TOO_MANY_PROCESSES.
pub(crate) async fn render_gated(
    services: Arc<Services>,
    job: RenderJob,
) -> Result<Arc<Rendered>, ThumbnailError> {
    let Ok(permit) = services.render_gate.clone().try_acquire_owned() else {
        services.metrics.rejected_renders.inc();
        return Err(ThumbnailError::TooManyProcesses);
    };
    render_with_permit(services, job, permit).await
}

/// Runs a job when the concurrency gate has room, waiting for it (background work).
pub(crate) async fn render_queued(
    services: Arc<Services>,
    job: RenderJob,
) -> Result<Arc<Rendered>, ThumbnailError> {
    let permit = services
        .render_gate
        .clone()
        .acquire_owned()
        .await
        .expect("the render gate is never closed");
    render_with_permit(services, job, permit).await
}

async fn render_with_permit(
    services: Arc<Services>,
    job: RenderJob,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<Arc<Rendered>, ThumbnailError> {
    let backend = services.backend.clone();
    let metrics = services.metrics.clone();
    metrics.renders_in_flight.inc();
    let span = tracing::debug_span!("render_job", backend = backend.name());
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let _entered = span.entered();
        job.run(backend.as_ref())
    });
    let result = tokio::time::timeout(services.config.render_timeout(), task)
        .instrument(tracing::Span::current())
        .await;
    services.metrics.renders_in_flight.dec();

    let (rendered, times) = match result {
        Err(_) => {
            return Err(ThumbnailError::resize_failed(RenderTimeout(
                services.config.render_timeout_secs,
            )));
        }
        Ok(Err(join_error)) => return Err(ThumbnailError::resize_failed(join_error)),
        Ok(Ok(Err(job_error))) => return Err(ThumbnailError::resize_failed(job_error)),
        Ok(Ok(Ok(done))) => done,
    };
    let total = times.decode + times.render + times.encode;
    metrics
        .render_seconds
        .get_or_create(&crate::metrics::BackendLabel {
            backend: services.backend.name().to_string(),
        })
        .observe(total.as_secs_f64());
    tracing::debug!(
        decode_ms = times.decode.as_millis() as u64,
        render_ms = times.render.as_millis() as u64,
        encode_ms = times.encode.as_millis() as u64,
        bytes = rendered.bytes.len(),
        "rendered"
    );
    Ok(Arc::new(rendered))
}

#[derive(Debug, thiserror::Error)]
#[error("render did not finish within {0} s")]
struct RenderTimeout(u64);

fn record_cache_outcome(services: &Services, outcome: CacheOutcome) {
    match outcome {
        CacheOutcome::Hit => services.metrics.cache_hits.inc(),
        CacheOutcome::Rendered => services.metrics.cache_misses.inc(),
        CacheOutcome::Coalesced => {
            services.metrics.cache_misses.inc();
            services.metrics.coalesced.inc()
        }
    };
}

/// Cache lifetime: none under access control, the partner's own age when set, 60 s
/// while the entry is not ready or shows a template picture, else one hour.
fn max_age(
    entry: &Entry,
    partner: &Partner,
    rules: Option<&AccessRules>,
    shows_template: bool,
) -> u32 {
    if rules.is_some_and(AccessRules::has_blocking_rule) {
        return 0;
    }
    if let Some(age) = partner.settings.cache_age.filter(|age| *age > 0) {
        return age;
    }
    if entry.status != EntryStatus::READY || shows_template {
        return NOT_READY_MAX_AGE;
    }
    READY_MAX_AGE
}
