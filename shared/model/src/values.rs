//! Validated values: parsing is the only way to make one.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An e-mail address, trimmed and lower-cased (addresses compare case-insensitively here).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim().to_lowercase();
        let invalid = || ValidationError::new(field, format!("{raw:?} is not an e-mail address"));
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One or more e-mail addresses separated by `;` (Relenta's `emails`; the Datalinx
/// `contact` schema's rule too): each one checked, the text kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailList {
    text: String,
    addresses: Vec<Email>,
}

impl EmailList {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let addresses = raw
            .split(';')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| Email::parse(field, part))
            .collect::<Result<Vec<_>, _>>()?;
        if addresses.is_empty() {
            return Err(ValidationError::new(
                field,
                "must hold one or more e-mail addresses separated by ;",
            ));
        }
        Ok(Self {
            text: raw.trim().to_owned(),
            addresses,
        })
    }

    /// The text as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Each address, lower-cased.
    pub fn addresses(&self) -> &[Email] {
        &self.addresses
    }
}

/// People as mail headers name them, separated by `;`: `Name <address>` or a bare
/// address (`Austin Powers <austin.powers@mi6.gov.uk>;ivana@kgb.ru`). The text is
/// kept as written; each address is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeopleList {
    text: String,
    addresses: Vec<Email>,
}

impl PeopleList {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let mut addresses = Vec::new();
        for part in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let address = match (part.rfind('<'), part.strip_suffix('>')) {
                (Some(open), Some(inner)) => &inner[open + 1..],
                (None, None) => part,
                _ => {
                    return Err(ValidationError::new(
                        field,
                        format!("{part:?} is neither `Name <address>` nor an address"),
                    ));
                }
            };
            addresses.push(Email::parse(field, address)?);
        }
        Ok(Self {
            text: raw.trim().to_owned(),
            addresses,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Each address, lower-cased, in order, without repeats.
    pub fn addresses(&self) -> Vec<Email> {
        let mut seen = std::collections::BTreeSet::new();
        self.addresses
            .iter()
            .filter(|a| seen.insert(a.as_str().to_owned()))
            .cloned()
            .collect()
    }
}

/// A display name (org, workspace, key): trimmed, 1..=100 characters, no control,
/// invisible or bidirectional-override characters (they make two names that look
/// alike differ, or one name look like another).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                field,
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(ValidationError::new(
                field,
                "must not contain control characters",
            ));
        }
        if let Some(c) = value.chars().find(|c| is_invisible(*c)) {
            return Err(ValidationError::new(
                field,
                format!(
                    "must not contain invisible or text-direction characters (found U+{:04X})",
                    u32::from(c)
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form names are compared in for uniqueness, as a person compares them:
    /// compatibility forms folded (NFKC: full-width `ｐｒｏｄ` is `prod`), case folded,
    /// and look-alikes from other scripts mapped to one skeleton (Unicode TS #39: a
    /// Cyrillic `рrоd` is `prod`), then recomposed (NFC).
    pub fn key(&self) -> String {
        use unicode_normalization::UnicodeNormalization;
        let folded = self.0.nfkc().collect::<String>().to_lowercase();
        unicode_security::skeleton(&folded)
            .collect::<String>()
            .to_lowercase()
            .nfc()
            .collect()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that render as nothing or reorder text: zero-width and joiner
/// characters, bidirectional marks, embeddings, overrides and isolates, word
/// joiners and invisible operators, fillers, the byte-order mark, tag characters.
fn is_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F
            | 0x1160
            | 0x17B4
            | 0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFEFF
            | 0xFFA0
            | 0xE0000..=0xE007F
    )
}

/// A password as submitted. Never logged: `Debug` hides it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(field: &str, raw: String) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(ValidationError::new(
                field,
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(ValidationError::new(
                field,
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("email", " A@Example.COM ").map(|e| e.0),
            Ok("a@example.com".into())
        );
        for bad in ["", "a", "a@b", "@b.io", "a@.io", "a b@c.io", "a@b..io"] {
            let err = Email::parse("email", bad).expect_err(bad);
            assert_eq!(err.field, "email");
        }
    }

    #[test]
    fn email_lists_and_people_lists_check_every_address() {
        let list = EmailList::parse("emails", " a@x.io; B@y.org ").unwrap();
        assert_eq!(list.as_str(), "a@x.io; B@y.org");
        assert_eq!(list.addresses()[1].as_str(), "b@y.org");
        assert!(EmailList::parse("emails", "a@x.io;nope").is_err());
        assert!(EmailList::parse("emails", " ; ").is_err());
        let people = PeopleList::parse(
            "contacts",
            "Ivana Humpalot <ivana.humpalot@kgb.ru>;Mustafa <assassinmustafa@gmail.com>;x@y.io;X@Y.io",
        )
        .unwrap();
        let addresses: Vec<_> = people.addresses().iter().map(|a| a.to_string()).collect();
        assert_eq!(
            addresses,
            [
                "ivana.humpalot@kgb.ru",
                "assassinmustafa@gmail.com",
                "x@y.io"
            ]
        );
        assert!(PeopleList::parse("contacts", "Bob <bob@x.io").is_err());
        assert!(PeopleList::parse("contacts", "Bob <not an address>").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("name", "  prod ").map(|n| n.0),
            Ok("prod".into())
        );
        assert!(Name::parse("name", "   ").is_err());
        assert!(Name::parse("name", &"x".repeat(101)).is_err());
        assert_eq!(
            Name::parse("name", "Prod").map(|n| n.key()),
            Ok("prod".into())
        );
    }

    #[test]
    fn names_compare_as_a_person_reads_them() {
        let key = |raw: &str| Name::parse("name", raw).map(|n| n.key());
        let prod = key("prod").expect("prod");
        assert_eq!(key("PROD").expect("upper"), prod);
        assert_eq!(key("ｐｒｏｄ").expect("full width"), prod);
        assert_eq!(
            key("\u{0440}r\u{043E}d").expect("cyrillic look-alike"),
            prod
        );
        assert_ne!(key("prodx").expect("other"), prod);
        assert_eq!(
            key("Straße").expect("eszett"),
            key("straße").expect("lower")
        );
        for hidden in [
            "prod\u{200B}",
            "p\u{202E}dorp",
            "\u{FEFF}prod",
            "pr\u{2066}od",
        ] {
            let err = Name::parse("name", hidden).expect_err(hidden);
            assert_eq!(err.field, "name");
            assert!(err.message.contains("invisible"), "{}", err.message);
        }
    }

    #[test]
    fn passwords_never_print() {
        let p = Password::parse("password", "correct horse".into()).expect("valid");
        assert!(!format!("{p:?}").contains("horse"));
        assert!(Password::parse("password", "short".into()).is_err());
    }
}
