//! The one abstraction for "a place that stores OCI content": a remote registry or an OCI image
//! layout directory. Push, attach, discover, pull and copy are written once against it (`ops`).

use super::error::Result;
use super::manifest::Descriptor;
use super::reference::Selector;
use std::future::Future;
use std::path::Path;

/// Bytes to upload: small ones in memory, model files streamed from disk.
#[derive(Clone, Copy, Debug)]
pub enum BlobSource<'a> {
    /// The whole blob, in memory (manifests' configs, statements).
    Bytes(&'a [u8]),
    /// A file whose whole content is the blob, read as it is uploaded.
    File(&'a Path),
}

/// Called with the number of bytes each time a blob transfer moves some: progress display.
pub type OnBytes = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// A transfer that nobody watches.
pub fn no_progress() -> OnBytes {
    std::sync::Arc::new(|_| {})
}

/// What a long transfer reports: the total, and each blob as it starts, moves and ends.
pub trait TransferProgress: Sync {
    /// The bytes the whole transfer will move, once, before any blob starts.
    fn total(&self, _bytes: u64) {}
    /// A blob starts moving; the returned callback gets its bytes as they go.
    fn blob(&self, _name: &str, _size: u64) -> OnBytes {
        no_progress()
    }
    /// A blob continues from `resumed` bytes an earlier run left on disk: shown apart from the
    /// bytes moved now. By default they count as moved.
    fn blob_resumed(&self, name: &str, size: u64, resumed: u64) -> OnBytes {
        let on_bytes = self.blob(name, size);
        on_bytes(resumed);
        on_bytes
    }
    /// A blob has finished moving (and was checked, on fetch).
    fn blob_done(&self, _name: &str) {}
}

/// For callers that do not show progress.
pub struct Quiet;
impl TransferProgress for Quiet {}

/// Manifests are documents, not models: anything bigger is refused before it is parsed.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Where OCI content lives, the way oras-go's `Target` is: blobs and manifests addressed by
/// descriptor, tags, and the referrers of a subject. Implemented by a registry
/// ([`Registry`](super::registry::Registry)) and an OCI image layout
/// ([`OciLayout`](super::layout::OciLayout)); [`open`](super::open::open) picks one.
///
/// Every future is `Send` and targets are `Send + Sync`, so a server can drive several targets
/// from several tasks at once (`tokio::spawn`). Implementations write `async fn`.
pub trait Target: Send + Sync {
    /// How to name `digest` in this target in output (`host/repo@sha256:…`, `dir@sha256:…`).
    fn name_of(&self, digest: &str) -> String;
    /// Whether the target already has the blob (a registry's `HEAD` on the blob, a layout's
    /// file under `blobs/sha256/`), so a push can skip it.
    fn blob_exists(&self, blob: &Descriptor) -> impl Future<Output = Result<bool>> + Send;
    /// Stores a blob; the content must match the descriptor's digest and size.
    fn push_blob(
        &self,
        blob: &Descriptor,
        source: BlobSource<'_>,
        on_bytes: &OnBytes,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Streams a blob into `dest`, checking its digest and size on the way. Bytes already in
    /// `dest` (an earlier attempt) may be kept and the rest asked for, where the target can; the
    /// digest is checked over the whole file either way.
    fn fetch_blob_to(
        &self,
        blob: &Descriptor,
        dest: &Path,
        on_bytes: &OnBytes,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Makes `blob` present without moving its bytes (a registry mounting it from another
    /// repository); whether it did. Targets that cannot say `false`.
    fn mount_blob(&self, _blob: &Descriptor) -> impl Future<Output = Result<bool>> + Send {
        async { Ok(false) }
    }
    /// The descriptor a tag or digest names.
    fn resolve(&self, selector: &Selector) -> impl Future<Output = Result<Descriptor>> + Send;
    /// A manifest's exact bytes, checked against the descriptor.
    fn fetch_manifest(&self, manifest: &Descriptor)
    -> impl Future<Output = Result<Vec<u8>>> + Send;
    /// Stores a manifest (and tags it). A manifest with a `subject` becomes findable by
    /// `referrers` of that subject, whatever the target needs for that.
    fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> impl Future<Output = Result<Descriptor>> + Send;
    /// The manifests whose `subject` is `subject`, optionally of one artifact type.
    fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Descriptor>>> + Send;
}
