use relinx_model::ErrorCode;
use relinx_model::{Denied, OutsideScope, ValidationError};

/// What a domain operation can fail with. Every domain crate returns it, and the HTTP
/// kit maps each variant to a status and an error code in one place.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A value in the request cannot be accepted (400, names the field).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A value in the request cannot be accepted, with a code of its own (400), e.g.
    /// `INVALID_EXPRESSION`; the message names the field and the position.
    #[error("{message}")]
    BadInput { code: ErrorCode, message: String },
    /// The request must say which state it expects, and did not (428), e.g. a
    /// record's `causal` token.
    #[error("{message}")]
    PreconditionRequired { code: ErrorCode, message: String },
    /// Well-formed but semantically wrong (422, names the field).
    #[error("{0}")]
    Unprocessable(ValidationError),
    /// The thing does not exist, or is not the caller's (404: no existence leak).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness guard or state rule refused the change (409).
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// A conflict whose answer carries the item as it now is, so the caller can merge
    /// and retry without another read (409; RelaySync's `CAUSAL_CONFLICT`).
    #[error("{message}")]
    ConflictWithCurrent {
        code: ErrorCode,
        message: String,
        current: Box<serde_json::Value>,
    },
    /// What the caller points at is past its retention (410: start over, e.g. resync
    /// from a full list).
    #[error("{message}")]
    Gone { code: ErrorCode, message: String },
    /// The request carries more than the operation takes in one go (413: the
    /// message names the limit, e.g. an upload's 10,000 rows).
    #[error("{message}")]
    TooLarge { code: ErrorCode, message: String },
    /// The caller may not do this (403).
    #[error("{message}")]
    Forbidden { code: ErrorCode, message: String },
    /// An item changed between being read and being written back: the optimistic
    /// update lost its race more often than it retries (409).
    #[error("the item changed while this request ran")]
    Stale,
    /// The credentials were refused (401).
    #[error("invalid credentials: {0}")]
    Unauthorized(#[from] relinx_auth::AuthError),
    /// Something that cannot fail in a way a caller causes did (500; details logged
    /// only).
    #[error("storage failure: {0}")]
    Internal(String),
    /// A dependency (DynamoDB, SQS, a codec) failed: what was being done, and the
    /// error itself with its chain of causes (500; logged, never shown).
    #[error("{context}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&**source))]
    Dependency {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl StoreError {
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        Self::Internal(format!("{context}: {err}"))
    }

    /// A dependency's error, kept whole (its source chain included).
    pub fn failed(
        context: impl Into<String>,
        err: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Dependency {
            context: context.into(),
            source: Box::new(err),
        }
    }

    /// A DynamoDB service error as a dependency failure.
    pub(crate) fn from_sdk(
        context: &str,
        err: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::failed(context, err)
    }
}

impl From<Denied> for StoreError {
    fn from(denied: Denied) -> Self {
        Self::Forbidden {
            code: denied.code,
            message: denied.message,
        }
    }
}

impl From<OutsideScope> for StoreError {
    fn from(_: OutsideScope) -> Self {
        Self::NotFound("workspace")
    }
}

impl<E, R> From<aws_sdk_dynamodb::error::SdkError<E, R>> for StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn from(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        Self::failed("dynamodb", err)
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use std::error::Error;

    #[test]
    fn a_dependency_failure_keeps_its_source() {
        let cause = std::io::Error::new(std::io::ErrorKind::TimedOut, "the table did not answer");
        let err = StoreError::failed("read a record", cause);
        let source = err.source().expect("the cause is kept");
        assert!(source.to_string().contains("did not answer"));
        let shown = err.to_string();
        assert!(shown.starts_with("read a record: "), "{shown}");
        assert!(shown.contains("did not answer"), "{shown}");
    }
}
