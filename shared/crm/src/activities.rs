//! Activity operations (seed 004 `activity.*.json`). An activity is an item of its
//! department's partition; for each address among its `contacts` it keeps an index
//! item (`ACTMAIL#{address}#{id}`), written in the same transaction, so a contact
//! finds the activities that name any of its addresses, whichever came first.

use crate::activity::{Activity, ActivityInput, Occurrence};
use crate::department::next_id;
use crate::department::{self, Department};
use crate::values::ActivityId;
use relinx_ddb::codec::{n, s, to_item};
use relinx_ddb::keys::crm as ck;
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::Changed;
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, EventName, EventSubject, Permission, Resource, Timestamp, ValidationError,
};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The status and type a new activity gets when none is given (the seed's).
pub const DEFAULT_STATUS: &str = "open";
pub const DEFAULT_TYPE: &str = "default";

fn activity_sk(id: ActivityId) -> String {
    format!("{}{:012}", ck::ACTIVITY, id.get())
}

fn by_address_prefix(address: &str) -> String {
    format!("{}{address}#", ck::ACTIVITY_BY_EMAIL)
}

fn by_address_sk(address: &str, id: ActivityId) -> String {
    format!("{}{:012}", by_address_prefix(address), id.get())
}

impl EventSubject for Activity {
    const KIND: &'static str = "activity";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    fn event_data(&self) -> Value {
        relinx_model::event::data_of(&self.view())
    }
}

/// Stages what a saved activity's transaction carries beside it: the department's
/// writability and the `activity.saved` event.
fn stage_saved(tx: &mut Tx, store: &Store, ctx: &Context, dept: &Department, activity: &Activity) {
    department::stage_change(tx, store, ctx, dept, EventName::ActivitySaved, activity);
}

/// Stages the index items for the addresses `after` names and `before` did not,
/// and the removal of those `before` named and `after` does not.
fn stage_addresses(
    tx: &mut Tx,
    store: &Store,
    dept: &Department,
    id: ActivityId,
    before: &[String],
    after: &[String],
) {
    let before: BTreeSet<&String> = before.iter().collect();
    let after: BTreeSet<&String> = after.iter().collect();
    for gone in before.difference(&after) {
        tx.delete(
            &store.tables().main,
            dept.partition(),
            by_address_sk(gone, id),
            None,
            OnFail::Internal,
        );
    }
    for new in after.difference(&before) {
        let mut item = relinx_ddb::codec::key(dept.partition(), by_address_sk(new, id));
        item.insert("activity".into(), n(id));
        item.insert("address".into(), s(new.as_str()));
        tx.put(&store.tables().main, item, None, OnFail::Internal);
    }
}

/// `activity.save.json`: without `id` a new activity (`dt_start` required), with
/// `id` a change of the fields present (404 for an id the department lacks).
/// Answers the activity's id.
pub async fn save(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    body: &Map<String, Value>,
) -> Result<ActivityId, StoreError> {
    dept.authorize(ctx, Permission::write(Resource::Activities))?;
    let input = ActivityInput::parse(body)?;
    match input.id {
        Some(id) => update(store, ctx, dept, id, &input).await,
        None => create(store, ctx, dept, &input).await,
    }
}

async fn create(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    input: &ActivityInput,
) -> Result<ActivityId, StoreError> {
    let start = input.dt_start.ok_or_else(|| {
        ValidationError::new(
            "dt_start",
            "is required for a new activity (e.g. 2016-01-21T19:00:00Z)",
        )
    })?;
    let now = Timestamp::now();
    let mut activity = Activity {
        id: ActivityId::UNSET,
        activity_type: DEFAULT_TYPE.into(),
        label: None,
        calendar_id: None,
        all_day: false,
        dt_created: now,
        dt_modified: now,
        dt_start: start,
        dt_end: None,
        rrule: String::new(),
        status: DEFAULT_STATUS.into(),
        author: None,
        users: None,
        contacts: None,
        subject: None,
        body: None,
    };
    activity.apply(input);
    activity.check()?;
    activity.id = ActivityId::from_counter(next_id(store, dept, "activity").await?);
    let mut tx = Tx::new();
    tx.put(
        &store.tables().main,
        to_item(&activity, dept.partition(), activity_sk(activity.id))?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    stage_addresses(
        &mut tx,
        store,
        dept,
        activity.id,
        &[],
        &activity.addresses(),
    );
    stage_saved(&mut tx, store, ctx, dept, &activity);
    tx.answer(store, &activity.id);
    tx.commit(store).await?;
    Ok(activity.id)
}

async fn update(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    id: ActivityId,
    input: &ActivityInput,
) -> Result<ActivityId, StoreError> {
    department::modify(
        store,
        dept,
        activity_sk(id),
        |mut activity: Activity, mut tx: Tx| async move {
            let before = activity.addresses();
            activity.apply(input);
            activity.check()?;
            activity.dt_modified = Timestamp::now();
            stage_addresses(&mut tx, store, dept, id, &before, &activity.addresses());
            stage_saved(&mut tx, store, ctx, dept, &activity);
            Ok(Changed::put(tx, activity, id))
        },
    )
    .await
}

/// `activity.delete.json`: removes the activity and its index items.
pub async fn delete(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    id: ActivityId,
) -> Result<(), StoreError> {
    dept.authorize(ctx, Permission::write(Resource::Activities))?;
    department::modify(
        store,
        dept,
        activity_sk(id),
        |activity: Activity, mut tx: Tx| async move {
            stage_addresses(&mut tx, store, dept, id, &activity.addresses(), &[]);
            department::stage_change(
                &mut tx,
                store,
                ctx,
                dept,
                EventName::ActivityDeleted,
                &activity,
            );
            Ok(Changed::delete(tx, ()))
        },
    )
    .await
}

/// `activity.list.json`: page `page` (from 1) of `page_size` activities, by id.
pub async fn list(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    page: u64,
    page_size: u64,
) -> Result<Vec<Activity>, StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Activities))?;
    department::page(store, dept, ck::ACTIVITY, page, page_size).await
}

async fn read(store: &Store, dept: &Department, id: ActivityId) -> Result<Activity, StoreError> {
    store
        .get(dept.partition(), activity_sk(id))
        .await?
        .ok_or(StoreError::NotFound("activity"))
}

/// `activity.occurrences.json`: the activity's occurrences starting in
/// `[from, to]` (default: from its start, for a year), at most `limit`; and whether
/// more follow.
pub async fn occurrences(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    id: ActivityId,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limit: u16,
) -> Result<(Activity, Vec<Occurrence>, bool), StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Activities))?;
    let activity = read(store, dept, id).await?;
    let from = from.unwrap_or(activity.dt_start);
    let to = to.unwrap_or_else(|| {
        Timestamp::from_unix(from.unix().saturating_add(366 * 86_400)).unwrap_or(from)
    });
    if to.unix() < from.unix() {
        return Err(ValidationError::new("to", "must not be before from").into());
    }
    let (found, more) = activity.occurrences(from, to, limit)?;
    Ok((activity, found, more))
}

/// The activities naming any of `addresses` among their contacts, by start: the
/// latest `max` saved.
pub async fn naming(
    store: &Store,
    dept: &Department,
    addresses: &[String],
    max: usize,
) -> Result<Vec<Activity>, StoreError> {
    let mut ids = BTreeSet::new();
    for address in addresses {
        // Each address's latest activities (ids grow, so the last index items).
        let index = store
            .partition_last(&dept.partition(), &by_address_prefix(address), max)
            .await?;
        ids.extend(
            index
                .iter()
                .filter_map(|item| relinx_ddb::codec::get_n(item, "activity"))
                .filter_map(|id| u64::try_from(id).ok())
                .map(ActivityId::from_counter),
        );
    }
    let keys = ids
        .into_iter()
        .rev()
        .take(max)
        .map(|id| relinx_ddb::codec::key(dept.partition(), activity_sk(id)))
        .collect();
    // Those deleted since the index was read are simply not found.
    let mut activities = store
        .get_items(keys)
        .await?
        .into_iter()
        .map(relinx_ddb::codec::from_item)
        .collect::<Result<Vec<Activity>, _>>()?;
    activities.sort_by_key(|a| (a.dt_start.unix(), a.id));
    Ok(activities)
}

/// Every activity of the department as `activity.list.json` shows it, by id,
/// handed to `visit` a page at a time as it is read, reads counted on `budget`
/// (analytics).
pub async fn walk(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    budget: &mut relinx_ddb::ReadBudget,
    visit: &mut (dyn FnMut(serde_json::Value) -> Result<(), StoreError> + Send),
) -> Result<(), StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Activities))?;
    let query = store
        .query(relinx_ddb::Table::Main, dept.partition())
        .begins_with(ck::ACTIVITY)
        .eventually_consistent();
    budget
        .walk(query, &mut |item| {
            let activity: Activity = relinx_ddb::codec::from_item(item)?;
            visit(relinx_model::event::data_of(&activity.view()))
        })
        .await
}
