//! A Sigstore bundle attached to an artifact the way cosign attaches one
//! (`cosign attest --new-bundle-format`; cosign's `specs/BUNDLE_SPEC.md` and
//! `WriteAttestationNewBundleFormat`): a referrer manifest whose `artifactType` is the bundle's
//! media type, the empty config, one layer (the bundle JSON, of the same media type, no
//! annotations), and the annotations `dev.sigstore.bundle.content`,
//! `dev.sigstore.bundle.predicateType` and `org.opencontainers.image.created`. Tools that look
//! for cosign's bundles (cosign 3, Kyverno, policy-controller, sigstore-go) find it there.

use super::error::Result;
use super::manifest::{Annotations, Descriptor, ImageManifest};
use super::media;
use super::target::{BlobSource, Target, no_progress};
use crate::core::sigstore::BUNDLE_MEDIA_TYPE;

/// The referrer manifest of `bundle` (a Sigstore bundle v0.3 holding a DSSE envelope whose
/// in-toto predicate is `predicate_type`) for `subject`, created at `created` (RFC 3339), and
/// the layer descriptor of the bundle. The config is the empty descriptor as cosign writes it
/// (media type, digest, size; no inlined `data`).
pub fn bundle_referrer(
    subject: &Descriptor,
    bundle: &[u8],
    predicate_type: &str,
    created: &str,
) -> ImageManifest {
    let mut config = Descriptor::empty_config();
    config.data = None;
    let annotations: Annotations = [
        (
            media::ANNOTATION_SIGSTORE_CONTENT,
            media::SIGSTORE_CONTENT_DSSE,
        ),
        (media::ANNOTATION_SIGSTORE_PREDICATE_TYPE, predicate_type),
        (media::ANNOTATION_CREATED, created),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    ImageManifest {
        schema_version: 2,
        media_type: Some(media::IMAGE_MANIFEST.into()),
        artifact_type: Some(BUNDLE_MEDIA_TYPE.into()),
        config,
        layers: vec![Descriptor::of(BUNDLE_MEDIA_TYPE, bundle)],
        subject: Some(subject.bare()),
        annotations,
    }
}

/// Pushes the empty config, the bundle and [`bundle_referrer`]'s manifest to `target`, making
/// the bundle a referrer of `subject`; returns the referrer manifest's descriptor.
pub async fn attach_bundle<T: Target>(
    target: &T,
    subject: &Descriptor,
    bundle: &[u8],
    predicate_type: &str,
    created: &str,
) -> Result<Descriptor> {
    let manifest = bundle_referrer(subject, bundle, predicate_type, created);
    target
        .push_blob(&manifest.config, BlobSource::Bytes(b"{}"), &no_progress())
        .await?;
    target
        .push_blob(
            &manifest.layers[0],
            BlobSource::Bytes(bundle),
            &no_progress(),
        )
        .await?;
    target
        .push_manifest(&manifest.to_bytes(), media::IMAGE_MANIFEST, None)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_referrer_has_cosigns_shape() {
        let subject = Descriptor::of(media::IMAGE_MANIFEST, b"{}");
        let m = bundle_referrer(&subject, b"{\"b\":1}", "https://p", "2026-01-01T00:00:00Z");
        let v: serde_json::Value = serde_json::from_slice(&m.to_bytes()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                           "digest": media::EMPTY_CONFIG_DIGEST, "size": 2},
                "layers": [{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                            "digest": crate::oci::manifest::sha256_digest(b"{\"b\":1}"), "size": 7}],
                "subject": {"mediaType": media::IMAGE_MANIFEST, "digest": subject.digest, "size": 2},
                "annotations": {"dev.sigstore.bundle.content": "dsse-envelope",
                                "dev.sigstore.bundle.predicateType": "https://p",
                                "org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
            })
        );
    }
}
