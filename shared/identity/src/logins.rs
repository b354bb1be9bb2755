//! Login credentials: one per e-mail address across the deployment (login names no
//! org), the password hash kept only here.

use crate::keys;
use relinx_ddb::codec::s;
use relinx_ddb::tx::Cond;
use relinx_ddb::{Store, StoreError, Table, versioned};
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
    let set = versioned::bump_values(Cond::new(format!(
        "SET last_login_at = :at ADD {}",
        versioned::BUMP
    )))
    .value(":at", s(at.to_string()));
    let recorded = store
        .update(Table::Main, keys::org(org), keys::user_sk(user), set)
        .if_present()
        .apply()
        .await?;
    if recorded {
        Ok(())
    } else {
        Err(StoreError::NotFound("user"))
    }
}
