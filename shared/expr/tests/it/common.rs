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

/// Fields as a data mapping names them: source columns, some of them not plain
/// names, some named like a function or a keyword.
pub const MAP_FIELDS: Fields<'static> = Fields::new(
    &[
        "name",
        "email",
        "amount",
        "born",
        "seen",
        "flag",
        "tags",
        "nothing",
        "E-mail",
        "T-shirt_size",
        "First name",
        "a`b",
        "lower",
        "true",
    ],
    &["obj"],
);

pub fn parse_map(s: &str) -> Result<Expr, ParseError> {
    Expr::parse(s, &MAP_FIELDS)
}

/// As [`assert_err`], over [`MAP_FIELDS`].
pub fn assert_map_err(s: &str, column: usize, needle: &str) {
    let e = match parse_map(s) {
        Ok(e) => panic!("{s:?} parsed as {e:?}"),
        Err(e) => e,
    };
    assert_eq!(e.column, column, "{s:?}: {e}");
    assert!(e.message.contains(needle), "{s:?}: {e} lacks {needle:?}");
}
