//! Conversion profiles (`conversion_profiles`) and access-control profiles
//! (`access_control_profiles`, whose `rules` column contains `AccessRules` as JSON).

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::query::{Conditions, Page, insert_row, nonzero_or, select_page};
use crate::store::StoreError;
use crate::store::api_model::{AccessControlProfile, ConversionProfile};
use crate::store::sqlite::now;

const CONVERSION: &str = "conversion_profiles";
const ACCESS_CONTROL: &str = "access_control_profiles";

/// `KalturaConversionProfileStatus` of a deleted profile.
const CONVERSION_DELETED: &str = "3";

/// Inserts the profile under a new id, ignoring `profile.id`, and returns the id.
/// Zero timestamps are set to now.
pub(super) fn insert_conversion(
    connection: &Connection,
    profile: &ConversionProfile,
) -> Result<i64, StoreError> {
    let timestamp = now();
    let created_at = nonzero_or(profile.created_at, timestamp);
    let updated_at = nonzero_or(profile.updated_at, timestamp);

    let values: [(&str, &dyn ToSql); 12] = [
        (":partner_id", &profile.partner_id),
        (":status", &profile.status),
        (":profile_type", &profile.profile_type),
        (":name", &profile.name),
        (":system_name", &profile.system_name),
        (":tags", &profile.tags),
        (":description", &profile.description),
        (":default_entry_id", &profile.default_entry_id),
        (":flavor_params_ids", &profile.flavor_params_ids),
        (":is_default", &profile.is_default),
        (":created_at", &created_at),
        (":updated_at", &updated_at),
    ];
    insert_row(connection, CONVERSION, &values)?;
    Ok(connection.last_insert_rowid())
}

/// Reads a conversion profile by id, deleted ones included.
pub(super) fn conversion(
    connection: &Connection,
    id: i64,
) -> Result<Option<ConversionProfile>, StoreError> {
    let profile = connection
        .query_row(
            "SELECT * FROM conversion_profiles WHERE id = ?1",
            params![id],
            conversion_from_row,
        )
        .optional()?;
    Ok(profile)
}

/// Lists the partner's conversion profiles that are not deleted, by id.
pub(super) fn list_conversion(
    connection: &Connection,
    partner_id: i64,
    page: Page,
) -> Result<(Vec<ConversionProfile>, u64), StoreError> {
    let mut conditions = Conditions::default();
    conditions.add("partner_id = ?", [partner_id.into()]);
    conditions.add("status <> ?", [CONVERSION_DELETED.to_string().into()]);

    select_page(
        connection,
        CONVERSION,
        "*",
        &conditions,
        "id",
        page,
        |row| Ok(conversion_from_row(row)?),
    )
}

/// Inserts the profile under a new id, ignoring `profile.id`, and returns the id.
/// Zero timestamps are set to now.
pub(super) fn insert_access_control(
    connection: &Connection,
    profile: &AccessControlProfile,
) -> Result<i64, StoreError> {
    let rules = serde_json::to_string(&profile.rules)?;
    let timestamp = now();
    let created_at = nonzero_or(profile.created_at, timestamp);
    let updated_at = nonzero_or(profile.updated_at, timestamp);

    let values: [(&str, &dyn ToSql); 8] = [
        (":partner_id", &profile.partner_id),
        (":name", &profile.name),
        (":system_name", &profile.system_name),
        (":description", &profile.description),
        (":is_default", &profile.is_default),
        (":created_at", &created_at),
        (":updated_at", &updated_at),
        (":rules", &rules),
    ];
    insert_row(connection, ACCESS_CONTROL, &values)?;
    Ok(connection.last_insert_rowid())
}

/// Reads an access-control profile by id.
pub(super) fn access_control(
    connection: &Connection,
    id: i64,
) -> Result<Option<AccessControlProfile>, StoreError> {
    let row = connection
        .query_row(
            "SELECT * FROM access_control_profiles WHERE id = ?1",
            params![id],
            AccessControlRow::read,
        )
        .optional()?;
    row.map(AccessControlRow::into_profile).transpose()
}

/// Lists the partner's access-control profiles by id.
pub(super) fn list_access_control(
    connection: &Connection,
    partner_id: i64,
    page: Page,
) -> Result<(Vec<AccessControlProfile>, u64), StoreError> {
    let mut conditions = Conditions::default();
    conditions.add("partner_id = ?", [partner_id.into()]);

    select_page(
        connection,
        ACCESS_CONTROL,
        "*",
        &conditions,
        "id",
        page,
        |row| AccessControlRow::read(row)?.into_profile(),
    )
}

fn conversion_from_row(row: &Row<'_>) -> rusqlite::Result<ConversionProfile> {
    Ok(ConversionProfile {
        id: row.get("id")?,
        partner_id: row.get("partner_id")?,
        status: row.get("status")?,
        profile_type: row.get("profile_type")?,
        name: row.get("name")?,
        system_name: row.get("system_name")?,
        tags: row.get("tags")?,
        description: row.get("description")?,
        default_entry_id: row.get("default_entry_id")?,
        flavor_params_ids: row.get("flavor_params_ids")?,
        is_default: row.get("is_default")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// An access-control profile as read from its row, before the rules JSON is parsed.
struct AccessControlRow {
    profile: AccessControlProfile,
    rules: String,
}

impl AccessControlRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        let profile = AccessControlProfile {
            id: row.get("id")?,
            partner_id: row.get("partner_id")?,
            name: row.get("name")?,
            system_name: row.get("system_name")?,
            description: row.get("description")?,
            is_default: row.get("is_default")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            rules: Default::default(),
        };
        Ok(Self {
            profile,
            rules: row.get("rules")?,
        })
    }

    fn into_profile(self) -> Result<AccessControlProfile, StoreError> {
        Ok(AccessControlProfile {
            rules: serde_json::from_str(&self.rules)?,
            ..self.profile
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::sqlite_api::test_support::open_store;
    use crate::store::{
        AccessControlProfile, AccessRules, ApiStore, ConversionProfile, MetadataStore,
    };

    fn conversion_profile(partner_id: i64, name: &str, status: &str) -> ConversionProfile {
        ConversionProfile {
            partner_id,
            status: status.to_string(),
            profile_type: "1".to_string(),
            name: name.to_string(),
            system_name: name.to_lowercase(),
            tags: "web".to_string(),
            description: format!("{name} profile"),
            default_entry_id: Some("0_template".to_string()),
            flavor_params_ids: "19,1001".to_string(),
            is_default: true,
            ..ConversionProfile::default()
        }
    }

    fn referrer_profile(partner_id: i64, name: &str) -> AccessControlProfile {
        AccessControlProfile {
            partner_id,
            name: name.to_string(),
            system_name: name.to_lowercase(),
            description: "Referrer check".to_string(),
            is_default: false,
            created_at: 1000,
            updated_at: 2000,
            rules: AccessRules {
                require_ks: true,
                allowed_referrers: vec!["example.com".to_string()],
                ..AccessRules::default()
            },
            ..AccessControlProfile::default()
        }
    }

    #[test]
    fn conversion_profile_round_trip() {
        let (_dir, store) = open_store();
        let profile = ConversionProfile {
            id: 77,
            ..conversion_profile(101, "Default", "2")
        };

        let id = store.insert_conversion_profile(&profile).unwrap();
        let read = store.conversion_profile(id).unwrap().unwrap();

        assert!(id >= 1);
        assert!(read.created_at > 0);
        assert_eq!(
            read,
            ConversionProfile {
                id,
                created_at: read.created_at,
                updated_at: read.created_at,
                ..profile
            }
        );
        assert!(store.conversion_profile(id + 1).unwrap().is_none());
    }

    #[test]
    fn conversion_list_skips_deleted() {
        let (_dir, store) = open_store();
        let enabled = store
            .insert_conversion_profile(&conversion_profile(101, "A", "2"))
            .unwrap();
        let deleted = store
            .insert_conversion_profile(&conversion_profile(101, "B", "3"))
            .unwrap();
        let disabled = store
            .insert_conversion_profile(&conversion_profile(101, "C", "1"))
            .unwrap();
        store
            .insert_conversion_profile(&conversion_profile(202, "D", "2"))
            .unwrap();

        let (page, total) = store.list_conversion_profiles(101, 0, 10).unwrap();
        let ids: Vec<i64> = page.iter().map(|profile| profile.id).collect();
        let (second, _) = store.list_conversion_profiles(101, 1, 1).unwrap();
        let (none, count) = store.list_conversion_profiles(101, 0, 0).unwrap();

        assert_eq!(ids, [enabled, disabled]);
        assert_eq!(total, 2);
        assert_eq!(second[0].id, disabled);
        assert!(none.is_empty());
        assert_eq!(count, 2);
        assert!(store.conversion_profile(deleted).unwrap().is_some());
    }

    #[test]
    fn access_control_round_trip() {
        let (_dir, store) = open_store();
        let profile = referrer_profile(101, "Referrers");

        let id = store.insert_access_control_profile(&profile).unwrap();
        let read = store.access_control_profile(id).unwrap().unwrap();

        assert_eq!(
            read,
            AccessControlProfile {
                id,
                ..profile.clone()
            }
        );
        assert_eq!(store.access_rules(id).unwrap(), Some(profile.rules));
    }

    #[test]
    fn access_rules_insert_readable_as_profile() {
        let (_dir, store) = open_store();
        let rules = AccessRules {
            block_capture: true,
            ..AccessRules::default()
        };

        let id = store.insert_access_rules(101, &rules).unwrap();
        let read = store.access_control_profile(id).unwrap().unwrap();

        assert_eq!(read.rules, rules);
        assert_eq!(read.partner_id, 101);
        assert!(read.created_at > 0);
    }

    #[test]
    fn access_control_list_by_partner() {
        let (_dir, store) = open_store();
        let first = store
            .insert_access_control_profile(&referrer_profile(101, "One"))
            .unwrap();
        store
            .insert_access_control_profile(&referrer_profile(202, "Other"))
            .unwrap();
        let second = store
            .insert_access_control_profile(&referrer_profile(101, "Two"))
            .unwrap();

        let (page, total) = store.list_access_control_profiles(101, 0, 10).unwrap();
        let ids: Vec<i64> = page.iter().map(|profile| profile.id).collect();
        let (tail, _) = store.list_access_control_profiles(101, 1, 10).unwrap();

        assert_eq!(ids, [first, second]);
        assert_eq!(total, 2);
        assert_eq!(tail.len(), 1);
        assert_eq!(tail[0].name, "Two");
    }
}
