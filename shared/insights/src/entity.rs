//! What a query reads: the entities of a workspace, the fields each offers, and
//! the owning domain's reader that walks it.

use relinx_data::Scope;
use relinx_data::datasets::{self, Dataset};
use relinx_ddb::{ReadBudget, Store, StoreError};
use relinx_model::{Context, Timestamp, ValidationError, WorkspaceId};
use serde_json::Value;

/// An entity a query reads (`from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    Contacts,
    Records,
    Activities,
    Clicks,
    Events,
    Dataset(String),
}

/// Records' fields (`data` takes a path: `data.pressure`).
const RECORD_FIELDS: &[&str] = &[
    "id",
    "workspace_id",
    "title",
    "type",
    "site",
    "status",
    "queue",
    "priority",
    "causal",
    "created_at",
    "updated_at",
];
const ACTIVITY_FIELDS: &[&str] = &[
    "id",
    "activity_type",
    "label",
    "calendar_id",
    "all_day",
    "dt_created",
    "dt_modified",
    "dt_start",
    "dt_end",
    "rrule",
    "status",
    "author",
    "users",
    "contacts",
    "subject",
    "body",
];
/// One row a link and day.
const CLICK_FIELDS: &[&str] = &[
    "link_id",
    "link_name",
    "day",
    "clicks",
    "qr_code_scans",
    "fall_backs",
    "bots",
];
/// Events' fields (`actor`, `resource`, `data` take a path: `resource.type`).
const EVENT_FIELDS: &[&str] = &["id", "event", "workspace", "timestamp", "request_id"];

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

impl Entity {
    /// `from` as given; 422 naming the choices otherwise.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let raw = raw.trim();
        Ok(match raw {
            "contacts" => Self::Contacts,
            "records" => Self::Records,
            "activities" => Self::Activities,
            "clicks" => Self::Clicks,
            "events" => Self::Events,
            _ => match raw.strip_prefix("dataset:") {
                Some(name) if !name.trim().is_empty() => Self::Dataset(name.trim().to_owned()),
                _ => {
                    return Err(StoreError::Unprocessable(ValidationError::new(
                        "from",
                        format!(
                            "{raw:?} is not something a query reads: one of contacts, records, activities, clicks, events, dataset:<name>"
                        ),
                    )));
                }
            },
        })
    }

    /// The field a `range` is over when it names none.
    pub fn time_field(&self) -> Option<&'static str> {
        match self {
            Self::Contacts => Some("dt_created"),
            Self::Records => Some("created_at"),
            Self::Activities => Some("dt_start"),
            Self::Clicks => Some("day"),
            Self::Events => Some("timestamp"),
            Self::Dataset(_) => None,
        }
    }

    /// Whether the entity's keys are ordered by its time field, so a range on it is
    /// a key condition (it is a filter on what is read elsewhere).
    pub fn keyed_by_time(&self, field: &str) -> bool {
        self.time_field() == Some(field)
            && matches!(self, Self::Records | Self::Clicks | Self::Events)
    }
}

/// What a query may name of an entity.
#[derive(Debug, Clone)]
pub struct EntityFields {
    pub scalars: Vec<String>,
    /// Roots that take a path (`data.x`).
    pub objects: Vec<String>,
    /// The dataset read, for `dataset:<name>`.
    pub dataset: Option<Dataset>,
}

/// The fields `entity` offers in workspace `ws` (a contact's custom fields, a
/// dataset's columns are the workspace's own).
pub async fn fields(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    entity: &Entity,
) -> Result<EntityFields, StoreError> {
    let (scalars, objects, dataset) = match entity {
        Entity::Contacts => {
            let dept = relinx_crm::Department::of(ctx, ws);
            let names = relinx_crm::contacts::field_names(store, ctx, &dept).await?;
            (names, Vec::new(), None)
        }
        Entity::Records => (owned(RECORD_FIELDS), owned(&["data"]), None),
        Entity::Activities => (owned(ACTIVITY_FIELDS), Vec::new(), None),
        Entity::Clicks => (owned(CLICK_FIELDS), Vec::new(), None),
        Entity::Events => (
            owned(EVENT_FIELDS),
            owned(&["actor", "resource", "data"]),
            None,
        ),
        Entity::Dataset(name) => {
            let scope = Scope::of(ctx, ws);
            let dataset = match datasets::get(store, ctx, &scope, name).await {
                Err(StoreError::NotFound(_)) => {
                    return Err(StoreError::Unprocessable(ValidationError::new(
                        "from",
                        format!(
                            "this workspace has no dataset named {name:?} (GET /api/datasets lists them)"
                        ),
                    )));
                }
                other => other?,
            };
            let columns = dataset.columns.iter().map(|c| c.name.clone()).collect();
            (columns, Vec::new(), Some(dataset))
        }
    };
    Ok(EntityFields {
        scalars,
        objects,
        dataset,
    })
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).unwrap_or_else(Timestamp::now)
}

/// Walks the entity through its owner's reader, each row handed to `visit` as
/// JSON; `keyed` is the time range when it is a key condition.
pub async fn walk(
    store: &Store,
    ctx: &Context,
    ws: &WorkspaceId,
    (entity, fields): (&Entity, &EntityFields),
    keyed: Option<(i64, i64)>,
    budget: &mut ReadBudget,
    visit: &mut (dyn FnMut(Value) -> Result<(), StoreError> + Send),
) -> Result<(), StoreError> {
    match entity {
        Entity::Contacts => {
            let dept = relinx_crm::Department::of(ctx, ws);
            relinx_crm::contacts::walk(store, ctx, &dept, budget, visit).await
        }
        Entity::Activities => {
            let dept = relinx_crm::Department::of(ctx, ws);
            relinx_crm::activities::walk(store, ctx, &dept, budget, visit).await
        }
        Entity::Records => {
            let created = keyed.map(|(from, to)| (timestamp(from), timestamp(to)));
            relinx_records::records::walk(store, ctx, ws, created, budget, visit).await
        }
        Entity::Clicks => {
            let (from, to) = keyed.map_or_else(
                || ("0000-00-00".to_owned(), "9999-99-99".to_owned()),
                |(from, to)| {
                    (
                        crate::timefmt::day_bucket(from).unwrap_or_default(),
                        crate::timefmt::day_bucket(to).unwrap_or_else(|| "9999-99-99".into()),
                    )
                },
            );
            relinx_links::links::walk_days(store, ctx, ws, (&from, &to), budget, visit).await
        }
        Entity::Events => {
            let (from, to) = keyed.unwrap_or((0, Timestamp::now().unix_millis()));
            relinx_audit::walk(
                store,
                ctx,
                ws,
                (timestamp(from), timestamp(to)),
                budget,
                &mut |event| visit(relinx_model::event::data_of(&event)),
            )
            .await
        }
        Entity::Dataset(_) => {
            let Some(dataset) = &fields.dataset else {
                return Err(StoreError::Internal(
                    "a dataset query without its dataset".into(),
                ));
            };
            datasets::walk(store, ctx, &Scope::of(ctx, ws), dataset, budget, visit).await
        }
    }
}
