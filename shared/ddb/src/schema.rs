//! Creates the tables for local runs and tests from template.yaml's own declarations,
//! so code and template cannot drift apart: a key or index the code uses that the
//! template lacks fails every integration test.

use crate::{StoreError, Tables};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use serde_yaml::Value;

/// template.yaml, as compiled into this crate.
pub const TEMPLATE: &str = include_str!("../../../template.yaml");

/// One table as the template declares it.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub logical_id: String,
    pub attributes: Vec<(String, String)>,
    pub key_schema: Vec<(String, String)>,
    pub indexes: Vec<IndexSpec>,
    pub stream_view: Option<String>,
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IndexSpec {
    pub name: String,
    pub key_schema: Vec<(String, String)>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE` (with `included`).
    pub projection: String,
    pub included: Vec<String>,
}

/// The logical ids of the three tables and the physical name each gets locally.
fn logical_tables(tables: &Tables) -> [(&'static str, String); 3] {
    [
        ("MainTable", tables.main.clone()),
        ("EventsTable", tables.events.clone()),
        ("JobsTable", tables.jobs.clone()),
    ]
}

fn text(value: &Value, field: &str) -> Result<String, StoreError> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| StoreError::Internal(format!("template.yaml: missing {field}")))
}

fn pairs(value: Option<&Value>, a: &str, b: &str) -> Result<Vec<(String, String)>, StoreError> {
    value
        .and_then(Value::as_sequence)
        .map(|seq| seq.iter().map(|v| Ok((text(v, a)?, text(v, b)?))).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

/// The table declarations of `template`.
pub fn table_specs(template: &str) -> Result<Vec<TableSpec>, StoreError> {
    let doc: Value = serde_yaml::from_str(template)
        .map_err(|e| StoreError::internal("parse template.yaml", e))?;
    let resources = doc
        .get("Resources")
        .ok_or_else(|| StoreError::Internal("template.yaml has no Resources".into()))?;
    ["MainTable", "EventsTable", "JobsTable"]
        .iter()
        .map(|logical_id| {
            let props = resources
                .get(*logical_id)
                .and_then(|r| r.get("Properties"))
                .ok_or_else(|| {
                    StoreError::Internal(format!("template.yaml declares no {logical_id}"))
                })?;
            let indexes = props
                .get("GlobalSecondaryIndexes")
                .and_then(Value::as_sequence)
                .map(|seq| {
                    seq.iter()
                        .map(|gsi| {
                            let projection = gsi.get("Projection");
                            Ok(IndexSpec {
                                name: text(gsi, "IndexName")?,
                                key_schema: pairs(
                                    gsi.get("KeySchema"),
                                    "AttributeName",
                                    "KeyType",
                                )?,
                                projection: projection
                                    .and_then(|p| p.get("ProjectionType"))
                                    .and_then(Value::as_str)
                                    .unwrap_or("ALL")
                                    .to_owned(),
                                included: projection
                                    .and_then(|p| p.get("NonKeyAttributes"))
                                    .and_then(Value::as_sequence)
                                    .map(|names| {
                                        names
                                            .iter()
                                            .filter_map(Value::as_str)
                                            .map(str::to_owned)
                                            .collect()
                                    })
                                    .unwrap_or_default(),
                            })
                        })
                        .collect::<Result<Vec<_>, StoreError>>()
                })
                .transpose()?
                .unwrap_or_default();
            let ttl = props
                .get("TimeToLiveSpecification")
                .filter(|t| t.get("Enabled").and_then(Value::as_bool) == Some(true));
            Ok(TableSpec {
                logical_id: (*logical_id).to_owned(),
                attributes: pairs(
                    props.get("AttributeDefinitions"),
                    "AttributeName",
                    "AttributeType",
                )?,
                key_schema: pairs(props.get("KeySchema"), "AttributeName", "KeyType")?,
                indexes,
                stream_view: props
                    .get("StreamSpecification")
                    .and_then(|s| s.get("StreamViewType"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                ttl_attribute: ttl.map(|t| text(t, "AttributeName")).transpose()?,
            })
        })
        .collect()
}

fn key_schema(pairs: &[(String, String)]) -> Result<Vec<KeySchemaElement>, StoreError> {
    pairs
        .iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(KeyType::from(kind.as_str()))
                .build()
                .map_err(|e| StoreError::internal("key schema", e))
        })
        .collect()
}

/// Creates the tables (those that exist already are left alone) and waits for them.
pub async fn create_tables(client: &Client, tables: &Tables) -> Result<(), StoreError> {
    let specs = table_specs(TEMPLATE)?;
    for (logical_id, name) in logical_tables(tables) {
        let spec = specs
            .iter()
            .find(|s| s.logical_id == logical_id)
            .ok_or_else(|| StoreError::Internal(format!("no spec for {logical_id}")))?;
        let mut create = client
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(&spec.key_schema)?));
        for (attr, kind) in &spec.attributes {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attr)
                    .attribute_type(ScalarAttributeType::from(kind.as_str()))
                    .build()
                    .map_err(|e| StoreError::internal("attribute definition", e))?,
            );
        }
        for index in &spec.indexes {
            create = create.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&index.name)
                    .set_key_schema(Some(key_schema(&index.key_schema)?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(index.projection.as_str()))
                            .set_non_key_attributes(
                                (!index.included.is_empty()).then(|| index.included.clone()),
                            )
                            .build(),
                    )
                    .build()
                    .map_err(|e| StoreError::internal("index", e))?,
            );
        }
        if let Some(view) = &spec.stream_view {
            create = create.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(view.as_str()))
                    .build()
                    .map_err(|e| StoreError::internal("stream", e))?,
            );
        }
        match create.send().await {
            Ok(_) => {}
            Err(err) => {
                let service = err.into_service_error();
                if !service.is_resource_in_use_exception() {
                    return Err(StoreError::internal(
                        "create table",
                        aws_sdk_dynamodb::error::DisplayErrorContext(&service),
                    ));
                }
                continue;
            }
        }
        if let Some(attr) = &spec.ttl_attribute {
            client
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attr)
                        .enabled(true)
                        .build()
                        .map_err(|e| StoreError::internal("ttl", e))?,
                )
                .send()
                .await?;
        }
    }
    Ok(())
}

/// Every item of `tables`, as text, one line each (tests check that no secret rests
/// in any table). A Scan: for tests, never a request path.
pub async fn dump_tables(client: &Client, tables: &Tables) -> Result<String, String> {
    let mut out = String::new();
    for table in [&tables.main, &tables.events, &tables.jobs] {
        let mut start = None;
        loop {
            let page = client
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| format!("scan {table}: {e}"))?;
            for item in page.items.unwrap_or_default() {
                out.push_str(&format!("{item:?}\n"));
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_declares_what_the_code_uses() {
        let specs = table_specs(TEMPLATE).expect("template parses");
        let main = specs
            .iter()
            .find(|s| s.logical_id == "MainTable")
            .expect("main table");
        let key: Vec<_> = main.key_schema.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(key, [crate::keys::PK, crate::keys::SK]);
        assert_eq!(main.ttl_attribute.as_deref(), Some(crate::keys::TTL));
        let events = specs
            .iter()
            .find(|s| s.logical_id == "EventsTable")
            .expect("events table");
        let key: Vec<_> = events.key_schema.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(key, [crate::keys::PK, crate::keys::SK]);
        assert!(
            events.stream_view.is_some(),
            "the event table's stream feeds the dispatcher"
        );
        let jobs = specs
            .iter()
            .find(|s| s.logical_id == "JobsTable")
            .expect("jobs table");
        assert!(
            !jobs.indexes.is_empty(),
            "jobs need an index on due time for the sweep"
        );
    }
}
