//! The `admin` endpoint group: workspaces, on the platform (`/v1/workspaces`, by id)
//! and Datalinx (`/api/workspaces`, by name) surfaces.

mod workspaces;

use axum::Router;
use axum::routing::get;
use relinx_http::Platform;
use std::sync::Arc;

/// This group's routes, nothing else.
pub fn routes() -> Router<Arc<Platform>> {
    Router::new()
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
        )
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
