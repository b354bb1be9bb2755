//! The `data` endpoint group: Datalinx's core (seed 003; API.md "Datalinx data") in
//! the Datalinx envelope, every object in the workspace the request resolves to
//! (`X-Workspace`): sources, schemas, mappings, pipelines and their runs, datasets.

mod datasets;
mod mappings;
mod pipelines;
mod runs;
mod schemas;
mod sources;

use axum::Router;
use relinx_http::{Platform, Routes, guarded, guarded_reads, routes, with_body_limit};
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
    let mappings = Routes::new()
        .routes(routes!(mappings::list, mappings::create))
        .routes(routes!(mappings::get, mappings::update, mappings::delete));
    // POSTs that only read: `mappings:read` (API.md "Datalinx insights").
    let mapping_reads = Routes::new()
        .routes(routes!(mappings::preview))
        .routes(routes!(mappings::suggest));
    let pipelines = Routes::new()
        .routes(routes!(pipelines::list, pipelines::create))
        .routes(routes!(
            pipelines::get,
            pipelines::update,
            pipelines::delete
        ))
        .routes(routes!(runs::run))
        .routes(routes!(runs::list))
        .routes(routes!(runs::get))
        .routes(routes!(runs::cancel))
        .routes(routes!(runs::rejected));
    let datasets = Routes::new()
        .routes(routes!(datasets::list))
        .routes(routes!(datasets::get, datasets::delete))
        .routes(routes!(datasets::rows));
    guarded(Resource::Sources, sources)
        .merge(guarded(Resource::Pipelines, pipelines))
        .merge(guarded(Resource::Datasets, datasets))
        .merge(with_body_limit(
            guarded(Resource::Sources, uploads),
            relinx_data::staging::MAX_BYTES,
        ))
        .merge(guarded(Resource::Schemas, schemas))
        .merge(guarded(Resource::Mappings, mappings))
        .merge(guarded_reads(Resource::Mappings, mapping_reads))
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
