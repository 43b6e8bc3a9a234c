//! `modelseal attach`: a referrer artifact (e.g. a transparent statement) whose `subject` is REF.

use super::Outcome;
use super::artifact::{artifact_spec, layer_files, report};
use super::output::Output;
use super::target::{TargetArgs, block_on, require_selector};
use anyhow::Result;
use modelseal::oci::ReadTarget;
use modelseal::oci::media;
use modelseal::oci::ops::push_artifact;

const EXAMPLES: &str = "Examples:
  modelseal attach localhost:5000/models/tiny:v1 model.scitt
      a statement (application/scitt-statement+cose): scitt/transparent-statement with receipts,
      scitt/signed-statement without
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
    /// Default: scitt/transparent-statement, or scitt/signed-statement when the first file is a
    /// COSE statement without receipts.
    #[arg(long)]
    artifact_type: Option<String>,
    /// A manifest annotation (repeatable).
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: AttachArgs, out: &Output) -> Result<Outcome> {
    let files = layer_files(&args.files, media::DEFAULT_LAYER)?;
    let artifact_type = match &args.artifact_type {
        Some(t) => t.clone(),
        None => statement_type(&files[0].path).to_string(),
    };
    let default_type = if media::is_scitt_statement(&artifact_type) {
        media::SCITT_STATEMENT_LAYER
    } else if media::is_sigstore_bundle(&artifact_type) {
        artifact_type.as_str()
    } else {
        media::DEFAULT_LAYER
    };
    let files = layer_files(&args.files, default_type)?;
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, false).await?;
        let subject = target
            .resolve(&require_selector(selector, &args.reference)?)
            .await?;
        let spec = artifact_spec(&artifact_type, &args.annotations, Some(subject))?;
        let progress = out.transfer_progress("pushing");
        let (descriptor, _) = push_artifact(&target, &files, &spec, None, &progress).await?;
        drop(progress);
        report(
            out,
            "Attached to",
            &args.reference,
            &descriptor,
            &artifact_type,
            None,
        );
        Ok(Outcome::Success)
    })
}

/// The artifact type a statement file is attached as by default: a transparent statement when
/// it carries receipts (or is not a statement we can read), a signed statement when it has none.
fn statement_type(path: &std::path::Path) -> &'static str {
    let receipts = super::trust::read_input(path, modelseal::core::cose::MAX_COSE_BYTES as u64)
        .ok()
        .and_then(|bytes| modelseal::core::cose::Sign1::parse(&bytes).ok())
        .and_then(|s| s.receipts().ok())
        .map(|r| r.len());
    match receipts {
        Some(n) => media::statement_artifact_type(n),
        None => media::TRANSPARENT_STATEMENT_ARTIFACT,
    }
}
