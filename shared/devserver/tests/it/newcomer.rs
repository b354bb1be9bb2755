//! What a newcomer following the README and the seeds' own examples meets: short
//! links that redirect curl, errors that name what is wrong, the event-type
//! catalogue, CORS for a browser page, Relenta bodies as curl sends them.

use http::{Method, Request, StatusCode};
use relinx_testkit::TestApp;
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

#[tokio::test]
async fn short_links_redirect_curl_and_browsers_and_show_unfurlers_their_tags() {
    let api = app().await;
    let links = api.beside(relinx_devserver::links_app);
    let t = api.tenant().await;
    let key = [t.key_header()];
    let made = api
        .post(
            "/api/v1/smartlink",
            &key,
            json!({"config": {"smartlinkType": "Url"}}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let slug = made.json()["configuration"]["smartlinkUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let open = |agent: &'static str| {
        let links = &links;
        let path = format!("/{slug}");
        async move { links.get(&path, &[("user-agent", agent.to_owned())]).await }
    };
    // No destination yet: its page says so.
    let empty = open("curl/8.5.0").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert!(empty.text.contains("no destination yet"), "{}", empty.text);

    let set = api
        .call(
            Method::PUT,
            "/api/v1/smartlink",
            &key,
            Some(
                json!({"smartlinkId": id, "destination": {"url": "https://example.com/sale"},
                "openGraph": {"title": "Spring sale", "description": "Half off"}}),
            ),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let curl = open("curl/8.5.0").await;
    assert_eq!(curl.status, StatusCode::FOUND, "{}", curl.text);
    assert_eq!(curl.header("location"), Some("https://example.com/sale"));
    let browser =
        open("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0").await;
    assert_eq!(browser.status, StatusCode::FOUND);
    let slack = open("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)").await;
    assert_eq!(slack.status, StatusCode::OK, "{}", slack.text);
    assert!(
        slack
            .text
            .contains("<meta property=\"og:title\" content=\"Spring sale\">"),
        "{}",
        slack.text
    );
    // curl and Slackbot count as bots; the browser as the one click.
    api.platform.after_response.settled().await;
    let today: String = relinx_model::Timestamp::now().to_string()[..10].to_owned();
    let stats = api
        .get(
            &format!("/api/v1/smartlink/analytics?id={id}&from={today}&to={today}"),
            &key,
        )
        .await
        .json();
    assert_eq!(stats["totals"]["totalClicks"], 1, "{stats}");
    assert_eq!(stats["bots"], 2, "{stats}");
}

#[tokio::test]
async fn a_refused_key_is_named_by_where_it_came_from() {
    let app = app().await;
    for (header, value, named) in [
        (
            "x-relenta-department-key",
            "nope.nope",
            "X-Relenta-Department-Key",
        ),
        ("x-api-key", "nope.nope", "X-API-Key"),
        ("authorization", "ApiKey nope.nope", "Authorization"),
    ] {
        let refused = app
            .get("/v1/workspaces", &[(header, value.to_owned())])
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let message = refused.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(named), "{header}: {message}");
    }
    let relenta = app
        .get(
            "/api/v3/contact.list.json",
            &[(
                "x-relenta-department-key",
                "AAAAAAAAAAAAAAAA.bad".to_owned(),
            )],
        )
        .await;
    assert_eq!(relenta.status, StatusCode::UNAUTHORIZED);
    assert!(
        relenta.json()["message"]
            .as_str()
            .unwrap()
            .contains("X-Relenta-Department-Key"),
        "{}",
        relenta.text
    );
    let token = app
        .post("/v1/auth/token", &[], json!({"api_key": "nope.nope"}))
        .await;
    assert_eq!(token.status, StatusCode::UNAUTHORIZED);
    let message = token.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("api_key: the key in the body"),
        "{message}"
    );
}

#[tokio::test]
async fn every_event_type_is_listed_and_an_unknown_name_points_there() {
    let app = app().await;
    let t = app.tenant().await;
    let listed = app.get("/v1/webhooks/event-types", &[t.key_header()]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let types = listed.json()["data"].as_array().unwrap().clone();
    assert_eq!(types.len(), relinx_model::EventName::ALL.len());
    let synced = types
        .iter()
        .find(|e| e["name"] == "record.synced")
        .expect("record.synced");
    assert!(synced["description"].as_str().unwrap().contains("synced"));
    assert_eq!(synced["example"]["event"], "record.synced");
    assert_eq!(synced["example"]["data"]["status"], "synced");
    let refused = app
        .post(
            "/v1/webhooks",
            &[t.key_header()],
            json!({"url": "https://93.184.216.34/hook", "events": ["record.exploded"]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.text.contains("/v1/webhooks/event-types"),
        "{}",
        refused.text
    );
}

async fn preflight(app: &TestApp, origin: &str) -> relinx_testkit::TestResponse {
    app.raw(
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/records")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,idempotency-key",
            )
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_browser_page_on_an_allowed_origin_may_call_the_api_and_no_other() {
    let app = TestApp::with(
        relinx_devserver::app,
        Default::default(),
        relinx_http::Settings {
            cors_origins: vec!["https://console.example.com".into()],
            ..relinx_testkit::open_settings()
        },
    )
    .await;
    let allowed = preflight(&app, "https://console.example.com").await;
    assert!(allowed.status.is_success(), "{}", allowed.status);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://console.example.com")
    );
    let methods = allowed
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(headers.contains("idempotency-key"), "{headers}");

    let other = preflight(&app, "https://evil.example.net").await;
    assert!(other.header("access-control-allow-origin").is_none());
    // And by default, none at all.
    let default = preflight(&self::app().await, "https://console.example.com").await;
    assert!(default.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn every_relenta_body_may_be_json_or_a_form() {
    let app = app().await;
    let t = app.tenant().await;
    let key = ("x-relenta-department-key", t.api_key.clone());
    let form = |path: &str, body: &'static str| {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v3/{path}"))
            .header(key.0, key.1.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap();
        app.raw(request)
    };
    let field = form(
        "custom_field.save.json",
        "label=T-shirt+size&type=Single+choice&choices[]=S&choices[]=M&choices[]=L",
    )
    .await;
    assert_eq!(field.status, StatusCode::OK, "{}", field.text);
    assert_eq!(field.json()["data"]["choices"], json!(["S", "M", "L"]));
    let saved = form(
        "contact.save.json",
        "full_name=Dr.+Evil&emails=ceo%40virtucon.biz&T-shirt_size=L",
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let id = saved.json()["data"]["id"].as_u64().unwrap();
    let activity = form(
        "activity.save.json",
        "label=Lunch&dt_start=2026-11-30T12%3A00%3A00Z",
    )
    .await;
    assert_eq!(activity.status, StatusCode::OK, "{}", activity.text);
    let activity_id = activity.json()["data"]["id"].as_u64().unwrap();
    let gone = app
        .raw(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v3/contact.delete.json")
                .header(key.0, key.1.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!("id={id}")))
                .unwrap(),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
    let gone = app
        .raw(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v3/activity.delete.json")
                .header(key.0, key.1.clone())
                .body(axum::body::Body::from(format!("id={activity_id}")))
                .unwrap(),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
    // JSON still, as the seed's examples send it.
    let json_delete = app
        .post(
            "/api/v3/contact.delete.json",
            std::slice::from_ref(&key),
            json!({"id": id.to_string()}),
        )
        .await;
    let body: Value = json_delete.json();
    assert_eq!(body["code"], 404, "deleted already: {body}");
}
