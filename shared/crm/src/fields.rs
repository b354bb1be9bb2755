//! Custom contact fields (seed 004 "Contact custom field object"): typed, defined
//! per department, validated on every save. A department's definitions are one
//! versioned item, so a contact save can check in its own transaction that the
//! definitions it validated against are still the ones in force.

use crate::department::{self, Department};
use relinx_ddb::keys::crm as ck;
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{Store, StoreError};
use relinx_model::{Context, EventName, Permission, Resource, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Custom fields a department may define.
pub const MAX_FIELDS: usize = 100;
const MAX_LABEL: usize = 100;
const MAX_CHOICES: usize = 200;
const MAX_CHOICE: usize = 200;
/// A Text field's value (and any contact text).
pub const MAX_TEXT: usize = 10_000;

/// A custom field's type, named as the seed names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum FieldType {
    Number,
    Text,
    /// `YYYY-MM-DD`.
    Date,
    /// One of `choices`.
    #[serde(rename = "Single choice")]
    SingleChoice,
    /// A `;`-separated subset of `choices`.
    #[serde(rename = "Multiple choice")]
    MultipleChoice,
}

impl FieldType {
    const ALL: [Self; 5] = [
        Self::Number,
        Self::Text,
        Self::Date,
        Self::SingleChoice,
        Self::MultipleChoice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Number => "Number",
            Self::Text => "Text",
            Self::Date => "Date",
            Self::SingleChoice => "Single choice",
            Self::MultipleChoice => "Multiple choice",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(raw.trim()))
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    format!(
                        "must be one of Number, Text, Date, Single choice, Multiple choice (got {raw:?})"
                    ),
                )
            })
    }

    fn has_choices(self) -> bool {
        matches!(self, Self::SingleChoice | Self::MultipleChoice)
    }
}

/// One custom field's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomField {
    pub id: u64,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// The label escaped (`T-shirt size` → `T-shirt_size`): the contact's key for it.
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub default_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
}

/// A custom field as `custom_field.list.json` shows it (ids as strings, as the seed).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldView {
    #[schema(example = "33078800")]
    pub id: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[schema(example = "T-shirt_size")]
    pub key: String,
    #[schema(example = "T-shirt size")]
    pub label: String,
    pub default_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
}

impl CustomField {
    pub fn view(&self) -> FieldView {
        FieldView {
            id: self.id.to_string(),
            field_type: self.field_type,
            key: self.key.clone(),
            label: self.label.clone(),
            default_value: self.default_value.clone(),
            choices: self.choices.clone(),
        }
    }

    fn choices(&self) -> &[String] {
        self.choices.as_deref().unwrap_or_default()
    }

    fn not_a_choice(&self, value: &str) -> ValidationError {
        ValidationError::new(
            &self.key,
            format!("{value:?} is not one of {}", self.choices().join(", ")),
        )
    }

    /// The choice `value` names (exactly, or but for case: answered in the
    /// definition's spelling).
    fn choice(&self, value: &str) -> Result<String, ValidationError> {
        let value = value.trim();
        self.choices()
            .iter()
            .find(|c| c.as_str() == value)
            .or_else(|| {
                self.choices()
                    .iter()
                    .find(|c| c.to_lowercase() == value.to_lowercase())
            })
            .cloned()
            .ok_or_else(|| self.not_a_choice(value))
    }

    /// A contact's value for this field, checked and in its stored form; `None`
    /// clears the field (`null` or an empty string).
    pub fn check(&self, value: &Value) -> Result<Option<String>, ValidationError> {
        let text = match value {
            Value::Null => return Ok(None),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => s.clone(),
            Value::Number(n) if self.field_type == FieldType::Number => n.to_string(),
            _ => {
                return Err(ValidationError::new(
                    &self.key,
                    format!(
                        "must be a string{} or null",
                        if self.field_type == FieldType::Number {
                            " or a number"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        };
        self.check_text(&text).map(Some)
    }

    fn check_text(&self, text: &str) -> Result<String, ValidationError> {
        match self.field_type {
            FieldType::Text => {
                if text.chars().count() > MAX_TEXT {
                    return Err(ValidationError::new(
                        &self.key,
                        format!("must be at most {MAX_TEXT} characters"),
                    ));
                }
                Ok(text.to_owned())
            }
            FieldType::Number => {
                let trimmed = text.trim();
                match trimmed.parse::<f64>() {
                    Ok(n) if n.is_finite() && !trimmed.starts_with('+') => Ok(trimmed.to_owned()),
                    _ => Err(ValidationError::new(
                        &self.key,
                        format!("{text:?} is not a number (e.g. 42 or -3.5)"),
                    )),
                }
            }
            FieldType::Date => {
                let trimmed = text.trim();
                match crate::values::parse_date(trimmed) {
                    Some(_) => Ok(trimmed.to_owned()),
                    None => Err(ValidationError::new(
                        &self.key,
                        format!("{text:?} is not a date as YYYY-MM-DD (e.g. 1970-01-31)"),
                    )),
                }
            }
            FieldType::SingleChoice => self.choice(text),
            FieldType::MultipleChoice => {
                let mut picked: Vec<String> = Vec::new();
                for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    let choice = self.choice(part)?;
                    if !picked.contains(&choice) {
                        picked.push(choice);
                    }
                }
                Ok(picked.join(";"))
            }
        }
    }
}

/// A department's custom fields, in the order they were defined.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Schema {
    #[serde(default)]
    pub fields: Vec<CustomField>,
    #[serde(default)]
    pub last_id: u64,
}

impl Schema {
    /// The field a contact key names (exactly: keys are case-sensitive, as JSON's).
    pub fn field(&self, key: &str) -> Option<&CustomField> {
        self.fields.iter().find(|f| f.key == key)
    }

    fn field_folded(&self, key: &str) -> Option<&CustomField> {
        self.fields.iter().find(|f| f.key.eq_ignore_ascii_case(key))
    }

    /// Every key, for messages.
    pub fn keys(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.key.as_str()).collect()
    }
}

/// The department's schema with the version it was read at (0: none defined yet).
pub async fn read(store: &Store, dept: &Department) -> Result<(Schema, i64), StoreError> {
    Ok(
        versioned::read(store, dept.partition(), ck::FIELDS_SK.to_owned())
            .await?
            .unwrap_or_default(),
    )
}

/// Stages a check that the department's definitions are still at `version`, for a
/// save validated against them.
pub fn stage_unchanged(tx: &mut Tx, store: &Store, dept: &Department, version: i64) {
    if version == 0 {
        // No definitions when validated: none may have appeared since.
        tx.check(
            &store.tables().main,
            dept.partition(),
            ck::FIELDS_SK.to_owned(),
            Cond::new("attribute_not_exists(pk)"),
            OnFail::Stale,
        );
    } else {
        versioned::stage_unchanged(
            tx,
            store,
            dept.partition(),
            ck::FIELDS_SK.to_owned(),
            version,
        );
    }
}

/// `T-shirt size` → `T-shirt_size`: whitespace runs become `_`; letters, digits,
/// `_` and `-` stay; anything else is dropped (the seed's "Escaped name").
pub fn escape_label(label: &str) -> String {
    let mut key = String::new();
    let mut gap = false;
    for c in label.trim().chars() {
        if c.is_whitespace() {
            gap = true;
            continue;
        }
        if !(c.is_alphanumeric() || c == '_' || c == '-') {
            continue;
        }
        if gap && !key.is_empty() {
            key.push('_');
        }
        gap = false;
        key.push(c);
    }
    key
}

/// `custom_field.list.json`.
pub async fn list(
    store: &Store,
    ctx: &Context,
    dept: &Department,
) -> Result<Vec<CustomField>, StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Contacts))?;
    Ok(read(store, dept).await?.0.fields)
}

/// What `custom_field.save.json` carries: without `id` a new field (label and type
/// required), with `id` a change of what is present.
#[derive(Debug, Clone, Default)]
pub struct FieldInput {
    id: Option<u64>,
    label: Option<String>,
    key: Option<String>,
    field_type: Option<FieldType>,
    choices: Option<Vec<String>>,
    default_value: Option<String>,
}

impl FieldInput {
    /// A field to save: its label (trimmed, 1 to 100 characters) and its key (one
    /// that escapes to letters, digits, `_` and `-`, and no contact field's own)
    /// checked here; what depends on the department's definitions (a taken key,
    /// choices that stored values must fit) when it is saved.
    /// `id` (none: a new field), what names it (`label`, `key`) and what it accepts
    /// (`type`, `choices`, `default_value`).
    pub fn new(
        id: Option<u64>,
        (label, key): (Option<String>, Option<String>),
        (field_type, choices, default_value): (
            Option<FieldType>,
            Option<Vec<String>>,
            Option<String>,
        ),
    ) -> Result<Self, ValidationError> {
        let label = label.as_deref().map(check_label).transpose()?;
        if let Some(key) = &key {
            check_key("key", &escape_label(key))?;
        }
        Ok(Self {
            id,
            label,
            key,
            field_type,
            choices,
            default_value,
        })
    }
}

/// A key as escaped from a label or given: not empty, not too long, and no
/// contact field's own.
fn check_key(field: &str, key: &str) -> Result<(), ValidationError> {
    if key.is_empty() || key.chars().count() > MAX_LABEL {
        return Err(ValidationError::new(
            field,
            "must hold a letter or a digit (the key is made of letters, digits, _ and -)",
        ));
    }
    if crate::values::is_reserved(key) {
        return Err(ValidationError::new(
            "key",
            format!("{key:?} is a contact field of its own; choose another label"),
        ));
    }
    Ok(())
}

fn check_label(label: &str) -> Result<String, ValidationError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL {
        return Err(ValidationError::new(
            "label",
            format!("must be 1 to {MAX_LABEL} characters"),
        ));
    }
    Ok(label.to_owned())
}

fn check_choices(
    field_type: FieldType,
    choices: Option<Vec<String>>,
) -> Result<Option<Vec<String>>, ValidationError> {
    if !field_type.has_choices() {
        return match choices {
            Some(c) if !c.is_empty() => Err(ValidationError::new(
                "choices",
                format!(
                    "only Single choice and Multiple choice fields have choices, not {}",
                    field_type.as_str()
                ),
            )),
            _ => Ok(None),
        };
    }
    let choices = choices.unwrap_or_default();
    if choices.is_empty() || choices.len() > MAX_CHOICES {
        return Err(ValidationError::new(
            "choices",
            format!(
                "a {} field needs 1 to {MAX_CHOICES} choices",
                field_type.as_str()
            ),
        ));
    }
    let mut clean: Vec<String> = Vec::new();
    for choice in choices {
        let choice = choice.trim().to_owned();
        if choice.is_empty() || choice.chars().count() > MAX_CHOICE || choice.contains(';') {
            return Err(ValidationError::new(
                "choices",
                format!("{choice:?}: each choice is 1 to {MAX_CHOICE} characters, without ;"),
            ));
        }
        if clean
            .iter()
            .any(|c| c.to_lowercase() == choice.to_lowercase())
        {
            return Err(ValidationError::new(
                "choices",
                format!("{choice:?} is listed twice"),
            ));
        }
        clean.push(choice);
    }
    Ok(Some(clean))
}

fn field_in_use(count: usize, field: &CustomField) -> StoreError {
    StoreError::Conflict {
        code: relinx_model::ErrorCode::FieldInUse,
        message: format!(
            "{}: {count} contact{} hold{} values that would not fit the new definition ({}{}); change or clear them first",
            field.key,
            if count == 1 { "" } else { "s" },
            if count == 1 { "s" } else { "" },
            field.field_type.as_str(),
            field
                .choices
                .as_ref()
                .map(|c| format!(": {}", c.join(", ")))
                .unwrap_or_default()
        ),
    }
}

/// What a save did to the definitions.
struct Saved {
    field: CustomField,
    /// The definition before, when the type or choices changed.
    replaced: Option<CustomField>,
}

/// `custom_field.save.json`: creates a field, or changes one. A change of type or
/// choices is refused (409, with how many contacts are affected) when stored values
/// would no longer fit: the new definition is put in force first (so no save can
/// store a value it refuses), then every contact is checked, and if any value
/// misfits the old definition is restored.
pub async fn save(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    input: FieldInput,
) -> Result<CustomField, StoreError> {
    dept.authorize(ctx, Permission::write(Resource::Contacts))?;
    let input = &input;
    let define = || {
        modify_schema(store, dept, |mut schema: Schema, mut tx: Tx| async move {
            let saved = apply(&mut schema, input)?;
            department::stage_change(
                &mut tx,
                store,
                ctx,
                dept,
                EventName::CustomFieldSaved,
                &saved.field,
            );
            Ok(Changed::put(tx, schema, saved))
        })
    };
    let saved = match define().await {
        // The department's first field: its (empty) definitions item comes first.
        Err(StoreError::NotFound(NO_DEFINITIONS)) => {
            create_schema_item(store, dept).await?;
            define().await?
        }
        other => other?,
    };
    let Some(before) = saved.replaced else {
        return Ok(saved.field);
    };
    let misfits = count_misfits(store, dept, &saved.field).await?;
    if misfits == 0 {
        return Ok(saved.field);
    }
    let (after, before) = (&saved.field, &before);
    modify_schema(store, dept, |mut schema: Schema, mut tx: Tx| async move {
        // Restored only if nobody changed the field again meanwhile.
        if let Some(slot) = schema.fields.iter_mut().find(|f| f.id == after.id)
            && slot == after
        {
            *slot = before.clone();
        }
        // A compensation, not a change of the caller's: no writability check.
        tx.event_about(
            store,
            ctx,
            EventName::CustomFieldSaved,
            Some(&dept.workspace),
            before,
        );
        Ok(Changed::put(tx, schema, ()))
    })
    .await?;
    Err(field_in_use(misfits, after))
}

const NO_DEFINITIONS: &str = "custom field definitions";

/// Changes the department's definitions item as `change` says (read, changed and
/// written back under its version).
async fn modify_schema<R, F, Fut>(
    store: &Store,
    dept: &Department,
    change: F,
) -> Result<R, StoreError>
where
    F: FnMut(Schema, Tx) -> Fut,
    Fut: std::future::Future<Output = Result<Changed<Schema, R>, StoreError>>,
{
    versioned::modify(
        store,
        dept.partition(),
        ck::FIELDS_SK.to_owned(),
        no_definitions,
        change,
    )
    .await
}

fn no_definitions() -> StoreError {
    StoreError::NotFound(NO_DEFINITIONS)
}

impl relinx_model::EventSubject for CustomField {
    const KIND: &'static str = "custom_field";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> Value {
        relinx_model::event::data_of(&self.view())
    }
}

/// A department's definitions item, empty, made at its first field: a container
/// (no change anyone sees, so no event), put unless another instance just did.
async fn create_schema_item(store: &Store, dept: &Department) -> Result<(), StoreError> {
    // Made already by another instance: as good.
    store
        .put(
            relinx_ddb::Table::Main,
            relinx_ddb::codec::to_item(
                &Schema::default(),
                dept.partition(),
                ck::FIELDS_SK.to_owned(),
            )?,
        )
        .if_absent()
        .apply()
        .await?;
    Ok(())
}

fn apply(schema: &mut Schema, input: &FieldInput) -> Result<Saved, StoreError> {
    let Some(id) = input.id else {
        let label = check_label(
            input
                .label
                .as_deref()
                .ok_or_else(|| ValidationError::new("label", "is required for a new field"))?,
        )?;
        let field_type = input.field_type.ok_or_else(|| {
            ValidationError::new(
                "type",
                "is required for a new field: Number, Text, Date, Single choice or Multiple choice",
            )
        })?;
        let key = escape_label(input.key.as_deref().unwrap_or(&label));
        check_key(if input.key.is_some() { "key" } else { "label" }, &key)?;
        if let Some(taken) = schema.field_folded(&key) {
            return Err(StoreError::Conflict {
                code: relinx_model::ErrorCode::FieldExists,
                message: format!(
                    "key: the field {} (id {}) already has this key; save with its id to change it",
                    taken.key, taken.id
                ),
            });
        }
        if schema.fields.len() >= MAX_FIELDS {
            return Err(ValidationError::new(
                "key",
                format!("a department has at most {MAX_FIELDS} custom fields"),
            )
            .into());
        }
        let choices = check_choices(field_type, input.choices.clone())?;
        schema.last_id += 1;
        let mut field = CustomField {
            id: schema.last_id,
            field_type,
            key,
            label,
            default_value: String::new(),
            choices,
        };
        field.default_value = check_default(&field, input.default_value.as_deref())?;
        schema.fields.push(field.clone());
        return Ok(Saved {
            field,
            replaced: None,
        });
    };
    let slot = schema
        .fields
        .iter_mut()
        .find(|f| f.id == id)
        .ok_or(StoreError::NotFound("custom field"))?;
    let before = slot.clone();
    if let Some(key) = &input.key
        && escape_label(key) != slot.key
    {
        return Err(ValidationError::new(
            "key",
            format!(
                "a field's key cannot change (it is {:?}; contacts hold their values under it)",
                slot.key
            ),
        )
        .into());
    }
    if let Some(label) = &input.label {
        slot.label = label.clone();
    }
    let field_type = input.field_type.unwrap_or(slot.field_type);
    let choices = match (&input.choices, field_type == slot.field_type) {
        (None, true) => slot.choices.clone(),
        (choices, _) => choices.clone(),
    };
    slot.choices = check_choices(field_type, choices)?;
    slot.field_type = field_type;
    let default_value = input
        .default_value
        .clone()
        .unwrap_or_else(|| slot.default_value.clone());
    slot.default_value = check_default(slot, Some(&default_value))?;
    let changed_rule = before.field_type != slot.field_type || before.choices != slot.choices;
    let field = slot.clone();
    Ok(Saved {
        field,
        replaced: changed_rule.then_some(before),
    })
}

fn check_default(field: &CustomField, value: Option<&str>) -> Result<String, ValidationError> {
    match value.map(str::trim) {
        None | Some("") => Ok(String::new()),
        Some(v) => field
            .check_text(v)
            .map_err(|e| ValidationError::new("default_value", e.message)),
    }
}

/// How many of the department's contacts hold a value `field` refuses.
async fn count_misfits(
    store: &Store,
    dept: &Department,
    field: &CustomField,
) -> Result<usize, StoreError> {
    let contacts = store
        .partition_all(&dept.partition(), relinx_ddb::keys::crm::CONTACT)
        .await?;
    let mut misfits = 0;
    // Only the custom values are read: a field's rule is all that is checked.
    #[derive(serde::Deserialize)]
    struct CustomValues {
        #[serde(default)]
        custom: std::collections::BTreeMap<String, String>,
    }
    for item in contacts {
        let contact: CustomValues = relinx_ddb::codec::from_item(item)?;
        if let Some(value) = contact.custom.get(&field.key)
            && field.check_text(value).is_err()
        {
            misfits += 1;
        }
    }
    Ok(misfits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(field_type: FieldType, choices: &[&str]) -> CustomField {
        CustomField {
            id: 1,
            field_type,
            key: "K".into(),
            label: "K".into(),
            default_value: String::new(),
            choices: (!choices.is_empty()).then(|| choices.iter().map(|c| c.to_string()).collect()),
        }
    }

    #[test]
    fn labels_escape_as_the_seed_shows() {
        assert_eq!(escape_label("T-shirt size"), "T-shirt_size");
        assert_eq!(escape_label(" Featured  in "), "Featured_in");
        assert_eq!(escape_label("DOB"), "DOB");
        assert_eq!(escape_label("Cost (€)?"), "Cost");
        assert_eq!(escape_label("?!"), "");
    }

    #[test]
    fn values_are_checked_by_type() {
        let size = field(FieldType::SingleChoice, &["S", "M", "L", "XL", "XXL"]);
        assert_eq!(size.check(&json!("xl")), Ok(Some("XL".into())));
        let err = size.check(&json!("XXXL")).unwrap_err();
        assert_eq!(err.field, "K");
        assert!(err.message.contains("S, M, L, XL, XXL"), "{}", err.message);
        assert_eq!(size.check(&json!(null)), Ok(None));
        assert_eq!(size.check(&json!("")), Ok(None));

        let films = field(
            FieldType::MultipleChoice,
            &["Goldmember", "Austin Powers 4"],
        );
        assert_eq!(
            films.check(&json!("Goldmember; Austin Powers 4")),
            Ok(Some("Goldmember;Austin Powers 4".into()))
        );
        let err = films.check(&json!("Goldmember;Nope")).unwrap_err();
        assert!(err.message.contains("\"Nope\""), "{}", err.message);

        let dob = field(FieldType::Date, &[]);
        assert_eq!(
            dob.check(&json!("2020-02-29")),
            Ok(Some("2020-02-29".into()))
        );
        for bad in ["2020-13-40", "2021-02-29", "20-01-01", "yesterday"] {
            assert!(dob.check(&json!(bad)).is_err(), "{bad}");
        }

        let number = field(FieldType::Number, &[]);
        assert_eq!(number.check(&json!(42)), Ok(Some("42".into())));
        assert_eq!(number.check(&json!("-3.5")), Ok(Some("-3.5".into())));
        for bad in [json!("12a"), json!("NaN"), json!("inf"), json!(true)] {
            assert!(number.check(&bad).is_err(), "{bad}");
        }
        assert!(field(FieldType::Text, &[]).check(&json!(5)).is_err());
    }
}
