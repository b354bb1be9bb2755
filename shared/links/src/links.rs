//! Smartlink operations (seed 001 `/api/v1/smartlink`). A link is an item in its
//! org's partition; its slug is a guard of its own (`SLUG#{slug, lowercased}`), so a
//! slug is unique across every org and a redirect finds its link with one read.
//! Active links are counted on an item of the org (`LINKCOUNT`) in the same
//! transaction as the change, and the plan's limit is that count's condition, so two
//! creates racing for the last place cannot both win.

use crate::link::{
    Configuration, CustomHtml, Destination, LinkStatus, LinkType, OpenGraph, Smartlink, StoredLink,
    Totals, check_text, check_url,
};
use crate::slug::Slug;
use relinx_ddb::codec::{n, s, to_item};
use relinx_ddb::keys::{self, links as lk};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{CacheSettings, Store, StoreError, TtlCache};
use relinx_model::{
    Context, EventName, EventSubject, LinkId, OrgId, Patch, Permission, Resource, Timestamp,
    ValidationError,
};
use std::sync::Arc;

/// The name a link gets when none is given (seed 001).
pub const DEFAULT_NAME: &str = "Relink Smartlink";
/// How many generated slugs are tried before giving up (each is one in 56^6).
const SLUG_ATTEMPTS: usize = 5;
const MAX_NAME: usize = 200;
const MAX_OG_TITLE: usize = 300;
const MAX_OG_DESCRIPTION: usize = 1_000;
/// Custom head or body HTML.
const MAX_HTML: usize = 65_536;

/// A new link (`POST`, `config`): every part optional, each checked by
/// [`NewLink::new`], the only way to make one.
#[derive(Debug, Clone, Default)]
pub struct NewLink {
    slug: Option<Slug>,
    name: Option<String>,
    link_type: Option<LinkType>,
}

impl NewLink {
    pub fn new(
        slug: Option<Slug>,
        name: Option<String>,
        link_type: Option<LinkType>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            slug,
            name: check_name(name)?,
            link_type,
        })
    }
}

/// A change of a link's Open Graph data (`PUT`, `openGraph`).
#[derive(Debug, Clone, Default)]
pub struct OpenGraphChange {
    pub title: Patch<String>,
    pub description: Patch<String>,
    pub image_url: Patch<String>,
}

/// A change of a link's custom HTML (`PUT`, `customHtml`).
#[derive(Debug, Clone, Default)]
pub struct CustomHtmlChange {
    pub head: Patch<String>,
    pub body: Patch<String>,
    pub active: Option<bool>,
}

/// A change (`PUT`, PATCH semantics): only what is present changes. Every part is
/// checked by [`LinkChange::new`], the only way to make one; the destination is
/// checked against the link's type as it is read.
#[derive(Debug, Clone, Default)]
pub struct LinkChange {
    link_type: Option<LinkType>,
    name: Option<String>,
    slug: Option<Slug>,
    open_graph: OpenGraphChange,
    custom_html: CustomHtmlChange,
    destination: Option<serde_json::Value>,
}

impl LinkChange {
    /// The parts as a `PUT` body groups them: `configuration` (name, slug), the
    /// type and destination, `openGraph`, `customHtml`.
    pub fn new(
        (name, slug): (Option<String>, Option<Slug>),
        (link_type, destination): (Option<LinkType>, Option<serde_json::Value>),
        open_graph: OpenGraphChange,
        custom_html: CustomHtmlChange,
    ) -> Result<Self, ValidationError> {
        let text = |field: &'static str, max: usize| move |t: String| checked(field, t, max);
        Ok(Self {
            link_type,
            name: check_name(name)?,
            slug,
            open_graph: OpenGraphChange {
                title: open_graph
                    .title
                    .try_map(text("openGraph.title", MAX_OG_TITLE))?,
                description: open_graph
                    .description
                    .try_map(text("openGraph.description", MAX_OG_DESCRIPTION))?,
                image_url: open_graph
                    .image_url
                    .try_map(|u| check_url("openGraph.imageUrl", &u))?,
            },
            custom_html: CustomHtmlChange {
                head: custom_html
                    .head
                    .try_map(text("customHtml.head", MAX_HTML))?,
                body: custom_html
                    .body
                    .try_map(text("customHtml.body", MAX_HTML))?,
                active: custom_html.active,
            },
            destination,
        })
    }
}

/// Changes the caller's org's link `id` as `change` says (read, changed and written
/// back under its version: `versioned::modify`); absent, the link's 404.
async fn modify_link<R, F, Fut>(
    store: &Store,
    ctx: &Context,
    id: &LinkId,
    change: F,
) -> Result<R, StoreError>
where
    F: FnMut(StoredLink, Tx) -> Fut,
    Fut: std::future::Future<Output = Result<Changed<StoredLink, R>, StoreError>>,
{
    versioned::modify(
        store,
        keys::org(&ctx.org_id),
        link_sk(id),
        || StoreError::NotFound("smartlink"),
        change,
    )
    .await
}

fn link_sk(id: &LinkId) -> String {
    format!("{}{id}", lk::LINK)
}

impl EventSubject for Smartlink {
    const KIND: &'static str = "smartlink";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        relinx_model::event::data_of(self)
    }
}

fn slug_pk(slug: &Slug) -> String {
    format!("{}{}", lk::SLUG, slug.folded())
}

fn check_name(name: Option<String>) -> Result<Option<String>, ValidationError> {
    let name = name.map(|n| n.trim().to_owned());
    if name.as_deref() == Some("") {
        return Err(ValidationError::new("smartlinkName", "must not be empty"));
    }
    check_text("smartlinkName", name, MAX_NAME)
}

fn slug_taken() -> StoreError {
    StoreError::conflict(
        relinx_model::ErrorCode::SlugTaken,
        "this smartlink URL is taken (slugs are unique without regard to case); choose another",
    )
}

fn limit_reached() -> StoreError {
    StoreError::Forbidden {
        code: relinx_model::ErrorCode::PlanLimit,
        message:
            "your plan's limit of active smartlinks is reached: delete one or upgrade the plan"
                .into(),
    }
}

/// What the slug guard keeps for the redirect: the link as it is, so opening a
/// short link is one read.
fn serving(org: &OrgId, link: &Smartlink) -> String {
    serde_json::to_string(&StoredLink {
        org: org.clone(),
        link: link.clone(),
    })
    .unwrap_or_default()
}

/// Stages the slug's guard: it names the link and carries what the redirect serves.
/// It is never removed (a deleted or renamed link keeps its slug, so no one else can
/// take over its printed QR codes).
fn stage_slug(tx: &mut Tx, store: &Store, org: &OrgId, link: &Smartlink, slug: &Slug) {
    let mut item = relinx_ddb::codec::key(slug_pk(slug), lk::SLUG_SK.to_owned());
    item.insert("org".into(), s(org.as_str()));
    item.insert("link".into(), s(link.id.as_str()));
    item.insert("slug".into(), s(slug.as_str()));
    item.insert("serve".into(), s(serving(org, link)));
    forget_after_commit(tx, store, slug.as_str());
    tx.put(
        &store.tables().main,
        item,
        Some(Cond::not_exists()),
        OnFail::Error(slug_taken),
    );
}

/// Drops `slug` from this instance's redirect cache once the change commits.
fn forget_after_commit(tx: &mut Tx, store: &Store, slug: &str) {
    let (store, slug) = (store.clone(), slug.to_owned());
    tx.after_commit(move || forget(&store, &slug));
}

/// Stages `set` on the guard of `slug`, on the condition that it names `link`.
fn stage_guard(tx: &mut Tx, store: &Store, link: &Smartlink, slug: &str, set: Cond) {
    let Ok(slug) = Slug::parse("slug", slug) else {
        return;
    };
    forget_after_commit(tx, store, slug.as_str());
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: slug_pk(&slug),
            sk: lk::SLUG_SK.to_owned(),
            set,
            condition: Some(Cond::new("link = :link").value(":link", s(link.id.as_str()))),
        },
        OnFail::Internal,
    );
}

/// Stages the link's new state into its slug's guard (the redirect's copy).
fn stage_serving(tx: &mut Tx, store: &Store, org: &OrgId, link: &Smartlink) {
    let set = Cond::new("SET serve = :serve").value(":serve", s(serving(org, link)));
    stage_guard(tx, store, link, &link.configuration.smartlink_url, set);
}

/// Stages a slug the link no longer answers on: kept (nobody else may take it), but
/// serving nothing.
fn stage_retired(tx: &mut Tx, store: &Store, link: &Smartlink, old: &str) {
    stage_guard(tx, store, link, old, Cond::new("REMOVE serve"));
}

/// The link a slug names, as the redirect serves it (one read); `None` for an
/// unknown slug or one its link no longer answers on. A deleted link is returned
/// (status `Deleted`) so the caller can tell it apart, and serves nothing.
pub async fn resolve(store: &Store, slug: &str) -> Result<Option<(OrgId, Smartlink)>, StoreError> {
    let folded = slug.to_ascii_lowercase();
    let item = store
        .read_attributes(format!("{}{folded}", lk::SLUG), lk::SLUG_SK, "serve")
        .await?;
    let Some(serve) = item
        .as_ref()
        .and_then(|item| relinx_ddb::codec::get_s(item, "serve"))
    else {
        return Ok(None);
    };
    let stored: StoredLink =
        serde_json::from_str(serve).map_err(|e| StoreError::internal("read a slug's link", e))?;
    Ok(Some((stored.org, stored.link)))
}

/// Stages one more (or one fewer) active link on the org's count; one more only
/// while the count is below `limit`.
fn stage_count(tx: &mut Tx, store: &Store, org: &OrgId, delta: i64, limit: Option<u64>) {
    let condition = match (delta > 0, limit) {
        (true, Some(limit)) => Some(
            Cond::new("attribute_not_exists(active) OR active < :limit")
                .value(":limit", n(i64::try_from(limit).unwrap_or(i64::MAX))),
        ),
        _ => None,
    };
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: keys::org(org),
            sk: lk::ACTIVE_COUNT_SK.to_owned(),
            set: Cond::new("ADD active :delta").value(":delta", n(delta)),
            condition,
        },
        OnFail::Error(limit_reached),
    );
}

/// `POST /api/v1/smartlink`: a new active link (403 past the plan's limit, 409 for a
/// taken custom slug; a generated slug that collides is drawn again).
pub async fn create(store: &Store, ctx: &Context, new: NewLink) -> Result<Smartlink, StoreError> {
    ctx.require(Permission::write(Resource::Links))?;
    let limit = relinx_identity::orgs::get(store, &ctx.org_id)
        .await?
        .limits()
        .smartlinks;
    let name = new.name.unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let link_type = new.link_type.unwrap_or_default();
    let workspace = ctx.workspace_scope.clone();
    let attempts = if new.slug.is_some() { 1 } else { SLUG_ATTEMPTS };
    let mut last = slug_taken();
    for _ in 0..attempts {
        let slug = new.slug.clone().unwrap_or_else(Slug::generate);
        let now = Timestamp::now();
        let link = Smartlink {
            id: LinkId::generate(),
            status: LinkStatus::Active,
            link_type,
            user_id: ctx.actor.id.clone(),
            workspace_id: workspace.clone(),
            created_at: now,
            updated_at: now,
            relink: String::new(),
            configuration: Configuration {
                smartlink_name: name.clone(),
                smartlink_url: slug.as_str().to_owned(),
            },
            open_graph: OpenGraph::default(),
            custom_html: CustomHtml::default(),
            destination: Destination::empty(link_type).to_value(),
            analytics: Totals::default(),
        };
        let stored = StoredLink {
            org: ctx.org_id.clone(),
            link: link.clone(),
        };
        let mut tx = Tx::new();
        tx.put(
            &store.tables().main,
            to_item(&stored, keys::org(&ctx.org_id), link_sk(&link.id))?,
            Some(Cond::not_exists()),
            OnFail::Internal,
        );
        stage_slug(&mut tx, store, &ctx.org_id, &link, &slug);
        stage_count(&mut tx, store, &ctx.org_id, 1, limit);
        tx.event_about(
            store,
            ctx,
            EventName::SmartlinkCreated,
            link.workspace_id.as_ref(),
            &link,
        );
        tx.answer(store, &link);
        match tx.commit(store).await {
            Ok(()) => return Ok(link),
            Err(StoreError::Conflict {
                code: relinx_model::ErrorCode::SlugTaken,
                ..
            }) if new.slug.is_none() => last = slug_taken(),
            Err(err) => return Err(err),
        }
    }
    Err(last)
}

async fn read(store: &Store, ctx: &Context, id: &LinkId) -> Result<Smartlink, StoreError> {
    let stored: StoredLink = store
        .get(keys::org(&ctx.org_id), link_sk(id))
        .await?
        .ok_or(StoreError::NotFound("smartlink"))?;
    if !is_shown(ctx, &stored.link) {
        return Err(StoreError::NotFound("smartlink"));
    }
    Ok(stored.link)
}

/// Whether `link` is there for the caller: active, and in the caller's workspace
/// for a workspace-scoped caller (anything else is a 404).
fn is_shown(ctx: &Context, link: &Smartlink) -> bool {
    link.status != LinkStatus::Deleted && ctx.sees_confined(&link.workspace_id)
}

/// An active link of the caller's, without its totals (404 otherwise).
pub async fn find(store: &Store, ctx: &Context, id: &LinkId) -> Result<Smartlink, StoreError> {
    ctx.require(Permission::read(Resource::Links))?;
    read(store, ctx, id).await
}

/// `GET /api/v1/smartlink?id=`: an active link of the caller's (404 otherwise).
pub async fn get(store: &Store, ctx: &Context, id: &LinkId) -> Result<Smartlink, StoreError> {
    ctx.require(Permission::read(Resource::Links))?;
    let mut link = read(store, ctx, id).await?;
    link.analytics = crate::hits::totals(store, id).await?;
    Ok(link)
}

/// `GET /api/v1/smartlink`: every active link of the org (of the caller's workspace,
/// for a workspace-scoped caller), oldest first.
pub async fn list(store: &Store, ctx: &Context) -> Result<Vec<Smartlink>, StoreError> {
    ctx.require(Permission::read(Resource::Links))?;
    let all: Vec<StoredLink> = store
        .org_all(&ctx.org_id, lk::LINK, || {
            Some(
                Cond::new("#status = :active")
                    .name("#status", "status")
                    .value(":active", s("Active")),
            )
        })
        .await?;
    let links: Vec<Smartlink> = all
        .into_iter()
        .map(|s| s.link)
        .filter(|l| ctx.sees_confined(&l.workspace_id))
        .collect();
    let totals =
        futures::future::join_all(links.iter().map(|l| crate::hits::totals(store, &l.id))).await;
    links
        .into_iter()
        .zip(totals)
        .map(|(mut link, totals)| {
            link.analytics = totals?;
            Ok(link)
        })
        .collect()
}

/// `GET /api/v1/smartlink/analytics`: a link's hits per day and by device, referrer
/// and country, from `from` to `to` (days, inclusive).
pub async fn analytics(
    store: &Store,
    ctx: &Context,
    id: &LinkId,
    from: &str,
    to: &str,
) -> Result<crate::hits::Analytics, StoreError> {
    ctx.require(Permission::read(Resource::Links))?;
    read(store, ctx, id).await?;
    crate::hits::analytics(store, id, from, to).await
}

/// `PUT /api/v1/smartlink`: changes what `change` carries. A new slug is claimed (409
/// when taken); the old one stays the link's. A new type without a destination
/// starts from that type's empty destination.
pub async fn update(
    store: &Store,
    ctx: &Context,
    id: &LinkId,
    change: LinkChange,
) -> Result<Smartlink, StoreError> {
    ctx.require(Permission::write(Resource::Links))?;
    let (name, open_graph, custom_html) = (&change.name, &change.open_graph, &change.custom_html);
    let (new_type, raw_destination, slug) = (change.link_type, &change.destination, &change.slug);
    modify_link(
        store,
        ctx,
        id,
        |mut stored: StoredLink, mut tx: Tx| async move {
            let link = &mut stored.link;
            if !is_shown(ctx, link) {
                return Err(StoreError::NotFound("smartlink"));
            }
            // Checked against the link as read, in the change: one read per update.
            let new_type = new_type.unwrap_or(link.link_type);
            let destination = match raw_destination {
                Some(raw) => Some(Destination::parse(new_type, raw.clone())?),
                None if new_type != link.link_type => Some(Destination::empty(new_type)),
                None => None,
            };
            let new_slug = slug
                .as_ref()
                .filter(|s| s.as_str() != link.configuration.smartlink_url);
            link.link_type = new_type;
            if let Some(name) = name {
                link.configuration.smartlink_name = name.clone();
            }
            let old_slug = link.configuration.smartlink_url.clone();
            if let Some(slug) = new_slug {
                link.configuration.smartlink_url = slug.as_str().to_owned();
            }
            open_graph
                .title
                .clone()
                .apply_to(&mut link.open_graph.title);
            open_graph
                .description
                .clone()
                .apply_to(&mut link.open_graph.description);
            open_graph
                .image_url
                .clone()
                .apply_to(&mut link.open_graph.image_url);
            custom_html
                .head
                .clone()
                .apply_to(&mut link.custom_html.head);
            custom_html
                .body
                .clone()
                .apply_to(&mut link.custom_html.body);
            if let Some(active) = custom_html.active {
                link.custom_html.active = active;
            }
            if let Some(destination) = destination {
                link.destination = destination.to_value();
            }
            link.updated_at = Timestamp::now();
            match new_slug {
                Some(slug) => {
                    stage_slug(&mut tx, store, &ctx.org_id, link, slug);
                    stage_retired(&mut tx, store, link, &old_slug);
                }
                None => stage_serving(&mut tx, store, &ctx.org_id, link),
            }
            let shown = link.clone();
            tx.event_about(
                store,
                ctx,
                EventName::SmartlinkUpdated,
                shown.workspace_id.as_ref(),
                &shown,
            );
            Ok(Changed::put(tx, stored, shown))
        },
    )
    .await
}

fn checked(field: &str, text: String, max: usize) -> Result<String, ValidationError> {
    check_text(field, Some(text), max).map(Option::unwrap_or_default)
}

/// `DELETE /api/v1/smartlink`: soft delete. The link stays (status `Deleted`), with
/// its slug and analytics; it no longer counts against the plan.
pub async fn delete(store: &Store, ctx: &Context, id: &LinkId) -> Result<(), StoreError> {
    ctx.require(Permission::write(Resource::Links))?;
    modify_link(
        store,
        ctx,
        id,
        |mut stored: StoredLink, mut tx: Tx| async move {
            if !is_shown(ctx, &stored.link) {
                return Err(StoreError::NotFound("smartlink"));
            }
            stored.link.status = LinkStatus::Deleted;
            stored.link.updated_at = Timestamp::now();
            stage_count(&mut tx, store, &ctx.org_id, -1, None);
            stage_serving(&mut tx, store, &ctx.org_id, &stored.link);
            tx.event_about(
                store,
                ctx,
                EventName::SmartlinkDeleted,
                stored.link.workspace_id.as_ref(),
                &stored.link,
            );
            Ok(Changed::put(tx, stored, ()))
        },
    )
    .await
}

/// Slugs this instance resolved lately: a popular link is read once every few
/// seconds, not on every visit.
pub(crate) struct Resolved(pub(crate) TtlCache<String, Option<Arc<(OrgId, Smartlink)>>>);

pub(crate) fn resolved(store: &Store) -> Arc<Resolved> {
    store.local(|cache: &CacheSettings| Resolved(TtlCache::new(cache.link_ttl, 100_000)))
}

/// Drops a slug from this instance's cache (after this instance changed its link).
pub(crate) fn forget(store: &Store, slug: &str) {
    resolved(store).0.invalidate(&slug.to_ascii_lowercase());
}

/// The day counters of every active link of workspace `ws` (and of the org's links
/// confined to no workspace, for a caller who sees them) from `from` to `to`
/// (days, `YYYY-MM-DD`, inclusive): one row a link and day with any hit, `{link_id,
/// link_name, day, clicks, qr_code_scans, fall_backs, bots}`, exact (the counters,
/// never the hits), handed to `visit`; reads counted on `budget` (analytics over
/// `clicks`).
pub async fn walk_days(
    store: &Store,
    ctx: &Context,
    ws: &relinx_model::WorkspaceId,
    (from, to): (&str, &str),
    budget: &mut relinx_ddb::ReadBudget,
    visit: &mut (dyn FnMut(serde_json::Value) -> Result<(), StoreError> + Send),
) -> Result<(), StoreError> {
    ctx.require(Permission::read(Resource::Links))?;
    if !ctx.sees_workspace(ws) {
        return Err(StoreError::NotFound("workspace"));
    }
    let query = store
        .query(relinx_ddb::Table::Main, keys::org(&ctx.org_id))
        .begins_with(lk::LINK)
        .filter_where(
            // The org's unconfined links show to a caller confined to no workspace.
            Cond::new(if ctx.workspace_scope.is_none() {
                "#status = :active AND (#ws = :ws OR attribute_not_exists(#ws))"
            } else {
                "#status = :active AND #ws = :ws"
            })
            .name("#status", "status")
            .name("#ws", "workspaceId")
            .value(":active", s("Active"))
            .value(":ws", s(ws.as_str())),
        );
    let mut links = Vec::new();
    budget
        .walk(query, &mut |item| {
            let stored: StoredLink = relinx_ddb::codec::from_item(item)?;
            links.push(stored.link);
            Ok(())
        })
        .await?;
    for link in links {
        for day in crate::hits::days_within(store, &link.id, from, to, budget).await? {
            visit(serde_json::json!({
                "link_id": link.id.to_string(),
                "link_name": link.configuration.smartlink_name,
                "day": day.date,
                "clicks": day.clicks,
                "qr_code_scans": day.qr_code_scans,
                "fall_backs": day.fall_backs,
                "bots": day.bots,
            }))?;
        }
    }
    Ok(())
}
