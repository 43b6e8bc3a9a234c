//! `modelseal copy`: an artifact and (with -r) its referrer tree between any two targets.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, TransferArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::oci::ReadTarget;
use modelseal::oci::ops::copy_report;
use modelseal::oci::reference::Selector;

const EXAMPLES: &str = "Examples:
  modelseal copy -r localhost:5000/models/tiny:v1 ghcr.io/org/tiny:v1
  modelseal copy -r localhost:5000/models/tiny:v1 ./backup:v1 --to-oci-layout
  modelseal copy -r ./backup:v1 registry.example.com/tiny:v1 --from-oci-layout";

/// Copy an artifact, and with -r everything that refers to it, to another registry or layout.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct CopyArgs {
    /// What to copy: `host/repo:tag|@digest` (a layout `DIR:tag` with --from-oci-layout).
    source: String,
    /// Where to: `host/repo[:tag]` (a layout `DIR[:tag]` with --to-oci-layout).
    destination: String,
    /// Also copy referrers, recursively (signatures, transparent statements, ...).
    #[arg(short, long)]
    recursive: bool,
    /// SOURCE is an OCI image layout directory.
    #[arg(long)]
    from_oci_layout: bool,
    /// DESTINATION is an OCI image layout directory (made if missing).
    #[arg(long)]
    to_oci_layout: bool,
    /// Reach SOURCE's registry over plain HTTP (always the case for localhost / 127.0.0.1).
    #[arg(long)]
    from_plain_http: bool,
    /// Reach DESTINATION's registry over plain HTTP (always the case for localhost / 127.0.0.1).
    #[arg(long)]
    to_plain_http: bool,
    #[command(flatten)]
    transfer: TransferArgs,
}

fn side(oci_layout: bool, plain_http: bool) -> TargetArgs {
    TargetArgs {
        oci_layout,
        plain_http,
        username: None,
        password_stdin: false,
    }
}

pub fn run(args: CopyArgs, out: &Output) -> Result<Outcome> {
    block_on(async {
        let (src, selector) = side(args.from_oci_layout, args.from_plain_http)
            .open_for_transfer(&args.source, false, &args.transfer)
            .await?;
        let selector = require_selector(selector, &args.source)?;
        let (mut dst, dst_selector) = side(args.to_oci_layout, args.to_plain_http)
            .open_for_transfer(&args.destination, true, &args.transfer)
            .await?;
        // Between two repositories of one registry, blobs are mounted, not moved (unless
        // --mount-from names another source repository).
        if args.transfer.mount_from.is_none()
            && let (Some((src_host, src_repo)), Some((dst_host, dst_repo))) =
                (src.registry_repository(), dst.registry_repository())
            && src_host == dst_host
            && src_repo != dst_repo
        {
            let from = src_repo.to_string();
            dst.set_mount_from(Some(from));
        }
        let tag = match (&dst_selector, &selector) {
            (Some(Selector::Tag(t)), _) => Some(t.clone()),
            (None, Selector::Tag(t)) => Some(t.clone()),
            _ => None,
        };
        let manifest = src.resolve(&selector).await?;
        let report = copy_report(&src, &dst, &manifest, tag.as_deref(), args.recursive).await?;
        let n = report.copied;
        for s in &report.skipped {
            out.info(format!("skipped referrer {}: {}", s.digest, s.reason));
        }
        if out.is_json() {
            out.json(&serde_json::json!({"digest": manifest.digest, "manifests": n, "skipped": report.skipped,
                "transfer": src.transfer_counts().plus(dst.transfer_counts())}));
        } else {
            sayln!(
                "Copied {} => {} ({n} manifest(s))\nDigest: {}",
                args.source,
                args.destination,
                manifest.digest
            );
        }
        out.transfer_summary(src.transfer_counts().plus(dst.transfer_counts()));
        Ok(Outcome::Success)
    })
}
