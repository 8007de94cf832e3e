//! Versioned SQLite schema: the tables of each version and the migrations that
//! bring an older database file up to date, tracked in `PRAGMA user_version`.

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use super::now;
use crate::store::StoreError;
use crate::store::api_model::{DEFAULT_THUMB_PARAMS_ID, DEFAULT_THUMB_TAG, ThumbParamsSettings};

/// Schema version that this build creates and reads.
const LATEST_VERSION: i64 = 2;

/// Version 1: partners, entries and access-control rules. The first release created
/// these tables and left `user_version` at 0. This text must not change, because
/// databases of that release already hold it.
const VERSION_1: &str = "
CREATE TABLE IF NOT EXISTS partners (
    id INTEGER PRIMARY KEY,
    admin_secret TEXT NOT NULL,
    secret TEXT NOT NULL,
    status INTEGER NOT NULL DEFAULT 1,
    settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS access_control_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    rules TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    name TEXT NOT NULL,
    media_type INTEGER NOT NULL,
    status INTEGER NOT NULL,
    stored_width INTEGER NOT NULL,
    stored_height INTEGER NOT NULL,
    orientation INTEGER NOT NULL,
    duration REAL NOT NULL,
    frame_rate REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    flavor_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    format TEXT NOT NULL,
    access_control_id INTEGER REFERENCES access_control_profiles(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_partner ON entries(partner_id);
";

/// Version 2: the records of the API v3 services. JSON columns hold
/// `EntryDetails` (`entries.details`) and `ThumbParamsSettings`
/// (`thumb_params.settings`). Timestamps are unix seconds.
const VERSION_2: &str = "
ALTER TABLE entries ADD COLUMN details TEXT NOT NULL DEFAULT '{}';

ALTER TABLE access_control_profiles ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE access_control_profiles ADD COLUMN system_name TEXT NOT NULL DEFAULT '';
ALTER TABLE access_control_profiles ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE access_control_profiles ADD COLUMN is_default INTEGER NOT NULL DEFAULT 0;
ALTER TABLE access_control_profiles ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE access_control_profiles ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX access_control_profiles_partner ON access_control_profiles(partner_id);

CREATE TABLE thumb_assets (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES entries(id),
    partner_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    tags TEXT NOT NULL,
    file_ext TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER,
    description TEXT,
    partner_data TEXT,
    partner_description TEXT,
    actual_source_asset_params_ids TEXT,
    size INTEGER NOT NULL,
    thumb_params_id INTEGER,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    status INTEGER NOT NULL,
    blob_key TEXT
);
CREATE INDEX thumb_assets_entry ON thumb_assets(entry_id);

CREATE TABLE thumb_files (
    asset_id TEXT NOT NULL REFERENCES thumb_assets(id),
    version INTEGER NOT NULL,
    blob_key TEXT NOT NULL,
    file_ext TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (asset_id, version)
);

CREATE TABLE thumb_params (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    system_name TEXT NOT NULL,
    description TEXT NOT NULL,
    tags TEXT NOT NULL,
    is_system_default INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER,
    settings TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX thumb_params_partner ON thumb_params(partner_id);

CREATE TABLE conversion_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    profile_type TEXT NOT NULL,
    name TEXT NOT NULL,
    system_name TEXT NOT NULL,
    tags TEXT NOT NULL,
    description TEXT NOT NULL,
    default_entry_id TEXT,
    flavor_params_ids TEXT NOT NULL,
    is_default INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversion_profiles_partner ON conversion_profiles(partner_id);

CREATE TABLE upload_tokens (
    id TEXT PRIMARY KEY,
    partner_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    file_name TEXT,
    file_size REAL,
    uploaded_file_size REAL NOT NULL,
    auto_finalize INTEGER,
    attached_object_type TEXT,
    attached_object_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX upload_tokens_partner ON upload_tokens(partner_id);
";

/// First id that `thumb_params` assigns to inserted rows. Lower ids belong to
/// system defaults.
const FIRST_PARTNER_THUMB_PARAMS_ID: i64 = 1001;

/// One migration step, bringing the database from the version before it to the
/// next one.
type Migration = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// Migrations in order. The step at index `i` brings version `i` to `i + 1`.
const MIGRATIONS: [Migration; LATEST_VERSION as usize] = [migrate_to_1, migrate_to_2];

/// Brings the database to [`LATEST_VERSION`] in one transaction, so a failed step
/// leaves the file at its old version. Reopening a migrated file changes nothing.
pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;

    if version > LATEST_VERSION {
        // NOTE: StoreError has no variant for a schema from a newer build, so the file
        // is opened as is. Columns that a newer build added are left alone.
        tracing::warn!(
            version,
            supported = LATEST_VERSION,
            "database schema is newer than this build supports; opening it anyway"
        );
        return Ok(());
    }

    for (from, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        step(&transaction)?;
        tracing::info!(from, to = from + 1, "migrated database schema");
    }

    transaction.pragma_update(None, "user_version", LATEST_VERSION)?;
    transaction.commit()?;
    Ok(())
}

/// Creates the version 1 tables. A first-release file at version 0 already has
/// them, and `IF NOT EXISTS` leaves them as they are.
fn migrate_to_1(transaction: &Transaction<'_>) -> Result<(), StoreError> {
    transaction.execute_batch(VERSION_1)?;
    Ok(())
}

/// Adds the API v3 tables and columns, seeds the system default thumbnail template
/// and starts partner template ids at [`FIRST_PARTNER_THUMB_PARAMS_ID`].
fn migrate_to_2(transaction: &Transaction<'_>) -> Result<(), StoreError> {
    transaction.execute_batch(VERSION_2)?;

    seed_default_thumb_params(transaction)?;

    transaction.execute(
        "DELETE FROM sqlite_sequence WHERE name = 'thumb_params'",
        [],
    )?;
    transaction.execute(
        "INSERT INTO sqlite_sequence (name, seq) VALUES ('thumb_params', ?1)",
        params![FIRST_PARTNER_THUMB_PARAMS_ID - 1],
    )?;
    Ok(())
}

/// Inserts "Default Thumbnail" (id 19, partner 0) with the settings of a fresh
/// Kaltura install: a JPEG at quality 100 of the source's size, captured at second 3.
fn seed_default_thumb_params(transaction: &Transaction<'_>) -> Result<(), StoreError> {
    let settings = ThumbParamsSettings {
        crop_type: Some(1),
        quality: Some(100),
        crop_x: Some(0),
        crop_y: Some(0),
        crop_width: Some(0),
        crop_height: Some(0),
        video_offset: Some(3.0),
        width: Some(0),
        height: Some(0),
        scale_width: Some(0.0),
        scale_height: Some(0.0),
        background_color: Some("0".to_string()),
        format: Some("jpg".to_string()),
        ..ThumbParamsSettings::default()
    };
    let settings = serde_json::to_string(&settings)?;
    let timestamp = now();

    transaction.execute(
        "INSERT INTO thumb_params (id, partner_id, name, system_name, description, tags,
             is_system_default, created_at, updated_at, deleted_at, settings)
         VALUES (?1, 0, 'Default Thumbnail', '', '', ?2, 1, ?3, ?3, NULL, ?4)",
        params![
            DEFAULT_THUMB_PARAMS_ID,
            DEFAULT_THUMB_TAG,
            timestamp,
            settings
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, params};

    use super::{LATEST_VERSION, VERSION_1};
    use crate::store::{
        ApiStore, DEFAULT_THUMB_PARAMS_ID, EntryDetails, MetadataStore, SqliteStore, ThumbParams,
    };

    fn user_version(path: &std::path::Path) -> i64 {
        let connection = Connection::open(path).unwrap();
        connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    /// Writes a database as the first release left it: version 1 tables, one
    /// partner and one entry, and `user_version` set to `version`.
    fn write_version_1_file(path: &std::path::Path, version: i64) {
        let connection = Connection::open(path).unwrap();
        connection.execute_batch(VERSION_1).unwrap();
        connection
            .execute(
                "INSERT INTO partners (id, admin_secret, secret) VALUES (101, 'admin', 'user')",
                [],
            )
            .unwrap();
        connection
            .execute(
                "INSERT INTO entries (id, partner_id, name, media_type, status, stored_width,
                     stored_height, orientation, duration, frame_rate, version, flavor_id,
                     blob_key, file_size, format, access_control_id, created_at, updated_at)
                 VALUES ('0_old', 101, 'Old entry', 2, 2, 640, 480, 1, 0.0, 0.0, 3, '0_flavor',
                     '101/0_old/3.jpg', 1234, 'jpg', NULL, 1000, 2000)",
                [],
            )
            .unwrap();
        connection
            .pragma_update(None, "user_version", version)
            .unwrap();
    }

    #[test]
    fn version_0_file_migrates_and_keeps_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("thumbd.sqlite3");
        write_version_1_file(&path, 0);

        let store = SqliteStore::open(&path).unwrap();
        let entry = store.entry("0_old").unwrap().expect("entry kept");

        assert_eq!(entry.name, "Old entry");
        assert_eq!(entry.version, 3);
        assert_eq!(entry.blob_key, "101/0_old/3.jpg");
        assert_eq!(entry.created_at, 1000);
        assert_eq!(entry.details, EntryDetails::default());
        assert!(
            store
                .thumb_params(DEFAULT_THUMB_PARAMS_ID)
                .unwrap()
                .is_some()
        );
        drop(store);
        assert_eq!(user_version(&path), LATEST_VERSION);
    }

    #[test]
    fn version_1_file_migrates_access_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("thumbd.sqlite3");
        write_version_1_file(&path, 1);
        let connection = Connection::open(&path).unwrap();
        connection
            .execute(
                "INSERT INTO access_control_profiles (partner_id, rules)
                 VALUES (101, '{\"require_ks\":true}')",
                [],
            )
            .unwrap();
        drop(connection);

        let store = SqliteStore::open(&path).unwrap();
        let profile = store
            .access_control_profile(1)
            .unwrap()
            .expect("profile kept");

        assert!(profile.rules.require_ks);
        assert_eq!(profile.partner_id, 101);
        assert_eq!(profile.name, "");
        assert!(store.entry("0_old").unwrap().is_some());
    }

    #[test]
    fn reopen_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("thumbd.sqlite3");
        let store = SqliteStore::open(&path).unwrap();
        let first_id = store
            .insert_thumb_params(&ThumbParams {
                partner_id: 101,
                name: "Small".to_string(),
                ..ThumbParams::default()
            })
            .unwrap();
        drop(store);

        let store = SqliteStore::open(&path).unwrap();
        let second_id = store
            .insert_thumb_params(&ThumbParams {
                partner_id: 101,
                name: "Large".to_string(),
                ..ThumbParams::default()
            })
            .unwrap();
        drop(store);
        let store = SqliteStore::open(&path).unwrap();

        assert_eq!(first_id, 1001);
        assert_eq!(second_id, 1002);
        assert_eq!(store.thumb_params(first_id).unwrap().unwrap().name, "Small");
        drop(store);
        assert_eq!(user_version(&path), LATEST_VERSION);
        let connection = Connection::open(&path).unwrap();
        let seeds: i64 = connection
            .query_row(
                "SELECT count(*) FROM thumb_params WHERE id = ?1",
                params![DEFAULT_THUMB_PARAMS_ID],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(seeds, 1);
    }

    #[test]
    fn newer_version_opens_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("thumbd.sqlite3");
        drop(SqliteStore::open(&path).unwrap());
        let connection = Connection::open(&path).unwrap();
        connection
            .pragma_update(None, "user_version", LATEST_VERSION + 1)
            .unwrap();
        drop(connection);

        let store = SqliteStore::open(&path).unwrap();

        assert!(
            store
                .thumb_params(DEFAULT_THUMB_PARAMS_ID)
                .unwrap()
                .is_some()
        );
        drop(store);
        assert_eq!(user_version(&path), LATEST_VERSION + 1);
    }
}
