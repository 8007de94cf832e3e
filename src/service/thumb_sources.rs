//! Thumbnail assets as sources of the URL API: an entry's default thumbnail (of
//! the current or a requested `version`), the template size of
//! `flavor_params_id`, upload-token previews and the `nearest_aspect_ratio` pick.

use std::path::PathBuf;

use super::Services;
use crate::frame::Size;
use crate::plan::{CropType, ThumbnailRequest};
use crate::source::{self, MediaInfo, MediaType};
use crate::store::{Entry, StoreError, ThumbFile, asset_status, upload_status};

/// Asset facts loaded with the entry for one URL request.
#[derive(Clone, Debug, Default)]
pub struct AssetFacts {
    /// File of the entry's default thumbnail, at the requested version.
    pub default_file: Option<ThumbFile>,
    /// False when `version` names a thumbnail version the entry never had.
    pub version_found: bool,
    /// Current files of the entry's READY assets (for `nearest_aspect_ratio`).
    pub ready_files: Vec<ThumbFile>,
    /// Width and height of the template that `flavor_params_id` names.
    pub template_size: Option<(u32, u32)>,
    /// The upload token's file and its facts, for `upload_token_id` previews.
    pub upload: Option<(PathBuf, MediaInfo)>,
}

/// Loads the asset facts a request needs. Runs on a blocking thread.
pub fn load_asset_facts(
    services: &Services,
    entry: &Entry,
    request: &ThumbnailRequest,
) -> Result<AssetFacts, StoreError> {
    let mut facts = AssetFacts {
        version_found: request.version == 0,
        ..AssetFacts::default()
    };
    let uses_thumbnails = entry.media_type != MediaType::Image;

    if uses_thumbnails {
        let details = &entry.details;
        let requested = if request.version == 0 {
            details
                .default_thumb_asset_id
                .clone()
                .map(|asset_id| (asset_id, None))
        } else {
            details
                .thumb_history
                .iter()
                .find(|item| item.version == request.version)
                .map(|item| {
                    (
                        item.asset_id.clone(),
                        Some(item.file_version).filter(|v| *v > 0),
                    )
                })
        };
        if let Some((asset_id, file_version)) = requested
            && let Some(asset) = services.api_store.thumb_asset(&asset_id)?
            && asset.status == asset_status::READY
        {
            let version = file_version.unwrap_or(asset.version);
            facts.default_file = services.api_store.thumb_file(&asset.id, version)?;
            facts.version_found = facts.version_found || facts.default_file.is_some();
        }
    } else {
        facts.version_found = request.version == 0 || request.version == entry.version;
    }

    if request.nearest_aspect_ratio {
        for asset in services.api_store.entry_thumb_assets(&entry.id)? {
            if asset.status != asset_status::READY {
                continue;
            }
            if let Some(file) = services.api_store.thumb_file(&asset.id, asset.version)? {
                facts.ready_files.push(file);
            }
        }
    }

    if request.size_is_default
        && let Some(id) = request
            .flavor_params_id
            .as_deref()
            .and_then(|id| id.parse::<i64>().ok())
        && let Some(params) = services.api_store.thumb_params(id)?
        && (params.partner_id == entry.partner_id || params.partner_id == 0)
    {
        let width = params.settings.width.unwrap_or(0).clamp(0, 10_000) as u32;
        let height = params.settings.height.unwrap_or(0).clamp(0, 10_000) as u32;
        facts.template_size = Some((width, height));
    }

    if let Some(token_id) = &request.upload_token_id
        && let Some(token) = services.api_store.upload_token(token_id)?
        && token.partner_id == entry.partner_id
        && token.status == upload_status::FULL_UPLOAD
    {
        let path = super::upload_file_path(&services.data_root, &token.id);
        let limits = services.config.limits.source_limits();
        if let Ok(info) = source::probe_file(&path, &limits) {
            facts.upload = Some((path, info));
        }
    }
    Ok(facts)
}

/// A still picture candidate for `nearest_aspect_ratio`.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub path: PathBuf,
    pub size: Size,
    pub is_default: bool,
}

/// Picks the candidate whose aspect ratio is closest to the request's box. On equal
/// differences a width equal to the box width wins, else the larger width, and on
/// equal widths the default image. A later candidate must strictly win.
pub fn nearest_candidate(width: u32, height: u32, candidates: &[Candidate]) -> Option<&Candidate> {
    let aspect = |w: u32, h: u32| {
        if h == 0 {
            0.0
        } else {
            f64::from(w) / f64::from(h)
        }
    };
    let box_aspect = aspect(width, height);
    let mut best: Option<&Candidate> = None;
    for candidate in candidates {
        let Some(current) = best else {
            best = Some(candidate);
            continue;
        };
        let delta = (box_aspect - aspect(candidate.size.width, candidate.size.height)).abs();
        let best_delta = (box_aspect - aspect(current.size.width, current.size.height)).abs();
        let wins = if delta != best_delta {
            delta < best_delta
        } else if candidate.size.width != current.size.width {
            if current.size.width == width {
                false
            } else {
                candidate.size.width == width || candidate.size.width > current.size.width
            }
        } else {
            candidate.is_default && !current.is_default
        };
        if wins {
            best = Some(candidate);
        }
    }
    best
}

/// Turns the request into the reference's cover-and-crop (type 6) on a picked
/// candidate of `size`: crop the box size, after scaling the candidate to cover it.
pub fn apply_nearest(request: &mut ThumbnailRequest, size: Size) {
    let (width, height) = (f64::from(request.width), f64::from(request.height));
    let (candidate_w, candidate_h) = (f64::from(size.width.max(1)), f64::from(size.height.max(1)));
    let round3 = |value: f64| (value * 1000.0).round() / 1000.0;
    let factor = round3(width / candidate_w).max(round3(height / candidate_h));

    request.src_w = width;
    request.src_h = height;
    request.width = (candidate_w * factor).round().clamp(0.0, 10_000.0) as u32;
    request.height = (candidate_h * factor).round().clamp(0.0, 10_000.0) as u32;
    request.crop_type = CropType::CropAfterResize;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(width: u32, height: u32, is_default: bool) -> Candidate {
        Candidate {
            path: PathBuf::from(format!("{width}x{height}")),
            size: Size::new(width, height),
            is_default,
        }
    }

    #[test]
    fn closest_aspect_wins() {
        let list = [
            candidate(400, 400, true),
            candidate(1600, 900, false),
            candidate(300, 400, false),
        ];
        assert_eq!(nearest_candidate(640, 360, &list), Some(&list[1]));
        assert_eq!(nearest_candidate(300, 400, &list), Some(&list[2]));
    }

    #[test]
    fn ties_prefer_exact_width_then_larger_then_default() {
        let list = [candidate(320, 180, false), candidate(640, 360, false)];
        assert_eq!(nearest_candidate(320, 180, &list), Some(&list[0]));
        assert_eq!(nearest_candidate(160, 90, &list), Some(&list[1]));
        let same = [candidate(640, 360, false), candidate(640, 360, true)];
        assert_eq!(nearest_candidate(160, 90, &same), Some(&same[1]));
    }

    #[test]
    fn cover_scaling_sets_type_six() {
        let mut request = ThumbnailRequest::new(1, "e");
        request.width = 300;
        request.height = 100;
        apply_nearest(&mut request, Size::new(600, 400));
        assert_eq!(request.crop_type, CropType::CropAfterResize);
        assert_eq!((request.src_w, request.src_h), (300.0, 100.0));
        assert_eq!((request.width, request.height), (300, 200));
    }
}
