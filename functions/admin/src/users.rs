//! Members of the org on two surfaces: `/v1/users` (RelaySync) and `/api/users`
//! (Datalinx), one store behind both; invites and their acceptance.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use relinx_http::client::{ClientIp, INVITE_ACCEPT_PER_IP, throttle};
use relinx_http::openapi::{CursorPage, DataEnvelope, DataPageEnvelope, Deleted};
use relinx_http::respond::{Created, CursorList, Data, DataPage, PageParams, idempotent};
use relinx_http::{
    ApiError, Caller, IdPath, JsonBody, PathParam, Platform, PublicUrl, QueryParams,
};
use relinx_identity::invites::{self, Invite};
use relinx_identity::users::{self, UserPatch};
use relinx_model::{Email, Password, Patch, User, UserId, UserStatus};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    limit: Option<i32>,
    #[serde(default)]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/users", tag = "members", params(ListParams), responses((status = 200, description = "The org's members, with role and last sync", body = CursorPage<User>)))]
pub async fn v1_list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<CursorList<User>, ApiError> {
    let page = relinx_http::respond::CursorParams {
        limit: params.limit,
        cursor: params.cursor,
    }
    .page()?;
    Ok(
        users::list(&platform.store, &caller.ctx, params.role.as_deref(), &page)
            .await?
            .into(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MemberInvite, example = json!({"email": "ada@example.com", "role": "operator", "name": "Ada Lovelace"}))]
pub struct InviteBody {
    #[schema(format = "email")]
    email: String,
    role: String,
    #[serde(default)]
    name: Option<String>,
}

/// Sends an invite and answers it shaped by `shape` (each surface its envelope).
async fn send_invite<R: IntoResponse>(
    platform: &Platform,
    caller: &Caller,
    PublicUrl(base): PublicUrl,
    body: InviteBody,
    shape: impl Fn(Invite) -> R + Clone + Send + Sync + 'static,
) -> Result<R, ApiError> {
    let email = Email::parse("email", &body.email)?;
    idempotent(
        shape,
        invites::invite(
            &platform.store,
            &caller.ctx,
            email,
            body.role,
            body.name,
            |token| format!("{base}/v1/invites/{token}/accept"),
        ),
    )
    .await
}

#[utoipa::path(post, path = "/v1/users/invite", tag = "members", request_body = InviteBody, responses((status = 201, description = "The invited member, with the invite URL shown once", body = Invite)))]
pub async fn v1_invite(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    base: PublicUrl,
    JsonBody(body): JsonBody<InviteBody>,
) -> Result<Created<Invite>, ApiError> {
    send_invite(&platform, &caller, base, body, Created).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InviteAccept, example = json!({"name": "Ada Lovelace", "password": "a long enough password"}))]
pub struct AcceptBody {
    #[serde(default)]
    name: Option<String>,
    #[schema(min_length = 8, max_length = 256)]
    password: String,
}

/// `POST /v1/invites/{token}/accept`: needs no credentials, only the token.
#[utoipa::path(post, path = "/v1/invites/{token}/accept", tag = "members", security(()), params(("token" = String, Path, description = "The invite token from the invite URL")), request_body = AcceptBody, responses((status = 201, description = "The member, now active", body = User)))]
pub async fn accept(
    State(platform): State<Arc<Platform>>,
    ClientIp(ip): ClientIp,
    PathParam(token): PathParam,
    JsonBody(body): JsonBody<AcceptBody>,
) -> Result<Created<User>, ApiError> {
    throttle(&platform, &[(INVITE_ACCEPT_PER_IP, &ip)]).await?;
    let password = Password::parse("password", body.password)?;
    let request_id = relinx_http::middleware::current_request().map(|r| r.request_id);
    Ok(Created(
        invites::accept(&platform.store, &token, body.name, password, request_id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MemberUpdate)]
pub struct UpdateBody {
    /// A name sets it; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    name: Patch<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    status: Option<UserStatus>,
}

impl From<UpdateBody> for UserPatch {
    fn from(body: UpdateBody) -> Self {
        UserPatch {
            name: body.name,
            role: body.role,
            status: body.status,
        }
    }
}

#[utoipa::path(patch, path = "/v1/users/{id}", tag = "members", params(("id" = String, Path, description = "The member's id, `usr_…`")), request_body = UpdateBody, responses((status = 200, description = "The member after the change", body = User)))]
pub async fn v1_update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<UserId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        users::update(&platform.store, &caller.ctx, &id, body.into()).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/users/{id}", tag = "members", params(("id" = String, Path, description = "The member's id, `usr_…`")), responses((status = 200, description = "Removed, with their keys and login", body = Deleted)))]
pub async fn v1_delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<UserId>,
) -> Result<Json<Deleted>, ApiError> {
    let user = users::delete(&platform.store, &caller.ctx, &id).await?;
    Ok(Json(Deleted {
        id: user.id.to_string(),
        deleted: true,
    }))
}

#[utoipa::path(get, path = "/api/users", tag = "members", params(PageParams), responses((status = 200, description = "The org's members", body = DataPageEnvelope<User>)))]
pub async fn api_list(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<DataPage<User>, ApiError> {
    let params = params.validate()?;
    Ok(params.slice(users::list_all(&platform.store, &caller.ctx).await?))
}

#[utoipa::path(post, path = "/api/users", tag = "members", request_body = InviteBody, responses((status = 201, description = "The invited member, with the invite URL shown once", body = DataEnvelope<Invite>)))]
pub async fn api_invite(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    base: PublicUrl,
    JsonBody(body): JsonBody<InviteBody>,
) -> Result<Data<Invite>, ApiError> {
    send_invite(&platform, &caller, base, body, Data::created).await
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "members", params(("id" = String, Path, description = "The member's id, `usr_…`")), responses((status = 200, description = "The member", body = DataEnvelope<User>)))]
pub async fn api_get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<UserId>,
) -> Result<Data<User>, ApiError> {
    Ok(Data::ok(
        users::get_member(&platform.store, &caller.ctx, &id).await?,
    ))
}

#[utoipa::path(put, path = "/api/users/{id}", tag = "members", params(("id" = String, Path, description = "The member's id, `usr_…`")), request_body = UpdateBody, responses((status = 200, description = "The member after the change", body = DataEnvelope<User>)))]
pub async fn api_update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<UserId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Data<User>, ApiError> {
    Ok(Data::ok(
        users::update(&platform.store, &caller.ctx, &id, body.into()).await?,
    ))
}

#[utoipa::path(delete, path = "/api/users/{id}", tag = "members", params(("id" = String, Path, description = "The member's id, `usr_…`")), responses((status = 200, description = "Removed, with their keys and login", body = DataEnvelope<Deleted>)))]
pub async fn api_delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    IdPath(id): IdPath<UserId>,
) -> Result<Data<Deleted>, ApiError> {
    let user = users::delete(&platform.store, &caller.ctx, &id).await?;
    Ok(Data::ok(Deleted {
        id: user.id.to_string(),
        deleted: true,
    }))
}
