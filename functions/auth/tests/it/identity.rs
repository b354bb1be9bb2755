//! Identity through the auth function's own Router: signup, keys on every header,
//! token exchange, login, and every way a credential can be wrong.

use http::StatusCode;
use relinx_testkit::{TEST_JWT_SECRET, TestApp, TestResponse, open_settings};
use serde_json::{Value, json};

async fn app() -> TestApp {
    TestApp::new(auth_fn::app).await
}

fn unique_email() -> String {
    format!("user-{:x}@example.com", rand_u64())
}

fn rand_u64() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64) ^ (std::process::id() as u64) << 32
}

fn key_headers(key: &str) -> [(&'static str, String); 4] {
    [
        ("authorization", format!("ApiKey {key}")),
        ("authorization", format!("Bearer {key}")),
        ("x-api-key", key.to_owned()),
        ("x-relenta-department-key", key.to_owned()),
    ]
}

/// The Relink surface's error body: exactly `{"status":"error","message"}`.
fn assert_relink_401(response: &TestResponse, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        response.text
    );
    let body = response.json();
    assert_eq!(body["status"], "error", "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{what}: {body}");
}

/// The platform surface's error body, with the request id of the response.
fn assert_platform_401(response: &TestResponse, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        response.text
    );
    let body = response.json();
    assert_eq!(body["status"], "failed", "{what}: {body}");
    assert_eq!(body["error_code"], "UNAUTHORIZED", "{what}: {body}");
    assert_eq!(
        body["request_id"].as_str(),
        response.header("x-request-id"),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn signup_key_token_and_validate_work_through_every_header() {
    let app = app().await;
    let email = unique_email();
    let password = "correct horse battery staple";
    let signed = app
        .post(
            "/v1/signup",
            &[],
            json!({"organization": "Acme", "email": email, "password": password}),
        )
        .await;
    assert_eq!(signed.status, StatusCode::CREATED, "{}", signed.text);
    let body = signed.json();
    for (field, prefix) in [
        ("org_id", "org_"),
        ("workspace_id", "ws_"),
        ("user_id", "usr_"),
    ] {
        assert!(
            body[field].as_str().is_some_and(|v| v.starts_with(prefix)),
            "{field}: {body}"
        );
    }
    let key = body["api_key"].as_str().expect("api_key").to_owned();
    let (id, secret) = key.split_once('.').expect("id.secret");
    assert_eq!(id.len(), 16);
    assert!(secret.len() >= 43);
    let user_id = body["user_id"].clone();

    for header in key_headers(&key) {
        let validated = app
            .get("/api/v1/validate", std::slice::from_ref(&header))
            .await;
        assert_eq!(
            validated.status,
            StatusCode::OK,
            "{header:?}: {}",
            validated.text
        );
        assert_eq!(
            validated.json(),
            json!({"message": "API key is valid", "userId": user_id, "status": "success"}),
            "{header:?}"
        );
    }

    let token = app
        .post("/v1/auth/token", &[], json!({"api_key": key}))
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text);
    let token = token.json();
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["expires_in"], 3600);
    let access = token["access_token"].as_str().expect("access_token");
    let validated = app
        .get(
            "/api/v1/validate",
            &[("authorization", format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.text);
    assert_eq!(validated.json()["userId"], user_id);

    let login = app
        .post(
            "/api/auth/login",
            &[],
            json!({"email": email.to_uppercase(), "password": password}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let access = login.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let listed = app
        .get(
            "/v1/api-keys",
            &[("authorization", format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
}

#[tokio::test]
async fn wrong_revoked_rotated_expired_and_malformed_keys_are_refused() {
    let app = app().await;
    let tenant = app.tenant().await;
    let owner = [tenant.key_header()];
    let create = |name: &str, extra: Value| {
        let mut body = json!({"name": name});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };

    let rotated = app
        .post("/v1/api-keys", &owner, create("rotated", json!({})))
        .await
        .json();
    let old_rotated_key = rotated["key"].as_str().expect("key").to_owned();
    // Used first, so this instance has the key cached when it is rotated.
    assert_eq!(
        app.get(
            "/api/v1/validate",
            &[("x-api-key", old_rotated_key.clone())]
        )
        .await
        .status,
        StatusCode::OK
    );
    let rotation = app
        .post(
            &format!(
                "/v1/api-keys/{}/rotate",
                rotated["id"].as_str().expect("id")
            ),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(rotation.status, StatusCode::OK, "{}", rotation.text);
    let new_rotated_key = rotation.json()["key"].as_str().expect("key").to_owned();
    assert_ne!(new_rotated_key, old_rotated_key);
    assert_eq!(
        app.get("/api/v1/validate", &[("x-api-key", new_rotated_key)])
            .await
            .status,
        StatusCode::OK
    );

    let revoked = app
        .post("/v1/api-keys", &owner, create("revoked", json!({})))
        .await
        .json();
    let revoked_key = revoked["key"].as_str().expect("key").to_owned();
    assert_eq!(
        app.get("/api/v1/validate", &[("x-api-key", revoked_key.clone())])
            .await
            .status,
        StatusCode::OK
    );
    let deletion = app
        .call(
            http::Method::DELETE,
            &format!("/v1/api-keys/{}", revoked["id"].as_str().expect("id")),
            &owner,
            None,
        )
        .await;
    assert_eq!(deletion.status, StatusCode::OK, "{}", deletion.text);

    let soon = relinx_model::Timestamp::now().plus_seconds(2).to_string();
    let expiring = app
        .post(
            "/v1/api-keys",
            &owner,
            create("expiring", json!({"expires_at": soon})),
        )
        .await;
    assert_eq!(expiring.status, StatusCode::CREATED, "{}", expiring.text);
    let expiring_key = expiring.json()["key"].as_str().expect("key").to_owned();
    assert_eq!(
        app.get("/api/v1/validate", &[("x-api-key", expiring_key.clone())])
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;

    let (id, _) = tenant.api_key.split_once('.').expect("id.secret");
    let wrong_secret = format!("{id}.{}", "A".repeat(64));
    let cases = [
        ("wrong secret", wrong_secret),
        ("unknown id", format!("ZZZZZZZZZZZZZZZZ.{}", "A".repeat(64))),
        ("revoked", revoked_key),
        ("rotated away", old_rotated_key),
        ("expired", expiring_key),
        ("malformed", "not-a-key".to_owned()),
        ("empty secret", format!("{id}.")),
    ];
    for (what, key) in cases {
        for header in key_headers(&key) {
            assert_relink_401(
                &app.get("/api/v1/validate", std::slice::from_ref(&header))
                    .await,
                what,
            );
            assert_platform_401(&app.get("/v1/api-keys", &[header]).await, what);
        }
        assert_platform_401(
            &app.post("/v1/auth/token", &[], json!({"api_key": key}))
                .await,
            what,
        );
    }
    let unknown_scheme = app
        .get(
            "/v1/api-keys",
            &[("authorization", "Basic dXNlcjpwdw==".to_owned())],
        )
        .await;
    assert_platform_401(&unknown_scheme, "unknown scheme");
    assert_platform_401(&app.get("/v1/api-keys", &[]).await, "no credentials");
}

#[tokio::test]
async fn forged_and_expired_tokens_are_refused() {
    let app = app().await;
    let tenant = app.tenant().await;
    let now = relinx_model::Timestamp::now().unix();
    let claims = |issuer: &relinx_auth::TokenIssuer, at: i64| {
        issuer.claims(
            at * 1000,
            tenant.user_id.clone(),
            tenant.org_id.clone(),
            "owner".into(),
        )
    };

    let genuine = relinx_auth::TokenIssuer::new(TEST_JWT_SECRET, 3600).expect("issuer");
    let good = genuine.issue(&claims(&genuine, now)).expect("token");
    assert_eq!(
        app.get(
            "/api/v1/validate",
            &[("authorization", format!("Bearer {good}"))]
        )
        .await
        .status,
        StatusCode::OK
    );

    let other = relinx_auth::TokenIssuer::new(b"another-secret-another-secret-another", 3600)
        .expect("issuer");
    let forged = other.issue(&claims(&other, now)).expect("token");
    let expired = genuine.issue(&claims(&genuine, now - 7200)).expect("token");
    let alg_none = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64.encode(serde_json::to_vec(&claims(&genuine, now)).expect("json"));
        format!("{header}.{payload}.")
    };
    let tampered = {
        // The genuine signature over someone else's claims.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = good.split('.').collect();
        let mut forged_claims = claims(&genuine, now);
        forged_claims.org = "org_01HZZZZZZZZZZZZZZZZZZZZZZZ".into();
        let payload = b64.encode(serde_json::to_vec(&forged_claims).expect("json"));
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    for (what, token) in [
        ("other secret", forged),
        ("expired", expired),
        ("alg none", alg_none),
        ("tampered", tampered),
    ] {
        assert_relink_401(
            &app.get(
                "/api/v1/validate",
                &[("authorization", format!("Bearer {token}"))],
            )
            .await,
            what,
        );
    }
}

#[tokio::test]
async fn login_refuses_wrong_passwords_in_the_datalinx_envelope() {
    let app = app().await;
    let tenant = app.tenant().await;
    for (email, password) in [
        (tenant.email.clone(), "wrong password!".to_owned()),
        ("nobody@example.com".to_owned(), tenant.password.clone()),
        ("not an email".to_owned(), tenant.password.clone()),
    ] {
        let response = app
            .post(
                "/api/auth/login",
                &[],
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            response.text
        );
        let body = response.json();
        assert_eq!(body["status"], "failed");
        assert_eq!(body["error_code"], "INVALID_CREDENTIALS");
        assert!(
            body.get("request_id").is_none(),
            "Datalinx errors carry no request_id: {body}"
        );
    }
}

#[tokio::test]
async fn signup_refuses_bad_input_with_the_field_named() {
    let app = app().await;
    let ok = |email: &str| json!({"organization": "Acme", "email": email, "password": "long enough password"});
    let cases = [
        (
            json!({"organization": "Acme", "email": "not-an-email", "password": "long enough password"}),
            "email",
        ),
        (
            json!({"organization": "Acme", "email": unique_email(), "password": "short"}),
            "password",
        ),
        (
            json!({"organization": "  ", "email": unique_email(), "password": "long enough password"}),
            "organization",
        ),
        (
            json!({"organization": "Acme", "email": unique_email(), "password": "long enough password", "plan": "gold"}),
            "plan",
        ),
        (
            json!({"organization": "Acme", "email": unique_email(), "password": "long enough password", "extra": 1}),
            "extra",
        ),
        (
            json!({"organization": "Acme", "password": "long enough password"}),
            "email",
        ),
        (
            json!({"organization": 7, "email": unique_email(), "password": "long enough password"}),
            "organization",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/v1/signup", &[], body.clone()).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            response.text
        );
        let message = response.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains(field),
            "{body}: message {message:?} should name {field}"
        );
    }

    let malformed = app
        .raw(
            http::Request::post("/v1/signup")
                .body(axum::body::Body::from("{\"organization\": "))
                .expect("request"),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error_code"], "INVALID_JSON");

    let email = unique_email();
    assert_eq!(
        app.post("/v1/signup", &[], ok(&email)).await.status,
        StatusCode::CREATED
    );
    let again = app.post("/v1/signup", &[], ok(&email.to_uppercase())).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.json()["error_code"], "EMAIL_TAKEN");

    let closed = TestApp::with(
        auth_fn::app,
        Default::default(),
        relinx_http::Settings {
            signup_open: false,
            plan_selection: false,
            ..relinx_testkit::open_settings()
        },
    )
    .await;
    let refused = closed.post("/v1/signup", &[], ok(&unique_email())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error_code"], "SIGNUP_CLOSED");

    let fixed = TestApp::with(
        auth_fn::app,
        Default::default(),
        relinx_http::Settings {
            plan_selection: false,
            ..open_settings()
        },
    )
    .await;
    let mut pro = ok(&unique_email());
    pro["plan"] = json!("pro");
    let refused = fixed.post("/v1/signup", &[], pro).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error_code"], "PLAN_SELECTION_DISABLED");
    assert_eq!(
        fixed
            .post("/v1/signup", &[], ok(&unique_email()))
            .await
            .status,
        StatusCode::CREATED
    );
}

/// Signups (that could create an org) and token exchanges are throttled per client
/// address, with `Retry-After`.
#[tokio::test]
async fn signup_and_token_exchange_are_throttled_per_client_address() {
    let signing = app().await;
    let mut refused = None;
    // 10 a minute: the 11th is refused, or at the latest the 21st should the test
    // straddle two minute windows on a slow machine.
    for _ in 0..21 {
        let body = json!({"organization": "Acme", "email": unique_email(), "password": "long enough password"});
        let response = signing.post("/v1/signup", &[], body).await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    }
    let refused = refused.expect("more than 10 signups a minute from one address are refused");
    assert!(refused.header("retry-after").is_some());

    // Each test app has a client address of its own.
    let other = app().await;
    let t = other.tenant().await;
    // The burst (20 a second) usually refuses the 21st; the minute limit (120) bounds
    // it whatever the machine's speed: two windows allow at most 240.
    let mut sent = 0;
    let refused = loop {
        let response = other
            .post("/v1/auth/token", &[], json!({"api_key": t.api_key}))
            .await;
        sent += 1;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert!(
            sent <= 240,
            "240 token exchanges from one address, none refused"
        );
    };
    assert!(refused.header("retry-after").is_some());
}
