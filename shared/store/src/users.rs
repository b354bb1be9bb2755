//! Users and their login credentials.

use crate::codec::{from_item, key, s};
use crate::{Store, StoreError, keys};
use relinx_model::{Email, OrgId, Timestamp, User, UserId};
use serde::{Deserialize, Serialize};

/// What login needs for an e-mail address; the password hash lives only here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRecord {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub password_hash: String,
}

pub async fn login_record(store: &Store, email: &Email) -> Result<Option<LoginRecord>, StoreError> {
    let item = store
        .client()
        .get_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(keys::login(email.as_str()), keys::LOGIN_SK)))
        .consistent_read(true)
        .send()
        .await?
        .item;
    item.map(from_item).transpose()
}

pub async fn get(store: &Store, org: &OrgId, user: &UserId) -> Result<User, StoreError> {
    let item = store
        .client()
        .get_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(keys::org(org), keys::user_sk(user))))
        .send()
        .await?
        .item
        .ok_or(StoreError::NotFound("user"))?;
    from_item(item)
}

/// Records a successful login. Not an audited change: it mutates only a timestamp.
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
        .update_expression("SET last_login_at = :at")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":at", s(at.to_string()))
        .send()
        .await?;
    Ok(())
}
