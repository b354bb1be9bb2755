//! Timestamps: RFC 3339 in UTC with millisecond precision, the form every surface shows.

use std::fmt;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_datetime(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let millis = at.millisecond();
        // Cannot fail: the nanosecond value is derived from a valid millisecond.
        let truncated = at
            .replace_nanosecond(u32::from(millis) * 1_000_000)
            .unwrap_or(at);
        Self(truncated)
    }

    pub fn from_unix(seconds: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .map(Self::from_datetime)
    }

    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .ok()
            .map(Self::from_datetime)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        OffsetDateTime::parse(raw, &Rfc3339)
            .ok()
            .map(Self::from_datetime)
    }

    pub fn unix(&self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn unix_millis(&self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    pub fn plus_seconds(&self, seconds: i64) -> Self {
        Self(self.0 + time::Duration::seconds(seconds))
    }

    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rfc3339 formatting of a UTC value within years 0..=9999 cannot fail.
        match self.0.format(&Rfc3339) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{}", self.0.unix_timestamp()),
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected an RFC 3339 timestamp such as 2026-01-15T10:30:00Z, got {raw:?}"
            ))
        })
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2026-11-25T21:54:44.799Z"])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let at = Timestamp::parse("2026-01-15T10:30:00.123456Z").expect("valid");
        assert_eq!(at.to_string(), "2026-01-15T10:30:00.123Z");
        assert_eq!(Timestamp::parse(&at.to_string()), Some(at));
        assert!(Timestamp::parse("yesterday").is_none());
    }
}
