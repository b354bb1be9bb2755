//! The one outranking rule for every operation on a credential inside an org:
//! rotating or deleting a key, minting a key for a service account or deleting it,
//! changing or deleting a member, editing or deleting a custom role. The caller's
//! permissions must cover the target's (the key's holder's role, the account's role,
//! the role itself), and a caller confined to one workspace reaches only targets
//! confined to that same workspace — never members or roles, which are org-wide.

use crate::{keys, roles, users};
use relinx_ddb::codec::{Item, n};
use relinx_ddb::tx::Cond;
use relinx_ddb::{Store, StoreError, Table};
use relinx_model::{
    Actor, ActorKind, Context, OrgId, PermissionSet, ServiceAccount, ServiceAccountId, Timestamp,
    UserId, WorkspaceId,
};

/// The attribute marking a holder whose role or existence is being changed.
pub(crate) const CHANGING_UNTIL: &str = "changing_until";
/// How long the mark holds if the change never finishes (its own write clears it).
const CHANGING_FOR_MS: i64 = 5_000;

/// Marks a credential holder (a member or service account, at `sk`) as being
/// changed, so keys stop being minted for it until the change commits: a demotion or
/// deletion must see every key the holder has, and a holder minting keys
/// continuously could otherwise starve it. The change's own versioned write replaces
/// the item and so clears the mark; left behind, it lapses after 5 s. Does not bump
/// the version: it changes nothing the change reads.
pub(crate) async fn mark_changing(
    store: &Store,
    org: &OrgId,
    sk: String,
    missing: fn() -> StoreError,
) -> Result<(), StoreError> {
    let until = Timestamp::now().unix_millis() + CHANGING_FOR_MS;
    let set = Cond::new("SET #changing = :until")
        .name("#changing", CHANGING_UNTIL)
        .value(":until", n(until));
    let marked = store
        .update(Table::Main, keys::org(org), sk, set)
        .if_present()
        .apply()
        .await?;
    if marked { Ok(()) } else { Err(missing()) }
}

/// Lifts the mark of [`mark_changing`] after a change that did not commit (one that
/// did has cleared it already). Best effort: left behind, it lapses by itself.
pub(crate) async fn clear_changing(store: &Store, org: &OrgId, sk: String) {
    let set = Cond::new("REMOVE #changing").name("#changing", CHANGING_UNTIL);
    let result = store
        .update(Table::Main, keys::org(org), sk, set)
        .if_present()
        .apply()
        .await;
    if let Err(err) = result {
        tracing::debug!(error = %err, "holder mark not lifted");
    }
}

/// Runs `change` with the holder at `sk` marked as changing, lifting the mark if the
/// change fails.
pub(crate) async fn while_marked<R>(
    store: &Store,
    org: &OrgId,
    sk: String,
    missing: fn() -> StoreError,
    change: impl Future<Output = Result<R, StoreError>>,
) -> Result<R, StoreError> {
    mark_changing(store, org, sk.clone(), missing).await?;
    let result = change.await;
    if result.is_err() {
        clear_changing(store, org, sk).await;
    }
    result
}

/// Why a key's holder condition failed, from the holder item as it was.
pub(crate) fn holder_refusal(old: Option<&Item>) -> StoreError {
    match old {
        Some(item) if item.contains_key(CHANGING_UNTIL) => StoreError::conflict(
            relinx_model::ErrorCode::HolderChanging,
            "the key's holder is being changed (role, status or removal); retry in a moment",
        ),
        Some(_) => StoreError::forbidden(
            relinx_model::ErrorCode::RoleEscalation,
            "role: the key's holder does not (or no longer) hold a role that allows this key; ask for a lower role",
        ),
        None => StoreError::NotFound("the key's holder"),
    }
}

/// What a credential operation is about.
pub(crate) struct Target<'a> {
    /// What the target may do.
    pub permissions: PermissionSet,
    /// The workspace the target is confined to (`None`: the whole org).
    pub confined_to: Option<&'a WorkspaceId>,
    /// How the refusal names it: "this key's holder", "this member", …
    pub what: &'static str,
}

/// Refuses (403) unless the caller outranks `target` and reaches its workspace.
pub(crate) fn require_over(ctx: &Context, target: &Target<'_>) -> Result<(), StoreError> {
    if let Some(scope) = &ctx.workspace_scope
        && target.confined_to != Some(scope)
    {
        return Err(StoreError::forbidden(
            relinx_model::ErrorCode::OutsideWorkspaceScope,
            format!(
                "a credential confined to one workspace cannot act on {} beyond it; use an org-wide credential",
                target.what
            ),
        ));
    }
    if !ctx.permissions.covers(&target.permissions) {
        return Err(StoreError::forbidden(
            relinx_model::ErrorCode::RoleEscalation,
            format!(
                "{} has a role that allows more than yours; ask someone whose role covers it",
                target.what
            ),
        ));
    }
    Ok(())
}

/// The permissions of `role` in `org` (an unknown role allows nothing).
pub(crate) async fn role_permissions(
    store: &Store,
    org: &OrgId,
    role: &str,
) -> Result<PermissionSet, StoreError> {
    Ok(roles::resolve(store, org, role).await?.unwrap_or_default())
}

/// The role a credential's holder has now: a member's current role, a service
/// account's role; `None` when the holder is gone (or is the platform).
pub(crate) async fn holder_role(
    store: &Store,
    org: &OrgId,
    holder: &Actor,
) -> Result<Option<String>, StoreError> {
    match holder.kind {
        ActorKind::User => {
            let Some(id) = UserId::parse(&holder.id) else {
                return Ok(None);
            };
            match users::get(store, org, &id).await {
                Ok(user) => Ok(Some(user.role)),
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(other) => Err(other),
            }
        }
        ActorKind::ServiceAccount => {
            let Some(id) = ServiceAccountId::parse(&holder.id) else {
                return Ok(None);
            };
            let account: Option<ServiceAccount> = store
                .get(keys::org(org), keys::service_account_sk(&id))
                .await?;
            Ok(account.map(|a| a.role))
        }
        ActorKind::System => Ok(None),
    }
}
