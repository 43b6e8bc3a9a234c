//! `modelseal push`: files as an OCI artifact (ORAS conventions), e.g. a model manifest.

use super::Outcome;
use super::artifact::{artifact_spec, layer_files, report};
use super::modelpack::ModelPackArgs;
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
  SOURCE_DATE_EPOCH=0 modelseal push ...                         reproducible (fixed created time)
  modelseal push --modelpack ./my-model localhost:5000/models/my-model:v1
      the model's files as a CNCF ModelPack artifact (unsigned; `seal` signs it later)";

/// Push files as an artifact: empty config, one titled layer per file.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct PushArgs {
    /// Where to push: host/repo:tag (or DIR:tag with --oci-layout).
    reference: String,
    /// Files, each optionally with its media type: FILE[:TYPE]. The title is the path as given.
    #[arg(required = true)]
    files: Vec<String>,
    /// The manifest's artifactType (what `discover --artifact-type` filters on).
    #[arg(long, default_value = media::MODEL_MANIFEST_ARTIFACT)]
    artifact_type: String,
    /// Manifest annotation KEY=VALUE (repeatable); overrides org.opencontainers.image.created.
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    /// Push a model directory as a CNCF ModelPack artifact, unsigned (`push --modelpack DIR
    /// REF`); without it, FILES as they are.
    #[arg(long = "modelpack")]
    as_modelpack: bool,
    #[command(flatten)]
    modelpack: ModelPackArgs,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    transfer: TransferArgs,
}

pub fn run(args: PushArgs, out: &Output) -> Result<Outcome> {
    args.modelpack.only_with(args.as_modelpack)?;
    if args.as_modelpack {
        if !args.annotations.is_empty() || args.artifact_type != media::MODEL_MANIFEST_ARTIFACT {
            bail!(
                "--modelpack writes the model-spec's manifest: no --annotation or --artifact-type"
            );
        }
        return model_pack(args, out);
    }
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
        let tag = tag_of(&selector)?;
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

/// `push --modelpack DIR REF`: the model hashed, and pushed as a ModelPack artifact.
fn model_pack(args: PushArgs, out: &Output) -> Result<Outcome> {
    use modelseal::core::manifest::{HashConfig, hash_model};
    use modelseal::oci::modelpack;
    let [reference] = args.files.as_slice() else {
        bail!("push --modelpack takes a model directory and a reference: DIR REF");
    };
    let model = std::path::Path::new(&args.reference);
    if !model.is_dir() {
        bail!("{}: not a model directory", model.display());
    }
    let progress = out.hashing_progress("hashing");
    let manifest = hash_model(model, &HashConfig::default(), &progress)?;
    drop(progress);
    let files = modelpack::packed_files(model, &manifest)?;
    let spec = args
        .modelpack
        .spec()?
        .completed(model, &files, &manifest.model_name);
    let created = modelseal::core::x509::format_unix_time(modelseal::core::clock::signing_time());
    let (artifact, config) = modelpack::build(&files, &spec, &created);
    block_on(async {
        let (target, selector) = args
            .target
            .open_for_transfer(reference, true, &args.transfer)
            .await?;
        let tag = tag_of(&selector)?;
        let progress = out.transfer_progress("pushing");
        let (descriptor, _) =
            modelpack::push_model_pack(&target, model, &files, &artifact, &config, tag, &progress)
                .await?;
        drop(progress);
        report(
            out,
            "Pushed",
            reference,
            &descriptor,
            modelpack::ARTIFACT_TYPE,
            Some(target.transfer_counts()),
        );
        out.transfer_summary(target.transfer_counts());
        Ok(Outcome::Success)
    })
}

/// The tag a push goes to: a tag, or none (the repository alone); never a digest.
fn tag_of(selector: &Option<Selector>) -> Result<Option<&str>> {
    match selector {
        Some(Selector::Tag(t)) => Ok(Some(t.as_str())),
        Some(Selector::Digest(_)) => {
            bail!("push to a tag (or to the repository alone), not to a digest")
        }
        None => Ok(None),
    }
}
