//! `discover --verify` as a library call: every transparent statement attached to an artifact
//! is fetched and checked (signature, receipts, and the binding to the exact manifest bytes the
//! artifact holds), and cosign's tag-based signatures when the policy has cosign keys; then the policy decides ([`decide::judge`]). Unrelated referrers are
//! listed, not judged.

use super::FlowError;
use super::decide::{self, TreeVerdict, VerifiedReferrer};
use super::open::Artifact;
use crate::core::policy::{ArtifactRef, Level, ScopePolicy};
use crate::core::sigstore::attestation::is_oci_attestation_bundle;
use crate::oci::cosign::verify_cosign;
use crate::oci::documents::{manifest_of, signed_model_manifest, statement_bytes};
use crate::oci::manifest::Descriptor;
use crate::oci::{OciError, ReadTarget};

/// Verifies the statements attached to `artifact` against the trust policy,
/// at the current time.
///
/// ```no_run
/// # async fn run() -> Result<(), modelseal::flows::FlowError> {
/// use modelseal::flows::{Artifact, verify_artifact};
/// let verdict = verify_artifact(&Artifact {
///     reference: "registry.example.com/models/tiny:v1".into(),
///     policy: Some("/etc/modelseal/policy.toml".into()),
///     ..Default::default()
/// })
/// .await?;
/// if verdict.blocks() {
///     eprintln!("policy {} not met: {}", verdict.policy, verdict.reasons.join("; "));
/// }
/// # Ok(()) }
/// ```
pub async fn verify_artifact(artifact: &Artifact) -> Result<TreeVerdict, FlowError> {
    let (scope, reference, target, subject) = artifact.open().await?;
    let now = crate::core::clock::now();
    Ok(verify_referrers(&target, &subject, &scope, now, &reference).await?)
}

/// Verifies the transparent statements attached to `subject` against `policy`; `reference` is
/// the reference the user named (what the policy's `{repository}`/`{tag}` templates bind to).
pub async fn verify_referrers<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    policy: &ScopePolicy,
    now: i64,
    reference: &ArtifactRef,
) -> Result<TreeVerdict, OciError> {
    let name = target.name_of(&subject.digest);
    if policy.level == Level::Skip {
        return Ok(decide::skipped(policy, name));
    }
    let artifact = manifest_of(target, subject).await?;
    let manifest = signed_model_manifest(target, subject, &artifact, &name).await?;
    let mut referrers = Vec::new();
    let mut statements_before = 0;
    for (i, r) in target
        .referrers(subject, None)
        .await?
        .into_iter()
        .enumerate()
    {
        let artifact_type = r.artifact_type.clone().unwrap_or_default();
        let is_statement = VerifiedReferrer::is_statement(&artifact_type);
        let limit = decide::past_limit(i, is_statement, statements_before);
        if is_statement {
            statements_before += 1;
        }
        let statement = if let Some(reason) = limit {
            is_statement.then(|| decide::failed_statement("statement", reason))
        } else if is_statement {
            Some(match statement_bytes(target, subject, &r).await {
                // A key-signed bundle attesting an OCI manifest (cosign's shape, what
                // `--also-sigstore-bundle` attaches) is bound to this manifest's digest.
                Ok(bytes) if is_oci_attestation_bundle(&bytes) => {
                    policy.verify_oci_attestation(&bytes, &subject.digest, &manifest)
                }
                Ok(bytes) => policy.verify_statement(&bytes, &manifest, now, reference),
                Err(e) => decide::failed_statement("statement", e.to_string()),
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
    let cosign = if decide::wants_cosign(policy) {
        verify_cosign(target, subject, &policy.cosign_keys).await?
    } else {
        Vec::new()
    };
    Ok(decide::judge(
        policy, subject, name, referrers, cosign, manifest,
    ))
}
