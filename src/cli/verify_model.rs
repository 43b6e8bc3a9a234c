//! `modelseal verify-model DIR --manifest REF`: a model already on disk (a volume, a cache)
//! checked against a manifest whose statements meet the trust policy — the model server's case.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::core::manifest::{ModelManifest, check_model};
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
        let progress = out.hashing_progress("checking");
        let report = check_model(&signed, &args.model, &progress)?;
        drop(progress);
        out.check_report(&report, &args.reference, &args.model.display().to_string());
        Ok(if report.is_match() {
            Outcome::Success
        } else {
            Outcome::VerificationFailed
        })
    })
}
