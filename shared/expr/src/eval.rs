//! Evaluation: short-circuiting, over a caller-supplied field lookup. One
//! evaluator serves both entry points: [`Expr::evaluate`] (typed result, errors
//! reported) and [`Expr::eval`] (policies: truthiness, total, a failing call
//! counting as null).

use serde_json::Value as Json;

use crate::datum::compare;
use crate::func::{Failure, apply};
use crate::{Column, Datum, EvalError, Expr, Func};

type Lookup<'l> = &'l dyn Fn(&[String]) -> Option<Datum>;

/// How one evaluation runs.
struct Cx<'l> {
    lookup: Lookup<'l>,
    /// A failing call gives null instead of an error (policy conditions: a record
    /// a function cannot read is simply not matched by that part).
    lenient: bool,
}

impl Expr {
    /// The truth of the whole expression (see the crate docs for the semantics).
    /// `lookup` returns a field's value, `None` (or `Some(Null)`) when missing.
    /// Total: a call that fails (`to_number("abc")`) counts as null.
    pub fn eval(&self, lookup: &dyn Fn(&[String]) -> Option<Json>) -> bool {
        let lookup = |path: &[String]| lookup(path).map(Datum::from_json);
        let cx = Cx {
            lookup: &lookup,
            lenient: true,
        };
        // Lenient evaluation has no errors to give; `false` only satisfies the type.
        self.value(&cx).is_ok_and(|d| d.is_truthy())
    }

    /// The value of the expression (see the crate docs for the semantics), or the
    /// first call that refused its input, at its column. `lookup` returns a field's
    /// value, `None` (or `Some(Datum::Null)`) when missing.
    pub fn evaluate(
        &self,
        lookup: &dyn Fn(&[String]) -> Option<Datum>,
    ) -> Result<Datum, EvalError> {
        self.value(&Cx {
            lookup,
            lenient: false,
        })
    }

    fn value(&self, cx: &Cx<'_>) -> Result<Datum, EvalError> {
        Ok(match self {
            Expr::Literal(v, _) => Datum::from(v),
            Expr::Field(path, _) => (cx.lookup)(path).map_or(Datum::Null, Datum::normalize),
            Expr::Not(e, _) => Datum::Bool(!e.truth(cx)?),
            Expr::And(a, b) => Datum::Bool(a.truth(cx)? && b.truth(cx)?),
            Expr::Or(a, b) => Datum::Bool(a.truth(cx)? || b.truth(cx)?),
            Expr::Compare(a, op, b) => {
                let a = a.value(cx)?;
                let b = b.value(cx)?;
                Datum::Bool(compare(&a, *op, &b))
            }
            Expr::Call { func, args, column } => call(*func, args, *column, cx)?,
        })
    }

    fn truth(&self, cx: &Cx<'_>) -> Result<bool, EvalError> {
        Ok(self.value(cx)?.is_truthy())
    }

    /// The field paths the expression reads, left to right (repeats included).
    pub fn fields(&self) -> FieldPaths<'_> {
        FieldPaths { stack: vec![self] }
    }
}

fn call(func: Func, args: &[Expr], column: Column, cx: &Cx<'_>) -> Result<Datum, EvalError> {
    let result = if func == Func::Coalesce {
        // Lazily: the arguments after the first non-blank one are not evaluated.
        let mut found = Datum::Null;
        for arg in args {
            let v = arg.value(cx)?;
            if !v.is_blank() {
                found = v;
                break;
            }
        }
        func.check_arity(args.len())
            .map(|()| found)
            .map_err(|message| Failure { arg: None, message })
    } else {
        let values = args
            .iter()
            .map(|a| a.value(cx))
            .collect::<Result<Vec<_>, _>>()?;
        apply(func, values)
    };
    match result {
        Ok(d) => Ok(d),
        Err(_) if cx.lenient => Ok(Datum::Null),
        Err(Failure { arg, message }) => Err(EvalError {
            column: arg.and_then(|i| args.get(i)).map_or(column.0, Expr::column),
            message,
        }),
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
                Expr::Field(path, _) => return Some(path),
                Expr::Literal(..) => {}
                Expr::Not(x, _) => self.stack.push(x),
                Expr::And(a, b) | Expr::Or(a, b) | Expr::Compare(a, _, b) => {
                    self.stack.push(b);
                    self.stack.push(a);
                }
                Expr::Call { args, .. } => self.stack.extend(args.iter().rev()),
            }
        }
        None
    }
}
