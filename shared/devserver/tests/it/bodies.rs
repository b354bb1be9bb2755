//! Request bodies as curl users send them.

use crate::dev_server::spawn_on_test_tables;
use http::StatusCode;
use relinx_testkit::{TestApp, http_call};

/// `curl -X POST -H "X-API-Key: $KEY" $URL/api/service-accounts/$ID/keys`: every
/// field of that body is optional, so no body at all is `{}`.
#[tokio::test]
async fn a_post_without_a_body_to_a_route_whose_fields_are_optional_is_accepted() {
    let app = TestApp::new(relinx_devserver::app).await;
    let t = app.tenant().await;
    let server = spawn_on_test_tables().await;
    let key = [("x-api-key", t.api_key.clone())];
    let account = http_call(
        &server.addr,
        "POST",
        "/api/service-accounts",
        &key,
        Some(serde_json::json!({"name": "ci", "role": "operator"})),
    )
    .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.text);
    let id = account.json()["data"]["id"]
        .as_str()
        .expect("account id")
        .to_owned();

    let minted = http_call(
        &server.addr,
        "POST",
        &format!("/api/service-accounts/{id}/keys"),
        &key,
        None,
    )
    .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text);
    let data = &minted.json()["data"];
    assert_eq!(data["role"], "operator");
    assert_eq!(data["name"], "service account key");
    let secret = data["key"].as_str().expect("the key, shown once");
    let validated = http_call(
        &server.addr,
        "GET",
        "/api/v1/validate",
        &[("x-api-key", secret.to_owned())],
        None,
    )
    .await;
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.text);
    assert_eq!(validated.json()["userId"], id.as_str());

    // A route with a required field still names it.
    let nameless = http_call(&server.addr, "POST", "/v1/workspaces", &key, None).await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    assert!(
        nameless.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("name"),
        "{}",
        nameless.text
    );
}
