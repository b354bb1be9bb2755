//! Schema operations. The workspace's own schemas: created at version 1, a change of
//! `fields` writes the next version beside the schema in the same transaction; the
//! built-in `contact` (with the department's custom fields) and `record` are read
//! from their domains' definitions every time, never stored.

use crate::schema::{
    Resolved, Schema, SchemaRef, SchemaView, Target, Version, VersionView, check_fields,
};
use crate::scope::Scope;
use relinx_ddb::codec::to_item;
use relinx_ddb::keys::data as dk;
use relinx_ddb::tx::{Cond, OnFail, Tx};
use relinx_ddb::versioned::Changed;
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, ErrorCode, EventName, FieldDef, Name, Permission, Resource, SchemaId, Timestamp,
};

const WHAT: &str = "schema";

fn version_sk(id: &SchemaId, version: u32) -> String {
    format!("{}{id}#{version:06}", dk::SCHEMA_VERSION)
}

fn built_in(what: &SchemaRef) -> StoreError {
    StoreError::conflict(
        ErrorCode::BuiltInSchema,
        format!(
            "{} is a built-in schema: it is the platform's own entity, and changes only with it",
            what.as_str()
        ),
    )
}

/// Stages version `schema.version` of the schema's fields.
fn stage_version(
    tx: &mut Tx,
    store: &Store,
    scope: &Scope,
    schema: &Schema,
) -> Result<(), StoreError> {
    let version = Version {
        version: schema.version,
        fields: schema.fields.clone(),
        created_at: schema.updated_at,
    };
    tx.put(
        &store.tables().main,
        to_item(
            &version,
            scope.partition(),
            version_sk(&schema.id, schema.version),
        )?,
        Some(Cond::not_exists()),
        OnFail::Internal,
    );
    Ok(())
}

pub async fn create(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    name: Name,
    fields: Vec<FieldDef>,
) -> Result<Schema, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Schemas), WHAT)?;
    check_fields(&fields)?;
    let now = Timestamp::now();
    let schema = Schema {
        id: SchemaId::generate(),
        name: name.to_string(),
        fields,
        version: 1,
        created_at: now,
        updated_at: now,
        in_use: 0,
    };
    let mut tx = Tx::new();
    scope.stage_new(&mut tx, store, &schema)?;
    stage_version(&mut tx, store, scope, &schema)?;
    scope.stage_change(&mut tx, store, ctx, EventName::SchemaCreated, &schema);
    tx.answer(store, &schema);
    tx.commit(store).await?;
    Ok(schema)
}

/// The built-in `contact` schema of the scope's department: its version follows
/// the custom fields' definitions (1 before any is defined).
async fn contact(store: &Store, scope: &Scope) -> Result<Resolved, StoreError> {
    let dept = relinx_crm::Department {
        org: scope.org.clone(),
        workspace: scope.workspace.clone(),
    };
    let (custom, version) = relinx_crm::fields::read(store, &dept).await?;
    Ok(Resolved {
        view: SchemaView {
            id: "contact".into(),
            name: "contact".into(),
            fields: relinx_crm::contact::definition(&custom),
            version: u32::try_from(version + 1).unwrap_or(u32::MAX),
            built_in: true,
            created_at: None,
            updated_at: None,
        },
        target: Target::Contact(custom),
    })
}

fn record() -> Resolved {
    Resolved {
        view: SchemaView {
            id: "record".into(),
            name: "record".into(),
            fields: relinx_records::record::definition(),
            version: 1,
            built_in: true,
            created_at: None,
            updated_at: None,
        },
        target: Target::Record,
    }
}

async fn own(store: &Store, scope: &Scope, id: &SchemaId) -> Result<Schema, StoreError> {
    scope.get(store, id.as_str()).await
}

/// The schema `what` names, for reading or mapping onto.
pub async fn resolve(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    what: &SchemaRef,
) -> Result<Resolved, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Schemas), WHAT)?;
    match what {
        SchemaRef::Contact => contact(store, scope).await,
        SchemaRef::Record => Ok(record()),
        SchemaRef::Own(id) => {
            let schema = own(store, scope, id).await?;
            Ok(Resolved {
                view: schema.view(),
                target: Target::Own(schema),
            })
        }
    }
}

/// The built-in schemas, then the workspace's own, oldest first.
pub async fn list(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
) -> Result<Vec<SchemaView>, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Schemas), WHAT)?;
    let mut all = vec![contact(store, scope).await?.view, record().view];
    let owned: Vec<Schema> = scope.all(store).await?;
    all.extend(owned.iter().map(Schema::view));
    Ok(all)
}

/// Every version of a schema, oldest first (a built-in one has its current one).
pub async fn versions(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    what: &SchemaRef,
) -> Result<Vec<VersionView>, StoreError> {
    let resolved = resolve(store, ctx, scope, what).await?;
    let Target::Own(schema) = resolved.target else {
        return Ok(vec![VersionView {
            version: resolved.view.version,
            fields: resolved.view.fields,
            created_at: Timestamp::now(),
        }]);
    };
    let prefix = format!("{}{}#", dk::SCHEMA_VERSION, schema.id);
    let versions: Vec<Version> = store
        .partition_slice(&scope.partition(), &prefix, 0, usize::MAX)
        .await?;
    Ok(versions.iter().map(Version::view).collect())
}

/// One version of a schema (a mapping's pinned one).
pub async fn version(
    store: &Store,
    scope: &Scope,
    id: &SchemaId,
    version: u32,
) -> Result<Option<Version>, StoreError> {
    store.get(scope.partition(), version_sk(id, version)).await
}

/// Renames the schema, and makes a new version when `fields` differ from the
/// current ones.
pub async fn update(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    what: &SchemaRef,
    name: Option<Name>,
    fields: Option<Vec<FieldDef>>,
) -> Result<Schema, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Schemas), WHAT)?;
    let SchemaRef::Own(id) = what else {
        return Err(built_in(what));
    };
    if let Some(fields) = &fields {
        check_fields(fields)?;
    }
    scope
        .modify(store, id.as_str(), |mut schema: Schema, mut tx: Tx| {
            let name = name.clone();
            let fields = fields.clone();
            async move {
                let now = Timestamp::now();
                if let Some(name) = &name {
                    scope.stage_rename(&mut tx, store, &mut schema, name);
                }
                schema.updated_at = now;
                if let Some(fields) = fields
                    && fields != schema.fields
                {
                    schema.fields = fields;
                    schema.version += 1;
                    stage_version(&mut tx, store, scope, &schema)?;
                }
                scope.stage_change(&mut tx, store, ctx, EventName::SchemaUpdated, &schema);
                tx.answer(store, &schema);
                Ok(Changed::put(tx, schema.clone(), schema))
            }
        })
        .await
}

/// Deletes one of the workspace's schemas and its name. Its versions stay, out of
/// reach (every read goes through the schema), for the mappings' history.
pub async fn delete(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    what: &SchemaRef,
) -> Result<Schema, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Schemas), WHAT)?;
    let SchemaRef::Own(id) = what else {
        return Err(built_in(what));
    };
    scope
        .modify(
            store,
            id.as_str(),
            |schema: Schema, mut tx: Tx| async move {
                if schema.in_use > 0 {
                    return Err(
                        crate::uses::refusal(store, scope, "schema", schema.id.as_str()).await,
                    );
                }
                scope.stage_release(&mut tx, store, &schema);
                scope.stage_change(&mut tx, store, ctx, EventName::SchemaDeleted, &schema);
                Ok(Changed::delete(tx, schema))
            },
        )
        .await
}
