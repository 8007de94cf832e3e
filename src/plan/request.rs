//! The typed thumbnail request: every URL parameter after the Kaltura server's clamping.
//!
//! `http::thumbnail_url` fills it from a URL; `plan` reads it. Absent values keep the
//! Kaltura server's sentinels (-1 for "not given") because the formulas branch on them.

/// Output formats that a URL may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum OutputFormat {
    #[default]
    Jpeg,
    Png,
    Bmp,
    Gif,
    WebP,
    /// A WebVTT storyboard describing a sprite; only valid with `vid_slices`.
    Vtt,
}

impl OutputFormat {
    /// Parses a `format` value; `None` for anything outside the closed list.
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            "bmp" => Some(Self::Bmp),
            "gif" => Some(Self::Gif),
            "webp" => Some(Self::WebP),
            "vtt" => Some(Self::Vtt),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Bmp => "image/bmp",
            Self::Gif => "image/gif",
            Self::WebP => "image/webp",
            Self::Vtt => "text/vtt",
        }
    }

    /// Returns the extension used in URLs and file names.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Bmp => "bmp",
            Self::Gif => "gif",
            Self::WebP => "webp",
            Self::Vtt => "vtt",
        }
    }
}

/// Resize and crop types 1-6 of the thumbnail API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CropType {
    /// 1: fit inside the box, keeping the aspect ratio.
    #[default]
    Resize = 1,
    /// 2: fit inside the box and pad to exactly its size with the background colour.
    ResizeWithPadding = 2,
    /// 3: fill the box and crop the overflow around the centre.
    Crop = 3,
    /// 4: fill the box and crop the overflow below the top edge.
    CropFromTop = 4,
    /// 5: stretch to exactly the box.
    ResizeWithForce = 5,
    /// 6: stretch, then crop a rectangle placed by gravity (thumbParams only).
    CropAfterResize = 6,
}

impl CropType {
    /// Maps a number already clamped to 1..=6.
    pub fn from_number(value: i64) -> Self {
        match value {
            2 => Self::ResizeWithPadding,
            3 => Self::Crop,
            4 => Self::CropFromTop,
            5 => Self::ResizeWithForce,
            6 => Self::CropAfterResize,
            _ => Self::Resize,
        }
    }
}

/// Every parameter of the thumbnail URL, clamped as the Kaltura server clamps it.
///
/// Widths and heights are final: the 120x90 default and `def_width`/`def_height`
/// are already applied, and 0 means "unconstrained".
#[derive(Clone, Debug, PartialEq)]
pub struct ThumbnailRequest {
    pub partner_id: i64,
    pub entry_id: String,
    pub width: u32,
    pub height: u32,
    pub crop_type: CropType,
    pub quality: u8,
    pub src_x: f64,
    pub src_y: f64,
    pub src_w: f64,
    pub src_h: f64,
    pub rel_width: f64,
    pub rel_height: f64,
    /// Background colour as 0xRRGGBB, read from hex like the Kaltura server (`fff` is #000fff).
    pub bgcolor: u32,
    pub format: Option<OutputFormat>,
    pub density: f64,
    /// `None` when absent (the partner default applies), else whether to strip metadata.
    pub strip: Option<bool>,
    pub vid_sec: f64,
    pub vid_slice: i64,
    pub vid_slices: i64,
    pub start_sec: f64,
    pub end_sec: f64,
    pub version: i64,
    pub nearest_aspect_ratio: bool,
    pub flavor_id: Option<String>,
    pub flavor_params_id: Option<String>,
    pub upload_token_id: Option<String>,
    pub file_name: Option<String>,
    pub ks: Option<String>,
    /// Referrer decoded from the base64 `referrer` parameter, if it decoded to text.
    pub referrer: Option<String>,
    /// True when the URL gave neither `width` nor `height`, so the size is a default
    /// that `flavor_params_id` may replace.
    pub size_is_default: bool,
    /// Type 6 crop placement given by a thumbnail template's cropX/cropY. URLs have
    /// none; their placement follows from `src_x`/`src_y`.
    pub gravity: Option<super::Gravity>,
}

impl ThumbnailRequest {
    /// Creates a request with every parameter at its default, for the given entry.
    pub fn new(partner_id: i64, entry_id: impl Into<String>) -> Self {
        Self {
            partner_id,
            entry_id: entry_id.into(),
            width: 120,
            height: 90,
            crop_type: CropType::Resize,
            quality: 0,
            src_x: 0.0,
            src_y: 0.0,
            src_w: 0.0,
            src_h: 0.0,
            rel_width: -1.0,
            rel_height: -1.0,
            bgcolor: 0xffffff,
            format: None,
            density: 0.0,
            strip: None,
            vid_sec: -1.0,
            vid_slice: -1,
            vid_slices: -1,
            start_sec: -1.0,
            end_sec: -1.0,
            version: 0,
            nearest_aspect_ratio: false,
            flavor_id: None,
            flavor_params_id: None,
            upload_token_id: None,
            file_name: None,
            ks: None,
            referrer: None,
            size_is_default: false,
            gravity: None,
        }
    }

    /// Returns true when the request names a video frame or a sprite.
    pub fn wants_capture(&self) -> bool {
        self.vid_sec != -1.0 || self.vid_slices != -1
    }

    /// True when the output is a strip of `vid_slices` tiles rather than one picture.
    pub fn is_sprite(&self) -> bool {
        self.vid_slices > 0 && self.vid_slice == -1
    }

    /// True when any of the four source-crop values is set.
    pub fn has_source_crop(&self) -> bool {
        self.src_x != 0.0 || self.src_y != 0.0 || self.src_w != 0.0 || self.src_h != 0.0
    }

    /// Returns the background colour as RGB bytes.
    pub fn background_rgb(&self) -> [u8; 3] {
        let [_, r, g, b] = self.bgcolor.to_be_bytes();
        [r, g, b]
    }

    /// Formats everything that shapes the output as stable text, for cache keys.
    /// It leaves out `ks`, `referrer` and `file_name`, which do not change the pixels.
    pub fn render_key(&self) -> String {
        format!(
            "{}/{}/{}x{}/t{:?}/q{}/s{},{},{},{}/r{},{}/bg{:06x}/f{:?}/d{}/st{:?}/v{},{},{},{},{}/ver{}/n{}/fl{:?}/fp{:?}/u{:?}/g{:?}",
            self.partner_id,
            self.entry_id,
            self.width,
            self.height,
            self.crop_type,
            self.quality,
            self.src_x,
            self.src_y,
            self.src_w,
            self.src_h,
            self.rel_width,
            self.rel_height,
            self.bgcolor,
            self.format,
            self.density,
            self.strip,
            self.vid_sec,
            self.vid_slice,
            self.vid_slices,
            self.start_sec,
            self.end_sec,
            self.version,
            self.nearest_aspect_ratio,
            self.flavor_id,
            self.flavor_params_id,
            self.upload_token_id,
            self.gravity,
        )
    }
}
