use crate::common::{FIELDS, assert_err, err, parse};
use relinx_expr::{CmpOp, Expr, MAX_DEPTH, Value};

fn field(path: &[&str]) -> Expr {
    Expr::Field(path.iter().map(|s| (*s).to_owned()).collect())
}

fn num(n: f64) -> Expr {
    Expr::Literal(Value::Number(n))
}

fn string(s: &str) -> Expr {
    Expr::Literal(Value::String(s.to_owned()))
}

fn cmp(a: Expr, op: CmpOp, b: Expr) -> Expr {
    Expr::Compare(Box::new(a), op, Box::new(b))
}

#[test]
fn parses_the_contract_examples() {
    assert_eq!(
        parse("size>5120").unwrap(),
        cmp(field(&["size"]), CmpOp::Gt, num(5120.0))
    );
    assert_eq!(
        parse(r#"type == "inspection" && site == "alpha""#).unwrap(),
        Expr::And(
            Box::new(cmp(field(&["type"]), CmpOp::Eq, string("inspection"))),
            Box::new(cmp(field(&["site"]), CmpOp::Eq, string("alpha"))),
        )
    );
}

#[test]
fn precedence_and_associativity() {
    let e = parse("size > 1 || size < 2 && !type").unwrap();
    assert_eq!(e.to_string(), "size > 1 || size < 2 && !type");
    match e {
        Expr::Or(_, rhs) => assert!(matches!(*rhs, Expr::And(..))),
        other => panic!("{other:?}"),
    }
    // Left-associative: the canonical text keeps the parentheses only where needed.
    assert_eq!(
        parse("(size || type) || site").unwrap().to_string(),
        "size || type || site"
    );
    assert_eq!(
        parse("size || (type || site)").unwrap().to_string(),
        "size || (type || site)"
    );
    assert_eq!(
        parse("!(status == \"synced\")").unwrap().to_string(),
        "!(status == \"synced\")"
    );
    assert_eq!(parse("!size == 1").unwrap().to_string(), "(!size) == 1");
    assert_eq!(
        parse("(size == 1) == true").unwrap().to_string(),
        "(size == 1) == true"
    );
    assert_eq!(parse("!!!size").unwrap().to_string(), "!!!size");
    assert_eq!(parse(" ( size ) ").unwrap(), field(&["size"]));
}

#[test]
fn literals() {
    let lit = |s: &str| match parse(s).unwrap() {
        Expr::Literal(v) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(lit("5120"), Value::Number(5120.0));
    assert_eq!(lit("-3"), Value::Number(-3.0));
    assert_eq!(lit("2.5"), Value::Number(2.5));
    assert_eq!(lit("1e3"), Value::Number(1000.0));
    assert_eq!(lit("-1.5E-2"), Value::Number(-0.015));
    assert_eq!(lit("true"), Value::Bool(true));
    assert_eq!(lit("false"), Value::Bool(false));
    assert_eq!(lit("null"), Value::Null);
    assert_eq!(
        lit(r#""a\"b\\c\/\n\t\r\b\f\u00e9\ud83d\ude00""#),
        Value::String("a\"b\\c/\n\t\r\u{8}\u{c}é😀".to_owned())
    );
    assert_eq!(lit("\"raw é 😀\""), Value::String("raw é 😀".to_owned()));
}

#[test]
fn fields_and_paths() {
    assert_eq!(parse("data").unwrap(), field(&["data"]));
    assert_eq!(parse("data.a.b").unwrap(), field(&["data", "a", "b"]));
    assert_eq!(parse("data.true").unwrap(), field(&["data", "true"]));
    assert_eq!(
        parse(r#"data["any key"].x["ü"]"#).unwrap(),
        field(&["data", "any key", "x", "ü"])
    );
    assert_eq!(
        parse(r#"data["any key"].x"#).unwrap().to_string(),
        r#"data["any key"].x"#
    );
    assert_eq!(parse(r#"data["plain"]"#).unwrap().to_string(), "data.plain");
    let e = parse("size > 1 && data.a == data.b || !title").unwrap();
    let paths: Vec<Vec<String>> = e.fields().map(<[String]>::to_vec).collect();
    assert_eq!(
        paths,
        vec![
            vec!["size".to_owned()],
            vec!["data".to_owned(), "a".to_owned()],
            vec!["data".to_owned(), "b".to_owned()],
            vec!["title".to_owned()],
        ]
    );
}

#[test]
fn keywords_only_as_whole_words() {
    let e = err("nullable");
    assert!(e.message.contains("unknown field \"nullable\""), "{e}");
    assert_eq!(e.column, 1);
}

#[test]
fn error_missing_value() {
    assert_err(
        "size >",
        7,
        "expected a number, a string, a field, \"(\" or \"!\"",
    );
    assert_err("size > 5120 &&", 15, "expected a number");
    assert_err("size >   ", 10, "found end of input");
}

#[test]
fn error_unterminated_string() {
    assert_err("type == \"insp", 9, "unterminated string");
    assert_err("type == \"insp\\\"", 9, "unterminated string");
    assert_err("type == \"a\\", 9, "unterminated string");
}

#[test]
fn error_bad_escapes() {
    assert_err(r#"type == "a\qb""#, 11, "invalid escape \"\\q\"");
    assert_err(r#"type == "\u12""#, 10, "expected four hex digits");
    assert_err(r#"type == "\ud83d""#, 10, "unpaired surrogate");
    assert_err(r#"type == "\ude00\ud83d""#, 10, "unpaired surrogate");
}

#[test]
fn error_raw_control_character() {
    assert_err("type == \"a\nb\"", 11, "control character U+000A");
    assert_eq!(
        parse("type == \"a\\nb\u{7f}\"").unwrap().to_string(),
        "type == \"a\\nb\u{7f}\""
    );
}

#[test]
fn error_unknown_field() {
    let e = err("foo > 1");
    assert_eq!(e.column, 1);
    assert_eq!(
        e.message,
        "unknown field \"foo\"; known: size, type, site, status, title, queue, priority, data.*"
    );
    assert_eq!(e.to_string(), format!("at column 1: {}", e.message));
    assert_err("size > 1 && bar", 13, "unknown field \"bar\"");
}

#[test]
fn error_path_under_scalar() {
    assert_err("size.x > 1", 1, "field \"size\" has no fields");
    assert_err("type[\"x\"]", 1, "field \"type\" has no fields");
}

#[test]
fn error_chained_comparison() {
    assert_err("size < 1 < 2", 10, "comparisons do not chain");
    assert_err("size == 1 != 2", 11, "comparisons do not chain");
    assert_eq!(
        parse("(size < 1) < 2").unwrap().to_string(),
        "(size < 1) < 2"
    );
}

#[test]
fn error_unclosed_paren() {
    assert_err("(size > 1", 10, "\")\"");
    let e = err("(size > 1");
    assert_eq!(
        e.message,
        "expected \"&&\", \"||\" or \")\", found end of input"
    );
}

#[test]
fn error_trailing_input() {
    let e = err("size x");
    assert_eq!(e.column, 6);
    assert_eq!(
        e.message,
        "expected a comparison operator, \"&&\", \"||\" or end of input, found \"x\""
    );
    assert_err("size = 1", 6, "found \"=\"");
    assert_err("size > 1)", 9, "end of input");
    assert_err("data.", 6, "expected a field name");
    assert_err("data[1]", 6, "expected a string");
    assert_err("data[\"a\"", 9, "expected \"]\"");
    assert_err("- 3", 1, "expected a number");
}

#[test]
fn columns_count_chars() {
    assert_err("ü > 1", 1, "expected a number");
    assert_err("type == \"é\" && foo", 16, "unknown field \"foo\"");
    assert_err("type == \"é\" &&", 15, "expected a number");
    assert_err("\"ü\" >", 6, "expected a number");
    assert_err("size > 1 &&\n\"ü\" >", 18, "expected a number");
}

#[test]
fn error_empty() {
    assert_err("", 1, "expected an expression");
    assert_err("   \n\t", 1, "expected an expression");
}

#[test]
fn error_number_out_of_range() {
    assert_err("size > 1e400", 8, "out of range");
    assert_eq!(parse("1e-400").unwrap(), num(0.0));
}

#[test]
fn nesting_limit() {
    let ok = format!("{}size{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&ok).unwrap(), field(&["size"]));
    let ok = format!("{}size", "!".repeat(MAX_DEPTH));
    assert!(parse(&ok).is_ok());
    let mixed = format!(
        "{}size{}",
        "!(".repeat(MAX_DEPTH / 2),
        ")".repeat(MAX_DEPTH / 2)
    );
    assert!(parse(&mixed).is_ok());

    let deep = format!(
        "{}size{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_err(&deep, MAX_DEPTH + 1, "nests deeper than 32");
    let deep = format!("{}size", "!".repeat(MAX_DEPTH + 1));
    assert_err(&deep, MAX_DEPTH + 1, "nests deeper than 32");
    // And/Or chains do not nest.
    let long = vec!["size > 1"; 150].join(" && ");
    assert!(parse(&long).is_ok());
}

#[test]
fn fuzz_style_inputs_fail_fast() {
    for s in ["(".repeat(10_000), "!".repeat(10_000), "\"".repeat(10_000)] {
        let e = err(&s);
        assert_eq!(e.column, 2001, "{e}");
        assert!(e.message.contains("longer than 2000"), "{e}");
    }
    for s in ["(".repeat(2000), "!".repeat(2000), "!(".repeat(1000)] {
        assert_err(&s, MAX_DEPTH + 1, "nests deeper than 32");
    }
    // `("("("…`: a string "(" after the first parenthesis, then an unexpected "(".
    assert_err(&"(\"".repeat(1000), 5, "expected a comparison operator");
    assert_err(
        &format!("\"{}", "\\".repeat(1999)),
        1,
        "unterminated string",
    );
}

#[test]
fn fields_check() {
    assert!(FIELDS.check(&["data".to_owned(), "x".to_owned()]).is_ok());
    assert!(FIELDS.check(&["size".to_owned()]).is_ok());
    assert!(FIELDS.check(&["size".to_owned(), "x".to_owned()]).is_err());
    assert!(FIELDS.check(&[]).is_err());
}
