//! Who is on the other end of an unauthenticated request, and throttles against
//! guessing (login, invite acceptance) keyed by it.

use crate::{ApiError, Platform};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use relinx_ddb::ratelimit;
use relinx_model::{Limits, Timestamp};
use std::net::SocketAddr;

/// The client's address: API Gateway's `sourceIp` in Lambda, the peer address on
/// the dev server's listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let source_ip = match parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
        {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
                context.http.source_ip.clone()
            }
            _ => None,
        };
        if let Some(ip) = source_ip {
            return Ok(ClientIp(ip));
        }
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return Ok(ClientIp(addr.ip().to_string()));
        }
        Ok(ClientIp("unknown".to_owned()))
    }
}

/// A named limit on guesses.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub name: &'static str,
    pub per_minute: u64,
    pub burst: u64,
}

pub const LOGIN_PER_IP: Throttle = Throttle {
    name: "login-ip",
    per_minute: 30,
    burst: 10,
};
pub const LOGIN_PER_EMAIL: Throttle = Throttle {
    name: "login-email",
    per_minute: 10,
    burst: 5,
};
/// Signups create orgs: a handful a minute per client address.
pub const SIGNUP_PER_IP: Throttle = Throttle {
    name: "signup-ip",
    per_minute: 10,
    burst: 5,
};
/// Token exchange verifies a presented key: generous for clients, hard on guessing.
pub const TOKEN_PER_IP: Throttle = Throttle {
    name: "token-ip",
    per_minute: 120,
    burst: 20,
};
pub const INVITE_ACCEPT_PER_IP: Throttle = Throttle {
    name: "invite-ip",
    per_minute: 10,
    burst: 5,
};

/// Counts one attempt in each `(throttle, subject)` bucket, concurrently; 429 with
/// `Retry-After` when any is over. A counting failure lets the attempt through.
pub async fn throttle(platform: &Platform, buckets: &[(Throttle, &str)]) -> Result<(), ApiError> {
    let now = Timestamp::now();
    let counts = buckets.iter().map(|(throttle, subject)| {
        let limits = Limits {
            smartlinks: None,
            contacts: None,
            rate_per_minute: throttle.per_minute,
            burst: throttle.burst,
        };
        let bucket = format!("{}:{}", throttle.name, subject);
        async move { ratelimit::hit_bucket(&platform.store, &bucket, &limits, now).await }
    });
    for decision in futures::future::join_all(counts).await {
        match decision {
            Ok(decision) => {
                if let Some(retry_after) = decision.retry_after {
                    let mut err = ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        relinx_model::ErrorCode::RateLimited,
                        format!("too many attempts; retry in {retry_after} s"),
                    );
                    err.retry_after = Some(retry_after);
                    return Err(err);
                }
            }
            Err(err) => tracing::warn!(error = %err, "attempt not counted"),
        }
    }
    Ok(())
}
