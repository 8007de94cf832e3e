//! JSON request bodies (and the multipart `json` part) turned into [`Params`].
//!
//! Scalars become text whatever their JSON type, because the Python client sends
//! every scalar as a string and the Node client sends native values. Strings stay
//! as they are, and numbers keep the text `serde_json` prints for them (`1200`,
//! `8814.0`). `true`/`false` become `1`/`0`, and `null` an explicit null.

use serde_json::{Map, Value as Json};

use super::flat::{self, EMPTY_ARRAY_MARKER, NULL_SUFFIX};
use crate::api::{Param, Params};

/// A JSON body that cannot be used as parameters.
#[derive(Debug, thiserror::Error)]
pub enum JsonBodyError {
    // The parser's error is part of the message, not a source, so that error
    // chains name it once.
    #[error("the body is not valid JSON: {0}")]
    Syntax(serde_json::Error),
    #[error("the body is JSON but not an object")]
    NotAnObject,
}

/// Decodes a JSON object into parameters. Top-level names may use the flat
/// spellings of a form (`1:fileData`, `a[b]`). Nested names are taken as they are,
/// except for `__null` suffixes and the `-` empty-array marker.
pub fn params_from_json(bytes: &[u8]) -> Result<Params, JsonBodyError> {
    let parsed = serde_json::from_slice::<Json>(bytes).map_err(JsonBodyError::Syntax)?;
    let Json::Object(map) = parsed else {
        return Err(JsonBodyError::NotAnObject);
    };

    let mut params = Params::new();
    for (name, value) in map {
        let segments = flat::split_name(&name);
        flat::insert_path(&mut params, &segments, param_from_json(value));
    }
    Ok(params)
}

/// Converts one JSON value.
pub fn param_from_json(value: Json) -> Param {
    match value {
        Json::Null => Param::Null,
        Json::Bool(flag) => Param::Scalar(if flag { "1" } else { "0" }.to_string()),
        Json::Number(number) => Param::Scalar(number.to_string()),
        Json::String(text) => Param::Scalar(text),
        Json::Array(items) => Param::Array(items.into_iter().map(param_from_json).collect()),
        Json::Object(map) if map.contains_key(EMPTY_ARRAY_MARKER) => Param::Array(Vec::new()),
        Json::Object(map) => Param::Object(object_params(map)),
    }
}

fn object_params(map: Map<String, Json>) -> Params {
    let mut params = Params::new();
    for (name, value) in map {
        match name.strip_suffix(NULL_SUFFIX) {
            Some(field) if !field.is_empty() => params.insert(field, Param::Null),
            _ => params.insert(name, param_from_json(value)),
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> Param {
        Param::Scalar(text.to_string())
    }

    #[test]
    fn natives_and_strings_both_become_text() {
        let node = params_from_json(
            br#"{"width":1200,"offset":8814.0,"resume":false,"final":true,"name":"x","gone":null}"#,
        )
        .unwrap();
        assert_eq!(node.text("width"), Some("1200"));
        assert_eq!(node.text("offset"), Some("8814.0"));
        assert_eq!(node.text("resume"), Some("0"));
        assert_eq!(node.text("final"), Some("1"));
        assert_eq!(node.text("name"), Some("x"));
        assert_eq!(node.get("gone"), Some(&Param::Null));

        let python = params_from_json(br#"{"width":"1200","resume":"False"}"#).unwrap();
        assert_eq!(python.text("width"), Some("1200"));
        assert_eq!(python.text("resume"), Some("False"));
    }

    #[test]
    fn nested_objects_and_arrays() {
        let params = params_from_json(
            br#"{"thumbParams":{"objectType":"KalturaThumbParams","cropType":3,
                 "requiredPermissions":[{"objectType":"KalturaString","value":"a"}]}}"#,
        )
        .unwrap();
        let thumb_params = params.object("thumbParams").expect("object");
        assert_eq!(thumb_params.object_type(), Some("KalturaThumbParams"));
        assert_eq!(thumb_params.text("cropType"), Some("3"));
        let Some(Param::Array(items)) = thumb_params.get("requiredPermissions") else {
            panic!("requiredPermissions is not an array");
        };
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn null_suffix_and_empty_array_marker() {
        let params = params_from_json(
            br#"{"thumbAsset":{"objectType":"KalturaThumbAsset","partnerData__null":"","tags":"x",
                 "list":{"-":""}}}"#,
        )
        .unwrap();
        let asset = params.object("thumbAsset").expect("object");
        assert_eq!(asset.get("partnerData"), Some(&Param::Null));
        assert_eq!(asset.get("partnerData__null"), None);
        assert_eq!(asset.get("tags"), Some(&scalar("x")));
        assert_eq!(asset.get("list"), Some(&Param::Array(Vec::new())));
    }

    #[test]
    fn top_level_colon_names_nest() {
        let params = params_from_json(br#"{"1:fileData":"x","0":{"service":"media"}}"#).unwrap();
        assert_eq!(
            params.object("1").and_then(|p| p.text("fileData")),
            Some("x")
        );
        assert_eq!(
            params.object("0").and_then(|p| p.text("service")),
            Some("media")
        );
    }

    #[test]
    fn rejects_non_objects() {
        assert!(matches!(
            params_from_json(b"[1,2]"),
            Err(JsonBodyError::NotAnObject)
        ));
        assert!(matches!(
            params_from_json(b"{\"a\":"),
            Err(JsonBodyError::Syntax(_))
        ));
    }
}
