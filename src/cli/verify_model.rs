//! `modelseal verify-model DIR --manifest REF`: a model already on disk (a volume, a cache)
//! checked against a manifest whose statements meet the trust policy — the model server's case.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::core::manifest::{HashConfig, ModelManifest, compare, hash_model};
use modelseal::oci::Target;
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal verify-model /models/tiny --manifest registry.example.com/models/tiny:v1 --policy policy.toml
  modelseal verify-model ./tiny --manifest ./layout:v1 --oci-layout";

/// Check a model on disk against a verified manifest in a registry or layout.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct VerifyModelArgs {
    /// The model directory (or single file).
    model: PathBuf,
    /// The model manifest artifact: host/repo:tag|@digest (or DIR:tag with --oci-layout).
    #[arg(long = "manifest", value_name = "REF")]
    reference: String,
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: VerifyModelArgs, out: &Output) -> Result<Outcome> {
    let scope = super::discover::scope_for(
        args.policy.as_deref(),
        &args.reference,
        args.target.oci_layout,
    )?;
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, false).await?;
        let d = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
        let verdict =
            modelseal::oci::verify::verify_referrers(&target, &d, &scope, super::trust::now())
                .await?;
        out.tree_verdict(&verdict);
        if !verdict.verified {
            return Ok(Outcome::VerificationFailed);
        }
        let signed = ModelManifest::from_json(&verdict.manifest).map_err(anyhow::Error::msg)?;
        // A copy of the manifest itself beside the files (as `pull` leaves it) is not a model file.
        let beside: Vec<String> = std::fs::read_dir(&args.model)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                e.path().is_file() && std::fs::read(e.path()).is_ok_and(|b| b == verdict.manifest)
            })
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        let config = HashConfig {
            ignore_paths: beside,
            ..HashConfig::from_manifest(&signed)
        };
        let progress = out.hashing_progress("checking");
        let report = compare(&signed, &hash_model(&args.model, &config, &progress)?);
        drop(progress);
        out.check_report(&report, &args.reference, &args.model.display().to_string());
        Ok(if report.is_match() {
            Outcome::Success
        } else {
            Outcome::VerificationFailed
        })
    })
}
