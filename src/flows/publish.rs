//! The publisher's one step: hash the model, sign its manifest as a SCITT statement, register
//! it with transparency services, push the manifest (and optionally the model's files) as an
//! artifact, and attach the statement as a referrer.

use super::register::{RegisterRequest, Registration, Service, register};
use super::{FlowError, Progress, Step};
use crate::core::crypto::{PrivateKey, PublicKey};
use crate::core::manifest::{HashConfig, ModelManifest, Serialization, hash_model};
use crate::core::policy::ArtifactRef;
use crate::core::signed_statement::{IN_TOTO_CONTENT_TYPE, StatementSpec, sign_statement};
use crate::oci::manifest::Descriptor;
use crate::oci::media;
use crate::oci::modelpack::{self, ModelPackSpec};
use crate::oci::open::open;
use crate::oci::ops::{ArtifactSpec, LayerFile, ReferrerNode, discover, push_artifact};
use crate::oci::reference::Selector;
use crate::oci::registry::Connection;
use crate::oci::target::Quiet;
use crate::oci::{ReadTarget, Target};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The title the model manifest layer gets.
pub const MANIFEST_TITLE: &str = "model-manifest.json";
/// The title of the statement layer of the referrer.
pub const STATEMENT_TITLE: &str = "statement.scitt";

/// What to publish, signed by whom, to where.
pub struct PublishRequest {
    /// The model directory.
    pub model: PathBuf,
    /// `host/repo:tag`, or `DIR:tag` with `oci_layout` (made if missing).
    pub reference: String,
    /// `reference` is an OCI image layout directory.
    pub oci_layout: bool,
    /// How to reach the registry (default: the Docker config's credentials).
    pub connection: Connection,
    /// The publisher's signing key.
    pub key: PrivateKey,
    /// The statement's CWT `iss`.
    pub issuer: String,
    /// DER certificates, leaf first (the leaf for `key`), for the protected header's x5chain.
    pub x5chain: Vec<Vec<u8>>,
    /// The statement's CWT `sub`; `None`: `{repository}:{tag}` of `reference` (for a layout,
    /// the directory's name), which a policy's `sub = "{repository}:{tag}"` binds to.
    pub subject: Option<String>,
    /// Also push the model's files as layers (titled with their relative paths).
    pub files: bool,
    /// Transparency services to register the statement with; their receipts are stapled.
    pub services: Vec<Service>,
    /// Pinned keys of the SCRAPI services.
    pub service_keys: Vec<PublicKey>,
    /// The statement's `iat` and the artifacts' creation time (unix seconds); `None`:
    /// [`signing_time`](crate::core::clock::signing_time) (`SOURCE_DATE_EPOCH` when set).
    pub time: Option<i64>,
    /// Push the model as a CNCF ModelPack artifact (one raw layer per file, the config these
    /// say) instead of a model manifest artifact; the statement's referrer then carries the
    /// signed manifest beside the statement. `files` is implied.
    pub modelpack: Option<ModelPackSpec>,
    /// Also attach a Sigstore bundle in cosign's referrer shape: the model manifest as an
    /// in-toto attestation of the pushed manifest's digest, signed with `key` (ECDSA only).
    pub also_sigstore_bundle: bool,
}

impl PublishRequest {
    /// A request with the defaults: no x5chain, subject from the reference, the manifest
    /// only, no transparency service, the signing time.
    pub fn new(
        model: impl Into<PathBuf>,
        reference: impl Into<String>,
        key: PrivateKey,
        issuer: impl Into<String>,
    ) -> Self {
        PublishRequest {
            model: model.into(),
            reference: reference.into(),
            oci_layout: false,
            connection: Connection::default(),
            key,
            issuer: issuer.into(),
            x5chain: Vec::new(),
            subject: None,
            files: false,
            services: Vec::new(),
            service_keys: Vec::new(),
            time: None,
            modelpack: None,
            also_sigstore_bundle: false,
        }
    }
}

/// A statement signed over a model and attached to its artifact: what `publish` and `seal` both
/// report.
#[derive(Clone, Debug, Serialize)]
pub struct Attached {
    /// The reference published to, or sealed.
    pub reference: String,
    /// The artifact's manifest digest (the statement's referrer's subject).
    pub digest: String,
    /// The artifact as its target names it (`host/repo@digest`, or the layout's).
    pub name: String,
    /// The statement's CWT `sub`.
    pub subject: String,
    /// The artifact's referrers after the attach (the statement among them).
    #[serde(rename = "manifests")]
    pub referrers: Vec<ReferrerNode>,
    /// How each transparency service registered the statement.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registrations: Vec<Registration>,
    /// The signed model manifest.
    #[serde(skip)]
    pub manifest: ModelManifest,
}

/// What was published: the attached statement, and what a re-run found already done.
#[derive(Clone, Debug, Serialize)]
pub struct PublishReport {
    /// The artifact and its statement.
    #[serde(flatten)]
    pub attached: Attached,
    /// What an earlier run had left that this one used instead of doing it again.
    pub reused: Reused,
    /// The transparent statement attached (receipts stapled).
    #[serde(skip)]
    pub statement: Vec<u8>,
}

/// What `publish` found already done (a re-run) and did not do again.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Reused {
    /// The tag already named this artifact (same layers): nothing was pushed.
    pub artifact: bool,
    /// A statement over the same manifest by the same key was already attached: not signed
    /// nor registered again.
    pub statement: bool,
    /// Blob bytes the registry already had, not sent again.
    pub bytes: u64,
}

/// Hashes, signs, registers, pushes and attaches a model.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use modelseal::core::crypto::{Algorithm, PrivateKey};
/// use modelseal::flows::{PublishRequest, Silent, publish};
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("model"))?;
/// std::fs::write(dir.path().join("model/weights.bin"), b"weights")?;
/// let key = PrivateKey::generate(Algorithm::ES256)?;
/// let mut request = PublishRequest::new(
///     dir.path().join("model"),
///     format!("{}:v1", dir.path().join("layout").display()),
///     key,
///     "https://publisher.example",
/// );
/// request.oci_layout = true;
/// let report = tokio::runtime::Runtime::new()?.block_on(publish(&request, &Silent))?;
/// assert!(report.attached.digest.starts_with("sha256:"));
/// assert_eq!(report.attached.referrers.len(), 1);
/// # Ok(()) }
/// ```
pub async fn publish(
    request: &PublishRequest,
    progress: &dyn Progress,
) -> Result<PublishReport, FlowError> {
    if !request.model.exists() {
        return Err(FlowError::Manifest(
            crate::core::manifest::ManifestError::NotFound {
                path: request.model.clone(),
            },
        ));
    }
    if !request.model.is_dir() {
        return Err(FlowError::NotAModel(request.model.clone()));
    }
    let subject = match &request.subject {
        Some(s) => s.clone(),
        None => {
            let r = ArtifactRef::parse(&request.reference, request.oci_layout);
            let Some(tag) = &r.tag else {
                return Err(FlowError::NeedTag(request.reference.clone()));
            };
            format!("{}:{tag}", r.repository())
        }
    };
    let time = request
        .time
        .unwrap_or_else(crate::core::clock::signing_time);

    progress.step(Step::Hashing);
    let manifest = {
        let bar = progress.hashing();
        hash_model(&request.model, &HashConfig::default(), bar.as_ref())?
    };
    let created = crate::core::x509::format_unix_time(time);
    // A ModelPack artifact is built before signing: the signed manifest is the one its raw
    // layers stand for ([`modelpack::model_manifest_of`]), which every verifier derives again.
    let pack = match &request.modelpack {
        Some(spec) => {
            let files = modelpack::packed_files(&request.model, &manifest)?;
            let spec = spec.completed(&request.model, &files, &manifest.model_name);
            let (artifact, config) = modelpack::build(&files, &spec, &created);
            let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            crate::oci::stage::title_paths(&paths, false)
                .map_err(|e| FlowError::Titles(format!("{e}: nothing was published")))?;
            Some((files, artifact, config))
        }
        None => None,
    };
    let manifest = match &pack {
        Some((_, artifact, _)) => modelpack::model_manifest_of(artifact, &manifest.model_name)?,
        None => manifest,
    };
    let manifest_bytes = manifest.to_json();
    // Refused before anything is signed or pushed: two layers with one title (a model that
    // holds its own model-manifest.json), or titles `pull` would refuse.
    let files = if request.files && pack.is_none() {
        model_files(&request.model, &manifest)?
    } else {
        Vec::new()
    };
    check_titles(&files)?;

    let spec = StatementSpec {
        issuer: request.issuer.clone(),
        subject: subject.clone(),
        content_type: Some(IN_TOTO_CONTENT_TYPE.into()),
        issued_at: Some(time),
        x5chain: request.x5chain.clone(),
        ..StatementSpec::default()
    };
    // The bundle's key must be one it can sign with: refused before anything moves.
    if request.also_sigstore_bundle {
        crate::core::sigstore::attestation::check_key(&request.key)?;
    }

    let scratch = tempfile::tempdir().map_err(|e| FlowError::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let manifest_path = scratch.path().join(MANIFEST_TITLE);
    std::fs::write(&manifest_path, &manifest_bytes).map_err(|e| FlowError::Io {
        path: manifest_path.clone(),
        source: e,
    })?;
    let mut layers = vec![LayerFile {
        path: manifest_path,
        title: MANIFEST_TITLE.into(),
        media_type: media::IN_TOTO_LAYER.into(),
        digest: None,
    }];
    layers.extend(files);

    let (target, selector) = open(
        &request.reference,
        request.oci_layout,
        &request.connection,
        true,
    )
    .await?;
    let Some(Selector::Tag(tag)) = selector else {
        return Err(FlowError::NeedTag(request.reference.clone()));
    };
    // A re-run (after a cut, or to add a receipt) finds what the last run left under the tag:
    // the same artifact is not pushed again, and a statement over the same manifest by the same
    // key is not signed nor registered again (a second log entry for one release is noise).
    let prior = target.resolve(&Selector::Tag(tag.clone())).await.ok();
    let mut reused_statement = None;
    if let Some(prior) = &prior {
        reused_statement =
            statement_over(&target, prior, &manifest_bytes, &request.key, &spec).await;
    }
    // Signed now (a wrong key fails before anything moves), registered only once the artifact
    // is in place: a registry that is down must not leave a log entry for an artifact nobody
    // can fetch.
    let signed = match &reused_statement {
        Some(found) => {
            progress.step(Step::Reused {
                receipts: found.receipts,
            });
            found.bytes.clone()
        }
        None => {
            progress.step(Step::Signing);
            sign_statement(&request.key, &manifest_bytes, &spec)
        }
    };

    let same_artifact = match (&prior, &pack) {
        (Some(prior), None) => same_artifact(&target, prior, &layers)
            .await
            .then(|| prior.clone()),
        _ => None,
    };
    let pushed: Descriptor = match same_artifact.clone() {
        Some(prior) => {
            progress.step(Step::AlreadyPushed);
            prior
        }
        None => {
            progress.step(Step::Pushing {
                files: request.files || pack.is_some(),
            });
            let bars = progress.transfer("pushing");
            match &pack {
                Some((files, artifact, config)) => {
                    modelpack::push_model_pack(
                        &target,
                        &request.model,
                        files,
                        artifact,
                        config,
                        Some(&tag),
                        bars.as_ref(),
                    )
                    .await?
                    .0
                }
                None => {
                    let artifact = ArtifactSpec {
                        artifact_type: media::MODEL_MANIFEST_ARTIFACT.into(),
                        created: created.clone(),
                        ..Default::default()
                    };
                    push_artifact(&target, &layers, &artifact, Some(&tag), bars.as_ref())
                        .await?
                        .0
                }
            }
        }
    };

    let reused_bytes = target.transfer_counts().reused;
    // A reused statement with receipts keeps them; one without is registered now (the same
    // bytes: a service that logged it before answers with its first entry).
    let (statement, registrations) = match &reused_statement {
        Some(found) if found.receipts > 0 => (signed, Vec::new()),
        _ => register_signed(signed, &request.services, &request.service_keys, progress).await?,
    };

    let already_attached = same_artifact.is_some()
        && reused_statement
            .as_ref()
            .is_some_and(|found| found.bytes == statement);
    let mut referrers = if already_attached {
        progress.step(Step::AlreadyAttached);
        discover(&target, &pushed, None, 1).await?
    } else {
        progress.step(Step::Attaching);
        // A ModelPack artifact has no room for it: the signed manifest travels with the
        // statement (and a verifier checks it against the artifact's layers).
        let carried = pack.is_some().then_some(manifest_bytes.as_slice());
        attach_statement(&target, &pushed, &statement, carried, &created).await?
    };
    // A re-run finds the bundle it attached before (the same bytes under SOURCE_DATE_EPOCH;
    // another one otherwise, which is harmless).
    let has_bundle = referrers
        .iter()
        .any(|r| r.artifact_type == crate::oci::media::SIGSTORE_BUNDLE_ARTIFACT);
    if request.also_sigstore_bundle && !(already_attached && has_bundle) {
        referrers = super::sigstore_bundle::attach_sigstore_bundle(
            &target,
            &pushed,
            (&request.reference, request.oci_layout),
            &manifest,
            &request.key,
            &created,
        )
        .await?;
    }
    Ok(PublishReport {
        attached: Attached {
            reference: request.reference.clone(),
            name: target.name_of(&pushed.digest),
            digest: pushed.digest,
            subject,
            referrers,
            registrations,
            manifest,
        },
        reused: Reused {
            artifact: same_artifact.is_some(),
            statement: reused_statement.is_some(),
            bytes: reused_bytes,
        },
        statement,
    })
}

/// A statement already attached to `artifact` that can stand for a new one: over exactly
/// `manifest`, signed by `key`, with the claims and x5chain `spec` asks for.
struct FoundStatement {
    bytes: Vec<u8>,
    receipts: usize,
}

async fn statement_over<T: Target>(
    target: &T,
    artifact: &Descriptor,
    manifest: &[u8],
    key: &PrivateKey,
    spec: &StatementSpec,
) -> Option<FoundStatement> {
    let public = key.public_key();
    let mut best: Option<FoundStatement> = None;
    let referrers = target.referrers(artifact, None).await.ok()?;
    for r in referrers
        .iter()
        .filter(|r| {
            r.artifact_type
                .as_deref()
                .is_some_and(media::is_scitt_statement)
        })
        .take(crate::oci::ops::MAX_REFERRERS_PER_MANIFEST)
    {
        let Ok(bytes) = crate::oci::documents::statement_bytes(target, artifact, r).await else {
            continue;
        };
        let Ok(sign1) = crate::core::cose::Sign1::parse(&bytes) else {
            continue;
        };
        let claims = sign1.claims().ok();
        let fits = sign1.payload() == Some(manifest)
            && sign1.verify_signature(&public, None).is_ok()
            && claims.as_ref().and_then(|c| c.iss.as_deref()) == Some(spec.issuer.as_str())
            && claims.as_ref().and_then(|c| c.sub.as_deref()) == Some(spec.subject.as_str())
            && sign1.x5chain().unwrap_or_default() == spec.x5chain;
        if !fits {
            continue;
        }
        let receipts = sign1.receipts().map(|r| r.len()).unwrap_or(0);
        if best.as_ref().is_none_or(|b| receipts > b.receipts) {
            best = Some(FoundStatement { bytes, receipts });
        }
    }
    best
}

/// Whether `artifact` is a model manifest artifact with exactly these layers (titles, media
/// types and digests): only its creation time could differ from a new push. A layer's digest is
/// the one it carries (the model manifest's, see `model_files`), so the model is not read
/// again; a layer without one is hashed.
async fn same_artifact<T: Target>(target: &T, artifact: &Descriptor, layers: &[LayerFile]) -> bool {
    let Ok(m) = crate::oci::documents::manifest_of(target, artifact).await else {
        return false;
    };
    if m.artifact_type.as_deref() != Some(media::MODEL_MANIFEST_ARTIFACT)
        || m.layers.len() != layers.len()
        || m.subject.is_some()
    {
        return false;
    }
    // Each layer is checked by digest: a re-run must replace an artifact whose layers are not
    // the model as it is now, not keep it.
    for (have, want) in m.layers.iter().zip(layers) {
        let title = have.annotations.get(media::ANNOTATION_TITLE);
        if title != Some(&want.title) || have.media_type != want.media_type {
            return false;
        }
        let (digest, size) = match &want.digest {
            Some(digest) => match std::fs::metadata(&want.path) {
                Ok(meta) => (digest.clone(), meta.len()),
                Err(_) => return false,
            },
            None => match crate::oci::ops::describe_file(&want.path, &want.media_type) {
                Ok(d) => (d.digest, d.size),
                Err(_) => return false,
            },
        };
        if digest != have.digest || size != have.size {
            return false;
        }
    }
    true
}

/// Signs `manifest` as a SCITT statement and registers it with `services` (receipts stapled):
/// the statement, and how each service registered it.
pub(super) async fn sign_and_register(
    key: &PrivateKey,
    manifest: &[u8],
    spec: &StatementSpec,
    services: &[Service],
    service_keys: &[PublicKey],
    progress: &dyn Progress,
) -> Result<(Vec<u8>, Vec<Registration>), FlowError> {
    progress.step(Step::Signing);
    let statement = sign_statement(key, manifest, spec);
    register_signed(statement, services, service_keys, progress).await
}

/// Registers a signed statement with `services` (receipts stapled); none: the statement as it
/// is.
async fn register_signed(
    statement: Vec<u8>,
    services: &[Service],
    service_keys: &[PublicKey],
    progress: &dyn Progress,
) -> Result<(Vec<u8>, Vec<Registration>), FlowError> {
    if services.is_empty() {
        return Ok((statement, Vec::new()));
    }
    progress.step(Step::Registering);
    let registered = register(
        &RegisterRequest {
            statement,
            services: services.to_vec(),
            service_keys: service_keys.to_vec(),
        },
        progress,
    )
    .await?;
    Ok((registered.statement, registered.registrations))
}

/// Attaches `statement` to `subject` as a statement referrer (transparent with receipts,
/// signed without), with `manifest` (the
/// signed model manifest) beside it when given; returns the subject's referrers after.
pub(super) async fn attach_statement<T: Target>(
    target: &T,
    subject: &Descriptor,
    statement: &[u8],
    manifest: Option<&[u8]>,
    created: &str,
) -> Result<Vec<ReferrerNode>, FlowError> {
    let scratch = tempfile::tempdir().map_err(|e| FlowError::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let mut layers = Vec::new();
    for (bytes, title, media_type) in [
        (
            Some(statement),
            STATEMENT_TITLE,
            media::SCITT_STATEMENT_LAYER,
        ),
        (manifest, MANIFEST_TITLE, media::IN_TOTO_LAYER),
    ] {
        let Some(bytes) = bytes else { continue };
        let path = scratch.path().join(title);
        std::fs::write(&path, bytes).map_err(|e| FlowError::Io {
            path: path.clone(),
            source: e,
        })?;
        layers.push(LayerFile {
            path,
            title: title.into(),
            media_type: media_type.into(),
            digest: None,
        });
    }
    // Labelled by what it is: a statement without receipts is no transparent statement.
    let receipts = crate::core::cose::Sign1::parse(statement)?
        .receipts()
        .map_or(0, |r| r.len());
    let referrer = ArtifactSpec {
        artifact_type: media::statement_artifact_type(receipts).into(),
        created: created.into(),
        subject: Some(subject.clone()),
        ..Default::default()
    };
    push_artifact(target, &layers, &referrer, None, &Quiet).await?;
    Ok(discover(target, subject, None, 1).await?)
}

/// The model's files as layers, titled with the relative paths the manifest names, each with
/// the digest the manifest holds for it when that is its layer's (files serialization,
/// sha256): a file is read once per publish, not hashed again for its layer.
fn model_files(model: &Path, manifest: &ModelManifest) -> Result<Vec<LayerFile>, FlowError> {
    let whole_file_digests: std::collections::HashMap<&str, String> =
        if manifest.serialization.method == Serialization::Files {
            manifest
                .resources
                .iter()
                .filter(|r| r.algorithm == "sha256")
                .map(|r| {
                    (
                        r.name.as_str(),
                        format!("sha256:{}", hex::encode(&r.digest)),
                    )
                })
                .collect()
        } else {
            Default::default()
        };
    let mut names: Vec<&str> = manifest
        .resources
        .iter()
        .map(|r| r.file_name(manifest.serialization.method))
        .collect();
    names.dedup();
    if manifest.serialization.method != Serialization::Files && names.is_empty() {
        return Err(FlowError::Titles("no files to push".into()));
    }
    Ok(names
        .into_iter()
        .map(|n| LayerFile {
            path: model.join(n),
            title: n.to_string(),
            media_type: media::MODEL_FILE_LAYER.into(),
            digest: whole_file_digests.get(n).cloned(),
        })
        .collect())
}

/// The layer titles as `pull` will check them: none may be the manifest's own title, none may
/// appear twice, none be a directory of another.
fn check_titles(files: &[LayerFile]) -> Result<(), FlowError> {
    let mut titles = vec![MANIFEST_TITLE];
    titles.extend(files.iter().map(|f| f.title.as_str()));
    let Err(e) = crate::oci::stage::title_paths(&titles, false) else {
        return Ok(());
    };
    let own_manifest = files.iter().any(|f| {
        Path::new(&f.title)
            .components()
            .eq(Path::new(MANIFEST_TITLE).components())
    });
    Err(FlowError::Titles(if own_manifest {
        format!(
            "the model has its own {MANIFEST_TITLE}, which would be published as a second layer \
             titled {MANIFEST_TITLE} beside the signed manifest (pull keeps only one of them): \
             rename or remove it from the model"
        )
    } else {
        format!("{e}: nothing was published")
    }))
}
