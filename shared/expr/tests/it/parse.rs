use crate::common::{FIELDS, assert_err, assert_map_err, err, parse, parse_map};
use relinx_expr::{CmpOp, Column, Expr, Fields, Func, MAX_DEPTH, Value};

fn field(path: &[&str]) -> Expr {
    Expr::Field(path.iter().map(|s| (*s).to_owned()).collect(), Column(0))
}

fn num(n: f64) -> Expr {
    Expr::Literal(Value::Number(n), Column(0))
}

fn string(s: &str) -> Expr {
    Expr::Literal(Value::String(s.to_owned()), Column(0))
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
        Expr::Literal(v, _) => v,
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

// Quoted (backtick) names, calls and positions.

fn call(func: Func, args: Vec<Expr>) -> Expr {
    Expr::Call {
        func,
        args,
        column: Column(0),
    }
}

#[test]
fn quoted_roots() {
    assert_eq!(parse_map("`E-mail`").unwrap(), field(&["E-mail"]));
    assert_eq!(
        parse_map("`T-shirt_size` == \"M\"").unwrap().to_string(),
        "`T-shirt_size` == \"M\""
    );
    assert_eq!(
        parse_map("`First name`").unwrap().to_string(),
        "`First name`"
    );
    // A doubled backtick stands for one.
    assert_eq!(parse_map("`a``b`").unwrap(), field(&["a`b"]));
    assert_eq!(parse_map("`a``b`").unwrap().to_string(), "`a``b`");
    // A plain name may be quoted too; it prints plain.
    assert_eq!(parse_map("`name`").unwrap(), field(&["name"]));
    assert_eq!(parse_map("`name`").unwrap().to_string(), "name");
    // Keywords and function names as fields: quoted, always, and printed so.
    assert_eq!(parse_map("`true`").unwrap(), field(&["true"]));
    assert_eq!(parse_map("`true`").unwrap().to_string(), "`true`");
    assert_eq!(parse_map("true").unwrap().to_string(), "true");
    assert_eq!(parse_map("`lower`").unwrap().to_string(), "`lower`");
    assert_eq!(
        parse_map("lower(`lower`) == `true`").unwrap().to_string(),
        "lower(`lower`) == `true`"
    );
    // A plain `lower` not followed by "(" is a field.
    assert_eq!(parse_map("lower").unwrap(), field(&["lower"]));
    // Paths below a quoted object root.
    assert_eq!(
        parse_map("`obj`.a[\"b c\"]").unwrap(),
        field(&["obj", "a", "b c"])
    );
    // Roots are checked like plain ones.
    assert_err("`size`.x", 1, "field \"size\" has no fields");
    assert_eq!(parse("`size` > 1").unwrap().to_string(), "size > 1");
    assert_map_err("name == `Email`", 9, "unknown field \"Email\"");
}

#[test]
fn quoted_root_errors() {
    assert_map_err("name == `E-mail", 9, "unterminated quoted name");
    assert_map_err("`a``", 1, "unterminated quoted name");
    assert_map_err("```", 1, "unterminated quoted name");
    assert_map_err("`", 1, "unterminated quoted name");
    assert_map_err("`a\tb`", 3, "control character U+0009 in a quoted name");
    assert_map_err("`a\u{85}b`", 3, "control character U+0085");
    assert_map_err("``", 1, "unknown field \"\"");
    // A quoted name is always a field: never called.
    assert_map_err("`lower`(name)", 8, "found \"(\"");
    // Columns count characters.
    assert_map_err("\"é\" == `Émail`", 8, "unknown field \"Émail\"");
}

#[test]
fn fields_from_runtime_names() {
    // A mapping's columns are known at runtime only.
    let columns: Vec<String> = vec!["E-mail".to_owned(), "Amount (€)".to_owned()];
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let fields = Fields::new(&names, &[]);
    let e = Expr::parse("lower(trim(`E-mail`)) == `Amount (€)`", &fields).unwrap();
    assert_eq!(e.to_string(), "lower(trim(`E-mail`)) == `Amount (€)`");
    let e = Expr::parse("Amount", &fields).unwrap_err();
    assert_eq!(
        e.message,
        "unknown field \"Amount\"; known: E-mail, Amount (€)"
    );
}

#[test]
fn calls() {
    assert_eq!(
        parse("lower(trim(title))").unwrap(),
        call(Func::Lower, vec![call(Func::Trim, vec![field(&["title"])])])
    );
    assert_eq!(
        parse("concat(title,\" \",  site)").unwrap(),
        call(
            Func::Concat,
            vec![field(&["title"]), string(" "), field(&["site"])]
        )
    );
    assert_eq!(
        parse("concat(title,\" \",  site)").unwrap().to_string(),
        "concat(title, \" \", site)"
    );
    // Spaces before "(" and inside the parentheses.
    assert_eq!(
        parse("lower ( title ) == \"x\"").unwrap().to_string(),
        "lower(title) == \"x\""
    );
    // Arguments are whole expressions.
    assert_eq!(
        parse("coalesce(size > 1 || !type, null)")
            .unwrap()
            .to_string(),
        "coalesce(size > 1 || !type, null)"
    );
    assert_eq!(parse("!lower(title)").unwrap().to_string(), "!lower(title)");
    for (src, func) in [
        ("trim(title)", Func::Trim),
        ("lower(title)", Func::Lower),
        ("upper(title)", Func::Upper),
        ("split(title, \",\")", Func::Split),
        ("replace(title, \"a\", \"b\")", Func::Replace),
        ("to_date(title, \"%d/%m/%Y\")", Func::ToDate),
        ("to_number(title)", Func::ToNumber),
        ("to_bool(title)", Func::ToBool),
        ("concat(title)", Func::Concat),
        ("concat(title, site, type, 1)", Func::Concat),
        ("coalesce(title)", Func::Coalesce),
        ("coalesce(title, site, \"\")", Func::Coalesce),
    ] {
        let e = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert!(
            matches!(&e, Expr::Call { func: f, .. } if *f == func),
            "{src}: {e:?}"
        );
        assert_eq!(e.to_string(), src);
        assert_eq!(Func::from_name(func.as_str()), Some(func));
    }
    // The arguments' fields, left to right.
    let e = parse("concat(title, data.a) == site").unwrap();
    let paths: Vec<String> = e.fields().map(|p| p.join(".")).collect();
    assert_eq!(paths, ["title", "data.a", "site"]);
}

#[test]
fn call_errors() {
    let e = err("foo(size)");
    assert_eq!(e.column, 1);
    assert_eq!(
        e.message,
        "unknown function \"foo\"; known: trim, lower, upper, split, replace, to_date, \
         to_number, to_bool, concat, coalesce"
    );
    assert_err("size > frob(1", 8, "unknown function \"frob\"");
    // A plain name before "(" is a call, whatever it is.
    assert_err("size (1)", 1, "unknown function \"size\"");
    assert_err("true(1)", 1, "unknown function \"true\"");
    assert_err("Lower(title)", 1, "unknown function \"Lower\"");
    // Arity, at the name.
    let e = err("lower(title, site)");
    assert_eq!(e.column, 1);
    assert_eq!(e.message, "lower takes 1 argument, got 2: lower(text)");
    assert_err(
        "size > 1 && split(title)",
        13,
        "split takes 2 arguments, got 1: split(text, separator)",
    );
    assert_err("concat()", 1, "concat takes 1 or more arguments, got none");
    assert_err(
        "replace(title, \"a\")",
        1,
        "replace takes 3 arguments, got 2",
    );
    assert_err("trim()", 1, "trim takes 1 argument, got none");
    // Broken calls fail where they break.
    let e = err("lower(");
    assert_eq!(e.column, 7);
    assert_eq!(
        e.message,
        "expected a number, a string, a field, \"(\", \"!\" or \")\", found end of input"
    );
    assert_err(
        "lower(title",
        12,
        "expected a comparison operator, \"&&\", \"||\", \",\" or \")\"",
    );
    assert_err("lower(title,)", 13, "expected a number");
    assert_err("lower(title site)", 13, "found \"s\"");
    assert_err("\"é\" == upper(", 14, "found end of input");
    // An unknown function is the error even when its arguments are broken too.
    assert_err("frob(", 1, "unknown function \"frob\"");
}

#[test]
fn calls_nest_like_parentheses() {
    let ok = format!(
        "{}title{}",
        "lower(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    assert!(parse(&ok).is_ok());
    let ok = format!(
        "{}title{}",
        "!lower(".repeat(MAX_DEPTH / 2),
        ")".repeat(MAX_DEPTH / 2)
    );
    assert!(parse(&ok).is_ok());
    // The 33rd call starts at column 32 * 6 + 1.
    let deep = format!(
        "{}title{}",
        "lower(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_err(&deep, MAX_DEPTH * 6 + 1, "nests deeper than 32");
    assert_err(
        &"trim(".repeat(400),
        MAX_DEPTH * 5 + 1,
        "nests deeper than 32",
    );
    assert_err(&"concat(1,".repeat(200), MAX_DEPTH * 9 + 1, "nests deeper");
}

#[test]
fn positions() {
    let e = parse("size > 1 && lower(title) == \"x\"").unwrap();
    assert_eq!(e.column(), 1);
    let Expr::And(a, b) = &e else { panic!("{e:?}") };
    assert_eq!(a.column(), 1);
    let Expr::Compare(l, _, r) = b.as_ref() else {
        panic!("{b:?}")
    };
    assert_eq!(b.column(), 13);
    assert_eq!(l.column(), 13);
    assert_eq!(r.column(), 29);
    let Expr::Call { args, column, .. } = l.as_ref() else {
        panic!("{l:?}")
    };
    assert_eq!(column.0, 13);
    assert_eq!(args[0].column(), 19);
    // `!` at its own column, a parenthesized expression at its first token,
    // negative numbers at the minus, columns in characters.
    assert_eq!(parse("  !size").unwrap().column(), 3);
    assert_eq!(parse("( size )").unwrap().column(), 3);
    assert_eq!(parse("-3").unwrap().column(), 1);
    assert_eq!(parse("\"é😀\" == lower(title)").unwrap().column(), 1);
    let Expr::Compare(_, _, r) = parse("\"é😀\" == lower(title)").unwrap() else {
        panic!()
    };
    assert_eq!(r.column(), 9);
    assert_eq!(parse_map("\n`E-mail`").unwrap().column(), 2);
    // Positions take no part in equality: a reprint equals the original.
    let e = parse("  size   >  1").unwrap();
    let reprint = parse(&e.to_string()).unwrap();
    assert_eq!(e, reprint);
    assert_ne!(e.column(), 0);
    assert_eq!(Column(3), Column(7));
    // Built by code: column 0.
    assert_eq!(field(&["size"]).column(), 0);
}
