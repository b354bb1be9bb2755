//! Signup, login, token exchange and key validation.

use axum::Json;
use axum::extract::State;
use relinx_http::client::{ClientIp, LOGIN_PER_EMAIL, LOGIN_PER_IP, throttle};
use relinx_http::respond::Created;
use relinx_http::{ApiError, Caller, JsonBody, Platform, auth};
use relinx_identity::orgs::SignupPolicy;
use relinx_identity::signup::{self, Signup};
use relinx_model::{Email, Name, Password, Plan};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    organization: String,
    email: String,
    password: String,
    #[serde(default)]
    plan: Option<String>,
}

/// `POST /v1/signup` → 201 `{"org_id","workspace_id","user_id","api_key"}`.
pub async fn signup(
    State(platform): State<Arc<Platform>>,
    JsonBody(body): JsonBody<SignupBody>,
) -> Result<Created<Value>, ApiError> {
    let plan = body
        .plan
        .map(|raw| Plan::parse_field("plan", &raw))
        .transpose()?;
    let new_org = Signup {
        organization: Name::parse("organization", &body.organization)?,
        email: Email::parse("email", &body.email)?,
        password: Password::parse("password", body.password)?,
        plan,
    };
    let policy = SignupPolicy {
        open: platform.settings.signup_open,
        plan_selection: platform.settings.plan_selection,
    };
    let request_id = relinx_http::middleware::current_request().map(|r| r.request_id);
    let done = signup::signup(&platform.store, policy, new_org, request_id).await?;
    Ok(Created(json!({
        "org_id": done.org.id,
        "workspace_id": done.workspace.id,
        "user_id": done.user.id,
        "api_key": done.secret.expose(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    api_key: String,
}

/// `POST /v1/auth/token {"api_key"}` → a short-lived bearer token (raw JSON).
pub async fn token(
    State(platform): State<Arc<Platform>>,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Json<auth::AccessToken>, ApiError> {
    auth::token_for_key(&platform, &body.api_key)
        .await
        .map(Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

/// `POST /api/auth/login {"email","password"}` → a bearer token (raw JSON, seed 003).
pub async fn login(
    State(platform): State<Arc<Platform>>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<auth::AccessToken>, ApiError> {
    // Against guessing: per client address and per address being tried.
    let tried = body.email.trim().to_lowercase();
    throttle(&platform, &[(LOGIN_PER_IP, &ip), (LOGIN_PER_EMAIL, &tried)]).await?;
    auth::token_for_login(&platform, &body.email, body.password)
        .await
        .map(Json)
}

/// `GET /api/v1/validate`: seed 001's body exactly.
pub async fn validate(caller: Caller) -> Json<Value> {
    Json(json!({
        "message": "API key is valid",
        "userId": caller.ctx.actor.id,
        "status": "success",
    }))
}
