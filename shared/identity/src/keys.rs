//! Identity's item keys, built from the prefixes it registered in
//! `relinx_ddb::keys::identity`.

use relinx_ddb::keys::identity as prefix;
use relinx_model::{ApiKeyId, ServiceAccountId, UserId, WorkspaceId};

pub(crate) use relinx_ddb::keys::identity::{
    API_KEY as API_KEY_SK_PREFIX, INVITE_SK as INVITE_TOKEN_SK, KEY_CREDENTIAL_SK, LOGIN_SK,
    ORG as ORG_SK, ROLE as ROLE_SK_PREFIX, SERVICE_ACCOUNT as SERVICE_ACCOUNT_SK_PREFIX,
    USER as USER_SK_PREFIX, WORKSPACE as WORKSPACE_SK_PREFIX,
};
pub(crate) use relinx_ddb::keys::org;

pub(crate) fn workspace_sk(ws: &WorkspaceId) -> String {
    format!("{}{ws}", prefix::WORKSPACE)
}

/// A workspace name's guard; `name_key` is the name in its compared form.
pub(crate) fn workspace_name_sk(name_key: &str) -> String {
    format!("{}{name_key}", prefix::WORKSPACE_NAME)
}

pub(crate) fn user_sk(user: &UserId) -> String {
    format!("{}{user}", prefix::USER)
}

/// An org's guard on a member's e-mail address: one member (or invite) per address.
pub(crate) fn member_email_sk(email: &str) -> String {
    format!("{}{email}", prefix::MEMBER_EMAIL)
}

/// A pending invite, looked up by the hash of its token (the token names no org).
pub(crate) fn invite_token(hash: &str) -> String {
    format!("{}{hash}", prefix::INVITE)
}

pub(crate) fn service_account_sk(id: &ServiceAccountId) -> String {
    format!("{}{id}", prefix::SERVICE_ACCOUNT)
}

/// A service account name's guard; `name_key` is the name in its compared form.
pub(crate) fn service_account_name_sk(name_key: &str) -> String {
    format!("{}{name_key}", prefix::SERVICE_ACCOUNT_NAME)
}

/// The login credential of an e-mail address: global, since login names no org.
pub(crate) fn login(email: &str) -> String {
    format!("{}{email}", prefix::LOGIN)
}

pub(crate) fn api_key_sk(id: &ApiKeyId) -> String {
    format!("{}{id}", prefix::API_KEY)
}

/// The verification record of a key, looked up by id alone (a key names no org).
pub(crate) fn key_credential(id: &ApiKeyId) -> String {
    format!("{}{id}", prefix::KEY_CREDENTIAL)
}

pub(crate) fn role_sk(name: &str) -> String {
    format!("{}{name}", prefix::ROLE)
}
