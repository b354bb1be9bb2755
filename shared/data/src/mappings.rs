//! Mapping operations: create, list, read, change, delete (each checked against its
//! source and schema as they are, pinning the schema's version), preview, and the
//! assistant's suggestion. A mapping counts as a use of its source and of its own
//! schema (`in_use`, bumped in the mapping's transaction), so neither can be
//! deleted from under it.

use crate::mapping::{Mapping, MappingField, RowError, compile};
use crate::schema::Resolved;
use crate::schema::SchemaRef;
use crate::schemas;
use crate::scope::Scope;
use crate::source::Source;
use crate::suggest::{Precedent, Suggestion, suggest};
use crate::{sources, staging};
use relinx_ddb::tx::Tx;
use relinx_ddb::versioned::Changed;
use relinx_ddb::{Store, StoreError};
use relinx_model::{
    Context, EventName, MappingId, Name, Permission, Resource, SourceId, Timestamp, ValidationError,
};
use serde::Serialize;

const WHAT: &str = "mapping";

/// A new mapping, as a request gives it.
#[derive(Debug, Clone)]
pub struct NewMapping {
    pub name: Name,
    pub source_id: SourceId,
    pub schema: SchemaRef,
    pub fields: Vec<MappingField>,
}

/// The source and schema a mapping is built on, read for checking it: a missing
/// one is the request's mistake (422 naming the field), not a missing mapping.
async fn basis(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    source_id: &SourceId,
    schema: &SchemaRef,
) -> Result<(Source, Resolved), StoreError> {
    let source = match sources::get(store, ctx, scope, source_id).await {
        Err(StoreError::NotFound(_)) => {
            return Err(StoreError::Unprocessable(ValidationError::new(
                "source_id",
                "no such source in this workspace",
            )));
        }
        other => other?,
    };
    let source = sources::with_columns(store, ctx, scope, source).await?;
    let resolved = match schemas::resolve(store, ctx, scope, schema).await {
        Err(StoreError::NotFound(_)) => {
            return Err(StoreError::Unprocessable(ValidationError::new(
                "schema_id",
                "no such schema in this workspace",
            )));
        }
        other => other?,
    };
    Ok((source, resolved))
}

/// Stages `delta` uses of the mapping's source and (own) schema.
fn stage_uses(tx: &mut Tx, store: &Store, scope: &Scope, mapping: &Mapping, delta: i64) {
    scope.stage_use(
        tx,
        store,
        scope.sk::<Source>(mapping.source_id.as_str()),
        delta,
    );
    if let Some(SchemaRef::Own(id)) = SchemaRef::parse(&mapping.schema_id) {
        scope.stage_use(
            tx,
            store,
            scope.sk::<crate::schema::Schema>(id.as_str()),
            delta,
        );
    }
}

pub async fn create(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    new: NewMapping,
) -> Result<Mapping, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Mappings), WHAT)?;
    let (source, resolved) = basis(store, ctx, scope, &new.source_id, &new.schema).await?;
    compile(&source, &resolved.view.fields, &new.fields).map_err(StoreError::Unprocessable)?;
    let now = Timestamp::now();
    let mapping = Mapping {
        id: MappingId::generate(),
        name: new.name.to_string(),
        source_id: source.id.clone(),
        schema_id: new.schema.as_str().to_owned(),
        schema_version: resolved.view.version,
        fields: new.fields,
        created_at: now,
        updated_at: now,
        in_use: 0,
    };
    let mut tx = Tx::new();
    scope.stage_new(&mut tx, store, &mapping)?;
    stage_uses(&mut tx, store, scope, &mapping, 1);
    scope.stage_change(&mut tx, store, ctx, EventName::MappingCreated, &mapping);
    tx.answer(store, &mapping);
    tx.commit(store).await?;
    Ok(mapping)
}

/// Every mapping of the workspace, oldest first.
pub async fn list(store: &Store, ctx: &Context, scope: &Scope) -> Result<Vec<Mapping>, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Mappings), WHAT)?;
    all(store, scope).await
}

async fn all(store: &Store, scope: &Scope) -> Result<Vec<Mapping>, StoreError> {
    scope.all(store).await
}

pub async fn get(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &MappingId,
) -> Result<Mapping, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Mappings), WHAT)?;
    scope.get(store, id.as_str()).await
}

/// Renames the mapping and/or replaces its fields; new fields are checked against
/// the source and schema as they are now, and pin the schema's current version.
pub async fn update(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &MappingId,
    name: Option<Name>,
    fields: Option<Vec<MappingField>>,
) -> Result<Mapping, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Mappings), WHAT)?;
    let current = get(store, ctx, scope, id).await?;
    let repinned = match &fields {
        Some(fields) => {
            let schema = SchemaRef::parse(&current.schema_id).ok_or_else(|| {
                StoreError::Internal("a mapping's schema id does not parse".into())
            })?;
            let (source, resolved) = basis(store, ctx, scope, &current.source_id, &schema).await?;
            compile(&source, &resolved.view.fields, fields).map_err(StoreError::Unprocessable)?;
            Some(resolved.view.version)
        }
        None => None,
    };
    scope
        .modify(store, id.as_str(), |mut mapping: Mapping, mut tx: Tx| {
            let name = name.clone();
            let fields = fields.clone();
            async move {
                if let Some(name) = &name {
                    scope.stage_rename(&mut tx, store, &mut mapping, name);
                }
                if let (Some(fields), Some(version)) = (fields, repinned) {
                    mapping.fields = fields;
                    mapping.schema_version = version;
                }
                mapping.updated_at = Timestamp::now();
                scope.stage_change(&mut tx, store, ctx, EventName::MappingUpdated, &mapping);
                tx.answer(store, &mapping);
                Ok(Changed::put(tx, mapping.clone(), mapping))
            }
        })
        .await
}

pub async fn delete(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &MappingId,
) -> Result<Mapping, StoreError> {
    scope.authorize(ctx, Permission::write(Resource::Mappings), WHAT)?;
    scope
        .modify(
            store,
            id.as_str(),
            |mapping: Mapping, mut tx: Tx| async move {
                if mapping.in_use > 0 {
                    return Err(
                        crate::uses::refusal(store, scope, "mapping", mapping.id.as_str()).await,
                    );
                }
                scope.stage_release(&mut tx, store, &mapping);
                stage_uses(&mut tx, store, scope, &mapping, -1);
                scope.stage_change(&mut tx, store, ctx, EventName::MappingDeleted, &mapping);
                Ok(Changed::delete(tx, mapping))
            },
        )
        .await
}

/// What a preview shows: the mapped rows, and every value the destination would
/// refuse.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    pub errors: Vec<RowError>,
}

/// Maps the first `limit` staged rows of the mapping's source, as a run would:
/// with the schema's current fields and the destination's own validation. Only
/// reads.
pub async fn preview(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    id: &MappingId,
    limit: usize,
) -> Result<Preview, StoreError> {
    let mapping = get(store, ctx, scope, id).await?;
    let schema = SchemaRef::parse(&mapping.schema_id)
        .ok_or_else(|| StoreError::Internal("a mapping's schema id does not parse".into()))?;
    let (source, resolved) = basis(store, ctx, scope, &mapping.source_id, &schema).await?;
    let compiled = compile(&source, &resolved.view.fields, &mapping.fields).map_err(|e| {
        // The source or schema changed since the mapping was saved.
        StoreError::Unprocessable(ValidationError::new(
            e.field,
            format!(
                "{} (the source or schema changed since the mapping was saved: update it)",
                e.message
            ),
        ))
    })?;
    let staged = staging::read_rows(
        store,
        &scope.partition(),
        &scope.org,
        &source.id,
        limit.min(sources::MAX_SAMPLE),
    )
    .await?;
    let mut preview = Preview {
        rows: Vec::with_capacity(staged.rows.len()),
        errors: Vec::new(),
    };
    for (number, (upload, values)) in (1u64..).zip(&staged.rows) {
        let (row, errors) = compiled.map_row(
            number,
            &staged.uploads[*upload].columns,
            values,
            &resolved.target,
        );
        preview.rows.push(row);
        preview.errors.extend(errors);
    }
    Ok(preview)
}

/// The assistant's proposal for mapping `source_id` onto `schema`, taught by the
/// workspace's saved mappings. Only reads.
pub async fn suggest_for(
    store: &Store,
    ctx: &Context,
    scope: &Scope,
    source_id: &SourceId,
    schema: &SchemaRef,
) -> Result<Suggestion, StoreError> {
    scope.authorize(ctx, Permission::read(Resource::Mappings), WHAT)?;
    let (source, resolved) = basis(store, ctx, scope, source_id, schema).await?;
    let mut saved = all(store, scope).await?;
    // The most recently changed mapping speaks first.
    saved.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    let precedents: Vec<Precedent> = saved
        .iter()
        .flat_map(|m| {
            m.fields.iter().filter_map(|f| {
                bare_column(&f.expr).map(|column| Precedent {
                    mapping: m.name.clone(),
                    column,
                    target: f.target.clone(),
                })
            })
        })
        .collect();
    Ok(suggest(&source.columns, &resolved.view.fields, &precedents))
}

/// The column an expr is, when it is just a column: `zip`, `` `E-mail` ``, or a
/// column's name as it is (`E-mail`: the language has no arithmetic, so a name
/// without brackets, quotes, spaces or operators can be nothing else).
fn bare_column(expr: &str) -> Option<String> {
    let text = expr.trim();
    if let Some(inner) = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        return (!inner.replace("``", "").contains('`')).then(|| inner.replace("``", "`"));
    }
    let bare = !text.is_empty()
        && !text
            .chars()
            .any(|c| c.is_whitespace() || "()\"`=<>!&|,[].".contains(c));
    bare.then(|| text.to_owned())
}
