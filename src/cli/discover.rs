//! `modelseal discover`: the referrer tree of an artifact, as `oras discover` shows it.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::oci::Target;
use modelseal::oci::ops::{ReferrerNode, discover_report};

const EXAMPLES: &str = "Examples:
  modelseal discover localhost:5000/models/tiny:v1
  modelseal discover --oci-layout ./layout:v1 --format json | jq -r '.manifests[0].reference'
  modelseal discover ghcr.io/org/model:v1 --artifact-type scitt/transparent-statement --depth 2";

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Tree,
    Json,
    Table,
}

/// List the artifacts that refer to REF (its referrers), as a tree, table or JSON.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct DiscoverArgs {
    reference: String,
    /// Only referrers of this artifact type (at the first level).
    #[arg(long)]
    artifact_type: Option<String>,
    /// How many levels of referrers of referrers to show.
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// Output format (`--output json` also selects json).
    #[arg(long, value_enum, default_value_t = Format::Tree)]
    format: Format,
    /// Check every transparent statement against the trust policy; exit 0 only when it is met.
    #[arg(long)]
    verify: bool,
    /// The trust policy (default: $MODELSEAL_POLICY, else ~/.config/modelseal/policy.toml).
    #[arg(long, value_name = "FILE", requires = "verify")]
    policy: Option<std::path::PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: DiscoverArgs, out: &Output) -> Result<Outcome> {
    if args.verify {
        return verify(args, out);
    }
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, false).await?;
        let subject = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
        let (tree, skipped) = discover_report(
            &target,
            &subject,
            args.artifact_type.as_deref(),
            args.depth.max(1),
        )
        .await?;
        for s in &skipped {
            out.info(format!("skipped referrer {}: {}", s.digest, s.reason));
        }
        // cosign's tag-based signatures are not referrers; shown beside them, unverified.
        let cosign = if args.artifact_type.is_none() {
            modelseal::oci::cosign::verify_cosign(&target, &subject, &[]).await?
        } else {
            Vec::new()
        };
        let format = if out.is_json() {
            Format::Json
        } else {
            args.format
        };
        match format {
            Format::Json => out.json(&serde_json::json!({ "manifests": tree, "cosign": cosign })),
            Format::Table => {
                println!("{:<72} Artifact Type", "Digest");
                fn rows(nodes: &[ReferrerNode]) {
                    for n in nodes {
                        println!("{:<72} {}", n.digest, n.artifact_type);
                        rows(&n.referrers);
                    }
                }
                rows(&tree);
                for c in &cosign {
                    println!("{:<72} cosign/{} [tag {}]", c.digest, c.kind.name(), c.tag);
                }
            }
            Format::Tree => {
                println!("{}", target.name_of(&subject.digest));
                print_tree(&tree, "", cosign.is_empty());
                for (i, c) in cosign.iter().enumerate() {
                    let last = i + 1 == cosign.len();
                    super::output::print_cosign(
                        c,
                        if last { "└── " } else { "├── " },
                        if last { "    " } else { "│   " },
                        false,
                    );
                }
            }
        }
        Ok(Outcome::Success)
    })
}

/// Referrers grouped by artifact type under their subject, as oras draws them.
/// `last_at_top`: whether the tree's last group ends its subject (nothing follows it).
fn print_tree(nodes: &[ReferrerNode], prefix: &str, last_at_top: bool) {
    let mut types: Vec<&str> = nodes.iter().map(|n| n.artifact_type.as_str()).collect();
    types.dedup();
    types.sort();
    types.dedup();
    for (ti, ty) in types.iter().enumerate() {
        let last_type = ti + 1 == types.len() && last_at_top;
        println!(
            "{prefix}{}{ty}",
            if last_type {
                "└── "
            } else {
                "├── "
            }
        );
        let type_prefix = format!("{prefix}{}", if last_type { "    " } else { "│   " });
        let of_type: Vec<&ReferrerNode> = nodes.iter().filter(|n| n.artifact_type == *ty).collect();
        for (ni, n) in of_type.iter().enumerate() {
            let last = ni + 1 == of_type.len();
            println!(
                "{type_prefix}{}{}",
                if last { "└── " } else { "├── " },
                n.digest
            );
            print_tree(
                &n.referrers,
                &format!("{type_prefix}{}", if last { "    " } else { "│   " }),
                true,
            );
        }
    }
}

/// The trust policy's scope for `reference` (policy from --policy, $MODELSEAL_POLICY or the
/// default file; none, or no scope covering the reference, is an error: verification fails
/// closed), and the reference as the policy's claim templates read it.
pub(super) fn scope_for(
    policy: Option<&std::path::Path>,
    reference: &str,
    oci_layout: bool,
) -> Result<(
    modelseal::core::policy::ScopePolicy,
    modelseal::core::policy::ArtifactRef,
)> {
    use modelseal::core::policy::{TrustPolicy, locate};
    let policy_path = locate(policy).map_err(anyhow::Error::msg)?;
    let policy = TrustPolicy::load(&policy_path)?;
    let (selection, artifact) = policy.select_reference(reference, oci_layout)?;
    Ok((selection.policy.clone(), artifact))
}

/// `discover --verify`: the policy for REF's repository, applied to its referrer tree.
fn verify(args: DiscoverArgs, out: &Output) -> Result<Outcome> {
    let (scope, artifact) = scope_for(
        args.policy.as_deref(),
        &args.reference,
        args.target.oci_layout,
    )?;
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, false).await?;
        let subject = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
        let verdict = modelseal::oci::verify::verify_referrers(
            &target,
            &subject,
            &scope,
            modelseal::core::clock::now(),
            &artifact,
        )
        .await?;
        out.tree_verdict(&verdict);
        Ok(if verdict.verified || !verdict.enforced {
            Outcome::Success
        } else {
            Outcome::VerificationFailed
        })
    })
}
