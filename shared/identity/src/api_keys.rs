//! API keys: created and rotated with the secret shown once, verified against a
//! peppered hash, cached per instance for a bounded time.

use crate::authority::{self, Target};
use crate::state::caches;
use crate::{keys, roles, workspaces};
use relinx_auth::{AuthError, PresentedKey, SecretKey};
use relinx_ddb::codec::{Page, PageRequest, n, s, to_item};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::{Store, StoreError, versioned};
use relinx_model::{
    Actor, ActorKind, ApiKey, ApiKeyId, Context, EventName, Name, OrgId, Permission, PermissionSet,
    Resource, ServiceAccountId, Timestamp, UserId, ValidationError, WorkspaceId,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// How often `last_used_at` is written for a busy key.
const LAST_USED_EVERY_SECONDS: i64 = 60;

/// What verifying a key needs, stored under the key's id alone.
#[derive(Debug, Serialize, Deserialize)]
pub struct KeyCredential {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub owner: Actor,
    pub role: String,
    pub workspace_id: Option<WorkspaceId>,
    pub expires_at: Option<Timestamp>,
    /// HMAC-SHA256 of the whole key under the pepper.
    pub hash: String,
    /// When this instance last wrote `last_used_at` (not stored).
    #[serde(skip)]
    pub last_used_written: AtomicI64,
}

pub struct NewKey {
    pub name: Name,
    pub role: String,
    pub workspace_id: Option<WorkspaceId>,
    pub expires_at: Option<Timestamp>,
    pub owner: Actor,
}

/// Adds a new key (listing item + credential) to `tx`.
pub(crate) fn stage_create(
    tx: &mut Tx,
    store: &Store,
    org: &OrgId,
    new: NewKey,
    now: Timestamp,
) -> Result<(ApiKey, SecretKey), StoreError> {
    let id = store.hasher().new_key_id();
    let secret = SecretKey::generate(&id);
    let key_meta = ApiKey {
        id: id.clone(),
        name: new.name.to_string(),
        role: new.role.clone(),
        workspace_id: new.workspace_id.clone(),
        owner: new.owner.clone(),
        created_at: now,
        expires_at: new.expires_at,
        last_used_at: None,
        rotated_at: None,
    };
    let credential = KeyCredential {
        id: id.clone(),
        org_id: org.clone(),
        owner: new.owner,
        role: new.role,
        workspace_id: new.workspace_id,
        expires_at: new.expires_at,
        hash: store.hasher().hash(secret.expose()),
        last_used_written: AtomicI64::new(0),
    };
    let main = &store.tables().main;
    tx.put(
        main,
        to_item(&key_meta, keys::org(org), keys::api_key_sk(&id))?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    tx.put(
        main,
        to_item(
            &credential,
            keys::key_credential(&id),
            keys::KEY_CREDENTIAL_SK.to_owned(),
        )?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    Ok((key_meta, secret))
}

pub struct CreateKey {
    pub name: Name,
    pub role: Option<String>,
    pub workspace_id: Option<WorkspaceId>,
    pub expires_at: Option<Timestamp>,
}

/// Creates a key for the caller. The key never carries a permission the caller lacks
/// nor more than the caller's current role, nor reaches beyond the caller's workspace
/// scope; it commits only while the caller still holds such a role.
pub async fn create(
    store: &Store,
    ctx: &Context,
    req: CreateKey,
) -> Result<(ApiKey, SecretKey), StoreError> {
    ctx.require(Permission::write(Resource::Keys))?;
    let now = Timestamp::now();
    let role = req.role.unwrap_or_else(|| ctx.role.clone());
    let key_permissions = roles::grantable(store, ctx, "role", &role).await?;
    require_future_expiry(req.expires_at, now)?;
    let workspace_id = ctx.confine(req.workspace_id)?;
    let mut tx = Tx::new();
    stage_holder_covers(&mut tx, store, &ctx.org_id, &ctx.actor, &key_permissions).await?;
    if let Some(ws) = &workspace_id {
        workspaces::stage_exists(&mut tx, store, &ctx.org_id, ws);
    }
    roles::stage_use(&mut tx, store, &ctx.org_id, &role, 1);
    let new = NewKey {
        name: req.name,
        role,
        workspace_id,
        expires_at: req.expires_at,
        owner: ctx.actor.clone(),
    };
    commit_new(tx, store, ctx, new, now).await
}

/// Adds key `new` to `tx` with its `api_key.created` event, and commits: what every
/// way of making a key for a caller ends with (the checks are staged already).
pub(crate) async fn commit_new(
    mut tx: Tx,
    store: &Store,
    ctx: &Context,
    new: NewKey,
    now: Timestamp,
) -> Result<(ApiKey, SecretKey), StoreError> {
    let workspace = new.workspace_id.clone();
    let (meta, secret) = stage_create(&mut tx, store, &ctx.org_id, new, now)?;
    tx.event_about(
        store,
        ctx,
        EventName::ApiKeyCreated,
        workspace.as_ref(),
        &meta,
    );
    let created = (meta, secret);
    tx.answer(store, &created);
    tx.commit(store).await?;
    Ok(created)
}

/// Most roles a key's holder condition can name (DynamoDB's `IN` takes 100 operands).
const MAX_COVERING_ROLES: usize = 99;

/// Makes `tx` commit only while the key's holder (a member: an active one) has a
/// role that covers the key's permissions and is not being changed, and bumps the holder's version so a
/// demotion or deletion racing this key re-reads the holder's keys and finds it. The
/// condition names the roles that cover the key, so no read of the holder is needed.
pub(crate) async fn stage_holder_covers(
    tx: &mut Tx,
    store: &Store,
    org: &OrgId,
    holder: &Actor,
    key_permissions: &PermissionSet,
) -> Result<(), StoreError> {
    let (sk, mut condition) = match holder.kind {
        ActorKind::User => {
            let id = UserId::parse(&holder.id).ok_or(StoreError::NotFound("user"))?;
            let active = Cond::new("#status = :active AND ")
                .name("#status", "status")
                .value(":active", s("active"));
            (keys::user_sk(&id), active)
        }
        ActorKind::ServiceAccount => {
            let id = ServiceAccountId::parse(&holder.id)
                .ok_or(StoreError::NotFound("service account"))?;
            (keys::service_account_sk(&id), Cond::new(""))
        }
        // The platform's own keys (none today) have no holder item to check.
        ActorKind::System => return Ok(()),
    };
    let covering = roles::covering(store, org, key_permissions).await?;
    if covering.len() > MAX_COVERING_ROLES {
        return Err(StoreError::conflict(
            relinx_model::ErrorCode::TooManyRoles,
            format!(
                "more than {MAX_COVERING_ROLES} roles cover this key's role; delete unused custom roles"
            ),
        ));
    }
    let mut placeholders = Vec::with_capacity(covering.len());
    for (i, role) in covering.into_iter().enumerate() {
        let placeholder = format!(":covering{i}");
        condition = condition.value(&placeholder, s(role));
        placeholders.push(placeholder);
    }
    condition.expression = format!(
        "attribute_exists(pk) AND {}#role IN ({}) AND (attribute_not_exists(#changing) OR #changing < :now_ms)",
        condition.expression,
        placeholders.join(", ")
    );
    condition = condition
        .name("#changing", authority::CHANGING_UNTIL)
        .value(":now_ms", n(Timestamp::now().unix_millis()));
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: keys::org(org),
            sk,
            set: versioned::bump_values(Cond::new(format!("ADD {}", versioned::BUMP))),
            condition: Some(condition.name("#role", "role")),
        },
        OnFail::Inspect(authority::holder_refusal),
    );
    Ok(())
}

/// Refuses (403) a change to `key` unless the caller outranks its holder. One's own
/// keys are measured by their own role: rotating your key gives you nothing new.
async fn require_over_key(store: &Store, ctx: &Context, key: &ApiKey) -> Result<(), StoreError> {
    let role = if key.owner == ctx.actor {
        key.role.clone()
    } else {
        // A holder that is gone leaves the key's own role as the measure.
        authority::holder_role(store, &ctx.org_id, &key.owner)
            .await?
            .unwrap_or_else(|| key.role.clone())
    };
    let target = Target {
        permissions: authority::role_permissions(store, &ctx.org_id, &role).await?,
        confined_to: key.workspace_id.as_ref(),
        what: "this key's holder",
    };
    authority::require_over(ctx, &target)
}

/// A new key's expiry, when it has one, must be ahead of `now` (422 otherwise).
pub(crate) fn require_future_expiry(
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), StoreError> {
    if expires_at.is_some_and(|at| at <= now) {
        return Err(StoreError::Unprocessable(ValidationError::new(
            "expires_at",
            "must be in the future",
        )));
    }
    Ok(())
}

/// The keys an actor (a member or service account) owns, for capping or revoking them.
pub(crate) async fn owned_by(
    store: &Store,
    org: &OrgId,
    owner_id: &str,
) -> Result<Vec<ApiKey>, StoreError> {
    store
        .org_all(org, keys::API_KEY_SK_PREFIX, || {
            Some(
                Cond::new("#owner.id = :owner")
                    .name("#owner", "owner")
                    .value(":owner", s(owner_id)),
            )
        })
        .await
}

/// A key as it acts (its role capped at its holder's, as lists show it).
pub async fn get(store: &Store, ctx: &Context, id: &ApiKeyId) -> Result<ApiKey, StoreError> {
    let mut meta = stored(store, ctx, id).await?;
    show_capped(
        store,
        &*crate::orgs::get(store, &ctx.org_id).await?,
        &mut meta,
    )
    .await?;
    Ok(meta)
}

/// A key as stored (its role as minted, which its holder's role count counts).
async fn stored(store: &Store, ctx: &Context, id: &ApiKeyId) -> Result<ApiKey, StoreError> {
    ctx.require(Permission::read(Resource::Keys))?;
    store
        .get_confined(ctx, keys::api_key_sk(id), "API key", |k: &ApiKey| {
            &k.workspace_id
        })
        .await
}

pub async fn list(
    store: &Store,
    ctx: &Context,
    page: &PageRequest,
) -> Result<Page<ApiKey>, StoreError> {
    ctx.require(Permission::read(Resource::Keys))?;
    let filter = ctx
        .workspace_scope
        .as_ref()
        .map(|scope| Cond::new("workspace_id = :ws").value(":ws", s(scope.to_string())));
    let mut page: Page<ApiKey> = store
        .org_page(&ctx.org_id, keys::API_KEY_SK_PREFIX, page, filter)
        .await?;
    let org = crate::orgs::get(store, &ctx.org_id).await?;
    for key in &mut page.items {
        show_capped(store, &org, key).await?;
    }
    Ok(page)
}

/// A key as it acts: where its holder's role changed to one that does not cover
/// the key's, the key shows (and acts with, [`cap_to_holder`]) the holder's role.
async fn show_capped(
    store: &Store,
    org: &crate::orgs::OrgRecord,
    key: &mut ApiKey,
) -> Result<(), StoreError> {
    let Some(holder_role) = org.holder_role(&key.owner.id) else {
        return Ok(());
    };
    let holder = roles::resolve(store, &org.id, holder_role)
        .await?
        .unwrap_or_default();
    let own = roles::resolve(store, &org.id, &key.role)
        .await?
        .unwrap_or_default();
    if !holder.covers(&own) {
        holder_role.clone_into(&mut key.role);
    }
    Ok(())
}

/// Replaces a key's secret: the old key stops working, the id stays.
pub async fn rotate(
    store: &Store,
    ctx: &Context,
    id: &ApiKeyId,
) -> Result<(ApiKey, SecretKey), StoreError> {
    ctx.require(Permission::write(Resource::Keys))?;
    let mut meta = stored(store, ctx, id).await?;
    require_over_key(store, ctx, &meta).await?;
    // Answered as it acts (its role capped at its holder's).
    show_capped(
        store,
        &*crate::orgs::get(store, &ctx.org_id).await?,
        &mut meta,
    )
    .await?;
    let secret = SecretKey::generate(id);
    let now = Timestamp::now();
    meta.rotated_at = Some(now);
    let main = &store.tables().main;
    let mut tx = Tx::new();
    tx.update(
        main,
        UpdateSpec {
            pk: keys::key_credential(id),
            sk: keys::KEY_CREDENTIAL_SK.to_owned(),
            set: Cond::new("SET #hash = :hash")
                .name("#hash", "hash")
                .value(":hash", s(store.hasher().hash(secret.expose()))),
            condition: Some(Cond::new("org_id = :org").value(":org", s(ctx.org_id.to_string()))),
        },
        OnFail::Error(|| StoreError::NotFound("API key")),
    );
    tx.update(
        main,
        UpdateSpec {
            pk: keys::org(&ctx.org_id),
            sk: keys::api_key_sk(id),
            set: Cond::new("SET rotated_at = :at").value(":at", s(now.to_string())),
            condition: Some(Cond::exists()),
        },
        OnFail::Error(|| StoreError::NotFound("API key")),
    );
    tx.event_about(
        store,
        ctx,
        EventName::ApiKeyRotated,
        meta.workspace_id.as_ref(),
        &meta,
    );
    forget_after_commit(&mut tx, store, id);
    let rotated = (meta, secret);
    tx.answer(store, &rotated);
    tx.commit(store).await?;
    Ok(rotated)
}

/// Revokes a key for good.
pub async fn delete(store: &Store, ctx: &Context, id: &ApiKeyId) -> Result<ApiKey, StoreError> {
    ctx.require(Permission::write(Resource::Keys))?;
    let meta = stored(store, ctx, id).await?;
    require_over_key(store, ctx, &meta).await?;
    revoke(store, ctx, &meta).await?;
    Ok(meta)
}

/// Keys one transaction may revoke along with their owner (two items each, within
/// DynamoDB's 100 items a transaction).
const MAX_KEYS_REVOKED_WITH_OWNER: usize = 40;

/// Deletes one key (its credential and its listing item) with its `api_key.deleted`
/// event; the caller has checked that `ctx` may.
async fn revoke(store: &Store, ctx: &Context, meta: &ApiKey) -> Result<(), StoreError> {
    let main = &store.tables().main;
    let id = &meta.id;
    let mut tx = Tx::new();
    tx.delete(
        main,
        keys::key_credential(id),
        keys::KEY_CREDENTIAL_SK.to_owned(),
        Some(Cond::new("org_id = :org").value(":org", s(ctx.org_id.to_string()))),
        OnFail::Error(|| StoreError::NotFound("API key")),
    );
    tx.delete(
        main,
        keys::org(&ctx.org_id),
        keys::api_key_sk(id),
        Some(Cond::exists()),
        OnFail::Error(|| StoreError::NotFound("API key")),
    );
    roles::stage_use(&mut tx, store, &ctx.org_id, &meta.role, -1);
    tx.event_about(
        store,
        ctx,
        EventName::ApiKeyDeleted,
        meta.workspace_id.as_ref(),
        meta,
    );
    forget_after_commit(&mut tx, store, id);
    tx.commit(store).await
}

/// Before a holder (member or service account) is removed: revokes their keys one
/// transaction each (each with its `api_key.deleted` event) until few enough remain
/// to go in the removal's own transaction ([`stage_revoke_all`]). However many keys
/// a holder minted, no transaction exceeds DynamoDB's 100 items. The caller has
/// checked that `ctx` outranks the holder, and holds the holder's minting mark. A
/// crash midway leaves the holder with fewer keys; the removal, retried, goes on.
pub(crate) async fn revoke_until_removable(
    store: &Store,
    ctx: &Context,
    owner_id: &str,
) -> Result<(), StoreError> {
    use futures::StreamExt;
    loop {
        let owned = owned_by(store, &ctx.org_id, owner_id).await?;
        if owned.len() <= MAX_KEYS_REVOKED_WITH_OWNER {
            return Ok(());
        }
        let results: Vec<Result<(), StoreError>> = futures::stream::iter(owned)
            .map(|meta| async move { revoke(store, ctx, &meta).await })
            .buffer_unordered(8)
            .collect()
            .await;
        for result in results {
            match result {
                // Revoked meanwhile by someone else: as good.
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
    }
}

/// All keys of an owner (a member or service account) being removed: deletes each
/// key's listing item and credential in `tx`, counts their roles off `role_deltas`,
/// and drops their cached credentials once `tx` commits.
pub(crate) fn stage_revoke_all(
    tx: &mut Tx,
    store: &Store,
    org: &OrgId,
    owned: &[ApiKey],
    role_deltas: &mut std::collections::BTreeMap<String, i64>,
) -> Result<(), StoreError> {
    if owned.len() > MAX_KEYS_REVOKED_WITH_OWNER {
        return Err(StoreError::conflict(
            relinx_model::ErrorCode::TooManyKeys,
            format!(
                "the owner holds more than {MAX_KEYS_REVOKED_WITH_OWNER} API keys; delete some of them first"
            ),
        ));
    }
    let main = &store.tables().main;
    for key_meta in owned {
        *role_deltas.entry(key_meta.role.clone()).or_default() -= 1;
        tx.delete(
            main,
            keys::org(org),
            keys::api_key_sk(&key_meta.id),
            None,
            OnFail::Internal,
        );
        tx.delete(
            main,
            keys::key_credential(&key_meta.id),
            keys::KEY_CREDENTIAL_SK.to_owned(),
            None,
            OnFail::Internal,
        );
        forget_after_commit(tx, store, &key_meta.id);
    }
    Ok(())
}

/// Drops this instance's copy of a key's credential once `tx` commits.
pub(crate) fn forget_after_commit(tx: &mut Tx, store: &Store, id: &ApiKeyId) {
    let (cache, id) = (caches(store), id.clone());
    tx.after_commit(move || cache.keys.invalidate(&id));
}

/// The caller of a key (or of a token exchanged for one) capped at its holder's
/// current role, where that changed since the key was minted (`OrgRecord::
/// holder_roles`): a demoted member's keys act with no more than the new role. The
/// org record is the one authentication already read (cached), so this costs no call.
pub async fn cap_to_holder(
    store: &Store,
    org: &crate::orgs::OrgRecord,
    mut ctx: Context,
) -> Result<Context, StoreError> {
    if ctx.key_id().is_none() {
        return Ok(ctx);
    }
    let Some(role) = org.holder_role(&ctx.actor.id) else {
        return Ok(ctx);
    };
    // A role deleted since holds nothing.
    let holder = roles::resolve(store, &ctx.org_id, role)
        .await?
        .unwrap_or_default();
    if !holder.covers(&ctx.permissions) {
        ctx.permissions = ctx.permissions.intersection(&holder);
        role.clone_into(&mut ctx.role);
    }
    Ok(ctx)
}

/// Verifies a presented key: its record (cached), its hash (constant time), its expiry.
pub async fn authenticate(
    store: &Store,
    presented: &PresentedKey<'_>,
) -> Result<Arc<KeyCredential>, StoreError> {
    // A made-up id costs nothing: only ids this deployment issued are looked up.
    if !store.hasher().issued_id(&presented.id) {
        return Err(StoreError::Unauthorized(AuthError::Invalid));
    }
    let cache = caches(store);
    let credential = match cache.keys.get(&presented.id) {
        Some(hit) => hit,
        None => {
            let credential: Arc<KeyCredential> = Arc::new(
                store
                    .get(keys::key_credential(&presented.id), keys::KEY_CREDENTIAL_SK)
                    .await?
                    .ok_or(StoreError::Unauthorized(AuthError::Invalid))?,
            );
            cache.keys.insert(presented.id.clone(), credential.clone());
            credential
        }
    };
    if !store.hasher().verify(presented.whole, &credential.hash) {
        return Err(StoreError::Unauthorized(AuthError::Invalid));
    }
    let now = Timestamp::now();
    if credential.expires_at.is_some_and(|at| at <= now) {
        return Err(StoreError::Unauthorized(AuthError::Expired));
    }
    note_use(store, &credential, now);
    Ok(credential)
}

/// Writes `last_used_at` at most once a minute per key and instance, off the request's
/// critical path: it is bookkeeping, so a failure is only logged.
fn note_use(store: &Store, credential: &Arc<KeyCredential>, now: Timestamp) {
    let last = credential.last_used_written.load(Ordering::Relaxed);
    if now.unix() - last < LAST_USED_EVERY_SECONDS {
        return;
    }
    if credential
        .last_used_written
        .compare_exchange(last, now.unix(), Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let store = store.clone();
    let org = credential.org_id.clone();
    let id = credential.id.clone();
    tokio::spawn(async move {
        let set = Cond::new("SET last_used_at = :at").value(":at", s(now.to_string()));
        let result = store
            .update(
                relinx_ddb::Table::Main,
                keys::org(&org),
                keys::api_key_sk(&id),
                set,
            )
            .if_present()
            .apply()
            .await;
        if let Err(err) = result {
            tracing::debug!(key_id = %id, error = %err, "could not record key use");
        }
    });
}
