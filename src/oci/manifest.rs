//! OCI descriptors, image manifests and indexes, serialised in the field order oras-go (Go's
//! `encoding/json` over image-spec v1 types) writes, so our manifests are byte-identical to oras's.
//! Manifests we read are kept as bytes; these types only describe them.

use super::media;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Go marshals maps with sorted keys; a BTreeMap does the same.
pub type Annotations = BTreeMap<String, String>;

/// An OCI content descriptor (image-spec `descriptor.md`): how a manifest points at a config, a
/// layer, a subject, and how an index or a referrers answer lists manifests. `urls` and
/// `platform` are not modelled and are dropped when a descriptor is re-serialised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the content is (`mediaType`), e.g. [`media::IMAGE_MANIFEST`].
    pub media_type: String,
    /// `algorithm:hex` of the content; only `sha256:` is produced or checked here (see
    /// [`sha256_hex`](Self::sha256_hex)).
    pub digest: String,
    /// The content's length in bytes.
    pub size: u64,
    /// Annotations: a layer's `org.opencontainers.image.title`, a layout tag's
    /// `org.opencontainers.image.ref.name`, a referrer's manifest annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: Annotations,
    /// The content inline, base64 (image-spec 1.1 `data`); we write it only for the empty
    /// config and do not trust it over the digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The manifest's artifact type, on descriptors in a referrers list or index (image-spec 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// The descriptor of `bytes` with `media_type`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        Descriptor {
            media_type: media_type.to_string(),
            digest: sha256_digest(bytes),
            size: bytes.len() as u64,
            annotations: Annotations::new(),
            data: None,
            artifact_type: None,
        }
    }

    /// The descriptor of a manifest or index, typed by its own `mediaType` (image manifest when
    /// it names none, as the image spec allows).
    pub fn of_manifest(bytes: &[u8]) -> Self {
        let media_type = serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| {
                v.get("mediaType")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| media::IMAGE_MANIFEST.into());
        Descriptor::of(&media_type, bytes)
    }

    /// The empty config `{}` ([`media::EMPTY_CONFIG`], 2 bytes, `data` inlined) that an
    /// artifact without a config points at, as oras pushes it.
    pub fn empty_config() -> Self {
        Descriptor {
            media_type: media::EMPTY_CONFIG.into(),
            digest: media::EMPTY_CONFIG_DIGEST.into(),
            size: 2,
            annotations: Annotations::new(),
            data: Some(media::EMPTY_CONFIG_DATA.into()),
            artifact_type: None,
        }
    }

    /// The layer's file name from its `org.opencontainers.image.title` annotation, unchecked
    /// (see [`stage::title_path`](super::stage::title_path) before writing to it).
    pub fn title(&self) -> Option<&str> {
        self.annotations
            .get(media::ANNOTATION_TITLE)
            .map(String::as_str)
    }

    /// Only mediaType, digest and size: what a `subject` carries.
    pub fn bare(&self) -> Self {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size,
            annotations: Annotations::new(),
            data: None,
            artifact_type: None,
        }
    }

    /// The hex part of a `sha256:` digest, checked (64 lowercase hex digits).
    pub fn sha256_hex(&self) -> Option<&str> {
        let hex = self.digest.strip_prefix("sha256:")?;
        (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then_some(hex)
    }
}

/// `sha256:` and the lowercase hex SHA-256 of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The `sha256:` digest and size of what `reader` yields, each block handed to `sink` as it
/// passes ([`hash_stream`](crate::core::manifest::hash_stream) with OCI's digest spelling).
pub fn sha256_stream<E>(
    reader: impl std::io::Read,
    sink: impl FnMut(&[u8]) -> std::result::Result<(), E>,
    read_error: impl Fn(std::io::Error) -> E,
) -> std::result::Result<(String, u64), E> {
    use crate::core::manifest::{HashAlgorithm, hash_stream};
    let (digest, size) = hash_stream(HashAlgorithm::Sha256, reader, sink, read_error)?;
    Ok((format!("sha256:{}", hex::encode(digest)), size))
}

/// An OCI image manifest (image-spec 1.1 `manifest.md`), as artifacts use it: an artifact type,
/// a config (often the empty one), layers that are the files, and an optional subject that
/// makes it a referrer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`media::IMAGE_MANIFEST`] when present; optional in the spec, always written by us.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact's kind (e.g. [`media::TRANSPARENT_STATEMENT_ARTIFACT`]); when absent, the
    /// config's media type stands in (see
    /// [`effective_artifact_type`](Self::effective_artifact_type)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob's descriptor.
    pub config: Descriptor,
    /// The layers, in order; for an artifact, one per file, named by their title annotation.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (image-spec 1.1): it makes this manifest a referrer of
    /// that subject, listed by the referrers API or the `sha256-<hex>` tag schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Manifest annotations (`org.opencontainers.image.created`, predicate types, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: Annotations,
}

impl ImageManifest {
    /// Compact JSON, no trailing newline: Go's `json.Marshal`, as oras writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest serialises")
    }

    /// The artifact type as oras reports it: `artifactType`, else the config's media type.
    pub fn effective_artifact_type(&self) -> &str {
        self.artifact_type
            .as_deref()
            .unwrap_or(&self.config.media_type)
    }
}

/// An OCI image index (image-spec 1.1 `image-index.md`): the referrers API's answer, a
/// tag-schema referrers index (`sha256-<hex>` tag), and an image layout's `index.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// [`media::IMAGE_INDEX`] when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The index's own artifact type, if it has one (unused by referrers lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests listed: referrers (with their `artifactType` and annotations) or, in a
    /// layout, tagged and untagged manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Index annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: Annotations,
}

impl ImageIndex {
    /// An empty index: schema version 2, [`media::IMAGE_INDEX`], no manifests.
    pub fn new() -> Self {
        ImageIndex {
            schema_version: 2,
            media_type: Some(media::IMAGE_INDEX.into()),
            ..Default::default()
        }
    }

    /// Compact JSON, no trailing newline, as oras writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an index serialises")
    }
}

/// The descriptor a referrers list gives for a referrer manifest (distribution spec: media type,
/// digest, size, artifactType, the manifest's annotations).
pub fn referrer_descriptor(manifest_bytes: &[u8], manifest: &ImageManifest) -> Descriptor {
    let mut d = Descriptor::of(
        manifest
            .media_type
            .as_deref()
            .unwrap_or(media::IMAGE_MANIFEST),
        manifest_bytes,
    );
    d.artifact_type = Some(manifest.effective_artifact_type().to_string());
    d.annotations = manifest.annotations.clone();
    d
}
