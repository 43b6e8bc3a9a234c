//! `modelseal sign`: a SCITT signed statement (COSE_Sign1) over a payload or a model's manifest,
//! or the Sigstore bundle `model_signing sign key` writes.

use super::Outcome;
use super::output::Output;
use super::trust;
use anyhow::{Context, Result, bail};
use modelseal::core::atomic_file::write_atomic;
use modelseal::core::cose::PayloadHashAlg;
use modelseal::core::manifest::{MAX_MANIFEST_BYTES, ModelManifest};
use modelseal::core::signed_statement::{IN_TOTO_CONTENT_TYPE, StatementSpec, sign_statement};
use modelseal::core::sigstore;
use serde::Serialize;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "Examples:
  modelseal sign ./my-model --key publisher.key --issuer https://example.com --subject my-org/my-model -o model.cose
      hash the model and sign its manifest (the manifest is the payload)
  modelseal sign manifest.json --key publisher.key --issuer ISS --subject SUB --hash-envelope -o model.cose
      sign the manifest's SHA-256 (hash envelope); verify later with --payload manifest.json
  modelseal sign ./my-model --key publisher.key --sigstore-bundle -o model.sig
      the bundle `model_signing sign key` writes; `model_signing verify key` accepts it
  modelseal sign report.pdf --key publisher.key --issuer ISS --subject SUB --content-type application/pdf -o report.cose";

/// Sign a payload, or a model directory's manifest, as a SCITT signed statement.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct SignArgs {
    /// A file to sign, or a model directory (hashed first, as `modelseal hash` does).
    input: PathBuf,
    /// Private key (PKCS#8 or SEC1 PEM): P-256, P-384, P-521 or Ed25519.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The statement's issuer (CWT iss), e.g. an https URL or a did.
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,
    /// What the statement is about (CWT sub), e.g. the model's name.
    #[arg(long, value_name = "SUB")]
    subject: Option<String>,
    /// The payload's media type. Default: application/vnd.in-toto+json for manifests.
    #[arg(long, value_name = "TYPE")]
    content_type: Option<String>,
    /// Sign the payload's hash instead of the payload (draft-ietf-cose-hash-envelope).
    #[arg(long, value_name = "HASH", num_args = 0..=1, default_missing_value = "sha256",
          value_parser = ["sha256", "sha384", "sha512"])]
    hash_envelope: Option<String>,
    /// Certificates (PEM, leaf first) to put in the protected header as x5chain.
    #[arg(long, value_name = "CERTS")]
    x5chain: Option<PathBuf>,
    /// Key id (text) for the protected header. Default: the key's COSE thumbprint (RFC 9679).
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Issued-at time (unix seconds). Default: now, or SOURCE_DATE_EPOCH when set.
    #[arg(long, value_name = "SECS")]
    iat: Option<i64>,
    /// Write the Sigstore bundle model-signing writes (DSSE over the in-toto statement) instead
    /// of a SCITT signed statement (COSE_Sign1 with CWT claims).
    #[arg(long)]
    sigstore_bundle: bool,
    /// Where to write the statement (atomically).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    out: PathBuf,
    /// When signing a directory, also write its manifest here (needed to check a hash envelope).
    #[arg(long, value_name = "FILE")]
    manifest_out: Option<PathBuf>,
}

pub fn run(args: SignArgs, out: &Output) -> Result<Outcome> {
    let key = trust::private_key(&args.key)?;
    let (payload, is_manifest) = if args.input.is_dir() {
        let manifest = super::ignore::default_manifest(&args.input, Some(&args.out), out)?;
        (manifest.to_json(), true)
    } else {
        let bytes = trust::read_input(&args.input, MAX_MANIFEST_BYTES)?;
        let is_manifest = ModelManifest::from_json(&bytes).is_ok();
        (bytes, is_manifest)
    };
    if let Some(path) = &args.manifest_out {
        write_atomic(path, &payload).with_context(|| format!("writing {}", path.display()))?;
    }
    let bytes = if args.sigstore_bundle {
        if !is_manifest {
            bail!(
                "{}: a Sigstore bundle signs a model manifest; give a model directory or a manifest",
                args.input.display()
            );
        }
        sigstore::write_bundle(&payload, &key)?
    } else {
        // SCITT requires both claims: a statement must say who makes it and what it is about.
        let (Some(issuer), Some(subject)) = (
            args.issuer.clone().filter(|s| !s.is_empty()),
            args.subject.clone().filter(|s| !s.is_empty()),
        ) else {
            bail!("a signed statement needs --issuer and --subject (CWT iss and sub)");
        };
        let content_type = args
            .content_type
            .clone()
            .or_else(|| is_manifest.then(|| IN_TOTO_CONTENT_TYPE.to_string()));
        let spec = StatementSpec {
            issuer,
            subject,
            content_type,
            issued_at: Some(
                args.iat
                    .unwrap_or_else(modelseal::core::clock::signing_time),
            ),
            hash_envelope: args
                .hash_envelope
                .as_deref()
                .map(str::parse::<PayloadHashAlg>)
                .transpose()
                .map_err(anyhow::Error::msg)?,
            x5chain: trust::x5chain_for(args.x5chain.as_deref(), &key)?,
            kid: args.kid.as_ref().map(|k| k.as_bytes().to_vec()),
        };
        sign_statement(&key, &payload, &spec)
    };
    write_atomic(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    report(
        out,
        &args.out,
        bytes.len(),
        key.algorithm().name(),
        args.sigstore_bundle,
    );
    Ok(Outcome::Success)
}

fn report(out: &Output, path: &Path, size: usize, alg: &str, bundle: bool) {
    let kind = if bundle {
        "Sigstore bundle"
    } else {
        "signed statement"
    };
    if out.is_json() {
        #[derive(Serialize)]
        struct Signed<'a> {
            file: String,
            kind: &'a str,
            algorithm: &'a str,
            bytes: usize,
        }
        out.json(&Signed {
            file: super::output::shown_path(path),
            kind,
            algorithm: alg,
            bytes: size,
        });
    } else {
        out.info(format!(
            "wrote {} ({kind}, {alg}, {size} bytes)",
            super::output::shown_path(path)
        ));
    }
}
