//! Roles are named sets of permissions. The four built-in roles are data from
//! [`BuiltinRole::permissions`] and cannot change; an org's custom roles live in its
//! partition, each with a count of the keys, users, invites and service accounts
//! holding it, so a role in use cannot be deleted.

use crate::authority::{self, Target};
use crate::keys::{self, role_sk};
use crate::state::caches;
use relinx_ddb::codec::{n, to_item};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    BuiltinRole, Context, EventName, OrgId, Patch, Permission, PermissionSet, Resource,
    ResourceRef, Role, Timestamp, ValidationError,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A custom role as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleRecord {
    pub name: String,
    pub permissions: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// How many keys, users, invites and service accounts hold this role.
    #[serde(default)]
    pub in_use: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl RoleRecord {
    fn permission_set(&self) -> PermissionSet {
        self.permissions
            .iter()
            .filter_map(|p| Permission::parse(p))
            .collect()
    }

    fn view(&self) -> Role {
        Role {
            name: self.name.clone(),
            permissions: self.permissions.clone(),
            description: self.description.clone(),
            built_in: false,
            in_use: Some(self.in_use.max(0) as u64),
        }
    }
}

fn built_in_view(role: BuiltinRole) -> Role {
    Role {
        name: role.as_str().to_owned(),
        permissions: role.permissions().iter().map(|p| p.to_string()).collect(),
        description: Some(
            match role {
                BuiltinRole::Owner => "everything, including the organization and its plan",
                BuiltinRole::Admin => "reads everything, writes data, manages users, keys, webhooks, policies, workspaces and alerting",
                BuiltinRole::Operator => "reads everything and writes data",
                BuiltinRole::Viewer => "reads everything",
            }
            .to_owned(),
        ),
        built_in: true,
        in_use: None,
    }
}

/// The org's custom roles, from this instance's cache when fresh: for resolving a
/// caller's permissions. Never the basis of a write.
async fn custom_roles(store: &Store, org: &OrgId) -> Result<Arc<Vec<RoleRecord>>, StoreError> {
    let cache = caches(store);
    if let Some(roles) = cache.roles.get(org) {
        return Ok(roles);
    }
    let roles = Arc::new(
        store
            .org_all::<RoleRecord>(org, keys::ROLE_SK_PREFIX, || None)
            .await?,
    );
    cache.roles.insert(org.clone(), roles.clone());
    Ok(roles)
}

/// Drops this instance's copy of the org's roles once `tx` commits.
fn forget_after_commit(tx: &mut Tx, store: &Store, org: &OrgId) {
    let (cache, org) = (caches(store), org.clone());
    tx.after_commit(move || cache.roles.invalidate(&org));
}

/// The permissions of `role` in `org`, or `None` when no such role exists. Built-in
/// roles cost nothing; custom roles come from the org's cached role list.
pub async fn resolve(
    store: &Store,
    org: &OrgId,
    role: &str,
) -> Result<Option<PermissionSet>, StoreError> {
    if let Some(builtin) = BuiltinRole::parse(role) {
        return Ok(Some(builtin.permissions()));
    }
    Ok(custom_roles(store, org)
        .await?
        .iter()
        .find(|r| r.name == role)
        .map(RoleRecord::permission_set))
}

/// Every role of the org (built-in and custom) whose permissions cover `permissions`.
pub(crate) async fn covering(
    store: &Store,
    org: &OrgId,
    permissions: &PermissionSet,
) -> Result<Vec<String>, StoreError> {
    let mut names: Vec<String> = BuiltinRole::ALL
        .iter()
        .filter(|r| r.permissions().covers(permissions))
        .map(|r| r.as_str().to_owned())
        .collect();
    names.extend(
        custom_roles(store, org)
            .await?
            .iter()
            .filter(|r| r.permission_set().covers(permissions))
            .map(|r| r.name.clone()),
    );
    Ok(names)
}

/// Checks that the caller may hand out `role`: it exists (400 naming `field`) and
/// allows nothing the caller lacks (403).
pub async fn grantable(
    store: &Store,
    ctx: &Context,
    field: &str,
    role: &str,
) -> Result<PermissionSet, StoreError> {
    let permissions = resolve(store, &ctx.org_id, role).await?.ok_or_else(|| {
        StoreError::Invalid(ValidationError::new(
            field,
            format!("{role:?} is not a role in your organization; built-in roles are owner, admin, operator, viewer"),
        ))
    })?;
    if !ctx.permissions.covers(&permissions) {
        return Err(StoreError::forbidden(
            relinx_model::ErrorCode::RoleEscalation,
            format!("{field}: role {role:?} allows more than your own role; choose a lower role"),
        ));
    }
    Ok(permissions)
}

/// Counts one more (or one fewer) holder of `role` in `tx`. For a custom role the
/// update is conditional on the role existing, so a role cannot vanish under a new
/// holder. Built-in roles are not counted.
pub(crate) fn stage_use(tx: &mut Tx, store: &Store, org: &OrgId, role: &str, delta: i64) {
    if BuiltinRole::parse(role).is_some() || delta == 0 {
        return;
    }
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: keys::org(org),
            sk: role_sk(role),
            set: versioned::bump_values(
                Cond::new(format!("ADD in_use :delta, {}", versioned::BUMP))
                    .value(":delta", n(delta)),
            ),
            condition: Some(Cond::exists()),
        },
        OnFail::Error(|| {
            StoreError::Invalid(ValidationError::new(
                "role",
                "the role was deleted; choose another",
            ))
        }),
    );
    forget_after_commit(tx, store, org);
}

/// Refuses (403) a change to a role that allows more than the caller's own: whoever
/// edits a role could otherwise use everyone who holds it.
fn require_over(ctx: &Context, role: &RoleRecord) -> Result<(), StoreError> {
    let target = Target {
        permissions: role.permission_set(),
        confined_to: None,
        what: "this role",
    };
    authority::require_over(ctx, &target)
}

/// Built-in roles first, then the org's own.
pub async fn list(store: &Store, ctx: &Context) -> Result<Vec<Role>, StoreError> {
    ctx.require(Permission::read(Resource::Users))?;
    let mut roles: Vec<Role> = BuiltinRole::ALL.iter().map(|r| built_in_view(*r)).collect();
    let mut custom: Vec<Role> = custom_roles(store, &ctx.org_id)
        .await?
        .iter()
        .map(RoleRecord::view)
        .collect();
    custom.sort_by(|a, b| a.name.cmp(&b.name));
    roles.extend(custom);
    Ok(roles)
}

fn parse_name(raw: &str) -> Result<String, StoreError> {
    let name = raw.trim();
    let valid = (2..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return Err(StoreError::Invalid(ValidationError::new(
            "name",
            "must be 2 to 40 characters: lower-case letters, digits, '_' or '-', starting with a letter",
        )));
    }
    Ok(name.to_owned())
}

fn parse_permissions(raw: &[String]) -> Result<(Vec<String>, PermissionSet), StoreError> {
    let mut set = PermissionSet::empty();
    for (i, text) in raw.iter().enumerate() {
        let permission = Permission::parse(text.trim()).ok_or_else(|| {
            StoreError::Invalid(ValidationError::new(
                format!("permissions[{i}]"),
                format!("{text:?} is not a permission; use <resource>:<read|write>, e.g. workspaces:read"),
            ))
        })?;
        set = set.with(permission);
    }
    Ok((set.iter().map(|p| p.to_string()).collect(), set))
}

fn refuse_built_in(name: &str) -> Result<(), StoreError> {
    if BuiltinRole::parse(name).is_some() {
        return Err(StoreError::forbidden(
            relinx_model::ErrorCode::BuiltInRole,
            format!("{name:?} is a built-in role and cannot be changed"),
        ));
    }
    Ok(())
}

fn resource(name: &str) -> ResourceRef {
    ResourceRef::new("role", name)
}

pub struct NewRole {
    pub name: String,
    pub permissions: Vec<String>,
    pub description: Option<String>,
}

pub async fn create(store: &Store, ctx: &Context, new: NewRole) -> Result<Role, StoreError> {
    ctx.require(Permission::write(Resource::Users))?;
    ctx.require_org_wide("create roles")?;
    let name = parse_name(&new.name)?;
    if BuiltinRole::parse(&name).is_some() {
        return Err(StoreError::conflict(
            relinx_model::ErrorCode::AlreadyExists,
            format!("{name:?} is a built-in role"),
        ));
    }
    let (permissions, set) = parse_permissions(&new.permissions)?;
    if !ctx.permissions.covers(&set) {
        return Err(StoreError::forbidden(
            relinx_model::ErrorCode::RoleEscalation,
            "permissions: a role cannot allow more than your own role",
        ));
    }
    let now = Timestamp::now();
    let record = RoleRecord {
        name: name.clone(),
        permissions,
        description: new.description,
        in_use: 0,
        created_at: now,
        updated_at: now,
    };
    let mut tx = Tx::new();
    tx.put(
        &store.tables().main,
        to_item(&record, keys::org(&ctx.org_id), role_sk(&name))?,
        Some(Cond::not_exists()),
        OnFail::Conflict(
            relinx_model::ErrorCode::AlreadyExists,
            format!("a role named {name:?} already exists"),
        ),
    );
    let view = record.view();
    tx.event(
        store,
        ctx,
        EventName::RoleCreated,
        None,
        resource(&name),
        serde_json::to_value(&view).unwrap_or_default(),
    );
    forget_after_commit(&mut tx, store, &ctx.org_id);
    tx.commit(store).await?;
    Ok(view)
}

#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub permissions: Option<Vec<String>>,
    pub description: Patch<String>,
}

/// Changes a custom role; every holder's permissions change with it. Read and
/// written back under its version: an edit through another instance is never undone.
pub async fn update(
    store: &Store,
    ctx: &Context,
    name: &str,
    patch: RolePatch,
) -> Result<Role, StoreError> {
    ctx.require(Permission::write(Resource::Users))?;
    ctx.require_org_wide("change roles")?;
    refuse_built_in(name)?;
    let permissions = match &patch.permissions {
        Some(raw) => {
            let (permissions, set) = parse_permissions(raw)?;
            if !ctx.permissions.covers(&set) {
                return Err(StoreError::forbidden(
                    relinx_model::ErrorCode::RoleEscalation,
                    "permissions: a role cannot allow more than your own role",
                ));
            }
            Some(permissions)
        }
        None => None,
    };
    let (permissions, patch) = (&permissions, &patch);
    versioned::modify(
        store,
        keys::org(&ctx.org_id),
        role_sk(name),
        || StoreError::NotFound("role"),
        |mut role: RoleRecord, mut tx: Tx| async move {
            require_over(ctx, &role)?;
            if let Some(permissions) = &permissions {
                role.permissions = permissions.clone();
            }
            patch.description.clone().apply_to(&mut role.description);
            role.updated_at = Timestamp::now();
            let view = role.view();
            tx.event(
                store,
                ctx,
                EventName::RoleUpdated,
                None,
                resource(name),
                serde_json::to_value(&view).unwrap_or_default(),
            );
            forget_after_commit(&mut tx, store, &ctx.org_id);
            Ok(Changed::put(tx, role, view))
        },
    )
    .await
}

/// Deletes a custom role nobody holds.
pub async fn delete(store: &Store, ctx: &Context, name: &str) -> Result<(), StoreError> {
    ctx.require(Permission::write(Resource::Users))?;
    ctx.require_org_wide("delete roles")?;
    refuse_built_in(name)?;
    let current: RoleRecord = store
        .get(keys::org(&ctx.org_id), role_sk(name))
        .await?
        .ok_or(StoreError::NotFound("role"))?;
    require_over(ctx, &current)?;
    let mut tx = Tx::new();
    tx.delete(
        &store.tables().main,
        keys::org(&ctx.org_id),
        role_sk(name),
        Some(
            Cond::new("attribute_exists(pk) AND (attribute_not_exists(in_use) OR in_use <= :zero)")
                .value(":zero", n(0)),
        ),
        OnFail::Conflict(
            relinx_model::ErrorCode::RoleInUse,
            format!(
                "role {name:?} is held by keys, users or service accounts; reassign them first"
            ),
        ),
    );
    tx.event(
        store,
        ctx,
        EventName::RoleDeleted,
        None,
        resource(name),
        serde_json::to_value(current.view()).unwrap_or_default(),
    );
    forget_after_commit(&mut tx, store, &ctx.org_id);
    tx.commit(store).await
}

/// Reads one role by name (built-in or custom).
pub async fn get(store: &Store, ctx: &Context, name: &str) -> Result<Role, StoreError> {
    ctx.require(Permission::read(Resource::Users))?;
    if let Some(builtin) = BuiltinRole::parse(name) {
        return Ok(built_in_view(builtin));
    }
    let record: RoleRecord = store
        .get(keys::org(&ctx.org_id), role_sk(name))
        .await?
        .ok_or(StoreError::NotFound("role"))?;
    Ok(record.view())
}
