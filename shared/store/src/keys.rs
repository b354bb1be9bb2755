//! The key schema of the main table, in one place. Every item of an org lives under
//! `ORG#{org}`, so a Query for one org can never return another's items.

use relinx_model::{ApiKeyId, OrgId, WorkspaceId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// The TTL attribute of the main table (epoch seconds), as template.yaml declares it.
pub const TTL: &str = "ttl";

pub fn org(org: &OrgId) -> String {
    format!("ORG#{org}")
}

pub const ORG_SK: &str = "ORG";

pub fn workspace_sk(ws: &WorkspaceId) -> String {
    format!("WS#{ws}")
}
pub const WORKSPACE_SK_PREFIX: &str = "WS#";

pub fn workspace_name_sk(name_key: &str) -> String {
    format!("WSNAME#{name_key}")
}

pub fn user_sk(user: &relinx_model::UserId) -> String {
    format!("USER#{user}")
}
pub const USER_SK_PREFIX: &str = "USER#";

/// An org's guard on a member's e-mail address: one member (or invite) per address.
pub fn member_email_sk(email: &str) -> String {
    format!("EMAIL#{email}")
}

/// A pending invite, looked up by the hash of its token (the token names no org).
pub fn invite_token(hash: &str) -> String {
    format!("INVITE#{hash}")
}
pub const INVITE_TOKEN_SK: &str = "INVITE";

pub fn service_account_sk(id: &relinx_model::ServiceAccountId) -> String {
    format!("SA#{id}")
}
pub const SERVICE_ACCOUNT_SK_PREFIX: &str = "SA#";

/// The login credential of an e-mail address: global, since login names no org.
pub fn login(email: &str) -> String {
    format!("LOGIN#{email}")
}
pub const LOGIN_SK: &str = "LOGIN";

pub fn api_key_sk(id: &ApiKeyId) -> String {
    format!("KEY#{id}")
}
pub const API_KEY_SK_PREFIX: &str = "KEY#";

/// The verification record of a key, looked up by id alone (a key names no org).
pub fn key_credential(id: &ApiKeyId) -> String {
    format!("APIKEY#{id}")
}
pub const KEY_CREDENTIAL_SK: &str = "APIKEY";

pub fn idempotency(org: &OrgId, key: &str) -> String {
    format!("IDEM#{org}#{key}")
}
pub const IDEMPOTENCY_SK: &str = "IDEM";

/// A rate-limit window of a bucket (an org id, or `login-ip:…` and the like).
pub fn rate_window(bucket: &str, window_start: i64) -> String {
    format!("RL#{bucket}#{window_start}")
}
pub const RATE_WINDOW_SK: &str = "RL";

/// Events are kept per org, sorted by their time-ordered id.
pub fn event_partition(org: &OrgId) -> String {
    format!("ORG#{org}")
}
