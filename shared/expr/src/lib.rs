//! The expression language of relinx: one grammar and one parser for sync-policy
//! conditions (`when`), data mappings and analytics. A parser (rust-peg), a
//! canonical printer (`Display`), a static type check and a total evaluator over a
//! caller-supplied field lookup.
//!
//! The caller names the fields ([`Fields`]): a set of scalar roots (`size`, `type`,
//! …) and a set of object roots (`data`) that also accept a path below them.
//!
//! # Grammar
//!
//! ```text
//! expr     = or ;
//! or       = and { "||" and } ;                    (* left-associative *)
//! and      = cmp { "&&" cmp } ;                    (* left-associative *)
//! cmp      = unary [ cmpop unary ] ;               (* non-associative: a < b < c is an error *)
//! cmpop    = "==" | "!=" | "<=" | ">=" | "<" | ">" ;
//! unary    = "!" unary | primary ;
//! primary  = "(" expr ")" | call | literal | field ;
//! call     = name "(" [ expr { "," expr } ] ")" ;  (* name: one of the functions below *)
//! literal  = number | string | "true" | "false" | "null" ;
//! number   = [ "-" ] ( "0" | digit19 { digit } ) [ "." digit { digit } ]
//!            [ ( "e" | "E" ) [ "+" | "-" ] digit { digit } ] ;   (* JSON number *)
//! string   = '"' { char | escape } '"' ;         (* double quotes only *)
//! char     = any char but '"', '\' and U+0000..U+001F ;          (* as in JSON *)
//! escape   = '\' ( '"' | '\' | '/' | "b" | "f" | "n" | "r" | "t" | "u" hex hex hex hex ) ;
//!                                   (* JSON escapes; \uD83D\uDE00 surrogate pairs combine *)
//! field    = root { "." name | "[" string "]" } ;  (* no spaces inside a field *)
//! root     = name | quoted ;
//! quoted   = "`" { qchar | "``" } "`" ;           (* "``" inside stands for one backtick *)
//! qchar    = any char but "`" and control characters (Unicode Cc) ;
//! name     = ( letter | "_" ) { letter | digit | "_" } ;          (* ASCII *)
//! ```
//!
//! Whitespace (space, tab, CR, LF) may appear between tokens. `true`, `false` and
//! `null` are keywords when they stand as whole words (`nullable` is a field name).
//! A plain name followed (after optional whitespace) by `(` is always a call, so an
//! unknown function or a wrong number of arguments is an error at the name; a
//! quoted root (`` `E-mail` ``, `` `a``b` `` for the name ``a`b``) is always a
//! field, whatever its text, which is how a field named `lower`, `true` or
//! `T-shirt size` is written. A field's root, plain or quoted, must be one of the
//! caller's [`Fields`]; only object roots take a path (`data.a.b`,
//! `data["any key"]`; `data` alone is allowed too).
//!
//! ## Functions
//!
//! | call                   | takes                               | gives                        |
//! |------------------------|-------------------------------------|------------------------------|
//! | `trim(s)`              | text                                | text, outer whitespace gone  |
//! | `lower(s)`, `upper(s)` | text                                | text                         |
//! | `split(s, sep)`        | text, text (not empty)              | array of text                |
//! | `replace(s, from, to)` | text, text (not empty), text        | text, every `from` replaced  |
//! | `to_date(s, format)`   | text or a date; a format literal    | date                         |
//! | `to_number(x)`         | text or a number                    | number                       |
//! | `to_bool(x)`           | text, a number or a boolean         | boolean                      |
//! | `concat(a, …)`         | 1 or more scalars                   | text                         |
//! | `coalesce(a, …)`       | 1 or more values                    | the first not null nor `""`  |
//!
//! * `to_date`'s format is a chrono strftime format (`"%d/%m/%Y"`, `"%Y-%m-%d"`)
//!   written as a string literal; [`Expr::type_of`] refuses one that cannot give a
//!   date. The text is trimmed first.
//! * `to_number` reads a trimmed decimal (`"12"`, `"-1.5e3"`); `""`, `"NaN"`,
//!   `"inf"` and anything else are errors.
//! * `to_bool` reads `true`/`false`, `yes`/`no`, `y`/`n`, `1`/`0` (trimmed, any
//!   case), and the numbers 1 and 0.
//! * `concat` writes numbers in shortest round-trip form, booleans as
//!   `true`/`false`, dates as `YYYY-MM-DD`, datetimes in RFC 3339 and null as `""`.
//! * Null propagates: every other function given a null argument gives null
//!   (`trim(null)` is null) rather than an error.
//!
//! `Display` prints the canonical text: one space around binary operators,
//! parentheses only where the tree needs them (plus around a `!` operand of a
//! comparison, for the reader), calls as `concat(a, " ", b)`, numbers in shortest
//! round-trip form, strings with only `"`, `\` and control characters escaped, and a
//! root in backticks when it is not a plain name or is a keyword or a function
//! name. Parsing it gives back an equal [`Expr`]. It may be longer than the text it
//! was parsed from (spaces, those parentheses, `1e20` printing as 21 digits), so
//! text near [`MAX_LEN`] may print to text over it: keep the caller's text if it
//! must be parsed again verbatim.
//!
//! Limits: at most [`MAX_LEN`] characters and at most [`MAX_DEPTH`] levels of
//! nesting, where every `(`, every call and every `!` opens a level. Both are
//! refused with a [`ParseError`]; parsing never recurses deeper than that.
//!
//! Every literal, field, call and `!` remembers the column it starts at
//! ([`Column`], [`Expr::column`]), so type and evaluation errors can point into
//! the text.
//!
//! # Evaluation
//!
//! [`Expr::evaluate`] gives a [`Datum`] (typed runtime value) or an [`EvalError`]
//! (a function refusing its input, at the call's column); [`Expr::eval`], the
//! policy form, gives the truth of the whole expression and is total (never panics,
//! never fails: a failing call counts as null there). Both short-circuit `&&` and
//! `||` (and `coalesce`).
//! * A missing field is `null`.
//! * `==` / `!=`: equality of the values, where numbers compare numerically
//!   (`5 == 5.0`), dates and datetimes by the instant they name, arrays element by
//!   element and JSON objects as JSON; values of different types are unequal
//!   (`"5" != 5`, a date is never equal to a datetime).
//! * `<`, `<=`, `>`, `>=`: numbers numerically, strings lexicographically by Unicode
//!   scalar value, dates with dates and datetimes with datetimes chronologically;
//!   any other pairing (mixed types, null, booleans, arrays, objects) is `false`.
//! * `!`, `&&`, `||` and the whole expression (for [`Expr::eval`]) use truthiness:
//!   `false`, `null`, `0` and `""` are false; everything else (including `[]`,
//!   `{}` and every date) is true. Comparisons, `!`, `&&` and `||` give booleans.
//!
//! Numbers are `f64`: record numbers beyond 2^53 compare with their nearest `f64`.
//!
//! # Types
//!
//! [`Expr::type_of`] checks an expression before it runs over data (a mapping is
//! checked once, then evaluated per row): every call's arguments against what the
//! function takes ([`Type::Any`] passes everywhere, [`Type::Null`] everywhere but
//! where a literal is required), and gives the type of the result: comparisons,
//! `!`, `&&`, `||` are [`Type::Bool`], a field is what the caller says, a literal
//! its own type, and `coalesce` the type its non-null arguments share
//! ([`Type::Any`] when they differ).

mod datum;
mod eval;
mod func;
mod grammar;
mod print;
mod types;

pub use datum::Datum;
pub use eval::FieldPaths;

/// Longest accepted input, in characters.
pub const MAX_LEN: usize = 2000;

/// Deepest accepted nesting: every `(`, every call and every `!` opens one level.
pub const MAX_DEPTH: usize = 32;

/// The fields an expression may name: scalar roots (no path below them) and object
/// roots (a path below them is allowed, and so is the root alone).
///
/// The names are borrowed, so fields known only at runtime (a mapping's source
/// columns) work through a `Vec<&str>` borrowed from the owned names:
///
/// ```
/// # use relinx_expr::{Expr, Fields};
/// let columns: Vec<String> = vec!["E-mail".to_owned(), "Amount".to_owned()];
/// let names: Vec<&str> = columns.iter().map(String::as_str).collect();
/// let fields = Fields::new(&names, &[]);
/// let expr = Expr::parse("lower(trim(`E-mail`))", &fields)?;
/// assert_eq!(expr.to_string(), "lower(trim(`E-mail`))");
/// # Ok::<(), relinx_expr::ParseError>(())
/// ```
///
/// (The crate runs no doctests; `tests/it/parse.rs` `fields_from_runtime_names`
/// and the round-trip property test build `Fields` this way.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields<'a> {
    scalars: &'a [&'a str],
    objects: &'a [&'a str],
}

impl<'a> Fields<'a> {
    /// `Fields::new(&["size", "type"], &["data"])`: `size`, `type`, `data`,
    /// `data.a.b` are fields; `size.x` and `foo` are not.
    pub const fn new(scalars: &'a [&'a str], objects: &'a [&'a str]) -> Self {
        Self { scalars, objects }
    }

    /// The scalar roots.
    pub const fn scalars(&self) -> &'a [&'a str] {
        self.scalars
    }

    /// The object roots.
    pub const fn objects(&self) -> &'a [&'a str] {
        self.objects
    }

    /// Whether `path` names an allowed field; `Err` carries the reason, as the
    /// parser would report it.
    pub fn check(&self, path: &[String]) -> Result<(), String> {
        let Some(root) = path.first() else {
            return Err("empty field path".to_owned());
        };
        if self.objects.contains(&root.as_str()) {
            Ok(())
        } else if self.scalars.contains(&root.as_str()) {
            if path.len() == 1 {
                Ok(())
            } else {
                Err(format!("field \"{root}\" has no fields"))
            }
        } else {
            Err(format!(
                "unknown field \"{root}\"; known: {}",
                self.known_list()
            ))
        }
    }

    fn known_list(&self) -> String {
        let mut names: Vec<String> = self.scalars.iter().map(|s| (*s).to_owned()).collect();
        names.extend(self.objects.iter().map(|o| format!("{o}.*")));
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Always finite when produced by the parser. A non-finite number prints as
    /// `null` (as in JSON), so it does not survive a print/parse round trip.
    Number(f64),
    String(String),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator's text: `==`, `!=`, `<`, `<=`, `>`, `>=`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A function of the language (see the crate docs for what each does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    Trim,
    Lower,
    Upper,
    Split,
    ToDate,
    ToNumber,
    ToBool,
    Concat,
    Coalesce,
    Replace,
}

impl Func {
    /// Every function, in the order error messages list them.
    pub const ALL: [Func; 10] = [
        Func::Trim,
        Func::Lower,
        Func::Upper,
        Func::Split,
        Func::Replace,
        Func::ToDate,
        Func::ToNumber,
        Func::ToBool,
        Func::Concat,
        Func::Coalesce,
    ];

    /// The name it is called by: `trim`, `to_date`, ….
    pub const fn as_str(self) -> &'static str {
        match self {
            Func::Trim => "trim",
            Func::Lower => "lower",
            Func::Upper => "upper",
            Func::Split => "split",
            Func::ToDate => "to_date",
            Func::ToNumber => "to_number",
            Func::ToBool => "to_bool",
            Func::Concat => "concat",
            Func::Coalesce => "coalesce",
            Func::Replace => "replace",
        }
    }

    /// The function called `name` (exactly: names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// How many arguments it takes: at least `.0`, at most `.1` (`None`: no limit).
    pub const fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::Trim | Func::Lower | Func::Upper | Func::ToNumber | Func::ToBool => (1, Some(1)),
            Func::Split | Func::ToDate => (2, Some(2)),
            Func::Replace => (3, Some(3)),
            Func::Concat | Func::Coalesce => (1, None),
        }
    }

    /// How a call reads, for messages: `split(text, separator)`.
    pub const fn signature(self) -> &'static str {
        match self {
            Func::Trim => "trim(text)",
            Func::Lower => "lower(text)",
            Func::Upper => "upper(text)",
            Func::Split => "split(text, separator)",
            Func::ToDate => "to_date(text, \"%d/%m/%Y\")",
            Func::ToNumber => "to_number(value)",
            Func::ToBool => "to_bool(value)",
            Func::Concat => "concat(value, …)",
            Func::Coalesce => "coalesce(value, …)",
            Func::Replace => "replace(text, from, to)",
        }
    }

    /// Whether `n` arguments fit; `Err` says what was expected, as the parser
    /// reports it.
    pub fn check_arity(self, n: usize) -> Result<(), String> {
        let (min, max) = self.arity();
        if n >= min && max.is_none_or(|max| n <= max) {
            return Ok(());
        }
        let expected = match max {
            Some(1) => "1 argument".to_owned(),
            Some(max) if max == min => format!("{max} arguments"),
            Some(max) => format!("{min} to {max} arguments"),
            None if min == 1 => "1 or more arguments".to_owned(),
            None => format!("{min} or more arguments"),
        };
        let got = if n == 0 {
            "none".to_owned()
        } else {
            n.to_string()
        };
        Err(format!(
            "{} takes {expected}, got {got}: {}",
            self.as_str(),
            self.signature()
        ))
    }

    /// The list of function names, for messages.
    pub(crate) fn known_list() -> String {
        Func::ALL.map(Func::as_str).join(", ")
    }
}

/// Where a node starts in the text it was parsed from: a 1-based character column,
/// counted as [`ParseError`] counts it; 0 for a node built by code.
///
/// Every `Column` equals every other (`PartialEq` is always true): a position says
/// where a node was written, not what it means, so comparing expressions compares
/// their trees, and an expression equals its canonical reprint, whose columns
/// differ.
#[derive(Debug, Clone, Copy, Default)]
pub struct Column(pub usize);

impl PartialEq for Column {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for Column {}

/// A parsed expression. `Display` prints its canonical text, which parses back to
/// an equal `Expr` (given the same [`Fields`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value, Column),
    /// A field path: the root, then the segments below it.
    Field(Vec<String>, Column),
    /// A function call; `column` is where its name starts. The parser only builds
    /// calls with a number of arguments the function takes.
    Call {
        func: Func,
        args: Vec<Expr>,
        column: Column,
    },
    /// `!`, at the column of the `!`.
    Not(Box<Expr>, Column),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, CmpOp, Box<Expr>),
}

/// A parse failure: where (1-based column, counted in characters over the whole
/// input, a newline counting as one) and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

/// A function refusing its input at runtime (`to_number: "abc" is not a number`),
/// at the column of the call (of the format, for a bad `to_date` format).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct EvalError {
    pub column: usize,
    pub message: String,
}

/// An expression that cannot work on the types it is given (`lower takes text,
/// and `amount` is a number`), at the column of the call (of the format, for a
/// bad `to_date` format).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct TypeError {
    pub column: usize,
    pub message: String,
}

/// The static type of a field or an expression, for [`Expr::type_of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    Null,
    Bool,
    Number,
    String,
    Date,
    Datetime,
    Array,
    /// Not known before the data is seen (a JSON field, a `coalesce` of several
    /// types): accepted everywhere, checked at runtime.
    Any,
}

impl Expr {
    /// Parse `input`, allowing the fields in `fields`.
    pub fn parse(input: &str, fields: &Fields<'_>) -> Result<Expr, ParseError> {
        grammar::parse(input, fields)
    }

    /// The column the expression starts at: a node's own for a literal, field,
    /// call or `!`, the left operand's for `&&`, `||` and comparisons. 0 when
    /// built by code.
    pub fn column(&self) -> usize {
        // A loop, not recursion: `&&` chains lean left and may be long.
        let mut e = self;
        loop {
            match e {
                Expr::Literal(_, c) | Expr::Field(_, c) | Expr::Not(_, c) => return c.0,
                Expr::Call { column, .. } => return column.0,
                Expr::And(a, _) | Expr::Or(a, _) | Expr::Compare(a, _, _) => e = a,
            }
        }
    }
}
