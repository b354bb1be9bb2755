//! The `auth` endpoint group: signup, login, token exchange, key validation, API keys
//! and service accounts.

mod identity;
mod keys;
mod service_accounts;

use axum::Router;
use axum::routing::{delete, get, post};
use relinx_http::{Platform, guarded};
use relinx_model::Resource;
use std::sync::Arc;

/// This group's routes, nothing else.
pub fn routes() -> Router<Arc<Platform>> {
    let public = Router::new()
        .route("/v1/signup", post(identity::signup))
        .route("/v1/auth/token", post(identity::token))
        .route("/api/auth/login", post(identity::login))
        .route("/api/v1/validate", get(identity::validate));
    let key_routes = Router::new()
        .route("/v1/api-keys", get(keys::list).post(keys::create))
        .route("/v1/api-keys/{id}/rotate", post(keys::rotate))
        .route("/v1/api-keys/{id}", delete(keys::delete));
    let account_routes = Router::new()
        .route(
            "/api/service-accounts",
            get(service_accounts::list).post(service_accounts::create),
        )
        .route(
            "/api/service-accounts/{id}",
            delete(service_accounts::delete),
        );
    // Minting a key is a key operation, whoever it is for.
    let account_key_routes = Router::new().route(
        "/api/service-accounts/{id}/keys",
        post(service_accounts::create_key),
    );
    public
        .merge(guarded(
            Resource::Keys,
            key_routes.merge(account_key_routes),
        ))
        .merge(guarded(Resource::Users, account_routes))
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
