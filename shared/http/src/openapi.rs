//! The OpenAPI 3.1 document of every HTTP route, from the code.
//!
//! Each function's route table is a `utoipa_axum` `OpenApiRouter`: a route is
//! registered together with its `#[utoipa::path]` operation, so nothing is routed
//! undocumented. [`document`] takes the merged tables and adds what every operation
//! shares: the four surfaces' envelopes and error bodies (the very types the kit
//! renders them with), the security schemes, the workspace and idempotency headers.
//! The assembled document is committed as `docs/openapi.json` (a test regenerates and
//! compares it) and served as that file: functions are deployed apart, so none of them
//! holds every route table at run time.

use crate::surface::Surface;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, ServerBuilder,
};
use utoipa::{PartialSchema, ToSchema};

/// Datalinx success: `{"status":"success","data":…}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataEnvelope<T> {
    /// Always `success`.
    #[schema(example = "success")]
    pub status: &'static str,
    pub data: T,
}

/// Relenta success (seed 004): `{"status":true,"code":200,"data":…}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelentaEnvelope<T> {
    /// Always `true`.
    pub status: bool,
    /// Always 200 (Relenta answers every success with 200).
    #[schema(example = 200)]
    pub code: u16,
    pub data: T,
}

/// Datalinx page: `{"status":"success","data":[…],"pagination":{…}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataPageEnvelope<T> {
    /// Always `success`.
    #[schema(example = "success")]
    pub status: &'static str,
    pub data: Vec<T>,
    pub pagination: Pagination,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Pagination {
    pub page: u64,
    pub page_size: u64,
    pub total_items: u64,
    pub total_pages: u64,
}

/// Platform cursor page: `{"data":[…],"next_cursor":…,"has_more":…}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CursorPage<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// A permanent delete's answer: `{"id","deleted":true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub id: String,
    pub deleted: bool,
}

/// Platform and RelaySync errors (`/v1/…`, short links).
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformError {
    /// Always `failed`.
    #[schema(example = "failed")]
    pub status: &'static str,
    /// A sentence a person can act on, naming the field at fault.
    pub message: String,
    /// UPPER_SNAKE: `NOT_FOUND`, `VALIDATION_FAILED`, `RATE_LIMITED`, …
    #[schema(example = "VALIDATION_FAILED")]
    pub error_code: String,
    #[schema(example = "req_01JD8Z2X4Q7V3N5K9M2B6C8D0E")]
    pub request_id: String,
    /// On `CAUSAL_CONFLICT` only: the record as it now is, with its current `causal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<Box<serde_json::Value>>,
}

/// Datalinx errors (`/api/…`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DatalinxError {
    /// Always `failed`.
    #[schema(example = "failed")]
    pub status: &'static str,
    pub message: String,
    #[schema(example = "NOT_FOUND")]
    pub error_code: String,
}

/// Relink errors (`/api/v1/…`, seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct RelinkError {
    /// Always `error`.
    #[schema(example = "error")]
    pub status: &'static str,
    pub message: String,
}

/// Relenta errors (`/api/v3/…`, seed 004).
#[derive(Debug, Serialize, ToSchema)]
pub struct RelentaError {
    /// Always `false`.
    pub status: bool,
    /// The HTTP status again, as seed 004 shows it.
    #[schema(example = 404)]
    pub code: u16,
    pub message: String,
}

/// The error envelope of `surface`, by its component name.
fn error_schema(surface: Surface) -> &'static str {
    match surface {
        Surface::Platform | Surface::Links => "PlatformError",
        Surface::Datalinx => "DatalinxError",
        Surface::Relink => "RelinkError",
        Surface::Relenta => "RelentaError",
    }
}

/// Every error status, with what it means on any route.
const ERROR_STATUSES: &[(u16, &str)] = &[
    (400, "The request is malformed; the message names the field"),
    (401, "Missing, invalid or expired credentials"),
    (
        403,
        "The caller's role or workspace scope, or the deployment, does not allow this",
    ),
    (404, "Not found, or not the caller's"),
    (
        409,
        "A conflict: a uniqueness rule, a concurrent change, or an Idempotency-Key still in flight",
    ),
    (
        422,
        "Well-formed but not acceptable, or an Idempotency-Key reused with another body",
    ),
    (429, "Rate limited; see Retry-After"),
    (500, "An internal error; retry later"),
];

fn response_name(surface: Surface, status: u16) -> String {
    let prefix = match surface {
        Surface::Platform | Surface::Links => "Platform",
        Surface::Datalinx => "Datalinx",
        Surface::Relink => "Relink",
        Surface::Relenta => "Relenta",
    };
    format!("{prefix}{status}")
}

/// The statuses an operation can answer besides its own success: every request can
/// be malformed, refused, pointed at something that is not there, rate limited, or
/// fail; writes can also conflict or be unacceptable.
/// (Relenta answers 401 where the others answer 403: seed 004 has no 403.)
fn error_statuses(surface: Surface, method: &str) -> impl Iterator<Item = u16> {
    let write = method != "get";
    ERROR_STATUSES
        .iter()
        .map(|(status, _)| *status)
        .filter(move |status| write || !matches!(status, 409 | 422))
        .filter(move |status| !(surface == Surface::Relenta && *status == 403))
}

const SECURITY_SCHEMES: [&str; 4] = ["ApiKey", "Bearer", "XApiKey", "DepartmentKey"];

/// The whole document: `routes`' operations with the shared parts added.
pub fn document(mut api: OpenApi) -> OpenApi {
    api.info.title = "relinx".to_owned();
    api.info.version = "1".to_owned();
    api.info.description = Some(
        "One platform behind five API surfaces: Relinx (API keys, workspaces), Relink \
         (smartlinks), RelaySync (records), Datalinx (data) and Relenta (CRM). Each surface \
         keeps its own paths and envelopes; the contract, with every decision the API \
         documents leave open, is docs/api.md in the repository. The short links \
         (`GET /{slug}`) are served on the links host, a server of their own."
            .to_owned(),
    );
    api.info.license = None;
    api.info.contact = None;
    // As committed: scripts/dev's own. Served, each names the deployment's URLs.
    api.servers = Some(vec![
        ServerBuilder::new()
            .url("http://127.0.0.1:3000")
            .description(Some("scripts/dev"))
            .build(),
    ]);
    if let Some(slug) = api.paths.paths.get_mut(SHORT_LINK_PATH) {
        slug.servers = Some(vec![
            ServerBuilder::new()
                .url("http://127.0.0.1:3001")
                .description(Some("scripts/dev's links host"))
                .build(),
        ]);
    }
    let components = api.components.get_or_insert_with(Default::default);
    for (name, schema) in [
        ("PlatformError", PlatformError::schema()),
        ("DatalinxError", DatalinxError::schema()),
        ("RelinkError", RelinkError::schema()),
        ("RelentaError", RelentaError::schema()),
    ] {
        components.schemas.insert(name.to_owned(), schema);
    }
    // One named response per surface and error status, referenced by every operation.
    for surface in [
        Surface::Platform,
        Surface::Datalinx,
        Surface::Relink,
        Surface::Relenta,
    ] {
        for (status, description) in ERROR_STATUSES {
            let description = match (surface, *status) {
                (Surface::Relenta, 401) => {
                    "Missing or invalid key, or not allowed: the key's role or workspace, or the plan's limits (seed 004's 401)"
                }
                _ => *description,
            };
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(error_schema(surface))))
                        .build(),
                )
                .build();
            components
                .responses
                .insert(response_name(surface, *status), RefOr::T(response));
        }
    }
    components.add_security_scheme(
        "ApiKey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`ApiKey <key>` (seed 000): the whole `{id}.{secret}` key",
        ))),
    );
    components.add_security_scheme(
        "Bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "`Bearer <key>` or `Bearer <access token>` (a JWT from /v1/auth/token or /api/auth/login)",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "XApiKey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-Key",
            "the key (seed 003)",
        ))),
    );
    components.add_security_scheme(
        "DepartmentKey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Relenta-Department-Key",
            "the key (seed 004): a key scoped to one workspace is a department",
        ))),
    );
    api.security = Some(
        SECURITY_SCHEMES
            .iter()
            .map(|scheme| SecurityRequirement::new(*scheme, Vec::<String>::new()))
            .collect(),
    );
    for (path, item) in api.paths.paths.iter_mut() {
        let surface = Surface::of(path);
        for (method, operation) in [
            ("get", item.get.as_mut()),
            ("post", item.post.as_mut()),
            ("put", item.put.as_mut()),
            ("patch", item.patch.as_mut()),
            ("delete", item.delete.as_mut()),
        ] {
            if let Some(operation) = operation {
                complete(operation, path, surface, method);
            }
        }
    }
    api
}

/// `get /v1/workspaces/{id}` → `get_v1_workspaces_id`: unique because the route is.
fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<&str> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    format!("{method}_{}", words.join("_"))
}

/// Adds an operation's id, shared headers and error responses.
fn complete(operation: &mut Operation, path: &str, surface: Surface, method: &str) {
    operation.operation_id = Some(operation_id(method, path));
    // An operation that says `security(())` is public; the rest take credentials.
    let authenticated = operation.security.is_none();
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    if authenticated {
        parameters.push(header_param(
            "workspaceId",
            "The workspace to act on, by id (seed 000); another org's is a 404",
        ));
        parameters.push(header_param(
            "X-Workspace",
            "The workspace to act on, by name (seed 003); another org's is a 404",
        ));
    }
    if method == "post" && authenticated {
        parameters.push(header_param(
            "Idempotency-Key",
            "Up to 255 characters; a repeat with the same body replays the first answer for 24 h",
        ));
    }
    for status in error_statuses(surface, method) {
        let reference = Ref::new(format!(
            "#/components/responses/{}",
            response_name(surface, status)
        ));
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(RefOr::Ref(reference));
    }
}

fn header_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(String::schema()))
        .build()
}

/// The committed document (`docs/openapi.json`), deflated by build.rs.
const DEFLATED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/openapi.json.deflate"));

/// The committed document (`docs/openapi.json`), as served (inflated once per
/// instance, on its first use).
pub fn committed() -> &'static str {
    static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use std::io::Read;
        let mut text = String::new();
        // Deflated by our own build script from a file that is UTF-8 JSON: a failure
        // here is a broken build, and serves an empty document rather than panicking.
        let _ = flate2::read::DeflateDecoder::new(DEFLATED).read_to_string(&mut text);
        text
    });
    &TEXT
}

/// `GET /v1/openapi.json` and `GET /api/openapi.json`: the document, unauthenticated,
/// naming this deployment's servers: the API at `api_url`, and the short links
/// (`/{slug}`) on the links host at `links_url`.
pub fn serve_document(api_url: &str, links_url: &str) -> Response {
    static PARSED: std::sync::LazyLock<Option<serde_json::Value>> =
        std::sync::LazyLock::new(|| serde_json::from_str(committed()).ok());
    let headers = [
        (header::CONTENT_TYPE, "application/json"),
        (header::CACHE_CONTROL, "public, max-age=300"),
    ];
    let Some(mut document) = PARSED.clone() else {
        return (headers, committed()).into_response();
    };
    document["servers"] = serde_json::json!([{"url": api_url, "description": "this deployment"}]);
    if let Some(slug) = document["paths"].get_mut(SHORT_LINK_PATH) {
        slug["servers"] =
            serde_json::json!([{"url": links_url, "description": "this deployment's links host"}]);
    }
    (headers, axum::Json(document)).into_response()
}

/// The one route served on the links host, not the API's.
const SHORT_LINK_PATH: &str = "/{slug}";
