//! Workspaces on both surfaces: CRUD, names, PUT-as-PATCH, read-only, roles,
//! scoped keys and tenancy.

use http::{Method, StatusCode};
use relinx_identity::api_keys::{self, CreateKey};
use relinx_testkit::{Tenant, TestApp, TestResponse, owner_context};
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(admin_fn::app).await
}

/// A key for `tenant` with `role`, optionally confined to one workspace.
async fn key_with_role(
    app: &TestApp,
    tenant: &Tenant,
    role: &str,
    workspace: Option<&str>,
) -> (&'static str, String) {
    let request = CreateKey {
        name: relinx_model::Name::parse("name", role).expect("name"),
        role: Some(role.to_owned()),
        workspace_id: workspace.map(|w| relinx_model::WorkspaceId::parse(w).expect("ws id")),
        expires_at: None,
    };
    let (_, secret) = api_keys::create(&app.platform.store, &owner_context(tenant), request)
        .await
        .expect("key");
    ("x-api-key", secret.expose().to_owned())
}

async fn put(app: &TestApp, path: &str, headers: &[(&str, String)], body: Value) -> TestResponse {
    app.call(Method::PUT, path, headers, Some(body)).await
}

async fn delete(app: &TestApp, path: &str, headers: &[(&str, String)]) -> TestResponse {
    app.call(Method::DELETE, path, headers, None).await
}

#[tokio::test]
async fn platform_surface_crud_with_put_as_patch() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let created = app
        .post(
            "/v1/workspaces",
            &h,
            json!({"name": "staging", "config": {"description": "pre-prod"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let ws = created.json();
    for field in ["id", "name", "read_only", "created_at", "updated_at"] {
        assert!(ws.get(field).is_some(), "{field}: {ws}");
    }
    let path = format!("/v1/workspaces/{}", ws["id"].as_str().expect("id"));
    assert_eq!(app.get(&path, &h).await.json(), ws);

    let renamed = put(&app, &path, &h, json!({"name": "Staging 2"})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let renamed = renamed.json();
    assert_eq!(renamed["name"], "Staging 2");
    assert_eq!(
        renamed["config"], ws["config"],
        "absent fields stay as they were"
    );
    let cleared = put(&app, &path, &h, json!({"config": null})).await.json();
    assert!(cleared.get("config").is_none(), "null clears: {cleared}");
    assert_eq!(cleared["name"], "Staging 2");

    // The old name is free again; the new one is taken, whatever its case.
    assert_eq!(
        app.post("/v1/workspaces", &h, json!({"name": "staging"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let taken = app
        .post("/v1/workspaces", &h, json!({"name": "STAGING 2"}))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.json()["error_code"], "ALREADY_EXISTS");

    assert_eq!(delete(&app, &path, &h).await.status, StatusCode::OK);
    let gone = app.get(&path, &h).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json()["error_code"], "WORKSPACE_NOT_FOUND");
    assert_eq!(delete(&app, &path, &h).await.status, StatusCode::NOT_FOUND);

    let default = delete(&app, &format!("/v1/workspaces/{}", t.workspace_id), &h).await;
    assert_eq!(default.status, StatusCode::CONFLICT);
    assert_eq!(default.json()["error_code"], "DEFAULT_WORKSPACE");
}

#[tokio::test]
async fn datalinx_surface_addresses_workspaces_by_name_with_pages() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [("x-api-key", t.api_key.clone())];
    let created = app
        .post(
            "/api/workspaces",
            &h,
            json!({"name": "my-workspace", "config": {"description": "Production workspace"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"]["name"], "my-workspace");

    let got = app.get("/api/workspaces/my-workspace", &h).await.json();
    assert_eq!(got["data"]["id"], body["data"]["id"]);
    let updated = put(
        &app,
        "/api/workspaces/my-workspace",
        &h,
        json!({"config": {"description": "changed"}}),
    )
    .await
    .json();
    assert_eq!(updated["data"]["config"]["description"], "changed");

    let page = app
        .get("/api/workspaces?page=1&page_size=1", &h)
        .await
        .json();
    assert_eq!(
        page["pagination"],
        json!({"page": 1, "page_size": 1, "total_items": 2, "total_pages": 2})
    );
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));
    let second = app
        .get("/api/workspaces?page=2&page_size=1", &h)
        .await
        .json();
    assert_ne!(second["data"][0]["id"], page["data"][0]["id"]);
    for bad in ["page=0", "page_size=500", "page=x", "colour=red"] {
        let response = app.get(&format!("/api/workspaces?{bad}"), &h).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            response.text
        );
    }

    let missing = app.get("/api/workspaces/nope", &h).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json(),
        json!({"status": "failed", "message": "Workspace not found", "error_code": "WORKSPACE_NOT_FOUND"})
    );

    let deleted = delete(&app, "/api/workspaces/my-workspace", &h).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        app.get("/api/workspaces/my-workspace", &h).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn read_only_workspaces_refuse_writes_until_made_writable() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let ws = app
        .post(
            "/v1/workspaces",
            &h,
            json!({"name": "archive", "read_only": true}),
        )
        .await
        .json();
    assert_eq!(ws["read_only"], true);
    let path = format!("/v1/workspaces/{}", ws["id"].as_str().expect("id"));
    for response in [
        put(&app, &path, &h, json!({"name": "archive-2"})).await,
        put(&app, &path, &h, json!({"config": {"a": 1}})).await,
        delete(&app, &path, &h).await,
        put(&app, "/api/workspaces/archive", &h, json!({"name": "x"})).await,
        delete(&app, "/api/workspaces/archive", &h).await,
    ] {
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.text);
        assert!(
            response.text.contains("WORKSPACE_READ_ONLY"),
            "{}",
            response.text
        );
    }
    let writable = put(
        &app,
        &path,
        &h,
        json!({"read_only": false, "name": "archive-2"}),
    )
    .await;
    assert_eq!(writable.status, StatusCode::OK, "{}", writable.text);
    assert_eq!(delete(&app, &path, &h).await.status, StatusCode::OK);
}

#[tokio::test]
async fn viewers_and_operators_cannot_manage_workspaces() {
    let app = app().await;
    let t = app.tenant().await;
    let ws_path = format!("/v1/workspaces/{}", t.workspace_id);
    for role in ["viewer", "operator"] {
        let h = [key_with_role(&app, &t, role, None).await];
        assert_eq!(
            app.get("/v1/workspaces", &h).await.status,
            StatusCode::OK,
            "{role} reads"
        );
        assert_eq!(
            app.get("/api/workspaces", &h).await.status,
            StatusCode::OK,
            "{role} reads"
        );
        for response in [
            app.post(
                "/v1/workspaces",
                &h,
                json!({"name": format!("{role}-made")}),
            )
            .await,
            app.post(
                "/api/workspaces",
                &h,
                json!({"name": format!("{role}-made")}),
            )
            .await,
            put(&app, &ws_path, &h, json!({"name": "renamed"})).await,
            delete(&app, "/api/workspaces/default", &h).await,
        ] {
            assert_eq!(
                response.status,
                StatusCode::FORBIDDEN,
                "{role}: {}",
                response.text
            );
        }
    }
}

#[tokio::test]
async fn another_orgs_workspaces_are_not_found() {
    let app = app().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let b_ws = app
        .post(
            "/v1/workspaces",
            &[b.key_header()],
            json!({"name": "b-only"}),
        )
        .await
        .json();
    let b_ws_id = b_ws["id"].as_str().expect("id").to_owned();
    let h = [a.key_header()];
    for response in [
        app.get(&format!("/v1/workspaces/{b_ws_id}"), &h).await,
        app.get(&format!("/v1/workspaces/{}", b.workspace_id), &h)
            .await,
        put(
            &app,
            &format!("/v1/workspaces/{b_ws_id}"),
            &h,
            json!({"name": "stolen"}),
        )
        .await,
        delete(&app, &format!("/v1/workspaces/{b_ws_id}"), &h).await,
        app.get("/api/workspaces/b-only", &h).await,
        app.get(
            "/v1/workspaces",
            &[a.key_header(), ("workspaceId", b_ws_id.clone())],
        )
        .await,
        app.get(
            "/v1/workspaces",
            &[a.key_header(), ("X-Workspace", "b-only".to_owned())],
        )
        .await,
        app.get(
            "/v1/workspaces",
            &[a.key_header(), ("workspaceId", "garbage".to_owned())],
        )
        .await,
    ] {
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.text);
    }
    let still = app
        .get(&format!("/v1/workspaces/{b_ws_id}"), &[b.key_header()])
        .await
        .json();
    assert_eq!(still["name"], "b-only");
    assert_eq!(
        app.get(
            "/v1/workspaces",
            &[a.key_header(), ("workspaceId", a.workspace_id.clone())]
        )
        .await
        .status,
        StatusCode::OK,
        "a header naming the caller's own workspace is fine"
    );
}

#[tokio::test]
async fn a_key_scoped_to_one_workspace_sees_only_that_workspace() {
    let app = app().await;
    let t = app.tenant().await;
    let other = app
        .post(
            "/v1/workspaces",
            &[t.key_header()],
            json!({"name": "other"}),
        )
        .await
        .json();
    let h = [key_with_role(&app, &t, "admin", Some(&t.workspace_id)).await];
    let listed = app.get("/v1/workspaces", &h).await.json();
    let ids: Vec<_> = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|w| w["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(t.workspace_id)]);
    let paged = app.get("/api/workspaces", &h).await.json();
    assert_eq!(paged["pagination"]["total_items"], 1);
    let other_path = format!("/v1/workspaces/{}", other["id"].as_str().expect("id"));
    assert_eq!(app.get(&other_path, &h).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/workspaces/other", &h).await.status,
        StatusCode::NOT_FOUND
    );
    let header = app
        .get(
            "/v1/workspaces",
            &[
                h[0].clone(),
                ("workspaceId", other["id"].as_str().expect("id").to_owned()),
            ],
        )
        .await;
    assert_eq!(header.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post("/v1/workspaces", &h, json!({"name": "more"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn bad_workspace_bodies_name_the_field() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    let cases = [
        (json!({}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": 12}), "name"),
        (json!({"name": "x", "read_only": "yes"}), "read_only"),
        (json!({"name": "x", "config": []}), "config"),
        (json!({"name": "x", "owner": "me"}), "owner"),
    ];
    for (body, field) in cases {
        for path in ["/v1/workspaces", "/api/workspaces"] {
            let response = app.post(path, &h, body.clone()).await;
            assert_eq!(
                response.status,
                StatusCode::BAD_REQUEST,
                "{path} {body}: {}",
                response.text
            );
            let message = response.json()["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                message.contains(field),
                "{path} {body}: {message:?} should name {field}"
            );
        }
    }
}

#[tokio::test]
async fn cursor_pages_cover_every_workspace() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header()];
    for i in 0..3 {
        assert_eq!(
            app.post("/v1/workspaces", &h, json!({"name": format!("w{i}")}))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let first = app.get("/v1/workspaces?limit=2", &h).await.json();
    assert_eq!(first["has_more"], true);
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second = app
        .get(&format!("/v1/workspaces?limit=2&cursor={cursor}"), &h)
        .await
        .json();
    let total = first["data"].as_array().map(Vec::len).unwrap_or(0)
        + second["data"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(total, 4);
    assert_eq!(
        app.get("/v1/workspaces?cursor=bm9wZQ", &h).await.status,
        StatusCode::BAD_REQUEST
    );
}
