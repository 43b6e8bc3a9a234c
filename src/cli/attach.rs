//! `modelseal attach`: a referrer artifact (e.g. a transparent statement) whose `subject` is REF.

use super::Outcome;
use super::artifact::{artifact_spec, layer_files, report};
use super::output::Output;
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::oci::Target;
use modelseal::oci::media;
use modelseal::oci::ops::push_artifact;

const EXAMPLES: &str = "Examples:
  modelseal attach localhost:5000/models/tiny:v1 model.scitt
      a transparent statement (scitt/transparent-statement, application/scitt-statement+cose)
  modelseal attach --oci-layout ./layout:v1 model.scitt
  modelseal attach ghcr.io/org/model@sha256:… sbom.json:application/spdx+json --artifact-type example/sbom";

/// Attach files to REF as a referrer (OCI 1.1 `subject`).
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct AttachArgs {
    /// The artifact to attach to: host/repo:tag|@digest (or DIR:tag|@digest with --oci-layout).
    reference: String,
    /// The files to attach, each `PATH[:MEDIA_TYPE]`, one layer each (titled with the path).
    #[arg(required = true)]
    files: Vec<String>,
    /// The referrer's artifactType; a Sigstore bundle type gives its file the bundle layer type.
    #[arg(long, default_value = media::TRANSPARENT_STATEMENT_ARTIFACT)]
    artifact_type: String,
    /// A manifest annotation (repeatable).
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: AttachArgs, out: &Output) -> Result<Outcome> {
    let default_type = if media::is_scitt_statement(&args.artifact_type) {
        media::SCITT_STATEMENT_LAYER
    } else if media::is_sigstore_bundle(&args.artifact_type) {
        args.artifact_type.as_str()
    } else {
        media::DEFAULT_LAYER
    };
    let files = layer_files(&args.files, default_type)?;
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, false).await?;
        let subject = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
        let spec = artifact_spec(&args.artifact_type, &args.annotations, Some(subject))?;
        let progress = out.transfer_progress("pushing");
        let (descriptor, _) = push_artifact(&target, &files, &spec, None, &progress).await?;
        drop(progress);
        report(
            out,
            "Attached to",
            &args.reference,
            &descriptor,
            &args.artifact_type,
            None,
        );
        Ok(Outcome::Success)
    })
}
