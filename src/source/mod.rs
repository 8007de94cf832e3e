//! Source pixels for a plan: image decoding, video frame capture and placeholders.
//!
//! Also probes files at ingest, so that planning later needs no decoding.

pub mod image;
pub mod placeholder;
#[cfg(feature = "video")]
pub mod video;

use std::path::Path;

use crate::frame::{Orientation, Size};

/// Kaltura media types that thumbd stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaType {
    Video = 1,
    Image = 2,
    Audio = 5,
}

impl MediaType {
    pub fn from_number(value: i64) -> Option<Self> {
        match value {
            1 => Some(Self::Video),
            2 => Some(Self::Image),
            5 => Some(Self::Audio),
            _ => None,
        }
    }

    pub fn number(self) -> i64 {
        self as i64
    }
}

/// Facts about a media file that planning needs, read once at ingest.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaInfo {
    pub media_type: MediaType,
    /// Pixel size as stored in the file; zero for audio.
    pub stored_size: Size,
    /// EXIF orientation for images, display rotation for video.
    pub orientation: Orientation,
    /// Length in seconds; zero for images.
    pub duration: f64,
    /// Average frames per second; zero for images and audio.
    pub frame_rate: f64,
    /// Short container or codec name, such as "jpeg" or "mp4".
    pub format: String,
}

impl MediaInfo {
    /// Size once orientation or rotation is applied.
    pub fn displayed_size(&self) -> Size {
        self.orientation.displayed_size(self.stored_size)
    }
}

/// Limits checked before any pixel buffer is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceLimits {
    /// Largest picture, in pixels, counting every frame of an animation.
    pub max_pixels: u64,
    /// Largest source file in bytes.
    pub max_file_bytes: u64,
}

impl Default for SourceLimits {
    fn default() -> Self {
        Self {
            max_pixels: 100_000_000,
            max_file_bytes: 2 << 30,
        }
    }
}

impl SourceLimits {
    /// Limits that never trigger, for sources already checked.
    pub fn unbounded() -> Self {
        Self {
            max_pixels: u64::MAX,
            max_file_bytes: u64::MAX,
        }
    }

    /// Fails when `frames` pictures of `size` exceed the pixel limit.
    pub fn check_pixels(&self, size: Size, frames: u64) -> Result<(), SourceError> {
        let pixels = size.pixels().saturating_mul(frames);
        if pixels > self.max_pixels {
            return Err(SourceError::TooManyPixels {
                width: size.width,
                height: size.height,
                frames,
                max: self.max_pixels,
            });
        }
        Ok(())
    }

    pub fn check_file_size(&self, bytes: u64) -> Result<(), SourceError> {
        if bytes > self.max_file_bytes {
            return Err(SourceError::FileTooLarge {
                bytes,
                max: self.max_file_bytes,
            });
        }
        Ok(())
    }

    /// Converts these bounds into the image crate's own decoder limits.
    pub fn image_crate_limits(&self) -> ::image::Limits {
        let mut limits = ::image::Limits::default();
        limits.max_alloc = Some(self.max_pixels.saturating_mul(4).saturating_add(64 << 20));
        limits
    }
}

/// Failures while probing or decoding a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read source file")]
    Io(#[from] std::io::Error),
    #[error("file is not an image, video or audio format that thumbd reads")]
    UnsupportedFormat,
    #[error("file is not an image, video or audio format that thumbd reads (ffmpeg: {0})")]
    UnrecognisedMedia(String),
    #[error(
        "source of {width}x{height} pixels and {frames} frames exceeds the limit of {max} pixels"
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        frames: u64,
        max: u64,
    },
    #[error("source file of {bytes} bytes exceeds the limit of {max} bytes")]
    FileTooLarge { bytes: u64, max: u64 },
    #[error("jpeg decoding failed")]
    Jpeg(#[source] turbojpeg::Error),
    #[error("image decoding failed")]
    Image(#[source] ::image::ImageError),
    #[error("media decoding failed: {0}")]
    Media(String),
    #[error("source has no decodable picture")]
    NoFrames,
    #[error("this build has no video support (built without the `video` feature)")]
    VideoUnsupported,
}

/// Probes a file without decoding pixels: image header first, then FFmpeg for video
/// and audio.
pub fn probe_file(path: &Path, limits: &SourceLimits) -> Result<MediaInfo, SourceError> {
    let file_size = std::fs::metadata(path)?.len();
    limits.check_file_size(file_size)?;

    let mut head = vec![0u8; HEADER_PREFIX_BYTES];
    let head_len = read_head(path, &mut head)?;
    head.truncate(head_len);
    if image::guess_format(&head).is_some() {
        // Headers (with EXIF) sit at the start; a header pushed past the prefix by large
        // metadata segments needs the whole file.
        let header = match image::read_header(&head, limits) {
            Ok(header) => header,
            Err(error) if error_is_limit(&error) => return Err(error),
            Err(_) => image::read_header(&std::fs::read(path)?, limits)?,
        };
        return Ok(MediaInfo {
            media_type: MediaType::Image,
            stored_size: header.stored_size,
            orientation: header.orientation,
            duration: 0.0,
            frame_rate: 0.0,
            format: header.format.extensions_str()[0].to_string(),
        });
    }
    probe_media(path, limits)
}

/// Decodes a probed file once (images at reduced scale, video its first frame), so
/// that a corrupt file is reported at ingest instead of on its first request.
pub fn validate_file(
    path: &Path,
    info: &MediaInfo,
    limits: &SourceLimits,
) -> Result<(), SourceError> {
    match info.media_type {
        MediaType::Image => {
            let bytes = bytes::Bytes::from(std::fs::read(path)?);
            image::decode(&bytes, Size::new(1, 1), false, limits).map(|_| ())
        }
        MediaType::Video => validate_video(path, info, limits),
        MediaType::Audio => Ok(()),
    }
}

#[cfg(feature = "video")]
fn validate_video(path: &Path, info: &MediaInfo, limits: &SourceLimits) -> Result<(), SourceError> {
    video::capture(path, &[0.0], info.orientation, limits).map(|_| ())
}

#[cfg(not(feature = "video"))]
fn validate_video(
    _path: &Path,
    _info: &MediaInfo,
    _limits: &SourceLimits,
) -> Result<(), SourceError> {
    Err(SourceError::VideoUnsupported)
}

/// Bytes read to probe an image's header before falling back to the whole file.
const HEADER_PREFIX_BYTES: usize = 256 << 10;

fn error_is_limit(error: &SourceError) -> bool {
    matches!(
        error,
        SourceError::TooManyPixels { .. } | SourceError::FileTooLarge { .. }
    )
}

fn read_head(path: &Path, buffer: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;

    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < buffer.len() {
        let read = file.read(&mut buffer[filled..])?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

#[cfg(feature = "video")]
fn probe_media(path: &Path, limits: &SourceLimits) -> Result<MediaInfo, SourceError> {
    video::probe(path, limits)
}

#[cfg(not(feature = "video"))]
fn probe_media(_path: &Path, _limits: &SourceLimits) -> Result<MediaInfo, SourceError> {
    Err(SourceError::VideoUnsupported)
}
