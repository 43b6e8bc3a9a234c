//! `modelseal verify`: checks a signed statement, transparent statement, receipt or Sigstore
//! bundle, and optionally the payload and the model files it signs.

use super::Outcome;
use super::output::Output;
use super::trust;
use anyhow::{Context, Result};
use modelseal::core::cose::MAX_COSE_BYTES;
use modelseal::core::input::read_bounded;
use modelseal::core::manifest::MAX_MANIFEST_BYTES;
use modelseal::core::verify::{TrustInputs, VerifyRequest, verify};
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal verify model.cose --key publisher.pub --model ./my-model
      signature, then every file of the model against the signed manifest
  modelseal verify 2ts-statement.scitt --cert microsoft-root.pem --ts-key ccf.pem --ts-key mmr.pem \\
      --payload model-manifest.json
      x5chain to a trusted root (at the statement's time), did:x509 issuer, every receipt, hash envelope
  modelseal verify receipt.cose --statement model.cose --ts-key service.pub
  modelseal verify model.sig --key publisher.pub --model ./my-model     a model-signing Sigstore bundle
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
}

pub fn run(args: VerifyArgs, out: &Output) -> Result<Outcome> {
    let read = |p: &PathBuf, max: u64| {
        read_bounded(p, max).with_context(|| format!("{}: cannot read", p.display()))
    };
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
    let trust_inputs = TrustInputs {
        issuer_keys: trust::public_keys(&args.key)?,
        issuer_roots: trust::certificates(&args.cert)?,
        issuer_dids: Vec::new(),
        service_keys: trust::service_keys(&args.ts_key, &args.trust_store)?,
    };
    let mut report = verify(&VerifyRequest {
        bytes: &bytes,
        trust: &trust_inputs,
        payload: payload.as_deref(),
        model: args.model.as_deref(),
        statement: statement.as_deref(),
        now: modelseal::core::clock::now(),
    })
    .with_context(|| format!("{}: cannot verify", args.file.display()))?;
    if let Some(iss) = &args.issuer {
        report.require_claim("iss", iss);
    }
    if let Some(sub) = &args.subject {
        report.require_claim("sub", sub);
    }
    out.verify_report(&report, &args.file.display().to_string());
    Ok(if report.verified {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}
