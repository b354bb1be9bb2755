use super::*;

fn kind(values: &[&str]) -> (ColumnType, String) {
    let profile = infer_column("c", values);
    (profile.column_type, profile.why)
}

/// The columns of issue 28's example file.
#[test]
fn the_example_file_keeps_every_value() {
    let zip = infer_column("zip", &["02134", "10001", "00501"]);
    assert_eq!(zip.column_type, ColumnType::String);
    assert!(
        zip.why.contains("2 values have a leading zero (02134)"),
        "{}",
        zip.why
    );
    assert_eq!(zip.examples, ["02134", "10001", "00501"]);
    assert_eq!(
        kind(&["31/12/1990", "21/02/1985", "15/06/1970"]).0,
        ColumnType::Date
    );
    assert_eq!(
        kind(&["ann@example.com", "bob@example.com", "zoe@example.com"]).0,
        ColumnType::Email
    );
    assert_eq!(kind(&["1.5", "20", "3.25"]).0, ColumnType::Number);
    assert_eq!(kind(&["yes", "no", "yes"]).0, ColumnType::Boolean);
    assert_eq!(kind(&["Ann", "Bob", "Zoë"]).0, ColumnType::String);
}

#[test]
fn a_date_column_that_never_proves_its_order_stays_text() {
    let (column_type, why) = kind(&["01/02/2020", "03/04/2021"]);
    assert_eq!(column_type, ColumnType::String);
    assert!(why.contains("day-first or month-first"), "{why}");
    assert_eq!(
        kind(&["02/13/2020", "03/04/2021"]).0,
        ColumnType::Date,
        "month first, proved by the 13"
    );
    assert_eq!(
        kind(&["13/02/2020", "02/13/2021"]).0,
        ColumnType::String,
        "both orders in one column"
    );
    assert_eq!(kind(&["2020-02-01", "2021-12-31"]).0, ColumnType::Date);
    assert_eq!(kind(&["2020-02-30"]).0, ColumnType::String, "no such day");
}

#[test]
fn numbers_that_a_double_would_damage_stay_text() {
    let (column_type, why) = kind(&["1234567890123456", "1"]);
    assert_eq!(column_type, ColumnType::String);
    assert!(why.contains("more than 15 significant digits"), "{why}");
    assert_eq!(
        kind(&["+4420794600"]).0,
        ColumnType::String,
        "a phone number"
    );
    assert_eq!(kind(&["0044207946"]).0, ColumnType::String);
    assert_eq!(kind(&["1,000", "2,500"]).0, ColumnType::String);
    assert_eq!(kind(&["0", "0.5", "-3"]).0, ColumnType::Number);
    assert_eq!(kind(&["0", "12", "-3"]).0, ColumnType::Integer);
}

#[test]
fn missing_values_make_a_column_nullable_not_text() {
    let profile = infer_column("n", &["1", "", "  ", "3"]);
    assert_eq!(profile.column_type, ColumnType::Integer);
    assert!(profile.nullable);
    assert!(!infer_column("n", &["1"]).nullable);
    assert_eq!(infer_column("e", &["", ""]).column_type, ColumnType::String);
}

#[test]
fn datetimes_and_urls() {
    assert_eq!(
        kind(&["2026-11-25T10:00:00Z", "2026-11-25 10:00"]).0,
        ColumnType::Datetime
    );
    assert_eq!(
        kind(&["https://example.com/a", "http://x.org"]).0,
        ColumnType::Url
    );
    assert_eq!(
        kind(&["https://example.com", "ftp://x.org"]).0,
        ColumnType::String
    );
}

#[test]
fn a_profile_reads_as_the_api_shows_it() {
    let profile = infer_column("zip", &["02134"]);
    let json = serde_json::to_value(&profile).unwrap();
    assert_eq!(json["type"], "string");
    assert_eq!(json["name"], "zip");
}
