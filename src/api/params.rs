//! Request parameters after decoding, whatever the body's encoding was.
//!
//! JSON bodies, form fields, multipart `json` parts, query strings and path pairs
//! all become one tree of [`Param`]s whose scalars are text, because the Python
//! client sends every scalar as a string and the Node client sends native JSON
//! values. Typed reads apply Kaltura's casting rules.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::{self, ApiError};

/// A file part of a multipart request, already written to a temporary file.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadedFile {
    /// Temporary file; deleted when the request ends unless an action moved it.
    pub path: PathBuf,
    /// The part's file name reduced to its base name (`chunk` when the client sent
    /// a buffer).
    pub file_name: String,
    pub size: u64,
}

/// One decoded parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// An explicit null: `field__null`, or JSON `null`.
    Null,
    /// Every scalar, as text. JSON `true`/`false` arrive as `1`/`0`.
    Scalar(String),
    /// A nested object; its `objectType` is an ordinary key.
    Object(Params),
    /// A list; `{"-": ""}` and a trailing `-` key both mean an empty list.
    Array(Vec<Param>),
    File(UploadedFile),
}

/// A field of an object being added or updated: absent, cleared or given.
#[derive(Clone, Debug, PartialEq)]
pub enum Field<T> {
    Absent,
    Null,
    Value(T),
}

impl<T> Field<T> {
    /// Returns the value when given; `None` when absent or null.
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(value) => Some(value),
            _ => None,
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
}

/// Named parameters at one level: the request's top level or one object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    pub entries: BTreeMap<String, Param>,
}

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, name: &str) -> Option<&Param> {
        self.entries.get(name)
    }

    pub fn insert(&mut self, name: impl Into<String>, value: Param) {
        self.entries.insert(name.into(), value);
    }

    /// True when the parameter is present and not null.
    pub fn has(&self, name: &str) -> bool {
        matches!(self.get(name), Some(param) if *param != Param::Null)
    }

    /// Returns a scalar as text; `None` when absent, null or not a scalar.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Param::Scalar(text)) => Some(text),
            _ => None,
        }
    }

    /// Returns a mandatory string argument of an action, else MISSING_MANDATORY_PARAMETER.
    pub fn required_text(&self, name: &str) -> Result<&str, ApiError> {
        self.text(name).ok_or_else(|| {
            ApiError::with(error::MISSING_MANDATORY_PARAMETER, &[name]).in_envelope()
        })
    }

    /// Reads an integer argument with PHP's cast: leading digits count, anything else is 0.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.text(name).map(php_intval)
    }

    /// Reads a mandatory integer argument of an action.
    pub fn required_int(&self, name: &str) -> Result<i64, ApiError> {
        self.required_text(name).map(php_intval)
    }

    pub fn float(&self, name: &str) -> Option<f64> {
        self.text(name).map(php_floatval)
    }

    /// Reads a boolean: `false` in any case, `0` and the empty string are false.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.text(name).map(php_bool)
    }

    /// Returns a nested object argument.
    pub fn object(&self, name: &str) -> Option<&Params> {
        match self.get(name) {
            Some(Param::Object(object)) => Some(object),
            _ => None,
        }
    }

    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        match self.get(name) {
            Some(Param::File(file)) => Some(file),
            _ => None,
        }
    }

    /// Returns the `objectType` of an object argument.
    pub fn object_type(&self) -> Option<&str> {
        self.text("objectType")
    }

    /// Reads a string field of an object being added or updated.
    pub fn text_field(&self, name: &str) -> Field<String> {
        match self.get(name) {
            None => Field::Absent,
            Some(Param::Null) => Field::Null,
            Some(Param::Scalar(text)) => Field::Value(text.clone()),
            Some(_) => Field::Absent,
        }
    }

    /// Reads an integer field of an object. Unlike action arguments, a non-numeric
    /// value is an error, named `{class}::{field}`.
    pub fn int_field(&self, class: &str, name: &str) -> Result<Field<i64>, ApiError> {
        match self.text_field(name) {
            Field::Absent => Ok(Field::Absent),
            Field::Null => Ok(Field::Null),
            Field::Value(text) => parse_number(&text)
                .map(|number| Field::Value(number as i64))
                .ok_or_else(|| numeric_error(class, name)),
        }
    }

    /// Reads a float field of an object, numeric as for [`Params::int_field`].
    pub fn float_field(&self, class: &str, name: &str) -> Result<Field<f64>, ApiError> {
        match self.text_field(name) {
            Field::Absent => Ok(Field::Absent),
            Field::Null => Ok(Field::Null),
            Field::Value(text) => parse_number(&text)
                .map(Field::Value)
                .ok_or_else(|| numeric_error(class, name)),
        }
    }

    /// Reads a boolean field of an object.
    pub fn bool_field(&self, name: &str) -> Field<bool> {
        match self.text_field(name) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Value(text) => Field::Value(php_bool(&text)),
        }
    }
}

fn numeric_error(class: &str, name: &str) -> ApiError {
    ApiError::with(
        error::PROPERTY_VALIDATION_NUMERIC_VALUE,
        &[&format!("{class}::{name}")],
    )
}

/// Parses a whole number or decimal as PHP's `is_numeric` accepts it, surrounding
/// spaces allowed.
fn parse_number(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    trimmed.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// PHP `(int)` on a string: optional sign and leading digits, else 0. Decimal and
/// exponent forms are truncated toward zero.
pub fn php_intval(text: &str) -> i64 {
    let trimmed = text.trim_start();
    if let Ok(number) = trimmed.trim_end().parse::<i64>() {
        return number;
    }
    if let Some(number) = parse_number(trimmed) {
        return number.trunc().clamp(i64::MIN as f64, i64::MAX as f64) as i64;
    }
    let (sign, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (-1, &trimmed[1..]),
        Some(b'+') => (1, &trimmed[1..]),
        _ => (1, trimmed),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().map_or(0, |n| sign * n)
}

/// PHP `(float)` on a string: the longest numeric prefix, else 0.
pub fn php_floatval(text: &str) -> f64 {
    let trimmed = text.trim();
    if let Some(number) = parse_number(trimmed) {
        return number;
    }
    (1..=trimmed.len())
        .rev()
        .filter(|end| trimmed.is_char_boundary(*end))
        .find_map(|end| trimmed[..end].parse::<f64>().ok())
        .filter(|n| n.is_finite())
        .unwrap_or(0.0)
}

/// Kaltura's boolean cast: `false` in any case is false, then PHP truthiness.
pub fn php_bool(text: &str) -> bool {
    !(text.eq_ignore_ascii_case("false") || text.is_empty() || text == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intval_follows_php() {
        assert_eq!(php_intval("1200"), 1200);
        assert_eq!(php_intval("-1"), -1);
        assert_eq!(php_intval("12abc"), 12);
        assert_eq!(php_intval("abc"), 0);
        assert_eq!(php_intval("8814.0"), 8814);
        assert_eq!(php_intval(""), 0);
    }

    #[test]
    fn bool_accepts_client_spellings() {
        for truthy in ["True", "true", "1", "yes"] {
            assert!(php_bool(truthy), "{truthy}");
        }
        for falsy in ["False", "FALSE", "0", ""] {
            assert!(!php_bool(falsy), "{falsy}");
        }
    }

    #[test]
    fn object_fields_distinguish_null_and_absent() {
        let mut object = Params::new();
        object.insert("tags", Param::Null);
        object.insert("width", Param::Scalar("12".into()));
        object.insert("height", Param::Scalar("x".into()));
        assert_eq!(object.text_field("tags"), Field::Null);
        assert_eq!(object.text_field("name"), Field::Absent);
        assert_eq!(object.int_field("K", "width"), Ok(Field::Value(12)));
        let error = object.int_field("K", "height").unwrap_err();
        assert_eq!(error.code, "PROPERTY_VALIDATION_NUMERIC_VALUE");
        assert_eq!(error.message, "The property \"K::height\" must be numeric");
    }
}
