use super::*;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_vars(
        vars.iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
    )
}

#[test]
fn nothing_set_is_the_defaults() {
    let config = config(&[]).unwrap();
    assert_eq!(config.tables, None);
    assert_eq!(config.api, ApiSettings::default());
    assert_eq!(config.records, RecordSettings::default());
    assert_eq!(config.webhooks, WebhookSettings::default());
    assert_eq!(config.webhooks.retry_schedule.len(), 7);
    assert_eq!(config.secrets.key_pepper, SecretSource::Missing);
}

#[test]
fn every_variable_is_read() {
    let config = config(&[
        ("MAIN_TABLE", "m"),
        ("EVENTS_TABLE", "e"),
        ("JOBS_TABLE", "j"),
        ("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"),
        ("SECRETS_MANAGER_ENDPOINT", "http://127.0.0.1:5000"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        (
            "RELINX_KEY_PEPPER_SECRET_ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relinx-key-pepper-AbCdEf",
        ),
        ("RELINX_JWT_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret"),
        (
            "RELINX_JWT_SECRET_ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relinx-jwt-AbCdEf",
        ),
        ("RELINX_SIGNUP_MODE", "open"),
        ("RELINX_PLAN_SELECTION", "fixed"),
        ("RELINX_SERVER_TIMING", "1"),
        ("RELINX_PUBLIC_URL", "https://api.example.com"),
        ("RELINX_LINKS_URL", ""),
        ("RELINX_IDEMPOTENCY_LOCK_SECONDS", "30"),
        (
            "RELINX_CORS_ORIGINS",
            "https://a.example.com, http://localhost:5173",
        ),
        ("RELINX_AUDIT_STREAM_SECONDS", "1"),
        ("RELINX_TOMBSTONE_RETENTION_DAYS", "7"),
        ("RELINX_FEED_SETTLE_MS", "0"),
        ("DELIVERY_QUEUE_URL", "http://127.0.0.1:5000/123/q"),
        ("RELINX_RETRY_SCHEDULE", "1s,2m"),
        ("RELINX_WEBHOOK_DISABLE_AFTER", "2h"),
        ("RELINX_DELIVERY_RETENTION_DAYS", "2"),
        ("RUN_QUEUE_URL", "http://127.0.0.1:5000/123/runs"),
        ("RELINX_IMPORT_WRITES_PER_SECOND", "400"),
        ("RELINX_RUN_INVOCATION_SECONDS", "60"),
        ("RELINX_QUERY_READ_BUDGET", "5000"),
        ("RUST_LOG", "warn,relinx_ddb=debug"),
    ])
    .unwrap();
    assert_eq!(
        config.data,
        crate::DataSettings {
            run_queue_url: Some("http://127.0.0.1:5000/123/runs".into()),
            import_writes_per_second: 400,
            run_invocation: std::time::Duration::from_secs(60),
            query_read_budget: 5000,
        }
    );
    assert_eq!(
        config.tables,
        Some(Tables {
            main: "m".into(),
            events: "e".into(),
            jobs: "j".into()
        })
    );
    assert_eq!(config.aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(config.aws.access_key_id, None);
    assert_eq!(
        config.aws.secrets_manager_endpoint.as_deref(),
        Some("http://127.0.0.1:5000")
    );
    assert_eq!(
        config.secrets.key_pepper,
        SecretSource::Stored(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relinx-key-pepper-AbCdEf".into()
        )
    );
    // A value given locally wins over the stored one.
    assert!(matches!(config.secrets.jwt_secret, SecretSource::Value(_)));
    assert!(config.api.signup_open && !config.api.plan_selection && config.api.server_timing);
    assert_eq!(config.api.links_url, None, "an empty value is an unset one");
    assert_eq!(config.api.idempotency_lock, Duration::from_secs(30));
    assert_eq!(config.api.cors_origins.len(), 2);
    assert_eq!(config.api.audit_stream, Duration::from_secs(1));
    assert_eq!(config.records.retention, Duration::from_secs(7 * 86_400));
    assert_eq!(config.records.feed_settle, Duration::ZERO);
    assert_eq!(
        config.webhooks.retry_schedule,
        [Duration::from_secs(1), Duration::from_secs(120)]
    );
    assert_eq!(config.webhooks.disable_after, Duration::from_secs(7200));
    assert_eq!(
        config.webhooks.delivery_retention,
        Duration::from_secs(2 * 86_400)
    );
}

#[test]
fn a_bad_value_is_named_with_what_it_takes() {
    let err = config(&[("RELINX_RETRY_SCHEDULE", "5s,banana")]).unwrap_err();
    assert_eq!(err.problems.len(), 1);
    assert!(
        err.to_string()
            .starts_with("RELINX_RETRY_SCHEDULE=\"5s,banana\""),
        "{err}"
    );
    assert!(err.to_string().contains("5s, 5m, 2h or 1d"), "{err}");
    // Debug is the message, which is what a `main` returning it prints.
    assert_eq!(format!("{err:?}"), err.to_string());
}

#[test]
fn every_bad_value_is_reported_at_once() {
    let err = config(&[
        ("RELINX_SIGNUP_MODE", "sometimes"),
        ("RELINX_SERVER_TIMING", "yes"),
        ("RELINX_IDEMPOTENCY_LOCK_SECONDS", "0"),
        ("RELINX_CORS_ORIGINS", "https://a.example.com/path"),
        ("RELINX_AUDIT_STREAM_SECONDS", "forever"),
        ("RELINX_TOMBSTONE_RETENTION_DAYS", "-1"),
        ("RELINX_PUBLIC_URL", "api.example.com"),
        ("RELINX_WEBHOOK_DISABLE_AFTER", "5é"),
        ("RELINX_KEY_PEPPER_SECRET_ARN", "relinx/key-pepper"),
        ("RUST_LOG", "info,=="),
        ("MAIN_TABLE", "m"),
    ])
    .unwrap_err();
    let text = err.to_string();
    for name in [
        "RELINX_SIGNUP_MODE",
        "RELINX_SERVER_TIMING",
        "RELINX_IDEMPOTENCY_LOCK_SECONDS",
        "RELINX_CORS_ORIGINS",
        "RELINX_AUDIT_STREAM_SECONDS",
        "RELINX_TOMBSTONE_RETENTION_DAYS",
        "RELINX_PUBLIC_URL",
        "RELINX_WEBHOOK_DISABLE_AFTER",
        "RELINX_KEY_PEPPER_SECRET_ARN",
        "RUST_LOG",
        "EVENTS_TABLE and JOBS_TABLE",
    ] {
        assert!(text.contains(name), "{name} missing from {text}");
    }
    assert_eq!(err.problems.len(), 11, "{text}");
}

#[test]
fn a_secret_value_never_shows_in_debug() {
    let config = config(&[("RELINX_KEY_PEPPER", "do-not-print-me-do-not-print-me")]).unwrap();
    assert!(!format!("{config:?}").contains("do-not-print-me"));
}

#[test]
fn the_tables_are_required_where_a_function_starts() {
    let err = config(&[]).unwrap().require_tables().unwrap_err();
    assert!(err.to_string().contains("MAIN_TABLE"), "{err}");
}

#[test]
fn every_variable_is_listed() {
    let names = Config::variables();
    for name in [
        "MAIN_TABLE",
        "RELINX_KEY_PEPPER",
        "RELINX_JWT_SECRET_ARN",
        "RUST_LOG",
        "AWS_DEFAULT_REGION",
        "RELINX_FEED_SETTLE_MS",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
    assert_eq!(names.len(), 33, "{names:?}");
}
