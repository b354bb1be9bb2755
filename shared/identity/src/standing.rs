//! What a credential may do now, judged afresh from the store (never a cache): for
//! work done later on someone's behalf — a webhook registrar reading invite URLs at
//! each delivery, a scheduled pipeline run acting as its creator.

use crate::{keys, roles};
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Actor, ActorKind, ApiKeyId, Context, OrgId, PermissionSet, ServiceAccount, ServiceAccountId,
    Timestamp, User, UserId, UserStatus,
};

/// The context `actor` (through key `key_id`, or as a signed-in member when `None`)
/// acts in now: the org still accepts them; the key, if any, still exists, is theirs
/// and unexpired; the member is active or the service account exists. Its
/// permissions are the weaker of the key's role and its holder's, its workspace the
/// key's or the account's confinement. `Err(why)` says in words why they cannot act.
pub async fn acting_as(
    store: &Store,
    org: &OrgId,
    actor: &Actor,
    key_id: Option<&ApiKeyId>,
) -> Result<Result<Context, String>, StoreError> {
    let org_record: Option<crate::orgs::OrgRecord> =
        store.get(keys::org(org), keys::ORG_SK).await?;
    if !org_record.is_some_and(|o| o.accepts(&actor.id, None)) {
        return Ok(Err("the org no longer accepts this credential".into()));
    }
    let mut confined = None;
    let mut key_permissions: Option<PermissionSet> = None;
    if let Some(id) = key_id {
        let key: Option<crate::api_keys::KeyCredential> = store
            .get(keys::key_credential(id), keys::KEY_CREDENTIAL_SK)
            .await?;
        let Some(key) = key else {
            return Ok(Err(format!("API key {id} was revoked")));
        };
        if key.org_id != *org || key.owner != *actor {
            return Ok(Err(format!("API key {id} is not theirs")));
        }
        if key.expires_at.is_some_and(|at| at <= Timestamp::now()) {
            return Ok(Err(format!("API key {id} expired")));
        }
        confined = key.workspace_id.clone();
        let Some(permissions) = roles::resolve(store, org, &key.role).await? else {
            return Ok(Err(format!(
                "API key {id}'s role {:?} no longer exists",
                key.role
            )));
        };
        key_permissions = Some(permissions);
    }
    let holder_role = match actor.kind {
        ActorKind::User => {
            let user: Option<User> = match UserId::parse(&actor.id) {
                Some(id) => store.get(keys::org(org), keys::user_sk(&id)).await?,
                None => None,
            };
            match user {
                Some(user) if user.status == UserStatus::Active => user.role,
                Some(_) => return Ok(Err(format!("member {} is not active", actor.id))),
                None => return Ok(Err(format!("member {} was removed", actor.id))),
            }
        }
        ActorKind::ServiceAccount => {
            let account: Option<ServiceAccount> = match ServiceAccountId::parse(&actor.id) {
                Some(id) => {
                    store
                        .get(keys::org(org), keys::service_account_sk(&id))
                        .await?
                }
                None => None,
            };
            let Some(account) = account else {
                return Ok(Err(format!("service account {} was deleted", actor.id)));
            };
            if confined.is_none() {
                confined = account.workspace_id.clone();
            }
            account.role
        }
        ActorKind::System => return Ok(Err("the platform acts for nobody here".into())),
    };
    let Some(holder) = roles::resolve(store, org, &holder_role).await? else {
        return Ok(Err(format!("role {holder_role:?} no longer exists")));
    };
    let permissions = match key_permissions {
        Some(key) => key.intersection(&holder),
        None => holder,
    };
    let mut ctx = Context::platform_acting_for(
        org.clone(),
        actor.clone(),
        relinx_model::BuiltinRole::Viewer,
    );
    ctx.role = holder_role;
    ctx.permissions = permissions;
    ctx.workspace_scope = confined;
    Ok(Ok(ctx))
}
