//! SQL building blocks shared by the record kinds: WHERE conditions built from
//! filter fields, one page of rows with the total count, and insert and update
//! statements built from named column values.

use rusqlite::types::{ToSql, Value};
use rusqlite::{Connection, Row, params_from_iter};

use crate::store::StoreError;

/// Column values of one row, each named `:column`.
pub(super) type NamedValues<'a> = [(&'static str, &'a dyn ToSql)];

/// Conditions joined with AND, and the values bound to their `?` placeholders in
/// order.
#[derive(Debug, Default)]
pub(super) struct Conditions {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    /// Adds `clause`, whose `?` placeholders take `values` in order.
    pub(super) fn add(
        &mut self,
        clause: impl Into<String>,
        values: impl IntoIterator<Item = Value>,
    ) {
        self.clauses.push(clause.into());
        self.values.extend(values);
    }

    /// Adds `column operator value` (such as `size >= 100`) when `value` is set.
    pub(super) fn add_compare(
        &mut self,
        column: &str,
        operator: &str,
        value: Option<impl Into<Value>>,
    ) {
        if let Some(value) = value {
            self.add(format!("{column} {operator} ?"), [value.into()]);
        }
    }

    /// Adds `column IN (...)` unless `values` is empty.
    pub(super) fn add_in<V: Clone + Into<Value>>(&mut self, column: &str, values: &[V]) {
        if values.is_empty() {
            return;
        }
        let clause = format!("{column} IN ({})", placeholders(values.len()));
        self.add(clause, values.iter().cloned().map(Into::into));
    }

    /// Adds `column NOT IN (...)` unless `values` is empty.
    pub(super) fn add_not_in<V: Clone + Into<Value>>(&mut self, column: &str, values: &[V]) {
        if values.is_empty() {
            return;
        }
        let clause = format!("{column} NOT IN ({})", placeholders(values.len()));
        self.add(clause, values.iter().cloned().map(Into::into));
    }

    /// Adds a match of `words` against the comma-separated tag list in `column`:
    /// any word when `require_all` is false, every word when it is true. Words are
    /// trimmed and compared case-sensitively, as `ThumbAsset::has_tag` does. Empty
    /// words are skipped, and no condition is added when none remain.
    pub(super) fn add_tags(&mut self, column: &str, words: &[String], require_all: bool) {
        let words: Vec<&str> = words
            .iter()
            .map(|word| word.trim())
            .filter(|word| !word.is_empty())
            .collect();
        if words.is_empty() {
            return;
        }

        // The tag list is wrapped in commas so that `,word,` matches whole tags only.
        // NOTE: only one space on each side of a comma is removed, so tags padded
        // with more whitespace than that do not match here although `has_tag` matches them.
        let list = format!("replace(replace(',' || {column} || ',', ', ', ','), ' ,', ',')");
        let matches: Vec<String> = words
            .iter()
            .map(|_| format!("instr({list}, ?) > 0"))
            .collect();
        let joiner = if require_all { " AND " } else { " OR " };

        let clause = format!("({})", matches.join(joiner));
        self.add(
            clause,
            words.iter().map(|word| Value::Text(format!(",{word},"))),
        );
    }

    fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            return String::new();
        }
        format!(" WHERE {}", self.clauses.join(" AND "))
    }
}

/// Rows to skip and rows to return. A `limit` of 0 returns no rows.
#[derive(Clone, Copy, Debug)]
pub(super) struct Page {
    pub(super) offset: u64,
    pub(super) limit: u64,
}

/// Selects `columns` from `table` where `conditions` hold, ordered by the SQL
/// `order_by`, and returns the rows of `page` read by `read` together with the
/// count of all matching rows.
pub(super) fn select_page<T>(
    connection: &Connection,
    table: &str,
    columns: &str,
    conditions: &Conditions,
    order_by: &str,
    page: Page,
    mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<(Vec<T>, u64), StoreError> {
    let where_sql = conditions.where_sql();

    let count_sql = format!("SELECT count(*) FROM {table}{where_sql}");
    let total: i64 =
        connection.query_row(&count_sql, params_from_iter(&conditions.values), |row| {
            row.get(0)
        })?;

    let mut records = Vec::new();
    if page.limit > 0 && page.offset < total as u64 {
        let page_sql = format!(
            "SELECT {columns} FROM {table}{where_sql} ORDER BY {order_by} LIMIT ? OFFSET ?"
        );
        let mut values = conditions.values.clone();
        values.push(Value::Integer(
            i64::try_from(page.limit).unwrap_or(i64::MAX),
        ));
        values.push(Value::Integer(
            i64::try_from(page.offset).unwrap_or(i64::MAX),
        ));

        let mut statement = connection.prepare(&page_sql)?;
        let mut rows = statement.query(params_from_iter(&values))?;
        while let Some(row) = rows.next()? {
            records.push(read(row)?);
        }
    }

    Ok((records, total as u64))
}

/// Inserts one row of `values` into `table`.
pub(super) fn insert_row(
    connection: &Connection,
    table: &str,
    values: &NamedValues<'_>,
) -> rusqlite::Result<()> {
    let columns: Vec<&str> = values.iter().map(|(name, _)| column_name(name)).collect();
    let names: Vec<&str> = values.iter().map(|(name, _)| *name).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        names.join(", ")
    );

    connection.execute(&sql, values)?;
    Ok(())
}

/// Writes every column of `values` that is not in `keys` to the row of `table`
/// whose `keys` columns equal their values, and returns the number of rows changed.
pub(super) fn update_row(
    connection: &Connection,
    table: &str,
    values: &NamedValues<'_>,
    keys: &[&str],
) -> rusqlite::Result<usize> {
    let assignments: Vec<String> = values
        .iter()
        .map(|(name, _)| column_name(name))
        .filter(|column| !keys.contains(column))
        .map(|column| format!("{column} = :{column}"))
        .collect();
    let matches: Vec<String> = keys.iter().map(|key| format!("{key} = :{key}")).collect();
    let sql = format!(
        "UPDATE {table} SET {} WHERE {}",
        assignments.join(", "),
        matches.join(" AND ")
    );

    connection.execute(&sql, values)
}

/// Returns `stored` unless it is 0, in which case returns `fallback`.
pub(super) fn nonzero_or(stored: i64, fallback: i64) -> i64 {
    if stored == 0 { fallback } else { stored }
}

fn column_name(name: &'static str) -> &'static str {
    name.trim_start_matches(':')
}

fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// Returns [`StoreError::NotFound`] for `kind` `id` when a write changed no row.
pub(super) fn require_changed(
    changed: usize,
    kind: &'static str,
    id: impl ToString,
) -> Result<(), StoreError> {
    if changed == 0 {
        return Err(StoreError::NotFound {
            kind,
            id: id.to_string(),
        });
    }
    Ok(())
}
