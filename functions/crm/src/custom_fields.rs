//! `custom_field.*.json`: the department's typed custom contact fields.

use crate::params::InDepartment;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use relinx_crm::fields::{self, FieldInput, FieldType, FieldView};
use relinx_http::respond::Relenta;
use relinx_http::{ApiError, Platform};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/v3/custom_field.list.json", tag = "custom fields",
    responses((status = 200, description = "The department's custom contact fields, in the order they were defined", body = relinx_http::openapi::RelentaEnvelope<Vec<FieldView>>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
) -> Result<Response, ApiError> {
    let defined = fields::list(&platform.store, &ctx, &dept).await?;
    let shown: Vec<FieldView> = defined.iter().map(|f| f.view()).collect();
    Ok(Relenta(shown).into_response())
}

/// A field to create (no `id`: `label` and `type` required) or change (`id`: the
/// parts present). The key is the label escaped (`T-shirt size` → `T-shirt_size`)
/// and never changes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RelentaCustomFieldSave, example = json!({"label": "T-shirt size", "type": "Single choice", "choices": ["S", "M", "L", "XL", "XXL"]}))]
pub struct FieldSave {
    /// The field to change (as the list shows it).
    #[schema(value_type = Option<String>, example = "33078800")]
    id: Option<serde_json::Value>,
    label: Option<String>,
    /// A key other than the escaped label (escaped the same way).
    key: Option<String>,
    /// Number, Text, Date, Single choice or Multiple choice.
    #[serde(rename = "type")]
    #[schema(value_type = Option<FieldType>)]
    field_type: Option<String>,
    /// The allowed values of a choice field (none may contain `;`).
    choices: Option<Vec<String>>,
    default_value: Option<String>,
}

#[utoipa::path(post, path = "/api/v3/custom_field.save.json", tag = "custom fields", request_body = FieldSave,
    responses(
        (status = 200, description = "The field as saved", body = relinx_http::openapi::RelentaEnvelope<FieldView>),
        (status = 409, description = "A change of type or choices that values stored on contacts would not fit (the message says how many), or a key already taken", body = relinx_http::openapi::RelentaError)))]
pub async fn save(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: FieldSave = crate::params::body(&body)?;
    let field_type = body
        .field_type
        .map(|t| FieldType::parse("type", &t))
        .transpose()?;
    let id = body
        .id
        .filter(|id| !id.is_null())
        .map(|id| relinx_crm::values::parse_id("id", &id))
        .transpose()?;
    let input = FieldInput::new(
        id,
        (body.label, body.key),
        (field_type, body.choices, body.default_value),
    )?;
    let field = fields::save(&platform.store, &ctx, &dept, input).await?;
    Ok(Relenta(field.view()).into_response())
}
