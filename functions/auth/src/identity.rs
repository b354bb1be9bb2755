//! Signup, login, token exchange and key validation.

use axum::Json;
use axum::extract::State;
use relinx_http::client::{
    ClientIp, LOGIN_PER_EMAIL, LOGIN_PER_IP, SIGNUP_PER_IP, TOKEN_PER_IP, throttle,
};
use relinx_http::respond::Created;
use relinx_http::{ApiError, Caller, JsonBody, Platform, auth};
use relinx_identity::orgs::SignupPolicy;
use relinx_identity::signup::{self, Signup};
use relinx_model::{Email, Name, Password, Plan};
use relinx_model::{OrgId, UserId, WorkspaceId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organization": "Acme Field Ops", "email": "ops@acme.example", "password": "correct horse battery", "plan": "pro"}))]
#[schema(as = Signup)]
pub struct SignupBody {
    #[schema(min_length = 1, max_length = 100)]
    organization: String,
    #[schema(format = "email")]
    email: String,
    /// 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    /// `starter` (default), `pro` or `enterprise`, where the deployment allows choosing.
    #[serde(default)]
    #[schema(value_type = Option<Plan>)]
    plan: Option<String>,
}

/// What signup answers: the new org, its default workspace, its owner, and the
/// owner's first key (shown once).
#[derive(Serialize, ToSchema)]
#[schema(as = SignedUp)]
pub struct SignedUpBody {
    org_id: OrgId,
    workspace_id: WorkspaceId,
    user_id: UserId,
    api_key: String,
}

/// `POST /v1/signup` → 201 `{"org_id","workspace_id","user_id","api_key"}`.
#[utoipa::path(post, path = "/v1/signup", tag = "identity", security(()),
    request_body = SignupBody,
    responses((status = 201, description = "The org, its owner and the owner's first key", body = SignedUpBody)))]
pub async fn signup(
    State(platform): State<Arc<Platform>>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<SignupBody>,
) -> Result<Created<SignedUpBody>, ApiError> {
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
    // Counted once the body is valid: only a signup that could create an org costs one.
    throttle(&platform, &[(SIGNUP_PER_IP, &ip)]).await?;
    let request_id = relinx_http::middleware::current_request().map(|r| r.request_id);
    let done = signup::signup(&platform.store, policy, new_org, request_id).await?;
    Ok(Created(SignedUpBody {
        org_id: done.org.id,
        workspace_id: done.workspace.id,
        user_id: done.user.id,
        api_key: done.secret.expose().to_owned(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"api_key": "AdKmXKzJuxtcBzOp.w5OL5WzfU0mzfhpvk2YiwWhn_8f2nmjj3ayMmi0Z"}))]
#[schema(as = TokenRequest)]
pub struct TokenBody {
    api_key: String,
}

/// `POST /v1/auth/token {"api_key"}` → a short-lived bearer token (raw JSON).
#[utoipa::path(post, path = "/v1/auth/token", tag = "identity", security(()),
    request_body = TokenBody,
    responses((status = 200, description = "An access token carrying the key's role and scope", body = auth::AccessToken)))]
pub async fn token(
    State(platform): State<Arc<Platform>>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Json<auth::AccessToken>, ApiError> {
    throttle(&platform, &[(TOKEN_PER_IP, &ip)]).await?;
    auth::token_for_key(&platform, &body.api_key)
        .await
        .map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "user@example.com", "password": "your-password"}))]
#[schema(as = LoginRequest)]
pub struct LoginBody {
    email: String,
    password: String,
}

/// `POST /api/auth/login {"email","password"}` → a bearer token (raw JSON, seed 003).
#[utoipa::path(post, path = "/api/auth/login", tag = "identity", security(()),
    request_body = LoginBody,
    responses((status = 200, description = "An access token for the member", body = auth::AccessToken)))]
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

/// Seed 001's answer to a valid key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validated {
    #[schema(example = "API key is valid")]
    message: &'static str,
    /// The key's holder: a member (`usr_…`) or service account (`sa_…`).
    user_id: String,
    #[schema(example = "success")]
    status: &'static str,
}

/// `GET /api/v1/validate`: seed 001's body exactly.
#[utoipa::path(get, path = "/api/v1/validate", tag = "identity",
    responses((status = 200, description = "The key is valid", body = Validated)))]
pub async fn validate(caller: Caller) -> Json<Validated> {
    Json(Validated {
        message: "API key is valid",
        user_id: caller.ctx.actor.id,
        status: "success",
    })
}

/// `GET /v1/openapi.json`: this document (platform path).
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of every route", content_type = "application/json")))]
pub async fn openapi_v1(
    relinx_http::PublicUrl(api): relinx_http::PublicUrl,
    relinx_http::LinksUrl(links): relinx_http::LinksUrl,
) -> axum::response::Response {
    relinx_http::openapi::serve_document(&api, &links)
}

/// `GET /api/openapi.json`: this document (seed 003's path).
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of every route", content_type = "application/json")))]
pub async fn openapi_api(
    relinx_http::PublicUrl(api): relinx_http::PublicUrl,
    relinx_http::LinksUrl(links): relinx_http::LinksUrl,
) -> axum::response::Response {
    relinx_http::openapi::serve_document(&api, &links)
}
