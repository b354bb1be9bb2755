//! What a request handler can reach, built once per instance from the configuration
//! `main` read (`relinx_config::Config`).

use crate::AfterResponse;
use relinx_auth::{KeyHasher, TokenIssuer};
use relinx_config::{Config, ConfigError};
use relinx_ddb::{CacheSettings, Store};
use std::sync::Arc;

/// The API's switches: `relinx_config::ApiSettings`, read with the rest of the
/// configuration.
pub use relinx_config::{ApiSettings as Settings, IDEMPOTENCY_LOCK};

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

    /// From the configuration `main` read: tables, switches, and the secrets (read
    /// from SSM when the template names them: the one network call of a start).
    pub async fn from_config(config: Config) -> Result<Arc<Self>, ConfigError> {
        let tables = config.require_tables()?;
        let client = Store::client_for(&config.aws).await;
        let settings = config.api.clone();
        Self::assemble(config, client, tables, settings).await
    }

    /// The platform on `tables` through `client`, answering with `settings` (the
    /// configuration's, or the dev server's local ones).
    pub async fn assemble(
        config: Config,
        client: relinx_ddb::Client,
        tables: relinx_ddb::Tables,
        settings: Settings,
    ) -> Result<Arc<Self>, ConfigError> {
        let secrets = relinx_ddb::secrets::resolve(&config).await?;
        let hasher = KeyHasher::new(&secrets.key_pepper)
            .map_err(|e| ConfigError::new(format!("{}: {e}", relinx_config::KEY_PEPPER.0)))?;
        let tokens = TokenIssuer::new(&secrets.jwt_secret, TOKEN_TTL_SECONDS)
            .map_err(|e| ConfigError::new(format!("{}: {e}", relinx_config::JWT_SECRET.0)))?;
        let store = Store::configured(client, tables, hasher, CacheSettings::default(), config);
        Ok(Self::new(store, tokens, settings))
    }
}
