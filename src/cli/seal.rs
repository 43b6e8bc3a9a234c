//! `modelseal seal`: sign a model artifact another tool pushed (modctl, KitOps), in place —
//! hashed from its raw layers' descriptors, nothing downloaded.

use super::Outcome;
use super::output::Output;
use super::signer::{self, SignerArgs};
use super::target::{TargetArgs, block_on};
use anyhow::Result;
use modelseal::core::cose::PayloadHashAlg;
use modelseal::flows::{ModelArtifact, SealRequest, seal};

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
    #[command(flatten)]
    signer: SignerArgs,
    /// The manifest's model name (default: the repository's last segment).
    #[arg(long, value_name = "NAME")]
    model_name: Option<String>,
    /// Sign the manifest's SHA-256 in a COSE hash envelope rather than the manifest itself.
    #[arg(long)]
    hash_envelope: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: SealArgs, out: &Output) -> Result<Outcome> {
    let signer = args.signer.load()?;
    let request = SealRequest {
        artifact: ModelArtifact {
            reference: args.reference.clone(),
            oci_layout: args.target.oci_layout,
            connection: args.target.connection()?,
            model_name: args.model_name,
        },
        key: signer.key,
        issuer: args.signer.issuer,
        x5chain: signer.x5chain,
        subject: args.signer.subject,
        services: signer.services,
        service_keys: signer.service_keys,
        time: None,
        hash_envelope: args.hash_envelope.then_some(PayloadHashAlg::Sha256),
        also_sigstore_bundle: args.signer.also_sigstore_bundle,
    };
    let report = block_on(async { Ok(seal(&request, out).await?) })?;
    signer::render(out, &report, &report);
    Ok(Outcome::Success)
}
