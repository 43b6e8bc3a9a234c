//! Media types, artifact types and annotation keys, in one place.

pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
/// The empty config blob `{}`: its digest, and `data` inlined as oras writes it.
pub const EMPTY_CONFIG_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
pub const EMPTY_CONFIG_DATA: &str = "e30=";
/// oras's default layer type for a file pushed without one.
pub const DEFAULT_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// The model manifest artifact and its layer, as the seed demo pushed them.
pub const MODEL_MANIFEST_ARTIFACT: &str = "in-toto/model-manifest";
/// A model file pushed as a layer by `publish --files`.
pub const MODEL_FILE_LAYER: &str = "application/octet-stream";
pub const IN_TOTO_LAYER: &str = "application/vnd.in-toto+json";
/// A transparent statement attached as a referrer.
pub const TRANSPARENT_STATEMENT_ARTIFACT: &str = "scitt/transparent-statement";
pub const SCITT_STATEMENT_LAYER: &str = "application/scitt-statement+cose";
/// A Sigstore bundle attached as a referrer: cosign 3 and sigstore's OCI convention use the
/// bundle's own media type as both the artifact type and the layer type.
pub const SIGSTORE_BUNDLE_ARTIFACT: &str = crate::core::sigstore::BUNDLE_MEDIA_TYPE;

/// Whether an artifact type names a Sigstore bundle (`…bundle.v0.3+json`,
/// `…bundle+json;version=0.3` and the earlier v0.x spellings).
pub fn is_sigstore_bundle(artifact_type: &str) -> bool {
    artifact_type.starts_with("application/vnd.dev.sigstore.bundle")
}

/// Whether referrers of this artifact type are statements the policy judges (signature, claims,
/// receipts, binding to the manifest): transparent statements and Sigstore bundles.
pub fn is_statement(artifact_type: &str) -> bool {
    artifact_type == TRANSPARENT_STATEMENT_ARTIFACT || is_sigstore_bundle(artifact_type)
}

pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// How an OCI layout names a tag (image-spec image-layout).
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
