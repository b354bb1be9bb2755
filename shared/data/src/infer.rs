//! What a column of ingested values is: the narrowest type every non-empty value fits,
//! and never one that would damage a value. The failures ingestion tools are known
//! for decide the rules: a zip code or phone number with a leading zero, a 16-digit id
//! that a float would round, a `01/02/2020` that is read as the wrong month — each stays
//! a string, and the column says why.

use relinx_model::Email;
use serde::Serialize;

/// A column's type, as sources and schemas name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Integer,
    Number,
    Boolean,
    Date,
    Datetime,
    Email,
    Url,
    String,
}

/// What a column holds: its type, whether a value may be missing, a few examples,
/// and why it is the type it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnProfile {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    pub nullable: bool,
    /// Up to three distinct values, as given.
    pub examples: Vec<String>,
    pub why: String,
    /// A date column's format as `to_date` takes it (`%d/%m/%Y`): how its values
    /// are read as dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// Most significant digits a number keeps exactly through a double.
const MAX_DIGITS: usize = 15;
const EXAMPLES: usize = 3;

/// Profiles column `name` from its `values` (as given; an empty or blank value is a
/// missing one).
pub fn infer_column(name: &str, values: &[&str]) -> ColumnProfile {
    let present: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let nullable = present.len() < values.len();
    let mut examples: Vec<String> = Vec::new();
    for value in &present {
        if examples.len() == EXAMPLES {
            break;
        }
        if !examples.iter().any(|e| e == value) {
            examples.push((*value).to_owned());
        }
    }
    let (column_type, why) = decide(&present);
    let format = (column_type == ColumnType::Date)
        .then(|| date_format(&present))
        .flatten();
    ColumnProfile {
        name: name.to_owned(),
        column_type,
        nullable,
        examples,
        why,
        format,
    }
}

/// The one format every value of a date column is written in, if there is one.
fn date_format(values: &[&str]) -> Option<String> {
    if values.iter().all(|v| iso_date(v)) {
        return Some("%Y-%m-%d".to_owned());
    }
    let separator = values
        .first()?
        .chars()
        .find(|c| matches!(c, '/' | '-' | '.'))?;
    if !values
        .iter()
        .all(|v| v.chars().filter(|c| *c == separator).count() == 2)
    {
        return None;
    }
    let parts: Vec<(u8, u8)> = values.iter().filter_map(|v| day_month(v)).collect();
    let day_first = parts.iter().any(|(a, _)| *a > 12);
    Some(if day_first {
        format!("%d{separator}%m{separator}%Y")
    } else {
        format!("%m{separator}%d{separator}%Y")
    })
}

fn decide(values: &[&str]) -> (ColumnType, String) {
    if values.is_empty() {
        return (ColumnType::String, "no value to infer from".into());
    }
    let count = |test: fn(&str) -> bool| values.iter().filter(|v| test(v)).count();
    let plural = |n: usize| if n == 1 { "1 value has" } else { "values have" };
    if values.iter().all(|v| is_decimal(v)) {
        let zeros = count(has_leading_zero);
        if zeros > 0 {
            return (
                ColumnType::String,
                format!(
                    "{} a leading zero ({}), which a number would drop",
                    count_text(zeros, plural(zeros)),
                    first(values, has_leading_zero)
                ),
            );
        }
        let long = count(|v| significant_digits(v) > MAX_DIGITS);
        if long > 0 {
            return (
                ColumnType::String,
                format!(
                    "{} more than {MAX_DIGITS} significant digits, which a number would round",
                    count_text(long, plural(long))
                ),
            );
        }
        return if values.iter().all(|v| !v.contains('.')) {
            (ColumnType::Integer, "every value is a whole number".into())
        } else {
            (ColumnType::Number, "every value is a number".into())
        };
    }
    if values.iter().all(|v| boolean(v).is_some()) {
        return (
            ColumnType::Boolean,
            "every value is true/false or yes/no".into(),
        );
    }
    if let Some(decided) = dates(values) {
        return decided;
    }
    if values.iter().all(|v| is_datetime(v)) {
        return (
            ColumnType::Datetime,
            "every value is a date and time (RFC 3339 or YYYY-MM-DD HH:MM)".into(),
        );
    }
    if values.iter().all(|v| Email::parse("value", v).is_ok()) {
        return (ColumnType::Email, "every value is an e-mail address".into());
    }
    if values.iter().all(|v| is_web_url(v)) {
        return (ColumnType::Url, "every value is an http(s) URL".into());
    }
    (
        ColumnType::String,
        "values of more than one kind, or text".into(),
    )
}

fn count_text(n: usize, phrase: &str) -> String {
    if n == 1 {
        phrase.to_owned()
    } else {
        format!("{n} {phrase}")
    }
}

fn first<'a>(values: &[&'a str], test: fn(&str) -> bool) -> &'a str {
    values.iter().find(|v| test(v)).copied().unwrap_or_default()
}

/// `-12`, `3.25`, `0.5`: digits with at most one point inside, an optional minus. A
/// `+`, a thousands separator or an exponent is not a plain number (a phone number,
/// a locale's formatting) and stays text.
fn is_decimal(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// `02134`, `0044…`: a zero a number would drop (`0`, `0.5` have none).
fn has_leading_zero(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let whole = digits.split('.').next().unwrap_or_default();
    whole.len() > 1 && whole.starts_with('0')
}

fn significant_digits(value: &str) -> usize {
    value
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|b| *b == b'0')
        .count()
}

fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// A column of dates: ISO (`1990-12-31`), or day and month in some order with a
/// four-digit year (`31/12/1990`, `12-31-1990`, `31.12.1990`). The order is the one
/// the column proves: a day over 12 in the first place (day first) or the second
/// (month first); a column that proves neither, or both, is not dates.
fn dates(values: &[&str]) -> Option<(ColumnType, String)> {
    if values.iter().all(|v| iso_date(v)) {
        return Some((
            ColumnType::Date,
            "every value is a date (YYYY-MM-DD)".into(),
        ));
    }
    let parts: Option<Vec<(u8, u8)>> = values.iter().map(|v| day_month(v)).collect();
    let parts = parts?;
    let day_first = parts.iter().filter(|(a, _)| *a > 12).count();
    let month_first = parts.iter().filter(|(_, b)| *b > 12).count();
    let valid = |day_of: fn(&(u8, u8)) -> (u8, u8)| {
        parts.iter().all(|p| {
            let (day, month) = day_of(p);
            (1..=31).contains(&day) && (1..=12).contains(&month)
        })
    };
    match (day_first, month_first) {
        (0, 0) => Some((
            ColumnType::String,
            format!(
                "{} could be read day-first or month-first: no value has a day over 12, so the dates are kept as written",
                values[0]
            ),
        )),
        (n, 0) if valid(|(a, b)| (*a, *b)) => Some((
            ColumnType::Date,
            format!("dates, day first ({n} with a day over 12)"),
        )),
        (0, n) if valid(|(a, b)| (*b, *a)) => Some((
            ColumnType::Date,
            format!("dates, month first ({n} with a day over 12)"),
        )),
        _ => Some((
            ColumnType::String,
            "dates written in both orders (day-first and month-first): kept as written".into(),
        )),
    }
}

fn iso_date(value: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    value.len() == 10 && time::Date::parse(value, format).is_ok()
}

/// The two leading numbers of `NN/NN/YYYY` (or with `-` or `.`).
fn day_month(value: &str) -> Option<(u8, u8)> {
    let separator = value.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let mut parts = value.split(separator);
    let (a, b, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || year.len() != 4
        || !year.bytes().all(|c| c.is_ascii_digit())
        || !(1..=2).contains(&a.len())
        || !(1..=2).contains(&b.len())
    {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn is_datetime(value: &str) -> bool {
    if relinx_model::Timestamp::parse(value).is_some() {
        return true;
    }
    let minutes = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let seconds =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(value, minutes).is_ok()
        || time::PrimitiveDateTime::parse(value, seconds).is_ok()
}

fn is_web_url(value: &str) -> bool {
    url::Url::parse(value)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

#[cfg(test)]
mod tests;
