//! Reading variables: each reader takes one name, answers its value or `None`, and
//! notes a problem for a value it cannot take, so one start reports them all.

use crate::{ConfigError, SecretSource, Tables};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::RangeInclusive;
use std::time::Duration;

pub(crate) struct Vars {
    values: HashMap<String, String>,
    problems: Vec<String>,
    /// Every name asked for, set or not: what [`crate::Config::variables`] lists.
    read: RefCell<BTreeSet<String>>,
}

impl Vars {
    pub fn new(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            values: vars
                .into_iter()
                .filter(|(_, value)| !value.trim().is_empty())
                .collect(),
            problems: Vec::new(),
            read: RefCell::default(),
        }
    }

    pub fn names_read(&self) -> Vec<String> {
        self.read.borrow().iter().cloned().collect()
    }

    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.read.borrow_mut().insert(name.to_owned());
        self.values.get(name).map(|v| v.trim())
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.raw(name).map(str::to_owned)
    }

    /// The value parsed by `parse`, whose error says what was wrong.
    pub fn parsed<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.raw(name)?.to_owned();
        match parse(&raw) {
            Ok(value) => Some(value),
            Err(why) => {
                self.problems.push(format!("{name}={raw:?}: {why}"));
                None
            }
        }
    }

    /// One of two words, the first meaning `true`.
    pub fn choice(&mut self, name: &str, (yes, no): (&str, &str), default: bool) -> bool {
        self.parsed(name, |raw| match raw {
            _ if raw == yes => Ok(true),
            _ if raw == no => Ok(false),
            _ => Err(format!("it is {yes} or {no}")),
        })
        .unwrap_or(default)
    }

    /// An on/off switch, off unless set.
    pub fn switch(&mut self, name: &str) -> bool {
        self.parsed(name, |raw| match raw {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            _ => Err("it is 1 (on) or 0 (off)".into()),
        })
        .unwrap_or(false)
    }

    /// A whole number in `range`, `unit` naming what it counts.
    pub fn number(&mut self, name: &str, range: RangeInclusive<u64>, unit: &str) -> Option<u64> {
        self.parsed(name, |raw| match raw.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(format!(
                "it is {unit} from {} to {}",
                range.start(),
                range.end()
            )),
        })
    }

    pub fn seconds(&mut self, name: &str, range: RangeInclusive<u64>) -> Option<Duration> {
        self.number(name, range, "whole seconds")
            .map(Duration::from_secs)
    }

    /// An http(s) URL.
    pub fn url(&mut self, name: &str) -> Option<String> {
        self.parsed(name, |raw| match url::Url::parse(raw) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Ok(raw.to_owned())
            }
            _ => Err("it is an http or https URL, such as https://api.example.com".into()),
        })
    }

    /// Origins, `scheme://host[:port]`, comma-separated.
    pub fn origins(&mut self, name: &str) -> Vec<String> {
        self.parsed(name, |raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|origin| match url::Url::parse(origin) {
                    Ok(url)
                        if matches!(url.scheme(), "http" | "https")
                            && url.host().is_some()
                            && url.path() == "/"
                            && !origin.ends_with('/') =>
                    {
                        Ok(origin.to_owned())
                    }
                    _ => Err(format!(
                        "{origin:?} is not an origin such as https://app.example.com (scheme, host and port only)"
                    )),
                })
                .collect()
        })
        .unwrap_or_default()
    }

    /// All three table names, or none.
    pub fn tables(&mut self) -> Option<Tables> {
        let names = ["MAIN_TABLE", "EVENTS_TABLE", "JOBS_TABLE"];
        let [main, events, jobs] = names.map(|name| self.text(name));
        match (main, events, jobs) {
            (Some(main), Some(events), Some(jobs)) => Some(Tables { main, events, jobs }),
            (None, None, None) => None,
            _ => {
                let missing: Vec<_> = names.into_iter().filter(|n| !self.is_set(n)).collect();
                self.problems.push(format!(
                    "{} not set: the three table names go together",
                    missing.join(" and ")
                ));
                None
            }
        }
    }

    /// A secret's value, or the ARN of the Secrets Manager secret holding it.
    pub fn secret(&mut self, (value_name, arn_name): (&str, &str)) -> SecretSource {
        if let Some(value) = self.text(value_name) {
            return SecretSource::Value(value.into_bytes());
        }
        match self.parsed(arn_name, |raw| {
            if raw.starts_with("arn:") && raw.contains(":secretsmanager:") {
                Ok(raw.to_owned())
            } else {
                Err("it is a Secrets Manager secret's ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>".into())
            }
        }) {
            Some(arn) => SecretSource::Stored(arn),
            None => SecretSource::Missing,
        }
    }
}

pub(crate) fn duration(raw: &str) -> Result<Duration, String> {
    let step = raw.trim();
    let last = step.char_indices().last().map_or(0, |(at, _)| at);
    let (number, unit) = step.split_at(last);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{step:?} is not a duration like 5s, 5m, 2h or 1d"))?;
    let seconds = match unit {
        "s" => Some(value),
        "m" => value.checked_mul(60),
        "h" => value.checked_mul(3600),
        "d" => value.checked_mul(86_400),
        _ => return Err(format!("{step:?}: the unit must be s, m, h or d")),
    };
    seconds
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{step:?} is too long"))
}

pub(crate) fn schedule(raw: &str) -> Result<Vec<Duration>, String> {
    raw.split(',')
        .map(duration)
        .collect::<Result<Vec<_>, _>>()
        .and_then(|ladder| {
            if ladder.is_empty() {
                Err("the schedule needs at least one step".into())
            } else {
                Ok(ladder)
            }
        })
}
