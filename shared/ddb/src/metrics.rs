//! DynamoDB call accounting: an interceptor on the client counts the calls a request
//! makes and the wall time it spends waiting on them (overlapping calls count once).
//! The numbers live in a task-local set up by [`measure`]; a call made outside one
//! (a background task) is not charged to any request. Nothing is allocated per call.

use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

tokio::task_local! {
    static CURRENT: Arc<CallStats>;
}

/// What one request spent on DynamoDB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallSummary {
    pub calls: u32,
    /// Of those, rate-limit leases ([`crate::ratelimit`]).
    pub leases: u32,
    /// Wall time with at least one call outstanding.
    pub waiting: Duration,
}

impl CallSummary {
    pub fn waiting_ms(&self) -> f64 {
        self.waiting.as_secs_f64() * 1000.0
    }
}

/// Counters for one request. Calls of one request may overlap (a rate-limit count
/// alongside a read), so time accrues only while at least one is outstanding.
#[derive(Debug)]
pub struct CallStats {
    origin: Instant,
    calls: AtomicU32,
    leases: AtomicU32,
    outstanding: AtomicU32,
    /// Nanoseconds after `origin` when the current busy stretch began.
    busy_since: AtomicU64,
    busy_nanos: AtomicU64,
}

impl CallStats {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            calls: AtomicU32::new(0),
            leases: AtomicU32::new(0),
            outstanding: AtomicU32::new(0),
            busy_since: AtomicU64::new(0),
            busy_nanos: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    fn started(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if self.outstanding.fetch_add(1, Ordering::AcqRel) == 0 {
            self.busy_since.store(self.now(), Ordering::Release);
        }
    }

    fn finished(&self) {
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            let since = self.busy_since.load(Ordering::Acquire);
            self.busy_nanos
                .fetch_add(self.now().saturating_sub(since), Ordering::Relaxed);
        }
    }

    pub fn summary(&self) -> CallSummary {
        CallSummary {
            calls: self.calls.load(Ordering::Relaxed),
            leases: self.leases.load(Ordering::Relaxed),
            waiting: Duration::from_nanos(self.busy_nanos.load(Ordering::Relaxed)),
        }
    }
}

/// Marks one of the current request's calls as a rate-limit lease.
pub fn note_lease() {
    let _ = CURRENT.try_with(|stats| stats.leases.fetch_add(1, Ordering::Relaxed));
}

/// Runs `future` with its own call accounting and returns what it spent.
pub async fn measure<F: Future>(future: F) -> (F::Output, CallSummary) {
    let stats = Arc::new(CallStats::new());
    let output = CURRENT.scope(stats.clone(), future).await;
    (output, stats.summary())
}

/// The interceptor every relinx DynamoDB client carries.
#[derive(Debug, Default, Clone, Copy)]
pub struct CallAccounting;

impl Intercept for CallAccounting {
    fn name(&self) -> &'static str {
        "relinx-call-accounting"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let _ = CURRENT.try_with(|stats| stats.started());
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let _ = CURRENT.try_with(|stats| stats.finished());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_calls_count_each_but_time_once() {
        let stats = CallStats::new();
        stats.started();
        stats.started();
        std::thread::sleep(Duration::from_millis(20));
        stats.finished();
        stats.finished();
        let summary = stats.summary();
        assert_eq!(summary.calls, 2);
        assert!(summary.waiting >= Duration::from_millis(20));
        assert!(
            summary.waiting < Duration::from_millis(40),
            "counted once: {summary:?}"
        );
    }
}
