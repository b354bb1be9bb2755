//! Datasets: named tables a pipeline writes rows into (API.md "Datalinx data").
//! A dataset's description (columns, row count, generation) is an item of its
//! workspace's partition; its rows are spread over [`SHARDS`] partitions of their
//! own, so one loading at 10,000 rows/s puts ~625 writes/s on each key (DynamoDB
//! takes 1,000; docs/access-patterns.md). A row's key is fixed by what wrote it
//! (an append: the run and row number; an upsert: the key's values), so writing
//! a slice again after a crash rewrites the same items and never adds a row twice.
//! Deleting a dataset drops its description at once (its rows are unreachable from
//! then: they belong to that generation) and removes the rows on the run queue.

use crate::scope::Scope;
use base64::Engine;
use relinx_ddb::codec::{self, Item, from_item, get_s, n, s, to_item};
use relinx_ddb::keys::{self, data as dk};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::{Store, StoreError, Table};
use relinx_model::{Context, Permission, Resource, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest;

/// Partitions a dataset's rows are spread over.
pub const SHARDS: u32 = 16;
/// Rows a page may hold.
pub const MAX_PAGE_SIZE: u64 = 200;
/// How deep `page` may go; past it, `cursor` (each page one Query per shard read).
pub const MAX_OFFSET: u64 = 10_000;
const WHAT: &str = "dataset";

/// A dataset as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dataset {
    pub name: String,
    /// The columns, from the schema of the mapping that last wrote it.
    pub columns: Vec<DatasetColumn>,
    pub row_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Which rows are this dataset's (a deleted one's rows are another generation).
    #[serde(skip_serializing)]
    #[schema(ignore)]
    pub generation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DatasetColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: relinx_model::DataType,
}

fn dataset_sk(name: &str) -> String {
    format!("{}{name}", dk::DATASET)
}

/// Where a row of a dataset's generation lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub shard: u32,
    pub sk: String,
}

impl RowKey {
    /// The key of an appended row: the run and row that wrote it.
    pub fn appended(run: &str, row: u64) -> Self {
        Self::of(format!("A#{run}#{row:09}"))
    }

    /// The key of an upserted row: its key values (hashed, so any length fits).
    pub fn keyed(values: &[Value]) -> Self {
        let joined = serde_json::to_string(values).unwrap_or_default();
        let digest = sha2::Sha256::digest(joined.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Self::of(format!("K#{hex}"))
    }

    fn of(sk: String) -> Self {
        let digest = sha2::Sha256::digest(sk.as_bytes());
        let shard = u32::from(digest[0]) % SHARDS;
        Self { shard, sk }
    }
}

/// The partition of `shard` of a dataset's generation.
fn rows_pk(scope: &Scope, name: &str, generation: &str, shard: u32) -> String {
    format!(
        "{}{}#{}#{name}#{generation}#{shard:02}",
        dk::DATASET_ROWS,
        scope.org,
        scope.workspace
    )
}

/// One row as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRow {
    /// The row's values as JSON text (key order kept as mapped).
    pub v: String,
    /// The op (`{run}#{row}`) that last wrote it, and the one that created it.
    pub op: String,
    pub created_op: String,
}

/// What a dataset load needs: the dataset's name and generation.
#[derive(Debug, Clone)]
pub struct Target {
    pub scope: Scope,
    pub name: String,
    pub generation: String,
}

impl Target {
    pub fn key(&self, row: &RowKey) -> Item {
        codec::key(
            rows_pk(&self.scope, &self.name, &self.generation, row.shard),
            row.sk.clone(),
        )
    }

    pub fn item(&self, row: &RowKey, stored: &StoredRow) -> Result<Item, StoreError> {
        to_item(
            stored,
            rows_pk(&self.scope, &self.name, &self.generation, row.shard),
            row.sk.clone(),
        )
    }

    /// The rows at `keys` as they are, by sort key (consistent reads).
    pub async fn existing(
        &self,
        store: &Store,
        keys: &[RowKey],
    ) -> Result<std::collections::HashMap<String, StoredRow>, StoreError> {
        let found = store
            .get_items(keys.iter().map(|k| self.key(k)).collect())
            .await?;
        let mut by_sk = std::collections::HashMap::new();
        for item in found {
            let sk = get_s(&item, keys::SK).unwrap_or_default().to_owned();
            by_sk.insert(sk, from_item::<StoredRow>(item)?);
        }
        Ok(by_sk)
    }

    /// Stages `inserted` more rows on the dataset's count (a run's checkpoint).
    pub fn stage_count(&self, tx: &mut Tx, store: &Store, inserted: u64) {
        tx.update(
            &store.tables().main,
            UpdateSpec {
                pk: self.scope.partition(),
                sk: dataset_sk(&self.name),
                set: Cond::new("ADD row_count :n SET updated_at = :now")
                    .value(":n", n(inserted))
                    .value(":now", s(Timestamp::now().to_string())),
                condition: Some(
                    Cond::new("generation = :g").value(":g", s(self.generation.clone())),
                ),
            },
            OnFail::Error(|| {
                StoreError::Internal("the dataset was deleted while a run wrote it".into())
            }),
        );
    }
}

/// Makes the dataset if it is new (its columns set from `columns` either way) and
/// answers where its rows go.
pub async fn prepare(
    store: &Store,
    scope: &Scope,
    name: &str,
    columns: &[DatasetColumn],
) -> Result<Target, StoreError> {
    let now = Timestamp::now().to_string();
    let columns = codec::to_value(&columns)?;
    let set = Cond::new(
        "SET generation = if_not_exists(generation, :g), #name = :name, created_at = if_not_exists(created_at, :now), updated_at = :now, #columns = :columns ADD row_count :zero",
    )
    .name("#name", "name")
    .name("#columns", "columns")
    .value(":g", s(ulid::Ulid::new().to_string()))
    .value(":name", s(name))
    .value(":now", s(now))
    .value(":columns", columns)
    .value(":zero", n(0));
    let written = store
        .update(Table::Main, scope.partition(), dataset_sk(name), set)
        .returning_new()
        .send()
        .await?;
    let relinx_ddb::Written::Applied(Some(item)) = written else {
        return Err(StoreError::Internal(
            "the dataset's description was not written".into(),
        ));
    };
    let dataset: Dataset = from_item(item)?;
    Ok(Target {
        scope: scope.clone(),
        name: name.to_owned(),
        generation: dataset.generation,
    })
}

/// The dataset's target if it exists (a dry run reads, never makes one).
pub async fn find(store: &Store, scope: &Scope, name: &str) -> Result<Option<Target>, StoreError> {
    let dataset: Option<Dataset> = store.get(scope.partition(), dataset_sk(name)).await?;
    Ok(dataset.map(|d| Target {
        scope: scope.clone(),
        name: name.to_owned(),
        generation: d.generation,
    }))
}

/// The workspace's datasets, by name.
pub async fn list(store: &Store, ctx: &Context, scope: &Scope) -> Result<Vec<Dataset>, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Datasets), WHAT)?;
    store
        .query(Table::Main, scope.partition())
        .begins_with(dk::DATASET)
        .page::<Dataset>()
        .await
        .map(|found| found.items)
}

pub async fn get(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    name: &str,
) -> Result<Dataset, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Datasets), WHAT)?;
    store
        .get(scope.partition(), dataset_sk(name))
        .await?
        .ok_or(StoreError::NotFound(WHAT))
}

/// Where a page of rows starts: a shard and the last sort key read in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    shard: u32,
    after: Option<String>,
}

fn encode_position(position: &Position) -> String {
    let json = serde_json::to_vec(position).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_position(raw: &str) -> Result<Position, StoreError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Position>(&bytes).ok())
        .filter(|p| p.shard < SHARDS)
        .ok_or_else(|| {
            StoreError::Invalid(ValidationError::new(
                "cursor",
                "not a cursor this API gave out: pass next_cursor from the previous page",
            ))
        })
}

/// One page of a dataset's rows.
pub struct RowPage {
    pub dataset: Dataset,
    pub rows: Vec<Map<String, Value>>,
    /// Where the next page starts (absent after the last row).
    pub next_cursor: Option<String>,
}

/// How a page is asked for: by number (shallow pages) or by cursor.
pub enum PageAt {
    Number(u64),
    Cursor(String),
}

/// A page of `page_size` rows, in shard order then key order within a shard (the
/// order is stable: walking the cursor visits every row once).
pub async fn rows(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    name: &str,
    at: PageAt,
    page_size: u64,
) -> Result<RowPage, StoreError> {
    let dataset = get(store, ctx, scope, name).await?;
    let (mut position, mut skip) = match at {
        PageAt::Cursor(raw) => (decode_position(&raw)?, 0),
        PageAt::Number(page) => {
            let skip = page.saturating_sub(1).saturating_mul(page_size);
            if skip > MAX_OFFSET {
                return Err(StoreError::Invalid(ValidationError::new(
                    "page",
                    format!(
                        "pages reach {MAX_OFFSET} rows deep; past that, follow next_cursor from an earlier page"
                    ),
                )));
            }
            (Position::default(), skip)
        }
    };
    let target = Target {
        scope: scope.clone(),
        name: name.to_owned(),
        generation: dataset.generation.clone(),
    };
    let mut rows = Vec::new();
    let wanted = usize::try_from(page_size).unwrap_or(0);
    while position.shard < SHARDS && rows.len() < wanted {
        let pk = rows_pk(scope, name, &target.generation, position.shard);
        let mut query = store.query(Table::Main, pk);
        if let Some(after) = &position.after {
            query = query.above(after.clone());
        }
        let room = wanted - rows.len();
        let limit = i32::try_from((skip as usize).saturating_add(room).min(1000)).unwrap_or(1000);
        let found = query.limit(limit).page_items().await?;
        let exhausted = found.next.is_none();
        for item in found.items {
            let sk = get_s(&item, keys::SK).unwrap_or_default().to_owned();
            position.after = Some(sk);
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if rows.len() == wanted {
                break;
            }
            let stored: StoredRow = from_item(item)?;
            rows.push(serde_json::from_str(&stored.v).unwrap_or_default());
        }
        if exhausted && rows.len() < wanted {
            position = Position {
                shard: position.shard + 1,
                after: None,
            };
        }
    }
    // More may follow only if this page filled up before the last shard ended.
    let next_cursor =
        (rows.len() == wanted && position.shard < SHARDS).then(|| encode_position(&position));
    Ok(RowPage {
        dataset,
        rows,
        next_cursor,
    })
}

/// Deletes the dataset: its description now (its rows unreachable from then), its
/// rows by the runner (`purge`), so a large dataset never holds a request.
pub async fn delete(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    name: &str,
) -> Result<Dataset, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Datasets), WHAT)?;
    let dataset = get(store, ctx, scope, name).await?;
    let gone = store
        .delete(Table::Main, scope.partition(), dataset_sk(name))
        .when(Cond::new("generation = :g").value(":g", s(dataset.generation.clone())))
        .apply()
        .await?;
    if !gone {
        return Err(StoreError::NotFound(WHAT));
    }
    crate::run_queue::send(
        store,
        &crate::run_queue::Message::Purge {
            org: scope.org.clone(),
            workspace: scope.workspace.clone(),
            dataset: name.to_owned(),
            generation: dataset.generation.clone(),
        },
    )
    .await?;
    Ok(dataset)
}

/// Removes the rows of a deleted dataset's generation: every shard, a page at a time.
pub async fn purge(
    store: &Store,
    scope: &Scope,
    name: &str,
    generation: &str,
) -> Result<u64, StoreError> {
    let mut removed = 0u64;
    for shard in 0..SHARDS {
        let pk = rows_pk(scope, name, generation, shard);
        loop {
            let found = store
                .query(Table::Main, pk.clone())
                .only("pk, sk")
                .limit(1000)
                .page_items()
                .await?;
            if found.items.is_empty() {
                break;
            }
            let keys: Vec<Item> = found
                .items
                .iter()
                .filter_map(|item| {
                    Some(codec::key(
                        get_s(item, keys::PK)?.to_owned(),
                        get_s(item, keys::SK)?,
                    ))
                })
                .collect();
            removed += keys.len() as u64;
            store.batch_delete(Table::Main, keys).await?;
            if found.next.is_none() {
                break;
            }
        }
    }
    Ok(removed)
}

/// Every row of the dataset, shard by shard, handed to `visit` a page at a time as
/// it is read, reads counted on `budget` (analytics over `dataset:<name>`).
pub async fn walk(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    dataset: &Dataset,
    budget: &mut relinx_ddb::ReadBudget,
    visit: &mut (dyn FnMut(Value) -> Result<(), StoreError> + Send),
) -> Result<(), StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Datasets), WHAT)?;
    for shard in 0..SHARDS {
        let pk = rows_pk(scope, &dataset.name, &dataset.generation, shard);
        budget
            .walk(
                store.query(Table::Main, pk).eventually_consistent(),
                &mut |item| {
                    let stored: StoredRow = from_item(item)?;
                    visit(serde_json::from_str(&stored.v).unwrap_or_default())
                },
            )
            .await?;
    }
    Ok(())
}
