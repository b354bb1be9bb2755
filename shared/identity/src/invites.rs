//! Invites: a member-to-be with a role, and a one-time token. The token is shown in
//! the invite's response only and stored as its peppered hash; the `user.invited`
//! event carries the invite URL sealed, for the org's own mailer webhook.

use crate::logins::LoginRecord;
use crate::orgs::OrgEffect;
use crate::{keys, roles, users};
use base64::Engine;
use relinx_auth::Sealer;
use relinx_ddb::codec::{key, s, to_item};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::{Store, StoreError, versioned};
use relinx_model::{
    Actor, ActorKind, ApiKeyId, BuiltinRole, Context, Email, EventName, OrgId, Password,
    Permission, Resource, ResourceRef, Timestamp, User, UserId, UserStatus,
};
use serde::{Deserialize, Serialize};

/// How long an invite can be accepted.
pub const INVITE_DAYS: i64 = 7;

/// What accepting needs, under the token's hash.
#[derive(Debug, Serialize, Deserialize)]
struct InviteRecord {
    org_id: OrgId,
    user_id: UserId,
    email: String,
    role: String,
    expires_at: Timestamp,
    /// Removes the record a day after it expires.
    ttl: i64,
}

/// An invite as answered to whoever sent it: the only place its token appears.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invite {
    pub id: UserId,
    pub email: String,
    pub role: String,
    pub status: UserStatus,
    pub invite_url: String,
    pub expires_at: Timestamp,
}

/// The sealer for invite URLs of this deployment.
pub fn sealer(store: &Store) -> Sealer {
    Sealer::new(store.hasher(), "invite-url")
}

/// Whether the credential of `actor` (through key `key_id`, or as a signed-in member
/// when `None`) could itself send an invite for `role` now: the one who may read an
/// invite's URL. Whoever holds an invite URL can accept it with a password of their
/// choosing, so a `user.invited` webhook carries the URL only to endpoints whose
/// registering credential passes this, judged at delivery (docs/security.md): the
/// key still exists, is unexpired and org-wide, and both it and its holder (still
/// there, active) may write users and outrank `role`, as [`invite`] demands.
pub async fn could_invite(
    store: &Store,
    org: &OrgId,
    actor: &Actor,
    key_id: Option<&ApiKeyId>,
    role: &str,
) -> Result<bool, StoreError> {
    let Some(invited) = roles::resolve(store, org, role).await? else {
        return Ok(false);
    };
    let Ok(ctx) = crate::standing::acting_as(store, org, actor, key_id).await? else {
        return Ok(false);
    };
    Ok(ctx.workspace_scope.is_none()
        && ctx.can(Permission::write(Resource::Users))
        && ctx.permissions.covers(&invited))
}

/// Invites `email` as `role`. `accept_url` turns a token into the URL the invitee
/// opens (the deployment's public address).
pub async fn invite(
    store: &Store,
    ctx: &Context,
    email: Email,
    role: String,
    name: Option<String>,
    accept_url: impl Fn(&str) -> String,
) -> Result<Invite, StoreError> {
    ctx.require(Permission::write(Resource::Users))?;
    ctx.require_org_wide("invite members")?;
    roles::grantable(store, ctx, "role", &role).await?;
    let now = Timestamp::now();
    let expires_at = now.plus_seconds(INVITE_DAYS * 24 * 3600);
    let token = {
        let bytes: [u8; 32] = rand::random();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let user = User {
        id: UserId::generate(),
        email: email.to_string(),
        name: name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
        role: role.clone(),
        status: UserStatus::Invited,
        last_login_at: None,
        last_sync_at: None,
        created_at: now,
    };
    let record = InviteRecord {
        org_id: ctx.org_id.clone(),
        user_id: user.id.clone(),
        email: user.email.clone(),
        role: role.clone(),
        expires_at,
        ttl: expires_at.unix() + 24 * 3600,
    };
    let main = &store.tables().main;
    let org_pk = keys::org(&ctx.org_id);
    let mut tx = Tx::new();
    tx.put(
        main,
        to_item(&user, org_pk.clone(), keys::user_sk(&user.id))?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    let mut guard = key(org_pk, keys::member_email_sk(email.as_str()));
    guard.insert("user_id".into(), s(user.id.to_string()));
    tx.put(
        main,
        guard,
        Some(Cond::not_exists()),
        OnFail::Conflict(
            relinx_model::ErrorCode::AlreadyMember,
            format!("{email} is already a member or has a pending invite"),
        ),
    );
    tx.put(
        main,
        to_item(
            &record,
            keys::invite_token(&store.hasher().hash(&token)),
            keys::INVITE_TOKEN_SK.to_owned(),
        )?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    roles::stage_use(&mut tx, store, &ctx.org_id, &role, 1);
    let invite_url = accept_url(&token);
    tx.event(
        store,
        ctx,
        EventName::UserInvited,
        None,
        ResourceRef::new("user", &user.id),
        serde_json::json!({
            "id": user.id,
            "email": user.email,
            "role": role,
            "status": "invited",
            "expires_at": expires_at,
            // Sealed: the event log is stored, the token must not be.
            "invite_url_sealed": sealer(store).seal(&invite_url),
        }),
    );
    let invite = Invite {
        id: user.id,
        email: user.email,
        role,
        status: UserStatus::Invited,
        invite_url,
        expires_at,
    };
    tx.answer(store, &invite);
    tx.commit(store).await?;
    Ok(invite)
}

/// Accepts an invite: the member becomes active with a password and can log in.
/// An unknown, used or expired token is a 404.
pub async fn accept(
    store: &Store,
    token: &str,
    name: Option<String>,
    password: Password,
    request_id: Option<String>,
) -> Result<User, StoreError> {
    let not_found = || StoreError::NotFound("invite");
    let token_key = keys::invite_token(&store.hasher().hash(token));
    let record: InviteRecord = store
        .get(token_key.clone(), keys::INVITE_TOKEN_SK)
        .await?
        .ok_or_else(not_found)?;
    let now = Timestamp::now();
    if record.expires_at <= now {
        return Err(not_found());
    }
    let mut user = users::get(store, &record.org_id, &record.user_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => not_found(),
            other => other,
        })?;
    if user.status != UserStatus::Invited {
        return Err(not_found());
    }
    user.status = UserStatus::Active;
    if let Some(name) = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
        user.name = Some(name);
    }
    let password_hash = tokio::task::spawn_blocking(move || relinx_auth::password::hash(&password))
        .await
        .map_err(|e| StoreError::internal("hash password", e))?
        .map_err(|e| StoreError::internal("hash password", e))?;
    let login = LoginRecord {
        org_id: record.org_id.clone(),
        user_id: user.id.clone(),
        password_hash,
    };
    // Only attributes the event to the new member: accepting checks no permission.
    let ctx = Context::platform_acting_for(
        record.org_id.clone(),
        Actor {
            kind: ActorKind::User,
            id: user.id.to_string(),
        },
        BuiltinRole::Viewer,
    )
    .with_request_id(request_id);
    let main = &store.tables().main;
    let mut tx = Tx::new();
    tx.update(
        main,
        UpdateSpec {
            pk: keys::org(&record.org_id),
            sk: keys::user_sk(&user.id),
            // No name given: no attribute (a NULL one would read as present).
            set: match &user.name {
                Some(name) => versioned::bump_values(Cond::new(format!(
                    "SET #status = :active, #name = :name ADD {}",
                    versioned::BUMP
                )))
                .name("#name", "name")
                .value(":name", s(name.clone())),
                None => versioned::bump_values(Cond::new(format!(
                    "SET #status = :active ADD {}",
                    versioned::BUMP
                ))),
            }
            .name("#status", "status")
            .value(":active", s("active")),
            condition: Some(Cond::new("#status = :invited").value(":invited", s("invited"))),
        },
        OnFail::Error(|| StoreError::NotFound("invite")),
    );
    tx.put(
        main,
        to_item(&login, keys::login(&user.email), keys::LOGIN_SK.to_owned())?,
        Some(Cond::not_exists()),
        OnFail::Conflict(relinx_model::ErrorCode::EmailTaken, "this email already has an account; sign in with it or ask for an invite to another address".to_owned()),
    );
    tx.delete(
        main,
        token_key,
        keys::INVITE_TOKEN_SK.to_owned(),
        Some(Cond::exists()),
        OnFail::Error(|| StoreError::NotFound("invite")),
    );
    OrgEffect {
        owners: i64::from(user.role == BuiltinRole::Owner.as_str()),
        ..Default::default()
    }
    .stage(&mut tx, store, &record.org_id);
    tx.event(
        store,
        &ctx,
        EventName::UserJoined,
        None,
        ResourceRef::new("user", &user.id),
        serde_json::to_value(&user).unwrap_or_default(),
    );
    tx.commit(store).await?;
    Ok(user)
}
