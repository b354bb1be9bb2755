//! `relinx-dev`: serves every function on 127.0.0.1 against DynamoDB Local.
//! `scripts/dev` installs and starts DynamoDB Local, then runs this.

use clap::Parser;
use relinx_ddb::Tables;
use std::path::PathBuf;

/// Serves every relinx function on 127.0.0.1 against DynamoDB Local
/// (`DYNAMODB_ENDPOINT`), with the production paths.
#[derive(Debug, Parser)]
#[command(name = "relinx-dev", version)]
struct Args {
    /// Port to listen on (127.0.0.1 only).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Port of the links host, the public short links (default: the API port + 1).
    #[arg(long)]
    links_port: Option<u16>,
    /// Do not sign up a demo org.
    #[arg(long)]
    no_seed: bool,
    /// Create the tables (and, with SQS_ENDPOINT, the queues) and exit (used by the
    /// event replay).
    #[arg(long)]
    init_only: bool,
    /// Where the demo org's credentials are written.
    #[arg(long, default_value = ".relinx/dev.json")]
    state_file: PathBuf,
    /// Lift the demo org's rate limit to this many requests a minute (and a second):
    /// for fuzzers and load tests that should not spend their run on 429s.
    #[arg(long)]
    demo_rate_limit: Option<u64>,
    /// Run the queues' consumers and the sweep but not the event stream's fan-out
    /// (the bench measures pipeline runs without fanning out the events its other
    /// rows left in the table on the same machine).
    #[arg(long)]
    no_event_stream: bool,
    /// Prefix of the table names.
    #[arg(long, env = "RELINX_TABLE_PREFIX", default_value = "relinx-dev")]
    table_prefix: String,
}

#[tokio::main]
async fn main() {
    if let Err(message) = run().await {
        eprintln!("relinx-dev: {message}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args = Args::parse();
    let config = relinx_config::Config::from_env().map_err(|e| e.to_string())?;
    relinx_http::telemetry::init(&config);
    if config.aws.dynamodb_endpoint.is_none() {
        return Err(
            "DYNAMODB_ENDPOINT is not set; start it with scripts/dev, which runs DynamoDB Local"
                .into(),
        );
    }
    let url = format!("http://127.0.0.1:{}", args.port);
    let links_port = args.links_port.unwrap_or(args.port.wrapping_add(1));
    let links_url = format!("http://127.0.0.1:{links_port}");
    let tables = Tables::with_prefix(&args.table_prefix);
    let platform = relinx_devserver::platform(config, tables.clone(), &url, &links_url).await?;
    if args.init_only {
        // The queues too; their URL is what a dispatcher outside needs.
        if let Some(queues) =
            relinx_devserver::pipeline::queues(platform.store.config(), &args.table_prefix).await?
        {
            println!("delivery queue: {}", queues.delivery.url());
            println!("run queue: {}", queues.runs.url());
        }
        return Ok(());
    }
    // The event pipeline: the stream, the delivery queue and the sweep, driving the
    // dispatcher's handlers as Lambda's event sources would.
    let pipeline = relinx_devserver::pipeline::start(
        &platform.store,
        &tables,
        &args.table_prefix,
        relinx_devserver::target_policy(&platform),
        !args.no_event_stream,
    )
    .await?;
    if let Err(why) = pipeline {
        eprintln!("relinx-dev: {why}");
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let links_listener = tokio::net::TcpListener::bind(("127.0.0.1", links_port))
        .await
        .map_err(|e| {
            format!("cannot listen on 127.0.0.1:{links_port} (the links host; --links-port): {e}")
        })?;
    if !args.no_seed {
        let demo = relinx_devserver::seed_demo(&platform).await?;
        if let Some(limit) = args.demo_rate_limit {
            relinx_devserver::set_demo_rate_limit(&platform, &demo, limit).await?;
        }
        let state = serde_json::json!({
            "api_url": url,
            "links_url": links_url,
            "api_key": demo.api_key,
            "org_id": demo.org_id,
            "workspace_id": demo.workspace_id,
            "email": demo.email,
            "password": demo.password,
        });
        if let Some(dir) = args.state_file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?;
        std::fs::write(&args.state_file, text)
            .map_err(|e| format!("cannot write {}: {e}", args.state_file.display()))?;
        println!("relinx is running at {url}");
        println!("demo API key: {}", demo.api_key);
        println!(
            "demo login (POST /api/auth/login, Datalinx): {} / {}",
            demo.email, demo.password
        );
        println!(
            "try: curl -H \"Authorization: ApiKey {}\" {url}/v1/workspaces",
            demo.api_key
        );
        println!("credentials written to {}", args.state_file.display());
    } else {
        println!("relinx is running at {url}");
    }
    println!("short links are served at {links_url}");
    let links = axum::serve(
        links_listener,
        relinx_devserver::links_app(platform.clone())
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    );
    tokio::spawn(async move {
        if let Err(err) = links.await {
            eprintln!("relinx-dev: the links host failed: {err}");
        }
    });
    axum::serve(
        listener,
        relinx_devserver::app(platform)
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| format!("server failed: {e}"))
}
