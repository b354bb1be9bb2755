//! Relink's smartlinks as seed 001 shows them: its own request bodies, its response
//! shapes, plan limits, slugs unique across orgs, soft delete, Relink's error body.

use http::{Method, StatusCode};
use relinx_testkit::TestApp;
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

/// An org on `plan` through the signup route; its key header.
async fn org_on(app: &TestApp, plan: &str) -> (&'static str, String) {
    let made = app
        .post(
            "/v1/signup",
            &[],
            json!({
                "organization": format!("{plan} org"),
                "email": crate::support::unique("links"),
                "password": "a long enough password",
                "plan": plan,
            }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    (
        "authorization",
        format!("Bearer {}", made.json()["api_key"].as_str().unwrap()),
    )
}

async fn create(app: &TestApp, key: &(&'static str, String), config: Value) -> (StatusCode, Value) {
    let made = app
        .post(
            "/api/v1/smartlink",
            std::slice::from_ref(key),
            json!({ "config": config }),
        )
        .await;
    (made.status, made.json())
}

fn relink_error(body: &Value) {
    assert_eq!(body["status"], "error", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn the_seed_examples_give_the_seed_shapes() {
    let app = app().await;
    let key = org_on(&app, "pro").await;
    let h = [key.clone()];
    let slug = format!("custom-{}", crate::support::rand_u64() % 1_000_000);
    let (status, link) = create(
        &app,
        &key,
        json!({"smartlinkTempUrl": slug, "smartlinkName": "My Smartlink", "smartlinkType": "App"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let id = link["id"].as_str().unwrap().to_owned();
    assert_eq!(link["status"], "Active");
    assert_eq!(link["type"], "App");
    assert!(
        link["relink"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{slug}"))
    );
    assert_eq!(link["configuration"]["smartlinkName"], "My Smartlink");
    assert_eq!(link["configuration"]["smartlinkUrl"], slug.as_str());
    assert_eq!(
        link["analytics"],
        json!({"totalClicks": 0, "totalQrCodeScans": 0, "totalFallBack": 0})
    );
    assert_eq!(
        link["destination"],
        json!({"iosUrl": null, "androidUrl": null, "fallbackUrl": null})
    );
    for field in ["userId", "createdAt", "updatedAt"] {
        assert!(link[field].is_string(), "{field}: {link}");
    }

    // Defaults: a generated 6-character slug, "Relink Smartlink", App.
    let (status, plain) = create(&app, &key, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    let generated = plain["configuration"]["smartlinkUrl"].as_str().unwrap();
    assert_eq!(generated.len(), 6);
    assert!(generated.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(plain["configuration"]["smartlinkName"], "Relink Smartlink");
    assert_eq!(plain["type"], "App");

    let all = app.get("/api/v1/smartlink", &h).await;
    assert_eq!(all.status, StatusCode::OK);
    let listed = all.json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert!(ids.contains(&id.as_str()), "{ids:?}");
    let one = app.get(&format!("/api/v1/smartlink?id={id}"), &h).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.json()["id"], id.as_str());

    // The seed's update body (PATCH semantics), then a destination for the new type.
    let new_slug = format!("{slug}-2");
    let updated = app
        .call(
            Method::PUT,
            "/api/v1/smartlink",
            &h,
            Some(json!({
                "smartlinkId": id,
                "smartlinkConfig": {"type": "Url"},
                "configuration": {"smartlinkName": "Renamed", "smartlinkUrl": new_slug},
                "openGraph": {"title": "Page Title", "description": "Page Description", "imageUrl": "https://example.com/image.jpg"},
                "customHtml": {"head": "<meta name='custom' content='value'>", "body": "<script>console.log('Custom HTML');</script>", "active": true},
                "destination": {"url": "https://example.com/landing"},
            })),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let updated = updated.json();
    assert_eq!(updated["type"], "Url");
    assert_eq!(updated["configuration"]["smartlinkName"], "Renamed");
    assert!(updated["relink"].as_str().unwrap().ends_with(&new_slug));
    assert_eq!(updated["openGraph"]["title"], "Page Title");
    assert_eq!(updated["customHtml"]["active"], true);
    assert_eq!(
        updated["destination"],
        json!({"url": "https://example.com/landing"})
    );
    // Absent fields stay; null clears.
    let cleared = app
        .call(
            Method::PUT,
            "/api/v1/smartlink",
            &h,
            Some(json!({"smartlinkId": id, "openGraph": {"description": null}})),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(cleared.json()["openGraph"]["title"], "Page Title");
    assert_eq!(cleared.json()["openGraph"]["description"], Value::Null);
    assert_eq!(cleared.json()["configuration"]["smartlinkName"], "Renamed");

    let deleted = app
        .call(
            Method::DELETE,
            "/api/v1/smartlink",
            &h,
            Some(json!({"smartlinkId": id})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        deleted.json(),
        json!({"message": "Smartlink deleted successfully"})
    );
    // Gone from the list and from reads; its slugs stay taken.
    let all = app.get("/api/v1/smartlink", &h).await;
    assert!(
        !all.text.contains(&id),
        "a deleted link is not listed: {}",
        all.text
    );
    let gone = app.get(&format!("/api/v1/smartlink?id={id}"), &h).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    relink_error(&gone.json());
    for taken in [&slug, &new_slug] {
        let (status, body) = create(&app, &key, json!({"smartlinkTempUrl": taken})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{taken}: {body}");
        relink_error(&body);
    }
    let again = app
        .call(
            Method::DELETE,
            "/api/v1/smartlink",
            &h,
            Some(json!({"smartlinkId": id})),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn plans_limit_active_smartlinks_and_a_race_for_the_last_place_has_one_winner() {
    let app = app().await;
    let starter = org_on(&app, "starter").await;
    let mut made = Vec::new();
    for _ in 0..3 {
        let (status, link) = create(&app, &starter, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{link}");
        made.push(link["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = create(&app, &starter, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the 4th on starter: {body}");
    relink_error(&body);
    let deleted = app
        .call(
            Method::DELETE,
            "/api/v1/smartlink",
            std::slice::from_ref(&starter),
            Some(json!({"smartlinkId": made[0]})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let (status, _) = create(&app, &starter, json!({})).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a deleted link frees its place"
    );

    let pro = org_on(&app, "pro").await;
    for n in 0..9 {
        let (status, body) = create(&app, &pro, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "pro #{}: {body}", n + 1);
    }
    // Two at once for the 10th and last place: one wins.
    let (a, b) = tokio::join!(create(&app, &pro, json!({})), create(&app, &pro, json!({})));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::FORBIDDEN],
        "{a:?} {b:?}"
    );
    let (status, _) = create(&app, &pro, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the 11th on pro");

    let enterprise = org_on(&app, "enterprise").await;
    for _ in 0..12 {
        let (status, body) = create(&app, &enterprise, json!({})).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "enterprise is unlimited: {body}"
        );
    }
}

#[tokio::test]
async fn slugs_are_unique_across_orgs_without_regard_to_case_and_some_are_reserved() {
    let app = app().await;
    let (a, b) = (org_on(&app, "pro").await, org_on(&app, "pro").await);
    let slug = format!("Promo_{}", crate::support::rand_u64() % 1_000_000);
    let (status, _) = create(&app, &a, json!({"smartlinkTempUrl": slug})).await;
    assert_eq!(status, StatusCode::CREATED);
    for (key, taken) in [
        (&a, slug.clone()),
        (&b, slug.clone()),
        (&b, slug.to_uppercase()),
        (&b, slug.to_lowercase()),
    ] {
        let (status, body) = create(&app, key, json!({"smartlinkTempUrl": taken})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{taken}: {body}");
        relink_error(&body);
    }
    for (bad, why) in [
        ("api", "reserved"),
        ("Health", "reserved"),
        ("ab", "3 to 64"),
        ("has space", "letters, digits"),
    ] {
        let (status, body) = create(&app, &b, json!({"smartlinkTempUrl": bad})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("smartlinkTempUrl") && message.contains(why),
            "{bad}: {message}"
        );
    }
    let (status, body) = create(&app, &b, json!({"smartlinkType": "Carrier pigeon"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("smartlinkType"));
}

#[tokio::test]
async fn destinations_are_checked_by_type_and_links_stay_in_their_org() {
    let app = app().await;
    let (a, b) = (org_on(&app, "pro").await, org_on(&app, "pro").await);
    let (_, link) = create(&app, &a, json!({"smartlinkType": "Landing"})).await;
    let id = link["id"].as_str().unwrap();
    assert_eq!(
        link["destination"],
        json!({"title": null, "text": null, "buttons": []})
    );
    for (destination, field) in [
        (json!({"url": "https://x.io"}), "destination"),
        (
            json!({"title": "t", "buttons": [{"label": "Go", "url": "javascript:alert(1)"}]}),
            "destination.buttons[0].url",
        ),
    ] {
        let refused = app
            .call(
                Method::PUT,
                "/api/v1/smartlink",
                std::slice::from_ref(&a),
                Some(json!({"smartlinkId": id, "destination": destination})),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        assert!(
            refused.json()["message"].as_str().unwrap().contains(field),
            "{}",
            refused.text
        );
    }
    let ok = app
        .call(
            Method::PUT,
            "/api/v1/smartlink",
            std::slice::from_ref(&a),
            Some(json!({"smartlinkId": id, "destination": {"title": "Hello", "text": "World", "buttons": [{"label": "Go", "url": "https://x.io"}]}})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);

    // Org B: none of it.
    let theirs = app
        .get(
            &format!("/api/v1/smartlink?id={id}"),
            std::slice::from_ref(&b),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    relink_error(&theirs.json());
    let listed = app.get("/api/v1/smartlink", std::slice::from_ref(&b)).await;
    assert_eq!(listed.json(), json!([]));
    for method in [Method::PUT, Method::DELETE] {
        let answer = app
            .call(
                method.clone(),
                "/api/v1/smartlink",
                std::slice::from_ref(&b),
                Some(json!({"smartlinkId": id})),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method}: {}",
            answer.text
        );
    }
}

const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15";

/// The API and the links host of one deployment.
async fn hosts() -> (TestApp, TestApp) {
    let api = app().await;
    let links = api.beside(relinx_devserver::links_app);
    (api, links)
}

async fn open(links: &TestApp, path: &str, agent: &str) -> relinx_testkit::TestResponse {
    links.get(path, &[("user-agent", agent.to_owned())]).await
}

/// A link of `type` with `destination` (and `extra` PUT fields); its id and slug.
async fn link_with(
    api: &TestApp,
    key: &(&'static str, String),
    link_type: &str,
    destination: Value,
    extra: Value,
) -> (String, String) {
    let (status, made) = create(api, key, json!({"smartlinkType": link_type})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    let mut body = json!({"smartlinkId": id, "destination": destination});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let updated = api
        .call(
            Method::PUT,
            "/api/v1/smartlink",
            std::slice::from_ref(key),
            Some(body),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let slug = made["configuration"]["smartlinkUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, slug)
}

/// The link's totals once every hit in flight has been written (what the Lambda
/// extension waits for before an instance may be frozen).
async fn totals(api: &TestApp, key: &(&'static str, String), id: &str) -> Value {
    api.platform.after_response.settled().await;
    let got = api
        .get(
            &format!("/api/v1/smartlink?id={id}"),
            std::slice::from_ref(key),
        )
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    got.json()["analytics"].clone()
}

#[tokio::test]
async fn a_thousand_concurrent_redirects_count_a_thousand_clicks_and_nothing_else() {
    let (api, links) = hosts().await;
    let key = org_on(&api, "pro").await;
    let (id, slug) = link_with(
        &api,
        &key,
        "Url",
        json!({"url": "https://example.com/sale"}),
        json!({}),
    )
    .await;

    let path = format!("/{slug}");
    let visits = (0..1000).map(|_| open(&links, &path, DESKTOP));
    for answer in futures::future::join_all(visits).await {
        assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text);
        assert_eq!(answer.header("location"), Some("https://example.com/sale"));
        assert_eq!(answer.header("cache-control"), Some("private, max-age=0"));
    }
    let scan_path = format!("/{slug}?src=qr");
    let scans = (0..10).map(|_| open(&links, &scan_path, IPHONE));
    for answer in futures::future::join_all(scans).await {
        assert_eq!(answer.status, StatusCode::FOUND);
    }
    // Previews: HEAD requests and unfurlers see the page's tags and are no clicks.
    let head = links
        .call(
            Method::HEAD,
            &format!("/{slug}"),
            &[("user-agent", DESKTOP.to_owned())],
            None,
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    let unfurl = open(
        &links,
        &format!("/{slug}"),
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    )
    .await;
    // No Open Graph data of its own to show: the unfurler follows to the destination
    // (and reads that page's tags), counted as a bot.
    assert_eq!(unfurl.status, StatusCode::FOUND, "{}", unfurl.text);
    assert_eq!(
        totals(&api, &key, &id).await,
        json!({"totalClicks": 1000, "totalQrCodeScans": 10, "totalFallBack": 0})
    );

    let today: String = relinx_model::Timestamp::now()
        .to_string()
        .chars()
        .take(10)
        .collect();
    let stats = api
        .get(
            &format!("/api/v1/smartlink/analytics?id={id}&from={today}&to={today}"),
            std::slice::from_ref(&key),
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    let stats = stats.json();
    assert_eq!(stats["days"][0]["date"], today.as_str());
    assert_eq!(stats["days"][0]["clicks"], 1000);
    assert_eq!(stats["days"][0]["qrCodeScans"], 10);
    assert_eq!(stats["bots"], 2);
    assert_eq!(
        stats["devices"],
        json!({"bot": 2, "desktop": 1000, "ios": 10})
    );
}

#[tokio::test]
async fn app_links_go_by_device_and_count_their_fallbacks() {
    let (api, links) = hosts().await;
    let key = org_on(&api, "pro").await;
    let (id, slug) = link_with(
        &api,
        &key,
        "App",
        json!({"iosUrl": "https://apps.apple.com/app/x", "androidUrl": "https://play.google.com/x", "fallbackUrl": "https://x.example/"}),
        json!({}),
    )
    .await;
    let ios = open(&links, &format!("/{slug}"), IPHONE).await;
    assert_eq!(ios.header("location"), Some("https://apps.apple.com/app/x"));
    let android = open(
        &links,
        &format!("/{slug}"),
        "Mozilla/5.0 (Linux; Android 14; Pixel 8)",
    )
    .await;
    assert_eq!(
        android.header("location"),
        Some("https://play.google.com/x")
    );
    let desktop = links
        .get(
            &format!("/{slug}"),
            &[
                ("user-agent", DESKTOP.to_owned()),
                ("referer", "https://news.example.org/post".to_owned()),
                ("cloudfront-viewer-country", "DE".to_owned()),
            ],
        )
        .await;
    assert_eq!(desktop.header("location"), Some("https://x.example/"));
    assert_eq!(
        totals(&api, &key, &id).await,
        json!({"totalClicks": 3, "totalQrCodeScans": 0, "totalFallBack": 1})
    );
    let stats = api
        .get(
            &format!("/api/v1/smartlink/analytics?id={id}"),
            std::slice::from_ref(&key),
        )
        .await
        .json();
    assert_eq!(stats["referrers"], json!({"news.example.org": 1}));
    assert_eq!(stats["countries"], json!({"DE": 1}));
}

#[tokio::test]
async fn pages_escape_every_value_and_show_custom_html_only_when_active() {
    let (api, links) = hosts().await;
    let key = org_on(&api, "pro").await;
    let evil = "\"><script>alert(1)</script>";
    let (id, slug) = link_with(
        &api,
        &key,
        "Landing",
        json!({"title": evil, "text": "<b>bold?</b>", "buttons": [{"label": evil, "url": "https://x.example/?a=\"b\""}]}),
        json!({
            "openGraph": {"title": evil, "description": evil, "imageUrl": "https://img.example/a.png"},
            "customHtml": {"head": "<meta name='custom' content='value'>", "body": "<p id='custom-body'>hi</p>", "active": false},
        }),
    )
    .await;
    let page = open(&links, &format!("/{slug}"), DESKTOP).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        !page.text.contains("<script>alert(1)</script>"),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.text
    );
    assert!(page.text.contains("&lt;b&gt;bold?&lt;/b&gt;"));
    assert!(
        page.text
            .contains("<meta property=\"og:image\" content=\"https://img.example/a.png\">")
    );
    assert!(page.text.contains("twitter:card"));
    assert!(!page.text.contains("custom-body"), "custom HTML is off");

    let on = api
        .call(
            Method::PUT,
            "/api/v1/smartlink",
            std::slice::from_ref(&key),
            Some(json!({"smartlinkId": id, "customHtml": {"active": true}})),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK);
    let page = open(&links, &format!("/{slug}"), DESKTOP).await;
    assert!(
        page.text.contains("<p id='custom-body'>hi</p>"),
        "{}",
        page.text
    );
    assert!(page.text.contains("<meta name='custom' content='value'>"));

    // A DigiCard is a page and a vCard.
    let (_, card) = link_with(
        &api,
        &key,
        "DigiCard",
        json!({"name": "Ada Lovelace", "title": "Analyst", "company": "Engines, Ltd.", "phone": "+44 20 1234", "email": "ada@example.com", "website": "https://ada.example"}),
        json!({}),
    )
    .await;
    let vcf = open(&links, &format!("/{card}?format=vcf"), DESKTOP).await;
    assert_eq!(vcf.status, StatusCode::OK);
    assert_eq!(
        vcf.header("content-type"),
        Some("text/vcard; charset=utf-8")
    );
    assert!(
        vcf.text
            .starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada Lovelace\r\n"),
        "{}",
        vcf.text
    );
    assert!(vcf.text.contains("ORG:Engines\\, Ltd.\r\n"), "{}", vcf.text);
    assert!(vcf.text.ends_with("END:VCARD\r\n"));

    // Deleted: the 404 page, as for a slug nobody has.
    api.call(
        Method::DELETE,
        "/api/v1/smartlink",
        std::slice::from_ref(&key),
        Some(json!({"smartlinkId": id})),
    )
    .await;
    for path in [format!("/{slug}"), "/no-such-link-here".to_owned()] {
        let gone = open(&links, &path, DESKTOP).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND, "{path}");
        assert!(gone.text.contains("Link not found"), "{}", gone.text);
    }
}

#[tokio::test]
async fn five_thousand_distinct_referrers_keep_counter_items_small_and_totals_exact() {
    use futures::StreamExt;
    let (api, links) = hosts().await;
    let key = org_on(&api, "pro").await;
    let (id, slug) = link_with(
        &api,
        &key,
        "Url",
        json!({"url": "https://example.com/"}),
        json!({}),
    )
    .await;
    let path = format!("/{slug}");
    let visits = futures::stream::iter(0..5000)
        .map(|i| {
            let links = &links;
            let path = &path;
            async move {
                links
                    .get(
                        path,
                        &[
                            ("user-agent", DESKTOP.to_owned()),
                            ("referer", format!("https://spam{i}.example.net/x")),
                        ],
                    )
                    .await
                    .status
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    assert!(visits.iter().all(|s| *s == StatusCode::FOUND));
    assert_eq!(
        totals(&api, &key, &id).await,
        json!({"totalClicks": 5000, "totalQrCodeScans": 0, "totalFallBack": 0})
    );

    // Every counter item stays small: at most the cap of hosts each.
    let link = relinx_model::LinkId::parse(&id).unwrap();
    let mut items = 0;
    for shard in 0..relinx_links::hits::SHARDS {
        let out = relinx_testkit::client()
            .await
            .query()
            .table_name(&api.platform.store.tables().main)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                relinx_ddb::codec::s(format!("{}{link}#{shard}", relinx_ddb::keys::links::HITS)),
            )
            .send()
            .await
            .unwrap();
        for item in out.items.unwrap_or_default() {
            items += 1;
            let size: usize = item
                .iter()
                .map(|(name, value)| {
                    name.len()
                        + match value {
                            aws_sdk_dynamodb::types::AttributeValue::Ss(set) => {
                                set.iter().map(String::len).sum()
                            }
                            aws_sdk_dynamodb::types::AttributeValue::S(s) => s.len(),
                            _ => 21,
                        }
                })
                .sum();
            let hosts = item.keys().filter(|k| k.starts_with("ref:")).count();
            assert!(
                hosts <= relinx_links::hits::MAX_REFERRERS_PER_ITEM + 1,
                "{hosts} referrer attributes on one item"
            );
            assert!(size < 64 * 1024, "a counter item of {size} bytes");
        }
    }
    assert!(items > 0);

    // The analytics answer names the top hosts and sums the rest: nothing lost.
    let today: String = relinx_model::Timestamp::now().to_string()[..10].to_owned();
    let stats = api
        .get(
            &format!("/api/v1/smartlink/analytics?id={id}&from={today}&to={today}"),
            std::slice::from_ref(&key),
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    assert!(
        stats.text.len() < 20_000,
        "an answer of {} bytes",
        stats.text.len()
    );
    let referrers = stats.json()["referrers"].as_object().unwrap().clone();
    assert!(referrers.len() <= relinx_links::hits::MAX_REFERRERS_SHOWN);
    let sum: u64 = referrers.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, 5000, "every visit is counted under a host or (other)");
    assert!(referrers.contains_key("(other)"));
}

#[tokio::test]
async fn hostile_destinations_and_paths_answer_4xx_with_a_message() {
    let (api, links) = hosts().await;
    let key = org_on(&api, "pro").await;
    let (status, made) = create(&api, &key, json!({"smartlinkType": "Url"})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_str().unwrap();
    let put = |destination: Value| {
        api.call(
            Method::PUT,
            "/api/v1/smartlink",
            std::slice::from_ref(&key),
            Some(json!({"smartlinkId": id, "destination": destination})),
        )
    };
    for url in [
        "https://example.com/\r\nSet-Cookie: a=b",
        "https://example.com/a\u{0}b",
        "https://exa\nmple.com/",
    ] {
        let refused = put(json!({ "url": url })).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{url:?}: {}",
            refused.text
        );
        relink_error(&refused.json());
        assert!(refused.text.contains("destination.url"), "{}", refused.text);
    }
    // What is stored is the URL as checked.
    let kept = put(json!({"url": "HTTPS://Example.COM/a b"})).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    assert_eq!(
        kept.json()["destination"]["url"],
        "https://example.com/a%20b"
    );

    // DigiCard: e-mail and phone are checked; a lone CR never ends a vCard line.
    let (status, card) = create(&api, &key, json!({"smartlinkType": "DigiCard"})).await;
    assert_eq!(status, StatusCode::CREATED, "{card}");
    let card_id = card["id"].as_str().unwrap();
    let slug = card["configuration"]["smartlinkUrl"].as_str().unwrap();
    let put_card = |destination: Value| {
        api.call(
            Method::PUT,
            "/api/v1/smartlink",
            std::slice::from_ref(&key),
            Some(json!({"smartlinkId": card_id, "destination": destination})),
        )
    };
    for (destination, field) in [
        (json!({"email": "nobody"}), "destination.email"),
        (json!({"phone": "555-CALL-NOW"}), "destination.phone"),
    ] {
        let refused = put_card(destination).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        assert!(refused.text.contains(field), "{}", refused.text);
    }
    let saved = put_card(json!({"name": "Eve", "company": "Evil\rEND:VCARD\rBEGIN:VCARD", "title": "a\r\nb\nc", "email": "eve@example.com", "phone": "+1 555 010 0199"})).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let vcf = open(&links, &format!("/{slug}?format=vcf"), DESKTOP).await;
    assert_eq!(vcf.status, StatusCode::OK);
    let lines: Vec<&str> = vcf.text.split("\r\n").collect();
    assert!(
        !vcf.text.replace("\r\n", "").contains('\r'),
        "no bare CR: {:?}",
        vcf.text
    );
    assert_eq!(
        lines.iter().filter(|l| **l == "BEGIN:VCARD").count(),
        1,
        "{lines:?}"
    );
    assert!(
        lines.contains(&"ORG:Evil\\nEND:VCARD\\nBEGIN:VCARD"),
        "{lines:?}"
    );
    assert!(lines.contains(&"TITLE:a\\nb\\nc"), "{lines:?}");

    // A path no slug could be is a 404 page without a lookup.
    for path in [format!("/{}", "a".repeat(2048)), "/favicon.ico".to_owned()] {
        let missing = open(&links, &path, DESKTOP).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", &path[..20]);
        assert!(missing.text.contains("Link not found"), "{}", missing.text);
    }
}

#[tokio::test]
async fn the_qr_code_decodes_to_the_public_url_with_src_qr() {
    let app = app().await;
    let key = org_on(&app, "pro").await;
    let (_, link) = create(&app, &key, json!({"smartlinkType": "QRTag"})).await;
    let id = link["id"].as_str().unwrap();
    let expected = format!("{}?src=qr", link["relink"].as_str().unwrap());

    let request = http::Request::builder()
        .uri(format!("/api/v1/smartlink/qr?id={id}&format=png&size=300"))
        .header(key.0, key.1.clone())
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(relinx_devserver::app(app.platform.clone()), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("content-type").unwrap(), "image/png");
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let (width, height) = (frame.width as usize, frame.height as usize);
    assert!(
        (150..=300).contains(&width),
        "about the size asked for: {width}"
    );
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, expected);

    let svg = app
        .get(
            &format!("/api/v1/smartlink/qr?id={id}&format=svg"),
            std::slice::from_ref(&key),
        )
        .await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(
        svg.text.contains("<svg"),
        "{}",
        &svg.text[..100.min(svg.text.len())]
    );
    for (query, field) in [("format=gif", "format"), ("size=10", "size")] {
        let refused = app
            .get(
                &format!("/api/v1/smartlink/qr?id={id}&{query}"),
                std::slice::from_ref(&key),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(refused.json()["message"].as_str().unwrap().contains(field));
    }
}
