//! relinx-ddb's typed operations against DynamoDB Local.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use relinx_ddb::codec::{get_n, key, n, s};
use relinx_ddb::tx::Cond;
use relinx_ddb::{Compare, Store, Table, Written};

async fn store() -> Store {
    relinx_testkit::platform(
        relinx_ddb::CacheSettings::disabled(),
        relinx_testkit::open_settings(),
    )
    .await
    .store
    .clone()
}

/// A partition of this test's own.
fn partition() -> String {
    format!("OPSTEST#{}", relinx_model::OrgId::generate())
}

#[tokio::test]
async fn conditional_writes_answer_whether_their_condition_held() {
    let store = store().await;
    let pk = partition();
    let mut item = key(pk.clone(), "A");
    item.insert("n".into(), n(1));
    assert!(
        store
            .put(Table::Main, item.clone())
            .if_absent()
            .apply()
            .await
            .unwrap()
    );
    assert!(
        !store
            .put(Table::Main, item)
            .if_absent()
            .apply()
            .await
            .unwrap()
    );

    let bump = || Cond::new("SET n = n + :one").value(":one", n(1));
    let refused = store
        .update(Table::Main, pk.clone(), "A", bump())
        .when(Cond::new("n = :two").value(":two", n(2)))
        .old_on_refusal()
        .send()
        .await
        .unwrap();
    let Written::Refused(Some(old)) = refused else {
        panic!("refused with the item as it was: {refused:?}");
    };
    assert_eq!(get_n(&old, "n"), Some(1));
    let applied = store
        .update(Table::Main, pk.clone(), "A", bump())
        .when(Cond::new("n = :one_").value(":one_", n(1)))
        .returning_new()
        .send()
        .await
        .unwrap();
    let Written::Applied(Some(new)) = applied else {
        panic!("applied with the item as it is: {applied:?}");
    };
    assert_eq!(get_n(&new, "n"), Some(2));
    assert!(
        !store
            .delete(Table::Main, pk.clone(), "nothing")
            .if_present()
            .apply()
            .await
            .unwrap()
    );
    assert!(
        store
            .delete(Table::Main, pk, "A")
            .if_present()
            .apply()
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_batch_past_its_call_size_lands_whole_and_queries_page_through_it() {
    let store = store().await;
    let pk = partition();
    let items = (0..130)
        .map(|i| {
            let mut item = key(pk.clone(), format!("ROW#{i:04}"));
            item.insert("even".into(), s(if i % 2 == 0 { "yes" } else { "no" }));
            item.insert("i".into(), n(i));
            item
        })
        .collect::<Vec<_>>();
    store.batch_put(Table::Main, items).await.unwrap();

    let all = store
        .query(Table::Main, pk.clone())
        .begins_with("ROW#")
        .all_items()
        .await
        .unwrap();
    assert_eq!(all.len(), 130);

    // Newest first, filtered, a page at a time, each continuing after the last.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .query(Table::Main, pk.clone())
            .between("ROW#0010", "ROW#0059")
            .filter("even", Compare::Eq, s("yes"))
            .newest_first()
            .limit(7)
            .after(after)
            .page_items()
            .await
            .unwrap();
        seen.extend(page.items.iter().filter_map(|i| get_n(i, "i")));
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    let expected: Vec<i64> = (10..60).rev().filter(|i| i % 2 == 0).collect();
    assert_eq!(seen, expected);
    let above = store
        .query(Table::Main, pk)
        .above("ROW#0127")
        .all_items()
        .await
        .unwrap();
    assert_eq!(above.len(), 2, "ROW#0128 and ROW#0129, not 0127 itself");
}
