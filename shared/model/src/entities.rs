//! The platform's own entities as every surface shows them.

use crate::{Actor, ApiKeyId, OrgId, Plan, Timestamp, UserId, WorkspaceId};
use serde::{Deserialize, Serialize};

/// An organization as its API shows it (`GET /api/organizations`). What the platform
/// keeps about it beside this (owners, disabled actors, token revocations) lives in
/// the identity crate's stored record and is never shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub plan: Plan,
    /// The plan's limits with the org's overrides applied.
    pub limits: crate::Limits,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Invited,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// A role as listed: a named set of `<resource>:<read|write>` permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Role {
    pub name: String,
    pub permissions: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub built_in: bool,
    /// How many keys, users, invites and service accounts hold it (custom roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_use: Option<u64>,
}

/// A non-human identity owning API keys; it is the actor of what its keys do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceAccount {
    pub id: crate::ServiceAccountId,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub workspace_id: Option<WorkspaceId>,
    pub created_at: Timestamp,
    /// When it last read the records change feed (to the minute).
    #[serde(default)]
    pub last_sync_at: Option<Timestamp>,
}

impl crate::EventSubject for Workspace {
    const KIND: &'static str = "workspace";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        crate::event::data_of(self)
    }
}

impl crate::EventSubject for User {
    const KIND: &'static str = "user";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        crate::event::data_of(self)
    }
}

impl crate::EventSubject for ApiKey {
    const KIND: &'static str = "api_key";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        crate::event::data_of(self)
    }
}

impl crate::EventSubject for ServiceAccount {
    const KIND: &'static str = "service_account";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        crate::event::data_of(self)
    }
}
