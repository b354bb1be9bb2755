//! The canonical text of an expression: `parse(e.to_string()) == e`.
//!
//! Binary operators are printed with one space either side; a child is
//! parenthesized when it binds more loosely than its parent, the right child of
//! `&&`/`||` also when it binds equally (both parse left-associatively), and both
//! sides of a comparison whenever they are not a literal, a field or a call. A
//! call's arguments are whole expressions, printed as they are. A root prints in
//! backticks whenever plain it would read back as something else (a keyword, a
//! call) or not at all.

use std::fmt::{self, Display, Formatter, Write};

use crate::{CmpOp, Expr, Func, Value};

/// Binding strength: higher binds tighter.
fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        Expr::Compare(..) => 3,
        Expr::Not(..) => 4,
        Expr::Literal(..) | Expr::Field(..) | Expr::Call { .. } => 5,
    }
}

fn child(f: &mut Formatter<'_>, e: &Expr, paren: bool) -> fmt::Result {
    if paren {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(v, _) => write!(f, "{v}"),
            Expr::Field(path, _) => write_path(f, path),
            Expr::Call { func, args, .. } => {
                write!(f, "{func}(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_char(')')
            }
            Expr::Not(e, _) => {
                f.write_char('!')?;
                child(f, e, prec(e) < 4)
            }
            Expr::And(a, b) => {
                child(f, a, prec(a) < 2)?;
                f.write_str(" && ")?;
                child(f, b, prec(b) <= 2)
            }
            Expr::Or(a, b) => {
                child(f, a, prec(a) < 1)?;
                f.write_str(" || ")?;
                child(f, b, prec(b) <= 1)
            }
            Expr::Compare(a, op, b) => {
                child(f, a, prec(a) < 5)?;
                write!(f, " {op} ")?;
                child(f, b, prec(b) < 5)
            }
        }
    }
}

impl Display for CmpOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for Func {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `root` must be written in backticks: it is not a plain name, or plain
/// it would read as a literal or (before a `(`) a call.
fn needs_quotes(root: &str) -> bool {
    !is_name(root) || matches!(root, "true" | "false" | "null") || Func::from_name(root).is_some()
}

/// `root.seg`, or `root["seg"]` when a segment is not a name; `` `root` `` when
/// the root needs quoting, a backtick in it doubled.
fn write_path(f: &mut Formatter<'_>, path: &[String]) -> fmt::Result {
    let mut segments = path.iter();
    if let Some(root) = segments.next() {
        if needs_quotes(root) {
            f.write_char('`')?;
            f.write_str(&root.replace('`', "``"))?;
            f.write_char('`')?;
        } else {
            f.write_str(root)?;
        }
    }
    for seg in segments {
        if is_name(seg) {
            write!(f, ".{seg}")?;
        } else {
            f.write_char('[')?;
            write_string(f, seg)?;
            f.write_char(']')?;
        }
    }
    Ok(())
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write_number(f, *n),
            Value::String(s) => write_string(f, s),
        }
    }
}

/// Shortest round-trip text: plain decimal (`5120`, `2.5`) unless that is long
/// (`1e300`, `5e-324`), then exponent form. Non-finite prints as `null`.
pub(crate) fn write_number(f: &mut impl Write, n: f64) -> fmt::Result {
    if !n.is_finite() {
        return f.write_str("null");
    }
    let plain = format!("{n}");
    if plain.len() <= 24 {
        f.write_str(&plain)
    } else {
        write!(f, "{n:e}")
    }
}

/// A JSON string: `"`, `\` and U+0000..U+001F escaped (the parser refuses them
/// raw), everything else as is, so the text never gets longer than the source's.
pub(crate) fn write_string(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if c < ' ' => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// `text` cut to `max` characters (the last one an ellipsis) for a message.
pub(crate) fn shorten(text: String, max: usize) -> String {
    if text.chars().count() > max {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}
