//! The mapping assistant: which column fills which field of a schema, how sure it
//! is, and why. Deterministic (the same columns, fields and saved mappings always
//! give the same answer) and explainable: every suggestion says which rule made it.
//!
//! Names are normalized first ([`words`]): byte-order mark dropped, NFKC, case
//! folded, camelCase, snake_case and punctuation split into words (never an empty
//! one), a plain plural made singular. Then, for each column and field, the first
//! rule that matches proposes the pair:
//!
//! 1. the same name (1.0);
//! 2. a mapping this workspace saved before mapped a column of this name onto this
//!    field (0.95, "mapped so in mapping …");
//! 3. the synonym list (`words/synonyms.txt`; 0.85);
//! 4. shared words, at least half of both names' words (0.4 + 0.4 × the share) —
//!    never a substring, so "Email consent" is only half like "emails".
//!
//! The column's values then raise or lower it: a type that is the field's (an
//! `email` field and a column of addresses) adds 0.05, one that needs converting
//! takes some off, one that can never be the field's (yes/no into an e-mail) takes
//! 0.5. Below 0.5 nothing is proposed. Each field gets one column and each column
//! one field, the surest pairs first; two equally sure pairs competing for a field
//! or a column leave both unmapped.

use crate::infer::ColumnType;
use crate::source::Column;
use relinx_model::{DataType, FieldDef};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// The least confidence worth proposing.
const THRESHOLD: f64 = 0.5;

/// A name as words, for comparing: see the module docs.
pub fn words(name: &str) -> Vec<String> {
    let text: String = name.trim_start_matches('\u{feff}').nfkc().collect();
    let mut spaced = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let previous = i.checked_sub(1).and_then(|p| chars.get(p));
        let next = chars.get(i + 1);
        // firstName → first Name; HTTPServer → HTTP Server; but not e-MAIL.
        let boundary = c.is_uppercase()
            && previous.is_some_and(|p| {
                p.is_lowercase() || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
            });
        if boundary {
            spaced.push(' ');
        }
        spaced.push(c);
    }
    spaced
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(singular)
        .collect()
}

/// `emails` → `email`, `addresses` → `address`, `categories` → `category`;
/// `address`, `status`, `analysis` stay.
fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("sses") {
        return format!("{stem}ss");
    }
    if let Some(stem) = word.strip_suffix("ies")
        && stem.chars().count() > 1
    {
        return format!("{stem}y");
    }
    let plain_plural = word.chars().count() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is");
    if plain_plural {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    }
}

fn key(name: &str) -> String {
    words(name).join(" ")
}

/// The synonym groups, by normalized name.
static SYNONYMS: LazyLock<BTreeMap<String, usize>> = LazyLock::new(|| {
    synonym_groups(include_str!("../words/synonyms.txt"))
        .into_iter()
        .enumerate()
        .flat_map(|(group, names)| names.into_iter().map(move |n| (n, group)))
        .collect()
});

/// The groups of a synonyms file, each name normalized.
pub fn synonym_groups(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split('|').map(key).filter(|k| !k.is_empty()).collect())
        .collect()
}

/// A column a mapping this workspace saved mapped onto a field.
#[derive(Debug, Clone)]
pub struct Precedent {
    pub mapping: String,
    pub column: String,
    pub target: String,
}

/// One proposed pair.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Suggested {
    pub target: String,
    /// The mapping expression: the column (backticked when not a plain name),
    /// converted where the field needs it (`to_number(x)`).
    pub expr: String,
    /// 0.5 to 1.
    pub confidence: f64,
    pub why: String,
}

/// What the assistant proposes.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// In the schema's field order.
    pub fields: Vec<Suggested>,
    /// The columns no field took, in the source's order.
    pub unmapped_columns: Vec<String>,
}

struct Candidate {
    field: usize,
    column: usize,
    /// Hundredths, so ties are exact.
    score: i64,
    why: String,
    expr: String,
}

/// Proposes which of `columns` fills which of `fields`, given the workspace's
/// `precedents` (most recent first: the first that matches is named).
pub fn suggest(columns: &[Column], fields: &[FieldDef], precedents: &[Precedent]) -> Suggestion {
    // Each name is normalized once, not once a pair.
    let column_names: Vec<NameWords> = columns.iter().map(|c| NameWords::of(&c.name)).collect();
    let field_names: Vec<NameWords> = fields.iter().map(|f| NameWords::of(&f.name)).collect();
    let precedents: Vec<(&Precedent, String)> =
        precedents.iter().map(|p| (p, key(&p.column))).collect();
    let mut candidates = Vec::new();
    for (f, field) in fields.iter().enumerate() {
        let field_name = &field_names[f];
        for (c, column) in columns.iter().enumerate() {
            let column_name = &column_names[c];
            if column_name.key.is_empty() || field_name.key.is_empty() {
                continue;
            }
            let Some((base, why)) = name_match(column_name, field_name, &precedents) else {
                continue;
            };
            let (adjust, fit) = type_fit(column, field);
            let score = (base + adjust).min(100);
            if score < (THRESHOLD * 100.0) as i64 {
                continue;
            }
            candidates.push(Candidate {
                field: f,
                column: c,
                score,
                why: format!("{why}; {fit}"),
                expr: expr_for(column, field),
            });
        }
    }
    // Surest first; among equals, schema order then column order (only to make
    // the walk fixed: equal pairs that compete are left unmapped below).
    candidates.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.field.cmp(&b.field))
            .then(a.column.cmp(&b.column))
    });
    let mut taken_fields = BTreeSet::new();
    let mut taken_columns = BTreeSet::new();
    let mut blocked_fields = BTreeSet::new();
    let mut blocked_columns = BTreeSet::new();
    let mut chosen: Vec<&Candidate> = Vec::new();
    for candidate in &candidates {
        let free = |c: &Candidate| {
            !taken_fields.contains(&c.field)
                && !taken_columns.contains(&c.column)
                && !blocked_fields.contains(&c.field)
                && !blocked_columns.contains(&c.column)
        };
        if !free(candidate) {
            continue;
        }
        let rival = candidates.iter().any(|other| {
            !std::ptr::eq(other, candidate)
                && other.score == candidate.score
                && (other.field == candidate.field || other.column == candidate.column)
                && free(other)
        });
        if rival {
            blocked_fields.insert(candidate.field);
            blocked_columns.insert(candidate.column);
            continue;
        }
        taken_fields.insert(candidate.field);
        taken_columns.insert(candidate.column);
        chosen.push(candidate);
    }
    chosen.sort_by_key(|c| c.field);
    Suggestion {
        fields: chosen
            .iter()
            .map(|c| Suggested {
                target: fields[c.field].name.clone(),
                expr: c.expr.clone(),
                confidence: c.score as f64 / 100.0,
                why: c.why.clone(),
            })
            .collect(),
        unmapped_columns: columns
            .iter()
            .enumerate()
            .filter(|(i, _)| !taken_columns.contains(i))
            .map(|(_, c)| c.name.clone())
            .collect(),
    }
}

/// A name as the rules compare it, normalized once.
struct NameWords<'a> {
    name: &'a str,
    key: String,
    words: BTreeSet<String>,
    group: Option<usize>,
}

impl<'a> NameWords<'a> {
    fn of(name: &'a str) -> Self {
        let words = words(name);
        let key = words.join(" ");
        Self {
            name,
            group: SYNONYMS.get(&key).copied(),
            key,
            words: words.into_iter().collect(),
        }
    }
}

/// The first naming rule that pairs the column with the field: its score (in
/// hundredths) and why.
fn name_match(
    column: &NameWords,
    field: &NameWords,
    precedents: &[(&Precedent, String)],
) -> Option<(i64, String)> {
    let (column_name, field_name) = (column.name, field.name);
    if column.key == field.key {
        return Some((
            100,
            format!("the column {column_name:?} is named as the field"),
        ));
    }
    if let Some((p, _)) = precedents
        .iter()
        .find(|(p, key)| p.target == field_name && *key == column.key)
    {
        return Some((95, format!("mapped so in mapping {:?}", p.mapping)));
    }
    if column.group.is_some() && column.group == field.group {
        return Some((
            85,
            format!("{column_name:?} and {field_name:?} name the same thing (the synonym list)"),
        ));
    }
    let shared: Vec<&str> = column
        .words
        .intersection(&field.words)
        .map(String::as_str)
        .collect();
    let union = column.words.union(&field.words).count();
    if union == 0 || shared.is_empty() {
        return None;
    }
    let share = shared.len() as f64 / union as f64;
    if share < 0.5 {
        return None;
    }
    Some((
        40 + (40.0 * share).round() as i64,
        format!(
            "{column_name:?} and {field_name:?} share the words \"{}\"",
            shared.join(" ")
        ),
    ))
}

/// How well the column's values suit the field's type: the adjustment (in
/// hundredths) and what to say of it.
fn type_fit(column: &Column, field: &FieldDef) -> (i64, String) {
    use ColumnType as C;
    use DataType as D;
    let column_type = column.column_type();
    let good = (5, format!("its values are {}", noun(column_type)));
    let convert = |by: i64| {
        (
            -by,
            format!("its values are {}, to convert", noun(column_type)),
        )
    };
    let never = (
        -50,
        format!(
            "but its values are {}, which a {} field does not take",
            noun(column_type),
            field.data_type.as_str()
        ),
    );
    match (field.data_type, column_type) {
        (D::String | D::Json, C::String) => good,
        (D::String | D::Json, _) => (0, format!("its values are {}", noun(column_type))),
        (D::Email, C::Email) | (D::Url, C::Url) => good,
        (D::Email | D::Url, C::String) => convert(20),
        (D::Integer, C::Integer) | (D::Number, C::Integer | C::Number) => good,
        (D::Integer, C::Number) => convert(20),
        (D::Integer | D::Number, C::String) => convert(30),
        (D::Boolean, C::Boolean) => good,
        (D::Boolean, C::String) => convert(30),
        (D::Date, C::Date) | (D::Datetime, C::Datetime) => good,
        (D::Date, C::Datetime) | (D::Datetime, C::Date) => convert(10),
        (D::Date | D::Datetime, C::String) => convert(30),
        (D::Enum, _) => {
            let choices = field.choices.as_deref().unwrap_or_default();
            if !column.examples.is_empty() && column.examples.iter().all(|e| choices.contains(e)) {
                (5, "its values are among the field's".to_owned())
            } else {
                (-30, "not all its values are among the field's".to_owned())
            }
        }
        _ => never,
    }
}

fn noun(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Integer => "whole numbers",
        ColumnType::Number => "numbers",
        ColumnType::Boolean => "yes/no values",
        ColumnType::Date => "dates",
        ColumnType::Datetime => "dates and times",
        ColumnType::Email => "e-mail addresses",
        ColumnType::Url => "URLs",
        ColumnType::String => "text",
    }
}

/// The expression that maps the column onto the field: the column itself, through
/// `to_number` / `to_bool` when text must become a number or a yes/no.
fn expr_for(column: &Column, field: &FieldDef) -> String {
    let name = column_ref(&column.name);
    match (field.data_type, column.column_type()) {
        (DataType::Integer | DataType::Number, ColumnType::String) => format!("to_number({name})"),
        (DataType::Boolean, ColumnType::String) => format!("to_bool({name})"),
        _ => name,
    }
}

/// A column as an expression names it: the language's own printer (a name that is
/// not a plain one, or is a keyword or a function's, in backticks).
pub fn column_ref(name: &str) -> String {
    relinx_expr::Expr::Field(vec![name.to_owned()], relinx_expr::Column::default()).to_string()
}

#[cfg(test)]
mod tests;
