//! The thumbnail URL grammar: `/p/{partner}[/sp/{sub}]/thumbnail/{key}/{value}/...`.
//!
//! Values are read with PHP's lenient number parsing and clamped exactly as the Kaltura
//! server clamps them. Only the Kaltura server's own checks and thumbd's additions
//! (closed format list, `crop_provider`, `file_name` last) reject a request.

use std::collections::HashMap;

use base64::Engine;
use percent_encoding::percent_decode_str;

use crate::plan::{CropType, MAX_SPRITE_SIDE, OutputFormat, ThumbnailRequest};

/// A URL that cannot be served; `BadQuery` texts follow "wrong query attributes, ".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a thumbnail path")]
    NotThumbnailPath,
    #[error("wrong query attributes, {0}")]
    BadQuery(String),
}

fn bad(detail: impl Into<String>) -> UrlError {
    UrlError::BadQuery(detail.into())
}

/// Parameter values after merging the query string (weaker) and the path (stronger).
struct RawParams {
    values: HashMap<String, String>,
}

impl RawParams {
    /// Returns the value with a trailing lowercase `.jpg`, `.gif` or `.png` removed, as the
    /// Kaltura server strips it from every value.
    fn get(&self, name: &str) -> Option<&str> {
        let value = self.values.get(name)?.as_str();
        for extension in [".jpg", ".gif", ".png"] {
            if let Some(stem) = value.strip_suffix(extension) {
                if !stem.is_empty() {
                    return Some(stem);
                }
            }
        }
        Some(value)
    }

    /// Returns a value that is present and not empty.
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).map(str::to_string)
    }

    fn int(&self, name: &str, default: i64, min: i64, max: Option<i64>) -> i64 {
        let value = self.get(name).map_or(default, php_intval).max(min);
        max.map_or(value, |max| value.min(max))
    }

    fn float(&self, name: &str, default: f64, min: f64, max: Option<f64>) -> f64 {
        let value = self.get(name).map_or(default, php_floatval).max(min);
        max.map_or(value, |max| value.min(max))
    }
}

/// Parses a thumbnail request from a URL path and query string.
pub fn parse_thumbnail_url(path: &str, query: Option<&str>) -> Result<ThumbnailRequest, UrlError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (partner_text, pairs) = split_route(&segments)?;
    let partner_id = partner_text
        .parse::<i64>()
        .map_err(|_| bad(format!("partner id {partner_text:?} must be a number")))?;

    let mut values: HashMap<String, String> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut index = 0;
    while index + 1 < pairs.len() {
        let key = decode_component(pairs[index]);
        let value = decode_component(pairs[index + 1]);
        if key == "file_name" && index + 2 < pairs.len() {
            return Err(bad("file_name must be the last parameter"));
        }
        values.insert(key, value);
        index += 2;
    }
    let raw = RawParams { values };

    let entry_id = raw
        .text("entry_id")
        .ok_or_else(|| bad("entry_id is required (the widget_id form is not supported)"))?;
    let mut request = ThumbnailRequest::new(partner_id, entry_id);
    read_dimensions(&raw, &mut request);
    read_options(&raw, &mut request)?;
    validate(&raw, &request)?;
    Ok(request)
}

/// Splits `p/{pid}[/sp/{spid}]/thumbnail/...` into the partner id and the pairs.
fn split_route<'a>(segments: &'a [&'a str]) -> Result<(&'a str, &'a [&'a str]), UrlError> {
    match segments {
        ["p", partner, "thumbnail", rest @ ..] => Ok((partner, rest)),
        ["p", partner, "sp", _, "thumbnail", rest @ ..] => Ok((partner, rest)),
        _ => Err(UrlError::NotThumbnailPath),
    }
}

/// Percent-decodes a path component, with `+` read as a space as the Kaltura server does.
fn decode_component(component: &str) -> String {
    let spaced = component.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Reads width, height and type, then derives the defaults in the Kaltura server's order.
fn read_dimensions(raw: &RawParams, request: &mut ThumbnailRequest) {
    // A `!` after the first character of either size is the legacy "force" flag.
    let forced = ["width", "height"].iter().any(|name| {
        raw.get(name)
            .is_some_and(|v| v.find('!').is_some_and(|i| i > 0))
    });
    let crop_type = if forced {
        5
    } else {
        raw.int("type", 1, 1, Some(5))
    };
    request.crop_type = CropType::from_number(crop_type);

    let width = raw.int("width", -1, -1, Some(10_000));
    let height = raw.int("height", -1, -1, Some(10_000));
    let def_width = raw.float("def_width", -1.0, -1.0, Some(10_000.0));
    let def_height = raw.float("def_height", -1.0, -1.0, Some(10_000.0));
    request.size_is_default = width == -1 && height == -1;
    let (width, height) = match (width, height) {
        (-1, -1) => (
            if def_width != -1.0 {
                def_width as i64
            } else {
                120
            },
            if def_height != -1.0 {
                def_height as i64
            } else {
                90
            },
        ),
        (-1, h) => (0, h),
        (w, -1) => (w, 0),
        (w, h) => (w, h),
    };
    request.width = width.max(0) as u32;
    request.height = height.max(0) as u32;

    request.vid_slices = raw.int("vid_slices", -1, -1, None);
    let vid_slice = raw.int("vid_slice", -1, -1, None);
    request.vid_slice = if request.vid_slices > 0 && vid_slice >= request.vid_slices {
        request.vid_slices - 1
    } else {
        vid_slice.min(request.vid_slices)
    };
}

fn read_options(raw: &RawParams, request: &mut ThumbnailRequest) -> Result<(), UrlError> {
    request.quality = raw.int("quality", 0, 0, Some(100)) as u8;
    request.src_x = raw.float("src_x", 0.0, 0.0, Some(10_000.0));
    request.src_y = raw.float("src_y", 0.0, 0.0, Some(10_000.0));
    request.src_w = raw.float("src_w", 0.0, 0.0, Some(10_000.0));
    request.src_h = raw.float("src_h", 0.0, 0.0, Some(10_000.0));
    request.rel_width = raw.float("rel_width", -1.0, -1.0, Some(10_000.0));
    request.rel_height = raw.float("rel_height", -1.0, -1.0, Some(10_000.0));
    request.vid_sec = raw.float("vid_sec", -1.0, -1.0, None);
    request.density = raw.float("density", 0.0, 0.0, None);
    request.version = raw.int("version", 0, 0, Some(10_000_000));
    request.nearest_aspect_ratio = raw.int("nearest_aspect_ratio", 0, 0, Some(1)) == 1;
    request.strip = raw.get("strip").map(php_truthy);
    request.flavor_id = raw.text("flavor_id");
    request.flavor_params_id = raw.text("flavor_params_id");
    request.upload_token_id = raw.text("upload_token_id");
    request.ks = raw.text("ks");
    request.file_name = raw
        .values
        .get("file_name")
        .filter(|v| !v.is_empty())
        .cloned();
    request.referrer = raw.text("referrer").and_then(|encoded| {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        String::from_utf8(decoded).ok().filter(|r| !r.is_empty())
    });

    let bgcolor = raw.get("bgcolor").unwrap_or("ffffff");
    let valid_hex =
        (1..=6).contains(&bgcolor.len()) && bgcolor.chars().all(|c| c.is_ascii_hexdigit());
    if !valid_hex {
        return Err(bad("bgcolor must be 1 to 6 hexadecimal digits"));
    }
    request.bgcolor = u32::from_str_radix(bgcolor, 16).expect("validated hex");

    request.start_sec = read_window_bound(raw, "start_sec")?;
    request.end_sec = read_window_bound(raw, "end_sec")?;

    if let Some(format) = raw.text("format") {
        request.format = Some(OutputFormat::parse(&format).ok_or_else(|| {
            bad(format!(
                "format {format:?} is not supported; use jpg, jpeg, png, bmp, gif, webp, or vtt for sprites"
            ))
        })?);
    }
    Ok(())
}

/// `start_sec`/`end_sec`: absent is -1; otherwise numeric and not negative.
fn read_window_bound(raw: &RawParams, name: &str) -> Result<f64, UrlError> {
    let Some(value) = raw.get(name) else {
        return Ok(-1.0);
    };
    let number = php_numeric(value).ok_or_else(|| bad(format!("{name} must be positive")))?;
    if number < 0.0 && number != -1.0 {
        return Err(bad(format!("{name} must be positive")));
    }
    Ok(number)
}

/// Runs the Kaltura server's reachable checks, in its order, then thumbd's additions.
fn validate(raw: &RawParams, request: &ThumbnailRequest) -> Result<(), UrlError> {
    let slices = request.vid_slices;
    if raw.get("vid_slices").is_some() && slices != -1 && slices <= 0 {
        return Err(bad("vid_slices must be positive"));
    }
    if slices > 0 {
        let n = slices as u64;
        if n * u64::from(request.width) >= MAX_SPRITE_SIDE {
            return Err(bad(format!(
                "width({}) * vid_slices({n}) must be between 0 and 65500",
                request.width
            )));
        }
        if n * u64::from(request.height) >= MAX_SPRITE_SIDE {
            return Err(bad(format!(
                "height({}) * vid_slices({n}) must be between 0 and 65500",
                request.height
            )));
        }
    }
    if request.start_sec != -1.0 && request.end_sec != -1.0 && request.start_sec > request.end_sec {
        return Err(bad("start_sec cant be greater then end_sec"));
    }
    if request.format == Some(OutputFormat::Vtt) && !request.is_sprite() {
        return Err(bad("format vtt requires vid_slices"));
    }
    if raw.text("crop_provider").is_some() {
        return Err(bad("crop_provider is not supported"));
    }
    Ok(())
}

/// Finds the longest prefix of `text` (after leading whitespace) that reads as a number,
/// with whether it has a fraction or exponent.
fn numeric_prefix(text: &str) -> Option<(&str, bool)> {
    let text = text.trim_start();
    let bytes = text.as_bytes();
    let mut end = 0;
    if end < bytes.len() && (bytes[end] == b'+' || bytes[end] == b'-') {
        end += 1;
    }
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    let mut fractional = false;
    if end < bytes.len() && bytes[end] == b'.' {
        let mut probe = end + 1;
        while probe < bytes.len() && bytes[probe].is_ascii_digit() {
            probe += 1;
        }
        if probe > end + 1 || end > digits_start {
            fractional = probe > end + 1;
            end = probe;
        }
    }
    if end == digits_start || (end == digits_start + 1 && bytes[digits_start] == b'.') {
        return None;
    }
    if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
        let mut probe = end + 1;
        if probe < bytes.len() && (bytes[probe] == b'+' || bytes[probe] == b'-') {
            probe += 1;
        }
        let exponent_start = probe;
        while probe < bytes.len() && bytes[probe].is_ascii_digit() {
            probe += 1;
        }
        if probe > exponent_start {
            fractional = true;
            end = probe;
        }
    }
    Some((&text[..end], fractional))
}

/// PHP `intval`: the leading number, truncated; 0 when there is none.
pub fn php_intval(text: &str) -> i64 {
    match numeric_prefix(text) {
        None => 0,
        Some((number, false)) => number.parse::<i64>().unwrap_or(if number.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        }),
        Some((number, true)) => number.parse::<f64>().map_or(0, |v| v as i64),
    }
}

/// PHP `floatval`: the leading number; 0 when there is none.
pub fn php_floatval(text: &str) -> f64 {
    numeric_prefix(text)
        .and_then(|(number, _)| number.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// PHP `is_numeric`: the whole string (surrounding whitespace allowed) is a number.
fn php_numeric(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    let (number, _) = numeric_prefix(trimmed)?;
    (number.len() == trimmed.len()).then(|| number.parse().ok())?
}

/// PHP truthiness of a string: empty and "0" are false.
fn php_truthy(text: &str) -> bool {
    !text.is_empty() && text != "0"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str) -> Result<ThumbnailRequest, UrlError> {
        parse_thumbnail_url(path, None)
    }

    #[test]
    fn defaults_to_120x90() {
        let request = parse("/p/1/thumbnail/entry_id/0_abc").unwrap();
        assert_eq!((request.width, request.height), (120, 90));
        assert_eq!(request.crop_type, CropType::Resize);
    }

    #[test]
    fn legacy_sp_form_and_slashes() {
        let request = parse("/p/1/sp/100//thumbnail/entry_id/0_abc//width/300").unwrap();
        assert_eq!(
            (request.partner_id, request.width, request.height),
            (1, 300, 0)
        );
    }

    #[test]
    fn clamps_like_kaltura() {
        let request =
            parse("/p/1/thumbnail/entry_id/e/width/20000/height/abc/quality/150").unwrap();
        assert_eq!(
            (request.width, request.height, request.quality),
            (10_000, 0, 100)
        );
        let request = parse("/p/1/thumbnail/entry_id/e/type/9/height/90.jpg").unwrap();
        assert_eq!(request.crop_type, CropType::ResizeWithForce);
        assert_eq!(request.height, 90);
    }

    #[test]
    fn bang_forces_type_five() {
        let request = parse("/p/1/thumbnail/entry_id/e/width/100!/height/50").unwrap();
        assert_eq!(request.crop_type, CropType::ResizeWithForce);
    }

    #[test]
    fn bgcolor_reads_as_integer() {
        let request = parse("/p/1/thumbnail/entry_id/e/bgcolor/fff").unwrap();
        assert_eq!(request.bgcolor, 0x000fff);
        assert!(parse("/p/1/thumbnail/entry_id/e/bgcolor/zzz").is_err());
        assert!(parse("/p/1/thumbnail/entry_id/e/bgcolor/1234567").is_err());
    }

    #[test]
    fn sprite_checks() {
        let error = parse("/p/1/thumbnail/entry_id/e/vid_slices/0").unwrap_err();
        assert_eq!(
            error.to_string(),
            "wrong query attributes, vid_slices must be positive"
        );
        assert!(parse("/p/1/thumbnail/entry_id/e/vid_slices/abc").is_err());
        let error = parse("/p/1/thumbnail/entry_id/e/width/1000/vid_slices/66").unwrap_err();
        assert!(error.to_string().contains("width(1000) * vid_slices(66)"));
        assert!(parse("/p/1/thumbnail/entry_id/e/vid_slices/545").is_ok());
        assert!(parse("/p/1/thumbnail/entry_id/e/vid_slices/546").is_err());
    }

    #[test]
    fn vid_slice_is_clamped() {
        let request = parse("/p/1/thumbnail/entry_id/e/vid_slices/10/vid_slice/30").unwrap();
        assert_eq!(request.vid_slice, 9);
        let request = parse("/p/1/thumbnail/entry_id/e/vid_slice/3").unwrap();
        assert_eq!(request.vid_slice, -1);
    }

    #[test]
    fn window_bounds_are_checked() {
        assert!(parse("/p/1/thumbnail/entry_id/e/start_sec/-0.5").is_err());
        assert!(parse("/p/1/thumbnail/entry_id/e/start_sec/abc").is_err());
        let error = parse("/p/1/thumbnail/entry_id/e/start_sec/10/end_sec/5").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("start_sec cant be greater then end_sec")
        );
    }

    #[test]
    fn format_is_a_closed_list() {
        let request = parse("/p/1/thumbnail/entry_id/e/format/webp").unwrap();
        assert_eq!(request.format, Some(OutputFormat::WebP));
        assert!(parse("/p/1/thumbnail/entry_id/e/format/tiff").is_err());
        assert!(parse("/p/1/thumbnail/entry_id/e/format/vtt").is_err());
        assert!(parse("/p/1/thumbnail/entry_id/e/vid_slices/5/format/vtt").is_ok());
    }

    #[test]
    fn file_name_is_raw_and_last() {
        let request = parse("/p/1/thumbnail/entry_id/e/file_name/thumb.jpg").unwrap();
        assert_eq!(request.file_name.as_deref(), Some("thumb.jpg"));
        let error = parse("/p/1/thumbnail/entry_id/e/file_name/a.jpg/width/10").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("file_name must be the last parameter")
        );
    }

    #[test]
    fn path_beats_query() {
        let request = parse_thumbnail_url(
            "/p/1/thumbnail/entry_id/e/width/50",
            Some("width=70&height=30"),
        )
        .unwrap();
        assert_eq!((request.width, request.height), (50, 30));
    }

    #[test]
    fn crop_provider_is_rejected() {
        let error = parse("/p/1/thumbnail/entry_id/e/crop_provider/face").unwrap_err();
        assert!(error.to_string().contains("crop_provider is not supported"));
    }

    #[test]
    fn php_number_parsing() {
        assert_eq!(php_intval("100px"), 100);
        assert_eq!(php_intval("1e3"), 1000);
        assert_eq!(php_intval("abc"), 0);
        assert_eq!(php_intval("12.9"), 12);
        assert_eq!(php_floatval("2.5s"), 2.5);
        assert_eq!(php_numeric(" 7.5 "), Some(7.5));
        assert_eq!(php_numeric("7.5x"), None);
    }

    #[test]
    fn not_thumbnail_paths() {
        assert_eq!(
            parse("/p/1/other/entry_id/e"),
            Err(UrlError::NotThumbnailPath)
        );
        assert!(matches!(
            parse("/p/x/thumbnail/entry_id/e"),
            Err(UrlError::BadQuery(_))
        ));
        assert!(matches!(
            parse("/p/1/thumbnail/width/10"),
            Err(UrlError::BadQuery(_))
        ));
    }
}
