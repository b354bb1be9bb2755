//! A field record as clients see it, what they may send, and the checks on it.

use relinx_model::{RecordId, Timestamp, ValidationError, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The largest record accepted, as the bytes of its JSON (API.md "Records"): a
/// record, its feed entry and its event each stay far under DynamoDB's 400 KB item.
pub const MAX_RECORD_BYTES: usize = 100 * 1024;
const MAX_TITLE_CHARS: usize = 500;
const MAX_LABEL_CHARS: usize = 100;

/// The queue and priority of a record no policy matched.
pub const DEFAULT_QUEUE: &str = "default";
pub const DEFAULT_PRIORITY: &str = "normal";

/// Where a record is in its sync life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Queued,
    Syncing,
    Synced,
    Failed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Queued,
        Status::Syncing,
        Status::Synced,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Queued => "queued",
            Status::Syncing => "syncing",
            Status::Synced => "synced",
            Status::Failed => "failed",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    format!("must be one of draft, queued, syncing, synced, failed; not {raw:?}"),
                )
            })
    }
}

/// A record (seed 002). `causal` changes on every write; send it back with the next
/// PATCH or DELETE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "rec_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "workspace_id": "ws_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "title": "Pressure check", "type": "inspection", "site": "alpha", "status": "queued", "queue": "default", "priority": "normal", "data": {}, "causal": "01JD8Z2X4Q7V3N5K9M2B6C8D0E", "created_at": "2026-11-25T10:00:00.000Z", "updated_at": "2026-11-25T10:00:00.000Z", "deleted": false, "deleted_at": null}))]
pub struct Record {
    pub id: RecordId,
    pub workspace_id: WorkspaceId,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub site: String,
    pub status: Status,
    /// Set by the first matching sync policy; `default` when none matches.
    pub queue: String,
    /// Set by the first matching sync policy; `normal` when none matches.
    pub priority: String,
    /// Free JSON object.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// Opaque; changes on every write, and sorts in the order of the writes.
    pub causal: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub deleted: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deleted_at: Option<Timestamp>,
}

impl Record {
    /// What the policy language's fields read: `size` is the bytes of the record's
    /// JSON as stored (`queue` and `priority` as they were before policies ran).
    pub fn field(&self, path: &[String]) -> Option<Value> {
        let (root, rest) = path.split_first()?;
        let scalar = |v: &str| Some(Value::String(v.to_owned()));
        match (root.as_str(), rest) {
            ("size", []) => Some(Value::from(self.size())),
            ("type", []) => scalar(&self.kind),
            ("site", []) => scalar(&self.site),
            ("status", []) => scalar(self.status.as_str()),
            ("title", []) => scalar(&self.title),
            ("queue", []) => scalar(&self.queue),
            ("priority", []) => scalar(&self.priority),
            ("data", []) => Some(Value::Object(self.data.clone())),
            ("data", [first, more @ ..]) => {
                let mut at = self.data.get(first)?;
                for key in more {
                    at = at.as_object()?.get(key)?;
                }
                Some(at.clone())
            }
            _ => None,
        }
    }

    /// The bytes of this record's JSON.
    pub fn size(&self) -> usize {
        serde_json::to_vec(self)
            .map(|v| v.len())
            .unwrap_or(usize::MAX)
    }

    /// Refuses a record too large to store.
    pub fn check_size(&self) -> Result<(), ValidationError> {
        let size = self.size();
        if size > MAX_RECORD_BYTES {
            return Err(ValidationError::new(
                "data",
                format!(
                    "the record is {size} bytes of JSON; a record holds at most {MAX_RECORD_BYTES} (keep large media elsewhere and store its URL)"
                ),
            ));
        }
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        relinx_model::event::data_of(self)
    }
}

impl relinx_model::EventSubject for Record {
    const KIND: &'static str = "record";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> Value {
        self.to_json()
    }
}

/// A record as a shape to map rows onto (Datalinx's built-in `record` schema): the
/// fields [`NewRecord::new`] takes, with the limits it checks.
pub fn definition() -> Vec<relinx_model::FieldDef> {
    use relinx_model::{DataType, FieldDef};
    vec![
        FieldDef::new(
            "id",
            DataType::String,
            "The record's id (rec_…), given only to change an existing record: an import upserting on id updates it",
        ),
        FieldDef::new(
            "title",
            DataType::String,
            &format!("One line, 1 to {MAX_TITLE_CHARS} characters"),
        )
        .required(),
        FieldDef::new(
            "type",
            DataType::String,
            &format!("One line, at most {MAX_LABEL_CHARS} characters"),
        ),
        FieldDef::new(
            "site",
            DataType::String,
            &format!("One line, at most {MAX_LABEL_CHARS} characters"),
        ),
        FieldDef::new("status", DataType::Enum, "Default queued")
            .one_of(Status::ALL.iter().map(|s| s.as_str().to_owned())),
        FieldDef::new(
            "data",
            DataType::Json,
            "A JSON object (each key a field of the record's data)",
        ),
    ]
}

/// A new record's fields, each checked: [`NewRecord::new`] is the only way to make
/// one, so whatever writes a record (the API, an upload batch, a pipeline) is held to
/// the same rules.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub(crate) title: String,
    pub(crate) kind: String,
    pub(crate) site: String,
    pub(crate) status: Option<Status>,
    pub(crate) data: Map<String, Value>,
}

impl NewRecord {
    /// A record of `title` (1 to 500 characters, one line), `kind` and `site` (up to
    /// 100 characters, one line), `status` (default `queued`) and `data` (a JSON
    /// object DynamoDB can hold); the error names the field (`type` for `kind`).
    pub fn new(
        title: &str,
        kind: &str,
        site: &str,
        status: Option<Status>,
        data: Map<String, Value>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            title: self::title("title", title)?,
            kind: label("type", kind)?,
            site: label("site", site)?,
            status,
            data: self::data("data", data)?,
        })
    }
}

/// A partial update: only present fields change, each checked as for a new record.
#[derive(Debug, Clone, Default)]
pub struct RecordPatch {
    title: Option<String>,
    kind: Option<String>,
    site: Option<String>,
    status: Option<Status>,
    /// Replaces the whole object.
    data: Option<Map<String, Value>>,
}

impl RecordPatch {
    /// A patch of the fields given; the error names the field.
    pub fn new(
        title: Option<&str>,
        kind: Option<&str>,
        site: Option<&str>,
        status: Option<Status>,
        data: Option<Map<String, Value>>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            title: title.map(|t| self::title("title", t)).transpose()?,
            kind: kind.map(|k| label("type", k)).transpose()?,
            site: site.map(|s| label("site", s)).transpose()?,
            status,
            data: data.map(|d| self::data("data", d)).transpose()?,
        })
    }

    pub fn apply_to(self, record: &mut Record) {
        if let Some(title) = self.title {
            record.title = title;
        }
        if let Some(kind) = self.kind {
            record.kind = kind;
        }
        if let Some(site) = self.site {
            record.site = site;
        }
        if let Some(status) = self.status {
            record.status = status;
        }
        if let Some(data) = self.data {
            record.data = data;
        }
    }
}

/// A title: 1 to 500 characters, not blank, no control characters.
fn title(field: &str, raw: &str) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "must not be blank"));
    }
    if trimmed.chars().count() > MAX_TITLE_CHARS {
        return Err(ValidationError::new(
            field,
            format!("is at most {MAX_TITLE_CHARS} characters"),
        ));
    }
    // One line, as `type` and `site`: a NUL or a line break in a title breaks every
    // list, export and log line that shows it.
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters (line breaks, tabs, NUL)",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A `type` or `site`: up to 100 characters, no control characters (may be empty).
fn label(field: &str, raw: &str) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.chars().count() > MAX_LABEL_CHARS {
        return Err(ValidationError::new(
            field,
            format!("is at most {MAX_LABEL_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A record's `data`: a JSON object DynamoDB can hold.
fn data(field: &str, value: Map<String, Value>) -> Result<Map<String, Value>, ValidationError> {
    let value = Value::Object(value);
    relinx_model::json::check_storable(field, &value)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ValidationError::new(field, "must be a JSON object")),
    }
}
