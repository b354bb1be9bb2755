//! RelaySync's field records (seed 002; API.md "Records", "Policies"): records with
//! causal tokens, tombstones and a change feed, and the org's sync policies.
//!
//! This crate owns the key prefixes in `relinx_ddb::keys::records` and follows the
//! rule for a domain (README "Layout"): each operation takes the `Store`, the
//! caller's `Context` and typed input, checks its permission first, and writes one
//! transaction carrying its event; writes check their workspace with
//! `relinx_identity::workspaces::stage_writable`.

mod applied;
pub mod batch;
mod cursor;
pub mod keyed;
pub mod policies;
pub mod record;
pub mod records;
mod state;

pub use record::{NewRecord, Record, RecordPatch, Status};
pub use records::{Change, ChangeKind, ChangePage, Edit, ListQuery, RecordEdit, RecordPage};
pub use state::{RecordSettings, configure};
