//! One error type for every surface, rendered into the surface's envelope in one
//! place ([`render`]). Domain errors map to it in `From<StoreError>`.

use crate::openapi::{DatalinxError, PlatformError, RelentaError, RelinkError};
use crate::request::current_request;
use crate::surface::Surface;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relinx_ddb::StoreError;
use relinx_model::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// UPPER_SNAKE word (`NOT_FOUND`, `VALIDATION_FAILED`, …).
    pub code: String,
    /// A sentence a person can act on, naming the offending field.
    pub message: String,
    pub retry_after: Option<u64>,
    /// The resource as it now is, on a conflict the caller resolves by merging
    /// (`CAUSAL_CONFLICT`); rendered as `current` in the platform envelope.
    pub current: Option<Box<serde_json::Value>>,
}

/// Marks a response whose body is already an envelope.
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self::with_code(status, code.as_str().to_owned(), message)
    }

    /// With a code made from the resource (`RECORD_NOT_FOUND`): what a 404 answers.
    fn with_code(status: StatusCode, code: String, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            current: None,
        }
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            relinx_model::ErrorCode::Unauthorized,
            "missing or invalid API key or token; send Authorization: ApiKey <key>, Bearer <key or token>, or X-API-Key",
        )
    }

    pub fn unauthorized_login() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            relinx_model::ErrorCode::InvalidCredentials,
            "the email or password is not correct",
        )
    }

    pub fn not_found(what: &str) -> Self {
        let mut message = format!("{what} not found");
        if let Some(first) = message.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        let code = format!("{}_NOT_FOUND", what.to_uppercase().replace([' ', '-'], "_"));
        Self::with_code(StatusCode::NOT_FOUND, code, message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            relinx_model::ErrorCode::Internal,
            "an internal error occurred; please retry later",
        )
    }

    /// A generic error for a bare status some layer produced without a body.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::new(
                status,
                relinx_model::ErrorCode::NotFound,
                "no such route; check the method and path",
            ),
            StatusCode::METHOD_NOT_ALLOWED => Self::new(
                status,
                relinx_model::ErrorCode::MethodNotAllowed,
                "this route does not accept that method",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => Self::bad_request(
                relinx_model::ErrorCode::BodyTooLarge,
                "the request body exceeds 1 MiB",
            ),
            StatusCode::UNAUTHORIZED => Self::unauthorized(),
            s if s.is_server_error() => Self::internal(),
            s => Self::new(
                s,
                relinx_model::ErrorCode::RequestFailed,
                s.canonical_reason().unwrap_or("request failed"),
            ),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Invalid(v) => Self::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                format!("{}: {}", v.field, v.message),
            ),
            StoreError::Unprocessable(v) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                relinx_model::ErrorCode::ValidationFailed,
                format!("{}: {}", v.field, v.message),
            ),
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Conflict { code, message } => {
                Self::new(StatusCode::CONFLICT, code, message)
            }
            StoreError::ConflictWithCurrent {
                code,
                message,
                current,
            } => Self {
                current: Some(current),
                ..Self::new(StatusCode::CONFLICT, code, message)
            },
            StoreError::BadInput { code, message } => Self::bad_request(code, message),
            StoreError::PreconditionRequired { code, message } => {
                Self::new(StatusCode::PRECONDITION_REQUIRED, code, message)
            }
            StoreError::Gone { code, message } => Self::new(StatusCode::GONE, code, message),
            StoreError::TooLarge { code, message } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
            }
            StoreError::Forbidden { code, message } => {
                Self::new(StatusCode::FORBIDDEN, code, message)
            }
            StoreError::Stale => Self::new(
                StatusCode::CONFLICT,
                relinx_model::ErrorCode::ConcurrentChange,
                "the data changed while this request ran; retry",
            ),
            StoreError::Unauthorized(_) => Self::unauthorized(),
            StoreError::Internal(detail) => {
                // The details go to the log, never to the caller.
                tracing::error!(error = %detail, "internal error");
                Self::internal()
            }
            failed @ StoreError::Dependency { .. } => {
                // With its chain of causes (the SDK's service error and request id).
                tracing::error!(error = %failed, "internal error");
                Self::internal()
            }
        }
    }
}

impl From<relinx_model::ValidationError> for ApiError {
    fn from(v: relinx_model::ValidationError) -> Self {
        StoreError::Invalid(v).into()
    }
}

/// The body of an error in `surface`'s envelope (the types the OpenAPI document
/// describes).
pub fn render(err: &ApiError, surface: Surface, request_id: &str) -> serde_json::Value {
    let message = err.message.clone();
    let body = match surface {
        Surface::Platform | Surface::Links => serde_json::to_value(PlatformError {
            status: "failed",
            message,
            error_code: err.code.clone(),
            request_id: request_id.to_owned(),
            current: err.current.clone(),
        }),
        Surface::Datalinx => serde_json::to_value(DatalinxError {
            status: "failed",
            message,
            error_code: err.code.clone(),
        }),
        Surface::Relink => serde_json::to_value(RelinkError {
            status: "error",
            message,
        }),
        Surface::Relenta => serde_json::to_value(RelentaError {
            status: false,
            code: err.status.as_u16(),
            message,
        }),
    };
    body.unwrap_or_default()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (surface, request_id) = current_request()
            .map(|r| (r.surface, r.request_id))
            .unwrap_or((Surface::Platform, String::new()));
        let mut this = self;
        // Seed 004 has no 403: its 401 ("Forbidden") also covers what the key may
        // not do, plan limits included.
        if surface == Surface::Relenta && this.status == StatusCode::FORBIDDEN {
            this.status = StatusCode::UNAUTHORIZED;
        }
        let body = render(&this, surface, &request_id);
        let mut response = (this.status, axum::Json(body)).into_response();
        if let Some(seconds) = this.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(Rendered);
        response
    }
}
