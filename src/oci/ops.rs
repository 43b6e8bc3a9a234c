//! Push, attach, discover, fetch and pull, written once for any [`Target`].

use super::error::{OciError, Result};
use super::manifest::{Annotations, Descriptor, ImageManifest, sha256_stream};
use super::media;
use super::modelpack::{self, Packing};
use super::stage::{self, Stage};
use super::target::{BlobSource, ReadTarget, Target, TransferProgress, no_progress, pipe_blob};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Blobs moved at once by default: enough to keep a link busy while one blob waits on the
/// registry.
pub const BLOBS_IN_FLIGHT: usize = 4;

static IN_FLIGHT: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(BLOBS_IN_FLIGHT);

/// Sets the process-wide number of blobs moved at once (`--concurrency`; at least 1).
pub fn set_blobs_in_flight(n: usize) {
    IN_FLIGHT.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// Blobs moved at once: [`BLOBS_IN_FLIGHT`] unless [`set_blobs_in_flight`] said otherwise.
pub fn blobs_in_flight() -> usize {
    IN_FLIGHT.load(std::sync::atomic::Ordering::Relaxed)
}

/// A file to push as a layer: its title is the path as the user typed it (as oras does).
#[derive(Clone, Debug)]
pub struct LayerFile {
    /// The file to read and upload.
    pub path: PathBuf,
    /// The layer's `org.opencontainers.image.title`: where `pull` writes it, relative to the
    /// output directory.
    pub title: String,
    /// The layer's media type (oras's default is [`media::DEFAULT_LAYER`]).
    pub media_type: String,
    /// The file's `sha256:` digest when the caller has just computed it (publish's model
    /// manifest holds it): the file is not read twice. The target still checks the bytes it
    /// receives against it, so a file changed since is refused, not pushed under another digest.
    pub digest: Option<String>,
}

/// The manifest-level choices of [`push_artifact`].
#[derive(Clone, Debug, Default)]
pub struct ArtifactSpec {
    /// The manifest's `artifactType` (image-spec 1.1), e.g.
    /// [`media::MODEL_MANIFEST_ARTIFACT`].
    pub artifact_type: String,
    /// Manifest annotations; `org.opencontainers.image.created` is added unless present.
    pub annotations: Annotations,
    /// RFC 3339 creation time to use when the annotations give none.
    pub created: String,
    /// The manifest this artifact refers to: set, the push is an attach (the manifest's
    /// `subject`, reduced to media type, digest and size), listed by `referrers` of it.
    pub subject: Option<Descriptor>,
}

/// The descriptor of a file, hashed in a streaming pass (never held in memory). Fails with
/// [`OciError::Io`] when the file cannot be opened or read.
pub fn describe_file(path: &Path, media_type: &str) -> Result<Descriptor> {
    let file = std::fs::File::open(path).map_err(|e| OciError::io(path, e))?;
    let (digest, size) = sha256_stream(file, |_| Ok(()), |e| OciError::io(path, e))?;
    Ok(file_descriptor(media_type, digest, size))
}

/// A file's layer descriptor, before its title is added.
fn file_descriptor(media_type: &str, digest: String, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.into(),
        digest,
        size,
        annotations: Annotations::new(),
        data: None,
        artifact_type: None,
    }
}

/// Pushes files as an artifact (ORAS conventions: empty config, one titled layer per file) and
/// its manifest, tagged with `tag` if given. Files are hashed and uploaded several at a time;
/// blobs the target has are skipped. Returns the manifest's descriptor and bytes. Fails when a
/// file cannot be read ([`OciError::Io`]) or the target refuses a blob or the manifest; blobs
/// already uploaded stay (they are content-addressed), no manifest is written.
///
/// # Example
///
/// Push a file to an OCI image layout and pull it back, no network involved:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use modelseal::oci::{media, ops, open, registry::Connection, target::Quiet};
///
/// let dir = tempfile::tempdir()?;
/// let model = dir.path().join("model.bin");
/// std::fs::write(&model, b"weights")?;
/// let layout = dir.path().join("layout");
/// let reference = format!("{}:v1", layout.display());
///
/// let (target, _tag) = open::open(&reference, true, &Connection::default(), true).await?;
/// let files = [ops::LayerFile {
///     path: model,
///     title: "model.bin".into(),
///     media_type: media::MODEL_FILE_LAYER.into(),
///     digest: None,
/// }];
/// let spec = ops::ArtifactSpec {
///     artifact_type: media::MODEL_MANIFEST_ARTIFACT.into(),
///     created: "2026-01-01T00:00:00Z".into(),
///     ..Default::default()
/// };
/// let (manifest, _bytes) = ops::push_artifact(&target, &files, &spec, Some("v1"), &Quiet).await?;
///
/// let out = dir.path().join("out");
/// let pulled = ops::pull(&target, &manifest, &out, ops::PullOptions::default(), &Quiet).await?;
/// assert_eq!(pulled.len(), 1);
/// assert_eq!(std::fs::read(out.join("model.bin"))?, b"weights");
/// # Ok(())
/// # }
/// ```
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
            let mut d = match &f.digest {
                Some(digest) => {
                    let size = std::fs::metadata(&f.path)
                        .map_err(|e| OciError::io(&f.path, e))?
                        .len();
                    file_descriptor(&f.media_type, digest.clone(), size)
                }
                // Hashing is CPU work: on the blocking pool, files hash side by side and the
                // uploads already under way keep moving (inline, it held the task that drives
                // them all, and the files hashed one after another).
                None => {
                    let (path, media_type) = (f.path.clone(), f.media_type.clone());
                    tokio::task::spawn_blocking(move || describe_file(&path, &media_type))
                        .await
                        .map_err(|e| OciError::io(&f.path, std::io::Error::other(e)))??
                }
            };
            let on_bytes = progress.blob(&f.title, d.size);
            target
                .push_blob(&d, BlobSource::File(&f.path), &on_bytes)
                .await?;
            progress.blob_done(&f.title);
            d.annotations
                .insert(media::ANNOTATION_TITLE.into(), f.title.clone());
            Ok::<_, OciError>(d)
        })
        .buffered(blobs_in_flight()) // keeps the layer order of the command line
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
    /// The referrer as the target names it ([`ReadTarget::name_of`]: `host/repo@sha256:…`).
    pub reference: String,
    /// The referrer manifest's media type.
    pub media_type: String,
    /// The referrer manifest's digest.
    pub digest: String,
    /// The referrer manifest's size in bytes.
    pub size: u64,
    /// Its artifact type (`artifactType`, else its config's media type, as oras reports it).
    pub artifact_type: String,
    /// The referrer manifest's annotations, as the referrers list gives them.
    #[serde(skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations,
    /// Its own referrers, when the walk went deeper (`manifests` in JSON, as oras writes it).
    #[serde(rename = "manifests", skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<ReferrerNode>,
}

/// How deep a walk of referrers (and nested indexes) goes at most, whatever was asked.
pub const MAX_WALK_DEPTH: usize = 16;
/// Referrers of one manifest that are fetched at most; the others are reported, not walked.
pub const MAX_REFERRERS_PER_MANIFEST: usize = 256;
/// Manifests one walk visits at most.
pub const MAX_WALK_MANIFESTS: usize = 4096;

/// A referrer listed for a manifest and not walked, with the reason.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// The referrer manifest's digest.
    pub digest: String,
    /// Why it was not walked (another subject, seen before, a limit).
    pub reason: String,
}

/// The state of one walk over a referrer graph: what was seen (a mutable tag-schema index can
/// list anything, cycles included) and what was left out.
#[derive(Default)]
struct Walk {
    visited: std::collections::HashSet<String>,
    skipped: Vec<Skipped>,
}

impl Walk {
    fn skip(&mut self, digest: &str, reason: String) {
        if !self
            .skipped
            .iter()
            .any(|s| s.digest == digest && s.reason == reason)
        {
            self.skipped.push(Skipped {
                digest: digest.into(),
                reason,
            });
        }
    }
}

/// The `subject` digest a manifest (or index) names, if any.
fn subject_of(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()?
        .get("subject")?
        .get("digest")?
        .as_str()
        .map(str::to_string)
}

/// Why a referrer `bytes` listed for `subject` is not one of its referrers, if it is not.
fn not_a_referrer_of(bytes: &[u8], subject: &str) -> Option<String> {
    match subject_of(bytes) {
        Some(s) if s == subject => None,
        Some(s) => Some(format!(
            "listed as a referrer of {subject} but its subject is {s}"
        )),
        None => Some(format!(
            "listed as a referrer of {subject} but it has no subject"
        )),
    }
}

/// The referrers of `subject` worth walking: at most [`MAX_REFERRERS_PER_MANIFEST`], each
/// fetched (digest- and size-checked) and kept only if its `subject` is `subject`.
async fn checked_referrers<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    artifact_type: Option<&str>,
    walk: &mut Walk,
) -> Result<Vec<(Descriptor, Vec<u8>)>> {
    let listed = target.referrers(subject, artifact_type).await?;
    let mut kept = Vec::new();
    for (i, d) in listed.into_iter().enumerate() {
        if i >= MAX_REFERRERS_PER_MANIFEST {
            walk.skip(
                &d.digest,
                format!(
                    "not fetched: more than {MAX_REFERRERS_PER_MANIFEST} referrers of {} (the limit)",
                    subject.digest
                ),
            );
            continue;
        }
        if walk.visited.len() >= MAX_WALK_MANIFESTS {
            walk.skip(
                &d.digest,
                format!(
                    "not fetched: the walk reached its limit of {MAX_WALK_MANIFESTS} manifests"
                ),
            );
            continue;
        }
        let bytes = target.fetch_manifest(&d).await?;
        if let Some(reason) = not_a_referrer_of(&bytes, &subject.digest) {
            walk.skip(&d.digest, reason);
            continue;
        }
        kept.push((d, bytes));
    }
    Ok(kept)
}

/// The referrer tree of `subject`, `depth` levels deep (1 = direct referrers only).
pub async fn discover<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    artifact_type: Option<&str>,
    depth: usize,
) -> Result<Vec<ReferrerNode>> {
    Ok(discover_report(target, subject, artifact_type, depth)
        .await?
        .0)
}

/// [`discover`], with the referrers left out and why: listed for a manifest they do not refer
/// to (their `subject` is another), seen before (a cycle), or past a limit. The depth is capped
/// at [`MAX_WALK_DEPTH`].
pub async fn discover_report<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    artifact_type: Option<&str>,
    depth: usize,
) -> Result<(Vec<ReferrerNode>, Vec<Skipped>)> {
    let mut walk = Walk::default();
    walk.visited.insert(subject.digest.clone());
    let nodes = discover_level(
        target,
        subject,
        artifact_type,
        depth.clamp(1, MAX_WALK_DEPTH),
        &mut walk,
    )
    .await?;
    Ok((nodes, walk.skipped))
}

async fn discover_level<T: ReadTarget>(
    target: &T,
    subject: &Descriptor,
    artifact_type: Option<&str>,
    depth: usize,
    walk: &mut Walk,
) -> Result<Vec<ReferrerNode>> {
    let mut level = Vec::new();
    for (d, _) in checked_referrers(target, subject, artifact_type, walk).await? {
        if !walk.visited.insert(d.digest.clone()) {
            walk.skip(&d.digest, "seen before in this walk (a cycle)".into());
            continue;
        }
        let referrers = if depth > 1 {
            Box::pin(discover_level(target, &d, None, depth - 1, walk)).await?
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

/// How `pull` treats the output directory.
#[derive(Clone, Copy, Debug, Default)]
pub struct PullOptions {
    /// Write titles that are absolute or climb out with `..` (oras's `--allow-path-traversal`).
    pub allow_traversal: bool,
    /// Overwrite existing files (each is restored if the pull fails).
    pub force: bool,
}

/// The artifact's titled layers, each with the relative path it is written to: the titles are
/// checked as a set first ([`stage::title_paths`]: safe, distinct, none a directory of another).
pub async fn titled_layers<T: ReadTarget>(
    target: &T,
    manifest: &Descriptor,
    allow_traversal: bool,
) -> stage::Result<Vec<(Descriptor, PathBuf)>> {
    let bytes = target.fetch_manifest(manifest).await?;
    if bytes.len() > super::target::MAX_MANIFEST_BYTES {
        return Err(OciError::ManifestTooLarge(
            target.name_of(&manifest.digest),
            super::target::MAX_MANIFEST_BYTES,
        )
        .into());
    }
    let parsed: ImageManifest =
        serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
            what: target.name_of(&manifest.digest),
            reason: e.to_string(),
        })?;
    // A file layer has a path: an ORAS title, or a ModelPack raw layer's file path. ModelPack
    // and KitOps tar layers are archives, extracted by `pull` ([`archive_layers`]).
    let layers: Vec<Descriptor> = parsed
        .layers
        .into_iter()
        .filter(|l| {
            modelpack::layer_path(l).is_some()
                && matches!(
                    modelpack::packing_of(&l.media_type),
                    None | Some(Packing::Raw)
                )
        })
        .collect();
    let titles: Vec<&str> = layers.iter().filter_map(modelpack::layer_path).collect();
    let paths = stage::title_paths(&titles, allow_traversal)?;
    Ok(layers.into_iter().zip(paths).collect())
}

/// The artifact's ModelPack and KitOps tar layers (plain, gzip, zstd), extracted into the
/// output directory by `pull`: the paths are the archive's entries.
pub async fn archive_layers<T: ReadTarget>(
    target: &T,
    manifest: &Descriptor,
) -> Result<Vec<(Descriptor, Packing)>> {
    let parsed = super::documents::manifest_of(target, manifest).await?;
    Ok(parsed
        .layers
        .into_iter()
        .filter_map(|l| match modelpack::packing_of(&l.media_type) {
            Some(Packing::Raw) | None => None,
            Some(p) => Some((l, p)),
        })
        .collect())
}

/// Streams each layer into the staging directory (`stage.file(i)` for the `i`th), several at a
/// time, every blob's digest and size checked on the way ([`ReadTarget::fetch_blob_to`]).
pub async fn fetch_staged<T: ReadTarget>(
    target: &T,
    stage: &Stage,
    layers: &[&Descriptor],
    progress: &dyn TransferProgress,
) -> Result<Vec<PathBuf>> {
    progress.total(layers.iter().map(|l| l.size).sum());
    // Each distinct blob is downloaded under its digest in the partial area: a pull that fails
    // or is killed leaves the bytes there and the next run continues from them. Only when every
    // blob is whole and checked are they moved into the stage.
    let mut distinct: Vec<&Descriptor> = Vec::new();
    for layer in layers {
        if !distinct.iter().any(|d| d.digest == layer.digest) {
            distinct.push(layer);
        }
    }
    futures_util::stream::iter(distinct)
        .map(|layer| async move {
            let name = layer.title().unwrap_or(&layer.digest);
            let partial = stage.partial(&layer.digest)?;
            let held = std::fs::metadata(&partial)
                .map(|m| m.len())
                .unwrap_or(0)
                .min(layer.size);
            let on_bytes = if held > 0 {
                progress.blob_resumed(name, layer.size, held)
            } else {
                progress.blob(name, layer.size)
            };
            target.fetch_blob_to(layer, &partial, &on_bytes).await?;
            progress.blob_done(name);
            Ok::<_, OciError>(())
        })
        .buffer_unordered(blobs_in_flight())
        .try_collect::<()>()
        .await
        .inspect_err(|_| {
            // A pull that fails leaves nothing behind (README, "pull"); only one that was
            // killed, or crashed, leaves its partial files, and the next run resumes from them.
            // Within a run, a broken connection resumes from the bytes on disk anyway.
            for layer in layers {
                if let Ok(p) = stage.partial(&layer.digest) {
                    let _ = std::fs::remove_file(p);
                }
            }
            stage.partial_done();
        })?;
    let mut placed: Vec<(&str, PathBuf)> = Vec::new();
    let mut staged = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let tmp = stage.file(i);
        match placed.iter().find(|(d, _)| *d == layer.digest) {
            Some((_, first)) => std::fs::copy(first, &tmp).map(|_| ()),
            None => std::fs::rename(stage.partial(&layer.digest)?, &tmp),
        }
        .map_err(|e| OciError::io(&tmp, e))?;
        placed.push((&layer.digest, tmp.clone()));
        staged.push(tmp);
    }
    stage.partial_done();
    Ok(staged)
}

/// Pulls every titled layer of the manifest into `out`. Titles are checked as a set, and each
/// destination before anything is downloaded; each blob is streamed to a staging directory in
/// `out` with its digest checked; then all files are moved into place, or none: a destination
/// that a symlink would carry out of `out`, or (without `force`) an existing file, is refused
/// right before its rename, and any failure undoes the renames already done.
pub async fn pull<T: ReadTarget>(
    target: &T,
    manifest: &Descriptor,
    out: &Path,
    options: PullOptions,
    progress: &dyn TransferProgress,
) -> stage::Result<Vec<PathBuf>> {
    let plan = titled_layers(target, manifest, options.allow_traversal).await?;
    for (_, rel) in &plan {
        stage::check_destination(out, rel, options.allow_traversal, options.force)?;
    }
    let archives = archive_layers(target, manifest).await?;
    let stage = Stage::new(out)?;
    let layers: Vec<&Descriptor> = plan
        .iter()
        .map(|(l, _)| l)
        .chain(archives.iter().map(|(l, _)| l))
        .collect();
    let mut staged = fetch_staged(target, &stage, &layers, progress).await?;
    let archive_files = staged.split_off(plan.len());
    let mut moves: Vec<(PathBuf, PathBuf)> = staged
        .into_iter()
        .zip(plan.iter().map(|(_, rel)| rel.clone()))
        .collect();
    for (i, (file, (layer, packing))) in archive_files.iter().zip(&archives).enumerate() {
        let into = stage.file(layers.len() + i);
        std::fs::create_dir(&into).map_err(|e| OciError::io(&into, e))?;
        let name = modelpack::layer_path(layer).unwrap_or(&layer.digest);
        moves.extend(super::archive::extract(
            file,
            *packing,
            &into,
            name,
            super::archive::ArchiveLimits::default(),
        )?);
    }
    // Two layers that write one path: refused, as two titles are.
    let rels: Vec<String> = moves
        .iter()
        .map(|(_, rel)| rel.to_string_lossy().into_owned())
        .collect();
    stage::title_paths(
        &rels.iter().map(String::as_str).collect::<Vec<_>>(),
        options.allow_traversal,
    )?;
    for (_, rel) in &moves[plan.len()..] {
        stage::check_destination(out, rel, false, options.force)?;
    }
    Ok(stage
        .commit(&moves, options.allow_traversal, options.force)?
        .keep())
}

/// What `copy` did: manifests copied, and referrers left out (with why).
#[derive(Clone, Debug, Default)]
pub struct CopyReport {
    /// Manifests and indexes written to the destination, referrers included.
    pub copied: usize,
    /// Referrers not copied, with why.
    pub skipped: Vec<Skipped>,
}

/// Copies a manifest (an image manifest, or an index and its manifests) with its blobs from
/// `src` to `dst`, tagged `tag`; with `recursive`, every referrer too, and theirs (`oras cp -r`).
/// Blobs the destination has are skipped; each is streamed through a temp file, digest-checked.
pub async fn copy<S: ReadTarget, D: Target>(
    src: &S,
    dst: &D,
    manifest: &Descriptor,
    tag: Option<&str>,
    recursive: bool,
) -> Result<usize> {
    Ok(copy_report(src, dst, manifest, tag, recursive)
        .await?
        .copied)
}

/// [`copy`], reporting the referrers it left out: those whose `subject` is not the manifest
/// they are listed for, those seen before (a cycle in a tag-schema index), and those past
/// [`MAX_WALK_DEPTH`] or the other limits. Nested indexes deeper than the limit are an error.
pub async fn copy_report<S: ReadTarget, D: Target>(
    src: &S,
    dst: &D,
    manifest: &Descriptor,
    tag: Option<&str>,
    recursive: bool,
) -> Result<CopyReport> {
    let mut walk = Walk::default();
    walk.visited.insert(manifest.digest.clone());
    let bytes = src.fetch_manifest(manifest).await?;
    let copied = copy_one(src, dst, manifest, bytes, tag, recursive, 0, &mut walk).await?;
    Ok(CopyReport {
        copied,
        skipped: walk.skipped,
    })
}

#[allow(clippy::too_many_arguments)]
async fn copy_one<S: ReadTarget, D: Target>(
    src: &S,
    dst: &D,
    manifest: &Descriptor,
    bytes: Vec<u8>,
    tag: Option<&str>,
    recursive: bool,
    depth: usize,
    walk: &mut Walk,
) -> Result<usize> {
    let bad = |e: serde_json::Error| OciError::BadDocument {
        what: src.name_of(&manifest.digest),
        reason: e.to_string(),
    };
    let mut copied = 0;
    if manifest.media_type == media::IMAGE_INDEX {
        if depth >= MAX_WALK_DEPTH {
            return Err(OciError::BadDocument {
                what: src.name_of(&manifest.digest),
                reason: format!("indexes nested more than {MAX_WALK_DEPTH} deep (the limit)"),
            });
        }
        let index: super::manifest::ImageIndex = serde_json::from_slice(&bytes).map_err(bad)?;
        for child in &index.manifests {
            if walk.visited.len() >= MAX_WALK_MANIFESTS {
                return Err(OciError::BadDocument {
                    what: src.name_of(&manifest.digest),
                    reason: format!("more than {MAX_WALK_MANIFESTS} manifests (the limit)"),
                });
            }
            // A manifest listed twice is copied once.
            if !walk.visited.insert(child.digest.clone()) {
                continue;
            }
            let child_bytes = src.fetch_manifest(child).await?;
            copied += Box::pin(copy_one(
                src,
                dst,
                child,
                child_bytes,
                None,
                false,
                depth + 1,
                walk,
            ))
            .await?;
        }
    } else {
        let parsed: ImageManifest = serde_json::from_slice(&bytes).map_err(bad)?;
        // Each blob goes from the source into the destination as it is read (a registry
        // uploads it, a layout writes it into place), never through a scratch file.
        let blobs = std::iter::once(&parsed.config).chain(&parsed.layers);
        futures_util::stream::iter(blobs)
            .map(|blob| async move {
                if dst.blob_exists(blob).await? || dst.mount_blob(blob).await? {
                    return Ok(());
                }
                pipe_blob(src, dst, blob, &no_progress()).await
            })
            .buffer_unordered(blobs_in_flight())
            .try_collect::<()>()
            .await?;
    }
    dst.push_manifest(&bytes, &manifest.media_type, tag).await?;
    copied += 1;
    if recursive {
        let referrers = checked_referrers(src, manifest, None, walk).await?;
        for (referrer, referrer_bytes) in referrers {
            if !walk.visited.insert(referrer.digest.clone()) {
                walk.skip(
                    &referrer.digest,
                    "seen before in this walk (a cycle)".into(),
                );
                continue;
            }
            if depth + 1 >= MAX_WALK_DEPTH {
                walk.skip(
                    &referrer.digest,
                    format!(
                        "not copied: referrers nested more than {MAX_WALK_DEPTH} deep (the limit)"
                    ),
                );
                continue;
            }
            copied += Box::pin(copy_one(
                src,
                dst,
                &referrer,
                referrer_bytes,
                None,
                true,
                depth + 1,
                walk,
            ))
            .await?;
        }
        // cosign's tag-based signatures and attestations travel with the artifact, under the
        // same tags (the digest they are named for does not change in a copy).
        for kind in [
            super::cosign::CosignKind::Signature,
            super::cosign::CosignKind::Attestation,
        ] {
            let Some(found) = super::cosign::find_tag(src, kind, &manifest.digest).await? else {
                continue;
            };
            let tag = kind.tag(&manifest.digest);
            if !walk.visited.insert(found.digest.clone()) {
                continue;
            }
            let found_bytes = src.fetch_manifest(&found).await?;
            copied += Box::pin(copy_one(
                src,
                dst,
                &found,
                found_bytes,
                Some(&tag),
                false,
                depth + 1,
                walk,
            ))
            .await?;
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
        let ok = |t: &str| {
            stage::check_destination(dir.path(), &stage::title_path(t, false)?, false, false)
        };
        assert!(ok("model/weights.bin").is_ok());
        for bad in ["../x", "/etc/passwd", "a/../../x", ""] {
            assert!(stage::title_path(bad, false).is_err(), "{bad}");
        }
        std::os::unix::fs::symlink("/tmp", dir.path().join("link")).unwrap();
        assert!(matches!(
            ok("link/x"),
            Err(stage::PullError::Destination { .. })
        ));
        assert!(stage::title_path("../x", true).is_ok());
    }
}
