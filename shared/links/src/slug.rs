//! Slugs: the path of a smartlink's public URL. Custom ones are 3 to 64 characters of
//! `[A-Za-z0-9_-]`; generated ones 6 alphanumerics. Unique across every org without
//! regard to case (the guard holds the lowercased slug), kept by a deleted link, and
//! never one of the words the links host or the platform route by.

use rand::Rng;
use relinx_model::ValidationError;
use std::fmt;

const MIN: usize = 3;
const MAX: usize = 64;
/// The length of a generated slug.
pub const GENERATED_LEN: usize = 6;

/// Words a slug may not be (lowercased): paths the hosts route, and names that would
/// pass for the platform's own pages.
pub const RESERVED: &[&str] = &[
    "api",
    "v1",
    "v2",
    "v3",
    "health",
    "healthz",
    "console",
    "static",
    "assets",
    "admin",
    "login",
    "logout",
    "signup",
    "app",
    "www",
    "docs",
    "help",
    "status",
    "robots.txt",
    "favicon.ico",
    "openapi",
    "webhooks",
    "auth",
    "dashboard",
    "settings",
    "relink",
    "relinx",
    "links",
    "qr",
    "analytics",
    "null",
    "undefined",
];

/// A checked slug, as its owner wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// A custom slug; the error names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let len = raw.chars().count();
        if !(MIN..=MAX).contains(&len) {
            return Err(ValidationError::new(
                field,
                format!("must be {MIN} to {MAX} characters long (got {len})"),
            ));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(ValidationError::new(
                field,
                format!("may contain only letters, digits, '-' and '_' (found {bad:?})"),
            ));
        }
        if RESERVED.contains(&raw.to_ascii_lowercase().as_str()) {
            return Err(ValidationError::new(
                field,
                format!("{raw:?} is reserved; choose another"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Whether some link could have `raw` as its slug (its length and characters),
    /// so a visitor's path that could not is answered without a lookup.
    pub fn could_exist(raw: &str) -> bool {
        (MIN..=MAX).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    /// A fresh random slug of [`GENERATED_LEN`] alphanumerics.
    pub fn generate() -> Self {
        const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rng();
        loop {
            let slug: String = (0..GENERATED_LEN)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            if !RESERVED.contains(&slug.to_ascii_lowercase().as_str()) {
                return Self(slug);
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What uniqueness is judged on.
    pub fn folded(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_slugs_are_checked_and_reserved_words_refused() {
        assert_eq!(
            Slug::parse("s", "My_Link-1").map(|s| s.folded()),
            Ok("my_link-1".into())
        );
        for bad in ["ab", "has space", "ünï", "API", "Health", &"x".repeat(65)] {
            assert!(Slug::parse("s", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_slugs_are_six_alphanumerics() {
        for _ in 0..100 {
            let slug = Slug::generate();
            assert_eq!(slug.as_str().len(), GENERATED_LEN);
            assert!(slug.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
            assert!(Slug::parse("s", slug.as_str()).is_ok());
        }
    }
}
