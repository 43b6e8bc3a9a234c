//! What the trust policy makes of an artifact's checked statements: which referrers are judged
//! and which are past a limit, whether the policy is met, whether a failure is enforced, and the
//! one-line reasons. Pure: the statements are fetched and checked before (in
//! [`verify_artifact`](super::verify_artifact())), nothing here touches a registry.

use crate::core::manifest::CheckReport;
use crate::core::policy::{Level, ScopePolicy, StatementVerdict};
use crate::core::verdict::{Check, Verdict};
use crate::oci::cosign::{CosignKind, CosignVerdict};
use crate::oci::manifest::Descriptor;
use crate::oci::media;
use crate::oci::ops::MAX_REFERRERS_PER_MANIFEST;
use serde::Serialize;
use std::collections::BTreeSet;

/// Statements fetched and checked for one artifact at most (each at most
/// [`MAX_STATEMENT_BYTES`](crate::oci::documents::MAX_STATEMENT_BYTES)); the others are
/// reported as not checked.
pub const MAX_STATEMENTS: usize = 64;

/// One referrer of the artifact, with the policy's verdict on it if it is a statement.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedReferrer {
    /// The referrer manifest's digest.
    pub digest: String,
    /// Its artifact type.
    pub artifact_type: String,
    /// `None` for referrers the policy does not judge (SBOMs, cosign signatures, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementVerdict>,
}

impl VerifiedReferrer {
    /// Whether the policy judges this referrer (a transparent statement or a Sigstore bundle).
    pub fn is_statement(artifact_type: &str) -> bool {
        media::is_statement(artifact_type)
    }
}

/// The policy's verdict on an artifact's referrer tree.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeVerdict {
    /// The artifact, as its target names it.
    pub subject: String,
    /// The name of the policy scope applied.
    pub policy: String,
    /// The policy's level; with `audit` (and `skip`) a failure is reported, not enforced.
    pub level: Level,
    /// The policy is met.
    pub verified: bool,
    /// Whether a failure blocks (`level = "strict"`).
    pub enforced: bool,
    /// Why the policy is not met, one line each.
    pub reasons: Vec<String>,
    /// Every referrer, judged or not.
    pub referrers: Vec<VerifiedReferrer>,
    /// cosign's tag-based signatures and attestations, checked when the policy has cosign keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cosign: Vec<CosignVerdict>,
    /// The verified model manifest's bytes (for `pull --verify` and `verify-model`).
    #[serde(skip)]
    pub manifest: Vec<u8>,
}

impl TreeVerdict {
    /// The policy is not met and its level makes that block.
    pub fn blocks(&self) -> bool {
        !self.verified && self.enforced
    }
}

/// The verdict of a policy of level `skip`: nothing verified, nothing enforced.
pub fn skipped(policy: &ScopePolicy, subject: String) -> TreeVerdict {
    TreeVerdict {
        subject,
        policy: policy.name.clone(),
        level: policy.level,
        verified: false,
        enforced: false,
        reasons: vec![format!(
            "policy '{}' has level \"skip\": nothing was verified",
            policy.name
        )],
        referrers: Vec::new(),
        cosign: Vec::new(),
        manifest: Vec::new(),
    }
}

/// Whether the policy looks at cosign's tag-based signatures and attestations: it has cosign
/// keys, or requires one of them.
pub fn wants_cosign(policy: &ScopePolicy) -> bool {
    !policy.cosign_keys.is_empty() || COSIGN_KINDS.into_iter().any(|k| cosign_required(policy, k))
}

const COSIGN_KINDS: [CosignKind; 2] = [CosignKind::Signature, CosignKind::Attestation];

fn cosign_required(policy: &ScopePolicy, kind: CosignKind) -> bool {
    policy
        .required_artifact_types
        .iter()
        .any(|t| t == kind.artifact_type())
}

/// Why referrer number `index` is not checked, if it is past a limit (`statements_before`:
/// statements listed before it). Bounded work whatever the registry lists: anyone who can push
/// can list thousands.
pub fn past_limit(index: usize, is_statement: bool, statements_before: usize) -> Option<String> {
    if index >= MAX_REFERRERS_PER_MANIFEST {
        Some(format!(
            "not checked: more than {MAX_REFERRERS_PER_MANIFEST} referrers (the limit)"
        ))
    } else if is_statement && statements_before >= MAX_STATEMENTS {
        Some(format!(
            "not checked: more than {MAX_STATEMENTS} statements (the limit)"
        ))
    } else {
        None
    }
}

/// A statement that failed before the policy could judge it (not fetched, past a limit).
pub fn failed_statement(check: &str, reason: String) -> StatementVerdict {
    let mut verdict = Verdict::default();
    verdict.push(Check::fail(check, reason));
    StatementVerdict {
        verified: false,
        verdict,
        report: None,
    }
}

/// The policy applied to the judged referrers and cosign tags: every required artifact type must
/// be present, and for statements and cosign signatures, at least one must meet the policy.
/// Others that fail are reported, not fatal: anyone who can push to the repository can attach a
/// bogus statement.
pub fn judge(
    policy: &ScopePolicy,
    subject: &Descriptor,
    name: String,
    referrers: Vec<VerifiedReferrer>,
    cosign: Vec<CosignVerdict>,
    manifest: Vec<u8>,
) -> TreeVerdict {
    let mut reasons = Vec::new();
    for required in &policy.required_artifact_types {
        if required.starts_with("cosign/") {
            continue; // below, from the cosign tags
        }
        let present = referrers
            .iter()
            .any(|r| media::meets_requirement(&r.artifact_type, required));
        // A required statement type is met only by one of that type that meets the policy.
        let ok = if VerifiedReferrer::is_statement(required) {
            referrers.iter().any(|r| {
                media::meets_requirement(&r.artifact_type, required)
                    && r.statement.as_ref().is_some_and(|s| s.verified)
            })
        } else {
            present
        };
        if ok {
            continue;
        }
        reasons.push(if present {
            // The one line a user needs: why each statement failed (first failed check).
            let why: BTreeSet<String> = referrers
                .iter()
                .filter_map(|r| r.statement.as_ref())
                .filter_map(|s| s.verdict.failures().next())
                .map(|c| format!("{}: {}", c.what, c.detail))
                .collect();
            format!(
                "no {required} referrer meets the policy ({})",
                why.into_iter().collect::<Vec<_>>().join("; ")
            )
        } else {
            format!("no {required} referrer is attached")
        });
    }
    for kind in COSIGN_KINDS
        .into_iter()
        .filter(|k| cosign_required(policy, *k))
    {
        let found: Vec<_> = cosign.iter().filter(|c| c.kind == kind).collect();
        if found.iter().any(|c| c.verified) {
            continue;
        }
        reasons.push(if found.is_empty() {
            format!(
                "no cosign {} is stored beside it (tag {})",
                kind.name(),
                kind.tag(&subject.digest)
            )
        } else {
            let why: BTreeSet<&str> = found.iter().map(|c| c.detail.as_str()).collect();
            format!(
                "no cosign {} by a policy key holds ({})",
                kind.name(),
                why.into_iter().collect::<Vec<_>>().join("; ")
            )
        });
    }
    TreeVerdict {
        subject: name,
        policy: policy.name.clone(),
        level: policy.level,
        enforced: policy.level.enforced(),
        verified: reasons.is_empty(),
        reasons,
        referrers,
        cosign,
        manifest,
    }
}

/// The model files' verdict joined to the statements': verified only if both are, with the
/// files' reasons after the statements'.
pub fn with_files(statements: &TreeVerdict, files: &CheckReport) -> (bool, Vec<String>) {
    let mut reasons = statements.reasons.clone();
    reasons.extend(files.reasons());
    (statements.verified && files.is_match(), reasons)
}
