//! `modelseal restore`: a backup (OCI layout or `.tar` of one) back into a registry.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, TransferArgs, block_on};
use anyhow::{Context, Result, bail};
use modelseal::oci::backup::restore;
use modelseal::oci::reference::Selector;
use std::path::PathBuf;

/// Restore a backup (from `modelseal backup`) with everything it carried into a registry.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The layout directory or FILE.tar `backup` wrote.
    input: PathBuf,
    /// Where to: host/repo:tag (or host/repo, keeping the backup's tag).
    reference: String,
    /// The backup's artifact to restore, when it holds several.
    #[arg(long)]
    tag: Option<String>,
    /// The artifact alone, without its referrers.
    #[arg(long)]
    exclude_referrers: bool,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    transfer: TransferArgs,
}

pub fn run(args: RestoreArgs, out: &Output) -> Result<Outcome> {
    block_on(async {
        let (dst, selector) = args
            .target
            .open_for_transfer(&args.reference, true, &args.transfer)
            .await?;
        let dst_tag = match &selector {
            Some(Selector::Tag(t)) => Some(t.clone()),
            Some(Selector::Digest(_)) => bail!("restore to a tag (or to the repository alone)"),
            None => args.tag.clone(),
        };
        let (manifest, report) = restore(
            &args.input,
            args.tag.as_deref(),
            &dst,
            dst_tag.as_deref(),
            args.exclude_referrers,
        )
        .await
        .with_context(|| format!("restoring {} to {}", args.input.display(), args.reference))?;
        for s in &report.skipped {
            out.info(format!("skipped referrer {}: {}", s.digest, s.reason));
        }
        if out.is_json() {
            out.json(&serde_json::json!({"digest": manifest.digest,
                "manifests": report.copied, "skipped": report.skipped,
                "transfer": dst.transfer_counts()}));
        } else {
            sayln!(
                "Restored {} => {} ({} manifest(s))\nDigest: {}",
                args.input.display(),
                args.reference,
                report.copied,
                manifest.digest
            );
        }
        Ok(Outcome::Success)
    })
}
