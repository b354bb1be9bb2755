//! `contact.*.json`: the contact object exactly as seed 004 shows it.

use crate::params::{IdOnly, PageBody, SavedId};
use crate::params::{InDepartment, JsonObject, PageAsked, answer_saved};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use relinx_crm::ContactId;
use relinx_crm::{Department, contacts};
use relinx_http::respond::Relenta;
use relinx_http::{ApiError, Platform, QueryParams};
use relinx_model::Context;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// A contact (seed 004 "Contact object"). Keys never given are left out; each
/// custom field of the department appears as a key of its own, named by the
/// field's `key`, its value a string.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
#[schema(as = RelentaContact, example = json!({
    "id": "33077973", "full_name": "Dr. Evil", "first_name": "Dr.", "last_name": "Evil",
    "dt_created": "2013-07-08T12:38:11Z", "dt_modified": "2016-01-03T00:12:22Z",
    "emails": "ceo@virtucon.biz", "title": "CEO", "company": "Virtucon",
    "do_not_mass_email": false, "groups": "Cold;Qualified", "tags": "Very evil",
    "T-shirt_size": "XL"
}))]
pub struct ContactDoc {
    /// The id (a string in lists; saves answer it as an integer).
    id: String,
    /// Kept by the server (UTC, to the second).
    dt_created: String,
    dt_modified: String,
    #[serde(flatten)]
    text: ContactText,
    /// Answered so; `do_no_mass_email` (the seed's table) is accepted on input too.
    do_not_mass_email: bool,
}

/// A contact's own text fields, as shown and as saved.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
#[schema(as = RelentaContactText)]
pub struct ContactText {
    full_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// One or more addresses separated by `;`.
    emails: Option<String>,
    title: Option<String>,
    company: Option<String>,
    comment: Option<String>,
    phone: Option<String>,
    url: Option<String>,
    fax: Option<String>,
    messenger: Option<String>,
    twitter: Option<String>,
    linkedin: Option<String>,
    facebook: Option<String>,
    text: Option<String>,
    address: Option<String>,
    /// `;`-separated.
    groups: Option<String>,
    /// `;`-separated.
    tags: Option<String>,
}

/// What a save takes: the contact object's keys (all optional; `id` to change an
/// existing contact), plus the department's custom fields by key. `dt_created` and
/// `dt_modified` are the server's and ignored.
#[derive(Serialize, ToSchema)]
#[schema(as = RelentaContactSave, example = json!({
    "first_name": "James", "last_name": "Bond", "emails": "james.bond@mi6.gov.uk",
    "company": "British Secret Service", "do_not_mass_email": false
}))]
#[allow(dead_code)]
pub struct ContactSave {
    #[schema(value_type = Option<String>)]
    id: Option<u64>,
    #[serde(flatten)]
    text: ContactText,
    do_not_mass_email: Option<bool>,
}

async fn page_of(
    platform: &Platform,
    ctx: &Context,
    dept: &Department,
    page: relinx_http::respond::PageParams,
) -> Result<Response, ApiError> {
    let (contacts, schema) =
        contacts::list(&platform.store, ctx, dept, page.page, page.page_size).await?;
    let shown: Vec<_> = contacts.iter().map(|c| c.view(&schema)).collect();
    Ok(Relenta(shown).into_response())
}

#[utoipa::path(get, path = "/api/v3/contact.list.json", tag = "contacts", params(PageBody),
    responses((status = 200, description = "A page of the department's contacts, by id (contacts added meanwhile come last)", body = relinx_http::openapi::RelentaEnvelope<Vec<ContactDoc>>)))]
pub async fn list(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    PageAsked(page): PageAsked,
) -> Result<Response, ApiError> {
    page_of(&platform, &ctx, &dept, page).await
}

#[utoipa::path(post, path = "/api/v3/contact.list.json", tag = "contacts", params(PageBody), request_body(content = PageBody, description = "`page` and `page_size` in the body (JSON or form-encoded), over the query string's"),
    responses((status = 200, description = "A page of the department's contacts, by id", body = relinx_http::openapi::RelentaEnvelope<Vec<ContactDoc>>)))]
pub async fn list_by_post(
    platform: State<Arc<Platform>>,
    caller: InDepartment,
    page: PageAsked,
) -> Result<Response, ApiError> {
    list(platform, caller, page).await
}

#[utoipa::path(get, path = "/api/v3/contact.get.json", tag = "contacts", params(IdOnly),
    responses((status = 200, description = "The contact, with `activities`: those naming one of its addresses among their contacts, by start (at most 100)", body = relinx_http::openapi::RelentaEnvelope<ContactDoc>)))]
pub async fn get(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    QueryParams(params): QueryParams<IdOnly>,
) -> Result<Response, ApiError> {
    let found = contacts::get(&platform.store, &ctx, &dept, params.id(ContactId::parse)?).await?;
    let shown = found
        .contact
        .view(&found.schema)
        .with_activities(&found.activities);
    Ok(Relenta(shown).into_response())
}

#[utoipa::path(post, path = "/api/v3/contact.save.json", tag = "contacts", request_body = ContactSave,
    responses((status = 200, description = "Saved: a new contact (no `id`) or the fields present changed; its id", body = relinx_http::openapi::RelentaEnvelope<SavedId>)))]
pub async fn save(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    answer_saved(contacts::save(&platform.store, &ctx, &dept, &body)).await
}

#[utoipa::path(post, path = "/api/v3/contact.create.json", tag = "contacts", request_body = ContactSave,
    responses((status = 200, description = "The same as contact.save.json (the seed lists both paths)", body = relinx_http::openapi::RelentaEnvelope<SavedId>)))]
pub async fn create(
    platform: State<Arc<Platform>>,
    caller: InDepartment,
    body: JsonObject,
) -> Result<Response, ApiError> {
    save(platform, caller, body).await
}

#[utoipa::path(post, path = "/api/v3/contact.delete.json", tag = "contacts", request_body = IdOnly,
    responses((status = 200, description = "Deleted; its id", body = relinx_http::openapi::RelentaEnvelope<SavedId>)))]
pub async fn delete(
    State(platform): State<Arc<Platform>>,
    InDepartment { ctx, dept }: InDepartment,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = crate::params::body::<IdOnly>(&body)?.id(ContactId::parse)?;
    contacts::delete(&platform.store, &ctx, &dept, id).await?;
    Ok(Relenta(SavedId { id: id.get() }).into_response())
}
