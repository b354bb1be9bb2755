//! The links host's pages. Every value a link's owner wrote is HTML-escaped
//! (`html-escape`), in text and in attributes; the owner's custom head and body HTML
//! go in as written, and only when active (it is the owner's own, served only on the
//! links host).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use relinx_links::Destination;
use relinx_links::link::Smartlink;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}a.button{display:block;margin:.5rem 0;padding:.75rem;border:1px solid #888;border-radius:.5rem;text-align:center;text-decoration:none}";

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=0"),
        ],
        body,
    )
        .into_response();
    // A page, not an error for the API envelope.
    response
        .extensions_mut()
        .insert(relinx_http::error::Rendered);
    response
}

fn document(head: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>{STYLE}</style>\n{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )
}

/// What a link with nowhere to go says (its owner has not set a destination yet).
const NO_DESTINATION: &str = "<p>This link has no destination yet.</p>\n";

/// The 404 page.
pub fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        document(
            "<title>Link not found</title>\n<meta name=\"robots\" content=\"noindex\">\n",
            "<h1>Link not found</h1>\n<p>This link does not exist, or it was deleted.</p>\n",
        ),
    )
}

/// The page when the links store cannot be read.
pub fn unavailable() -> Response {
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        document(
            "<title>Try again</title>\n",
            "<h1>Try again in a moment</h1>\n<p>This link cannot be opened right now.</p>\n",
        ),
    )
}

fn meta(property: &str, value: Option<&str>) -> String {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => format!("<meta property=\"{property}\" content=\"{}\">\n", attr(v)),
        None => String::new(),
    }
}

fn link_button(label: &str, url: &str) -> String {
    format!(
        "<a class=\"button\" href=\"{}\" rel=\"noopener nofollow\">{}</a>\n",
        attr(url),
        text(label)
    )
}

fn paragraph(value: Option<&str>) -> String {
    value
        .filter(|v| !v.is_empty())
        .map(|v| format!("<p>{}</p>\n", text(v).replace('\n', "<br>\n")))
        .unwrap_or_default()
}

/// A link's page: its Open Graph and Twitter card tags, its content by type, and its
/// custom HTML when active. Redirect types (shown to link preview bots) get the tags
/// and a link to where they go.
pub fn page(link: &Smartlink, public_url: &str) -> Response {
    let og = &link.open_graph;
    let name = link.configuration.smartlink_name.as_str();
    let title = og.title.as_deref().unwrap_or(name);
    let mut head = format!("<title>{}</title>\n", text(title));
    head.push_str(&meta("og:title", Some(title)));
    head.push_str(&meta("og:description", og.description.as_deref()));
    head.push_str(&meta("og:image", og.image_url.as_deref()));
    head.push_str(&meta("og:url", Some(public_url)));
    head.push_str("<meta property=\"og:type\" content=\"website\">\n");
    let card = if og.image_url.is_some() {
        "summary_large_image"
    } else {
        "summary"
    };
    head.push_str(&format!(
        "<meta name=\"twitter:card\" content=\"{card}\">\n"
    ));
    head.push_str(&format!(
        "<meta name=\"twitter:title\" content=\"{}\">\n",
        attr(title)
    ));
    if let Some(description) = og.description.as_deref() {
        head.push_str(&format!(
            "<meta name=\"twitter:description\" content=\"{}\">\n",
            attr(description)
        ));
    }
    if let Some(image) = og.image_url.as_deref() {
        head.push_str(&format!(
            "<meta name=\"twitter:image\" content=\"{}\">\n",
            attr(image)
        ));
    }
    let mut body = String::new();
    match link.destination() {
        Destination::Landing(page) => {
            body.push_str(&format!(
                "<h1>{}</h1>\n",
                text(page.title.as_deref().unwrap_or(name))
            ));
            body.push_str(&paragraph(page.text.as_deref()));
            for button in &page.buttons {
                body.push_str(&link_button(&button.label, &button.url));
            }
        }
        Destination::DigiCard(card) => {
            body.push_str(&format!(
                "<h1>{}</h1>\n",
                text(card.name.as_deref().unwrap_or(name))
            ));
            let role = [card.title.as_deref(), card.company.as_deref()]
                .into_iter()
                .flatten()
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            body.push_str(&paragraph(Some(&role)));
            if let Some(phone) = card.phone.as_deref().filter(|v| !v.is_empty()) {
                body.push_str(&link_button(phone, &format!("tel:{phone}")));
            }
            if let Some(email) = card.email.as_deref().filter(|v| !v.is_empty()) {
                body.push_str(&link_button(email, &format!("mailto:{email}")));
            }
            if let Some(site) = card.website.as_deref().filter(|v| !v.is_empty()) {
                body.push_str(&link_button(site, site));
            }
            body.push_str(&link_button(
                "Save contact",
                &format!("{public_url}?format=vcf"),
            ));
        }
        Destination::TxtBin(bin) => {
            body.push_str(&format!("<h1>{}</h1>\n", text(name)));
            body.push_str(&format!(
                "<pre>{}</pre>\n",
                text(bin.text.as_deref().unwrap_or_default())
            ));
        }
        Destination::Url(target) => {
            body.push_str(&format!("<h1>{}</h1>\n", text(title)));
            match target.url.as_deref() {
                Some(url) => body.push_str(&link_button(url, url)),
                None => body.push_str(NO_DESTINATION),
            }
        }
        Destination::App(targets) => {
            body.push_str(&format!("<h1>{}</h1>\n", text(title)));
            let mut any = false;
            for (label, url) in [
                ("App Store", targets.ios_url.as_deref()),
                ("Google Play", targets.android_url.as_deref()),
                ("Website", targets.fallback_url.as_deref()),
            ] {
                if let Some(url) = url {
                    body.push_str(&link_button(label, url));
                    any = true;
                }
            }
            if !any {
                body.push_str(NO_DESTINATION);
            }
        }
    }
    if link.custom_html.active {
        head.push_str(link.custom_html.head.as_deref().unwrap_or_default());
        head.push('\n');
        body.push_str(link.custom_html.body.as_deref().unwrap_or_default());
        body.push('\n');
    }
    html(StatusCode::OK, document(&head, &body))
}

/// A vCard value escaped as RFC 6350 §3.4 says: every line break (CRLF, a lone CR or
/// LF) is `\n`, and no other control character survives to end a line early.
fn vcard_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A DigiCard's vCard 4.0 (RFC 6350); `None` for other types.
pub fn vcard(link: &Smartlink) -> Option<Response> {
    let Destination::DigiCard(card) = link.destination() else {
        return None;
    };
    let name = card
        .name
        .clone()
        .unwrap_or_else(|| link.configuration.smartlink_name.clone());
    let mut lines = vec![
        "BEGIN:VCARD".to_owned(),
        "VERSION:4.0".to_owned(),
        format!("FN:{}", vcard_text(&name)),
    ];
    let field = |prefix: &str, value: &Option<String>| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{prefix}{}", vcard_text(v)))
    };
    lines.extend(field("ORG:", &card.company));
    lines.extend(field("TITLE:", &card.title));
    lines.extend(field("TEL;VALUE=uri:tel:", &card.phone));
    lines.extend(field("EMAIL:", &card.email));
    lines.extend(field("URL:", &card.website));
    lines.push("END:VCARD".to_owned());
    let body = lines.join("\r\n") + "\r\n";
    let file = format!(
        "attachment; filename=\"{}.vcf\"",
        link.configuration.smartlink_url
    );
    Some(
        (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/vcard; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, file),
            ],
            body,
        )
            .into_response(),
    )
}
