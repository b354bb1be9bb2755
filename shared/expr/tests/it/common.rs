use relinx_expr::{Expr, Fields, ParseError};

pub const FIELDS: Fields<'static> = Fields::new(
    &[
        "size", "type", "site", "status", "title", "queue", "priority",
    ],
    &["data"],
);

pub fn parse(s: &str) -> Result<Expr, ParseError> {
    Expr::parse(s, &FIELDS)
}

pub fn err(s: &str) -> ParseError {
    match parse(s) {
        Ok(e) => panic!("{s:?} parsed as {e:?}"),
        Err(e) => e,
    }
}

/// Asserts the error column and that the message contains `needle`.
pub fn assert_err(s: &str, column: usize, needle: &str) {
    let e = err(s);
    assert_eq!(e.column, column, "{s:?}: {e}");
    assert!(e.message.contains(needle), "{s:?}: {e} lacks {needle:?}");
}
