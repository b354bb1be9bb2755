//! Counting what a short link receives, exactly and without a hot key.
//!
//! A hit adds to one counter item of its link, day and a random shard:
//! `pk = HITS#{link}#{shard}`, `sk = {day}`, with `ADD` on the hit's kind (`clicks`,
//! `qr`, `fallback`, `bots`) and on its breakdowns (`dev:{device}`, `ref:{host}`,
//! `cc:{country}`). One `UpdateItem` per hit, spread over [`SHARDS`] partition keys,
//! so one link takes 16 × 1,000 writes/s before any key is hot (docs/links.md has
//! the design for more). Reading sums the shards: a link's totals are
//! [`SHARDS`] Queries, its analytics for a range the same Queries bounded by day.

use crate::link::Totals;
use relinx_ddb::codec::{n, s, string_set};
use relinx_ddb::keys::links as lk;
use relinx_ddb::tx::Cond;
use relinx_ddb::{Store, StoreError, Table};
use relinx_model::{LinkId, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Partition keys one link's counters are spread over.
pub const SHARDS: u32 = 16;
/// The longest referrer host kept (longer ones are cut).
const MAX_HOST: usize = 100;
/// Distinct referrer hosts one counter item names; past them a new host counts under
/// [`OTHER_REFERRERS`]. Anyone can send any `Referer`, and each new host would add an
/// attribute: unbounded, an item grows towards DynamoDB's 400 KB (and every hit's
/// write costs a WCU per KB of it). 200 hosts keep an item under ~50 KB. Devices (4
/// classes) and countries (two letters) are bounded by what they can be.
pub const MAX_REFERRERS_PER_ITEM: usize = 200;
/// Where hits from hosts past the cap are counted.
pub const OTHER_REFERRERS: &str = "(other)";
/// The most referrers an analytics answer lists; the rest are summed under
/// [`OTHER_REFERRERS`].
pub const MAX_REFERRERS_SHOWN: usize = 100;

/// What a hit was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    /// A person opened the link.
    Click,
    /// A person opened the link from its QR code (`?src=qr`): instead of a click.
    QrScan,
    /// A link unfurler, crawler or a HEAD request: never a click.
    Bot,
}

/// The device class of a visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Ios,
    Android,
    Desktop,
    Bot,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ios => "ios",
            Self::Android => "android",
            Self::Desktop => "desktop",
            Self::Bot => "bot",
        }
    }
}

/// Link-preview unfurlers (lowercased substrings of their User-Agent): they fetch a
/// shared link to show its title and image in a chat or a feed, and get the link's
/// page with its Open Graph tags rather than its destination. Every other bot is
/// told apart by `isbot`'s list and follows the redirect like anyone.
const UNFURLERS: &[&str] = &[
    "slackbot",
    "slack-imgproxy",
    "twitterbot",
    "facebookexternalhit",
    "facebookcatalog",
    "linkedinbot",
    "discordbot",
    "whatsapp",
    "telegrambot",
    "skypeuripreview",
    "pinterest",
    "redditbot",
    "embedly",
    "iframely",
    "vkshare",
    "mastodon",
    "bitlybot",
    "google-pagerenderer",
];

/// Whether a User-Agent is a link-preview unfurler.
pub fn is_unfurler(user_agent: Option<&str>) -> bool {
    user_agent.is_some_and(|agent| {
        let agent = agent.to_ascii_lowercase();
        UNFURLERS.iter().any(|u| agent.contains(u))
    })
}

/// `isbot`'s patterns, compiled on the first visit that asks (not at start).
fn bots() -> &'static isbot::Bots {
    static BOTS: std::sync::LazyLock<isbot::Bots> = std::sync::LazyLock::new(isbot::Bots::default);
    &BOTS
}

/// The device class a User-Agent names (an absent one is a bot).
pub fn device_of(user_agent: Option<&str>) -> Device {
    let Some(agent) = user_agent.filter(|a| !a.trim().is_empty()) else {
        return Device::Bot;
    };
    if is_unfurler(Some(agent)) || bots().is_bot(agent) {
        return Device::Bot;
    }
    let agent = agent.to_ascii_lowercase();
    if agent.contains("iphone") || agent.contains("ipad") || agent.contains("ipod") {
        Device::Ios
    } else if agent.contains("android") {
        Device::Android
    } else {
        Device::Desktop
    }
}

/// One hit of a link.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: HitKind,
    /// A person's visit that went to an App link's fallback (also a click or scan).
    pub fallback: bool,
    pub device: Device,
    /// The referring page's host.
    pub referrer: Option<String>,
    /// Two letters, as the edge reports it (`CloudFront-Viewer-Country`).
    pub country: Option<String>,
    pub at: Timestamp,
}

/// The UTC day of `at`, `YYYY-MM-DD`: the counters' sort key and analytics' unit.
pub fn day_of(at: Timestamp) -> String {
    at.to_string().chars().take(10).collect()
}

/// A referrer's host, or `None` for what is not a URL.
pub fn referrer_host(raw: Option<&str>) -> Option<String> {
    let parsed = url::Url::parse(raw?).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    Some(host.chars().take(MAX_HOST).collect())
}

/// A country code as the edge sends it, if it is one.
pub fn country_code(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    (raw.len() == 2 && raw.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| raw.to_ascii_uppercase())
}

fn shard_pk(link: &LinkId, shard: u32) -> String {
    format!("{}{link}#{shard}", lk::HITS)
}

/// Records one hit: one `UpdateItem` on a random shard of the link's day (two when
/// its referrer is a new host on an item that names [`MAX_REFERRERS_PER_ITEM`]).
pub async fn record(store: &Store, link: &LinkId, hit: &Hit) -> Result<(), StoreError> {
    let shard = rand::random::<u32>() % SHARDS;
    let (pk, day) = (shard_pk(link, shard), day_of(hit.at));
    let host = hit.referrer.as_deref().filter(|_| hit.kind != HitKind::Bot);
    if !add_hit(store, &pk, &day, hit, host).await? {
        // The item names as many hosts as it may, and not this one.
        add_hit(store, &pk, &day, hit, host.map(|_| OTHER_REFERRERS)).await?;
    }
    Ok(())
}

/// One `ADD` of `hit` on the counter item `key`, its referrer counted as `host`. A
/// real host is also added to the item's `hosts` set, on condition that the set holds
/// it already or has room.
/// `false` when the set is full and lacks the host.
async fn add_hit(
    store: &Store,
    pk: &str,
    day: &str,
    hit: &Hit,
    host: Option<&str>,
) -> Result<bool, StoreError> {
    let mut adds = Vec::new();
    let mut names = Vec::new();
    let mut counted = |attribute: String| {
        let placeholder = format!("#a{}", names.len());
        adds.push(format!("{placeholder} :one"));
        names.push((placeholder, attribute));
    };
    match hit.kind {
        HitKind::Click => counted("clicks".into()),
        HitKind::QrScan => counted("qr".into()),
        HitKind::Bot => counted("bots".into()),
    }
    if hit.fallback && hit.kind != HitKind::Bot {
        counted("fallback".into());
    }
    counted(format!("dev:{}", hit.device.as_str()));
    if let Some(host) = host {
        counted(format!("ref:{host}"));
    }
    if hit.kind != HitKind::Bot
        && let Some(country) = &hit.country
    {
        counted(format!("cc:{country}"));
    }
    let mut set = Cond::new(format!("ADD {}", adds.join(", "))).value(":one", n(1));
    for (placeholder, attribute) in &names {
        set = set.name(placeholder, attribute);
    }
    let write = match host.filter(|h| *h != OTHER_REFERRERS) {
        Some(host) => {
            set.expression.push_str(", hosts :host");
            set = set.value(":host", string_set([host.to_owned()]));
            store.update(Table::Main, pk.to_owned(), day, set).when(
                Cond::new(
                    "attribute_not_exists(hosts) OR contains(hosts, :name) OR size(hosts) < :cap",
                )
                .value(":name", s(host))
                .value(":cap", n(MAX_REFERRERS_PER_ITEM)),
            )
        }
        None => store.update(Table::Main, pk.to_owned(), day, set),
    };
    write.apply().await
}

/// Every counter item of a link between two days (inclusive), from every shard.
async fn days(
    store: &Store,
    link: &LinkId,
    from: &str,
    to: &str,
) -> Result<Vec<relinx_ddb::codec::Item>, StoreError> {
    let queries = (0..SHARDS).map(|shard| {
        store
            .query(Table::Main, shard_pk(link, shard))
            .between(from, to)
            .all_items()
    });
    let mut all = Vec::new();
    for items in futures::future::join_all(queries).await {
        all.extend(items?);
    }
    Ok(all)
}

fn count(item: &relinx_ddb::codec::Item, name: &str) -> u64 {
    relinx_ddb::codec::get_n(item, name)
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

/// A link's totals (the `analytics` of its object), exact.
pub async fn totals(store: &Store, link: &LinkId) -> Result<Totals, StoreError> {
    let mut totals = Totals::default();
    for item in days(store, link, "0000", "9999").await? {
        totals.total_clicks += count(&item, "clicks");
        totals.total_qr_code_scans += count(&item, "qr");
        totals.total_fall_back += count(&item, "fallback");
    }
    Ok(totals)
}

/// One day of a link's analytics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub clicks: u64,
    pub qr_code_scans: u64,
    pub fall_backs: u64,
    /// Link unfurlers and crawlers: never counted as clicks.
    pub bots: u64,
}

impl Day {
    /// Adds `value` to the day's counter stored as `attribute`; `false` if the
    /// attribute is no day counter (a device, referrer or country count).
    fn add(&mut self, attribute: &str, value: u64) -> bool {
        match attribute {
            "clicks" => self.clicks += value,
            "qr" => self.qr_code_scans += value,
            "fallback" => self.fall_backs += value,
            "bots" => self.bots += value,
            _ => return false,
        }
        true
    }
}

/// The day a counter item counts for (its sort key), made on first sight.
fn day_entry<'d>(
    by_day: &'d mut BTreeMap<String, Day>,
    item: &relinx_ddb::codec::Item,
) -> &'d mut Day {
    let date = relinx_ddb::codec::get_s(item, relinx_ddb::keys::SK)
        .unwrap_or_default()
        .to_owned();
    by_day.entry(date.clone()).or_insert_with(|| Day {
        date,
        ..Day::default()
    })
}

/// A link's days with any hit from `from` to `to` (days, inclusive), oldest first,
/// every shard's counters summed; reads counted on `budget` (analytics over clicks).
pub(crate) async fn days_within(
    store: &Store,
    link: &LinkId,
    from: &str,
    to: &str,
    budget: &mut relinx_ddb::ReadBudget,
) -> Result<Vec<Day>, StoreError> {
    let mut by_day: BTreeMap<String, Day> = BTreeMap::new();
    for shard in 0..SHARDS {
        let query = store
            .query(Table::Main, shard_pk(link, shard))
            .between(from, to);
        budget
            .walk(query, &mut |item| {
                let day = day_entry(&mut by_day, &item);
                for name in item.keys() {
                    day.add(name, count(&item, name));
                }
                Ok(())
            })
            .await?;
    }
    Ok(by_day.into_values().collect())
}

/// A link's analytics over a range of days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    pub from: String,
    pub to: String,
    pub totals: Totals,
    pub bots: u64,
    /// Days with any hit, oldest first.
    pub days: Vec<Day>,
    /// Visits by device class: `ios`, `android`, `desktop`, `bot`.
    pub devices: BTreeMap<String, u64>,
    /// People's visits by referring host.
    pub referrers: BTreeMap<String, u64>,
    /// People's visits by country (where the edge reports it).
    pub countries: BTreeMap<String, u64>,
}

/// A link's analytics from `from` to `to` (days, `YYYY-MM-DD`, inclusive).
pub async fn analytics(
    store: &Store,
    link: &LinkId,
    from: &str,
    to: &str,
) -> Result<Analytics, StoreError> {
    let mut result = Analytics {
        from: from.to_owned(),
        to: to.to_owned(),
        ..Analytics::default()
    };
    let mut by_day: BTreeMap<String, Day> = BTreeMap::new();
    for item in days(store, link, from, to).await? {
        let day = day_entry(&mut by_day, &item);
        for name in item.keys() {
            let value = count(&item, name);
            match name.as_str() {
                counter if day.add(counter, value) => {}
                other => {
                    let (map, key) = if let Some(k) = other.strip_prefix("dev:") {
                        (&mut result.devices, k)
                    } else if let Some(k) = other.strip_prefix("ref:") {
                        (&mut result.referrers, k)
                    } else if let Some(k) = other.strip_prefix("cc:") {
                        (&mut result.countries, k)
                    } else {
                        continue;
                    };
                    *map.entry(key.to_owned()).or_default() += value;
                }
            }
        }
    }
    for day in by_day.values() {
        result.totals.total_clicks += day.clicks;
        result.totals.total_qr_code_scans += day.qr_code_scans;
        result.totals.total_fall_back += day.fall_backs;
        result.bots += day.bots;
    }
    result.days = by_day.into_values().collect();
    result.referrers = top_referrers(std::mem::take(&mut result.referrers));
    Ok(result)
}

/// The [`MAX_REFERRERS_SHOWN`] hosts with the most visits; the rest summed under
/// [`OTHER_REFERRERS`].
fn top_referrers(all: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    if all.len() <= MAX_REFERRERS_SHOWN {
        return all;
    }
    let mut ranked: Vec<(String, u64)> = all.into_iter().collect();
    // Most visits first; ties by name, so the answer is the same every time.
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut shown = BTreeMap::new();
    let mut other = 0;
    for (host, visits) in ranked {
        if host != OTHER_REFERRERS && shown.len() < MAX_REFERRERS_SHOWN - 1 {
            shown.insert(host, visits);
        } else {
            other += visits;
        }
    }
    shown.insert(OTHER_REFERRERS.to_owned(), other);
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_bots_are_told_apart() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15";
        assert_eq!(device_of(Some(iphone)), Device::Ios);
        assert_eq!(
            device_of(Some(
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36"
            )),
            Device::Android
        );
        assert_eq!(
            device_of(Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0"
            )),
            Device::Desktop
        );
        for bot in [
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "facebookexternalhit/1.1",
            "Twitterbot/1.0",
            "WhatsApp/2.23.20.0",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "curl/8.5.0",
        ] {
            assert_eq!(device_of(Some(bot)), Device::Bot, "{bot}");
        }
        assert_eq!(device_of(None), Device::Bot);
    }

    #[test]
    fn an_answer_shows_the_top_referrers_and_sums_the_rest() {
        let many: BTreeMap<String, u64> = (0..300u64)
            .map(|i| (format!("h{i:03}.example"), i + 1))
            .chain([(OTHER_REFERRERS.to_owned(), 7)])
            .collect();
        let total: u64 = many.values().sum();
        let shown = top_referrers(many);
        assert_eq!(shown.len(), MAX_REFERRERS_SHOWN);
        assert_eq!(shown.values().sum::<u64>(), total);
        assert!(shown.contains_key("h299.example"), "the busiest stays");
        assert!(
            !shown.contains_key("h000.example"),
            "the quietest is folded"
        );
        let few = BTreeMap::from([("a.example".to_owned(), 2)]);
        assert_eq!(top_referrers(few.clone()), few);
    }

    #[test]
    fn referrers_and_countries_are_normalised() {
        assert_eq!(
            referrer_host(Some("https://News.Example.com/a?b")).as_deref(),
            Some("news.example.com")
        );
        assert_eq!(referrer_host(Some("not a url")), None);
        assert_eq!(country_code(Some("de")).as_deref(), Some("DE"));
        assert_eq!(country_code(Some("XYZ")), None);
    }
}
