//! Store operations the HTTP routes cannot reach on their own yet: workspace
//! resolution order and the read-only check every data write carries.

use relinx_ddb::tx::Tx;
use relinx_ddb::{CacheSettings, StoreError};
use relinx_identity::workspaces::{self, NewWorkspace};
use relinx_model::Context;
use relinx_model::{EventName, ResourceRef, WorkspaceId};
use relinx_testkit::{open_settings, owner_context, platform, tenant};

async fn setup() -> (relinx_ddb::Store, relinx_testkit::Tenant) {
    let platform = platform(CacheSettings::default(), open_settings()).await;
    let t = tenant(&platform).await;
    (platform.store.clone(), t)
}

async fn workspace(
    store: &relinx_ddb::Store,
    ctx: &Context,
    name: &str,
    read_only: bool,
) -> WorkspaceId {
    let new = NewWorkspace {
        name: relinx_model::Name::parse("name", name).expect("name"),
        read_only,
        config: None,
    };
    workspaces::create(store, ctx, new)
        .await
        .expect("created")
        .id
}

#[tokio::test]
async fn resolution_takes_scope_then_id_header_then_name_header_then_default() {
    let (store, t) = setup().await;
    let ctx = owner_context(&t);
    let default = WorkspaceId::parse(&t.workspace_id).expect("id");
    let blue = workspace(&store, &ctx, "blue", false).await;
    let green = workspace(&store, &ctx, "green", false).await;

    let resolve = |ctx: Context, id: Option<String>, name: Option<&'static str>| {
        let store = store.clone();
        async move { workspaces::resolve(&store, &ctx, id.as_deref(), name).await }
    };
    assert_eq!(
        resolve(ctx.clone(), None, None).await.expect("default"),
        default
    );
    assert_eq!(
        resolve(ctx.clone(), None, Some("Green"))
            .await
            .expect("by name"),
        green
    );
    assert_eq!(
        resolve(ctx.clone(), Some(blue.to_string()), Some("green"))
            .await
            .expect("id wins"),
        blue
    );

    let scoped = Context {
        workspace_scope: Some(green.clone()),
        ..ctx.clone()
    };
    // A scoped credential may name its own workspace, by id or name, and no other.
    assert_eq!(
        resolve(scoped.clone(), None, Some("Green"))
            .await
            .expect("its own, by name"),
        green
    );
    assert_eq!(
        resolve(scoped.clone(), None, None).await.expect("scope"),
        green
    );
    assert!(matches!(
        resolve(scoped.clone(), None, Some("blue")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        resolve(scoped, Some(blue.to_string()), None).await,
        Err(StoreError::NotFound(_))
    ));

    for (id, name) in [
        (Some(WorkspaceId::generate().to_string()), None),
        (Some("junk".into()), None),
        (None, Some("missing")),
    ] {
        assert!(matches!(
            resolve(ctx.clone(), id, name).await,
            Err(StoreError::NotFound("workspace"))
        ));
    }

    // Another org's workspace is as unknown as a missing one.
    let other = tenant(&*platform(CacheSettings::default(), open_settings()).await).await;
    let theirs = Some(other.workspace_id.clone());
    assert!(matches!(
        resolve(ctx, theirs, None).await,
        Err(StoreError::NotFound("workspace"))
    ));
}

#[tokio::test]
async fn a_data_write_into_a_read_only_workspace_is_refused_in_its_transaction() {
    let (store, t) = setup().await;
    let ctx = owner_context(&t);
    let frozen = workspace(&store, &ctx, "frozen", true).await;
    let open = workspace(&store, &ctx, "open", false).await;
    let before = relinx_testkit::events_of(&t.org_id).await.len();

    let write_into = |ws: WorkspaceId| {
        let store = store.clone();
        let ctx = ctx.clone();
        async move {
            let mut tx = Tx::new();
            workspaces::stage_writable(&mut tx, &store, &ctx.org_id, &ws);
            let resource = ResourceRef::new("record", "rec_test");
            tx.event(
                &store,
                &ctx,
                EventName::RecordCreated,
                Some(&ws),
                resource,
                serde_json::json!({}),
            );
            tx.commit(&store).await
        }
    };
    match write_into(frozen).await {
        Err(StoreError::Forbidden { code, .. }) => assert_eq!(code, "WORKSPACE_READ_ONLY"),
        other => panic!("expected a read-only refusal, got {other:?}"),
    }
    assert!(matches!(
        write_into(WorkspaceId::generate()).await,
        Err(StoreError::NotFound("workspace"))
    ));
    assert_eq!(
        relinx_testkit::events_of(&t.org_id).await.len(),
        before,
        "refused writes leave no event"
    );

    write_into(open)
        .await
        .expect("a writable workspace accepts the write");
    assert_eq!(relinx_testkit::events_of(&t.org_id).await.len(), before + 1);
}

#[tokio::test]
async fn a_change_without_exactly_one_event_is_refused() {
    let (store, t) = setup().await;
    let ctx = owner_context(&t);
    let ws = WorkspaceId::parse(&t.workspace_id).expect("id");
    let mut none = Tx::new();
    workspaces::stage_writable(&mut none, &store, &ctx.org_id, &ws);
    assert!(matches!(
        none.commit(&store).await,
        Err(StoreError::Internal(_))
    ));

    let mut two = Tx::new();
    for _ in 0..2 {
        two.event(
            &store,
            &ctx,
            EventName::RecordCreated,
            None,
            ResourceRef::new("record", "rec_1"),
            serde_json::json!({}),
        );
    }
    assert!(matches!(
        two.commit(&store).await,
        Err(StoreError::Internal(_))
    ));
}
