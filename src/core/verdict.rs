//! What a verification found: a list of named checks, each passed, failed or not applicable,
//! with the reason — never a bare bool (a failure must say which check and why).

use serde::Serialize;

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The check was made and held.
    Pass,
    /// The check was made and failed: the verdict is not verified.
    Fail,
    /// Not checked, and not required: e.g. a hash envelope whose preimage was not given.
    Skipped,
}

/// One named check of a verification and what it found.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// The check, in a few words: "signature", "receipt 2", "model files".
    pub what: String,
    /// Whether it passed, failed or was skipped.
    pub outcome: Outcome,
    /// What was found: the reason for a failure, the facts behind a pass.
    pub detail: String,
}

impl Check {
    /// A check that passed, with the facts behind it.
    pub fn pass(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            what: what.into(),
            outcome: Outcome::Pass,
            detail: detail.into(),
        }
    }
    /// A check that failed, with the reason.
    pub fn fail(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            what: what.into(),
            outcome: Outcome::Fail,
            detail: detail.into(),
        }
    }
    /// A check not made and not required, with why.
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
    /// The checks, first run first.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Names what was tried in the failed checks `what`: the key files whose signature did
    /// not verify, so the message says which key to look at.
    pub fn name_keys_tried(&mut self, what: &str, tried: &str) {
        for c in self
            .checks
            .iter_mut()
            .filter(|c| c.what == what && c.outcome == Outcome::Fail)
        {
            c.detail = format!("{} (key tried: {tried})", c.detail);
        }
    }

    /// Appends a check.
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    /// True when at least one check passed and none failed (an empty verdict is not verified).
    pub fn is_verified(&self) -> bool {
        self.checks.iter().any(|c| c.outcome == Outcome::Pass)
            && self.checks.iter().all(|c| c.outcome != Outcome::Fail)
    }

    /// The failed checks, in order.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }
}
