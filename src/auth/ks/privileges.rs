//! KS privileges: a comma list of `name` or `name:value` entries, where a value may list
//! several alternatives separated by `/`, and a lone `*` grants everything.
//!
//! The rules follow the `kSessionBase` and `ks` classes of Kaltura's server
//! (`alpha/apps/kaltura/lib/webservices/` in kaltura/server).

use std::collections::BTreeMap;

/// Privileges by name, each with its `/`-separated values.
pub type PrivilegeMap = BTreeMap<String, Vec<String>>;

/// Name and value under which a v2 KS stores a lone `*`.
pub(super) const WILDCARD_NAME: &str = "all";
pub(super) const WILDCARD: &str = "*";

/// Splits `privileges` into `(name, value)` pairs for a v2 KS. Entries are trimmed, empty
/// ones skipped, `""` stands for a missing value and `*` becomes `("all", "*")`. A repeated
/// name keeps its first position and its last value, as a PHP array does.
pub(super) fn pairs(privileges: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();

    for entry in privileges.split(',').map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        let (name, value) = if entry == WILDCARD {
            (WILDCARD_NAME, WILDCARD)
        } else {
            entry.split_once(':').unwrap_or((entry, ""))
        };

        match pairs.iter_mut().find(|(existing, _)| existing == name) {
            Some(pair) => pair.1 = value.to_string(),
            None => pairs.push((name.to_string(), value.to_string())),
        }
    }
    pairs
}

/// Maps each privilege name of a v1 KS to its `/`-separated values. A name without a value
/// maps to an empty list, the values of a repeated name are appended, and a lone `*` maps to
/// an empty list under `*`. Entries are not trimmed.
pub(super) fn parse_map(privileges: &str) -> PrivilegeMap {
    let mut map = PrivilegeMap::new();

    for entry in privileges.split(',').filter(|entry| !entry.is_empty()) {
        let (name, value) = entry.split_once(':').unwrap_or((entry, ""));
        let values = map.entry(name.to_string()).or_default();
        if !value.is_empty() {
            values.extend(value.split('/').map(str::to_string));
        }
    }
    map
}

/// Applies Kaltura's `verifyPrivileges` rules, as `Ks::verify_privilege` documents them.
pub(super) fn grants(privileges: &str, map: &PrivilegeMap, name: &str, value: &str) -> bool {
    // PHP's empty() is also true for "0".
    if value.is_empty() || value == "0" {
        return privileges.contains(name);
    }

    privileges == WILDCARD
        || privileges.contains(&format!("{name}:{WILDCARD}"))
        || privileges.contains(&format!("{name}:{value}"))
        || map
            .get(name)
            .is_some_and(|values| values.iter().any(|listed| listed == value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(privileges: &str, name: &str, value: &str) -> bool {
        grants(privileges, &parse_map(privileges), name, value)
    }

    #[test]
    fn pairs_keep_order_and_last_value() {
        let pairs = pairs("edit:1, view ,*,edit:2,,");

        assert_eq!(
            pairs,
            vec![
                ("edit".to_string(), "2".to_string()),
                ("view".to_string(), String::new()),
                ("all".to_string(), "*".to_string()),
            ]
        );
    }

    #[test]
    fn map_splits_values_on_slash() {
        let map = parse_map("edit:0_a/0_b,widget,edit:0_c,*");

        assert_eq!(map["edit"], vec!["0_a", "0_b", "0_c"]);
        assert!(map["widget"].is_empty());
        assert!(map["*"].is_empty());
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn grants_follow_kaltura_rules() {
        assert!(check("*", "edit", "0_a"));
        assert!(check("list:*", "list", "anything"));
        assert!(check("edit:0_a/0_b", "edit", "0_b"));
        assert!(
            check("sview:0_abc", "sview", "0_ab"),
            "substring match passes"
        );
        assert!(check("widget:1", "widget", "1"));
    }

    #[test]
    fn grants_without_value_match_name() {
        assert!(check("download", "download", ""));
        assert!(
            check("downloadasset:0_a", "download", ""),
            "substring match passes"
        );
        assert!(check("edit:0_a", "edit", "0"), "PHP treats \"0\" as empty");
        assert!(!check("edit:0_a", "view", ""));
    }

    #[test]
    fn grants_reject_other_names_and_values() {
        assert!(!check("", "edit", "0_a"));
        assert!(!check("edit:0_a", "edit", "0_b"));
        assert!(!check("edit:0_a", "view", "0_a"));
        assert!(
            !check("*,widget:1", "edit", "0_a"),
            "only a lone * is a wildcard"
        );
    }
}
