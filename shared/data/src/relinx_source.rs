//! `relinx` sources: the workspace's own data as rows. Every change on the platform
//! is an entry of the org's event log, time-ordered, carrying the entity as it
//! became; so a `relinx` source reads its entity's entries of the workspace after
//! the pipeline's cursor (the last entry its last successful run read), one row per
//! change: the entity's fields, then `_event` (`contact.saved`, …), `_at` and
//! `_deleted`. A run reads at most [`MAX_PER_RUN`] entries and the next one goes on
//! from there. Entries are read only once they are [`SETTLE`] old: an entry's id is
//! minted just before its change commits, so a newer one may still land behind it
//! (`relinx_audit::read_after`).

use crate::ingest::Table;
use crate::scope::Scope;
use crate::source::RelinxEntity;
use relinx_audit::StreamPosition;
use relinx_ddb::codec::s;
use relinx_ddb::tx::Cond;
use relinx_ddb::{Store, StoreError};
use relinx_model::{Context, Event, Permission, Resource};
use serde_json::Value;
use std::time::Duration;

/// The most entries one run reads.
pub const MAX_PER_RUN: usize = 50_000;
/// How old an entry must be before it is read.
pub const SETTLE: Duration = Duration::from_secs(2);
/// Entries read per Query.
const PAGE: i32 = 1_000;

/// The event names an entity's rows come from (by prefix), and the permission
/// reading it takes; `None` for what the log does not hold.
fn entity_of(entity: RelinxEntity) -> Option<(&'static str, Resource)> {
    match entity {
        RelinxEntity::Records => Some(("record.", Resource::Records)),
        RelinxEntity::Contacts => Some(("contact.", Resource::Contacts)),
        RelinxEntity::Activities => Some(("activity.", Resource::Activities)),
        RelinxEntity::Smartlinks => Some(("smartlink.", Resource::Links)),
        RelinxEntity::Events => Some(("", Resource::Audit)),
        // A short link's hits are per-day counters, not entries of the log.
        RelinxEntity::Clicks => None,
    }
}

/// Why `ctx` cannot read `entity` here, in words; `None` when it can.
pub fn refusal(ctx: &Context, entity: RelinxEntity) -> Option<String> {
    match entity_of(entity) {
        None => Some(
            "clicks are kept as per-day counters, not as rows: read them with GET /api/v1/smartlink/{id}/stats"
                .into(),
        ),
        Some((_, resource)) if !ctx.can(Permission::read(resource)) => Some(format!(
            "reading {} needs {}, which the run's credential lacks",
            serde_json::to_value(entity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            Permission::read(resource)
        )),
        Some(_) => None,
    }
}

fn filter(entity: RelinxEntity, scope: &Scope) -> Cond {
    let prefix = entity_of(entity).map_or("", |(p, _)| p);
    let cond = Cond::new("workspace = :ws").value(":ws", s(scope.workspace.to_string()));
    if prefix.is_empty() {
        cond
    } else {
        Cond::new("workspace = :ws AND begins_with(#event, :kind)")
            .name("#event", "event")
            .value(":ws", s(scope.workspace.to_string()))
            .value(":kind", s(prefix))
    }
}

/// A value as a cell: text as it is, anything else as its JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One change as a row: `(column, value)` pairs.
fn row_of(entity: RelinxEntity, event: &Event) -> Vec<(String, String)> {
    let mut row = Vec::new();
    if entity == RelinxEntity::Events {
        row.push(("id".to_owned(), event.id.to_string()));
        row.push(("event".to_owned(), event.event.to_string()));
        row.push(("resource_type".to_owned(), event.resource.kind.clone()));
        row.push(("resource_id".to_owned(), event.resource.id.clone()));
        row.push(("actor_id".to_owned(), event.actor.id.clone()));
        row.push(("timestamp".to_owned(), event.timestamp.to_string()));
        row.push(("data".to_owned(), event.data.to_string()));
        return row;
    }
    if let Value::Object(fields) = &event.data {
        for (key, value) in fields {
            row.push((key.clone(), cell(value)));
        }
    }
    let deleted = event.event.as_str().ends_with(".deleted");
    row.push(("_event".to_owned(), event.event.to_string()));
    row.push(("_at".to_owned(), event.timestamp.to_string()));
    row.push(("_deleted".to_owned(), deleted.to_string()));
    row
}

/// Rows as a table: the columns in the order first seen, a missing cell empty.
fn table_of(rows: Vec<Vec<(String, String)>>) -> Table {
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (column, _) in row {
            if !columns.contains(column) {
                columns.push(column.clone());
            }
        }
    }
    let rows = rows
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| {
                    row.iter()
                        .find(|(k, _)| k == c)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    Table {
        columns,
        rows,
        encoding: "UTF-8",
        delimiter: ',',
    }
}

/// The changes of `entity` in the workspace after `cursor` (from the log's start
/// without one), at most `limit`: as a table, and where the next read starts.
pub async fn read(
    store: &Store,
    scope: &Scope,
    entity: RelinxEntity,
    cursor: Option<&str>,
    limit: usize,
) -> Result<(Table, String), StoreError> {
    let mut position = cursor
        .and_then(StreamPosition::parse)
        .unwrap_or_else(StreamPosition::origin);
    let mut rows = Vec::new();
    // Until the log is read to its settled end, or the run's share is.
    while rows.len() < limit {
        let room = i32::try_from(limit - rows.len()).unwrap_or(PAGE).min(PAGE);
        let (page, done) = relinx_audit::read_after(
            store,
            &scope.org,
            &mut position,
            SETTLE,
            room,
            Some(filter(entity, scope)),
        )
        .await?;
        rows.extend(page.iter().map(|event| row_of(entity, event)));
        if done {
            break;
        }
    }
    Ok((table_of(rows), position.as_str().to_owned()))
}

/// The first changes of `entity` in the workspace, for its columns.
pub async fn sample(
    store: &Store,
    scope: &Scope,
    entity: RelinxEntity,
) -> Result<Table, StoreError> {
    read(store, scope, entity, None, 200)
        .await
        .map(|(table, _)| table)
}
