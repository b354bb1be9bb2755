//! Mappings are built on a source and a schema, which count their uses (`in_use`,
//! bumped with their version in the mapping's transaction: see `Scope::stage_use`):
//! deleting one in use is refused, naming a mapping that uses it.

use crate::mapping::Mapping;
use crate::scope::Scope;
use relinx_ddb::{Store, StoreError};
use relinx_model::ErrorCode;

/// The 409 for deleting the source or schema `id` (`what`) while a mapping is
/// built on it, naming one.
pub(crate) async fn refusal(store: &Store, scope: &Scope, what: &str, id: &str) -> StoreError {
    match scope.all::<Mapping>(store).await {
        Ok(all) => match all
            .into_iter()
            .find(|m| m.source_id.as_str() == id || m.schema_id == id)
        {
            Some(mapping) => StoreError::conflict(
                ErrorCode::InUse,
                format!(
                    "the mapping {:?} is built on this {what}: delete it first",
                    mapping.name
                ),
            ),
            // Counted but not found: a mapping's transaction is landing; retry.
            None => StoreError::Stale,
        },
        Err(e) => e,
    }
}
