//! The request in flight on this task: what every layer and every error may need
//! to know about it (its surface, its id), set by the outermost middleware.

use crate::Surface;

/// What every layer and every error may need to know about the request in flight.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub surface: Surface,
    pub request_id: String,
}

tokio::task_local! {
    pub(crate) static REQUEST: RequestInfo;
}

/// The request being served on this task, if any.
pub fn current_request() -> Option<RequestInfo> {
    REQUEST.try_with(Clone::clone).ok()
}
