//! `activity.*.json`: activities as seed 004 shows them, and their occurrences.

use crate::params::{IdOnly, PageBody, SavedId};
use crate::params::{InDepartment, JsonObject, PageAsked, answer_saved};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use relinx_crm::ActivityId;
use relinx_crm::activity::{DEFAULT_OCCURRENCES, MAX_OCCURRENCES};
use relinx_crm::values::parse_time;
use relinx_crm::{Department, Occurrence, activities};
use relinx_http::respond::{PageParams, Relenta};
use relinx_http::{ApiError, Platform, QueryParams};
use relinx_model::Context;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// An activity (seed 004 "Activity object").
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
#[schema(as = RelentaActivity, example = json!({
    "id": "33104113", "activity_type": "default", "label": "Lunch", "calendar_id": "1",
    "all_day": true, "dt_created": "2016-01-09T15:05:29Z", "dt_modified": "2016-01-21T16:21:42Z",
    "dt_start": "2016-01-21T19:00:00Z", "dt_end": "2016-01-21T19:00:00Z", "rrule": "",
    "status": "open", "author": "Austin Powers <austin.powers@mi6.gov.uk>",
    "users": "Austin Powers <austin.powers@mi6.gov.uk>",
    "contacts": "Ivana Humpalot <ivana.humpalot@kgb.ru>;Mustafa <assassinmustafa@gmail.com>",
    "subject": "Discuss placement subject", "body": "Discuss placement body"
}))]
pub struct ActivityDoc {
    id: String,
    /// Default `default`.
    activity_type: String,
    label: Option<String>,
    calendar_id: Option<String>,
    all_day: bool,
    dt_created: String,
    dt_modified: String,
    dt_start: String,
    dt_end: Option<String>,
    /// An RFC 5545 RRULE (`FREQ=WEEKLY;BYDAY=MO;COUNT=3`), or empty.
    rrule: String,
    /// Default `open`.
    status: String,
    author: Option<String>,
    users: Option<String>,
    /// `Name <address>;…`, kept as given; linked to the contacts with those addresses.
    contacts: Option<String>,
    subject: Option<String>,
    body: Option<String>,
}

/// What a save takes: the activity object's keys (`dt_start` required for a new
/// one; `id` to change an existing one).
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = RelentaActivitySave, example = json!({
    "activity_type": "default", "label": "Lunch", "calendar_id": "1", "all_day": true,
    "dt_start": "2016-01-21T19:00:00Z", "dt_end": "2016-01-21T19:00:00Z", "rrule": "",
    "status": "open", "contacts": "Ivana Humpalot <ivana.humpalot@kgb.ru>",
    "subject": "Discuss placement subject", "body": "Discuss placement body"
}))]
pub struct ActivitySave {
    #[schema(value_type = Option<String>)]
    id: Option<u64>,
    activity_type: Option<String>,
    label: Option<String>,
    calendar_id: Option<String>,
    all_day: Option<bool>,
    dt_start: Option<String>,
    dt_end: Option<String>,
    rrule: Option<String>,
    status: Option<String>,
    author: Option<String>,
    users: Option<String>,
    contacts: Option<String>,
    subject: Option<String>,
    body: Option<String>,
}

async fn page_of(
    platform: &Platform,
    ctx: &Context,
    dept: &Department,
    page: PageParams,
) -> Result<Response, ApiError> {
    let found = activities::list(&platform.store, ctx, dept, page.page, page.page_size).await?;
    let shown: Vec<_> = found.iter().map(|a| a.view()).collect();
    Ok(Relenta(shown).into_response())
}

#[utoipa::path(get, path = "/api/v3/activity.list.json", tag = "activities", params(PageBody),
    responses((status = 200, description = "A page of the department's activities, by id", body = relinx_http::openapi::RelentaEnvelope<Vec<ActivityDoc>>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    PageAsked(page): PageAsked,
) -> Result<Response, ApiError> {
    page_of(&platform, &ctx, &dept, page).await
}

#[utoipa::path(post, path = "/api/v3/activity.list.json", tag = "activities", params(PageBody), request_body(content = PageBody, description = "`page` and `page_size` in the body (JSON or form-encoded)"),
    responses((status = 200, description = "A page of the department's activities, by id", body = relinx_http::openapi::RelentaEnvelope<Vec<ActivityDoc>>)))]
pub async fn list_by_post(
    platform: State<Arc<Platform>>,
    caller: InDepartment,
    page: PageAsked,
) -> Result<Response, ApiError> {
    list(platform, caller, page).await
}

#[utoipa::path(post, path = "/api/v3/activity.save.json", tag = "activities", request_body = ActivitySave,
    responses((status = 200, description = "Saved: a new activity (no `id`) or the fields present changed; its id", body = relinx_http::openapi::RelentaEnvelope<SavedId>)))]
pub async fn save(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    answer_saved(activities::save(&platform.store, &ctx, &dept, &body)).await
}

#[utoipa::path(post, path = "/api/v3/activity.delete.json", tag = "activities", request_body = IdOnly,
    responses((status = 200, description = "Deleted; its id", body = relinx_http::openapi::RelentaEnvelope<SavedId>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = crate::params::body::<IdOnly>(&body)?.id(ActivityId::parse)?;
    activities::delete(&platform.store, &ctx, &dept, id).await?;
    Ok(Relenta(SavedId { id: id.get() }).into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OccurrenceParams {
    /// The activity's id.
    #[param(value_type = String, example = "33104113", pattern = "^[1-9][0-9]{0,17}$")]
    id: serde_json::Value,
    /// From this time or date (default: the activity's start).
    #[param(example = "2026-01-01")]
    from: Option<String>,
    /// Until this time or date, inclusive (default: a year after `from`).
    #[param(example = "2026-12-31T23:59:59Z")]
    to: Option<String>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u16>,
}

/// An activity's occurrences in a window.
#[derive(Serialize, ToSchema)]
#[schema(as = RelentaOccurrences)]
pub struct Occurrences {
    #[schema(example = "33104113")]
    id: String,
    all_day: bool,
    /// By start; dates (`YYYY-MM-DD`) for an all-day activity.
    occurrences: Vec<Occurrence>,
    /// More occur in the window than `limit` allowed.
    has_more: bool,
}

#[utoipa::path(get, path = "/api/v3/activity.occurrences.json", tag = "activities", params(OccurrenceParams),
    responses((status = 200, description = "The activity's occurrences starting in the window (its `rrule` expanded, in UTC; an all-day activity by date)", body = relinx_http::openapi::RelentaEnvelope<Occurrences>)))]
pub async fn occurrences(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    QueryParams(params): QueryParams<OccurrenceParams>,
) -> Result<Response, ApiError> {
    let id = ActivityId::parse("id", &params.id)?;
    let from = params
        .from
        .as_deref()
        .map(|raw| parse_time("from", raw))
        .transpose()?;
    let to = params
        .to
        .as_deref()
        .map(|raw| parse_time("to", raw))
        .transpose()?;
    let limit = params.limit.unwrap_or(DEFAULT_OCCURRENCES);
    if !(1..=MAX_OCCURRENCES).contains(&limit) {
        return Err(ApiError::bad_request(
            relinx_model::ErrorCode::ValidationFailed,
            format!("limit: must be between 1 and {MAX_OCCURRENCES}"),
        ));
    }
    let (activity, occurrences, has_more) =
        activities::occurrences(&platform.store, &ctx, &dept, id, from, to, limit).await?;
    Ok(Relenta(Occurrences {
        id: activity.id.to_string(),
        all_day: activity.all_day,
        occurrences,
        has_more,
    })
    .into_response())
}
