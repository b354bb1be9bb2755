//! Domain types shared by every relinx surface: once a value of these types exists,
//! it is valid, so handlers and the store never re-check it.

pub mod caller;
pub mod entities;
pub mod error;
mod error_code;
pub mod event;
pub mod ids;
pub mod json;
pub mod patch;
pub mod plan;
pub mod role;
pub mod shape;
pub mod time;
pub mod values;

pub use caller::{Context, Credential, Denied, OutsideScope};
pub use entities::{ApiKey, Org, Role, ServiceAccount, User, UserStatus, Workspace};
pub use error::ValidationError;
pub use error_code::ErrorCode;
pub use event::{Actor, ActorKind, Event, EventName, EventSubject, ResourceRef};
pub use ids::PathId;
pub use ids::{
    ApiKeyId, AudienceId, EventId, JobId, LinkId, MappingId, OrgId, PipelineId, QueryId, RecordId,
    RunId, SchemaId, ServiceAccountId, SourceId, UserId, WebhookId, WorkspaceId,
};
pub use patch::Patch;
pub use plan::{Limits, LimitsOverride, Plan};
pub use role::{Access, BuiltinRole, Permission, PermissionSet, Resource};
pub use shape::{DataType, FieldDef};
pub use time::Timestamp;
pub use values::{Email, EmailList, Name, Password, PeopleList};
