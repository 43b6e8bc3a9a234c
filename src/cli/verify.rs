//! `modelseal verify`: checks a signed statement, transparent statement, receipt or Sigstore
//! bundle, and optionally the payload and the model files it signs.

use super::Outcome;
use super::output::{Output, shown_path};
use super::trust;
use anyhow::{Context, Result};
use modelseal::core::cose::MAX_COSE_BYTES;
use modelseal::core::input::read_bounded;
use modelseal::core::manifest::MAX_MANIFEST_BYTES;
use modelseal::core::sigstore::keyless::{
    IdentityRule, KeylessIdentity, SignedArtifact, SigstoreTrust,
};
use modelseal::core::verify::{Claim, TrustInputs, VerifyRequest, verify};
use std::path::PathBuf;
use std::sync::Arc;

/// A generic artifact is read whole (the verifier needs the bytes for some signature schemes);
/// models are checked with --model instead, streaming.
const MAX_ARTIFACT_BYTES: u64 = 1 << 30;

/// The keyless signer the flags name, if any: like cosign, an identity needs its OIDC issuer
/// and the issuer an identity.
fn keyless_identity(
    args: &VerifyArgs,
    root: Option<Arc<SigstoreTrust>>,
) -> Result<Option<KeylessIdentity>> {
    let identity = match (
        &args.certificate_identity,
        &args.certificate_identity_regexp,
    ) {
        (Some(id), _) => Some(IdentityRule::Exact(id.clone())),
        (None, Some(re)) => Some(IdentityRule::regexp(re)?),
        (None, None) => None,
    };
    match (identity, &args.certificate_oidc_issuer) {
        (None, None) => Ok(None),
        (Some(_), None) => anyhow::bail!(
            "--certificate-identity needs --certificate-oidc-issuer: an identity means nothing without who vouched for it"
        ),
        (None, Some(_)) => anyhow::bail!(
            "--certificate-oidc-issuer needs --certificate-identity or --certificate-identity-regexp"
        ),
        (Some(identity), Some(issuer)) => Ok(Some(KeylessIdentity {
            identity,
            oidc_issuer: issuer.clone(),
            trust: match root {
                Some(r) => r,
                None => SigstoreTrust::production()?,
            },
        })),
    }
}

const EXAMPLES: &str = "Examples:
  modelseal verify model.cose --key publisher.pub --model ./my-model
      signature, then every file of the model against the signed manifest
  modelseal verify 2ts-statement.scitt --cert microsoft-root.pem --ts-key ccf.pem --ts-key mmr.pem \\
      --payload model-manifest.json
      x5chain to a trusted root (at the statement's time), did:x509 issuer, every receipt, hash envelope
  modelseal verify receipt.cose --statement model.cose --ts-key service.pub
  modelseal verify model.sig --key publisher.pub --model ./my-model     a model-signing Sigstore bundle
  modelseal verify model.sig --model ./my-model --certificate-identity alice@example.com \
      --certificate-oidc-issuer https://accounts.google.com
      a keyless model-signing bundle: Fulcio certificate, SCT, Rekor entry, then the model's files
  modelseal verify a.txt.sigstore.json --artifact a.txt --certificate-identity-regexp '.*@example[.]com' \
      --certificate-oidc-issuer https://accounts.google.com --trusted-root trusted_root.json
  modelseal verify model.cose --key publisher.pub --issuer 'https://*.example.com' --subject models/tiny:v1";

/// Verify a signed or transparent statement, a receipt, or a Sigstore bundle.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct VerifyArgs {
    /// The file to verify (its kind is detected).
    file: PathBuf,
    /// Public key of the statement's signer (PEM key or certificate, JWK, JWKS). Repeatable.
    #[arg(long, value_name = "PUB")]
    key: Vec<PathBuf>,
    /// Trusted root certificate for the statement's x5chain (PEM or DER). Repeatable.
    #[arg(long, value_name = "ROOT")]
    cert: Vec<PathBuf>,
    /// A transparency service's public key (PEM, JWK, JWKS; matched by kid). Repeatable.
    #[arg(long, value_name = "KEY")]
    ts_key: Vec<PathBuf>,
    /// A directory of transparency-service keys (every file in it).
    #[arg(long, value_name = "DIR")]
    trust_store: Vec<PathBuf>,
    /// The payload: a detached payload, or a hash envelope's preimage (the manifest).
    #[arg(long, value_name = "FILE")]
    payload: Option<PathBuf>,
    /// Check this model directory (or file) against the signed manifest.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// The statement a receipt is for (when FILE is a lone receipt).
    #[arg(long, value_name = "FILE")]
    statement: Option<PathBuf>,
    /// Require this CWT `iss` (`*` matches any run of characters).
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,
    /// Require this CWT `sub` (`*` matches any run of characters).
    #[arg(long, value_name = "SUB")]
    subject: Option<String>,
    /// Keyless Sigstore: the signing certificate's identity (its SAN: e-mail or URI), exactly.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "certificate_identity_regexp"
    )]
    certificate_identity: Option<String>,
    /// Keyless Sigstore: a regular expression the whole certificate identity must match.
    #[arg(long, value_name = "RE")]
    certificate_identity_regexp: Option<String>,
    /// Keyless Sigstore: the OIDC issuer that vouched for the identity (required with an identity).
    #[arg(long, value_name = "URL")]
    certificate_oidc_issuer: Option<String>,
    /// Sigstore trust material (trusted_root.json) for a private instance; default: the embedded
    /// public-good production root. Nothing is fetched.
    #[arg(long, value_name = "FILE", conflicts_with = "staging")]
    trusted_root: Option<PathBuf>,
    /// Use the embedded Sigstore public-good staging root.
    #[arg(long)]
    staging: bool,
    /// What a generic Sigstore bundle signs: a file, or `sha256:HEX` (for bundles over anything
    /// but a model manifest).
    #[arg(long, value_name = "FILE|DIGEST")]
    artifact: Option<String>,
}

pub fn run(args: VerifyArgs, out: &Output) -> Result<Outcome> {
    let read = |p: &PathBuf, max: u64| trust::read_input(p, max);
    let bytes = read(&args.file, MAX_COSE_BYTES as u64)?;
    let payload = args
        .payload
        .as_ref()
        .map(|p| read(p, MAX_MANIFEST_BYTES))
        .transpose()?;
    let statement = args
        .statement
        .as_ref()
        .map(|p| read(p, MAX_COSE_BYTES as u64))
        .transpose()?;
    let sigstore_root = match (&args.trusted_root, args.staging) {
        (Some(path), _) => Some(SigstoreTrust::from_file(path)?),
        (None, true) => Some(SigstoreTrust::staging()?),
        (None, false) => None,
    };
    let sigstore_identities = keyless_identity(&args, sigstore_root.clone())?
        .into_iter()
        .collect();
    let trust_inputs = TrustInputs {
        issuer_keys: trust::public_keys(&args.key)?,
        issuer_roots: trust::certificates(&args.cert)?,
        issuer_dids: Vec::new(),
        service_keys: trust::service_keys(&args.ts_key, &args.trust_store)?,
        sigstore_identities,
        sigstore_root,
    };
    // The conformance suite's rule: `sha256:` and 64 hex digits is a digest, else a path.
    let artifact_bytes = match &args.artifact {
        Some(a) if SignedArtifact::parse_digest(a).is_none() => Some(
            read_bounded(std::path::Path::new(a), MAX_ARTIFACT_BYTES)
                .with_context(|| format!("{a}: cannot read the artifact"))?,
        ),
        _ => None,
    };
    let artifact = match (&args.artifact, &artifact_bytes) {
        (_, Some(bytes)) => Some(SignedArtifact::Bytes(bytes)),
        (Some(a), None) => SignedArtifact::parse_digest(a).map(SignedArtifact::Sha256),
        (None, None) => None,
    };
    let mut report = verify(&VerifyRequest {
        bytes: &bytes,
        trust: &trust_inputs,
        payload: payload.as_deref(),
        model: args.model.as_deref(),
        statement: statement.as_deref(),
        artifact,
        now: modelseal::core::clock::now(),
    })
    .with_context(|| format!("{}: cannot verify", args.file.display()))?;
    if let Some(iss) = &args.issuer {
        report.require_claim(Claim::Issuer, iss);
    }
    if let Some(sub) = &args.subject {
        report.require_claim(Claim::Subject, sub);
    }
    if !args.key.is_empty() {
        let tried: Vec<String> = args.key.iter().map(|k| shown_path(k)).collect();
        report
            .verdict
            .name_keys_tried("signature", &tried.join(", "));
    }
    out.verify_report(&report, &args.file.display().to_string());
    Ok(if report.verified {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}
