//! Opening a short link (`GET /{slug}` on the links host): what it answers and how the
//! hit is counted. The rules are here; the redirect function renders them.

use crate::hits::{self, Device, Hit, HitKind};
use crate::link::{Destination, LinkStatus, Smartlink};
use relinx_ddb::{Store, StoreError};
use relinx_model::{OrgId, Timestamp};
use std::sync::Arc;

/// What the visitor sent that matters.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    /// A HEAD request: a preview, never a click.
    pub head: bool,
    pub user_agent: Option<String>,
    /// `?src=qr`: opened from the link's QR code.
    pub from_qr: bool,
    pub referrer: Option<String>,
    pub country: Option<String>,
}

/// What to answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A 302 to this URL.
    Redirect(String),
    /// The link's page (Landing, DigiCard, TxtBin; and a preview of any link: a HEAD,
    /// or an unfurler when the link has Open Graph data to show).
    Page,
    /// A link with nowhere to go yet: its page says so.
    NoDestination,
    /// No such link, or a deleted one.
    NotFound,
}

use crate::links::resolved;

/// The link behind a slug, from this instance's cache or one read.
pub async fn find(
    store: &Store,
    slug: &str,
) -> Result<Option<Arc<(OrgId, Smartlink)>>, StoreError> {
    // Anything else on the links host (a 2 KB path, a stray file name) is no link's:
    // answered without reaching the store or filling the cache.
    if !crate::slug::Slug::could_exist(slug) {
        return Ok(None);
    }
    let key = slug.to_ascii_lowercase();
    let cache = resolved(store);
    if let Some(found) = cache.0.get(&key) {
        return Ok(found);
    }
    let found = crate::links::resolve(store, slug).await?.map(Arc::new);
    cache.0.insert(key, found.clone());
    Ok(found)
}

/// What opening `link` answers for `visitor`, and the hit it counts (none for a link
/// that answers nothing).
pub fn decide(link: &Smartlink, visitor: &Visitor) -> (Answer, Option<Hit>) {
    if link.status == LinkStatus::Deleted {
        return (Answer::NotFound, None);
    }
    let device = if visitor.head {
        Device::Bot
    } else {
        hits::device_of(visitor.user_agent.as_deref())
    };
    let bot = device == Device::Bot;
    let kind = if bot {
        HitKind::Bot
    } else if visitor.from_qr {
        HitKind::QrScan
    } else {
        HitKind::Click
    };
    let mut fallback = false;
    let answer = match link.destination() {
        Destination::Url(target) => target.url.map_or(Answer::NoDestination, Answer::Redirect),
        Destination::App(targets) => {
            let own = match device {
                Device::Ios => targets.ios_url.clone(),
                Device::Android => targets.android_url.clone(),
                Device::Desktop | Device::Bot => None,
            };
            match own {
                Some(url) => Answer::Redirect(url),
                None => {
                    fallback = true;
                    targets
                        .fallback_url
                        .map_or(Answer::NoDestination, Answer::Redirect)
                }
            }
        }
        Destination::Landing(_) | Destination::DigiCard(_) | Destination::TxtBin(_) => Answer::Page,
    };
    // A preview gets the page (its meta tags), never the destination: a HEAD, or a
    // link unfurler when there is something to show. Any other client, bots included
    // (curl, crawlers, libraries), is redirected; a bot's visit counts as a bot's.
    let preview = visitor.head
        || (hits::is_unfurler(visitor.user_agent.as_deref()) && link.open_graph.is_set());
    let answer = match answer {
        Answer::Redirect(_) if preview => Answer::Page,
        other => other,
    };
    if matches!(answer, Answer::NotFound | Answer::NoDestination) {
        return (answer, None);
    }
    let hit = Hit {
        kind,
        fallback,
        device,
        referrer: hits::referrer_host(visitor.referrer.as_deref()),
        country: hits::country_code(visitor.country.as_deref()),
        at: Timestamp::now(),
    };
    (answer, Some(hit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{Configuration, CustomHtml, LinkType, OpenGraph, Totals};
    use serde_json::json;

    fn link(link_type: LinkType, destination: serde_json::Value) -> Smartlink {
        Smartlink {
            id: relinx_model::LinkId::generate(),
            status: LinkStatus::Active,
            link_type,
            user_id: "usr".into(),
            workspace_id: None,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            relink: String::new(),
            configuration: Configuration {
                smartlink_name: "n".into(),
                smartlink_url: "slug".into(),
            },
            open_graph: OpenGraph::default(),
            custom_html: CustomHtml::default(),
            destination,
            analytics: Totals::default(),
        }
    }

    fn visitor(agent: &str) -> Visitor {
        Visitor {
            user_agent: Some(agent.into()),
            ..Visitor::default()
        }
    }

    #[test]
    fn app_links_go_by_device_and_fall_back() {
        let app = link(
            LinkType::App,
            json!({"iosUrl": "https://apps.apple.com/a", "androidUrl": "https://play.google.com/a", "fallbackUrl": "https://a.io"}),
        );
        let (answer, hit) = decide(&app, &visitor("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"));
        assert_eq!(answer, Answer::Redirect("https://apps.apple.com/a".into()));
        assert!(!hit.unwrap().fallback);
        let (answer, hit) = decide(&app, &visitor("Mozilla/5.0 (Windows NT 10.0) Chrome/120"));
        assert_eq!(answer, Answer::Redirect("https://a.io/".into()));
        let hit = hit.unwrap();
        assert!(hit.fallback && hit.kind == HitKind::Click);
        // An unfurler follows a link with nothing of its own to show...
        let (answer, hit) = decide(&app, &visitor("Slackbot-LinkExpanding 1.0"));
        assert_eq!(answer, Answer::Redirect("https://a.io/".into()));
        assert_eq!(hit.unwrap().kind, HitKind::Bot);
        // ...and gets the meta tags of one that has Open Graph data.
        let mut shown = app.clone();
        shown.open_graph.title = Some("Our app".into());
        let (answer, hit) = decide(&shown, &visitor("Slackbot-LinkExpanding 1.0"));
        assert_eq!(answer, Answer::Page, "an unfurler gets the meta tags");
        assert_eq!(hit.unwrap().kind, HitKind::Bot);
    }

    #[test]
    fn command_line_clients_and_crawlers_are_redirected_and_counted_as_bots() {
        let url = link(LinkType::Url, json!({"url": "https://x.io/sale"}));
        for agent in [
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.32.3",
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
        ] {
            let (answer, hit) = decide(&url, &visitor(agent));
            assert_eq!(
                answer,
                Answer::Redirect("https://x.io/sale".into()),
                "{agent}"
            );
            assert_eq!(hit.unwrap().kind, HitKind::Bot, "{agent}");
        }
        let (answer, hit) = decide(&url, &visitor("Mozilla/5.0 (Windows NT 10.0) Chrome/120"));
        assert_eq!(answer, Answer::Redirect("https://x.io/sale".into()));
        assert_eq!(hit.unwrap().kind, HitKind::Click);
        let empty = link(LinkType::Url, json!({}));
        assert_eq!(
            decide(&empty, &visitor("curl/8.5.0")),
            (Answer::NoDestination, None)
        );
    }

    #[test]
    fn qr_scans_heads_and_deleted_links() {
        let url = link(LinkType::Url, json!({"url": "https://x.io"}));
        let scan = Visitor {
            from_qr: true,
            ..visitor("Mozilla/5.0 (Android 14)")
        };
        assert_eq!(decide(&url, &scan).1.unwrap().kind, HitKind::QrScan);
        let head = Visitor {
            head: true,
            ..visitor("Mozilla/5.0 (Windows NT 10.0) Chrome/120")
        };
        assert_eq!(decide(&url, &head).0, Answer::Page);
        assert_eq!(decide(&url, &head).1.unwrap().kind, HitKind::Bot);
        let mut gone = url.clone();
        gone.status = LinkStatus::Deleted;
        assert_eq!(decide(&gone, &visitor("x")).0, Answer::NotFound);
        let nowhere = link(LinkType::Url, json!({"url": null}));
        assert_eq!(
            decide(&nowhere, &visitor("Mozilla/5.0")),
            (Answer::NoDestination, None)
        );
    }
}
