//! Thumbnail assets (`thumb_assets`) and the stored file of each of their
//! versions (`thumb_files`).

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::entries;
use super::query::{
    Conditions, Page, insert_row, nonzero_or, require_changed, select_page, update_row,
};
use crate::store::StoreError;
use crate::store::api_model::{EntryDetails, ThumbAsset, ThumbAssetQuery, ThumbFile, asset_status};
use crate::store::sqlite::now;

const ASSETS: &str = "thumb_assets";

/// Inserts the asset, with zero timestamps set to now.
pub(super) fn insert_asset(connection: &Connection, asset: &ThumbAsset) -> Result<(), StoreError> {
    let timestamp = now();
    let created_at = nonzero_or(asset.created_at, timestamp);
    let updated_at = nonzero_or(asset.updated_at, timestamp);

    insert_row(
        connection,
        ASSETS,
        &asset_values(asset, &created_at, &updated_at),
    )?;
    Ok(())
}

/// Reads an asset by id, deleted ones included.
pub(super) fn asset(
    connection: &Connection,
    asset_id: &str,
) -> Result<Option<ThumbAsset>, StoreError> {
    let asset = connection
        .query_row(
            "SELECT * FROM thumb_assets WHERE id = ?1",
            params![asset_id],
            asset_from_row,
        )
        .optional()?;
    Ok(asset)
}

/// Reads the entry's assets that are not deleted, by `created_at` and then by
/// insertion order.
pub(super) fn entry_assets(
    connection: &Connection,
    entry_id: &str,
) -> Result<Vec<ThumbAsset>, StoreError> {
    let mut statement = connection.prepare(
        "SELECT * FROM thumb_assets WHERE entry_id = ?1 AND status <> ?2 ORDER BY created_at, rowid",
    )?;
    let rows = statement.query_map(params![entry_id, asset_status::DELETED], asset_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Writes every column of each asset by id, then the entry's details when given.
/// The caller's transaction makes this all or nothing, so a missing asset or entry
/// fails the whole call with [`StoreError::NotFound`].
pub(super) fn save_assets(
    connection: &Connection,
    assets: &[ThumbAsset],
    entry: Option<(&str, &EntryDetails)>,
) -> Result<(), StoreError> {
    for asset in assets {
        update_asset(connection, asset)?;
    }

    if let Some((entry_id, details)) = entry {
        entries::write_details(connection, entry_id, details)?;
    }
    Ok(())
}

/// Writes the asset, then inserts the file's version, replacing a stored row of the
/// same asset and version.
pub(super) fn commit_file(
    connection: &Connection,
    asset: &ThumbAsset,
    file: &ThumbFile,
) -> Result<(), StoreError> {
    let exists = asset_exists(connection, &asset.id)?;
    if exists {
        update_asset(connection, asset)?;
    } else {
        insert_asset(connection, asset)?;
    }

    connection.execute(
        "INSERT OR REPLACE INTO thumb_files
             (asset_id, version, blob_key, file_ext, width, height, size, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            file.asset_id,
            file.version,
            file.blob_key,
            file.file_ext,
            file.width,
            file.height,
            file.size,
            nonzero_or(file.created_at, now()),
        ],
    )?;
    Ok(())
}

/// Reads one stored version of an asset's file.
pub(super) fn file(
    connection: &Connection,
    asset_id: &str,
    version: i64,
) -> Result<Option<ThumbFile>, StoreError> {
    let file = connection
        .query_row(
            "SELECT * FROM thumb_files WHERE asset_id = ?1 AND version = ?2",
            params![asset_id, version],
            file_from_row,
        )
        .optional()?;
    Ok(file)
}

/// Lists the assets that match every set filter field. Deleted assets are
/// excluded unless `statuses` contains [`asset_status::DELETED`].
pub(super) fn list_assets(
    connection: &Connection,
    query: &ThumbAssetQuery,
) -> Result<(Vec<ThumbAsset>, u64), StoreError> {
    let mut conditions = Conditions::default();
    conditions.add_in("entry_id", &query.entry_ids);
    conditions.add_in("id", &query.ids);
    conditions.add_in("partner_id", &query.partner_ids);
    conditions.add_compare("size", ">=", query.size_at_least);
    conditions.add_compare("size", "<=", query.size_at_most);
    conditions.add_tags("tags", &query.tags_any, false);
    conditions.add_tags("tags", &query.tags_all, true);
    conditions.add_compare("created_at", ">=", query.created_at_least);
    conditions.add_compare("created_at", "<=", query.created_at_most);
    conditions.add_compare("updated_at", ">=", query.updated_at_least);
    conditions.add_compare("updated_at", "<=", query.updated_at_most);
    conditions.add_in("thumb_params_id", &query.thumb_params_ids);
    conditions.add_in("status", &query.statuses);
    conditions.add_not_in("status", &query.statuses_excluded);
    if !query.statuses.contains(&asset_status::DELETED) {
        conditions.add("status <> ?", [asset_status::DELETED.into()]);
    }

    let order_by = order_sql(query.order_by.as_deref());
    let page = Page {
        offset: query.offset,
        limit: query.limit,
    };
    select_page(
        connection,
        ASSETS,
        "*",
        &conditions,
        order_by,
        page,
        |row| Ok(asset_from_row(row)?),
    )
}

/// Writes every column of the asset by id.
fn asset_exists(connection: &Connection, asset_id: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = connection
        .query_row(
            "SELECT 1 FROM thumb_assets WHERE id = ?1",
            params![asset_id],
            |row| row.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

fn update_asset(connection: &Connection, asset: &ThumbAsset) -> Result<(), StoreError> {
    let changed = update_row(
        connection,
        ASSETS,
        &asset_values(asset, &asset.created_at, &asset.updated_at),
        &["id"],
    )?;
    require_changed(changed, "thumbnail asset", &asset.id)
}

/// Maps a `ThumbAssetQuery::order_by` value to SQL. Other values keep insertion order.
fn order_sql(order_by: Option<&str>) -> &'static str {
    match order_by {
        Some("+size") => "size ASC, rowid",
        Some("-size") => "size DESC, rowid",
        Some("+createdAt") => "created_at ASC, rowid",
        Some("-createdAt") => "created_at DESC, rowid",
        Some("+updatedAt") => "updated_at ASC, rowid",
        Some("-updatedAt") => "updated_at DESC, rowid",
        Some("+deletedAt") => "deleted_at ASC, rowid",
        Some("-deletedAt") => "deleted_at DESC, rowid",
        _ => "rowid",
    }
}

/// Returns the asset's column values, with the timestamps passed separately so that
/// inserts can replace zero ones.
fn asset_values<'a>(
    asset: &'a ThumbAsset,
    created_at: &'a i64,
    updated_at: &'a i64,
) -> [(&'static str, &'a dyn ToSql); 19] {
    [
        (":id", &asset.id),
        (":entry_id", &asset.entry_id),
        (":partner_id", &asset.partner_id),
        (":version", &asset.version),
        (":tags", &asset.tags),
        (":file_ext", &asset.file_ext),
        (":created_at", created_at),
        (":updated_at", updated_at),
        (":deleted_at", &asset.deleted_at),
        (":description", &asset.description),
        (":partner_data", &asset.partner_data),
        (":partner_description", &asset.partner_description),
        (
            ":actual_source_asset_params_ids",
            &asset.actual_source_asset_params_ids,
        ),
        (":size", &asset.size),
        (":thumb_params_id", &asset.thumb_params_id),
        (":width", &asset.width),
        (":height", &asset.height),
        (":status", &asset.status),
        (":blob_key", &asset.blob_key),
    ]
}

fn asset_from_row(row: &Row<'_>) -> rusqlite::Result<ThumbAsset> {
    Ok(ThumbAsset {
        id: row.get("id")?,
        entry_id: row.get("entry_id")?,
        partner_id: row.get("partner_id")?,
        version: row.get("version")?,
        tags: row.get("tags")?,
        file_ext: row.get("file_ext")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        deleted_at: row.get("deleted_at")?,
        description: row.get("description")?,
        partner_data: row.get("partner_data")?,
        partner_description: row.get("partner_description")?,
        actual_source_asset_params_ids: row.get("actual_source_asset_params_ids")?,
        size: row.get("size")?,
        thumb_params_id: row.get("thumb_params_id")?,
        width: row.get("width")?,
        height: row.get("height")?,
        status: row.get("status")?,
        blob_key: row.get("blob_key")?,
    })
}

fn file_from_row(row: &Row<'_>) -> rusqlite::Result<ThumbFile> {
    Ok(ThumbFile {
        asset_id: row.get("asset_id")?,
        version: row.get("version")?,
        blob_key: row.get("blob_key")?,
        file_ext: row.get("file_ext")?,
        width: row.get("width")?,
        height: row.get("height")?,
        size: row.get("size")?,
        created_at: row.get("created_at")?,
    })
}

#[cfg(test)]
mod tests {
    use crate::store::sqlite_api::test_support::{image_entry, open_store};
    use crate::store::{
        ApiStore, DEFAULT_THUMB_TAG, EntryDetails, MetadataStore, SqliteStore, StoreError,
        ThumbAsset, ThumbAssetQuery, ThumbFile, asset_status,
    };

    fn queued_asset(id: &str, entry_id: &str) -> ThumbAsset {
        ThumbAsset {
            id: id.to_string(),
            entry_id: entry_id.to_string(),
            partner_id: 101,
            status: asset_status::QUEUED,
            ..ThumbAsset::default()
        }
    }

    fn file_of(asset: &ThumbAsset, version: i64, size: i64) -> ThumbFile {
        ThumbFile {
            asset_id: asset.id.clone(),
            version,
            blob_key: format!("101/{}/{}/{version}.jpg", asset.entry_id, asset.id),
            file_ext: "jpg".to_string(),
            width: 120,
            height: 90,
            size,
            created_at: 0,
        }
    }

    /// Commits version `version` of `asset`'s file and returns the asset as written.
    fn commit_version(
        store: &SqliteStore,
        asset: &ThumbAsset,
        version: i64,
        size: i64,
    ) -> ThumbAsset {
        let file = file_of(asset, version, size);
        let ready = ThumbAsset {
            version,
            size,
            width: file.width,
            height: file.height,
            file_ext: Some(file.file_ext.clone()),
            blob_key: Some(file.blob_key.clone()),
            status: asset_status::READY,
            ..asset.clone()
        };
        store.commit_thumb_file(&ready, &file).unwrap();
        store.thumb_asset(&asset.id).unwrap().unwrap()
    }

    fn ids(assets: &[ThumbAsset]) -> Vec<&str> {
        assets.iter().map(|asset| asset.id.as_str()).collect()
    }

    #[test]
    fn asset_round_trip_keeps_versions() {
        let (_dir, store) = open_store();
        store.insert_entry(&image_entry("0_e", 101)).unwrap();
        let asset = ThumbAsset {
            tags: "a,b".to_string(),
            description: Some("from upload".to_string()),
            thumb_params_id: Some(19),
            ..queued_asset("0_t", "0_e")
        };

        store.insert_thumb_asset(&asset).unwrap();
        let inserted = store.thumb_asset("0_t").unwrap().unwrap();
        assert!(inserted.created_at > 0);
        assert_eq!(inserted.updated_at, inserted.created_at);
        assert_eq!(
            ThumbAsset {
                created_at: 0,
                updated_at: 0,
                ..inserted.clone()
            },
            asset
        );

        let first = commit_version(&store, &inserted, 1, 500);
        let second = commit_version(&store, &first, 2, 700);

        assert_eq!(second.version, 2);
        assert_eq!(second.size, 700);
        assert_eq!(second.status, asset_status::READY);
        assert_eq!(second.blob_key.as_deref(), Some("101/0_e/0_t/2.jpg"));
        assert_eq!(store.thumb_file("0_t", 1).unwrap().unwrap().size, 500);
        assert_eq!(
            store.thumb_file("0_t", 2).unwrap().unwrap(),
            ThumbFile {
                created_at: store.thumb_file("0_t", 2).unwrap().unwrap().created_at,
                ..file_of(&first, 2, 700)
            }
        );
        assert!(store.thumb_file("0_t", 3).unwrap().is_none());
    }

    #[test]
    fn commit_same_version_replaces_file() {
        let (_dir, store) = open_store();
        store.insert_entry(&image_entry("0_e", 101)).unwrap();
        let asset = queued_asset("0_t", "0_e");
        store.insert_thumb_asset(&asset).unwrap();

        commit_version(&store, &asset, 1, 500);
        commit_version(&store, &asset, 1, 800);

        assert_eq!(store.thumb_file("0_t", 1).unwrap().unwrap().size, 800);
    }

    #[test]
    fn commit_inserts_new_asset_with_file() {
        let (_dir, store) = open_store();
        store.insert_entry(&image_entry("0_e", 101)).unwrap();
        let mut asset = queued_asset("0_new", "0_e");
        asset.version = 1;
        asset.status = 2;

        store
            .commit_thumb_file(&asset, &file_of(&asset, 1, 500))
            .unwrap();

        let stored = store.thumb_asset("0_new").unwrap().expect("asset inserted");
        assert_eq!(stored.status, 2);
        assert!(store.thumb_file("0_new", 1).unwrap().is_some());
    }

    #[test]
    fn save_assets_writes_assets_and_details() {
        let (_dir, store) = open_store();
        store.insert_entry(&image_entry("0_e", 101)).unwrap();
        let mut old_default = queued_asset("0_old", "0_e");
        old_default.add_tag(DEFAULT_THUMB_TAG);
        let mut new_default = queued_asset("0_new", "0_e");
        store.insert_thumb_asset(&old_default).unwrap();
        store.insert_thumb_asset(&new_default).unwrap();

        old_default.remove_tag(DEFAULT_THUMB_TAG);
        new_default.add_tag(DEFAULT_THUMB_TAG);
        let details = EntryDetails {
            default_thumb_asset_id: Some("0_new".to_string()),
            thumb_version: 1,
            ..EntryDetails::default()
        };
        store
            .save_thumb_assets(&[old_default, new_default], Some(("0_e", &details)))
            .unwrap();

        assert!(
            !store
                .thumb_asset("0_old")
                .unwrap()
                .unwrap()
                .has_tag(DEFAULT_THUMB_TAG)
        );
        assert!(
            store
                .thumb_asset("0_new")
                .unwrap()
                .unwrap()
                .has_tag(DEFAULT_THUMB_TAG)
        );
        assert_eq!(store.entry("0_e").unwrap().unwrap().details, details);
    }

    #[test]
    fn save_assets_is_all_or_nothing() {
        let (_dir, store) = open_store();
        store.insert_entry(&image_entry("0_e", 101)).unwrap();
        let asset = queued_asset("0_t", "0_e");
        store.insert_thumb_asset(&asset).unwrap();
        let before = store.thumb_asset("0_t").unwrap().unwrap();
        let changed = ThumbAsset {
            tags: DEFAULT_THUMB_TAG.to_string(),
            ..before.clone()
        };
        let details = EntryDetails {
            thumb_version: 9,
            ..EntryDetails::default()
        };

        let missing_asset = store.save_thumb_assets(
            &[changed.clone(), queued_asset("0_missing", "0_e")],
            Some(("0_e", &details)),
        );
        let missing_entry = store.save_thumb_assets(&[changed], Some(("0_none", &details)));

        assert!(matches!(missing_asset, Err(StoreError::NotFound { .. })));
        assert!(matches!(
            missing_entry,
            Err(StoreError::NotFound { kind: "entry", .. })
        ));
        assert_eq!(store.thumb_asset("0_t").unwrap().unwrap(), before);
        assert_eq!(
            store.entry("0_e").unwrap().unwrap().details,
            EntryDetails::default()
        );
    }

    #[test]
    fn entry_assets_skip_deleted() {
        let (_dir, store) = open_store();
        store.insert_entry(&image_entry("0_e", 101)).unwrap();
        store.insert_entry(&image_entry("0_f", 101)).unwrap();
        let later = ThumbAsset {
            created_at: 2000,
            ..queued_asset("0_later", "0_e")
        };
        let earlier = ThumbAsset {
            created_at: 1000,
            ..queued_asset("0_earlier", "0_e")
        };
        let deleted = ThumbAsset {
            status: asset_status::DELETED,
            deleted_at: Some(1500),
            ..queued_asset("0_deleted", "0_e")
        };
        for asset in [
            &later,
            &earlier,
            &deleted,
            &queued_asset("0_elsewhere", "0_f"),
        ] {
            store.insert_thumb_asset(asset).unwrap();
        }

        let assets = store.entry_thumb_assets("0_e").unwrap();

        assert_eq!(ids(&assets), ["0_earlier", "0_later"]);
        assert!(store.thumb_asset("0_deleted").unwrap().is_some());
    }

    #[test]
    fn list_assets_filters_and_pages() {
        let (_dir, store) = open_store();
        store.insert_entry(&image_entry("0_e", 101)).unwrap();
        store.insert_entry(&image_entry("0_f", 202)).unwrap();
        let assets = [
            ThumbAsset {
                tags: "default_thumb, red".to_string(),
                size: 100,
                created_at: 1000,
                updated_at: 1100,
                thumb_params_id: Some(19),
                status: asset_status::READY,
                ..queued_asset("0_a", "0_e")
            },
            ThumbAsset {
                tags: "red,blue".to_string(),
                size: 300,
                created_at: 2000,
                updated_at: 2100,
                status: asset_status::READY,
                ..queued_asset("0_b", "0_e")
            },
            ThumbAsset {
                tags: "reddish".to_string(),
                size: 200,
                created_at: 3000,
                updated_at: 3100,
                status: asset_status::ERROR,
                ..queued_asset("0_c", "0_e")
            },
            ThumbAsset {
                tags: "red".to_string(),
                size: 50,
                created_at: 4000,
                updated_at: 4100,
                deleted_at: Some(4200),
                status: asset_status::DELETED,
                ..queued_asset("0_d", "0_e")
            },
            ThumbAsset {
                partner_id: 202,
                tags: "red".to_string(),
                size: 400,
                created_at: 5000,
                updated_at: 5100,
                status: asset_status::READY,
                ..queued_asset("0_x", "0_f")
            },
        ];
        for asset in &assets {
            store.insert_thumb_asset(asset).unwrap();
        }
        let list = |query: ThumbAssetQuery| -> (Vec<String>, u64) {
            let (page, total) = store
                .list_thumb_assets(&ThumbAssetQuery {
                    limit: 100,
                    ..query
                })
                .unwrap();
            (page.into_iter().map(|asset| asset.id).collect(), total)
        };
        let strings =
            |words: &[&str]| -> Vec<String> { words.iter().map(|w| w.to_string()).collect() };
        let entry_e = ThumbAssetQuery {
            entry_ids: strings(&["0_e"]),
            ..ThumbAssetQuery::default()
        };

        assert_eq!(
            list(ThumbAssetQuery::default()),
            (strings(&["0_a", "0_b", "0_c", "0_x"]), 4)
        );
        assert_eq!(list(entry_e.clone()), (strings(&["0_a", "0_b", "0_c"]), 3));
        assert_eq!(
            list(ThumbAssetQuery {
                ids: strings(&["0_b", "0_x"]),
                ..entry_e.clone()
            })
            .0,
            ["0_b"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                partner_ids: vec![202],
                ..Default::default()
            })
            .0,
            ["0_x"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                size_at_least: Some(150),
                size_at_most: Some(300),
                ..entry_e.clone()
            })
            .0,
            ["0_b", "0_c"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                tags_any: strings(&["red"]),
                ..entry_e.clone()
            })
            .0,
            ["0_a", "0_b"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                tags_any: strings(&["blue", "reddish"]),
                ..entry_e.clone()
            })
            .0,
            ["0_b", "0_c"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                tags_all: strings(&["red", "default_thumb"]),
                ..entry_e.clone()
            })
            .0,
            ["0_a"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                created_at_least: Some(2000),
                created_at_most: Some(3000),
                ..entry_e.clone()
            })
            .0,
            ["0_b", "0_c"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                updated_at_least: Some(3100),
                updated_at_most: Some(9999),
                ..entry_e.clone()
            })
            .0,
            ["0_c"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                thumb_params_ids: vec![19],
                ..entry_e.clone()
            })
            .0,
            ["0_a"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                statuses: vec![asset_status::ERROR],
                ..entry_e.clone()
            })
            .0,
            ["0_c"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                statuses: vec![asset_status::DELETED],
                ..entry_e.clone()
            })
            .0,
            ["0_d"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                statuses_excluded: vec![asset_status::READY],
                ..entry_e.clone()
            })
            .0,
            ["0_c"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                order_by: Some("-size".to_string()),
                ..entry_e.clone()
            })
            .0,
            ["0_b", "0_c", "0_a"]
        );
        assert_eq!(
            list(ThumbAssetQuery {
                order_by: Some("-createdAt".to_string()),
                ..entry_e.clone()
            })
            .0,
            ["0_c", "0_b", "0_a"]
        );

        let (page, total) = store
            .list_thumb_assets(&ThumbAssetQuery {
                offset: 1,
                limit: 1,
                ..entry_e.clone()
            })
            .unwrap();
        assert_eq!(ids(&page), ["0_b"]);
        assert_eq!(total, 3);
        let (page, total) = store
            .list_thumb_assets(&ThumbAssetQuery {
                limit: 0,
                ..entry_e.clone()
            })
            .unwrap();
        assert!(page.is_empty());
        assert_eq!(total, 3);
        let (page, total) = store
            .list_thumb_assets(&ThumbAssetQuery {
                offset: 10,
                limit: 5,
                ..entry_e
            })
            .unwrap();
        assert!(page.is_empty());
        assert_eq!(total, 3);
    }

    #[test]
    fn blob_keys_include_thumb_files() {
        let (_dir, store) = open_store();
        store.insert_entry(&image_entry("0_e", 101)).unwrap();
        let asset = queued_asset("0_t", "0_e");
        store.insert_thumb_asset(&asset).unwrap();
        commit_version(&store, &asset, 1, 500);
        commit_version(&store, &asset, 2, 600);

        let mut keys = store.blob_keys().unwrap();
        keys.sort();

        assert_eq!(
            keys,
            ["101/0_e/0_t/1.jpg", "101/0_e/0_t/2.jpg", "101/0_e/1.jpg"]
        );
    }
}
