//! `modelseal pull`: an artifact's titled layers into a directory, digests checked while
//! streaming, files renamed into place only when all arrived intact. With `--verify`, the
//! artifact's statements are checked against the trust policy first, and model files (when the
//! artifact carries them) against the signed manifest: nothing unverified reaches DIR.

use super::Outcome;
use super::output::{Output, shown_path};
use super::target::{TargetArgs, TransferArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::flows::{PullVerifiedRequest, VerifiedPullOptions, pull_verified};
use modelseal::oci::ReadTarget;
use modelseal::oci::ops::{PullOptions, pull};
use modelseal::oci::registry::TransferCounts;
use serde::Serialize;
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal pull localhost:5000/models/tiny:v1 -o ./pulled
  modelseal pull localhost:5000/models/tiny:v1 -o ./pulled --verify --policy policy.toml
  modelseal pull --oci-layout ./layout:v1 -o ./pulled";

/// Download the files of an artifact.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct PullArgs {
    /// The artifact: `host/repo:tag` or `host/repo@sha256:…` (with --oci-layout, `DIR:tag` or `DIR@sha256:…`).
    reference: String,
    #[arg(
        short = 'o',
        long = "output",
        aliases = ["output-dir", "out"],
        value_name = "DIR",
        default_value = "."
    )]
    /// Where the files go (made if missing).
    output_dir: PathBuf,
    /// Write layers whose title is absolute or climbs out with `..` (as oras's flag).
    #[arg(long, conflicts_with = "verify")]
    allow_path_traversal: bool,
    /// Verify against the trust policy before anything is written; DIR must be empty (or
    /// --force).
    #[arg(long)]
    verify: bool,
    /// The trust policy for --verify (default: $MODELSEAL_POLICY, else ~/.config/modelseal/policy.toml).
    #[arg(long, value_name = "FILE", requires = "verify")]
    policy: Option<PathBuf>,
    /// Overwrite existing files; with --verify, pull into a non-empty DIR, which is then
    /// verified as a whole (an unrelated file fails it, and the pull is undone).
    #[arg(long)]
    force: bool,
    /// With --verify: an artifact that carries only the signed manifest, no model files, fails.
    #[arg(long, requires = "verify")]
    require_files: bool,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    transfer: TransferArgs,
}

pub fn run(args: PullArgs, out: &Output) -> Result<Outcome> {
    if args.verify {
        return verified(args, out);
    }
    block_on(async {
        let (target, selector) = args
            .target
            .open_for_transfer(&args.reference, false, &args.transfer)
            .await?;
        let d = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
        let progress = out.transfer_progress("pulling");
        let options = PullOptions {
            allow_traversal: args.allow_path_traversal,
            force: args.force,
        };
        let files = pull(&target, &d, &args.output_dir, options, &progress).await?;
        drop(progress);
        report(
            out,
            &args.reference,
            &d.digest,
            &files,
            Some(target.transfer_counts()),
        );
        out.transfer_summary(target.transfer_counts());
        Ok(Outcome::Success)
    })
}

/// `pull --verify`: [`pull_verified`], its report rendered.
fn verified(args: PullArgs, out: &Output) -> Result<Outcome> {
    let request = PullVerifiedRequest {
        artifact: args
            .target
            .artifact(&args.reference, args.policy.as_deref())?,
        output_dir: args.output_dir.clone(),
        options: VerifiedPullOptions {
            force: args.force,
            require_files: args.require_files,
        },
    };
    let pulled = block_on(async { Ok(pull_verified(&request, out).await?) })?;
    let statements = &pulled.statements;
    let failed =
        (!statements.verified && statements.blocks()) || (!pulled.verified && pulled.enforced);
    if out.is_json() {
        // One document: what was written, and the verification it rests on.
        #[derive(Serialize)]
        struct PulledVerified<'a> {
            digest: &'a str,
            files: Vec<String>,
            verified: bool,
            verification: &'a modelseal::flows::VerifiedPull,
        }
        out.json(&PulledVerified {
            digest: &pulled.digest,
            files: pulled.written.iter().map(|f| shown_path(f)).collect(),
            verified: pulled.verified,
            verification: &pulled,
        });
        return Ok(if failed {
            Outcome::VerificationFailed
        } else {
            Outcome::Success
        });
    }
    let digest = &pulled.digest;
    if !statements.verified {
        out.tree_verdict(statements);
        if statements.blocks() {
            return Ok(Outcome::VerificationFailed);
        }
    }
    for w in &pulled.warnings {
        eprintln!("warning: {w}");
    }
    if !pulled.verified && !pulled.enforced {
        for reason in &pulled.reasons {
            eprintln!(
                "warning: {reason} (policy {} has level {}: not enforced)",
                statements.policy,
                statements.level.name()
            );
        }
        report(out, &args.reference, digest, &pulled.written, None);
        return Ok(Outcome::Success);
    }
    if !pulled.verified {
        for reason in &pulled.reasons {
            sayln!("✘ {reason}; nothing was written");
        }
        return Ok(Outcome::VerificationFailed);
    }
    out.info(format!(
        "✔ verified against policy {} before writing",
        statements.policy
    ));
    report(out, &args.reference, digest, &pulled.written, None);
    Ok(Outcome::Success)
}

fn report(
    out: &Output,
    reference: &str,
    digest: &str,
    files: &[PathBuf],
    transfer: Option<TransferCounts>,
) {
    if out.is_json() {
        #[derive(Serialize)]
        struct Pulled<'a> {
            digest: &'a str,
            files: Vec<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            transfer: Option<TransferCounts>,
        }
        out.json(&Pulled {
            digest,
            files: files.iter().map(|f| shown_path(f)).collect(),
            transfer,
        });
    } else {
        // Each file is progress; the result (what was pulled, its digest) is printed even with -q.
        for f in files {
            out.info(format!("Downloaded {}", shown_path(f)));
        }
        sayln!("Pulled {reference}\nDigest: {digest}");
    }
}
