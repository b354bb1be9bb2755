//! Per-org rate limits counted in DynamoDB, so they hold across instances.

use crate::dev_server::spawn_on_test_tables;
use http::StatusCode;
use relinx_ddb::CacheSettings;
use relinx_identity::orgs;
use relinx_model::LimitsOverride;
use relinx_testkit::{TestApp, TestResponse, http_call, open_settings, owner_context};

/// Waits until at least `margin` seconds remain in the current minute, so a test's
/// requests all fall in one window.
async fn stay_in_one_window(margin: i64) {
    let second = relinx_model::Timestamp::now().unix().rem_euclid(60);
    if second > 60 - margin {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
}

async fn limit_org(app: &TestApp, tenant: &relinx_testkit::Tenant, per_minute: u64) {
    orgs::set_limits_override(
        &app.platform.store,
        &owner_context(tenant),
        LimitsOverride {
            rate_per_minute: Some(per_minute),
            burst: Some(1000),
            ..Default::default()
        },
    )
    .await
    .expect("limits set");
}

fn header_num(response: &TestResponse, name: &str) -> i64 {
    response
        .header(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing: {:?}", response.headers))
}

#[tokio::test]
async fn the_request_past_the_limit_is_refused_with_retry_after() {
    let app = TestApp::new(relinx_devserver::app).await;
    let t = app.tenant().await;
    let limit = 5;
    limit_org(&app, &t, limit).await;
    stay_in_one_window(15).await;
    let mut reset = None;
    for i in 1..=limit {
        let path = if i % 2 == 0 {
            "/v1/workspaces"
        } else {
            "/api/workspaces"
        };
        let response = app.get(path, &[t.key_header()]).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "request {i}: {}",
            response.text
        );
        assert_eq!(header_num(&response, "x-ratelimit-limit"), limit as i64);
        assert_eq!(
            header_num(&response, "x-ratelimit-remaining"),
            (limit - i) as i64,
            "request {i}"
        );
        let this_reset = header_num(&response, "x-ratelimit-reset");
        assert_eq!(this_reset % 60, 0, "the reset is the window's end");
        assert!(reset.is_none_or(|r| r == this_reset));
        reset = Some(this_reset);
    }
    let refused = app.get("/v1/workspaces", &[t.key_header()]).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert_eq!(refused.json()["error_code"], "RATE_LIMITED");
    let retry_after = header_num(&refused, "retry-after");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(header_num(&refused, "x-ratelimit-remaining"), 0);
    // Writes are refused before they change anything.
    let write = app
        .post(
            "/v1/workspaces",
            &[t.key_header()],
            serde_json::json!({"name": "late"}),
        )
        .await;
    assert_eq!(write.status, StatusCode::TOO_MANY_REQUESTS);
    let events = relinx_testkit::events_of(&t.org_id).await;
    assert!(
        !events
            .iter()
            .any(|e| e.event.as_str() == "workspace.created")
    );

    // Another org is not affected.
    let u = app.tenant().await;
    assert_eq!(
        app.get("/v1/workspaces", &[u.key_header()]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unauthenticated_requests_carry_no_rate_limit_headers() {
    let app = TestApp::new(relinx_devserver::app).await;
    let response = app.get("/v1/workspaces", &[]).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert!(response.header("x-ratelimit-limit").is_none());
    assert!(response.header("x-request-id").is_some());
}

#[tokio::test]
async fn two_dev_server_processes_share_one_count() {
    let a = spawn_on_test_tables().await;
    let b = spawn_on_test_tables().await;
    let app = TestApp::with(
        relinx_devserver::app,
        CacheSettings::disabled(),
        open_settings(),
    )
    .await;
    let t = app.tenant().await;
    let limit = 6;
    limit_org(&app, &t, limit).await;
    stay_in_one_window(20).await;
    let h = [("authorization", format!("ApiKey {}", t.api_key))];
    for i in 1..=limit {
        let server = if i % 2 == 0 { &a } else { &b };
        let response = http_call(&server.addr, "GET", "/v1/workspaces", &h, None).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "request {i}: {}",
            response.text
        );
        assert_eq!(
            header_num(&response, "x-ratelimit-remaining"),
            (limit - i) as i64,
            "request {i}"
        );
    }
    for server in [&a, &b] {
        let refused = http_call(&server.addr, "GET", "/v1/workspaces", &h, None).await;
        assert_eq!(
            refused.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            refused.text
        );
        assert!(refused.header("retry-after").is_some());
    }
}

/// Two instances (Store and caches of their own) in front of one table, and a
/// starter-sized org: 60 requests a minute, 10 in any one second.
async fn two_instances_and_a_starter_org() -> (TestApp, TestApp, [(&'static str, String); 1]) {
    let a = TestApp::new(relinx_devserver::app).await;
    let b = TestApp::new(relinx_devserver::app).await;
    let t = a.tenant().await;
    orgs::set_limits_override(
        &a.platform.store,
        &owner_context(&t),
        LimitsOverride {
            rate_per_minute: Some(60),
            burst: Some(10),
            ..Default::default()
        },
    )
    .await
    .expect("limits set");
    (a, b, [t.key_header()])
}

/// Sleeps to just after the start of the next second.
async fn next_second() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    tokio::time::sleep(std::time::Duration::from_millis(
        1000 - u64::from(now.subsec_millis()) + 5,
    ))
    .await;
}

#[tokio::test]
async fn the_burst_holds_across_two_instances_within_one_second() {
    let (a, b, h) = two_instances_and_a_starter_org().await;
    stay_in_one_window(5).await;
    next_second().await;
    let second = || relinx_model::Timestamp::now().unix();
    let first = second();
    // Served by the second they were asked and answered in: on a loaded machine the
    // 16 may not fit in one second, and the next second has a burst of its own. A
    // request that straddles a second counts in neither.
    let mut served: std::collections::BTreeMap<i64, u32> = std::collections::BTreeMap::new();
    let mut asked_in_first = 0;
    for i in 0..16 {
        let app = if i % 2 == 0 { &a } else { &b };
        let asked = second();
        let response = app.get("/v1/workspaces", &h).await;
        let whole = asked == second();
        if whole && asked == first {
            asked_in_first += 1;
        }
        match response.status {
            StatusCode::OK if whole => *served.entry(asked).or_default() += 1,
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(
                    response.header("retry-after"),
                    Some("1"),
                    "burst: next second"
                );
                // It says what ran out: the second's burst, not the minute.
                let message = response.json()["message"].as_str().unwrap().to_owned();
                assert!(message.contains("burst of 10"), "{message}");
                assert!(!message.contains("per minute is used up"), "{message}");
            }
            other => panic!("unexpected {other}: {}", response.text),
        }
    }
    for (at, n) in &served {
        assert!(*n <= 10, "{n} served in second {at}; the burst is 10");
    }
    let in_first = served.get(&first).copied().unwrap_or(0);
    assert!(
        in_first >= asked_in_first.min(8),
        "only {in_first} of the burst of 10 served ({asked_in_first} asked in that second)"
    );
    // The next second has a burst of its own.
    next_second().await;
    assert_eq!(a.get("/v1/workspaces", &h).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_minute_limit_holds_across_two_instances_and_lifts_with_the_window() {
    let (a, b, h) = two_instances_and_a_starter_org().await;
    stay_in_one_window(25).await;
    let window = relinx_model::Timestamp::now().unix().div_euclid(60);
    let (mut served, mut refused) = (0, 0);
    // 8 a second (within the burst), alternating instances, for 9 seconds: 72 asked.
    for _ in 0..9 {
        next_second().await;
        for i in 0..8 {
            let app = if i % 2 == 0 { &a } else { &b };
            let response = app.get("/v1/workspaces", &h).await;
            match response.status {
                StatusCode::OK => served += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    refused += 1;
                    let retry = header_num(&response, "retry-after");
                    assert!((1..=60).contains(&retry), "Retry-After {retry}");
                }
                other => panic!("unexpected {other}: {}", response.text),
            }
        }
    }
    assert_eq!(
        relinx_model::Timestamp::now().unix().div_euclid(60),
        window,
        "the run left its window"
    );
    assert!(served <= 60, "{served} served; the limit is 60 a minute");
    assert!(served >= 56, "only {served} of 60 served");
    assert_eq!(served + refused, 72);

    // Past the window, requests pass again on both instances.
    let now = relinx_model::Timestamp::now().unix();
    tokio::time::sleep(std::time::Duration::from_secs(
        (60 - now.rem_euclid(60) + 1) as u64,
    ))
    .await;
    assert_eq!(a.get("/v1/workspaces", &h).await.status, StatusCode::OK);
    assert_eq!(b.get("/v1/workspaces", &h).await.status, StatusCode::OK);
}
