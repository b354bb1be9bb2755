//! No key secret, token or password reaches a DynamoDB item or a log line, and the
//! log line of each request says what a person needs: route, status, latency, org.

use http::{Method, StatusCode};
use relinx_testkit::{TestApp, capture_logs, dump_tables};
use serde_json::json;

#[tokio::test]
async fn secrets_are_neither_stored_nor_logged() {
    let (logs, _guard) = capture_logs();
    let app = TestApp::new(relinx_devserver::app).await;
    let email = format!("secret-check-{}@example.com", std::process::id());
    let password = "a very particular password 42";
    let signup = app
        .post(
            "/v1/signup",
            &[],
            json!({"organization": "Secretive", "email": email, "password": password}),
        )
        .await;
    assert_eq!(signup.status, StatusCode::CREATED, "{}", signup.text);
    let signup = signup.json();
    let owner_key = signup["api_key"].as_str().expect("key").to_owned();
    let h = [("authorization", format!("ApiKey {owner_key}"))];

    let token = app
        .post("/v1/auth/token", &[], json!({"api_key": owner_key}))
        .await
        .json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let login = app
        .post(
            "/api/auth/login",
            &[],
            json!({"email": email, "password": password}),
        )
        .await
        .json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let created = app
        .post("/v1/api-keys", &h, json!({"name": "ci"}))
        .await
        .json();
    let second_key = created["key"].as_str().expect("key").to_owned();
    let rotated = app
        .post(
            &format!(
                "/v1/api-keys/{}/rotate",
                created["id"].as_str().expect("id")
            ),
            &h,
            json!({}),
        )
        .await
        .json()["key"]
        .as_str()
        .expect("key")
        .to_owned();
    app.get(
        "/v1/workspaces",
        &[("authorization", format!("Bearer {token}"))],
    )
    .await;
    app.get(
        "/api/workspaces",
        &[("authorization", format!("Bearer {login}"))],
    )
    .await;
    app.call(
        Method::GET,
        "/v1/workspaces",
        &[("x-api-key", format!("{owner_key}x"))],
        None,
    )
    .await;
    app.post(
        "/api/auth/login",
        &[],
        json!({"email": email, "password": "wrong password here"}),
    )
    .await;

    let secret_of = |key: &str| {
        key.split_once('.')
            .map(|(_, s)| s.to_owned())
            .expect("id.secret")
    };
    let secrets = [
        ("password", password.to_owned()),
        ("owner key secret", secret_of(&owner_key)),
        ("second key secret", secret_of(&second_key)),
        ("rotated key secret", secret_of(&rotated)),
        ("exchanged token", token.clone()),
        ("login token", login.clone()),
        (
            "token signature",
            token.rsplit('.').next().expect("signature").to_owned(),
        ),
    ];
    let stored = dump_tables().await;
    let logged = logs.text();
    assert!(
        stored.contains(&owner_key[..16]),
        "the key id is stored in plain text"
    );
    for (what, secret) in &secrets {
        assert!(
            !stored.contains(secret.as_str()),
            "{what} found in DynamoDB"
        );
        assert!(
            !logged.contains(secret.as_str()),
            "{what} found in the logs"
        );
    }

    let lines: Vec<serde_json::Value> = logged
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let signup_line = lines
        .iter()
        .find(|l| l["route"] == "/v1/signup")
        .unwrap_or_else(|| panic!("no request line for /v1/signup in {logged}"));
    assert_eq!(signup_line["status"], 201);
    assert!(signup_line["latency_ms"].is_number());
    assert!(
        signup_line["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_"))
    );
    let listed = lines
        .iter()
        .find(|l| l["route"] == "/v1/workspaces" && l["status"] == 200)
        .unwrap_or_else(|| panic!("no request line for /v1/workspaces in {logged}"));
    assert_eq!(listed["org"], signup["org_id"]);
    assert!(
        listed["ddb_calls"].as_u64().is_some_and(|n| n >= 1),
        "{listed}"
    );
    assert!(listed["ddb_ms"].is_number(), "{listed}");
    assert_eq!(listed["method"], "GET");
}
