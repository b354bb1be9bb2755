//! The audit log (seed 002 "Audit"): every change's event, newest first, filtered,
//! paged, and never another org's.

use http::StatusCode;
use relinx_testkit::TestApp;
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_audit_log_lists_every_change_newest_first_with_filters() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let record = app
        .post("/v1/records", &h, json!({"title": "audited"}))
        .await
        .json();
    let id = record["id"].as_str().unwrap();
    app.call(
        http::Method::PATCH,
        &format!("/v1/records/{id}"),
        &h,
        Some(json!({"status": "synced", "causal": record["causal"]})),
    )
    .await;
    app.post("/v1/workspaces", &h, json!({"name": "second"}))
        .await;

    let all = app.get("/v1/audit", &h).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(
        names(&all.json()),
        [
            "workspace.created",
            "record.synced",
            "record.created",
            "org.created"
        ],
        "newest first"
    );
    let entry = &all.json()["data"][1];
    assert!(entry["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(entry["actor"]["id"], t.user_id.as_str());
    assert_eq!(entry["resource"], json!({"type": "record", "id": id}));

    let by_resource = app
        .get(&format!("/v1/audit?resource={id}"), &h)
        .await
        .json();
    assert_eq!(names(&by_resource), ["record.synced", "record.created"]);
    let by_type = app.get("/v1/audit?resource=workspace", &h).await.json();
    assert_eq!(names(&by_type), ["workspace.created"]);
    let by_action = app.get("/v1/audit?action=record.created", &h).await.json();
    assert_eq!(names(&by_action), ["record.created"]);
    let by_actor = app
        .get(&format!("/v1/audit?actor={}", t.user_id), &h)
        .await
        .json();
    assert_eq!(by_actor["data"].as_array().unwrap().len(), 4);
    let created_id = all.json()["data"][2]["id"].as_str().unwrap().to_owned();
    let since = app
        .get(&format!("/v1/audit?since={created_id}"), &h)
        .await
        .json();
    assert_eq!(names(&since), ["workspace.created", "record.synced"]);

    // Paged one at a time: the same entries, once each.
    let mut paged = Vec::new();
    let mut path = "/v1/audit?limit=1".to_owned();
    loop {
        let page = app.get(&path, &h).await.json();
        paged.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/audit?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, names(&all.json()));
}

#[tokio::test]
async fn the_audit_log_is_the_callers_own_and_refuses_bad_filters() {
    let app = app().await;
    let (a, b) = (app.tenant().await, app.tenant().await);
    app.post("/v1/records", &[a.key_header()], json!({"title": "a's"}))
        .await;
    let theirs = app.get("/v1/audit", &[b.key_header()]).await.json();
    assert_eq!(names(&theirs), ["org.created"], "b sees only its own log");
    let a_entry = app.get("/v1/audit", &[a.key_header()]).await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let crossed = app
        .get(&format!("/v1/audit?cursor={a_entry}"), &[b.key_header()])
        .await
        .json();
    assert!(
        crossed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["org"] == b.org_id.as_str()),
        "a cursor only positions within the caller's own log"
    );
    for bad in [
        "/v1/audit?action=record.exploded",
        "/v1/audit?since=yesterday",
        "/v1/audit?cursor=nope",
        "/v1/audit?limit=0",
        "/v1/audit?colour=red",
    ] {
        let answer = app.get(bad, &[a.key_header()]).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            answer.text
        );
    }
    let anonymous = app.get("/v1/audit", &[]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
