//! DynamoDB calls on each route's critical path, counted (not timed) through the
//! client's interceptor and the `Server-Timing` header. A route that gains a call
//! fails here; a route that needs more than one read or one transaction says why.
//!
//! The figures leave out rate-limit leases: an instance leases tokens for an org a
//! few times a second at most and decides locally otherwise (reads do not wait for a
//! lease at all). `a_warm_instance_decides_rate_limits_without_a_call` pins that.

use http::{Method, StatusCode};
use relinx_ddb::CacheSettings;
use relinx_testkit::{TestApp, TestResponse, open_settings};
use serde_json::json;

/// A `Server-Timing` figure: `calls` (DynamoDB calls) or `leases` (of those, leases).
fn timing_figure(response: &TestResponse, figure: &str) -> u32 {
    let timing = response
        .header("server-timing")
        .unwrap_or_else(|| panic!("no Server-Timing: {:?}", response.headers));
    timing
        .split(&format!("{figure}="))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {figure} in {timing:?}"))
}

/// DynamoDB calls a request made besides rate-limit leases.
fn ddb_calls(response: &TestResponse) -> u32 {
    timing_figure(response, "calls") - timing_figure(response, "leases")
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
async fn an_authenticated_read_is_one_read() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    // Warm the key, org and workspace-list caches, as a busy instance has them.
    count(&app, Method::GET, "/api/workspaces", &h, None).await;

    let ws = format!("/v1/workspaces/{}", t.workspace_id);
    assert_eq!(count(&app, Method::GET, &ws, &h, None).await, 1, "GetItem");
    assert_eq!(
        count(&app, Method::GET, "/v1/workspaces", &h, None).await,
        1,
        "Query"
    );
    assert_eq!(
        count(&app, Method::GET, "/v1/api-keys", &h, None).await,
        1,
        "Query"
    );
    assert_eq!(
        count(&app, Method::GET, "/api/workspaces/default", &h, None).await,
        1,
        "name from the cached list + GetItem"
    );
    // The page-numbered list serves from the org's cached workspace list (5 s TTL).
    assert_eq!(
        count(&app, Method::GET, "/api/workspaces", &h, None).await,
        0,
        "everything cached"
    );
    // Validation needs nothing but the (cached) key.
    assert_eq!(
        count(&app, Method::GET, "/api/v1/validate", &h, None).await,
        0,
        "everything cached"
    );
}

#[tokio::test]
async fn a_create_is_one_transaction() {
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
        1
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
        1
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
        1
    );
    let scoped = json!({"name": "scoped", "workspace_id": t.workspace_id});
    assert_eq!(
        count(&app, Method::POST, "/v1/api-keys", &h, Some(scoped)).await,
        1,
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
    // condition the write on what it read: GetItem + TransactWriteItems.
    assert_eq!(
        count(&app, Method::PUT, &ws, &h, Some(json!({"name": "y"}))).await,
        2
    );
    // Rotation and deletion read the key's listing item to answer with it and to find
    // its workspace for the event: GetItem + TransactWriteItems.
    assert_eq!(
        count(
            &app,
            Method::POST,
            &format!("{key}/rotate"),
            &h,
            Some(json!({}))
        )
        .await,
        2
    );
    assert_eq!(count(&app, Method::DELETE, &key, &h, None).await, 2);
    // Deleting a workspace reads it (to free its name guard and refuse the default,
    // whose id comes from the cached org): GetItem + TransactWriteItems.
    assert_eq!(count(&app, Method::DELETE, &ws, &h, None).await, 2);
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

    // A fresh instance: nothing cached. With a token: org + workspace.
    let cold = TestApp::with(
        relinx_devserver::app,
        CacheSettings::default(),
        open_settings(),
    )
    .await;
    assert_eq!(count(&cold, Method::GET, &ws, &bearer, None).await, 2);
    assert_eq!(
        count(&cold, Method::GET, &ws, &bearer, None).await,
        1,
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
        3
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
    // Lock (PutItem) + TransactWriteItems + store the response (UpdateItem).
    assert_eq!(
        count(
            &app,
            Method::POST,
            "/v1/workspaces",
            &h,
            Some(json!({"name": "i"}))
        )
        .await,
        3
    );
    // The failed lock returns the stored response itself: PutItem.
    let replay = app.post("/v1/workspaces", &h, json!({"name": "i"})).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(ddb_calls(&replay), 1);

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
    // Tokens this instance leased for the current second stay good until it ends.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let first = app.get("/v1/workspaces", &h[..1]).await;
    assert_eq!(first.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(timing_figure(&first, "leases"), 1, "the refused lease");
    let refused = app.get("/v1/workspaces", &h[..1]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    // The refusal is remembered: decided locally, before the read, so no call at all.
    assert_eq!(timing_figure(&refused, "calls"), 0);
    let refused = app
        .post("/v1/workspaces", &h[..1], json!({"name": "j"}))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        timing_figure(&refused, "calls"),
        0,
        "a refused write stops at the (remembered) verdict"
    );
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

/// In steady state an instance decides locally: within one busy second, after the
/// first few requests have leased tokens, the rest make no rate-limit call at all.
#[tokio::test]
async fn a_warm_instance_decides_rate_limits_without_a_call() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let ws = format!("/v1/workspaces/{}", t.workspace_id);
    count(&app, Method::GET, &ws, &h, None).await;
    // Start at the top of a second so the run shares one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    tokio::time::sleep(std::time::Duration::from_millis(
        1000 - u64::from(now.subsec_millis()) + 10,
    ))
    .await;
    let mut leases = Vec::new();
    for _ in 0..8 {
        let response = app.get(&ws, &h).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(ddb_calls(&response), 1, "GetItem only");
        leases.push(timing_figure(&response, "leases"));
    }
    // Leases of 1, 4 and 16 tokens: the first, the second and the sixth request.
    assert!(leases.iter().sum::<u32>() <= 3, "{leases:?}");
    assert_eq!(&leases[2..5], &[0, 0, 0], "{leases:?}");
}

#[tokio::test]
async fn records_read_in_one_call_and_write_in_one_transaction() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let post = |title: &str| Some(json!({"title": title}));
    // The first write also reads the org's sync policies, cached from then on.
    count(&app, Method::POST, "/v1/records", &h, post("warm")).await;
    let created = app.post("/v1/records", &h, json!({"title": "r"})).await;
    assert_eq!(
        ddb_calls(&created),
        1,
        "one transaction: record, feed entry, event, workspace check"
    );
    let record = created.json();
    let path = format!("/v1/records/{}", record["id"].as_str().unwrap());
    assert_eq!(
        count(&app, Method::GET, &path, &h, None).await,
        1,
        "GetItem"
    );
    assert_eq!(
        count(&app, Method::GET, "/v1/records", &h, None).await,
        1,
        "Query"
    );
    assert_eq!(
        count(&app, Method::GET, "/v1/records?status=queued", &h, None).await,
        1,
        "Query on the status index"
    );
    assert_eq!(
        count(&app, Method::GET, "/v1/records/changes", &h, None).await,
        1,
        "Query on the feed"
    );
    // PATCH and DELETE read the record (policies see the whole new record, and the
    // answer is the record), then write it back in one transaction.
    let patched = app
        .call(
            Method::PATCH,
            &path,
            &h,
            Some(json!({"status": "synced", "causal": record["causal"]})),
        )
        .await;
    assert_eq!(ddb_calls(&patched), 2, "{}", patched.text);
    let deleted = app
        .call(
            Method::DELETE,
            &path,
            &h,
            Some(json!({"causal": patched.json()["causal"]})),
        )
        .await;
    assert_eq!(ddb_calls(&deleted), 2, "{}", deleted.text);
}
