//! Two Store instances on one table, each with its own caches, as two Lambda
//! instances are: no change made through one is lost or undone through the other.

use relinx_ddb::codec::{key, n};
use relinx_ddb::tx::Tx;
use relinx_ddb::versioned::{self, Changed};
use relinx_ddb::{CacheSettings, Store, StoreError};
use relinx_identity::api_keys::{self, CreateKey};
use relinx_identity::orgs::{self, OrgPatch, SignupPolicy};
use relinx_identity::roles::{self, NewRole, RolePatch};
use relinx_identity::workspaces::{self, NewWorkspace};
use relinx_model::{EventName, Name, OrgId, Patch, Plan, ResourceRef, Role};
use relinx_testkit::{Tenant, open_settings, owner_context, platform, tenant};
use std::time::Duration;

const PLANS_ALLOWED: SignupPolicy = SignupPolicy {
    open: true,
    plan_selection: true,
};

/// Two instances with caches on (as deployed), and a tenant.
async fn two_instances(b_cache: CacheSettings) -> (Store, Store, Tenant) {
    let a = platform(CacheSettings::default(), open_settings()).await;
    let b = platform(b_cache, open_settings()).await;
    let t = tenant(&a).await;
    (a.store.clone(), b.store.clone(), t)
}

/// What the table holds now, past every cache.
async fn fresh(store: &Store) -> Store {
    Store::new(
        store.client().clone(),
        store.tables().clone(),
        relinx_auth::KeyHasher::new(relinx_testkit::TEST_PEPPER).expect("pepper"),
        CacheSettings::disabled(),
    )
}

#[tokio::test]
async fn a_rename_on_one_and_a_plan_change_on_the_other_both_survive() {
    let (a, b, t) = two_instances(CacheSettings::default()).await;
    let ctx = owner_context(&t);
    let org = OrgId::parse(&t.org_id).expect("org id");
    // Both instances have the org cached, as every authenticated request leaves it.
    orgs::get(&a, &org).await.expect("cached on a");
    orgs::get(&b, &org).await.expect("cached on b");

    let rename = OrgPatch {
        name: Some(Name::parse("name", "Renamed on A").expect("name")),
        ..Default::default()
    };
    orgs::update(&a, &ctx, &org, rename, PLANS_ALLOWED)
        .await
        .expect("renamed");
    let replan = OrgPatch {
        plan: Some(Plan::Enterprise),
        ..Default::default()
    };
    let seen_by_b = orgs::update(&b, &ctx, &org, replan, PLANS_ALLOWED)
        .await
        .expect("plan changed");
    assert_eq!(
        seen_by_b.name, "Renamed on A",
        "b answered from a stale copy"
    );

    let stored = orgs::get(&fresh(&a).await, &org).await.expect("org");
    assert_eq!(stored.name, "Renamed on A");
    assert_eq!(stored.plan, Plan::Enterprise);
}

#[tokio::test]
async fn a_permission_removed_on_one_is_not_restored_by_an_edit_on_the_other() {
    let (a, b, t) = two_instances(CacheSettings::default()).await;
    let ctx = owner_context(&t);
    let new = NewRole {
        name: "auditor".to_owned(),
        permissions: vec!["audit:read".to_owned(), "keys:write".to_owned()],
        description: None,
    };
    roles::create(&a, &ctx, new).await.expect("role");
    // Both instances have the org's roles cached.
    roles::list(&a, &ctx).await.expect("list on a");
    roles::list(&b, &ctx).await.expect("list on b");

    let narrow = RolePatch {
        permissions: Some(vec!["audit:read".to_owned()]),
        ..Default::default()
    };
    roles::update(&a, &ctx, "auditor", narrow)
        .await
        .expect("narrowed on a");
    let describe = RolePatch {
        description: Patch::Value("reads the audit log".to_owned()),
        ..Default::default()
    };
    let seen_by_b = roles::update(&b, &ctx, "auditor", describe)
        .await
        .expect("described on b");
    assert_eq!(seen_by_b.permissions, ["audit:read"]);

    let stored: Role = roles::get(&fresh(&a).await, &ctx, "auditor")
        .await
        .expect("role");
    assert_eq!(stored.permissions, ["audit:read"], "keys:write came back");
    assert_eq!(stored.description.as_deref(), Some("reads the audit log"));
}

#[tokio::test]
async fn a_deleted_key_is_refused_at_once_where_deleted_and_within_the_cache_ttl_elsewhere() {
    let key_ttl = Duration::from_millis(800);
    let b_cache = CacheSettings {
        key_ttl,
        ..CacheSettings::default()
    };
    let (a, b, t) = two_instances(b_cache).await;
    let ctx = owner_context(&t);
    let create = CreateKey {
        name: Name::parse("name", "doomed").expect("name"),
        role: None,
        workspace_id: None,
        expires_at: None,
    };
    let (meta, secret) = api_keys::create(&a, &ctx, create).await.expect("key");
    let presented = relinx_auth::PresentedKey::parse(secret.expose()).expect("key shape");
    api_keys::authenticate(&a, &presented)
        .await
        .expect("valid on a");
    api_keys::authenticate(&b, &presented)
        .await
        .expect("valid on b");

    api_keys::delete(&a, &ctx, &meta.id).await.expect("deleted");
    assert!(
        matches!(
            api_keys::authenticate(&a, &presented).await,
            Err(StoreError::Unauthorized(_))
        ),
        "the instance that deleted the key still accepts it"
    );
    // b trusts its copy for at most key_ttl (README: the documented staleness bound).
    tokio::time::sleep(key_ttl + Duration::from_millis(200)).await;
    assert!(
        matches!(
            api_keys::authenticate(&b, &presented).await,
            Err(StoreError::Unauthorized(_))
        ),
        "another instance accepts a deleted key past its cache TTL"
    );
}

#[tokio::test]
async fn one_workspace_name_created_concurrently_through_both_succeeds_once() {
    let (a, b, t) = two_instances(CacheSettings::default()).await;
    let ctx = owner_context(&t);
    for round in 0..5 {
        let new = |name: String| NewWorkspace {
            name: Name::parse("name", &name).expect("name"),
            read_only: false,
            config: None,
        };
        let (on_a, on_b) = tokio::join!(
            workspaces::create(&a, &ctx, new(format!("Prod-{round}"))),
            workspaces::create(&b, &ctx, new(format!("prod-{round}"))),
        );
        let outcomes = [on_a, on_b];
        let created = outcomes.iter().filter(|r| r.is_ok()).count();
        assert_eq!(created, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes.iter().any(|r| matches!(
                r,
                Err(StoreError::Conflict {
                    code: relinx_model::ErrorCode::AlreadyExists,
                    ..
                })
            )),
            "round {round}: {outcomes:?}"
        );
    }
}

/// A test item in the tenant's partition: a counter.
#[derive(serde::Serialize, serde::Deserialize)]
struct Counter {
    n: i64,
}

/// The optimistic-update helper itself: concurrent read-modify-writes through two
/// instances lose nothing. Every increment that reports success is in the total.
#[tokio::test]
async fn concurrent_read_modify_writes_through_two_instances_lose_nothing() {
    let (a, b, t) = two_instances(CacheSettings::default()).await;
    let ctx = owner_context(&t);
    let pk = relinx_ddb::keys::org(&ctx.org_id);
    let sk = "TEST#counter".to_owned();
    let mut item = key(pk.clone(), sk.clone());
    item.insert("n".into(), n(0));
    a.put(relinx_ddb::Table::Main, item)
        .apply()
        .await
        .expect("counter");

    let increment = |store: Store| {
        let (ctx, pk, sk) = (ctx.clone(), pk.clone(), sk.clone());
        async move {
            versioned::modify(
                &store,
                pk,
                sk,
                || StoreError::NotFound("counter"),
                |counter: Counter, mut tx: Tx| {
                    let (store, ctx) = (&store, &ctx);
                    async move {
                        tx.event(
                            store,
                            ctx,
                            EventName::RecordUpdated,
                            None,
                            ResourceRef::new("record", "rec_counter"),
                            serde_json::json!({}),
                        );
                        Ok(Changed::put(tx, Counter { n: counter.n + 1 }, ()))
                    }
                },
            )
            .await
        }
    };
    let attempts: Vec<_> = (0..16)
        .map(|i| increment(if i % 2 == 0 { a.clone() } else { b.clone() }))
        .collect();
    let results = futures::future::join_all(attempts).await;
    let succeeded = results.iter().filter(|r| r.is_ok()).count() as i64;
    for result in &results {
        assert!(
            matches!(
                result,
                Ok(())
                    | Err(StoreError::Conflict {
                        code: relinx_model::ErrorCode::ConcurrentChange,
                        ..
                    })
            ),
            "{result:?}"
        );
    }
    assert!(succeeded > 0);
    let stored = a
        .get::<Counter>(pk, sk)
        .await
        .expect("read")
        .expect("counter");
    assert_eq!(stored.n, succeeded, "an increment that succeeded was lost");
}
