//! The `auth` endpoint group: signup, login, token exchange, key validation, API keys
//! and service accounts.

mod identity;
mod keys;
mod service_accounts;

use axum::Router;
use relinx_http::routes;
use relinx_http::{Platform, Routes, guarded};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, nothing else: each registered with its OpenAPI operation.
pub fn routes() -> Routes {
    let public = Routes::new()
        .routes(routes!(identity::signup))
        .routes(routes!(identity::token))
        .routes(routes!(identity::login))
        .routes(routes!(identity::validate))
        .routes(routes!(identity::openapi_v1))
        .routes(routes!(identity::openapi_api));
    let key_routes = Routes::new()
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::rotate))
        .routes(routes!(keys::delete))
        // Minting a key is a key operation, whoever it is for.
        .routes(routes!(service_accounts::create_key));
    let account_routes = Routes::new()
        .routes(routes!(service_accounts::list, service_accounts::create))
        .routes(routes!(service_accounts::delete));
    public
        .merge(guarded(Resource::Keys, key_routes))
        .merge(guarded(Resource::Users, account_routes))
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
