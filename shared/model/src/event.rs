//! The event log entry (API.md "Events, audit, webhooks"): one per state change,
//! written in the same transaction as the change. Event names are a closed, typed
//! list: webhooks subscribe to them and the docs list them from here.

use crate::{EventId, OrgId, Timestamp, WorkspaceId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ServiceAccount,
    /// The platform itself (signup, sweeps).
    System,
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: String,
}

/// What it was done to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl ResourceRef {
    pub fn new(kind: &str, id: impl fmt::Display) -> Self {
        Self {
            kind: kind.to_owned(),
            id: id.to_string(),
        }
    }
}

/// What an event can be about: an entity names its `resource` and the `data` an
/// event carries of it once, here, and every change to it stages its event with
/// `relinx_ddb::tx::Tx::event_about`.
pub trait EventSubject {
    /// `resource.type`: `webhook`, `smartlink`, `contact`, …
    const KIND: &'static str;

    /// `resource.id`.
    fn subject_id(&self) -> String;

    /// `data`: what the log and subscribers see of it (what the API shows).
    fn event_data(&self) -> serde_json::Value;

    fn resource(&self) -> ResourceRef {
        ResourceRef::new(Self::KIND, self.subject_id())
    }
}

/// `value` as an event's `data`: its JSON as the API shows it.
pub fn data_of<T: Serialize>(value: &T) -> serde_json::Value {
    // Only maps with non-string keys fail to serialize, and no entity has one.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

macro_rules! event_names {
    ($($variant:ident = $name:literal => $description:literal),+ $(,)?) => {
        /// Every event the platform writes, by its API.md name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventName { $($variant),+ }

        impl EventName {
            pub const ALL: &'static [EventName] = &[$(Self::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($name => Some(Self::$variant),)+ _ => None }
            }

            /// What happened, for the event-type catalogue.
            pub fn description(&self) -> &'static str {
                match self { $(Self::$variant => $description),+ }
            }
        }
    };
}

event_names! {
    OrgCreated = "org.created" => "An organization was created (signup).",
    OrgUpdated = "org.updated" => "The organization was renamed or its plan changed.",
    WorkspaceCreated = "workspace.created" => "A workspace was created.",
    WorkspaceUpdated = "workspace.updated" => "A workspace was renamed, made read-only or writable again.",
    WorkspaceDeleted = "workspace.deleted" => "A workspace was deleted.",
    UserInvited = "user.invited" => "A member was invited. Endpoints whose registering credential could itself send the invite get its `invite_url` (to mail it); others get the event without it.",
    UserJoined = "user.joined" => "An invited member accepted the invite.",
    UserUpdated = "user.updated" => "A member's name, role or status changed.",
    UserDeleted = "user.deleted" => "A member was removed; their keys and tokens stopped working.",
    RoleCreated = "role.created" => "A custom role was created.",
    RoleUpdated = "role.updated" => "A custom role's permissions changed.",
    RoleDeleted = "role.deleted" => "A custom role was deleted.",
    ApiKeyCreated = "api_key.created" => "An API key was created (its secret is never in an event).",
    ApiKeyRotated = "api_key.rotated" => "An API key's secret was replaced.",
    ApiKeyDeleted = "api_key.deleted" => "An API key was revoked.",
    ServiceAccountCreated = "service_account.created" => "A service account was created.",
    ServiceAccountDeleted = "service_account.deleted" => "A service account was deleted with its keys.",
    RecordCreated = "record.created" => "A RelaySync record was created.",
    RecordUpdated = "record.updated" => "A record changed.",
    RecordSynced = "record.synced" => "A record's status became `synced`.",
    RecordConflict = "record.conflict" => "A write sent a stale causal token and was refused; `data` has the token sent and the record as it is.",
    RecordDeleted = "record.deleted" => "A record was deleted (a tombstone is kept).",
    PolicyCreated = "policy.created" => "A sync policy was created.",
    PolicyUpdated = "policy.updated" => "A sync policy was replaced.",
    PolicyDeleted = "policy.deleted" => "A sync policy was deleted.",
    SmartlinkCreated = "smartlink.created" => "A smartlink was created.",
    SmartlinkUpdated = "smartlink.updated" => "A smartlink changed.",
    SmartlinkDeleted = "smartlink.deleted" => "A smartlink was deleted.",
    ContactSaved = "contact.saved" => "A Relenta contact was created or changed.",
    ContactDeleted = "contact.deleted" => "A contact was deleted.",
    ActivitySaved = "activity.saved" => "A Relenta activity was created or changed.",
    ActivityDeleted = "activity.deleted" => "An activity was deleted.",
    CustomFieldSaved = "custom_field.saved" => "A Relenta custom field was defined or changed.",
    WebhookCreated = "webhook.created" => "A webhook endpoint was registered.",
    WebhookUpdated = "webhook.updated" => "A webhook endpoint changed.",
    WebhookDeleted = "webhook.deleted" => "A webhook endpoint was deleted.",
    WebhookTest = "webhook.test" => "A test event asked for with `POST /v1/webhooks/{id}/test`.",
    WebhookDisabled = "webhook.disabled" => "An endpoint that failed for its whole streak was disabled.",
    SourceCreated = "source.created" => "A Datalinx source was created.",
    SourceUpdated = "source.updated" => "A source changed.",
    SourceDeleted = "source.deleted" => "A source was deleted.",
    SchemaCreated = "schema.created" => "A schema was created.",
    SchemaUpdated = "schema.updated" => "A schema changed (a new version when its fields changed).",
    SchemaDeleted = "schema.deleted" => "A schema was deleted.",
    MappingCreated = "mapping.created" => "A mapping was created.",
    MappingUpdated = "mapping.updated" => "A mapping changed.",
    MappingDeleted = "mapping.deleted" => "A mapping was deleted.",
    PipelineCreated = "pipeline.created" => "A pipeline was created.",
    PipelineUpdated = "pipeline.updated" => "A pipeline changed.",
    PipelineDeleted = "pipeline.deleted" => "A pipeline was deleted.",
    PipelineRunQueued = "pipeline.run_queued" => "A pipeline run was asked for (by a request, the CLI or the schedule); `data` is the run.",
    PipelineCompleted = "pipeline.completed" => "A pipeline run finished; `data` has its counts.",
    PipelineFailed = "pipeline.failed" => "A pipeline run failed; `data` has its counts and why.",
    AudienceCreated = "audience.created" => "An audience was created.",
    AudienceUpdated = "audience.updated" => "An audience changed.",
    AudienceDeleted = "audience.deleted" => "An audience was deleted.",
    AudienceEntered = "audience.entered" => "A contact entered an audience (its condition now holds of the contact); `data` names both.",
    AudienceExited = "audience.exited" => "A contact left an audience (its condition no longer holds, or the contact was deleted); `data` names both.",
    QueryCreated = "query.created" => "A saved query was created.",
    QueryUpdated = "query.updated" => "A saved query changed.",
    QueryDeleted = "query.deleted" => "A saved query was deleted.",
    AlertCreated = "alert.created" => "An alert was created.",
    AlertUpdated = "alert.updated" => "An alert changed.",
    AlertDeleted = "alert.deleted" => "An alert was deleted.",
    AlertTriggered = "alert.triggered" => "An alert's condition became true (ok → firing).",
    AlertResolved = "alert.resolved" => "An alert's condition is no longer true (firing → ok).",
}

/// In the OpenAPI document: a string, one of the names.
impl utoipa::PartialSchema for EventName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL.iter().map(|name| name.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for EventName {}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Self::parse(&raw)
            .ok_or_else(|| serde::de::Error::custom(format!("{raw:?} is not an event name")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    pub id: EventId,
    /// `record.created`, `workspace.updated`, …
    pub event: EventName,
    pub org: OrgId,
    pub workspace: Option<WorkspaceId>,
    pub actor: Actor,
    pub resource: ResourceRef,
    pub timestamp: Timestamp,
    pub request_id: Option<String>,
    pub data: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_dotted_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for name in EventName::ALL {
            let text = name.as_str();
            assert!(seen.insert(text), "{text} listed twice");
            let (resource, action) = text.split_once('.').expect("resource.action");
            assert!(!resource.is_empty() && !action.is_empty(), "{text}");
            assert_eq!(EventName::parse(text), Some(*name));
            let json = serde_json::to_string(name).expect("serialise");
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<EventName>(&json).ok(), Some(*name));
        }
        assert_eq!(EventName::parse("record.exploded"), None);
    }
}
