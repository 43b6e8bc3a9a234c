//! Writing a downloaded blob to disk while it downloads.
//!
//! A pull syncs each blob before moving it into place (what is renamed must be on disk). Left to
//! the kernel, a blob's pages stay dirty until that sync, which then waits for the whole blob to
//! reach the disk: about a second per GiB here, a sixth of a 4 GiB pull. Asking for write-out of
//! each range as it is written (`sync_file_range(2)` with `SYNC_FILE_RANGE_WRITE`, which starts
//! the I/O and does not wait for it) overlaps the disk with the download, and the final sync
//! waits only for the tail.

use std::fs::File;

/// Bytes written between two requests for write-out: large enough that the requests cost
/// nothing, small enough that the tail the final sync waits for is short.
pub(super) const STEP: u64 = 32 << 20;

/// Starts write-out of `len` bytes of `file` from `offset`, without waiting for it. A hint: where
/// the call is missing or fails, the final sync does all the work, as it would without it.
#[cfg(target_os = "linux")]
pub(super) fn start(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: sync_file_range reads no memory of ours; the descriptor is open for as long as
    // `file` is borrowed.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn start(_file: &File, _offset: u64, _len: u64) {}
