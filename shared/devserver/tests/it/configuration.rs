//! One `Config`, read at start: a bad value stops the dev server naming the variable,
//! and secrets kept in Secrets Manager (moto here) are read once and used.

use http::StatusCode;
use relinx_config::Config;
use relinx_http::Platform;
use relinx_testkit::TestApp;
use std::process::Stdio;
use std::sync::Arc;

fn secrets_manager_endpoint() -> String {
    std::env::var("SECRETS_MANAGER_ENDPOINT").unwrap_or_else(|_| {
        panic!("SECRETS_MANAGER_ENDPOINT is not set: run the tests with scripts/test, which starts moto")
    })
}

/// The configuration a deployed function has: table names, and the secrets by their
/// ARNs (plus the emulators' endpoints).
async fn deployed(extra: &[(&str, &str)]) -> Result<Config, relinx_config::ConfigError> {
    let tables = relinx_testkit::tables().await;
    let mut vars = vec![
        ("MAIN_TABLE".to_owned(), tables.main),
        ("EVENTS_TABLE".to_owned(), tables.events),
        ("JOBS_TABLE".to_owned(), tables.jobs),
        (
            "DYNAMODB_ENDPOINT".to_owned(),
            relinx_testkit::dynamodb_endpoint(),
        ),
        (
            "SECRETS_MANAGER_ENDPOINT".to_owned(),
            secrets_manager_endpoint(),
        ),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Config::from_vars(vars)
}

/// A secret made in moto's Secrets Manager, as the template makes one: its ARN.
async fn stored_secret(name: &str, value: &str) -> String {
    let config = Config::from_vars([(
        "SECRETS_MANAGER_ENDPOINT".to_owned(),
        secrets_manager_endpoint(),
    )])
    .unwrap();
    let client = aws_sdk_secretsmanager::Client::new(
        &relinx_ddb::sdk_config(&config.aws, config.aws.secrets_manager_endpoint.as_deref()).await,
    );
    client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("moto makes the secret")
        .arn
        .expect("an ARN")
}

fn app_on(platform: Arc<Platform>) -> TestApp {
    TestApp {
        router: relinx_devserver::app(platform.clone()),
        platform,
        peer: std::net::SocketAddr::from(([127, 9, 9, rand::random()], 40000)),
    }
}

#[tokio::test]
async fn secrets_kept_in_secrets_manager_are_read_at_start_and_used() {
    let run = format!("{:016x}", rand::random::<u64>());
    let pepper = format!("pepper-from-secrets-manager-{run}");
    let jwt = format!("jwt-secret-from-secrets-manager-{run}");
    let pepper_arn = stored_secret(&format!("relinx-test-{run}-key-pepper"), &pepper).await;
    let jwt_arn = stored_secret(&format!("relinx-test-{run}-jwt-secret"), &jwt).await;

    let stored = deployed(&[
        ("RELINX_KEY_PEPPER_SECRET_ARN", &pepper_arn),
        ("RELINX_JWT_SECRET_ARN", &jwt_arn),
    ])
    .await
    .unwrap();
    let deployed_app = app_on(Platform::from_config(stored).await.unwrap());
    let tenant = deployed_app.tenant().await;
    deployed_app
        .as_tenant(&tenant)
        .get("/v1/workspaces")
        .await
        .expect(StatusCode::OK);
    let token = deployed_app
        .post(
            "/v1/auth/token",
            &[],
            serde_json::json!({"api_key": tenant.api_key}),
        )
        .await
        .expect(StatusCode::OK)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another instance given the same values directly accepts the key and the
    // token: the instance above hashed and signed with what Secrets Manager held.
    let same = deployed(&[("RELINX_KEY_PEPPER", &pepper), ("RELINX_JWT_SECRET", &jwt)])
        .await
        .unwrap();
    let same_app = app_on(Platform::from_config(same).await.unwrap());
    same_app
        .as_tenant(&tenant)
        .get("/v1/workspaces")
        .await
        .expect(StatusCode::OK);
    same_app
        .get(
            "/v1/workspaces",
            &[("authorization", format!("Bearer {token}"))],
        )
        .await
        .expect(StatusCode::OK);

    // One with other secrets accepts neither: the values really were the stored ones.
    let other = deployed(&[
        ("RELINX_KEY_PEPPER", "some-other-pepper-some-other-pepper!"),
        ("RELINX_JWT_SECRET", "some-other-jwt-secret-some-other-jwt!"),
    ])
    .await
    .unwrap();
    let other_app = app_on(Platform::from_config(other).await.unwrap());
    other_app
        .as_tenant(&tenant)
        .get("/v1/workspaces")
        .await
        .expect(StatusCode::UNAUTHORIZED);
    other_app
        .get(
            "/v1/workspaces",
            &[("authorization", format!("Bearer {token}"))],
        )
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_stops_the_start_naming_it() {
    let run = format!("{:016x}", rand::random::<u64>());
    let pepper_arn = stored_secret(
        &format!("relinx-test-{run}-key-pepper"),
        &format!("pepper-from-secrets-manager-{run}"),
    )
    .await;
    let missing =
        format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:relinx-test-{run}-gone");
    let config = deployed(&[
        ("RELINX_KEY_PEPPER_SECRET_ARN", &pepper_arn),
        ("RELINX_JWT_SECRET_ARN", &missing),
    ])
    .await
    .unwrap();
    let err = Platform::from_config(config)
        .await
        .err()
        .expect("no platform")
        .to_string();
    assert!(err.contains(&missing), "{err}");

    let none = deployed(&[]).await.unwrap();
    let err = Platform::from_config(none)
        .await
        .err()
        .expect("no platform")
        .to_string();
    for name in [
        "RELINX_KEY_PEPPER_SECRET_ARN",
        "RELINX_JWT_SECRET_ARN",
        "RELINX_KEY_PEPPER",
    ] {
        assert!(err.contains(name), "{name} missing from {err}");
    }
}

#[tokio::test]
async fn a_bad_value_stops_the_dev_server_naming_the_variable() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_relinx-dev"))
        .args(["--no-seed", "--port", "1"])
        .env("RELINX_RETRY_SCHEDULE", "5s,banana")
        .env("RELINX_IDEMPOTENCY_LOCK_SECONDS", "forever")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("relinx-dev runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("RELINX_RETRY_SCHEDULE=\"5s,banana\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("RELINX_IDEMPOTENCY_LOCK_SECONDS"),
        "{stderr}"
    );
}

#[test]
fn the_template_passes_names_the_configuration_reads_and_no_secret() {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
            .expect("template.yaml");
    let known = Config::variables();
    let mut passed = Vec::new();
    for line in template.lines() {
        let Some((key, _)) = line.trim().split_once(':') else {
            continue;
        };
        // Environment variables are the template's only upper-case keys.
        if key.len() > 3
            && key.contains('_')
            && key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            passed.push(key.to_owned());
        }
    }
    assert!(passed.len() > 10, "{passed:?}");
    for name in &passed {
        assert!(
            known.contains(name),
            "template.yaml sets {name}, which relinx does not read"
        );
    }
    for secret in ["RELINX_KEY_PEPPER", "RELINX_JWT_SECRET"] {
        assert!(
            !passed.iter().any(|n| n == secret),
            "template.yaml passes the value of {secret}"
        );
        assert!(
            passed
                .iter()
                .any(|n| n.starts_with(secret) && n.ends_with("_ARN")),
            "template.yaml passes no ARN for {secret}"
        );
    }
    assert!(
        !template.contains("NoEcho"),
        "a secret parameter value would reach the functions' environment"
    );
}
