//! Who is calling, as established by a verified credential.

use relinx_model::{Actor, ApiKeyId, OrgId, Permission, PermissionSet, WorkspaceId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    ApiKey(ApiKeyId),
    /// A JWT; `key_id` is the key it was exchanged for, if any.
    Token {
        key_id: Option<ApiKeyId>,
        issued_at: i64,
    },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: OrgId,
    pub actor: Actor,
    /// The role's name as granted (built-in or custom).
    pub role: String,
    /// What the role allows; every authorization check asks this, never the name.
    pub permissions: PermissionSet,
    /// Set when the credential is confined to one workspace.
    pub workspace_scope: Option<WorkspaceId>,
    pub credential: Credential,
}

impl Principal {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.allows(permission)
    }

    /// When the credential was issued, for credentials that carry it (tokens).
    pub fn issued_at(&self) -> Option<i64> {
        match self.credential {
            Credential::Token { issued_at, .. } => Some(issued_at),
            Credential::ApiKey(_) => None,
        }
    }
}
