//! Multirequest back-references: `{N:result}` and `{N:result:path:to:field}` in an
//! item's parameters, replaced by the result of the N-th item run (counted from 1)
//! or by a field of it.
//!
//! A scalar that is exactly one placeholder takes the referenced value, objects and
//! arrays included. A placeholder inside longer text is replaced by the value's
//! text, as the Kaltura server's `str_replace` does. A placeholder naming an item
//! that has not run yet stays as it is. One naming a failed item, a missing field
//! or a null gives `MISSING_MANDATORY_PARAMETER` for the whole item, as on the
//! Kaltura server.

use super::php_number::echo_float;
use crate::api::{ApiError, Param, Params, Value, error};

/// One placeholder found in a text.
#[derive(Debug, PartialEq)]
struct Reference<'a> {
    /// The placeholder as written, braces included.
    text: &'a str,
    /// Run position counted from 1.
    position: usize,
    path: Vec<&'a str>,
}

/// Replaces the back-references in `params` with values from `results`, the
/// outcomes of the items run so far.
pub fn substitute(params: Params, results: &[Result<Value, ApiError>]) -> Result<Params, ApiError> {
    let mut substituted = Params::new();
    for (name, param) in params.entries {
        substituted.insert(name, substitute_param(param, results)?);
    }
    Ok(substituted)
}

fn substitute_param(param: Param, results: &[Result<Value, ApiError>]) -> Result<Param, ApiError> {
    match param {
        Param::Scalar(text) => substitute_text(text, results),
        Param::Object(object) => substitute(object, results).map(Param::Object),
        Param::Array(items) => items
            .into_iter()
            .map(|item| substitute_param(item, results))
            .collect::<Result<Vec<_>, _>>()
            .map(Param::Array),
        other => Ok(other),
    }
}

fn substitute_text(text: String, results: &[Result<Value, ApiError>]) -> Result<Param, ApiError> {
    let references: Vec<Reference<'_>> = find_references(&text)
        .into_iter()
        .filter(|reference| reference.position <= results.len())
        .collect();
    if references.is_empty() {
        return Ok(Param::Scalar(text));
    }

    if let [only] = references.as_slice() {
        if only.text.len() == text.len() {
            return resolve(only, results).map(param_from_value);
        }
    }

    let mut replaced = text.clone();
    for reference in &references {
        let value = resolve(reference, results)?;
        let Some(value_text) = scalar_text(value) else {
            return Err(unresolved_reference(reference.text));
        };
        replaced = replaced.replace(reference.text, &value_text);
    }
    Ok(Param::Scalar(replaced))
}

/// Looks up the value that a reference names. Missing and null values are errors.
fn resolve<'v>(
    reference: &Reference<'_>,
    results: &'v [Result<Value, ApiError>],
) -> Result<&'v Value, ApiError> {
    let found = match &results[reference.position - 1] {
        Ok(result) => navigate(result, &reference.path),
        Err(_) => None,
    };
    found
        .filter(|value| **value != Value::Null)
        .ok_or_else(|| unresolved_reference(reference.text))
}

/// Follows object field names and array indexes.
fn navigate<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter()
        .try_fold(value, |current, element| match current {
            Value::Object(object) => object.get(element),
            Value::Array(items) => element.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// Finds every `{N:result…}` placeholder in `text`, in order.
fn find_references(text: &str) -> Vec<Reference<'_>> {
    let mut references = Vec::new();
    let mut offset = 0;
    while let Some(open) = text[offset..].find('{') {
        let start = offset + open;
        match parse_reference(&text[start..]) {
            Some(reference) => {
                offset = start + reference.text.len();
                references.push(reference);
            }
            None => offset = start + 1,
        }
    }
    references
}

/// Parses a placeholder at the start of `text`.
fn parse_reference(text: &str) -> Option<Reference<'_>> {
    let close = text.find('}')?;
    let inner = text[..close].strip_prefix('{')?;
    let (digits, rest) = inner.split_once(':')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let path_text = match rest.strip_prefix("result")? {
        "" => "",
        after => after.strip_prefix(':')?,
    };
    let position: usize = digits.parse().ok().filter(|n| *n > 0)?;

    Some(Reference {
        text: &text[..=close],
        position,
        path: path_text.split(':').filter(|e| !e.is_empty()).collect(),
    })
}

/// `MISSING_MANDATORY_PARAMETER` for a back-reference that names no value, as the
/// Kaltura server reports it (the placeholder as the parameter name).
fn unresolved_reference(placeholder: &str) -> ApiError {
    ApiError::with(error::MISSING_MANDATORY_PARAMETER, &[placeholder]).in_envelope()
}

/// Converts a result back into a parameter, as an action would have received it.
pub fn param_from_value(value: &Value) -> Param {
    match value {
        Value::Null => Param::Null,
        Value::Object(object) => {
            let mut params = Params::new();
            params.insert("objectType", Param::Scalar(object.object_type.to_string()));
            for (name, field) in &object.fields {
                if *field != Value::Null {
                    params.insert(*name, param_from_value(field));
                }
            }
            Param::Object(params)
        }
        Value::Array(items) => Param::Array(items.iter().map(param_from_value).collect()),
        scalar => Param::Scalar(scalar_text(scalar).unwrap_or_default()),
    }
}

/// Returns the text of a scalar value, or `None` for objects, arrays and null.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Bool(flag) => Some(if *flag { "1" } else { "0" }.to_string()),
        Value::Int(number) => Some(number.to_string()),
        Value::Float(number) => Some(echo_float(*number)),
        Value::Text(text) => Some(text.clone()),
        Value::Null | Value::Object(_) | Value::Array(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;

    fn scalar(text: &str) -> Param {
        Param::Scalar(text.to_string())
    }

    fn entry() -> Value {
        Object::new("KalturaMediaEntry")
            .with("id", "0_new")
            .with("partnerId", 100_i64)
            .with("duration", 2.5)
            .with("tags", Value::Null)
            .with(
                "flavors",
                vec![Value::from(
                    Object::new("KalturaFlavorAsset").with("id", "0_fl"),
                )],
            )
            .into()
    }

    fn substitute_one(text: &str, results: &[Result<Value, ApiError>]) -> Result<Param, ApiError> {
        let mut params = Params::new();
        params.insert("x", scalar(text));
        substitute(params, results).map(|mut p| p.entries.remove("x").unwrap())
    }

    #[test]
    fn exact_reference_takes_field_value() {
        let results = [Ok(entry())];
        assert_eq!(
            substitute_one("{1:result:id}", &results),
            Ok(scalar("0_new"))
        );
        assert_eq!(
            substitute_one("{1:result:partnerId}", &results),
            Ok(scalar("100"))
        );
        assert_eq!(
            substitute_one("{1:result:duration}", &results),
            Ok(scalar("2.5"))
        );
        assert_eq!(
            substitute_one("{1:result:flavors:0:id}", &results),
            Ok(scalar("0_fl"))
        );
    }

    #[test]
    fn whole_result_reference() {
        let results = [Ok(Value::from("KS_TEXT")), Ok(entry())];
        assert_eq!(
            substitute_one("{1:result}", &results),
            Ok(scalar("KS_TEXT"))
        );

        let Ok(Param::Object(object)) = substitute_one("{2:result}", &results) else {
            panic!("an object result gives an object parameter");
        };
        assert_eq!(object.object_type(), Some("KalturaMediaEntry"));
        assert_eq!(object.text("id"), Some("0_new"));
        assert_eq!(object.get("tags"), None);
    }

    #[test]
    fn embedded_reference_replaces_text() {
        let results = [Ok(entry())];
        assert_eq!(
            substitute_one("entry {1:result:id} of {1:result:partnerId}", &results),
            Ok(scalar("entry 0_new of 100"))
        );
    }

    #[test]
    fn later_or_malformed_references_stay() {
        let results = [Ok(entry())];
        for text in [
            "{2:result:id}",
            "{0:result}",
            "{1:results}",
            "{x:result}",
            "{1:result:id",
        ] {
            assert_eq!(substitute_one(text, &results), Ok(scalar(text)), "{text}");
        }
    }

    #[test]
    fn missing_field_or_failed_item_is_an_error() {
        let results = [
            Ok(entry()),
            Err(ApiError::with(error::ENTRY_ID_NOT_FOUND, &["x"])),
        ];
        for text in ["{1:result:nosuch}", "{1:result:tags}", "{2:result:id}"] {
            let error = substitute_one(text, &results).unwrap_err();
            assert_eq!(error.code, "MISSING_MANDATORY_PARAMETER", "{text}");
            assert_eq!(error.message, format!("Missing parameter \"{text}\""));
        }
    }

    #[test]
    fn nested_parameters_are_substituted() {
        let results = [Ok(entry())];
        let mut inner = Params::new();
        inner.insert("entryId", scalar("{1:result:id}"));
        let mut params = Params::new();
        params.insert("filter", Param::Object(inner));
        params.insert(
            "ids",
            Param::Array(vec![scalar("{1:result:id}"), scalar("b")]),
        );

        let substituted = substitute(params, &results).unwrap();
        assert_eq!(
            substituted.object("filter").and_then(|f| f.text("entryId")),
            Some("0_new")
        );
        assert_eq!(
            substituted.get("ids"),
            Some(&Param::Array(vec![scalar("0_new"), scalar("b")]))
        );
    }
}
