//! The `auth` endpoint group: signup, login, token exchange, key validation, API keys.

mod identity;
mod keys;

use axum::Router;
use axum::routing::{delete, get, post};
use relinx_http::Platform;
use std::sync::Arc;

/// This group's routes, nothing else.
pub fn routes() -> Router<Arc<Platform>> {
    Router::new()
        .route("/v1/signup", post(identity::signup))
        .route("/v1/auth/token", post(identity::token))
        .route("/api/auth/login", post(identity::login))
        .route("/api/v1/validate", get(identity::validate))
        .route("/v1/api-keys", get(keys::list).post(keys::create))
        .route("/v1/api-keys/{id}/rotate", post(keys::rotate))
        .route("/v1/api-keys/{id}", delete(keys::delete))
}

/// The function's whole app: its routes behind the platform's middleware.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}
