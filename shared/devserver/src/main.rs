//! `relinx-dev`: serves every function on 127.0.0.1 against DynamoDB Local.
//! `scripts/dev` installs and starts DynamoDB Local, then runs this.
//!
//! Usage: relinx-dev [--port N] [--no-seed] [--init-only] [--state-file PATH]

use relinx_ddb::Tables;
use std::path::PathBuf;

struct Args {
    port: u16,
    seed: bool,
    /// Create the tables and exit (used by the event replay).
    init_only: bool,
    state_file: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 3000,
        seed: true,
        init_only: false,
        state_file: PathBuf::from(".relinx/dev.json"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                let raw = it.next().ok_or("--port needs a number")?;
                args.port = raw
                    .parse()
                    .map_err(|_| format!("--port: {raw:?} is not a port number"))?;
            }
            "--no-seed" => args.seed = false,
            "--init-only" => args.init_only = true,
            "--state-file" => {
                args.state_file = it.next().ok_or("--state-file needs a path")?.into()
            }
            "-h" | "--help" => {
                println!(
                    "usage: relinx-dev [--port N] [--no-seed] [--init-only] [--state-file PATH]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    if let Err(message) = run().await {
        eprintln!("relinx-dev: {message}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    relinx_http::telemetry::init();
    if std::env::var_os("DYNAMODB_ENDPOINT").is_none() {
        return Err(
            "DYNAMODB_ENDPOINT is not set; start it with scripts/dev, which runs DynamoDB Local"
                .into(),
        );
    }
    let prefix = std::env::var("RELINX_TABLE_PREFIX").unwrap_or_else(|_| "relinx-dev".to_owned());
    let platform = relinx_devserver::platform(Tables::with_prefix(&prefix)).await?;
    if args.init_only {
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let url = format!("http://127.0.0.1:{}", args.port);
    if args.seed {
        let demo = relinx_devserver::seed_demo(&platform).await?;
        let state = serde_json::json!({
            "api_url": url,
            "links_url": url,
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
            "try: curl -H \"Authorization: ApiKey {}\" {url}/v1/workspaces",
            demo.api_key
        );
        println!("credentials written to {}", args.state_file.display());
    } else {
        println!("relinx is running at {url}");
    }
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
