use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use relinx_ddb::{CacheSettings, Store};
use relinx_model::{Context, Event, EventName, Name, OrgId};
use relinx_testkit::{Tenant, open_settings, owner_context, platform, tenant};
use relinx_webhooks::delivery::{Deliverer, Outcome};
use relinx_webhooks::jobs::{self, JobStatus};
use relinx_webhooks::{NewWebhook, Secret, TargetPolicy, endpoints};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LOCAL: TargetPolicy = TargetPolicy {
    allow_private: true,
};

/// What a receiver got, and what it answers next (200 once the script runs out).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

async fn hook(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    receiver.got.lock().unwrap().push((headers, body));
    let code = receiver.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(code).unwrap()
}

async fn receiver(answers: &[u16]) -> (Receiver, String) {
    let receiver = Receiver::default();
    receiver.answers.lock().unwrap().extend(answers);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, url)
}

struct Setup {
    store: Store,
    tenant: Tenant,
    ctx: Context,
    org: OrgId,
}

async fn setup() -> Setup {
    let platform = platform(CacheSettings::default(), open_settings()).await;
    let tenant = tenant(&platform).await;
    let ctx = owner_context(&tenant);
    Setup {
        store: platform.store.clone(),
        org: ctx.org_id.clone(),
        ctx,
        tenant,
    }
}

/// Registers `url` for workspace events; answers the endpoint's id and secret.
async fn endpoint(s: &Setup, url: &str) -> (relinx_model::WebhookId, Secret) {
    let (webhook, secret) = endpoints::create(
        &s.store,
        &s.ctx,
        LOCAL,
        NewWebhook::new(url.into(), vec!["workspace.created".into()], None, None).unwrap(),
    )
    .await
    .unwrap();
    (webhook.id, Secret::parse(&secret).unwrap())
}

/// Makes a `workspace.created` event and answers it as the log holds it.
async fn make_event(s: &Setup, name: &str) -> Event {
    relinx_identity::workspaces::create(
        &s.store,
        &s.ctx,
        relinx_identity::workspaces::NewWorkspace {
            name: Name::parse("name", name).unwrap(),
            read_only: false,
            config: None,
        },
    )
    .await
    .unwrap();
    relinx_testkit::events_of(&s.tenant.org_id)
        .await
        .into_iter()
        .rev()
        .find(|e| e.event == EventName::WorkspaceCreated)
        .unwrap()
}

fn deliverer(policy: TargetPolicy, ladder: &str) -> Deliverer {
    Deliverer::new(policy, jobs::parse_schedule(ladder).unwrap()).unwrap()
}

#[tokio::test]
async fn a_job_is_made_once_and_delivered_signed() {
    let s = setup().await;
    let (receiver, url) = receiver(&[]).await;
    let (endpoint_id, secret) = endpoint(&s, &url).await;
    let event = make_event(&s, "delivered").await;

    let ids = jobs::fan_out(&s.store, &event).await.unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        jobs::fan_out(&s.store, &event).await.unwrap(),
        ids,
        "a redelivered batch makes nothing twice"
    );
    assert_eq!(ids[0], jobs::job_id(&event.id, &endpoint_id));

    let sender = deliverer(LOCAL, "5s");
    assert_eq!(
        sender.deliver(&s.store, &s.org, &ids[0]).await.unwrap(),
        Outcome::Delivered
    );
    assert_eq!(
        sender.deliver(&s.store, &s.org, &ids[0]).await.unwrap(),
        Outcome::NotNow
    );

    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    assert_eq!(header("webhook-id"), event.id.to_string());
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    assert_eq!(
        header("webhook-signature"),
        secret.sign(&event.id.to_string(), timestamp, body.as_bytes()),
        "verifies with the endpoint's secret"
    );
    let payload: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["id"], event.id.to_string());
    assert_eq!(payload["event"], "workspace.created");
    assert_eq!(payload["data"]["name"], "delivered");

    let job = jobs::read(&s.store, &s.org, &ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (job.status, job.attempts, job.last_status_code),
        (JobStatus::Delivered, 1, Some(200))
    );
    let attempts = relinx_webhooks::delivery::attempts(&s.store, &s.org, &endpoint_id, 10)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status_code, Some(200));
}

#[tokio::test]
async fn failures_climb_the_ladder_with_the_same_webhook_id() {
    let s = setup().await;
    let (receiver, url) = receiver(&[500, 503, 400]).await;
    let (endpoint_id, _) = endpoint(&s, &url).await;
    let event = make_event(&s, "flaky").await;
    let id = jobs::fan_out(&s.store, &event).await.unwrap().remove(0);
    let sender = deliverer(LOCAL, "0s,0s,0s,0s");
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(sender.deliver(&s.store, &s.org, &id).await.unwrap());
    }
    assert_eq!(
        outcomes,
        [
            Outcome::RetryIn(Duration::ZERO),
            Outcome::RetryIn(Duration::ZERO),
            Outcome::RetryIn(Duration::ZERO),
            Outcome::Delivered
        ]
    );
    let got = receiver.got.lock().unwrap().clone();
    let ids: Vec<String> = got
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        vec![event.id.to_string(); 4],
        "one message, four attempts"
    );
    let attempts = relinx_webhooks::delivery::attempts(&s.store, &s.org, &endpoint_id, 10)
        .await
        .unwrap();
    let codes: Vec<Option<u16>> = attempts.iter().rev().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(500), Some(503), Some(400), Some(200)]);
    let job = jobs::read(&s.store, &s.org, &id).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Delivered, 4));
}

#[tokio::test]
async fn a_job_that_exhausts_the_ladder_is_dead_until_retried() {
    let s = setup().await;
    let (receiver, url) = receiver(&[500, 500]).await;
    endpoint(&s, &url).await;
    let event = make_event(&s, "doomed").await;
    let id = jobs::fan_out(&s.store, &event).await.unwrap().remove(0);
    let sender = deliverer(LOCAL, "0s");
    assert_eq!(
        sender.deliver(&s.store, &s.org, &id).await.unwrap(),
        Outcome::RetryIn(Duration::ZERO)
    );
    // Its wake-up rides on the queue; the sweep looks only once the queue's grace
    // has passed (its message was lost).
    let within_grace = jobs::due(&s.store, relinx_model::Timestamp::now(), 100)
        .await
        .unwrap();
    assert!(!within_grace.contains(&(s.org.clone(), id.clone())));
    let grace = i64::try_from(jobs::QUEUE_GRACE.as_secs()).unwrap();
    let due = jobs::due(
        &s.store,
        relinx_model::Timestamp::now().plus_seconds(grace + 5),
        100,
    )
    .await
    .unwrap();
    assert!(
        due.contains(&(s.org.clone(), id.clone())),
        "the sweep finds it"
    );
    // The second attempt is the ladder's last.
    assert_eq!(
        sender.deliver(&s.store, &s.org, &id).await.unwrap(),
        Outcome::Dead
    );
    assert_eq!(
        sender.deliver(&s.store, &s.org, &id).await.unwrap(),
        Outcome::NotNow
    );
    let dead = jobs::read(&s.store, &s.org, &id).await.unwrap().unwrap();
    assert_eq!(dead.status, JobStatus::Dead);
    let due = jobs::due(
        &s.store,
        relinx_model::Timestamp::now().plus_seconds(3600 * 24),
        100,
    )
    .await
    .unwrap();
    assert!(
        !due.contains(&(s.org.clone(), id.clone())),
        "a dead job is not due"
    );

    let revived = jobs::retry_now(&s.store, &s.org, &id).await.unwrap();
    assert_eq!(revived.status, JobStatus::Retrying);
    assert_eq!(
        sender.deliver(&s.store, &s.org, &id).await.unwrap(),
        Outcome::Delivered
    );
    assert_eq!(receiver.got.lock().unwrap().len(), 3);
    assert!(matches!(
        jobs::retry_now(&s.store, &s.org, &id).await,
        Err(relinx_ddb::StoreError::Conflict { .. })
    ));
}

#[tokio::test]
async fn targets_are_checked_again_when_delivering() {
    let s = setup().await;
    let (receiver, url) = receiver(&[]).await;
    let (endpoint_id, _) = endpoint(&s, &url).await;
    let event = make_event(&s, "rebound").await;
    let id = jobs::fan_out(&s.store, &event).await.unwrap().remove(0);
    // A deployment that does not allow private targets refuses to connect.
    let strict = deliverer(TargetPolicy::default(), "1m");
    assert_eq!(
        strict.deliver(&s.store, &s.org, &id).await.unwrap(),
        Outcome::RetryIn(Duration::from_secs(60))
    );
    assert!(
        receiver.got.lock().unwrap().is_empty(),
        "nothing reached the receiver"
    );
    let attempts = relinx_webhooks::delivery::attempts(&s.store, &s.org, &endpoint_id, 10)
        .await
        .unwrap();
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("refused target"),
        "{attempts:?}"
    );

    // A disabled endpoint's jobs are kept as skipped.
    endpoints::update(
        &s.store,
        &s.ctx,
        LOCAL,
        &endpoint_id,
        relinx_webhooks::WebhookPatch {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let later = make_event(&s, "while-disabled").await;
    assert!(
        jobs::fan_out(&s.store, &later).await.unwrap().is_empty(),
        "a disabled endpoint subscribes to nothing"
    );
    jobs::retry_now(&s.store, &s.org, &id).await.unwrap();
    assert_eq!(
        deliverer(LOCAL, "1m")
            .deliver(&s.store, &s.org, &id)
            .await
            .unwrap(),
        Outcome::Skipped
    );
}

#[test]
fn schedules_parse_or_say_why_not() {
    assert_eq!(
        jobs::parse_schedule(jobs::DEFAULT_SCHEDULE).unwrap(),
        [5, 300, 1800, 7200, 18000, 36000, 36000].map(Duration::from_secs)
    );
    for bad in ["", "5", "5x", "s", "5s,,5m"] {
        assert!(jobs::parse_schedule(bad).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn an_invite_url_is_opened_only_into_the_delivered_request() {
    let s = setup().await;
    let (receiver, url) = receiver(&[]).await;
    endpoints::create(
        &s.store,
        &s.ctx,
        LOCAL,
        NewWebhook::new(url, vec!["user.invited".into()], None, None).unwrap(),
    )
    .await
    .unwrap();
    relinx_identity::invites::invite(
        &s.store,
        &s.ctx,
        relinx_model::Email::parse("email", "invitee@example.com").unwrap(),
        "viewer".into(),
        None,
        |token| format!("https://relinx.example/v1/invites/{token}/accept"),
    )
    .await
    .unwrap();
    let event = relinx_testkit::events_of(&s.tenant.org_id)
        .await
        .into_iter()
        .find(|e| e.event == EventName::UserInvited)
        .unwrap();
    let id = jobs::fan_out(&s.store, &event).await.unwrap().remove(0);
    let stored = relinx_testkit::dump_tables().await;
    assert!(
        !stored.contains("relinx.example/v1/invites/"),
        "no stored item holds the invite URL in the clear"
    );
    assert_eq!(
        deliverer(LOCAL, "5s")
            .deliver(&s.store, &s.org, &id)
            .await
            .unwrap(),
        Outcome::Delivered
    );
    let got = receiver.got.lock().unwrap().clone();
    let payload: serde_json::Value = serde_json::from_str(&got[0].1).unwrap();
    let invite_url = payload["data"]["invite_url"].as_str().unwrap();
    assert!(
        invite_url.starts_with("https://relinx.example/v1/invites/"),
        "{payload}"
    );
    assert!(payload["data"].get("invite_url_sealed").is_none());
}

/// The `ttl` (epoch seconds) of the jobs-table item at `sk`, if it has one.
async fn expiry_of(store: &Store, org: &OrgId, sk: String) -> Option<i64> {
    let item = store
        .read(relinx_ddb::Table::Jobs, relinx_ddb::keys::org(org), sk)
        .await
        .unwrap()
        .expect("the item");
    relinx_ddb::codec::get_n(&item, relinx_ddb::keys::TTL)
}

#[tokio::test]
async fn delivered_and_skipped_jobs_and_attempts_expire_with_the_delivery_retention() {
    let s = setup().await;
    // Moved by configuration: a deployment that keeps delivery history 2 days.
    let config = relinx_config::Config::from_vars([(
        "RELINX_DELIVERY_RETENTION_DAYS".to_owned(),
        "2".to_owned(),
    )])
    .unwrap();
    let store = Store::configured(
        s.store.client().clone(),
        s.store.tables().clone(),
        relinx_auth::KeyHasher::new(relinx_testkit::TEST_PEPPER).unwrap(),
        CacheSettings::default(),
        config,
    );
    let two_days = 2 * 86_400;
    let near = |ttl: Option<i64>| {
        let now = relinx_model::Timestamp::now().unix();
        ttl.is_some_and(|t| (now + two_days - 60..=now + two_days + 60).contains(&t))
    };
    let (_, url) = receiver(&[500]).await;
    let (endpoint_id, _) = endpoint(&s, &url).await;
    let id = jobs::fan_out(&store, &make_event(&s, "kept").await)
        .await
        .unwrap()
        .remove(0);
    let skipped_id = jobs::fan_out(&store, &make_event(&s, "skipped").await)
        .await
        .unwrap()
        .remove(0);
    let job_sk = || format!("{}{id}", relinx_ddb::keys::webhooks::JOB);

    // A failed attempt: the attempt expires, the job (still to be sent) does not.
    let once = deliverer(LOCAL, "0s,0s");
    assert_eq!(
        once.deliver(&store, &s.org, &id).await.unwrap(),
        Outcome::RetryIn(Duration::ZERO)
    );
    assert_eq!(expiry_of(&store, &s.org, job_sk()).await, None);
    let attempts = store
        .query(relinx_ddb::Table::Jobs, relinx_ddb::keys::org(&s.org))
        .begins_with(format!(
            "{}{endpoint_id}#",
            relinx_ddb::keys::webhooks::ATTEMPT
        ))
        .page_items()
        .await
        .unwrap()
        .items;
    assert_eq!(attempts.len(), 1);
    assert!(near(relinx_ddb::codec::get_n(
        &attempts[0],
        relinx_ddb::keys::TTL
    )));

    // Delivered: it goes with the retention.
    assert_eq!(
        once.deliver(&store, &s.org, &id).await.unwrap(),
        Outcome::Delivered
    );
    assert!(near(expiry_of(&store, &s.org, job_sk()).await));

    // Skipped while its endpoint is disabled: expires too; retried, it is kept
    // again until it is delivered.
    endpoints::update(
        &store,
        &s.ctx,
        LOCAL,
        &endpoint_id,
        relinx_webhooks::WebhookPatch {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let skipped_sk = || format!("{}{skipped_id}", relinx_ddb::keys::webhooks::JOB);
    assert_eq!(
        once.deliver(&store, &s.org, &skipped_id).await.unwrap(),
        Outcome::Skipped
    );
    assert!(near(expiry_of(&store, &s.org, skipped_sk()).await));
    jobs::retry_now(&store, &s.org, &skipped_id).await.unwrap();
    assert_eq!(expiry_of(&store, &s.org, skipped_sk()).await, None);
}
