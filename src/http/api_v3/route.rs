//! API v3 URLs and the parameters they carry.
//!
//! Accepted forms, each also under the `/api` alias:
//! `/api_v3/service/{service}/action/{action}/{name}/{value}/…`,
//! `/api_v3/service/multirequest`, `/api_v3/index.php?service=…&action=…` and
//! `/api_v3/index.php/service/…/action/…`. Path pairs override the query string,
//! and within the path the first occurrence of a name wins.

use percent_encoding::percent_decode_str;

use super::flat;
use crate::api::Params;

/// The path prefixes of the API, longest first.
const PREFIXES: [&str; 2] = ["/api_v3", "/api"];

/// The PHP script name that may follow the prefix.
const SCRIPT: &str = "index.php";

/// Returns true for paths that the API v3 envelope serves.
pub fn is_api_path(path: &str) -> bool {
    api_rest(path).is_some()
}

/// Decodes the parameters of a URL: the query string, then the path pairs on top.
pub fn url_params(path: &str, query: Option<&str>) -> Params {
    let mut params = query
        .map(|query| flat::params_from_urlencoded(query.as_bytes()))
        .unwrap_or_default();
    let pairs = path_pairs(path);
    let path_params = flat::params_from_pairs(
        pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    flat::merge(&mut params, path_params);
    params
}

/// Name/value pairs of the path after the prefix and the optional `index.php`,
/// percent-decoded, keeping the first pair of each name. A name without a value
/// gets an empty one.
pub fn path_pairs(path: &str) -> Vec<(String, String)> {
    let Some(rest) = api_rest(path) else {
        return Vec::new();
    };
    let mut segments = rest
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .peekable();
    if segments.peek().is_some_and(|first| first == SCRIPT) {
        segments.next();
    }

    let mut pairs: Vec<(String, String)> = Vec::new();
    while let Some(name) = segments.next() {
        let value = segments.next().unwrap_or_default();
        if !pairs.iter().any(|(seen, _)| *seen == name) {
            pairs.push((name, value));
        }
    }
    pairs
}

/// Returns the part of `path` after an API prefix, or `None` when the path is not an API
/// path. `/api_v3x` is not `/api_v3`.
fn api_rest(path: &str) -> Option<&str> {
    PREFIXES.iter().find_map(|prefix| {
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(path: &str) -> Vec<(String, String)> {
        path_pairs(path)
    }

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn recognises_api_paths() {
        for path in [
            "/api_v3",
            "/api_v3/",
            "/api_v3/index.php",
            "/api_v3/service/media/action/get",
            "/api/service/media/action/get",
        ] {
            assert!(is_api_path(path), "{path}");
        }
        for path in [
            "/api_v3x/service",
            "/apix",
            "/p/1/thumbnail/entry_id/x",
            "/",
        ] {
            assert!(!is_api_path(path), "{path}");
        }
    }

    #[test]
    fn service_action_and_extra_pairs() {
        assert_eq!(
            pairs("/api_v3/service/thumbAsset/action/get/thumbAssetId/0_a%20b"),
            [
                pair("service", "thumbAsset"),
                pair("action", "get"),
                pair("thumbAssetId", "0_a b")
            ]
        );
    }

    #[test]
    fn index_php_is_skipped() {
        assert_eq!(
            pairs("/api_v3/index.php/service/media/action/list"),
            [pair("service", "media"), pair("action", "list")]
        );
        assert!(pairs("/api_v3/index.php").is_empty());
    }

    #[test]
    fn multirequest_has_no_action() {
        assert_eq!(
            pairs("/api/service/multirequest"),
            [pair("service", "multirequest")]
        );
    }

    #[test]
    fn first_path_occurrence_wins() {
        assert_eq!(
            pairs("/api_v3/service/a/action/b/service/c/ks"),
            [pair("service", "a"), pair("action", "b"), pair("ks", "")]
        );
    }

    #[test]
    fn path_overrides_query() {
        let params = url_params(
            "/api_v3/service/media/action/get",
            Some("service=session&entryId=0_a&format=1&obj%5Bx%5D=1"),
        );
        assert_eq!(params.text("service"), Some("media"));
        assert_eq!(params.text("action"), Some("get"));
        assert_eq!(params.text("entryId"), Some("0_a"));
        assert_eq!(params.text("format"), Some("1"));
        assert_eq!(params.object("obj").and_then(|o| o.text("x")), Some("1"));
    }

    #[test]
    fn query_only_form() {
        let params = url_params("/api_v3/index.php", Some("service=media&action=get"));
        assert_eq!(params.text("service"), Some("media"));
        assert_eq!(params.text("action"), Some("get"));
    }
}
