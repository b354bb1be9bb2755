//! `GET /{slug}` (and HEAD): one cached read of the slug, one counted hit, the answer.

use crate::pages;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relinx_http::{LinksUrl, Platform, QueryParams};
use relinx_links::visit::{self, Answer, Visitor};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct OpenParams {
    /// `qr`: opened from the link's QR code (counted as a scan, not a click).
    src: Option<String>,
    /// `vcf`: a DigiCard link's vCard 4.0 file.
    format: Option<String>,
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The 404 page, for unknown paths and links that answer nothing.
pub async fn not_found() -> Response {
    pages::not_found()
}

#[utoipa::path(get, path = "/{slug}", tag = "short links", security(()),
    params(("slug" = String, Path, description = "The smartlink's slug (on the links host, `RELINX_LINKS_URL`)"), OpenParams),
    responses(
        (status = 302, description = "Url, QRTag and App links: to the destination (`Location`), for every client (browsers, curl, crawlers) but a HEAD or a link-preview unfurler"),
        (status = 200, description = "Landing, DigiCard and TxtBin links; a HEAD, or a link-preview unfurler (Slackbot, Twitterbot, facebookexternalhit, …) on a link with Open Graph data: the page with its meta tags; a link with no destination yet: a page saying so; a DigiCard with `?format=vcf`: its vCard", content_type = "text/html"),
        (status = 404, description = "No such link, or a deleted one: the 404 page", content_type = "text/html")))]
pub async fn open(
    State(platform): State<Arc<Platform>>,
    LinksUrl(base): LinksUrl,
    method: Method,
    Path(slug): Path<String>,
    headers: HeaderMap,
    // Other parameters (utm_source and the like) are the sharer's, and ignored.
    QueryParams(params): QueryParams<OpenParams>,
) -> Response {
    let found = match visit::find(&platform.store, &slug).await {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(error = %err, "short link lookup failed");
            return pages::unavailable();
        }
    };
    let Some(found) = found else {
        return pages::not_found();
    };
    let (_, link) = found.as_ref();
    let visitor = Visitor {
        head: method == Method::HEAD,
        user_agent: header_text(&headers, "user-agent"),
        from_qr: params.src.as_deref() == Some("qr"),
        referrer: header_text(&headers, "referer"),
        country: header_text(&headers, "cloudfront-viewer-country"),
    };
    let (answer, hit) = visit::decide(link, &visitor);
    // The one write of a warm short link, off the answer's path but within the
    // invocation (`AfterResponse`): a frozen instance never holds an unwritten hit.
    if let Some(hit) = hit {
        let store = platform.store.clone();
        let link_id = link.id.clone();
        platform
            .after_response
            .run(async move {
                if let Err(err) = relinx_links::hits::record(&store, &link_id, &hit).await {
                    tracing::error!(link = %link_id, error = %err, "a hit was not counted");
                }
            })
            .await;
    }
    let public = format!("{base}/{}", link.configuration.smartlink_url);
    match answer {
        Answer::Redirect(url) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, url),
                (header::CACHE_CONTROL, "private, max-age=0".to_owned()),
            ],
        )
            .into_response(),
        Answer::Page if params.format.as_deref() == Some("vcf") => {
            pages::vcard(link).unwrap_or_else(|| pages::page(link, &public))
        }
        // A link with nowhere to go for this visitor: its page (where it can go, or
        // that it has no destination yet).
        Answer::Page | Answer::NoDestination => pages::page(link, &public),
        Answer::NotFound => pages::not_found(),
    }
}
