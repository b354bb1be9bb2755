//! A Relenta department is a workspace (API.md "Tenancy"): everything of the CRM
//! lives in the department's partition, `CRM#{org}#{workspace}`.

use relinx_ddb::keys::crm as ck;
use relinx_ddb::tx::Tx;
use relinx_ddb::{Store, StoreError};
use relinx_model::{Context, OrgId, WorkspaceId};

/// The department a request acts on: its org and workspace.
#[derive(Debug, Clone)]
pub struct Department {
    pub org: OrgId,
    pub workspace: WorkspaceId,
}

impl Department {
    /// The caller's org's workspace `workspace` (resolved by the surface).
    pub fn of(ctx: &Context, workspace: &WorkspaceId) -> Self {
        Self {
            org: ctx.org_id.clone(),
            workspace: workspace.clone(),
        }
    }

    pub fn partition(&self) -> String {
        format!("{}{}#{}", ck::PARTITION, self.org, self.workspace)
    }

    /// A credential confined to another workspace sees no department here.
    pub fn check_visible(&self, ctx: &Context) -> Result<(), StoreError> {
        if ctx.org_id == self.org && ctx.sees_workspace(&self.workspace) {
            Ok(())
        } else {
            Err(StoreError::NotFound("department"))
        }
    }
}

/// Refuses the transaction unless the department's workspace is writable.
pub fn stage_writable(tx: &mut Tx, store: &Store, ctx: &Context, dept: &Department) {
    relinx_identity::workspaces::stage_writable(tx, store, &ctx.org_id, &dept.workspace);
}
