//! The JSON response format (`format=1`), written as Kaltura's `KalturaJsonSerializer`
//! writes it with PHP's `json_encode` defaults: the bare value without an envelope,
//! null fields removed, `objectType` last, `/` escaped as `\/` and every non-ASCII
//! character as `\uXXXX`.

use std::fmt::Write as _;

use super::Reply;
use super::php_number::json_float;
use crate::api::{ApiError, Value};

/// Writes the whole response body: the value, the error object, or for a
/// multirequest an array of both.
pub fn document(reply: &Reply) -> String {
    let mut out = String::with_capacity(256);
    match reply {
        Reply::Single(outcome) => write_outcome(&mut out, outcome),
        Reply::Multi(outcomes) => {
            out.push('[');
            for (index, outcome) in outcomes.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_outcome(&mut out, outcome);
            }
            out.push(']');
        }
    }
    out
}

fn write_outcome(out: &mut String, outcome: &Result<Value, ApiError>) {
    match outcome {
        Ok(value) => write_value(out, value),
        Err(error) => write_error(out, error),
    }
}

/// Writes one value. A void result is `null`.
pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Int(number) => {
            let _ = write!(out, "{number}");
        }
        Value::Float(number) => out.push_str(&json_float(*number)),
        Value::Text(text) => write_string(out, text),
        Value::Object(object) => {
            out.push('{');
            for (name, field) in &object.fields {
                if *field == Value::Null {
                    continue;
                }
                write_string(out, name);
                out.push(':');
                write_value(out, field);
                out.push(',');
            }
            out.push_str("\"objectType\":");
            write_string(out, object.object_type);
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
    }
}

/// Writes a `KalturaAPIException`. Its `args` are a name-to-value object, or `[]`
/// when there are none (PHP encodes an empty array as a list).
pub fn write_error(out: &mut String, error: &ApiError) {
    out.push_str("{\"code\":");
    write_string(out, error.code);
    out.push_str(",\"message\":");
    write_string(out, &error.message);
    out.push_str(",\"objectType\":\"KalturaAPIException\",\"args\":");

    if error.args.is_empty() {
        out.push_str("[]");
    } else {
        out.push('{');
        for (index, (name, value)) in error.args.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            write_string(out, name);
            out.push(':');
            write_string(out, value);
        }
        out.push('}');
    }
    out.push('}');
}

/// Writes a string literal with `json_encode`'s default escaping.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // PHP leaves DEL unescaped, though Rust counts it as a control character.
            '\u{7f}' => out.push('\u{7f}'),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::api::error;

    fn single(value: impl Into<Value>) -> String {
        document(&Reply::Single(Ok(value.into())))
    }

    #[test]
    fn object_drops_nulls_and_puts_type_last() {
        let asset = Object::new("KalturaThumbAsset")
            .with("id", "0_a")
            .with("tags", Value::Null)
            .with("width", 640_i64)
            .with("offset", 3.0)
            .with("isDefault", false)
            .with(
                "cropDimensions",
                Object::new("KalturaCropDimensions").with("left", Value::Null),
            );
        assert_eq!(
            single(asset),
            r#"{"id":"0_a","width":640,"offset":3,"isDefault":false,"cropDimensions":{"objectType":"KalturaCropDimensions"},"objectType":"KalturaThumbAsset"}"#
        );
    }

    #[test]
    fn void_is_null() {
        assert_eq!(single(Value::Null), "null");
    }

    #[test]
    fn string_escapes_slash_and_non_ascii() {
        assert_eq!(
            single("http://h/é\"😀\n"),
            r#""http:\/\/h\/\u00e9\"\ud83d\ude00\n""#
        );
    }

    #[test]
    fn error_with_args_is_an_object() {
        let error = ApiError::with(error::THUMB_ASSET_ID_NOT_FOUND, &["0_x"]);
        assert_eq!(
            document(&Reply::Single(Err(error))),
            r#"{"code":"THUMB_ASSET_ID_NOT_FOUND","message":"The Thumbnail asset id \"0_x\" not found","objectType":"KalturaAPIException","args":{"ID":"0_x"}}"#
        );
    }

    #[test]
    fn error_without_args_has_empty_list() {
        let error = ApiError::with(error::FILE_DOESNT_EXIST, &[]);
        assert_eq!(
            document(&Reply::Single(Err(error))),
            r#"{"code":"FILE_DOESNT_EXIST","message":"File doesnt exist","objectType":"KalturaAPIException","args":[]}"#
        );
    }

    #[test]
    fn multirequest_is_an_array() {
        let reply = Reply::Multi(vec![
            Ok(Value::from(vec![1_i64, 2])),
            Err(ApiError::with(error::FILE_DOESNT_EXIST, &[])),
            Ok(Value::Null),
        ]);
        let json = document(&reply);
        assert!(json.starts_with(r#"[[1,2],{"code":"FILE_DOESNT_EXIST""#));
        assert!(json.ends_with(r#""args":[]},null]"#));
    }

    #[test]
    fn output_parses_as_json() {
        let text = single(Object::new("KalturaX").with("name", "a/b\u{1}c"));
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed["name"], "a/b\u{1}c");
        assert_eq!(parsed["objectType"], "KalturaX");
    }
}
