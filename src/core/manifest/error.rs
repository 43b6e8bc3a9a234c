use std::path::PathBuf;

/// Why a model could not be hashed, or a manifest not read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The model path, a file in it, or the manifest does not exist.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path that does not exist.
        path: PathBuf,
    },

    /// Reading `path` failed for another reason than its absence.
    #[error("{path}: {source}")]
    Io {
        /// The path being read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A symbolic link was met under
    /// [`SymlinkPolicy::Refuse`](crate::core::manifest::SymlinkPolicy).
    #[error("{path}: is a symbolic link; symlinks are refused unless --allow-symlinks is given")]
    SymlinkRefused {
        /// The link, inside the model directory.
        path: PathBuf,
    },

    /// A symbolic link resolves outside the model directory and external links are not allowed.
    #[error(
        "{path}: symbolic link points outside the model directory (to {target}); \
         refused unless --allow-external-symlinks is given"
    )]
    SymlinkEscapes {
        /// The link, inside the model directory.
        path: PathBuf,
        /// Where it resolves to.
        target: PathBuf,
    },

    /// A symbolic link resolves to a directory, whose files model-signing would not hash.
    #[error(
        "{path}: symbolic link to a directory; its files would not be signed \
         (model-signing skips such links), so it is refused: replace it with the directory"
    )]
    SymlinkToDirectory {
        /// The link, inside the model directory.
        path: PathBuf,
    },

    /// An entry is neither a regular file nor a directory (socket, FIFO, device).
    #[error("{path}: not a regular file or directory (a socket, pipe or device cannot be hashed)")]
    SpecialFile {
        /// The entry.
        path: PathBuf,
    },

    /// A name is not UTF-8, so it cannot be written in a JSON manifest.
    #[error("{path}: file name is not valid UTF-8, so it cannot be named in a manifest")]
    NonUtf8Name {
        /// The entry, its name shown lossily.
        path: PathBuf,
    },

    /// A file's size changed between the walk and the end of hashing (`expected` and `found` in
    /// bytes).
    #[error(
        "{path}: file changed size while it was being hashed (was {expected} bytes, now {found}); \
         hash it again once nothing writes to it"
    )]
    ChangedWhileHashing {
        /// The file.
        path: PathBuf,
        /// Its size in bytes when the walk listed it.
        expected: u64,
        /// Its size in bytes after hashing.
        found: u64,
    },

    /// A shard size of 0 bytes was asked for
    /// ([`Serialization::Shards`](crate::core::manifest::Serialization)).
    #[error("shard size must be at least 1 byte")]
    ZeroShardSize,

    /// The file is not a manifest modelseal reads: oversized, not JSON, not an in-toto statement or
    /// Sigstore bundle of a model, or one with malformed resources.
    #[error("{path}: not a model manifest: {reason}")]
    InvalidManifest {
        /// The manifest file.
        path: PathBuf,
        /// Why it is not a manifest.
        reason: String,
    },
}

impl ManifestError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            ManifestError::NotFound { path }
        } else {
            ManifestError::Io { path, source }
        }
    }
}
