//! An OCI image layout directory (image-spec `image-layout.md`) as a target: `oci-layout`,
//! `index.json`, `blobs/sha256/<hex>`. Tags are `org.opencontainers.image.ref.name` annotations;
//! referrer manifests are listed in `index.json` untagged (as oras-go's store does) and found by
//! their `subject`. Every write goes to a temp file and is renamed; `index.json` updates hold a lock.

use super::blob_writer::BlobWriter;
use super::error::{OciError, Result};
use super::manifest::{
    Descriptor, ImageIndex, ImageManifest, referrer_descriptor, sha256_digest, sha256_stream,
};
use super::media;
use super::reference::Selector;
use super::target::{BlobSource, MAX_MANIFEST_BYTES, OnBytes, ReadTarget, Target, no_progress};
use super::writeback::Writeback;
use crate::core::atomic_file::write_atomic;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// An OCI image layout directory opened as a [`Target`]. Blobs and manifests are files under
/// `blobs/sha256/`; tags and untagged referrer manifests are descriptors in `index.json`.
#[derive(Clone)]
pub struct OciLayout {
    root: PathBuf,
}

/// Runs blocking file work on tokio's blocking pool; a task that could not finish is an I/O
/// error on `path`.
async fn blocking<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| OciError::io(path, std::io::Error::other(e)))?
}

const LAYOUT_FILE: &str = "{\"imageLayoutVersion\":\"1.0.0\"}";

impl OciLayout {
    /// Opens a layout, creating it (with an empty index) if the directory has none.
    pub fn open_or_create(root: &Path) -> Result<Self> {
        let layout = OciLayout {
            root: root.to_path_buf(),
        };
        let marker = root.join("oci-layout");
        if !marker.exists() {
            std::fs::create_dir_all(root.join("blobs/sha256"))
                .map_err(|e| OciError::io(root, e))?;
            write_atomic(&marker, LAYOUT_FILE.as_bytes()).map_err(|e| OciError::io(&marker, e))?;
        }
        if !root.join("index.json").exists() {
            layout.write_index(&ImageIndex::new())?;
        }
        Ok(layout)
    }

    /// Opens an existing layout for reading.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.join("oci-layout").is_file() {
            return Err(OciError::NotFound(format!(
                "{} (no oci-layout file: not an OCI image layout)",
                root.display()
            )));
        }
        Ok(OciLayout {
            root: root.to_path_buf(),
        })
    }

    fn blob_path(&self, d: &Descriptor) -> Result<PathBuf> {
        let hex = d.sha256_hex().ok_or_else(|| OciError::BadDocument {
            what: format!("descriptor {}", d.digest),
            reason: "only sha256 digests are supported".into(),
        })?;
        Ok(self.root.join("blobs/sha256").join(hex))
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    /// The tags in `index.json`, in its order.
    pub fn tags(&self) -> Result<Vec<String>> {
        Ok(self
            .read_index()?
            .manifests
            .iter()
            .filter_map(|d| d.annotations.get(media::ANNOTATION_REF_NAME).cloned())
            .collect())
    }

    fn read_index(&self) -> Result<ImageIndex> {
        let path = self.index_path();
        let bytes = std::fs::read(&path).map_err(|e| OciError::io(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
            what: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    fn write_index(&self, index: &ImageIndex) -> Result<()> {
        let path = self.index_path();
        write_atomic(&path, &index.to_bytes()).map_err(|e| OciError::io(&path, e))
    }

    /// Runs `update` on index.json under an exclusive lock, so two writers never lose an entry.
    fn update_index(&self, update: impl FnOnce(&mut ImageIndex)) -> Result<()> {
        let lock_path = self.root.join(".index.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| OciError::io(&lock_path, e))?;
        lock.lock().map_err(|e| OciError::io(&lock_path, e))?;
        let mut index = self.read_index()?;
        update(&mut index);
        let result = self.write_index(&index);
        let _ = lock.unlock();
        result
    }

    /// Writes a blob through a temp file, hashing as it goes; renamed only when the digest and
    /// size match.
    fn store(&self, d: &Descriptor, mut reader: impl Read, on_bytes: &OnBytes) -> Result<()> {
        let (dest, mut tmp) = self.blob_temp(d)?;
        let mut to_disk = Writeback::from(0);
        let (actual, size) = sha256_stream(
            &mut reader,
            |block| {
                on_bytes(block.len() as u64);
                tmp.write_all(block)
                    .map_err(|e| OciError::io(tmp.path(), e))?;
                to_disk.wrote(tmp.as_file(), block.len() as u64);
                Ok(())
            },
            |e| OciError::io(&dest, e),
        )?;
        self.keep_blob(d, &dest, tmp, &actual, size)
    }

    /// [`store`](Self::store) from a stream (a [`BlobSource::Pipe`]: a copy into the layout).
    /// The bytes are hashed and written on a thread of their own (as a registry download's), so
    /// the blobs of a copy move side by side and the task reading the source never waits on
    /// the disk.
    async fn store_stream(
        &self,
        d: &Descriptor,
        mut stream: super::target::ByteStream<'_>,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        use futures_util::StreamExt;
        let (dest, tmp) = self.blob_temp(d)?;
        let file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| OciError::io(tmp.path(), e))?;
        let mut writer = BlobWriter::start(file, 0, d.size);
        let mut size = 0u64;
        while let Some(block) = stream.next().await {
            let block = block.map_err(|e| OciError::io(&dest, e))?;
            size += block.len() as u64;
            if size > d.size {
                break; // more than the descriptor says: refused below
            }
            on_bytes(block.len() as u64);
            if !writer.write(block).await {
                break; // the writer stopped on an error, which finishing it returns
            }
        }
        let (actual, _) = writer
            .finish()
            .await
            .map_err(|e| OciError::io(tmp.path(), e))?;
        self.keep_blob(d, &dest, tmp, &actual, size)
    }

    /// Where blob `d` goes, and a temp file beside it to write it into.
    fn blob_temp(&self, d: &Descriptor) -> Result<(PathBuf, tempfile::NamedTempFile)> {
        let dest = self.blob_path(d)?;
        let dir = dest
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        std::fs::create_dir_all(&dir).map_err(|e| OciError::io(&dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".blob-")
            .tempfile_in(&dir)
            .map_err(|e| OciError::io(&dir, e))?;
        Ok((dest, tmp))
    }

    /// Renames the written temp file into place when its digest and size are the blob's.
    fn keep_blob(
        &self,
        d: &Descriptor,
        dest: &Path,
        tmp: tempfile::NamedTempFile,
        actual: &str,
        size: u64,
    ) -> Result<()> {
        if actual != d.digest || size != d.size {
            return Err(OciError::DigestMismatch {
                what: format!("blob for {}", self.name_of(&d.digest)),
                expected: format!("{} ({} bytes)", d.digest, d.size),
                actual: format!("{actual} ({size} bytes)"),
            });
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| OciError::io(tmp.path(), e))?;
        tmp.persist(dest).map_err(|e| OciError::io(dest, e.error))?;
        Ok(())
    }

    fn read_blob(&self, d: &Descriptor, max: usize) -> Result<Vec<u8>> {
        let path = self.blob_path(d)?;
        let file =
            std::fs::File::open(&path).map_err(|_| OciError::NotFound(self.name_of(&d.digest)))?;
        let mut bytes = Vec::new();
        file.take(max as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| OciError::io(&path, e))?;
        if bytes.len() > max {
            return Err(OciError::ManifestTooLarge(self.name_of(&d.digest), max));
        }
        let actual = sha256_digest(&bytes);
        if actual != d.digest {
            return Err(OciError::DigestMismatch {
                what: path.display().to_string(),
                expected: d.digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }
}

impl ReadTarget for OciLayout {
    fn name_of(&self, digest: &str) -> String {
        format!("{}@{digest}", self.root.display())
    }

    async fn blob_exists(&self, blob: &Descriptor) -> Result<bool> {
        Ok(self.blob_path(blob)?.is_file())
    }

    async fn read_blob_from(
        &self,
        blob: &Descriptor,
        start: u64,
    ) -> Result<super::target::ByteStream<'static>> {
        let path = self.blob_path(blob)?;
        let mut file = std::fs::File::open(&path)
            .map_err(|_| OciError::NotFound(self.name_of(&blob.digest)))?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(start))
            .map_err(|e| OciError::io(&path, e))?;
        Ok(super::target::read_stream(file))
    }

    async fn fetch_blob_to(
        &self,
        blob: &Descriptor,
        dest: &Path,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        let path = self.blob_path(blob)?;
        let mut src = std::fs::File::open(&path)
            .map_err(|_| OciError::NotFound(self.name_of(&blob.digest)))?;
        let mut out = std::fs::File::create(dest).map_err(|e| OciError::io(dest, e))?;
        let (name, blob, dest_path, on_bytes) = (
            self.name_of(&blob.digest),
            blob.clone(),
            dest.to_path_buf(),
            on_bytes.clone(),
        );
        // On the blocking pool, as for pushes: the blobs of a pull copy side by side.
        blocking(dest, move || {
            let dest = dest_path.as_path();
            let mut to_disk = Writeback::from(0);
            let (actual, size) = sha256_stream(
                &mut src,
                |block| {
                    on_bytes(block.len() as u64);
                    out.write_all(block).map_err(|e| OciError::io(dest, e))?;
                    to_disk.wrote(&out, block.len() as u64);
                    Ok(())
                },
                |e| OciError::io(&path, e),
            )?;
            if actual != blob.digest || size != blob.size {
                return Err(OciError::DigestMismatch {
                    what: name,
                    expected: blob.digest.clone(),
                    actual,
                });
            }
            out.sync_all().map_err(|e| OciError::io(dest, e))
        })
        .await
    }

    async fn resolve(&self, selector: &Selector) -> Result<Descriptor> {
        let index = self.read_index()?;
        let found = match selector {
            Selector::Tag(tag) => index
                .manifests
                .iter()
                .find(|d| d.annotations.get(media::ANNOTATION_REF_NAME) == Some(tag))
                .cloned(),
            Selector::Digest(digest) => {
                match index.manifests.iter().find(|d| d.digest == *digest) {
                    Some(d) => Some(d.clone()),
                    None => {
                        // Not listed (e.g. a blob pushed by another tool): read it to learn its type.
                        let probe = Descriptor {
                            digest: digest.clone(),
                            ..Descriptor::of(media::IMAGE_MANIFEST, b"")
                        };
                        let path = self.blob_path(&probe)?;
                        match std::fs::read(&path) {
                            Ok(bytes) if bytes.len() <= MAX_MANIFEST_BYTES => {
                                Some(Descriptor::of_manifest(&bytes))
                            }
                            _ => None,
                        }
                    }
                }
            }
        };
        found
            .map(|mut d| {
                d.annotations.remove(media::ANNOTATION_REF_NAME);
                d
            })
            .ok_or_else(|| {
                OciError::NotFound(format!("{}:{}", self.root.display(), selector.as_str()))
            })
    }

    async fn fetch_manifest(&self, manifest: &Descriptor) -> Result<Vec<u8>> {
        self.read_blob(manifest, MAX_MANIFEST_BYTES)
    }

    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        let index = self.read_index()?;
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for d in &index.manifests {
            if d.media_type != media::IMAGE_MANIFEST || !seen.insert(d.digest.clone()) {
                continue;
            }
            let Ok(bytes) = self.read_blob(d, MAX_MANIFEST_BYTES) else {
                continue;
            };
            let Ok(m) = serde_json::from_slice::<ImageManifest>(&bytes) else {
                continue;
            };
            if m.subject.as_ref().map(|s| &s.digest) != Some(&subject.digest) {
                continue;
            }
            let r = referrer_descriptor(&bytes, &m);
            if artifact_type.is_none_or(|t| r.artifact_type.as_deref() == Some(t)) {
                out.push(r);
            }
        }
        Ok(out)
    }
}

impl Target for OciLayout {
    async fn push_blob(
        &self,
        blob: &Descriptor,
        source: BlobSource<'_>,
        on_bytes: &OnBytes,
    ) -> Result<()> {
        if self.blob_exists(blob).await? {
            return Ok(());
        }
        match source {
            BlobSource::Bytes(b) => self.store(blob, b, on_bytes),
            BlobSource::File(p) => {
                // Copying and hashing are blocking work: on the blocking pool, so that the
                // blobs of a push move side by side (inline, they took turns on one thread).
                let (layout, blob, on_bytes) = (self.clone(), blob.clone(), on_bytes.clone());
                let file = std::fs::File::open(p).map_err(|e| OciError::io(p, e))?;
                blocking(p, move || layout.store(&blob, file, &on_bytes)).await
            }
            BlobSource::Pipe(pipe) => self.store_stream(blob, pipe.open_at(0), on_bytes).await,
        }
    }

    async fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor> {
        let d = Descriptor::of(media_type, bytes);
        self.push_blob(&d, BlobSource::Bytes(bytes), &no_progress())
            .await?;
        let parsed: Option<ImageManifest> = serde_json::from_slice(bytes).ok();
        let mut entry = d.clone();
        if let Some(m) = &parsed {
            entry.artifact_type = m.artifact_type.clone();
        }
        self.update_index(|index| {
            match tag {
                Some(tag) => {
                    // A tag moves: drop its old entry, keep the manifest listed if nothing else names it.
                    index.manifests.retain(|m| {
                        m.annotations
                            .get(media::ANNOTATION_REF_NAME)
                            .map(String::as_str)
                            != Some(tag)
                    });
                    let mut tagged = entry.clone();
                    tagged
                        .annotations
                        .insert(media::ANNOTATION_REF_NAME.into(), tag.into());
                    index.manifests.push(tagged);
                }
                None => {
                    if !index.manifests.iter().any(|m| m.digest == entry.digest) {
                        index.manifests.push(entry.clone());
                    }
                }
            }
        })?;
        Ok(d)
    }
}
