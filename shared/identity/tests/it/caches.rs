//! Cached copies are dropped after a change commits, never before: a refused change
//! leaves the cache as it was, a committed one drops it. Observed from outside, by
//! the DynamoDB calls a read makes (0: served from the cache).

use relinx_ddb::metrics::measure;
use relinx_ddb::{CacheSettings, StoreError};
use relinx_identity::api_keys::{self, CreateKey};
use relinx_identity::roles::{self, NewRole};
use relinx_identity::workspaces::{self, NewWorkspace};
use relinx_model::Name;
use relinx_testkit::{open_settings, owner_context, platform, tenant};

fn new(name: &str) -> NewWorkspace {
    NewWorkspace {
        name: Name::parse("name", name).expect("name"),
        read_only: false,
        config: None,
    }
}

#[tokio::test]
async fn a_refused_change_keeps_the_cache_and_a_committed_one_drops_it() {
    let platform = platform(CacheSettings::default(), open_settings()).await;
    let store = &platform.store;
    let t = tenant(&platform).await;
    let ctx = owner_context(&t);
    workspaces::create(store, &ctx, new("staging"))
        .await
        .expect("created");

    let (listed, first) = measure(workspaces::list_all(store, &ctx)).await;
    assert_eq!(listed.expect("list").len(), 2);
    assert_eq!(first.calls, 1, "the first read fills the cache");
    let (_, cached) = measure(workspaces::list_all(store, &ctx)).await;
    assert_eq!(cached.calls, 0, "the second read is served from the cache");

    // A change a condition refuses: nothing committed, so nothing to forget.
    let refused = workspaces::create(store, &ctx, new("Staging")).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Conflict {
                code: relinx_model::ErrorCode::AlreadyExists,
                ..
            })
        ),
        "{refused:?}"
    );
    let (_, after_refusal) = measure(workspaces::list_all(store, &ctx)).await;
    assert_eq!(
        after_refusal.calls, 0,
        "a refused transaction dropped the cache"
    );

    // A committed change: the next read goes to the table and sees it.
    workspaces::create(store, &ctx, new("production"))
        .await
        .expect("created");
    let (listed, after_commit) = measure(workspaces::list_all(store, &ctx)).await;
    assert_eq!(after_commit.calls, 1, "a committed change left the cache");
    let names: Vec<String> = listed.expect("list").into_iter().map(|w| w.name).collect();
    assert!(names.contains(&"production".to_owned()), "{names:?}");
}

#[tokio::test]
async fn a_refused_role_delete_keeps_the_roles_cache() {
    let platform = platform(CacheSettings::default(), open_settings()).await;
    let store = &platform.store;
    let t = tenant(&platform).await;
    let ctx = owner_context(&t);
    let role = NewRole {
        name: "ops".to_owned(),
        permissions: vec!["workspaces:read".to_owned()],
        description: None,
    };
    roles::create(store, &ctx, role).await.expect("role");
    let holder = CreateKey {
        name: Name::parse("name", "ops key").expect("name"),
        role: Some("ops".to_owned()),
        workspace_id: None,
        expires_at: None,
    };
    let (key, _) = api_keys::create(store, &ctx, holder).await.expect("key");

    let (_, first) = measure(roles::list(store, &ctx)).await;
    assert_eq!(first.calls, 1, "the first read fills the cache");
    let refused = roles::delete(store, &ctx, "ops").await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Conflict {
                code: relinx_model::ErrorCode::RoleInUse,
                ..
            })
        ),
        "{refused:?}"
    );
    let (_, after_refusal) = measure(roles::list(store, &ctx)).await;
    assert_eq!(
        after_refusal.calls, 0,
        "a refused transaction dropped the cache"
    );

    // Revoking the key commits a change to the role's holder count.
    api_keys::delete(store, &ctx, &key.id)
        .await
        .expect("revoked");
    let (listed, after_commit) = measure(roles::list(store, &ctx)).await;
    assert_eq!(after_commit.calls, 1, "a committed change left the cache");
    let ops = listed
        .expect("roles")
        .into_iter()
        .find(|r| r.name == "ops")
        .expect("ops");
    assert_eq!(ops.in_use, Some(0));
}
