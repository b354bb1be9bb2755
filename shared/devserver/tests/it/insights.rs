//! Datalinx analytics as a client sees it, through a real dev server (API.md
//! "Datalinx insights"): grouped counts that see only the caller's workspace, the
//! expression language's errors at their position, events and clicks that agree
//! with the audit log and the link's own analytics, saved queries that answer as
//! the ad-hoc query does, and the read budget's 422.

use crate::runs::{Api, server};
use reqwest::Method;
use serde_json::{Value, json};

impl Api {
    /// Saves a contact in the workspace `ws` names (none: the default); its id.
    pub async fn save_contact(&self, ws: Option<&str>, body: Value) -> u64 {
        let headers: Vec<(&str, &str)> = ws.map(|w| ("x-workspace", w)).into_iter().collect();
        let (status, saved) = self
            .call_with(
                Method::POST,
                "/api/v3/contact.save.json",
                Some(body),
                &headers,
            )
            .await;
        assert_eq!(status, 200, "{saved}");
        saved["data"]["id"].as_u64().unwrap()
    }

    /// `POST /api/analytics/query`: status and body.
    pub async fn query(&self, query: Value) -> (u16, Value) {
        self.call(Method::POST, "/api/analytics/query", Some(query))
            .await
    }

    /// The rows of a query that must answer.
    pub async fn rows(&self, query: Value) -> Value {
        let (status, answer) = self.query(query).await;
        assert_eq!(status, 200, "{answer}");
        answer["data"]["rows"].clone()
    }
}

fn today() -> String {
    relinx_model::Timestamp::now().to_string()[..10].to_owned()
}

#[tokio::test]
async fn a_query_groups_filters_and_counts_only_its_workspace_and_says_where_it_is_wrong() {
    let server = server("insights").await;
    let api = Api::sign_up(&server, "Virtucon Watchers").await;
    for (name, company) in [
        ("Ann", "Virtucon"),
        ("Bob", "Virtucon"),
        ("Cy", "Virtucon"),
        ("Dee", "Acme"),
        ("Eve", "Acme"),
    ] {
        api.save_contact(None, json!({"full_name": name, "company": company}))
            .await;
    }
    // Another workspace of the same org, and another org: never counted.
    let (status, made) = api
        .call(
            Method::POST,
            "/v1/workspaces",
            Some(json!({"name": "elsewhere"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    api.save_contact(
        Some("elsewhere"),
        json!({"full_name": "Far", "company": "Virtucon"}),
    )
    .await;
    let other = Api::sign_up(&server, "Other Org").await;
    other
        .save_contact(None, json!({"full_name": "Out", "company": "Virtucon"}))
        .await;

    let grouped = api
        .rows(json!({"from": "contacts", "group_by": ["company"], "metrics": ["count"]}))
        .await;
    assert_eq!(grouped, json!([["Acme", 2], ["Virtucon", 3]]));
    let (_, answer) = api
        .query(json!({"from": "contacts", "where": "company == \"Virtucon\"", "metrics": ["count", "count_distinct(full_name)", "min(full_name)"]}))
        .await;
    assert_eq!(
        answer["data"]["columns"],
        json!(["count", "count_distinct(full_name)", "min(full_name)"])
    );
    assert_eq!(answer["data"]["rows"], json!([[3, 3, "Ann"]]));
    assert_eq!(answer["data"]["stats"]["items_read"], 5, "{answer}");
    assert!(
        answer["data"]["stats"]["computed_at"].is_string(),
        "{answer}"
    );
    let elsewhere = api
        .call_with(
            Method::POST,
            "/api/analytics/query",
            Some(json!({"from": "contacts", "metrics": ["count"]})),
            &[("x-workspace", "elsewhere")],
        )
        .await;
    assert_eq!(elsewhere.1["data"]["rows"], json!([[1]]), "{}", elsewhere.1);
    // Sorted by a metric, cut to a limit.
    let top = api
        .rows(json!({"from": "contacts", "group_by": ["company"], "metrics": ["count"], "order_by": ["count desc"], "limit": 1}))
        .await;
    assert_eq!(top, json!([["Virtucon", 3]]));

    // Each refusal a 422 naming the part, and the position in an expression.
    for (query, says) in [
        (
            json!({"from": "contacts", "where": "company ==", "metrics": ["count"]}),
            "where: at column 11",
        ),
        (
            json!({"from": "contacts", "metrics": ["median(x)"]}),
            "metrics[0]: unknown metric \"median\"",
        ),
        (
            json!({"from": "contacts", "group_by": ["day(nope)"], "metrics": ["count"]}),
            "group_by[0]: at column 5: unknown field \"nope\"",
        ),
        (
            json!({"from": "people", "metrics": ["count"]}),
            "from: \"people\" is not something a query reads",
        ),
    ] {
        let (status, bad) = api.query(query).await;
        assert_eq!(status, 422, "{bad}");
        let message = bad["message"].as_str().unwrap();
        assert!(message.contains(says), "{message} should say {says}");
    }

    // A saved query: checked on save as a query is, and its run answers as one.
    let query = json!({"from": "contacts", "group_by": ["company"], "metrics": ["count"]});
    let (status, refused) = api
        .call(
            Method::POST,
            "/api/queries",
            Some(
                json!({"name": "broken", "query": {"from": "contacts", "metrics": ["median(x)"]}}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let saved = api
        .ok(
            Method::POST,
            "/api/queries",
            Some(json!({"name": "by company", "query": query})),
            201,
        )
        .await;
    let id = saved["id"].as_str().unwrap();
    assert!(id.starts_with("qry_"), "{saved}");
    let run = api
        .ok(Method::POST, &format!("/api/queries/{id}/run"), None, 200)
        .await;
    assert_eq!(run["rows"], api.rows(query).await);
    assert_eq!(run["columns"], json!(["company", "count"]));
    let listed = api.ok(Method::GET, "/api/queries", None, 200).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    // Another org's key finds no such query.
    let (status, _) = other
        .call(Method::POST, &format!("/api/queries/{id}/run"), None)
        .await;
    assert_eq!(status, 404);
    let renamed = api
        .ok(
            Method::PUT,
            &format!("/api/queries/{id}"),
            Some(json!({"name": "contacts by company"})),
            200,
        )
        .await;
    assert_eq!(renamed["name"], "contacts by company");
    api.ok(Method::DELETE, &format!("/api/queries/{id}"), None, 200)
        .await;
    let (status, _) = api
        .call(Method::POST, &format!("/api/queries/{id}/run"), None)
        .await;
    assert_eq!(status, 404);
}

/// Every entry of the org's audit log (newest first) as the audit API lists it.
async fn audit_log(api: &Api) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut path = "/v1/audit?limit=200".to_owned();
    loop {
        let (status, page) = api.call(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{page}");
        entries.extend(page["data"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => path = format!("/v1/audit?limit=200&cursor={next}"),
            None => return entries,
        }
    }
}

#[tokio::test]
async fn events_agree_with_the_audit_log_and_clicks_with_the_links_analytics() {
    let server = server("insightsev").await;
    let api = Api::sign_up(&server, "Counting Co").await;
    for name in ["Ann", "Bob", "Cy"] {
        api.save_contact(None, json!({"full_name": name})).await;
    }
    let (status, link) = api
        .call(
            Method::POST,
            "/api/v1/smartlink",
            Some(json!({"config": {"smartlinkType": "Url"}})),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let id = link["id"].as_str().unwrap().to_owned();
    let slug = link["configuration"]["smartlinkUrl"].as_str().unwrap();
    let (status, _) = api
        .call(
            Method::PUT,
            "/api/v1/smartlink",
            Some(json!({"smartlinkId": id, "destination": {"url": "https://example.com/"}})),
        )
        .await;
    assert_eq!(status, 200);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0")
        .build()
        .unwrap();
    for path in ["", "", "", "?src=qr"] {
        let visit = browser
            .get(format!("http://{}/{slug}{path}", server.links_addr))
            .send()
            .await
            .unwrap();
        assert_eq!(visit.status().as_u16(), 302);
    }

    let day = today();
    // Every change of this workspace (the org's only one) today, by the audit log
    // and by a query.
    let logged = audit_log(&api)
        .await
        .into_iter()
        .filter(|e| e["workspace"].is_string())
        .filter(|e| e["timestamp"].as_str().unwrap().starts_with(&day))
        .count();
    let events = api
        .rows(json!({"from": "events", "group_by": ["day(timestamp)"], "metrics": ["count"], "range": {"from": day, "to": day}}))
        .await;
    assert_eq!(events, json!([[day, logged]]));
    let by_name = api
        .rows(json!({"from": "events", "where": "event == \"contact.saved\"", "metrics": ["count"], "range": {"from": day}}))
        .await;
    assert_eq!(by_name, json!([[3]]));

    // Clicks from the link's day counters, exactly its analytics.
    let (_, stats) = api
        .call(
            Method::GET,
            &format!("/api/v1/smartlink/analytics?id={id}&from={day}&to={day}"),
            None,
        )
        .await;
    let clicks = api
        .rows(json!({"from": "clicks", "where": format!("link_id == \"{id}\""), "group_by": ["day"], "metrics": ["sum(clicks)", "sum(qr_code_scans)"], "range": {"from": day, "to": day}}))
        .await;
    assert_eq!(
        clicks,
        json!([[
            day,
            stats["totals"]["totalClicks"],
            stats["totals"]["totalQrCodeScans"]
        ]])
    );
    assert_eq!(clicks[0][1], 3, "{stats}");
}

#[tokio::test]
async fn a_query_within_the_read_budget_answers_and_one_past_it_is_a_422_naming_it() {
    let prefix = format!("insightsrb{}", crate::support::rand_u64() % 1_000_000_000);
    let server =
        crate::dev_server::spawn(&prefix, true, &[("RELINX_QUERY_READ_BUDGET", "20")]).await;
    let api = Api::sign_up(&server, "Budget Co").await;
    for i in 0..20 {
        api.save_contact(None, json!({"full_name": format!("P{i}")}))
            .await;
    }
    let count = json!({"from": "contacts", "metrics": ["count"]});
    assert_eq!(api.rows(count.clone()).await, json!([[20]]));
    api.save_contact(None, json!({"full_name": "one too many"}))
        .await;
    let (status, refused) = api.query(count).await;
    assert_eq!(status, 422, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("read budget of 20 items"), "{refused}");
    // A narrower range reads less: today's events fit, the whole log does not.
    let (status, _) = api
        .query(json!({"from": "events", "metrics": ["count"]}))
        .await;
    assert_eq!(status, 422);
    let now = relinx_model::Timestamp::now().to_string();
    let (status, answer) = api
        .query(json!({"from": "events", "metrics": ["count"], "range": {"from": now}}))
        .await;
    assert_eq!(status, 200, "{answer}");
}

impl Api {
    /// The audience as it is now.
    async fn audience(&self, id: &str) -> Value {
        self.ok(Method::GET, &format!("/api/audiences/{id}"), None, 200)
            .await
    }

    /// Polls the audience until `done` holds of it (at most `seconds`).
    async fn audience_until(&self, id: &str, seconds: u64, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let now = self.audience(id).await;
            if done(&now) {
                return now;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the audience did not settle within {seconds} s: {now}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Every member's contact id.
    async fn member_ids(&self, id: &str) -> Vec<u64> {
        let (status, page) = self
            .call(
                Method::GET,
                &format!("/api/audiences/{id}/members?page_size=200"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["contact_id"].as_u64().unwrap())
            .collect()
    }
}

#[tokio::test]
async fn an_audience_follows_every_save_on_two_instances_and_its_size_is_its_members() {
    let prefix = format!("audience{}", crate::support::rand_u64() % 1_000_000_000);
    let first = crate::dev_server::spawn(&prefix, true, &[]).await;
    let second = crate::dev_server::spawn(&prefix, true, &[]).await;
    let api = Api::sign_up(&first, "Acme Watchers").await;
    let other = api.at(&second);
    let (got, hooks) = crate::runs::receiver().await;
    let (status, hook) = api
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(json!({"url": format!("{hooks}/exits"), "events": ["audience.exited"]})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");

    let ann = api
        .save_contact(None, json!({"full_name": "Ann", "company": "Acme"}))
        .await;
    let bob = api
        .save_contact(None, json!({"full_name": "Bob", "company": "Acme"}))
        .await;
    api.save_contact(None, json!({"full_name": "Cy", "company": "Virtucon"}))
        .await;
    let (status, refused) = api
        .call(
            Method::POST,
            "/api/audiences",
            Some(json!({"name": "broken", "where": "company =="})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("where: at column 11"),
        "{refused}"
    );
    let made = api
        .ok(
            Method::POST,
            "/api/audiences",
            Some(json!({"name": "Acme people", "where": "company == \"Acme\""})),
            201,
        )
        .await;
    assert_eq!(made["size"], 2, "{made}");
    assert!(made["refreshed_at"].is_string(), "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("aud_"));

    // A third Acme contact, saved on the other instance: a member within seconds.
    let dee = other
        .save_contact(None, json!({"full_name": "Dee", "company": "Acme"}))
        .await;
    api.audience_until(&id, 5, |a| a["size"] == 3).await;
    let mut members = api.member_ids(&id).await;
    members.sort_unstable();
    assert_eq!(members, vec![ann, bob, dee]);

    // Deleted: it exits. Its company changed: it exits, and a webhook hears it.
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v3/contact.delete.json",
            Some(json!({"id": dee})),
        )
        .await;
    assert_eq!(status, 200);
    api.audience_until(&id, 5, |a| a["size"] == 2).await;
    api.save_contact(None, json!({"id": bob, "company": "Globex"}))
        .await;
    api.audience_until(&id, 5, |a| a["size"] == 1).await;
    assert_eq!(api.member_ids(&id).await, vec![ann]);
    let (status, left) = api
        .call(
            Method::GET,
            &format!("/api/audiences/{id}/members?exited=true"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{left}");
    let exited: Vec<u64> = left["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["contact_id"].as_u64().unwrap())
        .collect();
    assert_eq!(exited.len(), 2, "{left}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let heard: Vec<Value> = got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, _, body)| serde_json::from_str(body).unwrap())
            .collect();
        if heard
            .iter()
            .any(|e| e["event"] == "audience.exited" && e["data"]["contact_id"] == bob)
        {
            assert!(
                heard
                    .iter()
                    .all(|e| e["data"]["audience_id"] == id.as_str()),
                "{heard:?}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no audience.exited for Bob: {heard:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // 20 saves at once, half on each instance (both consume the stream): every new
    // Acme contact joins once, and the size is the members listed.
    let saves = (0..20).map(|i| {
        let client = if i % 2 == 0 { &api } else { &other };
        let company = if i % 4 == 3 { "Virtucon" } else { "Acme" };
        client.save_contact(
            None,
            json!({"full_name": format!("P{i}"), "company": company}),
        )
    });
    futures::future::join_all(saves).await;
    let settled = api.audience_until(&id, 10, |a| a["size"] == 16).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let after = api.audience(&id).await;
    assert_eq!(
        after["size"], settled["size"],
        "it moved after settling: {after}"
    );
    assert_eq!(api.member_ids(&id).await.len(), 16);
    // A rebuild from every contact finds nothing to change.
    let refreshed = api
        .ok(
            Method::POST,
            &format!("/api/audiences/{id}/refresh"),
            None,
            200,
        )
        .await;
    assert_eq!(
        (
            refreshed["entered"].clone(),
            refreshed["exited"].clone(),
            refreshed["size"].clone()
        ),
        (json!(0), json!(0), json!(16)),
        "{refreshed}"
    );

    // Another org sees no such audience.
    let stranger = Api::sign_up(&first, "Strangers").await;
    let (status, _) = stranger
        .call(Method::GET, &format!("/api/audiences/{id}/members"), None)
        .await;
    assert_eq!(status, 404);

    // A new condition rebuilds it; deleted, it is gone with its members.
    let changed = api
        .ok(
            Method::PUT,
            &format!("/api/audiences/{id}"),
            Some(json!({"where": "company == \"Virtucon\""})),
            200,
        )
        .await;
    assert_eq!(changed["size"], 6, "{changed}");
    api.ok(Method::DELETE, &format!("/api/audiences/{id}"), None, 200)
        .await;
    let (status, _) = api
        .call(Method::GET, &format!("/api/audiences/{id}/members"), None)
        .await;
    assert_eq!(status, 404);
    let listed = api.ok(Method::GET, "/api/audiences", None, 200).await;
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn a_workspace_keeps_at_most_fifty_audiences() {
    let server = server("audlimit").await;
    let api = Api::sign_up(&server, "Many Segments").await;
    for i in 0..50 {
        api.ok(
            Method::POST,
            "/api/audiences",
            Some(json!({"name": format!("segment {i}"), "where": "company == \"Acme\""})),
            201,
        )
        .await;
    }
    let (status, refused) = api
        .call(
            Method::POST,
            "/api/audiences",
            Some(json!({"name": "one more", "where": "company == \"Acme\""})),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error_code"], "TOO_MANY_AUDIENCES");
    let listed = api
        .ok(Method::GET, "/api/audiences?page_size=200", None, 200)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn ranges_past_either_end_of_time_read_up_to_it() {
    let server = server("insightsrange").await;
    let api = Api::sign_up(&server, "Far Ranges").await;
    api.save_contact(None, json!({"full_name": "Now"})).await;
    for from in ["events", "records", "clicks", "contacts"] {
        for (start, end) in [
            ("0001-01-01", "2026-01-01"),
            ("1900-01-01", "99999-01-01"),
            ("2026-01-01", "9999-12-31"),
        ] {
            let (status, answer) = api
                .query(json!({"from": from, "metrics": ["count"], "range": {"from": start, "to": end}}))
                .await;
            assert!(
                status == 200 || status == 422,
                "{from} {start}..{end}: {status} {answer}"
            );
        }
    }
    let (status, answer) = api
        .query(json!({"from": "events", "metrics": ["count"], "range": {"from": "1900-01-01", "to": "9999-12-31"}}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["data"]["rows"][0][0].as_u64().unwrap() >= 1,
        "{answer}"
    );
}

#[tokio::test]
async fn contacts_a_pipeline_imports_join_audiences_as_saved_ones_do() {
    let server = server("audimport").await;
    let api = Api::sign_up(&server, "Import Segments").await;
    let made = api
        .ok(
            Method::POST,
            "/api/audiences",
            Some(json!({"name": "the Lees and Rays", "where": "last_name == \"Lee\" || last_name == \"Ray\""})),
            201,
        )
        .await;
    assert_eq!(made["size"], 0);
    let id = made["id"].as_str().unwrap().to_owned();
    let (_, pipeline) = crate::runs::contacts_pipeline(&api, crate::runs::PEOPLE).await;
    let ended = api.run(&pipeline, json!({})).await;
    assert_eq!(ended["status"], "success", "{ended}");
    api.audience_until(&id, 5, |a| a["size"] == 2).await;
    assert_eq!(api.member_ids(&id).await.len(), 2);
}
