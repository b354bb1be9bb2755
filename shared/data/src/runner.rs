//! The runner's work on one run (the `runner` function, on the run queue): act as
//! whoever started it (checked again now), fix the input when it starts (the
//! uploads after the pipeline's high-water mark, up to the newest), then map and
//! load it one slice at a time. After each slice a checkpoint — the run's counters
//! and position, its rejected rows, a dataset's row count — is written over the
//! checkpoint it read, so a message delivered again (the process died, the queue
//! retried) goes on from there; rows a dead attempt wrote past its checkpoint are
//! found by their op markers (`load`) and never written twice. A run longer than one
//! invocation continues in a follow-up message. It ends with `pipeline.completed`
//! or `pipeline.failed`, in the transaction that frees the pipeline for its next run
//! (and, after a successful run, moves its high-water mark).

use crate::datasets::{self, DatasetColumn};
use crate::load::{self, Loader, Pacer, Row, Verdict};
use crate::mapping::{Mapping, RowError};
use crate::pipeline::{Mode, Pipeline};
use crate::run::{Counts, LastRun, RejectedRow, Run, RunStatus, SHOWN_ERRORS, run_sk};
use crate::run_queue::{self, Message};
use crate::schema::SchemaRef;
use crate::scope::Scope;
use crate::source::{Source, SourceConfig};
use crate::staging::{self, Upload};
use relinx_ddb::codec::{s, to_item};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::{Store, StoreError, versioned};
use relinx_model::{
    BuiltinRole, Context, EventName, Permission, PipelineId, Resource, ResourceRef, RunId,
    Timestamp,
};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Instant;

/// Rows mapped and loaded between two checkpoints: contacts and records (each row
/// its own transaction, paced), and dataset rows (batched: a whole upload between
/// checkpoints keeps the batch writer busy instead of draining it every slice).
pub const SLICE_ROWS: usize = 500;
pub const DATASET_SLICE_ROWS: usize = crate::staging::MAX_ROWS;

/// How a message's work ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The run ended (now, or before this message).
    Finished(RunStatus),
    /// It goes on in a follow-up message.
    Continued,
    /// Another worker holds it (a duplicate message): nothing done here.
    Elsewhere,
    /// A deleted dataset's rows were removed.
    Purged(u64),
}

/// Works on what `message` names until it is done or `budget` is spent.
pub async fn work(
    store: &Store,
    message: &Message,
    budget: std::time::Duration,
) -> Result<Outcome, StoreError> {
    match message {
        Message::Purge {
            org,
            workspace,
            dataset,
            generation,
        } => {
            let scope = Scope {
                org: org.clone(),
                workspace: workspace.clone(),
            };
            datasets::purge(store, &scope, dataset, generation)
                .await
                .map(Outcome::Purged)
        }
        Message::Run {
            org,
            workspace,
            pipeline,
            run,
        } => {
            let scope = Scope {
                org: org.clone(),
                workspace: workspace.clone(),
            };
            work_on_run(store, &scope, pipeline, run, Instant::now() + budget).await
        }
    }
}

/// Why a run cannot go on: it fails, saying so.
struct Fatal(String);

async fn work_on_run(
    store: &Store,
    scope: &Scope,
    pipeline_id: &PipelineId,
    run_id: &RunId,
    deadline: Instant,
) -> Result<Outcome, StoreError> {
    let Some(run) = store
        .get::<Run>(scope.partition(), run_sk(pipeline_id, run_id))
        .await?
    else {
        tracing::warn!(run = %run_id, "a message for a run that does not exist");
        return Ok(Outcome::Finished(RunStatus::Failed));
    };
    if run.status.finished() {
        return Ok(Outcome::Finished(run.status));
    }
    if run.cancel_requested {
        finish(
            store,
            scope,
            run_id,
            pipeline_id,
            RunStatus::Cancelled,
            None,
        )
        .await?;
        return Ok(Outcome::Finished(RunStatus::Cancelled));
    }
    match advance(store, scope, run, deadline).await? {
        Ok(outcome) => Ok(outcome),
        Err(Fatal(reason)) => {
            finish(
                store,
                scope,
                run_id,
                pipeline_id,
                RunStatus::Failed,
                Some(reason),
            )
            .await?;
            Ok(Outcome::Finished(RunStatus::Failed))
        }
    }
}

/// The context the run acts in: its starter's, as it stands now.
async fn acting_context(
    store: &Store,
    scope: &Scope,
    run: &Run,
) -> Result<Result<Context, Fatal>, StoreError> {
    let ctx = match relinx_identity::standing::acting_as(
        store,
        &scope.org,
        &run.actor,
        run.key_id.as_ref(),
    )
    .await?
    {
        Ok(ctx) => ctx.with_request_id(Some(run.id.to_string())),
        Err(why) => {
            return Ok(Err(Fatal(format!(
                "the run acts as {}, who cannot act any more: {why}",
                who(&run.actor)
            ))));
        }
    };
    if scope
        .authorize(&ctx, Permission::write(Resource::Pipelines), "pipeline")
        .is_err()
    {
        return Ok(Err(Fatal(format!(
            "the run acts as {}, who may no longer run pipelines in this workspace",
            who(&run.actor)
        ))));
    }
    Ok(Ok(ctx))
}

fn who(actor: &relinx_model::Actor) -> String {
    match actor.kind {
        relinx_model::ActorKind::User => format!("member {}", actor.id),
        relinx_model::ActorKind::ServiceAccount => format!("service account {}", actor.id),
        relinx_model::ActorKind::System => "the platform".to_owned(),
    }
}

/// A run's fixed inputs, read afresh by each invocation.
struct Plan {
    ctx: Context,
    pipeline: Pipeline,
    source: Source,
    compiled: crate::mapping::Compiled,
    target: crate::schema::Target,
    columns: Vec<DatasetColumn>,
}

async fn plan(store: &Store, scope: &Scope, run: &Run) -> Result<Result<Plan, Fatal>, StoreError> {
    let ctx = match acting_context(store, scope, run).await? {
        Ok(ctx) => ctx,
        Err(fatal) => return Ok(Err(fatal)),
    };
    let gone = |what: &str| Ok(Err(Fatal(format!("the pipeline's {what} was deleted"))));
    let pipeline: Pipeline = match scope.get(store, run.pipeline_id.as_str()).await {
        Err(StoreError::NotFound(_)) => return gone("self"),
        other => other?,
    };
    let source: Source = match scope.get(store, pipeline.source_id.as_str()).await {
        Err(StoreError::NotFound(_)) => return gone("source"),
        other => other?,
    };
    let mapping: Mapping = match scope.get(store, pipeline.mapping_id.as_str()).await {
        Err(StoreError::NotFound(_)) => return gone("mapping"),
        other => other?,
    };
    let Some(schema) = SchemaRef::parse(&mapping.schema_id) else {
        return Ok(Err(Fatal("the mapping names no schema".into())));
    };
    let resolved = match crate::schemas::resolve(store, &ctx, scope, &schema).await {
        Ok(resolved) => resolved,
        Err(StoreError::NotFound(_)) => return gone("schema"),
        Err(StoreError::Forbidden { message, .. }) => return Ok(Err(Fatal(message))),
        Err(err) => return Err(err),
    };
    let compiled = match crate::mapping::compile(&source, &resolved.view.fields, &mapping.fields) {
        Ok(compiled) => compiled,
        Err(e) => {
            return Ok(Err(Fatal(format!(
                "mapping {:?} no longer fits its source or schema ({}: {}): update it",
                mapping.name, e.field, e.message
            ))));
        }
    };
    let columns = resolved
        .view
        .fields
        .iter()
        .map(|f| DatasetColumn {
            name: f.name.clone(),
            column_type: f.data_type,
        })
        .collect();
    Ok(Ok(Plan {
        ctx,
        pipeline,
        source,
        compiled,
        target: resolved.target,
        columns,
    }))
}

/// An upload's rows, mapped, with which rows a later row of the same key replaces.
struct MappedUpload {
    upload: Upload,
    rows: Vec<Vec<String>>,
    mapped: Vec<(Map<String, Value>, Vec<RowError>)>,
    /// Rows whose key a later row repeats.
    superseded: Vec<bool>,
}

fn map_upload(plan: &Plan, upload: Upload, rows: Vec<Vec<String>>) -> MappedUpload {
    let mapped: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, values)| {
            plan.compiled
                .map_row(i as u64 + 1, &upload.columns, values, &plan.target)
        })
        .collect();
    let mut superseded = vec![false; rows.len()];
    if plan.pipeline.mode == Mode::Upsert
        && let Some(key) = &plan.pipeline.destination.key
    {
        let key: Vec<String> = key.fields().into_iter().map(str::to_owned).collect();
        let mut last: HashMap<String, usize> = HashMap::new();
        for (i, (values, errors)) in mapped.iter().enumerate() {
            if !errors.is_empty() {
                continue;
            }
            if let Ok(values) = load::key_values(values, &key) {
                let joined = serde_json::to_string(&values).unwrap_or_default();
                if let Some(earlier) = last.insert(joined, i) {
                    superseded[earlier] = true;
                }
            }
        }
    }
    MappedUpload {
        upload,
        rows,
        mapped,
        superseded,
    }
}

async fn advance(
    store: &Store,
    scope: &Scope,
    mut run: Run,
    deadline: Instant,
) -> Result<Result<Outcome, Fatal>, StoreError> {
    let plan = match plan(store, scope, &run).await? {
        Ok(plan) => plan,
        Err(fatal) => return Ok(Err(fatal)),
    };
    if run.status == crate::run::RunStatus::Queued {
        let uploads: Vec<String> = match &plan.source.config {
            SourceConfig::Upload { .. } => staging::uploads_between(
                store,
                &scope.partition(),
                &plan.source.id,
                plan.pipeline.high_water.as_deref(),
                None,
            )
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect(),
            // Fetched now (webhook target rules, 4 MB) and staged: the run reads
            // exactly what the URL answered.
            SourceConfig::Http { .. } => {
                match crate::sources::fetch_for_run(store, &plan.ctx, scope, &plan.source).await {
                    Ok(ids) => ids,
                    Err(StoreError::Unprocessable(e) | StoreError::Invalid(e)) => {
                        return Ok(Err(Fatal(format!(
                            "source {:?} could not be read: {}",
                            plan.source.name, e.message
                        ))));
                    }
                    Err(
                        StoreError::TooLarge { message, .. } | StoreError::BadInput { message, .. },
                    ) => {
                        return Ok(Err(Fatal(format!(
                            "source {:?} could not be read: {message}",
                            plan.source.name
                        ))));
                    }
                    Err(err) => return Err(err),
                }
            }
            // The workspace's changes after the pipeline's cursor, staged.
            SourceConfig::Relinx { entity } => {
                if let Some(why) = crate::relinx_source::refusal(&plan.ctx, *entity) {
                    return Ok(Err(Fatal(why)));
                }
                let (ids, next) = crate::sources::read_for_run(
                    store,
                    &plan.ctx,
                    scope,
                    &plan.source,
                    plan.pipeline.cursor.as_deref(),
                )
                .await?;
                run.checkpoint.cursor = Some(next);
                ids
            }
        };
        run.checkpoint.after = plan.pipeline.high_water.clone();
        run.checkpoint.upto = uploads.last().cloned();
        run.checkpoint.upload = uploads.first().cloned();
        run.checkpoint.row = 0;
        run.status = RunStatus::Running;
        run.started_at = Some(Timestamp::now());
    }
    let loader = Loader::of(
        store,
        scope,
        &plan.pipeline,
        &plan.columns,
        run.checkpoint.generation.as_deref(),
        run.dry_run,
    )
    .await?;
    if run.checkpoint.generation.is_none() {
        run.checkpoint.generation = loader.generation().map(str::to_owned);
    }
    let mut pacer = Pacer::new(store, scope);
    let mut current: Option<MappedUpload> = None;
    loop {
        let Some(upload_id) = run.checkpoint.upload.clone() else {
            // Every upload read: save where it ended (a first save if it read none).
            if !save(store, scope, &mut run, &Counts::default(), &[], None, None).await? {
                return Ok(Ok(Outcome::Elsewhere));
            }
            return end_as(store, scope, &run, RunStatus::Success).await.map(Ok);
        };
        if Instant::now() >= deadline {
            run_queue::send(
                store,
                &Message::Run {
                    org: scope.org.clone(),
                    workspace: scope.workspace.clone(),
                    pipeline: run.pipeline_id.clone(),
                    run: run.id.clone(),
                },
            )
            .await?;
            return Ok(Ok(Outcome::Continued));
        }
        if current.as_ref().is_none_or(|c| c.upload.id != upload_id) {
            let upload: Option<Upload> = store
                .get(
                    scope.partition(),
                    staging::upload_sk(&plan.source.id, &upload_id),
                )
                .await?;
            let Some(upload) = upload else {
                return Ok(Err(Fatal(format!(
                    "upload {upload_id} expired before the run read it (staged rows are kept {} days)",
                    staging::RETENTION_DAYS
                ))));
            };
            let rows = staging::upload_rows(store, &scope.org, &upload).await?;
            current = Some(map_upload(&plan, upload, rows));
        }
        let Some(mapped) = current.as_ref() else {
            continue;
        };
        let start = usize::try_from(run.checkpoint.row)
            .unwrap_or(usize::MAX)
            .min(mapped.rows.len());
        let slice_rows = match plan.pipeline.destination.kind {
            crate::pipeline::DestinationKind::Dataset => DATASET_SLICE_ROWS,
            _ => SLICE_ROWS,
        };
        let end = (start + slice_rows).min(mapped.rows.len());
        let (counts, rejected) =
            match slice(store, &plan, &run, &loader, mapped, start, end, &mut pacer).await {
                Ok(done) => done,
                Err(StoreError::Forbidden { message, .. }) => return Ok(Err(Fatal(message))),
                Err(err) => return Err(err),
            };
        // Where the next slice starts: this upload's next rows, or the next upload.
        let next = if end < mapped.rows.len() {
            Some((upload_id.clone(), end as u64))
        } else {
            staging::uploads_between(
                store,
                &scope.partition(),
                &plan.source.id,
                Some(&upload_id),
                run.checkpoint.upto.as_deref(),
            )
            .await?
            .first()
            .map(|u| (u.id.clone(), 0))
        };
        if !save(
            store,
            scope,
            &mut run,
            &counts,
            &rejected,
            Some(next),
            loader.dataset(),
        )
        .await?
        {
            // Refused: asked to cancel, or another worker moved it on.
            let now: Option<Run> = store
                .get(scope.partition(), run_sk(&run.pipeline_id, &run.id))
                .await?;
            if now.is_some_and(|r| r.cancel_requested && !r.status.finished()) {
                return end_as(store, scope, &run, RunStatus::Cancelled)
                    .await
                    .map(Ok);
            }
            return Ok(Ok(Outcome::Elsewhere));
        }
    }
}

/// Ends the run as `status` (not a failure: no reason).
async fn end_as(
    store: &Store,
    scope: &Scope,
    run: &Run,
    status: RunStatus,
) -> Result<Outcome, StoreError> {
    finish(store, scope, &run.id, &run.pipeline_id, status, None).await?;
    Ok(Outcome::Finished(status))
}

/// Maps and loads rows `start..end` of an upload: their counts, and the rejected
/// rows with their original cells.
#[allow(clippy::too_many_arguments)]
async fn slice(
    store: &Store,
    plan: &Plan,
    run: &Run,
    loader: &Loader,
    mapped: &MappedUpload,
    start: usize,
    end: usize,
    pacer: &mut Pacer,
) -> Result<(Counts, Vec<RejectedRow>), StoreError> {
    let first_number = run.counts.read + 1;
    let number = |i: usize| first_number + (i - start) as u64;
    let mut counts = Counts::default();
    let mut rejected = Vec::new();
    let reject = |rejected: &mut Vec<RejectedRow>, i: usize, errors: Vec<(String, String)>| {
        let values = mapped
            .upload
            .columns
            .iter()
            .cloned()
            .zip(mapped.rows[i].iter().cloned())
            .collect();
        let (fields, messages): (Vec<String>, Vec<String>) = errors.into_iter().unzip();
        rejected.push(RejectedRow {
            row: number(i),
            values,
            field: fields.join("; "),
            error: messages.join("; "),
        });
    };
    let key: Option<Vec<String>> = plan
        .pipeline
        .destination
        .key
        .as_ref()
        .filter(|_| plan.pipeline.mode == Mode::Upsert)
        .map(|k| k.fields().into_iter().map(str::to_owned).collect());
    let mut to_load = Vec::new();
    let mut positions = Vec::new();
    for i in start..end {
        counts.read += 1;
        let (values, errors) = &mapped.mapped[i];
        if !errors.is_empty() {
            counts.rejected += 1;
            reject(
                &mut rejected,
                i,
                errors
                    .iter()
                    .map(|e| (e.field.clone(), e.message.clone()))
                    .collect(),
            );
            continue;
        }
        if let Some(key) = &key
            && let Err(field) = load::key_values(values, key)
        {
            counts.rejected += 1;
            reject(
                &mut rejected,
                i,
                vec![(
                    field,
                    "is the upsert's key, and the row leaves it empty".into(),
                )],
            );
            continue;
        }
        if mapped.superseded[i] {
            counts.duplicate_key += 1;
            continue;
        }
        to_load.push(Row {
            number: number(i),
            values,
        });
        positions.push(i);
    }
    let verdicts = loader
        .load(
            store,
            &plan.ctx,
            run.id.as_str(),
            &to_load,
            run.dry_run,
            pacer,
        )
        .await?;
    for (verdict, i) in verdicts.into_iter().zip(positions) {
        match verdict {
            Verdict::Inserted => counts.inserted += 1,
            Verdict::Updated => counts.updated += 1,
            Verdict::Unchanged => counts.unchanged += 1,
            Verdict::Rejected { field, message } => {
                counts.rejected += 1;
                reject(&mut rejected, i, vec![(field, message)]);
            }
        }
    }
    Ok((counts, rejected))
}

/// Writes the run's checkpoint after a slice (`counts` more, its rejected rows, and
/// where the next slice starts: `None` for "unchanged"), over the checkpoint it
/// read and only while no cancel was asked for. `false` when refused.
async fn save(
    store: &Store,
    scope: &Scope,
    run: &mut Run,
    counts: &Counts,
    rejected: &[RejectedRow],
    next: Option<Option<(String, u64)>>,
    dataset: Option<&datasets::Target>,
) -> Result<bool, StoreError> {
    let read_slices = run.slices;
    if !rejected.is_empty() {
        crate::run::put_rejected(store, &scope.org, &run.id, run.slices, rejected).await?;
        for row in rejected {
            for (column, _) in &row.values {
                if !run.rejected_columns.contains(column) {
                    run.rejected_columns.push(column.clone());
                }
            }
        }
    }
    for row in rejected {
        if run.errors.len() >= SHOWN_ERRORS {
            break;
        }
        run.errors.push(RowError {
            row: row.row,
            field: row.field.clone(),
            message: row.error.clone(),
        });
    }
    run.counts.add(counts);
    if let Some(next) = next {
        match next {
            Some((upload, row)) => {
                run.checkpoint.upload = Some(upload);
                run.checkpoint.row = row;
            }
            None => {
                run.checkpoint.upload = None;
                run.checkpoint.row = 0;
            }
        }
    }
    run.slices += 1;
    let mut tx = Tx::progress();
    tx.put(
        &store.tables().main,
        to_item(&*run, scope.partition(), run_sk(&run.pipeline_id, &run.id))?,
        Some(
            Cond::new("slices = :slices AND cancel_requested = :no")
                .value(":slices", relinx_ddb::codec::n(read_slices))
                .value(":no", relinx_ddb::codec::boolean(false)),
        ),
        OnFail::Stale,
    );
    if !run.dry_run
        && counts.inserted > 0
        && let Some(dataset) = dataset
    {
        dataset.stage_count(&mut tx, store, counts.inserted);
    }
    match tx.commit(store).await {
        Ok(()) => Ok(true),
        Err(StoreError::Stale) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Ends a run: its status (and why), the pipeline freed (its last run noted, its
/// high-water mark moved after a successful real run) and the run's event
/// (`pipeline.completed`, or `pipeline.failed`), in one transaction. A run that had
/// already ended is left as it is.
pub async fn finish(
    store: &Store,
    scope: &Scope,
    run_id: &RunId,
    pipeline_id: &PipelineId,
    status: RunStatus,
    reason: Option<String>,
) -> Result<(), StoreError> {
    let Some(mut run) = store
        .get::<Run>(scope.partition(), run_sk(pipeline_id, run_id))
        .await?
    else {
        return Ok(());
    };
    if run.status.finished() {
        return Ok(());
    }
    let read_slices = run.slices;
    run.status = status;
    run.finished_at = Some(Timestamp::now());
    run.reason = reason;
    let workspace_name = relinx_identity::workspaces::read(store, &scope.org, &scope.workspace)
        .await?
        .map(|w| w.name)
        .unwrap_or_default();
    let ctx =
        Context::platform_acting_for(scope.org.clone(), run.actor.clone(), BuiltinRole::Viewer)
            .with_request_id(Some(run.id.to_string()));
    let mut tx = Tx::new();
    tx.put(
        &store.tables().main,
        to_item(&run, scope.partition(), run_sk(pipeline_id, run_id))?,
        Some(
            Cond::new("slices = :slices AND (#status = :queued OR #status = :running)")
                .name("#status", "status")
                .value(":slices", relinx_ddb::codec::n(read_slices))
                .value(":queued", s("queued"))
                .value(":running", s("running")),
        ),
        OnFail::Stale,
    );
    let last_run = LastRun {
        run_id: run.id.clone(),
        status,
        finished_at: run.finished_at,
    };
    let high_water = run
        .checkpoint
        .upto
        .clone()
        .filter(|_| status == RunStatus::Success && !run.dry_run);
    let cursor = run
        .checkpoint
        .cursor
        .clone()
        .filter(|_| status == RunStatus::Success && !run.dry_run);
    let mut set = String::from("REMOVE active_run SET last_run = :last");
    if high_water.is_some() {
        set.push_str(", high_water = :hw");
    }
    if cursor.is_some() {
        set.push_str(", #cursor = :cursor");
    }
    let mut update = Cond::new(format!("{set} ADD {}", versioned::BUMP))
        .value(":last", relinx_ddb::codec::to_value(&last_run)?);
    if let Some(high_water) = high_water {
        update = update.value(":hw", s(high_water));
    }
    if let Some(cursor) = cursor {
        update = update.name("#cursor", "cursor").value(":cursor", s(cursor));
    }
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: scope.partition(),
            sk: scope.sk::<Pipeline>(pipeline_id.as_str()),
            set: versioned::bump_values(update),
            condition: Some(Cond::new("active_run = :run").value(":run", s(run_id.to_string()))),
        },
        OnFail::Stale,
    );
    let event = if status == RunStatus::Failed {
        EventName::PipelineFailed
    } else {
        EventName::PipelineCompleted
    };
    let c = &run.counts;
    let mut counts = json!({
        "dry_run": run.dry_run,
        "trigger": run.trigger,
        "rows_read": c.read,
        "rows_written": if run.dry_run { 0 } else { c.written() },
        "rows_inserted": if run.dry_run { 0 } else { c.inserted },
        "rows_updated": if run.dry_run { 0 } else { c.updated },
        "rows_unchanged": c.unchanged,
        "rows_rejected": c.rejected,
        "rows_duplicate_key": c.duplicate_key,
    });
    if let Some(reason) = &run.reason {
        counts["reason"] = Value::String(reason.clone());
    }
    if run.dry_run {
        counts["would_insert"] = json!(c.inserted);
        counts["would_update"] = json!(c.updated);
    }
    let data = json!({
        "pipeline_id": pipeline_id,
        "run_id": run_id,
        "status": status,
        "workspace_name": workspace_name,
        "counts": counts,
    });
    tx.event(
        store,
        &ctx,
        event,
        Some(&scope.workspace),
        ResourceRef::new("pipeline", pipeline_id.to_string()),
        data,
    );
    match tx.commit(store).await {
        // A worker saved a slice meanwhile, or the run ended elsewhere: read again.
        Err(StoreError::Stale) => {
            Box::pin(finish_again(
                store,
                scope,
                run_id,
                pipeline_id,
                status,
                run.reason,
            ))
            .await
        }
        other => other,
    }
}

async fn finish_again(
    store: &Store,
    scope: &Scope,
    run_id: &RunId,
    pipeline_id: &PipelineId,
    status: RunStatus,
    reason: Option<String>,
) -> Result<(), StoreError> {
    let run: Option<Run> = store
        .get(scope.partition(), run_sk(pipeline_id, run_id))
        .await?;
    if run.is_none_or(|r| r.status.finished()) {
        return Ok(());
    }
    finish(store, scope, run_id, pipeline_id, status, reason).await
}
