//! Steps many tests share: a member, a key with a role, a login.

use http::StatusCode;
use relinx_testkit::{Tenant, TestApp};
use serde_json::{Value, json};

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}@example.com", rand_u64())
}

pub fn rand_u64() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64).rotate_left(17) ^ u64::from(std::process::id())
}

pub fn token_of(invite: &Value) -> String {
    let url = invite["invite_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no invite_url in {invite}"));
    url.split("/v1/invites/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("token in URL")
        .to_owned()
}

/// A key of `tenant`'s owner with `role`.
pub async fn key_with_role(app: &TestApp, t: &Tenant, role: &str) -> (&'static str, String) {
    let created = app
        .post(
            "/v1/api-keys",
            &[t.key_header()],
            json!({"name": role, "role": role}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    (
        "x-api-key",
        created.json()["key"].as_str().expect("key").to_owned(),
    )
}

/// Invites `email` as `role` and accepts; returns (user id, password).
pub async fn member(app: &TestApp, t: &Tenant, email: &str, role: &str) -> (String, String) {
    let invite = app
        .post(
            "/v1/users/invite",
            &[t.key_header()],
            json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.text);
    let invite = invite.json();
    let password = format!("pw-{:x}-long", rand_u64());
    let accepted = app
        .post(
            &format!("/v1/invites/{}/accept", token_of(&invite)),
            &[],
            json!({"name": "Member", "password": password}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text);
    (invite["id"].as_str().expect("id").to_owned(), password)
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> (&'static str, String) {
    let response = app
        .post(
            "/api/auth/login",
            &[],
            json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    (
        "authorization",
        format!(
            "Bearer {}",
            response.json()["access_token"].as_str().expect("token")
        ),
    )
}
