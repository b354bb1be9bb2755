//! Login credentials: one per e-mail address across the deployment (login names no
//! org), the password hash kept only here.

use crate::keys;
use relinx_ddb::codec::{key, s};
use relinx_ddb::{Store, StoreError, versioned};
use relinx_model::{Email, OrgId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// What login needs for an e-mail address.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRecord {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub password_hash: String,
}

pub async fn login_record(store: &Store, email: &Email) -> Result<Option<LoginRecord>, StoreError> {
    store.get(keys::login(email.as_str()), keys::LOGIN_SK).await
}

/// Records a successful login on the member. Not an audited change: it mutates only
/// a timestamp (but bumps the member's version, so an update racing it re-reads).
pub async fn record_login(
    store: &Store,
    org: &OrgId,
    user: &UserId,
    at: Timestamp,
) -> Result<(), StoreError> {
    store
        .client()
        .update_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(keys::org(org), keys::user_sk(user))))
        .update_expression(format!("SET last_login_at = :at ADD {}", versioned::BUMP))
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":at", s(at.to_string()))
        .expression_attribute_names("#version", versioned::VERSION)
        .expression_attribute_values(":one", relinx_ddb::codec::n(1))
        .send()
        .await?;
    Ok(())
}
