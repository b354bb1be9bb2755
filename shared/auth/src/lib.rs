//! Credentials and who is calling: API keys (`{id}.{secret}`, stored as a peppered
//! HMAC), JWTs with a pinned algorithm, argon2id passwords. Who the caller then is
//! is `relinx_model::Context`.

pub mod jwt;
pub mod keys;
pub mod password;

pub use jwt::{Claims, TokenIssuer};
pub use keys::{KeyHasher, PresentedKey, Sealer, SecretKey};

/// Why a credential was refused. Every variant is a 401 to the caller; the variants
/// exist for logs and tests, never to tell a caller which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no credentials were sent")]
    Missing,
    #[error("the credentials are malformed")]
    Malformed,
    #[error("the credentials are invalid")]
    Invalid,
    #[error("the credentials have expired")]
    Expired,
}

/// A configuration value that cannot be used (e.g. a secret too short).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
