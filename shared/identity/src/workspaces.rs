//! Workspaces: names unique in the org, a `read_only` flag every data write obeys,
//! and resolution of the workspace a request acts on.

use crate::keys;
use crate::orgs;
use crate::state::caches;
use relinx_ddb::codec::{Item, Page, PageRequest, get_s, key, s, to_item};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, EventName, Name, OrgId, Patch, Permission, Resource, Timestamp, ValidationError,
    Workspace, WorkspaceId,
};
use std::sync::Arc;

/// A write to a read-only workspace (403).
pub fn read_only() -> StoreError {
    StoreError::forbidden(
        relinx_model::ErrorCode::WorkspaceReadOnly,
        "the workspace is read-only; set read_only to false before changing it",
    )
}

/// Refuses the transaction unless the workspace exists in the org and is writable:
/// every data write on the platform adds this, so `read_only` holds everywhere.
pub fn stage_writable(tx: &mut Tx, store: &Store, org: &OrgId, ws: &WorkspaceId) {
    tx.check(
        &store.tables().main,
        keys::org(org),
        keys::workspace_sk(ws),
        Cond::new("attribute_exists(pk) AND read_only = :false")
            .value(":false", relinx_ddb::codec::boolean(false)),
        OnFail::Inspect(read_only_or_missing),
    );
}

fn read_only_or_missing(old: Option<&Item>) -> StoreError {
    match old {
        Some(_) => read_only(),
        None => StoreError::NotFound("workspace"),
    }
}

/// Refuses the transaction unless the workspace exists in the org: for something
/// being confined to it by its `workspace_id` field (a missing one is a 400 naming it).
pub fn stage_exists(tx: &mut Tx, store: &Store, org: &OrgId, ws: &WorkspaceId) {
    tx.check(
        &store.tables().main,
        keys::org(org),
        keys::workspace_sk(ws),
        Cond::exists(),
        OnFail::Error(|| {
            StoreError::Invalid(ValidationError::new(
                "workspace_id",
                "no workspace with this id exists in your organization",
            ))
        }),
    );
}

const NAME_TAKEN: &str = "a workspace with this name already exists in the organization";

/// Adds a new workspace and its name guard to `tx`.
pub(crate) fn stage_create(
    tx: &mut Tx,
    store: &Store,
    org: &OrgId,
    ws: &Workspace,
) -> Result<(), StoreError> {
    let main = &store.tables().main;
    let name = Name::parse("name", &ws.name)?;
    tx.put(
        main,
        to_item(ws, keys::org(org), keys::workspace_sk(&ws.id))?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    tx.put(
        main,
        name_guard(org, &name, &ws.id),
        Some(Cond::not_exists()),
        OnFail::Conflict(
            relinx_model::ErrorCode::AlreadyExists,
            NAME_TAKEN.to_owned(),
        ),
    );
    Ok(())
}

fn name_guard(org: &OrgId, name: &Name, ws: &WorkspaceId) -> Item {
    let mut item = key(keys::org(org), keys::workspace_name_sk(&name.key()));
    item.insert("workspace_id".into(), s(ws.to_string()));
    item
}

pub struct NewWorkspace {
    pub name: Name,
    pub read_only: bool,
    pub config: Option<serde_json::Value>,
}

pub async fn create(
    store: &Store,
    ctx: &Context,
    new: NewWorkspace,
) -> Result<Workspace, StoreError> {
    ctx.require(Permission::write(Resource::Workspaces))?;
    ctx.require_org_wide("create workspaces")?;
    if let Some(config) = &new.config {
        relinx_model::json::check_storable("config", config)?;
    }
    let now = Timestamp::now();
    let ws = Workspace {
        id: WorkspaceId::generate(),
        name: new.name.to_string(),
        read_only: new.read_only,
        config: new.config,
        created_at: now,
        updated_at: now,
    };
    let mut tx = Tx::new();
    stage_create(&mut tx, store, &ctx.org_id, &ws)?;
    tx.event_about(store, ctx, EventName::WorkspaceCreated, Some(&ws.id), &ws);
    forget_directory_after_commit(&mut tx, store, &ctx.org_id);
    tx.answer(store, &ws);
    tx.commit(store).await?;
    Ok(ws)
}

/// One workspace by id; 404 when it is not the caller's.
pub async fn get(store: &Store, ctx: &Context, id: &WorkspaceId) -> Result<Workspace, StoreError> {
    ctx.require(Permission::read(Resource::Workspaces))?;
    if !ctx.sees_workspace(id) {
        return Err(StoreError::NotFound("workspace"));
    }
    read(store, &ctx.org_id, id)
        .await?
        .ok_or(StoreError::NotFound("workspace"))
}

/// The workspace as stored, for the platform's own work (a run's event names it); no
/// caller's rights are checked here.
pub async fn read(
    store: &Store,
    org: &OrgId,
    id: &WorkspaceId,
) -> Result<Option<Workspace>, StoreError> {
    store.get(keys::org(org), keys::workspace_sk(id)).await
}

/// The id behind a workspace name, or `None`.
async fn id_for_name(
    store: &Store,
    org: &OrgId,
    name: &str,
) -> Result<Option<WorkspaceId>, StoreError> {
    let Ok(name) = Name::parse("name", name) else {
        return Ok(None);
    };
    if let Some(ws) = directory_cached(store, org).and_then(|dir| {
        dir.iter()
            .find(|w| Name::parse("name", &w.name).is_ok_and(|n| n.key() == name.key()))
            .cloned()
    }) {
        return Ok(Some(ws.id));
    }
    let item = store
        .get_item(keys::org(org), keys::workspace_name_sk(&name.key()))
        .await?;
    Ok(item.and_then(|i| get_s(&i, "workspace_id").and_then(WorkspaceId::parse)))
}

/// One workspace by name (Datalinx addresses workspaces by name).
pub async fn get_by_name(
    store: &Store,
    ctx: &Context,
    name: &str,
) -> Result<Workspace, StoreError> {
    let id = id_for_name(store, &ctx.org_id, name)
        .await?
        .ok_or(StoreError::NotFound("workspace"))?;
    get(store, ctx, &id).await
}

pub async fn id_by_name(
    store: &Store,
    ctx: &Context,
    name: &str,
) -> Result<WorkspaceId, StoreError> {
    let id = id_for_name(store, &ctx.org_id, name)
        .await?
        .ok_or(StoreError::NotFound("workspace"))?;
    if !ctx.sees_workspace(&id) {
        return Err(StoreError::NotFound("workspace"));
    }
    Ok(id)
}

/// A page of the org's workspaces, oldest first.
pub async fn list(
    store: &Store,
    ctx: &Context,
    page: &PageRequest,
) -> Result<Page<Workspace>, StoreError> {
    ctx.require(Permission::read(Resource::Workspaces))?;
    if let Some(scope) = &ctx.workspace_scope {
        let only = read(store, &ctx.org_id, scope).await?;
        return Ok(Page {
            items: only.into_iter().collect(),
            next_cursor: None,
        });
    }
    store
        .org_page(&ctx.org_id, keys::WORKSPACE_SK_PREFIX, page, None)
        .await
}

/// Every workspace of the org (bounded: an org holds few), for page-numbered lists
/// and header resolution.
pub async fn list_all(store: &Store, ctx: &Context) -> Result<Vec<Workspace>, StoreError> {
    ctx.require(Permission::read(Resource::Workspaces))?;
    let all = directory(store, &ctx.org_id).await?;
    Ok(all
        .iter()
        .filter(|w| ctx.sees_workspace(&w.id))
        .cloned()
        .collect())
}

fn directory_cached(store: &Store, org: &OrgId) -> Option<Arc<Vec<Workspace>>> {
    caches(store).workspaces.get(org)
}

/// Drops this instance's copy of the org's workspace list once `tx` commits.
fn forget_directory_after_commit(tx: &mut Tx, store: &Store, org: &OrgId) {
    let (cache, org) = (caches(store), org.clone());
    tx.after_commit(move || cache.workspaces.invalidate(&org));
}

async fn directory(store: &Store, org: &OrgId) -> Result<Arc<Vec<Workspace>>, StoreError> {
    if let Some(dir) = directory_cached(store, org) {
        return Ok(dir);
    }
    let all: Vec<Workspace> = store
        .org_all(org, keys::WORKSPACE_SK_PREFIX, || None)
        .await?;
    let dir = Arc::new(all);
    caches(store).workspaces.insert(org.clone(), dir.clone());
    Ok(dir)
}

/// PUT-as-PATCH: only the fields present change.
#[derive(Debug, Clone, Default)]
pub struct WorkspacePatch {
    pub name: Option<Name>,
    pub read_only: Option<bool>,
    /// `Patch::Null` clears the config.
    pub config: Patch<serde_json::Value>,
}

pub async fn update(
    store: &Store,
    ctx: &Context,
    id: &WorkspaceId,
    patch: WorkspacePatch,
) -> Result<Workspace, StoreError> {
    ctx.require(Permission::write(Resource::Workspaces))?;
    if let Patch::Value(config) = &patch.config {
        relinx_model::json::check_storable("config", config)?;
    }
    if !ctx.sees_workspace(id) {
        return Err(StoreError::NotFound("workspace"));
    }
    let main = &store.tables().main;
    let org = &ctx.org_id;
    let patch = &patch;
    versioned::modify(
        store,
        keys::org(org),
        keys::workspace_sk(id),
        || StoreError::NotFound("workspace"),
        |current: Workspace, mut tx: Tx| async move {
            // A read-only workspace accepts one change: the one that makes it writable again.
            if current.read_only && patch.read_only != Some(false) {
                return Err(read_only());
            }
            let mut next = current.clone();
            if let Some(name) = &patch.name {
                next.name = name.to_string();
            }
            if let Some(read_only) = patch.read_only {
                next.read_only = read_only;
            }
            patch.config.clone().apply_to(&mut next.config);
            next.updated_at = Timestamp::now();
            let old_name = Name::parse("name", &current.name)?;
            if let Some(name) = patch.name.as_ref().filter(|n| n.key() != old_name.key()) {
                tx.delete(
                    main,
                    keys::org(org),
                    keys::workspace_name_sk(&old_name.key()),
                    None,
                    OnFail::Internal,
                );
                tx.put(
                    main,
                    name_guard(org, name, id),
                    Some(Cond::not_exists()),
                    OnFail::Conflict(
                        relinx_model::ErrorCode::AlreadyExists,
                        NAME_TAKEN.to_owned(),
                    ),
                );
            }
            tx.event_about(store, ctx, EventName::WorkspaceUpdated, Some(id), &next);
            forget_directory_after_commit(&mut tx, store, org);
            Ok(Changed::put(tx, next.clone(), next))
        },
    )
    .await
}

/// Deletes a workspace for good; its events stay in the log.
pub async fn delete(
    store: &Store,
    ctx: &Context,
    id: &WorkspaceId,
) -> Result<Workspace, StoreError> {
    ctx.require(Permission::write(Resource::Workspaces))?;
    // Not even its own: a credential confined to a workspace would delete itself
    // with everything the workspace holds.
    ctx.require_org_wide("delete workspaces")?;
    let current = get(store, ctx, id).await?;
    let org = orgs::get(store, &ctx.org_id).await?;
    if org.default_workspace_id == *id {
        return Err(StoreError::conflict(
            relinx_model::ErrorCode::DefaultWorkspace,
            "the default workspace cannot be deleted",
        ));
    }
    if current.read_only {
        return Err(read_only());
    }
    let main = &store.tables().main;
    let mut tx = Tx::new();
    tx.delete(
        main,
        keys::org(&ctx.org_id),
        keys::workspace_sk(id),
        Some(
            Cond::new("attribute_exists(pk) AND read_only = :false")
                .value(":false", relinx_ddb::codec::boolean(false)),
        ),
        OnFail::Inspect(read_only_or_missing),
    );
    let name = Name::parse("name", &current.name)?;
    tx.delete(
        main,
        keys::org(&ctx.org_id),
        keys::workspace_name_sk(&name.key()),
        None,
        OnFail::Internal,
    );
    tx.event_about(store, ctx, EventName::WorkspaceDeleted, Some(id), &current);
    forget_directory_after_commit(&mut tx, store, &ctx.org_id);
    tx.commit(store).await?;
    Ok(current)
}

/// Which workspace a request acts on (API.md "Workspace resolution"), first that
/// applies: the credential's own scope; the `workspaceId` header (an id); the
/// `X-Workspace` header (a name); the org's default. A header naming a workspace that
/// is not the caller's is a 404.
pub async fn resolve(
    store: &Store,
    ctx: &Context,
    header_id: Option<&str>,
    header_name: Option<&str>,
) -> Result<WorkspaceId, StoreError> {
    let not_found = || StoreError::NotFound("workspace");
    if let Some(scope) = &ctx.workspace_scope {
        // A scoped credential may name its own workspace in a header, nothing else.
        if header_id.is_some_and(|raw| WorkspaceId::parse(raw).as_ref() != Some(scope)) {
            return Err(not_found());
        }
        if let Some(name) = header_name
            && id_for_name(store, &ctx.org_id, name).await?.as_ref() != Some(scope)
        {
            return Err(not_found());
        }
        return Ok(scope.clone());
    }
    if let Some(raw) = header_id {
        let id = WorkspaceId::parse(raw).ok_or_else(not_found)?;
        let known = directory(store, &ctx.org_id)
            .await?
            .iter()
            .any(|w| w.id == id);
        if known {
            return Ok(id);
        }
        // Maybe created moments ago through another instance: ask the table itself
        // (without dropping the cached list: a made-up id must not cost everyone).
        return match read(store, &ctx.org_id, &id).await? {
            Some(ws) => Ok(ws.id),
            None => Err(not_found()),
        };
    }
    if let Some(name) = header_name {
        return id_for_name(store, &ctx.org_id, name)
            .await?
            .ok_or_else(not_found);
    }
    Ok(orgs::get(store, &ctx.org_id)
        .await?
        .default_workspace_id
        .clone())
}
