//! Every error code an answer can carry (API.md "Errors"), named once: operations
//! return them, the surfaces render them, and a code is matched by its variant,
//! never by a string.

use std::fmt;

macro_rules! error_codes {
    ($($variant:ident = $code:literal => $meaning:literal),+ $(,)?) => {
        /// An error code, as the envelopes spell it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $meaning] $variant),+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code),+
                }
            }
        }
    };
}

error_codes! {
    ValidationFailed = "VALIDATION_FAILED" => "A field is missing or wrong; the message names it.",
    InvalidJson = "INVALID_JSON" => "The body is not JSON.",
    InvalidBody = "INVALID_BODY" => "The body could not be read.",
    BodyTooLarge = "BODY_TOO_LARGE" => "The body exceeds 1 MiB.",
    PayloadTooLarge = "PAYLOAD_TOO_LARGE" => "An upload exceeds its route's limit (4 MB or 10,000 rows); the message names it (413).",
    MalformedFile = "MALFORMED_FILE" => "An uploaded CSV or JSON file cannot be read; the message names the line.",
    InvalidExpression = "INVALID_EXPRESSION" => "An expression does not parse; the message says where.",
    Unauthorized = "UNAUTHORIZED" => "No valid credential.",
    InvalidCredentials = "INVALID_CREDENTIALS" => "The e-mail or password is wrong.",
    Forbidden = "FORBIDDEN" => "The credential lacks a permission.",
    OutsideWorkspaceScope = "OUTSIDE_WORKSPACE_SCOPE" => "A workspace-scoped credential asked for another workspace.",
    RoleEscalation = "ROLE_ESCALATION" => "A role or key above the caller's own.",
    PlanLimit = "PLAN_LIMIT" => "The plan's limit is reached.",
    PlanChangeDisabled = "PLAN_CHANGE_DISABLED" => "This deployment does not let an org change its plan.",
    PlanSelectionDisabled = "PLAN_SELECTION_DISABLED" => "This deployment does not let a signup choose its plan.",
    SignupClosed = "SIGNUP_CLOSED" => "This deployment does not take signups.",
    WorkspaceReadOnly = "WORKSPACE_READ_ONLY" => "The workspace is read-only.",
    NotFound = "NOT_FOUND" => "No such resource (or not the caller's).",
    MethodNotAllowed = "METHOD_NOT_ALLOWED" => "The route does not take this method.",
    AlreadyExists = "ALREADY_EXISTS" => "A name that must be unique is taken.",
    AlreadyMember = "ALREADY_MEMBER" => "The address is a member already.",
    EmailTaken = "EMAIL_TAKEN" => "The e-mail address has an account.",
    SlugTaken = "SLUG_TAKEN" => "The short link's slug is taken.",
    FieldExists = "FIELD_EXISTS" => "A custom field has this key.",
    FieldInUse = "FIELD_IN_USE" => "Stored values would not fit the field's new rule.",
    LastOwner = "LAST_OWNER" => "The org's last owner cannot go.",
    BuiltInRole = "BUILT_IN_ROLE" => "A built-in role cannot change.",
    BuiltInSchema = "BUILT_IN_SCHEMA" => "A built-in schema (contact, record) cannot change.",
    RunFinished = "RUN_FINISHED" => "The run has finished: there is nothing left to cancel.",
    RunInProgress = "RUN_IN_PROGRESS" => "The pipeline has a run queued or running; the message names it.",
    InUse = "IN_USE" => "Something still uses it (a mapping uses a source or schema); the message names what.",
    RoleInUse = "ROLE_IN_USE" => "A role that members or keys hold.",
    DefaultWorkspace = "DEFAULT_WORKSPACE" => "The default workspace cannot go.",
    HolderChanging = "HOLDER_CHANGING" => "The key's holder is changing; try again.",
    TooManyKeys = "TOO_MANY_KEYS" => "The holder has as many keys as it may.",
    TooManyPolicies = "TOO_MANY_POLICIES" => "The org has as many policies as it may.",
    TooManyAudiences = "TOO_MANY_AUDIENCES" => "The workspace has as many audiences as it may (50).",
    TooManyRoles = "TOO_MANY_ROLES" => "The org has as many roles as it may.",
    ConcurrentChange = "CONCURRENT_CHANGE" => "The item changed while the request ran; try again.",
    CausalConflict = "CAUSAL_CONFLICT" => "The causal token is stale; the current record comes with it.",
    CausalRequired = "CAUSAL_REQUIRED" => "A change must send the record's causal token.",
    CursorExpired = "CURSOR_EXPIRED" => "The cursor is older than the retention; resync.",
    OpAlreadyApplied = "OP_ALREADY_APPLIED" => "An upload operation's op_id was applied already.",
    JobDelivered = "JOB_DELIVERED" => "The job was delivered; nothing to retry.",
    WebhookDisabled = "WEBHOOK_DISABLED" => "The endpoint is disabled.",
    IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED" => "The Idempotency-Key came with another request.",
    IdempotencyKeyInFlight = "IDEMPOTENCY_KEY_IN_FLIGHT" => "A request with this Idempotency-Key is still running.",
    RateLimited = "RATE_LIMITED" => "Too many requests; see Retry-After.",
    RequestFailed = "REQUEST_FAILED" => "The request could not be handled.",
    Internal = "INTERNAL" => "Something failed on our side; the request id finds it in the logs.",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_upper_snake_case_and_named_once() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(
                text.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{text}"
            );
            assert!(seen.insert(text), "{text} twice");
        }
    }
}
