//! Members of an org: list, read, change (name, role, status), delete. Invites are
//! their own module; logins too.

use crate::authority::{self, Target};
use crate::keys;
use crate::orgs::{self, OrgEffect};
use crate::{api_keys, roles};
use relinx_ddb::codec::{Page, PageRequest, s};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    BuiltinRole, Context, EventName, OrgId, Patch, Permission, Resource, Timestamp, User, UserId,
    UserStatus, ValidationError,
};
use std::collections::BTreeMap;

/// Records that the caller (a member or a service account) read the records change
/// feed: `last_sync_at`, written at most once a minute per principal and instance,
/// off the request's critical path (bookkeeping: a failure is only logged). The
/// write bumps the item's version, so no optimistic update overwrites it from an
/// older copy.
pub fn note_sync(store: &Store, ctx: &Context) {
    let sk = match ctx.actor.kind {
        relinx_model::ActorKind::User => UserId::parse(&ctx.actor.id).map(|id| keys::user_sk(&id)),
        relinx_model::ActorKind::ServiceAccount => {
            relinx_model::ServiceAccountId::parse(&ctx.actor.id)
                .map(|id| keys::service_account_sk(&id))
        }
        relinx_model::ActorKind::System => None,
    };
    let Some(sk) = sk else { return };
    let synced = &crate::state::caches(store).synced;
    let principal = (ctx.org_id.clone(), ctx.actor.id.clone());
    if synced.get(&principal).is_some() {
        return;
    }
    synced.insert(principal, ());
    let (store, org) = (store.clone(), ctx.org_id.clone());
    tokio::spawn(async move {
        let now = Timestamp::now();
        let set = versioned::bump_values(Cond::new(format!(
            "SET last_sync_at = :at ADD {}",
            versioned::BUMP
        )))
        .value(":at", s(now.to_string()));
        let result = store
            .update(relinx_ddb::Table::Main, keys::org(&org), sk, set)
            .if_present()
            .apply()
            .await;
        if let Err(err) = result {
            tracing::debug!(error = %err, "could not record last_sync_at");
        }
    });
}

pub async fn get(store: &Store, org: &OrgId, user: &UserId) -> Result<User, StoreError> {
    store
        .get(keys::org(org), keys::user_sk(user))
        .await?
        .ok_or(StoreError::NotFound("user"))
}

/// A page of the org's users, optionally only those holding `role`.
pub async fn list(
    store: &Store,
    ctx: &Context,
    role: Option<&str>,
    page: &PageRequest,
) -> Result<Page<User>, StoreError> {
    ctx.require(Permission::read(Resource::Users))?;
    let filter = role.map(|role| {
        Cond::new("#role = :role")
            .name("#role", "role")
            .value(":role", s(role))
    });
    store
        .org_page(&ctx.org_id, keys::USER_SK_PREFIX, page, filter)
        .await
}

/// Every user of the org, for page-numbered lists.
pub async fn list_all(store: &Store, ctx: &Context) -> Result<Vec<User>, StoreError> {
    ctx.require(Permission::read(Resource::Users))?;
    store
        .org_all(&ctx.org_id, keys::USER_SK_PREFIX, || None)
        .await
}

pub async fn get_member(store: &Store, ctx: &Context, id: &UserId) -> Result<User, StoreError> {
    ctx.require(Permission::read(Resource::Users))?;
    get(store, &ctx.org_id, id).await
}

fn is_active_owner(role: &str, status: UserStatus) -> bool {
    role == BuiltinRole::Owner.as_str() && status == UserStatus::Active
}

/// Refuses changes to a member whose role allows more than the caller's (members
/// are org-wide: a caller confined to one workspace changes none).
async fn require_over(store: &Store, ctx: &Context, user: &User) -> Result<(), StoreError> {
    let target = Target {
        permissions: authority::role_permissions(store, &ctx.org_id, &user.role).await?,
        confined_to: None,
        what: "this member",
    };
    authority::require_over(ctx, &target)
}

/// Runs `change` with no key minted for the member meanwhile (a demotion, disabling
/// or deletion must see every key they have), once the caller is known to outrank
/// them (the change re-checks that against what it reads).
async fn holding_minting<R>(
    store: &Store,
    ctx: &Context,
    id: &UserId,
    change: impl Future<Output = Result<R, StoreError>>,
) -> Result<R, StoreError> {
    require_over(store, ctx, &get(store, &ctx.org_id, id).await?).await?;
    authority::while_marked(
        store,
        &ctx.org_id,
        keys::user_sk(id),
        || StoreError::NotFound("user"),
        change,
    )
    .await
}

/// PATCH / PUT-as-PATCH on a member.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Patch<String>,
    pub role: Option<String>,
    /// `active` or `disabled`.
    pub status: Option<UserStatus>,
}

/// Changes member `id` of the caller's org as `change` says (read, changed and
/// written back under its version: `versioned::modify`).
async fn modify_member<R, F, Fut>(
    store: &Store,
    ctx: &Context,
    id: &UserId,
    change: F,
) -> Result<R, StoreError>
where
    F: FnMut(User, Tx) -> Fut,
    Fut: std::future::Future<Output = Result<Changed<User, R>, StoreError>>,
{
    versioned::modify(
        store,
        keys::org(&ctx.org_id),
        keys::user_sk(id),
        || StoreError::NotFound("user"),
        change,
    )
    .await
}

/// Changes a member's name, role or status. A role change caps the member's keys at
/// the new role (at use, through the org's `holder_roles`) and refuses their older
/// tokens; disabling refuses every credential of
/// theirs at once on this instance and within the org cache's TTL elsewhere.
pub async fn update(
    store: &Store,
    ctx: &Context,
    id: &UserId,
    patch: UserPatch,
) -> Result<User, StoreError> {
    ctx.require(Permission::write(Resource::Users))?;
    ctx.require_org_wide("change members")?;
    let patch = &patch;
    let change = modify_member(store, ctx, id, |current: User, mut tx: Tx| async move {
        require_over(store, ctx, &current).await?;
        let mut next = current.clone();
        patch
            .name
            .clone()
            .map(|n| n.trim().to_owned())
            .apply_to(&mut next.name);
        next.name = next.name.filter(|n| !n.is_empty());
        let mut role_deltas: BTreeMap<String, i64> = BTreeMap::new();
        let mut new_permissions = None;
        if let Some(role) = patch.role.clone().filter(|r| *r != current.role) {
            new_permissions = Some(roles::grantable(store, ctx, "role", &role).await?);
            *role_deltas.entry(current.role.clone()).or_default() -= 1;
            *role_deltas.entry(role.clone()).or_default() += 1;
            next.role = role;
        }
        if let Some(status) = patch.status {
            if status == UserStatus::Invited || current.status == UserStatus::Invited {
                return Err(StoreError::Invalid(ValidationError::new(
                    "status",
                    "must be active or disabled, and an invited member becomes active by accepting the invite",
                )));
            }
            next.status = status;
        }
        let now = Timestamp::now();
        let effect = OrgEffect {
            owners: i64::from(is_active_owner(&next.role, next.status))
                - i64::from(is_active_owner(&current.role, current.status)),
            disable: (next.status != current.status)
                .then(|| (id.to_string(), next.status == UserStatus::Disabled)),
            revoke_tokens: new_permissions
                .is_some()
                .then(|| (id.to_string(), now.unix_millis() + 1)),
            // Their keys act with no more than the new role from now on: one
            // write however many keys they minted (their items keep the role
            // they were made with).
            holder_role: new_permissions
                .is_some()
                .then(|| (id.to_string(), Some(next.role.clone()))),
        };
        for (role, delta) in role_deltas {
            roles::stage_use(&mut tx, store, &ctx.org_id, &role, delta);
        }
        effect.stage(&mut tx, store, &ctx.org_id);
        tx.event_about(store, ctx, EventName::UserUpdated, None, &next);
        Ok(Changed::put(tx, next.clone(), next))
    });
    if patch.role.is_some() || patch.status.is_some() {
        holding_minting(store, ctx, id, change).await
    } else {
        change.await
    }
}

/// Removes a member for good: their keys, login and pending invite go with them, and
/// their tokens stop working. Under the member's version: a key minted meanwhile
/// makes this re-read the member's keys, so none survives.
pub async fn delete(store: &Store, ctx: &Context, id: &UserId) -> Result<User, StoreError> {
    ctx.require(Permission::write(Resource::Users))?;
    ctx.require_org_wide("delete members")?;
    let main = &store.tables().main;
    let change = modify_member(store, ctx, id, |current: User, mut tx: Tx| async move {
        require_over(store, ctx, &current).await?;
        let org_pk = keys::org(&ctx.org_id);
        let mut role_deltas: BTreeMap<String, i64> = BTreeMap::from([(current.role.clone(), -1)]);
        tx.delete(
            main,
            org_pk.clone(),
            keys::member_email_sk(&current.email),
            None,
            OnFail::Internal,
        );
        if current.status != UserStatus::Invited {
            tx.delete(
                main,
                keys::login(&current.email),
                keys::LOGIN_SK.to_owned(),
                Some(Cond::new("user_id = :user").value(":user", s(id.to_string()))),
                OnFail::Internal,
            );
        }
        let owned = api_keys::owned_by(store, &ctx.org_id, id.as_str()).await?;
        api_keys::stage_revoke_all(&mut tx, store, &ctx.org_id, &owned, &mut role_deltas)?;
        for (role, delta) in role_deltas {
            roles::stage_use(&mut tx, store, &ctx.org_id, &role, delta);
        }
        OrgEffect {
            owners: -i64::from(is_active_owner(&current.role, current.status)),
            disable: None,
            revoke_tokens: Some((id.to_string(), Timestamp::now().unix_millis() + 1)),
            holder_role: Some((id.to_string(), None)),
        }
        .stage(&mut tx, store, &ctx.org_id);
        tx.event_about(store, ctx, EventName::UserDeleted, None, &current);
        Ok(Changed::delete(tx, current))
    });
    holding_minting(store, ctx, id, async {
        // The last owner stays (409 below); say so before revoking any of their keys.
        let current = get(store, &ctx.org_id, id).await?;
        if is_active_owner(&current.role, current.status)
            && orgs::get(store, &ctx.org_id).await?.owners <= 1
        {
            return Err(StoreError::conflict(
                relinx_model::ErrorCode::LastOwner,
                orgs::LAST_OWNER,
            ));
        }
        api_keys::revoke_until_removable(store, ctx, id.as_str()).await?;
        change.await
    })
    .await
}
