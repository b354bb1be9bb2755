//! A contact as seed 004 shows it: its own text fields, `do_not_mass_email`, and
//! the department's custom fields as top-level keys named by each field's `key`.

use crate::fields::{MAX_TEXT, Schema};
use crate::values::{
    ContactId, NO_MASS_EMAIL, NO_MASS_EMAIL_TABLE, SERVER_KEPT, TEXT_FIELDS, seconds,
};
use relinx_model::{EmailList, Timestamp, ValidationError};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A stored contact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub dt_created: Timestamp,
    pub dt_modified: Timestamp,
    /// Own text fields as given (`null` kept as null); absent: never given.
    #[serde(default)]
    pub fields: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub do_not_mass_email: bool,
    /// Custom field values by key, in their stored form.
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
}

/// The most a contact may hold, as JSON (a DynamoDB item holds 400 KB; its event
/// carries it again).
pub const MAX_CONTACT_BYTES: usize = 100_000;

impl Contact {
    /// Refuses a contact too large to store.
    pub fn check_size(&self) -> Result<(), ValidationError> {
        let size = serde_json::to_vec(self).map_or(usize::MAX, |v| v.len());
        if size > MAX_CONTACT_BYTES {
            return Err(ValidationError::new(
                "contact",
                format!(
                    "the contact is {size} bytes of JSON; a contact holds at most {MAX_CONTACT_BYTES}"
                ),
            ));
        }
        Ok(())
    }

    /// Its e-mail addresses (lower-cased), for finding its activities.
    pub fn addresses(&self) -> Vec<String> {
        self.fields
            .get("emails")
            .and_then(|e| e.as_deref())
            .and_then(|e| EmailList::parse("emails", e).ok())
            .map(|list| list.addresses().iter().map(|a| a.to_string()).collect())
            .unwrap_or_default()
    }

    /// Applies a checked save.
    pub fn apply(&mut self, input: &ContactInput) {
        for (key, value) in &input.fields {
            self.fields.insert((*key).to_owned(), value.clone());
        }
        if let Some(flag) = input.do_not_mass_email {
            self.do_not_mass_email = flag;
        }
        for (key, value) in &input.custom {
            match value {
                Some(v) => self.custom.insert(key.clone(), v.clone()),
                None => self.custom.remove(key),
            };
        }
        // A name given in parts makes the full name, unless one was given.
        let given = |k: &str| {
            self.fields
                .get(k)
                .and_then(|v| v.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        if given("full_name").is_none() && !input.fields.contains_key("full_name") {
            let parts: Vec<String> = ["first_name", "last_name"]
                .into_iter()
                .filter_map(given)
                .collect();
            if !parts.is_empty() {
                self.fields
                    .insert("full_name".into(), Some(parts.join(" ")));
            }
        }
    }

    /// As `contact.list.json` shows it (`id` a string) or as JSON for an event.
    pub fn view<'a>(&'a self, schema: &'a Schema) -> ContactView<'a> {
        ContactView {
            contact: self,
            schema,
            activities: None,
        }
    }
}

/// A contact shown: the seed's keys in the seed's order, custom fields last in
/// their definition order.
pub struct ContactView<'a> {
    contact: &'a Contact,
    schema: &'a Schema,
    activities: Option<&'a [crate::Activity]>,
}

impl<'a> ContactView<'a> {
    /// Shown with its activities (`contact.get.json`), as the last key.
    pub fn with_activities(mut self, activities: &'a [crate::Activity]) -> Self {
        self.activities = Some(activities);
        self
    }
}

impl Serialize for ContactView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.contact;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &c.id.to_string())?;
        let text = |map: &mut S::SerializeMap, key: &str| match c.fields.get(key) {
            Some(value) => map.serialize_entry(key, value),
            None => Ok(()),
        };
        for key in &TEXT_FIELDS[..3] {
            text(&mut map, key)?;
        }
        map.serialize_entry("dt_created", &seconds(c.dt_created))?;
        map.serialize_entry("dt_modified", &seconds(c.dt_modified))?;
        for key in &TEXT_FIELDS[3..16] {
            text(&mut map, key)?;
        }
        map.serialize_entry(NO_MASS_EMAIL, &c.do_not_mass_email)?;
        for key in &TEXT_FIELDS[16..] {
            text(&mut map, key)?;
        }
        for field in &self.schema.fields {
            if let Some(value) = c.custom.get(&field.key) {
                map.serialize_entry(&field.key, value)?;
            }
        }
        // Values of a key no longer defined stay visible rather than vanish.
        for (key, value) in &c.custom {
            if self.schema.field(key).is_none() {
                map.serialize_entry(key, value)?;
            }
        }
        if let Some(activities) = self.activities {
            let shown: Vec<_> = activities.iter().map(crate::Activity::view).collect();
            map.serialize_entry("activities", &shown)?;
        }
        map.end()
    }
}

/// A contact as a shape to map rows onto (Datalinx's built-in `contact` schema): the
/// keys [`ContactInput::parse`] accepts with the rules it applies, the department's
/// custom fields (`schema`) included with their types.
pub fn definition(schema: &Schema) -> Vec<relinx_model::FieldDef> {
    use crate::fields::FieldType;
    use relinx_model::{DataType, FieldDef};
    let text = format!("Text, at most {MAX_TEXT} characters");
    let mut fields: Vec<FieldDef> = TEXT_FIELDS
        .iter()
        .map(|name| match *name {
            "emails" => FieldDef::new(
                name,
                DataType::Email,
                "One or more e-mail addresses, separated by ;",
            ),
            _ => FieldDef::new(name, DataType::String, &text),
        })
        .collect();
    fields.push(FieldDef::new(
        NO_MASS_EMAIL,
        DataType::Boolean,
        "Excluded from mass e-mail",
    ));
    for field in &schema.fields {
        let about = format!("Custom field \"{}\"", field.label);
        let choices = field.choices.clone().unwrap_or_default();
        fields.push(match field.field_type {
            FieldType::Number => FieldDef::new(&field.key, DataType::Number, &about),
            FieldType::Text => FieldDef::new(&field.key, DataType::String, &about),
            FieldType::Date => FieldDef::new(&field.key, DataType::Date, &about),
            FieldType::SingleChoice => {
                FieldDef::new(&field.key, DataType::Enum, &about).one_of(choices)
            }
            FieldType::MultipleChoice => FieldDef::new(
                &field.key,
                DataType::String,
                &format!("{about}: any of {} separated by ;", choices.join(", ")),
            ),
        });
    }
    fields
}

/// A save, checked against the department's custom fields: made only by
/// [`ContactInput::parse`].
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    /// Which contact to change; none: a new one.
    pub(crate) id: Option<ContactId>,
    pub(crate) fields: BTreeMap<&'static str, Option<String>>,
    pub(crate) do_not_mass_email: Option<bool>,
    /// `None` clears the field.
    pub(crate) custom: BTreeMap<String, Option<String>>,
}

fn parse_flag(field: &str, value: &Value) -> Result<bool, ValidationError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::String(s) if matches!(s.as_str(), "true" | "1") => Ok(true),
        Value::String(s) if matches!(s.as_str(), "false" | "0" | "") => Ok(false),
        _ => Err(ValidationError::new(field, "must be true or false")),
    }
}

impl ContactInput {
    /// Reads a save's body. Every key must be a contact field or a custom field of
    /// the department; each value is checked by its field's rule.
    pub fn parse(body: &Map<String, Value>, schema: &Schema) -> Result<Self, ValidationError> {
        let mut input = Self::default();
        for (key, value) in body {
            if key == "id" {
                if !value.is_null() {
                    input.id = Some(ContactId::parse("id", value)?);
                }
                continue;
            }
            if SERVER_KEPT.contains(&key.as_str()) {
                continue;
            }
            if key == NO_MASS_EMAIL || key == NO_MASS_EMAIL_TABLE {
                input.do_not_mass_email = Some(parse_flag(key, value)?);
                continue;
            }
            if let Some(own) = TEXT_FIELDS.iter().find(|f| **f == key.as_str()) {
                let text = match value {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    _ => {
                        return Err(ValidationError::new(
                            key.as_str(),
                            "must be a string or null",
                        ));
                    }
                };
                if let Some(t) = &text {
                    if t.chars().count() > MAX_TEXT {
                        return Err(ValidationError::new(
                            key.as_str(),
                            format!("must be at most {MAX_TEXT} characters"),
                        ));
                    }
                    if *own == "emails" && !t.trim().is_empty() {
                        EmailList::parse("emails", t)?;
                    }
                }
                input.fields.insert(*own, text);
                continue;
            }
            let Some(field) = schema.field(key) else {
                let defined = schema.keys();
                return Err(ValidationError::new(
                    key.as_str(),
                    if defined.is_empty() {
                        "no such field: this department defines no custom fields (custom_field.save.json defines one)".to_owned()
                    } else {
                        format!(
                            "no such field; the custom fields of this department are {}",
                            defined.join(", ")
                        )
                    },
                ));
            };
            input.custom.insert(field.key.clone(), field.check(value)?);
        }
        Ok(input)
    }

    /// Whether the save writes a custom value (then the definitions it was checked
    /// against must still hold when it commits).
    pub fn writes_custom_values(&self) -> bool {
        self.custom.values().any(Option::is_some)
    }

    /// Whether a new contact from this save would have anything to it.
    pub fn is_empty(&self) -> bool {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|t| t.trim().is_empty());
        self.fields.values().all(blank) && !self.writes_custom_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_seed_spelling_is_answered_and_the_table_spelling_accepted() {
        let schema = Schema::default();
        let body = json!({"first_name": "Dr.", "last_name": "Evil", "do_no_mass_email": true});
        let input = ContactInput::parse(body.as_object().unwrap(), &schema).unwrap();
        let mut contact = Contact {
            id: ContactId::from_counter(7),
            dt_created: Timestamp::now(),
            dt_modified: Timestamp::now(),
            fields: BTreeMap::new(),
            do_not_mass_email: false,
            custom: BTreeMap::new(),
        };
        contact.apply(&input);
        let shown = serde_json::to_value(contact.view(&schema)).unwrap();
        assert_eq!(shown["do_not_mass_email"], true);
        assert!(shown.get("do_no_mass_email").is_none());
        assert_eq!(shown["full_name"], "Dr. Evil");
        assert_eq!(shown["id"], "7");
        assert!(shown.get("title").is_none(), "never given: not shown");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_their_field() {
        let schema = Schema::default();
        let err = ContactInput::parse(json!({"Nickname": "x"}).as_object().unwrap(), &schema)
            .unwrap_err();
        assert_eq!(err.field, "Nickname");
        let err = ContactInput::parse(
            json!({"emails": "a@b.io;not-an-address"})
                .as_object()
                .unwrap(),
            &schema,
        )
        .unwrap_err();
        assert_eq!(err.field, "emails");
        let err =
            ContactInput::parse(json!({"phone": 5}).as_object().unwrap(), &schema).unwrap_err();
        assert_eq!(err.field, "phone");
        assert!(ContactInput::parse(json!({"id": "abc"}).as_object().unwrap(), &schema).is_err());
        assert_eq!(
            ContactInput::parse(json!({"id": "33103982"}).as_object().unwrap(), &schema)
                .unwrap()
                .id,
            Some(crate::values::ContactId::from_counter(33_103_982))
        );
    }

    #[test]
    fn times_are_shown_to_the_second() {
        let at = Timestamp::parse("2016-01-05T12:03:32.123Z").unwrap();
        assert_eq!(seconds(at), "2016-01-05T12:03:32Z");
    }
}
