//! Service accounts: identities for machines, names unique in the org. Their keys
//! follow the API-key rules; deleting one revokes its keys and tokens in the same
//! transaction. Minting a key for one or deleting it needs a role covering its role.

use crate::api_keys::{self, NewKey};
use crate::authority::{self, Target};
use crate::orgs::OrgEffect;
use crate::{keys, roles, workspaces};
use relinx_auth::SecretKey;
use relinx_ddb::codec::{Item, key, s, to_item};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Actor, ActorKind, ApiKey, Context, EventName, Name, Permission, Resource, ServiceAccount,
    ServiceAccountId, Timestamp, WorkspaceId,
};
use std::collections::BTreeMap;

const NAME_TAKEN: &str = "a service account with this name already exists in the organization";

/// The guard that keeps an account's name unique (compared as `Name::key`).
fn name_guard(ctx: &Context, name: &Name, id: &ServiceAccountId) -> Item {
    let mut item = key(
        keys::org(&ctx.org_id),
        keys::service_account_name_sk(&name.key()),
    );
    item.insert("service_account_id".into(), s(id.to_string()));
    item
}

pub struct NewServiceAccount {
    pub name: Name,
    pub role: String,
    pub workspace_id: Option<WorkspaceId>,
}

pub async fn create(
    store: &Store,
    ctx: &Context,
    new: NewServiceAccount,
) -> Result<ServiceAccount, StoreError> {
    ctx.require(Permission::write(Resource::Users))?;
    roles::grantable(store, ctx, "role", &new.role).await?;
    let workspace_id = ctx.confine(new.workspace_id)?;
    let account = ServiceAccount {
        id: ServiceAccountId::generate(),
        name: new.name.to_string(),
        role: new.role.clone(),
        workspace_id: workspace_id.clone(),
        created_at: Timestamp::now(),
        last_sync_at: None,
    };
    let main = &store.tables().main;
    let mut tx = Tx::new();
    if let Some(ws) = &workspace_id {
        workspaces::stage_exists(&mut tx, store, &ctx.org_id, ws);
    }
    tx.put(
        main,
        to_item(
            &account,
            keys::org(&ctx.org_id),
            keys::service_account_sk(&account.id),
        )?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    tx.put(
        main,
        name_guard(ctx, &new.name, &account.id),
        Some(Cond::not_exists()),
        OnFail::Conflict(
            relinx_model::ErrorCode::AlreadyExists,
            NAME_TAKEN.to_owned(),
        ),
    );
    roles::stage_use(&mut tx, store, &ctx.org_id, &account.role, 1);
    tx.event_about(
        store,
        ctx,
        EventName::ServiceAccountCreated,
        workspace_id.as_ref(),
        &account,
    );
    tx.answer(store, &account);
    tx.commit(store).await?;
    Ok(account)
}

pub async fn list(store: &Store, ctx: &Context) -> Result<Vec<ServiceAccount>, StoreError> {
    ctx.require(Permission::read(Resource::Users))?;
    let all: Vec<ServiceAccount> = store
        .org_all(&ctx.org_id, keys::SERVICE_ACCOUNT_SK_PREFIX, || None)
        .await?;
    Ok(all
        .into_iter()
        .filter(|a| ctx.sees_confined(&a.workspace_id))
        .collect())
}

pub async fn get(
    store: &Store,
    ctx: &Context,
    id: &ServiceAccountId,
) -> Result<ServiceAccount, StoreError> {
    ctx.require(Permission::read(Resource::Users))?;
    store
        .get_confined(
            ctx,
            keys::service_account_sk(id),
            "service account",
            |a: &ServiceAccount| &a.workspace_id,
        )
        .await
}

/// Deletes the account, its keys, and (through the org) any token it holds.
pub async fn delete(
    store: &Store,
    ctx: &Context,
    id: &ServiceAccountId,
) -> Result<ServiceAccount, StoreError> {
    ctx.require(Permission::write(Resource::Users))?;
    // Scope first: an account outside the caller's workspace is not found.
    let account = get(store, ctx, id).await?;
    require_over(store, ctx, &account).await?;
    let main = &store.tables().main;
    // Under the account's version, no key minted meanwhile (see `authority`).
    let change = versioned::modify(
        store,
        keys::org(&ctx.org_id),
        keys::service_account_sk(id),
        || StoreError::NotFound("service account"),
        |account: ServiceAccount, mut tx: Tx| async move {
            require_over(store, ctx, &account).await?;
            let owned = api_keys::owned_by(store, &ctx.org_id, id.as_str()).await?;
            let mut role_deltas: BTreeMap<String, i64> =
                BTreeMap::from([(account.role.clone(), -1)]);
            api_keys::stage_revoke_all(&mut tx, store, &ctx.org_id, &owned, &mut role_deltas)?;
            for (role, delta) in role_deltas {
                roles::stage_use(&mut tx, store, &ctx.org_id, &role, delta);
            }
            if let Ok(name) = Name::parse("name", &account.name) {
                tx.delete(
                    main,
                    keys::org(&ctx.org_id),
                    keys::service_account_name_sk(&name.key()),
                    None,
                    OnFail::Internal,
                );
            }
            OrgEffect {
                revoke_tokens: Some((id.to_string(), Timestamp::now().unix_millis() + 1)),
                holder_role: Some((id.to_string(), None)),
                ..Default::default()
            }
            .stage(&mut tx, store, &ctx.org_id);
            tx.event_about(
                store,
                ctx,
                EventName::ServiceAccountDeleted,
                account.workspace_id.as_ref(),
                &account,
            );
            Ok(Changed::delete(tx, account))
        },
    );
    authority::while_marked(
        store,
        &ctx.org_id,
        keys::service_account_sk(id),
        || StoreError::NotFound("service account"),
        async {
            api_keys::revoke_until_removable(store, ctx, id.as_str()).await?;
            change.await
        },
    )
    .await
}

/// Refuses (403) unless the caller outranks the account and reaches its workspace.
async fn require_over(
    store: &Store,
    ctx: &Context,
    account: &ServiceAccount,
) -> Result<(), StoreError> {
    let target = Target {
        permissions: authority::role_permissions(store, &ctx.org_id, &account.role).await?,
        confined_to: account.workspace_id.as_ref(),
        what: "this service account",
    };
    authority::require_over(ctx, &target)
}

pub struct NewAccountKey {
    pub name: Name,
    pub role: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// A key for the account, shown once. It carries the account's role or a lower one,
/// never more than the caller's, confined to the account's workspace if it has one.
pub async fn create_key(
    store: &Store,
    ctx: &Context,
    id: &ServiceAccountId,
    new: NewAccountKey,
) -> Result<(ApiKey, SecretKey), StoreError> {
    ctx.require(Permission::write(Resource::Keys))?;
    let account = get(store, ctx, id).await?;
    require_over(store, ctx, &account).await?;
    let role = new.role.unwrap_or_else(|| account.role.clone());
    let permissions = roles::grantable(store, ctx, "role", &role).await?;
    let account_permissions =
        authority::role_permissions(store, &ctx.org_id, &account.role).await?;
    if !account_permissions.covers(&permissions) {
        return Err(StoreError::forbidden(
            relinx_model::ErrorCode::RoleEscalation,
            "role: a key cannot allow more than its service account's role",
        ));
    }
    let now = Timestamp::now();
    api_keys::require_future_expiry(new.expires_at, now)?;
    let holder = Actor {
        kind: ActorKind::ServiceAccount,
        id: id.to_string(),
    };
    let mut tx = Tx::new();
    // Commits only while the account exists with a covering role; a delete sees it.
    api_keys::stage_holder_covers(&mut tx, store, &ctx.org_id, &holder, &permissions).await?;
    roles::stage_use(&mut tx, store, &ctx.org_id, &role, 1);
    let key = NewKey {
        name: new.name,
        role,
        workspace_id: account.workspace_id.clone(),
        expires_at: new.expires_at,
        owner: holder,
    };
    api_keys::commit_new(tx, store, ctx, key, now).await
}
