//! The blocking half of a thumbnail: decode the sources, render the plan, encode.
//!
//! Runs on a blocking thread (or directly, for `thumbd render`), never on the reactor.

use std::path::PathBuf;
use std::time::Instant;

use crate::cache::Rendered;
use crate::encode::{self, EncodeError, EncodeOptions};
use crate::frame::{Orientation, Picture, RgbaImage};
use crate::plan::{RenderPlan, SourceFacts};
use crate::render::{Backend, RenderError};
use crate::source::{self, MediaInfo, MediaType, SourceError, SourceLimits};

/// The origin of a job's source pictures.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceMedia {
    /// An image file; `animate` keeps every frame of an animated GIF.
    Image { path: PathBuf, animate: bool },
    /// A video file whose frames are turned upright by `orientation`.
    Video {
        path: PathBuf,
        orientation: Orientation,
    },
    /// The built-in audio placeholder.
    AudioPlaceholder,
}

impl SourceMedia {
    /// Returns the file the job reads, if any (the audio placeholder has none).
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Image { path, .. } | Self::Video { path, .. } => Some(path),
            Self::AudioPlaceholder => None,
        }
    }

    /// Planning facts and source for a probed file; audio becomes the placeholder.
    pub fn from_info(path: PathBuf, info: &MediaInfo, animate: bool) -> (SourceFacts, Self) {
        match info.media_type {
            MediaType::Image => (
                SourceFacts::Still {
                    size: info.displayed_size(),
                },
                Self::Image { path, animate },
            ),
            MediaType::Video => (
                SourceFacts::Video {
                    size: info.displayed_size(),
                    duration: info.duration,
                },
                Self::Video {
                    path,
                    orientation: info.orientation,
                },
            ),
            MediaType::Audio => (
                SourceFacts::Still {
                    size: source::placeholder::AUDIO_PLACEHOLDER_SIZE,
                },
                Self::AudioPlaceholder,
            ),
        }
    }
}

/// Failures of a render job; the service reports all of them as IMAGE_RESIZE_FAILED.
#[derive(Debug, thiserror::Error)]
pub enum RenderJobError {
    #[error("cannot decode the source")]
    Source(#[from] SourceError),
    #[error("cannot render the plan")]
    Render(#[from] RenderError),
    #[error("cannot encode the output")]
    Encode(#[from] EncodeError),
}

/// Everything needed to produce one output file.
#[derive(Clone, Debug)]
pub struct RenderJob {
    pub plan: RenderPlan,
    pub source: SourceMedia,
    pub encode: EncodeOptions,
    /// When false, the source's ICC profile is copied into the output.
    pub strip: bool,
    pub limits: SourceLimits,
}

/// Time spent in each stage, for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default)]
pub struct StageTimes {
    pub decode: std::time::Duration,
    pub render: std::time::Duration,
    pub encode: std::time::Duration,
}

impl RenderJob {
    /// Decodes, renders and encodes.
    pub fn run(mut self, backend: &dyn Backend) -> Result<(Rendered, StageTimes), RenderJobError> {
        let mut times = StageTimes::default();
        let started = Instant::now();
        let (frames, icc_profile) = self.decode_sources()?;
        times.decode = started.elapsed();

        if !self.strip {
            self.encode.icc_profile = icc_profile;
        }
        let started = Instant::now();
        let animated = matches!(&frames, DecodedSources::Animation(frames) if frames.len() > 1);
        let bytes = match frames {
            DecodedSources::Animation(frames) if animated => {
                let mut rendered = Vec::with_capacity(frames.len());
                for (image, delay) in frames {
                    rendered.push((backend.render(&self.plan, vec![image])?, delay));
                }
                times.render = started.elapsed();
                let started = Instant::now();
                let bytes = encode::encode_animation(&rendered)?;
                times.encode = started.elapsed();
                bytes
            }
            DecodedSources::Animation(mut frames) => {
                let (image, _) = frames.remove(0);
                self.render_still(backend, vec![Picture::Rgba(image)], &mut times)?
            }
            DecodedSources::Stills(images) => self.render_still(backend, images, &mut times)?,
        };
        Ok((
            Rendered::new(bytes, self.encode.format.content_type()),
            times,
        ))
    }

    fn render_still(
        &self,
        backend: &dyn Backend,
        images: Vec<Picture>,
        times: &mut StageTimes,
    ) -> Result<bytes::Bytes, RenderJobError> {
        let started = Instant::now();
        let canvas = {
            let _span = tracing::debug_span!(
                "render",
                backend = backend.name(),
                width = self.plan.canvas.width,
                height = self.plan.canvas.height
            )
            .entered();
            backend.render_pictures(&self.plan, images)?
        };
        times.render = started.elapsed();

        let started = Instant::now();
        let bytes = {
            let _span = tracing::debug_span!("encode", format = ?self.encode.format).entered();
            encode::encode(&canvas, &self.encode)?
        };
        times.encode = started.elapsed();
        Ok(bytes)
    }

    /// Decodes every planned source and fits the plan to the decoded sizes.
    fn decode_sources(&mut self) -> Result<(DecodedSources, Option<Vec<u8>>), RenderJobError> {
        let _span = tracing::debug_span!("decode", sources = self.plan.sources.len()).entered();
        match &self.source {
            SourceMedia::Image { path, animate } => {
                let bytes = bytes::Bytes::from(std::fs::read(path).map_err(SourceError::Io)?);
                let min_size = self.plan.min_decode_size(0);
                let decoded = source::image::decode(&bytes, min_size, *animate, &self.limits)?;
                let first = decoded.frames[0].image.size();
                self.plan.adapt_source(0, first);
                let frames = decoded
                    .frames
                    .into_iter()
                    .map(|frame| (frame.image, frame.delay))
                    .collect();
                Ok((DecodedSources::Animation(frames), decoded.icc_profile))
            }
            SourceMedia::Video { path, orientation } => {
                let images = capture_video(path, &self.plan, *orientation, &self.limits)?;
                for (index, image) in images.iter().enumerate() {
                    self.plan.adapt_source(index, image.size());
                }
                Ok((DecodedSources::Stills(images), None))
            }
            SourceMedia::AudioPlaceholder => {
                let image = source::placeholder::audio_placeholder();
                self.plan.adapt_source(0, image.size());
                Ok((DecodedSources::Stills(vec![Picture::Rgba(image)]), None))
            }
        }
    }
}

/// Decoded pictures: an image's frames with their delays, or one still per source.
enum DecodedSources {
    Animation(Vec<(RgbaImage, std::time::Duration)>),
    Stills(Vec<Picture>),
}

#[cfg(feature = "video")]
fn capture_video(
    path: &std::path::Path,
    plan: &RenderPlan,
    orientation: Orientation,
    limits: &SourceLimits,
) -> Result<Vec<Picture>, SourceError> {
    let times: Vec<f64> = plan.sources.iter().map(|s| s.time.unwrap_or(0.0)).collect();
    source::video::capture(path, &times, orientation, limits)
}

#[cfg(not(feature = "video"))]
fn capture_video(
    _path: &std::path::Path,
    _plan: &RenderPlan,
    _orientation: Orientation,
    _limits: &SourceLimits,
) -> Result<Vec<Picture>, SourceError> {
    Err(SourceError::VideoUnsupported)
}

/// Encoding settings from the request and the partner's defaults.
pub fn encode_options(
    format: crate::plan::OutputFormat,
    request_quality: u8,
    default_quality: Option<u8>,
    request_density: f64,
    default_density: Option<f64>,
) -> EncodeOptions {
    let quality = if request_quality > 0 {
        request_quality
    } else {
        default_quality.filter(|q| *q > 0).unwrap_or(85)
    };
    let density = if request_density > 0.0 {
        Some(request_density)
    } else {
        default_density.filter(|d| *d > 0.0)
    };
    EncodeOptions {
        format,
        quality,
        density,
        icc_profile: None,
    }
}
