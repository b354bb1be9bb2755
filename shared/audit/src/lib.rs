//! The audit log (API.md "Events, audit, webhooks"; seed 002 "Audit"): the org's
//! append-only event log, read newest first with filters and a cursor. Nothing here
//! or anywhere writes to the log except a change's own transaction (`Tx::event`),
//! and IAM in template.yaml denies updates and deletes to every function.
//!
//! The log is the events table, partitioned by org and sorted by the entries'
//! time-ordered ids (`evt_` + ULID), so `since` is a key condition and every filter
//! reads only the org's own partition.

use relinx_ddb::codec::{get_s, s};
use relinx_ddb::tx::Cond;
use relinx_ddb::{Store, StoreError, Table, keys};
use relinx_model::{
    Context, Event, EventId, EventName, Permission, Resource, Timestamp, ValidationError,
};

/// The filters of `GET /v1/audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// The actor's id (`usr_…`, `sa_…`).
    pub actor: Option<String>,
    /// The event name (`record.created`).
    pub action: Option<EventName>,
    /// A resource's id (`rec_…`) or type (`record`).
    pub resource: Option<String>,
    /// Entries after this one (an entry id) or at or after this time.
    pub since: Option<Since>,
}

/// Where the log is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    After(EventId),
    At(Timestamp),
}

impl Since {
    /// An entry id (`evt_…`) or an RFC 3339 time; anything else is a 400 naming `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, StoreError> {
        if let Some(id) = EventId::parse(raw) {
            return Ok(Self::After(id));
        }
        Timestamp::parse(raw).map(Self::At).ok_or_else(|| {
            StoreError::Invalid(ValidationError::new(
                field,
                "must be an audit entry id (evt_…) or an RFC 3339 time",
            ))
        })
    }

    /// The smallest sort key the read may return, and whether it is excluded.
    fn bound(&self) -> (String, bool) {
        match self {
            Self::After(id) => (id.to_string(), true),
            Self::At(at) => {
                let ms = u64::try_from(at.unix_millis()).unwrap_or(0);
                (
                    format!("{}_{}", EventId::PREFIX, ulid::Ulid::from_parts(ms, 0)),
                    false,
                )
            }
        }
    }
}

/// The filter expression of a query, with its placeholders.
/// The filter expression of a query (and of a scoped caller's workspace), if any.
fn filters(ctx: &Context, query: &AuditQuery) -> Option<Cond> {
    let mut clauses = Vec::new();
    let mut cond = Cond::new("");
    if let Some(actor) = &query.actor {
        clauses.push("#actor.#id = :actor");
        cond = cond
            .name("#actor", "actor")
            .name("#id", "id")
            .value(":actor", s(actor));
    }
    if let Some(action) = query.action {
        clauses.push("#event = :action");
        cond = cond
            .name("#event", "event")
            .value(":action", s(action.as_str()));
    }
    if let Some(resource) = &query.resource {
        clauses.push("(#resource.#id = :resource OR #resource.#type = :resource)");
        cond = cond
            .name("#resource", "resource")
            .name("#id", "id")
            .name("#type", "type")
            .value(":resource", s(resource));
    }
    if let Some(scope) = &ctx.workspace_scope {
        clauses.push("#workspace = :workspace");
        cond = cond
            .name("#workspace", "workspace")
            .value(":workspace", s(scope.as_str()));
    }
    if clauses.is_empty() {
        return None;
    }
    cond.expression = clauses.join(" AND ");
    Some(cond)
}

/// Where a live stream of the log continues from: after this entry (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPosition(String);

impl StreamPosition {
    /// Before every entry of the log.
    pub fn origin() -> Self {
        Self(format!("{}_{}", EventId::PREFIX, ulid::Ulid::nil()))
    }

    /// The position as text (an entry id), to keep and [`StreamPosition::parse`] later.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A position kept as text; `None` if it is not an entry id.
    pub fn parse(raw: &str) -> Option<Self> {
        EventId::parse(raw).map(|id| Self::after(&id))
    }

    /// After the entry `id` (a `Last-Event-ID`).
    pub fn after(id: &EventId) -> Self {
        Self(id.to_string())
    }

    /// Where `since` says (an entry id: after it; a time: at it), or, without one,
    /// now: the stream shows only what comes next.
    pub fn start(since: Option<&Since>) -> Self {
        match since {
            Some(Since::After(id)) => Self::after(id),
            Some(Since::At(at)) => {
                let ms = u64::try_from(at.unix_millis()).unwrap_or(0);
                // Just before the first id of that millisecond.
                Self(format!(
                    "{}_{}",
                    EventId::PREFIX,
                    predecessor(ulid::Ulid::from_parts(ms, 0))
                ))
            }
            None => Self(settled_bound(std::time::Duration::ZERO)),
        }
    }
}

fn predecessor(u: ulid::Ulid) -> ulid::Ulid {
    ulid::Ulid(u.0.saturating_sub(1))
}

fn successor(u: ulid::Ulid) -> ulid::Ulid {
    ulid::Ulid(u.0.saturating_add(1))
}

/// The largest id an entry committed `settle` ago or earlier can have.
fn settled_bound(settle: std::time::Duration) -> String {
    let now = u64::try_from(Timestamp::now().unix_millis()).unwrap_or(0);
    let settle = u64::try_from(settle.as_millis()).unwrap_or(u64::MAX);
    let bound = ulid::Ulid::from_parts(now.saturating_sub(settle), u128::MAX);
    format!("{}_{bound}", EventId::PREFIX)
}

/// The next entries of the log after `position`, oldest first, at most `limit`, and
/// only those at least `settle` old: an entry's id is minted just before its change
/// commits, so a newer one may still land before it; waiting out the settle time
/// means a reader that moved past an id never misses one committing behind it.
/// Advances `position` past what it returns.
pub async fn stream_page(
    store: &Store,
    ctx: &Context,
    position: &mut StreamPosition,
    settle: std::time::Duration,
    limit: i32,
) -> Result<Vec<Event>, StoreError> {
    ctx.require(Permission::read(Resource::Audit))?;
    let (entries, _) = read_after(
        store,
        &ctx.org_id,
        position,
        settle,
        limit,
        filters(ctx, &AuditQuery::default()),
    )
    .await?;
    Ok(entries)
}

/// The org's entries after `position` that `filter` keeps, as [`stream_page`] reads
/// them, for the platform's own readers (a Datalinx `relinx` source reads its
/// workspace's changes from the log; the caller checks the rights it needs); and
/// whether the read reached the settled end of the log (else more may follow,
/// even when a page of filtered-out entries returned nothing).
pub async fn read_after(
    store: &Store,
    org: &relinx_model::OrgId,
    position: &mut StreamPosition,
    settle: std::time::Duration,
    limit: i32,
    filter: Option<Cond>,
) -> Result<(Vec<Event>, bool), StoreError> {
    let after = position
        .0
        .strip_prefix(&format!("{}_", EventId::PREFIX))
        .and_then(|u| ulid::Ulid::from_string(u).ok())
        .ok_or_else(|| StoreError::Internal("stream position is not an entry id".into()))?;
    let from = format!("{}_{}", EventId::PREFIX, successor(after));
    let upper = settled_bound(settle);
    if from > upper {
        return Ok((Vec::new(), true));
    }
    let mut request = store
        .query(Table::Events, keys::event_partition(org))
        .between(from, upper.clone())
        .limit(limit);
    if let Some(filter) = filter {
        request = request.filter_where(filter);
    }
    let found = request.page::<Event>().await?;
    let entries = found.items;
    // Past what was read (filtered out or not): the last key read, else the bound.
    let (next, done) = match found.next.as_ref().and_then(|k| get_s(k, keys::SK)) {
        Some(last) => (last.to_owned(), false),
        None => (upper, true),
    };
    position.0 = next;
    Ok((entries, done))
}

/// A page of entries, newest first.
pub struct AuditPage {
    pub entries: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// The most reads one page makes to fill itself when filters drop most entries.
const MAX_ROUNDS: usize = 4;

/// The org's log, newest first, filtered; a workspace-scoped caller sees only its
/// workspace's entries. The cursor is the last entry's id (ids are not secret, and
/// the partition is always the caller's org, so it cannot reach another org's log).
pub async fn list(
    store: &Store,
    ctx: &Context,
    query: &AuditQuery,
    cursor: Option<&str>,
    limit: i32,
) -> Result<AuditPage, StoreError> {
    ctx.require(Permission::read(Resource::Audit))?;
    let mut start = cursor
        .map(|c| {
            EventId::parse(c).ok_or_else(|| {
                StoreError::Invalid(ValidationError::new(
                    "cursor",
                    "is not a cursor this list returned; start again without it",
                ))
            })
        })
        .transpose()?;
    let pk = keys::event_partition(&ctx.org_id);
    let filter = filters(ctx, query);
    let (floor, exclusive) = query
        .since
        .as_ref()
        .map(Since::bound)
        .unwrap_or_else(|| (format!("{}_", EventId::PREFIX), true));

    let mut entries = Vec::new();
    let mut next = None;
    for _ in 0..MAX_ROUNDS {
        let remaining = limit - i32::try_from(entries.len()).unwrap_or(limit);
        let request = store.query(Table::Events, pk.clone());
        let mut request = if exclusive {
            request.above(floor.clone())
        } else {
            request.at_least(floor.clone())
        }
        .newest_first()
        .limit(remaining)
        .after(
            start
                .take()
                .map(|after| relinx_ddb::codec::key(pk.clone(), after.to_string())),
        );
        if let Some(filter) = &filter {
            request = request.filter_where(filter.clone());
        }
        let found = request.page::<Event>().await?;
        entries.extend(found.items);
        let last = found
            .next
            .as_ref()
            .and_then(|k| get_s(k, keys::SK))
            .and_then(EventId::parse);
        match last {
            Some(last) if entries.len() >= usize::try_from(limit).unwrap_or(0) => {
                next = Some(last);
                break;
            }
            Some(last) => {
                start = Some(last.clone());
                next = Some(last);
            }
            None => {
                next = None;
                break;
            }
        }
    }
    Ok(AuditPage {
        entries,
        next_cursor: next.map(|id| id.to_string()),
    })
}

/// The log's entries about workspace `ws` from `from` to `to` (entry ids are
/// time-ordered, so the range is a key condition; the workspace a filter), oldest
/// first, handed to `visit` a page at a time as they are read, reads counted on
/// `budget` (analytics over `events`).
pub async fn walk(
    store: &Store,
    ctx: &Context,
    ws: &relinx_model::WorkspaceId,
    (from, to): (Timestamp, Timestamp),
    budget: &mut relinx_ddb::ReadBudget,
    visit: &mut (dyn FnMut(Event) -> Result<(), StoreError> + Send),
) -> Result<(), StoreError> {
    ctx.require(Permission::read(Resource::Audit))?;
    if !ctx.sees_workspace(ws) {
        return Err(StoreError::NotFound("workspace"));
    }
    let ms = |t: Timestamp| u64::try_from(t.unix_millis()).unwrap_or(0);
    let low = format!(
        "{}_{}",
        EventId::PREFIX,
        ulid::Ulid::from_parts(ms(from), 0)
    );
    let high = format!(
        "{}_{}",
        EventId::PREFIX,
        ulid::Ulid::from_parts(ms(to), u128::MAX)
    );
    let query = store
        .query(Table::Events, keys::event_partition(&ctx.org_id))
        .between(low, high)
        .eventually_consistent()
        .filter_where(
            Cond::new("#workspace = :workspace")
                .name("#workspace", "workspace")
                .value(":workspace", s(ws.as_str())),
        );
    budget
        .walk(query, &mut |item| {
            visit(relinx_ddb::codec::from_item(item)?)
        })
        .await
}
