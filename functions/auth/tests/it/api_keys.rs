//! `/v1/api-keys`: the key is shown once, lists never show it, and a key never
//! carries more than its creator.

use http::{Method, StatusCode};
use relinx_testkit::TestApp;
use serde_json::json;

async fn app() -> TestApp {
    TestApp::new(auth_fn::app).await
}

#[tokio::test]
async fn keys_are_shown_once_and_listed_without_their_secret() {
    let app = app().await;
    let tenant = app.tenant().await;
    let owner = [tenant.key_header()];
    let created = app
        .post(
            "/v1/api-keys",
            &owner,
            json!({"name": "ci", "role": "operator", "workspace_id": tenant.workspace_id}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    for field in [
        "id",
        "name",
        "key",
        "role",
        "workspace_id",
        "created_at",
        "expires_at",
    ] {
        assert!(
            body.get(field).is_some(),
            "create response lacks {field}: {body}"
        );
    }
    assert_eq!(body["role"], "operator");
    let key = body["key"].as_str().expect("key").to_owned();
    assert!(key.starts_with(body["id"].as_str().expect("id")));

    let listed = app.get("/v1/api-keys", &owner).await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = listed.json();
    let entry = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|k| k["id"] == body["id"])
        .cloned()
        .expect("listed");
    assert!(
        entry.get("key").is_none() && entry.get("hash").is_none(),
        "{entry}"
    );
    assert!(entry.get("last_used_at").is_some(), "{entry}");
    assert!(
        !listed
            .to_string()
            .contains(key.split_once('.').map(|(_, s)| s).unwrap_or("x"))
    );
    assert_eq!(listed["has_more"], false);

    // The new key works, with its own (lower) role: an operator cannot manage keys.
    let as_operator = app
        .post(
            "/v1/api-keys",
            &[("x-api-key", key)],
            json!({"name": "nope"}),
        )
        .await;
    assert_eq!(
        as_operator.status,
        StatusCode::FORBIDDEN,
        "{}",
        as_operator.text
    );
}

#[tokio::test]
async fn keys_never_exceed_their_creator() {
    let app = app().await;
    let tenant = app.tenant().await;
    let owner = [tenant.key_header()];
    let admin = app
        .post(
            "/v1/api-keys",
            &owner,
            json!({"name": "admin", "role": "admin"}),
        )
        .await
        .json();
    let admin = [("x-api-key", admin["key"].as_str().expect("key").to_owned())];
    let escalation = app
        .post(
            "/v1/api-keys",
            &admin,
            json!({"name": "owner", "role": "owner"}),
        )
        .await;
    assert_eq!(
        escalation.status,
        StatusCode::FORBIDDEN,
        "{}",
        escalation.text
    );
    assert_eq!(escalation.json()["error_code"], "ROLE_ESCALATION");
    let same = app
        .post("/v1/api-keys", &admin, json!({"name": "admin2"}))
        .await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text);
    assert_eq!(
        same.json()["role"],
        "admin",
        "a key without a role takes its creator's"
    );

    let viewer = app
        .post(
            "/v1/api-keys",
            &owner,
            json!({"name": "viewer", "role": "viewer"}),
        )
        .await
        .json();
    let viewer = [("x-api-key", viewer["key"].as_str().expect("key").to_owned())];
    let refused = app
        .post(
            "/v1/api-keys",
            &viewer,
            json!({"name": "x", "role": "viewer"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/v1/api-keys", &viewer).await.status,
        StatusCode::OK,
        "viewers read"
    );
}

#[tokio::test]
async fn bad_key_requests_name_the_field() {
    let app = app().await;
    let tenant = app.tenant().await;
    let owner = [tenant.key_header()];
    let cases = [
        (
            json!({"name": "x", "role": "superuser"}),
            StatusCode::BAD_REQUEST,
            "role",
        ),
        (
            json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "expires_at",
        ),
        (
            json!({"name": "x", "expires_at": "tomorrow"}),
            StatusCode::BAD_REQUEST,
            "expires_at",
        ),
        (
            json!({"name": "x", "workspace_id": "ws_01HZZZZZZZZZZZZZZZZZZZZZZZ"}),
            StatusCode::BAD_REQUEST,
            "workspace_id",
        ),
        (
            json!({"name": "x", "workspace_id": "nope"}),
            StatusCode::BAD_REQUEST,
            "workspace_id",
        ),
        (json!({"role": "viewer"}), StatusCode::BAD_REQUEST, "name"),
        (
            json!({"name": "x", "scopes": []}),
            StatusCode::BAD_REQUEST,
            "scopes",
        ),
    ];
    for (body, status, field) in cases {
        let response = app.post("/v1/api-keys", &owner, body.clone()).await;
        assert_eq!(response.status, status, "{body}: {}", response.text);
        let message = response.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains(field),
            "{body}: {message:?} should name {field}"
        );
    }
    let bad_limit = app.get("/v1/api-keys?limit=0", &owner).await;
    assert_eq!(bad_limit.status, StatusCode::BAD_REQUEST);
    let bad_cursor = app.get("/v1/api-keys?cursor=%%%", &owner).await;
    assert_eq!(
        bad_cursor.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_cursor.text
    );
}

#[tokio::test]
async fn another_orgs_keys_are_not_found() {
    let app = app().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let b_key_id = b
        .api_key
        .split_once('.')
        .map(|(id, _)| id.to_owned())
        .expect("id");
    let rotate = app
        .post(
            &format!("/v1/api-keys/{b_key_id}/rotate"),
            &[a.key_header()],
            json!({}),
        )
        .await;
    assert_eq!(rotate.status, StatusCode::NOT_FOUND, "{}", rotate.text);
    let delete = app
        .call(
            Method::DELETE,
            &format!("/v1/api-keys/{b_key_id}"),
            &[a.key_header()],
            None,
        )
        .await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/validate", &[b.key_header()]).await.status,
        StatusCode::OK,
        "B's key untouched"
    );
    let listed = app.get("/v1/api-keys", &[a.key_header()]).await.json();
    assert!(!listed.to_string().contains(&b_key_id));
}

#[tokio::test]
async fn cursor_pages_walk_the_whole_list() {
    let app = app().await;
    let tenant = app.tenant().await;
    let owner = [tenant.key_header()];
    for i in 0..4 {
        assert_eq!(
            app.post("/v1/api-keys", &owner, json!({"name": format!("k{i}")}))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let mut seen = Vec::new();
    let mut path = "/v1/api-keys?limit=2".to_owned();
    loop {
        let page = app.get(&path, &owner).await.json();
        seen.extend(
            page["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|k| k["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(page["has_more"], true);
                path = format!("/v1/api-keys?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "the signup key and four more: {seen:?}");
}
