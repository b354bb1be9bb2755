//! The static check: an expression's type from its fields' types, every call's
//! arguments checked against what the function takes, before any data is read.

use std::fmt::{self, Display, Formatter};

use crate::func::{bad_date_format, is_date_format};
use crate::{Expr, Func, Type, TypeError, Value};

impl Display for Type {
    /// As a message names it: "a number", "text", "an array", ….
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Null => "null",
            Type::Bool => "a boolean",
            Type::Number => "a number",
            Type::String => "text",
            Type::Date => "a date",
            Type::Datetime => "a datetime",
            Type::Array => "an array",
            Type::Any => "of any type",
        })
    }
}

fn literal_type(v: &Value) -> Type {
    match v {
        Value::Null => Type::Null,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
    }
}

impl Expr {
    /// The type the expression evaluates to, given each field's type, or the first
    /// call (left to right, innermost first) that cannot take its arguments, at the
    /// call's column (at the format's, for a `to_date` format that is not a date
    /// format literal). See the crate docs for the rules.
    pub fn type_of(&self, field_type: &dyn Fn(&[String]) -> Type) -> Result<Type, TypeError> {
        match self {
            Expr::Literal(v, _) => Ok(literal_type(v)),
            Expr::Field(path, _) => Ok(field_type(path)),
            Expr::Not(e, _) => {
                e.type_of(field_type)?;
                Ok(Type::Bool)
            }
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Compare(a, _, b) => {
                a.type_of(field_type)?;
                b.type_of(field_type)?;
                Ok(Type::Bool)
            }
            Expr::Call { func, args, column } => call_type(*func, args, column.0, field_type),
        }
    }
}

fn call_type(
    func: Func,
    args: &[Expr],
    column: usize,
    field_type: &dyn Fn(&[String]) -> Type,
) -> Result<Type, TypeError> {
    func.check_arity(args.len())
        .map_err(|message| TypeError { column, message })?;
    let types = args
        .iter()
        .map(|a| a.type_of(field_type))
        .collect::<Result<Vec<_>, _>>()?;
    let typed = || args.iter().zip(types.iter().copied());
    // Every argument but the ones skipped must be Null, Any or one of `allowed`.
    let takes = |skip: usize, allowed: &[Type], what: &str| -> Result<(), TypeError> {
        match typed()
            .skip(skip)
            .find(|(_, t)| !matches!(t, Type::Null | Type::Any) && !allowed.contains(t))
        {
            None => Ok(()),
            Some((arg, t)) => Err(TypeError {
                column,
                message: format!("{func} takes {what}, and `{}` is {t}", snippet(arg)),
            }),
        }
    };
    const SCALARS: &[Type] = &[
        Type::Bool,
        Type::Number,
        Type::String,
        Type::Date,
        Type::Datetime,
    ];
    match func {
        Func::Trim | Func::Lower | Func::Upper | Func::Replace => {
            takes(0, &[Type::String], "text")?;
            Ok(Type::String)
        }
        Func::Split => {
            takes(0, &[Type::String], "text")?;
            Ok(Type::Array)
        }
        Func::ToNumber => {
            takes(0, &[Type::String, Type::Number], "text or a number")?;
            Ok(Type::Number)
        }
        Func::ToBool => {
            takes(
                0,
                &[Type::String, Type::Number, Type::Bool],
                "text, a number or a boolean",
            )?;
            Ok(Type::Bool)
        }
        Func::ToDate => {
            if let Some((arg, t)) = typed().next()
                && !matches!(t, Type::Null | Type::Any | Type::String | Type::Date)
            {
                return Err(TypeError {
                    column,
                    message: format!(
                        "to_date takes text or a date, and `{}` is {t}",
                        snippet(arg)
                    ),
                });
            }
            match args.get(1) {
                Some(Expr::Literal(Value::String(format), c)) if !is_date_format(format) => {
                    return Err(TypeError {
                        column: c.0,
                        message: bad_date_format(format),
                    });
                }
                // A format literal chrono reads dates with; or (arity checked) none.
                Some(Expr::Literal(Value::String(_), _)) | None => {}
                Some(other) => {
                    return Err(TypeError {
                        column: other.column(),
                        message: format!(
                            "to_date takes its format as a text literal, like \"%d/%m/%Y\"; `{}` is not one",
                            snippet(other)
                        ),
                    });
                }
            }
            Ok(Type::Date)
        }
        Func::Concat => {
            takes(0, SCALARS, "text, numbers, booleans or dates")?;
            Ok(Type::String)
        }
        Func::Coalesce => {
            let mut common = Type::Null;
            for t in types {
                common = match (common, t) {
                    (c, Type::Null) => c,
                    (Type::Null, t) => t,
                    (c, t) if c == t => c,
                    _ => Type::Any,
                };
            }
            Ok(common)
        }
    }
}

/// An argument's canonical text for a message, cut to a readable length.
fn snippet(e: &Expr) -> String {
    crate::print::shorten(e.to_string(), 40)
}
