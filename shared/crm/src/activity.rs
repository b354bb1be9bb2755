//! An activity as seed 004 shows it, and its recurrence: `rrule` is an RFC 5545
//! RRULE, checked on save and expanded by the `rrule` crate (in UTC, as the seed's
//! times are; an all-day activity by date).

use crate::values::{ActivityId, parse_time, seconds};
use relinx_model::{PeopleList, Timestamp, ValidationError};
use rrule::{RRule, Tz, Unvalidated};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Addresses one activity may name among its contacts.
pub const MAX_CONTACT_ADDRESSES: usize = 50;
/// Occurrences one listing answers at most (`limit`, default 100).
pub const MAX_OCCURRENCES: u16 = 1000;
pub const DEFAULT_OCCURRENCES: u16 = 100;

const MAX_SHORT: usize = 200;
const MAX_BODY: usize = 10_000;
const MAX_SUBJECT: usize = 1_000;

/// A stored activity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Activity {
    pub id: ActivityId,
    pub activity_type: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub calendar_id: Option<String>,
    #[serde(default)]
    pub all_day: bool,
    pub dt_created: Timestamp,
    pub dt_modified: Timestamp,
    pub dt_start: Timestamp,
    #[serde(default)]
    pub dt_end: Option<Timestamp>,
    /// Empty: it happens once.
    #[serde(default)]
    pub rrule: String,
    pub status: String,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub users: Option<String>,
    /// As given: `Name <address>;…`.
    #[serde(default)]
    pub contacts: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

impl Serialize for ActivityView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut map = serializer.serialize_map(Some(16))?;
        map.serialize_entry("id", &a.id.to_string())?;
        map.serialize_entry("activity_type", &a.activity_type)?;
        map.serialize_entry("label", &a.label)?;
        map.serialize_entry("calendar_id", &a.calendar_id)?;
        map.serialize_entry("all_day", &a.all_day)?;
        map.serialize_entry("dt_created", &seconds(a.dt_created))?;
        map.serialize_entry("dt_modified", &seconds(a.dt_modified))?;
        map.serialize_entry("dt_start", &seconds(a.dt_start))?;
        map.serialize_entry("dt_end", &a.dt_end.map(seconds))?;
        map.serialize_entry("rrule", &a.rrule)?;
        map.serialize_entry("status", &a.status)?;
        map.serialize_entry("author", &a.author)?;
        map.serialize_entry("users", &a.users)?;
        map.serialize_entry("contacts", &a.contacts)?;
        map.serialize_entry("subject", &a.subject)?;
        map.serialize_entry("body", &a.body)?;
        map.end()
    }
}

/// An activity shown as the seed shows it (`id` a string, times to the second).
pub struct ActivityView<'a>(pub &'a Activity);

impl Activity {
    pub fn view(&self) -> ActivityView<'_> {
        ActivityView(self)
    }

    /// The addresses among its contacts (lower-cased, each once).
    pub fn addresses(&self) -> Vec<String> {
        self.contacts
            .as_deref()
            .and_then(|c| PeopleList::parse("contacts", c).ok())
            .map(|list| list.addresses().iter().map(|a| a.to_string()).collect())
            .unwrap_or_default()
    }

    /// Applies a checked save.
    pub fn apply(&mut self, input: &ActivityInput) {
        let set = |slot: &mut Option<String>, value: &Option<Option<String>>| {
            if let Some(v) = value {
                *slot = v.clone();
            }
        };
        if let Some(t) = &input.activity_type {
            self.activity_type = t.clone();
        }
        set(&mut self.label, &input.label);
        set(&mut self.calendar_id, &input.calendar_id);
        if let Some(all_day) = input.all_day {
            self.all_day = all_day;
        }
        if let Some(start) = input.dt_start {
            self.dt_start = start;
        }
        if let Some(end) = input.dt_end {
            self.dt_end = end;
        }
        if let Some(rule) = &input.rrule {
            self.rrule = rule.clone();
        }
        if let Some(status) = &input.status {
            self.status = status.clone();
        }
        set(&mut self.author, &input.author);
        set(&mut self.users, &input.users);
        set(&mut self.contacts, &input.contacts);
        set(&mut self.subject, &input.subject);
        set(&mut self.body, &input.body);
    }

    /// Checks what only the whole activity can tell: the end not before the start,
    /// the rule valid from this start.
    pub fn check(&self) -> Result<(), ValidationError> {
        if let Some(end) = self.dt_end
            && end.unix() < self.dt_start.unix()
        {
            return Err(ValidationError::new(
                "dt_end",
                "must not be before dt_start",
            ));
        }
        if !self.rrule.is_empty() {
            self.rule_set()?;
        }
        if self.addresses().len() > MAX_CONTACT_ADDRESSES {
            return Err(ValidationError::new(
                "contacts",
                format!("an activity names at most {MAX_CONTACT_ADDRESSES} addresses"),
            ));
        }
        Ok(())
    }

    /// The first occurrence's start as the rule sees it: an all-day activity's
    /// date at midnight UTC.
    fn anchor(&self) -> Timestamp {
        if self.all_day {
            let day = self.dt_start.unix().div_euclid(86_400) * 86_400;
            Timestamp::from_unix(day).unwrap_or(self.dt_start)
        } else {
            self.dt_start
        }
    }

    fn rule_set(&self) -> Result<rrule::RRuleSet, ValidationError> {
        let start = to_rrule(self.anchor())
            .ok_or_else(|| ValidationError::new("dt_start", "is out of range"))?;
        let text = self.rrule.trim();
        let text = text.strip_prefix("RRULE:").unwrap_or(text);
        let invalid = |e: rrule::RRuleError| {
            ValidationError::new(
                "rrule",
                format!("not an RFC 5545 recurrence rule ({e}); e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=3"),
            )
        };
        let rule: RRule<Unvalidated> = text.parse().map_err(invalid)?;
        rule.build(start).map_err(invalid)
    }

    /// Its occurrences that start within `[from, to]` (inclusive), at most `limit`;
    /// and whether more follow.
    pub fn occurrences(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: u16,
    ) -> Result<(Vec<Occurrence>, bool), ValidationError> {
        let length = self
            .dt_end
            .map(|end| end.unix() - self.dt_start.unix())
            .unwrap_or(0);
        let (from, to) = if self.all_day {
            // By date: every day the window touches.
            (
                Timestamp::from_unix(from.unix().div_euclid(86_400) * 86_400).unwrap_or(from),
                to,
            )
        } else {
            (from, to)
        };
        let (starts, more) = if self.rrule.is_empty() {
            let at = self.anchor();
            let inside = at.unix() >= from.unix() && at.unix() <= to.unix() && limit > 0;
            (if inside { vec![at] } else { vec![] }, false)
        } else {
            let (Some(after), Some(before)) = (to_rrule(from), to_rrule(to)) else {
                return Err(ValidationError::new("from", "is out of range"));
            };
            // One more than asked tells whether more follow.
            let found = self
                .rule_set()?
                .after(after)
                .before(before)
                .all(limit.saturating_add(1));
            let mut starts: Vec<Timestamp> = found
                .dates
                .iter()
                .filter_map(|d| Timestamp::from_unix(d.timestamp()))
                .collect();
            let more = found.limited || starts.len() > usize::from(limit);
            starts.truncate(usize::from(limit));
            (starts, more)
        };
        let occurrences = starts
            .into_iter()
            .map(|start| {
                let end = Timestamp::from_unix(start.unix() + length).unwrap_or(start);
                if self.all_day {
                    Occurrence {
                        dt_start: date(start),
                        dt_end: date(end),
                    }
                } else {
                    Occurrence {
                        dt_start: seconds(start),
                        dt_end: seconds(end),
                    }
                }
            })
            .collect();
        Ok((occurrences, more))
    }
}

/// One occurrence: times to the second, or dates (`YYYY-MM-DD`) for an all-day
/// activity.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Occurrence {
    #[schema(example = "2026-12-07T09:00:00Z")]
    pub dt_start: String,
    #[schema(example = "2026-12-07T10:00:00Z")]
    pub dt_end: String,
}

fn to_rrule(at: Timestamp) -> Option<chrono::DateTime<Tz>> {
    use chrono::TimeZone;
    Tz::UTC.timestamp_opt(at.unix(), 0).single()
}

fn date(at: Timestamp) -> String {
    seconds(at).chars().take(10).collect()
}

/// A save, field by field (`Some(None)`: set to null).
#[derive(Debug, Clone, Default)]
pub struct ActivityInput {
    pub(crate) id: Option<ActivityId>,
    pub(crate) activity_type: Option<String>,
    pub(crate) label: Option<Option<String>>,
    pub(crate) calendar_id: Option<Option<String>>,
    pub(crate) all_day: Option<bool>,
    pub(crate) dt_start: Option<Timestamp>,
    pub(crate) dt_end: Option<Option<Timestamp>>,
    pub(crate) rrule: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) author: Option<Option<String>>,
    pub(crate) users: Option<Option<String>>,
    pub(crate) contacts: Option<Option<String>>,
    pub(crate) subject: Option<Option<String>>,
    pub(crate) body: Option<Option<String>>,
}

fn text(field: &str, value: &Value, max: usize) -> Result<Option<String>, ValidationError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() > max => Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        )),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ValidationError::new(field, "must be a string or null")),
    }
}

fn people(field: &str, value: &Value) -> Result<Option<String>, ValidationError> {
    let given = text(field, value, MAX_BODY)?;
    if let Some(list) = given.as_deref().filter(|t| !t.trim().is_empty()) {
        PeopleList::parse(field, list)?;
    }
    Ok(given)
}

fn required_text(field: &str, value: &Value) -> Result<String, ValidationError> {
    match text(field, value, MAX_SHORT)? {
        Some(t) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
        _ => Err(ValidationError::new(field, "must be a non-empty string")),
    }
}

impl ActivityInput {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ValidationError> {
        let mut input = Self::default();
        for (key, value) in body {
            let k = key.as_str();
            match k {
                "id" if value.is_null() => {}
                "id" => input.id = Some(ActivityId::parse("id", value)?),
                // Kept by the server: a listed activity can be posted back as it is.
                "dt_created" | "dt_modified" => {}
                "activity_type" => input.activity_type = Some(required_text(k, value)?),
                "label" => input.label = Some(text(k, value, MAX_SHORT)?),
                "calendar_id" => {
                    input.calendar_id = Some(match value {
                        Value::Number(n) => Some(n.to_string()),
                        other => text(k, other, MAX_SHORT)?,
                    })
                }
                "all_day" => {
                    input.all_day = Some(match value {
                        Value::Bool(b) => *b,
                        Value::Number(n) if n.as_u64() == Some(1) => true,
                        Value::Number(n) if n.as_u64() == Some(0) => false,
                        _ => return Err(ValidationError::new(k, "must be true or false")),
                    })
                }
                "dt_start" => match value {
                    Value::String(s) => input.dt_start = Some(parse_time(k, s)?),
                    _ => {
                        return Err(ValidationError::new(
                            k,
                            "must be a time: 2016-01-21T19:00:00Z",
                        ));
                    }
                },
                "dt_end" => {
                    input.dt_end = Some(match value {
                        Value::Null => None,
                        Value::String(s) if s.trim().is_empty() => None,
                        Value::String(s) => Some(parse_time(k, s)?),
                        _ => return Err(ValidationError::new(k, "must be a time or null")),
                    })
                }
                "rrule" => {
                    input.rrule = Some(
                        text(k, value, MAX_SHORT)?
                            .map(|r| r.trim().to_owned())
                            .unwrap_or_default(),
                    )
                }
                "status" => input.status = Some(required_text(k, value)?),
                "author" => input.author = Some(people(k, value)?),
                "users" => input.users = Some(people(k, value)?),
                "contacts" => input.contacts = Some(people(k, value)?),
                "subject" => input.subject = Some(text(k, value, MAX_SUBJECT)?),
                "body" => input.body = Some(text(k, value, MAX_BODY)?),
                _ => {
                    return Err(ValidationError::new(
                        k,
                        "no such activity field; the fields are activity_type, label, calendar_id, all_day, dt_start, dt_end, rrule, status, author, users, contacts, subject, body",
                    ));
                }
            }
        }
        Ok(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn activity(start: &str, rule: &str, all_day: bool) -> Activity {
        let at = parse_time("dt_start", start).unwrap();
        Activity {
            id: ActivityId::from_counter(1),
            activity_type: "default".into(),
            label: None,
            calendar_id: None,
            all_day,
            dt_created: at,
            dt_modified: at,
            dt_start: at,
            dt_end: Some(Timestamp::from_unix(at.unix() + 3600).unwrap()),
            rrule: rule.into(),
            status: "open".into(),
            author: None,
            users: None,
            contacts: None,
            subject: None,
            body: None,
        }
    }

    fn starts(a: &Activity, from: &str, to: &str, limit: u16) -> (Vec<String>, bool) {
        let (found, more) = a
            .occurrences(
                parse_time("from", from).unwrap(),
                parse_time("to", to).unwrap(),
                limit,
            )
            .unwrap();
        (found.into_iter().map(|o| o.dt_start).collect(), more)
    }

    #[test]
    fn weekly_on_mondays_three_times() {
        let a = activity(
            "2026-11-30T09:00:00Z",
            "FREQ=WEEKLY;BYDAY=MO;COUNT=3",
            false,
        );
        assert!(a.check().is_ok());
        let (found, more) = starts(&a, "2026-01-01", "2027-12-31", 100);
        assert_eq!(
            found,
            [
                "2026-11-30T09:00:00Z",
                "2026-12-07T09:00:00Z",
                "2026-12-14T09:00:00Z"
            ]
        );
        assert!(!more);
    }

    #[test]
    fn the_last_friday_of_each_month() {
        let a = activity(
            "2026-01-01T17:00:00Z",
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=5",
            false,
        );
        let (found, _) = starts(&a, "2026-01-01", "2027-01-01", 100);
        assert_eq!(
            found,
            [
                "2026-01-30T17:00:00Z",
                "2026-02-27T17:00:00Z",
                "2026-03-27T17:00:00Z",
                "2026-04-24T17:00:00Z",
                "2026-05-29T17:00:00Z"
            ]
        );
    }

    #[test]
    fn bad_rules_are_refused_and_endless_ones_bounded() {
        let bad = activity("2026-01-01T17:00:00Z", "FREQ=SOMETIMES", false);
        assert_eq!(bad.check().unwrap_err().field, "rrule");
        let daily = activity("2026-01-01T08:00:00Z", "FREQ=DAILY", false);
        let (found, more) = starts(&daily, "2026-01-01", "2030-01-01", 10);
        assert_eq!(found.len(), 10);
        assert!(more);
        let (window, more) = starts(&daily, "2026-03-01", "2026-03-03T23:59:59Z", 10);
        assert_eq!(window.len(), 3);
        assert!(!more);
    }

    #[test]
    fn all_day_activities_expand_by_date() {
        let a = activity("2016-01-21T19:00:00Z", "FREQ=DAILY;COUNT=2", true);
        let (found, _) = starts(&a, "2016-01-21T23:00:00Z", "2016-12-31", 10);
        assert_eq!(found, ["2016-01-21", "2016-01-22"]);
    }

    #[test]
    fn saves_name_their_fields() {
        let err = ActivityInput::parse(json!({"mood": "x"}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.field, "mood");
        let err = ActivityInput::parse(json!({"contacts": "Bob <nope>"}).as_object().unwrap())
            .unwrap_err();
        assert_eq!(err.field, "contacts");
        let err =
            ActivityInput::parse(json!({"dt_start": "soon"}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.field, "dt_start");
    }
}
