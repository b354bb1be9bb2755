//! Reading a URL a user gave (an `http` source), under the rules webhook deliveries
//! obey: the URL checked (scheme, literal and resolved addresses), connections only
//! where the rules allow, no redirect, a timeout, and at most `max_bytes` read.

use crate::delivery::guarded_client;
use crate::target::{self, TargetPolicy};
use relinx_ddb::StoreError;
use std::time::Duration;

/// How long one fetch may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What a URL answered.
pub struct Fetched {
    /// The media type, without parameters, lower-cased (empty when none).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why a fetch failed, for a person to act on.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Refused(StoreError),
    #[error("the URL could not be read: {0}")]
    Failed(String),
    #[error("the URL answered HTTP {0}")]
    Status(u16),
    #[error("the URL answered more than {0} bytes")]
    TooLarge(usize),
}

/// GETs `url` with `headers`.
pub async fn get(
    policy: TargetPolicy,
    url: &str,
    headers: &[(String, String)],
    max_bytes: usize,
) -> Result<Fetched, FetchError> {
    let url = target::check(policy, url)
        .await
        .map_err(FetchError::Refused)?;
    let client =
        guarded_client(policy, TIMEOUT, "relinx-datalinx/1").map_err(FetchError::Failed)?;
    let mut request = client.get(&url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| FetchError::Failed(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::Failed(e.without_url().to_string()))?
    {
        if bytes.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        content_type,
        bytes,
    })
}
