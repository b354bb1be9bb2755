//! The `redirect` function: the public short links, `GET /{slug}` on the links host
//! (its own HTTP API). Url and QRTag links redirect, App links redirect by device,
//! Landing, DigiCard and TxtBin links are pages (a DigiCard also a vCard); every hit
//! is counted (`relinx_links::hits`) after the answer leaves but before the
//! invocation ends (`relinx_http::AfterResponse`), so none is lost.

mod pages;
mod short_links;

use axum::Router;
use relinx_http::{Platform, Routes, routes};
use std::sync::Arc;

/// The links host's one route.
pub fn routes() -> Routes {
    Routes::new().routes(routes!(short_links::open))
}

/// The function's whole app: the route behind the links host's middleware (no
/// credentials; unknown paths are the 404 page).
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve_links(routes(), platform, short_links::not_found)
}
