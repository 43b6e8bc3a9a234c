//! Hashing and writing a blob as it arrives, on a blocking thread of its own: what a registry
//! download and a layout storing a piped blob share.

use super::writeback::Writeback;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};

/// Bytes read from a file at a time, and the size of a batch of chunks handed to the writer.
pub(crate) const IO_BUFFER: usize = 1 << 20;

/// Hashes the first `len` bytes of `file`, drops anything after them, and leaves it positioned
/// at `len` for appending.
fn hash_prefix(file: &mut std::fs::File, len: u64, hasher: &mut Sha256) -> std::io::Result<()> {
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut buf = vec![0u8; IO_BUFFER];
    let mut left = len;
    while left > 0 {
        let want = (left as usize).min(buf.len());
        file.read_exact(&mut buf[..want])?;
        hasher.update(&buf[..want]);
        left -= want as u64;
    }
    file.set_len(len)?;
    file.seek(std::io::SeekFrom::Start(len))?;
    Ok(())
}

/// Batches of received chunks (about [`IO_BUFFER`] each) waiting for the writer of a blob:
/// what a download holds in memory beyond the batch being filled, and enough to ride out a
/// slow write.
const WRITE_QUEUE: usize = 4;

/// Hashes a blob and writes it to its file on a blocking thread of its own, fed through a
/// bounded queue: the task reading the network never waits on the disk or on SHA-256 (about
/// half the CPU a pull spends), and on more than one core the three overlap; on one thread
/// they took turns. Chunks go over in batches of about [`IO_BUFFER`] (hyper reads a few KiB
/// to a few hundred at a time): one wake-up of the writer per batch, and no copy.
pub(crate) struct BlobWriter {
    batches: tokio::sync::mpsc::Sender<Vec<bytes::Bytes>>,
    batch: Vec<bytes::Bytes>,
    batched: usize,
    done: tokio::task::JoinHandle<std::io::Result<(String, u64)>>,
}

impl BlobWriter {
    /// Starts writing to `file` after its first `keep` bytes (hashed first; anything after
    /// them is dropped). A file that reaches `size` bytes is synced to disk when finished, so
    /// that what is moved into place after the check is on disk.
    pub(crate) fn start(mut file: std::fs::File, keep: u64, size: u64) -> BlobWriter {
        let (batches, mut queue) = tokio::sync::mpsc::channel::<Vec<bytes::Bytes>>(WRITE_QUEUE);
        let done = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            hash_prefix(&mut file, keep, &mut hasher)?;
            let mut have = keep;
            let mut to_disk = Writeback::from(keep);
            while let Some(batch) = queue.blocking_recv() {
                for chunk in batch {
                    hasher.update(&chunk);
                    file.write_all(&chunk)?;
                    have += chunk.len() as u64;
                    to_disk.wrote(&file, chunk.len() as u64);
                }
            }
            if have == size {
                file.sync_all()?;
            }
            Ok((format!("sha256:{}", hex::encode(hasher.finalize())), have))
        });
        BlobWriter {
            batches,
            batch: Vec::new(),
            batched: 0,
            done,
        }
    }

    /// Adds a chunk; false when the writer has stopped (on an error [`finish`] returns).
    ///
    /// [`finish`]: Self::finish
    pub(crate) async fn write(&mut self, chunk: bytes::Bytes) -> bool {
        self.batched += chunk.len();
        self.batch.push(chunk);
        if self.batched < IO_BUFFER {
            return true;
        }
        self.batched = 0;
        self.batches
            .send(std::mem::take(&mut self.batch))
            .await
            .is_ok()
    }

    /// Waits for every chunk to be written: the digest of the whole file and its length.
    pub(crate) async fn finish(self) -> std::io::Result<(String, u64)> {
        if !self.batch.is_empty() {
            // A writer that stopped has its error to tell, below.
            let _ = self.batches.send(self.batch).await;
        }
        drop(self.batches);
        self.done.await.map_err(std::io::Error::other)?
    }
}
