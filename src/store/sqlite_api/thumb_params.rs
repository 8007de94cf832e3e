//! Thumbnail templates (`thumb_params`): partner 0's system defaults, seeded by
//! the schema migration, and partners' own templates with ids from 1001.

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, params};

use super::query::{
    Conditions, Page, insert_row, nonzero_or, require_changed, select_page, update_row,
};
use crate::store::StoreError;
use crate::store::api_model::{ThumbParams, ThumbParamsQuery};
use crate::store::sqlite::now;

const TABLE: &str = "thumb_params";

/// Partner that owns the system default templates.
const SYSTEM_PARTNER_ID: i64 = 0;

/// Inserts the template under a new id, ignoring `params.id`, and returns the id.
/// Zero timestamps are set to now.
pub(super) fn insert(connection: &Connection, params: &ThumbParams) -> Result<i64, StoreError> {
    let settings = serde_json::to_string(&params.settings)?;
    let timestamp = now();
    let created_at = nonzero_or(params.created_at, timestamp);
    let updated_at = nonzero_or(params.updated_at, timestamp);

    let values = params_values(params, &settings, &created_at, &updated_at);
    insert_row(connection, TABLE, &values[1..])?;
    Ok(connection.last_insert_rowid())
}

/// Reads a template by id unless it is soft-deleted.
pub(super) fn get(connection: &Connection, id: i64) -> Result<Option<ThumbParams>, StoreError> {
    let row = connection
        .query_row(
            "SELECT * FROM thumb_params WHERE id = ?1 AND deleted_at IS NULL",
            params![id],
            ParamsRow::read,
        )
        .optional()?;
    row.map(ParamsRow::into_params).transpose()
}

/// Writes every column of the template as given. Returns [`StoreError::NotFound`]
/// unless a row matches both `id` and `partner_id`, so a record that names another
/// partner (such as a system default listed to a partner) changes nothing.
pub(super) fn update(connection: &Connection, params: &ThumbParams) -> Result<(), StoreError> {
    let settings = serde_json::to_string(&params.settings)?;

    let values = params_values(params, &settings, &params.created_at, &params.updated_at);
    let changed = update_row(connection, TABLE, &values, &["id", "partner_id"])?;
    require_changed(changed, "thumbnail params", params.id)
}

/// Lists the templates of `query.partner_id` and of partner 0 that are not
/// soft-deleted and match every set filter field, by id.
pub(super) fn list(
    connection: &Connection,
    query: &ThumbParamsQuery,
) -> Result<(Vec<ThumbParams>, u64), StoreError> {
    let mut conditions = Conditions::default();
    conditions.add_in("partner_id", &[query.partner_id, SYSTEM_PARTNER_ID]);
    conditions.add("deleted_at IS NULL", []);
    conditions.add_in("id", &query.ids);
    conditions.add_in("system_name", &query.system_names);
    conditions.add_compare("is_system_default", "=", query.is_system_default);
    conditions.add_compare("tags", "=", query.tags_equal.clone());
    conditions.add_compare(
        "json_extract(settings, '$.format')",
        "=",
        query.format_equal.clone(),
    );

    let page = Page {
        offset: query.offset,
        limit: query.limit,
    };
    select_page(connection, TABLE, "*", &conditions, "id", page, |row| {
        ParamsRow::read(row)?.into_params()
    })
}

/// Returns the template's column values, `id` first, with the settings passed in
/// already serialized.
fn params_values<'a>(
    params: &'a ThumbParams,
    settings: &'a dyn ToSql,
    created_at: &'a i64,
    updated_at: &'a i64,
) -> [(&'static str, &'a dyn ToSql); 11] {
    [
        (":id", &params.id),
        (":partner_id", &params.partner_id),
        (":name", &params.name),
        (":system_name", &params.system_name),
        (":description", &params.description),
        (":tags", &params.tags),
        (":is_system_default", &params.is_system_default),
        (":created_at", created_at),
        (":updated_at", updated_at),
        (":deleted_at", &params.deleted_at),
        (":settings", settings),
    ]
}

/// A template as read from its row, before the settings JSON is parsed.
struct ParamsRow {
    params: ThumbParams,
    settings: String,
}

impl ParamsRow {
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let params = ThumbParams {
            id: row.get("id")?,
            partner_id: row.get("partner_id")?,
            name: row.get("name")?,
            system_name: row.get("system_name")?,
            description: row.get("description")?,
            tags: row.get("tags")?,
            is_system_default: row.get("is_system_default")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            deleted_at: row.get("deleted_at")?,
            settings: Default::default(),
        };
        Ok(Self {
            params,
            settings: row.get("settings")?,
        })
    }

    fn into_params(self) -> Result<ThumbParams, StoreError> {
        Ok(ThumbParams {
            settings: serde_json::from_str(&self.settings)?,
            ..self.params
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::sqlite_api::test_support::open_store;
    use crate::store::{
        ApiStore, DEFAULT_THUMB_PARAMS_ID, DEFAULT_THUMB_TAG, StoreError, ThumbParams,
        ThumbParamsQuery, ThumbParamsSettings,
    };

    fn partner_params(partner_id: i64, system_name: &str, format: &str) -> ThumbParams {
        ThumbParams {
            partner_id,
            name: format!("{system_name} template"),
            system_name: system_name.to_string(),
            tags: "mobile".to_string(),
            settings: ThumbParamsSettings {
                width: Some(320),
                format: Some(format.to_string()),
                required_permissions: vec!["THUMB_PERMISSION".to_string()],
                ..ThumbParamsSettings::default()
            },
            ..ThumbParams::default()
        }
    }

    fn listed_ids(store: &dyn ApiStore, query: ThumbParamsQuery) -> (Vec<i64>, u64) {
        let (page, total) = store
            .list_thumb_params(&ThumbParamsQuery {
                limit: 100,
                ..query
            })
            .unwrap();
        (page.into_iter().map(|params| params.id).collect(), total)
    }

    #[test]
    fn seeded_default_has_kaltura_settings() {
        let (_dir, store) = open_store();

        let seeded = store
            .thumb_params(DEFAULT_THUMB_PARAMS_ID)
            .unwrap()
            .unwrap();

        assert_eq!(seeded.partner_id, 0);
        assert_eq!(seeded.name, "Default Thumbnail");
        assert!(seeded.is_system_default);
        assert_eq!(seeded.tags, DEFAULT_THUMB_TAG);
        assert_eq!(seeded.deleted_at, None);
        let settings = &seeded.settings;
        assert_eq!(settings.format.as_deref(), Some("jpg"));
        assert_eq!((settings.width, settings.height), (Some(0), Some(0)));
        assert_eq!(settings.crop_type, Some(1));
        assert_eq!(settings.quality, Some(100));
        assert_eq!(
            (
                settings.crop_x,
                settings.crop_y,
                settings.crop_width,
                settings.crop_height
            ),
            (Some(0), Some(0), Some(0), Some(0))
        );
        assert_eq!(
            (settings.scale_width, settings.scale_height),
            (Some(0.0), Some(0.0))
        );
        assert_eq!(settings.video_offset, Some(3.0));
        assert_eq!(settings.background_color.as_deref(), Some("0"));
        assert_eq!(settings.density, None);
    }

    #[test]
    fn insert_round_trip_from_1001() {
        let (_dir, store) = open_store();
        let params = ThumbParams {
            id: 5,
            ..partner_params(101, "small", "png")
        };

        let id = store.insert_thumb_params(&params).unwrap();
        let read = store.thumb_params(id).unwrap().unwrap();

        assert_eq!(id, 1001);
        assert!(read.created_at > 0);
        assert_eq!(
            read,
            ThumbParams {
                id,
                created_at: read.created_at,
                updated_at: read.created_at,
                ..params
            }
        );
        assert!(store.thumb_params(5).unwrap().is_none());
    }

    #[test]
    fn default_listed_for_every_partner() {
        let (_dir, store) = open_store();
        let own_101 = store
            .insert_thumb_params(&partner_params(101, "small", "png"))
            .unwrap();
        let own_202 = store
            .insert_thumb_params(&partner_params(202, "small", "png"))
            .unwrap();

        let (ids_101, total_101) = listed_ids(
            &store,
            ThumbParamsQuery {
                partner_id: 101,
                ..Default::default()
            },
        );
        let (ids_202, _) = listed_ids(
            &store,
            ThumbParamsQuery {
                partner_id: 202,
                ..Default::default()
            },
        );
        let (page, _) = store
            .list_thumb_params(&ThumbParamsQuery {
                partner_id: 202,
                limit: 1,
                ..Default::default()
            })
            .unwrap();

        assert_eq!(ids_101, [DEFAULT_THUMB_PARAMS_ID, own_101]);
        assert_eq!(total_101, 2);
        assert_eq!(ids_202, [DEFAULT_THUMB_PARAMS_ID, own_202]);
        assert_eq!(page[0].partner_id, 0);
        assert!(page[0].is_system_default);
    }

    #[test]
    fn default_not_updatable_as_partner_row() {
        let (_dir, store) = open_store();
        let (page, _) = store
            .list_thumb_params(&ThumbParamsQuery {
                partner_id: 101,
                limit: 1,
                ..Default::default()
            })
            .unwrap();
        let claimed = ThumbParams {
            partner_id: 101,
            name: "Taken over".to_string(),
            ..page[0].clone()
        };

        let result = store.update_thumb_params(&claimed);

        assert!(matches!(result, Err(StoreError::NotFound { .. })));
        let stored = store
            .thumb_params(DEFAULT_THUMB_PARAMS_ID)
            .unwrap()
            .unwrap();
        assert_eq!(stored.name, "Default Thumbnail");
        assert_eq!(stored.partner_id, 0);
    }

    #[test]
    fn update_writes_record_and_soft_deletes() {
        let (_dir, store) = open_store();
        let id = store
            .insert_thumb_params(&partner_params(101, "small", "png"))
            .unwrap();
        let mut params = store.thumb_params(id).unwrap().unwrap();

        params.name = "Renamed".to_string();
        params.settings.quality = Some(70);
        params.updated_at = 4242;
        store.update_thumb_params(&params).unwrap();
        assert_eq!(store.thumb_params(id).unwrap().unwrap(), params);

        params.deleted_at = Some(5000);
        store.update_thumb_params(&params).unwrap();
        assert!(store.thumb_params(id).unwrap().is_none());
        let (ids, total) = listed_ids(
            &store,
            ThumbParamsQuery {
                partner_id: 101,
                ..Default::default()
            },
        );
        assert_eq!(ids, [DEFAULT_THUMB_PARAMS_ID]);
        assert_eq!(total, 1);
    }

    #[test]
    fn list_params_filters() {
        let (_dir, store) = open_store();
        let small = store
            .insert_thumb_params(&partner_params(101, "small", "png"))
            .unwrap();
        let large = store
            .insert_thumb_params(&partner_params(101, "large", "jpg"))
            .unwrap();
        store
            .insert_thumb_params(&partner_params(202, "other", "jpg"))
            .unwrap();
        let base = ThumbParamsQuery {
            partner_id: 101,
            ..Default::default()
        };

        let by_ids = ThumbParamsQuery {
            ids: vec![small, DEFAULT_THUMB_PARAMS_ID],
            ..base.clone()
        };
        assert_eq!(
            listed_ids(&store, by_ids).0,
            [DEFAULT_THUMB_PARAMS_ID, small]
        );
        let by_name = ThumbParamsQuery {
            system_names: vec!["large".to_string()],
            ..base.clone()
        };
        assert_eq!(listed_ids(&store, by_name).0, [large]);
        let defaults = ThumbParamsQuery {
            is_system_default: Some(true),
            ..base.clone()
        };
        assert_eq!(listed_ids(&store, defaults).0, [DEFAULT_THUMB_PARAMS_ID]);
        let own = ThumbParamsQuery {
            is_system_default: Some(false),
            ..base.clone()
        };
        assert_eq!(listed_ids(&store, own).0, [small, large]);
        let tagged = ThumbParamsQuery {
            tags_equal: Some("mobile".to_string()),
            ..base.clone()
        };
        assert_eq!(listed_ids(&store, tagged).0, [small, large]);
        let jpegs = ThumbParamsQuery {
            format_equal: Some("jpg".to_string()),
            ..base.clone()
        };
        assert_eq!(
            listed_ids(&store, jpegs).0,
            [DEFAULT_THUMB_PARAMS_ID, large]
        );

        let (page, total) = store
            .list_thumb_params(&ThumbParamsQuery {
                offset: 1,
                limit: 1,
                ..base.clone()
            })
            .unwrap();
        assert_eq!(page[0].id, small);
        assert_eq!(page.len(), 1);
        assert_eq!(total, 3);
        let (page, total) = store
            .list_thumb_params(&ThumbParamsQuery { limit: 0, ..base })
            .unwrap();
        assert!(page.is_empty());
        assert_eq!(total, 3);
    }
}
