//! Sync policies (API.md "Policies"): `{"name","when","then","priority"?}`, kept per
//! org. `when` is an expression of the platform's expression language
//! (`relinx-expr`) over the record; `then` sets the record's `queue` and/or
//! `priority`. On every record write the org's policies run in `priority` order
//! (lowest first, then by name) and the first whose `when` holds decides.
//!
//! Policies are cached per instance for the org-cache TTL: a policy saved through
//! another instance applies there within that bound.

use crate::record::Record;

use relinx_ddb::codec::to_item;
use relinx_ddb::keys::{self, records::POLICY};
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::{CacheSettings, Store, StoreError, TtlCache};
use relinx_expr::{Expr, Fields};
use relinx_model::{
    Context, EventName, OrgId, Permission, Resource, ResourceRef, Timestamp, ValidationError,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// What `when` may name: the record's fields, and any path under `data`.
pub const WHEN_FIELDS: Fields<'static> = Fields::new(
    &[
        "size", "type", "site", "status", "title", "queue", "priority",
    ],
    &["data"],
);
/// The most policies an org keeps: every record write evaluates them all.
pub const MAX_POLICIES: usize = 100;
const MAX_NAME_CHARS: usize = 64;
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
const DEFAULT_ORDER: i64 = 100;

/// A sync policy as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "defer_media", "when": "size>5120", "then": "queue=wifi", "priority": 100, "created_at": "2026-11-25T10:00:00.000Z", "updated_at": "2026-11-25T10:00:00.000Z"}))]
pub struct Policy {
    pub name: String,
    /// An expression over the record: `size>5120`, `type == "inspection" && site == "alpha"`.
    pub when: String,
    /// `key=value` pairs separated by `,` or `;`: `queue=wifi`, `priority=high`.
    pub then: String,
    /// Lower runs first (default 100); ties by name.
    pub priority: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A policy to create or replace.
#[derive(Debug, Clone)]
pub struct PolicyInput {
    name: String,
    when: String,
    then: String,
    priority: Option<i64>,
}

impl PolicyInput {
    /// A policy to save: its name, its `when` expression and its `then` actions
    /// checked (each a 400 naming what is wrong), so whatever saves a policy is held
    /// to the same rules.
    pub fn new(
        name: &str,
        when: &str,
        then: &str,
        priority: Option<i64>,
    ) -> Result<Self, StoreError> {
        let (when, then) = (when.trim().to_owned(), then.trim().to_owned());
        parse_when(&when)?;
        parse_then(&then)?;
        Ok(Self {
            name: check_name(name)?,
            when,
            then,
            priority,
        })
    }
}

/// What a matching policy sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    pub queue: Option<String>,
    pub priority: Option<String>,
}

/// A policy ready to evaluate.
pub(crate) struct Compiled {
    when: Expr,
    then: Actions,
}

fn invalid_expression(field: &str, column: usize, message: &str) -> StoreError {
    StoreError::BadInput {
        code: relinx_model::ErrorCode::InvalidExpression,
        message: format!("{field}: at column {column}: {message}"),
    }
}

/// Parses `when`, naming the column of the first problem.
pub fn parse_when(raw: &str) -> Result<Expr, StoreError> {
    Expr::parse(raw, &WHEN_FIELDS).map_err(|e| invalid_expression("when", e.column, &e.message))
}

/// Parses `then`: `key=value` pairs separated by `,` or `;` (keys `queue`,
/// `priority`; a queue is 1 to 64 of `[A-Za-z0-9_.-]`, a priority one of low,
/// normal, high, urgent), naming the column of the first problem.
pub fn parse_then(raw: &str) -> Result<Actions, StoreError> {
    let mut actions = Actions::default();
    let mut column = 1;
    let mut any = false;
    for part in raw.split([',', ';']) {
        let part_column = column;
        column += part.chars().count() + 1;
        let lead = part.chars().take_while(|c| c.is_whitespace()).count();
        let trimmed = part.trim();
        if trimmed.is_empty() {
            // A trailing separator is tolerated; an empty pair in the middle is not.
            if column > raw.chars().count() + 1 && any {
                continue;
            }
            return Err(invalid_expression(
                "then",
                part_column + lead,
                "expected a key=value pair (queue=… or priority=…)",
            ));
        }
        let at = part_column + lead;
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(invalid_expression(
                "then",
                at + trimmed.chars().count(),
                "expected \"=\" and a value after the key",
            ));
        };
        let value_column = at + key.chars().count() + 1;
        let (key, value) = (key.trim(), value.trim());
        match key {
            "queue" => {
                if !is_simple_name(value) {
                    return Err(invalid_expression(
                        "then",
                        value_column,
                        "expected a queue name: 1 to 64 of letters, digits, '_', '-', '.'",
                    ));
                }
                actions.queue = Some(value.to_owned());
            }
            "priority" => {
                if !PRIORITIES.contains(&value) {
                    return Err(invalid_expression(
                        "then",
                        value_column,
                        "expected a priority: low, normal, high or urgent",
                    ));
                }
                actions.priority = Some(value.to_owned());
            }
            _ => {
                return Err(invalid_expression(
                    "then",
                    at,
                    &format!("unknown key {key:?}; expected queue or priority"),
                ));
            }
        }
        any = true;
    }
    Ok(actions)
}

/// A policy or queue name: 1 to 64 of letters, digits, `_`, `-`, `.`.
fn is_simple_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn check_name(raw: &str) -> Result<String, StoreError> {
    let name = raw.trim();
    if !is_simple_name(name) {
        return Err(StoreError::Invalid(ValidationError::new(
            "name",
            "must be 1 to 64 of letters, digits, '_', '-', '.'",
        )));
    }
    Ok(name.to_owned())
}

fn policy_sk(name: &str) -> String {
    format!("{POLICY}{name}")
}

fn resource(name: &str) -> ResourceRef {
    ResourceRef::new("policy", name)
}

/// The org's policies in the order they apply.
pub async fn list(store: &Store, ctx: &Context) -> Result<Vec<Policy>, StoreError> {
    ctx.require(Permission::read(Resource::Policies))?;
    read_all(store, &ctx.org_id).await
}

async fn read_all(store: &Store, org: &OrgId) -> Result<Vec<Policy>, StoreError> {
    let mut all: Vec<Policy> = store.org_all(org, POLICY, || None).await?;
    all.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(all)
}

/// Creates the policy, or replaces the one of that name. `true` when created.
pub async fn save(
    store: &Store,
    ctx: &Context,
    input: PolicyInput,
) -> Result<(Policy, bool), StoreError> {
    ctx.require(Permission::write(Resource::Policies))?;
    // Policies route records in every workspace of the org.
    ctx.require_org_wide("change sync policies, which apply to every workspace")?;
    let PolicyInput {
        name,
        when,
        then,
        priority,
    } = input;
    let now = Timestamp::now();
    let main = &store.tables().main;
    // Create if absent, else replace; a delete racing in between is retried once.
    for _ in 0..3 {
        let existing: Option<Policy> = store.get(keys::org(&ctx.org_id), policy_sk(&name)).await?;
        let created = existing.is_none();
        if created && read_all(store, &ctx.org_id).await?.len() >= MAX_POLICIES {
            return Err(StoreError::conflict(
                relinx_model::ErrorCode::TooManyPolicies,
                format!("an organization keeps at most {MAX_POLICIES} policies; delete one first"),
            ));
        }
        let policy = Policy {
            name: name.clone(),
            when: when.clone(),
            then: then.clone(),
            priority: priority.unwrap_or(DEFAULT_ORDER),
            created_at: existing.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
        };
        let mut tx = Tx::new();
        let condition = if created {
            Cond::not_exists()
        } else {
            Cond::exists()
        };
        tx.put(
            main,
            to_item(&policy, keys::org(&ctx.org_id), policy_sk(&name))?,
            Some(condition),
            OnFail::Stale,
        );
        tx.event(
            store,
            ctx,
            if created {
                EventName::PolicyCreated
            } else {
                EventName::PolicyUpdated
            },
            None,
            resource(&name),
            serde_json::to_value(&policy).unwrap_or_default(),
        );
        forget_after_commit(&mut tx, store, &ctx.org_id);
        match tx.commit(store).await {
            Ok(()) => return Ok((policy, created)),
            Err(StoreError::Stale) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::Stale)
}

/// Deletes the policy (404 when there is none of that name).
pub async fn delete(store: &Store, ctx: &Context, name: &str) -> Result<(), StoreError> {
    ctx.require(Permission::write(Resource::Policies))?;
    ctx.require_org_wide("delete sync policies, which apply to every workspace")?;
    let mut tx = Tx::new();
    tx.delete(
        &store.tables().main,
        keys::org(&ctx.org_id),
        policy_sk(name),
        Some(Cond::exists()),
        OnFail::Error(|| StoreError::NotFound("policy")),
    );
    tx.event(
        store,
        ctx,
        EventName::PolicyDeleted,
        None,
        resource(name),
        serde_json::json!({ "name": name }),
    );
    forget_after_commit(&mut tx, store, &ctx.org_id);
    tx.commit(store).await
}

/// Each org's policies, compiled, in the order they apply (per `Store`).
struct PolicyCache(TtlCache<OrgId, Arc<Vec<Compiled>>>);

fn cache(store: &Store) -> Arc<PolicyCache> {
    store.local(|settings: &CacheSettings| PolicyCache(TtlCache::new(settings.org_ttl, 10_000)))
}

fn forget_after_commit(tx: &mut Tx, store: &Store, org: &OrgId) {
    let (cache, org) = (cache(store), org.clone());
    tx.after_commit(move || cache.0.invalidate(&org));
}

/// The org's policies, compiled (cached). A stored policy that no longer parses
/// (the language only grows) is skipped and logged, never fatal to a write.
pub(crate) async fn compiled(store: &Store, org: &OrgId) -> Result<Arc<Vec<Compiled>>, StoreError> {
    let cache = cache(store);
    if let Some(hit) = cache.0.get(org) {
        return Ok(hit);
    }
    let policies = read_all(store, org).await?;
    let compiled: Vec<Compiled> = policies
        .iter()
        .filter_map(|p| match (parse_when(&p.when), parse_then(&p.then)) {
            (Ok(when), Ok(then)) => Some(Compiled { when, then }),
            _ => {
                tracing::warn!(policy = %p.name, "stored policy does not parse; skipped");
                None
            }
        })
        .collect();
    let compiled = Arc::new(compiled);
    cache.0.insert(org.clone(), compiled.clone());
    Ok(compiled)
}

/// Sets `record`'s queue and priority from the first policy that matches it.
pub(crate) fn apply(policies: &[Compiled], record: &mut Record) {
    record.queue = crate::record::DEFAULT_QUEUE.to_owned();
    record.priority = crate::record::DEFAULT_PRIORITY.to_owned();
    let matched = policies
        .iter()
        .find(|p| p.when.eval(&|path: &[String]| record.field(path)));
    if let Some(policy) = matched {
        if let Some(queue) = &policy.then.queue {
            record.queue = queue.clone();
        }
        if let Some(priority) = &policy.then.priority {
            record.priority = priority.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column_of(err: StoreError) -> String {
        match err {
            StoreError::BadInput { code, message } => {
                assert_eq!(code, relinx_model::ErrorCode::InvalidExpression);
                message
            }
            other => panic!("expected INVALID_EXPRESSION, got {other:?}"),
        }
    }

    #[test]
    fn then_sets_queue_and_priority() {
        assert_eq!(
            parse_then("queue=wifi; priority=high").unwrap(),
            Actions {
                queue: Some("wifi".into()),
                priority: Some("high".into())
            }
        );
        assert_eq!(
            parse_then("queue = wifi,").unwrap().queue.as_deref(),
            Some("wifi")
        );
    }

    #[test]
    fn then_errors_name_the_column() {
        assert!(column_of(parse_then("queue").unwrap_err()).contains("column 6"));
        assert!(column_of(parse_then("queue=wifi,colour=red").unwrap_err()).contains("column 12"));
        assert!(column_of(parse_then("priority=soon").unwrap_err()).contains("column 10"));
        assert!(
            column_of(parse_then("queue=wifi,,priority=low").unwrap_err()).contains("column 12")
        );
        assert!(column_of(parse_then("").unwrap_err()).contains("column 1"));
    }

    #[test]
    fn when_errors_name_the_column() {
        let message = column_of(parse_when("size >").unwrap_err());
        assert!(message.starts_with("when: at column 7"), "{message}");
    }
}
