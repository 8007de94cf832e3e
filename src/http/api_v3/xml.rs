//! The XML response format (`format=2`, and the default when `format` is absent),
//! written as Kaltura's `KalturaXmlSerializer` writes it: one line, no whitespace
//! between tags, `<objectType>` first in every object.

use std::fmt::Write as _;

use super::Reply;
use super::php_number::echo_float;
use crate::api::{ApiError, Value};

const DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;

/// Writes the whole document: `<xml><result>…</result><executionTime>…</executionTime></xml>`.
/// `ignore_null` leaves null fields out instead of writing them as empty elements.
pub fn document(reply: &Reply, ignore_null: bool, execution_seconds: f64) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(DECLARATION);
    out.push_str("<xml><result>");

    match reply {
        Reply::Single(outcome) => write_outcome(&mut out, outcome, ignore_null),
        Reply::Multi(outcomes) => {
            for outcome in outcomes {
                out.push_str("<item>");
                write_outcome(&mut out, outcome, ignore_null);
                out.push_str("</item>");
            }
        }
    }

    out.push_str("</result><executionTime>");
    out.push_str(&echo_float(execution_seconds));
    out.push_str("</executionTime></xml>");
    out
}

fn write_outcome(out: &mut String, outcome: &Result<Value, ApiError>, ignore_null: bool) {
    match outcome {
        Ok(value) => write_value(out, value, ignore_null),
        Err(error) => write_error(out, error),
    }
}

/// Writes the content of one element holding `value`: text for scalars, child
/// elements for objects and arrays, nothing for null.
pub fn write_value(out: &mut String, value: &Value, ignore_null: bool) {
    match value {
        Value::Null => {}
        Value::Bool(flag) => out.push(if *flag { '1' } else { '0' }),
        Value::Int(number) => {
            let _ = write!(out, "{number}");
        }
        Value::Float(number) => out.push_str(&echo_float(*number)),
        Value::Text(text) => escape_into(out, text),
        Value::Object(object) => {
            out.push_str("<objectType>");
            out.push_str(object.object_type);
            out.push_str("</objectType>");
            for (name, field) in &object.fields {
                if ignore_null && *field == Value::Null {
                    continue;
                }
                let _ = write!(out, "<{name}>");
                write_value(out, field, ignore_null);
                let _ = write!(out, "</{name}>");
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str("<item>");
                write_value(out, item, ignore_null);
                out.push_str("</item>");
            }
        }
    }
}

/// Writes a `KalturaAPIException` as `<error>` with its code, message and arguments.
pub fn write_error(out: &mut String, error: &ApiError) {
    out.push_str("<error><code>");
    escape_into(out, error.code);
    out.push_str("</code><message>");
    escape_into(out, &error.message);
    out.push_str("</message><objectType>KalturaAPIException</objectType><args>");
    for (name, value) in &error.args {
        out.push_str("<item><objectType>KalturaApiExceptionArg</objectType><name>");
        escape_into(out, name);
        out.push_str("</name><value>");
        escape_into(out, value);
        out.push_str("</value></item>");
    }
    out.push_str("</args></error>");
}

/// Escapes the five characters that Kaltura's `kString::xmlEncode` replaces.
fn escape_into(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::api::error::{self, ApiError};

    fn body(reply: &Reply, ignore_null: bool) -> String {
        let document = document(reply, ignore_null, 0.5);
        let inner = document
            .strip_prefix(r#"<?xml version="1.0" encoding="utf-8"?><xml><result>"#)
            .expect("declaration and envelope open the document");
        inner
            .strip_suffix("</result><executionTime>0.5</executionTime></xml>")
            .expect("execution time closes the document")
            .to_string()
    }

    fn thumb_asset() -> Object {
        Object::new("KalturaThumbAsset")
            .with("id", "0_a&b")
            .with("tags", Value::Null)
            .with("width", 640_i64)
            .with("isDefault", true)
            .with("offset", 3.0)
            .with("ratio", 1.5)
    }

    #[test]
    fn object_has_type_first_and_null_as_empty() {
        let reply = Reply::Single(Ok(thumb_asset().into()));
        assert_eq!(
            body(&reply, false),
            "<objectType>KalturaThumbAsset</objectType><id>0_a&amp;b</id><tags></tags>\
             <width>640</width><isDefault>1</isDefault><offset>3</offset><ratio>1.5</ratio>"
        );
    }

    #[test]
    fn ignore_null_drops_null_fields() {
        let reply = Reply::Single(Ok(thumb_asset().into()));
        assert!(!body(&reply, true).contains("<tags>"));
    }

    #[test]
    fn arrays_wrap_items() {
        let list = Object::new("KalturaThumbAssetListResponse")
            .with(
                "objects",
                vec![Value::from(Object::new("KalturaThumbAsset"))],
            )
            .with("totalCount", 1_i64);
        let reply = Reply::Single(Ok(list.into()));
        assert_eq!(
            body(&reply, false),
            "<objectType>KalturaThumbAssetListResponse</objectType><objects><item>\
             <objectType>KalturaThumbAsset</objectType></item></objects><totalCount>1</totalCount>"
        );
    }

    #[test]
    fn error_with_args() {
        let reply = Reply::Single(Err(ApiError::with(error::THUMB_ASSET_IS_DEFAULT, &["0_x"])));
        assert_eq!(
            body(&reply, false),
            "<error><code>THUMB_ASSET_IS_DEFAULT</code><message>Thumbnail asset &quot;0_x&quot; \
             is default and could not be deleted</message><objectType>KalturaAPIException</objectType>\
             <args><item><objectType>KalturaApiExceptionArg</objectType><name>ASSET</name>\
             <value>0_x</value></item></args></error>"
        );
    }

    #[test]
    fn error_without_args() {
        let reply = Reply::Single(Err(ApiError::with(error::FILE_DOESNT_EXIST, &[])));
        assert_eq!(
            body(&reply, false),
            "<error><code>FILE_DOESNT_EXIST</code><message>File doesnt exist</message>\
             <objectType>KalturaAPIException</objectType><args></args></error>"
        );
    }

    #[test]
    fn void_result_is_empty() {
        assert_eq!(body(&Reply::Single(Ok(Value::Null)), false), "");
    }

    #[test]
    fn text_is_escaped_not_encoded() {
        let reply = Reply::Single(Ok(Value::from("http://h/p/1?a=1&b='x' <é>")));
        assert_eq!(
            body(&reply, false),
            "http://h/p/1?a=1&amp;b=&apos;x&apos; &lt;é&gt;"
        );
    }

    #[test]
    fn multirequest_items_hold_results_and_errors() {
        let reply = Reply::Multi(vec![
            Ok(Value::from("KS")),
            Err(ApiError::with(error::FILE_DOESNT_EXIST, &[])),
            Ok(Value::Null),
        ]);
        let xml = body(&reply, false);
        assert!(xml.starts_with("<item>KS</item><item><error><code>FILE_DOESNT_EXIST</code>"));
        assert!(xml.ends_with("</error></item><item></item>"));
    }

    #[test]
    fn document_is_one_line() {
        let document = document(&Reply::Single(Ok(thumb_asset().into())), false, 0.0012);
        assert!(!document.contains('\n'));
        assert!(document.ends_with("<executionTime>0.0012</executionTime></xml>"));
    }
}
