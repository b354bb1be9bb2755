//! The expression language of relinx: sync-policy conditions (`when`) today, data
//! mappings and analytics next. A parser (rust-peg), a canonical printer
//! (`Display`) and a total evaluator over a caller-supplied field lookup.
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
//! primary  = "(" expr ")" | literal | field ;
//! literal  = number | string | "true" | "false" | "null" ;
//! number   = [ "-" ] ( "0" | digit19 { digit } ) [ "." digit { digit } ]
//!            [ ( "e" | "E" ) [ "+" | "-" ] digit { digit } ] ;   (* JSON number *)
//! string   = '"' { char | escape } '"' ;         (* double quotes only *)
//! char     = any char but '"', '\' and U+0000..U+001F ;          (* as in JSON *)
//! escape   = '\' ( '"' | '\' | '/' | "b" | "f" | "n" | "r" | "t" | "u" hex hex hex hex ) ;
//!                                   (* JSON escapes; \uD83D\uDE00 surrogate pairs combine *)
//! field    = name { "." name | "[" string "]" } ;  (* no spaces inside a field *)
//! name     = ( letter | "_" ) { letter | digit | "_" } ;          (* ASCII *)
//! ```
//!
//! Whitespace (space, tab, CR, LF) may appear between tokens. `true`, `false` and
//! `null` are keywords when they stand as whole words (`nullable` is a field name).
//! A field's root must be one of the caller's [`Fields`]; only object roots take a
//! path (`data.a.b`, `data["any key"]`; `data` alone is allowed too).
//!
//! `Display` prints the canonical text: one space around binary operators,
//! parentheses only where the tree needs them (plus around a `!` operand of a
//! comparison, for the reader), numbers in shortest round-trip form, strings with
//! only `"`, `\` and control characters escaped. Parsing it gives back an equal
//! [`Expr`]. It may be longer than the text it was parsed from (spaces, those
//! parentheses, `1e20` printing as 21 digits), so text near [`MAX_LEN`] may print
//! to text over it: keep the caller's text if it must be parsed again verbatim.
//!
//! Limits: at most [`MAX_LEN`] characters and at most [`MAX_DEPTH`] levels of
//! nesting, where every `(` and every `!` opens a level. Both are refused with a
//! [`ParseError`]; parsing never recurses deeper than that.
//!
//! # Evaluation
//!
//! [`Expr::eval`] is total (never panics) and short-circuits `&&` and `||`.
//! * A missing field is `null`.
//! * `==` / `!=`: JSON equality, except that numbers compare numerically
//!   (`5 == 5.0`); values of different types are unequal (`"5" != 5`).
//! * `<`, `<=`, `>`, `>=`: numbers numerically, strings lexicographically by Unicode
//!   scalar value; any other pairing (mixed types, null, booleans, arrays, objects)
//!   is `false`.
//! * `!`, `&&`, `||` and the whole expression use truthiness: `false`, `null`, `0`
//!   and `""` are false; everything else (including `[]` and `{}`) is true.
//!
//! Numbers are `f64`: record numbers beyond 2^53 compare with their nearest `f64`.

mod eval;
mod grammar;
mod print;

pub use eval::FieldPaths;

/// Longest accepted input, in characters.
pub const MAX_LEN: usize = 2000;

/// Deepest accepted nesting: every `(` and every `!` opens one level.
pub const MAX_DEPTH: usize = 32;

/// The fields an expression may name: scalar roots (no path below them) and object
/// roots (a path below them is allowed, and so is the root alone).
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

/// A parsed expression. `Display` prints its canonical text, which parses back to
/// an equal `Expr` (given the same [`Fields`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    /// A field path: the root, then the segments below it.
    Field(Vec<String>),
    Not(Box<Expr>),
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

impl Expr {
    /// Parse `input`, allowing the fields in `fields`.
    pub fn parse(input: &str, fields: &Fields<'_>) -> Result<Expr, ParseError> {
        grammar::parse(input, fields)
    }
}
