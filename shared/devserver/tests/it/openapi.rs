//! The OpenAPI document: generated from the route tables, committed, served, and
//! covering exactly the routes the platform serves.
//!
//! After changing a route or a type it documents, regenerate the committed file:
//! `RELINX_UPDATE_OPENAPI=1 cargo test -p relinx-devserver --test it openapi`.

use http::{Method, StatusCode};
use relinx_testkit::{TestApp, template_routes};
use serde_json::Value;
use std::collections::BTreeSet;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

fn generated() -> Value {
    serde_json::to_value(relinx_devserver::openapi_document()).expect("document serialises")
}

/// Every `(method, path)` the document lists.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[test]
fn the_committed_document_is_the_one_the_code_makes() {
    let document = generated();
    let text = serde_json::to_string_pretty(&document).expect("json") + "\n";
    if std::env::var_os("RELINX_UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_path(), &text).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == text,
        "docs/openapi.json is stale: a route or a documented type changed. Regenerate it with \
         RELINX_UPDATE_OPENAPI=1 cargo test -p relinx-devserver --test it openapi"
    );
    assert_eq!(document["openapi"], "3.1.0");
}

/// Every route a function serves (template.yaml is what API Gateway routes to them)
/// is documented, and every documented operation is deployed.
#[test]
fn the_document_covers_every_deployed_route_and_nothing_else() {
    let documented = operations(&generated());
    // `ANY /{proxy+}` is the unknown-route fallback (the surface's 404), not an operation.
    let deployed: BTreeSet<(String, String)> = template_routes()
        .into_iter()
        .filter(|(method, _)| method != "ANY")
        .collect();
    let undocumented: Vec<_> = deployed.difference(&documented).collect();
    let undeployed: Vec<_> = documented.difference(&deployed).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the OpenAPI document (register it with utoipa_axum::routes!): {undocumented:?}"
    );
    assert!(
        undeployed.is_empty(),
        "documented but not in template.yaml: {undeployed:?}"
    );
}

/// Every documented operation reaches a handler: none falls through to the
/// unknown-route 404 or a 405. The short links are the links host's.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let api = TestApp::new(relinx_devserver::app).await;
    let links = api.beside(relinx_devserver::links_app);
    for (method, path) in operations(&generated()) {
        let app = if path == "/{slug}" { &links } else { &api };
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let response = app.call(method.clone(), &concrete, &[], None).await;
        let unrouted = response.status == StatusCode::METHOD_NOT_ALLOWED
            || (response.status == StatusCode::NOT_FOUND
                && response.text.contains("no such route"));
        assert!(!unrouted, "{method} {path} is documented but not routed");
    }
}

#[tokio::test]
async fn the_document_is_served_without_credentials_at_both_paths() {
    let app = TestApp::with(
        relinx_devserver::app,
        Default::default(),
        relinx_http::Settings {
            public_url: Some("https://api.example.com".into()),
            links_url: Some("https://go.example.com".into()),
            ..relinx_testkit::open_settings()
        },
    )
    .await;
    let committed: Value =
        serde_json::from_str(relinx_http::openapi::committed()).expect("committed document");
    for path in ["/v1/openapi.json", "/api/openapi.json"] {
        let response = app.get(path, &[]).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.header("content-type"), Some("application/json"));
        let mut served = response.json();
        // The deployment's own servers: the API's, and the links host for /{slug}.
        assert_eq!(
            served["servers"][0]["url"], "https://api.example.com",
            "{path}"
        );
        assert_eq!(
            served["paths"]["/{slug}"]["servers"][0]["url"], "https://go.example.com",
            "{path}"
        );
        served["servers"] = committed["servers"].clone();
        served["paths"]["/{slug}"]["servers"] = committed["paths"]["/{slug}"]["servers"].clone();
        assert_eq!(
            served, committed,
            "{path}: otherwise the committed document"
        );
    }
}

/// Each surface's errors are documented in its own envelope.
#[test]
fn errors_are_documented_in_each_surfaces_envelope() {
    let document = generated();
    let error_of = |method: &str, path: &str, status: &str| {
        let response = document["paths"][path][method]["responses"][status]["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/responses/"))
            .expect("a shared response");
        document["components"]["responses"][response]["content"]["application/json"]["schema"]
            ["$ref"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(
        error_of("get", "/v1/workspaces", "401").as_deref(),
        Some("#/components/schemas/PlatformError")
    );
    assert_eq!(
        error_of("get", "/api/workspaces/{name}", "404").as_deref(),
        Some("#/components/schemas/DatalinxError")
    );
    assert_eq!(
        error_of("get", "/api/v1/validate", "401").as_deref(),
        Some("#/components/schemas/RelinkError")
    );
    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    for scheme in ["ApiKey", "Bearer", "XApiKey", "DepartmentKey"] {
        assert!(schemes.contains_key(scheme), "{scheme}");
    }
    let parameters = document["paths"]["/v1/workspaces"]["get"]["parameters"].to_string();
    assert!(parameters.contains("workspaceId") && parameters.contains("X-Workspace"));
}
