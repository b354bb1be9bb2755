//! Configuration, read once at start-up from the environment (template.yaml sets it).

use crate::AfterResponse;
use relinx_auth::{KeyHasher, TokenIssuer};
use relinx_ddb::{CacheSettings, Store, Tables};
use std::sync::Arc;

/// Deployment switches.
#[derive(Debug, Clone)]
pub struct Settings {
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
    pub idempotency_lock: std::time::Duration,
    /// `RELINX_CORS_ORIGINS`: origins (`https://app.example.com`, comma-separated) a
    /// browser page may call the API from; none by default. Deployed, API Gateway
    /// answers for them (template `CorsOrigins`); the dev server does it itself.
    pub cors_origins: Vec<String>,
}

/// `RELINX_CORS_ORIGINS`: each an origin, `scheme://host[:port]`, comma-separated.
pub fn cors_origins_from_env() -> Result<Vec<String>, String> {
    let Ok(raw) = std::env::var("RELINX_CORS_ORIGINS") else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| match url::Url::parse(origin) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.path() == "/"
                    && !origin.ends_with('/') =>
            {
                Ok(origin.to_owned())
            }
            _ => Err(format!(
                "RELINX_CORS_ORIGINS: {origin:?} is not an origin such as https://app.example.com (scheme, host and port only)"
            )),
        })
        .collect()
}

/// The default of [`Settings::idempotency_lock`].
pub const IDEMPOTENCY_LOCK: std::time::Duration = std::time::Duration::from_secs(60);

/// `RELINX_IDEMPOTENCY_LOCK_SECONDS`, whole seconds from 1 to 900, else the default.
pub fn idempotency_lock_from_env() -> Result<std::time::Duration, String> {
    match std::env::var("RELINX_IDEMPOTENCY_LOCK_SECONDS") {
        Err(_) => Ok(IDEMPOTENCY_LOCK),
        Ok(raw) => match raw.trim().parse::<u64>() {
            Ok(seconds @ 1..=900) => Ok(std::time::Duration::from_secs(seconds)),
            _ => Err(format!(
                "RELINX_IDEMPOTENCY_LOCK_SECONDS must be whole seconds from 1 to 900, not {raw:?}"
            )),
        },
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, String> {
        let signup_open = match std::env::var("RELINX_SIGNUP_MODE").as_deref() {
            Ok("open") => true,
            Ok("closed") | Err(_) => false,
            Ok(other) => {
                return Err(format!(
                    "RELINX_SIGNUP_MODE must be open or closed, not {other:?}"
                ));
            }
        };
        let plan_selection = match std::env::var("RELINX_PLAN_SELECTION").as_deref() {
            Ok("allowed") => true,
            Ok("fixed") | Err(_) => false,
            Ok(other) => {
                return Err(format!(
                    "RELINX_PLAN_SELECTION must be allowed or fixed, not {other:?}"
                ));
            }
        };
        let server_timing = matches!(
            std::env::var("RELINX_SERVER_TIMING").as_deref(),
            Ok("1" | "true")
        );
        let allow_private_targets = matches!(
            std::env::var("RELINX_ALLOW_PRIVATE_TARGETS").as_deref(),
            Ok("1" | "true")
        );
        Ok(Self {
            signup_open,
            plan_selection,
            server_timing,
            allow_private_targets,
            links_url: std::env::var("RELINX_LINKS_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            public_url: std::env::var("RELINX_PUBLIC_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            idempotency_lock: idempotency_lock_from_env()?,
            cors_origins: cors_origins_from_env()?,
        })
    }
}

/// Everything a request handler can reach: built once per Lambda instance.
pub struct Platform {
    pub store: Store,
    pub tokens: TokenIssuer,
    pub settings: Settings,
    /// Work an answer need not wait for (a short link's hit); inline unless the
    /// process outlives its answers (the dev server) or holds them open (Lambda,
    /// `after_response::run_lambda`).
    pub after_response: AfterResponse,
}

/// Access tokens live an hour (seed 003's example).
pub const TOKEN_TTL_SECONDS: i64 = 3600;

impl Platform {
    pub fn new(store: Store, tokens: TokenIssuer, settings: Settings) -> Arc<Self> {
        Arc::new(Self {
            store,
            tokens,
            settings,
            after_response: AfterResponse::inline(),
        })
    }

    /// From the environment: tables, secrets, switches. Makes no network call, so a
    /// cold start costs only this parsing and the SDK's set-up.
    pub async fn from_env() -> Result<Arc<Self>, String> {
        let secret = |name: &str| {
            std::env::var(name)
                .map(String::into_bytes)
                .map_err(|_| format!("environment variable {name} is not set"))
        };
        let hasher = KeyHasher::new(&secret("RELINX_KEY_PEPPER")?).map_err(|e| e.to_string())?;
        let tokens = TokenIssuer::new(&secret("RELINX_JWT_SECRET")?, TOKEN_TTL_SECONDS)
            .map_err(|e| e.to_string())?;
        let tables = Tables::from_env()?;
        let client = Store::client_from_env().await;
        let store = Store::new(client, tables, hasher, CacheSettings::default());
        Ok(Self::new(store, tokens, Settings::from_env()?))
    }
}
