//! A field of a PUT-as-PATCH body (seed 000: "PUT behaves like PATCH"): absent leaves
//! it alone, `null` clears it, a value sets it. `Option<Option<T>>` says the same
//! thing in a way that is easy to get wrong; this says it by name.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not in the body: leave the field as it is.
    #[default]
    Absent,
    /// `null`: clear the field.
    Null,
    /// A value: set the field.
    Value(T),
}

impl<T> Patch<T> {
    /// Applies the patch to an optional field.
    pub fn apply_to(self, field: &mut Option<T>) {
        match self {
            Self::Absent => {}
            Self::Null => *field = None,
            Self::Value(value) => *field = Some(value),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Absent => Patch::Absent,
            Self::Null => Patch::Null,
            Self::Value(value) => Patch::Value(f(value)),
        }
    }

    /// [`Patch::map`] with a check that may refuse the value.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Self::Absent => Patch::Absent,
            Self::Null => Patch::Null,
            Self::Value(value) => Patch::Value(f(value)?),
        })
    }
}

/// Use with `#[serde(default)]` so an absent field stays [`Patch::Absent`].
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Self::Null,
            Some(value) => Self::Value(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        name: Patch<String>,
    }

    fn parse(json: &str) -> Patch<String> {
        serde_json::from_str::<Body>(json).expect("body").name
    }

    #[test]
    fn absent_null_and_value_are_three_things() {
        assert_eq!(parse("{}"), Patch::Absent);
        assert_eq!(parse(r#"{"name":null}"#), Patch::Null);
        assert_eq!(parse(r#"{"name":"x"}"#), Patch::Value("x".to_owned()));
        let mut field = Some("old".to_owned());
        Patch::Absent.apply_to(&mut field);
        assert_eq!(field.as_deref(), Some("old"));
        Patch::Null.apply_to(&mut field);
        assert_eq!(field, None);
        Patch::Value("new".to_owned()).apply_to(&mut field);
        assert_eq!(field.as_deref(), Some("new"));
    }
}
