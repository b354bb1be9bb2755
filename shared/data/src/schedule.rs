//! Scheduled runs: a pipeline with a `schedule` (and enabled) has one due entry, the
//! time of its next run, in a small index the sweep reads every minute across all
//! orgs (`PLDUE#{bucket}`, sort key the due time in milliseconds first). The entry
//! is kept by the pipeline's own transactions (create, change, delete) and named on
//! the pipeline (`schedule_due`), so a stale one is recognised and dropped.
//!
//! The sweep starts a due run by claiming the entry: one transaction deletes it on
//! the condition that it exists, puts the next one, and starts the run — so of any
//! number of sweeping instances exactly one starts the run of a due time. The run
//! acts as the pipeline's creator; the runner checks their rights again when it
//! starts (one who lost them fails the run, saying so).

use crate::pipeline::{Pipeline, Schedule};
use crate::run::Trigger;
use crate::scope::Scope;
use relinx_ddb::codec::{Item, from_item, get_s, s, to_item};
use relinx_ddb::keys::{self, data as dk};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::{Store, StoreError, Table, versioned};
use relinx_model::{BuiltinRole, Context, OrgId, PipelineId, Timestamp, WorkspaceId};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::str::FromStr;

/// Partitions of the due index (a due time's writes spread over them).
const DUE_BUCKETS: u8 = 4;

/// A due entry: which pipeline, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DueEntry {
    org: OrgId,
    workspace: WorkspaceId,
    pipeline: PipelineId,
    due_at: Timestamp,
}

fn due_pk(pipeline: &PipelineId) -> String {
    let digest = sha2::Sha256::digest(pipeline.as_str().as_bytes());
    format!("{}{}", dk::SCHEDULE_DUE, digest[0] % DUE_BUCKETS)
}

fn due_sk(at: Timestamp, scope: &Scope, pipeline: &PipelineId) -> String {
    format!(
        "{:015}#{}#{}#{pipeline}",
        at.unix_millis().max(0),
        scope.org,
        scope.workspace
    )
}

/// The first time `schedule` falls due after `after` (UTC); `None` for one that
/// does not parse or never falls due again.
pub fn next_due(schedule: &str, after: Timestamp) -> Option<Timestamp> {
    match Schedule::parse(schedule).ok()? {
        Schedule::Rate(seconds) => Some(after.plus_seconds(i64::try_from(seconds).ok()?)),
        Schedule::Cron(expr) => {
            let cron = croner::Cron::from_str(&expr).ok()?;
            let from = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(after.unix_millis())?;
            let next = cron.find_next_occurrence(&from, false).ok()?;
            Timestamp::from_unix_millis(next.timestamp_millis())
        }
    }
}

/// What the next due time counts from once `due` is claimed: `due` itself (so a
/// sweep a little late does not drift a rate), unless the time after it has passed
/// too (the sweep was down): then now, so missed times are not run one by one.
fn following(schedule: Option<&str>, due: Timestamp) -> Timestamp {
    let now = Timestamp::now();
    match schedule.and_then(|s| next_due(s, due)) {
        Some(next) if next > now => due,
        _ => now,
    }
}

/// Stages the pipeline's due entry as it should be now: the old one (if any)
/// removed, the next one (if it is scheduled and enabled) put, counted from `from`.
pub fn stage_entry(
    tx: &mut Tx,
    store: &Store,
    scope: &Scope,
    pipeline: &mut Pipeline,
    from: Timestamp,
) -> Result<(), StoreError> {
    let main = &store.tables().main;
    if let Some(old) = pipeline.schedule_due.take() {
        tx.delete(main, due_pk(&pipeline.id), old, None, OnFail::Internal);
    }
    let next = match (&pipeline.schedule, pipeline.enabled) {
        (Some(schedule), true) => next_due(schedule, from),
        _ => None,
    };
    if let Some(at) = next {
        let sk = due_sk(at, scope, &pipeline.id);
        let entry = DueEntry {
            org: scope.org.clone(),
            workspace: scope.workspace.clone(),
            pipeline: pipeline.id.clone(),
            due_at: at,
        };
        tx.put(
            main,
            to_item(&entry, due_pk(&pipeline.id), sk.clone())?,
            None,
            OnFail::Internal,
        );
        pipeline.schedule_due = Some(sk);
    }
    Ok(())
}

/// Starts the runs that are due; answers how many it started. Entries another
/// instance claimed first are left to it.
pub async fn sweep(store: &Store) -> Result<usize, StoreError> {
    let now = Timestamp::now();
    let mut started = 0;
    for bucket in 0..DUE_BUCKETS {
        let due = store
            .query(Table::Main, format!("{}{bucket}", dk::SCHEDULE_DUE))
            .at_most(format!("{:015}~", now.unix_millis().max(0)))
            .limit(100)
            .page_items()
            .await?;
        for item in due.items {
            match claim(store, item).await {
                Ok(true) => started += 1,
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "a scheduled run could not start"),
            }
        }
    }
    Ok(started)
}

fn claimed_elsewhere() -> StoreError {
    StoreError::Stale
}

/// Claims one due entry: starts its run (or, while a run is going, only moves
/// the schedule on). `false` when there was nothing to start.
async fn claim(store: &Store, item: Item) -> Result<bool, StoreError> {
    let sk = get_s(&item, keys::SK).unwrap_or_default().to_owned();
    let entry: DueEntry = from_item(item)?;
    let scope = Scope {
        org: entry.org.clone(),
        workspace: entry.workspace.clone(),
    };
    let main = &store.tables().main;
    let drop_entry = |tx: &mut Tx| {
        tx.delete(
            main,
            due_pk(&entry.pipeline),
            sk.clone(),
            Some(Cond::exists()),
            OnFail::Error(claimed_elsewhere),
        );
    };
    let pipeline: Option<Pipeline> = match scope.get(store, entry.pipeline.as_str()).await {
        Ok(p) => Some(p),
        Err(StoreError::NotFound(_)) => None,
        Err(err) => return Err(err),
    };
    let Some(mut pipeline) = pipeline.filter(|p| p.schedule_due.as_deref() == Some(sk.as_str()))
    else {
        // Left behind by a change that raced it: nothing is due.
        let mut tx = Tx::progress();
        drop_entry(&mut tx);
        return ignore_stale(tx.commit(store).await).map(|_| false);
    };
    let creator = pipeline.creator.clone().unwrap_or(relinx_model::Actor {
        kind: relinx_model::ActorKind::User,
        id: pipeline.created_by.clone(),
    });
    // The next due time counts from this one, so a late sweep does not drift it.
    let mut next = pipeline.clone();
    next.schedule_due = None;
    let from = following(pipeline.schedule.as_deref(), entry.due_at);
    let mut tx = Tx::new();
    drop_entry(&mut tx);
    stage_entry(&mut tx, store, &scope, &mut next, from)?;
    if pipeline.active_run.is_some() {
        // A run is going: this time is skipped, the schedule moves on.
        let mut tx = Tx::progress();
        drop_entry(&mut tx);
        let mut moved = pipeline.clone();
        moved.schedule_due = None;
        stage_entry(&mut tx, store, &scope, &mut moved, from)?;
        stage_schedule_due(
            &mut tx,
            store,
            &scope,
            &pipeline,
            moved.schedule_due.as_deref(),
        );
        return ignore_stale(tx.commit(store).await).map(|_| false);
    }
    let ctx = Context::platform_acting_for(scope.org.clone(), creator.clone(), BuiltinRole::Viewer);
    let run = crate::runs::queued_run(
        &pipeline,
        &creator,
        pipeline.creator_key.clone(),
        Trigger::Schedule,
        false,
    );
    pipeline.schedule_due = next.schedule_due.clone();
    crate::runs::stage_start(
        &mut tx,
        store,
        &ctx,
        &scope,
        &run,
        next.schedule_due.as_deref(),
    )?;
    match tx.commit(store).await {
        Ok(()) => {}
        Err(StoreError::Stale) => return Ok(false),
        Err(err) => return Err(err),
    }
    crate::runs::queue_or_fail(store, &scope, &run).await?;
    Ok(true)
}

/// Stages the pipeline's `schedule_due` (with its version) alone.
fn stage_schedule_due(
    tx: &mut Tx,
    store: &Store,
    scope: &Scope,
    pipeline: &Pipeline,
    due: Option<&str>,
) {
    let set = match due {
        Some(due) => Cond::new(format!("SET schedule_due = :due ADD {}", versioned::BUMP))
            .value(":due", s(due)),
        None => Cond::new(format!("REMOVE schedule_due ADD {}", versioned::BUMP)),
    };
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: scope.partition(),
            sk: scope.sk::<Pipeline>(pipeline.id.as_str()),
            set: versioned::bump_values(set),
            condition: Some(Cond::exists()),
        },
        OnFail::Error(claimed_elsewhere),
    );
}

fn ignore_stale(result: Result<(), StoreError>) -> Result<(), StoreError> {
    match result {
        Err(StoreError::Stale) => Ok(()),
        other => other,
    }
}
