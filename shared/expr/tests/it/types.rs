//! The static check: `Expr::type_of` over a mapping's column types.

use crate::common::parse_map;
use relinx_expr::{Column, Expr, Func, Type, TypeError, Value};

fn field_type(path: &[String]) -> Type {
    match path[0].as_str() {
        "name" | "email" | "E-mail" | "First name" => Type::String,
        "amount" => Type::Number,
        "born" => Type::Date,
        "seen" => Type::Datetime,
        "flag" => Type::Bool,
        "tags" => Type::Array,
        "nothing" => Type::Null,
        _ => Type::Any,
    }
}

fn type_of(src: &str) -> Result<Type, TypeError> {
    parse_map(src)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"))
        .type_of(&field_type)
}

fn ok(src: &str) -> Type {
    type_of(src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

/// Asserts the error's column and exact message.
fn type_err(src: &str, column: usize, message: &str) {
    match type_of(src) {
        Ok(t) => panic!("{src:?} typed as {t:?}"),
        Err(e) => {
            assert_eq!(e.message, message, "{src:?}");
            assert_eq!(e.column, column, "{src:?}: {e}");
        }
    }
}

#[test]
fn leaves_and_operators() {
    assert_eq!(ok("name"), Type::String);
    assert_eq!(ok("`E-mail`"), Type::String);
    assert_eq!(ok("born"), Type::Date);
    assert_eq!(ok("obj.a.b"), Type::Any);
    assert_eq!(ok("1"), Type::Number);
    assert_eq!(ok("\"x\""), Type::String);
    assert_eq!(ok("true"), Type::Bool);
    assert_eq!(ok("null"), Type::Null);
    assert_eq!(ok("amount > 1"), Type::Bool);
    assert_eq!(ok("name && amount"), Type::Bool);
    assert_eq!(ok("name || tags"), Type::Bool);
    assert_eq!(ok("!name"), Type::Bool);
    // Operands are checked too.
    type_err(
        "amount > 1 && lower(amount) == \"x\"",
        15,
        "lower takes text, and `amount` is a number",
    );
    type_err("!trim(flag)", 2, "trim takes text, and `flag` is a boolean");
}

#[test]
fn text_functions() {
    assert_eq!(ok("lower(trim(name))"), Type::String);
    assert_eq!(ok("upper(`E-mail`)"), Type::String);
    assert_eq!(ok("split(name, \",\")"), Type::Array);
    assert_eq!(ok("replace(name, \"a\", \"b\")"), Type::String);
    // Any and null pass: the data decides (null propagates).
    assert_eq!(ok("lower(obj.x)"), Type::String);
    assert_eq!(ok("lower(nothing)"), Type::String);
    assert_eq!(ok("lower(null)"), Type::String);
    type_err(
        "lower(amount)",
        1,
        "lower takes text, and `amount` is a number",
    );
    type_err("upper(born)", 1, "upper takes text, and `born` is a date");
    type_err("trim(seen)", 1, "trim takes text, and `seen` is a datetime");
    type_err("split(name, 1)", 1, "split takes text, and `1` is a number");
    type_err(
        "replace(name, \"a\", tags)",
        1,
        "replace takes text, and `tags` is an array",
    );
    type_err(
        "lower(to_number(name))",
        1,
        "lower takes text, and `to_number(name)` is a number",
    );
}

#[test]
fn conversions() {
    assert_eq!(ok("to_number(name)"), Type::Number);
    assert_eq!(ok("to_number(amount)"), Type::Number);
    assert_eq!(ok("to_bool(name)"), Type::Bool);
    assert_eq!(ok("to_bool(amount)"), Type::Bool);
    assert_eq!(ok("to_bool(flag)"), Type::Bool);
    assert_eq!(ok("to_date(name, \"%d/%m/%Y\")"), Type::Date);
    assert_eq!(ok("to_date(born, \"%Y-%m-%d\")"), Type::Date);
    assert_eq!(ok("to_date(obj.d, \"%d %B %Y\")"), Type::Date);
    assert_eq!(ok("to_date(name, \"%Y-%m-%dT%H:%M:%S%z\")"), Type::Date);
    type_err(
        "to_number(flag)",
        1,
        "to_number takes text or a number, and `flag` is a boolean",
    );
    type_err(
        "to_bool(born)",
        1,
        "to_bool takes text, a number or a boolean, and `born` is a date",
    );
    type_err(
        "to_date(amount, \"%Y-%m-%d\")",
        1,
        "to_date takes text or a date, and `amount` is a number",
    );
    // The format: a literal chrono can read a whole date with, checked here, at
    // the format's column.
    for bad in ["%Q", "%H:%M", "%Y-%m", "", "%"] {
        type_err(
            &format!("to_date(name, \"{bad}\")"),
            15,
            &format!(
                "to_date: \"{bad}\" is not a date format: it must give the day, month and \
                 year, as \"%d/%m/%Y\" or \"%Y-%m-%d\" do"
            ),
        );
    }
    type_err(
        "to_date(name, email)",
        15,
        "to_date takes its format as a text literal, like \"%d/%m/%Y\"; `email` is not one",
    );
    type_err(
        "to_date(name,  null)",
        16,
        "to_date takes its format as a text literal, like \"%d/%m/%Y\"; `null` is not one",
    );
}

#[test]
fn concat_and_coalesce() {
    assert_eq!(
        ok("concat(name, \" \", amount, flag, born, seen, nothing, obj)"),
        Type::String
    );
    type_err(
        "concat(name, tags)",
        1,
        "concat takes text, numbers, booleans or dates, and `tags` is an array",
    );
    assert_eq!(ok("coalesce(name)"), Type::String);
    assert_eq!(ok("coalesce(nothing, name, null, \"x\")"), Type::String);
    assert_eq!(ok("coalesce(name, amount)"), Type::Any);
    assert_eq!(ok("coalesce(name, obj)"), Type::Any);
    assert_eq!(ok("coalesce(null, nothing)"), Type::Null);
    assert_eq!(
        ok("coalesce(to_date(name, \"%d/%m/%Y\"), born)"),
        Type::Date
    );
}

#[test]
fn errors_point_at_the_call() {
    // The type error inside concat is lower's, at lower's column.
    type_err(
        "concat(name, lower(amount))",
        14,
        "lower takes text, and `amount` is a number",
    );
    type_err(
        "name == \"é\" || concat(`First name`, upper(flag))",
        37,
        "upper takes text, and `flag` is a boolean",
    );
    // Long arguments are cut.
    let e = type_of(&format!(
        "lower(to_number(concat(name, \"{}\")))",
        "x".repeat(80)
    ))
    .unwrap_err();
    assert!(e.message.contains('…'), "{e}");
    assert!(e.message.chars().count() < 100, "{e}");
}

#[test]
fn built_calls_are_checked_too() {
    // The parser never builds a call with the wrong number of arguments; code may.
    let e = Expr::Call {
        func: Func::Lower,
        args: vec![],
        column: Column(4),
    };
    let err = e.type_of(&field_type).unwrap_err();
    assert_eq!(err.column, 4);
    assert_eq!(err.message, "lower takes 1 argument, got none: lower(text)");
    let err = e.evaluate(&|_| None).unwrap_err();
    assert_eq!(err.message, "lower takes 1 argument, got none: lower(text)");
    assert!(!e.eval(&|_| None));
    let ok = Expr::Call {
        func: Func::Upper,
        args: vec![Expr::Literal(Value::String("a".to_owned()), Column(0))],
        column: Column(0),
    };
    assert_eq!(ok.to_string(), "upper(\"a\")");
    assert_eq!(ok.type_of(&field_type), Ok(Type::String));
}

#[test]
fn type_names_in_messages() {
    let names: Vec<String> = [
        Type::Null,
        Type::Bool,
        Type::Number,
        Type::String,
        Type::Date,
        Type::Datetime,
        Type::Array,
        Type::Any,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        [
            "null",
            "a boolean",
            "a number",
            "text",
            "a date",
            "a datetime",
            "an array",
            "of any type"
        ]
    );
}
