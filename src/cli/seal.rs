//! `modelseal seal`: sign a model artifact another tool pushed (modctl, KitOps), in place —
//! hashed from its raw layers' descriptors, nothing downloaded.

use super::Outcome;
use super::output::{Output, TreeNode, draw_tree};
use super::target::{TargetArgs, block_on};
use super::trust;
use anyhow::Result;
use modelseal::core::cose::PayloadHashAlg;
use modelseal::flows::{ModelArtifact, SealRequest, seal};
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal seal localhost:5000/models/llama:v1 --key publisher.key --issuer https://publisher.example
  modelseal seal ghcr.io/org/model:v1 --key k.key --issuer iss --ts local:./ts --hash-envelope
  modelseal seal --oci-layout ./layout:v1 --key dev.key --issuer dev";

/// Seal a ModelPack artifact in place: hash it from its layers, sign, register, attach.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct SealArgs {
    /// The artifact: host/repo:tag|@digest (or DIR:tag with --oci-layout).
    reference: String,
    /// The signer's private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The statement's CWT iss.
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// Certificates (PEM, leaf first) for the protected header's x5chain.
    #[arg(long, value_name = "CERTS")]
    x5chain: Option<PathBuf>,
    /// The statement's CWT sub. Default: `{repository}:{tag}` of REFERENCE.
    #[arg(long, value_name = "SUB")]
    subject: Option<String>,
    /// The manifest's model name (default: the repository's last segment).
    #[arg(long, value_name = "NAME")]
    model_name: Option<String>,
    /// Register with a transparency service and staple its receipt (`local:DIR` or a URL).
    #[arg(long = "ts", value_name = "SERVICE")]
    services: Vec<String>,
    /// Pinned key(s) of URL transparency services.
    #[arg(long, value_name = "FILE")]
    ts_key: Vec<PathBuf>,
    /// Sign the manifest's SHA-256 in a COSE hash envelope rather than the manifest itself.
    #[arg(long)]
    hash_envelope: bool,
    /// Also attach a Sigstore bundle v0.3 as cosign attaches attestations (artifactType
    /// application/vnd.dev.sigstore.bundle.v0.3+json): the model manifest as an in-toto
    /// attestation of the artifact's manifest digest, signed with --key (ECDSA), for cosign-based
    /// admission (`cosign verify-attestation --key … --new-bundle-format`, Kyverno).
    #[arg(long)]
    also_sigstore_bundle: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: SealArgs, out: &Output) -> Result<Outcome> {
    let key = trust::private_key(&args.key)?;
    let x5chain = trust::x5chain_for(args.x5chain.as_deref(), &key)?;
    let request = SealRequest {
        artifact: ModelArtifact {
            reference: args.reference.clone(),
            oci_layout: args.target.oci_layout,
            connection: args.target.connection()?,
            model_name: args.model_name,
        },
        key,
        issuer: args.issuer,
        x5chain,
        subject: args.subject,
        services: trust::services(&args.services)?,
        service_keys: trust::pinned_service_keys(&args.ts_key)?,
        time: None,
        hash_envelope: args.hash_envelope.then_some(PayloadHashAlg::Sha256),
        also_sigstore_bundle: args.also_sigstore_bundle,
    };
    let report = block_on(async { Ok(seal(&request, out).await?) })?;
    if out.is_json() {
        out.json(&report);
    } else {
        let nodes: Vec<TreeNode> = report
            .referrers
            .iter()
            .map(|n| TreeNode::leaf(format!("{} {}", n.artifact_type, n.digest)))
            .collect();
        print!("{}", draw_tree(&report.name, &nodes));
    }
    Ok(Outcome::Success)
}
