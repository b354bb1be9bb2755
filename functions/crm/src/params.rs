//! What Relenta's requests carry besides JSON objects: page parameters in the query
//! string or (for POST) the body, JSON or form-encoded as curl sends by default;
//! ids as the lists show them (strings) or as saves answer them (integers).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use relinx_crm::Department;
use relinx_http::respond::PageParams;
use relinx_http::respond::Relenta;
use relinx_http::{ApiError, InWorkspace, Platform, QueryParams};
use relinx_model::Context;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// Who calls, and the department (the resolved workspace) a Relenta request acts
/// in: what every Relenta handler starts from.
pub struct InDepartment {
    pub ctx: Context,
    pub dept: Department,
}

impl FromRequestParts<Arc<Platform>> for InDepartment {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Platform>,
    ) -> Result<Self, Self::Rejection> {
        let InWorkspace { ctx, ws } = InWorkspace::from_request_parts(parts, state).await?;
        let dept = Department::of(&ctx, &ws);
        Ok(Self { ctx, dept })
    }
}

/// The page a list asks for: `page` and `page_size` in the query string, and for a
/// POST in the body too (JSON or form-encoded), the body's over the query's.
pub struct PageAsked(pub PageParams);

impl FromRequest<Arc<Platform>> for PageAsked {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<Platform>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let QueryParams(query) =
            QueryParams::<PageBody>::from_request_parts(&mut parts, state).await?;
        let given = if parts.method == Method::POST {
            let bytes =
                relinx_http::extract::read_body(Request::from_parts(parts, body), state).await?;
            PageBody::parse(&bytes)?
        } else {
            PageBody::default()
        };
        given.over(query).map(PageAsked)
    }
}

/// `page` and `page_size` as a POST body may give them.
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageBody {
    /// From 1 (default 1).
    #[param(minimum = 1)]
    #[schema(minimum = 1)]
    pub page: Option<u64>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    #[schema(minimum = 1, maximum = 200)]
    pub page_size: Option<u64>,
}

impl PageBody {
    /// The page asked for: the body's values over the query string's.
    pub fn over(self, query: PageBody) -> Result<PageParams, ApiError> {
        PageParams {
            page: self.page.or(query.page).unwrap_or(1),
            page_size: self.page_size.or(query.page_size).unwrap_or(50),
        }
        .validate()
    }

    /// A POST body: JSON, or `page=2&page_size=10` form-encoded (read by type, so
    /// the numbers are numbers).
    pub fn parse(bytes: &Bytes) -> Result<Self, ApiError> {
        if looks_like_json(bytes) {
            return relinx_http::extract::parse_json(bytes);
        }
        serde_urlencoded::from_bytes(bytes).map_err(|e| {
            ApiError::bad_request(
                relinx_model::ErrorCode::ValidationFailed,
                format!("the body must be JSON or page=…&page_size=… ({e})"),
            )
        })
    }
}

/// Whether a body is JSON (or empty) rather than a form.
fn looks_like_json(bytes: &Bytes) -> bool {
    let text = bytes.trim_ascii_start();
    text.is_empty() || text.starts_with(b"{") || text.starts_with(b"[")
}

/// A Relenta request body: JSON, or form-encoded (`a=1&b=2`, what `curl --data`
/// sends), every route alike. In a form a key given twice, or ending in `[]`, is a
/// list (`choices[]=S&choices[]=M`); every other value is a string, as the JSON
/// bodies' ids and flags may be.
pub fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    if looks_like_json(bytes) {
        return relinx_http::extract::parse_json(bytes);
    }
    let mut fields = Map::new();
    for (key, value) in form_urlencoded::parse(bytes) {
        let (key, list) = match key.strip_suffix("[]") {
            Some(bare) => (bare.to_owned(), true),
            None => (key.into_owned(), false),
        };
        let value = Value::String(value.into_owned());
        match fields.get_mut(&key) {
            Some(Value::Array(items)) => items.push(value),
            Some(single) => *single = Value::Array(vec![single.take(), value]),
            None if list => {
                fields.insert(key, Value::Array(vec![value]));
            }
            None => {
                fields.insert(key, value);
            }
        }
    }
    let json = serde_json::to_vec(&Value::Object(fields)).map_err(|_| ApiError::internal())?;
    relinx_http::extract::parse_json(&json)
}

/// A JSON object body (a save), or a form: anything else is a 400.
pub fn object(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match body::<Value>(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request(
            relinx_model::ErrorCode::ValidationFailed,
            "the body must be a JSON object, as the list shows the object",
        )),
    }
}

/// A save's body: one JSON object, as a list shows the object (anything else is a
/// 400 saying so).
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest<Arc<Platform>> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<Platform>) -> Result<Self, Self::Rejection> {
        let bytes = relinx_http::extract::read_body(req, state).await?;
        object(&bytes).map(JsonObject)
    }
}

/// A save's answer, `{"id": …}`, from `save` (the id it answers); with an
/// `Idempotency-Key` the answer is stored with the change.
pub async fn answer_saved<I>(
    save: impl std::future::Future<Output = Result<I, relinx_ddb::StoreError>>,
) -> Result<Response, ApiError>
where
    I: Into<u64> + Clone + 'static,
{
    relinx_http::respond::idempotent(
        |id: I| Relenta(SavedId { id: id.into() }).into_response(),
        save,
    )
    .await
}

/// `{"id": …}` of a delete, or `?id=`.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IdOnly {
    /// The id, as the list shows it (a string) or as the save answered it.
    #[schema(value_type = String, example = "33103982", pattern = "^[1-9][0-9]{0,17}$")]
    #[param(value_type = String, example = "33103982", pattern = "^[1-9][0-9]{0,17}$")]
    pub id: Value,
}

impl IdOnly {
    /// The id, as `parse` reads it (`ContactId::parse`, `ActivityId::parse`).
    pub fn id<T>(
        &self,
        parse: fn(&str, &Value) -> Result<T, relinx_model::ValidationError>,
    ) -> Result<T, ApiError> {
        Ok(parse("id", &self.id)?)
    }
}

/// A save's answer: `{"id": 33104663}`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SavedId {
    #[schema(example = 33104663)]
    pub id: u64,
}
