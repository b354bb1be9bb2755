//! Runtime values: what an expression evaluates to and what a lookup supplies.

use std::cmp::Ordering;
use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde_json::Value as Json;

use crate::print::{write_number, write_string};
use crate::{CmpOp, Type, Value};

/// A typed runtime value: what [`Expr::evaluate`](crate::Expr::evaluate) gives and
/// what its lookup supplies.
///
/// Dates are their own type rather than text so that they compare
/// chronologically and convert once; JSON objects (and anything
/// [`Datum::from_json`] has no better type for) stay as they are, in `Json`.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Date(NaiveDate),
    Datetime(DateTime<FixedOffset>),
    Array(Vec<Datum>),
    /// A JSON object, or a JSON number with no `f64` form. A lookup may return any
    /// JSON here: evaluation reads a scalar or an array in it as
    /// [`Datum::from_json`] would.
    Json(Json),
}

impl Datum {
    /// The datum for a JSON value: scalars to their types, arrays element by
    /// element, objects as `Json`. Strings stay strings (a date in a JSON string
    /// is text until `to_date` reads it).
    pub fn from_json(value: Json) -> Datum {
        match value {
            Json::Null => Datum::Null,
            Json::Bool(b) => Datum::Bool(b),
            Json::Number(n) => match n.as_f64() {
                Some(f) => Datum::Number(f),
                None => Datum::Json(Json::Number(n)),
            },
            Json::String(s) => Datum::String(s),
            Json::Array(items) => Datum::Array(items.into_iter().map(Datum::from_json).collect()),
            object @ Json::Object(_) => Datum::Json(object),
        }
    }

    /// The JSON for the datum: a date as `"YYYY-MM-DD"`, a datetime in RFC 3339,
    /// an integral number within ±2^53 as a JSON integer (`5`, not `5.0`), a
    /// non-finite number as `null` (JSON has none).
    pub fn to_json(&self) -> Json {
        match self {
            Datum::Null => Json::Null,
            Datum::Bool(b) => Json::Bool(*b),
            Datum::Number(n) => number_json(*n),
            Datum::String(s) => Json::String(s.clone()),
            Datum::Date(d) => Json::String(d.to_string()),
            Datum::Datetime(t) => Json::String(t.to_rfc3339()),
            Datum::Array(items) => Json::Array(items.iter().map(Datum::to_json).collect()),
            Datum::Json(j) => j.clone(),
        }
    }

    /// Its type. A JSON object (or anything without a type of its own) is
    /// [`Type::Any`].
    pub fn type_of(&self) -> Type {
        match self {
            Datum::Null => Type::Null,
            Datum::Bool(_) => Type::Bool,
            Datum::Number(_) => Type::Number,
            Datum::String(_) => Type::String,
            Datum::Date(_) => Type::Date,
            Datum::Datetime(_) => Type::Datetime,
            Datum::Array(_) => Type::Array,
            Datum::Json(j) => match j {
                Json::Null => Type::Null,
                Json::Bool(_) => Type::Bool,
                Json::Number(n) if n.as_f64().is_some() => Type::Number,
                Json::String(_) => Type::String,
                Json::Array(_) => Type::Array,
                Json::Number(_) | Json::Object(_) => Type::Any,
            },
        }
    }

    /// Truthiness, as `!`, `&&`, `||` and [`Expr::eval`](crate::Expr::eval) use it:
    /// `false`, null, `0` and `""` are false; everything else (including `[]`,
    /// `{}` and every date) is true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Datum::Null => false,
            Datum::Bool(b) => *b,
            Datum::Number(n) => *n != 0.0,
            Datum::String(s) => !s.is_empty(),
            Datum::Date(_) | Datum::Datetime(_) | Datum::Array(_) => true,
            Datum::Json(j) => match j {
                Json::Null => false,
                Json::Bool(b) => *b,
                Json::Number(n) => n.as_f64().is_none_or(|n| n != 0.0),
                Json::String(s) => !s.is_empty(),
                Json::Array(_) | Json::Object(_) => true,
            },
        }
    }

    /// Null, or the empty string: what `coalesce` passes over.
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Datum::Null => true,
            Datum::String(s) => s.is_empty(),
            Datum::Json(Json::Null) => true,
            Datum::Json(Json::String(s)) => s.is_empty(),
            _ => false,
        }
    }

    /// The datum with any JSON scalar or array a caller put in `Json` turned into
    /// its own variant, so the rest of evaluation sees one form of each value.
    pub(crate) fn normalize(self) -> Datum {
        match self {
            Datum::Json(j) => Datum::from_json(j),
            Datum::Array(items) => Datum::Array(items.into_iter().map(Datum::normalize).collect()),
            d => d,
        }
    }

    /// The value for messages: strings quoted and escaped, everything cut to a
    /// readable length (a row's cell may be long).
    pub(crate) fn show(&self) -> String {
        const MAX: usize = 60;
        let mut text = String::new();
        // Writing to a String cannot fail; the results only satisfy the signature.
        let _ = match self {
            Datum::String(s) => write_string(&mut text, s),
            Datum::Number(n) => write_number(&mut text, *n),
            // Bare, unlike text, so that a date never reads as a string.
            Datum::Date(d) => write!(text, "{d}"),
            Datum::Datetime(t) => text.write_str(&t.to_rfc3339()),
            other => write!(text, "{}", other.to_json()),
        };
        crate::print::shorten(text, MAX)
    }
}

/// An integral number within ±2^53 as a JSON integer, so `5` stays `5`.
fn number_json(n: f64) -> Json {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() <= EXACT {
        // In range and integral: the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

impl From<&Value> for Datum {
    fn from(value: &Value) -> Datum {
        match value {
            Value::Null => Datum::Null,
            Value::Bool(b) => Datum::Bool(*b),
            Value::Number(n) => Datum::Number(*n),
            Value::String(s) => Datum::String(s.clone()),
        }
    }
}

/// Equality as `==` sees it: numbers numerically, dates and datetimes by instant,
/// arrays element by element, objects as JSON; different types are unequal. Both
/// sides are normalized ([`Datum::normalize`]).
pub(crate) fn equal(a: &Datum, b: &Datum) -> bool {
    match (a, b) {
        (Datum::Null, Datum::Null) => true,
        (Datum::Bool(x), Datum::Bool(y)) => x == y,
        (Datum::Number(x), Datum::Number(y)) => x == y,
        (Datum::String(x), Datum::String(y)) => x == y,
        (Datum::Date(x), Datum::Date(y)) => x == y,
        (Datum::Datetime(x), Datum::Datetime(y)) => x == y,
        (Datum::Array(x), Datum::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Datum::Json(x), Datum::Json(y)) => x == y,
        _ => false,
    }
}

/// A comparison's truth (see [`equal`] for `==`/`!=`): the orders are numbers',
/// strings' by Unicode scalar value, dates' and datetimes'; any other pairing is
/// false.
pub(crate) fn compare(a: &Datum, op: CmpOp, b: &Datum) -> bool {
    let ord = match (a, b) {
        _ if op == CmpOp::Eq => return equal(a, b),
        _ if op == CmpOp::Ne => return !equal(a, b),
        (Datum::Number(x), Datum::Number(y)) => x.partial_cmp(y),
        // UTF-8 byte order is Unicode scalar value order.
        (Datum::String(x), Datum::String(y)) => Some(x.cmp(y)),
        (Datum::Date(x), Datum::Date(y)) => Some(x.cmp(y)),
        (Datum::Datetime(x), Datum::Datetime(y)) => Some(x.cmp(y)),
        _ => None,
    };
    matches!(
        (ord, op),
        (Some(Ordering::Less), CmpOp::Lt | CmpOp::Le)
            | (Some(Ordering::Equal), CmpOp::Le | CmpOp::Ge)
            | (Some(Ordering::Greater), CmpOp::Gt | CmpOp::Ge)
    )
}
