//! Rows as a file gives them: CSV read by the `csv` crate (RFC 4180), whatever its
//! encoding (UTF-8 with or without a byte-order mark, or a legacy encoding declared or
//! detected) and its delimiter (`,` `;` tab `|`, sniffed from the header or given). A
//! file that is not well formed is refused whole, naming the line, so nothing of it
//! is staged.

use encoding_rs::{Encoding, UTF_8};

/// A file's header and rows, every value as text (types are inferred later, without
/// changing a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The encoding the bytes were read in (`UTF-8`, `windows-1252`, …).
    pub encoding: &'static str,
    pub delimiter: char,
}

/// Why a file was refused; `line` is the file's line (1 is the header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct IngestError {
    pub line: Option<u64>,
    pub message: String,
}

impl IngestError {
    fn at(line: Option<u64>, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

/// What a request may say about its CSV (`?delimiter=`, `?encoding=`).
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    pub delimiter: Option<char>,
    pub encoding: Option<String>,
}

const DELIMITERS: [char; 4] = [',', ';', '\t', '|'];

/// Reads `bytes` as CSV with a header row.
pub fn parse_csv(bytes: &[u8], options: &CsvOptions) -> Result<Table, IngestError> {
    let encoding = match &options.encoding {
        Some(label) => Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            IngestError::at(
                None,
                format!(
                    "encoding: {label:?} is not an encoding (e.g. utf-8, windows-1252, iso-8859-1)"
                ),
            )
        })?,
        None => detect(bytes),
    };
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        return Err(IngestError::at(
            None,
            format!(
                "the file is not valid {}: declare its encoding with ?encoding=",
                encoding.name()
            ),
        ));
    }
    let delimiter = match options.delimiter {
        Some(d) if DELIMITERS.contains(&d) => d,
        Some(d) => {
            return Err(IngestError::at(
                None,
                format!("delimiter: {d:?} is not one of , ; tab |"),
            ));
        }
        None => sniff(&text),
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(u8::try_from(delimiter).unwrap_or(b','))
        .flexible(false)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| error_of(&e))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    for (index, name) in columns.iter().enumerate() {
        if name.is_empty() {
            return Err(IngestError::at(
                Some(1),
                format!("column {} has no name", index + 1),
            ));
        }
        if columns[..index].contains(name) {
            return Err(IngestError::at(
                Some(1),
                format!("the column {name:?} appears twice"),
            ));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| error_of(&e))?;
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok(Table {
        columns,
        rows,
        encoding: encoding.name(),
        delimiter,
    })
}

/// Reads a JSON array of objects, or NDJSON (one object a line), as a table: the
/// columns are every key in the order first seen (as written, not sorted), and each
/// value its text (a string as it is, `true`/`false`, a missing key or `null` empty,
/// an array or object as its JSON), so nothing is converted before inference. A JSON
/// number is read as one (`1.50` is `1.5`; integers exact to 64 bits, others through
/// a double): a value that must keep every digit (an id, a zip code) is sent as a
/// string.
pub fn parse_json(bytes: &[u8], ndjson: bool) -> Result<Table, IngestError> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| IngestError::at(None, "JSON must be UTF-8"))?;
    let objects: Vec<Object> = if ndjson {
        let mut objects = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = u64::try_from(index + 1).unwrap_or(u64::MAX);
            if line.trim().is_empty() {
                continue;
            }
            let object = serde_json::from_str::<Object>(line).map_err(|e| {
                let message = if e.is_data() {
                    format!("line {number} is not an object")
                } else {
                    format!("not JSON: {e}")
                };
                IngestError::at(Some(number), message)
            })?;
            objects.push(object);
        }
        objects
    } else {
        if !text.trim_start().starts_with('[') {
            return Err(IngestError::at(
                None,
                "the body must be an array of objects",
            ));
        }
        serde_json::from_str::<Vec<Object>>(text).map_err(|e| {
            let message = if e.is_data() {
                format!("the body must be an array of objects: {e}")
            } else {
                format!("not JSON: {e}")
            };
            IngestError::at(u64::try_from(e.line()).ok(), message)
        })?
    };
    let mut columns: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for Object(entries) in &objects {
        for (key, _) in entries {
            if seen.insert(key.clone()) {
                columns.push(key.clone());
            }
        }
    }
    let position: std::collections::HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let rows = objects
        .iter()
        .map(|Object(entries)| {
            let mut row = vec![String::new(); columns.len()];
            for (key, value) in entries {
                if let Some(&at) = position.get(key.as_str()) {
                    row[at] = match value {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                }
            }
            row
        })
        .collect();
    Ok(Table {
        columns,
        rows,
        encoding: UTF_8.name(),
        delimiter: ',',
    })
}

/// A JSON object with its keys in the order written (serde_json's own map sorts
/// them, and a file's column order is the user's).
struct Object(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Object {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Object;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Object, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(Object(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// UTF-8 (a byte-order mark included) when the bytes are; else what chardetng, the
/// detector Firefox uses, guesses for them.
fn detect(bytes: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    // Not UTF-8 (checked above), so neither ISO-2022-JP (a 7-bit email encoding) nor
    // UTF-8 is a guess to make.
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// The delimiter the header line uses most, outside quotes (`,` when none).
fn sniff(text: &str) -> char {
    let header = text.lines().next().unwrap_or_default();
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for c in header.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = DELIMITERS.iter().position(|d| *d == c) {
            counts[i] += 1;
        }
    }
    let mut best = 0;
    for i in 1..DELIMITERS.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    DELIMITERS[best]
}

fn error_of(err: &csv::Error) -> IngestError {
    let line = err.position().map(csv::Position::line);
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "{len} fields where the header has {expected_len} (an unclosed quote, or a delimiter inside an unquoted value)"
        ),
        csv::ErrorKind::Utf8 { .. } => "not valid text in the file's encoding".to_owned(),
        _ => err.to_string(),
    };
    IngestError::at(line, message)
}

#[cfg(test)]
mod tests;
