//! The aggregation a query's rows stream through: one entry a group, each metric
//! an accumulator; rows are never held (only `count_distinct` keeps the distinct
//! values it has seen, bounded by the read budget).

use crate::plan::{Bucket, MetricKind, Plan, value_of};
use crate::timefmt;
use serde_json::{Number, Value};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone)]
enum Acc {
    Count(u64),
    Distinct(HashSet<String>),
    Sum { total: f64, n: u64 },
    Extreme(Option<Value>),
}

/// Numbers, and text that reads as one (a custom field holds its number as text).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Numbers before text, each in its own order; other values do not compare.
fn order(a: &Value, b: &Value) -> Ordering {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a
            .as_str()
            .unwrap_or_default()
            .cmp(b.as_str().unwrap_or_default()),
    }
}

/// A whole number as an integer (`3`, not `3.0`), else the float.
fn json_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(x as i64);
    }
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

impl Acc {
    fn new(kind: MetricKind) -> Self {
        match kind {
            MetricKind::Count => Self::Count(0),
            MetricKind::CountDistinct => Self::Distinct(HashSet::new()),
            MetricKind::Sum | MetricKind::Avg => Self::Sum { total: 0.0, n: 0 },
            MetricKind::Min | MetricKind::Max => Self::Extreme(None),
        }
    }

    fn add(&mut self, kind: MetricKind, value: Option<Value>) {
        match self {
            Self::Count(n) => *n += 1,
            Self::Distinct(seen) => {
                if let Some(v) = value.filter(|v| !v.is_null()) {
                    seen.insert(v.to_string());
                }
            }
            Self::Sum { total, n } => {
                if let Some(x) = value.as_ref().and_then(number) {
                    *total += x;
                    *n += 1;
                }
            }
            Self::Extreme(best) => {
                let Some(v) = value.filter(|v| number(v).is_some() || v.is_string()) else {
                    return;
                };
                let better = best.as_ref().is_none_or(|b| {
                    let o = order(&v, b);
                    if kind == MetricKind::Min {
                        o == Ordering::Less
                    } else {
                        o == Ordering::Greater
                    }
                });
                if better {
                    *best = Some(v);
                }
            }
        }
    }

    fn finish(self, kind: MetricKind) -> Value {
        match self {
            Self::Count(n) => Value::from(n),
            Self::Distinct(seen) => Value::from(seen.len()),
            Self::Sum { n: 0, .. } if kind == MetricKind::Avg => Value::Null,
            #[allow(clippy::cast_precision_loss)]
            Self::Sum { total, n } if kind == MetricKind::Avg => json_number(total / n as f64),
            Self::Sum { total, .. } => json_number(total),
            Self::Extreme(best) => best.unwrap_or(Value::Null),
        }
    }
}

/// Groups and their accumulators, as rows stream in.
pub struct Aggregation<'p> {
    plan: &'p Plan,
    groups: HashMap<Vec<String>, (Vec<Value>, Vec<Acc>)>,
}

impl<'p> Aggregation<'p> {
    pub fn new(plan: &'p Plan) -> Self {
        let mut groups = HashMap::new();
        if plan.groups.is_empty() {
            // Without groups the answer is one row, even over no rows.
            groups.insert(Vec::new(), (Vec::new(), accumulators(plan)));
        }
        Self { plan, groups }
    }

    /// Counts `row` in its group (rows the plan does not keep are skipped).
    pub fn add(&mut self, row: &Value) {
        if !self.plan.keeps(row) {
            return;
        }
        let values: Vec<Value> = self
            .plan
            .groups
            .iter()
            .map(|g| bucket(g.bucket, value_of(&g.expr, row)))
            .collect();
        let key: Vec<String> = values.iter().map(Value::to_string).collect();
        let plan = self.plan;
        let (_, accs) = self
            .groups
            .entry(key)
            .or_insert_with(|| (values, accumulators(plan)));
        for (acc, metric) in accs.iter_mut().zip(&plan.metrics) {
            let value = metric.expr.as_ref().map(|e| value_of(e, row));
            acc.add(metric.kind, value);
        }
    }

    /// The result rows, sorted and cut to the plan's limit; and how many groups
    /// there were.
    pub fn finish(self) -> (Vec<Vec<Value>>, usize) {
        let plan = self.plan;
        let mut rows: Vec<Vec<Value>> = self
            .groups
            .into_values()
            .map(|(mut values, accs)| {
                values.extend(
                    accs.into_iter()
                        .zip(&plan.metrics)
                        .map(|(acc, m)| acc.finish(m.kind)),
                );
                values
            })
            .collect();
        let groups = rows.len();
        rows.sort_by(|a, b| {
            for &(column, desc) in &plan.order {
                let (x, y) = (&a[column], &b[column]);
                let o = match (x.is_null(), y.is_null()) {
                    (true, true) => Ordering::Equal,
                    // Nulls last, whichever the direction.
                    (true, false) => return Ordering::Greater,
                    (false, true) => return Ordering::Less,
                    _ => order(x, y),
                };
                let o = if desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        rows.truncate(plan.limit);
        (rows, groups)
    }
}

fn accumulators(plan: &Plan) -> Vec<Acc> {
    plan.metrics.iter().map(|m| Acc::new(m.kind)).collect()
}

/// A group value in its bucket (a time that does not read as one: null).
fn bucket(bucket: Bucket, value: Value) -> Value {
    let of = |f: fn(i64) -> Option<String>| {
        value
            .as_str()
            .and_then(timefmt::instant_ms)
            .and_then(f)
            .map_or(Value::Null, Value::String)
    };
    match bucket {
        Bucket::Value => value,
        Bucket::Day => of(timefmt::day_bucket),
        Bucket::Week => of(timefmt::week_bucket),
        Bucket::Month => of(timefmt::month_bucket),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::{Entity, EntityFields};
    use crate::spec::QuerySpec;
    use serde_json::json;

    fn plan(spec: Value) -> Result<Plan, relinx_ddb::StoreError> {
        let spec: QuerySpec = serde_json::from_value(spec).unwrap();
        let fields = EntityFields {
            scalars: ["company", "amount", "at", "name"]
                .map(String::from)
                .to_vec(),
            objects: vec!["data".into()],
            dataset: None,
        };
        Plan::new(&spec, Entity::parse(&spec.from)?, fields)
    }

    fn run(spec: Value, rows: &[Value]) -> Vec<Vec<Value>> {
        let plan = plan(spec).unwrap();
        let mut aggregation = Aggregation::new(&plan);
        for row in rows {
            aggregation.add(row);
        }
        aggregation.finish().0
    }

    fn rows() -> Vec<Value> {
        vec![
            json!({"company": "Acme", "amount": 10, "at": "2026-12-01T10:00:00Z", "name": "a"}),
            json!({"company": "Acme", "amount": "5.5", "at": "2026-12-02 09:00:00", "name": "b"}),
            json!({"company": "Virtucon", "amount": 1, "at": "2026-12-08", "name": "b"}),
            json!({"company": null, "amount": null, "at": "soon", "name": "c"}),
        ]
    }

    #[test]
    fn groups_buckets_and_metrics() {
        let answer = run(
            json!({"from": "contacts", "group_by": ["company"], "metrics": ["count", "sum(amount)", "avg(amount)", "min(name)", "max(amount)", "count_distinct(name)"]}),
            &rows(),
        );
        assert_eq!(
            answer,
            vec![
                vec![
                    json!("Acme"),
                    json!(2),
                    json!(15.5),
                    json!(7.75),
                    json!("a"),
                    json!(10),
                    json!(2)
                ],
                vec![
                    json!("Virtucon"),
                    json!(1),
                    json!(1),
                    json!(1),
                    json!("b"),
                    json!(1),
                    json!(1)
                ],
                vec![
                    Value::Null,
                    json!(1),
                    json!(0),
                    Value::Null,
                    json!("c"),
                    Value::Null,
                    json!(1)
                ],
            ]
        );
        let weeks = run(
            json!({"from": "contacts", "group_by": ["week(at)"], "metrics": ["count"], "order_by": ["count desc"]}),
            &rows(),
        );
        assert_eq!(
            weeks,
            vec![
                vec![json!("2026-11-30"), json!(2)],
                vec![json!("2026-12-07"), json!(1)],
                vec![Value::Null, json!(1)],
            ]
        );
    }

    #[test]
    fn a_range_and_a_condition_keep_rows_and_no_group_is_one_row() {
        let kept = run(
            json!({"from": "contacts", "where": "lower(company) == \"acme\"", "metrics": ["count"], "range": {"from": "2026-12-02", "to": "2026-12-31", "field": "at"}}),
            &rows(),
        );
        assert_eq!(kept, vec![vec![json!(1)]]);
        let none = run(
            json!({"from": "contacts", "metrics": ["count", "sum(amount)"]}),
            &[],
        );
        assert_eq!(none, vec![vec![json!(0), json!(0)]]);
    }

    #[test]
    fn refusals_name_the_part_and_the_column() {
        let says = |spec: Value| plan(spec).unwrap_err().to_string();
        assert!(says(json!({"from": "contacts", "metrics": []})).starts_with("metrics:"));
        assert!(
            says(json!({"from": "contacts", "metrics": ["sum(amount"]})).contains("metrics[0]")
        );
        assert!(
            says(json!({"from": "contacts", "metrics": ["sum(nope)"]}))
                .contains("metrics[0]: at column 5: unknown field")
        );
        assert!(
            says(json!({"from": "contacts", "metrics": ["count"], "order_by": ["total"]}))
                .contains("order_by[0]")
        );
        assert!(
            says(json!({"from": "contacts", "metrics": ["count"], "limit": 0}))
                .starts_with("limit:")
        );
        assert!(
            says(
                json!({"from": "dataset:x", "metrics": ["count"], "range": {"from": "2026-01-01"}})
            )
            .starts_with("range.field:")
        );
        assert!(says(json!({"from": "contacts", "metrics": ["count"], "range": {"from": "yesterday", "field": "at"}})).starts_with("range.from:"));
    }
}
