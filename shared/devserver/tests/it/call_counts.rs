//! DynamoDB calls on each route's critical path, counted (not timed) through the
//! client's interceptor and the `Server-Timing` header. A route that gains a call
//! fails here; a route that needs more than one read or one transaction says why.
//!
//! Every authenticated request also makes one rate-limit call (an `UpdateItem` on the
//! org's window), counted in the figures below.

use http::{Method, StatusCode};
use relinx_ddb::CacheSettings;
use relinx_testkit::{TestApp, TestResponse, open_settings};
use serde_json::json;

fn ddb_calls(response: &TestResponse) -> u32 {
    let timing = response
        .header("server-timing")
        .unwrap_or_else(|| panic!("no Server-Timing: {:?}", response.headers));
    timing
        .split("calls=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no call count in {timing:?}"))
}

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

/// Runs one request and returns its call count, checking it succeeded.
async fn count(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, String)],
    body: Option<serde_json::Value>,
) -> u32 {
    let response = app.call(method.clone(), path, headers, body).await;
    assert!(
        response.status.is_success(),
        "{method} {path}: {}",
        response.text
    );
    ddb_calls(&response)
}

#[tokio::test]
async fn an_authenticated_read_is_one_read_plus_the_rate_limit() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    // Warm the key, org and workspace-list caches, as a busy instance has them.
    count(&app, Method::GET, "/api/workspaces", &h, None).await;

    let ws = format!("/v1/workspaces/{}", t.workspace_id);
    assert_eq!(
        count(&app, Method::GET, &ws, &h, None).await,
        2,
        "GetItem + rate limit"
    );
    assert_eq!(
        count(&app, Method::GET, "/v1/workspaces", &h, None).await,
        2,
        "Query + rate limit"
    );
    assert_eq!(
        count(&app, Method::GET, "/v1/api-keys", &h, None).await,
        2,
        "Query + rate limit"
    );
    assert_eq!(
        count(&app, Method::GET, "/api/workspaces/default", &h, None).await,
        2,
        "name from the cached list + GetItem + rate limit"
    );
    // The page-numbered list serves from the org's cached workspace list (5 s TTL).
    assert_eq!(
        count(&app, Method::GET, "/api/workspaces", &h, None).await,
        1,
        "rate limit only"
    );
    // Validation needs nothing but the (cached) key.
    assert_eq!(
        count(&app, Method::GET, "/api/v1/validate", &h, None).await,
        1,
        "rate limit only"
    );
}

#[tokio::test]
async fn a_create_is_one_transaction_plus_the_rate_limit() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    count(&app, Method::GET, "/api/v1/validate", &h, None).await;
    assert_eq!(
        count(
            &app,
            Method::POST,
            "/v1/workspaces",
            &h,
            Some(json!({"name": "a"}))
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            Method::POST,
            "/api/workspaces",
            &h,
            Some(json!({"name": "b"}))
        )
        .await,
        2
    );
    // The first key also reads the org's custom roles (which roles may hold it),
    // cached from then on like the key itself.
    count(
        &app,
        Method::POST,
        "/v1/api-keys",
        &h,
        Some(json!({"name": "j"})),
    )
    .await;
    assert_eq!(
        count(
            &app,
            Method::POST,
            "/v1/api-keys",
            &h,
            Some(json!({"name": "k"}))
        )
        .await,
        2
    );
    let scoped = json!({"name": "scoped", "workspace_id": t.workspace_id});
    assert_eq!(
        count(&app, Method::POST, "/v1/api-keys", &h, Some(scoped)).await,
        2,
        "the workspace check rides in the transaction"
    );
}

#[tokio::test]
async fn updates_and_deletes_read_once_before_their_transaction() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    count(&app, Method::GET, "/api/v1/validate", &h, None).await;
    let ws = app
        .post("/v1/workspaces", &h, json!({"name": "x"}))
        .await
        .json();
    let ws = format!("/v1/workspaces/{}", ws["id"].as_str().expect("id"));
    let key = app
        .post("/v1/api-keys", &h, json!({"name": "k"}))
        .await
        .json();
    let key = format!("/v1/api-keys/{}", key["id"].as_str().expect("id"));

    // PUT-as-PATCH reads the workspace to merge the patch, apply the read-only rule and
    // condition the write on what it read: GetItem + TransactWriteItems + rate limit.
    assert_eq!(
        count(&app, Method::PUT, &ws, &h, Some(json!({"name": "y"}))).await,
        3
    );
    // Rotation and deletion read the key's listing item to answer with it and to find
    // its workspace for the event: GetItem + TransactWriteItems + rate limit.
    assert_eq!(
        count(
            &app,
            Method::POST,
            &format!("{key}/rotate"),
            &h,
            Some(json!({}))
        )
        .await,
        3
    );
    assert_eq!(count(&app, Method::DELETE, &key, &h, None).await, 3);
    // Deleting a workspace reads it (to free its name guard and refuse the default,
    // whose id comes from the cached org): GetItem + TransactWriteItems + rate limit.
    assert_eq!(count(&app, Method::DELETE, &ws, &h, None).await, 3);
}

#[tokio::test]
async fn a_jwt_request_makes_no_key_lookup() {
    let issuing = app().await;
    let t = issuing.tenant().await;
    let token = issuing
        .post("/v1/auth/token", &[], json!({"api_key": t.api_key}))
        .await
        .json();
    let bearer = [(
        "authorization",
        format!("Bearer {}", token["access_token"].as_str().expect("token")),
    )];
    let ws = format!("/v1/workspaces/{}", t.workspace_id);

    // A fresh instance: nothing cached. With a token: org + workspace + rate limit.
    let cold = TestApp::with(
        relinx_devserver::app,
        CacheSettings::default(),
        open_settings(),
    )
    .await;
    assert_eq!(count(&cold, Method::GET, &ws, &bearer, None).await, 3);
    assert_eq!(
        count(&cold, Method::GET, &ws, &bearer, None).await,
        2,
        "org cached now"
    );
    // The same on another fresh instance with the key: one more call, the key lookup.
    let cold = TestApp::with(
        relinx_devserver::app,
        CacheSettings::default(),
        open_settings(),
    )
    .await;
    assert_eq!(
        count(&cold, Method::GET, &ws, &[t.key_header()], None).await,
        4
    );
}

#[tokio::test]
async fn token_exchange_with_a_cached_key_makes_no_call() {
    let app = app().await;
    let t = app.tenant().await;
    count(
        &app,
        Method::GET,
        "/api/v1/validate",
        &[t.key_header()],
        None,
    )
    .await;
    assert_eq!(
        count(
            &app,
            Method::POST,
            "/v1/auth/token",
            &[],
            Some(json!({"api_key": t.api_key}))
        )
        .await,
        0
    );
}

#[tokio::test]
async fn idempotent_replays_and_refusals_cost_what_they_must() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header(), ("idempotency-key", "count-me".to_owned())];
    count(&app, Method::GET, "/api/v1/validate", &h[..1], None).await;
    // Lock (PutItem) + TransactWriteItems + store the response (UpdateItem) + rate limit.
    assert_eq!(
        count(
            &app,
            Method::POST,
            "/v1/workspaces",
            &h,
            Some(json!({"name": "i"}))
        )
        .await,
        4
    );
    // The failed lock returns the stored response itself: PutItem + rate limit.
    let replay = app.post("/v1/workspaces", &h, json!({"name": "i"})).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(ddb_calls(&replay), 2);

    relinx_identity::orgs::set_limits_override(
        &app.platform.store,
        &relinx_testkit::owner_context(&t),
        relinx_model::LimitsOverride {
            rate_per_minute: Some(0),
            ..Default::default()
        },
    )
    .await
    .expect("limit set");
    // The limit change dropped this instance's cached org: reload it once.
    app.get("/v1/workspaces", &h[..1]).await;
    let refused = app.get("/v1/workspaces", &h[..1]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    // A refused read ran alongside its count: rate limit + the read it discarded.
    assert_eq!(ddb_calls(&refused), 2);
    let refused = app
        .post("/v1/workspaces", &h[..1], json!({"name": "j"}))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ddb_calls(&refused), 1, "a refused write stops at the count");
}

#[tokio::test]
async fn a_made_up_key_is_refused_without_a_lookup() {
    let app = app().await;
    let forged = format!("ZZZZZZZZZZZZZZZZ.{}", "A".repeat(64));
    let refused = app.get("/v1/workspaces", &[("x-api-key", forged)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        ddb_calls(&refused),
        0,
        "a key id this deployment never issued is not looked up"
    );
}
