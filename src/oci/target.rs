//! The one abstraction for "a place that stores OCI content": a remote registry or an OCI image
//! layout directory. Push, attach, discover, pull and copy are written once against it (`ops`).

use super::error::{OciError, Result};
use super::manifest::Descriptor;
use super::reference::Selector;
use std::future::Future;
use std::path::Path;

/// Bytes to upload: small ones in memory, model files streamed from disk, a copy's blobs
/// streamed from the source target.
#[derive(Clone, Copy, Debug)]
pub enum BlobSource<'a> {
    /// The whole blob, in memory (manifests' configs, statements).
    Bytes(&'a [u8]),
    /// A file whose whole content is the blob, read as it is uploaded.
    File(&'a Path),
    /// Another target's blob, read while it is uploaded ([`pipe_blob`]): a copy that never
    /// touches disk, and resumes by asking the source for the rest.
    Pipe(&'a Pipe),
}

/// A blob's bytes as they arrive, unchecked: whoever stores them checks the digest.
pub type ByteStream<'a> =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'a>>;

/// A file (or any reader) as a stream of 1 MiB buffers. Disk reads of a buffer are short;
/// blocking here keeps a body one simple stream without a thread per chunk.
pub(crate) fn read_stream(reader: impl std::io::Read + Send + 'static) -> ByteStream<'static> {
    Box::pin(futures_util::stream::unfold(
        Some(reader),
        |reader| async move {
            let mut reader = reader?;
            // Read into spare capacity: a buffer zeroed first costs a memset of every byte.
            let mut buf = Vec::with_capacity(1 << 20);
            match std::io::Read::read_to_end(
                &mut std::io::Read::take(&mut reader, 1 << 20),
                &mut buf,
            ) {
                Ok(0) => None,
                Ok(_) => Some((Ok(bytes::Bytes::from(buf)), Some(reader))),
                Err(e) => Some((Err(e), None)),
            }
        },
    ))
}

/// A request to the reading side of a [`Pipe`]: the bytes from this offset, into this channel.
type PipeRequest = (
    u64,
    tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
);

/// The uploading side of a blob copied through memory ([`pipe_blob`]).
#[derive(Debug)]
pub struct Pipe {
    requests: tokio::sync::mpsc::UnboundedSender<PipeRequest>,
}

/// Chunks in flight between the source's download and the destination's upload: a few MiB.
const PIPE_DEPTH: usize = 8;

/// Failures in a row, without a byte of progress, after which a pipe's source is given up on.
const PIPE_SOURCE_ATTEMPTS: u32 = 3;

impl Pipe {
    /// The blob's bytes from `start` on: the reading side (re)opens the source there. Every
    /// upload attempt opens its own stream, so a broken upload resumes from the source, not from
    /// a copy on disk. The stream ends early (and the upload fails) if the reading side is gone.
    pub fn open_at(&self, start: u64) -> ByteStream<'static> {
        let (tx, rx) = tokio::sync::mpsc::channel(PIPE_DEPTH);
        let _ = self.requests.send((start, tx));
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}

/// Copies one blob from `src` to `dst` through memory: `dst` uploads from a [`Pipe`] that reads
/// `src` ([`ReadTarget::read_blob_from`]) as the upload goes, a bounded number of chunks at a time.
/// The digest is checked where the blob is stored (a registry checks it on the closing `PUT`).
pub async fn pipe_blob<S: ReadTarget, D: Target>(
    src: &S,
    dst: &D,
    blob: &Descriptor,
    on_bytes: &OnBytes,
) -> Result<()> {
    use futures_util::StreamExt;
    let (requests, mut incoming) = tokio::sync::mpsc::unbounded_channel::<PipeRequest>();
    let pipe = Pipe { requests };
    // Both sides run in this task: the reading side serves one request at a time, and ends
    // when the upload is done and drops the pipe.
    let read = async {
        while let Some((start, tx)) = incoming.recv().await {
            // A source that breaks is asked for the rest from where it broke, unseen by the
            // upload; only a source that keeps failing without progress fails it.
            let (mut at, mut failures) = (start, 0);
            'source: loop {
                let why = match src.read_blob_from(blob, at).await {
                    Ok(mut stream) => loop {
                        match stream.next().await {
                            Some(Ok(chunk)) => {
                                at += chunk.len() as u64;
                                failures = 0;
                                if tx.send(Ok(chunk)).await.is_err() {
                                    break 'source; // the upload gave up on this stream
                                }
                            }
                            Some(Err(e)) => break e,
                            None if at >= blob.size => break 'source,
                            None => break std::io::Error::other("the source's answer ended early"),
                        }
                    },
                    Err(e @ OciError::Transient(_)) => std::io::Error::other(e.to_string()),
                    Err(e) => {
                        let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                        break 'source;
                    }
                };
                failures += 1;
                if failures >= PIPE_SOURCE_ATTEMPTS {
                    let _ = tx.send(Err(why)).await;
                    break 'source;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200 * failures as u64)).await;
            }
        }
    };
    let upload = async move {
        let pipe = pipe;
        dst.push_blob(blob, BlobSource::Pipe(&pipe), on_bytes).await
    };
    futures_util::future::join(read, upload).await.1
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

/// Where OCI content can be read from, the way oras-go's `ReadOnlyTarget` is: blobs and
/// manifests addressed by descriptor, tags, and the referrers of a subject. Implemented by a
/// registry ([`Registry`](super::registry::Registry)) and an OCI image layout
/// ([`OciLayout`](super::layout::OciLayout)); [`open`](super::open::open) picks one. Pulls,
/// discovery and verification need only this; [`Target`] adds writing.
///
/// Every future is `Send` and targets are `Send + Sync`, so a server can drive several targets
/// from several tasks at once (`tokio::spawn`). Implementations write `async fn`.
pub trait ReadTarget: Send + Sync {
    /// How to name `digest` in this target in output (`host/repo@sha256:…`, `dir@sha256:…`).
    fn name_of(&self, digest: &str) -> String;
    /// Whether the target already has the blob (a registry's `HEAD` on the blob, a layout's
    /// file under `blobs/sha256/`), so a push can skip it.
    fn blob_exists(&self, blob: &Descriptor) -> impl Future<Output = Result<bool>> + Send;
    /// Streams a blob into `dest`, checking its digest and size on the way. Bytes already in
    /// `dest` (an earlier attempt) may be kept and the rest asked for, where the target can; the
    /// digest is checked over the whole file either way.
    fn fetch_blob_to(
        &self,
        blob: &Descriptor,
        dest: &Path,
        on_bytes: &OnBytes,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The blob's bytes from `start` on, as they come, unchecked (for [`pipe_blob`]; whoever
    /// stores them checks the digest).
    fn read_blob_from(
        &self,
        blob: &Descriptor,
        start: u64,
    ) -> impl Future<Output = Result<ByteStream<'static>>> + Send;
    /// The descriptor a tag or digest names.
    fn resolve(&self, selector: &Selector) -> impl Future<Output = Result<Descriptor>> + Send;
    /// A manifest's exact bytes, checked against the descriptor.
    fn fetch_manifest(&self, manifest: &Descriptor)
    -> impl Future<Output = Result<Vec<u8>>> + Send;
    /// The manifests whose `subject` is `subject`, optionally of one artifact type.
    fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Descriptor>>> + Send;
}

/// A [`ReadTarget`] that can be written to: push, attach and copy into it.
pub trait Target: ReadTarget {
    /// Stores a blob; the content must match the descriptor's digest and size.
    fn push_blob(
        &self,
        blob: &Descriptor,
        source: BlobSource<'_>,
        on_bytes: &OnBytes,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Makes `blob` present without moving its bytes (a registry mounting it from another
    /// repository); whether it did. Targets that cannot say `false`.
    fn mount_blob(&self, _blob: &Descriptor) -> impl Future<Output = Result<bool>> + Send {
        async { Ok(false) }
    }
    /// Stores a manifest (and tags it). A manifest with a `subject` becomes findable by
    /// `referrers` of that subject, whatever the target needs for that.
    fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> impl Future<Output = Result<Descriptor>> + Send;
}
