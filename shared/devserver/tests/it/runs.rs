//! Datalinx pipeline runs as a client sees them, through a real dev server whose
//! runner works the run queue as Lambda would (API.md "Datalinx data"): dry runs
//! that write nothing, upserts that never duplicate, rejected rows as a file to fix
//! and upload again, a high-water mark per pipeline, datasets paged by cursor, and
//! another org's runs out of reach.

use crate::dev_server::{DevServer, sign_up, spawn};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// A client of one org on a dev server.
pub struct Api {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Api {
    pub async fn sign_up(server: &DevServer, org: &str) -> Self {
        let http = reqwest::Client::new();
        let key = sign_up(&http, &server.addr, org).await;
        Self {
            http,
            base: format!("http://{}", server.addr),
            auth: format!("ApiKey {key}"),
        }
    }

    /// The same org's client on another instance.
    pub fn at(&self, server: &DevServer) -> Self {
        Self {
            http: self.http.clone(),
            base: format!("http://{}", server.addr),
            auth: self.auth.clone(),
        }
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", &self.auth);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_with(method, path, body, &[]).await
    }

    /// The `data` of a success with `status`.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let (got, answer) = self.call(method, path, body).await;
        assert_eq!(got, status, "{path}: {answer}");
        answer["data"].clone()
    }

    pub async fn upload_csv(&self, source: &str, text: &str) -> Value {
        let response = self
            .http
            .post(format!("{}/api/sources/{source}/rows", self.base))
            .header("authorization", &self.auth)
            .header("content-type", "text/csv")
            .body(text.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        response.json().await.unwrap()
    }

    pub async fn source(&self, name: &str) -> String {
        let made = self
            .ok(
                Method::POST,
                "/api/sources",
                Some(json!({"name": name, "kind": "upload"})),
                201,
            )
            .await;
        made["id"].as_str().unwrap().to_owned()
    }

    /// Starts a run and waits for it to end; the run as it ended.
    pub async fn run(&self, pipeline: &str, body: Value) -> Value {
        let queued = self
            .ok(
                Method::POST,
                &format!("/api/pipelines/{pipeline}/run"),
                Some(body),
                202,
            )
            .await;
        assert_eq!(queued["status"], "queued", "{queued}");
        self.ended(pipeline, queued["run_id"].as_str().unwrap())
            .await
    }

    pub async fn ended(&self, pipeline: &str, run: &str) -> Value {
        for _ in 0..600 {
            let now = self
                .ok(
                    Method::GET,
                    &format!("/api/pipelines/{pipeline}/runs/{run}"),
                    None,
                    200,
                )
                .await;
            if ["success", "failed", "cancelled"].contains(&now["status"].as_str().unwrap_or("")) {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("run {run} did not end within a minute");
    }

    /// A file download: status, headers, text.
    pub async fn download(&self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", &self.auth)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    pub async fn contacts(&self) -> Vec<Value> {
        let (status, listed) = self
            .call(Method::GET, "/api/v3/contact.list.json?page_size=100", None)
            .await;
        assert_eq!(status, 200, "{listed}");
        listed["data"].as_array().cloned().unwrap_or_default()
    }
}

pub async fn server(name: &str) -> DevServer {
    let prefix = format!("{name}{}", crate::support::rand_u64() % 1_000_000_000);
    spawn(&prefix, true, &[]).await
}

pub(crate) const PEOPLE: &str = "email,fname,lname
ann@example.com,Ann,Lee
bob@example.com,Bob,Ray
cy@example.com,Cy,Ng
not-an-address,Dee,Fox
eve@example.com,Eve,Ort
fay@example.com,Fay,Poe
";

/// A source with `csv` staged, a mapping onto contacts and an upsert on e-mail.
pub(crate) async fn contacts_pipeline(api: &Api, csv: &str) -> (String, String) {
    let source = api.source("people").await;
    api.upload_csv(&source, csv).await;
    let mapping = api
        .ok(
            Method::POST,
            "/api/mappings",
            Some(
                json!({"name": "people to contacts", "source_id": source, "schema_id": "contact",
                "fields": [
                    {"target": "emails", "expr": "email"},
                    {"target": "first_name", "expr": "fname"},
                    {"target": "last_name", "expr": "lname"}]}),
            ),
            201,
        )
        .await;
    let pipeline = api
        .ok(
            Method::POST,
            "/api/pipelines",
            Some(
                json!({"name": "people", "source_id": source, "mapping_id": mapping["id"],
                "destination": {"kind": "contacts", "key": "emails"}, "mode": "upsert"}),
            ),
            201,
        )
        .await;
    (source, pipeline["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_a_run_upserts_rejects_and_resumes_where_it_stopped() {
    let server = server("runs").await;
    let api = Api::sign_up(&server, "Runs Inc").await;
    let (source, pipeline) = contacts_pipeline(&api, PEOPLE).await;

    let dry = api.run(&pipeline, json!({"dry_run": true})).await;
    assert_eq!(dry["status"], "success", "{dry}");
    assert_eq!(
        (
            &dry["would_insert"],
            &dry["would_update"],
            &dry["unchanged"],
            &dry["rejected"]
        ),
        (&json!(5), &json!(0), &json!(0), &json!(1)),
        "{dry}"
    );
    assert_eq!(dry["rows_written"], 0);
    assert!(api.contacts().await.is_empty(), "a dry run wrote contacts");

    let run = api.run(&pipeline, json!({})).await;
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(
        (
            &run["rows_read"],
            &run["rows_written"],
            &run["rows_rejected"]
        ),
        (&json!(6), &json!(5), &json!(1)),
        "{run}"
    );
    assert_eq!(run["errors"][0]["row"], 4, "{run}");
    assert_eq!(run["errors"][0]["field"], "emails", "{run}");
    assert_eq!(run["trigger"], "api");
    let contacts = api.contacts().await;
    assert_eq!(contacts.len(), 5, "{contacts:?}");
    assert!(
        contacts
            .iter()
            .any(|c| c["emails"] == "ann@example.com" && c["first_name"] == "Ann")
    );

    // The rejected rows, as a file to fix.
    let run_id = run["id"].as_str().unwrap();
    let (status, headers, text) = api
        .download(&format!("/api/pipelines/{pipeline}/runs/{run_id}/rejected"))
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["email", "fname", "lname", "_row", "_field", "_error"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert_eq!(&rows[0][0], "not-an-address");
    assert_eq!(&rows[0][3], "4");
    assert_eq!(&rows[0][4], "emails");

    // Fixed and uploaded again: the next run reads only that row.
    api.upload_csv(&source, "email,fname,lname\ndee@example.com,Dee,Fox\n")
        .await;
    let next = api.run(&pipeline, json!({"trigger": "cli"})).await;
    assert_eq!(
        (
            &next["status"],
            &next["rows_read"],
            &next["rows_written"],
            &next["trigger"]
        ),
        (&json!("success"), &json!(1), &json!(1), &json!("cli")),
        "{next}"
    );
    assert_eq!(api.contacts().await.len(), 6);

    // Nothing new staged: nothing read.
    let idle = api.run(&pipeline, json!({})).await;
    assert_eq!(
        (&idle["status"], &idle["rows_read"]),
        (&json!("success"), &json!(0)),
        "{idle}"
    );

    // The same rows again: matched, not duplicated; a changed name is an update.
    api.upload_csv(
        &source,
        "email,fname,lname\nANN@example.com,Ann,Lee\nbob@example.com,Robert,Ray\n",
    )
    .await;
    let again = api.run(&pipeline, json!({})).await;
    assert_eq!(
        (
            &again["rows_read"],
            &again["rows_inserted"],
            &again["rows_updated"],
            &again["rows_unchanged"]
        ),
        (&json!(2), &json!(0), &json!(1), &json!(1)),
        "{again}"
    );
    assert_eq!(api.contacts().await.len(), 6);

    // Two rows with one key: one contact, the later row's values.
    api.upload_csv(
        &source,
        "email,fname,lname\ngus@example.com,Gus,One\nGus@Example.com,Gus,Two\n",
    )
    .await;
    let twice = api.run(&pipeline, json!({})).await;
    assert_eq!(
        (
            &twice["rows_read"],
            &twice["rows_written"],
            &twice["rows_duplicate_key"]
        ),
        (&json!(2), &json!(1), &json!(1)),
        "{twice}"
    );
    let contacts = api.contacts().await;
    assert_eq!(contacts.len(), 7);
    let gus: Vec<_> = contacts
        .iter()
        .filter(|c| c["first_name"] == "Gus")
        .collect();
    assert_eq!(gus.len(), 1);
    assert_eq!(gus[0]["last_name"], "Two");

    // The runs, newest first, and the pipeline's last run.
    let (status, runs) = api
        .call(
            Method::GET,
            &format!("/api/pipelines/{pipeline}/runs?page_size=2"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{runs}");
    assert_eq!(runs["pagination"]["total_items"], 6, "{runs}");
    assert_eq!(runs["data"][0]["id"], twice["id"]);
    let shown = api
        .ok(
            Method::GET,
            &format!("/api/pipelines/{pipeline}"),
            None,
            200,
        )
        .await;
    assert_eq!(shown["last_run"]["run_id"], twice["id"], "{shown}");
}

#[tokio::test]
async fn a_dataset_takes_mapped_rows_once_per_key_and_pages_them_by_cursor() {
    let server = server("dsets").await;
    let api = Api::sign_up(&server, "Datasets Inc").await;
    let source = api.source("names").await;
    let mut csv = String::from("fname,lname,formula\n");
    for i in 0..250 {
        csv.push_str(&format!("First{i},Last{i},ok\n"));
    }
    csv.push_str("Eve,Evil,\"=HYPERLINK(\"\"http://x\"\")\"\n");
    api.upload_csv(&source, &csv).await;
    let schema = api
        .ok(
            Method::POST,
            "/api/schemas",
            Some(json!({"name": "people", "fields": [
                {"name": "full_name", "type": "string", "required": true},
                {"name": "check", "type": "enum", "enum": ["ok"], "required": true}]})),
            201,
        )
        .await;
    let mapping = api
        .ok(
            Method::POST,
            "/api/mappings",
            Some(
                json!({"name": "names", "source_id": source, "schema_id": schema["id"],
                "fields": [{"target": "full_name", "expr": "concat(fname, \" \", lname)"},
                           {"target": "check", "expr": "formula"}]}),
            ),
            201,
        )
        .await;
    let pipeline = api
        .ok(
            Method::POST,
            "/api/pipelines",
            Some(
                json!({"name": "names", "source_id": source, "mapping_id": mapping["id"],
                "destination": {"kind": "dataset", "dataset": "people"}}),
            ),
            201,
        )
        .await;
    let pipeline = pipeline["id"].as_str().unwrap();

    // One Idempotency-Key, one run.
    let key = [("idempotency-key", "run-once-1")];
    let path = format!("/api/pipelines/{pipeline}/run");
    let (first, a) = api
        .call_with(Method::POST, &path, Some(json!({})), &key)
        .await;
    let (second, b) = api
        .call_with(Method::POST, &path, Some(json!({})), &key)
        .await;
    assert_eq!((first, second), (202, 202), "{a} {b}");
    assert_eq!(a["data"]["run_id"], b["data"]["run_id"]);
    let run = api
        .ended(pipeline, a["data"]["run_id"].as_str().unwrap())
        .await;
    assert_eq!(
        (
            &run["status"],
            &run["rows_read"],
            &run["rows_written"],
            &run["rows_rejected"]
        ),
        (&json!("success"), &json!(251), &json!(250), &json!(1)),
        "{run}"
    );

    let datasets = api.ok(Method::GET, "/api/datasets", None, 200).await;
    assert_eq!(datasets[0]["name"], "people", "{datasets}");
    assert_eq!(datasets[0]["row_count"], 250, "{datasets}");
    assert_eq!(
        datasets[0]["columns"][0],
        json!({"name": "full_name", "type": "string"})
    );

    // Every row once, following the cursor.
    let mut seen = std::collections::BTreeSet::new();
    let mut next = "/api/datasets/people/rows?page_size=100".to_owned();
    loop {
        let (status, page) = api.call(Method::GET, &next, None).await;
        assert_eq!(status, 200, "{page}");
        for row in page["data"].as_array().unwrap() {
            assert!(
                seen.insert(row["full_name"].as_str().unwrap().to_owned()),
                "{row} twice"
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                next = format!("/api/datasets/people/rows?page_size=100&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
    assert!(seen.contains("First7 Last7"));
    let (status, page2) = api
        .call(
            Method::GET,
            "/api/datasets/people/rows?page=2&page_size=100",
            None,
        )
        .await;
    assert_eq!(status, 200, "{page2}");
    assert_eq!(page2["data"].as_array().unwrap().len(), 100);

    // The formula comes back so that a spreadsheet shows it and never runs it.
    let run_id = run["id"].as_str().unwrap();
    let (status, headers, text) = api
        .download(&format!("/api/pipelines/{pipeline}/runs/{run_id}/rejected"))
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[2], "'=HYPERLINK(\"http://x\")", "{text}");
    assert_eq!(&row[4], "check");

    // Deleted: gone from reads at once.
    api.ok(Method::DELETE, "/api/datasets/people", None, 200)
        .await;
    let (status, _) = api
        .call(Method::GET, "/api/datasets/people/rows", None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn another_org_cannot_read_run_or_see_the_runs_of_a_pipeline() {
    // One write a second: a run takes seconds, so the one-at-a-time rule and a
    // cancel are seen while it runs.
    let prefix = format!("slow{}", crate::support::rand_u64() % 1_000_000_000);
    let server = spawn(&prefix, true, &[("RELINX_IMPORT_WRITES_PER_SECOND", "1")]).await;
    let a = Api::sign_up(&server, "Owner Inc").await;
    let b = Api::sign_up(&server, "Other Inc").await;
    let (_, pipeline) = contacts_pipeline(
        &a,
        "email,fname,lname\nx@example.com,X,A\ny@example.com,Y,B\nz@example.com,Z,C\n",
    )
    .await;
    let path = format!("/api/pipelines/{pipeline}/run");
    let queued = a.ok(Method::POST, &path, Some(json!({})), 202).await;
    let run_id = queued["run_id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/pipelines/{pipeline}")),
        (Method::POST, format!("/api/pipelines/{pipeline}/run")),
        (Method::GET, format!("/api/pipelines/{pipeline}/runs")),
        (
            Method::GET,
            format!("/api/pipelines/{pipeline}/runs/{run_id}"),
        ),
        (
            Method::POST,
            format!("/api/pipelines/{pipeline}/runs/{run_id}/cancel"),
        ),
        (
            Method::GET,
            format!("/api/pipelines/{pipeline}/runs/{run_id}/rejected"),
        ),
    ] {
        let (status, answer) = b.call(method.clone(), &path, Some(json!({}))).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    // One run at a time: a second while one runs is refused, naming it.
    let (second, refused) = a.call(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(second, 409, "{refused}");
    assert_eq!(refused["error_code"], "RUN_IN_PROGRESS", "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains(run_id),
        "{refused}"
    );
    // Cancelled: it stops at the end of its slice, keeping what it wrote.
    let asked = a
        .ok(
            Method::POST,
            &format!("/api/pipelines/{pipeline}/runs/{run_id}/cancel"),
            None,
            200,
        )
        .await;
    assert_eq!(asked["cancel_requested"], true, "{asked}");
    let ended = a.ended(&pipeline, run_id).await;
    assert_eq!(ended["status"], "cancelled", "{ended}");
    let (status, again) = a
        .call(
            Method::POST,
            &format!("/api/pipelines/{pipeline}/runs/{run_id}/cancel"),
            None,
        )
        .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error_code"], "RUN_FINISHED");
    // Free again.
    let (status, _) = a
        .call(Method::POST, &path, Some(json!({"dry_run": true})))
        .await;
    assert_eq!(status, 202);
}

/// A receiver on loopback keeping every delivery's headers and body, by path.
pub(crate) async fn receiver() -> (
    std::sync::Arc<std::sync::Mutex<Vec<(String, http::HeaderMap, String)>>>,
    String,
) {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/{path}",
        axum::routing::post(
            move |axum::extract::Path(path): axum::extract::Path<String>,
                  headers: http::HeaderMap,
                  body: String| {
                let kept = kept.clone();
                async move {
                    kept.lock().unwrap().push((path, headers, body));
                    "thanks"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (got, url)
}

#[tokio::test]
async fn a_runner_killed_after_a_commit_and_before_its_checkpoint_writes_every_row_once() {
    let prefix = format!("runkill{}", crate::support::rand_u64() % 1_000_000_000);
    // Slow (one new contact a second) so the kill lands mid-slice, and short
    // invocations so the killed run's message comes back within seconds.
    let slow = [
        ("RELINX_IMPORT_WRITES_PER_SECOND", "2"),
        ("RELINX_RUN_INVOCATION_SECONDS", "3"),
    ];
    let mut first = spawn(&prefix, true, &slow).await;
    let api = Api::sign_up(&first, "Crash Import Inc").await;
    let (got, hooks) = receiver().await;
    // Platform endpoints answer the object itself (its signing secret shown once).
    let (status, completed) = api
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(json!({"url": format!("{hooks}/completed"), "events": ["pipeline.completed"]})),
        )
        .await;
    assert_eq!(status, 201, "{completed}");
    let (status, everything) = api
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(json!({"url": format!("{hooks}/everything"), "events": ["*"], "pipeline_rows": false})),
        )
        .await;
    assert_eq!(status, 201, "{everything}");
    assert_eq!(everything["pipeline_rows"], false);
    // 20 rows: the first few go at once (the runner keeps 8 writes in flight), then
    // one a second.
    let mut csv = String::from("email,fname,lname\n");
    for i in 0..20 {
        csv.push_str(&format!("p{i}@example.com,P{i},Crash\n"));
    }
    let (_, pipeline) = contacts_pipeline(&api, &csv).await;
    let queued = api
        .ok(
            Method::POST,
            &format!("/api/pipelines/{pipeline}/run"),
            Some(json!({})),
            202,
        )
        .await;
    let run_id = queued["run_id"].as_str().unwrap().to_owned();
    // Killed once some rows are written and before the slice's checkpoint.
    let mut written = 0;
    for _ in 0..600 {
        written = api.contacts().await.len();
        if written >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let run = api
        .ok(
            Method::GET,
            &format!("/api/pipelines/{pipeline}/runs/{run_id}"),
            None,
            200,
        )
        .await;
    assert!(
        (10..20).contains(&written),
        "{written} written before the kill"
    );
    assert_eq!(run["rows_read"], 0, "no checkpoint yet: {run}");
    first.kill();

    let second = spawn(&prefix, true, &[]).await;
    let api = Api {
        base: format!("http://{}", second.addr),
        ..api
    };
    let ended = api.ended(&pipeline, &run_id).await;
    assert_eq!(
        (
            &ended["status"],
            &ended["rows_read"],
            &ended["rows_written"]
        ),
        (&json!("success"), &json!(20), &json!(20)),
        "{ended}"
    );
    let contacts = api.contacts().await;
    let mut emails: Vec<&str> = contacts
        .iter()
        .filter_map(|c| c["emails"].as_str())
        .collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!((contacts.len(), emails.len()), (20, 20), "{contacts:?}");

    // pipeline.completed, once, signed, in seed 003's form.
    let delivered = |path: &str| got.lock().unwrap().iter().any(|(p, _, _)| p == path);
    for _ in 0..200 {
        if delivered("completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for a duplicate to show up, were there one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let deliveries: Vec<_> = got
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, _, _)| path == "completed")
        .cloned()
        .collect();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let (_, headers, body) = &deliveries[0];
    let payload: Value = serde_json::from_str(body).unwrap();
    let workspaces = api.ok(Method::GET, "/api/workspaces", None, 200).await;
    assert_eq!(payload["event"], "pipeline.completed");
    assert_eq!(payload["workspace"], workspaces[0]["name"], "{payload}");
    assert_eq!(payload["workspace_id"], workspaces[0]["id"], "{payload}");
    assert_eq!(payload["pipeline_id"], pipeline.as_str());
    assert_eq!(payload["run_id"], run_id.as_str());
    assert_eq!(payload["status"], "success");
    assert_eq!(payload["data"]["rows_written"], 20, "{payload}");
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    let secret = relinx_webhooks::Secret::parse(completed["secret"].as_str().unwrap()).unwrap();
    assert_eq!(header("webhook-id"), payload["id"].as_str().unwrap());
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    assert_eq!(
        header("webhook-signature"),
        secret.sign(&header("webhook-id"), timestamp, body.as_bytes()),
        "verifies with the endpoint's secret"
    );

    // The endpoint that opted out of imported rows heard the run, not its rows.
    let everything: Vec<Value> = got
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, _, _)| path == "everything")
        .map(|(_, _, body)| serde_json::from_str(body).unwrap())
        .collect();
    assert!(
        everything
            .iter()
            .any(|e| e["event"] == "pipeline.completed"),
        "{everything:?}"
    );
    assert!(
        !everything.iter().any(|e| e["event"] == "contact.saved"),
        "{everything:?}"
    );
    drop(second);
}

#[tokio::test]
async fn a_pipeline_scheduled_every_minute_runs_once_a_minute_on_two_instances() {
    let prefix = format!("sched{}", crate::support::rand_u64() % 1_000_000_000);
    let first = spawn(&prefix, true, &[]).await;
    let second = spawn(&prefix, true, &[]).await;
    let owner = Api::sign_up(&first, "Schedules Inc").await;
    // A second pipeline, made with a key that is then revoked: its scheduled run
    // acts as that key, and fails saying so.
    let (status, key) = owner
        .call(
            Method::POST,
            "/v1/api-keys",
            Some(json!({"name": "short-lived", "role": "admin"})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let short_lived = Api {
        auth: format!("ApiKey {}", key["key"].as_str().unwrap()),
        base: format!("http://{}", second.addr),
        ..Api::sign_up(&second, "Unused Inc").await
    };
    let (_, pipeline) =
        contacts_pipeline(&owner, "email,fname,lname\nsam@example.com,Sam,Lee\n").await;
    let source = short_lived.source("other").await;
    short_lived
        .upload_csv(&source, "email,fname,lname\nkim@example.com,Kim,Ro\n")
        .await;
    let mapping = short_lived
        .ok(
            Method::POST,
            "/api/mappings",
            Some(
                json!({"name": "other", "source_id": source, "schema_id": "contact",
                "fields": [{"target": "emails", "expr": "email"}]}),
            ),
            201,
        )
        .await;
    let orphan = short_lived
        .ok(
            Method::POST,
            "/api/pipelines",
            Some(
                json!({"name": "orphan", "source_id": source, "mapping_id": mapping["id"],
                "destination": {"kind": "contacts"}, "schedule": "rate(1 minute)"}),
            ),
            201,
        )
        .await;
    let orphan = orphan["id"].as_str().unwrap().to_owned();
    let (status, revoked) = owner
        .call(
            Method::DELETE,
            &format!("/v1/api-keys/{}", key["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    let scheduled = owner
        .ok(
            Method::PUT,
            &format!("/api/pipelines/{pipeline}"),
            Some(json!({"schedule": "rate(1 minute)"})),
            200,
        )
        .await;
    assert_eq!(scheduled["schedule"], "rate(1 minute)");
    let since = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(128).saturating_sub(since.elapsed())).await;

    let runs_of = |pipeline: String| {
        let owner = &owner;
        async move {
            let (status, runs) = owner
                .call(
                    Method::GET,
                    &format!("/api/pipelines/{pipeline}/runs"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{runs}");
            runs["data"].as_array().cloned().unwrap_or_default()
        }
    };
    let runs = runs_of(pipeline.clone()).await;
    assert_eq!(
        runs.len(),
        2,
        "two minutes, two runs, on two sweeping instances: {runs:?}"
    );
    assert!(
        runs.iter()
            .all(|r| r["trigger"] == "schedule" && r["status"] == "success"),
        "{runs:?}"
    );
    let at = |run: &Value| {
        relinx_model::Timestamp::parse(run["queued_at"].as_str().unwrap())
            .unwrap()
            .unix_millis()
    };
    let apart = at(&runs[0]) - at(&runs[1]);
    assert!(
        (57_000..=63_000).contains(&apart),
        "runs {apart} ms apart: {runs:?}"
    );
    assert_eq!(runs[1]["rows_read"], 1);
    assert_eq!(runs[0]["rows_read"], 0);

    let orphaned = runs_of(orphan).await;
    assert!(
        !orphaned.is_empty(),
        "the revoked key's pipeline was not run"
    );
    assert_eq!(orphaned[0]["status"], "failed", "{orphaned:?}");
    let reason = orphaned[0]["reason"].as_str().unwrap();
    assert!(reason.contains("revoked"), "{reason}");
}

#[tokio::test]
async fn a_contacts_import_stops_at_the_plan_s_limit_row_by_row_and_says_so() {
    let prefix = format!("runlimit{}", crate::support::rand_u64() % 1_000_000_000);
    let server = spawn(&prefix, true, &[]).await;
    let http = reqwest::Client::new();
    let signup: Value = http
        .post(format!("http://{}/v1/signup", server.addr))
        .json(&json!({"organization": "Small Plan Inc", "email": format!("limit-{}@example.com", crate::support::rand_u64()),
            "password": "a long enough password", "plan": "starter"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The operator lowers this org's contact limit to 3 (before the server has
    // read the org, so no cached copy hides it).
    let store = relinx_ddb::Store::new(
        relinx_testkit::client().await,
        relinx_ddb::Tables::with_prefix(&prefix),
        relinx_auth::KeyHasher::new(relinx_testkit::TEST_PEPPER).unwrap(),
        relinx_ddb::CacheSettings::disabled(),
    );
    let org = relinx_model::OrgId::parse(signup["org_id"].as_str().unwrap()).unwrap();
    let operator = relinx_model::Context::platform_acting_for(
        org,
        relinx_model::Actor {
            kind: relinx_model::ActorKind::System,
            id: "operator".into(),
        },
        relinx_model::BuiltinRole::Owner,
    );
    relinx_identity::orgs::set_limits_override(
        &store,
        &operator,
        relinx_model::LimitsOverride {
            contacts: Some(3),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let api = Api {
        http,
        base: format!("http://{}", server.addr),
        auth: format!("ApiKey {}", signup["api_key"].as_str().unwrap()),
    };
    let mut csv = String::from("email,fname,lname\n");
    for i in 0..5 {
        csv.push_str(&format!("l{i}@example.com,L{i},Imit\n"));
    }
    let (_, pipeline) = contacts_pipeline(&api, &csv).await;
    let run = api.run(&pipeline, json!({})).await;
    assert_eq!(
        (&run["status"], &run["rows_written"], &run["rows_rejected"]),
        (&json!("success"), &json!(3), &json!(2)),
        "{run}"
    );
    let message = run["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("limit of 3 contacts"), "{message}");
    assert_eq!(api.contacts().await.len(), 3);
}

#[tokio::test]
async fn an_http_source_is_fetched_at_run_time_and_a_url_that_fails_fails_the_run() {
    let feed = crate::datalinx::feed_server().await;
    let prefix = format!("runhttp{}", crate::support::rand_u64() % 1_000_000_000);
    let server = spawn(&prefix, true, &[("RELINX_ALLOW_PRIVATE_TARGETS", "1")]).await;
    let api = Api::sign_up(&server, "Feeds Run Inc").await;
    let schema = api
        .ok(
            Method::POST,
            "/api/schemas",
            Some(json!({"name": "places", "fields": [
                {"name": "zip", "type": "string", "required": true},
                {"name": "name", "type": "string", "required": true}]})),
            201,
        )
        .await;
    let source = api
        .ok(
            Method::POST,
            "/api/sources",
            Some(json!({"name": "feed", "kind": "http",
                "config": {"url": format!("{feed}/feed.csv"), "headers": {"Authorization": "Bearer s3cret"}}})),
            201,
        )
        .await;
    let source = source["id"].as_str().unwrap().to_owned();
    // Saving a mapping on an http source fetches it once to learn its columns.
    let mapping = api
        .ok(
            Method::POST,
            "/api/mappings",
            Some(
                json!({"name": "feed", "source_id": source, "schema_id": schema["id"],
                "fields": [{"target": "zip", "expr": "zip"}, {"target": "name", "expr": "name"}]}),
            ),
            201,
        )
        .await;
    let pipeline = api
        .ok(
            Method::POST,
            "/api/pipelines",
            Some(
                json!({"name": "feed", "source_id": source, "mapping_id": mapping["id"],
                "destination": {"kind": "dataset", "dataset": "feed"}}),
            ),
            201,
        )
        .await;
    let pipelines = [pipeline["id"].as_str().unwrap().to_owned()];
    let run = api.run(&pipelines[0], json!({})).await;
    assert_eq!(
        (&run["status"], &run["rows_read"], &run["rows_written"]),
        (&json!("success"), &json!(2), &json!(2)),
        "{run}"
    );
    let rows = api
        .ok(Method::GET, "/api/datasets/feed/rows", None, 200)
        .await;
    let mut zips: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["zip"].as_str().unwrap())
        .collect();
    zips.sort_unstable();
    assert_eq!(zips, ["00501", "02134"]);
    // The URL stops answering: the run fails, saying why.
    api.ok(
        Method::PUT,
        &format!("/api/sources/{source}"),
        Some(json!({"config": {"url": format!("{feed}/nothing.csv")}})),
        200,
    )
    .await;
    let failed = api.run(&pipelines[0], json!({})).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["reason"].as_str().unwrap().contains("HTTP 404"),
        "{failed}"
    );
}

#[tokio::test]
async fn a_relinx_source_reads_the_workspace_s_changes_once_each_from_its_cursor() {
    let server = server("runrelinx").await;
    let api = Api::sign_up(&server, "Own Data Inc").await;
    let save = |body: Value| {
        let api = &api;
        async move {
            let (status, saved) = api
                .call(Method::POST, "/api/v3/contact.save.json", Some(body))
                .await;
            assert_eq!(status, 200, "{saved}");
            saved["data"]["id"].clone()
        }
    };
    let ann = save(json!({"full_name": "Ann Lee", "emails": "ann@example.com"})).await;
    save(json!({"full_name": "Bob Ray", "emails": "bob@example.com"})).await;
    // Read once entries are settled (2 s).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let source = api
        .ok(
            Method::POST,
            "/api/sources",
            Some(json!({"name": "crm", "kind": "relinx", "config": {"entity": "contacts"}})),
            201,
        )
        .await;
    let schema = api
        .ok(
            Method::POST,
            "/api/schemas",
            Some(json!({"name": "people", "fields": [
                {"name": "contact_id", "type": "string", "required": true},
                {"name": "name", "type": "string", "required": false},
                {"name": "emails", "type": "string", "required": false}]})),
            201,
        )
        .await;
    let mapping = api
        .ok(
            Method::POST,
            "/api/mappings",
            Some(
                json!({"name": "crm", "source_id": source["id"], "schema_id": schema["id"],
                "fields": [{"target": "contact_id", "expr": "id"},
                           {"target": "name", "expr": "full_name"},
                           {"target": "emails", "expr": "emails"}]}),
            ),
            201,
        )
        .await;
    let pipeline = api
        .ok(
            Method::POST,
            "/api/pipelines",
            Some(json!({"name": "crm copy", "source_id": source["id"], "mapping_id": mapping["id"],
                "destination": {"kind": "dataset", "dataset": "people", "key": "contact_id"}, "mode": "upsert"})),
            201,
        )
        .await;
    let pipeline = pipeline["id"].as_str().unwrap().to_owned();
    let first = api.run(&pipeline, json!({})).await;
    assert_eq!(
        (
            &first["status"],
            &first["rows_read"],
            &first["rows_inserted"]
        ),
        (&json!("success"), &json!(2), &json!(2)),
        "{first}"
    );
    // One change and one new contact: the next run reads those two, no more.
    save(json!({"id": ann, "full_name": "Ann Lee-Ray"})).await;
    save(json!({"full_name": "Cy Ng", "emails": "cy@example.com"})).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let second = api.run(&pipeline, json!({})).await;
    assert_eq!(
        (
            &second["rows_read"],
            &second["rows_inserted"],
            &second["rows_updated"]
        ),
        (&json!(2), &json!(1), &json!(1)),
        "{second}"
    );
    let rows = api
        .ok(Method::GET, "/api/datasets/people/rows", None, 200)
        .await;
    let mut names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Ann Lee-Ray", "Bob Ray", "Cy Ng"]);
    let idle = api.run(&pipeline, json!({})).await;
    assert_eq!(idle["rows_read"], 0, "{idle}");
}

#[tokio::test]
async fn records_upsert_on_a_field_of_their_data_through_relaysync_s_own_rules() {
    let server = server("runrec").await;
    let api = Api::sign_up(&server, "Parts Inc").await;
    let source = api.source("parts").await;
    api.upload_csv(
        &source,
        "title,data\nValve,\"{\"\"sku\"\":\"\"A1\"\",\"\"qty\"\":3}\"\nPump,\"{\"\"sku\"\":\"\"B2\"\",\"\"qty\"\":1}\"\n",
    )
    .await;
    let mapping = api
        .ok(
            Method::POST,
            "/api/mappings",
            Some(
                json!({"name": "parts", "source_id": source, "schema_id": "record",
                "fields": [{"target": "title", "expr": "title"},
                           {"target": "type", "expr": "\"part\""},
                           {"target": "data", "expr": "data"}]}),
            ),
            201,
        )
        .await;
    let (status, refused) = api
        .call(
            Method::POST,
            "/api/pipelines",
            Some(
                json!({"name": "parts", "source_id": source, "mapping_id": mapping["id"],
                "destination": {"kind": "records", "key": "title"}, "mode": "upsert"}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("data.<field>"),
        "{refused}"
    );
    let pipeline = api
        .ok(
            Method::POST,
            "/api/pipelines",
            Some(
                json!({"name": "parts", "source_id": source, "mapping_id": mapping["id"],
                "destination": {"kind": "records", "key": "data.sku"}, "mode": "upsert"}),
            ),
            201,
        )
        .await;
    let pipeline = pipeline["id"].as_str().unwrap().to_owned();
    let first = api.run(&pipeline, json!({})).await;
    assert_eq!(
        (&first["status"], &first["rows_inserted"]),
        (&json!("success"), &json!(2)),
        "{first}"
    );
    api.upload_csv(
        &source,
        "title,data\nValve,\"{\"\"sku\"\":\"\"A1\"\",\"\"qty\"\":3}\"\nBig pump,\"{\"\"sku\"\":\"\"B2\"\",\"\"qty\"\":1}\"\n",
    )
    .await;
    let dry = api.run(&pipeline, json!({"dry_run": true})).await;
    assert_eq!(
        (
            &dry["would_insert"],
            &dry["would_update"],
            &dry["unchanged"]
        ),
        (&json!(0), &json!(1), &json!(1)),
        "{dry}"
    );
    let second = api.run(&pipeline, json!({})).await;
    assert_eq!(
        (
            &second["rows_inserted"],
            &second["rows_updated"],
            &second["rows_unchanged"]
        ),
        (&json!(0), &json!(1), &json!(1)),
        "{second}"
    );
    let (status, listed) = api.call(Method::GET, "/v1/records?limit=50", None).await;
    assert_eq!(status, 200, "{listed}");
    let mut titles: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles, ["Big pump", "Valve"]);

    // Upsert on id: the workspace's records change; an id it does not have is
    // rejected, saying why.
    let valve = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "Valve")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fixes = api.source("fixes").await;
    api.upload_csv(
        &fixes,
        &format!(
            "id,title,data\n{valve},Valve v2,\"{{\"\"sku\"\":\"\"A1\"\"}}\"\nrec_01JD8Z2X4Q7V3N5K9M2B6C8D0E,Ghost,\"{{}}\"\n"
        ),
    )
    .await;
    let mapping = api
        .ok(
            Method::POST,
            "/api/mappings",
            Some(
                json!({"name": "fixes", "source_id": fixes, "schema_id": "record",
                "fields": [{"target": "id", "expr": "id"}, {"target": "title", "expr": "title"},
                           {"target": "data", "expr": "data"}]}),
            ),
            201,
        )
        .await;
    let by_id = api
        .ok(
            Method::POST,
            "/api/pipelines",
            Some(
                json!({"name": "fixes", "source_id": fixes, "mapping_id": mapping["id"],
                "destination": {"kind": "records", "key": "id"}, "mode": "upsert"}),
            ),
            201,
        )
        .await;
    let fixed = api.run(by_id["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(
        (&fixed["rows_updated"], &fixed["rows_rejected"]),
        (&json!(1), &json!(1)),
        "{fixed}"
    );
    assert_eq!(fixed["errors"][0]["field"], "id", "{fixed}");
    let (_, valve_now) = api
        .call(Method::GET, &format!("/v1/records/{valve}"), None)
        .await;
    assert_eq!(valve_now["title"], "Valve v2", "{valve_now}");
}
