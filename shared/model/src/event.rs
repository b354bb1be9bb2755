//! The event log entry (API.md "Events, audit, webhooks"): one per state change,
//! written in the same transaction as the change.

use crate::{EventId, OrgId, Timestamp, WorkspaceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ServiceAccount,
    /// The platform itself (signup, sweeps).
    System,
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: String,
}

/// What it was done to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    /// `record.created`, `workspace.updated`, …
    pub event: String,
    pub org: OrgId,
    pub workspace: Option<WorkspaceId>,
    pub actor: Actor,
    pub resource: ResourceRef,
    pub timestamp: Timestamp,
    pub request_id: Option<String>,
    pub data: serde_json::Value,
}
