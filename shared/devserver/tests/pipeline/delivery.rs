//! The event pipeline as a webhook receiver sees it: a real `relinx-dev` on its own
//! tables, moto's SQS, the dispatcher's handlers fed by the stream and queue pollers,
//! receivers on loopback. Black-box: everything goes through HTTP.

use crate::dev_server::{DevServer, spawn};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A short ladder, so failing receivers go through it in seconds.
const LADDER: &str = "1s,1s,1s";

async fn server(prefix: &str) -> DevServer {
    spawn(prefix, true, &[("RELINX_RETRY_SCHEDULE", LADDER)]).await
}

fn prefix(name: &str) -> String {
    format!("pl{}{name}", crate::rand_u64() % 1_000_000_000)
}

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Delivery {
    webhook_id: String,
    timestamp: String,
    signature: String,
    body: String,
    at: Instant,
}

impl Delivery {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A receiver on 127.0.0.1: answers the statuses of `script` in turn, then
/// `then`, and keeps everything it got.
#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Delivery>>>,
    script: Arc<Mutex<Vec<u16>>>,
    then: Arc<Mutex<u16>>,
    url: String,
}

impl Receiver {
    async fn start(script: &[u16], then: u16) -> Self {
        Self::start_slow(script, then, Duration::ZERO).await
    }

    /// A receiver that takes `delay` over every answer.
    async fn start_slow(script: &[u16], then: u16, delay: Duration) -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().rev().copied().collect::<Vec<_>>()));
        let then = Arc::new(Mutex::new(then));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = (got.clone(), script.clone(), then.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let (got, script, then) = state.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    got.lock().unwrap().push(Delivery {
                        webhook_id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body,
                        at: Instant::now(),
                    });
                    tokio::time::sleep(delay).await;
                    let status = script
                        .lock()
                        .unwrap()
                        .pop()
                        .unwrap_or(*then.lock().unwrap());
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        format!("answered {status}"),
                    )
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            got,
            script,
            then,
            url,
        }
    }

    fn got(&self) -> Vec<Delivery> {
        self.got.lock().unwrap().clone()
    }

    fn answer_from_now_on(&self, status: u16) {
        self.script.lock().unwrap().clear();
        *self.then.lock().unwrap() = status;
    }

    /// Waits (up to `limit`) until `done` holds of what arrived.
    async fn wait_for(&self, limit: Duration, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
        let start = Instant::now();
        loop {
            let got = self.got();
            if done(&got) || start.elapsed() > limit {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// An HTTP client for one org of the dev server.
struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    async fn signup(server: &DevServer) -> Self {
        let http = reqwest::Client::new();
        let base = format!("http://{}", server.addr);
        let signup: Value = http
            .post(format!("{base}/v1/signup"))
            .json(&json!({
                "organization": "Receivers Inc",
                "email": format!("ops{}@receivers.example", crate::rand_u64()),
                "password": "a long enough password",
                "plan": "pro",
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = signup["api_key"].as_str().expect("signed up").to_owned();
        Self { http, base, key }
    }

    /// The same org through another of its keys.
    fn with_key(&self, key: &str) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            key: key.to_owned(),
        }
    }

    /// A new key of this org with `role`; a client using it.
    async fn key_with_role(&self, role: &str) -> Self {
        let (status, made) = self
            .post(
                "/v1/api-keys",
                json!({"name": format!("{role} key"), "role": role}),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        self.with_key(made["key"].as_str().unwrap())
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", format!("ApiKey {}", self.key));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn webhook(&self, url: &str, events: &[&str]) -> (String, String) {
        let (status, made) = self
            .post("/v1/webhooks", json!({"url": url, "events": events}))
            .await;
        assert_eq!(status, 201, "{made}");
        (
            made["id"].as_str().unwrap().to_owned(),
            made["secret"].as_str().unwrap().to_owned(),
        )
    }

    async fn record(&self, title: &str) -> Value {
        let (status, record) = self
            .post(
                "/v1/records",
                json!({"title": title, "type": "inspection", "site": "alpha"}),
            )
            .await;
        assert_eq!(status, 201, "{record}");
        record
    }

    /// Polls a GET until `done` holds of its answer (up to `limit`).
    async fn wait_for(&self, path: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let (_, answer) = self.get(path).await;
            if done(&answer) || start.elapsed() > limit {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Verifies a delivery with the Standard Webhooks reference library (Python
/// `standardwebhooks`, installed by scripts/test into the venv it names in
/// `RELINX_PYTHON`).
fn verify_with_reference_library(secret: &str, delivery: &Delivery) {
    let python = std::env::var("RELINX_PYTHON")
        .expect("RELINX_PYTHON is not set: run the tests with scripts/test");
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
given = json.load(sys.stdin)
Webhook(given["secret"]).verify(given["body"].encode(), {
    "webhook-id": given["id"],
    "webhook-timestamp": given["timestamp"],
    "webhook-signature": given["signature"],
})
print("verified")
"#;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let given = json!({
        "secret": secret,
        "body": delivery.body,
        "id": delivery.webhook_id,
        "timestamp": delivery.timestamp,
        "signature": delivery.signature,
    });
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(given.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("verified"),
        "standardwebhooks refused our signature: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_synced_record_reaches_its_receiver_within_two_seconds_signed() {
    let server = server(&prefix("synced")).await;
    let org = Client::signup(&server).await;
    let receiver = Receiver::start(&[], 200).await;
    let (_, secret) = org.webhook(&receiver.url, &["record.synced"]).await;
    // Another org on the same deployment, subscribed to everything.
    let other = Client::signup(&server).await;
    let theirs = Receiver::start(&[], 200).await;
    other.webhook(&theirs.url, &["*"]).await;
    let record = org.record("Pressure check").await;
    let id = record["id"].as_str().unwrap();

    let patched_at = Instant::now();
    let (status, synced) = org
        .call(
            reqwest::Method::PATCH,
            &format!("/v1/records/{id}"),
            Some(json!({"status": "synced", "causal": record["causal"]})),
        )
        .await;
    assert_eq!(status, 200, "{synced}");
    let got = receiver
        .wait_for(Duration::from_secs(2), |got| !got.is_empty())
        .await;
    assert_eq!(got.len(), 1, "one record.synced within 2 s, and only that");
    let delivery = &got[0];
    assert!(delivery.at.duration_since(patched_at) < Duration::from_secs(2));
    let payload = delivery.json();
    assert_eq!(payload["event"], "record.synced");
    assert_eq!(payload["data"]["id"], id);
    assert_eq!(payload["id"], delivery.webhook_id.as_str());
    assert!(delivery.signature.starts_with("v1,"));
    verify_with_reference_library(&secret, delivery);
    // And with our own verifier (the spec's algorithm, checked against its
    // published test vector in relinx-webhooks' signing tests).
    let ours = relinx_webhooks::Secret::parse(&secret).unwrap().sign(
        &delivery.webhook_id,
        delivery.timestamp.parse().unwrap(),
        delivery.body.as_bytes(),
    );
    assert!(delivery.signature.split(' ').any(|s| s == ours));

    // The other org's receiver got nothing of this org's.
    other.record("their own").await;
    let seen = theirs
        .wait_for(Duration::from_secs(2), |got| !got.is_empty())
        .await;
    assert!(!seen.is_empty(), "their own event reaches them");
    let (_, their_log) = other.get("/v1/audit?limit=200").await;
    let their_events: Vec<&str> = their_log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    for delivery in theirs.got() {
        assert!(
            their_events.contains(&delivery.webhook_id.as_str()),
            "an event not of their org reached them: {}",
            delivery.body
        );
    }
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_fourth_attempt_and_no_more() {
    let server = server(&prefix("flaky")).await;
    let org = Client::signup(&server).await;
    let receiver = Receiver::start(&[500, 503, 500], 200).await;
    let (hook, _) = org.webhook(&receiver.url, &["record.created"]).await;
    org.record("Flaky receiver").await;

    let got = receiver
        .wait_for(Duration::from_secs(20), |got| got.len() >= 4)
        .await;
    assert_eq!(got.len(), 4, "{got:?}");
    // Nothing after the success.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = receiver.got();
    assert_eq!(got.len(), 4, "exactly four attempts");
    assert!(
        got.iter().all(|d| d.webhook_id == got[0].webhook_id),
        "every attempt carries the same webhook-id"
    );
    assert!(
        got.windows(2)
            .all(|w| w[1].at.duration_since(w[0].at) >= Duration::from_millis(900)),
        "the ladder's waits are kept"
    );

    let (_, deliveries) = org.get(&format!("/v1/webhooks/{hook}/deliveries")).await;
    let codes: Vec<&Value> = deliveries["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(200), &json!(500), &json!(503), &json!(500)]);
    let queue = org
        .wait_for("/v1/sync/queue", Duration::from_secs(2), |q| {
            q["data"][0]["status"] == "delivered"
        })
        .await;
    let job = &queue["data"][0];
    assert_eq!(job["status"], "delivered", "{queue}");
    assert_eq!(job["attempts"], 4);
    assert_eq!(job["endpoint_id"], hook.as_str());
}

#[tokio::test]
async fn a_dead_job_revives_on_retry_and_is_delivered_once_the_receiver_recovers() {
    let server = server(&prefix("dead")).await;
    let org = Client::signup(&server).await;
    let receiver = Receiver::start(&[], 500).await;
    org.webhook(&receiver.url, &["record.created"]).await;
    org.record("Doomed").await;

    let queue = org
        .wait_for("/v1/sync/queue?status=dead", Duration::from_secs(20), |q| {
            q["data"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    let job = &queue["data"][0];
    assert_eq!(job["status"], "dead", "{queue}");
    assert_eq!(
        job["attempts"], 4,
        "the first attempt and the ladder's three"
    );
    assert_eq!(receiver.got().len(), 4);
    let job_id = job["id"].as_str().unwrap().to_owned();

    receiver.answer_from_now_on(200);
    let (status, revived) = org
        .post(&format!("/v1/sync/retry/{job_id}"), json!({}))
        .await;
    assert_eq!(status, 202, "{revived}");
    let got = receiver
        .wait_for(Duration::from_secs(5), |got| got.len() >= 5)
        .await;
    assert_eq!(got.len(), 5, "delivered once after the retry");
    let delivered = org
        .wait_for(
            "/v1/sync/queue?status=delivered",
            Duration::from_secs(2),
            |q| q["data"][0]["id"] == job_id.as_str(),
        )
        .await;
    assert_eq!(delivered["data"][0]["attempts"], 5, "{delivered}");

    // Another org sees none of it and cannot retry it.
    let other = Client::signup(&server).await;
    let (_, theirs) = other.get("/v1/sync/queue").await;
    assert_eq!(theirs["data"], json!([]));
    let (status, _) = other
        .post(&format!("/v1/sync/retry/{job_id}"), json!({}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_dev_server_killed_mid_batch_loses_nothing_when_it_restarts_and_catches_up() {
    let tables = prefix("killed");
    let mut server = server(&tables).await;
    let mut org = Client::signup(&server).await;
    // Slow to answer, so attempts are in flight when the server dies.
    let receiver = Receiver::start_slow(&[], 200, Duration::from_secs(3)).await;
    org.webhook(&receiver.url, &["record.created"]).await;
    let mut expected = std::collections::BTreeSet::new();
    for n in 0..30 {
        let (_, made) = org
            .post(
                "/v1/records",
                json!({"title": format!("r{n}"), "type": "t", "site": "s"}),
            )
            .await;
        expected.insert(made["id"].as_str().unwrap().to_owned());
    }
    // Killed (SIGKILL) as soon as deliveries are under way.
    let under_way = receiver
        .wait_for(Duration::from_secs(30), |got| got.len() >= 3)
        .await;
    server.kill();
    assert!(
        under_way.len() >= 3,
        "deliveries never started: {under_way:?}"
    );
    let before = receiver.got().len();

    // Changes made while no dispatcher runs (through a server without the
    // pipeline): the restarted one finds them where its stream checkpoint left off.
    let api_only = spawn(&tables, false, &[]).await;
    org.base = format!("http://{}", api_only.addr);
    for n in 30..40 {
        let (_, made) = org
            .post(
                "/v1/records",
                json!({"title": format!("r{n}"), "type": "t", "site": "s"}),
            )
            .await;
        expected.insert(made["id"].as_str().unwrap().to_owned());
    }
    drop(api_only);

    let restarted = self::server(&tables).await;
    org.base = format!("http://{}", restarted.addr);
    // Done when every job is delivered: an attempt the kill cut off (the receiver
    // got it, its answer never came back) is sent again once its message shows up
    // again on the queue and its lease has run out.
    let delivered = org
        .wait_for(
            "/v1/sync/queue?status=delivered&limit=100",
            Duration::from_secs(90),
            |q| {
                q["data"]
                    .as_array()
                    .is_some_and(|d| d.len() == expected.len())
            },
        )
        .await;
    assert_eq!(
        delivered["data"].as_array().map(Vec::len),
        Some(expected.len()),
        "every job ends delivered: {delivered}"
    );
    let got = receiver.got();
    let mut ids_by_record = std::collections::BTreeMap::<String, Vec<String>>::new();
    for delivery in &got {
        ids_by_record
            .entry(delivery.json()["data"]["id"].as_str().unwrap().to_owned())
            .or_default()
            .push(delivery.webhook_id.clone());
    }
    assert_eq!(
        ids_by_record
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        expected,
        "every event arrives ({before} before the kill, {} in all)",
        got.len()
    );
    for (record, ids) in &ids_by_record {
        assert!(
            ids.iter().all(|id| id == &ids[0]),
            "{record}: a duplicate carries the same webhook-id: {ids:?}"
        );
    }
    assert!(
        ids_by_record.values().any(|ids| ids.len() > 1),
        "the kill caught attempts in flight (answered by nobody), which are sent again"
    );
    drop(restarted);
}

#[tokio::test]
async fn an_endpoint_failing_for_its_streak_is_disabled_and_recovers_what_it_missed() {
    let tables = prefix("disabled");
    // Five days in production; two seconds here, set as an operator sets it (nothing
    // in the table is touched).
    let server = spawn(
        &tables,
        true,
        &[
            ("RELINX_RETRY_SCHEDULE", LADDER),
            ("RELINX_WEBHOOK_DISABLE_AFTER", "2s"),
        ],
    )
    .await;
    let org = Client::signup(&server).await;
    let receiver = Receiver::start(&[], 500).await;
    let (hook, _) = org.webhook(&receiver.url, &["record.created"]).await;
    // The first failure starts its streak, as the endpoint shows.
    org.record("first failure").await;
    org.wait_for(
        &format!("/v1/webhooks/{hook}"),
        Duration::from_secs(5),
        |w| w["failing_since"].is_string(),
    )
    .await;
    let (_, before) = org.get(&format!("/v1/webhooks/{hook}")).await;
    assert!(before["failing_since"].is_string(), "{before}");
    assert_eq!(
        before["enabled"], true,
        "one failure does not disable: {before}"
    );
    tokio::time::sleep(Duration::from_millis(2_100)).await;

    // A failure after the streak has lasted its time disables it, with a
    // webhook.disabled event.
    org.record("the last straw").await;
    let disabled = org
        .wait_for(
            &format!("/v1/webhooks/{hook}"),
            Duration::from_secs(10),
            |w| w["enabled"] == false,
        )
        .await;
    assert_eq!(disabled["enabled"], false, "{disabled}");
    let (_, audit) = org.get("/v1/audit?action=webhook.disabled").await;
    assert_eq!(audit["data"][0]["resource"]["id"], hook.as_str(), "{audit}");

    // While disabled, its events are kept as skipped jobs.
    let missed = org.record("missed while disabled").await;
    org.wait_for(
        "/v1/sync/queue?status=skipped",
        Duration::from_secs(5),
        |q| q["data"].as_array().is_some_and(|d| !d.is_empty()),
    )
    .await;
    let (status, refused) = org
        .post(
            &format!("/v1/webhooks/{hook}/recover"),
            json!({"since": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        status, 409,
        "recovering needs the endpoint enabled: {refused}"
    );

    receiver.answer_from_now_on(200);
    let (status, _) = org
        .call(
            reqwest::Method::PATCH,
            &format!("/v1/webhooks/{hook}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200);
    let since = before["created_at"].as_str().unwrap();
    let (status, recovered) = org
        .post(
            &format!("/v1/webhooks/{hook}/recover"),
            json!({"since": since}),
        )
        .await;
    assert_eq!(status, 202, "{recovered}");
    assert!(recovered["requeued"].as_u64().unwrap() >= 1, "{recovered}");
    let got = receiver
        .wait_for(Duration::from_secs(10), |got| {
            got.iter().any(|d| d.json()["data"]["id"] == missed["id"])
        })
        .await;
    assert!(
        got.iter().any(|d| d.json()["data"]["id"] == missed["id"]),
        "the missed event arrives after the recovery"
    );
    // Once: a second recovery finds nothing left to send.
    let (_, again) = org
        .post(
            &format!("/v1/webhooks/{hook}/recover"),
            json!({"since": since}),
        )
        .await;
    assert_eq!(again["requeued"], 0, "{again}");
}

#[tokio::test]
async fn invite_urls_reach_only_endpoints_whose_registrar_could_send_the_invite() {
    let server = server(&prefix("invites")).await;
    let owner = Client::signup(&server).await;
    // A role that manages webhooks and nothing else, as a service integration has.
    let (status, role) = owner
        .post(
            "/api/roles",
            json!({"name": "hooks-only", "permissions": ["webhooks:read", "webhooks:write"]}),
        )
        .await;
    assert_eq!(status, 201, "{role}");
    let hooks_only = owner.key_with_role("hooks-only").await;
    let admin = owner.key_with_role("admin").await;

    let outsider = Receiver::start(&[], 200).await;
    let admins = Receiver::start(&[], 200).await;
    let owners = Receiver::start(&[], 200).await;
    hooks_only.webhook(&outsider.url, &["user.invited"]).await;
    admin.webhook(&admins.url, &["user.invited"]).await;
    owner.webhook(&owners.url, &["user.invited"]).await;

    let mut urls = std::collections::BTreeMap::new();
    for role in ["owner", "operator"] {
        let (status, invite) = owner
            .post(
                "/v1/users/invite",
                json!({"email": format!("{role}{}@example.com", crate::rand_u64()), "role": role}),
            )
            .await;
        assert_eq!(status, 201, "{invite}");
        urls.insert(role, invite["invite_url"].as_str().unwrap().to_owned());
    }
    let arrived = |receiver: &Receiver| {
        let receiver = receiver.clone();
        async move {
            receiver
                .wait_for(Duration::from_secs(15), |got| got.len() >= 2)
                .await
                .iter()
                .map(|d| {
                    let body = d.json();
                    (
                        body["data"]["role"].as_str().unwrap().to_owned(),
                        body["data"].clone(),
                    )
                })
                .collect::<std::collections::BTreeMap<_, _>>()
        }
    };

    // webhooks:* alone outranks nobody: the event, never its URL (nor its seal).
    let got = arrived(&outsider).await;
    assert_eq!(got.len(), 2, "{got:?}");
    for (role, data) in &got {
        assert!(data.get("invite_url").is_none(), "{role}: {data}");
        assert!(data.get("invite_url_sealed").is_none(), "{role}: {data}");
        assert!(!data.to_string().contains(&urls[role.as_str()]), "{data}");
        assert_eq!(data["status"], "invited");
    }
    // An admin key outranks an operator, not an owner.
    let got = arrived(&admins).await;
    assert_eq!(got["operator"]["invite_url"], urls["operator"].as_str());
    assert!(got["owner"].get("invite_url").is_none(), "{}", got["owner"]);
    // The owner's own endpoint gets every URL.
    let got = arrived(&owners).await;
    for (role, url) in &urls {
        assert_eq!(got[*role]["invite_url"], url.as_str(), "{role}");
    }

    // Judged at delivery: once the admin key is gone, its endpoint gets no URL.
    let (_, keys) = owner.get("/v1/api-keys").await;
    let admin_key = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "admin key")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = owner
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/api-keys/{admin_key}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = owner
        .post(
            "/v1/users/invite",
            json!({"email": format!("late{}@example.com", crate::rand_u64()), "role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201);
    let got = admins
        .wait_for(Duration::from_secs(15), |got| got.len() >= 3)
        .await;
    let late = got
        .iter()
        .map(Delivery::json)
        .find(|b| b["data"]["role"] == "viewer")
        .expect("the third invite arrives");
    assert!(late["data"].get("invite_url").is_none(), "{late}");
}

#[tokio::test]
async fn deliveries_never_go_through_a_proxy_named_in_the_environment() {
    // A "proxy" that would take the delivery if the client went through it.
    let proxy = Receiver::start(&[], 200).await;
    let proxy_url = proxy.url.trim_end_matches("/hook").to_owned();
    let server = spawn(
        &prefix("proxy"),
        true,
        &[
            ("RELINX_RETRY_SCHEDULE", LADDER),
            ("HTTP_PROXY", &proxy_url),
            ("http_proxy", &proxy_url),
            ("HTTPS_PROXY", &proxy_url),
            ("ALL_PROXY", &proxy_url),
            // The server's own DynamoDB and SQS calls go to 127.0.0.1 directly; the
            // receiver is named `localhost`, which no exception covers.
            ("NO_PROXY", "127.0.0.1"),
            ("no_proxy", "127.0.0.1"),
        ],
    )
    .await;
    let org = Client::signup(&server).await;
    let receiver = Receiver::start(&[], 200).await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    org.webhook(&by_name, &["record.created"]).await;
    org.record("direct").await;
    let got = receiver
        .wait_for(Duration::from_secs(5), |got| !got.is_empty())
        .await;
    assert_eq!(got.len(), 1, "the receiver gets the delivery itself");
    assert!(proxy.got().is_empty(), "nothing went through the proxy");
}
