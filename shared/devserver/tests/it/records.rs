//! RelaySync records and policies as a client uses them (seed 002): the seed's own
//! examples, causal tokens under concurrency, tombstones, the change feed paged
//! while records change, cursors that cannot cross orgs, sync policies.

use futures::future::join_all;
use http::{Method, StatusCode};
use relinx_records::RecordSettings;
use relinx_testkit::{Tenant, TestApp, TestResponse, owner_context};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// The settle time these tests run with (production: 1 s).
const SETTLE: Duration = Duration::from_millis(150);

async fn app() -> TestApp {
    let app = TestApp::new(relinx_devserver::app).await;
    relinx_records::configure(
        &app.platform.store,
        RecordSettings {
            feed_settle: SETTLE,
            ..RecordSettings::default()
        },
    );
    app
}

/// A tenant whose rate limit is out of the way of a test that sends hundreds of requests.
async fn busy_tenant(app: &TestApp) -> Tenant {
    let t = app.tenant().await;
    relinx_identity::orgs::set_limits_override(
        &app.platform.store,
        &owner_context(&t),
        relinx_model::LimitsOverride {
            rate_per_minute: Some(100_000),
            burst: Some(100_000),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    t
}

async fn create(app: &TestApp, t: &Tenant, body: Value) -> Value {
    let created = app.post("/v1/records", &[t.key_header()], body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.json()
}

async fn patch(app: &TestApp, t: &Tenant, id: &str, body: Value) -> TestResponse {
    app.call(
        Method::PATCH,
        &format!("/v1/records/{id}"),
        &[t.key_header()],
        Some(body),
    )
    .await
}

async fn delete(app: &TestApp, t: &Tenant, id: &str, causal: &str) -> TestResponse {
    app.call(
        Method::DELETE,
        &format!("/v1/records/{id}"),
        &[t.key_header(), ("if-match", format!("\"{causal}\""))],
        None,
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_seeds_examples_work_as_written() {
    let app = app().await;
    let t = app.tenant().await;
    let h = t.key_header();
    let body = json!({"title": "Pressure check", "type": "inspection", "site": "alpha"});
    let key = ("idempotency-key", format!("2f3a-{}", t.org_id));
    let created = app
        .post("/v1/records", &[h.clone(), key.clone()], body.clone())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let record = created.json();
    assert!(record["id"].as_str().unwrap().starts_with("rec_"));
    assert_eq!(record["status"], "queued");
    assert_eq!(record["queue"], "default");
    assert_eq!(record["deleted"], false);
    let causal = record["causal"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("etag"),
        Some(format!("\"{causal}\"").as_str())
    );
    // Offline replay: the same key answers the same record, written once.
    let replayed = app.post("/v1/records", &[h.clone(), key], body).await;
    assert_eq!(replayed.status, StatusCode::CREATED);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.json()["id"], record["id"]);

    let listed = app
        .get(
            "/v1/records?status=queued&limit=50",
            std::slice::from_ref(&h),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(ids(&listed.json()), vec![record["id"].as_str().unwrap()]);
    assert_eq!(listed.json()["has_more"], false);

    let id = record["id"].as_str().unwrap();
    let synced = patch(&app, &t, id, json!({"status": "synced", "causal": causal})).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    let synced = synced.json();
    assert_eq!(synced["status"], "synced");
    assert_ne!(synced["causal"], json!(causal));
    assert_eq!(synced["title"], "Pressure check", "absent fields stay");

    let deleted = delete(&app, &t, id, synced["causal"].as_str().unwrap()).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(deleted.json()["deleted"], true);
    assert!(deleted.json()["deleted_at"].is_string());

    // Lists hide the tombstone unless asked; GET still shows it, deleted.
    let listed = app.get("/v1/records", std::slice::from_ref(&h)).await;
    assert!(ids(&listed.json()).is_empty(), "{}", listed.text);
    let all = app
        .get("/v1/records?include_deleted=true", std::slice::from_ref(&h))
        .await;
    assert_eq!(ids(&all.json()), vec![id]);
    let got = app
        .get(&format!("/v1/records/{id}"), std::slice::from_ref(&h))
        .await;
    assert_eq!(got.json()["deleted"], true);

    let names: Vec<String> = relinx_testkit::events_of(&t.org_id)
        .await
        .iter()
        .map(|e| e.event.as_str().to_owned())
        .filter(|e| e.starts_with("record."))
        .collect();
    assert_eq!(
        names,
        ["record.created", "record.synced", "record.deleted"],
        "one event per write, the status change to synced named so"
    );
}

#[tokio::test]
async fn a_write_without_the_current_causal_token_is_refused() {
    let app = app().await;
    let t = app.tenant().await;
    let record = create(&app, &t, json!({"title": "Valve"})).await;
    let id = record["id"].as_str().unwrap();

    let missing = patch(&app, &t, id, json!({"title": "Valve 2"})).await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(missing.json()["error_code"], "CAUSAL_REQUIRED");

    let first = patch(
        &app,
        &t,
        id,
        json!({"title": "Valve 2", "causal": record["causal"]}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    // The old token again: 409 with the record as it now is, and an event.
    let stale = patch(
        &app,
        &t,
        id,
        json!({"title": "Valve 3", "causal": record["causal"]}),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    let body = stale.json();
    assert_eq!(body["error_code"], "CAUSAL_CONFLICT");
    assert_eq!(body["current"]["title"], "Valve 2");
    assert_eq!(body["current"]["causal"], first.json()["causal"]);
    let stale_delete = delete(&app, &t, id, record["causal"].as_str().unwrap()).await;
    assert_eq!(stale_delete.status, StatusCode::CONFLICT);
    let conflicts = relinx_testkit::events_of(&t.org_id)
        .await
        .iter()
        .filter(|e| e.event.as_str() == "record.conflict")
        .count();
    assert_eq!(conflicts, 2);

    // Seed 002's `curl -X DELETE …/v1/records/rec_1011`: no token, deleted as it is.
    let seed_delete = app
        .call(
            Method::DELETE,
            &format!("/v1/records/{id}"),
            &[t.key_header()],
            None,
        )
        .await;
    assert_eq!(seed_delete.status, StatusCode::OK, "{}", seed_delete.text);
    assert_eq!(seed_delete.json()["deleted"], true);
    assert!(seed_delete.json()["deleted_at"].is_string());
    let again = app
        .call(
            Method::DELETE,
            &format!("/v1/records/{id}"),
            &[t.key_header()],
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
}

#[tokio::test]
async fn fifty_concurrent_patches_with_one_token_make_one_change() {
    let app = app().await;
    let t = busy_tenant(&app).await;
    let record = create(&app, &t, json!({"title": "Meter"})).await;
    let id = record["id"].as_str().unwrap();
    let causal = record["causal"].clone();
    let answers = join_all((0..50).map(|n| {
        let (app, t, causal) = (app.clone(), t.clone(), causal.clone());
        async move {
            patch(
                &app,
                &t,
                id,
                json!({"title": format!("Meter {n}"), "causal": causal}),
            )
            .await
            .status
        }
    }))
    .await;
    let ok = answers.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = answers
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (1, 49), "{answers:?}");
}

/// Pages `path` (a list or the feed) with limit 7 until it reports no more.
async fn page_through(app: &TestApp, t: &Tenant, first: &str, cursor_param: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut path = first.to_owned();
    loop {
        let page = app.get(&path, &[t.key_header()]).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        let page = page.json();
        seen.extend(page["data"].as_array().unwrap().iter().cloned());
        if page["has_more"] != true {
            return seen;
        }
        let cursor = page["next_cursor"].as_str().unwrap();
        path = format!("{}&{cursor_param}={cursor}", first);
    }
}

#[tokio::test]
async fn the_feed_and_the_list_page_every_change_once_while_records_change() {
    let app = app().await;
    let t = busy_tenant(&app).await;
    let mut records = Vec::new();
    for chunk in 0..10 {
        let made =
            join_all((0..10).map(|n| create(&app, &t, json!({"title": format!("r{chunk}-{n}")}))))
                .await;
        records.extend(made);
    }
    tokio::time::sleep(SETTLE * 2).await;

    // Page the feed and the list with limit 7 while 30 records change and 20 go.
    let writer = {
        let (app, t, records) = (app.clone(), t.clone(), records.clone());
        tokio::spawn(async move {
            for r in &records[..30] {
                let id = r["id"].as_str().unwrap();
                let answer = patch(
                    &app,
                    &t,
                    id,
                    json!({"status": "synced", "causal": r["causal"]}),
                )
                .await;
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            }
            for r in &records[30..50] {
                let answer = delete(
                    &app,
                    &t,
                    r["id"].as_str().unwrap(),
                    r["causal"].as_str().unwrap(),
                )
                .await;
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            }
        })
    };
    let mut feed = Vec::new();
    let mut since: Option<String> = None;
    let mut list_during = Vec::new();
    let mut list_cursor: Option<String> = None;
    let mut list_done = false;
    loop {
        let path = match &since {
            Some(c) => format!("/v1/records/changes?limit=7&since={c}"),
            None => "/v1/records/changes?limit=7".to_owned(),
        };
        let page = app.get(&path, &[t.key_header()]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let page = page.json();
        feed.extend(page["data"].as_array().unwrap().iter().cloned());
        since = Some(page["next_cursor"].as_str().unwrap().to_owned());
        if !list_done {
            let path = match &list_cursor {
                Some(c) => format!("/v1/records?limit=7&cursor={c}"),
                None => "/v1/records?limit=7".to_owned(),
            };
            let list = app.get(&path, &[t.key_header()]).await.json();
            list_during.extend(list["data"].as_array().unwrap().iter().cloned());
            list_cursor = list["next_cursor"].as_str().map(str::to_owned);
            list_done = list_cursor.is_none();
        }
        if writer.is_finished() && page["has_more"] == false && list_done {
            break;
        }
    }
    writer.await.unwrap();
    // Whatever committed before the writer finished is listed after the settle time.
    tokio::time::sleep(SETTLE * 2).await;
    loop {
        let path = format!(
            "/v1/records/changes?limit=7&since={}",
            since.as_deref().unwrap()
        );
        let page = app.get(&path, &[t.key_header()]).await.json();
        feed.extend(page["data"].as_array().unwrap().iter().cloned());
        since = Some(page["next_cursor"].as_str().unwrap().to_owned());
        if page["has_more"] == false {
            break;
        }
    }

    // Every change exactly once, in the order of the writes.
    let causals: Vec<&str> = feed
        .iter()
        .map(|c| c["record"]["causal"].as_str().unwrap())
        .collect();
    assert_eq!(causals.len(), 150, "100 creates, 30 updates, 20 deletes");
    assert_eq!(
        causals.iter().collect::<HashSet<_>>().len(),
        150,
        "no repeats"
    );
    assert!(causals.windows(2).all(|w| w[0] < w[1]), "in write order");
    let kinds: HashMap<&str, usize> = feed.iter().fold(HashMap::new(), |mut m, c| {
        *m.entry(c["change"].as_str().unwrap()).or_default() += 1;
        m
    });
    assert_eq!(
        kinds,
        HashMap::from([("created", 100), ("updated", 30), ("deleted", 20)])
    );

    // The list paged meanwhile: each record at most once, in id order.
    let listed: Vec<&str> = list_during
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.iter().collect::<HashSet<_>>().len(), listed.len());
    assert!(listed.windows(2).all(|w| w[0] < w[1]));
    // Paged again: the 80 live records, no tombstone.
    let live = page_through(&app, &t, "/v1/records?limit=7", "cursor").await;
    assert_eq!(live.len(), 80);
    assert!(live.iter().all(|r| r["deleted"] == false));
    let synced = page_through(&app, &t, "/v1/records?limit=7&status=synced", "cursor").await;
    assert_eq!(synced.len(), 30);
}

#[tokio::test]
async fn cursors_and_ids_do_not_cross_orgs() {
    let app = app().await;
    let (a, b) = (app.tenant().await, app.tenant().await);
    for n in 0..3 {
        create(&app, &a, json!({"title": format!("a{n}")})).await;
    }
    let theirs = create(&app, &b, json!({"title": "b"})).await;
    let page = app
        .get("/v1/records?limit=1", &[a.key_header()])
        .await
        .json();
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let feed = app
        .get("/v1/records/changes", &[a.key_header()])
        .await
        .json();
    let since = feed["next_cursor"].as_str().unwrap().to_owned();

    for path in [
        format!("/v1/records?limit=1&cursor={cursor}"),
        format!("/v1/records/changes?since={since}"),
    ] {
        let answer = app.get(&path, &[b.key_header()]).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.text
        );
    }
    let mut tampered = cursor.clone();
    tampered.replace_range(10..11, if &cursor[10..11] == "A" { "B" } else { "A" });
    for path in [
        format!("/v1/records?limit=1&cursor={tampered}"),
        format!("/v1/records?limit=1&status=queued&cursor={cursor}"),
        "/v1/records/changes?since=not-a-cursor".to_owned(),
    ] {
        let answer = app.get(&path, &[a.key_header()]).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.text
        );
        assert_eq!(answer.json()["error_code"], "VALIDATION_FAILED");
    }

    let id = theirs["id"].as_str().unwrap();
    let get = app
        .get(&format!("/v1/records/{id}"), &[a.key_header()])
        .await;
    let patched = patch(
        &app,
        &a,
        id,
        json!({"title": "x", "causal": theirs["causal"]}),
    )
    .await;
    let deleted = delete(&app, &a, id, theirs["causal"].as_str().unwrap()).await;
    for answer in [get, patched, deleted] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
        assert_eq!(answer.json()["error_code"], "RECORD_NOT_FOUND");
    }
}

#[tokio::test]
async fn a_feed_cursor_older_than_the_retention_is_gone() {
    let app = TestApp::new(relinx_devserver::app).await;
    relinx_records::configure(
        &app.platform.store,
        RecordSettings {
            retention: Duration::from_millis(300),
            feed_settle: Duration::ZERO,
        },
    );
    let t = app.tenant().await;
    create(&app, &t, json!({"title": "old"})).await;
    let feed = app
        .get("/v1/records/changes", &[t.key_header()])
        .await
        .json();
    assert_eq!(feed["data"].as_array().unwrap().len(), 1);
    let since = feed["next_cursor"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let gone = app
        .get(
            &format!("/v1/records/changes?since={since}"),
            &[t.key_header()],
        )
        .await;
    assert_eq!(gone.status, StatusCode::GONE, "{}", gone.text);
    assert_eq!(gone.json()["error_code"], "CURSOR_EXPIRED");
    assert!(gone.json()["message"].as_str().unwrap().contains("resync"));
}

#[tokio::test]
async fn policies_route_records_to_queues() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let policy = json!({"name": "defer_media", "when": "size>5120", "then": "queue=wifi"});
    let saved = app.post("/v1/policies", &h, policy.clone()).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    let again = app.post("/v1/policies", &h, policy).await;
    assert_eq!(again.status, StatusCode::OK, "replaced by name");
    let listed = app.get("/v1/policies", &h).await.json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    let big = create(
        &app,
        &t,
        json!({"title": "photo", "data": {"blob": "x".repeat(6 * 1024)}}),
    )
    .await;
    assert_eq!(big["queue"], "wifi");
    let small = create(&app, &t, json!({"title": "note"})).await;
    assert_eq!(small["queue"], "default");
    let by_queue = app.get("/v1/records?queue=wifi", &h).await.json();
    assert_eq!(ids(&by_queue), vec![big["id"].as_str().unwrap()]);

    let bad = app
        .post(
            "/v1/policies",
            &h,
            json!({"name": "broken", "when": "size >", "then": "queue=wifi"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error_code"], "INVALID_EXPRESSION");
    let message = bad.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("when: at column 7"), "{message}");
    let bad_then = app
        .post(
            "/v1/policies",
            &h,
            json!({"name": "broken", "when": "size > 1", "then": "colour=red"}),
        )
        .await;
    assert_eq!(bad_then.json()["error_code"], "INVALID_EXPRESSION");

    let gone = app
        .call(Method::DELETE, "/v1/policies/defer_media", &h, None)
        .await;
    assert_eq!(gone.status, StatusCode::OK);
    let again = app
        .call(Method::DELETE, "/v1/policies/defer_media", &h, None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let after = create(
        &app,
        &t,
        json!({"title": "photo", "data": {"blob": "x".repeat(6 * 1024)}}),
    )
    .await;
    assert_eq!(
        after["queue"], "default",
        "this instance dropped its cached policies"
    );
}

#[tokio::test]
async fn bad_records_get_an_error_naming_the_field() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let cases = [
        (
            json!({"title": "big", "data": {"blob": "x".repeat(200 * 1024)}}),
            "data",
        ),
        (json!({"title": ""}), "title"),
        (json!({"title": "t", "status": "lost"}), "status"),
        (json!({"title": "t", "colour": "red"}), "colour"),
        (json!({"type": "inspection"}), "title"),
        // One line, as type and site are.
        (json!({"title": "a\u{0}b"}), "title"),
        (json!({"title": "first\r\nSecond-Header: x"}), "title"),
        (json!({"title": "t", "type": "a\u{0}b"}), "type"),
    ];
    for (body, field) in cases {
        let answer = app.post("/v1/records", &h, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        let message = answer.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(field), "{field}: {message}");
    }
    let unknown = app.get("/v1/records/rec_nope", &h).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let bad_time = app.get("/v1/records?updated_since=yesterday", &h).await;
    assert_eq!(bad_time.status, StatusCode::BAD_REQUEST);
    let bad_limit = app.get("/v1/records/changes?limit=0", &h).await;
    assert_eq!(bad_limit.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn read_only_workspaces_and_viewers_cannot_write_records() {
    let app = app().await;
    let t = app.tenant().await;
    let viewer = crate::support::key_with_role(&app, &t, "viewer").await;
    let listed = app.get("/v1/records", std::slice::from_ref(&viewer)).await;
    assert_eq!(listed.status, StatusCode::OK);
    let refused = app
        .post("/v1/records", &[viewer], json!({"title": "no"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let ro = app
        .post(
            "/v1/workspaces",
            &[t.key_header()],
            json!({"name": "archive", "read_only": true}),
        )
        .await
        .json();
    let in_ro = app
        .post(
            "/v1/records",
            &[
                t.key_header(),
                ("workspaceid", ro["id"].as_str().unwrap().to_owned()),
            ],
            json!({"title": "no"}),
        )
        .await;
    assert_eq!(in_ro.status, StatusCode::FORBIDDEN, "{}", in_ro.text);
    assert_eq!(in_ro.json()["error_code"], "WORKSPACE_READ_ONLY");
}

#[tokio::test]
async fn records_updated_since_come_from_the_change_index() {
    let app = app().await;
    let t = app.tenant().await;
    let first = create(&app, &t, json!({"title": "first"})).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mark = relinx_model::Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = create(&app, &t, json!({"title": "second"})).await;
    let since = format!("/v1/records?updated_since={mark}");
    let listed = app.get(&since, &[t.key_header()]).await;
    assert_eq!(
        ids(&listed.json()),
        vec![second["id"].as_str().unwrap()],
        "{}",
        listed.text
    );
    let touched = patch(
        &app,
        &t,
        first["id"].as_str().unwrap(),
        json!({"site": "beta", "causal": first["causal"]}),
    )
    .await;
    assert_eq!(touched.status, StatusCode::OK);
    let listed = app.get(&since, &[t.key_header()]).await;
    assert_eq!(ids(&listed.json()).len(), 2);
}

#[tokio::test]
async fn an_upload_batch_answers_every_operation_and_replays_without_writing_twice() {
    let app = app().await;
    let t = app.tenant().await;
    let existing = create(&app, &t, json!({"title": "existing"})).await;
    let stale = create(&app, &t, json!({"title": "stale"})).await;
    let moved_on = patch(
        &app,
        &t,
        stale["id"].as_str().unwrap(),
        json!({"title": "moved on", "causal": stale["causal"]}),
    )
    .await;
    assert_eq!(moved_on.status, StatusCode::OK);
    let doomed = create(&app, &t, json!({"title": "doomed"})).await;

    let mut operations: Vec<Value> = (0..14)
        .map(|n| json!({"op_id": format!("op-create-{n}"), "op": "create", "body": {"title": format!("offline {n}"), "site": "alpha"}}))
        .collect();
    operations.push(json!({"op_id": "op-patch", "op": "patch", "id": existing["id"], "causal": existing["causal"], "body": {"status": "synced"}}));
    operations.push(json!({"op_id": "op-stale", "op": "patch", "id": stale["id"], "body": {"title": "mine", "causal": stale["causal"]}}));
    operations.push(
        json!({"op_id": "op-invalid", "op": "create", "body": {"title": "x", "colour": "red"}}),
    );
    operations.push(
        json!({"op_id": "op-create-3", "op": "create", "body": {"title": "offline 3 again"}}),
    );
    operations.push(json!({"op_id": "op-delete", "op": "delete", "id": doomed["id"], "causal": doomed["causal"]}));
    operations.push(json!({"op_id": "op-move", "op": "move", "id": doomed["id"]}));
    let batch = json!({"operations": operations});

    let expected: Vec<&str> = std::iter::repeat_n("applied", 14)
        .chain([
            "applied",
            "conflict",
            "rejected",
            "duplicate",
            "applied",
            "rejected",
        ])
        .collect();
    let first = app
        .post("/v1/records/batch", &[t.key_header()], batch.clone())
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let results = first.json()["results"].as_array().unwrap().clone();
    let verdicts: Vec<&str> = results
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, expected, "{}", first.text);
    let op_ids: Vec<&str> = results
        .iter()
        .map(|r| r["op_id"].as_str().unwrap())
        .collect();
    let sent: Vec<&str> = operations
        .iter()
        .map(|o| o["op_id"].as_str().unwrap())
        .collect();
    assert_eq!(op_ids, sent, "one verdict per operation, in order");
    assert_eq!(
        results[15]["record"]["title"], "moved on",
        "a conflict carries the current record"
    );
    assert_eq!(results[15]["error"]["error_code"], "CAUSAL_CONFLICT");
    assert_eq!(results[16]["error"]["status"], 400);
    assert!(
        results[16]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    assert_eq!(
        results[17]["record"]["id"], results[3]["record"]["id"],
        "the repeat answers the first result"
    );
    assert_eq!(results[18]["record"]["deleted"], true);

    // The queue replayed (the client never saw the answer): nothing is written twice.
    let events_before = relinx_testkit::events_of(&t.org_id).await.len();
    let second = app
        .post("/v1/records/batch", &[t.key_header()], batch)
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let again = second.json()["results"].as_array().unwrap().clone();
    for (i, (was, now)) in results.iter().zip(&again).enumerate() {
        match was["verdict"].as_str().unwrap() {
            "applied" | "duplicate" => {
                assert_eq!(now["verdict"], "duplicate", "op {i}: {now}");
                assert_eq!(now["record"], was["record"], "op {i}: the stored result");
            }
            other => assert_eq!(now["verdict"], other, "op {i}: {now}"),
        }
    }
    let events_after = relinx_testkit::events_of(&t.org_id).await;
    assert_eq!(
        events_after.len(),
        events_before + 1,
        "only the stale patch's record.conflict again: {:?}",
        events_after.last().map(|e| e.event.as_str())
    );
    let live = page_through(&app, &t, "/v1/records?limit=50&site=alpha", "cursor").await;
    assert_eq!(live.len(), 14, "each offline create once");

    let empty = app
        .post(
            "/v1/records/batch",
            &[t.key_header()],
            json!({"operations": []}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let too_many: Vec<Value> = (0..101)
        .map(|n| json!({"op_id": n.to_string(), "op": "delete"}))
        .collect();
    let refused = app
        .post(
            "/v1/records/batch",
            &[t.key_header()],
            json!({"operations": too_many}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn reading_the_feed_records_the_readers_last_sync() {
    let app = app().await;
    let t = app.tenant().await;
    let account = app
        .post(
            "/api/service-accounts",
            &[t.key_header()],
            json!({"name": "field-app", "role": "operator"}),
        )
        .await
        .json();
    let sa_id = account["data"]["id"].as_str().unwrap().to_owned();
    let key = app
        .post(
            &format!("/api/service-accounts/{sa_id}/keys"),
            &[t.key_header()],
            json!({}),
        )
        .await
        .json();
    let sa_key = ("x-api-key", key["data"]["key"].as_str().unwrap().to_owned());

    let users = app.get("/v1/users", &[t.key_header()]).await.json();
    assert!(users["data"][0]["last_sync_at"].is_null(), "{users}");
    for h in [t.key_header(), sa_key] {
        let feed = app.get("/v1/records/changes", &[h]).await;
        assert_eq!(feed.status, StatusCode::OK, "{}", feed.text);
    }
    // Written off the request's path: give it a moment.
    let mut synced = (false, false);
    for _ in 0..50 {
        let users = app.get("/v1/users", &[t.key_header()]).await.json();
        let accounts = app
            .get("/api/service-accounts", &[t.key_header()])
            .await
            .json();
        synced = (
            users["data"][0]["last_sync_at"].is_string(),
            accounts["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == sa_id.as_str() && a["last_sync_at"].is_string()),
        );
        if synced == (true, true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(synced, (true, true), "member, service account");
}

/// A second instance (its own Store, its own caches) on the same tables.
async fn instance(cache: relinx_ddb::CacheSettings) -> TestApp {
    let app = TestApp::with(
        relinx_devserver::app,
        cache,
        relinx_testkit::open_settings(),
    )
    .await;
    relinx_records::configure(
        &app.platform.store,
        RecordSettings {
            feed_settle: SETTLE,
            ..RecordSettings::default()
        },
    );
    app
}

#[tokio::test]
async fn two_instances_share_one_causal_order_and_see_policies_within_the_cache_bound() {
    let cache = relinx_ddb::CacheSettings {
        org_ttl: Duration::from_millis(300),
        ..relinx_ddb::CacheSettings::default()
    };
    let (a, b) = (instance(cache).await, instance(cache).await);
    let t = busy_tenant(&a).await;
    let record = create(&b, &t, json!({"title": "shared"})).await;
    let id = record["id"].as_str().unwrap();
    // Concurrent writers with one token through both instances: one wins.
    let answers = join_all((0..20).map(|n| {
        let (app, t, causal) = (
            if n % 2 == 0 { a.clone() } else { b.clone() },
            t.clone(),
            record["causal"].clone(),
        );
        async move {
            patch(
                &app,
                &t,
                id,
                json!({"title": format!("v{n}"), "causal": causal}),
            )
            .await
            .status
        }
    }))
    .await;
    let ok = answers.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{answers:?}");

    // B has the org's (empty) policies cached; A saves one.
    let saved = a
        .post(
            "/v1/policies",
            &[t.key_header()],
            json!({"name": "media", "when": "data.kind == \"photo\"", "then": "queue=wifi; priority=low"}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::CREATED);
    let on_a = create(&a, &t, json!({"title": "p", "data": {"kind": "photo"}})).await;
    assert_eq!(
        (on_a["queue"].as_str(), on_a["priority"].as_str()),
        (Some("wifi"), Some("low"))
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let on_b = create(&b, &t, json!({"title": "p", "data": {"kind": "photo"}})).await;
    assert_eq!(
        on_b["queue"], "wifi",
        "B applies it once its cache entry expires"
    );

    // The feed through either instance lists both instances' writes in one order.
    tokio::time::sleep(SETTLE * 2).await;
    let via_a = page_through(&a, &t, "/v1/records/changes?limit=3", "since").await;
    let via_b = page_through(&b, &t, "/v1/records/changes?limit=3", "since").await;
    assert_eq!(via_a, via_b);
    assert_eq!(via_a.len(), 4, "1 create, 1 update, 2 creates");
}

/// The rules live in the domain: the API, an upload batch and a direct call of the
/// domain's constructor refuse a 501-character title the same way.
#[tokio::test]
async fn a_title_too_long_is_the_same_400_whichever_way_it_comes() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let title = "x".repeat(501);
    let created = app.post("/v1/records", &h, json!({"title": title})).await;
    assert_eq!(created.status, StatusCode::BAD_REQUEST, "{}", created.text);
    let message = created.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("title"), "{message}");

    let batch = app
        .post(
            "/v1/records/batch",
            &h,
            json!({"operations": [{"op_id": "long-1", "op": "create", "body": {"title": title}}]}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.text);
    let result = &batch.json()["results"][0];
    assert_eq!(result["verdict"], "rejected", "{result}");
    assert_eq!(result["error"]["status"], 400);
    assert_eq!(result["error"]["message"], message.as_str());

    let direct = relinx_records::NewRecord::new(&title, "", "", None, Default::default())
        .expect_err("the domain refuses it");
    let direct = relinx_http::ApiError::from(relinx_ddb::StoreError::Invalid(direct));
    assert_eq!(direct.status, StatusCode::BAD_REQUEST);
    assert_eq!(direct.message, message);
}
