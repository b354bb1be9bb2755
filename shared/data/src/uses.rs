//! Mappings are built on a source and a schema, pipelines run a source and a
//! mapping; each counts its uses (`in_use`, bumped with its version in the user's
//! transaction: see `Scope::stage_use`), so deleting one in use is refused, naming
//! what uses it.

use crate::mapping::Mapping;
use crate::pipeline::Pipeline;
use crate::scope::Scope;
use relinx_ddb::{Store, StoreError};
use relinx_model::ErrorCode;

/// The 409 for deleting the source, schema or mapping `id` (`what`) while a
/// pipeline or mapping uses it, naming one.
pub(crate) async fn refusal(store: &Store, scope: &Scope, what: &str, id: &str) -> StoreError {
    let in_use = |kind: &str, name: &str| {
        StoreError::conflict(
            ErrorCode::InUse,
            format!("the {kind} {name:?} uses this {what}: delete it first"),
        )
    };
    let pipelines: Vec<Pipeline> = match scope.all(store).await {
        Ok(all) => all,
        Err(e) => return e,
    };
    if let Some(p) = pipelines
        .iter()
        .find(|p| p.source_id.as_str() == id || p.mapping_id.as_str() == id)
    {
        return in_use("pipeline", &p.name);
    }
    let mappings: Vec<Mapping> = match scope.all(store).await {
        Ok(all) => all,
        Err(e) => return e,
    };
    match mappings
        .iter()
        .find(|m| m.source_id.as_str() == id || m.schema_id == id)
    {
        Some(m) => in_use("mapping", &m.name),
        // Counted but not found: a user's transaction is landing; retry.
        None => StoreError::Stale,
    }
}
