//! A schema: the shape rows are mapped onto (API.md "Datalinx data"). A workspace's
//! own schemas are versioned (a change of `fields` is a new version, the old ones
//! kept for the mappings pinned to them); the built-in `contact` and `record` are
//! the platform's entities as their domains define them, read-only.

use relinx_model::{DataType, EventSubject, FieldDef, Name, SchemaId, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};

/// The most fields a schema has.
pub const MAX_FIELDS: usize = 200;
const MAX_FIELD_NAME: usize = 64;
const MAX_CHOICES: usize = 500;
const MAX_TEXT: usize = 500;

/// A schema a request names: one of the workspace's, or a built-in one (by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaRef {
    Contact,
    Record,
    Own(SchemaId),
}

impl SchemaRef {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "contact" => Some(Self::Contact),
            "record" => Some(Self::Record),
            other => SchemaId::parse(other).map(Self::Own),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Contact => "contact",
            Self::Record => "record",
            Self::Own(id) => id.as_str(),
        }
    }
}

impl relinx_model::PathId for SchemaRef {
    const RESOURCE: &'static str = "schema";
    fn parse_path(raw: &str) -> Option<Self> {
        Self::parse(raw)
    }
}

impl utoipa::PartialSchema for SchemaRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^(contact|record|sch_[0-9A-HJKMNP-TV-Z]{26})$"))
            .description(Some(
                "A schema's id, or `contact` / `record` for the built-in ones",
            ))
            .examples(["contact"])
            .into()
    }
}

impl utoipa::ToSchema for SchemaRef {}

/// A workspace's own schema, as stored. Its version is stored as `schema_version`:
/// `version` is the optimistic-update helper's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Schema {
    pub id: SchemaId,
    pub name: String,
    pub fields: Vec<FieldDef>,
    #[serde(rename = "schema_version")]
    pub version: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// How many mappings are built on it (a schema in use is not deleted).
    #[serde(default)]
    pub in_use: i64,
}

/// One version of a schema's fields, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    #[serde(rename = "schema_version")]
    pub version: u32,
    pub fields: Vec<FieldDef>,
    pub created_at: Timestamp,
}

/// One version of a schema's fields, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SchemaVersion)]
pub struct VersionView {
    pub version: u32,
    pub fields: Vec<FieldDef>,
    pub created_at: Timestamp,
}

/// A schema as the API shows it (built-in or not).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Schema)]
pub struct SchemaView {
    /// `sch_…`, or `contact` / `record`.
    pub id: String,
    pub name: String,
    pub fields: Vec<FieldDef>,
    pub version: u32,
    /// `contact` and `record`: the platform's own entities, read-only.
    pub built_in: bool,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
}

impl Schema {
    pub fn view(&self) -> SchemaView {
        SchemaView {
            id: self.id.to_string(),
            name: self.name.clone(),
            fields: self.fields.clone(),
            version: self.version,
            built_in: false,
            created_at: Some(self.created_at),
            updated_at: Some(self.updated_at),
        }
    }
}

impl crate::named::Named for Schema {
    const PREFIX: &'static str = relinx_ddb::keys::data::SCHEMA;
    const NAME_PREFIX: &'static str = relinx_ddb::keys::data::SCHEMA_NAME;
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: &Name) {
        self.name = name.to_string();
    }
}

impl EventSubject for Schema {
    const KIND: &'static str = "schema";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        relinx_model::event::data_of(&self.view())
    }
}

impl Version {
    pub fn view(&self) -> VersionView {
        VersionView {
            version: self.version,
            fields: self.fields.clone(),
            created_at: self.created_at,
        }
    }
}

/// A schema's name: unique in the workspace, never a built-in one's.
pub fn schema_name(raw: &str) -> Result<Name, ValidationError> {
    let name = Name::parse("name", raw)?;
    if matches!(name.key().as_str(), "contact" | "record") {
        return Err(ValidationError::new(
            "name",
            format!("{raw:?} is a built-in schema's name"),
        ));
    }
    Ok(name)
}

/// Checks a schema's fields: names `[A-Za-z_][A-Za-z0-9_]*` (at most 64), unique
/// (ignoring case); an `enum` field lists its values, and only it does.
pub fn check_fields(fields: &[FieldDef]) -> Result<(), ValidationError> {
    if fields.is_empty() {
        return Err(ValidationError::new(
            "fields",
            "must list at least one field",
        ));
    }
    if fields.len() > MAX_FIELDS {
        return Err(ValidationError::new(
            "fields",
            format!("at most {MAX_FIELDS} fields"),
        ));
    }
    for (index, field) in fields.iter().enumerate() {
        let at = format!("fields[{index}]");
        let plain = field
            .name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && field
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain || field.name.len() > MAX_FIELD_NAME {
            return Err(ValidationError::new(
                format!("{at}.name"),
                format!(
                    "{:?} must be a letter or _ then letters, digits or _ (at most {MAX_FIELD_NAME})",
                    field.name
                ),
            ));
        }
        if fields[..index]
            .iter()
            .any(|f| f.name.eq_ignore_ascii_case(&field.name))
        {
            return Err(ValidationError::new(
                format!("{at}.name"),
                format!("{:?} appears twice", field.name),
            ));
        }
        match (&field.choices, field.data_type) {
            (None, DataType::Enum) => {
                return Err(ValidationError::new(
                    format!("{at}.enum"),
                    "an enum field lists its values",
                ));
            }
            (Some(choices), DataType::Enum) => check_choices(&at, choices)?,
            (Some(_), other) => {
                return Err(ValidationError::new(
                    format!("{at}.enum"),
                    format!(
                        "only an enum field lists values (this one is {})",
                        other.as_str()
                    ),
                ));
            }
            (None, _) => {}
        }
        if field
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_TEXT)
        {
            return Err(ValidationError::new(
                format!("{at}.description"),
                format!("at most {MAX_TEXT} characters"),
            ));
        }
    }
    Ok(())
}

fn check_choices(at: &str, choices: &[String]) -> Result<(), ValidationError> {
    if choices.is_empty() || choices.len() > MAX_CHOICES {
        return Err(ValidationError::new(
            format!("{at}.enum"),
            format!("1 to {MAX_CHOICES} values"),
        ));
    }
    for (i, choice) in choices.iter().enumerate() {
        if choice.trim().is_empty() || choice.chars().count() > MAX_TEXT {
            return Err(ValidationError::new(
                format!("{at}.enum[{i}]"),
                format!("1 to {MAX_TEXT} characters"),
            ));
        }
        if choices[..i].contains(choice) {
            return Err(ValidationError::new(
                format!("{at}.enum[{i}]"),
                format!("{choice:?} appears twice"),
            ));
        }
    }
    Ok(())
}

/// What a schema maps onto: the department's contacts (with its custom fields as
/// they are now), records, or the workspace's own shape.
#[derive(Debug, Clone)]
pub enum Target {
    Contact(relinx_crm::Schema),
    Record,
    Own(Schema),
}

/// A schema read for use: as shown, and what it maps onto.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub view: SchemaView,
    pub target: Target,
}
