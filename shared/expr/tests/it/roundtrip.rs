use crate::common::{FIELDS, parse};
use proptest::prelude::*;
use relinx_expr::{CmpOp, Expr, Value};

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

fn arb_field() -> impl Strategy<Value = Expr> {
    let scalar = prop::sample::select(FIELDS.scalars()).prop_map(|s| vec![s.to_owned()]);
    let segment = prop_oneof!["[A-Za-z_][A-Za-z0-9_]{0,6}", arb_string()];
    let object = prop::collection::vec(segment, 0..3).prop_map(|segs| {
        let mut path = vec!["data".to_owned()];
        path.extend(segs);
        path
    });
    prop_oneof![scalar, object].prop_map(Expr::Field)
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
    let leaf = prop_oneof![arb_value().prop_map(Expr::Literal), arb_field()];
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            (inner.clone(), arb_op(), inner).prop_map(|(a, op, b)| Expr::Compare(
                Box::new(a),
                op,
                Box::new(b)
            )),
        ]
    })
}

const TOKENS: &[&str] = &[
    "size", "data", "foo", ".", "x", "[", "]", "(", ")", "!", "&&", "||", "==", "!=", "<", "<=",
    ">", ">=", "=", "&", "|", "\"", "\\", "\\u", "d83d", "1", "-", "2.5e3", "e", "0", " ", "\n",
    "true", "null", "é", "😀",
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
        prop_assert_eq!(parse(&text), Ok(e), "text {:?}", text);
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
        let e = Expr::Literal(Value::Number(n));
        let text = e.to_string();
        assert!(text.len() <= 24, "{text}");
        assert_eq!(parse(&text).unwrap(), e, "{text}");
    }
    assert_eq!(Expr::Literal(Value::Number(5120.0)).to_string(), "5120");
    assert_eq!(Expr::Literal(Value::Number(f64::NAN)).to_string(), "null");
}
