//! AttributeValue ↔ domain conversions in one place.

use crate::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Serialize, de::DeserializeOwned};
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn boolean(value: bool) -> AttributeValue {
    AttributeValue::Bool(value)
}

/// Bytes (a blob: staged rows, compressed).
pub fn binary(value: Vec<u8>) -> AttributeValue {
    AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(value))
}

/// The bytes of a binary attribute.
pub fn get_b<'a>(item: &'a Item, name: &str) -> Option<&'a [u8]> {
    item.get(name)
        .and_then(|v| v.as_b().ok())
        .map(|blob| blob.as_ref())
}

/// A string set (for `ADD` / `DELETE` on a set attribute, or `contains`).
pub fn string_set(values: impl IntoIterator<Item = String>) -> AttributeValue {
    AttributeValue::Ss(values.into_iter().collect())
}

/// The item for `value` with its keys added. A `None` is no attribute at all, never a
/// `NULL` one: conditions such as `attribute_not_exists(failing_since)` must see an
/// absent optional field as absent (serde_dynamo writes `NULL` for it), and reading
/// the item back gives `None` either way. Only top-level attributes are dropped: a
/// `null` inside a map is data someone gave (a record's JSON, a contact's field).
pub fn to_item<T: Serialize>(value: &T, pk: String, sk: String) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(value).map_err(|e| StoreError::internal("encode item", e))?;
    item.retain(|_, attribute| !attribute.is_null());
    item.insert(crate::keys::PK.to_owned(), s(pk));
    item.insert(crate::keys::SK.to_owned(), s(sk));
    Ok(item)
}

/// `value` as one attribute (a map, a list, …), for an update's `SET`.
pub fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| StoreError::internal("encode an attribute", e))
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::internal("decode item", e))
}

pub fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([
        (crate::keys::PK.to_owned(), s(pk)),
        (crate::keys::SK.to_owned(), s(sk)),
    ])
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// The string attributes of an item (a position to continue a Query from).
pub fn string_attributes(item: &Item) -> std::collections::BTreeMap<String, String> {
    item.iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone())))
        .collect()
}

/// An item of string attributes (a position a Query continues after).
pub fn string_item(attributes: &std::collections::BTreeMap<String, String>) -> Item {
    attributes.iter().map(|(k, v)| (k.clone(), s(v))).collect()
}

pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|raw| raw.parse().ok())
}

/// An opaque list cursor: the sort key to continue after, base64url. The partition is
/// always rebuilt from the caller's org, so a cursor cannot reach another org.
pub fn encode_cursor(sk: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sk)
}

pub fn decode_cursor(cursor: &str, expected_prefix: &str) -> Result<String, StoreError> {
    use base64::Engine;
    let invalid = || {
        StoreError::Invalid(relinx_model::ValidationError::new(
            "cursor",
            "is not a cursor this list returned; start again without it",
        ))
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let sk = String::from_utf8(bytes).map_err(|_| invalid())?;
    if !sk.starts_with(expected_prefix) {
        return Err(invalid());
    }
    Ok(sk)
}

/// Which page of a cursor list to answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// A `next_cursor` this list gave; none: the first page.
    pub cursor: Option<String>,
    /// At most this many items.
    pub limit: i32,
}

/// One page of a cursor list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Stored {
        name: String,
        failing_since: Option<String>,
        fields: std::collections::BTreeMap<String, Option<String>>,
    }

    #[test]
    fn an_absent_option_is_no_attribute_and_a_given_null_in_a_map_is_kept() {
        let value = Stored {
            name: "a".into(),
            failing_since: None,
            fields: [("phone".to_owned(), None)].into(),
        };
        let item = to_item(&value, "P".into(), "S".into()).unwrap();
        assert!(!item.contains_key("failing_since"), "{item:?}");
        let fields = item["fields"].as_m().unwrap();
        assert!(fields["phone"].is_null(), "a null someone gave stays");
        let back: Stored = from_item(item).unwrap();
        assert_eq!(back, value);
    }
}
