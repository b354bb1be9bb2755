//! A stand-in for the Lambda Runtime API, enough to start a real function binary,
//! hand it invocations and time its answers (TCP_NODELAY, unlike the emulator in
//! `cargo lambda watch`), with the Extensions API's INVOKE events for a function
//! that registers an internal extension: as on Lambda, an invocation ends when the
//! extension asks for the next event, and the time it held on after the answer is
//! measured.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Mutex, mpsc};

pub struct RuntimeApi {
    pub addr: String,
    events: mpsc::Sender<(String, String)>,
    responses: mpsc::Receiver<(String, String)>,
    released: mpsc::Receiver<std::time::Duration>,
    state: Arc<State>,
    /// Per invocation of a function with an extension: how long it was held open
    /// after its answer.
    pub holds: Vec<std::time::Duration>,
}

struct State {
    events: Mutex<mpsc::Receiver<(String, String)>>,
    responses: mpsc::Sender<(String, String)>,
    /// When the function first asked for work: the end of its init phase.
    first_next: std::sync::Mutex<Option<Instant>>,
    /// Whether an extension registered (then every invocation is also its event).
    extension: std::sync::atomic::AtomicBool,
    extension_events: Mutex<mpsc::Receiver<String>>,
    extension_events_tx: mpsc::Sender<String>,
    /// When the last invocation's answer arrived, until the extension releases it.
    answered_at: std::sync::Mutex<Option<Instant>>,
    /// How long after its answer each invocation was held open.
    released: mpsc::Sender<std::time::Duration>,
}

const EXTENSION_ID: &str = "bench-extension";

fn empty(status: u16) -> Response {
    hyper::Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .unwrap_or_default()
}

async fn extension_api(state: &State, path: &str) -> Response {
    if path.ends_with("/extension/register") {
        state
            .extension
            .store(true, std::sync::atomic::Ordering::Release);
        return hyper::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("lambda-extension-identifier", EXTENSION_ID)
            .body(Full::new(Bytes::from(
                r#"{"functionName":"bench","functionVersion":"$LATEST","handler":"bootstrap"}"#,
            )))
            .unwrap_or_default();
    }
    if path.ends_with("/extension/event/next") {
        // Asking for the next event ends the extension's part of the last invocation.
        let answered = state.answered_at.lock().ok().and_then(|mut at| at.take());
        if let Some(at) = answered {
            let _ = state.released.send(at.elapsed()).await;
        }
        let next = state.extension_events.lock().await.recv().await;
        return match next {
            Some(event) => hyper::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("lambda-extension-event-identifier", "bench-event")
                .body(Full::new(Bytes::from(event)))
                .unwrap_or_default(),
            None => empty(500),
        };
    }
    empty(404)
}

type Response = hyper::Response<Full<Bytes>>;

async fn handle(
    state: Arc<State>,
    request: hyper::Request<Incoming>,
) -> Result<Response, hyper::Error> {
    let path = request.uri().path().to_owned();
    if path.contains("/extension/") {
        return Ok(extension_api(&state, &path).await);
    }
    if path.ends_with("/invocation/next") {
        if let Ok(mut first) = state.first_next.lock() {
            first.get_or_insert_with(Instant::now);
        }
        let next = state.events.lock().await.recv().await;
        let Some((id, event)) = next else {
            return Ok(empty(500));
        };
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() + 30_000)
            .unwrap_or_default();
        if state.extension.load(std::sync::atomic::Ordering::Acquire) {
            let invoke = serde_json::json!({
                "eventType": "INVOKE", "deadlineMs": deadline as u64, "requestId": id,
                "invokedFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
            });
            let _ = state.extension_events_tx.send(invoke.to_string()).await;
        }
        return Ok(hyper::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0",
            )
            .body(Full::new(Bytes::from(event)))
            .unwrap_or_default());
    }
    let is_error = path.ends_with("/error");
    let id = path.split('/').rev().nth(1).unwrap_or_default().to_owned();
    let body = request.into_body().collect().await?.to_bytes();
    let mut text = String::from_utf8_lossy(&body).into_owned();
    if is_error {
        text = format!("ERROR {text}");
    }
    if let Ok(mut at) = state.answered_at.lock() {
        *at = Some(Instant::now());
    }
    let _ = state.responses.send((id, text)).await;
    Ok(empty(202))
}

impl RuntimeApi {
    pub async fn start() -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener
            .local_addr()
            .map_err(|e| e.to_string())?
            .to_string();
        let (events_tx, events_rx) = mpsc::channel(16);
        let (responses_tx, responses_rx) = mpsc::channel(16);
        let (extension_tx, extension_rx) = mpsc::channel(16);
        let (released_tx, released_rx) = mpsc::channel(16);
        let state = Arc::new(State {
            events: Mutex::new(events_rx),
            responses: responses_tx,
            first_next: std::sync::Mutex::new(None),
            extension: std::sync::atomic::AtomicBool::new(false),
            extension_events: Mutex::new(extension_rx),
            extension_events_tx: extension_tx,
            answered_at: std::sync::Mutex::new(None),
            released: released_tx,
        });
        let serving = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            events: events_tx,
            responses: responses_rx,
            released: released_rx,
            state,
            holds: Vec::new(),
        })
    }

    /// Invokes the function with `event` and returns its answer, once the
    /// invocation has ended (its extension, if any, has released it).
    pub async fn invoke(
        &mut self,
        id: &str,
        event: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        self.events
            .send((id.to_owned(), event.to_string()))
            .await
            .map_err(|_| "the runtime API stand-in stopped".to_owned())?;
        let answer =
            tokio::time::timeout(std::time::Duration::from_secs(30), self.responses.recv())
                .await
                .map_err(|_| "the function did not answer within 30 s".to_owned())?
                .ok_or("the runtime API stand-in stopped")?;
        if answer.1.starts_with("ERROR") {
            return Err(format!("the function failed: {}", answer.1));
        }
        if self
            .state
            .extension
            .load(std::sync::atomic::Ordering::Acquire)
        {
            let held =
                tokio::time::timeout(std::time::Duration::from_secs(30), self.released.recv())
                    .await
                    .map_err(|_| {
                        "the extension did not release the invocation within 30 s".to_owned()
                    })?
                    .ok_or("the runtime API stand-in stopped")?;
            self.holds.push(held);
        }
        serde_json::from_str(&answer.1)
            .map_err(|e| format!("unreadable answer {:?}: {e}", answer.1))
    }

    pub fn init_done_at(&self) -> Option<Instant> {
        self.state.first_next.lock().ok().and_then(|g| *g)
    }
}
