//! `modelseal publish`: the publisher's one-liner — hash the model, sign its manifest as a SCITT
//! statement, push the manifest (and with `--files`, the model's files) as an artifact, attach
//! the statement as a referrer, and show the tree.

use super::Outcome;
use super::modelpack::ModelPackArgs;
use super::output::Output;
use super::signer::{self, SignerArgs};
use super::target::{TargetArgs, block_on};
use anyhow::{Context, Result};
use modelseal::core::atomic_file::write_atomic;
use modelseal::flows::{PublishRequest, publish};
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:
  modelseal publish ./my-model localhost:5000/models/my-model:v1 --key publisher.key \\
      --issuer https://publisher.example               signs sub = models/my-model:v1
  modelseal publish ./my-model localhost:5000/models/my-model:v1 --files --key publisher.key \\
      --issuer https://publisher.example --ts http://127.0.0.1:8410 --ts-key ts/service.pub -o my-model.scitt
      with the model files, registered (receipt stapled), the transparent statement kept; a re-run
      reuses what is there
  modelseal publish ./my-model --oci-layout ./layout:v1 --key dev.key --issuer dev --files
  modelseal publish ./my-model localhost:5000/models/my-model:v1 --modelpack \
      --key publisher.key --issuer https://publisher.example --param-size 8B --kind '*.bin=dataset'";

/// Hash, sign, push and attach a model in one step.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct PublishArgs {
    /// The model directory.
    model: PathBuf,
    /// Where to publish: host/repo:tag (or DIR:tag with --oci-layout).
    reference: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// Also push the model's files as layers (titled with their relative paths), so that
    /// `pull --verify` can fetch the whole model.
    #[arg(long)]
    files: bool,
    /// Publish a CNCF ModelPack artifact (one raw layer per file, `--files` implied; the signed
    /// manifest travels with the statement) instead of modelseal's model manifest artifact.
    #[arg(long = "modelpack")]
    as_modelpack: bool,
    #[command(flatten)]
    modelpack: ModelPackArgs,
    /// Also keep the statement attached (with its receipts: a transparent statement) in FILE.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: PublishArgs, out: &Output) -> Result<Outcome> {
    let signer = args.signer.load()?;
    let mut request = PublishRequest::new(
        &args.model,
        &args.reference,
        signer.key,
        &args.signer.issuer,
    );
    request.oci_layout = args.target.oci_layout;
    request.connection = args.target.connection()?;
    request.x5chain = signer.x5chain;
    request.subject = args.signer.subject;
    request.files = args.files;
    request.also_sigstore_bundle = args.signer.also_sigstore_bundle;
    args.modelpack.only_with(args.as_modelpack)?;
    if args.as_modelpack {
        request.modelpack = Some(args.modelpack.spec()?);
    }
    request.services = signer.services;
    request.service_keys = signer.service_keys;
    let report = block_on(async { Ok(publish(&request, out).await?) })?;
    if let Some(path) = &args.output {
        write_atomic(path, &report.statement)
            .with_context(|| format!("writing {}", path.display()))?;
        let receipts = modelseal::core::cose::Sign1::parse(&report.statement)
            .ok()
            .and_then(|s| s.receipts().ok())
            .map_or(0, |r| r.len());
        out.info(format!(
            "wrote the statement ({receipts} receipt(s)) to {}",
            super::output::shown_path(path)
        ));
    }
    if report.reused.bytes > 0 {
        out.info(format!(
            "{} already in the registry: not sent again",
            super::output::human_bytes(report.reused.bytes)
        ));
    }
    signer::render(out, &report.attached, &report);
    Ok(Outcome::Success)
}
