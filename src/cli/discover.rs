//! `modelseal discover`: the referrer tree of an artifact, as `oras discover` shows it.

use super::Outcome;
use super::output::{Format, Output, TreeNode, cosign_node, draw_tree};
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::core::cose::Sign1;
use modelseal::flows::verify_artifact;
use modelseal::oci::documents::statement_bytes;
use modelseal::oci::manifest::Descriptor;
use modelseal::oci::ops::{ReferrerNode, discover_report};
use modelseal::oci::{ReadTarget, media};
use std::collections::BTreeMap;

const EXAMPLES: &str = "Examples:
  modelseal discover localhost:5000/models/tiny:v1
  modelseal discover --oci-layout ./layout:v1 --format json | jq -r '.manifests[0].reference'
  modelseal discover ghcr.io/org/model:v1 --artifact-type scitt/transparent-statement --depth 2";

/// List the artifacts that refer to REF (its referrers): a tree, or `--format table|json`.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct DiscoverArgs {
    /// The artifact: `host/repo:tag` or `host/repo@sha256:…` (with --oci-layout, `DIR:tag` or `DIR@sha256:…`).
    reference: String,
    /// Only referrers of this artifact type (at the first level).
    #[arg(long)]
    artifact_type: Option<String>,
    /// How many levels of referrers of referrers to show.
    #[arg(long, default_value_t = 1)]
    depth: usize,
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
        let receipts = receipt_counts(&target, &subject, &tree).await;
        match out.format() {
            Format::Json => out.json(
                &serde_json::json!({ "manifests": tree, "cosign": cosign, "receipts": receipts }),
            ),
            Format::Table => {
                sayln!("{:<72} Artifact Type", "Digest");
                fn rows(nodes: &[ReferrerNode], receipts: &BTreeMap<String, usize>) {
                    for n in nodes {
                        sayln!(
                            "{:<72} {}{}",
                            n.digest,
                            n.artifact_type,
                            receipt_note(receipts, &n.digest)
                        );
                        rows(&n.referrers, receipts);
                    }
                }
                rows(&tree, &receipts);
                for c in &cosign {
                    sayln!("{:<72} cosign/{} [tag {}]", c.digest, c.kind.name(), c.tag);
                }
            }
            Format::Text => {
                let mut nodes = grouped(&tree, &receipts);
                nodes.extend(cosign.iter().map(|c| cosign_node(c, false)));
                say!("{}", draw_tree(&target.name_of(&subject.digest), &nodes));
            }
        }
        Ok(Outcome::Success)
    })
}

/// How many receipts each SCITT statement among the subject's referrers carries (by referrer
/// digest); a statement that cannot be fetched or read is left out.
async fn receipt_counts(
    target: &impl ReadTarget,
    subject: &Descriptor,
    nodes: &[ReferrerNode],
) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for n in nodes
        .iter()
        .filter(|n| media::is_scitt_statement(&n.artifact_type))
    {
        let referrer = Descriptor {
            media_type: n.media_type.clone(),
            digest: n.digest.clone(),
            size: n.size,
            annotations: Default::default(),
            data: None,
            artifact_type: Some(n.artifact_type.clone()),
        };
        let Ok(bytes) = statement_bytes(target, subject, &referrer).await else {
            continue;
        };
        if let Ok(receipts) = Sign1::parse(&bytes).and_then(|s| s.receipts()) {
            counts.insert(n.digest.clone(), receipts.len());
        }
    }
    counts
}

/// ` (N receipts)` after a statement's digest; nothing for other referrers.
fn receipt_note(receipts: &BTreeMap<String, usize>, digest: &str) -> String {
    match receipts.get(digest) {
        Some(1) => " (1 receipt)".into(),
        Some(n) => format!(" ({n} receipts)"),
        None => String::new(),
    }
}

/// Referrers grouped by artifact type under their subject, as oras draws them.
fn grouped(nodes: &[ReferrerNode], receipts: &BTreeMap<String, usize>) -> Vec<TreeNode> {
    let mut types: Vec<&str> = nodes.iter().map(|n| n.artifact_type.as_str()).collect();
    types.sort();
    types.dedup();
    types
        .into_iter()
        .map(|ty| TreeNode {
            // Other tools' referrers named: cosign bundles, notation signatures, SBOMs, ….
            label: match media::referrer_kind(ty) {
                Some(kind) => format!("{ty} ({kind})"),
                None => ty.to_string(),
            },
            notes: Vec::new(),
            children: nodes
                .iter()
                .filter(|n| n.artifact_type == ty)
                .map(|n| TreeNode {
                    label: match media::referrer_predicate_type(&n.annotations) {
                        Some(p) => format!("{} (predicate {p})", n.digest),
                        None => format!("{}{}", n.digest, receipt_note(receipts, &n.digest)),
                    },
                    notes: Vec::new(),
                    children: grouped(&n.referrers, receipts),
                })
                .collect(),
        })
        .collect()
}

/// `discover --verify`: the policy for REF's repository, applied to its referrer tree.
fn verify(args: DiscoverArgs, out: &Output) -> Result<Outcome> {
    let artifact = args
        .target
        .artifact(&args.reference, args.policy.as_deref())?;
    let verdict = block_on(async { Ok(verify_artifact(&artifact).await?) })?;
    out.tree_verdict(&verdict);
    Ok(if verdict.blocks() {
        Outcome::VerificationFailed
    } else {
        Outcome::Success
    })
}
