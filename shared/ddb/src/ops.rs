//! Every DynamoDB call a domain makes, typed: single-item reads and conditional
//! writes that answer whether their condition held ([`Written`]) instead of an SDK
//! error to pick apart, and a Query builder ([`Query`]: table or index, key condition
//! with `begins_with` / `BETWEEN` / a bound, filters, limit, consistency, direction,
//! where to start) that pages typed items. Domain crates name no AWS SDK type: what
//! they build are [`Cond`] expressions and [`codec`] values.

use crate::codec::{self, Item};
use crate::tx::Cond;
use crate::{Store, StoreError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// One of the three tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Main,
    Events,
    Jobs,
}

impl Store {
    fn table_name(&self, table: Table) -> &str {
        match table {
            Table::Main => &self.tables().main,
            Table::Events => &self.tables().events,
            Table::Jobs => &self.tables().jobs,
        }
    }
}

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// It happened; the item's attributes as asked for (`returning_*`), if any.
    Applied(Option<Item>),
    /// Its condition did not hold; the item as it was (`old_on_refusal`), if any.
    Refused(Option<Item>),
}

impl Written {
    pub fn applied(&self) -> bool {
        matches!(self, Self::Applied(_))
    }
}

/// What an update answers with when it applies.
#[derive(Debug, Clone, Copy)]
enum Returning {
    Nothing,
    AllNew,
    UpdatedNew,
}

/// A single-item write: a put, an update or a delete, with an optional condition.
pub struct Write<'s> {
    store: &'s Store,
    table: Table,
    kind: WriteKind,
    condition: Option<Cond>,
    returning: Returning,
    old_on_refusal: bool,
}

enum WriteKind {
    Put(Item),
    Update { key: Item, set: Cond },
    Delete { key: Item },
}

impl Store {
    /// Puts `item` (keys included) into `table`.
    pub fn put(&self, table: Table, item: Item) -> Write<'_> {
        self.write(table, WriteKind::Put(item))
    }

    /// Updates the item at `pk`/`sk` of `table` with `set` (an update expression with
    /// its placeholders' names and values).
    pub fn update(&self, table: Table, pk: String, sk: impl Into<String>, set: Cond) -> Write<'_> {
        self.write(
            table,
            WriteKind::Update {
                key: codec::key(pk, sk),
                set,
            },
        )
    }

    /// Deletes the item at `pk`/`sk` of `table`.
    pub fn delete(&self, table: Table, pk: String, sk: impl Into<String>) -> Write<'_> {
        self.write(
            table,
            WriteKind::Delete {
                key: codec::key(pk, sk),
            },
        )
    }

    fn write(&self, table: Table, kind: WriteKind) -> Write<'_> {
        Write {
            store: self,
            table,
            kind,
            condition: None,
            returning: Returning::Nothing,
            old_on_refusal: false,
        }
    }
}

fn some_if_any<V>(map: HashMap<String, V>) -> Option<HashMap<String, V>> {
    (!map.is_empty()).then_some(map)
}

impl Write<'_> {
    /// Only if `condition` holds of the item as it is.
    pub fn when(mut self, condition: Cond) -> Self {
        self.condition = Some(condition);
        self
    }

    /// Only if no item is there yet.
    pub fn if_absent(self) -> Self {
        self.when(Cond::not_exists())
    }

    /// Only if the item is there.
    pub fn if_present(self) -> Self {
        self.when(Cond::exists())
    }

    /// An update answers the whole item as it now is.
    pub fn returning_new(mut self) -> Self {
        self.returning = Returning::AllNew;
        self
    }

    /// An update answers the attributes it changed, as they now are.
    pub fn returning_updated(mut self) -> Self {
        self.returning = Returning::UpdatedNew;
        self
    }

    /// A refusal answers the item as it was.
    pub fn old_on_refusal(mut self) -> Self {
        self.old_on_refusal = true;
        self
    }

    /// Sends it; `Written::Refused` when its condition failed.
    pub async fn send(self) -> Result<Written, StoreError> {
        // Boxed: the SDK's futures are deep, and a caller's async fn nesting them
        // whole would outgrow the compiler's layout recursion limit.
        Box::pin(self.send_now()).await
    }

    async fn send_now(self) -> Result<Written, StoreError> {
        let client = self.store.client();
        let table = self.store.table_name(self.table);
        let (mut names, mut values) = (HashMap::new(), HashMap::new());
        let condition = self.condition.map(|c| {
            names.extend(c.names);
            values.extend(c.values);
            c.expression
        });
        let on_refusal = self
            .old_on_refusal
            .then_some(ReturnValuesOnConditionCheckFailure::AllOld);
        let refused = |item: Option<Item>| Ok(Written::Refused(item.filter(|i| !i.is_empty())));
        match self.kind {
            WriteKind::Put(item) => {
                let result = client
                    .put_item()
                    .table_name(table)
                    .set_item(Some(item))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(some_if_any(names))
                    .set_expression_attribute_values(some_if_any(values))
                    .set_return_values_on_condition_check_failure(on_refusal)
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(Written::Applied(None)),
                    Err(err) => match err.into_service_error() {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(f) => refused(f.item),
                        other => Err(StoreError::from_sdk("put item", other)),
                    },
                }
            }
            WriteKind::Update { key, set } => {
                names.extend(set.names);
                values.extend(set.values);
                let returning = match self.returning {
                    Returning::Nothing => None,
                    Returning::AllNew => Some(ReturnValue::AllNew),
                    Returning::UpdatedNew => Some(ReturnValue::UpdatedNew),
                };
                let result = client
                    .update_item()
                    .table_name(table)
                    .set_key(Some(key))
                    .update_expression(set.expression)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(some_if_any(names))
                    .set_expression_attribute_values(some_if_any(values))
                    .set_return_values(returning)
                    .set_return_values_on_condition_check_failure(on_refusal)
                    .send()
                    .await;
                match result {
                    Ok(out) => Ok(Written::Applied(out.attributes)),
                    Err(err) => match err.into_service_error() {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(f) => refused(f.item),
                        other => Err(StoreError::from_sdk("update item", other)),
                    },
                }
            }
            WriteKind::Delete { key } => {
                let result = client
                    .delete_item()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(some_if_any(names))
                    .set_expression_attribute_values(some_if_any(values))
                    .set_return_values_on_condition_check_failure(on_refusal)
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(Written::Applied(None)),
                    Err(err) => match err.into_service_error() {
                        aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(f) => refused(f.item),
                        other => Err(StoreError::from_sdk("delete item", other)),
                    },
                }
            }
        }
    }

    /// Sends it; `true` when it happened, `false` when its condition failed.
    pub async fn apply(self) -> Result<bool, StoreError> {
        Ok(self.send().await?.applied())
    }
}

impl Store {
    /// One item of `table`, read consistently.
    pub async fn read(
        &self,
        table: Table,
        pk: String,
        sk: impl Into<String>,
    ) -> Result<Option<Item>, StoreError> {
        Ok(self
            .client()
            .get_item()
            .table_name(self.table_name(table))
            .set_key(Some(codec::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await?
            .item)
    }

    /// Only the attributes `names` (comma-separated) of one item of the main table,
    /// read eventually consistently: for a hot read that needs a part of an item.
    pub async fn read_attributes(
        &self,
        pk: String,
        sk: impl Into<String>,
        names: &str,
    ) -> Result<Option<Item>, StoreError> {
        Ok(self
            .client()
            .get_item()
            .table_name(&self.tables().main)
            .set_key(Some(codec::key(pk, sk)))
            .projection_expression(names)
            .send()
            .await?
            .item)
    }

    /// A Query of partition `pk` of `table` (its `pk`/`sk` key).
    pub fn query(&self, table: Table, pk: impl Into<String>) -> Query<'_> {
        Query {
            store: self,
            table,
            index: None,
            key: (crate::keys::PK, codec::s(pk)),
            sort_name: crate::keys::SK,
            sort: None,
            filters: Vec::new(),
            filter_conds: Vec::new(),
            only: None,
            limit: None,
            consistent: true,
            forward: true,
            start: None,
        }
    }

    /// A Query of index `index` of `table`: the items whose `key_name` is `key`,
    /// sorted by `sort_name`. Index reads are eventually consistent.
    pub fn query_index(
        &self,
        table: Table,
        index: &'static str,
        key_name: &'static str,
        key: impl Into<String>,
        sort_name: &'static str,
    ) -> Query<'_> {
        Query {
            store: self,
            table,
            index: Some(index),
            key: (key_name, codec::s(key)),
            sort_name,
            sort: None,
            filters: Vec::new(),
            filter_conds: Vec::new(),
            only: None,
            limit: None,
            consistent: false,
            forward: true,
            start: None,
        }
    }
}

/// The sort-key part of a key condition.
#[derive(Clone)]
enum Sort {
    BeginsWith(String),
    Between(String, String),
    AtLeast(String),
    Above(String),
    AtMost(String),
}

/// How a filter compares an attribute.
#[derive(Debug, Clone, Copy)]
pub enum Compare {
    Eq,
    AtLeast,
    AtMost,
}

/// A Query being built: see [`Store::query`] and [`Store::query_index`].
#[derive(Clone)]
pub struct Query<'s> {
    store: &'s Store,
    table: Table,
    index: Option<&'static str>,
    key: (&'static str, AttributeValue),
    sort_name: &'static str,
    sort: Option<Sort>,
    filters: Vec<(String, Compare, AttributeValue)>,
    /// Filter expressions of their own (nested paths, functions), ANDed.
    filter_conds: Vec<Cond>,
    /// Only these attributes (comma-separated names) of each item.
    only: Option<&'static str>,
    limit: Option<i32>,
    consistent: bool,
    forward: bool,
    start: Option<Item>,
}

/// Whether `expression` is one parenthesized group: its first `(` closes at its end.
fn wrapped_whole(expression: &str) -> bool {
    let text = expression.trim();
    if !text.starts_with('(') {
        return false;
    }
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i == text.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// One page of a Query: the items, and where the next page starts (`None`: last).
pub struct Found<T> {
    pub items: Vec<T>,
    pub next: Option<Item>,
    /// How many items DynamoDB read for the page (a filter drops some of them after
    /// the read: they cost all the same).
    pub read: usize,
}

impl<'s> Query<'s> {
    /// Sort keys that start with `prefix`.
    pub fn begins_with(mut self, prefix: impl Into<String>) -> Self {
        self.sort = Some(Sort::BeginsWith(prefix.into()));
        self
    }

    /// Sort keys from `low` to `high`, both included.
    pub fn between(mut self, low: impl Into<String>, high: impl Into<String>) -> Self {
        self.sort = Some(Sort::Between(low.into(), high.into()));
        self
    }

    /// Sort keys from `low` on.
    pub fn at_least(mut self, low: impl Into<String>) -> Self {
        self.sort = Some(Sort::AtLeast(low.into()));
        self
    }

    /// Sort keys after `low` (not `low` itself).
    pub fn above(mut self, low: impl Into<String>) -> Self {
        self.sort = Some(Sort::Above(low.into()));
        self
    }

    /// Sort keys up to `high`.
    pub fn at_most(mut self, high: impl Into<String>) -> Self {
        self.sort = Some(Sort::AtMost(high.into()));
        self
    }

    /// Only items whose attribute `name` compares so with `value` (after the read:
    /// what is filtered out is still read). Filters add up (AND).
    pub fn filter(mut self, name: &str, compare: Compare, value: AttributeValue) -> Self {
        self.filters.push((name.to_owned(), compare, value));
        self
    }

    /// Only items `condition` holds of (a filter expression with its own
    /// placeholders, which must not start with `#f`, `:f`, `#k`, `:k`, `#s`, `:s`, `:t`).
    pub fn filter_where(mut self, condition: Cond) -> Self {
        self.filter_conds.push(condition);
        self
    }

    /// Only the attributes `names` (comma-separated) of each item come back.
    pub fn only(mut self, names: &'static str) -> Self {
        self.only = Some(names);
        self
    }

    /// At most `limit` items read.
    pub fn limit(mut self, limit: i32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Last sort key first.
    pub fn newest_first(mut self) -> Self {
        self.forward = false;
        self
    }

    /// Eventually consistent (half the read cost) where a fresh write need not show.
    pub fn eventually_consistent(mut self) -> Self {
        self.consistent = false;
        self
    }

    /// Continue after `key` (a page's `next`).
    pub fn after(mut self, key: Option<Item>) -> Self {
        self.start = key;
        self
    }

    fn request(&self) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut request = self
            .store
            .client()
            .query()
            .table_name(self.store.table_name(self.table))
            .set_index_name(self.index.map(str::to_owned))
            .expression_attribute_names("#k", self.key.0)
            .expression_attribute_values(":k", self.key.1.clone())
            .scan_index_forward(self.forward)
            .set_limit(self.limit)
            .set_projection_expression(self.only.map(str::to_owned))
            .set_exclusive_start_key(self.start.clone());
        if self.index.is_none() {
            request = request.consistent_read(self.consistent);
        }
        let condition = match &self.sort {
            None => "#k = :k".to_owned(),
            Some(sort) => {
                request = request.expression_attribute_names("#s", self.sort_name);
                match sort {
                    Sort::BeginsWith(prefix) => {
                        request = request.expression_attribute_values(":s", codec::s(prefix));
                        "#k = :k AND begins_with(#s, :s)".to_owned()
                    }
                    Sort::Between(low, high) => {
                        request = request
                            .expression_attribute_values(":s", codec::s(low))
                            .expression_attribute_values(":t", codec::s(high));
                        "#k = :k AND #s BETWEEN :s AND :t".to_owned()
                    }
                    Sort::AtLeast(low) => {
                        request = request.expression_attribute_values(":s", codec::s(low));
                        "#k = :k AND #s >= :s".to_owned()
                    }
                    Sort::Above(low) => {
                        request = request.expression_attribute_values(":s", codec::s(low));
                        "#k = :k AND #s > :s".to_owned()
                    }
                    Sort::AtMost(high) => {
                        request = request.expression_attribute_values(":s", codec::s(high));
                        "#k = :k AND #s <= :s".to_owned()
                    }
                }
            }
        };
        request = request.key_condition_expression(condition);
        let mut clauses = Vec::with_capacity(self.filters.len() + self.filter_conds.len());
        let several = self.filters.len() + self.filter_conds.len() > 1;
        for cond in &self.filter_conds {
            // DynamoDB refuses parentheses it finds redundant.
            let wrapped = wrapped_whole(&cond.expression);
            clauses.push(if several && !wrapped {
                format!("({})", cond.expression)
            } else {
                cond.expression.clone()
            });
            for (placeholder, name) in &cond.names {
                request = request.expression_attribute_names(placeholder, name);
            }
            for (placeholder, value) in &cond.values {
                request = request.expression_attribute_values(placeholder, value.clone());
            }
        }
        {
            for (i, (name, compare, value)) in self.filters.iter().enumerate() {
                let op = match compare {
                    Compare::Eq => "=",
                    Compare::AtLeast => ">=",
                    Compare::AtMost => "<=",
                };
                clauses.push(format!("#f{i} {op} :f{i}"));
                request = request
                    .expression_attribute_names(format!("#f{i}"), name)
                    .expression_attribute_values(format!(":f{i}"), value.clone());
            }
        }
        if !clauses.is_empty() {
            request = request.filter_expression(clauses.join(" AND "));
        }
        request
    }

    /// One page, as stored.
    pub async fn page_items(&self) -> Result<Found<Item>, StoreError> {
        // Boxed for the reason `Write::send` gives.
        let out = Box::pin(self.request().send()).await?;
        Ok(Found {
            read: usize::try_from(out.scanned_count).unwrap_or(0),
            items: out.items.unwrap_or_default(),
            next: out.last_evaluated_key,
        })
    }

    /// One page, decoded.
    pub async fn page<T: DeserializeOwned>(&self) -> Result<Found<T>, StoreError> {
        let found = self.page_items().await?;
        Ok(Found {
            items: found
                .items
                .into_iter()
                .map(codec::from_item)
                .collect::<Result<_, _>>()?,
            next: found.next,
            read: found.read,
        })
    }

    /// Every page, as stored (for sets that stay bounded, never a request's list).
    pub async fn all_items(mut self) -> Result<Vec<Item>, StoreError> {
        let mut all = Vec::new();
        loop {
            let found = self.page_items().await?;
            all.extend(found.items);
            match found.next {
                Some(next) => self.start = Some(next),
                None => return Ok(all),
            }
        }
    }
}

impl Store {
    /// Puts `items` into `table` in BatchWriteItem calls of 25 (a few at once), items
    /// left unprocessed (throttling) sent again with a growing pause, a few times. No
    /// conditions and no event: for bulk rows that are theirs alone (a dataset's
    /// rows), never for an entity a transaction guards.
    pub async fn batch_put(&self, table: Table, items: Vec<Item>) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let requests = items
            .into_iter()
            .map(|item| {
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build())
                    .map_err(|e| StoreError::internal("build batch put", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(table, requests).await
    }

    /// Deletes the items at `keys` (each a key's attributes) as [`Store::batch_put`]
    /// puts: for bulk rows that are theirs alone.
    pub async fn batch_delete(&self, table: Table, keys: Vec<Item>) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let requests = keys
            .into_iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map(|delete| WriteRequest::builder().delete_request(delete).build())
                    .map_err(|e| StoreError::internal("build batch delete", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(table, requests).await
    }

    async fn batch_write(
        &self,
        table: Table,
        requests: Vec<aws_sdk_dynamodb::types::WriteRequest>,
    ) -> Result<(), StoreError> {
        use futures::StreamExt;
        /// BatchWriteItem calls in flight at once: each mostly waits on DynamoDB.
        const IN_FLIGHT: usize = 8;
        let name = self.table_name(table).to_owned();
        let batches: Vec<Vec<_>> = requests.chunks(25).map(<[_]>::to_vec).collect();
        let mut sent = futures::stream::iter(batches)
            .map(|batch| self.write_batch(&name, batch))
            .buffer_unordered(IN_FLIGHT);
        while let Some(result) = sent.next().await {
            result?;
        }
        Ok(())
    }

    async fn write_batch(
        &self,
        name: &str,
        mut requests: Vec<aws_sdk_dynamodb::types::WriteRequest>,
    ) -> Result<(), StoreError> {
        for attempt in 0..6u32 {
            if requests.is_empty() {
                break;
            }
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
            let out = self
                .client()
                .batch_write_item()
                .request_items(name, std::mem::take(&mut requests))
                .send()
                .await?;
            requests = out
                .unprocessed_items
                .and_then(|mut left| left.remove(name))
                .unwrap_or_default();
        }
        if !requests.is_empty() {
            return Err(StoreError::Internal(format!(
                "batch write: {} items left unprocessed after retries",
                requests.len()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::wrapped_whole;

    #[test]
    fn only_a_whole_group_counts_as_wrapped() {
        assert!(wrapped_whole("(a = :a OR b = :b)"));
        assert!(!wrapped_whole("(a = :a) OR (b = :b)"));
        assert!(!wrapped_whole("a = :a"));
        assert!(wrapped_whole("((a))"));
    }
}
