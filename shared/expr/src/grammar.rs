//! The peg grammar and the translation of its failures into [`ParseError`]s.
//!
//! Syntax errors come from peg (furthest failure, expected set). Errors peg cannot
//! phrase (unknown field, unterminated string, too deep, …) are recorded in
//! [`State`] while parsing, the parse carrying on where it safely can; the earliest
//! recorded error wins over a syntax error at the same or a later position.
//! Nesting depth is a rule argument, not mutable state, so backtracking and peg's
//! second (error-reporting) pass need no bookkeeping.

use std::cell::Cell;

use peg::RuleResult;

use crate::{CmpOp, Expr, Fields, MAX_DEPTH, MAX_LEN, ParseError, Value};

pub(crate) struct State<'s> {
    fields: &'s Fields<'s>,
    /// The earliest error found while parsing: byte offset and message.
    error: Cell<Option<(usize, String)>>,
}

impl<'s> State<'s> {
    fn new(fields: &'s Fields<'s>) -> Self {
        Self {
            fields,
            error: Cell::new(None),
        }
    }

    fn report(&self, pos: usize, message: impl FnOnce() -> String) {
        let current = self.error.take();
        let keep = match &current {
            Some((p, _)) => *p <= pos,
            None => false,
        };
        self.error.set(if keep {
            current
        } else {
            Some((pos, message()))
        });
    }

    fn field(&self, pos: usize, root: &str, segments: Vec<String>) -> Expr {
        let mut path = Vec::with_capacity(segments.len() + 1);
        path.push(root.to_owned());
        path.extend(segments);
        if let Err(message) = self.fields.check(&path) {
            self.report(pos, || message);
        }
        Expr::Field(path)
    }

    fn number(&self, pos: usize, text: &str) -> f64 {
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => n,
            _ => {
                self.report(pos, || format!("number {text} is out of range"));
                0.0
            }
        }
    }

    fn unicode_escape(&self, backslash: usize, code: u32) -> char {
        char::from_u32(code).unwrap_or_else(|| {
            self.report(backslash, || {
                format!("invalid unicode escape \"\\u{code:04x}\" (unpaired surrogate)")
            });
            char::REPLACEMENT_CHARACTER
        })
    }

    /// After a complete comparison: another comparison operator right after it
    /// means a chain (`a < b < c`), which gets a message of its own.
    fn check_chain(&self, input: &str, pos: usize) {
        let rest = input.get(pos..).unwrap_or("");
        let trimmed = rest.trim_start_matches(is_space);
        if ["==", "!=", "<", ">"]
            .iter()
            .any(|op| trimmed.starts_with(op))
        {
            self.report(pos + (rest.len() - trimmed.len()), || {
                "comparisons do not chain: write `a < b && b < c`, or use parentheses".to_owned()
            });
        }
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn hex_value(digits: &str) -> u32 {
    digits
        .chars()
        .fold(0, |acc, c| acc * 16 + c.to_digit(16).unwrap_or(0))
}

fn surrogate_pair(high: u32, low: u32) -> Option<char> {
    if (0xD800..0xDC00).contains(&high) && (0xDC00..0xE000).contains(&low) {
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    } else {
        None
    }
}

fn fold(first: Expr, rest: Vec<Expr>, node: fn(Box<Expr>, Box<Expr>) -> Expr) -> Expr {
    rest.into_iter()
        .fold(first, |a, b| node(Box::new(a), Box::new(b)))
}

peg::parser! {
    grammar expr_grammar(st: &State<'_>) for str {
        pub rule root() -> Expr = _ e:or(0) _ { e }

        rule or(d: usize) -> Expr
            = first:and(d) rest:(_ "||" _ e:and(d) { e })* { fold(first, rest, Expr::Or) }

        rule and(d: usize) -> Expr
            = first:cmp(d) rest:(_ "&&" _ e:cmp(d) { e })* { fold(first, rest, Expr::And) }

        rule cmp(d: usize) -> Expr
            = a:unary(d) rest:(_ op:cmp_op() _ b:unary(d) no_chain() { (op, b) })? {
                match rest {
                    Some((op, b)) => Expr::Compare(Box::new(a), op, Box::new(b)),
                    None => a,
                }
            }

        rule cmp_op() -> CmpOp
            = quiet!{
                "==" { CmpOp::Eq } / "!=" { CmpOp::Ne } / "<=" { CmpOp::Le }
                / ">=" { CmpOp::Ge } / "<" { CmpOp::Lt } / ">" { CmpOp::Gt }
            }
            / expected!("a comparison operator")

        rule no_chain() = #{|input, pos| {
            st.check_chain(input, pos);
            RuleResult::Matched(pos, ())
        }}

        rule unary(d: usize) -> Expr
            = p:position!() "!" nest(d, p) _ e:unary(d + 1) { Expr::Not(Box::new(e)) }
            / primary(d)

        rule primary(d: usize) -> Expr
            = p:position!() "(" nest(d, p) _ e:or(d + 1) _ ")" { e }
            / v:literal() { Expr::Literal(v) }
            / field()

        // Entering one more level at byte `p`: refused beyond MAX_DEPTH.
        rule nest(d: usize, p: usize) = #{|_input, pos| {
            if d < MAX_DEPTH {
                RuleResult::Matched(pos, ())
            } else {
                st.report(p, || format!("expression nests deeper than {MAX_DEPTH}"));
                RuleResult::Failed
            }
        }}

        rule literal() -> Value
            = n:number() { Value::Number(n) }
            / s:string() { Value::String(s) }
            / quiet!{ "true" !name_char() } { Value::Bool(true) }
            / quiet!{ "false" !name_char() } { Value::Bool(false) }
            / quiet!{ "null" !name_char() } { Value::Null }

        rule number() -> f64
            = quiet!{
                p:position!()
                s:$("-"? ("0" / ['1'..='9'] ['0'..='9']*) ("." ['0'..='9']+)?
                    (['e' | 'E'] ['+' | '-']? ['0'..='9']+)?)
                { st.number(p, s) }
            }
            / expected!("a number")

        rule string() -> String
            = quiet!{
                p:position!() "\"" cs:str_char()* ("\"" / unterminated(p))
                { cs.into_iter().collect() }
            }
            / expected!("a string")

        rule unterminated(p: usize) = #{|_input, _pos| {
            st.report(p, || "unterminated string".to_owned());
            RuleResult::Failed
        }}

        rule str_char() -> char
            = [^ '"' | '\\' | '\u{0}'..='\u{1f}']
            / p:position!() "\\" c:escape(p) { c }
            / p:position!() c:['\u{0}'..='\u{1f}'] {
                st.report(p, || format!(
                    "control character U+{:04X} in a string; write it as an escape (\\n, \\t, \\u00XX)",
                    u32::from(c)
                ));
                c
            }

        // `p`: byte offset of the backslash.
        rule escape(p: usize) -> char
            = "\"" { '"' } / "\\" { '\\' } / "/" { '/' }
            / "b" { '\u{8}' } / "f" { '\u{c}' } / "n" { '\n' } / "r" { '\r' } / "t" { '\t' }
            / "u" h:hex4() "\\u" l:hex4() {? surrogate_pair(h, l).ok_or("surrogate pair") }
            / "u" h:hex4() { st.unicode_escape(p, h) }
            / "u" {
                st.report(p, || "invalid escape \"\\u\": expected four hex digits".to_owned());
                char::REPLACEMENT_CHARACTER
            }
            / c:[_] {
                st.report(p, || format!(
                    "invalid escape \"\\{c}\"; known: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"
                ));
                char::REPLACEMENT_CHARACTER
            }

        rule hex4() -> u32
            = s:$(['0'..='9' | 'a'..='f' | 'A'..='F']*<4>) { hex_value(s) }

        rule field() -> Expr
            = p:position!() root:(quiet!{ name() } / expected!("a field")) segs:segment()* {
                st.field(p, root, segs)
            }

        rule segment() -> String
            = quiet!{ "." } s:(quiet!{ name() } / expected!("a field name")) { s.to_owned() }
            / quiet!{ "[" } _ s:string() _ "]" { s }

        rule name() -> &'input str
            = $(['A'..='Z' | 'a'..='z' | '_'] name_char()*)

        rule name_char() = ['A'..='Z' | 'a'..='z' | '0'..='9' | '_']

        rule _ = quiet!{ [' ' | '\t' | '\n' | '\r']* }
    }
}

/// 1-based char column of byte offset `offset`.
fn column(input: &str, offset: usize) -> usize {
    input
        .char_indices()
        .take_while(|(i, _)| *i < offset)
        .count()
        + 1
}

pub(crate) fn parse(input: &str, fields: &Fields<'_>) -> Result<Expr, ParseError> {
    if input.chars().count() > MAX_LEN {
        return Err(ParseError {
            column: MAX_LEN + 1,
            message: format!("expression longer than {MAX_LEN} characters"),
        });
    }
    if input.chars().all(is_space) {
        return Err(ParseError {
            column: 1,
            message: "expected an expression".to_owned(),
        });
    }
    let state = State::new(fields);
    let result = expr_grammar::root(input, &state);
    let recorded = state.error.take();
    let (offset, message) = match (result, recorded) {
        (Ok(expr), None) => return Ok(expr),
        (Ok(_), Some(err)) => err,
        (Err(e), Some(err)) if err.0 <= e.location.offset => err,
        (Err(e), _) => (
            e.location.offset,
            describe(input, e.location.offset, e.expected.tokens()),
        ),
    };
    Err(ParseError {
        column: column(input, offset),
        message,
    })
}

/// Where a token sorts in a message: values first, then operators, closers, end.
fn rank(token: &str) -> (usize, &str) {
    const ORDER: &[&str] = &[
        "a number",
        "a string",
        "a field",
        "\"(\"",
        "\"!\"",
        "a field name",
        "a comparison operator",
        "\"&&\"",
        "\"||\"",
        "\")\"",
        "\"]\"",
        "EOF",
    ];
    let pos = ORDER
        .iter()
        .position(|t| *t == token)
        .unwrap_or(ORDER.len());
    (pos, token)
}

fn describe<'t>(input: &str, offset: usize, tokens: impl Iterator<Item = &'t str>) -> String {
    let mut tokens: Vec<&str> = tokens.collect();
    tokens.sort_by(|a, b| rank(a).cmp(&rank(b)));
    let names: Vec<&str> = tokens
        .iter()
        .map(|t| if *t == "EOF" { "end of input" } else { t })
        .collect();
    let found = match input.get(offset..).and_then(|s| s.chars().next()) {
        Some(c) => format!("found {:?}", c.to_string()),
        None => "found end of input".to_owned(),
    };
    match names.split_last() {
        None => format!("unexpected input, {found}"),
        Some((last, [])) => format!("expected {last}, {found}"),
        Some((last, init)) => format!("expected {} or {last}, {found}", init.join(", ")),
    }
}
