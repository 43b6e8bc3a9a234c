//! Seal a model artifact in place: a ModelPack (or KitOps) artifact that another tool pushed is
//! hashed from its raw layers' descriptors — a raw layer's digest *is* its file's SHA-256, the
//! digest model-signing's `files` manifest records — signed, registered and attached as a
//! referrer, without downloading a byte of the model.

use super::publish::{attach_statement, sign_and_register};
use super::register::Service;
use super::{FlowError, Progress, Step};
use crate::core::cose::PayloadHashAlg;
use crate::core::crypto::{PrivateKey, PublicKey};
use crate::core::manifest::ModelManifest;
use crate::core::policy::ArtifactRef;
use crate::core::signed_statement::{IN_TOTO_CONTENT_TYPE, StatementSpec};
use crate::oci::ReadTarget;
use crate::oci::documents::manifest_of;
use crate::oci::manifest::Descriptor;
use crate::oci::modelpack::model_manifest_of;
use crate::oci::open::{AnyTarget, open};
use crate::oci::registry::Connection;

/// An artifact that holds a model's files as layers.
#[derive(Clone, Debug, Default)]
pub struct ModelArtifact {
    /// `host/repo:tag|@digest`, or `DIR:tag|@digest` with `oci_layout`.
    pub reference: String,
    /// `reference` is an OCI image layout directory.
    pub oci_layout: bool,
    /// How to reach the registry (default: the Docker config's credentials).
    pub connection: Connection,
    /// The manifest's model name; `None`: the repository's last path segment (a layout: its
    /// directory's name), as `hash DIR` names a model by its directory.
    pub model_name: Option<String>,
}

impl ModelArtifact {
    async fn open(&self) -> Result<(AnyTarget, Descriptor, ArtifactRef), FlowError> {
        let (target, selector) =
            open(&self.reference, self.oci_layout, &self.connection, false).await?;
        let selector = selector.ok_or_else(|| FlowError::NoSelector(self.reference.clone()))?;
        let subject = target.resolve(&selector).await?;
        Ok((
            target,
            subject,
            ArtifactRef::parse(&self.reference, self.oci_layout),
        ))
    }

    fn name_in(&self, r: &ArtifactRef) -> String {
        self.model_name.clone().unwrap_or_else(|| {
            let repository = r.repository();
            repository
                .rsplit('/')
                .next()
                .unwrap_or(&repository)
                .to_string()
        })
    }
}

/// The model-signing manifest (`files`, `sha256`) of a model artifact's raw layers, from their
/// descriptors alone (`hash --from-oci`): equal to `hash DIR` of the same files in a directory
/// named as the model. A tar layer, a layer without a file path or a non-sha256 digest is
/// refused, with the reason.
pub async fn hash_from_oci(artifact: &ModelArtifact) -> Result<ModelManifest, FlowError> {
    let (target, subject, r) = artifact.open().await?;
    let manifest = manifest_of(&target, &subject).await?;
    Ok(model_manifest_of(&manifest, &artifact.name_in(&r))?)
}

/// Who seals, with what, and where the statement goes.
pub struct SealRequest {
    /// The artifact to seal.
    pub artifact: ModelArtifact,
    /// The signing key.
    pub key: PrivateKey,
    /// The statement's CWT `iss`.
    pub issuer: String,
    /// DER certificates, leaf first, for the protected header's x5chain.
    pub x5chain: Vec<Vec<u8>>,
    /// The statement's CWT `sub`; `None`: `{repository}:{tag}` of the reference.
    pub subject: Option<String>,
    /// Transparency services to register the statement with; their receipts are stapled.
    pub services: Vec<Service>,
    /// Pinned keys of the SCRAPI services.
    pub service_keys: Vec<PublicKey>,
    /// The statement's `iat` (unix seconds); `None`: the signing time.
    pub time: Option<i64>,
    /// Sign the manifest's hash (a COSE hash envelope) rather than the manifest.
    pub hash_envelope: Option<PayloadHashAlg>,
    /// Also attach a Sigstore bundle in cosign's referrer shape (see
    /// [`PublishRequest::also_sigstore_bundle`](super::PublishRequest::also_sigstore_bundle)).
    pub also_sigstore_bundle: bool,
}

/// What was sealed: the statement attached to the artifact, which is itself unchanged.
pub type SealReport = super::publish::Attached;

/// Hashes a model artifact from its descriptors, signs the manifest, registers the statement
/// and attaches it (with the manifest beside it) to the artifact as a referrer. The artifact
/// itself is not changed: its digest stays what the other tool pushed.
///
/// ```no_run
/// use modelseal::core::crypto::PrivateKey;
/// use modelseal::flows::{ModelArtifact, SealRequest, Silent, seal};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // A ModelPack artifact another tool pushed (modctl, KitOps): sealed without a byte of weights.
/// let request = SealRequest {
///     artifact: ModelArtifact {
///         reference: "registry.example.com/models/llm:v1".into(),
///         oci_layout: false,
///         connection: Default::default(),
///         model_name: None,
///     },
///     key: PrivateKey::from_pem(&std::fs::read_to_string("publisher.key")?)?,
///     issuer: "https://publisher.example".into(),
///     x5chain: Vec::new(),
///     subject: None,
///     services: Vec::new(),
///     service_keys: Vec::new(),
///     time: None,
///     hash_envelope: None,
///     also_sigstore_bundle: false,
/// };
/// let sealed = seal(&request, &Silent).await?;
/// println!("{}: {} referrer(s)", sealed.name, sealed.referrers.len());
/// # Ok(()) }
/// ```
pub async fn seal(request: &SealRequest, progress: &dyn Progress) -> Result<SealReport, FlowError> {
    let (target, pushed, r) = request.artifact.open().await?;
    let subject = match &request.subject {
        Some(s) => s.clone(),
        None => {
            let Some(tag) = &r.tag else {
                return Err(FlowError::NeedTag(request.artifact.reference.clone()));
            };
            format!("{}:{tag}", r.repository())
        }
    };
    let time = request
        .time
        .unwrap_or_else(crate::core::clock::signing_time);
    progress.step(Step::Hashing);
    let artifact = manifest_of(&target, &pushed).await?;
    let manifest = model_manifest_of(&artifact, &request.artifact.name_in(&r))?;
    let manifest_bytes = manifest.to_json();
    if request.also_sigstore_bundle {
        crate::core::sigstore::attestation::check_key(&request.key)?;
    }

    let spec = StatementSpec {
        issuer: request.issuer.clone(),
        subject: subject.clone(),
        content_type: Some(IN_TOTO_CONTENT_TYPE.into()),
        issued_at: Some(time),
        x5chain: request.x5chain.clone(),
        hash_envelope: request.hash_envelope,
        ..StatementSpec::default()
    };
    let (statement, registrations) = sign_and_register(
        &request.key,
        &manifest_bytes,
        &spec,
        &request.services,
        &request.service_keys,
        progress,
    )
    .await?;
    progress.step(Step::Attaching);
    let created = crate::core::x509::format_unix_time(time);
    let mut referrers = attach_statement(
        &target,
        &pushed,
        &statement,
        Some(&manifest_bytes),
        &created,
    )
    .await?;
    if request.also_sigstore_bundle {
        referrers = super::sigstore_bundle::attach_sigstore_bundle(
            &target,
            &pushed,
            (&request.artifact.reference, request.artifact.oci_layout),
            &manifest,
            &request.key,
            &created,
        )
        .await?;
    }
    Ok(super::publish::Attached {
        reference: request.artifact.reference.clone(),
        name: target.name_of(&pushed.digest),
        digest: pushed.digest,
        subject,
        referrers,
        registrations,
        manifest,
    })
}
