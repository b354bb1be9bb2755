//! What each function does at runtime, and which formats `to_date` takes.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::print::write_number;
use crate::{Datum, Func};

/// A function refusing its arguments: the message, and which argument's column it
/// belongs at (`None`: the call's).
pub(crate) struct Failure {
    pub(crate) arg: Option<usize>,
    pub(crate) message: String,
}

impl Failure {
    fn call(message: String) -> Failure {
        Failure { arg: None, message }
    }
}

/// `func` applied to its evaluated (normalized) arguments. `coalesce` is here for
/// completeness; evaluation runs it lazily itself.
pub(crate) fn apply(func: Func, args: Vec<Datum>) -> Result<Datum, Failure> {
    func.check_arity(args.len()).map_err(Failure::call)?;
    match func {
        Func::Concat => return concat(args),
        Func::Coalesce => {
            return Ok(args
                .into_iter()
                .find(|a| !a.is_blank())
                .unwrap_or(Datum::Null));
        }
        _ => {}
    }
    // Null propagates: a missing cell gives a missing result, not an error.
    if args.iter().any(|a| matches!(a, Datum::Null)) {
        return Ok(Datum::Null);
    }
    let mut args = args.into_iter();
    // The arity is checked: every `next` below has an argument to take.
    let mut next = || args.next().unwrap_or(Datum::Null);
    Ok(match func {
        Func::Trim => {
            let s = text(func, next())?;
            Datum::String(s.trim().to_owned())
        }
        Func::Lower => Datum::String(text(func, next())?.to_lowercase()),
        Func::Upper => Datum::String(text(func, next())?.to_uppercase()),
        Func::Split => {
            let s = text(func, next())?;
            let sep = text(func, next())?;
            if sep.is_empty() {
                return Err(Failure::call("split: the separator is empty".to_owned()));
            }
            Datum::Array(
                s.split(sep.as_str())
                    .map(|part| Datum::String(part.to_owned()))
                    .collect(),
            )
        }
        Func::Replace => {
            let s = text(func, next())?;
            let from = text(func, next())?;
            let to = text(func, next())?;
            if from.is_empty() {
                return Err(Failure::call(
                    "replace: the text to replace is empty".to_owned(),
                ));
            }
            Datum::String(s.replace(from.as_str(), &to))
        }
        Func::ToNumber => to_number(next())?,
        Func::ToBool => to_bool(next())?,
        Func::ToDate => to_date(next(), next())?,
        // Handled above.
        Func::Concat | Func::Coalesce => Datum::Null,
    })
}

fn text(func: Func, arg: Datum) -> Result<String, Failure> {
    match arg {
        Datum::String(s) => Ok(s),
        other => Err(Failure::call(format!(
            "{func}: {} is not text",
            other.show()
        ))),
    }
}

fn to_number(arg: Datum) -> Result<Datum, Failure> {
    let number = match &arg {
        Datum::Number(n) => Some(*n),
        // Rust reads "inf" and "NaN" too: only finite numbers are numbers here.
        Datum::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    };
    number
        .map(Datum::Number)
        .ok_or_else(|| Failure::call(format!("to_number: {} is not a number", arg.show())))
}

fn to_bool(arg: Datum) -> Result<Datum, Failure> {
    let truth = match &arg {
        Datum::Bool(b) => Some(*b),
        Datum::Number(n) if *n == 1.0 => Some(true),
        Datum::Number(n) if *n == 0.0 => Some(false),
        Datum::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Some(true),
            "false" | "no" | "n" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    truth.map(Datum::Bool).ok_or_else(|| {
        Failure::call(format!(
            "to_bool: {} is not a boolean (true/false, yes/no, y/n, 1/0)",
            arg.show()
        ))
    })
}

fn to_date(arg: Datum, format: Datum) -> Result<Datum, Failure> {
    let Datum::String(format) = format else {
        return Err(Failure {
            arg: Some(1),
            message: format!("to_date: the format {} is not text", format.show()),
        });
    };
    match arg {
        Datum::Date(d) => Ok(Datum::Date(d)),
        Datum::String(s) => NaiveDate::parse_from_str(s.trim(), &format)
            .map(Datum::Date)
            .map_err(|_| {
                // Only on failure: whose fault is it, the format's or the text's?
                if is_date_format(&format) {
                    Failure::call(format!(
                        "to_date: {} does not match {}",
                        Datum::String(s).show(),
                        Datum::String(format).show()
                    ))
                } else {
                    Failure {
                        arg: Some(1),
                        message: bad_date_format(&format),
                    }
                }
            }),
        other => Err(Failure::call(format!(
            "to_date: {} is not text or a date",
            other.show()
        ))),
    }
}

/// The message for a format `to_date` cannot use.
pub(crate) fn bad_date_format(format: &str) -> String {
    format!(
        "to_date: {} is not a date format: it must give the day, month and year, as \"%d/%m/%Y\" or \"%Y-%m-%d\" do",
        Datum::String(format.to_owned()).show()
    )
}

/// Whether chrono can read dates with `format`: it must be valid strftime and give
/// a whole date. Checked by writing a sample moment with it and reading the date
/// back, which is exactly what `to_date` will ask of chrono (a format that leaves
/// out the day, or only has a time, cannot give the date back).
pub(crate) fn is_date_format(format: &str) -> bool {
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return false;
    }
    let Some(date) = NaiveDate::from_ymd_opt(2001, 2, 3) else {
        return false;
    };
    let (Some(moment), Some(utc)) = (date.and_hms_opt(4, 5, 6), FixedOffset::east_opt(0)) else {
        return false;
    };
    let sample = DateTime::<FixedOffset>::from_naive_utc_and_offset(moment, utc);
    let mut text = String::new();
    // Formatting refuses (Err) what the sample cannot fill: never a panic here.
    if write!(text, "{}", sample.format_with_items(items.iter())).is_err() {
        return false;
    }
    NaiveDate::parse_from_str(&text, format) == Ok(date)
}

fn concat(args: Vec<Datum>) -> Result<Datum, Failure> {
    let mut out = String::new();
    for arg in args {
        // Writing to a String cannot fail.
        let _ = match &arg {
            Datum::Null => Ok(()),
            Datum::String(s) => out.write_str(s),
            Datum::Bool(b) => write!(out, "{b}"),
            Datum::Number(n) if n.is_finite() => write_number(&mut out, *n),
            Datum::Number(n) => write!(out, "{n}"),
            Datum::Date(d) => write!(out, "{d}"),
            Datum::Datetime(t) => out.write_str(&t.to_rfc3339()),
            Datum::Array(_) | Datum::Json(_) => {
                return Err(Failure::call(format!(
                    "concat: {} is not text, a number, a boolean or a date",
                    arg.show()
                )));
            }
        };
    }
    Ok(Datum::String(out))
}
