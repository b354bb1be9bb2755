//! Contact operations (seed 004 `contact.*.json`). A contact is an item of its
//! department's partition under an integer id from the department's counter; the
//! org's contacts are counted on one item of the org in the same transaction as
//! each create and delete, and the plan's limit is that count's condition.

use crate::activity::Activity;
use crate::contact::{Contact, ContactInput};
use crate::department::next_id;
use crate::department::{self, Department};
use crate::fields::{self, Schema};
use crate::values::ContactId;
use relinx_ddb::codec::{n, to_item};
use relinx_ddb::keys::{self, crm as ck};
use relinx_ddb::tx::{Cond, OnFail, Tx, UpdateSpec};
use relinx_ddb::versioned::Changed;
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, EventName, EventSubject, Permission, Resource, Timestamp, ValidationError,
};
use serde_json::{Map, Value};

/// How often a save is tried again when the custom field definitions changed
/// under it.
const SCHEMA_RETRIES: usize = 3;
/// Activities shown with a contact (the latest by start).
pub const MAX_SHOWN_ACTIVITIES: usize = 100;

pub(crate) fn contact_sk(id: ContactId) -> String {
    format!("{}{:012}", ck::CONTACT, id.get())
}

impl EventSubject for Contact {
    const KIND: &'static str = "contact";
    fn subject_id(&self) -> String {
        self.id.to_string()
    }
    /// The contact as it shows (a JSON object: key order is not kept, so the
    /// definitions' order is not needed).
    fn event_data(&self) -> Value {
        relinx_model::event::data_of(&self.view(&Schema::default()))
    }
}

/// How many of a contact's addresses (the first, in order) are indexed: a change
/// replacing them all stays far inside a transaction's 100 items.
const INDEXED_ADDRESSES: usize = 20;

/// The partition listing the contacts that hold `address` (lower-cased).
fn by_email_pk(dept: &Department, address: &str) -> String {
    format!(
        "{}{}#{}#{address}",
        ck::CONTACT_BY_EMAIL,
        dept.org,
        dept.workspace
    )
}

/// Keeps the address index in step with a contact's change: `before` is the
/// contact as stored (none for a new one), `after` as it will be (none when deleted).
fn stage_email_index(
    tx: &mut Tx,
    store: &Store,
    dept: &Department,
    id: ContactId,
    before: Option<&Contact>,
    after: Option<&Contact>,
) {
    let indexed = |contact: Option<&Contact>| -> std::collections::BTreeSet<String> {
        let all: std::collections::BTreeSet<String> = contact
            .map(Contact::addresses)
            .unwrap_or_default()
            .into_iter()
            .collect();
        all.into_iter().take(INDEXED_ADDRESSES).collect()
    };
    let (old, new) = (indexed(before), indexed(after));
    let main = &store.tables().main;
    for gone in old.difference(&new) {
        tx.delete(
            main,
            by_email_pk(dept, gone),
            contact_sk(id),
            None,
            OnFail::Internal,
        );
    }
    for added in new.difference(&old) {
        tx.put(
            main,
            relinx_ddb::codec::key(by_email_pk(dept, added), contact_sk(id)),
            None,
            OnFail::Internal,
        );
    }
}

/// The contacts of the department holding `address`, by id.
pub async fn holding(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    address: &str,
) -> Result<Vec<ContactId>, StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Contacts))?;
    let address = address.trim().to_lowercase();
    let items = store
        .query(relinx_ddb::Table::Main, by_email_pk(dept, &address))
        .begins_with(ck::CONTACT)
        .limit(10)
        .page_items()
        .await?
        .items;
    Ok(items
        .iter()
        .filter_map(|item| relinx_ddb::codec::get_s(item, relinx_ddb::keys::SK))
        .filter_map(|sk| sk.strip_prefix(ck::CONTACT)?.parse::<u64>().ok())
        .map(ContactId::from_counter)
        .collect())
}

/// What saving `body` by its e-mail addresses (an import's upsert) would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// No contact holds any of its addresses.
    New,
    /// One contact holds them, and the save would change it.
    Changes(ContactId),
    /// One contact holds them, and already holds every value given.
    Same(ContactId),
    /// The addresses belong to more than one contact: which one is meant is unknown.
    Ambiguous(Vec<ContactId>),
}

/// Finds the contact `body`'s addresses (`emails`) belong to, and whether saving
/// `body` onto it would change it. Only reads.
pub async fn match_by_email(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    body: &Map<String, Value>,
) -> Result<Match, StoreError> {
    let (schema, _) = fields::read(store, dept).await?;
    let input = ContactInput::parse(body, &schema)?;
    let mut probe = Contact {
        id: ContactId::from_counter(1),
        dt_created: Timestamp::now(),
        dt_modified: Timestamp::now(),
        fields: Default::default(),
        do_not_mass_email: false,
        custom: Default::default(),
    };
    probe.apply(&input);
    let mut found = std::collections::BTreeSet::new();
    for address in probe.addresses() {
        found.extend(
            holding(store, ctx, dept, &address)
                .await?
                .into_iter()
                .map(ContactId::get),
        );
    }
    let ids: Vec<ContactId> = found.into_iter().map(ContactId::from_counter).collect();
    match ids.as_slice() {
        [] => Ok(Match::New),
        [id] => {
            let Some(current) = store
                .get::<Contact>(dept.partition(), contact_sk(*id))
                .await?
            else {
                // The index names a contact deleted since: as good as none.
                return Ok(Match::New);
            };
            let mut changed = current.clone();
            changed.apply(&input);
            // Addresses compare without case (as the index does).
            let others = |c: &Contact| {
                let mut fields = c.fields.clone();
                fields.remove("emails");
                fields
            };
            let same = changed.addresses() == current.addresses()
                && others(&changed) == others(&current)
                && changed.custom == current.custom
                && changed.do_not_mass_email == current.do_not_mass_email;
            Ok(if same {
                Match::Same(*id)
            } else {
                Match::Changes(*id)
            })
        }
        _ => Ok(Match::Ambiguous(ids)),
    }
}

fn plan_limit_reached() -> StoreError {
    StoreError::forbidden(relinx_model::ErrorCode::PlanLimit, String::new())
}

/// Stages one more (or one fewer) contact on the org's count; one more only while
/// the count is below `limit`.
fn stage_count(tx: &mut Tx, store: &Store, ctx: &Context, delta: i64, limit: Option<u64>) {
    let condition = match (delta > 0, limit) {
        (true, Some(limit)) => Some(
            Cond::new("attribute_not_exists(contacts) OR contacts < :limit")
                .value(":limit", n(limit)),
        ),
        _ => None,
    };
    tx.update(
        &store.tables().main,
        UpdateSpec {
            pk: keys::org(&ctx.org_id),
            sk: ck::CONTACT_COUNT_SK.to_owned(),
            set: Cond::new("ADD contacts :delta").value(":delta", n(delta)),
            condition,
        },
        OnFail::Error(plan_limit_reached),
    );
}

/// `contact.save.json` / `contact.create.json`: without `id` a new contact, with
/// `id` a change of the fields present (404 for an id the department does not
/// have). Answers the contact's id.
pub async fn save(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    body: &Map<String, Value>,
) -> Result<ContactId, StoreError> {
    dept.authorize(ctx, Permission::write(Resource::Contacts))?;
    // The id (if any) decides create or update before anything is read.
    let target = match body.get("id") {
        None | Some(Value::Null) => None,
        Some(raw) => Some(ContactId::parse("id", raw)?),
    };
    match target {
        Some(id) => update(store, ctx, dept, id, body).await,
        None => create(store, ctx, dept, body).await,
    }
}

async fn create(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    body: &Map<String, Value>,
) -> Result<ContactId, StoreError> {
    // Checked before an id is spent on it.
    let (mut schema, mut version) = fields::read(store, dept).await?;
    let mut input = ContactInput::parse(body, &schema)?;
    if input.is_empty() {
        return Err(ValidationError::new(
            "full_name",
            "a new contact needs a name, an e-mail address or another field",
        )
        .into());
    }
    let limit = relinx_identity::orgs::get(store, &ctx.org_id)
        .await?
        .limits()
        .contacts;
    let id = ContactId::from_counter(next_id(store, dept, "contact").await?);
    let mut attempt = 0;
    loop {
        let now = Timestamp::now();
        let mut contact = Contact {
            id,
            dt_created: now,
            dt_modified: now,
            fields: Default::default(),
            do_not_mass_email: false,
            custom: Default::default(),
        };
        contact.apply(&input);
        contact.check_size()?;
        let mut tx = Tx::new();
        tx.put(
            &store.tables().main,
            to_item(&contact, dept.partition(), contact_sk(id))?,
            Some(Cond::not_exists()),
            OnFail::Internal,
        );
        stage_email_index(&mut tx, store, dept, id, None, Some(&contact));
        stage_count(&mut tx, store, ctx, 1, limit);
        if input.writes_custom_values() {
            fields::stage_unchanged(&mut tx, store, dept, version);
        }
        department::stage_change(&mut tx, store, ctx, dept, EventName::ContactSaved, &contact);
        tx.answer(store, &id);
        match tx.commit(store).await {
            Ok(()) => return Ok(id),
            // The definitions changed since they were read: check again.
            Err(StoreError::Stale) if attempt < SCHEMA_RETRIES => {
                attempt += 1;
                (schema, version) = fields::read(store, dept).await?;
                input = ContactInput::parse(body, &schema)?;
            }
            Err(StoreError::Forbidden {
                code: relinx_model::ErrorCode::PlanLimit,
                ..
            }) => {
                return Err(StoreError::forbidden(
                    relinx_model::ErrorCode::PlanLimit,
                    format!(
                        "contacts: your plan's limit of {} contacts is reached; delete contacts or upgrade the plan",
                        limit.unwrap_or_default()
                    ),
                ));
            }
            Err(err) => return Err(err),
        }
    }
}

async fn update(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    id: ContactId,
    body: &Map<String, Value>,
) -> Result<ContactId, StoreError> {
    department::modify(
        store,
        dept,
        contact_sk(id),
        |mut contact: Contact, mut tx: Tx| async move {
            // Read again on every attempt: a race with a definition change is a
            // version conflict the helper retries.
            let (schema, version) = fields::read(store, dept).await?;
            let input = ContactInput::parse(body, &schema)?;
            let before = contact.clone();
            contact.apply(&input);
            contact.check_size()?;
            contact.dt_modified = Timestamp::now();
            stage_email_index(&mut tx, store, dept, id, Some(&before), Some(&contact));
            if input.writes_custom_values() {
                fields::stage_unchanged(&mut tx, store, dept, version);
            }
            department::stage_change(&mut tx, store, ctx, dept, EventName::ContactSaved, &contact);
            Ok(Changed::put(tx, contact, id))
        },
    )
    .await
}

/// `contact.delete.json`: removes the contact (its place under the plan's limit is
/// freed in the same transaction).
pub async fn delete(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    id: ContactId,
) -> Result<(), StoreError> {
    dept.authorize(ctx, Permission::write(Resource::Contacts))?;
    department::modify(
        store,
        dept,
        contact_sk(id),
        |contact: Contact, mut tx: Tx| async move {
            stage_email_index(&mut tx, store, dept, id, Some(&contact), None);
            stage_count(&mut tx, store, ctx, -1, None);
            department::stage_change(
                &mut tx,
                store,
                ctx,
                dept,
                EventName::ContactDeleted,
                &contact,
            );
            Ok(Changed::delete(tx, ()))
        },
    )
    .await
}

/// `contact.list.json`: page `page` (from 1) of `page_size` contacts, by id (new
/// contacts come last, so walking the pages while others are added neither repeats
/// nor skips one).
pub async fn list(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    page: u64,
    page_size: u64,
) -> Result<(Vec<Contact>, Schema), StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Contacts))?;
    let contacts = department::page(store, dept, ck::CONTACT, page, page_size).await?;
    let (schema, _) = fields::read(store, dept).await?;
    Ok((contacts, schema))
}

/// A contact with what `contact.get.json` shows beside it.
pub struct ContactDetails {
    pub contact: Contact,
    pub schema: Schema,
    /// The activities naming one of its addresses, by start.
    pub activities: Vec<Activity>,
}

/// `contact.get.json?id=`: the contact and its activities (those that name one of
/// its e-mail addresses among their contacts).
pub async fn get(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    id: ContactId,
) -> Result<ContactDetails, StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Contacts))?;
    let contact: Contact = store
        .get(dept.partition(), contact_sk(id))
        .await?
        .ok_or(StoreError::NotFound("contact"))?;
    let (schema, _) = fields::read(store, dept).await?;
    let activities = if ctx.can(Permission::read(Resource::Activities)) {
        crate::activities::naming(store, dept, &contact.addresses(), MAX_SHOWN_ACTIVITIES).await?
    } else {
        Vec::new()
    };
    Ok(ContactDetails {
        contact,
        schema,
        activities,
    })
}

/// The keys a contact shows as JSON, for a reader that names them (an analytics
/// `where`, an audience): the built-in `contact` schema's fields (custom ones
/// included) and what the server keeps (`id`, `dt_created`, `dt_modified`).
pub async fn field_names(
    store: &Store,
    ctx: &Context,
    dept: &Department,
) -> Result<Vec<String>, StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Contacts))?;
    let (schema, _) = fields::read(store, dept).await?;
    Ok(names_of(&schema))
}

fn names_of(schema: &Schema) -> Vec<String> {
    let mut names: Vec<String> = ["id", "dt_created", "dt_modified"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    names.extend(
        crate::contact::definition(schema)
            .into_iter()
            .map(|field| field.name),
    );
    names
}

/// Every contact of the department as `contact.list.json` shows it, by id, handed
/// to `visit` a page at a time as it is read (nothing is held), reads counted on
/// `budget`: for readers that walk them all (analytics, an audience's rebuild).
pub async fn walk(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    budget: &mut relinx_ddb::ReadBudget,
    visit: &mut (dyn FnMut(Value) -> Result<(), StoreError> + Send),
) -> Result<(), StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Contacts))?;
    let (schema, _) = fields::read(store, dept).await?;
    let query = store
        .query(relinx_ddb::Table::Main, dept.partition())
        .begins_with(ck::CONTACT)
        .eventually_consistent();
    budget
        .walk(query, &mut |item| {
            let contact: Contact = relinx_ddb::codec::from_item(item)?;
            visit(relinx_model::event::data_of(&contact.view(&schema)))
        })
        .await
}

/// A contact as a reader judging it now sees it: its keys' names (as
/// [`field_names`] gives them) and the contact as it shows with the version it was
/// read at (`None`: no such contact).
pub struct Current {
    pub field_names: Vec<String>,
    pub contact: Option<(Value, i64)>,
}

/// The contact `id` as it is now, read consistently, with the department's field
/// names (one read of the definitions serves both): for a change elsewhere that
/// holds only while the contact stays as read (an audience's membership), staged
/// with [`stage_unchanged`].
pub async fn current(
    store: &Store,
    ctx: &Context,
    dept: &Department,
    id: ContactId,
) -> Result<Current, StoreError> {
    dept.authorize(ctx, Permission::read(Resource::Contacts))?;
    let read = relinx_ddb::versioned::read::<Contact>(store, dept.partition(), contact_sk(id));
    let (found, (schema, _)) = futures::try_join!(read, fields::read(store, dept))?;
    Ok(Current {
        field_names: names_of(&schema),
        contact: found.map(|(contact, version)| {
            (
                relinx_model::event::data_of(&contact.view(&schema)),
                version,
            )
        }),
    })
}

/// Stages a check that contact `id` is still as [`current`] read it: at `version`,
/// or still absent (`None`). A change of it since fails the transaction as
/// `StoreError::Stale`, for the reader to read again.
pub fn stage_unchanged(
    tx: &mut Tx,
    store: &Store,
    dept: &Department,
    id: ContactId,
    version: Option<i64>,
) {
    match version {
        Some(version) => relinx_ddb::versioned::stage_unchanged(
            tx,
            store,
            dept.partition(),
            contact_sk(id),
            version,
        ),
        None => {
            tx.check(
                &store.tables().main,
                dept.partition(),
                contact_sk(id),
                Cond::new("attribute_not_exists(pk)"),
                OnFail::Stale,
            );
        }
    }
}
