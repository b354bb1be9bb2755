//! Writing a run's mapped rows into its destination: contacts and records through
//! their own domains' operations (their validation, plan limits, events), each
//! row's write marked with its op id inside that write's own transaction
//! (`relinx_ddb::oplog`), and datasets in batches at keys the row fixes. A dry run
//! asks the same questions and writes nothing.

use crate::datasets::{self, RowKey, StoredRow};
use crate::pipeline::{DestinationKind, Mode, Pipeline};
use crate::scope::Scope;
use futures::StreamExt;
use relinx_crm::contacts::{self, Match};
use relinx_crm::department::Department;
use relinx_ddb::oplog::{self, Mark};
use relinx_ddb::ratelimit;
use relinx_ddb::{Store, StoreError, Table};
use relinx_model::{Context, ErrorCode, Limits, Timestamp};
use serde_json::{Map, Value};

/// Rows of one slice written at once (each mostly waits on DynamoDB).
const IN_FLIGHT: usize = 8;
/// How long an op marker is kept: longer than any run can be redelivered.
const MARK_DAYS: i64 = 8;

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Inserted,
    Updated,
    Unchanged,
    Rejected { field: String, message: String },
}

/// One row to load: its number in the run and its mapped values.
pub struct Row<'a> {
    pub number: u64,
    pub values: &'a Map<String, Value>,
}

/// Where a run's rows go.
pub enum Loader {
    Contacts {
        dept: Department,
        upsert: bool,
    },
    Records {
        workspace: relinx_model::WorkspaceId,
        /// What an upsert matches on: `id`, or `data.<field>`.
        key: Option<String>,
    },
    Dataset {
        target: Option<datasets::Target>,
        key: Option<Vec<String>>,
    },
}

/// Writes per row on the key an import presses hardest: a new contact writes its
/// department's partition twice (the id counter, the contact), a changed one once;
/// a record its workspace's records partition twice (the record, its feed); a
/// dataset row one of 16 shards.
fn hot_writes(loader: &Loader, verdict: &Verdict) -> f64 {
    match (loader, verdict) {
        (_, Verdict::Rejected { .. } | Verdict::Unchanged) => 0.0,
        (Loader::Contacts { .. }, Verdict::Inserted) => 2.0,
        (Loader::Contacts { .. }, _) => 1.0,
        (Loader::Records { .. }, _) => 2.0,
        (Loader::Dataset { .. }, _) => 1.0 / f64::from(datasets::SHARDS),
    }
}

/// Paces an org's imports: every run of the org spends from one bucket of
/// `rate` writes a second (held across instances, `relinx_ddb::ratelimit`), so
/// two runs never double the load on a key.
pub struct Pacer {
    bucket: String,
    limits: Limits,
    owed: f64,
}

impl Pacer {
    pub fn new(store: &Store, scope: &Scope) -> Self {
        let rate = store.config().data.import_writes_per_second;
        Self {
            bucket: format!("import:{}", scope.org),
            limits: Limits {
                smartlinks: None,
                contacts: None,
                rate_per_minute: rate * 60,
                burst: rate,
            },
            owed: 0.0,
        }
    }

    /// Waits until `writes` more may go to the hottest key.
    pub async fn spend(&mut self, store: &Store, writes: f64) -> Result<(), StoreError> {
        self.owed += writes;
        while self.owed >= 1.0 {
            let decision =
                ratelimit::hit_bucket(store, &self.bucket, &self.limits, Timestamp::now()).await?;
            match decision.retry_after {
                None => self.owed -= 1.0,
                Some(_) => {
                    // The second's budget is spent: wait for the next second.
                    let millis = 1000 - (Timestamp::now().unix_millis().rem_euclid(1000));
                    tokio::time::sleep(std::time::Duration::from_millis(
                        u64::try_from(millis).unwrap_or(1000),
                    ))
                    .await;
                }
            }
        }
        Ok(())
    }
}

impl Loader {
    /// The loader of `pipeline`'s destination. A dataset is made (or its columns
    /// refreshed) unless the run is dry.
    pub async fn of(
        store: &Store,
        scope: &Scope,
        pipeline: &Pipeline,
        columns: &[datasets::DatasetColumn],
        generation: Option<&str>,
        dry_run: bool,
    ) -> Result<Self, StoreError> {
        let upsert = pipeline.mode == Mode::Upsert;
        Ok(match pipeline.destination.kind {
            DestinationKind::Contacts => Loader::Contacts {
                dept: Department {
                    org: scope.org.clone(),
                    workspace: scope.workspace.clone(),
                },
                upsert,
            },
            DestinationKind::Records => Loader::Records {
                workspace: scope.workspace.clone(),
                key: pipeline
                    .destination
                    .key
                    .as_ref()
                    .filter(|_| upsert)
                    .and_then(|k| k.fields().first().map(|f| (*f).to_owned())),
            },
            DestinationKind::Dataset => {
                let name = pipeline.destination.dataset.clone().unwrap_or_default();
                let target = match (dry_run, generation) {
                    (true, _) => datasets::find(store, scope, &name).await?,
                    (false, Some(generation)) => Some(datasets::Target {
                        scope: scope.clone(),
                        name,
                        generation: generation.to_owned(),
                    }),
                    (false, None) => Some(datasets::prepare(store, scope, &name, columns).await?),
                };
                Loader::Dataset {
                    target,
                    key: pipeline
                        .destination
                        .key
                        .as_ref()
                        .filter(|_| upsert)
                        .map(|k| k.fields().into_iter().map(str::to_owned).collect()),
                }
            }
        })
    }

    /// The dataset rows go to.
    pub fn dataset(&self) -> Option<&datasets::Target> {
        match self {
            Loader::Dataset {
                target: Some(t), ..
            } => Some(t),
            _ => None,
        }
    }

    /// The dataset generation rows go to (kept in the run's checkpoint).
    pub fn generation(&self) -> Option<&str> {
        self.dataset().map(|t| t.generation.as_str())
    }

    /// Loads one slice's rows (distinct keys: duplicates were settled before),
    /// answering each row's verdict in order. Rows a previous attempt of the slice
    /// already wrote are found by their markers and not written again.
    pub async fn load(
        &self,
        store: &Store,
        ctx: &Context,
        run: &str,
        rows: &[Row<'_>],
        dry_run: bool,
        pacer: &mut Pacer,
    ) -> Result<Vec<Verdict>, StoreError> {
        let verdicts = match self {
            Loader::Dataset { target, key } => {
                load_dataset(store, target.as_ref(), key.as_deref(), run, rows, dry_run).await?
            }
            _ => {
                let ops: Vec<String> = rows.iter().map(|r| op_id(run, r.number)).collect();
                let done = if dry_run {
                    vec![None; rows.len()]
                } else {
                    oplog::applied(store, &ops).await?
                };
                let mut verdicts = Vec::with_capacity(rows.len());
                // The futures are made first (named, not closures): a stream of
                // closures over borrowed rows is not `Send` for every lifetime.
                let loads: Vec<_> = rows
                    .iter()
                    .zip(done)
                    .map(|(row, done)| self.load_unless_done(store, ctx, run, row, done, dry_run))
                    .collect();
                let mut pending = futures::stream::iter(loads).buffered(IN_FLIGHT);
                while let Some(verdict) = pending.next().await {
                    let verdict = verdict?;
                    pacer.spend(store, hot_writes(self, &verdict)).await?;
                    verdicts.push(verdict);
                }
                return Ok(verdicts);
            }
        };
        let writes: f64 = verdicts.iter().map(|v| hot_writes(self, v)).sum();
        pacer.spend(store, writes).await?;
        Ok(verdicts)
    }

    async fn load_unless_done(
        &self,
        store: &Store,
        ctx: &Context,
        run: &str,
        row: &Row<'_>,
        done: Option<String>,
        dry_run: bool,
    ) -> Result<Verdict, StoreError> {
        match done {
            // Written by an earlier attempt of this slice.
            Some(note) if note == "updated" => Ok(Verdict::Updated),
            Some(_) => Ok(Verdict::Inserted),
            None => self.load_entity(store, ctx, run, row, dry_run).await,
        }
    }

    async fn load_entity(
        &self,
        store: &Store,
        ctx: &Context,
        run: &str,
        row: &Row<'_>,
        dry_run: bool,
    ) -> Result<Verdict, StoreError> {
        let body = without_nulls(row.values);
        let (verdict, id) = match self {
            Loader::Contacts { dept, upsert } => {
                let found = if *upsert {
                    contacts::match_by_email(store, ctx, dept, &body).await
                } else {
                    Ok(Match::New)
                };
                match found {
                    Ok(Match::New) => (Verdict::Inserted, None),
                    Ok(Match::Changes(id)) => (Verdict::Updated, Some(id)),
                    Ok(Match::Same(_)) => return Ok(Verdict::Unchanged),
                    Ok(Match::Ambiguous(ids)) => {
                        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                        return Ok(Verdict::Rejected {
                            field: "emails".into(),
                            message: format!(
                                "these addresses belong to more than one contact ({}): which one is meant is unknown",
                                ids.join(", ")
                            ),
                        });
                    }
                    Err(err) => return rejected_or(err),
                }
            }
            Loader::Records { key: None, .. } => (Verdict::Inserted, None),
            Loader::Records {
                key: Some(field),
                workspace,
            } => {
                // Whether it is new or a change is known once it is written: the
                // records crate's upsert decides under its key's guard.
                let new = match crate::mapping::record_of(row.values) {
                    Ok(new) => new,
                    Err(e) => return rejected_or(StoreError::Invalid(e)),
                };
                let id = match field.as_str() {
                    "id" => {
                        let raw = row
                            .values
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        match relinx_model::RecordId::parse(raw.trim()) {
                            Some(id) => Some(id),
                            None => {
                                return Ok(Verdict::Rejected {
                                    field: "id".into(),
                                    message: format!("{raw:?} is not a record id (rec_…)"),
                                });
                            }
                        }
                    }
                    _ => None,
                };
                let no_such_id = || {
                    Verdict::Rejected {
                    field: "id".into(),
                    message: "no record of this workspace has this id: ids are the platform's; leave id out to create records".into(),
                }
                };
                if dry_run {
                    use relinx_records::keyed::{self, Would};
                    let would = match &id {
                        Some(id) => {
                            keyed::would_update_by_id(store, ctx, workspace, id, &new).await
                        }
                        None => {
                            let field = field.strip_prefix("data.").unwrap_or(field);
                            keyed::would_upsert_by(store, ctx, workspace, field, &new).await
                        }
                    };
                    return match would {
                        Ok(Would::Create) => Ok(Verdict::Inserted),
                        Ok(Would::Update) => Ok(Verdict::Updated),
                        Ok(Would::KeepAsIs) => Ok(Verdict::Unchanged),
                        Err(StoreError::NotFound(_)) if id.is_some() => Ok(no_such_id()),
                        Err(err) => rejected_or(err),
                    };
                }
                let mark = Mark::new(
                    op_id(run, row.number),
                    "updated",
                    Timestamp::now().unix() + MARK_DAYS * 86_400,
                );
                let written = oplog::marked(mark, async {
                    match &id {
                        Some(id) => {
                            relinx_records::keyed::update_by_id(store, ctx, workspace, id, new)
                                .await
                        }
                        None => {
                            let field = field.strip_prefix("data.").unwrap_or(field);
                            relinx_records::keyed::upsert_by(store, ctx, workspace, field, new)
                                .await
                        }
                    }
                })
                .await;
                return match written {
                    Ok(relinx_records::keyed::Upserted::Created(_)) => Ok(Verdict::Inserted),
                    Ok(relinx_records::keyed::Upserted::Updated(_)) => Ok(Verdict::Updated),
                    Ok(relinx_records::keyed::Upserted::Unchanged(_)) => Ok(Verdict::Unchanged),
                    // Written by an earlier attempt that died before its checkpoint.
                    Err(StoreError::Conflict {
                        code: ErrorCode::OpAlreadyApplied,
                        ..
                    }) => Ok(Verdict::Updated),
                    Err(StoreError::NotFound(_)) if id.is_some() => Ok(no_such_id()),
                    Err(err) => rejected_or(err),
                };
            }
            Loader::Dataset { .. } => {
                return Err(StoreError::Internal(
                    "a dataset row loads in a batch".into(),
                ));
            }
        };
        if dry_run {
            return Ok(verdict);
        }
        let note = if verdict == Verdict::Updated {
            "updated"
        } else {
            "inserted"
        };
        let mark = Mark::new(
            op_id(run, row.number),
            note,
            Timestamp::now().unix() + MARK_DAYS * 86_400,
        );
        let written = oplog::marked(mark, async {
            match self {
                Loader::Contacts { dept, .. } => {
                    let mut body = body.clone();
                    if let Some(id) = id {
                        body.insert("id".into(), Value::from(id.get()));
                    }
                    contacts::save(store, ctx, dept, &body).await.map(|_| ())
                }
                Loader::Records { workspace, .. } => {
                    let new = crate::mapping::record_of(row.values)?;
                    relinx_records::records::create(store, ctx, workspace, new)
                        .await
                        .map(|_| ())
                }
                Loader::Dataset { .. } => Ok(()),
            }
        })
        .await;
        match written {
            Ok(()) => Ok(verdict),
            // An earlier attempt wrote it, and died before its checkpoint.
            Err(StoreError::Conflict {
                code: ErrorCode::OpAlreadyApplied,
                ..
            }) => Ok(verdict),
            Err(err) => rejected_or(err),
        }
    }
}

/// A refusal the row can be blamed for becomes its rejection (naming the field);
/// anything else (storage failing) fails the slice, to be tried again.
fn rejected_or(err: StoreError) -> Result<Verdict, StoreError> {
    match err {
        StoreError::Invalid(e) | StoreError::Unprocessable(e) => Ok(Verdict::Rejected {
            field: e.field,
            message: e.message,
        }),
        // The plan's contact limit refuses this row, not the run: the rest go on.
        StoreError::Forbidden {
            code: ErrorCode::PlanLimit,
            message,
        } => Ok(Verdict::Rejected {
            field: String::new(),
            message,
        }),
        StoreError::TooLarge { message, .. } => Ok(Verdict::Rejected {
            field: String::new(),
            message,
        }),
        other => Err(other),
    }
}

pub fn op_id(run: &str, row: u64) -> String {
    format!("{run}#{row}")
}

/// The object without its null values (a save reads a null as "clear").
fn without_nulls(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The key's values of a mapped row (for an upsert), or the field left empty. A
/// key `data.x` is field `x` of the mapped `data` object (a record's).
pub fn key_values(values: &Map<String, Value>, key: &[String]) -> Result<Vec<Value>, String> {
    let value_of = |field: &str| match field.strip_prefix("data.") {
        Some(inner) => values.get("data").and_then(|d| d.get(inner)),
        None => values.get(field),
    };
    key.iter()
        .map(|field| match value_of(field) {
            None | Some(Value::Null) => Err(field.clone()),
            Some(Value::String(s)) if s.trim().is_empty() => Err(field.clone()),
            Some(Value::String(s)) => Ok(Value::String(normalized_key(field, s))),
            Some(other) => Ok(other.clone()),
        })
        .collect()
}

/// A key value compared as its destination compares it: e-mail addresses without
/// case, in any order.
fn normalized_key(field: &str, raw: &str) -> String {
    if field == "emails" {
        let mut addresses: Vec<String> = raw
            .split(';')
            .map(|a| a.trim().to_lowercase())
            .filter(|a| !a.is_empty())
            .collect();
        addresses.sort();
        addresses.join(";")
    } else {
        raw.to_owned()
    }
}

async fn load_dataset(
    store: &Store,
    target: Option<&datasets::Target>,
    key: Option<&[String]>,
    run: &str,
    rows: &[Row<'_>],
    dry_run: bool,
) -> Result<Vec<Verdict>, StoreError> {
    let keys: Vec<RowKey> = rows
        .iter()
        .map(|row| match key {
            Some(key) => RowKey::keyed(&key_values(row.values, key).unwrap_or_default()),
            None => RowKey::appended(run, row.number),
        })
        .collect();
    let existing = match (key, target) {
        (Some(_), Some(target)) => target.existing(store, &keys).await?,
        _ => Default::default(),
    };
    let mut verdicts = Vec::with_capacity(rows.len());
    let mut items = Vec::new();
    for ((row, row_key), number) in rows.iter().zip(&keys).zip(rows.iter().map(|r| r.number)) {
        let op = op_id(run, number);
        let v = serde_json::to_string(row.values)
            .map_err(|e| StoreError::internal("encode a dataset row", e))?;
        let (verdict, created_op) = match existing.get(&row_key.sk) {
            None => (Verdict::Inserted, op.clone()),
            // This very row, written by an earlier attempt of the slice.
            Some(stored) if stored.op == op => {
                let verdict = if stored.created_op == op {
                    Verdict::Inserted
                } else {
                    Verdict::Updated
                };
                (verdict, stored.created_op.clone())
            }
            Some(stored) if stored.v == v => (Verdict::Unchanged, stored.created_op.clone()),
            Some(stored) => (Verdict::Updated, stored.created_op.clone()),
        };
        if !dry_run
            && verdict != Verdict::Unchanged
            && let Some(target) = target
        {
            items.push(target.item(row_key, &StoredRow { v, op, created_op })?);
        }
        verdicts.push(verdict);
    }
    if !items.is_empty() {
        store.batch_put(Table::Main, items).await?;
    }
    Ok(verdicts)
}
