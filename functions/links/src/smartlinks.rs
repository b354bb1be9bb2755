//! `/api/v1/smartlink` exactly as seed 001 has it: one path, the id in the query
//! (GET) or in the body (PUT, DELETE); raw objects and arrays in, raw objects out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relinx_http::respond::idempotent;
use relinx_http::{ApiError, Caller, JsonBody, LinksUrl, Platform, QueryParams};
use relinx_links::links::{self, LinkChange, NewLink};
use relinx_links::{LinkType, Slug, Smartlink};
use relinx_model::{LinkId, Patch};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

fn link_id(raw: &str) -> Result<LinkId, ApiError> {
    LinkId::parse(raw).ok_or_else(|| ApiError::not_found("smartlink"))
}

/// The link as shown: with its public URL.
fn shown(mut link: Smartlink, base: &str) -> Smartlink {
    link.relink = format!("{base}/{}", link.configuration.smartlink_url);
    link
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    /// One smartlink by id; without it, every active one.
    id: Option<String>,
}

/// What a GET finds: one smartlink (`?id=`), or every active one.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = SmartlinkFound)]
pub enum Found {
    One(Box<Smartlink>),
    All(Vec<Smartlink>),
}

#[utoipa::path(get, path = "/api/v1/smartlink", tag = "smartlinks", params(GetParams),
    responses((status = 200, description = "With `id`: that smartlink. Without: every active smartlink, oldest first (an array)", body = Found)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    LinksUrl(base): LinksUrl,
    QueryParams(params): QueryParams<GetParams>,
) -> Result<Json<Found>, ApiError> {
    Ok(Json(match params.id {
        Some(id) => {
            let link = links::get(&platform.store, &caller.ctx, &link_id(&id)?).await?;
            Found::One(Box::new(shown(link, &base)))
        }
        None => {
            let all = links::list(&platform.store, &caller.ctx).await?;
            Found::All(all.into_iter().map(|l| shown(l, &base)).collect())
        }
    }))
}

/// `config`: every field optional.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SmartlinkNewConfig)]
pub struct NewConfig {
    /// The slug (3–64 of `[A-Za-z0-9_-]`); 6 random alphanumerics when absent.
    smartlink_temp_url: Option<String>,
    /// Default "Relink Smartlink".
    smartlink_name: Option<String>,
    /// App (default), Url, Landing, QRTag, DigiCard or TxtBin.
    smartlink_type: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = SmartlinkCreate, example = json!({"config": {"smartlinkTempUrl": "custom-url", "smartlinkName": "My Smartlink", "smartlinkType": "App"}}))]
pub struct CreateBody {
    #[serde(default)]
    config: NewConfig,
}

#[utoipa::path(post, path = "/api/v1/smartlink", tag = "smartlinks", request_body = CreateBody,
    responses((status = 201, description = "The new smartlink", body = Smartlink)))]
pub async fn create(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    LinksUrl(base): LinksUrl,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Smartlink>), ApiError> {
    let config = body.config;
    let new = NewLink::new(
        config
            .smartlink_temp_url
            .map(|s| Slug::parse("smartlinkTempUrl", &s))
            .transpose()?,
        config.smartlink_name,
        config
            .smartlink_type
            .map(|t| LinkType::parse("smartlinkType", &t))
            .transpose()?,
    )?;
    idempotent(
        move |link| (StatusCode::CREATED, Json(shown(link, &base))),
        links::create(&platform.store, &caller.ctx, new),
    )
    .await
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = SmartlinkTypeChange)]
pub struct TypeChange {
    #[serde(rename = "type")]
    link_type: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SmartlinkConfigurationChange)]
pub struct ConfigurationChange {
    smartlink_name: Option<String>,
    /// A new slug (the old one stays this link's).
    smartlink_url: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SmartlinkOpenGraphChange)]
pub struct OpenGraphChange {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    title: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    description: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    image_url: Patch<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = SmartlinkCustomHtmlChange)]
pub struct CustomHtmlChange {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    head: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    body: Patch<String>,
    active: Option<bool>,
}

/// Only what is present changes (seed 000: PUT behaves like PATCH); `null` clears an
/// Open Graph or custom HTML field.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SmartlinkUpdate, example = json!({"smartlinkId": "lnk_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "smartlinkConfig": {"type": "Url"}, "configuration": {"smartlinkName": "My Smartlink", "smartlinkUrl": "my-smartlink"}, "openGraph": {"title": "Page Title", "description": "Page Description", "imageUrl": "https://example.com/image.jpg"}, "customHtml": {"head": "<meta name='custom' content='value'>", "body": "<script>console.log('Custom HTML');</script>", "active": true}, "destination": {"url": "https://example.com"}}))]
pub struct UpdateBody {
    smartlink_id: String,
    #[serde(default)]
    smartlink_config: TypeChange,
    #[serde(default)]
    configuration: ConfigurationChange,
    #[serde(default)]
    open_graph: OpenGraphChange,
    #[serde(default)]
    custom_html: CustomHtmlChange,
    /// By type (see the smartlink's `destination`).
    #[schema(value_type = Option<Object>)]
    destination: Option<serde_json::Value>,
}

#[utoipa::path(put, path = "/api/v1/smartlink", tag = "smartlinks", request_body = UpdateBody,
    responses((status = 200, description = "The smartlink as it now is", body = Smartlink)))]
pub async fn update(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    LinksUrl(base): LinksUrl,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<Smartlink>, ApiError> {
    let id = link_id(&body.smartlink_id)?;
    let link_type = body
        .smartlink_config
        .link_type
        .map(|t| LinkType::parse("smartlinkConfig.type", &t))
        .transpose()?;
    let slug = body
        .configuration
        .smartlink_url
        .map(|s| Slug::parse("configuration.smartlinkUrl", &s))
        .transpose()?;
    let change = LinkChange::new(
        (body.configuration.smartlink_name, slug),
        (link_type, body.destination),
        links::OpenGraphChange {
            title: body.open_graph.title,
            description: body.open_graph.description,
            image_url: body.open_graph.image_url,
        },
        links::CustomHtmlChange {
            head: body.custom_html.head,
            body: body.custom_html.body,
            active: body.custom_html.active,
        },
    )?;
    let link = links::update(&platform.store, &caller.ctx, &id, change).await?;
    Ok(Json(shown(link, &base)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SmartlinkDelete, example = json!({"smartlinkId": "lnk_01JD8Z2X4Q7V3N5K9M2B6C8D0E"}))]
pub struct DeleteBody {
    smartlink_id: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SmartlinkDeleted)]
pub struct Deleted {
    message: &'static str,
}

#[utoipa::path(delete, path = "/api/v1/smartlink", tag = "smartlinks", request_body = DeleteBody,
    responses((status = 200, description = "Soft-deleted (status Deleted); its slug stays taken", body = Deleted)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    JsonBody(body): JsonBody<DeleteBody>,
) -> Result<Json<Deleted>, ApiError> {
    links::delete(&platform.store, &caller.ctx, &link_id(&body.smartlink_id)?).await?;
    Ok(Json(Deleted {
        message: "Smartlink deleted successfully",
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsParams {
    /// The smartlink.
    id: String,
    /// The first day, `YYYY-MM-DD` (UTC); default 29 days before `to`.
    from: Option<String>,
    /// The last day, `YYYY-MM-DD` (UTC); default today.
    to: Option<String>,
}

/// A day, `YYYY-MM-DD`, or an RFC 3339 time (its UTC day).
fn day(field: &str, raw: &str) -> Result<relinx_model::Timestamp, ApiError> {
    let text = if raw.len() == 10 {
        format!("{raw}T00:00:00Z")
    } else {
        raw.to_owned()
    };
    relinx_model::Timestamp::parse(&text).ok_or_else(|| {
        ApiError::from(relinx_model::ValidationError::new(
            field,
            "must be a day such as 2026-01-15 (or an RFC 3339 time)",
        ))
    })
}

/// Most days one analytics request covers.
const MAX_DAYS: i64 = 366;

#[utoipa::path(get, path = "/api/v1/smartlink/analytics", tag = "smartlinks", params(AnalyticsParams),
    responses((status = 200, description = "Clicks, QR scans, fallbacks and bot hits per day, and people's visits by device, referrer and country", body = relinx_links::hits::Analytics)))]
pub async fn analytics(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    QueryParams(params): QueryParams<AnalyticsParams>,
) -> Result<Json<relinx_links::hits::Analytics>, ApiError> {
    let to = match &params.to {
        Some(raw) => day("to", raw)?,
        None => relinx_model::Timestamp::now(),
    };
    let from = match &params.from {
        Some(raw) => day("from", raw)?,
        None => to.plus_seconds(-29 * 86_400),
    };
    let span = (to.unix() - from.unix()) / 86_400;
    if span < 0 {
        return Err(relinx_model::ValidationError::new("from", "must not be after `to`").into());
    }
    if span >= MAX_DAYS {
        return Err(relinx_model::ValidationError::new(
            "from",
            format!("the range may cover at most {MAX_DAYS} days"),
        )
        .into());
    }
    let found = links::analytics(
        &platform.store,
        &caller.ctx,
        &link_id(&params.id)?,
        &relinx_links::hits::day_of(from),
        &relinx_links::hits::day_of(to),
    )
    .await?;
    Ok(Json(found))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QrParams {
    /// The smartlink.
    id: String,
    /// `png` (default) or `svg`.
    format: Option<String>,
    /// Width in pixels, 64 to 2048 (default 512).
    #[param(minimum = 64, maximum = 2048)]
    size: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/smartlink/qr", tag = "smartlinks", params(QrParams),
    responses((status = 200, description = "A QR code of the smartlink's public URL with `?src=qr` (its scans are counted as such)",
        content((Vec<u8> = "image/png"), (String = "image/svg+xml")))))]
pub async fn qr(
    State(platform): State<Arc<Platform>>,
    caller: Caller,
    LinksUrl(base): LinksUrl,
    QueryParams(params): QueryParams<QrParams>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let size = params.size.unwrap_or(crate::qr::DEFAULT_SIZE);
    if !(crate::qr::MIN_SIZE..=crate::qr::MAX_SIZE).contains(&size) {
        return Err(relinx_model::ValidationError::new(
            "size",
            format!(
                "must be {} to {} pixels",
                crate::qr::MIN_SIZE,
                crate::qr::MAX_SIZE
            ),
        )
        .into());
    }
    let link = links::find(&platform.store, &caller.ctx, &link_id(&params.id)?).await?;
    let url = format!("{base}/{}?src=qr", link.configuration.smartlink_url);
    let internal = |e: String| {
        tracing::error!(error = %e, "a QR code could not be made");
        ApiError::internal()
    };
    let (content_type, body) = match params.format.as_deref().unwrap_or("png") {
        "png" => ("image/png", crate::qr::png(&url, size).map_err(internal)?),
        "svg" => (
            "image/svg+xml",
            crate::qr::svg(&url, size).map_err(internal)?.into_bytes(),
        ),
        other => {
            return Err(relinx_model::ValidationError::new(
                "format",
                format!("must be png or svg (got {other:?})"),
            )
            .into());
        }
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}
