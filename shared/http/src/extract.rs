//! Extractors that refuse bad input with a 400 naming the field, never a 500.

use crate::{ApiError, Platform};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use relinx_model::{Context, WorkspaceId};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A route's own body limit in bytes ([`crate::with_body_limit`]), in the request's
/// extensions.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The answer to a body over its limit: the platform's 1 MiB is a 400 (API.md); a
/// route's own limit (an upload's) is a 413 naming it.
pub fn body_too_large(limit: Option<BodyLimit>) -> ApiError {
    match limit {
        None => ApiError::bad_request(
            relinx_model::ErrorCode::BodyTooLarge,
            "the request body exceeds 1 MiB",
        ),
        Some(BodyLimit(bytes)) => ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            relinx_model::ErrorCode::PayloadTooLarge,
            format!("the request body exceeds {bytes} bytes, the most this route takes: split it"),
        ),
    }
}

/// The request's body, whole (at most 1 MiB, or the route's own limit: larger is
/// refused saying so).
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let limit = req.extensions().get::<BodyLimit>().copied();
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            body_too_large(limit)
        } else {
            ApiError::bad_request(
                relinx_model::ErrorCode::InvalidBody,
                format!("the request body could not be read: {rejection}"),
            )
        }
    })
}

/// A file as a request sends it: its media type (without parameters, lower-cased;
/// empty when none was sent) and its bytes.
pub struct FileBody {
    pub content_type: String,
    pub bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for FileBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let bytes = read_body(req, state).await?;
        Ok(Self {
            content_type,
            bytes,
        })
    }
}

/// A JSON body. Content type is not checked (Relenta's own examples post JSON with
/// curl's form default); unknown fields, wrong types and malformed JSON are 400s.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse_json(&read_body(req, state).await?).map(JsonBody)
    }
}

/// Parses a JSON body, naming the field at fault. No body at all reads as `{}`: a
/// route whose fields are all optional takes a bare POST (seed 002 posts without
/// bodies), and one with a required field answers 400 naming it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let code = if inner.is_syntax() || inner.is_eof() {
            relinx_model::ErrorCode::InvalidJson
        } else {
            relinx_model::ErrorCode::ValidationFailed
        };
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("the request body is not valid JSON: {inner}")
        } else {
            // A wrong value is named by its path; where it sits in the text is noise.
            let full = inner.to_string();
            let position = format!(" at line {} column {}", inner.line(), inner.column());
            let problem = full.strip_suffix(&position).unwrap_or(&full);
            if path == "." {
                problem.to_owned()
            } else {
                format!("{path}: {problem}")
            }
        };
        ApiError::bad_request(code, message)
    })?;
    deserializer.end().map_err(|e| {
        ApiError::bad_request(
            relinx_model::ErrorCode::InvalidJson,
            format!("the request body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

/// Query parameters; unknown or malformed ones are a 400 naming them.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(QueryParams)
            .map_err(|err| {
                let path = err.path().to_string();
                let inner = err.into_inner();
                let message = if path == "." {
                    format!("query: {inner}")
                } else {
                    format!("query parameter {path}: {inner}")
                };
                ApiError::bad_request(relinx_model::ErrorCode::ValidationFailed, message)
            })
    }
}

/// The longest path parameter accepted: longer than any id, name or token, and short
/// enough that no key built from it nears DynamoDB's 1 KB sort-key limit.
pub const MAX_PATH_PARAM_CHARS: usize = 200;

fn path_refused(e: axum::extract::rejection::PathRejection) -> ApiError {
    ApiError::bad_request(
        relinx_model::ErrorCode::ValidationFailed,
        format!("path: {e}"),
    )
}

/// One path segment as text, at most [`MAX_PATH_PARAM_CHARS`] characters.
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(path_refused)?;
        if value.chars().count() > MAX_PATH_PARAM_CHARS {
            return Err(ApiError::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                format!(
                    "path: a path parameter is at most {MAX_PATH_PARAM_CHARS} characters; no id or name is longer"
                ),
            ));
        }
        Ok(PathParam(value))
    }
}

/// A typed id from the path (`/v1/records/{id}`): a malformed one is the resource's
/// 404, exactly as an unknown one is.
pub struct IdPath<T>(pub T);

impl<S: Send + Sync, T: relinx_model::PathId> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let PathParam(raw) = PathParam::from_request_parts(parts, state).await?;
        T::parse_path(&raw)
            .map(IdPath)
            .ok_or_else(|| ApiError::not_found(T::RESOURCE))
    }
}

/// Two typed ids from the path, in order (`/api/pipelines/{id}/runs/{run_id}`):
/// either malformed is its resource's 404.
pub struct IdPaths<A, B>(pub A, pub B);

impl<S: Send + Sync, A: relinx_model::PathId, B: relinx_model::PathId> FromRequestParts<S>
    for IdPaths<A, B>
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path((a, b)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(path_refused)?;
        let a = A::parse_path(&a).ok_or_else(|| ApiError::not_found(A::RESOURCE))?;
        let b = B::parse_path(&b).ok_or_else(|| ApiError::not_found(B::RESOURCE))?;
        Ok(IdPaths(a, b))
    }
}

/// The authenticated caller, as the domain operations want it (set by the
/// authentication middleware with this request's id). 401 when the request carried
/// no credentials.
pub struct Caller {
    pub ctx: Context,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ctx = parts
            .extensions
            .get::<Context>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Caller { ctx })
    }
}

/// The workspace resolved for this request by the authentication middleware.
#[derive(Debug, Clone)]
pub struct ResolvedWorkspace(pub WorkspaceId);

/// The workspace the request acts on (API.md "Workspace resolution").
pub struct CurrentWorkspace(pub WorkspaceId);

impl FromRequestParts<Arc<Platform>> for CurrentWorkspace {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(resolved) = parts.extensions.get::<ResolvedWorkspace>() {
            return Ok(CurrentWorkspace(resolved.0.clone()));
        }
        let ctx = parts
            .extensions
            .get::<Context>()
            .ok_or_else(ApiError::unauthorized)?;
        let id = relinx_identity::workspaces::resolve(&state.store, ctx, None, None).await?;
        Ok(CurrentWorkspace(id))
    }
}

/// The caller and the workspace the request acts on, for routes that act in one
/// (records, Relenta): `InWorkspace { ctx, ws }`.
pub struct InWorkspace {
    pub ctx: Context,
    pub ws: WorkspaceId,
}

impl FromRequestParts<Arc<Platform>> for InWorkspace {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        let Caller { ctx } = Caller::from_request_parts(parts, state).await?;
        let CurrentWorkspace(ws) = CurrentWorkspace::from_request_parts(parts, state).await?;
        Ok(Self { ctx, ws })
    }
}

/// The public base URL links in responses point at (an invite's URL):
/// `RELINX_PUBLIC_URL`, else the domain API Gateway served this request on (from
/// its request context), else `http://localhost` (in-process tests). Never the
/// `Host` header: the caller writes that one.
pub struct PublicUrl(pub String);

impl FromRequestParts<Arc<Platform>> for PublicUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(url) = &state.settings.public_url {
            return Ok(PublicUrl(url.trim_end_matches('/').to_owned()));
        }
        if let Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) =
            parts
                .extensions
                .get::<lambda_http::request::RequestContext>()
            && let Some(domain) = context.domain_name.as_deref().filter(|d| !d.is_empty())
        {
            return Ok(PublicUrl(format!("https://{domain}")));
        }
        Ok(PublicUrl("http://localhost".to_owned()))
    }
}

/// The base URL of smartlinks' public URLs: `RELINX_LINKS_URL`, else [`PublicUrl`].
pub struct LinksUrl(pub String);

impl FromRequestParts<Arc<Platform>> for LinksUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(url) = &state.settings.links_url {
            return Ok(LinksUrl(url.trim_end_matches('/').to_owned()));
        }
        let PublicUrl(base) = PublicUrl::from_request_parts(parts, state).await?;
        Ok(LinksUrl(base))
    }
}
