//! Free-form JSON a caller stores (a workspace's `config`, a record's `data`, …)
//! must fit what DynamoDB can hold, or the write fails inside DynamoDB as a 500.
//! Checked up front, each problem named by its path.

use crate::ValidationError;
use serde_json::Value;

/// DynamoDB nests documents at most 32 levels deep.
pub const MAX_DEPTH: usize = 32;
/// A generous share of DynamoDB's 400 KB item, leaving room for the rest of the item.
pub const MAX_BYTES: usize = 300 * 1024;
/// DynamoDB numbers: magnitudes from 1E-130 up to (not including) 1E+126.
const MIN_MAGNITUDE: f64 = 1e-130;
const MAX_MAGNITUDE_EXCLUSIVE: f64 = 1e126;

/// Checks that `value` can be stored as the attribute `field`.
pub fn check_storable(field: &str, value: &Value) -> Result<(), ValidationError> {
    let size = serde_json::to_vec(value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_BYTES {
        return Err(ValidationError::new(
            field,
            format!("is {size} bytes of JSON; at most {MAX_BYTES} can be stored"),
        ));
    }
    walk(field, value, 1)
}

fn walk(path: &str, value: &Value, depth: usize) -> Result<(), ValidationError> {
    match value {
        Value::Object(map) => {
            if depth > MAX_DEPTH {
                return Err(too_deep(path));
            }
            for (key, inner) in map {
                if key.is_empty() {
                    return Err(ValidationError::new(
                        path,
                        "has an empty key; every key needs at least one character",
                    ));
                }
                walk(&format!("{path}.{key}"), inner, depth + 1)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            if depth > MAX_DEPTH {
                return Err(too_deep(path));
            }
            for (i, inner) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), inner, depth + 1)?;
            }
            Ok(())
        }
        Value::Number(number) => {
            let magnitude = number.as_f64().map(f64::abs).unwrap_or(f64::INFINITY);
            if magnitude == 0.0 || (MIN_MAGNITUDE..MAX_MAGNITUDE_EXCLUSIVE).contains(&magnitude) {
                Ok(())
            } else {
                Err(ValidationError::new(
                    path,
                    format!(
                        "{number} is out of range; numbers must be 0 or between 1e-130 and 9.99e125 in magnitude"
                    ),
                ))
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

fn too_deep(path: &str) -> ValidationError {
    ValidationError::new(
        path,
        format!("nests deeper than {MAX_DEPTH} levels; flatten it"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        (0..levels).fold(json!(1), |inner, _| json!({ "a": inner }))
    }

    #[test]
    fn what_dynamodb_cannot_hold_is_named_by_its_path() {
        assert!(check_storable("config", &json!({"a": [1, 2.5, "x", null, {"b": true}]})).is_ok());
        assert!(check_storable("config", &nested(MAX_DEPTH)).is_ok());
        let deep = check_storable("config", &nested(MAX_DEPTH + 1)).expect_err("deep");
        assert!(deep.field.starts_with("config.a"), "{deep:?}");
        for (bad, at) in [
            (json!({"x": 1e300}), "config.x"),
            (json!({"x": -1e300}), "config.x"),
            (json!({"x": [1e-200]}), "config.x[0]"),
            (json!({"ok": {"": 1}}), "config.ok"),
        ] {
            let err = check_storable("config", &bad).expect_err(&bad.to_string());
            assert_eq!(err.field, at, "{bad}");
        }
        assert!(check_storable("config", &json!({"x": 0.0, "y": 1e125, "z": -1e-130})).is_ok());
        let big = json!({"x": "y".repeat(MAX_BYTES)});
        assert_eq!(
            check_storable("config", &big).expect_err("big").field,
            "config"
        );
    }
}
