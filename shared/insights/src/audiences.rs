//! Audiences (`/api/audiences`): the contacts of a workspace a condition holds of,
//! kept current. The event stream's consumer (the dispatcher) hands every
//! `contact.saved` and `contact.deleted` to [`on_contact_event`], whichever surface
//! saved the contact (Relenta, a Datalinx pipeline), and each of the workspace's
//! audiences (at most [`MAX_AUDIENCES`]) settles that contact ([`settle`]).
//!
//! Settling is judged from the state, never from the event: the contact is read as
//! it is now (with its version), the membership as it is now, and a change commits
//! only while both are still so (the contact's version checked, the member item's
//! presence the condition). So a redelivered or replayed event changes nothing,
//! two consumers racing on one contact change it once, and a contact changed while
//! its old state was being judged is judged again. A member joining or leaving
//! writes its item, its record of the last exit, one of [`SIZE_SHARDS`] size shards
//! and its event (`audience.entered` / `audience.exited`) in one transaction: the
//! size is the sum of the shards, and never drifts from the members listed.

use crate::plan::lookup;
use relinx_crm::{ContactId, Department};
use relinx_data::Scope;
use relinx_data::named::Named;
use relinx_ddb::codec::{Item, get_n, get_s, key, n, s, to_item};
use relinx_ddb::keys::{self, insights as ik};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{ReadBudget, Store, StoreError, Table};
use relinx_expr::{Expr, Fields};
use relinx_model::{
    Actor, ActorKind, AudienceId, BuiltinRole, Context, ErrorCode, Event, EventName, EventSubject,
    Name, Permission, Resource, ResourceRef, Timestamp, ValidationError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;

const WHAT: &str = "audience";
/// Audiences a workspace may have: each is judged on every contact save.
pub const MAX_AUDIENCES: i64 = 50;
/// Shards of an audience's size: members joining at once touch different items.
pub const SIZE_SHARDS: u64 = 16;
/// Times a settle reads again after losing a race, before the stream retries it.
const SETTLE_ATTEMPTS: usize = 5;
/// Contacts an audience's rebuild settles at once.
const REBUILD_CONCURRENCY: usize = 8;

/// An audience as stored (its size lives in its shards).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Audience {
    pub id: AudienceId,
    pub name: String,
    #[serde(rename = "where")]
    pub condition: String,
    #[serde(default)]
    pub refreshed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An audience as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Audience, example = json!({"id": "aud_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "name": "Acme people", "where": "company == \"Acme\"", "size": 2, "refreshed_at": "2026-12-06T10:00:00.000Z", "created_at": "2026-12-06T10:00:00.000Z", "updated_at": "2026-12-06T10:00:00.000Z"}))]
pub struct AudienceView {
    pub id: AudienceId,
    pub name: String,
    /// A condition in the expression language over the `contact` schema's fields.
    #[serde(rename = "where")]
    pub condition: String,
    /// Its members now (exactly the members listed).
    pub size: u64,
    /// When it was last rebuilt from every contact (created, its condition changed,
    /// or `POST …/refresh`); between rebuilds every contact save keeps it current.
    pub refreshed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Named for Audience {
    const PREFIX: &'static str = ik::AUDIENCE;
    const NAME_PREFIX: &'static str = ik::AUDIENCE_NAME;
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: &Name) {
        self.name = name.to_string();
    }
}

impl EventSubject for Audience {
    const KIND: &'static str = "audience";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> Value {
        relinx_model::event::data_of(self)
    }
}

/// One member (or, listed with `exited`, one contact that left).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub contact_id: u64,
    pub entered_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exited_at: Option<Timestamp>,
}

/// What a rebuild changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refreshed {
    pub entered: u64,
    pub exited: u64,
    pub size: u64,
    pub refreshed_at: Timestamp,
}

fn members_pk(scope: &Scope, id: &AudienceId) -> String {
    format!("{}{}#{}#{id}", ik::MEMBERS, scope.org, scope.workspace)
}

fn member_sk(contact: u64) -> String {
    format!("{}{contact:012}", ik::MEMBER)
}

fn exited_sk(contact: u64) -> String {
    format!("{}{contact:012}", ik::EXITED)
}

/// The condition checked against the contact's fields (custom ones included): a
/// 422 naming `where` and the column otherwise.
async fn condition(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    text: &str,
) -> Result<Expr, StoreError> {
    let dept = Department::of(ctx, &scope.workspace);
    let names = relinx_crm::contacts::field_names(store, ctx, &dept).await?;
    parse_condition(&names, text)
}

/// The condition over the contact's fields `names`.
fn parse_condition(names: &[String], text: &str) -> Result<Expr, StoreError> {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Expr::parse(text, &Fields::new(&names, &[]))
        .map_err(|e| StoreError::Unprocessable(ValidationError::new("where", e.to_string())))
}

/// The audience's size: the sum of its shards (one Query).
async fn size(store: &Store, scope: &Scope, id: &AudienceId) -> Result<u64, StoreError> {
    let shards = store
        .query(Table::Main, members_pk(scope, id))
        .begins_with(ik::SIZE)
        .page_items()
        .await?
        .items;
    let total: i64 = shards.iter().filter_map(|item| get_n(item, "n")).sum();
    Ok(u64::try_from(total).unwrap_or(0))
}

async fn view(
    store: &Store,
    scope: &Scope,
    audience: Audience,
) -> Result<AudienceView, StoreError> {
    let size = size(store, scope, &audience.id).await?;
    Ok(AudienceView {
        id: audience.id,
        name: audience.name,
        condition: audience.condition,
        size,
        refreshed_at: audience.refreshed_at,
        created_at: audience.created_at,
        updated_at: audience.updated_at,
    })
}

/// Stages one more (or one fewer) audience on the workspace's count; one more only
/// below [`MAX_AUDIENCES`].
fn stage_count(tx: &mut Tx, store: &Store, scope: &Scope, delta: i64) {
    let condition = (delta > 0).then(|| {
        Cond::new("attribute_not_exists(audiences) OR audiences < :max")
            .value(":max", n(MAX_AUDIENCES))
    });
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: scope.partition(),
            sk: ik::AUDIENCE_COUNT_SK.to_owned(),
            set: Cond::new("ADD audiences :delta").value(":delta", n(delta)),
            condition,
        },
        OnFail::Conflict(
            ErrorCode::TooManyAudiences,
            format!("a workspace keeps at most {MAX_AUDIENCES} audiences (each is judged on every contact save); delete one first"),
        ),
    );
}

/// A new audience, built from every contact before it answers.
pub async fn create(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    name: Name,
    text: String,
) -> Result<AudienceView, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Audiences), WHAT)?;
    condition(store, ctx, scope, &text).await?;
    let now = Timestamp::now();
    let audience = Audience {
        id: AudienceId::generate(),
        name: name.to_string(),
        condition: text.trim().to_owned(),
        refreshed_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = Tx::new();
    scope.stage_new(&mut tx, store, &audience)?;
    stage_count(&mut tx, store, scope, 1);
    scope.stage_change(&mut tx, store, ctx, EventName::AudienceCreated, &audience);
    tx.commit(store).await?;
    rebuild(store, ctx, scope, &audience.id).await?;
    get(store, ctx, scope, &audience.id).await
}

/// Every audience of the workspace, oldest first.
pub async fn list(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
) -> Result<Vec<AudienceView>, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Audiences), WHAT)?;
    let all: Vec<Audience> = scope.all(store).await?;
    futures::future::try_join_all(all.into_iter().map(|a| view(store, scope, a))).await
}

pub async fn get(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &AudienceId,
) -> Result<AudienceView, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Audiences), WHAT)?;
    let audience: Audience = scope.get(store, id.as_str()).await?;
    view(store, scope, audience).await
}

/// Renames it, or gives it a new condition (checked first; its members are then
/// rebuilt from every contact before it answers).
pub async fn update(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &AudienceId,
    name: Option<Name>,
    text: Option<String>,
) -> Result<AudienceView, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Audiences), WHAT)?;
    if let Some(text) = &text {
        condition(store, ctx, scope, text).await?;
    }
    let changed_condition = scope
        .modify(store, id.as_str(), |mut audience: Audience, mut tx: Tx| {
            let (name, text) = (&name, &text);
            async move {
                if let Some(name) = name {
                    scope.stage_rename(&mut tx, store, &mut audience, name);
                }
                let text = text.as_deref().map(str::trim);
                let changed = text.is_some_and(|t| t != audience.condition);
                if let Some(text) = text {
                    audience.condition = text.to_owned();
                }
                audience.updated_at = Timestamp::now();
                scope.stage_change(&mut tx, store, ctx, EventName::AudienceUpdated, &audience);
                Ok(Changed::put(tx, audience, changed))
            }
        })
        .await?;
    if changed_condition {
        rebuild(store, ctx, scope, id).await?;
    }
    get(store, ctx, scope, id).await
}

/// Deletes it, then its members.
pub async fn delete(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &AudienceId,
) -> Result<Audience, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Audiences), WHAT)?;
    let audience = scope
        .modify(
            store,
            id.as_str(),
            |audience: Audience, mut tx: Tx| async move {
                scope.stage_release(&mut tx, store, &audience);
                stage_count(&mut tx, store, scope, -1);
                scope.stage_change(&mut tx, store, ctx, EventName::AudienceDeleted, &audience);
                Ok(Changed::delete(tx, audience))
            },
        )
        .await?;
    // Unreachable from here on (nothing names the audience); removed so they do not
    // linger. A failure leaves them unreachable, never wrong.
    let pk = members_pk(scope, id);
    let items = store.query(Table::Main, pk.clone()).all_items().await?;
    let keys = items
        .iter()
        .filter_map(|item| get_s(item, keys::SK))
        .map(|sk| key(pk.clone(), sk))
        .collect();
    store.batch_delete(Table::Main, keys).await?;
    Ok(audience)
}

/// A page of the audience's members (or, `exited`, of the contacts that left it),
/// by contact id; and how many there are in all.
pub async fn members(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &AudienceId,
    exited: bool,
    (skip, take): (usize, usize),
) -> Result<(Vec<Member>, Option<u64>), StoreError> {
    let audience = get(store, ctx, scope, id).await?;
    let prefix = if exited { ik::EXITED } else { ik::MEMBER };
    let found: Vec<Member> = store
        .partition_slice(&members_pk(scope, id), prefix, skip, take)
        .await?;
    Ok((found, (!exited).then_some(audience.size)))
}

/// The platform judging audiences for the org of `event`.
fn platform(event: &Event) -> Context {
    Context::platform_acting_for(
        event.org.clone(),
        Actor {
            kind: ActorKind::System,
            id: "audiences".into(),
        },
        BuiltinRole::Owner,
    )
    .with_request_id(Some(event.id.to_string()))
}

/// The event stream's consumer: a contact saved or deleted settles in every
/// audience of its workspace. Answers how many memberships changed (none for any
/// other event, and none when the event was handled before).
pub async fn on_contact_event(store: &Store, event: &Event) -> Result<usize, StoreError> {
    if !matches!(
        event.event,
        EventName::ContactSaved | EventName::ContactDeleted
    ) {
        return Ok(0);
    }
    let Some(workspace) = &event.workspace else {
        return Ok(0);
    };
    let Ok(contact) = ContactId::parse("id", &Value::String(event.resource.id.clone())) else {
        return Ok(0);
    };
    let ctx = platform(event);
    let scope = Scope::of(&ctx, workspace);
    let audiences: Vec<Audience> = scope.all(store).await?;
    if audiences.is_empty() {
        return Ok(0);
    }
    let dept = Department::of(&ctx, workspace);
    // Read once for every audience: the contact (with the field names conditions
    // are parsed against), and its membership of each (one BatchGetItem); an
    // audience whose change then loses a race reads again alone.
    let relinx_crm::contacts::Current {
        field_names: names,
        contact: current,
    } = relinx_crm::contacts::current(store, &ctx, &dept, contact).await?;
    let keys = audiences
        .iter()
        .map(|a| key(members_pk(&scope, &a.id), member_sk(contact.get())))
        .collect();
    let mut memberships: HashMap<String, Member> = HashMap::new();
    for item in store.get_items(keys).await? {
        let pk = get_s(&item, keys::PK).unwrap_or_default().to_owned();
        memberships.insert(pk, relinx_ddb::codec::from_item(item)?);
    }
    let mut changed = 0;
    for audience in &audiences {
        let Ok(expr) = parse_condition(&names, &audience.condition) else {
            // A custom field its condition names was removed: it matches nobody
            // until it is changed; the contact is judged against what it can read.
            tracing::warn!(audience = %audience.id, "an audience's condition no longer parses; skipped");
            continue;
        };
        let member = memberships.remove(&members_pk(&scope, &audience.id));
        let known = Some((current.clone(), member));
        if settle_from(
            store,
            &ctx,
            (&scope, &dept),
            audience,
            &expr,
            contact,
            known,
        )
        .await?
        .is_some()
        {
            changed += 1;
        }
    }
    Ok(changed)
}

/// The contact as it is (row and version; `None`: deleted) and its membership.
type Judged = (Option<(Value, i64)>, Option<Member>);

/// Brings `contact`'s membership of `audience` in line with the contact as it is
/// now. `Some(true)`: it entered; `Some(false)`: it left; `None`: nothing to do.
pub async fn settle(
    store: &Store,
    ctx: &Context,
    scopes: (&Scope, &Department),
    audience: &Audience,
    expr: &Expr,
    contact: ContactId,
) -> Result<Option<bool>, StoreError> {
    settle_from(store, ctx, scopes, audience, expr, contact, None).await
}

/// [`settle`], judged first from `known` when the caller read it already.
async fn settle_from(
    store: &Store,
    ctx: &Context,
    (scope, dept): (&Scope, &Department),
    audience: &Audience,
    expr: &Expr,
    contact: ContactId,
    mut known: Option<Judged>,
) -> Result<Option<bool>, StoreError> {
    let id = contact.get();
    let pk = members_pk(scope, &audience.id);
    for _ in 0..SETTLE_ATTEMPTS {
        let (current, member) = match known.take() {
            Some(judged) => judged,
            None => (
                relinx_crm::contacts::current(store, ctx, dept, contact)
                    .await?
                    .contact,
                store.get(pk.clone(), member_sk(id)).await?,
            ),
        };
        let belongs = current
            .as_ref()
            .is_some_and(|(row, _)| expr.eval(&|path| lookup(row, path)));
        if belongs == member.is_some() {
            return Ok(None);
        }
        let now = Timestamp::now();
        let mut tx = Tx::new();
        let main = &store.tables().main;
        relinx_crm::contacts::stage_unchanged(
            &mut tx,
            store,
            dept,
            contact,
            current.as_ref().map(|(_, version)| *version),
        );
        let (name, data) = match &member {
            None => {
                let joined = Member {
                    contact_id: id,
                    entered_at: now,
                    exited_at: None,
                };
                tx.put(
                    main,
                    to_item(&joined, pk.clone(), member_sk(id))?,
                    Some(Cond::new("attribute_not_exists(pk)")),
                    OnFail::Stale,
                );
                tx.delete(main, pk.clone(), exited_sk(id), None, OnFail::Internal);
                (EventName::AudienceEntered, json!({"entered_at": now}))
            }
            Some(was) => {
                let left = Member {
                    contact_id: id,
                    entered_at: was.entered_at,
                    exited_at: Some(now),
                };
                tx.delete(
                    main,
                    pk.clone(),
                    member_sk(id),
                    Some(Cond::new("attribute_exists(pk)")),
                    OnFail::Stale,
                );
                tx.put(
                    main,
                    to_item(&left, pk.clone(), exited_sk(id))?,
                    None,
                    OnFail::Internal,
                );
                (
                    EventName::AudienceExited,
                    json!({"entered_at": was.entered_at, "exited_at": now}),
                )
            }
        };
        tx.update(
            main,
            UpdateSpec {
                pk: pk.clone(),
                sk: format!("{}{:02}", ik::SIZE, id % SIZE_SHARDS),
                set: Cond::new("ADD n :delta").value(":delta", n(if belongs { 1 } else { -1 })),
                condition: None,
            },
            OnFail::Internal,
        );
        let mut data = data;
        data["audience_id"] = json!(audience.id);
        data["audience_name"] = json!(audience.name);
        data["contact_id"] = json!(id);
        tx.event(
            store,
            ctx,
            name,
            Some(&scope.workspace),
            ResourceRef::new(Audience::KIND, &audience.id),
            data,
        );
        match tx.commit(store).await {
            Ok(()) => return Ok(Some(belongs)),
            // The contact or the membership changed since it was read: judge again.
            Err(StoreError::Stale) => {}
            Err(err) => return Err(err),
        }
    }
    Err(StoreError::conflict(
        ErrorCode::ConcurrentChange,
        "the contact kept changing while its audiences were judged; the stream retries it",
    ))
}

/// `POST /api/audiences/{id}/refresh`: every contact of the workspace judged again
/// (within the read budget), each one that should differ settled as the stream
/// would settle it.
pub async fn refresh(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &AudienceId,
) -> Result<Refreshed, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Audiences), WHAT)?;
    rebuild(store, ctx, scope, id).await
}

async fn rebuild(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &AudienceId,
) -> Result<Refreshed, StoreError> {
    let audience: Audience = scope.get(store, id.as_str()).await?;
    let expr = condition(store, ctx, scope, &audience.condition).await?;
    let dept = Department::of(ctx, &scope.workspace);
    let mut budget = ReadBudget::new(store.config().data.query_read_budget);
    let mut belong = BTreeSet::new();
    relinx_crm::contacts::walk(store, ctx, &dept, &mut budget, &mut |row| {
        let id = row
            .get("id")
            .and_then(Value::as_str)
            .and_then(|i| i.parse::<u64>().ok());
        if let Some(id) = id
            && expr.eval(&|path| lookup(&row, path))
        {
            belong.insert(id);
        }
        Ok(())
    })
    .await?;
    let pk = members_pk(scope, id);
    let mut members = BTreeSet::new();
    budget
        .walk(
            store.query(Table::Main, pk).begins_with(ik::MEMBER),
            &mut |item: Item| {
                if let Some(id) = get_n(&item, "contact_id").and_then(|i| u64::try_from(i).ok()) {
                    members.insert(id);
                }
                Ok(())
            },
        )
        .await?;
    let differing: Vec<u64> = belong.symmetric_difference(&members).copied().collect();
    let settled: Vec<Result<Option<bool>, StoreError>> = {
        use futures::StreamExt;
        let (audience, expr, dept) = (&audience, &expr, &dept);
        futures::stream::iter(differing)
            .map(|contact| async move {
                let contact = ContactId::parse("id", &Value::from(contact))?;
                settle(store, ctx, (scope, dept), audience, expr, contact).await
            })
            .buffer_unordered(REBUILD_CONCURRENCY)
            .collect()
            .await
    };
    let (mut entered, mut exited) = (0, 0);
    for outcome in settled {
        match outcome? {
            Some(true) => entered += 1,
            Some(false) => exited += 1,
            None => {}
        }
    }
    let refreshed_at = Timestamp::now();
    // A plain update, not a change: the audience itself stays as it was.
    store
        .update(
            Table::Main,
            scope.partition(),
            scope.sk::<Audience>(id.as_str()),
            versioned::bump_values(
                Cond::new(format!("SET refreshed_at = :at ADD {}", versioned::BUMP))
                    .value(":at", s(refreshed_at.to_string())),
            ),
        )
        .when(Cond::new("attribute_exists(pk)"))
        .apply()
        .await?;
    Ok(Refreshed {
        entered,
        exited,
        size: size(store, scope, id).await?,
        refreshed_at,
    })
}
