//! Verify before load: the one call a model server makes before it loads weights from disk.
//!
//! ```no_run
//! use modelseal::verify::{ModelCheck, verify_model};
//! let verdict = verify_model(&ModelCheck {
//!     model_dir: "/mnt/models/tiny".into(),
//!     manifest_ref: "registry.example.com/models/tiny:v1".into(),
//!     oci_layout: false,
//!     policy: Some("/etc/modelseal/policy.toml".into()),
//! }).expect("verification could run");
//! if !verdict.verified {
//!     panic!("refusing to load: {}", verdict.reasons.join("; "));
//! }
//! ```

use crate::core::manifest::{
    CheckReport, HashConfig, ManifestError, ModelManifest, NoProgress, compare, hash_model,
};
use crate::core::policy::{PolicyError, TrustPolicy, locate};
use crate::oci::OciError;
use crate::oci::open::open;
use crate::oci::reference::{RegistryReference, parse_layout_reference};
use crate::oci::registry::Connection;
use crate::oci::target::Target;
use crate::oci::verify::{TreeVerdict, verify_referrers};
use std::path::PathBuf;

/// What to check: a model on disk, the artifact that holds its signed manifest, the policy.
#[derive(Clone, Debug)]
pub struct ModelCheck {
    pub model_dir: PathBuf,
    /// `host/repo:tag|@digest`, or `DIR:tag|@digest` with `oci_layout`.
    pub manifest_ref: String,
    pub oci_layout: bool,
    /// `None`: `$MODELSEAL_POLICY`, else `~/.config/modelseal/policy.toml`.
    pub policy: Option<PathBuf>,
}

/// The answer: verified, or the reasons why not, with the details behind them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelVerdict {
    pub verified: bool,
    pub reasons: Vec<String>,
    pub statements: TreeVerdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<CheckReport>,
}

/// Verification could not run at all (no policy, unreachable registry, unreadable model).
#[derive(Debug, thiserror::Error)]
pub enum ModelCheckError {
    #[error("{0}")]
    NoPolicy(String),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("no policy scope covers {0}")]
    NoScope(String),
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("the reference names no manifest: add a tag or digest")]
    NoSelector,
    #[error("the signed payload is not a model manifest: {0}")]
    NotAManifest(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// The repository a reference names, as policy scopes spell it: `host/repo`, or the layout dir.
pub fn repository_of(reference: &str, oci_layout: bool) -> String {
    if oci_layout {
        return parse_layout_reference(reference)
            .map(|(dir, _)| dir.display().to_string())
            .unwrap_or_else(|_| reference.to_string());
    }
    RegistryReference::parse(reference)
        .map(|r| format!("{}/{}", r.registry, r.repository))
        .unwrap_or_else(|_| reference.to_string())
}

/// Checks the artifact's statements against the policy, then the model files on disk against the
/// manifest they sign. Credentials come from the Docker config.
pub async fn verify_model_async(
    check: &ModelCheck,
    now: i64,
) -> Result<ModelVerdict, ModelCheckError> {
    let path = locate(check.policy.as_deref()).map_err(ModelCheckError::NoPolicy)?;
    let policy = TrustPolicy::load(&path)?;
    let (selection, reference) = policy.select_reference(&check.manifest_ref, check.oci_layout)?;
    let scope = selection.policy;
    let (target, selector) = open(
        &check.manifest_ref,
        check.oci_layout,
        &Connection::default(),
        false,
    )
    .await?;
    let subject = target
        .resolve(&selector.ok_or(ModelCheckError::NoSelector)?)
        .await?;
    let statements = verify_referrers(&target, &subject, scope, now, &reference).await?;
    if !statements.verified {
        return Ok(ModelVerdict {
            verified: false,
            reasons: statements.reasons.clone(),
            statements,
            files: None,
        });
    }
    let signed =
        ModelManifest::from_json(&statements.manifest).map_err(ModelCheckError::NotAManifest)?;
    // A copy of the manifest itself beside the files (as `pull` leaves it) is not a model file.
    let beside: Vec<String> = std::fs::read_dir(&check.model_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.path().is_file() && std::fs::read(e.path()).is_ok_and(|b| b == statements.manifest)
        })
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    let config = HashConfig {
        ignore_paths: beside,
        ..HashConfig::from_manifest(&signed)
    };
    let files = compare(
        &signed,
        &hash_model(&check.model_dir, &config, &NoProgress)?,
    );
    let mut reasons = Vec::new();
    for (what, names) in [
        ("modified", &files.modified),
        ("missing", &files.missing),
        ("extra", &files.extra),
    ] {
        if !names.is_empty() {
            reasons.push(format!("{what}: {}", names.join(", ")));
        }
    }
    Ok(ModelVerdict {
        verified: files.is_match(),
        reasons,
        statements,
        files: Some(files),
    })
}

/// [`verify_model_async`] for synchronous callers, at the current time.
pub fn verify_model(check: &ModelCheck) -> Result<ModelVerdict, ModelCheckError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ModelCheckError::Runtime)?
        .block_on(verify_model_async(check, now))
}
