//! Role names → permission sets. Built-in roles only for now; custom roles are
//! org data and resolve through here as well.

use relinx_model::{BuiltinRole, PermissionSet};

/// The permissions of a role by name, or `None` for a role that does not exist.
pub fn permissions_of(role: &str) -> Option<PermissionSet> {
    BuiltinRole::parse(role).map(|r| r.permissions())
}

/// Parses a role named in a request; unknown names are a 400 naming the field.
pub fn parse(
    field: &str,
    role: &str,
) -> Result<(String, PermissionSet), relinx_model::ValidationError> {
    permissions_of(role)
        .map(|p| (role.to_owned(), p))
        .ok_or_else(|| {
            relinx_model::ValidationError::new(
                field,
                format!("{role:?} is not a role; use one of owner, admin, operator, viewer"),
            )
        })
}
