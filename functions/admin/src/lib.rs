//! The `admin` endpoint group: workspaces, on the platform (`/v1/workspaces`, by id)
//! and Datalinx (`/api/workspaces`, by name) surfaces, and roles (`/api/roles`).

mod organizations;
mod roles;
mod users;
mod workspaces;

use axum::Router;
use relinx_http::routes;
use relinx_http::{Platform, Routes, guarded};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, nothing else: each registered with its OpenAPI operation and
/// guarded by the resource it is about.
pub fn routes() -> Routes {
    let workspace_routes = Routes::new()
        .routes(routes!(workspaces::v1_list, workspaces::v1_create))
        .routes(routes!(
            workspaces::v1_get,
            workspaces::v1_update,
            workspaces::v1_delete
        ))
        .routes(routes!(workspaces::api_list, workspaces::api_create))
        .routes(routes!(
            workspaces::api_get,
            workspaces::api_update,
            workspaces::api_delete
        ));
    // Roles are part of user administration: users:read / users:write.
    let user_routes = Routes::new()
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::get, roles::update, roles::delete))
        .routes(routes!(users::v1_list))
        .routes(routes!(users::v1_invite))
        .routes(routes!(users::v1_update, users::v1_delete))
        .routes(routes!(users::api_list, users::api_invite))
        .routes(routes!(
            users::api_get,
            users::api_update,
            users::api_delete
        ));
    let org_routes = Routes::new()
        .routes(routes!(organizations::list))
        .routes(routes!(organizations::update));
    // Invitees have no credentials yet: the token is the credential.
    let public = Routes::new().routes(routes!(users::accept));
    guarded(Resource::Workspaces, workspace_routes)
        .merge(guarded(Resource::Users, user_routes))
        .merge(guarded(Resource::Org, org_routes))
        .merge(public)
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
