use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not found")]
    NotFound(String),
    #[error("{what}: digest mismatch, expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("invalid reference '{reference}': {reason}")]
    BadReference { reference: String, reason: String },
    #[error("{what} is not a valid OCI document: {reason}")]
    BadDocument { what: String, reason: String },
    #[error("{0} is larger than the {1}-byte limit for a manifest")]
    ManifestTooLarge(String, usize),
    #[error("registry: {0}")]
    Registry(String),
    /// A failure worth retrying: 5xx, a reset or dropped connection.
    #[error("registry: {0}")]
    Transient(String),
    #[error("layer title '{title}' {reason}; use --allow-path-traversal to write it anyway")]
    UnsafeTitle { title: String, reason: &'static str },
    #[error("the referrers index for {subject} kept changing under us after {attempts} attempts")]
    ReferrersContention { subject: String, attempts: usize },
}

impl OciError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        OciError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, OciError>;
