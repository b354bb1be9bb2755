//! A mapping: how a source's columns become a schema's fields (API.md "Datalinx
//! data"). Each field is an expression of relinx-expr over the source's columns,
//! typed by the columns' types; saving checks it all ([`compile`]), and mapping a
//! row ([`Compiled::map_row`]) applies the destination's own validation, so a
//! preview shows exactly what a run would refuse.

use crate::infer::ColumnType;
use crate::schema::Target;
use crate::source::{Column, Source};
use relinx_expr::{Datum, Expr, Fields, Type};
use relinx_model::{
    DataType, EventSubject, FieldDef, MappingId, SourceId, Timestamp, ValidationError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One field of a mapping: the target field, the expression that fills it, and a
/// value for when the expression gives nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = MappingField, example = json!({"target": "emails", "expr": "lower(trim(`E-mail`))"}))]
pub struct MappingField {
    pub target: String,
    /// A column's name, or an expression over columns (a name that is not a plain
    /// identifier in backticks).
    pub expr: String,
    /// When the expression gives null or an empty string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
}

/// A mapping as stored. The schema version it was built on is `pinned_version`
/// (`version` is the optimistic-update helper's).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    pub id: MappingId,
    pub name: String,
    pub source_id: SourceId,
    /// `sch_…`, or `contact` / `record`.
    pub schema_id: String,
    #[serde(rename = "pinned_version")]
    pub schema_version: u32,
    pub fields: Vec<MappingField>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// How many pipelines run it (a mapping in use is not deleted).
    #[serde(default)]
    pub in_use: i64,
}

/// A mapping as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Mapping)]
pub struct MappingView {
    pub id: MappingId,
    pub name: String,
    pub source_id: SourceId,
    pub schema_id: String,
    /// The schema version the mapping was built on.
    pub schema_version: u32,
    pub fields: Vec<MappingField>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Mapping {
    pub fn view(&self) -> MappingView {
        MappingView {
            id: self.id.clone(),
            name: self.name.clone(),
            source_id: self.source_id.clone(),
            schema_id: self.schema_id.clone(),
            schema_version: self.schema_version,
            fields: self.fields.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl crate::named::Named for Mapping {
    const PREFIX: &'static str = relinx_ddb::keys::data::MAPPING;
    const NAME_PREFIX: &'static str = relinx_ddb::keys::data::MAPPING_NAME;
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: &relinx_model::Name) {
        self.name = name.to_string();
    }
}

impl EventSubject for Mapping {
    const KIND: &'static str = "mapping";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> Value {
        relinx_model::event::data_of(&self.view())
    }
}

/// The type a column's values have in an expression. A date column is a date only
/// when its values share a format (else text, as written).
pub fn column_type(column: &Column) -> Type {
    match column.column_type() {
        ColumnType::Integer | ColumnType::Number => Type::Number,
        ColumnType::Boolean => Type::Bool,
        ColumnType::Date if column.format.is_some() => Type::Date,
        ColumnType::Datetime => Type::Datetime,
        _ => Type::String,
    }
}

/// A cell as an expression sees it: typed by its column (an empty cell is null).
/// A cell its column's type does not read (a later upload's) stays text.
pub fn cell(value: &str, column: &Column) -> Datum {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Datum::Null;
    }
    let typed = match column_type(column) {
        Type::Number => trimmed
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Datum::Number),
        Type::Bool => match trimmed.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Some(Datum::Bool(true)),
            "false" | "no" | "n" | "0" => Some(Datum::Bool(false)),
            _ => None,
        },
        Type::Date => column
            .format
            .as_deref()
            .and_then(|f| chrono::NaiveDate::parse_from_str(trimmed, f).ok())
            .map(Datum::Date),
        Type::Datetime => datetime(trimmed).map(Datum::Datetime),
        _ => None,
    };
    typed.unwrap_or_else(|| Datum::String(value.to_owned()))
}

fn datetime(value: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(value)
        .ok()
        .or_else(|| {
            ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
                .map(|naive| naive.and_utc().fixed_offset())
        })
}

/// Whether a value of type `given` can fill a field of `target` type.
fn fits(given: Type, target: DataType) -> bool {
    use DataType as D;
    match (given, target) {
        (Type::Any | Type::Null, _) | (_, D::Json) => true,
        (Type::Array, _) => false,
        (_, D::String) => true,
        (Type::String, D::Email | D::Url | D::Enum) => true,
        (Type::Number, D::Integer | D::Number) => true,
        (Type::Bool, D::Boolean) => true,
        (Type::Date, D::Date | D::Datetime) => true,
        (Type::Datetime, D::Datetime) => true,
        _ => false,
    }
}

/// What a conversion to fix a type mismatch looks like, for the message.
fn hint(target: DataType) -> &'static str {
    match target {
        DataType::Integer | DataType::Number => " (to_number(x) reads text as a number)",
        DataType::Boolean => " (to_bool(x) reads yes/no)",
        DataType::Date => " (to_date(x, \"%d/%m/%Y\") reads text as a date)",
        _ => "",
    }
}

fn type_name(t: Type) -> &'static str {
    match t {
        Type::Null => "null",
        Type::Bool => "a boolean",
        Type::Number => "a number",
        Type::String => "text",
        Type::Date => "a date",
        Type::Datetime => "a date and time",
        Type::Array => "a list",
        Type::Any => "a value",
    }
}

/// One checked field of a mapping.
#[derive(Debug, Clone)]
struct CompiledField {
    def: FieldDef,
    expr: Option<Expr>,
    default: Option<Datum>,
}

/// A mapping checked against its source's columns and its schema's fields, ready
/// to map rows.
#[derive(Debug, Clone)]
pub struct Compiled {
    fields: Vec<CompiledField>,
    columns: Vec<Column>,
}

fn unprocessable(field: String, message: String) -> ValidationError {
    ValidationError::new(field, message)
}

/// Checks `fields` against the source's columns and the schema's `defs`: every
/// target is a field (once), every required field has an expr or a default, every
/// expr parses over the columns and gives what its field takes, every default fits.
/// The error names the mapping field and the position in its expr.
pub fn compile(
    source: &Source,
    defs: &[FieldDef],
    fields: &[MappingField],
) -> Result<Compiled, ValidationError> {
    if fields.is_empty() {
        return Err(unprocessable(
            "fields".into(),
            "map at least one field".into(),
        ));
    }
    let names: Vec<&str> = source.columns.iter().map(|c| c.name.as_str()).collect();
    let known = Fields::new(&names, &[]);
    let mut compiled = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        let Some(def) = defs.iter().find(|d| d.name == field.target) else {
            let all: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
            return Err(unprocessable(
                format!("fields[{i}].target"),
                format!(
                    "{:?} is not a field of the schema; its fields are {}",
                    field.target,
                    all.join(", ")
                ),
            ));
        };
        if fields[..i].iter().any(|f| f.target == field.target) {
            return Err(unprocessable(
                format!("fields[{i}].target"),
                format!("{:?} is mapped twice", field.target),
            ));
        }
        let expr = if field.expr.trim().is_empty() {
            None
        } else if names.contains(&field.expr.as_str()) {
            // A column's name alone is that column, whatever characters it holds.
            Some(Expr::Field(
                vec![field.expr.clone()],
                relinx_expr::Column(1),
            ))
        } else {
            Some(Expr::parse(&field.expr, &known).map_err(|e| {
                let hint = if source.columns.is_empty() {
                    " (the source has no columns yet: upload rows first)"
                } else {
                    ""
                };
                unprocessable(
                    format!("fields[{i}].expr"),
                    format!(
                        "for {:?}, at column {}: {}{hint}",
                        field.target, e.column, e.message
                    ),
                )
            })?)
        };
        if let Some(expr) = &expr {
            let given = expr
                .type_of(&|path| source.column(&path[0]).map_or(Type::Any, column_type))
                .map_err(|e| {
                    unprocessable(
                        format!("fields[{i}].expr"),
                        format!(
                            "for {:?}, at column {}: {}",
                            field.target, e.column, e.message
                        ),
                    )
                })?;
            if !fits(given, def.data_type) {
                return Err(unprocessable(
                    format!("fields[{i}].expr"),
                    format!(
                        "for {:?}, at column {}: {} gives {}, and {:?} is a{} {} field{}",
                        field.target,
                        expr.column(),
                        field.expr,
                        type_name(given),
                        field.target,
                        if matches!(
                            def.data_type,
                            DataType::Integer | DataType::Email | DataType::Enum | DataType::Url
                        ) {
                            "n"
                        } else {
                            ""
                        },
                        def.data_type.as_str(),
                        hint(def.data_type)
                    ),
                ));
            }
        }
        let default = match &field.default {
            None | Some(Value::Null) => None,
            Some(value) => {
                let datum = Datum::from_json(value.clone());
                convert(&datum, def).map_err(|message| {
                    unprocessable(
                        format!("fields[{i}].default"),
                        format!("for {:?}: {message}", field.target),
                    )
                })?;
                Some(datum)
            }
        };
        if expr.is_none() && default.is_none() {
            return Err(unprocessable(
                format!("fields[{i}].expr"),
                format!("for {:?}: give an expr, a default, or both", field.target),
            ));
        }
        compiled.push(CompiledField {
            def: def.clone(),
            expr,
            default,
        });
    }
    if let Some(missing) = defs
        .iter()
        .find(|d| d.required && !fields.iter().any(|f| f.target == d.name))
    {
        return Err(unprocessable(
            "fields".into(),
            format!(
                "the schema's required field {:?} is not mapped: give it an expr or a default",
                missing.name
            ),
        ));
    }
    Ok(Compiled {
        fields: compiled,
        columns: source.columns.clone(),
    })
}

/// A value as a field of `def`'s type holds it, or why it cannot be.
pub fn convert(datum: &Datum, def: &FieldDef) -> Result<Value, String> {
    use DataType as D;
    let shown = || datum.to_json().to_string();
    match (def.data_type, datum) {
        (_, Datum::Null) => Ok(Value::Null),
        // A cell holding a JSON object or array (a CSV column of JSON) is that value.
        (D::Json, Datum::String(s)) => Ok(match serde_json::from_str::<Value>(s.trim()) {
            Ok(value @ (Value::Object(_) | Value::Array(_))) => value,
            _ => Value::String(s.clone()),
        }),
        (D::Json, d) => Ok(d.to_json()),
        (D::String, Datum::String(s)) => Ok(Value::String(s.clone())),
        (D::String, Datum::Array(_) | Datum::Json(_)) => Err(format!("{} is not text", shown())),
        (D::String, d) => Ok(Value::String(match d.to_json() {
            Value::String(s) => s,
            other => other.to_string(),
        })),
        (D::Integer, Datum::Number(n)) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => {
            Ok(Value::from(*n as i64))
        }
        (D::Integer, _) => Err(format!("{} is not a whole number", shown())),
        (D::Number, Datum::Number(_)) => Ok(datum.to_json()),
        (D::Number, _) => Err(format!("{} is not a number", shown())),
        (D::Boolean, Datum::Bool(b)) => Ok(Value::Bool(*b)),
        (D::Boolean, _) => Err(format!("{} is not true or false", shown())),
        (D::Date, Datum::Date(_)) => Ok(datum.to_json()),
        (D::Date, _) => Err(format!("{} is not a date", shown())),
        (D::Datetime, Datum::Datetime(_)) => Ok(datum.to_json()),
        (D::Datetime, Datum::Date(d)) => Ok(Value::String(format!("{d}T00:00:00Z"))),
        (D::Datetime, _) => Err(format!("{} is not a date and time", shown())),
        (D::Email, Datum::String(s)) => relinx_model::Email::parse(&def.name, s)
            .map(|_| Value::String(s.clone()))
            .map_err(|e| e.message),
        (D::Url, Datum::String(s)) => match url::Url::parse(s.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(Value::String(s.clone())),
            _ => Err(format!("{s:?} is not an http(s) URL")),
        },
        (D::Enum, Datum::String(s)) => {
            let choices = def.choices.as_deref().unwrap_or_default();
            if choices.contains(s) {
                Ok(Value::String(s.clone()))
            } else {
                Err(format!("{s:?} is not one of {}", choices.join(", ")))
            }
        }
        (D::Email | D::Url | D::Enum, _) => Err(format!("{} is not text", shown())),
    }
}

/// One rejected value of a mapped row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// The row's number (from 1, in the rows mapped).
    pub row: u64,
    pub field: String,
    pub message: String,
}

impl Compiled {
    /// Maps one row (its values under `columns`) onto the schema: the mapped object
    /// (a value that failed is null), and what the destination (`target`) refuses
    /// of it, by field.
    pub fn map_row(
        &self,
        row_number: u64,
        columns: &[String],
        values: &[String],
        target: &Target,
    ) -> (Map<String, Value>, Vec<RowError>) {
        let lookup = |path: &[String]| -> Option<Datum> {
            let name = path.first()?;
            let at = columns.iter().position(|c| c == name)?;
            let raw = values.get(at)?;
            let column = self.columns.iter().find(|c| &c.name == name)?;
            Some(cell(raw, column))
        };
        let mut out = Map::new();
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(RowError {
                row: row_number,
                field: field.to_owned(),
                message,
            });
        };
        // Contacts and records check values their own way (below); a workspace's
        // schema is checked here, field by field.
        let own_rules = matches!(target, Target::Own(_));
        for field in &self.fields {
            let mut datum = match &field.expr {
                Some(expr) => match expr.evaluate(&lookup) {
                    Ok(d) => d,
                    Err(e) => {
                        fail(
                            &field.def.name,
                            format!("at column {}: {}", e.column, e.message),
                        );
                        out.insert(field.def.name.clone(), Value::Null);
                        continue;
                    }
                },
                None => Datum::Null,
            };
            let empty = matches!(&datum, Datum::Null)
                || matches!(&datum, Datum::String(s) if s.trim().is_empty());
            if empty && let Some(default) = &field.default {
                datum = default.clone();
            }
            match convert(&datum, &field.def) {
                Ok(Value::Null) if own_rules && field.def.required => {
                    fail(
                        &field.def.name,
                        "is required, and the row has no value for it".into(),
                    );
                    out.insert(field.def.name.clone(), Value::Null);
                }
                Ok(value) => {
                    out.insert(field.def.name.clone(), value);
                }
                Err(message) if own_rules => {
                    fail(&field.def.name, message);
                    out.insert(field.def.name.clone(), Value::Null);
                }
                // The destination's own rules judge it (below), with the value as given.
                Err(_) => {
                    out.insert(field.def.name.clone(), datum.to_json());
                }
            }
        }
        match target {
            Target::Contact(custom) => {
                if let Err(e) =
                    relinx_crm::contact::ContactInput::parse(&without_nulls(&out), custom)
                {
                    fail(&e.field, e.message);
                }
            }
            Target::Record => {
                if let Err(e) = record_of(&out) {
                    fail(&e.field, e.message);
                }
            }
            Target::Own(_) => {}
        }
        (out, errors)
    }
}

/// The object without its null values (a contact save reads a null as "clear").
fn without_nulls(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The record a mapped row makes, checked by the records domain itself.
pub fn record_of(map: &Map<String, Value>) -> Result<relinx_records::NewRecord, ValidationError> {
    let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or_default();
    let status = match map.get("status") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value::<relinx_records::Status>(value.clone()).map_err(|_| {
                ValidationError::new("status", format!("{value} is not a record status"))
            })?,
        ),
    };
    let data = match map.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(object)) => object.clone(),
        Some(other) => {
            return Err(ValidationError::new(
                "data",
                format!("{other} is not a JSON object"),
            ));
        }
    };
    relinx_records::NewRecord::new(text("title"), text("type"), text("site"), status, data)
}
