//! A pipeline run as stored and shown (API.md "Datalinx data"): its status, who or
//! what started it, its counters, the first errors, and its checkpoint — the input
//! it fixed when it started and how far through it the runner is.

use crate::mapping::RowError;
use relinx_ddb::codec::n;
use relinx_ddb::keys::{self, data as dk};
use relinx_ddb::{Store, StoreError, Table};
use relinx_model::{Actor, ApiKeyId, EventSubject, OrgId, PipelineId, RunId, Timestamp};
use serde::{Deserialize, Serialize};

/// How long a run's rejected rows are kept (as long as a run is worth looking at).
pub const REJECTED_RETENTION_DAYS: i64 = 30;

/// Errors a run keeps to show (the rejected-rows file has every one).
pub const SHOWN_ERRORS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Success,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn finished(self) -> bool {
        matches!(self, Self::Success | Self::Failed | Self::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Api,
    Schedule,
    Cli,
}

/// What a run did to the rows it read. A dry run fills the same counters with what
/// it would have done (`inserted` is `would_insert`, …) and writes nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// Rows whose key a later row of the same upload repeats (the later one wins).
    pub duplicate_key: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        self.duplicate_key += other.duplicate_key;
    }

    pub fn written(&self) -> u64 {
        self.inserted + self.updated
    }
}

/// Where a run is in its input: the uploads after the pipeline's high-water mark up
/// to the newest one when it started, read one slice at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The pipeline's high-water mark when the run started (uploads after it).
    pub after: Option<String>,
    /// The newest upload when the run started (uploads up to it); `None`: nothing to read.
    pub upto: Option<String>,
    /// The upload being read, and the first row of it not yet done.
    pub upload: Option<String>,
    pub row: u64,
    /// The dataset generation a dataset run writes into.
    #[serde(default)]
    pub generation: Option<String>,
    /// A `relinx` source's position in the event log after this run's read: the
    /// pipeline's cursor once it succeeds.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A run as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    pub pipeline_id: PipelineId,
    pub status: RunStatus,
    pub trigger: Trigger,
    pub dry_run: bool,
    /// Who the run acts as (its writes are theirs; checked again when it starts).
    pub actor: Actor,
    #[serde(default)]
    pub key_id: Option<ApiKeyId>,
    pub queued_at: Timestamp,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub counts: Counts,
    #[serde(default)]
    pub errors: Vec<RowError>,
    /// Why it failed.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub cancel_requested: bool,
    #[serde(default)]
    pub checkpoint: Checkpoint,
    /// Slices done (each one's rejected rows are their own item); a checkpoint is
    /// written only over the count it read, so two workers never both advance it.
    #[serde(default)]
    pub slices: u32,
    /// The columns of the rejected-rows file, in the order first seen.
    #[serde(default)]
    pub rejected_columns: Vec<String>,
}

/// A run as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Run)]
pub struct RunView {
    pub id: RunId,
    pub pipeline_id: PipelineId,
    pub status: RunStatus,
    pub trigger: Trigger,
    pub dry_run: bool,
    pub queued_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub rows_read: u64,
    /// Inserted plus updated (0 in a dry run).
    pub rows_written: u64,
    pub rows_inserted: u64,
    pub rows_updated: u64,
    pub rows_unchanged: u64,
    pub rows_rejected: u64,
    pub rows_duplicate_key: u64,
    /// A dry run's findings (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_insert: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_update: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<u64>,
    /// The first 100 rejected values.
    pub errors: Vec<RowError>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Set once a cancel was asked for, until the run stops at its next slice.
    pub cancel_requested: bool,
}

impl Run {
    pub fn view(&self) -> RunView {
        let c = &self.counts;
        let dry = |n: u64| self.dry_run.then_some(n);
        RunView {
            id: self.id.clone(),
            pipeline_id: self.pipeline_id.clone(),
            status: self.status,
            trigger: self.trigger,
            dry_run: self.dry_run,
            queued_at: self.queued_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            rows_read: c.read,
            rows_written: if self.dry_run { 0 } else { c.written() },
            rows_inserted: if self.dry_run { 0 } else { c.inserted },
            rows_updated: if self.dry_run { 0 } else { c.updated },
            rows_unchanged: c.unchanged,
            rows_rejected: c.rejected,
            rows_duplicate_key: c.duplicate_key,
            would_insert: dry(c.inserted),
            would_update: dry(c.updated),
            unchanged: dry(c.unchanged),
            rejected: dry(c.rejected),
            errors: self.errors.clone(),
            reason: self.reason.clone(),
            cancel_requested: self.cancel_requested && !self.status.finished(),
        }
    }
}

impl EventSubject for Run {
    const KIND: &'static str = "run";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> serde_json::Value {
        relinx_model::event::data_of(&self.view())
    }
}

/// The last run, as a pipeline shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastRun {
    pub run_id: RunId,
    pub status: RunStatus,
    pub finished_at: Option<Timestamp>,
}

pub(crate) fn run_sk(pipeline: &PipelineId, run: &RunId) -> String {
    format!("{}{pipeline}#{run}", dk::RUN)
}

pub(crate) fn rejected_pk(org: &OrgId, run: &RunId, slice: u32) -> String {
    format!("{}{org}#{run}#{slice:06}", dk::REJECTED)
}

/// One rejected row, as kept for the rejected-rows file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RejectedRow {
    pub row: u64,
    /// The row's original cells, by column.
    pub values: Vec<(String, String)>,
    /// The fields refused, and why (joined when more than one).
    pub field: String,
    pub error: String,
}

/// Writes one slice's rejected rows (a put at a key fixed by the slice, so writing
/// it again after a crash changes nothing).
pub(crate) async fn put_rejected(
    store: &Store,
    org: &OrgId,
    run: &RunId,
    slice: u32,
    rows: &[RejectedRow],
) -> Result<(), StoreError> {
    let json =
        serde_json::to_vec(rows).map_err(|e| StoreError::internal("encode rejected rows", e))?;
    let mut item = relinx_ddb::codec::key(rejected_pk(org, run, slice), dk::REJECTED_SK);
    item.insert(
        "rows".into(),
        relinx_ddb::codec::binary(crate::staging::compress(&json)?),
    );
    item.insert(
        keys::TTL.to_owned(),
        n(Timestamp::now().unix() + REJECTED_RETENTION_DAYS * 86_400),
    );
    store.put(Table::Main, item).send().await.map(|_| ())
}
