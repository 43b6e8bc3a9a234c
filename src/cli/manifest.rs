//! `modelseal manifest fetch`: a manifest's exact bytes (checked against its digest).

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::{Context, Result};
use modelseal::oci::ReadTarget;
use std::io::Write;

#[derive(clap::Args)]
pub struct ManifestArgs {
    #[command(subcommand)]
    command: ManifestCommand,
}

#[derive(clap::Subcommand)]
enum ManifestCommand {
    /// Print a manifest: the registry's bytes as they are, or pretty with --pretty.
    Fetch(FetchArgs),
}

#[derive(clap::Args)]
struct FetchArgs {
    /// The artifact: `host/repo:tag` or `host/repo@sha256:…` (with --oci-layout, `DIR:tag` or `DIR@sha256:…`).
    reference: String,
    /// Indent the JSON for reading (the printed bytes then no longer hash to the digest).
    #[arg(long)]
    pretty: bool,
    /// Print only the descriptor (media type, digest, size).
    #[arg(long)]
    descriptor: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: ManifestArgs, out: &Output) -> Result<Outcome> {
    let ManifestCommand::Fetch(args) = args.command;
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, false).await?;
        let d = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
        if args.descriptor {
            out.json(&d);
            return Ok(Outcome::Success);
        }
        let bytes = target.fetch_manifest(&d).await?;
        let mut stdout = std::io::stdout();
        if args.pretty {
            let v: serde_json::Value =
                serde_json::from_slice(&bytes).context("the manifest is not JSON")?;
            writeln!(stdout, "{}", serde_json::to_string_pretty(&v)?)?;
        } else {
            stdout.write_all(&bytes)?;
        }
        Ok(Outcome::Success)
    })
}
