//! Pipeline operations: create, list, read, change, delete. A pipeline counts as a
//! use of its source and of its mapping (as a mapping does of its source and
//! schema), so neither can be deleted from under it. Runs, schedules and datasets
//! build on these (issue 29).

use crate::mapping::Mapping;
use crate::pipeline::{self, Destination, Mode, Pipeline, Schedule};
use crate::scope::Scope;
use crate::source::Source;
use relinx_ddb::tx::Tx;
use relinx_ddb::versioned::Changed;
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, EventName, MappingId, Name, Patch, Permission, PipelineId, Resource, SourceId,
    Timestamp, ValidationError,
};

const WHAT: &str = "pipeline";

/// A new pipeline, as a request gives it.
#[derive(Debug, Clone)]
pub struct NewPipeline {
    pub name: Name,
    pub source_id: SourceId,
    pub mapping_id: MappingId,
    pub destination: Destination,
    pub mode: Mode,
    pub schedule: Option<String>,
    pub enabled: bool,
}

/// What a PUT changes (only what it names).
#[derive(Debug, Clone, Default)]
pub struct PipelineChange {
    pub name: Option<Name>,
    pub destination: Option<Destination>,
    pub mode: Option<Mode>,
    pub schedule: Patch<String>,
    pub enabled: Option<bool>,
}

fn unprocessable(field: &str, message: &str) -> StoreError {
    StoreError::Unprocessable(ValidationError::new(field, message))
}

/// The mapping the pipeline runs, checked to be built on its source.
async fn mapping_of(
    store: &Store,
    scope: &Scope,
    source_id: &SourceId,
    mapping_id: &MappingId,
) -> Result<Mapping, StoreError> {
    let source: Result<Source, _> = scope.get(store, source_id.as_str()).await;
    if let Err(StoreError::NotFound(_)) = source {
        return Err(unprocessable(
            "source_id",
            "no such source in this workspace",
        ));
    }
    source?;
    let mapping: Mapping = match scope.get(store, mapping_id.as_str()).await {
        Err(StoreError::NotFound(_)) => {
            return Err(unprocessable(
                "mapping_id",
                "no such mapping in this workspace",
            ));
        }
        other => other?,
    };
    if &mapping.source_id != source_id {
        return Err(StoreError::Unprocessable(ValidationError::new(
            "mapping_id",
            format!(
                "mapping {:?} is built on source {}, not this one",
                mapping.name, mapping.source_id
            ),
        )));
    }
    Ok(mapping)
}

fn checked_schedule(schedule: Option<String>) -> Result<Option<String>, StoreError> {
    match schedule {
        Some(raw) => {
            Schedule::parse(&raw).map_err(StoreError::Unprocessable)?;
            Ok(Some(raw.trim().to_owned()))
        }
        None => Ok(None),
    }
}

/// Stages `delta` uses of the pipeline's source and mapping.
fn stage_uses(tx: &mut Tx, store: &Store, scope: &Scope, pipeline: &Pipeline, delta: i64) {
    scope.stage_use(
        tx,
        store,
        scope.sk::<Source>(pipeline.source_id.as_str()),
        delta,
    );
    scope.stage_use(
        tx,
        store,
        scope.sk::<Mapping>(pipeline.mapping_id.as_str()),
        delta,
    );
}

pub async fn create(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    new: NewPipeline,
) -> Result<Pipeline, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Pipelines), WHAT)?;
    let mapping = mapping_of(store, scope, &new.source_id, &new.mapping_id).await?;
    pipeline::check(&new.destination, new.mode, &mapping).map_err(StoreError::Unprocessable)?;
    let now = Timestamp::now();
    let pipeline = Pipeline {
        id: PipelineId::generate(),
        name: new.name.to_string(),
        source_id: new.source_id,
        mapping_id: new.mapping_id,
        destination: new.destination,
        mode: new.mode,
        schedule: checked_schedule(new.schedule)?,
        enabled: new.enabled,
        created_by: ctx.actor.id.clone(),
        creator: Some(ctx.actor.clone()),
        creator_key: ctx.key_id().cloned(),
        created_at: now,
        updated_at: now,
        active_run: None,
        high_water: None,
        last_run: None,
        run_count: 0,
        cursor: None,
        schedule_due: None,
    };
    let mut pipeline = pipeline;
    let mut tx = Tx::new();
    crate::schedule::stage_entry(&mut tx, store, scope, &mut pipeline, now)?;
    scope.stage_new(&mut tx, store, &pipeline)?;
    stage_uses(&mut tx, store, scope, &pipeline, 1);
    scope.stage_change(&mut tx, store, ctx, EventName::PipelineCreated, &pipeline);
    tx.answer(store, &pipeline);
    tx.commit(store).await?;
    Ok(pipeline)
}

/// Every pipeline of the workspace, oldest first.
pub async fn list(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
) -> Result<Vec<Pipeline>, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Pipelines), WHAT)?;
    scope.all(store).await
}

pub async fn get(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &PipelineId,
) -> Result<Pipeline, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Pipelines), WHAT)?;
    scope.get(store, id.as_str()).await
}

/// Changes what `change` names; a new destination or mode is checked against the
/// mapping as it is now.
pub async fn update(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &PipelineId,
    change: PipelineChange,
) -> Result<Pipeline, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Pipelines), WHAT)?;
    let current = get(store, ctx, scope, id).await?;
    let destination = change
        .destination
        .clone()
        .unwrap_or(current.destination.clone());
    let mode = change.mode.unwrap_or(current.mode);
    if change.destination.is_some() || change.mode.is_some() {
        let mapping = mapping_of(store, scope, &current.source_id, &current.mapping_id).await?;
        pipeline::check(&destination, mode, &mapping).map_err(StoreError::Unprocessable)?;
    }
    let schedule = match change.schedule.clone() {
        Patch::Value(raw) => Patch::Value(checked_schedule(Some(raw))?.unwrap_or_default()),
        other => other,
    };
    scope
        .modify(store, id.as_str(), |mut pipeline: Pipeline, mut tx: Tx| {
            let change = &change;
            let destination = destination.clone();
            let schedule = schedule.clone();
            async move {
                if let Some(name) = &change.name {
                    scope.stage_rename(&mut tx, store, &mut pipeline, name);
                }
                pipeline.destination = destination;
                pipeline.mode = mode;
                let timing = (pipeline.schedule.clone(), pipeline.enabled);
                schedule.apply_to(&mut pipeline.schedule);
                if let Some(enabled) = change.enabled {
                    pipeline.enabled = enabled;
                }
                pipeline.updated_at = Timestamp::now();
                if timing != (pipeline.schedule.clone(), pipeline.enabled) {
                    let from = pipeline.updated_at;
                    crate::schedule::stage_entry(&mut tx, store, scope, &mut pipeline, from)?;
                }
                scope.stage_change(&mut tx, store, ctx, EventName::PipelineUpdated, &pipeline);
                tx.answer(store, &pipeline);
                Ok(Changed::put(tx, pipeline.clone(), pipeline))
            }
        })
        .await
}

pub async fn delete(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &PipelineId,
) -> Result<Pipeline, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Pipelines), WHAT)?;
    scope
        .modify(
            store,
            id.as_str(),
            |mut pipeline: Pipeline, mut tx: Tx| async move {
                if let Some(active) = &pipeline.active_run {
                    return Err(StoreError::conflict(
                        relinx_model::ErrorCode::RunInProgress,
                        format!("run {active} of this pipeline is queued or running: cancel it, or wait for it to end, before deleting the pipeline"),
                    ));
                }
                pipeline.enabled = false;
                crate::schedule::stage_entry(&mut tx, store, scope, &mut pipeline, Timestamp::now())?;
                scope.stage_release(&mut tx, store, &pipeline);
                stage_uses(&mut tx, store, scope, &pipeline, -1);
                scope.stage_change(&mut tx, store, ctx, EventName::PipelineDeleted, &pipeline);
                Ok(Changed::delete(tx, pipeline))
            },
        )
        .await
}
