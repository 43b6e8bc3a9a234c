//! Verify before load: the one call a model server makes before it loads weights from disk. The
//! artifact's statements are checked against the trust policy, then the model files on disk
//! against the manifest they sign ([`check_signed_model`]).

use super::FlowError;
use super::decide::{self, TreeVerdict};
use super::open::Artifact;
use super::verify_artifact::verify_referrers;
use crate::core::manifest::{CheckReport, ModelManifest, NoProgress, check_signed_model};
use crate::oci::registry::Connection;
use std::path::PathBuf;

/// What to check: a model on disk, the artifact that holds its signed manifest, the policy.
#[derive(Clone, Debug)]
pub struct ModelCheck {
    /// The model directory (or single file) about to be loaded.
    pub model_dir: PathBuf,
    /// `host/repo:tag|@digest`, or `DIR:tag|@digest` with `oci_layout`.
    pub manifest_ref: String,
    /// `manifest_ref` is an OCI image layout directory.
    pub oci_layout: bool,
    /// `None`: `$MODELSEAL_POLICY`, else `~/.config/modelseal/policy.toml`.
    pub policy: Option<PathBuf>,
}

/// The answer: verified, or the reasons why not, with the details behind them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelVerdict {
    /// Every check passed.
    pub verified: bool,
    /// Whether a failure must block the load: false under a policy of level `audit` or `skip`
    /// (the failures are still in `reasons`). A server loads only when `verified || !enforced`.
    pub enforced: bool,
    /// Why not verified, one line each.
    pub reasons: Vec<String>,
    /// The policy's verdict on the artifact's statements.
    pub statements: TreeVerdict,
    /// The model files against the signed manifest (`None` when not compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<CheckReport>,
}

/// Checks the artifact's statements against the policy at `now`, then the model files on disk
/// against the manifest they sign. Credentials come from the Docker config.
pub async fn verify_model_async(check: &ModelCheck, now: i64) -> Result<ModelVerdict, FlowError> {
    let artifact = Artifact {
        reference: check.manifest_ref.clone(),
        oci_layout: check.oci_layout,
        connection: Connection::default(),
        policy: check.policy.clone(),
    };
    let (scope, reference, target, subject) = artifact.open().await?;
    let statements = verify_referrers(&target, &subject, &scope, now, &reference).await?;
    if statements.blocks() || (!statements.verified && statements.manifest.is_empty()) {
        return Ok(ModelVerdict {
            verified: false,
            enforced: statements.enforced,
            reasons: statements.reasons.clone(),
            statements,
            files: None,
        });
    }
    let signed = ModelManifest::from_json(&statements.manifest).map_err(FlowError::NotAManifest)?;
    // Hashing a model takes seconds of CPU: off the async workers, so a server verifying
    // several models keeps answering.
    let (model_dir, manifest_bytes) = (check.model_dir.clone(), statements.manifest.clone());
    let files = tokio::task::spawn_blocking(move || {
        check_signed_model(&model_dir, &signed, &manifest_bytes, &[], &NoProgress)
    })
    .await
    .map_err(|e| match e.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(cancelled) => FlowError::Runtime(std::io::Error::other(cancelled)),
    })??;
    let (verified, reasons) = decide::with_files(&statements, &files);
    Ok(ModelVerdict {
        verified,
        enforced: statements.enforced,
        reasons,
        statements,
        files: Some(files),
    })
}

/// [`verify_model_async`] for synchronous callers, at the current time.
///
/// ```no_run
/// use modelseal::flows::{ModelCheck, verify_model};
/// let verdict = verify_model(&ModelCheck {
///     model_dir: "/mnt/models/tiny".into(),
///     manifest_ref: "registry.example.com/models/tiny:v1".into(),
///     oci_layout: false,
///     policy: Some("/etc/modelseal/policy.toml".into()),
/// })
/// .expect("verification could run");
/// if !verdict.verified && verdict.enforced {
///     panic!("refusing to load: {}", verdict.reasons.join("; "));
/// }
/// ```
pub fn verify_model(check: &ModelCheck) -> Result<ModelVerdict, FlowError> {
    let now = crate::core::clock::now();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(FlowError::Runtime)?
        .block_on(verify_model_async(check, now))
}
