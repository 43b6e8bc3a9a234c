//! Media types, artifact types and annotation keys, in one place.

/// An OCI image manifest (image-spec 1.1 `manifest.md`): what every artifact we push is.
pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index: a referrers API answer, a tag-schema referrers index, a layout's
/// `index.json`, a multi-platform image.
pub const IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The config media type of an artifact that has no config (image-spec 1.1 "guidelines for
/// artifact usage"); the artifact's kind is then in `artifactType`.
pub const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
/// The empty config blob `{}`: its digest, and `data` inlined as oras writes it.
pub const EMPTY_CONFIG_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
/// The empty config blob `{}` in base64, for the descriptor's `data` field.
pub const EMPTY_CONFIG_DATA: &str = "e30=";
/// oras's default layer type for a file pushed without one.
pub const DEFAULT_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// The model manifest artifact and its layer, as the seed demo pushed them.
pub const MODEL_MANIFEST_ARTIFACT: &str = "in-toto/model-manifest";
/// A model file pushed as a layer by `publish --files`.
pub const MODEL_FILE_LAYER: &str = "application/octet-stream";
/// The layer holding the model manifest: an in-toto statement as JSON.
pub const IN_TOTO_LAYER: &str = "application/vnd.in-toto+json";
/// A transparent statement attached as a referrer: a signed statement with at least one
/// receipt stapled.
pub const TRANSPARENT_STATEMENT_ARTIFACT: &str = "scitt/transparent-statement";
/// A signed statement attached as a referrer without receipts (`publish` without `--ts`).
pub const SIGNED_STATEMENT_ARTIFACT: &str = "scitt/signed-statement";
/// The layer holding a transparent statement: a COSE_Sign1 (SCITT signed statement with its
/// receipts in the unprotected header).
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
/// receipts, binding to the manifest): SCITT statements and Sigstore bundles.
pub fn is_statement(artifact_type: &str) -> bool {
    is_scitt_statement(artifact_type) || is_sigstore_bundle(artifact_type)
}

/// Whether referrers of this artifact type carry a SCITT statement (with receipts or without).
pub fn is_scitt_statement(artifact_type: &str) -> bool {
    artifact_type == TRANSPARENT_STATEMENT_ARTIFACT || artifact_type == SIGNED_STATEMENT_ARTIFACT
}

/// The artifact type of a referrer carrying a SCITT statement with `receipts` receipts.
pub fn statement_artifact_type(receipts: usize) -> &'static str {
    if receipts == 0 {
        SIGNED_STATEMENT_ARTIFACT
    } else {
        TRANSPARENT_STATEMENT_ARTIFACT
    }
}

/// Whether a referrer of `artifact_type` is one a policy's `required_artifact_types` entry
/// `required` asks for. A signed statement meets a transparent statement's requirement: the
/// receipts a policy wants are counted by `min_receipts`, whatever the label says.
pub fn meets_requirement(artifact_type: &str, required: &str) -> bool {
    artifact_type == required
        || (required == TRANSPARENT_STATEMENT_ARTIFACT
            && artifact_type == SIGNED_STATEMENT_ARTIFACT)
}

/// The file name of a layer (image-spec annotations; oras writes it for each pushed file and
/// pulls a layer to it). Checked by `stage` before anything is written.
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
/// When the artifact was created, RFC 3339 (image-spec annotations; oras sets it on push).
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// How an OCI layout names a tag (image-spec image-layout).
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Notation (notaryproject) signatures attached as referrers.
pub const NOTATION_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// The in-toto predicate type of a Sigstore bundle referrer, as cosign annotates it.
pub const ANNOTATION_SIGSTORE_PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
/// What a Sigstore bundle referrer holds, as cosign annotates it: `dsse-envelope` or
/// `message-signature` (cosign's `specs/BUNDLE_SPEC.md`).
pub const ANNOTATION_SIGSTORE_CONTENT: &str = "dev.sigstore.bundle.content";
/// [`ANNOTATION_SIGSTORE_CONTENT`] of a bundle holding a DSSE envelope (an attestation).
pub const SIGSTORE_CONTENT_DSSE: &str = "dsse-envelope";
/// The in-toto predicate type of an attestation referrer, as oras and BuildKit annotate it.
pub const ANNOTATION_IN_TOTO_PREDICATE_TYPE: &str = "in-toto.io/predicate-type";

/// What another tool's referrer of this artifact type is, in words, for `discover`: cosign's
/// Sigstore bundles, notation signatures, SBOMs (SPDX, CycloneDX), in-toto attestations, and
/// our own; `None` for a type we do not know.
pub fn referrer_kind(artifact_type: &str) -> Option<&'static str> {
    let t = artifact_type.to_ascii_lowercase();
    Some(match t.as_str() {
        TRANSPARENT_STATEMENT_ARTIFACT => "SCITT transparent statement (modelseal)",
        SIGNED_STATEMENT_ARTIFACT => "SCITT signed statement, no receipt (modelseal)",
        MODEL_MANIFEST_ARTIFACT => "model-signing manifest",
        NOTATION_SIGNATURE => "notation signature",
        "application/vnd.in-toto+json" | "application/vnd.dsse.envelope.v1+json" => {
            "in-toto attestation"
        }
        _ if is_sigstore_bundle(&t) => "Sigstore bundle (cosign)",
        _ if t.contains("spdx") => "SBOM (SPDX)",
        _ if t.contains("cyclonedx") => "SBOM (CycloneDX)",
        _ if t.starts_with("application/vnd.cncf.model.") => "ModelPack model",
        _ => return None,
    })
}

/// The predicate type a referrer's annotations name (cosign's bundle annotation, or in-toto's).
pub fn referrer_predicate_type(annotations: &super::manifest::Annotations) -> Option<&str> {
    annotations
        .get(ANNOTATION_SIGSTORE_PREDICATE_TYPE)
        .or_else(|| annotations.get(ANNOTATION_IN_TOTO_PREDICATE_TYPE))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_tools_referrers_are_named() {
        assert_eq!(
            referrer_kind("application/vnd.dev.sigstore.bundle.v0.3+json"),
            Some("Sigstore bundle (cosign)")
        );
        assert_eq!(
            referrer_kind("application/vnd.cncf.notary.signature"),
            Some("notation signature")
        );
        assert_eq!(referrer_kind("application/spdx+json"), Some("SBOM (SPDX)"));
        assert_eq!(
            referrer_kind("application/vnd.cyclonedx+json"),
            Some("SBOM (CycloneDX)")
        );
        assert_eq!(
            referrer_kind("application/vnd.in-toto+json"),
            Some("in-toto attestation")
        );
        assert_eq!(referrer_kind("example/unknown"), None);
        let mut a = super::super::manifest::Annotations::new();
        a.insert(
            ANNOTATION_SIGSTORE_PREDICATE_TYPE.into(),
            "https://slsa.dev/provenance/v1".into(),
        );
        assert_eq!(
            referrer_predicate_type(&a),
            Some("https://slsa.dev/provenance/v1")
        );
    }
}
