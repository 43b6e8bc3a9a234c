//! `modelseal push`: files as an OCI artifact (ORAS conventions), e.g. a model manifest.

use super::Outcome;
use super::artifact::{artifact_spec, layer_files, report};
use super::output::Output;
use super::target::{TargetArgs, TransferArgs, block_on};
use anyhow::{Result, bail};
use modelseal::oci::media;
use modelseal::oci::ops::push_artifact;
use modelseal::oci::reference::Selector;

const EXAMPLES: &str = "Examples:
  modelseal push localhost:5000/models/tiny:v1 manifest.json
      the model manifest as an in-toto/model-manifest artifact (layer application/vnd.in-toto+json)
  modelseal push --oci-layout ./layout:v1 manifest.json          the same into a local OCI layout
  modelseal push ghcr.io/org/model:v1 weights.bin:application/octet-stream --artifact-type example/weights
  SOURCE_DATE_EPOCH=0 modelseal push ...                         reproducible (fixed created time)";

/// Push files as an artifact: empty config, one titled layer per file.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct PushArgs {
    /// Where to push: host/repo:tag (or DIR:tag with --oci-layout).
    reference: String,
    /// Files, each optionally with its media type: FILE[:TYPE]. The title is the path as given.
    #[arg(required = true)]
    files: Vec<String>,
    #[arg(long, default_value = media::MODEL_MANIFEST_ARTIFACT)]
    artifact_type: String,
    /// Manifest annotation KEY=VALUE (repeatable); overrides org.opencontainers.image.created.
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    transfer: TransferArgs,
}

pub fn run(args: PushArgs, out: &Output) -> Result<Outcome> {
    let default_type = if args.artifact_type == media::MODEL_MANIFEST_ARTIFACT {
        media::IN_TOTO_LAYER
    } else {
        media::DEFAULT_LAYER
    };
    let files = layer_files(&args.files, default_type)?;
    let spec = artifact_spec(&args.artifact_type, &args.annotations, None)?;
    block_on(async {
        let (target, selector) = args
            .target
            .open_for_transfer(&args.reference, true, &args.transfer)
            .await?;
        let tag = match &selector {
            Some(Selector::Tag(t)) => Some(t.as_str()),
            Some(Selector::Digest(_)) => {
                bail!("push to a tag (or to the repository alone), not to a digest")
            }
            None => None,
        };
        let progress = out.transfer_progress("pushing");
        let (descriptor, _) = push_artifact(&target, &files, &spec, tag, &progress).await?;
        drop(progress);
        report(
            out,
            "Pushed",
            &args.reference,
            &descriptor,
            &args.artifact_type,
            Some(target.transfer_counts()),
        );
        out.transfer_summary(target.transfer_counts());
        Ok(Outcome::Success)
    })
}
