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

macro_rules! event_names {
    ($($variant:ident = $name:literal),+ $(,)?) => {
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
        }
    };
}

event_names! {
    OrgCreated = "org.created",
    OrgUpdated = "org.updated",
    WorkspaceCreated = "workspace.created",
    WorkspaceUpdated = "workspace.updated",
    WorkspaceDeleted = "workspace.deleted",
    UserInvited = "user.invited",
    UserJoined = "user.joined",
    UserUpdated = "user.updated",
    UserDeleted = "user.deleted",
    RoleCreated = "role.created",
    RoleUpdated = "role.updated",
    RoleDeleted = "role.deleted",
    ApiKeyCreated = "api_key.created",
    ApiKeyRotated = "api_key.rotated",
    ApiKeyDeleted = "api_key.deleted",
    ServiceAccountCreated = "service_account.created",
    ServiceAccountDeleted = "service_account.deleted",
    RecordCreated = "record.created",
    RecordUpdated = "record.updated",
    RecordSynced = "record.synced",
    RecordConflict = "record.conflict",
    RecordDeleted = "record.deleted",
    PolicyCreated = "policy.created",
    PolicyUpdated = "policy.updated",
    PolicyDeleted = "policy.deleted",
    SmartlinkCreated = "smartlink.created",
    SmartlinkUpdated = "smartlink.updated",
    SmartlinkDeleted = "smartlink.deleted",
    ContactSaved = "contact.saved",
    ContactDeleted = "contact.deleted",
    ActivitySaved = "activity.saved",
    ActivityDeleted = "activity.deleted",
    CustomFieldSaved = "custom_field.saved",
    WebhookCreated = "webhook.created",
    WebhookUpdated = "webhook.updated",
    WebhookDeleted = "webhook.deleted",
    WebhookTest = "webhook.test",
    WebhookDisabled = "webhook.disabled",
    SourceCreated = "source.created",
    SourceUpdated = "source.updated",
    SourceDeleted = "source.deleted",
    SchemaCreated = "schema.created",
    SchemaUpdated = "schema.updated",
    SchemaDeleted = "schema.deleted",
    MappingCreated = "mapping.created",
    MappingUpdated = "mapping.updated",
    MappingDeleted = "mapping.deleted",
    PipelineCreated = "pipeline.created",
    PipelineUpdated = "pipeline.updated",
    PipelineDeleted = "pipeline.deleted",
    PipelineCompleted = "pipeline.completed",
    PipelineFailed = "pipeline.failed",
    AudienceCreated = "audience.created",
    AudienceUpdated = "audience.updated",
    AudienceDeleted = "audience.deleted",
    QueryCreated = "query.created",
    QueryUpdated = "query.updated",
    QueryDeleted = "query.deleted",
    AlertCreated = "alert.created",
    AlertUpdated = "alert.updated",
    AlertDeleted = "alert.deleted",
    AlertTriggered = "alert.triggered",
    AlertResolved = "alert.resolved",
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
