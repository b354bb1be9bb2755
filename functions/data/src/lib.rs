//! The `data` endpoint group: Datalinx's core (seed 003; API.md "Datalinx data") in
//! the Datalinx envelope, every object in the workspace the request resolves to
//! (`X-Workspace`): sources, schemas (issue 28 continues with mappings).

mod schemas;
mod sources;

use axum::Router;
use relinx_http::{Platform, Routes, guarded, routes, with_body_limit};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, each registered with its OpenAPI operation and guarded by
/// the resource it is about; the upload route takes files up to 4 MB.
pub fn routes() -> Routes {
    let sources = Routes::new()
        .routes(routes!(sources::list, sources::create))
        .routes(routes!(sources::get, sources::update, sources::delete))
        .routes(routes!(sources::sample));
    let uploads = Routes::new().routes(routes!(sources::upload));
    let schemas = Routes::new()
        .routes(routes!(schemas::list, schemas::create))
        .routes(routes!(schemas::get, schemas::update, schemas::delete))
        .routes(routes!(schemas::versions));
    guarded(Resource::Sources, sources)
        .merge(with_body_limit(
            guarded(Resource::Sources, uploads),
            relinx_data::staging::MAX_BYTES,
        ))
        .merge(guarded(Resource::Schemas, schemas))
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
