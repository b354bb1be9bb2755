//! Typed, prefixed identifiers (`org_01J…`): an org id can never be passed where a
//! workspace id is wanted, and ids sort by creation time (ULID).

use rand::Rng;
use std::fmt;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id, ordered after every id made earlier.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, ulid::Ulid::new()))
            }

            /// The id of `ulid`, for ids derived from other ids.
            pub fn from_ulid(ulid: ulid::Ulid) -> Self {
                Self(format!("{}_{}", $prefix, ulid))
            }

            /// Accepts `<prefix>_<ULID>` and nothing else.
            pub fn parse(raw: &str) -> Option<Self> {
                let rest = raw.strip_prefix($prefix)?.strip_prefix('_')?;
                ulid::Ulid::from_string(rest).ok()?;
                Some(Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                Self::parse(&raw).ok_or_else(|| format!("not a valid {} id: {raw:?}", $prefix))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                id_schema(
                    concat!("^", $prefix, "_[0-9A-HJKMNP-TV-Z]{26}$"),
                    concat!($prefix, "_01JD8Z2X4Q7V3N5K9M2B6C8D0E"),
                )
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// A string id's schema: its pattern and an example.
fn id_schema(
    pattern: &'static str,
    example: &'static str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .examples([example])
        .into()
}

prefixed_id!(
    /// An organization: the tenant.
    OrgId,
    "org"
);
prefixed_id!(
    /// A workspace inside an organization (Relenta calls it a department).
    WorkspaceId,
    "ws"
);
prefixed_id!(
    /// A person who signs in.
    UserId,
    "usr"
);
prefixed_id!(
    /// A non-human identity that owns API keys.
    ServiceAccountId,
    "sa"
);
prefixed_id!(
    /// A RelaySync field record.
    RecordId,
    "rec"
);
prefixed_id!(
    /// A Relink smartlink.
    LinkId,
    "lnk"
);
prefixed_id!(
    /// A webhook endpoint.
    WebhookId,
    "wh"
);
prefixed_id!(
    /// One webhook delivery: an event for one endpoint (its ULID carries the event's
    /// time, so jobs sort like their events).
    JobId,
    "job"
);
prefixed_id!(
    /// One entry of the append-only event log.
    EventId,
    "evt"
);
prefixed_id!(
    /// A Datalinx source: where rows come from.
    SourceId,
    "src"
);
prefixed_id!(
    /// A Datalinx schema: the shape rows are mapped onto.
    SchemaId,
    "sch"
);
prefixed_id!(
    /// A Datalinx mapping: how a source's columns become a schema's fields.
    MappingId,
    "map"
);
prefixed_id!(
    /// A Datalinx pipeline: a source, through a mapping, into a destination.
    PipelineId,
    "pl"
);
prefixed_id!(
    /// A saved analytics query.
    QueryId,
    "qry"
);
prefixed_id!(
    /// An audience: the contacts a condition holds of, kept current.
    AudienceId,
    "aud"
);
prefixed_id!(
    /// One run of a pipeline (time-ordered: a pipeline's runs list newest first).
    RunId,
    "run"
);

/// The public half of an API key: 16 characters `[A-Za-z0-9]` (seed 000's `id.key`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct ApiKeyId(String);

impl ApiKeyId {
    pub const LEN: usize = 16;

    pub fn generate() -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        let id = (0..Self::LEN)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        Self(id)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == Self::LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ApiKeyId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw).ok_or_else(|| format!("not a valid API key id: {raw:?}"))
    }
}

impl From<ApiKeyId> for String {
    fn from(id: ApiKeyId) -> String {
        id.0
    }
}

impl utoipa::PartialSchema for ApiKeyId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        id_schema("^[A-Za-z0-9]{16}$", "AdKmXKzJuxtcBzOp")
    }
}

impl utoipa::ToSchema for ApiKeyId {}

/// An id a route takes from its path: how it parses, and what a 404 for a malformed
/// (or unknown) one calls the resource.
pub trait PathId: Sized {
    const RESOURCE: &'static str;
    fn parse_path(raw: &str) -> Option<Self>;
}

macro_rules! path_id {
    ($($name:ident => $what:literal),+ $(,)?) => {
        $(impl PathId for $name {
            const RESOURCE: &'static str = $what;
            fn parse_path(raw: &str) -> Option<Self> {
                Self::parse(raw)
            }
        })+
    };
}

path_id! {
    UserId => "user",
    WorkspaceId => "workspace",
    RecordId => "record",
    ServiceAccountId => "service account",
    ApiKeyId => "API key",
    WebhookId => "webhook",
    JobId => "job",
    SourceId => "source",
    SchemaId => "schema",
    MappingId => "mapping",
    PipelineId => "pipeline",
    RunId => "run",
    QueryId => "query",
    AudienceId => "audience",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_other_prefixes() {
        let org = OrgId::generate();
        assert!(org.as_str().starts_with("org_"));
        assert_eq!(OrgId::parse(org.as_str()), Some(org.clone()));
        assert_eq!(WorkspaceId::parse(org.as_str()), None);
        assert_eq!(OrgId::parse("org_notaulid"), None);
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = EventId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = EventId::generate();
        assert!(a < b);
    }

    #[test]
    fn api_key_ids_are_sixteen_alphanumerics() {
        let id = ApiKeyId::generate();
        assert_eq!(id.as_str().len(), 16);
        assert!(ApiKeyId::parse(id.as_str()).is_some());
        assert!(ApiKeyId::parse("short").is_none());
        assert!(ApiKeyId::parse("abcdefghijklmno-").is_none());
    }
}
