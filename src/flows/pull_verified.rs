//! `pull --verify` as a library call: nothing unverified reaches the output directory.
//!
//! 1. The artifact's statements are verified against the policy ([`verify_referrers`]); they
//!    sign the model manifest the artifact holds.
//! 2. Its titles are checked as a set (safe, distinct, none a directory of another), and each
//!    destination against the output directory, before anything is downloaded.
//! 3. Layers are classified: a layer whose title the signed manifest names is a model file; one
//!    whose digest is that of the signed manifest's bytes is a copy of the manifest (its title
//!    still obeys every rule); anything else is an extra file, which fails verification.
//! 4. Where the manifest is `files`/`sha256`, each layer's digest *is* its file's digest: model
//!    files are compared by digest before downloading (a mismatch fails before gigabytes move),
//!    and the digest check while streaming proves the bytes — no file is read twice. Other
//!    serializations hash the staged files (streaming, in parallel).
//! 5. Everything is staged inside the output directory, then moved into place all-or-nothing
//!    ([`Stage::commit`]); with `force` into a non-empty directory, the directory as it ends up
//!    is verified as a whole ([`check_signed_model`]) and the move undone if it does not match.

use super::decide::TreeVerdict;
use super::open::Artifact;
use super::verify_artifact::verify_referrers;
use super::{FlowError, Progress};
use crate::core::manifest::{
    CheckReport, HashAlgorithm, HashConfig, ManifestError, ModelManifest, NoProgress, Resource,
    Serialization, check_signed_model, compare, hash_model, is_manifest_copy_entry,
};
use crate::core::policy::{ArtifactRef, ScopePolicy};
use crate::oci::manifest::{Descriptor, sha256_digest};
use crate::oci::ops::{PullOptions, fetch_staged, pull, titled_layers};
use crate::oci::stage::{self, PullError, Stage};
use crate::oci::target::TransferProgress;
use crate::oci::{OciError, ReadTarget};
use rayon::prelude::*;
use serde::Serialize;
use std::convert::Infallible;
use std::path::{Component, Path, PathBuf};

/// What to pull, from where, into where, under which policy.
#[derive(Clone, Debug, Default)]
pub struct PullVerifiedRequest {
    /// The artifact, and the policy it must meet.
    pub artifact: Artifact,
    /// The output directory (must be empty unless `options.force`).
    pub output_dir: PathBuf,
    /// `force`, `require_files`.
    pub options: VerifiedPullOptions,
}

/// Pulls the artifact `request` names into its output directory only if it verifies against
/// the trust policy, at the current time.
///
/// ```no_run
/// # async fn run() -> Result<(), modelseal::flows::FlowError> {
/// use modelseal::flows::{Artifact, PullVerifiedRequest, Silent, pull_verified};
/// let pulled = pull_verified(
///     &PullVerifiedRequest {
///         artifact: Artifact {
///             reference: "registry.example.com/models/tiny:v1".into(),
///             policy: Some("/etc/modelseal/policy.toml".into()),
///             ..Default::default()
///         },
///         output_dir: "/mnt/models/tiny".into(),
///         ..Default::default()
///     },
///     &Silent,
/// )
/// .await?;
/// assert!(pulled.verified || pulled.written.is_empty() || !pulled.enforced);
/// # Ok(()) }
/// ```
pub async fn pull_verified(
    request: &PullVerifiedRequest,
    progress: &dyn Progress,
) -> Result<VerifiedPull, FlowError> {
    let (scope, artifact, target, subject) = request.artifact.open().await?;
    let bars = progress.transfer("pulling");
    Ok(pull_verified_from(
        &target,
        &subject,
        &scope,
        &artifact,
        crate::core::clock::now(),
        &request.output_dir,
        request.options,
        bars.as_ref(),
    )
    .await?)
}

/// How to treat the output directory and an artifact without model files.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifiedPullOptions {
    /// Pull into a non-empty directory (overwriting files; the result is verified as a whole).
    pub force: bool,
    /// An artifact that carries only the signed manifest fails verification (else: a warning).
    pub require_files: bool,
}

/// The warning (or, with `require_files`, the reason) for an artifact without model files.
pub const ONLY_MANIFEST: &str = "the artifact carries only the signed manifest, no model files";

/// What `pull --verify` did: `verified` and the files written, or why nothing was written.
/// Under a policy of level `audit` (or `skip`), failures are reported in `reasons`, `enforced`
/// is false, and the files are written all the same.
#[derive(Clone, Debug, Serialize)]
pub struct VerifiedPull {
    /// The artifact's manifest digest.
    pub digest: String,
    /// Everything verified.
    pub verified: bool,
    /// Whether a failure blocked the pull (`level = "strict"`).
    pub enforced: bool,
    /// Why not verified, one line each.
    pub reasons: Vec<String>,
    /// What verified but deserves a word (an artifact without model files).
    pub warnings: Vec<String>,
    /// The policy's verdict on the artifact's statements.
    pub statements: TreeVerdict,
    /// The model files against the signed manifest (`None` when not compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<CheckReport>,
    /// The files written into the output directory (empty unless verified).
    pub written: Vec<PathBuf>,
}

/// [`pull_verified`] on an open target: verifies `subject` against `scope` and pulls its titled
/// layers into `out` only if everything
/// verifies. `Err` when it could not run (unsafe title, non-empty `out` without `force`, a
/// symlink out of `out`, I/O, a blob that does not match its digest): `out` is then as before.
/// `reference` is the reference the user named (what the policy's claim templates bind to).
#[allow(clippy::too_many_arguments)]
pub async fn pull_verified_from<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    scope: &ScopePolicy,
    reference: &ArtifactRef,
    now: i64,
    out: &Path,
    options: VerifiedPullOptions,
    progress: &dyn TransferProgress,
) -> Result<VerifiedPull, PullError> {
    let non_empty = stage::is_non_empty(out)?;
    if non_empty && !options.force {
        return Err(PullError::NotEmpty(out.to_path_buf()));
    }
    let statements = verify_referrers(target, subject, scope, now, reference).await?;
    let enforced = statements.enforced;
    let mut result = VerifiedPull {
        digest: subject.digest.clone(),
        enforced,
        verified: false,
        reasons: Vec::new(),
        warnings: Vec::new(),
        files: None,
        written: Vec::new(),
        statements,
    };
    if !result.statements.verified {
        result.reasons = result.statements.reasons.clone();
        if result.statements.blocks() {
            return Ok(result);
        }
        if result.statements.manifest.is_empty() {
            // `skip`, or no manifest to check files against: the staged, all-or-nothing pull
            // without file checks.
            let options = PullOptions {
                allow_traversal: false,
                force: options.force,
            };
            result.written = pull(target, subject, out, options, progress).await?;
            return Ok(result);
        }
    }
    let manifest_bytes = result.statements.manifest.clone();
    let signed = ModelManifest::from_json(&manifest_bytes).map_err(|reason| {
        ManifestError::InvalidManifest {
            path: target.name_of(&subject.digest).into(),
            reason,
        }
    })?;
    let plan = titled_layers(target, subject, false).await?;
    for (_, rel) in &plan {
        stage::check_destination(out, rel, false, options.force)?;
    }

    // Which layers are model files, which are copies of the signed manifest (by digest: the
    // target checks each blob against it while streaming).
    let method = signed.serialization.method;
    let manifest_digest = sha256_digest(&manifest_bytes);
    let names: Vec<String> = plan.iter().map(|(_, rel)| posix(rel)).collect();
    let model: Vec<usize> = (0..plan.len())
        .filter(|&i| {
            let layer = &plan[i].0;
            let copy =
                is_manifest_copy_entry(&signed, &manifest_bytes, &names[i], layer.size, || {
                    Ok::<_, Infallible>(layer.digest == manifest_digest)
                });
            !matches!(copy, Ok(true))
        })
        .collect();
    if model.is_empty() {
        if options.require_files {
            result.reasons.push(ONLY_MANIFEST.into());
            if enforced {
                return Ok(result);
            }
        } else {
            result.warnings.push(ONLY_MANIFEST.into());
        }
    }

    // Files/sha256: the descriptors' digests are the files' digests; compare before download.
    let by_digest = method == Serialization::Files
        && signed.serialization.hash_type == HashAlgorithm::Sha256
        && model.iter().all(|&i| plan[i].0.sha256_hex().is_some());
    if by_digest && !model.is_empty() {
        let resources = model
            .iter()
            .map(|&i| Resource {
                name: names[i].clone(),
                algorithm: HashAlgorithm::Sha256.name().into(),
                digest: hex::decode(plan[i].0.sha256_hex().unwrap_or_default()).unwrap_or_default(),
            })
            .collect();
        let report = compare(&signed, &as_manifest(&signed, resources));
        if record_files(&mut result, report) {
            return Ok(result);
        }
    }

    let stage = Stage::new(out)?;
    let layers: Vec<&Descriptor> = plan.iter().map(|(l, _)| l).collect();
    let staged = fetch_staged(target, &stage, &layers, progress).await?;
    if !by_digest && !model.is_empty() {
        let config = HashConfig::from_manifest(&signed);
        let files: Vec<(PathBuf, String)> = model
            .iter()
            .map(|&i| (staged[i].clone(), names[i].clone()))
            .collect();
        // Hashing every staged byte takes seconds: on the blocking pool, so that a server
        // pulling several models keeps its runtime's threads free (as `verify_model` does).
        let resources: Vec<Vec<Resource>> = tokio::task::spawn_blocking(move || {
            files
                .par_iter()
                .map(|(path, name)| {
                    let hashed = hash_model(path, &config, &NoProgress)?;
                    Ok::<_, ManifestError>(renamed(hashed.resources, name))
                })
                .collect::<Result<_, _>>()
        })
        .await
        .map_err(|e| PullError::Oci(OciError::io(out, std::io::Error::other(e))))??;
        let report = compare(&signed, &as_manifest(&signed, resources.concat()));
        if record_files(&mut result, report) {
            return Ok(result);
        }
    }

    let moves: Vec<(PathBuf, PathBuf)> = staged
        .into_iter()
        .zip(plan.iter().map(|(_, rel)| rel.clone()))
        .collect();
    let moved = stage.commit(&moves, false, options.force)?;
    if non_empty {
        // What was there before is part of the model now: verify the directory as it ends up.
        let whole = check_signed_model(
            out,
            &signed,
            &manifest_bytes,
            &[moved.staging_name()],
            &NoProgress,
        )?;
        if !whole.is_match() && enforced {
            moved.roll_back();
            result.reasons.push(format!(
                "{} as it would end up does not match the signed manifest ({}); it was left as it was",
                out.display(),
                whole.reasons().join("; ")
            ));
            result.files = Some(whole);
            return Ok(result);
        }
    }
    result.written = moved.keep();
    result.verified = result.reasons.is_empty();
    Ok(result)
}

/// Records the pulled files' comparison; a mismatch is a reason, and `true` when it blocks.
fn record_files(result: &mut VerifiedPull, report: CheckReport) -> bool {
    if report.is_match() {
        result.files = Some(report);
        return false;
    }
    result.reasons.push(format!(
        "the pulled files do not match the signed manifest (modified: {:?}, missing: {:?}, extra: {:?})",
        report.modified, report.missing, report.extra
    ));
    if report.subject_mismatch {
        result
            .reasons
            .push("the manifest's subject digest does not match its own resources".into());
    }
    result.files = Some(report);
    result.enforced
}

/// A manifest with the signed one's parameters and these resources, to compare with it.
fn as_manifest(signed: &ModelManifest, resources: Vec<Resource>) -> ModelManifest {
    ModelManifest::new(
        signed.model_name.clone(),
        signed.serialization.clone(),
        resources,
    )
}

/// The resources of one file hashed alone (named `.`, or `.:start:end` for shards) under its
/// name in the model.
fn renamed(resources: Vec<Resource>, name: &str) -> Vec<Resource> {
    resources
        .into_iter()
        .map(|mut r| {
            r.name = match r.name.strip_prefix('.') {
                Some(rest) => format!("{name}{rest}"),
                None => r.name,
            };
            r
        })
        .collect()
}

/// A checked relative path (normal components only) as a POSIX path, as manifests name files.
fn posix(rel: &Path) -> String {
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}
