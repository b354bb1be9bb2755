//! Identity and tenancy: who may do what, in which org and workspace.
//!
//! Organizations and signup, logins, members and invites, roles, API keys, service
//! accounts, workspaces and the resolution of the workspace a request acts on.
//!
//! This is a domain crate, the pattern every domain after it copies (README
//! "Layout"): it builds on `relinx-model` and `relinx-ddb` only; its key prefixes are
//! registered in `relinx_ddb::keys::identity`; each operation is
//! `(&Store, &Context, typed input) -> Result<T, StoreError>` and checks the
//! caller's permission first; every change is one transaction carrying its event;
//! every read-modify-write goes through `relinx_ddb::versioned::modify`; cached
//! copies are dropped after commit. Other domains call its public operations (a
//! workspace's writability, a role's permissions), never its items.

pub mod api_keys;
mod authority;
pub mod invites;
mod keys;
pub mod logins;
pub mod orgs;
pub mod roles;
pub mod service_accounts;
pub mod signup;
pub mod standing;
mod state;
pub mod users;
pub mod workspaces;
