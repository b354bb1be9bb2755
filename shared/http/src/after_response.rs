//! Work an answer need not wait for, finished before the instance may be frozen.
//!
//! A short link's hit is written after its 302 has left: on Lambda an internal
//! extension (registered by [`run_lambda`]) keeps the execution environment from
//! being frozen until every such write has finished — the invoker has its answer as
//! soon as the handler posts it, and the environment takes its next event only when
//! the extension asks for one. Where no extension can be registered the work runs
//! inline, before the answer, so nothing is ever left to a frozen process.

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use lambda_extension::{Extension, LambdaEvent, NextEvent};
use lambda_http::RequestExt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// The instance's deferred work: how much is in flight, and which invocation's
/// answer left last.
#[derive(Clone)]
pub struct AfterResponse(Arc<Inner>);

struct Inner {
    /// Off: [`AfterResponse::run`] awaits the work itself.
    background: AtomicBool,
    pending: watch::Sender<usize>,
    /// The request id of the invocation whose handler finished last.
    answered: watch::Sender<Option<String>>,
}

/// What the extension leaves of an invocation's time limit unused, so a write that
/// cannot finish is logged rather than cut off by the timeout.
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

impl AfterResponse {
    fn with(background: bool) -> Self {
        Self(Arc::new(Inner {
            background: AtomicBool::new(background),
            pending: watch::Sender::new(0),
            answered: watch::Sender::new(None),
        }))
    }

    /// Work runs before the answer (a process that may be frozen as soon as it has
    /// answered, with nothing to hold it).
    pub fn inline() -> Self {
        Self::with(false)
    }

    /// Work runs beside and after the answer (a long-lived process: the dev server,
    /// or a Lambda with the extension registered).
    pub fn background() -> Self {
        Self::with(true)
    }

    /// Switches between the two (the platform is built before it is known which
    /// applies).
    pub fn set_background(&self, on: bool) {
        self.0.background.store(on, Ordering::Release);
    }

    /// Runs `work`: at once in the background, or here before returning.
    pub async fn run<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if !self.0.background.load(Ordering::Acquire) {
            work.await;
            return;
        }
        self.0.pending.send_modify(|n| *n += 1);
        let done = Done(self.0.clone());
        tokio::spawn(async move {
            work.await;
            drop(done);
        });
    }

    /// Returns once no work is in flight.
    pub async fn settled(&self) {
        let mut pending = self.0.pending.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = pending.wait_for(|n| *n == 0).await;
    }

    /// The extension's side of one invocation: wait (until shortly before its time
    /// limit) for the handler to have answered, then for the work it left.
    async fn hold(&self, request_id: &str, deadline_ms: u64) {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms))
            .saturating_sub(DEADLINE_MARGIN);
        let until = tokio::time::Instant::now() + left;
        let mut answered = self.0.answered.subscribe();
        let answered = answered.wait_for(|id| id.as_deref() == Some(request_id));
        if tokio::time::timeout_at(until, answered).await.is_err() {
            // The runtime never reached the handler (an event it could not read):
            // whatever is in flight is an earlier invocation's, waited for below.
            tracing::warn!(
                request_id,
                "the handler did not answer before the time limit"
            );
        }
        if tokio::time::timeout_at(until, self.settled())
            .await
            .is_err()
        {
            tracing::error!(
                request_id,
                pending = *self.0.pending.borrow(),
                "work after the answer did not finish before the time limit"
            );
        }
    }
}

/// Counts a piece of work finished however its task ends (a panic included).
struct Done(Arc<Inner>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.pending.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Notes, after the handler has answered, which invocation it was.
async fn note_answered(
    State(after): State<AfterResponse>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = request
        .extensions()
        .lambda_context_ref()
        .map(|c| c.request_id.clone());
    let response = next.run(request).await;
    if let Some(id) = request_id {
        after.0.answered.send_replace(Some(id));
    }
    response
}

/// Runs `app` as a Lambda HTTP handler whose deferred work (`after`) completes
/// within each invocation: an internal extension, registered here during init,
/// holds every invocation open until its work has finished. If the extension cannot
/// be registered (an emulator without the Extensions API), work runs inline.
pub async fn run_lambda(app: Router, after: AfterResponse) -> Result<(), lambda_http::Error> {
    let holder = after.clone();
    let extension = Extension::new()
        .with_extension_name("relinx-after-response")
        // Internal extensions receive INVOKE only.
        .with_events(&["INVOKE"])
        .with_events_processor(lambda_extension::service_fn(move |event: LambdaEvent| {
            let holder = holder.clone();
            async move {
                if let NextEvent::Invoke(invoke) = event.next {
                    holder.hold(&invoke.request_id, invoke.deadline_ms).await;
                }
                Ok::<(), lambda_extension::Error>(())
            }
        }))
        .register()
        .await;
    match extension {
        Ok(extension) => {
            after.set_background(true);
            let app = app.layer(axum::middleware::from_fn_with_state(
                after.clone(),
                note_answered,
            ));
            tokio::try_join!(lambda_http::run(app), extension.run())?;
            Ok(())
        }
        Err(err) => {
            tracing::warn!(error = %err, "no Lambda extension: deferred work runs before each answer");
            after.set_background(false);
            lambda_http::run(app).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn inline_work_is_done_on_return_and_background_work_is_waited_for() {
        let inline = AfterResponse::inline();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let sender = tx.clone();
        inline.run(async move { sender.send(1).unwrap() }).await;
        assert_eq!(rx.try_recv().ok(), Some(1));

        let background = AfterResponse::background();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        background
            .run(async move {
                let _ = released.await;
                tx.send(2).unwrap();
            })
            .await;
        assert!(rx.try_recv().is_err(), "background work does not block run");
        let settled = tokio::spawn({
            let background = background.clone();
            async move { background.settled().await }
        });
        tokio::task::yield_now().await;
        assert!(!settled.is_finished(), "settled waits for work in flight");
        release.send(()).unwrap();
        settled.await.unwrap();
        assert_eq!(rx.try_recv().ok(), Some(2));
    }

    #[tokio::test]
    async fn an_invocation_is_held_until_its_answer_and_its_work_are_done() {
        let after = AfterResponse::background();
        let far = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64 + 10_000)
            .unwrap_or_default();
        let hold = tokio::spawn({
            let after = after.clone();
            async move { after.hold("req-1", far).await }
        });
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        after
            .run(async move {
                let _ = released.await;
            })
            .await;
        after.0.answered.send_replace(Some("req-0".into()));
        tokio::task::yield_now().await;
        assert!(
            !hold.is_finished(),
            "another invocation's answer does not count"
        );
        after.0.answered.send_replace(Some("req-1".into()));
        tokio::task::yield_now().await;
        assert!(!hold.is_finished(), "answered, but its write is in flight");
        release.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), hold)
            .await
            .expect("the invocation was released")
            .unwrap();
    }

    #[tokio::test]
    async fn a_hold_ends_at_the_time_limit() {
        let after = AfterResponse::background();
        after.run(std::future::pending::<()>()).await;
        let soon = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64 + 300)
            .unwrap_or_default();
        let held = tokio::time::timeout(Duration::from_secs(5), after.hold("req-1", soon)).await;
        assert!(
            held.is_ok(),
            "never answered, never settled: released at the deadline"
        );
    }
}
