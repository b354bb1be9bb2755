//! Per-org rate limits that cost almost nothing per request and hold across every
//! Lambda instance.
//!
//! Each bucket (an org, or `login-ip:…` and the like) has one item per minute
//! window counting the tokens *leased* in the window (`c`) and in each of its
//! seconds (`s0`…`s59`). An instance does not count requests in DynamoDB: it leases
//! tokens with one conditional `UpdateItem` and spends them locally. A lease is valid
//! only in the second it was taken in (so the per-second burst holds across
//! instances too), starts at one token and grows fourfold with each further lease in
//! the same second (so a quiet org wastes nothing and a busy one leases a handful of
//! times a second) up to 1/16 of the minute's limit and the burst (so small limits
//! stay exact: 6 a minute leases one token at a time), and is never granted beyond
//! the limit or the burst: a lease that would overshoot is cut to what is left.
//! Tokens an instance leased and did not spend are given back to the window with its
//! next lease.
//!
//! Bounds, for `N` instances serving one org:
//! - served per window ≤ `limit`, and per second ≤ `burst`, exactly: every served
//!   request spent a token, and no more tokens than that are ever granted;
//! - refused early at most by the tokens other instances hold unspent: fewer than
//!   `N × min(limit / 16, burst)` at any moment (given back with their next lease);
//! - DynamoDB writes on the window item: per instance, one per second it serves
//!   the org, plus about `log4(requests that second)` more in a busy second;
//! - a refusal is remembered until the next second, so a client hammering a limit
//!   costs at most one DynamoDB call a second per instance.
//!
//! `X-RateLimit-Remaining` is this instance's view: the window's tokens nobody had
//! leased at its last lease, plus the tokens it still holds.

use crate::codec::{Item, get_n, key, n};
use crate::{Store, StoreError, TtlCache, keys};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use relinx_model::{Limits, OrgId, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

const WINDOW_SECONDS: i64 = 60;
/// Window items outlive their minute by this much, then TTL removes them.
const WINDOW_KEEP_SECONDS: i64 = 300;
/// How much larger each further lease in the same second is.
const LEASE_GROWTH: u64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Requests allowed per minute.
    pub limit: u64,
    /// This instance's view of what is left in the window.
    pub remaining: u64,
    /// When the current window ends (epoch seconds).
    pub reset: i64,
    /// Set when the request is refused: seconds until a retry can succeed.
    pub retry_after: Option<u64>,
    /// A refusal by the second's burst, not the window's limit (requests may remain
    /// in the minute while this second's are spent).
    pub burst_spent: bool,
}

/// One bucket's tokens on this instance.
#[derive(Debug, Default)]
struct Local {
    window_start: i64,
    /// The second the held tokens belong to.
    second: i64,
    tokens: u64,
    next_lease: u64,
    /// Tokens leased in an earlier second of this window and never spent.
    unspent: u64,
    /// The window's leased count at this instance's last lease.
    leased_in_window: u64,
    /// A refusal remembered until this time (epoch seconds), and whether it was the
    /// window's limit (else the second's burst).
    refused_until: Option<(i64, bool)>,
}

/// This instance's buckets. Idle buckets are forgotten after a few minutes.
struct Buckets(TtlCache<String, Arc<Mutex<Local>>>);

fn buckets(store: &Store) -> Arc<Buckets> {
    store.local(|_| Buckets(TtlCache::new(Duration::from_secs(180), 100_000)))
}

/// Counts one request of `org` and says whether it is within the org's limits.
pub async fn hit(
    store: &Store,
    org: &OrgId,
    limits: &Limits,
    now: Timestamp,
) -> Result<Decision, StoreError> {
    hit_bucket(store, org.as_str(), limits, now).await
}

/// Decides from this instance's tokens alone, without waiting and without I/O:
/// `None` when the decision needs a lease (or another request is taking one). A
/// request decided here can be refused before it does any work.
pub fn decide_locally(
    store: &Store,
    org: &OrgId,
    limits: &Limits,
    now: Timestamp,
) -> Option<Decision> {
    let state = bucket_state(store, org.as_str());
    let mut local = state.try_lock().ok()?;
    match step(&mut local, limits, now.unix()) {
        Step::Decided(decision) => Some(decision),
        Step::Lease { .. } => None,
    }
}

/// Counts one request against any bucket (an org, a client address, an e-mail
/// address being guessed at) with its own limits.
pub async fn hit_bucket(
    store: &Store,
    bucket: &str,
    limits: &Limits,
    now: Timestamp,
) -> Result<Decision, StoreError> {
    let state = bucket_state(store, bucket);
    // One lease in flight per bucket and instance; the others wait and find tokens.
    let mut local = state.lock().await;
    let now_s = now.unix();
    let (size, window_start, reset) = match step(&mut local, limits, now_s) {
        Step::Decided(decision) => return Ok(decision),
        Step::Lease {
            size,
            window_start,
            reset,
        } => (size, window_start, reset),
    };
    let outcome = lease(
        store,
        bucket,
        limits,
        window_start,
        now_s,
        size,
        local.unspent,
    )
    .await?;
    let (retry_after, burst_spent) = match outcome {
        Lease::Granted { granted, leased } => {
            local.unspent = 0;
            local.leased_in_window = leased;
            local.tokens = granted - 1;
            local.next_lease = size.saturating_mul(LEASE_GROWTH);
            (None, false)
        }
        Lease::WindowSpent { leased } => {
            local.leased_in_window = leased;
            local.refused_until = Some((now_s + 1, true));
            (Some((reset - now_s).max(1) as u64), false)
        }
        Lease::SecondSpent { leased } => {
            local.leased_in_window = leased;
            local.refused_until = Some((now_s + 1, false));
            (Some(1), true)
        }
    };
    let mut decided = decision(&local, limits, reset, retry_after);
    decided.burst_spent = burst_spent;
    Ok(decided)
}

fn bucket_state(store: &Store, bucket: &str) -> Arc<Mutex<Local>> {
    let buckets = buckets(store);
    match buckets.0.get(&bucket.to_owned()) {
        Some(state) => state,
        None => {
            let state = Arc::new(Mutex::new(Local::default()));
            buckets.0.insert(bucket.to_owned(), state.clone());
            state
        }
    }
}

/// What the local state decides, or the lease it needs.
enum Step {
    Decided(Decision),
    Lease {
        size: u64,
        window_start: i64,
        reset: i64,
    },
}

/// Moves the local state to `now_s` and decides from it if it can.
fn step(local: &mut Local, limits: &Limits, now_s: i64) -> Step {
    let window_start = now_s - now_s.rem_euclid(WINDOW_SECONDS);
    let reset = window_start + WINDOW_SECONDS;
    if local.window_start != window_start {
        *local = Local {
            window_start,
            ..Local::default()
        };
    }
    if local.second != now_s {
        local.unspent += local.tokens;
        local.tokens = 0;
        local.second = now_s;
        local.next_lease = 1;
    }
    if let Some((until, whole_window)) = local.refused_until {
        if now_s < until {
            let retry = if whole_window { reset - now_s } else { 1 };
            let mut decided = decision(local, limits, reset, Some(retry.max(1) as u64));
            decided.burst_spent = !whole_window;
            return Step::Decided(decided);
        }
        local.refused_until = None;
    }
    if local.tokens > 0 {
        local.tokens -= 1;
        return Step::Decided(decision(local, limits, reset, None));
    }
    let largest = (limits.rate_per_minute / 16).clamp(1, limits.burst.max(1));
    Step::Lease {
        size: local.next_lease.clamp(1, largest),
        window_start,
        reset,
    }
}

fn decision(local: &Local, limits: &Limits, reset: i64, retry_after: Option<u64>) -> Decision {
    Decision {
        limit: limits.rate_per_minute,
        remaining: limits
            .rate_per_minute
            .saturating_sub(local.leased_in_window)
            + local.tokens,
        reset,
        retry_after,
        burst_spent: false,
    }
}

enum Lease {
    Granted { granted: u64, leased: u64 },
    WindowSpent { leased: u64 },
    SecondSpent { leased: u64 },
}

/// Leases up to `size` tokens of `second`, giving back `unspent` tokens leased
/// earlier in the window. Never grants beyond the limit or the burst.
async fn lease(
    store: &Store,
    bucket: &str,
    limits: &Limits,
    window_start: i64,
    second: i64,
    size: u64,
    unspent: u64,
) -> Result<Lease, StoreError> {
    crate::metrics::note_lease();
    let second_attr = format!("s{}", second - window_start);
    let net = i64::try_from(size).unwrap_or(i64::MAX) - i64::try_from(unspent).unwrap_or(0);
    let result = store
        .client()
        .update_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(
            keys::rate_window(bucket, window_start),
            keys::core::RATE_WINDOW_SK,
        )))
        .update_expression("ADD #count :net, #second :size SET #ttl = if_not_exists(#ttl, :ttl)")
        // Room left in the window (counting what is given back) and in the second.
        .condition_expression(
            "(attribute_not_exists(#count) OR #count < :window_cap) AND (attribute_not_exists(#second) OR #second < :burst)",
        )
        .expression_attribute_names("#count", "c")
        .expression_attribute_names("#second", &second_attr)
        .expression_attribute_names("#ttl", keys::TTL)
        .expression_attribute_values(":net", n(net))
        .expression_attribute_values(":size", n(size))
        .expression_attribute_values(
            ":window_cap",
            n(limits.rate_per_minute.saturating_add(unspent)),
        )
        .expression_attribute_values(":burst", n(limits.burst))
        .expression_attribute_values(":ttl", n(window_start + WINDOW_KEEP_SECONDS))
        .return_values(ReturnValue::UpdatedNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    let count = |item: &Item, name: &str| get_n(item, name).unwrap_or(0).max(0) as u64;
    match result {
        Ok(out) => {
            let after = out.attributes.unwrap_or_default();
            let (leased, in_second) = (count(&after, "c"), count(&after, &second_attr));
            let over = leased
                .saturating_sub(limits.rate_per_minute)
                .max(in_second.saturating_sub(limits.burst));
            Ok(Lease::Granted {
                // The condition left room for at least one.
                granted: size.saturating_sub(over).max(1),
                leased: leased.min(limits.rate_per_minute),
            })
        }
        Err(err) => match err.into_service_error() {
            UpdateItemError::ConditionalCheckFailedException(failed) => {
                let old = failed.item.unwrap_or_default();
                let leased = count(&old, "c").saturating_sub(unspent);
                if leased >= limits.rate_per_minute {
                    Ok(Lease::WindowSpent {
                        leased: limits.rate_per_minute,
                    })
                } else {
                    Ok(Lease::SecondSpent { leased })
                }
            }
            other => Err(StoreError::failed("rate-limit lease", other)),
        },
    }
}
