//! The documents a trust policy judges, fetched from an artifact: its model manifest and the
//! statements its referrers carry, each bounded in size and checked against its digest. What
//! they mean is decided elsewhere (`flows::decide`).

use super::error::{OciError, Result};
use super::manifest::{Descriptor, ImageManifest};
use super::media;
use super::modelpack;
use super::target::{MAX_MANIFEST_BYTES, ReadTarget, no_progress};
use crate::core::manifest::MAX_MANIFEST_BYTES as MAX_MODEL_MANIFEST_BYTES;
use crate::core::manifest::ModelManifest;

/// A statement is a document, never a model: the bound for fetching one.
pub const MAX_STATEMENT_BYTES: u64 = crate::core::cose::MAX_COSE_BYTES as u64;

/// Reads a blob through a temp file with its digest checked, refusing more than `max` bytes.
pub async fn fetch_small_blob<T: ReadTarget>(
    target: &T,
    blob: &Descriptor,
    max: u64,
) -> Result<Vec<u8>> {
    if blob.size > max {
        return Err(OciError::BadDocument {
            what: target.name_of(&blob.digest),
            reason: format!("{} bytes, more than the {max}-byte limit", blob.size),
        });
    }
    let dir = tempfile::tempdir().map_err(|e| OciError::io(std::env::temp_dir(), e))?;
    let tmp = dir.path().join("blob");
    target.fetch_blob_to(blob, &tmp, &no_progress()).await?;
    std::fs::read(&tmp).map_err(|e| OciError::io(&tmp, e))
}

/// An image manifest, bounded and parsed.
pub async fn manifest_of<T: ReadTarget>(target: &T, d: &Descriptor) -> Result<ImageManifest> {
    let bytes = target.fetch_manifest(d).await?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(OciError::ManifestTooLarge(
            target.name_of(&d.digest),
            MAX_MANIFEST_BYTES,
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
        what: target.name_of(&d.digest),
        reason: e.to_string(),
    })
}

/// The model manifest an artifact holds: its in-toto layer (or its only layer).
pub async fn model_manifest_bytes<T: ReadTarget>(
    target: &T,
    artifact: &ImageManifest,
    name: &str,
) -> Result<Vec<u8>> {
    let layer = artifact
        .layers
        .iter()
        .find(|l| l.media_type == media::IN_TOTO_LAYER)
        .or(if artifact.layers.len() == 1 {
            artifact.layers.first()
        } else {
            None
        })
        .ok_or_else(|| OciError::BadDocument {
            what: name.into(),
            reason: "no application/vnd.in-toto+json layer: not a model manifest artifact".into(),
        })?;
    fetch_small_blob(target, layer, MAX_MODEL_MANIFEST_BYTES).await
}

/// The model manifest the statements of `subject` are judged against: the one the artifact
/// holds ([`model_manifest_bytes`]), or for a model artifact (ModelPack, KitOps), whose layers
/// are the model's files, [`model_pack_manifest`].
pub async fn signed_model_manifest<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    artifact: &ImageManifest,
    name: &str,
) -> Result<Vec<u8>> {
    if modelpack::is_model_artifact(artifact) {
        model_pack_manifest(target, subject, artifact).await
    } else {
        model_manifest_bytes(target, artifact, name).await
    }
}

/// The signed manifest of a model artifact. Its raw layers' digests are its files' SHA-256
/// digests, so the manifest they stand for is derived from the artifact itself
/// ([`modelpack::model_manifest_of`]); the statements' referrers carry a copy (an in-toto layer
/// beside the statement) only for the model's name. The first copy equal to the derived
/// manifest is the one; when none is, the derived manifest (with the first copy's name), which
/// the statements then fail to bind to. A tar layer or a non-sha256 digest is an error: such an
/// artifact cannot be sealed by its descriptors.
pub async fn model_pack_manifest<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    artifact: &ImageManifest,
) -> Result<Vec<u8>> {
    let mut first_name = None;
    let referrers = target.referrers(subject, None).await?;
    for r in referrers
        .iter()
        .filter(|r| r.artifact_type.as_deref().is_some_and(media::is_statement))
        .take(super::ops::MAX_REFERRERS_PER_MANIFEST)
    {
        let Ok(m) = manifest_of(target, r).await else {
            continue;
        };
        if m.subject.as_ref().map(|s| &s.digest) != Some(&subject.digest) {
            continue;
        }
        let Some(layer) = m
            .layers
            .iter()
            .find(|l| l.media_type == media::IN_TOTO_LAYER)
        else {
            continue;
        };
        let Ok(bytes) = fetch_small_blob(target, layer, MAX_MODEL_MANIFEST_BYTES).await else {
            continue;
        };
        let Ok(signed) = ModelManifest::from_json(&bytes) else {
            continue;
        };
        let derived = modelpack::model_manifest_of(artifact, &signed.model_name)?.to_json();
        if derived == bytes {
            return Ok(bytes);
        }
        first_name.get_or_insert(signed.model_name);
    }
    let name = first_name.unwrap_or_else(|| "model".into());
    Ok(modelpack::model_manifest_of(artifact, &name)?.to_json())
}

/// The statement a referrer carries, if the referrer refers to `subject` (a tag-schema index
/// is writable by anyone who can push, and may list any manifest).
pub async fn statement_bytes<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    referrer: &Descriptor,
) -> Result<Vec<u8>> {
    let m = manifest_of(target, referrer).await?;
    match &m.subject {
        Some(s) if s.digest == subject.digest => {}
        other => {
            return Err(OciError::BadDocument {
                what: target.name_of(&referrer.digest),
                reason: format!(
                    "listed as a referrer of {} but its subject is {}",
                    subject.digest,
                    other.as_ref().map_or("absent", |s| s.digest.as_str())
                ),
            });
        }
    }
    let layer = m
        .layers
        .iter()
        .find(|l| {
            l.media_type == media::SCITT_STATEMENT_LAYER || media::is_sigstore_bundle(&l.media_type)
        })
        .or(m.layers.first())
        .ok_or_else(|| OciError::BadDocument {
            what: target.name_of(&referrer.digest),
            reason: "no layer".into(),
        })?;
    fetch_small_blob(target, layer, MAX_STATEMENT_BYTES).await
}
