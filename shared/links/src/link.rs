//! A smartlink as seed 001 shows it (camelCase), and its destination by type.

use relinx_model::{Email, LinkId, OrgId, Timestamp, ValidationError, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// What a link does when opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub enum LinkType {
    /// Redirects by device: iOS, Android, else a fallback.
    #[default]
    App,
    /// Redirects to one URL.
    Url,
    /// A page with a title, text and buttons.
    Landing,
    /// Redirects to one URL; made to be printed as a QR code.
    #[serde(rename = "QRTag")]
    QrTag,
    /// A digital business card (a page, and a vCard).
    DigiCard,
    /// A page of text.
    TxtBin,
}

impl LinkType {
    pub const ALL: [Self; 6] = [
        Self::App,
        Self::Url,
        Self::Landing,
        Self::QrTag,
        Self::DigiCard,
        Self::TxtBin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "App",
            Self::Url => "Url",
            Self::Landing => "Landing",
            Self::QrTag => "QRTag",
            Self::DigiCard => "DigiCard",
            Self::TxtBin => "TxtBin",
        }
    }

    /// From its name as the seed writes it; the error names `field` and the choices.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    format!(
                        "must be one of App, Url, Landing, QRTag, DigiCard, TxtBin (got {raw:?})"
                    ),
                )
            })
    }
}

/// Status: a deleted link keeps its slug and its analytics, and serves nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum LinkStatus {
    Active,
    Deleted,
}

/// `configuration`: the link's name and its slug.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    pub smartlink_name: String,
    /// The slug: the public URL is `{links host}/{smartlinkUrl}`.
    pub smartlink_url: String,
}

/// `openGraph`: the preview a shared link shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenGraph {
    pub title: Option<String>,
    pub description: Option<String>,
    pub image_url: Option<String>,
}

impl OpenGraph {
    /// Whether there is anything for a link preview to show.
    pub fn is_set(&self) -> bool {
        [&self.title, &self.description, &self.image_url]
            .iter()
            .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()))
    }
}

/// `customHtml`: the owner's own markup, put into the link's pages only when active.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomHtml {
    pub head: Option<String>,
    pub body: Option<String>,
    pub active: bool,
}

/// `analytics`: what the link counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub total_clicks: u64,
    pub total_qr_code_scans: u64,
    pub total_fall_back: u64,
}

/// A smartlink as stored and shown (seed 001), with `relink` (its public URL)
/// filled in when shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "lnk_01JD8Z2X4Q7V3N5K9M2B6C8D0E", "status": "Active", "type": "App", "userId": "usr_01JD8Z2X4Q7V3N5K9M2B6C8D0F", "workspaceId": "ws_01JD8Z2X4Q7V3N5K9M2B6C8D0G", "createdAt": "2026-11-26T10:30:00.000Z", "updatedAt": "2026-11-26T14:45:00.000Z", "relink": "https://relink.is/custom-url", "configuration": {"smartlinkName": "My Smartlink", "smartlinkUrl": "custom-url"}, "openGraph": {"title": null, "description": null, "imageUrl": null}, "customHtml": {"head": null, "body": null, "active": false}, "destination": {"iosUrl": null, "androidUrl": null, "fallbackUrl": null}, "analytics": {"totalClicks": 0, "totalQrCodeScans": 0, "totalFallBack": 0}}))]
pub struct Smartlink {
    pub id: LinkId,
    pub status: LinkStatus,
    #[serde(rename = "type")]
    pub link_type: LinkType,
    /// Who made it (a user, or a service account).
    pub user_id: String,
    pub workspace_id: Option<WorkspaceId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// The public URL.
    #[serde(default)]
    pub relink: String,
    pub configuration: Configuration,
    pub open_graph: OpenGraph,
    pub custom_html: CustomHtml,
    /// By type: Url and QRTag `{url}`; App `{iosUrl, androidUrl, fallbackUrl}`;
    /// Landing `{title, text, buttons: [{label, url}]}`; DigiCard `{name, title,
    /// company, phone, email, website}`; TxtBin `{text}`.
    #[schema(value_type = Object)]
    pub destination: Value,
    #[serde(default)]
    pub analytics: Totals,
}

/// An org's link as stored: the link and its org.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredLink {
    pub org: OrgId,
    #[serde(flatten)]
    pub link: Smartlink,
}

/// One Landing page button.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Button {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UrlTarget {
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppTargets {
    pub ios_url: Option<String>,
    pub android_url: Option<String>,
    pub fallback_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LandingPage {
    pub title: Option<String>,
    pub text: Option<String>,
    #[serde(default)]
    pub buttons: Vec<Button>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DigiCard {
    pub name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TextBin {
    pub text: Option<String>,
}

/// A destination, typed by its link's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    Url(UrlTarget),
    App(AppTargets),
    Landing(LandingPage),
    DigiCard(DigiCard),
    TxtBin(TextBin),
}

const MAX_TEXT: usize = 10_000;
const MAX_SHORT: usize = 500;
const MAX_URL: usize = 2_048;
const MAX_BUTTONS: usize = 10;

/// An absolute http(s) URL, or the error naming `field`.
pub(crate) fn check_url(field: &str, raw: &str) -> Result<String, ValidationError> {
    if raw.len() > MAX_URL {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_URL} characters"),
        ));
    }
    // The URL parser drops tabs and line breaks (and trims controls) without a word,
    // so what it checked would differ from what was given: refuse them instead.
    if raw.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters (line breaks, tabs, NUL)",
        ));
    }
    match url::Url::parse(raw) {
        // What is stored (and redirected to) is the URL as checked.
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(parsed.into())
        }
        _ => Err(ValidationError::new(
            field,
            "must be an absolute http or https URL, such as https://example.com/page",
        )),
    }
}

pub(crate) fn check_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match value {
        Some(text) if text.chars().count() > max => Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

fn check_opt_url(field: &str, value: Option<String>) -> Result<Option<String>, ValidationError> {
    check_opt(field, value, check_url)
}

/// An optional value checked by `check` when given and not empty.
fn check_opt(
    field: &str,
    value: Option<String>,
    check: impl Fn(&str, &str) -> Result<String, ValidationError>,
) -> Result<Option<String>, ValidationError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| check(field, &v))
        .transpose()
}

/// A phone number as people write one: digits with an optional leading `+`, spaces,
/// `-`, `.`, `(` and `)`; 3 to 20 digits.
fn check_phone(field: &str, raw: &str) -> Result<String, ValidationError> {
    let value = raw.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0));
    if !allowed || !(3..=20).contains(&digits) {
        return Err(ValidationError::new(
            field,
            format!("{raw:?} is not a phone number such as +1 555 010 0199"),
        ));
    }
    Ok(value.to_owned())
}

impl Destination {
    /// The empty destination of a type.
    pub fn empty(link_type: LinkType) -> Self {
        match link_type {
            LinkType::Url | LinkType::QrTag => Self::Url(UrlTarget::default()),
            LinkType::App => Self::App(AppTargets::default()),
            LinkType::Landing => Self::Landing(LandingPage::default()),
            LinkType::DigiCard => Self::DigiCard(DigiCard::default()),
            LinkType::TxtBin => Self::TxtBin(TextBin::default()),
        }
    }

    /// `raw` read as a destination of `link_type`: its fields only, each checked.
    pub fn parse(link_type: LinkType, raw: Value) -> Result<Self, ValidationError> {
        fn read<T: serde::de::DeserializeOwned>(
            link_type: LinkType,
            raw: Value,
        ) -> Result<T, ValidationError> {
            serde_json::from_value(raw).map_err(|e| {
                ValidationError::new(
                    "destination",
                    format!("is not a {} destination: {e}", link_type.as_str()),
                )
            })
        }
        Ok(match link_type {
            LinkType::Url | LinkType::QrTag => {
                let target: UrlTarget = read(link_type, raw)?;
                Self::Url(UrlTarget {
                    url: check_opt_url("destination.url", target.url)?,
                })
            }
            LinkType::App => {
                let t: AppTargets = read(link_type, raw)?;
                Self::App(AppTargets {
                    ios_url: check_opt_url("destination.iosUrl", t.ios_url)?,
                    android_url: check_opt_url("destination.androidUrl", t.android_url)?,
                    fallback_url: check_opt_url("destination.fallbackUrl", t.fallback_url)?,
                })
            }
            LinkType::Landing => {
                let page: LandingPage = read(link_type, raw)?;
                if page.buttons.len() > MAX_BUTTONS {
                    return Err(ValidationError::new(
                        "destination.buttons",
                        format!("at most {MAX_BUTTONS} buttons"),
                    ));
                }
                let mut buttons = Vec::with_capacity(page.buttons.len());
                for (i, b) in page.buttons.into_iter().enumerate() {
                    let label = check_text(
                        &format!("destination.buttons[{i}].label"),
                        Some(b.label),
                        MAX_SHORT,
                    )?
                    .unwrap_or_default();
                    let url = check_url(&format!("destination.buttons[{i}].url"), &b.url)?;
                    buttons.push(Button { label, url });
                }
                Self::Landing(LandingPage {
                    title: check_text("destination.title", page.title, MAX_SHORT)?,
                    text: check_text("destination.text", page.text, MAX_TEXT)?,
                    buttons,
                })
            }
            LinkType::DigiCard => {
                let card: DigiCard = read(link_type, raw)?;
                Self::DigiCard(DigiCard {
                    name: check_text("destination.name", card.name, MAX_SHORT)?,
                    title: check_text("destination.title", card.title, MAX_SHORT)?,
                    company: check_text("destination.company", card.company, MAX_SHORT)?,
                    phone: check_opt("destination.phone", card.phone, check_phone)?,
                    email: check_opt("destination.email", card.email, |field, raw| {
                        Email::parse(field, raw).map(|e| e.as_str().to_owned())
                    })?,
                    website: check_opt_url("destination.website", card.website)?,
                })
            }
            LinkType::TxtBin => {
                let bin: TextBin = read(link_type, raw)?;
                Self::TxtBin(TextBin {
                    text: check_text("destination.text", bin.text, MAX_TEXT)?,
                })
            }
        })
    }

    /// As stored and shown: the type's fields, camelCase.
    pub fn to_value(&self) -> Value {
        let value = match self {
            Self::Url(t) => serde_json::to_value(t),
            Self::App(t) => serde_json::to_value(t),
            Self::Landing(t) => serde_json::to_value(t),
            Self::DigiCard(t) => serde_json::to_value(t),
            Self::TxtBin(t) => serde_json::to_value(t),
        };
        value.unwrap_or(Value::Null)
    }
}

impl Smartlink {
    /// The destination, typed (a stored one always reads back).
    pub fn destination(&self) -> Destination {
        Destination::parse(self.link_type, self.destination.clone())
            .unwrap_or_else(|_| Destination::empty(self.link_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn destinations_take_their_types_fields_only() {
        let app = Destination::parse(
            LinkType::App,
            json!({"iosUrl": "https://apps.apple.com/x", "fallbackUrl": "https://x.io"}),
        )
        .unwrap();
        assert_eq!(
            app.to_value(),
            json!({"iosUrl": "https://apps.apple.com/x", "androidUrl": null, "fallbackUrl": "https://x.io/"}),
            "stored as the URL parser reads it (the path of a bare host is /)"
        );
        let wrong = Destination::parse(LinkType::Url, json!({"iosUrl": "https://x.io"}));
        assert_eq!(wrong.unwrap_err().field, "destination");
        for smuggled in [
            "https://example.com/\r\nSet-Cookie: a=b",
            "https://example.com/\u{0}x",
            "https://exa\tmple.com/",
            "\u{1}https://example.com/",
        ] {
            let refused = Destination::parse(LinkType::Url, json!({ "url": smuggled }));
            assert!(
                refused.unwrap_err().message.contains("control characters"),
                "{smuggled:?}"
            );
        }
        let card = |extra: serde_json::Value| Destination::parse(LinkType::DigiCard, extra);
        assert_eq!(
            card(json!({"email": "not-an-address"})).unwrap_err().field,
            "destination.email"
        );
        assert_eq!(
            card(json!({"phone": "call me maybe"})).unwrap_err().field,
            "destination.phone"
        );
        assert_eq!(
            card(json!({"phone": "+1 555\r\n010"})).unwrap_err().field,
            "destination.phone"
        );
        assert!(card(json!({"phone": "+1 (555) 010-0199", "email": "Ada@Example.com"})).is_ok());
        let bad_url = Destination::parse(LinkType::Url, json!({"url": "javascript:alert(1)"}));
        assert_eq!(bad_url.unwrap_err().field, "destination.url");
        let button = Destination::parse(
            LinkType::Landing,
            json!({"title": "Hi", "buttons": [{"label": "Go", "url": "ftp://x"}]}),
        );
        assert_eq!(button.unwrap_err().field, "destination.buttons[0].url");
    }

    #[test]
    fn types_read_as_the_seed_writes_them() {
        assert_eq!(LinkType::parse("t", "QRTag"), Ok(LinkType::QrTag));
        assert_eq!(
            serde_json::to_value(LinkType::QrTag).unwrap(),
            json!("QRTag")
        );
        assert!(LinkType::parse("t", "qrtag").is_err());
    }
}
