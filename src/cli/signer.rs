//! What `publish` and `seal` share: who signs, where the statement is registered, and the report
//! of the statement attached to the artifact.

use super::output::{Output, TreeNode, draw_tree};
use super::trust;
use anyhow::Result;
use modelseal::core::crypto::{PrivateKey, PublicKey};
use modelseal::flows::{Attached, Service};
use std::path::PathBuf;

/// The signer's and the transparency services' flags.
#[derive(clap::Args)]
pub struct SignerArgs {
    /// The signer's private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The statement's CWT iss: who signs (with --x5chain, typically a did:x509).
    #[arg(long, value_name = "ISS")]
    pub issuer: String,
    /// Certificates (PEM, leaf first, the leaf for --key) to put in the protected header as
    /// x5chain, for verifiers that trust a root rather than a key.
    #[arg(long, value_name = "CERTS")]
    pub x5chain: Option<PathBuf>,
    /// The statement's CWT sub. Default: `{repository}:{tag}` of REFERENCE (for a layout, the
    /// directory's name), which a policy's `sub = "{repository}:{tag}"` binds to.
    #[arg(long, value_name = "SUB")]
    pub subject: Option<String>,
    /// Register the statement with a transparency service and staple its receipt
    /// (`local:DIR` for an embedded log). Repeatable.
    #[arg(long = "ts", value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Pinned key(s) of URL transparency services.
    #[arg(long, value_name = "FILE")]
    pub ts_key: Vec<PathBuf>,
    /// Also attach a Sigstore bundle v0.3 as cosign attaches attestations (artifactType
    /// application/vnd.dev.sigstore.bundle.v0.3+json): the model manifest as an in-toto
    /// attestation of the artifact's manifest digest, signed with --key (ECDSA), for cosign-based
    /// admission (`cosign verify-attestation --key … --new-bundle-format`, Kyverno).
    #[arg(long)]
    pub also_sigstore_bundle: bool,
}

/// The files those flags name, loaded (errors name the file).
pub struct Signer {
    pub key: PrivateKey,
    pub x5chain: Vec<Vec<u8>>,
    pub services: Vec<Service>,
    pub service_keys: Vec<PublicKey>,
}

impl SignerArgs {
    pub fn load(&self) -> Result<Signer> {
        let key = trust::private_key(&self.key)?;
        let x5chain = trust::x5chain_for(self.x5chain.as_deref(), &key)?;
        Ok(Signer {
            key,
            x5chain,
            services: trust::services(&self.services)?,
            service_keys: trust::pinned_service_keys(&self.ts_key)?,
        })
    }
}

/// The report: `json` as JSON, else the artifact and its referrers as a tree.
pub fn render(out: &Output, attached: &Attached, json: &impl serde::Serialize) {
    if out.is_json() {
        out.json(json);
    } else {
        let nodes: Vec<TreeNode> = attached
            .referrers
            .iter()
            .map(|n| TreeNode::leaf(format!("{} {}", n.artifact_type, n.digest)))
            .collect();
        say!("{}", draw_tree(&attached.name, &nodes));
    }
}
