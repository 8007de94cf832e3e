//! Flat parameter names turned into nested [`Params`], for query strings, form
//! fields, path pairs and multipart part names.
//!
//! Kaltura accepts two nesting spellings that mean the same thing: PHP's brackets
//! (`thumbParams[width]=200`, what the Python client puts in serve URLs) and colon
//! paths (`thumbParams:width=200`, `1:service=media` in a form-style multirequest).
//! Objects whose keys are all indexes (`obj:arr:0:x`, `obj:arr:1:x`) become arrays
//! sorted by index. A last name element `-` makes its parent an empty array, and a
//! name ending in `__null` sets that field to an explicit null.

use crate::api::{Param, Params};

/// Suffix that turns `field__null` into a null `field`.
pub const NULL_SUFFIX: &str = "__null";

/// The name element that marks an empty array.
pub const EMPTY_ARRAY_MARKER: &str = "-";

/// Builds one source's parameter tree from flat name/value pairs.
#[derive(Debug, Default)]
pub struct FlatParams {
    root: Params,
}

impl FlatParams {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts one pair; of two pairs with the same name, the later one wins.
    pub fn insert(&mut self, name: &str, value: Param) {
        let segments = split_name(name);
        insert_path(&mut self.root, &segments, value);
    }

    /// Returns the tree, with index-keyed objects below the top level turned into
    /// arrays.
    pub fn finish(mut self) -> Params {
        for param in self.root.entries.values_mut() {
            convert_index_objects(param);
        }
        self.root
    }
}

/// Builds a tree from text pairs, as from a query string or a form body.
pub fn params_from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Params {
    let mut flat = FlatParams::new();
    for (name, value) in pairs {
        flat.insert(name, Param::Scalar(value.to_string()));
    }
    flat.finish()
}

/// Decodes an `application/x-www-form-urlencoded` text (a query string or a form
/// body) into a tree.
pub fn params_from_urlencoded(text: &[u8]) -> Params {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(text).into_owned().collect();
    params_from_pairs(
        pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
}

/// Merges `overlay` into `base` as PHP's `array_replace_recursive` does for
/// objects: nested objects merge key by key, anything else is replaced.
pub fn merge(base: &mut Params, overlay: Params) {
    for (name, value) in overlay.entries {
        match (base.entries.get_mut(&name), value) {
            (Some(Param::Object(existing)), Param::Object(incoming)) => merge(existing, incoming),
            (_, value) => {
                base.entries.insert(name, value);
            }
        }
    }
}

/// Splits `a[b][c:d]` into `a`, `b`, `c`, `d`. An empty bracket pair (`a[]`) gives
/// an empty element, which appends. Text after the last closing bracket is
/// dropped, as PHP drops it, and a name without a closing bracket is kept whole.
pub fn split_name(name: &str) -> Vec<String> {
    let (base, mut rest) = match name.find('[') {
        Some(open) if open > 0 && name[open..].contains(']') => name.split_at(open),
        _ => (name, ""),
    };
    let mut segments: Vec<String> = base.split(':').map(str::to_string).collect();

    while let Some(after_open) = rest.strip_prefix('[') {
        let Some(close) = after_open.find(']') else {
            break;
        };
        let inner = &after_open[..close];
        if inner.is_empty() {
            segments.push(String::new());
        } else {
            segments.extend(inner.split(':').map(str::to_string));
        }
        rest = &after_open[close + 1..];
    }
    segments
}

/// Sets `value` at the path `segments` below `params`. Missing objects on the way
/// are created, and a non-object on the way is replaced by an object.
pub fn insert_path(params: &mut Params, segments: &[String], value: Param) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };

    if last == EMPTY_ARRAY_MARKER {
        if !parents.is_empty() {
            insert_path(params, parents, Param::Array(Vec::new()));
        }
        return;
    }

    let mut current = params;
    for segment in parents {
        let key = resolve_key(current, segment);
        let slot = current
            .entries
            .entry(key)
            .or_insert_with(|| Param::Object(Params::new()));
        if !matches!(slot, Param::Object(_)) {
            *slot = Param::Object(Params::new());
        }
        let Param::Object(child) = slot else {
            unreachable!("the slot was just made an object");
        };
        current = child;
    }

    match last.strip_suffix(NULL_SUFFIX) {
        Some(field) if !field.is_empty() => current.insert(field, Param::Null),
        _ => {
            let key = resolve_key(current, last);
            current.insert(key, value);
        }
    }
}

/// Returns `segment`, or for an empty segment (`a[]`) the next free index.
fn resolve_key(params: &Params, segment: &str) -> String {
    if !segment.is_empty() {
        return segment.to_string();
    }
    let next = params
        .entries
        .keys()
        .filter_map(|key| key.parse::<u64>().ok())
        .max()
        .map_or(0, |highest| highest + 1);
    next.to_string()
}

/// Turns every object whose keys are all indexes into an array ordered by index.
fn convert_index_objects(param: &mut Param) {
    match param {
        Param::Object(object) => {
            for child in object.entries.values_mut() {
                convert_index_objects(child);
            }
            if let Some(items) = index_ordered_items(object) {
                *param = Param::Array(items);
            }
        }
        Param::Array(items) => items.iter_mut().for_each(convert_index_objects),
        _ => {}
    }
}

fn index_ordered_items(object: &mut Params) -> Option<Vec<Param>> {
    if object.entries.is_empty() {
        return None;
    }
    let mut indexed: Vec<(u64, String)> = Vec::with_capacity(object.entries.len());
    for key in object.entries.keys() {
        indexed.push((key.parse::<u64>().ok()?, key.clone()));
    }
    indexed.sort();
    let items = indexed
        .into_iter()
        .filter_map(|(_, key)| object.entries.remove(&key))
        .collect();
    Some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> Param {
        Param::Scalar(text.to_string())
    }

    #[test]
    fn brackets_and_colons_nest_alike() {
        let bracketed = params_from_urlencoded(b"thumbParams%5Bwidth%5D=200&a[b][c]=1");
        let colons = params_from_pairs([("thumbParams:width", "200"), ("a:b:c", "1")]);
        assert_eq!(bracketed, colons);

        let width = bracketed
            .object("thumbParams")
            .and_then(|p| p.text("width"));
        assert_eq!(width, Some("200"));
        let nested = bracketed
            .object("a")
            .and_then(|a| a.object("b"))
            .and_then(|b| b.text("c"));
        assert_eq!(nested, Some("1"));
    }

    #[test]
    fn mixed_spellings_nest() {
        let params = params_from_pairs([("options[thumb:width]", "5")]);
        let width = params
            .object("options")
            .and_then(|o| o.object("thumb"))
            .and_then(|t| t.text("width"));
        assert_eq!(width, Some("5"));
    }

    #[test]
    fn index_keys_become_sorted_array() {
        let params = params_from_pairs([
            ("obj:arr:10:x", "ten"),
            ("obj:arr:2:x", "two"),
            ("obj:arr:0:x", "zero"),
        ]);
        let Some(Param::Array(items)) = params.object("obj").and_then(|o| o.get("arr")) else {
            panic!("arr is not an array: {params:?}");
        };
        let names: Vec<_> = items
            .iter()
            .map(|item| match item {
                Param::Object(object) => object.text("x").unwrap_or_default().to_string(),
                other => panic!("item is not an object: {other:?}"),
            })
            .collect();
        assert_eq!(names, ["zero", "two", "ten"]);
    }

    #[test]
    fn empty_brackets_append() {
        let params = params_from_pairs([("tags[]", "a"), ("tags[]", "b")]);
        assert_eq!(
            params.get("tags"),
            Some(&Param::Array(vec![scalar("a"), scalar("b")]))
        );
    }

    #[test]
    fn top_level_index_keys_stay_an_object() {
        let params = params_from_pairs([("1:service", "media"), ("2:service", "session")]);
        assert_eq!(
            params.object("1").and_then(|p| p.text("service")),
            Some("media")
        );
        assert_eq!(
            params.object("2").and_then(|p| p.text("service")),
            Some("session")
        );
    }

    #[test]
    fn null_suffix_sets_null() {
        let params = params_from_pairs([
            ("thumbAsset:partnerData__null", ""),
            ("tags__null", "anything"),
            ("__null", "x"),
        ]);
        let asset = params.object("thumbAsset").expect("thumbAsset object");
        assert_eq!(asset.get("partnerData"), Some(&Param::Null));
        assert_eq!(params.get("tags"), Some(&Param::Null));
        assert_eq!(params.text("__null"), Some("x"));
    }

    #[test]
    fn dash_marks_empty_array() {
        let params = params_from_pairs([("thumbParams:requiredPermissions:-", "")]);
        let permissions = params
            .object("thumbParams")
            .and_then(|p| p.get("requiredPermissions"));
        assert_eq!(permissions, Some(&Param::Array(Vec::new())));
    }

    #[test]
    fn later_pair_wins() {
        let params = params_from_urlencoded(b"a=1&a=2");
        assert_eq!(params.text("a"), Some("2"));
    }

    #[test]
    fn nesting_replaces_scalar() {
        let params = params_from_pairs([("a", "1"), ("a:b", "2")]);
        assert_eq!(params.object("a").and_then(|a| a.text("b")), Some("2"));
    }

    #[test]
    fn unclosed_bracket_is_literal() {
        assert_eq!(split_name("a[b"), ["a[b"]);
        assert_eq!(split_name("[x]"), ["[x]"]);
        assert_eq!(split_name("a[b]junk"), ["a", "b"]);
    }

    #[test]
    fn merge_is_recursive_for_objects() {
        let mut base = params_from_pairs([("obj:a", "1"), ("obj:b", "1"), ("s", "1")]);
        let overlay = params_from_pairs([("obj:b", "2"), ("s:x", "2")]);
        merge(&mut base, overlay);
        let object = base.object("obj").expect("obj stays an object");
        assert_eq!(object.text("a"), Some("1"));
        assert_eq!(object.text("b"), Some("2"));
        assert_eq!(base.object("s").and_then(|s| s.text("x")), Some("2"));
    }
}
