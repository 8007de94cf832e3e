//! Entry rows as the API v3 services write them: creation with details, content
//! attachment, name and details updates, and `media.list`.

use rusqlite::{Connection, params};

use super::query::{Conditions, Page, require_changed, select_page};
use crate::store::StoreError;
use crate::store::api_model::{EntryDetails, EntryQuery};
use crate::store::model::{Entry, EntryStatus, NewEntry};
use crate::store::sqlite::{ENTRY_COLUMNS, entry_from_row, insert_entry_row, now, read_entry};

/// Inserts the entry at version 1 with its details.
pub(super) fn create(
    connection: &Connection,
    entry: &NewEntry,
    details: &EntryDetails,
) -> Result<Entry, StoreError> {
    insert_entry_row(connection, entry, details, now())
}

/// Writes the media facts of `content` (its id, partner and name are ignored),
/// raises the version by one and returns the updated entry.
pub(super) fn attach_content(
    connection: &Connection,
    entry_id: &str,
    content: &NewEntry,
) -> Result<Entry, StoreError> {
    let changed = connection.execute(
        "UPDATE entries SET blob_key = ?2, media_type = ?3, status = ?4, stored_width = ?5,
             stored_height = ?6, orientation = ?7, duration = ?8, frame_rate = ?9,
             flavor_id = ?10, file_size = ?11, format = ?12, version = version + 1,
             updated_at = ?13
         WHERE id = ?1",
        params![
            entry_id,
            content.blob_key,
            content.media_type.number(),
            content.status.0,
            content.stored_size.width,
            content.stored_size.height,
            content.orientation.exif_value(),
            content.duration,
            content.frame_rate,
            content.flavor_id,
            content.file_size as i64,
            content.format,
            now(),
        ],
    )?;
    require_changed(changed, "entry", entry_id)?;

    require_entry(connection, entry_id)
}

/// Replaces the name and details, sets `updated_at` to now and returns the entry.
pub(super) fn update(
    connection: &Connection,
    entry_id: &str,
    name: &str,
    details: &EntryDetails,
) -> Result<Entry, StoreError> {
    let details = serde_json::to_string(details)?;
    let changed = connection.execute(
        "UPDATE entries SET name = ?2, details = ?3, updated_at = ?4 WHERE id = ?1",
        params![entry_id, name, details, now()],
    )?;
    require_changed(changed, "entry", entry_id)?;

    require_entry(connection, entry_id)
}

/// Replaces the details and sets `updated_at` to now.
pub(super) fn write_details(
    connection: &Connection,
    entry_id: &str,
    details: &EntryDetails,
) -> Result<(), StoreError> {
    let details = serde_json::to_string(details)?;
    let changed = connection.execute(
        "UPDATE entries SET details = ?2, updated_at = ?3 WHERE id = ?1",
        params![entry_id, details, now()],
    )?;
    require_changed(changed, "entry", entry_id)
}

/// Lists the partner's entries that match every set filter field, deleted entries
/// excluded. `name_like` matches anywhere in the name, ignoring ASCII case.
pub(super) fn list(
    connection: &Connection,
    query: &EntryQuery,
) -> Result<(Vec<Entry>, u64), StoreError> {
    let mut conditions = Conditions::default();
    conditions.add("partner_id = ?", [query.partner_id.into()]);
    conditions.add("status <> ?", [EntryStatus::DELETED.0.into()]);
    conditions.add_in("id", &query.ids);
    conditions.add_in("media_type", &query.media_types);
    conditions.add_in("status", &query.statuses);
    if let Some(text) = &query.name_like {
        let pattern = format!("%{}%", escape_like(text));
        conditions.add("name LIKE ? ESCAPE '\\'", [pattern.into()]);
    }

    let order_by = order_sql(query.order_by.as_deref());
    let page = Page {
        offset: query.offset,
        limit: query.limit,
    };
    select_page(
        connection,
        "entries",
        ENTRY_COLUMNS,
        &conditions,
        order_by,
        page,
        |row| Ok(entry_from_row(row)?),
    )
}

/// Maps an `EntryQuery::order_by` value to SQL. Other values keep insertion order.
fn order_sql(order_by: Option<&str>) -> &'static str {
    match order_by {
        Some("+createdAt") => "created_at ASC, rowid",
        Some("-createdAt") => "created_at DESC, rowid",
        Some("+updatedAt") => "updated_at ASC, rowid",
        Some("-updatedAt") => "updated_at DESC, rowid",
        Some("+name") => "name ASC, rowid",
        Some("-name") => "name DESC, rowid",
        _ => "rowid",
    }
}

/// Escapes the LIKE wildcards `%` and `_` (and the escape character `\`).
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

fn require_entry(connection: &Connection, entry_id: &str) -> Result<Entry, StoreError> {
    read_entry(connection, entry_id)?.ok_or_else(|| StoreError::NotFound {
        kind: "entry",
        id: entry_id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use crate::source::MediaType;
    use crate::store::sqlite_api::test_support::{image_entry, open_store};
    use crate::store::{
        ApiStore, EntryDetails, EntryQuery, EntryStatus, MetadataStore, StoreError,
    };

    fn details_with_tags(tags: &str) -> EntryDetails {
        EntryDetails {
            tags: Some(tags.to_string()),
            default_thumb_asset_id: Some("0_thumb".to_string()),
            thumb_version: 4,
            ..EntryDetails::default()
        }
    }

    #[test]
    fn create_entry_stores_details() {
        let (_dir, store) = open_store();

        let created = store
            .create_entry(&image_entry("0_a", 101), &details_with_tags("red"))
            .unwrap();
        let read = store.entry("0_a").unwrap().unwrap();

        assert_eq!(created, read);
        assert_eq!(read.details, details_with_tags("red"));
        assert_eq!(read.version, 1);
        assert!(read.created_at > 0);
    }

    #[test]
    fn attach_content_raises_version() {
        let (_dir, store) = open_store();
        let mut empty = image_entry("0_a", 101);
        empty.status = EntryStatus::NO_CONTENT;
        empty.blob_key = String::new();
        store
            .create_entry(&empty, &details_with_tags("red"))
            .unwrap();

        let mut content = image_entry("ignored", 202);
        content.name = "Ignored".to_string();
        content.media_type = MediaType::Video;
        content.duration = 12.5;
        content.blob_key = "101/0_a/2.mp4".to_string();
        content.format = "mp4".to_string();
        let entry = store.attach_entry_content("0_a", &content).unwrap();

        assert_eq!(entry.id, "0_a");
        assert_eq!(entry.partner_id, 101);
        assert_eq!(entry.name, "Entry 0_a");
        assert_eq!(entry.version, 2);
        assert_eq!(entry.status, EntryStatus::READY);
        assert_eq!(entry.media_type, MediaType::Video);
        assert_eq!(entry.duration, 12.5);
        assert_eq!(entry.blob_key, "101/0_a/2.mp4");
        assert_eq!(entry.format, "mp4");
        assert_eq!(entry.details, details_with_tags("red"));
    }

    #[test]
    fn attach_content_missing_entry() {
        let (_dir, store) = open_store();

        let result = store.attach_entry_content("0_none", &image_entry("0_none", 101));

        assert!(matches!(
            result,
            Err(StoreError::NotFound { kind: "entry", .. })
        ));
    }

    #[test]
    fn update_entry_replaces_name_and_details() {
        let (_dir, store) = open_store();
        store
            .create_entry(&image_entry("0_a", 101), &details_with_tags("red"))
            .unwrap();

        let updated = store
            .update_entry("0_a", "Renamed", &details_with_tags("blue"))
            .unwrap();

        assert_eq!(updated.name, "Renamed");
        assert_eq!(updated.details, details_with_tags("blue"));
        assert_eq!(store.entry("0_a").unwrap().unwrap(), updated);
    }

    #[test]
    fn list_entries_filters_and_pages() {
        let (_dir, store) = open_store();
        for (id, name) in [
            ("0_a", "Beach 100%"),
            ("0_b", "beach party"),
            ("0_c", "Mountain"),
            ("0_d", "Beach old"),
        ] {
            let mut entry = image_entry(id, 101);
            entry.name = name.to_string();
            store
                .create_entry(&entry, &EntryDetails::default())
                .unwrap();
        }
        store
            .create_entry(&image_entry("0_other", 202), &EntryDetails::default())
            .unwrap();
        store.set_entry_status("0_d", EntryStatus::DELETED).unwrap();
        let ids = |entries: Vec<crate::store::Entry>| -> Vec<String> {
            entries.into_iter().map(|e| e.id).collect()
        };

        let all = EntryQuery {
            partner_id: 101,
            limit: 10,
            ..EntryQuery::default()
        };
        let (page, total) = store.list_entries(&all).unwrap();
        assert_eq!(ids(page), ["0_a", "0_b", "0_c"]);
        assert_eq!(total, 3);

        let beach = EntryQuery {
            name_like: Some("BEACH".to_string()),
            order_by: Some("-name".to_string()),
            ..all.clone()
        };
        let (page, total) = store.list_entries(&beach).unwrap();
        assert_eq!(ids(page), ["0_b", "0_a"]);
        assert_eq!(total, 2);

        let percent = EntryQuery {
            name_like: Some("0%".to_string()),
            ..all.clone()
        };
        assert_eq!(ids(store.list_entries(&percent).unwrap().0), ["0_a"]);

        let by_id = EntryQuery {
            ids: vec!["0_c".to_string(), "0_other".to_string(), "0_d".to_string()],
            ..all.clone()
        };
        assert_eq!(ids(store.list_entries(&by_id).unwrap().0), ["0_c"]);

        let videos = EntryQuery {
            media_types: vec![MediaType::Video.number()],
            ..all.clone()
        };
        assert_eq!(store.list_entries(&videos).unwrap().1, 0);

        let second_page = EntryQuery {
            offset: 1,
            limit: 1,
            ..all.clone()
        };
        let (page, total) = store.list_entries(&second_page).unwrap();
        assert_eq!(ids(page), ["0_b"]);
        assert_eq!(total, 3);

        let count_only = EntryQuery { limit: 0, ..all };
        let (page, total) = store.list_entries(&count_only).unwrap();
        assert!(page.is_empty());
        assert_eq!(total, 3);
    }
}
