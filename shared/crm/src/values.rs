//! The value formats every Relenta module shares (ids, times, dates) and the
//! contact's own keys, which custom fields may not take: the leaf the contact,
//! activity and field modules all build on, so none of them depends on another for
//! these.

use relinx_model::{Timestamp, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A department's integer ids (seed 004: lists show them as strings, saves answer
/// them as numbers), each its own type so a contact's id is never taken for an
/// activity's.
macro_rules! department_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// The id a department's counter handed out.
            pub(crate) fn from_counter(n: u64) -> Self {
                Self(n)
            }

            /// As a list shows it (a string) or a save answers it (a number).
            pub fn parse(field: &str, value: &Value) -> Result<Self, ValidationError> {
                parse_id(field, value).map(Self)
            }

            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

department_id!(
    /// A contact's id in its department.
    ContactId
);
department_id!(
    /// An activity's id in its department.
    ActivityId
);

impl ActivityId {
    /// No id yet: a new activity's until its checks pass and the counter hands it
    /// one (never stored).
    pub(crate) const UNSET: Self = Self(0);
}

/// A contact's own text fields, in the order the seed shows them (`id`, the
/// timestamps and `do_not_mass_email` are placed among them when shown).
pub const TEXT_FIELDS: [&str; 18] = [
    "full_name",
    "first_name",
    "last_name",
    "emails",
    "title",
    "company",
    "comment",
    "phone",
    "url",
    "fax",
    "messenger",
    "twitter",
    "linkedin",
    "facebook",
    "text",
    "address",
    "groups",
    "tags",
];

/// The flag as the seed's example spells it (answered so).
pub const NO_MASS_EMAIL: &str = "do_not_mass_email";
/// The flag as the seed's table spells it (accepted too).
pub const NO_MASS_EMAIL_TABLE: &str = "do_no_mass_email";

/// Keys a save may carry that are not written: the server keeps them (a listed
/// contact can be posted back as it is).
pub(crate) const SERVER_KEPT: [&str; 3] = ["dt_created", "dt_modified", "activities"];

/// Whether `key` is a contact field of its own (no custom field may take it).
pub fn is_reserved(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "id"
        || key == NO_MASS_EMAIL
        || key == NO_MASS_EMAIL_TABLE
        || TEXT_FIELDS.contains(&key.as_str())
        || SERVER_KEPT.contains(&key.as_str())
}

/// An id as a list shows it (a string) or as a save answers it (an integer).
pub fn parse_id(field: &str, value: &Value) -> Result<u64, ValidationError> {
    let id = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    id.filter(|id| *id > 0).ok_or_else(|| {
        ValidationError::new(
            field,
            "must be an id: a positive integer (or its digits as a string)",
        )
    })
}

/// Relenta's time format: UTC to the second (`2016-01-05T12:03:32Z`).
pub fn seconds(at: Timestamp) -> String {
    let t = at.datetime().to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A calendar date written `YYYY-MM-DD` exactly (a Date field's value; an all-day
/// time).
pub fn parse_date(raw: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, format)
        .ok()
        .filter(|_| raw.len() == 10)
}

/// A time as a save or a query gives it: RFC 3339, or a date (midnight UTC).
pub fn parse_time(field: &str, raw: &str) -> Result<Timestamp, ValidationError> {
    let raw = raw.trim();
    if let Some(at) = Timestamp::parse(raw) {
        return Ok(at);
    }
    parse_date(raw)
        .map(|d| Timestamp::from_datetime(d.midnight().assume_utc()))
        .ok_or_else(|| {
            ValidationError::new(
                field,
                format!("{raw:?} is not a time: use 2016-01-21T19:00:00Z (or a date, 2016-01-21)"),
            )
        })
}
