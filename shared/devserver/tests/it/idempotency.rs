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

/// One create sent with an `Idempotency-Key`: its path, its body, the key.
struct KeyedCreate {
    path: &'static str,
    body: serde_json::Value,
    key: String,
}

/// Sends `create` to `base`; `None` when no answer came (the server died).
async fn send(
    http: &reqwest::Client,
    base: &str,
    api_key: &str,
    create: &KeyedCreate,
) -> Option<(u16, serde_json::Value)> {
    let response = http
        .post(format!("{base}{}", create.path))
        .header("authorization", format!("ApiKey {api_key}"))
        .header("idempotency-key", &create.key)
        .json(&create.body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.ok()?;
    Some((status, body))
}

/// Runs `requests` while `server` is SIGKILLed at a random moment in its first
/// `within_ms` milliseconds: what each request got (none when the kill cut it off).
async fn killed_during<F: Future>(
    server: &mut crate::dev_server::DevServer,
    within_ms: u64,
    requests: F,
) -> F::Output {
    let kill_after = std::time::Duration::from_millis(crate::support::rand_u64() % within_ms);
    let kill = async {
        tokio::time::sleep(kill_after).await;
        server.kill();
    };
    let (answers, ()) = tokio::join!(requests, kill);
    answers
}

/// Sends a keyed request again (`send`) until it is answered: its first try, cut off
/// by a kill, holds the key until the lock lapses (Relink's errors carry no
/// error_code, only the message); a 429, a 5xx or no answer (the server restarting)
/// is tried again. At most 30 s.
async fn until_answered<F, Fut>(key: &str, send: F) -> (u16, serde_json::Value)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<(u16, serde_json::Value)>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match send().await {
            Some((409, body))
                if body["error_code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
                    || body["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("still being processed")) => {}
            // Rate limited (many keys retried at once): as a client, wait and retry.
            Some((429, _)) => {}
            Some((status, body)) if status < 500 => return (status, body),
            _ => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{key} was never answered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// What a create made, by the name it was given (the key itself).
async fn made(http: &reqwest::Client, base: &str, api_key: &str) -> Vec<String> {
    let get = |path: String| async move {
        http.get(format!("{base}{path}"))
            .header("authorization", format!("ApiKey {api_key}"))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let mut names = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get(format!("/v1/records?limit=200{cursor}")).await;
        for record in page["data"].as_array().unwrap() {
            names.push(record["title"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    for (path, field) in [
        ("/v1/api-keys?limit=200", "name"),
        ("/v1/workspaces?limit=200", "name"),
    ] {
        let page = get(path.to_owned()).await;
        assert!(page["next_cursor"].is_null(), "one page holds them: {page}");
        for item in page["data"].as_array().unwrap() {
            names.push(item[field].as_str().unwrap().to_owned());
        }
    }
    for path in ["/api/sources?page_size=200", "/api/schemas?page_size=200"] {
        let page = get(path.to_owned()).await;
        assert_eq!(
            page["pagination"]["total_pages"], 1,
            "one page holds them: {page}"
        );
        for item in page["data"].as_array().unwrap() {
            names.push(item["name"].as_str().unwrap().to_owned());
        }
    }
    let links = get("/api/v1/smartlink".to_owned()).await;
    for link in links.as_array().unwrap() {
        names.push(
            link["configuration"]["smartlinkName"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    names
}

/// Concurrent creates with keys, the process SIGKILLed while they run, restarted on
/// the same tables, every create retried with its key until it is answered: one
/// resource per key, whether the kill came before the change, between the change
/// and its answer, or after. Twenty times over.
#[tokio::test]
async fn creates_with_keys_survive_a_kill_exactly_once() {
    use crate::dev_server::spawn;
    use std::time::Duration;
    let prefix = format!("ik{}", crate::support::rand_u64() % 1_000_000_000);
    // A killed request's key is locked this long; short, so the test need not wait.
    let env = [("RELINX_IDEMPOTENCY_LOCK_SECONDS", "1")];
    let mut server = spawn(&prefix, false, &env).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let api_key = crate::dev_server::sign_up(&http, &server.addr, "Crash Test Inc").await;
    let mut cut_off = 0;
    let mut all_keys = Vec::new();
    for round in 0..20 {
        let creates: Vec<KeyedCreate> = (0..2)
            .flat_map(|i| {
                let key = |kind: &str| format!("r{round}-{kind}-{i}");
                [
                    KeyedCreate {
                        path: "/v1/records",
                        body: json!({"title": key("record")}),
                        key: key("record"),
                    },
                    KeyedCreate {
                        path: "/v1/api-keys",
                        body: json!({"name": key("key")}),
                        key: key("key"),
                    },
                    KeyedCreate {
                        path: "/v1/workspaces",
                        body: json!({"name": key("ws")}),
                        key: key("ws"),
                    },
                    KeyedCreate {
                        path: "/api/v1/smartlink",
                        body: json!({"config": {"smartlinkName": key("link")}}),
                        key: key("link"),
                    },
                    KeyedCreate {
                        path: "/api/sources",
                        body: json!({"name": key("source"), "kind": "upload"}),
                        key: key("source"),
                    },
                    KeyedCreate {
                        path: "/api/schemas",
                        body: json!({"name": key("schema"), "fields": [{"name": "a", "type": "string"}]}),
                        key: key("schema"),
                    },
                ]
            })
            .collect();
        let base = format!("http://{}", server.addr);
        let sends =
            futures::future::join_all(creates.iter().map(|c| send(&http, &base, &api_key, c)));
        let first = killed_during(&mut server, 40, sends).await;
        server = spawn(&prefix, false, &env).await;
        let base = format!("http://{}", server.addr);
        for (create, first) in creates.iter().zip(first) {
            if first.as_ref().is_none_or(|(status, _)| *status >= 500) {
                cut_off += 1;
            }
            let answer = until_answered(&create.key, || send(&http, &base, &api_key, create)).await;
            assert_eq!(answer.0, 201, "{}: {}", create.key, answer.1);
            if let Some((201, before)) = &first {
                assert_eq!(
                    before, &answer.1,
                    "{}: a replay is the first answer",
                    create.key
                );
            }
            all_keys.push(create.key.clone());
        }
    }
    assert!(cut_off > 0, "the kills caught requests in flight");
    let names = made(&http, &format!("http://{}", server.addr), &api_key).await;
    for key in &all_keys {
        let count = names.iter().filter(|n| *n == key).count();
        assert_eq!(
            count, 1,
            "{key}: {count} made ({cut_off} requests were cut off)"
        );
    }
}

/// Uploads with keys, the process SIGKILLed while they run (chunks written, the
/// upload's transaction not yet, or both, or neither), restarted, each retried with
/// its key until answered: the source holds every upload's rows exactly once.
#[tokio::test]
async fn uploads_survive_a_kill_exactly_once() {
    use crate::dev_server::spawn;
    use std::time::Duration;
    let prefix = format!("iu{}", crate::support::rand_u64() % 1_000_000_000);
    let env = [("RELINX_IDEMPOTENCY_LOCK_SECONDS", "1")];
    let mut server = spawn(&prefix, false, &env).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let api_key = crate::dev_server::sign_up(&http, &server.addr, "Crash Upload Inc").await;
    let auth = format!("ApiKey {api_key}");
    let created: serde_json::Value = http
        .post(format!("http://{}/api/sources", server.addr))
        .header("authorization", &auth)
        .json(&json!({"name": "crashing", "kind": "upload"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let source = created["data"]["id"].as_str().expect("source").to_owned();
    let rows_each = 3000;
    let csv: String = std::iter::once("id,email,note\n".to_owned())
        .chain((0..rows_each).map(|i| format!("{i},u{i}@example.com,{}\n", "x".repeat(40))))
        .collect();
    let upload = |base: String, key: String| {
        let http = http.clone();
        let auth = auth.clone();
        let csv = csv.clone();
        let path = format!("{base}/api/sources/{source}/rows");
        async move {
            let response = http
                .post(path)
                .header("authorization", auth)
                .header("idempotency-key", key)
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await
                .ok()?;
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.ok()?;
            Some((status, body))
        }
    };
    let (mut cut_off, mut uploads) = (0, 0);
    for round in 0..8 {
        let keys: Vec<String> = (0..3).map(|i| format!("u{round}-{i}")).collect();
        let base = format!("http://{}", server.addr);
        let sends = futures::future::join_all(keys.iter().map(|k| upload(base.clone(), k.clone())));
        let first = killed_during(&mut server, 120, sends).await;
        server = spawn(&prefix, false, &env).await;
        let base = format!("http://{}", server.addr);
        for (key, first) in keys.iter().zip(first) {
            if first.as_ref().is_none_or(|(status, _)| *status >= 500) {
                cut_off += 1;
            }
            let answer = until_answered(key, || upload(base.clone(), key.clone())).await;
            assert_eq!(answer.0, 201, "{key}: {}", answer.1);
            if let Some((201, before)) = &first {
                assert_eq!(before, &answer.1, "{key}: a replay is the first answer");
            }
            uploads += 1;
        }
    }
    assert!(cut_off > 0, "the kills caught uploads in flight");
    let now: serde_json::Value = http
        .get(format!("http://{}/api/sources/{source}", server.addr))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        now["data"]["row_count"],
        json!(uploads * rows_each),
        "{uploads} uploads of {rows_each} rows, {cut_off} cut off"
    );
    server.kill();
}
