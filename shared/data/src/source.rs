//! A source: where rows come from (API.md "Datalinx data"). An `upload` source takes
//! rows pushed to it, an `http` source names a URL fetched at run time (its headers
//! may hold credentials: sealed, never shown again), a `relinx` source is one of the
//! platform's own entities. Its `columns` are what its rows hold, inferred from every
//! upload and merged; a PUT may set a column's type.

use crate::infer::{ColumnProfile, ColumnType};
use relinx_model::{EventSubject, Name, SourceId, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The platform's own data a `relinx` source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RelinxEntity {
    Records,
    Contacts,
    Activities,
    Smartlinks,
    Clicks,
    Events,
}

/// A source's kind and its settings, as stored (an `http` source's headers sealed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceConfig {
    Upload {
        /// The delimiter of this source's CSV uploads when a request gives none
        /// (else sniffed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delimiter: Option<char>,
        /// The encoding of its CSV uploads when a request gives none (else
        /// detected).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encoding: Option<String>,
    },
    Http {
        url: String,
        /// The header names, shown; their values only sealed.
        #[serde(default)]
        header_names: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        headers_sealed: Option<String>,
    },
    Relinx {
        entity: RelinxEntity,
    },
}

impl SourceConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Upload { .. } => "upload",
            Self::Http { .. } => "http",
            Self::Relinx { .. } => "relinx",
        }
    }

    /// The config as the API shows it: a header's value is never shown again.
    pub fn view(&self) -> serde_json::Value {
        match self {
            Self::Upload {
                delimiter,
                encoding,
            } => {
                let mut map = serde_json::Map::new();
                if let Some(d) = delimiter {
                    map.insert("delimiter".into(), d.to_string().into());
                }
                if let Some(e) = encoding {
                    map.insert("encoding".into(), e.clone().into());
                }
                map.into()
            }
            Self::Http {
                url, header_names, ..
            } => serde_json::json!({
                "url": url,
                "headers": header_names
                    .iter()
                    .map(|h| (h.clone(), serde_json::Value::from(SEALED)))
                    .collect::<serde_json::Map<_, _>>(),
            }),
            Self::Relinx { entity } => serde_json::json!({ "entity": entity }),
        }
    }
}

/// What a sealed header's value shows as.
pub const SEALED: &str = "(sealed)";

/// One column of a source: what was inferred, and the type a PUT set, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub inferred: ColumnType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_type: Option<ColumnType>,
    pub nullable: bool,
    pub examples: Vec<String>,
    pub why: String,
    /// A date column's format (`%d/%m/%Y`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl Column {
    /// The column's type: the one set, else the one inferred.
    pub fn column_type(&self) -> ColumnType {
        self.set_type.unwrap_or(self.inferred)
    }

    fn from_profile(profile: ColumnProfile) -> Self {
        Self {
            name: profile.name,
            inferred: profile.column_type,
            set_type: None,
            nullable: profile.nullable,
            examples: profile.examples,
            why: profile.why,
            format: profile.format,
        }
    }

    /// This column with what a later upload found in it: the narrowest type both
    /// fit (an integer column that later holds decimals is a number; columns that
    /// disagree otherwise are strings, saying so).
    fn merged(mut self, later: ColumnProfile) -> Self {
        use ColumnType::{Date, Datetime, Integer, Number, String};
        let (inferred, why) = match (self.inferred, later.column_type) {
            (Date, Date) if self.format != later.format => (
                String,
                "uploads write their dates in different formats: kept as written".into(),
            ),
            (a, b) if a == b => (a, self.why.clone()),
            (Integer, Number) | (Number, Integer) => (Number, "every value is a number".to_owned()),
            (Date, Datetime) | (Datetime, Date) => (
                String,
                "some uploads hold dates and others dates with times: kept as written".into(),
            ),
            (String, _) => (String, self.why.clone()),
            (_, String) => (String, later.why.clone()),
            (a, b) => (
                String,
                format!(
                    "earlier uploads hold {} values and a later one {} values: kept as written",
                    type_name(a),
                    type_name(b)
                ),
            ),
        };
        if inferred != Date {
            self.format = None;
        }
        self.inferred = inferred;
        self.why = why;
        self.nullable |= later.nullable;
        for example in later.examples {
            if self.examples.len() < 3 && !self.examples.contains(&example) {
                self.examples.push(example);
            }
        }
        self
    }
}

fn type_name(t: ColumnType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `columns` with an upload's `profiles` merged in: known columns keep their place
/// (and any type a PUT set), new ones follow in the upload's order. A column an
/// upload lacks becomes nullable.
pub fn merge_columns(columns: Vec<Column>, profiles: Vec<ColumnProfile>) -> Vec<Column> {
    let mut by_name: BTreeMap<String, ColumnProfile> = profiles
        .iter()
        .map(|p| (p.name.clone(), p.clone()))
        .collect();
    let mut merged: Vec<Column> = columns
        .into_iter()
        .map(|column| match by_name.remove(&column.name) {
            Some(later) => column.merged(later),
            None => Column {
                nullable: true,
                ..column
            },
        })
        .collect();
    let first_upload = merged.is_empty();
    for profile in profiles {
        if by_name.remove(&profile.name).is_some() {
            let mut column = Column::from_profile(profile);
            column.nullable |= !first_upload;
            merged.push(column);
        }
    }
    merged
}

/// A source as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub id: SourceId,
    pub name: String,
    pub config: SourceConfig,
    #[serde(default)]
    pub columns: Vec<Column>,
    #[serde(default)]
    pub row_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ingested_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// How many mappings are built on it (a source in use is not deleted).
    #[serde(default)]
    pub in_use: i64,
}

/// A column as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ColumnView {
    pub name: String,
    /// The type a PUT set, else the one inferred.
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    pub inferred_type: ColumnType,
    pub nullable: bool,
    /// Up to three values, as given.
    pub examples: Vec<String>,
    /// Why the column has the inferred type ("2 values have a leading zero …").
    pub why: String,
    /// A date column's format as `to_date` takes it (`%d/%m/%Y`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// A source as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Source)]
pub struct SourceView {
    pub id: SourceId,
    pub name: String,
    /// `upload`, `http` or `relinx`.
    pub kind: String,
    /// By kind: `upload` `{delimiter?, encoding?}`; `http` `{url, headers}` (header
    /// values show as `(sealed)`); `relinx` `{entity}`.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub columns: Vec<ColumnView>,
    /// Rows staged into it since it was created.
    pub row_count: u64,
    pub last_ingested_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Source {
    pub fn view(&self) -> SourceView {
        SourceView {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: self.config.kind().to_owned(),
            config: self.config.view(),
            columns: self
                .columns
                .iter()
                .map(|c| ColumnView {
                    name: c.name.clone(),
                    column_type: c.column_type(),
                    inferred_type: c.inferred,
                    nullable: c.nullable,
                    examples: c.examples.clone(),
                    why: c.why.clone(),
                    format: c.format.clone(),
                })
                .collect(),
            row_count: self.row_count,
            last_ingested_at: self.last_ingested_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl crate::named::Named for Source {
    const PREFIX: &'static str = relinx_ddb::keys::data::SOURCE;
    const NAME_PREFIX: &'static str = relinx_ddb::keys::data::SOURCE_NAME;
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: &Name) {
        self.name = name.to_string();
    }
}

impl EventSubject for Source {
    const KIND: &'static str = "source";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        relinx_model::event::data_of(&self.view())
    }
}

/// A source's settings as a request gives them (an `http` source's headers in the
/// clear, sealed by the operation that stores them).
#[derive(Debug, Clone)]
pub enum ConfigInput {
    Upload {
        delimiter: Option<char>,
        encoding: Option<String>,
    },
    Http {
        url: String,
        headers: Option<BTreeMap<String, String>>,
    },
    Relinx {
        entity: RelinxEntity,
    },
}

impl ConfigInput {
    /// Reads `config` for a source of `kind`, naming the field at fault.
    pub fn parse(kind: &str, config: serde_json::Value) -> Result<Self, ValidationError> {
        let config = match config {
            serde_json::Value::Null => serde_json::Value::Object(Default::default()),
            serde_json::Value::Object(map) => serde_json::Value::Object(map),
            _ => return Err(ValidationError::new("config", "must be an object")),
        };
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Upload {
            #[serde(default)]
            delimiter: Option<String>,
            #[serde(default)]
            encoding: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Http {
            url: String,
            #[serde(default)]
            headers: Option<BTreeMap<String, String>>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Relinx {
            entity: RelinxEntity,
        }
        let invalid = |e: serde_json::Error| ValidationError::new("config", e.to_string());
        match kind {
            "upload" => {
                let upload: Upload = serde_json::from_value(config).map_err(invalid)?;
                let delimiter = upload
                    .delimiter
                    .as_deref()
                    .map(|d| parse_delimiter("config.delimiter", d))
                    .transpose()?;
                if let Some(label) = &upload.encoding
                    && encoding_rs::Encoding::for_label(label.trim().as_bytes()).is_none()
                {
                    return Err(ValidationError::new(
                        "config.encoding",
                        format!("{label:?} is not an encoding (e.g. utf-8, windows-1252)"),
                    ));
                }
                Ok(Self::Upload {
                    delimiter,
                    encoding: upload.encoding,
                })
            }
            "http" => {
                let http: Http = serde_json::from_value(config).map_err(invalid)?;
                if let Some(headers) = &http.headers {
                    check_headers(headers)?;
                }
                Ok(Self::Http {
                    url: http.url,
                    headers: http.headers,
                })
            }
            "relinx" => {
                let relinx: Relinx = serde_json::from_value(config).map_err(invalid)?;
                Ok(Self::Relinx {
                    entity: relinx.entity,
                })
            }
            other => Err(ValidationError::new(
                "kind",
                format!("{other:?} is not a source kind: upload, http or relinx"),
            )),
        }
    }
}

/// A delimiter as a request names it: one of `,` `;` `|`, or a tab (`\t` or `tab`).
pub fn parse_delimiter(field: &str, raw: &str) -> Result<char, ValidationError> {
    match raw {
        "," => Ok(','),
        ";" => Ok(';'),
        "|" => Ok('|'),
        "\t" | "\\t" | "tab" => Ok('\t'),
        other => Err(ValidationError::new(
            field,
            format!("{other:?} is not a delimiter: one of , ; | or tab"),
        )),
    }
}

/// At most 20 headers, each a valid HTTP header name with a printable value.
fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    if headers.len() > 20 {
        return Err(ValidationError::new("config.headers", "at most 20 headers"));
    }
    for (name, value) in headers {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(ValidationError::new(
                format!("config.headers.{name}"),
                "is not an HTTP header name",
            ));
        }
        if value.len() > 4096 || value.chars().any(|c| c.is_control()) {
            return Err(ValidationError::new(
                format!("config.headers.{name}"),
                "must be at most 4096 printable characters",
            ));
        }
    }
    Ok(())
}

/// A new source, checked.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub name: Name,
    pub config: ConfigInput,
}

impl NewSource {
    pub fn new(name: &str, kind: &str, config: serde_json::Value) -> Result<Self, ValidationError> {
        Ok(Self {
            name: Name::parse("name", name)?,
            config: ConfigInput::parse(kind, config)?,
        })
    }
}

/// What a PUT changes (only what it names).
#[derive(Debug, Clone, Default)]
pub struct SourceChange {
    pub name: Option<Name>,
    /// The source's settings, whole (an `http` source that names no `headers`
    /// keeps its sealed ones).
    pub config: Option<serde_json::Value>,
    /// Column types to set (`None`: back to the inferred type).
    pub column_types: Vec<(String, Option<ColumnType>)>,
}
