//! A Relenta department is a workspace (API.md "Tenancy"): everything of the CRM
//! lives in the department's partition, `CRM#{org}#{workspace}`.

use relinx_ddb::codec::n;
use relinx_ddb::keys::crm as ck;
use relinx_ddb::tx::{Cond, Tx};
use relinx_ddb::{Store, StoreError};
use relinx_model::{Context, EventName, OrgId, Permission, WorkspaceId};

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

    /// The caller holds `permission` and sees this department: what every
    /// operation checks first.
    pub fn authorize(&self, ctx: &Context, permission: Permission) -> Result<(), StoreError> {
        ctx.require(permission)?;
        self.check_visible(ctx)
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

/// Page `page` (from 1) of `page_size` of the department's items under `prefix`, in
/// sort-key order (by id).
pub async fn page<T: serde::de::DeserializeOwned>(
    store: &Store,
    dept: &Department,
    prefix: &str,
    page: u64,
    page_size: u64,
) -> Result<Vec<T>, StoreError> {
    let skip =
        usize::try_from(page.saturating_sub(1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let take = usize::try_from(page_size).unwrap_or(0);
    store
        .partition_slice(&dept.partition(), prefix, skip, take)
        .await
}

/// Stages what every change in a department carries: the workspace's writability
/// and the change's event about `subject`.
pub fn stage_change<S: relinx_model::EventSubject>(
    tx: &mut Tx,
    store: &Store,
    ctx: &Context,
    dept: &Department,
    name: EventName,
    subject: &S,
) {
    stage_writable(tx, store, ctx, dept);
    tx.event_about(store, ctx, name, Some(&dept.workspace), subject);
}

/// Changes the department's item at `sk` (a contact, an activity) as `change` says:
/// read, changed and written back under its version (`versioned::modify`); absent,
/// the item's 404.
pub(crate) async fn modify<T, R, F, Fut>(
    store: &Store,
    dept: &Department,
    sk: String,
    change: F,
) -> Result<R, StoreError>
where
    T: relinx_model::EventSubject + serde::Serialize + serde::de::DeserializeOwned,
    F: FnMut(T, Tx) -> Fut,
    Fut: std::future::Future<Output = Result<relinx_ddb::versioned::Changed<T, R>, StoreError>>,
{
    relinx_ddb::versioned::modify(
        store,
        dept.partition(),
        sk,
        || StoreError::NotFound(T::KIND),
        change,
    )
    .await
}

/// Refuses the transaction unless the department's workspace is writable.
pub fn stage_writable(tx: &mut Tx, store: &Store, ctx: &Context, dept: &Department) {
    relinx_identity::workspaces::stage_writable(tx, store, &ctx.org_id, &dept.workspace);
}

/// Allocates the department's next id on `counter` (`contact`, `activity`): one
/// atomic `ADD`, so ids are unique and increasing within the department.
pub(crate) async fn next_id(
    store: &Store,
    dept: &Department,
    counter: &str,
) -> Result<u64, StoreError> {
    let set = Cond::new("ADD #counter :one")
        .name("#counter", counter)
        .value(":one", n(1));
    let written = store
        .update(
            relinx_ddb::Table::Main,
            dept.partition(),
            ck::SEQUENCE_SK,
            set,
        )
        .returning_updated()
        .send()
        .await?;
    let relinx_ddb::Written::Applied(attributes) = written else {
        return Err(StoreError::internal(
            "allocate an id",
            "the counter refused",
        ));
    };
    attributes
        .as_ref()
        .and_then(|a| relinx_ddb::codec::get_n(a, counter))
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| StoreError::internal("allocate an id", "the counter returned nothing"))
}
