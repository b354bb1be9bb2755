//! Records: create, read, list, update, delete (a tombstone), and the change feed.
//!
//! Storage (docs/access-patterns.md): a workspace's records are one partition
//! (`RECORDS#{org}#{ws}`, sorted by id), each carrying the keys of three indexes —
//! by status (gsi1), by queue (gsi2), by last change (gsi3, sorted by `causal`).
//! Every write also appends an entry to the workspace's change feed
//! (`RECFEED#{org}#{ws}`, sorted by `causal`) in the same transaction as the record
//! and its event, so the feed holds every change, tombstones included, in the
//! order of the writes.
//!
//! `causal` is a ULID minted for each write, later than the record's previous one:
//! it orders the feed and is the record's version for PATCH and DELETE.

use crate::cursor;
use crate::policies;
use crate::record::{NewRecord, Record, RecordPatch, Status};
use crate::state::{retention_seconds, state};
use relinx_ddb::codec::{boolean, s, string_attributes, string_item, to_item};
use relinx_ddb::keys::{self, records as rk};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Compare, Store, StoreError, Table};
use relinx_identity::workspaces;
use relinx_model::{
    Context, EventName, EventSubject, Permission, RecordId, Resource, ResourceRef, Timestamp,
    ValidationError, WorkspaceId,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ulid::Ulid;
use utoipa::ToSchema;

/// A record as stored: the record and its index keys (and, once a tombstone, when
/// it expires).
#[derive(Serialize, Deserialize)]
pub(crate) struct Stored {
    #[serde(flatten)]
    pub record: Record,
    gsi1pk: String,
    gsi1sk: String,
    gsi2pk: String,
    gsi2sk: String,
    gsi3pk: String,
    gsi3sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
}

fn scope(org: &relinx_model::OrgId, ws: &WorkspaceId) -> String {
    format!("{org}#{ws}")
}

pub(crate) fn records_pk(org: &relinx_model::OrgId, ws: &WorkspaceId) -> String {
    format!("{}{}", rk::RECORDS, scope(org, ws))
}

fn feed_pk(org: &relinx_model::OrgId, ws: &WorkspaceId) -> String {
    format!("{}{}", rk::FEED, scope(org, ws))
}

fn status_pk(org: &relinx_model::OrgId, ws: &WorkspaceId, status: Status) -> String {
    format!("{}{}#{}", rk::BY_STATUS, scope(org, ws), status.as_str())
}

fn queue_pk(org: &relinx_model::OrgId, ws: &WorkspaceId, queue: &str) -> String {
    format!("{}{}#{queue}", rk::BY_QUEUE, scope(org, ws))
}

fn update_pk(org: &relinx_model::OrgId, ws: &WorkspaceId) -> String {
    format!("{}{}", rk::BY_UPDATE, scope(org, ws))
}

impl Stored {
    fn new(org: &relinx_model::OrgId, record: Record, ttl: Option<i64>) -> Self {
        let ws = record.workspace_id.clone();
        Self {
            gsi1pk: status_pk(org, &ws, record.status),
            gsi1sk: record.id.to_string(),
            gsi2pk: queue_pk(org, &ws, &record.queue),
            gsi2sk: record.id.to_string(),
            gsi3pk: update_pk(org, &ws),
            gsi3sk: record.causal.clone(),
            ttl,
            record,
        }
    }
}

/// What a change-feed entry says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

/// One entry of the change feed: the record as that write left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    pub change: ChangeKind,
    pub record: Record,
}

#[derive(Serialize, Deserialize)]
struct FeedEntry {
    #[serde(flatten)]
    change: Change,
    ttl: i64,
}

/// One page of the change feed. `next_cursor` is always given: pass it as `since`
/// to continue, now or later.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangePage {
    pub data: Vec<Change>,
    pub next_cursor: String,
    pub has_more: bool,
}

/// A list's filters (API.md "Routes": `records`).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub kind: Option<String>,
    pub site: Option<String>,
    pub queue: Option<String>,
    pub updated_since: Option<Timestamp>,
    pub include_deleted: bool,
}

impl ListQuery {
    /// The filters as the cursor binds them.
    fn fingerprint(&self) -> String {
        serde_json::json!([
            self.status.map(Status::as_str),
            self.kind,
            self.site,
            self.queue,
            self.updated_since.map(|t| t.unix_millis()),
            self.include_deleted
        ])
        .to_string()
    }
}

/// A page of records.
pub struct RecordPage {
    pub items: Vec<Record>,
    pub next_cursor: Option<String>,
}

/// The workspace the caller addresses must be one it sees (its scope, if any).
/// The caller holds `permission` and sees workspace `ws` (another's is a 404):
/// what every records operation checks first.
fn authorize(ctx: &Context, ws: &WorkspaceId, permission: Permission) -> Result<(), StoreError> {
    ctx.require(permission)?;
    if ctx.sees_workspace(ws) {
        Ok(())
    } else {
        Err(StoreError::NotFound("workspace"))
    }
}

/// A causal token later than `previous` (and than any minted earlier in this
/// millisecond elsewhere, as far as clocks allow).
fn next_causal(previous: Option<&str>) -> String {
    let fresh = Ulid::new();
    let after = previous
        .and_then(|p| Ulid::from_string(p).ok())
        .and_then(successor);
    match after {
        Some(after) if after > fresh => after.to_string(),
        _ => fresh.to_string(),
    }
}

/// The first ULID after `u` (the 128-bit value plus one: past a millisecond's last
/// random value it carries into the next millisecond).
fn successor(u: Ulid) -> Option<Ulid> {
    u.0.checked_add(1).map(Ulid)
}

fn causal_required() -> StoreError {
    StoreError::PreconditionRequired {
        code: relinx_model::ErrorCode::CausalRequired,
        message: "causal: send the record's current causal token (\"causal\" in the body or an If-Match header); GET the record to learn it".into(),
    }
}

fn causal_conflict(current: &Record) -> StoreError {
    StoreError::ConflictWithCurrent {
        code: relinx_model::ErrorCode::CausalConflict,
        message: "causal: the record changed since your copy; merge with `current` and retry with its causal token".into(),
        current: Box::new(current.to_json()),
    }
}

fn stage_feed(tx: &mut Tx, store: &Store, ctx: &Context, change: Change) -> Result<(), StoreError> {
    let ttl = Timestamp::now().unix() + retention_seconds(store);
    let (pk, sk) = (
        feed_pk(&ctx.org_id, &change.record.workspace_id),
        change.record.causal.clone(),
    );
    let item = to_item(&FeedEntry { change, ttl }, pk, sk)?;
    tx.put(
        &store.tables().main,
        item,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    Ok(())
}

/// Stages a new record (its item, feed entry and event) in `tx`; the caller commits.
pub(crate) async fn stage_create(
    tx: &mut Tx,
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    new: NewRecord,
) -> Result<Record, StoreError> {
    authorize(ctx, ws, Permission::write(Resource::Records))?;
    let policies = policies::compiled(store, &ctx.org_id).await?;
    let now = Timestamp::now();
    let mut record = Record {
        id: RecordId::generate(),
        workspace_id: ws.clone(),
        title: new.title,
        kind: new.kind,
        site: new.site,
        status: new.status.unwrap_or(Status::Queued),
        queue: String::new(),
        priority: String::new(),
        data: new.data,
        causal: next_causal(None),
        created_at: now,
        updated_at: now,
        deleted: false,
        deleted_at: None,
    };
    policies::apply(&policies, &mut record);
    record.check_size()?;
    workspaces::stage_writable(tx, store, &ctx.org_id, ws);
    tx.put(
        &store.tables().main,
        to_item(
            &Stored::new(&ctx.org_id, record.clone(), None),
            records_pk(&ctx.org_id, ws),
            record.id.to_string(),
        )?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    stage_feed(
        tx,
        store,
        ctx,
        Change {
            change: ChangeKind::Created,
            record: record.clone(),
        },
    )?;
    tx.event_about(store, ctx, EventName::RecordCreated, Some(ws), &record);
    Ok(record)
}

/// Creates a record: one transaction (the record, its feed entry, its event, and
/// the workspace's writability).
pub async fn create(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    new: NewRecord,
) -> Result<Record, StoreError> {
    let mut tx = Tx::new();
    let record = stage_create(&mut tx, store, ctx, ws, new).await?;
    tx.answer(store, &record);
    tx.commit(store).await?;
    Ok(record)
}

/// A record, tombstones included (`deleted: true`). Another org's or workspace's
/// id is a 404.
pub async fn get(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    id: &RecordId,
) -> Result<Record, StoreError> {
    authorize(ctx, ws, Permission::read(Resource::Records))?;
    store
        .get::<Stored>(records_pk(&ctx.org_id, ws), id.to_string())
        .await?
        .map(|stored| stored.record)
        .ok_or(StoreError::NotFound("record"))
}

/// What a write to an existing record does.
#[derive(Debug, Clone)]
pub enum Edit {
    Patch(RecordPatch),
    Delete,
}

/// A change to one record: which, the causal token the caller holds (a patch must
/// send it; a delete may not), and what.
#[derive(Debug, Clone)]
pub struct RecordEdit {
    pub id: RecordId,
    pub causal: Option<String>,
    pub change: Edit,
}

/// Updates or deletes a record whose current `causal` the caller sends (stale: 409
/// with the current record, and a `record.conflict` event). A patch must send it
/// (absent: 428); a delete may leave it out, as seed 002's `curl -X DELETE` does,
/// and then deletes the record as it is. The
/// record is read, the change built from it, and written back on the condition
/// that nothing wrote it since (`versioned::modify`), so concurrent writers with
/// one token get exactly one success.
pub async fn edit(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    change: RecordEdit,
) -> Result<Record, StoreError> {
    edit_marking(store, ctx, ws, change, None).await
}

/// [`edit`], also recording `op` (an upload-batch operation) as applied in the
/// same transaction.
pub(crate) async fn edit_marking(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    change: RecordEdit,
    op: Option<&crate::applied::OpKey>,
) -> Result<Record, StoreError> {
    authorize(ctx, ws, Permission::write(Resource::Records))?;
    let RecordEdit {
        id,
        causal,
        change: edit,
    } = change;
    let id = &id;
    let expected = causal.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if expected.is_none() && matches!(edit, Edit::Patch(_)) {
        return Err(causal_required());
    }
    let policies = policies::compiled(store, &ctx.org_id).await?;
    let retention = retention_seconds(store);
    let (policies, edit) = (&policies, &edit);
    let result = versioned::modify(
        store,
        records_pk(&ctx.org_id, ws),
        id.to_string(),
        || StoreError::NotFound("record"),
        |stored: Stored, mut tx: Tx| async move {
            let current = stored.record;
            if current.deleted {
                return Err(StoreError::NotFound("record"));
            }
            if expected.is_some_and(|expected| current.causal != expected) {
                return Err(causal_conflict(&current));
            }
            let now = Timestamp::now();
            let mut next = current.clone();
            next.causal = next_causal(Some(&current.causal));
            next.updated_at = now;
            let (kind, event, ttl) = match edit {
                Edit::Patch(patch) => {
                    patch.clone().apply_to(&mut next);
                    policies::apply(policies, &mut next);
                    next.check_size()?;
                    let synced = next.status == Status::Synced && current.status != Status::Synced;
                    let event = if synced {
                        EventName::RecordSynced
                    } else {
                        EventName::RecordUpdated
                    };
                    (ChangeKind::Updated, event, None)
                }
                Edit::Delete => {
                    next.deleted = true;
                    next.deleted_at = Some(now);
                    (
                        ChangeKind::Deleted,
                        EventName::RecordDeleted,
                        Some(now.unix() + retention),
                    )
                }
            };
            workspaces::stage_writable(&mut tx, store, &ctx.org_id, ws);
            stage_feed(
                &mut tx,
                store,
                ctx,
                Change {
                    change: kind,
                    record: next.clone(),
                },
            )?;
            tx.event_about(store, ctx, event, Some(ws), &next);
            if let Some(op) = op {
                crate::applied::stage_applied(&mut tx, store, op, &next)?;
            }
            let stored = Stored::new(&ctx.org_id, next.clone(), ttl);
            Ok(Changed::put(tx, stored, next))
        },
    )
    .await;
    // Only a token sent can be stale.
    if let (Err(StoreError::ConflictWithCurrent { current, .. }), Some(expected)) =
        (&result, expected)
    {
        record_conflict(store, ctx, ws, id, expected, current).await;
    }
    result
}

/// Logs a refused write as `record.conflict` (its own transaction: nothing changed).
/// Best effort: the caller's 409 does not depend on it.
async fn record_conflict(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    id: &RecordId,
    sent: &str,
    current: &serde_json::Value,
) {
    let mut tx = Tx::new();
    tx.event(
        store,
        ctx,
        EventName::RecordConflict,
        Some(ws),
        ResourceRef::new(Record::KIND, id.as_str()),
        serde_json::json!({ "causal_sent": sent, "current": current }),
    );
    if let Err(err) = tx.commit(store).await {
        tracing::warn!(error = %err, "record.conflict event not written");
    }
}

/// The most rounds a filtered list reads to fill one page.
const MAX_LIST_ROUNDS: usize = 4;

/// A page of the workspace's records: by id, or by the index a filter names
/// (`status`, then `queue`, then `updated_since`), other filters applied to what
/// that reads. Tombstones only with `include_deleted`.
pub async fn list(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    query: &ListQuery,
    cursor_text: Option<&str>,
    limit: i32,
) -> Result<RecordPage, StoreError> {
    authorize(ctx, ws, Permission::read(Resource::Records))?;
    let org = &ctx.org_id;
    let fingerprint = query.fingerprint();
    let mut start = cursor_text
        .map(|c| cursor::open(store, org, ws, "cursor", &fingerprint, c))
        .transpose()?;
    let since = query
        .updated_since
        .map(|t| Ulid::from_parts(u64::try_from(t.unix_millis()).unwrap_or(0), 0).to_string());

    let (index, key_name, key_value, sort_name, sort_floor) = if let Some(status) = query.status {
        ("gsi1", "gsi1pk", status_pk(org, ws, status), "gsi1sk", None)
    } else if let Some(queue) = &query.queue {
        ("gsi2", "gsi2pk", queue_pk(org, ws, queue), "gsi2sk", None)
    } else if let Some(since) = &since {
        (
            "gsi3",
            "gsi3pk",
            update_pk(org, ws),
            "gsi3sk",
            Some(since.clone()),
        )
    } else {
        ("", keys::PK, records_pk(org, ws), keys::SK, None)
    };
    let mut base = if index.is_empty() {
        store.query(Table::Main, key_value)
    } else {
        store.query_index(Table::Main, index, key_name, key_value, sort_name)
    };
    if let Some(floor) = &sort_floor {
        base = base.at_least(floor.clone());
    }
    if let (Some(queue), true) = (&query.queue, index != "gsi2") {
        base = base.filter("queue", Compare::Eq, s(queue));
    }
    if let (Some(since), true) = (&since, index != "gsi3") {
        base = base.filter("causal", Compare::AtLeast, s(since));
    }
    if let Some(kind) = &query.kind {
        base = base.filter("type", Compare::Eq, s(kind));
    }
    if let Some(site) = &query.site {
        base = base.filter("site", Compare::Eq, s(site));
    }
    if !query.include_deleted {
        base = base.filter("deleted", Compare::Eq, boolean(false));
    }

    let mut items = Vec::new();
    let mut next = None;
    for _ in 0..MAX_LIST_ROUNDS {
        let remaining = limit - i32::try_from(items.len()).unwrap_or(limit);
        let found = base
            .clone()
            .limit(remaining)
            .after(start.take().map(|position| string_item(&position)))
            .page::<Stored>()
            .await?;
        items.extend(found.items.into_iter().map(|stored| stored.record));
        match found.next {
            Some(last) => {
                let position: BTreeMap<String, String> = string_attributes(&last);
                if items.len() >= usize::try_from(limit).unwrap_or(0) {
                    next = Some(position);
                    break;
                }
                start = Some(position.clone());
                next = Some(position);
            }
            None => {
                next = None;
                break;
            }
        }
    }
    Ok(RecordPage {
        items,
        next_cursor: next.map(|position| cursor::seal(store, org, ws, &fingerprint, position)),
    })
}

const FEED_QUERY: &str = "feed";
const FEED_AFTER: &str = "after";

/// The change feed after `since` (a `next_cursor` of this feed; absent: from the
/// oldest change kept): every create, update and delete in the order of the
/// writes, `limit` at a time. A change is listed once it is older than the settle
/// time, so a cursor never moves past a write still committing; a `since` older
/// than the retention is 410 `CURSOR_EXPIRED`.
pub async fn changes(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    since: Option<&str>,
    limit: i32,
) -> Result<ChangePage, StoreError> {
    authorize(ctx, ws, Permission::read(Resource::Records))?;
    let org = &ctx.org_id;
    let settings = state(store).settings();
    let now_ms = u64::try_from(Timestamp::now().unix_millis()).unwrap_or(0);
    let after = match since {
        Some(text) => {
            let position = cursor::open(store, org, ws, "since", FEED_QUERY, text)?;
            let after = position
                .get(FEED_AFTER)
                .and_then(|a| Ulid::from_string(a).ok())
                .ok_or_else(|| {
                    StoreError::Invalid(ValidationError::new(
                        "since",
                        "is not a cursor this feed returned; start again without it",
                    ))
                })?;
            let retention_ms = u64::try_from(settings.retention.as_millis()).unwrap_or(u64::MAX);
            if after.timestamp_ms() + retention_ms < now_ms {
                return Err(StoreError::Gone {
                    code: relinx_model::ErrorCode::CursorExpired,
                    message: "since: this cursor is older than the tombstone retention, so deletions may have been missed; resync from a full list (GET /v1/records?include_deleted=true) and follow the feed from its first page".into(),
                });
            }
            Some(after)
        }
        None => None,
    };
    let settle_ms = u64::try_from(settings.feed_settle.as_millis()).unwrap_or(0);
    let bound = Ulid::from_parts(now_ms.saturating_sub(settle_ms), u128::MAX);
    let from = match after {
        Some(after) => successor(after),
        None => Some(Ulid::nil()),
    };
    let mut data = Vec::new();
    let mut has_more = false;
    let mut position = after.unwrap_or(Ulid::nil());
    if let Some(from) = from.filter(|from| *from <= bound) {
        let items = store
            .query(Table::Main, feed_pk(org, ws))
            .between(from.to_string(), bound.to_string())
            .limit(limit.saturating_add(1))
            .page::<FeedEntry>()
            .await?
            .items;
        has_more = items.len() > usize::try_from(limit).unwrap_or(0);
        for entry in items.into_iter().take(usize::try_from(limit).unwrap_or(0)) {
            data.push(entry.change);
        }
        position = match (has_more, data.last()) {
            (true, Some(last)) => Ulid::from_string(&last.record.causal).unwrap_or(bound),
            _ => bound,
        };
    }
    relinx_identity::users::note_sync(store, ctx);
    let next_cursor = cursor::seal(
        store,
        org,
        ws,
        FEED_QUERY,
        BTreeMap::from([(FEED_AFTER.to_owned(), position.to_string())]),
    );
    Ok(ChangePage {
        data,
        next_cursor,
        has_more,
    })
}

/// Bounds of the ids minted from `from` to `to` (ids are ULIDs: their order is the
/// order of creation).
fn id_bounds(from: Timestamp, to: Timestamp) -> (String, String) {
    let ms = |t: Timestamp| u64::try_from(t.unix_millis()).unwrap_or(0);
    (
        format!("{}_{}", RecordId::PREFIX, Ulid::from_parts(ms(from), 0)),
        format!(
            "{}_{}",
            RecordId::PREFIX,
            Ulid::from_parts(ms(to), u128::MAX)
        ),
    )
}

/// Every live record of the workspace (created within `created`, when given: ids
/// sort by creation, so the range is a key condition), by id, handed to `visit` a
/// page at a time as it is read, reads counted on `budget` (analytics).
pub async fn walk(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    created: Option<(Timestamp, Timestamp)>,
    budget: &mut relinx_ddb::ReadBudget,
    visit: &mut (dyn FnMut(serde_json::Value) -> Result<(), StoreError> + Send),
) -> Result<(), StoreError> {
    authorize(ctx, ws, Permission::read(Resource::Records))?;
    let mut query = store.query(Table::Main, records_pk(&ctx.org_id, ws));
    query = match created {
        Some((from, to)) => {
            let (low, high) = id_bounds(from, to);
            query.between(low, high)
        }
        None => query.begins_with(format!("{}_", RecordId::PREFIX)),
    };
    let query = query
        .filter("deleted", Compare::Eq, boolean(false))
        .eventually_consistent();
    budget
        .walk(query, &mut |item| {
            let stored: Stored = relinx_ddb::codec::from_item(item)?;
            visit(relinx_model::event::data_of(&stored.record))
        })
        .await
}
