//! `modelseal pull`: an artifact's titled layers into a directory, digests checked while
//! streaming, files renamed into place only when all arrived intact. With `--verify`, the
//! artifact's statements are checked against the trust policy first, and model files (when the
//! artifact carries them) against the signed manifest: nothing unverified reaches DIR.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::{Context, Result};
use modelseal::core::manifest::{HashConfig, ModelManifest, NoProgress, compare, hash_model};
use modelseal::oci::Target;
use modelseal::oci::ops::pull;
use serde::Serialize;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "Examples:
  modelseal pull localhost:5000/models/tiny:v1 -o ./pulled
  modelseal pull localhost:5000/models/tiny:v1 -o ./pulled --verify --policy policy.toml
  modelseal pull --oci-layout ./layout:v1 -o ./pulled";

/// Download the files of an artifact.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct PullArgs {
    reference: String,
    #[arg(
        short = 'o',
        long = "output-dir",
        value_name = "DIR",
        default_value = "."
    )]
    output_dir: PathBuf,
    /// Write layers whose title is absolute or climbs out with `..` (as oras's flag).
    #[arg(long)]
    allow_path_traversal: bool,
    /// Verify against the trust policy before anything is written.
    #[arg(long)]
    verify: bool,
    #[arg(long, value_name = "FILE", requires = "verify")]
    policy: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: PullArgs, out: &Output) -> Result<Outcome> {
    let scoped = if args.verify {
        Some(super::discover::scope_for(
            args.policy.as_deref(),
            &args.reference,
            args.target.oci_layout,
        )?)
    } else {
        None
    };
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, false).await?;
        let d = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
        let verdict = match &scoped {
            Some((scope, artifact)) => Some(
                modelseal::oci::verify::verify_referrers(
                    &target,
                    &d,
                    scope,
                    modelseal::core::clock::now(),
                    artifact,
                )
                .await?,
            ),
            None => None,
        };
        if let Some(v) = verdict.as_ref().filter(|v| !v.verified) {
            out.tree_verdict(v);
            if v.enforced {
                return Ok(Outcome::VerificationFailed);
            }
        }
        // Audit or skip levels that failed pull as plain `pull` does, after the warning.
        let Some((scope, verdict)) = scoped
            .map(|(s, _)| s)
            .zip(verdict)
            .filter(|(_, v)| v.verified)
        else {
            let progress = out.transfer_progress("pulling");
            let files = pull(
                &target,
                &d,
                &args.output_dir,
                args.allow_path_traversal,
                &progress,
            )
            .await?;
            drop(progress);
            report(out, &args.reference, &d.digest, &files);
            return Ok(Outcome::Success);
        };
        // Everything lands in a staging dir beside DIR first, and moves in only once checked.
        std::fs::create_dir_all(&args.output_dir)
            .with_context(|| format!("creating {}", args.output_dir.display()))?;
        let staging = tempfile::Builder::new()
            .prefix(".modelseal-verify-")
            .tempdir_in(&args.output_dir)
            .with_context(|| format!("staging in {}", args.output_dir.display()))?;
        let progress = out.transfer_progress("pulling");
        let staged = pull(
            &target,
            &d,
            staging.path(),
            args.allow_path_traversal,
            &progress,
        )
        .await?;
        drop(progress);
        let signed = ModelManifest::from_json(&verdict.manifest).map_err(anyhow::Error::msg)?;
        if let Some(reason) =
            check_model_files(&staged, staging.path(), &signed, &verdict.manifest)?
        {
            println!("✘ {reason}; nothing was written");
            return Ok(Outcome::VerificationFailed);
        }
        let mut files = Vec::new();
        for f in staged {
            let rel = f.strip_prefix(staging.path()).unwrap_or(&f).to_path_buf();
            let dest = args.output_dir.join(&rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(&f, &dest)
                .with_context(|| format!("moving {} into place", rel.display()))?;
            files.push(dest);
        }
        out.info(format!(
            "✔ verified against policy {} before writing",
            scope.name
        ));
        report(out, &args.reference, &d.digest, &files);
        Ok(Outcome::Success)
    })
}

/// When the artifact carries model files besides its manifest, they must be exactly the files
/// the signed manifest lists.
fn check_model_files(
    staged: &[PathBuf],
    root: &Path,
    signed: &ModelManifest,
    manifest_bytes: &[u8],
) -> Result<Option<String>> {
    let manifest_files: Vec<&PathBuf> = staged
        .iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|b| b == manifest_bytes)
                .unwrap_or(false)
        })
        .collect();
    if staged.len() == manifest_files.len() {
        return Ok(None); // only the manifest: nothing else to check
    }
    let ignore: Vec<String> = manifest_files
        .iter()
        .filter_map(|f| f.strip_prefix(root).ok())
        .map(|p| p.display().to_string())
        .collect();
    let config = HashConfig {
        ignore_paths: ignore,
        ..HashConfig::from_manifest(signed)
    };
    let actual = hash_model(root, &config, &NoProgress)?;
    let report = compare(signed, &actual);
    Ok((!report.is_match()).then(|| {
        format!(
            "the pulled files do not match the signed manifest (modified: {:?}, missing: {:?}, extra: {:?})",
            report.modified, report.missing, report.extra
        )
    }))
}

fn report(out: &Output, reference: &str, digest: &str, files: &[PathBuf]) {
    if out.is_json() {
        #[derive(Serialize)]
        struct Pulled<'a> {
            digest: &'a str,
            files: &'a [PathBuf],
        }
        out.json(&Pulled { digest, files });
    } else {
        for f in files {
            println!("Downloaded {}", f.display());
        }
        println!("Pulled {reference}\nDigest: {digest}");
    }
}
