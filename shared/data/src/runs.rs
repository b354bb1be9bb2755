//! Run operations (API.md "Datalinx data"): start one (queued for the runner), list
//! and read a pipeline's runs, cancel one, download its rejected rows. A pipeline has
//! at most one run queued or running: starting one sets the pipeline's `active_run`
//! on the condition that none is set, in the transaction that writes the run, its
//! event and the Idempotency-Key's answer (so one key is one run).

use crate::pipeline::Pipeline;
use crate::run::{Checkpoint, Counts, RejectedRow, Run, RunStatus, Trigger, rejected_pk, run_sk};
use crate::run_queue::{self, Message};
use crate::scope::Scope;
use relinx_ddb::codec::{Item, from_item, get_b, get_s, s, to_item};
use relinx_ddb::keys::{self, data as dk};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::{Store, StoreError, Table, versioned};
use relinx_model::{
    Context, ErrorCode, EventName, Permission, PipelineId, Resource, RunId, Timestamp,
};

const WHAT: &str = "run";

/// How a run is asked for.
#[derive(Debug, Clone, Copy)]
pub struct RunRequest {
    pub dry_run: bool,
    pub trigger: Trigger,
}

fn run_in_progress(pipeline: Option<&Item>) -> StoreError {
    match pipeline {
        None => StoreError::NotFound("pipeline"),
        Some(item) => match get_s(item, "active_run").and_then(RunId::parse) {
            Some(active) => run_in_progress_named(&active),
            None => StoreError::conflict(
                ErrorCode::RunInProgress,
                "the pipeline has a run queued or running: wait for it, or cancel it",
            ),
        },
    }
}

/// Stages the run's claim on its pipeline: `active_run` set only while none is (and,
/// for a scheduled run, the pipeline's next due entry named).
fn stage_claim(tx: &mut Tx, store: &Store, scope: &Scope, run: &Run, schedule_due: Option<&str>) {
    let mut set = Cond::new(format!(
        "SET active_run = :run{} ADD run_count :one, {}",
        if schedule_due.is_some() {
            ", schedule_due = :due"
        } else {
            ""
        },
        versioned::BUMP
    ))
    .value(":run", s(run.id.to_string()));
    if let Some(due) = schedule_due {
        set = set.value(":due", s(due));
    }
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: scope.partition(),
            sk: scope.sk::<Pipeline>(run.pipeline_id.as_str()),
            set: versioned::bump_values(set),
            condition: Some(Cond::new(
                "attribute_exists(pk) AND attribute_not_exists(active_run)",
            )),
        },
        OnFail::Inspect(run_in_progress),
    );
}

/// A new run of `pipeline`, queued, acting as `actor` (through `key_id`).
pub(crate) fn queued_run(
    pipeline: &Pipeline,
    actor: &relinx_model::Actor,
    key_id: Option<relinx_model::ApiKeyId>,
    trigger: Trigger,
    dry_run: bool,
) -> Run {
    Run {
        id: RunId::generate(),
        pipeline_id: pipeline.id.clone(),
        status: RunStatus::Queued,
        trigger,
        dry_run,
        actor: actor.clone(),
        key_id,
        queued_at: Timestamp::now(),
        started_at: None,
        finished_at: None,
        counts: Counts::default(),
        errors: Vec::new(),
        reason: None,
        cancel_requested: false,
        checkpoint: Checkpoint::default(),
        slices: 0,
        rejected_columns: Vec::new(),
    }
}

/// Stages a run's start: its claim on the pipeline, the run, its event and the
/// request's answer.
pub(crate) fn stage_start(
    tx: &mut Tx,
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    run: &Run,
    schedule_due: Option<&str>,
) -> Result<(), StoreError> {
    stage_claim(tx, store, scope, run, schedule_due);
    tx.put(
        &store.tables().main,
        to_item(run, scope.partition(), run_sk(&run.pipeline_id, &run.id))?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    scope.stage_change(tx, store, ctx, EventName::PipelineRunQueued, run);
    tx.answer(store, run);
    Ok(())
}

/// Sends a started run to the run queue; if the queue refuses it, nothing would
/// ever pick it up, so it ends now (failed, saying why) and the pipeline is free.
pub(crate) async fn queue_or_fail(
    store: &Store,
    scope: &Scope,
    run: &Run,
) -> Result<(), StoreError> {
    let message = Message::Run {
        org: scope.org.clone(),
        workspace: scope.workspace.clone(),
        pipeline: run.pipeline_id.clone(),
        run: run.id.clone(),
    };
    if let Err(err) = run_queue::send(store, &message).await {
        tracing::error!(run = %run.id, error = %err, "a run could not be queued");
        crate::runner::finish(
            store,
            scope,
            &run.id,
            &run.pipeline_id,
            RunStatus::Failed,
            Some(format!("the run could not be queued: {err}")),
        )
        .await?;
        return Err(err);
    }
    Ok(())
}

/// Queues a run of the pipeline, acting as `ctx`. 202 with the run.
pub async fn start(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    pipeline_id: &PipelineId,
    request: RunRequest,
) -> Result<Run, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Pipelines), "pipeline")?;
    let pipeline: Pipeline = scope.get(store, pipeline_id.as_str()).await?;
    if let Some(active) = &pipeline.active_run {
        return Err(run_in_progress_named(active));
    }
    let run = queued_run(
        &pipeline,
        &ctx.actor,
        ctx.key_id().cloned(),
        request.trigger,
        request.dry_run,
    );
    let mut tx = Tx::new();
    stage_start(&mut tx, store, ctx, scope, &run, None)?;
    tx.commit(store).await?;
    queue_or_fail(store, scope, &run).await?;
    Ok(run)
}

fn run_in_progress_named(active: &RunId) -> StoreError {
    StoreError::conflict(
        ErrorCode::RunInProgress,
        format!(
            "run {active} of this pipeline is queued or running: wait for it, or cancel it with POST /api/pipelines/{{id}}/runs/{active}/cancel"
        ),
    )
}

/// Page `page` of the pipeline's runs, newest first, and how many it has had.
pub async fn list(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    pipeline_id: &PipelineId,
    page: u64,
    page_size: u64,
) -> Result<(Vec<Run>, u64), StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Pipelines), "pipeline")?;
    let pipeline: Pipeline = scope.get(store, pipeline_id.as_str()).await?;
    let skip = page.saturating_sub(1).saturating_mul(page_size);
    let mut runs = Vec::new();
    let mut after = None;
    let mut skipped = 0u64;
    loop {
        let found = store
            .query(Table::Main, scope.partition())
            .begins_with(format!("{}{pipeline_id}#", dk::RUN))
            .newest_first()
            .limit(i32::try_from((skip + page_size).min(500)).unwrap_or(500))
            .after(after)
            .page::<Run>()
            .await?;
        for run in found.items {
            if skipped < skip {
                skipped += 1;
            } else if (runs.len() as u64) < page_size {
                runs.push(run);
            }
        }
        match found.next {
            Some(next) if (runs.len() as u64) < page_size => after = Some(next),
            _ => break,
        }
    }
    Ok((runs, pipeline.run_count))
}

pub async fn get(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    pipeline_id: &PipelineId,
    run_id: &RunId,
) -> Result<Run, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Pipelines), WHAT)?;
    store
        .get(scope.partition(), run_sk(pipeline_id, run_id))
        .await?
        .ok_or(StoreError::NotFound(WHAT))
}

/// Asks a queued or running run to stop: it does at its next slice (`cancelled`),
/// keeping what it wrote before.
pub async fn cancel(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    pipeline_id: &PipelineId,
    run_id: &RunId,
) -> Result<Run, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Pipelines), WHAT)?;
    let set =
        Cond::new("SET cancel_requested = :yes").value(":yes", relinx_ddb::codec::boolean(true));
    let written = store
        .update(
            Table::Main,
            scope.partition(),
            run_sk(pipeline_id, run_id),
            set,
        )
        .when(
            Cond::new("attribute_exists(pk) AND (#status = :queued OR #status = :running)")
                .name("#status", "status")
                .value(":queued", s("queued"))
                .value(":running", s("running")),
        )
        .returning_new()
        .old_on_refusal()
        .send()
        .await?;
    match written {
        relinx_ddb::Written::Applied(Some(item)) => from_item(item),
        relinx_ddb::Written::Refused(Some(item)) => {
            let run: Run = from_item(item)?;
            Err(StoreError::conflict(
                ErrorCode::RunFinished,
                format!(
                    "run {} has already finished ({})",
                    run.id,
                    serde_json::to_value(run.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            ))
        }
        _ => Err(StoreError::NotFound(WHAT)),
    }
}

/// The rejected-rows file: the original columns, then `_row`, `_field`, `_error`;
/// every cell a spreadsheet would read as a formula (starting `=`, `+`, `-`, `@`,
/// a tab or a carriage return) is prefixed with `'` (OWASP "CSV Injection").
pub async fn rejected_csv(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    pipeline_id: &PipelineId,
    run_id: &RunId,
) -> Result<Vec<u8>, StoreError> {
    let run = get(store, ctx, scope, pipeline_id, run_id).await?;
    let keys = (0..run.slices)
        .map(|slice| {
            relinx_ddb::codec::key(rejected_pk(&scope.org, run_id, slice), dk::REJECTED_SK)
        })
        .collect();
    let mut items = store.get_items(keys).await?;
    items.sort_by(|a, b| get_s(a, keys::PK).cmp(&get_s(b, keys::PK)));
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = run.rejected_columns.iter().map(String::as_str).collect();
    header.extend(["_row", "_field", "_error"]);
    let failed = |e: csv::Error| StoreError::internal("write the rejected rows", e);
    out.write_record(&header).map_err(failed)?;
    for item in items {
        let Some(bytes) = get_b(&item, "rows") else {
            continue;
        };
        let rows: Vec<RejectedRow> = serde_json::from_slice(&crate::staging::decompress(bytes)?)
            .map_err(|e| StoreError::internal("decode rejected rows", e))?;
        for row in rows {
            let mut record: Vec<String> = run
                .rejected_columns
                .iter()
                .map(|column| {
                    row.values
                        .iter()
                        .find(|(c, _)| c == column)
                        .map(|(_, v)| neutralized(v))
                        .unwrap_or_default()
                })
                .collect();
            record.push(row.row.to_string());
            record.push(neutralized(&row.field));
            record.push(neutralized(&row.error));
            out.write_record(&record).map_err(failed)?;
        }
    }
    out.into_inner()
        .map_err(|e| StoreError::internal("write the rejected rows", e))
}

/// A cell as a spreadsheet will show it and never run it.
pub fn neutralized(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralized_and_others_kept() {
        assert_eq!(neutralized("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralized("+1"), "'+1");
        assert_eq!(neutralized("-2+3"), "'-2+3");
        assert_eq!(neutralized("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralized("\tx"), "'\tx");
        assert_eq!(neutralized("ann@example.com"), "ann@example.com");
        assert_eq!(neutralized(""), "");
    }
}
