//! Webhook endpoints as a client registers them (seed 002 "Webhooks"): the secret
//! shown once, subscriptions checked against the event names, targets refused where
//! they could reach inside the network, nothing of one org visible to another.

use http::{Method, StatusCode};
use relinx_testkit::TestApp;
use serde_json::json;

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

const PUBLIC_TARGET: &str = "https://93.184.216.34/relaysync";

#[tokio::test]
async fn an_endpoint_is_registered_changed_rotated_and_deleted() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let created = app
        .post(
            "/v1/webhooks",
            &h,
            json!({"url": PUBLIC_TARGET, "events": ["record.synced", "record.conflict", "record.synced"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let webhook = created.json();
    let id = webhook["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wh_"));
    assert_eq!(
        webhook["events"],
        json!(["record.conflict", "record.synced"])
    );
    assert_eq!(webhook["enabled"], true);
    let secret = webhook["secret"].as_str().unwrap().to_owned();
    assert!(relinx_webhooks::Secret::parse(&secret).is_some() && secret.starts_with("whsec_"));

    // Shown once: never in a read, a list, or the event log.
    let got = app.get(&format!("/v1/webhooks/{id}"), &h).await;
    assert_eq!(got.status, StatusCode::OK);
    let listed = app.get("/v1/webhooks", &h).await;
    assert_eq!(listed.json()["data"][0]["id"], id.as_str());
    let log = format!("{:?}", relinx_testkit::events_of(&t.org_id).await);
    for text in [&got.text, &listed.text, &log] {
        assert!(!text.contains(&secret[6..]), "the secret leaked: {text}");
    }

    let changed = app
        .call(
            Method::PATCH,
            &format!("/v1/webhooks/{id}"),
            &h,
            Some(json!({"events": ["*"], "description": "everything", "enabled": false})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json()["events"], json!(["*"]));
    assert_eq!(changed.json()["enabled"], false);
    assert_eq!(changed.json()["description"], "everything");

    let rotated = app
        .post(&format!("/v1/webhooks/{id}/rotate-secret"), &h, json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let new_secret = rotated.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);

    let deleted = app
        .call(Method::DELETE, &format!("/v1/webhooks/{id}"), &h, None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let gone = app.get(&format!("/v1/webhooks/{id}"), &h).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let names: Vec<String> = relinx_testkit::events_of(&t.org_id)
        .await
        .iter()
        .map(|e| e.event.as_str().to_owned())
        .filter(|n| n.starts_with("webhook."))
        .collect();
    assert_eq!(
        names,
        [
            "webhook.created",
            "webhook.updated",
            "webhook.updated",
            "webhook.deleted"
        ]
    );
}

#[tokio::test]
async fn targets_inside_the_network_are_refused() {
    let app = app().await;
    let t = app.tenant().await;
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://localhost:9/hook",
        "http://127.0.0.1:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00:ec2::254]/",
        // IPv6 forms that carry a private IPv4 address reach it too.
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::10.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:c0a8:0101::1]/",
        "ftp://93.184.216.34/",
        "https://user:secret@93.184.216.34/",
        "not a url",
    ] {
        let refused = app
            .post(
                "/v1/webhooks",
                &[t.key_header()],
                json!({"url": url, "events": ["*"]}),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{url}: {}",
            refused.text
        );
        assert!(
            refused.json()["message"]
                .as_str()
                .unwrap()
                .starts_with("url:"),
            "{url}: {}",
            refused.text
        );
    }
}

#[tokio::test]
async fn subscriptions_name_real_events_and_stay_in_their_org() {
    let app = app().await;
    let (a, b) = (app.tenant().await, app.tenant().await);
    for events in [json!([]), json!(["record.exploded"]), json!(["*", "nope"])] {
        let refused = app
            .post(
                "/v1/webhooks",
                &[a.key_header()],
                json!({"url": PUBLIC_TARGET, "events": events}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        assert!(refused.text.contains("events"));
    }
    let theirs = app
        .post(
            "/v1/webhooks",
            &[a.key_header()],
            json!({"url": PUBLIC_TARGET, "events": ["*"]}),
        )
        .await
        .json();
    let id = theirs["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/v1/webhooks/{id}")),
        (Method::PATCH, format!("/v1/webhooks/{id}")),
        (Method::DELETE, format!("/v1/webhooks/{id}")),
        (Method::POST, format!("/v1/webhooks/{id}/rotate-secret")),
    ] {
        let answer = app
            .call(method.clone(), &path, &[b.key_header()], Some(json!({})))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            answer.text
        );
    }
    let listed = app.get("/v1/webhooks", &[b.key_header()]).await.json();
    assert_eq!(listed["data"], json!([]));

    // Managing webhooks is administration: an operator reads, only an admin writes.
    let operator = crate::support::key_with_role(&app, &a, "operator").await;
    let read = app
        .get("/v1/webhooks", std::slice::from_ref(&operator))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let write = app
        .post(
            "/v1/webhooks",
            &[operator],
            json!({"url": PUBLIC_TARGET, "events": ["*"]}),
        )
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
}

/// A receiver on loopback that answers 200 and counts what it got.
async fn receiver() -> (std::sync::Arc<std::sync::atomic::AtomicUsize>, String) {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                "thanks"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (count, url)
}

#[tokio::test]
async fn a_test_event_is_delivered_and_shows_in_deliveries_and_the_sync_queue() {
    let settings = relinx_http::Settings {
        allow_private_targets: true,
        ..relinx_testkit::open_settings()
    };
    let app = TestApp::with(
        relinx_devserver::app,
        relinx_ddb::CacheSettings::default(),
        settings,
    )
    .await;
    let (a, b) = (app.tenant().await, app.tenant().await);
    let (received, url) = receiver().await;
    let created = app
        .post(
            "/v1/webhooks",
            &[a.key_header()],
            json!({"url": url, "events": ["record.synced"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();

    let sent = app
        .post(
            &format!("/v1/webhooks/{id}/test"),
            &[a.key_header()],
            json!({}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text);
    let event_id = sent.json()["event_id"].as_str().unwrap().to_owned();
    let event = relinx_testkit::events_of(&a.org_id)
        .await
        .into_iter()
        .find(|e| e.id.as_str() == event_id)
        .expect("the test event is in the log");
    assert_eq!(event.event.as_str(), "webhook.test");

    // What the dispatcher does with it: fan out (to this endpoint only), deliver.
    let store = &app.platform.store;
    let jobs = relinx_webhooks::jobs::fan_out(store, &event).await.unwrap();
    assert_eq!(jobs.len(), 1, "webhook.test goes to its endpoint alone");
    let sender = relinx_webhooks::delivery::Deliverer::new(
        relinx_webhooks::TargetPolicy {
            allow_private: true,
        },
        relinx_webhooks::jobs::parse_schedule("5s").unwrap(),
    )
    .unwrap();
    let org = relinx_model::OrgId::parse(&a.org_id).unwrap();
    assert_eq!(
        sender.deliver(store, &org, &jobs[0]).await.unwrap(),
        relinx_webhooks::delivery::Outcome::Delivered
    );
    assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 1);

    let deliveries = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), &[a.key_header()])
        .await;
    assert_eq!(deliveries.status, StatusCode::OK, "{}", deliveries.text);
    let attempt = &deliveries.json()["data"][0];
    assert_eq!(attempt["status_code"], 200);
    assert_eq!(attempt["response"], "thanks");
    assert_eq!(attempt["event"], "webhook.test");

    let queue = app
        .get("/v1/sync/queue?status=delivered", &[a.key_header()])
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    let job = &queue.json()["data"][0];
    assert_eq!(job["id"], jobs[0].as_str());
    assert_eq!(job["attempts"], 1);
    assert!(
        job.get("payload").is_none(),
        "the queue shows the job, not its body"
    );
    let none_dead = app
        .get("/v1/sync/queue?status=dead", &[a.key_header()])
        .await;
    assert_eq!(none_dead.json()["data"], json!([]));
    let again = app
        .post(
            &format!("/v1/sync/retry/{}", jobs[0]),
            &[a.key_header()],
            json!({}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a delivered job has nothing to retry"
    );

    // Org B sees none of it and cannot touch it.
    let theirs = app.get("/v1/sync/queue", &[b.key_header()]).await;
    assert_eq!(theirs.json()["data"], json!([]));
    for (method, path) in [
        (Method::POST, format!("/v1/sync/retry/{}", jobs[0])),
        (Method::POST, format!("/v1/webhooks/{id}/test")),
        (Method::GET, format!("/v1/webhooks/{id}/deliveries")),
    ] {
        let answer = app
            .call(method.clone(), &path, &[b.key_header()], Some(json!({})))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            answer.text
        );
    }
    let unknown = app
        .post(
            "/v1/sync/retry/job_01JD8Z2X4Q7V3N5K9M2B6C8D0E",
            &[a.key_header()],
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
