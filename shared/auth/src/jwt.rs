//! Bearer tokens: HS256 only (the algorithm is pinned; `none` and algorithm
//! switching are refused), with `exp`, `iat`, `iss` and `aud` checked.

use crate::{AuthError, ConfigError};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const ISSUER: &str = "relinx";
pub const AUDIENCE: &str = "relinx-api";
/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The actor: `usr_…` or `sa_…`.
    pub sub: String,
    pub org: String,
    pub role: String,
    /// The workspace the token is confined to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws: Option<String>,
    /// The API key the token was exchanged for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    /// `iat` to the millisecond: a revocation in the same second as an issue must
    /// still tell before from after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
    pub exp: i64,
}

impl Claims {
    /// When the token was issued, in epoch milliseconds.
    pub fn issued_at_ms(&self) -> i64 {
        self.iat_ms.unwrap_or(self.iat.saturating_mul(1000))
    }

    /// Makes the token expire no later than `at` (epoch seconds), e.g. its key's expiry.
    pub fn expire_by(&mut self, at: i64) {
        self.exp = self.exp.min(at);
    }
}

/// Issues and verifies tokens with one secret.
#[derive(Clone)]
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl TokenIssuer {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Result<Self, ConfigError> {
        if secret.len() < 32 {
            return Err(ConfigError(
                "the JWT secret must be at least 32 bytes".to_owned(),
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        })
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    /// Claims for a token issued at `now_ms` (epoch milliseconds); the caller fills
    /// in who it is for.
    pub fn claims(&self, now_ms: i64, sub: String, org: String, role: String) -> Claims {
        let now_unix = now_ms.div_euclid(1000);
        Claims {
            sub,
            org,
            role,
            ws: None,
            kid: None,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now_unix,
            iat_ms: Some(now_ms),
            exp: now_unix + self.ttl_seconds,
        }
    }

    pub fn issue(&self, claims: &Claims) -> Result<String, ConfigError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ConfigError(format!("cannot sign a token: {e}")))
    }

    pub fn verify(&self, token: &str, now_unix: i64) -> Result<Claims, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Json(_)
                | ErrorKind::Utf8(_) => AuthError::Malformed,
                _ => AuthError::Invalid,
            })?;
        if data.claims.iat > now_unix + LEEWAY_SECONDS as i64 {
            return Err(AuthError::Invalid);
        }
        Ok(data.claims)
    }
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenIssuer(***)")
    }
}

/// A bearer value with three dot-separated segments is a JWT, otherwise a key (API.md).
pub fn looks_like_jwt(value: &str) -> bool {
    value.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const NOW: i64 = 1_800_000_000;

    fn issuer(secret: &[u8]) -> TokenIssuer {
        TokenIssuer::new(secret, 3600).expect("secret long enough")
    }

    fn claims(issuer: &TokenIssuer, now: i64) -> Claims {
        issuer.claims(now * 1000, "usr_x".into(), "org_x".into(), "admin".into())
    }

    #[test]
    fn issued_tokens_verify() {
        let issuer = issuer(&[1; 32]);
        let token = issuer.issue(&claims(&issuer, NOW)).expect("signs");
        assert!(looks_like_jwt(&token));
        assert_eq!(
            issuer.verify(&token, NOW).map(|c| c.role),
            Ok("admin".into())
        );
    }

    #[test]
    fn another_secret_is_refused() {
        let a = issuer(&[1; 32]);
        let b = issuer(&[2; 32]);
        let token = a.issue(&claims(&a, NOW)).expect("signs");
        assert_eq!(b.verify(&token, NOW), Err(AuthError::Invalid));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let issuer = issuer(&[1; 32]);
        // `verify` checks `exp` against the real clock, so issue one long past.
        let past = time_now() - 10_000;
        let token = issuer.issue(&claims(&issuer, past)).expect("signs");
        assert_eq!(issuer.verify(&token, time_now()), Err(AuthError::Expired));
    }

    #[test]
    fn alg_none_is_refused() {
        let issuer = issuer(&[1; 32]);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims(&issuer, time_now())).expect("serialises"));
        let token = format!("{header}.{body}.");
        assert!(issuer.verify(&token, time_now()).is_err());
    }

    #[test]
    fn wrong_audience_or_issuer_is_refused() {
        let issuer = issuer(&[1; 32]);
        let mut c = claims(&issuer, time_now());
        c.aud = "someone-else".into();
        let token = issuer.issue(&c).expect("signs");
        assert!(issuer.verify(&token, time_now()).is_err());
        let mut c = claims(&issuer, time_now());
        c.iss = "mallory".into();
        let token = issuer.issue(&c).expect("signs");
        assert!(issuer.verify(&token, time_now()).is_err());
    }

    #[test]
    fn tokens_issued_in_the_future_are_refused() {
        let issuer = issuer(&[1; 32]);
        let token = issuer
            .issue(&claims(&issuer, time_now() + 600))
            .expect("signs");
        assert_eq!(issuer.verify(&token, time_now()), Err(AuthError::Invalid));
    }

    fn time_now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}
