//! An alert's condition and the rule that keeps it from flapping (issue 31): a
//! condition `value op threshold` is judged once an evaluation; an alert fires
//! only after `for` evaluations in a row found it true, and resolves only after
//! `resolve_after` in a row found it false. A value that is missing (the saved
//! query answered no row, or null) finds the condition false: an alert on "errors
//! ≥ 5" is not firing when there is nothing to count. The storage, the sweep that
//! evaluates and the routes build on this.

use serde::{Deserialize, Serialize};

/// How a value is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
}

impl Op {
    /// `>`, `>=`, `<`, `<=`; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            ">" => Some(Self::Above),
            ">=" => Some(Self::AtLeast),
            "<" => Some(Self::Below),
            "<=" => Some(Self::AtMost),
            _ => None,
        }
    }

    /// Whether `value op threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Above => value > threshold,
            Self::AtLeast => value >= threshold,
            Self::Below => value < threshold,
            Self::AtMost => value <= threshold,
        }
    }
}

/// Whether an alert is firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    #[default]
    Ok,
    Firing,
}

/// A change of state an evaluation made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Triggered,
    Resolved,
}

/// What an alert remembers between evaluations: its state, and how many
/// evaluations in a row have disagreed with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Hysteresis {
    pub state: State,
    /// Evaluations in a row that found the condition true while ok, or false while
    /// firing.
    #[serde(default)]
    pub streak: u32,
}

/// The rule of one alert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub op: Op,
    pub threshold: f64,
    /// Evaluations in a row the condition must hold before firing (at least 1).
    pub fire_after: u32,
    /// Evaluations in a row it must not hold before resolving (at least 1).
    pub resolve_after: u32,
}

impl Hysteresis {
    /// Judges one evaluation's `value` by `rule`: the state after it, and the
    /// transition it made, if any.
    pub fn observe(self, rule: &Rule, value: Option<f64>) -> (Self, Option<Transition>) {
        let holds = value.is_some_and(|v| v.is_finite() && rule.op.holds(v, rule.threshold));
        let (disagrees, needed, flip) = match self.state {
            State::Ok => (holds, rule.fire_after.max(1), Transition::Triggered),
            State::Firing => (!holds, rule.resolve_after.max(1), Transition::Resolved),
        };
        if !disagrees {
            return (Self { streak: 0, ..self }, None);
        }
        let streak = self.streak.saturating_add(1);
        if streak < needed {
            return (Self { streak, ..self }, None);
        }
        let state = match flip {
            Transition::Triggered => State::Firing,
            Transition::Resolved => State::Ok,
        };
        (Self { state, streak: 0 }, Some(flip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Rule = Rule {
        op: Op::AtLeast,
        threshold: 2.0,
        fire_after: 2,
        resolve_after: 2,
    };

    /// The transitions a run of values makes, from ok.
    fn run(values: &[Option<f64>]) -> Vec<Option<Transition>> {
        let mut at = Hysteresis::default();
        values
            .iter()
            .map(|v| {
                let (next, made) = at.observe(&RULE, *v);
                at = next;
                made
            })
            .collect()
    }

    #[test]
    fn it_fires_after_the_streak_and_not_on_one_crossing() {
        use Transition::*;
        assert_eq!(
            run(&[Some(2.0), Some(1.0), Some(3.0)]),
            vec![None, None, None]
        );
        assert_eq!(
            run(&[
                Some(2.0),
                Some(2.0),
                Some(5.0),
                Some(1.0),
                Some(9.0),
                Some(0.0),
                None
            ]),
            vec![
                None,
                Some(Triggered),
                None,
                None,
                None,
                None,
                Some(Resolved)
            ]
        );
    }

    #[test]
    fn a_missing_value_finds_the_condition_false_and_ops_compare_as_written() {
        let at = Hysteresis::default();
        assert_eq!(at.observe(&RULE, None), (at, None));
        assert_eq!(at.observe(&RULE, Some(f64::NAN)), (at, None));
        assert!(Op::parse(">").is_some_and(|op| op.holds(3.0, 2.0) && !op.holds(2.0, 2.0)));
        assert!(Op::parse("<=").is_some_and(|op| op.holds(2.0, 2.0) && !op.holds(3.0, 2.0)));
        assert_eq!(Op::parse("=="), None);
        let once = Rule {
            fire_after: 0,
            ..RULE
        };
        assert_eq!(
            Hysteresis::default().observe(&once, Some(2.0)).1,
            Some(Transition::Triggered),
            "a streak of 0 counts as 1"
        );
    }
}
