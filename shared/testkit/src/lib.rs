//! Test support: tables on DynamoDB Local (never a mock), an in-process app driven
//! with tower's `oneshot`, a signed-up tenant per test, log capture.
//!
//! Tests need `DYNAMODB_ENDPOINT`; `scripts/test` starts DynamoDB Local and sets it.

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use relinx_auth::{KeyHasher, TokenIssuer};
use relinx_ddb::{CacheSettings, Store, Tables};
use relinx_http::{Platform, Settings};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use tower::ServiceExt;

/// Test-only secrets: never used outside tests.
pub const TEST_PEPPER: &[u8] = b"test-pepper-test-pepper-test-pepper!!";
pub const TEST_JWT_SECRET: &[u8] = b"test-jwt-secret-test-jwt-secret-test!!";

static TABLES: OnceCell<Tables> = OnceCell::const_new();

pub fn dynamodb_endpoint() -> String {
    std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        panic!("DYNAMODB_ENDPOINT is not set: run the tests with scripts/test, which starts DynamoDB Local")
    })
}

/// The tables this test process uses, created on first use. Tests share them and
/// isolate themselves by org; `RELINX_TEST_PREFIX` lets a whole run share one set.
pub async fn tables() -> Tables {
    TABLES
        .get_or_init(|| async {
            let prefix = std::env::var("RELINX_TEST_PREFIX")
                .unwrap_or_else(|_| format!("t{}{}", std::process::id(), rand::random::<u32>()));
            let tables = Tables::with_prefix(&prefix);
            let client = client().await;
            if let Err(err) = relinx_ddb::schema::create_tables(&client, &tables).await {
                panic!(
                    "cannot create test tables on {}: {err}",
                    dynamodb_endpoint()
                );
            }
            tables
        })
        .await
        .clone()
}

/// A client for DynamoDB Local. Each test runtime needs its own.
pub async fn client() -> relinx_ddb::Client {
    dynamodb_endpoint();
    let config = relinx_config::Config::from_env().unwrap_or_else(|e| panic!("{e}"));
    Store::client_for(&config.aws).await
}

pub fn open_settings() -> Settings {
    Settings {
        signup_open: true,
        plan_selection: true,
        server_timing: true,
        public_url: None,
        allow_private_targets: false,
        links_url: None,
        ..Settings::default()
    }
}

/// A platform instance as one Lambda instance would have it.
pub async fn platform(cache: CacheSettings, settings: Settings) -> Arc<Platform> {
    let store = Store::new(
        client().await,
        tables().await,
        KeyHasher::new(TEST_PEPPER).unwrap_or_else(|e| panic!("{e}")),
        cache,
    );
    let tokens = TokenIssuer::new(TEST_JWT_SECRET, relinx_http::settings::TOKEN_TTL_SECONDS)
        .unwrap_or_else(|e| panic!("{e}"));
    let platform = Platform::new(store, tokens, settings);
    // As the dev server and a Lambda with its extension run: work after the answer
    // (`TestApp::settled` waits for it).
    platform.after_response.set_background(true);
    platform
}

/// An app under test: a Router served in-process.
#[derive(Clone)]
pub struct TestApp {
    pub platform: Arc<Platform>,
    pub router: Router,
    /// The client address this app's requests come from (its own, so throttles
    /// keyed by address do not couple tests).
    pub peer: std::net::SocketAddr,
}

/// A tenant created through the real signup route.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub org_id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub api_key: String,
    pub email: String,
    pub password: String,
}

impl Tenant {
    pub fn key_header(&self) -> (&'static str, String) {
        ("authorization", format!("ApiKey {}", self.api_key))
    }
}

#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl TestResponse {
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, after checking the status (the body is in the panic).
    pub fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        self.json()
    }
}

/// A tenant's session with a test app: every request carries the tenant's key (and
/// any header added), so a test reads like what a client does.
pub struct TenantClient<'a> {
    app: &'a TestApp,
    headers: Vec<(&'static str, String)>,
}

impl TenantClient<'_> {
    /// Every request from now on also carries `name: value` (`X-Workspace`, …).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.app.get(path, &self.headers).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.app.post(path, &self.headers, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> TestResponse {
        self.app
            .call(Method::PUT, path, &self.headers, Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> TestResponse {
        self.app
            .call(Method::PATCH, path, &self.headers, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.app
            .call(Method::DELETE, path, &self.headers, None)
            .await
    }

    /// POSTs `body` as it is, with `content_type` (a file upload), and any `extra`
    /// headers.
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<Body>,
        extra: &[(&str, String)],
    ) -> TestResponse {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", content_type);
        for (name, value) in self
            .headers
            .iter()
            .map(|(n, v)| (*n, v))
            .chain(extra.iter().map(|(n, v)| (*n, v)))
        {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(body.into())
            .unwrap_or_else(|e| panic!("bad test request: {e}"));
        self.app.raw(request).await
    }
}

impl TestApp {
    /// `make_app` is the function's own `app` (or the dev server's merged one).
    pub async fn new(make_app: fn(Arc<Platform>) -> Router) -> Self {
        Self::with(make_app, CacheSettings::default(), open_settings()).await
    }

    pub async fn with(
        make_app: fn(Arc<Platform>) -> Router,
        cache: CacheSettings,
        settings: Settings,
    ) -> Self {
        let platform = platform(cache, settings).await;
        let peer = std::net::SocketAddr::from((
            [127, rand::random(), rand::random(), rand::random()],
            40000,
        ));
        Self {
            router: make_app(platform.clone()),
            platform,
            peer,
        }
    }

    /// Another app on the same platform (store, caches, settings): a second host of
    /// one deployment, e.g. the links host beside the API.
    pub fn beside(&self, make_app: fn(Arc<Platform>) -> Router) -> Self {
        Self {
            router: make_app(self.platform.clone()),
            platform: self.platform.clone(),
            peer: self.peer,
        }
    }

    pub async fn raw(&self, mut request: Request<Body>) -> TestResponse {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Sends a request; `body` is sent as JSON when present.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let body = match body {
            Some(json) => {
                builder = builder.header("content-type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let request = builder
            .body(body)
            .unwrap_or_else(|e| panic!("bad test request: {e}"));
        self.raw(request).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, String)]) -> TestResponse {
        self.call(Method::GET, path, headers, None).await
    }

    pub async fn post(&self, path: &str, headers: &[(&str, String)], body: Value) -> TestResponse {
        self.call(Method::POST, path, headers, Some(body)).await
    }

    /// Requests as `tenant` (its owner key).
    pub fn as_tenant(&self, tenant: &Tenant) -> TenantClient<'_> {
        TenantClient {
            app: self,
            headers: vec![tenant.key_header()],
        }
    }

    /// A fresh org (owner, default workspace, owner key) made by the signup operation
    /// itself, so any function's tests can have a tenant.
    pub async fn tenant(&self) -> Tenant {
        tenant(&self.platform).await
    }
}

/// A fresh org on `platform`'s tables.
pub async fn tenant(platform: &Platform) -> Tenant {
    use relinx_identity::orgs::SignupPolicy;
    use relinx_identity::signup::Signup;
    use relinx_model::{Email, Name, Password, Plan};
    let email = format!("owner-{}@example.com", ulid_like());
    let password = format!("pw-{}-long-enough", ulid_like());
    let signup = Signup {
        organization: Name::parse("organization", "Test Org").unwrap_or_else(|e| panic!("{e}")),
        email: Email::parse("email", &email).unwrap_or_else(|e| panic!("{e}")),
        password: Password::parse("password", password.clone()).unwrap_or_else(|e| panic!("{e}")),
        plan: Some(Plan::Pro),
    };
    let policy = SignupPolicy {
        open: true,
        plan_selection: true,
    };
    let done = relinx_identity::signup::signup(&platform.store, policy, signup, None)
        .await
        .unwrap_or_else(|e| panic!("signup failed: {e}"));
    Tenant {
        org_id: done.org.id.to_string(),
        workspace_id: done.workspace.id.to_string(),
        user_id: done.user.id.to_string(),
        api_key: done.secret.expose().to_owned(),
        email,
        password,
    }
}

/// The domain context of a tenant's owner, for calling store operations directly.
pub fn owner_context(tenant: &Tenant) -> relinx_model::Context {
    relinx_model::Context::platform_acting_for(
        relinx_model::OrgId::parse(&tenant.org_id).unwrap_or_else(|| panic!("bad org id")),
        relinx_model::Actor {
            kind: relinx_model::ActorKind::User,
            id: tenant.user_id.clone(),
        },
        relinx_model::BuiltinRole::Owner,
    )
}

/// Sends one request to a real listener (the dev server) over HTTP with reqwest;
/// `body` is sent as JSON when present.
pub async fn http_call(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> TestResponse {
    let method = Method::from_bytes(method.as_bytes())
        .unwrap_or_else(|e| panic!("bad test method {method}: {e}"));
    let mut request = reqwest::Client::new().request(method, format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    if let Some(json) = body {
        request = request.json(&json);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{addr}{path}: {e}"));
    let status = response.status();
    let headers = response.headers().clone();
    let text = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("{addr}{path}: body: {e}"));
    TestResponse {
        status,
        headers,
        text,
    }
}

fn ulid_like() -> String {
    format!(
        "{:016x}{:08x}",
        rand::random::<u64>(),
        rand::random::<u32>()
    )
}

/// Every item of the three tables, as text: for checking that no secret is stored.
/// (A Scan, which is fine in a test and never on a request path.)
pub async fn dump_tables() -> String {
    relinx_ddb::schema::dump_tables(&client().await, &tables().await)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The org's events, oldest first, read straight from the event table.
pub async fn events_of(org_id: &str) -> Vec<relinx_model::Event> {
    let platform = platform(CacheSettings::disabled(), open_settings()).await;
    let org =
        relinx_model::OrgId::parse(org_id).unwrap_or_else(|| panic!("not an org id: {org_id}"));
    let mut events = relinx_ddb::events::recent(&platform.store, &org, 1000)
        .await
        .unwrap_or_else(|e| panic!("read events: {e}"));
    events.reverse();
    events
}

/// Log lines captured from the platform's own subscriber.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut inner) = self.0.lock() {
            inner.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Captures this thread's logs (the platform's own at debug) until the guard drops.
pub fn capture_logs() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
    let logs = CapturedLogs::default();
    let subscriber = relinx_http::telemetry::subscriber(
        logs.clone(),
        "info,relinx_ddb=debug,relinx_identity=debug,relinx_http=debug,relinx_auth=debug,relinx_records=debug"
            .parse()
            .unwrap_or_else(|e| panic!("log filter: {e}")),
    );
    let guard = tracing::subscriber::set_default(subscriber);
    (logs, guard)
}

/// Every HTTP route template.yaml deploys, as `(method, path)`: the route table the
/// platform promises, for tests that must cover all of it.
pub fn template_routes() -> Vec<(String, String)> {
    let doc: serde_yaml::Value = serde_yaml::from_str(relinx_ddb::schema::TEMPLATE)
        .unwrap_or_else(|e| panic!("template.yaml: {e}"));
    let mut routes = Vec::new();
    let resources = doc
        .get("Resources")
        .and_then(|r| r.as_mapping())
        .cloned()
        .unwrap_or_default();
    for (_, resource) in resources {
        // Routes a Function URL serves (the audit stream), declared in Metadata.
        let declared = resource
            .get("Metadata")
            .and_then(|m| m.get("RelinxRoutes"))
            .and_then(|r| r.as_sequence())
            .cloned()
            .unwrap_or_default();
        for route in declared.iter().filter_map(|r| r.as_str()) {
            if let Some((method, path)) = route.split_once(' ') {
                routes.push((method.to_owned(), path.to_owned()));
            }
        }
        let events = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(|e| e.as_mapping())
            .cloned();
        for (_, event) in events.unwrap_or_default() {
            if event.get("Type").and_then(|t| t.as_str()) != Some("HttpApi") {
                continue;
            }
            let props = event.get("Properties");
            let method = props
                .and_then(|p| p.get("Method"))
                .and_then(|m| m.as_str())
                .unwrap_or_default();
            let path = props
                .and_then(|p| p.get("Path"))
                .and_then(|m| m.as_str())
                .unwrap_or_default();
            routes.push((method.to_owned(), path.to_owned()));
        }
    }
    routes
}
