//! The import rows: a pipeline run as a client starts it (over HTTP, on a dev server
//! whose runner works the run queue on moto's SQS), timed by the run's own
//! `started_at` / `finished_at`, beside the bare writes of the same items in the
//! same run, and the hottest partition key's writes/s counted from what was written.

use crate::load;
use relinx_ddb::{Store, Table};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Where the import dev server answers, and the bench org's key.
pub struct Target<'a> {
    pub addr: &'a str,
    pub key: &'a [(String, String)],
    pub store: &'a Store,
    pub org_id: &'a str,
    pub workspace_id: &'a str,
}

async fn call(t: &Target<'_>, method: &str, path: &str, body: Value) -> Result<Value, String> {
    let body = (method != "GET").then(|| body.to_string());
    let (status, answer) = load::once(t.addr, method, path, t.key, body).await?;
    if !(200..300).contains(&status) {
        return Err(format!("{method} {path}: {status} {answer}"));
    }
    Ok(answer["data"].clone())
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// A CSV of `count` people, numbered from `first`.
fn people(first: usize, count: usize) -> String {
    let mut text = String::from("email,first_name,last_name,zip,amount\n");
    for i in first..first + count {
        text.push_str(&format!(
            "user{i}@example.com,First{i},Last{i},{:05},{}.{:02}\n",
            i % 99_999,
            i % 1000,
            i % 100
        ));
    }
    text
}

/// An upload source holding `rows` rows (10,000 a request).
async fn source_with(t: &Target<'_>, name: &str, rows: usize) -> Result<String, String> {
    let source = id(&call(
        t,
        "POST",
        "/api/sources",
        json!({"name": name, "kind": "upload"}),
    )
    .await?);
    for first in (0..rows).step_by(10_000) {
        let (status, staged) = load::once_with(
            t.addr,
            "POST",
            &format!("/api/sources/{source}/rows"),
            t.key,
            Some("text/csv"),
            people(first, (rows - first).min(10_000)).into_bytes(),
        )
        .await?;
        if status != 201 {
            return Err(format!("upload failed: {status} {staged}"));
        }
    }
    Ok(source)
}

/// Runs the pipeline and waits for its end: the run as it ended.
async fn run(t: &Target<'_>, pipeline: &str) -> Result<Value, String> {
    let queued = call(
        t,
        "POST",
        &format!("/api/pipelines/{pipeline}/run"),
        json!({}),
    )
    .await?;
    let run_id = queued["run_id"].as_str().unwrap_or_default().to_owned();
    let deadline = Instant::now() + Duration::from_secs(900);
    while Instant::now() < deadline {
        let now = call(
            t,
            "GET",
            &format!("/api/pipelines/{pipeline}/runs/{run_id}"),
            Value::Null,
        )
        .await?;
        match now["status"].as_str() {
            Some("success") => return Ok(now),
            Some("failed" | "cancelled") => return Err(format!("the import run ended {now}")),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Err(format!("run {run_id} did not end in 15 minutes"))
}

/// The run's own time, from its start to its end (ms).
fn run_ms(run: &Value) -> f64 {
    let at = |field: &str| {
        run[field]
            .as_str()
            .and_then(relinx_model::Timestamp::parse)
            .map_or(0, |t| t.unix_millis())
    };
    (at("finished_at") - at("started_at")).max(1) as f64
}

fn round(x: f64) -> Value {
    json!((x * 1000.0).round() / 1000.0)
}

/// `rows` rows into a dataset (append), and the same number of items of the rows'
/// shape and spread written by bare BatchWriteItem calls.
pub async fn dataset(t: &Target<'_>, rows: usize) -> Result<Value, String> {
    let source = source_with(t, &format!("import-{}", ulid::Ulid::new()), rows).await?;
    let schema = call(
        t,
        "POST",
        "/api/schemas",
        json!({"name": format!("people-{}", ulid::Ulid::new()), "fields": [
        {"name": "email", "type": "email", "required": true},
        {"name": "first_name", "type": "string", "required": false},
        {"name": "last_name", "type": "string", "required": false},
        {"name": "zip", "type": "string", "required": false},
        {"name": "amount", "type": "number", "required": false}]}),
    )
    .await?;
    let fields: Vec<Value> = ["email", "first_name", "last_name", "zip", "amount"]
        .iter()
        .map(|f| json!({"target": f, "expr": f}))
        .collect();
    let mapping = call(
        t,
        "POST",
        "/api/mappings",
        json!({"name": format!("people-{}", ulid::Ulid::new()),
        "source_id": source, "schema_id": id(&schema), "fields": fields}),
    )
    .await?;
    let name = format!("bench-{}", ulid::Ulid::new().to_string().to_lowercase());
    let pipeline = call(
        t,
        "POST",
        "/api/pipelines",
        json!({"name": name, "source_id": source,
        "mapping_id": id(&mapping), "destination": {"kind": "dataset", "dataset": name}}),
    )
    .await?;
    let ended = run(t, &id(&pipeline)).await?;
    if ended["rows_written"] != json!(rows) {
        return Err(format!(
            "the dataset import wrote {}",
            ended["rows_written"]
        ));
    }
    let import_ms = run_ms(&ended);

    // The hottest shard: rows counted per partition key.
    let scope = relinx_data::Scope {
        org: relinx_model::OrgId::parse(t.org_id).ok_or("no org")?,
        workspace: relinx_model::WorkspaceId::parse(t.workspace_id).ok_or("no workspace")?,
    };
    let target = relinx_data::datasets::find(t.store, &scope, &name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the dataset is not there")?;
    let mut per_key = Vec::new();
    for shard in 0..relinx_data::datasets::SHARDS {
        let pk = format!(
            "{}{}#{}#{name}#{}#{shard:02}",
            relinx_ddb::keys::data::DATASET_ROWS,
            scope.org,
            scope.workspace,
            target.generation
        );
        let items = t
            .store
            .query(Table::Main, pk)
            .only("pk")
            .all_items()
            .await
            .map_err(|e| e.to_string())?;
        per_key.push(items.len());
    }
    let hottest = per_key.iter().copied().max().unwrap_or(0);

    // Bare: the same number of items, of the rows' size, over 16 keys, by the same
    // batch writer.
    let sample = json!({"email": "user12345@example.com", "first_name": "First12345", "last_name": "Last12345", "zip": "12345", "amount": 345.45}).to_string();
    let items: Vec<_> = (0..rows)
        .map(|i| {
            let mut item = relinx_ddb::codec::key(
                format!("BENCHDS#{}#{:02}", name, i % 16),
                format!("A#{i:09}"),
            );
            item.insert("v".into(), relinx_ddb::codec::s(sample.clone()));
            item.insert("op".into(), relinx_ddb::codec::s(format!("run#{i}")));
            item.insert(
                "created_op".into(),
                relinx_ddb::codec::s(format!("run#{i}")),
            );
            item
        })
        .collect();
    let started = Instant::now();
    t.store
        .batch_put(Table::Main, items)
        .await
        .map_err(|e| e.to_string())?;
    let bare_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(json!({
        "rows": rows,
        "run_ms": round(import_ms),
        "rows_per_s": round(rows as f64 / (import_ms / 1000.0)),
        "bare_batch_write_ms": round(bare_ms),
        "bare_rows_per_s": round(rows as f64 / (bare_ms / 1000.0)),
        "ratio_to_bare": round(import_ms / bare_ms),
        "shards": per_key.len(),
        "hottest_key_rows": hottest,
        "hottest_key_writes_per_s": round(hottest as f64 / (import_ms / 1000.0)),
    }))
}

/// `rows` new contacts (upsert on e-mail) through Relenta's save, and the same
/// number of bare transactions of a new contact's shape.
pub async fn contacts(t: &Target<'_>, rows: usize, concurrency: usize) -> Result<Value, String> {
    let source = source_with(t, &format!("contacts-{}", ulid::Ulid::new()), rows).await?;
    let mapping = call(
        t,
        "POST",
        "/api/mappings",
        json!({"name": format!("contacts-{}", ulid::Ulid::new()),
        "source_id": source, "schema_id": "contact", "fields": [
            {"target": "emails", "expr": "email"},
            {"target": "first_name", "expr": "first_name"},
            {"target": "last_name", "expr": "last_name"}]}),
    )
    .await?;
    let pipeline = call(
        t,
        "POST",
        "/api/pipelines",
        json!({"name": format!("contacts-{}", ulid::Ulid::new()),
        "source_id": source, "mapping_id": id(&mapping),
        "destination": {"kind": "contacts", "key": "emails"}, "mode": "upsert"}),
    )
    .await?;
    let ended = run(t, &id(&pipeline)).await?;
    if ended["rows_written"] != json!(rows) {
        return Err(format!(
            "the contacts import wrote {}",
            ended["rows_written"]
        ));
    }
    let import_ms = run_ms(&ended);
    // The department's partition takes two writes a new contact (its id counter and
    // the contact): the hottest key.
    let hottest_writes = 2 * rows;

    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (store, next) = (t.store.clone(), next.clone());
        let run_tag = ulid::Ulid::new().to_string();
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= rows {
                    return Ok::<_, String>(());
                }
                contact_shape(&store, &run_tag, n).await?;
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    let bare_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(json!({
        "rows": rows,
        "run_ms": round(import_ms),
        "rows_per_s": round(rows as f64 / (import_ms / 1000.0)),
        "bare_transaction_ms": round(bare_ms),
        "bare_rows_per_s": round(rows as f64 / (bare_ms / 1000.0)),
        "ratio_to_bare": round(import_ms / bare_ms),
        "hottest_key_writes_per_s": round(hottest_writes as f64 / (import_ms / 1000.0)),
        "pace_writes_per_s": 800,
    }))
}

/// One bare new contact's writes: the id counter's ADD, then one transaction of the
/// contact, its address index, the org's count, the event, the workspace check and
/// the op marker.
async fn contact_shape(store: &Store, tag: &str, n: usize) -> Result<(), String> {
    use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};
    let s = |v: String| AttributeValue::S(v);
    let err = |e: aws_sdk_dynamodb::error::BuildError| e.to_string();
    let tables = store.tables();
    let dept = format!("BENCHCRM#{tag}");
    store
        .client()
        .update_item()
        .table_name(&tables.main)
        .key("pk", s(dept.clone()))
        .key("sk", s("SEQ".into()))
        .update_expression("ADD contact :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
    let put = |table: &str, pk: String, sk: String| {
        Put::builder()
            .table_name(table)
            .item("pk", s(pk))
            .item("sk", s(sk))
            .item("data", s("{\"full_name\":\"First Last\",\"emails\":\"user@example.com\",\"first_name\":\"First\",\"last_name\":\"Last\"}".into()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .map_err(err)
    };
    let count = Update::builder()
        .table_name(&tables.main)
        .key("pk", s(format!("BENCHORG#{tag}")))
        .key("sk", s("CONTACTCOUNT".into()))
        .update_expression("ADD contacts :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .build()
        .map(|u| TransactWriteItem::builder().update(u).build())
        .map_err(err)?;
    let check = ConditionCheck::builder()
        .table_name(&tables.main)
        .key("pk", s("BENCHORG#ref".into()))
        .key("sk", s("WS".into()))
        .condition_expression("attribute_not_exists(read_only)")
        .build()
        .map(|c| TransactWriteItem::builder().condition_check(c).build())
        .map_err(err)?;
    store
        .client()
        .transact_write_items()
        .transact_items(put(&tables.main, dept, format!("CONTACT#{n:012}"))?)
        .transact_items(put(
            &tables.main,
            format!("BENCHMAIL#{tag}#{n}"),
            "C".into(),
        )?)
        .transact_items(count)
        .transact_items(put(
            &tables.events,
            format!("BENCHORG#{tag}"),
            format!("EVT#{n:012}"),
        )?)
        .transact_items(check)
        .transact_items(put(
            &tables.main,
            format!("BENCHOP#{tag}#{n}"),
            "OP".into(),
        )?)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
}
