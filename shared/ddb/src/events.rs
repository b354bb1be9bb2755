//! Reading the event log. Nothing here or anywhere updates or deletes an event.

use crate::codec::{from_item, s};
use crate::{Store, StoreError, keys};
use relinx_model::{Event, OrgId};

/// The org's most recent events, newest first.
pub async fn recent(store: &Store, org: &OrgId, limit: i32) -> Result<Vec<Event>, StoreError> {
    let out = store
        .client()
        .query()
        .table_name(&store.tables().events)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s(keys::event_partition(org)))
        .scan_index_forward(false)
        .limit(limit)
        .consistent_read(true)
        .send()
        .await?;
    out.items
        .unwrap_or_default()
        .into_iter()
        .map(from_item)
        .collect()
}
