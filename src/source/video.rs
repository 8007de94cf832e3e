//! Video probing and frame capture through FFmpeg (ffmpeg-next).
//!
//! Each capture seeks to the keyframe before its target and decodes forward, so a
//! sprite of a long video decodes a few GOPs per slice, never the whole stream.
//! Frames are converted to RGBA with the stream's colour matrix and range, then turned
//! upright by the stream's display rotation.

use std::path::Path;
use std::sync::Once;

use ffmpeg::format::Pixel;
use ffmpeg::media::Type as MediaKind;
use ffmpeg::software::scaling;
use ffmpeg::util::frame::Video as VideoFrame;
use ffmpeg_next as ffmpeg;

use super::{MediaInfo, MediaType, SourceError, SourceLimits};
use crate::frame::{ChromaSiting, Orientation, Picture, RgbaImage, Size, YuvFrame, YuvMatrix};

/// A target this close ahead of the decoder's position is reached by decoding forward
/// instead of seeking; 2 s covers the usual keyframe interval.
const FORWARD_DECODE_LIMIT: f64 = 2.0;

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Err(error) = ffmpeg::init() {
            tracing::error!(%error, "ffmpeg initialisation failed");
        }
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Error);
    });
}

fn media_error(error: ffmpeg::Error) -> SourceError {
    SourceError::Media(error.to_string())
}

/// Reads stream facts: size, rotation, duration, frame rate; audio-only files are audio.
pub fn probe(path: &Path, limits: &SourceLimits) -> Result<MediaInfo, SourceError> {
    init();
    let input = ffmpeg::format::input(path)
        .map_err(|error| SourceError::UnrecognisedMedia(error.to_string()))?;
    let duration = container_duration(&input);
    let format = input
        .format()
        .name()
        .split(',')
        .next()
        .unwrap_or("")
        .to_string();

    let Some(stream) = input.streams().best(MediaKind::Video) else {
        if input.streams().best(MediaKind::Audio).is_some() {
            return Ok(MediaInfo {
                media_type: MediaType::Audio,
                stored_size: Size::default(),
                orientation: Orientation::Normal,
                duration,
                frame_rate: 0.0,
                format,
            });
        }
        return Err(SourceError::UnsupportedFormat);
    };

    let parameters = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
        .map_err(media_error)?;
    let decoder = parameters.decoder().video().map_err(media_error)?;
    let stored_size = Size::new(decoder.width(), decoder.height());
    if stored_size.width == 0 || stored_size.height == 0 {
        return Err(SourceError::NoFrames);
    }
    limits.check_pixels(stored_size, 1)?;

    let rate = stream.avg_frame_rate();
    let frame_rate = if rate.denominator() != 0 {
        f64::from(rate)
    } else {
        0.0
    };
    let info = MediaInfo {
        media_type: MediaType::Video,
        stored_size,
        orientation: Orientation::from_rotation(stream_rotation(&stream)),
        duration,
        frame_rate,
        format,
    };
    Ok(info)
}

fn container_duration(input: &ffmpeg::format::context::Input) -> f64 {
    let duration = input.duration();
    if duration > 0 {
        duration as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE)
    } else {
        0.0
    }
}

/// Clockwise display rotation in degrees from the stream's display matrix, as FFmpeg's
/// own autorotation reads it (0, 90, 180 or 270).
fn stream_rotation(stream: &ffmpeg::format::stream::Stream) -> u32 {
    for side_data in stream.side_data() {
        if side_data.kind() != ffmpeg::codec::packet::side_data::Type::DisplayMatrix {
            continue;
        }
        let data = side_data.data();
        if data.len() < 36 {
            continue;
        }
        let value = |i: usize| {
            f64::from(i32::from_le_bytes(
                data[i * 4..i * 4 + 4].try_into().unwrap(),
            ))
        };
        let degrees = value(1).atan2(value(0)).to_degrees().round();
        let normalized = degrees.rem_euclid(360.0);
        return ((normalized / 90.0).round() as u32 % 4) * 90;
    }
    0
}

/// Captures one upright frame per time (seconds), in the order given. A time at or
/// past the end yields the last decodable frame. Frames in 8-bit planar YUV without a
/// display rotation stay YUV, for the backend to convert; others become RGBA here.
pub fn capture(
    path: &Path,
    times: &[f64],
    orientation: Orientation,
    limits: &SourceLimits,
) -> Result<Vec<Picture>, SourceError> {
    init();
    let mut capturer = Capturer::open(path, limits)?;

    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|a, b| times[*a].total_cmp(&times[*b]));

    let mut frames: Vec<Option<Picture>> = vec![None; times.len()];
    for index in order {
        let frame = capturer.frame_at(times[index])?;
        let picture = match yuv_frame(&frame) {
            Some(yuv) if orientation == Orientation::Normal => Picture::Yuv(yuv),
            _ => Picture::Rgba(orientation.apply(capturer.convert_to_rgba(&frame)?)),
        };
        frames[index] = Some(picture);
    }
    Ok(frames
        .into_iter()
        .map(|f| f.expect("every index captured"))
        .collect())
}

/// An open stream with its decoder and the most recent decoded frame.
struct Capturer {
    input: ffmpeg::format::context::Input,
    stream_index: usize,
    decoder: ffmpeg::decoder::Video,
    time_base: f64,
    start_time: f64,
    /// Half a frame interval: a frame this close before the target counts as reaching it.
    tolerance: f64,
    current: Option<(f64, VideoFrame)>,
    at_end: bool,
    scaler: Option<scaling::Context>,
}

impl Capturer {
    fn open(path: &Path, limits: &SourceLimits) -> Result<Self, SourceError> {
        let input = ffmpeg::format::input(path).map_err(media_error)?;
        let stream = input
            .streams()
            .best(MediaKind::Video)
            .ok_or(SourceError::NoFrames)?;
        let stream_index = stream.index();
        let time_base = f64::from(stream.time_base());
        let start_time = if stream.start_time() == ffmpeg::ffi::AV_NOPTS_VALUE {
            0.0
        } else {
            stream.start_time() as f64 * time_base
        };
        let rate = stream.avg_frame_rate();
        let tolerance = if rate.numerator() > 0 && rate.denominator() > 0 {
            0.5 / f64::from(rate)
        } else {
            0.02
        };

        let mut context = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
            .map_err(media_error)?;
        context.set_threading(ffmpeg::threading::Config {
            kind: ffmpeg::threading::Type::Frame,
            count: 0,
            ..Default::default()
        });
        let decoder = context.decoder().video().map_err(media_error)?;
        limits.check_pixels(Size::new(decoder.width(), decoder.height()), 1)?;

        Ok(Self {
            input,
            stream_index,
            decoder,
            time_base,
            start_time,
            tolerance,
            current: None,
            at_end: false,
            scaler: None,
        })
    }

    /// Returns the first frame at or after `target` (within half a frame), or the last frame
    /// of the stream when `target` lies beyond it.
    fn frame_at(&mut self, target: f64) -> Result<VideoFrame, SourceError> {
        let position = self.current.as_ref().map(|(time, _)| *time);
        let reachable = position
            .is_some_and(|p| p <= target + self.tolerance && target - p < FORWARD_DECODE_LIMIT);
        if !reachable {
            self.seek(target)?;
        }

        loop {
            if let Some((time, frame)) = &self.current {
                if *time >= target - self.tolerance {
                    return Ok(frame.clone());
                }
            }
            if !self.decode_next()? {
                return self
                    .current
                    .as_ref()
                    .map(|(_, frame)| frame.clone())
                    .ok_or(SourceError::NoFrames);
            }
        }
    }

    fn seek(&mut self, target: f64) -> Result<(), SourceError> {
        let timestamp = ((target + self.start_time) * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
        if self.input.seek(timestamp, ..timestamp).is_err() {
            self.input.seek(timestamp, ..).map_err(media_error)?;
        }
        self.decoder.flush();
        self.current = None;
        self.at_end = false;
        Ok(())
    }

    /// Decodes one more frame into `current`; false at the end of the stream.
    fn decode_next(&mut self) -> Result<bool, SourceError> {
        let mut frame = VideoFrame::empty();
        loop {
            if self.decoder.receive_frame(&mut frame).is_ok() {
                let pts = frame.timestamp().or(frame.pts()).unwrap_or(0);
                let time = pts as f64 * self.time_base - self.start_time;
                self.current = Some((time, frame));
                return Ok(true);
            }
            if self.at_end {
                return Ok(false);
            }
            self.feed_packet()?;
        }
    }

    /// Sends the next packet of the video stream to the decoder, or end-of-stream.
    fn feed_packet(&mut self) -> Result<(), SourceError> {
        for (stream, packet) in self.input.packets() {
            if stream.index() != self.stream_index {
                continue;
            }
            // A damaged packet is skipped, as FFmpeg's own tools do.
            if let Err(error) = self.decoder.send_packet(&packet) {
                tracing::debug!(%error, "skipping undecodable packet");
            }
            return Ok(());
        }
        self.decoder.send_eof().map_err(media_error)?;
        self.at_end = true;
        Ok(())
    }

    fn convert_to_rgba(&mut self, frame: &VideoFrame) -> Result<RgbaImage, SourceError> {
        let (width, height) = (frame.width(), frame.height());
        let scaler = match &mut self.scaler {
            Some(scaler)
                if scaler.input().width == width
                    && scaler.input().height == height
                    && scaler.input().format == frame.format() =>
            {
                scaler
            }
            slot => {
                let mut scaler = scaling::Context::get(
                    frame.format(),
                    width,
                    height,
                    Pixel::RGBA,
                    width,
                    height,
                    scaling::Flags::BILINEAR
                        | scaling::Flags::ACCURATE_RND
                        | scaling::Flags::FULL_CHR_H_INT,
                )
                .map_err(media_error)?;
                set_colorspace(&mut scaler, frame);
                slot.insert(scaler)
            }
        };

        let mut rgba = VideoFrame::empty();
        scaler.run(frame, &mut rgba).map_err(media_error)?;
        Ok(packed_rgba(&rgba))
    }
}

/// Tells swscale the frame's YUV matrix and range; its default is BT.601 limited.
fn set_colorspace(scaler: &mut scaling::Context, frame: &VideoFrame) {
    let matrix = match frame.color_space() {
        ffmpeg::color::Space::BT709 => ffmpeg::ffi::SWS_CS_ITU709,
        ffmpeg::color::Space::BT2020NCL | ffmpeg::color::Space::BT2020CL => {
            ffmpeg::ffi::SWS_CS_BT2020
        }
        ffmpeg::color::Space::SMPTE240M => ffmpeg::ffi::SWS_CS_SMPTE240M,
        ffmpeg::color::Space::FCC => ffmpeg::ffi::SWS_CS_FCC,
        _ => ffmpeg::ffi::SWS_CS_DEFAULT,
    };
    let full_range = i32::from(frame.color_range() == ffmpeg::color::Range::JPEG);

    // SAFETY: the context pointer is valid for the scaler's lifetime, the coefficient
    // tables returned by sws_getCoefficients are static, and 1 << 16 is the neutral
    // brightness/contrast/saturation in swscale's 16.16 fixed point.
    unsafe {
        let coefficients = ffmpeg::ffi::sws_getCoefficients(matrix);
        ffmpeg::ffi::sws_setColorspaceDetails(
            scaler.as_mut_ptr(),
            coefficients,
            full_range,
            coefficients,
            1,
            0,
            1 << 16,
            1 << 16,
        );
    }
}

/// Copies an RGBA frame into a packed buffer, dropping FFmpeg's row padding.
fn packed_rgba(frame: &VideoFrame) -> RgbaImage {
    let (width, height) = (frame.width() as usize, frame.height() as usize);
    let stride = frame.stride(0);
    let data = frame.data(0);
    let mut packed = Vec::with_capacity(width * height * 4);
    for row in 0..height {
        packed.extend_from_slice(&data[row * stride..row * stride + width * 4]);
    }
    RgbaImage::from_vec(Size::new(width as u32, height as u32), packed)
        .expect("packed rows match the frame size")
}

/// Copies the frame's planes and colour description, for 8-bit planar YUV formats.
fn yuv_frame(frame: &VideoFrame) -> Option<YuvFrame> {
    let (chroma_shift, full_range_format) = match frame.format() {
        Pixel::YUV420P => ((1, 1), false),
        Pixel::YUVJ420P => ((1, 1), true),
        Pixel::YUV422P => ((1, 0), false),
        Pixel::YUVJ422P => ((1, 0), true),
        Pixel::YUV444P => ((0, 0), false),
        Pixel::YUVJ444P => ((0, 0), true),
        _ => return None,
    };
    let matrix = match frame.color_space() {
        ffmpeg::color::Space::BT709 => YuvMatrix::Bt709,
        ffmpeg::color::Space::BT2020NCL | ffmpeg::color::Space::BT2020CL => YuvMatrix::Bt2020,
        _ => YuvMatrix::Bt601,
    };
    let siting = match frame.chroma_location() {
        ffmpeg::util::chroma::Location::Center => ChromaSiting::Center,
        ffmpeg::util::chroma::Location::TopLeft => ChromaSiting::TopLeft,
        _ => ChromaSiting::Left,
    };
    let size = Size::new(frame.width(), frame.height());
    let chroma_height = (size.height + (1 << chroma_shift.1) - 1) >> chroma_shift.1;
    let rows = [size.height, chroma_height, chroma_height];
    let plane = |index: usize| {
        let stride = frame.stride(index);
        frame.data(index)[..stride * rows[index] as usize].to_vec()
    };
    Some(YuvFrame {
        size,
        chroma_shift,
        planes: [plane(0), plane(1), plane(2)],
        strides: [frame.stride(0), frame.stride(1), frame.stride(2)],
        matrix,
        full_range: full_range_format || frame.color_range() == ffmpeg::color::Range::JPEG,
        siting,
    })
}
