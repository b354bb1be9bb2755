//! Organizations: the stored record (with what the platform keeps beside the API
//! view: owners, disabled actors, token revocations), its cached read for every
//! request, its changes, and the one update of the org item a member change makes.

use crate::keys;
use crate::state::caches;
use relinx_ddb::codec::{n, s};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, EventName, Limits, LimitsOverride, Name, Org, OrgId, Permission, Plan, Resource,
    ResourceRef, Timestamp, WorkspaceId,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// An org as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgRecord {
    pub id: OrgId,
    pub name: String,
    pub plan: Plan,
    #[serde(default)]
    pub limits_override: LimitsOverride,
    pub default_workspace_id: WorkspaceId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Active owners: the last one cannot be demoted, disabled or deleted.
    #[serde(default = "one")]
    pub owners: u64,
    /// Users and service accounts whose every credential is refused (disabled).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub disabled_actors: BTreeSet<String>,
    /// Per actor: tokens issued before this time (epoch milliseconds) are refused,
    /// so a demotion or deletion outlives no token, even one issued in the same second.
    #[serde(default)]
    pub tokens_revoked_before_ms: BTreeMap<String, i64>,
    /// Per credential holder (member or service account) whose role changed: their
    /// role now. A key acts with no more than its holder's current role, so a
    /// demotion is one write however many keys the holder minted.
    #[serde(default)]
    pub holder_roles: BTreeMap<String, String>,
}

fn one() -> u64 {
    1
}

impl OrgRecord {
    /// Whether a credential of `actor` issued at `issued_at_ms` (tokens, epoch
    /// milliseconds) still holds.
    pub fn accepts(&self, actor: &str, issued_at_ms: Option<i64>) -> bool {
        if self.disabled_actors.contains(actor) {
            return false;
        }
        match (issued_at_ms, self.tokens_revoked_before_ms.get(actor)) {
            (Some(iat), Some(before)) => iat >= *before,
            _ => true,
        }
    }

    /// The role `actor`'s keys are capped at, when their holder's role changed
    /// since they were minted.
    pub fn holder_role(&self, actor: &str) -> Option<&str> {
        self.holder_roles.get(actor).map(String::as_str)
    }

    pub fn limits(&self) -> Limits {
        self.plan.limits().with_override(&self.limits_override)
    }

    /// The org as its API shows it.
    pub fn view(&self) -> Org {
        Org {
            id: self.id.clone(),
            name: self.name.clone(),
            plan: self.plan,
            limits: self.limits(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The org, from this instance's cache when fresh: for vetting callers and their
/// limits on every request. Never the basis of a write ([`update`] reads afresh).
pub async fn get(store: &Store, org_id: &OrgId) -> Result<Arc<OrgRecord>, StoreError> {
    let cache = caches(store);
    if let Some(org) = cache.orgs.get(org_id) {
        return Ok(org);
    }
    let org: Arc<OrgRecord> = Arc::new(
        store
            .get(keys::org(org_id), keys::ORG_SK)
            .await?
            .ok_or(StoreError::NotFound("organization"))?,
    );
    cache.orgs.insert(org_id.clone(), org.clone());
    Ok(org)
}

/// The caller's org as its API shows it.
pub async fn get_view(store: &Store, ctx: &Context) -> Result<Org, StoreError> {
    ctx.require(Permission::read(Resource::Org))?;
    Ok(get(store, &ctx.org_id).await?.view())
}

/// Drops this instance's copy of the org once `tx` commits.
pub(crate) fn forget_after_commit(tx: &mut Tx, store: &Store, org: &OrgId) {
    let (cache, org) = (caches(store), org.clone());
    tx.after_commit(move || cache.orgs.invalidate(&org));
}

/// The deployment's switches on signup and plans.
#[derive(Debug, Clone, Copy)]
pub struct SignupPolicy {
    pub open: bool,
    /// Whether a signup may choose a plan other than starter, and an owner change it.
    pub plan_selection: bool,
}

#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub name: Option<Name>,
    pub plan: Option<Plan>,
    pub limits_override: Option<LimitsOverride>,
}

/// Renames the org, changes its plan (where the deployment allows) or its limits.
/// Owner only (`org:write`). Two owners changing different fields through two
/// instances both keep their change.
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
    ctx.require(Permission::write(Resource::Org))?;
    let patch = &patch;
    versioned::modify(
        store,
        keys::org(id),
        keys::ORG_SK.to_owned(),
        || StoreError::NotFound("organization"),
        |mut org: OrgRecord, mut tx: Tx| async move {
            if let Some(plan) = patch.plan.filter(|p| *p != org.plan) {
                if !policy.plan_selection {
                    return Err(StoreError::forbidden(
                        relinx_model::ErrorCode::PlanChangeDisabled,
                        "plan: this deployment does not change plans through the API; contact support",
                    ));
                }
                org.plan = plan;
            }
            if let Some(name) = &patch.name {
                org.name = name.to_string();
            }
            if let Some(limits) = patch.limits_override {
                org.limits_override = limits;
            }
            org.updated_at = Timestamp::now();
            let view = org.view();
            tx.event(
                store,
                ctx,
                EventName::OrgUpdated,
                None,
                ResourceRef::new("org", &org.id),
                serde_json::to_value(&view).unwrap_or_default(),
            );
            forget_after_commit(&mut tx, store, &org.id);
            Ok(Changed::put(tx, org, view))
        },
    )
    .await
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

/// Why the last active owner cannot go.
pub(crate) const LAST_OWNER: &str = "the organization's last owner cannot be demoted, disabled or deleted; make another owner first";

/// What a change to members does to the org item, as one update (a transaction may
/// touch an item once, so every org-level effect of a change goes into this one).
#[derive(Debug, Default)]
pub(crate) struct OrgEffect {
    /// Change in the count of active owners.
    pub owners: i64,
    /// Disable (`Some(true)`) or re-enable (`Some(false)`) an actor.
    pub disable: Option<(String, bool)>,
    /// Refuse the actor's tokens issued before this time (epoch milliseconds).
    pub revoke_tokens: Option<(String, i64)>,
    /// The holder's role from now on, capping every key of theirs (`None`: the
    /// holder is gone, and so is the entry).
    pub holder_role: Option<(String, Option<String>)>,
}

impl OrgEffect {
    pub(crate) fn stage(self, tx: &mut Tx, store: &Store, org: &OrgId) {
        let mut sets = vec!["updated_at = :at".to_owned()];
        let mut cond = versioned::bump_values(Cond::new(""));
        cond = cond.value(":at", s(Timestamp::now().to_string()));
        let mut condition = "attribute_exists(pk)".to_owned();
        if self.owners != 0 {
            sets.push("owners = owners + :owners".into());
            cond = cond.value(":owners", n(self.owners));
            if self.owners < 0 {
                condition.push_str(" AND owners > :min_owners");
                cond = cond.value(":min_owners", n(-self.owners));
            }
        }
        if let Some((actor, before)) = &self.revoke_tokens {
            sets.push("tokens_revoked_before_ms.#revoked = :before".into());
            cond = cond.name("#revoked", actor).value(":before", n(*before));
        }
        let mut removes = Vec::new();
        if let Some((holder, role)) = &self.holder_role {
            cond = cond.name("#holder", holder);
            match role {
                Some(role) => {
                    sets.push("holder_roles.#holder = :holder_role".into());
                    cond = cond.value(":holder_role", s(role.clone()));
                }
                None => removes.push("holder_roles.#holder"),
            }
        }
        let mut adds = vec![versioned::BUMP.to_owned()];
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        if let Some((actor, disable)) = &self.disable {
            let set = relinx_ddb::codec::string_set([actor.clone()]);
            cond = cond.value(":actor", set);
            if *disable {
                adds.push("disabled_actors :actor".into());
            } else {
                expression.push_str(" DELETE disabled_actors :actor");
            }
        }
        expression.push_str(&format!(" ADD {}", adds.join(", ")));
        let set = Cond {
            expression,
            names: cond.names,
            values: cond.values,
        };
        let last_owner = self.owners < 0;
        tx.update(
            &store.tables().main,
            UpdateSpec {
                pk: keys::org(org),
                sk: keys::ORG_SK.to_owned(),
                set,
                condition: Some(Cond::new(condition)),
            },
            if last_owner {
                OnFail::Conflict(relinx_model::ErrorCode::LastOwner, LAST_OWNER.to_owned())
            } else {
                OnFail::Error(|| StoreError::NotFound("organization"))
            },
        );
        forget_after_commit(tx, store, org);
    }
}
