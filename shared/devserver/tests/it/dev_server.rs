//! A real `relinx-dev` process for black-box tests over HTTP.

use std::process::{Child, Command, Stdio};

/// A dev server process on a free port, sharing the test tables and secrets.
pub struct DevServer {
    child: Child,
    pub addr: String,
    /// The links host (the short links).
    pub links_addr: String,
}

impl DevServer {
    /// Kills the process at once (SIGKILL): no shutdown, whatever it was doing.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A dev server on tables `{prefix}-*`. With `pipeline`, it also runs the event
/// pipeline on moto's SQS (scripts/test sets `SQS_ENDPOINT`), with `env` added;
/// without, it delivers nothing, so it never races a test that drives delivery
/// itself on the same tables.
pub async fn spawn(prefix: &str, pipeline: bool, env: &[(&str, &str)]) -> DevServer {
    let free_port = || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        listener.local_addr().expect("addr").port()
    };
    let (port, links_port) = (free_port(), free_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_relinx-dev"));
    if pipeline {
        assert!(
            std::env::var_os("SQS_ENDPOINT").is_some(),
            "SQS_ENDPOINT is not set: run the tests with scripts/test, which starts moto's SQS"
        );
    } else {
        command.env_remove("SQS_ENDPOINT");
    }
    let child = command
        .args([
            "--port",
            &port.to_string(),
            "--links-port",
            &links_port.to_string(),
            "--no-seed",
        ])
        .env("RELINX_TABLE_PREFIX", prefix)
        .env(
            "RELINX_KEY_PEPPER",
            String::from_utf8_lossy(relinx_testkit::TEST_PEPPER).into_owned(),
        )
        .env(
            "RELINX_JWT_SECRET",
            String::from_utf8_lossy(relinx_testkit::TEST_JWT_SECRET).into_owned(),
        )
        .env("RUST_LOG", "warn")
        // The caller's have the last word.
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("relinx-dev starts");
    // Owned by the guard from here on, so the process is killed even if we panic.
    let server = DevServer {
        child,
        addr: format!("127.0.0.1:{port}"),
        links_addr: format!("127.0.0.1:{links_port}"),
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&server.addr).await.is_ok() {
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("relinx-dev did not start on {}", server.addr);
}

/// Signs an org up on a running dev server (as a client does, over HTTP): its
/// owner's API key.
pub async fn sign_up(http: &reqwest::Client, addr: &str, organization: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let signup: serde_json::Value = http
        .post(format!("http://{addr}/v1/signup"))
        .json(&serde_json::json!({
            "organization": organization,
            "email": format!("signup-{nanos}@example.com"),
            "password": "a long enough password",
            "plan": "enterprise",
        }))
        .send()
        .await
        .expect("signup answered")
        .json()
        .await
        .expect("signup JSON");
    signup["api_key"].as_str().expect("signed up").to_owned()
}

/// A dev server on the test tables (the ones `relinx_testkit::tables` made).
pub async fn spawn_on_test_tables() -> DevServer {
    let tables = relinx_testkit::tables().await;
    spawn(tables.main.trim_end_matches("-main"), false, &[]).await
}
