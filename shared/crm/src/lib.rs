//! Relenta (seed 004; API.md "crm"): a department's (workspace's) contacts, their
//! typed custom fields, and activities with RFC 5545 recurrence.
//!
//! It owns the key prefixes in `relinx_ddb::keys::crm` and follows the rule for a
//! domain (README "Layout"): each operation takes the `Store`, the caller's
//! `Context`, the department and typed input, checks its permission first, and
//! writes one transaction carrying its event.

pub mod activities;
pub mod activity;
pub mod contact;
pub mod contacts;
pub mod department;
pub mod fields;
pub mod values;

pub use activity::{Activity, Occurrence};
pub use contact::Contact;
pub use department::Department;
pub use fields::{CustomField, FieldType, Schema};
pub use values::{ActivityId, ContactId};
