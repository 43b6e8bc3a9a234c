//! Verifying an artifact's referrer tree against a trust policy: every transparent statement
//! attached to the model manifest is fetched and checked (signature, receipts, and the binding
//! to the exact manifest bytes the artifact holds). Unrelated referrers are listed, not judged.

use super::error::{OciError, Result};
use super::manifest::{Descriptor, ImageManifest};
use super::media;
use super::target::{MAX_MANIFEST_BYTES, Target, no_progress};
use crate::core::manifest::MAX_MANIFEST_BYTES as MAX_MODEL_MANIFEST_BYTES;
use crate::core::policy::{ArtifactRef, Level, ScopePolicy, StatementVerdict};
use serde::Serialize;

/// A statement is a document, never a model: the bound for fetching one.
const MAX_STATEMENT_BYTES: u64 = crate::core::cose::MAX_COSE_BYTES as u64;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedReferrer {
    pub digest: String,
    pub artifact_type: String,
    /// `None` for referrers the policy does not judge (SBOMs, cosign signatures, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementVerdict>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeVerdict {
    pub subject: String,
    pub policy: String,
    /// The policy's level; with `audit` (and `skip`) a failure is reported, not enforced.
    pub level: Level,
    pub verified: bool,
    /// Whether a failure blocks (`level = "strict"`).
    pub enforced: bool,
    pub reasons: Vec<String>,
    pub referrers: Vec<VerifiedReferrer>,
    /// The verified model manifest's bytes (for `pull --verify` and `verify-model`).
    #[serde(skip)]
    pub manifest: Vec<u8>,
}

/// Reads a blob through a temp file with its digest checked, refusing more than `max` bytes.
pub async fn fetch_small_blob<T: Target>(
    target: &T,
    blob: &Descriptor,
    max: u64,
) -> Result<Vec<u8>> {
    if blob.size > max {
        return Err(OciError::BadDocument {
            what: target.name_of(&blob.digest),
            reason: format!("{} bytes, more than the {max}-byte limit", blob.size),
        });
    }
    let dir = tempfile::tempdir().map_err(|e| OciError::io(std::env::temp_dir(), e))?;
    let tmp = dir.path().join("blob");
    target.fetch_blob_to(blob, &tmp, &no_progress()).await?;
    std::fs::read(&tmp).map_err(|e| OciError::io(&tmp, e))
}

async fn manifest_of<T: Target>(target: &T, d: &Descriptor) -> Result<ImageManifest> {
    let bytes = target.fetch_manifest(d).await?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(OciError::ManifestTooLarge(
            target.name_of(&d.digest),
            MAX_MANIFEST_BYTES,
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
        what: target.name_of(&d.digest),
        reason: e.to_string(),
    })
}

/// The model manifest an artifact holds: its in-toto layer (or its only layer).
pub async fn model_manifest_bytes<T: Target>(
    target: &T,
    artifact: &ImageManifest,
    name: &str,
) -> Result<Vec<u8>> {
    let layer = artifact
        .layers
        .iter()
        .find(|l| l.media_type == media::IN_TOTO_LAYER)
        .or(if artifact.layers.len() == 1 {
            artifact.layers.first()
        } else {
            None
        })
        .ok_or_else(|| OciError::BadDocument {
            what: name.into(),
            reason: "no application/vnd.in-toto+json layer: not a model manifest artifact".into(),
        })?;
    fetch_small_blob(target, layer, MAX_MODEL_MANIFEST_BYTES).await
}

/// Verifies the transparent statements attached to `subject` against `policy`; `reference` is the
/// reference the user named (what the policy's `{repository}`/`{tag}` templates bind to).
pub async fn verify_referrers<T: Target>(
    target: &T,
    subject: &Descriptor,
    policy: &ScopePolicy,
    now: i64,
    reference: &ArtifactRef,
) -> Result<TreeVerdict> {
    let name = target.name_of(&subject.digest);
    if policy.level == Level::Skip {
        return Ok(TreeVerdict {
            subject: name,
            policy: policy.name.clone(),
            level: policy.level,
            verified: false,
            enforced: false,
            reasons: vec![format!(
                "policy '{}' has level \"skip\": nothing was verified",
                policy.name
            )],
            referrers: Vec::new(),
            manifest: Vec::new(),
        });
    }
    let artifact = manifest_of(target, subject).await?;
    let manifest = model_manifest_bytes(target, &artifact, &name).await?;
    let mut referrers = Vec::new();
    let mut statements_fetched = 0;
    for (i, r) in target
        .referrers(subject, None)
        .await?
        .into_iter()
        .enumerate()
    {
        let artifact_type = r.artifact_type.clone().unwrap_or_default();
        let is_statement = artifact_type == media::TRANSPARENT_STATEMENT_ARTIFACT;
        // Bounded work whatever the registry lists: anyone who can push can list thousands.
        let limit = if i >= super::ops::MAX_REFERRERS_PER_MANIFEST {
            Some(format!(
                "not checked: more than {} referrers (the limit)",
                super::ops::MAX_REFERRERS_PER_MANIFEST
            ))
        } else if is_statement && statements_fetched >= MAX_STATEMENTS {
            Some(format!(
                "not checked: more than {MAX_STATEMENTS} statements (the limit)"
            ))
        } else {
            None
        };
        if is_statement {
            statements_fetched += 1;
        }
        let statement = if let Some(reason) = limit {
            is_statement.then(|| failed_statement("statement", reason))
        } else if is_statement {
            Some(match statement_bytes(target, subject, &r).await {
                Ok(bytes) => policy.verify_statement(&bytes, &manifest, now, reference),
                Err(e) => failed_statement("statement", e.to_string()),
            })
        } else {
            None
        };
        referrers.push(VerifiedReferrer {
            digest: r.digest.clone(),
            artifact_type,
            statement,
        });
    }
    let mut reasons = Vec::new();
    let verified_statements = referrers
        .iter()
        .filter(|r| r.statement.as_ref().is_some_and(|s| s.verified))
        .count();
    for required in &policy.required_artifact_types {
        let present = referrers.iter().any(|r| &r.artifact_type == required);
        let ok = if required == media::TRANSPARENT_STATEMENT_ARTIFACT {
            verified_statements > 0
        } else {
            present
        };
        if !ok {
            reasons.push(if present {
                // The one line a user needs: why each statement failed (first failed check).
                let why: std::collections::BTreeSet<String> = referrers
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
    }
    // One statement that meets the policy is enough; others that fail are reported, not fatal:
    // anyone who can push to the repository can attach a bogus statement.
    Ok(TreeVerdict {
        subject: name,
        policy: policy.name.clone(),
        level: policy.level,
        enforced: policy.level.enforced(),
        verified: reasons.is_empty(),
        reasons,
        referrers,
        manifest,
    })
}

/// Statements fetched and checked for one artifact at most (each at most
/// [`MAX_STATEMENT_BYTES`]); the others are reported as not checked.
pub const MAX_STATEMENTS: usize = 64;

fn failed_statement(check: &str, reason: String) -> StatementVerdict {
    let mut v = crate::core::verdict::Verdict::default();
    v.push(crate::core::verdict::Check::fail(check, reason));
    StatementVerdict {
        verified: false,
        verdict: v,
        report: None,
    }
}

/// The statement a referrer carries, if the referrer refers to `subject` (a tag-schema index
/// is writable by anyone who can push, and may list any manifest).
async fn statement_bytes<T: Target>(
    target: &T,
    subject: &Descriptor,
    referrer: &Descriptor,
) -> Result<Vec<u8>> {
    let m = manifest_of(target, referrer).await?;
    match &m.subject {
        Some(s) if s.digest == subject.digest => {}
        other => {
            return Err(OciError::BadDocument {
                what: target.name_of(&referrer.digest),
                reason: format!(
                    "listed as a referrer of {} but its subject is {}",
                    subject.digest,
                    other.as_ref().map_or("absent", |s| s.digest.as_str())
                ),
            });
        }
    }
    let layer = m
        .layers
        .iter()
        .find(|l| l.media_type == media::SCITT_STATEMENT_LAYER)
        .or(m.layers.first())
        .ok_or_else(|| OciError::BadDocument {
            what: target.name_of(&referrer.digest),
            reason: "no layer".into(),
        })?;
    fetch_small_blob(target, layer, MAX_STATEMENT_BYTES).await
}
