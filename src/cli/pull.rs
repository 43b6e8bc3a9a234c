//! `modelseal pull`: an artifact's titled layers into a directory, digests checked while
//! streaming, files renamed into place only when all arrived intact.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::oci::Target;
use modelseal::oci::ops::pull;
use serde::Serialize;
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal pull localhost:5000/models/tiny:v1 -o ./pulled
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
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: PullArgs, out: &Output) -> Result<Outcome> {
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, false).await?;
        let d = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
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
        if out.is_json() {
            #[derive(Serialize)]
            struct Pulled<'a> {
                digest: &'a str,
                files: &'a [PathBuf],
            }
            out.json(&Pulled {
                digest: &d.digest,
                files: &files,
            });
        } else {
            for f in &files {
                println!("Downloaded {}", f.display());
            }
            println!("Pulled {}\nDigest: {}", args.reference, d.digest);
        }
        Ok(Outcome::Success)
    })
}
