//! Evaluation: total, short-circuiting, over a caller-supplied field lookup.

use serde_json::Value as Json;

use crate::{CmpOp, Expr, Value};

/// What a sub-expression evaluates to, borrowed where possible.
enum Val<'a> {
    Lit(&'a Value),
    Json(Json),
    Bool(bool),
}

/// A value as comparisons see it.
enum View<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    /// Arrays, objects (and numbers without an `f64` form).
    Other(&'a Json),
}

impl Val<'_> {
    fn view(&self) -> View<'_> {
        match self {
            Val::Bool(b) => View::Bool(*b),
            Val::Lit(Value::Null) => View::Null,
            Val::Lit(Value::Bool(b)) => View::Bool(*b),
            Val::Lit(Value::Number(n)) => View::Num(*n),
            Val::Lit(Value::String(s)) => View::Str(s),
            Val::Json(Json::Null) => View::Null,
            Val::Json(Json::Bool(b)) => View::Bool(*b),
            Val::Json(j @ Json::Number(n)) => n.as_f64().map_or(View::Other(j), View::Num),
            Val::Json(Json::String(s)) => View::Str(s),
            Val::Json(j) => View::Other(j),
        }
    }
}

impl View<'_> {
    fn truthy(&self) -> bool {
        match self {
            View::Null => false,
            View::Bool(b) => *b,
            View::Num(n) => *n != 0.0,
            View::Str(s) => !s.is_empty(),
            View::Other(_) => true,
        }
    }
}

fn equal(a: &View<'_>, b: &View<'_>) -> bool {
    match (a, b) {
        (View::Null, View::Null) => true,
        (View::Bool(x), View::Bool(y)) => x == y,
        (View::Num(x), View::Num(y)) => x == y,
        (View::Str(x), View::Str(y)) => x == y,
        (View::Other(x), View::Other(y)) => x == y,
        _ => false,
    }
}

fn compare(a: &View<'_>, op: CmpOp, b: &View<'_>) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        _ if op == CmpOp::Eq => return equal(a, b),
        _ if op == CmpOp::Ne => return !equal(a, b),
        (View::Num(x), View::Num(y)) => x.partial_cmp(y),
        // UTF-8 byte order is Unicode scalar value order.
        (View::Str(x), View::Str(y)) => Some(x.cmp(y)),
        _ => None,
    };
    matches!(
        (ord, op),
        (Some(Ordering::Less), CmpOp::Lt | CmpOp::Le)
            | (Some(Ordering::Equal), CmpOp::Le | CmpOp::Ge)
            | (Some(Ordering::Greater), CmpOp::Gt | CmpOp::Ge)
    )
}

type Lookup<'l> = &'l dyn Fn(&[String]) -> Option<Json>;

impl Expr {
    /// The truth of the whole expression (see the crate docs for the semantics).
    /// `lookup` returns a field's value, `None` (or `Some(Null)`) when missing.
    pub fn eval(&self, lookup: &dyn Fn(&[String]) -> Option<Json>) -> bool {
        self.truthy(lookup)
    }

    fn truthy(&self, lookup: Lookup<'_>) -> bool {
        match self {
            Expr::Not(e) => !e.truthy(lookup),
            Expr::And(a, b) => a.truthy(lookup) && b.truthy(lookup),
            Expr::Or(a, b) => a.truthy(lookup) || b.truthy(lookup),
            Expr::Compare(a, op, b) => {
                compare(&a.value(lookup).view(), *op, &b.value(lookup).view())
            }
            Expr::Literal(_) | Expr::Field(_) => self.value(lookup).view().truthy(),
        }
    }

    fn value(&self, lookup: Lookup<'_>) -> Val<'_> {
        match self {
            Expr::Literal(v) => Val::Lit(v),
            Expr::Field(path) => Val::Json(lookup(path).unwrap_or(Json::Null)),
            _ => Val::Bool(self.truthy(lookup)),
        }
    }

    /// The field paths the expression reads, left to right (repeats included).
    pub fn fields(&self) -> FieldPaths<'_> {
        FieldPaths { stack: vec![self] }
    }
}

/// Iterator over the field paths of an [`Expr`], from [`Expr::fields`].
#[derive(Debug, Clone)]
pub struct FieldPaths<'a> {
    stack: Vec<&'a Expr>,
}

impl<'a> Iterator for FieldPaths<'a> {
    type Item = &'a [String];

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(e) = self.stack.pop() {
            match e {
                Expr::Field(path) => return Some(path),
                Expr::Literal(_) => {}
                Expr::Not(x) => self.stack.push(x),
                Expr::And(a, b) | Expr::Or(a, b) | Expr::Compare(a, _, b) => {
                    self.stack.push(b);
                    self.stack.push(a);
                }
            }
        }
        None
    }
}
