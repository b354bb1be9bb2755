//! Each surface's envelope for the errors every route can produce: unknown routes,
//! wrong methods, bad bodies, oversized bodies. Never a 500.

use axum::body::Body;
use http::{Method, Request, StatusCode};
use relinx_testkit::TestApp;
use serde_json::json;

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

#[tokio::test]
async fn unknown_routes_get_the_surfaces_404() {
    let app = app().await;
    let platform = app.get("/v1/nothing", &[]).await;
    assert_eq!(platform.status, StatusCode::NOT_FOUND);
    let body = platform.json();
    assert_eq!(body["status"], "failed");
    assert_eq!(body["error_code"], "NOT_FOUND");
    assert_eq!(body["request_id"].as_str(), platform.header("x-request-id"));

    let datalinx = app.get("/api/nothing", &[]).await.json();
    assert_eq!(datalinx["status"], "failed");
    assert!(datalinx.get("request_id").is_none());

    let relink = app.get("/api/v1/nothing", &[]).await.json();
    assert_eq!(relink["status"], "error");
    assert_eq!(relink.as_object().map(|o| o.len()), Some(2));

    let relenta = app.get("/api/v3/contact.nothing.json", &[]).await.json();
    assert_eq!(
        relenta,
        json!({"status": false, "code": 404, "message": relenta["message"]})
    );
    assert!(relenta["message"].is_string());
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_envelope() {
    let app = app().await;
    let t = app.tenant().await;
    // Routes check the caller's permission first, so the caller must be one.
    let response = app
        .call(Method::PATCH, "/v1/workspaces", &[t.key_header()], None)
        .await;
    assert_eq!(
        response.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        response.text
    );
    assert_eq!(response.json()["error_code"], "METHOD_NOT_ALLOWED");
    assert!(
        response.header("allow").is_some(),
        "the Allow header survives"
    );
}

#[tokio::test]
async fn bad_bodies_are_400s_naming_the_problem() {
    let app = app().await;
    let t = app.tenant().await;
    let send = |body: Body| {
        Request::post("/v1/workspaces")
            .header("authorization", format!("ApiKey {}", t.api_key))
            .header("content-type", "application/json")
            .body(body)
            .expect("request")
    };
    let malformed = app.raw(send(Body::from("{\"name\": \"x\""))).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error_code"], "INVALID_JSON");

    // No body reads as `{}`: a required field is then named as missing.
    let empty = app.raw(send(Body::empty())).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.json()["error_code"], "VALIDATION_FAILED");
    assert!(
        empty.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("missing field `name`"),
        "{}",
        empty.text
    );

    let trailing = app.raw(send(Body::from("{\"name\": \"x\"} {}"))).await;
    assert_eq!(trailing.status, StatusCode::BAD_REQUEST);

    let not_object = app.raw(send(Body::from("[1,2]"))).await;
    assert_eq!(not_object.status, StatusCode::BAD_REQUEST);

    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let oversized = app.raw(send(Body::from(huge))).await;
    assert_eq!(
        oversized.status,
        StatusCode::BAD_REQUEST,
        "{}",
        &oversized.text[..oversized.text.len().min(300)]
    );
    assert_eq!(oversized.json()["error_code"], "BODY_TOO_LARGE");

    // Relenta-style clients post JSON with curl's form content type; it still parses.
    let form_typed = Request::post("/api/workspaces")
        .header("x-api-key", t.api_key.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("{\"name\": \"curl-data\"}"))
        .expect("request");
    assert_eq!(app.raw(form_typed).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = app().await;
    let t = app.tenant().await;
    let ok = app.get("/v1/workspaces", &[t.key_header()]).await;
    let err = app.get("/v1/workspaces", &[]).await;
    let a = ok.header("x-request-id").expect("id");
    let b = err.header("x-request-id").expect("id");
    assert!(a.starts_with("req_") && b.starts_with("req_"));
    assert_ne!(a, b);
}
