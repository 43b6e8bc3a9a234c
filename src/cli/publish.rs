//! `modelseal publish`: the publisher's one-liner — hash the model, sign its manifest as a SCITT
//! statement, push the manifest (and with `--files`, the model's files) as an artifact, attach
//! the statement as a referrer, and show the tree.

use super::Outcome;
use super::output::Output;
use super::target::{TargetArgs, block_on};
use super::trust;
use anyhow::{Context, Result, bail};
use modelseal::core::manifest::Serialization;
use modelseal::core::signed_statement::{IN_TOTO_CONTENT_TYPE, StatementSpec, sign_statement};
use modelseal::oci::Target;
use modelseal::oci::media;
use modelseal::oci::ops::{ArtifactSpec, LayerFile, discover, push_artifact};
use modelseal::oci::reference::Selector;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "Examples:
  modelseal publish ./my-model localhost:5000/models/my-model:v1 --key publisher.key \\
      --issuer https://publisher.example               signs sub = models/my-model:v1
  modelseal publish ./my-model --oci-layout ./layout:v1 --key dev.key --issuer dev --files";

/// The title the model manifest layer gets (the seed's file name, without its `../`).
const MANIFEST_TITLE: &str = "model-manifest.json";

/// Hash, sign, push and attach a model in one step.
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct PublishArgs {
    /// The model directory.
    model: PathBuf,
    /// Where to publish: host/repo:tag (or DIR:tag with --oci-layout).
    reference: String,
    /// The publisher's private key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The statement's CWT iss: who publishes.
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// The statement's CWT sub. Default: `{repository}:{tag}` of REFERENCE (for a layout, the
    /// directory's name), which a policy's `sub = "{repository}:{tag}"` binds to.
    #[arg(long, value_name = "SUB")]
    subject: Option<String>,
    /// Also push the model's files as layers (titled with their relative paths), so that
    /// `pull --verify` can fetch the whole model.
    #[arg(long)]
    files: bool,
    /// Register the statement with a transparency service and staple its receipt
    /// (`local:DIR` for an embedded log). Repeatable.
    #[arg(long = "ts", value_name = "SERVICE")]
    services: Vec<String>,
    /// Pinned key(s) of URL transparency services.
    #[arg(long, value_name = "FILE")]
    ts_key: Vec<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: PublishArgs, out: &Output) -> Result<Outcome> {
    if !args.model.is_dir() {
        bail!("{}: not a model directory", args.model.display());
    }
    let key = trust::private_key(&args.key)?;
    let subject = match &args.subject {
        Some(s) => s.clone(),
        None => {
            let r = modelseal::core::policy::ArtifactRef::parse(
                &args.reference,
                args.target.oci_layout,
            );
            let Some(tag) = &r.tag else {
                bail!("{}: give a tag (or --subject)", args.reference);
            };
            format!("{}:{tag}", r.repository())
        }
    };
    out.info("== 1/4 hashing the model");
    let manifest = super::hash::default_manifest(&args.model, None, out)?;
    let manifest_bytes = manifest.to_json();
    // Refused before anything is signed or pushed: two layers with one title (a model that holds
    // its own model-manifest.json), or titles `pull` would refuse.
    let files = if args.files {
        model_files(&args.model, &manifest)?
    } else {
        Vec::new()
    };
    check_titles(&files)?;
    out.info("== 2/4 signing its manifest (SCITT signed statement)");
    let spec = StatementSpec {
        issuer: args.issuer.clone(),
        subject: subject.clone(),
        content_type: Some(IN_TOTO_CONTENT_TYPE.into()),
        issued_at: Some(trust::now()),
        ..StatementSpec::default()
    };
    let mut statement = sign_statement(&key, &manifest_bytes, &spec);
    if !args.services.is_empty() {
        out.info("== 2b registering with the transparency service(s)");
        let pinned = trust::public_keys(&args.ts_key)?;
        statement = super::ts::register_with(&statement, &args.services, &pinned, out)?;
    }
    let scratch = tempfile::tempdir().context("making a scratch directory")?;
    let manifest_path = scratch.path().join(MANIFEST_TITLE);
    let statement_path = scratch.path().join("statement.scitt");
    std::fs::write(&manifest_path, &manifest_bytes)?;
    std::fs::write(&statement_path, &statement)?;
    let mut layers = vec![LayerFile {
        path: manifest_path,
        title: MANIFEST_TITLE.into(),
        media_type: media::IN_TOTO_LAYER.into(),
    }];
    layers.extend(files);
    let created = modelseal::core::x509::format_unix_time(trust::now());
    block_on(async {
        let (target, selector) = args.target.open(&args.reference, true).await?;
        let tag = match &selector {
            Some(Selector::Tag(t)) => Some(t.clone()),
            _ => bail!("{}: publish to a tag (…:v1)", args.reference),
        };
        out.info(format!(
            "== 3/4 pushing the manifest{}",
            if args.files {
                " and the model files"
            } else {
                ""
            }
        ));
        let progress = out.transfer_progress("pushing");
        let artifact = ArtifactSpec {
            artifact_type: media::MODEL_MANIFEST_ARTIFACT.into(),
            created: created.clone(),
            ..Default::default()
        };
        let (subject, _) =
            push_artifact(&target, &layers, &artifact, tag.as_deref(), &progress).await?;
        drop(progress);
        out.info("== 4/4 attaching the statement");
        let referrer = ArtifactSpec {
            artifact_type: media::TRANSPARENT_STATEMENT_ARTIFACT.into(),
            created,
            subject: Some(subject.clone()),
            ..Default::default()
        };
        let statement_layer = LayerFile {
            path: statement_path.clone(),
            title: "statement.scitt".into(),
            media_type: media::SCITT_STATEMENT_LAYER.into(),
        };
        let quiet = modelseal::oci::target::Quiet;
        push_artifact(&target, &[statement_layer], &referrer, None, &quiet).await?;
        let tree = discover(&target, &subject, None, 1).await?;
        if out.is_json() {
            out.json(&serde_json::json!({"reference": args.reference, "digest": subject.digest, "manifests": tree}));
        } else {
            println!("{}", target.name_of(&subject.digest));
            for (i, n) in tree.iter().enumerate() {
                println!(
                    "{} {} {}",
                    if i + 1 == tree.len() {
                        "└──"
                    } else {
                        "├──"
                    },
                    n.artifact_type,
                    n.digest
                );
            }
        }
        Ok(Outcome::Success)
    })
}

/// The model's files as layers, titled with the relative paths the manifest names.
fn model_files(
    model: &Path,
    manifest: &modelseal::core::manifest::ModelManifest,
) -> Result<Vec<LayerFile>> {
    let mut names: Vec<&str> = manifest
        .resources
        .iter()
        .map(|r| r.file_name(manifest.serialization.method))
        .collect();
    names.dedup();
    if manifest.serialization.method != Serialization::Files && names.is_empty() {
        bail!("no files to push");
    }
    Ok(names
        .into_iter()
        .map(|n| LayerFile {
            path: model.join(n),
            title: n.to_string(),
            media_type: "application/octet-stream".into(),
        })
        .collect())
}

/// The layer titles as `pull` will check them: none may be the manifest's own title, none may
/// appear twice, none be a directory of another.
fn check_titles(files: &[LayerFile]) -> Result<()> {
    let mut titles = vec![MANIFEST_TITLE];
    titles.extend(files.iter().map(|f| f.title.as_str()));
    if let Err(e) = modelseal::oci::stage::title_paths(&titles, false) {
        if files.iter().any(|f| {
            Path::new(&f.title)
                .components()
                .eq(Path::new(MANIFEST_TITLE).components())
        }) {
            bail!(
                "the model has its own {MANIFEST_TITLE}, which would be published as a second layer \
                 titled {MANIFEST_TITLE} beside the signed manifest (pull keeps only one of them): \
                 rename or remove it from the model"
            );
        }
        bail!("{e}: nothing was published");
    }
    Ok(())
}
