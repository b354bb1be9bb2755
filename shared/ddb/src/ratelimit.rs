//! Per-org rate limits, counted in DynamoDB so the limit holds across every Lambda
//! instance: one `UpdateItem` per request on a per-minute window item that also
//! counts each second (the burst). Window items expire through TTL.

use crate::codec::{get_n, key, n};
use crate::{Store, StoreError, keys};
use aws_sdk_dynamodb::types::ReturnValue;
use relinx_model::{Limits, OrgId, Timestamp};

const WINDOW_SECONDS: i64 = 60;
/// Window items outlive their minute by this much, then TTL removes them.
const WINDOW_KEEP_SECONDS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Requests allowed per minute.
    pub limit: u64,
    pub remaining: u64,
    /// When the current window ends (epoch seconds).
    pub reset: i64,
    /// Set when the request is refused: seconds until a retry can succeed.
    pub retry_after: Option<u64>,
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

/// Counts one request against any bucket (an org, a client address, an e-mail
/// address being guessed at) with its own limits.
pub async fn hit_bucket(
    store: &Store,
    bucket: &str,
    limits: &Limits,
    now: Timestamp,
) -> Result<Decision, StoreError> {
    let now_s = now.unix();
    let window_start = now_s - now_s.rem_euclid(WINDOW_SECONDS);
    let second = now_s - window_start;
    let second_attr = format!("s{second}");
    let out = store
        .client()
        .update_item()
        .table_name(&store.tables().main)
        .set_key(Some(key(
            keys::rate_window(bucket, window_start),
            keys::core::RATE_WINDOW_SK,
        )))
        .update_expression("ADD #count :one, #second :one SET #ttl = if_not_exists(#ttl, :ttl)")
        .expression_attribute_names("#count", "c")
        .expression_attribute_names("#second", &second_attr)
        .expression_attribute_names("#ttl", keys::TTL)
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":ttl", n(window_start + WINDOW_KEEP_SECONDS))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await?;
    let attributes = out.attributes.unwrap_or_default();
    let count = get_n(&attributes, "c").unwrap_or(1).max(0) as u64;
    let in_second = get_n(&attributes, &second_attr).unwrap_or(1).max(0) as u64;
    Ok(decide(limits, count, in_second, window_start, now_s))
}

fn decide(limits: &Limits, count: u64, in_second: u64, window_start: i64, now_s: i64) -> Decision {
    let reset = window_start + WINDOW_SECONDS;
    let retry_after = if count > limits.rate_per_minute {
        Some((reset - now_s).max(1) as u64)
    } else if in_second > limits.burst {
        Some(1)
    } else {
        None
    };
    Decision {
        limit: limits.rate_per_minute,
        remaining: limits.rate_per_minute.saturating_sub(count),
        reset,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u64, burst: u64) -> Limits {
        Limits {
            smartlinks: None,
            contacts: None,
            rate_per_minute: per_minute,
            burst,
        }
    }

    #[test]
    fn counts_down_then_refuses_until_the_window_ends() {
        let l = limits(3, 10);
        assert_eq!(decide(&l, 1, 1, 60, 70).remaining, 2);
        assert_eq!(decide(&l, 3, 3, 60, 70).retry_after, None);
        let refused = decide(&l, 4, 4, 60, 70);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after, Some(50));
        assert_eq!(refused.reset, 120);
    }

    #[test]
    fn a_burst_within_one_second_is_refused_for_a_second() {
        let l = limits(60, 2);
        assert_eq!(decide(&l, 3, 3, 0, 5).retry_after, Some(1));
        assert_eq!(decide(&l, 3, 1, 0, 6).retry_after, None);
    }
}
