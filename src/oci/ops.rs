//! Push, attach, discover, fetch and pull, written once for any [`Target`].

use super::error::{OciError, Result};
use super::manifest::{Annotations, Descriptor, ImageManifest};
use super::media;
use super::target::{BlobSource, Target, TransferProgress, no_progress};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Blobs moved at once: enough to keep a link busy while one blob waits on the registry.
pub const BLOBS_IN_FLIGHT: usize = 4;

/// A file to push as a layer: its title is the path as the user typed it (as oras does).
#[derive(Clone, Debug)]
pub struct LayerFile {
    pub path: PathBuf,
    pub title: String,
    pub media_type: String,
}

#[derive(Clone, Debug, Default)]
pub struct ArtifactSpec {
    pub artifact_type: String,
    /// Manifest annotations; `org.opencontainers.image.created` is added unless present.
    pub annotations: Annotations,
    /// RFC 3339 creation time to use when the annotations give none.
    pub created: String,
    pub subject: Option<Descriptor>,
}

/// The descriptor of a file, hashed in a streaming pass (never held in memory).
pub fn describe_file(path: &Path, media_type: &str) -> Result<Descriptor> {
    let mut file = std::fs::File::open(path).map_err(|e| OciError::io(path, e))?;
    let (mut hasher, mut size, mut buf) = (Sha256::new(), 0u64, vec![0u8; 1 << 20]);
    loop {
        let n = file.read(&mut buf).map_err(|e| OciError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(Descriptor {
        media_type: media_type.into(),
        digest: format!("sha256:{}", hex::encode(hasher.finalize())),
        size,
        annotations: Annotations::new(),
        data: None,
        artifact_type: None,
    })
}

/// Pushes files as an artifact (ORAS conventions: empty config, one titled layer per file) and
/// its manifest, tagged with `tag` if given. Files are hashed and uploaded several at a time;
/// blobs the target has are skipped. Returns the manifest's descriptor and bytes.
pub async fn push_artifact<T: Target>(
    target: &T,
    files: &[LayerFile],
    spec: &ArtifactSpec,
    tag: Option<&str>,
    progress: &dyn TransferProgress,
) -> Result<(Descriptor, Vec<u8>)> {
    let config = Descriptor::empty_config();
    target
        .push_blob(&config, BlobSource::Bytes(b"{}"), &no_progress())
        .await?;
    let sizes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(&f.path).ok())
        .map(|m| m.len())
        .sum();
    progress.total(sizes);
    let layers: Vec<Descriptor> = futures_util::stream::iter(files)
        .map(|f| async move {
            let mut d = describe_file(&f.path, &f.media_type)?;
            let on_bytes = progress.blob(&f.title, d.size);
            target
                .push_blob(&d, BlobSource::File(&f.path), &on_bytes)
                .await?;
            progress.blob_done(&f.title);
            d.annotations
                .insert(media::ANNOTATION_TITLE.into(), f.title.clone());
            Ok::<_, OciError>(d)
        })
        .buffered(BLOBS_IN_FLIGHT) // keeps the layer order of the command line
        .try_collect()
        .await?;
    let mut annotations = spec.annotations.clone();
    annotations
        .entry(media::ANNOTATION_CREATED.into())
        .or_insert_with(|| spec.created.clone());
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::IMAGE_MANIFEST.into()),
        artifact_type: Some(spec.artifact_type.clone()),
        config,
        layers,
        subject: spec.subject.as_ref().map(Descriptor::bare),
        annotations,
    };
    let bytes = manifest.to_bytes();
    let descriptor = target
        .push_manifest(&bytes, media::IMAGE_MANIFEST, tag)
        .await?;
    Ok((descriptor, bytes))
}

/// One referrer, with its own referrers when discovering deeper (oras discover's json shape).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerNode {
    pub reference: String,
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    pub artifact_type: String,
    #[serde(skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations,
    #[serde(rename = "manifests", skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<ReferrerNode>,
}

/// The referrer tree of `subject`, `depth` levels deep (1 = direct referrers only).
pub async fn discover<T: Target>(
    target: &T,
    subject: &Descriptor,
    artifact_type: Option<&str>,
    depth: usize,
) -> Result<Vec<ReferrerNode>> {
    let mut level = Vec::new();
    for d in target.referrers(subject, artifact_type).await? {
        let referrers = if depth > 1 {
            Box::pin(discover(target, &d, None, depth - 1)).await?
        } else {
            Vec::new()
        };
        level.push(ReferrerNode {
            reference: target.name_of(&d.digest),
            media_type: d.media_type.clone(),
            digest: d.digest.clone(),
            size: d.size,
            artifact_type: d.artifact_type.clone().unwrap_or_default(),
            annotations: d.annotations.clone(),
            referrers,
        });
    }
    Ok(level)
}

/// Where a layer titled `title` goes under `out`, refusing titles that leave it: absolute paths,
/// `..`, and paths through a symlink that points outside (unless `allow_traversal`, as oras).
pub fn layer_destination(out: &Path, title: &str, allow_traversal: bool) -> Result<PathBuf> {
    let unsafe_title = |reason| OciError::UnsafeTitle {
        title: title.into(),
        reason,
    };
    let rel = Path::new(title);
    if title.is_empty() {
        return Err(unsafe_title("is empty"));
    }
    if allow_traversal {
        return Ok(out.join(rel));
    }
    if rel.is_absolute() {
        return Err(unsafe_title("is an absolute path"));
    }
    if rel.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::Prefix(_) | Component::RootDir
        )
    }) {
        return Err(unsafe_title("climbs out of the output directory with .."));
    }
    // An existing symlink on the way could still lead out.
    let root = std::fs::canonicalize(out).map_err(|e| OciError::io(out, e))?;
    let mut probe = root.clone();
    for c in rel.components() {
        probe.push(c);
        if let Ok(meta) = std::fs::symlink_metadata(&probe)
            && meta.file_type().is_symlink()
        {
            let resolved = std::fs::canonicalize(&probe).map_err(|e| OciError::io(&probe, e))?;
            if !resolved.starts_with(&root) {
                return Err(unsafe_title(
                    "passes through a symlink that leaves the output directory",
                ));
            }
        }
    }
    Ok(root.join(rel))
}

/// Pulls every titled layer of the manifest into `out`. Each blob is streamed to a temporary
/// file and its digest checked; files are renamed into place only after all arrived intact.
pub async fn pull<T: Target>(
    target: &T,
    manifest: &Descriptor,
    out: &Path,
    allow_traversal: bool,
    progress: &dyn TransferProgress,
) -> Result<Vec<PathBuf>> {
    let bytes = target.fetch_manifest(manifest).await?;
    let parsed: ImageManifest =
        serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
            what: target.name_of(&manifest.digest),
            reason: e.to_string(),
        })?;
    std::fs::create_dir_all(out).map_err(|e| OciError::io(out, e))?;
    let mut plan = Vec::new();
    for layer in &parsed.layers {
        let Some(title) = layer.title() else { continue };
        plan.push((layer, layer_destination(out, title, allow_traversal)?));
    }
    let staging = tempfile::Builder::new()
        .prefix(".modelseal-pull-")
        .tempdir_in(out)
        .map_err(|e| OciError::io(out, e))?;
    progress.total(plan.iter().map(|(l, _)| l.size).sum());
    let staging_dir = staging.path();
    let fetched: Vec<(PathBuf, PathBuf)> = futures_util::stream::iter(plan.iter().enumerate())
        .map(|(i, (layer, dest))| async move {
            let tmp = staging_dir.join(i.to_string());
            let name = layer.title().unwrap_or(&layer.digest);
            let on_bytes = progress.blob(name, layer.size);
            target.fetch_blob_to(layer, &tmp, &on_bytes).await?;
            progress.blob_done(name);
            Ok::<_, OciError>((tmp, dest.clone()))
        })
        .buffer_unordered(BLOBS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut written = Vec::new();
    for (tmp, dest) in fetched {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| OciError::io(parent, e))?;
        }
        std::fs::rename(&tmp, &dest).map_err(|e| OciError::io(&dest, e))?;
        written.push(dest);
    }
    Ok(written)
}

/// Copies a manifest (an image manifest, or an index and its manifests) with its blobs from
/// `src` to `dst`, tagged `tag`; with `recursive`, every referrer too, and theirs (`oras cp -r`).
/// Blobs the destination has are skipped; each is streamed through a temp file, digest-checked.
pub async fn copy<S: Target, D: Target>(
    src: &S,
    dst: &D,
    manifest: &Descriptor,
    tag: Option<&str>,
    recursive: bool,
) -> Result<usize> {
    let bytes = src.fetch_manifest(manifest).await?;
    let bad = |e: serde_json::Error| OciError::BadDocument {
        what: src.name_of(&manifest.digest),
        reason: e.to_string(),
    };
    let mut copied = 0;
    if manifest.media_type == media::IMAGE_INDEX {
        let index: super::manifest::ImageIndex = serde_json::from_slice(&bytes).map_err(bad)?;
        for child in &index.manifests {
            copied += Box::pin(copy(src, dst, child, None, false)).await?;
        }
    } else {
        let parsed: ImageManifest = serde_json::from_slice(&bytes).map_err(bad)?;
        let scratch = tempfile::tempdir().map_err(|e| OciError::io(std::env::temp_dir(), e))?;
        for blob in std::iter::once(&parsed.config).chain(&parsed.layers) {
            if dst.blob_exists(blob).await? {
                continue;
            }
            let tmp = scratch.path().join("blob");
            src.fetch_blob_to(blob, &tmp, &no_progress()).await?;
            dst.push_blob(blob, BlobSource::File(&tmp), &no_progress())
                .await?;
            std::fs::remove_file(&tmp).map_err(|e| OciError::io(&tmp, e))?;
        }
    }
    dst.push_manifest(&bytes, &manifest.media_type, tag).await?;
    copied += 1;
    if recursive {
        for referrer in src.referrers(manifest, None).await? {
            copied += Box::pin(copy(src, dst, &referrer, None, true)).await?;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_that_leave_the_output_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(layer_destination(dir.path(), "model/weights.bin", false).is_ok());
        for bad in ["../x", "/etc/passwd", "a/../../x", ""] {
            assert!(layer_destination(dir.path(), bad, false).is_err(), "{bad}");
        }
        std::os::unix::fs::symlink("/tmp", dir.path().join("link")).unwrap();
        assert!(matches!(
            layer_destination(dir.path(), "link/x", false),
            Err(OciError::UnsafeTitle { .. })
        ));
        assert!(layer_destination(dir.path(), "../x", true).is_ok());
    }
}
