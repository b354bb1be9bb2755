use crate::common::{FIELDS, parse};
use proptest::prelude::*;
use relinx_expr::{CmpOp, Column, Expr, Fields, Func, Value};

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[\"\\\\a-z /\n\t\u{0}\u{7f}\u{85}é😀\u{2028}]{0,12}",
        Just(String::new()),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-100_000i32..100_000).prop_map(|n| Value::Number(f64::from(n))),
        prop::num::f64::NORMAL.prop_map(Value::Number),
        (prop::num::f64::SUBNORMAL | prop::num::f64::ZERO).prop_map(Value::Number),
        arb_string().prop_map(Value::String),
    ]
}

/// A root only backticks can write (or that needs them to stay a field), or any
/// text a quoted name may hold.
fn arb_quoted_root() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "E-mail",
            "T-shirt_size",
            "First name",
            "a`b",
            "`",
            "``x``",
            "true",
            "false",
            "null",
            "lower",
            "to_date",
            "coalesce",
            "nullable",
            "Lower",
            "_x1",
            "1st",
            "",
        ])
        .prop_map(str::to_owned),
        "[^\\p{Cc}]{0,8}",
    ]
}

fn arb_field() -> impl Strategy<Value = Expr> {
    let scalar = prop::sample::select(FIELDS.scalars()).prop_map(|s| vec![s.to_owned()]);
    let segment = || prop_oneof!["[A-Za-z_][A-Za-z0-9_]{0,6}", arb_string()];
    let object = prop::collection::vec(segment(), 0..3).prop_map(|segs| {
        let mut path = vec!["data".to_owned()];
        path.extend(segs);
        path
    });
    // Quoted roots are object roots (see `fields_for`): a path may follow.
    let quoted =
        (arb_quoted_root(), prop::collection::vec(segment(), 0..2)).prop_map(|(root, segs)| {
            let mut path = vec![root];
            path.extend(segs);
            path
        });
    prop_oneof![scalar, object, quoted].prop_map(|path| Expr::Field(path, Column(0)))
}

/// A call to any function with a number of arguments it takes (1 to 3 drawn,
/// then cut or padded to fit).
fn arb_call(inner: impl Strategy<Value = Expr>) -> impl Strategy<Value = Expr> {
    (
        prop::sample::select(Func::ALL.to_vec()),
        prop::collection::vec(inner, 1..4),
    )
        .prop_map(|(func, mut args)| {
            let (min, max) = func.arity();
            if let Some(max) = max {
                args.truncate(max);
            }
            while args.len() < min {
                args.push(args[0].clone());
            }
            Expr::Call {
                func,
                args,
                column: Column(0),
            }
        })
}

/// The fields an expression needs: the scalar roots of [`FIELDS`], and every other
/// root it names as an object root (taking a path or not).
fn fields_for(e: &Expr) -> Vec<String> {
    let mut roots: Vec<String> = vec!["data".to_owned()];
    for path in e.fields() {
        let root = &path[0];
        if !FIELDS.scalars().contains(&root.as_str()) && !roots.contains(root) {
            roots.push(root.clone());
        }
    }
    roots
}

fn arb_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ])
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        arb_value().prop_map(|v| Expr::Literal(v, Column(0))),
        arb_field()
    ];
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            inner
                .clone()
                .prop_map(|e| Expr::Not(Box::new(e), Column(0))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            (inner.clone(), arb_op(), inner.clone()).prop_map(|(a, op, b)| Expr::Compare(
                Box::new(a),
                op,
                Box::new(b)
            )),
            arb_call(inner),
        ]
    })
}

const TOKENS: &[&str] = &[
    "size",
    "data",
    "foo",
    ".",
    "x",
    "[",
    "]",
    "(",
    ")",
    "!",
    "&&",
    "||",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "&",
    "|",
    "\"",
    "\\",
    "\\u",
    "d83d",
    "1",
    "-",
    "2.5e3",
    "e",
    "0",
    " ",
    "\n",
    "true",
    "null",
    "é",
    "😀",
    "`",
    "``",
    "E-mail",
    "lower",
    "concat",
    "to_date",
    "foo",
    ",",
    "(\"%d/%m/%Y\")",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.concat())
}

fn check_any(input: &str) -> Result<(), TestCaseError> {
    match parse(input) {
        Ok(e) => {
            // Whatever parses prints canonically and parses back the same.
            let text = e.to_string();
            prop_assert_eq!(parse(&text), Ok(e), "canonical text {:?}", text);
        }
        Err(err) => {
            prop_assert!(err.column >= 1);
            prop_assert!(err.column <= input.chars().count() + 1, "{}", err);
            prop_assert!(!err.message.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(e in arb_expr()) {
        let text = e.to_string();
        prop_assume!(text.chars().count() <= relinx_expr::MAX_LEN);
        // Fields named at runtime: a `Vec<&str>` borrowed from owned names.
        let roots = fields_for(&e);
        let objects: Vec<&str> = roots.iter().map(String::as_str).collect();
        let fields = Fields::new(FIELDS.scalars(), &objects);
        prop_assert_eq!(Expr::parse(&text, &fields), Ok(e), "text {:?}", text);
    }

    #[test]
    fn arbitrary_strings_never_panic(input in ".*") {
        check_any(&input)?;
    }

    #[test]
    fn token_soup_never_panics(input in token_soup()) {
        check_any(&input)?;
    }
}

#[test]
fn extreme_numbers_round_trip() {
    for n in [
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        0.1,
        1e21,
        1e22,
        123_456_789_012_345_680.0,
        -0.0,
        2.5,
        -3.0,
    ] {
        let e = Expr::Literal(Value::Number(n), Column(0));
        let text = e.to_string();
        assert!(text.len() <= 24, "{text}");
        assert_eq!(parse(&text).unwrap(), e, "{text}");
    }
    assert_eq!(
        Expr::Literal(Value::Number(5120.0), Column(0)).to_string(),
        "5120"
    );
    assert_eq!(
        Expr::Literal(Value::Number(f64::NAN), Column(0)).to_string(),
        "null"
    );
}

#[test]
fn calls_and_quoted_roots_round_trip() {
    let names = ["E-mail", "First name", "a`b", "true", "lower", "amount"];
    let fields = Fields::new(&names, &["data"]);
    for src in [
        "lower(trim(`E-mail`))",
        "concat(`First name`, \" \", upper(`a``b`))",
        "coalesce(`true`, `lower`, null) == \"x\"",
        "to_date(data[\"Born on\"], \"%d/%m/%Y\") < to_date(\"2000-01-01\", \"%Y-%m-%d\")",
        "!(to_number(amount) > 5) && split(`E-mail`, \"@\") != data.x",
        "replace(lower(`First name`), \" \", \"-\")",
        "to_bool(coalesce(amount, 0) || !amount)",
    ] {
        let e = Expr::parse(src, &fields).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(e.to_string(), src);
        assert_eq!(Expr::parse(&e.to_string(), &fields).unwrap(), e);
    }
}
