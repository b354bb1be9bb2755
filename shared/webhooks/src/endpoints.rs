//! Webhook endpoints: a target URL, the events it subscribes to (names from the typed
//! list, or `*`), and its signing secrets. A secret is shown once, at creation or
//! rotation; it is stored sealed (AES-GCM under the deployment's pepper), so no item
//! and no log holds it in the clear. A rotated-out secret keeps signing for 24 h.

use crate::signing::Secret;
use crate::target::{self, TargetPolicy};
use relinx_auth::Sealer;
use relinx_ddb::codec::{Page, PageRequest, to_item};
use relinx_ddb::keys::{self, webhooks::ENDPOINT};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, EventName, EventSubject, Patch, Permission, Resource, Timestamp, ValidationError,
    WebhookId, WorkspaceId,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP_SECONDS: i64 = 24 * 3600;
/// How long an endpoint may fail every delivery before it is disabled.
pub use relinx_config::DISABLE_AFTER;

impl EventSubject for Webhook {
    const KIND: &'static str = "webhook";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        relinx_model::event::data_of(self)
    }
}
/// Most event names one endpoint subscribes to.
const MAX_EVENTS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 500;
/// Subscribes to every event.
pub const ALL_EVENTS: &str = "*";

/// An endpoint as shown (never its secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "wh_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "url": "https://hooks.org.io/relaysync", "events": ["record.conflict", "record.synced"], "description": null, "workspace_id": null, "enabled": true, "created_at": "2026-11-25T10:00:00.000Z", "updated_at": "2026-11-25T10:00:00.000Z"}))]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    /// Event names, or `*` for every event.
    pub events: Vec<String>,
    pub description: Option<String>,
    /// Only this workspace's events (an endpoint made by a workspace-scoped key).
    pub workspace_id: Option<WorkspaceId>,
    /// Whether it gets the events of rows a pipeline run writes (`contact.saved`,
    /// `record.created`, … whose `request_id` is the run's id). `false`: an import
    /// of 100,000 rows is one `pipeline.completed`, not 100,000 deliveries.
    #[serde(default = "yes")]
    pub pipeline_rows: bool,
    pub enabled: bool,
    /// Since when every delivery to it has failed (none: the last one succeeded).
    /// After 5 days of this it is disabled, with a `webhook.disabled` event.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

fn yes() -> bool {
    true
}

/// Whether `event` was written by a pipeline run for a row it imported (its request
/// id is the run's), rather than by the run itself.
pub fn written_by_a_run(event: &relinx_model::Event) -> bool {
    let run_event = matches!(
        event.event,
        EventName::PipelineRunQueued | EventName::PipelineCompleted | EventName::PipelineFailed
    );
    !run_event
        && event
            .request_id
            .as_deref()
            .is_some_and(|id| relinx_model::RunId::parse(id).is_some())
}

impl Webhook {
    /// Whether this endpoint subscribes to events of `name` in `workspace` (enabled
    /// or not: a disabled endpoint's jobs are kept as `skipped`).
    pub fn subscribes(&self, name: EventName, workspace: Option<&WorkspaceId>) -> bool {
        let subscribed = self
            .events
            .iter()
            .any(|e| e == ALL_EVENTS || e == name.as_str());
        let in_scope = self
            .workspace_id
            .as_ref()
            .is_none_or(|own| workspace == Some(own));
        subscribed && in_scope
    }
}

/// A signing secret as stored: sealed, and until when it signs (none: current).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSecret {
    sealed: String,
    #[serde(default)]
    expires_at: Option<Timestamp>,
}

/// The credential that registered an endpoint (or last changed where it delivers
/// and what): whether it may read invite URLs is judged on it at each delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registrar {
    pub actor: relinx_model::Actor,
    #[serde(default)]
    pub key_id: Option<relinx_model::ApiKeyId>,
}

impl Registrar {
    pub fn of(ctx: &Context) -> Self {
        Self {
            actor: ctx.actor.clone(),
            key_id: ctx.key_id().cloned(),
        }
    }
}

/// An endpoint as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookRecord {
    #[serde(flatten)]
    pub webhook: Webhook,
    secrets: Vec<StoredSecret>,
    /// Absent on endpoints registered before it was kept: they get no invite URL.
    #[serde(default)]
    pub registered_by: Option<Registrar>,
}

impl WebhookRecord {
    /// The secrets that sign now (the current one first); sealed ones that do not
    /// open (another pepper) are skipped.
    pub fn signing_secrets(&self, store: &Store, now: Timestamp) -> Vec<Secret> {
        let sealer = sealer(store);
        self.secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|at| at > now))
            .filter_map(|s| sealer.open(&s.sealed))
            .filter_map(|text| Secret::parse(&text))
            .collect()
    }
}

fn sealer(store: &Store) -> Sealer {
    Sealer::new(store.hasher(), "webhook secret")
}

/// A new endpoint.
pub struct NewWebhook {
    url: String,
    events: Vec<String>,
    description: Option<String>,
    workspace_id: Option<WorkspaceId>,
    pipeline_rows: bool,
}

impl NewWebhook {
    /// An endpoint to register, its events and description checked. Its URL is
    /// checked when it is created, under the deployment's target rule, as that
    /// resolves the host.
    pub fn new(
        url: String,
        events: Vec<String>,
        description: Option<String>,
        workspace_id: Option<WorkspaceId>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            url,
            events: check_events(events)?,
            description: check_description(description)?,
            workspace_id,
            pipeline_rows: true,
        })
    }

    /// Whether it gets the events of rows pipeline runs write (default: yes).
    pub fn with_pipeline_rows(mut self, pipeline_rows: bool) -> Self {
        self.pipeline_rows = pipeline_rows;
        self
    }
}

/// A change: only present fields change.
#[derive(Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Patch<String>,
    pub enabled: Option<bool>,
    pub pipeline_rows: Option<bool>,
}

fn sk(id: &WebhookId) -> String {
    format!("{ENDPOINT}{id}")
}

/// Event names checked against the typed list (or `*`), deduplicated and sorted.
pub fn check_events(raw: Vec<String>) -> Result<Vec<String>, StoreError> {
    if raw.is_empty() || raw.len() > MAX_EVENTS {
        return Err(StoreError::Invalid(ValidationError::new(
            "events",
            format!("must list 1 to {MAX_EVENTS} event names, or [\"*\"] for every event"),
        )));
    }
    let mut events = Vec::with_capacity(raw.len());
    for name in raw {
        let name = name.trim().to_owned();
        if name != ALL_EVENTS && EventName::parse(&name).is_none() {
            return Err(StoreError::Invalid(ValidationError::new(
                "events",
                format!(
                    "{name:?} is not an event name, nor \"*\"; GET /v1/webhooks/event-types lists every one"
                ),
            )));
        }
        events.push(name);
    }
    events.sort();
    events.dedup();
    Ok(events)
}

fn check_description(raw: Option<String>) -> Result<Option<String>, StoreError> {
    match raw.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()) {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS => {
            Err(StoreError::Invalid(ValidationError::new(
                "description",
                format!("is at most {MAX_DESCRIPTION_CHARS} characters"),
            )))
        }
        other => Ok(other),
    }
}

/// Registers an endpoint; answers it with its secret (shown this once).
pub async fn create(
    store: &Store,
    ctx: &Context,
    policy: TargetPolicy,
    new: NewWebhook,
) -> Result<(Webhook, String), StoreError> {
    ctx.require(Permission::write(Resource::Webhooks))?;
    let url = target::check(policy, &new.url).await?;
    let (events, description) = (new.events, new.description);
    let workspace_id = ctx.confine(new.workspace_id)?;
    let now = Timestamp::now();
    let webhook = Webhook {
        id: WebhookId::generate(),
        url,
        events,
        description,
        workspace_id,
        pipeline_rows: new.pipeline_rows,
        enabled: true,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    let secret = Secret::generate();
    let record = WebhookRecord {
        webhook: webhook.clone(),
        secrets: vec![StoredSecret {
            sealed: sealer(store).seal(&secret.expose()),
            expires_at: None,
        }],
        registered_by: Some(Registrar::of(ctx)),
    };
    let mut tx = Tx::new();
    if let Some(ws) = &webhook.workspace_id {
        relinx_identity::workspaces::stage_exists(&mut tx, store, &ctx.org_id, ws);
    }
    tx.put(
        &store.tables().main,
        to_item(&record, keys::org(&ctx.org_id), sk(&webhook.id))?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    tx.event_about(
        store,
        ctx,
        EventName::WebhookCreated,
        webhook.workspace_id.as_ref(),
        &webhook,
    );
    let created = (webhook, secret.expose());
    tx.answer(store, &created);
    tx.commit(store).await?;
    Ok(created)
}

/// The stored endpoint, if the caller sees it (another org's, or another
/// workspace's for a scoped caller, is a 404).
pub async fn read(
    store: &Store,
    ctx: &Context,
    id: &WebhookId,
) -> Result<WebhookRecord, StoreError> {
    store
        .get_confined(ctx, sk(id), "webhook", |r: &WebhookRecord| {
            &r.webhook.workspace_id
        })
        .await
}

/// The stored endpoint, for delivery (no caller: the dispatcher acts for the org).
pub async fn stored(
    store: &Store,
    org: &relinx_model::OrgId,
    id: &WebhookId,
) -> Result<Option<WebhookRecord>, StoreError> {
    store.get(keys::org(org), sk(id)).await
}

/// Endpoints a dispatcher instance delivered to lately (`CacheSettings::webhook_ttl`):
/// a busy endpoint's URL, state and secrets are read once every few seconds, not on
/// every delivery.
struct Delivering(
    relinx_ddb::TtlCache<(relinx_model::OrgId, WebhookId), std::sync::Arc<WebhookRecord>>,
);

fn delivering(store: &Store) -> std::sync::Arc<Delivering> {
    store.local(|cache: &relinx_ddb::CacheSettings| {
        Delivering(relinx_ddb::TtlCache::new(cache.webhook_ttl, 10_000))
    })
}

/// The endpoint a delivery goes to, cached per instance for a few seconds (a
/// deleted one is never cached: its job dies at once).
pub(crate) async fn for_delivery(
    store: &Store,
    org: &relinx_model::OrgId,
    id: &WebhookId,
) -> Result<Option<std::sync::Arc<WebhookRecord>>, StoreError> {
    let key = (org.clone(), id.clone());
    let cache = delivering(store);
    if let Some(found) = cache.0.get(&key) {
        return Ok(Some(found));
    }
    let Some(found) = stored(store, org, id).await? else {
        return Ok(None);
    };
    let found = std::sync::Arc::new(found);
    cache.0.insert(key, found.clone());
    Ok(Some(found))
}

/// Forgets a cached endpoint after this instance changed it.
fn forget(store: &Store, org: &relinx_model::OrgId, id: &WebhookId) {
    delivering(store).0.invalidate(&(org.clone(), id.clone()));
}

pub async fn get(store: &Store, ctx: &Context, id: &WebhookId) -> Result<Webhook, StoreError> {
    ctx.require(Permission::read(Resource::Webhooks))?;
    Ok(read(store, ctx, id).await?.webhook)
}

/// The org's endpoints (a workspace-scoped caller: its workspace's).
pub async fn list(
    store: &Store,
    ctx: &Context,
    page: &PageRequest,
) -> Result<Page<Webhook>, StoreError> {
    ctx.require(Permission::read(Resource::Webhooks))?;
    let filter = ctx
        .workspace_scope
        .as_ref()
        .map(|ws| Cond::new("workspace_id = :ws").value(":ws", relinx_ddb::codec::s(ws.as_str())));
    let page: Page<WebhookRecord> = store.org_page(&ctx.org_id, ENDPOINT, page, filter).await?;
    Ok(Page {
        items: page.items.into_iter().map(|r| r.webhook).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Every endpoint of the org, enabled or not, subscribed to `name` in `workspace`
/// (fan-out).
pub async fn subscribed(
    store: &Store,
    org: &relinx_model::OrgId,
    name: EventName,
    workspace: Option<&WorkspaceId>,
) -> Result<Vec<WebhookRecord>, StoreError> {
    let all: Vec<WebhookRecord> = store.org_all(org, ENDPOINT, || None).await?;
    Ok(all
        .into_iter()
        .filter(|r| r.webhook.subscribes(name, workspace))
        .collect())
}

/// Changes an endpoint (a new URL is checked as at registration).
pub async fn update(
    store: &Store,
    ctx: &Context,
    policy: TargetPolicy,
    id: &WebhookId,
    patch: WebhookPatch,
) -> Result<Webhook, StoreError> {
    ctx.require(Permission::write(Resource::Webhooks))?;
    read(store, ctx, id).await?;
    let url = match &patch.url {
        Some(raw) => Some(target::check(policy, raw).await?),
        None => None,
    };
    let events = patch.events.map(check_events).transpose()?;
    let description = match patch.description {
        Patch::Absent => None,
        Patch::Null => Some(None),
        Patch::Value(d) => Some(check_description(Some(d))?),
    };
    let (enabled, pipeline_rows) = (patch.enabled, patch.pipeline_rows);
    let (url, events, description) = (&url, &events, &description);
    let changed = versioned::modify(
        store,
        keys::org(&ctx.org_id),
        sk(id),
        || StoreError::NotFound("webhook"),
        |mut record: WebhookRecord, mut tx: Tx| async move {
            // Whoever points the endpoint elsewhere or changes what it hears is its
            // registrar from now on: invite URLs follow their rights, not the
            // original registrar's.
            if url.is_some() || events.is_some() {
                record.registered_by = Some(Registrar::of(ctx));
            }
            let webhook = &mut record.webhook;
            if let Some(url) = url {
                webhook.url = url.clone();
            }
            if let Some(events) = events {
                webhook.events = events.clone();
            }
            if let Some(description) = description {
                webhook.description = description.clone();
            }
            if let Some(pipeline_rows) = pipeline_rows {
                webhook.pipeline_rows = pipeline_rows;
            }
            if let Some(enabled) = enabled {
                // Enabled again: its failing streak starts over.
                if enabled && !webhook.enabled {
                    webhook.failing_since = None;
                }
                webhook.enabled = enabled;
            }
            webhook.updated_at = Timestamp::now();
            let shown = webhook.clone();
            tx.event_about(
                store,
                ctx,
                EventName::WebhookUpdated,
                shown.workspace_id.as_ref(),
                &shown,
            );
            Ok(Changed::put(tx, record, shown))
        },
    )
    .await;
    forget(store, &ctx.org_id, id);
    changed
}

/// Deletes an endpoint; its events stay in the log.
pub async fn delete(store: &Store, ctx: &Context, id: &WebhookId) -> Result<(), StoreError> {
    ctx.require(Permission::write(Resource::Webhooks))?;
    let record = read(store, ctx, id).await?;
    let mut tx = Tx::new();
    tx.delete(
        &store.tables().main,
        keys::org(&ctx.org_id),
        sk(id),
        Some(Cond::exists()),
        OnFail::Error(|| StoreError::NotFound("webhook")),
    );
    tx.event_about(
        store,
        ctx,
        EventName::WebhookDeleted,
        record.webhook.workspace_id.as_ref(),
        &record.webhook,
    );
    tx.commit(store).await?;
    forget(store, &ctx.org_id, id);
    Ok(())
}

/// Replaces the signing secret; the old one keeps signing (a second signature in
/// `webhook-signature`) for 24 h, so receivers can switch without losing a delivery.
pub async fn rotate_secret(
    store: &Store,
    ctx: &Context,
    id: &WebhookId,
) -> Result<(Webhook, String), StoreError> {
    ctx.require(Permission::write(Resource::Webhooks))?;
    read(store, ctx, id).await?;
    let secret = Secret::generate();
    let sealed = sealer(store).seal(&secret.expose());
    let sealed = &sealed;
    let webhook = versioned::modify(
        store,
        keys::org(&ctx.org_id),
        sk(id),
        || StoreError::NotFound("webhook"),
        |mut record: WebhookRecord, mut tx: Tx| async move {
            let now = Timestamp::now();
            let overlap = now.plus_seconds(ROTATION_OVERLAP_SECONDS);
            // Secrets past their overlap are dropped; the current one starts its own.
            record
                .secrets
                .retain(|s| s.expires_at.is_none_or(|at| at > now));
            for old in &mut record.secrets {
                old.expires_at = Some(old.expires_at.map_or(overlap, |at| at.min(overlap)));
            }
            record.secrets.insert(
                0,
                StoredSecret {
                    sealed: sealed.clone(),
                    expires_at: None,
                },
            );
            record.webhook.updated_at = now;
            let shown = record.webhook.clone();
            tx.event(
                store,
                ctx,
                EventName::WebhookUpdated,
                shown.workspace_id.as_ref(),
                shown.resource(),
                serde_json::json!({ "id": shown.id, "secret_rotated": true }),
            );
            Ok(Changed::put(tx, record, shown))
        },
    )
    .await?;
    forget(store, &ctx.org_id, id);
    Ok((webhook, secret.expose()))
}

/// Sends a `webhook.test` event to this endpoint only (the dispatcher delivers it);
/// answers the event's id.
pub async fn send_test(
    store: &Store,
    ctx: &Context,
    id: &WebhookId,
) -> Result<relinx_model::EventId, StoreError> {
    ctx.require(Permission::write(Resource::Webhooks))?;
    let record = read(store, ctx, id).await?;
    let mut tx = Tx::new();
    tx.event(
        store,
        ctx,
        EventName::WebhookTest,
        record.webhook.workspace_id.as_ref(),
        record.webhook.resource(),
        serde_json::json!({
            "endpoint_id": id,
            "message": "a test event from relinx: your endpoint receives and verifies our webhooks",
        }),
    );
    let sent = tx
        .event_id()
        .cloned()
        .ok_or_else(|| StoreError::Internal("the test event was not staged".into()))?;
    tx.commit(store).await?;
    Ok(sent)
}

/// Notes the outcome of a delivery on its endpoint: the first failure after a success
/// starts a failing streak, a success ends it, and a streak of
/// `disable_after` (by default [`DISABLE_AFTER`]) disables the endpoint with a `webhook.disabled` event.
/// Writes only when the streak starts, ends or disables, not on every attempt.
pub(crate) async fn note_outcome(
    store: &Store,
    endpoint: &Webhook,
    org: &relinx_model::OrgId,
    delivered: bool,
    now: Timestamp,
    disable_after: std::time::Duration,
) -> Result<(), StoreError> {
    let (set, condition) = match (delivered, endpoint.failing_since) {
        (true, None) => return Ok(()),
        (true, Some(_)) => (
            Cond::new(format!("REMOVE failing_since ADD {}", versioned::BUMP)),
            Cond::new("attribute_exists(failing_since)"),
        ),
        (false, None) => (
            Cond::new(format!("SET failing_since = :now ADD {}", versioned::BUMP))
                .value(":now", relinx_ddb::codec::s(now.to_string())),
            Cond::new("attribute_exists(pk) AND attribute_not_exists(failing_since)"),
        ),
        (false, Some(since)) => {
            if now.unix() - since.unix()
                < i64::try_from(disable_after.as_secs()).unwrap_or(i64::MAX)
                || !endpoint.enabled
            {
                return Ok(());
            }
            let disabled = disable_failing(store, org, &endpoint.id, since).await;
            forget(store, org, &endpoint.id);
            return disabled;
        }
    };
    // Refused: another attempt noted it first (or the endpoint is gone): nothing to do.
    let result = store
        .update(
            relinx_ddb::Table::Main,
            keys::org(org),
            sk(&endpoint.id),
            versioned::bump_values(set),
        )
        .when(condition)
        .apply()
        .await;
    forget(store, org, &endpoint.id);
    result.map(|_| ())
}

/// Disables an endpoint that has failed since `since`, with a `webhook.disabled`
/// event from the platform itself.
async fn disable_failing(
    store: &Store,
    org: &relinx_model::OrgId,
    id: &WebhookId,
    since: Timestamp,
) -> Result<(), StoreError> {
    let platform = Context::platform_acting_for(
        org.clone(),
        relinx_model::Actor {
            kind: relinx_model::ActorKind::System,
            id: "dispatcher".into(),
        },
        relinx_model::BuiltinRole::Owner,
    );
    let platform = &platform;
    let outcome = versioned::modify(
        store,
        keys::org(org),
        sk(id),
        || StoreError::NotFound("webhook"),
        |mut record: WebhookRecord, mut tx: Tx| async move {
            let webhook = &mut record.webhook;
            if !webhook.enabled {
                // Disabled in the meantime (by a person, or another attempt).
                return Ok(Changed::put(tx, record, ()));
            }
            webhook.enabled = false;
            webhook.updated_at = Timestamp::now();
            let mut data = webhook.event_data();
            if let Some(fields) = data.as_object_mut() {
                fields.insert(
                    "reason".into(),
                    serde_json::Value::String(format!(
                        "every delivery since {since} failed; fix the receiver, enable the endpoint and recover what it missed with POST /v1/webhooks/{id}/recover"
                    )),
                );
            }
            tx.event(
                store,
                platform,
                EventName::WebhookDisabled,
                webhook.workspace_id.as_ref(),
                webhook.resource(),
                data,
            );
            Ok(Changed::put(tx, record, ()))
        },
    )
    .await;
    match outcome {
        Err(StoreError::NotFound(_)) => Ok(()),
        other => other,
    }
}
