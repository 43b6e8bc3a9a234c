//! What a verification found: a list of named checks, each passed, failed or not applicable,
//! with the reason — never a bare bool (a failure must say which check and why).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    /// Not checked, and not required: e.g. a hash envelope whose preimage was not given.
    Skipped,
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// The check, in a few words: "signature", "receipt 2", "model files".
    pub what: String,
    pub outcome: Outcome,
    /// What was found: the reason for a failure, the facts behind a pass.
    pub detail: String,
}

impl Check {
    pub fn pass(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            what: what.into(),
            outcome: Outcome::Pass,
            detail: detail.into(),
        }
    }
    pub fn fail(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            what: what.into(),
            outcome: Outcome::Fail,
            detail: detail.into(),
        }
    }
    pub fn skipped(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            what: what.into(),
            outcome: Outcome::Skipped,
            detail: detail.into(),
        }
    }
}

/// Checks in the order they ran. Verified means at least one check passed and none failed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Verdict {
    pub checks: Vec<Check>,
}

impl Verdict {
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    pub fn is_verified(&self) -> bool {
        self.checks.iter().any(|c| c.outcome == Outcome::Pass)
            && self.checks.iter().all(|c| c.outcome != Outcome::Fail)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }
}
