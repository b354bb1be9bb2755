//! The local development server: every function's Router merged on one listener
//! with the production paths, tables created from template.yaml, a demo org seeded.

pub mod pipeline;

use axum::Router;
use relinx_config::{Config, SecretSource};
use relinx_ddb::{Store, Tables};
use relinx_http::{Platform, Settings};
use relinx_identity::orgs::SignupPolicy;
use relinx_identity::signup::{self, Signup};
use relinx_model::{Email, Name, Password, Plan};
use std::sync::Arc;

/// Every endpoint group's route table, merged as API Gateway routes to the separate
/// functions.
pub fn routes() -> relinx_http::Routes {
    auth_fn::routes()
        .merge(admin_fn::routes())
        .merge(records_fn::routes())
        .merge(sync_fn::routes())
        .merge(audit_fn::routes())
        .merge(webhooks_fn::routes())
        .merge(links_fn::routes())
        .merge(crm_fn::routes())
        .merge(data_fn::routes())
        .merge(insights_fn::routes())
}

/// The target rule of a platform's settings (`RELINX_ALLOW_PRIVATE_TARGETS`).
pub fn target_policy(platform: &Platform) -> relinx_webhooks::TargetPolicy {
    relinx_webhooks::TargetPolicy {
        allow_private: platform.settings.allow_private_targets,
    }
}

/// Every endpoint group's routes behind one middleware stack.
pub fn app(platform: Arc<Platform>) -> Router {
    relinx_http::serve(routes(), platform)
}

/// The links host's app (the short links), served on a port of its own.
pub fn links_app(platform: Arc<Platform>) -> Router {
    redirect_fn::app(platform)
}

/// The OpenAPI document of every route, the links host's too: what
/// `docs/openapi.json` holds.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, api) = routes().merge(redirect_fn::routes()).split_for_parts();
    relinx_http::openapi::document(api)
}

/// Settings for local runs at `url` (the API) and `links_url` (the links host):
/// signup open, plans selectable, private webhook targets allowed, `Server-Timing`
/// on; the rest (idempotency lock, CORS origins, audit stream) as `api` says.
pub fn local_settings(api: Settings, url: &str, links_url: &str) -> Settings {
    Settings {
        signup_open: true,
        plan_selection: true,
        server_timing: true,
        public_url: Some(url.to_owned()),
        allow_private_targets: true,
        links_url: Some(links_url.to_owned()),
        ..api
    }
}

/// A random secret for each the configuration does not give (two dev servers on one
/// database must be given the same pepper to accept each other's keys).
fn fill_missing_secrets(config: &mut Config) {
    use base64::Engine;
    for secret in [
        &mut config.secrets.key_pepper,
        &mut config.secrets.jwt_secret,
    ] {
        if *secret == SecretSource::Missing {
            let bytes: [u8; 32] = rand::random();
            *secret = SecretSource::Value(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(bytes)
                    .into_bytes(),
            );
        }
    }
}

/// Connects to DynamoDB (Local), creates the tables if missing, builds the platform
/// for an API at `url` and a links host at `links_url`.
pub async fn platform(
    mut config: Config,
    tables: Tables,
    url: &str,
    links_url: &str,
) -> Result<Arc<Platform>, String> {
    fill_missing_secrets(&mut config);
    let client = Store::client_for(&config.aws).await;
    relinx_ddb::schema::create_tables(&client, &tables)
        .await
        .map_err(|e| format!("cannot create tables: {e}"))?;
    let settings = local_settings(config.api.clone(), url, links_url);
    let platform = Platform::assemble(config, client, tables, settings)
        .await
        .map_err(|e| e.to_string())?;
    // The server outlives its answers, so a short link's hit is written after it
    // has answered, as on Lambda.
    platform.after_response.set_background(true);
    Ok(platform)
}

/// The demo org's credentials, as written to `.relinx/dev.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoOrg {
    pub org_id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub api_key: String,
    pub email: String,
    pub password: String,
}

/// Signs up a demo org with a fresh e-mail address and password.
pub async fn seed_demo(platform: &Platform) -> Result<DemoOrg, String> {
    let suffix: u32 = rand::random();
    let email = format!("demo+{suffix:08x}@relinx.local");
    let password = {
        use base64::Engine;
        let bytes: [u8; 12] = rand::random();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let new_org = Signup {
        organization: Name::parse("organization", "Demo Org").map_err(|e| e.to_string())?,
        email: Email::parse("email", &email).map_err(|e| e.to_string())?,
        password: Password::parse("password", password.clone()).map_err(|e| e.to_string())?,
        plan: Some(Plan::Pro),
    };
    let policy = SignupPolicy {
        open: true,
        plan_selection: true,
    };
    let done = signup::signup(&platform.store, policy, new_org, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(DemoOrg {
        org_id: done.org.id.to_string(),
        user_id: done.user.id.to_string(),
        workspace_id: done.workspace.id.to_string(),
        api_key: done.secret.expose().to_owned(),
        email,
        password,
    })
}

/// Sets the demo org's rate limit (per minute, and the same per second), as its owner.
pub async fn set_demo_rate_limit(
    platform: &Platform,
    demo: &DemoOrg,
    per_minute: u64,
) -> Result<(), String> {
    let org = relinx_model::OrgId::parse(&demo.org_id).ok_or("the demo org has no valid id")?;
    let owner = relinx_model::Actor {
        kind: relinx_model::ActorKind::User,
        id: demo.user_id.clone(),
    };
    let ctx =
        relinx_model::Context::platform_acting_for(org, owner, relinx_model::BuiltinRole::Owner);
    let limits = relinx_model::LimitsOverride {
        rate_per_minute: Some(per_minute),
        burst: Some(per_minute),
        ..Default::default()
    };
    relinx_identity::orgs::set_limits_override(&platform.store, &ctx, limits)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
