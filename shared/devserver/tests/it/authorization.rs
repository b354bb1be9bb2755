//! Authorization inside one org, as an attacker holding a member's credentials
//! would probe it: no takeover by an admin, idempotency bound to the caller, a
//! workspace scope that holds, no race around a demotion, no secret at rest.

use crate::support::{key_with_role, login, member, token_of, unique};
use http::{Method, Request, StatusCode};
use relinx_ddb::CacheSettings;
use relinx_identity::orgs;
use relinx_model::LimitsOverride;
use relinx_testkit::{Tenant, TestApp, TestResponse, dump_tables, open_settings, owner_context};
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(relinx_devserver::app).await
}

/// The id of the tenant owner's own first key.
async fn owner_key_id(app: &TestApp, t: &Tenant) -> String {
    let keys = app.get("/v1/api-keys", &[t.key_header()]).await;
    keys.json()["data"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["owner"]["id"] == t.user_id.as_str() && k["name"] == "default")
        .and_then(|k| k["id"].as_str())
        .expect("the owner's key")
        .to_owned()
}

fn key_id_of(secret: &str) -> String {
    secret.split('.').next().expect("key id").to_owned()
}

async fn rotate(app: &TestApp, h: &(&'static str, String), id: &str) -> TestResponse {
    app.call(
        Method::POST,
        &format!("/v1/api-keys/{id}/rotate"),
        std::slice::from_ref(h),
        None,
    )
    .await
}

async fn delete(app: &TestApp, h: &(&'static str, String), path: &str) -> TestResponse {
    app.call(Method::DELETE, path, std::slice::from_ref(h), None)
        .await
}

fn refused_as_escalation(response: &TestResponse) {
    assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.text);
    assert_eq!(
        response.json()["error_code"],
        "ROLE_ESCALATION",
        "{}",
        response.text
    );
}

#[tokio::test]
async fn an_admin_cannot_rotate_or_delete_the_owners_key() {
    let app = app().await;
    let t = app.tenant().await;
    let admin = key_with_role(&app, &t, "admin").await;
    let owner_key = owner_key_id(&app, &t).await;

    refused_as_escalation(&rotate(&app, &admin, &owner_key).await);
    refused_as_escalation(&delete(&app, &admin, &format!("/v1/api-keys/{owner_key}")).await);
    // The owner's key still works, unchanged.
    let still = app.get("/v1/workspaces", &[t.key_header()]).await;
    assert_eq!(still.status, StatusCode::OK);

    // A custom role holding only keys:read + keys:write gets no further.
    let role = app
        .post(
            "/api/roles",
            &[t.key_header()],
            json!({"name": "key-keeper", "permissions": ["keys:read", "keys:write"]}),
        )
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text);
    let keeper = key_with_role(&app, &t, "key-keeper").await;
    refused_as_escalation(&rotate(&app, &keeper, &owner_key).await);
    refused_as_escalation(&delete(&app, &keeper, &format!("/v1/api-keys/{owner_key}")).await);

    // The review's scenario: an admin member lists the keys and goes for the owner's.
    let email = unique("admin");
    let (_, password) = member(&app, &t, &email, "admin").await;
    let admin_member = login(&app, &email, &password).await;
    let listed = app
        .get("/v1/api-keys", std::slice::from_ref(&admin_member))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    refused_as_escalation(&rotate(&app, &admin_member, &owner_key).await);
    refused_as_escalation(&delete(&app, &admin_member, &format!("/v1/api-keys/{owner_key}")).await);
    let own = app
        .post(
            "/v1/api-keys",
            std::slice::from_ref(&admin_member),
            json!({"name": "mine"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
    let own_id = own.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(
        rotate(&app, &admin_member, &own_id).await.status,
        StatusCode::OK
    );

    // Their own keys and their peers' stay theirs to manage.
    let other_admin = key_with_role(&app, &t, "admin").await;
    let rotated_own = rotate(&app, &admin, &key_id_of(&admin.1)).await;
    assert_eq!(rotated_own.status, StatusCode::OK, "{}", rotated_own.text);
    let peer = rotate(&app, &other_admin, &key_id_of(&admin.1)).await;
    assert_eq!(peer.status, StatusCode::OK, "{}", peer.text);
}

#[tokio::test]
async fn an_admin_cannot_mint_rotate_or_delete_for_an_owner_role_service_account() {
    let app = app().await;
    let t = app.tenant().await;
    let admin = key_with_role(&app, &t, "admin").await;
    let account = app
        .post(
            "/api/service-accounts",
            &[t.key_header()],
            json!({"name": "deployer", "role": "owner"}),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.text);
    let sa = account.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let minted = app
        .call(
            Method::POST,
            &format!("/api/service-accounts/{sa}/keys"),
            &[t.key_header()],
            Some(json!({})),
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text);
    let sa_key = minted.json()["data"]["id"]
        .as_str()
        .expect("key id")
        .to_owned();

    refused_as_escalation(&rotate(&app, &admin, &sa_key).await);
    refused_as_escalation(
        &app.call(
            Method::POST,
            &format!("/api/service-accounts/{sa}/keys"),
            std::slice::from_ref(&admin),
            Some(json!({"role": "viewer"})),
        )
        .await,
    );
    refused_as_escalation(&delete(&app, &admin, &format!("/api/service-accounts/{sa}")).await);
    refused_as_escalation(&delete(&app, &admin, &format!("/v1/api-keys/{sa_key}")).await);
    let gone = delete(
        &app,
        &t.key_header(),
        &format!("/api/service-accounts/{sa}"),
    )
    .await;
    assert_eq!(
        gone.status,
        StatusCode::OK,
        "the owner outranks it: {}",
        gone.text
    );
}

#[tokio::test]
async fn an_admin_cannot_edit_or_delete_a_role_above_its_own() {
    let app = app().await;
    let t = app.tenant().await;
    let admin = key_with_role(&app, &t, "admin").await;
    let role = app
        .post(
            "/api/roles",
            &[t.key_header()],
            json!({"name": "billing", "permissions": ["org:write", "org:read"]}),
        )
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text);
    let edit = app
        .call(
            Method::PUT,
            "/api/roles/billing",
            std::slice::from_ref(&admin),
            Some(json!({"description": "mine now"})),
        )
        .await;
    refused_as_escalation(&edit);
    refused_as_escalation(&delete(&app, &admin, "/api/roles/billing").await);
}

#[tokio::test]
async fn an_idempotency_key_replays_only_to_the_credential_that_made_it() {
    let app = app().await;
    let t = app.tenant().await;
    let viewer = key_with_role(&app, &t, "viewer").await;
    let body = json!({"name": "deploy", "role": "admin"});
    let with_key = |h: (&'static str, String), k: &str| vec![h, ("idempotency-key", k.to_owned())];

    let first = app
        .post(
            "/v1/api-keys",
            &with_key(t.key_header(), "K1"),
            body.clone(),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    // The same key, path and body from a viewer: refused by permission, never replayed.
    let stolen = app
        .post(
            "/v1/api-keys",
            &with_key(viewer.clone(), "K1"),
            body.clone(),
        )
        .await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN, "{}", stolen.text);
    assert!(stolen.header("idempotent-replayed").is_none());
    assert!(
        !stolen
            .text
            .contains(first.json()["key"].as_str().expect("key"))
    );

    // Another admin sending the owner's key gets a request of its own.
    let admin = key_with_role(&app, &t, "admin").await;
    let own = app
        .post("/v1/api-keys", &with_key(admin.clone(), "K1"), body.clone())
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);
    assert!(own.header("idempotent-replayed").is_none());
    assert_ne!(own.json()["key"], first.json()["key"]);
    // While the owner's own repeat replays.
    let again = app
        .post("/v1/api-keys", &with_key(t.key_header(), "K1"), body)
        .await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["key"], first.json()["key"]);

    // A viewer cannot poison a key the owner will use later.
    let ws = json!({"name": "poisoned"});
    let poison = app
        .post("/v1/workspaces", &with_key(viewer, "K2"), ws.clone())
        .await;
    assert_eq!(poison.status, StatusCode::FORBIDDEN);
    let owner = app
        .post("/v1/workspaces", &with_key(t.key_header(), "K2"), ws)
        .await;
    assert_eq!(owner.status, StatusCode::CREATED, "{}", owner.text);
}

#[tokio::test]
async fn a_refusal_is_not_stored_against_the_idempotency_key() {
    let app = app().await;
    let t = app.tenant().await;
    let h = [t.key_header(), ("idempotency-key", "K3".to_owned())];
    // A viewer key asking for an admin key: 403, which must not hold the key.
    let viewer = key_with_role(&app, &t, "viewer").await;
    let refused = app
        .post(
            "/v1/api-keys",
            &[viewer, ("idempotency-key", "K3".to_owned())],
            json!({"name": "x", "role": "admin"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let fresh = app
        .post("/v1/api-keys", &h, json!({"name": "x", "role": "viewer"}))
        .await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.text);
}

#[tokio::test]
async fn a_workspace_scoped_admin_stays_in_its_workspace() {
    let app = app().await;
    let t = app.tenant().await;
    let made = app
        .post(
            "/v1/workspaces",
            &[t.key_header()],
            json!({"name": "team-a"}),
        )
        .await;
    let ws = made.json()["id"].as_str().expect("id").to_owned();
    let scoped = app
        .post(
            "/v1/api-keys",
            &[t.key_header()],
            json!({"name": "a-admin", "role": "admin", "workspace_id": ws}),
        )
        .await;
    let scoped = (
        "x-api-key",
        scoped.json()["key"].as_str().expect("key").to_owned(),
    );
    let email = unique("victim");
    let (victim, _) = member(&app, &t, &email, "viewer").await;

    let invite = app
        .post(
            "/v1/users/invite",
            std::slice::from_ref(&scoped),
            json!({"email": unique("x"), "role": "admin"}),
        )
        .await;
    assert_eq!(invite.status, StatusCode::FORBIDDEN, "{}", invite.text);
    let promote = app
        .call(
            Method::PATCH,
            &format!("/v1/users/{victim}"),
            std::slice::from_ref(&scoped),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(promote.status, StatusCode::FORBIDDEN, "{}", promote.text);
    let removed = delete(&app, &scoped, &format!("/v1/users/{victim}")).await;
    assert_eq!(removed.status, StatusCode::FORBIDDEN, "{}", removed.text);
    let role = app
        .post(
            "/api/roles",
            std::slice::from_ref(&scoped),
            json!({"name": "sneaky", "permissions": ["workspaces:read"]}),
        )
        .await;
    assert_eq!(role.status, StatusCode::FORBIDDEN, "{}", role.text);
    // Sync policies route records in every workspace: org-wide, so refused too.
    let policy = app
        .post(
            "/v1/policies",
            std::slice::from_ref(&scoped),
            json!({"name": "hijack", "when": "size > 0", "then": "queue=elsewhere"}),
        )
        .await;
    assert_eq!(policy.status, StatusCode::FORBIDDEN, "{}", policy.text);
    assert!(
        policy.json()["message"]
            .as_str()
            .unwrap()
            .contains("policies"),
        "{}",
        policy.text
    );
    let mine = app
        .post(
            "/v1/policies",
            &[t.key_header()],
            json!({"name": "mine", "when": "size > 0", "then": "queue=wifi"}),
        )
        .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
    let replaced = app
        .post(
            "/v1/policies",
            std::slice::from_ref(&scoped),
            json!({"name": "mine", "when": "size > 0", "then": "queue=elsewhere"}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::FORBIDDEN, "{}", replaced.text);
    let dropped = delete(&app, &scoped, "/v1/policies/mine").await;
    assert_eq!(dropped.status, StatusCode::FORBIDDEN, "{}", dropped.text);
    let listed = app.get("/v1/policies", std::slice::from_ref(&scoped)).await;
    assert_eq!(
        listed.status,
        StatusCode::OK,
        "reading them is fine: {}",
        listed.text
    );
    // Nor may it delete its own workspace.
    let own_ws = delete(&app, &scoped, &format!("/v1/workspaces/{ws}")).await;
    assert_eq!(own_ws.status, StatusCode::FORBIDDEN, "{}", own_ws.text);
    let still = app
        .get(&format!("/v1/workspaces/{ws}"), &[t.key_header()])
        .await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.text);

    // X-Workspace naming another workspace is a 404, exactly as workspaceId is.
    let by_name = app
        .get(
            "/v1/api-keys",
            &[scoped.clone(), ("x-workspace", "default".to_owned())],
        )
        .await;
    assert_eq!(by_name.status, StatusCode::NOT_FOUND, "{}", by_name.text);
    let by_id = app
        .get(
            "/v1/api-keys",
            &[scoped.clone(), ("workspaceid", t.workspace_id.clone())],
        )
        .await;
    assert_eq!(by_id.status, StatusCode::NOT_FOUND);
    let own = app
        .get(
            "/v1/api-keys",
            &[scoped, ("x-workspace", "Team-A".to_owned())],
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
}

/// Raises `t`'s rate limit, as an operator would for a busy org, so a test can make
/// a few hundred calls at once.
async fn busy(app: &TestApp, t: &Tenant) {
    let limits = LimitsOverride {
        rate_per_minute: Some(100_000),
        burst: Some(10_000),
        ..Default::default()
    };
    orgs::set_limits_override(&app.platform.store, &owner_context(t), limits)
        .await
        .expect("limits");
}

/// `count` keys minted with `h` (their secrets).
async fn mint(app: &TestApp, h: &(&'static str, String), path: &str, count: usize) -> Vec<String> {
    let mut keys = Vec::with_capacity(count);
    for i in 0..count {
        let made = app
            .post(
                path,
                std::slice::from_ref(h),
                json!({"name": format!("k{i}")}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "key {i}: {}", made.text);
        // The platform's bare key, or Datalinx's envelope around it.
        let body = made.json();
        let issued = body.get("data").unwrap_or(&body);
        keys.push(issued["key"].as_str().expect("key").to_owned());
    }
    keys
}

/// Whether each key can create a workspace (201) or what it gets instead.
async fn workspace_creates(app: &TestApp, keys: &[String]) -> Vec<StatusCode> {
    futures::future::join_all(keys.iter().enumerate().map(|(i, key)| async move {
        app.post(
            "/v1/workspaces",
            &[("x-api-key", key.clone())],
            json!({"name": format!("ws-{i}-{}", crate::support::rand_u64())}),
        )
        .await
        .status
    }))
    .await
}

#[tokio::test]
async fn a_member_or_account_with_more_keys_than_a_transaction_holds_is_demoted_and_deleted() {
    let app = app().await;
    let t = app.tenant().await;
    busy(&app, &t).await;
    let email = unique("minter");
    let (member_id, password) = member(&app, &t, &email, "admin").await;
    let token = login(&app, &email, &password).await;
    let keys = mint(&app, &token, "/v1/api-keys", 105).await;

    let demoted = app
        .call(
            Method::PATCH,
            &format!("/v1/users/{member_id}"),
            &[t.key_header()],
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    let statuses = workspace_creates(&app, &keys).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::FORBIDDEN),
        "every key acts as a viewer now: {statuses:?}"
    );
    let read = app
        .get("/v1/workspaces", &[("x-api-key", keys[104].clone())])
        .await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "a viewer still reads: {}",
        read.text
    );

    let removed = delete(&app, &t.key_header(), &format!("/v1/users/{member_id}")).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    for key in &keys {
        let refused = app
            .get("/v1/workspaces", &[("x-api-key", key.clone())])
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    }
    let listed = app.get("/v1/api-keys?limit=200", &[t.key_header()]).await;
    assert!(
        listed.json()["data"]
            .as_array()
            .expect("keys")
            .iter()
            .all(|k| k["owner"]["id"] != member_id.as_str()),
        "none of their keys is left: {}",
        listed.text
    );

    // A service account with as many keys goes the same way.
    let account = app
        .post(
            "/api/service-accounts",
            &[t.key_header()],
            json!({"name": "minting-bot", "role": "admin"}),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.text);
    let account_id = account.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let keys = mint(
        &app,
        &t.key_header(),
        &format!("/api/service-accounts/{account_id}/keys"),
        105,
    )
    .await;
    assert_eq!(
        workspace_creates(&app, &keys[..2]).await,
        [StatusCode::CREATED; 2]
    );
    let removed = delete(
        &app,
        &t.key_header(),
        &format!("/api/service-accounts/{account_id}"),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    for key in &keys {
        let refused = app
            .get("/v1/workspaces", &[("x-api-key", key.clone())])
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    }
}

#[tokio::test]
async fn a_token_issued_before_a_demotion_is_refused_after_it_even_in_the_same_second() {
    let app = app().await;
    let t = app.tenant().await;
    let email = unique("demoted");
    let (id, password) = member(&app, &t, &email, "admin").await;
    // Start at the top of a second, so login and demotion share it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    tokio::time::sleep(std::time::Duration::from_millis(
        1000 - u64::from(now.subsec_millis()) + 20,
    ))
    .await;
    let token = login(&app, &email, &password).await;
    let demoted = app
        .call(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            &[t.key_header()],
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    let after = app.get("/v1/workspaces", &[token]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text);
}

#[tokio::test]
async fn keys_minted_around_a_demotion_never_outrank_the_new_role() {
    let app = app().await;
    let t = app.tenant().await;
    let email = unique("minting");
    let (id, password) = member(&app, &t, &email, "admin").await;
    let token = login(&app, &email, &password).await;

    let minters: Vec<_> = (0..3)
        .map(|_| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..16 {
                    let r = app
                        .post(
                            "/v1/api-keys",
                            std::slice::from_ref(&token),
                            json!({"name": format!("k{i}"), "role": "admin"}),
                        )
                        .await;
                    statuses.push(r.status);
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let demoted = app
        .call(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            &[t.key_header()],
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    let demoted_by = relinx_model::Timestamp::now();
    let mut statuses = Vec::new();
    for minter in minters {
        statuses.extend(minter.await.expect("minter"));
    }
    for status in &statuses {
        assert!(
            matches!(
                *status,
                StatusCode::CREATED
                    | StatusCode::UNAUTHORIZED
                    | StatusCode::FORBIDDEN
                    | StatusCode::CONFLICT
            ),
            "{statuses:?}"
        );
    }

    let keys = app.get("/v1/api-keys?limit=200", &[t.key_header()]).await;
    let theirs: Vec<Value> = keys.json()["data"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["owner"]["id"] == id.as_str())
        .cloned()
        .collect();
    for key in &theirs {
        assert_eq!(
            key["role"], "viewer",
            "a key outranks the demoted member: {key}"
        );
        // None was minted after the demotion: the old token is refused, and a request
        // authorized before it cannot commit after it.
        let created_at = key["created_at"]
            .as_str()
            .and_then(relinx_model::Timestamp::parse)
            .expect("created_at");
        assert!(created_at <= demoted_by, "minted after the demotion: {key}");
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(theirs.len(), created, "{statuses:?}");
}

#[tokio::test]
async fn a_token_for_a_key_expires_with_the_key() {
    let app = app().await;
    let t = app.tenant().await;
    let expires_at = relinx_model::Timestamp::now().plus_seconds(3);
    let created = app
        .post(
            "/v1/api-keys",
            &[t.key_header()],
            json!({"name": "short", "role": "viewer", "expires_at": expires_at}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let key = created.json()["key"].as_str().expect("key").to_owned();
    let exchanged = app
        .post("/v1/auth/token", &[], json!({"api_key": key}))
        .await;
    assert_eq!(exchanged.status, StatusCode::OK, "{}", exchanged.text);
    let expires_in = exchanged.json()["expires_in"].as_i64().expect("expires_in");
    assert!((0..=3).contains(&expires_in), "{expires_in}");
    let token = (
        "authorization",
        format!(
            "Bearer {}",
            exchanged.json()["access_token"].as_str().expect("token")
        ),
    );
    // The verifier allows 5 s of clock skew on exp (jwt.rs), so wait past both.
    tokio::time::sleep(std::time::Duration::from_secs(9)).await;
    let late = app.get("/v1/workspaces", &[token]).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED, "{}", late.text);
}

/// DynamoDB calls a request made besides rate-limit leases (`Server-Timing`).
fn ddb_calls(response: &TestResponse) -> u32 {
    let figure = |name: &str| -> u32 {
        response
            .header("server-timing")
            .and_then(|t| t.split(&format!("{name}=")).nth(1))
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {:?}", response.headers))
    };
    figure("calls") - figure("leases")
}

#[tokio::test]
async fn an_unknown_workspace_header_is_counted_and_flushes_nothing() {
    let app = TestApp::with(
        relinx_devserver::app,
        CacheSettings::default(),
        open_settings(),
    )
    .await;
    let t = app.tenant().await;
    let known = [t.key_header(), ("workspaceid", t.workspace_id.clone())];
    app.get("/v1/api-keys", &known).await;
    let warm = ddb_calls(&app.get("/v1/api-keys", &known).await);
    let unknown = [
        t.key_header(),
        ("workspaceid", "ws_01JZZZZZZZZZZZZZZZZZZZZZZZ".to_owned()),
    ];
    assert_eq!(
        app.get("/v1/api-keys", &unknown).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ddb_calls(&app.get("/v1/api-keys", &known).await),
        warm,
        "a miss flushed the workspace cache"
    );

    // Counted: a starter-sized limit runs out on misses alone.
    let limits = LimitsOverride {
        rate_per_minute: Some(5),
        burst: Some(50),
        ..Default::default()
    };
    orgs::set_limits_override(&app.platform.store, &owner_context(&t), limits)
        .await
        .expect("limits");
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(app.get("/v1/api-keys", &unknown).await.status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn free_form_json_dynamodb_cannot_hold_is_a_400_naming_it() {
    let app = app().await;
    let t = app.tenant().await;
    let nested = (0..33).fold(json!(1), |inner, _| json!({ "a": inner }));
    for (config, why) in [
        (nested, "nests"),
        (json!({"x": 1e300}), "out of range"),
        (json!({"x": 1e-200}), "out of range"),
        (json!({"": 1}), "empty key"),
    ] {
        let r = app
            .post(
                "/api/workspaces",
                &[t.key_header()],
                json!({"name": "cfg", "config": config}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{why}: {}", r.text);
        let message = r.json()["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.starts_with("config"), "{message}");
        assert!(message.contains(why), "{message}");
    }
    let long = app
        .get(
            &format!("/api/roles/{}", "r".repeat(1030)),
            &[t.key_header()],
        )
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST, "{}", long.text);
}

#[tokio::test]
async fn workspace_names_clash_as_a_person_reads_them() {
    let app = app().await;
    let t = app.tenant().await;
    let key = [t.key_header()];
    let create = |name: &str| app.post("/v1/workspaces", &key, json!({"name": name}));
    assert_eq!(create("prod").await.status, StatusCode::CREATED);
    for look_alike in ["PROD", "ｐｒｏｄ", "\u{0440}r\u{043e}d"] {
        let r = create(look_alike).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{look_alike}: {}", r.text);
    }
    for hidden in ["prod\u{200b}", "pro\u{202e}d"] {
        let r = create(hidden).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{hidden:?}: {}", r.text);
    }
}

#[tokio::test]
async fn invite_links_never_come_from_the_host_header() {
    let app = app().await;
    let t = app.tenant().await;
    let invite = |email: String, context: Option<&str>| {
        let mut request = Request::post("/v1/users/invite")
            .header("authorization", format!("ApiKey {}", t.api_key))
            .header("host", "evil.example")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"email": email, "role": "viewer"}).to_string(),
            ))
            .expect("request");
        if let Some(domain) = context {
            let mut context =
                lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext::default();
            context.domain_name = Some(domain.to_owned());
            request
                .extensions_mut()
                .insert(lambda_http::request::RequestContext::ApiGatewayV2(context));
        }
        app.raw(request)
    };
    let local = invite(unique("a"), None).await;
    assert_eq!(local.status, StatusCode::CREATED, "{}", local.text);
    let url = local.json()["invite_url"].as_str().expect("url").to_owned();
    assert!(!url.contains("evil.example"), "{url}");
    let deployed = invite(unique("b"), Some("api.relinx.example")).await;
    let url = deployed.json()["invite_url"]
        .as_str()
        .expect("url")
        .to_owned();
    assert!(
        url.starts_with("https://api.relinx.example/v1/invites/"),
        "{url}"
    );
    assert!(!token_of(&deployed.json()).is_empty());
}

/// The identity flows, each POST with an `Idempotency-Key`, then every item of every
/// table: no key secret, invite token, password or access token anywhere.
#[tokio::test]
async fn no_secret_rests_in_any_table_even_with_idempotency_keys() {
    let app = app().await;
    let t = app.tenant().await;
    let mut secrets = vec![t.api_key.clone(), t.password.clone()];
    let idem = |h: (&'static str, String), k: &str| vec![h, ("idempotency-key", k.to_owned())];

    let key = app
        .post(
            "/v1/api-keys",
            &idem(t.key_header(), "s-1"),
            json!({"name": "ci", "role": "operator"}),
        )
        .await;
    secrets.push(key.json()["key"].as_str().expect("key").to_owned());
    let key_id = key.json()["id"].as_str().expect("id").to_owned();
    let rotated = app
        .call(
            Method::POST,
            &format!("/v1/api-keys/{key_id}/rotate"),
            &idem(t.key_header(), "s-2"),
            None,
        )
        .await;
    secrets.push(rotated.json()["key"].as_str().expect("key").to_owned());
    let email = unique("secret");
    let invite = app
        .post(
            "/v1/users/invite",
            &idem(t.key_header(), "s-3"),
            json!({"email": email, "role": "viewer"}),
        )
        .await;
    let token = token_of(&invite.json());
    secrets.push(token.clone());
    let password = "a-password-never-stored".to_owned();
    secrets.push(password.clone());
    let accepted = app
        .post(
            &format!("/v1/invites/{token}/accept"),
            &[("idempotency-key", "s-4".to_owned())],
            json!({"password": password}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text);
    let account = app
        .post(
            "/api/service-accounts",
            &idem(t.key_header(), "s-5"),
            json!({"name": "bot", "role": "viewer"}),
        )
        .await;
    let sa = account.json()["data"]["id"]
        .as_str()
        .expect("sa")
        .to_owned();
    let sa_key = app
        .call(
            Method::POST,
            &format!("/api/service-accounts/{sa}/keys"),
            &idem(t.key_header(), "s-6"),
            Some(json!({})),
        )
        .await;
    secrets.push(
        sa_key.json()["data"]["key"]
            .as_str()
            .expect("key")
            .to_owned(),
    );
    let exchanged = app
        .post(
            "/v1/auth/token",
            &[("idempotency-key", "s-7".to_owned())],
            json!({"api_key": t.api_key}),
        )
        .await;
    secrets.push(
        exchanged.json()["access_token"]
            .as_str()
            .expect("token")
            .to_owned(),
    );
    let logged_in = login(&app, &email, "a-password-never-stored").await;
    secrets.push(logged_in.1.trim_start_matches("Bearer ").to_owned());
    // Replays, so the stored responses are exercised too.
    let replayed = app
        .post(
            "/v1/api-keys",
            &idem(t.key_header(), "s-1"),
            json!({"name": "ci", "role": "operator"}),
        )
        .await;
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.json()["key"], key.json()["key"]);

    let stored = dump_tables().await;
    for secret in &secrets {
        assert!(secret.len() >= 8);
        // Each half too: a secret split or encoded around a separator still counts.
        let half = &secret[secret.len() / 2..];
        assert!(
            !stored.contains(secret.as_str()) && !stored.contains(half),
            "a secret is stored in the clear"
        );
    }
}
