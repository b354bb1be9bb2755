//! Source operations: create, list, read, change, delete; stage an upload's rows;
//! sample them. Every operation checks its permission and the workspace first; a
//! source's name is unique in its workspace (a guard item beside it).

use crate::infer::infer_column;
use crate::ingest::{CsvOptions, IngestError, Table, parse_csv, parse_json};
use crate::scope::Scope;
use crate::source::{ConfigInput, NewSource, Source, SourceChange, SourceConfig, merge_columns};
use crate::staging::{self, MAX_BYTES, MAX_ROWS, RETENTION_DAYS, Upload};
use relinx_auth::Sealer;
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::Changed;
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, ErrorCode, EventName, Permission, Resource, SourceId, Timestamp, ValidationError,
};
use serde::Serialize;

const WHAT: &str = "source";

fn sealer(store: &Store) -> Sealer {
    Sealer::new(store.hasher(), "source headers")
}

/// The stored form of `input`: an `http` source's URL checked by the webhook rules
/// (no private or metadata address), its headers sealed (`None` keeps `kept`).
async fn stored_config(
    store: &Store,
    input: ConfigInput,
    kept: Option<&SourceConfig>,
) -> Result<SourceConfig, StoreError> {
    Ok(match input {
        ConfigInput::Upload {
            delimiter,
            encoding,
        } => SourceConfig::Upload {
            delimiter,
            encoding,
        },
        ConfigInput::Relinx { entity } => SourceConfig::Relinx { entity },
        ConfigInput::Http { url, headers } => {
            let policy = relinx_webhooks::target::TargetPolicy {
                allow_private: store.config().api.allow_private_targets,
            };
            let url = relinx_webhooks::target::check(policy, &url)
                .await
                .map_err(|e| match e {
                    StoreError::Invalid(v) => {
                        StoreError::Invalid(ValidationError::new("config.url", v.message))
                    }
                    other => other,
                })?;
            let (header_names, headers_sealed) = match (headers, kept) {
                (Some(headers), _) => {
                    let names = headers.keys().cloned().collect();
                    let json = serde_json::to_string(&headers)
                        .map_err(|e| StoreError::internal("encode headers", e))?;
                    (
                        names,
                        (!headers.is_empty()).then(|| sealer(store).seal(&json)),
                    )
                }
                (
                    None,
                    Some(SourceConfig::Http {
                        header_names,
                        headers_sealed,
                        ..
                    }),
                ) => (header_names.clone(), headers_sealed.clone()),
                (None, _) => (Vec::new(), None),
            };
            SourceConfig::Http {
                url,
                header_names,
                headers_sealed,
            }
        }
    })
}

/// An `http` source's headers, opened (for the fetch at run time only).
pub fn http_headers(store: &Store, source: &Source) -> Result<Vec<(String, String)>, StoreError> {
    let SourceConfig::Http {
        headers_sealed: Some(sealed),
        ..
    } = &source.config
    else {
        return Ok(Vec::new());
    };
    let json = sealer(store)
        .open(sealed)
        .ok_or_else(|| StoreError::Internal("a source's headers do not open".into()))?;
    let headers: std::collections::BTreeMap<String, String> = serde_json::from_str(&json)
        .map_err(|e| StoreError::internal("decode source headers", e))?;
    Ok(headers.into_iter().collect())
}

pub async fn create(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    new: NewSource,
) -> Result<Source, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Sources), WHAT)?;
    let now = Timestamp::now();
    let source = Source {
        id: SourceId::generate(),
        name: new.name.to_string(),
        config: stored_config(store, new.config, None).await?,
        columns: Vec::new(),
        row_count: 0,
        last_ingested_at: None,
        created_at: now,
        updated_at: now,
        in_use: 0,
    };
    let mut tx = Tx::new();
    scope.stage_new(&mut tx, store, &source)?;
    scope.stage_change(&mut tx, store, ctx, EventName::SourceCreated, &source);
    tx.answer(store, &source);
    tx.commit(store).await?;
    Ok(source)
}

/// Every source of the workspace, by id (creation order).
pub async fn list(store: &Store, ctx: &Context, scope: &Scope) -> Result<Vec<Source>, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Sources), WHAT)?;
    scope.all(store).await
}

pub async fn get(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &SourceId,
) -> Result<Source, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Sources), WHAT)?;
    scope.get(store, id.as_str()).await
}

/// Changes what `change` names: the name (its guard moved in the same
/// transaction), the settings (of the same kind), column types.
pub async fn update(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &SourceId,
    change: SourceChange,
) -> Result<Source, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Sources), WHAT)?;
    let current = get(store, ctx, scope, id).await?;
    let config = match &change.config {
        Some(raw) => Some(
            stored_config(
                store,
                ConfigInput::parse(current.config.kind(), raw.clone())?,
                Some(&current.config),
            )
            .await?,
        ),
        None => None,
    };
    scope
        .modify(store, id.as_str(), |mut source: Source, mut tx: Tx| {
            let change = &change;
            let config = config.clone();
            async move {
                if let Some(name) = &change.name {
                    scope.stage_rename(&mut tx, store, &mut source, name);
                }
                if let Some(config) = config {
                    source.config = config;
                }
                for (column, set_type) in &change.column_types {
                    let Some(found) = source.columns.iter_mut().find(|c| &c.name == column) else {
                        return Err(StoreError::Invalid(ValidationError::new(
                            format!("columns.{column}"),
                            "no such column in this source",
                        )));
                    };
                    found.set_type = *set_type;
                }
                source.updated_at = Timestamp::now();
                scope.stage_change(&mut tx, store, ctx, EventName::SourceUpdated, &source);
                tx.answer(store, &source);
                Ok(Changed::put(tx, source.clone(), source))
            }
        })
        .await
}

/// Deletes the source and its name. Its staged rows can no longer be reached and
/// expire with their retention.
pub async fn delete(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &SourceId,
) -> Result<Source, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Sources), WHAT)?;
    scope
        .modify(
            store,
            id.as_str(),
            |source: Source, mut tx: Tx| async move {
                if source.in_use > 0 {
                    return Err(
                        crate::uses::refusal(store, scope, "source", source.id.as_str()).await,
                    );
                }
                scope.stage_release(&mut tx, store, &source);
                scope.stage_change(&mut tx, store, ctx, EventName::SourceDeleted, &source);
                Ok(Changed::delete(tx, source))
            },
        )
        .await
}

/// A file to stage, as the request sent it.
pub struct UploadFile<'a> {
    /// The request's media type, without parameters.
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    /// `?delimiter=`, `?encoding=` (CSV only).
    pub csv: CsvOptions,
}

/// What an upload staged.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Staged {
    pub upload_id: String,
    pub rows_staged: u64,
    /// The encoding the file was read in (`UTF-8`, `windows-1252`, …).
    pub encoding: String,
    /// The delimiter a CSV was read with.
    pub delimiter: Option<String>,
    /// When the staged rows expire unless a run consumes them first.
    pub expires_at: Timestamp,
    /// The source after the upload: its columns with the upload's merged in.
    pub source: crate::source::SourceView,
}

fn malformed(err: IngestError) -> StoreError {
    StoreError::BadInput {
        code: ErrorCode::MalformedFile,
        message: format!("{err}; nothing was staged"),
    }
}

fn too_large(message: String) -> StoreError {
    StoreError::TooLarge {
        code: ErrorCode::PayloadTooLarge,
        message,
    }
}

/// Reads a file by its media type: CSV (`text/csv`, `application/csv`,
/// `text/plain`), a JSON array of objects, or NDJSON; anything else, or a malformed
/// file, is a 400 saying what to send or which line is wrong.
fn read_file(content_type: &str, bytes: &[u8], csv: &CsvOptions) -> Result<Table, StoreError> {
    match content_type {
        "text/csv" | "application/csv" | "text/plain" => parse_csv(bytes, csv),
        "application/json" => parse_json(bytes, false),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            parse_json(bytes, true)
        }
        other => {
            return Err(StoreError::BadInput {
                code: ErrorCode::InvalidBody,
                message: format!(
                    "Content-Type {other:?}: send text/csv, application/json (an array of objects) or application/x-ndjson"
                ),
            });
        }
    }
    .map_err(malformed)
}

/// Reads `file` whole (refused whole if any line is wrong), infers its columns,
/// stages its rows, and merges its columns into the source's, in one transaction
/// with the upload's record: a retry with the same `Idempotency-Key` replays it, a
/// process killed before it leaves nothing reachable.
pub async fn stage(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &SourceId,
    file: UploadFile<'_>,
) -> Result<Staged, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Sources), WHAT)?;
    let source = get(store, ctx, scope, id).await?;
    let SourceConfig::Upload {
        delimiter,
        encoding,
    } = &source.config
    else {
        return Err(StoreError::Unprocessable(ValidationError::new(
            "kind",
            format!(
                "this is an {} source: only an upload source takes rows",
                source.config.kind()
            ),
        )));
    };
    if file.bytes.len() > MAX_BYTES {
        return Err(too_large(format!(
            "the file is {} bytes; an upload may send at most {MAX_BYTES} bytes (4 MB): split it",
            file.bytes.len()
        )));
    }
    let options = CsvOptions {
        delimiter: file.csv.delimiter.or(*delimiter),
        encoding: file.csv.encoding.or_else(|| encoding.clone()),
    };
    let table = read_file(file.content_type, file.bytes, &options)?;
    if table.rows.len() > MAX_ROWS {
        return Err(too_large(format!(
            "the file has {} rows; an upload may stage at most {MAX_ROWS}: split it",
            table.rows.len()
        )));
    }
    let csv = file.content_type.contains("csv") || file.content_type == "text/plain";
    stage_table(store, ctx, scope, &source, table, csv).await
}

/// What each column's values hold (the types inferred from them).
fn profile(columns: &[String], rows: &[Vec<String>]) -> Vec<crate::ColumnProfile> {
    (0..columns.len())
        .map(|i| {
            let values: Vec<&str> = rows
                .iter()
                .map(|row| row.get(i).map(String::as_str).unwrap_or_default())
                .collect();
            infer_column(&columns[i], &values)
        })
        .collect()
}

/// Stages a table read from a file or a URL as one upload of `source`: its rows in
/// chunks, then the upload listed and the columns merged under the source's version,
/// with the change's event (and a request's answer).
async fn stage_table(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    source: &Source,
    table: Table,
    csv: bool,
) -> Result<Staged, StoreError> {
    let id = &source.id;
    let Table {
        columns,
        rows,
        encoding,
        delimiter,
    } = table;
    if rows.is_empty() {
        return Err(malformed(IngestError {
            line: None,
            message: "the file has no rows".into(),
        }));
    }
    let profiles = profile(&columns, &rows);
    let now = Timestamp::now();
    let chunks = staging::encode_chunks(&rows, 1)?;
    let upload = Upload {
        id: ulid::Ulid::new().to_string(),
        source_id: source.id.clone(),
        columns,
        rows: rows.len() as u64,
        chunks: u32::try_from(chunks.len()).unwrap_or(u32::MAX),
        encoding: encoding.to_owned(),
        delimiter: csv.then_some(delimiter),
        staged_at: now,
        expires_at: now.plus_seconds(RETENTION_DAYS * 86_400),
    };
    staging::write_chunks(store, &upload, &scope.org, chunks).await?;
    let main = &store.tables().main;
    let upload_item = staging::upload_item(&upload, scope.partition())?;
    scope
        .modify(store, id.as_str(), |mut source: Source, mut tx: Tx| {
            let profiles: Vec<_> = profiles.clone();
            let upload = &upload;
            let upload_item = upload_item.clone();
            async move {
                source.columns = merge_columns(std::mem::take(&mut source.columns), profiles);
                source.row_count += upload.rows;
                source.last_ingested_at = Some(upload.staged_at);
                source.updated_at = upload.staged_at;
                tx.put(
                    main,
                    upload_item,
                    Some(Cond::not_exists()),
                    OnFail::Internal,
                );
                scope.stage_change(&mut tx, store, ctx, EventName::SourceUpdated, &source);
                let staged = Staged {
                    upload_id: upload.id.clone(),
                    rows_staged: upload.rows,
                    encoding: upload.encoding.clone(),
                    delimiter: upload.delimiter.map(|d| d.to_string()),
                    expires_at: upload.expires_at,
                    source: source.view(),
                };
                tx.answer(store, &staged);
                Ok(Changed::put(tx, source, staged))
            }
        })
        .await
}

/// Rows of a source, as a sample shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sample {
    /// Every column the rows hold, in the source's order.
    pub columns: Vec<String>,
    /// Each row as `{column: value}` (a column its upload lacked is absent).
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// A row as a sample shows it: `{column: value}`, every value as given.
fn row_object(
    columns: &[String],
    values: Vec<String>,
) -> serde_json::Map<String, serde_json::Value> {
    columns
        .iter()
        .cloned()
        .zip(values.into_iter().map(serde_json::Value::String))
        .collect()
}

/// The most rows a sample shows.
pub const MAX_SAMPLE: usize = 1000;

/// The first `limit` staged rows of an upload source, oldest first.
pub async fn sample(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &SourceId,
    limit: usize,
) -> Result<Sample, StoreError> {
    let source = get(store, ctx, scope, id).await?;
    match &source.config {
        SourceConfig::Upload { .. } => {}
        SourceConfig::Http { url, .. } => {
            return fetched_sample(store, &source, url, limit.min(MAX_SAMPLE)).await;
        }
        SourceConfig::Relinx { .. } => {
            return Err(StoreError::Unprocessable(ValidationError::new(
                "kind",
                "this is a relinx source: the platform's own rows are read when a pipeline runs",
            )));
        }
    }
    let staged = staging::read_rows(
        store,
        &scope.partition(),
        &scope.org,
        id,
        limit.min(MAX_SAMPLE),
    )
    .await?;
    let rows = staged
        .rows
        .into_iter()
        .map(|(upload, values)| row_object(&staged.uploads[upload].columns, values))
        .collect();
    Ok(Sample {
        columns: source.columns.iter().map(|c| c.name.clone()).collect(),
        rows,
    })
}

/// The first `limit` rows an `http` source's URL answers now (fetched under the
/// webhook target rules, at most 4 MB), read as its Content-Type says.
async fn fetched_sample(
    store: &Store,
    source: &Source,
    url: &str,
    limit: usize,
) -> Result<Sample, StoreError> {
    let (table, _) = fetched_table(store, source, url).await?;
    let rows = table
        .rows
        .into_iter()
        .take(limit)
        .map(|values| row_object(&table.columns, values))
        .collect();
    Ok(Sample {
        columns: table.columns,
        rows,
    })
}

/// What an `http` source's URL answers now, read as its Content-Type says (and
/// whether it was CSV).
async fn fetched_table(
    store: &Store,
    source: &Source,
    url: &str,
) -> Result<(Table, bool), StoreError> {
    use relinx_webhooks::fetch::{self, FetchError};
    let policy = relinx_webhooks::target::TargetPolicy {
        allow_private: store.config().api.allow_private_targets,
    };
    let headers = http_headers(store, source)?;
    let fetched = fetch::get(policy, url, &headers, MAX_BYTES)
        .await
        .map_err(|e| match e {
            FetchError::Refused(refused) => refused,
            other => {
                StoreError::Unprocessable(ValidationError::new("config.url", other.to_string()))
            }
        })?;
    let content_type = if fetched.content_type.is_empty() {
        "text/csv"
    } else {
        fetched.content_type.as_str()
    };
    let table = read_file(content_type, &fetched.bytes, &CsvOptions::default())?;
    let csv = !content_type.contains("json");
    Ok((table, csv))
}

/// The source with its columns known: an `http` source that has none yet (nothing
/// fetched for a run) is fetched once and the columns of what it answers recorded,
/// so a mapping can be built on it; a `relinx` one learns them from its entity's
/// first changes. An upload source as it is.
pub async fn with_columns(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    source: Source,
) -> Result<Source, StoreError> {
    if !source.columns.is_empty() {
        return Ok(source);
    }
    let table = match &source.config {
        SourceConfig::Http { url, .. } => fetched_table(store, &source, url).await?.0,
        SourceConfig::Relinx { entity } => {
            if let Some(why) = crate::relinx_source::refusal(ctx, *entity) {
                return Err(StoreError::Unprocessable(ValidationError::new(
                    "config.entity",
                    why,
                )));
            }
            crate::relinx_source::sample(store, scope, *entity).await?
        }
        SourceConfig::Upload { .. } => return Ok(source),
    };
    if table.columns.is_empty() {
        return Ok(source);
    }
    let profiles = profile(&table.columns, &table.rows);
    scope
        .modify(
            store,
            source.id.as_str(),
            |mut source: Source, mut tx: Tx| {
                let profiles = profiles.clone();
                async move {
                    source.columns = merge_columns(std::mem::take(&mut source.columns), profiles);
                    source.updated_at = Timestamp::now();
                    scope.stage_change(&mut tx, store, ctx, EventName::SourceUpdated, &source);
                    Ok(Changed::put(tx, source.clone(), source))
                }
            },
        )
        .await
}

/// Fetches an `http` source's URL for a run and stages what it answers as uploads
/// of at most 10,000 rows each: their ids, oldest first (the run reads exactly
/// those).
pub async fn fetch_for_run(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    source: &Source,
) -> Result<Vec<String>, StoreError> {
    let SourceConfig::Http { url, .. } = &source.config else {
        return Err(StoreError::Internal(
            "fetch_for_run: not an http source".into(),
        ));
    };
    let (table, csv) = fetched_table(store, source, url).await?;
    stage_pieces(store, ctx, scope, source, table, csv).await
}

/// Reads a `relinx` source's changes after `cursor` for a run (at most
/// `relinx_source::MAX_PER_RUN`) and stages them as uploads: their ids, and where
/// the next run reads from.
pub async fn read_for_run(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    source: &Source,
    cursor: Option<&str>,
) -> Result<(Vec<String>, String), StoreError> {
    let SourceConfig::Relinx { entity } = &source.config else {
        return Err(StoreError::Internal(
            "read_for_run: not a relinx source".into(),
        ));
    };
    let (table, next) = crate::relinx_source::read(
        store,
        scope,
        *entity,
        cursor,
        crate::relinx_source::MAX_PER_RUN,
    )
    .await?;
    if table.rows.is_empty() {
        return Ok((Vec::new(), next));
    }
    Ok((
        stage_pieces(store, ctx, scope, source, table, false).await?,
        next,
    ))
}

/// Stages `table` as uploads of at most 10,000 rows each: their ids, oldest first.
async fn stage_pieces(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    source: &Source,
    table: Table,
    csv: bool,
) -> Result<Vec<String>, StoreError> {
    let mut staged = Vec::new();
    let Table {
        columns,
        mut rows,
        encoding,
        delimiter,
    } = table;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(MAX_ROWS));
        let piece = Table {
            columns: columns.clone(),
            rows,
            encoding,
            delimiter,
        };
        // The source as it is now: each upload merges its columns under its version.
        let now: Source = scope.get(store, source.id.as_str()).await?;
        staged.push(
            stage_table(store, ctx, scope, &now, piece, csv)
                .await?
                .upload_id,
        );
        rows = rest;
    }
    Ok(staged)
}
