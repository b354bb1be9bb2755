//! The `insights` endpoint group: Datalinx's analytics (seed 003's Analytics APIs;
//! API.md "Datalinx insights") in the Datalinx envelope, in the workspace the
//! request resolves to (`X-Workspace`): ad-hoc queries, saved queries, audiences (whose members the dispatcher keeps
//! current from the event stream).

mod analytics;
mod audiences;
mod queries;

use axum::Router;
use relinx_http::{Platform, Routes, guarded, guarded_reads, routes};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, each registered with its OpenAPI operation and guarded by
/// the resource it is about; POSTs that only read need `read` (API.md).
pub fn routes() -> Routes {
    let analytics = Routes::new().routes(routes!(analytics::query));
    let queries = Routes::new()
        .routes(routes!(queries::list, queries::create))
        .routes(routes!(queries::get, queries::update, queries::delete));
    let query_runs = Routes::new().routes(routes!(queries::run));
    let audiences = Routes::new()
        .routes(routes!(audiences::list, audiences::create))
        .routes(routes!(
            audiences::get,
            audiences::update,
            audiences::delete
        ))
        .routes(routes!(audiences::refresh))
        .routes(routes!(audiences::members));
    guarded_reads(Resource::Analytics, analytics)
        .merge(guarded(Resource::Queries, queries))
        .merge(guarded_reads(Resource::Queries, query_runs))
        .merge(guarded(Resource::Audiences, audiences))
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
