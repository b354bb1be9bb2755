//! What a field of a shape holds (Datalinx schemas; API.md "Datalinx data"): the
//! types rows are mapped onto, and each field's definition. The domains describe
//! their own entities with it (a record, a contact with its department's custom
//! fields), from the definitions their own validation uses, so the built-in schemas
//! can never drift from what those domains accept.

use serde::{Deserialize, Serialize};

/// A field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    String,
    Integer,
    Number,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339.
    Datetime,
    /// One address (a contact's `emails` takes several, separated by `;`).
    Email,
    /// An http(s) URL.
    Url,
    /// One of the field's `enum` values.
    Enum,
    /// Any JSON value.
    Json,
}

impl DataType {
    pub const ALL: [DataType; 10] = [
        DataType::String,
        DataType::Integer,
        DataType::Number,
        DataType::Boolean,
        DataType::Date,
        DataType::Datetime,
        DataType::Email,
        DataType::Url,
        DataType::Enum,
        DataType::Json,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::String => "string",
            DataType::Integer => "integer",
            DataType::Number => "number",
            DataType::Boolean => "boolean",
            DataType::Date => "date",
            DataType::Datetime => "datetime",
            DataType::Email => "email",
            DataType::Url => "url",
            DataType::Enum => "enum",
            DataType::Json => "json",
        }
    }
}

/// One field of a shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldDef {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: DataType,
    #[serde(default)]
    pub required: bool,
    /// The values an `enum` field takes.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl FieldDef {
    /// A field of `name` and `data_type`, optional, with `description`.
    pub fn new(name: &str, data_type: DataType, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            data_type,
            required: false,
            choices: None,
            description: Some(description.to_owned()),
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// An `enum` field of these values.
    pub fn one_of(mut self, choices: impl IntoIterator<Item = String>) -> Self {
        self.data_type = DataType::Enum;
        self.choices = Some(choices.into_iter().collect());
        self
    }
}
