//! Organizations: signup creates one with its owner, default workspace and first key.

use crate::api_keys::{self, NewKey};
use crate::codec::to_item;
use crate::tx::{Cond, OnFail, Tx};
use crate::users::LoginRecord;
use crate::workspaces;
use crate::{Context, Store, StoreError, keys};
use relinx_auth::SecretKey;
use relinx_model::{
    Actor, ActorKind, ApiKey, BuiltinRole, Email, LimitsOverride, Name, Org, OrgId, Password, Plan,
    ResourceRef, Timestamp, User, UserId, UserStatus, Workspace, WorkspaceId,
};
use std::sync::Arc;

/// The name of every org's first workspace.
pub const DEFAULT_WORKSPACE: &str = "default";

pub struct Signup {
    pub organization: Name,
    pub email: Email,
    pub password: Password,
    /// `None`: the default plan (starter).
    pub plan: Option<Plan>,
}

/// The deployment's signup switches.
#[derive(Debug, Clone, Copy)]
pub struct SignupPolicy {
    pub open: bool,
    /// Whether a signup may choose a plan other than starter.
    pub plan_selection: bool,
}

pub struct SignedUp {
    pub org: Org,
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
            "SIGNUP_CLOSED",
            "this deployment does not accept signups; ask an administrator for an invite",
        ));
    }
    let plan = signup.plan.unwrap_or(Plan::Starter);
    if plan != Plan::Starter && !policy.plan_selection {
        return Err(StoreError::forbidden(
            "PLAN_SELECTION_DISABLED",
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
    let org = Org {
        id: org_id.clone(),
        name: signup.organization.to_string(),
        plan,
        limits_override: LimitsOverride::default(),
        default_workspace_id: workspace.id.clone(),
        created_at: now,
        updated_at: now,
        owners: 1,
        disabled_actors: Default::default(),
        tokens_revoked_before: Default::default(),
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
    let password_hash = relinx_auth::password::hash(&signup.password)
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
    let ctx = Context {
        org_id: org_id.clone(),
        actor: owner.clone(),
        request_id,
        role: BuiltinRole::Owner.as_str().to_owned(),
        permissions: BuiltinRole::Owner.permissions(),
        workspace_scope: None,
    };

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
        to_item(&user, org_pk, keys::user_sk(&user_id))?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    tx.put(
        main,
        crate::codec::key(
            keys::org(&org_id),
            keys::member_email_sk(signup.email.as_str()),
        ),
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
            "EMAIL_TAKEN",
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
        "org.created",
        Some(&workspace.id),
        ResourceRef {
            kind: "org".into(),
            id: org_id.to_string(),
        },
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

/// The org, from this instance's cache when fresh.
pub async fn get(store: &Store, org_id: &OrgId) -> Result<Arc<Org>, StoreError> {
    let cache = store.caches().orgs.as_ref();
    if let Some(org) = cache.and_then(|c| c.get(org_id)) {
        return Ok(org);
    }
    let org: Arc<Org> = Arc::new(
        store
            .get(keys::org(org_id), keys::ORG_SK)
            .await?
            .ok_or(StoreError::NotFound("organization"))?,
    );
    if let Some(cache) = cache {
        cache.insert(org_id.clone(), org.clone());
    }
    Ok(org)
}

/// The org as its API shows it: `{"id","name","plan","limits","created_at"}`.
pub fn view(org: &Org) -> serde_json::Value {
    serde_json::json!({
        "id": org.id,
        "name": org.name,
        "plan": org.plan,
        "limits": org.limits(),
        "created_at": org.created_at,
        "updated_at": org.updated_at,
    })
}

#[derive(Default)]
pub struct OrgPatch {
    pub name: Option<Name>,
    pub plan: Option<Plan>,
    pub limits_override: Option<LimitsOverride>,
}

/// Renames the org, changes its plan (where the deployment allows) or its limits.
/// Owner only (`org:write`).
pub async fn update(
    store: &Store,
    ctx: &Context,
    id: &OrgId,
    patch: OrgPatch,
    policy: SignupPolicy,
) -> Result<Org, StoreError> {
    if *id != ctx.org_id {
        return Err(StoreError::NotFound("organization"));
    }
    ctx.require(relinx_model::Permission::write(relinx_model::Resource::Org))?;
    let mut org = (*get(store, &ctx.org_id).await?).clone();
    if let Some(plan) = patch.plan.filter(|p| *p != org.plan) {
        if !policy.plan_selection {
            return Err(StoreError::forbidden(
                "PLAN_CHANGE_DISABLED",
                "plan: this deployment does not change plans through the API; contact support",
            ));
        }
        org.plan = plan;
    }
    if let Some(name) = patch.name {
        org.name = name.to_string();
    }
    if let Some(limits) = patch.limits_override {
        org.limits_override = limits;
    }
    org.updated_at = Timestamp::now();
    let limits = serde_dynamo::to_attribute_value(org.limits_override)
        .map_err(|e| StoreError::internal("encode limits", e))?;
    let mut tx = Tx::new();
    tx.update(
        &store.tables().main,
        crate::tx::UpdateSpec {
            pk: keys::org(&org.id),
            sk: keys::ORG_SK.to_owned(),
            set: Cond::new(
                "SET #name = :name, #plan = :plan, limits_override = :limits, updated_at = :at",
            )
            .name("#name", "name")
            .name("#plan", "plan")
            .value(":name", crate::codec::s(org.name.clone()))
            .value(":plan", crate::codec::s(org.plan.as_str()))
            .value(":limits", limits)
            .value(":at", crate::codec::s(org.updated_at.to_string())),
            condition: Some(Cond::exists()),
        },
        OnFail::Error(|| StoreError::NotFound("organization")),
    );
    tx.event(
        store,
        ctx,
        "org.updated",
        None,
        ResourceRef {
            kind: "org".into(),
            id: org.id.to_string(),
        },
        view(&org),
    );
    tx.commit(store).await?;
    forget(store, &org.id);
    Ok(org)
}

/// Drops this instance's cached copy of an org after a change.
pub(crate) fn forget(store: &Store, org: &OrgId) {
    if let Some(cache) = store.caches().orgs.as_ref() {
        cache.invalidate(org);
    }
}

/// Sets an org's exceptions to its plan's limits (tests, the bench, support tooling).
pub async fn set_limits_override(
    store: &Store,
    ctx: &Context,
    limits: LimitsOverride,
) -> Result<Org, StoreError> {
    let policy = SignupPolicy {
        open: false,
        plan_selection: false,
    };
    let patch = OrgPatch {
        limits_override: Some(limits),
        ..Default::default()
    };
    update(store, ctx, &ctx.org_id.clone(), patch, policy).await
}
