//! An analytics query as a client writes it (the body of `POST
//! /api/analytics/query`, and what a saved query keeps). Only its shape is checked
//! here; the plan (`Plan::new`) checks what it means against the entity's fields.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from": "contacts", "where": "company != \"\"", "group_by": ["company"], "metrics": ["count"], "order_by": ["count desc"], "limit": 10}))]
pub struct QuerySpec {
    /// `contacts`, `records`, `activities`, `clicks`, `events` or `dataset:<name>`.
    pub from: String,
    /// A condition in the expression language over the entity's fields (listed in
    /// the description of `POST /api/analytics/query`).
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Fields or expressions to group by, or `day(f)`, `week(f)` (the Monday),
    /// `month(f)` of a time field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    /// `count`, `count_distinct(f)`, `sum(f)`, `avg(f)`, `min(f)`, `max(f)`.
    pub metrics: Vec<String>,
    /// A time range over the entity's time field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<RangeSpec>,
    /// Result columns to sort by, each `"<column>"` or `"<column> desc"`; by default
    /// the group columns, ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<String>,
    /// At most this many rows (default 1,000, at most 10,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A time range: `from` and `to` are RFC 3339 times or `YYYY-MM-DD` days (a day
/// `to` includes the whole day); `to` defaults to now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from": "2026-12-01", "to": "2026-12-06"}))]
pub struct RangeSpec {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The time field the range is over. Each entity has its own (contacts
    /// `dt_created`, records `created_at`, activities `dt_start`, clicks `day`,
    /// events `timestamp`); a dataset's must be named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
