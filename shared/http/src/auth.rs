//! From the credentials a request carries to the caller's [`Context`].
//!
//! Accepted, all equivalent (API.md "Identity"): `Authorization: ApiKey <key>`,
//! `Authorization: Bearer <key or JWT>`, `X-API-Key: <key>`,
//! `X-Relenta-Department-Key: <key>`. A Bearer value of three dot-separated segments
//! is a JWT, anything else a key.

use crate::{ApiError, Platform};
use axum::http::HeaderMap;
use relinx_auth::jwt::looks_like_jwt;
use relinx_auth::{AuthError, PresentedKey};
use relinx_identity::{api_keys, logins, roles, users};
use relinx_model::{
    Actor, ActorKind, ApiKeyId, Context, OrgId, ServiceAccountId, Timestamp, UserId, WorkspaceId,
};

/// A credential as sent, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// A key, and where it came from (a refusal names it).
    Key(String, KeySource),
    Token(String),
}

/// Where a presented API key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Authorization,
    XApiKey,
    DepartmentKey,
    /// `POST /v1/auth/token`'s body.
    Body,
}

impl KeySource {
    /// The 401 for a key from here that is not (or no longer) valid.
    pub fn refusal(self) -> ApiError {
        let whence = match self {
            Self::Authorization => "the key in the Authorization header",
            Self::XApiKey => "the key in the X-API-Key header",
            Self::DepartmentKey => "the key in the X-Relenta-Department-Key header",
            Self::Body => "api_key: the key in the body",
        };
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            relinx_model::ErrorCode::Unauthorized,
            format!(
                "{whence} is not a valid API key (unknown, revoked or expired); keys look like id.secret, as created"
            ),
        )
    }
}

/// The credential in `headers`, if any. A header that is present but unusable is an
/// error, not an absence.
pub fn presented(headers: &HeaderMap) -> Result<Option<Presented>, AuthError> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::Malformed)?.trim();
        let (scheme, rest) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        let rest = rest.trim();
        return match scheme.to_ascii_lowercase().as_str() {
            "apikey" => Ok(Some(Presented::Key(
                rest.to_owned(),
                KeySource::Authorization,
            ))),
            "bearer" if looks_like_jwt(rest) => Ok(Some(Presented::Token(rest.to_owned()))),
            "bearer" => Ok(Some(Presented::Key(
                rest.to_owned(),
                KeySource::Authorization,
            ))),
            _ => Err(AuthError::Malformed),
        };
    }
    for (name, source) in [
        ("x-api-key", KeySource::XApiKey),
        ("x-relenta-department-key", KeySource::DepartmentKey),
    ] {
        if let Some(value) = headers.get(name) {
            let value = value.to_str().map_err(|_| AuthError::Malformed)?.trim();
            return Ok(Some(Presented::Key(value.to_owned(), source)));
        }
    }
    Ok(None)
}

/// The actor a token's subject names.
fn actor_of(sub: &str) -> Option<Actor> {
    if UserId::parse(sub).is_some() {
        Some(Actor {
            kind: ActorKind::User,
            id: sub.to_owned(),
        })
    } else if ServiceAccountId::parse(sub).is_some() {
        Some(Actor {
            kind: ActorKind::ServiceAccount,
            id: sub.to_owned(),
        })
    } else {
        None
    }
}

/// Verifies a credential. Every refusal is the same 401.
pub async fn verify(platform: &Platform, presented: Presented) -> Result<Context, ApiError> {
    match presented {
        Presented::Token(token) => {
            let claims = platform
                .tokens
                .verify(&token, Timestamp::now().unix())
                .map_err(|_| ApiError::unauthorized())?;
            let org_id = OrgId::parse(&claims.org).ok_or_else(ApiError::unauthorized)?;
            let actor = actor_of(&claims.sub).ok_or_else(ApiError::unauthorized)?;
            let permissions = roles::resolve(&platform.store, &org_id, &claims.role)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            let workspace_scope = match claims.ws.as_deref() {
                Some(ws) => Some(WorkspaceId::parse(ws).ok_or_else(ApiError::unauthorized)?),
                None => None,
            };
            let issued_at_ms = claims.issued_at_ms();
            Ok(Context::for_token(
                org_id,
                actor,
                claims.role,
                permissions,
                workspace_scope,
                claims.kid.as_deref().and_then(ApiKeyId::parse),
                issued_at_ms,
            ))
        }
        Presented::Key(raw, source) => {
            let key = PresentedKey::parse(&raw).map_err(|_| source.refusal())?;
            let credential = authenticate(platform, &key, source).await?;
            let permissions = roles::resolve(&platform.store, &credential.org_id, &credential.role)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            Ok(Context::for_key(
                credential.org_id.clone(),
                credential.owner.clone(),
                credential.role.clone(),
                permissions,
                credential.workspace_id.clone(),
                credential.id.clone(),
            ))
        }
    }
}

/// `{"access_token","token_type":"bearer","expires_in"}` (API.md "Identity").
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
}

fn issue(platform: &Platform, claims: &relinx_auth::Claims) -> Result<AccessToken, ApiError> {
    let token = platform.tokens.issue(claims).map_err(|e| {
        tracing::error!(error = %e, "token not signed");
        ApiError::internal()
    })?;
    Ok(AccessToken {
        access_token: token,
        token_type: "bearer".to_owned(),
        expires_in: (claims.exp - claims.iat).max(0),
    })
}

/// Exchanges an API key for a token carrying the key's role and workspace scope.
/// A presented key's credential; a key that is not valid is the 401 naming `source`.
async fn authenticate(
    platform: &Platform,
    key: &PresentedKey<'_>,
    source: KeySource,
) -> Result<std::sync::Arc<api_keys::KeyCredential>, ApiError> {
    api_keys::authenticate(&platform.store, key)
        .await
        .map_err(|err| match err {
            relinx_ddb::StoreError::Unauthorized(_) => source.refusal(),
            other => ApiError::from(other),
        })
}

pub async fn token_for_key(platform: &Platform, raw_key: &str) -> Result<AccessToken, ApiError> {
    let key = PresentedKey::parse(raw_key.trim()).map_err(|_| KeySource::Body.refusal())?;
    let credential = authenticate(platform, &key, KeySource::Body).await?;
    let mut claims = platform.tokens.claims(
        Timestamp::now().unix_millis(),
        credential.owner.id.clone(),
        credential.org_id.to_string(),
        credential.role.clone(),
    );
    claims.ws = credential.workspace_id.as_ref().map(ToString::to_string);
    claims.kid = Some(credential.id.to_string());
    // A token never outlives the key it was exchanged for.
    if let Some(expires_at) = credential.expires_at {
        claims.expire_by(expires_at.unix());
    }
    issue(platform, &claims)
}

/// Checks an e-mail and password; the same 401 whatever was wrong, in about the same
/// time whether or not the address is registered.
pub async fn token_for_login(
    platform: &Platform,
    email: &str,
    password: String,
) -> Result<AccessToken, ApiError> {
    let Ok(email) = relinx_model::Email::parse("email", email) else {
        return Err(ApiError::unauthorized_login());
    };
    let record = logins::login_record(&platform.store, &email).await?;
    let stored = record.as_ref().map(|r| r.password_hash.clone());
    // argon2 is deliberately slow: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => relinx_auth::password::verify(&password, &hash),
        None => {
            relinx_auth::password::verify_against_nothing(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    let (Some(record), true) = (record, matches) else {
        return Err(ApiError::unauthorized_login());
    };
    let user = users::get(&platform.store, &record.org_id, &record.user_id).await?;
    if user.status != relinx_model::UserStatus::Active {
        return Err(ApiError::unauthorized_login());
    }
    let now = Timestamp::now();
    logins::record_login(&platform.store, &record.org_id, &record.user_id, now).await?;
    let claims = platform.tokens.claims(
        now.unix_millis(),
        user.id.to_string(),
        record.org_id.to_string(),
        user.role.clone(),
    );
    issue(platform, &claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn all_four_headers_carry_a_key() {
        for (name, value, source) in [
            ("authorization", "ApiKey abc.def", KeySource::Authorization),
            ("authorization", "Bearer abc.def", KeySource::Authorization),
            ("x-api-key", "abc.def", KeySource::XApiKey),
            (
                "x-relenta-department-key",
                "abc.def",
                KeySource::DepartmentKey,
            ),
        ] {
            assert_eq!(
                presented(&headers(&[(name, value)])),
                Ok(Some(Presented::Key("abc.def".into(), source))),
                "{name}"
            );
        }
    }

    #[test]
    fn a_three_segment_bearer_is_a_token() {
        assert_eq!(
            presented(&headers(&[("authorization", "Bearer a.b.c")])),
            Ok(Some(Presented::Token("a.b.c".into())))
        );
    }

    #[test]
    fn unknown_schemes_are_malformed_and_absence_is_none() {
        assert_eq!(
            presented(&headers(&[("authorization", "Basic dXNlcg==")])),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            presented(&headers(&[("authorization", "ApiKey")])),
            Err(AuthError::Malformed)
        );
        assert_eq!(presented(&HeaderMap::new()), Ok(None));
    }
}
