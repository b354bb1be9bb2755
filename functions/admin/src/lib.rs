//! The `admin` endpoint group: workspaces, on the platform (`/v1/workspaces`, by id)
//! and Datalinx (`/api/workspaces`, by name) surfaces, and roles (`/api/roles`).

mod organizations;
mod roles;
mod users;
mod workspaces;

use axum::Router;
use axum::routing::{get, patch, post, put};
use relinx_http::{Platform, guarded};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, nothing else: each group guarded by the resource it is about.
pub fn routes() -> Router<Arc<Platform>> {
    let workspace_routes = Router::new()
        .route(
            "/v1/workspaces",
            get(workspaces::v1_list).post(workspaces::v1_create),
        )
        .route(
            "/v1/workspaces/{id}",
            get(workspaces::v1_get)
                .put(workspaces::v1_update)
                .delete(workspaces::v1_delete),
        )
        .route(
            "/api/workspaces",
            get(workspaces::api_list).post(workspaces::api_create),
        )
        .route(
            "/api/workspaces/{name}",
            get(workspaces::api_get)
                .put(workspaces::api_update)
                .delete(workspaces::api_delete),
        );
    // Roles are part of user administration: users:read / users:write.
    let user_routes = Router::new()
        .route("/api/roles", get(roles::list).post(roles::create))
        .route(
            "/api/roles/{name}",
            get(roles::get).put(roles::update).delete(roles::delete),
        )
        .route("/v1/users", get(users::v1_list))
        .route("/v1/users/invite", post(users::v1_invite))
        .route(
            "/v1/users/{id}",
            patch(users::v1_update).delete(users::v1_delete),
        )
        .route("/api/users", get(users::api_list).post(users::api_invite))
        .route(
            "/api/users/{id}",
            get(users::api_get)
                .put(users::api_update)
                .delete(users::api_delete),
        );
    let org_routes = Router::new()
        .route("/api/organizations", get(organizations::list))
        .route("/api/organizations/{id}", put(organizations::update));
    // Invitees have no credentials yet: the token is the credential.
    let public = Router::new().route("/v1/invites/{token}/accept", post(users::accept));
    guarded(Resource::Workspaces, workspace_routes)
        .merge(guarded(Resource::Users, user_routes))
        .merge(guarded(Resource::Org, org_routes))
        .merge(public)
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
