//! The workspace a Datalinx request acts in: every source, schema and mapping lives in
//! its workspace's partition, `DATA#{org}#{workspace}`, so one org's or workspace's
//! ids mean nothing in another (a 404, never someone else's object).

use relinx_ddb::codec::n;
use relinx_ddb::keys::data as dk;
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::versioned;
use relinx_ddb::{Store, StoreError};
use relinx_model::{Context, EventName, EventSubject, OrgId, Permission, WorkspaceId};

#[derive(Debug, Clone)]
pub struct Scope {
    pub org: OrgId,
    pub workspace: WorkspaceId,
}

impl Scope {
    /// The caller's org's workspace `workspace` (resolved by the surface from
    /// `X-Workspace` or the credential).
    pub fn of(ctx: &Context, workspace: &WorkspaceId) -> Self {
        Self {
            org: ctx.org_id.clone(),
            workspace: workspace.clone(),
        }
    }

    pub fn partition(&self) -> String {
        format!("{}{}#{}", dk::PARTITION, self.org, self.workspace)
    }

    /// The caller holds `permission` and reaches this workspace; `what` names the
    /// 404 a caller confined elsewhere gets.
    pub fn authorize(
        &self,
        ctx: &Context,
        permission: Permission,
        what: &'static str,
    ) -> Result<(), StoreError> {
        ctx.require(permission)?;
        if ctx.org_id != self.org || !ctx.sees_workspace(&self.workspace) {
            return Err(StoreError::NotFound(what));
        }
        Ok(())
    }

    /// Stages what every change in the workspace carries: the workspace is
    /// writable, and the change's event about `subject`.
    pub fn stage_change<S: EventSubject>(
        &self,
        tx: &mut Tx,
        store: &Store,
        ctx: &Context,
        name: EventName,
        subject: &S,
    ) {
        relinx_identity::workspaces::stage_writable(tx, store, &self.org, &self.workspace);
        tx.event_about(store, ctx, name, Some(&self.workspace), subject);
    }

    /// Stages `delta` uses of the item at `sk` (a source or schema a mapping is
    /// built on): its `in_use` count and its version, so a delete that read it
    /// before this commits is retried and sees the use. An item deleted meanwhile
    /// makes the change a 409 to retry (which then finds it gone).
    pub fn stage_use(&self, tx: &mut Tx, store: &Store, sk: String, delta: i64) {
        tx.update(
            &store.tables().main,
            UpdateSpec {
                pk: self.partition(),
                sk,
                set: versioned::bump_values(
                    Cond::new(format!("ADD in_use :delta, {}", versioned::BUMP))
                        .value(":delta", n(delta)),
                ),
                condition: Some(Cond::exists()),
            },
            OnFail::Stale,
        );
    }
}
