//! `Idempotency-Key` across the platform (API.md "Idempotency").

use http::StatusCode;
use relinx_testkit::{TestApp, events_of};
use serde_json::json;

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

#[tokio::test]
async fn a_repeat_replays_and_another_body_is_refused() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [
        t.key_header(),
        ("idempotency-key", "create-staging-1".to_owned()),
    ];
    let first = app
        .post("/v1/workspaces", &h, json!({"name": "staging"}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(first.header("idempotent-replayed").is_none());

    let again = app
        .post("/v1/workspaces", &h, json!({"name": "staging"}))
        .await;
    assert_eq!(
        again.status,
        StatusCode::CREATED,
        "a replay, not a duplicate-name conflict: {}",
        again.text
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json());
    assert_eq!(again.header("content-type"), Some("application/json"));

    let other = app
        .post("/v1/workspaces", &h, json!({"name": "production"}))
        .await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.text
    );
    assert_eq!(other.json()["error_code"], "IDEMPOTENCY_KEY_REUSED");

    // Keys are per org: another org may use the same key for its own request.
    let u = app.tenant().await;
    let theirs = app
        .post(
            "/v1/workspaces",
            &[u.key_header(), h[1].clone()],
            json!({"name": "staging"}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert!(theirs.header("idempotent-replayed").is_none());

    let created = events_of(&t.org_id)
        .await
        .iter()
        .filter(|e| e.event.as_str() == "workspace.created")
        .count();
    assert_eq!(created, 1);
}

#[tokio::test]
async fn errors_below_500_are_replayed_too() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header(), ("idempotency-key", "bad-body".to_owned())];
    let first = app.post("/api/workspaces", &h, json!({"name": ""})).await;
    assert_eq!(first.status, StatusCode::BAD_REQUEST);
    let again = app.post("/api/workspaces", &h, json!({"name": ""})).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json());
}

#[tokio::test]
async fn oversized_idempotency_keys_are_refused() {
    let app = app().await;
    let t = app.tenant().await;
    let response = app
        .post(
            "/v1/workspaces",
            &[t.key_header(), ("idempotency-key", "k".repeat(256))],
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Idempotency-Key")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_identical_requests_make_one_resource_and_one_event() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [
        t.key_header(),
        ("idempotency-key", "concurrent-key-1".to_owned()),
    ];
    let body = json!({"name": "concurrent", "role": "viewer"});
    let requests = (0..20).map(|_| {
        let app = app.clone();
        let h = h.clone();
        let body = body.clone();
        tokio::spawn(async move { app.post("/v1/api-keys", &h, body).await })
    });
    let responses: Vec<_> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let mut created_ids = std::collections::HashSet::new();
    for response in &responses {
        match response.status {
            StatusCode::CREATED => {
                created_ids.insert(response.json()["id"].as_str().expect("id").to_owned());
            }
            StatusCode::CONFLICT => {
                assert_eq!(response.json()["error_code"], "IDEMPOTENCY_KEY_IN_FLIGHT")
            }
            other => panic!("unexpected {other}: {}", response.text),
        }
    }
    assert_eq!(
        created_ids.len(),
        1,
        "every 201 is the same key: {created_ids:?}"
    );

    let listed = app
        .get("/v1/api-keys?limit=200", &[t.key_header()])
        .await
        .json();
    let named = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|k| k["name"] == "concurrent")
        .count();
    assert_eq!(named, 1);
    let events = events_of(&t.org_id).await;
    let key_events = events
        .iter()
        .filter(|e| e.event.as_str() == "api_key.created")
        .count();
    assert_eq!(key_events, 1, "{events:?}");
}
