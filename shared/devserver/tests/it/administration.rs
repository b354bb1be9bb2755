//! Identity and administration: members, invites, roles as permissions, service
//! accounts and the organization, through every surface that serves them.

use http::{Method, StatusCode};
use relinx_testkit::{
    TestApp, TestResponse, capture_logs, dump_tables, events_of, template_routes,
};
use serde_json::{Value, json};

use crate::support::{key_with_role, login, member, token_of, unique};

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    h: &[(&str, String)],
    body: Option<Value>,
) -> TestResponse {
    app.call(method, path, h, body).await
}

#[tokio::test]
async fn invite_accept_login_and_be_listed_with_role_and_last_sync() {
    let app = app().await;
    let t = app.tenant().await;
    let email = unique("olive");
    let invite = app
        .post(
            "/v1/users/invite",
            &[t.key_header()],
            json!({"email": email, "role": "operator"}),
        )
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.text);
    let invite = invite.json();
    assert_eq!(invite["status"], "invited");
    assert_eq!(invite["role"], "operator");
    assert_eq!(invite["email"], email);
    let expires =
        relinx_model::Timestamp::parse(invite["expires_at"].as_str().expect("expires_at"))
            .expect("timestamp");
    let days = (expires.unix() - relinx_model::Timestamp::now().unix()) as f64 / 86400.0;
    assert!((6.9..=7.01).contains(&days), "{days} days");
    let token = token_of(&invite);

    let pending = app
        .get("/v1/users?role=operator", &[t.key_header()])
        .await
        .json();
    assert_eq!(pending["data"][0]["status"], "invited", "{pending}");

    let password = "olive's own password";
    let accepted = app
        .post(
            &format!("/v1/invites/{token}/accept"),
            &[],
            json!({"name": "Olive", "password": password}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text);
    assert_eq!(accepted.json()["status"], "active");
    assert_eq!(accepted.json()["name"], "Olive");
    let again = app
        .post(
            &format!("/v1/invites/{token}/accept"),
            &[],
            json!({"password": password}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "the token works once: {}",
        again.text
    );
    let unknown = app
        .post(
            "/v1/invites/not-a-token/accept",
            &[],
            json!({"password": password}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let olive = login(&app, &email, password).await;
    let listed = app
        .get("/v1/users?role=operator", std::slice::from_ref(&olive))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let listed = listed.json();
    let users = listed["data"].as_array().expect("data");
    assert_eq!(users.len(), 1, "{listed}");
    assert_eq!(users[0]["email"], email);
    assert_eq!(users[0]["role"], "operator");
    assert_eq!(users[0]["status"], "active");
    assert!(
        users[0]
            .as_object()
            .is_some_and(|u| u.contains_key("last_sync_at")),
        "{listed}"
    );
    assert!(users[0]["last_login_at"].is_string(), "{listed}");
    let everyone = app.get("/v1/users", &[t.key_header()]).await.json();
    assert_eq!(everyone["data"].as_array().map(Vec::len), Some(2));

    let names: Vec<String> = events_of(&t.org_id)
        .await
        .into_iter()
        .map(|e| e.event.as_str().to_owned())
        .collect();
    assert!(
        names.ends_with(&["user.invited".to_owned(), "user.joined".to_owned()]),
        "{names:?}"
    );
    let invited = events_of(&t.org_id)
        .await
        .into_iter()
        .find(|e| e.event.as_str() == "user.invited")
        .expect("event");
    let sealed = invited.data["invite_url_sealed"]
        .as_str()
        .expect("sealed url");
    let opened = relinx_identity::invites::sealer(&app.platform.store).open(sealed);
    assert_eq!(
        opened.as_deref(),
        invite["invite_url"].as_str(),
        "the mailer webhook can open the URL"
    );
}

#[tokio::test]
async fn who_may_invite_and_the_last_owner_rule() {
    let app = app().await;
    let t = app.tenant().await;
    let operator = key_with_role(&app, &t, "operator").await;
    let admin = key_with_role(&app, &t, "admin").await;

    let by_operator = app
        .post(
            "/v1/users/invite",
            &[operator],
            json!({"email": unique("x"), "role": "viewer"}),
        )
        .await;
    assert_eq!(by_operator.status, StatusCode::FORBIDDEN);
    let owner_by_admin = app
        .post(
            "/v1/users/invite",
            std::slice::from_ref(&admin),
            json!({"email": unique("x"), "role": "owner"}),
        )
        .await;
    assert_eq!(owner_by_admin.status, StatusCode::FORBIDDEN);
    assert_eq!(owner_by_admin.json()["error_code"], "ROLE_ESCALATION");
    let owner_key_by_admin = app
        .post(
            "/v1/api-keys",
            std::slice::from_ref(&admin),
            json!({"name": "x", "role": "owner"}),
        )
        .await;
    assert_eq!(owner_key_by_admin.status, StatusCode::FORBIDDEN);
    let fine = app
        .post(
            "/v1/users/invite",
            std::slice::from_ref(&admin),
            json!({"email": unique("x"), "role": "operator"}),
        )
        .await;
    assert_eq!(fine.status, StatusCode::CREATED, "{}", fine.text);
    let twice = app
        .post(
            "/api/users",
            std::slice::from_ref(&admin),
            json!({"email": fine.json()["email"], "role": "viewer"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    let existing = app
        .post(
            "/v1/users/invite",
            &[t.key_header()],
            json!({"email": t.email, "role": "viewer"}),
        )
        .await;
    assert_eq!(existing.status, StatusCode::CONFLICT);
    assert_eq!(existing.json()["error_code"], "ALREADY_MEMBER");

    let me = format!("/v1/users/{}", t.user_id);
    let before = events_of(&t.org_id).await.len();
    for (method, body) in [
        (Method::PATCH, Some(json!({"role": "admin"}))),
        (Method::PATCH, Some(json!({"status": "disabled"}))),
        (Method::DELETE, None),
    ] {
        let response = call(&app, method, &me, &[t.key_header()], body).await;
        assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.text);
        assert_eq!(response.json()["error_code"], "LAST_OWNER");
    }
    assert_eq!(
        events_of(&t.org_id).await.len(),
        before,
        "refused changes write no event"
    );
    let by_admin = call(&app, Method::DELETE, &me, &[admin], None).await;
    assert_eq!(
        by_admin.status,
        StatusCode::FORBIDDEN,
        "an admin cannot remove an owner"
    );

    // With a second owner, the first may step down.
    member(&app, &t, &unique("second-owner"), "owner").await;
    let stepped_down = call(
        &app,
        Method::PATCH,
        &me,
        &[t.key_header()],
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(stepped_down.status, StatusCode::OK, "{}", stepped_down.text);
    assert_eq!(stepped_down.json()["role"], "admin");
}

#[tokio::test]
async fn a_workspaces_read_role_reads_and_is_refused_every_write_route() {
    let app = app().await;
    let t = app.tenant().await;
    // Every write route in a row is more than a burst: this test is about roles.
    relinx_identity::orgs::set_limits_override(
        &app.platform.store,
        &relinx_testkit::owner_context(&t),
        relinx_model::LimitsOverride {
            burst: Some(1000),
            rate_per_minute: Some(10_000),
            ..Default::default()
        },
    )
    .await
    .expect("limits");
    let role = app
        .post("/api/roles", &[t.key_header()], json!({"name": "ws-reader", "permissions": ["workspaces:read"], "description": "reads workspaces"}))
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text);
    assert_eq!(
        role.json()["data"]["permissions"],
        json!(["workspaces:read"])
    );
    let key = app
        .post(
            "/v1/api-keys",
            &[t.key_header()],
            json!({"name": "reader", "role": "ws-reader"}),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.text);
    let key_id = key.json()["id"].as_str().expect("id").to_owned();
    let reader = [(
        "x-api-key",
        key.json()["key"].as_str().expect("key").to_owned(),
    )];
    assert_eq!(
        app.get("/v1/workspaces", &reader).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/workspaces", &reader).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/v1/api-keys", &reader).await.status,
        StatusCode::FORBIDDEN,
        "keys:read is not in the role"
    );

    const PUBLIC: [&str; 4] = [
        "/v1/signup",
        "/v1/auth/token",
        "/api/auth/login",
        "/v1/invites/{token}/accept",
    ];
    let mut refused = 0;
    for (method, path) in template_routes() {
        if matches!(method.as_str(), "GET" | "ANY") || PUBLIC.contains(&path.as_str()) {
            continue;
        }
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let response = call(&app, method.clone(), &concrete, &reader, Some(json!({}))).await;
        // Relenta (seed 004) has no 403: its 401 "Forbidden" says the same.
        let refusal = if path.starts_with("/api/v3/") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(
            response.status, refusal,
            "{method} {path}: {}",
            response.text
        );
        assert!(
            response.text.contains("does not allow"),
            "{method} {path}: {}",
            response.text
        );
        refused += 1;
    }
    assert!(refused >= 20, "the whole write table: {refused} routes");

    let in_use = call(
        &app,
        Method::DELETE,
        "/api/roles/ws-reader",
        &[t.key_header()],
        None,
    )
    .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT, "{}", in_use.text);
    assert_eq!(in_use.json()["error_code"], "ROLE_IN_USE");
    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("/v1/api-keys/{key_id}"),
            &[t.key_header()],
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    let freed = call(
        &app,
        Method::DELETE,
        "/api/roles/ws-reader",
        &[t.key_header()],
        None,
    )
    .await;
    assert_eq!(freed.status, StatusCode::OK, "{}", freed.text);

    for (method, path) in [
        (Method::PUT, "/api/roles/admin"),
        (Method::DELETE, "/api/roles/viewer"),
    ] {
        let response = call(
            &app,
            method,
            path,
            &[t.key_header()],
            Some(json!({"permissions": ["org:write"]})),
        )
        .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        assert_eq!(response.json()["error_code"], "BUILT_IN_ROLE");
    }
    let roles = app.get("/api/roles", &[t.key_header()]).await.json();
    let names: Vec<&str> = roles["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["owner", "admin", "operator", "viewer"]);
    let bad = app
        .post(
            "/api/roles",
            &[t.key_header()],
            json!({"name": "x1", "permissions": ["workspaces:destroy"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("permissions[0]")
    );
}

#[tokio::test]
async fn a_service_account_acts_with_its_key_until_deleted() {
    let app = app().await;
    let t = app.tenant().await;
    let account = app
        .post(
            "/api/service-accounts",
            &[t.key_header()],
            json!({"name": "etl", "role": "admin"}),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.text);
    let id = account.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(id.starts_with("sa_"));
    let key = app
        .post(
            &format!("/api/service-accounts/{id}/keys"),
            &[t.key_header()],
            json!({}),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.text);
    let sa_key = [(
        "x-api-key",
        key.json()["data"]["key"].as_str().expect("key").to_owned(),
    )];
    assert_eq!(key.json()["data"]["role"], "admin");

    let validated = app.get("/api/v1/validate", &sa_key).await;
    assert_eq!(validated.status, StatusCode::OK);
    assert_eq!(validated.json()["userId"], id.as_str());
    let made = app
        .post("/v1/workspaces", &sa_key, json!({"name": "by-etl"}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let event = events_of(&t.org_id)
        .await
        .into_iter()
        .find(|e| e.event.as_str() == "workspace.created")
        .expect("event");
    assert_eq!(event.actor.kind, relinx_model::ActorKind::ServiceAccount);
    assert_eq!(event.actor.id, id);

    let too_high = app
        .post(
            &format!("/api/service-accounts/{id}/keys"),
            &[t.key_header()],
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(too_high.status, StatusCode::FORBIDDEN, "{}", too_high.text);
    let listed = app
        .get("/api/service-accounts", &[t.key_header()])
        .await
        .json();
    assert_eq!(listed["pagination"]["total_items"], 1);

    let deleted = call(
        &app,
        Method::DELETE,
        &format!("/api/service-accounts/{id}"),
        &[t.key_header()],
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        app.get("/api/v1/validate", &sa_key).await.status,
        StatusCode::UNAUTHORIZED
    );
    let names: Vec<String> = events_of(&t.org_id)
        .await
        .into_iter()
        .map(|e| e.event.as_str().to_owned())
        .collect();
    assert!(
        names.contains(&"service_account.created".to_owned())
            && names.contains(&"service_account.deleted".to_owned())
    );
}

#[tokio::test]
async fn datalinx_user_pages_carry_totals() {
    let app = app().await;
    let t = app.tenant().await;
    for role in ["viewer", "operator"] {
        let invited = app
            .post(
                "/api/users",
                &[t.key_header()],
                json!({"email": unique(role), "role": role}),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
        assert_eq!(invited.json()["data"]["status"], "invited");
    }
    let page = app
        .get("/api/users?page=1&page_size=1", &[t.key_header()])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let page = page.json();
    assert_eq!(
        page["pagination"],
        json!({"page": 1, "page_size": 1, "total_items": 3, "total_pages": 3})
    );
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));
    let me = app
        .get(&format!("/api/users/{}", t.user_id), &[t.key_header()])
        .await
        .json();
    assert_eq!(me["data"]["role"], "owner");
    let renamed = call(
        &app,
        Method::PUT,
        &format!("/api/users/{}", t.user_id),
        &[t.key_header()],
        Some(json!({"name": "Boss"})),
    )
    .await;
    assert_eq!(renamed.json()["data"]["name"], "Boss", "{}", renamed.text);
}

#[tokio::test]
async fn another_orgs_admin_objects_are_not_found_never_forbidden() {
    let app = app().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let role = app
        .post(
            "/api/roles",
            &[a.key_header()],
            json!({"name": "a-role", "permissions": ["records:read"]}),
        )
        .await;
    assert_eq!(role.status, StatusCode::CREATED);
    let account = app
        .post(
            "/api/service-accounts",
            &[a.key_header()],
            json!({"name": "a-sa", "role": "viewer"}),
        )
        .await
        .json();
    let sa = account["data"]["id"].as_str().expect("id").to_owned();
    let h = [b.key_header()];
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/api/organizations/{}", a.org_id),
            Some(json!({"name": "mine now"})),
        ),
        (
            Method::PATCH,
            format!("/v1/users/{}", a.user_id),
            Some(json!({"role": "viewer"})),
        ),
        (Method::DELETE, format!("/v1/users/{}", a.user_id), None),
        (Method::GET, format!("/api/users/{}", a.user_id), None),
        (
            Method::PUT,
            format!("/api/users/{}", a.user_id),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("/api/users/{}", a.user_id), None),
        (Method::GET, "/api/roles/a-role".to_owned(), None),
        (
            Method::PUT,
            "/api/roles/a-role".to_owned(),
            Some(json!({"permissions": []})),
        ),
        (Method::DELETE, "/api/roles/a-role".to_owned(), None),
        (Method::DELETE, format!("/api/service-accounts/{sa}"), None),
        (
            Method::POST,
            format!("/api/service-accounts/{sa}/keys"),
            Some(json!({})),
        ),
    ] {
        let response = call(&app, method.clone(), &path, &h, body).await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            response.text
        );
    }
    let orgs = app.get("/api/organizations", &h).await.json();
    assert_eq!(orgs["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(orgs["data"][0]["id"], b.org_id.as_str());
    let users = app.get("/v1/users", &h).await.json();
    assert!(!users.to_string().contains(&a.user_id));
}

#[tokio::test]
async fn a_disabled_member_is_refused_at_once_and_a_demoted_one_is_capped() {
    let app = app().await;
    let t = app.tenant().await;
    let email = unique("ada");
    let (ada_id, password) = member(&app, &t, &email, "admin").await;
    let token = login(&app, &email, &password).await;
    let own_key = app
        .post(
            "/v1/api-keys",
            std::slice::from_ref(&token),
            json!({"name": "ada's"}),
        )
        .await;
    assert_eq!(own_key.status, StatusCode::CREATED, "{}", own_key.text);
    let ada_key = (
        "x-api-key",
        own_key.json()["key"].as_str().expect("key").to_owned(),
    );
    assert_eq!(
        app.get("/v1/workspaces", std::slice::from_ref(&ada_key))
            .await
            .status,
        StatusCode::OK
    );

    let path = format!("/v1/users/{ada_id}");
    let disabled = call(
        &app,
        Method::PATCH,
        &path,
        &[t.key_header()],
        Some(json!({"status": "disabled"})),
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert_eq!(
        app.get("/v1/workspaces", std::slice::from_ref(&ada_key))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/v1/workspaces", std::slice::from_ref(&token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let relogin = app
        .post(
            "/api/auth/login",
            &[],
            json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(relogin.status, StatusCode::UNAUTHORIZED);

    let enabled = call(
        &app,
        Method::PATCH,
        &path,
        &[t.key_header()],
        Some(json!({"status": "active"})),
    )
    .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.text);
    assert_eq!(
        app.get("/v1/workspaces", std::slice::from_ref(&ada_key))
            .await
            .status,
        StatusCode::OK
    );

    // Demoted to viewer: older tokens stop, keys are capped at the new role.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let demoted = call(
        &app,
        Method::PATCH,
        &path,
        &[t.key_header()],
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    assert_eq!(
        app.get("/v1/workspaces", &[token]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/v1/workspaces", std::slice::from_ref(&ada_key))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.post("/v1/workspaces", &[ada_key], json!({"name": "nope"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let fresh = login(&app, &email, &password).await;
    assert_eq!(
        app.get("/v1/workspaces", &[fresh]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_owner_edits_the_org_and_nobody_else() {
    let app = app().await;
    let t = app.tenant().await;
    let path = format!("/api/organizations/{}", t.org_id);
    let renamed = call(
        &app,
        Method::PUT,
        &path,
        &[t.key_header()],
        Some(json!({"name": "Renamed", "plan": "enterprise"})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let org = renamed.json()["data"].clone();
    assert_eq!(org["name"], "Renamed");
    assert_eq!(org["plan"], "enterprise");
    assert_eq!(org["limits"]["rate_per_minute"], 7200);
    let admin = key_with_role(&app, &t, "admin").await;
    assert_eq!(
        call(
            &app,
            Method::PUT,
            &path,
            std::slice::from_ref(&admin),
            Some(json!({"name": "x"}))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/organizations", &[admin]).await.status,
        StatusCode::OK
    );
    let bad = call(
        &app,
        Method::PUT,
        &path,
        &[t.key_header()],
        Some(json!({"plan": "gold"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn login_is_throttled_per_address_tried() {
    let app = app().await;
    let t = app.tenant().await;
    let mut statuses = Vec::new();
    // 10 a minute per address tried: the 11th guess is refused, or at the latest the
    // 21st should the test straddle two minute windows on a slow machine.
    for _ in 0..21 {
        let response = app
            .post(
                "/api/auth/login",
                &[],
                json!({"email": t.email, "password": "guess guess guess"}),
            )
            .await;
        let refused = response.status == StatusCode::TOO_MANY_REQUESTS;
        statuses.push(response);
        if refused {
            break;
        }
    }
    let limited = statuses
        .iter()
        .find(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .expect("a 429 within 21 guesses");
    assert!(limited.header("retry-after").is_some());
    assert!(
        statuses
            .iter()
            .all(|r| r.status == StatusCode::UNAUTHORIZED
                || r.status == StatusCode::TOO_MANY_REQUESTS)
    );
}

#[tokio::test]
async fn no_invite_token_password_or_key_secret_is_stored_or_logged() {
    let (logs, _guard) = capture_logs();
    let app = app().await;
    let t = app.tenant().await;
    let invite = app
        .post(
            "/v1/users/invite",
            &[t.key_header()],
            json!({"email": unique("secret"), "role": "viewer"}),
        )
        .await
        .json();
    let token = token_of(&invite);
    let password = "a password that must not leak";
    app.post(
        &format!("/v1/invites/{token}/accept"),
        &[],
        json!({"password": password}),
    )
    .await;
    let account = app
        .post(
            "/api/service-accounts",
            &[t.key_header()],
            json!({"name": "s", "role": "viewer"}),
        )
        .await
        .json();
    let key = app
        .post(
            &format!(
                "/api/service-accounts/{}/keys",
                account["data"]["id"].as_str().expect("id")
            ),
            &[t.key_header()],
            json!({}),
        )
        .await
        .json();
    let secret = key["data"]["key"]
        .as_str()
        .expect("key")
        .split_once('.')
        .map(|(_, s)| s.to_owned())
        .expect("secret");
    let stored = dump_tables().await;
    let logged = logs.text();
    for (what, value) in [
        ("invite token", token.as_str()),
        ("password", password),
        ("service account key", secret.as_str()),
    ] {
        assert!(!stored.contains(value), "{what} found in DynamoDB");
        assert!(!logged.contains(value), "{what} found in the logs");
    }
}
