//! Signup: an org with its owner, default workspace and first key, in one transaction.

use crate::api_keys::{self, NewKey};
use crate::keys;
use crate::logins::LoginRecord;
use crate::orgs::{OrgRecord, SignupPolicy};
use crate::workspaces;
use relinx_auth::SecretKey;
use relinx_ddb::codec::{key, to_item};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Actor, ActorKind, ApiKey, BuiltinRole, Context, Email, EventName, LimitsOverride, Name, OrgId,
    Password, Plan, ResourceRef, Timestamp, User, UserId, UserStatus, Workspace, WorkspaceId,
};

/// The name of every org's first workspace.
pub const DEFAULT_WORKSPACE: &str = "default";

pub struct Signup {
    pub organization: Name,
    pub email: Email,
    pub password: Password,
    /// `None`: the default plan (starter).
    pub plan: Option<Plan>,
}

pub struct SignedUp {
    pub org: OrgRecord,
    pub workspace: Workspace,
    pub user: User,
    pub key: ApiKey,
    pub secret: SecretKey,
}

/// Creates an org, its owner, its default workspace and the owner's first key, with
/// one `org.created` event, in one transaction.
pub async fn signup(
    store: &Store,
    policy: SignupPolicy,
    signup: Signup,
    request_id: Option<String>,
) -> Result<SignedUp, StoreError> {
    if !policy.open {
        return Err(StoreError::forbidden(
            relinx_model::ErrorCode::SignupClosed,
            "this deployment does not accept signups; ask an administrator for an invite",
        ));
    }
    let plan = signup.plan.unwrap_or(Plan::Starter);
    if plan != Plan::Starter && !policy.plan_selection {
        return Err(StoreError::forbidden(
            relinx_model::ErrorCode::PlanSelectionDisabled,
            "plan: this deployment starts every organization on starter; omit plan or upgrade later",
        ));
    }
    let now = Timestamp::now();
    let org_id = OrgId::generate();
    let user_id = UserId::generate();
    let workspace = Workspace {
        id: WorkspaceId::generate(),
        name: DEFAULT_WORKSPACE.to_owned(),
        read_only: false,
        config: None,
        created_at: now,
        updated_at: now,
    };
    let org = OrgRecord {
        id: org_id.clone(),
        name: signup.organization.to_string(),
        plan,
        limits_override: LimitsOverride::default(),
        default_workspace_id: workspace.id.clone(),
        created_at: now,
        updated_at: now,
        owners: 1,
        disabled_actors: Default::default(),
        tokens_revoked_before_ms: Default::default(),
        holder_roles: Default::default(),
    };
    let user = User {
        id: user_id.clone(),
        email: signup.email.to_string(),
        name: None,
        role: BuiltinRole::Owner.as_str().to_owned(),
        status: UserStatus::Active,
        last_login_at: None,
        last_sync_at: None,
        created_at: now,
    };
    let password = signup.password;
    let password_hash = tokio::task::spawn_blocking(move || relinx_auth::password::hash(&password))
        .await
        .map_err(|e| StoreError::internal("hash password", e))?
        .map_err(|e| StoreError::internal("hash password", e))?;
    let login = LoginRecord {
        org_id: org_id.clone(),
        user_id: user_id.clone(),
        password_hash,
    };
    let owner = Actor {
        kind: ActorKind::User,
        id: user_id.to_string(),
    };
    let ctx = Context::platform_acting_for(org_id.clone(), owner.clone(), BuiltinRole::Owner)
        .with_request_id(request_id);

    let main = &store.tables().main;
    let mut tx = Tx::new();
    let org_pk = keys::org(&org_id);
    tx.put(
        main,
        to_item(&org, org_pk.clone(), keys::ORG_SK.to_owned())?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    workspaces::stage_create(&mut tx, store, &org_id, &workspace)?;
    tx.put(
        main,
        to_item(&user, org_pk.clone(), keys::user_sk(&user_id))?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    tx.put(
        main,
        key(org_pk, keys::member_email_sk(signup.email.as_str())),
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    tx.put(
        main,
        to_item(
            &login,
            keys::login(signup.email.as_str()),
            keys::LOGIN_SK.to_owned(),
        )?,
        Some(Cond::not_exists()),
        OnFail::Conflict(
            relinx_model::ErrorCode::EmailTaken,
            "an account with this email already exists; sign in instead".to_owned(),
        ),
    );
    let (key, secret) = api_keys::stage_create(
        &mut tx,
        store,
        &org_id,
        NewKey {
            name: Name::parse("name", "default")?,
            role: BuiltinRole::Owner.as_str().to_owned(),
            workspace_id: None,
            expires_at: None,
            owner,
        },
        now,
    )?;
    tx.event(
        store,
        &ctx,
        EventName::OrgCreated,
        Some(&workspace.id),
        ResourceRef::new("org", &org_id),
        serde_json::json!({
            "id": org_id,
            "name": org.name,
            "plan": org.plan,
            "owner": {"id": user_id, "email": user.email},
            "default_workspace_id": workspace.id,
        }),
    );
    tx.commit(store).await?;
    Ok(SignedUp {
        org,
        workspace,
        user,
        key,
        secret,
    })
}
