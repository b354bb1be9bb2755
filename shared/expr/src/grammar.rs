//! The peg grammar and the translation of its failures into [`ParseError`]s.
//!
//! Syntax errors come from peg (furthest failure, expected set). Errors peg cannot
//! phrase (unknown field or function, wrong arity, unterminated string or quoted
//! name, too deep, …) are recorded in [`State`] while parsing, the parse carrying
//! on where it safely can; the earliest recorded error wins over a syntax error at
//! the same or a later position.
//! Nesting depth is a rule argument, not mutable state, so backtracking and peg's
//! second (error-reporting) pass need no bookkeeping.

use std::cell::Cell;

use peg::RuleResult;

use crate::{CmpOp, Column, Expr, Fields, Func, MAX_DEPTH, MAX_LEN, ParseError, Value};

pub(crate) struct State<'s> {
    fields: &'s Fields<'s>,
    /// The 1-based char column of every byte offset of the input (and of its end),
    /// so that recording a node's column costs a lookup, not a scan.
    columns: Vec<usize>,
    /// The earliest error found while parsing: byte offset and message.
    error: Cell<Option<(usize, String)>>,
}

impl<'s> State<'s> {
    fn new(input: &str, fields: &'s Fields<'s>) -> Self {
        let mut columns = Vec::with_capacity(input.len() + 1);
        let mut chars = 0;
        for (i, c) in input.chars().enumerate() {
            columns.extend(std::iter::repeat_n(i + 1, c.len_utf8()));
            chars = i + 1;
        }
        columns.push(chars + 1);
        Self {
            fields,
            columns,
            error: Cell::new(None),
        }
    }

    /// The column of byte offset `offset` (which peg only gives at char boundaries).
    fn column(&self, offset: usize) -> usize {
        self.columns.get(offset).copied().unwrap_or(0)
    }

    fn col(&self, offset: usize) -> Column {
        Column(self.column(offset))
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

    fn field(&self, pos: usize, root: String, segments: Vec<String>) -> Expr {
        let mut path = Vec::with_capacity(segments.len() + 1);
        // A control character in a quoted root has been reported where it stands,
        // which says more than "unknown field" at the root's start would.
        let checkable = !path_root_has_control(&root);
        path.push(root);
        path.extend(segments);
        if checkable && let Err(message) = self.fields.check(&path) {
            self.report(pos, || message);
        }
        Expr::Field(path, self.col(pos))
    }

    /// The function a call at `pos` names: reported as soon as its `(` is seen, so
    /// an unknown name is the error even when its arguments are broken too.
    fn func(&self, pos: usize, name: &str) -> Option<Func> {
        let func = Func::from_name(name);
        if func.is_none() {
            self.report(pos, || {
                format!("unknown function \"{name}\"; known: {}", Func::known_list())
            });
        }
        func
    }

    /// A complete call at `pos`. An unknown function has been reported already
    /// and stands for a null here (the parse fails anyway).
    fn call(&self, pos: usize, func: Option<Func>, args: Vec<Expr>) -> Expr {
        let column = self.col(pos);
        let Some(func) = func else {
            return Expr::Literal(Value::Null, column);
        };
        if let Err(message) = func.check_arity(args.len()) {
            self.report(pos, || message);
        }
        Expr::Call { func, args, column }
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

fn path_root_has_control(root: &str) -> bool {
    root.chars().any(char::is_control)
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
            = p:position!() "!" nest(d, p) _ e:unary(d + 1) { Expr::Not(Box::new(e), st.col(p)) }
            / primary(d)

        rule primary(d: usize) -> Expr
            = p:position!() "(" nest(d, p) _ e:or(d + 1) _ ")" { e }
            / call(d)
            / p:position!() v:literal() { Expr::Literal(v, st.col(p)) }
            / field()

        // A name and its "(" are quiet: failing there is not a call, and the name is
        // read again as a literal or a field, whose messages then apply. Past the
        // "(" it is a call: `field` refuses a name followed by "(", so a broken call
        // fails where it breaks instead of becoming an unknown field.
        rule call(d: usize) -> Expr
            = p:position!() n:quiet!{ n:name() _ "(" { n } } f:known_func(p, n) nest(d, p) _
              args:(or(d + 1) ** (_ "," _)) _ ")"
            { st.call(p, f, args) }

        rule known_func(p: usize, name: &str) -> Option<Func> = #{|_input, pos| {
            RuleResult::Matched(pos, st.func(p, name))
        }}

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
            = p:position!() root:root_name() segs:segment()* { st.field(p, root, segs) }

        rule root_name() -> String
            = quiet!{ n:name() !(_ "(") { n.to_owned() } }
            / quiet!{ quoted_name() }
            / expected!("a field")

        rule quoted_name() -> String
            = p:position!() "`" cs:quoted_char()* ("`" / unterminated_name(p))
            { cs.into_iter().collect() }

        rule unterminated_name(p: usize) = #{|_input, _pos| {
            st.report(p, || {
                "unterminated quoted name: close it with a backtick (write a backtick inside as two)"
                    .to_owned()
            });
            RuleResult::Failed
        }}

        rule quoted_char() -> char
            = "``" { '`' }
            / p:position!() c:[^ '`'] {
                if c.is_control() {
                    st.report(p, || format!(
                        "control character U+{:04X} in a quoted name",
                        u32::from(c)
                    ));
                }
                c
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
    let state = State::new(input, fields);
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
        column: state.column(offset),
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
        "\",\"",
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
