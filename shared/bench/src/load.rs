//! A closed-loop load generator: `concurrency` workers, each on its own keep-alive
//! HTTP/1.1 connection (TCP_NODELAY), sending one request after another for a fixed
//! time. Each response's `Server-Timing` gives the server's own DynamoDB calls, time
//! in DynamoDB and total handling time.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Makes the body of request number `n` (so creates can use unique names).
pub type BodyFn = Arc<dyn Fn(u64) -> Option<String> + Send + Sync>;
/// Makes the headers of request number `n` (so a run can spread over many orgs).
pub type HeaderFn = Arc<dyn Fn(u64) -> Vec<(String, String)> + Send + Sync>;

/// The same headers on every request.
pub fn fixed(headers: Vec<(String, String)>) -> HeaderFn {
    Arc::new(move |_| headers.clone())
}

#[derive(Clone)]
pub struct Route {
    pub name: &'static str,
    pub method: http::Method,
    pub path: String,
    pub headers: HeaderFn,
    pub body: BodyFn,
    pub expect: u16,
    /// For writes that must name the state they change (a record's causal token):
    /// each worker works on its own resource and sends the `ETag` of its last answer
    /// as `If-Match`.
    pub chain: Option<Arc<Chain>>,
}

/// Per worker (by index, cycling): the path it sends to and the `If-Match` it starts with.
pub struct Chain {
    pub paths: Vec<String>,
    pub etags: Vec<String>,
}

/// One response as measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    pub latency: Duration,
    pub ok: bool,
    pub ddb_calls: u32,
    pub ddb_ms: f64,
    pub app_ms: f64,
    /// Rate-limit leases (DynamoDB calls the limiter made) for this request.
    pub leases: u32,
}

fn server_timing(value: &str) -> (u32, f64, f64, u32) {
    let mut calls = 0;
    let mut leases = 0;
    let mut ddb = 0.0;
    let mut app = 0.0;
    for metric in value.split(',') {
        let mut parts = metric.trim().split(';');
        let name = parts.next().unwrap_or_default();
        for param in parts {
            if let Some(dur) = param.strip_prefix("dur=") {
                let dur = dur.parse().unwrap_or(0.0);
                match name {
                    "ddb" => ddb = dur,
                    "app" => app = dur,
                    _ => {}
                }
            } else if let Some(desc) = param.strip_prefix("desc=\"calls=") {
                calls = desc.trim_end_matches('"').parse().unwrap_or(0);
            } else if let Some(desc) = param.strip_prefix("desc=\"leases=") {
                leases = desc.trim_end_matches('"').parse().unwrap_or(0);
            }
        }
    }
    (calls, ddb, app, leases)
}

async fn connect(
    addr: &str,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one request on `sender` and measures it.
async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: &str,
    route: &Route,
    n: u64,
    link: Option<(&str, &mut String)>,
) -> Result<Sample, String> {
    let path = link.as_ref().map_or(route.path.as_str(), |(path, _)| path);
    let mut builder = http::Request::builder()
        .method(route.method.clone())
        .uri(path)
        .header("host", addr);
    if let Some((_, etag)) = &link {
        builder = builder.header("if-match", etag.as_str());
    }
    for (name, value) in (route.headers)(n) {
        builder = builder.header(name, value);
    }
    let body = (route.body)(n);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let request = builder
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    if let (Some((_, etag)), Some(next)) = (link, response.headers().get("etag")) {
        *etag = next.to_str().unwrap_or_default().to_owned();
    }
    let timing = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .map(server_timing)
        .unwrap_or_default();
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let latency = started.elapsed();
    Ok(Sample {
        latency,
        ok: status == route.expect,
        ddb_calls: timing.0,
        ddb_ms: timing.1,
        app_ms: timing.2,
        leases: timing.3,
    })
}

/// Runs `route` with `concurrency` workers for `warmup` (discarded) then `duration`.
pub async fn run(
    addr: &str,
    route: &Route,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    counter: Arc<AtomicU64>,
) -> Result<(Vec<Sample>, Duration), String> {
    let mut workers = Vec::new();
    let begin = Instant::now();
    let measure_from = begin + warmup;
    let end = measure_from + duration;
    for worker in 0..concurrency {
        let addr = addr.to_owned();
        let route = route.clone();
        let counter = counter.clone();
        workers.push(tokio::spawn(async move {
            let mut sender = connect(&addr).await?;
            let mut samples = Vec::new();
            let mut link = route.chain.as_ref().and_then(|chain| {
                let i = worker % chain.paths.len().max(1);
                Some((chain.paths.get(i)?.clone(), chain.etags.get(i)?.clone()))
            });
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let link = link.as_mut().map(|(path, etag)| (path.as_str(), etag));
                let sample = send(&mut sender, &addr, &route, n, link).await?;
                if now >= measure_from {
                    samples.push(sample);
                }
            }
            Ok::<_, String>(samples)
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.map_err(|e| e.to_string())??);
    }
    Ok((all, duration))
}

/// `p` in 0..=100 of a sorted slice.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// One request on a fresh connection; the body as JSON (`Null` if it is not).
pub async fn once(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<String>,
) -> Result<(u16, serde_json::Value), String> {
    let content_type = body.as_ref().map(|_| "application/json");
    once_with(
        addr,
        method,
        path,
        headers,
        content_type,
        body.unwrap_or_default().into_bytes(),
    )
    .await
}

/// One request with a body of any media type (a file upload), on a fresh connection:
/// the status and the body as JSON (`Null` when it is not JSON).
pub async fn once_with(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<(u16, serde_json::Value), String> {
    let mut sender = connect(addr).await?;
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    let request = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_servers_timing_header() {
        assert_eq!(
            server_timing("ddb;dur=1.250;desc=\"calls=2\", app;dur=1.700"),
            (2, 1.25, 1.7, 0)
        );
        assert_eq!(
            server_timing("ddb;dur=0.900;desc=\"calls=2\", rl;desc=\"leases=1\", app;dur=1.000"),
            (2, 0.9, 1.0, 1)
        );
        assert_eq!(server_timing("garbage"), (0, 0.0, 0.0, 0));
    }

    #[test]
    fn percentiles_pick_ranks() {
        let v = sorted([5.0, 1.0, 3.0, 2.0, 4.0].into_iter());
        assert_eq!(percentile(&v, 50.0), 3.0);
        assert_eq!(percentile(&v, 100.0), 5.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
