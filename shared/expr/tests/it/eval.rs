use std::cell::Cell;

use crate::common::parse;
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
