//! A pipeline: a source, through a mapping, into a destination (API.md "Datalinx
//! data"), on demand or on a schedule. What it may be is checked here, against the
//! mapping it names: the destination must be what the mapping's schema describes
//! (contacts for `contact`, records for `record`, any schema into a dataset), and an
//! upsert's key must be fields the mapping fills.

use crate::mapping::Mapping;
use relinx_model::{
    EventSubject, MappingId, Name, PipelineId, SourceId, Timestamp, ValidationError,
};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Where a pipeline writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    Contacts,
    Records,
    Dataset,
}

/// An upsert's key: one field, or several (composite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Key {
    One(String),
    Many(Vec<String>),
}

impl Key {
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Key::One(f) => vec![f.as_str()],
            Key::Many(fs) => fs.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Destination {
    pub kind: DestinationKind,
    /// A dataset's name (`dataset` only): 1 to 63 of `a-z 0-9 _ -`, from a letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// What an upsert matches on: mapped fields (`emails` for contacts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Key>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Append,
    Upsert,
}

/// When a pipeline runs by itself: `rate(N minutes|hours|days)` or a cron expression
/// (croner: POSIX/Vixie five fields, seconds optional, `L`, `W`, `#`), in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every this many seconds.
    Rate(u64),
    Cron(String),
}

impl Schedule {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let invalid = |why: String| ValidationError::new("schedule", why);
        if let Some(inner) = raw.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            let mut parts = inner.split_whitespace();
            let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(invalid(format!(
                    "{raw:?}: write rate(N minutes), rate(N hours) or rate(N days)"
                )));
            };
            let n: u64 = n
                .parse()
                .ok()
                .filter(|n| *n > 0 && *n <= 10_000)
                .ok_or_else(|| invalid(format!("{raw:?}: N is a whole number from 1 to 10000")))?;
            let unit_seconds = match unit {
                "minute" | "minutes" => 60,
                "hour" | "hours" => 3_600,
                "day" | "days" => 86_400,
                other => {
                    return Err(invalid(format!(
                        "{raw:?}: {other:?} is not minutes, hours or days"
                    )));
                }
            };
            return Ok(Schedule::Rate(n * unit_seconds));
        }
        croner::Cron::from_str(raw)
            .map(|_| Schedule::Cron(raw.to_owned()))
            .map_err(|e| {
                invalid(format!(
                    "{raw:?} is neither rate(N minutes|hours|days) nor a cron expression: {e}"
                ))
            })
    }
}

/// A pipeline as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: PipelineId,
    pub name: String,
    pub source_id: SourceId,
    pub mapping_id: MappingId,
    pub destination: Destination,
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    pub enabled: bool,
    /// Who created it: a scheduled run acts as them, their permission checked again.
    pub created_by: String,
    /// The creator as an actor, and the key they used (a scheduled run acts so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<relinx_model::Actor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_key: Option<relinx_model::ApiKeyId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The run queued or running (one at a time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_run: Option<relinx_model::RunId>,
    /// The newest upload its last successful run read (the next reads after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_water: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<crate::run::LastRun>,
    /// How many runs it has had (the total its runs list pages over).
    #[serde(default)]
    pub run_count: u64,
    /// A `relinx` source's position in the event log: where its next run reads from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Its entry in the schedule's due index (`crate::schedule`), if scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_due: Option<String>,
}

/// A pipeline as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Pipeline)]
pub struct PipelineView {
    pub id: PipelineId,
    pub name: String,
    pub source_id: SourceId,
    pub mapping_id: MappingId,
    pub destination: Destination,
    pub mode: Mode,
    /// `rate(N minutes|hours|days)` or a cron expression (UTC).
    pub schedule: Option<String>,
    pub enabled: bool,
    pub last_run: Option<crate::run::LastRun>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Pipeline {
    pub fn view(&self) -> PipelineView {
        PipelineView {
            id: self.id.clone(),
            name: self.name.clone(),
            source_id: self.source_id.clone(),
            mapping_id: self.mapping_id.clone(),
            destination: self.destination.clone(),
            mode: self.mode,
            schedule: self.schedule.clone(),
            enabled: self.enabled,
            last_run: self.last_run.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl crate::named::Named for Pipeline {
    const PREFIX: &'static str = relinx_ddb::keys::data::PIPELINE;
    const NAME_PREFIX: &'static str = relinx_ddb::keys::data::PIPELINE_NAME;
    fn name(&self) -> &str {
        &self.name
    }
    fn set_name(&mut self, name: &Name) {
        self.name = name.to_string();
    }
}

impl EventSubject for Pipeline {
    const KIND: &'static str = "pipeline";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        relinx_model::event::data_of(&self.view())
    }
}

fn dataset_name(raw: &str) -> bool {
    let mut chars = raw.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && raw.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Checks a pipeline's destination and mode against the mapping it runs (422s
/// naming the field).
pub fn check(
    destination: &Destination,
    mode: Mode,
    mapping: &Mapping,
) -> Result<(), ValidationError> {
    let wanted_schema = match destination.kind {
        DestinationKind::Contacts => Some("contact"),
        DestinationKind::Records => Some("record"),
        DestinationKind::Dataset => None,
    };
    if let Some(schema) = wanted_schema
        && mapping.schema_id != schema
    {
        return Err(ValidationError::new(
            "destination.kind",
            format!(
                "a {} destination takes a mapping onto the {schema} schema; mapping {:?} maps onto {}",
                serde_json::to_value(destination.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                mapping.name,
                mapping.schema_id
            ),
        ));
    }
    match (destination.kind, &destination.dataset) {
        (DestinationKind::Dataset, Some(name)) if dataset_name(name) => {}
        (DestinationKind::Dataset, _) => {
            return Err(ValidationError::new(
                "destination.dataset",
                "a dataset destination names its dataset: 1 to 63 of a-z, 0-9, _ and -, from a letter",
            ));
        }
        (_, Some(_)) => {
            return Err(ValidationError::new(
                "destination.dataset",
                "only a dataset destination names a dataset",
            ));
        }
        (_, None) => {}
    }
    match (mode, &destination.key) {
        (Mode::Append, None) => Ok(()),
        (Mode::Append, Some(_)) => Err(ValidationError::new(
            "destination.key",
            "an append writes every row: a key is for mode upsert",
        )),
        (Mode::Upsert, None) => Err(ValidationError::new(
            "destination.key",
            "an upsert matches rows on a key: name the mapped field(s) it matches on",
        )),
        (Mode::Upsert, Some(key)) => {
            let fields = key.fields();
            if fields.is_empty() {
                return Err(ValidationError::new(
                    "destination.key",
                    "name at least one field",
                ));
            }
            for field in &fields {
                // A record's key is a field of its `data` object: `data.sku`.
                let target = match destination.kind {
                    DestinationKind::Records if *field == "id" => Some("id"),
                    DestinationKind::Records => field.strip_prefix("data.").map(|_| "data"),
                    _ => Some(*field),
                };
                let filled = target.is_some_and(|t| mapping.fields.iter().any(|f| f.target == t));
                if !filled {
                    return Err(ValidationError::new(
                        "destination.key",
                        if destination.kind == DestinationKind::Records {
                            format!(
                                "records are matched on their id or a field of their data: write \"id\" or \"data.<field>\" (and map it); {field:?} is not one mapping {:?} fills",
                                mapping.name
                            )
                        } else {
                            format!("{field:?} is not a field mapping {:?} fills", mapping.name)
                        },
                    ));
                }
            }
            if destination.kind == DestinationKind::Contacts && fields != ["emails"] {
                return Err(ValidationError::new(
                    "destination.key",
                    "contacts are matched on their e-mail address: the key is \"emails\"",
                ));
            }
            if destination.kind == DestinationKind::Records && fields.len() != 1 {
                return Err(ValidationError::new(
                    "destination.key",
                    "records are matched on one field: \"id\" or one of their data (\"data.sku\")",
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_rates_or_cron_expressions() {
        assert_eq!(
            Schedule::parse("rate(5 minutes)").unwrap(),
            Schedule::Rate(300)
        );
        assert_eq!(
            Schedule::parse("rate(1 day)").unwrap(),
            Schedule::Rate(86_400)
        );
        assert!(matches!(
            Schedule::parse("0 6 * * MON-FRI").unwrap(),
            Schedule::Cron(_)
        ));
        for bad in [
            "rate(0 minutes)",
            "rate(5 weeks)",
            "rate(five minutes)",
            "every day",
            "61 * * * *",
        ] {
            let err = Schedule::parse(bad).unwrap_err();
            assert_eq!(err.field, "schedule", "{bad}");
        }
    }
}
