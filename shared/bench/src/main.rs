//! `relinx-bench`: what `scripts/bench` runs. Every figure comes from one run against
//! one DynamoDB Local: per route throughput and latency over loopback HTTP with the
//! server's own DynamoDB accounting, the bare-SDK reference, and each Lambda binary's
//! size, cold start and memory.
//!
//! Usage: relinx-bench [--quick] [--dispatcher-only] [--imports-only] [--concurrency N] [--out PATH]

use relinx_bench::{load, runtime_api};

use load::{Route, Sample, percentile, sorted};
use relinx_ddb::{CacheSettings, Store, Tables};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

struct Args {
    quick: bool,
    /// Only the import rows (a pipeline run into a dataset and into contacts) and the
    /// insights rows after them (a grouped count over those contacts, audiences).
    imports_only: bool,
    /// Only the dispatcher's figures (a quick loop while working on delivery).
    dispatcher_only: bool,
    concurrency: usize,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        imports_only: false,
        dispatcher_only: false,
        concurrency: 8,
        out: PathBuf::from("target/bench/latest.json"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--imports-only" => args.imports_only = true,
            "--dispatcher-only" => args.dispatcher_only = true,
            "--concurrency" => {
                let raw = it.next().ok_or("--concurrency needs a number")?;
                args.concurrency = raw
                    .parse()
                    .map_err(|_| format!("--concurrency: {raw:?} is not a number"))?;
            }
            "--out" => args.out = it.next().ok_or("--out needs a path")?.into(),
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: relinx-bench [--quick] [--dispatcher-only] [--imports-only] [--concurrency N] [--out PATH]"
                ));
            }
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    if let Err(message) = run().await {
        eprintln!("relinx-bench: {message}");
        std::process::exit(1);
    }
}

fn random_secret() -> String {
    (0..48)
        .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
        .collect()
}

/// Binaries built beside this one (`target/release`).
fn sibling(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = exe.parent().ok_or("no parent directory")?.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing; build it with cargo build --release",
            path.display()
        ))
    }
}

struct Setup {
    addr: String,
    api_key: String,
    workspace_id: String,
    limited_key: String,
    /// Keys of many orgs, so per-org limiter state cannot hide behind one warm lease.
    many_keys: Vec<String>,
    /// The main org (its webhook endpoint receives the dispatcher rows' deliveries).
    org_id: String,
    /// A record to read, and one per worker to patch (path, ETag).
    record_path: String,
    patch_chain: Arc<load::Chain>,
    /// A 40-column upload source, for the mapping assistant's row.
    wide_source: String,
    store: Store,
    env: Vec<(String, String)>,
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let config = relinx_config::Config::from_env().map_err(|e| e.to_string())?;
    let endpoint = config
        .aws
        .dynamodb_endpoint
        .clone()
        .ok_or("DYNAMODB_ENDPOINT is not set; run scripts/bench")?;
    let (warmup, duration) = if args.quick {
        (Duration::from_millis(300), Duration::from_millis(1500))
    } else {
        (Duration::from_secs(2), Duration::from_secs(10))
    };
    let cold_runs = 10;
    let prefix = format!("bench{}", relinx_model::Timestamp::now().unix());
    let tables = Tables::with_prefix(&prefix);
    let pepper = random_secret();
    let jwt = random_secret();
    let env: Vec<(String, String)> = vec![
        ("MAIN_TABLE".into(), tables.main.clone()),
        ("EVENTS_TABLE".into(), tables.events.clone()),
        ("JOBS_TABLE".into(), tables.jobs.clone()),
        ("RELINX_TABLE_PREFIX".into(), prefix.clone()),
        ("RELINX_KEY_PEPPER".into(), pepper.clone()),
        ("RELINX_JWT_SECRET".into(), jwt),
        ("RELINX_SIGNUP_MODE".into(), "open".into()),
        ("RELINX_PLAN_SELECTION".into(), "allowed".into()),
        ("DYNAMODB_ENDPOINT".into(), endpoint),
        ("RUST_LOG".into(), "warn".into()),
    ];
    let client = Store::client_for(&config.aws).await;
    relinx_ddb::schema::create_tables(&client, &tables)
        .await
        .map_err(|e| e.to_string())?;
    let hasher = relinx_auth_hasher(&pepper)?;
    let store = Store::new(client, tables, hasher, CacheSettings::disabled());
    // The item the GetItem and Query references read, as the routes read real items.
    store
        .client()
        .put_item()
        .table_name(&store.tables().main)
        .item(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(REF_PK.into()),
        )
        .item(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(REF_SK.into()),
        )
        .item(
            "data",
            aws_sdk_dynamodb::types::AttributeValue::S("reference item".into()),
        )
        .send()
        .await
        .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;

    eprintln!("warming DynamoDB Local's JVM …");
    reference(
        args.concurrency,
        Duration::ZERO,
        Duration::from_secs(if args.quick { 2 } else { 5 }),
        get_item_op(&store),
    )
    .await?;

    if args.dispatcher_only {
        let org_id = bench_org(&store).await?;
        let dispatch = measure_dispatch(&store, &org_id, args.concurrency, duration).await?;
        print_dispatch(&dispatch_report(&args, &dispatch));
        return Ok(());
    }

    // The route rows run without the event pipeline (its pollers would load
    // DynamoDB Local beside them); the import rows start a server with it.
    let (mut dev, addr, links_port) = spawn_dev(&env, false).await?;
    let setup = prepare(addr, store, env).await?;
    if args.imports_only {
        let _ = dev.kill().await;
        let imports = measure_imports(&setup, &config, args.quick, args.concurrency).await?;
        print_imports(&imports);
        print_insights(&imports);
        return Ok(());
    }

    let counter = Arc::new(AtomicU64::new(0));
    let mut rows = Vec::new();
    for route in routes(&setup) {
        eprintln!("load: {} …", route.name);
        let (samples, measured) = load::run(
            &setup.addr,
            &route,
            args.concurrency,
            warmup,
            duration,
            counter.clone(),
        )
        .await?;
        rows.push((
            route.name,
            route.method.as_str() == "GET" || route.name == SUGGEST_ROW,
            summarize(&samples, measured),
        ));
    }
    eprintln!("load: upload of a {UPLOAD_ROWS}-row CSV …");
    let upload = measure_upload(&setup, if args.quick { 3 } else { 10 }).await?;
    // The short links, on the links host: one Url link opened by every worker.
    eprintln!("load: open short link …");
    let links_addr = format!("127.0.0.1:{links_port}");
    let (link_id, slug) = short_link(&setup).await?;
    let route = load::Route {
        name: "open short link",
        method: http::Method::GET,
        path: format!("/{slug}"),
        headers: load::fixed(vec![(
            "user-agent".to_owned(),
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0".to_owned(),
        )]),
        body: Arc::new(|_| None),
        expect: 302,
        chain: None,
    };
    let started = Instant::now();
    let (samples, measured) = load::run(
        &links_addr,
        &route,
        args.concurrency,
        warmup,
        duration,
        counter.clone(),
    )
    .await?;
    let hottest = hottest_counter_key(&setup.store, &link_id, started.elapsed()).await?;
    rows.push((route.name, true, summarize(&samples, measured)));
    eprintln!("reference: bare SDK calls …");
    let get_ref = summarize_ms(
        &reference(
            args.concurrency,
            warmup,
            duration,
            get_item_op(&setup.store),
        )
        .await?,
        duration,
    );
    let tx_ref = summarize_ms(
        &reference(
            args.concurrency,
            warmup,
            duration,
            transact_op(&setup.store),
        )
        .await?,
        duration,
    );
    // The routes' own shapes: a list is a Query; a create is one transaction of the
    // entity, its guard and its event in one org (two tables).
    let query_ref = summarize_ms(
        &reference(args.concurrency, warmup, duration, query_op(&setup.store)).await?,
        duration,
    );
    let create_ref = summarize_ms(
        &reference(
            args.concurrency,
            warmup,
            duration,
            create_shape_op(&setup.store),
        )
        .await?,
        duration,
    );
    let _ = dev.kill().await;
    let imports = measure_imports(&setup, &config, args.quick, args.concurrency).await?;
    eprintln!("dispatcher: fan-out and delivery handlers in-process …");
    let dispatch =
        measure_dispatch(&setup.store, &setup.org_id, args.concurrency, duration).await?;

    let mut functions = Vec::new();
    for (name, event) in [
        ("auth", api_event("GET", "/api/v1/validate", &setup.api_key)),
        (
            "admin",
            api_event(
                "GET",
                &format!("/v1/workspaces/{}", setup.workspace_id),
                &setup.api_key,
            ),
        ),
        (
            "records",
            api_event("GET", &setup.record_path, &setup.api_key),
        ),
        ("sync", api_event("GET", "/v1/policies", &setup.api_key)),
        ("audit", api_event("GET", "/v1/audit", &setup.api_key)),
        ("webhooks", api_event("GET", "/v1/webhooks", &setup.api_key)),
        (
            "links",
            api_event("GET", "/api/v1/smartlink", &setup.api_key),
        ),
        (
            "crm",
            api_event("GET", "/api/v3/contact.list.json", &setup.api_key),
        ),
        ("data", api_event("GET", "/api/sources", &setup.api_key)),
        ("insights", api_event("GET", "/api/queries", &setup.api_key)),
        // A live short link: its hit is written after the answer, while the
        // function's extension holds the invocation open.
        (
            "redirect",
            api_event("GET", &format!("/{slug}"), &setup.api_key),
        ),
        ("dispatcher", queue_event(&setup.org_id)),
    ] {
        eprintln!("function: {name} (cold starts, memory) …");
        let mut env = setup.env.clone();
        if name == "dispatcher" {
            // It needs a queue to start; the bench's event never sends to it.
            env.push((
                "DELIVERY_QUEUE_URL".into(),
                "http://127.0.0.1:9/000000000000/bench".into(),
            ));
            env.push(("SQS_ENDPOINT".into(), "http://127.0.0.1:9".into()));
        }
        functions.push(measure_function(name, &event, &env, cold_runs).await?);
    }
    // The deployed start: the secrets read from Secrets Manager (moto here, so the
    // figure is the SDK client's set-up and one local round trip; in a region, add
    // one HTTPS round trip).
    if let Some(endpoint) = config.aws.secrets_manager_endpoint.clone() {
        eprintln!("function: auth, secrets from Secrets Manager (cold starts, memory) …");
        let secrets = aws_sdk_secretsmanager::Client::new(
            &relinx_ddb::sdk_config(&config.aws, Some(endpoint.as_str())).await,
        );
        let mut env: Vec<(String, String)> = setup
            .env
            .iter()
            .filter(|(name, _)| name != "RELINX_KEY_PEPPER" && name != "RELINX_JWT_SECRET")
            .cloned()
            .collect();
        for (value_var, arn_var) in [relinx_config::KEY_PEPPER, relinx_config::JWT_SECRET] {
            let value = setup
                .env
                .iter()
                .find(|(name, _)| name == value_var)
                .map(|(_, value)| value.clone())
                .ok_or(format!("{value_var} is not in the bench's environment"))?;
            let name = format!("{prefix}-{}", value_var.to_lowercase());
            let arn = secrets
                .create_secret()
                .name(&name)
                .secret_string(value)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "cannot make the secret {name}: {}",
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                    )
                })?
                .arn
                .ok_or("Secrets Manager made a secret without an ARN")?;
            env.push((arn_var.into(), arn));
        }
        env.push(("SECRETS_MANAGER_ENDPOINT".into(), endpoint));
        let event = api_event("GET", "/api/v1/validate", &setup.api_key);
        let mut figures = measure_function("auth", &event, &env, cold_runs).await?;
        figures.name = "auth, stored secrets";
        functions.push(figures);
    }

    let shapes = [("Query", &query_ref), ("create transaction", &create_ref)];
    let mut report = report(&args, &rows, &get_ref, &tx_ref, &shapes, &functions);
    report["dispatcher"] = dispatch_report(&args, &dispatch);
    report["upload"] = upload;
    report["imports"] = imports;
    report["short_link_counters"] = hottest;
    print_table(&report);
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, text)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    eprintln!("written to {}", args.out.display());
    Ok(())
}

fn print_dispatch(d: &Value) {
    let f = |v: &Value| v.as_f64().map_or("-".into(), |x| format!("{x}"));
    println!(
        "dispatcher (in-process)  fan-out {} events/s (concurrency {}); delivery handler {} deliveries/s (SQS batches of {}, one at a time), batch p50 {} ms, p99 {} ms, failed {}",
        f(&d["fan_out_events_per_s"]),
        d["fan_out_concurrency"],
        f(&d["deliveries_per_s"]),
        d["delivery_batch"],
        f(&d["batch_p50_ms"]),
        f(&d["batch_p99_ms"]),
        d["failed"],
    );
}

/// A Url smartlink of the bench org, for the short link row: its id and slug.
async fn short_link(setup: &Setup) -> Result<(String, String), String> {
    let key = vec![(
        "authorization".to_owned(),
        format!("ApiKey {}", setup.api_key),
    )];
    let body = json!({"config": {"smartlinkType": "Url"}}).to_string();
    let (status, made) =
        load::once(&setup.addr, "POST", "/api/v1/smartlink", &key, Some(body)).await?;
    if status != 201 {
        return Err(format!("smartlink create failed: {status} {made}"));
    }
    let id = made["id"].as_str().unwrap_or_default().to_owned();
    let body =
        json!({"smartlinkId": id, "destination": {"url": "https://example.com/bench"}}).to_string();
    let (status, updated) =
        load::once(&setup.addr, "PUT", "/api/v1/smartlink", &key, Some(body)).await?;
    if status != 200 {
        return Err(format!("smartlink update failed: {status} {updated}"));
    }
    let slug = made["configuration"]["smartlinkUrl"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((id, slug))
}

/// How the short link row's hits spread over their counter keys: each shard key's
/// count over the row's whole run (warm-up included), the hottest as writes/s.
async fn hottest_counter_key(
    store: &Store,
    link: &str,
    elapsed: Duration,
) -> Result<Value, String> {
    // Hits are written after their answers: read until the last of them is in.
    let mut counts = shard_counts(store, link).await?;
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let again = shard_counts(store, link).await?;
        if again == counts {
            break;
        }
        counts = again;
    }
    let shards = relinx_links::hits::SHARDS;
    let hottest = counts.iter().copied().max().unwrap_or(0);
    Ok(json!({
        "hits": counts.iter().sum::<u64>(),
        "keys": shards,
        "hottest_key_writes_per_s": round(hottest as f64 / elapsed.as_secs_f64().max(f64::EPSILON)),
    }))
}

/// Each counter shard's clicks of `link`, read consistently.
async fn shard_counts(store: &Store, link: &str) -> Result<Vec<u64>, String> {
    let shards = relinx_links::hits::SHARDS;
    let mut counts = Vec::new();
    for shard in 0..shards {
        let out = store
            .client()
            .query()
            .table_name(&store.tables().main)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("HITS#{link}#{shard}")),
            )
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
        let hits: u64 = out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| item.get("clicks"))
            .filter_map(|v| v.as_n().ok())
            .filter_map(|n| n.parse::<u64>().ok())
            .sum();
        counts.push(hits);
    }
    Ok(counts)
}

fn dispatch_report(args: &Args, dispatch: &DispatchFigures) -> Value {
    json!({
        "fan_out_concurrency": args.concurrency,
        "fan_out_events_per_s": round(dispatch.fan_out_events_per_s),
        "delivery_batch": DELIVERY_BATCH,
        "deliveries_per_s": round(dispatch.deliveries_per_s),
        "batch_p50_ms": round(dispatch.batch_p50_ms),
        "batch_p99_ms": round(dispatch.batch_p99_ms),
        "delivered": dispatch.delivered,
        "failed": dispatch.failed,
        "budget_deliveries_per_s": 500,
    })
}

/// An org of its own for the dispatcher rows (`--dispatcher-only`).
async fn bench_org(store: &Store) -> Result<String, String> {
    use relinx_identity::orgs::SignupPolicy;
    use relinx_identity::signup::{self, Signup};
    use relinx_model::{Email, Name, Password, Plan};
    let new_org = Signup {
        organization: Name::parse("organization", "Dispatch Bench").map_err(|e| e.to_string())?,
        email: Email::parse(
            "email",
            &format!("bench{}@relinx.local", rand::random::<u32>()),
        )
        .map_err(|e| e.to_string())?,
        password: Password::parse("password", random_secret()).map_err(|e| e.to_string())?,
        plan: Some(Plan::Pro),
    };
    let policy = SignupPolicy {
        open: true,
        plan_selection: true,
    };
    let done = signup::signup(store, policy, new_org, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(done.org.id.to_string())
}

fn relinx_auth_hasher(pepper: &str) -> Result<relinx_auth::KeyHasher, String> {
    relinx_auth::KeyHasher::new(pepper.as_bytes()).map_err(|e| e.to_string())
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

async fn wait_for(addr: &str) -> Result<(), String> {
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(format!("nothing listens on {addr}"))
}

/// A `relinx-dev` on free ports with `env` (and, with `sqs`, the queues' consumers —
/// the runner among them — and the sweep on moto's SQS, but not the event stream's
/// fan-out: the events the route rows left would be fanned out on the same two
/// cores while the import rows are measured): the process, its address and its
/// links port.
async fn spawn_dev(
    env: &[(String, String)],
    sqs: bool,
) -> Result<(tokio::process::Child, String, u16), String> {
    let port = free_port()?;
    let links_port = free_port()?;
    let mut command = tokio::process::Command::new(sibling("relinx-dev")?);
    command
        .args([
            "--port",
            &port.to_string(),
            "--links-port",
            &links_port.to_string(),
            "--no-seed",
        ])
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    if sqs {
        command.arg("--no-event-stream");
    } else {
        command.env_remove("SQS_ENDPOINT");
    }
    let dev = command
        .spawn()
        .map_err(|e| format!("cannot start relinx-dev: {e}"))?;
    let addr = format!("127.0.0.1:{port}");
    wait_for(&addr).await?;
    Ok((dev, addr, links_port))
}

/// The import rows, on a dev server of their own running the event pipeline and the
/// runner on moto's SQS (`SQS_ENDPOINT`; scripts/bench starts it).
async fn measure_imports(
    setup: &Setup,
    config: &relinx_config::Config,
    quick: bool,
    concurrency: usize,
) -> Result<Value, String> {
    if config.aws.sqs_endpoint.is_none() {
        return Err(
            "SQS_ENDPOINT is not set: the import rows need moto's SQS (scripts/bench starts it)"
                .into(),
        );
    }
    let (mut dev, addr, _) = spawn_dev(&setup.env, true).await?;
    let key = vec![(
        "authorization".to_owned(),
        format!("ApiKey {}", setup.api_key),
    )];
    let target = relinx_bench::imports::Target {
        addr: &addr,
        key: &key,
        store: &setup.store,
        org_id: &setup.org_id,
        workspace_id: &setup.workspace_id,
    };
    let (dataset_rows, contact_rows) = if quick {
        (20_000, 1_000)
    } else {
        (100_000, 10_000)
    };
    eprintln!("import: {dataset_rows} rows into a dataset …");
    let dataset = relinx_bench::imports::dataset(&target, dataset_rows).await?;
    eprintln!("import: {contact_rows} rows into contacts …");
    let contacts = relinx_bench::imports::contacts(&target, contact_rows, concurrency).await?;
    eprintln!("insights: a grouped count over the {contact_rows} contacts …");
    let grouped = relinx_bench::insights::grouped_count(&addr, &key, 20).await?;
    let _ = dev.kill().await;
    // The consumer's handler is driven here, so no poller may race it.
    let (mut quiet, quiet_addr, _) = spawn_dev(&setup.env, false).await?;
    let saves = if quick { 40 } else { 200 };
    eprintln!("insights: {saves} contact saves settled with no audiences, then with 50 …");
    let settle = relinx_bench::insights::audience_settle(
        &quiet_addr,
        &key,
        &setup.store,
        &setup.org_id,
        (50, saves),
    )
    .await?;
    let _ = quiet.kill().await;
    Ok(
        json!({"dataset": dataset, "contacts": contacts, "grouped_count": grouped, "audience_settle": settle}),
    )
}

/// Two tenants: one with limits out of the way, one whose limit is used up.
async fn prepare(addr: String, store: Store, env: Vec<(String, String)>) -> Result<Setup, String> {
    let mut tenants = Vec::new();
    for (i, rate) in [(0, 100_000_000u64), (1, 1)] {
        let body = json!({"organization": format!("Bench {i}"), "email": format!("bench{i}-{}@example.com", random_secret()), "password": random_secret(), "plan": "enterprise"});
        let (status, signed) =
            load::once(&addr, "POST", "/v1/signup", &[], Some(body.to_string())).await?;
        if status != 201 {
            return Err(format!("signup failed: {status} {signed}"));
        }
        let org = relinx_model::OrgId::parse(signed["org_id"].as_str().unwrap_or_default())
            .ok_or("signup returned no org")?;
        let ctx = relinx_model::Context::platform_acting_for(
            org,
            relinx_model::Actor {
                kind: relinx_model::ActorKind::System,
                id: "bench".into(),
            },
            relinx_model::BuiltinRole::Owner,
        );
        let limits = relinx_model::LimitsOverride {
            rate_per_minute: Some(rate),
            burst: Some(rate.max(1) * 10),
            ..Default::default()
        };
        relinx_identity::orgs::set_limits_override(&store, &ctx, limits)
            .await
            .map_err(|e| e.to_string())?;
        tenants.push(signed);
    }
    let limited_key = tenants[1]["api_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Use up the limited org's one request of this minute.
    load::once(
        &addr,
        "GET",
        "/v1/workspaces",
        &[("x-api-key".into(), limited_key.clone())],
        None,
    )
    .await?;
    // Many orgs on their plan's own limits, made through the signup operation (HTTP
    // signups are throttled per client address, and the bench is one address).
    let mut many_keys = Vec::new();
    for i in 0..MANY_ORGS {
        let signup = relinx_identity::signup::Signup {
            organization: relinx_model::Name::parse("organization", &format!("Bench org {i}"))
                .map_err(|e| e.to_string())?,
            email: relinx_model::Email::parse(
                "email",
                &format!(
                    "bench-many-{i}-{}@example.com",
                    random_secret().to_lowercase()
                ),
            )
            .map_err(|e| e.to_string())?,
            password: relinx_model::Password::parse("password", random_secret())
                .map_err(|e| e.to_string())?,
            plan: Some(relinx_model::Plan::Enterprise),
        };
        let policy = relinx_identity::orgs::SignupPolicy {
            open: true,
            plan_selection: true,
        };
        let done = relinx_identity::signup::signup(&store, policy, signup, None)
            .await
            .map_err(|e| e.to_string())?;
        many_keys.push(done.secret.expose().to_owned());
    }
    // Records: one to read, one per worker to patch (each worker follows its own ETag).
    let key_header = vec![(
        "authorization".to_owned(),
        format!(
            "ApiKey {}",
            tenants[0]["api_key"].as_str().unwrap_or_default()
        ),
    )];
    let mut chain = load::Chain {
        paths: Vec::new(),
        etags: Vec::new(),
    };
    for i in 0..=PATCH_WORKERS {
        let body =
            json!({"title": format!("bench record {i}"), "type": "inspection", "site": "alpha"});
        let (status, record) = load::once(
            &addr,
            "POST",
            "/v1/records",
            &key_header,
            Some(body.to_string()),
        )
        .await?;
        if status != 201 {
            return Err(format!("record create failed: {status} {record}"));
        }
        chain.paths.push(format!(
            "/v1/records/{}",
            record["id"].as_str().unwrap_or_default()
        ));
        chain.etags.push(format!(
            "\"{}\"",
            record["causal"].as_str().unwrap_or_default()
        ));
    }
    let record_path = chain.paths.pop().unwrap_or_default();
    chain.etags.pop();
    let wide_source = upload_source(&addr, &key_header, "wide", &wide_csv())
        .await?
        .0;
    Ok(Setup {
        org_id: tenants[0]["org_id"].as_str().unwrap_or_default().to_owned(),
        record_path,
        patch_chain: Arc::new(chain),
        wide_source,
        many_keys,
        api_key: tenants[0]["api_key"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        workspace_id: tenants[0]["workspace_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        limited_key,
        addr,
        store,
        env,
    })
}

/// Headers a 40-column source's file has: names as exports spell them (so the
/// assistant's every rule is exercised), then columns nothing matches.
fn wide_csv() -> String {
    let mut names: Vec<String> = [
        "E-mail",
        "fname",
        "Last Name",
        "Full Name",
        "DOB",
        "zip",
        "Phone Number",
        "Company",
        "Job Title",
        "Website",
        "Street Address",
        "City",
        "Country",
        "Notes",
        "Tags",
        "Twitter",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    while names.len() < 40 {
        names.push(format!("metric_{}", names.len()));
    }
    let mut text = names.join(",");
    for row in 0..50 {
        text.push('\n');
        let values: Vec<String> = (0..names.len())
            .map(|c| match c {
                0 => format!("user{row}@example.com"),
                4 => format!("{:02}/{:02}/1990", 13 + row % 15, 1 + row % 12),
                5 => format!("{:05}", row * 7),
                _ => format!("v{row}-{c}"),
            })
            .collect();
        text.push_str(&values.join(","));
    }
    text.push('\n');
    text
}

/// Makes an upload source and stages `csv` into it: its id, and the upload's answer.
async fn upload_source(
    addr: &str,
    key: &[(String, String)],
    name: &str,
    csv: &str,
) -> Result<(String, Value), String> {
    let body = json!({"name": format!("{name}-{}", random_secret()), "kind": "upload"});
    let (status, created) =
        load::once(addr, "POST", "/api/sources", key, Some(body.to_string())).await?;
    if status != 201 {
        return Err(format!("source create failed: {status} {created}"));
    }
    let id = created["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, staged) = load::once_with(
        addr,
        "POST",
        &format!("/api/sources/{id}/rows"),
        key,
        Some("text/csv"),
        csv.as_bytes().to_vec(),
    )
    .await?;
    if status != 201 {
        return Err(format!("upload failed: {status} {staged}"));
    }
    Ok((id, staged))
}

/// Rows of the upload row's file.
const UPLOAD_ROWS: usize = 10_000;

/// A CSV of `UPLOAD_ROWS` rows as a CRM export has them (about 90 bytes a row).
fn upload_csv() -> String {
    let mut text = String::from("email,first_name,last_name,zip,amount,signed_up,active\n");
    for i in 0..UPLOAD_ROWS {
        text.push_str(&format!(
            "user{i}@example.com,First{i},Last{i},{:05},{}.{:02},2024-{:02}-{:02},{}\n",
            i % 99_999,
            i % 1000,
            i % 100,
            1 + i % 12,
            1 + i % 28,
            if i % 2 == 0 { "yes" } else { "no" }
        ));
    }
    text
}

/// Uploads of a 10,000-row CSV, one after another (each into a source of its own):
/// time per upload, rows/s and MB/s, and how many chunks (one write each, each to a
/// partition key of its own) an upload makes.
async fn measure_upload(setup: &Setup, runs: usize) -> Result<Value, String> {
    let key = vec![(
        "authorization".to_owned(),
        format!("ApiKey {}", setup.api_key),
    )];
    let csv = upload_csv();
    let mut latencies = Vec::with_capacity(runs);
    for run in 0..runs {
        let started = Instant::now();
        let (_, staged) = upload_source(&setup.addr, &key, &format!("upload-{run}"), &csv).await?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        if staged["data"]["rows_staged"] != json!(UPLOAD_ROWS) {
            return Err(format!(
                "the upload staged {}",
                staged["data"]["rows_staged"]
            ));
        }
    }
    latencies.sort_by(f64::total_cmp);
    let p50 = latencies[latencies.len() / 2];
    let chunks = relinx_data::staging::encode_chunks(
        &csv.lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect::<Vec<Vec<String>>>(),
        1,
    )
    .map_err(|e| e.to_string())?
    .len();
    Ok(json!({
        "rows": UPLOAD_ROWS,
        "bytes": csv.len(),
        "runs": runs,
        "p50_ms": round(p50),
        "max_ms": round(latencies[latencies.len() - 1]),
        "rows_per_s": round(UPLOAD_ROWS as f64 / (p50 / 1000.0)),
        "mb_per_s": round(csv.len() as f64 / 1e6 / (p50 / 1000.0)),
        "chunks_per_upload": chunks,
        "writes_per_partition_key": 1,
    }))
}

/// Records patched at once in the patch row (one per worker; more than any
/// concurrency the bench is run with, workers cycle through them).
const PATCH_WORKERS: usize = 64;

/// The mapping assistant's row: a POST that only reads.
const SUGGEST_ROW: &str = "suggest (40 columns)";

/// How many orgs the many-orgs row spreads its requests over.
const MANY_ORGS: usize = 50;

fn routes(setup: &Setup) -> Vec<Route> {
    let key = vec![(
        "authorization".to_owned(),
        format!("ApiKey {}", setup.api_key),
    )];
    let none: load::BodyFn = Arc::new(|_| None);
    vec![
        Route {
            name: "validate",
            method: http::Method::GET,
            path: "/api/v1/validate".into(),
            headers: load::fixed(key.clone()),
            body: none.clone(),
            expect: 200,
            chain: None,
        },
        Route {
            name: "list workspaces",
            method: http::Method::GET,
            path: "/v1/workspaces".into(),
            headers: load::fixed(key.clone()),
            body: none.clone(),
            expect: 200,
            chain: None,
        },
        Route {
            name: "get workspace",
            method: http::Method::GET,
            path: format!("/v1/workspaces/{}", setup.workspace_id),
            headers: load::fixed(key.clone()),
            body: none.clone(),
            expect: 200,
            chain: None,
        },
        Route {
            name: "create API key",
            method: http::Method::POST,
            path: "/v1/api-keys".into(),
            headers: load::fixed(key.clone()),
            body: Arc::new(|n| Some(json!({"name": format!("bench-{n}")}).to_string())),
            expect: 201,
            chain: None,
        },
        Route {
            name: "create workspace",
            method: http::Method::POST,
            path: "/v1/workspaces".into(),
            headers: load::fixed(key.clone()),
            body: Arc::new(|n| Some(json!({"name": format!("ws-{n}")}).to_string())),
            expect: 201,
            chain: None,
        },
        Route {
            name: "create record",
            method: http::Method::POST,
            path: "/v1/records".into(),
            headers: load::fixed(key.clone()),
            body: Arc::new(|n| {
                Some(
                    json!({"title": format!("bench {n}"), "type": "inspection", "site": "alpha"})
                        .to_string(),
                )
            }),
            expect: 201,
            chain: None,
        },
        Route {
            name: "get record",
            method: http::Method::GET,
            path: setup.record_path.clone(),
            headers: load::fixed(key.clone()),
            body: none.clone(),
            expect: 200,
            chain: None,
        },
        Route {
            name: "patch record",
            method: http::Method::PATCH,
            path: String::new(),
            headers: load::fixed(key.clone()),
            body: Arc::new(|n| Some(json!({"data": {"reading": n}}).to_string())),
            expect: 200,
            chain: Some(setup.patch_chain.clone()),
        },
        Route {
            name: "records feed",
            method: http::Method::GET,
            path: "/v1/records/changes?limit=50".into(),
            headers: load::fixed(key.clone()),
            body: none.clone(),
            expect: 200,
            chain: None,
        },
        Route {
            name: "save contact",
            method: http::Method::POST,
            path: "/api/v3/contact.save.json".into(),
            headers: load::fixed(key.clone()),
            body: Arc::new(|n| {
                Some(
                    json!({"full_name": format!("Bench Contact {n}"), "emails": format!("c{n}@example.com")})
                        .to_string(),
                )
            }),
            expect: 200,
            chain: None,
        },
        Route {
            name: "list contacts",
            method: http::Method::GET,
            path: "/api/v3/contact.list.json?page=1&page_size=50".into(),
            headers: load::fixed(key.clone()),
            body: none.clone(),
            expect: 200,
            chain: None,
        },
        Route {
            name: "idempotent replay",
            method: http::Method::POST,
            path: "/v1/workspaces".into(),
            headers: load::fixed(
                [
                    key.clone(),
                    vec![("idempotency-key".to_owned(), "bench-replay".to_owned())],
                ]
                .concat(),
            ),
            body: Arc::new(|_| Some(json!({"name": "replayed"}).to_string())),
            expect: 201,
            chain: None,
        },
        Route {
            name: SUGGEST_ROW,
            method: http::Method::POST,
            path: "/api/mappings/suggest".into(),
            headers: load::fixed(key.clone()),
            body: {
                let body =
                    json!({"source_id": setup.wide_source, "schema_id": "contact"}).to_string();
                Arc::new(move |_| Some(body.clone()))
            },
            expect: 200,
            chain: None,
        },
        Route {
            name: "read, 50 orgs",
            method: http::Method::GET,
            path: "/v1/workspaces".into(),
            headers: {
                let keys = setup.many_keys.clone();
                Arc::new(move |n| {
                    let key = &keys[(n as usize) % keys.len().max(1)];
                    vec![("authorization".to_owned(), format!("ApiKey {key}"))]
                })
            },
            body: none.clone(),
            expect: 200,
            chain: None,
        },
        Route {
            name: "rate limited (429)",
            method: http::Method::GET,
            path: "/v1/workspaces".into(),
            headers: load::fixed(vec![("x-api-key".to_owned(), setup.limited_key.clone())]),
            body: none,
            expect: 429,
            chain: None,
        },
    ]
}

struct Summary {
    n: usize,
    errors: usize,
    rps: f64,
    p50: f64,
    p99: f64,
    ddb_calls: f64,
    ddb_p50: f64,
    overhead_p50: f64,
    /// Share of requests whose rate-limit verdict took a DynamoDB call (a lease).
    lease_share: f64,
}

fn summarize(samples: &[Sample], measured: Duration) -> Summary {
    let latencies = sorted(samples.iter().map(|s| s.latency.as_secs_f64() * 1000.0));
    let ddb = sorted(samples.iter().map(|s| s.ddb_ms));
    let overhead = sorted(samples.iter().map(|s| (s.app_ms - s.ddb_ms).max(0.0)));
    let n = samples.len().max(1);
    Summary {
        n: samples.len(),
        errors: samples.iter().filter(|s| !s.ok).count(),
        rps: samples.len() as f64 / measured.as_secs_f64(),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        ddb_calls: samples.iter().map(|s| f64::from(s.ddb_calls)).sum::<f64>() / n as f64,
        ddb_p50: percentile(&ddb, 50.0),
        overhead_p50: percentile(&overhead, 50.0),
        lease_share: samples.iter().filter(|s| s.leases > 0).count() as f64 / n as f64,
    }
}

fn summarize_ms(latencies: &[f64], measured: Duration) -> Summary {
    let sorted = sorted(latencies.iter().copied());
    Summary {
        n: latencies.len(),
        errors: 0,
        rps: latencies.len() as f64 / measured.as_secs_f64().max(f64::EPSILON),
        p50: percentile(&sorted, 50.0),
        p99: percentile(&sorted, 99.0),
        ddb_calls: 1.0,
        ddb_p50: percentile(&sorted, 50.0),
        overhead_p50: 0.0,
        lease_share: 0.0,
    }
}

type Op = Arc<
    dyn Fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

fn get_item_op(store: &Store) -> Op {
    let store = store.clone();
    Arc::new(move |_| {
        let store = store.clone();
        Box::pin(async move {
            store
                .client()
                .get_item()
                .table_name(&store.tables().main)
                .key(
                    "pk",
                    aws_sdk_dynamodb::types::AttributeValue::S(REF_PK.into()),
                )
                .key(
                    "sk",
                    aws_sdk_dynamodb::types::AttributeValue::S(REF_SK.into()),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
        })
    })
}

/// The item the GetItem and Query references read.
const REF_PK: &str = "BENCH#ref";
const REF_SK: &str = "REF";

/// A Query of one partition holding one item, strongly consistent, as a list makes.
fn query_op(store: &Store) -> Op {
    let store = store.clone();
    Arc::new(move |_| {
        let store = store.clone();
        Box::pin(async move {
            use aws_sdk_dynamodb::types::AttributeValue;
            store
                .client()
                .query()
                .table_name(&store.tables().main)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", AttributeValue::S(REF_PK.into()))
                .expression_attribute_values(":prefix", AttributeValue::S(REF_SK.into()))
                .consistent_read(true)
                .limit(50)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
        })
    })
}

/// A create's transaction without the platform: an entity and its name guard in one
/// org's partition and an event in the event table, each conditional.
fn create_shape_op(store: &Store) -> Op {
    use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
    let store = store.clone();
    Arc::new(move |n| {
        let store = store.clone();
        Box::pin(async move {
            let put = |table: &str, pk: &str, sk: String| {
                Put::builder()
                    .table_name(table)
                    .item("pk", AttributeValue::S(pk.to_owned()))
                    .item("sk", AttributeValue::S(sk))
                    .item("data", AttributeValue::S("reference write".into()))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map(|p| TransactWriteItem::builder().put(p).build())
                    .map_err(|e| e.to_string())
            };
            let tables = store.tables();
            store
                .client()
                .transact_write_items()
                .transact_items(put(&tables.main, "BENCHORG#ref", format!("WS#{n}"))?)
                .transact_items(put(&tables.main, "BENCHORG#ref", format!("WSNAME#{n}"))?)
                .transact_items(put(&tables.events, "BENCHORG#ref", format!("EVT#{n}"))?)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
        })
    })
}

fn transact_op(store: &Store) -> Op {
    use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
    let store = store.clone();
    Arc::new(move |n| {
        let store = store.clone();
        Box::pin(async move {
            let put = Put::builder()
                .table_name(&store.tables().main)
                .item("pk", AttributeValue::S(format!("BENCH#{n}")))
                .item("sk", AttributeValue::S(REF_SK.into()))
                .item("data", AttributeValue::S("reference write".into()))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| e.to_string())?;
            store
                .client()
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put).build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
        })
    })
}

/// Latencies (ms) of `op` run by `concurrency` workers, the warm-up discarded.
async fn reference(
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    op: Op,
) -> Result<Vec<f64>, String> {
    let counter = Arc::new(AtomicU64::new(1_000_000_000));
    let begin = Instant::now();
    let (from, end) = (begin + warmup, begin + warmup + duration);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let op = op.clone();
        let counter = counter.clone();
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while Instant::now() < end {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let started = Instant::now();
                op(n).await?;
                if started >= from {
                    out.push(started.elapsed().as_secs_f64() * 1000.0);
                }
            }
            Ok::<_, String>(out)
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

fn api_event(method: &str, path: &str, key: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"authorization": format!("ApiKey {key}"), "host": "bench.local"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.local", "domainPrefix": "bench",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "relinx-bench"},
            "requestId": "bench", "routeKey": format!("{method} {path}"), "stage": "$default",
            "time": "23/Nov/2026:21:00:00 +0000", "timeEpoch": 1795467600000u64
        },
        "isBase64Encoded": false
    })
}

struct FunctionFigures {
    name: &'static str,
    binary_bytes: u64,
    init_ms: f64,
    cold_start_ms: f64,
    rss_kib: u64,
    /// A function with an extension: how long a warm invocation stays open after
    /// its answer (p50), the work it deferred.
    held_after_answer_ms: Option<f64>,
}

async fn spawn_function(
    name: &str,
    runtime_api: &str,
    env: &[(String, String)],
) -> Result<tokio::process::Child, String> {
    tokio::process::Command::new(sibling(name)?)
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))
}

fn check_answer(name: &str, answer: &Value) -> Result<(), String> {
    // HTTP functions answer 200 (a short link 302); the dispatcher answers its
    // batch's failures: none.
    let handled = matches!(answer["statusCode"].as_u64(), Some(200 | 302))
        || answer["batchItemFailures"]
            .as_array()
            .is_some_and(Vec::is_empty);
    if handled {
        Ok(())
    } else {
        Err(format!("{name} answered {answer}"))
    }
}

/// A one-message SQS batch naming a job that does not exist: the dispatcher's
/// delivery handler reads it, finds nothing to send, and answers no failure (no
/// queue is needed, so the function runs alone like the HTTP ones).
fn queue_event(org_id: &str) -> Value {
    json!({"Records": [{
        "messageId": "bench-message",
        "receiptHandle": "bench",
        "body": json!({"org": org_id, "job": "job_01JD8Z2X4Q7V3N5K9M2B6C8D0E"}).to_string(),
        "attributes": {},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench",
        "awsRegion": "us-east-1",
    }]})
}

async fn measure_function(
    name: &'static str,
    event: &Value,
    env: &[(String, String)],
    runs: usize,
) -> Result<FunctionFigures, String> {
    let binary_bytes = std::fs::metadata(sibling(name)?)
        .map_err(|e| e.to_string())?
        .len();
    let mut cold = Vec::new();
    let mut init = Vec::new();
    for i in 0..runs {
        let mut api = runtime_api::RuntimeApi::start().await?;
        let started = Instant::now();
        let mut child = spawn_function(name, &api.addr, env).await?;
        let answer = api.invoke(&format!("cold-{i}"), event).await?;
        cold.push(started.elapsed().as_secs_f64() * 1000.0);
        check_answer(name, &answer)?;
        if let Some(at) = api.init_done_at() {
            init.push(at.duration_since(started).as_secs_f64() * 1000.0);
        }
        let _ = child.kill().await;
    }
    let mut api = runtime_api::RuntimeApi::start().await?;
    let mut child = spawn_function(name, &api.addr, env).await?;
    api.holds.clear();
    for i in 0..1000 {
        let answer = api.invoke(&format!("warm-{i}"), event).await?;
        check_answer(name, &answer)?;
    }
    let pid = child.id().ok_or("the function exited")?;
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let _ = child.kill().await;
    Ok(FunctionFigures {
        name,
        binary_bytes,
        init_ms: percentile(&sorted(init.into_iter()), 50.0),
        cold_start_ms: percentile(&sorted(cold.into_iter()), 50.0),
        rss_kib,
        held_after_answer_ms: (!api.holds.is_empty()).then(|| {
            percentile(
                &sorted(api.holds.iter().map(|d| d.as_secs_f64() * 1000.0)),
                50.0,
            )
        }),
    })
}

fn round(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

/// The reference of a route's own shape, where it has one besides GetItem.
fn own_shape(route: &str) -> Option<&'static str> {
    match route {
        "list workspaces" | "read, 50 orgs" | "rate limited (429)" => Some("Query"),
        "create API key" | "create workspace" | "create record" => Some("create transaction"),
        "records feed" => Some("Query"),
        _ => None,
    }
}

fn report(
    args: &Args,
    rows: &[(&str, bool, Summary)],
    get_ref: &Summary,
    tx_ref: &Summary,
    shapes: &[(&str, &Summary)],
    functions: &[FunctionFigures],
) -> Value {
    let routes: Vec<Value> = rows
        .iter()
        .map(|(name, is_read, s)| {
            let (reference, reference_p99) = if *is_read {
                (get_ref.p50, get_ref.p99)
            } else {
                (tx_ref.p50, tx_ref.p99)
            };
            json!({
                "route": name,
                "requests": s.n,
                "unexpected_status": s.errors,
                "rps": round(s.rps),
                "p50_ms": round(s.p50),
                "p99_ms": round(s.p99),
                "ddb_calls": round(s.ddb_calls),
                "ddb_p50_ms": round(s.ddb_p50),
                "overhead_p50_ms": round(s.overhead_p50),
                "reference": if *is_read { "GetItem" } else { "TransactWriteItems" },
                "p50_over_reference": round(s.p50 / reference),
                "p99_over_reference": round(s.p99 / reference_p99),
                "own_reference": own_shape(name),
                "p50_over_own_reference": own_shape(name)
                    .and_then(|own| shapes.iter().find(|(n, _)| *n == own))
                    .map(|(_, r)| round(s.p50 / r.p50))
                    .unwrap_or(Value::Null),
                "rate_limit_call_share": round(s.lease_share),
            })
        })
        .collect();
    let reference = |name: &str, s: &Summary| json!({"call": name, "requests": s.n, "rps": round(s.rps), "p50_ms": round(s.p50), "p99_ms": round(s.p99)});
    json!({
        "generated_at": relinx_model::Timestamp::now().to_string(),
        "mode": if args.quick { "quick" } else { "full" },
        "concurrency": args.concurrency,
        "routes": routes,
        "reference": [
            reference("GetItem", get_ref),
            reference("TransactWriteItems", tx_ref),
            reference(shapes[0].0, shapes[0].1),
            reference(shapes[1].0, shapes[1].1),
        ],
        "functions": functions.iter().map(|f| json!({
            "function": f.name,
            "binary_bytes": f.binary_bytes,
            "init_ms": round(f.init_ms),
            "cold_start_ms": round(f.cold_start_ms),
            "rss_after_1000_kib": f.rss_kib,
            "held_after_answer_p50_ms": f.held_after_answer_ms.map(round),
        })).collect::<Vec<_>>(),
        "budgets": {
            "overhead_p50_ms": 0.5, "init_ms": 50, "binary_bytes": 10_000_000, "memory_kib": 131_072
        }
    })
}

/// The import rows' lines.
fn print_imports(imports: &Value) {
    let f = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "-".into())
    };
    let d = &imports["dataset"];
    if d.is_object() {
        println!();
        println!(
            "import into a dataset     {} rows in {} ms: {} rows/s; bare BatchWriteItem of the same items {} rows/s, ratio {}; hottest of {} keys {} writes/s",
            d["rows"],
            f(&d["run_ms"]),
            f(&d["rows_per_s"]),
            f(&d["bare_rows_per_s"]),
            f(&d["ratio_to_bare"]),
            d["shards"],
            f(&d["hottest_key_writes_per_s"]),
        );
    }
    let c = &imports["contacts"];
    if c.is_object() {
        println!(
            "import into contacts      {} rows in {} ms: {} rows/s; bare transactions of a save's shape {} rows/s, ratio {}; hottest key {} writes/s (paced at {})",
            c["rows"],
            f(&c["run_ms"]),
            f(&c["rows_per_s"]),
            f(&c["bare_rows_per_s"]),
            f(&c["ratio_to_bare"]),
            f(&c["hottest_key_writes_per_s"]),
            c["pace_writes_per_s"],
        );
    }
}

fn print_insights(imports: &Value) {
    let f = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "-".into())
    };
    let g = &imports["grouped_count"];
    if g.is_object() {
        println!(
            "grouped count             {} contacts read: p50 {} ms, p99 {} ms; {} items read/s",
            g["items_read"],
            f(&g["p50_ms"]),
            f(&g["p99_ms"]),
            f(&g["items_read_per_second"]),
        );
    }
    let a = &imports["audience_settle"];
    if a.is_object() {
        for (label, figures) in [("no audiences", &a["none"]), ("50 audiences", &a["with"])] {
            println!(
                "contact save, {label:<12} the consumer's settle p50 {} ms, p99 {} ms, {} DynamoDB calls an event, {} memberships changed",
                f(&figures["p50_ms"]),
                f(&figures["p99_ms"]),
                f(&figures["calls_per_event"]),
                figures["memberships_changed"],
            );
        }
    }
}

fn print_table(report: &Value) {
    let f = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "-".into())
    };
    println!();
    println!(
        "relinx bench ({} run, concurrency {})",
        report["mode"].as_str().unwrap_or(""),
        report["concurrency"]
    );
    println!(
        "{:<20} {:>9} {:>8} {:>8} {:>6} {:>6} {:>9} {:>10} {:>11} {:>8} {:>8} {:>6}",
        "route",
        "req/s",
        "p50 ms",
        "p99 ms",
        "ddb",
        "rl",
        "ddb p50",
        "overhead",
        "p50/ref",
        "p99/ref",
        "p50/own",
        "bad"
    );
    for r in report["routes"].as_array().into_iter().flatten() {
        println!(
            "{:<20} {:>9} {:>8} {:>8} {:>6} {:>6} {:>9} {:>10} {:>7} {:<4} {:>7} {:>8} {:>6}",
            r["route"].as_str().unwrap_or(""),
            f(&r["rps"]),
            f(&r["p50_ms"]),
            f(&r["p99_ms"]),
            f(&r["ddb_calls"]),
            f(&r["rate_limit_call_share"]),
            f(&r["ddb_p50_ms"]),
            f(&r["overhead_p50_ms"]),
            f(&r["p50_over_reference"]),
            if r["reference"] == "GetItem" {
                "get"
            } else {
                "tx"
            },
            f(&r["p99_over_reference"]),
            f(&r["p50_over_own_reference"]),
            r["unexpected_status"],
        );
    }
    println!();
    println!(
        "{:<20} {:>9} {:>8} {:>8}",
        "reference (SDK)", "req/s", "p50 ms", "p99 ms"
    );
    for r in report["reference"].as_array().into_iter().flatten() {
        println!(
            "{:<20} {:>9} {:>8} {:>8}",
            r["call"].as_str().unwrap_or(""),
            f(&r["rps"]),
            f(&r["p50_ms"]),
            f(&r["p99_ms"])
        );
    }
    println!();
    println!(
        "{:<20} {:>11} {:>9} {:>12} {:>14} {:>16}",
        "function", "binary MB", "init ms", "cold ms", "RSS@1000 MiB", "held after ms"
    );
    for r in report["functions"].as_array().into_iter().flatten() {
        let held = &r["held_after_answer_p50_ms"];
        println!(
            "{:<20} {:>11.2} {:>9} {:>12} {:>14.1} {:>16}",
            r["function"].as_str().unwrap_or(""),
            r["binary_bytes"].as_f64().unwrap_or(0.0) / 1e6,
            f(&r["init_ms"]),
            f(&r["cold_start_ms"]),
            r["rss_after_1000_kib"].as_f64().unwrap_or(0.0) / 1024.0,
            if held.is_null() {
                "-".to_owned()
            } else {
                f(held)
            },
        );
    }
    let u = &report["upload"];
    if u.is_object() {
        println!();
        println!(
            "upload of {} rows ({} bytes of CSV): p50 {} ms, {} rows/s, {} MB/s; {} chunks, one write per partition key",
            u["rows"],
            u["bytes"],
            f(&u["p50_ms"]),
            f(&u["rows_per_s"]),
            f(&u["mb_per_s"]),
            u["chunks_per_upload"],
        );
    }
    print_imports(&report["imports"]);
    print_insights(&report["imports"]);
    let h = &report["short_link_counters"];
    if h.is_object() {
        println!();
        println!(
            "short link counters      {} hits over {} keys; hottest key {} writes/s (DynamoDB takes 1,000 per key)",
            h["hits"],
            h["keys"],
            f(&h["hottest_key_writes_per_s"]),
        );
    }
    let d = &report["dispatcher"];
    if d.is_object() {
        println!();
        print_dispatch(d);
    }
    println!();
    println!(
        "budgets: handler overhead p50 < 0.5 ms, init < 50 ms, binary < 10 MB, memory < 128 MiB, dispatcher ≥ 500 deliveries/s"
    );
}

/// Messages in one SQS batch, as template.yaml's event source mapping hands them to
/// one dispatcher instance (which works on one batch at a time).
const DELIVERY_BATCH: usize = 10;

/// The dispatcher's handlers driven in-process (ARCHITECTURE.md: not through a queue
/// emulator, which would measure the emulator).
struct DispatchFigures {
    fan_out_events_per_s: f64,
    deliveries_per_s: f64,
    batch_p50_ms: f64,
    batch_p99_ms: f64,
    delivered: usize,
    failed: usize,
}

/// A receiver on loopback that answers every POST with 200, and counts them.
async fn receiver() -> Result<(String, Arc<AtomicU64>), String> {
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    use hyper::service::service_fn;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/hook",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                // Reads the whole body, as a receiver verifying a signature does.
                let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| {
                    let counter = counter.clone();
                    async move {
                        use http_body_util::BodyExt;
                        let _ = req.into_body().collect().await;
                        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(hyper::body::Bytes::from_static(b"ok")),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((url, received))
}

async fn measure_dispatch(
    store: &Store,
    org_id: &str,
    concurrency: usize,
    duration: Duration,
) -> Result<DispatchFigures, String> {
    use relinx_model::{
        Actor, ActorKind, BuiltinRole, Context, Event, EventId, EventName, OrgId, ResourceRef,
        Timestamp,
    };
    use relinx_webhooks::{TargetPolicy, delivery::Deliverer, endpoints, jobs};
    let local = TargetPolicy {
        allow_private: true,
    };
    let org = OrgId::parse(org_id).ok_or("the bench org has no valid id")?;
    let system = Actor {
        kind: ActorKind::System,
        id: "bench".into(),
    };
    let ctx = Context::platform_acting_for(org.clone(), system.clone(), BuiltinRole::Owner);
    let (url, received) = receiver().await?;
    endpoints::create(
        store,
        &ctx,
        local,
        relinx_webhooks::NewWebhook::new(
            url,
            vec!["workspace.created".into()],
            Some("bench receiver".into()),
            None,
        )
        .map_err(|e| e.to_string())?,
    )
    .await
    .map_err(|e| e.to_string())?;

    // Fan-out: events (as the stream hands them over) into jobs.
    let made = Arc::new(std::sync::Mutex::new(Vec::new()));
    let end = Instant::now() + duration;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (store, org, system, made) = (store.clone(), org.clone(), system.clone(), made.clone());
        workers.push(tokio::spawn(async move {
            while Instant::now() < end {
                let event = Event {
                    id: EventId::generate(),
                    event: EventName::WorkspaceCreated,
                    org: org.clone(),
                    workspace: None,
                    actor: system.clone(),
                    resource: ResourceRef::new("workspace", "bench"),
                    timestamp: Timestamp::now(),
                    request_id: None,
                    data: json!({"name": "bench"}),
                };
                let ids = jobs::fan_out(&store, &event)
                    .await
                    .map_err(|e| e.to_string())?;
                made.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(ids);
            }
            Ok::<_, String>(())
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    let queued: Vec<relinx_model::JobId> = std::mem::take(
        &mut *made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let fan_out_events_per_s = queued.len() as f64 / duration.as_secs_f64();

    // Delivery: the dispatcher's queue handler, fed SQS-shaped batches one after
    // another, as one instance is; with production caches (a store of its own).
    let store = Store::new(
        store.client().clone(),
        store.tables().clone(),
        relinx_auth_hasher(&random_secret())?,
        CacheSettings::default(),
    );
    // Nothing is sent to the queue when every delivery succeeds (a retry's send to
    // this queue fails, and its job counts as not delivered: the receiver's count
    // is what was delivered).
    let nowhere = relinx_webhooks::DeliveryQueue::new(
        relinx_webhooks::DeliveryQueue::client_for(&relinx_config::Aws {
            sqs_endpoint: Some("http://127.0.0.1:9".into()),
            ..relinx_config::Aws::default()
        })
        .await,
        "http://127.0.0.1:9/000000000000/nowhere",
    );
    let dispatcher = dispatcher_fn::Dispatcher::new(relinx_webhooks::Pipeline::new(
        store.clone(),
        Deliverer::new(local, jobs::parse_schedule("5s")?)?,
        nowhere,
    ));
    let started = Instant::now();
    let end = started + duration;
    let mut batch_ms = Vec::new();
    let mut attempted = 0;
    let mut pending = queued.into_iter();
    while Instant::now() < end {
        let mut batch = aws_lambda_events::sqs::SqsEvent::default();
        for job in pending.by_ref().take(DELIVERY_BATCH) {
            let mut message = aws_lambda_events::sqs::SqsMessage::default();
            message.message_id = Some(job.to_string());
            message.body = Some(
                serde_json::to_string(&relinx_webhooks::JobMessage {
                    org: org.clone(),
                    job,
                })
                .map_err(|e| e.to_string())?,
            );
            message.event_source = Some("aws:sqs".into());
            batch.records.push(message);
        }
        let size = batch.records.len();
        if size == 0 {
            break;
        }
        let t = Instant::now();
        dispatcher.on_queue(batch).await;
        batch_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        attempted += size;
    }
    let delivered =
        usize::try_from(received.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(0);
    let failed = attempted.saturating_sub(delivered);
    let elapsed = started.elapsed().min(duration);
    let sorted = sorted(batch_ms.iter().copied());
    Ok(DispatchFigures {
        fan_out_events_per_s,
        deliveries_per_s: delivered as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
        batch_p50_ms: percentile(&sorted, 50.0),
        batch_p99_ms: percentile(&sorted, 99.0),
        delivered,
        failed,
    })
}
