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
use std::io::Read;
use std::path::{Path, PathBuf};

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
    /// Every check passed.
    pub verified: bool,
    /// Whether a failure must block the load: false under a policy of level `audit` or `skip`
    /// (the failures are still in `reasons`). A server loads only when `verified || !enforced`.
    pub enforced: bool,
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
    let enforced = statements.enforced;
    if !statements.verified && (enforced || statements.manifest.is_empty()) {
        return Ok(ModelVerdict {
            verified: false,
            enforced,
            reasons: statements.reasons.clone(),
            statements,
            files: None,
        });
    }
    let signed =
        ModelManifest::from_json(&statements.manifest).map_err(ModelCheckError::NotAManifest)?;
    // Copies of the manifest itself among the files (as `pull` leaves it) are not model files.
    let files = check_model_dir(&check.model_dir, &signed, &statements.manifest, &[])?;
    let mut reasons = statements.reasons.clone();
    reasons.extend(file_reasons(&files));
    Ok(ModelVerdict {
        verified: statements.verified && files.is_match(),
        enforced,
        reasons,
        statements,
        files: Some(files),
    })
}

/// [`verify_model_async`] for synchronous callers, at the current time.
pub fn verify_model(check: &ModelCheck) -> Result<ModelVerdict, ModelCheckError> {
    let now = crate::core::clock::now();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ModelCheckError::Runtime)?
        .block_on(verify_model_async(check, now))
}

/// Whether the file at `path` holds exactly `manifest`: sizes are compared first, then the
/// bytes, streaming (a model file is never read whole). Anything but a regular file is not.
pub fn is_manifest_copy(path: &Path, manifest: &[u8]) -> std::io::Result<bool> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() || meta.len() != manifest.len() as u64 {
        return Ok(false);
    }
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 << 10];
    let mut at = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(at == manifest.len());
        }
        if manifest.get(at..at + n) != Some(&buf[..n]) {
            return Ok(false);
        }
        at += n;
    }
}

/// The files under `dir` that are copies of the signed `manifest`, as root-relative POSIX paths
/// (the way `ignore_paths` names them). `ignore`d paths are not entered, symlinks not followed.
pub fn manifest_copies(
    dir: &Path,
    manifest: &[u8],
    ignore: &[String],
) -> Result<Vec<String>, ManifestError> {
    fn visit(
        dir: &Path,
        rel: &mut Vec<String>,
        manifest: &[u8],
        ignore: &[Vec<&str>],
        found: &mut Vec<String>,
    ) -> Result<(), ManifestError> {
        let entries = std::fs::read_dir(dir).map_err(|e| ManifestError::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ManifestError::io(dir, e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue; // hashing names it as an error
            };
            rel.push(name);
            let ignored = ignore.iter().any(|ig| {
                !ig.is_empty()
                    && rel.len() >= ig.len()
                    && ig.iter().zip(rel.iter()).all(|(a, b)| a == b)
            });
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| ManifestError::io(&path, e))?;
            if !ignored {
                if kind.is_dir() {
                    visit(&path, rel, manifest, ignore, found)?;
                } else if kind.is_file()
                    && is_manifest_copy(&path, manifest).map_err(|e| ManifestError::io(&path, e))?
                {
                    found.push(rel.join("/"));
                }
            }
            rel.pop();
        }
        Ok(())
    }
    let ignore: Vec<Vec<&str>> = ignore
        .iter()
        .map(|p| {
            p.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect()
        })
        .collect();
    let mut found = Vec::new();
    if std::fs::metadata(dir)
        .map_err(|e| ManifestError::io(dir, e))?
        .is_dir()
    {
        visit(dir, &mut Vec::new(), manifest, &ignore, &mut found)?;
    }
    found.sort();
    Ok(found)
}

/// The model at `dir` (a directory or a single file) against the signed manifest, hashed the way
/// the manifest says (streaming). Left out: the manifest's own `ignore_paths`, copies of the
/// manifest (`manifest_bytes`) anywhere in the tree, and `also_ignore`. This is the check
/// `verify-model` makes, and `pull --verify --force` makes on the directory it pulled into.
pub fn check_model_dir(
    dir: &Path,
    signed: &ModelManifest,
    manifest_bytes: &[u8],
    also_ignore: &[String],
) -> Result<CheckReport, ManifestError> {
    let mut ignore = signed.serialization.ignore_paths.clone();
    ignore.extend(also_ignore.iter().cloned());
    let copies = manifest_copies(dir, manifest_bytes, &ignore)?;
    ignore.extend(copies);
    let config = HashConfig {
        ignore_paths: ignore,
        ..HashConfig::from_manifest(signed)
    };
    Ok(compare(signed, &hash_model(dir, &config, &NoProgress)?))
}

/// One reason per kind of difference in a file check (`modified: a, b`), for verdicts.
pub fn file_reasons(files: &CheckReport) -> Vec<String> {
    let mut reasons = Vec::new();
    if files.subject_mismatch {
        reasons.push("the manifest's subject digest does not match its own resources".into());
    }
    for (what, names) in [
        ("modified", &files.modified),
        ("missing", &files.missing),
        ("extra", &files.extra),
    ] {
        if !names.is_empty() {
            reasons.push(format!("{what}: {}", names.join(", ")));
        }
    }
    reasons
}
