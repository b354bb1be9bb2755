//! The platform's own entities as every surface shows them.

use crate::{Actor, ApiKeyId, LimitsOverride, OrgId, Plan, Timestamp, UserId, WorkspaceId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub plan: Plan,
    #[serde(default)]
    pub limits_override: LimitsOverride,
    pub default_workspace_id: WorkspaceId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Org {
    pub fn limits(&self) -> crate::Limits {
        self.plan.limits().with_override(&self.limits_override)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub read_only: bool,
    /// Free settings (Datalinx's `config`, e.g. a description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Invited,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub role: String,
    pub status: UserStatus,
    #[serde(default)]
    pub last_login_at: Option<Timestamp>,
    #[serde(default)]
    pub last_sync_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// An API key as listed: everything but the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub role: String,
    pub workspace_id: Option<WorkspaceId>,
    pub owner: Actor,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<Timestamp>,
}
