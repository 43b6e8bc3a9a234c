//! Finding cosign's tag-based signatures and attestations of a manifest: the tags
//! `sha256-<hex>.sig` and `sha256-<hex>.att` beside it (what `cosign sign --key` before cosign 3
//! and Tekton Chains write). They are not referrers — no `subject` ties them to the artifact,
//! only the tag name and what their signed payloads say — so nothing here is trusted: the
//! checks are `core::cosign`'s.

use super::documents::fetch_small_blob;
use super::error::{OciError, Result};
use super::manifest::{Descriptor, ImageManifest};
use super::reference::Selector;
use super::target::{MAX_MANIFEST_BYTES, ReadTarget};
use crate::core::cosign::{self, MAX_LAYER_BYTES};

/// A `.sig` or `.att` manifest holds one layer per signature; more than this is not fetched.
pub const MAX_COSIGN_LAYERS: usize = 64;

/// Which of cosign's two tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CosignKind {
    /// `sha256-<hex>.sig`: simple-signing payloads naming the image digest, signed.
    Signature,
    /// `sha256-<hex>.att`: DSSE envelopes holding in-toto statements (SLSA provenance, …).
    Attestation,
}

impl CosignKind {
    /// The tag of this kind for `digest`.
    pub fn tag(self, digest: &str) -> String {
        match self {
            CosignKind::Signature => cosign::signature_tag(digest),
            CosignKind::Attestation => cosign::attestation_tag(digest),
        }
    }

    /// How a policy's `required_artifact_types` names it: `cosign/signature`,
    /// `cosign/attestation`.
    pub fn artifact_type(self) -> &'static str {
        match self {
            CosignKind::Signature => crate::core::policy::COSIGN_SIGNATURE_TYPE,
            CosignKind::Attestation => crate::core::policy::COSIGN_ATTESTATION_TYPE,
        }
    }

    /// `signature` or `attestation`, for output.
    pub fn name(self) -> &'static str {
        match self {
            CosignKind::Signature => "signature",
            CosignKind::Attestation => "attestation",
        }
    }

    /// The layer media type this kind carries.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            CosignKind::Signature => cosign::SIMPLE_SIGNING_MEDIA_TYPE,
            CosignKind::Attestation => cosign::DSSE_ENVELOPE_MEDIA_TYPE,
        }
    }
}

/// One layer of a cosign tag: its descriptor (annotations included) and bytes.
#[derive(Clone, Debug)]
pub struct CosignLayer {
    /// The layer's descriptor; cosign keeps the signature itself in its
    /// `dev.cosignproject.cosign/signature` annotation.
    pub descriptor: Descriptor,
    /// The layer's content, checked against the descriptor's digest.
    pub bytes: Vec<u8>,
}

/// A cosign tag found beside an artifact.
#[derive(Clone, Debug)]
pub struct CosignArtifact {
    /// Signature (`.sig`) or attestation (`.att`).
    pub kind: CosignKind,
    /// `sha256-<hex>.sig` or `.att`.
    pub tag: String,
    /// The `.sig`/`.att` manifest itself.
    pub manifest: Descriptor,
    /// Its layers of the kind's media type, fetched (at most [`MAX_COSIGN_LAYERS`]).
    pub layers: Vec<CosignLayer>,
    /// Layers left out, and why (another media type, over a limit).
    pub skipped: Vec<String>,
}

/// The cosign signatures and attestations stored beside `subject` (by tag), if any.
pub async fn cosign_artifacts<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
) -> Result<Vec<CosignArtifact>> {
    let mut found = Vec::new();
    for kind in [CosignKind::Signature, CosignKind::Attestation] {
        if let Some(manifest) = find_tag(target, kind, &subject.digest).await? {
            found.push(fetch_artifact(target, kind, kind.tag(&subject.digest), manifest).await?);
        }
    }
    Ok(found)
}

/// The manifest cosign's tag of `kind` names for `digest`, if the tag exists.
pub async fn find_tag<T: ReadTarget>(
    target: &T,
    kind: CosignKind,
    digest: &str,
) -> Result<Option<Descriptor>> {
    match target.resolve(&Selector::Tag(kind.tag(digest))).await {
        Ok(d) => Ok(Some(d)),
        Err(OciError::NotFound(_) | OciError::NotFoundBecause { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn fetch_artifact<T: ReadTarget>(
    target: &T,
    kind: CosignKind,
    tag: String,
    manifest: Descriptor,
) -> Result<CosignArtifact> {
    let bytes = target.fetch_manifest(&manifest).await?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(OciError::ManifestTooLarge(
            target.name_of(&manifest.digest),
            MAX_MANIFEST_BYTES,
        ));
    }
    let parsed: ImageManifest =
        serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
            what: format!("{} ({tag})", target.name_of(&manifest.digest)),
            reason: e.to_string(),
        })?;
    let mut layers = Vec::new();
    let mut skipped = Vec::new();
    for layer in parsed.layers {
        if layer.media_type != kind.layer_media_type() {
            skipped.push(format!("{}: media type {}", layer.digest, layer.media_type));
        } else if layers.len() >= MAX_COSIGN_LAYERS {
            skipped.push(format!(
                "{}: more than {MAX_COSIGN_LAYERS} layers (the limit)",
                layer.digest
            ));
        } else {
            let bytes = fetch_small_blob(target, &layer, MAX_LAYER_BYTES as u64).await?;
            layers.push(CosignLayer {
                descriptor: layer,
                bytes,
            });
        }
    }
    Ok(CosignArtifact {
        kind,
        tag,
        manifest,
        layers,
        skipped,
    })
}

/// One cosign signature or attestation layer, judged against a policy's cosign keys.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CosignVerdict {
    /// Signature or attestation.
    pub kind: CosignKind,
    /// The cosign tag the layer came from.
    pub tag: String,
    /// The layer's digest.
    pub digest: String,
    /// Whether one of the policy's cosign keys verified the layer's signature.
    pub verified: bool,
    /// The key that verified it (its file), or why none did.
    pub detail: String,
    /// For an attestation: its predicate type, and the SLSA lineage when it is provenance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// For a SLSA provenance attestation: its builder, build type and materials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<cosign::Provenance>,
}

/// What a layer says, unverified: the digest a signature names, an attestation's subjects.
fn describe(kind: CosignKind, bytes: &[u8]) -> String {
    match kind {
        CosignKind::Signature => match cosign::read_simple_signing(bytes) {
            Ok(s) => format!(
                "says it signs {} ({}), unverified",
                s.manifest_digest, s.docker_reference
            ),
            Err(e) => e.to_string(),
        },
        CosignKind::Attestation => match cosign::read_attestation(bytes) {
            Ok(a) => format!(
                "subjects: {}, unverified",
                a.subjects
                    .iter()
                    .map(|(n, d)| format!("{n}@{d}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(e) => e.to_string(),
        },
    }
}

/// Checks every cosign signature and attestation stored beside `subject` with `keys` (none:
/// each is described, unverified): a layer
/// holds when one key verifies it and it names `subject` (the simple-signing digest, or an
/// attestation subject).
pub async fn verify_cosign<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    keys: &[crate::core::policy::CosignKey],
) -> Result<Vec<CosignVerdict>> {
    let mut verdicts = Vec::new();
    for artifact in cosign_artifacts(target, subject).await? {
        for layer in &artifact.layers {
            verdicts.push(judge_layer(&artifact, layer, &subject.digest, keys));
        }
    }
    Ok(verdicts)
}

fn judge_layer(
    artifact: &CosignArtifact,
    layer: &CosignLayer,
    digest: &str,
    keys: &[crate::core::policy::CosignKey],
) -> CosignVerdict {
    let shown = match artifact.kind {
        CosignKind::Attestation => cosign::read_attestation(&layer.bytes).ok(),
        CosignKind::Signature => None,
    };
    let mut verdict = CosignVerdict {
        kind: artifact.kind,
        tag: artifact.tag.clone(),
        digest: layer.descriptor.digest.clone(),
        verified: false,
        detail: describe(artifact.kind, &layer.bytes),
        predicate_type: shown.as_ref().map(|a| a.predicate_type.clone()),
        provenance: shown.and_then(|a| a.provenance),
    };
    // The most telling failure wins: "signs another artifact" (a key verified it) over "bad
    // signature" (no key did).
    let mut best: Option<(bool, String)> = None;
    for key in keys {
        let result = match artifact.kind {
            CosignKind::Signature => {
                let sig = layer
                    .descriptor
                    .annotations
                    .get(cosign::SIGNATURE_ANNOTATION)
                    .map(String::as_str)
                    .unwrap_or_default();
                cosign::verify_signature(&layer.bytes, sig, &key.key, digest).map(|_| ())
            }
            CosignKind::Attestation => {
                cosign::verify_attestation(&layer.bytes, &key.key, digest).map(|_| ())
            }
        };
        match result {
            Ok(()) => {
                verdict.verified = true;
                verdict.detail = format!("signed by {}", key.source);
                return verdict;
            }
            Err(e) => {
                let signed = matches!(
                    e,
                    cosign::CosignError::OtherArtifact { .. }
                        | cosign::CosignError::NotASubject { .. }
                );
                if best.as_ref().is_none_or(|(s, _)| signed && !s) {
                    best = Some((signed, e.to_string()));
                }
            }
        }
    }
    if let Some((_, why)) = best {
        verdict.detail = why;
    }
    verdict
}
