//! The configuration of relinx: every environment variable a function, the dev
//! server or the bench reads, read here and nowhere else (a test holds every other
//! crate to it), once per process, and checked whole before anything starts. A bad
//! value stops the start with a message naming the variable and what it accepts;
//! nothing falls back to a default in silence.
//!
//! Secrets are not values here unless a local run gives them: deployed, the template
//! passes the ARNs of two Secrets Manager secrets ([`SecretSource::Stored`]) and
//! `relinx_ddb::secrets` reads them once, at start.

mod parse;

use parse::Vars;
use std::time::Duration;
use tracing_subscriber::filter::Targets;

/// The physical names of the three tables (template.yaml "Storage").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub main: String,
    pub events: String,
    pub jobs: String,
}

impl Tables {
    /// `{prefix}-main`, `{prefix}-events`, `{prefix}-jobs`: local runs and tests.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            main: format!("{prefix}-main"),
            events: format!("{prefix}-events"),
            jobs: format!("{prefix}-jobs"),
        }
    }
}

/// Where a secret comes from.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum SecretSource {
    /// The value itself (`RELINX_KEY_PEPPER`, `RELINX_JWT_SECRET`): local runs, the
    /// event replay, the bench. Wins over a stored one, so a local `sam local invoke
    /// --env-vars` can stand in for Secrets Manager.
    Value(Vec<u8>),
    /// The ARN (or name) of a Secrets Manager secret (`…_SECRET_ARN`), read once at
    /// start: what template.yaml passes, so the value is never in the function's
    /// configuration.
    Stored(String),
    /// Neither is set.
    #[default]
    Missing,
}

impl std::fmt::Debug for SecretSource {
    // A value never reaches a log line or a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Value(<redacted>)"),
            Self::Stored(arn) => f.debug_tuple("Stored").field(arn).finish(),
            Self::Missing => f.write_str("Missing"),
        }
    }
}

/// The deployment's two secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// What API keys are hashed under; key-id checks and sealing derive from it.
    pub key_pepper: SecretSource,
    /// The HMAC secret of access tokens.
    pub jwt_secret: SecretSource,
}

/// The variables of each secret: its value (local runs), its secret's ARN (deployed).
pub const KEY_PEPPER: (&str, &str) = ("RELINX_KEY_PEPPER", "RELINX_KEY_PEPPER_SECRET_ARN");
pub const JWT_SECRET: (&str, &str) = ("RELINX_JWT_SECRET", "RELINX_JWT_SECRET_ARN");

/// Where the AWS clients point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aws {
    /// `DYNAMODB_ENDPOINT`: DynamoDB Local.
    pub dynamodb_endpoint: Option<String>,
    /// `SQS_ENDPOINT`: an SQS emulator (moto).
    pub sqs_endpoint: Option<String>,
    /// `SECRETS_MANAGER_ENDPOINT`: a Secrets Manager emulator (moto serves it beside
    /// SQS).
    pub secrets_manager_endpoint: Option<String>,
    /// `AWS_ACCESS_KEY_ID` (an id, not a secret): a client pointed at an emulator
    /// gets dummy credentials unless it is set (emulators accept any).
    pub access_key_id: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION` (else an emulator's client gets
    /// us-east-1).
    pub region: Option<String>,
}

/// The API's switches (`relinx_http::Settings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    /// `RELINX_SIGNUP_MODE=open`: POST /v1/signup creates orgs.
    pub signup_open: bool,
    /// `RELINX_PLAN_SELECTION=allowed`: a signup may choose its plan.
    pub plan_selection: bool,
    /// `RELINX_SERVER_TIMING=1`: responses carry a `Server-Timing` header with the
    /// request's DynamoDB calls and time (local runs, tests and the bench).
    pub server_timing: bool,
    /// `RELINX_PUBLIC_URL`: the address invite links point at (else the domain API
    /// Gateway served the request on).
    pub public_url: Option<String>,
    /// `RELINX_ALLOW_PRIVATE_TARGETS=1`: webhooks may target loopback and private
    /// addresses (local development); link-local and metadata addresses never.
    pub allow_private_targets: bool,
    /// `RELINX_LINKS_URL`: the links host smartlinks' public URLs (`relink`) are on
    /// (else the public URL).
    pub links_url: Option<String>,
    /// `RELINX_IDEMPOTENCY_LOCK_SECONDS` (default 60): how long a request holds its
    /// `Idempotency-Key` before a retry may take it over (one that died holding it
    /// blocks its key this long; one that was only slow can no longer commit).
    pub idempotency_lock: Duration,
    /// `RELINX_CORS_ORIGINS`: origins (`https://app.example.com`, comma-separated) a
    /// browser page may call the API from; none by default. Deployed, API Gateway
    /// answers for them (template `CorsOrigins`); the dev server does it itself.
    pub cors_origins: Vec<String>,
    /// `RELINX_AUDIT_STREAM_SECONDS` (default 300): the longest life of one
    /// `/v1/audit/stream` response; the client reconnects with `Last-Event-ID`.
    pub audit_stream: Duration,
}

/// The default of [`ApiSettings::idempotency_lock`].
pub const IDEMPOTENCY_LOCK: Duration = Duration::from_secs(60);
/// The default of [`ApiSettings::audit_stream`].
pub const AUDIT_STREAM: Duration = Duration::from_secs(300);

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            signup_open: false,
            plan_selection: false,
            server_timing: false,
            public_url: None,
            allow_private_targets: false,
            links_url: None,
            idempotency_lock: IDEMPOTENCY_LOCK,
            cors_origins: Vec::new(),
            audit_stream: AUDIT_STREAM,
        }
    }
}

/// How long tombstones and change-feed entries are kept, and how old a change must
/// be before the feed lists it (`relinx_records`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSettings {
    /// `RELINX_TOMBSTONE_RETENTION_DAYS`, default 30: a feed cursor older than this
    /// is 410 and the client resyncs from a full list.
    pub retention: Duration,
    /// `RELINX_FEED_SETTLE_MS`, default 1000: the feed lists a change once it is this
    /// old, the bound on how long after minting its `causal` a write may commit, so a
    /// reader never moves its cursor past a change still in flight.
    pub feed_settle: Duration,
}

impl Default for RecordSettings {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(30 * 86_400),
            feed_settle: Duration::from_millis(1000),
        }
    }
}

/// Webhook delivery (`relinx_webhooks`): the queue, the retry ladder, when an
/// endpoint that keeps failing is disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// `DELIVERY_QUEUE_URL`: the SQS delivery queue (the dispatcher, and the
    /// functions that revive jobs).
    pub delivery_queue_url: Option<String>,
    /// `RELINX_RETRY_SCHEDULE`: the wait before each retry; after the last the job is
    /// dead.
    pub retry_schedule: Vec<Duration>,
    /// `RELINX_WEBHOOK_DISABLE_AFTER` (default 5 days): how long an endpoint may fail
    /// without a success before it is disabled.
    pub disable_after: Duration,
    /// `RELINX_DELIVERY_RETENTION_DAYS` (default 30): how long delivery attempts,
    /// and delivered and skipped jobs, are kept (DynamoDB TTL); dead jobs stay until
    /// retried.
    pub delivery_retention: Duration,
}

/// The retry ladder when `RELINX_RETRY_SCHEDULE` does not say otherwise.
pub const DEFAULT_RETRY_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";
/// The default of [`WebhookSettings::disable_after`].
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 86_400);

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            delivery_queue_url: None,
            retry_schedule: parse::schedule(DEFAULT_RETRY_SCHEDULE).unwrap_or_default(),
            disable_after: DISABLE_AFTER,
            delivery_retention: Duration::from_secs(30 * 86_400),
        }
    }
}

/// Datalinx pipeline runs (`relinx_data`): their queue, and how hard an import may
/// press on one DynamoDB key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSettings {
    /// `RUN_QUEUE_URL`: the SQS queue of pipeline runs (the runner consumes it; the
    /// data function and the sweep send to it).
    pub run_queue_url: Option<String>,
    /// `RELINX_IMPORT_WRITES_PER_SECOND` (default 800): the most writes a second an
    /// org's imports send to any one partition key (DynamoDB takes 1,000).
    pub import_writes_per_second: u64,
    /// `RELINX_RUN_INVOCATION_SECONDS` (default 600): how long one runner invocation
    /// works on a run before it continues in a follow-up message (under the
    /// function's timeout).
    pub run_invocation: Duration,
    /// `RELINX_QUERY_READ_BUDGET` (default 100,000): the most items one analytics
    /// query reads before it stops and asks for a narrower range (docs/analytics.md).
    pub query_read_budget: u64,
}

impl Default for DataSettings {
    fn default() -> Self {
        Self {
            run_queue_url: None,
            import_writes_per_second: 800,
            run_invocation: Duration::from_secs(600),
            query_read_budget: 100_000,
        }
    }
}

/// Everything the environment says, parsed.
#[derive(Debug, Clone)]
pub struct Config {
    /// `MAIN_TABLE`, `EVENTS_TABLE`, `JOBS_TABLE` (all three or none; the dev server
    /// and tests name theirs by prefix).
    pub tables: Option<Tables>,
    pub aws: Aws,
    pub secrets: Secrets,
    pub api: ApiSettings,
    pub records: RecordSettings,
    pub webhooks: WebhookSettings,
    pub data: DataSettings,
    /// `RUST_LOG`: levels by target (`info`, `warn,relinx_ddb=debug`; default `info`).
    pub log_filter: Targets,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            tables: None,
            aws: Aws::default(),
            secrets: Secrets::default(),
            api: ApiSettings::default(),
            records: RecordSettings::default(),
            webhooks: WebhookSettings::default(),
            data: DataSettings::default(),
            log_filter: Targets::new().with_default(tracing::Level::INFO),
        }
    }
}

/// What is wrong with the configuration: every bad or missing variable, each named
/// with what it accepts. Its `Debug` is its message, so a `main` that returns it
/// prints the message, not a struct.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    pub fn new(problem: impl Into<String>) -> Self {
        Self {
            problems: vec![problem.into()],
        }
    }
}

impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Config {
    /// From this process's environment: the one place relinx reads it.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars_os().map(|(name, value)| {
            (
                name.to_string_lossy().into_owned(),
                value.to_string_lossy().into_owned(),
            )
        }))
    }

    /// From `(name, value)` pairs, as if they were the environment (tests, and a
    /// process that starts another with a changed environment). An empty value is
    /// an unset one, as template.yaml's empty defaults mean.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::read(Vars::new(vars)).0
    }

    /// Every variable relinx reads, by name (a template or a document naming any
    /// other has a typo).
    pub fn variables() -> Vec<String> {
        Self::read(Vars::new([])).1
    }

    fn read(mut vars: Vars) -> (Result<Self, ConfigError>, Vec<String>) {
        let defaults = Self::default();
        let config = Self {
            tables: vars.tables(),
            aws: Aws {
                dynamodb_endpoint: vars.url("DYNAMODB_ENDPOINT"),
                sqs_endpoint: vars.url("SQS_ENDPOINT"),
                secrets_manager_endpoint: vars.url("SECRETS_MANAGER_ENDPOINT"),
                access_key_id: vars.text("AWS_ACCESS_KEY_ID"),
                region: vars
                    .text("AWS_REGION")
                    .or_else(|| vars.text("AWS_DEFAULT_REGION")),
            },
            secrets: Secrets {
                key_pepper: vars.secret(KEY_PEPPER),
                jwt_secret: vars.secret(JWT_SECRET),
            },
            api: ApiSettings {
                signup_open: vars.choice("RELINX_SIGNUP_MODE", ("open", "closed"), false),
                plan_selection: vars.choice("RELINX_PLAN_SELECTION", ("allowed", "fixed"), false),
                server_timing: vars.switch("RELINX_SERVER_TIMING"),
                public_url: vars.url("RELINX_PUBLIC_URL"),
                allow_private_targets: vars.switch("RELINX_ALLOW_PRIVATE_TARGETS"),
                links_url: vars.url("RELINX_LINKS_URL"),
                idempotency_lock: vars
                    .seconds("RELINX_IDEMPOTENCY_LOCK_SECONDS", 1..=900)
                    .unwrap_or(defaults.api.idempotency_lock),
                cors_origins: vars.origins("RELINX_CORS_ORIGINS"),
                audit_stream: vars
                    .seconds("RELINX_AUDIT_STREAM_SECONDS", 1..=900)
                    .unwrap_or(defaults.api.audit_stream),
            },
            records: RecordSettings {
                retention: vars
                    .number("RELINX_TOMBSTONE_RETENTION_DAYS", 1..=3650, "whole days")
                    .map_or(defaults.records.retention, |days| {
                        Duration::from_secs(days * 86_400)
                    }),
                feed_settle: vars
                    .number("RELINX_FEED_SETTLE_MS", 0..=600_000, "milliseconds")
                    .map_or(defaults.records.feed_settle, Duration::from_millis),
            },
            webhooks: WebhookSettings {
                delivery_queue_url: vars.text("DELIVERY_QUEUE_URL"),
                retry_schedule: vars
                    .parsed("RELINX_RETRY_SCHEDULE", parse::schedule)
                    .unwrap_or(defaults.webhooks.retry_schedule),
                disable_after: vars
                    .parsed("RELINX_WEBHOOK_DISABLE_AFTER", parse::duration)
                    .unwrap_or(defaults.webhooks.disable_after),
                delivery_retention: vars
                    .number("RELINX_DELIVERY_RETENTION_DAYS", 1..=3650, "whole days")
                    .map_or(defaults.webhooks.delivery_retention, |days| {
                        Duration::from_secs(days * 86_400)
                    }),
            },
            data: DataSettings {
                run_queue_url: vars.text("RUN_QUEUE_URL"),
                import_writes_per_second: vars
                    .number(
                        "RELINX_IMPORT_WRITES_PER_SECOND",
                        1..=1000,
                        "writes a second",
                    )
                    .unwrap_or(defaults.data.import_writes_per_second),
                run_invocation: vars
                    .seconds("RELINX_RUN_INVOCATION_SECONDS", 1..=840)
                    .unwrap_or(defaults.data.run_invocation),
                query_read_budget: vars
                    .number("RELINX_QUERY_READ_BUDGET", 1..=10_000_000, "items")
                    .unwrap_or(defaults.data.query_read_budget),
            },
            log_filter: vars
                .parsed("RUST_LOG", |raw| {
                    raw.parse::<Targets>().map_err(|e| {
                        format!(
                            "{e}; it takes levels by target, such as info or warn,relinx_ddb=debug"
                        )
                    })
                })
                .unwrap_or(defaults.log_filter),
        };
        let names = vars.names_read();
        (vars.finish().map(|()| config), names)
    }

    /// The table names, which a Lambda function cannot start without.
    pub fn require_tables(&self) -> Result<Tables, ConfigError> {
        self.tables.clone().ok_or_else(|| {
            ConfigError::new(
                "MAIN_TABLE, EVENTS_TABLE and JOBS_TABLE are not set (template.yaml sets them)",
            )
        })
    }

    /// The delivery queue, which the dispatcher cannot start without.
    pub fn require_delivery_queue(&self) -> Result<&str, ConfigError> {
        self.webhooks.delivery_queue_url.as_deref().ok_or_else(|| {
            ConfigError::new("DELIVERY_QUEUE_URL is not set (template.yaml sets it)")
        })
    }
}

/// Parses a duration as the retry ladder writes one: `5s`, `5m`, `2h`, `1d`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    parse::duration(raw)
}

/// Parses a retry ladder: comma-separated durations (`5s`, `5m`, `2h`, `1d`).
pub fn parse_schedule(raw: &str) -> Result<Vec<Duration>, String> {
    parse::schedule(raw)
}

#[cfg(test)]
mod tests;
