//! Datalinx insights (seed 003's Analytics APIs; API.md "Datalinx insights"):
//! queries over every entity of a workspace in the one expression language of
//! `relinx-expr` ([`analytics`]), saved queries ([`queries`]), and audiences kept
//! current from the event stream ([`audiences`]); and the rule that keeps an alert
//! from flapping ([`alert`], the first piece of monitoring and alerts).
//!
//! A query never reads another domain's items: each entity is walked through its
//! owner's public reader (`relinx_crm::contacts::walk`, `relinx_records::records::
//! walk`, `relinx_links::links::walk_days`, `relinx_audit::walk`,
//! `relinx_data::datasets::walk`), which checks the caller's read permission on
//! that entity, reads by Query (a time range as a key condition where the keys are
//! time-ordered) and counts every item read on the query's [`relinx_ddb::ReadBudget`].
//! Rows stream through the aggregation ([`aggregate`]) as they are read; past the
//! budget the query stops with a 422 asking for a narrower range.

pub mod aggregate;
pub mod alert;
pub mod analytics;
pub mod audiences;
pub mod entity;
pub mod plan;
pub mod queries;
pub mod spec;
pub mod timefmt;

pub use analytics::QueryResult;
pub use spec::{QuerySpec, RangeSpec};
