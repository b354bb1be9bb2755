//! The times the entities show, read as instants: RFC 3339 (`2026-12-06T10:00:00Z`,
//! every entity's own times), plain days `YYYY-MM-DD` (click counters, date
//! columns) and `YYYY-MM-DD HH:MM:SS` taken as UTC (a dataset column as uploaded);
//! and the calendar buckets a query groups them into.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};

/// The instant `raw` names, in milliseconds since the epoch (a day: its start).
pub fn instant_ms(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.timestamp_millis());
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S") {
        return Some(at.and_utc().timestamp_millis());
    }
    day(raw).map(|d| {
        d.and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis())
    })
}

/// `raw` as a plain day, if it is one.
pub fn day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()
}

/// The last millisecond of the day `raw` names, or the instant it names.
pub fn end_ms(raw: &str) -> Option<i64> {
    match day(raw) {
        Some(d) => d
            .succ_opt()
            .and_then(|next| next.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis() - 1),
        None => instant_ms(raw),
    }
}

fn date_of(ms: i64) -> Option<NaiveDate> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.date_naive())
}

/// The day (UTC) of an instant, `YYYY-MM-DD`.
pub fn day_bucket(ms: i64) -> Option<String> {
    date_of(ms).map(|d| d.format("%Y-%m-%d").to_string())
}

/// The Monday (UTC) of an instant's ISO week, `YYYY-MM-DD`.
pub fn week_bucket(ms: i64) -> Option<String> {
    date_of(ms).map(|d| {
        let back = i64::from(d.weekday().num_days_from_monday());
        (d - Duration::days(back)).format("%Y-%m-%d").to_string()
    })
}

/// The month (UTC) of an instant, `YYYY-MM`.
pub fn month_bucket(ms: i64) -> Option<String> {
    date_of(ms).map(|d| format!("{:04}-{:02}", d.year(), d.month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shown_form_is_read_and_bucketed() {
        let rfc = instant_ms("2026-12-06T23:30:00Z").unwrap();
        let spaced = instant_ms("2026-12-06 23:30:00").unwrap();
        assert_eq!(rfc, spaced);
        assert_eq!(day_bucket(rfc).unwrap(), "2026-12-06");
        assert_eq!(week_bucket(rfc).unwrap(), "2026-11-30");
        assert_eq!(month_bucket(rfc).unwrap(), "2026-12");
        assert_eq!(
            end_ms("2026-12-06").unwrap(),
            instant_ms("2026-12-07").unwrap() - 1
        );
        assert!(instant_ms("yesterday").is_none());
    }
}
