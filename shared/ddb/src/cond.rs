//! Expressions with their placeholders: a condition (`Cond`) and an update
//! (`UpdateSpec`), what every write builds; below `tx` and `idempotency` both.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// Condition text with its placeholders' values.
#[derive(Debug, Clone)]
pub struct Cond {
    pub expression: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Cond {
    pub fn new(expression: impl Into<String>) -> Self {
        Self {
            expression: expression.into(),
            names: HashMap::new(),
            values: HashMap::new(),
        }
    }

    pub fn not_exists() -> Self {
        Self::new("attribute_not_exists(pk)")
    }

    pub fn exists() -> Self {
        Self::new("attribute_exists(pk)")
    }

    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }
}

/// An update expression with its condition.
pub struct UpdateSpec {
    pub pk: String,
    pub sk: String,
    pub set: Cond,
    pub condition: Option<Cond>,
}
