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
