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
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_audit_log_lists_every_change_newest_first_with_filters() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let owner = app.as_tenant(&t);
    let record = owner
        .post("/v1/records", json!({"title": "audited"}))
        .await
        .expect(StatusCode::CREATED);
    let id = record["id"].as_str().unwrap();
    owner
        .patch(
            &format!("/v1/records/{id}"),
            json!({"status": "synced", "causal": record["causal"]}),
        )
        .await
        .expect(StatusCode::OK);
    owner
        .post("/v1/workspaces", json!({"name": "second"}))
        .await
        .expect(StatusCode::CREATED);

    let all = owner.get("/v1/audit").await;
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

/// The platform on a real listener, for reading a streamed response as it arrives.
async fn listening(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    format!("http://{addr}")
}

/// One Server-Sent Event: its id, name and data.
#[derive(Debug, Clone, PartialEq)]
struct Frame {
    id: String,
    event: String,
    data: Value,
}

/// Reads `response` until `want` events arrived (or the stream ends), with when each came.
async fn frames(response: &mut reqwest::Response, want: usize) -> Vec<(Frame, std::time::Instant)> {
    let mut buffer = String::new();
    let mut seen = Vec::new();
    while seen.len() < want {
        let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(std::time::Duration::from_secs(10), response.chunk()).await
        else {
            break;
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix(&format!("{name}: "))
                            .or_else(|| l.strip_prefix(&format!("{name}:")))
                    })
                    .map(str::to_owned)
            };
            if let (Some(id), Some(event), Some(data)) =
                (field("id"), field("event"), field("data"))
            {
                let data = serde_json::from_str(&data).unwrap();
                seen.push((Frame { id, event, data }, std::time::Instant::now()));
            }
        }
    }
    seen
}

async fn open_stream(base: &str, key: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!("{base}/v1/audit/stream?max_seconds=8"))
        .header("authorization", format!("ApiKey {key}"));
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    response
}

#[tokio::test]
async fn the_live_stream_shows_new_entries_within_two_seconds_and_resumes_without_gaps() {
    let app = app().await;
    let t = app.tenant().await;
    let base = listening(&app).await;
    let h = [t.key_header()];

    let mut live = open_stream(&base, &t.api_key, &[]).await;
    let made = std::time::Instant::now();
    let record = app
        .post("/v1/records", &h, json!({"title": "watched"}))
        .await
        .json();
    let first = frames(&mut live, 1).await;
    assert_eq!(first.len(), 1, "no entry arrived");
    let (frame, arrived) = &first[0];
    assert_eq!(
        frame.event, "record.created",
        "only what comes after the stream opened"
    );
    assert_eq!(frame.data["resource"]["id"], record["id"]);
    assert!(frame.id.starts_with("evt_"));
    assert!(
        arrived.duration_since(made) < std::time::Duration::from_secs(2),
        "arrived after {:?}",
        arrived.duration_since(made)
    );
    drop(live);

    // Changes made while disconnected, then a reconnect with Last-Event-ID.
    for title in ["second", "third"] {
        app.post("/v1/records", &h, json!({"title": title})).await;
    }
    let mut resumed = open_stream(&base, &t.api_key, &[("last-event-id", &frame.id)]).await;
    let next = frames(&mut resumed, 2).await;
    let titles: Vec<&Value> = next.iter().map(|(f, _)| &f.data["data"]["title"]).collect();
    assert_eq!(
        titles,
        [&json!("second"), &json!("third")],
        "no gap, no repeat"
    );
    assert!(next.iter().all(|(f, _)| f.id > frame.id));

    // Another org's stream shows none of it.
    let other = app.tenant().await;
    let mut theirs = open_stream(&base, &other.api_key, &[]).await;
    app.post("/v1/records", &h, json!({"title": "private"}))
        .await;
    let leaked = tokio::time::timeout(std::time::Duration::from_secs(3), frames(&mut theirs, 1))
        .await
        .unwrap_or_default();
    assert!(leaked.is_empty(), "{leaked:?}");
}

#[tokio::test]
async fn the_live_stream_replays_from_since_and_refuses_bad_positions() {
    let app = app().await;
    let t = app.tenant().await;
    let base = listening(&app).await;
    let h = [t.key_header()];
    app.post("/v1/records", &h, json!({"title": "backlog"}))
        .await;
    let mut stream = reqwest::Client::new()
        .get(format!(
            "{base}/v1/audit/stream?since=2020-01-01T00:00:00Z&max_seconds=3"
        ))
        .header("authorization", format!("ApiKey {}", t.api_key))
        .send()
        .await
        .unwrap();
    let backlog = frames(&mut stream, 2).await;
    let names: Vec<&str> = backlog.iter().map(|(f, _)| f.event.as_str()).collect();
    assert_eq!(names, ["org.created", "record.created"], "oldest first");

    for bad in [
        "/v1/audit/stream?since=yesterday",
        "/v1/audit/stream?max_seconds=0",
        "/v1/audit/stream?max_seconds=100000",
    ] {
        let answer = app.get(bad, &h).await;
        assert_eq!(
            answer.status,
            http::StatusCode::BAD_REQUEST,
            "{bad}: {}",
            answer.text
        );
    }
    let bad_resume = app
        .get(
            "/v1/audit/stream",
            &[t.key_header(), ("last-event-id", "12".into())],
        )
        .await;
    assert_eq!(bad_resume.status, http::StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/v1/audit/stream", &[]).await.status,
        http::StatusCode::UNAUTHORIZED
    );
}
