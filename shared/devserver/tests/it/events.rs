//! Every change writes exactly one event in its own transaction; a refused change
//! writes none.

use http::{Method, StatusCode};
use relinx_model::ActorKind;
use relinx_testkit::{TestApp, events_of};
use serde_json::json;

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

#[tokio::test]
async fn each_create_update_delete_writes_exactly_one_event() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let names = |events: &[relinx_model::Event]| {
        events.iter().map(|e| e.event.as_str()).collect::<Vec<_>>()
    };
    assert_eq!(
        names(&events_of(&t.org_id).await),
        ["org.created"],
        "signup is one change"
    );

    let created = app
        .post("/v1/workspaces", &h, json!({"name": "staging"}))
        .await;
    let ws_id = created.json()["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/workspaces/{ws_id}");
    let updated = app
        .call(Method::PUT, &path, &h, Some(json!({"name": "staging-2"})))
        .await;
    let deleted = app.call(Method::DELETE, &path, &h, None).await;
    let key = app.post("/v1/api-keys", &h, json!({"name": "ci"})).await;
    let key_id = key.json()["id"].as_str().expect("id").to_owned();
    let rotated = app
        .post(&format!("/v1/api-keys/{key_id}/rotate"), &h, json!({}))
        .await;
    let revoked = app
        .call(Method::DELETE, &format!("/v1/api-keys/{key_id}"), &h, None)
        .await;
    for response in [&created, &updated, &deleted, &key, &rotated, &revoked] {
        assert!(response.status.is_success(), "{}", response.text);
    }

    let events = events_of(&t.org_id).await;
    assert_eq!(
        names(&events),
        [
            "org.created",
            "workspace.created",
            "workspace.updated",
            "workspace.deleted",
            "api_key.created",
            "api_key.rotated",
            "api_key.deleted"
        ]
    );
    let ws_created = &events[1];
    assert_eq!(ws_created.resource.kind, "workspace");
    assert_eq!(ws_created.resource.id, ws_id);
    assert_eq!(ws_created.actor.kind, ActorKind::User);
    assert_eq!(ws_created.actor.id, t.user_id);
    assert_eq!(
        ws_created.request_id.as_deref(),
        created.header("x-request-id")
    );
    assert_eq!(ws_created.data["name"], "staging");
    assert!(ws_created.id.as_str().starts_with("evt_"));
    assert!(
        events.windows(2).all(|w| w[0].id < w[1].id),
        "ids are time-ordered"
    );
    // Nothing in an event reveals a key's secret.
    let key_secret = key.json()["key"]
        .as_str()
        .expect("key")
        .split_once('.')
        .map(|(_, s)| s.to_owned())
        .expect("secret");
    assert!(!format!("{events:?}").contains(&key_secret));

    // Reads write nothing.
    app.get("/v1/workspaces", &h).await;
    app.get("/v1/api-keys", &h).await;
    assert_eq!(events_of(&t.org_id).await.len(), events.len());
}

#[tokio::test]
async fn a_refused_change_writes_no_event() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    assert_eq!(
        app.post("/v1/workspaces", &h, json!({"name": "taken"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let other = app
        .post("/v1/workspaces", &h, json!({"name": "other"}))
        .await
        .json();
    let before = events_of(&t.org_id).await.len();

    let duplicate = app
        .post("/v1/workspaces", &h, json!({"name": "Taken"}))
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let rename_clash = app
        .call(
            Method::PUT,
            &format!("/v1/workspaces/{}", other["id"].as_str().expect("id")),
            &h,
            Some(json!({"name": "taken"})),
        )
        .await;
    assert_eq!(
        rename_clash.status,
        StatusCode::CONFLICT,
        "{}",
        rename_clash.text
    );
    let bad_scope = app
        .post(
            "/v1/api-keys",
            &h,
            json!({"name": "x", "workspace_id": "ws_01HZZZZZZZZZZZZZZZZZZZZZZZ"}),
        )
        .await;
    assert_eq!(bad_scope.status, StatusCode::BAD_REQUEST);

    assert_eq!(
        events_of(&t.org_id).await.len(),
        before,
        "no change, no event"
    );
    // The clash left the workspace as it was, old name guard included.
    let still = app.get("/api/workspaces/other", &h).await;
    assert_eq!(still.status, StatusCode::OK);
}
