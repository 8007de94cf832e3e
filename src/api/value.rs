//! Results of API actions, before they are written as XML or JSON.

use bytes::Bytes;

/// One result value. Objects keep their declared field order, which the XML form
/// follows (top ancestor's fields first).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A void result, or a field without a value.
    Null,
    Bool(bool),
    /// Integers and integer enums (JSON numbers).
    Int(i64),
    Float(f64),
    /// Strings and string enums (JSON strings, even when the text looks numeric).
    Text(String),
    Object(Object),
    Array(Vec<Value>),
}

/// A typed Kaltura object such as `KalturaThumbAsset`.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub object_type: &'static str,
    pub fields: Vec<(&'static str, Value)>,
}

impl Object {
    pub fn new(object_type: &'static str) -> Self {
        Self {
            object_type,
            fields: Vec::new(),
        }
    }

    /// Appends a field and returns the object, for building objects in one expression.
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// Looks a field up by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value)
    }
}

impl From<Object> for Value {
    fn from(object: Object) -> Self {
        Value::Object(object)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Int(number)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

impl From<f64> for Value {
    fn from(number: f64) -> Self {
        Value::Float(number)
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_string())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(option: Option<T>) -> Self {
        option.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

/// A file that a serve action returns in place of an XML or JSON envelope.
#[derive(Clone, Debug)]
pub struct FileReply {
    pub bytes: Bytes,
    pub content_type: String,
    /// `Cache-Control: public, max-age=N`; 0 sends no-cache headers.
    pub max_age: u32,
    /// `Content-Disposition: attachment; filename="..."` when set.
    pub download_name: Option<String>,
}

/// Result of an action: a value for the envelope, or a file.
#[derive(Clone, Debug)]
pub enum Output {
    Value(Value),
    File(FileReply),
}

impl From<Value> for Output {
    fn from(value: Value) -> Self {
        Output::Value(value)
    }
}

impl From<Object> for Output {
    fn from(object: Object) -> Self {
        Output::Value(Value::Object(object))
    }
}
