//! `modelseal backup`: an artifact with its referrer tree to an OCI layout or a `.tar` of one.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, TransferArgs, block_on, require_selector};
use anyhow::{Context, Result};
use modelseal::oci::ReadTarget;
use modelseal::oci::backup::backup;
use modelseal::oci::reference::Selector;
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal backup localhost:5000/models/tiny:v1 tiny.tar       statements, signatures, cosign tags included
  modelseal backup localhost:5000/models/tiny:v1 ./tiny-layout  an OCI layout directory
  modelseal restore tiny.tar registry.internal/models/tiny:v1";

/// Back up an artifact and everything that refers to it (statements, signatures, cosign
/// `.sig`/`.att` tags) to an OCI image layout directory, or a `.tar` of one.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct BackupArgs {
    /// What to back up: host/repo:tag or host/repo@digest.
    reference: String,
    /// The layout directory, or FILE.tar.
    #[arg(value_name = "OUT")]
    destination: PathBuf,
    /// The artifact alone, without its referrers.
    #[arg(long)]
    exclude_referrers: bool,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    transfer: TransferArgs,
}

pub fn run(args: BackupArgs, out: &Output) -> Result<Outcome> {
    block_on(async {
        let (src, selector) = args
            .target
            .open_for_transfer(&args.reference, false, &args.transfer)
            .await?;
        let selector = require_selector(selector, &args.reference)?;
        let manifest = src.resolve(&selector).await?;
        // The backup's tag: the source's, or the digest's hex for a digest reference.
        let tag = match &selector {
            Selector::Tag(t) => t.clone(),
            Selector::Digest(d) => d.replace(':', "-"),
        };
        let report = backup(
            &src,
            &manifest,
            &tag,
            &args.destination,
            args.exclude_referrers,
        )
        .await
        .with_context(|| {
            format!(
                "backing up {} to {}",
                args.reference,
                args.destination.display()
            )
        })?;
        for s in &report.skipped {
            out.info(format!("skipped referrer {}: {}", s.digest, s.reason));
        }
        if out.is_json() {
            out.json(&serde_json::json!({"digest": manifest.digest, "tag": tag,
                "manifests": report.copied, "skipped": report.skipped,
                "transfer": src.transfer_counts()}));
        } else {
            sayln!(
                "Backed up {} => {} ({} manifest(s), tag {tag})\nDigest: {}",
                args.reference,
                args.destination.display(),
                report.copied,
                manifest.digest
            );
        }
        Ok(Outcome::Success)
    })
}
