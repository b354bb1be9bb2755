//! A query checked against the fields its entity offers: every expression parsed
//! (one parser, `relinx-expr`, for policies, mappings and analytics), every metric
//! known, every sort column one of the result's. Made only by [`Plan::new`], so a
//! plan that exists runs; every refusal is a 422 naming the part and the position.

use crate::entity::{Entity, EntityFields};
use crate::spec::QuerySpec;
use crate::timefmt;
use relinx_ddb::StoreError;
use relinx_expr::{Datum, Expr, Fields};
use relinx_model::ValidationError;
use serde_json::Value;

/// Rows a result holds by default, and at most.
pub const DEFAULT_LIMIT: u32 = 1_000;
pub const MAX_LIMIT: u32 = 10_000;
/// 9999-12-31T23:59:59.999Z, the last instant a key holds.
const LAST_MS: i64 = 253_402_300_799_999;
/// Most group columns and metrics a query names.
const MAX_GROUPS: usize = 8;
const MAX_METRICS: usize = 16;

/// How a group column buckets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Value,
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub label: String,
    pub bucket: Bucket,
    pub expr: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
}

#[derive(Debug, Clone)]
pub struct Metric {
    pub label: String,
    pub kind: MetricKind,
    /// What it is over (none for `count`).
    pub expr: Option<Expr>,
}

/// A time range, in milliseconds, over a field.
#[derive(Debug, Clone)]
pub struct Window {
    pub from: i64,
    pub to: i64,
    pub field: Vec<String>,
    /// The entity's keys are ordered by it: the owner's reader bounds its Query.
    pub keyed: bool,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub entity: Entity,
    pub fields: EntityFields,
    pub condition: Option<Expr>,
    pub groups: Vec<Group>,
    pub metrics: Vec<Metric>,
    pub window: Option<Window>,
    /// Result column and whether descending: `order_by`, then the group columns.
    pub order: Vec<(usize, bool)>,
    pub limit: usize,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> StoreError {
    StoreError::Unprocessable(ValidationError::new(field, message))
}

/// `name(inner)` split into its name and its inner text (with the column, 1-based,
/// where the inner text starts), if `text` is written as a call.
fn as_call(text: &str) -> Option<(&str, &str, usize)> {
    let open = text.find('(')?;
    let name = text[..open].trim_end();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let inner = text[open + 1..].strip_suffix(')')?;
    Some((name, inner, text[..=open].chars().count() + 1))
}

/// Parses `text` (part `field` of the query) as an expression; a parse error names
/// its column within `text`, offset by `offset` columns.
fn parse_expr(
    field: &str,
    text: &str,
    offset: usize,
    fields: &Fields<'_>,
) -> Result<Expr, StoreError> {
    Expr::parse(text, fields).map_err(|e| {
        refuse(
            field,
            format!("at column {}: {}", e.column + offset, e.message),
        )
    })
}

impl Plan {
    pub fn new(spec: &QuerySpec, entity: Entity, fields: EntityFields) -> Result<Self, StoreError> {
        let scalars: Vec<&str> = fields.scalars.iter().map(String::as_str).collect();
        let objects: Vec<&str> = fields.objects.iter().map(String::as_str).collect();
        let allowed = Fields::new(&scalars, &objects);

        let condition = spec
            .condition
            .as_deref()
            .filter(|w| !w.trim().is_empty())
            .map(|w| parse_expr("where", w, 0, &allowed))
            .transpose()?;

        if spec.group_by.len() > MAX_GROUPS {
            return Err(refuse("group_by", format!("at most {MAX_GROUPS} columns")));
        }
        let mut groups = Vec::new();
        for (i, raw) in spec.group_by.iter().enumerate() {
            let label = raw.trim().to_owned();
            let field = format!("group_by[{i}]");
            let bucketed = as_call(&label).and_then(|(name, inner, at)| {
                let bucket = match name {
                    "day" => Bucket::Day,
                    "week" => Bucket::Week,
                    "month" => Bucket::Month,
                    _ => return None,
                };
                Some((bucket, inner, at))
            });
            let (bucket, expr) = match bucketed {
                Some((bucket, inner, at)) => (bucket, parse_expr(&field, inner, at - 1, &allowed)?),
                None => (Bucket::Value, parse_expr(&field, &label, 0, &allowed)?),
            };
            groups.push(Group {
                label,
                bucket,
                expr,
            });
        }

        if spec.metrics.is_empty() {
            return Err(refuse(
                "metrics",
                "name at least one: count, count_distinct(f), sum(f), avg(f), min(f), max(f)",
            ));
        }
        if spec.metrics.len() > MAX_METRICS {
            return Err(refuse("metrics", format!("at most {MAX_METRICS} metrics")));
        }
        let mut metrics = Vec::new();
        for (i, raw) in spec.metrics.iter().enumerate() {
            let label = raw.trim().to_owned();
            let field = format!("metrics[{i}]");
            if label == "count" {
                metrics.push(Metric {
                    label,
                    kind: MetricKind::Count,
                    expr: None,
                });
                continue;
            }
            let Some((name, inner, at)) = as_call(&label) else {
                return Err(refuse(
                    field,
                    format!(
                        "{label:?} is not a metric: count, count_distinct(f), sum(f), avg(f), min(f), max(f)"
                    ),
                ));
            };
            let kind = match name {
                "count_distinct" => MetricKind::CountDistinct,
                "sum" => MetricKind::Sum,
                "avg" => MetricKind::Avg,
                "min" => MetricKind::Min,
                "max" => MetricKind::Max,
                "count" => {
                    return Err(refuse(
                        field,
                        "count takes no field: write count (or count_distinct(f))",
                    ));
                }
                other => {
                    return Err(refuse(
                        field,
                        format!(
                            "unknown metric {other:?}: count, count_distinct(f), sum(f), avg(f), min(f), max(f)"
                        ),
                    ));
                }
            };
            let expr = parse_expr(&field, inner, at - 1, &allowed)?;
            metrics.push(Metric {
                label,
                kind,
                expr: Some(expr),
            });
        }

        let window = match &spec.range {
            None => None,
            Some(range) => {
                let field_name = match (&range.field, entity.time_field()) {
                    (Some(f), _) => f.trim().to_owned(),
                    (None, Some(f)) => f.to_owned(),
                    (None, None) => {
                        return Err(refuse(
                            "range.field",
                            "a dataset has no time of its own: name the column the range is over",
                        ));
                    }
                };
                let field = match parse_expr("range.field", &field_name, 0, &allowed)? {
                    Expr::Field(path, _) => path,
                    _ => return Err(refuse("range.field", "must name a field")),
                };
                let from = timefmt::instant_ms(&range.from).ok_or_else(|| {
                    refuse(
                        "range.from",
                        "must be an RFC 3339 time or a day, YYYY-MM-DD",
                    )
                })?;
                let to = match &range.to {
                    Some(to) => timefmt::end_ms(to).ok_or_else(|| {
                        refuse("range.to", "must be an RFC 3339 time or a day, YYYY-MM-DD")
                    })?,
                    None => relinx_model::Timestamp::now().unix_millis(),
                };
                if to < from {
                    return Err(refuse("range.to", "must not be before range.from"));
                }
                // Keys hold times from 1970 to 9999: a range past either end reads
                // up to it.
                let (from, to) = (from.clamp(0, LAST_MS), to.clamp(0, LAST_MS));
                let keyed = field.len() == 1 && entity.keyed_by_time(&field[0]);
                Some(Window {
                    from,
                    to,
                    field,
                    keyed,
                })
            }
        };

        let columns: Vec<&str> = groups
            .iter()
            .map(|g| g.label.as_str())
            .chain(metrics.iter().map(|m| m.label.as_str()))
            .collect();
        let mut order = Vec::new();
        for (i, raw) in spec.order_by.iter().enumerate() {
            let text = raw.trim();
            let (name, desc) = match text.rsplit_once(char::is_whitespace) {
                Some((name, dir)) if dir.eq_ignore_ascii_case("desc") => (name.trim(), true),
                Some((name, dir)) if dir.eq_ignore_ascii_case("asc") => (name.trim(), false),
                _ => (text, false),
            };
            let Some(column) = columns.iter().position(|c| *c == name) else {
                return Err(refuse(
                    format!("order_by[{i}]"),
                    format!(
                        "{name:?} is not a column of the result: one of {}",
                        columns.join(", ")
                    ),
                ));
            };
            order.push((column, desc));
        }
        // Then the group columns, ascending: ties never fall to chance.
        for column in 0..groups.len() {
            if !order.iter().any(|(c, _)| *c == column) {
                order.push((column, false));
            }
        }
        let limit = spec.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(refuse("limit", format!("must be 1 to {MAX_LIMIT}")));
        }
        Ok(Self {
            entity,
            fields,
            condition,
            groups,
            metrics,
            window,
            order,
            limit: usize::try_from(limit).unwrap_or(1000),
        })
    }

    /// The result's column names: the groups, then the metrics, as written.
    pub fn columns(&self) -> Vec<String> {
        self.groups
            .iter()
            .map(|g| g.label.clone())
            .chain(self.metrics.iter().map(|m| m.label.clone()))
            .collect()
    }

    /// Whether `row` is in the range and holds the condition.
    pub fn keeps(&self, row: &Value) -> bool {
        if let Some(window) = &self.window {
            // A plain day (a click counter's) spans the day: it is in the range
            // when any of it is.
            let value = lookup(row, &window.field);
            let text = value.as_ref().and_then(Value::as_str);
            let span = text.and_then(|t| Some((timefmt::instant_ms(t)?, timefmt::end_ms(t)?)));
            if !span.is_some_and(|(start, end)| start <= window.to && end >= window.from) {
                return false;
            }
        }
        self.condition
            .as_ref()
            .is_none_or(|c| c.eval(&|path| lookup(row, path)))
    }
}

/// The value at `path` in a row (`None` when missing).
pub fn lookup(row: &Value, path: &[String]) -> Option<Value> {
    let mut at = row;
    for segment in path {
        at = at.get(segment)?;
    }
    Some(at.clone())
}

/// `expr`'s value over `row` as JSON (a function refusing its input: null).
pub fn value_of(expr: &Expr, row: &Value) -> Value {
    expr.evaluate(&|path| lookup(row, path).map(Datum::from_json))
        .map_or(Value::Null, |d| d.to_json())
}
