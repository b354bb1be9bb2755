//! The HTTP kit every function shares: the middleware stack (request id, logs,
//! authentication, workspace resolution, rate limits, idempotency), extractors that
//! turn bad input into a 400 naming the field, and each surface's envelopes from one
//! error type.

pub mod after_response;
pub mod auth;
pub mod client;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
mod request;
pub mod respond;
pub mod settings;
pub mod surface;
pub mod telemetry;

pub use after_response::AfterResponse;
pub use error::ApiError;
pub use extract::{
    BodyLimit, Caller, CurrentWorkspace, FileBody, IdPath, IdPaths, InWorkspace, JsonBody,
    LinksUrl, PathParam, PublicUrl, QueryParams,
};
pub use relinx_config::{Config, ConfigError};
pub use settings::{Platform, Settings};
pub use surface::Surface;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;

/// A function's route table: routes registered with their OpenAPI operations
/// ([`routes!`]), so nothing is routed undocumented.
pub type Routes = utoipa_axum::router::OpenApiRouter<Arc<Platform>>;

/// The handlers of one path (each annotated with `#[utoipa::path]`), as a route set
/// for [`Routes::routes`]: `routes!(records::get, records::update)`. Like
/// `utoipa_axum::routes!`, but the OpenAPI operations are built only with this
/// crate's `openapi` feature; without it a handler is routed by its path and methods
/// alone, and its documentation is never linked into the binary.
#[macro_export]
macro_rules! routes {
    ($($module:ident :: $handler:ident),+ $(,)?) => {{
        let set = $crate::__private::empty_route_set();
        $(
            let set = $crate::__private::paste! {
                $crate::__private::route::<$module::[<__path_ $handler>], _, _>(set, $module::$handler)
            };
        )+
        set
    }};
}

#[doc(hidden)]
pub mod __private {
    use super::Platform;
    use axum::routing::MethodRouter;
    use std::sync::Arc;
    use utoipa_axum::router::UtoipaMethodRouter;

    pub use utoipa_axum::paste;

    pub fn empty_route_set() -> UtoipaMethodRouter<Arc<Platform>> {
        (
            Vec::new(),
            utoipa::openapi::path::Paths::new(),
            MethodRouter::new(),
        )
    }

    /// Adds `handler` at its documented path and methods (what `utoipa_axum::routes!`
    /// does, its operation and schemas only with the `openapi` feature). `P` is the
    /// handler's `#[utoipa::path]` type (utoipa's hidden `__dev` traits are what
    /// `utoipa_axum` itself calls; both are pinned to utoipa 5).
    pub fn route<P, H, T>(
        set: UtoipaMethodRouter<Arc<Platform>>,
        handler: H,
    ) -> UtoipaMethodRouter<Arc<Platform>>
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>,
        H: axum::handler::Handler<T, Arc<Platform>>,
        T: 'static,
    {
        use utoipa_axum::PathItemExt;
        #[cfg_attr(not(feature = "openapi"), allow(unused_mut))]
        let (mut schemas, mut paths, router) = set;
        let methods = P::methods();
        let router = methods.iter().fold(router, |router, method| {
            router.on(method.to_method_filter(), handler.clone())
        });
        #[cfg(feature = "openapi")]
        let operation = {
            let mut operation = P::operation();
            let tags = <P as utoipa::__dev::Tags<'static>>::tags();
            if !tags.is_empty() {
                operation
                    .tags
                    .get_or_insert(Vec::new())
                    .extend(tags.iter().map(ToString::to_string));
            }
            <P as utoipa::__dev::SchemaReferences>::schemas(&mut schemas);
            operation
        };
        #[cfg(not(feature = "openapi"))]
        let operation = utoipa::openapi::path::Operation::new();
        paths.add_path_operation(P::path(), methods, operation);
        (schemas, paths, router)
    }
}

/// Largest request body accepted (API.md: larger → 400).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Gives `routes` (routes that take files, e.g. an upload's 4 MB) a body limit of
/// their own instead of [`MAX_BODY_BYTES`], held by every layer that reads a body
/// (idempotency's fingerprint, the extractors): beyond it, a 413 naming the limit.
/// Wrap the [`guarded`] group, so the limit is known before its layers run.
pub fn with_body_limit(routes: Routes, bytes: usize) -> Routes {
    // The last layer added runs first.
    routes
        .route_layer(DefaultBodyLimit::max(bytes))
        .route_layer(axum::Extension(BodyLimit(bytes)))
}

/// Guards a group of routes about `resource`: reads need `<resource>:read`,
/// everything else `<resource>:write`, checked before the request is parsed, and
/// only then `Idempotency-Key` (so a caller without the permission can neither
/// replay nor reserve a key). A function's route table is a list of such groups.
pub fn guarded(resource: relinx_model::Resource, routes: Routes) -> Routes {
    // The last layer added runs first.
    routes
        .route_layer(axum::middleware::from_fn(middleware::idempotency))
        .route_layer(axum::middleware::from_fn_with_state(
            resource,
            middleware::require_permission,
        ))
}

/// Like [`guarded`], for routes that only read whatever their method (Relenta's
/// lists also answer POST, with the page in the body): `<resource>:read`.
pub fn guarded_reads(resource: relinx_model::Resource, routes: Routes) -> Routes {
    routes.route_layer(axum::middleware::from_fn_with_state(
        resource,
        middleware::require_read,
    ))
}

/// The links host's app: its public routes behind the request layer alone (request
/// id, log line, DynamoDB accounting; no credentials, no rate limit: short links are
/// opened by anyone), unknown paths answered by `not_found`.
pub fn serve_links<H, T>(routes: Routes, platform: Arc<Platform>, not_found: H) -> Router
where
    H: axum::handler::Handler<T, Arc<Platform>>,
    T: 'static,
{
    let (routes, _document) = routes.split_for_parts();
    routes
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::front,
        ))
        .with_state(platform)
}

/// Wraps a function's routes in the platform's middleware and fallback. Every
/// function calls this once; the dev server calls it once over all routes merged.
/// (The routes' OpenAPI operations are dropped here: the document is served whole,
/// from `docs/openapi.json`.)
pub fn serve(routes: Routes, platform: Arc<Platform>) -> Router {
    let (routes, _document) = routes.split_for_parts();
    routes
        .fallback(middleware::unknown_route)
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::resolve_workspace,
        ))
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::authenticate,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            platform.clone(),
            middleware::front,
        ))
        .layer(tower::util::option_layer(cors(&platform.settings)))
        .with_state(platform)
}

/// The CORS layer for the configured origins (none configured: no layer). Outermost,
/// so a preflight is answered before authentication, which it carries none of.
fn cors(settings: &Settings) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if settings.cors_origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let names = |list: &[&'static str]| -> Vec<HeaderName> {
        list.iter().map(|h| HeaderName::from_static(h)).collect()
    };
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers(names(&[
                "authorization",
                "content-type",
                "x-api-key",
                "x-relenta-department-key",
                "workspaceid",
                "x-workspace",
                "idempotency-key",
                "if-match",
                "last-event-id",
            ]))
            .expose_headers(names(&[
                "x-request-id",
                "x-ratelimit-limit",
                "x-ratelimit-remaining",
                "x-ratelimit-reset",
                "retry-after",
                "etag",
                "idempotent-replayed",
            ]))
            .max_age(std::time::Duration::from_secs(600)),
    )
}
