//! `modelseal verify-model DIR --manifest REF`: a model already on disk (a volume, a cache)
//! checked against a manifest whose statements meet the trust policy — the model server's case,
//! and the same call a server makes (`modelseal::flows::verify_model`).

use super::Outcome;
use super::output::Output;
use super::target::block_on;
use anyhow::Result;
use modelseal::flows::{ModelCheck, verify_model_async};
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
    /// The trust policy (default: $MODELSEAL_POLICY, else ~/.config/modelseal/policy.toml).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// REF is an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
}

pub fn run(args: VerifyModelArgs, out: &Output) -> Result<Outcome> {
    let check = ModelCheck {
        model_dir: args.model.clone(),
        manifest_ref: args.reference.clone(),
        oci_layout: args.oci_layout,
        policy: args.policy,
    };
    let verdict =
        block_on(async { Ok(verify_model_async(&check, modelseal::core::clock::now()).await?) })?;
    if out.is_json() {
        out.json(&verdict);
    } else {
        out.tree_verdict(&verdict.statements);
        if let Some(files) = &verdict.files {
            out.check_report(files, &args.reference, &args.model.display().to_string());
        }
    }
    if !verdict.verified && !verdict.enforced && !out.is_json() {
        sayln!(
            "⚠ NOT verified, not enforced (policy level {}): {}",
            verdict.statements.level.name(),
            verdict.reasons.join("; ")
        );
    }
    Ok(if verdict.verified || !verdict.enforced {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}
