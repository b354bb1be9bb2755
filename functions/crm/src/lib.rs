//! The `crm` endpoint group: Relenta's `/api/v3/` (seed 004) — contacts, their
//! custom fields, activities — in Relenta's envelope, every success a 200.

mod activities;
mod contacts;
mod custom_fields;
mod params;

use axum::Router;
use relinx_http::{Platform, Routes, guarded, guarded_reads, routes};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, each registered with its OpenAPI operation and guarded by
/// `contacts:*` / `activities:*` (lists need only read, whatever their method).
pub fn routes() -> Routes {
    let contact_reads = Routes::new()
        .routes(routes!(contacts::list, contacts::list_by_post))
        .routes(routes!(contacts::get))
        .routes(routes!(custom_fields::list));
    let contact_writes = Routes::new()
        .routes(routes!(contacts::save))
        .routes(routes!(contacts::create))
        .routes(routes!(contacts::delete))
        .routes(routes!(custom_fields::save));
    let activity_reads = Routes::new()
        .routes(routes!(activities::list, activities::list_by_post))
        .routes(routes!(activities::occurrences));
    let activity_writes = Routes::new()
        .routes(routes!(activities::save))
        .routes(routes!(activities::delete));
    guarded_reads(Resource::Contacts, contact_reads)
        .merge(guarded(Resource::Contacts, contact_writes))
        .merge(guarded_reads(Resource::Activities, activity_reads))
        .merge(guarded(Resource::Activities, activity_writes))
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
