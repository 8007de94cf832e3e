//! Upload tokens (`upload_tokens`): uploads in progress or finished.

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::query::{
    Conditions, Page, insert_row, nonzero_or, require_changed, select_page, update_row,
};
use crate::store::StoreError;
use crate::store::api_model::{UploadToken, upload_status};
use crate::store::sqlite::now;

const TABLE: &str = "upload_tokens";

/// Inserts the token under its own id, with zero timestamps set to now.
pub(super) fn insert(connection: &Connection, token: &UploadToken) -> Result<(), StoreError> {
    let timestamp = now();
    let created_at = nonzero_or(token.created_at, timestamp);
    let updated_at = nonzero_or(token.updated_at, timestamp);

    insert_row(
        connection,
        TABLE,
        &token_values(token, &created_at, &updated_at),
    )?;
    Ok(())
}

/// Reads a token by id, deleted ones included.
pub(super) fn get(connection: &Connection, id: &str) -> Result<Option<UploadToken>, StoreError> {
    let token = connection
        .query_row(
            "SELECT * FROM upload_tokens WHERE id = ?1",
            params![id],
            token_from_row,
        )
        .optional()?;
    Ok(token)
}

/// Writes every column of the token as given. Returns [`StoreError::NotFound`]
/// unless a row matches both `id` and `partner_id`.
pub(super) fn update(connection: &Connection, token: &UploadToken) -> Result<(), StoreError> {
    let values = token_values(token, &token.created_at, &token.updated_at);
    let changed = update_row(connection, TABLE, &values, &["id", "partner_id"])?;
    require_changed(changed, "upload token", &token.id)
}

/// Lists the partner's tokens with one of `statuses` (any status when empty), in
/// insertion order. Deleted tokens are excluded unless `statuses` contains
/// [`upload_status::DELETED`].
pub(super) fn list(
    connection: &Connection,
    partner_id: i64,
    statuses: &[i64],
    page: Page,
) -> Result<(Vec<UploadToken>, u64), StoreError> {
    let mut conditions = Conditions::default();
    conditions.add("partner_id = ?", [partner_id.into()]);
    conditions.add_in("status", statuses);
    if !statuses.contains(&upload_status::DELETED) {
        conditions.add("status <> ?", [upload_status::DELETED.into()]);
    }

    select_page(connection, TABLE, "*", &conditions, "rowid", page, |row| {
        Ok(token_from_row(row)?)
    })
}

fn token_values<'a>(
    token: &'a UploadToken,
    created_at: &'a i64,
    updated_at: &'a i64,
) -> [(&'static str, &'a dyn ToSql); 12] {
    [
        (":id", &token.id),
        (":partner_id", &token.partner_id),
        (":user_id", &token.user_id),
        (":status", &token.status),
        (":file_name", &token.file_name),
        (":file_size", &token.file_size),
        (":uploaded_file_size", &token.uploaded_file_size),
        (":auto_finalize", &token.auto_finalize),
        (":attached_object_type", &token.attached_object_type),
        (":attached_object_id", &token.attached_object_id),
        (":created_at", created_at),
        (":updated_at", updated_at),
    ]
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<UploadToken> {
    Ok(UploadToken {
        id: row.get("id")?,
        partner_id: row.get("partner_id")?,
        user_id: row.get("user_id")?,
        status: row.get("status")?,
        file_name: row.get("file_name")?,
        file_size: row.get("file_size")?,
        uploaded_file_size: row.get("uploaded_file_size")?,
        auto_finalize: row.get("auto_finalize")?,
        attached_object_type: row.get("attached_object_type")?,
        attached_object_id: row.get("attached_object_id")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use crate::store::sqlite_api::test_support::open_store;
    use crate::store::{ApiStore, StoreError, UploadToken, upload_status};

    fn pending_token(id: &str, partner_id: i64) -> UploadToken {
        UploadToken {
            id: id.to_string(),
            partner_id,
            user_id: "editor@example.com".to_string(),
            status: upload_status::PENDING,
            file_name: Some("beach.jpg".to_string()),
            file_size: Some(2048.0),
            uploaded_file_size: 0.0,
            auto_finalize: Some(1),
            ..UploadToken::default()
        }
    }

    fn listed_ids(store: &dyn ApiStore, statuses: &[i64]) -> (Vec<String>, u64) {
        let (page, total) = store.list_upload_tokens(101, statuses, 0, 10).unwrap();
        (page.into_iter().map(|token| token.id).collect(), total)
    }

    #[test]
    fn token_round_trip_and_update() {
        let (_dir, store) = open_store();
        let token = pending_token("0_up1", 101);

        store.insert_upload_token(&token).unwrap();
        let mut read = store.upload_token("0_up1").unwrap().unwrap();
        assert!(read.created_at > 0);
        assert_eq!(
            read,
            UploadToken {
                created_at: read.created_at,
                updated_at: read.created_at,
                ..token
            }
        );

        read.status = upload_status::FULL_UPLOAD;
        read.uploaded_file_size = 2048.0;
        read.attached_object_type = Some("KalturaThumbAsset".to_string());
        read.attached_object_id = Some("0_thumb".to_string());
        read.updated_at = read.created_at + 5;
        store.update_upload_token(&read).unwrap();

        assert_eq!(store.upload_token("0_up1").unwrap().unwrap(), read);
        assert!(store.upload_token("0_none").unwrap().is_none());
    }

    #[test]
    fn update_token_of_other_partner() {
        let (_dir, store) = open_store();
        store
            .insert_upload_token(&pending_token("0_up1", 101))
            .unwrap();

        let result = store.update_upload_token(&UploadToken {
            status: upload_status::CLOSED,
            ..pending_token("0_up1", 202)
        });

        assert!(matches!(result, Err(StoreError::NotFound { .. })));
        assert_eq!(
            store.upload_token("0_up1").unwrap().unwrap().status,
            upload_status::PENDING
        );
    }

    #[test]
    fn list_tokens_by_status() {
        let (_dir, store) = open_store();
        store
            .insert_upload_token(&pending_token("0_a", 101))
            .unwrap();
        store
            .insert_upload_token(&UploadToken {
                status: upload_status::FULL_UPLOAD,
                ..pending_token("0_b", 101)
            })
            .unwrap();
        store
            .insert_upload_token(&UploadToken {
                status: upload_status::DELETED,
                ..pending_token("0_c", 101)
            })
            .unwrap();
        store
            .insert_upload_token(&pending_token("0_other", 202))
            .unwrap();

        assert_eq!(
            listed_ids(&store, &[]),
            (vec!["0_a".to_string(), "0_b".to_string()], 2)
        );
        assert_eq!(listed_ids(&store, &[upload_status::FULL_UPLOAD]).0, ["0_b"]);
        assert_eq!(listed_ids(&store, &[upload_status::DELETED]).0, ["0_c"]);
        let (page, total) = store.list_upload_tokens(101, &[], 1, 5).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].id, "0_b");
        assert_eq!(total, 2);
        let (page, total) = store.list_upload_tokens(101, &[], 0, 0).unwrap();
        assert!(page.is_empty());
        assert_eq!(total, 2);
    }
}
