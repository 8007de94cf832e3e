//! Rendering with a thumbnail template (`KalturaThumbParams`) instead of URL
//! parameters: asset generation from video frames, and `thumbAsset.serve` with
//! on-the-fly resizing.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

use super::render_job::{RenderJob, SourceMedia, encode_options};
use super::thumbnail::{DEFAULT_THUMB_OFFSET, render_gated, render_queued};
use super::{Services, ThumbnailError};
use crate::frame::{Orientation, Size};
use crate::plan::{self, CropType, Gravity, OutputFormat, SourceFacts, ThumbnailRequest};
use crate::store::{Entry, Partner, ThumbParamsSettings};

/// Source of a template's picture.
#[derive(Clone, Debug)]
pub enum TemplateSource {
    /// A frame of a video file.
    Video {
        path: PathBuf,
        /// Displayed size (rotation applied).
        size: Size,
        orientation: Orientation,
        duration: f64,
    },
    /// A still image of this displayed size.
    Image { path: PathBuf, size: Size },
}

/// An encoded picture made from a template.
#[derive(Clone, Debug)]
pub struct TemplateRender {
    pub bytes: Bytes,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
}

/// Behaviour of a render at a full concurrency gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A request in front of a client: a full gate rejects it (TOO_MANY_PROCESSES).
    Reject,
    /// Background work: wait for a slot.
    Wait,
}

/// Source and defaults of one template render.
#[derive(Clone, Debug)]
pub struct TemplateJob {
    pub source: TemplateSource,
    pub settings: ThumbParamsSettings,
    /// Capture second used when the template sets neither `videoOffset` nor
    /// `videoOffsetInPercentage`.
    pub default_offset: f64,
}

impl TemplateJob {
    /// Builds a job on an entry's media, with the partner's default capture second.
    pub fn for_entry(
        services: &Services,
        entry: &Entry,
        partner: &Partner,
        settings: ThumbParamsSettings,
    ) -> Result<Self, ThumbnailError> {
        let path = services
            .blobs
            .local_path(&entry.blob_key)
            .map_err(|_| ThumbnailError::MissingThumbnail("the stored media is missing"))?;
        let size = entry.displayed_size();
        let source = match entry.media_type {
            crate::source::MediaType::Video => TemplateSource::Video {
                path,
                size,
                orientation: entry.orientation,
                duration: entry.duration,
            },
            _ => TemplateSource::Image { path, size },
        };
        Ok(Self {
            source,
            settings,
            default_offset: partner
                .settings
                .thumb_offset
                .unwrap_or(DEFAULT_THUMB_OFFSET),
        })
    }
}

/// Renders and encodes a template job.
pub async fn render_template(
    services: &Arc<Services>,
    job: TemplateJob,
    partner: &Partner,
    admission: Admission,
) -> Result<TemplateRender, ThumbnailError> {
    let settings = &job.settings;
    let (facts, media) = match &job.source {
        TemplateSource::Video {
            path,
            size,
            orientation,
            duration,
        } => (
            SourceFacts::Video {
                size: *size,
                duration: *duration,
            },
            SourceMedia::Video {
                path: path.clone(),
                orientation: *orientation,
            },
        ),
        TemplateSource::Image { path, size } => (
            SourceFacts::Still { size: *size },
            SourceMedia::Image {
                path: path.clone(),
                animate: false,
            },
        ),
    };

    let request = template_request(settings, &facts, job.default_offset);
    let plan_settings = services.config.limits.plan_settings(job.default_offset);
    let plan = plan::plan_thumbnail(&request, &facts, &plan_settings)
        .map_err(|error| ThumbnailError::BadQuery(error.to_string()))?;
    let (width, height) = (plan.canvas.width, plan.canvas.height);

    let format = template_format(settings);
    let render = RenderJob {
        plan,
        source: media,
        encode: encode_options(
            format,
            request.quality,
            partner.settings.default_quality,
            request.density,
            partner.settings.default_density,
        ),
        strip: settings.strip_profiles.unwrap_or(false),
        limits: services.config.limits.source_limits(),
    };
    let rendered = match admission {
        Admission::Reject => render_gated(services.clone(), render).await?,
        Admission::Wait => render_queued(services.clone(), render).await?,
    };
    Ok(TemplateRender {
        bytes: rendered.bytes.clone(),
        width,
        height,
        format,
    })
}

/// Returns the output format a template names, `jpg` for unset or non-image formats.
pub fn template_format(settings: &ThumbParamsSettings) -> OutputFormat {
    settings
        .format
        .as_deref()
        .and_then(OutputFormat::parse)
        .filter(|format| *format != OutputFormat::Vtt)
        .unwrap_or(OutputFormat::Jpeg)
}

/// Maps template settings onto the URL request model. Unset values take the
/// template path's defaults: quality 100, type 1, black background, size 0
/// (unconstrained).
pub fn template_request(
    settings: &ThumbParamsSettings,
    facts: &SourceFacts,
    default_offset: f64,
) -> ThumbnailRequest {
    let mut request = ThumbnailRequest::new(0, "");
    let crop_type = settings.crop_type.unwrap_or(1);
    request.crop_type = CropType::from_number(crop_type.clamp(1, 6));
    request.width = settings.width.unwrap_or(0).clamp(0, 10_000) as u32;
    request.height = settings.height.unwrap_or(0).clamp(0, 10_000) as u32;
    request.quality = settings.quality.unwrap_or(100).clamp(1, 100) as u8;
    request.density = settings.density.unwrap_or(0).max(0) as f64;
    request.strip = settings.strip_profiles;
    request.bgcolor = settings
        .background_color
        .as_deref()
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .unwrap_or(0)
        & 0xff_ffff;

    let crop = [
        settings.crop_x.unwrap_or(0),
        settings.crop_y.unwrap_or(0),
        settings.crop_width.unwrap_or(0),
        settings.crop_height.unwrap_or(0),
    ];
    if request.crop_type == CropType::CropAfterResize {
        request.src_w = crop[2].max(0) as f64;
        request.src_h = crop[3].max(0) as f64;
        request.gravity = Some(Gravity {
            x: crop[0].signum() as i8,
            y: crop[1].signum() as i8,
        });
    } else {
        request.src_x = crop[0].max(0) as f64;
        request.src_y = crop[1].max(0) as f64;
        request.src_w = crop[2].max(0) as f64;
        request.src_h = crop[3].max(0) as f64;
    }
    apply_scale(settings, facts.size(), &mut request);

    if let SourceFacts::Video { duration, .. } = facts {
        request.vid_sec = capture_second(settings, *duration, default_offset);
    }
    request
}

/// `scaleWidth`/`scaleHeight` on a template without a target size: the output is
/// the (cropped) source scaled by those factors.
fn apply_scale(settings: &ThumbParamsSettings, source: Size, request: &mut ThumbnailRequest) {
    let scale_x = settings.scale_width.filter(|s| *s > 0.0);
    let scale_y = settings.scale_height.filter(|s| *s > 0.0);
    if (scale_x.is_none() && scale_y.is_none()) || request.width != 0 || request.height != 0 {
        return;
    }
    let base_width = if request.src_w > 0.0 {
        request.src_w
    } else {
        f64::from(source.width)
    };
    let base_height = if request.src_h > 0.0 {
        request.src_h
    } else {
        f64::from(source.height)
    };
    request.width = (base_width * scale_x.unwrap_or(1.0))
        .round()
        .clamp(1.0, 10_000.0) as u32;
    request.height = (base_height * scale_y.unwrap_or(1.0))
        .round()
        .clamp(1.0, 10_000.0) as u32;
    request.crop_type = CropType::ResizeWithForce;
}

/// Returns the second to capture: `videoOffset` capped at the duration, else the
/// percentage of the duration, else `default_offset`, and never past the end.
pub fn capture_second(settings: &ThumbParamsSettings, duration: f64, default_offset: f64) -> f64 {
    let offset = settings.video_offset.filter(|offset| *offset > 0.0);
    let second = match (offset, settings.video_offset_in_percentage) {
        (Some(offset), _) => offset,
        (None, Some(percent)) => (duration * percent as f64 / 100.0).floor(),
        (None, None) => default_offset,
    };
    second.clamp(0.0, duration.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(duration: f64) -> SourceFacts {
        SourceFacts::Video {
            size: Size::new(1280, 720),
            duration,
        }
    }

    #[test]
    fn unset_fields_take_template_defaults() {
        let request = template_request(&ThumbParamsSettings::default(), &video(10.0), 3.0);
        assert_eq!(request.quality, 100);
        assert_eq!(request.crop_type, CropType::Resize);
        assert_eq!(request.bgcolor, 0);
        assert_eq!((request.width, request.height), (0, 0));
        assert_eq!(request.vid_sec, 3.0);
    }

    #[test]
    fn offset_is_capped_and_percentage_applies() {
        let mut settings = ThumbParamsSettings {
            video_offset: Some(30.0),
            ..Default::default()
        };
        assert_eq!(capture_second(&settings, 10.0, 3.0), 10.0);
        settings.video_offset = None;
        settings.video_offset_in_percentage = Some(50);
        assert_eq!(capture_second(&settings, 9.0, 3.0), 4.0);
        settings.video_offset = Some(0.0);
        assert_eq!(capture_second(&settings, 9.0, 3.0), 4.0);
    }

    #[test]
    fn crop_type_six_places_by_sign() {
        let settings = ThumbParamsSettings {
            crop_type: Some(6),
            width: Some(400),
            height: Some(300),
            crop_x: Some(-1),
            crop_y: Some(1),
            crop_width: Some(200),
            crop_height: Some(100),
            ..Default::default()
        };
        let request = template_request(&settings, &video(5.0), 3.0);
        assert_eq!(request.crop_type, CropType::CropAfterResize);
        assert_eq!(request.gravity, Some(Gravity { x: -1, y: 1 }));
        assert_eq!((request.src_w, request.src_h), (200.0, 100.0));
    }

    #[test]
    fn scale_sets_the_size_when_none_is_given() {
        let settings = ThumbParamsSettings {
            scale_width: Some(0.5),
            scale_height: Some(0.25),
            ..Default::default()
        };
        let request = template_request(&settings, &video(5.0), 3.0);
        assert_eq!((request.width, request.height), (640, 180));
        assert_eq!(request.crop_type, CropType::ResizeWithForce);
    }
}
