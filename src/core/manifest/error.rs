use std::path::PathBuf;

/// Why a model could not be hashed, or a manifest not read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: is a symbolic link; symlinks are refused unless --allow-symlinks is given")]
    SymlinkRefused { path: PathBuf },

    #[error(
        "{path}: symbolic link points outside the model directory (to {target}); \
         refused unless --allow-external-symlinks is given"
    )]
    SymlinkEscapes { path: PathBuf, target: PathBuf },

    #[error(
        "{path}: symbolic link to a directory; its files would not be signed \
         (model-signing skips such links), so it is refused: replace it with the directory"
    )]
    SymlinkToDirectory { path: PathBuf },

    #[error("{path}: not a regular file or directory (a socket, pipe or device cannot be hashed)")]
    SpecialFile { path: PathBuf },

    #[error("{path}: file name is not valid UTF-8, so it cannot be named in a manifest")]
    NonUtf8Name { path: PathBuf },

    #[error(
        "{path}: file changed size while it was being hashed (was {expected} bytes, now {found}); \
         hash it again once nothing writes to it"
    )]
    ChangedWhileHashing {
        path: PathBuf,
        expected: u64,
        found: u64,
    },

    #[error("shard size must be at least 1 byte")]
    ZeroShardSize,

    #[error("{path}: not a model manifest: {reason}")]
    InvalidManifest { path: PathBuf, reason: String },
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
