use std::cell::Cell;

use crate::common::{parse, parse_map};
use chrono::{DateTime, NaiveDate};
use relinx_expr::{Datum, EvalError};
use serde_json::{Value as Json, json};

/// Evaluates `src` over a record: `size` given, the rest looked up in `record`
/// (`data.a.b` walks into `record["data"]["a"]["b"]`).
fn eval(src: &str, record: &Json) -> bool {
    let e = parse(src).unwrap_or_else(|err| panic!("{src:?}: {err}"));
    e.eval(&|path: &[String]| {
        let mut v = record.get(path.first()?)?;
        for seg in &path[1..] {
            v = v.get(seg)?;
        }
        Some(v.clone())
    })
}

#[test]
fn size_threshold() {
    assert!(eval("size>5120", &json!({"size": 6000})));
    assert!(!eval("size>5120", &json!({"size": 100})));
    assert!(!eval("size>5120", &json!({})));
}

#[test]
fn type_and_site() {
    let rec = json!({"type": "inspection", "site": "alpha"});
    assert!(eval(r#"type == "inspection" && site == "alpha""#, &rec));
    assert!(!eval(r#"type == "inspection" && site == "beta""#, &rec));
    assert!(eval(r#"type == "x" || site == "alpha""#, &rec));
}

#[test]
fn negation() {
    assert!(eval(
        r#"!(status == "synced")"#,
        &json!({"status": "pending"})
    ));
    assert!(!eval(
        r#"!(status == "synced")"#,
        &json!({"status": "synced"})
    ));
    assert!(eval(r#"!(status == "synced")"#, &json!({})));
    assert!(eval("!!status", &json!({"status": "x"})));
}

#[test]
fn data_paths() {
    let rec = json!({"data": {"priority": 3, "tags": ["a"], "nested": {"k": "v"}}});
    assert!(eval("data.priority >= 3", &rec));
    assert!(!eval("data.priority > 3", &rec));
    assert!(eval("data.missing == null", &rec));
    assert!(eval("data.missing.deeper == null", &rec));
    assert!(!eval("data.missing != null", &rec));
    assert!(eval(r#"data.nested.k == "v""#, &rec));
    assert!(eval(r#"data["nested"]["k"] == "v""#, &rec));
    assert!(eval("data.tags == data.tags", &rec));
    assert!(eval("data", &rec));
    assert!(!eval("data.missing", &rec));
}

#[test]
fn numbers_compare_numerically() {
    assert!(eval("size == 5.0", &json!({"size": 5})));
    assert!(eval("size == 5", &json!({"size": 5.0})));
    assert!(eval("size <= 1e3", &json!({"size": 1000})));
    assert!(eval("size > -3", &json!({"size": 0})));
    assert!(eval(
        "data.a < data.b",
        &json!({"data": {"a": -1, "b": 2.5}})
    ));
}

#[test]
fn strings_compare_by_scalar_value() {
    assert!(eval(r#"title < "b""#, &json!({"title": "abc"})));
    assert!(eval(r#"title > "Z""#, &json!({"title": "a"})));
    assert!(eval(r#"title > "z""#, &json!({"title": "é"})));
    assert!(eval(r#"title < "😀""#, &json!({"title": "\u{ffff}"})));
    assert!(eval(
        r#"title >= "abc" && title <= "abc""#,
        &json!({"title": "abc"})
    ));
}

#[test]
fn mixed_types_are_false() {
    let rec = json!({"size": 10, "title": "10", "status": null, "data": {"o": {}, "b": true}});
    assert!(!eval(r#"size > "a""#, &rec));
    assert!(!eval(r#"size < "a""#, &rec));
    assert!(!eval(r#"size == "10""#, &rec));
    assert!(eval(r#"size != "10""#, &rec));
    assert!(!eval("status < 1", &rec));
    assert!(!eval("status >= null", &rec));
    assert!(!eval("data.b > false", &rec));
    assert!(!eval("data.o > data.o", &rec));
    assert!(!eval("title == 10", &rec));
}

#[test]
fn truthiness() {
    let rec = json!({"data": {"zero": 0, "empty": "", "f": false, "n": null, "arr": [], "obj": {}, "s": "x", "one": 1}});
    for falsy in [
        "data.zero",
        "data.empty",
        "data.f",
        "data.n",
        "data.none",
        "0",
        "\"\"",
        "false",
        "null",
        "-0",
    ] {
        assert!(!eval(falsy, &rec), "{falsy}");
        assert!(eval(&format!("!{falsy}"), &rec), "!{falsy}");
    }
    for truthy in [
        "data.arr", "data.obj", "data.s", "data.one", "1", "\"0\"", "true", "0.5",
    ] {
        assert!(eval(truthy, &rec), "{truthy}");
    }
    assert!(eval("data.s && data.one", &rec));
    assert!(!eval("data.s && data.zero", &rec));
    assert!(eval("data.zero || data.s", &rec));
}

#[test]
fn boolean_results_compare_as_booleans() {
    assert!(eval("(size > 1) == true", &json!({"size": 2})));
    assert!(eval("!size == true", &json!({})));
}

#[test]
fn short_circuit() {
    let calls = Cell::new(0);
    let lookup = |path: &[String]| {
        calls.set(calls.get() + 1);
        match path[0].as_str() {
            "size" => Some(json!(1)),
            _ => panic!("{path:?} should not be read"),
        }
    };
    assert!(parse("size == 1 || type == 2").unwrap().eval(&lookup));
    assert!(!parse("size == 2 && type == 2").unwrap().eval(&lookup));
    assert!(parse("!(size == 2 && type) || site").unwrap().eval(&lookup));
    assert_eq!(calls.get(), 3);
}

#[test]
fn long_chains_evaluate() {
    // The longest chains the length limit allows: 333 terms, 1,996 characters.
    let src = vec!["size"; 333].join("&&");
    assert!(eval(&src, &json!({"size": 2})));
    assert!(!eval(&src, &json!({"size": 0})));
    let src = vec!["size"; 333].join("||");
    assert!(!eval(&src, &json!({"size": 0})));
    let e = parse(&src).unwrap();
    assert_eq!(e.fields().count(), 333);
    // Canonical text adds spaces: 2,660 characters, over the limit.
    assert!(
        parse(&e.to_string())
            .unwrap_err()
            .message
            .contains("longer than 2000")
    );
}

// Typed evaluation (`evaluate`): functions, dates, errors; and calls in policies.

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A mapping's row: each source column's value.
fn row() -> Vec<(&'static str, Datum)> {
    vec![
        ("name", Datum::String("  Ada Lovelace ".to_owned())),
        ("email", Datum::String("Ada@Example.COM".to_owned())),
        ("amount", Datum::Number(12.5)),
        ("born", Datum::Date(date(1815, 12, 10))),
        (
            "seen",
            Datum::Datetime(DateTime::parse_from_rfc3339("2024-05-01T10:00:00+02:00").unwrap()),
        ),
        ("flag", Datum::Bool(true)),
        ("tags", Datum::Array(vec![Datum::String("a".to_owned())])),
        ("E-mail", Datum::String("x@y.z".to_owned())),
        ("obj", Datum::Json(json!({"k": "v"}))),
    ]
}

fn evaluate(src: &str) -> Result<Datum, EvalError> {
    let e = parse_map(src).unwrap_or_else(|err| panic!("{src:?}: {err}"));
    let row = row();
    e.evaluate(&|path: &[String]| {
        let (_, v) = row.iter().find(|(k, _)| *k == path[0])?;
        Some(v.clone())
    })
}

fn value(src: &str) -> Datum {
    evaluate(src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

fn text(s: &str) -> Datum {
    Datum::String(s.to_owned())
}

/// Asserts the error's column and exact message.
fn eval_err(src: &str, column: usize, message: &str) {
    match evaluate(src) {
        Ok(d) => panic!("{src:?} gave {d:?}"),
        Err(e) => {
            assert_eq!(e.message, message, "{src:?}");
            assert_eq!(e.column, column, "{src:?}: {e}");
        }
    }
}

#[test]
fn text_functions() {
    assert_eq!(value("trim(name)"), text("Ada Lovelace"));
    assert_eq!(value("lower(trim(email))"), text("ada@example.com"));
    assert_eq!(value("upper(`E-mail`)"), text("X@Y.Z"));
    assert_eq!(value("upper(\"straße\")"), text("STRASSE"));
    assert_eq!(value("trim(\"\\t\\n x \")"), text("x"));
    assert_eq!(
        value("replace(trim(name), \" \", \"_\")"),
        text("Ada_Lovelace")
    );
    assert_eq!(value("replace(\"aaa\", \"a\", \"\")"), text(""));
    assert_eq!(
        value("split(\"a,b,,c\", \",\")"),
        Datum::Array(vec![text("a"), text("b"), text(""), text("c")])
    );
    assert_eq!(value("split(\"\", \",\")"), Datum::Array(vec![text("")]));
    eval_err("lower(amount)", 1, "lower: 12.5 is not text");
    eval_err("trim(tags)", 1, "trim: [\"a\"] is not text");
    eval_err("name == upper(flag)", 9, "upper: true is not text");
    eval_err("split(name, \"\")", 1, "split: the separator is empty");
    eval_err("split(name, 1)", 1, "split: 1 is not text");
    eval_err(
        "replace(name, \"\", \"x\")",
        1,
        "replace: the text to replace is empty",
    );
    eval_err(
        "replace(name, \"a\", obj)",
        1,
        "replace: {\"k\":\"v\"} is not text",
    );
}

#[test]
fn to_number() {
    assert_eq!(value("to_number(\"12.5\")"), Datum::Number(12.5));
    assert_eq!(value("to_number(\" -4e2 \")"), Datum::Number(-400.0));
    assert_eq!(value("to_number(amount)"), Datum::Number(12.5));
    eval_err(
        "to_number(\"abc\")",
        1,
        "to_number: \"abc\" is not a number",
    );
    eval_err("to_number(\"\")", 1, "to_number: \"\" is not a number");
    eval_err(
        "to_number(\"NaN\")",
        1,
        "to_number: \"NaN\" is not a number",
    );
    eval_err(
        "to_number(\"inf\")",
        1,
        "to_number: \"inf\" is not a number",
    );
    eval_err(
        "to_number(\"1e400\")",
        1,
        "to_number: \"1e400\" is not a number",
    );
    eval_err(
        "to_number(\"1,5\")",
        1,
        "to_number: \"1,5\" is not a number",
    );
    eval_err("to_number(flag)", 1, "to_number: true is not a number");
    eval_err(
        "to_number(born)",
        1,
        "to_number: 1815-12-10 is not a number",
    );
    // Long values are cut in messages.
    let long = "x".repeat(100);
    let e = evaluate(&format!("to_number(\"{long}\")")).unwrap_err();
    assert!(e.message.chars().count() < 100, "{e}");
    assert!(e.message.contains('…'), "{e}");
}

#[test]
fn to_bool() {
    for t in ["true", "TRUE", "Yes", "y", "1", " yes "] {
        assert_eq!(
            value(&format!("to_bool(\"{t}\")")),
            Datum::Bool(true),
            "{t}"
        );
    }
    for f in ["false", "False", "NO", "n", "0"] {
        assert_eq!(
            value(&format!("to_bool(\"{f}\")")),
            Datum::Bool(false),
            "{f}"
        );
    }
    assert_eq!(value("to_bool(flag)"), Datum::Bool(true));
    assert_eq!(value("to_bool(1)"), Datum::Bool(true));
    assert_eq!(value("to_bool(0)"), Datum::Bool(false));
    eval_err(
        "to_bool(\"maybe\")",
        1,
        "to_bool: \"maybe\" is not a boolean (true/false, yes/no, y/n, 1/0)",
    );
    eval_err(
        "to_bool(\"\")",
        1,
        "to_bool: \"\" is not a boolean (true/false, yes/no, y/n, 1/0)",
    );
    eval_err(
        "to_bool(2)",
        1,
        "to_bool: 2 is not a boolean (true/false, yes/no, y/n, 1/0)",
    );
    eval_err(
        "to_bool(born)",
        1,
        "to_bool: 1815-12-10 is not a boolean (true/false, yes/no, y/n, 1/0)",
    );
}

#[test]
fn to_date() {
    assert_eq!(
        value("to_date(\"31/01/1990\", \"%d/%m/%Y\")"),
        Datum::Date(date(1990, 1, 31))
    );
    assert_eq!(
        value("to_date(\" 1990-01-31 \", \"%Y-%m-%d\")"),
        Datum::Date(date(1990, 1, 31))
    );
    assert_eq!(
        value("to_date(\"10 December 1815\", \"%d %B %Y\")"),
        Datum::Date(date(1815, 12, 10))
    );
    // A date passes unchanged.
    assert_eq!(
        value("to_date(born, \"%d/%m/%Y\")"),
        Datum::Date(date(1815, 12, 10))
    );
    eval_err(
        "to_date(\"31/02/1990\", \"%d/%m/%Y\")",
        1,
        "to_date: \"31/02/1990\" does not match \"%d/%m/%Y\"",
    );
    eval_err(
        "to_date(\"1990-01-31\", \"%d/%m/%Y\")",
        1,
        "to_date: \"1990-01-31\" does not match \"%d/%m/%Y\"",
    );
    // A bad format (unchecked: evaluate runs without type_of) is the format's fault.
    eval_err(
        "to_date(name, \"%Q\")",
        15,
        "to_date: \"%Q\" is not a date format: it must give the day, month and year, \
         as \"%d/%m/%Y\" or \"%Y-%m-%d\" do",
    );
    eval_err("to_date(name, 5)", 15, "to_date: the format 5 is not text");
    eval_err(
        "to_date(amount, \"%Y\")",
        1,
        "to_date: 12.5 is not text or a date",
    );
    eval_err(
        "to_date(seen, \"%Y-%m-%d\")",
        1,
        "to_date: 2024-05-01T10:00:00+02:00 is not text or a date",
    );
}

#[test]
fn concat_and_coalesce() {
    assert_eq!(
        value("concat(trim(name), \" <\", lower(email), \">\")"),
        text("Ada Lovelace <ada@example.com>")
    );
    assert_eq!(
        value(
            "concat(\"n=\", 1, \" \", 2.5, \" \", 1e21, \" \", -0.1, \" \", flag, \" \", null, nothing, born)"
        ),
        text("n=1 2.5 1000000000000000000000 -0.1 true 1815-12-10")
    );
    assert_eq!(value("concat(seen)"), text("2024-05-01T10:00:00+02:00"));
    assert_eq!(value("concat(nothing)"), text(""));
    eval_err(
        "concat(name, tags)",
        1,
        "concat: [\"a\"] is not text, a number, a boolean or a date",
    );
    eval_err(
        "concat(obj)",
        1,
        "concat: {\"k\":\"v\"} is not text, a number, a boolean or a date",
    );

    assert_eq!(value("coalesce(nothing, \"\", \"x\", \"y\")"), text("x"));
    assert_eq!(value("coalesce(nothing, amount)"), Datum::Number(12.5));
    assert_eq!(value("coalesce(nothing, null, \"\")"), Datum::Null);
    assert_eq!(value("coalesce(0, 1)"), Datum::Number(0.0));
    assert_eq!(value("coalesce(false)"), Datum::Bool(false));
    // Lazy: what follows the first value is not evaluated.
    assert_eq!(value("coalesce(\"x\", to_number(\"abc\"))"), text("x"));
    eval_err(
        "coalesce(\"\", to_number(\"abc\"))",
        14,
        "to_number: \"abc\" is not a number",
    );
}

#[test]
fn null_propagates() {
    for src in [
        "trim(nothing)",
        "lower(null)",
        "upper(nothing)",
        "split(nothing, \",\")",
        "split(name, nothing)",
        "replace(name, nothing, \"x\")",
        "to_date(nothing, \"%d/%m/%Y\")",
        "to_number(null)",
        "to_bool(nothing)",
        "lower(trim(to_number(nothing)))",
    ] {
        assert_eq!(value(src), Datum::Null, "{src}");
    }
}

#[test]
fn typed_comparisons() {
    let t = Datum::Bool(true);
    let f = Datum::Bool(false);
    assert_eq!(value("to_date(\"1990-01-31\", \"%Y-%m-%d\") > born"), t);
    assert_eq!(value("born < to_date(\"11/12/1815\", \"%d/%m/%Y\")"), t);
    assert_eq!(value("born == to_date(\"10/12/1815\", \"%d/%m/%Y\")"), t);
    assert_eq!(value("born <= to_date(\"10/12/1815\", \"%d/%m/%Y\")"), t);
    assert_eq!(value("born != to_date(\"10/12/1815\", \"%d/%m/%Y\")"), f);
    // A date is not text, nor a datetime.
    assert_eq!(value("born == \"1815-12-10\""), f);
    assert_eq!(value("born < \"2000\""), f);
    assert_eq!(value("born < seen"), f);
    assert_eq!(value("born == seen"), f);
    assert_eq!(value("seen == seen && seen >= seen && !(seen < seen)"), t);
    // Arrays element by element.
    assert_eq!(value("split(\"a,b\", \",\") == split(\"a;b\", \";\")"), t);
    assert_eq!(value("split(\"a,b\", \",\") == split(\"a,c\", \",\")"), f);
    assert_eq!(value("split(\"a\", \",\") == tags"), t);
    assert_eq!(value("split(\"a\", \",\") < tags"), f);
    // Today's scalar semantics.
    assert_eq!(value("to_number(\"12.50\") == amount"), t);
    assert_eq!(value("to_number(\"12.5\") == \"12.5\""), f);
    assert_eq!(value("lower(email) > \"a\""), t);
    // Connectives give booleans.
    assert_eq!(value("name && amount"), t);
    assert_eq!(value("nothing || \"\""), f);
    assert_eq!(value("!nothing"), t);
    assert_eq!(value("amount"), Datum::Number(12.5));
    assert_eq!(value("obj"), Datum::Json(json!({"k": "v"})));
    // An error inside a comparison is an error, at its call.
    eval_err(
        "amount > to_number(name)",
        10,
        "to_number: \"  Ada Lovelace \" is not a number",
    );
    // Short-circuits skip it.
    assert_eq!(value("nothing && to_number(name)"), f);
    assert_eq!(value("flag || to_number(name)"), t);
}

#[test]
fn datetimes_compare_by_instant() {
    let e = parse_map("seen == born").unwrap();
    let at = |s: &str| Datum::Datetime(DateTime::parse_from_rfc3339(s).unwrap());
    let pair = |a: Datum, b: Datum| {
        move |path: &[String]| {
            Some(if path[0] == "seen" {
                a.clone()
            } else {
                b.clone()
            })
        }
    };
    let same = pair(at("2024-05-01T10:00:00+02:00"), at("2024-05-01T08:00:00Z"));
    assert_eq!(e.evaluate(&same).unwrap(), Datum::Bool(true));
    let later = parse_map("seen > born").unwrap();
    let l = pair(at("2024-05-01T10:00:00+02:00"), at("2024-05-01T07:59:59Z"));
    assert_eq!(later.evaluate(&l).unwrap(), Datum::Bool(true));
}

#[test]
fn lookups_may_give_json() {
    // A lookup may hand over raw JSON: read as from_json would.
    let e = parse_map("lower(name) == \"x\" && amount > 1 && tags == split(\"a\", \",\")").unwrap();
    let lookup = |path: &[String]| {
        Some(Datum::Json(match path[0].as_str() {
            "name" => json!("X"),
            "amount" => json!(2),
            _ => json!(["a"]),
        }))
    };
    assert_eq!(e.evaluate(&lookup).unwrap(), Datum::Bool(true));
}

#[test]
fn datum_json() {
    assert_eq!(
        Datum::Date(date(1990, 1, 31)).to_json(),
        json!("1990-01-31")
    );
    assert_eq!(
        Datum::Datetime(DateTime::parse_from_rfc3339("2024-05-01T10:00:00.5+02:00").unwrap())
            .to_json(),
        json!("2024-05-01T10:00:00.500+02:00")
    );
    assert_eq!(Datum::Number(5.0).to_json().to_string(), "5");
    assert_eq!(Datum::Number(2.5).to_json(), json!(2.5));
    assert_eq!(Datum::Number(1e300).to_json(), json!(1e300));
    assert_eq!(Datum::Number(f64::NAN).to_json(), Json::Null);
    assert_eq!(
        Datum::Array(vec![Datum::Null, Datum::Bool(true), text("a")]).to_json(),
        json!([null, true, "a"])
    );
    let doc = json!({"a": [1, "x", {"b": null}], "c": 2.5});
    assert_eq!(Datum::Json(doc.clone()).to_json(), doc);

    assert_eq!(Datum::from_json(json!(null)), Datum::Null);
    assert_eq!(Datum::from_json(json!(false)), Datum::Bool(false));
    assert_eq!(Datum::from_json(json!(7)), Datum::Number(7.0));
    assert_eq!(Datum::from_json(json!("1990-01-31")), text("1990-01-31"));
    assert_eq!(
        Datum::from_json(json!([1, ["a"], {"k": 1}])),
        Datum::Array(vec![
            Datum::Number(1.0),
            Datum::Array(vec![text("a")]),
            Datum::Json(json!({"k": 1})),
        ])
    );
    assert_eq!(
        Datum::from_json(json!({"k": 1})),
        Datum::Json(json!({"k": 1}))
    );
    // JSON in, JSON out.
    let round = json!([1, "x", true, null, {"k": [2.5]}]);
    assert_eq!(Datum::from_json(round.clone()).to_json(), round);
}

#[test]
fn policy_conditions_with_calls() {
    let rec = json!({"title": "  Report ", "data": {"n": "7", "bad": "abc", "when": "31/01/1990"}});
    assert!(eval(r#"lower(trim(title)) == "report""#, &rec));
    assert!(eval("to_number(data.n) > 5", &rec));
    assert!(eval(
        r#"to_date(data.when, "%d/%m/%Y") < to_date("1990-02-01", "%Y-%m-%d")"#,
        &rec
    ));
    // A call that fails is null there: that part is false, the rest still decides.
    assert!(!eval("to_number(data.bad) > 5", &rec));
    assert!(eval("!(to_number(data.bad) > 5)", &rec));
    assert!(eval("to_number(data.bad) == null", &rec));
    assert!(eval("to_number(data.bad) || title", &rec));
    assert!(eval(
        r#"coalesce(to_number(data.bad), "fallback") == "fallback""#,
        &rec
    ));
    assert!(!eval(r#"to_date(data.when, "%Q")"#, &rec));
    assert!(!eval("to_number(data.missing)", &rec));
}
