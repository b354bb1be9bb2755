//! One change = one `TransactWriteItems`: the entity, its guards and its event commit
//! together or not at all. Each conditional item says which error its failed
//! condition means, so a cancelled transaction maps to the error a caller can act on.
//! What must happen only once the change is durable (dropping cached copies) is
//! registered with [`Tx::after_commit`].

use crate::codec::{Item, key, s, to_item};
use crate::{Store, StoreError, keys};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use relinx_model::{Context, Event, EventId, EventName, ResourceRef, Timestamp, WorkspaceId};
use std::collections::HashMap;

/// DynamoDB's own cap on items in one transaction.
const MAX_ITEMS: usize = 100;
/// Retries when another transaction touched the same items at the same moment.
const CONFLICT_RETRIES: usize = 3;

/// How to read a failed condition on one item of the transaction.
#[derive(Debug, Clone)]
pub enum OnFail {
    /// The condition cannot fail in a way a caller could cause.
    Internal,
    Error(fn() -> StoreError),
    Conflict(relinx_model::ErrorCode, String),
    /// The error depends on the item as it was (`None`: it did not exist), e.g. a
    /// writable-workspace check tells read-only (403) from missing (404).
    Inspect(fn(Option<&Item>) -> StoreError),
    /// A version condition ([`crate::versioned`]): someone wrote the item since it was read.
    Stale,
}

/// Work to do once the transaction has committed.
type AfterCommit = Box<dyn FnOnce() + Send>;

/// Builds one transaction.
pub struct Tx {
    items: Vec<TransactWriteItem>,
    on_fail: Vec<OnFail>,
    events: usize,
    /// The id of the event staged (the one a change carries).
    event_id: Option<EventId>,
    error: Option<StoreError>,
    after_commit: Vec<AfterCommit>,
    /// The idempotent request whose record this transaction completes.
    completes: Option<std::sync::Arc<crate::idempotency::Scope>>,
    /// Carries no event ([`Tx::progress`]).
    progress: bool,
}

pub use crate::cond::{Cond, UpdateSpec};

impl Default for Tx {
    fn default() -> Self {
        Self::new()
    }
}

impl Tx {
    pub fn new() -> Self {
        Self {
            items: Vec::new(),
            on_fail: Vec::new(),
            events: 0,
            event_id: None,
            error: None,
            after_commit: Vec::new(),
            completes: None,
            progress: false,
        }
    }

    /// A transaction that records the progress of a change whose event comes when
    /// it ends (a pipeline run's checkpoint: its counters, what it has written so
    /// far): it carries no event, and may not.
    pub fn progress() -> Self {
        Self {
            progress: true,
            ..Self::new()
        }
    }

    /// Declares `value` what this change answers. Inside a request that holds an
    /// `Idempotency-Key` (and declared how its answer is made), the key's record is
    /// completed with that answer in this same transaction: once the change commits,
    /// a retry replays it, even if the process dies before answering. Call it on the
    /// one transaction that makes the request's change, with what the operation
    /// returns.
    pub fn answer<T: std::any::Any>(&mut self, store: &Store, value: &T) -> &mut Self {
        if self.completes.is_some() {
            return self;
        }
        if let Some((spec, scope)) = crate::idempotency::completion(store, value) {
            self.update(
                &store.tables().main,
                spec,
                OnFail::Conflict(
                    relinx_model::ErrorCode::IdempotencyKeyInFlight,
                    "this request's Idempotency-Key was taken over by a retry after its lock lapsed; the retry's answer stands".to_owned(),
                ),
            );
            self.completes = Some(scope);
        }
        self
    }

    /// Runs `hook` once the change has committed, or when its outcome is unknown (a
    /// storage failure after sending it), never when a condition refused it. Cached
    /// copies are dropped here: dropped any earlier, a concurrent request could cache
    /// the old state again before the change lands.
    pub fn after_commit(&mut self, hook: impl FnOnce() + Send + 'static) -> &mut Self {
        self.after_commit.push(Box::new(hook));
        self
    }

    fn push(&mut self, item: Result<TransactWriteItem, StoreError>, on_fail: OnFail) {
        match item {
            Ok(item) => {
                self.items.push(item);
                self.on_fail.push(on_fail);
            }
            Err(err) => {
                self.error.get_or_insert(err);
            }
        }
    }

    pub fn put(
        &mut self,
        table: &str,
        item: Item,
        condition: Option<Cond>,
        on_fail: OnFail,
    ) -> &mut Self {
        let mut put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(c) = condition {
            put = put
                .condition_expression(c.expression)
                .set_expression_attribute_names(non_empty(c.names))
                .set_expression_attribute_values(non_empty(c.values));
        }
        let item = put
            .build()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .map_err(|e| StoreError::internal("build put", e));
        self.push(item, on_fail);
        self
    }

    pub fn update(&mut self, table: &str, spec: UpdateSpec, on_fail: OnFail) -> &mut Self {
        let mut names = spec.set.names;
        let mut values = spec.set.values;
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(key(spec.pk, spec.sk)))
            .update_expression(spec.set.expression)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(c) = spec.condition {
            names.extend(c.names);
            values.extend(c.values);
            update = update.condition_expression(c.expression);
        }
        let item = update
            .set_expression_attribute_names(non_empty(names))
            .set_expression_attribute_values(non_empty(values))
            .build()
            .map(|u| TransactWriteItem::builder().update(u).build())
            .map_err(|e| StoreError::internal("build update", e));
        self.push(item, on_fail);
        self
    }

    pub fn delete(
        &mut self,
        table: &str,
        pk: String,
        sk: String,
        condition: Option<Cond>,
        on_fail: OnFail,
    ) -> &mut Self {
        let mut delete = Delete::builder()
            .table_name(table)
            .set_key(Some(key(pk, sk)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(c) = condition {
            delete = delete
                .condition_expression(c.expression)
                .set_expression_attribute_names(non_empty(c.names))
                .set_expression_attribute_values(non_empty(c.values));
        }
        let item = delete
            .build()
            .map(|d| TransactWriteItem::builder().delete(d).build())
            .map_err(|e| StoreError::internal("build delete", e));
        self.push(item, on_fail);
        self
    }

    pub fn check(
        &mut self,
        table: &str,
        pk: String,
        sk: String,
        condition: Cond,
        on_fail: OnFail,
    ) -> &mut Self {
        let item = ConditionCheck::builder()
            .table_name(table)
            .set_key(Some(key(pk, sk)))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(non_empty(condition.names))
            .set_expression_attribute_values(non_empty(condition.values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map(|c| TransactWriteItem::builder().condition_check(c).build())
            .map_err(|e| StoreError::internal("build condition check", e));
        self.push(item, on_fail);
        self
    }

    /// Adds the change's event about `subject` (its resource and data), in
    /// `workspace` (none: org-wide).
    pub fn event_about<S: relinx_model::EventSubject>(
        &mut self,
        store: &Store,
        ctx: &Context,
        name: EventName,
        workspace: Option<&WorkspaceId>,
        subject: &S,
    ) -> &mut Self {
        self.event(
            store,
            ctx,
            name,
            workspace,
            subject.resource(),
            subject.event_data(),
        )
    }

    /// Adds the change's event: exactly one per transaction.
    pub fn event(
        &mut self,
        store: &Store,
        ctx: &Context,
        name: EventName,
        workspace: Option<&WorkspaceId>,
        resource: ResourceRef,
        data: serde_json::Value,
    ) -> &mut Self {
        let event = Event {
            id: EventId::generate(),
            event: name,
            org: ctx.org_id.clone(),
            workspace: workspace.cloned(),
            actor: ctx.actor.clone(),
            resource,
            timestamp: Timestamp::now(),
            request_id: ctx.request_id.clone(),
            data,
        };
        let item = to_item(
            &event,
            keys::event_partition(&ctx.org_id),
            event.id.to_string(),
        );
        self.events += 1;
        self.event_id = Some(event.id.clone());
        match item {
            Ok(item) => {
                // The id is fresh, so this condition only guards against a bug reusing one.
                self.put(
                    &store.tables().events,
                    item,
                    Some(Cond::not_exists()),
                    OnFail::Internal,
                );
            }
            Err(err) => {
                self.error.get_or_insert(err);
            }
        }
        self
    }

    /// The id of the event this transaction carries, once staged.
    pub fn event_id(&self) -> Option<&EventId> {
        self.event_id.as_ref()
    }

    /// Commits the transaction, then runs its after-commit hooks.
    pub async fn commit(mut self, store: &Store) -> Result<(), StoreError> {
        let hooks = std::mem::take(&mut self.after_commit);
        let completes = self.completes.take();
        let mark = crate::oplog::pending().map(|(marker, mark)| {
            self.put(
                &store.tables().main,
                marker,
                Some(Cond::not_exists()),
                OnFail::Conflict(
                    relinx_model::ErrorCode::OpAlreadyApplied,
                    "this operation was applied already".into(),
                ),
            );
            mark
        });
        let result = self.send(store).await;
        if let (Ok(()), Some(scope)) = (&result, completes) {
            scope.mark_completed();
        }
        if let (Ok(()), Some(mark)) = (&result, mark) {
            crate::oplog::committed(&mark);
        }
        if !matches!(
            result,
            Err(StoreError::Invalid(_)
                | StoreError::Unprocessable(_)
                | StoreError::NotFound(_)
                | StoreError::Conflict { .. }
                | StoreError::ConflictWithCurrent { .. }
                | StoreError::Gone { .. }
                | StoreError::TooLarge { .. }
                | StoreError::BadInput { .. }
                | StoreError::PreconditionRequired { .. }
                | StoreError::Forbidden { .. }
                | StoreError::Stale)
        ) {
            for hook in hooks {
                hook();
            }
        }
        result
    }

    async fn send(self, store: &Store) -> Result<(), StoreError> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let wanted = usize::from(!self.progress);
        if self.events != wanted {
            return Err(StoreError::Internal(format!(
                "a change must carry exactly one event (progress none), this one has {}",
                self.events
            )));
        }
        if self.items.len() > MAX_ITEMS {
            return Err(StoreError::Internal(format!(
                "a transaction holds at most {MAX_ITEMS} items, this one has {}",
                self.items.len()
            )));
        }
        let mut attempt = 0;
        loop {
            let result = store
                .client()
                .transact_write_items()
                .set_transact_items(Some(self.items.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err.into_service_error(),
            };
            match classify(&err, &self.on_fail) {
                Failure::Mapped(mapped) => return Err(mapped),
                Failure::Contended if attempt < CONFLICT_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10 * (1 << attempt))).await;
                }
                Failure::Contended => {
                    return Err(StoreError::conflict(
                        relinx_model::ErrorCode::ConcurrentChange,
                        "another request changed the same data at the same moment; retry",
                    ));
                }
                Failure::Other => return Err(StoreError::failed("transact write", err)),
            }
        }
    }
}

enum Failure {
    Mapped(StoreError),
    Contended,
    Other,
}

fn classify(err: &TransactWriteItemsError, on_fail: &[OnFail]) -> Failure {
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = err else {
        return match err.code() {
            Some("TransactionConflictException") => Failure::Contended,
            _ => Failure::Other,
        };
    };
    let reasons = cancelled.cancellation_reasons();
    for (index, reason) in reasons.iter().enumerate() {
        if reason.code() != Some("ConditionalCheckFailed") {
            continue;
        }
        let Some(meaning) = on_fail.get(index) else {
            return Failure::Other;
        };
        return match meaning {
            OnFail::Internal => Failure::Other,
            OnFail::Error(make) => Failure::Mapped(make()),
            OnFail::Conflict(code, message) => {
                Failure::Mapped(StoreError::conflict(*code, message.clone()))
            }
            OnFail::Inspect(judge) => {
                Failure::Mapped(judge(reason.item().filter(|old| !old.is_empty())))
            }
            OnFail::Stale => Failure::Mapped(StoreError::Stale),
        };
    }
    if reasons
        .iter()
        .any(|r| r.code() == Some("TransactionConflict"))
    {
        Failure::Contended
    } else {
        Failure::Other
    }
}

fn non_empty<V>(map: HashMap<String, V>) -> Option<HashMap<String, V>> {
    (!map.is_empty()).then_some(map)
}

/// A string attribute for expression values.
pub fn sv(value: impl Into<String>) -> AttributeValue {
    s(value)
}
