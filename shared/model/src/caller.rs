//! Who is calling and on whose behalf: the one caller type every domain operation
//! takes. It is built by the constructors below (from a verified key, a verified
//! token, or the platform acting for someone), never field by field, and the org in
//! it is the only org an operation can touch.

use crate::{Actor, ApiKeyId, BuiltinRole, OrgId, Permission, PermissionSet, WorkspaceId};

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    ApiKey(ApiKeyId),
    /// A JWT; `key_id` is the key it was exchanged for, if any.
    Token {
        key_id: Option<ApiKeyId>,
        issued_at: i64,
    },
    /// No credential: the platform acting for an actor it has just established
    /// (signup creating the owner, an invite being accepted).
    Platform,
}

/// The caller lacks a permission or reaches outside its scope (a 403 on every surface).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub code: crate::ErrorCode,
    pub message: String,
}

impl Denied {
    pub fn new(code: crate::ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A workspace named outside the caller's scope: to the caller it does not exist (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("workspace not found")]
pub struct OutsideScope;

#[derive(Debug, Clone)]
pub struct Context {
    pub org_id: OrgId,
    pub actor: Actor,
    /// The caller's role by name (built-in or custom), for what it creates.
    pub role: String,
    /// What the caller may do: every authorization check asks this, never the name.
    pub permissions: PermissionSet,
    /// Set when the caller's credential is confined to one workspace.
    pub workspace_scope: Option<WorkspaceId>,
    pub credential: Credential,
    /// The request this call serves, for the event it writes.
    pub request_id: Option<String>,
}

impl Context {
    /// A caller authenticated by an API key, with the key's role already resolved.
    pub fn for_key(
        org_id: OrgId,
        owner: Actor,
        role: String,
        permissions: PermissionSet,
        workspace_scope: Option<WorkspaceId>,
        key_id: ApiKeyId,
    ) -> Self {
        Self {
            org_id,
            actor: owner,
            role,
            permissions,
            workspace_scope,
            credential: Credential::ApiKey(key_id),
            request_id: None,
        }
    }

    /// A caller authenticated by an access token, with the token's role resolved.
    pub fn for_token(
        org_id: OrgId,
        actor: Actor,
        role: String,
        permissions: PermissionSet,
        workspace_scope: Option<WorkspaceId>,
        key_id: Option<ApiKeyId>,
        issued_at: i64,
    ) -> Self {
        Self {
            org_id,
            actor,
            role,
            permissions,
            workspace_scope,
            credential: Credential::Token { key_id, issued_at },
            request_id: None,
        }
    }

    /// The platform acting for `actor` with a built-in role, without a credential.
    pub fn platform_acting_for(org_id: OrgId, actor: Actor, role: BuiltinRole) -> Self {
        Self {
            org_id,
            actor,
            role: role.as_str().to_owned(),
            permissions: role.permissions(),
            workspace_scope: None,
            credential: Credential::Platform,
            request_id: None,
        }
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.allows(permission)
    }

    /// Refuses unless the caller holds `permission` (403 naming it).
    pub fn require(&self, permission: Permission) -> Result<(), Denied> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(Denied::new(
                crate::ErrorCode::Forbidden,
                format!("your role does not allow {permission}"),
            ))
        }
    }

    /// Refuses a caller confined to one workspace: for operations on the whole org.
    pub fn require_org_wide(&self, what: &str) -> Result<(), Denied> {
        match self.workspace_scope {
            None => Ok(()),
            Some(_) => Err(Denied::new(
                crate::ErrorCode::Forbidden,
                format!("a credential confined to one workspace cannot {what}"),
            )),
        }
    }

    /// Names the credential, for records bound to it (idempotency): the key, the key
    /// a token was exchanged for (same powers), or the member behind a login token.
    pub fn credential_ref(&self) -> String {
        match &self.credential {
            Credential::ApiKey(id)
            | Credential::Token {
                key_id: Some(id), ..
            } => format!("key:{id}"),
            Credential::Token { key_id: None, .. } => format!("login:{}", self.actor.id),
            Credential::Platform => format!("platform:{}", self.actor.id),
        }
    }

    /// The API key behind the credential: the key itself, or the key a token was
    /// exchanged for.
    pub fn key_id(&self) -> Option<&ApiKeyId> {
        match &self.credential {
            Credential::ApiKey(id)
            | Credential::Token {
                key_id: Some(id), ..
            } => Some(id),
            Credential::Token { key_id: None, .. } | Credential::Platform => None,
        }
    }

    /// When the credential was issued (epoch milliseconds), for credentials that
    /// carry it (tokens).
    pub fn issued_at(&self) -> Option<i64> {
        match self.credential {
            Credential::Token { issued_at, .. } => Some(issued_at),
            Credential::ApiKey(_) | Credential::Platform => None,
        }
    }

    /// Whether the caller may see something confined to `workspace` (or to none): a
    /// scoped credential sees only what is confined to its own workspace.
    pub fn sees_confined(&self, workspace: &Option<WorkspaceId>) -> bool {
        self.workspace_scope.is_none() || *workspace == self.workspace_scope
    }

    /// Whether the caller may see `workspace` at all (a scoped credential sees one).
    pub fn sees_workspace(&self, workspace: &WorkspaceId) -> bool {
        self.workspace_scope
            .as_ref()
            .is_none_or(|scope| scope == workspace)
    }

    /// The workspace something the caller creates is confined to: a scoped caller's
    /// own (asking for another is [`OutsideScope`]), else what was asked.
    pub fn confine(&self, asked: Option<WorkspaceId>) -> Result<Option<WorkspaceId>, OutsideScope> {
        match (&self.workspace_scope, asked) {
            (Some(scope), Some(asked)) if *scope != asked => Err(OutsideScope),
            (Some(scope), _) => Ok(Some(scope.clone())),
            (None, asked) => Ok(asked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ActorKind, Resource, UserId};

    fn owner() -> Context {
        Context::platform_acting_for(
            OrgId::generate(),
            Actor {
                kind: ActorKind::User,
                id: UserId::generate().to_string(),
            },
            BuiltinRole::Owner,
        )
    }

    #[test]
    fn a_scoped_caller_is_confined_to_its_workspace() {
        let ws = WorkspaceId::generate();
        let other = WorkspaceId::generate();
        let mut ctx = owner();
        assert_eq!(ctx.confine(Some(other.clone())), Ok(Some(other.clone())));
        ctx.workspace_scope = Some(ws.clone());
        assert_eq!(ctx.confine(None), Ok(Some(ws.clone())));
        assert_eq!(ctx.confine(Some(ws.clone())), Ok(Some(ws.clone())));
        assert_eq!(ctx.confine(Some(other.clone())), Err(OutsideScope));
        assert!(ctx.sees_workspace(&ws) && !ctx.sees_workspace(&other));
        assert!(!ctx.sees_confined(&None) && ctx.sees_confined(&Some(ws)));
        assert!(ctx.require_org_wide("invite members").is_err());
    }

    #[test]
    fn require_names_the_missing_permission() {
        let mut ctx = owner();
        ctx.permissions = BuiltinRole::Viewer.permissions();
        let err = ctx
            .require(Permission::write(Resource::Users))
            .expect_err("viewer cannot write users");
        assert_eq!(err.code, crate::ErrorCode::Forbidden);
        assert!(err.message.contains("users:write"), "{}", err.message);
    }
}
