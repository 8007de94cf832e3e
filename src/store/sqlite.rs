//! `MetadataStore` on an embedded SQLite database.

mod schema;

use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::api_model::EntryDetails;
use super::model::{AccessRules, Entry, EntryStatus, NewEntry, Partner, PartnerSettings};
use super::{MetadataStore, StoreError};
use crate::frame::{Orientation, Size};
use crate::source::MediaType;

/// Columns that [`entry_from_row`] reads, in its order.
pub(super) const ENTRY_COLUMNS: &str = "id, partner_id, name, media_type, status, stored_width, stored_height, \
    orientation, duration, frame_rate, version, flavor_id, blob_key, file_size, format, \
    access_control_id, created_at, updated_at, details";

/// SQLite-backed metadata; one connection behind a mutex, used from blocking threads.
pub struct SqliteStore {
    connection: Mutex<Connection>,
}

/// Returns the current time in unix seconds.
pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and migrates it to the latest
    /// schema version in one transaction.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;

        schema::migrate(&mut connection)?;

        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    /// Runs `f` on the connection outside any explicit transaction.
    pub(super) fn with<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, StoreError>
    where
        StoreError: From<E>,
    {
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f(&connection)?)
    }

    /// Runs `f` in one immediate transaction, committed when `f` returns `Ok` and
    /// rolled back when it returns an error.
    pub(super) fn with_transaction<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;

        let value = f(&transaction)?;

        transaction.commit()?;
        Ok(value)
    }
}

/// Reads an entry from a row selected with [`ENTRY_COLUMNS`].
pub(super) fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let media_type: i64 = row.get(3)?;
    let details: String = row.get(18)?;
    let details: EntryDetails = serde_json::from_str(&details)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(18, Type::Text, Box::new(e)))?;
    Ok(Entry {
        id: row.get(0)?,
        partner_id: row.get(1)?,
        name: row.get(2)?,
        media_type: MediaType::from_number(media_type).unwrap_or(MediaType::Image),
        status: EntryStatus(row.get(4)?),
        stored_size: Size::new(row.get(5)?, row.get(6)?),
        orientation: Orientation::from_exif(row.get(7)?),
        duration: row.get(8)?,
        frame_rate: row.get(9)?,
        version: row.get(10)?,
        flavor_id: row.get(11)?,
        blob_key: row.get(12)?,
        file_size: row.get::<_, i64>(13)? as u64,
        format: row.get(14)?,
        access_control_id: row.get(15)?,
        created_at: row.get(16)?,
        updated_at: row.get(17)?,
        details,
    })
}

/// Reads one entry by id.
pub(super) fn read_entry(
    connection: &Connection,
    entry_id: &str,
) -> rusqlite::Result<Option<Entry>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id = ?1");
    connection
        .query_row(&sql, params![entry_id], entry_from_row)
        .optional()
}

/// Inserts an entry row at version 1 with `created_at` and `updated_at` set to
/// `timestamp`, and returns it as stored.
pub(super) fn insert_entry_row(
    connection: &Connection,
    entry: &NewEntry,
    details: &EntryDetails,
    timestamp: i64,
) -> Result<Entry, StoreError> {
    let details = serde_json::to_string(details)?;
    connection.execute(
        &format!(
            "INSERT INTO entries ({ENTRY_COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12, ?13, ?14, NULL, ?15, ?15, ?16)"
        ),
        params![
            entry.id,
            entry.partner_id,
            entry.name,
            entry.media_type.number(),
            entry.status.0,
            entry.stored_size.width,
            entry.stored_size.height,
            entry.orientation.exif_value(),
            entry.duration,
            entry.frame_rate,
            entry.flavor_id,
            entry.blob_key,
            entry.file_size as i64,
            entry.format,
            timestamp,
            details,
        ],
    )?;

    read_entry(connection, &entry.id)?.ok_or_else(|| StoreError::NotFound {
        kind: "entry",
        id: entry.id.clone(),
    })
}

impl MetadataStore for SqliteStore {
    fn partner(&self, partner_id: i64) -> Result<Option<Partner>, StoreError> {
        let row = self.with(|c| {
            c.query_row(
                "SELECT id, admin_secret, secret, status, settings FROM partners WHERE id = ?1",
                params![partner_id],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()
        })?;
        let Some((id, admin_secret, secret, status, settings)) = row else {
            return Ok(None);
        };
        let settings: PartnerSettings = serde_json::from_str(&settings)?;
        Ok(Some(Partner {
            id,
            admin_secret,
            secret,
            status,
            settings,
        }))
    }

    fn upsert_partner(&self, partner: &Partner) -> Result<(), StoreError> {
        let settings = serde_json::to_string(&partner.settings)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO partners (id, admin_secret, secret, status, settings)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id) DO UPDATE SET admin_secret = excluded.admin_secret,
                     secret = excluded.secret, status = excluded.status,
                     settings = excluded.settings",
                params![
                    partner.id,
                    partner.admin_secret,
                    partner.secret,
                    partner.status,
                    settings
                ],
            )
        })?;
        Ok(())
    }

    fn entry(&self, entry_id: &str) -> Result<Option<Entry>, StoreError> {
        self.with(|c| read_entry(c, entry_id))
    }

    fn insert_entry(&self, entry: &NewEntry) -> Result<Entry, StoreError> {
        let timestamp = now();
        self.with(|c| insert_entry_row(c, entry, &EntryDetails::default(), timestamp))
    }

    fn set_entry_status(&self, entry_id: &str, status: EntryStatus) -> Result<(), StoreError> {
        let changed = self.with(|c| {
            c.execute(
                "UPDATE entries SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![entry_id, status.0, now()],
            )
        })?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                kind: "entry",
                id: entry_id.to_string(),
            });
        }
        Ok(())
    }

    fn set_entry_access_control(
        &self,
        entry_id: &str,
        profile_id: Option<i64>,
    ) -> Result<(), StoreError> {
        let changed = self.with(|c| {
            c.execute(
                "UPDATE entries SET access_control_id = ?2, updated_at = ?3 WHERE id = ?1",
                params![entry_id, profile_id, now()],
            )
        })?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                kind: "entry",
                id: entry_id.to_string(),
            });
        }
        Ok(())
    }

    fn access_rules(&self, profile_id: i64) -> Result<Option<AccessRules>, StoreError> {
        let rules: Option<String> = self.with(|c| {
            c.query_row(
                "SELECT rules FROM access_control_profiles WHERE id = ?1",
                params![profile_id],
                |row| row.get(0),
            )
            .optional()
        })?;
        Ok(rules.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    fn insert_access_rules(&self, partner_id: i64, rules: &AccessRules) -> Result<i64, StoreError> {
        let rules = serde_json::to_string(rules)?;
        let timestamp = now();
        self.with(|c| {
            c.execute(
                "INSERT INTO access_control_profiles (partner_id, rules, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?3)",
                params![partner_id, rules, timestamp],
            )?;
            Ok::<_, rusqlite::Error>(c.last_insert_rowid())
        })
    }

    /// Returns the blob keys of entries, of every stored thumbnail version and of
    /// every asset's current file, without duplicates.
    fn blob_keys(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT blob_key FROM entries
                 UNION SELECT blob_key FROM thumb_files
                 UNION SELECT blob_key FROM thumb_assets WHERE blob_key IS NOT NULL",
            )?;
            let rows = statement.query_map([], |row| row.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        })
    }
}
